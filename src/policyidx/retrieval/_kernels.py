"""Compiled search kernels of the keyword index (numba), with a pure-numpy fallback elsewhere.

One call answers a batch of queries.  For each query, the terms are taken in the query's
order and their impacts scatter-added into a dense float32 accumulator (one per
thread, reused; a list of the rows touched keeps clean-up and selection proportional to the
postings read on small queries).  Before each further term the kernel checks whether the
query can stop growing its candidate set (exact *MaxScore* pruning, term at a time): when
the sum of the upper bounds (weight times the term's largest impact) of the terms not yet
read is below the current k-th best score, no untouched row can enter the top k, so the
rest of the terms are only looked up for the surviving candidates, by galloping search in
their sorted posting lists (or one merge when the candidates are many), and candidates that
cannot reach the k-th score any more are dropped.  The top k is kept in a small heap
(best score first, ties to the lower row), so nothing of size ``n_docs`` is allocated per
query.  Only entries that can be among the k best are offered to it (a heap step costs
10-20 ns): a bound that k entries reach is taken first from the maxima of blocks of the
accumulator (large ones) or of its 128 *lanes* (small ones; :func:`_select_lanes`), and on
many listed rows their scores are gathered side by side and bounded the same way.

Terms found in at least half of the rows can also be given as *columns* of impacts (one
float32 per row, 0 where the term is absent; :func:`dense_columns`, no larger than the
term's postings): outside the touched-row list they are added in one sequential pass that
the compiler vectorises, with the same float32 products and sums as the scatter-add
(``x + 0 == x``), so results are identical bit for bit.  Rows are read as ``uint32`` (their
range is checked when an index is loaded): an unsigned index needs no wrap-around test.

numba is optional (the ``fast`` extra): :data:`AVAILABLE` says whether the kernels are
compiled; :mod:`policyidx.retrieval.keyword` falls back to its numpy/scipy path otherwise, or when
``POLICYIDX_NO_NUMBA=1``.  Compiled code is cached on disk (numba's ``cache=True``, next to
this file or in numba's per-user cache directory); where no cache directory is writable
the kernels are compiled in memory on first use instead.
"""

from __future__ import annotations

import os
import threading
import warnings
from typing import Any, Callable

import numpy as np

__all__ = ["AVAILABLE", "search_batch", "max_impacts", "dense_columns", "warm_up", "TermHash"]

try:  # pragma: no cover - depends on the environment
    if os.environ.get("POLICYIDX_NO_NUMBA", "") not in ("", "0"):
        raise ImportError("disabled by POLICYIDX_NO_NUMBA")
    # numba colours its error messages with colorama when it is installed, and colorama then
    # swaps ``sys.stdout``/``sys.stderr`` for wrappers and later puts back the streams it saw
    # first.  The kernels load on a background thread, so that swap would land at a random
    # moment in the caller's program (undoing a ``redirect_stdout`` or a test's capture).
    # Plain messages keep the caller's streams alone; an explicit setting wins.
    os.environ.setdefault("NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING", "1")
    import numba

    AVAILABLE = True
except ImportError:  # pragma: no cover
    numba = None
    AVAILABLE = False

#: Relative safety margin of the pruning tests: an upper bound is compared with the k-th
#: score only after inflating it by this much, so float32 rounding in the accumulator (which
#: adds the same impacts in another order than the bound) can never prune a row that ties.
_MARGIN = 1e-4
#: Default of ``dense_prune_from`` in :func:`search_batch`.
DENSE_PRUNE_FROM = 50_000


def _compile(fn: Callable[..., Any], **options: Any) -> Callable[..., Any]:
    """``numba.njit(nogil=True, cache=True, **options)``, or without the disk cache where it
    cannot be written; ``fn`` itself when numba is not installed."""
    if numba is None:  # pragma: no cover
        return fn
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return numba.njit(nogil=True, cache=True, **options)(fn)
    except Exception:  # noqa: BLE001 - numba raises RuntimeError when no cache locator fits
        return numba.njit(nogil=True, cache=False, **options)(fn)


def _jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`_compile` with numba's defaults."""
    return _compile(fn)


