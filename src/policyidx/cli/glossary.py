"""``policyidx glossary``: the glossary, or the frequent corpus terms it does not cover."""

from __future__ import annotations

import argparse
import sys

from .common import emit_json, glossary, load_corpus

HELP = "list the glossary entries, or report what it does not cover"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--coverage", action="store_true", help="frequent corpus terms that no entry covers, by language")
    sp.add_argument("--top", type=int, default=50, help="with --coverage: how many terms per language")
    sp.add_argument("--domain", help="only entries of this domain (patents, trademarks, licensing, ...)")
    sp.add_argument("--all", action="store_true", help="include the general policy vocabulary (domain general)")
    sp.add_argument("--glossary", action="append", metavar="FILE", help="a user glossary TSV (repeatable)")


def run(args: argparse.Namespace) -> int:
    gl = glossary(args)
    if args.coverage:
        from ..concordance import coverage, render_coverage

        cov = coverage(load_corpus(args), gl, top=args.top)
        if args.json:
            emit_json({lang: [{"term": t, "count": n} for t, n in rows] for lang, rows in cov.items()})
        else:
            print(render_coverage(cov))
        return 0
    entries = [e for e in gl if (args.domain is None or e.domain == args.domain) and (args.all or e.domain != "general")]
    if args.json:
        emit_json([e.to_record() for e in entries])
        return 0
    for e in entries:
        print(f"{e.zh}\t{' | '.join(e.ja)}\t{' | '.join(e.en)}\t[{e.domain}]")
    print(f"{len(entries)} entries", file=sys.stderr)
    return 0
