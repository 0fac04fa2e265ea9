"""Alignment of two documents, clause by clause and sentence by sentence, and matching of
provisions across documents.

:func:`align` pairs a Chinese original with its Japanese translation (or any two texts of
one work).  It works in two passes:

1. **Structure first.**  Clauses that carry the same path (``3.2.6`` and ``3.2.6``) are
   candidate pairs; the text confirms or rejects each one, so a renumbered, missing, extra
   or split clause is not paired blindly.  Between two confirmed pairs the remaining
   clauses are aligned by content with dynamic programming over the clause sequences
   (1-1, 1-2, 2-1, 1-0 and 0-1 moves).
2. **Sentences inside each clause pair**, by the same dynamic programming over the
   sentence sequences (the idea of Bertalign and Vecalign: similarity of single sentences
   and of runs of two consecutive sentences, a length prior, crossing-free moves).

The similarity of two texts combines every signal available: shared Han characters and
character bigrams after :func:`policyidx.han.unify` (a weighted Dice coefficient, weights
are idf over the two documents), glossary anchors (a Chinese term in one text and one of
its Japanese renderings in the other), numbers and dates (``15万件`` == ``150,000``),
quoted names (``「専精特新」`` == ``“专精特新”``), Latin words (``PCT``), the ratio of the
lengths (estimated from the two documents) and, when an encoder is given, the cosine of
the embeddings.  Translator's notes (``（…――訳注）``) and responsible-agency notes are cut
out of the text before scoring.

:func:`match` builds a many-to-many table of provisions of one document that correspond to
provisions of another (a summary and the measures it summarises).
"""

from __future__ import annotations

import math
import unicodedata
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..errors import QueryError
from ..model import Clause, Document

if TYPE_CHECKING:  # pragma: no cover
    from ..retrieval.encoders import Encoder
    from ..text.glossary import Glossary

from .records import Alignment, ClausePair, Method, SentencePair
from .signals import _Featurizer, _Side, _Space, _prepare
from .similarity import _Scorer, _batched_dice, _dp

__all__ = ["align"]


# --------------------------------------------------------------------------- align


def _resolve_glossary(glossary: Glossary | None) -> Glossary:
    if glossary is not None:
        return glossary
    from ..text.glossary import default_glossary

    return default_glossary(general=False)  # terminology only: see default_glossary


def _resolve_encoder(encoder: Encoder | str | None, a: _Side, b: _Side) -> Encoder | None:
    if encoder is None:
        return None
    if isinstance(encoder, str):
        if encoder != "builtin":
            from ..retrieval.encoders import get_encoder

            return get_encoder(encoder)
        from ..retrieval.encoders import BuiltinEncoder

        texts = sorted(set(a.texts) | set(b.texts))
        # Character n-grams only: fitting on two documents is quick and the segmenters'
        # word terms add little across languages.
        return BuiltinEncoder().fit(texts, dim=min(128, max(2, len(texts) - 1)), words=False, max_features=32_768)
    return encoder


def _encode(encoder: Encoder | None, texts: list[str]) -> np.ndarray | None:
    if encoder is None:
        return None
    if not texts:
        return np.zeros((0, int(encoder.dim)), dtype=np.float32)
    out = np.asarray(encoder.encode(texts, kind="passage"), dtype=np.float64)
    if out.shape[0] != len(texts):
        from ..errors import EncoderError

        raise EncoderError(f"encoder {getattr(encoder, 'name', encoder)!r} returned {out.shape[0]} rows for {len(texts)} texts")
    return out


