"""Glossary query expansion: English matching, dates, weights."""

from __future__ import annotations

import pytest

from policyidx.retrieval.expand import EXPANSION_WEIGHT, en_stem, english_dates, expand_query


@pytest.mark.parametrize(
    "a, b",
    [("licensing", "licence"), ("licensed", "licenses"), ("securitisation", "securitization"), ("policies", "policy"),
     ("disputes", "dispute"), ("programme", "program"), ("handled", "handle")],
)
def test_stem_folds_variants(a, b):
    assert en_stem(a) == en_stem(b)


@pytest.mark.parametrize(
    "q, want",
    [("preparation stage in May 2022", ["2022年5月"]), ("deadline 10 June", ["6月10日"]), ("since 2009", ["2009年"]),
     ("you may apply", [])],
)
def test_english_dates(q, want):
    assert english_dates(q) == want


def test_english_query_gets_chinese_and_japanese_renderings():
    exp = expand_query("cross licensing of patents")
    assert exp.lang == "en"
    assert "クロスライセンス" in exp.renderings and "交叉许可" in exp.renderings
    assert max(exp.terms[t] for t in exp.rendering_terms["クロスライセンス"]) <= 0.5


def test_expansion_weighted_below_own_terms():
    exp = expand_query("质押融资", "zh")
    assert exp.terms["质押融资"] == 1.0
    own = set(expand_query("质押融资", "zh", enabled=False).terms)
    added = [t for r, ts in exp.rendering_terms.items() for t in ts if t not in own]
    assert added and all(0 < exp.terms[t] <= EXPANSION_WEIGHT for t in added)
    assert "担保融資" in exp.renderings


def test_expansion_off():
    exp = expand_query("质押融资", "zh", enabled=False)
    assert not exp.renderings
