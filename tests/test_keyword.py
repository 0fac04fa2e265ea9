"""Tests of policyidx.retrieval.keyword.BM25Index: scores, filtering, persistence, parity with bm25s."""

from __future__ import annotations

import json
import math
from itertools import pairwise

import numpy as np
import pytest

from policyidx.text.analysis import analyze, analyze_query
from policyidx.errors import IndexError_, QueryError
from policyidx.retrieval.keyword import BM25Index

CLAUSES = [
    ("专精特新中小企业享受专利优先审查政策", "zh"),
    ("提升专利导航综合服务水平", "zh"),
    ("引导和支持企业开展专利密集型产品备案", "zh"),
    ("增强知识产权质押融资等金融服务供给", "zh"),
    ("「専精特新」中小企業の専利優先審査政策を享受できるように積極的に支援する", "ja"),
    ("専利密集型製品の登録認定を推進する", "ja"),
    ("知的財産権担保融資などの金融サービスの供給を強化する", "ja"),
    ("クロスライセンスと共有のメカニズムを構築する", "ja"),
]


@pytest.fixture(scope="module")
def small() -> BM25Index:
    return BM25Index.build([analyze(t, lang) for t, lang in CLAUSES])


def _random_corpus(seed: int, n_docs: int, n_vocab: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_vocab + 1) ** 1.1
    p /= p.sum()
    lengths = rng.integers(1, 40, n_docs)
    ids = rng.choice(n_vocab, size=int(lengths.sum()), p=p)
    vocab = [f"w{i}" for i in range(n_vocab)]
    docs, pos = [], 0
    for n in lengths:
        docs.append([vocab[j] for j in ids[pos : pos + n]])
        pos += n
    return docs


def _assert_exhaustive_top(rows, scores, full: np.ndarray, k: int) -> None:
    """``rows``/``scores`` are the top ``k`` of the exhaustive scores ``full`` (zeros left out):
    the same scores, and rows that differ only among scores tied (to float32 rounding) with the last."""
    order = np.lexsort((np.arange(full.shape[0]), -full))
    want = np.array([r for r in order[:k] if full[r] > 0], dtype=np.int64)
    np.testing.assert_allclose(scores, full[want], rtol=1e-5)
    differ = set(rows.tolist()) ^ set(want.tolist())
    assert all(np.isclose(full[r], scores[-1], rtol=1e-5) for r in differ)


def test_impacts_follow_lucene_formula() -> None:
    docs = [["a", "b", "a"], ["b", "c"], ["c"]]
    index = BM25Index.build(docs, k1=1.2, b=0.5)
    n, avgdl = 3, 2.0
    rows, scores = index.search(["a"], k=3)
    idf = math.log(1 + (n - 1 + 0.5) / (1 + 0.5))
    expected = idf * 2 / (2 + 1.2 * (1 - 0.5 + 0.5 * 3 / avgdl))
    assert rows.tolist() == [0]
    assert scores[0] == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "query, lang, best",
    [
        ("专利密集型产品备案认定", "zh", {2, 5}),
        ("専利優先審査", "ja", {0, 4}),
        ("质押融资", "zh", {3, 6}),
        ("专利导航", "zh", {1}),
    ],
)
def test_cross_language_search(small: BM25Index, query: str, lang: str, best: set[int]) -> None:
    rows, scores = small.search(analyze_query(query, lang), k=len(best))
    assert set(rows.tolist()) == best
    assert np.all(np.diff(scores) <= 0)


def test_empty_and_unknown_queries(small: BM25Index) -> None:
    for q in ({}, [], ["未知词"], {"#无无": 1.0}):
        rows, scores = small.search(q)
        assert len(rows) == 0 and len(scores) == 0


def test_bad_arguments(small: BM25Index) -> None:
    with pytest.raises(QueryError):
        small.search(["专利"], k=0)
    with pytest.raises(QueryError):
        small.search("专利")  # a str, not terms
    with pytest.raises(QueryError):
        small.search(["专利"], allowed=np.ones(3, dtype=bool))
    with pytest.raises(QueryError):
        BM25Index.build([["a"]], b=1.5)


def test_filtering(small: BM25Index) -> None:
    q = analyze_query("专利优先审查", "zh")
    allowed = np.array([lang == "ja" for _, lang in CLAUSES])
    rows, _ = small.search(q, k=10, allowed=allowed)
    assert len(rows) > 0
    assert all(CLAUSES[r][1] == "ja" for r in rows)
    unfiltered, _ = small.search(q, k=10)
    assert [r for r in unfiltered.tolist() if allowed[r]] == rows.tolist()


def test_ties_broken_by_row() -> None:
    index = BM25Index.build([["x", "y"], ["z", "z"], ["x", "y"], ["x", "y"]])
    rows, scores = index.search(["x"], k=2)
    assert rows.tolist() == [0, 2]
    assert scores[0] == scores[1]


