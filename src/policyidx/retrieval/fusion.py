"""Fusion of named rankings: weighted reciprocal-rank fusion, and dense re-ranking of keyword candidates."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .base import Ranking

__all__ = ["rrf", "dense_rerank", "relative_coverage", "add_candidates", "FUSIONS"]


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




def dense_rerank(keyword: Ranking, dense: Ranking, row_doc: np.ndarray | None = None, *, doc_weight: float = 0.3,
                 clause_weight: float = 0.2, context: np.ndarray | None = None,
                 coverage: np.ndarray | None = None, coverage_power: float = 0.0,
                 prior: np.ndarray | None = None, unjudged_share: float = 0.0) -> Ranking:
    """Keyword candidates re-ranked with the dense side's evidence about their document and clause.

    Each keyword candidate scores
    ``(kw / kw_max + doc_weight * D(doc) + clause_weight * D(row)) * cov ** coverage_power``:
    ``kw / kw_max`` is its BM25 score (plus its ``context`` score, when given) relative to the
    best candidate's; ``D(row)`` is its dense similarity min-max scaled over the dense ranking
    (0 below it); ``D(doc)`` the best scaled similarity of any clause of its document; ``cov``
    the share of the query it covers (1 when not given).  The dense side finds the right law
    more often than the right article, so it mostly votes for a document and keyword search
    picks the article.  Rows only the dense side found follow the keyword candidates (all of
    them when keyword search found nothing).

    Parameters
    ----------
    keyword, dense
        The two rankings (best first).
    row_doc
        Row -> document number; ``None`` disables the document vote.
    doc_weight, clause_weight
        Weights of the document and clause votes (chosen on the dev split of the real-corpus
        query sets, see README "Search quality").
    context
        A keyword-like score of each keyword candidate (same order) for what its context says
        (:func:`~policyidx.retrieval.retrievers.context_scores`), added to its BM25 score.
    coverage, coverage_power
        How much of the query each keyword candidate covers, 0-1 (same order;
        :func:`~policyidx.retrieval.retrievers.coverage_scores`): its fused score is multiplied
        by ``relative_coverage(coverage) ** coverage_power``: NaN for a candidate whose coverage
        is not judged (a clause in another language than the query's).  ``None`` or power 0: not
        used.
    prior
        A factor per keyword candidate (same order) that multiplies its fused score (the
        :func:`~policyidx.retrieval.retrievers.jurisdiction_factor`); ``None``: all 1.
    unjudged_share
        How far a candidate whose coverage is not judged is taken to cover the query like a
        typical judged one rather than like the best (:func:`relative_coverage`;
        :func:`~policyidx.retrieval.retrievers.unjudged_weight` of the index's languages).

    Returns
    -------
    Ranking
        With ``keyword`` and ``dense`` as components.
    """
    comps = {"keyword": keyword, "dense": dense}
    if len(keyword) == 0:
        return Ranking(dense.rows, dense.scores, comps)
    kw = keyword.scores if context is None else keyword.scores + np.asarray(context, dtype=np.float64)
    top_kw = float(np.max(kw))
    kn = kw / top_kw if top_kw > 0 else np.ones(len(keyword))
    fused = kn.copy()
    if len(dense):
        top, floor = float(dense.scores[0]), float(dense.scores[-1])
        span = max(top - floor, 1e-9)
        scaled = (dense.scores - floor) / span
        dmap = dict(zip(dense.rows.tolist(), scaled.tolist()))
        fused += clause_weight * np.array([dmap.get(r, 0.0) for r in keyword.rows.tolist()])
        if row_doc is not None and doc_weight:
            docs = np.asarray(row_doc)[dense.rows]
            best: dict[int, float] = {}
            for d, s in zip(docs.tolist(), scaled.tolist()):
                if s > best.get(d, -1.0):
                    best[d] = s
            kdocs = np.asarray(row_doc)[keyword.rows].tolist()
            fused += doc_weight * np.array([best.get(d, 0.0) for d in kdocs])
    if coverage is not None and coverage_power:
        fused *= relative_coverage(coverage, unjudged_share) ** float(coverage_power)
    if prior is not None:
        fused *= np.asarray(prior, dtype=np.float64)
    order = np.lexsort((keyword.rows, -fused))
    rows, scores = keyword.rows[order], fused[order]
    seen = set(rows.tolist())
    extra = [(r, s) for r, s in dense.pairs() if r not in seen]
    if extra:
        # below every keyword candidate, in the dense order
        low = float(scores[-1]) if len(scores) else 0.0
        rows = np.concatenate([rows, np.array([r for r, _ in extra], dtype=np.int64)])
        scores = np.concatenate([scores, low - 1e-6 * np.arange(1, len(extra) + 1)])
    return Ranking(rows.astype(np.int64), scores.astype(np.float64), comps)


def relative_coverage(coverage: np.ndarray, unjudged_share: float = 0.0) -> np.ndarray:
    """Each coverage (0-1) over the best of them; all where the best is 0 give 1, and NaN (not
    judged: a clause in another language than the query's) gives
    ``(1 - unjudged_share) + unjudged_share * m``, ``m`` the median of the judged ones.

    A clause the query's words cannot be looked for in is not known to cover the query best.
    In an index of the query's language with a few translations (a Chinese corpus with the
    Japanese translations of some of its documents; ``unjudged_share`` near 1) such a clause is
    taken as a typical candidate: with 1 a
    Japanese clause that shares two Han characters with a Chinese query came first over the
    Chinese clause that answers it (婚姻法规定的知识产权的收益, eval/real/ dev).  In an index where
    the other language has a fair share of the rows (a Chinese query over Japanese
    translations, ``unjudged_share`` 0) it stays 1, and the bridge terms and the dense side
    judge such clauses.

    Parameters
    ----------
    coverage
        One value per candidate, NaN where not judged.
    unjudged_share
        0-1: 0 gives a clause not judged 1, 1 the median relative coverage of the judged ones.

    Returns
    -------
    numpy.ndarray of float64
    """
    cov = np.asarray(coverage, dtype=np.float64)
    judged = ~np.isnan(cov)
    out = np.ones(len(cov), dtype=np.float64)
    if judged.any():
        c = np.clip(cov[judged], 0.0, 1.0)
        best = float(c.max())
        if best > 0:
            out[judged] = c / best
            w = min(max(float(unjudged_share), 0.0), 1.0)
            if w > 0 and not judged.all():
                out[~judged] = (1.0 - w) + w * float(np.median(out[judged]))
    return out


def _dense_rerank_named(rankings: Mapping[str, Ranking], weights: Mapping[str, float], k: float = 60.0) -> Ranking:
    """:func:`dense_rerank` over named rankings ``keyword`` and ``dense``, without the document
    vote (for callers that fuse rankings without the index's row -> document map)."""
    return dense_rerank(rankings.get("keyword", Ranking.empty()), rankings.get("dense", Ranking.empty()), None)


#: Fusion methods by name (the ``fusion`` parameter of an index), all called
#: ``fuse(rankings, weights, k)``.
FUSIONS = {"rrf": rrf, "dense-rerank": _dense_rerank_named}


def add_candidates(ranking: Ranking, other: Ranking, other_of_ranked: np.ndarray, weight: float,
                   name: str = "other") -> Ranking:
    """``ranking`` joined by the rows of ``other``, a ranking of other evidence, by a weighted
    sum of max-normalised scores: each row of either scores
    ``s / s_max + weight * o / o_max``, ``s`` its score in ``ranking`` (0 if it is not there)
    and ``o`` its score by the other evidence (``other_of_ranked`` for the rows of
    ``ranking``, ``other.scores`` for the others; 0 if it has none).  A row of ``ranking`` the
    other evidence cannot judge (NaN in ``other_of_ranked``: a Japanese translation has no
    Chinese words to read in their glosses) keeps its place, ``(1 + weight) * s / s_max``, as
    if that evidence agreed with the ranking; counted as 0 it would fall below every row that
    can be judged (the bundled English queries, whose answers are mostly JETRO's translations,
    hit@1 0.837 -> 0.721), counted as the mean of the others still below the best (0.791).

    Min-max normalisation with a linear combination is the classic score fusion (Fox and Shaw's
    CombSUM); the maximum alone is used because 0 is each side's natural floor.  A weight of 0
    returns ``ranking`` unchanged.

    Parameters
    ----------
    ranking
        The main ranking (its components are kept).
    other
        The other evidence's best rows, best first.
    other_of_ranked
        The other evidence's score of each row of ``ranking`` (same length; NaN: cannot judge).
    weight
        The other evidence's weight.
    name
        ``other``'s name among the components of the result.

    Returns
    -------
    Ranking
        Every row of either, best first (ties to the lower row).
    """
    if not weight or not len(other):
        return ranking
    o_of = np.asarray(other_of_ranked, dtype=np.float64)
    if len(o_of) != len(ranking):
        raise ValueError(f"{len(o_of)} scores of the other evidence for {len(ranking)} ranked rows")
    known = ~np.isnan(o_of)
    s_max = float(ranking.scores.max()) if len(ranking) else 0.0
    o_max = max(float(other.scores.max()), float(o_of[known].max()) if known.any() else 0.0)
    s_max = s_max if s_max > 0 else 1.0
    o_max = o_max if o_max > 0 else 1.0
    # a row the other evidence cannot judge keeps its place: its evidence agrees with the ranking's
    o_of = np.where(known, o_of, ranking.scores / s_max * o_max)
    fused: dict[int, float] = {}
    for row, sc in zip(other.rows.tolist(), other.scores.tolist()):
        fused[row] = weight * sc / o_max
    for row, sc, o in zip(ranking.rows.tolist(), ranking.scores.tolist(), o_of.tolist()):
        fused[row] = sc / s_max + weight * o / o_max
    pairs = sorted(fused.items(), key=lambda x: (-x[1], x[0]))
    return Ranking.from_pairs(pairs, {**ranking.components, name: other})
