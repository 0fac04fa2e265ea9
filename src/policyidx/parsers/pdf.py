"""PDF sources (JETRO publishes its provisional translations as PDF), read with pypdf."""

from __future__ import annotations

import io
import logging
import re

from ..errors import MissingDependencyError, ParseError
from ..model import ParseWarning
from .layout import Line, assemble, normalize_line
from .structure import ParseResult, build

__all__ = ["parse_pdf", "pdf_lines"]

_PAGE_ONLY = re.compile(r"^[-‐–—\s]*\d{1,4}[-‐–—\s]*$")


def pdf_lines(data: bytes, *, name: str) -> tuple[list[Line], list[ParseWarning]]:
    """Extract the text lines of a PDF, page by page.

    Lines that are only a page number are taken out (the page is known from the PDF itself);
    a page whose text cannot be extracted gives a warning, not an error.
    """
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover - pypdf is a dependency
        raise MissingDependencyError("reading PDF needs pypdf: pip install pypdf") from exc
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception:
                raise ParseError(f"{name}: the PDF is encrypted and cannot be read without a password") from None
        pages = list(reader.pages)
    except ParseError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError, TypeError) as exc:
        raise ParseError(f"{name}: not a readable PDF file ({exc})") from None
    lines: list[Line] = []
    warnings: list[ParseWarning] = []
    lineno = 0
    for number, page in enumerate(pages, 1):
        try:
            raw = page.extract_text() or ""
        except Exception as exc:  # pypdf raises many types on damaged content streams
            warnings.append(ParseWarning("unreadable-page", f"page {number}: text could not be extracted ({exc})"))
            continue
        if not raw.strip():
            warnings.append(ParseWarning("empty-page", f"page {number} has no extractable text (scanned image?)"))
        for r in raw.splitlines():
            lineno += 1
            if not r.strip() or _PAGE_ONLY.match(r):
                continue
            norm = normalize_line(r)
            if norm:
                lines.append(Line(norm, lineno, number))
    return lines, warnings


def parse_pdf(data: bytes, *, doc_id: str, lang: str, name: str = "<pdf>") -> ParseResult:
    """Parse a PDF file's bytes into a clause tree (pages known from the PDF)."""
    lines, warnings = pdf_lines(data, name=name)
    if not lines:
        warnings.append(ParseWarning("empty", f"{name}: no text could be extracted from the PDF"))
    blocks = assemble(lines, lang=lang, wrapped=True)
    return build(blocks, doc_id=doc_id, lang=lang, warnings=warnings)
