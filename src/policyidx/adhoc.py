"""Ad hoc alignment of two files, with no corpus and no catalog.

:func:`align_files` is what ``policyidx align FILE_A FILE_B`` and the web page's upload form
run: each file is parsed with the corpus parsers (format and language detected from the
content, overridable), and the two documents are aligned with :func:`policyidx.align`.

>>> res = align_files("original.html", "translation.pdf")                 # doctest: +SKIP
>>> res.src.lang, res.tgt.lang, len(res.alignment.pairs)                  # doctest: +SKIP
('zh', 'ja', 34)
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .corpus import parse_document
from .errors import ParseError, QueryError
from .parsers import MAX_BYTES

if TYPE_CHECKING:  # pragma: no cover
    from .alignment import Alignment
    from .text.glossary import Glossary
    from .model import Document

__all__ = ["FileAlignment", "align_files", "document_from_bytes", "detect_format"]

FORMATS = ("text", "html", "pdf")
LANGS = ("zh", "ja", "en")
_HTML_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|div|p)\b",
                         re.IGNORECASE | re.DOTALL)


@dataclass
class FileAlignment:
    """The result of :func:`align_files`: the alignment and the two parsed documents."""

    alignment: Alignment
    src: Document
    tgt: Document


def detect_format(data: bytes, name: str = "") -> str:
    """``pdf``, ``html`` or ``text`` from the content (a PDF signature, an HTML start tag),
    falling back on the file extension.

    Parameters
    ----------
    data : bytes
        The file's content (its first kilobytes are enough).
    name : str
        The file name, for the extension.
    """
    head = data[:4096].lstrip(b"\xef\xbb\xbf")
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: decode to look for tags
        text = head.decode("utf-16", errors="ignore").encode("utf-8")
        return "html" if _HTML_START.match(text) else "text"
    if _HTML_START.match(head):
        return "html"
    ext = Path(name).suffix.lower()
    return {".html": "html", ".htm": "html", ".xhtml": "html", ".pdf": "pdf"}.get(ext, "text")


def _doc_id(name: str, lang: str) -> str:
    stem = Path(name).name
    for suffix in (".zh", ".ja", ".en"):
        stem = stem.replace(suffix + ".", ".")
    stem = stem.split(".", 1)[0] or "document"
    stem = re.sub(r"[^\w\-]+", "-", stem).strip("-") or "document"
    return f"{stem[:60]}.{lang}"


def document_from_bytes(
    data: bytes,
    name: str,
    *,
    lang: str | None = None,
    format: str | None = None,
    doc_id: str | None = None,
    role: str = "original",
    extracted_from: str = "",
    encoding: str = "",
) -> Document:
    """Parse one file's content into a :class:`~policyidx.model.Document` without a catalog.

    Parameters
    ----------
    data : bytes
        The content (at most the parsers' size limit).
    name : str
        The file name, for messages, the extension and the default id.
    lang : {"zh", "ja", "en"}, optional
        The language; detected from the parsed text when ``None`` (kana means Japanese,
        Han without kana Chinese).
    format : {"text", "html", "pdf"}, optional
        Detected with :func:`detect_format` when ``None``.
    doc_id : str, optional
        Default: the file name's stem and the language (``notice.zh``).
    role : str
        ``original`` or ``translation``.
    extracted_from : str
        ``pdf`` for text extracted from a PDF (wrapped lines, page numbers).
    encoding : str
        Force a text encoding instead of detecting it.

    Raises
    ------
    ParseError
        Binary, undecodable or unparsable content (the message names the file).
    QueryError
        An unknown format or language.
    """
    from .text.analysis import detect_lang

    if format is not None and format not in FORMATS:
        raise QueryError(f"unknown format {format!r} for {name}: expected one of {', '.join(FORMATS)}")
    if lang is not None and lang not in LANGS:
        raise QueryError(f"unknown language {lang!r} for {name}: expected one of {', '.join(LANGS)}")
    fmt = format or detect_format(data, name)
    with tempfile.TemporaryDirectory(prefix="policyidx-upload-") as tmp:
        # the parsers read files; the name inside the temporary folder is ours, never the caller's
        path = Path(tmp) / f"upload.{ {'pdf': 'pdf', 'html': 'html'}.get(fmt, 'txt') }"
        path.write_bytes(data)

        def parse(lg: str) -> Document:
            try:
                doc = parse_document(path, doc_id=doc_id or _doc_id(name, lg), lang=lg, role=role, format=fmt,
                                     title=Path(name).name, extracted_from=extracted_from, encoding=encoding)
            except ParseError as exc:
                # the parsers name the file as they were given it or relative to the working
                # directory: either way it is our temporary file, shown as the caller's name
                msg = str(exc)
                for shown in sorted({str(path), os.path.relpath(path)}, key=len, reverse=True):
                    msg = msg.replace(shown, name)
                raise ParseError(msg) from None
            doc.source_path = None
            return doc

        if lang is not None:
            return parse(lang)
        first = parse("zh")
        found = detect_lang(first.text[:200_000])
        return first if found == "zh" else parse(found)


def align_files(
    file_a: str | os.PathLike[str],
    file_b: str | os.PathLike[str],
    *,
    lang_a: str | None = None,
    lang_b: str | None = None,
    format_a: str | None = None,
    format_b: str | None = None,
    extracted_from_a: str = "",
    extracted_from_b: str = "",
    encoder: str | None = None,
    glossary: Glossary | None = None,
) -> FileAlignment:
    """Parse two files and align them: an original and its translation, no corpus needed.

    Parameters
    ----------
    file_a, file_b : path-like
        The source (typically the Chinese original) and the target file.
    lang_a, lang_b : {"zh", "ja", "en"}, optional
        Languages; detected from each parsed text when ``None``.
    format_a, format_b : {"text", "html", "pdf"}, optional
        Formats; detected from the content when ``None`` (see :func:`detect_format`).
    extracted_from_a, extracted_from_b : str
        ``pdf`` for a text file extracted from a PDF (wrapped lines, page numbers).
    encoder, glossary
        As in :func:`policyidx.align`.

    Returns
    -------
    FileAlignment
        ``alignment``, ``src`` and ``tgt``; export it with :func:`policyidx.export.to_tmx` and
        the other writers.

    Raises
    ------
    ParseError
        A file is missing, binary, undecodable or unparsable (the message names it).
    """
    from .alignment import align

    docs: list[Document] = []
    sides = ((file_a, lang_a, format_a, extracted_from_a), (file_b, lang_b, format_b, extracted_from_b))
    for k, (path, lang, fmt, extracted) in enumerate(sides):
        p = Path(path)
        try:
            size = p.stat().st_size
            if size > MAX_BYTES:
                raise ParseError(f"{p}: {size / 1e6:.0f} MB is larger than the {MAX_BYTES / 1e6:.0f} MB a policy "
                                 "document can be")
            data = p.read_bytes()
        except OSError as exc:
            raise ParseError(f"{p}: cannot read the file ({exc.strerror or exc})") from None
        role = "original" if k == 0 else "translation"
        doc = document_from_bytes(data, str(p), lang=lang, format=fmt, role=role, extracted_from=extracted)
        if docs and doc.id == docs[0].id:  # two files named alike in one language
            doc = document_from_bytes(data, str(p), lang=doc.lang, format=fmt, role=role, extracted_from=extracted,
                                      doc_id=doc.id.rsplit(".", 1)[0] + "-2." + doc.lang)
        docs.append(doc)
    src, tgt = docs
    return FileAlignment(alignment=align(src, tgt, encoder=encoder, glossary=glossary), src=src, tgt=tgt)
