"""Structured English/Japanese queries: renderings chosen and weighted on the corpus searched."""

from __future__ import annotations

import numpy as np
import pytest

from policyidx.retrieval import expand as ex
from policyidx.retrieval.keyword import BM25Index
from policyidx.text import lexicons
from policyidx.text.analysis import analyze
from policyidx.text.glossary import Glossary
from policyidx.text.lexicons import Lexicon

CEDICT = [
    "國家 国家 [guo2 jia1] /country/nation/state/",
    "聲明 声明 [sheng1 ming2] /to state/to declare/statement/",
    "陳述 陈述 [chen2 shu4] /to state/to assert/",
    "賠償 赔偿 [pei2 chang2] /to compensate/compensation/",
    "費用 费用 [fei4 yong4] /cost/expenditure/fee/",
    "章程 章程 [zhang1 cheng2] /rules/articles of association/",
    "物品 物品 [wu4 pin3] /articles/goods/",
]
JMDICT = [(["手数料"], True, ["fee", "commission"]), (["労働"], True, ["labor", "toil"])]

CLAUSES = [
    "国家赔偿不得收取费用",
    "请求国家赔偿的，赔偿义务机关不得收取任何费用",
    "国家机关应当依法赔偿",
    "当事人声明放弃权利",
    "声明应当以书面形式作出",
    "公司章程对公司、股东具有约束力",
    "危险物品的储存",
]


@pytest.fixture
def corpus() -> BM25Index:
    return BM25Index.build([analyze(t, "zh") for t in CLAUSES])


@pytest.fixture
def tiny_lexicon(monkeypatch) -> Lexicon:
    lex = Lexicon.build(CEDICT, JMDICT)
    monkeypatch.setattr(lexicons, "default_lexicon", lambda: lex)
    return lex


def test_co_occurrence_chooses_the_rendering_of_the_sense_meant(corpus) -> None:
    units = [ex.Unit("state", [("声明", "zh", 1.0, False), ("陈述", "zh", 1.0, False), ("国家", "zh", 0.5, False)]),
             ex.Unit("compensation", [("赔偿", "zh", 1.0, False)])]
    picks = ex.structured_renderings(units, corpus)
    assert picks[0][0][0] == "国家"  # co-occurs with 赔偿; 声明 does not; 陈述 is not in the corpus
    assert all(r != "陈述" for r, _l, _w in picks[0])
    assert picks[1] == [("赔偿", "zh", 1.0)]
    assert all(0 < w <= 1 for p in picks for _r, _l, w in p)


def test_without_the_other_words_the_prior_and_frequency_decide(corpus) -> None:
    units = [ex.Unit("state", [("声明", "zh", 1.0, False), ("国家", "zh", 0.1, False)])]
    assert ex.structured_renderings(units, corpus)[0][0][0] == "声明"


def test_glossary_renderings_are_all_kept(corpus) -> None:
    units = [ex.Unit("fee", [("费用", "zh", 1.0, True), ("手续费", "zh", 1.0, True)]),
             ex.Unit("state", [("国家", "zh", 1.0, False)])]
    picks = ex.structured_renderings(units, corpus)
    assert [r for r, _l, _w in picks[0]] == ["费用", "手续费"]  # curated: kept even where absent


def test_expand_query_with_a_corpus(corpus, tiny_lexicon) -> None:
    none = Glossary()  # the dictionaries alone
    exp = ex.expand_query("fees for state compensation", "en", none, corpus=corpus, known=corpus.term_ids.__contains__)
    assert exp.dictionary["国家"] == "state" and exp.dictionary["赔偿"] == "compensation"
    assert "声明" not in exp.renderings
    # without the corpus, every rendering the index knows comes in at a fixed weight
    plain = ex.expand_query("fees for state compensation", "en", none, known=corpus.term_ids.__contains__)
    assert "声明" in plain.renderings


def test_a_dictionary_phrase_beats_glossary_words_inside_it(corpus, tiny_lexicon) -> None:
    exp = ex.expand_query("whom do the articles of association bind", "en", Glossary([]), corpus=corpus,
                          known=corpus.term_ids.__contains__)
    assert exp.dictionary.get("章程") == "articles of association"
    assert "物品" not in exp.renderings


