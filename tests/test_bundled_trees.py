"""Integration tests on the bundled corpus: exact clause trees and nothing lost."""

from __future__ import annotations

import re

import pytest

from policyidx.corpus import Corpus


def _ids(corpus: Corpus, doc: str) -> list[str]:
    return [c.id.split("#", 1)[1] for c in corpus[doc].clauses if c.path[0] != 0]


def _rng(prefix: str, a: int, b: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(a, b + 1)]


EXPECTED = {
    "cnipa-2022-38.ja": ["1", "1.1", "1.2", "1.3", "2", "2.4", "2.5", "2.6", "2.7", "3", "3.8", "3.9", "4", "4.10", "4.11",
                         "4.12", "4.13", "5", "5.14", "5.15", "5.16"],
    "miit-2023-48.ja": ["1", "2", "3", "3.1", "3.1.1", "3.1.2", "3.2", "3.2.3", "3.2.4", "3.2.5", "3.3", "3.3.6", "3.3.7",
                        "3.4", "3.4.8", "3.4.9", "3.4.10", "4", "4.1", "4.2", "4.3"],
    "zgc-2019-ipap.ja": ["1", "2", "3", "3.1", *_rng("3.1.", 1, 4), "3.2", *_rng("3.2.", 5, 7), "3.3", *_rng("3.3.", 8, 11),
                         "3.4", *_rng("3.4.", 12, 14), "3.5", *_rng("3.5.", 15, 16), "4", *_rng("4.", 1, 4)],
    "cnipa-2022-38-jiedu.zh": ["1", "2", "2.1", "2.2", "2.3", "3", "3.1", "3.2", "3.3", "3.4", "4"],
    "cnipa-2022-448.ja": ["1", "1.1", "1.2", *_rng("1.2.", 1, 3), "1.3", *_rng("1.3.", 1, 3), "2", "3", "3.1",
                          *_rng("3.1.", 1, 3), "3.2", *_rng("3.2.", 1, 2), "3.3", *_rng("3.3.", 1, 2), "3.4",
                          *_rng("3.4.", 1, 2), "4", *_rng("4.", 1, 3), "5", *_rng("5.", 1, 4), "6", *_rng("6.", 1, 3)],
}


@pytest.mark.parametrize("doc", sorted(EXPECTED))
def test_expected_tree(corpus, doc):
    assert _ids(corpus, doc) == EXPECTED[doc]


@pytest.mark.parametrize(
    "cid, label, title",
    [
        ("cnipa-2022-38.ja#2.6", "(六)", "知的財産権金融サービスの効果を高める。"),
        ("cnipa-2022-38.ja#1.1", "（一）", "企業の知的財産権創造の質と効率の向上を支援する。"),
        ("cnipa-2022-38.ja#1", "一、", "知的財産権の創造レベルを高め、企業の革新能力を強化する"),
        ("miit-2023-48.ja#3.2", "（二）", "重点産業における知的財産権の実用化・活用の深化"),
        ("miit-2023-48.ja#3.2.3", "3.", "知的財産権の共同運用のチャネルを開拓する。"),
        ("zgc-2019-ipap.ja#1", "一．", "指導思想"),
        ("cnipa-2022-38-jiedu.zh#3.2", "二是", "促运用。"),
        ("cnipa-2022-448.ja#1.2.1", "1つ目は", "市場志向を堅持することである。"),
        ("cnipa-2022-448.ja#5.4", "(四)", "総括段階"),
    ],
)
def test_labels_and_titles(corpus, cid, label, title):
    c = corpus.clause(cid)
    assert (c.label, c.title) == (label, title)


def test_mid_word_page_break_is_joined(corpus):
    text = corpus.clause("cnipa-2022-38.ja#1.3").text
    assert "位置づけ、経路分析を強化し" in text


@pytest.mark.parametrize(
    "cid, fragment",
    [
        ("miit-2023-48.ja#0.2", "（2023－2027年）"),  # "2027 年" lost its extraction space
        ("miit-2023-48.ja#1", "中国共産党第20回全国代表大会"),
        ("miit-2023-48.ja#3.2", "活用の深化"),  # heading cut mid-word across lines
        ("cnipa-2022-38-jiedu.zh#4", "联合开展督促指导"),
        ("cnipa-2022-38-jiedu.zh#3", "围绕提升知识产权创造水平"),
    ],
)
def test_layout_artefacts_undone(corpus, cid, fragment):
    assert fragment in corpus.clause(cid).text


def test_spaces_between_latin_words_stay(corpus):
    assert "政務WeChat公式アカウント" in corpus.clause("cnipa-2022-448.ja#4.3").text
    doc = corpus["miit-2023-48.ja"]
    assert any("jetro.go.jp" in u for u in doc.urls)


def test_notes(corpus):
    notes = [n for c in corpus["zgc-2019-ipap.ja"].clauses for n in c.notes]
    translator = [n.text for n in notes if n.kind == "translator"]
    assert len(translator) == 5
    assert translator[0] == "（特許、実用新案、意匠を含む――訳注）"
    agency = [n for c in corpus["miit-2023-48.ja"].clauses for n in c.notes if n.kind == "agency"]
    assert "（知識産権局が主導し、工業情報化部が協力する）" in {n.text for n in agency}
    for c in corpus["miit-2023-48.ja"].clauses:
        for n in c.notes:  # notes stay in the text, at their offsets
            assert corpus["miit-2023-48.ja"].text[n.start : n.end] == n.text and n.text in c.text