def test_save_load_round_trip(tmp_path, small: BM25Index) -> None:
    target = tmp_path / "kw"
    small.save(target)
    assert sorted(p.name for p in target.iterdir()) == [
        "doc_len.npy", "indptr.npy", "max_impact.npy", "params.json", "rows.npy", "scores.npy",
        "vocab.offsets.npy", "vocab.slots.npy", "vocab.terms.npy",
    ]
    small.save(target)  # replacing an existing index works
    for mmap in (True, False):
        loaded = BM25Index.load(target, mmap=mmap)
        assert loaded.vocab == small.vocab
        assert loaded.k1 == small.k1 and loaded.b == small.b
        for name in ("indptr", "rows", "scores", "doc_len"):
            np.testing.assert_array_equal(getattr(loaded, name), getattr(small, name))
        q = analyze_query("知识产权质押融资", "zh")
        for a, b in zip(loaded.search(q), small.search(q)):
            np.testing.assert_array_equal(a, b)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp leftovers


def test_load_errors(tmp_path, small: BM25Index) -> None:
    with pytest.raises(IndexError_):
        BM25Index.load(tmp_path / "nothing")
    target = tmp_path / "kw"
    small.save(target)
    params = json.loads((target / "params.json").read_text())
    params["format_version"] = 999
    (target / "params.json").write_text(json.dumps(params))
    with pytest.raises(IndexError_, match="rebuild"):
        BM25Index.load(target)


def test_search_many_matches_search(small: BM25Index) -> None:
    qs = [analyze_query(t, lang) for t, lang in CLAUSES]
    for (r1, s1), q in zip(small.search_many(qs, k=3), qs):
        r2, s2 = small.search(q, k=3)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(s1, s2)


@pytest.mark.parametrize("threads", [2, 3, 0])
def test_threaded_search_many_matches_search(threads: int) -> None:
    docs = _random_corpus(seed=5, n_docs=4000, n_vocab=80)
    index = BM25Index.build(docs)
    rng = np.random.default_rng(1)
    queries = [[f"w{i}" for i in rng.integers(0, 80, size=int(rng.integers(1, 8)))] for _ in range(60)]
    serial = [index.search(q, k=10) for q in queries]
    for (r1, s1), (r2, s2) in zip(serial, index.search_many(queries, k=10, threads=threads)):
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(s1, s2)


def test_score_agrees_with_search(small: BM25Index) -> None:
    q = analyze_query("専利密集型製品", "ja")
    rows, scores = small.search(q, k=8)
    np.testing.assert_allclose(small.score(q, rows), scores, rtol=1e-6)


@pytest.mark.parametrize("method", ["lucene", "robertson", "atire", "bm25l", "bm25+"])
@pytest.mark.parametrize("k1, b", [(1.5, 0.75), (1.2, 0.3)])
def test_same_top10_as_bm25s(k1: float, b: float, method: str) -> None:
    """Every scorer, chosen by name, ranks as bm25s's variant of the same name."""
    bm25s = pytest.importorskip("bm25s")
    from policyidx.retrieval.scorers import non_occurrence

    docs = _random_corpus(seed=7, n_docs=3000, n_vocab=2000)
    ours = BM25Index.build(docs, k1=k1, b=b, method=method)
    assert ours.method == method
    ref = bm25s.BM25(method=method, k1=k1, b=b)
    ref.index(docs, show_progress=False)
    df = {}
    for d in docs:
        for t in set(d):
            df[t] = df.get(t, 0) + 1
    rng = np.random.default_rng(11)
    queries = [[f"w{j}" for j in rng.integers(0, 400, rng.integers(1, 6))] for _ in range(60)]
    for i, (rows, scores) in enumerate(ours.search_many(queries, k=10)):
        full = ref.get_scores(queries[i])
        # the part of bm25s's score that is the same for every row (terms a row lacks)
        known = [t for t in queries[i] if t in df]
        const = float(non_occurrence(method, np.array([df[t] for t in known]), len(docs), k1).sum()) if known else 0.0
        # rows with a positive score of their own (robertson floors the idf of terms in
        # over half the rows at 0: such a term alone scores nothing)
        matching = full - const > 1e-6
        # Our scores plus the constant are bm25s's scores for the same rows...
        np.testing.assert_allclose(scores + const, full[rows], rtol=1e-5, atol=1e-5)
        # ...and the same top scores (ties may swap rows).
        expected = np.sort(full[matching])[::-1][: len(rows)]
        np.testing.assert_allclose(scores + const, expected, rtol=1e-5, atol=1e-5)
        assert len(rows) == min(10, int(matching.sum()))


def test_dense_path_matches_sparse_path() -> None:
    docs = _random_corpus(seed=3, n_docs=500, n_vocab=50)
    index = BM25Index.build(docs)
    q = ["w0", "w1", "w2", "w3"]  # frequent terms: the dense path is taken
    rows, scores = index.search(q, k=500)
    full = index.score(q, np.arange(500))
    expected_rows = np.lexsort((np.arange(500), -full))
    expected_rows = expected_rows[full[expected_rows] > 0]
    np.testing.assert_array_equal(rows, expected_rows)
    np.testing.assert_allclose(scores, full[expected_rows], rtol=1e-6)


def test_empty_index() -> None:
    index = BM25Index.build([[], []])
    rows, _ = index.search(["a"])
    assert len(rows) == 0 and index.n_docs == 2


