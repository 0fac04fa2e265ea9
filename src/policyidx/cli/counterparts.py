"""``policyidx counterparts CLAUSE``: the clauses elsewhere that state the same provision."""

from __future__ import annotations

import argparse

from .common import add_index_option, emit_json, open_index, short

HELP = "the clauses elsewhere that state the same provision"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("clause", help="clause id, e.g. cnipa-2022-38.ja#2.6")
    sp.add_argument("-k", type=int, default=5, help="how many (default 5)")
    sp.add_argument("--doc", action="append", metavar="DOC", help="only in this document (repeatable)")
    add_index_option(sp)


def run(args: argparse.Namespace) -> int:
    idx = open_index(args)
    rows = idx.counterparts(args.clause, k=args.k, docs=args.doc or None)
    if args.json:
        emit_json([r.to_dict() for r in rows])
        return 0
    if not rows:
        print("no counterpart found")
    for r in rows:
        heading = f"{r.label}{r.title or ''}".strip()
        print(f"{r.rank:>2}. {r.id}  {short(heading, 60)}   [{r.method} {r.score:.3f}]")
        print(f"    {short(r.text, 110)}")
    return 0