def _clause_embeddings(emb: np.ndarray | None, side: _Side) -> np.ndarray | None:
    if emb is None:
        return None
    out = np.zeros((len(side.clauses), emb.shape[1]))
    np.add.at(out, side.sent_clause, emb)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def _estimate_ratio(a: _Side, b: _Side) -> tuple[float, float]:
    """Target/source length ratio and the spread of its log, from same-path clause pairs."""
    la = np.bincount(a.sent_clause, weights=a.lengths, minlength=len(a.clauses))
    lb = np.bincount(b.sent_clause, weights=b.lengths, minlength=len(b.clauses))
    by_path = {c.path: k for k, c in enumerate(b.clauses)}
    logs = [
        math.log(lb[by_path[c.path]] / la[k])
        for k, c in enumerate(a.clauses)
        if c.path in by_path and la[k] >= 10 and lb[by_path[c.path]] >= 10
    ]
    if len(logs) >= 3:
        arr = np.asarray(logs)
        centre = float(np.median(arr))
        spread = 1.4826 * float(np.median(np.abs(arr - centre)))
    else:
        total_a, total_b = float(a.lengths.sum()), float(b.lengths.sum())
        centre = math.log(total_b / total_a) if total_a > 0 and total_b > 0 else 0.0
        spread = 0.3
    return math.exp(centre), min(max(spread, 0.15), 0.5)


def _same_path(a: _Side, b: _Side) -> list[tuple[int, int]]:
    by_path = {c.path: k for k, c in enumerate(b.clauses)}
    return [(i, by_path[c.path]) for i, c in enumerate(a.clauses) if c.path in by_path]


def _confirmed_anchors(sim: np.ndarray, a: _Side, b: _Side, floor: float, window: int = 8) -> list[tuple[int, int]]:
    """Same-path clause pairs that the text confirms beyond doubt, as a crossing-free chain.

    A pair is confirmed when its similarity reaches ``floor`` and no clause within
    ``window`` positions on either side fits better (a renumbered or shifted clause fails
    this: its number belongs to a neighbour's text).  These pairs cut the documents into
    independent stretches; the stretches are aligned by :func:`_gap`.
    """
    cands: list[tuple[int, int]] = []
    for i, j in _same_path(a, b):
        s = sim[i, j]
        if s < floor:
            continue
        row = sim[i, max(0, j - window) : j + window + 1]
        col = sim[max(0, i - window) : i + window + 1, j]
        if s < row.max() or s < col.max():
            continue
        cands.append((i, j))
    return [cands[k] for k in _longest_chain([j for _, j in cands])]


def _longest_chain(values: Sequence[int]) -> list[int]:
    """Positions of a longest strictly increasing subsequence (patience sorting, O(n log n))."""
    import bisect

    tails: list[int] = []  # value at the end of the best chain of each length
    tail_pos: list[int] = []
    prev = [-1] * len(values)
    for k, v in enumerate(values):
        at = bisect.bisect_left(tails, v)
        if at == len(tails):
            tails.append(v)
            tail_pos.append(k)
        else:
            tails[at] = v
            tail_pos[at] = k
        prev[k] = tail_pos[at - 1] if at > 0 else -1
    out: list[int] = []
    k = tail_pos[-1] if tail_pos else -1
    while k >= 0:
        out.append(k)
        k = prev[k]
    return out[::-1]


#: Gain added to a same-path clause pair whose text supports it (see :func:`_gap`).
_STRUCTURE_BONUS = 0.1

#: Sentence blocks larger than this (cells) are first cut at confident anchor points.
_BIG_BLOCK = 40_000


