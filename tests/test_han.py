"""Tests of policyidx.text.han: one Han form, width folding, lengths preserved."""

from __future__ import annotations

import pytest

from policyidx.text.han import HAN_RANGES, normalize_width, unify


@pytest.mark.parametrize(
    "ja, zh",
    [
        ("専利", "专利"),
        ("産業", "产业"),
        ("栄誉", "荣誉"),
        ("経営", "经营"),
        ("労働", "劳动"),
        ("団体", "团体"),
        ("図書", "图书"),
        ("対応", "对应"),
        ("関連", "关连"),
        ("総合", "总合"),
        ("発展", "发展"),
        ("転化", "转化"),
        ("拠点", "据点"),
        ("連帯", "连带"),
        ("戦略", "战略"),
        ("経済", "经济"),
        ("継続", "继续"),
        ("販売", "贩卖"),
        ("読者", "读者"),
        ("選択", "选择"),
        ("覚醒", "觉醒"),
        ("変化", "变化"),
        ("試験", "试验"),
        ("検査", "检查"),
        ("保険", "保险"),
        ("価値", "价值"),
        ("弁公室", "办公室"),
        ("並行", "并行"),
    ],
)
def test_shinjitai_becomes_simplified(ja: str, zh: str) -> None:
    assert unify(ja) == unify(zh) == zh


@pytest.mark.parametrize(
    "trad, simp",
    [("知識產權", "知识产权"), ("國際貿易", "国际贸易"), ("擔保融資", "担保融资"), ("開放許可", "开放许可")],
)
def test_traditional_becomes_simplified(trad: str, simp: str) -> None:
    assert unify(trad) == simp


@pytest.mark.parametrize(
    "a, b, shared",
    [
        ("知的財産権", "知识产权", "产权"),
        ("担保融資", "质押融资", "融资"),
        ("専利開放許諾", "专利开放许可", "专利开放"),
        ("国家知識産権局", "国家知识产权局", "产权局"),
    ],
)
def test_pairs_share_unified_substring(a: str, b: str, shared: str) -> None:
    assert shared in unify(a)
    assert shared in unify(b)


@pytest.mark.parametrize(
    "text",
    ["予以支持", "研究开发", "概念", "上海（沪）", "欠发达地区", "专精特新中小企业"],
)
def test_standard_simplified_text_is_unchanged(text: str) -> None:
    # Characters that are already standard Simplified must not become variants.
    assert unify(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "知的財産権によって専精特新中小企業の革新的な発展を支援する",
        "《關於知識產權助力專精特新中小企業創新發展的若干措施》",
        "（2023─2027 年）ＧＤＰ　４件",
        "",
    ],
)
def test_length_and_non_han_preserved(text: str) -> None:
    out = unify(text)
    assert len(out) == len(text)
    for a, b in zip(text, out):
        if not ("\u3400" <= a <= "\u9fff" or "\uf900" <= a <= "\ufaff"):
            assert a == b


def test_unify_is_idempotent_over_all_han() -> None:
    chars = "".join(chr(cp) for lo, hi in HAN_RANGES for cp in range(lo, hi))
    once = unify(chars)
    assert len(once) == len(chars)
    assert unify(once) == once


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ＡＢＣ１２３％", "ABC123%"),
        ("ｇｄｐ", "gdp"),
        ("（一）、「専利」。", "（一）、「専利」。"),
        ("ｶﾀｶﾅ", "カタカナ"),
        ("全角　空白", "全角 空白"),
        ("⼈⺠", "人⺠"),
        ("㈱…", "㈱…"),
    ],
)
def test_normalize_width(text: str, expected: str) -> None:
    out = normalize_width(text)
    assert out == expected
    assert len(out) == len(text)


def test_width_table_filled_on_demand_equals_the_whole_table() -> None:
    """normalize_width fills its table as characters are met; the result is the table
    built at once over every code point (the definition)."""
    from policyidx.text import han

    whole_width = han._build_width_table()
    lazy_w = han._WidthTable()
    for cp in list(range(0x80, 0x10000)) + list(range(0x2F800, 0x2FA20)):
        if 0xD800 <= cp < 0xE000:
            continue
        assert lazy_w[cp] == whole_width.get(cp, cp), hex(cp)
    assert lazy_w[ord("A")] == ord("A")
