"""Compositional renderings: adjacent query words rendered as the Chinese compound their
renderings make, kept only where the index attests it."""

from __future__ import annotations

import pytest

from policyidx.retrieval import expand as ex
from policyidx.retrieval.keyword import BM25Index
from policyidx.text import lexicons
from policyidx.text.analysis import analyze
from policyidx.text.glossary import Glossary
from policyidx.text.lexicons import Lexicon

CEDICT = [
    "公募 公募 [gong1 mu4] /public/public offering/",
    "公共 公共 [gong1 gong4] /public/common/",
    "基金 基金 [ji1 jin1] /fund/",
    "股東 股东 [gu3 dong1] /shareholder/",
]
JMDICT = [(["ファンド"], True, ["fund"]), (["株主"], True, ["shareholder"])]

CLAUSES = [
    "公募基金管理人的股东不得抽逃出资",
    "公募基金的份额持有人享有收益权",
    "公共场所的经营者可以设立基金，股东应当同意",
    "公共设施由政府投资建设",
    "公共交通应当优先发展",
    "基金会的财产用于公益",
]


@pytest.fixture
def corpus() -> BM25Index:
    return BM25Index.build([analyze(t, "zh") for t in CLAUSES])


@pytest.fixture
def tiny_lexicon(monkeypatch) -> Lexicon:
    lex = Lexicon.build(CEDICT, JMDICT)
    monkeypatch.setattr(lexicons, "default_lexicon", lambda: lex)
    return lex


def _expand(q: str, lang: str, corpus: BM25Index) -> ex.Expansion:
    return ex.expand_query(q, lang, Glossary([]), corpus=corpus, known=corpus.term_ids.__contains__)


def test_adjacent_english_words_get_the_compound_the_index_attests(corpus, tiny_lexicon, monkeypatch) -> None:
    exp = _expand("shareholders of a public fund", "en", corpus)
    assert exp.dictionary.get("公募基金") == "public fund"
    assert "公共基金" not in exp.renderings  # 公共 and 基金 never meet in the index
    # the compound is a synonym set of its own, holding what its parts' sets do not (the
    # pair across the junction), so that its parts are not counted twice
    sets = exp.terms.synonym_sets
    comp = [s for s in sets if any("#募基" in alt for alt in s)]
    assert len(comp) == 1 and all("基金" not in alt for alt in comp[0])
    monkeypatch.setattr(ex, "COMPOUNDS", False)
    assert "公募基金" not in _expand("shareholders of a public fund", "en", corpus).renderings


def test_the_compound_ranks_the_clause_holding_it_first(corpus, tiny_lexicon, monkeypatch) -> None:
    # "public" alone is 公共 to the corpus (more frequent, and beside 股东 and 基金 in one clause)
    exp = _expand("shareholders of a public fund", "en", corpus)
    rows, _ = corpus.search(exp.terms, k=3)
    assert int(rows[0]) == 0
    monkeypatch.setattr(ex, "COMPOUNDS", False)
    rows, _ = corpus.search(_expand("shareholders of a public fund", "en", corpus).terms, k=3)
    assert int(rows[0]) == 2  # without compounds: the clause where 公共, 基金 and 股东 merely meet


def test_japanese_words_side_by_side_compose_with_a_han_word_as_itself(corpus, tiny_lexicon) -> None:
    exp = _expand("公募ファンドの株主", "ja", corpus)
    assert exp.dictionary.get("公募基金") is not None  # 公募 (as written) + ファンド -> 基金


def _units(*words: tuple[str, list[str]]) -> tuple[str, list[tuple[int, int, ex.Unit]]]:
    text, placed = "", []
    for w, rs in words:
        if text and not w.startswith(" "):
            text += " "
        s = len(text)
        text += w.strip()
        placed.append((s, len(text), ex.Unit(w.strip(), [(r, "zh", 1.0, False) for r in rs])))
    return text, placed


def test_b_of_a_is_composed_in_the_chinese_order() -> None:
    bm = BM25Index.build([["管理", "基金", "#基金", "#金管", "#管理"]] * 2 + [["管理", "#管理"], ["基金", "#基金"]])
    text = "management of funds"
    placed = [(0, 10, ex.Unit("management", [("管理", "zh", 1.0, False)])),
              (14, 19, ex.Unit("funds", [("基金", "zh", 1.0, False)]))]
    units = ex.compound_units(text, placed, bm, "en")
    assert [c[0] for u in units for c in u.cands] == ["基金管理"]
    assert units[0].compound and units[0].parts["基金管理"] == ("基金", "管理")
    # side by side, the English order first (and the reverse where the index has it)
    text2, placed2 = _units(("funds", ["基金"]), ("management", ["管理"]))
    assert [c[0] for u in ex.compound_units(text2, placed2, bm, "en") for c in u.cands] == ["基金管理"]
    # Japanese words compose only side by side
    assert ex.compound_units("基金 管理", [(0, 2, placed2[0][2]), (3, 5, placed2[1][2])], bm, "ja") == []


