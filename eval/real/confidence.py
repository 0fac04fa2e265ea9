"""How well a first hit's ``confidence`` tells a right answer from a wrong one and from none.

For each query the default (hybrid) search is run once; its first hit is judged (correct, wrong,
or a query with no answer: empty gold, ``offtopic-*.jsonl``) and the inputs of
:func:`policyidx.index.facade.confidence` are kept, so the figures are those of the confidence
function of the checkout that runs this script.  Printed per language: percentiles of the first
hit's confidence for correct first hits, wrong first hits (answerable queries) and off-topic
queries; for the ``confident`` flag, the precision of confident first hits (the share correct),
the recall (the share of correct first hits that are confident) and the false alarms (the share of
off-topic queries whose first hit is confident).

    python eval/real/confidence.py --index /work/idx/real2000-v3 --split dev \\
        eval/real/real-*.jsonl eval/real/real2-*.jsonl eval/real/offtopic-*.jsonl

``--save FILE`` keeps the searched inputs (JSON), ``--load FILE`` reports from them without
searching again (the confidence is recomputed from its inputs); ``--fit`` prints the logistic
model of ``policyidx.index.facade.CONFIDENCE_MODEL`` fitted on the queries given (dev only).
Run with another checkout's ``PYTHONPATH`` to measure its confidence (the figures before a change).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from typing import Any

import numpy as np

from policyidx import evaluate as ev
from policyidx.index import Index
from policyidx.index import facade


def collect(index: Index, queries: list[dict[str, Any]], match: str = "article") -> list[dict[str, Any]]:
    """Search each query (hybrid, k=10) and keep its first hit's verdict and confidence inputs."""
    out = []
    for n, q in enumerate(queries, 1):
        hits = index.search(q["q"], k=10, query_lang=q.get("lang"))
        row: dict[str, Any] = {"q": q["q"], "lang": q.get("lang", "?"), "set": q.get("_set"),
                               "split": q.get("split", "dev"), "answerable": bool(q["gold"])}
        if hits:
            accept = ev.article_ids(index, q["gold"]) if match == "article" and q["gold"] else frozenset()
            row["correct"] = bool(q["gold"]) and ev._first_correct(hits[:1], q["gold"], accept) == 1
            row["inputs"] = getattr(hits[0], "confidence_inputs", None)  # None: a policyidx without them
            row["stored"] = hits[0].confidence
            row["scores"] = [h.score for h in hits]
            row["kw"] = [h.keyword_score for h in hits]
        else:
            row["correct"] = False
            row["inputs"] = None
        out.append(row)
        if n % 25 == 0:
            print(f"  {n}/{len(queries)} queries", file=sys.stderr, flush=True)
    return out


def fit(rows: list[dict[str, Any]], l2: float = 1.0, steps: int = 20000) -> dict[str, list[float]]:
    """Per query language, the logistic model of :data:`policyidx.index.facade.CONFIDENCE_MODEL`:
    intercept and weights of :func:`~policyidx.index.facade.confidence_features` saying whether
    the first hit is right (off-topic queries are never right), by gradient descent with an L2
    penalty ``l2`` (the intercept unpenalised)."""
    out = {}
    for lang in sorted({r["lang"] for r in rows}):
        rs = [r for r in rows if r["lang"] == lang and r["inputs"]]
        x = np.array([[1.0] + facade.confidence_features(**{k: v for k, v in r["inputs"].items() if k != "lang"})
                      for r in rs])
        y = np.array([float(r["correct"]) for r in rs])
        w = np.zeros(x.shape[1])
        pen = np.r_[0.0, np.ones(x.shape[1] - 1)] * l2 / len(y)
        for _ in range(steps):
            p = 1.0 / (1.0 + np.exp(-x @ w))
            w -= 0.5 * (x.T @ (p - y) / len(y) + pen * w)
        out[lang] = [round(float(v), 3) for v in w]
    return out


def score(row: dict[str, Any]) -> float:
    """The first hit's confidence from its stored inputs (the confidence the search gave when
    they were not kept, as by an older policyidx; 0 when nothing was found)."""
    return facade.confidence(**row["inputs"]) if row["inputs"] else float(row.get("stored", 0.0))


def _auc(pos: list[float], neg: list[float]) -> float | None:
    """The chance that a random ``pos`` scores above a random ``neg`` (ties count half)."""
    if not pos or not neg:
        return None
    p, n = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return round(float(np.mean((p > n) + 0.5 * (p == n))), 3)