def _split_corners(scorer: _Scorer, i0: int, i1: int, j0: int, j1: int, tile: int = 64) -> list[tuple[int, int]]:
    """Corners where a long block can be cut into independent pieces (Bertalign-style anchors).

    Each source row is compared with the target rows in a window around its expected
    position; a row's best target that is also that target's best row, with a clear
    similarity, is a 1-1 anchor; the longest crossing-free chain of anchors is kept.  The
    path is cut only between two consecutive anchors ``(i-1, j-1)`` and ``(i, j)``, so no
    2-1 or 1-2 bead can straddle a cut.
    """
    sp = scorer.space
    n, m = i1 - i0, j1 - j0
    slope = m / n
    half = max(tile, int(0.05 * m))
    ranges: list[tuple[int, int, int, int]] = []
    for r0 in range(i0, i1, tile):
        r1 = min(i1, r0 + tile)
        c0 = max(j0, int(j0 + (r0 - i0) * slope) - half)
        c1 = min(j1, int(j0 + (r1 - i0) * slope) + half)
        ranges.append((r0, r1, c0, c1))
    blocks = _batched_dice(sp.a.xw, sp.a.size, sp.b.x, sp.b.size, ranges)
    cands: list[tuple[int, int]] = []
    for (r0, _, c0, _), sims in zip(ranges, blocks):
        if sims.size == 0:
            continue
        best_j = sims.argmax(axis=1)
        best_i = sims.argmax(axis=0)
        for r, jj in enumerate(best_j):
            if best_i[jj] == r and sims[r, jj] >= 0.5:
                cands.append((r0 + r, c0 + int(jj)))
    cands.sort()
    chain = [cands[k] for k in _longest_chain([j for _, j in cands])]
    corners = []
    for (pi, pj), (ci, cj) in zip(chain, chain[1:]):
        if ci == pi + 1 and cj == pj + 1:
            corners.append((ci, cj))
    return corners


def align(
    src: Document,
    tgt: Document,
    *,
    encoder: Encoder | str | None = None,
    glossary: Glossary | None = None,
    tau: float = 0.1,
    merge_penalty: float = 0.02,
) -> Alignment:
    """Align two documents clause by clause and, inside each clause pair, sentence by sentence.

    Parameters
    ----------
    src, tgt : Document
        Typically a Chinese original and its Japanese translation; any two languages work,
        the signals that need both (glossary anchors) are used when available.
    encoder : Encoder, str or None
        An embedding encoder adds the cosine of sentence embeddings to the similarity.
        ``"builtin"`` fits a :class:`~policyidx.encoders.BuiltinEncoder` on the two documents
        (character n-grams, a second or so); another string is passed to
        :func:`~policyidx.encoders.get_encoder`; ``None`` uses the text signals only.
    glossary : Glossary or None
        Source of term anchors; ``None`` loads the bundled glossary.  Pass
        ``Glossary([])`` to align without anchors.
    tau : float
        Similarity a bead must exceed to be preferred over leaving both sides unaligned;
        raise it to leave more sentences unpaired, lower it to pair more aggressively.
    merge_penalty : float
        Subtracted from the gain of 2-1 and 1-2 beads so that a 1-1 bead wins a tie.

    Returns
    -------
    Alignment
        Every clause of both documents appears in exactly one :class:`ClausePair`.

    Examples
    --------
    >>> al = align(zh_doc, ja_doc)                                   # doctest: +SKIP
    >>> al.counterpart("zgc-2019-ipap.zh#3.4.15").tgt                 # doctest: +SKIP
    ('zgc-2019-ipap.ja#3.4.14',)
    """
    if not isinstance(src, Document) or not isinstance(tgt, Document):
        raise QueryError(f"align() expects two Documents, got {type(src).__name__} and {type(tgt).__name__}")
    if src.id == tgt.id:
        raise QueryError(f"align() got the same document twice ({src.id!r}); pass two texts of one work")
    gl = _resolve_glossary(glossary)
    featurize = _Featurizer(gl)
    a = _prepare(src, featurize)
    b = _prepare(tgt, featurize)
    space = _Space(a, b)
    enc = _resolve_encoder(encoder, a, b)
    emb_a, emb_b = _encode(enc, a.texts), _encode(enc, b.texts)
    ratio, sigma = _estimate_ratio(a, b)
    scorer = _Scorer(a, b, space, emb_a, emb_b, ratio, sigma, tau, merge_penalty)

    groups = _align_clauses(scorer)
    pairs = _assemble(scorer, groups)
    params = {
        "length_ratio": round(ratio, 4),
        "length_sigma": round(sigma, 4),
        "tau": tau,
        "merge_penalty": merge_penalty,
        "encoder": None if enc is None else enc.describe() if hasattr(enc, "describe") else getattr(enc, "name", str(enc)),
        "glossary_entries": len(gl),
        "src_lang": src.lang,
        "tgt_lang": tgt.lang,
    }
    return Alignment(src=src.id, tgt=tgt.id, pairs=pairs, params=params)


