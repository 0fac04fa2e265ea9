"""Dense text encoders: a built-in offline LSA encoder and sentence-transformers models.

Every encoder follows the :class:`Encoder` protocol: it has a ``name`` and a ``dim``, turns
texts into L2-normalised ``float32`` rows with :meth:`Encoder.encode`, and describes itself
for an index manifest with :meth:`Encoder.describe`.

:class:`BuiltinEncoder` is the default.  It needs no download: it is learned from the corpus
at build time (TF-IDF over unified Han character n-grams and word terms, reduced by a
truncated SVD, i.e. latent semantic analysis).  Because :func:`policyidx.han.unify` maps
Japanese shinjitai and Traditional characters to Simplified ones, a Chinese clause and its
Japanese translation share many features, and the SVD pulls related terms of both languages
together.

:class:`SentenceTransformerEncoder` wraps any local or locally cached
``sentence_transformers`` model.  It never downloads: a model that is not available locally
is an :class:`~policyidx.errors.EncoderError` that names it.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from array import array
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from .._io import atomic_directory
from ..errors import EncoderError, MissingDependencyError
from ..text.han import HAN_RUN
from ..parallel import default_workers
from ..text.termtable import TermTable, has_table

__all__ = [
    "Encoder",
    "BuiltinEncoder",
    "SentenceTransformerEncoder",
    "default_prefixes",
    "get_encoder",
    "load_encoder",
    "ST_INSTALL_COMMAND",
    "DEFAULT_DIM",
]

Kind = Literal["query", "passage"]

#: The exact command that installs the optional sentence-transformers stack (CPU torch first,
#: so pip does not pull a CUDA build).
ST_INSTALL_COMMAND = "pip install torch==2.13.0 && pip install sentence-transformers"

_BUILTIN_FORMAT = 1

#: Width of the built-in encoder's vectors unless asked otherwise.  512 was measured on the dev
#: split of the real-corpus query sets (eval/real/ real-* and real2-*, 190 queries over 202,623
#: clauses): dense-only hit@1 / hit@5 0.211 / 0.347 at 256 and 0.253 / 0.421 at 512, hybrid
#: 0.674 / 0.842 -> 0.684 / 0.842; but on the held-out queries the default (hybrid) mode lost 6
#: of 372 hits in the top 5 at 512, while the vectors doubled (797 MB on that corpus) and the
#: fit grew to a fifth of the build, so 256 stays (README, "Search quality").  The encoder's own
#: files record their width, so an index built at another width keeps working.
DEFAULT_DIM = 256


@runtime_checkable
class Encoder(Protocol):
    """What policyidx needs from an encoder.

    Attributes
    ----------
    name : str
        Stable identifier written to index manifests: ``"builtin"`` or ``"st:<model>"``.
    dim : int
        Width of the vectors :meth:`encode` returns.
    """

    name: str
    dim: int

    def encode(
        self,
        texts: Sequence[str],
        kind: Kind = "passage",
        batch_size: int = 64,
        progress: bool = False,
    ) -> np.ndarray:
        """Return a ``float32`` array of shape ``(len(texts), dim)`` with L2-normalised rows.

        Rows of texts that yield no usable signal stay all zero.  ``kind`` matters to
        models trained with asymmetric query/passage prefixes.
        """
        ...

    def describe(self) -> dict[str, Any]:
        """Return ``{"name", "dim", "parameters"}`` for the index manifest (JSON-safe)."""
        ...


# --------------------------------------------------------------------------- helpers


def _l2_normalise(mat: np.ndarray) -> np.ndarray:
    """Normalise rows in place to unit length; all-zero rows stay zero."""
    norms = np.sqrt(np.einsum("ij,ij->i", mat, mat, dtype=np.float64))
    nonzero = norms > 0
    mat[nonzero] /= norms[nonzero, None].astype(mat.dtype)
    return mat


def _progress(iterable: Iterable[Any], enabled: bool, total: int | None, desc: str) -> Iterable[Any]:
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="text")


# --------------------------------------------------------------------------- features

# Han ideographs (same blocks as policyidx.han.HAN_RANGES).  Runs of them are cut into
# n-grams after unification; kana, Latin letters and punctuation break the runs, so a
# Japanese particle never glues two Chinese terms into a spurious n-gram.
_HAN_RUN = HAN_RUN

_WORD_PREFIX = "w:"


class _Featurizer:
    """Turn a text into feature strings: unified Han n-grams and ``w:``-prefixed word terms."""

    def __init__(self, ngram_min: int, ngram_max: int, words: bool) -> None:
        from ..text.han import unify

        self.unify = unify
        self.ngram_min = ngram_min
        self.ngram_max = ngram_max
        self.analyze: Callable[..., list[str]] | None = None
        if words:
            from ..text.analysis import analyze

            self.analyze = analyze

    def __call__(self, text: str, analyzed: Sequence[str] | None = None) -> list[str]:
        unified = self.unify(text)
        feats: list[str] = []
        lo, hi = self.ngram_min, self.ngram_max
        for run in _HAN_RUN.findall(unified):
            size = len(run)
            for n in range(lo, min(hi, size) + 1):
                feats.extend([run[i : i + n] for i in range(size - n + 1)])
        if self.analyze is not None:
            # analyze() returns unified, lower-cased terms, and also "#"-prefixed Han bigrams
            # that the n-grams above already cover (counting them twice would double their
            # weight).
            terms = self.analyze(text) if analyzed is None else analyzed
            feats.extend([_WORD_PREFIX + t for t in terms if t and t[0] != "#"])
        return feats


def _next_terms(term_iter: Iterator[Sequence[str]] | None, position: int) -> Sequence[str] | None:
    if term_iter is None:
        return None
    try:
        return next(term_iter)
    except StopIteration:
        raise EncoderError(
            f"terms ran out at text {position}: pass one analyze() result per text"
        ) from None


def _bucket(feature: str, n_buckets: int) -> int:
    # crc32 rather than hash(): Python salts str hashes per process, buckets must be stable.
    return zlib.crc32(feature.encode("utf-8")) % n_buckets


# --------------------------------------------------------------------------- sparse maths


class _RowBlocks:
    """A CSR matrix cut into row blocks so products run on several threads.

    scipy's sparse kernels release the GIL, so two threads give close to a 2x speed-up on
    the 2-core machines policyidx targets.  Results are summed in block order, so they do
    not depend on thread scheduling.
    """

    def __init__(self, matrix: Any, threads: int) -> None:
        n = matrix.shape[0]
        self.shape = matrix.shape
        self.threads = max(1, threads)
        step = max(1, -(-n // self.threads))
        self.bounds = [(a, min(n, a + step)) for a in range(0, n, step)] or [(0, 0)]
        self.blocks = [matrix[a:b] for a, b in self.bounds]

    def _map(self, fn: Callable[[int], np.ndarray]) -> list[np.ndarray]:
        if self.threads == 1 or len(self.blocks) == 1:
            return [fn(i) for i in range(len(self.blocks))]
        with ThreadPoolExecutor(self.threads) as pool:
            return list(pool.map(fn, range(len(self.blocks))))

    def dot(self, dense: np.ndarray) -> np.ndarray:
        """``X @ dense``."""
        parts = self._map(lambda i: np.asarray(self.blocks[i] @ dense))
        return np.vstack(parts).astype(np.float32, copy=False)

    def tdot(self, dense: np.ndarray) -> np.ndarray:
        """``X.T @ dense``."""
        parts = self._map(
            lambda i: np.asarray(self.blocks[i].T @ dense[self.bounds[i][0] : self.bounds[i][1]])
        )
        out = parts[0].astype(np.float32, copy=True)
        for p in parts[1:]:
            out += p
        return out


def _gram64(mat: np.ndarray) -> np.ndarray:
    """``mat.T @ mat`` accumulated in float64 over row blocks (bounded extra memory)."""
    out = np.zeros((mat.shape[1], mat.shape[1]), dtype=np.float64)
    for a in range(0, mat.shape[0], 65_536):
        block = mat[a : a + 65_536].astype(np.float64)
        out += block.T @ block
    return out


def _orthonormal(mat: np.ndarray, passes: int = 2) -> np.ndarray:
    """An orthonormal basis of the columns of a tall float32 matrix.

    Uses the eigendecomposition of the small Gram matrix (Cholesky-QR style, repeated
    ``passes`` times for accuracy) instead of Householder QR: on a 262,144 x 272 block numpy's
    QR took ~40 s where this takes a few seconds, and the tall side may have a million rows.
    Directions with a negligible eigenvalue are dropped, so the basis may be narrower.
    """
    q = np.asarray(mat, dtype=np.float32)
    for _ in range(passes):
        evals, evecs = np.linalg.eigh(_gram64(q))
        keep = evals > max(evals[-1], 0.0) * 1e-10
        if not keep.any():
            return q[:, :0]
        q = q @ (evecs[:, keep] / np.sqrt(evals[keep])).astype(np.float32)
    return q


def _truncated_svd(
    matrix: Any, k: int, seed: int, n_iter: int, oversample: int, threads: int, exact_max: int = 2000
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(singular values, right singular vectors as columns)`` of a CSR matrix.

    Small problems (shorter side up to ``exact_max``) are solved exactly through the Gram
    matrix of the shorter side; large ones with a randomized range finder (Halko, Martinsson & Tropp 2011) with ``n_iter``
    power iterations, which is deterministic for a given ``seed``.
    """
    n, m = matrix.shape
    if min(n, m) <= max(exact_max, 2 * (k + oversample)):
        if n <= m:
            mat64 = matrix.astype(np.float64)
            gram = (mat64 @ mat64.T).toarray()
            evals, evecs = np.linalg.eigh(gram)
            order = np.argsort(evals)[::-1][:k]
            s = np.sqrt(np.clip(evals[order], 0.0, None))
            u = evecs[:, order]
            safe = np.where(s > 0, s, 1.0)
            v = np.asarray(mat64.T @ u) / safe
        else:
            mat64 = matrix.astype(np.float64).tocsc()
            gram = (mat64.T @ mat64).toarray()
            evals, evecs = np.linalg.eigh(gram)
            order = np.argsort(evals)[::-1][:k]
            s = np.sqrt(np.clip(evals[order], 0.0, None))
            v = evecs[:, order]
        return s, v.astype(np.float32)

    blocks = _RowBlocks(matrix, threads)
    rng = np.random.default_rng(seed)
    width = min(k + oversample, min(n, m))
    omega = rng.standard_normal((m, width), dtype=np.float32)
    q = _orthonormal(blocks.dot(omega), passes=1)
    for _ in range(n_iter):
        # One pass is enough in between: power iterations only need the columns kept
        # apart, the final basis below is orthonormalised properly.
        z = _orthonormal(blocks.tdot(q), passes=1)
        q = _orthonormal(blocks.dot(z), passes=1)
    q = _orthonormal(q, passes=2)
    b_t = blocks.tdot(q)  # (m, width) = (Q^T X)^T
    # SVD of B = Q^T X through its small Gram matrix: B B^T = U S^2 U^T, V = B^T U S^-1.
    evals, evecs = np.linalg.eigh(_gram64(b_t))
    order = np.argsort(evals)[::-1][:k]
    s = np.sqrt(np.clip(evals[order], 0.0, None))
    safe = np.where(s > 0, s, 1.0)
    v = b_t @ (evecs[:, order] / safe).astype(np.float32)
    return s, v