def figures(rows: list[dict[str, Any]], threshold: float | None = None) -> dict[str, dict[str, Any]]:
    """Per language (and ``all``): percentiles (10/25/50/75/90) of the first hit's confidence for
    correct, wrong and off-topic first hits; AUC of correct first hits against the others and
    against off-topic ones; precision, recall and false alarms of ``confident``."""
    t = facade.CONFIDENT if threshold is None else threshold
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by[r["lang"]].append(r)
        by["all"].append(r)
    res = {}
    for lang, rs in sorted(by.items(), key=lambda x: (x[0] == "all", x[0])):
        cls = {"correct": [score(r) for r in rs if r["answerable"] and r["correct"]],
               "wrong": [score(r) for r in rs if r["answerable"] and not r["correct"]],
               "offtopic": [score(r) for r in rs if not r["answerable"]]}
        d: dict[str, Any] = {k: {"n": len(v), "pct": [round(float(np.percentile(v, p)), 3) for p in (10, 25, 50, 75, 90)]
                                 if v else []} for k, v in cls.items()}
        conf_ok = sum(s >= t for s in cls["correct"])
        conf_all = conf_ok + sum(s >= t for s in cls["wrong"]) + sum(s >= t for s in cls["offtopic"])
        d["auc"] = _auc(cls["correct"], cls["wrong"] + cls["offtopic"])
        d["auc_offtopic"] = _auc(cls["correct"], cls["offtopic"])
        d["precision"] = round(conf_ok / conf_all, 3) if conf_all else None
        d["recall"] = round(conf_ok / len(cls["correct"]), 3) if cls["correct"] else None
        d["false_alarms"] = round(sum(s >= t for s in cls["offtopic"]) / len(cls["offtopic"]), 3) if cls["offtopic"] else None
        d["wrong_confident"] = round(sum(s >= t for s in cls["wrong"]) / len(cls["wrong"]), 3) if cls["wrong"] else None
        res[lang] = d
    return res


def format_figures(res: dict[str, dict[str, Any]], threshold: float) -> str:
    lines = [f"confident = confidence >= {threshold}; percentiles 10/25/50/75/90 of the first hit's confidence",
             f"{'lang':4} {'class':9} {'n':>4}  percentiles"]
    for lang, d in res.items():
        for k in ("correct", "wrong", "offtopic"):
            lines.append(f"{lang:4} {k:9} {d[k]['n']:>4}  {' '.join(f'{x:.3f}' for x in d[k]['pct'])}")
        lines.append(f"{lang:4} separation (AUC): correct vs wrong or off-topic {d['auc']}, "
                     f"correct vs off-topic {d['auc_offtopic']}")
        lines.append(f"{lang:4} confident: precision {d['precision']}, recall of correct {d['recall']}, "
                     f"off-topic flagged {d['false_alarms']}, wrong flagged {d['wrong_confident']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="*", help="query sets (JSON lines); an empty gold is an off-topic query")
    p.add_argument("--index", help="index directory")
    p.add_argument("--split", choices=("dev", "test"), help="only this split (queries without one are dev)")
    p.add_argument("--match", choices=ev.MATCHES, default="article")
    p.add_argument("--save", help="write the searched inputs to this JSON file")
    p.add_argument("--load", help="report from inputs saved by --save instead of searching")
    p.add_argument("--threshold", type=float, help="the threshold to judge (default: policyidx's CONFIDENT)")
    p.add_argument("--fit", action="store_true", help="print the logistic model fitted on these queries")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.load:
        with open(args.load, encoding="utf-8") as f:
            rows = json.load(f)
        if args.split:
            rows = [r for r in rows if r["split"] == args.split]
    else:
        queries = ev.load_queries(args.files, split=args.split)
        index = Index.open(args.index)
        rows = collect(index, queries, args.match)
        if args.save:
            with open(args.save, "w", encoding="utf-8") as f:
                json.dump(rows, f, ensure_ascii=False)
    if args.fit:
        print(json.dumps(fit(rows)))
        return 0
    t = facade.CONFIDENT if args.threshold is None else args.threshold
    res = figures(rows, t)
    print(json.dumps(res, indent=1) if args.json else format_figures(res, t))
    return 0


if __name__ == "__main__":
    sys.exit(main())