def test_a_one_character_head_needs_the_compound_as_a_word() -> None:
    pairs = ["#名胜", "#胜区"]
    word = BM25Index.build([["名胜区"] + pairs] * 2 + [["名胜", "#名胜"], ["区"]])
    apart = BM25Index.build([["名胜", "区"] + pairs] * 2 + [["名胜", "#名胜"], ["区"]])
    text, placed = _units(("scenic", ["名胜"]), ("area", ["区"]))
    assert [c[0] for u in ex.compound_units(text, placed, word, "en") for c in u.cands] == ["名胜区"]
    assert ex.compound_units(text, placed, apart, "en") == []


def test_attestation_wants_rows_and_a_share_of_the_rarer_part(monkeypatch) -> None:
    meet = ["停止", "用户", "#停止", "#止用", "#用户"]
    docs = [meet] * 2 + [["用户", "#用户"]] * 8 + [["停止", "#停止"]] * 3
    bm = BM25Index.build(docs)
    assert ex.attested_rows(bm, "停止用户") == 2
    assert ex.attested_rows(bm, "停止使用") == 0  # a pair the index lacks
    text, placed = _units(("stop", ["停止"]), ("users", ["用户"]))
    monkeypatch.setattr(ex, "COMPOUND_MIN_SHARE", 0.5)  # 2 of the 5 rows holding 停止
    assert ex.compound_units(text, placed, bm, "en") == []
    monkeypatch.setattr(ex, "COMPOUND_MIN_SHARE", 0.3)
    assert [c[0] for u in ex.compound_units(text, placed, bm, "en") for c in u.cands] == ["停止用户"]
    monkeypatch.setattr(ex, "COMPOUND_MIN_ROWS", 3)  # attested twice only
    assert ex.compound_units(text, placed, bm, "en") == []


def test_words_apart_are_not_composed() -> None:
    bm = BM25Index.build([["停止", "用户", "#停止", "#止用", "#用户"]] * 3)
    text = "stop the users"
    placed = [(0, 4, ex.Unit("stop", [("停止", "zh", 1.0, False)])),
              (9, 14, ex.Unit("users", [("用户", "zh", 1.0, False)]))]
    assert ex.compound_units(text, placed, bm, "en") == []


def test_a_japanese_compound_without_a_rendering_is_rendered_as_its_words(monkeypatch) -> None:
    # JMdict knows 公認会計士 whole, but nothing the index holds renders it; 会計士 does
    lex = Lexicon.build(["會計師 会计师 [kuai4 ji4 shi1] /accountant/"],
                        [(["公認会計士"], True, ["certified public accountant"]), (["会計士"], True, ["accountant"])])
    monkeypatch.setattr(lexicons, "default_lexicon", lambda: lex)
    bm = BM25Index.build([analyze(t, "zh") for t in ["注册会计师应当独立审计", "会计师事务所的设立", "公司的登记"]])
    exp = _expand("公認会計士の登録", "ja", bm)
    assert exp.dictionary.get("会计师") is not None
    monkeypatch.setattr(ex, "SPLIT_UNRENDERED", False)
    assert "会计师" not in _expand("公認会計士の登録", "ja", bm).renderings


def test_a_bound_one_character_suffix_renders_only_in_its_compound(monkeypatch) -> None:
    clauses = ["责任者应当承担赔偿责任", "应聘者提交材料", "患病者可以申请", "责任者的名单", "接受者签收"]
    corpus = BM25Index.build([analyze(t, "zh") for t in clauses])
    lex = Lexicon.build(["責任 责任 [ze2 ren4] /responsibility/", "應聘者 应聘者 [ying4 pin4 zhe3] /person/applicant/",
                         "患病者 患病者 [huan4 bing4 zhe3] /person/patient/", "接受者 接受者 [jie1 shou4 zhe3] /person/recipient/"],
                        [(["責任"], True, ["responsibility"]), (["者"], True, ["person"])])
    monkeypatch.setattr(lexicons, "default_lexicon", lambda: lex)
    exp = ex.expand_query("責任者の処分", "ja", Glossary([]), corpus=corpus, known=corpus.term_ids.__contains__)
    assert "责任者" in exp.renderings  # the compound 責任 + 者 makes
    assert not {"应聘者", "患病者", "接受者"} & set(exp.renderings)  # not 者 alone
    monkeypatch.setattr(ex, "BOUND_ONE_CHAR", False)
    exp = ex.expand_query("責任者の処分", "ja", Glossary([]), corpus=corpus, known=corpus.term_ids.__contains__)
    assert {"应聘者", "患病者", "接受者"} & set(exp.renderings)
