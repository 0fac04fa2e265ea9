"""Pick articles of the real corpus at random for a person to read and write queries from.

This script only chooses what to read; it writes no query and no gold text.  The choice is
deterministic (seeded), spread over the categories of ``benchmarks/realcorpus.py``'s subset::

    python benchmarks/realcorpus.py 2000 /tmp/real2000
    python eval/real/pick.py /tmp/real2000 --n 100 --seed 12 > /tmp/to-read.txt

``--exclude FILE...`` skips every document named as gold in those query files (JSON lines with a
``gold`` list of ``[doc id, text]``), so a new set is written about other documents.

By default only top-level articles are picked (documents without chapters).  ``--nested`` also
picks articles inside chapters and sections (第X条 under 第X章, 第X节 or 第X编, at any depth), so
that documents with chapters can be drawn too; an article's own text and its paragraphs' and
items' text together must then pass the length and ``_BORING`` filters.  Without ``--nested`` the
choice is the one the earlier sets were picked with, byte for byte.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import defaultdict

from policyidx.corpus import Corpus
from policyidx.errors import QueryError
from policyidx.evaluate import load_queries

_BORING = re.compile(r"(为了|为)[^。]{0,80}制定本|自\d{4}年\d{1,2}月\d{1,2}日起施行|本(法|条例|规定|办法|解释)自.{0,20}施行")


def gold_documents(paths: list[str]) -> set[str]:
    """Return the ids of the documents used as gold in the query files ``paths``.

    Parameters
    ----------
    paths : list of str
        JSON-lines query files (``{"gold": [[doc_id, text], ...], ...}`` per line).

    Returns
    -------
    set of str
        Every document id named in a ``gold`` entry.
    """
    try:
        return {g[0] for q in load_queries(paths) for g in q["gold"]}
    except QueryError as exc:
        raise SystemExit(str(exc)) from None


#: the headings an article may stand under for ``--nested`` (第X章, 第X节, 第X编 and 分编)
_NESTING = {"chapter", "section", "subpart"}


def is_nested_article(clause) -> bool:
    """Whether ``clause`` is an article (第X条) inside chapters or sections only.

    Parameters
    ----------
    clause : Clause
        A clause of a parsed document.

    Returns
    -------
    bool
        True for an article below the top level whose every ancestor is a chapter, section or
        part heading (not an article under a ``一、`` heading or inside another clause).
    """
    if clause.style != "article" or clause.depth < 2:
        return False
    return all(a.style in _NESTING for a in clause.ancestors())


def _full_text(clause) -> str:
    return "".join(c.text for c in clause.walk())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus")
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--exclude", nargs="+", default=[], metavar="FILE",
                   help="query files (JSON lines) whose gold documents are not picked")
    p.add_argument("--nested", action="store_true",
                   help="also pick articles inside chapters and sections (at any depth)")
    args = p.parse_args(argv)
    excluded = gold_documents(args.exclude)
    corpus = Corpus.load(args.corpus)
    rng = random.Random(args.seed)
    by_cat: dict[str, list] = defaultdict(list)
    for doc in corpus:
        notes = doc.meta.get("notes", "")
        if notes.startswith("realdocs "):
            by_cat[notes.split(" ", 1)[1].split("/")[0]].append(doc)
    cats = sorted(by_cat)
    # round-robin over categories weighted by the square root of their size
    weights = [len(by_cat[c]) ** 0.5 for c in cats]
    seen_docs: set[str] = set()
    picked = 0
    tries = 0
    while picked < args.n and tries < 100 * args.n:
        tries += 1
        cat = rng.choices(cats, weights)[0]
        doc = rng.choice(by_cat[cat])
        if doc.id in seen_docs or doc.id in excluded:
            continue
        arts = [c for c in doc.clauses if c.depth == 1 and c.kind == "section" and len(c.text) >= 30
                and not _BORING.search(c.text)]
        if args.nested:
            arts += [c for c in doc.clauses if is_nested_article(c) and len(text := _full_text(c)) >= 30
                     and not _BORING.search(text)]
        if not arts:
            continue
        art = rng.choice(arts)
        seen_docs.add(doc.id)
        picked += 1
        print(f"=== [{picked}] {doc.id}  {cat}  《{doc.title}》  {art.id}")
        print(art.label + " " + art.text.strip())
        for ch in art.walk() if hasattr(art, "walk") else []:
            if ch is not art:
                print(f"   {ch.id.split('#')[1]} {ch.label} {ch.text.strip()}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
