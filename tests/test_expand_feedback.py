"""The second pass of an English query: passed-over renderings its best clauses write."""

from __future__ import annotations

import pytest

from policyidx.retrieval import expand as E
from policyidx.retrieval.expand import Expansion, QueryTerms, feedback_expansion


def _query() -> Expansion:
    terms = QueryTerms({"agenc": 1.0, "机构": 0.4, "代理": 0.3, "head": 1.0, "负责人": 0.5})
    terms.synonym_sets = ((("agenc",), ("机构",), ("代理",)), (("head",), ("负责人",)))
    exp = Expansion("head of the agency", "en", terms, renderings={"机构": "agency", "代理": "agency", "负责人": "head"})
    exp.passed_over = [(0, "agency", 0.4, ("机关", "中介")), (1, "head", 0.5, ("首长",))]
    return exp


def test_a_passed_over_rendering_the_best_clauses_write_joins_its_words_set():
    exp = _query()
    fed = feedback_expansion(exp, ["行政机关 负责人应当出庭", "其他条文", "第三条"], lambda w: True)
    assert fed is not None
    assert fed.terms["机关"] == pytest.approx(E.FEEDBACK_WEIGHT * 0.4)  # as the set's best chosen rendering
    assert fed.terms.synonym_sets[0][-1] == ("机关",)  # an alternative of "agency", not a term of its own
    assert fed.terms.synonym_sets[1] == exp.terms.synonym_sets[1]
    assert "中介" not in fed.terms and "首长" not in fed.terms  # not in those clauses
    assert fed.dictionary["机关"] == "agency" and fed.rendering_terms["机关"] == {"机关"}
    assert "机关" not in exp.terms and len(exp.terms.synonym_sets[0]) == 3  # the first analysis is unchanged


def test_only_the_best_clauses_count_and_only_words_the_index_knows():
    exp = _query()
    later = ["其他条文"] * E.FEEDBACK_ROWS + ["行政机关"]
    assert feedback_expansion(exp, later, lambda w: True) is None  # beyond the rows read
    assert feedback_expansion(exp, ["行政机关"], lambda w: w != "机关") is None  # not a term of the index
    assert feedback_expansion(exp, [], lambda w: True) is None


def test_nothing_to_do_without_passed_over_renderings_or_when_turned_off(monkeypatch):
    exp = _query()
    exp.passed_over = []
    assert feedback_expansion(exp, ["行政机关"], lambda w: True) is None
    monkeypatch.setattr(E, "FEEDBACK_ROWS", 0)
    assert feedback_expansion(_query(), ["行政机关"], lambda w: True) is None


def test_an_english_query_records_what_it_passed_over_and_others_do_not(built_index):
    idx = built_index
    exp = idx.analyze_query("helping small companies that struggle to get loans", "en")
    assert exp.passed_over and all(0 <= si < len(exp.terms.synonym_sets) for si, *_ in exp.passed_over)
    chosen = {t for s in exp.terms.synonym_sets for alt in s for t in alt}
    assert not any(c in chosen for *_, cands in exp.passed_over for c in cands)
    assert not idx.analyze_query("商标国际注册 马德里", "zh").passed_over


def test_the_second_pass_runs_in_a_search_and_its_renderings_show(built_index):
    q = "helping small companies that struggle to get loans"
    first = built_index.analyze_query(q, "en")
    hits = built_index.search(q, k=10, query_lang="en")
    added = {e for h in hits for e in h.expansions} - set(first.renderings)
    assert added and added <= {c for *_, cands in first.passed_over for c in cands}
