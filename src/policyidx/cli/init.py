"""``policyidx init DIR``: write ``catalog.toml`` for a folder of documents."""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import QueryError
from .common import emit_json

HELP = "write catalog.toml for a folder of documents (text, markdown, HTML, PDF), so it can be built"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("folder", metavar="DIR", nargs="?",
                    help="the folder of documents, searched recursively (default: --corpus, else $POLICYIDX_CORPUS)")
    sp.add_argument("--force", action="store_true", help="replace an existing catalog.toml")


def run(args: argparse.Namespace) -> int:
    from ..adhoc import write_catalog

    folder = args.folder or args.corpus or os.environ.get("POLICYIDX_CORPUS")
    if not folder:
        raise QueryError("give the folder of documents: policyidx init DIR")
    path, found, skipped = write_catalog(folder, force=args.force, strict=args.strict)
    if args.json:
        emit_json({"catalog": str(path), "documents": [vars(d) for d in found], "skipped": skipped})
        return 0
    for msg in skipped:
        print(f"policyidx init: warning: {msg}", file=sys.stderr)
    langs: dict[str, int] = {}
    for d in found:
        langs[d.lang] = langs.get(d.lang, 0) + 1
    works = len({d.work for d in found})
    print(f"wrote {path}: {len(found)} documents of {works} works "
          f"({', '.join(f'{n} {lg}' for lg, n in sorted(langs.items()))}); "
          f"next: policyidx build --corpus {folder}")
    return 0
