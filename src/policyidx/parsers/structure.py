"""From paragraphs to a document: clause tree, sentences, notes, header and footer facts.

This stage is shared by every source format: the format modules (``text``, ``pdf``,
``html``) only produce :class:`~policyidx.parsers.layout.Block` paragraphs.

The tree follows the official numbering.  Labels are ranked by style (第X章 > 第X条 > 一、 >
（一） > 1. > （1） > ①); a label opens a child of the nearest open clause of a lower rank.
Inline enumerations (``一是…二是…``, ``1つ目は…2つ目は…``) that run 1, 2, 3... inside one
clause become its children.  Everything before the first label is front matter under ``0``:
``0.1`` the notice, ``0.2`` the title, ``0.3`` the preamble (those present).  The footer
(source line, URLs, disclaimer) is kept as a span of the text and its facts.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from ..model import Clause, DatedEvent, Note, Page, ParseWarning, Sentence, clause_id
from .labels import LAW_STYLES, STYLE_RANK, LabelMatch, is_heading_word, match_enum, match_label, match_paragraph_number
from .layout import Block, is_footer_start, is_header_line, is_signature_line, straddles_word
from ..text.numerals import parse_numeral
from .matter import FRONT_ROLES, names_organ, split_addressees, find_dates, is_attachment_heading, is_back_start, is_date_line, is_record, matter_role, record_facts

__all__ = ["ParseResult", "build", "split_sentences", "find_notes"]


@dataclass
class ParseResult:
    """What a parser found in a text (the catalog facts are added by the corpus loader)."""

    text: str
    roots: list[Clause]
    parsed_title: str | None = None
    doc_number: str | None = None
    issuers: list[str] = field(default_factory=list)
    dates: dict[str, str] = field(default_factory=dict)
    addressees: list[str] = field(default_factory=list)
    source_line: str | None = None
    urls: list[str] = field(default_factory=list)
    disclaimer: str | None = None
    header_spans: list[tuple[int, int]] = field(default_factory=list)
    footer_span: tuple[int, int] | None = None
    pages: list[Page] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    record: list[DatedEvent] = field(default_factory=list)
    order_number: str | None = None
    attachments: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    printed: str | None = None
    #: spans of :attr:`text` that are collection markup (see :func:`.layout.markup_line`), in order
    markup_spans: list[tuple[int, int]] = field(default_factory=list)


# --------------------------------------------------------------------------- sentences

_TERMINAL = set("。！？!?")
_OPEN = "「『（(《【〔“‘"
_CLOSE = "」』）)》】〕”’"
_PAIR = dict(zip(_CLOSE, _OPEN))
_SPECIAL = re.compile("[" + re.escape(_OPEN + _CLOSE + "".join(sorted(_TERMINAL))) + "\n]")
_TERMINAL_RE = re.compile("[" + re.escape("".join(sorted(_TERMINAL))) + "]")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans inside ``text[start:end]``.

    A sentence ends at ``。！？`` outside brackets and quotes, with closing brackets right after
    the stop attached (``…する。」``); a line break ends a sentence when the line before it has
    no stop and is short (a heading) - other line breaks are layout and do not.  Brackets are
    tracked per paragraph so that one unbalanced bracket cannot swallow a document.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    depth: list[str] = []
    s = start
    i = start
    line_start = start
    search = _SPECIAL.search  # only brackets, quotes, stops and line ends matter: jump between them
    while True:
        m = search(text, i, end)
        if m is None:
            break
        i = m.start()
        ch = text[i]
        if ch in _OPEN:
            depth.append(ch)
        elif ch in _CLOSE:
            if depth and depth[-1] == _PAIR[ch]:
                depth.pop()
        elif ch == "\n":
            line = text[line_start:i].strip()
            if line and line[-1] not in _TERMINAL and len(line) <= 40:
                _emit(text, spans, s, i)
                s = i + 1
            depth.clear()
            line_start = i + 1
        else:  # a sentence stop
            j = i + 1
            while j < end and text[j] in _CLOSE:
                if depth and depth[-1] == _PAIR[text[j]]:
                    depth.pop()
                j += 1
            while j < end and text[j] in _TERMINAL:
                j += 1
            if not depth:
                _emit(text, spans, s, j)
                s = j
                i = j
                continue
        i += 1
    _emit(text, spans, s, end)
    return spans


def _emit(text: str, spans: list[tuple[int, int]], s: int, e: int) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        spans.append((s, e))


# --------------------------------------------------------------------------- notes

_TRANSLATOR_NOTE = re.compile(r"[（(][^（）()]{1,300}?(?:――|──|—|―|─|--|-)\s*訳注\s*[）)]")
_AGENCY_NOTE = re.compile(
    r"[（(][^（）()]{2,120}?(?:が主導し|が協力する|が職責により分担して担当する|が担当する|牵头|配合|按职责分工负责|分工负责|负责）)[^（）()]{0,60}[）)]"
)


def find_notes(text: str, start: int, end: int) -> list[Note]:
    """Translator's and responsible-agency notes inside ``text[start:end]``."""
    seg = text[start:end]
    if "（" not in seg and "(" not in seg:
        return []  # every note is bracketed
    notes = [Note("translator", start + m.start(), start + m.end(), m.group()) for m in _TRANSLATOR_NOTE.finditer(seg)]
    taken = [(n.start, n.end) for n in notes]
    for m in _AGENCY_NOTE.finditer(seg):
        a, b = start + m.start(), start + m.end()
        if not any(x < b and a < y for x, y in taken):
            notes.append(Note("agency", a, b, m.group()))
    notes.sort(key=lambda n: n.start)
    return notes


