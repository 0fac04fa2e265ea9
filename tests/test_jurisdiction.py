"""The jurisdiction factor of the hybrid mode: a Chinese query that names a city or province
prefers that jurisdiction's regulation over the same rule in another's (single and sharded
indexes alike)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from policyidx.corpus import Corpus
from policyidx.index import Index
from policyidx.retrieval.base import Ranking
from policyidx.retrieval.fusion import dense_rerank
from policyidx.retrieval.modes import HYBRID_DEFAULTS
from policyidx.retrieval.retrievers import jurisdiction_factor, jurisdiction_names, query_jurisdictions

from index_workers import text_corpus


def test_names_are_read_from_the_head_of_titles():
    titles = ["郑州市城市道路交通安全管理条例", "河南省实施《水土保持法》办法", "中华人民共和国香港特别行政区基本法",
              "广州市文明行为促进条例", "内蒙古自治区草原管理条例", "城市市容和环境卫生管理条例",
              "市场监督管理投诉举报处理暂行办法", "最高人民法院关于审理涉及会计师事务所在审计业务活动中民事侵权赔偿案件的若干规定",
              "水土保持法", "", "县级人民政府工作规则"]
    assert jurisdiction_names(titles) == frozenset({"郑州", "河南", "香港", "广州", "内蒙古"})


def test_a_query_names_a_jurisdiction_alone_or_with_its_suffix():
    names = frozenset({"郑州", "河南", "洛阳"})
    assert query_jurisdictions(["郑州", "交通事故", "认定书"], names) == ("郑州",)
    assert query_jurisdictions(["河南省", "义务", "植树", "河南"], names) == ("河南",)
    assert query_jurisdictions(["洛阳市", "郑州"], names) == ("洛阳", "郑州")
    assert query_jurisdictions(["交通事故", "市", "开封"], names) == ()


def test_factor_keeps_the_named_jurisdiction_and_lowers_the_others():
    titles = ["郑州市城市道路交通安全管理条例", "道路交通事故处理程序规定", "洛阳市道路交通安全条例", "河南省郑州市某规定"]
    got = jurisdiction_factor(("郑州",), titles, 0.5)
    assert got.tolist() == [1.0, 0.5, 0.5, 1.0]
    assert jurisdiction_factor(("郑州", "河南"), titles, 0.25).tolist() == [0.75, 0.75, 0.75, 1.0]
    assert jurisdiction_factor((), titles, 0.5).tolist() == [1.0] * 4
    assert jurisdiction_factor(("郑州",), titles, 0.0).tolist() == [1.0] * 4
    assert jurisdiction_factor(("郑州",), titles, 3.0).tolist() == [1.0, 0.0, 0.0, 1.0]  # clipped to 0-1


def test_factor_lowers_local_regulations_a_little_when_the_query_names_no_place():
    titles = ["郑州市城市道路交通安全管理条例", "道路交通事故处理程序规定", "河南省实施《水土保持法》办法", ""]
    assert jurisdiction_factor((), titles, 0.5, 0.1).tolist() == pytest.approx([0.9, 1.0, 0.9, 1.0])
    assert jurisdiction_factor((), titles, 0.5, 0.0).tolist() == [1.0] * 4
    # a query naming a place is judged by that place alone
    assert jurisdiction_factor(("郑州",), titles, 0.5, 0.1).tolist() == [1.0, 0.5, 0.5, 0.5]


def test_dense_rerank_multiplies_by_the_prior():
    kw = Ranking(np.array([0, 1, 2]), np.array([10.0, 9.0, 5.0]))
    plain = dense_rerank(kw, Ranking.empty())
    assert plain.rows.tolist() == [0, 1, 2]
    moved = dense_rerank(kw, Ranking.empty(), prior=np.array([0.5, 1.0, 1.0]))
    assert moved.rows.tolist() == [1, 0, 2]
    assert moved.scores[0] == pytest.approx(0.9) and moved.scores[1] == pytest.approx(0.5)


_RULE = "市公安机关交通管理部门应当自勘查现场之日起十日内制作交通事故认定书，送达当事人。"


def _corpus(root: Path) -> Path:
    """Three regulations with the same rule: two cities' and a national one (which also has the
    query's word 出具), and one more unrelated city regulation."""
    docs = {
        "zz": ("郑州市道路交通安全条例", _RULE),
        "ly": ("洛阳市道路交通安全条例", _RULE),
        "gj": ("道路交通事故处理规定", "公安机关交通管理部门应当自勘查现场之日起十日内制作交通事故认定书，送达当事人，"
                                    "并出具相关证明。"),
        "kf": ("开封市养犬管理条例", "养犬人应当为犬只办理登记，取得养犬登记证。"),
    }
    return text_corpus(root, {key: (title, f"第一条 为了规范管理，制定本条例。\n\n第二条 {rule}\n\n"
                                            "第三条 本条例自2020年1月1日起施行。\n")
                              for key, (title, rule) in docs.items()})


@pytest.fixture(scope="module")
def local_corpus(tmp_path_factory) -> Path:
    return _corpus(tmp_path_factory.mktemp("jur"))