def _jit_inline(fn: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`_jit`, inlined into its callers by numba: a call of a compiled function passing
    arrays costs a reference count update per array, more than a heap step (selecting the top
    10 of a few hundred rows took 7 ns per row without inlining)."""
    return _compile(fn, inline="always")


@_jit_inline
def _worse(s1: float, r1: int, s2: float, r2: int) -> bool:
    # heap order: a lower score is worse; among equal scores the higher row is worse
    return s1 < s2 or (s1 == s2 and r1 > r2)


@_jit_inline
def _sift_down(hs: np.ndarray, hr: np.ndarray, size: int, i: int) -> None:
    while True:
        left = 2 * i + 1
        if left >= size:
            return
        m = left
        right = left + 1
        if right < size and _worse(hs[right], hr[right], hs[left], hr[left]):
            m = right
        if _worse(hs[m], hr[m], hs[i], hr[i]):
            ts, tr = hs[i], hr[i]
            hs[i], hr[i] = hs[m], hr[m]
            hs[m], hr[m] = ts, tr
            i = m
        else:
            return


#: Largest k whose top k is kept as a sorted array rather than a binary heap (:func:`_offer`).
_SORTED_UP_TO = 32


@_jit_inline
def _offer(hs: np.ndarray, hr: np.ndarray, size: int, k: int, s: float, r: int) -> int:
    """Offer (score, row) to a heap of at most ``k`` entries whose root is the worst; new size."""
    if k <= _SORTED_UP_TO:
        # a small top k is kept sorted, worst first (a sorted array is a heap too): an entry
        # moves in with a run of predictable shifts instead of a sift with a branch per level
        if size < k:
            i = size
            while i > 0 and _worse(s, r, hs[i - 1], hr[i - 1]):
                hs[i] = hs[i - 1]
                hr[i] = hr[i - 1]
                i -= 1
            hs[i] = s
            hr[i] = r
            return size + 1
        if _worse(hs[0], hr[0], s, r):
            i = 0
            while i + 1 < size and _worse(hs[i + 1], hr[i + 1], s, r):
                hs[i] = hs[i + 1]
                hr[i] = hr[i + 1]
                i += 1
            hs[i] = s
            hr[i] = r
        return size
    if size < k:
        i = size
        hs[i] = s
        hr[i] = r
        size += 1
        while i > 0:
            p = (i - 1) // 2
            if _worse(hs[i], hr[i], hs[p], hr[p]):
                ts, tr = hs[i], hr[i]
                hs[i], hr[i] = hs[p], hr[p]
                hs[p], hr[p] = ts, tr
                i = p
            else:
                break
        return size
    if _worse(hs[0], hr[0], s, r):
        hs[0] = s
        hr[0] = r
        _sift_down(hs, hr, size, 0)
    return size


@_jit
def _drain(hs: np.ndarray, hr: np.ndarray, size: int, out_r: np.ndarray, out_s: np.ndarray) -> int:
    """Empty the heap into ``out_*`` best first; returns the number written."""
    n = size
    if hs.shape[0] <= _SORTED_UP_TO:  # kept sorted, worst first (see _offer): reversed
        for i in range(n):
            out_r[i] = hr[n - 1 - i]
            out_s[i] = hs[n - 1 - i]
        return n
    while size > 0:
        size -= 1
        out_r[size] = hr[0]
        out_s[size] = hs[0]
        hs[0], hr[0] = hs[size], hr[size]
        _sift_down(hs, hr, size, 0)
    return n


@_jit
def _select(acc, cand, m, use_allowed, allowed, hs, hr, k):
    """Top ``k`` over rows ``cand[:m]`` (any order; zero scores skipped) into the heap; its size.

    The k-th score is kept in a local variable: re-reading the heap's root on every row
    (which the compiler must assume may have changed) made this loop ten times slower.
    """
    size = 0
    thr = -np.inf
    for c in range(m):
        r = cand[c]
        v = acc[r]
        if v < thr or v == 0.0:
            continue
        if use_allowed and not allowed[r]:
            continue
        size = _offer(hs, hr, size, k, v, r)
        if size == k:
            thr = hs[0]
    return size


@_jit
def _select_dense(acc, use_allowed, allowed, hs, hr, k):
    """Top ``k`` positive scores of the whole accumulator (rows ascending, so an equal score
    never displaces an earlier row)."""
    size = 0
    thr = np.float32(0.0)
    for r in range(acc.shape[0]):
        v = acc[r]
        if v <= thr:
            continue
        if use_allowed and not allowed[r]:
            continue
        size = _offer(hs, hr, size, k, v, r)
        if size == k:
            thr = hs[0]
    return size


def _jit_fast(fn: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`_jit` with ``fastmath`` (for reductions the compiler may then vectorise)."""
    return _compile(fn, fastmath=True)


#: Rows per block of :func:`_select_blocks` (a constant: the compiler then unrolls and
#: vectorises :func:`_block_maxima`; with a block size known only at run time it took twice as long).
_BLOCK = 128


@_jit_fast
def _block_maxima(a, n, bmax):
    """The largest entry of each block of ``_BLOCK`` rows of ``a[:n]`` (at least 0) into
    ``bmax``; returns the number of blocks.  Eight running maxima per block,
    not one: a single one is a chain of dependent compares the compiler keeps scalar (8.5 us
    for 10,000 rows against 1.4 us this way)."""
    full = n // _BLOCK
    for b in range(full):
        base = b * _BLOCK
        m0 = a[base]
        m1 = a[base + 1]
        m2 = a[base + 2]
        m3 = a[base + 3]
        m4 = a[base + 4]
        m5 = a[base + 5]
        m6 = a[base + 6]
        m7 = a[base + 7]
        for r in range(base + 8, base + _BLOCK, 8):
            m0 = max(m0, a[r])
            m1 = max(m1, a[r + 1])
            m2 = max(m2, a[r + 2])
            m3 = max(m3, a[r + 3])
            m4 = max(m4, a[r + 4])
            m5 = max(m5, a[r + 5])
            m6 = max(m6, a[r + 6])
            m7 = max(m7, a[r + 7])
        bmax[b] = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
    if full * _BLOCK < n:
        m = np.float32(0.0)
        for r in range(full * _BLOCK, n):
            m = max(m, a[r])
        bmax[full] = m
        return full + 1
    return full


@_jit_inline
def _max16(a, c):
    """``a[c:c + 16].max()`` as a tree of independent compares (no chain of 16)."""
    m0 = max(a[c], a[c + 1])
    m1 = max(a[c + 2], a[c + 3])
    m2 = max(a[c + 4], a[c + 5])
    m3 = max(a[c + 6], a[c + 7])
    m4 = max(a[c + 8], a[c + 9])
    m5 = max(a[c + 10], a[c + 11])
    m6 = max(a[c + 12], a[c + 13])
    m7 = max(a[c + 14], a[c + 15])
    return max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))


@_jit
def _select_blocks(a, n, mapped, rowmap, hs, hr, k, bmax):
    """Top ``k`` positive entries of ``a[:n]`` (no mask) into the heap; its size.  Entry ``i``
    is row ``rowmap[i]`` if ``mapped`` (any order), else row ``i``.

    Only the blocks that can hold a top-k score are read twice: the k-th largest block
    maximum ``t`` is reached by at least k entries, so a block whose maximum is below ``t``
    holds none of the top k (ties included)."""
    bs = _BLOCK
    nb = _block_maxima(a, n, bmax)
    size = 0
    t = np.float32(0.0)
    for b in range(nb):  # the k largest block maxima (row = block number)
        v = bmax[b]
        if v > t:
            size = _offer(hs, hr, size, k, v, b)
            if size == k:
                t = hs[0]
    t = hs[0] if size == k else np.float32(0.0)
    # Rows ascending (not mapped): an entry equal to the k-th score never displaces an earlier
    # row, so it is skipped; mapped rows come in any order, so ties go to the heap's test.
    size = 0
    thr = np.float32(0.0)
    for b in range(nb):
        mb = bmax[b]
        if mb < t or mb < thr or (mb == thr and not mapped) or mb == 0.0:
            continue
        end = min(n, (b + 1) * bs)
        for c in range(b * bs, end, 16):
            if c + 16 <= end:
                m16 = _max16(a, c)
                if m16 < thr or (m16 == thr and not mapped):
                    continue  # (most pieces of a block hold nothing up to the k-th score)
            for i in range(c, min(end, c + 16)):
                v = a[i]
                if v < thr or v == 0.0 or (v == thr and not mapped):
                    continue
                size = _offer(hs, hr, size, k, v, rowmap[i] if mapped else i)
                if size == k:
                    thr = hs[0]
    return size


