"""Exports of an :class:`~policyidx.alignment.Alignment` for translators and readers.

- :func:`to_tsv`: one row per sentence bead (source text, target text, score, clause ids);
- :func:`to_tmx`: a TMX 1.4b translation memory, one ``<tu>`` per aligned sentence pair;
- :func:`to_html`: a self-contained side-by-side page that marks structural differences;
- :func:`render_terminal`: the same side by side as plain text, wrapped by display width;
- :func:`alignment_records`: JSON-ready records for ``policyidx align --json``.

Every writer builds its output in memory and replaces the target file atomically.
"""

from __future__ import annotations

import csv
import html
import io
import os
import shutil
from pathlib import Path
from typing import Any

from . import __version__
from ._io import atomic_write_bytes
from .alignment import Alignment, ClausePair
from .errors import PolicyIdxError
from .model import Document, Sentence
from .text.width import char_width, display_width

__all__ = [
    "ExportError",
    "alignment_records",
    "to_tsv",
    "to_tmx",
    "to_html",
    "render_terminal",
    "TSV_COLUMNS",
    "tmx_lang",
    "display_width",
]

#: Header row of :func:`to_tsv`.
TSV_COLUMNS = ("src_text", "tgt_text", "score", "src_clause", "tgt_clause", "src_sentences", "tgt_sentences")

_TMX_LANGS = {"zh": "zh-CN", "ja": "ja-JP", "en": "en-US", "ko": "ko-KR"}


class ExportError(PolicyIdxError):
    """An alignment does not fit the documents given, or a file cannot be written."""


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
        self.sentences: dict[str, Sentence] = {
            s.id: s for doc in (src_doc, tgt_doc) for c in doc.clauses for s in c.sentences
        }

    def text(self, ids: tuple[str, ...]) -> list[str]:
        out = []
        for sid in ids:
            try:
                out.append(self.sentences[sid].text)
            except KeyError:
                raise ExportError(
                    f"sentence {sid!r} of the alignment is not in the documents; the documents changed "
                    "since the alignment was made: align them again"
                ) from None
        return out

    def clause_of(self, sid: str) -> str:
        return self.sentences[sid].clause


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
    """Write one row per sentence bead as tab-separated values (UTF-8, header row first).

    Columns are :data:`TSV_COLUMNS`: the source and target text of the bead (sentences of a
    2-1 bead joined), its score, the clause ids of each side, and the sentence ids.

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
    look = _Lookup(alignment, src_doc, tgt_doc)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(TSV_COLUMNS)
    for cp in alignment.pairs:
        for sp in cp.sentences:
            if not unaligned and (not sp.src or not sp.tgt):
                continue
            writer.writerow(
                [
                    _joined(look.text(sp.src)),
                    _joined(look.text(sp.tgt)),
                    f"{sp.score:.4f}",
                    " ".join(dict.fromkeys(look.clause_of(s) for s in sp.src)),
                    " ".join(dict.fromkeys(look.clause_of(s) for s in sp.tgt)),
                    " ".join(sp.src),
                    " ".join(sp.tgt),
                ]
            )
    return _atomic_write(path, buf.getvalue().encode("utf-8"))


# --------------------------------------------------------------------------- TMX


def to_tmx(alignment: Alignment, src_doc: Document, tgt_doc: Document, path: str | os.PathLike[str]) -> Path:
    """Write the aligned sentence pairs as a TMX 1.4b translation memory.

    One ``<tu>`` per bead with sentences on both sides (1-0 and 0-1 beads are skipped), with
    a ``<tuv>`` per language (``xml:lang`` from the document languages, ``zh-CN``/``ja-JP``),
    and ``<prop>`` elements ``x-clause-id`` (the clause ids of each side), ``x-doc-id``,
    ``x-sentence-id`` and ``x-score``.

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
    for cp in alignment.pairs:
        for sp in cp.sentences:
            if not sp.src or not sp.tgt:
                continue
            tu = etree.SubElement(body, "tu")
            etree.SubElement(tu, "prop", type="x-score").text = f"{sp.score:.4f}"
            for doc, ids in ((src_doc, sp.src), (tgt_doc, sp.tgt)):
                tuv = etree.SubElement(tu, "tuv")
                tuv.set(xml_lang, tmx_lang(doc.lang))
                etree.SubElement(tuv, "prop", type="x-doc-id").text = doc.id
                etree.SubElement(tuv, "prop", type="x-clause-id").text = " ".join(
                    dict.fromkeys(look.clause_of(s) for s in ids)
                )
                etree.SubElement(tuv, "prop", type="x-sentence-id").text = " ".join(ids)
                etree.SubElement(tuv, "seg").text = _joined(look.text(ids))
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return _atomic_write(path, data)


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans CJK JP","Hiragino Sans","Microsoft YaHei",sans-serif;margin:1.5em;color:#222}
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
.badge.unpaired{background:#f4b4b4}.badge.renumbered,.badge.split,.badge.merged{background:#f3d27a}
.id{color:#777;font-weight:normal;font-size:.85em}
"""

_BADGE_TEXT = {
    "unpaired": "no counterpart",
    "renumbered": "renumbered",
    "split": "split",
    "merged": "merged",
}


def _heading(doc: Document, ids: tuple[str, ...]) -> str:
    parts = []
    for cid in ids:
        try:
            clause = doc.clause(cid)
        except KeyError:
            raise ExportError(f"clause {cid!r} of the alignment is not in {doc.id!r}; align the documents again") from None
        head = clause.heading() or clause.title or ""
        parts.append(f'<span class="id">{html.escape(_clause_label(cid))}</span> {html.escape(head)}')
    return "<br>".join(parts)


def to_html(
    alignment: Alignment, src_doc: Document, tgt_doc: Document, path: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Write a self-contained side-by-side HTML page of the alignment.

    Clause headings are rows of their own, marked when the pair is not a plain same-number
    match (no counterpart, renumbered, split or merged); each sentence bead is a row with
    the source text, the target text and the score.  All text is escaped; the CSS is inline
    and the page loads nothing from elsewhere.

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
    out = io.StringIO()
    w = out.write
    w("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
    w(f"<title>{html.escape(page_title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n")
    w(f"<h1>{html.escape(page_title)}</h1>\n")
    w(
        f"<p>{html.escape(src_doc.title or src_doc.id)} ({html.escape(src_doc.lang)}) — "
        f"{html.escape(tgt_doc.title or tgt_doc.id)} ({html.escape(tgt_doc.lang)}); "
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
        cls = "clause" if kind == "same" else f"clause {kind}"
        left = _heading(src_doc, cp.src) if cp.src else "—"
        right = _heading(tgt_doc, cp.tgt) if cp.tgt else "—"
        ids = " ".join(cp.src + cp.tgt)
        w(
            f'<tr class="{cls}" data-clauses="{html.escape(ids)}" data-method="{cp.method}">'
            f"<td>{left}{badge if cp.src else ''}</td><td>{right}{badge if not cp.src else ''}</td>"
            f'<td class="score">{cp.score:.2f}</td></tr>\n'
        )
        for sp in cp.sentences:
            src_text = html.escape(_joined(look.text(sp.src)))
            tgt_text = html.escape(_joined(look.text(sp.tgt)))
            src_cell = f"<td>{src_text}</td>" if sp.src else '<td class="missing">(none)</td>'
            tgt_cell = f"<td>{tgt_text}</td>" if sp.tgt else '<td class="missing">(none)</td>'
            w(f'<tr class="sentence">{src_cell}{tgt_cell}<td class="score">{sp.score:.2f}</td></tr>\n')
    w("</table>\n</body>\n</html>\n")
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
