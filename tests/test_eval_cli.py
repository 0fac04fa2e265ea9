"""``policyidx eval``: the evaluation table per set, language, split and mode, and its errors."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from policyidx.cli import main
from policyidx.evaluate import evaluate, format_table, load_queries

ROOT = Path(__file__).resolve().parent.parent


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def queries(tmp_path_factory) -> Path:
    """A small set with a dev and a test split, one query whose gold cannot be found."""
    p = tmp_path_factory.mktemp("q") / "mini.jsonl"
    rows = [
        {"q": "专利开放许可试点", "lang": "zh", "split": "dev", "gold": [["cnipa-2022-448.ja", "試行"]]},
        {"q": "段階的な無料許諾", "lang": "ja", "split": "test", "gold": [["cnipa-2022-448.ja", "段階的な無料許諾"]]},
        {"q": "专利开放许可", "lang": "zh", "split": "test", "gold": [["cnipa-2022-448.ja", "この文はどこにもない"]]},
    ]
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return p


def test_eval_json_groups_by_set_language_split_and_mode(built_index, queries) -> None:
    code, out, err = _run(["eval", str(queries), "--index", str(built_index.path), "--mode", "keyword", "--json"])
    assert code == 0, err
    res = json.loads(out)
    groups = {(g["set"], g["lang"], g["split"], g["mode"]): g for g in res["groups"]}
    assert set(groups) == {("mini", "zh", "dev", "keyword"), ("mini", "ja", "test", "keyword"), ("mini", "zh", "test", "keyword")}
    assert groups[("mini", "zh", "test", "keyword")]["hit@5"] == 0.0  # the gold text is in no clause
    assert groups[("mini", "ja", "test", "keyword")]["hit@5"] == 1.0
    for g in res["groups"]:
        assert 0.0 <= g["hit@1"] <= g["hit@5"] <= 1.0 and g["hit@1"] <= g["mrr@10"] <= 1.0
    assert res["modes"]["keyword"]["all"]["n"] == 3


def test_eval_split_filter_and_text_table(built_index, queries) -> None:
    code, out, _ = _run(["eval", str(queries), "--index", str(built_index.path), "--mode", "keyword", "--mode", "dense",
                         "--split", "test"])
    assert code == 0
    assert "2 queries" in out and "keyword" in out and "dense" in out
    assert " dev " not in out and "test" in out


def test_eval_errors_are_one_line(built_index, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": "x", "gold": [["a", "b"]]}\nnot json\n', encoding="utf-8")
    code, _, err = _run(["eval", str(bad), "--index", str(built_index.path)])
    assert code == 2 and f"{bad}:2" in err and len(err.strip().splitlines()) == 1
    code, _, err = _run(["eval", str(tmp_path / "missing.jsonl"), "--index", str(built_index.path)])
    assert code == 2 and "missing.jsonl" in err and len(err.strip().splitlines()) == 1


def test_bundled_sets_have_no_split_and_report_as_one_group(built_index) -> None:
    qs = load_queries([ROOT / "eval" / "queries-zh.jsonl"])
    res = evaluate(built_index, qs[:5], ["keyword"])
    assert [(g["set"], g["split"]) for g in res["groups"]] == [("queries-zh", "-")]
    table = format_table(res)
    assert "queries-zh" in table and "(all sets)" in table