@pytest.mark.parametrize("kernel", ["numba", "numba-exhaustive", "numba-rows32", "scipy", "numpy"])
@pytest.mark.parametrize("k", [1, 10, 60])
@pytest.mark.parametrize("seed", [0, 1])
def test_search_equals_exhaustive_scoring(seed, k, kernel, monkeypatch):
    """Kernels, pruning and top-k selection never change the result: compare with scoring every row."""
    from policyidx.retrieval import keyword

    if kernel.startswith("numba"):
        if keyword._kernels(wait=True) is None:
            pytest.skip("numba is not installed (the `fast` extra)")
        monkeypatch.setattr(keyword, "_PRUNE", kernel != "numba-exhaustive")
        monkeypatch.setattr(keyword, "_DENSE_PRUNE_FROM", 0)  # prune whatever the size of this index
        if kernel == "numba-rows32":  # rows read as four bytes, as on indexes of more than 65,536 rows
            monkeypatch.setattr(keyword, "_NARROW_ROWS_UP_TO", 0)
    else:
        monkeypatch.setattr(keyword, "_USE_KERNELS", False)
    if kernel == "numpy":
        monkeypatch.setattr(keyword, "KERNEL_MIN_POSTINGS", 2**62)
    elif kernel == "scipy":
        monkeypatch.setattr(keyword, "KERNEL_MIN_POSTINGS", 0)  # every list through scipy's kernel
        assert keyword._csc_matvec() is not None  # scipy's kernel is found and passes its self-check
    rng = np.random.default_rng(seed)
    vocab = [f"t{i}" for i in range(300)]
    # Zipf-like: a few terms in most documents (long, low-idf lists), many rare ones
    p = 1.0 / np.arange(1, len(vocab) + 1) ** 1.1
    p /= p.sum()
    docs = [list(rng.choice(vocab, size=int(rng.integers(5, 40)), p=p)) for _ in range(3000)]
    docs += [[] for _ in range(500)] + [["t299"] * 3 for _ in range(40)]  # empty rows and exact ties
    index = BM25Index.build(docs)
    everyone = np.arange(index.n_docs)
    pruned = 0
    for _ in range(40):
        q = {str(t): float(w) for t, w in zip(rng.choice(vocab, size=int(rng.integers(1, 12)), p=p),
                                                rng.choice([1.0, 0.4, 0.5], size=12))}
        if rng.random() < 0.2:
            q["t299"] = 1.0
        allowed = rng.random(index.n_docs) < 0.7 if rng.random() < 0.3 else None
        rows, scores = index.search(q, k=k, allowed=allowed)
        full = index.score(q, everyone)
        if allowed is not None:
            full = np.where(allowed, full, 0)
        _assert_exhaustive_top(rows, scores, full, k)
        if kernel.startswith("numba"):
            read, looked_up = index._local.work.tolist()
            total = sum(int(np.diff(index.indptr)[index.term_ids[t]]) for t in q)
            assert read <= total
            pruned += read < total
            assert not np.any(index._scratch.get()[0]), "the accumulator is left clean for the next query"
        else:
            assert not np.any(index._accumulator()), "the accumulator is left clean for the next query"
    if kernel in ("numba", "numba-rows32"):
        assert (index._rows16 is not None) == (kernel == "numba")
    if kernel in ("numba", "numba-rows32") and k <= 10:  # (with 60 results the k-th score stays within reach)
        assert pruned >= 1, "MaxScore skipped postings on some queries (the pruned path was exercised)"
    elif kernel == "numba-exhaustive":
        assert pruned == 0


@pytest.mark.parametrize("k", [1, 5])
def test_pruning_on_listed_rows_is_exact(k):
    """Queries reading few postings (the accumulator lists its rows) and pruning after the rare
    terms: same results as reading every posting."""
    from policyidx.retrieval import keyword

    if keyword._kernels(wait=True) is None:
        pytest.skip("numba is not installed (the `fast` extra)")
    rng = np.random.default_rng(7)
    n = 20_000
    docs = []
    for _ in range(n):
        doc = [f"r{x}" for x in rng.integers(0, 30_000, size=int(rng.integers(1, 6)))]
        doc += [f"m{rng.integers(0, 40)}"] * int(rng.integers(1, 3))
        docs.append(doc)
    index = BM25Index.build(docs)
    lens = np.diff(index.indptr)
    everyone = np.arange(n)
    pruned = 0
    for _ in range(60):
        q = [f"r{x}" for x in rng.integers(0, 30_000, size=2)] + [f"m{rng.integers(0, 40)}"]
        q = [t for t in dict.fromkeys(q) if t in index.term_ids]
        total = sum(int(lens[index.term_ids[t]]) for t in q)
        assert total * 8 < n  # the listed-rows mode
        rows, scores = index.search(q, k=k)
        pruned += int(index._local.work[0]) < total
        full = index.score(q, everyone)
        _assert_exhaustive_top(rows, scores, full, k)
        assert not np.any(index._scratch.get()[0])
    assert pruned >= 10


