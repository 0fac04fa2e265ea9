"""A store of dense vectors with exact or approximate inner-product search.

The raw ``float32`` matrix is the source of truth: it is saved as ``vectors.npy`` and
memory-mapped on load.  The FAISS index is a cache derived from it, stored under a file name
that spells its settings (``faiss-flatip.index``, ``faiss-hnsw32-efc200.index``) and rebuilt
whenever it is missing, unreadable or built with other settings.

Small stores (up to ``exact_max`` rows, 200,000 by default) are searched exactly with
``IndexFlatIP``; larger ones approximately, with an HNSW graph (``ann="hnsw"``, the default;
``ef_search`` trades speed for recall) or an inverted file of k-means cells (``ann="ivf"``,
``IndexIVFFlat``; ``nprobe`` trades speed for recall).  On a 2-core machine the inverted file
builds a million 256-d vectors in a few minutes where HNSW takes much longer, at equal recall.
Searches restricted to a subset of rows (``allowed``) are exact over the subset when it is
small, and go through FAISS with an ID selector otherwise.

Beside an inverted file the store saves its cells as plain arrays (``ivf{nlist}-cells.npz``:
the k-means centroids, and the rows of each cell as FAISS filed them).  A store opened with
them answers in numpy, probing the same cells and scoring the same vectors as
``IndexIVFFlat`` would, so a fresh process never imports FAISS (0.05-0.08 s of a first
search) to search an inverted file; HNSW graphs are searched by FAISS.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_directory
from ..errors import IndexError_, QueryError
from ..parallel import default_workers

__all__ = ["VectorStore"]

_FORMAT = 1
_META = "vectors.json"
_VECTORS = "vectors.npy"
_ANN_KINDS = ("hnsw", "ivf")
# Settings added after the first stores were written: accepted as overrides even when an
# older vectors.json does not list them.
_NEWER_SETTINGS = ("ann", "ivf_nlist", "nprobe")
_CELL_ARRAYS = ("centroids", "offsets", "rows")


def _faiss() -> Any:
    import faiss

    return faiss


class VectorStore:
    """Dense vectors, one row per item, searched by inner product (cosine on unit rows).

    Parameters
    ----------
    vectors : numpy.ndarray
        ``(n, dim)`` array; converted to C-contiguous ``float32``.  Rows should be
        L2-normalised (as every :mod:`policyidx.encoders` encoder returns them) for scores
        to be cosines.
    exact_max : int
        Up to this many rows the index is exact (``IndexFlatIP``); above it, HNSW.
    hnsw_m : int
        Neighbours per node of the HNSW graph (more: better recall, more memory).
    ef_construction : int
        Breadth of the graph search while building HNSW (more: better graph, slower build).
    ef_search : int
        Breadth of the HNSW search at query time (raised to ``k`` when smaller); the default
        keeps recall@10 above 0.95 of exact search on encoder outputs.
    ann : {"hnsw", "ivf"}
        The approximate index used above ``exact_max`` rows.
    ivf_nlist : int
        Number of k-means cells of the inverted file; 0 picks about ``4 * sqrt(n)``.
    nprobe : int
        Cells visited per query by the inverted file (more: better recall, slower).
    subset_exact_max : int
        A filtered search whose ``allowed`` mask selects at most this many rows is done
        exactly with numpy over those rows instead of through FAISS.
    threads : int or None
        OpenMP threads for FAISS (default: the CPUs available to the process).

    Raises
    ------
    IndexError_
        If ``vectors`` is not a 2-D numeric array.
    """

    def __init__(
        self,
        vectors: np.ndarray,
        *,
        exact_max: int = 200_000,
        hnsw_m: int = 32,
        ef_construction: int = 200,
        ef_search: int = 128,
        subset_exact_max: int = 50_000,
        ann: str = "hnsw",
        ivf_nlist: int = 0,
        nprobe: int = 32,
        threads: int | None = None,
    ) -> None:
        arr = np.asarray(vectors)
        if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.number):
            raise IndexError_(
                f"a vector store needs a 2-D numeric array (rows x dim); got shape {arr.shape} "
                f"of dtype {arr.dtype}"
            )
        if arr.dtype != np.float32 or not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr, dtype=np.float32)
        self._vectors = arr
        self.exact_max = int(exact_max)
        self.hnsw_m = int(hnsw_m)
        self.ef_construction = int(ef_construction)
        self.ef_search = int(ef_search)
        self.subset_exact_max = int(subset_exact_max)
        if ann not in _ANN_KINDS:
            raise IndexError_(f"ann must be one of {', '.join(_ANN_KINDS)}; got {ann!r}")
        if int(ivf_nlist) < 0 or int(nprobe) < 1:
            raise IndexError_(f"ivf_nlist must be >= 0 and nprobe >= 1; got {ivf_nlist} and {nprobe}")
        self.ann = str(ann)
        self.ivf_nlist = int(ivf_nlist)
        self.nprobe = int(nprobe)
        self.threads = int(threads) if threads else default_workers()
        self._index: Any = None
        # (centroids, offsets, rows) of the inverted file's cells, searched in numpy
        self._cells: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._cache_dir: Path | None = None  # where the FAISS cache is read (and written back, if asked)
        self._write_cache = False

    # ----------------------------------------------------------------- properties

    @property
    def vectors(self) -> np.ndarray:
        """The raw ``(n, dim)`` float32 matrix (read-only when memory-mapped)."""
        return self._vectors

    @property
    def dim(self) -> int:
        """Width of the vectors."""
        return int(self._vectors.shape[1])

    def __len__(self) -> int:
        return int(self._vectors.shape[0])

    @property
    def approximate(self) -> bool:
        """Whether the FAISS index is approximate (HNSW or IVF) rather than exact."""
        return len(self) > self.exact_max

    @property
    def nlist(self) -> int:
        """Number of inverted-file cells (the setting, or the automatic choice)."""
        if self.ivf_nlist:
            return self.ivf_nlist
        # About 4 sqrt(n) cells, at least 1, and at least 39 training points per cell
        # (below that FAISS' k-means warns and the cells are poor).
        return int(max(1, min(4 * round(np.sqrt(max(len(self), 1))), len(self) // 39)))

    @property
    def index_name(self) -> str:
        """File name of the FAISS cache, spelling its settings."""
        if self.approximate:
            if self.ann == "ivf":
                return f"faiss-ivf{self.nlist}.index"
            return f"faiss-hnsw{self.hnsw_m}-efc{self.ef_construction}.index"
        return "faiss-flatip.index"

    @property
    def cells_name(self) -> str:
        """File name of the inverted file's cells saved as arrays (IVF stores only)."""
        return f"ivf{self.nlist}-cells.npz"

    def settings(self) -> dict[str, Any]:
        """The search settings, as saved in ``vectors.json``."""
        return {
            "exact_max": self.exact_max,
            "hnsw_m": self.hnsw_m,
            "ef_construction": self.ef_construction,
            "ef_search": self.ef_search,
            "subset_exact_max": self.subset_exact_max,
            "ann": self.ann,
            "ivf_nlist": self.ivf_nlist,
            "nprobe": self.nprobe,
        }

    # ----------------------------------------------------------------- FAISS index

    def _build_index(self) -> Any:
        faiss = _faiss()
        faiss.omp_set_num_threads(self.threads)
        if self.approximate and self.ann == "ivf":
            return self._build_ivf()
        if self.approximate:
            index = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = self.ef_construction
            index.hnsw.efSearch = self.ef_search
        else:
            index = faiss.IndexFlatIP(self.dim)
        # Add in slices so a memory-mapped matrix is never copied whole into RAM at once
        # on top of the copy FAISS keeps.
        step = 65_536
        for a in range(0, len(self), step):
            index.add(np.ascontiguousarray(self._vectors[a : a + step]))
        return index

    def _build_ivf(self) -> Any:
        faiss = _faiss()
        nlist = self.nlist
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.own_fields = True
        quantizer.this.disown()  # the IVF index frees its quantizer
        # k-means on 64 points per cell is plenty (FAISS itself caps at 256); a fixed seed
        # keeps rebuilt caches identical.
        n_train = min(len(self), 64 * nlist)
        rng = np.random.default_rng(0)
        sample = np.sort(rng.choice(len(self), size=n_train, replace=False))
        index.train(np.ascontiguousarray(self._vectors[sample]))
        index.nprobe = self.nprobe
        step = 65_536
        for a in range(0, len(self), step):
            index.add(np.ascontiguousarray(self._vectors[a : a + step]))
        return index

    def _valid_index(self, index: Any) -> bool:
        faiss = _faiss()
        if index.ntotal != len(self) or index.d != self.dim:
            return False
        if self.approximate and self.ann == "ivf":
            ivf = faiss.downcast_index(index)
            return (isinstance(ivf, faiss.IndexIVFFlat) and ivf.nlist == self.nlist
                    and index.metric_type == faiss.METRIC_INNER_PRODUCT)
        if self.approximate:
            hnsw = faiss.downcast_index(index)
            return isinstance(hnsw, faiss.IndexHNSWFlat) and index.metric_type == faiss.METRIC_INNER_PRODUCT
        return isinstance(faiss.downcast_index(index), faiss.IndexFlatIP)

    def _write_index(self, index: Any, directory: Path) -> None:
        faiss = _faiss()
        fd, tmp = tempfile.mkstemp(prefix=f".{self.index_name}.", dir=directory)
        os.close(fd)
        try:
            faiss.write_index(index, tmp)
            os.replace(tmp, directory / self.index_name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if self.approximate and self.ann == "ivf":
            self._write_cells(index, directory)

    @staticmethod
    def _cells_of(index: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The centroids, cell offsets and rows (grouped by cell) of a FAISS inverted file."""
        faiss = _faiss()
        ivf = faiss.extract_index_ivf(index)
        nlist = int(ivf.nlist)
        centroids = np.ascontiguousarray(ivf.quantizer.reconstruct_n(0, nlist), dtype=np.float32)
        lists = ivf.invlists
        sizes = np.array([lists.list_size(c) for c in range(nlist)], dtype=np.int64)
        offsets = np.zeros(nlist + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        rows = np.empty(int(offsets[-1]), dtype=np.int64)
        for c in np.flatnonzero(sizes):
            rows[offsets[c] : offsets[c + 1]] = faiss.rev_swig_ptr(lists.get_ids(int(c)), int(sizes[c]))
        return centroids, offsets, rows

    def _write_cells(self, index: Any, directory: Path) -> None:
        centroids, offsets, rows = self._cells_of(index)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.cells_name}.", suffix=".npz", dir=directory)
        os.close(fd)
        try:
            np.savez(tmp, centroids=centroids, offsets=offsets,
                     rows=rows.astype(np.int32 if len(self) < 2**31 else np.int64))
            os.replace(tmp, directory / self.cells_name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _read_cells(self, path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The cells saved in ``path`` for these settings, or ``None`` when absent or inconsistent."""
        cells_file = path / self.cells_name
        if not cells_file.exists():
            return None
        try:
            with np.load(cells_file, allow_pickle=False) as data:
                centroids, offsets, rows = (data[name] for name in _CELL_ARRAYS)
        except (OSError, ValueError, KeyError):
            return None
        nlist = self.nlist
        if (centroids.shape != (nlist, self.dim) or centroids.dtype != np.float32
                or offsets.shape != (nlist + 1,) or rows.shape != (len(self),)
                or offsets[0] != 0 or offsets[-1] != len(self) or np.any(np.diff(offsets) < 0)
                or rows.dtype.kind not in "iu" or offsets.dtype.kind not in "iu"):
            return None
        # rows stay as saved (int32 below 2**31 rows: half the memory); numpy indexes with either
        return centroids, offsets.astype(np.int64, copy=False), rows

    def index(self) -> Any:
        """Return the FAISS index, building it when needed.

        A store opened with :meth:`load` keeps a rebuilt index in memory; with
        ``write_cache=True`` it also writes it back to its directory when that is writable.
        """
        if self._index is None and self._cache_dir is not None:
            self._index = self._read_cache(self._cache_dir)
        if self._index is None:
            self._index = self._build_index()
            if self._cache_dir is not None and self._write_cache:
                try:
                    self._write_index(self._index, self._cache_dir)
                except (OSError, RuntimeError):
                    pass  # a cache that cannot be written is rebuilt next time
        return self._index

    # ----------------------------------------------------------------- search

    def _check_queries(self, queries: np.ndarray, k: int) -> np.ndarray:
        q = np.asarray(queries)
        if q.ndim == 1:
            q = q[None, :]
        if q.ndim != 2 or q.shape[1] != self.dim or not np.issubdtype(q.dtype, np.number):
            raise QueryError(
                f"queries must be a (n, {self.dim}) numeric array to match the store; got "
                f"shape {np.asarray(queries).shape}; encode them with the encoder the store was built with"
            )
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise QueryError(f"k must be a positive integer; got {k!r}")
        return np.ascontiguousarray(q, dtype=np.float32)

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the ``k`` rows with the highest inner product for every query.

        Parameters
        ----------
        queries : numpy.ndarray
            ``(n, dim)`` query vectors (a single ``(dim,)`` vector is taken as ``n = 1``).
        k : int
            Number of results per query.
        allowed : numpy.ndarray of bool or None
            Mask over the store's rows; only rows where it is True can be returned (used to
            restrict a search to some documents).

        Returns
        -------
        rows : numpy.ndarray
            ``(n, k)`` int64 row numbers, best first, ``-1`` where fewer than ``k`` rows
            qualify.
        scores : numpy.ndarray
            ``(n, k)`` float32 inner products, ``-inf`` at padding.

        Raises
        ------
        QueryError
            If the queries do not match the store's width, ``k`` is not positive, or
            ``allowed`` is not a boolean mask of the store's length.
        """
        q = self._check_queries(queries, k)
        k = int(k)
        n_q = q.shape[0]
        rows = np.full((n_q, k), -1, dtype=np.int64)
        scores = np.full((n_q, k), -np.inf, dtype=np.float32)
        if n_q == 0 or len(self) == 0:
            return rows, scores

        if allowed is None and not self.approximate and len(self) <= self.subset_exact_max:
            # exact and small: the same inner products in numpy, without importing FAISS
            found_rows, found_scores = self._exact_subset(q, min(k, len(self)), np.arange(len(self)))
        elif allowed is None and self._cells is not None:
            found_rows, found_scores = self._cells_search(q, min(k, len(self)), None)
        elif allowed is None:
            found_rows, found_scores = self._faiss_search(q, min(k, len(self)), None)
        else:
            mask = np.asarray(allowed)
            if mask.dtype != np.bool_ or mask.shape != (len(self),):
                raise QueryError(
                    f"allowed must be a boolean mask of shape ({len(self)},); got dtype "
                    f"{mask.dtype} and shape {mask.shape}"
                )
            subset = np.flatnonzero(mask)
            if subset.size == 0:
                return rows, scores
            kk = min(k, subset.size)
            if subset.size <= self.subset_exact_max:
                found_rows, found_scores = self._exact_subset(q, kk, subset)
            else:
                search = self._faiss_search if self._cells is None else self._cells_search
                found_rows, found_scores = search(q, kk, mask)
                # HNSW with a selector can come back short when the graph walk stays in
                # excluded regions (IVF when the probed cells hold too few allowed rows);
                # those queries are redone exactly.
                short = np.flatnonzero((found_rows < 0).any(axis=1))
                if short.size:
                    r, s = self._exact_subset(q[short], kk, subset)
                    found_rows[short], found_scores[short] = r, s
        width = found_rows.shape[1]
        rows[:, :width] = found_rows
        scores[:, :width] = np.where(found_rows >= 0, found_scores, -np.inf)
        return rows, scores

    def _faiss_search(self, q: np.ndarray, k: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        faiss = _faiss()
        index = self.index()
        faiss.omp_set_num_threads(self.threads)
        kwargs: dict[str, Any] = {}
        selector = None
        if mask is not None:
            # IDSelectorBitmap reads bit i of byte i // 8, least significant bit first; given
            # one array, faiss' wrapper passes its length in bytes and keeps it alive.
            bits = np.packbits(mask, bitorder="little")
            selector = faiss.IDSelectorBitmap(bits)
        if self.approximate and self.ann == "ivf":
            params = faiss.SearchParametersIVF()
            params.nprobe = min(self.nprobe, self.nlist)
        elif self.approximate:
            params = faiss.SearchParametersHNSW()
            params.efSearch = max(self.ef_search, k)
        else:
            params = faiss.SearchParameters()
        if selector is not None:
            params.sel = selector
        kwargs["params"] = params
        scores, rows = index.search(q, k, **kwargs)
        return rows.astype(np.int64, copy=False), scores.astype(np.float32, copy=False)

    def _cells_search(self, q: np.ndarray, k: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """``IndexIVFFlat.search`` in numpy over the saved cells: the ``nprobe`` cells whose
        centroids score highest, then the exact inner products of their (allowed) rows."""
        centroids, offsets, cell_rows = self._cells  # type: ignore[misc]
        nlist = centroids.shape[0]
        nprobe = min(self.nprobe, nlist)
        out_rows = np.full((q.shape[0], k), -1, dtype=np.int64)
        out_scores = np.full((q.shape[0], k), -np.inf, dtype=np.float32)
        # einsum, not BLAS: products this small gain nothing from threads, and the first
        # threaded BLAS call of a process starts a pool that spins on the other core
        near = np.einsum("qd,cd->qc", q, centroids)
        if nprobe < nlist:
            probes = np.argpartition(-near, nprobe - 1, axis=1)[:, :nprobe]
        else:
            probes = np.broadcast_to(np.arange(nlist), near.shape)
        for i, cells in enumerate(probes):
            cand = np.concatenate([cell_rows[offsets[c] : offsets[c + 1]] for c in cells])
            if mask is not None:
                cand = cand[mask[cand]]
            if cand.size == 0:
                continue
            cand.sort()  # read the memory map in file order
            sims = np.einsum("nd,d->n", self._vectors[cand], q[i])
            kk = min(k, cand.size)
            part = np.argpartition(-sims, kk - 1)[:kk] if kk < cand.size else np.arange(cand.size)
            best = part[np.lexsort((cand[part], -sims[part]))]
            out_rows[i, :kk] = cand[best]
            out_scores[i, :kk] = sims[best]
        return out_rows, out_scores

    def _exact_subset(self, q: np.ndarray, k: int, subset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        vecs = np.ascontiguousarray(self._vectors[subset])
        n_q = q.shape[0]
        out_rows = np.empty((n_q, k), dtype=np.int64)
        out_scores = np.empty((n_q, k), dtype=np.float32)
        # Bound the score matrix to ~64 MB whatever the number of queries.
        chunk = max(1, (1 << 24) // max(1, subset.size))
        for a in range(0, n_q, chunk):
            sims = q[a : a + chunk] @ vecs.T
            if k < subset.size:
                part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            else:
                part = np.broadcast_to(np.arange(subset.size), (sims.shape[0], subset.size))
            top = np.take_along_axis(sims, part, axis=1)
            # Best first; ties by row number, so results do not depend on partition order.
            order = np.lexsort((subset[part], -top), axis=1)
            best = np.take_along_axis(part, order, axis=1)
            out_rows[a : a + chunk] = subset[best]
            out_scores[a : a + chunk] = np.take_along_axis(sims, best, axis=1)
        return out_rows, out_scores

    # ----------------------------------------------------------------- persistence

    def save(self, directory: str | os.PathLike[str], *, with_index: bool = True) -> Path:
        """Write the store to ``directory`` atomically and return its path.

        The directory gets ``vectors.npy``, ``vectors.json`` (format, shape, settings) and,
        when ``with_index`` is true, the FAISS cache file.  An existing ``directory`` is
        replaced as a whole.
        """
        with atomic_directory(directory) as tmp:
            np.save(tmp / _VECTORS, self._vectors, allow_pickle=False)
            meta = {
                "format": _FORMAT,
                "count": len(self),
                "dim": self.dim,
                "dtype": "float32",
                "settings": self.settings(),
                "faiss_index": self.index_name if with_index else None,
            }
            (tmp / _META).write_text(json.dumps(meta, indent=1), encoding="utf-8")
            if with_index and len(self):
                self._write_index(self.index(), tmp)
        return Path(directory)

    @classmethod
    def load(cls, directory: str | os.PathLike[str], mmap: bool = True, *, write_cache: bool = False,
             **overrides: Any) -> "VectorStore":
        """Open a store written by :meth:`save`.

        Parameters
        ----------
        directory : path
            The store directory.
        mmap : bool
            Memory-map ``vectors.npy`` instead of reading it into RAM.
        write_cache : bool
            Write a FAISS index that had to be rebuilt back into ``directory`` (default: keep
            it in memory, so a reader never writes into a store that others read).
        **overrides
            Settings that replace the saved ones (``ef_search=256`` ...).  A setting that
            changes the FAISS index (``exact_max``, ``hnsw_m``, ``ef_construction``) makes the
            store use, and build if needed, the cache file of those settings.

        Raises
        ------
        IndexError_
            If ``vectors.npy`` or ``vectors.json`` is missing, unreadable or inconsistent.
        """
        path = Path(directory)
        try:
            meta = json.loads((path / _META).read_text(encoding="utf-8"))
            vectors = np.load(path / _VECTORS, mmap_mode="r" if mmap else None, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise IndexError_(
                f"cannot open the vector store in {path}: {exc}; expected {_VECTORS} and {_META} "
                "written by VectorStore.save(); rebuild the index"
            ) from exc
        if meta.get("format") != _FORMAT:
            raise IndexError_(
                f"{path / _META} has format {meta.get('format')!r}, expected {_FORMAT}; rebuild the index"
            )
        expected = (meta.get("count"), meta.get("dim"))
        if vectors.dtype != np.float32 or vectors.ndim != 2 or tuple(vectors.shape) != expected:
            raise IndexError_(
                f"{path / _VECTORS} holds {vectors.dtype} {vectors.shape}, but {_META} says float32 "
                f"{expected}; rebuild the index"
            )
        settings = dict(meta.get("settings") or {})
        unknown = set(overrides) - set(settings) - set(_NEWER_SETTINGS) - {"threads"}
        if unknown:
            raise IndexError_(f"unknown vector store settings {sorted(unknown)}; known: {sorted(settings)}")
        settings.update(overrides)
        store = cls(vectors, **settings)
        store._cache_dir = path
        store._write_cache = write_cache
        if store.approximate and store.ann == "ivf":
            store._cells = store._read_cells(path)
        if store._cells is None and (store.approximate or len(store) > store.subset_exact_max):
            store._index = store._read_cache(path)
        # else: small and exact, searched in numpy; the FAISS cache is read if ever needed
        return store

    def _read_cache(self, path: Path) -> Any:
        """The FAISS index cached in ``path`` for these settings, or ``None``."""
        index_file = path / self.index_name
        if not (index_file.exists() and len(self)):
            return None
        faiss = _faiss()
        # memory-mapped and read-only where FAISS can (the inverted lists of an IVF index,
        # the codes of a flat one): a query reads the cells it probes, not the whole file
        # (0.02 s instead of 0.6 s for 200k clauses in a fresh process); same results
        flags = getattr(faiss, "IO_FLAG_MMAP", 0) | getattr(faiss, "IO_FLAG_READ_ONLY", 0)
        try:
            index = faiss.read_index(str(index_file), flags) if flags else faiss.read_index(str(index_file))
        except RuntimeError:
            try:  # a FAISS that cannot map this kind of index
                index = faiss.read_index(str(index_file))
            except RuntimeError:
                return None  # unreadable cache: rebuilt on first search
        if not self._valid_index(index):
            return None
        if self.approximate and self.ann == "ivf":
            faiss.downcast_index(index).nprobe = self.nprobe
        elif self.approximate:
            faiss.downcast_index(index).hnsw.efSearch = self.ef_search
        return index

    def __repr__(self) -> str:
        kind = self.ann if self.approximate else "flat"
        return f"VectorStore(n={len(self)}, dim={self.dim}, index={kind})"