def _clause_block(scorer: _Scorer, i0: int, i1: int, j0: int, j1: int) -> tuple[np.ndarray, ...]:
    a, b, sp = scorer.a, scorer.b, scorer.space
    la = np.bincount(a.sent_clause, weights=a.lengths, minlength=len(a.clauses))[i0:i1]
    lb = np.bincount(b.sent_clause, weights=b.lengths, minlength=len(b.clauses))[j0:j1]
    ea = None if scorer.clause_emb_a is None else scorer.clause_emb_a[i0:i1]
    eb = None if scorer.clause_emb_b is None else scorer.clause_emb_b[j0:j1]
    return scorer.block(sp.ca, sp.cb, i0, i1, j0, j1, ea, eb, la, lb, scorer.sigma)


def _align_clauses(scorer: _Scorer) -> list[tuple[list[int], list[int], float, Method]]:
    """Clause beads as (src clause rows, tgt clause rows, score, method)."""
    a, b = scorer.a, scorer.b
    scorer.clause_emb_a = _clause_embeddings(scorer.emb_a, a)
    scorer.clause_emb_b = _clause_embeddings(scorer.emb_b, b)
    n, m = len(a.clauses), len(b.clauses)
    if n == 0 or m == 0:
        return [([i], [], 0.0, "none") for i in range(n)] + [([], [j], 0.0, "none") for j in range(m)]
    w11 = _clause_block(scorer, 0, n, 0, m)[0]
    # Unrelated clauses of one domain share vocabulary: the similarity most clause pairs
    # reach sets the bar a pair must clear to count as a translation.
    scorer.clause_tau = max(scorer.tau, float(np.quantile(w11, 0.9)))
    anchors = _confirmed_anchors(w11, a, b, floor=2.0 * scorer.clause_tau)
    out: list[tuple[list[int], list[int], float, Method]] = []
    prev_i, prev_j = 0, 0
    for ai, aj in anchors + [(n, m)]:
        if ai > prev_i or aj > prev_j:
            out.extend(_gap(scorer, prev_i, ai, prev_j, aj))
        if ai < n:
            out.append(([ai], [aj], float(w11[ai, aj]), "structure"))
        prev_i, prev_j = ai + 1, aj + 1
    return _pair_same_labels(scorer, out)


_Group = tuple[list[int], list[int], float, Method]


def _label_key(clause: Clause) -> tuple[str, object] | None:
    """What makes two printed labels the same label across languages, or None (no label).

    The label style and number when the parser read a number (``（四）`` and ``(四)`` are both
    ``cn-paren`` 4, ``第十二条`` and ``第12条`` both ``article`` 12), else the label itself
    with widths folded.
    """
    label = unicodedata.normalize("NFKC", clause.label or "").strip()
    if not label:
        return None
    if clause.number is not None:
        return (clause.style, (clause.number, clause.sub))
    return ("", label)


def _pair_same_labels(scorer: _Scorer, groups: list[_Group]) -> list[_Group]:
    """Pair unpaired clauses that print the same label in the same slot of both documents.

    A run of unpaired clauses between two paired neighbours (each paired with a similarity
    at least the clause bar) is the slot where the two documents' clauses of that stretch
    must meet.  A source and a target clause of such a run whose labels are equal (see
    :func:`_label_key`), each label unique on its side of the run, are paired with method
    ``"label"`` even when their texts share no word (``三、重点任务`` and ``三、主要な課題``);
    crossing pairs are dropped (longest chain kept).  Clauses whose labels differ, clauses
    without a label, and runs at the start or end of a document stay unpaired.
    """
    bar = scorer.clause_tau

    def confident(g: _Group) -> bool:
        return bool(g[0]) and bool(g[1]) and g[2] >= bar

    out: list[_Group] = []
    k = 0
    while k < len(groups):
        g = groups[k]
        if g[0] and g[1]:
            out.append(g)
            k += 1
            continue
        end = k
        while end < len(groups) and not (groups[end][0] and groups[end][1]):
            end += 1
        run = groups[k:end]
        if k > 0 and end < len(groups) and confident(groups[k - 1]) and confident(groups[end]):
            out.extend(_pair_run(scorer, run))
        else:
            out.extend(run)
        k = end
    return out


