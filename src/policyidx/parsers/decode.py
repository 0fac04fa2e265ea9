"""Turning the bytes of a source file into text.

Chinese government sites still serve GB2312/GBK/GB18030 pages, Japanese files come in
Shift_JIS (CP932), and everything else is UTF-8 with or without a BOM.  Decoding is strict
first; a file with a handful of bad bytes is decoded with replacement characters and a
warning (nothing else is lost), and binary or mostly undecodable input is an error that
names the file.
"""

from __future__ import annotations

import codecs
import re

from ..errors import ParseError
from ..model import ParseWarning

__all__ = ["decode_bytes", "looks_binary"]

_CANDIDATES = {
    "zh": ("utf-8", "gb18030", "big5", "cp932"),
    "ja": ("utf-8", "cp932", "euc_jp", "gb18030"),
    "en": ("utf-8", "cp1252"),
}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u3000-\u303f]")
_KANA = re.compile(r"[\u3040-\u30ff]")
# Characters that real text in these languages essentially never contains; a decoding that
# produces many of them picked the wrong codec.
_ODD = re.compile(r"[\u0080-\u00ff\u0100-\u024f\ue000-\uf8ff\ufffd]")


_CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or 13 < b)


def looks_binary(data: bytes) -> bool:
    """True for data with NUL bytes or a high share of control bytes (images, archives...)."""
    head = data[:65536]
    if not head:
        return False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls / len(head) > 0.01


def _plausibility(text: str, lang: str) -> float:
    if not text:
        return 0.0
    n = len(text)
    cjk = len(_CJK.findall(text)) / n
    odd = len(_ODD.findall(text)) / n
    score = cjk - 5 * odd
    if lang == "ja":
        score += 0.5 * len(_KANA.findall(text)) / n
    return score


def decode_bytes(
    data: bytes, *, name: str, lang: str = "zh", encoding: str = ""
) -> tuple[str, str, list[ParseWarning]]:
    """Decode a source file's bytes.

    Parameters
    ----------
    data
        The raw bytes.
    name
        The file name, used in error messages.
    lang
        The expected language; it orders the candidate encodings (GB18030 before Shift_JIS for
        Chinese, the reverse for Japanese) and guides the plausibility check between them.
    encoding
        An encoding to use instead of guessing (from the catalog's ``encoding`` key or an HTML
        ``<meta charset>``).

    Returns
    -------
    text, encoding, warnings
        ``text`` without a BOM; the encoding that was used; warnings about replaced bytes.

    Raises
    ------
    ParseError
        If the data is binary, or no candidate encoding decodes most of it.
    """
    warnings: list[ParseWarning] = []
    if looks_binary(data):
        raise ParseError(f"{name}: looks like a binary file (NUL or control bytes), not text; expected UTF-8, GB18030 or Shift_JIS text")
    if data.startswith(codecs.BOM_UTF8):
        return _strict_or_lenient(data[3:], "utf-8", name, warnings)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict_or_lenient(data, "utf-16", name, warnings)
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ParseError(f"{name}: unknown encoding {encoding!r}") from None
        return _strict_or_lenient(data, encoding, name, warnings)
    best: tuple[float, str, str] | None = None
    for enc in _CANDIDATES.get(lang, _CANDIDATES["zh"]):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc == "utf-8":
            return text, enc, warnings  # valid UTF-8 of any length is practically never another codec
        score = _plausibility(text, lang)
        if best is None or score > best[0]:
            best = (score, enc, text)
    if best is not None and best[0] > 0.2:
        return best[2], best[1], warnings
    return _strict_or_lenient(data, "utf-8", name, warnings)


def _strict_or_lenient(data: bytes, enc: str, name: str, warnings: list[ParseWarning]) -> tuple[str, str, list[ParseWarning]]:
    try:
        return data.decode(enc), enc, warnings
    except UnicodeDecodeError:
        pass
    text = data.decode(enc, errors="replace")
    bad = text.count("\ufffd")
    if bad > max(8, len(text) // 100):
        raise ParseError(
            f"{name}: cannot be decoded as UTF-8, GB18030 or Shift_JIS ({bad} undecodable sequences as {enc}); "
            "set `encoding = \"...\"` for this document in catalog.toml"
        )
    warnings.append(
        ParseWarning("undecodable-bytes", f"{bad} byte sequence(s) not valid {enc} were replaced by U+FFFD")
    )
    return text, enc, warnings
