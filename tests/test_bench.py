"""Tests of policyidx.bench.scale: the synthetic corpus, the process pool, tie-aware agreement, a tiny run."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from policyidx.text.analysis import analyze
from policyidx.bench.scale import _next_path, _same_top, main, synthesize, tokenize_parallel
from policyidx.errors import PolicyIdxError
from policyidx.retrieval.keyword import BM25Index

ID_RE = re.compile(r"^syn-\d{5}\.(zh|ja)#\d+(\.\d+)*$")


@pytest.mark.parametrize(
    "stack, depth, expected",
    [
        ([], 1, [1]),
        ([], 3, [1, 1, 1]),
        ([2, 3], 2, [2, 4]),
        ([2, 3], 1, [3]),
        ([2, 3], 3, [2, 3, 1]),
        ([3, 2, 5], 2, [3, 3]),
    ],
)
def test_next_path_numbers_like_a_document(stack: list[int], depth: int, expected: list[int]) -> None:
    assert _next_path(list(stack), depth) == expected


def test_synthesize_is_deterministic_and_made_of_real_sentences(corpus) -> None:
    a = synthesize(600, seed=3, n_queries=30)
    b = synthesize(600, seed=3, n_queries=30)
    c = synthesize(600, seed=4, n_queries=30)
    assert a == b and a.texts != c.texts
    assert len(a) == 600 and len(a.queries) == 30 and len(set(a.ids)) == 600
    assert all(ID_RE.match(i) for i in a.ids)
    assert all(i.split("#")[0].endswith("." + lang) for i, lang in zip(a.ids, a.langs))
    # Both languages, Japanese the majority as in the bundled corpus.
    assert 0.02 < a.langs.count("zh") / 600 < 0.35
    sentences = {s.text for cl in corpus.clauses() for s in cl.sentences}
    first_sentence_starts = sum(any(t.startswith(s) for s in sentences) for t in a.texts[:50])
    assert first_sentence_starts == 50
    # Fragments (after the dev queries) are 6-30 characters cut from clause text.
    frags = [q for q in a.queries if any(q in t for t in a.texts)]
    assert len(frags) >= 15 and all(6 <= len(q) <= 30 for q in frags)


@pytest.mark.parametrize("bad", [0, -5])
def test_synthesize_rejects_empty_sizes(bad: int) -> None:
    with pytest.raises(PolicyIdxError, match="at least one clause"):
        synthesize(bad)


@pytest.mark.parametrize("workers", [1, 2])
def test_tokenize_parallel_matches_analyze(workers: int) -> None:
    texts = [
        "专精特新中小企业享受专利优先审查政策",
        "「専精特新」中小企業の専利優先審査政策を享受できるように積極的に支援する",
        "提升专利导航综合服务水平",
        "知的財産権担保融資などの金融サービスの供給を強化する",
        "引导和支持企业开展专利密集型产品备案",
    ]
    langs = ["zh", "ja", "zh", "ja", "zh"]
    doc_ptr, ids, vocab = tokenize_parallel(texts, langs, workers=workers)
    assert len(doc_ptr) == len(texts) + 1
    for i, (t, lang) in enumerate(zip(texts, langs)):
        assert [vocab[j] for j in ids[doc_ptr[i] : doc_ptr[i + 1]]] == analyze(t, lang)
    # The id arrays give the same BM25 index as the list-of-terms build.
    a = BM25Index.from_ids(doc_ptr, ids, vocab)
    b = BM25Index.build([analyze(t, lang) for t, lang in zip(texts, langs)])
    q = analyze("专利优先审查", "zh")
    ra, sa = a.search(q, k=5)
    rb, sb = b.search(q, k=5)
    assert ra.tolist() == rb.tolist() and np.allclose(sa, sb, rtol=1e-6)


@pytest.mark.parametrize(
    "a, b, same",
    [
        (([1, 2, 3], [3.0, 2.0, 1.0]), ([1, 2, 3], [3.0, 2.0, 1.0]), True),
        (([1, 2, 3], [3.0, 2.0, 1.0]), ([2, 1, 3], [2.0, 3.0, 1.0]), True),  # same set, any order
        (([1, 2, 3], [3.0, 2.0, 1.0]), ([1, 2, 4], [3.0, 2.0, 1.0]), True),  # 3 and 4 tie at the cut
        (([1, 2, 3], [3.0, 2.0, 1.0]), ([1, 4, 3], [3.0, 2.0, 1.0]), False),  # 2 vs 4 above the cut
        (([1, 2, 3], [3.0, 2.0, 1.0]), ([1, 2, 4], [3.0, 2.0, 0.5]), False),  # scores differ
        (([1, 2], [3.0, 2.0]), ([1, 2, 3], [3.0, 2.0, 1.0]), False),
        (([], []), ([], []), True),
    ],
)
def test_same_top_is_tie_aware(a, b, same: bool) -> None:
    arr = lambda rows, scores: (np.asarray(rows, np.int64), np.asarray(scores, np.float32))  # noqa: E731
    assert _same_top(*arr(*a), *arr(*b)) is same


def test_fork_failures_are_reported() -> None:
    with pytest.raises(PolicyIdxError, match="one language per text"):
        tokenize_parallel(["知识产权"], [], workers=2)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One tiny benchmark through the command line (``--json --out``), shared by the tests
    that read its figures: (exit status, printed text, the --out file, the work directory)."""
    import contextlib
    import io

    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "r.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["--clauses", "1500", "--queries", "25", "--quiet", "--json", "--fit-sample", "1500",
                     "--out", str(out), "--workdir", str(tmp / "w")])
    return code, printed.getvalue(), out, tmp / "w"