def _pair_run(scorer: _Scorer, run: list[_Group]) -> list[_Group]:
    a, b = scorer.a, scorer.b
    src = [r for g in run for r in g[0]]
    tgt = [r for g in run for r in g[1]]
    if not src or not tgt:
        return run
    keys_a = [_label_key(a.clauses[i]) for i in src]
    keys_b = [_label_key(b.clauses[j]) for j in tgt]
    where_b = {key: n for n, key in enumerate(keys_b) if key is not None and keys_b.count(key) == 1}
    cands = [
        (m, where_b[key])
        for m, key in enumerate(keys_a)
        if key is not None and keys_a.count(key) == 1 and key in where_b
    ]
    if not cands:
        return run
    chain = [cands[x] for x in _longest_chain([n for _, n in cands])]
    matched_a = {m for m, _ in chain}
    matched_b = {n for _, n in chain}
    out: list[_Group] = []
    pa = pb = 0
    for m, n in chain + [(len(src), len(tgt))]:
        out.extend(([src[x]], [], 0.0, "none") for x in range(pa, m) if x not in matched_a)
        out.extend(([], [tgt[y]], 0.0, "none") for y in range(pb, n) if y not in matched_b)
        if m < len(src):
            i, j = src[m], tgt[n]
            w11 = _clause_block(scorer, i, i + 1, j, j + 1)[0]
            out.append(([i], [j], float(w11[0, 0]), "label"))
        pa, pb = m + 1, n + 1
    return out


def _gap(scorer: _Scorer, i0: int, i1: int, j0: int, j1: int) -> list[tuple[list[int], list[int], float, Method]]:
    if i1 == i0 or j1 == j0:
        return [([i], [], 0.0, "none") for i in range(i0, i1)] + [([], [j], 0.0, "none") for j in range(j0, j1)]
    w11, w21, w12 = _clause_block(scorer, i0, i1, j0, j1)
    tau, pen = scorer.clause_tau, scorer.merge_penalty
    # Structure as a prior: a same-path pair that the text supports (similarity above the
    # bar) gets a bonus, so among equally similar candidates the numbering decides.
    bonus = np.zeros_like(w11)
    for i, j in _same_path(scorer.a, scorer.b):
        if i0 <= i < i1 and j0 <= j < j1 and w11[i - i0, j - j0] >= tau:
            bonus[i - i0, j - j0] = _STRUCTURE_BONUS
    beads = _dp(w11 - tau + bonus, w21 - tau - pen, w12 - tau - pen)
    out: list[tuple[list[int], list[int], float, Method]] = []
    for bi0, bi1, bj0, bj1 in beads:
        src_rows = list(range(i0 + bi0, i0 + bi1))
        tgt_rows = list(range(j0 + bj0, j0 + bj1))
        if src_rows and tgt_rows:
            k = (bi1 - bi0, bj1 - bj0)
            score = {(1, 1): w11, (2, 1): w21, (1, 2): w12}[k][bi0, bj0]
            method: Method = "structure" if k == (1, 1) and bonus[bi0, bj0] > 0 else "content"
            out.append((src_rows, tgt_rows, float(score), method))
        else:
            out.append((src_rows, tgt_rows, 0.0, "none"))
    return out


