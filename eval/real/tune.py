"""Grid over the default hybrid mode's weights on the dev split of query sets.

Each query is searched once per side (keyword top ``depth``, dense top ``depth``, context scores
of the keyword candidates); every weight combination then re-ranks those with
:func:`policyidx.retrieval.fusion.dense_rerank`, the function the ``hybrid`` mode runs, so the
grid costs one search per query.  It prints hit@1 / hit@5 per set for each combination, with
keyword and dense alone, and marks the combinations that are nowhere below the better of the two.
Only ``dev`` queries are read (queries without a split count as dev): never tune on ``test``.

    python eval/real/tune.py --index IDX eval/real/real-*.jsonl
    python eval/real/tune.py eval/queries-*.jsonl ../shared/dev-queries.jsonl   # the bundled index
    python eval/real/tune.py --index IDX --lang en eval/real/real-*.jsonl   # one language's weights

``--loso`` chooses by leave-one-set-out: for each group of sets (the query files' names up to
their first ``-``: real, real2, real3, real4), the combination best on the other groups (mean of
hit@1 and hit@5 over their sets), and its figures on the group left out; an estimate of how a
combination chosen this way does on queries it was not chosen on.

    python eval/real/tune.py --index IDX --lang zh --loso eval/real/real-zh.jsonl eval/real/real2-zh.jsonl \
        eval/real/real3-zh.jsonl eval/real/real4-zh.jsonl   # never the held-out real5, real6, real7, real8, real9

``--jurisdiction`` gives the penalties of the jurisdiction factor to try
(:func:`policyidx.retrieval.retrievers.jurisdiction_factor`).  ``--lang`` keeps the queries of one language: the grid then chooses that language's entry of the
index parameter ``lang_weights`` (:func:`policyidx.retrieval.modes.hybrid_weights`).
"""

from __future__ import annotations

import argparse
import itertools
import re
from collections import defaultdict

import numpy as np

from policyidx.evaluate import load_queries
from policyidx.index import Index
from policyidx.retrieval.base import Ranking
from policyidx.retrieval.fusion import dense_rerank
from policyidx.retrieval.retrievers import coverage_power_for, judged_coverage, judged_jurisdiction, unjudged_share

_WS = re.compile(r"\s+")


def _gather(idx: Index, queries: list[dict], depth: int) -> list[dict]:
    out = []
    for q in queries:
        exp = idx.analyze_query(q["q"], q.get("lang"))
        with idx.analyzer.active():
            kw = idx.retriever("keyword").search(exp, depth)
            dn = idx.retriever("dense").search(exp, depth)
            ctx = idx.context_scores(exp.terms, kw.rows) if len(kw) and exp.terms else np.zeros(len(kw))
            cov = judged_coverage(idx.coverage_scores, exp, kw.rows, idx.languages_of) \
                if len(kw) and exp.terms and coverage_power_for(exp, 1.0, 1.0) else None
        rows = set(kw.rows.tolist()) | set(dn.rows.tolist())
        ok = set()
        for r in rows:
            doc = idx.docs[int(idx.row_doc[r])]["id"]
            text = _WS.sub("", idx.rows.text(r))
            if any(doc == d and _WS.sub("", g) in text for d, g in q["gold"]):
                ok.add(r)
        # the jurisdiction factor at penalty 1 (0 where another jurisdiction's): any penalty p is 1 - p * (1 - it)
        jur = judged_jurisdiction(exp, kw.rows, idx.jurisdictions, idx.titles_of, idx.languages_of, 1.0) \
            if len(kw) and exp.terms else None
        # a candidate not judged (another language) counts as typical as far as the index is in the query's
        unjudged = unjudged_share(cov, idx.language_shares, exp.lang)
        out.append({"set": f"{q['_set']}/{q.get('lang', '?')}", "kw": kw, "dn": dn, "ctx": ctx, "cov": cov, "ok": ok,
                    "jur": jur, "unjudged": unjudged,
                    "power": lambda cp, scp, exp=exp: coverage_power_for(exp, cp, scp)})
    return out


def _rank(rows: np.ndarray, ok: set[int]) -> int | None:
    for i, r in enumerate(rows[:10].tolist(), 1):
        if r in ok:
            return i
    return None


