"""From lines of source text to paragraphs of normalised text.

Text extracted from PDF (and the JETRO text files made that way) breaks lines at the page
width, puts page numbers alone on a line, inserts blank lines between all lines, and spaces
inside runs of CJK characters (``2023─2027 年``).  This module undoes that, deciding at every
line end whether the line goes on (``位置づ`` / ``け、`` -> ``位置づけ、``) or a paragraph ends.

The decision uses, in order: clause labels and header/footer lines (always start a
paragraph), URLs cut across lines, a word that a tokeniser sees straddling the line end,
characters that cannot begin a paragraph, and the line's width against the page width.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..text.width import display_width
from .labels import match_label

__all__ = ["Line", "Block", "normalize_line", "split_lines", "assemble", "is_cjk"]


@dataclass
class Line:
    """One non-empty source line, stripped and normalised."""

    text: str
    lineno: int
    page: int | None = None
    hard: bool = False  # a paragraph starts at this line (HTML <p>, table rows)


@dataclass
class Block:
    """A paragraph: joined lines, with where each source line starts inside it."""

    text: str
    lineno: int
    # (offset in text, page number) at every change of page inside the block
    page_marks: list[tuple[int, int]] = field(default_factory=list)
    kind: str = "para"  # "para" | "table-row"


def is_cjk(ch: str) -> bool:
    """Han, kana, CJK punctuation, full-width forms (and the box-drawing dash ``─`` that PDFs use)."""
    if len(ch) != 1:  # the neighbour of a gap at either end of a line
        return False
    o = ord(ch)
    return (
        0x3000 <= o <= 0x30FF
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF
        or 0x2500 <= o <= 0x257F
        or 0x2010 <= o <= 0x2015  # dashes
        or 0x20000 <= o <= 0x2FA1F
    )


# Characters after which a space between two Han characters is a real separator of names
# ("国家知識産権局 工業信息化部": two issuers), not an extraction artefact.
_AGENCY_END = set("局部庁厅室会院府司处署委")
_SPACES = re.compile(r"[ \t\u00a0\u2002\u2003\u2009\u200b\u3000]+")


def normalize_line(s: str) -> str:
    """Strip a line and remove the spaces that PDF extraction puts inside CJK runs.

    A run of 1-2 spaces next to a CJK character goes (``2023─2027 年`` -> ``2023─2027年``,
    ``第 20 回`` -> ``第20回``); spaces between Latin words stay (collapsed to one); a wider
    gap (3+ spaces, a column gap in a header) and a single space after an agency name between
    Han characters stay as one space.
    """
    s = s.strip().replace("\ufeff", "")
    if not s:
        return s
    if "\t" in s:  # a tab-separated table row: cells joined as in HTML tables
        return " | ".join(c for c in (normalize_line(x) for x in s.split("\t")) if c)
    out: list[str] = []
    pos = 0
    for m in _SPACES.finditer(s):
        out.append(s[pos : m.start()])
        left = s[m.start() - 1] if m.start() else ""
        right = s[m.end()] if m.end() < len(s) else ""
        gap = m.group()
        wide = len(gap) >= 3 or "\u3000" in gap and len(gap) >= 2
        if not (is_cjk(left) or is_cjk(right)):
            out.append(" ")
        elif wide:
            out.append(" ")
        elif left in _AGENCY_END and right and "\u4e00" <= right <= "\u9fff":
            out.append(" ")
        # else: an artefact inside a CJK run: dropped
        pos = m.end()
    out.append(s[pos:])
    return "".join(out)


_PAGE_NUM = re.compile(r"^[-‐–—\s]*(\d{1,4})[-‐–—\s]*$")


def split_lines(text: str, *, pdf: bool) -> tuple[list[Line], list[int]]:
    """Split raw text into non-empty normalised lines, taking out page-number lines.

    Returns the lines and the page numbers found (in order).  A line that is only a number
    is a page number when the text comes from a PDF, or when such numbers rise through the
    file; otherwise it is kept as text.
    """
    raw = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\f\n").split("\n")
    candidates = [int(m.group(1)) for r in raw if (m := _PAGE_NUM.match(r)) and r.strip()]
    rising = len(candidates) >= 2 and all(b > a for a, b in zip(candidates, candidates[1:]))
    treat_as_pages = pdf or rising
    lines: list[Line] = []
    pages: list[int] = []
    page: int | None = None
    for i, r in enumerate(raw, 1):
        if r == "\f":
            page = (page or 1) + 1
            pages.append(page)
            continue
        if not r.strip():
            continue
        m = _PAGE_NUM.match(r)
        if m and treat_as_pages:
            page = int(m.group(1))
            pages.append(page)
            continue
        norm = normalize_line(r)
        if norm:
            lines.append(Line(norm, i, page))
    return lines, pages


_TERMINAL = set("。！？!?")
_CLOSERS = set("」』）)”’》】〕]\"'")
_COLON = set("：:")
# characters a paragraph cannot start with: they continue the previous line
_CONT_START = re.compile(r"^[、。，,．.）)」』》】〕々ゝゞーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ・：；;]")
_HIRAGANA_START = re.compile(r"^[\u3041-\u309f]")
_CONNECTIVE_START = re.compile(r"^(和|与|及|以及|并|或|および|及び|並びに|ならびに|又は|または)[《「“\"『（(]")
_URL_END = re.compile(r"https?://\S+$")
_URLISH = re.compile(r"^[A-Za-z0-9_\-./%?=&#~+:;,@!$'()*]+$")
_FOOTER_START = re.compile(r"^(出所|出典|出处|来源：|※|【出所】|（出所）)")
HEADER_KEYS = (
    "公表機関", "標題", "公表番号", "作成日", "発表日", "発表機構", "分類", "公表日", "発布日", "発行日",
    "发布时间", "发布日期", "成文日期", "发文机关", "发文字号", "索引号", "主题分类", "来源", "时效",
    "文号", "发布机构", "主题词", "公文种类", "施行日",
)
_HEADER_LINE = re.compile(r"^(" + "|".join(HEADER_KEYS) + r")\s*[：:]")
_DOCNUM = re.compile(r"^[\u4e00-\u9fff]{2,12}[〔\[［【(（]\s*\d{4}\s*[〕\]］】)）]\s*\d{1,4}\s*号$")
_DATE_LINE = re.compile(r"^(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}-\d{2}-\d{2})$")


def is_header_line(s: str) -> bool:
    """A key-value line of a header block, a document number or a date alone on a line."""
    return bool(_HEADER_LINE.match(s) or _DOCNUM.match(s) or _DATE_LINE.match(s))


_AGENCY = re.compile(r"^[\u4e00-\u9fff・]{2,30}(局|部|庁|厅|室|会|院|府|司|署|委員会|委员会|办公室|办公厅|弁公室|弁公庁)$")


def is_signature_line(s: str) -> bool:
    """A line made only of agency names (the signature of a notice)."""
    pieces = s.split()
    return bool(pieces) and len(s) <= 60 and all(_AGENCY.match(p) for p in pieces)


def is_footer_start(s: str) -> bool:
    """The first line of a footer: a source line (``出所…``) or a disclaimer (``※…``)."""
    return bool(_FOOTER_START.match(s))


def straddles_word(left: str, right: str, lang: str) -> bool:
    """True when a tokeniser reads a word across the join of ``left`` and ``right``.

    ``位置づ`` + ``け、`` and ``の印`` + ``刷・配布`` are words cut by a line end; ``思想`` +
    ``習近平`` is not.  Only the last and first few characters are looked at.
    """
    a, b = left[-6:], right[:6]
    if not a or not b or not (is_cjk(a[-1]) and is_cjk(b[0])):
        return False
    if a[-1] in _TERMINAL or a[-1] in _CLOSERS or a[-1] in "、，,：:" or b[0] in "「『（(《【〔“":
        return False
    s = a + b
    cut = len(a)
    try:
        from ..text.analysis import tokenize

        return any(t.start < cut < t.end for t in tokenize(s, lang))
    except Exception:  # a tokeniser failure must never stop parsing
        return False


def _is_wrapped(lines: list[Line]) -> tuple[bool, int, bool]:
    widths = sorted(display_width(ln.text) for ln in lines if len(ln.text) >= 8)
    if not widths:
        return False, 0, False
    p80 = widths[int(0.8 * (len(widths) - 1))]
    median = widths[len(widths) // 2]
    # wrapped lines pile up at the page width; one paragraph per line (laws, notices) spreads out,
    # and there a line that ends a sentence never goes on into the next (width 0: no page width)
    at_width = sum(1 for w in widths if w >= 0.85 * p80) / len(widths)
    return median <= 110, p80, at_width >= 0.6


def assemble(lines: list[Line], *, lang: str, wrapped: bool | None = None) -> list[Block]:
    """Join lines into paragraphs (blocks).

    Parameters
    ----------
    lines
        Normalised non-empty lines, page numbers already taken out.
    lang
        ``zh`` or ``ja``: chooses the tokeniser for mid-word line breaks.
    wrapped
        Whether lines are wrapped at a page width (PDF text) rather than one paragraph per
        line; guessed from the line widths when ``None``.
    """
    if not lines:
        return []
    guess, width, at_width = _is_wrapped(lines)
    if wrapped is None:
        wrapped = guess
        if not at_width:
            width = 0
    blocks: list[Block] = []
    cur = Block(lines[0].text, lines[0].lineno)
    if lines[0].page is not None:
        cur.page_marks.append((0, lines[0].page))
    prev = lines[0]
    for ln in lines[1:]:
        if ln.hard:
            sep = None
        else:
            sep = _join(prev.text, ln.text, cur.text, lang=lang, wrapped=wrapped, width=width)
        if sep is None:
            blocks.append(cur)
            cur = Block(ln.text, ln.lineno)
            if ln.page is not None:
                cur.page_marks.append((0, ln.page))
        else:
            if ln.page is not None and ln.page != prev.page:
                cur.page_marks.append((len(cur.text) + len(sep), ln.page))
            cur.text += sep + ln.text
        prev = ln
    blocks.append(cur)
    return blocks


def _join(prev: str, nxt: str, block: str, *, lang: str, wrapped: bool, width: int) -> str | None:
    """The separator to join ``nxt`` onto the block ending with ``prev``, or None for a new paragraph."""
    if match_label(nxt) is not None or is_footer_start(nxt) or is_header_line(nxt) or is_signature_line(nxt):
        return None
    if nxt.endswith(("：", ":", "御中")) and not wrapped:
        return None  # an addressee line ("各有关单位：") starts its own paragraph
    m = _URL_END.search(prev)
    if m and _URLISH.match(nxt) and not nxt.startswith("http"):
        return ""
    if _HEADER_LINE.match(prev) and len(nxt) <= 10 and not any(c in _TERMINAL or c in _COLON for c in nxt):
        return ""  # a header value wrapped onto a short line ("…の発布に関する" / "通知")
    if nxt.startswith("http") or prev.startswith("http") or is_header_line(prev):
        return None
    last = prev[-1]
    sep = "" if (is_cjk(last) or is_cjk(nxt[0])) else " "
    if last in _COLON:
        return None
    if _CONT_START.match(nxt):
        return sep
    if last in _TERMINAL or (last in _CLOSERS and len(prev) >= 2 and prev[-2] in _TERMINAL):
        if wrapped and width and display_width(prev) >= 0.9 * width and not _looks_like_heading(block):
            return sep
        return None
    if straddles_word(prev, nxt, lang):
        return sep
    if _CONNECTIVE_START.match(nxt):
        return sep
    if wrapped:
        if width and display_width(prev) >= 0.8 * width:
            return sep
        if lang == "ja" and _HIRAGANA_START.match(nxt) and not _looks_like_heading(block):
            return sep
        return None
    # one paragraph per line: a long line that stops mid-sentence goes on
    if len(prev) >= 40 and not _looks_like_heading(block):
        return sep
    if lang == "ja" and _HIRAGANA_START.match(nxt) and len(prev) >= 10:
        return sep
    return None


def _looks_like_heading(block: str) -> bool:
    """A block that is a numbered heading without sentence punctuation (``一、指針思想``)."""
    m = match_label(block)
    if m is None:
        return False
    rest = block[m.end :]
    return len(rest) <= 40 and not any(c in _TERMINAL for c in rest)
