"""The formal-article factor of the hybrid mode: a document's title line and its purpose,
commencement and repeal articles lose a share of their score, unless the query asks about them
(single and sharded indexes alike)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from policyidx.corpus import Corpus
from policyidx.index import Index
from policyidx.retrieval.modes import HYBRID_DEFAULTS
from policyidx.retrieval.retrievers import asks_boilerplate, is_boilerplate

from index_workers import hybrid_scores, text_corpus


def test_formal_articles_and_title_lines():
    texts = ["为了加强气象灾害防御，根据《中华人民共和国气象法》，结合本市实际，制定本条例。",
             "根据《中华人民共和国税收征收管理法》的规定，制定本细则。",
             "本条例自2020年1月1日起施行。", "本规定自公布之日起施行。",
             "本安排生效之日，《关于相互认可和执行判决的安排》同时废止。",
             "城市绿地管理办法", "この法律は、公布の日から施行する。",
             # not formal: a purpose clause that states a duty, a definition, an ordinary rule
             "为了保护环境，县级以上人民政府应当采取措施。", "本条例所称绿地，是指城市中的公园和草地。",
             "城市绿地由城市园林绿化部门负责管理。", "", "国は環境を保護する。"]
    titles = [""] * 5 + ["城市绿地管理办法"] + [""] * 6
    assert is_boilerplate(texts, titles).tolist() == [True] * 7 + [False] * 5
    # a title line is formal only in its own document
    assert is_boilerplate(["城市绿地管理办法"], ["公园管理办法"]).tolist() == [False]


@pytest.mark.parametrize("lang, query, asks", [
    ("zh", "本条例什么时候施行", True), ("zh", "制定这个办法的目的是什么", True), ("zh", "旧规定废止了吗", True),
    ("zh", "城市绿地由谁管理", False),
    ("en", "When does the regulation take effect?", True), ("en", "What is the purpose of the rules?", True),
    ("en", "Who manages the green spaces?", False),
    ("ja", "この規則はいつから施行されるか", True), ("ja", "緑地は誰が管理するか", False),
])
def test_a_question_about_the_formal_articles(lang, query, asks):
    assert asks_boilerplate(SimpleNamespace(lang=lang, query=query)) is asks


_ARTICLES = ("城市绿地管理办法\n\n"
             "第一条 为了加强城市绿地管理，根据有关法律，制定本办法。\n\n"
             "第二条 城市绿地由城市园林绿化部门负责管理。\n\n"
             "第三条 城市绿地的养护费用由市财政承担。\n\n"
             "第四条 本办法自2020年1月1日起施行。原城市绿地管理规定同时废止。\n")


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    return text_corpus(tmp_path_factory.mktemp("formal"), {
        "green": ("城市绿地管理办法", _ARTICLES),
        "other": ("公园管理办法", "第一条 公园内的绿地由公园管理机构养护。\n")})


@pytest.fixture(scope="module")
def single(corpus_dir, tmp_path_factory) -> Index:
    return Index.build(Corpus.load(corpus_dir), tmp_path_factory.mktemp("single") / "idx")


def test_formal_rows_lose_the_penalty(single):
    q = "城市绿地由谁管理"
    p = float(HYBRID_DEFAULTS["boilerplate_penalty"])
    assert 0 < p < 1
    on = hybrid_scores(single, q, "zh")
    off = hybrid_scores(single, q, "zh", boilerplate_penalty=0.0)
    formal = {"城市绿地管理办法", "公园管理办法", "为了加强城市绿地管理，根据有关法律，制定本办法。",
              "本办法自2020年1月1日起施行。原城市绿地管理规定同时废止。"}
    assert formal & set(off), off  # they are candidates
    for text, s in off.items():
        assert on[text] == pytest.approx((1 - p) * s if text in formal else s), text
    # the title line, which holds every word of the question, no longer comes before the answer
    best = max(on, key=on.get)
    assert best == "城市绿地由城市园林绿化部门负责管理。"


def test_a_question_about_commencement_keeps_them(single):
    q = "城市绿地管理办法什么时候施行"
    assert hybrid_scores(single, q, "zh") == hybrid_scores(single, q, "zh", boilerplate_penalty=0.0)
    assert single.search(q, k=1, query_lang="zh")[0].text.startswith("本办法自2020年1月1日起施行")


def test_sharded_index_applies_the_same_factor(corpus_dir, single, tmp_path):
    sharded = Index.build(Corpus.load(corpus_dir), tmp_path / "idx", shards=2)
    for q, lang in (("城市绿地由谁管理", "zh"), ("城市绿地的养护费用由谁承担", "zh"), ("城市绿地管理办法什么时候施行", "zh"),
                    ("Who manages urban green space?", "en"), ("都市の緑地は誰が管理するか", "ja")):
        a = single.search(q, k=5, query_lang=lang)
        b = sharded.search(q, k=5, query_lang=lang)
        assert a and [h.id for h in a] == [h.id for h in b]
        assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-5)
