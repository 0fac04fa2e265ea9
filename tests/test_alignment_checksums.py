"""Alignments stored on request (after the build, so not in the snapshot's manifest) carry
their own checksum line, are written atomically, and are verified before they are read."""

from __future__ import annotations

import json
import shutil

import pytest

from index_workers import small_corpus
from policyidx.corpus import Corpus
from policyidx.errors import CorruptIndexError
from policyidx.index import Index
from policyidx.index.alignments import seal_bytes, unseal

SRC, TGT = "zgc-2019-ipap.zh", "zgc-2019-ipap.ja"


@pytest.fixture(scope="module")
def unaligned(tmp_path_factory):
    """An index built without alignments, of a corpus with one original/translation pair."""
    base = tmp_path_factory.mktemp("align-crc")
    root = small_corpus(base / "corpus", [TGT], zgc_original=True)
    corpus = Corpus.load(root)
    Index.build(corpus, base / "index", align=False).close()
    return base, corpus


def _stored(unaligned, tmp_path):
    base, corpus = unaligned
    path = tmp_path / "index"
    shutil.copytree(base / "index", path)
    idx = Index.open(path, corpus=corpus, build=False)
    want = idx.alignment(SRC, TGT, reviewed=False).to_dict()
    f = idx.store_alignment(SRC, TGT)
    rel = f.relative_to(idx.snapshot_path).as_posix()
    assert rel not in idx.manifest["files"]  # stored after the build: only its own checksum protects it
    idx.close()
    return path, corpus, f, want


def test_stored_alignment_has_a_checksum_line_and_reads_back(unaligned, tmp_path):
    path, corpus, f, want = _stored(unaligned, tmp_path)
    lines = f.read_bytes().split(b"\n")
    assert lines[-2].startswith(b"policyidx-crc32 ") and lines[-1] == b""
    assert json.loads(lines[0])["src"] == SRC
    mtime = f.stat().st_mtime_ns
    idx = Index.open(path, corpus=corpus, build=False)
    assert idx.alignments.get(SRC, TGT, corpus.doc_fingerprint(SRC), corpus.doc_fingerprint(TGT)).to_dict() == want
    assert idx.alignment(TGT, SRC, reviewed=False).to_dict()["src"] == TGT  # read reversed
    idx.store_alignment(SRC, TGT)  # the same alignment again: the file is left as it is
    assert f.stat().st_mtime_ns == mtime
    assert idx.check()["problems"] == []
    idx.close()


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "no-checksum"])
def test_damaged_stored_alignment_is_named(unaligned, tmp_path, damage, capsys):
    from policyidx.cli import main

    path, corpus, f, _want = _stored(unaligned, tmp_path)
    data = bytearray(f.read_bytes())
    if damage == "flip":
        data[len(data) // 3] ^= 0x02
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "empty":
        data = bytearray()
    else:  # the JSON alone, as written before alignments had checksums
        data = data[: data.rindex(b"\npolicyidx-crc32")]
    f.write_bytes(bytes(data))
    idx = Index.open(path, corpus=corpus, build=False)
    with pytest.raises(CorruptIndexError) as err:
        idx.alignment(SRC, TGT)
    assert f.name in str(err.value) and "\n" not in str(err.value)
    problems = idx.check()["problems"]
    assert len(problems) == 1 and f.name in problems[0]
    idx.close()
    assert main(["check", "--index", str(path)]) == 2
    out, err_text = capsys.readouterr()
    assert f.name in out and len(err_text.strip().splitlines()) == 1


def test_build_time_alignments_are_sealed_both_ways(tmp_path):
    root = small_corpus(tmp_path / "corpus", [TGT], zgc_original=True)
    idx = Index.build(Corpus.load(root), tmp_path / "index")
    f = idx.snapshot_path / idx.manifest["alignments"][0]["file"]
    assert f.relative_to(idx.snapshot_path).as_posix() in idx.manifest["files"]
    assert unseal(f, f.read_bytes()).startswith(b"{")
    idx.close()


def test_seal_round_trip_and_refusals(tmp_path):
    body = json.dumps({"a": "条\n款"}, ensure_ascii=False).encode("utf-8")
    sealed = seal_bytes(body)
    assert unseal(tmp_path / "x.json", sealed) == body
    for bad in (sealed.replace(b"size ", b"size 1"), sealed[:-12] + b"00000000\n", body):
        with pytest.raises(CorruptIndexError, match="x.json"):
            unseal(tmp_path / "x.json", bad)
    assert unseal(tmp_path / "x.json", body, listed=True) == body  # the manifest vouches for an old file
