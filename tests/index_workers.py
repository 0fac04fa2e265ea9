"""Helpers of the snapshot, corruption and concurrency tests: small corpora made from the
bundled one (or from given texts), the answers an index gives, and the worker processes those
tests start.

Run as a script, it is one of the workers::

    python tests/index_workers.py corrupt CASES.json      # open each corrupted copy, report the outcome
    python tests/index_workers.py read INDEX EXPECTED.json STOP_FILE   # search while others rebuild
    python tests/index_workers.py build CORPUS INDEX      # build (and be killed)
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FX = Path(__file__).resolve().parent / "fixtures"
QUERIES = ["知识产权质押融资", "専利密集型製品", "patent pledge financing", "知的財産権の保護"]
MODES = ("keyword", "dense", "hybrid")


def _toml_value(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v, ensure_ascii=False)


def small_corpus(root: Path, doc_ids: list[str], *, zgc_original: bool = False) -> Path:
    """A corpus at ``root`` with some documents of the bundled corpus (and, optionally, the
    Chinese original of zgc-2019-ipap from the test fixtures, so that alignments exist)."""
    from policyidx.corpus import bundled_corpus_path

    src = bundled_corpus_path()
    cat = tomllib.loads((src / "catalog.toml").read_text(encoding="utf-8"))
    docs = [d for d in cat["document"] if d["id"] in doc_ids]
    if zgc_original:
        docs.append({"id": "zgc-2019-ipap.zh", "work": "zgc-2019-ipap", "lang": "zh", "role": "original",
                     "title": "中关村国家自主创新示范区知识产权行动方案（2019-2021年）",
                     "file": "zh/zgc-2019-ipap.zh.html", "format": "html"})
    works = {d["work"] for d in docs}
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for w in cat["work"]:
        if w["id"] in works:
            lines.append("[[work]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in w.items()))
    for d in docs:
        lines.append("[[document]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in d.items()))
        target = root / d["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if d["id"] == "zgc-2019-ipap.zh" and zgc_original:
            shutil.copy(FX / "zh" / "zgc-2019-ipap.zh.html", target)
        else:
            shutil.copy(src / d["file"], target)
    (root / "catalog.toml").write_text("\n".join(lines), encoding="utf-8")
    return root


def text_corpus(root: Path, docs: dict[str, tuple[str, str]]) -> Path:
    """A corpus at ``root`` of Chinese originals in plain text, one work each: ``docs`` maps a
    key (the work; the document is ``<key>.zh``) to its title and its text after the title."""
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for key, (title, text) in docs.items():
        (root / f"{key}.txt").write_text(f"{title}\n\n{text}", encoding="utf-8")
        lines += ["[[work]]", f"id = {_toml_value(key)}", f"title_zh = {_toml_value(title)}", "",
                  "[[document]]", f"id = {_toml_value(key + '.zh')}", f"work = {_toml_value(key)}", 'lang = "zh"',
                  'role = "original"', f"title = {_toml_value(title)}", f"file = {_toml_value(key + '.txt')}",
                  'format = "text"', ""]
    (root / "catalog.toml").write_text("\n".join(lines), encoding="utf-8")
    return root


def hybrid_scores(idx: Any, q: str, lang: str, **params: Any) -> dict[str, float]:
    """Clause text -> score of the hybrid mode's 10 best for query ``q`` in ``lang``, with
    ``params`` replacing the index's parameters of that name (``quantity_penalty=0.0``)."""
    from policyidx.retrieval.modes import make_retriever

    exp = idx.analyze_query(q, lang)
    with idx.analyzer.active():
        got = make_retriever("hybrid", idx._part, {**idx.params, **params}).search(exp, 10)
    return {idx.rows.text(r): s for r, s in zip(got.rows.tolist(), got.scores.tolist())}


def answers(idx: Any, counterpart: str | None = None) -> dict[str, Any]:
    """What an index answers: the top 5 of each query in each mode (ids, rounded scores,
    texts, titles, snippets) and the counterparts of one clause."""
    out: dict[str, Any] = {}
    for q in QUERIES:
        for mode in MODES:
            out[f"{mode}:{q}"] = [[h.id, round(h.score, 4), h.text, h.title, h.label, h.doc, h.snippet]
                                  for h in idx.search(q, k=5, mode=mode)]
    if counterpart:
        out["counterparts"] = [[c.id, round(c.score, 4), c.method, c.text] for c in idx.counterparts(counterpart, k=3)]
    return out


# ----------------------------------------------------------------------------- corruption suite


