"""Corruption suite: every file of an index truncated, bit-flipped, emptied and swapped with
another gives a one-line error naming the file, or the right answers; never a wrong answer,
a raw traceback or a crash of the process.

All cases run in one worker process (``tests/index_workers.py corrupt``), so a segfault in
native code fails the test instead of killing pytest.  ``POLICYIDX_CORRUPTION_FLIPS=N``
adds N flips at random offsets per file (the long profile).
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest

from index_workers import answers, run_corruption_cases, small_corpus

COUNTERPART = "zgc-2019-ipap.ja#3.2.7"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """An index of two documents with an alignment (every kind of file), and its answers."""
    from policyidx.corpus import Corpus
    from policyidx.index import Index

    base = tmp_path_factory.mktemp("corrupt")
    root = small_corpus(base / "corpus", ["zgc-2019-ipap.ja", "cnipa-2022-38.ja"], zgc_original=True)
    corpus = Corpus.load(root)
    idx = Index.build(corpus, base / "index")
    expected = answers(idx, COUNTERPART)
    assert idx.manifest["alignments"] and expected["counterparts"][0][2] == "alignment"
    idx.close()
    return base, root, expected


def _files(index: Path) -> list[str]:
    """Every file of the index but the readers' lock (which holds nothing), relative."""
    return sorted(p.relative_to(index).as_posix() for p in index.rglob("*")
                  if p.is_file() and p.name not in (".readers", "build.lock"))


def _linked_copy(index: Path, path: Path, touched: list[str]) -> None:
    """A copy of ``index`` at ``path`` whose files are hard links to the pristine ones,
    except the files a case will change (and the readers' lock), which are copies of their
    own: hundreds of cases then take the disk space of the files they change, not of
    hundreds of indexes (a full copy per case took 18 GB for the sharded suite)."""
    own = {path / f for f in touched}

    def link_or_copy(src: str, dst: str) -> None:
        if Path(dst) in own or Path(src).name in (".readers", "build.lock"):
            shutil.copy2(src, dst)
        else:
            os.link(src, dst)

    shutil.copytree(index, path, copy_function=link_or_copy)


