"""Parsers: one module per source format, all ending in the same clause-tree builder.

- :mod:`.text`: plain text (JETRO translations as typed or extracted from PDF, Chinese texts
  and explanatory texts);
- :mod:`.pdf`: PDF files (pypdf);
- :mod:`.html`: government web pages (lxml).

:func:`parse_bytes` picks the module from the catalog's ``format``.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ParseError
from .decode import decode_bytes
from .structure import ParseResult, split_sentences

__all__ = ["parse_bytes", "parse_file", "ParseResult", "split_sentences", "MAX_BYTES"]

MAX_BYTES = 200 * 1024 * 1024  # a policy document is far smaller; refuse to slurp anything larger


def parse_bytes(
    data: bytes,
    *,
    doc_id: str,
    lang: str,
    format: str = "text",
    extracted_from: str = "",
    encoding: str = "",
    name: str = "<bytes>",
) -> ParseResult:
    """Parse a source document from its bytes.

    Parameters
    ----------
    data
        The file's content.
    doc_id, lang
        Catalog id and language (``zh`` or ``ja``).
    format
        ``text``, ``html`` or ``pdf``.
    extracted_from
        ``pdf`` when a text file was extracted from a PDF (wrapped lines, page numbers).
    encoding
        Force a text encoding instead of detecting it.
    name
        File name for messages.

    Raises
    ------
    ParseError
        Binary or undecodable input, more than :data:`MAX_BYTES`, an unreadable PDF or HTML
        page, an unknown format.

    Notes
    -----
    Every stage is linear in the size of the input (see each parser module); warnings list
    what was replaced or taken out on purpose (bad bytes, invisible characters, page numbers
    of PDF text, page text outside an HTML article body), so nothing is lost silently.
    """
    if len(data) > MAX_BYTES:
        raise ParseError(f"{name}: {len(data) / 1e6:.0f} MB is larger than the {MAX_BYTES / 1e6:.0f} MB a policy document can be")
    if format == "pdf":
        from .pdf import parse_pdf

        if not data.startswith(b"%PDF"):
            raise ParseError(f"{name}: catalog says format = \"pdf\" but the file does not start with %PDF")
        return parse_pdf(data, doc_id=doc_id, lang=lang, name=name)
    if format == "html":
        from .html import parse_html

        return parse_html(data, doc_id=doc_id, lang=lang, name=name)
    if format == "text":
        from .text import parse_text

        text, _enc, warnings = decode_bytes(data, name=name, lang=lang, encoding=encoding)
        return parse_text(text, doc_id=doc_id, lang=lang, pdf=extracted_from == "pdf", warnings=warnings)
    raise ParseError(f"{name}: unknown format {format!r}; expected text, html or pdf")


def parse_file(path: str | Path, **kw) -> ParseResult:
    """Parse a file (see :func:`parse_bytes` for the keyword arguments)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ParseError(f"{path}: cannot read the file ({exc.strerror})") from None
    if size > MAX_BYTES:
        raise ParseError(f"{path}: {size / 1e6:.0f} MB is larger than the {MAX_BYTES / 1e6:.0f} MB a policy document can be")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"{path}: cannot read the file ({exc.strerror})") from None
    kw.setdefault("name", str(path))
    return parse_bytes(data, **kw)
