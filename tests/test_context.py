"""The hybrid mode's context scores: query terms that a clause's document title or enclosing
headings have and its own text lacks (retrieval.retrievers.context_scores, Index.context_scores),
and how the re-ranking uses them."""

from __future__ import annotations

import re

import numpy as np
import pytest

from policyidx.index.build import BM25_B, BM25_K1
from policyidx.retrieval.base import Ranking
from policyidx.retrieval.fusion import dense_rerank
from policyidx.retrieval.modes import HYBRID_DEFAULTS
from policyidx.retrieval.retrievers import context_scores, lucene_idf

# three rows: own text, context (title + headings) terms and text
ROWS = {
    0: ("列入议程的法规案在表决前提案人要求撤回", frozenset({"德州市", "制定", "条例"}), "德州市制定地方性法规条例"),
    1: ("列入议程的法规案在表决前提案人要求撤回", frozenset({"临沂市", "制定", "条例"}), "临沂市制定地方性法规条例"),
    2: ("德州的法规案", frozenset({"德州市", "条例"}), "德州市制定地方性法规条例"),
    3: ("patent pledge", frozenset({"licens", "patent"}), "patent licensing rules"),
}


def _scores(terms, rows, idf=None, k1=0.9):
    return context_scores(
        terms, np.array(rows),
        has_term=lambda t, r: np.array([t in ROWS[int(x)][0].split() for x in r]),
        context_of=lambda r: (ROWS[r][1], ROWS[r][2]),
        row_text=lambda r: ROWS[r][0],
        idf=idf or (lambda t: 2.0), k1=k1)


def test_a_term_only_the_context_has_scores_one_average_occurrence():
    got = _scores({"德州": 1.0, "撤回": 1.0}, [0, 1, 2])
    # 德州 is in row 0's title (inside the word 德州市) and not in its text; row 1's title lacks
    # it; row 2's own text has it; 撤回 is in no context
    assert got[0] == pytest.approx(1.0 * 2.0 / (1 + 0.9))
    assert got[1] == 0.0 and got[2] == 0.0


def test_weights_idf_and_bridge_terms():
    got = _scores({"德州": 0.5, "#德州": 0.4, "条例": 0.0}, [0], idf=lambda t: {"德州": 3.0, "#德州": 1.0}.get(t, 0.0),
                  k1=1.5)
    assert got[0] == pytest.approx((0.5 * 3.0 + 0.4 * 1.0) / 2.5)
    # an unknown term (idf 0) or a term without weight adds nothing
    assert _scores({"德州": 1.0}, [0], idf=lambda t: 0.0)[0] == 0.0


def test_other_terms_match_as_index_terms_only():
    # "licens" is a context term of row 3 and not one of its own; "pat" is only a substring
    got = _scores({"licens": 1.0, "pat": 1.0, "patent": 1.0}, [3])
    assert got[0] == pytest.approx(2.0 / 1.9)


def test_no_rows():
    assert _scores({"德州": 1.0}, []).shape == (0,)


def _with_sets(terms, sets):
    from policyidx.retrieval.expand import QueryTerms

    out = QueryTerms(terms)
    out.synonym_sets = sets
    return out


def test_a_synonym_set_counts_once_in_the_context():
    # two renderings of one source word ("licens" and "patent" standing in for 许可/专利 of one
    # English word), both in row 3's context: the set adds its best alternative, not both
    flat = {"licens": 1.0, "patent": 0.5, "pledg": 1.0}
    sets = ((("licens",), ("patent",)),)
    got_flat = _scores(flat, [3])
    got_set = _scores(_with_sets(flat, sets), [3])
    assert got_flat[0] == pytest.approx(2.0 / 1.9)  # "patent" is its own term: no context score
    # nothing where the row's own text has a rendering of the word ("patent"): the keyword
    # score has counted the word
    assert got_set[0] == 0.0
    # row 0: 德州 and 制定 are two renderings of one word, both only in the context; the set
    # counts the better one (德州, idf 3), not the sum
    terms = _with_sets({"德州": 1.0, "制定": 1.0, "撤回": 1.0}, ((("德州",), ("制定",)),))
    idf = {"德州": 3.0, "制定": 2.0, "撤回": 2.0}.get
    assert _scores(terms, [0], idf=idf)[0] == pytest.approx(3.0 / 1.9)
    assert _scores(dict(terms), [0], idf=idf)[0] == pytest.approx(5.0 / 1.9)
    # an alternative of several terms adds them up
    terms = _with_sets({"德州": 1.0, "制定": 1.0}, ((("德州", "制定"), ("条例",)),))
    assert _scores(terms, [0], idf=idf)[0] == pytest.approx(5.0 / 1.9)


def test_context_lifts_a_candidate_in_the_rerank():
    kw = Ranking(np.array([5, 7]), np.array([10.0, 10.0]))
    dn = Ranking.empty()
    plain = dense_rerank(kw, dn, None)
    assert plain.rows.tolist() == [5, 7]  # a tie: the lower row first
    lifted = dense_rerank(kw, dn, None, context=np.array([0.0, 1.0]))
    assert lifted.rows.tolist() == [7, 5]
    assert lifted.scores[0] == pytest.approx(1.0) and lifted.scores[1] == pytest.approx(10.0 / 11.0)
    assert lifted.components["keyword"] is kw  # the keyword scores themselves are unchanged