#: Listed rows from which :func:`_one_query` gathers their scores for a bounded selection.
_SELECT_GATHERED_FROM = 64
#: Lanes of :func:`_select_lanes`, and the most entries it is used for (128 per lane).
_LANES = 128
LANES_UP_TO = _LANES * _LANES
#: Entries up to which :func:`_select_lanes` reads whole lanes again (32 entries each, from
#: the first-level cache), not blocks of 128.
_LANE_REREAD_UP_TO = 4096


@_jit
def _select_lanes(a, n, mapped, rowmap, hs, hr, k, lanes, bmax):
    """:func:`_select_blocks` for small arrays, bounded by *lanes* instead of blocks: lane ``j``
    holds the entries ``j, j + 128, j + 256, ...``.  Their maxima come from one vertical
    pass (128 maxima side by side, compared eight at a time as integers: the bits of
    non-negative float32 numbers sort as the numbers do, and a negative entry's bits are
    negative), where a maximum per block of a small array is a chain of compares the
    compiler keeps scalar.  The same pass takes the maximum of each block of 128 entries
    (``bmax``, an integer reduction the compiler vectorises too).  A bound ``t`` that k
    entries reach (below) leaves only the blocks whose maximum reaches it to be read again,
    in order and contiguously (on arrays beyond the first-level cache, reading whole lanes
    again was a strided walk, 1.5 times slower at 10,000 entries), or on small arrays
    the lanes, and only their entries from ``t`` up to be offered to the heap.  Mapped entries come in
    any row order, so ties are left to the heap's test (lower row first).  ``k`` is at most
    ``_LANES``."""
    ai = a.view(np.int32)
    li = lanes.view(np.int32)
    bi = bmax.view(np.int32)
    li[:] = 0
    full = n // _LANES
    for c in range(full):
        base = c * _LANES
        cm = np.int32(0)
        for j in range(_LANES):
            x = ai[base + j]
            li[j] = max(li[j], x)
            cm = max(cm, x)
        bi[c] = cm
    base = full * _LANES
    nb = full
    if n > base:
        cm = np.int32(0)
        for j in range(n - base):
            x = ai[base + j]
            li[j] = max(li[j], x)
            cm = max(cm, x)
        bi[full] = cm
        nb += 1
    # A lower bound of the k-th best entry without a heap (a heap step costs 10-20 ns, and
    # there are dozens of them per selection): split the lanes into k groups; each group
    # holds an entry equal to its maximum, so at least k entries reach the least of the k
    # group maxima, and the k-th best entry is at least that.
    per = _LANES // k
    t = np.float32(np.inf)
    for g in range(k):
        hi = _LANES if g == k - 1 else (g + 1) * per
        m = np.float32(0.0)
        for j in range(g * per, hi):
            m = max(m, lanes[j])
        t = min(t, m)
    size = 0
    thr = t  # (0 when fewer than k groups hold a positive entry: no bound then)
    if n <= _LANE_REREAD_UP_TO:
        # a small array (in the core's first cache): its lanes, shorter than its blocks, are read again
        for j in range(_LANES):
            mj = lanes[j]
            if mj < thr or mj <= 0.0:
                continue
            for i in range(j, n, _LANES):
                v = a[i]
                if v < thr or v <= 0.0:
                    continue
                size = _offer(hs, hr, size, k, v, rowmap[i] if mapped else i)
                if size == k:
                    thr = hs[0]
        return size
    for b in range(nb):
        mb = bmax[b]
        if mb < thr or mb <= 0.0:
            continue
        end = min(n, (b + 1) * _LANES)
        for c in range(b * _LANES, end, 16):
            if c + 16 <= end and _max16(a, c) < thr:
                continue  # (most pieces of a block hold nothing up to the k-th score)
            for i in range(c, min(end, c + 16)):
                v = a[i]
                if v < thr or v <= 0.0:
                    continue
                size = _offer(hs, hr, size, k, v, rowmap[i] if mapped else i)
                if size == k:
                    thr = hs[0]
    return size


@_jit_inline
def _gallop(rows: np.ndarray, pos: int, hi: int, r: int) -> int:
    """First position in ``rows[pos:hi]`` (ascending) holding a row >= ``r``."""
    if pos >= hi or rows[pos] >= r:
        return pos
    step = 1
    lo = pos  # rows[lo] < r
    while lo + step < hi and rows[lo + step] < r:
        lo += step
        step *= 2
    top = min(lo + step, hi)  # rows[top] >= r or top == hi
    lo += 1
    while lo < top:
        mid = (lo + top) // 2
        if rows[mid] < r:
            lo = mid + 1
        else:
            top = mid
    return lo


