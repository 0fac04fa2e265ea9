"""The near misses of the default (hybrid) search: for every dev query whose first right hit is
at rank 2-10, the rank-1 hit and the first right hit side by side, with the parts of their fused
scores (keyword, context, dense document and clause votes, coverage, jurisdiction factor), so that
a general cause of a right answer at rank 2-5 can be seen.  Only ``dev`` queries are read.

    python eval/real/near.py --index /work/idx/real2000-v3 eval/real/real-zh.jsonl eval/real/real2-zh.jsonl \
        eval/real/real3-zh.jsonl eval/real/real4-zh.jsonl
"""

from __future__ import annotations

import argparse
import re

import numpy as np

from policyidx.evaluate import load_queries
from policyidx.index import Index
from policyidx.retrieval.fusion import relative_coverage
from policyidx.retrieval.modes import HYBRID_DEFAULTS, hybrid_weights
from policyidx.retrieval.retrievers import coverage_power_for, judged_coverage, judged_jurisdiction

_WS = re.compile(r"\s+")


def parts(idx: Index, exp, depth: int = 200) -> dict:
    """The inputs of the hybrid mode's :func:`dense_rerank` for one analysed query, by row."""
    p = idx.params
    w = hybrid_weights(p, exp.lang)
    with idx.analyzer.active():
        kw = idx.retriever("keyword").search(exp, depth)
        dn = idx.retriever("dense").search(exp, depth)
        n = min(len(kw), int(p.get("context_depth", HYBRID_DEFAULTS["context_depth"])))
        ctx = np.zeros(len(kw))
        if len(kw) and exp.terms and w["context_weight"]:
            ctx[:n] = w["context_weight"] * np.asarray(idx.context_scores(exp.terms, kw.rows[:n]))
        power = coverage_power_for(exp, p.get("coverage_power", 2.0), p.get("set_coverage_power", 1.0))
        cov = judged_coverage(idx.coverage_scores, exp, kw.rows, idx.languages_of) if len(kw) and power else None
        jur = judged_jurisdiction(exp, kw.rows, idx.jurisdictions, idx.titles_of, idx.languages_of,
                                  p.get("jurisdiction_penalty", 0.5)) if len(kw) else None
    kws = kw.scores + ctx
    top = float(kws.max()) if len(kw) else 1.0
    rel = relative_coverage(cov) if cov is not None else np.ones(len(kw))
    dsc = {}
    if len(dn):
        hi, lo = float(dn.scores[0]), float(dn.scores[-1])
        dsc = dict(zip(dn.rows.tolist(), ((dn.scores - lo) / max(hi - lo, 1e-9)).tolist()))
    dbest: dict[int, float] = {}
    for r, s in dsc.items():
        d = int(idx.row_doc[r])
        dbest[d] = max(dbest.get(d, -1.0), s)
    out = {}
    for i, r in enumerate(kw.rows.tolist()):
        out[r] = {"kw": kw.scores[i] / top, "ctx": ctx[i] / top, "doc": w["doc_weight"] * dbest.get(int(idx.row_doc[r]), 0),
                  "clause": w["clause_weight"] * dsc.get(r, 0.0), "cov": None if cov is None else float(cov[i]),
                  "relcov^p": float(rel[i]) ** power, "jur": 1.0 if jur is None else float(jur[i]), "kwrank": i + 1}
    return out


def show(tag: str, h, part: dict | None) -> None:
    print(f"  {tag} #{h.rank} {h.id}  {h.doc_title} {h.citation}  score {h.score:.3f}")
    if part:
        print("      " + "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in part.items()))
    if h.parents:
        print(f"      parents: {' / '.join(h.parents)[:120]}")
    print(f"      {_WS.sub(' ', h.text)[:160]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--index", required=True)
    ap.add_argument("--mode", default="hybrid")
    ap.add_argument("--upto", type=int, default=10, help="show queries whose right hit is at rank 2..UPTO")
    args = ap.parse_args(argv)
    idx = Index.open(args.index)
    queries = load_queries(args.files, split="dev")
    ranks = []
    for q in queries:
        hits = idx.search(q["q"], k=10, mode=args.mode, query_lang=q.get("lang"))
        ok = [h for h in hits if any(h.doc == d and _WS.sub("", g) in _WS.sub("", h.text) for d, g in q["gold"])]
        r = ok[0].rank if ok else None
        ranks.append(r)
        if r is None or r == 1 or r > args.upto:
            continue
        exp = idx.analyze_query(q["q"], q.get("lang"))
        pp = parts(idx, exp)
        terms = " ".join(f"{t}:{w:.2f}" for t, w in exp.terms.items() if not t.startswith("#"))
        print(f"[{q.get('_set')}] rank {r}: {q['q']}\n  terms: {terms}")
        show("top ", hits[0], pp.get(idx._row_of_id[hits[0].id]))
        show("gold", ok[0], pp.get(idx._row_of_id[ok[0].id]))
        print()
    n = len(ranks)
    print(f"{n} queries: hit@1 {sum(r == 1 for r in ranks) / n:.3f} hit@5 "
          f"{sum(r is not None and r <= 5 for r in ranks) / n:.3f}; at 2-5: {sum(r is not None and 2 <= r <= 5 for r in ranks)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
