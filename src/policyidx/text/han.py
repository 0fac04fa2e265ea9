"""One form for Han characters, and width folding, both length-preserving.

Chinese originals are written in Simplified characters, JETRO's Japanese translations in
Japanese shinjitai (``専利``, ``知的財産権``), and users may paste Traditional Chinese.
:func:`unify` maps all three to Simplified Chinese *character by character*, so that
``len(unify(s)) == len(s)`` and any offset computed on the unified string is valid on the
original.  :func:`normalize_width` folds full-width letters and digits the same way.

Both tables are built on first use and kept for the life of the process; the unify table,
which OpenCC takes a tenth of a second to make, is also cached on disk for later processes.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import unicodedata
from pathlib import Path

from .._io import cache_root

__all__ = ["unify", "normalize_width", "is_han", "HAN_RANGES", "HAN_CLASS", "HAN_RUN", "HAN_CHAR"]

#: Code point ranges (end exclusive) treated as Han ideographs: CJK Unified Ideographs,
#: Extension A, and the Compatibility Ideographs block (PDF extraction produces those).
HAN_RANGES: tuple[tuple[int, int], ...] = (
    (0x3400, 0x4DC0),
    (0x4E00, 0xA000),
    (0xF900, 0xFB00),
)
#: The same ranges as the inside of a regular-expression character class.
HAN_CLASS = "".join(f"{chr(lo)}-{chr(hi - 1)}" for lo, hi in HAN_RANGES)
#: A run of Han ideographs, and one Han ideograph.
HAN_RUN = re.compile(f"[{HAN_CLASS}]+")
HAN_CHAR = re.compile(f"[{HAN_CLASS}]")

# OpenCC's jp2t maps shinjitai to a traditional form and t2s maps that to Simplified; a
# few pairs need help.  ``_KEEP``: jp2t picks a traditional variant that t2s leaves alone
# although the Japanese character is itself the standard Simplified one (予->豫 would turn
# every Chinese 予以 into 豫以; 研->硏, 概->槪 are rare variants), or the character is
# common Chinese with another meaning (沪 is Shanghai, 欠 "owe").  Those map to their own
# t2s form.
_KEEP = "予研概郎緒瓶翻褒慎叙萌晃槙桝沪欠"

# ``_EXTRA``: shinjitai that OpenCC leaves alone or sends to a variant t2s does not
# simplify, and Japanese-made characters.  弁 stands for 辦 in 弁公室/弁法 (办公室/办法), which is what policy texts use.
_EXTRA: dict[str, str] = {
    "値": "值",
    "弁": "办",
    "並": "并",
    "併": "并",
    "挙": "举",
    "渋": "涩",
    "鉱": "矿",
    "闘": "斗",
    "郷": "乡",
    "衛": "卫",
    "餅": "饼",
    "繋": "系",
    "隣": "邻",
    "舎": "舍",
    "汚": "污",
    "聡": "聪",
    "粧": "妆",
    "氷": "冰",
    "戸": "户",
    "呉": "吴",
    "倶": "俱",
    "兎": "兔",
    "呪": "咒",
    "塡": "填",
    "姫": "姬",
    "舗": "铺",
    "輌": "辆",
    "醗": "酦",
    "焔": "焰",
    "痺": "痹",
    "竃": "灶",
    "茘": "荔",
    "楡": "榆",
    "溌": "泼",
    "鼈": "鳖",
    "曁": "暨",
    "皐": "皋",
    "頚": "颈",
    "噛": "啮",
    # Japanese-made characters (kokuji) whose Chinese counterpart is a different word's
    # character: 労働 is 劳动.
    "働": "动",
}

_FULLWIDTH_KEEP_OFFSET = 0xFEE0  # full-width ASCII U+FF01..U+FF5E minus this = ASCII

_lock = threading.Lock()
_unify_table: dict[int, int] | None = None
_width_table: dict[int, int] | None = None


def _han_chars() -> list[str]:
    return [chr(cp) for lo, hi in HAN_RANGES for cp in range(lo, hi)]


def _convert_each(converter: object, chars: list[str]) -> list[str]:
    # One call over newline-separated characters: OpenCC's phrase dictionaries match
    # across adjacent characters, and the separator keeps every character on its own.
    out = converter.convert("\n".join(chars)).split("\n")  # type: ignore[attr-defined]
    if len(out) != len(chars):  # pragma: no cover - would be an OpenCC change
        raise RuntimeError(
            f"OpenCC returned {len(out)} items for {len(chars)} characters; "
            "the per-character table cannot be built with this OpenCC version"
        )
    return out


def _build_unify_table() -> dict[int, int]:
    try:
        import opencc
    except ImportError as exc:  # pragma: no cover - opencc is a hard dependency
        from policyidx.errors import MissingDependencyError

        raise MissingDependencyError(
            "policyidx.han needs OpenCC but it is not installed; run `pip install opencc`"
        ) from exc

    chars = _han_chars()
    # NFKC first: compatibility ideographs become their unified counterparts.
    base = []
    for c in chars:
        n = unicodedata.normalize("NFKC", c)
        base.append(n if len(n) == 1 else c)
    jp2t = _convert_each(opencc.OpenCC("jp2t"), base)
    t2s = opencc.OpenCC("t2s")
    via_jp = _convert_each(t2s, jp2t)
    direct = _convert_each(t2s, base)

    mapping: dict[str, str] = {}
    keep = set(_KEEP)
    for c, b, j, s, d in zip(chars, base, jp2t, via_jp, direct):
        if b in keep:
            target = d
        else:
            target = s
        if len(target) != 1:
            target = d if len(d) == 1 else b
        if target != c:
            mapping[c] = target
    for src, dst in _EXTRA.items():
        mapping[src] = dst
    # Close the table so that unify is idempotent (a target may itself be mapped).
    table: dict[int, int] = {}
    for src, dst in mapping.items():
        seen = {src}
        while dst in mapping and dst not in seen:
            seen.add(dst)
            dst = mapping[dst]
        if dst != src:
            table[ord(src)] = ord(dst)
    return table


#: Bump when :func:`_build_unify_table` changes what it makes (part of the cache key).
_UNIFY_VERSION = 1


def _unify_cache_file() -> Path | None:
    """Where the unify table of this OpenCC, Unicode database and code is cached:
    ``$POLICYIDX_CACHE`` (default ``~/.cache/policyidx``)/``han/unify-<key>.npy``."""
    try:
        import opencc

        version = str(getattr(opencc, "__version__", "?"))
    except ImportError:  # pragma: no cover - the build reports the missing dependency
        return None
    key = hashlib.sha256(repr((_UNIFY_VERSION, version, unicodedata.unidata_version, HAN_RANGES, _KEEP,
                               sorted(_EXTRA.items()))).encode("utf-8")).hexdigest()[:16]
    return cache_root() / "han" / f"unify-{key}.npy"


def _load_unify_table() -> dict[int, int]:
    """The unify table from its cache file (an array of code point pairs), else built with
    OpenCC (a tenth of a second per process) and cached for the next processes when the
    cache directory is writable."""
    import numpy as np

    path = _unify_cache_file()
    if path is not None:
        try:
            pairs = np.load(path, allow_pickle=False)
            if pairs.ndim == 2 and pairs.shape[1] == 2 and pairs.dtype == np.int32:
                return dict(zip(pairs[:, 0].tolist(), pairs[:, 1].tolist()))
        except (OSError, ValueError, EOFError):
            pass  # missing or damaged: rebuilt and rewritten
    table = _build_unify_table()
    if path is not None:
        try:
            from .._io import atomic_write_bytes

            buf = io.BytesIO()
            np.save(buf, np.array(sorted(table.items()), dtype=np.int32).reshape(-1, 2), allow_pickle=False)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, buf.getvalue())
        except OSError:
            pass  # a read-only home: build it in every process
    return table


def _get_unify_table() -> dict[int, int]:
    global _unify_table
    if _unify_table is None:
        with _lock:
            if _unify_table is None:
                _unify_table = _load_unify_table()
    return _unify_table


def unify(text: str) -> str:
    """Map Japanese shinjitai and Traditional Chinese characters to Simplified Chinese.

    The mapping is one character to one character, so the result has the same length as
    ``text`` and offsets carry over unchanged.  Non-Han characters are returned as is.

    Parameters
    ----------
    text : str
        Any text; Chinese, Japanese or mixed.

    Returns
    -------
    str
        ``text`` with every Han character replaced by its Simplified Chinese form where
        one is known (``専利`` -> ``专利``, ``知的財産権`` -> ``知的财产权``,
        ``擔保`` -> ``担保``).

    Examples
    --------
    >>> unify("専利") == unify("专利") == "专利"
    True
    """
    return text.translate(_get_unify_table())


def is_han(ch: str) -> bool:
    """Return True if the single character ``ch`` is a Han ideograph (see HAN_RANGES)."""
    cp = ord(ch)
    for lo, hi in HAN_RANGES:
        if lo <= cp < hi:
            return True
    return False


def _build_width_table() -> dict[int, int]:
    table: dict[int, int] = {}
    # Full-width ASCII: only letters, digits and the percent sign.  Full-width brackets,
    # colons and commas are the punctuation of CJK text and stay as they are.
    for cp in range(0xFF01, 0xFF5F):
        ascii_ch = chr(cp - _FULLWIDTH_KEEP_OFFSET)
        if ascii_ch.isalnum() or ascii_ch == "%":
            table[cp] = ord(ascii_ch)
    planes = list(range(0x80, 0xFF01)) + list(range(0xFF5F, 0x10000))
    planes += list(range(0x2F800, 0x2FA20))  # CJK Compatibility Ideographs Supplement
    for cp in planes:
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        n = unicodedata.normalize("NFKC", ch)
        if len(n) == 1 and n != ch:
            table[cp] = ord(n)
    return table


def _width_of(cp: int) -> int:
    """The code point ``cp`` folds to (itself when it does not fold): the rule of
    :func:`_build_width_table` for one character."""
    if 0xFF01 <= cp < 0xFF5F:
        ascii_ch = chr(cp - _FULLWIDTH_KEEP_OFFSET)
        return ord(ascii_ch) if ascii_ch.isalnum() or ascii_ch == "%" else cp
    if not (0x80 <= cp < 0x10000 or 0x2F800 <= cp < 0x2FA20) or 0xD800 <= cp < 0xE000:
        return cp
    ch = chr(cp)
    n = unicodedata.normalize("NFKC", ch)
    return ord(n) if len(n) == 1 and n != ch else cp


class _WidthTable(dict):
    """The width-folding table, filled as characters are met (``str.translate`` looks
    characters up in C; a new one costs one NFKC call): a process that folds a few short
    texts does not build the table of all 65,000 code points."""

    def __missing__(self, cp: int) -> int:
        out = self[cp] = _width_of(cp)
        return out


def _get_width_table() -> dict[int, int]:
    global _width_table
    if _width_table is None:
        with _lock:
            if _width_table is None:
                _width_table = _WidthTable()
    return _width_table


def normalize_width(text: str) -> str:
    """Fold full-width letters and digits to ASCII without changing the length.

    Full-width ``Ａ-Ｚ ａ-ｚ ０-９ ％`` become ASCII; any other character whose NFKC form is
    exactly one character is replaced by it (half-width katakana, Kangxi radicals from PDF
    extraction, compatibility ideographs, the ideographic space); characters whose NFKC
    form is longer (``㈱``, ``…``) are kept.  Full-width punctuation of CJK text such as
    ``（）：，`` and ``、。「」`` is left as it is.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The folded text, ``len(result) == len(text)``.
    """
    return text.translate(_get_width_table())
