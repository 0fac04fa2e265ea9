"""Keyword search side by side with its peers, on real and on synthetic clauses.

Every engine gets the same analysed tokens (:func:`policyidx.text.analysis.analyze`, distinct
terms of each query, weight 1) and the same BM25 parameters (Lucene variant, k1 = 1.2,
b = 0.75: tantivy's fixed values), and returns its top 10:

* **policyidx** -- :class:`policyidx.retrieval.keyword.BM25Index` with the compiled kernels
  (:mod:`policyidx.retrieval._kernels`, numba) when installed, one thread (``search_many(threads=1)``)
  and a thread per core (``threads=workers``);
* **bm25s** with its ``numba`` backend (its fastest documented path) and its default
  ``numpy`` backend, on one thread and on ``workers`` threads;
* **tantivy** (Rust, block-max WAND), fed the tokens joined by spaces through its
  ``whitespace`` tokenizer, queried with a disjunction of term queries and ``count=False``
  (counting every match would switch its pruning off); one query at a time;
* **rank_bm25** (``BM25Okapi``, pure Python and numpy; another idf, so it is not expected
  to agree) on a few queries up to ``--rank-bm25-max`` clauses.

Agreement with exhaustive scoring: each engine's top 10 is compared (tie-aware, see
:func:`_agree`) with policyidx's numpy/scipy path, which reads every
posting of every query term and ranks all touched rows (no pruning, no numba).

Corpora: ``real`` -- the paragraphs of the documents in ``../shared/realdocs`` (or
``--realdocs`` / ``$POLICYIDX_REALDOCS``): every non-empty body line after the
``<!-- INFO END -->`` line that is not a heading is one clause.  Below the collection's size a
clause count is met with whole documents in a seeded random order; above it, with K copies
of the collection (the vocabulary then stops growing).  Queries: fragments of 6-30
characters of clauses drawn with the seed, and a few hand-written ones.  ``synthetic`` --
:func:`policyidx.bench.scale.synthesize`.

Timings: the machine may be shared, so engines run interleaved in one process: ``--repeats``
passes; within a pass the engines take turns in slices of about ``--slice-s`` seconds (as many
runs over their queries as fit, at least one) until each has run ``--min-pass-s`` seconds, so
that all of them see the same, changing, load; the median of the passes is reported.  The
garbage collector is off while a pass runs.  The 1-minute load average at the start and end of each size is recorded
(``loadavg_start``/``loadavg_end``, the table's ``load`` column): figures taken under a load
near or above the number of cores are slower for every engine, not only for one.

``--cold-mb MB`` adds single-thread rates on a cold cache (``cold_qps``, the table's ``cold
ratio``): before each timed run, untimed, a buffer of MB megabytes is written, as other
processes do to the caches between this process's time slices on a loaded machine.

Run it with ``python -m policyidx.bench.peers [--corpus real|synthetic]... [--clauses N]...``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import PolicyIdxError

__all__ = ["KeywordCorpus", "realdocs_dir", "real_clauses", "real_corpus", "synthetic_corpus", "compare",
           "run", "main"]

K1, B = 1.2, 0.75
DEFAULT_SIZES = (2_000, 10_000, 100_000, 1_000_000)

#: Hand-written queries for the real collection (topics of Chinese legal texts); the rest of
#: the query set is drawn from the clauses.
HAND_QUERIES = (
    "劳动合同的解除和终止",
    "行政处罚听证程序",
    "个人信息保护",
    "环境影响评价文件审批",
    "知识产权侵权赔偿数额",
    "食品安全标准",
    "未成年人监护",
    "土地承包经营权流转",
    "税收征收管理",
    "政府信息公开申请",
    "消费者权益保护 惩罚性赔偿",
    "安全生产责任制",
)


@dataclass
class KeywordCorpus:
    """Analysed clauses in CSR form and analysed queries.

    ``doc_ptr``/``term_ids`` hold the terms of each clause (ids into ``vocab``); ``queries``
    the distinct terms of each query (strings); ``query_texts`` the query strings.
    """

    name: str
    doc_ptr: np.ndarray
    term_ids: np.ndarray
    vocab: list[str]
    queries: list[list[str]]
    query_texts: list[str]
    note: str = ""

    def __len__(self) -> int:
        return len(self.doc_ptr) - 1


# ----------------------------------------------------------------------------- corpora


def realdocs_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The real-document collection: ``path``, else ``$POLICYIDX_REALDOCS``, else
    ``../shared/realdocs`` beside the repository (or the working directory), else
    ``/work/shared/realdocs``.

    Raises
    ------
    PolicyIdxError
        If none of them is a directory.
    """
    repo = Path(__file__).resolve().parents[2]
    candidates = [path, os.environ.get("POLICYIDX_REALDOCS"), repo.parent / "shared" / "realdocs",
                  Path.cwd().parent / "shared" / "realdocs", "/work/shared/realdocs"]
    tried = []
    for c in candidates:
        if c:
            tried.append(str(c))
            if Path(c).is_dir():
                return Path(c)
        if path:
            break  # an explicit path that is missing is an error, not a reason to look elsewhere
    raise PolicyIdxError(f"no real-document collection found (tried {', '.join(tried)}); pass --realdocs DIR "
                         "or set POLICYIDX_REALDOCS")


