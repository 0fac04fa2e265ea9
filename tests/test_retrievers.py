"""The retriever contract: every retriever (each registered search mode, the base
retrievers, a fusion of three) answers ``search(query, k, filter)`` the same way."""

from __future__ import annotations

import numpy as np
import pytest

from policyidx.errors import QueryError
from policyidx.retrieval.base import Ranking, Retriever, RowFilter
from policyidx.retrieval.expand import expand_query
from policyidx.retrieval.fusion import rrf
from policyidx.retrieval.keyword import BM25Index
from policyidx.retrieval.modes import make_retriever, mode_names, register_mode
from policyidx.retrieval.retrievers import DenseRetriever, FusionRetriever, KeywordRetriever

QUERIES = [("质押融资", None), ("専利密集型製品", None), ("patent pledge financing", None), ("知识产权", "zh")]


def _retrievers(index) -> dict[str, Retriever]:
    out: dict[str, Retriever] = {f"mode:{m}": index.retriever(m) for m in mode_names()}
    out["keyword"] = KeywordRetriever(index.keyword)
    out["dense"] = DenseRetriever(index.encoder, index.vectors)
    # another BM25 variant, chosen by name, over the same rows
    terms = [index.analyzer.analyze(index.rows.text(r), index.record(r)["lang"]) for r in range(len(index))]
    out["keyword:bm25+"] = KeywordRetriever(BM25Index.build(terms, method="bm25+"))
    out["fusion-of-three"] = FusionRetriever(
        {"a": KeywordRetriever(index.keyword), "b": DenseRetriever(index.encoder, index.vectors),
         "c": index.retriever("hybrid")}, {"a": 1.0, "b": 0.5, "c": 0.25}, rrf_k=20, name="three")
    return out


@pytest.fixture(scope="module")
def retrievers(built_index):
    return _retrievers(built_index)


@pytest.fixture(scope="module", params=["keyword", "keyword:bm25+", "dense", "fusion-of-three"]
                + [f"mode:{m}" for m in mode_names()])
def retriever(request, retrievers):
    return request.param, retrievers[request.param]


def _check_ranking(r: Ranking, k: int, n: int, allowed: np.ndarray | None = None) -> None:
    assert isinstance(r, Ranking)
    rows, scores = np.asarray(r.rows), np.asarray(r.scores)
    assert rows.ndim == 1 and len(rows) == len(scores) <= k
    assert len(set(rows.tolist())) == len(rows), "a row returned twice"
    assert all(0 <= x < n for x in rows.tolist())
    assert np.all(np.isfinite(scores))
    assert np.all(np.diff(scores) <= 1e-12), "scores must not increase down the ranking"
    for i in range(len(rows) - 1):  # ties in ascending row order
        if scores[i] == scores[i + 1]:
            assert rows[i] < rows[i + 1]
    if allowed is not None:
        assert all(allowed[x] for x in rows.tolist())


def test_is_a_retriever(retriever):
    _name, r = retriever
    assert isinstance(r, Retriever) and isinstance(r.name, str) and r.name


@pytest.mark.parametrize("k", [1, 3, 10])
@pytest.mark.parametrize("q, lang", QUERIES)
def test_ranking_shape(retriever, built_index, q, lang, k):
    _name, r = retriever
    exp = expand_query(q, lang, built_index.glossary)
    ranking = r.search(exp, k)
    _check_ranking(ranking, k, len(built_index))
    assert len(ranking) > 0, "each query has matching clauses in the bundled corpus"


def test_deterministic(retriever, built_index):
    _name, r = retriever
    exp = expand_query("知识产权质押融资", None, built_index.glossary)
    a, b = r.search(exp, 10), r.search(exp, 10)
    assert a.rows.tolist() == b.rows.tolist() and np.allclose(a.scores, b.scores)


def test_top_k_is_a_prefix_of_a_deeper_search(retriever, built_index):
    _name, r = retriever
    if isinstance(r, FusionRetriever):
        pytest.skip("a fusion asks its parts for a depth that grows with k, so its top k may reorder")
    exp = expand_query("専利転化", None, built_index.glossary)
    short, deep = r.search(exp, 3), r.search(exp, 30)
    assert short.rows.tolist() == deep.rows.tolist()[: len(short)]


