"""Sharded indexes: same answers as a single index, in one process and on a 2-worker Dask cluster;
a worker killed during a build or before a search does not change the answers."""

from __future__ import annotations

import json
import math
import os
import signal
from pathlib import Path

import numpy as np
import pytest

from policyidx.corpus import Corpus
from policyidx.errors import NotFoundError, QueryError, ShardError
from policyidx.index import Index
from policyidx.retrieval.keyword import BM25Index

from conftest import load_script

ROOT = Path(__file__).resolve().parent.parent

QUERIES = [
    ("知识产权质押融资 保险", {}),
    ("特許審査の迅速化", {}),
    ("中小企業の知的財産", {"lang": "ja"}),
    ("intellectual property pledge financing", {}),
    ("helping small companies that struggle to get loans", {}),  # an English second pass (feedback_expansion)
    ("专利转化运用", {"roles": ["original"]}),
    ("知識産権 サービス", {"works": ["w00001-cnipa-2022-38"]}),
    ("标准", {"docs": ["w00000-zgc-2019-ipap.zh", "w00001-miit-2023-48.ja"]}),
]
MODES = ("keyword", "dense", "hybrid")


def _copies(k: int, out: Path) -> Path:
    """K copies of the bundled corpus plus a Chinese original per copy (benchmarks/copies.py):
    several works, original/translation pairs to align, and clauses repeated word for word
    across copies (ties that shards must break as a single index does)."""
    mod = load_script(ROOT / "benchmarks" / "copies.py", "copies")
    mod.write_copies(k, out)
    return out


def assert_same_hits(a, b, tol=1e-5):
    """Same ids with the same scores, best first; ids whose scores tie (within ``tol``) may
    swap places, and a tie across the k-th place may admit either id."""
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert math.isclose(x.score, y.score, rel_tol=tol, abs_tol=tol), (x.id, x.score, y.id, y.score)
    cut = a[-1].score if a else 0.0
    sa = {h.id: h.score for h in a if h.score > cut + tol}
    sb = {h.id: h.score for h in b if h.score > cut + tol}
    assert sa.keys() == sb.keys()
    for h in a:  # a clause found by both carries the same score and fields
        other = next((o for o in b if o.id == h.id), None)
        if other is not None:
            assert math.isclose(h.score, other.score, rel_tol=tol, abs_tol=tol)
            assert (h.doc, h.text, h.highlights, h.snippet, h.expansions) == (
                other.doc, other.text, other.highlights, other.snippet, other.expansions)
            assert math.isclose(h.confidence, other.confidence, abs_tol=1e-4), (h.id, h.confidence, other.confidence)
            assert h.confident == other.confident
            for s, t in ((h.keyword_score, other.keyword_score), (h.dense_score, other.dense_score)):
                assert (s is None) == (t is None) and (s is None or math.isclose(s, t, rel_tol=tol, abs_tol=tol))


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    return _copies(2, tmp_path_factory.mktemp("corpus") / "c2")


@pytest.fixture(scope="module")
def single(corpus_dir, tmp_path_factory) -> Index:
    return Index.build(Corpus.load(corpus_dir), tmp_path_factory.mktemp("single") / "idx")


@pytest.fixture(scope="module")
def local_sharded(corpus_dir, tmp_path_factory):
    return Index.build(corpus_dir, tmp_path_factory.mktemp("sharded") / "idx", shards=3)


# ----------------------------------------------------------------------------- without Dask


def test_plan_keeps_works_together_and_balances(corpus_dir):
    from policyidx.catalog import Catalog
    from policyidx.index.sharded import plan_shards

    cat = Catalog.load(corpus_dir / "catalog.toml")
    plan = plan_shards(cat, 4)
    assert len(plan) == 4
    assert sorted(d for s in plan for d in s) == sorted(cat.documents)
    work_shard = {}
    for i, s in enumerate(plan):
        for d in s:
            assert work_shard.setdefault(cat.documents[d].work, i) == i  # a work is never split
    assert len(plan_shards(cat, 100)) == len(cat.works)  # never more shards than works
    with pytest.raises(Exception, match="positive"):
        plan_shards(cat, 0)