def _fix_signs(components: np.ndarray) -> np.ndarray:
    """Make the largest-magnitude entry of every column positive (SVD signs are arbitrary)."""
    if components.size == 0:
        return components
    idx = np.argmax(np.abs(components), axis=0)
    signs = np.sign(components[idx, np.arange(components.shape[1])])
    signs[signs == 0] = 1
    return components * signs.astype(components.dtype)


def _row_norms(matrix: Any) -> np.ndarray:
    data = matrix.data.astype(np.float64) ** 2
    csum = np.concatenate([[0.0], np.cumsum(data)])
    return np.sqrt(np.maximum(csum[matrix.indptr[1:]] - csum[matrix.indptr[:-1]], 0.0))


# --------------------------------------------------------------------------- builtin


class _ClassOrInstanceMethod:
    """Bind to the instance, or to a fresh ``cls()`` when looked up on the class.

    Lets ``BuiltinEncoder.fit(texts)`` (a new fitted encoder) and
    ``BuiltinEncoder().fit(texts)`` (fit this one) both work.
    """

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__
        self.__wrapped__ = func

    def __get__(self, obj: Any, objtype: type | None = None) -> Callable[..., Any]:
        if obj is None:
            assert objtype is not None
            obj = objtype()
        return self.func.__get__(obj, objtype)


