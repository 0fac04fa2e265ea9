"""Plain text sources: JETRO translations (as typed or as extracted from PDF) and Chinese texts."""

from __future__ import annotations

from ..model import ParseWarning
from .layout import assemble, split_lines
from .structure import ParseResult, build

__all__ = ["parse_text"]


def parse_text(
    text: str,
    *,
    doc_id: str,
    lang: str,
    pdf: bool = False,
    warnings: list[ParseWarning] | None = None,
) -> ParseResult:
    """Parse decoded plain text into a clause tree.

    Parameters
    ----------
    text
        The decoded text.
    doc_id, lang
        Catalog id and language of the document.
    pdf
        The text was extracted from a PDF: lines are wrapped at the page width and lines that
        are only a number are page numbers.  Without it both are still detected when the
        text shows them (rising page numbers, short uniform lines).
    warnings
        Warnings from decoding, carried into the result.
    """
    lines, _pages = split_lines(text, pdf=pdf)
    blocks = assemble(lines, lang=lang, wrapped=True if pdf else None)
    return build(blocks, doc_id=doc_id, lang=lang, warnings=warnings)