def real_clauses(root: Path) -> tuple[list[str], list[int]]:
    """The clauses of the collection and the document number of each.

    Every ``.md`` file (sorted by path) is one document; after its ``<!-- INFO END -->`` line
    (or from the top when there is none), each non-empty line that is not a ``#`` heading is
    one clause.  Files that cannot be decoded as UTF-8 are skipped with a warning on stderr.
    """
    texts: list[str] = []
    doc_of: list[int] = []
    files = sorted(p for p in root.rglob("*.md") if p.name.lower() != "readme.md")
    d = -1
    for path in files:
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"[bench.peers] skipping {path}: {exc}", file=sys.stderr)
            continue
        d += 1
        cut = raw.find("<!-- INFO END -->")
        body = raw[cut + len("<!-- INFO END -->"):] if cut >= 0 else raw
        for line in body.splitlines():
            s = line.strip().strip("\u200b\ufeff").strip()
            if s and not s.startswith("#"):
                texts.append(s)
                doc_of.append(d)
    if not texts:
        raise PolicyIdxError(f"no clauses found under {root} (expected .md files of the real collection)")
    return texts, doc_of


def _fingerprint(*parts: Any) -> str:
    """A cache key of the texts and of the analyser's code (a change to it re-tokenises)."""
    from ..text import analysis

    code = Path(analysis.__file__).read_bytes()
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode() + code).hexdigest()[:16]


def _tokenize_cached(texts: Sequence[str], langs: Sequence[str], cache: Path | None, key: str,
                     workers: int, progress: bool) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from ..parallel import tokenize_parallel

    if cache is not None:
        f = cache / f"tokens-{key}.npz"
        v = cache / f"vocab-{key}.json"
        if f.is_file() and v.is_file():
            with np.load(f, allow_pickle=False) as z:
                return z["doc_ptr"], z["term_ids"], json.loads(v.read_text(encoding="utf-8"))
    if progress:
        print(f"[bench.peers] tokenising {len(texts):,} clauses on {workers} processes...", file=sys.stderr,
              flush=True)
    doc_ptr, term_ids, vocab = tokenize_parallel(list(texts), list(langs), workers=workers, tmp=None)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cache / f".tokens-{key}.tmp.npz"
        np.savez(tmp, doc_ptr=doc_ptr, term_ids=term_ids)
        os.replace(tmp, cache / f"tokens-{key}.npz")
        (cache / f".vocab-{key}.tmp").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        os.replace(cache / f".vocab-{key}.tmp", cache / f"vocab-{key}.json")
    return doc_ptr, term_ids, vocab


def _fragments(texts: Sequence[str], rows: Sequence[int], n: int, rng: random.Random) -> list[str]:
    """``n`` queries cut from the texts at ``rows``: 6-30 characters from a random place,
    with at least one letter or digit (``texts`` needs only ``__getitem__``)."""
    out: list[str] = []
    tries = 0
    while len(out) < n and tries < 100 * n:
        tries += 1
        text = texts[rows[rng.randrange(len(rows))]]
        length = rng.randint(6, 30)
        start = rng.randrange(max(1, len(text) - length + 1))
        frag = text[start: start + length].strip()
        if len(frag) >= 6 and any(ch.isalnum() for ch in frag):
            out.append(frag)
    return out


def _analysed(queries: Sequence[str], lang: str | None) -> list[list[str]]:
    from ..text.analysis import analyze

    return [list(dict.fromkeys(analyze(q, lang))) for q in queries]


