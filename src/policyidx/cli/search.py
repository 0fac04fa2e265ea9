"""``policyidx search QUERY``: which clauses answer a query."""

from __future__ import annotations

import argparse
import sys

from ..retrieval.filters import ROLES
from ..retrieval.modes import mode_names
from .common import add_index_option, emit_json, open_index, short

HELP = "search the clauses in Chinese, Japanese or English"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("query", help="the query")
    sp.add_argument("-k", type=int, default=10, help="number of hits (default 10)")
    sp.add_argument("--mode", default="hybrid", choices=list(mode_names()), help="default hybrid")
    sp.add_argument("--lang", choices=["zh", "ja"], help="only clauses in this language")
    sp.add_argument("--doc", action="append", metavar="DOC", help="only this document (repeatable)")
    sp.add_argument("--work", action="append", metavar="WORK", help="only documents of this work (repeatable)")
    sp.add_argument("--role", action="append", choices=list(ROLES), help="only documents of this role")
    add_index_option(sp, "index directory (default: $POLICYIDX_INDEX, else the default index, built if missing)")
    sp.add_argument("--no-expand", action="store_true", help="do not expand the query with glossary renderings")
    sp.add_argument("--no-dict", action="store_true", help="expand with the glossary only, not the general dictionaries")
    sp.add_argument("--glossary", action="append", metavar="FILE", help="a user glossary TSV that extends or overrides the bundled one (repeatable)")
    sp.add_argument("--scheduler", metavar="ADDRESS", help="search a sharded index on this Dask cluster (tcp://host:8786)")


def run(args: argparse.Namespace) -> int:
    # One query per process: the compiled keyword kernels would only be loaded (numba, on a
    # background thread competing for the interpreter) after the query has been answered
    # by the numpy path, which gives the same results; nor is scipy imported for it.
    from ..index.facade import CONFIDENT
    from ..index.highlight import marked
    from ..retrieval.keyword import light_kernels

    idx = open_index(args)
    with light_kernels():
        hits = idx.search(args.query, k=args.k, mode=args.mode, lang=args.lang, docs=args.doc or None,
                          works=args.work or None, roles=args.role or None, expand=not args.no_expand,
                          dictionaries=not args.no_dict)
    if args.json:
        emit_json([h.to_dict() for h in hits])
        return 0
    if not hits:
        print("no clause matches the query")
        return 0
    if not any(h.confident for h in hits):
        # hits are still listed: near answers help, but the user should not take them as the answer
        print(f"no confident answer: the best hit's confidence is {max(h.confidence for h in hits):.2f} "
              f"(below {CONFIDENT}); the nearest clauses:")
    tty = sys.stdout.isatty()
    bold = ("\033[1m", "\033[0m") if tty else ("【", "】")
    # which renderings came from the glossary; the others from the general dictionaries (also
    # those an English query's second pass took from its best clauses, not in the analysis)
    analyze = getattr(idx, "analyze_query", None)
    from_glossary: set[str] = set()
    if analyze is not None and any(h.expansions for h in hits):
        first = analyze(args.query, expand=not args.no_expand, dictionaries=not args.no_dict)
        from_glossary = set(first.renderings) - set(first.dictionary)
    for h in hits:
        heading = f"{h.label}{h.title or ''}".strip()
        print(f"{h.rank:>2}. {h.id}  {short(heading, 60)}   [{h.score:.4f}, confidence {h.confidence:.2f}]")
        print(f"    {h.doc_title}")
        print(f"    {marked(h.snippet, h.highlights, h.snippet_start, start=bold[0], end=bold[1])}")
        gl = [e for e in h.expansions if e in from_glossary]
        dc = [e for e in h.expansions if e not in from_glossary]
        if gl:
            print(f"    via glossary: {', '.join(gl[:6])}")
        if dc:
            print(f"    via dictionaries: {', '.join(dc[:6])}")
    return 0
