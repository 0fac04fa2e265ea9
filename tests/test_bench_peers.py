"""The keyword benchmark against peers: real-text corpus building and exactness checks."""

from __future__ import annotations

import json
import os
import subprocess
import time
import sys
from pathlib import Path

import numpy as np
import pytest

from policyidx.bench.peers import (
    HAND_QUERIES,
    KeywordCorpus,
    _agree,
    compare,
    main,
    real_clauses,
    real_corpus,
    realdocs_dir,
)
from policyidx.errors import PolicyIdxError
from policyidx.retrieval.keyword import BM25Index

_LAW = """# 中华人民共和国示例法

2020年1月1日第十三届全国人民代表大会常务委员会通过

<!-- INFO END -->

## 第一章 总则

第一条 为了规范个人信息处理活动，保护个人信息权益，制定本法。

第二条 自然人的个人信息受法律保护，任何组织、个人不得侵害自然人的个人信息权益。

\u200b

## 第二章 劳动合同

第三条 用人单位解除劳动合同，应当事先将理由通知工会。

（一）劳动者在试用期间被证明不符合录用条件的；

（二）严重违反用人单位的规章制度的。
"""

_RULE = """# 某省环境影响评价办法

<!-- INFO END -->

第一条 建设项目的环境影响评价文件未经审批部门审查，建设单位不得开工建设。

第二条 行政处罚听证程序依照本办法执行。
"""


@pytest.fixture()
def docs(tmp_path: Path) -> Path:
    root = tmp_path / "realdocs"
    (root / "zh" / "法律").mkdir(parents=True)
    (root / "zh" / "法律" / "示例法(2020-01-01).md").write_text(_LAW, encoding="utf-8")
    (root / "zh" / "地方").mkdir(parents=True)
    (root / "zh" / "地方" / "办法(2021-05-01).md").write_text(_RULE, encoding="utf-8")
    (root / "zh" / "地方" / "坏.md").write_bytes(b"\xff\xfe\x00garbage")  # not UTF-8: skipped
    (root / "README.md").write_text("# not a document\n\nnot a clause\n", encoding="utf-8")
    return root


def test_real_clauses_are_body_paragraphs(docs: Path, capsys) -> None:
    texts, doc_of = real_clauses(docs)
    assert texts[0] == "第一条 建设项目的环境影响评价文件未经审批部门审查，建设单位不得开工建设。"  # 地方/ sorts first
    assert len(texts) == 2 + 5  # headings, the promulgation record and the zero-width line are left out
    assert "（二）严重违反用人单位的规章制度的。" in texts
    assert not any(t.startswith("#") or "INFO END" in t or "not a clause" in t for t in texts)
    assert doc_of == [0, 0, 1, 1, 1, 1, 1]
    assert "坏.md" in capsys.readouterr().err


def test_real_corpus_subsets_and_copies(docs: Path, tmp_path: Path) -> None:
    small = real_corpus(3, root=docs, n_queries=20, cache=tmp_path / "cache", progress=False)
    assert len(small) == 3
    big = real_corpus(16, root=docs, n_queries=20, cache=tmp_path / "cache", progress=False)
    assert len(big) == 16 and "3 copies" in big.note
    assert list((tmp_path / "cache").glob("tokens-*.npz")), "the tokenised collection is cached"
    # copies repeat the same clauses: rows 0 and 7 have the same terms
    terms = lambda c, i: [c.vocab[t] for t in c.term_ids[c.doc_ptr[i]:c.doc_ptr[i + 1]]]  # noqa: E731
    assert terms(big, 0) == terms(big, 7) and terms(big, 0)
    assert big.query_texts[: len(HAND_QUERIES[:20])] == list(HAND_QUERIES[:20])
    assert len(big.queries) == 20
    # the vocabulary is that of the clauses taken
    used = {big.vocab[t] for t in big.term_ids.tolist()}
    assert used == set(big.vocab)


def test_realdocs_dir_explicit_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyIdxError, match="no real-document collection"):
        realdocs_dir(tmp_path / "nowhere")
    assert realdocs_dir(tmp_path) == tmp_path


def test_agreement_is_tie_aware() -> None:
    index = BM25Index.build([["a"], ["a"], ["a", "b"], ["b"]], k1=1.2, b=0.75)
    want = index.search(["a"], k=1)
    assert want[0].tolist() == [0]
    assert _agree(want, want, ["a"], index)
    # rows 0 and 1 tie (same length, one 'a'): either may be the first
    assert _agree((np.array([1]), want[1]), want, ["a"], index)
    assert not _agree((np.array([2]), want[1]), want, ["a"], index)  # longer, scores lower
    assert not _agree((np.array([0, 1]), np.repeat(want[1], 2)), want, ["a"], index)  # another length


def _random_corpus(n: int, seed: int) -> KeywordCorpus:
    rng = np.random.default_rng(seed)
    vocab = [f"t{i}" for i in range(400)]
    p = 1.0 / np.arange(1, 401) ** 1.05
    p /= p.sum()
    lens = rng.integers(3, 40, size=n)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens, out=ptr[1:])
    ids = rng.choice(400, size=int(ptr[-1]), p=p)
    queries = [list(dict.fromkeys(vocab[t] for t in rng.choice(400, size=int(rng.integers(1, 15)), p=p)))
               for _ in range(30)]
    return KeywordCorpus("random", ptr, ids, vocab, queries, [" ".join(q) for q in queries])


