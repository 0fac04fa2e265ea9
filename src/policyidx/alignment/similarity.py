"""Similarity of sentences and clauses (weighted Dice over the text signals, lengths,
embeddings) and the dynamic programming over two sequences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


from .signals import _Rows, _Side, _Space, _dice

# --------------------------------------------------------------------------- scoring


@dataclass
class _Scorer:
    """Similarity and gain of beads between two prepared documents."""

    a: _Side
    b: _Side
    space: _Space
    emb_a: np.ndarray | None
    emb_b: np.ndarray | None
    ratio: float  # expected target length / source length
    sigma: float  # spread of log length ratios
    tau: float  # a bead's similarity must exceed this to beat leaving both sides unaligned
    merge_penalty: float
    emb_weight: float = 1.0
    clause_emb_a: np.ndarray | None = None
    clause_tau: float = 0.1
    clause_emb_b: np.ndarray | None = None

    def _length_factor(self, la: np.ndarray, lb: np.ndarray, sigma: float) -> np.ndarray:
        z = np.log((lb[None, :] + 1.0) / (self.ratio * (la[:, None] + 1.0))) / sigma
        # A length prior that lowers, but never zeroes, the similarity of a badly sized pair:
        # headings and table rows have noisy length ratios.
        return 0.55 + 0.45 * np.exp(-0.5 * z * z)

    def _combine(self, dice: np.ndarray, cos: np.ndarray | None) -> np.ndarray:
        if cos is None:
            return dice
        return (dice + self.emb_weight * np.clip(cos, 0.0, 1.0)) / (1.0 + self.emb_weight)

    @staticmethod
    def _emb_runs(emb: np.ndarray) -> np.ndarray:
        if emb.shape[0] < 2:
            return emb[:0]
        s = emb[:-1] + emb[1:]
        norms = np.linalg.norm(s, axis=1, keepdims=True)
        return s / np.maximum(norms, 1e-12)

    def block(
        self,
        ra: _Rows,
        rb: _Rows,
        i0: int,
        i1: int,
        j0: int,
        j1: int,
        ea: np.ndarray | None,
        eb: np.ndarray | None,
        la: np.ndarray,
        lb: np.ndarray,
        sigma: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Length-weighted similarities of a block: 1-1, 2-1 and 1-2 beads.

        ``ra``/``rb`` are the rows of the two sequences, ``[i0, i1)``/``[j0, j1)`` the block;
        ``ea``/``eb``/``la``/``lb`` the block's embeddings and lengths.
        """
        s11 = _dice(ra.xw[i0:i1], ra.size[i0:i1], rb.x[j0:j1], rb.size[j0:j1])
        s21 = _dice(ra.rw[i0 : i1 - 1], ra.rsize[i0 : i1 - 1], rb.x[j0:j1], rb.size[j0:j1])
        s12 = _dice(ra.xw[i0:i1], ra.size[i0:i1], rb.r[j0 : j1 - 1], rb.rsize[j0 : j1 - 1])
        return self.weigh(s11, s21, s12, ea, eb, la, lb, sigma)

    def weigh(
        self,
        s11: np.ndarray,
        s21: np.ndarray,
        s12: np.ndarray,
        ea: np.ndarray | None,
        eb: np.ndarray | None,
        la: np.ndarray,
        lb: np.ndarray,
        sigma: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Add the embedding cosine and the length prior to a block's Dice coefficients."""
        if ea is not None and eb is not None:
            s11 = self._combine(s11, ea @ eb.T)
            s21 = self._combine(s21, self._emb_runs(ea) @ eb.T)
            s12 = self._combine(s12, ea @ self._emb_runs(eb).T)
        lra = la[:-1] + la[1:]
        lrb = lb[:-1] + lb[1:]
        w11 = s11 * self._length_factor(la, lb, sigma)
        w21 = s21 * self._length_factor(lra, lb, sigma)
        w12 = s12 * self._length_factor(la, lrb, sigma)
        return w11, w21, w12


def _batched_dice(
    xw: Any, size_x: np.ndarray, y: Any, size_y: np.ndarray, ranges: list[tuple[int, int, int, int]]
) -> list[np.ndarray]:
    """Dice blocks ``xw[i0:i1] x y[j0:j1]`` for many ranges with one sparse product.

    Each block's rows are moved to a column band of its own, so the product of the stacked
    left rows with the stacked right rows is block-diagonal: one scipy call instead of one
    per clause pair, which is what makes long documents fast.
    """
    import scipy.sparse as sp

    n_feat = xw.shape[1]
    shapes = [(max(i1 - i0, 0), max(j1 - j0, 0)) for i0, i1, j0, j1 in ranges]
    out_off = np.concatenate([[0], np.cumsum([p * q for p, q in shapes])]).astype(np.int64)
    flat = np.zeros(int(out_off[-1]))
    if n_feat and out_off[-1]:
        idx_x = np.concatenate([np.arange(i0, i0 + p) for (i0, _, _, _), (p, _) in zip(ranges, shapes)]).astype(np.int64)
        idx_y = np.concatenate([np.arange(j0, j0 + q) for (_, _, j0, _), (_, q) in zip(ranges, shapes)]).astype(np.int64)
        blk_x = np.repeat(np.arange(len(ranges)), [p for p, _ in shapes])
        blk_y = np.repeat(np.arange(len(ranges)), [q for _, q in shapes])
        start_x = np.concatenate([[0], np.cumsum([p for p, _ in shapes])])[:-1]
        start_y = np.concatenate([[0], np.cumsum([q for _, q in shapes])])[:-1]

        def banded(mat: Any, idx: np.ndarray, blk: np.ndarray) -> Any:
            rows = mat[idx].tocsr()
            nnz_blk = np.repeat(blk, np.diff(rows.indptr))
            return sp.csr_matrix(
                (rows.data, rows.indices.astype(np.int64) + nnz_blk * n_feat, rows.indptr),
                shape=(len(idx), n_feat * len(ranges)),
            )

        prod = (banded(xw, idx_x, blk_x) @ banded(y, idx_y, blk_y).T).tocoo()
        blk = blk_x[prod.row]
        width = np.array([q for _, q in shapes], dtype=np.int64)
        pos = out_off[blk] + (prod.row - start_x[blk]) * width[blk] + (prod.col - start_y[blk])
        flat[pos] = prod.data
    out: list[np.ndarray] = []
    for k, ((i0, _, j0, _), (p, q)) in enumerate(zip(ranges, shapes)):
        overlap = flat[out_off[k] : out_off[k + 1]].reshape(p, q)
        denom = size_x[i0 : i0 + p, None] + size_y[None, j0 : j0 + q]
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(np.where(denom > 0, 2.0 * overlap / denom, 0.0))
    return out


def _dp(g11: np.ndarray, g21: np.ndarray, g12: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Best crossing-free bead sequence; skipping an item gains 0.

    ``g11[i, j]`` is the gain of bead (src i, tgt j), ``g21[i, j]`` of (src i..i+1, tgt j),
    ``g12[i, j]`` of (src i, tgt j..j+1).  Returns beads as ``(i0, i1, j0, j1)`` half-open
    ranges covering both sequences in order.

    The recursion runs row by row with numpy; the one move inside a row (skip a target
    item) becomes a running maximum, so the cost is O(n) numpy calls on rows of length m.
    """
    n, m = g11.shape
    neg = -1e18
    score = np.full((n + 1, m + 1), neg)
    back = np.zeros((n + 1, m + 1), dtype=np.int8)  # 1: 1-1, 2: 2-1, 3: 1-2, 4: 1-0, 5: 0-1
    score[0, :] = 0.0
    back[0, 1:] = 5
    for i in range(1, n + 1):
        prev = score[i - 1]
        tmp = np.full(m + 1, neg)
        bp = np.zeros(m + 1, dtype=np.int8)
        if m:
            tmp[1:] = prev[:-1] + g11[i - 1]
            bp[1:] = 1
        if i >= 2 and m:
            cand = score[i - 2, :-1] + g21[i - 2]
            upd = cand > tmp[1:]
            tmp[1:][upd] = cand[upd]
            bp[1:][upd] = 2
        if m >= 2:
            cand = prev[:-2] + g12[i - 1]
            upd = cand > tmp[2:]
            tmp[2:][upd] = cand[upd]
            bp[2:][upd] = 3
        upd = prev > tmp
        tmp[upd] = prev[upd]
        bp[upd] = 4
        run = np.maximum.accumulate(tmp)
        score[i] = run
        back[i] = np.where(tmp >= run, bp, 5)
    beads: list[tuple[int, int, int, int]] = []
    i, j = n, m
    while i > 0 or j > 0:
        move = back[i, j]
        di, dj = {1: (1, 1), 2: (2, 1), 3: (1, 2), 4: (1, 0), 5: (0, 1)}[int(move)] if move else (i, j)
        beads.append((i - di, i, j - dj, j))
        i, j = i - di, j - dj
    beads.reverse()
    return beads
