"""An English query's candidates read in their words' glosses (the hybrid mode's gloss factor):
the document side of cross-language retrieval beside the query's renderings, single and sharded
indexes alike."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from index_workers import hybrid_scores, text_corpus

from policyidx.corpus import Corpus
from policyidx.index import Index
from policyidx.retrieval.base import Ranking
from policyidx.retrieval.fusion import add_candidates
from policyidx.retrieval.keyword import BM25Index
from policyidx.retrieval.modes import HYBRID_DEFAULTS
from policyidx.retrieval.retrievers import (
    GlossRetriever,
    RerankRetriever,
    english_word_renderings,
    gloss_factor,
    judged_glosses,
)
from policyidx.text.glossary import Entry
from policyidx.text.lexicons import Lexicon, default_lexicon, english_query_words

_CEDICT = [
    "編制 编制 [bian1 zhi4] /to establish (an organization)/to draw up (a plan)/to prepare/",
    "方案 方案 [fang1 an4] /plan/program (for action etc)/proposal/",
    "水土 水土 [shui3 tu3] /water and soil/surface/",
    "墳墓 坟墓 [fen2 mu4] /grave/tomb/",
    "嚴重 严重 [yan2 zhong4] /grave/serious/severe/",
    "一 一 [yi1] /one/a/",
]


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return Lexicon.build(_CEDICT, [])


def test_english_query_words_are_stemmed_content_words_once_each():
    words = english_query_words("Who prepares the plans? Someone's plan, and a grave")
    assert words == [english_query_words("prepare")[0], english_query_words("plan")[0], english_query_words("grave")[0]]
    assert english_query_words("who is it and what") == []


def test_a_word_gives_the_words_of_its_first_glosses(lex):
    prepar = english_query_words("prepares")[0]
    assert lex.gloss_words("编制") == {"establish", "draw", prepar}  # what parentheses say is left out
    assert lex.gloss_words("一") == frozenset()  # one character: too many senses
    assert lex.gloss_words("没有的词") == frozenset()
    # every word written in a text counts, overlapping ones too
    got = lex.gloss_words_in("编制水土保持方案")
    assert {prepar, "plan", "water", "soil"} <= got
    # asked for some words only: those of them, and the scan stops once all are found
    assert lex.gloss_words_in("编制水土保持方案", frozenset({"plan", "tomb"})) == {"plan"}


def test_the_factor_rewards_the_share_of_words_a_candidate_holds():
    assert gloss_factor(np.array([0.0, 0.5, 1.0]), 2.0).tolist() == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert gloss_factor(np.array([0.0, 1.0]), 0.0).tolist() == [1.0, 1.0]

    def shares(words, rows, renderings):
        return np.array([1.0, 0.0, np.nan])[: len(rows)]

    en = SimpleNamespace(lang="en", query="grave of a martyr", entries=[], dictionary={})
    got = judged_glosses(en, np.array([0, 1, 2]), shares, 2.0)
    assert got[:2].tolist() == pytest.approx([1.0, 1 / 3])
    assert got[2] == pytest.approx((1.0 + 1 / 3) / 2)  # a row it cannot read: the mean of the others
    assert judged_glosses(SimpleNamespace(lang="zh", query="坟墓", entries=[], dictionary={}),
                          np.array([0]), shares, 2.0) is None
    assert judged_glosses(en, np.array([0]), shares, 0.0) is None
    assert judged_glosses(SimpleNamespace(lang="en", query="who and what", entries=[], dictionary={}),
                          np.array([0]), shares, 2.0) is None


def test_a_words_renderings_are_the_glossarys_and_the_dictionaries():
    entry = Entry(zh="马德里体系", ja=("マドリッド制度",), en=("Madrid system",), domain="ip")
    q = SimpleNamespace(lang="en", query="Madrid system abroad", entries=[entry], dictionary={"境外": "abroad"})
    words = english_query_words(q.query)
    got = english_word_renderings(q, words)
    assert set(got[words[0]]) == {"马德里体系", "マドリッド制度"} and got[words[2]] == ("境外",)


_ARTICLES = ("第一条 为了保持水土，制定本条例。\n\n"
             "第二条 生产建设单位应当编制水土保持方案，报水行政主管部门审批。\n\n"
             "第三条 水行政主管部门应当审批水土保持规划，并组织实施。\n\n"
             "第四条 本条例自2020年1月1日起施行。\n")


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    return text_corpus(tmp_path_factory.mktemp("gloss"), {
        "soil": ("水土保持条例", _ARTICLES),
        "tomb": ("殡葬管理条例", "第一条 禁止在风景名胜区内修建坟墓。\n\n第二条 情节严重的，依法处理。\n")})


@pytest.fixture(scope="module")
def single(corpus_dir, tmp_path_factory) -> Index:
    return Index.build(Corpus.load(corpus_dir), tmp_path_factory.mktemp("single") / "idx")


def _scores(idx: Index, q: str, weight: float | None = None) -> dict[str, float]:
    """Clause text -> hybrid score of an English query, ``weight`` replacing the index's gloss weight."""
    return hybrid_scores(idx, q, "en", **({} if weight is None else {"gloss_weight": weight}))


