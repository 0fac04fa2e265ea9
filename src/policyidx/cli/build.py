"""``policyidx build``: the keyword and embedding indexes of a corpus."""

from __future__ import annotations

import argparse
import sys
import time

from ..retrieval.encoders import DEFAULT_DIM
from ..retrieval.scorers import SCORERS
from .common import add_index_option, client, corpus_path, emit_json, index_path, load_corpus, strict

HELP = "build the keyword and embedding indexes of a corpus"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    add_index_option(sp, "index directory (default: $POLICYIDX_INDEX, else indexes/default beside the corpus)")
    sp.add_argument("--encoder", default="builtin", help="builtin (default, offline) or st:<model name or path>")
    sp.add_argument("--dim", type=int, default=DEFAULT_DIM,
                    help=f"width of the built-in encoder's vectors (default {DEFAULT_DIM})")
    sp.add_argument("--scorer", default="lucene", choices=list(SCORERS), help="the BM25 variant (default lucene)")
    sp.add_argument("--scheduler", metavar="ADDRESS", help="build on this Dask cluster (tcp://host:8786): a sharded index; needs policyidx[dask]")
    sp.add_argument("--shards", type=int, metavar="N", help="build a sharded index of N shards (whole works each; default with --scheduler: one per worker)")


def run(args: argparse.Namespace) -> int:
    from ..index import Index

    t0 = time.perf_counter()
    if args.scheduler or args.shards is not None:
        # sharded: the documents are parsed where they are indexed (on the workers)
        timings: dict[str, float] = {}
        if strict(args):
            load_corpus(args)  # every document must read before the shards parse them on the workers
        idx = Index.build(corpus_path(args), index_path(args), encoder=args.encoder, dim=args.dim,
                          progress=not args.json, client=client(args), shards=args.shards,
                          scorer=args.scorer)
    else:
        corpus = load_corpus(args, progress=not args.json and sys.stderr.isatty())
        timings = {"parse": round(time.perf_counter() - t0, 3)}
        idx = Index.build(corpus, index_path(args), encoder=args.encoder, dim=args.dim, progress=not args.json,
                          scorer=args.scorer)
    m = idx.manifest
    timings.update(m["timings_s"])
    if args.json:
        out = {"path": str(idx.path), **{k: m[k] for k in ("clause_count", "doc_count", "corpus_fingerprint", "encoder")},
               "timings_s": timings}
        if "shards" in m:
            out["shards"] = [{"path": s["path"], "docs": len(s["docs"]), "clause_count": s["clause_count"]} for s in m["shards"]]
        emit_json(out)
    else:
        if "shards" in m:
            print(f"{len(m['shards'])} shards: " + ", ".join(f"{s['path']} {s['clause_count']} clauses" for s in m["shards"]))
        print(f"built {idx.path}: {m['clause_count']} clauses of {m['doc_count']} documents, encoder {m['encoder']['name']} "
              f"(dim {m['encoder'].get('dim')}), corpus {m['corpus_fingerprint']}")
        print("  " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
    return 0
