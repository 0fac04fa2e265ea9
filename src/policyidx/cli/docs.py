"""``policyidx docs``: the documents of the corpus with their metadata."""

from __future__ import annotations

import argparse

from .common import emit_json, load_corpus

HELP = "list the documents with their metadata"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    corpus = load_corpus(args)
    if args.json:
        emit_json([d.to_dict() for d in corpus])
        return 0
    for d in corpus:
        print(f"{d.id}  [{d.lang}, {d.role}]  {len(d)} clauses")
        print(f"    {d.title}")
        facts = [x for x in (d.doc_number, "、".join(d.issuers), d.dates.get("signed"), d.dates.get("published")) if x]
        if facts:
            print(f"    {' | '.join(facts)}")
        if d.warnings:
            print(f"    {len(d.warnings)} parser warning(s): policyidx clauses {d.id} --warnings")
    return 0
