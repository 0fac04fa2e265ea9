"""Highlights and snippets of a hit: the spans of a clause that matched the query."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..text.analysis import tokenize
from ..text.han import unify

if TYPE_CHECKING:  # pragma: no cover
    from ..retrieval.expand import Expansion

__all__ = ["highlight", "make_snippet", "marked"]


def highlight(text: str, lang: str, exp: Expansion) -> tuple[list[tuple[int, int]], list[str]]:
    """Spans of ``text`` that match the query's word terms (or shared Han bigrams).

    Returns the merged spans and the glossary renderings whose terms occur in the text.
    """
    words = {t for t in exp.terms if not t.startswith("#")}
    spans: list[tuple[int, int]] = []
    toks = tokenize(text, lang)
    present: set[str] = set()
    long_words = [w for w in words if len(w) >= 2]
    for tok in toks:
        if tok.norm in words:
            spans.append((tok.start, tok.end))
            present.add(tok.norm)
        elif len(tok.norm) > 2:
            # a compound token (専利担保融資) that contains a query word (担保融資)
            for w in long_words:
                at = tok.norm.find(w)
                if at >= 0 and len(tok.norm) == tok.end - tok.start:
                    spans.append((tok.start + at, tok.start + at + len(w)))
                    present.add(w)
    bigrams = {t[1:] for t in exp.terms if t.startswith("#")}
    if bigrams and not spans:
        u = unify(text)
        for i in range(len(u) - 1):
            if u[i : i + 2] in bigrams:
                spans.append((i, i + 2))
    # a rendering matched when it stands in the text (Han-unified) or all its words do
    u_text = unify(text).lower()
    matched = [r for r, ts in exp.rendering_terms.items()
               if unify(r).lower() in u_text
               or (words_of := [t for t in ts if not t.startswith("#")]) and all(t in present for t in words_of)]
    return _merge(spans), matched


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


_BREAKS = set("。．.！!？?；;，,、：:\n 　）)」』】")


def make_snippet(text: str, spans: list[tuple[int, int]], width: int = 120, lang: str | None = None) -> tuple[str, int]:
    """A window of about ``width`` characters of ``text`` around the densest highlights,
    starting and ending on word boundaries (after punctuation when one is near, else between
    two of the analyser's tokens when ``lang`` is given), never inside a word.

    Returns the snippet and its offset in ``text``.
    """
    if len(text) <= width:
        return text, 0
    best = 0
    if spans:
        best_n = -1
        for s, _ in spans:
            n = sum(1 for a, b in spans if s <= a and b <= s + width)
            if n > best_n:
                best, best_n = s, n
    start = max(0, min(best - width // 4, len(text) - width))
    end = min(len(text), start + width)
    cuts = _word_cuts(text, lang)
    start = _snap(text, start, cuts, back=True, limit=width // 4, floor=0)
    end = _snap(text, end, cuts, back=False, limit=width // 4, floor=start)
    if spans and best >= start:
        # keep the first highlight of the window whole
        for a, b in spans:
            if a >= best and b > end and a < end:
                end = _snap(text, b, cuts, back=False, limit=width // 4, floor=start)
                break
    return text[start:end], start


def _word_cuts(text: str, lang: str | None) -> set[int] | None:
    """Offsets between two words of ``text`` (``None``: any offset between non-letters)."""
    if not lang:
        return None
    try:
        toks = tokenize(text, lang)
    except Exception:  # noqa: BLE001 - a snippet never fails a search
        return None
    cuts = {0, len(text)}
    for t in toks:
        cuts.add(t.start)
        cuts.add(t.end)
    return cuts


def _is_cut(text: str, i: int, cuts: set[int] | None) -> bool:
    if i <= 0 or i >= len(text):
        return True
    if text[i - 1] in _BREAKS or text[i] in _BREAKS:
        return True
    if cuts is not None:
        return i in cuts
    # without a tokeniser: between two letters of a space-separated script is inside a word
    return not (text[i - 1].isalnum() and text[i].isalnum() and text[i - 1].isascii() and text[i].isascii())


def _snap(text: str, i: int, cuts: set[int] | None, *, back: bool, limit: int, floor: int) -> int:
    """The nearest boundary to ``i`` (after punctuation first, then a word cut), moving
    outward (``back``: towards the start) at most ``limit`` characters."""
    if i <= 0 or i >= len(text):
        return max(0, min(i, len(text)))
    rng = range(i, max(floor, i - limit) - 1, -1) if back else range(i, min(len(text), i + limit) + 1)
    for j in rng:  # a sentence or phrase break
        if 0 < j < len(text) and text[j - 1] in _BREAKS:
            return j
        if j in (0, len(text)):
            return j
    for j in rng:  # a word boundary
        if _is_cut(text, j, cuts):
            return j
    return i


def marked(text: str, spans: list[tuple[int, int]], offset: int = 0, *, start: str = "【", end: str = "】") -> str:
    """``text`` with the highlight ``spans`` (offsets into a text of which ``text`` starts at
    ``offset``, as a hit's snippet does) wrapped in ``start`` and ``end``; line breaks become
    spaces."""
    out, pos = [], 0
    for a, b in spans:
        a, b = a - offset, b - offset
        if b <= 0 or a >= len(text):
            continue
        a, b = max(a, 0), min(b, len(text))
        out.append(text[pos:a])
        out.append(start + text[a:b] + end)
        pos = b
    out.append(text[pos:])
    return "".join(out).replace("\n", " ")
