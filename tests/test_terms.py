"""Term look-up, concordance and glossary coverage (policyidx.concordance), and the general vocabulary."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import policyidx.text.glossary as glossary_mod
from policyidx.errors import QueryError
from policyidx.text.glossary import Entry, Glossary
from policyidx.text.han import unify
from policyidx.concordance import (
    Concordance,
    TermResult,
    coverage,
    render_coverage,
    render_terms,
    terms,
)

DATA = Path(glossary_mod.__file__).resolve().parent.parent / "data"
VOCAB = DATA / "vocab.tsv"


class FakeIndex:
    """The four things :func:`terms` reads from an :class:`~policyidx.index.Index`."""

    def __init__(self, rows: list[tuple[str, str, str, str]]):
        self._rows = rows
        self.docs: list[dict[str, str]] = []
        pos: dict[str, int] = {}
        for _cid, doc, lang, _text in rows:
            if doc not in pos:
                pos[doc] = len(self.docs)
                self.docs.append({"id": doc, "lang": lang})
        self.row_doc = [pos[doc] for _c, doc, _l, _t in rows]

    def __len__(self) -> int:
        return len(self._rows)

    def record(self, row: int) -> dict[str, str]:
        cid, _doc, lang, text = self._rows[row]
        return {"id": cid, "lang": lang, "text": text, "label": "", "title": ""}


SMALL = Glossary(
    [
        Entry(zh="专利", ja=("専利", "特許"), en=("patent", "patents"), domain="patents"),
        Entry(zh="开放许可", ja=("開放許諾", "オープンライセンス"), en=("open licence", "open license"), domain="licensing"),
        Entry(zh="知识产权", ja=("知的財産権", "知的財産"), en=("IP", "intellectual property"), domain="patents"),
    ]
)


@pytest.fixture(scope="module")
def with_vocab(monkeypatch_module: pytest.MonkeyPatch) -> Glossary:
    """The bundled glossary plus vocab.tsv, with ``general`` accepted as a domain."""
    if "general" not in glossary_mod.DOMAINS:
        monkeypatch_module.setattr(glossary_mod, "DOMAINS", glossary_mod.DOMAINS + ("general",))
    return Glossary.load(extra=[VOCAB])


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _check_offsets(corpus, result: TermResult) -> None:
    for rs in result.renderings:
        assert rs.count == len(rs.hits) == sum(rs.docs.values())
        for h in rs.hits:
            text = corpus.clause(h.clause).text
            assert text[h.start : h.end] == h.match
            assert unify(h.match) == unify(rs.rendering) or h.match.lower() == rs.rendering.lower()
            assert h.left == text[max(0, h.start - 20) : h.start]
            assert h.right == text[h.end : h.end + 20]
            assert h.doc == h.clause.split("#")[0]


# --------------------------------------------------------------------------- terms() on the bundled corpus


def test_open_licence_concordance_in_cnipa_448(corpus):
    results = terms("开放许可", corpus=corpus)
    assert results[0].entry.zh == "开放许可"
    res = results[0]
    _check_offsets(corpus, res)
    ja = {r.rendering: r for r in res.renderings if r.lang == "ja"}
    hits = ja["開放許諾"]
    expected = sum(c.text.count("開放許諾") for c in corpus["cnipa-2022-448.ja"].clauses)
    assert expected > 0
    assert hits.docs["cnipa-2022-448.ja"] == expected
    first = next(h for h in hits.hits if h.doc == "cnipa-2022-448.ja")
    clause = corpus.clause(first.clause)
    assert first.start == clause.text.index("開放許諾")
    # the Chinese term is searched in Chinese clauses only
    zh = next(r for r in res.renderings if r.lang == "zh")
    assert zh.rendering == "开放许可"
    assert set(zh.docs) <= {d.id for d in corpus if d.lang == "zh"}


@pytest.mark.parametrize(
    ("query", "lang", "zh"),
    [
        ("専利", None, "专利"),          # JETRO's kanji loan
        ("專利", None, "专利"),          # Traditional form
        ("特許", "ja", "专利"),          # ordinary Japanese
        ("开放许可", "zh", "开放许可"),
        ("開放許諾", None, "开放许可"),
        ("patent pledge", "en", "专利权质押"),
        ("Open Licensing", "en", "开放许可"),  # case-folded
        ("patent pledges", None, "专利权质押"),  # stemmed, as query expansion matches English
    ],
)
def test_lookup_by_any_form(corpus, query, lang, zh):
    results = terms(query, corpus=corpus, lang=lang)
    assert results and results[0].entry.zh == zh


def test_japanese_form_finds_jetro_rendering(corpus):
    res = terms("専利", corpus=corpus)[0]
    _check_offsets(corpus, res)
    by = {(r.lang, r.rendering): r for r in res.renderings}
    assert by[("ja", "専利")].count == sum(c.text.count("専利") for d in corpus if d.lang == "ja" for c in d.clauses)
    assert by[("ja", "専利")].docs.get("cnipa-2022-448.ja", 0) > 0


def test_english_phrase_finds_entries_inside_it(corpus):
    zhs = [r.entry.zh for r in terms("open licensing of patents", corpus=corpus, lang="en")]
    assert "开放许可" in zhs and "专利" in zhs


def test_unknown_term_gives_no_result(corpus):
    assert terms("xylophone", corpus=corpus) == []
    assert render_terms([]).startswith("no glossary entry")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"query": "  "}, "empty"),
        ({"query": "专利", "lang": "fr"}, "unknown language"),
        ({"query": "专利", "context": -1}, "context"),
        ({"query": "专利", "counterpart": 3}, "counterpart"),
    ],
)
def test_bad_arguments(kwargs, message):
    idx = FakeIndex([("a.zh#1", "a.zh", "zh", "专利")])
    with pytest.raises(QueryError, match=message):
        terms(index=idx, glossary=SMALL, **kwargs)


# --------------------------------------------------------------------------- matching rules


def test_han_unified_and_width_folded_match_keeps_offsets():
    text = "推動專利開放許可試點，ＩＰ保護"
    idx = FakeIndex([("t.zh#1", "t.zh", "zh", text)])
    res = {r.entry.zh: r for r in terms("开放许可", index=idx, glossary=SMALL)}
    hit = res["开放许可"].renderings[0].hits[0]
    assert (hit.start, hit.end, hit.match) == (4, 8, "開放許可")
    assert text[hit.start : hit.end] == hit.match
    assert (hit.left, hit.right) == ("推動專利", "試點，ＩＰ保護")


def test_longest_rendering_wins_and_is_counted_once():
    text = "知的財産権の保護と知的財産の活用、知的財産権。"
    idx = FakeIndex([("t.ja#1", "t.ja", "ja", text)])
    res = terms("知识产权", index=idx, glossary=SMALL, context=3)[0]
    counts = {r.rendering: r.count for r in res.renderings}
    assert counts == {"知识产权": 0, "知的財産権": 2, "知的財産": 1}
    long_hits = [h.start for h in res.renderings[1].hits]
    assert long_hits == [0, 17]
    assert res.renderings[1].hits[0].right == "の保護"


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("IP protection and IP courts", 2),
        ("shipping and SHIP IPs", 0),  # inside words: no match
        ("ＩＰ rights", 1),            # full-width letters
    ],
)
def test_ascii_renderings_match_whole_words_in_english_clauses(text, count):
    idx = FakeIndex([("e.en#1", "e.en", "en", text), ("e.zh#1", "e.zh", "zh", "知识产权")])
    res = terms("知识产权", index=idx, glossary=SMALL)[0]
    en = {r.rendering: r.count for r in res.renderings if r.lang == "en"}
    assert en["IP"] == count


def test_english_renderings_skipped_without_english_clauses():
    idx = FakeIndex([("e.zh#1", "e.zh", "zh", "知识产权")])
    res = terms("知识产权", index=idx, glossary=SMALL)[0]
    assert {r.lang for r in res.renderings} == {"zh", "ja"}


# --------------------------------------------------------------------------- counterparts


def test_counterpart_callable_gives_rendering_used_in_translation():
    rows = [
        ("w.zh#1", "w.zh", "zh", "开展专利开放许可试点工作。"),
        ("w.zh#2", "w.zh", "zh", "开放许可声明。"),
        ("w.ja#1", "w.ja", "ja", "専利開放許諾試行事業を展開する。"),
        ("w.ja#2", "w.ja", "ja", "オープンライセンス声明。"),
    ]
    calls: list[str] = []

    def counterpart(cid: str) -> str | None:
        calls.append(cid)
        return {"w.zh#1": "w.ja#1", "w.zh#2": "w.ja#2", "w.ja#1": "w.zh#1"}.get(cid)

    res = terms("开放许可", index=FakeIndex(rows), glossary=SMALL, counterpart=counterpart)[0]
    zh = res.renderings[0]
    assert [(h.clause, h.counterpart, h.rendered_as) for h in zh.hits] == [
        ("w.zh#1", "w.ja#1", "開放許諾"),
        ("w.zh#2", "w.ja#2", "オープンライセンス"),
    ]
    ja = {r.rendering: r for r in res.renderings if r.lang == "ja"}
    assert [(h.counterpart, h.rendered_as) for h in ja["開放許諾"].hits] == [("w.zh#1", "开放许可")]
    assert [(h.counterpart, h.rendered_as) for h in ja["オープンライセンス"].hits] == [(None, None)]
    assert set(calls) == {"w.zh#1", "w.zh#2", "w.ja#1", "w.ja#2"}


def test_counterpart_mapping_on_bundled_corpus(corpus):
    # The interpretation's "深入推进开放许可工作" and measure (四) of the translation.
    src = next(c.id for c in corpus["cnipa-2022-38-jiedu.zh"].clauses if "开放许可" in c.text)
    tgt = next(c.id for c in corpus["cnipa-2022-38.ja"].clauses if "開放許諾" in c.text)
    res = terms("开放许可", corpus=corpus, counterpart={src: tgt})[0]
    zh = next(r for r in res.renderings if r.lang == "zh")
    assert zh.hits and all(h.counterpart == tgt and h.rendered_as == "開放許諾" for h in zh.hits)
    ja_hits = [h for r in res.renderings if r.lang == "ja" for h in r.hits]
    assert all(h.counterpart is None for h in ja_hits)


def test_to_dict_is_json_and_render_shows_lines(corpus):
    results = terms("开放许可", corpus=corpus)
    data = json.loads(json.dumps([r.to_dict() for r in results], ensure_ascii=False))
    assert data[0]["entry"]["zh"] == "开放许可"
    assert data[0]["count"] == results[0].count
    hit = data[0]["renderings"][1]["hits"][0]
    assert set(hit) == set(Concordance.__dataclass_fields__)
    text = render_terms(results, max_hits=2)
    assert "【開放許諾】" in text and "cnipa-2022-448.ja" in text and "more" in text


# --------------------------------------------------------------------------- coverage


def test_coverage_lists_only_uncovered_frequent_words(corpus):
    gl = Glossary.load()
    cov = coverage(corpus, gl, top=40, min_count=3)
    assert set(cov) == {"ja", "zh"}
    renderings = [unify(t.lower()) for e in gl for lg in ("zh", "ja", "en") for t in e.terms(lg)]
    for lang, rows in cov.items():
        assert 0 < len(rows) <= 40
        counts = [n for _w, n in rows]
        assert counts == sorted(counts, reverse=True) and min(counts) >= 3
        for word, _n in rows:
            assert len(word) >= 2
            assert not any(unify(word) in r for r in renderings), word
    words = {w for rows in cov.values() for w, _n in rows}
    for covered in ("専利", "知的財産権", "企業", "中小企業", "開放許諾", "知识产权", "专利"):
        assert covered not in words


def test_coverage_against_small_glossary_shows_frequent_terms(corpus):
    cov = coverage(corpus, SMALL, top=10)
    ja = dict(cov["ja"])
    assert "専利" not in ja and "知的財産権" not in ja
    assert "企業" in ja and ja["企業"] >= 3  # frequent and not in SMALL
    assert "1月" not in ja and "十六" not in ja
    text = render_coverage(cov)
    assert text.startswith("ja:") or text.startswith("zh:")
    assert "企業" in text


def test_coverage_rejects_bad_limits(corpus):
    with pytest.raises(QueryError):
        coverage(corpus, SMALL, top=0)


# --------------------------------------------------------------------------- vocab.tsv


def test_vocab_file_format_and_no_glossary_overlap():
    with VOCAB.open(encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    assert lines[0].split("\t") == ["zh", "ja", "en", "domain", "notes"]
    rows = list(csv.reader(lines[1:], delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) >= 500
    assert all(len(r) == 5 and r[3] == "general" and r[0] and r[1] and r[2] for r in rows)
    zhs = [r[0] for r in rows]
    assert len(zhs) == len(set(zhs))
    base = {unify(e.zh) for e in Glossary.load()}
    assert not [z for z in zhs if unify(z) in base]


def test_vocab_loads_with_general_domain(with_vocab):
    base = Glossary.load()
    assert len(with_vocab) == len(base) + len([ln for ln in VOCAB.read_text(encoding="utf-8").splitlines()[1:] if ln])
    assert with_vocab["加强"].domain == "general"


@pytest.mark.parametrize(
    ("query", "zh"),
    [
        ("strengthening", "加强"),
        ("strengthened", "加强"),
        ("optimisation", "优化"),
        ("optimization", "优化"),
        ("accelerate", "加快"),
        ("encourage", "鼓励"),
        ("talent", "人才"),
        ("training", "培训"),
        ("insurance", "保险"),
        ("timetable", "进度安排"),
        ("schedule", "进度安排"),
        ("overseas", "海外"),
        ("January", "1月"),
        ("December", "12月"),
        ("first batch", "第一批"),
        ("every year", "每年"),
        ("universities", "大学"),
    ],
)
def test_vocab_english_forms(with_vocab, query, zh):
    assert zh in [e.zh for e in with_vocab.lookup(query, "en")]


@pytest.mark.parametrize(
    ("query", "zh", "ja"),
    [
        ("accelerate", "加快", "加速"),
        ("strengthen", "加强", "強化"),
        ("first batch", "第一批", "第1陣"),
        ("explore", "探索", "模索"),
    ],
)
def test_vocab_renderings_found_in_jetro_translations(corpus, with_vocab, query, zh, ja):
    res = {r.entry.zh: r for r in terms(query, corpus=corpus, glossary=with_vocab, lang="en")}
    stats = {r.rendering: r for r in res[zh].renderings if r.lang == "ja"}
    assert stats[ja].count > 0
    _check_offsets(corpus, res[zh])