@pytest.fixture(scope="module")
def single(local_corpus, tmp_path_factory) -> Index:
    return Index.build(Corpus.load(local_corpus), tmp_path_factory.mktemp("single") / "idx")


def _rule_scores(idx: Index, q: str, penalty: float | None = None, local: float | None = None) -> list[tuple[str, float]]:
    """(document, score) of the hybrid hits that state the rule, best first; ``penalty`` and
    ``local`` replace the index's jurisdiction penalty and local penalty."""
    from policyidx.retrieval.modes import make_retriever

    params = dict(idx.params)
    if penalty is not None:
        params["jurisdiction_penalty"] = penalty
    if local is not None:
        params["local_penalty"] = local
    exp = idx.analyze_query(q, "zh")
    with idx.analyzer.active():
        got = make_retriever("hybrid", idx._part, params).search(exp, 5)
    return [(idx.docs[int(idx.row_doc[r])]["id"], s) for r, s in zip(got.rows.tolist(), got.scores.tolist())
            if "认定书" in idx.rows.text(r)]


def test_index_reads_its_jurisdictions(single):
    assert single.jurisdictions == frozenset({"郑州", "洛阳", "开封"})


@pytest.mark.parametrize("city, doc, other", [("郑州", "zz.zh", "ly.zh"), ("洛阳市", "ly.zh", "zz.zh")])
def test_rows_of_other_jurisdictions_lose_the_penalty(single, city, doc, other):
    q = f"{city}交通事故认定书几天内出具"
    p = float(HYBRID_DEFAULTS["jurisdiction_penalty"])
    assert 0 < p < 1 and single.params.get("jurisdiction_penalty", p) == p
    on, off = dict(_rule_scores(single, q)), dict(_rule_scores(single, q, 0.0))
    assert on[doc] == pytest.approx(off[doc])  # the named city's rule keeps its score
    for d in (other, "gj.zh"):  # the other city's and the national one lose the share p
        assert on[d] == pytest.approx((1 - p) * off[d])
    assert on[doc] > on[other]


def test_the_factor_can_put_the_named_citys_rule_first(single):
    """The national rule (with the query's 出具) wins without the factor, the named city's with it."""
    q = "洛阳市交通事故认定书几天内出具"
    assert _rule_scores(single, q, 0.0)[0][0] == "gj.zh"
    assert _rule_scores(single, q)[0][0] == "ly.zh"
    hits = single.search(q, k=5, query_lang="zh")
    assert [h.doc for h in hits if "认定书" in h.text][0] == "ly.zh"


def test_a_query_naming_no_city_prefers_the_national_rule_a_little(single):
    q = "交通事故认定书几天内出具"
    assert _rule_scores(single, q) == _rule_scores(single, q, 0.0)  # the named-place penalty plays no part
    p = float(HYBRID_DEFAULTS["local_penalty"])
    assert 0 < p < 0.5
    on, off = dict(_rule_scores(single, q)), dict(_rule_scores(single, q, local=0.0))
    assert on["gj.zh"] == pytest.approx(off["gj.zh"])  # the national rule keeps its score
    for d in ("zz.zh", "ly.zh"):  # the cities' rules lose the share p
        assert on[d] == pytest.approx((1 - p) * off[d])
    assert _rule_scores(single, q)[0][0] == "gj.zh"


def test_rows_are_judged_in_the_querys_language_only(single):
    from types import SimpleNamespace

    from policyidx.retrieval.retrievers import judged_jurisdiction

    rows = np.array([r for r in range(len(single)) if single.docs[int(single.row_doc[r])]["id"] == "zz.zh"])
    zh = SimpleNamespace(lang="zh", terms={"开封": 1.0, "登记": 1.0})
    got = judged_jurisdiction(zh, rows, single.jurisdictions, single.titles_of, single.languages_of, 0.5)
    assert got.tolist() == [0.5] * len(rows)
    ja = SimpleNamespace(lang="ja", terms={"开封": 1.0, "登记": 1.0})  # Chinese rows: not judged for it
    got = judged_jurisdiction(ja, rows, single.jurisdictions, single.titles_of, single.languages_of, 0.5)
    assert got.tolist() == [1.0] * len(rows)
    none = SimpleNamespace(lang="zh", terms={"登记": 1.0})
    assert judged_jurisdiction(none, rows, single.jurisdictions, single.titles_of, single.languages_of, 0.5) is None
    got = judged_jurisdiction(none, rows, single.jurisdictions, single.titles_of, single.languages_of, 0.5, 0.1)
    assert got.tolist() == pytest.approx([0.9] * len(rows))  # 开封's regulation, for a query naming no place


def test_sharded_index_applies_the_same_factor(local_corpus, single, tmp_path):
    sharded = Index.build(local_corpus, tmp_path / "idx", shards=2)
    for q in ("郑州交通事故认定书几天内出具", "洛阳市交通事故认定书", "交通事故认定书几天内出具"):
        a = single.search(q, k=5, query_lang="zh")
        b = sharded.search(q, k=5, query_lang="zh")
        assert [h.id for h in a][:3] == [h.id for h in b][:3] and a
        assert [round(h.score, 6) for h in a] == [round(h.score, 6) for h in b]