def test_index_context_scores_on_the_bundled_index(built_index):
    idx = built_index
    # a word of a document title that some clause of that document does not repeat
    for d, doc in enumerate(idx.docs):
        rows = np.flatnonzero(np.asarray(idx.row_doc) == d)
        words = [w for w in re.findall(r"[\u4e00-\u9fff]{2}", doc["title"] or "") if w in idx.keyword.term_ids]
        for w in words:
            lacking = [int(r) for r in rows if w not in idx.rows.text(int(r))
                       and not idx.keyword.score({w: 1.0}, np.array([r]))[0]]
            having = [int(r) for r in rows if w in idx.rows.text(int(r))]
            if lacking and having:
                got = idx.context_scores({w: 1.0}, np.array([lacking[0], having[0]]))
                df = int(idx.keyword.indptr[idx.keyword.term_ids[w] + 1] - idx.keyword.indptr[idx.keyword.term_ids[w]])
                want = lucene_idf(df, idx.keyword.n_docs) / (1 + idx.params["k1"])
                assert got[0] == pytest.approx(want) and got[1] == 0.0
                # a shard is given the collection's idf instead
                assert idx.context_scores({w: 1.0}, np.array([lacking[0]]), idf={w: 1.9})[0] == pytest.approx(
                    1.9 / (1 + idx.params["k1"]))
                return
    pytest.fail("no title word of the bundled corpus is missing from some clause of its document")


def test_new_indexes_record_the_ranking_parameters(built_index):
    p = built_index.params
    assert (p["k1"], p["b"]) == (BM25_K1, BM25_B)
    for name in ("doc_weight", "clause_weight", "context_weight", "context_depth", "rerank_depth"):
        assert p[name] == HYBRID_DEFAULTS[name]
    r = built_index.retriever("hybrid")
    assert r.context is not None and r.context_weight == HYBRID_DEFAULTS["context_weight"]


def _recording_context(asked: list[int]):
    """A context scorer that gives every row 1 and records how many rows it was asked about."""
    def context(terms, rows):
        asked.append(len(rows))
        return np.ones(len(rows))
    return context


def test_only_the_best_keyword_candidates_get_a_context_score(built_index):
    from policyidx.retrieval.retrievers import RerankRetriever

    asked: list[int] = []
    context = _recording_context(asked)

    idx = built_index
    r = RerankRetriever(idx.retriever("keyword"), idx.retriever("dense"), idx.row_doc, context=context,
                        context_weight=0.5, context_depth=3)
    exp = idx.analyze_query("知识产权", "zh")
    with idx.analyzer.active():
        got = r.search(exp, 10)
        kw = idx.retriever("keyword").search(exp, 200)
    assert len(kw) > 3 and asked == [3]
    assert len(got) == 10
    RerankRetriever(idx.retriever("keyword"), idx.retriever("dense"), idx.row_doc, context=context,
                    context_weight=0.0).search(exp, 10)
    assert asked == [3]  # weight 0: not asked


def test_hybrid_weights_per_query_language():
    from policyidx.retrieval.modes import hybrid_weights

    params = {"doc_weight": 0.4, "clause_weight": 0.1, "context_weight": 1.0, "rerank_depth": 200,
              "lang_weights": {"en": {"context_weight": 0.0, "doc_weight": 0.25, "rerank_depth": 500}}}
    assert hybrid_weights(params, "zh") == {"doc_weight": 0.4, "clause_weight": 0.1, "context_weight": 1.0,
                                            "rerank_depth": 200}
    assert hybrid_weights(params, "en") == {"doc_weight": 0.25, "clause_weight": 0.1, "context_weight": 0.0,
                                            "rerank_depth": 500}
    assert hybrid_weights({}, "en") == {k: float(v) for k, v in {
        "doc_weight": HYBRID_DEFAULTS["doc_weight"], "clause_weight": HYBRID_DEFAULTS["clause_weight"],
        "context_weight": HYBRID_DEFAULTS["context_weight"], "rerank_depth": HYBRID_DEFAULTS["rerank_depth"],
        **HYBRID_DEFAULTS["lang_weights"]["en"]}.items()}
    assert hybrid_weights({**params, "lang_weights": None}, "en")["context_weight"] == 1.0


def test_the_rerank_uses_the_query_languages_weights(built_index):
    from policyidx.retrieval.retrievers import RerankRetriever

    asked: list[int] = []
    context = _recording_context(asked)

    idx = built_index
    r = RerankRetriever(idx.retriever("keyword"), idx.retriever("dense"), idx.row_doc, context=context,
                        context_weight=0.5, context_depth=3, lang_weights={"en": {"context_weight": 0.0}})
    with idx.analyzer.active():
        r.search(idx.analyze_query("patent licensing", "en"), 10)
        assert asked == []  # English: no context score
        r.search(idx.analyze_query("知识产权", "zh"), 10)
        assert asked == [3]
    # the default hybrid of an index reads them from its parameters (else the defaults)
    assert idx.retriever("hybrid").lang_weights == HYBRID_DEFAULTS["lang_weights"]


# ----------------------------------------------------------------------------- coverage