# --------------------------------------------------------------------------- header facts

_DOCNUM_ANY = re.compile(r"[\u4e00-\u9fff]{2,12}[〔\[［【]\s*\d{4}\s*[〕\]］】]\s*\d{1,4}\s*号")
_DATE_CN = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_URL = re.compile(r"https?://[^\s\u3000-\u30ff\u4e00-\u9fff（）「」]+")
_DATE_KEYS = {
    "公表日": "published",
    "発表日": "published",
    "発布日": "published",
    "発行日": "published",
    "发布时间": "published",
    "发布日期": "published",
    "作成日": "signed",
    "成文日期": "signed",
    "施行日": "effective",
}
_AGENCY_NAME = re.compile(r"^[\u4e00-\u9fff・]{2,30}(局|部|庁|厅|室|会|院|府|司|署|委員会|委员会|办公室|办公厅|弁公室|弁公庁)$")


def _iso(s: str) -> str | None:
    m = _DATE_CN.search(s) or _DATE_ISO.search(s)
    if not m:
        return None
    y, mo, d = m.groups()
    return f"{int(y):04d}-{int(mo):02d}-{int(d):02d}"


def _split_names(s: str) -> list[str]:
    return [p for p in re.split(r"[\s、，,・]+", s) if p]


# --------------------------------------------------------------------------- building


@dataclass
class _Open:
    clause: Clause
    match: LabelMatch | None


def build(blocks: list[Block], *, doc_id: str, lang: str, warnings: list[ParseWarning] | None = None) -> ParseResult:
    """Build the document structure from paragraphs.

    Parameters
    ----------
    blocks
        Paragraphs in reading order.
    doc_id
        The catalog id; clause ids are ``<doc_id>#<path>``.
    lang
        ``zh`` or ``ja``: which inline-enumeration markers to look for.
    warnings
        Warnings from earlier stages (decoding, layout) to carry on.
    """
    warnings = list(warnings or [])
    blocks = _split_title_records(blocks)
    blocks = _split_addressee_lines(blocks, lang)
    # ---- text and block offsets
    offsets: list[tuple[int, int]] = []
    parts: list[str] = []
    pos = 0
    for b in blocks:
        if parts:
            sep = "" if b.inline else "\n"
            parts.append(sep)
            pos += len(sep)
        offsets.append((pos, pos + len(b.text)))
        parts.append(b.text)
        pos += len(b.text)
    text = "".join(parts)
    res = ParseResult(text=text, roots=[], warnings=warnings)
    # ---- collection markup: kept in the text as spans, out of every clause (the rest never sees it)
    if any(b.kind == "markup" for b in blocks):
        res.markup_spans = [o for b, o in zip(blocks, offsets) if b.kind == "markup"]
        kept = [k for k, b in enumerate(blocks) if b.kind != "markup"]
        blocks, offsets = [blocks[k] for k in kept], [offsets[k] for k in kept]
    if not blocks:
        warnings.append(ParseWarning("empty", "the source has no text" + (" (only markup)" if res.markup_spans else "")))
        return res

    labels = _labels(blocks)
    first_label = next((i for i, m in enumerate(labels) if m is not None), len(blocks))
    last_label = max((i for i, m in enumerate(labels) if m is not None), default=-1)
    footer_at = len(blocks)
    lower = last_label + 1 if last_label >= 0 else int(len(blocks) * 0.7)
    for i in range(max(lower, 1), len(blocks)):
        if is_footer_start(blocks[i].text) or blocks[i].text.startswith("http") and i == len(blocks) - 1:
            footer_at = i
            break
    body_end = footer_at

    # ---- pages
    marks: list[tuple[int, int]] = []
    for b, (s, _) in zip(blocks, offsets):
        for off, page in b.page_marks:
            if not marks or marks[-1][1] != page:
                marks.append((s + off, page))
    for k, (s, page) in enumerate(marks):
        e = marks[k + 1][0] if k + 1 < len(marks) else len(text)
        res.pages.append(Page(page, s, e))

    # ---- front matter
    roots: list[Clause] = []
    front = list(range(0, min(first_label, body_end)))
    if front:
        roots.append(_front_matter(blocks, offsets, front, text, doc_id, lang, res))

    # ---- numbered clauses
    ids = _Ids({c.id for r in roots for c in r.walk()})
    texts = [b.text for b in blocks]
    back_at = next((k for k in range(first_label + 1, body_end) if is_back_start(texts, k)), body_end)
    _number_blocks(blocks, offsets, labels, range(first_label, back_at), doc_id, lang, (), None, roots, ids, warnings)
    if back_at < body_end:
        _back_matter(blocks, offsets, labels, range(back_at, body_end), doc_id, lang, roots, ids, warnings, res)

    # ---- finish every clause: trim, enumerations, sentences, notes, titles, pages
    mk = _Markup(res.markup_spans)
    for root in list(roots):
        for c in list(root.walk()):
            _finish(c, text, lang, ids, res, mk)

    # ---- footer
    if footer_at < len(blocks):
        fs = offsets[footer_at][0]
        res.footer_span = (fs, len(text))
        _footer_facts(blocks[footer_at:], res)
    res.roots = roots
    return res


