"""Retrieval evaluation: hit@k and MRR@10 of query sets, per mode and per query language.

A query set is JSON lines: ``{"q": "...", "lang": "zh", "gold": [["doc-id", "text the clause
must contain"], ...]}``.  A hit is correct when its document is a gold document and its clause
text contains the gold text, whitespace aside; with ``match="article"`` (``policyidx eval --match
article``) also when it is the article enclosing such a clause, or an item inside one (issue 12's
"the gold article or one of its items").

    python -m policyidx.evaluate eval/queries-en.jsonl ../shared/dev-queries.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .errors import QueryError
from .index import MODES, Index

__all__ = ["load_queries", "evaluate", "jiedu_statements", "main"]

_WS = re.compile(r"\s+")


def _squash(s: str) -> str:
    return _WS.sub("", s)


def load_queries(paths: Iterable[str | Path], *, split: str | None = None) -> list[dict[str, Any]]:
    """Read query sets (JSON lines); each query remembers its file (``_source``) and set (``_set``).

    Parameters
    ----------
    paths
        Query files: one JSON object per line, ``{"q": ..., "lang": ..., "gold": [[doc, text], ...]}``
        and optionally ``"split": "dev"|"test"``.
    split
        Keep only the queries of this split (``dev`` or ``test``; queries without a split
        count as ``dev``); ``None`` keeps all.

    Raises
    ------
    QueryError
        A file is missing or a line is not a query (the message names the file and line).
    """
    out: list[dict[str, Any]] = []
    for p in paths:
        p = Path(p)
        try:
            lines = p.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise QueryError(f"{p}: cannot read the query file ({exc.__class__.__name__}: {exc})") from None
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                q = json.loads(line)
            except json.JSONDecodeError as exc:
                raise QueryError(f"{p}:{n}: not a JSON object ({exc.msg})") from None
            if not isinstance(q, dict) or not isinstance(q.get("q"), str) or not isinstance(q.get("gold"), list) \
                    or not all(isinstance(g, list) and len(g) == 2 for g in q["gold"]):
                raise QueryError(f"{p}:{n}: a query needs \"q\" (text) and \"gold\" ([[doc id, text], ...])")
            if split is not None and q.get("split", "dev") != split:
                continue
            q["_source"] = f"{p.name}:{n}"
            q["_set"] = p.stem
            out.append(q)
    return out


#: how a hit is judged: ``text`` (its clause text holds the gold text) or ``article`` (also the
#: article, or paragraph, that encloses such a clause, and the items inside it)
MATCHES = ("text", "article")

_DIVISION = re.compile(r"[编編章节節]$")


def _first_correct(hits, gold: list[list[str]], accept: frozenset[str] = frozenset()) -> int | None:
    for h in hits:
        t = _squash(h.text)
        if h.id in accept or any(h.doc == d and _squash(g) in t for d, g in gold):
            return h.rank
    return None


def article_ids(index: Index, gold: list[list[str]]) -> frozenset[str]:
    """Clause ids that count as the answer under the ``article`` match, beside the clauses
    whose text holds the gold text.

    Issue 12 defines a hit as "the gold article or one of its items": the rows of a gold clause's
    enclosing clauses up to its article (a row whose citation names an article, paragraph or item,
    never a chapter or section: 第十二条 for gold in 第十二条第二款), and the rows inside a gold
    clause (the items of a gold article).  Sibling items of a gold item do not count.
    """
    docs = {d["id"]: i for i, d in enumerate(index.docs)}
    want: set[str] = set()
    for doc, text in gold:
        at = docs.get(doc)
        if at is None:
            continue
        g = _squash(text)
        rows = np.flatnonzero(np.asarray(index.row_doc) == at)
        recs = {index.row_id(int(r)): index.record(int(r)) for r in rows}
        for cid, rec in recs.items():
            if g not in _squash(rec.get("text") or ""):
                continue
            want.update(o for o in recs if o.startswith(cid + "."))  # the items inside it
            head, _, tail = cid.partition("#")
            parts = tail.split(".")
            for n in range(len(parts) - 1, 0, -1):  # enclosing clauses, innermost first
                up = f"{head}#{'.'.join(parts[:n])}"
                cite = (recs.get(up) or {}).get("citation") or ""
                if not cite or _DIVISION.search(cite):
                    break
                want.add(up)
    return frozenset(want)


def evaluate(index: Index, queries: list[dict[str, Any]], modes: Iterable[str] = MODES, *, expand: bool = True,
             dictionaries: bool = True, k: int = 10, match: str = "text") -> dict[str, Any]:
    """hit@1, hit@5 and MRR@10 for each mode, overall, by query language and by set and split.

    ``match`` is how a hit is judged (:data:`MATCHES`): ``text``, its clause text holds a gold
    text; ``article``, also the article enclosing such a clause and the items inside it
    (:func:`article_ids`).

    Returns ``{"modes": {mode: {"all": {...}, "zh": {...}, ...}}, "groups": [{"set", "lang",
    "split", "mode", "n", "hit@1", "hit@5", "mrr@10"}, ...], "misses": {mode: [query, ...]},
    "paired": {mode: {lang: {...}}}}``; a group is the queries of one set, language and split
    (``-`` for a set without splits); ``paired`` is :func:`paired_hits` of the queries that
    name their ``need``.
    """
    if match not in MATCHES:
        raise QueryError(f"unknown match {match!r}; expected one of {', '.join(MATCHES)}")
    result: dict[str, Any] = {"modes": {}, "groups": [], "misses": {}, "paired": {}, "expand": expand,
                              "dictionaries": dictionaries, "queries": len(queries), "match": match}
    accept = [article_ids(index, q["gold"]) if match == "article" else frozenset() for q in queries]
    for mode in modes:
        per: dict[str, list[int | None]] = defaultdict(list)
        groups: dict[tuple[str, str, str], list[int | None]] = defaultdict(list)
        misses = []
        by_need: list[tuple[str, str, int | None]] = []
        for q, ok in zip(queries, accept):
            hits = index.search(q["q"], k=k, mode=mode, query_lang=q.get("lang"), expand=expand,
                                dictionaries=dictionaries, docs=q.get("docs"))
            r = _first_correct(hits, q["gold"], ok)
            per["all"].append(r)
            per[q.get("lang", "?")].append(r)
            groups[(q.get("_set", "?"), q.get("lang", "?"), q.get("split", "-"))].append(r)
            if q.get("need"):
                by_need.append((str(q["need"]), q.get("lang", "?"), r))
            if r is None or r > 5:
                misses.append({"q": q["q"], "source": q.get("_source"), "rank": r, "top": hits[0].id if hits else None})
        result["modes"][mode] = {lang: _scores(ranks) for lang, ranks in per.items()}
        for (set_, lang, split), ranks in sorted(groups.items()):
            result["groups"].append({"set": set_, "lang": lang, "split": split, "mode": mode, **_scores(ranks)})
        result["misses"][mode] = misses
        paired = paired_hits(by_need)
        if paired:
            result["paired"][mode] = paired
    return result


def paired_hits(ranks: Iterable[tuple[str, str, int | None]], pivot: str = "zh") -> dict[str, dict[str, Any]]:
    """Issue 12's paired figure: for each language other than ``pivot``, hit@5 over the needs
    whose ``pivot`` query is answered in the top 5 (its queries and the pivot's share a
    ``need``: the same information need asked in two languages).

    ``ranks`` are ``(need, lang, rank of the first right hit or None)``.  Returns ``{lang:
    {"needs": needs of that language with a pivot query, "pivot_answered": how many of them the
    pivot answers in the top 5, "hit@5": that language's hit@5 over those}}``; empty without
    pivot queries.
    """
    rows = list(ranks)
    answered = {need: r is not None and r <= 5 for need, lang, r in rows if lang == pivot}
    out: dict[str, dict[str, Any]] = {}
    for lang in sorted({lang for _, lang, _ in rows if lang != pivot}):
        mine = [(need, r) for need, l_, r in rows if l_ == lang and need in answered]
        if not mine:
            continue
        kept = [r for need, r in mine if answered[need]]
        hit = sum(1 for r in kept if r is not None and r <= 5)
        out[lang] = {"needs": len(mine), "pivot_answered": len(kept),
                     "hit@5": round(hit / len(kept), 3) if kept else None}
    return out


def format_paired(result: dict[str, Any]) -> str:
    """The ``paired`` figures of :func:`evaluate` as text lines ("" when there are none)."""
    lines = []
    for mode, by_lang in result.get("paired", {}).items():
        cells = [f"{lang} {v['hit@5']:.3f} ({v['pivot_answered']} of {v['needs']} needs)" if v["hit@5"] is not None
                 else f"{lang} - (0 of {v['needs']} needs)" for lang, v in by_lang.items()]
        if cells:
            lines.append(f"hit@5 where the Chinese query of the need is answered in the top 5 [{mode}]: " + ", ".join(cells))
    return "\n".join(lines)


def format_table(result: dict[str, Any]) -> str:
    """The groups of :func:`evaluate` as a text table: a row per set/language/split, hit@1,
    hit@5 and MRR@10 side by side for each mode."""
    modes = list(result["modes"])
    rows: dict[tuple[str, str, str], dict[str, dict[str, float]]] = defaultdict(dict)
    for g in result["groups"]:
        rows[(g["set"], g["lang"], g["split"])][g["mode"]] = g
    w = max([len(k[0]) for k in rows] + [len("(all sets)")])
    head1 = f"{'set':{w}} {'lang':4} {'split':5} {'n':>4}" + "".join(f" | {m:^20}" for m in modes)
    head2 = f"{'':{w}} {'':4} {'':5} {'':>4}" + "".join(f" | {'h@1':>6}{'h@5':>7}{'mrr':>7}" for _ in modes)
    lines = [head1, head2, "-" * len(head2)]
    for key in sorted(rows, key=lambda k: (k[0], k[1], {"dev": 0, "test": 1}.get(k[2], 2))):
        by_mode = rows[key]
        n = next(iter(by_mode.values()))["n"]
        cells = "".join(f" | {by_mode[m]['hit@1']:>6.3f}{by_mode[m]['hit@5']:>7.3f}{by_mode[m]['mrr@10']:>7.3f}"
                        if m in by_mode else " | " + " " * 20 for m in modes)
        lines.append(f"{key[0]:{w}} {key[1]:4} {key[2]:5} {n:>4}" + cells)
    for lang in sorted({l for m in result["modes"].values() for l in m if l != "all"}) + ["all"]:
        cells = ""
        n = 0
        for m in modes:
            s = result["modes"][m].get(lang)
            n = s["n"] if s else n
            cells += f" | {s['hit@1']:>6.3f}{s['hit@5']:>7.3f}{s['mrr@10']:>7.3f}" if s else " | " + " " * 20
        lines.append(f"{'(all sets)':{w}} {lang:4} {'':5} {n:>4}" + cells)
    return "\n".join(lines)


def _scores(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "n": len(ranks),
        "hit@1": round(sum(1 for r in ranks if r == 1) / n, 3),
        "hit@5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 3),
        "mrr@10": round(sum(1.0 / r for r in ranks if r is not None and r <= 10) / n, 3),
    }


# The measure each statement of the 解读's "main contents" (cnipa-2022-38-jiedu.zh 3.1-3.4)
# summarises, read off the two texts: (clause, distinctive words of the statement, measure).
JIEDU_GOLD = [
    ("3.1", "享受知识产权优先审查政策", "1.1"),
    ("3.1", "知识产权管理国际标准推广应用", "1.2"),
    ("3.1", "提升专利导航综合服务水平", "1.3"),
    ("3.2", "深入推进开放许可工作", "2.4"),
    ("3.2", "开展专利密集型产品备案", "2.5"),
    ("3.2", "增强知识产权质押融资", "2.6"),
    ("3.2", "实施品牌价值提升计划", "2.7"),
    ("3.3", "专利侵权行政裁决办案力度", "3.8"),
    ("3.3", "知识产权维权援助专项行动", "3.9"),
    ("3.4", "优化知识产权基础数据开放共享", "4.10"),
    ("3.4", "服务机构评价信息推送力度", "4.11"),
    ("3.4", "知识产权经理人队伍建设", "4.12"),
    ("3.4", "知识产权服务的资金和政策支持", "4.13"),
]


def jiedu_statements(index: Index) -> list[tuple[str, str, str]]:
    """(statement sentence, expected measure id, clause) for the 解读's main-contents statements.

    Every sentence of clauses 3.1-3.4 that names a measure is a statement; a sentence may hold
    two statements (the source runs some together), in which case it appears once per measure.
    """
    corpus = index.corpus
    out = []
    for clause, words, measure in JIEDU_GOLD:
        c = corpus.clause(f"cnipa-2022-38-jiedu.zh#{clause}")
        sent = next(s.text for s in c.sentences if words in _squash(s.text))
        out.append((sent, f"cnipa-2022-38.ja#{measure}", c.id))
    return out


def evaluate_jiedu(index: Index, mode: str = "hybrid", expand: bool = True) -> dict[str, Any]:
    """Each 解读 statement as a query restricted to cnipa-2022-38.ja: is its measure first?"""
    rows = []
    for sent, want, _c in jiedu_statements(index):
        hits = index.search(sent, k=5, mode=mode, docs=["cnipa-2022-38.ja"], expand=expand)
        rows.append({"statement": sent, "want": want, "got": [h.id for h in hits[:3]], "first": bool(hits) and hits[0].id == want})
    return {"first": sum(r["first"] for r in rows), "total": len(rows), "rows": rows}


def measure_speed(index_path: str | None, queries: list[dict[str, Any]], modes: Iterable[str] = MODES) -> dict[str, Any]:
    """Time opening the index in a fresh process, the first query, and the latency of later ones.

    Opening is measured in a subprocess so that nothing is already imported or cached.
    """
    import statistics
    import subprocess
    import time

    code = (
        "import time, json; t=time.perf_counter(); from policyidx.index import Index; "
        f"i=Index.open({index_path!r}); t1=time.perf_counter(); i.search('专利', k=10); t2=time.perf_counter(); "
        "print(json.dumps([t1-t, t2-t1]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    open_s, first_s = json.loads(out.strip().splitlines()[-1])
    index = Index.open(index_path)
    index.search("专利", k=10)
    res: dict[str, Any] = {"open_ms": round(1000 * open_s, 1), "first_query_ms": round(1000 * first_s, 1), "modes": {}}
    for mode in modes:
        lat = []
        for q in queries:
            t = time.perf_counter()
            index.search(q["q"], k=10, mode=mode, query_lang=q.get("lang"))
            lat.append(1000 * (time.perf_counter() - t))
        lat.sort()
        res["modes"][mode] = {"n": len(lat), "p50_ms": round(statistics.median(lat), 2),
                              "p95_ms": round(lat[min(len(lat) - 1, int(0.95 * len(lat)))], 2), "max_ms": round(lat[-1], 2)}
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m policyidx.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="*", help="query sets (JSON lines)")
    p.add_argument("--index", help="index directory (default: the default index)")
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--no-expand", action="store_true", help="evaluate without glossary expansion")
    p.add_argument("--jiedu", action="store_true", help="also the 解读 statements -> measures test")
    p.add_argument("--misses", action="store_true", help="list queries not found in the top 5")
    p.add_argument("--speed", action="store_true", help="also time opening the index and the queries' latency")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    index = Index.open(args.index)
    queries = load_queries(args.files)
    modes = [m for m in args.modes.split(",") if m]
    res = evaluate(index, queries, modes, expand=not args.no_expand) if queries else {"modes": {}, "misses": {}}
    if args.jiedu:
        res["jiedu"] = {m: evaluate_jiedu(index, m, expand=not args.no_expand) for m in modes}
    if args.speed:
        res["speed"] = measure_speed(args.index, queries or [{"q": "专利开放许可"}], modes)
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=2))
        return 0
    print(f"{len(queries)} queries, expansion {'off' if args.no_expand else 'on'}, index {index.path}")
    print(f"{'mode':8} {'lang':4} {'n':>4} {'hit@1':>6} {'hit@5':>6} {'mrr@10':>7}")
    for mode, by_lang in res["modes"].items():
        for lang, s in sorted(by_lang.items(), key=lambda x: (x[0] != "all", x[0])):
            print(f"{mode:8} {lang:4} {s['n']:>4} {s['hit@1']:>6.3f} {s['hit@5']:>6.3f} {s['mrr@10']:>7.3f}")
    if args.misses:
        for mode, ms in res["misses"].items():
            for m in ms:
                print(f"  miss [{mode}] rank={m['rank']} top={m['top']} q={m['q']}")
    if args.speed:
        sp = res["speed"]
        print(f"open (fresh process) {sp['open_ms']:.0f} ms; first query {sp['first_query_ms']:.0f} ms (loads tokenisers)")
        for mode, v in sp["modes"].items():
            print(f"  {mode:8} {v['n']} queries: p50 {v['p50_ms']:.1f} ms, p95 {v['p95_ms']:.1f} ms, max {v['max_ms']:.1f} ms")
    if args.jiedu:
        for mode, j in res["jiedu"].items():
            print(f"jiedu statements -> measure first ({mode}): {j['first']}/{j['total']}")
            for r in j["rows"]:
                if not r["first"]:
                    print(f"    want {r['want']} got {r['got']}: {r['statement'][:40]}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
