"""Sharded indexes have what single ones have: versioned snapshots with a checksummed
``CURRENT`` pointer, every file's size and CRC32 in the manifests verified before first read,
the build lock, leftovers cleaned, ``policyidx check``; and a corrupted file of any shard
gives a one-line error naming it, never a wrong answer."""

from __future__ import annotations

import json
import shutil

import pytest

from index_workers import answers, run_corruption_cases, small_corpus
from policyidx.errors import CorruptIndexError, IndexBusyError, StaleIndexError
from policyidx.index import Index
from policyidx.index import store as store_module
from test_corruption import _cases, _files

COUNTERPART = "zgc-2019-ipap.ja#3.2.7"


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    """Two works (one with an original/translation pair) in two shards, and the answers."""
    base = tmp_path_factory.mktemp("sharded-snap")
    root = small_corpus(base / "corpus", ["zgc-2019-ipap.ja", "cnipa-2022-38.ja"], zgc_original=True)
    idx = Index.build(root, base / "index", shards=2)
    assert len(idx.manifest["shards"]) == 2
    expected = answers(idx, COUNTERPART)
    assert expected["counterparts"][0][2] == "alignment"
    idx.close()
    return base, root, expected


def test_layout_pointer_and_checksums(sharded):
    base, root, _ = sharded
    idx = Index.open(base / "index", corpus=root, build=False)
    assert type(idx).__name__ == "ShardedIndex"
    assert (base / "index" / "CURRENT").read_text(encoding="ascii").startswith(f"snapshot {idx.snapshot_path.name}\n")
    assert idx.snapshot_path.parent == base / "index" / "snapshots"
    listed = set(idx.manifest["files"])
    on_disk = {p.relative_to(idx.snapshot_path).as_posix() for p in idx.snapshot_path.rglob("*") if p.is_file()}
    assert on_disk - listed == {"manifest.json", ".readers"}  # every shard file is in the top manifest
    for s in idx.manifest["shards"]:  # and each shard lists its own files, for the workers that open it
        shard_manifest = json.loads((idx.snapshot_path / s["path"] / "manifest.json").read_text(encoding="utf-8"))
        own = {f"{s['path']}/{rel}" for rel in shard_manifest["files"]}
        assert own == {f for f in listed if f.startswith(s["path"] + "/") and not f.endswith("/manifest.json")}
        assert "keyword/scores.npy" in shard_manifest["files"]
    assert "library_version" in idx.manifest and "data_fingerprint" in idx.manifest
    report = idx.check()
    assert report["problems"] == [] and report["files"] == len(listed)
    idx.close()


def test_second_writer_refused_and_leftovers_cleaned(sharded, tmp_path):
    base, root, expected = sharded
    path = tmp_path / "idx"
    shutil.copytree(base / "index", path)
    with store_module.writer_lock(path):  # another open file description: as another process
        with pytest.raises(IndexBusyError, match=r"another process \(pid \d+\) is building the index") as err:
            Index.build(root, path, shards=2)
    assert "build.lock" in str(err.value) and "\n" not in str(err.value)
    (path / "snapshots" / ".building-77").mkdir()  # what a killed build left
    (path / "snapshots" / ".building-77" / "half.npy").write_bytes(b"x" * 10)
    reader = Index.open(path, corpus=root, build=False)
    first = reader.snapshot_path
    rebuilt = Index.build(root, path, shards=2, align=False)
    assert sorted(p.name for p in (path / "snapshots").iterdir()) == sorted([first.name, rebuilt.snapshot_path.name])
    assert answers(reader, COUNTERPART) == expected  # the reader keeps its snapshot, shards and all
    reader.close()
    rebuilt.close()
    Index.build(root, path, shards=2, align=False).close()
    assert len(list((path / "snapshots").iterdir())) == 1  # released snapshots removed by the next build


def test_layout_before_snapshots_is_stale(sharded, tmp_path):
    base, root, _ = sharded
    path = tmp_path / "old"
    snap = next((base / "index" / "snapshots").iterdir())
    shutil.copytree(snap, path, ignore=shutil.ignore_patterns(".readers"))  # sharded format 1: no CURRENT
    with pytest.raises(StaleIndexError, match="layout before snapshots") as err:
        Index.open(path, corpus=root, build=False)
    assert "\n" not in str(err.value)
    idx = Index.open(path, corpus=root, build=True)  # rebuilt as it was: sharded, two shards
    assert type(idx).__name__ == "ShardedIndex" and len(idx.manifest["shards"]) == 2
    assert not (path / "shards").exists() and not (path / "manifest.json").exists()
    idx.close()


def test_every_file_corrupted_every_way(sharded):
    """The corruption suite of single indexes (tests/test_corruption.py), on a sharded one:
    each file truncated, emptied, flipped twice, swapped with the next."""
    base, root, expected = sharded
    index = base / "index"
    cases = _cases(base, index)
    tally, bad = run_corruption_cases(base, root, expected, COUNTERPART, cases)
    print(f"\nsharded corruption suite: {len(_files(index))} files, {len(cases)} cases: {tally}")
    assert not bad, bad[:5]
    assert tally["error"] > len(cases) // 2


def test_policyidx_check_on_a_sharded_index(sharded, tmp_path, capsys):
    from policyidx.cli import main

    base, _root, _ = sharded
    copy = tmp_path / "index"
    shutil.copytree(base / "index", copy)
    assert main(["check", "--index", str(copy), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["problems"] == [] and report["files"] > 40 and report["stale"] is None
    target = next((copy / "snapshots").iterdir()) / "shards" / "001" / "vectors" / "vectors.npy"
    data = bytearray(target.read_bytes())
    data[-3] ^= 0x04
    target.write_bytes(bytes(data))
    assert main(["check", "--index", str(copy)]) == 2
    out, err = capsys.readouterr()
    assert "shards/001/vectors/vectors.npy" in out and "CRC32" in out
    assert len(err.strip().splitlines()) == 1 and "rebuild" in err


def test_a_damaged_shard_opened_alone_is_named(sharded, tmp_path):
    """A worker opens a shard by itself: the shard's own manifest checksums its files."""
    base, _root, _ = sharded
    copy = tmp_path / "index"
    shutil.copytree(base / "index", copy)
    shard = next((copy / "snapshots").iterdir()) / "shards" / "000"
    (shard / "rows" / "texts.bin").write_bytes(b"")
    with pytest.raises(CorruptIndexError, match=r"texts\.bin has 0 bytes"):
        Index.open(shard, build=False)
