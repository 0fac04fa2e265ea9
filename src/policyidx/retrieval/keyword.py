"""BM25 keyword index over clauses, stored as plain arrays.

The index stores, for every (term, row) pair, the Lucene BM25 *impact*
``idf(t) * tf / (tf + k1 * (1 - b + b * dl / avgdl))`` with
``idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))``, term-major like a CSC matrix:
``indptr`` (int64, one entry per term plus one), ``rows`` (int32, ascending within a term)
and ``scores`` (float32).  A query's score for a row is the weighted sum of its terms'
impacts, so searching is one compiled scatter-add per query term into a dense float32
accumulator (one per thread, reused across queries and cleaned only where it was touched),
then a top-k over the accumulator.

On disk an index is a directory: ``indptr.npy``, ``rows.npy``, ``scores.npy``,
``doc_len.npy`` (saved with ``allow_pickle=False``), ``vocab.{terms,offsets,slots}.npy`` (the
terms, id = position, as a memory-mapped :class:`~policyidx.text.termtable.TermTable`; indexes
written before it have ``vocab.json``) and ``params.json``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import mmap
import os
import threading
from collections import Counter
from itertools import chain, repeat
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from policyidx._io import atomic_directory
from policyidx.errors import IndexError_, QueryError
from policyidx.parallel import default_workers
from policyidx.retrieval.scorers import check_scorer, impacts
from policyidx.text.termtable import TermTable, has_table

__all__ = ["BM25Index", "FORMAT_VERSION", "THREADED_FROM"]

#: Version of the on-disk layout; bumped when the files change meaning.
FORMAT_VERSION = 1
_ARRAYS = ("indptr", "rows", "scores", "doc_len")
_DTYPES = {"indptr": np.int64, "rows": np.int32, "scores": np.float32, "doc_len": np.int32}
#: Rows from which :meth:`BM25Index.search_many` uses a thread per CPU by default.  Measured
#: with ``policyidx bench`` on 2 cores: at 20,000 rows two threads halved the throughput of a
#: batch, at 1,000,000 they raised it from 150-270 to 420-450 queries per second.
THREADED_FROM = 200_000
#: Queries in one :meth:`BM25Index.search_many` batch from which a loaded index turns its
#: memory-mapped term table into a dict (one decoding pass, then fast lookups).
_DICT_FROM = 64
#: Rows rescored by the synonym-set score (:meth:`BM25Index._search_sets`).
SET_POOL = 300

Query = Mapping[str, float] | Sequence[str]
_LISTS = frozenset((list, tuple))


class BM25Index:
    """Lucene-variant BM25 over pre-tokenised documents (one document = one clause row).

    Build with :meth:`build`, query with :meth:`search` or :meth:`search_many`, persist with
    :meth:`save` and :meth:`load`.  Each thread that searches gets its own scratch
    accumulator (one float32 per row), so an instance may be searched from several threads.
    """

    def __init__(
        self,
        indptr: np.ndarray,
        rows: np.ndarray,
        scores: np.ndarray,
        doc_len: np.ndarray,
        vocab: Sequence[str] | TermTable,
        k1: float,
        b: float,
        method: str = "lucene",
    ) -> None:
        n_terms = len(vocab)
        if len(indptr) != n_terms + 1:
            raise IndexError_(
                f"index arrays disagree: indptr has {len(indptr)} entries, expected "
                f"{n_terms + 1} (vocabulary of {n_terms} terms); rebuild the index"
            )
        if len(rows) != len(scores) or int(indptr[-1]) != len(rows):
            raise IndexError_(
                f"index arrays disagree: {len(rows)} rows, {len(scores)} scores, "
                f"indptr ends at {int(indptr[-1])}; rebuild the index"
            )
        self.indptr = indptr
        self.rows = rows
        self.scores = scores
        self.doc_len = doc_len
        # a loaded index keeps its mapped term table (nothing decoded per process); one built
        # in memory gets a dict
        self.term_ids: Mapping[str, int]
        self._vocab: list[str] | None
        self._table = vocab if isinstance(vocab, TermTable) else None
        if isinstance(vocab, TermTable):
            self.term_ids, self._vocab = vocab, None
        else:
            self._vocab = list(vocab)
            self.term_ids = dict(zip(self._vocab, range(n_terms)))
        self.k1 = float(k1)
        self.b = float(b)
        self.method = method
        self._local = threading.local()
        self._max_impact: np.ndarray | None = None
        self._scratch: object | None = None
        self._columns: tuple[np.ndarray, np.ndarray] | None = None
        self._hash: object | None = None  # a TermHash of the vocabulary (made for batches)
        self._rows16: np.ndarray | None = None  # rows as uint16 for the kernels (small indexes)

    # ------------------------------------------------------------------ properties
    @property
    def vocab(self) -> list[str]:
        """The terms in id order (decoded from the term table on first use)."""
        if self._vocab is None:
            assert self._table is not None
            self._vocab = self._table.terms()
        return self._vocab

    @property
    def n_docs(self) -> int:
        """Number of rows (documents) in the index."""
        return int(len(self.doc_len))

    @property
    def n_terms(self) -> int:
        """Size of the vocabulary."""
        return len(self.term_ids)

    @property
    def n_postings(self) -> int:
        """Number of stored (term, row) impacts."""
        return int(len(self.rows))

    def __repr__(self) -> str:
        return (
            f"BM25Index(n_docs={self.n_docs}, n_terms={self.n_terms}, "
            f"n_postings={self.n_postings}, k1={self.k1}, b={self.b})"
        )

    # ------------------------------------------------------------------ build
    @classmethod
    def build(
        cls,
        docs: Sequence[Sequence[str]],
        k1: float = 1.5,
        b: float = 0.75,
        progress: bool = False,
        method: str = "lucene",
    ) -> "BM25Index":
        """Build an index from tokenised documents.

        Parameters
        ----------
        docs : sequence of sequence of str
            One list of terms per row (for example :func:`policyidx.analysis.analyze` of
            each clause); repeated terms count as term frequency.  Empty lists are
            allowed and never match.
        k1 : float
            Term-frequency saturation: higher lets repeated terms count for longer.
        b : float
            Length normalisation, 0 (none) to 1 (full): how much long clauses are penalised.
        progress : bool
            Show a tqdm bar while terms are mapped to ids (the only per-document step).
        method : str
            The BM25 variant, by name (:data:`policyidx.retrieval.scorers.SCORERS`:
            ``lucene``, ``robertson``, ``atire``, ``bm25l``, ``bm25+``).

        Returns
        -------
        BM25Index

        Raises
        ------
        QueryError
            If ``k1`` is negative or ``b`` is outside [0, 1].
        """
        if not k1 >= 0:
            raise QueryError(f"k1 must be >= 0, got {k1}; the usual range is 0.9-2.0")
        if not 0.0 <= b <= 1.0:
            raise QueryError(f"b must be within [0, 1], got {b}; the usual value is 0.75")
        n_docs = len(docs)
        vocab_ids: dict[str, int] = {}
        lengths = np.zeros(n_docs, dtype=np.int64)
        chunks: list[np.ndarray] = []
        iterator: Iterable[Sequence[str]] = docs
        if progress:
            from tqdm import tqdm

            iterator = tqdm(docs, desc="BM25 terms", unit="doc")
        setdefault = vocab_ids.setdefault
        for i, doc in enumerate(iterator):
            # setdefault's default is evaluated before insertion: a new term gets the
            # next free id.
            ids = [setdefault(t, len(vocab_ids)) for t in doc]
            lengths[i] = len(ids)
            chunks.append(np.asarray(ids, dtype=np.int64))
        doc_ptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(lengths, out=doc_ptr[1:])
        term = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
        del chunks
        return cls.from_ids(doc_ptr, term, list(vocab_ids), k1=k1, b=b, method=method)

    @classmethod
    def from_ids(
        cls,
        doc_ptr: np.ndarray,
        term_ids: np.ndarray,
        vocab: list[str],
        k1: float = 1.5,
        b: float = 0.75,
        method: str = "lucene",
        collection: tuple[int, float, np.ndarray] | None = None,
    ) -> "BM25Index":
        """Build an index from documents already mapped to term ids (CSR layout).

        This is :meth:`build` without the per-document Python loop, for callers that
        tokenise in several processes and hold a million documents as one id array rather
        than as lists of strings (which would take tens of bytes per term).

        Parameters
        ----------
        doc_ptr : numpy.ndarray of int
            ``n_docs + 1`` offsets: the terms of row ``i`` are ``term_ids[doc_ptr[i]:doc_ptr[i + 1]]``.
        term_ids : numpy.ndarray of int
            Term ids (positions in ``vocab``), repeated terms counting as term frequency.
        vocab : list of str
            The terms, id = position; terms that no row uses are allowed.
        k1, b : float
            As for :meth:`build`.
        method : str
            As for :meth:`build`.
        collection : (n_docs, avgdl, df), optional
            Statistics of a larger collection these documents are one part (shard) of: its
            number of rows, average row length and the document frequency of each term of
            ``vocab`` in it.  The impacts are then those of an index over the whole
            collection (``policyidx.index.sharded`` builds shards this way); by default the
            statistics of these documents.

        Returns
        -------
        BM25Index

        Raises
        ------
        QueryError
            If ``k1`` or ``b`` is out of range, or the arrays do not fit together.
        """
        if not k1 >= 0:
            raise QueryError(f"k1 must be >= 0, got {k1}; the usual range is 0.9-2.0")
        if not 0.0 <= b <= 1.0:
            raise QueryError(f"b must be within [0, 1], got {b}; the usual value is 0.75")
        check_scorer(method)
        doc_ptr = np.asarray(doc_ptr, dtype=np.int64)
        term = np.asarray(term_ids)
        n_terms = len(vocab)
        if doc_ptr.ndim != 1 or len(doc_ptr) < 1 or doc_ptr[0] != 0 or int(doc_ptr[-1]) != len(term) \
                or np.any(np.diff(doc_ptr) < 0):
            raise QueryError(
                f"doc_ptr must be non-decreasing offsets from 0 to len(term_ids)={len(term)}; got "
                f"{len(doc_ptr)} offsets ending at {int(doc_ptr[-1]) if len(doc_ptr) else None}"
            )
        if len(term) and (int(term.min()) < 0 or int(term.max()) >= n_terms):
            raise QueryError(
                f"term ids must lie in [0, {n_terms}) to index the vocabulary; got "
                f"{int(term.min())}..{int(term.max())}"
            )
        n_docs = len(doc_ptr) - 1
        lengths = np.diff(doc_ptr)
        if n_docs == 0 or len(term) == 0:
            return cls(
                np.zeros(n_terms + 1, dtype=np.int64),
                np.zeros(0, dtype=np.int32),
                np.zeros(0, dtype=np.float32),
                lengths.astype(np.int32),
                list(vocab),
                k1,
                b,
                method,
            )
        row = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        # One sort of (term, row) keys gives term-major postings with rows ascending,
        # and the run lengths are the term frequencies.
        key = term.astype(np.int64) * n_docs + row
        del row
        key, tf = np.unique(key, return_counts=True)
        p_term = key // n_docs
        p_row = (key - p_term * n_docs).astype(np.int32)
        del key
        df = np.bincount(p_term, minlength=n_terms)
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        avgdl = float(lengths.sum()) / n_docs
        n_idf, df_idf = n_docs, df
        if collection is not None:
            n_idf, avgdl, df_idf = int(collection[0]), float(collection[1]), np.asarray(collection[2])
            if df_idf.shape != (n_terms,) or np.any(df_idf < df):
                raise QueryError(
                    f"collection df must give each of the {n_terms} terms a frequency at least its "
                    f"frequency in these rows; got shape {df_idf.shape}"
                )
        if method != "lucene":
            length_norm = (1.0 - b + b * lengths.astype(np.float64) / avgdl)[p_row]
            impact = impacts(method, tf, length_norm, df_idf[p_term], n_idf, k1)
            return cls(indptr, p_row, impact, lengths.astype(np.int32), list(vocab), k1, b, method)
        idf = np.log(1.0 + (n_idf - df_idf + 0.5) / (df_idf + 0.5))
        # float32 from here on: the impacts are stored as float32 anyway, and at a hundred
        # million postings every float64 temporary costs close to a gigabyte.
        tf32 = tf.astype(np.float32)
        del tf
        norm = (k1 * (1.0 - b + b * lengths.astype(np.float64) / avgdl)).astype(np.float32)
        impact = idf.astype(np.float32)[p_term]
        del p_term
        impact *= tf32
        tf32 += norm[p_row]
        impact /= tf32
        return cls(indptr, p_row, impact, lengths.astype(np.int32), list(vocab), k1, b, method)

    # ------------------------------------------------------------------ search
    def _query_arrays(self, query: Query) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(query, str):
            raise QueryError(
                "query must be a list of terms or a dict term -> weight, got a str; "
                "pass policyidx.analysis.analyze_query(text)"
            )
        if isinstance(query, Mapping):
            items = query.items()
        else:
            items = Counter(query).items()  # repeated terms count, as in bm25s
        ids = []
        weights = []
        for t, w in items:
            tid = self.term_ids.get(t)
            if tid is not None and w != 0:
                ids.append(tid)
                weights.append(w)
        try:
            return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise QueryError(f"query weights must be numbers ({exc})") from exc

    def _flatten(self, queries: Sequence[Query], hashed: object | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Queries as CSR arrays of term ids and weights (the batch kernels' input).

        One Python pass and no per-query arrays: on a small index the Python work around the
        kernel is most of a query's time.  Unknown terms get id -1; repeated terms of a list
        are left repeated: the kernel skips the unknown ones, sums the weights of repeated ones
        (a term listed twice weighs 2) and drops terms whose weight is then 0.  With
        ``hashed`` (a :class:`policyidx.retrieval._kernels.TermHash` of the vocabulary) the
        terms are resolved by their hashes in one compiled pass, else one dictionary lookup each.
        """
        nq = len(queries)
        if nq and set(map(type, queries)) <= _LISTS:
            # every query a list or tuple of terms (the usual batch): two passes in C, no
            # Python code per query -- the lengths, then the ids of all terms in one stream
            ptr_a = np.zeros(nq + 1, dtype=np.int64)
            np.cumsum(np.fromiter(map(len, queries), dtype=np.int64, count=nq), out=ptr_a[1:])
            total = int(ptr_a[-1])
            return ptr_a, self._term_ids_of(chain.from_iterable(queries), total, hashed), \
                np.ones(total, dtype=np.float64)
        terms: list[object] = []
        ptr = [0]
        wts: list[float] | None = None  # None while every query is a list (weights all 1)
        for q in queries:
            kind = type(q)
            if kind is not list and kind is not tuple:
                if isinstance(q, str):
                    raise QueryError(
                        "query must be a list of terms or a dict term -> weight, got a str; "
                        "pass policyidx.analysis.analyze_query(text)"
                    )
                if kind is dict or isinstance(q, Mapping):
                    if wts is None:
                        wts = [1.0] * len(terms)
                    terms += q.keys()  # type: ignore[union-attr]
                    wts += q.values()  # type: ignore[union-attr]
                    ptr.append(len(terms))
                    continue
                q = list(q)
            terms += q
            if wts is not None:
                wts += [1.0] * len(q)
            ptr.append(len(terms))
        flat_ids = self._term_ids_of(terms, len(terms), hashed)
        if wts is None:
            flat_w = np.ones(len(terms), dtype=np.float64)
        else:
            try:
                flat_w = np.array(wts, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise QueryError(f"query weights must be numbers ({exc})") from exc
        return np.array(ptr, dtype=np.int64), flat_ids, flat_w

    def _term_ids_of(self, terms: Iterable[object], total: int, hashed: object | None) -> np.ndarray:
        """Ids (int64, -1 when unknown) of ``total`` terms, by ``hashed`` (see :meth:`_flatten`)
        or by dictionary lookups."""
        if hashed is None:
            return np.fromiter(map(self.term_ids.get, terms, repeat(-1, total)), dtype=np.int64, count=total)
        if not isinstance(terms, list):
            terms = list(terms) if hashed.ambiguous else terms  # type: ignore[attr-defined]
        ids = hashed.find(np.fromiter(map(hash, terms), dtype=np.int64, count=total))  # type: ignore[attr-defined]
        if hashed.ambiguous:  # type: ignore[attr-defined]
            # terms of the vocabulary sharing a hash (practically never): by string
            get = self.term_ids.get
            for i in np.flatnonzero(ids == -2).tolist():
                ids[i] = get(terms[i], -1)  # type: ignore[index]
        return ids

    def _term_hash(self, build: bool) -> object | None:
        """The vocabulary's :class:`~policyidx.retrieval._kernels.TermHash` (made when ``build``),
        or None."""
        hashed = self._hash
        if hashed is not None and hashed.valid(self.n_terms):  # type: ignore[attr-defined]
            return hashed
        if not build:
            return None
        from policyidx.retrieval._kernels import TermHash

        hashed = self._hash = TermHash(self.vocab)
        return hashed

    def _check_allowed(self, allowed: np.ndarray | None) -> np.ndarray | None:
        if allowed is not None:
            allowed = np.asarray(allowed)
            if allowed.dtype != np.bool_ or allowed.shape != (self.n_docs,):
                raise QueryError(
                    f"allowed must be a boolean mask of shape ({self.n_docs},), got "
                    f"dtype {allowed.dtype} and shape {allowed.shape}"
                )
        return allowed

    @property
    def max_impact(self) -> np.ndarray:
        """The largest impact of each term (float32), the bound that search prunes with."""
        if self._max_impact is None:
            kernels = _kernels()
            if kernels is not None:
                self._max_impact = kernels.max_impacts(self.indptr, self.scores)
            else:
                out = np.zeros(self.n_terms, dtype=np.float32)
                nonempty = np.flatnonzero(np.diff(self.indptr) > 0)
                if len(nonempty):
                    out[nonempty] = np.maximum.reduceat(self.scores, self.indptr[nonempty])
                self._max_impact = out
        return self._max_impact

    def _run_kernel(self, kernels, q_ptr, ids, weights, k, allowed, threads):  # type: ignore[no-untyped-def]
        if self._scratch is None:
            self._scratch = kernels.Scratch(self.n_docs, self.n_terms)
        if self._columns is None:
            # the terms in most rows as columns of impacts (made on the first compiled search:
            # a few ms for a million rows; at most the size of those terms' postings)
            self._columns = kernels.dense_columns(self.indptr, self.rows, self.scores, self.n_docs)
        rows = self.rows
        if self.n_docs <= _NARROW_ROWS_UP_TO:
            if self._rows16 is None:
                # row numbers in two bytes instead of four (a copy made once, 2 bytes per
                # posting): a quarter less to read per posting, most of a small index's
                # misses when other processes have emptied the cache
                self._rows16 = np.asarray(self.rows).astype(np.uint16)
            rows = self._rows16
        return kernels.search_batch(self.indptr, rows, self.scores, self.max_impact, q_ptr, ids, weights,
                                    k, allowed, self._scratch, threads=threads, prune=_PRUNE,
                                    dense_prune_from=_DENSE_PRUNE_FROM, columns=self._columns)

    def _accumulator(self) -> np.ndarray:
        acc = getattr(self._local, "acc", None)
        if acc is None or len(acc) != self.n_docs:
            acc = self._local.acc = np.zeros(self.n_docs, dtype=np.float32)
        return acc

    def search(
        self,
        query: Query,
        k: int = 10,
        allowed: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best rows for a query.

        Parameters
        ----------
        query : dict of str to float, or list of str
            Weighted terms (:func:`policyidx.analysis.analyze_query`) or a list of terms
            (a term listed twice weighs 2).  Unknown terms are ignored.
        k : int
            How many rows to return at most.
        allowed : numpy.ndarray of bool, optional
            Mask over rows, length :attr:`n_docs`; only True rows are returned (to search
            within some documents or languages).

        Returns
        -------
        rows : numpy.ndarray of int64
            Best first; ties broken by ascending row.  Only rows sharing at least one
            query term are returned, so there may be fewer than ``k`` (none for an empty
            query).
        scores : numpy.ndarray of float32
            The matching scores, ``sum(weight * impact)``.

        Raises
        ------
        QueryError
            If ``k`` is not positive or ``allowed`` has the wrong shape.
        """
        if k <= 0:
            raise QueryError(f"k must be a positive number of results, got {k}")
        sets = getattr(query, "synonym_sets", None)
        if sets:
            return self._search_sets(query, sets, k, allowed)  # type: ignore[arg-type]
        allowed = self._check_allowed(allowed)
        kernels = _kernels()
        if kernels is not None:
            q_ptr, flat_ids, flat_w = self._flatten([query], self._term_hash(build=False))
            out_r, out_s, counts, work = self._run_kernel(kernels, q_ptr, flat_ids, flat_w, k, allowed, 1)
            self._local.work = work[0]
            c = int(counts[0])
            return out_r[0, :c], out_s[0, :c]
        ids, weights = self._query_arrays(query)
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        if len(ids) == 0:
            return empty
        acc = self._accumulator()
        indptr, rows, scores = self.indptr, self.rows, self.scores
        touched = []
        total = 0
        for tid, w in zip(ids.tolist(), weights.tolist()):
            lo, hi = int(indptr[tid]), int(indptr[tid + 1])
            _scatter_add(acc, rows[lo:hi], scores[lo:hi], w)
            touched.append(rows[lo:hi])
            total += hi - lo
        dense = total * 4 >= self.n_docs
        try:
            if dense:
                # Many rows touched: scan the accumulator instead of deduplicating postings.
                if allowed is not None:
                    np.multiply(acc, allowed, out=acc)
                return _dense_top_k(acc, k)
            cand = touched[0] if len(touched) == 1 else np.unique(np.concatenate(touched))
            if allowed is not None:
                cand = cand[allowed[cand]]
            return _top_k(cand.astype(np.int64, copy=False), acc[cand], k)
        finally:
            if dense:
                acc.fill(0.0)  # a sequential memset beats scattering zeros over many postings
            else:
                for r in touched:
                    acc[r] = 0.0

    def _search_sets(self, query: Mapping[str, float], sets: Sequence[Sequence[Sequence[str]]], k: int,
                     allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`search` for a query whose ``synonym_sets`` group its terms: each set is a list
        of alternatives (the terms of one rendering of a query word), and a set scores as its
        best alternative in a row, not as the sum of all (a clause holding two renderings of
        one word does not count the word twice).  Terms in no set add up as usual.

        The rows are the best ``SET_POOL`` (at least ``k``) by the plain sum, rescored: the
        sum bounds the set score from above, so a row outside the pool cannot beat the pool's
        best by the set score unless the pool is too small.
        """
        rows, _ = self.search(dict(query), k=max(k, SET_POOL), allowed=allowed)
        if not len(rows):
            return rows, np.zeros(0, dtype=np.float32)
        rows = np.sort(rows.astype(np.int64, copy=False))
        return _top_k(rows, self.set_scores(query, sets, rows), k)

    def set_scores(self, query: Mapping[str, float], sets: Sequence[Sequence[Sequence[str]]],
                   rows: np.ndarray) -> np.ndarray:
        """Scores of ``rows`` for a query with synonym sets (see :meth:`_search_sets`)."""
        rows = np.asarray(rows, dtype=np.int64)
        per = {t: self.score({t: w}, rows) for t, w in query.items() if w and t in self.term_ids}
        zero = np.zeros(len(rows), dtype=np.float32)
        in_set = {t for alts in sets for alt in alts for t in alt}
        out = zero.copy()
        for t, v in per.items():
            if t not in in_set:
                out += v
        for alts in sets:
            best = zero
            for alt in alts:
                s = zero.copy()
                for t in set(alt):
                    if t in per:
                        s += per[t]
                best = np.maximum(best, s)
            out += best
        return out

    def batch_threads(self, cpus: int | None = None) -> int:
        """Threads :meth:`search_many` uses by default: ``cpus`` (default: the CPUs available)
        from :data:`THREADED_FROM` rows up, else 1."""
        return (cpus or default_workers()) if self.n_docs >= THREADED_FROM else 1

    def search_many(
        self,
        queries: Sequence[Query],
        k: int = 10,
        allowed: np.ndarray | None = None,
        threads: int | None = None,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`search` for each query, on one or several threads.

        Parameters
        ----------
        queries : sequence of query
            As for :meth:`search`.
        k : int
            Results per query.
        allowed : numpy.ndarray of bool, optional
            One mask applied to every query.
        threads : int or None
            Threads to search on (0 or less: one per available CPU).  The scatter-add runs
            in compiled code that releases the GIL; a batch is cut into runs of queries of
            about equal work, one per thread, once it holds enough postings per thread
            (:func:`policyidx.retrieval._kernels.split_batch`; about 20,000 on numba's
            OpenMP/TBB threads, which start within microseconds, so a batch of a few dozen
            queries on a 2,000-row index is split too).  ``None``: :meth:`batch_threads` (one per CPU from
            :data:`THREADED_FROM` rows up, else 1).  Each thread keeps its own accumulator
            (4 bytes per row).

        Returns
        -------
        list of (rows, scores)
            In the order of ``queries``; identical whatever the number of threads.
        """
        if threads is None:
            threads = self.batch_threads()
        elif threads <= 0:
            threads = default_workers()
        queries = list(queries)
        if self.term_ids is self._table and len(queries) >= _DICT_FROM:
            # a batch looks up many terms: a dict's lookups (tens of ns) beat the mapped
            # table's (about a microsecond each), worth building once
            self.term_ids = dict(zip(self.vocab, range(self.n_terms)))
        # a long batch is worth waiting for the kernels (a few hundred ms when cached)
        kernels = _kernels(wait=len(queries) >= _WAIT_FOR_KERNELS_FROM)
        if kernels is not None and queries:
            if k <= 0:
                raise QueryError(f"k must be a positive number of results, got {k}")
            allowed = self._check_allowed(allowed)
            q_ptr, flat_ids, flat_w = self._flatten(queries, self._term_hash(build=len(queries) >= _DICT_FROM))
            out_r, out_s, counts, work = self._run_kernel(kernels, q_ptr, flat_ids, flat_w, k, allowed, threads)
            self._local.work = work
            # the rows of the 2-d results as views (one C-level pass), cut where a query has fewer hits
            hit_rows, hit_scores = list(out_r), list(out_s)
            for i in np.flatnonzero(counts < k).tolist():
                c = int(counts[i])
                hit_rows[i], hit_scores[i] = hit_rows[i][:c], hit_scores[i][:c]
            return list(zip(hit_rows, hit_scores))
        if threads == 1 or len(queries) < 2:
            return [self.search(q, k=k, allowed=allowed) for q in queries]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(threads, len(queries))) as pool:
            return list(pool.map(lambda q: self.search(q, k=k, allowed=allowed), queries))

    def score(self, query: Query, rows: np.ndarray) -> np.ndarray:
        """The scores of given rows for a query (0 where nothing matches).

        Parameters
        ----------
        query : dict or list
            As for :meth:`search`.
        rows : numpy.ndarray of int
            Rows to score.

        Returns
        -------
        numpy.ndarray of float32
        """
        rows = np.asarray(rows, dtype=np.int64)
        ids, weights = self._query_arrays(query)
        out = np.zeros(len(rows), dtype=np.float32)
        for tid, w in zip(ids.tolist(), weights.tolist()):
            hit, pos = self._postings_of(tid, rows)
            out[hit] += np.float32(w) * self.scores[int(self.indptr[tid]) + pos[hit]]
        return out

    def _postings_of(self, tid: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of ``rows`` term ``tid`` occurs in, and where each is (or would be) in its postings."""
        lo, hi = int(self.indptr[tid]), int(self.indptr[tid + 1])
        post = self.rows[lo:hi]
        pos = np.minimum(np.searchsorted(post, rows), max(hi - lo - 1, 0))
        hit = (post[pos] == rows) if hi > lo else np.zeros(len(rows), bool)
        return hit, pos

    def contains(self, term: str, rows: np.ndarray) -> np.ndarray:
        """Whether each of ``rows`` holds ``term`` (all ``False`` for a term the index lacks)."""
        rows = np.asarray(rows, dtype=np.int64)
        tid = self.term_ids.get(term)
        if tid is None:
            return np.zeros(len(rows), dtype=bool)
        return self._postings_of(int(tid), rows)[0]

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write the index to ``directory`` atomically (replacing an older index there).

        The files are built in a temporary sibling directory which is then renamed, so a
        reader never sees a half-written index.

        Parameters
        ----------
        directory : str or PathLike
            Target directory; its parent must exist.
        """
        target = Path(directory)
        parent = target.parent if str(target.parent) else Path(".")
        if not parent.is_dir():
            raise IndexError_(
                f"cannot save the keyword index to {str(target)!r}: parent directory "
                f"{str(parent)!r} does not exist; create it first"
            )
        with atomic_directory(target) as tmp:
            arrays = {
                "indptr": np.ascontiguousarray(self.indptr, dtype=np.int64),
                "rows": np.ascontiguousarray(self.rows, dtype=np.int32),
                "scores": np.ascontiguousarray(self.scores, dtype=np.float32),
                "doc_len": np.ascontiguousarray(self.doc_len, dtype=np.int32),
            }
            # the per-term bound search prunes with; optional on load (computed when absent)
            arrays["max_impact"] = np.ascontiguousarray(self.max_impact, dtype=np.float32)
            for name, arr in arrays.items():
                np.save(tmp / f"{name}.npy", arr, allow_pickle=False)
            table = self._table if self._table is not None else TermTable.from_terms(self.vocab)
            table.save(tmp, "vocab")
            params = {
                "format": "policyidx-bm25",
                "format_version": FORMAT_VERSION,
                "variant": self.method,
                "k1": self.k1,
                "b": self.b,
                "n_docs": self.n_docs,
                "n_terms": self.n_terms,
                "n_postings": self.n_postings,
            }
            with open(tmp / "params.json", "w", encoding="utf-8") as fh:
                json.dump(params, fh, indent=2)

    @classmethod
    def load(cls, directory: str | os.PathLike[str], mmap: bool = True) -> "BM25Index":
        """Open an index saved by :meth:`save`.

        Parameters
        ----------
        directory : str or PathLike
            The index directory.
        mmap : bool
            Memory-map the arrays (fast to open, shared between processes, paged in on
            use) instead of reading them into memory.

        Returns
        -------
        BM25Index

        Raises
        ------
        IndexError_
            If files are missing, or of another format or version.
        """
        d = Path(directory)
        params_path = d / "params.json"
        if not params_path.is_file():
            raise IndexError_(
                f"no keyword index at {str(d)!r}: params.json is missing; build the index first"
            )
        try:
            params = json.loads(params_path.read_text(encoding="utf-8"))
            vocab: list[str] | TermTable
            if has_table(d, "vocab"):
                vocab = TermTable.load(d, "vocab", mmap=mmap)
            else:  # written before the term table (a JSON list)
                vocab = json.loads((d / "vocab.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexError_(f"keyword index at {str(d)!r} is unreadable ({exc}); rebuild it") from exc
        if params.get("format") != "policyidx-bm25" or params.get("format_version") != FORMAT_VERSION:
            raise IndexError_(
                f"keyword index at {str(d)!r} has format {params.get('format')!r} version "
                f"{params.get('format_version')!r}, expected 'policyidx-bm25' version "
                f"{FORMAT_VERSION}; rebuild the index"
            )
        arrays = {}
        for name in _ARRAYS:
            path = d / f"{name}.npy"
            if not path.is_file():
                raise IndexError_(f"keyword index at {str(d)!r} lacks {name}.npy; rebuild it")
            try:
                arrays[name] = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
                if isinstance(arrays[name], np.memmap):
                    # a plain view of the mapping: every slice of an np.memmap runs its
                    # __array_finalize__, slower than reading a short posting list
                    arrays[name] = arrays[name].view(np.ndarray)
            except (OSError, ValueError, EOFError) as exc:
                raise IndexError_(f"{path} is not a readable array ({exc}); rebuild the index") from exc
            if arrays[name].ndim != 1 or arrays[name].dtype != _DTYPES[name]:
                raise IndexError_(f"{path} holds {arrays[name].dtype} {arrays[name].shape}, expected a 1-d "
                                  f"{np.dtype(_DTYPES[name])} array; rebuild the index")
        if not isinstance(vocab, (list, TermTable)) or not isinstance(params.get("k1"), (int, float)) \
                or not isinstance(params.get("b"), (int, float)):
            raise IndexError_(f"keyword index at {str(d)!r}: vocab.json or params.json is not what save() writes; "
                              "rebuild the index")
        index = cls(
            arrays["indptr"], arrays["rows"], arrays["scores"], arrays["doc_len"],
            vocab, params["k1"], params["b"], params.get("variant", "lucene"),
        )
        bound = d / "max_impact.npy"
        if bound.is_file():
            ub = np.load(bound, mmap_mode=None, allow_pickle=False)
            if ub.shape == (index.n_terms,) and ub.dtype == np.float32:
                index._max_impact = ub
        if index.n_docs != params.get("n_docs"):
            raise IndexError_(
                f"keyword index at {str(d)!r}: params.json says {params.get('n_docs')} rows, "
                f"doc_len.npy has {index.n_docs}; rebuild the index"
            )
        _check_bounds(index, d)
        return index


def _scan(arr: np.ndarray, fn: Callable[[np.ndarray], None], step: int = 1 << 24) -> None:
    """Call ``fn`` on successive pieces of ``arr``.  A memory-mapped array's pages are then
    dropped from this process's mapping (they stay in the page cache), so a check of the
    whole array does not leave it resident."""
    for a in range(0, len(arr), step):
        fn(np.asarray(arr[a : a + step]))
    mm = getattr(arr, "_mmap", None)
    if mm is None:  # a plain view of a memmap (as load() keeps them)
        mm = getattr(getattr(arr, "base", None), "_mmap", None)
    if mm is not None and hasattr(mm, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        try:
            mm.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):
            pass


def _check_bounds(index: BM25Index, d: Path) -> None:
    """Check what the compiled kernels trust before any search reads it: term offsets that
    rise from 0 to the number of postings, row ids within ``[0, n_docs)`` (one out of range
    would write outside the accumulator) and non-negative lengths.  About 0.25 s per 100
    million postings; other damage (a changed impact) is for checksums to find.

    Raises
    ------
    IndexError_
        Naming the array at fault.
    """
    indptr = np.asarray(index.indptr)
    if len(indptr) == 0 or int(indptr[0]) != 0 or bool((np.diff(indptr) < 0).any()):
        raise IndexError_(f"{d / 'indptr.npy'} is damaged: term offsets must rise from 0; rebuild the index")
    n = index.n_docs

    def rows_ok(part: np.ndarray) -> None:
        if len(part) and (int(part.min()) < 0 or int(part.max()) >= n):
            raise IndexError_(f"{d / 'rows.npy'} is damaged: row ids outside [0, {n}); rebuild the index")

    def lengths_ok(part: np.ndarray) -> None:
        if len(part) and int(part.min()) < 0:
            raise IndexError_(f"{d / 'doc_len.npy'} is damaged: negative lengths; rebuild the index")

    _scan(index.rows, rows_ok)
    _scan(index.doc_len, lengths_ok)


#: Use the compiled kernels of :mod:`policyidx.retrieval._kernels` when numba is installed (tests set
#: this to False to exercise the numpy/scipy path).
_USE_KERNELS = True
#: Let the compiled kernel prune with MaxScore (False: read every posting).
_PRUNE = True
#: Batches of at least this many queries wait for the kernels to be loaded.
_WAIT_FOR_KERNELS_FROM = 1000
#: Rows up to which the compiled kernels read the posting rows from a ``uint16`` copy.
_NARROW_ROWS_UP_TO = 1 << 16
#: Rows from which queries with many postings are pruned too (see :mod:`policyidx.retrieval._kernels`);
#: off: checking cost more than the postings it saved (bench.peers, 100k real clauses).
_DENSE_PRUNE_FROM = 1 << 62


_KERNELS_LOCK = threading.Lock()
#: Seconds an exiting process waits for the kernels' background load to finish.
_KERNELS_EXIT_WAIT = 2.0
_KERNELS_STATE: dict[str, object] = {}


@contextlib.contextmanager
def light_kernels() -> Iterator[None]:
    """Within this block, search as a process that answers one query and exits does.

    Neither the compiled kernels (numba, loaded on a background thread that would compete
    with the query for the interpreter) nor scipy's scatter-add kernel (importing
    ``scipy.sparse`` costs 0.3-0.4 s) are loaded: every posting list goes through
    :func:`numpy.add.at`, which adds the same float32 products in the same order, so the
    results are the same, only slower per posting on long lists.  The previous choice is
    restored on exit (``policyidx search`` wraps its one query in this block).
    """
    global _USE_KERNELS
    saved_use, saved_kernel = _USE_KERNELS, list(_KERNEL)
    _USE_KERNELS = False
    _KERNEL[:] = [None]
    try:
        yield
    finally:
        _USE_KERNELS = saved_use
        _KERNEL[:] = saved_kernel


def _load_kernels() -> None:
    try:
        from policyidx.retrieval import _kernels as kernels

        if kernels.AVAILABLE:
            kernels.warm_up()  # compile, or load the compiled code from numba's disk cache
            _KERNELS_STATE["module"] = kernels
    except Exception:  # noqa: BLE001 - a broken numba means: the numpy/scipy path
        pass
    finally:
        _KERNELS_STATE["done"] = True


def _kernels_loading() -> bool:
    """True while the compiled kernels are being loaded on their background thread."""
    return _USE_KERNELS and "thread" in _KERNELS_STATE and not _KERNELS_STATE.get("done")


def _kernels(wait: bool = False):  # type: ignore[no-untyped-def]
    """The compiled kernels module once it is ready, else None (numba missing or disabled,
    :data:`_USE_KERNELS` off, or still loading).

    The first call starts loading them on a background thread (importing numba and loading
    the compiled code from its cache takes about half a second, compiling from scratch
    several seconds) and returns None at once, so no query waits for them: searches take
    the numpy/scipy path until the kernels are ready.  ``wait=True`` blocks until they are
    (benchmarks, tests, long batches).
    """
    if not _USE_KERNELS:
        return None
    module = _KERNELS_STATE.get("module")
    if module is not None or _KERNELS_STATE.get("done"):
        return module
    with _KERNELS_LOCK:
        thread = _KERNELS_STATE.get("thread")
        if thread is None:
            thread = threading.Thread(target=_load_kernels, name="policyidx-kernels", daemon=True)
            _KERNELS_STATE["thread"] = thread
            thread.start()
            # a daemon thread stopped at interpreter exit in the middle of numba's code loading
            # can abort the process (LLVM ERROR) after its work is done: exit waits for a load
            # from numba's disk cache (about half a second), not for a first compile
            atexit.register(thread.join, _KERNELS_EXIT_WAIT)
    if wait:
        thread.join()  # type: ignore[attr-defined]
    return _KERNELS_STATE.get("module")


def _load_csc_matvec() -> Callable[..., None] | None:
    """scipy's compiled ``y += A @ x`` for a CSC matrix, if it works in place here.

    It is a private scipy function (stable in name and signature since scipy 0.x), so it
    is checked on a tiny case once and :func:`numpy.add.at` is used when it is missing or
    behaves differently.
    """
    try:
        from scipy.sparse import _sparsetools

        fn = _sparsetools.csc_matvec
        y = np.zeros(4, dtype=np.float32)
        fn(4, 1, np.array([0, 2], dtype=np.int32), np.array([1, 3], dtype=np.int32),
           np.array([0.5, 2.0], dtype=np.float32), np.array([2.0], dtype=np.float32), y)
        if y.tolist() != [0.0, 1.0, 0.0, 4.0]:
            return None
        return fn
    except Exception:  # noqa: BLE001 - any failure means: use the numpy fallback
        return None


_KERNEL: list[Callable[..., None] | None] = []  # loaded on first use: importing scipy.sparse costs ~0.3 s
#: Posting lists from this length use scipy's kernel; shorter ones numpy.add.at (a short
#: list costs microseconds either way, and a small index never has to import scipy).
KERNEL_MIN_POSTINGS = 4096


def _csc_matvec() -> Callable[..., None] | None:
    if not _KERNEL:
        _KERNEL.append(_load_csc_matvec())
    return _KERNEL[0]


def _scatter_add(acc: np.ndarray, rows: np.ndarray, vals: np.ndarray, w: float) -> None:
    """``acc[rows] += w * vals`` with repeated rows adding up (they do not within one term).

    scipy's ``csc_matvec`` on a one-column matrix is a plain compiled loop: about 2 ns per
    posting against 5-9 ns for :func:`numpy.add.at` at a million rows (``policyidx bench``
    shows the effect on whole queries), and the weight is applied inside the loop, without a
    temporary array.
    """
    n = len(rows)
    if n == 0:
        return
    # scipy's kernel serves processes without the compiled kernels; while those are still
    # loading (the first queries of a process), importing scipy.sparse (0.3-0.4 s) would
    # cost more than it saves on one query
    kernel = _csc_matvec() if n >= KERNEL_MIN_POSTINGS and not _kernels_loading() else None
    if kernel is not None and rows.dtype == np.int32 and vals.dtype == np.float32:
        kernel(len(acc), 1, np.array([0, n], dtype=np.int32), rows, vals, np.array([w], dtype=np.float32), acc)
    elif w == 1.0:
        np.add.at(acc, rows, vals)
    else:
        np.add.at(acc, rows, np.float32(w) * vals)


def _dense_top_k(acc: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` non-zero entries of a dense score array, ties to the lower row.

    Instead of partitioning every non-zero score, a lower bound of the k-th best is taken
    from block maxima: if ``t`` is the k-th largest of the maxima of k or more disjoint
    blocks, at least k entries reach ``t``, so the top k (ties included) are among the
    entries ``>= t``, usually a few hundred of a million.
    """
    n = len(acc)
    block = min(1024, n // (4 * k))
    if block >= 8:
        m = n - n % block
        maxima = acc[:m].reshape(-1, block).max(axis=1)
        if m < n:
            maxima = np.append(maxima, acc[m:].max())
        t = np.partition(maxima, len(maxima) - k)[len(maxima) - k]
        if t > 0:
            cand = np.flatnonzero(acc >= t)
            return _top_k(cand, acc[cand], k)
    cand = np.flatnonzero(acc)
    return _top_k(cand, acc[cand], k)


def _top_k(cand: np.ndarray, vals: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` of (row, score) pairs, ``cand`` ascending; ties go to the lower row."""
    if len(cand) > k:
        kth = np.partition(vals, len(vals) - k)[len(vals) - k]
        keep = vals >= kth  # all rows tied with the k-th score, then a stable sort
        cand, vals = cand[keep], vals[keep]
    order = np.argsort(-vals, kind="stable")[:k]
    return cand[order], vals[order]