def _score(data: list[dict], rank_of) -> dict[str, tuple[float, float]]:
    by: dict[str, list[int | None]] = defaultdict(list)
    for g in data:
        by[g["set"]].append(rank_of(g))
    return {s: (float(np.mean([r == 1 for r in v])), float(np.mean([r is not None and r <= 5 for r in v])))
            for s, v in sorted(by.items())}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+")
    p.add_argument("--index", help="index directory (default: the bundled corpus's)")
    p.add_argument("--depth", type=int, default=200)
    p.add_argument("--doc", default="0,0.1,0.2,0.3", help="document weights")
    p.add_argument("--clause", default="0.1,0.2,0.3", help="clause weights")
    p.add_argument("--context", default="0,0.5,0.75,1", help="context weights")
    p.add_argument("--context-depth", default="50,200", help="how many keyword candidates get a context score")
    p.add_argument("--coverage-power", default="0,1,2,3", help="powers of the coverage factor")
    p.add_argument("--set-coverage-power", default="1", help="powers of the coverage factor for a query with "
                   "synonym sets (Japanese)")
    p.add_argument("--jurisdiction", default="0,0.5", help="penalties of a candidate whose document is of "
                   "another jurisdiction than the query names")
    p.add_argument("--lang", help="only the queries in this language (zh, ja, en)")
    p.add_argument("--loso", action="store_true", help="also choose by leave-one-set-out and print what each set "
                   "left out gets")
    args = p.parse_args(argv)
    idx = Index.open(args.index)
    queries = load_queries(args.files, split="dev")
    if args.lang:
        queries = [q for q in queries if q.get("lang") == args.lang]
    data = _gather(idx, queries, args.depth)
    kw = _score(data, lambda g: _rank(g["kw"].rows, g["ok"]))
    dn = _score(data, lambda g: _rank(g["dn"].rows, g["ok"]))
    sets = list(kw)
    print(f"{len(data)} dev queries; cells hit@1/hit@5 per set: {', '.join(sets)}")
    print(f"{'keyword':40}" + "  ".join(f"{kw[s][0]:.3f}/{kw[s][1]:.3f}" for s in sets))
    print(f"{'dense':40}" + "  ".join(f"{dn[s][0]:.3f}/{dn[s][1]:.3f}" for s in sets))
    floats = lambda s: [float(x) for x in s.split(",") if x]  # noqa: E731
    tried: list[tuple[str, dict[str, tuple[float, float]]]] = []
    for dw, cw, xw, xd, cp, scp, jp in itertools.product(floats(args.doc), floats(args.clause), floats(args.context),
                                                         [int(x) for x in floats(args.context_depth)],
                                                         floats(args.coverage_power), floats(args.set_coverage_power),
                                                         floats(args.jurisdiction)):
        def rank_of(g, dw=dw, cw=cw, xw=xw, xd=xd, cp=cp, scp=scp, jp=jp):
            ctx = np.zeros(len(g["kw"]))
            ctx[:xd] = xw * g["ctx"][:xd]
            fused: Ranking = dense_rerank(g["kw"], g["dn"], idx.row_doc, doc_weight=dw, clause_weight=cw, context=ctx,
                                          coverage=g["cov"], coverage_power=g["power"](cp, scp),
                                          prior=None if g["jur"] is None else 1.0 - jp * (1.0 - g["jur"]),
                                          unjudged_share=g["unjudged"])
            return _rank(fused.rows, g["ok"])

        got = _score(data, rank_of)
        never_worse = all(got[s][i] >= max(kw[s][i], dn[s][i]) - 1e-9 for s in sets for i in (0, 1))
        label = f"doc {dw} clause {cw} ctx {xw}@{xd} cov^{cp}/{scp} jur {jp}"
        print(f"{label:38}{'*' if never_worse else ' '} " + "  ".join(f"{got[s][0]:.3f}/{got[s][1]:.3f}" for s in sets))
        tried.append((label, got))
    if args.loso:
        _print_loso(tried, sets)
    return 0


def _group(name: str) -> str:
    """The group of a set ``real3-zh/zh``: ``real3``."""
    return name.split("/")[0].split("-")[0]


def _print_loso(tried: list[tuple[str, dict[str, tuple[float, float]]]], sets: list[str]) -> None:
    """For each group of sets, the combination best on the other groups and its figures on the group."""
    groups = sorted({_group(s) for s in sets})
    if len(groups) < 2:
        print("leave-one-set-out needs two groups of sets or more")
        return

    def value(got: dict[str, tuple[float, float]], keep) -> float:
        own = [s for s in sets if keep(_group(s))]
        return float(np.mean([(got[s][0] + got[s][1]) / 2 for s in own]))

    print("leave-one-set-out: the combination best on the other groups, its hit@1/hit@5 on the group left out")
    held: list[tuple[float, float]] = []
    for g in groups:
        label, got = max(tried, key=lambda t: value(t[1], lambda x: x != g))
        mine = [s for s in sets if _group(s) == g]
        print(f"  {g:8} {label:38} " + "  ".join(f"{s} {got[s][0]:.3f}/{got[s][1]:.3f}" for s in mine))
        held += [got[s] for s in mine]
    print(f"  mean over the sets left out: {np.mean([h[0] for h in held]):.3f}/{np.mean([h[1] for h in held]):.3f}")
    label, _ = max(tried, key=lambda t: value(t[1], lambda x: True))
    print(f"  best on all groups: {label}")


if __name__ == "__main__":
    raise SystemExit(main())