def test_header_and_footer_facts(corpus):
    d = corpus["cnipa-2022-38.ja"]
    assert d.doc_number == "国知発運字〔2022〕38号"
    assert d.issuers == ["国家知識産権局", "工業信息化部"]
    assert d.dates == {"published": "2022-10-24", "signed": "2022-10-13"}
    # split at the top level only: 各省、自治区、直轄市 share the head noun of the organ after them
    assert d.addressees == ["各省、自治区、直轄市、新疆生産建設兵団知識産権管理部門", "工業信息化主管部門"]

    assert d.parsed_title == "知的財産権によって専精特新中小企業の革新的な発展を支援するための若干の措置"
    assert d.source_line.startswith("出所先：国家知識産権局")
    assert d.urls == ["https://www.cnipa.gov.cn/art/2022/10/24/art_75_179782.html"]
    assert d.disclaimer.startswith("※本資料はジェットロが作成した仮訳")
    m = corpus["miit-2023-48.ja"]
    assert m.doc_number == "工信庁聯科〔2023〕48号"
    assert m.dates["signed"] == "2023-08-24" and m.dates["published"] == "2023-09-05"
    assert m.urls[0] == "https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2023/art_a6abdf55cabe446ea447d935e7622366.html"
    assert corpus["zgc-2019-ipap.ja"].doc_number is None


def test_addressee_line_without_its_colon_is_its_own_part(corpus):
    # the translation drops the colon and the page-width layout ran the line on into the body
    d = corpus["miit-2023-48.ja"]
    addr = d.clause("0.6")
    assert addr.style == "addressees" and addr.text.endswith("関連の業界団体（連合会）")
    assert d.clause("0.1~2").text.startswith("『産業革新と発展")
    assert d.addressees == ["各省・自治区・直轄市及び新疆生産建設兵団の工業情報化・知的財産権主管部門", "部門所属団体",
                            "部門所属高等教育機関", "関連の業界団体（連合会）"]


def test_pages_of_pdf_extracted_text(corpus):
    d = corpus["miit-2023-48.ja"]
    assert [p.number for p in d.pages] == [1, 2, 4]
    assert d.clause("3.1.1").pages == (4,)
    assert d.clause("0.2").pages == (1, 2) or d.clause("0.2").pages == (1,)


def test_warnings_for_numbers_that_are_not_labels(corpus):
    w = corpus["zgc-2019-ipap.ja"].warnings
    assert any(x.code == "not-a-label" and "2021年までに" in x.message for x in w)


# ----------------------------------------------------------------------------- nothing lost

def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


@pytest.mark.parametrize("doc", sorted(EXPECTED))
def test_offsets_are_exact(corpus, doc):
    d = corpus[doc]
    for c in d.clauses:
        assert d.text[c.start : c.end] == c.text
        for s in c.sentences:
            assert d.text[s.start : s.end] == s.text
            assert c.start <= s.start < s.end <= c.end


def _coverage(d) -> str:
    """Every character of the text that is in a clause label, a clause text, the header or the footer."""
    covered = bytearray(len(d.text))
    owner_count = [0] * len(d.text)
    for c in d.clauses:
        for i in range(c.label_start, c.start if c.label else c.label_start):
            owner_count[i] += 1
        for i in range(c.start, c.end):
            owner_count[i] += 1
    for i, n in enumerate(owner_count):
        if n > 1:
            raise AssertionError(f"{d.id}: character {i} {d.text[i]!r} is in {n} clauses")
        if n:
            covered[i] = 1
    for s, e in d.header_spans:
        for i in range(s, e):
            covered[i] = 1
    if d.footer_span:
        for i in range(*d.footer_span):
            covered[i] = 1
    return "".join(ch for ch, k in zip(d.text, covered) if not k)


@pytest.mark.parametrize("doc", sorted(EXPECTED))
def test_nothing_lost(corpus, doc):
    d = corpus[doc]
    # 1. the normalised text keeps every non-space character of the source but page numbers
    raw = open(d.source_path, encoding="utf-8").read()
    page_lines = {str(p.number) for p in d.pages}
    raw_kept = "".join(ln for ln in raw.splitlines() if ln.strip() not in page_lines)
    assert _squash(d.text) == _squash(raw_kept)
    # 2. every character is in exactly one clause, or in the header or the footer
    assert _squash(_coverage(d)) == ""
    # 3. every sentence of the body is whole in exactly one clause's text
    texts = [_squash(c.text) for c in d.clauses]
    for c in d.clauses:
        for s in c.sentences:
            assert sum(_squash(s.text) in t for t in texts) >= 1
    body_sentences = [_squash(s.text) for c in d.clauses for s in c.sentences]
    assert _squash("".join(body_sentences)) == _squash("".join(c.text for c in d.clauses))


# ----------------------------------------------------------------------------- the Chinese-original fixtures

from pathlib import Path  # noqa: E402

from policyidx.corpus import parse_document  # noqa: E402

FX = Path(__file__).resolve().parent / "fixtures" / "zh"


@pytest.mark.parametrize("name", ["zgc-2019-ipap.zh.txt", "zgc-2019-ipap.zh.html", "reg-sample.zh.txt"])
def test_nothing_lost_in_fixtures(name):
    d = parse_document(FX / name, doc_id="fx.zh", lang="zh")
    if name.endswith(".txt"):
        raw = (FX / name).read_text(encoding="utf-8").replace("\t", "|")
        assert _squash(d.text).replace("|", "") == _squash(raw).replace("|", "")
    assert _squash(_coverage(d)) == ""
    for c in d.clauses:
        assert d.text[c.start : c.end] == c.text
        for s in c.sentences:
            assert d.text[s.start : s.end] == s.text and s.text in c.text
    body_sentences = [_squash(s.text) for c in d.clauses for s in c.sentences]
    assert _squash("".join(body_sentences)) == _squash("".join(c.text for c in d.clauses))
