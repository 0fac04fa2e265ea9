"""``policyidx build``: the keyword and embedding indexes of a corpus."""

from __future__ import annotations

import argparse
import sys
import time

from ..retrieval.scorers import SCORERS
from .common import add_index_option, emit_json, index_path, load_corpus

HELP = "build the keyword and embedding indexes of a corpus"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    add_index_option(sp, "index directory (default: $POLICYIDX_INDEX, else indexes/default beside the corpus)")
    sp.add_argument("--encoder", default="builtin", help="builtin (default, offline) or st:<model name or path>")
    sp.add_argument("--dim", type=int, default=256, help="width of the built-in encoder's vectors (default 256)")
    sp.add_argument("--scorer", default="lucene", choices=list(SCORERS), help="the BM25 variant (default lucene)")


def run(args: argparse.Namespace) -> int:
    from ..index import Index

    t0 = time.perf_counter()
    corpus = load_corpus(args, progress=not args.json and sys.stderr.isatty())
    timings = {"parse": round(time.perf_counter() - t0, 3)}
    idx = Index.build(corpus, index_path(args), encoder=args.encoder, dim=args.dim, progress=not args.json,
                      scorer=args.scorer)
    m = idx.manifest
    timings.update(m["timings_s"])
    if args.json:
        emit_json({"path": str(idx.path), **{k: m[k] for k in ("clause_count", "doc_count", "corpus_fingerprint", "encoder")},
                   "timings_s": timings})
    else:
        print(f"built {idx.path}: {m['clause_count']} clauses of {m['doc_count']} documents, encoder {m['encoder']['name']} "
              f"(dim {m['encoder'].get('dim')}), corpus {m['corpus_fingerprint']}")
        print("  " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
    return 0
