"""Alignment of the zgc-2019-ipap fixture with its JETRO translation, and match() on the
CNIPA 解读 against the measures it explains."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from policyidx.alignment import (
    Alignment,
    AlignmentError,
    ClausePair,
    SentencePair,
    align,
    match,
    numbers_in,
    quoted_in,
)
from policyidx.alignment.signals import _strip_notes
from policyidx.alignment.similarity import _dp
from policyidx.bench.align import _synthetic_document
from policyidx.corpus import parse_document
from policyidx.errors import QueryError
from policyidx.text.glossary import Glossary
from policyidx.model import Document

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLD = FIXTURES / "align" / "zgc-2019-ipap.gold.jsonl"
ZH = "zgc-2019-ipap.zh"
JA = "zgc-2019-ipap.ja"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def ja_doc(corpus) -> Document:
    return corpus[JA]


@pytest.fixture(scope="module", params=["txt", "html"])
def zh_doc(request) -> Document:
    return parse_document(FIXTURES / "zh" / f"zgc-2019-ipap.zh.{request.param}", doc_id=ZH, lang="zh", role="original")


@pytest.fixture(scope="module")
def zh_txt() -> Document:
    return parse_document(FIXTURES / "zh" / "zgc-2019-ipap.zh.txt", doc_id=ZH, lang="zh", role="original")


@pytest.fixture(scope="module")
def alignment(zh_doc, ja_doc) -> Alignment:
    return align(zh_doc, ja_doc)


def _sentence_by_substring(doc: Document, sub: str) -> str:
    hits = [s.id for c in doc.clauses for s in c.sentences if sub in re.sub(r"\s+", "", s.text)]
    assert len(hits) == 1, f"{sub!r} found in {hits}"
    return hits[0]


def _gold(zh: Document, ja: Document) -> tuple[set[tuple[str, str]], set[str], set[str], list[dict]]:
    lines = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = lines[1:]
    links: set[tuple[str, str]] = set()
    cov_zh: set[str] = set()
    cov_ja: set[str] = set()
    for g in pairs:
        zs = [_sentence_by_substring(zh, x) for x in g["zh"]]
        js = [_sentence_by_substring(ja, x) for x in g["ja"]]
        cov_zh.update(zs)
        cov_ja.update(js)
        links.update((a, b) for a in zs for b in js)
    return links, cov_zh, cov_ja, pairs


# --------------------------------------------------------------------------- gold P/R


def test_sentence_links_against_gold(zh_doc, ja_doc, alignment):
    gold, cov_zh, cov_ja, _ = _gold(zh_doc, ja_doc)
    assert len(gold) == 98
    # headings and signature lines are outside the gold: a predicted link counts when one
    # of its sentences is covered by the gold
    predicted = {(a, b) for a, b in alignment.links() if a in cov_zh or b in cov_ja}
    correct = len(predicted & gold)
    precision, recall = correct / len(predicted), correct / len(gold)
    print(f"\nsentence links vs gold: P={precision:.3f} R={recall:.3f} ({len(predicted)} predicted, {len(gold)} gold)")
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)


def test_gold_one_to_nothing_pairs_stay_unaligned(zh_doc, ja_doc, alignment):
    _, _, _, pairs = _gold(zh_doc, ja_doc)
    linked = {a for a, _ in alignment.links()}
    orphans = [_sentence_by_substring(zh_doc, g["zh"][0]) for g in pairs if not g["ja"]]
    assert len(orphans) == 9  # six table lines and three sentences of 四（五）
    assert not linked & set(orphans)


def test_missing_clause_aligns_to_nothing(alignment):
    cp = alignment.counterpart(f"{ZH}#4.5")
    assert cp.tgt == () and cp.method == "none" and cp.kind == "1-0"
    assert all(sp.tgt == () for sp in cp.sentences) and len(cp.sentences) == 3


def test_renumbered_item_is_paired_by_content(alignment):
    cp = alignment.counterpart(f"{ZH}#3.4.15")
    assert cp.tgt == (f"{JA}#3.4.14",)
    assert cp.method == "content"
    # the other 15. (under （五）) keeps its own number
    assert alignment.counterpart(f"{ZH}#3.5.15").tgt == (f"{JA}#3.5.15",)
    assert alignment.counterpart(f"{ZH}#3.5.15").method == "structure"


@pytest.mark.parametrize(
    "zh_subs, ja_sub",
    [
        (["“七位一体”的知识产权大保护格局", "推动知识产权保护实现更高水平的协同高效"], "「七位一体」"),
        (["通过设立专利质押融资保险等方式分担风险", "促进金融机构开发和完善知识产权质押融资产品"], "専利担保融資保険の設置"),
        (["紧扣首都“四个中心”城市战略定位", "为推动北京经济高质量发展奠定坚实基础"], "都市の戦略的位置付けを踏まえ"),
    ],
)
def test_merged_sentences_are_two_to_one(zh_doc, ja_doc, alignment, zh_subs, ja_sub):
    want_src = tuple(_sentence_by_substring(zh_doc, s) for s in zh_subs)
    want_tgt = (_sentence_by_substring(ja_doc, ja_sub),)
    beads = [sp for sp in alignment.sentence_pairs() if set(sp.src) & set(want_src)]
    assert [(sp.src, sp.tgt) for sp in beads] == [(want_src, want_tgt)]


def test_split_sentence_is_one_to_two(zh_doc, ja_doc, alignment):
    src = _sentence_by_substring(zh_doc, "支持企业开展运营类专利导航项目")
    bead = next(sp for sp in alignment.sentence_pairs() if src in sp.src)
    assert bead.tgt == (
        _sentence_by_substring(ja_doc, "運営類専利コンサルティング"),
        _sentence_by_substring(ja_doc, "10社以上の重点企業による"),
    )


def test_every_clause_appears_once(zh_doc, ja_doc, alignment):
    src_ids = [c for cp in alignment.pairs for c in cp.src]
    tgt_ids = [c for cp in alignment.pairs for c in cp.tgt]
    assert sorted(src_ids) == sorted(c.id for c in zh_doc.clauses)
    assert sorted(tgt_ids) == sorted(c.id for c in ja_doc.clauses)
    assert alignment.params["length_ratio"] > 1.2  # Japanese runs longer than Chinese


def test_structure_lost_content_still_aligns(zh_txt, ja_doc):
    # Both documents flattened into one clause each: only the content can guide.
    zh_flat = _synthetic_document("flat.zh", "zh", [(1, [s.text for c in zh_txt.clauses for s in c.sentences])], False)
    ja_flat = _synthetic_document("flat.ja", "ja", [(1, [s.text for c in ja_doc.clauses for s in c.sentences])], False)
    al = align(zh_flat, ja_flat)
    zh_text = {s.id: s.text for c in zh_flat.clauses for s in c.sentences}
    ja_text = {s.id: s.text for c in ja_flat.clauses for s in c.sentences}
    gold, _, _, _ = _gold(zh_txt, ja_doc)
    orig_zh = {s.id: s.text for c in zh_txt.clauses for s in c.sentences}
    orig_ja = {s.id: s.text for c in ja_doc.clauses for s in c.sentences}
    gold_text = {(orig_zh[a], orig_ja[b]) for a, b in gold}
    predicted = {(zh_text[a], ja_text[b]) for a, b in al.links()}
    recall = len(predicted & gold_text) / len(gold_text)
    assert recall >= 0.9, recall


def test_alignment_round_trips_through_json(alignment):
    again = Alignment.from_json(alignment.to_json())
    assert again == alignment
    assert again.to_dict() == json.loads(json.dumps(alignment.to_dict()))


@pytest.mark.parametrize(
    "record",
    [
        {"format": "something-else"},
        {"format": "policyidx-alignment", "version": 99, "src": "a", "tgt": "b", "pairs": []},
        {"format": "policyidx-alignment", "version": 1, "src": "a", "tgt": "b", "pairs": [{"src": "x"}]},
        {"format": "policyidx-alignment", "version": 1, "src": "a", "tgt": "b",
         "pairs": [{"src": [], "tgt": [], "score": 0, "method": "magic", "sentences": []}]},
    ],
)
def test_malformed_records_are_rejected(record):
    with pytest.raises(AlignmentError):
        Alignment.from_dict(record)


def test_align_rejects_the_same_document_twice(ja_doc):
    with pytest.raises(QueryError):
        align(ja_doc, ja_doc)


def test_builtin_encoder_signal(zh_txt, ja_doc):
    al = align(zh_txt, ja_doc, encoder="builtin")
    assert al.params["encoder"]["name"] == "builtin"
    gold, cov_zh, cov_ja, _ = _gold(zh_txt, ja_doc)
    predicted = {(a, b) for a, b in al.links() if a in cov_zh or b in cov_ja}
    assert len(predicted & gold) / len(gold) >= 0.95


def test_glossary_is_optional(zh_txt, ja_doc):
    al = align(zh_txt, ja_doc, glossary=Glossary([]))
    assert al.params["glossary_entries"] == 0
    assert al.counterpart(f"{ZH}#3.4.15").tgt == (f"{JA}#3.4.14",)


# --------------------------------------------------------------------------- signals


@pytest.mark.parametrize(
    "text, expected",
    [
        ("有效发明专利拥有量超过15万件", ["150000"]),
        ("有効特許の保有件数が15万件を超え", ["150000"]),
        ("国际商标注册量累计达到1.8万件", ["18000"]),
        ("国際商標登録件数が累計で1万8,000件に達し", ["18000"]),
        ("年PCT专利申请量达到8000件", ["8000"]),
        ("年間PCTに基づく専利出願件数が8,000件に達し", ["8000"]),
        ("到２０２１年", ["2021"]),
        ("引进5-10家国际知识产权服务机构", ["5", "10"]),
        ("5～10か所の国際知的財産サービス支援機関", ["5", "10"]),
        ("深入贯彻落实党的十九大精神", ["19"]),
        ("中国共産党第19回全国代表大会", ["19"]),
        ("《\"十四五\"国家知识产权保护和运用规划》", []),
    ],
)
def test_numbers_meet_across_languages(text, expected):
    assert numbers_in(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("「専精特新」中小企業", ["专精特新"]),
        ("“专精特新”中小企业", ["专精特新"]),
        ('走好"专精特新"发展之路', ["专精特新"]),
        ("「『専精特新』中小企業のための具体的な取組リスト」", ["专精特新中小企业のための具体的な取组リスト", "专精特新"]),
        ("《关于知识产权助力专精特新中小企业创新发展的若干措施》", ["关于知识产权助力专精特新中小企业创新发展的若干措施"]),
        ("没有引号的句子。", []),
    ],
)
def test_quoted_names_are_unified(text, expected):
    assert quoted_in(text) == expected


def test_translator_note_is_cut_before_scoring(ja_doc):
    clause = ja_doc.clause("3.1.2")
    sentence = next(s for s in clause.sentences if "双創" in s.text)
    cleaned = _strip_notes(sentence.text, sentence.start, clause.notes)
    assert "訳注" not in cleaned and "双創企業知的財産支援計画" in cleaned.replace("\n", "")


def test_dp_finds_two_to_one_and_skips():
    # src 0,1 merge into tgt 0; src 2 has no counterpart; src 3 <-> tgt 1
    g11 = np.array([[0.3, -0.5], [0.2, -0.5], [-0.5, -0.5], [-0.5, 0.8]])
    g21 = np.array([[0.9, -0.5], [-0.5, -0.5], [-0.5, -0.5]])
    g12 = np.full((4, 1), -0.5)
    assert _dp(g11, g21, g12) == [(0, 2, 0, 1), (2, 3, 1, 1), (3, 4, 1, 2)]


# --------------------------------------------------------------------------- match


JIEDU = "cnipa-2022-38-jiedu.zh"
MEASURES = "cnipa-2022-38.ja"

# Read from both texts: each statement of the 解读's 主要内容 names the measure it summarises.
MATCH_GOLD = {
    "3.1/2": "1.1",  # 享受知识产权优先审查政策 -> 専利優先審査政策を享受
    "3.1/3": "1.2",  # 知识产权管理国际标准推广应用 -> ISO 56005 国際標準を普及・適用
    "3.1/4": "1.3",  # 专利导航 -> 専利ナビゲーション
    "3.2/2": "2.4",  # 开放许可 / 专利常态化供需机制 -> 専利開放許諾 / 常態化需給結合メカニズム
    "3.2/3": "2.5",  # 专利密集型产品备案 -> 専利密集型製品の登録
    "3.2/4": "2.6",  # 知识产权质押融资 -> 知的財産権担保融資
    "3.2/5": "2.7",  # 品牌价值提升计划 / 商标品牌指导站 -> ブランド価値向上計画 / ガイダンスステーション
    "3.3/2": "3.8",  # 专利侵权行政裁决 / 快速协同保护 -> 行政裁決 / 迅速な協調的保護
    "3.3/3": "3.9",  # 维权援助专项行动 / 海外维权援助 -> 保護支援特別活動 / 海外知的財産権保護
    "3.4/2": "4.10",  # 基础数据开放共享 -> 基礎データの公開共有
    "3.4/3": "4.11",  # 服务机构评价信息推送 / 知识产权服务万里行 -> 評価情報の発信 / サービス万里行
    "3.4/4": "4.12",  # 知识产权经理人队伍 -> 知的財産権マネジメント担当チーム
    "3.4/5": "4.13",  # 资金和政策支持, 惠及优质中小企业 -> 資金支援, 優良な中小企業に利益
}


def test_match_against_gold(corpus):
    a, b = corpus[JIEDU], corpus[MEASURES]
    gold = {(f"{JIEDU}#{k}", f"{MEASURES}#{v}") for k, v in MATCH_GOLD.items()}
    matches = match(a, b, within_a=["3.1", "3.2", "3.3", "3.4"])
    predicted = {(m.a, m.b) for m in matches if m.a in {x for x, _ in gold}}
    correct = len(predicted & gold)
    precision, recall = correct / len(predicted), correct / len(gold)
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)
    assert all(m.score >= 0.3 for m in matches)


@pytest.mark.parametrize(
    "statement, measure, anchor",
    [
        ("3.1/4", "1.3", "glossary:专利导航=専利ナビゲーション"),
        ("3.2/3", "2.5", "glossary:专利密集型产品备案"),
        ("3.2/5", "2.7", "glossary:品牌价值提升计划=ブランド価値向上計画"),
        ("3.1/2", "1.1", "han:优先审查政策"),
    ],
)
def test_match_evidence_names_the_anchor(corpus, statement, measure, anchor):
    matches = match(corpus[JIEDU], corpus[MEASURES], within_a=[statement.split("/")[0]])
    m = next(m for m in matches if m.a == f"{JIEDU}#{statement}" and m.b == f"{MEASURES}#{measure}")
    assert any(e.startswith(anchor) for e in m.evidence), m.evidence


def test_match_claims_nothing_below_threshold(corpus):
    assert match(corpus[JIEDU], corpus[MEASURES], threshold=0.99) == []


@pytest.mark.parametrize("kwargs", [{"unit_a": "paragraph"}, {"within_a": ["x.y"]}, {"relative": 1.5}])
def test_match_rejects_bad_arguments(corpus, kwargs):
    with pytest.raises(QueryError):
        match(corpus[JIEDU], corpus[MEASURES], **kwargs)


def test_records_are_frozen():
    sp = SentencePair(("a/1",), ("b/1",), 0.5)
    cp = ClausePair(("a#1",), ("b#1",), 0.5, "structure", [sp])
    assert cp.kind == "1-1"
    with pytest.raises(AttributeError):
        sp.score = 1.0  # type: ignore[misc]
