"""HTML pages of Chinese government sites.

The article body is found among navigation, scripts and footers: a known container
(``TRS_Editor``, ``zoom`` ...) or the element whose paragraphs (or ``<br>`` lines, as in the
``<td>`` of an old layout table) hold the most CJK text, then
widened to the smallest container that also holds every numbered paragraph of the page
(``一、`` ``第一条`` ``（一）`` ...): a body split over sibling ``<div>``\\s is taken as that run of
siblings.  Inside the body everything that shows as text is kept, ``<header>``, ``<footer>``,
``<nav>`` and ``<form>`` included; only what is not text (scripts, styles, templates) is
skipped.  Page text outside the body (navigation, related links, site footer) and the text of
form controls is left out *and listed* in an ``outside-body`` warning.

``<p>`` and other blocks are paragraphs; ``<br>`` is a line break, and a paragraph break
when the next line is indented (``　　``) or after ``<br><br>``; a paragraph break that cuts a
word in a sentence is mended (:func:`_rejoin_cut_lines`); the page title is kept when it sits
outside the body (an ``<h1>``, or the element before the body showing the page ``<title>``); tables are kept as tables: one line per row, cells
separated by `` | ``, searchable text that is never read as a clause label.

Parsing is safe: lxml's HTML parser with network access off; HTML has no external entities
and libxml2's HTML parser neither loads DTDs nor expands entities beyond the fixed HTML set.
``huge_tree`` stays off (it lifts libxml2's limits against resource exhaustion); instead,
nesting deeper than :data:`MAX_DEPTH` (libxml2 gives up at 256 and drops the rest of the
page) is flattened before parsing, in one linear pass over the tags, and reported; a run of
text longer than libxml2's 10 MB text-node limit gets empty ``<wbr>`` tags put in
(:func:`split_long_text`), so no text is cut either.
"""

from __future__ import annotations

import re

from ..errors import ParseError
from ..model import ParseWarning
from .decode import decode_bytes, plausibility
from .labels import match_label
from .layout import (Line, assemble, is_footer_start, is_header_line, is_signature_line, normalize_line,
                     straddles_word, strip_invisible)
from .structure import ParseResult, build, _iso, _split_names

__all__ = ["parse_html", "html_lines", "MAX_DEPTH"]

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
#: never text: skipped everywhere without a report
_SKIP = {"script", "style", "template", "head", "title", "meta", "link"}
#: form controls and embedded objects: their text (option lists, fallback text) is left out and reported
_CONTROLS = {"select", "button", "input", "textarea", "option", "optgroup", "datalist", "iframe", "object",
             "embed", "svg", "canvas", "noscript", "math"}
#: containers that are navigation or page furniture when they stand outside the article body
_FURNITURE = {"nav", "header", "footer", "aside", "form", "menu"}
_BLOCK = {"p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "table", "tr",
          "blockquote", "pre", "center", "dl", "dt", "dd", "hr", "td", "th", "tbody", "thead", "tfoot", "caption",
          "header", "footer", "nav", "aside", "main", "form", "fieldset", "legend", "figure", "figcaption",
          "address", "details", "summary", "menu"}
_KNOWN_BODY = (
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' TRS_Editor ')]",
    "//*[@id='zoom']",
    "//*[@id='UCAP-CONTENT']",
    "//*[contains(@class, 'pages_content')]",
    "//*[contains(@class, 'article-content')]",
    "//*[contains(@class, 'xxgk_content')]",
    "//*[@id='content']",
    "//article",
)
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]+")


def _cjk(s: str) -> int:
    """Number of kana and Han characters in ``s`` (counted by runs: no list as long as the text)."""
    return sum(map(len, _CJK.findall(s)))
_INDENT = re.compile(r"^[ \t\r\n]*(?:[\u3000\u00a0]|[ \t]{2,})")
#: a declared charset whose text is at least this plausible is followed (see :func:`.decode.plausibility`)
TRUST_DECLARED = 0.5
#: deepest element nesting kept as is; libxml2's HTML parser stops at 256
MAX_DEPTH = 200


def _tag(el) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


# --------------------------------------------------------------------------- decoding


