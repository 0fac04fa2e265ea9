"""The sanction factor of the hybrid mode: a question about what an act costs (怎么处罚, 罚多少,
法律责任; "what is the penalty"; 処罰) prefers the Chinese clauses that state a sanction, an item
read with its lead-in (single and sharded indexes alike)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from policyidx.corpus import Corpus
from policyidx.index import Index
from policyidx.retrieval.modes import HYBRID_DEFAULTS
from policyidx.retrieval.retrievers import asks_sanction, has_sanction

from index_workers import hybrid_scores, text_corpus


@pytest.mark.parametrize("query, asks", [
    ("擅自占用绿地怎么处罚", True), ("未经许可举办焰火晚会要罚多少钱", True), ("泄露举报人信息要承担什么法律责任", True),
    ("拒不搬迁有什么后果", True), ("盗窃数额较大判几年", True), ("单位犯本罪如何定罪", True),
    ("登记机关应当如何审查", False), ("养犬登记证有效期多长", False),
])
def test_a_chinese_question_about_a_sanction(query, asks):
    assert asks_sanction(SimpleNamespace(lang="zh", query=query)) is asks
    assert not asks_sanction(SimpleNamespace(lang="ja", query=query))  # Chinese questions only


@pytest.mark.parametrize("lang, query, asks", [
    ("en", "What is the penalty for occupying green space without permission?", True),
    ("en", "What happens to a firm that does not keep the records?", True),
    ("en", "How much is the fine for parking on the lawn?", True),
    ("en", "Who manages the green spaces of a park?", False),
    ("ja", "緑地を無断で占用した場合の処罰は", True), ("ja", "記録を保存しない会社はどうなるか", True),
    ("ja", "公園の緑地は誰が管理するか", False),
])
def test_an_english_or_japanese_question_about_a_sanction(lang, query, asks):
    q = SimpleNamespace(lang=lang, query=query)
    assert asks_sanction(q, ("zh", "en", "ja")) is asks
    assert not asks_sanction(q, ("zh",))  # only the languages asked for


def test_a_clause_states_a_sanction():
    texts = ["由城市管理部门责令改正，处五千元罚款", "给予警告", "依法追究刑事责任", "吊销营业执照",
             "依照本条例第二十条的规定办理", "处三年以下有期徒刑", "养犬人应当为犬只办理登记", "登记机关作出决定", ""]
    assert has_sanction(texts).tolist() == [True, True, True, True, False, True, False, False, False]
    assert has_sanction(["依照前款规定处罚"]).tolist() == [True]


_ARTICLES = ("第一条 为了规范绿地管理，制定本办法。\n\n"
             "第二条 任何单位和个人不得擅自占用城市绿地。\n\n"
             "第三条 擅自占用城市绿地的，由城市管理部门责令限期退还，并处每平方米二百元罚款。\n\n"
             "第四条 有下列行为之一的，由城市管理部门处五百元罚款：\n"
             "（一）在绿地内倾倒垃圾的；\n"
             "（二）在绿地内停放车辆的。\n\n"
             "第五条 城市管理部门应当公开绿地的位置和面积。\n")


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    return text_corpus(tmp_path_factory.mktemp("sanction"), {
        "green": ("城市绿地管理办法", _ARTICLES),
        "other": ("公园管理办法", "第一条 公园内的绿地由公园管理机构养护。\n\n第二条 游客不得在绿地内停放车辆。\n")})


@pytest.fixture(scope="module")
def single(corpus_dir, tmp_path_factory) -> Index:
    return Index.build(Corpus.load(corpus_dir), tmp_path_factory.mktemp("single") / "idx")


def _scores(idx: Index, q: str, penalty: float | None = None) -> dict[str, float]:
    """Clause text -> hybrid score, ``penalty`` replacing the index's sanction penalty."""
    return hybrid_scores(idx, q, "zh", **({} if penalty is None else {"sanction_penalty": penalty}))


def test_clauses_without_a_sanction_lose_the_penalty(single):
    q = "在绿地内停放车辆怎么处罚"
    p = float(HYBRID_DEFAULTS["sanction_penalty"])
    assert 0 < p < 0.5
    on, off = _scores(single, q), _scores(single, q, 0.0)
    matched = [t for t in off if "绿地" in t]  # the keyword candidates (the others only dense ones)
    assert len(matched) >= 4
    for text in matched:
        s = off[text]
        # the item states no fine itself, its lead-in does: kept, like the penalty articles
        if "罚款" in text or text == "在绿地内停放车辆的。" or text == "在绿地内倾倒垃圾的；":
            assert on[text] == pytest.approx(s)
        else:
            assert on[text] == pytest.approx((1 - p) * s)
    assert any("罚款" not in t for t in matched if on[t] != pytest.approx(off[t]))
    # a question that asks about no sanction is unchanged
    q2 = "在绿地内停放车辆由谁管理"
    assert _scores(single, q2) == _scores(single, q2, 0.0)


def test_an_english_query_judges_the_chinese_clauses(single):
    """An English question about a sanction reaches Chinese clauses: those are judged, as for a
    Chinese question."""
    q = "What is the penalty for parking vehicles on green space?"
    p = float(HYBRID_DEFAULTS["sanction_penalty"])
    assert "en" in HYBRID_DEFAULTS["sanction_langs"]
    # the gloss index's candidates join after the factor, scaled by the best: left out here
    on = hybrid_scores(single, q, "en", gloss_candidates=0.0)
    off = hybrid_scores(single, q, "en", gloss_candidates=0.0, sanction_penalty=0.0)
    matched = [t for t in off if "绿地" in t]
    assert len(matched) >= 2
    lead_in = ("在绿地内停放车辆的。", "在绿地内倾倒垃圾的；")
    for text in matched:
        has = "罚款" in text or text in lead_in
        assert on[text] == pytest.approx(off[text] if has else (1 - p) * off[text])
    assert any("罚款" not in t and t not in lead_in for t in matched)


def test_sharded_index_applies_the_same_factor(corpus_dir, single, tmp_path):
    sharded = Index.build(Corpus.load(corpus_dir), tmp_path / "idx", shards=2)
    for q, lang in (("在绿地内停放车辆怎么处罚", "zh"), ("擅自占用城市绿地要罚多少钱", "zh"), ("绿地的位置由谁公开", "zh"),
                    ("What is the penalty for parking vehicles on green space?", "en")):
        a = single.search(q, k=5, query_lang=lang)
        b = sharded.search(q, k=5, query_lang=lang)
        assert a and [h.id for h in a] == [h.id for h in b]
        assert [round(h.score, 6) for h in a] == [round(h.score, 6) for h in b]
