"""Chinese queries: Chinese synonyms through shared CC-CEDICT glosses, kept where the index
attests them, at a low weight, switched off by ``ZH_SYNONYMS``."""

from __future__ import annotations

import pytest

from policyidx.retrieval import expand as ex
from policyidx.retrieval.keyword import BM25Index
from policyidx.text import lexicons
from policyidx.text.analysis import analyze
from policyidx.text.glossary import Glossary
from policyidx.text.lexicons import Lexicon

CEDICT = [
    "賣 卖 [mai4] /to sell/to betray/",
    "出售 出售 [chu1 shou4] /to sell/to offer for sale/",
    "銷售 销售 [xiao1 shou4] /to sell/to market/sales (representative, agreement etc)/",
    "背叛 背叛 [bei4 pan4] /to betray/",
    "先生 先生 [xian1 sheng5] /teacher/husband/doctor (dialect)/",
    "丈夫 丈夫 [zhang4 fu5] /husband/",
    "藥品 药品 [yao4 pin3] /medicaments/medicine/drug/",
    "零售 零售 [ling2 shou4] /to retail/",
    "許可證 许可证 [xu3 ke3 zheng4] /license/permit/",
]

CLAUSES = [
    "未取得药品经营许可证出售药品的，没收违法所得",
    "药品零售企业应当凭处方销售处方药",
    "职工背叛单位泄露商业秘密的，依法处理",
    "丈夫和妻子在家庭中地位平等",
    "先生可以在学校任教",
    "许可证的有效期为五年",
]


@pytest.fixture
def corpus() -> BM25Index:
    return BM25Index.build([analyze(t, "zh") for t in CLAUSES])


@pytest.fixture
def tiny_lexicon(monkeypatch) -> Lexicon:
    lex = Lexicon.build(CEDICT, [])
    monkeypatch.setattr(lexicons, "default_lexicon", lambda: lex)
    return lex


def _expand(q: str, corpus: BM25Index) -> ex.Expansion:
    return ex.expand_query(q, "zh", Glossary([]), corpus=corpus, known=corpus.term_ids.__contains__)


def test_a_chinese_word_gets_the_synonyms_the_index_holds(corpus, tiny_lexicon) -> None:
    exp = _expand("卖药品", corpus)
    # 卖 "to sell" -> 出售, 销售 (both in the index); 背叛 shares "betray" with 卖, a sense among
    # the first two of both, but the index puts it beside none of the query's other words and
    # at most two synonyms are kept: the sellers win
    assert exp.dictionary.get("出售") == "卖"
    assert exp.dictionary.get("销售") == "卖"
    assert "背叛" not in exp.renderings
    # below the query's own words
    assert exp.terms["卖"] == 1.0
    assert 0 < exp.terms["出售"] <= ex.ZH_SYNONYM_WEIGHT
    # flat terms by default: no synonym sets (they would change how the hybrid mode judges a
    # Chinese query's coverage, proximity and jurisdiction)
    assert not getattr(exp.terms, "synonym_sets", ())
    # the synonyms go into the text encoded for dense search
    assert "出售" in exp.dense_text


def test_a_shared_later_sense_is_no_synonym(corpus, tiny_lexicon) -> None:
    # 丈夫 "husband" is 先生's second sense: shared within the first two senses of both, kept;
    # with only the first sense of the query word, dropped
    exp = _expand("丈夫", corpus)
    assert "先生" in exp.renderings
    exp2 = _expand_with(corpus, "丈夫", ZH_SENSES_OWN=1, ZH_SENSES=1)
    assert "先生" not in exp2.renderings


def _expand_with(corpus: BM25Index, q: str, **params) -> ex.Expansion:
    mp = pytest.MonkeyPatch()
    try:
        for k, v in params.items():
            mp.setattr(ex, k, v)
        return _expand(q, corpus)
    finally:
        mp.undo()


def test_synonyms_absent_from_the_index_are_not_added(tiny_lexicon) -> None:
    small = BM25Index.build([analyze(t, "zh") for t in ["药品不得出售给未成年人", "药品应当检验"]])
    exp = _expand("卖药品", small)
    assert "出售" in exp.renderings and "销售" not in exp.renderings


def test_the_switch_and_the_lack_of_an_index(corpus, tiny_lexicon, monkeypatch) -> None:
    assert ex.expand_query("卖药品", "zh", Glossary([])).dictionary == {}  # no index: nothing to attest
    assert ex.expand_query("卖药品", "zh", Glossary([]), corpus=corpus, dictionaries=False).dictionary == {}
    monkeypatch.setattr(ex, "ZH_SYNONYMS", False)
    exp = _expand("卖药品", corpus)
    assert exp.dictionary == {} and set(exp.terms) == set(ex.expand_query("卖药品", "zh", enabled=False).terms)


def test_the_synonyms_find_the_clauses_that_say_it_otherwise(corpus, tiny_lexicon, monkeypatch) -> None:
    # no clause writes 卖: the ones that say 出售 and 销售 are found through its synonyms
    rows, _ = corpus.search(_expand("卖", corpus).terms, k=3)
    assert set(rows.tolist()) == {0, 1}
    monkeypatch.setattr(ex, "ZH_SYNONYMS", False)
    rows2, _ = corpus.search(_expand("卖", corpus).terms, k=3)
    assert not {0, 1} & set(rows2.tolist())


def test_synonym_sets_when_asked(corpus, tiny_lexicon, monkeypatch) -> None:
    monkeypatch.setattr(ex, "ZH_SYNONYM_SETS", True)
    exp = _expand("卖药品", corpus)
    sets = exp.terms.synonym_sets
    mine = [s for s in sets if ("卖",) in s]
    assert len(mine) == 1 and ("出售",) in mine[0] and ("销售",) in mine[0]


def test_stop_words_and_one_character_switch(corpus, tiny_lexicon, monkeypatch) -> None:
    monkeypatch.setattr(ex, "ZH_ONE_CHAR", False)
    assert "出售" not in _expand("卖药品", corpus).renderings
