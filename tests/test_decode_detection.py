"""Encoding detection and decoding (issue 13): plausible text per language, BOM-less UTF-16, bad bytes."""

from __future__ import annotations

import pytest

from policyidx.errors import ParseError
from policyidx.parsers import parse_bytes
from policyidx.parsers.decode import decode_bytes, plausibility

ZH = "发布日期：2022-10-24\n第一条 为了加强知识产权保护，促进创新发展，制定本办法。\n"
JA = "第1条 この規定は、知的財産権の保護を強化するために定める。\n"


@pytest.mark.parametrize("text, enc, lang", [
    ("发布日期：2022-10-24", "gbk", "zh"),  # was read as half-width katakana
    (JA, "cp932", "zh"),  # Japanese in a zh document: not GBK mojibake
    (JA, "euc_jp", "ja"),
    (ZH, "gb18030", "ja"),  # Chinese in a ja document
    (ZH, "utf-16-le", "zh"),  # UTF-16 without BOM (ASCII in it: NULs at odd bytes)
    (ZH, "utf-16-be", "zh"),
    ("中华人民共和国专利法第一条", "utf-16-le", "zh"),  # no ASCII at all, 一 is U+4E00
    ("中華人民共和國專利法第一條", "big5", "zh"),
])
def test_detected_and_decoded_right(text, enc, lang):
    got, used, warnings = decode_bytes(text.encode(enc), name="f.txt", lang=lang)
    assert got == text and warnings == []


@pytest.mark.parametrize("enc", ["gbk", "utf-8", "cp932"])
def test_a_truncated_last_byte_is_replaced_and_reported(enc):
    text = (ZH if enc != "cp932" else JA) * 3
    got, _, warnings = decode_bytes(text.encode(enc).rstrip(b"\n")[:-1], name="f.txt", lang="zh")
    assert got[:-1] == text.rstrip("\n")[:-1] and got.endswith("\ufffd")
    assert [w.code for w in warnings] == ["undecodable-bytes"] and "byte offset" in warnings[0].message


def test_wrong_codec_output_is_implausible():
    assert plausibility("发布日期：2022-10-24", "zh") > 0.8
    assert plausibility("ｷ｢ｲｼﾈﾕﾆﾚ｣ｺ2022-10-24", "zh") < 0
    assert plausibility("擔杮岅偺東栿暥彂偱偡丅抦揑嵿嶻尃偺曐岇", "zh") < 0


def test_valid_utf8_with_control_characters_is_text():
    text, enc, _ = decode_bytes("第一条\x01内容\x07".encode(), name="f.txt", lang="zh")
    assert enc == "utf-8" and text == "第一条\x01内容\x07"


@pytest.mark.parametrize("declared", ["gb2312", "utf-16", "shift_jis"])
def test_a_lying_meta_charset_is_not_followed(declared):
    page = f'<html><head><meta charset="{declared}"></head><body><p>一、发布日期：2022-10-24 加强知识产权保护</p></body></html>'
    res = parse_bytes(page.encode("utf-8"), doc_id="x.zh", lang="zh", format="html", name="p.html")
    assert "发布日期：2022-10-24加强知识产权保护" in res.text
    assert any(w.code == "meta-charset-ignored" for w in res.warnings)


def test_a_true_meta_charset_is_followed():
    page = '<html><head><meta charset="gbk"></head><body><p>一、发布日期：2022-10-24 加强知识产权保护</p></body></html>'
    res = parse_bytes(page.encode("gbk"), doc_id="x.zh", lang="zh", format="html", name="p.html")
    assert "发布日期" in res.text and not any(w.code == "meta-charset-ignored" for w in res.warnings)


@pytest.mark.parametrize("enc", ["rot13", "base64", "no-such-codec"])
def test_a_non_text_encoding_is_a_clear_error(enc):
    with pytest.raises(ParseError, match=r"f\.txt.*encoding"):
        parse_bytes(b"abc", doc_id="x.zh", lang="zh", encoding=enc, name="f.txt")


@pytest.mark.parametrize("blob", [
    bytes(b for i in range(40) for b in ((i * 37 + 11) % 256, 0)),  # small integers, little-endian
    b"x\x9c\xcbH\xcd\xc9\xc9\xcf\x80\x13\x001\xb0\x06=",  # a zlib stream with one NUL
])
def test_binary_with_nuls_at_one_parity_is_not_taken_for_utf16(blob):
    """NULs at one parity alone do not make UTF-16: the decoded text must read as text."""
    with pytest.raises(ParseError, match="blob.txt: looks like a binary file"):
        decode_bytes(blob, name="blob.txt")


@pytest.mark.parametrize("text", ["Article 1 hello\n", "附则", "第一条 为了规范管理，制定本办法。\n",
                                  "第1条\u3000この法律は、特許を保護する。"])
@pytest.mark.parametrize("enc", ["utf-16-le", "utf-16-be"])
def test_short_bomless_utf16_text_still_decodes(text, enc):
    assert decode_bytes(text.encode(enc), name="t.txt")[0] == text