def test_stop_words_do_not_match_glossary_terms_through_the_stemmer(corpus, tiny_lexicon) -> None:
    # "not" stems like "note", "them" like "theme": neither is a glossary match
    exp = ex.expand_query("when does the state not pay them", "en", corpus=corpus)
    assert all(e.zh not in ("备注", "主题", "专题") for e in exp.entries)


def test_japanese_frame_words_are_not_rendered(corpus, tiny_lexicon) -> None:
    exp = ex.expand_query("国家賠償の場合の手数料", "ja", corpus=corpus, known=corpus.term_ids.__contains__)
    assert "場合" not in exp.dictionary.values()


def test_japanese_frame_words_are_recognised_in_their_unified_forms(monkeypatch, corpus) -> None:
    # the analyser unifies 関する to 关する; it is a frame word all the same
    lex = Lexicon.build(CEDICT + ["關於 关于 [guan1 yu2] /about/concerning/"],
                        [(["関する"], True, ["concerning", "to relate to"])] + JMDICT)
    monkeypatch.setattr(lexicons, "default_lexicon", lambda: lex)
    assert lex.translate("関する", "ja", "zh")  # a rendering exists (关于) ...
    units = ex._japanese_dictionary_units(ex.expand_query("賠償に関する手数料", "ja", Glossary([]), enabled=False),
                                          [], None)
    assert units and all("关" not in u.source and "関" not in u.source for u in units)  # ... but is not used


def test_english_glossary_matching_wants_forms_of_one_word() -> None:
    assert ex._same_word("applying", "apply") and ex._same_word("revoked", "revoke")
    assert ex._same_word("licences", "license") and ex._same_word("classified", "classify")
    assert not ex._same_word("state", "stats") and not ex._same_word("not", "note")
    # two inflections of a third word are not one word: a verb's past is no plural noun
    assert not ex._same_word("returned", "returns") and not ex._same_word("good", "goods")
    assert ex._same_word("returns", "returns") and ex._same_word("goods", "goods") and ex._same_word("returned", "return")
    from policyidx.text.glossary import DOMAINS, Entry

    DOMAIN = sorted(DOMAINS)[0]

    g = Glossary([Entry(zh="统计", ja=("統計",), en=("statistics", "stats"), domain=DOMAIN),
                  Entry(zh="国家", ja=("国家",), en=("state",), domain=DOMAIN)])
    m = ex.EnglishMatcher(g)
    assert [[e.zh for e in es] for es, _s, _e in m.find("state trading")] == [["国家"]]
    assert [[e.zh for e in es] for es, _s, _e in m.find("trade stats")] == [["统计"]]


def test_the_corpus_chooses_among_glossary_senses(corpus) -> None:
    # "compensation" means 赔偿 beside "state"; the glossary's other sense (声明, say) does not
    # co-occur with it and is dropped; an entry's renderings stay together
    u = ex.Unit("state", [])
    u.add("国家", "zh", 1.0, True, "国家")
    u.add("國家", "zh", 1.0, True, "国家")
    u.add("声明", "zh", 1.0, True, "声明")
    picks = ex.structured_renderings([u, ex.Unit("compensation", [("赔偿", "zh", 1.0, False)])], corpus)
    assert [r for r, _l, _w in picks[0]] == ["国家", "國家"]


def test_a_glossary_rendering_missing_from_the_corpus_gives_way_to_the_dictionary(corpus) -> None:
    u = ex.Unit("articles of association", [])
    u.add("公司细则", "zh", 1.0, True, "公司细则")  # in no clause
    u.add("章程", "zh", 0.8, False)
    picks = ex.structured_renderings([u, ex.Unit("shareholder", [("股东", "zh", 1.0, False)])], corpus)
    assert [r for r, _l, _w in picks[0]] == ["章程"]
    # with no dictionary rendering, the glossary's is kept as written
    u2 = ex.Unit("articles of association", [])
    u2.add("公司细则", "zh", 1.0, True, "公司细则")
    picks = ex.structured_renderings([u2, ex.Unit("shareholder", [("股东", "zh", 1.0, False)])], corpus)
    assert [r for r, _l, _w in picks[0]] == ["公司细则"]