def _split_title_records(blocks: list[Block]) -> list[Block]:
    """Undo a join of a title and the promulgation record under it (``…的解释2001年1月2日…通过``).

    Only blocks before the first label are looked at; the record starts a block of its own,
    as it did a line of the source.
    """
    out: list[Block] = []
    for k, b in enumerate(blocks):
        if b.kind == "markup":
            out.append(b)
            continue
        if match_label(b.text) is not None:
            out.extend(blocks[k:])
            return out
        cut = None
        for s, _e, _d in find_dates(b.text):
            head = b.text[:s].rstrip()
            if len(head) >= 4 and _TERMINAL_RE.search(head) is None and is_record(b.text[s:]):
                cut = s
            break  # only the first date
        if cut is None:
            out.append(b)
            continue
        first = Block(b.text[:cut].rstrip(), b.lineno, [m for m in b.page_marks if m[0] < cut], b.kind, inline=b.inline)
        rest = b.text[cut:]
        second = Block(rest, b.lineno, [(max(0, o - cut), p) for o, p in b.page_marks if o >= cut], b.kind)
        out.extend([first, second])
    return out


def _split_addressee_lines(blocks: list[Block], lang: str) -> list[Block]:
    """Undo a join of an addressee line and the text under it.

    A translation may drop the addressee line's colon (``…関連の業界団体（連合会）``), and text
    wrapped at a page width then runs it on into the first sentence.  Right after a document
    number (before the first label), a block whose first source lines list organs - no
    sentence stop, ending with an organ (``部門``, ``局``, ``委员会``, ``（連合会）``) at a line
    end that does not cut a word (``…主管部`` / ``門、…`` is one word) - is cut there; the head is
    marked as the addressee line.
    """
    out: list[Block] = []
    prev: Block | None = None  # the block before, markup aside
    for k, b in enumerate(blocks):
        if b.kind == "markup":
            out.append(b)
            continue
        if match_label(b.text) is not None:
            out.extend(blocks[k:])
            return out
        cut = None
        if prev is not None and b.breaks and b.kind == "para" and matter_role(prev.text) == 5:
            for o in b.breaks:
                head = b.text[:o].rstrip()
                if len(head) > 200 or _TERMINAL_RE.search(head) or head.endswith(("：", ":")):
                    break
                if names_organ(head) and not straddles_word(head, b.text[o:], lang):  # not 主管部 / 門
                    cut = o
                    break
        if cut is None:
            out.append(b)
            prev = b
            continue
        head = b.text[:cut].rstrip()
        out.append(Block(head, b.lineno, [m for m in b.page_marks if m[0] < cut], "addressees", [x for x in b.breaks if x < cut],
                         b.inline))
        out.append(Block(b.text[cut:], b.lineno, [(max(0, p - cut), g) for p, g in b.page_marks if p >= cut], b.kind,
                         [x - cut for x in b.breaks if x > cut]))
        prev = out[-1]
    return out


class _Ids:
    """Clause ids made unique in linear time: a repeated id gets ``~2``, ``~3``... in order."""

    def __init__(self, used: set[str]):
        self.used = used
        self.next: dict[str, int] = {}

    def unique(self, cid: str) -> str:
        if cid not in self.used:
            self.used.add(cid)
            return cid
        k = self.next.get(cid, 2)
        while f"{cid}~{k}" in self.used:
            k += 1
        out = f"{cid}~{k}"
        self.next[cid] = k + 1
        self.used.add(out)
        return out


_HEADING_STOPS = set("。；;！？!?")
_DATE_START = re.compile(r"^[（(]?\s*(?:\d{4}|[〇零○一二三四五六七八九]{4})\s*年")
# a heading's title never names another division or article: 第七节相应改为第八节 is a sentence
_LABEL_INSIDE = re.compile("第[0-9０-９一二三四五六七八九十百千零〇两]+[条條章节節编編]")


def _labels(blocks: list[Block]) -> list[LabelMatch | None]:
    """The label of every block, with the styles that depend on the neighbours decided.

    - table rows are never labelled;
    - ``一、关于…`` (a ``cn`` heading without a sentence stop) whose next label is an article is a
      ``division`` above the articles (judicial interpretations), when no article came before
      it or the division before it was numbered one less;
    - ``附则`` / ``总则`` / ``分则`` alone on a line, followed by articles, is a division of the
      outermost law style in use (part or chapter); its number continues that style's numbers.
    """
    labels: list[LabelMatch | None] = [None if b.kind == "table-row" else match_label(b.text) for b in blocks]
    nxt: list[LabelMatch | None] = [None] * len(blocks)
    following: LabelMatch | None = None
    for i in range(len(blocks) - 1, -1, -1):
        nxt[i] = following
        m = labels[i]
        if m is not None:
            following = m
        elif is_heading_word(blocks[i].text):
            following = LabelMatch("part", 0, "", 0)  # a stand-in: a division heading follows
    # the outermost division style the document numbers (a word heading stands at that level)
    outer: str | None = None
    for i, m in enumerate(labels):
        if m is not None and m.style in ("part", "subpart", "chapter", "section"):
            rest = blocks[i].text[m.end :]
            if len(rest) > 60 or any(ch in _HEADING_STOPS for ch in rest.rstrip("。")) or _LABEL_INSIDE.search(rest):
                labels[i] = None  # a sentence that starts 第七节相应改为第八节，…: not a heading
            elif outer is None or STYLE_RANK[m.style] < STYLE_RANK[outer]:
                outer = m.style
    seen_article = False
    last_article = (0, 0)
    last_division = last_subdivision = 0
    last_num: dict[str, int] = {}
    for i, m in enumerate(labels):
        if m is None:
            # 附则 after articles, or 总则 right above the first article, in a law that numbers its divisions
            if is_heading_word(blocks[i].text) and outer is not None and (seen_article or (nxt[i] is not None and nxt[i].style == "article")):
                n = last_num.get(outer, 0) + 1
                last_num[outer] = n
                labels[i] = _HeadingWord(outer, n, "", 0, 0, blocks[i].text)
            continue
        if m.style == "article":
            if m.weak and not _next_article(last_article, m):
                labels[i] = None  # a cross-reference at a paragraph start: 第三十条规定的…
                continue
            seen_article = True
            last_article = (m.number, m.sub)
        elif m.style in ("cn", "cn-paren") and _heading_before_article(blocks, labels, nxt, i, m):
            if m.style == "cn" and (not seen_article or m.number == last_division + 1):
                labels[i] = m = LabelMatch("division", m.number, m.label, m.end)
                last_division, last_subdivision = m.number, 0
            elif m.style == "cn-paren" and last_division and m.number == last_subdivision + 1:
                labels[i] = m = LabelMatch("subdivision", m.number, m.label, m.end)
                last_subdivision = m.number
        if m.style in LAW_STYLES:
            last_num[m.style] = m.number
    return labels


