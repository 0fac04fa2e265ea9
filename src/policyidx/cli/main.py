"""The ``policyidx`` command: a thin layer over the Python API.

One module per subcommand (``policyidx.cli.<name>``); this one parses and dispatches.

Every subcommand calls the same public functions a user would, takes ``--corpus DIR``
(default: ``$POLICYIDX_CORPUS``, else the bundled corpus) and ``--json``.  Errors become one
line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ..errors import PolicyIdxError

__all__ = ["main"]

#: The subcommands, in the order ``policyidx --help`` lists them: one module each, with
#: ``HELP``, ``add_arguments(parser)`` and ``run(args) -> exit status``.
SUBCOMMANDS = ("init", "docs", "clauses", "show", "build", "search", "align", "match", "counterparts", "term", "glossary",
               "serve", "check", "eval")


def _module(name: str):
    return importlib.import_module(f"policyidx.cli.{name}")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command's parser; with ``only``, that subcommand's alone (a run imports only the
    module of its own subcommand: a fresh ``policyidx search`` does not pay for the others)."""
    from .. import __version__

    p = argparse.ArgumentParser(prog="policyidx", description="Search and align Chinese policy documents and their Japanese translations.")
    p.add_argument("--version", action="version", version=f"policyidx {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        if only is not None and name != only:
            continue
        mod = _module(name)
        sp = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        sp.add_argument("--corpus", metavar="DIR", help="corpus directory with catalog.toml (default: $POLICYIDX_CORPUS, else the bundled corpus)")
        sp.add_argument("--json", action="store_true", help="print JSON instead of text")
        sp.add_argument("--strict", action="store_true", help="stop at a document that cannot be read (default: skip it, with a warning naming the file)")
        mod.add_arguments(sp)
    sub.add_parser("bench-dask", help="benchmark a sharded index on a local Dask cluster of 1 and 2 workers (policyidx bench-dask --help)", add_help=False)
    sub.add_parser("bench", help="benchmark at scale against bm25s, rank_bm25 and exact FAISS (policyidx bench --help)", add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``policyidx`` console script."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8")  # type: ignore[attr-defined]
        except (AttributeError, ValueError):
            pass
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        # the benchmark has its own options (sizes, peers, ANN settings): hand them over whole
        from .bench import run_bench_command

        return run_bench_command(argv[1:])
    if argv[:1] == ["bench-dask"]:
        from ..bench.cluster import main as cluster_bench_main

        return cluster_bench_main(argv[1:])
    parser = build_parser(argv[0] if argv[:1] and argv[0] in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return _module(args.command).run(args)
    except PolicyIdxError as exc:
        print(f"policyidx {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `policyidx clauses X | head`
        # point the closed pipe's descriptor at /dev/null, so the flush at exit cannot fail
        # again; ``sys.stdout`` itself stays the caller's (an in-process caller keeps it)
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, AttributeError, ValueError):  # no descriptor: a StringIO, a closed stream
            pass
        return 0
    except KeyboardInterrupt:
        print("policyidx: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
