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
import time
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


# ----------------------------------------------------------------------------- index commands


def _index_path(args: argparse.Namespace) -> Path | None:
    if getattr(args, "index", None):
        return Path(args.index)
    return None


def _open_index(args: argparse.Namespace):
    from .index import Index

    corpus = _corpus_path(args)
    return Index.open(_index_path(args), corpus=corpus, build=None if _index_path(args) is None else False,
                      progress=sys.stderr.isatty(), glossary=getattr(args, "glossary", None) or ())


@command("build")
def cmd_build(args: argparse.Namespace) -> int:
    """Build the keyword and embedding indexes of a corpus."""
    from .corpus import Corpus
    from .index import Index

    t0 = time.perf_counter()
    corpus = Corpus.load(_corpus_path(args), progress=not args.json and sys.stderr.isatty())
    timings = {"parse": round(time.perf_counter() - t0, 3)}
    idx = Index.build(corpus, _index_path(args), encoder=args.encoder, dim=args.dim, progress=not args.json)
    m = idx.manifest
    timings.update(m["timings_s"])
    if args.json:
        _emit_json({"path": str(idx.path), **{k: m[k] for k in ("clause_count", "doc_count", "corpus_fingerprint", "encoder")},
                    "timings_s": timings})
    else:
        print(f"built {idx.path}: {m['clause_count']} clauses of {m['doc_count']} documents, encoder {m['encoder']['name']} "
              f"(dim {m['encoder'].get('dim')}), corpus {m['corpus_fingerprint']}")
        print("  " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
    return 0


def _bold(s: str, on: bool) -> str:
    return f"\033[1m{s}\033[0m" if on else f"【{s}】"


def _marked(text: str, spans: list[tuple[int, int]], offset: int, tty: bool) -> str:
    out, pos = [], 0
    for a, b in spans:
        a, b = a - offset, b - offset
        if b <= 0 or a >= len(text):
            continue
        a, b = max(a, 0), min(b, len(text))
        out.append(text[pos:a])
        out.append(_bold(text[a:b], tty))
        pos = b
    out.append(text[pos:])
    return "".join(out).replace("\n", " ")


@command("search")
def cmd_search(args: argparse.Namespace) -> int:
    """Search the clauses: which measure covers X."""
    idx = _open_index(args)
    hits = idx.search(args.query, k=args.k, mode=args.mode, lang=args.lang, docs=args.doc or None,
                      works=args.work or None, roles=args.role or None, expand=not args.no_expand)
    if args.json:
        _emit_json([h.to_dict() for h in hits])
        return 0
    if not hits:
        print("no clause matches the query")
        return 0
    tty = sys.stdout.isatty()
    for h in hits:
        heading = f"{h.label}{h.title or ''}".strip()
        print(f"{h.rank:>2}. {h.id}  {_short(heading, 60)}   [{h.score:.4f}]")
        print(f"    {h.doc_title}")
        print(f"    {_marked(h.snippet, h.highlights, h.snippet_start, tty)}")
        if h.expansions:
            print(f"    via glossary: {', '.join(h.expansions[:6])}")
    return 0


# ----------------------------------------------------------------------------- alignment commands


@command("align")
def cmd_align(args: argparse.Namespace) -> int:
    """Align two documents clause by clause and sentence by sentence, and export the result."""
    from . import export

    idx = _open_index(args)
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
        _emit_json(export.alignment_records(al, src, tgt))
    elif not written:
        print(export.render_terminal(al, src, tgt))
    for w in written:
        print(f"wrote {w}", file=sys.stderr)
    return 0


@command("match")
def cmd_match(args: argparse.Namespace) -> int:
    """Which provisions of one document correspond to which of another."""
    from .alignment import match

    idx = _open_index(args)
    corpus = idx.corpus
    a, b = corpus[args.doc_a], corpus[args.doc_b]
    kw = {"threshold": args.threshold} if args.threshold is not None else {}
    if args.within:
        kw["within_a"] = args.within
    rows = match(a, b, **kw)
    if args.json:
        _emit_json([m.to_dict() for m in rows])
        return 0
    if not rows:
        print("no corresponding provisions above the threshold")
    for m in rows:
        print(f"{m.a}  ->  {m.b}   [{m.score:.3f}]")
        if m.evidence:
            print(f"    {', '.join(m.evidence[:6])}")
    return 0


@command("counterparts")
def cmd_counterparts(args: argparse.Namespace) -> int:
    """The clauses elsewhere that state the same provision as one clause."""
    idx = _open_index(args)
    rows = idx.counterparts(args.clause, k=args.k, docs=args.doc or None)
    if args.json:
        _emit_json([r.to_dict() for r in rows])
        return 0
    if not rows:
        print("no counterpart found")
    for r in rows:
        heading = f"{r.label}{r.title or ''}".strip()
        print(f"{r.rank:>2}. {r.id}  {_short(heading, 60)}   [{r.method} {r.score:.3f}]")
        print(f"    {_short(r.text, 110)}")
    return 0


# ----------------------------------------------------------------------------- glossary commands


def _glossary(args: argparse.Namespace):
    from .expand import default_glossary

    return default_glossary(tuple(args.glossary or ()))


@command("term")
def cmd_term(args: argparse.Namespace) -> int:
    """Glossary entries matching a term, with a concordance of their renderings in the corpus."""
    from .concordance import render_terms, terms

    idx = _open_index(args)
    def counterpart(cid: str) -> str | None:
        aligned = idx.aligned_clauses(cid)
        return aligned[0][0] if aligned else None

    results = terms(args.query, index=idx, glossary=_glossary(args), lang=args.lang, counterpart=counterpart)
    if args.json:
        _emit_json([r.to_dict() for r in results])
        return 0
    print(render_terms(results) if results else f"no glossary entry matches {args.query!r}")
    return 0


@command("glossary")
def cmd_glossary(args: argparse.Namespace) -> int:
    """List the glossary, or (with --coverage) frequent corpus terms it does not cover."""
    gl = _glossary(args)
    if args.coverage:
        from .concordance import coverage, render_coverage

        cov = coverage(_load_corpus(args), gl, top=args.top)
        if args.json:
            _emit_json({lang: [{"term": t, "count": n} for t, n in rows] for lang, rows in cov.items()})
        else:
            print(render_coverage(cov))
        return 0
    entries = [e for e in gl if (args.domain is None or e.domain == args.domain) and (args.all or e.domain != "general")]
    if args.json:
        _emit_json([e.to_record() for e in entries])
        return 0
    for e in entries:
        print(f"{e.zh}\t{' | '.join(e.ja)}\t{' | '.join(e.en)}\t[{e.domain}]")
    print(f"{len(entries)} entries", file=sys.stderr)
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
    sp = add("build", "build the keyword and embedding indexes of a corpus")
    sp.add_argument("--index", metavar="DIR", help="index directory (default: $POLICYIDX_INDEX, else indexes/default beside the corpus)")
    sp.add_argument("--encoder", default="builtin", help="builtin (default, offline) or st:<model name or path>")
    sp.add_argument("--dim", type=int, default=256, help="width of the built-in encoder's vectors (default 256)")
    sp = add("search", "search the clauses in Chinese, Japanese or English")
    sp.add_argument("query", help="the query")
    sp.add_argument("-k", type=int, default=10, help="number of hits (default 10)")
    sp.add_argument("--mode", default="hybrid", choices=["keyword", "dense", "hybrid"], help="default hybrid")
    sp.add_argument("--lang", choices=["zh", "ja"], help="only clauses in this language")
    sp.add_argument("--doc", action="append", metavar="DOC", help="only this document (repeatable)")
    sp.add_argument("--work", action="append", metavar="WORK", help="only documents of this work (repeatable)")
    sp.add_argument("--role", action="append", choices=["original", "translation", "interpretation"], help="only documents of this role")
    sp.add_argument("--index", metavar="DIR", help="index directory (default: $POLICYIDX_INDEX, else the default index, built if missing)")
    sp.add_argument("--no-expand", action="store_true", help="do not expand the query with glossary renderings")
    sp.add_argument("--glossary", action="append", metavar="FILE", help="a user glossary TSV that extends or overrides the bundled one (repeatable)")
    sp = add("align", "align two documents (an original and its translation) clause by clause and sentence by sentence")
    sp.add_argument("src", help="source document id, e.g. zgc-2019-ipap.zh")
    sp.add_argument("tgt", help="target document id, e.g. zgc-2019-ipap.ja")
    sp.add_argument("--tsv", metavar="FILE", help="write sentence pairs as TSV")
    sp.add_argument("--tmx", metavar="FILE", help="write a TMX 1.4b translation memory")
    sp.add_argument("--html", metavar="FILE", help="write a self-contained side-by-side HTML page")
    sp.add_argument("--index", metavar="DIR", help="index directory (alignments are stored with it)")
    sp = add("match", "which provisions of one document correspond to which of another")
    sp.add_argument("doc_a")
    sp.add_argument("doc_b")
    sp.add_argument("--threshold", type=float, help="nothing is claimed below this score")
    sp.add_argument("--within", action="append", metavar="CLAUSE", help="only these clauses of DOC_A (and their sub-clauses)")
    sp.add_argument("--index", metavar="DIR", help="index directory")
    sp = add("counterparts", "the clauses elsewhere that state the same provision")
    sp.add_argument("clause", help="clause id, e.g. cnipa-2022-38.ja#2.6")
    sp.add_argument("-k", type=int, default=5, help="how many (default 5)")
    sp.add_argument("--doc", action="append", metavar="DOC", help="only in this document (repeatable)")
    sp.add_argument("--index", metavar="DIR", help="index directory")
    sp = add("term", "glossary entries for a term, with where and how often each rendering occurs")
    sp.add_argument("query", help="a term in Chinese, Japanese or English")
    sp.add_argument("--lang", choices=["zh", "ja", "en"], help="the query's language (detected by default)")
    sp.add_argument("--glossary", action="append", metavar="FILE", help="a user glossary TSV (repeatable)")
    sp.add_argument("--index", metavar="DIR", help="index directory")
    sp = add("glossary", "list the glossary entries, or report what it does not cover")
    sp.add_argument("--coverage", action="store_true", help="frequent corpus terms that no entry covers, by language")
    sp.add_argument("--top", type=int, default=50, help="with --coverage: how many terms per language")
    sp.add_argument("--domain", help="only entries of this domain (patents, trademarks, licensing, ...)")
    sp.add_argument("--all", action="store_true", help="include the general policy vocabulary (domain general)")
    sp.add_argument("--glossary", action="append", metavar="FILE", help="a user glossary TSV (repeatable)")
    sub.add_parser("bench", help="benchmark at scale against bm25s, rank_bm25 and exact FAISS (policyidx bench --help)", add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``policyidx`` console script."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8")  # type: ignore[attr-defined]
        except (AttributeError, ValueError):
            pass
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        # the benchmark has its own options (sizes, peers, ANN settings): hand them over whole
        from .bench import main as bench_main

        return bench_main(argv[1:])
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
