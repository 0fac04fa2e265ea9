"""Clause labels of the official numbering, and Chinese numerals.

Styles, from the outermost: ``chapter`` (第X章), ``section`` (第X节), ``article`` (第X条),
``cn`` (一、 一．), ``cn-paren`` (（一） (一)), ``num`` (1. 1．1、), ``num-paren`` (（1） (1)),
``circled`` (①).  Inline enumerations (``一是`` / ``1つ目は``) are found inside a clause's text,
see :func:`match_enum`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LabelMatch", "match_label", "match_enum", "cn_to_int", "STYLE_RANK"]

STYLE_RANK = {
    "chapter": 0,
    "section": 1,
    "article": 2,
    "cn": 3,
    "cn-paren": 4,
    "num": 5,
    "num-paren": 6,
    "circled": 7,
    "enum": 8,
}

_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_FW_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def cn_to_int(s: str) -> int | None:
    """Value of a Chinese numeral (``十六`` -> 16, ``二十一`` -> 21, ``一百零五`` -> 105) or digits."""
    s = s.translate(_FW_DIGITS)
    if s.isdigit():
        return int(s)
    total, digit = 0, None
    for ch in s:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (digit if digit is not None else 1) * _CN_UNITS[ch]
            digit = None
        else:
            return None
    if digit is not None:
        total += digit
    return total


_CN_NUM = "[一二三四五六七八九十百零〇两]+"
_AR_NUM = "[0-9０-９]{1,3}"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("chapter", re.compile(rf"^第\s*({_CN_NUM}|{_AR_NUM})\s*章")),
    ("section", re.compile(rf"^第\s*({_CN_NUM}|{_AR_NUM})\s*节")),
    ("article", re.compile(rf"^第\s*({_CN_NUM}|{_AR_NUM})\s*条")),
    ("cn", re.compile(rf"^({_CN_NUM})\s*[、．.，,]")),
    ("cn-paren", re.compile(rf"^[（(]\s*({_CN_NUM})\s*[）)]")),
    # "1." but not "1.5倍" or "2.0版"; "1、" as used in Chinese
    ("num", re.compile(rf"^({_AR_NUM})\s*(?:[.．](?![0-9０-９])|、)")),
    ("num-paren", re.compile(rf"^[（(]\s*({_AR_NUM})\s*[）)]")),
    ("circled", re.compile(rf"^([{_CIRCLED}])")),
]


@dataclass(frozen=True)
class LabelMatch:
    """A label at the start of a paragraph."""

    style: str
    number: int
    label: str  # as written, without trailing spaces
    end: int  # offset where the clause's own text begins (label and following spaces skipped)

    @property
    def rank(self) -> int:
        return STYLE_RANK[self.style]


def match_label(text: str) -> LabelMatch | None:
    """The clause label at the start of ``text``, if any.

    A match needs something after the label: ``一、`` alone on a line is still a label, but
    ``第3条`` inside running text is never tested because only paragraph starts are.
    """
    for style, pat in _PATTERNS:
        m = pat.match(text)
        if not m:
            continue
        raw = m.group(1)
        n = _CIRCLED.index(raw) + 1 if style == "circled" else cn_to_int(raw)
        if n is None or n <= 0 or n > 300:
            continue
        end = m.end()
        label = text[: m.end()]
        while end < len(text) and text[end] in " \u3000\t":
            end += 1
        return LabelMatch(style, n, label, end)
    return None


_ENUM_ZH = re.compile(rf"^({_CN_NUM})是")
_ENUM_JA = re.compile(rf"^({_AR_NUM}|{_CN_NUM})つ目(?:は|に|として|、)")


def match_enum(text: str, lang: str) -> LabelMatch | None:
    """An inline enumeration marker at the start of a sentence: ``一是`` (zh), ``1つ目は`` (ja)."""
    pat = _ENUM_ZH if lang == "zh" else _ENUM_JA
    m = pat.match(text)
    if not m:
        return None
    n = cn_to_int(m.group(1))
    if n is None or n <= 0:
        return None
    return LabelMatch("enum", n, m.group(0), m.end())
