"""List the other documents of a corpus whose clauses contain a query set's gold text.

For step 3 of writing a real-corpus query set (see README.md): after every query and its gold
are written, this prints, per need, each document outside the gold whose clause text contains a
gold substring (whitespace and character width aside), with the clause id and the clause text, for a person to judge
whether that document answers the query as asked.  It runs no search and changes no file::

    python eval/real/others.py /work/idx/real2000cat eval/real/real2-zh.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from pathlib import Path

from policyidx.corpus import Corpus


def _squash(s: str) -> str:
    """Whitespace dropped and compatibility forms folded (NFKC): a gold written with "(点)"
    also finds the version of the rule that writes "（点）"."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def other_documents(corpus: Corpus, queries: list[dict]) -> dict[str, list[tuple[str, str, str, str]]]:
    """Find clauses outside the gold documents that contain a gold substring.

    Parameters
    ----------
    corpus : Corpus
        The corpus the queries were written over.
    queries : list of dict
        Queries with ``need`` and ``gold`` (``[[doc_id, text], ...]``); one entry per need is used.

    Returns
    -------
    dict
        ``need -> [(gold text, doc id, clause id, clause text), ...]`` for needs with such clauses.
    """
    wanted: dict[str, tuple[set[str], list[str]]] = {}
    for q in queries:
        docs = {d for d, _ in q["gold"]}
        texts = [_squash(t) for _, t in q["gold"]]
        wanted.setdefault(q["need"], (docs, texts))
    found: dict[str, list[tuple[str, str, str, str]]] = {}
    for doc in corpus:
        for clause in doc.clauses:
            text = _squash(clause.text)
            for need, (docs, golds) in wanted.items():
                if doc.id in docs:
                    continue
                for g in golds:
                    if g in text:
                        found.setdefault(need, []).append((g, doc.id, clause.id, clause.text.strip()))
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus")
    p.add_argument("queries", nargs="+", help="JSON-lines query files")
    args = p.parse_args(argv)
    queries = [json.loads(line) for path in args.queries
               for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    corpus = Corpus.load(args.corpus)
    q_by_need = {q["need"]: q["q"] for q in queries}
    for need, rows in sorted(other_documents(corpus, queries).items()):
        print(f"=== {need}  {q_by_need[need]}")
        for gold, doc_id, cid, text in rows:
            print(f"  [{gold}] {doc_id}  《{corpus[doc_id].title}》  {cid}")
            print(f"      {text[:300]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