@_jit_inline
def _one_query(indptr, rows, scores, ub, tids, wts, k, allowed, use_allowed, acc, touched,
               hs, hr, out_r, out_s, prune, dense_prune_from, work, lens, rest, rest_len, bmax, vals, lanes, dslot, dcol):
    n = acc.shape[0]
    nt_terms = tids.shape[0]
    if nt_terms == 0:
        return 0
    # lens, rest, rest_len: the caller's buffers (nt_terms + 1 entries at least)
    positive = True
    for j in range(nt_terms):
        lens[j] = indptr[tids[j] + 1] - indptr[tids[j]]
        if wts[j] <= 0:
            positive = False
    # Read the first postings of every term before adding any: the terms' lists lie far apart,
    # and these loads, independent of each other, wait for memory together instead of one
    # after the other (on a small index, waiting for each list's first cache lines is most of
    # a query's time).  The sum only keeps the compiler from dropping the loads.
    sink = np.float32(0.0)
    for j in range(nt_terms):
        if lens[j] > 0:
            lo = indptr[tids[j]]
            sink += scores[lo] + rows[lo]
    if sink < 0.0:
        work[1] += 0  # never true (impacts and rows are >= 0)
    # Terms are added in the query's order, whatever the path: float32 sums then round the
    # same way as the numpy/scipy path's and as another index's (a shard's) with other list
    # lengths, so equal scores stay equal and ties break the same everywhere.
    # rest[jj]: the most that terms jj.. can add to any row; rest_len[jj]: their postings
    rest[nt_terms] = 0.0
    rest_len[nt_terms] = 0
    for jj in range(nt_terms - 1, -1, -1):
        j = jj
        rest[jj] = rest[jj + 1] + wts[j] * ub[tids[j]]
        rest_len[jj] = rest_len[jj + 1] + lens[j]
    prune = prune and positive
    # Accumulator strategy by the number of postings: few -> list the rows touched (zeroing
    # and ranking then cost as much as the postings); many -> no list, one sequential scan of
    # the accumulator and a memset (a data-dependent branch per posting costs more than that).
    # (measured with bench.peers on real text: a list from postings < n/2 up to 16k rows, where
    # the accumulator stays in the core's cache; above, from postings < n/8 only, as the list's
    # scattered re-reads cost more than the dense path's sequential scans)
    sparse = positive and rest_len[0] * (2 if n <= 16384 else 8) < n  # (a row back at 0 would be listed twice)
    # In dense mode the rows of the first (rarest) terms are still listed, up to n/8 of them:
    # their k-th best partial score is a lower bound of the final k-th score, enough to test
    # whether the unread terms can still bring a new row into the top k.
    if not sparse and n < dense_prune_from:
        prune = False  # on a small index the checks cost more than the postings they save
    pool = n if sparse else (n // 8 if prune else 0)
    nt = 0
    theta = np.inf  # (no check made yet)
    last = 0
    switched = nt_terms
    for jj in range(nt_terms):
        j = jj
        # theta can have grown since the last check by at most the bounds of the terms read
        # since: no check until that could be enough
        reach = min(rest[0] - rest[jj], theta + rest[last] - rest[jj])
        if prune and jj > 0 and rest[jj] * (1.0 + _MARGIN) < reach and (
                (sparse and rest_len[jj] > 8 * nt + 256) or (not sparse and rest_len[jj] > n // 2)):
            # the rows read so far could outscore the unread terms, and the unread lists are
            # long next to what a check costs: is the k-th best already out of their reach?
            size = _select(acc, touched, nt, use_allowed, allowed, hs, hr, k)
            if size == k:
                theta = hs[0]
                last = jj
                if rest[jj] * (1.0 + _MARGIN) < theta:
                    switched = jj
                    break
        t = tids[j]
        w = np.float32(wts[j])
        work[0] += indptr[t + 1] - indptr[t]
        if nt + lens[j] <= pool:
            for p in range(indptr[t], indptr[t + 1]):
                r = rows[p]
                touched[nt] = r  # kept only if the row is new: no branch to mispredict
                nt += acc[r] == 0.0
                acc[r] += w * scores[p]
        else:
            pool = 0  # the list stops here (and stays a list of rows of the terms read first)
            s = dslot[t]
            if s >= 0:
                # a term in most rows, held as a column of impacts (0 where it is absent):
                # one sequential, vectorised pass adds the same products (x + 0 == x)
                col = dcol[s]
                for r in range(n):
                    acc[r] += w * col[r]
            else:
                for p in range(indptr[t], indptr[t + 1]):
                    acc[rows[p]] += w * scores[p]
    size = 0
    ready = False  # the candidates are listed in cand[:m], ascending
    m = 0
    cand = touched
    for jj in range(switched, nt_terms):
        # After the switch no new row may enter: a term is added to rows already scored only.
        j = jj
        t = tids[j]
        w = np.float32(wts[j])
        lo = indptr[t]
        hi = indptr[t + 1]
        need = theta / (1.0 + _MARGIN) - rest[jj]  # what a row needs now to stay in reach
        if not ready and rest_len[jj] > (4 * nt if sparse else n // 2):
            # much left to read: list the candidates that can still reach the k-th score (a
            # sort of the rows listed, or a scan of the accumulator), to look them up instead
            m = 0
            if sparse:
                cand = np.sort(touched[:nt])
                for c in range(nt):
                    r = cand[c]
                    if acc[r] >= need and (not use_allowed or allowed[r]):
                        cand[m] = r
                        m += 1
            else:
                cand = touched  # the pool is not needed any more
                for r in range(n):
                    v = acc[r]
                    cand[m] = r
                    m += (v != 0.0) * (v >= need) * (not use_allowed or allowed[r])
            ready = True
        elif ready and m * 16 < hi - lo:
            if m > 8 * k:  # tighten the k-th score, drop the rows it leaves behind
                size = _select(acc, cand, m, False, allowed, hs, hr, k)
                if size == k:
                    theta = max(theta, hs[0])
                need = theta / (1.0 + _MARGIN) - rest[jj]
            keep = 0
            for c in range(m):
                r = cand[c]
                cand[keep] = r
                keep += acc[r] >= need
            m = keep
        s = dslot[t]
        if ready and s >= 0:
            col = dcol[s]  # a column of impacts: the candidates' entries are read directly
            work[1] += m
            for c in range(m):
                r = cand[c]
                acc[r] += w * col[r]
        elif ready and m * 16 < hi - lo:
            # few candidates, a long list: look each one up by galloping search
            work[1] += m
            pos = lo
            for c in range(m):
                r = cand[c]
                pos = _gallop(rows, pos, hi, r)
                if pos >= hi:
                    break
                if rows[pos] == r:
                    acc[r] += w * scores[pos]
        else:
            # read the list, adding only to rows already scored (branch-free)
            work[0] += hi - lo
            if s >= 0:
                col = dcol[s]
                for r in range(n):
                    v = acc[r]
                    acc[r] = v + (v != 0.0) * (w * col[r])
            else:
                for p in range(lo, hi):
                    r = rows[p]
                    v = acc[r]
                    acc[r] = v + (v != 0.0) * (w * scores[p])
    if ready:
        size = _select(acc, cand, m, False, allowed, hs, hr, k)
    elif sparse and (use_allowed or nt < _SELECT_GATHERED_FROM or k > _LANES):
        size = _select(acc, touched, nt, use_allowed, allowed, hs, hr, k)
    elif sparse:
        # the scores of the listed rows side by side, then a bound that skips most of them:
        # a heap test per listed row costs as much as a few postings
        for c in range(nt):
            vals[c] = acc[touched[c]]
        if nt <= LANES_UP_TO:
            size = _select_lanes(vals, nt, True, touched, hs, hr, k, lanes, bmax)
        else:
            size = _select_blocks(vals, nt, True, touched, hs, hr, k, bmax)
    elif use_allowed:
        size = _select_dense(acc, use_allowed, allowed, hs, hr, k)
    elif n <= LANES_UP_TO and k <= _LANES:
        size = _select_lanes(acc, n, False, touched, hs, hr, k, lanes, bmax)
    else:
        size = _select_blocks(acc, n, False, touched, hs, hr, k, bmax)
    if sparse:
        for c in range(nt):
            acc[touched[c]] = 0.0
    else:
        acc[:] = 0.0
    return _drain(hs, hr, size, out_r, out_s)


@_jit_inline
def _compact(tids, wts, slot, ct, cw):
    """The known terms of a query once each, in the order they first occur, with their weights
    summed (a term listed twice weighs 2), into ``ct``/``cw``; terms of weight 0 dropped.
    ``slot`` (one entry per term of the vocabulary, all -1) is left as it was found."""
    m = 0
    for j in range(tids.shape[0]):
        t = tids[j]
        if t < 0:
            continue  # not in the vocabulary
        s = slot[t]
        if s >= 0:
            cw[s] += wts[j]
        else:
            slot[t] = m
            ct[m] = t
            cw[m] = wts[j]
            m += 1
    keep = 0
    for i in range(m):
        slot[ct[i]] = -1
        if cw[i] != 0.0:
            ct[keep] = ct[i]
            cw[keep] = cw[i]
            keep += 1
    return keep


@_jit
def _batch(indptr, rows, scores, ub, q_ptr, tids, wts, k, allowed, use_allowed, acc, touched, slot,
           out_r, out_s, counts, work, q_lo, q_hi, prune, dense_prune_from, dslot, dcol):
    hs = np.empty(k, np.float32)
    hr = np.empty(k, np.int64)
    longest = 0
    for q in range(q_lo, q_hi):
        longest = max(longest, q_ptr[q + 1] - q_ptr[q])
    ct = np.empty(longest, np.int64)
    cw = np.empty(longest, np.float64)
    lens = np.empty(longest + 1, np.int64)
    rest = np.empty(longest + 1, np.float64)
    rest_len = np.empty(longest + 1, np.int64)
    bmax = np.empty((acc.shape[0] + _BLOCK - 1) // _BLOCK, np.float32)
    vals = np.empty(acc.shape[0], np.float32)
    lanes = np.empty(_LANES, np.float32)
    for q in range(q_lo, q_hi):
        a = q_ptr[q]
        b = q_ptr[q + 1]
        m = _compact(tids[a:b], wts[a:b], slot, ct, cw)
        counts[q] = _one_query(indptr, rows, scores, ub, ct[:m], cw[:m], k, allowed, use_allowed,
                               acc, touched, hs, hr, out_r[q], out_s[q], prune, dense_prune_from, work[q],
                               lens, rest, rest_len, bmax, vals, lanes, dslot, dcol)


def _jit_parallel(fn: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`_jit` with ``parallel=True`` (``numba.prange`` loops on numba's thread pool)."""
    return _compile(fn, parallel=True)


@_jit_parallel
def _batch_parts(indptr, rows, scores, ub, q_ptr, tids, wts, k, allowed, use_allowed, accs, toucheds, slots,
                 out_r, out_s, counts, work, bounds, prune, dense_prune_from, dslot, dcol):
    # one part of the batch per iteration, each with its own accumulator, touched list and slots
    for i in numba.prange(bounds.shape[0] - 1):  # type: ignore[union-attr]
        _batch(indptr, rows, scores, ub, q_ptr, tids, wts, k, allowed, use_allowed, accs[i], toucheds[i],
               slots[i], out_r, out_s, counts, work, bounds[i], bounds[i + 1], prune, dense_prune_from, dslot, dcol)


@_jit
def _max_impacts(indptr, scores, out):
    for t in range(out.shape[0]):
        m = np.float32(0.0)
        for p in range(indptr[t], indptr[t + 1]):
            if scores[p] > m:
                m = scores[p]
        out[t] = m


def _plain(a: np.ndarray) -> np.ndarray:
    # np.memmap is an ndarray subclass numba does not type; a view of the same memory is
    return a.view(np.ndarray) if type(a) is not np.ndarray else a


def max_impacts(indptr: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The largest impact of every term (0 for a term without postings), float32."""
    out = np.zeros(len(indptr) - 1, dtype=np.float32)
    _max_impacts(_plain(indptr), _plain(scores), out)
    return out


#: Share of the rows from which a term gets a column of impacts (:func:`dense_columns`): from
#: half of the rows a column (4 bytes per row) is no larger than the term's postings (8 bytes
#: each) and is read sequentially, eight rows per instruction, instead of scattered.
COLUMN_SHARE = 0.5
#: Most columns :func:`dense_columns` makes (the terms in most rows are few: in a query they
#: are a large part of the postings).
MAX_COLUMNS = 32


@_jit
def _fill_columns(indptr, rows, scores, terms, dcol):
    for s in range(terms.shape[0]):
        t = terms[s]
        col = dcol[s]
        for p in range(indptr[t], indptr[t + 1]):
            col[rows[p]] = scores[p]


def dense_columns(indptr: np.ndarray, rows: np.ndarray, scores: np.ndarray, n_docs: int,
                  share: float = COLUMN_SHARE, most: int = MAX_COLUMNS) -> tuple[np.ndarray, np.ndarray]:
    """Columns of impacts (one float32 per row, 0 where the term is absent) of the terms
    found in at least ``share`` of the rows, the ``most`` most frequent of them.

    Returns
    -------
    slot : numpy.ndarray of int32
        Per term, its column, or -1.
    matrix : numpy.ndarray of float32, shape (columns, n_docs)
    """
    n_terms = len(indptr) - 1
    slot = np.full(n_terms, -1, dtype=np.int32)
    df = np.diff(np.asarray(indptr))
    if n_docs == 0:
        return slot, np.zeros((0, 0), dtype=np.float32)
    big = np.flatnonzero(df >= max(1.0, share * n_docs))
    big = big[np.argsort(-df[big], kind="stable")][:most]
    big.sort()
    dcol = np.zeros((len(big), n_docs), dtype=np.float32)
    if len(big):
        _fill_columns(_plain(indptr), _plain(rows).view(np.uint32), _plain(scores), big.astype(np.int64), dcol)
        slot[big] = np.arange(len(big), dtype=np.int32)
    return slot, dcol


@_jit
def _hash_insert(hashes, table):
    mask = table.shape[0] - 1
    for i in range(hashes.shape[0]):
        h = hashes[i]
        s = h & mask
        while True:
            if table[s, 1] == -1:
                table[s, 0] = h
                table[s, 1] = i
                break
            if table[s, 0] == h:
                table[s, 1] = -2  # two terms of one hash: left to the caller's dictionary
                break
            s = (s + 1) & mask


@_jit
def _hash_find(table, hashes, out):
    mask = table.shape[0] - 1
    for i in range(hashes.shape[0]):
        h = hashes[i]
        s = h & mask
        while True:
            v = table[s, 1]
            if v == -1 or table[s, 0] == h:
                out[i] = v
                break
            s = (s + 1) & mask


#: A string whose hash tells whether a :class:`TermHash` was made in this process's hash
#: randomisation (a copy in another process, with another seed, must be made again).
_SEED_PROBE = "policyidx.TermHash"


class TermHash:
    """Term ids of a vocabulary found by the terms' Python hashes in a compiled table.

    A query's terms are resolved in one compiled pass over their hashes (``hash(str)`` is
    computed once per string and kept in it) instead of one dictionary lookup per term: a
    lookup compares the query's string with the vocabulary's, and on a cold cache (a
    machine whose other processes evict it between a process's time slices) reading the
    vocabulary's strings and the dictionary's entries is most of a short query's time.
    The table holds (hash, id) pairs side by side, open addressing, at most half full.

    A term of the vocabulary is always found (equal strings have equal hashes).  A string
    that is *not* in the vocabulary is taken for a term only if its 64-bit hash (SipHash,
    keyed afresh in every process) equals that term's: about one chance in 2**64 per
    term of the vocabulary.  Terms that share a hash within the vocabulary get id -2, for
    the caller to look up by string (:attr:`ambiguous` says whether there are any).
    """

    def __init__(self, terms: "list[str]") -> None:
        n = len(terms)
        hashes = np.fromiter(map(hash, terms), dtype=np.int64, count=n)
        size = 1 << max(4, (2 * n - 1).bit_length())
        self.table = np.full((size, 2), -1, dtype=np.int64)
        _hash_insert(hashes, self.table)
        self.ambiguous = bool((self.table[:, 1] == -2).any())
        self.n_terms = n
        self._seed = hash(_SEED_PROBE)

    def valid(self, n_terms: int) -> bool:
        """Whether this table still serves a vocabulary of ``n_terms`` terms in this process."""
        return self.n_terms == n_terms and self._seed == hash(_SEED_PROBE)

    def find(self, hashes: np.ndarray) -> np.ndarray:
        """Ids (int64) of the strings of these hashes: -1 for none, -2 for a shared hash."""
        out = np.empty(len(hashes), dtype=np.int64)
        _hash_find(self.table, np.ascontiguousarray(hashes, dtype=np.int64), out)
        return out


class Scratch(threading.local):
    """Per-thread buffers of :func:`search_batch`: accumulator, touched-row list, term slots."""

    def __init__(self, n_docs: int, n_terms: int = 0) -> None:
        # threading.local runs __init__ again, with the same arguments, in every thread
        self.n_docs = int(n_docs)
        self.n_terms = int(n_terms)
        self.acc: np.ndarray | None = None
        self.touched: np.ndarray | None = None
        self.slot: np.ndarray | None = None

    def get(self, n_terms: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """This thread's accumulator (all zeros between queries), touched-row buffer and term
        slots (-1 between queries; at least ``n_terms`` of them)."""
        if self.acc is None or self.touched is None:
            self.acc = np.zeros(self.n_docs, dtype=np.float32)
            self.touched = np.empty(self.n_docs, dtype=np.int32)
        need = max(n_terms, self.n_terms)
        if self.slot is None or len(self.slot) < need:
            self.slot = np.full(need, -1, dtype=np.int64)
        return self.acc, self.touched, self.slot

    def parts(self, n: int, n_terms: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`get` for ``n`` parts of a batch run by :func:`_batch_parts` (one row each)."""
        accs = getattr(self, "accs", None)
        need = max(n_terms, self.n_terms)
        if accs is None or len(accs) < n:
            self.accs = np.zeros((n, self.n_docs), dtype=np.float32)
            self.toucheds = np.empty((n, self.n_docs), dtype=np.int32)
            self.slots = np.full((n, need), -1, dtype=np.int64)
        elif self.slots.shape[1] < need:
            self.slots = np.full((len(self.slots), need), -1, dtype=np.int64)
        return self.accs, self.toucheds, self.slots


#: Work a batch must hold per thread before :func:`search_batch` uses another thread, in
#: postings (a query counts :data:`QUERY_WORK` more, a term :data:`TERM_WORK`): below,
#: handing queries to a thread (tens of microseconds) costs more than it saves.
POSTINGS_PER_THREAD = 500_000
#: :data:`POSTINGS_PER_THREAD` when the parts run on numba's threads, which start a part
#: within microseconds (see :func:`search_batch`).
NUMBA_POSTINGS_PER_THREAD = 20_000
#: Postings one query's fixed work is worth (compacting its terms, the top ``k``, clean-up),
#: when a batch is split by work (:func:`split_batch`).
QUERY_WORK = 400
#: Postings one term's fixed work is worth (its bound, its list's start).
TERM_WORK = 16
_POOLS: dict[int, Any] = {}
_POOLS_LOCK = threading.Lock()


def _pool(threads: int) -> Any:
    """A thread pool of ``threads`` workers, made once and kept (starting threads on every
    batch costs a good part of a small batch's time)."""
    from concurrent.futures import ThreadPoolExecutor

    with _POOLS_LOCK:
        pool = _POOLS.get(threads)
        if pool is None:
            pool = _POOLS[threads] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="policyidx-kw")
        return pool


def search_batch(
    indptr: np.ndarray,
    rows: np.ndarray,
    scores: np.ndarray,
    ub: np.ndarray,
    q_ptr: np.ndarray,
    tids: np.ndarray,
    wts: np.ndarray,
    k: int,
    allowed: np.ndarray | None,
    scratch: Scratch,
    threads: int = 1,
    prune: bool = True,
    dense_prune_from: int = DENSE_PRUNE_FROM,
    columns: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top ``k`` rows of each query of a batch.

    Parameters
    ----------
    indptr, rows, scores : numpy.ndarray
        The postings (int64 offsets per term, int32 rows ascending within a term, float32
        impacts); the rows may also be ``uint16`` (an index of at most 65,536 rows).
    ub : numpy.ndarray of float32
        The largest impact of each term (:func:`max_impacts`), for pruning.
    q_ptr, tids, wts : numpy.ndarray
        The queries in CSR form: the terms of query ``q`` are ``tids[q_ptr[q]:q_ptr[q + 1]]``
        (int64; -1 for a term not in the vocabulary, skipped; a term repeated within a query
        counts once with the sum of its weights) with weights ``wts`` (float64).
    k : int
        Results per query.
    allowed : numpy.ndarray of bool or None
        Rows that may be returned.
    scratch : Scratch
        Per-thread buffers (the calling thread's are used; worker threads get their own).
    threads : int
        Most threads to split the batch over (the kernel releases the GIL): one per
        :data:`POSTINGS_PER_THREAD` of work, at most this many, each on a run of queries
        of about equal work (:func:`split_batch`).
    prune : bool
        Use MaxScore pruning (False: score every posting, for tests and comparisons).
    dense_prune_from : int
        Rows from which queries with many postings (more than an eighth of the rows) are
        pruned too; below, checking the bounds costs more than the postings it saves.
    columns : (slot, matrix), optional
        :func:`dense_columns` of these postings: the terms found in most rows are then added
        from a column of impacts in one vectorised pass instead of by scatter-add.

    Returns
    -------
    rows : numpy.ndarray, shape (n_queries, k), int64
    scores : numpy.ndarray, shape (n_queries, k), float32
    counts : numpy.ndarray, shape (n_queries,), int64
        How many of each row of ``rows``/``scores`` are filled (best first).
    work : numpy.ndarray, shape (n_queries, 2), int64
        Per query: postings read in full (scatter-add and merges), and candidates looked
        up by galloping search.
    """
    nq = len(q_ptr) - 1
    out_r = np.empty((nq, k), dtype=np.int64)
    out_s = np.empty((nq, k), dtype=np.float32)
    counts = np.zeros(nq, dtype=np.int64)
    work = np.zeros((nq, 2), dtype=np.int64)
    # rows as unsigned (their values are checked to lie in [0, n_docs) when an index is
    # loaded): an unsigned index needs no wrap-around test, 30% less time per posting
    rows = _plain(rows)
    arrays = (_plain(indptr), rows if rows.dtype == np.uint16 else rows.view(np.uint32), _plain(scores), _plain(ub))
    n_terms = len(indptr) - 1
    if len(tids) and (int(tids.max()) >= n_terms or int(tids.min()) < -1):
        raise ValueError(f"term ids must lie in [-1, {n_terms})")
    if columns is None:
        columns = (np.full(n_terms, -1, dtype=np.int32), np.zeros((0, 0), dtype=np.float32))
    dslot, dcol = columns
    if dslot.shape != (n_terms,) or (len(dcol) and dcol.shape[1] != scratch.n_docs):
        raise ValueError("columns do not fit these postings")
    use_allowed = allowed is not None
    mask = allowed if allowed is not None else _NO_MASK
    bounds = split_batch(indptr, q_ptr, tids, threads) if threads > 1 and nq > 1 else None
    if bounds is None or len(bounds) <= 2:
        acc, touched, slot = scratch.get(n_terms)
        _batch(*arrays, q_ptr, tids, wts, k, mask, use_allowed, acc, touched, slot, out_r, out_s, counts,
               work, 0, nq, prune, dense_prune_from, dslot, dcol)
        return out_r, out_s, counts, work
    threads = len(bounds) - 1
    if _parallel_ok():
        # numba's own threads (OpenMP or TBB): they wait for work spinning, so a part starts
        # within microseconds, where waking a pool thread takes tens (most of a small batch)
        accs, toucheds, slots = scratch.parts(threads, n_terms)
        _batch_parts(*arrays, q_ptr, tids, wts, k, mask, use_allowed, accs, toucheds, slots, out_r, out_s,
                     counts, work, bounds, prune, dense_prune_from, dslot, dcol)
        _check_layer()
        return out_r, out_s, counts, work

    def part(i: int) -> None:
        acc, touched, slot = scratch.get(n_terms)
        _batch(*arrays, q_ptr, tids, wts, k, mask, use_allowed, acc, touched, slot, out_r, out_s, counts,
               work, int(bounds[i]), int(bounds[i + 1]), prune, dense_prune_from, dslot, dcol)

    # the calling thread takes the first part itself (one hand-over fewer, and it would wait anyway)
    futures = [_pool(threads - 1).submit(part, i) for i in range(1, threads)]
    part(0)
    for f in futures:
        f.result()
    return out_r, out_s, counts, work


_NO_MASK = np.zeros(0, dtype=np.bool_)
#: The process that imported this module: a forked child must not start numba's OpenMP
#: threads (GNU OpenMP aborts a child of a process that used it), so children use the pool.
_PID = os.getpid()
#: Whether :func:`search_batch` may run its parts on numba's threads (None: not known yet).
_PARALLEL: bool | None = None
#: Use numba's threads for split batches when they are safe (False: always the thread pool).
USE_NUMBA_THREADS = True


def _parallel_ok() -> bool:
    """Whether a split batch may run on numba's threads: only where numba's threading layer
    is OpenMP or TBB (both accept launches from several Python threads at once; numba's
    fallback ``workqueue`` layer aborts the process then) and not in a forked child."""
    global _PARALLEL
    if not USE_NUMBA_THREADS or numba is None or os.getpid() != _PID:
        return False
    if _PARALLEL is None:
        layer = str(getattr(numba.config, "THREADING_LAYER", "default")).lower()
        ok = layer in ("default", "safe", "threadsafe", "omp", "tbb")
        if ok and layer != "tbb":
            try:
                from numba.np.ufunc import omppool  # noqa: F401
            except Exception:  # noqa: BLE001 - no OpenMP runtime: try TBB
                try:
                    from numba.np.ufunc import tbbpool  # noqa: F401
                except Exception:  # noqa: BLE001
                    ok = False
        _PARALLEL = ok
    return _PARALLEL


def _check_layer() -> None:
    """After the first launch: keep numba's threads only if the layer chosen is OpenMP or TBB."""
    global _PARALLEL, _LAYER_CHECKED
    if not _LAYER_CHECKED:
        _LAYER_CHECKED = True
        try:
            layer = numba.threading_layer()  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001
            layer = "unknown"
        if layer not in ("omp", "tbb"):
            _PARALLEL = False


_LAYER_CHECKED = False


@_jit
def _split(indptr, q_ptr, tids, threads, per_thread, query_work, term_work):
    # the work before each query (postings of its known terms, plus fixed costs), then the
    # query boundaries nearest to i/parts of the total
    nq = q_ptr.shape[0] - 1
    done = np.empty(nq + 1, np.int64)
    w = 0
    done[0] = 0
    for q in range(nq):
        w += query_work
        for j in range(q_ptr[q], q_ptr[q + 1]):
            t = tids[j]
            w += term_work
            if t >= 0:
                w += indptr[t + 1] - indptr[t]
        done[q + 1] = w
    parts = min(threads, nq, max(1, w // per_thread))
    bounds = np.empty(parts + 1, np.int64)
    bounds[0] = 0
    m = 1
    c = 0
    for i in range(1, parts):
        target = w * i // parts
        while c < nq and done[c] < target:
            c += 1
        cut = c  # first boundary with done[c] >= target; the nearer of it and the one before
        if cut > 0 and target - done[cut - 1] < done[cut] - target:
            cut -= 1
        cut = min(max(cut, 1), nq - 1)
        if cut > bounds[m - 1]:
            bounds[m] = cut
            m += 1
    bounds[m] = nq
    return bounds[: m + 1]


def split_batch(indptr: np.ndarray, q_ptr: np.ndarray, tids: np.ndarray, threads: int) -> np.ndarray:
    """Where to cut a batch into parts of about equal work, one per thread.

    Parameters
    ----------
    indptr : numpy.ndarray
        Offsets of the postings lists.
    q_ptr, tids : numpy.ndarray
        The batch in CSR form (as for :func:`search_batch`; -1 for unknown terms).
    threads : int
        Most parts.

    Returns
    -------
    numpy.ndarray of int64
        ``parts + 1`` query offsets from 0 to the number of queries, strictly ascending:
        part ``i`` is queries ``bounds[i]:bounds[i + 1]``.  One part per
        :data:`POSTINGS_PER_THREAD` (:data:`NUMBA_POSTINGS_PER_THREAD` on numba's threads)
        of work (postings of the queries' terms, plus
        :data:`QUERY_WORK` per query and :data:`TERM_WORK` per term), at most ``threads``.
    """
    per_thread = NUMBA_POSTINGS_PER_THREAD if _parallel_ok() else POSTINGS_PER_THREAD
    return _split(_plain(indptr), _plain(q_ptr), np.asarray(tids, dtype=np.int64), int(threads), int(per_thread),
                  QUERY_WORK, TERM_WORK)


def warm_up() -> None:
    """Compile (or load from the disk cache) every kernel on a tiny index."""
    if not AVAILABLE:
        return
    indptr = np.array([0, 2, 3], dtype=np.int64)
    rows = np.array([0, 1, 1], dtype=np.int32)
    scores = np.array([0.5, 0.25, 1.0], dtype=np.float32)
    ub = max_impacts(indptr, scores)
    scratch = Scratch(2, 2)
    columns = dense_columns(indptr, rows, scores, 2)
    TermHash(["a", "b"]).find(np.array([hash("a"), 5], dtype=np.int64))
    if _parallel_ok():
        accs, toucheds, slots = scratch.parts(1, 2)
        _batch_parts(_plain(indptr), rows.view(np.uint32), scores, ub, np.array([0, 1], dtype=np.int64),
                     np.array([0], dtype=np.int64), np.array([1.0]), 1, _NO_MASK, False, accs, toucheds, slots,
                     np.empty((1, 1), np.int64), np.empty((1, 1), np.float32), np.zeros(1, np.int64),
                     np.zeros((1, 2), np.int64), np.array([0, 1], dtype=np.int64), True, DENSE_PRUNE_FROM,
                     *columns)
        _check_layer()
    for allowed in (None, np.ones(2, dtype=np.bool_)):
        search_batch(indptr, rows, scores, ub, np.array([0, 3], dtype=np.int64), np.array([0, -1, 1], dtype=np.int64),
                     np.array([1.0, 1.0, 1.0]), 1, allowed, scratch, columns=columns)
