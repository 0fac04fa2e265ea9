"""The command line: every command, text and --json, errors as one line and exit status 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import etree

from policyidx.cli import main
from policyidx.corpus import bundled_corpus_path

FX = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="module")
def corpus_with_original(tmp_path_factory):
    """The bundled corpus plus the Chinese original of zgc-2019-ipap (the HTML fixture)."""
    root = tmp_path_factory.mktemp("c") / "corpus"
    shutil.copytree(bundled_corpus_path(), root)
    shutil.copy(FX / "zh" / "zgc-2019-ipap.zh.html", root / "zh" / "zgc-2019-ipap.zh.html")
    with open(root / "catalog.toml", "a", encoding="utf-8") as f:
        f.write('\n[[document]]\nid = "zgc-2019-ipap.zh"\nwork = "zgc-2019-ipap"\nlang = "zh"\nrole = "original"\n'
                'title = "中关村国家自主创新示范区知识产权行动方案（2019-2021年）"\nfile = "zh/zgc-2019-ipap.zh.html"\nformat = "html"\n')
    return root


@pytest.fixture(scope="module")
def build_run(corpus_with_original, tmp_path_factory):
    """``policyidx build --json`` once for the module: its exit status, report and index."""
    import contextlib
    import io

    index = tmp_path_factory.mktemp("i") / "index"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["build", "--corpus", str(corpus_with_original), "--index", str(index), "--json"])
    return code, out.getvalue(), index


@pytest.fixture(scope="module")
def built(corpus_with_original, build_run):
    code, _out, index = build_run
    assert code == 0
    return corpus_with_original, index


def test_build_reports_every_stage(build_run):
    code, out, _index = build_run
    rep = json.loads(out)
    assert code == 0 and rep["doc_count"] == 6
    assert list(rep["timings_s"])[:2] == ["parse", "tokenise"] and "alignments" in rep["timings_s"]
    assert all(v >= 0 for v in rep["timings_s"].values())


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_docs(capsys):
    code, out, _ = run(capsys, "docs", "--json")
    docs = json.loads(out)
    assert code == 0 and [d["id"] for d in docs][:2] == ["cnipa-2022-38.ja", "cnipa-2022-38-jiedu.zh"]
    code, out, _ = run(capsys, "docs")
    assert "国知発運字〔2022〕38号" in out


def test_clauses(capsys):
    code, out, _ = run(capsys, "clauses", "miit-2023-48.ja", "--json")
    rows = json.loads(out)
    assert code == 0
    assert {"id", "doc", "path", "label", "title", "text", "parent"} <= set(rows[0])
    row = next(r for r in rows if r["id"] == "miit-2023-48.ja#3.2.3")
    assert row["parent"] == "miit-2023-48.ja#3.2" and row["label"] == "3." and row["path"] == [3, 2, 3]
    code, out, _ = run(capsys, "clauses", "miit-2023-48.ja")
    assert "3.2.3" in out and "知的財産権の共同運用のチャネルを開拓する" in out


def test_show(capsys):
    code, out, _ = run(capsys, "show", "zgc-2019-ipap.ja#1")
    assert code == 0 and "訳注" in out and "translator's note" in out
    code, out, _ = run(capsys, "show", "miit-2023-48.ja#3.1.1", "--json")
    rec = json.loads(out)
    assert [c["id"] for c in rec["context"]] == ["miit-2023-48.ja#3", "miit-2023-48.ja#3.1"]
    assert any(n["kind"] == "agency" for n in rec["notes"])


def test_errors_are_one_line(capsys):
    code, out, err = run(capsys, "show", "nope.ja#1")
    assert code == 2 and out == "" and err.count("\n") == 1 and "nope.ja" in err
    code, _, err = run(capsys, "clauses", "x", "--corpus", "/nonexistent/dir")
    assert code == 2 and "catalog.toml" in err


def test_search(built, capsys):
    corpus, index = built
    code, out, _ = run(capsys, "search", "专利密集型产品备案认定", "--index", str(index), "--corpus", str(corpus), "--json", "-k", "3")
    hits = json.loads(out)
    assert code == 0 and len(hits) == 3
    assert {"rank", "score", "id", "doc", "lang", "label", "title", "text", "snippet"} <= set(hits[0])
    assert hits[0]["id"] == "cnipa-2022-38.ja#2.5"
    code, out, _ = run(capsys, "search", "patent pledge financing", "--index", str(index), "--corpus", str(corpus), "--lang", "ja")
    assert code == 0 and "1." in out and "ja#" in out
    code, _, err = run(capsys, "search", "。。", "--index", str(index), "--corpus", str(corpus))
    assert code == 2 and "punctuation" in err


def test_search_text_says_when_no_hit_is_confident(built, capsys):
    """Text output marks a list of near misses as such; a confident answer gets no such line."""
    corpus, index = built
    args = ["--index", str(index), "--corpus", str(corpus), "-k", "3"]
    code, out, _ = run(capsys, "search", "天気予報 明日の東京", *args)
    assert code == 0 and out.startswith("no confident answer") and " 1. " in out
    code, out, _ = run(capsys, "search", "专利密集型产品备案认定", *args)
    assert code == 0 and "no confident answer" not in out and "confidence" in out.splitlines()[0]


def test_align_outputs(built, capsys, tmp_path):
    corpus, index = built
    tsv, tmx, html = tmp_path / "a.tsv", tmp_path / "a.tmx", tmp_path / "a.html"
    code, out, _ = run(capsys, "align", "zgc-2019-ipap.zh", "zgc-2019-ipap.ja", "--index", str(index), "--corpus", str(corpus),
                       "--json", "--tsv", str(tsv), "--tmx", str(tmx), "--html", str(html))
    assert code == 0
    rows = json.loads(out)
    assert all({"src", "tgt", "score", "method", "sentences"} <= set(r) for r in rows)
    missing = next(r for r in rows if r["src"] == ["zgc-2019-ipap.zh#4.5"])
    assert missing["tgt"] == []  # the clause the translation lacks
    renum = next(r for r in rows if r["src"] == ["zgc-2019-ipap.zh#3.4.15"])
    assert renum["tgt"] == ["zgc-2019-ipap.ja#3.4.14"]
    tree = etree.parse(str(tmx))
    assert tree.getroot().get("version") == "1.4" and len(tree.findall(".//tu")) > 50
    assert tsv.read_text(encoding="utf-8").count("\n") > 50
    assert "zgc-2019-ipap.zh#3.4.15" in html.read_text(encoding="utf-8")
    # stored with the index, at build time, and listed in the manifest
    from policyidx.index.store import open_snapshot

    snapshot = open_snapshot(index).path
    assert (snapshot / "alignments" / "zgc-2019-ipap.zh__zgc-2019-ipap.ja.json").is_file()
    manifest = json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["alignments"] == [{"src": "zgc-2019-ipap.zh", "tgt": "zgc-2019-ipap.ja",
                                       "file": "alignments/zgc-2019-ipap.zh__zgc-2019-ipap.ja.json"}]
    code, out, _ = run(capsys, "align", "zgc-2019-ipap.zh", "zgc-2019-ipap.ja", "--index", str(index), "--corpus", str(corpus))
    assert code == 0 and "3.4.15" in out


def test_counterparts(built, capsys):
    corpus, index = built
    code, out, _ = run(capsys, "counterparts", "zgc-2019-ipap.ja#3.2.7", "--index", str(index), "--corpus", str(corpus), "--json")
    rows = json.loads(out)
    assert code == 0 and rows[0]["id"] == "zgc-2019-ipap.zh#3.2.7" and rows[0]["method"] == "alignment"
    assert all(r["doc"] != "zgc-2019-ipap.ja" for r in rows)


def test_match(built, capsys):
    corpus, index = built
    code, out, _ = run(capsys, "match", "cnipa-2022-38-jiedu.zh", "cnipa-2022-38.ja", "--within", "cnipa-2022-38-jiedu.zh#3",
                       "--index", str(index), "--corpus", str(corpus), "--json")
    rows = json.loads(out)
    assert code == 0 and rows
    assert any(r["a"].startswith("cnipa-2022-38-jiedu.zh#3.2") and r["b"] == "cnipa-2022-38.ja#2.6" for r in rows)


def test_term_and_glossary(built, capsys):
    corpus, index = built
    code, out, _ = run(capsys, "term", "开放许可", "--index", str(index), "--corpus", str(corpus), "--json")
    res = json.loads(out)
    assert code == 0 and res and res[0]["entry"]["zh"] == "开放许可"
    code, out, _ = run(capsys, "glossary", "--json")
    assert code == 0 and len(json.loads(out)) >= 500
    code, out, _ = run(capsys, "glossary", "--coverage", "--json")
    cov = json.loads(out)
    # both languages of the corpus have frequent words the glossary lacks (e.g. 試行省局)
    assert code == 0 and {"zh", "ja"} <= set(cov) <= {"zh", "ja", "en"}
    assert all(rows and all(set(r) == {"term", "count"} and r["count"] > 0 for r in rows) for rows in cov.values())
    assert any(r["term"] == "試行省局" for r in cov["ja"])


def test_match_needs_no_index(tmp_path, monkeypatch, capsys):
    """``match`` reads only the corpus: it neither opens nor builds an index."""
    nowhere = tmp_path / "no-index-here"
    monkeypatch.setenv("POLICYIDX_INDEX", str(nowhere))
    code, out, _ = run(capsys, "match", "cnipa-2022-38-jiedu.zh", "cnipa-2022-38.ja", "--within", "cnipa-2022-38-jiedu.zh#3",
                       "--json")
    assert code == 0 and json.loads(out)
    assert not nowhere.exists()


def test_search_modes_come_from_the_registry(capsys):
    from policyidx.cli.main import build_parser
    from policyidx.retrieval.modes import mode_names

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    mode = next(a for a in sub.choices["search"]._actions if a.dest == "mode")
    assert tuple(mode.choices) == mode_names()


def test_bench_without_peers_names_the_extra(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "bm25s" else real(name, *a))
    code, _, err = run(capsys, "bench", "--clauses", "10")
    assert code == 2 and 'pip install "policyidx[bench]"' in err and "bm25s" in err and len(err.strip().splitlines()) == 1


def test_alignment_is_not_written_on_a_read(built, tmp_path):
    """Reading an alignment the index lacks computes it and leaves the index as it was."""
    from policyidx.index import Index

    corpus, index = built
    copy = tmp_path / "copy"
    shutil.copytree(index, copy)
    snapshot = Index.open(copy, corpus=corpus).snapshot_path
    shutil.rmtree(snapshot / "alignments")
    idx = Index.open(copy, corpus=corpus)
    before = sorted(p.relative_to(copy) for p in copy.rglob("*"))
    al = idx.alignment("zgc-2019-ipap.zh", "zgc-2019-ipap.ja")
    assert al.pairs
    assert sorted(p.relative_to(copy) for p in copy.rglob("*")) == before
    stored = idx.store_alignment("zgc-2019-ipap.zh", "zgc-2019-ipap.ja")
    assert stored.is_file() and stored.parent == snapshot / "alignments"