def run_corruption_cases(base: Path, root: Path, expected: dict[str, Any], counterpart: str | None,
                         cases: list[dict[str, Any]], timeout: float = 1800) -> tuple[dict[str, int], list[dict]]:
    """Open every corrupted copy in ``cases`` in one worker process (so a crash of native code
    fails the caller instead of killing pytest); returns the tally of outcomes (``same``,
    ``error``, ``wrong``, ``raw``, and ``unnamed``: an error that is not one line naming a
    damaged file) and the bad results."""
    import subprocess

    spec = base / "cases.json"
    spec.write_text(json.dumps({"corpus": str(root), "expected": expected, "counterpart": counterpart,
                                "cases": cases}, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "corrupt", str(spec)],
                          capture_output=True, text=True, timeout=timeout)
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0, (f"the worker died (status {proc.returncode}) after {len(results)} of "
                                  f"{len(cases)} cases, at {cases[len(results)]['name'] if len(results) < len(cases) else '?'}: "
                                  f"{proc.stderr[-2000:]}")
    assert len(results) == len(cases)
    by_case = {c["name"]: c for c in cases}
    tally = {"same": 0, "error": 0, "wrong": 0, "raw": 0, "unnamed": 0}
    bad = []
    for r in results:
        if r["outcome"] == "error":
            named = any(Path(f).name in r["message"] for f in by_case[r["case"]]["files"])
            if not (named and "\n" not in r["message"]):
                tally["unnamed"] += 1
                bad.append(r)
                continue
        tally[r["outcome"]] += 1
        if r["outcome"] in ("wrong", "raw"):
            bad.append(r)
    return tally, bad


# ----------------------------------------------------------------------------- workers


def corrupt_worker(cases_file: str) -> int:
    """Open every corrupted index copy listed in ``cases_file`` and print one JSON line per
    case: ``same`` (answers equal the pristine ones), ``error`` (a policyidx error: its
    message), ``raw`` (any other exception) or ``wrong``."""
    from policyidx.corpus import Corpus
    from policyidx.errors import PolicyIdxError
    from policyidx.index import Index

    spec = json.loads(Path(cases_file).read_text(encoding="utf-8"))
    corpus = Corpus.load(spec["corpus"])
    expected = spec["expected"]
    for case in spec["cases"]:
        out: dict[str, Any] = {"case": case["name"]}
        try:
            idx = Index.open(case["path"], corpus=corpus, build=False)
            got = answers(idx, spec.get("counterpart"))
            idx.close()
            out["outcome"] = "same" if json.loads(json.dumps(got)) == expected else "wrong"
        except PolicyIdxError as exc:
            out.update(outcome="error", type=type(exc).__name__, message=str(exc))
        except Exception as exc:  # noqa: BLE001 - what the test counts
            out.update(outcome="raw", type=type(exc).__name__, message=str(exc)[:300])
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


def read_worker(index: str, expected_file: str, stop_file: str) -> int:
    """Until ``stop_file`` exists: open the index, wait a little (builds go on), search in
    every mode (each part is loaded on first use, after the wait) and compare with the
    answers expected for the corpus the opened snapshot was built from.  Prints a JSON line
    of counts at the end."""
    from policyidx.errors import PolicyIdxError
    from policyidx.index import Index

    expected = json.loads(Path(expected_file).read_text(encoding="utf-8"))
    rng = random.Random(hash(index) ^ time.time_ns())
    counts = {"opens": 0, "answers": 0, "wrong": 0, "errors": 0, "snapshots": set()}
    messages: list[str] = []
    while not Path(stop_file).exists():
        try:
            idx = Index.open(index, build=False)
            counts["opens"] += 1
            counts["snapshots"].add(idx.snapshot_path.name)
            want = expected[idx.manifest["corpus_fingerprint"]]
            for q in QUERIES[:2]:
                time.sleep(rng.uniform(0, 0.15))
                for mode in MODES:
                    got = [[h.id, round(h.score, 4), h.text, h.title, h.label, h.doc, h.snippet]
                           for h in idx.search(q, k=5, mode=mode)]
                    counts["answers"] += 1
                    if got != want[f"{mode}:{q}"]:
                        counts["wrong"] += 1
                        messages.append(f"{mode}:{q} in snapshot {idx.snapshot_path.name}")
            idx.close()
            ready = Path(stop_file).with_name(f"ready-{os.getpid()}")
            if not ready.exists():
                ready.touch()  # the test starts rebuilding once every reader has read once
        except PolicyIdxError as exc:
            counts["errors"] += 1
            messages.append(str(exc))
    counts["snapshots"] = len(counts["snapshots"])
    print(json.dumps({**counts, "messages": messages[:5]}, ensure_ascii=False), flush=True)
    return 0


def build_worker(corpus: str, index: str) -> int:
    """Build ``corpus`` into ``index`` (the test kills this process at some point)."""
    from policyidx.corpus import Corpus
    from policyidx.index import Index

    Index.build(Corpus.load(corpus), index, align=False)
    print("built", flush=True)
    return 0


if __name__ == "__main__":
    cmd, *rest = sys.argv[1:]
    sys.exit({"corrupt": corrupt_worker, "read": read_worker, "build": build_worker}[cmd](*rest))
