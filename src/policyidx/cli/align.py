"""``policyidx align SRC TGT``: side-by-side alignment, and exports for CAT tools.

``SRC`` and ``TGT`` are document ids of the corpus, or two files (``policyidx align
original.html translation.pdf``): files are parsed with the corpus parsers, format and
language detected (``--format-a``, ``--lang-b`` ... override), no catalog needed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import QueryError
from .common import add_index_option, emit_json, open_index

HELP = "align two documents (an original and its translation, corpus ids or two files) clause by clause and sentence by sentence"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("src", help="source document id (zgc-2019-ipap.zh) or file")
    sp.add_argument("tgt", help="target document id (zgc-2019-ipap.ja) or file")
    sp.add_argument("--tsv", metavar="FILE", help="write sentence pairs as TSV (UTF-8 with BOM)")
    sp.add_argument("--tmx", metavar="FILE", help="write a TMX 1.4b translation memory")
    sp.add_argument("--html", metavar="FILE", help="write a self-contained side-by-side HTML page")
    sp.add_argument("--xlsx", metavar="FILE", help="write sentence pairs as an Excel workbook (needs the web extra)")
    add_index_option(sp, "index directory (alignments are stored with it)")
    files = sp.add_argument_group("two files instead of corpus documents")
    for side, name in (("a", "SRC"), ("b", "TGT")):
        files.add_argument(f"--lang-{side}", choices=("zh", "ja", "en"), help=f"language of {name} (default: detected)")
        files.add_argument(f"--format-{side}", choices=("text", "html", "pdf"), help=f"format of {name} (default: detected)")
        files.add_argument(f"--from-pdf-{side}", action="store_true", help=f"{name} is text extracted from a PDF")


def _is_file_argument(value: str) -> bool:
    p = Path(value)
    return p.is_file() or p.suffix.lower() in (".txt", ".html", ".htm", ".pdf", ".xhtml") or "/" in value or "\\" in value


def run(args: argparse.Namespace) -> int:
    from .. import export

    if _is_file_argument(args.src) or _is_file_argument(args.tgt):
        from ..adhoc import align_files

        res = align_files(args.src, args.tgt, lang_a=args.lang_a, lang_b=args.lang_b, format_a=args.format_a,
                          format_b=args.format_b, extracted_from_a="pdf" if args.from_pdf_a else "",
                          extracted_from_b="pdf" if args.from_pdf_b else "")
        al, src, tgt = res.alignment, res.src, res.tgt
    else:
        for flag in ("lang_a", "lang_b", "format_a", "format_b", "from_pdf_a", "from_pdf_b"):
            if getattr(args, flag):
                raise QueryError(f"--{flag.replace('_', '-')} is for two files; {args.src!r} and {args.tgt!r} are corpus ids")
        idx = open_index(args)
        corpus = idx.corpus
        src, tgt = corpus[args.src], corpus[args.tgt]
        al = idx.alignment(src.id, tgt.id)
    written = []
    for flag, fn in (("tsv", export.to_tsv), ("tmx", export.to_tmx), ("html", export.to_html), ("xlsx", export.to_xlsx)):
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
