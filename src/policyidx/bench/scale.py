"""Benchmark of the search stack at scale, side by side with bm25s, rank_bm25 and exact FAISS.

For every size N the benchmark

1. **generates** N synthetic clauses by recombining real sentences of the bundled corpus
   (Chinese and Japanese in the corpus's proportion, clause lengths in sentences drawn from
   the real distribution, hierarchical numbering such as ``syn-00042.ja#3.2.5``) and about
   200 queries (the dev queries plus random 6-30 character fragments of clause text);
2. **builds** the components an :class:`policyidx.index.Index` is made of, stage by stage:
   parsing (the clauses written out as plain-text documents with their labels, 一、 >
   （一） > 1., and parsed back by :func:`policyidx.parsers.parse_bytes` in a pool of forked
   processes; ``parsed_clauses`` counts what the parser found, which can be a little below
   ``clauses`` where a clause's own text starts with a number and its label is read as
   text), tokenisation (:func:`policyidx.analysis.analyze` in a pool of forked processes), the BM25
   index (:meth:`policyidx.keyword.BM25Index.from_ids`), the built-in encoder (fitted on a
   sample of clauses, then applied to all of them in the same process pool) and the vector
   store (built as :class:`policyidx.index.Index` builds it: exact up to 50,000 rows, an
   inverted file above);
3. **measures** build time per stage, size on disk, peak RSS while building, RSS of a fresh
   process that opens the index and answers every query, and latency (p50, p95) and
   throughput of keyword, dense and hybrid search (keyword throughput both on one thread,
   ``keyword_qps``, and as :meth:`~policyidx.keyword.BM25Index.search_many` runs a batch by
   default, ``keyword_batch_qps``, against bm25s with ``n_threads`` = workers); hybrid is measured end to end with the
   function ``Index.search`` runs (:func:`policyidx.index.retrieve`): query analysis and
   glossary expansion, query encoding, both searches at depth 100 and reciprocal-rank fusion
   (``hybrid_*``), and separately with the highlighting of the 10 hits that ``Index.search``
   adds (``hybrid_highlight_*``);
4. reports **where the time goes**: a profile of tokenising (the slowest build stage) on a
   sample of 2,000 clauses, split into MeCab's parse, jieba's cut and policyidx's own Python,
   with the functions that cost most; and for keyword search the postings read per query,
   the time per posting, and the floor set by reading them at the machine's measured
   sequential bandwidth;
5. runs the **peers** on the same tokens: bm25s (``method="lucene"``, same k1 and b),
   rank_bm25 (``BM25Okapi``, up to ``rank_bm25_max`` clauses) and FAISS ``IndexFlatIP`` as
   the exact reference of the dense index; and :func:`policyidx.bench.peers.compare` on the same
   tokens (bm25s with its numba backend, tantivy; ``keyword_peers``).

Run it with ``python -m policyidx.bench [--clauses N]... [--json] [--out FILE]``.

Agreement with bm25s (``keyword_same_top10``) is tie-aware: the synthetic clauses reuse a few
hundred sentences, so many clauses score exactly alike, and two engines may legitimately cut
a group of equal scores at the 10th place differently.  Two top 10s agree when their score
lists are equal (to float32 rounding) and every row in one but not the other scores the same
as the 10th.  Dense recall is tie-aware the same way: an approximate hit counts when its exact
score reaches the exact 10th score.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ..errors import PolicyIdxError
from ..text.numerals import to_chinese
from ..parallel import TermLists, chunks, default_workers, fork_map, tokenize_parallel
from .peers import stream_gbps

__all__ = ["run_bench", "main", "synthesize", "SyntheticCorpus", "tokenize_parallel", "format_table"]

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
K1, B = 1.5, 0.75
_TOL = 1e-5


# ----------------------------------------------------------------------------- synthetic corpus


@dataclass(frozen=True)
class SyntheticCorpus:
    """Generated clauses and queries.

    ``ids`` look like ``syn-00042.ja#3.2.5``; ``texts`` and ``langs`` are parallel to them;
    ``queries`` are query strings (dev queries and fragments of clause text).
    """

    ids: list[str]
    texts: list[str]
    langs: list[str]
    queries: list[str]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class _Pool:
    sentences: dict[str, list[str]]  # lang -> real sentence texts
    lengths: dict[str, list[int]]  # lang -> clause lengths in sentences, one per real clause
    depths: list[int]  # numbering depth of every real clause
    clauses_per_doc: list[int]
    zh_share: float
    dev_queries: list[str]


def _real_pool() -> _Pool:
    from ..corpus import Corpus

    corpus = Corpus.load()
    sentences: dict[str, list[str]] = {"zh": [], "ja": []}
    lengths: dict[str, list[int]] = {"zh": [], "ja": []}
    depths: list[int] = []
    per_doc: Counter[str] = Counter()
    for clause in corpus.clauses():
        if not clause.text.strip() or clause.lang not in sentences:
            continue
        sents = [s.text for s in clause.sentences if s.text.strip()] or [clause.text]
        sentences[clause.lang].extend(sents)
        lengths[clause.lang].append(len(sents))
        depths.append(max(1, len(clause.path)))
        per_doc[clause.doc] += 1
    n_zh, n_ja = len(lengths["zh"]), len(lengths["ja"])
    if not sentences["ja"] or not sentences["zh"]:
        raise PolicyIdxError(
            f"the bundled corpus gave {n_zh} Chinese and {n_ja} Japanese clauses; the benchmark "
            "needs both to generate a bilingual corpus"
        )
    return _Pool(sentences, lengths, depths, sorted(per_doc.values()), n_zh / (n_zh + n_ja), _dev_queries())


def _dev_queries() -> list[str]:
    """The ``q`` field of the shared dev queries, when that file is present."""
    candidates = [os.environ.get("POLICYIDX_DEV_QUERIES", ""), "/work/shared/dev-queries.jsonl"]
    for name in candidates:
        if name and Path(name).is_file():
            out = []
            for line in Path(name).read_text(encoding="utf-8").splitlines():
                if line.strip():
                    q = json.loads(line).get("q")
                    if isinstance(q, str) and q.strip():
                        out.append(q)
            return out
    return []


def _next_path(stack: list[int], depth: int) -> list[int]:
    """The clause number after ``stack`` at ``depth`` (1 = top level): 2.3 -> 2.4 or 2.3.1 or 3."""
    if not stack:
        return [1] * depth
    if depth <= len(stack):
        out = stack[:depth]
        out[-1] += 1
        return out
    return stack + [1] * (depth - len(stack))


def synthesize(n: int, seed: int = 0, n_queries: int = 200) -> SyntheticCorpus:
    """Generate ``n`` clauses from real sentences of the bundled corpus, and queries.

    Parameters
    ----------
    n : int
        Number of clauses.
    seed : int
        Everything is a function of ``(n, seed)``.
    n_queries : int
        Number of queries: the dev queries (``/work/shared/dev-queries.jsonl`` or
        ``$POLICYIDX_DEV_QUERIES``, ``q`` field only) first, then 6-30 character fragments of
        random clauses up to this count.

    Returns
    -------
    SyntheticCorpus

    Raises
    ------
    PolicyIdxError
        If ``n`` or ``n_queries`` is not positive.
    """
    if n < 1 or n_queries < 1:
        raise PolicyIdxError(f"need at least one clause and one query; got n={n}, n_queries={n_queries}")
    pool = _real_pool()
    rng = random.Random(seed)
    ids: list[str] = []
    texts: list[str] = []
    langs: list[str] = []
    doc_no = 0
    while len(ids) < n:
        lang = "zh" if rng.random() < pool.zh_share else "ja"
        size = min(rng.choice(pool.clauses_per_doc), n - len(ids))
        sents, lens = pool.sentences[lang], pool.lengths[lang]
        stack: list[int] = []
        for _ in range(size):
            stack = _next_path(stack, rng.choice(pool.depths))
            ids.append(f"syn-{doc_no:05d}.{lang}#{'.'.join(map(str, stack))}")
            texts.append("".join(rng.choice(sents) for _ in range(rng.choice(lens))))
            langs.append(lang)
        doc_no += 1
    queries = list(pool.dev_queries[:n_queries])
    while len(queries) < n_queries:
        text = texts[rng.randrange(n)]
        length = rng.randint(6, 30)
        start = rng.randrange(max(1, len(text) - length + 1))
        frag = text[start : start + length].strip()
        if len(frag) >= 6 and any(ch.isalnum() for ch in frag):
            queries.append(frag)
    return SyntheticCorpus(ids, texts, langs, queries)


def _cn_numeral(n: int) -> str:
    """Chinese numeral of ``1 <= n < 1000`` as clause labels write it (十一, 二十, 一百零五)."""
    return to_chinese(n)


# Labels by depth, as the bundled documents number their clauses: 一、 > （一） > 1. > （1）
_LABELS = (lambda n: f"{_cn_numeral(n)}、", lambda n: f"（{_cn_numeral(n)}）", lambda n: f"{n}.",
           lambda n: f"（{n}）")
_TITLES = {"zh": "关于印发第{}号政策措施的通知", "ja": "第{}号政策措置の公布に関する通知"}


def render_documents(syn: SyntheticCorpus) -> list[tuple[str, str, str, int]]:
    """The synthetic clauses as plain-text documents: ``(doc_id, lang, text, n_clauses)``.

    Each document gets a title line, then one line per clause: its label (from the path in
    its id, ``syn-00042.ja#3.2.5`` -> ``1.`` under ``（二）`` under ``三、``) and its text.
    """
    docs: list[tuple[str, str, str, int]] = []
    cur_id, lines, count, lang = "", [], 0, "zh"
    for cid, text, clang in zip(syn.ids, syn.texts, syn.langs):
        doc_id, _, path = cid.partition("#")
        if doc_id != cur_id:
            if cur_id:
                docs.append((cur_id, lang, "\n".join(lines) + "\n", count))
            cur_id, lang, count = doc_id, clang, 0
            lines = [_TITLES[lang].format(int(doc_id[4:9])), ""]
        numbers = [int(x) for x in path.split(".")]
        depth = min(len(numbers), len(_LABELS))
        lines.append(_LABELS[depth - 1](numbers[depth - 1]) + text)
        count += 1
    if cur_id:
        docs.append((cur_id, lang, "\n".join(lines) + "\n", count))
    return docs


def parse_parallel(docs: Sequence[tuple[str, str, str, int]], workers: int, tmp: Path) -> dict[str, int]:
    """Parse rendered documents (:func:`render_documents`) in ``workers`` forked processes.

    Returns counts summed over all documents: ``documents``, ``clauses`` (numbered clauses
    parsed, front matter excluded), ``expected`` (clauses rendered), ``chars`` and ``warnings``.
    """
    from ..parsers import parse_bytes

    tmp.mkdir(parents=True, exist_ok=True)
    parts = chunks(len(docs), max(1, workers) * 4)

    def task(i: int) -> None:
        a, b = parts[i]
        out = {"documents": 0, "clauses": 0, "expected": 0, "chars": 0, "warnings": 0}
        for doc_id, lang, text, n in docs[a:b]:
            res = parse_bytes(text.encode("utf-8"), doc_id=doc_id, lang=lang, format="text", name=doc_id)
            out["documents"] += 1
            stack = list(res.roots)
            while stack:
                clause = stack.pop()
                stack.extend(clause.children)
                out["clauses"] += clause.path[0] != 0  # front matter (0.1 notice, 0.2 title) is not counted
            out["expected"] += n
            out["chars"] += len(text)
            out["warnings"] += len(res.warnings)
        (tmp / f"parse-{i}.json").write_text(json.dumps(out), encoding="utf-8")

    fork_map(task, len(parts), workers)
    total: dict[str, int] = {}
    for i in range(len(parts)):
        for key, v in json.loads((tmp / f"parse-{i}.json").read_text(encoding="utf-8")).items():
            total[key] = total.get(key, 0) + v
        (tmp / f"parse-{i}.json").unlink()
    return total


# ----------------------------------------------------------------------------- measuring


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _children_peak_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def _dir_mb(path: Path) -> float:
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return round(total / 2**20, 1)


@contextmanager
def _stage(name: str, timings: dict[str, float], progress: bool) -> Iterator[None]:
    if progress:
        print(f"[bench] {name}...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - t0, 2)
    if progress:
        print(f"[bench] {name}: {timings[name]:.1f} s", file=sys.stderr, flush=True)


def _latencies(fn: Callable[[Any], Any], items: Sequence[Any], warmup: int = 3) -> np.ndarray:
    for it in items[:warmup]:
        fn(it)
    out = np.empty(len(items))
    for i, it in enumerate(items):
        t0 = time.perf_counter()
        fn(it)
        out[i] = time.perf_counter() - t0
    return out * 1000.0


def _pct(ms: np.ndarray) -> tuple[float, float]:
    return round(float(np.percentile(ms, 50)), 3), round(float(np.percentile(ms, 95)), 3)


def _unique_terms(terms: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(terms))


def _same_top(a_rows: np.ndarray, a_scores: np.ndarray, b_rows: np.ndarray, b_scores: np.ndarray) -> bool:
    """Tie-aware equality of two top-k lists (see the module docstring)."""
    if len(a_rows) != len(b_rows):
        return False
    if len(a_rows) == 0:
        return True
    if not np.allclose(np.sort(a_scores), np.sort(b_scores), rtol=_TOL, atol=_TOL):
        return False
    sa, sb = set(a_rows.tolist()), set(b_rows.tolist())
    if sa == sb:
        return True
    kth = float(min(a_scores.min(), b_scores.min()))
    score = dict(zip(a_rows.tolist(), a_scores.tolist()))
    score.update(zip(b_rows.tolist(), b_scores.tolist()))
    return all(abs(score[r] - kth) <= _TOL * max(1.0, abs(kth)) for r in sa ^ sb)


def _recall(vectors: np.ndarray, qv: np.ndarray, rows: np.ndarray, e_rows: np.ndarray,
            e_scores: np.ndarray) -> tuple[float, float]:
    """Tie-aware and plain (id overlap) recall@10 of ``rows`` against the exact top 10."""
    hits_tie, hits_ids, counted = 0, 0, 0
    for i in range(len(qv)):
        if not np.any(qv[i]):
            continue  # a query with no known feature has no neighbours to find
        counted += 1
        got = rows[i][rows[i] >= 0]
        exact = np.asarray(vectors[np.sort(got)] @ qv[i]) if len(got) else np.zeros(0)
        hits_tie += min(10, int(np.sum(exact >= e_scores[i, 9] - _TOL)))
        hits_ids += len(set(got.tolist()) & set(e_rows[i].tolist()))
    return round(hits_tie / (10 * max(1, counted)), 4), round(hits_ids / (10 * max(1, counted)), 4)


def _profile_tokeniser(texts: Sequence[str], langs: Sequence[str], sample: int, seed: int) -> dict[str, Any]:
    """Where tokenising time goes, on one core: MeCab's parse, jieba's cut, and the rest.

    ``analyze`` is timed on a sample of clauses (CPU time), then the two segmenters alone
    on the same texts; the remainder is policyidx's own Python (normalisation, compound
    merging, Han bigrams).  A cProfile of the same run gives the functions that cost most.
    """
    import cProfile
    import pstats

    from ..text.analysis import _lex, _zh_spans, analyze, normalize_width
    from ..text.han import unify

    rng = random.Random(seed)
    idx = sorted(rng.sample(range(len(texts)), min(sample, len(texts))))
    items = [(texts[i], langs[i]) for i in idx]
    for t, lang in items[:50]:
        analyze(t, lang)  # dictionaries loaded before timing
    t0 = time.process_time()
    for t, lang in items:
        analyze(t, lang)
    total = time.process_time() - t0
    tagger = _lex().mecab()
    ja = [normalize_width(t) for t, lang in items if lang == "ja"]
    zh = [unify(normalize_width(t)).lower() for t, lang in items if lang == "zh"]
    t0 = time.process_time()
    for t in ja:
        tagger.parse(t)  # type: ignore[attr-defined]
    mecab = time.process_time() - t0
    t0 = time.process_time()
    for t in zh:
        _zh_spans(t)
    jieba_s = time.process_time() - t0
    prof = cProfile.Profile()
    prof.enable()
    for t, lang in items:
        analyze(t, lang)
    prof.disable()
    stats = pstats.Stats(prof)
    entries = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])  # type: ignore[attr-defined]
    prof_total = sum(v[2] for v in stats.stats.values()) or 1.0  # type: ignore[attr-defined]
    top = [[f"{Path(f).name}:{line}({fn})" if f != "~" else fn, round(v[2] / prof_total, 3)]
           for (f, line, fn), v in entries[:8]]
    n = len(items)
    per_clause = total / n * 1000
    return {
        "clauses": n,
        "cpu_ms_per_clause": round(per_clause, 3),
        "mecab_parse_ms_per_clause": round(mecab / n * 1000, 3),
        "jieba_cut_ms_per_clause": round(jieba_s / n * 1000, 3),
        "policyidx_python_ms_per_clause": round((total - mecab - jieba_s) / n * 1000, 3),
        "clauses_per_s_per_core": round(1000 / per_clause),
        "top_functions_by_own_time": top,
    }


# ----------------------------------------------------------------------------- one size


def _bench_size(
    n: int,
    *,
    seed: int,
    n_queries: int,
    work: Path,
    progress: bool,
    workers: int,
    fit_sample: int,
    dim: int,
    ann: str,
    nprobe: int,
    peers: bool,
    rank_bm25_max: int,
    profile: bool = True,
) -> dict[str, Any]:
    from ..text.analysis import analyze
    from ..retrieval.encoders import BuiltinEncoder
    from ..retrieval.expand import default_glossary, expand_query
    from ..index import FUSION_DEFAULTS, highlight, retrieve
    from ..index.build import encode_rows, fit_builtin, keyword_index, tokenise, vector_store
    from ..retrieval.keyword import BM25Index
    from ..retrieval.vectors import VectorStore

    res: dict[str, Any] = {"clauses": n, "seed": seed, "workers": workers}
    stages: dict[str, float] = {}
    index_dir = work / f"index-{n}"
    index_dir.mkdir(parents=True, exist_ok=True)
    peak_reset = _reset_peak_rss()

    # ------------------------------------------------------------------ build
    with _stage("generate", stages, progress):
        syn = synthesize(n, seed=seed, n_queries=n_queries)
    texts, langs = syn.texts, syn.langs
    res["queries"] = len(syn.queries)
    res["zh_share"] = round(langs.count("zh") / n, 3)
    res["distinct_texts"] = len(set(texts))
    res["mean_chars"] = round(sum(map(len, texts)) / n, 1)
    with _stage("parse", stages, progress):
        parsed = parse_parallel(render_documents(syn), workers, work / "parse-tmp")
    res["documents"] = parsed["documents"]
    res["parsed_clauses"] = parsed["clauses"]
    res["parse_warnings"] = parsed["warnings"]
    with _stage("tokenise", stages, progress):
        # the stages of policyidx.index.build: the same functions the index build runs
        _, (doc_ptr, term_ids, vocab) = tokenise(texts, langs, workers=workers, parallel=True)
    if profile:
        res["tokenise_profile"] = _profile_tokeniser(texts, langs, sample=2_000, seed=seed)
    res["vocab"] = len(vocab)
    res["tokens"] = int(len(term_ids))
    with _stage("keyword_index", stages, progress):
        kw = keyword_index(None, (doc_ptr, term_ids, vocab), k1=K1, b=B)
        kw.save(index_dir / "keyword")
    res["postings"] = kw.n_postings
    terms_view = TermLists(doc_ptr, term_ids, vocab)
    with _stage("encode_fit", stages, progress):
        rng = np.random.default_rng(seed)
        sample = np.sort(rng.choice(n, size=min(n, fit_sample), replace=False))
        enc = fit_builtin([texts[i] for i in sample], TermLists(doc_ptr, term_ids, vocab, sample), dim=dim, seed=seed,
                          min_df=2 if len(sample) >= 50_000 else 1)
        enc.save(index_dir / "encoder")
    with _stage("encode_transform", stages, progress):
        vecs = encode_rows(enc, texts, terms_view, parallel=True, workers=workers, scratch=work / "vectors-tmp.npy")
    with _stage("vector_index", stages, progress):
        store = vector_store(vecs, ann=ann, nprobe=nprobe)
        store.save(index_dir / "vectors")
    del store
    (work / "vectors-tmp.npy").unlink(missing_ok=True)
    res["stages_s"] = stages
    res["build_s"] = round(sum(stages.values()), 1)
    res["build_peak_rss_mb"] = _status_mb("VmHWM") if peak_reset else None
    res["build_workers_peak_rss_mb"] = _children_peak_mb()
    res["index_mb"] = _dir_mb(index_dir)

    # ------------------------------------------------------------------ open (fresh process)
    (index_dir / "queries.json").write_text(json.dumps(syn.queries, ensure_ascii=False), encoding="utf-8")
    if progress:
        print("[bench] open in a fresh process...", file=sys.stderr, flush=True)
    probe = subprocess.run(
        [sys.executable, "-m", "policyidx.bench.scale", "--probe-open", str(index_dir)],
        capture_output=True, text=True, check=False,
    )
    if probe.returncode != 0:
        raise PolicyIdxError(f"opening the index in a fresh process failed:\n{probe.stderr[-2000:]}")
    opened = json.loads(probe.stdout.strip().splitlines()[-1])
    res["open_s"] = opened["open_s"]
    res["open_rss_mb"] = opened["rss_mb"]
    res["open_peak_rss_mb"] = opened["hwm_mb"]

    # ------------------------------------------------------------------ search (opened, memory-mapped)
    kw = BM25Index.load(index_dir / "keyword", mmap=True)
    store = VectorStore.load(index_dir / "vectors", mmap=True)
    enc = BuiltinEncoder.load(index_dir / "encoder")
    res["dense_index"] = repr(store)
    res["ann"] = store.index_name
    queries = syn.queries
    q_terms = [_unique_terms(analyze(q)) for q in queries]

    with _stage("keyword_search", stages, progress):
        ms = _latencies(lambda t: kw.search(t, k=10), q_terms)
        res["keyword_p50_ms"], res["keyword_p95_ms"] = _pct(ms)
        t0 = time.perf_counter()
        ours = kw.search_many(q_terms, k=10, threads=1)
        res["keyword_qps"] = round(len(q_terms) / (time.perf_counter() - t0), 1)
        # the same batch as search_many runs it by default: a thread per core on large
        # indexes (the scatter-add releases the GIL), one thread on small ones
        res["keyword_batch_threads"] = kw.batch_threads(workers)
        kw.search_many(q_terms[: workers * 2], k=10, threads=res["keyword_batch_threads"])
        t0 = time.perf_counter()
        kw.search_many(q_terms, k=10, threads=res["keyword_batch_threads"])
        res["keyword_batch_qps"] = round(len(q_terms) / (time.perf_counter() - t0), 1)
        # The physical floor: every posting of every query term is read once (4-byte row +
        # 4-byte impact) and added into a 4-byte-per-row accumulator.
        postings = [sum(int(kw.indptr[kw.term_ids[t] + 1] - kw.indptr[kw.term_ids[t]])
                        for t in ts if t in kw.term_ids) for ts in q_terms]
        mean_post = float(np.mean(postings))
        res["keyword_postings_per_query"] = round(mean_post)
        res["keyword_ns_per_posting"] = round(float(np.mean(ms)) * 1e6 / max(1.0, mean_post), 2)
        res["stream_read_gbps"] = stream_gbps()
        res["keyword_floor_ms"] = float(f"{mean_post * 8 / (res['stream_read_gbps'] * 1e9) * 1000:.3g}")
        res["keyword_mean_ms"] = round(float(np.mean(ms)), 2)

    with _stage("dense_search", stages, progress):
        ms = _latencies(lambda q: store.search(enc.encode([q], kind="query"), 10), queries)
        res["dense_p50_ms"], res["dense_p95_ms"] = _pct(ms)
        qv = enc.encode(queries, kind="query")
        ms = _latencies(lambda v: store.search(v, 10), list(qv))
        res["dense_search_p50_ms"], res["dense_search_p95_ms"] = _pct(ms)
        t0 = time.perf_counter()
        d_rows, _ = store.search(qv, 10)
        res["dense_qps"] = round(len(queries) / (time.perf_counter() - t0), 1)

    with _stage("hybrid_search", stages, progress):
        glossary = default_glossary()

        def hybrid(q: str, with_highlights: bool = False) -> list[tuple[int, float]]:
            exp = expand_query(q, None, glossary, weight=FUSION_DEFAULTS["expansion_weight"])
            ranked, _, _ = retrieve(exp, kw, enc, store, k=10, mode="hybrid")
            if with_highlights:
                for row, _score in ranked:
                    highlight(texts[row], langs[row], exp)
            return ranked

        ms = _latencies(hybrid, queries)
        res["hybrid_p50_ms"], res["hybrid_p95_ms"] = _pct(ms)
        res["hybrid_qps"] = round(len(queries) / (ms.sum() / 1000.0), 1)
        # Index.search also highlights its hits, which re-tokenises each of them.
        ms = _latencies(lambda q: hybrid(q, True), queries)
        res["hybrid_highlight_p50_ms"], res["hybrid_highlight_p95_ms"] = _pct(ms)

    # ------------------------------------------------------------------ peers
    with _stage("exact_reference", stages, progress):
        import faiss

        flat = faiss.IndexFlatIP(store.dim)
        for a in range(0, n, 65_536):
            flat.add(np.ascontiguousarray(store.vectors[a : a + 65_536]))
        t0 = time.perf_counter()
        e_scores, e_rows = flat.search(np.ascontiguousarray(qv), 10)
        res["faiss_exact_qps"] = round(len(queries) / (time.perf_counter() - t0), 1)
        del flat
        res["dense_recall_at_10"], res["dense_recall_at_10_ids"] = _recall(store.vectors, qv, d_rows, e_rows, e_scores)
        if store.approximate and store.ann == "ivf":
            # The speed/recall curve of the inverted file, to choose nprobe from.
            sweep = {}
            for nprobe_try in (8, 16, 32, 64, 128):
                store.nprobe = nprobe_try
                t0 = time.perf_counter()
                r, _ = store.search(qv, 10)
                qps = len(queries) / (time.perf_counter() - t0)
                sweep[str(nprobe_try)] = {"recall": _recall(store.vectors, qv, r, e_rows, e_scores)[0],
                                          "qps": round(qps, 1)}
            store.nprobe = nprobe
            res["ivf_sweep"] = sweep
    res["keyword_same_top10"] = None
    res["bm25s_qps"] = None
    res["bm25s_batch_qps"] = None
    res["rank_bm25_qps"] = None
    if peers:
        with _stage("bm25s", stages, progress):
            import bm25s

            from types import SimpleNamespace

            # bm25s accepts any object with .ids (token ids per document) and .vocab.
            tokenized = SimpleNamespace(ids=TermLists(doc_ptr, term_ids, None),
                                        vocab={t: i for i, t in enumerate(vocab)})
            t0 = time.perf_counter()
            peer = bm25s.BM25(method="lucene", k1=K1, b=B)
            peer.index(tokenized, show_progress=False)
            res["bm25s_build_s"] = round(time.perf_counter() - t0, 1)
            # Queries without a single indexed term are left out: bm25s cannot take an empty
            # query, and ours answers nothing to them.
            known = [[t for t in ts if t in tokenized.vocab] for ts in q_terms]
            asked = [i for i, ts in enumerate(known) if ts]
            for i in asked[:3]:
                peer.retrieve([known[i]], k=10, show_progress=False)
            t0 = time.perf_counter()
            p_rows, p_scores = peer.retrieve([known[i] for i in asked], k=10, show_progress=False, n_threads=1)
            res["bm25s_qps"] = round(len(asked) / (time.perf_counter() - t0), 1)
            t0 = time.perf_counter()
            peer.retrieve([known[i] for i in asked], k=10, show_progress=False, n_threads=workers)
            res["bm25s_batch_qps"] = round(len(asked) / (time.perf_counter() - t0), 1)
            same = sum(1 for i, ts in enumerate(known) if not ts and len(ours[i][0]) == 0)
            for j, i in enumerate(asked):
                r, s = ours[i]
                pos = p_scores[j] > 0  # bm25s pads with zero-score rows when fewer than k match
                same += _same_top(r, s, p_rows[j][pos].astype(np.int64), p_scores[j][pos].astype(np.float32))
            res["keyword_same_top10"] = round(same / len(ours), 4)
            res["keyword_vs_bm25s"] = round(res["keyword_qps"] / res["bm25s_qps"], 2)
            res["keyword_batch_vs_bm25s_batch"] = round(res["keyword_batch_qps"] / res["bm25s_batch_qps"], 2)
            del peer, tokenized
        if n <= rank_bm25_max:
            with _stage("rank_bm25", stages, progress):
                from rank_bm25 import BM25Okapi

                t0 = time.perf_counter()
                okapi = BM25Okapi(list(terms_view), k1=K1, b=B)
                res["rank_bm25_build_s"] = round(time.perf_counter() - t0, 1)
                few = q_terms[: max(5, min(len(q_terms), 2_000_000 // n))]
                t0 = time.perf_counter()
                for qt in few:
                    sc = okapi.get_scores(qt)
                    np.argpartition(-sc, min(10, len(sc) - 1))[:10]
                res["rank_bm25_qps"] = round(len(few) / (time.perf_counter() - t0), 2)
                res["keyword_vs_rank_bm25"] = round(res["keyword_qps"] / res["rank_bm25_qps"], 1)
                del okapi
        with _stage("keyword_peers", stages, progress):
            # bm25s's numba backend and tantivy on the same tokens (k1 = 1.2: tantivy's), see bench.peers
            from .peers import KeywordCorpus, compare

            kc = KeywordCorpus("synthetic", doc_ptr, term_ids, vocab, q_terms, list(queries))
            res["keyword_peers"] = compare(kc, peers=("bm25s-numba", "tantivy"), repeats=3, workers=workers,
                                           progress=progress)
    res["dense_vs_exact_qps"] = round(res["dense_qps"] / res["faiss_exact_qps"], 2)
    res["stages_s"] = stages
    return res


def _probe_open(index_dir: str) -> dict[str, Any]:
    """Open the index components in this (fresh) process, answer every query, report RSS."""
    t0 = time.perf_counter()
    from ..retrieval.encoders import BuiltinEncoder
    from ..retrieval.expand import default_glossary, expand_query
    from ..index import retrieve
    from ..retrieval.keyword import BM25Index
    from ..retrieval.vectors import VectorStore

    d = Path(index_dir)
    kw = BM25Index.load(d / "keyword", mmap=True)
    store = VectorStore.load(d / "vectors", mmap=True)
    enc = BuiltinEncoder.load(d / "encoder")
    store.index()
    glossary = default_glossary()
    open_s = time.perf_counter() - t0
    for q in json.loads((d / "queries.json").read_text(encoding="utf-8")):
        retrieve(expand_query(q, None, glossary), kw, enc, store, k=10, mode="hybrid")
    return {"open_s": round(open_s, 2), "rss_mb": _status_mb("VmRSS"), "hwm_mb": _status_mb("VmHWM")}


# ----------------------------------------------------------------------------- driver


def run_bench(
    sizes: Sequence[int] = DEFAULT_SIZES,
    *,
    seed: int = 0,
    progress: bool = True,
    n_queries: int = 200,
    workers: int | None = None,
    fit_sample: int = 100_000,
    dim: int = 256,
    ann: str = "ivf",
    nprobe: int = 32,
    peers: bool = True,
    rank_bm25_max: int = 100_000,
    workdir: str | Path | None = None,
    keep: bool = False,
) -> list[dict[str, Any]]:
    """Run the benchmark at each size and return one result dict per size.

    Parameters
    ----------
    sizes : sequence of int
        Numbers of synthetic clauses.
    seed : int
        Seed of the generator and of the encoder (the results' content is reproducible;
        timings are not).
    progress : bool
        Print each stage and its time on stderr.
    n_queries : int
        Queries per size (dev queries plus clause fragments).
    workers : int or None
        Processes for tokenisation and encoding (default: the CPUs available).
    fit_sample : int
        The built-in encoder is fitted on at most this many clauses (a random sample) and
        then applied to all: the SVD's cost grows with the sample, its quality barely does.
    dim : int
        Width of the built-in encoder's vectors.
    ann : {"ivf", "hnsw"}
        Approximate vector index above 50,000 clauses, as the index uses (see :class:`policyidx.vectors.VectorStore`).
    nprobe : int
        Inverted-file cells visited per query.
    peers : bool
        Also run bm25s and rank_bm25.
    rank_bm25_max : int
        Largest size at which rank_bm25 (pure Python, slow) is run.
    workdir : path, optional
        Where indexes are built (a temporary directory by default).
    keep : bool
        Keep the built indexes instead of deleting each after its size.

    Returns
    -------
    list of dict
        Fields include ``clauses``, ``build_s``, ``index_mb``, ``open_rss_mb``,
        ``keyword_qps``, ``bm25s_qps``, ``keyword_same_top10``, ``dense_p95_ms``,
        ``dense_recall_at_10``, ``hybrid_p95_ms``, per-stage times in ``stages_s``, p50s,
        peak RSS and ratios to the peers.
    """
    if not sizes or any(int(s) < 1 for s in sizes):
        raise PolicyIdxError(f"sizes must be positive clause counts; got {list(sizes)}")
    workers = workers or default_workers()
    root = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="policyidx-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for n in sizes:
            work = root / f"n{n}"
            work.mkdir(exist_ok=True)
            try:
                res = _bench_size(
                    int(n), seed=seed, n_queries=n_queries, work=work, progress=progress, workers=workers,
                    fit_sample=fit_sample, dim=dim, ann=ann, nprobe=nprobe, peers=peers,
                    rank_bm25_max=rank_bm25_max,
                )
            finally:
                if not keep:
                    shutil.rmtree(work, ignore_errors=True)
            results.append(res)
            if progress:
                print(format_table([res]), file=sys.stderr, flush=True)
    finally:
        if workdir is None and not keep:
            shutil.rmtree(root, ignore_errors=True)
    return results


_COLUMNS = (
    ("clauses", "clauses", "{:,}"),
    ("build_s", "build s", "{:.0f}"),
    ("index_mb", "index MB", "{:.0f}"),
    ("build_peak_rss_mb", "build RSS MB", "{:.0f}"),
    ("open_rss_mb", "open RSS MB", "{:.0f}"),
    ("keyword_qps", "kw QPS", "{:.0f}"),
    ("bm25s_qps", "bm25s QPS", "{:.0f}"),
    ("keyword_vs_bm25s", "kw/bm25s", "{:.2f}"),
    ("keyword_same_top10", "same top10", "{:.3f}"),
    ("keyword_batch_qps", "kw batch QPS", "{:.0f}"),
    ("bm25s_batch_qps", "bm25s batch QPS", "{:.0f}"),
    ("rank_bm25_qps", "rank_bm25 QPS", "{:.2f}"),
    ("keyword_p95_ms", "kw p95 ms", "{:.1f}"),
    ("dense_p95_ms", "dense p95 ms", "{:.2f}"),
    ("dense_recall_at_10", "recall@10", "{:.3f}"),
    ("hybrid_p95_ms", "hybrid p95 ms", "{:.1f}"),
)


def format_table(results: Sequence[dict[str, Any]]) -> str:
    """A plain-text table of the headline fields, one row per size."""
    head = [c[1] for c in _COLUMNS]
    rows = [[("-" if r.get(k) is None else fmt.format(r[k])) for k, _, fmt in _COLUMNS] for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in rows]
    for r in results:
        lines.append(f"  {r['clauses']:,}: stages " + ", ".join(f"{k} {v:.1f}s" for k, v in r["stages_s"].items()))
        tp = r.get("tokenise_profile")
        if tp:
            lines.append(
                f"  {r['clauses']:,}: tokenising {tp['cpu_ms_per_clause']:.3f} ms CPU per clause (MeCab parse "
                f"{tp['mecab_parse_ms_per_clause']:.3f}, jieba {tp['jieba_cut_ms_per_clause']:.3f}, policyidx Python "
                f"{tp['policyidx_python_ms_per_clause']:.3f}) = {tp['clauses_per_s_per_core']:,} clauses/s per core"
            )
        kp = r.get("keyword_peers")
        if kp:
            lines.append(f"  {r['clauses']:,}: keyword q/s on one thread (k1 = 1.2), same top 10 as exhaustive: "
                         + ", ".join(f"{name} {e['qps']:,.0f} ({e['same_top10']:.2f})"
                                     for name, e in kp["engines"].items() if "qps" in e))
        if r.get("keyword_postings_per_query") is not None:
            lines.append(
                f"  {r['clauses']:,}: keyword search reads {r['keyword_postings_per_query']:,} postings per query in "
                f"{r['keyword_mean_ms']:.2f} ms ({r['keyword_ns_per_posting']:.2f} ns each); reading them at "
                f"{r['stream_read_gbps']:.1f} GB/s would take {r['keyword_floor_ms']:.3g} ms"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m policyidx.bench [--clauses N]... [--json] [--out FILE]``."""
    ap = argparse.ArgumentParser(prog="policyidx bench", description=__doc__.splitlines()[0])
    ap.add_argument("--clauses", type=int, action="append", metavar="N",
                    help="synthetic corpus size (repeatable; default 10000 100000 1000000)")
    ap.add_argument("--queries", type=int, default=200, help="queries per size (default 200)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None, help="tokenising/encoding processes (default: CPUs)")
    ap.add_argument("--fit-sample", type=int, default=100_000, help="clauses the encoder is fitted on")
    ap.add_argument("--ann", choices=("ivf", "hnsw"), default="ivf", help="approximate index above 50k rows")
    ap.add_argument("--nprobe", type=int, default=32, help="IVF cells probed per query")
    ap.add_argument("--no-peers", action="store_true", help="skip bm25s and rank_bm25")
    ap.add_argument("--rank-bm25-max", type=int, default=100_000, help="largest size to run rank_bm25 at")
    ap.add_argument("--workdir", help="build indexes here (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the built indexes")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--out", help="also write the JSON results to this file")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    ap.add_argument("--probe-open", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.probe_open:
        print(json.dumps(_probe_open(args.probe_open)))
        return 0
    try:
        results = run_bench(
            tuple(args.clauses or DEFAULT_SIZES), seed=args.seed, progress=not args.quiet,
            n_queries=args.queries, workers=args.workers, fit_sample=args.fit_sample, ann=args.ann,
            nprobe=args.nprobe, peers=not args.no_peers, rank_bm25_max=args.rank_bm25_max,
            workdir=args.workdir, keep=args.keep,
        )
    except PolicyIdxError as exc:
        print(f"policyidx bench: error: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(results, ensure_ascii=False, indent=1)
    if args.out:
        out = Path(args.out)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, out)
    print(text if args.json else format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
