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

import re
from dataclasses import dataclass, field

from ..model import Clause, Note, Page, ParseWarning, Sentence, clause_id
from .labels import LabelMatch, match_enum, match_label
from .layout import Block, is_footer_start, is_header_line, is_signature_line

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


# --------------------------------------------------------------------------- sentences

_TERMINAL = set("。！？!?")
_OPEN = "「『（(《【〔“‘"
_CLOSE = "」』）)》】〕”’"
_PAIR = dict(zip(_CLOSE, _OPEN))


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
    while i < end:
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
        elif ch in _TERMINAL:
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
    # ---- text and block offsets
    offsets: list[tuple[int, int]] = []
    parts: list[str] = []
    pos = 0
    for b in blocks:
        offsets.append((pos, pos + len(b.text)))
        parts.append(b.text)
        pos += len(b.text) + 1
    text = "\n".join(parts)
    res = ParseResult(text=text, roots=[], warnings=warnings)
    if not blocks:
        warnings.append(ParseWarning("empty", "the source has no text"))
        return res

    labels = [match_label(b.text) for b in blocks]
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
    stack: list[_Open] = []
    last_number: dict[tuple[tuple[int, ...], str], int] = {}  # (parent path, style) -> last number
    last_in_doc: dict[str, int] = {}  # style -> last number anywhere (items numbered across sections)
    used: set[str] = {c.id for r in roots for c in r.walk()}
    current: Clause | None = None
    for i in range(first_label, body_end):
        b = blocks[i]
        m = labels[i]
        s, e = offsets[i]
        if m is None:
            if re.match(r"^[0-9０-９]+", b.text):
                warnings.append(
                    ParseWarning("not-a-label", f"paragraph starts with a number that is not a clause label: {b.text[:20]!r}; kept as text", s, s + 20, b.lineno)
                )
            if current is not None:
                current.end = e
            continue
        while stack and stack[-1].match is not None and stack[-1].match.rank >= m.rank:
            stack.pop()
        parent = stack[-1].clause if stack else None
        ppath = parent.path if parent else ()
        key = (ppath, m.style)
        prev = last_number.get(key)
        if prev is None:
            if m.number != 1 and last_in_doc.get(m.style, 0) + 1 != m.number:
                warnings.append(ParseWarning("skipped-number", f"{m.label!r} opens {'the document' if not ppath else clause_id(doc_id, ppath)} (expected 1)", s, s + len(m.label), b.lineno))
        elif m.number == prev:
            warnings.append(ParseWarning("repeated-number", f"{m.label!r} repeats number {prev}", s, s + len(m.label), b.lineno))
        elif m.number < prev:
            warnings.append(ParseWarning("repeated-number", f"{m.label!r} goes back from {prev} to {m.number}", s, s + len(m.label), b.lineno))
        elif m.number > prev + 1:
            warnings.append(ParseWarning("skipped-number", f"{m.label!r} follows {prev}: number(s) skipped", s, s + len(m.label), b.lineno))
        last_number[key] = m.number
        last_in_doc[m.style] = m.number
        path = ppath + (m.number,)
        cid = _unique(clause_id(doc_id, path), used)
        clause = Clause(
            id=cid, doc=doc_id, path=path, label=m.label, title=None, text="", start=s + m.end, end=e,
            label_start=s, kind="section" if not ppath else "item", lang=lang, parent=parent,
        )
        if parent is None:
            roots.append(clause)
        else:
            parent.children.append(clause)
        stack.append(_Open(clause, m))
        current = clause

    # ---- finish every clause: trim, enumerations, sentences, notes, titles, pages
    for root in list(roots):
        for c in list(root.walk()):
            _finish(c, text, lang, used, res)

    # ---- footer
    if footer_at < len(blocks):
        fs = offsets[footer_at][0]
        res.footer_span = (fs, len(text))
        _footer_facts(blocks[footer_at:], res)
    res.roots = roots
    return res


def _unique(cid: str, used: set[str]) -> str:
    out, k = cid, 2
    while out in used:
        out = f"{cid}~{k}"
        k += 1
    used.add(out)
    return out