def test_run_bench_tiny(tiny_run) -> None:
    code, printed, _out, workdir = tiny_run
    assert code == 0
    (res,) = json.loads(printed)
    for key in ("clauses", "build_s", "index_mb", "open_rss_mb", "keyword_qps", "bm25s_qps",
                "keyword_same_top10", "dense_p95_ms", "dense_recall_at_10", "hybrid_p95_ms",
                "rank_bm25_qps", "build_peak_rss_mb", "stages_s"):
        assert key in res, key
    assert res["clauses"] == 1500 and res["queries"] == 25
    assert set(res["stages_s"]) >= {"generate", "parse", "tokenise", "keyword_index", "encode_fit",
                                     "encode_transform", "vector_index"}
    assert res["build_s"] > 0 and res["index_mb"] > 0 and res["open_rss_mb"] > 20
    assert res["keyword_qps"] > 0 and res["bm25s_qps"] > 0 and res["rank_bm25_qps"] > 0
    assert res["keyword_batch_qps"] > 0 and res["bm25s_batch_qps"] > 0 and res["keyword_batch_threads"] == 1
    # Same tokens, same BM25 variant: the two engines must agree (ties handled).
    assert res["keyword_same_top10"] >= 0.95
    # Below exact_max the store is exact, so its recall against exact FAISS is 1.
    assert res["dense_recall_at_10"] == 1.0 and res["ann"] == "faiss-flatip.index"
    assert 0 < res["dense_p50_ms"] <= res["dense_p95_ms"]
    assert 0 < res["hybrid_p50_ms"] <= res["hybrid_p95_ms"] and res["hybrid_highlight_p95_ms"] > 0
    assert res["vocab"] > 1000 and res["postings"] <= res["tokens"]
    assert res["documents"] > 10 and 0.95 * 1500 <= res["parsed_clauses"] <= 1500 + res["parse_warnings"] * 10
    # where the time goes: the parts of the tokeniser profile add up, the floor is below the time
    tp = res["tokenise_profile"]
    assert tp["clauses"] == 1500 and tp["mecab_parse_ms_per_clause"] > 0 and tp["jieba_cut_ms_per_clause"] > 0
    assert abs(tp["mecab_parse_ms_per_clause"] + tp["jieba_cut_ms_per_clause"]
               + tp["policyidx_python_ms_per_clause"] - tp["cpu_ms_per_clause"]) < 0.01
    assert any("analysis.py" in name for name, _ in tp["top_functions_by_own_time"])
    assert res["keyword_postings_per_query"] > 0 and res["stream_read_gbps"] > 0
    assert 0 < res["keyword_floor_ms"] < res["keyword_mean_ms"]
    assert not any(workdir.iterdir())  # indexes are removed unless keep=True


def test_main_json_and_out(tiny_run) -> None:
    code, printed, out, _workdir = tiny_run
    assert code == 0 and json.loads(printed) == json.loads(out.read_text(encoding="utf-8"))


def test_main_reports_bad_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--clauses", "0", "--quiet"]) == 2
    assert "positive clause counts" in capsys.readouterr().err


@pytest.mark.parametrize("n, text", [(1, "一"), (10, "十"), (11, "十一"), (20, "二十"), (21, "二十一"),
                                     (100, "一百"), (105, "一百零五"), (110, "一百一十"), (999, "九百九十九")])
def test_cn_numeral_reads_back(n: int, text: str) -> None:
    from policyidx.bench.scale import _cn_numeral
    from policyidx.parsers.labels import cn_to_int

    assert _cn_numeral(n) == text and cn_to_int(text) == n


def test_rendered_documents_parse_back_to_their_clauses() -> None:
    from policyidx.bench.scale import render_documents
    from policyidx.parsers import parse_bytes

    syn = synthesize(400, seed=3, n_queries=5)
    docs = render_documents(syn)
    assert sum(n for *_, n in docs) == 400
    doc_id, lang, text, n = docs[0]
    res = parse_bytes(text.encode("utf-8"), doc_id=doc_id, lang=lang, format="text")
    mine = [t for cid, t in zip(syn.ids, syn.texts) if cid.startswith(doc_id + "#")]
    assert len(mine) == n
    # nothing of the clause texts is lost in the round trip (a line break inside a clause's
    # text may be joined when the text is parsed back)
    flat = "".join(res.text.split())
    assert all("".join(t.split()) in flat for t in mine)
