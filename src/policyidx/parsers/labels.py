"""Clause labels of the official numbering.

Styles, from the outermost: ``part`` (第X编), ``subpart`` (第X分编), ``chapter`` (第X章),
``section`` (第X节), ``division`` and ``subdivision`` (一、关于… and （一）… above articles in
judicial interpretations; decided by the tree builder from ``cn`` / ``cn-paren`` labels), ``article`` (第X条, 第X条之一), ``paragraph`` (款: an unlabelled paragraph of an
article, made by the tree builder), ``cn`` (一、 一．), ``cn-paren`` (（一） (一)), ``num`` (1. 1．
1、), ``num-paren`` (（1） (1)), ``circled`` (①).  Simplified and Traditional forms (條 節 編) and
digits (第12条) are read alike.  Inline enumerations (``一是`` / ``1つ目は``) are found inside a
clause's text, see :func:`match_enum`.

Numbers are read by :func:`policyidx.text.numerals.parse_numeral`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..text.numerals import parse_numeral

__all__ = ["LabelMatch", "match_label", "match_enum", "match_paragraph_number", "cn_to_int", "STYLE_RANK", "LAW_STYLES",
           "is_heading_word"]

STYLE_RANK = {
    "part": 0,
    "subpart": 1,
    "chapter": 2,
    "section": 3,
    "division": 4,
    "subdivision": 5,
    "article": 6,
    "paragraph": 7,
    "cn": 8,
    "cn-paren": 9,
    "num": 10,
    "num-paren": 11,
    "circled": 12,
    "enum": 13,
}

#: styles of the divisions of a law above its articles
LAW_STYLES = ("part", "subpart", "chapter", "section", "division", "subdivision")


def cn_to_int(s: str) -> int | None:
    """Value of a Chinese numeral or digits (see :func:`policyidx.text.numerals.parse_numeral`)."""
    return parse_numeral(s)


_CN_DIGITS = "一二三四五六七八九十百千万零〇两兩壹贰貳叁參肆伍陆陸柒捌玖拾佰仟"
_CN_NUM = f"[{_CN_DIGITS}]+"
_AR_NUM = "[0-9０-９]{1,4}"
_ITEM_CN = "[一二三四五六七八九十百零〇两兩]+"
_ITEM_AR = "[0-9０-９]{1,3}"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_NUMS = rf"(?:{_CN_NUM}|{_AR_NUM})"
# what follows 第X条 in a cross-reference, never in a label: 第三十条规定的, 第三十条第二款, 第三条、第五条
_XREF_AFTER_SET = set("的所、至到和或及与第款项項，,；;。")

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("subpart", re.compile(rf"^第\s*({_NUMS})\s*分[编編]")),
    ("part", re.compile(rf"^第\s*({_NUMS})\s*[编編](?![号號])")),
    ("chapter", re.compile(rf"^第\s*({_NUMS})\s*章")),
    ("section", re.compile(rf"^第\s*({_NUMS})\s*[节節]")),
    ("article", re.compile(rf"^第\s*({_NUMS})\s*[条條](?:\s*之\s*({_ITEM_CN}|{_ITEM_AR}))?")),
    ("cn", re.compile(rf"^({_ITEM_CN})\s*[、．.，,](?![0-9０-９])")),
    ("cn-paren", re.compile(rf"^[（(]\s*({_ITEM_CN})\s*[）)]")),
    # "1." but not "1.5倍" or "2.0版"; "1、" as used in Chinese
    ("num", re.compile(rf"^({_ITEM_AR})\s*(?:[.．](?![0-9０-９])|、)")),
    ("num-paren", re.compile(rf"^[（(]\s*({_ITEM_AR})\s*[）)]")),
    ("circled", re.compile(rf"^([{_CIRCLED}])")),
]
_DIVISION_STYLES = {"part", "subpart", "chapter", "section", "article"}
_MAX = {"part": 50, "subpart": 50, "chapter": 200, "section": 200, "article": 9999}
_HEADING_WORDS = {"附则", "附則", "总则", "總則", "分则", "分則"}


def is_heading_word(text: str) -> bool:
    """An unnumbered heading of a law that stands for a division (``附则``, ``总则``, ``分则``)."""
    return re.sub(r"[\s\u3000]+", "", text) in _HEADING_WORDS


@dataclass(frozen=True)
class LabelMatch:
    """A label at the start of a paragraph.

    ``number`` is the printed number, ``sub`` the 之 number of 第X条之Y (0 otherwise).
    """

    style: str
    number: int
    label: str  # as written, without trailing spaces
    end: int  # offset where the clause's own text begins (label and following spaces skipped)
    sub: int = 0
    #: an article label that reads like a cross-reference (``第六条规定…``): an article only
    #: where its number is the next one (decided by the tree builder)
    weak: bool = False

    @property
    def rank(self) -> int:
        return STYLE_RANK[self.style]


#: Dashes and bars a typist or OCR put for the numeral 一 inside an article number (第三十－条 for
#: 第三十一条); read as 一 only after another numeral, and such a label is an article only where
#: its number is the next one (``weak``).
_ONE_LOOKALIKES = "－—─ー‐-"
_CN_NUM_LOOSE = f"[{_CN_DIGITS}][{_CN_DIGITS}{_ONE_LOOKALIKES}]*"
_DI = re.compile(
    rf"^第\s*({_CN_NUM_LOOSE}|{_AR_NUM})\s*(?:(?P<subpart>分[编編])|(?P<part>[编編])(?![号號])|(?P<chapter>章)|(?P<section>[节節])"
    rf"|(?P<article>[条條])(?:\s*之\s*({_ITEM_CN}|{_ITEM_AR}))?)"
)
_BY_FIRST: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _style, _pat in _PATTERNS[5:]:
    for _ch in {"cn": "一二三四五六七八九十百零〇两兩", "cn-paren": "（(", "num": "0123456789０１２３４５６７８９",
                "num-paren": "（(", "circled": _CIRCLED}[_style]:
        _BY_FIRST.setdefault(_ch, []).append((_style, _pat))


@lru_cache(maxsize=16384)
def match_label(text: str) -> LabelMatch | None:
    """The clause label at the start of ``text``, if any.

    Only paragraph starts are tested, so ``依照本法第三十条`` inside running text is never a
    label; a paragraph that starts with a cross-reference (``第三十条规定的…``, ``第三条第二款``)
    or a table row (``第151条 | …``) is not one either.  (Cached: the layout and the tree builder
    ask about the same paragraphs.)
    """
    if not text:
        return None
    first = text[0]
    if first == "第":
        m = _DI.match(text)
        if not m:
            return None
        style = m.lastgroup or ""
        if style not in _MAX:  # the 之 number group closes last: the style is the article
            style = "article"
        raw = m.group(1)
        lookalike = any(ch in _ONE_LOOKALIKES for ch in raw)
        if lookalike:
            if style != "article":
                return None
            raw = "".join("一" if ch in _ONE_LOOKALIKES else ch for ch in raw)
        n = parse_numeral(raw)
        if n is None or n <= 0 or n > _MAX[style]:
            return None
        sub = 0
        if style == "article" and m.group(7):
            sub = parse_numeral(m.group(7)) or 0
        end = m.end()
        weak = lookalike
        if text.count("|") >= 2 or text.count("\t") >= 2:
            return None  # a table row (a heading and its title may be two cells: 第二章 | 总则)
        nxt = text[end : end + 1]
        if nxt and (nxt in _XREF_AFTER_SET or text[end : end + 2] in ("规定", "規定")):
            if style != "article":
                if nxt in "的、至到" or text[end : end + 2] in ("规定", "規定"):
                    return None
            else:
                weak = True  # 第三十条规定的… (or an article whose text starts 规定…)
        label = text[:end]
        while end < len(text) and text[end] in " \u3000\t":
            end += 1
        return LabelMatch(style, n, label, end, sub, weak)
    for style, pat in _BY_FIRST.get(first, ()):
        m = pat.match(text)
        if not m:
            continue
        raw = m.group(1)
        n = _CIRCLED.index(raw) + 1 if style == "circled" else parse_numeral(raw)
        if n is None or n <= 0 or n > 300:
            continue
        end = m.end()
        label = text[:end]
        while end < len(text) and text[end] in " \u3000\t":
            end += 1
        return LabelMatch(style, n, label, end)
    return None


_ITEM_CN_SET = set("一二三四五六七八九十百零〇两兩")

_ENUM_ZH = re.compile(rf"^({_ITEM_CN})是")
_ENUM_JA = re.compile(rf"^({_ITEM_AR}|{_ITEM_CN})つ目(?:は|に|として|、)")


def match_enum(text: str, lang: str) -> LabelMatch | None:
    """An inline enumeration marker at the start of a sentence: ``一是`` (zh), ``1つ目は`` (ja)."""
    pat = _ENUM_ZH if lang == "zh" else _ENUM_JA
    m = pat.match(text)
    if not m:
        return None
    n = parse_numeral(m.group(1))
    if n is None or n <= 0:
        return None
    return LabelMatch("enum", n, m.group(0), m.end())


_PARAGRAPH_NUMBER = re.compile(r"^([0-9０-９]{1,2})[\u3000 ](?=\S)")


def match_paragraph_number(text: str) -> LabelMatch | None:
    """A printed paragraph (項) number at a paragraph start, as Japanese statutes and JETRO's
    translations of Chinese laws write them: ``２　前項の規定は…`` (a digit and a space).

    Only a candidate: the tree builder takes it as the article's next paragraph (款/項) where
    its number is the next one, and the layout as a paragraph start in Japanese text.  The
    first paragraph of an article carries no number.
    """
    m = _PARAGRAPH_NUMBER.match(text)
    if m is None:
        return None
    n = parse_numeral(m.group(1))
    if n is None or n < 2:
        return None
    return LabelMatch("paragraph", n, m.group(1), m.end())
