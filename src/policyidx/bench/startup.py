"""How long ``policyidx search`` takes in a fresh process (the command-line case).

``python -m policyidx.bench.startup [--index DIR]... [--runs N] [--json]`` measures, on each
index given (default: the bundled corpus's default index, built if missing), in new
processes:

* ``policyidx search`` on a few queries (zh, ja, en), end to end: wall-clock and CPU
  seconds (user + system) per process;
* the same command with the index's segmenter cache switched off (``POLICYIDX_SEGCACHE=0``:
  jieba's dictionary is loaded and the domain terms added in every process, as before the
  cache), as the peer it replaces;
* inside one fresh process, phase by phase: ``import policyidx.index``, ``Index.open`` and
  the first ``Index.search`` after it (the ≤ 0.3 s target), then a second search;

and, as floors, the interpreter starting alone and importing numpy.  Figures are medians
(with min and max of the wall clock) over runs and queries.  The load average is printed
before and after, since on a shared machine the wall clock is only as good as the load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

QUERIES = ("知识产权质押融资 保险", "専利の開放許諾", "patent pledge financing", "专精特新企业")

#: Run in a fresh process: the phases of opening an index and answering a first query, each
#: as (wall, CPU) seconds, printed as one JSON line.
_PHASES = r"""
import json, sys, time
def now():
    return time.perf_counter(), time.process_time()
def since(t):
    w, c = now()
    return [round(w - t[0], 4), round(c - t[1], 4)]
out = {}
t = now()
from policyidx.index import Index
out["import"] = since(t)
t = now()
idx = Index.open(sys.argv[1] or None, build=False)
out["open"] = since(t)
t = now()
hits = idx.search(sys.argv[2], k=10)
out["first search"] = since(t)
t = now()
idx.search(sys.argv[3], k=10)
out["second search"] = since(t)
out["hits"] = len(hits)
print(json.dumps(out))
"""


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def stale_bytecode() -> int:
    """How many of the package's modules have no bytecode as new as their source (each of them
    is compiled again by every process that imports it, where bytecode is not written)."""
    import importlib.util

    import policyidx

    n = 0
    for src in Path(policyidx.__file__).parent.rglob("*.py"):
        pyc = Path(importlib.util.cache_from_source(str(src)))
        try:
            if pyc.stat().st_mtime < src.stat().st_mtime:
                n += 1
        except OSError:
            n += 1
    return n


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall-clock and CPU seconds (user + system) of one process, and its output."""
    c0, t0 = _cpu(), time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - t0, _cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"policyidx bench.startup: {' '.join(argv[:4])}… failed:\n{proc.stderr[-1500:]}")
    return elapsed, cpu, proc.stdout


def _summary(walls: list[float], cpus: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(walls), 3), "min_s": round(min(walls), 3),
            "max_s": round(max(walls), 3), "cpu_median_s": round(statistics.median(cpus), 3), "n": len(walls)}


def _load() -> float:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else float("nan")


def run(index: str | None, runs: int, queries: Sequence[str] = QUERIES, *, no_cache: bool = True) -> dict[str, Any]:
    """Time each configuration on one index; returns name -> {median_s, min_s, max_s,
    cpu_median_s, n}, and ``phases`` -> phase -> {wall_median_s, cpu_median_s}."""
    env = dict(os.environ)
    py = sys.executable
    search = [py, "-m", "policyidx.cli", "search"] + (["--index", index] if index else [])
    # warm the OS file cache and build the default index if it is missing
    _time(search + [queries[0], "--json"], env)
    configs: dict[str, tuple[list[list[str]], dict[str, str]]] = {
        "python -c pass": ([[py, "-c", "pass"]], env),
        "python -c 'import numpy'": ([[py, "-c", "import numpy"]], env),
        "policyidx search": ([search + [q, "-k", "10", "--json"] for q in queries], env),
    }
    if no_cache:
        configs["policyidx search (no segmenter cache)"] = ([search + [q, "-k", "10", "--json"] for q in queries],
                                                            {**env, "POLICYIDX_SEGCACHE": "0"})
    out: dict[str, Any] = {"load_before": _load()}
    for name, (argvs, e) in configs.items():
        got = [_time(a, e) for _ in range(runs) for a in argvs]
        out[name] = _summary([w for w, _, _ in got], [c for _, c, _ in got])
    phases: dict[str, list[list[float]]] = {}
    for _ in range(runs):
        for i, q in enumerate(queries):
            _, _, text = _time([py, "-c", _PHASES, index or "", q, queries[(i + 1) % len(queries)]], env)
            rec = json.loads(text.strip().splitlines()[-1])
            for phase, wc in rec.items():
                if phase != "hits":
                    phases.setdefault(phase, []).append(wc)
    out["phases"] = {p: {"wall_median_s": round(statistics.median(w for w, _ in v), 3),
                         "wall_max_s": round(max(w for w, _ in v), 3),
                         "cpu_median_s": round(statistics.median(c for _, c in v), 3), "n": len(v)}
                     for p, v in phases.items()}
    out["load_after"] = _load()
    return out


