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


def make_snippet(text: str, spans: list[tuple[int, int]], width: int = 120) -> tuple[str, int]:
    """A window of about ``width`` characters of ``text`` around the densest highlights."""
    if len(text) <= width:
        return text, 0
    if not spans:
        return text[:width], 0
    best, best_n = 0, -1
    for s, _ in spans:
        n = sum(1 for a, b in spans if s <= a and b <= s + width)
        if n > best_n:
            best, best_n = s, n
    start = max(0, min(best - width // 4, len(text) - width))
    return text[start : start + width], start


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
