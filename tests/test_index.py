"""The search index: build, open, search, filters, errors, staleness, atomic builds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from policyidx.corpus import Corpus, bundled_corpus_path
from policyidx.errors import IndexError_, NotFoundError, QueryError, StaleIndexError
from policyidx.index import FORMAT_VERSION, Index
from policyidx.text.analysis import ANALYZER_VERSION


@pytest.fixture(scope="module")
def index(built_index):
    return built_index


def test_manifest(index, corpus):
    m = json.loads((index.snapshot_path / "manifest.json").read_text(encoding="utf-8"))
    assert m["format_version"] == FORMAT_VERSION
    assert m["analyzer"]["version"] == ANALYZER_VERSION and m["analyzer"]["terms"] > 1000
    assert m["analyzer"]["term_files"] == []
    assert m["corpus_fingerprint"] == corpus.fingerprint()
    assert m["clause_count"] == len(index) == sum(1 for c in corpus.clauses() if c.text.strip())
    assert m["encoder"]["name"] == "builtin" and m["encoder"]["dim"] == index.vectors.dim
    assert {"k1", "b", "fusion", "scorer"} <= set(m["parameters"])
    # arrays and JSON only
    assert not list(index.path.rglob("*.pkl")) and not list(index.path.rglob("*.pickle"))
    for npy in index.path.rglob("*.npy"):
        np.load(npy, allow_pickle=False)


@pytest.mark.parametrize("mode", ["keyword", "dense", "hybrid"])
def test_search_modes(index, mode):
    hits = index.search("専利密集型製品", k=5, mode=mode)
    assert 1 <= len(hits) <= 5
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    assert hits[0].id == "cnipa-2022-38.ja#2.5"


def test_hit_fields_and_highlights(index):
    h = index.search("担保融資", k=1, mode="keyword", lang="ja", expand=False)[0]
    assert h.lang == "ja" and h.doc in h.id
    assert h.highlights
    for a, b in h.highlights:
        assert "担保" in h.text[a:b] or "融資" in h.text[a:b]
    # with expansion, renderings of the query's glossary terms are highlighted too, and named
    h = index.search("担保融資", k=1, mode="keyword", lang="ja")[0]
    assert any("担保" in h.text[a:b] for a, b in h.highlights)
    assert h.text[h.snippet_start : h.snippet_start + len(h.snippet)] == h.snippet
    assert h.clause.text == h.text  # the Clause object, from the corpus
    rec = h.to_dict()
    assert {"rank", "score", "id", "doc", "lang", "label", "title", "text", "snippet"} <= set(rec)


def test_chinese_query_finds_japanese_clause(index):
    hits = index.search("专利密集型产品备案认定", k=5, lang="ja")
    assert hits[0].id == "cnipa-2022-38.ja#2.5"
    assert all(h.lang == "ja" for h in hits)


def test_traditional_chinese_query(index):
    hits = index.search("專利密集型產品備案認定", k=3, lang="ja")
    assert hits[0].id == "cnipa-2022-38.ja#2.5"


def test_filters(index):
    hits = index.search("知识产权", k=20, docs=["miit-2023-48.ja"])
    assert hits and all(h.doc == "miit-2023-48.ja" for h in hits)
    hits = index.search("知识产权", k=20, works=["cnipa-2022-38"], roles=["interpretation"])
    assert hits and all(h.doc == "cnipa-2022-38-jiedu.zh" for h in hits)
    assert all(h.lang == "zh" for h in index.search("知的財産権", k=10, lang="zh"))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"query": ""}, QueryError, "empty query"),
        ({"query": "   "}, QueryError, "empty query"),
        ({"query": "。、！？…"}, QueryError, "only punctuation"),
        ({"query": "专利", "mode": "fuzzy"}, QueryError, "unknown mode"),
        ({"query": "专利", "k": 0}, QueryError, "positive"),
        ({"query": "专利", "docs": ["nope.ja"]}, NotFoundError, "nope.ja"),
        ({"query": "专利", "works": ["nope"]}, NotFoundError, "nope"),
        ({"query": "专利", "lang": "fr"}, QueryError, "unknown language"),
        ({"query": "专利", "roles": ["draft"]}, QueryError, "unknown role"),
    ],
)
def test_bad_queries(index, kwargs, error, message):
    with pytest.raises(error, match=message):
        index.search(**kwargs)


def test_long_query(index):
    q = ("知识产权质押融资" * 1250)[:10_000]
    assert len(q) == 10_000
    hits = index.search(q, k=3)
    assert hits and hits[0].lang in ("zh", "ja")


def test_query_analysis_is_kept_for_the_same_query(index, monkeypatch):
    import policyidx.index.facade as facade

    idx = Index.open(index.path)  # a fresh object: nothing analysed yet
    calls: list[str] = []
    real = facade.expand_query
    monkeypatch.setattr(facade, "expand_query", lambda q, *a, **kw: calls.append(q) or real(q, *a, **kw))
    monkeypatch.setattr(facade, "_ANALYSES_KEPT", 2)
    first = idx.search("patent pledge financing", k=3)
    exp = idx.analyze_query(" patent pledge financing ")  # what the CLI asks to label renderings
    assert calls == ["patent pledge financing"] and exp.dictionary is not None
    assert [h.id for h in idx.search("patent pledge financing", k=3)] == [h.id for h in first]
    assert idx.analyze_query("patent pledge financing", dictionaries=False) is not exp  # another key
    idx.analyze_query("専利の開放許諾")  # a third analysis: the oldest is dropped
    assert idx.analyze_query("patent pledge financing") is not exp
    assert len(calls) == 4


def test_open_round_trip(index):
    again = Index.open(index.path)
    for mode in ("keyword", "dense", "hybrid"):
        a = [(h.id, round(h.score, 5)) for h in index.search("开放许可 试点", k=5, mode=mode)]
        b = [(h.id, round(h.score, 5)) for h in again.search("开放许可 试点", k=5, mode=mode)]
        assert a == b


def test_missing_index(tmp_path):
    with pytest.raises(IndexError_, match="no index"):
        Index.open(tmp_path / "nothing", build=False)


def _corpus_copy(tmp_path):
    root = tmp_path / "corpus"
    shutil.copytree(bundled_corpus_path(), root)
    return root


def test_stale_index_is_detected_and_default_rebuilds(tmp_path, monkeypatch):
    root = _corpus_copy(tmp_path)
    path = tmp_path / "indexes" / "mine"
    Index.build(Corpus.load(root), path, align=False)
    f = root / "ja" / "cnipa-2022-38.ja.txt"
    f.write_text(f.read_text(encoding="utf-8") + "\n追加された一文。\n", encoding="utf-8")
    with pytest.raises(StaleIndexError, match="rebuild"):
        Index.open(path, corpus=root)
    # the default index of a corpus rebuilds itself
    monkeypatch.delenv("POLICYIDX_INDEX", raising=False)
    default = Index.open(corpus=root)
    assert default.path == tmp_path / "indexes" / "default"
    assert default.manifest["corpus_fingerprint"] == Corpus.load(root).fingerprint()
    f.write_text(f.read_text(encoding="utf-8") + "\nもう一文。\n", encoding="utf-8")
    rebuilt = Index.open(corpus=root)
    assert rebuilt.manifest["corpus_fingerprint"] != default.manifest["corpus_fingerprint"]


def test_format_version_mismatch(tmp_path, index):
    copy = tmp_path / "old"
    shutil.copytree(index.snapshot_path, copy)  # the layout before snapshots: a manifest at the top
    m = json.loads((copy / "manifest.json").read_text())
    m["format_version"] = 1
    (copy / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(StaleIndexError, match=f"format version 1, this library reads {FORMAT_VERSION}.*rebuild"):
        Index.open(copy)
    # an index of this layout analysed by another analyzer version
    from policyidx.index import store

    again = tmp_path / "again"
    shutil.copytree(index.path, again)
    snap = store.open_snapshot(again)
    m = dict(snap.manifest, analyzer={**snap.manifest["analyzer"], "version": ANALYZER_VERSION - 1})
    data = json.dumps(m).encode("utf-8")
    (snap.path / "manifest.json").write_bytes(data)
    (again / "CURRENT").write_text(store._pointer_text(snap.name, store._crc(data)), encoding="ascii")
    snap.close()
    with pytest.raises(StaleIndexError, match="analyzer version .*rebuild"):
        Index.open(again)


def test_interrupted_build_leaves_previous_index(tmp_path, corpus, index, monkeypatch):
    path = tmp_path / "idx"
    shutil.copytree(index.path, path)  # a previous index (built once for the session)
    first = Index.open(path)
    before = (first.snapshot_path / "manifest.json").read_text()

    from policyidx.retrieval import vectors

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(vectors.VectorStore, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        Index.build(corpus, path, align=False)
    again = Index.open(path)
    assert again.snapshot_path == first.snapshot_path
    assert (again.snapshot_path / "manifest.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]  # no temporary directory left behind
    assert [p.name for p in (path / "snapshots").iterdir()] == [first.snapshot_path.name]
    assert len(again) == len(first)


def test_sentence_transformers_encoder_index(tmp_path, corpus):
    pytest.importorskip("sentence_transformers")
    from tiny_st import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny-model")
    idx = Index.build(corpus, tmp_path / "st-index", encoder=f"st:{model}", align=False)
    assert idx.manifest["encoder"]["name"].startswith("st:")
    assert idx.vectors.dim == 32
    hits = idx.search("知的財産権金融サービス", k=3, mode="dense")
    assert len(hits) == 3
    again = Index.open(idx.path)
    assert [h.id for h in again.search("知的財産権金融サービス", k=3, mode="dense")] == [h.id for h in hits]


def test_sentence_transformers_missing_model_is_named(tmp_path, corpus):
    from policyidx.errors import EncoderError, MissingDependencyError

    with pytest.raises((EncoderError, MissingDependencyError), match="no-such-model-xyz"):
        Index.build(corpus, tmp_path / "x", encoder="st:no-such-org/no-such-model-xyz", align=False)
    assert not (tmp_path / "x").exists()


def test_user_glossary_in_catalog(tmp_path, index):
    root = _corpus_copy(tmp_path)
    (root / "my-terms.tsv").write_text(
        "zh\tja\ten\tdomain\tnotes\n百城百品\t百城百品\tHundred Cities Hundred Products|HCHP campaign\tprogrammes\t\n"
        "甲乙试点区\t甲乙試点区\tAB pilot zone\tprogrammes\t\n",
        encoding="utf-8")
    cat = root / "catalog.toml"
    cat.write_text('glossary = ["my-terms.tsv"]\n' + cat.read_text(encoding="utf-8"), encoding="utf-8")
    idx = Index.build(Corpus.load(root), tmp_path / "idx", align=False)
    assert idx.manifest["glossary_files"] == [str((root / "my-terms.tsv").resolve())]
    hits = Index.open(tmp_path / "idx").search("HCHP campaign", k=3)
    assert hits and hits[0].id == "cnipa-2022-38.ja#2.7"
    assert "百城百品" in hits[0].expansions
    # the catalog's term is a word of this index's analyzer only: the shared index and the
    # process default are untouched (two indexes in one process do not interfere)
    from policyidx.text.analysis import analyze

    assert "甲乙试点区" in idx.analyzer.analyze("建设甲乙试点区", "zh")
    assert idx.manifest["analyzer"]["term_files"] == idx.manifest["glossary_files"]
    assert "甲乙试点区" not in analyze("建设甲乙试点区", "zh")
    assert "甲乙试点区" not in index.analyzer.analyze("建设甲乙试点区", "zh")
    assert index.analyzer.terms < idx.analyzer.terms


def test_parallel_build_gives_the_same_index(tmp_path, corpus, index, monkeypatch):
    """Large corpora are tokenised and encoded in forked processes: same results as in-process."""
    import policyidx.index.build as index_module

    monkeypatch.setattr(index_module, "PARALLEL_MIN", 0)
    monkeypatch.setattr(index_module, "default_workers", lambda: 2)
    par = Index.build(corpus, tmp_path / "par", align=False)
    assert not (par.snapshot_path / "vectors.tmp.npy").exists()
    np.testing.assert_allclose(np.asarray(par.vectors.vectors), np.asarray(index.vectors.vectors), atol=1e-5)
    for mode in ("keyword", "dense", "hybrid"):
        a = [(h.id, round(h.score, 4)) for h in par.search("知识产权质押融资", k=5, mode=mode)]
        b = [(h.id, round(h.score, 4)) for h in index.search("知识产权质押融资", k=5, mode=mode)]
        assert a == b


def test_alignments_in_worker_processes_equal_serial(tmp_path) -> None:
    """Index.build aligns original/translation pairs in forked workers; the files are the same."""
    from policyidx.corpus import Corpus
    from policyidx.index.alignments import AlignmentStore

    src = bundled_corpus_path()
    fixture = Path(__file__).resolve().parent / "fixtures" / "zh" / "zgc-2019-ipap.zh.txt"
    root = tmp_path / "corpus"
    root.mkdir()
    lines = []
    for i in range(4):
        lines += [f'[[work]]\nid = "w{i}"\n',
                  f'[[document]]\nid = "w{i}.ja"\nwork = "w{i}"\nlang = "ja"\nrole = "translation"\ntitle = "t"\n'
                  f'file = "w{i}.ja.txt"\nformat = "text"\nextracted_from = "pdf"\n',
                  f'[[document]]\nid = "w{i}.zh"\nwork = "w{i}"\nlang = "zh"\nrole = "original"\ntitle = "t"\n'
                  f'file = "w{i}.zh.txt"\nformat = "text"\n']
        shutil.copy(src / "ja" / "zgc-2019-ipap.ja.txt", root / f"w{i}.ja.txt")
        shutil.copy(fixture, root / f"w{i}.zh.txt")
    (root / "catalog.toml").write_text("\n".join(lines), encoding="utf-8")
    corpus = Corpus.load(root)
    serial = AlignmentStore(tmp_path / "a1").store_all(corpus, None, workers=1)
    forked = AlignmentStore(tmp_path / "a2").store_all(corpus, None, workers=2)
    assert serial == forked and len(serial) == 4
    for rec in serial:
        name = Path(rec["file"]).name
        assert (tmp_path / "a1" / name).read_text(encoding="utf-8") == (tmp_path / "a2" / name).read_text(encoding="utf-8")


def test_scorer_chosen_by_name(tmp_path, corpus, index):
    """A BM25 variant is a build parameter, recorded in the manifest and in the keyword index."""
    from policyidx.errors import QueryError as _QueryError

    other = Index.build(corpus, tmp_path / "plus", align=False, scorer="bm25+")
    assert other.manifest["parameters"]["scorer"] == "bm25+" and index.manifest["parameters"]["scorer"] == "lucene"
    assert Index.open(other.path).keyword.method == "bm25+"
    a = [h.id for h in other.search("知识产权质押融资", k=5, mode="keyword")]
    assert a and a[0] in {h.id for h in index.search("知识产权质押融资", k=5, mode="keyword")}
    with pytest.raises(_QueryError, match="unknown BM25 scorer 'bm26'"):
        Index.build(corpus, tmp_path / "bad", align=False, scorer="bm26")
    assert not (tmp_path / "bad").exists()


def test_hits_carry_what_a_script_needs(index):
    h = index.search("专利开放许可", k=3)[0]
    c = h.clause
    assert h.work == index.corpus[h.doc].work
    assert h.path == list(c.path)
    assert h.citation == c.citation() and h.citation
    assert h.parents == [p.heading() for p in c.ancestors()]
    doc_text = index.corpus[h.doc].text
    assert (h.start, h.end) == (c.start, c.end) and h.text.strip() in doc_text[h.start:h.end + 1]
    rec = h.to_dict()
    assert {"work", "path", "citation", "parents", "start", "end", "confidence", "confident", "expansions"} <= set(rec)
    assert json.loads(json.dumps(rec, ensure_ascii=False)) == rec


def test_confidence_tells_an_answer_from_none(index):
    real = index.search("专利开放许可 许可使用费", k=1)[0]
    off = index.search("carbon emissions trading", k=1)
    assert 0.0 <= real.confidence <= 1.0 and real.confident
    assert not off or (off[0].confidence < real.confidence - 0.2 and not off[0].confident)


def test_snippets_start_and_end_on_word_boundaries(index):
    from policyidx.index.highlight import make_snippet
    from policyidx.text.analysis import tokenize

    for q in ("ハイキング", "知的財産権 保護", "専利転化", "数据知识产权"):
        for h in index.search(q, k=5):
            if len(h.text) <= 120:
                continue
            cuts = {0, len(h.text)} | {t.start for t in tokenize(h.text, h.lang)} | {t.end for t in tokenize(h.text, h.lang)}
            s, e = h.snippet_start, h.snippet_start + len(h.snippet)
            assert s in cuts and e in cuts, (h.id, h.snippet)
    # a made-up text: the window never starts inside a katakana word
    text = "各部門は連携する。" * 10 + "地域のハイキング活動を支援する。" + "知的財産を保護する。" * 10
    snip, s0 = make_snippet(text, [(text.index("支援"), text.index("支援") + 2)], width=40, lang="ja")
    assert not snip.startswith("イキング") and text[s0:s0 + len(snip)] == snip


def test_the_builtin_encoder_sees_clauses_in_context(corpus):
    from policyidx.index.build import clause_rows, dense_context, feature_cap
    from policyidx.text.analysis import analyze

    clauses = [c for c in clause_rows(corpus) if c.ancestors()][:20]
    texts = [c.text for c in clauses]
    langs = [c.lang for c in clauses]
    terms = [analyze(t, l) for t, l in zip(texts, langs)]
    ctx_texts, ctx_terms = dense_context(corpus, clauses, texts, terms, langs)
    for c, t, ct, own in zip(clauses, ctx_texts, ctx_terms, terms):
        title = corpus[c.doc].title
        assert t.startswith(title) and t.endswith(c.text)
        assert all(p.heading() in t for p in c.ancestors())
        assert ct[len(ct) - len(own):] == own and len(ct) > len(own)
    assert len(ctx_terms[3:7]) == 4 and ctx_terms[3:7][0] == ctx_terms[3]
    # the projection is bounded by the rows: half their number, within fixed limits
    assert feature_cap(100) == 16_384 and feature_cap(140_000) == 70_000 and feature_cap(10**7) == 262_144