def _cases(base: Path, index: Path) -> list[dict]:
    files = _files(index)
    flips = int(os.environ.get("POLICYIDX_CORRUPTION_FLIPS", "0"))
    rng = random.Random(13)
    cases = []
    n = 0

    def case(name: str, touched: list[str], change) -> None:
        nonlocal n
        n += 1
        path = base / "cases" / f"{n:04d}"
        _linked_copy(index, path, touched)
        before = {f: (path / f).read_bytes() for f in touched}
        change(path)
        if all((path / f).read_bytes() == before[f] for f in touched):
            shutil.rmtree(path)  # the change changed nothing (an empty file truncated...)
            return
        cases.append({"name": name, "path": str(path), "files": touched})

    for i, f in enumerate(files):
        size = (index / f).stat().st_size

        def truncate(p, f=f, size=size):
            (p / f).write_bytes((p / f).read_bytes()[: size // 2])

        def empty(p, f=f):
            (p / f).write_bytes(b"")

        def flip_at(offset):
            def flip(p, f=f):
                data = bytearray((p / f).read_bytes())
                if data:
                    data[offset % len(data)] ^= 1 << (offset % 8)
                (p / f).write_bytes(bytes(data))
            return flip

        other = files[(i + 1) % len(files)]

        def swap(p, f=f, other=other):
            a, b = (p / f).read_bytes(), (p / other).read_bytes()
            (p / f).write_bytes(b)
            (p / other).write_bytes(a)

        case(f"truncate {f}", [f], truncate)
        case(f"empty {f}", [f], empty)
        case(f"flip {f} @middle", [f], flip_at(size // 2))
        case(f"flip {f} @start", [f], flip_at(3))
        for _ in range(flips):
            off = rng.randrange(max(size, 1))
            case(f"flip {f} @{off}", [f], flip_at(off))
        case(f"swap {f} <-> {other}", [f, other], swap)
    return cases


def test_every_file_corrupted_every_way(pristine):
    base, root, expected = pristine
    index = base / "index"
    cases = _cases(base, index)
    tally, bad = run_corruption_cases(base, root, expected, COUNTERPART, cases, timeout=900)
    print(f"\ncorruption suite: {len(_files(index))} files, {len(cases)} cases: {tally}")
    assert not bad, bad[:5]
    assert tally["error"] > len(cases) // 2  # the suite did corrupt what is read


def test_policyidx_check_finds_every_damaged_file(pristine, tmp_path, capsys):
    """``policyidx check`` checksums every file in full, so it also sees damage in large
    memory-mapped arrays that opening checks only for size and bounds."""
    from policyidx.cli import main

    base, _root, _expected = pristine
    copy = tmp_path / "index"
    shutil.copytree(base / "index", copy)
    assert main(["check", "--index", str(copy), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["problems"] == [] and report["files"] > 10 and report["stale"] is None
    snapshot = next((copy / "snapshots").iterdir())
    target = snapshot / "keyword" / "scores.npy"
    data = bytearray(target.read_bytes())
    data[-2] ^= 0x10
    target.write_bytes(bytes(data))
    assert main(["check", "--index", str(copy)]) == 2
    out, err = capsys.readouterr()
    assert "scores.npy" in out and "CRC32" in out
    assert len(err.strip().splitlines()) == 1 and "rebuild" in err


def test_bounds_are_checked_where_checksums_are_not(pristine, tmp_path, monkeypatch):
    """Large memory-mapped arrays are not checksummed when opened (``policyidx check`` does
    that); their bounds are, before any compiled code reads them: an out-of-range row id in
    the postings (once a segfault in scipy's csc_matvec) or offsets that go backwards."""
    import numpy as np

    from policyidx.errors import IndexError_
    from policyidx.index import Index
    from policyidx.index import store as store_module

    base, root, _expected = pristine
    monkeypatch.setattr(store_module, "VERIFY_MAX_BYTES", 0)  # as if every array were large

    def damaged(rel: str, change) -> Path:
        copy = tmp_path / f"c{len(list(tmp_path.iterdir()))}"
        shutil.copytree(base / "index", copy)
        f = next((copy / "snapshots").iterdir()) / rel
        arr = np.load(f, mmap_mode="r+", allow_pickle=False)  # in place: same size
        change(arr)
        arr.flush()
        del arr
        return copy

    def out_of_range(a):
        a[len(a) // 2] = 10**6

    copy = damaged("keyword/rows.npy", out_of_range)
    idx = Index.open(copy, corpus=root, build=False)
    with pytest.raises(IndexError_, match=r"rows\.npy is damaged: row ids outside"):
        idx.search("知识产权", mode="keyword")

    def backwards(a):
        a[3], a[4] = a[4], a[3] - 1

    copy = damaged("rows/texts.offsets.npy", backwards)
    with pytest.raises(IndexError_, match=r"texts\.offsets\.npy does not describe texts\.bin"):
        Index.open(copy, corpus=root, build=False)

    def indptr_backwards(a):
        a[5] = a[6] + 1

    copy = damaged("keyword/indptr.npy", indptr_backwards)
    idx = Index.open(copy, corpus=root, build=False)
    with pytest.raises(IndexError_, match=r"indptr\.npy is damaged"):
        idx.search("知识产权", mode="keyword")

    def nan(a):
        a[0] = np.nan

    copy = damaged("keyword/scores.npy", nan)  # no crash: only the checksum can tell
    idx = Index.open(copy, corpus=root, build=False)
    idx.search("知识产权", mode="keyword")
    assert any("scores.npy" in p and "CRC32" in p for p in idx.check()["problems"])