def test_compare_reports_exact_agreement_for_policyidx() -> None:
    corpus = _random_corpus(3000, seed=5)
    res = compare(corpus, peers=(), repeats=1, workers=2, progress=False)
    ours = res["engines"]["policyidx"]
    assert ours["same_top10"] == 1.0 and ours["overlap_at_10"] == 1.0
    assert ours["qps"] > 0 and ours["batch_qps"] > 0
    assert res["postings_per_query"] > 0 and res["ns_per_posting"] > 0 and res["floor_ms"] > 0


@pytest.mark.parametrize("peer", ["bm25s-numpy", "tantivy"])
def test_peers_agree_with_exhaustive_scoring(peer: str) -> None:
    pytest.importorskip(peer.split("-")[0])
    corpus = _random_corpus(1500, seed=6)
    res = compare(corpus, peers=(peer,), repeats=1, workers=1, progress=False)
    # bm25s computes the same Lucene BM25; tantivy quantises document lengths to a byte, so a
    # few of its top 10s may legitimately differ
    assert res["engines"][peer]["same_top10"] >= (0.99 if peer.startswith("bm25s") else 0.6)
    assert res["engines"][peer]["overlap_at_10"] >= 0.9


def test_cli_writes_json(docs: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "res.json"
    code = main(["--corpus", "real", "--clauses", "5", "--realdocs", str(docs), "--peers", "", "--repeats", "1",
                 "--queries", "8", "--cache", str(tmp_path / "c"), "--out", str(out), "--quiet"])
    assert code == 0
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res[0]["corpus"] == "real" and res[0]["clauses"] == 5
    assert "| real | 5 |" in capsys.readouterr().out


def test_cli_errors_are_one_line(tmp_path: Path, capsys) -> None:
    assert main(["--corpus", "real", "--realdocs", str(tmp_path / "missing"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("policyidx bench.peers:") and "\n" not in err
    assert main(["--peers", "lucene", "--quiet"]) == 2


def test_search_works_without_numba(tmp_path: Path) -> None:
    """The library does not need numba: the same results on the numpy/scipy path."""
    code = (
        "import json, numpy as np\n"
        "from policyidx.retrieval import _kernels\n"
        "from policyidx.retrieval.keyword import BM25Index\n"
        "assert not _kernels.AVAILABLE\n"
        "rng = np.random.default_rng(1)\n"
        "docs = [[f't{x}' for x in rng.integers(0, 50, size=12)] for _ in range(400)]\n"
        "idx = BM25Index.build(docs)\n"
        "print(json.dumps([idx.search(['t1', 't2', 't7'], k=5)[0].tolist()]))\n"
    )
    env = dict(os.environ, POLICYIDX_NO_NUMBA="1")
    got = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    rng = np.random.default_rng(1)
    docs = [[f"t{x}" for x in rng.integers(0, 50, size=12)] for _ in range(400)]
    want = BM25Index.build(docs).search(["t1", "t2", "t7"], k=5)[0].tolist()
    assert json.loads(got.stdout) == [want]


def test_interleaved_timing_gives_every_job_its_time():
    from policyidx.bench.peers import _interleaved

    calls = []

    def job(name, seconds):
        def run():
            calls.append(name)
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                pass
        return run

    spent = _interleaved({"fast": job("fast", 0.001), "slow": job("slow", 0.03)}, min_s=0.06, slice_s=0.01)
    for name, (runs, t) in spent.items():
        assert t >= 0.06 and runs == calls.count(name)
    assert spent["fast"][0] > spent["slow"][0]
    # the jobs take turns: the fast one does not run all its time before the slow one starts
    first_slow = calls.index("slow")
    assert calls[first_slow + 1:].count("fast") > 0


def test_cold_cache_runs_take_turns_after_evicting():
    from policyidx.bench.peers import _cold

    calls = []
    out = _cold({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, mb=1, runs=4)
    assert calls == ["a", "b"] * 4
    assert [len(v) for v in out.values()] == [4, 4] and all(t >= 0 for v in out.values() for t in v)


def test_compare_reports_cold_cache_rates() -> None:
    pytest.importorskip("bm25s")
    from policyidx.bench.peers import format_table

    corpus = _random_corpus(800, seed=7)
    res = compare(corpus, peers=("bm25s-numpy",), repeats=1, workers=1, progress=False, min_pass_s=0.05,
                  cold_mb=2, cold_runs=3)
    assert res["cold_mb"] == 2
    assert res["engines"]["policyidx"]["cold_qps"] > 0 and res["engines"]["bm25s-numpy"]["cold_qps"] > 0
    assert res["policyidx_cold_vs_fastest_peer"] > 0
    table = format_table([res])
    assert "cold ratio" in table.splitlines()[0]
    assert "cold ratio" not in format_table([compare(corpus, peers=(), repeats=1, workers=1, progress=False,
                                                      min_pass_s=0.05)]).splitlines()[0]
