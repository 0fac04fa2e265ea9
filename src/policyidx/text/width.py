"""Display width: the columns a text takes in a terminal or on a page (East Asian Width
W and F count 2, combining marks 0, everything else 1)."""

from __future__ import annotations

import re
import threading
import unicodedata

__all__ = ["display_width", "char_width"]

_LOCK = threading.Lock()
_TABLES: tuple[re.Pattern[str], re.Pattern[str]] | None = None


def char_width(ch: str) -> int:
    """Columns of one character."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _runs(pred) -> re.Pattern[str]:
    ranges: list[str] = []
    start = None
    for cp in range(0x10001):
        hit = cp < 0x10000 and not 0xD800 <= cp < 0xE000 and pred(chr(cp))
        if hit and start is None:
            start = cp
        elif not hit and start is not None:
            ranges.append(re.escape(chr(start)) + ("-" + re.escape(chr(cp - 1)) if cp - 1 > start else ""))
            start = None
    return re.compile("[" + "".join(ranges) + "]+")


def _tables() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Regexes of runs of wide and of combining Basic Multilingual Plane characters, from
    :mod:`unicodedata` (built on first use, some 40 ms), so that :func:`display_width`
    counts in C."""
    global _TABLES
    if _TABLES is None:
        with _LOCK:
            if _TABLES is None:
                _TABLES = (_runs(lambda c: unicodedata.east_asian_width(c) in "WF" and not unicodedata.combining(c)),
                           _runs(lambda c: unicodedata.combining(c) != 0))
    return _TABLES


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (CJK and full-width characters count 2,
    combining marks 0)."""
    if text.isascii():
        return len(text)
    if max(text) > "\uffff":
        return sum(char_width(c) for c in text)
    wide, combining = _tables()
    return len(text) + sum(map(len, wide.findall(text))) - sum(map(len, combining.findall(text)))