def _sentence_ranges(scorer: _Scorer, src_rows: list[int], tgt_rows: list[int]) -> tuple[int, int, int, int]:
    a, b = scorer.a, scorer.b
    # the clauses of a bead are consecutive in document order, so their sentences are too
    if src_rows:
        i0 = int(a.clause_first[src_rows[0]])
        i1 = int(a.clause_first[src_rows[-1]] + a.clause_count[src_rows[-1]])
    else:
        i0 = i1 = 0
    if tgt_rows:
        j0 = int(b.clause_first[tgt_rows[0]])
        j1 = int(b.clause_first[tgt_rows[-1]] + b.clause_count[tgt_rows[-1]])
    else:
        j0 = j1 = 0
    return i0, i1, j0, j1


def _assemble(scorer: _Scorer, groups: list[tuple[list[int], list[int], float, Method]]) -> list[ClausePair]:
    """Clause pairs in document order, with sentence alignments and the clauses without text."""
    a, b, sp = scorer.a, scorer.b, scorer.space
    ranges = [_sentence_ranges(scorer, s, t) for s, t, _, _ in groups]
    # the pieces each group's sentence block is solved in: one, or several for long blocks
    pieces: list[list[tuple[int, int, int, int]]] = []
    for i0, i1, j0, j1 in ranges:
        if i1 <= i0 or j1 <= j0:
            pieces.append([])
            continue
        cuts = _split_corners(scorer, i0, i1, j0, j1) if (i1 - i0) * (j1 - j0) > _BIG_BLOCK else []
        bounds = [(i0, j0)] + cuts + [(i1, j1)]
        pieces.append([(p[0], q[0], p[1], q[1]) for p, q in zip(bounds, bounds[1:])])
    flat = [r for ps in pieces for r in ps]
    d11 = _batched_dice(sp.a.xw, sp.a.size, sp.b.x, sp.b.size, flat)
    d21 = _batched_dice(sp.a.rw, sp.a.rsize, sp.b.x, sp.b.size, [(i0, i1 - 1, j0, j1) for i0, i1, j0, j1 in flat])
    d12 = _batched_dice(sp.a.xw, sp.a.size, sp.b.r, sp.b.rsize, [(i0, i1, j0, j1 - 1) for i0, i1, j0, j1 in flat])
    # sentence lengths vary more than clause lengths
    sigma = max(scorer.sigma, 0.3)
    tau, pen = scorer.tau, scorer.merge_penalty
    pairs: list[ClausePair] = []
    at = 0
    for k, (src_rows, tgt_rows, score, method) in enumerate(groups):
        i0, i1, j0, j1 = ranges[k]
        sentences: list[SentencePair] = []
        if not pieces[k]:
            sentences = [SentencePair((a.sentences[r].id,), (), 0.0) for r in range(i0, i1)]
            sentences += [SentencePair((), (b.sentences[r].id,), 0.0) for r in range(j0, j1)]
        for p0, p1, q0, q1 in pieces[k]:
            ea = None if scorer.emb_a is None else scorer.emb_a[p0:p1]
            eb = None if scorer.emb_b is None else scorer.emb_b[q0:q1]
            w11, w21, w12 = scorer.weigh(d11[at], d21[at], d12[at], ea, eb, a.lengths[p0:p1], b.lengths[q0:q1], sigma)
            at += 1
            for bi0, bi1, bj0, bj1 in _dp(w11 - tau, w21 - tau - pen, w12 - tau - pen):
                ids_a = tuple(a.sentences[p0 + r].id for r in range(bi0, bi1))
                ids_b = tuple(b.sentences[q0 + r].id for r in range(bj0, bj1))
                bead_score = 0.0
                if ids_a and ids_b:
                    bead_score = float({(1, 1): w11, (2, 1): w21, (1, 2): w12}[(bi1 - bi0, bj1 - bj0)][bi0, bj0])
                sentences.append(SentencePair(ids_a, ids_b, bead_score))
        if method == "label" and i1 > i0 and j1 > j0:
            sentences = _pair_headings(scorer, sentences, a.sentences[i0].id, b.sentences[j0].id, i0, j0)
        pairs.append(
            ClausePair(
                src=tuple(a.clauses[r].id for r in src_rows),
                tgt=tuple(b.clauses[r].id for r in tgt_rows),
                score=score,
                method=method,
                sentences=sentences,
            )
        )
    return _insert_containers(pairs, a.doc, b.doc)