def _front_matter(blocks, offsets, idx, text, doc_id, lang, res: ParseResult) -> Clause:
    """Front matter: notice (0.1), title (0.2), preamble (0.3); header facts on the result."""
    header = [i for i in idx if is_header_line(blocks[i].text)]
    for i in header:
        res.header_spans.append(offsets[i])
    # title: the run of blocks without sentence punctuation right before the preamble
    def no_stop(i: int) -> bool:
        t = blocks[i].text
        return not any(ch in _TERMINAL for ch in t) and not t.endswith(("：", ":", "御中")) and len(t) <= 120

    title_run: list[int] = []
    for j in range(len(idx) - 1, -1, -1):
        i = idx[j]
        if is_signature_line(blocks[i].text):
            break  # the signature ends the notice: the title comes after it
        if i in header:
            if title_run:
                break
            continue
        if no_stop(i):
            title_run.insert(0, i)
        elif title_run:
            break
        else:
            continue
    # a run that ends the front matter (no preamble after it) is the title too; drop bracketed asides before it
    while len(title_run) > 1 and re.fullmatch(r"[（(].*[）)]", blocks[title_run[0]].text):
        title_run.pop(0)
    if title_run and _AGENCY_NAME.match(blocks[title_run[0]].text) and len(title_run) == 1 and title_run[0] != idx[-1]:
        title_run = []  # a signature line, not a title
    front = Clause(id=clause_id(doc_id, (0,)), doc=doc_id, path=(0,), label="", title=None, text="",
                   start=offsets[idx[0]][0], end=offsets[idx[0]][0], label_start=offsets[idx[0]][0], kind="front", lang=lang)
    parts: list[tuple[int, list[int]]] = []
    if title_run:
        t0, t1 = title_run[0], title_run[-1]
        before = [i for i in idx if i < t0]
        after = [i for i in idx if i > t1]
        if before:
            parts.append((1, before))
        parts.append((2, title_run))
        if after:
            parts.append((3, after))
        res.parsed_title = "".join(blocks[i].text for i in title_run)
        front.title = res.parsed_title
    else:
        parts.append((1, idx))
    for n, members in parts:
        # header lines at the edges of a part belong to the header, not to the clause
        while len(members) > 1 and members[0] in header:
            members = members[1:]
        while len(members) > 1 and members[-1] in header:
            members = members[:-1]
        if all(m in header for m in members):
            continue
        s, e = offsets[members[0]][0], offsets[members[-1]][1]
        child = Clause(id=clause_id(doc_id, (0, n)), doc=doc_id, path=(0, n), label="", title=None, text="",
                       start=s, end=e, label_start=s, kind="front", lang=lang, parent=front)
        front.children.append(child)
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
        if re.fullmatch(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日", t):
            res.dates.setdefault("signed", _iso(t) or "")
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
        if (t.endswith(("：", ":")) or t.endswith("御中")) and not res.addressees and not is_header_line(t):
            res.addressees = [p for p in re.split(r"[、，,]", t.rstrip("：:").removesuffix("御中").strip()) if p]
    return front


def _finish(c: Clause, text: str, lang: str, used: set[str], res: ParseResult) -> None:
    """Trim the clause's span, split inline enumerations, find sentences, notes, title and pages."""
    if c.kind == "front" and c.path == (0,):
        c.pages = _pages(res, c.start, max(c.end, c.children[-1].end if c.children else c.end))
        return
    s, e = c.start, c.end
    if c.children and c.kind != "front":
        first_child = min(ch.label_start for ch in c.children)
        e = min(e, first_child)
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    c.start, c.end = s, e
    sents = split_sentences(text, s, e)
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
                kid = Clause(id=_unique(clause_id(c.doc, path), used), doc=c.doc, path=path, label=m.label, title=None,
                             text="", start=a + m.end, end=b, label_start=a, kind="enum", lang=lang, parent=c)
                kids.append(kid)
            c.children[:0] = kids
            c.end = enum_at[0][0]
            while c.end > c.start and text[c.end - 1].isspace():
                c.end -= 1
            for kid in kids:
                _finish(kid, text, lang, used, res)
            sents = split_sentences(text, c.start, c.end)
    c.text = text[c.start : c.end]
    c.sentences = tuple(Sentence(f"{c.id}/{k}", c.id, a, b, text[a:b]) for k, (a, b) in enumerate(sents, 1))
    c.notes = tuple(find_notes(text, c.start, c.end))
    if c.kind == "front":
        if c.path == (0, 2):
            c.title = c.text.replace("\n", "")
    elif c.sentences:
        first = c.sentences[0].text
        heading_only = "\n" not in c.text and not any(ch in _TERMINAL for ch in c.text)
        if heading_only or len(first) <= 60 or (c.text.find("\n") > 0 and c.text.find("\n") <= 60 and first.find("\n") >= 0):
            c.title = first.split("\n")[0] if "\n" in first else first
    c.pages = _pages(res, c.label_start, max(c.end, c.label_start + 1))


def _pages(res: ParseResult, s: int, e: int) -> tuple[int, ...]:
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