def test_an_index_reads_its_rows_in_their_glosses(single):
    if not len(default_lexicon()):
        pytest.skip("no dictionaries installed")
    # "grave" is 坟墓 to the clause that says it and 严重 ("grave; serious") to another: the
    # clause holding more of the query's words in its glosses wins
    words = english_query_words("building a grave in a scenic area")
    rows = np.arange(len(single))
    got = dict(zip((single.rows.text(int(r)) for r in rows), single.gloss_shares(words, rows).tolist()))
    best = max(got, key=got.get)
    assert "修建坟墓" in best
    assert got[best] > got[next(t for t in got if t.startswith("情节严重"))] > 0
    # a word the query side rendered counts where the row has the rendering
    assert single.gloss_shares(["xyzzy"], rows[:1], {"xyzzy": [single.rows.text(0)[:2]]}).tolist() == [1.0]


def test_the_shares_read_from_the_gloss_index_are_those_read_from_the_text(single, corpus_dir):
    if not len(default_lexicon()):
        pytest.skip("no dictionaries installed")
    assert single.glosses is not None
    text_only = Index.open(single.path)
    text_only.__dict__["glosses"] = None  # as an index built before the gloss index: reads the rows' text
    rows = np.arange(len(single))
    for q in ("building a grave in a scenic area", "who prepares the soil and water conservation plan",
              "approval of the plan by the water department"):
        words = english_query_words(q)
        for rend in (None, {words[0]: ["水土"]}):
            a, b = single.gloss_shares(words, rows, rend), text_only.gloss_shares(words, rows, rend)
            assert np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(a[~np.isnan(a)], b[~np.isnan(b)])
            assert np.nanmax(a) > 0


def test_english_candidates_are_weighed_by_their_glosses(single):
    if not len(default_lexicon()):
        pytest.skip("no dictionaries installed")
    w = float(HYBRID_DEFAULTS["gloss_weight"])
    assert w > 0
    q = "building a grave in a scenic area"
    on, off = _scores(single, q), _scores(single, q, 0.0)
    assert on != off
    assert max(on.values()) <= max(off.values()) + 1e-9  # a factor of at most 1
    # a Chinese query is not judged
    assert _scores(single, "水土保持方案") == _scores(single, "水土保持方案", 0.0)


@pytest.fixture(scope="module")
def sharded(corpus_dir, tmp_path_factory):
    return Index.build(Corpus.load(corpus_dir), tmp_path_factory.mktemp("sharded") / "idx", shards=2)


def test_sharded_index_applies_the_same_factor_and_candidates(single, sharded):
    for q in ("who prepares the soil and water conservation plan", "building a grave in a scenic area",
              "tomb"):
        # the rows the query's words reach (the tail that only the dense side finds, near 0,
        # is ordered apart by a sharded index, factor or not: a gloss candidate of that tail
        # keeps the tail's last-digit tie-breaks, hence the tolerance)
        a = [h for h in single.search(q, k=5, query_lang="en") if h.score > 0.2]
        b = [h for h in sharded.search(q, k=5, query_lang="en") if h.score > 0.2]
        assert a and [h.id for h in a] == [h.id for h in b]
        assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-4)
    # the gloss candidates count: without them the grave query's second row is not reached
    params = dict(sharded.params)
    sharded.params["gloss_candidates"] = 0.0
    try:
        off = [h.id for h in sharded.search("building a grave in a scenic area", k=5, query_lang="en") if h.score > 0.2]
    finally:
        sharded.params.clear()
        sharded.params.update(params)
    on = [h.id for h in sharded.search("building a grave in a scenic area", k=5, query_lang="en") if h.score > 0.2]
    assert len(on) > len(off)