def test_collection_statistics_give_the_single_index_impacts():
    docs = [["专利", "质押"], ["专利", "保险", "保险"], ["商标"], ["专利", "商标", "融资"]]
    whole = BM25Index.build(docs)
    part = [docs[1], docs[3]]
    alone = BM25Index.build(part)
    vocab = alone.vocab
    df = np.array([sum(t in d for d in docs) for t in vocab])
    avgdl = sum(map(len, docs)) / len(docs)
    ptr = np.cumsum([0] + [len(d) for d in part])
    ids = np.array([vocab.index(t) for d in part for t in d])
    shard = BM25Index.from_ids(ptr, ids, vocab, collection=(len(docs), avgdl, df))
    for q in (["专利"], ["保险", "融资"], ["商标", "专利"]):
        r_w, s_w = whole.search(q, k=4)
        want = {int(r): float(s) for r, s in zip(r_w, s_w) if r in (1, 3)}
        r_s, s_s = shard.search(q, k=4)
        assert {[1, 3][int(r)]: float(s) for r, s in zip(r_s, s_s)} == want
        assert alone.search(q, k=4)[1].tolist() != list(want.values())  # local statistics differ
    with pytest.raises(QueryError):
        BM25Index.from_ids(ptr, ids, vocab, collection=(4, avgdl, df[:-1]))


def test_sharded_layout(local_sharded, single, corpus_dir):
    m = local_sharded.manifest
    assert m["layout"] == "sharded" and len(m["shards"]) == 3
    assert m["clause_count"] == len(single) == sum(s["clause_count"] for s in m["shards"])
    assert m["collection"]["rows"] == len(single)
    assert m["corpus_fingerprint"] == single.manifest["corpus_fingerprint"]
    # no leftover temporary directories (the readers' lock file of the snapshot aside)
    assert [p.name for p in local_sharded.path.rglob(".*")] == [".readers"]
    assert local_sharded.snapshot_path.parent == local_sharded.path / "snapshots"
    pairs = []
    for s in m["shards"]:
        shard = Index.open(local_sharded.snapshot_path / s["path"])  # every shard is a normal index
        assert {d["id"] for d in shard.docs} == set(s["docs"])
        rows = np.load(shard.path / "rows" / "global_row.npy")
        assert [single.row_id(int(g)) for g in rows] == [shard.row_id(i) for i in range(len(shard))]
        pairs += [(a["src"], a["tgt"]) for a in shard.manifest["alignments"]]
        assert shard.search("专利", k=3, mode="keyword")  # searchable on its own
    assert sorted(pairs) == sorted((a["src"], a["tgt"]) for a in single.manifest["alignments"])
    assert len(pairs) == 2  # one original/translation pair per copy, aligned on its shard
    reopened = Index.open(local_sharded.path, corpus=corpus_dir)
    assert type(reopened).__name__ == "ShardedIndex" and len(reopened) == len(single)


@pytest.mark.parametrize("mode", MODES)
def test_in_process_shards_answer_as_one_index(local_sharded, single, mode):
    for q, filt in QUERIES:
        assert_same_hits(single.search(q, k=10, mode=mode, **filt), local_sharded.search(q, k=10, mode=mode, **filt))
    assert_same_hits(single.search("特許", k=5, mode=mode, expand=False),
                     local_sharded.search("特許", k=5, mode=mode, expand=False))


def test_sharded_counterparts_and_alignment_match_single(local_sharded, single):
    cid = "w00001-zgc-2019-ipap.ja#3.3.10"
    assert single.aligned_clauses(cid) and local_sharded.aligned_clauses(cid) == single.aligned_clauses(cid)
    a, b = single.counterparts(cid, k=6), local_sharded.counterparts(cid, k=6)
    assert [(c.id, c.method) for c in a] == [(c.id, c.method) for c in b]
    assert all(math.isclose(x.score, y.score, rel_tol=1e-6) for x, y in zip(a, b))
    al = local_sharded.alignment("w00000-zgc-2019-ipap.zh", "w00000-zgc-2019-ipap.ja")
    assert al.to_dict() == single.alignment("w00000-zgc-2019-ipap.zh", "w00000-zgc-2019-ipap.ja").to_dict()


