"""Why an English dev query misses: its renderings against the gold clause's words.

For each dev query of the given sets that the hybrid mode misses at 5 (or every query with
``--all``), prints the query's renderings (source word -> Chinese), whether the gold text holds
any of them, and the CC-CEDICT words of the gold text whose raw glosses hold a content word of
the query (the pairs the lookup from English to Chinese could reach), and per gold word how a
query word reaches it through the lexicon's normalised glosses (exact gloss, head or lead of a
short gloss, deeper in a longer one) and whether it was rendered; a count of those classes
ends the report.  Reads ``dev`` only.

    python eval/real/diagnose_en.py --index IDX eval/real/real-en.jsonl eval/real/real2-en.jsonl ...
"""

from __future__ import annotations

import argparse
import collections
import gzip
import re

from policyidx.evaluate import load_queries
from policyidx.index import Index
from policyidx.text.lexicons import STOP, _stem, available_sources, default_lexicon, gloss_head, gloss_lead, plain_word, read_cedict

_WS = re.compile(r"\s+")
_WORD = re.compile(r"[a-z][a-z'’-]*")


def _cedict() -> dict[str, list[str]]:
    src = available_sources()["cedict"]
    with gzip.open(src.path, "rt", encoding="utf-8") as f:
        out: dict[str, list[str]] = {}
        for w, gl in read_cedict(f):
            out.setdefault(w, []).extend(gl)
        return out


def _prefix(w: str) -> str:
    return w[:5] if len(w) > 5 else w


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--index", required=True)
    ap.add_argument("--all", action="store_true")
    a = ap.parse_args()
    idx = Index.open(a.index)
    ced = _cedict()
    lex = default_lexicon()
    classes: collections.Counter = collections.Counter()
    qs = load_queries(a.files, split="dev")
    for q in qs:
        hits = idx.search(q["q"], k=10, mode="hybrid", query_lang="en")
        rank = next((i + 1 for i, h in enumerate(hits)
                     if any(h.doc == d and _WS.sub("", g) in _WS.sub("", h.text) for d, g in q["gold"])), None)
        if not a.all and rank is not None and rank <= 5:
            continue
        exp = idx.analyze_query(q["q"], "en")
        gold = "".join(_WS.sub("", g) for _d, g in q["gold"])
        print(f"\n== {q.get('_source')} rank={rank} q={q['q']}")
        print(f"   gold: {gold[:80]}")
        by_src: dict[str, list[str]] = {}
        for r, src in exp.renderings.items():
            key = exp.dictionary.get(r, src)
            by_src.setdefault(key, []).append(r + ("*" if r in gold else ""))
        for s, rs in by_src.items():
            print(f"   {s}: {' '.join(rs)}")
        words = {plain_word(w) for w in _WORD.findall(q["q"].lower())} - STOP
        found = []
        for n in range(2, 7):
            for i in range(len(gold) - n + 1):
                w = gold[i : i + n]
                for g in ced.get(w, ()):
                    gw = {_prefix(x) for x in _WORD.findall(g.lower())}
                    hit = [x for x in words if _prefix(x) in gw]
                    if hit:
                        found.append(f"{w}[{'/'.join(hit)}: {g}]")
        print("   cedict in gold: " + "; ".join(dict.fromkeys(found)))
        # how the lookup from English reaches each gold word: the query word is its normalised
        # gloss (exact), heads or leads it (loose lookups), or sits deeper in it (longerN)
        qw = {_stem(w): w for w in words}
        out = []
        for n in range(2, 7):
            for i in range(len(gold) - n + 1):
                w = gold[i : i + n]
                for rank, k in enumerate(lex.glosses_of(w, "zh")):
                    for st, word in qw.items():
                        if st not in k.split(" "):
                            continue
                        c = ("exact" if k == st else "head" if gloss_head(k) == st else "lead" if gloss_lead(k) == st
                             else f"longer{k.count(' ') + 1}")
                        rendered = w in exp.renderings
                        classes[(c, rendered)] += 1
                        out.append(f"{word}->{w}[{k}|{c}|sense {rank}|{'rendered' if rendered else 'not rendered'}]")
        print("   classes: " + " ".join(dict.fromkeys(out)))
    print("\n(class, rendered): count", dict(classes))


if __name__ == "__main__":
    main()
