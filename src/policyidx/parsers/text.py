"""Plain text sources: JETRO translations (as typed or as extracted from PDF) and Chinese texts."""

from __future__ import annotations

from ..model import ParseWarning
from .layout import assemble, split_lines, strip_invisible
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
        are only a number are page numbers (taken out and listed in a ``page-numbers``
        warning).  Without it a line that is only a number is text, and wrapping is guessed
        from the line widths.
    warnings
        Warnings from decoding, carried into the result.

    Notes
    -----
    Linear in the length of the text: invisible characters out (one regex pass), lines split
    and normalised (one pass), paragraphs joined (one pass over the lines, plus a sort of the
    line widths, O(L log L) in the number of lines), then the clause tree.
    """
    warnings = list(warnings or [])
    text = strip_invisible(text, warnings)
    lines, _pages = split_lines(text, pdf=pdf, warnings=warnings)
    blocks = assemble(lines, lang=lang, wrapped=True if pdf else None)
    return build(blocks, doc_id=doc_id, lang=lang, warnings=warnings)