def _coverage(terms, rows, idf=None, share=0.5, index_terms=None):
    from policyidx.retrieval.retrievers import coverage_scores

    index_terms = index_terms or {}
    return coverage_scores(
        terms, np.array(rows),
        has_term=lambda t, r: np.array([t in index_terms.get(int(x), ROWS[int(x)][0].split()) for x in r]),
        context_text=lambda r: ROWS[r][2],
        row_text=lambda r: ROWS[r][0],
        idf=idf or (lambda t: 2.0), context_share=share)


def test_coverage_is_the_idf_weighted_share_of_the_query_words_a_row_has():
    idf = {"德州": 3.0, "撤回": 1.0}.get
    got = _coverage({"德州": 1.0, "撤回": 1.0}, [0, 1, 2], idf=lambda t: idf(t, 0.0))
    # row 0: 撤回 in its text, 德州 only in its title (half); row 1: 撤回 only; row 2: 德州 only
    assert got[0] == pytest.approx((1.0 + 0.5 * 3.0) / 4.0)
    assert got[1] == pytest.approx(1.0 / 4.0)
    assert got[2] == pytest.approx(3.0 / 4.0)
    assert _coverage({"德州": 1.0, "撤回": 1.0}, [0], idf=lambda t: idf(t, 0.0), share=0.0)[0] == pytest.approx(0.25)


def test_coverage_counts_own_words_only(monkeypatch):
    from policyidx.retrieval import retrievers

    # renderings (below full weight), bridge terms and, without UNKNOWN_WORD_SHARE, unknown
    # words (idf 0) do not count
    monkeypatch.setattr(retrievers, "UNKNOWN_WORD_SHARE", 0.0)
    got = _coverage({"撤回": 1.0, "德州": 0.5, "#德州": 0.4, "未知": 1.0}, [0, 2],
                    idf=lambda t: 0.0 if t == "未知" else 2.0)
    assert got.tolist() == [1.0, 0.0]
    # a query without a known word of its own: every row covers all of it
    assert _coverage({"德州": 0.5}, [0, 1]).tolist() == [1.0, 1.0]
    assert _coverage({"德州": 1.0}, []).shape == (0,)


def test_part_of_a_word_counts_by_its_shared_han_bigrams():
    # row 1 lacks the word 法规案件 but has two of its three bigrams as bridge terms
    got = _coverage({"法规案件": 1.0}, [1], index_terms={1: ["#法规", "#规案"]})
    assert got[0] == pytest.approx(2 / 3)


def test_relative_coverage_and_the_rerank():
    from policyidx.retrieval.fusion import relative_coverage

    assert relative_coverage(np.array([0.5, 0.25, np.nan])).tolist() == [1.0, 0.5, 1.0]
    assert relative_coverage(np.array([0.0, np.nan])).tolist() == [1.0, 1.0]
    kw = Ranking(np.array([5, 7]), np.array([10.0, 9.0]))
    # row 5 has more BM25 but half the coverage of row 7: 1.0 * 0.5 ** 1.5 < 0.9
    got = dense_rerank(kw, Ranking.empty(), None, coverage=np.array([0.4, 0.8]), coverage_power=1.5)
    assert got.rows.tolist() == [7, 5]
    assert got.scores[1] == pytest.approx(0.5 ** 1.5)
    assert dense_rerank(kw, Ranking.empty(), None, coverage=np.array([0.4, 0.8]), coverage_power=0).rows.tolist() == [5, 7]


def test_a_candidate_not_judged_counts_as_typical_as_far_as_the_index_is_in_the_query_language():
    from policyidx.retrieval.fusion import relative_coverage

    cov = np.array([0.8, 0.4, 0.2, np.nan])  # relative 1, .5, .25; the median .5
    assert relative_coverage(cov, 0.0).tolist() == [1.0, 0.5, 0.25, 1.0]
    assert relative_coverage(cov, 1.0).tolist() == [1.0, 0.5, 0.25, 0.5]
    assert relative_coverage(cov, 0.25).tolist() == pytest.approx([1.0, 0.5, 0.25, 0.75 + 0.25 * 0.5])
    assert relative_coverage(np.array([np.nan, np.nan]), 1.0).tolist() == [1.0, 1.0]  # nothing judged
    assert relative_coverage(np.array([0.0, np.nan]), 1.0).tolist() == [1.0, 1.0]  # the best is 0
    # in the re-ranking: row 9 (not judged) led on BM25; in an index of the query's language it
    # counts as the typical candidate and falls behind the clause that covers the query
    kw = Ranking(np.array([9, 5, 7]), np.array([10.0, 8.0, 4.0]))
    cov = np.array([np.nan, 1.0, 0.2])
    assert dense_rerank(kw, Ranking.empty(), None, coverage=cov, coverage_power=2).rows.tolist() == [9, 5, 7]
    got = dense_rerank(kw, Ranking.empty(), None, coverage=cov, coverage_power=2, unjudged_share=0.999)
    assert got.rows.tolist() == [5, 9, 7]