def _heading_before_article(blocks: list[Block], labels: list[LabelMatch | None], nxt: list[LabelMatch | None], i: int, m: LabelMatch) -> bool:
    """A heading (no sentence stop) followed by an article, possibly through a （一） sub-heading."""
    rest = blocks[i].text[m.end :]
    if len(rest) > 60 or any(ch in _HEADING_STOPS for ch in rest):
        return False
    after = nxt[i]
    if after is not None and after.style == "cn-paren" and m.style == "cn":
        j = next((k for k in range(i + 1, len(labels)) if labels[k] is not None), None)
        if j is None:
            return False
        rest2 = blocks[j].text[after.end :]
        if len(rest2) > 60 or any(ch in _HEADING_STOPS for ch in rest2) or after.number != 1:
            return False
        after = nxt[j]
    return after is not None and after.style == "article"


def _next_article(last: tuple[int, int], m: LabelMatch) -> bool:
    """Whether the article label ``m`` comes next after article ``last`` (number, 之 number)."""
    n, sub = last
    if m.sub:
        return m.number == n and m.sub == sub + 1
    return m.number == n + 1


@dataclass(frozen=True)
class _HeadingWord(LabelMatch):
    """A division heading written as a word (``附则``): its text is its title."""

    word: str = ""


@dataclass
class _ArticleState:
    clause: Clause
    multi: bool  # more than one paragraph: every 款 is a child clause
    paragraphs: int = 0


def _is_table_row(b: Block) -> bool:
    """A row of a table (HTML ``<tr>``, or cells separated by ``|`` / tabs in text): text of the clause it is in."""
    cells = b.text.count("|") >= 2 or b.text.count("\t") >= 2
    return b.kind == "table-row" or (cells and "。" not in b.text)


def _paragraph_count(blocks: list[Block], labels: list[LabelMatch | None], i: int, end: int) -> int:
    """How many paragraphs (款) the article labelled at block ``i`` has."""
    m = labels[i]
    assert m is not None
    n = 1 if blocks[i].text[m.end :].strip() else 0
    for j in range(i + 1, end):
        mj = labels[j]
        if mj is not None:
            if mj.rank <= STYLE_RANK["article"]:
                break
            continue
        if _is_table_row(blocks[j]):
            continue
        n += 1
    return n


