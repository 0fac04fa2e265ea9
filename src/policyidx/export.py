"""Exports of an :class:`~policyidx.alignment.Alignment` for translators and readers.

- :func:`to_tsv`: one row per sentence bead (source text, target text, score, clause ids),
  UTF-8 with a byte-order mark so that Excel reads CJK text right;
- :func:`to_xlsx`: the same rows as an Excel workbook (needs ``openpyxl``: the ``web`` extra);
- :func:`to_tmx`: a TMX 1.4b translation memory, one ``<tu>`` per aligned sentence pair;
- :func:`to_html`: a self-contained side-by-side page that marks structural differences;
- :func:`render_terminal`: the same side by side as plain text, wrapped by display width;
- :func:`alignment_records`: JSON-ready records for ``policyidx align --json``.

Every writer builds its output in memory and replaces the target file atomically.

What the writers change in the text, all documented and reported:

- the label of an inline enumeration (``一是``, ``1つ目は``: clause kind ``enum``) is part of
  the sentence it opens, so it is put back in front of that sentence's text;
- characters that XML 1.0 forbids (C0 controls other than tab and newlines, lone
  surrogates, U+FFFE/U+FFFF) are replaced by U+FFFD in TMX, HTML and XLSX output, with an
  :class:`ExportWarning` naming the sentences;
- a TSV or XLSX text cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage
  return) gets a leading ``'`` so that a spreadsheet shows it as text instead of running
  it as a formula.
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from . import __version__
from ._io import atomic_write_bytes
from .alignment import Alignment, ClausePair
from .errors import PolicyIdxError
from .model import Clause, Document, Sentence
from .text.width import char_width, display_width

__all__ = [
    "ExportError",
    "ExportWarning",
    "alignment_records",
    "to_tsv",
    "to_xlsx",
    "to_tmx",
    "to_html",
    "html_lang",
    "clause_anchor",
    "bead_text",
    "pair_kind",
    "xml_safe",
    "spreadsheet_safe",
    "render_terminal",
    "TSV_COLUMNS",
    "tmx_lang",
    "display_width",
]

#: Header row of :func:`to_tsv` and :func:`to_xlsx`; ``review`` is the reviewer's verdict on
#: the clause pair (:func:`policyidx.review.review_status`), empty when nobody reviewed it.
TSV_COLUMNS = ("src_text", "tgt_text", "score", "src_clause", "tgt_clause", "src_sentences", "tgt_sentences", "review")

_TMX_LANGS = {"zh": "zh-CN", "ja": "ja-JP", "en": "en-US", "ko": "ko-KR"}
_HTML_LANGS = {"zh": "zh-Hans", "ja": "ja", "en": "en", "ko": "ko"}
# Characters XML 1.0 does not allow (tab, LF and CR are allowed).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportError(PolicyIdxError):
    """An alignment does not fit the documents given, or a file cannot be written."""


class ExportWarning(UserWarning):
    """An export replaced characters the output format cannot hold (the message names the sentences)."""


def html_lang(lang: str) -> str:
    """The HTML ``lang`` of a document language (``zh`` -> ``zh-Hans``, ``ja`` -> ``ja``), so
    that a browser draws each column with the glyph forms of its language."""
    return _HTML_LANGS.get(lang, lang)


def xml_safe(text: str) -> tuple[str, int]:
    """``text`` with the characters XML 1.0 forbids replaced by U+FFFD, and how many there were."""
    return _XML_ILLEGAL.subn("\ufffd", text)


def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula
    (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def tmx_lang(lang: str) -> str:
    """The TMX ``xml:lang`` of a document language (``zh`` -> ``zh-CN``, ``ja`` -> ``ja-JP``)."""
    return _TMX_LANGS.get(lang, lang)


# --------------------------------------------------------------------------- helpers


class _Lookup:
    """Sentence and clause lookups of the two documents, checked against the alignment."""

    def __init__(self, alignment: Alignment, src_doc: Document, tgt_doc: Document) -> None:
        if alignment.src != src_doc.id or alignment.tgt != tgt_doc.id:
            raise ExportError(
                f"the alignment is of {alignment.src!r} -> {alignment.tgt!r} but the documents given are "
                f"{src_doc.id!r} -> {tgt_doc.id!r}; pass the documents the alignment was made from, in that order"
            )
        self.src_doc, self.tgt_doc = src_doc, tgt_doc
        self.sentences: dict[str, Sentence] = {}
        self.prefix: dict[str, str] = {}
        for doc in (src_doc, tgt_doc):
            for c in doc.clauses:
                for s in c.sentences:
                    self.sentences[s.id] = s
                if c.kind == "enum" and c.sentences:
                    label = _enum_label(doc, c)
                    if label:
                        self.prefix[c.sentences[0].id] = label
        self.replaced: dict[str, int] = {}
        self.review = (alignment.params.get("review") or {}).get("status") or {}
        self.beads = (alignment.params.get("review") or {}).get("beads") or {}

    def text(self, ids: tuple[str, ...]) -> list[str]:
        out = []
        for sid in ids:
            try:
                out.append(self.prefix.get(sid, "") + self.sentences[sid].text)
            except KeyError:
                raise ExportError(
                    f"sentence {sid!r} of the alignment is not in the documents; the documents changed "
                    "since the alignment was made: align them again"
                ) from None
        return out

    def clean(self, text: str, ids: tuple[str, ...]) -> str:
        """``text`` made XML-safe; replacements are counted per sentence for the warning."""
        out, n = xml_safe(text)
        if n:
            key = " ".join(ids)
            self.replaced[key] = self.replaced.get(key, 0) + n
        return out

    def warn(self, fmt: str, path: str | os.PathLike[str]) -> None:
        if self.replaced:
            total = sum(self.replaced.values())
            where = ", ".join(list(self.replaced)[:5]) + (" ..." if len(self.replaced) > 5 else "")
            warnings.warn(
                f"{fmt} export {path}: {total} character(s) that {fmt} cannot hold replaced by U+FFFD in {where}",
                ExportWarning,
                stacklevel=3,
            )

    def status(self, cp: ClausePair, bead: Any = None) -> str:
        """The reviewer's verdict on a sentence bead, else on its clause pair ("" if none)."""
        if bead is not None:
            found = self.beads.get(" ".join(bead.src) + " => " + " ".join(bead.tgt))
            if found:
                return str(found)
        return str(self.review.get(" ".join(cp.src) + " => " + " ".join(cp.tgt), ""))

    def clause_of(self, sid: str) -> str:
        return self.sentences[sid].clause