def test_only_an_index_almost_all_in_the_query_language_doubts_a_clause_not_judged():
    from policyidx.retrieval import retrievers
    from policyidx.retrieval.retrievers import UNJUDGED_LANGUAGE_FLOOR, unjudged_weight

    shares = {"zh": 0.99, "ja": 0.01}
    assert unjudged_weight(shares, "zh") == pytest.approx((0.99 - UNJUDGED_LANGUAGE_FLOOR) / (1 - UNJUDGED_LANGUAGE_FLOOR))
    assert unjudged_weight(shares, "ja") == 0.0  # a Japanese query over a Chinese corpus: as before
    assert unjudged_weight({"zh": 1.0}, "zh") == 1.0 and unjudged_weight(shares, None) == 0.0
    assert unjudged_weight({"zh": 0.27, "ja": 0.73}, "zh") == 0.0  # the bundled corpus: translations
    old = retrievers.UNJUDGED_BY_LANGUAGE_SHARE
    retrievers.UNJUDGED_BY_LANGUAGE_SHARE = False
    try:
        assert unjudged_weight(shares, "zh") == 0.0
    finally:
        retrievers.UNJUDGED_BY_LANGUAGE_SHARE = old


def test_the_hybrid_mode_reads_the_share_of_the_query_language(built_index):
    shares = built_index.language_shares
    assert set(shares) == set(built_index.languages_of(np.arange(len(built_index))).tolist())
    assert sum(shares.values()) == pytest.approx(1.0) and all(0 < v <= 1 for v in shares.values())
    hybrid = built_index.retriever("hybrid")
    assert hybrid.lang_shares == shares


def test_coverage_is_judged_in_the_query_language_only():
    from policyidx.retrieval.expand import Expansion
    from policyidx.retrieval.retrievers import judged_coverage

    asked = []

    def cov(terms, rows):
        asked.append(rows.tolist())
        return np.full(len(rows), 0.5)

    exp = Expansion("撤回", "zh", {"撤回": 1.0})
    got = judged_coverage(cov, exp, np.array([3, 4, 5]), lambda r: np.array(["zh", "ja", "zh"]))
    assert asked == [[3, 5]] and got[0] == 0.5 and np.isnan(got[1]) and got[2] == 0.5


def test_hybrid_coverage_on_the_bundled_index(built_index):
    idx = built_index
    r = idx.retriever("hybrid")
    assert r.coverage is not None and r.coverage_power == HYBRID_DEFAULTS["coverage_power"]
    assert idx.params["coverage_power"] == HYBRID_DEFAULTS["coverage_power"]
    exp = idx.analyze_query("知识产权", "zh")
    with idx.analyzer.active():
        kw = idx.retriever("keyword").search(exp, 20)
        got = idx.coverage_scores(exp.terms, kw.rows)
    assert got.shape == (len(kw),) and ((got >= 0) & (got <= 1)).all()
    # the zh rows that contain the word cover all of the one-word query
    for row, c in zip(kw.rows.tolist(), got.tolist()):
        if "知识产权" in idx.rows.text(row):
            assert c == pytest.approx(1.0)
    assert idx.languages_of(kw.rows).tolist() == [idx.record(r)["lang"] for r in kw.rows.tolist()]


def _structured(terms, sets):
    from policyidx.retrieval.expand import QueryTerms

    t = QueryTerms(terms)
    t.synonym_sets = sets
    return t


def test_coverage_counts_a_synonym_set_as_one_word_any_of_whose_renderings_a_row_has():
    # a Japanese query: its own word 取下げ (not in Chinese text) rendered 撤回 or 撤销; 德州 its own
    terms = _structured({"取下げ": 1.0, "撤回": 0.8, "撤销": 0.6, "#撤回": 0.4, "德州": 1.0},
                        ((("取下げ",), ("撤回", "#撤回"), ("撤销",)),))
    idf = {"取下げ": 4.0, "撤回": 2.5, "撤销": 2.0, "#撤回": 2.5, "德州": 3.0}.get
    got = _coverage(terms, [0, 1, 2], idf=lambda t: idf(t, 0.0))
    # the set weighs its heaviest term (取下げ 1.0 * 4.0); row 0 has 撤回 and 德州 in its title
    # (half), row 1 has 撤回 only, row 2 德州 only
    assert got[0] == pytest.approx((4.0 + 0.5 * 3.0) / 7.0)
    assert got[1] == pytest.approx(4.0 / 7.0)
    assert got[2] == pytest.approx(3.0 / 7.0)
    # without the sets the renderings (below full weight) would not count at all
    flat = _coverage(dict(terms), [0, 1, 2], idf=lambda t: idf(t, 0.0))
    assert flat[1] == pytest.approx(0.0)


def test_a_query_with_synonym_sets_is_judged_on_every_row_with_its_own_power():
    from policyidx.retrieval.expand import Expansion
    from policyidx.retrieval.retrievers import coverage_power_for, judged_coverage

    asked = []

    def cov(terms, rows):
        asked.append(rows.tolist())
        return np.full(len(rows), 0.5)

    langs = lambda r: np.array(["zh", "ja", "zh"])  # noqa: E731
    ja = Expansion("取下げ", "ja", _structured({"取下げ": 1.0, "撤回": 0.8}, ((("取下げ",), ("撤回",)),)))
    got = judged_coverage(cov, ja, np.array([3, 4, 5]), langs)
    assert asked == [[3, 4, 5]] and got.tolist() == [0.5, 0.5, 0.5]
    assert coverage_power_for(ja, 2.0, 1.0) == 1.0
    assert coverage_power_for(Expansion("取下げ", "ja", {"取下げ": 1.0}), 2.0, 1.0) == 2.0
    assert coverage_power_for(Expansion("撤回", "zh", {"撤回": 1.0}), 2.0, 1.0) == 2.0
    # an English query is judged by its renderings, with the power of a query with synonym sets
    en = Expansion("withdraw", "en", _structured({"withdraw": 1.0, "撤回": 0.8}, ((("withdraw",), ("撤回",)),)))
    assert coverage_power_for(en, 2.0, 1.0) == 1.0
    # ... and not at all without renderings (its own words are not the corpus's)
    assert coverage_power_for(Expansion("withdraw", "en", {"withdraw": 1.0}), 2.0, 1.0) == 0.0


