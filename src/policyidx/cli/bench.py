"""``policyidx bench``: the benchmark at scale, imported only when asked for."""

from __future__ import annotations

import sys
from typing import Sequence

#: The peers the benchmark compares with, and the modules they are imported as.
PEERS = {"bm25s": "bm25s", "rank_bm25": "rank_bm25"}
INSTALL_HINT = 'pip install "policyidx[bench]"'


def missing_peers() -> list[str]:
    """The benchmark's peers that cannot be imported."""
    import importlib.util

    return [name for name, module in PEERS.items() if importlib.util.find_spec(module) is None]


def run_bench_command(argv: Sequence[str]) -> int:
    """Run ``policyidx bench`` with ``argv``; exit status 2 with an install hint when a
    peer library is missing (and ``--no-peers`` was not given)."""
    if "--no-peers" not in argv and not any(a in ("-h", "--help") for a in argv):
        missing = missing_peers()
        if missing:
            print(f"policyidx bench: error: the benchmark compares with {', '.join(missing)}, which "
                  f"{'is' if len(missing) == 1 else 'are'} not installed: {INSTALL_HINT} (or pass --no-peers)",
                  file=sys.stderr)
            return 2
    from ..bench.scale import main as bench_main

    return bench_main(list(argv))
