"""``policyidx serve``: the browser workbench (search, read, review alignments, export)."""

from __future__ import annotations

import argparse
import sys

from .common import add_index_option, client, corpus_arg, emit_json, index_path

HELP = "start the browser workbench on this machine (needs the web extra: pip install \"policyidx[web]\")"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    add_index_option(sp, "index directory (default: the corpus's default index, built when missing)")
    sp.add_argument("--host", default="127.0.0.1",
                    help="interface to bind (default 127.0.0.1: this machine only; another address exposes the edits too)")
    sp.add_argument("--port", type=int, default=8765, help="TCP port (default 8765)")
    sp.add_argument("--scheduler", metavar="ADDRESS", help="search a sharded index on this Dask cluster (tcp://host:8786)")


def run(args: argparse.Namespace) -> int:
    from ..errors import QueryError

    if not 0 < args.port < 65536:
        raise QueryError(f"--port must be between 1 and 65535, not {args.port}")
    from ..web import serve

    if args.json:  # one line a script can read before the server starts answering
        emit_json({"url": f"http://{args.host}:{args.port}/", "host": args.host, "port": args.port})
        sys.stdout.flush()
    index = index_path(args)
    corpus = corpus_arg(args)  # with --strict, the corpus loaded strictly
    if getattr(args, "scheduler", None):  # a sharded index, its shards opened on the cluster's workers
        from ..index import Index

        index = Index.open(index, corpus=corpus, build=False, client=client(args))
    serve(corpus, index, host=args.host, port=args.port)
    return 0
