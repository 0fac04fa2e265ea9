"""``policyidx clauses DOC``: a document's clause tree."""

from __future__ import annotations

import argparse

from .common import emit_json, load_corpus, short

HELP = "print a document's clause tree"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("doc", help="document id, e.g. cnipa-2022-38.ja")
    sp.add_argument("--warnings", action="store_true", help="also list the parser's warnings")


def run(args: argparse.Namespace) -> int:
    corpus = load_corpus(args)
    doc = corpus[args.doc]
    if args.json:
        emit_json([c.to_dict() for c in doc.clauses])
        return 0
    print(f"{doc.id}  {doc.title}")
    for c in doc.clauses:
        indent = "  " * len(c.path)
        path = c.id.split("#", 1)[1]
        head = c.heading() or ("" if c.title else short(c.text, 50))
        if c.kind == "front" and c.path == (0,):
            head = "[front matter]"
        elif c.kind == "front":
            head = {1: "[notice] ", 2: "[title] ", 3: "[preamble] "}.get(c.path[-1], "") + short(c.text, 50)
        print(f"{indent}{path:<8} {head}")
    if args.warnings or doc.warnings:
        print(f"\n{len(doc.warnings)} parser warning(s)")
        if args.warnings:
            for w in doc.warnings:
                print(f"  {w}")
    return 0
