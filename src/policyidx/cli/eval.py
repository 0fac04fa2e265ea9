"""``policyidx eval QUERIES...``: how well search answers query sets (hit@1, hit@5, MRR@10)."""

from __future__ import annotations

import argparse

from ..retrieval.modes import mode_names
from .common import add_index_option, emit_json, open_index

HELP = "evaluate search on query files: hit@1, hit@5, MRR@10 per set, language, split and mode"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("files", nargs="+", metavar="QUERIES",
                    help='query files, JSON lines {"q": ..., "lang": ..., "gold": [[doc id, text], ...], "split": "dev"|"test"}')
    add_index_option(sp, "index directory (default: $POLICYIDX_INDEX, else the default index of the corpus, built if missing)")
    sp.add_argument("--mode", action="append", choices=list(mode_names()), metavar="MODE",
                    help=f"a search mode to evaluate (repeatable; default all: {', '.join(mode_names())})")
    sp.add_argument("--split", choices=["dev", "test"], help="only the queries of this split (default: all, reported apart)")
    sp.add_argument("--no-expand", action="store_true", help="no query expansion (neither glossary nor dictionaries)")
    sp.add_argument("--no-dict", action="store_true", help="glossary expansion only, without the general dictionaries")
    sp.add_argument("--match", choices=["text", "article"], default="text",
                    help="how a hit is judged: its clause text holds the gold text (text, the default), or also "
                         "the article enclosing such a clause and the items inside it (article)")
    sp.add_argument("-k", type=int, default=10, help="hits retrieved per query (default 10; MRR is cut at 10)")
    sp.add_argument("--misses", action="store_true", help="also list the queries whose answer is not in the top 5")


def run(args: argparse.Namespace) -> int:
    from ..errors import QueryError
    from ..evaluate import evaluate, format_paired, format_table, load_queries

    if args.k < 5:
        raise QueryError(f"-k must be at least 5 to measure hit@5, got {args.k}")
    queries = load_queries(args.files, split=args.split)
    if not queries:
        raise QueryError(f"no queries in {', '.join(args.files)}" + (f" with split {args.split!r}" if args.split else ""))
    idx = open_index(args)
    modes = args.mode or list(mode_names())
    res = evaluate(idx, queries, modes, expand=not args.no_expand, dictionaries=not args.no_dict, k=args.k, match=args.match)
    res["index"] = str(idx.path)
    if args.json:
        emit_json(res if args.misses else {k: v for k, v in res.items() if k != "misses"})
        return 0
    exp = "off" if args.no_expand else ("glossary only" if args.no_dict else "glossary + dictionaries")
    judged = "" if args.match == "text" else ", a hit's enclosing article and its items count"
    print(f"{len(queries)} queries, expansion {exp}{judged}, index {idx.path}")
    print(format_table(res))
    paired = format_paired(res)
    if paired:
        print(paired)
    if args.misses:
        for mode, ms in res["misses"].items():
            for m in ms:
                print(f"  miss [{mode}] {m['source']} rank={m['rank']} top={m['top']} q={m['q']}")
    return 0