def test_a_dictionary_rendering_the_corpus_prefers_joins_the_glossary(corpus) -> None:
    # the glossary's 国家 is kept (it co-occurs with 赔偿); 声明, a dictionary rendering
    # co-occurring with 放弃 and 书面, better supported, joins it
    u = ex.Unit("state", [])
    u.add("国家", "zh", 1.0, True, "国家")
    u.add("声明", "zh", 1.0, False)
    others = [ex.Unit(s, [(r, "zh", 1.0, False)]) for s, r in (("waive", "放弃"), ("writing", "书面"), ("compensation", "赔偿"))]
    picks = ex.structured_renderings([u] + others, corpus)
    assert [r for r, _l, _w in picks[0]] == ["国家", "声明"]
    # far better supported, it replaces the glossary's rendering
    picks = ex.structured_renderings([u] + others[:2], corpus)
    assert [r for r, _l, _w in picks[0]] == ["声明"]
    picks = ex.structured_renderings([u, ex.Unit("compensation", [("赔偿", "zh", 1.0, False)])], corpus)
    assert [r for r, _l, _w in picks[0]] == ["国家"]


def test_a_glossary_sense_absent_from_the_corpus_stays_without_a_dictionary_rival(corpus) -> None:
    u = ex.Unit("state", [])
    u.add("国家", "zh", 1.0, True, "国家")
    u.add("国度", "zh", 1.0, True, "国度")  # in no clause: kept, its characters may match
    u.add("声明", "zh", 1.0, True, "声明")  # in the corpus, unrelated to 赔偿: dropped
    picks = ex.structured_renderings([u, ex.Unit("compensation", [("赔偿", "zh", 1.0, False)])], corpus)
    assert [r for r, _l, _w in picks[0]] == ["国家", "国度"]


def test_renderings_of_one_word_form_one_synonym_set(corpus, tiny_lexicon, monkeypatch) -> None:
    none = Glossary()
    exp = ex.expand_query("fees for state compensation", "en", none, corpus=corpus, known=corpus.term_ids.__contains__)
    sets = exp.terms.synonym_sets
    assert sets and isinstance(exp.terms, ex.QueryTerms)
    flat = [t for s in sets for alt in s for t in alt]
    assert len(flat) == len(set(flat))  # a term counts in one set only
    assert all(t in exp.terms for t in flat)
    # the set of "state" holds the query's word and its rendering as alternatives
    state = next(s for s in sets if any("国家" in alt for alt in s))
    assert len(state) >= 2 and any(alt[0] in analyze("state", "en") for alt in state)
    # switched off: a plain dict of the same terms, every term adds up
    monkeypatch.setattr(ex, "SYNONYM_SETS", False)
    plain = ex.expand_query("fees for state compensation", "en", none, corpus=corpus, known=corpus.term_ids.__contains__)
    assert type(plain.terms) is dict and plain.terms == exp.terms


def test_a_synonym_set_scores_its_best_alternative_once() -> None:
    docs = [["公司", "企业", "章程"], ["公司", "章程", "约束"], ["约束", "物品"], ["国家", "机关"], ["国家", "赔偿"]]
    bm = BM25Index.build(docs)
    q = ex.QueryTerms({"公司": 1.0, "企业": 1.0, "章程": 1.0, "约束": 1.0})
    flat_rows, _ = bm.search(dict(q), k=2)
    assert flat_rows[0] == 0  # summed, two renderings of "company" win
    q.synonym_sets = ((("公司",), ("企业",)),)
    rows, scores = bm.search(q, k=2)
    assert rows[0] == 1  # as one set: company once, plus 约束
    per = {t: bm.score({t: 1.0}, rows) for t in q}
    expect = np.maximum(per["公司"], per["企业"]) + per["章程"] + per["约束"]
    assert np.allclose(scores, expect)
    assert np.allclose(bm.set_scores(q, q.synonym_sets, rows), scores)


def test_set_idf_weighs_a_rare_rendering_as_its_set(corpus) -> None:
    picks = [("国家", "zh", 1.0), ("声明", "zh", 0.5)]
    f = ex._set_idf(corpus, picks)
    assert set(f) == {"国家", "声明"} and all(0 < v <= 1 for v in f.values())
    assert f["声明"] < 1.0  # rarer than the set as a whole


