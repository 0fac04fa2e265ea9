"""Where the time of :meth:`policyidx.index.Index.search` goes, on a built index: analysing
the query, retrieving the top k, and highlighting the page of hits (from the tokens stored at
build time, and, for comparison, by segmenting every hit again as before).

Queries are fragments of 6-30 characters of the index's own clauses, drawn with ``--seed``.
Each measure is the latency of one call; p50 and p95 over the queries are reported, with the
1-minute load average before and after (the machine may be shared).

Run it with ``python -m policyidx.bench.highlight [--index DIR] [--queries N] [--mode M] [--json]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import time
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import PolicyIdxError

__all__ = ["measure", "main"]


class _Texts:
    """The clause texts of an index by row, read on demand."""

    def __init__(self, index: Any) -> None:
        self.index = index

    def __getitem__(self, row: int) -> str:
        return self.index.record(row)["text"]


def _fragments(index: Any, n: int, seed: int) -> list[str]:
    from .peers import _fragments as cut

    return cut(_Texts(index), range(len(index)), n, random.Random(seed))


def _pct(ms: Sequence[float]) -> dict[str, float]:
    a = np.asarray(ms, dtype=np.float64)
    return {"p50_ms": round(float(np.percentile(a, 50)), 4), "p95_ms": round(float(np.percentile(a, 95)), 4)}


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):  # pragma: no cover
        return None


def measure(index: Any, queries: Sequence[str], *, k: int = 10, mode: str = "keyword",
            rounds: int = 3) -> dict[str, Any]:
    """Latencies (p50, p95 in ms) of the steps of ``index.search`` for each query.

    Parameters
    ----------
    index : policyidx.index.Index
        A built index.
    queries : sequence of str
        Query texts.
    k : int
        Hits per page.
    mode : str
        Search mode (``keyword``, ``hybrid``, ``dense``).
    rounds : int
        Passes over the queries; each query's median over the passes is used.

    Returns
    -------
    dict
        ``analyse``, ``retrieve``, ``keyword_search`` (the BM25 top k alone), ``page_stored``
        (highlights and snippets of the page from stored tokens), ``page_resegmented`` (the
        same by segmenting each hit), ``index_search`` (the whole call), each with p50/p95.
    """
    from ..index.highlight import highlight, make_snippet

    timings: dict[str, list[list[float]]] = {name: [] for name in (
        "analyse", "retrieve", "keyword_search", "page_stored", "page_resegmented", "index_search")}
    retriever = index.retriever(mode)

    def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
        t0 = time.perf_counter()
        out = fn()
        return (time.perf_counter() - t0) * 1000, out

    def page(rows: list[int], exp: Any, stored: bool) -> None:
        for row in rows:
            rec = index.record(row)
            toks = index.rows.tokens(row) if stored else None
            spans, _ = highlight(rec["text"], rec["lang"], exp, toks)
            make_snippet(rec["text"], spans, lang=rec["lang"], tokens=toks)

    stored_available = index.rows.token_store is not None
    gc.collect()
    gc.disable()
    try:
        for q in queries:  # warm-up: kernels, token store, caches
            index.search(q, k=k, mode=mode)
        for _ in range(rounds):
            for name in timings:
                timings[name].append([])
            for q in queries:
                with index.analyzer.active():
                    t, exp = timed(lambda: index.analyze_query(q))
                    timings["analyse"][-1].append(t)
                    t, ranking = timed(lambda: retriever.search(exp, k, None))
                    timings["retrieve"][-1].append(t)
                    t, _ = timed(lambda: index.keyword.search(exp.terms, k=k))
                    timings["keyword_search"][-1].append(t)
                    rows = [int(r) for r, _ in ranking.pairs()]
                    t, _ = timed(lambda: page(rows, exp, True))
                    timings["page_stored"][-1].append(t)
                    t, _ = timed(lambda: page(rows, exp, False))
                    timings["page_resegmented"][-1].append(t)
                t, _ = timed(lambda: index.search(q, k=k, mode=mode))
                timings["index_search"][-1].append(t)
    finally:
        gc.enable()
    out: dict[str, Any] = {"rows": len(index), "queries": len(queries), "k": k, "mode": mode, "rounds": rounds,
                           "stored_tokens": stored_available}
    for name, passes in timings.items():
        per_query = np.median(np.asarray(passes), axis=0)
        out[name] = _pct(per_query.tolist())
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m policyidx.bench.highlight [--index DIR] [--queries N] [--json]``."""
    ap = argparse.ArgumentParser(prog="python -m policyidx.bench.highlight", description=__doc__.splitlines()[0])
    ap.add_argument("--index", help="index directory (default: $POLICYIDX_INDEX, else the bundled corpus's)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--mode", default="keyword", choices=("keyword", "hybrid", "dense"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        from ..index import Index

        index = Index.open(args.index) if args.index else Index.open()
        queries = _fragments(index, args.queries, args.seed)
        load0 = _load()
        res = measure(index, queries, k=args.k, mode=args.mode, rounds=args.rounds)
        res["loadavg_start"], res["loadavg_end"] = load0, _load()
    except PolicyIdxError as exc:
        print(f"policyidx bench.highlight: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=1))
        return 0
    print(f"{res['rows']:,} rows, {res['queries']} queries, k={res['k']}, mode {res['mode']}, "
          f"stored tokens: {res['stored_tokens']}, load {res['loadavg_start']} -> {res['loadavg_end']}")
    print("| step | p50 ms | p95 ms |\n|---|---|---|")
    for name in ("analyse", "retrieve", "keyword_search", "page_stored", "page_resegmented", "index_search"):
        print(f"| {name} | {res[name]['p50_ms']:.3f} | {res[name]['p95_ms']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