def test_filter_is_respected(retriever, built_index):
    _name, r = retriever
    n = len(built_index)
    exp = expand_query("知识产权", None, built_index.glossary)
    ja_only = np.array([built_index.docs[int(d)]["lang"] == "ja" for d in built_index.row_doc])
    assert 0 < ja_only.sum() < n
    ranking = r.search(exp, 10, RowFilter(ja_only))
    _check_ranking(ranking, 10, n, ja_only)
    assert len(ranking) > 0
    one = np.zeros(n, dtype=bool)
    one[int(np.argmax(ja_only))] = True
    _check_ranking(r.search(exp, 10, RowFilter(one)), 10, n, one)


def test_filter_excluding_everything_gives_an_empty_ranking(retriever, built_index):
    _name, r = retriever
    exp = expand_query("知识产权", None, built_index.glossary)
    ranking = r.search(exp, 5, RowFilter(np.zeros(len(built_index), dtype=bool)))
    assert isinstance(ranking, Ranking) and len(ranking) == 0


def test_query_matching_nothing_is_not_an_error(retriever, built_index):
    _name, r = retriever
    exp = expand_query("zzqqxv", "en", built_index.glossary)
    _check_ranking(r.search(exp, 5), 5, len(built_index))


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_bad_k_is_a_query_error(retriever, built_index, k):
    _name, r = retriever
    with pytest.raises(QueryError):
        r.search(expand_query("知识产权", None, built_index.glossary), k)


def test_wrong_filter_length_is_a_query_error(retriever, built_index):
    _name, r = retriever
    with pytest.raises(QueryError):
        r.search(expand_query("知识产权", None, built_index.glossary), 5, RowFilter(np.ones(3, dtype=bool)))


# ----------------------------------------------------------------------------- fusion, registry


def test_rrf_over_named_rankings():
    a = Ranking(np.array([3, 1, 2]), np.array([3.0, 2.0, 1.0]))
    b = Ranking(np.array([1, 4]), np.array([0.9, 0.8]))
    fused = rrf({"a": a, "b": b}, {"a": 1.0, "b": 2.0}, k=1)
    # row 1: 1/(1+2) + 2/(1+1) = 1.333; row 4: 2/(1+2) = 0.667; row 3: 1/2; row 2: 1/4
    assert fused.rows.tolist() == [1, 4, 3, 2]
    assert np.allclose(fused.scores, [1 / 3 + 1.0, 2 / 3, 0.5, 0.25])
    assert set(fused.components) == {"a", "b"}
    assert rrf({}, {}).rows.tolist() == []


def test_a_registered_mode_is_searchable_by_name(built_index):
    register_mode("keyword-only-test", "BM25 alone (test)", lambda part, params: part("keyword"))
    try:
        assert "keyword-only-test" in mode_names()
        hits = built_index.search("质押融资", k=3, mode="keyword-only-test")
        assert [h.id for h in hits] == [h.id for h in built_index.search("质押融资", k=3, mode="keyword")]
    finally:
        from policyidx.retrieval import modes

        modes._MODES.pop("keyword-only-test", None)
        built_index._retrievers.pop("keyword-only-test", None)


def test_unknown_mode_names_the_known_ones(built_index):
    with pytest.raises(QueryError, match="keyword, dense, hybrid"):
        make_retriever("nope", lambda name: None)


def test_dense_rerank_votes_for_the_document_of_the_dense_side():
    from policyidx.retrieval.base import Ranking
    from policyidx.retrieval.fusion import dense_rerank

    kw = Ranking(np.array([0, 1, 2]), np.array([10.0, 9.5, 5.0]))
    dn = Ranking(np.array([5, 3, 4]), np.array([0.9, 0.5, 0.1]))
    row_doc = np.array([0, 1, 2, 0, 2, 1])  # rows 1 and 5 share document 1, where dense is best
    fused = dense_rerank(kw, dn, row_doc, doc_weight=0.2, clause_weight=0.1)
    assert fused.rows.tolist()[:3] == [1, 0, 2]  # the document vote lifts row 1 over row 0
    assert fused.rows.tolist()[3:] == [5, 3, 4]  # rows only dense found follow, in dense order
    assert np.all(np.diff(fused.scores) <= 0)
    # without the document vote keyword order stands (no dense score for these rows)
    assert dense_rerank(kw, dn, None).rows.tolist()[:3] == [0, 1, 2]
    # keyword found nothing: the dense ranking
    assert dense_rerank(Ranking.empty(), dn, row_doc).rows.tolist() == [5, 3, 4]
