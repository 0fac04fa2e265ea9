"""Dictionary fallback in query expansion: below the glossary, only where the glossary is silent."""

from __future__ import annotations

import pytest

from policyidx.retrieval import expand as ex
from policyidx.text import lexicons
from policyidx.text.lexicons import Lexicon

CEDICT = [
    "股東 股东 [gu3 dong1] /stockholder/shareholder/",
    "會議 会议 [hui4 yi4] /meeting/conference/",
    "某詞 某词 [mou3 ci2] /patent/",  # would render "patent" if the glossary did not know it
    "手續費 手续费 [shou3 xu4 fei4] /service charge/processing fee/commission/",
]
JMDICT = [(["株主"], True, ["shareholder", "stockholder"]), (["手数料"], True, ["handling charge", "fee", "commission"])]


@pytest.fixture
def tiny_lexicon(monkeypatch) -> Lexicon:
    lex = Lexicon.build(CEDICT, JMDICT)
    monkeypatch.setattr(lexicons, "default_lexicon", lambda: lex)
    return lex


def test_english_words_outside_the_glossary_get_dictionary_renderings(tiny_lexicon) -> None:
    exp = ex.expand_query("shareholder conference", "en")
    assert exp.dictionary == {"股东": "shareholder", "株主": "shareholder"}  # "conference" is in the glossary
    assert exp.renderings["会议"] != "conference"
    weights = [w for t, w in exp.terms.items() if "股" in t]
    assert weights and max(weights) <= ex.EXPANSION_WEIGHT * ex.DICTIONARY_WEIGHT + 1e-9


def test_the_glossary_wins_where_it_knows_the_words(tiny_lexicon) -> None:
    exp = ex.expand_query("patent shareholder", "en")
    assert "专利" in exp.renderings and exp.renderings["专利"] != "patent"  # from the glossary
    assert "某词" not in exp.renderings and "股东" in exp.dictionary


def test_japanese_words_render_into_chinese(tiny_lexicon) -> None:
    exp = ex.expand_query("株主の手数料", "ja")
    assert exp.dictionary.get("股东") == "株主"
    assert "手续费" in exp.renderings and "手续费" not in exp.dictionary  # 手数料 is a glossary term


def test_switches_and_known_filter(tiny_lexicon) -> None:
    assert ex.expand_query("shareholder conference", "en", dictionaries=False).dictionary == {}
    assert ex.expand_query("shareholder conference", "en", enabled=False).dictionary == {}
    exp = ex.expand_query("shareholder conference", "en", known=lambda w: w != "股东")
    assert exp.dictionary == {"株主": "shareholder"}
    assert ex.expand_query("股东会议", "zh").dictionary == {}  # Chinese queries are left as they are


def test_no_dictionaries_installed_means_glossary_only(monkeypatch) -> None:
    monkeypatch.setattr(lexicons, "default_lexicon", lambda: Lexicon.build([], []))
    exp = ex.expand_query("shareholder conference", "en")
    assert exp.dictionary == {}


def test_english_words_offer_the_corpus_more_candidates_than_japanese_ones(monkeypatch) -> None:
    # forty words found through glosses "rate" heads, all at one prior: the corpus chooses among
    # CANDIDATES_EN of them, not the first CANDIDATES by length and code point
    heads = [f"{w} {w} [x] /kind{i} rate/" for i in range(40) if (w := chr(0x4e00 + i) * 2 + "率")]
    lex = Lexicon.build(heads, [])
    monkeypatch.setattr(lexicons, "default_lexicon", lambda: lex)
    units, _spans = ex._english_dictionary_units("rate", None)
    assert len(units) == 1 and len(units[0].cands) == ex.CANDIDATES_EN > ex.CANDIDATES