@pytest.mark.parametrize("kernel", ["numba", "numpy"])
def test_repeated_unknown_and_zero_weight_terms(kernel, monkeypatch):
    """A term listed twice weighs 2, unknown terms and weight-0 terms are ignored, and a batch
    mixing lists and dicts answers each query as :meth:`search` does alone."""
    from policyidx.retrieval import keyword

    if kernel == "numba":
        if keyword._kernels(wait=True) is None:
            pytest.skip("numba is not installed (the `fast` extra)")
    else:
        monkeypatch.setattr(keyword, "_USE_KERNELS", False)
    index = BM25Index.build(_random_corpus(3, 400, 60))
    twice = index.search(["w5", "w9", "w5", "nope"], k=20)
    weighted = index.search({"w5": 2.0, "w9": 1.0}, k=20)
    np.testing.assert_array_equal(twice[0], weighted[0])
    np.testing.assert_allclose(twice[1], weighted[1], rtol=1e-6)
    np.testing.assert_allclose(twice[1], index.score({"w5": 2.0, "w9": 1.0}, twice[0]), rtol=1e-5)
    zero = index.search({"w5": 1.0, "w9": 0.0, "nope": 3.0}, k=20)
    np.testing.assert_array_equal(zero[0], index.search(["w5"], k=20)[0])
    assert len(index.search(["nope", "nope"], k=5)[0]) == 0
    batch = [["w1", "w2"], {"w3": 0.5, "w4": 1.0}, ["w7", "w7", "x"], (t for t in ["w8"]), [], {"w1": 0.0}]
    got = index.search_many(batch, k=7, threads=1)
    alone = [["w1", "w2"], {"w3": 0.5, "w4": 1.0}, ["w7", "w7", "x"], ["w8"], [], {"w1": 0.0}]
    for (r, s), q in zip(got, alone):
        want_r, want_s = index.search(q, k=7)
        np.testing.assert_array_equal(r, want_r)
        np.testing.assert_allclose(s, want_s, rtol=1e-6)
    assert len(got[4][0]) == 0 and len(got[5][0]) == 0
    with pytest.raises(QueryError):
        index.search_many([["w1"], "w1 w2"])
    with pytest.raises(QueryError):
        index.search({"w1": "heavy"})


def test_light_kernels_import_neither_numba_nor_scipy_and_answer_the_same() -> None:
    """`policyidx search` searches within light_kernels(): long posting lists then go through
    numpy.add.at, with the same sums as scipy's kernel, and the one-shot process never
    pays for importing scipy.sparse or numba."""
    import subprocess
    import sys

    script = (
        "import sys, json, numpy as np\n"
        "from policyidx.retrieval import keyword\n"
        "light = sys.argv[1] == 'light'\n"
        "import contextlib\n"
        "rng = np.random.default_rng(5)\n"
        "docs = [['a'] + [f't{i}' for i in rng.integers(0, 50, 6)] for _ in range(6000)]\n"
        "index = keyword.BM25Index.build(docs)\n"
        "if not light: keyword._kernels(wait=True)  # numba disabled: scipy's kernel takes long lists\n"
        "with (keyword.light_kernels() if light else contextlib.nullcontext()):\n"
        "    rows, scores = index.search({'a': 1.0, 't3': 0.5, 't7': 1.0}, k=20)\n"
        "assert len(rows) == 20\n"
        "if light: assert 'scipy.sparse' not in sys.modules and 'numba' not in sys.modules\n"
        "else: assert 'scipy.sparse' in sys.modules\n"
        "print(json.dumps([rows.tolist(), scores.tolist()]))\n"
    )
    env = {**__import__("os").environ, "POLICYIDX_NO_NUMBA": "1"}
    out = {}
    for mode in ("light", "full"):
        res = subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, env=env)
        assert res.returncode == 0, res.stderr
        out[mode] = json.loads(res.stdout)
    assert out["light"] == out["full"]


def test_light_kernels_restore_the_previous_choice() -> None:
    """An in-process caller (tests, a notebook running the CLI) keeps its kernels afterwards."""
    from policyidx.retrieval import keyword

    before_use, before_kernel = keyword._USE_KERNELS, list(keyword._KERNEL)
    with keyword.light_kernels():
        assert keyword._USE_KERNELS is False and keyword._csc_matvec() is None
    assert keyword._USE_KERNELS == before_use and keyword._KERNEL == before_kernel


def test_no_scipy_kernel_while_the_compiled_kernels_load(monkeypatch) -> None:
    """The first queries of a process (compiled kernels still loading) do not import scipy
    for its scatter-add; the sums are those of numpy.add.at."""
    from policyidx.retrieval import keyword

    monkeypatch.setattr(keyword, "_USE_KERNELS", True)
    monkeypatch.setattr(keyword, "_KERNELS_STATE", {"thread": object()})  # started, not done
    monkeypatch.setattr(keyword, "_KERNEL", [])
    rng = np.random.default_rng(2)
    rows = np.sort(rng.choice(50_000, keyword.KERNEL_MIN_POSTINGS * 2, replace=False)).astype(np.int32)
    vals = rng.random(len(rows)).astype(np.float32)
    acc = np.zeros(50_000, dtype=np.float32)
    keyword._scatter_add(acc, rows, vals, 0.5)
    assert keyword._KERNEL == [], "scipy's kernel was looked up while the compiled kernels load"
    want = np.zeros(50_000, dtype=np.float32)
    np.add.at(want, rows, np.float32(0.5) * vals)
    np.testing.assert_array_equal(acc, want)
    keyword._KERNELS_STATE["done"] = True  # loaded (or failed): long lists may use scipy again
    assert not keyword._kernels_loading()


