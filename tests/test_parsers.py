"""Parsers on the Chinese-original fixtures, on every encoding, and on bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from policyidx.corpus import Corpus, bundled_corpus_path, parse_document
from policyidx.errors import CatalogError, ParseError
from policyidx.parsers import parse_bytes
from policyidx.parsers.labels import cn_to_int, match_label
from policyidx.parsers.layout import normalize_line

FX = Path(__file__).resolve().parent / "fixtures" / "zh"


# ----------------------------------------------------------------------------- units

@pytest.mark.parametrize(
    "text, style, number, label",
    [
        ("一、知的財産権の創造レベルを高め", "cn", 1, "一、"),
        ("一．指導思想", "cn", 1, "一．"),
        ("十六、附则", "cn", 16, "十六、"),
        ("（六）知的財産権金融サービス", "cn-paren", 6, "（六）"),
        ("(四) 企業が良質な", "cn-paren", 4, "(四)"),
        ("(十三) 知的財産権資金支援の強化。", "cn-paren", 13, "(十三)"),
        ("3.知的財産権の共同運用", "num", 3, "3."),
        ("10.重点産業クラスター", "num", 10, "10."),
        ("2、加强宣传", "num", 2, "2、"),
        ("（1）核对专利法律状态", "num-paren", 1, "（1）"),
        ("第二十一条 本办法自", "article", 21, "第二十一条"),
        ("第三章 附则", "chapter", 3, "第三章"),
        ("①专利", "circled", 1, "①"),
    ],
)
def test_labels(text, style, number, label):
    m = match_label(text)
    assert m is not None and (m.style, m.number, m.label) == (style, number, label)


@pytest.mark.parametrize("text", ["2021年までに、", "15万件を超え", "1.5万元以下", "2023─2027年", "一是突出需求导向", "PCT出願"])
def test_not_labels(text):
    assert match_label(text) is None


@pytest.mark.parametrize("s, n", [("一", 1), ("十", 10), ("十六", 16), ("二十一", 21), ("一百零五", 105), ("１２", 12)])
def test_cn_to_int(s, n):
    assert cn_to_int(s) == n


@pytest.mark.parametrize(
    "raw, norm",
    [
        ("（2023─2027 年）", "（2023─2027年）"),
        ("中国共産党第 20 回全国代表大会", "中国共産党第20回全国代表大会"),
        ("政務 WeChat 公式アカウント", "政務WeChat公式アカウント"),
        ("Open  source   licence", "Open source licence"),
        ("国家知識産権局 工業信息化部", "国家知識産権局 工業信息化部"),
        ("　　为深入贯彻落实", "为深入贯彻落实"),
        ("指标\t2021年目标值", "指标 | 2021年目标值"),
    ],
)
def test_normalize_line(raw, norm):
    assert normalize_line(raw) == norm


# ----------------------------------------------------------------------------- Chinese originals

@pytest.fixture(scope="module")
def zgc_html():
    return parse_document(FX / "zgc-2019-ipap.zh.html", doc_id="zgc-2019-ipap.zh", lang="zh")


@pytest.fixture(scope="module")
def zgc_txt():
    return parse_document(FX / "zgc-2019-ipap.zh.txt", doc_id="zgc-2019-ipap.zh", lang="zh")


def test_html_and_text_give_the_same_document(zgc_html, zgc_txt):
    assert zgc_html.text == zgc_txt.text
    assert [c.id for c in zgc_html.clauses] == [c.id for c in zgc_txt.clauses]


def test_html_body_found_among_navigation(zgc_html):
    assert "首页" not in zgc_html.text and "ICP" not in zgc_html.text and "function" not in zgc_html.text
    assert zgc_html.parsed_title == "中关村国家自主创新示范区知识产权行动方案（2019-2021年）"
    assert zgc_html.issuers == ["中关村科技园区管理委员会", "北京市知识产权局"]
    assert zgc_html.dates["signed"] == "2019-04-18"
    assert zgc_html.clause("0.1").text.startswith("中关村科技园区管理委员会 北京市知识产权局关于印发")


def test_chinese_original_tree_matches_translation_paths(zgc_html, corpus):
    ja = corpus["zgc-2019-ipap.ja"]
    zh_paths = {c.path for c in zgc_html.clauses}
    ja_paths = {c.path for c in ja.clauses}
    shared = zh_paths & ja_paths
    assert len(shared) >= 30
    assert (3, 4, 15) in zh_paths and (3, 4, 14) not in zh_paths  # the fixture skips item 14
    assert (4, 5) in zh_paths and (4, 5) not in ja_paths
    assert zgc_html.clause("3.2.6").title == "完善知识产权“大保护”。"


def test_table_kept_as_text(zgc_html):
    assert "有效发明专利拥有量（万件） | 15以上" in zgc_html.clause("2").text


def test_skipped_number_warned(zgc_html):
    assert [w.code for w in zgc_html.warnings].count("skipped-number") >= 1


def test_regulation_numbering():
    doc = parse_document(FX / "reg-sample.zh.txt", doc_id="reg-sample.zh", lang="zh")
    expected = json.loads((FX / "reg-sample.expected.json").read_text(encoding="utf-8"))
    want = [(e["path"], e["label"]) for e in expected["clauses"] if e["path"] != "0"]
    got = [(c.id.split("#")[1], c.label) for c in doc.clauses if c.path[0] != 0]
    assert got == want
    for e in expected["clauses"]:
        if e["path"] != "0":
            assert doc.clause(e["path"]).text.startswith(e["title_prefix"])
    codes = [(w.code, w.message) for w in doc.warnings]
    assert any(code == "skipped-number" and "第九条" in msg for code, msg in codes)
    assert any(code == "not-a-label" and "1.5万元" in msg for code, msg in codes)
    # a paragraph that starts with a number is kept, in the clause it belongs to
    assert any("2021年起" in c.text for c in doc.clauses)


# ----------------------------------------------------------------------------- encodings and bad input

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_chinese_encodings(zgc_txt, encoding):
    data = (FX / "zgc-2019-ipap.zh.txt").read_text(encoding="utf-8").encode(encoding)
    res = parse_bytes(data, doc_id="zgc-2019-ipap.zh", lang="zh", name="x.txt")
    assert res.text == zgc_txt.text


@pytest.mark.parametrize("encoding", ["shift_jis", "cp932", "utf-8-sig"])
def test_japanese_encodings(corpus, encoding):
    src = bundled_corpus_path() / "ja" / "cnipa-2022-38.ja.txt"
    data = src.read_text(encoding="utf-8").encode(encoding, errors="strict")
    res = parse_bytes(data, doc_id="cnipa-2022-38.ja", lang="ja", name=str(src))
    assert res.text == corpus["cnipa-2022-38.ja"].text


def test_gbk_html_with_meta_charset(zgc_html):
    page = (FX / "zgc-2019-ipap.zh.html").read_text(encoding="utf-8")
    page = page.replace('charset=utf-8', 'charset=gb2312').replace('charset="utf-8"', 'charset="gb2312"')
    res = parse_bytes(page.encode("gbk"), doc_id="zgc-2019-ipap.zh", lang="zh", format="html", name="p.html")
    assert res.text == zgc_html.text


def test_binary_input_is_an_error_naming_the_file():
    with pytest.raises(ParseError, match="image.png"):
        parse_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, doc_id="x.zh", lang="zh", name="image.png")


def test_undecodable_input_is_an_error_naming_the_file():
    data = bytes([0x80, 0xFF, 0xFE, 0x81, 0x9F]) * 400
    with pytest.raises(ParseError, match="junk.txt"):
        parse_bytes(data, doc_id="x.zh", lang="zh", name="junk.txt")


def test_a_few_bad_bytes_are_replaced_and_reported():
    good = ("一、总体要求\n" + "加强知识产权保护，促进创新发展。" * 50 + "\n").encode("utf-8")
    res = parse_bytes(good[:-1] + b"\xff\xfe\n" + good.replace("一、".encode(), "二、".encode()), doc_id="x.zh", lang="zh", name="x.txt")
    assert [w.code for w in res.warnings] == ["undecodable-bytes"]
    assert len(res.roots) == 2 and "\ufffd" in res.text


@pytest.mark.parametrize("data", [b"", b"   \n\n  \n", "\ufeff".encode("utf-8")])
def test_empty_input(data):
    res = parse_bytes(data, doc_id="x.ja", lang="ja", name="empty.txt")
    assert res.roots == [] and [w.code for w in res.warnings] == ["empty"]


def test_huge_input_does_not_crash():
    para = "（一）加强知识产权保护。各地要完善快速协同保护机制，提升维权效率。\n"
    text = "".join(f"{'一二三四五六七八九'[i % 9]}、第{i}部分\n" + para * 40 for i in range(300))  # ~1.8 MB
    res = parse_bytes(text.encode("utf-8"), doc_id="big.zh", lang="zh", name="big.txt")
    assert len(res.text) > 400_000 and len(res.roots) == 300


def test_text_without_any_label_is_front_matter():
    res = parse_bytes("这是一段没有编号的文字。\n第二段。".encode(), doc_id="x.zh", lang="zh", name="x.txt")
    assert [c.path for r in res.roots for c in r.walk()] == [(0,), (0, 1)]


def test_repeated_numbers_keep_unique_ids():
    text = "一、甲\n（一）第一项内容。\n（一）重复编号的内容。\n二、乙\n".encode()
    res = parse_bytes(text, doc_id="x.zh", lang="zh", name="x.txt")
    ids = [c.id for r in res.roots for c in r.walk()]
    assert len(ids) == len(set(ids)) and "x.zh#1.1~2" in ids
    assert "repeated-number" in [w.code for w in res.warnings]


def test_wrong_format_pdf():
    with pytest.raises(ParseError, match="%PDF"):
        parse_bytes(b"not a pdf", doc_id="x.ja", lang="ja", format="pdf", name="x.pdf")


# ----------------------------------------------------------------------------- PDF

def _make_pdf(path: Path, pages: list[list[str]]) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiMin-W3"))
    c = canvas.Canvas(str(path))
    for lines in pages:
        c.setFont("HeiseiMin-W3", 11)
        y = 800
        for line in lines:
            c.drawString(40, y, line)
            y -= 18
        c.showPage()
    c.save()


def test_pdf(tmp_path):
    pdf = tmp_path / "t.pdf"
    _make_pdf(pdf, [
        ["1", "専利開放許諾試行事業方案", "一、全体的な要求", "（一）業務遂行の構想。本方案中の専利開放許諾試行は、試行を", "展開する省級知的財産権管理部門が開放許諾の理念と方式を参照し、位置づ"],
        ["2", "け、専利の早期許諾事業を促進する措置である。", "（二）基本的な原則。1つ目は市場志向を堅持することである。2つ目は", "サービス革新を強化することである。"],
    ])
    doc = parse_document(pdf, doc_id="cnipa-2022-448.ja", lang="ja", role="translation")
    assert [c.id.split("#")[1] for c in doc.clauses if c.path[0]] == ["1", "1.1", "1.2", "1.2.1", "1.2.2"]
    assert "位置づけ、専利の早期許諾事業" in doc.clause("1.1").text
    assert [p.number for p in doc.pages] == [1, 2]
    assert doc.clause("1.1").pages == (1, 2)
    assert doc.clause("1.2").pages == (2,)


def test_unreadable_pdf(tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\n garbage garbage")
    with pytest.raises(ParseError, match="bad.pdf"):
        parse_document(bad, doc_id="x.ja", lang="ja")


# ----------------------------------------------------------------------------- catalog and user corpora

def _copy_corpus(tmp_path: Path) -> Path:
    dst = tmp_path / "corpus"
    shutil.copytree(bundled_corpus_path(), dst)
    return dst


def test_user_corpus_with_an_added_original(tmp_path):
    root = _copy_corpus(tmp_path)
    shutil.copy(FX / "zgc-2019-ipap.zh.html", root / "zh" / "zgc-2019-ipap.zh.html")
    with open(root / "catalog.toml", "a", encoding="utf-8") as f:
        f.write('\n[[document]]\nid = "zgc-2019-ipap.zh"\nwork = "zgc-2019-ipap"\nlang = "zh"\nrole = "original"\n'
                'title = "中关村国家自主创新示范区知识产权行动方案（2019-2021年）"\nfile = "zh/zgc-2019-ipap.zh.html"\nformat = "html"\n')
    corpus = Corpus.load(root)
    assert len(corpus) == 6
    assert corpus.clause("zgc-2019-ipap.zh#3.2.6").label == "6."
    assert [d.id for d in corpus.counterpart_docs("zgc-2019-ipap.zh")] == ["zgc-2019-ipap.ja"]
    assert corpus.fingerprint() != Corpus.load().fingerprint()


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.replace('translator = "JETRO"\n', 'translator = "JETRO"\ncolour = "red"\n', 1), "unknown key 'colour'"),
        (lambda s: s.replace("ja/cnipa-2022-38.ja.txt", "ja/missing.txt"), "missing.txt"),
        (lambda s: s.replace('id = "miit-2023-48.ja"', 'id = "cnipa-2022-38.ja"'), "duplicate document id"),
        (lambda s: s.replace('work = "zgc-2019-ipap"', 'work = "zgc-2099"'), "'zgc-2099' is not in the catalog"),
        (lambda s: s.replace('lang = "ja"\nrole = "translation"', 'lang = "ja"\nrole = "summary"', 1), "role 'summary'"),
        (lambda s: s + "\n[[document\n", "not a valid TOML"),
    ],
)
def test_catalog_errors_name_the_entry(tmp_path, edit, message):
    root = _copy_corpus(tmp_path)
    cat = root / "catalog.toml"
    cat.write_text(edit(cat.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        Corpus.load(root)


def test_not_a_corpus_directory(tmp_path):
    with pytest.raises(CatalogError, match="no catalog.toml"):
        Corpus.load(tmp_path)


def test_corpus_access(corpus):
    assert len(corpus) == 5
    assert corpus["cnipa-2022-38.ja"].clause("cnipa-2022-38.ja#2.6") is corpus.clause("cnipa-2022-38.ja#2.6")
    assert sum(1 for _ in corpus.clauses()) == sum(len(d) for d in corpus)
    with pytest.raises(KeyError):
        corpus["nope.ja"]
    with pytest.raises(KeyError):
        corpus.clause("cnipa-2022-38.ja#9.9")
