"""``policyidx term QUERY``: glossary entries with a concordance of their renderings."""

from __future__ import annotations

import argparse

from .common import add_index_option, emit_json, glossary, open_index

HELP = "glossary entries for a term, with where and how often each rendering occurs"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("query", help="a term in Chinese, Japanese or English")
    sp.add_argument("--lang", choices=["zh", "ja", "en"], help="the query's language (detected by default)")
    sp.add_argument("--glossary", action="append", metavar="FILE", help="a user glossary TSV (repeatable)")
    add_index_option(sp)


def run(args: argparse.Namespace) -> int:
    from ..concordance import render_terms, terms

    idx = open_index(args)
    results = terms(args.query, index=idx, glossary=glossary(args), lang=args.lang, counterpart=idx.aligned_counterpart)
    if args.json:
        emit_json([r.to_dict() for r in results])
        return 0
    print(render_terms(results) if results else f"no glossary entry matches {args.query!r}")
    return 0
