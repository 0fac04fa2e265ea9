"""``policyidx match DOC_A DOC_B``: which provisions of one document correspond to which of
another.  Needs only the corpus: no index is opened or built."""

from __future__ import annotations

import argparse

from .common import emit_json, load_corpus

HELP = "which provisions of one document correspond to which of another"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("doc_a")
    sp.add_argument("doc_b")
    sp.add_argument("--threshold", type=float, help="nothing is claimed below this score")
    sp.add_argument("--within", action="append", metavar="CLAUSE", help="only these clauses of DOC_A (and their sub-clauses)")
    sp.add_argument("--index", metavar="DIR", help=argparse.SUPPRESS)  # accepted for compatibility, not used


def run(args: argparse.Namespace) -> int:
    from ..alignment import match

    corpus = load_corpus(args)
    a, b = corpus[args.doc_a], corpus[args.doc_b]
    kw = {"threshold": args.threshold} if args.threshold is not None else {}
    if args.within:
        kw["within_a"] = args.within
    rows = match(a, b, **kw)
    if args.json:
        emit_json([m.to_dict() for m in rows])
        return 0
    if not rows:
        print("no corresponding provisions above the threshold")
    for m in rows:
        print(f"{m.a}  ->  {m.b}   [{m.score:.3f}]")
        if m.evidence:
            print(f"    {', '.join(m.evidence[:6])}")
    return 0
