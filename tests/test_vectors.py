"""Tests of policyidx.retrieval.vectors.VectorStore: exact and HNSW search, filtering, persistence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from policyidx.errors import IndexError_, QueryError
from policyidx.retrieval.vectors import VectorStore


def unit_rows(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_force(vectors: np.ndarray, queries: np.ndarray, k: int, rows: np.ndarray | None = None) -> np.ndarray:
    rows = np.arange(len(vectors)) if rows is None else rows
    sims = queries @ vectors[rows].T
    order = np.lexsort((np.broadcast_to(rows, sims.shape), -sims), axis=1)[:, :k]
    return rows[order]


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return unit_rows(2000, 32, seed=0), unit_rows(50, 32, seed=1)


@pytest.fixture(scope="module")
def hnsw(data: tuple[np.ndarray, np.ndarray]) -> VectorStore:
    # exact_max below the row count makes the store approximate.
    return VectorStore(data[0], exact_max=500, hnsw_m=16, ef_construction=80, ef_search=64)


@pytest.mark.parametrize("k", [1, 10, 100])
def test_flat_search_is_exact(data: tuple[np.ndarray, np.ndarray], k: int) -> None:
    vectors, queries = data
    store = VectorStore(vectors)
    assert not store.approximate and store.index_name == "faiss-flatip.index"
    rows, scores = store.search(queries, k)
    assert rows.shape == scores.shape == (len(queries), k)
    assert rows.dtype == np.int64 and scores.dtype == np.float32
    np.testing.assert_array_equal(rows, brute_force(vectors, queries, k))
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ vectors.T, rows, axis=1), atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all()  # best first


def test_hnsw_recall_against_exact(data: tuple[np.ndarray, np.ndarray], hnsw: VectorStore) -> None:
    vectors, queries = data
    assert hnsw.approximate and hnsw.index_name == "faiss-hnsw16-efc80.index"
    exact = brute_force(vectors, queries, 10)
    rows, scores = hnsw.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(rows, exact)])
    assert recall >= 0.95
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ vectors.T, rows, axis=1), atol=1e-5)


@pytest.mark.parametrize("approximate", [False, True])
@pytest.mark.parametrize("subset_exact_max", [0, 10_000])  # 0: through FAISS with an ID selector
def test_filtered_search(
    data: tuple[np.ndarray, np.ndarray], hnsw: VectorStore, approximate: bool, subset_exact_max: int
) -> None:
    vectors, queries = data
    store = hnsw if approximate else VectorStore(vectors)
    old = store.subset_exact_max
    store.subset_exact_max = subset_exact_max
    try:
        allowed = np.zeros(len(vectors), dtype=bool)
        allowed[np.random.default_rng(2).choice(len(vectors), 700, replace=False)] = True
        rows, scores = store.search(queries, 10, allowed=allowed)
    finally:
        store.subset_exact_max = old
    assert (rows >= 0).all() and allowed[rows].all()
    exact = brute_force(vectors, queries, 10, np.flatnonzero(allowed))
    if approximate and subset_exact_max == 0:
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(rows, exact)])
        assert recall >= 0.95
    else:
        np.testing.assert_array_equal(rows, exact)


@pytest.mark.parametrize("subset_exact_max", [0, 10_000])
def test_filter_smaller_than_k_pads(data: tuple[np.ndarray, np.ndarray], subset_exact_max: int) -> None:
    vectors, queries = data
    store = VectorStore(vectors, subset_exact_max=subset_exact_max)
    allowed = np.zeros(len(vectors), dtype=bool)
    allowed[[3, 500, 1999]] = True
    rows, scores = store.search(queries[:4], 5, allowed=allowed)
    assert (np.sort(rows[:, :3], axis=1) == [3, 500, 1999]).all()
    assert (rows[:, 3:] == -1).all() and np.isneginf(scores[:, 3:]).all()
    rows, scores = store.search(queries[:4], 5, allowed=np.zeros(len(vectors), dtype=bool))
    assert (rows == -1).all() and np.isneginf(scores).all()


def test_k_larger_than_store_pads() -> None:
    store = VectorStore(unit_rows(3, 8, seed=4))
    rows, scores = store.search(unit_rows(2, 8, seed=5), 5)
    assert sorted(rows[0, :3]) == [0, 1, 2] and (rows[:, 3:] == -1).all()
    assert np.isneginf(scores[:, 3:]).all()
    empty = VectorStore(np.zeros((0, 8), np.float32))
    rows, _ = empty.search(unit_rows(1, 8, seed=6), 3)
    assert (rows == -1).all()


@pytest.mark.parametrize("approximate", [False, True])
def test_save_load_round_trip(data: tuple[np.ndarray, np.ndarray], tmp_path: Path, approximate: bool) -> None:
    vectors, queries = data
    store = VectorStore(vectors, exact_max=500 if approximate else 200_000, hnsw_m=16, ef_construction=80)
    before = store.search(queries, 10)
    store.save(tmp_path / "vec")
    names = sorted(p.name for p in (tmp_path / "vec").iterdir())
    assert names == sorted(["vectors.npy", "vectors.json", store.index_name])
    assert [p.name for p in tmp_path.iterdir()] == ["vec"]  # no temporary leftovers

    loaded = VectorStore.load(tmp_path / "vec")
    assert isinstance(np.load(tmp_path / "vec" / "vectors.npy", mmap_mode="r"), np.memmap)
    # an approximate store reads its FAISS cache on opening; a small exact one is searched
    # in numpy and reads the cache only when asked for the FAISS index
    assert (loaded._index is not None) == approximate
    assert loaded.index() is not None and loaded._index is not None
    mtime = (tmp_path / "vec" / store.index_name).stat().st_mtime_ns
    assert loaded.settings() == store.settings()
    np.testing.assert_array_equal(loaded.vectors, vectors)
    after = loaded.search(queries, 10)
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_allclose(after[1], before[1], atol=1e-6)
    assert (tmp_path / "vec" / store.index_name).stat().st_mtime_ns == mtime  # read, not rebuilt

    in_ram = VectorStore.load(tmp_path / "vec", mmap=False, ef_search=200)
    assert in_ram.ef_search == 200
    np.testing.assert_array_equal(in_ram.search(queries, 10)[0][:, 0], before[0][:, 0])


def test_missing_or_corrupt_cache_is_rebuilt(data: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    vectors, queries = data
    store = VectorStore(vectors, subset_exact_max=0)  # searched through FAISS, not numpy
    expected = store.search(queries, 5)[0]
    store.save(tmp_path / "vec", with_index=False)
    cache = tmp_path / "vec" / store.index_name
    assert not cache.exists()
    np.testing.assert_array_equal(VectorStore.load(tmp_path / "vec").search(queries, 5)[0], expected)
    assert not cache.exists()  # a reader keeps the rebuilt index in memory
    np.testing.assert_array_equal(VectorStore.load(tmp_path / "vec", write_cache=True).search(queries, 5)[0],
                                  expected)
    assert cache.exists()  # written back after the rebuild, when asked to

    cache.write_bytes(b"not a faiss index")
    reopened = VectorStore.load(tmp_path / "vec", write_cache=True)
    assert reopened._index is None
    np.testing.assert_array_equal(reopened.search(queries, 5)[0], expected)
    assert cache.stat().st_size > 1000

    # A cache of another size (stale) is not trusted either.
    VectorStore(vectors[:100], subset_exact_max=0).save(tmp_path / "small")
    (tmp_path / "small" / store.index_name).replace(cache)
    stale = VectorStore.load(tmp_path / "vec")
    assert stale._index is None
    np.testing.assert_array_equal(stale.search(queries, 5)[0], expected)


def test_search_argument_errors(data: tuple[np.ndarray, np.ndarray]) -> None:
    vectors, queries = data
    store = VectorStore(vectors)
    with pytest.raises(QueryError, match=r"\(n, 32\)"):
        store.search(np.zeros((2, 16), np.float32), 3)
    with pytest.raises(QueryError, match="positive integer"):
        store.search(queries, 0)
    with pytest.raises(QueryError, match="boolean mask"):
        store.search(queries, 3, allowed=np.ones(10, dtype=bool))
    with pytest.raises(QueryError, match="boolean mask"):
        store.search(queries, 3, allowed=np.ones(len(vectors), dtype=np.int8))
    rows, _ = store.search(queries[0], 3)  # one vector is one query
    assert rows.shape == (1, 3)


def test_construction_and_load_errors(tmp_path: Path) -> None:
    with pytest.raises(IndexError_, match="2-D"):
        VectorStore(np.zeros(5, np.float32))
    with pytest.raises(IndexError_, match="cannot open the vector store"):
        VectorStore.load(tmp_path / "missing")
    VectorStore(unit_rows(10, 4, seed=7)).save(tmp_path / "vec")
    meta = json.loads((tmp_path / "vec" / "vectors.json").read_text())
    meta["count"] = 11
    (tmp_path / "vec" / "vectors.json").write_text(json.dumps(meta))
    with pytest.raises(IndexError_, match="rebuild the index"):
        VectorStore.load(tmp_path / "vec")
    VectorStore(unit_rows(10, 4, seed=7)).save(tmp_path / "ok")
    with pytest.raises(IndexError_, match="unknown vector store settings"):
        VectorStore.load(tmp_path / "ok", hnsw_mm=8)


def test_store_over_builtin_encoder_finds_translation() -> None:
    """End to end on real text: a Chinese query retrieves the Japanese clause it matches."""
    from policyidx.retrieval.encoders import BuiltinEncoder

    ja = [
        "専利開放許諾のモデルケース事業を深く推進する。",
        "商標ブランドのガイダンスステーションの基準管理と能力構築を強化する。",
        "知的財産権担保融資が園區に参入し、企業に利益をもたらす。",
        "知的財産権の海外権利保護・相互扶助メカニズムの確立と整備を推進する。",
    ]
    zh = ["深入推进专利开放许可试点工作", "加强商标品牌指导站规范管理和能力建设", "加大企业海外知识产权维权援助力度"]
    enc = BuiltinEncoder().fit(ja + zh, dim=16)
    store = VectorStore(enc.encode(ja))
    rows, _ = store.search(enc.encode(zh, kind="query"), 1)
    assert rows[:, 0].tolist() == [0, 1, 3]


def _search_imports_faiss(store_dir: Path, queries: np.ndarray, tmp_path: Path) -> bool:
    """Whether a fresh process that opens the store in ``store_dir`` and searches it imports faiss."""
    import subprocess
    import sys

    np.save(tmp_path / "q.npy", queries)
    code = ("import sys, numpy as np; from policyidx.retrieval.vectors import VectorStore; "
            f"s = VectorStore.load({str(store_dir)!r}); r, _ = s.search(np.load({str(tmp_path / 'q.npy')!r}), 5); "
            "print(r[0].tolist(), 'faiss' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return out[-1] == "True"


def test_small_exact_store_answers_like_faiss_without_importing_it(data: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    """A store small enough to be exact is searched in numpy: the same rows as FAISS'
    flat inner-product index, and a fresh process that searches it never imports faiss."""
    vectors, queries = data
    numpy_store = VectorStore(vectors)
    faiss_store = VectorStore(vectors, subset_exact_max=0)
    a, b = numpy_store.search(queries, 10), faiss_store.search(queries, 10)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1], atol=1e-5)
    numpy_store.save(tmp_path / "vec")
    assert not _search_imports_faiss(tmp_path / "vec", queries[:3], tmp_path)


def test_inverted_file_is_searched_in_numpy_like_faiss(data: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    """A saved inverted file keeps its cells as arrays; the store opened with them probes the
    same cells and returns the same rows and scores as FAISS' IndexIVFFlat, filtered or not,
    and a fresh process searching it never imports faiss."""
    vectors, queries = data
    store = VectorStore(vectors, exact_max=500, ann="ivf", nprobe=6, subset_exact_max=100)
    store.save(tmp_path / "vec")
    assert sorted(p.name for p in (tmp_path / "vec").iterdir()) == sorted(
        ["vectors.npy", "vectors.json", store.index_name, store.cells_name])
    with np.load(tmp_path / "vec" / store.cells_name, allow_pickle=False) as cells:
        assert sorted(cells["rows"].tolist()) == list(range(len(vectors)))  # every row in one cell

    numpy_store = VectorStore.load(tmp_path / "vec")
    assert numpy_store._cells is not None and numpy_store._index is None
    (tmp_path / "vec" / store.cells_name).unlink()
    faiss_store = VectorStore.load(tmp_path / "vec")
    assert faiss_store._cells is None and faiss_store._index is not None

    rng = np.random.default_rng(3)
    mask = rng.random(len(vectors)) < 0.3
    for allowed in (None, mask):
        a = numpy_store.search(queries, 10, allowed)
        b = faiss_store.search(queries, 10, allowed)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_allclose(a[1], b[1], atol=1e-5)
    # approximate: some queries miss an exact neighbour, as the FAISS index does
    exact = brute_force(vectors, queries, 10)
    found = numpy_store.search(queries, 10)[0]
    assert 0.5 < np.mean([len(set(r) & set(e)) / 10 for r, e in zip(found, exact)]) < 1.0
    filtered = numpy_store.search(queries, 10, mask)[0]
    assert (filtered >= 0).any() and mask[filtered[filtered >= 0]].all()

    store.save(tmp_path / "vec2")
    assert not _search_imports_faiss(tmp_path / "vec2", queries[:3], tmp_path)


def test_inconsistent_cells_fall_back_to_faiss(data: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    """Cells that do not match the store (another store's, or unreadable) are not trusted."""
    vectors, queries = data
    store = VectorStore(vectors, exact_max=500, ann="ivf", nprobe=6)
    expected = store.search(queries, 5)[0]
    store.save(tmp_path / "vec")
    cells = tmp_path / "vec" / store.cells_name
    with np.load(cells, allow_pickle=False) as saved:
        arrays = {name: saved[name] for name in ("centroids", "offsets", "rows")}
    for broken in (
        {**arrays, "rows": arrays["rows"][:-1]},
        {**arrays, "offsets": arrays["offsets"][::-1]},
        {**arrays, "centroids": arrays["centroids"][:, :8]},
        {**arrays, "rows": arrays["rows"].astype(np.float64)},
        {"centroids": arrays["centroids"]},
    ):
        np.savez(cells, **broken)
        reopened = VectorStore.load(tmp_path / "vec")
        assert reopened._cells is None
        np.testing.assert_array_equal(reopened.search(queries, 5)[0], expected)
    cells.write_bytes(b"not an npz file")
    assert VectorStore.load(tmp_path / "vec")._cells is None
