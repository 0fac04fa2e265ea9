"""How long ``policyidx search`` takes in a fresh process (the command-line case).

``python -m policyidx.bench.startup [--index DIR] [--runs N] [--json]`` runs the search
command in new processes on a built index, and beside it, in the same run: the same
command with the index's segmenter cache switched off (``POLICYIDX_SEGCACHE=0``: jieba's
dictionary is loaded and the domain terms added, as before the cache), and two floors,
the interpreter starting alone and importing numpy.  Figures are wall-clock seconds per
process (median, min and max over the runs and queries) and the median CPU seconds (user +
system), which a busy machine inflates less than the wall clock.
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
from typing import Sequence

QUERIES = ("知识产权质押融资 保险", "専利の開放許諾", "patent pledge financing", "专精特新企业")


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one process."""
    c0, t0 = _cpu(), time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - t0, _cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"policyidx bench.startup: {' '.join(argv[:4])}… failed:\n{proc.stderr[-1500:]}")
    return elapsed, cpu


def run(index: str | None, runs: int, queries: Sequence[str] = QUERIES) -> dict[str, dict[str, float]]:
    """Time each configuration; returns name -> {median_s, min_s, max_s, n}."""
    env = dict(os.environ)
    if index:
        env["POLICYIDX_INDEX"] = index
    py = sys.executable
    search = [py, "-m", "policyidx.cli", "search"]
    # warm the OS file cache and build the default index if it is missing
    _time(search + [queries[0], "--json"], env)
    configs = {
        "python -c pass": ([[py, "-c", "pass"]], env),
        "python -c 'import numpy'": ([[py, "-c", "import numpy"]], env),
        "policyidx search (segmenter cache)": ([search + [q, "-k", "10", "--json"] for q in queries], env),
        "policyidx search (no cache)": ([search + [q, "-k", "10", "--json"] for q in queries],
                                        {**env, "POLICYIDX_SEGCACHE": "0"}),
    }
    out: dict[str, dict[str, float]] = {}
    for name, (argvs, e) in configs.items():
        runs_ = [_time(a, e) for _ in range(runs) for a in argvs]
        times, cpus = [w for w, _ in runs_], [c for _, c in runs_]
        out[name] = {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
                     "max_s": round(max(times), 3), "cpu_median_s": round(statistics.median(cpus), 3),
                     "n": len(times)}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m policyidx.bench.startup", description=__doc__.splitlines()[0])
    ap.add_argument("--index", help="index directory (default: the default index, built if missing)")
    ap.add_argument("--runs", type=int, default=3, help="runs per query and configuration (default 3)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.index and not (Path(args.index) / "manifest.json").is_file():
        print(f"policyidx bench.startup: error: no index at {args.index}", file=sys.stderr)
        return 2
    res = run(args.index, max(1, args.runs))
    if args.json:
        print(json.dumps(res, indent=1))
    else:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"{'fresh process':<40} {'median s':>9} {'min s':>7} {'max s':>7} {'CPU s':>7} {'n':>4}")
        for name, r in res.items():
            print(f"{name:<40} {r['median_s']:>9.3f} {r['min_s']:>7.3f} {r['max_s']:>7.3f} "
                  f"{r['cpu_median_s']:>7.3f} {r['n']:>4}")
        pyc = "not written (PYTHONDONTWRITEBYTECODE): every process compiles its modules" \
            if os.environ.get("PYTHONDONTWRITEBYTECODE") else "cached"
        print(f"(wall-clock and CPU seconds per process, medians; load average {load:.1f} on {os.cpu_count()} CPUs; "
              f"bytecode {pyc})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