def _pair_headings(scorer: _Scorer, beads: list[SentencePair], first_a: str, first_b: str, i: int, j: int) -> list[SentencePair]:
    """In a pair made by label, the two first sentences (the headings) form one bead when the
    sentence alignment left both alone."""
    alone_a = [k for k, sp in enumerate(beads) if sp.src == (first_a,) and not sp.tgt]
    alone_b = [k for k, sp in enumerate(beads) if sp.tgt == (first_b,) and not sp.src]
    if not alone_a or not alone_b:
        return beads
    sp = scorer.space
    dice = _batched_dice(sp.a.xw, sp.a.size, sp.b.x, sp.b.size, [(i, i + 1, j, j + 1)])[0]
    ea = None if scorer.emb_a is None else scorer.emb_a[i : i + 1]
    eb = None if scorer.emb_b is None else scorer.emb_b[j : j + 1]
    w11 = scorer.weigh(dice, dice[:0, :0], dice[:0, :0], ea, eb, scorer.a.lengths[i : i + 1], scorer.b.lengths[j : j + 1], max(scorer.sigma, 0.3))[0]
    at = min(alone_a[0], alone_b[0])
    rest = [sp_ for k, sp_ in enumerate(beads) if k not in (alone_a[0], alone_b[0])]
    rest.insert(at, SentencePair((first_a,), (first_b,), float(w11[0, 0])))
    return rest


def _insert_containers(pairs: list[ClausePair], src: Document, tgt: Document) -> list[ClausePair]:
    """Add the clauses without sentences (the document root ``0``, bare containers).

    Such a clause is paired with the clause of the same path on the other side when most
    of its descendants are paired into that clause's descendants; otherwise it stays unpaired.
    """
    partner: dict[str, set[str]] = {}
    for cp in pairs:
        for s in cp.src:
            partner.setdefault(s, set()).update(cp.tgt)
    empty_a = [c for c in src.clauses if not c.sentences]
    empty_b = {c.path: c for c in tgt.clauses if not c.sentences}
    extra: list[ClausePair] = []
    used_b: set[str] = set()
    for c in empty_a:
        other = empty_b.get(c.path)
        ok = False
        if other is not None and other.id not in used_b:
            desc_b = {d.id for d in other.walk()}
            inner = [d.id for d in c.walk() if d.sentences]
            hits = sum(1 for d in inner if partner.get(d, set()) & desc_b)
            ok = bool(inner) and hits * 2 >= len(inner)
        if ok and other is not None:
            used_b.add(other.id)
            extra.append(ClausePair((c.id,), (other.id,), 0.0, "structure", []))
        else:
            extra.append(ClausePair((c.id,), (), 0.0, "none", []))
    for c in tgt.clauses:
        if not c.sentences and c.id not in used_b:
            extra.append(ClausePair((), (c.id,), 0.0, "none", []))
    if not extra:
        return pairs
    order_a = {c.id: k for k, c in enumerate(src.clauses)}
    order_b = {c.id: k for k, c in enumerate(tgt.clauses)}
    # Merge into document order: a container goes before the first pair that holds a clause
    # following it in its own document.
    result = list(pairs)
    for cp in extra:
        if cp.src:
            key, order, side = order_a[cp.src[0]], order_a, "src"
        else:
            key, order, side = order_b[cp.tgt[0]], order_b, "tgt"
        pos = len(result)
        for k, other in enumerate(result):
            ids = getattr(other, side)
            if ids and order[ids[0]] > key:
                pos = k
                break
        result.insert(pos, cp)
    return result
