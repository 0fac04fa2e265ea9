"""BM25 variants by name, as bm25s names them.

Each scorer gives the *impact* of a term in a row, ``idf(t) * tf_part(tf, dl)``, which the
keyword index stores per posting (a query's score is the weighted sum of the impacts of its
terms).  ``lucene`` is the default and the variant every figure in the README was measured
with; the others follow the definitions compared by Kamphuis et al. (ECIR 2020):

- ``lucene``: idf ``ln(1 + (N - df + 0.5) / (df + 0.5))``, tf part ``tf / (tf + k1 * L)``
  with ``L = 1 - b + b * dl / avgdl``.
- ``robertson``: idf ``ln((N - df + 0.5) / (df + 0.5))`` floored at 0, tf part as
  ``lucene`` (the constant factor ``k1 + 1`` left out, as bm25s does).
- ``atire``: idf ``ln(N / df)``, tf part ``tf * (k1 + 1) / (tf + k1 * L)``.
- ``bm25l``: idf ``ln((N + 1) / (df + 0.5))``, ``c = tf / L``, tf part
  ``(k1 + 1) * (c + delta) / (k1 + c + delta)`` (delta 0.5).
- ``bm25+``: idf ``ln((N + 1) / df)``, tf part ``tf * (k1 + 1) / (tf + k1 * L) + delta``
  (delta 0.5, bm25s's default).

BM25L and BM25+ give a query term a score in rows that lack it (the tf part at ``tf = 0``,
the same for every row).  An index stores postings only, so their impacts are the tf part
minus that constant: a query's scores are bm25s's minus ``sum over its terms of
idf * tf_part(0)``, the same for every row, and the ranking is bm25s's.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import QueryError

__all__ = ["SCORERS", "impacts", "check_scorer", "non_occurrence"]

#: ``(tf, L, df, n_docs, k1, delta) -> impact`` per posting; ``L`` is the length norm
#: ``1 - b + b * dl / avgdl`` of the posting's row, ``df`` the document frequency of its term.
Scorer = Callable[[np.ndarray, np.ndarray, np.ndarray, int, float, float], np.ndarray]


def _lucene(tf, L, df, n, k1, delta):
    return np.log(1.0 + (n - df + 0.5) / (df + 0.5)) * tf / (tf + k1 * L)


def _robertson(tf, L, df, n, k1, delta):
    return np.maximum(np.log((n - df + 0.5) / (df + 0.5)), 0.0) * tf / (tf + k1 * L)


def _atire(tf, L, df, n, k1, delta):
    return np.log(n / df) * tf * (k1 + 1.0) / (tf + k1 * L)


def _bm25l(tf, L, df, n, k1, delta):
    c = tf / L
    at_zero = (k1 + 1.0) * delta / (k1 + delta)
    return np.log((n + 1.0) / (df + 0.5)) * ((k1 + 1.0) * (c + delta) / (k1 + c + delta) - at_zero)


def _bm25plus(tf, L, df, n, k1, delta):
    # (tf part + delta) - (tf part at tf = 0, which is delta)
    return np.log((n + 1.0) / df) * (tf * (k1 + 1.0) / (tf + k1 * L))


def non_occurrence(name: str, df: np.ndarray, n_docs: int, k1: float, delta: float | None = None) -> np.ndarray:
    """The score a term gives a row that lacks it, left out of the impacts (0 but for
    ``bm25l`` and ``bm25+``): add its sum over the query terms to compare with bm25s."""
    check_scorer(name)
    _, default_delta = SCORERS[name]
    d = default_delta if delta is None else float(delta)
    df = np.asarray(df, dtype=np.float64)
    if name == "bm25l":
        return np.log((n_docs + 1.0) / (df + 0.5)) * (k1 + 1.0) * d / (k1 + d)
    if name == "bm25+":
        return np.log((n_docs + 1.0) / df) * d
    return np.zeros_like(df)


SCORERS: dict[str, tuple[Scorer, float]] = {
    "lucene": (_lucene, 0.0),
    "robertson": (_robertson, 0.0),
    "atire": (_atire, 0.0),
    "bm25l": (_bm25l, 0.5),
    "bm25+": (_bm25plus, 0.5),
}


def check_scorer(name: str) -> None:
    if name not in SCORERS:
        raise QueryError(f"unknown BM25 scorer {name!r}; expected one of {', '.join(SCORERS)}")


def impacts(name: str, tf: np.ndarray, L: np.ndarray, df: np.ndarray, n_docs: int, k1: float,
            delta: float | None = None) -> np.ndarray:
    """The impacts (float32) of postings with term frequencies ``tf``, row length norms ``L``
    and term document frequencies ``df``, under scorer ``name``."""
    check_scorer(name)
    fn, default_delta = SCORERS[name]
    out = fn(tf.astype(np.float64), L.astype(np.float64), df.astype(np.float64), float(n_docs), float(k1),
             default_delta if delta is None else float(delta))
    return np.asarray(out, dtype=np.float32)
