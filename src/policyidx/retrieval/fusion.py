"""Fusion of any number of named rankings (weighted reciprocal-rank fusion)."""

from __future__ import annotations

from typing import Mapping

from .base import Ranking

__all__ = ["rrf", "FUSIONS"]


def rrf(rankings: Mapping[str, Ranking], weights: Mapping[str, float], k: float = 60.0) -> Ranking:
    """Weighted reciprocal-rank fusion: ``sum over rankings of w / (k + rank)``.

    Parameters
    ----------
    rankings
        Named rankings (a missing or empty one contributes nothing).
    weights
        Weight of each named ranking (1.0 when absent).
    k
        The RRF constant: higher flattens the advantage of the first ranks.

    Returns
    -------
    Ranking
        Every row of any ranking, best first (ties to the lower row), with the inputs as
        ``components``.
    """
    fused: dict[int, float] = {}
    for name, ranking in rankings.items():
        w = float(weights.get(name, 1.0))
        for r, row in enumerate(ranking.rows.tolist(), 1):
            fused[row] = fused.get(row, 0.0) + w / (k + r)
    pairs = sorted(fused.items(), key=lambda x: (-x[1], x[0]))
    return Ranking.from_pairs(pairs, dict(rankings))


#: Fusion methods by name (the ``fusion`` parameter of an index).
FUSIONS = {"rrf": rrf}
