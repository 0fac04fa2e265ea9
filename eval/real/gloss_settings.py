"""English hybrid search with the gloss index rebuilt in memory under other settings.

Each setting ``k1,b,senses`` rebuilds the gloss index of an index's rows (BM25 ``k1`` and ``b``,
``senses``: :data:`policyidx.text.lexicons.GLOSS_SENSES`, which the gloss factor reads too) and
evaluates the English queries of the files given with it; the index on disk is not changed.
The first setting should be the index's own (1.2,0.75,3) as the reference: it reproduces the
stored gloss index's figures.

    python eval/real/gloss_settings.py --index IDX --split dev 1.2,0.75,3 1.2,0,3 1.2,0.75,4 \\
        eval/real/real-en.jsonl eval/real/real[2-9]-en.jsonl eval/real/real10-en.jsonl
"""

from __future__ import annotations

import argparse

import numpy as np

from policyidx.evaluate import evaluate, load_queries
from policyidx.index import Index
from policyidx.index.build import gloss_bags, gloss_bm25
from policyidx.text import lexicons


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", required=True)
    ap.add_argument("--split", choices=["dev", "test"])
    ap.add_argument("args", nargs="+", help="settings k1,b,senses, then query files")
    a = ap.parse_args()
    settings = [s for s in a.args if s.count(",") == 2]
    files = [s for s in a.args if s not in settings]
    queries = [q for q in load_queries(files, split=a.split) if q.get("lang") == "en"]
    idx = Index.open(a.index)
    rows = np.arange(len(idx))
    texts = [idx.rows.text(int(r)) for r in rows]
    langs = idx.languages_of(rows).tolist()
    lex = lexicons.default_lexicon()
    for s in settings:
        k1, b, senses = s.split(",")
        lexicons.GLOSS_SENSES = int(senses)
        lex._gloss_words.clear()  # the per-word cache of the senses read
        bags = gloss_bags(texts, langs)
        fresh = Index.open(a.index)
        fresh.__dict__["glosses"] = None if bags is None else gloss_bm25(bags, k1=float(k1), b=float(b))
        r = evaluate(fresh, queries, ["hybrid"])["modes"]["hybrid"]["all"]
        print(f"k1 {k1} b {b} senses {senses}: {r['n']} English queries, hybrid hit@1 {r['hit@1']:.3f} "
              f"hit@5 {r['hit@5']:.3f} MRR@10 {r['mrr@10']:.3f}", flush=True)


if __name__ == "__main__":
    main()
