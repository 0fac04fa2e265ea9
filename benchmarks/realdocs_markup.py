"""Collection markup in the real texts of ``../shared/realdocs``: kept in the text, out of what is indexed.

Usage::

    python benchmarks/realdocs_markup.py [--root ../shared/realdocs] [--limit N] [--show 5]

Each collection file (``# title``, the record, ``<!-- INFO END -->``, ``## 第一章 总则`` ...) is
parsed twice with :func:`policyidx.parsers.parse_bytes`: as it is, and as the plain text a user
copies from a government page (markdown marks and comment lines taken out: the text
``benchmarks/realdocs_parse.py`` parses, with its ``<!-- TABLE -->`` / ``<!-- FORCE BREAK -->`` lines out too).  Printed, over all files:

- documents whose clause tree differs between the two (clause ids, in order);
- clauses whose indexed text (``Clause.content``) or title differ from the plain parse
  (whitespace aside), clauses with the same text cut into other sentences (a comment line
  between two paragraphs of a clause ends a sentence), and the document titles that differ;
- markup that reaches indexed text, a title or a sentence: a clause whose indexed text holds
  ``INFO END`` or ``<!--``, a title or heading starting with ``#``;
- characters of the text outside every clause, header, footer and markup span (lost);
- clauses holding markup inside their own text (a comment line between two of their paragraphs).

Run it with another checkout's ``src`` on ``PYTHONPATH`` to see that checkout's figures: a parser
without markup spans is measured with ``Clause.text`` as its indexed text.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path

from policyidx.parsers import parse_bytes

_WS = re.compile(r"\s+")
_COMMENT = re.compile(r"(<!--.*?-->\s*)+")


def _bench():
    here = Path(__file__).resolve().parent / "realdocs_parse.py"
    spec = importlib.util.spec_from_file_location("realdocs_parse", here)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


def _clauses(res):
    return [c for r in res.roots for c in r.walk()]


def _content(c) -> str:
    return getattr(c, "content", c.text)


def measure(md: str, plain: str) -> dict:
    """Parse a collection file and its plain text; compare (see the module docstring)."""
    a = parse_bytes(md.encode("utf-8"), doc_id="d.zh", lang="zh", format="text")
    b = parse_bytes(plain.encode("utf-8"), doc_id="d.zh", lang="zh", format="text")
    ca, cb = _clauses(a), _clauses(b)
    same_tree = [c.id for c in ca] == [c.id for c in cb]
    differ = split = 0
    if same_tree:
        for x, y in zip(ca, cb):
            if _WS.sub("", _content(x)) != _WS.sub("", y.text) or (x.title or "") != (y.title or ""):
                differ += 1
            elif [_WS.sub("", s.text) for s in x.sentences] != [_WS.sub("", s.text) for s in y.sentences]:
                split += 1
    leaks = sum(1 for c in ca if "INFO END" in _content(c) or "<!--" in _content(c)
                or (c.title or "").startswith("#") or any(s.text.startswith("#") or "<!--" in s.text for s in c.sentences))
    leaks += bool((a.parsed_title or "").startswith("#"))
    markup = list(getattr(a, "markup_spans", []))
    covered = bytearray(len(a.text) + 1)
    spans = [(c.label_start, c.end) for c in ca] + list(a.header_spans) + markup
    if a.footer_span:
        spans.append(a.footer_span)
    for s, e in spans:
        covered[s:e] = b"\x01" * (e - s)
    lost = sum(1 for i, ch in enumerate(a.text) if not covered[i] and not ch.isspace())
    return {
        "same_tree": same_tree, "differ": differ, "split": split, "clauses": len(ca), "leaks": leaks, "lost": lost,
        "title_same": a.parsed_title == b.parsed_title, "title": a.parsed_title, "plain_title": b.parsed_title,
        "inner": sum(1 for c in ca if getattr(c, "markup", ())), "info_end": sum(1 for c in ca if "INFO END" in _content(c)),
    }


def main(argv: list[str] | None = None) -> int:
    bench = _bench()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=bench.default_root())
    ap.add_argument("--limit", type=int, default=0, help="only the first N files (0: all)")
    ap.add_argument("--show", type=int, default=5, help="print the first N documents that differ")
    args = ap.parse_args(argv)
    files = bench.source_files(args.root, args.limit)
    if not files:
        return 2
    rows, failed = [], []
    for f in files:
        md = f.read_text(encoding="utf-8")
        try:
            plain = "\n".join(ln for ln in bench.read_source(md).plain.splitlines() if not _COMMENT.fullmatch(ln.strip()))
            r = measure(md, plain)
        except Exception as exc:  # noqa: BLE001 - a benchmark counts failures
            failed.append(f"{f.name}: {type(exc).__name__}: {exc}")
            continue
        r["name"] = str(f.relative_to(args.root))
        rows.append(r)
    n = len(rows)
    clauses = sum(r["clauses"] for r in rows)
    print(f"== collection files as they are vs their plain text: {len(files)} documents, {clauses} clauses")
    print(f"  failed                                   {len(failed)}")
    print(f"  same clause tree (ids) as the plain text {sum(r['same_tree'] for r in rows)}/{n}")
    print(f"  clauses whose indexed text or title differ (same trees only)  {sum(r['differ'] for r in rows)}")
    print(f"  clauses cut into other sentences (same text)                 {sum(r['split'] for r in rows)}")
    print(f"  document titles as in the plain text     {sum(r['title_same'] for r in rows)}/{n}")
    print(f"  clauses indexing 'INFO END'              {sum(r['info_end'] for r in rows)}")
    print(f"  markup in indexed text/titles/sentences  {sum(r['leaks'] for r in rows)} (in {sum(1 for r in rows if r['leaks'])} documents)")
    print(f"  lost characters                          {sum(r['lost'] for r in rows)} (in {sum(1 for r in rows if r['lost'])} documents)")
    print(f"  clauses holding markup inside their text {sum(r['inner'] for r in rows)}")
    for msg in failed[: args.show]:
        print(f"  FAILED {msg}")
    for r in [r for r in rows if not r["same_tree"] or r["differ"] or not r["title_same"]][: args.show]:
        print(f"  differs: {r['name']}: tree {'same' if r['same_tree'] else 'DIFFERENT'}, {r['differ']} clauses differ, "
              f"title {r['title']!r} vs {r['plain_title']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