def _number_blocks(
    blocks: list[Block],
    offsets: list[tuple[int, int]],
    labels: list[LabelMatch | None],
    span: range,
    doc_id: str,
    lang: str,
    prefix: tuple,
    top: Clause | None,
    roots: list[Clause],
    ids: _Ids,
    warnings: list[ParseWarning],
) -> None:
    """Make the clauses of the labelled blocks in ``span``: children of ``top`` (or roots), paths under ``prefix``."""
    stack: list[_Open] = []
    last_number: dict[tuple[tuple, str], int] = {}  # (parent path, style) -> last number
    last_in_doc: dict[str, int] = {}  # style -> last number anywhere (items numbered across sections)
    current: Clause | None = top
    article: _ArticleState | None = None
    for i in span:
        b = blocks[i]
        m = labels[i]
        s, e = offsets[i]
        if m is None:
            if article is not None and article.multi and not _is_table_row(b):
                # a new paragraph (款) of the article: never part of the item list before it
                while stack and stack[-1].clause is not article.clause:
                    stack.pop()
                if re.match(r"^[0-9０-９]+", b.text):
                    warnings.append(ParseWarning("not-a-label", f"paragraph starts with a number that is not a clause label: {b.text[:20]!r}; kept as a paragraph of the article", s, s + 20, b.lineno))
                pm = match_paragraph_number(b.text) if lang == "ja" else None
                if pm is not None and pm.number == article.paragraphs + 1 + (article.paragraphs == 0):
                    # ２　前項の…: the printed number of the next paragraph (項)
                    article.paragraphs = pm.number
                    current = _paragraph(article, s, s + pm.end, e, doc_id, lang, ids, pm.label)
                else:
                    article.paragraphs += 1
                    current = _paragraph(article, s, s, e, doc_id, lang, ids)
                stack.append(_Open(current, LabelMatch("paragraph", article.paragraphs, "", 0)))
                continue
            if re.match(r"^[0-9０-９]+", b.text):
                warnings.append(
                    ParseWarning("not-a-label", f"paragraph starts with a number that is not a clause label: {b.text[:20]!r}; kept as text", s, s + 20, b.lineno)
                )
            if current is not None:
                current.end = e
            continue
        while stack and stack[-1].match is not None and stack[-1].match.rank >= m.rank:
            stack.pop()
        if m.rank <= STYLE_RANK["article"]:
            article = None
        parent = stack[-1].clause if stack else top
        ppath = parent.path if parent is not None else prefix
        key = (ppath, m.style)
        prev = last_number.get(key)
        if m.sub:
            pass  # 第X条之一 follows 第X条
        elif prev is None:
            if m.number != 1 and last_in_doc.get(m.style, 0) + 1 != m.number and m.style != "paragraph":
                warnings.append(ParseWarning("skipped-number", f"{m.label!r} opens {'the document' if not ppath else clause_id(doc_id, ppath)} (expected 1)", s, s + len(m.label), b.lineno))
        elif m.number == prev:
            warnings.append(ParseWarning("repeated-number", f"{m.label!r} repeats number {prev}", s, s + len(m.label), b.lineno))
        elif m.number < prev:
            warnings.append(ParseWarning("repeated-number", f"{m.label!r} goes back from {prev} to {m.number}", s, s + len(m.label), b.lineno))
        elif m.number > prev + 1:
            warnings.append(ParseWarning("skipped-number", f"{m.label!r} follows {prev}: number(s) skipped", s, s + len(m.label), b.lineno))
        last_number[key] = m.number
        last_in_doc[m.style] = m.number
        seg: int | str = f"{m.number}-{m.sub}" if m.sub else m.number
        path = ppath + (seg,)
        cid = ids.unique(clause_id(doc_id, path))
        title = None
        if isinstance(m, _HeadingWord):
            title = m.word
        clause = Clause(
            id=cid, doc=doc_id, path=path, label=m.label, title=title, text="", start=s + m.end, end=e,
            label_start=s, kind="section" if parent is None else "item", lang=lang, parent=parent,
            style=m.style, number=m.number, sub=m.sub,
        )
        if parent is None:
            roots.append(clause)
        else:
            parent.children.append(clause)
        stack.append(_Open(clause, m))
        current = clause
        if m.style == "article":
            end = span.stop
            multi = _paragraph_count(blocks, labels, i, end) > 1
            article = _ArticleState(clause, multi)
            if multi and b.text[m.end :].strip():
                article.paragraphs = 1
                current = _paragraph(article, s + m.end, s + m.end, e, doc_id, lang, ids)
                stack.append(_Open(current, LabelMatch("paragraph", 1, "", 0)))


def _paragraph(article: _ArticleState, label_start: int, start: int, end: int, doc_id: str, lang: str, ids: _Ids,
               label: str = "") -> Clause:
    """A 款 of a multi-paragraph article: its number is its position (or its printed number, ``２``)."""
    art = article.clause
    k = article.paragraphs
    path = art.path + (k,)
    c = Clause(id=ids.unique(clause_id(doc_id, path)), doc=doc_id, path=path, label=label, title=None, text="",
               start=start, end=end, label_start=label_start, kind="paragraph", lang=lang, parent=art,
               style="paragraph", number=k)
    art.children.append(c)
    return c