def test_english_set_coverage_can_be_switched_off(monkeypatch):
    from policyidx.retrieval import retrievers
    from policyidx.retrieval.expand import Expansion

    en = Expansion("withdraw", "en", _structured({"withdraw": 1.0, "撤回": 0.8}, ((("withdraw",), ("撤回",)),)))
    monkeypatch.setattr(retrievers, "SET_COVERAGE_ANY_LANG", False)
    assert retrievers.coverage_power_for(en, 2.0, 1.0) == 0.0
    ja = Expansion("取下げ", "ja", _structured({"取下げ": 1.0, "撤回": 0.8}, ((("取下げ",), ("撤回",)),)))
    assert retrievers.coverage_power_for(ja, 2.0, 1.0) == 1.0  # Japanese keeps its set coverage


def test_hybrid_keeps_the_english_keyword_answer_that_covers_the_query_above_a_dense_favourite():
    from policyidx.retrieval import retrievers
    from policyidx.retrieval.base import Ranking
    from policyidx.retrieval.expand import Expansion

    class Fixed:
        def __init__(self, rows, scores):
            self.ranking = Ranking(np.array(rows, dtype=np.int64), np.array(scores, dtype=np.float64))

        def search(self, query, k, filter=None):
            return self.ranking

    # row 0 has a rendering of both words of the query, row 1 of one; keyword search puts row 1
    # a little ahead and the dense side votes for row 1's document only
    kw = Fixed([1, 0, 2], [1.0, 0.95, 0.5])
    dn = Fixed([1, 2], [0.9, 0.1])
    cover = {0: 1.0, 1: 0.5, 2: 0.5}
    hybrid = retrievers.RerankRetriever(kw, dn, np.array([0, 1, 2]), doc_weight=0.2, clause_weight=0.15,
                                        coverage=lambda terms, rows: np.array([cover[r] for r in rows.tolist()]),
                                        coverage_power=2.0, set_coverage_power=1.0)
    en = Expansion("withdraw patent", "en",
                   _structured({"withdraw": 1.0, "撤回": 0.8, "patent": 1.0, "专利": 0.8},
                               ((("withdraw",), ("撤回",)), (("patent",), ("专利",)))))
    assert hybrid.search(en, 3).rows.tolist()[0] == 0
    old = retrievers.SET_COVERAGE_ANY_LANG
    try:
        retrievers.SET_COVERAGE_ANY_LANG = False
        assert hybrid.search(en, 3).rows.tolist()[0] == 1  # without it the dense vote wins
    finally:
        retrievers.SET_COVERAGE_ANY_LANG = old


def test_hybrid_reads_the_set_coverage_power(built_index):
    assert built_index.retriever("hybrid").set_coverage_power == HYBRID_DEFAULTS["set_coverage_power"]


def test_proximity_is_the_weighted_share_of_word_pairs_close_together():
    from policyidx.retrieval.retrievers import proximity_scores

    words = [("文明行为", 2.0), ("是指", 1.0), ("湛江", 3.0)]
    texts = ["本条例所称文明行为，是指遵守宪法的行为。",           # 文明行为/是指 one character apart
             "湛江经济技术开发区" + "、" * 20 + "做好文明行为促进工作",  # 湛江 and 文明行为 far apart
             "湛江文明行为是指",                                    # every pair within the gap
             ""]
    got = proximity_scores(words, texts, gap=10)
    # pairs: (文明行为, 是指) weighs 1, (文明行为, 湛江) 2, (是指, 湛江) 1
    assert got.tolist() == pytest.approx([1 / 4, 0.0, 1.0, 0.0])
    assert proximity_scores(words, texts[:1], gap=0)[0] == 0.0  # the comma is one character
    assert proximity_scores(words[:1], texts).tolist() == [0.0] * 4  # one word: no pair
    # overlapping occurrences are no pair; case aside
    assert proximity_scores([("建设项目", 1.0), ("项目", 1.0)], ["建设项目"]).tolist() == [0.0]
    assert proximity_scores([("Patent", 1.0), ("pledge", 1.0)], ["patent  pledge"]).tolist() == [1.0]


