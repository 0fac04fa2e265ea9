"""Readers in other processes while the index is rebuilt (zero wrong answers, zero errors),
and builds killed at any moment (the previous index answers as before; the next build
cleans up).

``POLICYIDX_REBUILDS=N``, ``POLICYIDX_READERS=N`` and ``POLICYIDX_KILLS=N`` run longer profiles.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index_workers import QUERIES, answers, small_corpus
from policyidx.corpus import Corpus
from policyidx.index import Index

HERE = Path(__file__).resolve().parent
REBUILDS = int(os.environ.get("POLICYIDX_REBUILDS", "6"))
KILLS = int(os.environ.get("POLICYIDX_KILLS", "5"))
READERS = int(os.environ.get("POLICYIDX_READERS", "2"))


@pytest.fixture(scope="module")
def two_corpora(tmp_path_factory):
    """Two one-document corpora that answer the same queries differently, and those answers."""
    base = tmp_path_factory.mktemp("conc")
    a = Corpus.load(small_corpus(base / "a", ["cnipa-2022-38.ja"]))
    b = Corpus.load(small_corpus(base / "b", ["miit-2023-48.ja"]))
    expected = {}
    for c in (a, b):
        idx = Index.build(c, base / f"expected-{c.root.name}", align=False)
        expected[c.fingerprint()] = answers(idx)
        idx.close()
    assert expected[a.fingerprint()] != expected[b.fingerprint()]
    (base / "expected.json").write_text(json.dumps(expected, ensure_ascii=False), encoding="utf-8")
    return base, a, b


def test_readers_during_rebuilds_get_no_wrong_answer(two_corpora, tmp_path):
    base, a, b = two_corpora
    path = tmp_path / "index"
    Index.build(a, path, align=False).close()
    stop = tmp_path / "stop"
    readers = [subprocess.Popen([sys.executable, str(HERE / "index_workers.py"), "read", str(path),
                                 str(base / "expected.json"), str(stop)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(READERS)]
    try:
        deadline = time.monotonic() + 300  # the readers import, load their tokenisers and read once
        while len(list(tmp_path.glob("ready-*"))) < len(readers):
            assert time.monotonic() < deadline and all(r.poll() is None for r in readers), "readers did not start"
            time.sleep(0.05)
        for i in range(REBUILDS):
            Index.build(b if i % 2 == 0 else a, path, align=False).close()
    finally:
        stop.touch()
        outs = [r.communicate(timeout=300) for r in readers]
    reports = []
    for r, (out, err) in zip(readers, outs):
        assert r.returncode == 0, err[-2000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))
    total = {k: sum(r[k] for r in reports) for k in ("opens", "answers", "wrong", "errors")}
    print(f"\nconcurrency: {READERS} reader processes, {REBUILDS} rebuilds: {total}, "
          f"snapshots seen per reader {[r['snapshots'] for r in reports]}")
    assert total["wrong"] == 0 and total["errors"] == 0, [r["messages"] for r in reports]
    assert total["answers"] >= 2 * len(QUERIES[:2]) * 3
    assert all(r["snapshots"] >= 2 for r in reports)  # each reader did read across rebuilds
    # nothing left but the current snapshot once the readers are gone and one more build ran
    Index.build(a, path, align=False).close()
    assert len(list((path / "snapshots").iterdir())) == 1


def test_killed_builds_leave_the_previous_index(two_corpora, tmp_path):
    base, a, b = two_corpora
    expected = json.loads((base / "expected.json").read_text(encoding="utf-8"))
    path = tmp_path / "index"
    Index.build(a, path, align=False).close()
    interrupted = 0
    for i in range(KILLS):
        proc = subprocess.Popen([sys.executable, str(HERE / "index_workers.py"), "build", str(b.root), str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # wait until it is building (its snapshot directory exists), then kill it at some point
        deadline = time.monotonic() + 120
        while not any(p.name.startswith(".building-") for p in (path / "snapshots").iterdir()):
            if proc.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        time.sleep(0.15 * i)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        finished = proc.returncode == 0
        interrupted += not finished
        idx = Index.open(path, build=False)
        fp = idx.manifest["corpus_fingerprint"]
        assert fp in (a.fingerprint(), b.fingerprint())
        assert answers(idx) == expected[fp]
        idx.close()
        if fp == b.fingerprint():  # the build had finished: start again from a
            Index.build(a, path, align=False).close()
    print(f"\nkill during build: {KILLS} builds killed, {interrupted} of them before the end")
    assert interrupted >= 1
    # the lock died with the killed builder; the next build cleans what it left
    Index.build(b, path, align=False).close()
    assert [p.name for p in (path / "snapshots").iterdir()] == [Index.open(path, build=False).snapshot_path.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]