def _front_matter(blocks, offsets, idx, text, doc_id, lang, res: ParseResult) -> Clause:
    """Front matter: notice (0.1), title (0.2), preamble (0.3); header facts on the result.

    ``idx`` is the run of block numbers before the first label (consecutive).
    """
    header = [i for i in idx if is_header_line(blocks[i].text)]
    for i in header:
        res.header_spans.append(offsets[i])
    # title: the run of blocks without sentence punctuation right before the preamble
    def no_stop(i: int) -> bool:
        t = blocks[i].text
        return not any(ch in _TERMINAL for ch in t) and not t.endswith(("：", ":", "御中")) and len(t) <= 120

    title_run: list[int] = []
    # the first run of such blocks before the first sentence of the text: a case's 基本案情 /
    # 典型意义 further down are headings of its parts, not its title
    # (a notice that ends with its signature and date before the text it issues: that text's
    # title, the last run, is the document's, as below)
    first_sentence = next((k for k, i in enumerate(idx) if i not in header and matter_role(blocks[i].text) is None and not no_stop(i)), len(idx))
    closed = any(is_signature_line(blocks[i].text) or is_date_line(blocks[i].text) for i in idx[first_sentence:])
    for i in idx if not closed else ():
        issuer = i + 1 <= idx[-1] and blocks[i + 1].text.startswith(("关于", "關於")) and is_signature_line(blocks[i].text)
        if i in header or (matter_role(blocks[i].text) is not None and not issuer) or _is_addressee(blocks[i].text):
            if title_run:
                break
            continue
        if not no_stop(i):
            break
        if not title_run and _AGENCY_NAME.match(blocks[i].text) and not (i + 1 <= idx[-1] and blocks[i + 1].text.startswith(("关于", "關於"))):
            continue  # an issuer above the title (kept when the title goes on from it: 最高人民法院 / 关于…)
        title_run.append(i)
    for j in range(len(idx) - 1 if not title_run else -1, -1, -1):
        i = idx[j]
        if is_signature_line(blocks[i].text):
            break  # the signature ends the notice: the title comes after it
        if i in header or matter_role(blocks[i].text) is not None:
            if title_run:
                break
            continue
        if no_stop(i):
            title_run.insert(0, i)
        elif title_run:
            break
        else:
            continue
    # a law: the title stands above its promulgation record (a broken record line after it is not the title)
    first_record = next((k for k, i in enumerate(idx) if matter_role(blocks[i].text) == 4), None)
    if first_record:
        run: list[int] = []
        for i in idx[:first_record]:
            if run and _DATE_START.match(blocks[i].text):
                break  # a record line broken in two: the title ends before its date
            issuer = i + 1 <= idx[-1] and bool(_TITLE_GOES_ON.match(blocks[i + 1].text))  # 中华人民共和国…大会 / 和…法
            role = matter_role(blocks[i].text)
            if issuer and role == 7:
                role = None
            if no_stop(i) and i not in header and role is None and (issuer or not is_signature_line(blocks[i].text)):
                run.append(i)
            elif run:
                run = []
        if run:
            title_run = run
    # a run that ends the front matter (no preamble after it) is the title too; drop bracketed asides before it
    while len(title_run) > 1 and re.fullmatch(r"[（(].*[）)]", blocks[title_run[0]].text):
        title_run.pop(0)
    # a title goes on into the next block only where it is cut mid-phrase (``…工业和信息化部`` /
    # ``关于…的通知``); a second stop-less line after a whole title is a subtitle or a heading
    for k in range(1, len(title_run)):
        if not _title_goes_on(blocks[title_run[k - 1]].text, blocks[title_run[k]].text):
            del title_run[k:]
            break
    if title_run and _AGENCY_NAME.match(blocks[title_run[0]].text) and len(title_run) == 1 and title_run[0] != idx[-1]:
        title_run = []  # a signature line, not a title
    front = Clause(id=clause_id(doc_id, (0,)), doc=doc_id, path=(0,), label="", title=None, text="",
                   start=offsets[idx[0]][0], end=offsets[idx[0]][0], label_start=offsets[idx[0]][0], kind="front", lang=lang,
                   style="front")
    if title_run:
        res.parsed_title = "".join(blocks[i].text for i in title_run)
        front.title = res.parsed_title
    t0 = title_run[0] if title_run else None
    t1 = title_run[-1] if title_run else None
    roles: list[int | None] = []
    for i in idx:
        t = blocks[i].text
        if title_run and t0 <= i <= t1:  # type: ignore[operator]
            roles.append(2)
        elif (r := matter_role(t)) is not None:
            roles.append(r)
        elif (_is_addressee(t) or blocks[i].kind == "addressees") and 3 not in roles:
            roles.append(6)
        elif i in header:
            roles.append(None)  # a key-value header line: the header's, not a clause's
        elif t0 is not None and i > t0:
            roles.append(3)
        else:
            roles.append(1)
    # a header line between two blocks of one part belongs to that part
    for k, r in enumerate(roles):
        if r is None:
            before = next((x for x in reversed(roles[:k]) if x is not None), None)
            after = next((x for x in roles[k + 1 :] if x is not None), None)
            if before is not None and before == after:
                roles[k] = before
    ids = _Ids(set())
    k = 0
    while k < len(idx):
        r = roles[k]
        if r is None:
            k += 1
            continue
        m = k
        while m + 1 < len(idx) and roles[m + 1] == r:
            m += 1
        s, e = offsets[idx[k]][0], offsets[idx[m]][1]
        child = Clause(id=ids.unique(clause_id(doc_id, (0, r))), doc=doc_id, path=(0, r), label="", title=None, text="",
                       start=s, end=e, label_start=s, kind="front", lang=lang, parent=front, style=FRONT_ROLES[r])
        front.children.append(child)
        k = m + 1
    for i in idx:
        record_facts(blocks[i].text, res)
    # header facts
    front_text_blocks = [blocks[i].text for i in idx]
    for t in front_text_blocks:
        if res.doc_number is None and (is_header_line(t) or len(t) <= 40) and (m := _DOCNUM_ANY.search(t)):
            res.doc_number = re.sub(r"\s+", "", m.group())
        for key, field_name in _DATE_KEYS.items():
            for m in re.finditer(key + r"\s*[：:]\s*([0-9年月日\-\s]{6,16})", t):
                if (d := _iso(m.group(1))) and field_name not in res.dates:
                    res.dates[field_name] = d
        if m := re.match(r"^(公表機関|发文机关|発表機構|发布机构)\s*[：:]\s*(.+)$", t):
            if not res.issuers and m.group(1) in ("公表機関", "发文机关"):
                res.issuers = _split_names(m.group(2))
    for k, i in enumerate(idx):
        t = blocks[i].text
        if is_date_line(t):
            res.dates.setdefault("signed", find_dates(t)[0][2])
            names: list[str] = []
            j = k - 1
            while j >= 0 and len(names) < 6:
                cand = blocks[idx[j]].text
                pieces = _split_names(cand)
                if pieces and all(_AGENCY_NAME.match(p) for p in pieces):
                    names = pieces + names
                    j -= 1
                else:
                    break
            if names and not res.issuers:
                res.issuers = names
        if (t.endswith(("：", ":", "御中")) or blocks[i].kind == "addressees") and not res.addressees and not is_header_line(t):
            res.addressees = split_addressees(t, lang)
    return front


_TITLE_CUT_END = re.compile(r"(的|和|与|及|、|《|“|「|『|（|\(|关于|關於|に関する|による|の|・|，|,)$")
_TITLE_GOES_ON = re.compile(r"^(关于|關於|若干|和|与|與|及|暨|的|の|に|を|と|、|》|”|」|』|（|\(|）|\)|印发|印發|转发|轉發|发布|發布|通知|决定|決定)")