def test_a_rendering_split_into_characters_matches_by_character_pairs() -> None:
    exp = ex.Expansion("x", "en", {})
    ex._add(exp, "制御", "zh", "control", 0.5, split_chars=True)
    assert all(len(t) > 1 for t in exp.rendering_terms["制御"])
    exp2 = ex.Expansion("x", "en", {})
    ex._add(exp2, "制御", "zh", "control", 0.5)
    assert any(len(t) == 1 for t in exp2.rendering_terms["制御"])


def test_cooccurrence_counts_shared_rows_as_the_incidence_product() -> None:
    rng = np.random.default_rng(7)
    n = 500
    sets = [np.sort(rng.choice(n, size=int(rng.integers(0, 120)), replace=False)).astype(np.int64) for _ in range(23)]
    sets.append(np.arange(n, dtype=np.int64))  # a row held by every set
    dense = np.zeros((len(sets), n), dtype=np.int64)
    for i, s in enumerate(sets):
        dense[i, s] = 1
    want = dense @ dense.T
    assert np.array_equal(ex.cooccurrence(sets, n), want)
    # the pairs counted a few at a time give the same counts
    assert np.array_equal(ex.cooccurrence(sets, n, budget=7), want)
    assert ex.cooccurrence([], n).shape == (0, 0)
    assert ex.cooccurrence([np.array([3], dtype=np.int64)], n).tolist() == [[1]]


def test_postings_are_intersected_as_sorted_rows() -> None:
    a = np.array([1, 4, 9, 12, 40], dtype=np.int64)
    b = np.array([0, 4, 12, 13, 41, 50], dtype=np.int64)
    assert ex._intersect(a, b).tolist() == [4, 12]
    assert ex._intersect(b, a).tolist() == [4, 12]
    assert ex._intersect(a, np.array([], dtype=np.int64)).tolist() == []
    # rows out of order (not what an index stores) are sorted, not trusted
    assert ex._ascending(np.array([5, 2, 2, 9])).tolist() == [2, 5, 9]


def test_a_phrase_written_solid_is_found_in_the_hyphenated_query() -> None:
    from policyidx.retrieval.expand import _phrase_span

    q = "fees of non-profit private schools"
    s, e = _phrase_span(q, "nonprofit")
    assert q[s:e] == "non-profit"
    assert _phrase_span(q, "private schools") == (19, 34)
    assert _phrase_span(q, "public schools") is None


def test_glossary_terms_are_found_before_a_possessive_ending() -> None:
    from policyidx.text.glossary import DOMAINS, Entry

    g = Glossary([Entry(zh="法院", ja=("裁判所",), en=("court",), domain=DOMAINS[0]),
                  Entry(zh="全国人民代表大会", ja=(), en=("National People's Congress",), domain=DOMAINS[0])])
    m = ex.EnglishMatcher(g)
    text = "the court's ruling, by the National People’s Congress"
    found = m.find(text)
    assert [(e[0].zh, text[s:t]) for e, s, t in found] == [("法院", "court"), ("全国人民代表大会", "National People’s Congress")]


def test_dictionary_join_en_lets_a_near_dictionary_rendering_join_an_english_word(corpus, monkeypatch) -> None:
    def picks(source: str) -> list[str]:
        u = ex.Unit(source, [])
        u.add("国家", "zh", 1.0, True, "国家")
        u.add("声明", "zh", 1.0, False)
        got = ex.structured_renderings([u, ex.Unit("compensation", [("赔偿", "zh", 1.0, False)])], corpus)
        return [r for r, _l, _w in got[0]]

    monkeypatch.setattr(ex, "DICTIONARY_JOIN_EN", 1.0)
    assert picks("state") == ["国家"]  # 声明 is less supported than the glossary's 国家
    monkeypatch.setattr(ex, "DICTIONARY_JOIN_EN", 0.0)
    assert picks("state") == ["国家", "声明"]  # any supported dictionary rendering joins
    assert picks("国") == ["国家"]  # a Japanese word keeps the strict rule


