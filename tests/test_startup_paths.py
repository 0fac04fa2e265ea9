"""What a fresh ``policyidx search`` process does and does not do (no timings here: those
are measured by ``python -m policyidx.bench.startup``): it imports no parser, no numba, no
scipy and no other subcommand, and an index whose corpus is unchanged is found fresh from
the sizes and mtimes of its files, without parsing the catalog or hashing the corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from index_workers import small_corpus
from policyidx.corpus import Corpus
from policyidx.errors import StaleIndexError
from policyidx.index import Index
from policyidx.index import store as store_module


def test_search_process_imports_only_what_a_query_needs(built_index):
    code = (
        "import sys, json\n"
        "from policyidx.cli.main import main\n"
        f"rc = main(['search', '知识产权质押融资', '--index', {str(built_index.path)!r}, '--json', '-k', '3'])\n"
        "mods = [m for m in ('policyidx.parsers', 'policyidx.cli.build', 'policyidx.cli.serve', 'numba', 'scipy',"
        " 'faiss', 'policyidx.alignment') if m in sys.modules]\n"
        "print(json.dumps({'rc': rc, 'mods': mods}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "POLICYIDX_NO_NUMBA"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"rc": 0, "mods": []}, proc.stderr[-2000:]


def _aged(root, seconds=60):
    """Make every file of the corpus look modified ``seconds`` ago (a stamp skips newer files)."""
    past = time.time() - seconds
    for p in root.rglob("*"):
        if p.is_file():
            os.utime(p, (past, past))


def test_unchanged_corpus_is_fresh_without_hashing(tmp_path, monkeypatch):
    root = small_corpus(tmp_path / "corpus", ["cnipa-2022-38.ja"])
    _aged(root)
    idx = Index.build(Corpus.load(root), tmp_path / "index", align=False)
    stamp = idx.manifest["corpus_stamp"]
    assert stamp and len(stamp["files"]) == 1 and stamp["catalog"][0] == str((root / "catalog.toml").resolve())
    idx.close()

    def no_hashing(*_a, **_k):
        raise AssertionError("the corpus was hashed although no file changed")

    monkeypatch.setattr(store_module, "catalog_fingerprint", no_hashing)
    Index.open(tmp_path / "index", corpus=root, build=False).close()
    monkeypatch.undo()

    doc = next(p for p in root.rglob("*") if p.is_file() and p.name != "catalog.toml")
    os.utime(doc)  # touched, same bytes: hashed again, and still fresh
    Index.open(tmp_path / "index", corpus=root, build=False).close()
    data = bytearray(doc.read_bytes())
    data[len(data) // 2] ^= 0x01
    doc.write_bytes(bytes(data))  # same size, other content, new mtime
    with pytest.raises(StaleIndexError, match="was built for corpus"):
        Index.open(tmp_path / "index", corpus=root, build=False)


def test_touched_corpus_is_hashed_once_then_found_fresh_from_a_recorded_stamp(tmp_path, monkeypatch):
    """Same bytes, new mtimes (a fresh copy of the corpus): the first open hashes the corpus and
    records its new stamp outside the index; later opens trust it until a file changes again."""
    monkeypatch.setenv("POLICYIDX_CACHE", str(tmp_path / "cache"))
    root = small_corpus(tmp_path / "corpus", ["cnipa-2022-38.ja"])
    _aged(root, 600)
    Index.build(Corpus.load(root), tmp_path / "index", align=False).close()
    _aged(root, 60)  # every mtime moved, no byte changed
    calls = []
    real = store_module.catalog_fingerprint
    monkeypatch.setattr(store_module, "catalog_fingerprint", lambda c: calls.append(1) or real(c))
    Index.open(tmp_path / "index", corpus=root, build=False).close()
    hashed_first = len(calls)
    assert hashed_first >= 1 and list((tmp_path / "cache" / "stamps").glob("*.json"))
    Index.open(tmp_path / "index", corpus=root, build=False).close()
    assert len(calls) == hashed_first, "the corpus was hashed again although the recorded stamp holds"
    doc = next(p for p in root.rglob("*") if p.is_file() and p.name != "catalog.toml")
    data = bytearray(doc.read_bytes())
    data[len(data) // 2] ^= 0x01
    doc.write_bytes(bytes(data))
    _aged(root, 30)  # changed content, old-looking mtime: neither stamp holds, the hash decides
    with pytest.raises(StaleIndexError, match="was built for corpus"):
        Index.open(tmp_path / "index", corpus=root, build=False)


def test_recently_modified_files_get_no_stamp(tmp_path):
    root = small_corpus(tmp_path / "corpus", ["cnipa-2022-38.ja"])  # files written just now
    manifest = Index.build(Corpus.load(root), tmp_path / "index", align=False).manifest
    assert manifest["corpus_stamp"] is None or all(
        time.time_ns() - m > 2_000_000_000 for _, _, m in manifest["corpus_stamp"]["files"])


def test_verified_files_are_checksummed_again_only_when_they_change(tmp_path, monkeypatch):
    from policyidx.errors import CorruptIndexError

    monkeypatch.setenv("POLICYIDX_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(store_module, "_RACY_NS", 0)  # files just built count as settled
    root = small_corpus(tmp_path / "corpus", ["cnipa-2022-38.ja"])
    Index.build(Corpus.load(root), tmp_path / "index", align=False).close()
    with Index.open(tmp_path / "index", corpus=root, build=False) as idx:
        idx.search("専精特新", k=3)  # every part verified, and recorded
    assert list((tmp_path / "cache" / "verified").glob("*.json"))
    summed = []
    real = store_module.file_checksum
    monkeypatch.setattr(store_module, "file_checksum", lambda p: summed.append(p.name) or real(p))
    with Index.open(tmp_path / "index", corpus=root, build=False) as idx:
        idx.search("専精特新", k=3)
        assert summed == []  # unchanged since verified: not read again
        assert idx.check()["problems"] == [] and "texts.bin" in summed  # check always sums in full
    texts = next((tmp_path / "index" / "snapshots").iterdir()) / "rows" / "texts.bin"
    data = bytearray(texts.read_bytes())
    data[len(data) // 2] ^= 0x20
    texts.write_bytes(bytes(data))  # same size, new ctime: checksummed again on open
    with pytest.raises(CorruptIndexError, match=r"texts\.bin is damaged \(CRC32"):
        Index.open(tmp_path / "index", corpus=root, build=False)


def test_an_index_named_by_the_environment_is_never_rebuilt_from_another_corpus(tmp_path, monkeypatch, capsys):
    """``$POLICYIDX_INDEX`` naming an index of another corpus: ``policyidx search`` searches
    it (checked against its own corpus), it does not replace it with the bundled corpus's."""
    from policyidx.cli import main

    root = small_corpus(tmp_path / "corpus", ["cnipa-2022-38.ja"])
    idx = Index.build(Corpus.load(root), tmp_path / "index", align=False)
    name, fingerprint = idx.snapshot_path.name, idx.manifest["corpus_fingerprint"]
    idx.close()
    monkeypatch.setenv("POLICYIDX_INDEX", str(tmp_path / "index"))
    monkeypatch.delenv("POLICYIDX_CORPUS", raising=False)
    assert main(["search", "専精特新", "--json", "-k", "3"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits and {h["doc"] for h in hits} == {"cnipa-2022-38.ja"}
    again = Index.open(tmp_path / "index", build=False)
    assert (again.snapshot_path.name, again.manifest["corpus_fingerprint"]) == (name, fingerprint)
    again.close()