def test_coverage_weighs_in_the_proximity_of_the_words_of_a_query_without_synonym_sets():
    terms = {"德州": 1.0, "法规案": 1.0}
    plain = _coverage(terms, [2])[0]
    assert plain == pytest.approx(1.0)  # 德州的法规案 has both words, one character apart

    from policyidx.retrieval.retrievers import coverage_scores

    def cov(rows, weight, texts):
        return coverage_scores(terms, np.array(rows), has_term=lambda t, r: np.zeros(len(r), dtype=bool),
                               context_text=lambda r: "", row_text=lambda r: texts[r], idf=lambda t: 1.0,
                               proximity_weight=weight, proximity_gap=4)

    texts = {0: "德州的法规案", 1: "德州" + "。" * 10 + "法规案"}
    assert cov([0, 1], 0.0, texts).tolist() == [1.0, 1.0]
    assert cov([0, 1], 0.5, texts).tolist() == pytest.approx([1.0, 1 / 1.5])
    # a query with synonym sets (a Japanese query) is not judged on proximity
    sets = _structured({"德州": 1.0, "法规案": 1.0}, ((("德州",),), (("法规案",),)))
    got = coverage_scores(sets, np.array([0, 1]), has_term=lambda t, r: np.zeros(len(r), dtype=bool),
                          context_text=lambda r: "", row_text=lambda r: texts[r], idf=lambda t: 1.0,
                          proximity_weight=0.5, proximity_gap=4)
    assert got.tolist() == [1.0, 1.0]


def test_proximity_of_words_given_as_alternatives():
    """A structured query's word occurs wherever any of its renderings does."""
    from policyidx.retrieval.retrievers import proximity_scores

    words = [(("罚款", "罚金"), 1.0), (("停车", "停放"), 1.0), (("绿地",), 2.0)]
    texts = ["在绿地内停放车辆的，处罚金",  # 绿地 .. 停放: 1 apart; 停放 .. 罚金: 5; 绿地 .. 罚金: 8
             "停车" + "。" * 20 + "罚款",      # apart
             ""]
    got = proximity_scores(words, texts, gap=5)
    # pairs: (罚, 停) 1, (罚, 绿地) 1, (停, 绿地) 1; row 0: 绿地..停放 (1 apart), 停放..罚金 (5 apart)
    assert got.tolist() == pytest.approx([2 / 3, 0.0, 0.0])
    # a plain word and its one-alternative form agree
    plain = [("绿地", 1.0), ("停放", 1.0)]
    assert proximity_scores(plain, texts).tolist() == proximity_scores([(("绿地",), 1.0), ("停放", 1.0)], texts).tolist()


def test_coverage_weighs_in_the_proximity_of_a_structured_query_by_its_own_weight():
    from policyidx.retrieval.retrievers import coverage_scores

    texts = {0: "德州的法规案", 1: "德州" + "。" * 10 + "法规案"}
    sets = _structured({"德州": 1.0, "法规案": 1.0, "徳州": 1.0},
                       ((("徳州",), ("德州",)), (("法规案",),)))

    def cov(weight, proximity_weight=0.5):
        return coverage_scores(sets, np.array([0, 1]), has_term=lambda t, r: np.zeros(len(r), dtype=bool),
                               context_text=lambda r: "", row_text=lambda r: texts[r], idf=lambda t: 1.0,
                               proximity_weight=proximity_weight, proximity_gap=4, set_proximity_weight=weight)

    assert cov(0.0).tolist() == [1.0, 1.0]  # the plain proximity weight does not judge it
    assert cov(1.5).tolist() == pytest.approx([1.0, 1 / 2.5])


def test_the_set_proximity_weight_is_per_query_language(built_index, monkeypatch):
    from policyidx.retrieval.modes import set_proximity_weight

    assert set_proximity_weight({}, "ja") == HYBRID_DEFAULTS["set_proximity_weights"]["ja"] > 0
    assert set_proximity_weight({}, "en") == 0.0 and set_proximity_weight({}, None) == 0.0
    assert set_proximity_weight({"set_proximity_weights": {"en": 2.0}}, "en") == 2.0
    idx = built_index
    exp = idx.analyze_query("特許の質権設定", "ja")
    assert exp.terms.lang == "ja" and exp.terms.synonym_sets
    with idx.analyzer.active():
        kw = idx.retriever("keyword").search(exp, 20)
        base = idx.coverage_scores(exp.terms, kw.rows)
        monkeypatch.setitem(idx.params, "set_proximity_weights", {})
        flat = idx.coverage_scores(exp.terms, kw.rows)
    assert (base <= flat + 1e-12).all()
    assert (base < flat - 1e-9).any()  # some candidate has the renderings apart


def test_the_index_reads_its_proximity_parameters(built_index, monkeypatch):
    idx = built_index
    exp = idx.analyze_query("专利 质押", "zh")
    with idx.analyzer.active():
        kw = idx.retriever("keyword").search(exp, 20)
        base = idx.coverage_scores(exp.terms, kw.rows)
        monkeypatch.setitem(idx.params, "proximity_weight", 0.0)
        flat = idx.coverage_scores(exp.terms, kw.rows)
    assert (base <= flat + 1e-12).all() and (flat >= 0).all()
    assert (base < flat - 1e-9).any()  # some candidate has the two words apart


def test_ordered_scores_count_consecutive_query_words_kept_in_order():
    from policyidx.retrieval.retrievers import ordered_scores

    words = [("资源税", 2.0), ("申报", 1.0), ("缴纳", 1.0)]
    texts = ["向税务机关申报缴纳资源税",      # 申报 -> 缴纳 kept; 资源税 after them, not before
             "资源税按季申报缴纳",            # both pairs in order (资源税 .. 申报: two characters)
             "缴纳" + "申报" + "资源税",      # every word, none in order
             ""]
    got = ordered_scores(words, texts, gap=3)
    # consecutive pairs: (资源税, 申报) weighs 1, (申报, 缴纳) 1
    assert got.tolist() == pytest.approx([0.5, 1.0, 0.0, 0.0])
    assert ordered_scores(words, texts[1:2], gap=1).tolist() == [0.5]  # 按季: two characters
    assert ordered_scores(words[:1], texts).tolist() == [0.0] * 4  # one word: no pair
    # a later occurrence of the first word can make the pair; overlap is no pair; case aside
    assert ordered_scores([("a", 1.0), ("b", 1.0)], ["a" + "x" * 9 + "ab"], gap=0).tolist() == [1.0]
    assert ordered_scores([("建设项目", 1.0), ("项目", 1.0)], ["建设项目"]).tolist() == [0.0]
    assert ordered_scores([("Patent", 1.0), ("pledge", 1.0)], ["patent pledge"]).tolist() == [1.0]