def _title_goes_on(prev: str, nxt: str) -> bool:
    """Whether ``nxt`` continues a title whose previous line is ``prev`` (not a line of its own)."""
    if _TITLE_CUT_END.search(prev) or _TITLE_GOES_ON.match(nxt) or _AGENCY_NAME.match(prev.split()[-1] if prev.split() else prev):
        return True
    return False


def _back_matter(
    blocks: list[Block],
    offsets: list[tuple[int, int]],
    labels: list[LabelMatch | None],
    span: range,
    doc_id: str,
    lang: str,
    roots: list[Clause],
    ids: _Ids,
    warnings: list[ParseWarning],
    res: ParseResult,
) -> None:
    """The back matter after the numbered body: parts under ``back``, attachments as roots ``attN``."""
    s0 = offsets[span.start][0]
    back = Clause(id=ids.unique(clause_id(doc_id, ("back",))), doc=doc_id, path=("back",), label="", title=None, text="",
                  start=s0, end=s0, label_start=s0, kind="back", lang=lang, style="back")
    roots.append(back)
    k = span.start
    prev_role: int | None = None
    att_count = 0
    while k < span.stop:
        t = blocks[k].text
        if is_attachment_heading(t):
            j = k + 1
            while j < span.stop and not is_attachment_heading(blocks[j].text) and matter_role(blocks[j].text) not in (10, 11):
                j += 1
            att_count += 1
            m = re.match(r"^(附件|附表)\s*([0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})?", t)
            n = parse_numeral(m.group(2)) if m and m.group(2) else att_count
            label = m.group(0) if m else t
            s, e = offsets[k]
            att = Clause(id=ids.unique(clause_id(doc_id, (f"att{n}",))), doc=doc_id, path=(f"att{n}",), label=label,
                         title=None, text="", start=s + len(label), end=offsets[j - 1][1], label_start=s, kind="attachment",
                         lang=lang, style="attachment", number=n)
            roots.append(att)
            first = next((x for x in range(k + 1, j) if labels[x] is not None), j)
            title = [blocks[x].text for x in range(k + 1, first) if len(blocks[x].text) <= 80 and not any(ch in _TERMINAL for ch in blocks[x].text)][:2]
            rest = t[len(label):].strip(" ：:　")
            att.title = rest or ("".join(title) if title else None)
            if att.title and att.title not in res.attachments:
                res.attachments.append(att.title)
            if first < j:
                _number_blocks(blocks, offsets, labels, range(first, j), doc_id, lang, att.path, att, roots, ids, warnings)
            k = j
            prev_role = None
            continue
        role = matter_role(t)
        if role is None:
            lm = labels[k]
            role = 9 if prev_role == 9 and (lm is not None or len(t) <= 80) else 12
        j = k
        while j + 1 < span.stop and not is_attachment_heading(blocks[j + 1].text):
            r2 = matter_role(blocks[j + 1].text)
            if r2 is None and role in (9, 12) and (role == 12 or labels[j + 1] is not None or len(blocks[j + 1].text) <= 80):
                j += 1
                continue
            if r2 == role and role != 9:
                j += 1
                continue
            break
        s, e = offsets[k][0], offsets[j][1]
        part = Clause(id=ids.unique(clause_id(doc_id, ("back", role))), doc=doc_id, path=("back", role), label="", title=None,
                      text="", start=s, end=e, label_start=s, kind="back", lang=lang, parent=back, style=FRONT_ROLES[role])
        back.children.append(part)
        texts = [blocks[x].text for x in range(k, j + 1)]
        if role == 9:
            listed = re.sub(r"^(附件|附表|附)\s*[:：]\s*", "", " ".join(texts))
            for item in re.split(r"\s*(?:^|\s)[0-9０-９]{1,2}\s*[.．、]\s*", listed):
                if item.strip():
                    res.attachments.append(item.strip())
        elif role == 10:
            for x in texts:
                res.cc.extend(p for p in re.split(r"[、，,；;\s]+", re.sub(r"^[^:：]*[:：]", "", x).rstrip("。")) if p)
        elif role == 11:
            res.printed = " ".join(texts)
        elif role == 7 and not res.issuers:
            res.issuers = [p for x in texts for p in _split_names(x)]
        elif role == 8:
            res.dates.setdefault("signed", find_dates(texts[0])[0][2])
        for x in texts:
            record_facts(x, res)
        prev_role = role
        k = j + 1


def _is_addressee(t: str) -> bool:
    """An addressee line: ``各省、自治区、直辖市人民政府：`` (not ``现将有关事项通知如下：``)."""
    if not (t.endswith(("：", ":", "御中")) and len(t) <= 120) or is_header_line(t):
        return False
    return not any(w in t for w in ("如下", "下列", "以下", "。", "通知", "决定", "の通り", "次の"))


