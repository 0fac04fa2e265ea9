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
import unicodedata
from dataclasses import dataclass, field

from ..text.width import display_width
from .labels import match_label, match_paragraph_number

__all__ = ["Line", "Block", "normalize_line", "split_lines", "assemble", "is_cjk", "strip_invisible", "markup_line"]


@dataclass(slots=True)
class Line:
    """One non-empty source line, stripped and normalised."""

    text: str
    lineno: int
    page: int | None = None
    hard: bool = False  # a paragraph starts at this line (HTML <p>, table rows)
    #: "para" | "table-row" (a row of an HTML table: never a clause label) | "markup" (a line that
    #: is only collection markup, see :func:`markup_line`)
    kind: str = "para"
    #: characters of markup at the start of :attr:`text` (a markdown heading mark ``## ``)
    lead: int = 0


@dataclass(slots=True)
class Block:
    """A paragraph: joined lines, with where each source line starts inside it."""

    text: str
    lineno: int
    # (offset in text, page number) at every change of page inside the block
    page_marks: list[tuple[int, int]] = field(default_factory=list)
    kind: str = "para"  # "para" | "table-row" | "addressees" (an addressee line told apart by the tree builder) | "markup"
    #: offsets in text where a joined source line starts (the layout's joins, for a later split)
    breaks: list[int] = field(default_factory=list)
    #: the block goes on from the previous one on the same line of the text (no line feed between
    #: them): the text of a markdown heading after its mark (``## `` | ``第一章 总则``)
    inline: bool = False


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


def normalize_line(s: str, table: bool = False) -> str:
    """Strip a line and remove the spaces that PDF extraction puts inside CJK runs.

    A run of 1-2 spaces next to a CJK character goes (``2023─2027 年`` -> ``2023─2027年``,
    ``第 20 回`` -> ``第20回``); spaces between Latin words stay (collapsed to one); a wider
    gap (3+ spaces, a column gap in a header) and a single space after an agency name between
    Han characters stay as one space, and so does an ideographic space after a number that
    starts the line (``２　前項の…``, a printed paragraph number).

    Tabs separate the cells of a table row, joined with `` | ``; in plain text a tab after a
    bare heading or article label (``第二章<tab>总则``) or inside a sentence (the line has a
    ``。``) is a space.  ``table=True`` (an HTML ``<tr>``): the line is a row whatever it holds.
    """
    s = s.strip().replace("\ufeff", "")
    if not s:
        return s
    if "\t" in s:
        cells = [c for c in (normalize_line(x) for x in s.split("\t")) if c]
        if not table and (len(cells) == 2 and _is_bare_label(cells[0]) or "。" in s):
            # 第二章<tab>总则 (a label and its title) or a tab inside a sentence: not a table row
            return normalize_line(" ".join(cells))
        return " | ".join(cells)  # a tab-separated table row: cells joined as in HTML tables
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
        elif gap == "\u3000" and m.start() <= 2 and s[: m.start()].isdigit():
            out.append(" ")  # ２　前項の…: a printed paragraph number and its space (kept for the label)
        elif wide:
            out.append(" ")
        elif left in _AGENCY_END and right and "\u4e00" <= right <= "\u9fff":
            out.append(" ")
        # else: an artefact inside a CJK run: dropped
        pos = m.end()
    out.append(s[pos:])
    return "".join(out)


def _is_bare_label(cell: str) -> bool:
    """A cell that is only a division or article label (``第二章``, ``第十条``)."""
    m = match_label(cell)
    return m is not None and m.end >= len(cell) and m.style in ("part", "subpart", "chapter", "section", "article")


_PAGE_NUM = re.compile(r"^[-‐–—\s]*(\d{1,4})[-‐–—\s]*$")

_INVISIBLE: re.Pattern[str] | None = None
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")  # faster than max(text) > "\uffff"
_INVISIBLE_BMP: re.Pattern[str] | None = None
_INVISIBLE_ASTRAL: re.Pattern[str] | None = None


def _invisible() -> re.Pattern[str]:
    """Format (Cf), control (Cc but tab, line feed, carriage return, form feed), surrogate (Cs)
    and non-character code points, from :mod:`unicodedata` (built on first use)."""
    global _INVISIBLE
    if _INVISIBLE is None:
        # planes 3-13 hold no format or control characters; non-characters are listed by range
        cps = list(range(0x30000)) + list(range(0xE0000, 0xE1000))
        points = [cp for cp in cps if cp not in (9, 10, 12, 13) and unicodedata.category(chr(cp)) in ("Cf", "Cc", "Cs")]
        points += list(range(0xFDD0, 0xFDF0)) + [p * 0x10000 + k for p in range(17) for k in (0xFFFE, 0xFFFF)]
        ranges: list[str] = []  # as ranges: a class of single characters is slow to match
        for cp in sorted(set(points)):
            if ranges and cp == ranges[-1][1] + 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
        def cls(rs) -> str:
            return "[" + "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in rs) + "]"

        bmp = [r for r in ranges if r[1] <= 0xFFFF]
        astral = [r for r in ranges if r[1] > 0xFFFF]
        # a class of BMP characters only is a bitmap (fast); astral ones are tested apart
        global _INVISIBLE_BMP, _INVISIBLE_ASTRAL
        _INVISIBLE_BMP = re.compile(cls(bmp))
        _INVISIBLE_ASTRAL = re.compile(cls(astral))
        _INVISIBLE = re.compile(cls(ranges))
    return _INVISIBLE