@pytest.mark.parametrize("scorer", ["robertson", "bm25+"])
def test_other_bm25_scorers_shard_exactly(tmp_path, corpus, scorer):
    one = Index.build(corpus, tmp_path / "one", scorer=scorer, align=False)
    three = Index.build(corpus.root, tmp_path / "three", shards=3, scorer=scorer, align=False)
    assert three.manifest["parameters"]["scorer"] == scorer
    for q, _ in QUERIES[:4]:
        assert_same_hits(one.search(q, k=10, mode="keyword"), three.search(q, k=10, mode="keyword"))


def test_sharded_errors_match_single(local_sharded, single):
    for kwargs, err in (({"docs": ["nope.zh"]}, NotFoundError), ({"works": ["nope"]}, NotFoundError),
                        ({"lang": "fr"}, QueryError), ({"mode": "fuzzy"}, QueryError)):
        with pytest.raises(err) as a:
            single.search("专利", **kwargs)
        with pytest.raises(err) as b:
            local_sharded.search("专利", **kwargs)
        assert str(a.value) == str(b.value)
    with pytest.raises(QueryError):
        local_sharded.search("  ！！ ")


def test_cli_build_and_search_sharded(tmp_path, capsys):
    from policyidx.cli import main
    from policyidx.corpus import bundled_corpus_path

    corpus_dir, out = bundled_corpus_path(), tmp_path / "idx"
    assert main(["build", "--corpus", str(corpus_dir), "--index", str(out), "--shards", "2", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert len(rec["shards"]) == 2 and rec["clause_count"] == sum(s["clause_count"] for s in rec["shards"])
    assert main(["search", "知识产权质押融资", "--corpus", str(corpus_dir), "--index", str(out), "--json", "-k", "3"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    assert main(["search", "专利", "--index", str(out), "--scheduler", "tcp://127.0.0.1:1", "--json"]) == 2
    err = capsys.readouterr().err
    assert "tcp://127.0.0.1:1" in err and len(err.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- on a Dask cluster

@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    # real scheduler and worker processes talking TCP on loopback
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=":0", silence_logs=50) as lc:
        with distributed.Client(lc) as client:
            yield client


def _two_workers(client) -> None:
    """Back to two workers after a kill (the nanny restarts a killed worker, but the local
    cluster sometimes retires it instead)."""
    from policyidx.index.sharded import worker_addresses

    if len(worker_addresses(client)) < 2:
        client.cluster.scale(2)
    client.wait_for_workers(2, timeout=120)


@pytest.fixture(scope="module")
def dask_sharded(cluster, corpus_dir, tmp_path_factory):
    return Index.build(corpus_dir, tmp_path_factory.mktemp("dask") / "idx", client=cluster, shards=4)


@pytest.mark.parametrize("mode", MODES)
def test_dask_shards_answer_as_one_index(dask_sharded, single, mode):
    assert len(dask_sharded.manifest["shards"]) == 4 and dask_sharded.manifest["workers"] == 2
    for q, filt in QUERIES:
        assert_same_hits(single.search(q, k=10, mode=mode, **filt), dask_sharded.search(q, k=10, mode=mode, **filt))


def test_dask_shards_are_opened_once_on_workers(dask_sharded, cluster):
    import policyidx.index.sharded as dist

    idx = Index.open(dask_sharded.path, client=cluster)
    idx.search("专利", k=3)
    opened = cluster.run(lambda: sorted(dist._OPEN))
    paths = [p for ps in opened.values() for p in ps]
    assert sorted(paths) == sorted(idx.shard_paths)  # each shard on exactly one worker
    assert not set(idx.shard_paths) & set(dist._OPEN)  # not in this process


def test_worker_lost_before_search_is_retried(dask_sharded, single, cluster):
    _two_workers(cluster)
    idx = Index.open(dask_sharded.path, client=cluster)
    want = single.search("知识产权质押融资 保险", k=10)
    assert_same_hits(want, idx.search("知识产权质押融资 保险", k=10))
    pids = cluster.run(os.getpid)
    victim = idx._assigned[0]
    os.kill(pids[victim], signal.SIGKILL)
    assert_same_hits(want, idx.search("知识产权质押融资 保险", k=10))  # rerun on the other worker
    _two_workers(cluster)


def test_broken_shard_fails_naming_it(dask_sharded, cluster, tmp_path):
    import shutil

    copy = tmp_path / "idx"
    shutil.copytree(dask_sharded.path, copy)
    (next((copy / "snapshots").iterdir()) / "shards" / "002" / "keyword" / "scores.npy").unlink()
    with pytest.raises(ShardError, match=r"shard 2 of 4 .*shards/002"):
        Index.open(copy, client=cluster).search("专利", k=3)


def test_worker_killed_during_build(cluster, corpus_dir, single, tmp_path):
    # killed while indexing a shard: the results it held (tokenised shards, statistics, the
    # encoder fit) are recomputed from lineage, the shard's task reruns on the other worker
    stage = "index"
    _two_workers(cluster)
    from distributed.diagnostics.plugin import WorkerPlugin

    class KillOnStart(WorkerPlugin):
        """Kills its worker's process (SIGKILL) when a task whose key starts with ``prefix``
        begins executing, once (a marker file records that it happened).  Defined here, so
        that it travels to the workers by value."""

        name = "policyidx-test-kill"

        def __init__(self, prefix: str, marker: str):
            self.prefix, self.marker = prefix, marker

        def transition(self, key, start, finish, **kw):
            if finish == "executing" and str(key).startswith(self.prefix) and not os.path.exists(self.marker):
                with open(self.marker, "w") as fh:
                    fh.write(str(key))
                os.kill(os.getpid(), signal.SIGKILL)

    marker = tmp_path / "killed"
    cluster.register_plugin(KillOnStart(f"policyidx-{stage}-1", str(marker)))
    try:
        built = Index.build(corpus_dir, tmp_path / "idx", client=cluster, shards=3)
    finally:
        cluster.unregister_worker_plugin(KillOnStart.name)
    assert marker.read_text().startswith(f"policyidx-{stage}-1")  # a worker did die in the middle of that task
    assert [p.name for p in built.path.rglob(".*")] == [".readers"]
    idx = Index.open(tmp_path / "idx", corpus=corpus_dir)
    for mode in MODES:
        assert_same_hits(single.search("知识产权质押融资 保险", k=10, mode=mode), idx.search("知识产权质押融资 保险", k=10, mode=mode))
    _two_workers(cluster)


def test_term_concordance_on_shards_matches_single(local_sharded, single):
    from policyidx.concordance import terms

    for q in ("质押融资", "特許"):
        a = [r.to_dict() for r in terms(q, index=single, glossary=single.glossary)]
        b = [r.to_dict() for r in terms(q, index=local_sharded, glossary=local_sharded.glossary)]
        assert a and a == b


def test_workbench_searches_the_shards_on_dask(dask_sharded, single, corpus_dir, cluster):
    pytest.importorskip("starlette")
    pytest.importorskip("httpx")
    import re

    from starlette.testclient import TestClient

    from policyidx.web.app import Workbench, create_app

    sharded = Index.open(dask_sharded.path, corpus=corpus_dir, client=cluster)
    pages = []
    for index in (single, sharded):
        with TestClient(create_app(workbench=Workbench(corpus_dir, index)), base_url="http://127.0.0.1:8000") as c:
            r = c.get("/", params={"q": "知识产权质押融资", "lang": "zh"})
            assert r.status_code == 200
            pages.append(re.findall(r'class="cid">([^<]+)</span>', r.text))
    assert pages[0] and pages[0] == pages[1]
