"""What every subcommand shares: the corpus and index options, JSON output, short text."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def corpus_path(args: argparse.Namespace) -> Path | None:
    if getattr(args, "corpus", None):
        return Path(args.corpus)
    env = os.environ.get("POLICYIDX_CORPUS")
    return Path(env) if env else None


def strict(args: argparse.Namespace) -> bool:
    """``--strict``: a document that cannot be read stops the command (one line naming the file)."""
    return bool(getattr(args, "strict", False))


def load_corpus(args: argparse.Namespace, progress: bool = False):
    """The corpus of ``--corpus`` (``$POLICYIDX_CORPUS``, else the bundled one), loaded with ``--strict``."""
    from ..corpus import Corpus

    if progress:
        return Corpus.load(corpus_path(args), progress=True, strict=strict(args))
    return Corpus.load(corpus_path(args), strict=strict(args))


def corpus_arg(args: argparse.Namespace):
    """What to hand an index as its corpus: the path, or with ``--strict`` the corpus loaded strictly
    (so that the index opens over documents that all read)."""
    return load_corpus(args) if strict(args) else corpus_path(args)


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2))
    sys.stdout.write("\n")


def short(s: str | None, n: int) -> str:
    s = (s or "").replace("\n", " ")
    return s if len(s) <= n else s[: n - 1] + "…"


def index_path(args: argparse.Namespace) -> Path | None:
    if getattr(args, "index", None):
        return Path(args.index)
    return None


def client(args: argparse.Namespace):
    """A Dask client for ``--scheduler ADDRESS`` (None without it)."""
    if not getattr(args, "scheduler", None):
        return None
    from ..index.sharded import connect

    return connect(args.scheduler)


def open_index(args: argparse.Namespace):
    from ..index import Index

    corpus = corpus_arg(args)
    return Index.open(index_path(args), corpus=corpus, build=None if index_path(args) is None else False,
                      progress=sys.stderr.isatty(), glossary=getattr(args, "glossary", None) or (),
                      client=client(args))


def glossary(args: argparse.Namespace):
    from ..text.glossary import default_glossary

    return default_glossary(tuple(args.glossary or ()))


def add_index_option(sp: argparse.ArgumentParser, help: str = "index directory") -> None:
    sp.add_argument("--index", metavar="DIR", help=help)