def strip_invisible(text: str, warnings: list | None = None) -> str:
    """Remove invisible characters, reporting them in ``warnings``.

    Zero-width spaces and joiners, BOMs, soft hyphens, direction marks (Unicode format
    characters), control characters, lone surrogates and non-characters carry no text: they
    are taken out of the text before any layout decision (a line of only U+200B is an empty
    line, ``第\u200b一条`` is ``第一条``), and a ``invisible-characters`` warning counts them by
    code point.  U+2028/U+2029 (line and paragraph separators) become line feeds.
    Linear in the length of the text.
    """
    if not text.isascii():
        text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    elif not any(c in text for c in _ASCII_CONTROLS):
        return text
    _invisible()
    assert _INVISIBLE_BMP is not None and _INVISIBLE_ASTRAL is not None
    if _INVISIBLE_BMP.search(text) is None and (_ASTRAL.search(text) is None or _INVISIBLE_ASTRAL.search(text) is None):
        return text  # the common case: one scan, nothing allocated
    found: dict[str, int] = {}
    for ch in _invisible().findall(text):
        found[ch] = found.get(ch, 0) + 1
    if not found:
        return text
    if warnings is not None:
        from ..model import ParseWarning

        def name(ch: str) -> str:
            return f"U+{ord(ch):04X} {unicodedata.name(ch, unicodedata.category(ch))}"

        listed = ", ".join(f"{name(ch)} x{n}" for ch, n in sorted(found.items(), key=lambda kv: -kv[1]))
        warnings.append(ParseWarning("invisible-characters", f"removed {sum(found.values())} invisible character(s): {listed}"))
    return _invisible().sub("", text)


_ASCII_CONTROLS = tuple(chr(c) for c in range(32) if c not in (9, 10, 12, 13)) + ("\x7f",)


def split_lines(text: str, *, pdf: bool, warnings: list | None = None) -> tuple[list[Line], list[int]]:
    """Split raw text into non-empty normalised lines, taking out page-number lines.

    Returns the lines and the page numbers found (in order).  A line that is only a number
    is a page number only in text that comes from a PDF (``pdf=True``): each one taken out is
    listed, with its line number, in a ``page-numbers`` warning appended to ``warnings``.
    In other text such a line is text (a column of years in a table).  Linear in the
    length of the text.
    """
    raw = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\f\n").split("\n")
    lines: list[Line] = []
    pages: list[int] = []
    removed: list[str] = []
    page: int | None = None
    for i, r in enumerate(raw, 1):
        if r == "\f":
            page = (page or 1) + 1
            pages.append(page)
            continue
        if not r.strip():
            continue
        m = _PAGE_NUM.match(r) if pdf else None
        if m:
            page = int(m.group(1))
            pages.append(page)
            removed.append(f"line {i}: {r.strip()!r}")
            continue
        mark = markup_line(r)
        if mark is not None:
            lead, rest = mark
            if rest:  # a markdown heading: the mark, then the heading's own text
                lines.append(Line(lead + rest, i, page, hard=True, lead=len(lead)))
            else:
                lines.append(Line(lead, i, page, hard=True, kind="markup"))
            continue
        norm = normalize_line(r)
        if norm:
            lines.append(Line(norm, i, page))
    if removed and warnings is not None:
        from ..model import ParseWarning

        warnings.append(ParseWarning("page-numbers", f"took out {len(removed)} page-number line(s): " + "; ".join(removed)))
    return lines, pages


# a line that is only HTML comments (``<!-- INFO END -->``), and the mark of a markdown (ATX) heading
_COMMENT_LINE = re.compile(r"^[ \t\u3000]*(?:<!--(?:(?!-->).)*-->[ \t\u3000]*)+$")
_HEADING_MARK = re.compile(r"^[ \t\u3000]*(#{1,6})(?:[ \t\u3000]+|$)")