def test_coverage_weighs_in_the_order_of_the_query_words():
    from policyidx.retrieval.retrievers import coverage_scores

    terms = {"德州": 1.0, "法规案": 1.0}
    texts = {0: "德州的法规案", 1: "法规案在德州"}  # both pairs within the gap; only row 0 in order

    def cov(weight, proximity=0.5):
        return coverage_scores(terms, np.array([0, 1]), has_term=lambda t, r: np.zeros(len(r), dtype=bool),
                               context_text=lambda r: "", row_text=lambda r: texts[r], idf=lambda t: 1.0,
                               proximity_weight=proximity, proximity_gap=4, ordered_weight=weight, ordered_gap=3)

    assert cov(0.0).tolist() == [1.0, 1.0]
    # p = (1 + 1 * ordered) / 2: 1 for row 0, 1/2 for row 1; share = (1 + .5 p) / 1.5
    assert cov(1.0).tolist() == pytest.approx([1.0, 1.25 / 1.5])
    assert cov(1.0, proximity=0.0).tolist() == [1.0, 1.0]  # order counts only with proximity
    # the query's order is the terms' order, not the order words were weighed in
    assert coverage_scores({"法规案": 1.0, "德州": 1.0}, np.array([0, 1]),
                           has_term=lambda t, r: np.zeros(len(r), dtype=bool), context_text=lambda r: "",
                           row_text=lambda r: texts[r], idf=lambda t: 1.0, proximity_weight=0.5,
                           proximity_gap=4, ordered_weight=1.0, ordered_gap=3).tolist() == pytest.approx([1.25 / 1.5, 1.0])


def test_the_index_reads_its_order_parameters(built_index, monkeypatch):
    idx = built_index
    assert "ordered_weight" in HYBRID_DEFAULTS and "ordered_gap" in HYBRID_DEFAULTS
    exp = idx.analyze_query("保护 知识产权", "zh")  # the corpus writes 知识产权保护 too: near, out of order
    with idx.analyzer.active():
        kw = idx.retriever("keyword").search(exp, 20)
        monkeypatch.setitem(idx.params, "ordered_weight", 0.0)
        flat = idx.coverage_scores(exp.terms, kw.rows)
        monkeypatch.setitem(idx.params, "ordered_weight", 1.0)
        monkeypatch.setitem(idx.params, "ordered_gap", 0)
        tight = idx.coverage_scores(exp.terms, kw.rows)
        monkeypatch.delitem(idx.params, "ordered_weight")
        monkeypatch.delitem(idx.params, "ordered_gap")
        default = idx.coverage_scores(exp.terms, kw.rows)
    assert (tight <= flat + 1e-12).all() and (tight < flat - 1e-9).any()
    assert default.shape == flat.shape


def test_in_order_finds_a_word_written_out_in_full():
    from policyidx.retrieval.retrievers import in_order

    assert in_order("居委会", "城市居民委员会的组成")  # 居民委员会: 5 characters, at most 6
    assert in_order("食品药品", "因食品、药品质量问题")
    assert in_order("中级法院", "由中级人民法院管辖")
    assert not in_order("居委会", "居住在本市的委员会")  # 居 ... 会 over more than 6 characters
    assert not in_order("居委会", "委员会居民")  # out of order
    assert not in_order("食品药品", "食品安全")
    assert in_order("居委会", "居" + "x" * 20 + "居民委员会")  # a later start
    assert in_order("许可", "许可") and not in_order("许", "")


def test_coverage_credits_a_word_the_row_writes_out_in_full():
    from policyidx.retrieval.retrievers import coverage_scores

    texts = {0: "居民委员会根据需要设人民调解委员会", 1: "居民会议讨论居住区的事务", 2: "居委会设调解委员会"}

    def cov(share):
        return coverage_scores({"居委会": 1.0, "调解": 1.0}, np.array([0, 1, 2]),
                               has_term=lambda t, r: np.zeros(len(r), dtype=bool), context_text=lambda r: "",
                               row_text=lambda r: texts[r], idf=lambda t: 1.0, abbreviation_share=share)

    # row 0 writes 居委会 out in full; row 1 has 居 and 会 only, too far apart; row 2 has the word itself
    assert cov(0.0).tolist() == pytest.approx([0.5, 0.0, 1.0])
    assert cov(1.0).tolist() == pytest.approx([1.0, 0.0, 1.0])
    assert cov(0.5).tolist() == pytest.approx([0.75, 0.0, 1.0])