def _enum_label(doc: Document, clause: Clause) -> str:
    """The printed label of an inline enumeration as it stands before its first sentence
    (``一是``, ``1つ目は``), from the document text."""
    first = clause.sentences[0]
    if not (0 <= clause.label_start <= first.start <= len(doc.text)):
        return clause.label
    head = doc.text[clause.label_start:first.start]
    return head if head.strip() else clause.label


def bead_text(texts: list[str]) -> str:
    """The sentences of one bead as one segment, as every writer exports it: PDF line breaks
    and spacing inside CJK text dropped, runs of spaces in Latin text made one."""
    return _joined(texts)


def _joined(texts: list[str]) -> str:
    # Sentences of one bead are read as one segment; PDF line breaks inside them are noise.
    return "".join(" ".join(t.split()) if t.isascii() else "".join(t.split()) for t in texts)


def _atomic_write(path: str | os.PathLike[str], data: bytes) -> Path:
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise ExportError(f"cannot write {target}: directory {directory} does not exist; create it first")
    return atomic_write_bytes(target, data)


def _clause_label(cid: str) -> str:
    return cid.split("#", 1)[1] if "#" in cid else cid


def pair_kind(cp: ClausePair) -> str:
    """How a clause pair differs in structure: ``unpaired``, ``split`` (one source clause, several
    target clauses), ``merged``, ``renumbered`` (paired across different paths) or ``same``."""
    return _pair_kind(cp)