def markup_line(raw: str) -> tuple[str, str] | None:
    """The collection markup of a source line of plain (markdown) text, or ``None``.

    Collections of legal texts mark up their plain text: an HTML comment alone on a line
    (``<!-- INFO END -->`` after the promulgation record, ``<!-- FORCE BREAK -->``,
    ``<!-- TABLE -->``) and the marks of markdown headings (``# 标题``, ``## 第一章 总则``).  They
    are not part of the official text: a copy from the government's page has the same lines
    without them.  Returns ``(markup, rest)``: the markup as it stays in the text (a comment
    line normalised, a heading mark followed by one space) and the heading's own text,
    normalised (empty for a line that is only markup).

    Only whole lines are markup: a comment inside a sentence (``见<!-- 注 -->第三条``) is text, and
    so is ``#`` not followed by a space (``#1``, a hashtag), as in CommonMark.
    """
    if "<!--" in raw and _COMMENT_LINE.match(raw):
        return normalize_line(raw), ""
    if "#" in raw and (m := _HEADING_MARK.match(raw)):
        rest = normalize_line(raw[m.end() :])
        return (m.group(1) + " " if rest else m.group(1)), rest
    return None


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
    texts = (ln.text[ln.lead :] for ln in lines if ln.kind != "markup")  # markup says nothing about the page
    widths = sorted(display_width(t) for t in texts if len(t) >= 8)
    if not widths:
        return False, 0, False
    p80 = widths[int(0.8 * (len(widths) - 1))]
    median = widths[len(widths) // 2]
    # wrapped lines pile up at the page width; one paragraph per line (laws, notices) spreads out,
    # and there a line that ends a sentence never goes on into the next (width 0: no page width)
    at_width = sum(1 for w in widths if w >= 0.85 * p80) / len(widths)
    return median <= 110, p80, at_width >= 0.6 and len(widths) >= 8  # a few lines say nothing about a page


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
    # the block being built is kept as a list of pieces, its length and its first characters
    # (all that the heading test reads): joining is linear in the text, however long a paragraph
    parts: list[str] = []
    length = 0
    cur = Block("", lines[0].lineno)

    def start(ln: Line) -> Block:
        nonlocal length
        inline = False
        if ln.lead:  # a markdown heading: its mark is a markup block, its text a block on the same line
            mark = Block(ln.text[: ln.lead], ln.lineno, kind="markup")
            if ln.page is not None:
                mark.page_marks.append((0, ln.page))
            blocks.append(mark)
            ln = Line(ln.text[ln.lead :], ln.lineno, ln.page, True, ln.kind)
            inline = True
        parts.clear()
        parts.append(ln.text)
        length = len(ln.text)
        b = Block("", ln.lineno, kind=ln.kind, inline=inline)
        if ln.page is not None:
            b.page_marks.append((0, ln.page))
        return b

    def close(b: Block) -> None:
        b.text = "".join(parts)
        blocks.append(b)

    cur = start(lines[0])
    head = parts[0][:_HEAD]
    prev = lines[0]
    for ln in lines[1:]:
        if ln.hard or ln.kind != "para" or cur.kind != "para" or prev.lead:
            sep = None  # (a markdown heading is a paragraph of its own)
        else:
            sep = _join(prev.text, ln.text, (head, length), lang=lang, wrapped=wrapped, width=width)
        if sep is None:
            close(cur)
            cur = start(ln)
            head = ln.text[:_HEAD]
        else:
            if ln.page is not None and ln.page != prev.page:
                cur.page_marks.append((length + len(sep), ln.page))
            cur.breaks.append(length + len(sep))
            parts.append(sep)
            parts.append(ln.text)
            length += len(sep) + len(ln.text)
            if len(head) < _HEAD:
                head = (head + sep + ln.text)[:_HEAD]
        prev = ln
    close(cur)
    return blocks


_PUNCT = re.compile("[，,、。；;：:！？!?]")
_HEAD = 128  # characters of a block's start that decide whether it is a heading


def _join(prev: str, nxt: str, block: tuple[str, int], *, lang: str, wrapped: bool, width: int) -> str | None:
    """The separator to join ``nxt`` onto the block ending with ``prev``, or None for a new paragraph.

    ``block`` is the start of the paragraph so far (its first :data:`_HEAD` characters) and its length.
    """
    if match_label(nxt) is not None or is_footer_start(nxt) or is_header_line(nxt) or is_signature_line(nxt):
        return None
    if nxt.endswith(("：", ":", "御中")) and not wrapped:
        return None  # an addressee line ("各有关单位：") starts its own paragraph
    if lang == "ja" and match_paragraph_number(nxt) is not None:
        return None  # ２　前項の…: the next paragraph (項) of an article
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
    # one paragraph per line: a long line that stops mid-sentence goes on (one that ends a
    # clause with ；, an entry of an unlabelled list, does not)
    # (nor does one before a line without any punctuation: a heading, a case name under a title)
    if len(prev) >= 40 and last not in "；;" and not _looks_like_heading(block) and _PUNCT.search(nxt):
        return sep
    if lang == "ja" and _HIRAGANA_START.match(nxt) and len(prev) >= 10:
        return sep
    return None


def _looks_like_heading(block: str | tuple[str, int]) -> bool:
    """A block that is a numbered heading without sentence punctuation (``一、指針思想``).

    ``block`` is the paragraph, or its first :data:`_HEAD` characters and its length.
    """
    head, length = (block, len(block)) if isinstance(block, str) else block
    m = match_label(head)
    if m is None or length - m.end > 40:
        return False
    rest = head[m.end :]
    return not any(c in _TERMINAL for c in rest)