def test_loading_the_kernels_leaves_the_callers_streams_alone() -> None:
    """The kernels load on a background thread; numba must not hand ``sys.stdout`` to
    colorama there (it swaps the streams and later restores the ones it saw first, which
    undid redirect_stdout and pytest's capture at random moments)."""
    import subprocess
    import sys

    pytest.importorskip("numba")
    pytest.importorskip("colorama")
    script = (
        "import io, sys\n"
        "mine = io.StringIO(); sys.stdout = mine\n"
        "from policyidx.retrieval import keyword\n"
        "kernels = keyword._kernels(wait=True)\n"
        "import colorama.initialise as ci\n"
        "ok = sys.stdout is mine and ci.orig_stdout is None\n"
        "sys.stdout = sys.__stdout__\n"
        "print(kernels is not None, ok)\n"
    )
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("POLICYIDX_NO_NUMBA", "NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING")}
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["True", "True"], res.stdout


@pytest.mark.parametrize("prune", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_columns_of_frequent_terms_give_the_same_results_bit_for_bit(seed, prune):
    """Terms in most rows are added from columns of impacts (one vectorised pass) instead of
    by scatter-add: every query's rows and float32 scores are exactly those of the scatter-add,
    with and without pruning and masks, ties included."""
    from policyidx.retrieval import keyword

    kernels = keyword._kernels(wait=True)
    if kernels is None:
        pytest.skip("numba is not installed (the `fast` extra)")
    rng = np.random.default_rng(seed)
    vocab = [f"t{i}" for i in range(200)]
    p = 1.0 / np.arange(1, len(vocab) + 1) ** 1.1
    p /= p.sum()
    docs = [list(rng.choice(vocab, size=int(rng.integers(3, 30)), p=p)) for _ in range(2500)]
    docs += [["t0", "t1"] for _ in range(30)] + [[] for _ in range(100)]  # exact ties, empty rows
    index = BM25Index.build(docs)
    slot, matrix = kernels.dense_columns(index.indptr, index.rows, index.scores, index.n_docs)
    df = np.diff(index.indptr)
    assert len(matrix) >= 2  # the most frequent terms are in more than half of the rows
    assert np.array_equal(slot >= 0, df >= index.n_docs / 2)
    for t in np.flatnonzero(slot >= 0):  # each column holds the term's impacts, 0 elsewhere
        col = np.zeros(index.n_docs, dtype=np.float32)
        col[index.rows[index.indptr[t]:index.indptr[t + 1]]] = index.scores[index.indptr[t]:index.indptr[t + 1]]
        assert np.array_equal(matrix[slot[t]], col)
    queries = []
    for _ in range(60):
        terms = rng.choice(vocab, size=int(rng.integers(1, 10)), p=p)
        queries.append({str(t): float(rng.choice([1.0, 0.5, 0.3])) for t in terms})
    queries.append({"t0": 1.0, "t1": 1.0})
    q_ptr, ids, wts = index._flatten(queries)
    ub = index.max_impact
    for allowed in (None, rng.random(index.n_docs) < 0.6):
        for k in (1, 10, 100):
            plain = kernels.search_batch(index.indptr, index.rows, index.scores, ub, q_ptr, ids, wts, k, allowed,
                                         kernels.Scratch(index.n_docs, index.n_terms), prune=prune,
                                         dense_prune_from=0)
            cols = kernels.search_batch(index.indptr, index.rows, index.scores, ub, q_ptr, ids, wts, k, allowed,
                                        kernels.Scratch(index.n_docs, index.n_terms), prune=prune,
                                        dense_prune_from=0, columns=(slot, matrix))
            assert np.array_equal(plain[2], cols[2])  # counts
            for q, c in enumerate(plain[2].tolist()):  # (entries past the count are not set)
                assert np.array_equal(plain[0][q, :c], cols[0][q, :c])
                assert np.array_equal(plain[1][q, :c], cols[1][q, :c])


@pytest.mark.parametrize("mapped", [False, True])
@pytest.mark.parametrize("k", [1, 10, 60, 128, 200])
def test_top_k_selections_equal_a_full_sort(k, mapped):
    """The bounded selections of the kernels (lanes on small arrays, blocks on large ones, of
    the accumulator or of the gathered scores of listed rows) return the k best positive
    entries, ties to the lower row, as sorting everything does."""
    from policyidx.retrieval import keyword

    kernels = keyword._kernels(wait=True)
    if kernels is None:
        pytest.skip("numba is not installed (the `fast` extra)")
    rng = np.random.default_rng(k)
    for n in (1, 5, 127, 128, 129, 2000, kernels._LANE_REREAD_UP_TO, kernels._LANE_REREAD_UP_TO + 1, 9000,
              kernels.LANES_UP_TO, kernels.LANES_UP_TO + 1, 40_000):
        # few distinct values (many ties), zeros, and rows listed in any order when mapped
        a = rng.choice(np.float32([0, 0, 0.5, 1.25, 2, 3.5, 7]), size=n).astype(np.float32)
        a[rng.random(n) < 0.01] = np.float32(9.0)
        rowmap = rng.permutation(n).astype(np.int32) if mapped else np.zeros(0, dtype=np.int32)
        rows = rowmap if mapped else np.arange(n)
        order = np.lexsort((rows, -a))
        want = rows[order[:k]][a[order[:k]] > 0]
        for name in ("_select_lanes", "_select_blocks"):
            if name == "_select_lanes" and (n > kernels.LANES_UP_TO or k > kernels._LANES):
                continue
            hs = np.empty(k, np.float32)
            hr = np.empty(k, np.int64)
            out_r = np.empty(k, np.int64)
            out_s = np.empty(k, np.float32)
            buf = np.empty(max(kernels._LANES, n // kernels._BLOCK + 1), np.float32)
            if name == "_select_lanes":  # (lane maxima, and the block maxima of the same pass)
                size = kernels._select_lanes(a, n, mapped, rowmap, hs, hr, k, np.empty(kernels._LANES, np.float32),
                                             buf)
            else:
                size = kernels._select_blocks(a, n, mapped, rowmap, hs, hr, k, buf)
            got = kernels._drain(hs, hr, size, out_r, out_s)
            np.testing.assert_array_equal(out_r[:got], want, err_msg=f"{name} n={n}")
            idx = (rowmap.argsort() if mapped else np.arange(n))[out_r[:got]]
            np.testing.assert_array_equal(out_s[:got], a[idx])


@pytest.mark.parametrize("n_docs", [1_500, 8_000, 20_000])
def test_small_and_large_accumulators_rank_exactly(n_docs):
    """Queries whose rows are listed (many of them: their scores are gathered) and queries
    scanning the whole accumulator, on an index small enough for the lane bound and on one
    large enough for the block bound: the same top k as scoring every row."""
    from policyidx.retrieval import keyword

    if keyword._kernels(wait=True) is None:
        pytest.skip("numba is not installed (the `fast` extra)")
    rng = np.random.default_rng(n_docs)
    vocab = [f"t{i}" for i in range(400)]
    p = 1.0 / np.arange(1, len(vocab) + 1) ** 0.9
    p /= p.sum()
    docs = [list(rng.choice(vocab, size=int(rng.integers(3, 30)), p=p)) for _ in range(n_docs)]
    docs[5:45] = [["t399", "t398"]] * 40  # exact ties
    index = BM25Index.build(docs)
    everyone = np.arange(index.n_docs)
    lens = np.diff(index.indptr)
    modes = set()
    queries = [list(dict.fromkeys(rng.choice(vocab, size=int(rng.integers(1, 25)), p=p))) for _ in range(40)]
    queries += [["t399", "t398", "t3"], ["t399"], ["t0", "t1", "t399"]]
    for k in (1, 10, 100):
        got = index.search_many(queries, k=k, threads=1)
        for q, (rows, scores) in zip(queries, got):
            modes.add(sum(int(lens[index.term_ids[t]]) for t in q if t in index.term_ids) >= n_docs)
            full = index.score(q, everyone)
            _assert_exhaustive_top(rows, scores, full, k)
    assert modes == {False, True}, "both accumulator modes were exercised"
    assert not np.any(index._scratch.get()[0])


def test_batches_of_lists_are_flattened_like_mixed_batches():
    """A batch of lists and tuples only (flattened in one pass) answers as query-by-query."""
    from policyidx.retrieval import keyword

    index = BM25Index.build(_random_corpus(5, 300, 50))
    batch = [["w1", "w2"], ("w3", "w3", "zz"), [], ["zz"], ["w4", "w1", "w4", "w9"]]
    ptr, ids, wts = index._flatten(batch)
    assert ptr.tolist() == [0, 2, 5, 5, 6, 10]
    assert ids.tolist() == [index.term_ids[t] if t in index.term_ids else -1 for q in batch for t in q]
    assert wts.tolist() == [1.0] * 10
    for threads in (1, 2):
        got = index.search_many(batch, k=6, threads=threads)
        for q, (r, s) in zip(batch, got):
            want_r, want_s = index.search(list(q), k=6)
            np.testing.assert_array_equal(r, want_r)
            np.testing.assert_allclose(s, want_s, rtol=1e-6)
    if keyword._kernels(wait=True) is not None:
        assert len(got[2][0]) == 0 and len(got[3][0]) == 0


def _compiled_kernels():  # type: ignore[no-untyped-def]
    from policyidx.retrieval import keyword

    kernels = keyword._kernels(wait=True)
    if kernels is None:
        pytest.skip("numba kernels not available")
    return kernels


def test_term_hash_finds_terms_through_probe_chains_and_marks_shared_hashes() -> None:
    """The compiled hash table: every inserted hash gives its position, hashes sharing the
    low bits (one probe chain) are told apart, absent hashes give -1, a hash inserted
    twice gives -2."""
    kernels = _compiled_kernels()
    table = np.full((16, 2), -1, dtype=np.int64)
    # all of these land on slot 3 of a 16-slot table; 35 + 7 * 16 appears twice
    hashes = np.array([3, 3 + 16, 3 + 32 * 16, -13, 35 + 7 * 16, 35 + 7 * 16, 4], dtype=np.int64)
    kernels._hash_insert(hashes, table)
    probe = np.array([3, 3 + 16, 3 + 32 * 16, -13, 35 + 7 * 16, 4, 3 + 48, 19 + 16, 5, -29], dtype=np.int64)
    out = np.empty(len(probe), dtype=np.int64)
    kernels._hash_find(table, probe, out)
    assert out.tolist() == [0, 1, 2, 3, -2, 6, -1, -1, -1, -1]


def test_term_hash_resolves_every_term_and_only_those() -> None:
    kernels = _compiled_kernels()
    terms = [f"w{i}" for i in range(5000)] + ["专利", "専利", ""]
    th = kernels.TermHash(terms)
    assert th.valid(len(terms)) and not th.valid(len(terms) + 1)
    assert len(th.table) >= 2 * len(terms)  # at most half full
    got = th.find(np.array([hash(t) for t in terms], dtype=np.int64))
    assert got.tolist() == list(range(len(terms)))
    absent = [f"x{i}" for i in range(5000)] + ["w5000", "专"]
    assert (th.find(np.array([hash(t) for t in absent], dtype=np.int64)) == -1).all()
    th._seed += 1  # as a copy made in a process with another hash seed
    assert not th.valid(len(terms))


class _SameHash(str):
    """A string whose hash is shared by all its kind (to force hash collisions)."""

    def __hash__(self) -> int:
        return 12345


def test_batches_resolved_by_hash_answer_as_by_dictionary() -> None:
    """A long batch resolves its terms by hash (TermHash) and answers exactly as query-by-query
    search, which looks them up by string: lists, tuples, dicts with weights, repeated and
    unknown terms; also with vocabulary terms sharing a hash (resolved by string)."""
    from policyidx.retrieval import keyword

    _compiled_kernels()
    docs = _random_corpus(11, 600, 400)
    clash = [_SameHash("c1"), _SameHash("c2"), _SameHash("c3")]
    docs += [[clash[i % 3], "w1", clash[(i + 1) % 3]] for i in range(40)]
    index = BM25Index.build(docs)
    assert index._hash is None
    rng = np.random.default_rng(3)
    batch: list = []
    for i in range(keyword._DICT_FROM + 20):
        terms = [f"w{j}" for j in rng.integers(0, 450, int(rng.integers(1, 8)))]  # w400.. unknown
        if i % 5 == 1:
            terms.append(clash[i % 3])
        if i % 5 == 2:
            terms.append(_SameHash("c9"))  # unknown, shares the hash
        if i % 4 == 0:
            batch.append({t: float(w) for t, w in zip(terms, rng.choice([0.5, 1.0, 2.0], len(terms)))})
        else:
            batch.append(tuple(terms) if i % 4 == 1 else terms)
    for threads in (1, 2):
        got = index.search_many(batch, k=7, threads=threads)
        hashed = index._hash
        assert hashed is not None and hashed.ambiguous
        for q, (r, s) in zip(batch, got):
            index._hash = None  # search() by string
            want_r, want_s = index.search(q if isinstance(q, dict) else list(q), k=7)
            index._hash = hashed
            np.testing.assert_array_equal(r, want_r)
            np.testing.assert_array_equal(s, want_s)
    # the flattened ids are the dictionary's
    lists = [list(q) for q in batch if not isinstance(q, dict)]
    _, by_hash, _ = index._flatten(lists, index._hash)
    _, by_dict, _ = index._flatten(lists, None)
    assert by_hash.tolist() == by_dict.tolist()
    assert (by_dict == -1).any() and {index.term_ids[c] for c in clash} <= set(by_dict.tolist())


@pytest.mark.parametrize("prune", [True, False])
def test_rows_read_as_uint16_give_the_same_results_bit_for_bit(prune):
    """An index of at most 65,536 rows is searched through a uint16 copy of its rows: the same
    rows and float32 scores as through the int32 rows, with and without pruning, masks, every
    accumulator mode; rows up to 65,535 survive the narrowing."""
    kernels = _compiled_kernels()
    rng = np.random.default_rng(7)
    docs = _random_corpus(7, 65_536, 3000)
    docs[-1] = ["w2999", "w1"]  # the last row (65,535) matches
    index = BM25Index.build(docs)
    rows16 = index.rows.astype(np.uint16)
    assert int(rows16.max()) == 65_535
    queries = [[f"w{j}" for j in rng.integers(0, 3000, int(rng.integers(1, 12)))] for _ in range(50)]
    queries += [["w2999"], ["w0", "w1", "w2"], ["w2999", "w2998", "w1500"]]
    q_ptr, ids, wts = index._flatten(queries)
    for allowed in (None, rng.random(index.n_docs) < 0.5):
        for k in (1, 10, 70):
            a = kernels.search_batch(index.indptr, index.rows, index.scores, index.max_impact, q_ptr, ids, wts, k,
                                     allowed, kernels.Scratch(index.n_docs, index.n_terms), prune=prune)
            b = kernels.search_batch(index.indptr, rows16, index.scores, index.max_impact, q_ptr, ids, wts, k,
                                     allowed, kernels.Scratch(index.n_docs, index.n_terms), prune=prune)
            assert np.array_equal(a[2], b[2]) and np.array_equal(a[3], b[3])
            for q, c in enumerate(a[2].tolist()):
                assert np.array_equal(a[0][q, :c], b[0][q, :c]) and np.array_equal(a[1][q, :c], b[1][q, :c])
    got = index.search_many([["w2999"]], k=3)[0][0]
    assert 65_535 in got.tolist() and index._rows16 is not None


def test_split_batch_cuts_at_query_boundaries_into_parts_of_about_equal_work(monkeypatch) -> None:
    """:func:`split_batch`: strictly ascending bounds from 0 to the number of queries, at most
    ``threads`` parts, one part per ``POSTINGS_PER_THREAD`` of work, each part's work within
    one query's work of an equal share."""
    kernels = _compiled_kernels()
    index = BM25Index.build(_random_corpus(11, 3000, 200))
    rng = np.random.default_rng(4)
    batch = [[f"w{j}" for j in rng.integers(0, 260, int(rng.integers(0, 12)))] for _ in range(150)]
    q_ptr, ids, _ = index._flatten(batch)
    lens = np.diff(index.indptr)
    per_query = np.array([kernels.QUERY_WORK + sum(kernels.TERM_WORK + (int(lens[t]) if t >= 0 else 0)
                                                   for t in ids[a:b].tolist())
                          for a, b in zip(q_ptr[:-1].tolist(), q_ptr[1:].tolist())])
    total = int(per_query.sum())
    for name in ("POSTINGS_PER_THREAD", "NUMBA_POSTINGS_PER_THREAD"):
        monkeypatch.setattr(kernels, name, total // 3)
    for threads in (1, 2, 3, 5):
        bounds = kernels.split_batch(index.indptr, q_ptr, ids, threads)
        assert bounds[0] == 0 and bounds[-1] == len(batch) and np.all(np.diff(bounds) > 0)
        assert len(bounds) - 1 == min(threads, 3)
        share = total / (len(bounds) - 1)
        for a, b in pairwise(bounds.tolist()):
            assert abs(per_query[a:b].sum() - share) <= per_query.max() * (len(bounds) - 1)
    for name in ("POSTINGS_PER_THREAD", "NUMBA_POSTINGS_PER_THREAD"):
        monkeypatch.setattr(kernels, name, total + 1)
    assert kernels.split_batch(index.indptr, q_ptr, ids, 4).tolist() == [0, len(batch)]


@pytest.mark.parametrize("numba_threads", [True, False])
def test_split_batches_answer_as_one_thread_and_as_exhaustive_scoring(monkeypatch, numba_threads: bool) -> None:
    """A batch really split over threads (numba's threads, or the thread pool) gives the
    rows and scores of one thread, and the top k of exhaustive scoring (every posting, the
    numpy path), with a mask too."""
    from policyidx.retrieval import keyword

    kernels = _compiled_kernels()
    index = BM25Index.build(_random_corpus(12, 2500, 300))
    rng = np.random.default_rng(6)
    batch: list = [[f"w{j}" for j in rng.integers(0, 330, int(rng.integers(1, 10)))] for _ in range(90)]
    batch[7] = {"w1": 2.0, "w5": 0.5, "w320": 1.0}
    allowed = rng.random(index.n_docs) < 0.7
    serial = [index.search_many(batch, k=10, threads=1, allowed=m) for m in (None, allowed)]
    monkeypatch.setattr(kernels, "POSTINGS_PER_THREAD", 1)
    monkeypatch.setattr(kernels, "NUMBA_POSTINGS_PER_THREAD", 1)
    monkeypatch.setattr(kernels, "USE_NUMBA_THREADS", numba_threads)
    calls = []
    real_parts, real_batch = kernels._batch_parts, kernels._batch

    def parts(*a):  # type: ignore[no-untyped-def]
        calls.append(("numba", a[17].tolist()))
        return real_parts(*a)

    def single(*a):  # type: ignore[no-untyped-def]
        calls.append(("pool", a[17], a[18]))
        return real_batch(*a)

    monkeypatch.setattr(kernels, "_batch_parts", parts)
    monkeypatch.setattr(kernels, "_batch", single)
    for m, want in zip((None, allowed), serial):
        calls.clear()
        got = index.search_many(batch, k=10, threads=3, allowed=m)
        if numba_threads and kernels._parallel_ok():
            assert len(calls) == 1 and calls[0][0] == "numba" and len(calls[0][1]) == 4
        else:
            spans = sorted(c[1:] for c in calls)
            assert all(c[0] == "pool" for c in calls) and len(spans) == 3
            assert spans[0][0] == 0 and spans[-1][1] == len(batch)
            assert all(a[1] == b[0] for a, b in pairwise(spans))
        for (r1, s1), (r2, s2) in zip(want, got):
            np.testing.assert_array_equal(r1, r2)
            np.testing.assert_array_equal(s1, s2)
    monkeypatch.setattr(keyword, "_USE_KERNELS", False)
    for q, (r, s) in zip(batch, got):
        er, es = index.search(q, k=10, allowed=allowed)
        np.testing.assert_allclose(s, es, rtol=1e-5)
        # the same rows, but for ties at the last score
        assert set(r[s > es[-1] * (1 + 1e-5)].tolist()) == set(er[es > es[-1] * (1 + 1e-5)].tolist())


def test_contains_tells_which_rows_hold_a_term() -> None:
    idx = BM25Index.build([["a", "b"], ["b"], [], ["a", "a", "c"]])
    assert idx.contains("a", np.array([0, 1, 2, 3])).tolist() == [True, False, False, True]
    assert idx.contains("c", np.array([3, 0])).tolist() == [True, False]
    assert idx.contains("zzz", np.array([0, 1])).tolist() == [False, False]
    assert idx.contains("b", np.array([], dtype=np.int64)).tolist() == []
    # score() reads the same postings: a row scores for a term exactly where it holds it
    rows = np.arange(4)
    for t in ("a", "b", "c"):
        assert ((idx.score([t], rows) > 0) == idx.contains(t, rows)).all()
