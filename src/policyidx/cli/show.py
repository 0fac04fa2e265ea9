"""``policyidx show CLAUSE``: one clause with its context (parent headings) and notes."""

from __future__ import annotations

import argparse

from .common import emit_json, load_corpus

HELP = "print one clause with its context and notes"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("clause", help="clause id (cnipa-2022-38.ja#2.6) or citation (专利代理条例第十二条第二款, reg.zh#第12条第2項)")


def run(args: argparse.Namespace) -> int:
    corpus = load_corpus(args)
    c = corpus.clause(args.clause) if "#" in args.clause else corpus.cite(args.clause)
    doc = corpus[c.doc]
    if args.json:
        rec = c.to_dict()
        rec["context"] = [{"id": a.id, "label": a.label, "title": a.title} for a in c.ancestors()]
        rec["document"] = {"id": doc.id, "title": doc.title, "lang": doc.lang, "role": doc.role}
        emit_json(rec)
        return 0
    print(f"{c.id}   ({doc.title})")
    for a in c.ancestors():
        if a.kind != "front" or a.title:
            print(f"  {'  ' * (len(a.path) - 1)}{a.heading()}")
    print(f"  {'  ' * (len(c.path) - 1)}{c.label}")
    print()
    print(c.text)
    if c.children:
        print(f"\n  sub-clauses: {', '.join(ch.id.split('#')[1] for ch in c.children)}")
    for n in c.notes:
        kind = "translator's note" if n.kind == "translator" else "responsible agencies"
        print(f"  [{kind}] {n.text}")
    if c.pages:
        print(f"  page(s): {', '.join(map(str, c.pages))}")
    return 0
