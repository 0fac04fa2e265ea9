"""``policyidx align SRC TGT``: side-by-side alignment, and exports for CAT tools."""

from __future__ import annotations

import argparse
import sys

from .common import add_index_option, emit_json, open_index

HELP = "align two documents (an original and its translation) clause by clause and sentence by sentence"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("src", help="source document id, e.g. zgc-2019-ipap.zh")
    sp.add_argument("tgt", help="target document id, e.g. zgc-2019-ipap.ja")
    sp.add_argument("--tsv", metavar="FILE", help="write sentence pairs as TSV")
    sp.add_argument("--tmx", metavar="FILE", help="write a TMX 1.4b translation memory")
    sp.add_argument("--html", metavar="FILE", help="write a self-contained side-by-side HTML page")
    add_index_option(sp, "index directory (alignments are stored with it)")


def run(args: argparse.Namespace) -> int:
    from .. import export

    idx = open_index(args)
    corpus = idx.corpus
    src, tgt = corpus[args.src], corpus[args.tgt]
    al = idx.alignment(src.id, tgt.id)
    written = []
    for flag, fn in (("tsv", export.to_tsv), ("tmx", export.to_tmx), ("html", export.to_html)):
        out = getattr(args, flag)
        if out:
            fn(al, src, tgt, out)
            written.append(out)
    if args.json:
        emit_json(export.alignment_records(al, src, tgt))
    elif not written:
        print(export.render_terminal(al, src, tgt))
    for w in written:
        print(f"wrote {w}", file=sys.stderr)
    return 0