def _decode(data: bytes, name: str, lang: str) -> tuple[str, list[ParseWarning]]:
    """Decode a page; its ``<meta charset>`` is followed only when the text it gives is plausible."""
    m = _META_CHARSET.search(data[:4096])
    declared = m.group(1).decode("ascii", "replace").lower() if m else ""
    first: tuple[str, str, list[ParseWarning], float | None] | None = None
    if declared:
        # the declared charset is followed whenever its text is plausible: the detection it
        # would be weighed against is then not needed (it costs as much as the parse of a page)
        try:
            text, enc, warnings = decode_bytes(data, name=name, lang=lang, encoding=declared)
        except ParseError:
            pass
        else:
            # (a UTF-8 page is checked the other way round: its detection is quicker than the check)
            p_first = None
            if not enc.replace("_", "-").lower().startswith("utf-8"):
                p_first = plausibility(_sample_text(text, warnings), lang) - 5 * len(warnings)
                if p_first >= TRUST_DECLARED:
                    return text, warnings
            first = (text, enc, warnings, p_first)
    auto: tuple[str, str, list[ParseWarning]] | None = None
    auto_err: ParseError | None = None
    try:
        auto = decode_bytes(data, name=name, lang=lang)
    except ParseError as exc:
        auto_err = exc
    if first is not None:
        text, enc, warnings, p_first = first
        if auto is None or auto[1] == enc:
            return text, warnings
        p_decl = p_first if p_first is not None else plausibility(_sample_text(text, warnings), lang) - 5 * len(warnings)
        if p_decl >= TRUST_DECLARED:
            return text, warnings
        # two readings differ: the declared one stands unless its text is implausible
        # (bytes replaced, or characters a wrong codec produces) and the other is better
        # (a U+FFFD of a strict decoding was in the page: it is not evidence against it)
        p_auto = plausibility(_sample_text(auto[0], auto[2]), lang) - 5 * len(auto[2])
        if p_decl >= p_auto - 0.1:
            return text, warnings
        auto[2].append(ParseWarning(
            "meta-charset-ignored",
            f"the page declares charset={declared} but its bytes read as {auto[1]} (the declared charset gives implausible text)",
        ))
    if auto is None:
        assert auto_err is not None
        raise auto_err
    return auto[0], auto[2]


def _sample_text(text: str, warnings: list[ParseWarning]) -> str:
    sample = text[:100_000]
    return sample if warnings else sample.replace("\ufffd", "")


# --------------------------------------------------------------------------- nesting

_TAG_RE = re.compile(r"<!--.*?(?:-->|$)|<(/?)([A-Za-z][A-Za-z0-9:_-]*)((?:[^>\"']|\"[^\"]{0,4000}\"|'[^']{0,4000}')*)>", re.S)
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
         "wbr", "keygen", "basefont", "frame", "isindex"}
_RAW = {"script", "style", "textarea", "title", "xmp", "plaintext"}
# an open element that a new start tag closes implicitly (as HTML parsers do)
_IMPLIED_END = {"p": _BLOCK, "li": {"li"}, "td": {"td", "th", "tr"}, "th": {"td", "th", "tr"}, "tr": {"tr"},
                "dt": {"dt", "dd"}, "dd": {"dt", "dd"}, "option": {"option"}}


def cap_depth(markup: str, limit: int = MAX_DEPTH) -> tuple[str, int]:
    """Flatten element nesting deeper than ``limit``; returns the markup and how many tags went.

    A start or end tag below the limit is removed (a block tag becomes ``<br>`` so that
    its text still starts a line); text is never touched.  One pass over the tags, linear in
    the length of the markup; the markup is returned unchanged when nothing is that deep.
    """
    if markup.count("<") <= limit:
        return markup, 0
    out: list[str] = []
    stack: list[tuple[str, bool]] = []  # (tag, kept)
    pos = 0
    removed = 0
    depth_kept = 0
    n = len(markup)
    while pos < n:
        m = _TAG_RE.search(markup, pos)
        if m is None:
            break
        out.append(markup[pos : m.start()])
        pos = m.end()
        close, tag = m.group(1), (m.group(2) or "").lower()
        if not tag:  # a comment
            out.append(m.group())
            continue
        if not close:
            while stack and stack[-1][0] in _IMPLIED_END and tag in _IMPLIED_END[stack[-1][0]]:
                t, kept = stack.pop()
                depth_kept -= kept
            if tag in _VOID or m.group(3).rstrip().endswith("/"):
                out.append(m.group())
                continue
            keep = depth_kept < limit
            stack.append((tag, keep))
            depth_kept += keep
            if keep:
                out.append(m.group())
            else:
                removed += 1
                if tag in _BLOCK:
                    out.append("<br>")
            if tag in _RAW:  # raw text up to the end tag
                end = re.compile(rf"</{tag}\s*>", re.I).search(markup, pos)
                stop = end.start() if end else n
                out.append(markup[pos:stop])
                pos = stop
            continue
        if not any(t == tag for t, _ in stack):
            out.append(m.group())  # a stray end tag: the parser ignores it
            continue
        while stack:
            t, kept = stack.pop()
            depth_kept -= kept
            if kept:
                out.append(f"</{t}>" if t != tag else m.group())
            else:
                removed += 1
                if t in _BLOCK:
                    out.append("<br>")
            if t == tag:
                break
    out.append(markup[pos:])
    if not removed:
        return markup, 0
    return "".join(out), removed


