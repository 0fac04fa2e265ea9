"""Retrieval quality on the development query sets (guards against regressions).

The thresholds are the issue's targets, checked with the default offline encoder.  The
figures themselves are reported by ``python -m policyidx.evaluate`` (see README).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policyidx.evaluate import evaluate, evaluate_jiedu, load_queries
from conftest import shared_dir

ROOT = Path(__file__).resolve().parent.parent
DEV = (shared_dir() or ROOT.parent / "shared") / "dev-queries.jsonl"
OWN = [ROOT / "eval" / f"queries-{lang}.jsonl" for lang in ("zh", "ja", "en")]


@pytest.fixture(scope="module")
def index(built_index):
    return built_index


@pytest.mark.skipif(not DEV.is_file(), reason="../shared/dev-queries.jsonl is not beside the checkout")
def test_dev_queries(index):
    res = evaluate(index, load_queries([DEV]), ["hybrid"])["modes"]["hybrid"]
    assert res["zh"]["hit@5"] >= 0.9 and res["ja"]["hit@5"] >= 0.9
    assert res["en"]["hit@5"] >= 0.8


def test_own_query_sets(index):
    res = evaluate(index, load_queries(OWN), ["hybrid"])["modes"]["hybrid"]
    assert res["zh"]["hit@5"] >= 0.9
    assert res["ja"]["hit@5"] >= 0.85
    assert res["en"]["hit@5"] >= 0.8


def test_expansion_does_not_hurt_chinese_and_japanese(index):
    qs = [q for q in load_queries(OWN + ([DEV] if DEV.is_file() else [])) if q["lang"] in ("zh", "ja")]
    on = evaluate(index, qs, ["hybrid"], expand=True)["modes"]["hybrid"]["all"]
    off = evaluate(index, qs, ["hybrid"], expand=False)["modes"]["hybrid"]["all"]
    assert on["hit@5"] >= off["hit@5"] - 0.02


def test_jiedu_statements_find_their_measure_first(index):
    res = evaluate_jiedu(index, "hybrid")
    assert res["total"] == 13
    assert res["first"] >= 12, [r for r in res["rows"] if not r["first"]]
