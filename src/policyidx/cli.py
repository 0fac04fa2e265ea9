"""The ``policyidx`` command: a thin layer over the Python API.

Every subcommand calls the same public functions a user would, takes ``--corpus DIR``
(default: ``$POLICYIDX_CORPUS``, else the bundled corpus) and ``--json``.  Errors become one
line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

from .errors import PolicyIdxError

__all__ = ["main"]

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def deco(fn):
        COMMANDS[name] = fn
        return fn

    return deco


# ----------------------------------------------------------------------------- helpers


def _corpus_path(args: argparse.Namespace) -> Path | None:
    if getattr(args, "corpus", None):
        return Path(args.corpus)
    env = os.environ.get("POLICYIDX_CORPUS")
    return Path(env) if env else None


def _load_corpus(args: argparse.Namespace):
    from .corpus import Corpus

    return Corpus.load(_corpus_path(args))


def _emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2))
    sys.stdout.write("\n")


def _short(s: str | None, n: int) -> str:
    s = (s or "").replace("\n", " ")
    return s if len(s) <= n else s[: n - 1] + "…"


# ----------------------------------------------------------------------------- corpus commands


@command("docs")
def cmd_docs(args: argparse.Namespace) -> int:
    """List the documents of the corpus with their metadata."""
    corpus = _load_corpus(args)
    if args.json:
        _emit_json([d.to_dict() for d in corpus])
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


@command("clauses")
def cmd_clauses(args: argparse.Namespace) -> int:
    """Print a document's clause tree."""
    corpus = _load_corpus(args)
    doc = corpus[args.doc]
    if args.json:
        _emit_json([c.to_dict() for c in doc.clauses])
        return 0
    print(f"{doc.id}  {doc.title}")
    for c in doc.clauses:
        indent = "  " * len(c.path)
        path = c.id.split("#", 1)[1]
        head = c.heading() or ("" if c.title else _short(c.text, 50))
        if c.kind == "front" and c.path == (0,):
            head = "[front matter]"
        elif c.kind == "front":
            head = {1: "[notice] ", 2: "[title] ", 3: "[preamble] "}.get(c.path[-1], "") + _short(c.text, 50)
        print(f"{indent}{path:<8} {head}")
    if args.warnings or doc.warnings:
        print(f"\n{len(doc.warnings)} parser warning(s)")
        if args.warnings:
            for w in doc.warnings:
                print(f"  {w}")
    return 0


@command("show")
def cmd_show(args: argparse.Namespace) -> int:
    """Print one clause with its context (parent headings) and notes."""
    corpus = _load_corpus(args)
    c = corpus.clause(args.clause)
    doc = corpus[c.doc]
    if args.json:
        rec = c.to_dict()
        rec["context"] = [{"id": a.id, "label": a.label, "title": a.title} for a in c.ancestors()]
        rec["document"] = {"id": doc.id, "title": doc.title, "lang": doc.lang, "role": doc.role}
        _emit_json(rec)
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


# ----------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="policyidx", description="Search and align Chinese policy documents and their Japanese translations.")
    p.add_argument("--version", action="version", version=f"policyidx {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument("--corpus", metavar="DIR", help="corpus directory with catalog.toml (default: $POLICYIDX_CORPUS, else the bundled corpus)")
        sp.add_argument("--json", action="store_true", help="print JSON instead of text")
        return sp

    add("docs", "list the documents with their metadata")
    sp = add("clauses", "print a document's clause tree")
    sp.add_argument("doc", help="document id, e.g. cnipa-2022-38.ja")
    sp.add_argument("--warnings", action="store_true", help="also list the parser's warnings")
    sp = add("show", "print one clause with its context and notes")
    sp.add_argument("clause", help="clause id, e.g. cnipa-2022-38.ja#2.6")
    for extra in EXTRA_PARSERS:
        extra(add)
    return p


# Later modules register their subcommands here (search, align, glossary...).
EXTRA_PARSERS: list[Callable[[Callable[[str, str], argparse.ArgumentParser]], None]] = []


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``policyidx`` console script."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8")  # type: ignore[attr-defined]
        except (AttributeError, ValueError):
            pass
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except PolicyIdxError as exc:
        print(f"policyidx {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `policyidx clauses X | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except KeyboardInterrupt:
        print("policyidx: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