def test_a_japanese_glossary_match_is_a_whole_word(corpus, tiny_lexicon) -> None:
    # 責任者 is one word (責任 + the suffix 者): not the glossary's 責任 and a stray 者
    from policyidx.text.glossary import DOMAINS, Entry

    domain = sorted(DOMAINS)[0]
    g = Glossary([Entry(zh="责任", ja=("責任",), en=("responsibility",), domain=domain),
                  Entry(zh="审查", ja=("審査",), en=("review",), domain=domain),
                  Entry(zh="经营者", ja=("事業者",), en=("business operator",), domain=domain)])
    assert 2 not in ex._ja_word_bounds("責任者の義務") and 3 in ex._ja_word_bounds("責任者の義務")
    exp = ex.expand_query("責任者の義務", "ja", g, corpus=corpus)
    assert all(e.zh != "责任" for e in exp.entries)
    assert [e.zh for e in ex.expand_query("再審査の責任", "ja", g, corpus=corpus).entries] == ["责任"]  # 再 binds too
    # a suffix such as 等 does not bind: 事業者 still matches in 事業者等
    assert [e.zh for e in ex.expand_query("事業者等の責任", "ja", g, corpus=corpus).entries] == ["经营者", "责任"]
    # without the bounds the glossary matches anywhere
    assert [e.zh for e, _r, _s, _e in g.find_in("責任者", "ja")] == ["责任"]
    assert g.find_in("責任者", "ja", bounds={0, 3}) == []


def test_a_japanese_word_that_is_the_chinese_word_keeps_to_it_where_the_index_writes_it(monkeypatch) -> None:
    # 賠償 is the Chinese 赔偿: 报酬 (another sense of "compensation") is no rendering of it,
    # unless the index hardly writes 赔偿 (then its other renderings are the way in)
    lex = Lexicon.build(CEDICT + ["報酬 报酬 [bao4 chou2] /reward/remuneration/compensation/"],
                        [(["賠償"], True, ["compensation", "reparations"])])
    monkeypatch.setattr(lexicons, "default_lexicon", lambda: lex)
    monkeypatch.setattr(ex, "SAME_WORD_OTHERS", 0.0)
    monkeypatch.setattr(ex, "SAME_WORD_MIN_ROWS", 2)

    def cands(clauses: list[str]) -> set[str]:
        idx = BM25Index.build([analyze(t, "zh") for t in clauses])
        exp = ex.expand_query("賠償", "ja", Glossary([]), enabled=False)
        return {c[0] for u in ex._japanese_dictionary_units(exp, [], idx.term_ids.__contains__, None, idx) for c in u.cands}

    assert "报酬" not in cands(["国家赔偿", "赔偿义务机关", "劳动报酬"])
    assert "报酬" in cands(["国家赔偿", "劳动报酬", "报酬的支付"])


def test_a_long_hiragana_word_is_content_and_kana_frames_are_not(monkeypatch) -> None:
    lex = Lexicon.build(CEDICT + ["猥褻 猥亵 [wei3 xie4] /obscene/indecent/", "請 请 [qing3] /please/"],
                        [(["わいせつ"], True, ["obscene", "indecent"]), (["ください"], True, ["please"])])
    monkeypatch.setattr(lexicons, "default_lexicon", lambda: lex)
    assert ex._ja_content("わいせつ") and not ex._ja_content("その") and ex._ja_content("ひな形")
    exp = ex.expand_query("わいせつ物を見せてください", "ja", Glossary([]), enabled=False)
    units = ex._japanese_dictionary_units(exp, [], None)
    assert any(u.source == "わいせつ" and "猥亵" in [c[0] for c in u.cands] for u in units)
    assert all(u.source != "ください" for u in units)  # a frame of the question, though long kana