def test_a_sharded_index_scores_its_glosses_with_the_collections_statistics(single, sharded):
    if not len(default_lexicon()):
        pytest.skip("no dictionaries installed")
    assert sharded.manifest["glosses"]["words"] == single.manifest["glosses"]["words"]
    assert sharded.manifest["glosses"]["postings"] == single.manifest["glosses"]["postings"]
    words = english_query_words("building a grave in a scenic area, a soil conservation plan")
    seen = 0
    for i in range(len(sharded.shard_paths)):
        shard = sharded._local_shard(i)
        if shard.glosses is None:
            continue
        local = np.arange(len(shard))
        got = shard.glosses.score(words, local)
        want = single.glosses.score(words, np.asarray(sharded._global_rows(i))[local])
        assert np.allclose(got, want, rtol=1e-5, atol=1e-6) and np.any(got > 0)
        seen += 1
    assert seen == len(sharded.shard_paths)  # both shards hold Chinese rows


# ----------------------------------------------------------------------------- gloss candidates


def test_add_candidates_sums_the_max_normalised_scores():
    ranking = Ranking(np.array([5, 7]), np.array([2.0, 1.0]))
    other = Ranking(np.array([9, 7]), np.array([4.0, 2.0]))
    got = add_candidates(ranking, other, np.array([0.0, 1.0]), 1.0, name="glosses")
    # 5: 1 + 0; 9: 0 + 1 (not in the ranking: its other score alone); 7: 0.5 + 0.25 (its
    # other score as given for the ranked rows); ties to the lower row
    assert got.rows.tolist() == [5, 9, 7]
    assert got.scores.tolist() == pytest.approx([1.0, 1.0, 0.75])
    assert "glosses" in got.components
    assert add_candidates(ranking, other, np.array([0.0, 2.0]), 0.0) is ranking
    assert add_candidates(ranking, Ranking.empty(), np.zeros(2), 1.0) is ranking
    with pytest.raises(ValueError):
        add_candidates(ranking, other, np.zeros(3), 1.0)


class _Fixed:
    """A retriever that returns the same ranking whatever the query."""

    def __init__(self, rows, scores):
        self.ranking = Ranking(np.array(rows, dtype=np.int64), np.array(scores, dtype=np.float64))

    def search(self, query, k, filter=None):
        return self.ranking.top(k)


def test_an_english_query_is_joined_by_the_rows_its_words_reach_in_their_glosses():
    # three rows: the keyword side finds row 0 only; row 2's glosses hold both query words
    bags = [["plan"], ["water"], ["grave", "tomb"]]
    vocab = sorted({w for b in bags for w in b})
    ptr = np.cumsum([0] + [len(b) for b in bags])
    ids = np.array([vocab.index(w) for b in bags for w in b])
    gl = GlossRetriever(BM25Index.from_ids(ptr, ids, vocab))
    tomb = english_query_words("tomb")[0]
    assert tomb in vocab  # stemmed as gloss words are
    rr = RerankRetriever(_Fixed([0], [3.0]), _Fixed([], []), glosses=gl, gloss_candidates=1.0, gloss_depth=10)
    en = SimpleNamespace(lang="en", query="a grave or a tomb", terms={"坟": 1.0}, entries=[], dictionary={})
    got = rr.search(en, 5)
    assert set(got.rows.tolist()) == {0, 2}
    # a Chinese query, or a weight of 0, gets the keyword side's rows only
    zh = SimpleNamespace(lang="zh", query="坟墓", terms={"坟": 1.0}, entries=[], dictionary={})
    assert rr.search(zh, 5).rows.tolist() == [0]
    off = RerankRetriever(_Fixed([0], [3.0]), _Fixed([], []), glosses=gl, gloss_candidates=0.0)
    assert off.search(en, 5).rows.tolist() == [0]


def test_an_index_keeps_its_rows_glosses_and_searches_without_them(corpus_dir, single, tmp_path, monkeypatch):
    if not len(default_lexicon()):
        pytest.skip("no dictionaries installed")
    assert single.glosses is not None and single.manifest["glosses"]["words"] == single.glosses.n_terms
    tomb = next(r for r in range(len(single)) if "坟墓" in single.rows.text(r))
    rows, _ = single.glosses.search(english_query_words("tomb"), k=5)
    assert tomb in rows.tolist()  # 坟墓: "grave; tomb"
    assert not single.check()["problems"]
    # an index built without the dictionaries has no gloss index; its hybrid search still works
    import policyidx.text.lexicons as lexicons

    monkeypatch.setattr(lexicons, "available_sources", lambda: {})
    bare = Index.build(Corpus.load(corpus_dir), tmp_path / "bare")
    assert bare.glosses is None and "glosses" not in bare.manifest
    assert bare.search("building a grave in a scenic area", k=3, query_lang="en")


# ----------------------------------------------------------------------------- Japanese queries

