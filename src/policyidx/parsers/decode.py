"""Turning the bytes of a source file into text.

Chinese government sites still serve GB2312/GBK/GB18030 pages (and Big5 in Taiwan and Hong
Kong), Japanese files come in Shift_JIS (CP932) or EUC-JP, Windows tools write UTF-16 (with or
without a BOM), and everything else is UTF-8 with or without a BOM.

How the encoding is chosen (:func:`decode_bytes`):

1. a BOM decides; a forced encoding (catalog ``encoding``) is used as given;
2. UTF-16 without a BOM is recognised by its NUL bytes at one parity, or, for text without
   ASCII, by the plausibility of the decoded text (below);
3. data with NUL or many control bytes that is not UTF-16 is binary: an error;
4. strictly valid UTF-8 is UTF-8;
5. otherwise every candidate codec (UTF-16 last) decodes a sample (64 KiB from the first non-ASCII byte,
   with replacement) and the most *plausible* text wins.  Plausibility
   (:func:`plausibility`) weighs each non-ASCII character by how likely it is in a document
   of the expected language: the 3,755 level-1 characters of GB2312 and the 2,965 level-1
   kanji of JIS X 0208 (the everyday characters of Chinese and Japanese), kana, CJK
   punctuation and full-width forms score high; level-2 characters less; rare ideographs,
   half-width katakana, Latin-1 letters, Hangul, private-use, control and replacement
   characters (what a wrong codec produces) score negative.  So GBK ``发布日期`` is not read as
   half-width katakana, and Shift_JIS Japanese inside a Chinese document is not read as GBK
   mojibake (the kana decide).

A file with a few bad bytes (a truncated last character, a damaged sector) is decoded with
U+FFFD in their place and a ``undecodable-bytes`` warning giving how many and where; a file
that no candidate decodes for the most part is an error naming the file.

Each step is linear in the size of the data (the scoring reads a bounded sample).
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

from ..errors import ParseError
from ..model import ParseWarning

__all__ = ["decode_bytes", "looks_binary", "plausibility", "sniff_utf16", "CANDIDATES"]

#: Candidate codecs tried (after UTF-8 and UTF-16) per expected language, in order of preference.
CANDIDATES = {
    "zh": ("gb18030", "big5", "cp932", "euc_jp"),
    "ja": ("cp932", "euc_jp", "gb18030", "big5"),
    "en": ("cp1252",),
}
_SAMPLE = 65536
_HIGH = re.compile(rb"[\x80-\xff]")
_ASCII = re.compile(r"[\x09\x0a\x0d\x20-\x7e]+")
_CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or 13 < b)
#: share of replaced sequences above which a decoding is refused (with a floor of 8)
MAX_BAD_SHARE = 0.01


def looks_binary(data: bytes) -> bool:
    """True for data with NUL bytes or a high share of control bytes (images, archives...).

    UTF-16 text (with a BOM, or recognised by :func:`sniff_utf16`) is not binary.
    """
    head = data[:_SAMPLE]
    if not head:
        return False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls / len(head) > 0.01


@lru_cache(maxsize=None)
def _classes() -> tuple[re.Pattern[str], ...]:
    """Character classes from the code tables themselves (built once, a few ms)."""

    def row_chars(codec: str, lo_row: int, hi_row: int) -> str:
        out = []
        for hi in range(lo_row, hi_row):
            for lo in range(0xA1, 0xFF):
                try:
                    out.append(bytes([hi, lo]).decode(codec))
                except UnicodeDecodeError:
                    pass
        return "".join(sorted(set(out)))

    def cls(chars: str) -> re.Pattern[str]:
        return re.compile("[" + "".join(re.escape(c) for c in chars) + "]+")

    gb1 = set(row_chars("gb2312", 0xB0, 0xD8))  # GB2312 level 1: the 3,755 most used hanzi
    gb2 = set(row_chars("gb2312", 0xD8, 0xF8))  # level 2
    jis1 = set(row_chars("euc_jp", 0xB0, 0xD0))  # JIS X 0208 level 1: 2,965 kanji
    jis2 = set(row_chars("euc_jp", 0xD0, 0xF5))  # level 2
    both = "".join(sorted(gb1 & jis1))
    gb_only = "".join(sorted(gb1 - jis1))
    jis_only = "".join(sorted(jis1 - gb1))
    second = "".join(sorted((gb2 | jis2) - gb1 - jis1))
    good = (
        r"[\u3000-\u303f\u3041-\u3096\u309b-\u30ff\uff01-\uff5e\u2010-\u2027\u2030-\u203b"
        r"\u2460-\u24ff\u2500-\u257f\u25a0-\u25ff\u2160-\u217f\u00b7\u00d7\u00f7]"
    )
    bad = (
        r"[\u0080-\u00b6\u00b8-\u00d6\u00d8-\u00f6\u00f8-\u024f\uff61-\uff9f\u1100-\u11ff\u3130-\u318f"
        r"\uac00-\ud7af\ue000-\uf8ff\u0370-\u03ff\u0400-\u04ff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
    )
    worst = r"[\ufffd]"
    return (
        cls(both), cls(gb_only), cls(jis_only), cls(second), re.compile(good + "+"), re.compile(bad + "+"), re.compile(worst),
        re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+"),
    )


def _count(pattern: re.Pattern[str], text: str) -> int:
    """Characters of ``text`` in a class (``pattern`` matches runs of them)."""
    return sum(map(len, pattern.findall(text)))


def plausibility(text: str, lang: str = "zh") -> float:
    """How much ``text`` looks like a real document in ``lang`` (about -5 to 1).

    The mean weight of its non-ASCII characters (see the module docstring); 0.0 for text
    without any.  Real Chinese or Japanese text scores 0.8-1.0; a wrong codec's output scores
    below 0.3.
    """
    n = len(text) - _count(_ASCII, text)
    worst_n = text.count("\ufffd")
    if n == 0:
        return 0.0
    both, gb_only, jis_only, second, good, bad, _worst, han = _classes()
    c_both = _count(both, text)
    c_gb = _count(gb_only, text)
    c_jis = _count(jis_only, text)
    c_second = _count(second, text)
    c_han = _count(han, text)
    # the everyday characters of the expected language count 1, those of the other 0.6,
    # level-2 characters 0.5, any other ideograph -1
    own, other = (c_jis, c_gb) if lang == "ja" else (c_gb, c_jis)
    rare = max(0, c_han - c_both - c_gb - c_jis - c_second)
    score = (
        c_both + own + 0.6 * other + 0.5 * c_second + _count(good, text) - rare
        - _count(bad, text) - 5 * worst_n
    )
    return score / n


def sniff_utf16(data: bytes) -> str | None:
    """``utf-16-le`` / ``utf-16-be`` when BOM-less data has its NUL bytes at one parity.

    Text with ASCII (digits, punctuation, line ends) in UTF-16 has a NUL in every other byte;
    real single- or multi-byte encoded text has none.
    """
    head = data[: _SAMPLE & ~1]
    if len(head) < 2:
        return None
    zeros_even = head[0::2].count(0)
    zeros_odd = head[1::2].count(0)
    half = len(head) // 2
    # (a few NULs at the other parity come from characters such as 一 U+4E00)
    if zeros_odd >= max(1, 0.05 * half) and zeros_even <= 0.25 * zeros_odd:
        return "utf-16-le"
    if zeros_even >= max(1, 0.05 * half) and zeros_odd <= 0.25 * zeros_even:
        return "utf-16-be"
    return None


def _plausible_utf16(head: bytes, enc: str, lang: str) -> bool:
    """Whether NUL-bearing ``head`` decoded as ``enc`` reads as text.

    Binary data (compressed streams, tables of small integers) also has NULs at one parity; as
    UTF-16 it gives rare ideographs, private-use and unassigned code points.  Text is either
    mostly printable ASCII (which the plausibility score leaves out) or plausible CJK text.
    """
    text = head.decode(enc, errors="replace")
    if not text:
        return True
    plain = sum(1 for c in text if " " <= c <= "~" or c in "\t\n\r\f")
    if plain >= 0.5 * len(text):
        return True
    return _score(head, enc, lang) >= MIN_PLAUSIBILITY


def _sample(data: bytes) -> bytes:
    m = _HIGH.search(data)
    start = m.start() if m else len(data)
    return data[start : start + _SAMPLE]


def _score(sample: bytes, enc: str, lang: str) -> float:
    """Plausibility of ``sample`` decoded as ``enc``, each undecodable sequence counting -5."""
    text = sample.decode(enc, errors="replace")
    if len(sample) == _SAMPLE:
        text = text.rstrip("\ufffd")  # a character cut at the end of the sample
    clean = sample.decode(enc, errors="ignore")
    errors = text.count("\ufffd") - clean.count("\ufffd")
    n = len(clean) - _count(_ASCII, clean) if not clean.isascii() else 0
    if n + errors == 0:
        return 0.0
    return (plausibility(clean, lang) * n - 5 * errors) / (n + errors)


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
        Chinese, the reverse for Japanese) and weighs the plausibility of each decoding.
    encoding
        An encoding to use instead of guessing (from the catalog's ``encoding`` key).

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
    if data.startswith(codecs.BOM_UTF8):
        return _lenient(data[3:], "utf-8", name, warnings)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _lenient(data, "utf-16", name, warnings)
    if encoding:
        enc = _check_encoding(encoding, name)
        return _lenient(data, enc, name, warnings)
    if b"\x00" not in data[:_SAMPLE]:
        try:  # valid UTF-8 without NULs is text, whatever control characters it holds
            return data.decode("utf-8"), "utf-8", warnings
        except UnicodeDecodeError:
            pass
    enc16 = sniff_utf16(data)
    if enc16:  # the NUL parity can mislead on short text without ASCII (一 is U+4E00): both are scored
        head = data[: _SAMPLE & ~1]
        other = "utf-16-be" if enc16 == "utf-16-le" else "utf-16-le"
        if _score(head, other, lang) > _score(head, enc16, lang) + 0.1:
            enc16 = other
        if not _plausible_utf16(head, enc16, lang):
            raise ParseError(f"{name}: looks like a binary file (NUL bytes that do not decode as UTF-16 text), not text; "
                             "expected UTF-8, GB18030, Shift_JIS or UTF-16 text")
        return _lenient(data, enc16, name, warnings)
    if looks_binary(data):
        # UTF-16 without a BOM and without any ASCII has no NULs but many "control" bytes
        head = data[: _SAMPLE & ~1]
        best16 = max(("utf-16-le", "utf-16-be"), key=lambda e: _score(head, e, lang))
        if _score(head, best16, lang) >= 0.6:
            return _lenient(data, best16, name, warnings)
        raise ParseError(f"{name}: looks like a binary file (NUL or control bytes), not text; expected UTF-8, GB18030, Shift_JIS or UTF-16 text")
    try:
        return data.decode("utf-8"), "utf-8", warnings
    except UnicodeDecodeError:
        pass
    enc, score = guess_encoding(data, lang)
    if score < MIN_PLAUSIBILITY and len(_HIGH.findall(data[:_SAMPLE])) >= 32:
        raise ParseError(
            f"{name}: cannot be decoded as UTF-8, GB18030, Big5, Shift_JIS, EUC-JP or UTF-16 "
            f"(the most plausible, {enc}, gives text that is not {lang!r} text); "
            "set `encoding = \"...\"` for this document in catalog.toml"
        )
    return _lenient(data, enc, name, warnings)


#: below this plausibility the best candidate's text is not taken for text at all
MIN_PLAUSIBILITY = 0.2


def guess_encoding(data: bytes, lang: str = "zh") -> tuple[str, float]:
    """The most plausible codec for non-UTF-8 data, and its plausibility (see the module docstring)."""
    sample = _sample(data)
    best = ("utf-8", _score(sample, "utf-8", lang) + 0.05)  # UTF-8 with a few bad bytes is still UTF-8
    for enc in CANDIDATES.get(lang, CANDIDATES["zh"]) + ("utf-16-le", "utf-16-be"):
        s = _score(sample if not enc.startswith("utf-16") else data[: _SAMPLE & ~1], enc, lang)
        if s > best[1] + 1e-9:
            best = (enc, s)
    return best


def _check_encoding(encoding: str, name: str) -> str:
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise ParseError(f"{name}: unknown encoding {encoding!r}") from None
    try:
        "".encode(info.name)
        b"".decode(info.name)
    except Exception:  # a codec that is not a text encoding (rot13, base64, zlib...)
        raise ParseError(f"{name}: {encoding!r} is not a text encoding") from None
    if info.name in ("rot-13", "rot13", "base64", "zlib", "bz2", "hex", "quopri", "uu"):
        raise ParseError(f"{name}: {encoding!r} is not a text encoding")
    if info.name in ("gb2312", "gbk"):
        return "gb18030"  # supersets: files labelled GB2312 often contain GBK characters
    return info.name


def decode_with(data: bytes, encoding: str, *, name: str) -> tuple[str, list[ParseWarning]]:
    """Decode with a given encoding, replacing and reporting a few bad bytes (see :func:`decode_bytes`)."""
    text, _enc, warnings = _lenient(data, _check_encoding(encoding, name), name, [])
    return text, warnings


def _lenient(data: bytes, enc: str, name: str, warnings: list[ParseWarning]) -> tuple[str, str, list[ParseWarning]]:
    try:
        return data.decode(enc), enc, warnings
    except UnicodeDecodeError:
        pass
    text = data.decode(enc, errors="replace")
    n_bad = text.count("\ufffd") - data.decode(enc, errors="ignore").count("\ufffd")
    if n_bad > max(8, int(len(text) * MAX_BAD_SHARE)):
        raise ParseError(
            f"{name}: cannot be decoded as UTF-8, GB18030, Big5, Shift_JIS, EUC-JP or UTF-16 "
            f"({n_bad} undecodable sequences as {enc}, the most plausible); "
            "set `encoding = \"...\"` for this document in catalog.toml"
        )
    bad: list[int] = []
    pos = 0
    while len(bad) < 10 and pos < len(data):  # where the first few are, for the message
        try:
            data[pos:].decode(enc)
            break
        except UnicodeDecodeError as err:
            bad.append(pos + err.start)
            pos += max(err.end, err.start + 1)
    where = ", ".join(map(str, bad)) + (" ..." if n_bad > len(bad) else "")
    warnings.append(
        ParseWarning("undecodable-bytes", f"{n_bad} byte sequence(s) not valid {enc} were replaced by U+FFFD (at byte offset {where})")
    )
    return text, enc, warnings