def _pair_kind(cp: ClausePair) -> str:
    """``unpaired``, ``split``/``merged``, ``renumbered`` or ``same``."""
    if not cp.src or not cp.tgt:
        return "unpaired"
    if len(cp.src) == 1 and len(cp.tgt) > 1:
        return "split"
    if len(cp.src) > 1:
        return "merged"
    if _clause_label(cp.src[0]) != _clause_label(cp.tgt[0]):
        return "renumbered"
    return "same"


# --------------------------------------------------------------------------- records


def alignment_records(alignment: Alignment, src_doc: Document, tgt_doc: Document) -> list[dict[str, Any]]:
    """JSON-ready records of an alignment, one per clause pair (the CLI's ``--json``).

    Parameters
    ----------
    alignment : Alignment
        The alignment of ``src_doc`` with ``tgt_doc``.
    src_doc, tgt_doc : Document
        The documents, for the sentence texts.

    Returns
    -------
    list of dict
        ``{"src": [clause ids], "tgt": [clause ids], "score", "method", "kind", "sentences":
        [{"src": [texts], "tgt": [texts], "src_ids", "tgt_ids", "score"}]}``; either clause
        list may be empty.

    Raises
    ------
    ExportError
        If the alignment was made from other documents.
    """
    look = _Lookup(alignment, src_doc, tgt_doc)
    out: list[dict[str, Any]] = []
    for cp in alignment.pairs:
        out.append(
            {
                "src": list(cp.src),
                "tgt": list(cp.tgt),
                "score": round(float(cp.score), 6),
                "method": cp.method,
                "kind": _pair_kind(cp),
                "sentences": [
                    {
                        "src": look.text(sp.src),
                        "tgt": look.text(sp.tgt),
                        "src_ids": list(sp.src),
                        "tgt_ids": list(sp.tgt),
                        "score": round(float(sp.score), 6),
                    }
                    for sp in cp.sentences
                ],
            }
        )
    return out


# --------------------------------------------------------------------------- TSV