def _take_rows(doc_ptr: np.ndarray, term_ids: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The CSR sub-corpus of ``rows`` (in that order)."""
    lens = (doc_ptr[rows + 1] - doc_ptr[rows]).astype(np.int64)
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lens, out=ptr[1:])
    starts = np.repeat(doc_ptr[rows] - ptr[:-1], lens)
    idx = np.arange(int(ptr[-1]), dtype=np.int64) + starts
    return ptr, term_ids[idx]


def real_corpus(n: int, *, root: Path, seed: int = 0, n_queries: int = 200, workers: int = 1,
                cache: Path | None = None, progress: bool = True) -> KeywordCorpus:
    """``n`` clauses of the real collection (whole documents, or K copies) and queries from them.

    Parameters
    ----------
    n : int
        Clauses wanted.
    root : Path
        The collection (:func:`realdocs_dir`).
    seed : int
        Order of documents and choice of query fragments.
    n_queries : int
        Queries: the hand-written ones, then fragments of the chosen clauses.
    workers : int
        Tokenising processes (the whole collection is tokenised once and cached).
    cache : Path, optional
        Directory for the tokenised collection.
    progress : bool
        Report tokenising on stderr.

    Returns
    -------
    KeywordCorpus
    """
    texts, doc_of = real_clauses(root)
    key = _fingerprint("real", len(texts), sum(map(len, texts)), texts[:: max(1, len(texts) // 1000)])
    doc_ptr, term_ids, vocab = _tokenize_cached(texts, ["zh"] * len(texts), cache, key, workers, progress)
    total = len(texts)
    rng = random.Random(seed)
    if n <= total:
        docs = np.asarray(doc_of)
        order = list(range(int(docs.max()) + 1))
        rng.shuffle(order)
        starts = np.searchsorted(docs, order, side="left")
        ends = np.searchsorted(docs, order, side="right")
        rows_l: list[np.ndarray] = []
        got = 0
        for a, b in zip(starts, ends):
            if got >= n:
                break
            rows_l.append(np.arange(a, min(b, a + n - got)))
            got += len(rows_l[-1])
        rows = np.concatenate(rows_l)
        note = f"{len(rows_l)} whole documents of {int(docs.max()) + 1}"
    else:
        copies = -(-n // total)
        rows = np.tile(np.arange(total), copies)[:n]
        note = f"{copies} copies of all {int(max(doc_of)) + 1} documents ({total:,} clauses)"
    ptr, ids = _take_rows(doc_ptr, term_ids, rows)
    # the vocabulary of the clauses taken, as an index built on them alone would have
    used, ids = np.unique(ids, return_inverse=True)
    vocab = [vocab[t] for t in used.tolist()]
    hand = list(HAND_QUERIES[:n_queries])
    q_texts = hand + _fragments(texts, rows.tolist(), n_queries - len(hand), rng)
    return KeywordCorpus("real", ptr, ids, vocab, _analysed(q_texts, "zh"), q_texts, note)


def synthetic_corpus(n: int, *, seed: int = 0, n_queries: int = 200, workers: int = 1,
                     cache: Path | None = None, progress: bool = True) -> KeywordCorpus:
    """:func:`policyidx.bench.scale.synthesize` clauses, analysed (cached under ``cache``)."""
    from .scale import synthesize

    syn = synthesize(n, seed=seed, n_queries=n_queries)
    key = _fingerprint("synthetic", n, seed, syn.texts[:: max(1, n // 1000)])
    doc_ptr, term_ids, vocab = _tokenize_cached(syn.texts, syn.langs, cache, key, workers, progress)
    return KeywordCorpus("synthetic", doc_ptr, term_ids, vocab, _analysed(syn.queries, None), list(syn.queries),
                         "bench.scale.synthesize: real sentences of the bundled corpus recombined")


# ----------------------------------------------------------------------------- engines


Hits = list[tuple[np.ndarray, np.ndarray]]


class _Engine:
    name = ""
    version = ""
    backend = ""
    batch = False  # has a multi-threaded batch mode

    def build(self, corpus: KeywordCorpus) -> None:
        raise NotImplementedError

    def run(self, queries: list[list[str]], threads: int) -> Any:
        """Answer the queries (this is what is timed)."""
        raise NotImplementedError

    def hits(self, raw: Any) -> Hits:
        """Turn :meth:`run`'s output into (rows, scores) per query (not timed)."""
        return raw


class _Policyidx(_Engine):
    name = "policyidx"
    batch = True

    def __init__(self, exhaustive: bool = False) -> None:
        from .. import __version__
        from ..retrieval import keyword

        self.exhaustive = exhaustive
        self.version = __version__
        kernels = keyword._kernels(wait=True)
        if exhaustive:
            self.name, self.backend = "exhaustive", "policyidx numpy/scipy path, every posting"
        elif kernels is not None:
            import numba

            self.backend = (f"numba {numba.__version__} kernels, MaxScore, columns for terms in half the rows, "
                            "query terms resolved by hash, uint16 rows up to 65,536 rows")
        else:
            self.backend = "numpy/scipy (numba not installed)"

    def build(self, corpus: KeywordCorpus) -> None:
        from ..retrieval.keyword import BM25Index

        self.index = BM25Index.from_ids(corpus.doc_ptr, corpus.term_ids, corpus.vocab, k1=K1, b=B)
        self.index.max_impact  # noqa: B018 - computed at build time, as save() stores it

    def run(self, queries: list[list[str]], threads: int) -> Hits:
        from ..retrieval import keyword

        if not self.exhaustive:
            return self.index.search_many(queries, k=10, threads=threads)
        saved = keyword._USE_KERNELS
        keyword._USE_KERNELS = False
        try:
            return self.index.search_many(queries, k=10, threads=1)
        finally:
            keyword._USE_KERNELS = saved


class _Bm25s(_Engine):
    batch = True

    def __init__(self, backend: str) -> None:
        import bm25s

        self.backend = backend
        self.name = f"bm25s-{backend}"
        self.version = bm25s.__version__

    def build(self, corpus: KeywordCorpus) -> None:
        import bm25s
        from types import SimpleNamespace

        from ..parallel import TermLists

        self.vocab = {t: i for i, t in enumerate(corpus.vocab)}
        tokenized = SimpleNamespace(ids=TermLists(corpus.doc_ptr, corpus.term_ids, None), vocab=self.vocab)
        self.model = bm25s.BM25(method="lucene", k1=K1, b=B, backend=self.backend)
        self.model.index(tokenized, show_progress=False)

    def run(self, queries: list[list[str]], threads: int) -> Any:
        return self.model.retrieve(queries, k=10, show_progress=False, n_threads=threads)

    def hits(self, raw: Any) -> Hits:
        rows, scores = raw
        out = []
        for r, s in zip(rows, scores):
            pos = s > 0  # bm25s pads with zero-score rows when fewer than k match
            out.append((r[pos].astype(np.int64), s[pos].astype(np.float32)))
        return out


class _Tantivy(_Engine):
    name = "tantivy"

    def __init__(self) -> None:
        import tantivy

        self.version = tantivy.__version__ if hasattr(tantivy, "__version__") else "?"
        self.backend = "Rust, block-max WAND, whitespace tokenizer, count=False"

    def build(self, corpus: KeywordCorpus) -> None:
        import tantivy

        sb = tantivy.SchemaBuilder()
        sb.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
        sb.add_unsigned_field("row", stored=True, indexed=False, fast=True)
        self.schema = sb.build()
        self.index = tantivy.Index(self.schema)
        writer = self.index.writer(heap_size=512 * 2**20, num_threads=1)
        vocab = corpus.vocab
        ptr, ids = corpus.doc_ptr, corpus.term_ids
        for i in range(len(corpus)):
            text = " ".join([vocab[t] for t in ids[ptr[i]: ptr[i + 1]].tolist()])
            doc = tantivy.Document()
            doc.add_text("body", text)
            doc.add_unsigned("row", i)  # Document(row=i) would make it a signed column
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()
        self.known = set(vocab)

    def run(self, queries: list[list[str]], threads: int) -> Any:
        import tantivy

        out = []
        schema, searcher = self.schema, self.searcher
        should = tantivy.Occur.Should
        for terms in queries:
            q = tantivy.Query.boolean_query(
                [(should, tantivy.Query.term_query(schema, "body", t, index_option="freq")) for t in terms])
            out.append(searcher.search(q, 10, count=False).hits)
        return out

    def hits(self, raw: Any) -> Hits:
        out = []
        for hits in raw:
            rows = [self.searcher.doc(addr)["row"][0] for _, addr in hits]
            out.append((np.asarray(rows, dtype=np.int64), np.asarray([s for s, _ in hits], dtype=np.float32)))
        return out


class _RankBm25(_Engine):
    name = "rank_bm25"

    def __init__(self) -> None:
        from importlib.metadata import version

        self.version = version("rank_bm25")
        self.backend = "BM25Okapi (another idf), Python + numpy"

    def build(self, corpus: KeywordCorpus) -> None:
        from rank_bm25 import BM25Okapi

        from ..parallel import TermLists

        self.model = BM25Okapi(list(TermLists(corpus.doc_ptr, corpus.term_ids, corpus.vocab)), k1=K1, b=B)

    def run(self, queries: list[list[str]], threads: int) -> Hits:
        out = []
        for q in queries:
            sc = self.model.get_scores(q).astype(np.float32)
            top = np.argpartition(-sc, min(10, len(sc) - 1))[:10]
            top = top[np.lexsort((top, -sc[top]))]
            top = top[sc[top] > 0]
            out.append((top.astype(np.int64), sc[top]))
        return out


def _engines(names: Sequence[str]) -> list[_Engine]:
    made: list[_Engine] = []
    for name in names:
        try:
            if name == "bm25s-numba":
                import numba  # noqa: F401 - bm25s's numba backend needs it

                made.append(_Bm25s("numba"))
            elif name == "bm25s-numpy":
                made.append(_Bm25s("numpy"))
            elif name == "tantivy":
                made.append(_Tantivy())
            elif name == "rank_bm25":
                made.append(_RankBm25())
            else:
                raise PolicyIdxError(f"unknown peer {name!r}")
        except ImportError as exc:
            print(f"[bench.peers] {name} skipped: {exc} (pip install 'policyidx[bench]')", file=sys.stderr)
    return made


PEERS = ("bm25s-numba", "bm25s-numpy", "tantivy", "rank_bm25")


# ----------------------------------------------------------------------------- comparing


def stream_gbps(mb: int = 512) -> float:
    """Sequential read bandwidth of this machine in GB/s (best of 3 scans of ``mb`` MB): the
    floor that keyword search's ns per posting is compared with (here and in ``bench.scale``)."""
    arr = np.ones(mb * 2**20 // 4, dtype=np.float32)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        arr.max()
        best = min(best, time.perf_counter() - t0)
    return round(arr.nbytes / best / 1e9, 1)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time of ``fn()`` with the garbage collector off (as :mod:`timeit` does): a full
    collection over the peers' millions of Python objects would otherwise land in whichever
    engine happens to allocate at that moment."""
    import gc

    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        out = fn()
        return time.perf_counter() - t0, out
    finally:
        gc.enable()


def _interleaved(jobs: dict[Any, Callable[[], Any]], min_s: float, slice_s: float) -> dict[Any, tuple[int, float]]:
    """Time the jobs in rounds, each round giving every job about ``slice_s`` seconds (as many
    runs as fit, at least one), until each has run for ``min_s`` seconds in all; (runs, seconds)
    per job.  On a shared machine the load changes from second to second: jobs timed in turn
    in short slices see the same load, where one long pass per job would each see another.
    A job that has had its time leaves the rounds.  The garbage collector is off meanwhile."""
    import gc

    spent = {k: [0, 0.0] for k in jobs}
    per_run = {k: 0.0 for k in jobs}
    gc.collect()
    gc.disable()
    try:
        while True:
            left = [k for k in jobs if spent[k][1] < min_s]
            if not left:
                break
            for k in left:
                n = max(1, int(slice_s / per_run[k])) if per_run[k] > 0 else 1
                t0 = time.perf_counter()
                for _ in range(n):
                    jobs[k]()
                t = time.perf_counter() - t0
                spent[k][0] += n
                spent[k][1] += t
                per_run[k] = spent[k][1] / spent[k][0]
    finally:
        gc.enable()
    return {k: (v[0], v[1]) for k, v in spent.items()}


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):  # pragma: no cover - not on every platform
        return None


def compare(corpus: KeywordCorpus, *, peers: Sequence[str] = PEERS, repeats: int = 5, workers: int = 2,
            rank_bm25_max: int = 10_000, rank_bm25_queries: int = 20, min_pass_s: float = 0.5,
            max_pass_s: float = 3.0, slice_s: float = 0.02, progress: bool = True, cold_mb: int = 0,
            cold_runs: int = 30) -> dict[str, Any]:
    """Build every engine on ``corpus`` and time them interleaved; one result dict.

    Parameters
    ----------
    corpus : KeywordCorpus
        Clauses and queries (queries without any indexed term are dropped for everyone).
    peers : sequence of str
        Among :data:`PEERS`.
    repeats : int
        Timed passes per engine, interleaved (engine after engine, pass after pass); the
        median of each engine's passes is reported.
    workers : int
        Threads of the batch runs.
    rank_bm25_max, rank_bm25_queries : int
        rank_bm25 runs up to this many clauses, on this many queries.
    min_pass_s : float
        Seconds each engine (single-thread, and batch) runs per pass, in slices taken in turn
        with the other engines (:func:`_interleaved`).
    slice_s : float
        Length of one slice: as many runs over the engine's queries as fit (at least one).
    max_pass_s : float
        An engine whose warm-up run over all queries takes longer than this is timed on the
        first queries only (as many as fit in this time, at least ``rank_bm25_queries``);
        ``queries_timed`` says how many.
    progress : bool
        Report stages on stderr.
    cold_mb : int
        If positive, also time each engine's single-thread runs on a cold cache: before each
        of ``cold_runs`` runs (engines in turn) a buffer of this many MB is written, which
        evicts the caches as other processes do between a process's time slices on a loaded
        machine; ``cold_qps`` (median of the runs) per engine.
    cold_runs : int
        Cold runs per engine.

    Returns
    -------
    dict
        ``engines`` (name -> version, backend, build_s, qps, batch_qps, same_top10), and for
        policyidx the latency of single searches, postings per query, ns per posting and the
        bandwidth floor.
    """
    n = len(corpus)
    known = set(corpus.vocab)
    queries = [[t for t in q if t in known] for q in corpus.queries]
    queries = [q for q in queries if q]
    res: dict[str, Any] = {"corpus": corpus.name, "clauses": n, "note": corpus.note, "queries": len(queries),
                           "vocab": len(corpus.vocab), "tokens": int(len(corpus.term_ids)), "k1": K1, "b": B,
                           "workers": workers, "repeats": repeats, "min_pass_s": min_pass_s, "slice_s": slice_s,
                           "loadavg_start": _load()}

    def say(msg: str) -> None:
        if progress:
            print(f"[bench.peers] {corpus.name} {n:,}: {msg}", file=sys.stderr, flush=True)

    ours = _Policyidx()
    ref = _Policyidx(exhaustive=True)
    engines: list[_Engine] = [ours] + _engines([p for p in peers if p != "rank_bm25" or n <= rank_bm25_max])
    info: dict[str, dict[str, Any]] = {}
    for e in [ref] + engines:
        say(f"building {e.name}")
        t, _ = _timed(lambda: e.build(corpus))
        info[e.name] = {"version": e.version, "backend": e.backend, "build_s": round(t, 2)}
    res["postings"] = ours.index.n_postings

    say("exhaustive reference")
    reference = ref.run(queries, 1)
    sample: dict[str, list[list[str]]] = {}
    for e in engines:  # warm-up (JIT compile, caches, thread pools) and agreement
        probe = queries[:rank_bm25_queries]
        e.run(probe[:2], 1)  # compile, load
        t, _ = _timed(lambda: e.run(probe, 1))
        fit = int(len(probe) / max(t, 1e-9) * max_pass_s)
        sample[e.name] = queries if fit >= len(queries) else queries[: max(len(probe), fit)]
        info[e.name]["queries_timed"] = len(sample[e.name])
        got = e.hits(e.run(sample[e.name], 1))
        if e.batch:
            e.run(sample[e.name], workers)
        same = sum(_agree(a, b, q, ref.index) for a, b, q in zip(got, reference, queries))
        overlap = [len(set(a[0].tolist()) & set(b[0].tolist())) / max(1, len(b[0])) for a, b in zip(got, reference)]
        info[e.name]["same_top10"] = round(same / len(got), 4)
        info[e.name]["overlap_at_10"] = round(float(np.mean(overlap)), 4)
    times: dict[str, list[float]] = {e.name: [] for e in engines}
    batch_times: dict[str, list[float]] = {e.name: [] for e in engines if e.batch}
    jobs: dict[tuple[str, bool], Callable[[], Any]] = {}
    for e in engines:
        jobs[(e.name, False)] = (lambda e=e: e.run(sample[e.name], 1))
        if e.batch:
            jobs[(e.name, True)] = (lambda e=e: e.run(sample[e.name], workers))
    for rep in range(repeats):
        say(f"timing pass {rep + 1}/{repeats}")
        spent = _interleaved(jobs, min_pass_s, slice_s)
        for (name, batch), (runs, t) in spent.items():
            qps = runs * len(sample[name]) / t
            (batch_times if batch else times)[name].append(qps)
    for name, qs in times.items():
        info[name]["qps"] = round(statistics.median(qs), 1)
        info[name]["qps_all"] = [round(q, 1) for q in qs]
    for name, qs in batch_times.items():
        info[name]["batch_qps"] = round(statistics.median(qs), 1)
        info[name]["batch_qps_all"] = [round(q, 1) for q in qs]
    res["engines"] = info
    timed_peers = [k for k in times if k != "policyidx"]
    if timed_peers:
        res["fastest_peer"] = max(timed_peers, key=lambda k: info[k]["qps"])
        res["policyidx_vs_fastest_peer"] = round(info["policyidx"]["qps"] / info[res["fastest_peer"]]["qps"], 2)
    if "bm25s-numba" in batch_times:
        res["policyidx_batch_vs_bm25s_batch"] = round(
            info["policyidx"]["batch_qps"] / max(info["bm25s-numba"]["batch_qps"],
                                                 info.get("bm25s-numpy", {}).get("batch_qps", 0)), 2)
    # latency of one search() call (each query once, then again: the median of the two
    # passes' latencies per query), and where the time goes
    idx = ours.index
    import gc

    gc.collect()
    gc.disable()
    try:
        lat = []
        for _ in range(2):
            for q in queries:
                t0 = time.perf_counter()
                idx.search(q, k=10)
                lat.append(time.perf_counter() - t0)
    finally:
        gc.enable()
    lat_ms = np.asarray(lat) * 1000
    res["policyidx_search_p50_ms"] = round(float(np.percentile(lat_ms, 50)), 4)
    res["policyidx_search_p95_ms"] = round(float(np.percentile(lat_ms, 95)), 4)
    lens = np.diff(idx.indptr)
    postings = np.array([sum(int(lens[idx.term_ids[t]]) for t in q) for q in queries], dtype=np.float64)
    idx.search_many(queries, k=10, threads=1)
    work = getattr(idx._local, "work", None)
    mean_s = 1.0 / info["policyidx"]["qps"]
    res["postings_per_query"] = round(float(postings.mean()))
    if work is not None:
        res["postings_read_per_query"] = round(float(work[:, 0].mean()))
        res["lookups_per_query"] = round(float(work[:, 1].mean()))
    res["ns_per_posting"] = round(mean_s * 1e9 / max(1.0, float(postings.mean())), 3)
    res["stream_read_gbps"] = stream_gbps(256)
    floor_s = postings.mean() * 8 / (res["stream_read_gbps"] * 1e9)
    res["floor_ms"] = float(f"{floor_s * 1000:.3g}")
    res["mean_ms"] = round(mean_s * 1000, 4)
    res["time_over_floor"] = round(mean_s / floor_s, 2) if floor_s > 0 else None
    if cold_mb > 0:
        say(f"cold-cache runs ({cold_mb} MB written before each)")
        cold = _cold({name: jobs[(name, False)] for name in times}, cold_mb, cold_runs)
        for name, secs in cold.items():
            info[name]["cold_qps"] = round(len(sample[name]) / statistics.median(secs), 1)
        res["cold_mb"] = cold_mb
        if timed_peers:
            fastest = max(timed_peers, key=lambda k: info[k]["cold_qps"])
            res["policyidx_cold_vs_fastest_peer"] = round(info["policyidx"]["cold_qps"] / info[fastest]["cold_qps"], 2)
    res["loadavg_end"] = _load()
    return res


def _cold(jobs: dict[str, Callable[[], Any]], mb: int, runs: int) -> dict[str, list[float]]:
    """Seconds of each of ``runs`` runs per job, every run preceded (untimed) by writing ``mb`` MB,
    the jobs taking turns; the garbage collector is off meanwhile."""
    import gc

    junk = np.zeros(mb * 2**20 // 8, dtype=np.float64)
    out: dict[str, list[float]] = {k: [] for k in jobs}
    gc.collect()
    gc.disable()
    try:
        for _ in range(runs):
            for name, job in jobs.items():
                junk += 1.0
                t0 = time.perf_counter()
                job()
                out[name].append(time.perf_counter() - t0)
    finally:
        gc.enable()
    return out


def _agree(got: tuple[np.ndarray, np.ndarray], want: tuple[np.ndarray, np.ndarray], query: list[str],
           index: Any, tol: float = 1e-4) -> bool:
    """Whether ``got``'s rows are the exhaustive top 10 ``want``, up to ties at the 10th place.

    Rows are compared, not scores: engines that quantise document lengths (tantivy) score a
    little differently but may still rank the same.  A returned row missing from ``want``
    is accepted when its exhaustive score equals the 10th exhaustive score (to ``tol``).
    """
    g, w = set(got[0].tolist()), set(want[0].tolist())
    if len(got[0]) != len(want[0]) or len(g) != len(got[0]):
        return False
    extra = sorted(g - w)
    if not extra:
        return True
    kth = float(want[1][-1])
    sc = index.score(query, np.asarray(extra, dtype=np.int64))
    return bool(np.all(np.abs(sc - kth) <= tol * max(1.0, abs(kth))))


# ----------------------------------------------------------------------------- driver


def run(corpora: Sequence[str] = ("real", "synthetic"), sizes: Sequence[int] = DEFAULT_SIZES, *,
        realdocs: str | None = None, seed: int = 0, n_queries: int = 200, repeats: int = 5,
        workers: int | None = None, peers: Sequence[str] = PEERS, rank_bm25_max: int = 10_000,
        min_pass_s: float = 0.5, max_pass_s: float = 3.0, slice_s: float = 0.02,
        cache: str | os.PathLike[str] | None = None, progress: bool = True, cold_mb: int = 0,
        on_result: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """:func:`compare` at every size of every corpus; see the module docstring."""
    from ..parallel import default_workers

    workers = workers or default_workers()
    cache_dir = Path(cache) if cache else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / \
        "policyidx" / "bench"
    root = realdocs_dir(realdocs) if "real" in corpora else None
    out = []
    for name in corpora:
        for n in sizes:
            if name == "real":
                assert root is not None
                corpus = real_corpus(n, root=root, seed=seed, n_queries=n_queries, workers=workers,
                                     cache=cache_dir, progress=progress)
            elif name == "synthetic":
                corpus = synthetic_corpus(n, seed=seed, n_queries=n_queries, workers=workers, cache=cache_dir,
                                          progress=progress)
            else:
                raise PolicyIdxError(f"unknown corpus {name!r}; use real or synthetic")
            res = compare(corpus, peers=peers, repeats=repeats, workers=workers, rank_bm25_max=rank_bm25_max,
                          min_pass_s=min_pass_s, max_pass_s=max_pass_s, slice_s=slice_s,
                          progress=progress, cold_mb=cold_mb)
            out.append(res)
            if on_result:
                on_result(res)
            if progress:
                print(format_table([res]), file=sys.stderr, flush=True)
    return out


def _load_cell(r: dict[str, Any]) -> str:
    a, b = r.get("loadavg_start"), r.get("loadavg_end")
    return f"{a[0]:.1f}-{b[0]:.1f}" if a and b else "?"


def format_table(results: Sequence[dict[str, Any]]) -> str:
    """A markdown table: one row per corpus and size, single-thread QPS of each engine, then batch."""
    names: list[str] = []
    for r in results:
        names += [k for k, v in r["engines"].items() if k not in names and "qps" in v]
    cold = any("policyidx_cold_vs_fastest_peer" in r for r in results)
    head = ["corpus", "clauses", "postings/q"] + [f"{n} q/s" for n in names] + \
        ["ours/fastest"] + (["cold ratio"] if cold else []) + \
        ["ours batch", "bm25s batch", "batch ratio", "ns/posting", "x floor", "p50 ms", "load"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        e = r["engines"]
        cells = [r["corpus"], f"{r['clauses']:,}", f"{r['postings_per_query']:,}"]
        for n in names:
            v = e.get(n)
            cells.append("-" if v is None else f"{v['qps']:,.0f} ({v['same_top10']:.2f})")
        bb = max([e[n]["batch_qps"] for n in ("bm25s-numba", "bm25s-numpy") if n in e] or [0])
        cells.append(f"{r.get('policyidx_vs_fastest_peer', 0):.2f}")
        if cold:
            cells.append(f"{r['policyidx_cold_vs_fastest_peer']:.2f}" if "policyidx_cold_vs_fastest_peer" in r else "-")
        cells += [f"{e['policyidx']['batch_qps']:,.0f}",
                  f"{bb:,.0f}" if bb else "-", f"{r.get('policyidx_batch_vs_bm25s_batch', 0):.2f}",
                  f"{r['ns_per_posting']:.2f}", f"{r['time_over_floor']}", f"{r['policyidx_search_p50_ms']:.3f}",
                  _load_cell(r)]
        lines.append("| " + " | ".join(cells) + " |")
    seen: dict[str, str] = {}
    for r in results:
        for name, v in r["engines"].items():
            seen.setdefault(name, f"{name} {v['version']} ({v['backend']})")
    if seen:
        lines.append("")
        lines.append("Engines: " + "; ".join(seen.values()) + ".")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m policyidx.bench.peers [--corpus C]... [--clauses N]... [--json] [--out FILE]``."""
    ap = argparse.ArgumentParser(prog="python -m policyidx.bench.peers", description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", action="append", choices=("real", "synthetic"),
                    help="corpus (repeatable; default real and synthetic)")
    ap.add_argument("--clauses", type=int, action="append", metavar="N",
                    help="size (repeatable; default 2000 10000 100000 1000000)")
    ap.add_argument("--realdocs", help="real collection (default $POLICYIDX_REALDOCS or ../shared/realdocs)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--workers", type=int, default=None, help="batch threads and tokenising processes")
    ap.add_argument("--peers", default=",".join(PEERS), help=f"comma-separated, among {','.join(PEERS)}")
    ap.add_argument("--rank-bm25-max", type=int, default=10_000)
    ap.add_argument("--min-pass-s", type=float, default=0.5,
                    help="seconds each engine runs per timed pass (default 0.5)")
    ap.add_argument("--slice-s", type=float, default=0.02,
                    help="engines take turns in slices of about this many seconds (default 0.02)")
    ap.add_argument("--max-pass-s", type=float, default=3.0,
                    help="engines slower than this per pass over all queries are timed on fewer (default 3)")
    ap.add_argument("--cache", help="directory for tokenised corpora (default ~/.cache/policyidx/bench)")
    ap.add_argument("--cold-mb", type=int, default=0, metavar="MB",
                    help="also time single-thread runs on a cold cache: write MB megabytes before each run")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--out", help="write the JSON results here (rewritten after each size)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    done: list[dict[str, Any]] = []

    def save(res: dict[str, Any]) -> None:
        done.append(res)
        if args.out:
            out = Path(args.out)
            tmp = out.with_name(f".{out.name}.tmp")
            tmp.write_text(json.dumps(done, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            os.replace(tmp, out)

    try:
        peers = [p for p in args.peers.split(",") if p]
        bad = [p for p in peers if p not in PEERS]
        if bad:
            raise PolicyIdxError(f"unknown peer(s) {', '.join(bad)}; choose among {', '.join(PEERS)}")
        results = run(tuple(args.corpus or ("real", "synthetic")), tuple(args.clauses or DEFAULT_SIZES),
                      realdocs=args.realdocs, seed=args.seed, n_queries=args.queries, repeats=args.repeats,
                      workers=args.workers, peers=peers, rank_bm25_max=args.rank_bm25_max, cache=args.cache,
                      min_pass_s=args.min_pass_s, max_pass_s=args.max_pass_s, slice_s=args.slice_s,
                      progress=not args.quiet, on_result=save, cold_mb=args.cold_mb)
    except PolicyIdxError as exc:
        print(f"policyidx bench.peers: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(results, ensure_ascii=False, indent=1) if args.json else format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