_LONG_TEXT = re.compile(r"[^<]{%d,}" % 1_000_000)
#: characters of text between two tags above which a ``<wbr>`` is put in (libxml2 drops a
#: text node of more than 10 MB, with everything after it, unless ``huge_tree`` lifts its limits)
TEXT_CHUNK = 1_000_000


def split_long_text(markup: str) -> str:
    """Put an empty ``<wbr>`` every :data:`TEXT_CHUNK` characters into very long runs of text.

    ``<wbr>`` holds no text, so the text read from the page is the same; an entity
    (``&amp;``) is never cut.  Linear in the length of the markup.
    """
    if len(markup) < TEXT_CHUNK:
        return markup

    def cut(m: re.Match) -> str:
        run = m.group()
        out: list[str] = []
        pos = 0
        while len(run) - pos > TEXT_CHUNK:
            end = pos + TEXT_CHUNK
            amp = run.rfind("&", end - 32, end)
            if amp != -1 and ";" not in run[amp:end]:
                end = amp
            out.append(run[pos:end])
            pos = end
        out.append(run[pos:])
        return "<wbr>".join(out)

    return _LONG_TEXT.sub(cut, markup)


# --------------------------------------------------------------------------- the article body


def _candidate(root):
    """The first guess at the body: a known container, else the parent of the richest paragraphs."""
    for xp in _KNOWN_BODY:
        found = [(n, el) for el in root.xpath(xp) if (n := _cjk(el.text_content())) > 50]
        if found:
            return max(found, key=lambda x: x[0])[1]
    scores: dict = {}
    for p in root.iter("p"):
        parent = p.getparent()
        if parent is None or any(_tag(a) in _FURNITURE for a in p.iterancestors()):
            continue
        n = _cjk(p.text_content())
        links = sum(_cjk(a.text_content()) for a in p.iter("a"))
        scores[parent] = scores.get(parent, 0) + n - 2 * links
    for holder, n in _loose_text(root).items():
        scores[holder] = scores.get(holder, 0) + n
    if scores:
        best = max(scores, key=scores.get)
        if scores[best] > 20:
            return best
    body = root.find("body")
    return body if body is not None else root


def _loose_text(root) -> dict:
    """CJK characters of text that lies in a block other than a ``<p>`` (lines cut by ``<br>``
    in a ``<div>`` or a layout table's ``<td>``), by that block; link text counts against it.

    Each text node is credited to its nearest block ancestor, unless that is a ``<p>`` or lies
    inside one (paragraphs are scored by their parent), or is navigation.  One pass over the
    elements (each looks up its parent's entry).
    """
    holder: dict = {}  # element -> (nearest block or None, inside a link, not scored)
    out: dict = {}
    top = (None, False, False)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = _tag(el)
        parent = el.getparent()
        up = holder.get(parent, top) if parent is not None else top
        if up[2] or tag in _SKIP or tag in _CONTROLS or tag in _FURNITURE or tag == "p":
            holder[el] = (None, False, True)  # not scored, nor anything inside
        elif tag in _BLOCK:
            holder[el] = (el, up[1], False)
        else:
            holder[el] = (up[0], up[1] or tag == "a", False)
        block, link, _ = holder[el]
        if block is not None and el.text:
            n = _cjk(el.text)
            if n:
                out[block] = out.get(block, 0) + (-n if link else n)
        if el.tail and up[0] is not None and not up[2]:
            n = _cjk(el.tail)
            if n:
                out[up[0]] = out.get(up[0], 0) + (-n if up[1] else n)
    return out