class BuiltinEncoder:
    """Latent semantic analysis encoder learned from the corpus; works offline.

    ``BuiltinEncoder()`` is unfitted; :meth:`fit` learns the vocabulary, idf weights and
    the SVD projection, :meth:`load` reopens a saved one.

    Features of a text are the character n-grams (``ngram_range``, default 1-3) of its Han
    runs after :func:`policyidx.han.unify` plus the word terms of
    :func:`policyidx.analysis.analyze`.  Weights are TF-IDF with sublinear tf
    (``1 + log tf``) and smoothed idf (``log((1 + n) / (1 + df)) + 1``), rows L2-normalised,
    then projected on the top right singular vectors of the training matrix.  Query and
    passage texts go through the same pipeline (``kind`` is ignored); features never seen
    in training are ignored.
    """

    name = "builtin"

    def __init__(self) -> None:
        self._vocab: Mapping[str, int] | None = None
        self._buckets: np.ndarray | None = None  # hashing mode: kept bucket ids, sorted
        self._n_buckets: int | None = None
        self._idf: np.ndarray | None = None
        self._components: np.ndarray | None = None  # (n_features, dim)
        self._params: dict[str, Any] = {}
        self._featurizer: _Featurizer | None = None

    # ----------------------------------------------------------------- state

    @property
    def fitted(self) -> bool:
        """Whether :meth:`fit` or :meth:`load` has given the encoder its model."""
        return self._components is not None

    def _require_fitted(self) -> None:
        if not self.fitted:
            raise EncoderError(
                "the builtin encoder is not fitted: call BuiltinEncoder().fit(texts) on the "
                "corpus texts, or BuiltinEncoder.load(directory) to reopen a saved one"
            )

    @property
    def dim(self) -> int:  # type: ignore[override]
        """Width of the vectors (the requested ``dim`` capped by the corpus rank); 0 until fitted."""
        return 0 if self._components is None else int(self._components.shape[1])

    @property
    def n_features(self) -> int:
        """Number of TF-IDF columns kept after pruning."""
        self._require_fitted()
        assert self._idf is not None
        return int(self._idf.shape[0])

    @property
    def hashing(self) -> bool:
        """Whether features are hashed into buckets instead of kept in a vocabulary."""
        return self._buckets is not None

    def _get_featurizer(self) -> _Featurizer:
        if self._featurizer is None:
            lo, hi = self._params.get("ngram_range", (1, 3))
            self._featurizer = _Featurizer(int(lo), int(hi), bool(self._params.get("words", True)))
        return self._featurizer

    # ----------------------------------------------------------------- fit

    @_ClassOrInstanceMethod
    def fit(
        self,
        texts: Iterable[str],
        dim: int = DEFAULT_DIM,
        seed: int = 0,
        progress: bool = False,
        *,
        ngram_range: tuple[int, int] = (1, 3),
        words: bool = True,
        min_df: int = 1,
        max_features: int = 262_144,
        max_vocab: int = 4_000_000,
        n_buckets: int = 1 << 22,
        n_iter: int | None = None,
        oversample: int = 16,
        threads: int | None = None,
        terms: Iterable[Sequence[str]] | None = None,
    ) -> "BuiltinEncoder":
        """Learn the vocabulary, idf weights and SVD projection from ``texts``.

        Called on the class (``BuiltinEncoder.fit(texts)``) it fits and returns a new
        encoder; called on an instance it fits that instance and returns it.

        Parameters
        ----------
        texts : iterable of str
            The training texts, typically every clause of the corpus.  Iterated once, so a
            generator over a large corpus is fine.
        dim : int
            Requested vector width.  Capped by the rank of the training matrix, so a small
            corpus gives fewer dimensions (see :attr:`dim` after fitting).
        seed : int
            Seed of the randomized SVD; two fits with the same texts and seed give the same
            vectors.
        progress : bool
            Show a progress bar while reading texts.
        ngram_range : (int, int)
            Smallest and largest Han character n-gram.  Unigrams carry the cross-language
            signal (one character, same meaning in zh and ja); bi- and trigrams carry terms.
        words : bool
            Add the word terms of :func:`policyidx.analysis.analyze` (segmenter output, Latin
            words, numbers).
        min_df : int
            Drop features seen in fewer texts; 1 keeps everything, use 2 or more on large
            corpora to shed typos and PDF debris.
        max_features : int
            Keep at most this many features, the most frequent by document frequency.  Bounds
            the size of the saved projection (``max_features * dim * 4`` bytes).
        max_vocab : int
            When more distinct features than this are seen, switch to hashing them into
            ``n_buckets`` buckets so memory stays bounded on very large corpora.
        n_buckets : int
            Number of hash buckets in hashing mode.
        n_iter : int or None
            Power iterations of the randomized SVD; None picks 4 below 200,000 texts and 2
            above (each iteration costs two passes over the matrix).
        oversample : int
            Extra random directions of the randomized SVD; more is more accurate.
        threads : int or None
            Threads for the sparse products (default: the CPUs available to the process).
        terms : iterable of sequence of str, optional
            :func:`policyidx.analysis.analyze` of each text, in the same order, when the
            caller has it already (an index build tokenises every clause for the keyword
            index): the word features are then taken from it instead of segmenting every
            text a second time.  Ignored when ``words`` is false.

        Returns
        -------
        BuiltinEncoder
            ``self``, fitted.

        Raises
        ------
        EncoderError
            If the texts give no features at all, or a parameter is out of range.
        """
        import scipy.sparse as sp

        lo, hi = int(ngram_range[0]), int(ngram_range[1])
        if not 1 <= lo <= hi:
            raise EncoderError(f"ngram_range must be (lo, hi) with 1 <= lo <= hi; got {ngram_range!r}")
        if dim < 1:
            raise EncoderError(f"dim must be a positive integer; got {dim}")
        if max_features < 1 or min_df < 1 or n_buckets < 1 or max_vocab < 1:
            raise EncoderError(
                "max_features, min_df, n_buckets and max_vocab must be positive; got "
                f"{max_features}, {min_df}, {n_buckets}, {max_vocab}"
            )
        self._params = {"ngram_range": [lo, hi], "words": bool(words)}
        self._featurizer = None
        featurize = self._get_featurizer()

        total = len(texts) if hasattr(texts, "__len__") else None  # type: ignore[arg-type]
        vocab: dict[str, int] | None = {}
        remap: np.ndarray | None = None  # vocabulary id -> bucket, once hashing started
        switch_at = 0  # number of stored entries written with vocabulary ids
        indices = array("q")
        indptr = array("q", [0])
        term_iter = iter(terms) if terms is not None else None
        for text in _progress(texts, progress, total, "builtin encoder: features"):
            if not isinstance(text, str):
                raise EncoderError(f"fit() expects strings; got {type(text).__name__} at text {len(indptr) - 1}")
            feats = featurize(text, _next_terms(term_iter, len(indptr) - 1))
            if vocab is not None:
                setdefault = vocab.setdefault
                indices.extend([setdefault(f, len(vocab)) for f in feats])
                if len(vocab) > max_vocab:
                    # Too many distinct features to keep: hash the ones seen so far (the
                    # rewrite happens once, at the end) and every later one.
                    remap = np.fromiter(
                        (_bucket(f, n_buckets) for f in vocab), dtype=np.int64, count=len(vocab)
                    )
                    switch_at = len(indices)
                    vocab = None
            else:
                indices.extend([_bucket(f, n_buckets) for f in feats])
            indptr.append(len(indices))

        n_docs = len(indptr) - 1
        cols = np.frombuffer(indices, dtype=np.int64) if len(indices) else np.zeros(0, np.int64)
        if remap is not None:
            cols = cols.copy()
            cols[:switch_at] = remap[cols[:switch_at]]
            n_cols = n_buckets
        else:
            assert vocab is not None
            n_cols = len(vocab)
        if n_docs == 0 or n_cols == 0 or cols.size == 0:
            raise EncoderError(
                f"cannot fit the builtin encoder: the {n_docs} training texts yield no Han "
                "characters or word terms; pass the corpus texts (Chinese or Japanese)"
            )
        matrix = sp.csr_matrix(
            (np.ones(cols.size, np.float32), cols, np.frombuffer(indptr, dtype=np.int64)),
            shape=(n_docs, n_cols),
        )
        del cols, indices
        matrix.sum_duplicates()  # duplicate (row, col) entries add up to term counts
        df = np.bincount(matrix.indices, minlength=n_cols)

        keep = np.flatnonzero(df >= min_df)
        if keep.size > max_features:
            # Most frequent first; ties broken by column id (first occurrence), so the
            # choice does not depend on anything but the texts and their order.
            order = np.lexsort((keep, -df[keep]))
            keep = np.sort(keep[order[:max_features]])
        if keep.size == 0:
            raise EncoderError(
                f"cannot fit the builtin encoder: no feature occurs in at least min_df={min_df} "
                "texts; lower min_df"
            )
        if keep.size < n_cols:
            matrix = matrix[:, keep]
        df_kept = df[keep]

        if remap is None:
            assert vocab is not None
            names = list(vocab)
            self._vocab = {names[c]: i for i, c in enumerate(keep.tolist())}
            self._buckets = None
            self._n_buckets = None
        else:
            self._vocab = None
            self._buckets = keep.astype(np.int64)
            self._n_buckets = int(n_buckets)
        del vocab

        idf = (np.log((1.0 + n_docs) / (1.0 + df_kept)) + 1.0).astype(np.float32)
        matrix = self._weight(matrix, idf)

        threads = threads or default_workers()
        if n_iter is None:
            n_iter = 4 if n_docs <= 200_000 else 2
        k = min(int(dim), n_docs, keep.size)
        s, v = _truncated_svd(matrix, k, seed, n_iter, oversample, threads)
        # Cap by the numerical rank: directions with (near) zero singular value are noise.
        rank = int(np.sum(s > s[0] * 1e-5)) if s.size and s[0] > 0 else 0
        if rank == 0:
            raise EncoderError("cannot fit the builtin encoder: the TF-IDF matrix has rank 0")
        self._idf = idf
        self._components = np.ascontiguousarray(_fix_signs(v[:, :rank]), dtype=np.float32)
        self._params.update(
            {
                "requested_dim": int(dim),
                "seed": int(seed),
                "min_df": int(min_df),
                "max_features": int(max_features),
                "max_vocab": int(max_vocab),
                "n_buckets": self._n_buckets,
                "n_iter": int(n_iter),
                "oversample": int(oversample),
                "n_train_texts": int(n_docs),
                "n_features": int(keep.size),
            }
        )
        return self

    @staticmethod
    def _weight(matrix: Any, idf: np.ndarray) -> Any:
        """Sublinear tf times idf, rows L2-normalised (in place on ``matrix``)."""
        matrix.data = (1.0 + np.log(matrix.data)).astype(np.float32)
        matrix.data *= idf[matrix.indices]
        norms = _row_norms(matrix)
        scale = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0).astype(np.float32)
        matrix.data *= np.repeat(scale, np.diff(matrix.indptr))
        return matrix

    # ----------------------------------------------------------------- encode

    def _columns(self, feats: list[str]) -> list[int]:
        if self._vocab is not None:
            get = self._vocab.get
            return [c for c in map(get, feats) if c is not None]
        assert self._buckets is not None and self._n_buckets is not None
        if not feats:
            return []
        buckets = np.fromiter((_bucket(f, self._n_buckets) for f in feats), np.int64, len(feats))
        pos = np.searchsorted(self._buckets, buckets)
        pos = np.minimum(pos, self._buckets.size - 1)
        return pos[self._buckets[pos] == buckets].tolist()

    def _tfidf(self, texts: Sequence[str], terms: Sequence[Sequence[str]] | None = None) -> Any:
        import scipy.sparse as sp

        featurize = self._get_featurizer()
        cols: list[int] = []
        indptr = [0]
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise EncoderError(f"encode() expects strings; got {type(text).__name__}")
            cols.extend(self._columns(featurize(text, None if terms is None else terms[i])))
            indptr.append(len(cols))
        assert self._idf is not None
        matrix = sp.csr_matrix(
            (np.ones(len(cols), np.float32), np.asarray(cols, np.int64), np.asarray(indptr, np.int64)),
            shape=(len(texts), self._idf.shape[0]),
        )
        matrix.sum_duplicates()
        return self._weight(matrix, self._idf)

    def encode(
        self,
        texts: Sequence[str],
        kind: Kind = "passage",
        batch_size: int = 64,
        progress: bool = False,
        *,
        terms: Sequence[Sequence[str]] | None = None,
    ) -> np.ndarray:
        """Encode ``texts`` into L2-normalised ``float32`` rows of width :attr:`dim`.

        Parameters
        ----------
        texts : sequence of str
            Texts in any mix of Chinese and Japanese.  A text with no known feature gives a
            zero row.
        kind : {"query", "passage"}
            Accepted for the protocol; the builtin encoder treats both alike.
        batch_size : int
            Texts per sparse product; larger batches are faster, smaller ones use less memory.
        progress : bool
            Show a progress bar.
        terms : sequence of sequence of str, optional
            :func:`policyidx.analysis.analyze` of each text when already computed; saves
            segmenting the texts again (see :meth:`fit`).

        Returns
        -------
        numpy.ndarray
            Shape ``(len(texts), dim)``, dtype ``float32``.
        """
        self._require_fitted()
        if isinstance(texts, str):
            raise EncoderError("encode() expects a sequence of strings, not one string; wrap it in a list")
        if kind not in ("query", "passage"):
            raise EncoderError(f"kind must be 'query' or 'passage'; got {kind!r}")
        assert self._components is not None
        texts = list(texts)
        if terms is not None and len(terms) != len(texts):
            raise EncoderError(
                f"terms must hold one analyze() result per text: got {len(terms)} for {len(texts)} texts"
            )
        if len(texts) == 1 and not progress:
            # one text (a query): the same arithmetic without building a sparse matrix, so
            # that answering a query never imports scipy
            out = self._encode_one(texts[0], None if terms is None else terms[0])[None, :]
            return _l2_normalise(out)
        if isinstance(self._vocab, TermTable) and len(texts) > 256:
            # many texts: a dict's lookups beat decoding bytes per feature
            self._vocab = dict(zip(self._vocab.terms(), range(len(self._vocab))))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        step = max(1, int(batch_size))
        starts = range(0, len(texts), step)
        for a in _progress(starts, progress, len(starts), "builtin encoder: encode"):
            batch = texts[a : a + step]
            batch_terms = None if terms is None else terms[a : a + step]
            out[a : a + len(batch)] = np.asarray(self._tfidf(batch, batch_terms) @ self._components)
        return _l2_normalise(out)

    def _encode_one(self, text: str, terms: Sequence[str] | None) -> np.ndarray:
        """``_tfidf([text]) @ components`` in numpy, operation for operation as scipy does
        it (counts summed per column in column order, sublinear tf times idf, the norm from
        a float64 running sum, then ``y += w * component`` column after column)."""
        if not isinstance(text, str):
            raise EncoderError(f"encode() expects strings; got {type(text).__name__}")
        assert self._idf is not None and self._components is not None
        cols = np.asarray(self._columns(self._get_featurizer()(text, terms)), dtype=np.int64)
        out = np.zeros(self.dim, dtype=np.float32)
        if cols.size == 0:
            return out
        uniq, counts = np.unique(cols, return_counts=True)
        data = (1.0 + np.log(counts.astype(np.float32))).astype(np.float32)
        data *= self._idf[uniq]
        total = np.cumsum(data.astype(np.float64) ** 2)[-1]
        norm = np.sqrt(max(total - 0.0, 0.0))
        scale = np.float32(1.0 / norm) if norm > 0 else np.float32(0.0)
        data *= scale
        comps = self._components
        for w, c in zip(data.tolist(), uniq.tolist()):
            out += np.float32(w) * comps[c]
        return out

    def describe(self) -> dict[str, Any]:
        """Return the manifest entry: name, dim and the fitting parameters."""
        self._require_fitted()
        return {"name": self.name, "dim": self.dim, "parameters": dict(self._params)}

    # ----------------------------------------------------------------- persistence

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write the fitted model to ``directory`` atomically and return its path.

        The directory holds ``encoder.json`` (format version and parameters),
        ``vocabulary.{terms,offsets,slots}.npy`` (the feature strings in column order as a
        :class:`~policyidx.text.termtable.TermTable`; absent in hashing mode, where
        ``buckets.npy`` lists the kept bucket ids), ``idf.npy`` and ``components.npy``
        (``(n_features, dim)`` float32).  An existing ``directory`` is replaced as a whole.
        """
        self._require_fitted()
        assert self._idf is not None and self._components is not None
        with atomic_directory(directory) as tmp:
            meta = {
                "format": _BUILTIN_FORMAT,
                "name": self.name,
                "dim": self.dim,
                "n_features": self.n_features,
                "hashing": self.hashing,
                "parameters": self._params,
            }
            (tmp / "encoder.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
            if isinstance(self._vocab, TermTable):
                self._vocab.save(tmp, "vocabulary")
            elif self._vocab is not None:
                names = sorted(self._vocab, key=self._vocab.__getitem__)
                TermTable.from_terms(names).save(tmp, "vocabulary")
            else:
                np.save(tmp / "buckets.npy", self._buckets, allow_pickle=False)
            np.save(tmp / "idf.npy", self._idf, allow_pickle=False)
            np.save(tmp / "components.npy", self._components, allow_pickle=False)
        return Path(directory)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> "BuiltinEncoder":
        """Reopen an encoder written by :meth:`save`.

        Raises
        ------
        EncoderError
            If files are missing, of another format version, or inconsistent.
        """
        path = Path(directory)
        try:
            meta = json.loads((path / "encoder.json").read_text(encoding="utf-8"))
            idf = np.load(path / "idf.npy", allow_pickle=False)
            # memory-mapped: a query reads only the rows of its own features, so opening
            # an index does not read the whole projection (100+ MB on a real corpus)
            components = np.load(path / "components.npy", mmap_mode="r", allow_pickle=False)
            names: list[str] | TermTable | None
            if meta.get("hashing"):
                buckets = np.load(path / "buckets.npy", allow_pickle=False)
                names = None
            elif has_table(path, "vocabulary"):
                # mapped, not decoded: opening costs nothing per vocabulary entry
                names, buckets = TermTable.load(path, "vocabulary"), None
            else:  # saved before the term table (a JSON list)
                names = json.loads((path / "vocabulary.json").read_text(encoding="utf-8"))
                buckets = None
        except (OSError, ValueError) as exc:
            raise EncoderError(
                f"cannot load the builtin encoder from {path}: {exc}; expected encoder.json, "
                "vocabulary.{terms,offsets,slots}.npy (or buckets.npy), idf.npy and components.npy written by "
                "BuiltinEncoder.save(); rebuild the index"
            ) from exc
        if meta.get("format") != _BUILTIN_FORMAT or meta.get("name") != cls.name:
            raise EncoderError(
                f"{path / 'encoder.json'} describes format {meta.get('format')!r} of encoder "
                f"{meta.get('name')!r}; expected format {_BUILTIN_FORMAT} of 'builtin'; rebuild the index"
            )
        n_feat = idf.shape[0] if idf.ndim == 1 else -1
        keys = len(names) if names is not None else (buckets.shape[0] if buckets is not None else -1)
        if components.ndim != 2 or components.shape[0] != n_feat or keys != n_feat:
            raise EncoderError(
                f"inconsistent builtin encoder files in {path}: idf {idf.shape}, components "
                f"{components.shape}, {keys} vocabulary entries; rebuild the index"
            )
        enc = cls()
        enc._params = dict(meta.get("parameters", {}))
        enc._idf = idf.astype(np.float32, copy=False)
        if components.dtype == np.float32 and components.flags.c_contiguous:
            # a plain read-only view of the mapping (np.memmap slices carry per-access
            # overhead); the mapping stays open as its base
            enc._components = np.ndarray(
                components.shape, dtype=np.float32, buffer=components, order="C"
            )
        else:
            enc._components = np.ascontiguousarray(components, dtype=np.float32)
        if names is not None:
            enc._vocab = names if isinstance(names, TermTable) else dict(zip(names, range(len(names))))
        else:
            enc._buckets = buckets.astype(np.int64, copy=False)
            enc._n_buckets = int(enc._params["n_buckets"])
        return enc

    def __repr__(self) -> str:
        if not self.fitted:
            return "BuiltinEncoder(unfitted)"
        return f"BuiltinEncoder(dim={self.dim}, n_features={self.n_features}, hashing={self.hashing})"


# --------------------------------------------------------------------------- sentence-transformers

_BGE_EN = "Represent this sentence for searching relevant passages: "
_BGE_ZH = "为这个句子生成表示以用于检索相关文章："
_E5_INSTRUCT = "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery: "

# (pattern on the lower-cased model name, query prefix, passage prefix); first match wins.
_PREFIX_TABLE: tuple[tuple[str, str, str], ...] = (
    (r"e5-.*instruct", _E5_INSTRUCT, ""),
    (r"(^|[/_-])e5([-_]|$)", "query: ", "passage: "),
    (r"bge-m3", "", ""),  # bge-m3 was trained without instructions
    (r"bge-.*zh", _BGE_ZH, ""),
    (r"bge-", _BGE_EN, ""),
    (r"nomic-embed-text", "search_query: ", "search_document: "),
    (r"mxbai-embed-large", _BGE_EN, ""),
    (r"snowflake-arctic-embed-(xs|s|m|l)($|[^a-z-])", _BGE_EN, ""),
    (r"gte-(qwen|multilingual-instruct)", _E5_INSTRUCT, ""),
)


def default_prefixes(model: str) -> tuple[str, str]:
    """Return the ``(query_prefix, passage_prefix)`` that ``model`` was trained with.

    Matches the model name (a hub name or a directory path; only its last two path
    components count) against a table of known families: e5 (``query: ``/``passage: ``),
    multilingual-e5-*-instruct, BGE (English and Chinese retrieval instructions, none for
    bge-m3), nomic-embed-text, mxbai-embed-large, snowflake-arctic-embed and gte-Qwen.
    Unknown models get no prefix.

    Examples
    --------
    >>> default_prefixes("intfloat/multilingual-e5-base")
    ('query: ', 'passage: ')
    >>> default_prefixes("sentence-transformers/LaBSE")
    ('', '')
    """
    tail = "/".join(Path(str(model).rstrip("/\\")).parts[-2:]).lower()
    for pattern, query, passage in _PREFIX_TABLE:
        if re.search(pattern, tail):
            return query, passage
    return "", ""


@contextmanager
def _offline_env() -> Iterator[None]:
    """Set the Hugging Face offline switches for the duration of a model load."""
    keys = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")
    saved = {k: os.environ.get(k) for k in keys}
    for k in keys:
        os.environ[k] = "1"
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _import_sentence_transformers() -> Any:
    # huggingface_hub reads HF_HUB_OFFLINE once, at import; set it before the first import
    # so that no code path behind local_files_only can reach for the network either.
    with _offline_env():
        try:
            import sentence_transformers
        except ImportError as exc:
            raise MissingDependencyError(
                f"the sentence-transformers encoder needs the optional packages torch and "
                f"sentence-transformers ({exc}); install them with: {ST_INSTALL_COMMAND}"
            ) from exc
    return sentence_transformers


class SentenceTransformerEncoder:
    """A ``sentence_transformers`` model loaded from a local directory or the local cache.

    Parameters
    ----------
    model : str
        A directory holding a saved SentenceTransformer (or transformers) model, or a hub
        name such as ``intfloat/multilingual-e5-base`` that is already in the local Hugging
        Face cache.  Nothing is ever downloaded.
    device : str
        Torch device, ``"cpu"`` by default.
    batch_size : int
        Default batch size of :meth:`encode`.
    query_prefix, passage_prefix : str or None
        Text put before queries and passages.  None uses :func:`default_prefixes` for known
        model families, then prompts named ``query`` and ``passage``/``document`` saved with
        the model, else nothing.

    Raises
    ------
    MissingDependencyError
        If sentence-transformers (or torch) is not installed.
    EncoderError
        If the model is neither a local directory nor in the local cache, or fails to load.
    """

    def __init__(
        self,
        model: str,
        device: str = "cpu",
        batch_size: int = 32,
        *,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise EncoderError(f"a sentence-transformers model name or path is required; got {model!r}")
        self.model_name = model
        self.name = f"st:{model}"
        self.device = device
        self.batch_size = int(batch_size)
        st = _import_sentence_transformers()
        self._model = self._load(st, model, device)
        dim = None
        for getter in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
            if hasattr(self._model, getter):
                dim = getattr(self._model, getter)()
                break
        if dim is None:  # some modules do not declare their width: measure it
            dim = int(np.asarray(self._model.encode(["x"], convert_to_numpy=True)).shape[1])
        self.dim = int(dim)

        table_q, table_p = default_prefixes(model)
        saved = dict(getattr(self._model, "prompts", None) or {})
        saved_q = saved.get("query", "")
        saved_p = saved.get("passage", saved.get("document", ""))
        known = (table_q, table_p) != ("", "")
        self.query_prefix = query_prefix if query_prefix is not None else (table_q if known else saved_q)
        self.passage_prefix = passage_prefix if passage_prefix is not None else (table_p if known else saved_p)

    @staticmethod
    def _load(st: Any, model: str, device: str) -> Any:
        path = Path(model).expanduser()
        # A hub name is "name" or "org/name"; anything else that does not exist is a path
        # typed wrong, and deserves a plainer message than the hub client's.
        looks_like_path = (
            path.is_absolute() or model.startswith((".", "~")) or "\\" in model or model.count("/") > 1
        )
        if looks_like_path and not path.is_dir():
            raise EncoderError(
                f"sentence-transformers model {model!r}: no such directory; pass the directory "
                "of a model saved with SentenceTransformer.save(), or a hub name that is in the "
                "local Hugging Face cache"
            )
        target = str(path) if path.is_dir() else model
        try:
            with _offline_env():
                return st.SentenceTransformer(target, device=device, local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - every loader failure means the same to the user
            cache = os.environ.get("HF_HOME") or os.path.join("~", ".cache", "huggingface")
            raise EncoderError(
                f"cannot load sentence-transformers model {model!r} offline "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
                f"policyidx never downloads models: either pass the path of a local directory "
                f"holding the model, or, on a machine with network access, run "
                f"`python -c \"from sentence_transformers import SentenceTransformer; "
                f"SentenceTransformer('{model}').save('{Path(model).name}')\"` and copy that "
                f"directory here (or fill the Hugging Face cache under {cache})"
            ) from exc

    def prefix(self, kind: Kind) -> str:
        """Return the prefix applied to texts of ``kind``."""
        if kind == "query":
            return self.query_prefix
        if kind == "passage":
            return self.passage_prefix
        raise EncoderError(f"kind must be 'query' or 'passage'; got {kind!r}")

    def encode(
        self,
        texts: Sequence[str],
        kind: Kind = "passage",
        batch_size: int | None = None,
        progress: bool = False,
    ) -> np.ndarray:
        """Encode ``texts`` (with the prefix of ``kind``) into L2-normalised float32 rows.

        Parameters
        ----------
        texts : sequence of str
            The texts, without prefix.
        kind : {"query", "passage"}
            Selects the prefix.
        batch_size : int or None
            Texts per forward pass; None uses the constructor's ``batch_size``.
        progress : bool
            Show sentence-transformers' progress bar.

        Returns
        -------
        numpy.ndarray
            Shape ``(len(texts), dim)``, dtype ``float32``.
        """
        if isinstance(texts, str):
            raise EncoderError("encode() expects a sequence of strings, not one string; wrap it in a list")
        prefix = self.prefix(kind)
        texts = [prefix + t for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode(
            texts,
            batch_size=int(batch_size or self.batch_size),
            show_progress_bar=bool(progress),
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        # normalize_embeddings divides by max(norm, eps), so zero rows stay zero; renormalise
        # in float32 anyway so every encoder returns rows of exactly the same kind.
        return _l2_normalise(np.ascontiguousarray(vecs, dtype=np.float32))

    def describe(self) -> dict[str, Any]:
        """Return the manifest entry: name, dim, model, prefixes and library version."""
        st = _import_sentence_transformers()
        return {
            "name": self.name,
            "dim": self.dim,
            "parameters": {
                "model": self.model_name,
                "query_prefix": self.query_prefix,
                "passage_prefix": self.passage_prefix,
                "max_seq_length": getattr(self._model, "max_seq_length", None),
                "sentence_transformers": getattr(st, "__version__", None),
            },
        }

    def __repr__(self) -> str:
        return f"SentenceTransformerEncoder({self.model_name!r}, dim={self.dim}, device={self.device!r})"


# --------------------------------------------------------------------------- factory


def get_encoder(spec: str = "builtin", **kw: Any) -> Encoder:
    """Create an encoder from a spec string.

    Parameters
    ----------
    spec : str
        ``"builtin"`` for :class:`BuiltinEncoder` or ``"st:NAME_OR_PATH"`` for
        :class:`SentenceTransformerEncoder`.
    **kw
        For ``builtin``: ``texts=`` fits the encoder right away, every other keyword goes to
        :meth:`BuiltinEncoder.fit`; without ``texts`` the encoder is returned unfitted.
        For ``st:``: keywords of :class:`SentenceTransformerEncoder`.

    Raises
    ------
    EncoderError
        For an unknown spec, or keywords given to an unfitted builtin encoder.
    """
    spec = (spec or "").strip()
    if spec == "builtin":
        texts = kw.pop("texts", None)
        if texts is None:
            if kw:
                raise EncoderError(
                    f"fitting options {sorted(kw)} need texts=: get_encoder('builtin', texts=..., ...)"
                )
            return BuiltinEncoder()
        return BuiltinEncoder().fit(texts, **kw)
    if spec.startswith("st:") and spec[3:].strip():
        return SentenceTransformerEncoder(spec[3:].strip(), **kw)
    raise EncoderError(
        f"unknown encoder {spec!r}: expected 'builtin' or 'st:<model name or local path>' "
        "(e.g. 'st:intfloat/multilingual-e5-base')"
    )


def load_encoder(directory: str | os.PathLike[str] | None, description: dict[str, Any]) -> Encoder:
    """Reopen the encoder an index was built with.

    Parameters
    ----------
    directory : path or None
        Where :meth:`BuiltinEncoder.save` wrote the builtin encoder; unused for
        sentence-transformers models, which live outside the index.
    description : dict
        The manifest entry written by :meth:`Encoder.describe`.

    Raises
    ------
    EncoderError
        If the description names no known encoder, or the reopened encoder's width differs
        from the recorded one.
    """
    name = str(description.get("name", ""))
    params = dict(description.get("parameters") or {})
    if name == "builtin":
        if directory is None:
            raise EncoderError("the builtin encoder is stored in the index: a directory is required")
        enc: Encoder = BuiltinEncoder.load(directory)
    elif name.startswith("st:"):
        enc = SentenceTransformerEncoder(
            params.get("model", name[3:]),
            query_prefix=params.get("query_prefix"),
            passage_prefix=params.get("passage_prefix"),
        )
    else:
        raise EncoderError(
            f"the index manifest names encoder {name!r}; expected 'builtin' or 'st:<model>'; "
            "rebuild the index"
        )
    expected = description.get("dim")
    if expected is not None and int(expected) != enc.dim:
        raise EncoderError(
            f"encoder {name!r} gives {enc.dim}-dimensional vectors but the index was built with "
            f"{expected}; use the model the index was built with, or rebuild the index"
        )
    return enc
