"""Chinese numerals: the one parser and formatter of policyidx.

:func:`parse_numeral` reads the numbers of clause labels and citations: ASCII and full-width
digits (``12``, ``１２``), Chinese numerals with units (``一千二百六十``, ``十二``, ``一百零五``,
``两百``), digit-by-digit forms (``二〇二三``), Traditional and financial forms (``貳拾``,
``壹佰``, ``兩``, ``萬``) and the contractions ``廿`` (20), ``卅`` (30), ``卌`` (40).
:func:`to_chinese` writes a number the way laws print it (``12`` -> ``十二``).
"""

from __future__ import annotations

__all__ = ["parse_numeral", "to_chinese", "NUMERAL_CHARS", "is_numeral"]

_DIGITS = {
    "〇": 0, "零": 0, "○": 0,
    "一": 1, "壹": 1,
    "二": 2, "两": 2, "兩": 2, "贰": 2, "貳": 2, "弍": 2,
    "三": 3, "叁": 3, "參": 3, "叄": 3,
    "四": 4, "肆": 4,
    "五": 5, "伍": 5,
    "六": 6, "陆": 6, "陸": 6,
    "七": 7, "柒": 7,
    "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}
_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
_TENS = {"廿": 20, "卄": 20, "卅": 30, "卌": 40}
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")

#: every character :func:`parse_numeral` understands (for building regular expressions)
NUMERAL_CHARS = "".join(_DIGITS) + "".join(_SMALL_UNITS) + "".join(_BIG_UNITS) + "".join(_TENS) + "0123456789０１２３４５６７８９"


def is_numeral(s: str) -> bool:
    """True when :func:`parse_numeral` reads ``s`` as a number."""
    return parse_numeral(s) is not None


def parse_numeral(s: str) -> int | None:
    """The value of a number written in digits or Chinese numerals, ``None`` if it is not one.

    Examples
    --------
    >>> parse_numeral("一千二百六十"), parse_numeral("十二"), parse_numeral("１２"), parse_numeral("二〇二三")
    (1260, 12, 12, 2023)
    >>> parse_numeral("貳拾壹"), parse_numeral("两百"), parse_numeral("廿一"), parse_numeral("条") is None
    (21, 200, 21, True)
    """
    s = s.strip()
    if not s:
        return None
    ascii_digits = s.translate(_FULLWIDTH)
    if ascii_digits.isascii() and ascii_digits.isdigit():
        return int(ascii_digits)
    if all(ch in _DIGITS for ch in s):  # digit by digit: 二〇二三, 一
        value = 0
        for ch in s:
            value = value * 10 + _DIGITS[ch]
        return value
    total = 0  # finished big-unit groups
    group = 0  # the current group below 万
    digit: int | None = None
    last_unit = None
    for ch in s:
        if ch in _DIGITS:
            if digit is not None and _DIGITS[ch] != 0 and digit != 0:
                return None  # two digits in a row inside a unit form: 十二三
            digit = _DIGITS[ch]
        elif ch in _TENS:
            if digit is not None and digit != 0:
                return None
            group += _TENS[ch]
            digit = None
            last_unit = 10
        elif ch in _SMALL_UNITS:
            unit = _SMALL_UNITS[ch]
            if last_unit is not None and unit >= last_unit:
                return None  # 十百, 百百
            group += (1 if digit is None or (digit == 0 and unit == 10) else digit) * unit
            digit = None
            last_unit = unit
        elif ch in _BIG_UNITS:
            unit = _BIG_UNITS[ch]
            group += digit or 0
            if group == 0:
                return None
            total = (total + group) * unit if unit > 10_000 else total + group * unit
            group, digit, last_unit = 0, None, None
        else:
            return None
    if digit is not None:
        # 一百五 (colloquial 150) is not used in legal numbering: the last digit is units
        group += digit
    value = total + group
    return value if value > 0 or s in ("〇", "零") else (0 if set(s) <= {"〇", "零", "○"} else None)


_CN = "零一二三四五六七八九"


def _below_10k(n: int, leading: bool) -> str:
    out: list[str] = []
    zero = False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // unit % 10
        if d == 0:
            if out:
                zero = True
            continue
        if zero:
            out.append("零")
            zero = False
        if unit == 10 and d == 1 and not out and leading:
            out.append("十")  # 十二, not 一十二
        else:
            out.append(_CN[d] + name)
    return "".join(out)


def to_chinese(n: int) -> str:
    """``n`` in Chinese numerals as laws print numbers (``12`` -> ``十二``, ``105`` -> ``一百零五``).

    Examples
    --------
    >>> to_chinese(12), to_chinese(110), to_chinese(1260), to_chinese(1001), to_chinese(0)
    ('十二', '一百一十', '一千二百六十', '一千零一', '零')
    """
    if n < 0:
        raise ValueError(f"to_chinese: {n} is negative")
    if n == 0:
        return "零"
    if n >= 100_000_000:
        high, low = divmod(n, 100_000_000)
        return to_chinese(high) + "亿" + ("" if low == 0 else ("零" if low < 10_000_000 else "") + to_chinese(low).lstrip("零"))
    if n >= 10_000:
        high, low = divmod(n, 10_000)
        rest = "" if low == 0 else ("零" if low < 1000 else "") + _below_10k(low, leading=False)
        return _below_10k(high, leading=True) + "万" + rest
    return _below_10k(n, leading=True)