def _lead(el, limit: int = 24) -> str:
    """The first characters of a block's own text (up to its first block child)."""
    buf: list[str] = []
    size = 0
    for node in el.iter():
        if node is not el and _tag(node) in _BLOCK:
            break
        if node is not el and _tag(node) in _SKIP | _CONTROLS:
            continue
        for t in (node.text, node.tail if node is not el else None):
            if t:
                buf.append(t)
                size += len(t.strip())
        if size >= limit:
            break
    return normalize_line("".join(buf))[:limit]


def _numbered(root, body) -> list:
    """Block elements of the page that start with a clause label and are not navigation."""
    out = []
    for el in body.iter():
        tag = _tag(el)
        if tag not in _BLOCK or tag in ("td", "th", "tr", "table", "tbody", "thead", "ul", "ol", "dl"):
            continue
        lead = _lead(el)
        if not lead or match_label(lead) is None:
            continue
        anc = list(el.iterancestors())
        if any(_tag(a) in _SKIP | _CONTROLS or _tag(a) == "a" for a in anc):
            continue
        total = len(el.text_content().strip())
        linked = sum(len(a.text_content().strip()) for a in el.iter("a"))
        if total and linked >= 0.5 * total:
            continue  # a numbered link list
        out.append((el, anc))
    return out


def find_body(root) -> list:
    """The article body: one element, or a run of consecutive siblings (see the module docstring)."""
    cand = _candidate(root)
    body = root.find("body")
    if body is None:
        body = root
    if cand is body or cand is root:
        return [cand]
    inside = set(cand.iter())
    outside = []
    for el, anc in _numbered(root, body):
        if el in inside:
            continue
        if any(_tag(a) in _FURNITURE for a in anc) or _tag(el) in _FURNITURE:
            continue
        outside.append((el, anc))
    if not outside:
        return [cand]
    # lowest common ancestor of the candidate and the numbered paragraphs outside it
    chain = [cand, *cand.iterancestors()]
    pos = {id(e): i for i, e in enumerate(chain)}
    top = 0
    for el, anc in outside:
        for a in [el, *anc]:
            if id(a) in pos:
                top = max(top, pos[id(a)])
                break
    lca = chain[top]
    members = [cand] + [el for el, _ in outside]
    kids = list(lca)
    index = {id(k): i for i, k in enumerate(kids)}

    def child_of_lca(x):
        for a in [x, *x.iterancestors()]:
            if id(a) in index:
                return index[id(a)]
        return None

    at = [i for i in map(child_of_lca, members) if i is not None]
    if not at or len(at) < len(members):
        return [lca]  # a member is the LCA itself
    lo, hi = min(at), max(at)
    if lo == 0 and hi == len(kids) - 1:
        return [lca]
    return kids[lo : hi + 1]


def _page_heading(root, parts):
    """The article's heading when it stands outside the body (``<h1>``, ``.title``): (element, text)."""
    inside = {e for p in parts for e in p.iter()}
    body_text = "".join(p.text_content() for p in parts)
    for xp in ("//h1", "//*[contains(@class, 'art-title') or contains(@class, 'article-title')]", "//h2"):
        for el in root.xpath(xp):
            if el in inside or any(d in inside for d in el.iter()):
                continue
            t = normalize_line(el.text_content())
            if xp == "//h1" and _cjk(t) >= 2 or _cjk(t) >= 6 and t not in body_text:
                return el, t
    return _titled_element(root, inside)


_TITLE_SEP = re.compile(r"\s*(?:[_|｜]|-{1,2}|——|－|—)\s*")


def _titled_element(root, inside: set):
    """The element before the body whose whole text is the page ``<title>`` (or its part before
    the site name: ``标题_某某省人民政府``): an old page's title cell (``<td><b>标题</b></td>``)."""
    t = root.find(".//title")
    if t is None:
        return None, None
    full = normalize_line(t.text_content())
    names = {n for n in (full, *_TITLE_SEP.split(full)) if _cjk(n) >= 4}
    if not names:
        return None, None
    body = root.find("body")
    for el in (body if body is not None else root).iter():
        if el in inside:
            break  # only before the body
        if not isinstance(el.tag, str) or _tag(el) in _SKIP or _tag(el) in _CONTROLS or not el.text:
            continue
        text = normalize_line(el.text)
        if text not in names or normalize_line(el.text_content()) != text:
            continue
        top = el  # the widest element showing just this text (the cell around <font><b>)
        for a in el.iterancestors():
            if normalize_line(a.text_content()) != text:
                break
            top = a
        return top, text
    return None, None


# --------------------------------------------------------------------------- lines