def _describe(index: str | None) -> str:
    """``<path> (<clauses> clauses)`` of an index, read from its current manifest."""
    from ..index.store import open_snapshot

    try:
        snap = open_snapshot(index) if index else None
    except Exception:  # noqa: BLE001 - a description only
        snap = None
    if snap is None:
        return index or "the default index of the bundled corpus"
    n = snap.manifest.get("clause_count")
    snap.close()
    return f"{index} ({n} clauses)"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m policyidx.bench.startup", description=__doc__.splitlines()[0])
    ap.add_argument("--index", action="append", help="index directory (repeatable; default: the bundled corpus's "
                    "default index, built if missing; 'default' names it beside others)")
    ap.add_argument("--runs", type=int, default=3, help="runs per query and configuration (default 3)")
    ap.add_argument("--no-peer", action="store_true", help="skip the run without the segmenter cache")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    indexes: list[str | None] = [None if i == "default" else i for i in (args.index or ["default"])]
    for index in indexes:
        if index and not ((Path(index) / "CURRENT").is_file() or (Path(index) / "manifest.json").is_file()):
            print(f"policyidx bench.startup: error: no index at {index}", file=sys.stderr)
            return 2
    results = {}
    for index in indexes:
        results[_describe(index)] = run(index, max(1, args.runs), no_cache=not args.no_peer)
    stale = stale_bytecode()
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "bytecode_cached": not stale, "modules_compiled_per_process": stale,
                          "indexes": results}, indent=1, ensure_ascii=False))
        return 0
    pyc = "cached" if not stale else (
        f"missing or stale for {stale} modules: every process compiles them"
        + (" (PYTHONDONTWRITEBYTECODE; `python -m compileall src/policyidx` writes them)"
           if os.environ.get("PYTHONDONTWRITEBYTECODE") else " (until the first run writes them)"))
    for name, res in results.items():
        print(f"index: {name}; load average {res['load_before']} before, {res['load_after']} after, "
              f"on {os.cpu_count()} CPUs; bytecode {pyc}")
        print(f"  {'fresh process':<40} {'wall s':>8} {'min s':>7} {'max s':>7} {'CPU s':>7} {'n':>4}")
        for conf, r in res.items():
            if isinstance(r, dict) and "median_s" in r:
                print(f"  {conf:<40} {r['median_s']:>8.3f} {r['min_s']:>7.3f} {r['max_s']:>7.3f} "
                      f"{r['cpu_median_s']:>7.3f} {r['n']:>4}")
        print(f"  {'in one fresh process, phase':<40} {'wall s':>8} {'':>7} {'max s':>7} {'CPU s':>7} {'n':>4}")
        for phase, r in res["phases"].items():
            print(f"  {phase:<40} {r['wall_median_s']:>8.3f} {'':>7} {r['wall_max_s']:>7.3f} "
                  f"{r['cpu_median_s']:>7.3f} {r['n']:>4}")
    print("(medians per process; wall clock = what a user waits, CPU = user + system seconds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
