"""HTML pages of Chinese government sites.

The article body is found among navigation, scripts and footers (known containers such as
``TRS_Editor`` or ``zoom`` first, else the element whose paragraphs hold the most CJK text);
``<p>`` elements are paragraphs, ``<br>`` a line break inside one, tables are kept as text
(one line per row, cells separated by `` | ``).  Parsing is safe: lxml's HTML parser with
network access off; HTML has no external entities to expand.
"""

from __future__ import annotations

import re

from ..errors import ParseError
from ..model import ParseWarning
from .decode import decode_bytes
from .layout import Line, assemble, normalize_line
from .structure import ParseResult, build, _iso, _split_names

__all__ = ["parse_html", "html_lines"]

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_DROP = {"script", "style", "noscript", "iframe", "form", "button", "select", "input", "nav", "footer", "header",
         "object", "embed", "svg", "canvas", "template", "textarea"}
_BLOCK = {"p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "table", "tr",
          "blockquote", "pre", "center", "dl", "dt", "dd", "hr", "td", "th", "tbody", "thead"}
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
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _decode(data: bytes, name: str, lang: str) -> tuple[str, list[ParseWarning]]:
    m = _META_CHARSET.search(data[:4096])
    enc = m.group(1).decode("ascii").lower() if m else ""
    if enc in ("gb2312", "gbk"):
        enc = "gb18030"  # supersets: pages labelled gb2312 often contain GBK characters
    try:
        text, _, warnings = decode_bytes(data, name=name, lang=lang, encoding=enc)
    except ParseError:
        if not enc:
            raise
        text, _, warnings = decode_bytes(data, name=name, lang=lang)
    return text, warnings


def _body(root):
    for xp in _KNOWN_BODY:
        found = [el for el in root.xpath(xp) if len(_CJK.findall(el.text_content())) > 50]
        if found:
            return max(found, key=lambda el: len(_CJK.findall(el.text_content())))
    scores: dict = {}
    for p in root.iter("p"):
        parent = p.getparent()
        if parent is None:
            continue
        n = len(_CJK.findall(p.text_content()))
        links = sum(len(_CJK.findall(a.text_content())) for a in p.iter("a"))
        scores[parent] = scores.get(parent, 0) + n - 2 * links
    if scores:
        best = max(scores, key=scores.get)
        if scores[best] > 20:
            return best
    body = root.find("body")
    return body if body is not None else root


def _page_heading(root, container) -> str | None:
    """The article's heading when it stands outside the body container (``<h1>``, ``.title``)."""
    body_text = container.text_content()
    for xp in ("//h1", "//*[contains(@class, 'art-title') or contains(@class, 'article-title')]", "//h2"):
        for el in root.xpath(xp):
            if el is container or container in el.iterancestors() or el in container.iterdescendants():
                continue
            t = normalize_line(el.text_content())
            if len(_CJK.findall(t)) >= 6 and t not in body_text:
                return t
    return None


def html_lines(root, container) -> list[Line]:
    """Lines of text of ``container`` in reading order; ``hard`` marks paragraph starts."""
    lines: list[Line] = []
    buf: list[str] = []
    state = {"hard": True}

    def flush(hard_next: bool) -> None:
        text = normalize_line("".join(buf))
        buf.clear()
        if text:
            line = Line(text, 0, None, hard=state["hard"])
            lines.append(line)
            state["hard"] = hard_next
        elif hard_next:
            state["hard"] = True

    def walk(el) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.lower()
        if tag in _DROP:
            if el.tail:
                buf.append(el.tail)
            return
        if tag == "tr":
            flush(True)
            cells = [normalize_line(c.text_content()) for c in el if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")]
            row = "\t".join(c for c in cells if c)  # normalize_line turns tabs into " | "
            if row:
                state["hard"] = True
                buf.append(row)
                flush(True)
            if el.tail:
                buf.append(el.tail)
            return
        if tag == "br":
            flush(False)
            if el.tail:
                buf.append(el.tail)
            return
        block = tag in _BLOCK
        if block:
            flush(True)
        if el.text:
            buf.append(el.text)
        for child in el:
            walk(child)
        if block:
            flush(True)
        if el.tail:
            buf.append(el.tail)

    walk(container)
    flush(True)
    for i, ln in enumerate(lines, 1):
        ln.lineno = i
    return lines


def parse_html(data: bytes, *, doc_id: str, lang: str = "zh", name: str = "<html>") -> ParseResult:
    """Parse a government web page into a clause tree.

    Header facts that sit outside the article body (the info table with 发文字号, 成文日期,
    发布日期, 发文机关 that many sites show) are read from the whole page; the page
    ``<title>`` is used when the body has no title of its own.
    """
    from lxml import etree, html as lhtml

    text, warnings = _decode(data, name, lang)
    if not text.strip():
        return build([], doc_id=doc_id, lang=lang, warnings=warnings)
    parser = lhtml.HTMLParser(encoding="utf-8", no_network=True, remove_comments=True, remove_pis=True, huge_tree=False)
    try:
        root = lhtml.document_fromstring(text.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(f"{name}: not a parsable HTML page ({exc})") from None
    container = _body(root)
    lines = html_lines(root, container)
    # the page title (h1) often sits just outside the article body: it is part of the document
    heading = _page_heading(root, container)
    if heading and not any(heading == ln.text for ln in lines[:3]):
        lines.insert(0, Line(heading, 0, None, hard=True))
        if len(lines) > 1:
            lines[1].hard = True
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
