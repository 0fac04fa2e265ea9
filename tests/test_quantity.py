"""The answer-type factor of the hybrid mode: a question that asks for a quantity (几天内, 罚款多少;
"how many days"; 何日以内) prefers the clauses that state a number with a unit (single and sharded
indexes alike)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from policyidx.corpus import Corpus
from policyidx.index import Index
from policyidx.retrieval.modes import HYBRID_DEFAULTS
from policyidx.retrieval.retrievers import asks_quantity, has_quantity, quantity_factor

from index_workers import hybrid_scores, text_corpus


@pytest.mark.parametrize("query, asks", [
    ("登记机关几天内作出决定", True), ("未经许可举办焰火晚会要罚多少钱", True), ("复议期限多长", True),
    ("多久内必须答复", True), ("一株古树罚款几万元", True),
    ("支付令里有好几项请求", False),  # 好几: "several", no question
    ("登记机关应当如何审查", False), ("多少钱", True),
])
def test_a_chinese_question_asking_for_a_quantity(query, asks):
    lang = "zh"
    assert asks_quantity(SimpleNamespace(lang=lang, query=query)) is asks
    assert not asks_quantity(SimpleNamespace(lang="en", query=query))  # each language its own words


@pytest.mark.parametrize("lang, query, asks", [
    ("en", "How many days does the registry have to decide?", True),
    ("en", "How much is the fine for fireworks without a permit?", True),
    ("en", "What percentage of the price may the deposit be?", True),
    ("en", "Deadline for suing after an objection", True),
    ("en", "How is the registry to examine the papers?", False),
    ("en", "Who decides how the money is spent?", False),
    ("en", "Can the company manage its own affairs?", False),
    ("ja", "登記機関は何日以内に決定しなければならないか", True),
    ("ja", "無許可の花火大会の罰金はいくらか", True),
    ("ja", "何人も登記簿を閲覧できるか", False),  # 何人も: "anyone", no question of number
    ("ja", "何年も前の登記を取り消せるか", False),  # 何年も: "for years"
    ("ja", "登記機関はどのように審査するか", False),
])
def test_an_english_or_japanese_question_asking_for_a_quantity(lang, query, asks):
    assert asks_quantity(SimpleNamespace(lang=lang, query=query)) is asks


def test_a_clause_states_a_quantity_with_a_number_and_a_unit():
    texts = ["应当自受理之日起二十日内作出决定", "处每株20万元以上50万元以下的罚款", "税率为5%",
             "応じて3か月以内に決定する", "50万円以下の過料", "应当审查申请材料并作出决定", "第十二条规定的情形", "", "公司法"]
    assert has_quantity(texts).tolist() == [True, True, True, True, True, False, False, False, False]
    assert quantity_factor(np.array([True, False]), 0.2).tolist() == pytest.approx([1.0, 0.8])
    assert quantity_factor(np.array([True, False]), 0.0).tolist() == [1.0, 1.0]
    assert quantity_factor(np.array([False]), 3.0).tolist() == [0.0]  # clipped to 0-1


_ARTICLES = ("第一条 为了规范登记工作，制定本办法。\n\n"
             "第二条 申请人应当向登记机关提交申请材料，登记机关审查申请材料后作出决定。\n\n"
             "第三条 登记机关应当自受理申请之日起二十日内作出决定。\n\n"
             "第四条 本办法自2020年1月1日起施行。\n")


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    return text_corpus(tmp_path_factory.mktemp("qty"), {
        "reg": ("登记办法", _ARTICLES),
        "other": ("养犬管理办法", "第一条 养犬人应当为犬只办理登记。\n\n第二条 养犬登记证有效期为一年。\n")})


@pytest.fixture(scope="module")
def single(corpus_dir, tmp_path_factory) -> Index:
    return Index.build(Corpus.load(corpus_dir), tmp_path_factory.mktemp("single") / "idx")


def _scores(idx: Index, q: str, penalty: float | None = None) -> dict[str, float]:
    """Clause text -> hybrid score, ``penalty`` replacing the index's quantity penalty."""
    return hybrid_scores(idx, q, "zh", **({} if penalty is None else {"quantity_penalty": penalty}))


def test_clauses_without_a_quantity_lose_the_penalty(single):
    q = "登记机关审查申请材料后几天内作出决定"
    p = float(HYBRID_DEFAULTS["quantity_penalty"])
    assert 0 < p < 0.5
    on, off = _scores(single, q), _scores(single, q, 0.0)
    matched = [t for t in off if "登记" in t]  # the keyword candidates (the others only dense ones)
    assert len(matched) >= 3
    for text in matched:
        s = off[text]
        if any(n in text for n in ("二十日内", "2020年", "一年")):
            assert on[text] == pytest.approx(s)  # a number with a unit: kept
        else:
            assert on[text] == pytest.approx((1 - p) * s)
    # a question that asks for no quantity is unchanged
    q2 = "登记机关审查申请材料后如何作出决定"
    assert _scores(single, q2) == _scores(single, q2, 0.0)


def test_an_english_query_judges_the_chinese_clauses(single):
    """An English question for a quantity reaches Chinese clauses: those are judged, as for a
    Chinese question (the factor on a query's renderings, not on its own language's rows)."""
    q = "How many days does the registration authority have to decide?"
    p = float(HYBRID_DEFAULTS["quantity_penalty"])
    # the gloss index's candidates join after the factor, scaled by the best: left out here
    on = hybrid_scores(single, q, "en", gloss_candidates=0.0)
    off = hybrid_scores(single, q, "en", gloss_candidates=0.0, quantity_penalty=0.0)
    matched = [t for t in off if "登记" in t]  # the keyword candidates, reached through 登记
    assert len(matched) >= 3
    for text in matched:
        has = any(n in text for n in ("二十日内", "2020年", "一年"))
        assert on[text] == pytest.approx(off[text] if has else (1 - p) * off[text])
    assert any(not any(n in t for n in ("二十日内", "2020年", "一年")) for t in matched)


def test_sharded_index_applies_the_same_factor(corpus_dir, single, tmp_path):
    sharded = Index.build(Corpus.load(corpus_dir), tmp_path / "idx", shards=2)
    for q, lang in (("登记机关审查申请材料后几天内作出决定", "zh"), ("养犬登记证有效期多长", "zh"), ("登记机关如何作出决定", "zh"),
                    ("How many days does the registration authority have to decide?", "en")):
        a = single.search(q, k=5, query_lang=lang)
        b = sharded.search(q, k=5, query_lang=lang)
        assert a and [h.id for h in a] == [h.id for h in b]
        assert [round(h.score, 6) for h in a] == [round(h.score, 6) for h in b]