def test_a_japanese_dictionary_word_of_four_tokens_is_one_word(monkeypatch) -> None:
    # MeCab cuts 生年月日 into 生, 年, 月, 日: it is "date of birth" (出生日期), not 生年 and 月日
    lex = Lexicon.build(CEDICT + ["出生日期 出生日期 [chu1 sheng1 ri4 qi1] /date of birth/"],
                        [(["生年月日"], True, ["date of birth"]), (["生年"], True, ["age"]),
                         (["月日"], True, ["date"])])
    monkeypatch.setattr(lexicons, "default_lexicon", lambda: lex)
    text = "虚偽の生年月日を記載"
    words = [w for w, _s, _e in ex._japanese_word_spans(text, lex)]
    assert "生年月日" in words and "生年" not in words
    s = text.index("生年月日")
    assert ("生年月日", s, s + 4) in list(ex._japanese_word_spans(text, lex))
    monkeypatch.setattr(ex, "JA_LONGEST_WORD", 3)
    assert "生年月日" not in [w for w, _s, _e in ex._japanese_word_spans(text, lex)]
    # an explicit limit still applies (a compound split into its shorter words)
    assert "生年月日" not in [w for w, _s, _e in ex._japanese_word_spans(text, lex, 2)]


def test_the_grammar_of_a_japanese_query_weighs_less_than_its_content(monkeypatch, tiny_lexicon) -> None:
    monkeypatch.setattr(ex, "JA_OWN_GRAMMAR", 0.5)
    monkeypatch.setattr(ex, "JA_OWN_INFLECTED", True)
    exp = ex.expand_query("手数料はどう払うのか", "ja", Glossary([]), enabled=False)
    full = dict(exp.terms)
    ex._weigh_ja_grammar(exp)
    assert exp.terms["手数"] == full["手数"]  # content keeps its weight
    assert exp.terms["拂う"] == pytest.approx(0.5 * full["拂う"])  # inflected: Japanese text only
    assert exp.terms["どう"] == pytest.approx(0.5 * full["どう"])  # short hiragana: grammar
    monkeypatch.setattr(ex, "JA_OWN_GRAMMAR", 0.0)
    exp = ex.expand_query("2年以内にどう", "ja", Glossary([]), enabled=False)
    ex._weigh_ja_grammar(exp)
    assert "どう" not in exp.terms and "2" in exp.terms  # a number is content
    # a query of grammar only keeps it (else nothing would be searched)
    exp = ex.expand_query("どう", "ja", Glossary([]), enabled=False)
    ex._weigh_ja_grammar(exp)
    assert "どう" in exp.terms


def test_an_english_word_s_coherence_weighs_the_other_word_s_renderings_by_prior() -> None:
    # 命令 co-occurs only with 宫廷, a stray rendering of "court" (prior 0.01); 顺序 with its
    # main one, 法院.  Unweighted (a Japanese source word) the stray pair wins; for an English
    # word 宫廷 lends coherence 0.01 ** COHERENCE_PRIOR_EXP_EN only.
    clauses = ["命令，宫廷。", "命令，宫廷。", "顺序，法院。", "顺序，法院。", "法院审理。", "法院审理。", "其他规定。"]
    corpus = BM25Index.build([analyze(t, "zh") for t in clauses])
    court = [("法院", "zh", 1.0, False), ("宫廷", "zh", 0.01, False)]
    order = [("命令", "zh", 0.5, False), ("顺序", "zh", 0.5, False)]
    picks = ex.structured_renderings([ex.Unit("order", list(order)), ex.Unit("court", list(court))], corpus)
    assert picks[0][0][0] == "顺序"
    picks = ex.structured_renderings([ex.Unit("順番", list(order)), ex.Unit("裁判所", list(court))], corpus)
    assert picks[0][0][0] == "命令"


def test_an_english_query_s_dense_text_holds_two_renderings_per_word(corpus, tiny_lexicon, monkeypatch) -> None:
    none = Glossary()
    exp = ex.expand_query("state", "en", none, corpus=corpus, known=corpus.term_ids.__contains__)
    han = [r for r in exp.renderings if exp.dictionary.get(r) == "state"]
    assert len(han) >= 2 and exp.dense_renderings == han[:ex.DENSE_PER_UNIT_EN] and ex.DENSE_PER_UNIT_EN == 2
    monkeypatch.setattr(ex, "DENSE_PER_UNIT_EN", 1)
    assert ex.expand_query("state", "en", none, corpus=corpus, known=corpus.term_ids.__contains__).dense_renderings == han[:1]
