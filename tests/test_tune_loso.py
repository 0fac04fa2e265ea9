"""eval/real/tune.py's leave-one-set-out choice."""

import importlib.util
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def tune():
    path = Path(__file__).resolve().parent.parent / "eval" / "real" / "tune.py"
    spec = importlib.util.spec_from_file_location("policyidx_tune", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_each_group_left_out_gets_the_combination_best_on_the_others(tune, capsys):
    sets = ["real-zh/zh", "real2-zh/zh", "real3-zh/zh"]
    # A is best on real and real2, B on real3; C is never best anywhere
    tried = [("A", {"real-zh/zh": (0.9, 1.0), "real2-zh/zh": (0.9, 1.0), "real3-zh/zh": (0.1, 0.2)}),
             ("B", {"real-zh/zh": (0.5, 0.6), "real2-zh/zh": (0.5, 0.6), "real3-zh/zh": (0.85, 1.0)}),
             ("C", {"real-zh/zh": (0.0, 0.0), "real2-zh/zh": (0.0, 0.0), "real3-zh/zh": (0.0, 0.0)})]
    tune._print_loso(tried, sets)
    out = capsys.readouterr().out.splitlines()
    chosen = {line.split()[0]: line.split()[1] for line in out if line.startswith("  real")}
    # left out real: B (real2 0.55, real3 0.925: 0.74) over A (0.95, 0.15: 0.55); left out real3: A (0.95 over 0.55)
    assert chosen == {"real": "B", "real2": "B", "real3": "A"}
    # the figures of the group left out under its choice: real 0.5/0.6, real2 0.5/0.6, real3 0.1/0.2
    assert "mean over the sets left out: 0.367/0.467" in "\n".join(out)
    assert out[-1].strip() == "best on all groups: A"  # 0.683 against B's 0.675
    assert tune._group("real3-zh/zh") == "real3" and tune._group("queries-zh/zh") == "queries"


def test_one_group_is_not_enough(tune, capsys):
    tune._print_loso([("A", {"real-zh/zh": (1.0, 1.0), "real-ja/ja": (1.0, 1.0)})], ["real-zh/zh", "real-ja/ja"])
    assert "needs two groups" in capsys.readouterr().out
