"""Index snapshots: the layout, one snapshot per reader for its whole life, readers that
never write, the build lock, leftovers, staleness, and bounded queries."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from index_workers import answers, small_corpus
from policyidx.corpus import Corpus
from policyidx.errors import (CorruptIndexError, IndexBusyError, IndexError_, NotFoundError, QueryError,
                              StaleIndexError)
from policyidx.index import Index
from policyidx.index import store as store_module


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A one-document corpus (fast to build) and its index."""
    base = tmp_path_factory.mktemp("tiny")
    root = small_corpus(base / "corpus", ["cnipa-2022-38.ja"])
    corpus = Corpus.load(root)
    Index.build(corpus, base / "index", align=False).close()
    return base, root, corpus


def _tree(path: Path) -> list[tuple[str, int]]:
    return sorted((p.relative_to(path).as_posix(), p.stat().st_size if p.is_file() else -1) for p in path.rglob("*"))


def test_layout_and_manifest_checksums(built_index):
    path = built_index.path
    current = (path / "CURRENT").read_text(encoding="ascii")
    assert current.startswith(f"snapshot {built_index.snapshot_path.name}\n")
    assert built_index.snapshot_path.parent == path / "snapshots"
    m = built_index.manifest
    assert m["snapshot"] == built_index.snapshot_path.name
    listed = set(m["files"])
    on_disk = {p.relative_to(built_index.snapshot_path).as_posix() for p in built_index.snapshot_path.rglob("*")
               if p.is_file()}
    assert on_disk - listed == {"manifest.json", ".readers"}
    assert all(len(e["crc32"]) == 8 and e["size"] >= 0 for e in m["files"].values())
    assert {"keyword/rows.npy", "rows/texts.bin", "vectors/vectors.npy", "encoder/components.npy"} <= listed
    report = built_index.check()
    assert report["problems"] == [] and report["files"] == len(listed)


def test_reader_keeps_its_snapshot_across_rebuilds(tiny, tmp_path):
    base, root, corpus = tiny
    path = tmp_path / "index"
    shutil.copytree(base / "index", path)
    reader = Index.open(path, corpus=corpus)  # rows open; keyword, vectors, encoder not yet loaded
    first = reader.snapshot_path
    other = small_corpus(tmp_path / "other", ["miit-2023-48.ja"])
    Index.build(Corpus.load(other), path, align=False).close()
    Index.build(Corpus.load(other), path, align=False).close()
    assert first.is_dir()  # in use: kept
    assert reader.manifest["corpus_fingerprint"] == corpus.fingerprint()
    hits = reader.search("専精特新", k=3, mode="hybrid")  # loads every part now, from its own snapshot
    assert hits and all(h.doc == "cnipa-2022-38.ja" for h in hits)
    assert Index.open(path, build=False).manifest["corpus_fingerprint"] == Corpus.load(other).fingerprint()
    reader.close()
    Index.build(Corpus.load(other), path, align=False).close()
    assert not first.exists()  # released: removed by the next build
    assert len(list((path / "snapshots").iterdir())) == 1


def test_a_reader_never_writes_into_the_index(tiny, tmp_path):
    """A FAISS cache the reader has to rebuild stays in memory."""
    base, _root, corpus = tiny
    path = tmp_path / "index"
    shutil.copytree(base / "index", path)
    before_answers = answers(Index.open(path, corpus=corpus))
    idx = Index.open(path, corpus=corpus)
    cache = next((idx.snapshot_path / "vectors").glob("*.index"))
    cache.unlink()
    before = _tree(path)
    assert answers(idx) == before_answers
    again = Index.open(path, corpus=corpus)
    assert answers(again) == before_answers
    assert again.vectors.index() is not None  # rebuilt (small indexes are searched in numpy otherwise)
    assert _tree(path) == before


def test_second_writer_is_refused(tiny, tmp_path):
    base, _root, corpus = tiny
    path = tmp_path / "index"
    shutil.copytree(base / "index", path)
    with store_module.writer_lock(path):  # another open file description: as another process
        with pytest.raises(IndexBusyError, match=r"another process \(pid \d+\) is building the index") as err:
            Index.build(corpus, path, align=False)
    assert "build.lock" in str(err.value) and "\n" not in str(err.value)
    Index.build(corpus, path, align=False).close()  # free again