def test_the_index_reads_its_abbreviation_share(built_index, monkeypatch):
    idx = built_index
    exp = idx.analyze_query("知识产权 监管部门", "zh")
    with idx.analyzer.active():
        kw = idx.retriever("keyword").search(exp, 50)
        monkeypatch.setitem(idx.params, "abbreviation_share", 0.0)
        flat = idx.coverage_scores(exp.terms, kw.rows)
        monkeypatch.setitem(idx.params, "abbreviation_share", 1.0)
        full = idx.coverage_scores(exp.terms, kw.rows)
    assert (full >= flat - 1e-12).all()


def test_a_query_with_synonym_sets_gets_no_abbreviation_credit():
    from policyidx.retrieval.retrievers import coverage_scores

    terms = _structured({"居委会": 1.0, "调解": 1.0}, ((("居委会",),), (("调解",),)))
    got = coverage_scores(terms, np.array([0]), has_term=lambda t, r: np.zeros(len(r), dtype=bool),
                          context_text=lambda r: "", row_text=lambda r: "居民委员会设人民调解委员会",
                          idf=lambda t: 1.0, abbreviation_share=1.0)
    assert got.tolist() == pytest.approx([0.5])


def test_an_unknown_chinese_query_word_counts_in_coverage(monkeypatch):
    from policyidx.retrieval import retrievers
    from policyidx.retrieval.retrievers import coverage_scores

    # 网约车 is unknown to the index (idf 0); 管理 is known.  Row 0 has both, row 1 only 管理.
    texts = {0: "网约车经营者应当遵守管理规定", 1: "出租汽车管理规定"}

    def cov():
        return coverage_scores({"网约车": 1.0, "管理": 1.0}, np.array([0, 1]),
                               has_term=lambda t, r: np.array([t in texts[int(x)] and t != "网约车" for x in r]),
                               context_text=lambda r: "", row_text=lambda r: texts[r],
                               idf=lambda t: 0.0 if t == "网约车" else 2.0)

    monkeypatch.setattr(retrievers, "UNKNOWN_WORD_SHARE", 0.0)
    assert cov().tolist() == pytest.approx([1.0, 1.0])  # the unknown word is not looked at
    monkeypatch.setattr(retrievers, "UNKNOWN_WORD_SHARE", 1.0)
    assert cov().tolist() == pytest.approx([1.0, 0.5])  # it weighs as 管理 and only row 0 has it
    # an unknown compound of the query's own words (网约车管理: 网约车 + 管理) counts by its parts
    got = coverage_scores({"网约车管理": 1.0, "网约车": 1.0, "管理": 1.0}, np.array([0, 1]),
                          has_term=lambda t, r: np.array([t == "管理" for _x in r]),
                          context_text=lambda r: "", row_text=lambda r: texts[r],
                          idf=lambda t: 2.0 if t == "管理" else 0.0)
    assert got.tolist() == pytest.approx([1.0, 0.5])


# ----------------------------------------------------------------------------- lazy context terms

_CONTEXTS = [
    ("zh", "德州市制定地方性法规条例 第五章 法律责任"),
    ("zh", "廣東省專利條例 第二章 專利的運用"),  # traditional characters: terms are unified
    ("zh", "中华人民共和国公司法（2018修正） 第十二章 外国公司的分支机构"),
    ("zh", "关于实施ISO 9001标准的若干规定 第3条"),
    ("zh", "上海市知识产权保护条例"),
    ("ja", "専利権質権登記弁法 第二章 登記の手続を定める"),
    ("ja", "知的財産権の保護に関する規定 第1節 総則"),
]


def test_lazy_context_terms_answer_as_the_analysed_set():
    from policyidx.text.analysis import LazyTerms, analyze

    full = {text: frozenset(analyze(text, lang)) for lang, text in _CONTEXTS}
    probes = sorted(set().union(*full.values())) + ["法", "罚款", "12", "9001", "iso", "financ", "#知识", "德州",
                                                     "定める", "定め", "する", "手続", "patent", "专利"]
    for lang, text in _CONTEXTS:
        lazy = LazyTerms(text, lang, {})
        assert [t for t in probes if t in lazy] == [t for t in probes if t in full[text]], text
    assert "x" not in LazyTerms("", "zh") and 1 not in LazyTerms("条例", "zh")


def test_lazy_context_terms_segment_only_the_parts_a_term_could_be_in():
    from policyidx.text.analysis import LazyTerms

    cache: dict[tuple[str, str], frozenset[str]] = {}
    lazy = LazyTerms("德州市制定地方性法规条例 第五章 法律责任", "zh", cache)
    assert "知识产权" not in lazy and lazy.analysed == 0  # in no part: nothing segmented
    assert "法律责任" in lazy and lazy.analysed == 1 and set(cache) == {("zh", "法律责任")}
    # a term in ASCII (a number, an English stem) only where a part has a letter, digit or numeral
    assert "patent" not in lazy and set(cache) == {("zh", "法律责任"), ("zh", "第五章")}
    # another context of the same document shares its title's segmentation
    other = LazyTerms("德州市制定地方性法规条例 第七章 附则", "zh", cache)
    assert "条例" in other and ("zh", "德州市制定地方性法规条例") in cache
    # the same characters in a Japanese context are segmented apart, as Japanese
    ja = LazyTerms("法律责任", "ja", cache)
    assert "法律" in ja and "法律责任" not in ja and ("ja", "法律责任") in cache
    assert "条例" in lazy and lazy.analysed == 3