def html_lines(root, container, dropped: list[str] | None = None) -> list[Line]:
    """Lines of text of ``container`` (an element or a run of siblings) in reading order.

    ``hard`` marks paragraph starts; table rows are lines of kind ``table-row``.  The text
    of form controls and embedded objects is appended to ``dropped`` (when given).
    """
    parts = container if isinstance(container, list) else [container]
    lines: list[Line] = []
    buf: list[str] = []
    state = {"hard": True, "br": False}

    def flush(hard_next: bool, kind: str = "para") -> None:
        text = normalize_line("".join(buf), table=kind == "table-row")
        buf.clear()
        if text:
            lines.append(Line(text, 0, None, hard=state["hard"] or kind != "para", kind=kind))
            state["hard"] = hard_next
        elif hard_next:
            state["hard"] = True

    def walk(el, tail: bool = True) -> None:
        tag = _tag(el)
        if tag in _SKIP or not isinstance(el.tag, str):
            pass
        elif tag in _CONTROLS:
            if dropped is not None:
                t = normalize_line(" ".join(el.itertext()))
                if t:
                    dropped.append(t)
        elif tag == "tr":
            flush(True)
            cells = [normalize_line(c.text_content()) for c in el if _tag(c) in ("td", "th")]
            other = [c for c in el if _tag(c) not in ("td", "th")]
            buf.append("\t".join(c for c in cells if c))  # normalize_line turns tabs into " | "
            for c in other:  # stray text or elements in a row (malformed tables)
                walk(c)
            flush(True, kind="table-row")
        elif tag == "br":
            hard = state["br"] and not normalize_line("".join(buf))
            flush(False)
            if hard or _INDENT.match(el.tail or ""):
                state["hard"] = True
            state["br"] = True
        else:
            block = tag in _BLOCK
            if block:
                flush(True)
            if el.text:
                buf.append(el.text)
                state["br"] = state["br"] and not el.text.strip()
            for child in el:
                walk(child)
            if block:
                flush(True)
        if tail and el.tail:
            buf.append(el.tail)
            if el.tail.strip() and tag != "br":
                state["br"] = False

    for k, p in enumerate(parts):
        walk(p, tail=k < len(parts) - 1)
    flush(True)
    for i, ln in enumerate(lines, 1):
        ln.lineno = i
    return lines


def _rejoin_cut_lines(lines: list[Line], lang: str) -> list[Line]:
    """Mend paragraph breaks that fall inside a sentence: returns the lines, such a line joined
    onto the one before it.

    A paragraph does not end on a Han character in the middle of a sentence; pages exported
    from a word processor (and collections scraped from them) break paragraphs mid-line
    (``…发挥表率</p><p>作用。``, ``…从事以下行</p><p>为：``).  The break is mended where the
    line before ends on a Han character, the next line starts no clause label and is no header,
    footer or signature line (a document number ``法释〔2024〕10号``), a word runs
    across the break (:func:`.layout.straddles_word`), and the line before reads as a sentence
    (punctuation inside it, or a clause label and some length), not as a title or heading.  A long line that merely stops without
    punctuation is left alone: in the real texts that is as often a paragraph missing its
    ``。`` as a cut sentence.  The first line (a title) is never joined onto."""
    out: list[Line] = []
    for ln in lines:
        prev = out[-1] if len(out) > 1 else None
        if (prev is not None and ln.kind == "para" and prev.kind == "para" and _HAN_END.search(prev.text)
                and (_SENTENCE_MARK.search(prev.text) or (match_label(prev.text) is not None and len(prev.text) >= 16))
                and match_label(ln.text) is None
                and not (is_header_line(ln.text) or is_footer_start(ln.text) or is_signature_line(ln.text))
                and straddles_word(prev.text, ln.text, lang)):
            prev.text += ln.text  # after a Han character: no space
            continue
        out.append(ln)
    return out


_HAN_END = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]$")
#: punctuation inside a sentence: a line without any (and without a clause label) is a title or
#: heading, never joined onto (``…若干问题的解释</p><p>法释〔2024〕10号``)
_SENTENCE_MARK = re.compile(r"[，,、；;：:“”《》（）]")