_JMDICT = [
    (["墳墓"], True, ["grave", "tomb"]),
    (["葬儀場"], False, ["funeral home"]),
    (["場合"], True, ["case", "situation"]),
]


def test_a_japanese_query_is_read_in_its_words_first_glosses(monkeypatch):
    import policyidx.text.lexicons as lexicons
    from policyidx.retrieval import expand

    lex = Lexicon.build(_CEDICT + ["殯儀館 殡仪馆 [bin4 yi2 guan3] /funeral parlor/funeral home/"], _JMDICT)
    monkeypatch.setattr(lexicons, "default_lexicon", lambda: lex)
    got = expand.japanese_gloss_words("葬儀場の場合、墳墓を建てることができるか")
    # the words of each content word's glosses, stemmed as a clause's glosses are, once each;
    # 場合 is a frame, not content, and gives none
    assert got[:2] == ["funeral", "home"] and {"grave", "tomb"} <= set(got)
    assert "case" not in got and len(got) == len(set(got))
    assert set(got) <= set(lex.gloss_words("殡仪馆")) | set(lex.gloss_words("坟墓")) | {"home"}
    monkeypatch.setattr(expand, "JA_GLOSS_SENSES", 1)
    assert "tomb" not in expand.japanese_gloss_words("墳墓")
    monkeypatch.setattr(lexicons, "default_lexicon", lambda: Lexicon.build([], []))
    assert expand.japanese_gloss_words("墳墓") == []  # no dictionaries: nothing to read


def test_a_japanese_query_is_joined_by_the_rows_its_glosses_reach(monkeypatch):
    from policyidx.retrieval import expand, retrievers

    bags = [["plan"], ["water"], ["grave", "tomb"]]
    vocab = sorted({w for b in bags for w in b})
    ptr = np.cumsum([0] + [len(b) for b in bags])
    ids = np.array([vocab.index(w) for b in bags for w in b])
    gl = GlossRetriever(BM25Index.from_ids(ptr, ids, vocab))
    monkeypatch.setattr(expand, "japanese_gloss_words", lambda text: ["grave", "tomb"])
    ja = SimpleNamespace(lang="ja", query="墳墓", terms={"坟": 1.0}, entries=[], dictionary={})
    rr = RerankRetriever(_Fixed([0], [3.0]), _Fixed([], []), glosses=gl, gloss_candidates=1.0, gloss_depth=10)
    assert set(rr.search(ja, 5).rows.tolist()) == {0, 2}
    # its own weight in ``lang_weights``: 0 turns it off for Japanese queries alone
    rr0 = RerankRetriever(_Fixed([0], [3.0]), _Fixed([], []), glosses=gl, gloss_candidates=1.0, gloss_depth=10,
                          lang_weights={"ja": {"gloss_candidates": 0.0}})
    assert rr0.search(ja, 5).rows.tolist() == [0]
    en = SimpleNamespace(lang="en", query="a grave or a tomb", terms={"坟": 1.0}, entries=[], dictionary={})
    assert set(rr0.search(en, 5).rows.tolist()) == {0, 2}
    # nor is a Japanese query read in glosses where its language is not listed
    monkeypatch.setattr(retrievers, "GLOSS_QUERY_LANGS", ("en",))
    assert rr.search(ja, 5).rows.tolist() == [0]


def test_the_gloss_weight_of_a_language():
    from policyidx.retrieval.modes import gloss_candidates_weight

    assert gloss_candidates_weight({}, "en") == HYBRID_DEFAULTS["gloss_candidates"]
    assert gloss_candidates_weight({}, "ja") == HYBRID_DEFAULTS["lang_weights"]["ja"]["gloss_candidates"] > 0
    assert gloss_candidates_weight({}, "zh") == 0.0
    # an index's own parameters: its language entry, else its common weight
    assert gloss_candidates_weight({"gloss_candidates": 0.7, "lang_weights": {"ja": {}}}, "ja") == 0.7
    assert gloss_candidates_weight({"gloss_candidates": 0.7, "lang_weights": {"ja": {"gloss_candidates": 0.2}}}, "ja") == 0.2


def test_sharded_index_reads_a_japanese_query_in_glosses_as_a_single_one(single, sharded):
    if not len(default_lexicon()):
        pytest.skip("no dictionaries installed")
    q = "風景名勝区で墳墓を建てること"
    a = [h for h in single.search(q, k=5, query_lang="ja") if h.score > 0.2]
    b = [h for h in sharded.search(q, k=5, query_lang="ja") if h.score > 0.2]
    assert a and [h.id for h in a] == [h.id for h in b]
    assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-4)
