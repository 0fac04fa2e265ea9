"""The interface between an index and its retrievers.

A :class:`Retriever` answers ``search(query, k, filter)`` with a :class:`Ranking`: rows of
the index, best first, with their scores.  The query is an analysed query
(:class:`~policyidx.retrieval.expand.Expansion`: weighted keyword terms and the text to
embed); the filter is a :class:`RowFilter` (which rows may be returned) or ``None``.  BM25,
dense search, fusion and anything added later (another scorer, a re-ranker, an external
engine) implement this one method, so the index, the CLI and the benchmark never branch on
what a retriever is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .expand import Expansion

__all__ = ["Ranking", "RowFilter", "Retriever"]


@dataclass(frozen=True)
class Ranking:
    """Rows ranked by one retriever.

    Attributes
    ----------
    rows : numpy.ndarray of int64
        Best first; ties broken by ascending row.
    scores : numpy.ndarray of float64
        The retriever's score of each row (higher is better), same length as ``rows``.
    components : dict of str to Ranking
        For a fused ranking, the named rankings it was made from (empty otherwise).
    """

    rows: np.ndarray
    scores: np.ndarray
    components: dict[str, Ranking] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> Ranking:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))

    @classmethod
    def from_pairs(cls, pairs: list[tuple[int, float]], components: dict[str, Ranking] | None = None) -> Ranking:
        rows = np.array([r for r, _ in pairs], dtype=np.int64)
        scores = np.array([s for _, s in pairs], dtype=np.float64)
        return cls(rows, scores, dict(components or {}))

    def __len__(self) -> int:
        return len(self.rows)

    def top(self, k: int) -> Ranking:
        """The first ``k`` rows (the components are kept whole)."""
        return Ranking(self.rows[:k], self.scores[:k], self.components)

    def pairs(self) -> list[tuple[int, float]]:
        """``(row, score)`` pairs, best first."""
        return list(zip(self.rows.tolist(), self.scores.tolist()))

    def score_of(self) -> dict[int, float]:
        """Row -> score."""
        return dict(self.pairs())


@dataclass(frozen=True)
class RowFilter:
    """Which rows a search may return: a boolean mask over the index's rows."""

    mask: np.ndarray

    def __post_init__(self) -> None:
        m = np.asarray(self.mask)
        if m.dtype != np.bool_ or m.ndim != 1:
            raise ValueError(f"a row filter is a 1-d boolean mask, got dtype {m.dtype} and shape {m.shape}")
        object.__setattr__(self, "mask", m)

    def __len__(self) -> int:
        return len(self.mask)

    def allows(self, row: int) -> bool:
        return bool(self.mask[row])

    @property
    def count(self) -> int:
        """How many rows pass."""
        return int(self.mask.sum())


@runtime_checkable
class Retriever(Protocol):
    """Anything that ranks an index's rows for an analysed query.

    Contract (checked for every retriever by ``tests/test_retrievers.py``): at most ``k``
    rows, no row twice, every row inside the index and allowed by ``filter``, scores as
    many as rows and non-increasing, ties in ascending row order, the same answer twice,
    and an empty ranking (not an error) when nothing matches.
    """

    name: str

    def search(self, query: Expansion, k: int, filter: RowFilter | None = None) -> Ranking:
        """The ``k`` best rows for ``query`` among those ``filter`` allows."""
        ...