def test_leftovers_of_interrupted_builds_are_cleaned(tiny, tmp_path):
    base, _root, corpus = tiny
    path = tmp_path / "idx"
    shutil.copytree(base / "index", path)
    (path / "snapshots" / ".building-77").mkdir()
    (path / "snapshots" / ".building-77" / "half.npy").write_bytes(b"x" * 10)
    (path / "snapshots" / "76").mkdir()  # a complete snapshot nobody reads any more
    (path / "snapshots" / "76" / ".readers").touch()
    (tmp_path / ".idx.building-abc").mkdir()  # what builds of format 1 left beside the index
    (tmp_path / ".idx.old-def").mkdir()
    previous = Index.open(path, build=False)
    name = previous.snapshot_path.name
    previous.close()
    idx = Index.build(corpus, path, align=False)
    assert sorted(p.name for p in (path / "snapshots").iterdir()) == [idx.snapshot_path.name]
    assert int(idx.snapshot_path.name) == int(name) + 1  # numbers only grow: a name read once means one snapshot
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx"]


def test_a_directory_that_is_not_an_index_is_not_replaced(tiny, tmp_path):
    _base, _root, corpus = tiny
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(IndexError_, match="holds other files"):
        Index.build(corpus, tmp_path, align=False)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_failed_first_build_leaves_nothing(tmp_path, monkeypatch, tiny):
    _base, _root, corpus = tiny
    from policyidx.retrieval import vectors

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(vectors.VectorStore, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        Index.build(corpus, tmp_path / "new", align=False)
    assert not (tmp_path / "new").exists()


def test_damaged_pointer_and_missing_snapshot_are_named(tiny, tmp_path):
    base, _root, corpus = tiny
    path = tmp_path / "index"
    shutil.copytree(base / "index", path)
    text = (path / "CURRENT").read_text(encoding="ascii")
    (path / "CURRENT").write_text(text.replace("snapshot ", "snapshot 9"), encoding="ascii")
    with pytest.raises(CorruptIndexError, match="CURRENT is damaged"):
        Index.open(path, build=False)
    (path / "CURRENT").write_text(text, encoding="ascii")
    shutil.rmtree(next((path / "snapshots").iterdir()))
    with pytest.raises(CorruptIndexError, match=r"names snapshot \d+, but .*\.readers is missing"):
        Index.open(path, build=False)


# ----------------------------------------------------------------------------- staleness


def test_stale_glossary_library_version_data_and_vanished_corpus(tmp_path, monkeypatch):
    root = small_corpus(tmp_path / "corpus", ["cnipa-2022-38.ja"])
    (root / "my-terms.tsv").write_text("zh\tja\ten\tdomain\tnotes\n百城百品\t百城百品\tHCHP\tprogrammes\t\n",
                                       encoding="utf-8")
    cat = root / "catalog.toml"
    cat.write_text('glossary = ["my-terms.tsv"]\n' + cat.read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "index"
    Index.build(Corpus.load(root), path, align=False).close()
    Index.open(path, build=False).close()  # fresh

    monkeypatch.setattr(store_module, "__version__", "99.0")
    with pytest.raises(StaleIndexError, match=r"built by policyidx .*, this is 99\.0"):
        Index.open(path, build=False)
    monkeypatch.undo()

    monkeypatch.setattr(store_module, "data_fingerprint", lambda: "changed")
    with pytest.raises(StaleIndexError, match="bundled with policyidx changed"):
        Index.open(path, build=False)
    monkeypatch.undo()

    terms = root / "my-terms.tsv"
    terms.write_text(terms.read_text(encoding="utf-8") + "开放许可\t開放許諾\topen licence\tlicensing\t\n",
                     encoding="utf-8")
    with pytest.raises(StaleIndexError, match=r"glossary file .*my-terms\.tsv changed"):
        Index.open(path, build=False)
    Index.build(Corpus.load(root), path, align=False).close()
    terms.unlink()
    with pytest.raises(StaleIndexError, match=r"my-terms\.tsv is gone"):
        Index.open(path, build=False)

    cat.write_text(cat.read_text(encoding="utf-8").replace('glossary = ["my-terms.tsv"]\n', ""), encoding="utf-8")
    Index.build(Corpus.load(root), path, align=False).close()
    shutil.move(root, tmp_path / "moved")
    with pytest.raises(StaleIndexError, match=r"corpus .* is gone"):
        Index.open(path, build=False)
    # given the corpus where it now is, the index is fresh again (same fingerprint)
    Index.open(path, corpus=tmp_path / "moved", build=False).close()


def test_default_index_of_the_old_layout_rebuilds_itself(tmp_path, monkeypatch, built_index):
    root = small_corpus(tmp_path / "corpus", ["cnipa-2022-38.ja"])
    default = tmp_path / "indexes" / "default"
    shutil.copytree(built_index.snapshot_path, default)  # format 1 kept these at the top
    (default / ".readers").unlink()
    shutil.rmtree(default / "glosses", ignore_errors=True)  # format 1 had no gloss index
    m = json.loads((default / "manifest.json").read_text(encoding="utf-8"))
    m["format_version"] = 1
    (default / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    monkeypatch.delenv("POLICYIDX_INDEX", raising=False)
    idx = Index.open(corpus=root)
    assert idx.path == default and idx.manifest["format_version"] == store_module.FORMAT_VERSION
    assert sorted(p.name for p in default.iterdir()) == ["CURRENT", "build.lock", "snapshots"]


# ----------------------------------------------------------------------------- queries


def test_query_bounds(built_index):
    idx = built_index
    hits = idx.search("知识产权", k=10**9, mode="hybrid")
    assert 10 < len(hits) <= len(idx)
    assert len(idx.search("知识产权", k=10**9, mode="dense")) == len(idx)
    for bad, message in [("专利\ud800", "lone surrogate U\\+D800"), ("专利\udcff", "byte 0xff, which is not UTF-8"),
                         ("专" * 20_001, "at most 20,000")]:
        with pytest.raises(QueryError, match=message):
            idx.search(bad)
    with pytest.raises(QueryError, match="positive whole number"):
        idx.search("专利", k=True)
    with pytest.raises(QueryError, match="clause id must be a string"):
        idx.counterparts(None)
    with pytest.raises(NotFoundError):
        idx.counterparts("no-such-doc#1")
    assert len(idx.counterparts("cnipa-2022-38.ja#2.5", k=10**9)) <= len(idx)


_TEXT = st.text(alphabet=st.one_of(
    st.characters(codec="utf-8"),  # any scalar value
    st.sampled_from(list("专利質権融資知识产权。、！？ \t\n\x00\u200b\ufeff\ud800\udcff")),
), max_size=60)


@settings(max_examples=int(os.environ.get("POLICYIDX_FUZZ_QUERIES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=_TEXT, k=st.one_of(st.integers(-3, 40), st.sampled_from([10**9, 2**63])),
       mode=st.sampled_from(["keyword", "dense", "hybrid"]))
def test_fuzzed_queries_answer_or_refuse_cleanly(built_index, query, k, mode):
    try:
        hits = built_index.search(query, k=k, mode=mode)
    except QueryError as exc:
        assert "\n" not in str(exc)
        event("refused with a QueryError")
        return
    event("answered")
    assert len(hits) <= min(k, len(built_index))
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_cli_non_utf8_argv_is_one_line(built_index):
    """Bytes that are not UTF-8 on the command line: one line on stderr, exit status 2."""
    env = {**os.environ, "POLICYIDX_INDEX": str(built_index.path)}
    for argv in ([b"search", b"\xff\xfe\xcc"], [b"search", "专利".encode("gb18030"), b"--json"],
                 [b"counterparts", b"\xff#1"], [b"search", "专利".encode(), b"--doc", b"\xff"]):
        proc = subprocess.run([os.fsencode(sys.executable), b"-c", b"import sys; from policyidx.cli import main; sys.exit(main())", *argv],
                              capture_output=True, env=env, timeout=300)
        err = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == 2 and len(err.strip().splitlines()) == 1, (argv, err)
        assert "Traceback" not in err
