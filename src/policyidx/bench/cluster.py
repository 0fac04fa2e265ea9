"""Benchmark of a sharded index on a local Dask cluster, side by side with a single index.

For one corpus the benchmark

1. builds a **single index** in this process (:meth:`policyidx.index.Index.build`, which forks
   one process per core for tokenising and encoding from 20,000 clauses up): the peer;
2. for each worker count W (default 1 and 2) starts a ``LocalCluster`` of W worker processes
   (one thread each) talking TCP on loopback, and builds the same corpus as a **sharded index**
   of S shards on it (:func:`policyidx.index.sharded.build_sharded`), timing each stage as the
   client sees it (wall) and as the tasks report it (task seconds summed over shards);
3. measures **query latency** (hybrid, k=10, p50 and p95) of the single index, of the sharded
   index searched in this process, and of the sharded index searched through the cluster, plus
   the **bytes per query** sent to and received from the shards (Dask's serialization of the
   task arguments and results; its own protocol messages are not counted) and the agreement of
   the sharded top 10 with the single index's;
4. reports size on disk and clauses, so that per-clause costs can be projected (README).

Run it with ``policyidx bench-dask --corpus DIR [--workers 1 2] [--shards 4] [--json] [--out FILE]``;
``python benchmarks/copies.py K DIR`` writes a corpus of K copies of the bundled one.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["main", "run"]


def _queries(limit: int) -> list[str]:
    """The development queries of a checkout (eval/*.jsonl), else fragments of bundled clauses."""
    here = Path(__file__).resolve().parents[3] / "eval"
    out: list[str] = []
    for f in sorted(here.glob("queries-*.jsonl")):
        out += [json.loads(line)["q"] for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not out:
        from ..corpus import Corpus

        texts = [c.text for c in Corpus.load().clauses() if len(c.text) > 20]
        out = [t[5:17] for t in texts[:: max(1, len(texts) // limit)]]
    return out[:limit]


def _du(path: Path) -> int:
    """Bytes on disk under ``path``, a hard-linked file (the shards' encoder) counted once."""
    seen: dict[tuple[int, int], int] = {}
    for f in path.rglob("*"):
        if f.is_file():
            st = f.stat()
            seen[(st.st_dev, st.st_ino)] = st.st_size
    return sum(seen.values())


def _latency(search, queries: list[str], repeat: int = 1) -> dict[str, float]:
    for q in queries[:3]:
        search(q)  # warm-up: first loads, caches
    times = []
    for _ in range(repeat):
        for q in queries:
            t = time.perf_counter()
            search(q)
            times.append(time.perf_counter() - t)
    times.sort()
    return {"p50_ms": round(1000 * statistics.median(times), 2),
            "p95_ms": round(1000 * times[min(len(times) - 1, int(0.95 * len(times)))], 2), "queries": len(times)}


def run(corpus_dir: Path, workers: list[int], shards: int, queries: list[str], scratch: Path,
        log=print) -> dict[str, Any]:
    """Run the benchmark; returns the figures (see the module docstring)."""
    from distributed import Client, LocalCluster

    from ..corpus import Corpus
    from ..index import Index

    out: dict[str, Any] = {"corpus": str(corpus_dir), "shards": shards, "cpus": os.cpu_count(),
                           "queries": len(queries)}
    t0 = time.perf_counter()
    corpus = Corpus.load(corpus_dir)
    parse = time.perf_counter() - t0
    single = Index.build(corpus, scratch / "single")
    wall = time.perf_counter() - t0
    out["clauses"] = len(single)
    out["documents"] = len(corpus)
    top = {q: [h.id for h in single.search(q, k=10)] for q in queries}
    out["single"] = {"build_wall_s": round(wall, 3), "stages_s": {"parse": round(parse, 3), **single.manifest["timings_s"]},
                     "disk_bytes": _du(single.path),
                     "latency": _latency(lambda q: single.search(q, k=10), queries)}
    log(f"single index: {len(single)} clauses, built in {wall:.1f} s, p50 {out['single']['latency']['p50_ms']} ms")
    local = None
    for w in workers:
        with LocalCluster(n_workers=w, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=":0", silence_logs=logging.ERROR) as lc, Client(lc) as client:
            t = time.perf_counter()
            built = Index.build(corpus_dir, scratch / f"sharded-{w}", client=client, shards=shards)
            wall = time.perf_counter() - t
            idx = Index.open(built.path, client=client)
            lat = _latency(lambda q: idx.search(q, k=10), queries)
            idx._runner.meter = meter = Counter()
            same = sum([h.id for h in idx.search(q, k=10)] == top[q] for q in queries)
            idx._runner.meter = None
            rt = []
            for _ in range(20):
                t = time.perf_counter()
                client.submit(len, [0], pure=False).result()
                rt.append(time.perf_counter() - t)
            rss = client.run(lambda: __import__("psutil").Process().memory_info().rss)
            rec = {"build_wall_s": round(wall, 3), "stages_wall_s": built.manifest["timings_s"],
                   "task_seconds": built.manifest["task_seconds"], "disk_bytes": _du(built.path),
                   "latency_cluster": lat,
                   "bytes_sent_per_query": round(meter["sent"] / len(queries)),
                   "bytes_received_per_query": round(meter["received"] / len(queries)),
                   "tasks_per_query": round(meter["tasks"] / len(queries), 2),
                   "same_top10_as_single": f"{same}/{len(queries)}",
                   "empty_task_round_trip_ms": round(1000 * statistics.median(rt), 2),
                   "worker_rss_bytes": sorted(rss.values())}
            out[f"workers_{w}"] = rec
            log(f"{w} worker(s): built in {wall:.1f} s, cluster p50 {lat['p50_ms']} ms, "
                f"{rec['bytes_sent_per_query'] + rec['bytes_received_per_query']} bytes/query, same top 10 {rec['same_top10_as_single']}")
            if local is None:
                local = Index.open(built.path)  # the same sharded index, searched in this process
                out["sharded_in_process"] = {"latency": _latency(lambda q: local.search(q, k=10), queries)}
    return out


def _table(res: dict[str, Any], workers: list[int]) -> str:
    cols = ["single (in-process)"] + [f"{w} worker(s)" for w in workers]
    rows: list[tuple[str, list[str]]] = []
    s = res["single"]
    recs = [res[f"workers_{w}"] for w in workers]
    rows.append(("build wall s", [f"{s['build_wall_s']:.2f}"] + [f"{r['build_wall_s']:.2f}" for r in recs]))
    stages = ["parse and tokenise", "encoder fit", "index shards"]
    for st in stages:
        rows.append((f"  {st} (wall s)", ["-"] + [f"{r['stages_wall_s'].get(st, 0):.2f}" for r in recs]))
    for st in ("parse", "tokenise", "keyword index", "encode", "vector index", "alignments"):
        rows.append((f"  {st} (task s)", [f"{s['stages_s'].get(st, 0):.2f}"] + [f"{r['task_seconds'].get(st, 0):.2f}" for r in recs]))
    rows.append(("disk MB", [f"{s['disk_bytes'] / 1e6:.1f}"] + [f"{r['disk_bytes'] / 1e6:.1f}" for r in recs]))
    rows.append(("query p50 ms", [f"{s['latency']['p50_ms']:.1f}"] + [f"{r['latency_cluster']['p50_ms']:.1f}" for r in recs]))
    rows.append(("query p95 ms", [f"{s['latency']['p95_ms']:.1f}"] + [f"{r['latency_cluster']['p95_ms']:.1f}" for r in recs]))
    rows.append(("bytes sent/query", ["0"] + [str(r["bytes_sent_per_query"]) for r in recs]))
    rows.append(("bytes received/query", ["0"] + [str(r["bytes_received_per_query"]) for r in recs]))
    rows.append(("empty Dask task ms", ["-"] + [f"{r['empty_task_round_trip_ms']:.1f}" for r in recs]))
    rows.append(("same top 10 as single", ["-"] + [r["same_top10_as_single"] for r in recs]))
    width = max(len(r[0]) for r in rows)
    lines = [f"{res['clauses']} clauses, {res['documents']} documents, {res['shards']} shards, {res['queries']} queries (hybrid, k=10)",
             " " * width + "  " + "  ".join(f"{c:>20}" for c in cols)]
    lines += [f"{name:<{width}}  " + "  ".join(f"{v:>20}" for v in vals) for name, vals in rows]
    if "sharded_in_process" in res:
        lat = res["sharded_in_process"]["latency"]
        lines.append(f"sharded index searched in this process: p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``policyidx bench-dask``: see the module docstring."""
    p = argparse.ArgumentParser(prog="policyidx bench-dask", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", metavar="DIR", help="corpus directory (default: the bundled corpus)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to run (default 1 2)")
    p.add_argument("--shards", type=int, default=4, help="shards (default 4)")
    p.add_argument("--queries", type=int, default=100, help="at most this many queries (default 100)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--out", metavar="FILE", help="also write the JSON figures to FILE")
    args = p.parse_args(argv)
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("policyidx bench-dask: error: needs dask and distributed: pip install \"policyidx[dask]\"", file=sys.stderr)
        return 2
    from ..corpus import bundled_corpus_path

    corpus_dir = Path(args.corpus) if args.corpus else bundled_corpus_path()
    with tempfile.TemporaryDirectory(prefix="policyidx-bench-dask-") as scratch:
        res = run(corpus_dir, args.workers, args.shards, _queries(args.queries), Path(scratch),
                  log=(lambda m: print(m, file=sys.stderr)))
    if args.out:
        Path(args.out).write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(res, ensure_ascii=False, indent=2) if args.json else _table(res, args.workers))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