class _Markup:
    """The collection markup spans of a text (sorted, disjoint), for the clauses around them.

    A clause's span never starts or ends with markup (:meth:`trim`); markup inside it (a
    ``<!-- FORCE BREAK -->`` line between two paragraphs of one clause) is listed in
    :attr:`Clause.markup <policyidx.model.Clause.markup>` and no sentence, note or title holds it.
    """

    __slots__ = ("spans", "starts")

    def __init__(self, spans: list[tuple[int, int]]):
        self.spans = spans
        self.starts = [a for a, _ in spans]

    def trim(self, text: str, s: int, e: int) -> tuple[int, int]:
        """``[s, e)`` without whitespace and markup at either end."""
        while True:
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if s >= e or not self.spans:
                return s, e
            k = bisect.bisect_right(self.starts, s) - 1  # the span holding s, if any
            if k >= 0 and s < self.spans[k][1]:
                s = self.spans[k][1]
                continue
            k = bisect.bisect_right(self.starts, e - 1) - 1  # the span holding e - 1, if any
            if k >= 0 and e - 1 < self.spans[k][1]:
                e = max(s, self.spans[k][0])
                continue
            return s, e

    def inside(self, s: int, e: int) -> tuple[tuple[int, int], ...]:
        """The markup spans inside ``[s, e)``."""
        if not self.spans:
            return ()
        k = bisect.bisect_left(self.starts, s)
        out = []
        while k < len(self.spans) and self.spans[k][1] <= e:
            out.append(self.spans[k])
            k += 1
        return tuple(out)

    def segments(self, s: int, e: int) -> list[tuple[int, int]]:
        """``[s, e)`` cut around the markup inside it."""
        out = []
        for a, b in self.inside(s, e):
            out.append((s, a))
            s = b
        out.append((s, e))
        return out

    def sentences(self, text: str, s: int, e: int) -> list[tuple[int, int]]:
        """Sentence spans of ``text[s:e]``, none holding markup."""
        if not self.spans:
            return split_sentences(text, s, e)
        return [span for a, b in self.segments(s, e) for span in split_sentences(text, a, b)]


def _finish(c: Clause, text: str, lang: str, ids: "_Ids", res: ParseResult, mk: _Markup | None = None) -> None:
    """Trim the clause's span, split inline enumerations, find sentences, notes, title and pages."""
    if c.kind in ("front", "back") and len(c.path) == 1:
        c.pages = _pages(res, c.start, max(c.end, c.children[-1].end if c.children else c.end))
        return
    s, e = c.start, c.end
    if c.children and c.kind != "front":
        first_child = min(ch.label_start for ch in c.children)
        e = min(e, first_child)
    mk = mk or _Markup(res.markup_spans)
    if mk.spans:
        s, e = mk.trim(text, s, e)
    else:  # the common case, kept fast
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
    c.start, c.end = s, e
    sents = mk.sentences(text, s, e)
    # inline enumerations: sentences starting 一是/二是... or 1つ目は/2つ目は... numbered from 1
    if c.kind != "front":
        enum_at: list[tuple[int, LabelMatch]] = []
        want = 1
        for a, _ in sents:
            m = match_enum(text[a:e], lang)
            if m is not None and m.number == want:
                enum_at.append((a, m))
                want += 1
        if len(enum_at) >= 2:
            kids: list[Clause] = []
            for k, (a, m) in enumerate(enum_at):
                b = enum_at[k + 1][0] if k + 1 < len(enum_at) else e
                path = c.path + (m.number,)
                kid = Clause(id=ids.unique(clause_id(c.doc, path)), doc=c.doc, path=path, label=m.label, title=None,
                             text="", start=a + m.end, end=b, label_start=a, kind="enum", lang=lang, parent=c)
                kids.append(kid)
            c.children[:0] = kids
            c.start, c.end = mk.trim(text, c.start, enum_at[0][0])
            for kid in kids:
                _finish(kid, text, lang, ids, res, mk)
            sents = mk.sentences(text, c.start, c.end)
    c.text = text[c.start : c.end]
    c.sentences = tuple(Sentence(f"{c.id}/{k}", c.id, a, b, text[a:b]) for k, (a, b) in enumerate(sents, 1))
    if mk.spans and (inner := mk.inside(c.start, c.end)):
        c.markup = inner
        c.notes = tuple(n for a, b in mk.segments(c.start, c.end) for n in find_notes(text, a, b))
    else:
        c.notes = tuple(find_notes(text, c.start, c.end))
    if c.kind == "front":
        if c.path == (0, 2):
            c.title = "".join(text[a:b] for a, b in mk.segments(c.start, c.end)).replace("\n", "")
    elif c.sentences:
        first = c.sentences[0].text
        heading_only = "\n" not in c.text and _TERMINAL_RE.search(c.text) is None
        if heading_only or len(first) <= 60 or (c.text.find("\n") > 0 and c.text.find("\n") <= 60 and first.find("\n") >= 0):
            c.title = first.split("\n")[0] if "\n" in first else first
    c.pages = _pages(res, c.label_start, max(c.end, c.label_start + 1))


def _pages(res: ParseResult, s: int, e: int) -> tuple[int, ...]:
    if not res.pages:
        return ()
    return tuple(p.number for p in res.pages if p.start < e and s < p.end)


def _footer_facts(blocks: list[Block], res: ParseResult) -> None:
    src: list[str] = []
    disclaimer: list[str] = []
    mode = ""
    for b in blocks:
        t = b.text
        for m in _URL.finditer(t):
            res.urls.append(m.group().rstrip(".,;"))
        if t.startswith(("出所", "出典", "出处", "来源", "【出所】", "（出所）")):
            mode = "src"
            src.append(t)
        elif t.startswith("※"):
            mode = "disc"
            disclaimer.append(t)
        elif t.startswith("http"):
            mode = "" if mode == "src" else mode
        elif mode == "src":
            src.append(t)
        elif mode == "disc":
            disclaimer.append(t)
    if src:
        res.source_line = "".join(src)
    if disclaimer:
        res.disclaimer = "".join(disclaimer)