def to_tsv(
    alignment: Alignment, src_doc: Document, tgt_doc: Document, path: str | os.PathLike[str], *, unaligned: bool = True
) -> Path:
    """Write one row per sentence bead as tab-separated values (UTF-8 with BOM, header row first).

    Columns are :data:`TSV_COLUMNS`: the source and target text of the bead (sentences of a
    2-1 bead joined), its score, the clause ids of each side, the sentence ids and the
    review status of the clause pair.  The byte-order mark lets Excel detect UTF-8; text
    cells that a spreadsheet would run as a formula get a leading ``'``
    (:func:`spreadsheet_safe`).

    Parameters
    ----------
    alignment : Alignment
        The alignment of ``src_doc`` with ``tgt_doc``.
    src_doc, tgt_doc : Document
        The documents, for the sentence texts.
    path : path-like
        The file to write (replaced atomically).
    unaligned : bool
        Also write 1-0 and 0-1 beads (one cell empty), so a reviewer sees what has no
        counterpart; ``False`` writes aligned pairs only.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(TSV_COLUMNS)
    for row in _rows(alignment, src_doc, tgt_doc, unaligned=unaligned, clean=False)[0]:
        writer.writerow(row)
    return _atomic_write(path, buf.getvalue().encode("utf-8-sig"))


@dataclass(frozen=True)
class _Bead:
    """One sentence bead as the tabular writers (TSV, XLSX, TMX) export it."""

    src_ids: tuple[str, ...]
    tgt_ids: tuple[str, ...]
    src_text: str
    tgt_text: str
    score: str
    src_clauses: str
    tgt_clauses: str
    review: str

    def row(self) -> list[str]:
        """The cells of :data:`TSV_COLUMNS`, text cells made spreadsheet-safe."""
        return [spreadsheet_safe(self.src_text), spreadsheet_safe(self.tgt_text), self.score, self.src_clauses,
                self.tgt_clauses, " ".join(self.src_ids), " ".join(self.tgt_ids), self.review]


def _beads(look: _Lookup, alignment: Alignment, *, unaligned: bool, clean: bool) -> Iterator[_Bead]:
    """The sentence beads of an alignment, in order, with what every tabular writer exports
    of them: joined texts (XML-safe when ``clean``), score, clause ids of each side, review
    verdict.  1-0 and 0-1 beads only when ``unaligned``."""
    for cp in alignment.pairs:
        for sp in cp.sentences:
            if not unaligned and (not sp.src or not sp.tgt):
                continue
            status = look.status(cp, sp)
            src_text, tgt_text = _joined(look.text(sp.src)), _joined(look.text(sp.tgt))
            if clean:
                src_text, tgt_text = look.clean(src_text, sp.src), look.clean(tgt_text, sp.tgt)
            yield _Bead(src_ids=tuple(sp.src), tgt_ids=tuple(sp.tgt), src_text=src_text, tgt_text=tgt_text,
                        score=f"{sp.score:.4f}",
                        src_clauses=" ".join(dict.fromkeys(look.clause_of(s) for s in sp.src)),
                        tgt_clauses=" ".join(dict.fromkeys(look.clause_of(s) for s in sp.tgt)),
                        review=status)


def _rows(alignment: Alignment, src_doc: Document, tgt_doc: Document, *, unaligned: bool,
          clean: bool) -> tuple[list[list[str]], _Lookup]:
    """The rows of :data:`TSV_COLUMNS` (the TSV and XLSX writers), text cells made
    spreadsheet-safe (and XML-safe when ``clean``)."""
    look = _Lookup(alignment, src_doc, tgt_doc)
    return [bead.row() for bead in _beads(look, alignment, unaligned=unaligned, clean=clean)], look


# --------------------------------------------------------------------------- XLSX


def to_xlsx(
    alignment: Alignment, src_doc: Document, tgt_doc: Document, path: str | os.PathLike[str], *, unaligned: bool = True
) -> Path:
    """Write the rows of :func:`to_tsv` as an Excel workbook (one sheet, header row frozen).

    Every cell is stored as text (a cell starting with ``=`` is never a formula; it also
    gets the leading ``'`` of :func:`spreadsheet_safe`, as in the TSV), long texts wrap,
    and characters a workbook cannot hold are replaced (:class:`ExportWarning`).

    Parameters
    ----------
    alignment : Alignment
        The alignment of ``src_doc`` with ``tgt_doc``.
    src_doc, tgt_doc : Document
        The documents, for the sentence texts.
    path : path-like
        The file to write (replaced atomically).
    unaligned : bool
        Also write 1-0 and 0-1 beads, as in :func:`to_tsv`.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    MissingDependencyError
        If ``openpyxl`` is not installed (``pip install "policyidx[web]"``).
    """
    try:
        from openpyxl import Workbook
        from openpyxl.styles import Alignment as CellAlignment
        from openpyxl.styles import Font
    except ImportError:
        from .errors import MissingDependencyError

        raise MissingDependencyError('XLSX export needs openpyxl: pip install "policyidx[web]"') from None
    rows, look = _rows(alignment, src_doc, tgt_doc, unaligned=unaligned, clean=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "alignment"
    ws.append(list(TSV_COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    wrap = CellAlignment(wrap_text=True, vertical="top")
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            cell.value = value
            cell.data_type = "s"  # text, whatever it starts with
            if c <= 2:
                cell.alignment = wrap
    for letter, width in zip("ABCDEFGH", (60, 60, 8, 26, 26, 30, 30, 11)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    look.warn("XLSX", path)
    return _atomic_write(path, buf.getvalue())


# --------------------------------------------------------------------------- TMX


def to_tmx(alignment: Alignment, src_doc: Document, tgt_doc: Document, path: str | os.PathLike[str]) -> Path:
    """Write the aligned sentence pairs as a TMX 1.4b translation memory.

    One ``<tu>`` per bead with sentences on both sides (1-0 and 0-1 beads are skipped), with
    a ``<tuv>`` per language (``xml:lang`` from the document languages, ``zh-CN``/``ja-JP``),
    and ``<prop>`` elements ``x-clause-id`` (the clause ids of each side), ``x-doc-id``,
    ``x-sentence-id`` and ``x-score``.  Characters XML cannot hold are replaced by U+FFFD
    and reported (:class:`ExportWarning`).

    Parameters
    ----------
    alignment : Alignment
        The alignment of ``src_doc`` with ``tgt_doc``.
    src_doc, tgt_doc : Document
        The documents, for the sentence texts and languages.
    path : path-like
        The file to write (replaced atomically).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    from lxml import etree

    look = _Lookup(alignment, src_doc, tgt_doc)
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    root = etree.Element("tmx", version="1.4")
    etree.SubElement(
        root,
        "header",
        creationtool="policyidx",
        creationtoolversion=__version__,
        datatype="plaintext",
        segtype="sentence",
        adminlang="en",
        srclang=tmx_lang(src_doc.lang),
        **{"o-tmf": "policyidx"},
    )
    body = etree.SubElement(root, "body")
    for bead in _beads(look, alignment, unaligned=False, clean=True):
        tu = etree.SubElement(body, "tu")
        etree.SubElement(tu, "prop", type="x-score").text = bead.score
        if bead.review:
            etree.SubElement(tu, "prop", type="x-review").text = bead.review
        for doc, ids, clauses, text in ((src_doc, bead.src_ids, bead.src_clauses, bead.src_text),
                                        (tgt_doc, bead.tgt_ids, bead.tgt_clauses, bead.tgt_text)):
            tuv = etree.SubElement(tu, "tuv")
            tuv.set(xml_lang, tmx_lang(doc.lang))
            etree.SubElement(tuv, "prop", type="x-doc-id").text = doc.id
            etree.SubElement(tuv, "prop", type="x-clause-id").text = clauses
            etree.SubElement(tuv, "prop", type="x-sentence-id").text = " ".join(ids)
            etree.SubElement(tuv, "seg").text = text
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    look.warn("TMX", path)
    return _atomic_write(path, data)


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans CJK JP","Hiragino Sans","Microsoft YaHei",sans-serif;margin:1.5em;color:#222}
:lang(ja){font-family:"Noto Sans CJK JP","Hiragino Sans","Yu Gothic","Meiryo",sans-serif}
:lang(zh-Hans){font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif}
h1{font-size:1.3em}
table{border-collapse:collapse;width:100%;table-layout:fixed}
td,th{border-top:1px solid #ddd;padding:.35em .6em;vertical-align:top;line-height:1.6}
th{background:#f4f4f4;text-align:left}
tr.clause td{background:#eef3fb;font-weight:bold;border-top:2px solid #9bb}
tr.clause.unpaired td{background:#fde8e8}
tr.clause.renumbered td,tr.clause.split td,tr.clause.merged td{background:#fff4d6}
td.score{width:4.5em;text-align:right;color:#666;font-variant-numeric:tabular-nums}
td.missing{background:#fafafa;color:#aaa;font-style:italic}
.badge{display:inline-block;font-size:.75em;font-weight:normal;padding:0 .4em;margin-left:.5em;border-radius:.3em;background:#ddd}
.badge.unpaired,.badge.rejected{background:#f4b4b4}.badge.renumbered,.badge.split,.badge.merged{background:#f3d27a}
.badge.confirmed,.badge.linked,.badge.joined{background:#b9e3c0}
.id{color:#777;font-weight:normal;font-size:.85em}
:target td,tr:target td{outline:2px solid #f0a500}
"""

_BADGE_TEXT = {
    "unpaired": "no counterpart",
    "renumbered": "renumbered",
    "split": "split",
    "merged": "merged",
}


def clause_anchor(clause_id: str) -> str:
    """The ``id=`` of a clause in exported and served HTML: ``<doc>:<path>``
    (``zgc-2019-ipap.ja:3.2.6``), a fragment that needs no escaping in a URL."""
    return clause_id.replace("#", ":", 1)


def _heading(doc: Document, ids: tuple[str, ...]) -> str:
    """Label and path of each clause (its title is the first sentence row below)."""
    parts = []
    for cid in ids:
        try:
            clause = doc.clause(cid)
        except KeyError:
            raise ExportError(f"clause {cid!r} of the alignment is not in {doc.id!r}; align the documents again") from None
        parts.append(
            f'<span id="{html.escape(clause_anchor(cid))}"><a class="id" href="#{html.escape(clause_anchor(cid))}">'
            f"{html.escape(_clause_label(cid))}</a> {html.escape(clause.label)}</span>"
        )
    return "<br>".join(parts)


def to_html(
    alignment: Alignment, src_doc: Document, tgt_doc: Document, path: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Write a self-contained side-by-side HTML page of the alignment.

    Clause headings are rows of their own (path and printed label, with an ``id=`` anchor
    per clause, see :func:`clause_anchor`), marked when the pair is not a plain same-number
    match (no counterpart, renumbered, split or merged) and with the reviewer's verdict when
    there is one; each sentence bead is a row with the source text, the target text and the
    score.  Each column carries the ``lang`` of its document (:func:`html_lang`), so Japanese
    is drawn with Japanese glyph forms and Chinese with Chinese ones.  All text is escaped;
    the CSS is inline and the page loads nothing from elsewhere.

    Parameters
    ----------
    alignment : Alignment
        The alignment of ``src_doc`` with ``tgt_doc``.
    src_doc, tgt_doc : Document
        The documents, for headings and sentence texts.
    path : path-like
        The file to write (replaced atomically).
    title : str, optional
        Page title; default ``"<src> ↔ <tgt>"``.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    look = _Lookup(alignment, src_doc, tgt_doc)
    page_title = title or f"{src_doc.id} ↔ {tgt_doc.id}"
    la, lb = html.escape(html_lang(src_doc.lang)), html.escape(html_lang(tgt_doc.lang))
    out = io.StringIO()
    w = out.write
    w("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
    w(f"<title>{html.escape(page_title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n")
    w(f"<h1>{html.escape(page_title)}</h1>\n")
    w(
        f"<p><span lang=\"{la}\">{html.escape(src_doc.title or src_doc.id)}</span> ({html.escape(src_doc.lang)}) — "
        f"<span lang=\"{lb}\">{html.escape(tgt_doc.title or tgt_doc.id)}</span> ({html.escape(tgt_doc.lang)}); "
        f"generated by policyidx {html.escape(__version__)}</p>\n"
    )
    w('<table>\n<colgroup><col style="width:47%"><col style="width:47%"><col style="width:6%"></colgroup>\n')
    w(
        f"<tr><th>{html.escape(src_doc.id)}</th><th>{html.escape(tgt_doc.id)}</th>"
        "<th>score</th></tr>\n"
    )
    for cp in alignment.pairs:
        kind = _pair_kind(cp)
        badge = ""
        if kind != "same":
            badge = f'<span class="badge {kind}">{_BADGE_TEXT[kind]}</span>'
        status = look.status(cp)
        if status:
            badge += f'<span class="badge {html.escape(status)}">{html.escape(status)}</span>'
        cls = "clause" if kind == "same" else f"clause {kind}"
        left = _heading(src_doc, cp.src) if cp.src else "—"
        right = _heading(tgt_doc, cp.tgt) if cp.tgt else "—"
        ids = " ".join(cp.src + cp.tgt)
        w(
            f'<tr class="{cls}" data-clauses="{html.escape(ids)}" data-method="{html.escape(cp.method)}">'
            f"<td>{left}{badge if cp.src else ''}</td><td>{right}{badge if not cp.src else ''}</td>"
            f'<td class="score">{cp.score:.2f}</td></tr>\n'
        )
        for sp in cp.sentences:
            src_text = html.escape(look.clean(_joined(look.text(sp.src)), sp.src))
            tgt_text = html.escape(look.clean(_joined(look.text(sp.tgt)), sp.tgt))
            src_cell = f'<td lang="{la}">{src_text}</td>' if sp.src else '<td class="missing">(none)</td>'
            tgt_cell = f'<td lang="{lb}">{tgt_text}</td>' if sp.tgt else '<td class="missing">(none)</td>'
            w(f'<tr class="sentence">{src_cell}{tgt_cell}<td class="score">{sp.score:.2f}</td></tr>\n')
    w("</table>\n</body>\n</html>\n")
    look.warn("HTML", path)
    return _atomic_write(path, out.getvalue().encode("utf-8"))


# --------------------------------------------------------------------------- terminal


def _wrap(text: str, width: int) -> list[str]:
    """Wrap by display width; CJK text breaks anywhere, Latin words are kept whole if they fit."""
    lines: list[str] = []
    for para in text.split("\n"):
        cur, cur_w = "", 0
        for token in _tokens(para):
            tw = display_width(token)
            if cur_w + tw > width and cur:
                lines.append(cur.rstrip())
                cur, cur_w = "", 0
                if token == " ":
                    continue
            if tw > width:  # a Latin run longer than the column: cut it
                for ch in token:
                    cw = char_width(ch)
                    if cur_w + cw > width and cur:
                        lines.append(cur)
                        cur, cur_w = "", 0
                    cur += ch
                    cur_w += cw
                continue
            cur += token
            cur_w += tw
        lines.append(cur.rstrip())
    return lines or [""]


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    word = ""
    for ch in text:
        if ch.isascii() and not ch.isspace():
            word += ch
            continue
        if word:
            out.append(word)
            word = ""
        out.append(" " if ch.isspace() else ch)
    if word:
        out.append(word)
    return out


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def render_terminal(alignment: Alignment, src_doc: Document, tgt_doc: Document, width: int | None = None) -> str:
    """A side-by-side view of the alignment for a terminal.

    Each clause pair starts with a heading line (clause ids, method, score and a mark for
    renumbered, split, merged or unpaired clauses), then its sentence beads in two columns
    wrapped by display width (a CJK character takes two columns).

    Parameters
    ----------
    alignment : Alignment
        The alignment of ``src_doc`` with ``tgt_doc``.
    src_doc, tgt_doc : Document
        The documents, for the sentence texts.
    width : int, optional
        Total width in columns; default the terminal's width (80 when unknown).

    Returns
    -------
    str
        The rendered text, lines joined by ``\\n``.
    """
    look = _Lookup(alignment, src_doc, tgt_doc)
    total = width or shutil.get_terminal_size((80, 24)).columns
    total = max(total, 24)
    gutter = " │ "
    col = (total - len(gutter)) // 2
    lines: list[str] = []
    for cp in alignment.pairs:
        kind = _pair_kind(cp)
        mark = "" if kind == "same" else f" [{_BADGE_TEXT[kind]}]"
        left = " + ".join(_clause_label(c) for c in cp.src) or "—"
        right = " + ".join(_clause_label(c) for c in cp.tgt) or "—"
        head = f"── {left} ↔ {right}  {cp.method} {cp.score:.2f}{mark} "
        if display_width(head) > total:
            lines.extend(_wrap(head.rstrip(), total))
        else:
            lines.append(head + "─" * (total - display_width(head)))
        for sp in cp.sentences:
            a = _wrap(_joined(look.text(sp.src)), col) if sp.src else ["·"]
            b = _wrap(_joined(look.text(sp.tgt)), col) if sp.tgt else ["·"]
            for k in range(max(len(a), len(b))):
                la = a[k] if k < len(a) else ""
                lb = b[k] if k < len(b) else ""
                lines.append((_pad(la, col) + gutter + lb).rstrip())
    return "\n".join(lines)