def _outside_text(root, parts, keep) -> list[str]:
    """Text of the page body that is not in ``parts`` nor in ``keep`` (lines, in order)."""
    skip = {id(p) for p in parts} | {id(k) for k in keep if k is not None}
    inner_tails = {id(p) for p in parts[:-1]}  # between two parts: inside the body
    body = root.find("body")
    if body is None:
        body = root
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        t = normalize_line(" ".join(buf))
        buf.clear()
        if t:
            out.append(t)

    def walk(el) -> None:
        tag = _tag(el)
        if id(el) in skip:
            flush()
            return
        if tag in _SKIP or not isinstance(el.tag, str):
            return
        block = tag in _BLOCK or tag in _CONTROLS or tag == "br"
        if block:
            flush()
        if el.text:
            buf.append(el.text)
        for child in el:
            walk(child)
            if child.tail and id(child) not in inner_tails:
                buf.append(child.tail)
        if block:
            flush()

    walk(body)
    flush()
    return out


# --------------------------------------------------------------------------- the page


def parse_html(data: bytes, *, doc_id: str, lang: str = "zh", name: str = "<html>") -> ParseResult:
    """Parse a government web page into a clause tree.

    Header facts that sit outside the article body (the info table with 发文字号, 成文日期,
    发布日期, 发文机关 that many sites show) are read from the whole page; the page
    ``<title>`` is used when the body has no title of its own.

    Notes
    -----
    Linear in the size of the page: decoding, flattening deep nesting and lxml's parse are
    single passes; the body search visits each element a bounded number of times (ancestor
    chains are at most :data:`MAX_DEPTH` long); lines and paragraphs are one pass each.
    """
    from lxml import etree, html as lhtml

    text, warnings = _decode(data, name, lang)
    text = strip_invisible(text, warnings)
    if not text.strip():
        return build([], doc_id=doc_id, lang=lang, warnings=warnings)
    text, flattened = cap_depth(text)
    if flattened:
        warnings.append(ParseWarning(
            "deep-nesting",
            f"{flattened} tag(s) nested deeper than {MAX_DEPTH} levels were flattened (their text is kept)",
        ))
    text = split_long_text(text)
    parser = lhtml.HTMLParser(encoding="utf-8", no_network=True, remove_comments=True, remove_pis=True, huge_tree=False)
    try:
        root = lhtml.document_fromstring(text.encode("utf-8", "surrogatepass"), parser=parser)
    except (etree.ParserError, ValueError) as exc:
        if not text.strip("<>/ \t\r\n"):
            return build([], doc_id=doc_id, lang=lang, warnings=warnings)
        raise ParseError(f"{name}: not a parsable HTML page ({exc})") from None
    parts = find_body(root)
    dropped: list[str] = []
    lines = html_lines(root, parts, dropped)
    lines = _rejoin_cut_lines(lines, lang)
    # the page title (h1) often sits just outside the article body: it is part of the document
    heading_el, heading = _page_heading(root, parts)
    if heading and not any(heading == ln.text for ln in lines[:3]):
        lines.insert(0, Line(heading, 0, None, hard=True))
        if len(lines) > 1:
            lines[1].hard = True
    dropped = _outside_text(root, parts, [heading_el] if heading else []) + dropped
    if dropped:
        size = sum(len(re.sub(r"\s+", "", d)) for d in dropped)
        warnings.append(ParseWarning(
            "outside-body",
            f"{size} character(s) of page text outside the article body (navigation, links, site footer, "
            f"form controls) left out: " + " / ".join(dropped),
        ))
    if not lines:
        warnings.append(ParseWarning("empty", f"{name}: no article text found in the page"))
    blocks = assemble(lines, lang=lang, wrapped=False)
    res = build(blocks, doc_id=doc_id, lang=lang, warnings=warnings)
    # facts from the page around the body
    page_lines = [normalize_line(t) for t in root.itertext()]
    page_text = "\n".join(t for t in page_lines if t)
    m = re.search(r"发文字号\s*[：:]?\s*\n?\s*([^\n|]{4,30}号)", page_text)
    if m and not res.doc_number:
        res.doc_number = re.sub(r"\s+", "", m.group(1))
    for key, fld in (("成文日期", "signed"), ("发布日期", "published"), ("发布时间", "published")):
        m = re.search(key + r"\s*[：:]?\s*\n?\s*([0-9年月日\-]{8,12})", page_text)
        if m and fld not in res.dates and (d := _iso(m.group(1))):
            res.dates[fld] = d
    m = re.search(r"发文机关\s*[：:]?\s*\n?\s*([^\n|]{2,60})", page_text)
    if m and not res.issuers:
        res.issuers = _split_names(m.group(1))
    if not res.parsed_title:
        t = root.find(".//title")
        if t is not None and t.text_content().strip():
            res.parsed_title = normalize_line(t.text_content())
    return res
