"""PDF sources (JETRO publishes its provisional translations as PDF), read with pypdf.

Bounded: a file of more than :data:`MAX_PAGES` pages, a page tree nested too deep (pypdf stops
at 100 levels), an encryption scheme pypdf does not implement (``/Encrypt /V 0``) or a
password are each a :class:`~policyidx.errors.ParseError` that says so; any other failure of
pypdf to read the file is a ParseError too, never a raw traceback.  A page whose text cannot
be extracted is a warning.  Page numbers alone on a line are taken out and listed in a
``page-numbers`` warning; invisible characters are removed and reported.
"""

from __future__ import annotations

import io
import logging
import re

from ..errors import MissingDependencyError, ParseError
from ..model import ParseWarning
from .layout import Line, assemble, normalize_line, strip_invisible
from .structure import ParseResult, build

__all__ = ["parse_pdf", "pdf_lines", "MAX_PAGES"]

#: more pages than any policy document has; a larger file is refused
MAX_PAGES = 10_000

_PAGE_ONLY = re.compile(r"^[-‐–—\s]*\d{1,4}[-‐–—\s]*$")


def pdf_lines(data: bytes, *, name: str) -> tuple[list[Line], list[ParseWarning]]:
    """Extract the text lines of a PDF, page by page.

    Lines that are only a page number are taken out (the page is known from the PDF itself);
    a page whose text cannot be extracted gives a warning, not an error.
    """
    try:
        from pypdf import PdfReader
    except ImportError as exc:  # pragma: no cover - pypdf is a dependency
        raise MissingDependencyError("reading PDF needs pypdf: pip install pypdf") from exc
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except NotImplementedError as exc:
                raise ParseError(f"{name}: the PDF is encrypted with a scheme that cannot be read ({exc})") from None
            except Exception:
                ok = 0
            if not ok:
                raise ParseError(f"{name}: the PDF is encrypted and cannot be read without a password") from None
        n_pages = len(reader.pages)
        if n_pages > MAX_PAGES:
            raise ParseError(f"{name}: {n_pages} pages is more than the {MAX_PAGES} pages a policy document can have")
        pages = list(reader.pages)
    except ParseError:
        raise
    except NotImplementedError as exc:
        what = "encrypted with a scheme that cannot be read" if "ncrypt" in str(exc) else "uses a feature that cannot be read"
        raise ParseError(f"{name}: the PDF is {what} ({exc})") from None
    except RecursionError:
        raise ParseError(f"{name}: not a readable PDF file (its object structure is nested too deep)") from None
    except MemoryError:
        raise ParseError(f"{name}: not a readable PDF file (reading it needs more memory than is available)") from None
    except Exception as exc:  # pypdf raises many types on damaged files (LimitReachedError, PdfReadError, ...)
        what = "its page tree is nested too deep" if "depth" in str(exc).lower() else f"{type(exc).__name__}: {exc}"
        raise ParseError(f"{name}: not a readable PDF file ({what})") from None
    lines: list[Line] = []
    warnings: list[ParseWarning] = []
    removed: list[str] = []
    lineno = 0
    for number, page in enumerate(pages, 1):
        try:
            raw = page.extract_text() or ""
        except Exception as exc:  # pypdf raises many types on damaged content streams
            warnings.append(ParseWarning("unreadable-page", f"page {number}: text could not be extracted ({exc})"))
            continue
        raw = strip_invisible(raw, warnings)
        if not raw.strip():
            warnings.append(ParseWarning("empty-page", f"page {number} has no extractable text (scanned image?)"))
        for r in raw.splitlines():
            lineno += 1
            if not r.strip():
                continue
            if _PAGE_ONLY.match(r):
                removed.append(f"page {number}: {r.strip()!r}")
                continue
            norm = normalize_line(r)
            if norm:
                lines.append(Line(norm, lineno, number))
    if removed:
        warnings.append(ParseWarning("page-numbers", f"took out {len(removed)} page-number line(s): " + "; ".join(removed)))
    return lines, warnings


def parse_pdf(data: bytes, *, doc_id: str, lang: str, name: str = "<pdf>") -> ParseResult:
    """Parse a PDF file's bytes into a clause tree (pages known from the PDF)."""
    lines, warnings = pdf_lines(data, name=name)
    if not lines:
        warnings.append(ParseWarning("empty", f"{name}: no text could be extracted from the PDF"))
    blocks = assemble(lines, lang=lang, wrapped=True)
    return build(blocks, doc_id=doc_id, lang=lang, warnings=warnings)
