"""Sharded indexes: built and searched on a Dask cluster, or in one process.

A sharded index is a directory of snapshots, as a single index is (:mod:`policyidx.index.store`:
``CURRENT``, ``build.lock``, ``snapshots/<n>/``), each snapshot holding::

    manifest.json        "layout": "sharded", the collection statistics, the shard list, and the
                         size and CRC32 of every file below (the shards' included)
    encoder/             the built-in encoder, fitted once for every shard (when it is the encoder)
    stats/               collection-wide document frequencies (vocab.json + df.npy)
    analyzer/            the segmenter state queries are analysed with
    shards/000/ ...      one normal policyidx index per shard (openable on its own), whose own
                         manifest lists its files' checksums for the worker that opens it

Documents are partitioned by work, so an original and its translations share a shard and are
aligned there.  Every shard's BM25 impacts are computed from the statistics of the whole
collection (number of clauses, average length, document frequencies), reduced across shards
before the keyword indexes are written, and every shard's vectors come from one encoder: a
query's keyword and dense scores on a shard are the scores a single index gives, so the
merged top k of the shards is the single index's top k.  The gloss index of a shard's
Chinese rows (:func:`policyidx.index.build.gloss_index`, for English queries) is written with
the collection's gloss statistics the same way.  Each shard also stores
``rows/global_row.npy``, the row each clause has in a single index of the same corpus, which
breaks ties the way a single index does.

The build runs as Dask tasks (``client`` given) or in this process (``client=None``), the same
functions either way: per shard, parse + tokenise; a tree reduction of the statistics; one fit
of the encoder on an even sample gathered from the shards; per shard, keyword index, vectors
and alignments.  The tasks read the corpus and write the index through a file system every
worker sees (a cluster file system on Slurm, a ReadWriteMany volume on Kubernetes).

A search analyses the query and encodes it once, sends the analysed terms and the query vector
to every shard, merges the per-shard top ``max(5k, 100)`` of each retriever into global
rankings, fuses those (reciprocal rank of global ranks, as a single index does), and fetches
the records of the final ``k`` hits from their shards for highlighting.  On a cluster each
shard is opened (memory-mapped) once on one worker and kept in that worker's cache; a query to
a shard whose worker is gone runs on another worker, which opens the shard there.

``dask`` and ``distributed`` are needed only for the cluster: ``pip install "policyidx[dask]"``.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .. import __version__
from .._io import atomic_directory
from ..errors import CorruptIndexError, IndexError_, MissingDependencyError, PolicyIdxError, QueryError, ShardError
from ..retrieval.encoders import DEFAULT_DIM

__all__ = ["ShardedIndex", "build_sharded", "plan_shards", "connect", "LAYOUT"]

#: ``manifest["layout"]`` of a sharded index (a single index has no ``layout`` key).
LAYOUT = "sharded"
SHARDED_FORMAT = 1
#: Seconds a search waits for a shard before failing with :class:`~policyidx.errors.ShardError`.
SEARCH_TIMEOUT = 120.0


# ----------------------------------------------------------------------------- cluster access


def connect(address: str, timeout: float = 10.0) -> Any:
    """A ``distributed.Client`` for the Dask scheduler at ``address`` (``tcp://host:8786``).

    Raises
    ------
    MissingDependencyError
        ``distributed`` is not installed.
    ShardError
        The scheduler cannot be reached.
    """
    Client = _distributed().Client
    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise ShardError(f"cannot reach the Dask scheduler at {address}: {exc}; start one with "
                         "`dask scheduler` (see README, runbook) or check the address") from exc


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise MissingDependencyError(
            "a Dask cluster needs dask and distributed: pip install \"policyidx[dask]\"") from exc
    return distributed


def _wire_size(obj: Any) -> int:
    """Bytes of ``obj`` as Dask serializes it for the network (its own messages not counted)."""
    from distributed.protocol.serialize import serialize_bytelist

    return sum(memoryview(f).nbytes for f in serialize_bytelist(obj))


def worker_addresses(client: Any, live: bool = False) -> list[str]:
    """The addresses of the client's workers: as last reported to the client (cheap), or as
    the scheduler knows them now (``live``, one round trip)."""
    if live:
        return sorted(client.nthreads())
    try:
        info = client.scheduler_info(n_workers=-1)  # all of them (newer distributed lists 5 by default)
    except TypeError:
        info = client.scheduler_info()
    return sorted(info["workers"])


class _Done:
    """The result of a task run in this process (quacks like a Dask future)."""

    def __init__(self, value: Any):
        self.value = value

    def result(self, timeout: float | None = None) -> Any:
        return self.value


class _Runner:
    """Runs the task functions: on a Dask client, or here and now when there is none."""

    def __init__(self, client: Any = None):
        self.client = client
        self.tag = uuid.uuid4().hex[:8]
        #: when a Counter: serialized bytes of task arguments ("sent") and results ("received")
        self.meter: Counter[str] | None = None

    @property
    def workers(self) -> list[str]:
        return worker_addresses(self.client) if self.client is not None else []

    def submit(self, fn: Callable[..., Any], *args: Any, name: str, worker: str | None = None) -> Any:
        if self.client is None:
            return _Done(fn(*[a.value if isinstance(a, _Done) else a for a in args]))
        kw: dict[str, Any] = {"key": f"policyidx-{name}-{self.tag}-{uuid.uuid4().hex[:6]}", "pure": False}
        if worker is not None:
            # a preference, not a pin: if the worker is gone the task runs on another one
            kw.update(workers=[worker], allow_other_workers=True)
        if self.meter is not None:
            self.meter["sent"] += _wire_size(args)
            self.meter["tasks"] += 1
        return self.client.submit(fn, *args, **kw)

    def results(self, futures: Sequence[Any], what: Sequence[str], timeout: float | None = None) -> list[Any]:
        """The futures' results; a failure becomes one :class:`ShardError` naming its task."""
        out = []
        for fut, label in zip(futures, what):
            try:
                out.append(fut.result(timeout=timeout))
                if self.meter is not None and self.client is not None:
                    self.meter["received"] += _wire_size(out[-1])
            except ShardError:
                raise
            except TimeoutError as exc:
                raise ShardError(f"{label}: no answer within {timeout:.0f} s (is a worker stuck or gone?)") from exc
            except Exception as exc:  # noqa: BLE001 - a remote failure of any kind, named
                name = type(exc).__name__
                if name == "KilledWorker":
                    raise ShardError(f"{label}: the workers running it died repeatedly ({exc})") from exc
                raise ShardError(f"{label}: {name}: {exc}") from exc
        return out

    def settle(self, futures: Sequence[Any], timeout: float = 600.0) -> None:
        """Wait until no task of ``futures`` runs any more, then release them.

        When a worker dies, Dask recomputes the results it held for every future the client
        still holds, possibly after the build has used them and moved on; such a late task would
        write into scratch space that is being removed, or into the index being assembled.
        Waiting for them and releasing them first leaves nothing to recompute.
        """
        if self.client is None or not futures:
            return
        from distributed import wait

        try:
            wait(list(futures), timeout=timeout)
        except Exception:  # noqa: BLE001 - a timeout or a failed task: released all the same
            pass
        self.client.cancel(list(futures))


# ----------------------------------------------------------------------------- planning


def plan_shards(catalog: Any, shards: int) -> list[list[str]]:
    """Partition a catalog's documents into ``shards`` groups of whole works.

    Works are placed largest first (by the bytes of their source files) on the lightest shard,
    so shards get about equal work; within a shard documents keep catalog order.  There are
    never more shards than works.

    Parameters
    ----------
    catalog
        A :class:`~policyidx.catalog.Catalog`.
    shards
        Number of shards wanted (at least 1).

    Returns
    -------
    list of list of str
        Document ids per shard, no shard empty.
    """
    if not isinstance(shards, int) or shards < 1:
        raise IndexError_(f"shards must be a positive whole number, not {shards!r}")
    size: dict[str, int] = {}
    for e in catalog.documents.values():
        try:
            n = e.file.stat().st_size
        except OSError:
            n = 0  # the parser will report the missing file
        size[e.work] = size.get(e.work, 0) + n
    works = sorted(size, key=lambda w: (-size[w], w))
    n = min(shards, len(works))
    load = [0] * n
    owner: dict[str, int] = {}
    for w in works:
        i = min(range(n), key=lambda j: (load[j], j))
        owner[w] = i
        load[i] += size[w] + 1
    out: list[list[str]] = [[] for _ in range(n)]
    for e in catalog.documents.values():
        out[owner[e.work]].append(e.id)
    return [s for s in out if s]


def _sub_corpus(root: str, doc_ids: Sequence[str]) -> Any:
    """The documents ``doc_ids`` of the corpus at ``root``, parsed, in catalog order (an
    unreadable one skipped and listed, as :meth:`Corpus.load` does)."""
    from ..corpus import Corpus

    return Corpus.load(root, only=set(doc_ids))


def _analyzer(term_files: Sequence[str]) -> Any:
    """The analyzer of a build: the corpus's own terms also segment as words (as a single
    build does)."""
    from ..text.analysis import Analyzer

    return Analyzer.for_files(term_files)


# ----------------------------------------------------------------------------- build tasks
# Module-level functions: Dask ships them to the workers by reference (module + name).


def _task_tokenise(root: str, doc_ids: list[str], work_dir: str) -> dict[str, Any]:
    """Parse and tokenise one shard's documents; write its rows and term ids to ``work_dir``."""
    t0 = time.perf_counter()
    corpus = _sub_corpus(root, doc_ids)
    analyzer = _analyzer([str(g) for g in corpus.catalog.glossary])
    t1 = time.perf_counter()
    with analyzer.active():
        return _tokenise(corpus, work_dir, t0, t1)


def _tokenise(corpus: Any, work_dir: str, t0: float, t1: float) -> dict[str, Any]:
    from .build import clause_rows, gloss_bags
    from .store import write_rows
    from ..text.analysis import analyze, detect_lang

    clauses = clause_rows(corpus)
    vocab: dict[str, int] = {}
    setdefault = vocab.setdefault
    ids: list[int] = []
    lens = np.zeros(len(clauses), dtype=np.int64)
    df: Counter[str] = Counter()
    texts, langs = [], []
    for i, c in enumerate(clauses):
        lang = c.lang or detect_lang(c.text)
        terms = analyze(c.content, lang)  # markup blanked out
        ids.extend(setdefault(t, len(vocab)) for t in terms)
        lens[i] = len(terms)
        df.update(set(terms))
        texts.append(c.content)
        langs.append(lang)
    # the Chinese rows' gloss words (as a single build's gloss index), counted for the collection
    bags = gloss_bags(texts, langs)
    gloss_df: Counter[str] = Counter()
    if bags is not None:
        g_ptr, g_ids, g_vocab = bags
        gloss_df.update({g_vocab[j]: int(c) for j, c in enumerate(np.bincount(g_ids, minlength=len(g_vocab)))})
    with atomic_directory(work_dir, tag="tokenise") as tmp:
        write_rows(tmp / "rows", corpus, clauses)
        doc_ptr = np.zeros(len(clauses) + 1, dtype=np.int64)
        np.cumsum(lens, out=doc_ptr[1:])
        np.save(tmp / "doc_ptr.npy", doc_ptr, allow_pickle=False)
        np.save(tmp / "term_ids.npy", np.asarray(ids, dtype=np.int32), allow_pickle=False)
        (tmp / "vocab.json").write_text(json.dumps(list(vocab), ensure_ascii=False), encoding="utf-8")
        if bags is not None:
            np.save(tmp / "gloss_ptr.npy", g_ptr, allow_pickle=False)
            np.save(tmp / "gloss_ids.npy", g_ids, allow_pickle=False)
            (tmp / "gloss_vocab.json").write_text(json.dumps(g_vocab, ensure_ascii=False), encoding="utf-8")
    doc_rows = Counter(c.doc for c in clauses)
    return {
        "rows": len(clauses),
        "length": int(lens.sum()),
        "doc_rows": {d.id: doc_rows.get(d.id, 0) for d in corpus.documents},
        "skipped": [{"id": sk.id, "file": sk.file, "reason": sk.reason} for sk in getattr(corpus, "skipped", [])],
        "df": dict(df),
        "gloss_length": int(len(bags[1])) if bags is not None else 0,
        "gloss_df": dict(gloss_df),
        "timings_s": {"parse": round(t1 - t0, 3), "tokenise": round(time.perf_counter() - t1, 3)},
    }


def _task_reduce(*parts: dict[str, Any]) -> dict[str, Any]:
    """Sum the statistics of several shards (or of partial sums)."""
    df: Counter[str] = Counter()
    gloss_df: Counter[str] = Counter()
    for p in parts:
        df.update(p["df"])
        gloss_df.update(p.get("gloss_df", {}))
    return {"rows": sum(p["rows"] for p in parts), "length": sum(p["length"] for p in parts), "df": dict(df),
            "gloss_length": sum(p.get("gloss_length", 0) for p in parts), "gloss_df": dict(gloss_df)}


def _task_sample(work_dir: str, local_rows: list[int]) -> tuple[list[str], list[list[str]], list[str], list[str]]:
    """Texts, terms, contexts and languages of some rows of a tokenised shard (the encoder's
    training sample)."""
    from .build import row_contexts
    from .store import _Blob
    from ..parallel import TermLists

    d = Path(work_dir)
    texts = _Blob(d / "rows", "texts")
    terms = TermLists(np.load(d / "doc_ptr.npy", allow_pickle=False), np.load(d / "term_ids.npy", allow_pickle=False),
                      json.loads((d / "vocab.json").read_text(encoding="utf-8")))
    ctxs, langs = row_contexts(d / "rows", local_rows)
    return [texts[i] for i in local_rows], [terms[i] for i in local_rows], ctxs, langs


def _task_fit(out_dir: str, dim: int, term_files: list[str], order: list[list[int]], n_rows: int,
              *samples: tuple[list[str], list[list[str]], list[str], list[str]]) -> dict[str, Any]:
    """Fit the built-in encoder once on the gathered sample, in global row order; save it."""
    with _analyzer(term_files).active():
        return _fit(out_dir, dim, order, samples, n_rows)


def _fit(out_dir: str, dim: int, order: list[list[int]], samples: Sequence[tuple[Any, ...]], n_rows: int) -> dict[str, Any]:
    from .build import DENSE_CONTEXT, feature_cap, fit_builtin, with_context

    t0 = time.perf_counter()
    rows = np.concatenate([np.asarray(o, dtype=np.int64) for o in order]) if order else np.zeros(0, np.int64)
    texts = [t for s in samples for t in s[0]]
    terms = [t for s in samples for t in s[1]]
    if DENSE_CONTEXT:  # as a single build: each clause after its document title and headings
        texts, terms = with_context(texts, terms, [c for s in samples for c in s[2]], [g for s in samples for g in s[3]])
    perm = np.argsort(rows, kind="stable").tolist()
    enc = fit_builtin([texts[i] for i in perm], [terms[i] for i in perm], dim=dim, max_features=feature_cap(n_rows))
    enc.save(out_dir)
    return {"encoder": enc.describe(), "seconds": round(time.perf_counter() - t0, 3)}


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link the files of ``src`` into a new ``dst`` (copy where links are impossible)."""
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.is_dir():
            _link_tree(f, dst / f.name)
            continue
        try:
            os.link(f, dst / f.name)
        except OSError:
            shutil.copy2(f, dst / f.name)


def _task_index(work_dir: str, shard_dir: str, enc_dir: str | None, encoder_spec: str, stats: dict[str, Any],
                global_rows: list[tuple[int, int]], meta: dict[str, Any]) -> dict[str, Any]:
    """Write one shard as a normal index: rows, keyword (collection statistics), vectors, alignments."""
    analyzer = _analyzer(meta["glossary_files"])
    with analyzer.active():
        return _index(analyzer, work_dir, shard_dir, enc_dir, encoder_spec, stats, global_rows, meta)


def _index(analyzer: Any, work_dir: str, shard_dir: str, enc_dir: str | None, encoder_spec: str, stats: dict[str, Any],
           global_rows: list[tuple[int, int]], meta: dict[str, Any]) -> dict[str, Any]:
    from .alignments import AlignmentStore
    from .build import DENSE_CONTEXT, encode_rows, gloss_bm25, gloss_manifest, row_contexts, vector_store, with_context
    from .store import _Blob, seal
    from ..parallel import TermLists
    from ..retrieval.encoders import BuiltinEncoder, get_encoder
    from ..retrieval.keyword import BM25Index
    from ..retrieval.modes import FUSION_DEFAULTS

    timings: dict[str, float] = {}
    work = Path(work_dir)
    with atomic_directory(shard_dir, tag="building") as tmp:
        t = time.perf_counter()
        _link_tree(work / "rows", tmp / "rows")  # links, not a move: a rerun of this task finds them again
        grow = np.concatenate([np.arange(a, a + n, dtype=np.int64) for a, n in global_rows]) if global_rows \
            else np.zeros(0, np.int64)
        np.save(tmp / "rows" / "global_row.npy", grow, allow_pickle=False)
        doc_ptr = np.load(work / "doc_ptr.npy", allow_pickle=False)
        term_ids = np.load(work / "term_ids.npy", allow_pickle=False)
        vocab = json.loads((work / "vocab.json").read_text(encoding="utf-8"))
        if len(grow) != len(doc_ptr) - 1:
            raise IndexError_(f"{shard_dir}: {len(doc_ptr) - 1} rows tokenised but {len(grow)} planned; rebuild")
        gdf = stats["df"]
        n, avgdl = int(stats["rows"]), float(stats["length"]) / max(1, int(stats["rows"]))
        df = np.fromiter((gdf[w] for w in vocab), dtype=np.int64, count=len(vocab))
        kw = BM25Index.from_ids(doc_ptr, term_ids, vocab, k1=meta["k1"], b=meta["b"], method=meta["scorer"],
                                collection=(n, avgdl, df))
        kw.save(tmp / "keyword")
        analyzer.save(tmp / "analyzer")  # queries on this shard alone segment as its clauses were
        timings["keyword index"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        glosses = None
        if (work / "gloss_ids.npy").exists() and stats.get("gloss_df"):
            # BM25 of the glosses with the collection's statistics: a single index's gloss scores
            g_vocab = json.loads((work / "gloss_vocab.json").read_text(encoding="utf-8"))
            g_df = np.fromiter((stats["gloss_df"][w] for w in g_vocab), dtype=np.int64, count=len(g_vocab))
            glosses = gloss_bm25((np.load(work / "gloss_ptr.npy", allow_pickle=False),
                                  np.load(work / "gloss_ids.npy", allow_pickle=False), g_vocab),
                                 collection=(n, float(stats["gloss_length"]) / max(1, n), g_df))
            glosses.save(tmp / "glosses")
        timings["glosses"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        texts_blob = _Blob(tmp / "rows", "texts")
        texts = [texts_blob[i] for i in range(len(texts_blob))]
        if enc_dir is not None:
            enc: Any = BuiltinEncoder.load(enc_dir)
            _link_tree(Path(enc_dir), tmp / "encoder")
            e_terms: Any = TermLists(doc_ptr, term_ids, vocab)
            e_texts = texts
            if DENSE_CONTEXT and texts:
                ctxs, langs = row_contexts(tmp / "rows", range(len(texts)))
                e_texts, e_terms = with_context(texts, e_terms, ctxs, langs)
            vecs = encode_rows(enc, e_texts, e_terms, parallel=False, workers=1,
                               scratch=tmp / "vectors.tmp.npy") if texts else np.zeros((0, enc.dim), np.float32)
        else:
            enc = get_encoder(encoder_spec)
            vecs = enc.encode(texts, kind="passage")
        timings["encode"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        vector_store(vecs).save(tmp / "vectors")
        timings["vector index"] = round(time.perf_counter() - t, 3)
        docs = json.loads((tmp / "rows" / "docs.json").read_text(encoding="utf-8"))
        manifest: dict[str, Any] = {
            "format_version": meta["format_version"],
            "library_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "corpus_fingerprint": meta["corpus_fingerprint"],
            "corpus_path": meta["corpus_path"],
            "clause_count": len(texts),
            "doc_count": len(docs),
            "encoder": enc.describe(),
            "analyzer": analyzer.describe(),
            "parameters": {"scorer": meta["scorer"], "k1": meta["k1"], "b": meta["b"], "dim": getattr(enc, "dim", None),
                           **json.loads(json.dumps(FUSION_DEFAULTS))},
            "glossary_files": meta["glossary_files"],
            "shard": {"of": meta["build_id"], "index": meta["shard"], "shards": meta["shards"],
                      "collection": {"rows": n, "avgdl": avgdl}},
        }
        if glosses is not None:
            manifest["glosses"] = gloss_manifest(glosses.n_terms, glosses.n_postings)
        if meta["align"]:
            t = time.perf_counter()
            pair_docs = _pair_docs(docs)
            if pair_docs:
                corpus = _sub_corpus(meta["corpus_path"], pair_docs)
                manifest["alignments"] = AlignmentStore(tmp / "alignments").store_all(
                    corpus, enc if enc_dir is not None else None, workers=1)
            else:
                manifest["alignments"] = []
            timings["alignments"] = round(time.perf_counter() - t, 3)
        manifest["timings_s"] = timings
        manifest["files"] = seal(tmp)  # a worker opening the shard verifies its files against these
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return {"rows": len(texts), "timings_s": timings, "encoder": manifest["encoder"], "analyzer": manifest["analyzer"]}


def _pair_docs(docs: list[dict[str, Any]]) -> list[str]:
    """The documents of works that have both an original and a translation."""
    roles: dict[str, set[str]] = {}
    for d in docs:
        roles.setdefault(d["work"], set()).add(d["role"])
    both = {w for w, r in roles.items() if {"original", "translation"} <= r}
    return [d["id"] for d in docs if d["work"] in both]


# ----------------------------------------------------------------------------- build


def build_sharded(
    corpus: Any = None,
    path: str | Path | None = None,
    *,
    shards: int | None = None,
    client: Any = None,
    encoder: str = "builtin",
    dim: int = DEFAULT_DIM,
    k1: float | None = None,
    b: float | None = None,
    progress: bool = False,
    align: bool = True,
    scorer: str = "lucene",
    locked: bool = False,
) -> ShardedIndex:
    """Build a sharded index, on a Dask cluster (``client``) or in this process; write it atomically.

    This is :meth:`policyidx.index.Index.build` with ``shards`` or ``client`` given.

    Parameters
    ----------
    corpus
        A :class:`~policyidx.corpus.Corpus`, a corpus directory, or ``None`` for the bundled
        corpus.  Only its catalog is read here: the workers parse the documents.
    path
        The index directory (the corpus's default index when ``None``).  Workers write into it
        (through a temporary sibling that replaces it when complete), so on a cluster it must be
        on a file system every worker sees, as must the corpus.
    shards
        Number of shards (at most one per work); by default one per worker (1 without a client).
    client
        A ``distributed.Client``; ``None`` runs the same tasks one after another here.
    encoder, dim, k1, b, align, scorer
        As for :meth:`~policyidx.index.Index.build`.
    progress
        Print the stages on stderr.
    locked
        The caller holds the index's build lock already.

    The index is written as a new snapshot (``snapshots/<n>/`` and the ``CURRENT`` pointer,
    as a single index, :func:`policyidx.index.store.write_snapshot`): under the build lock,
    every file checksummed in the manifests and flushed to the disk before the snapshot
    becomes current; what an interrupted build left is removed by the next one.

    Returns
    -------
    ShardedIndex
        The new index, searched through ``client`` when one was given.

    Raises
    ------
    IndexBusyError
        Another process is building the same index.
    """
    from ..catalog import Catalog
    from ..corpus import Corpus, bundled_corpus_path, catalog_fingerprint
    from .build import BM25_B, BM25_K1, FIT_SAMPLE, _even_sample
    from .store import FORMAT_VERSION, build_fingerprints, default_index_path, write_snapshot
    from ..retrieval.scorers import check_scorer

    check_scorer(scorer)
    k1 = BM25_K1 if k1 is None else k1
    b = BM25_B if b is None else b

    if isinstance(corpus, Corpus):
        root = corpus.root
    else:
        root = Path(corpus) if corpus is not None else bundled_corpus_path()
        if root.suffix == ".toml":
            root = root.parent
    root = root.resolve()
    catalog = Catalog.load(root / "catalog.toml")
    runner = _Runner(client)
    if shards is None:
        shards = max(1, len(runner.workers))
    plan = plan_shards(catalog, shards)
    target = Path(path) if path is not None else default_index_path(root)
    target = target.resolve()
    timings: dict[str, float] = {}
    build_id = uuid.uuid4().hex

    def say(msg: str) -> None:
        if progress:
            import sys

            print(f"[policyidx] {msg}", flush=True, file=sys.stderr)

    def write(tmp: Path) -> dict[str, Any]:
        work = tmp / ".work"
        work.mkdir()
        (tmp / "shards").mkdir()
        where = "here" if client is None else f"on {len(runner.workers)} Dask worker(s)"
        say(f"{len(plan)} shard(s) of {len(catalog.documents)} documents, {where}: parse and tokenise…")
        t = time.perf_counter()
        tok = [runner.submit(_task_tokenise, str(root), ids, str(work / f"{i:03d}"), name=f"tokenise-{i}")
               for i, ids in enumerate(plan)]
        # statistics: a tree reduction, 8 shards at a time, on the workers
        level = list(tok)
        while len(level) > 1:
            level = [runner.submit(_task_reduce, *level[j:j + 8], name="reduce") for j in range(0, len(level), 8)]
        stats_f = level[0] if len(tok) > 1 else runner.submit(_task_reduce, tok[0], name="reduce")
        tok_meta = runner.results(tok, [f"shard {i} (parse and tokenise)" for i in range(len(plan))])
        stats = runner.results([stats_f], ["collection statistics"])[0]
        timings["parse and tokenise"] = round(time.perf_counter() - t, 3)
        n_rows = int(stats["rows"])
        if n_rows == 0:
            raise IndexError_(f"corpus {root} has no clause text to index")
        # the row each clause has in a single index: documents in catalog order
        rows_of: dict[str, int] = {}
        for m in tok_meta:
            rows_of.update(m["doc_rows"])
        start: dict[str, int] = {}
        at = 0
        for doc_id in catalog.documents:
            start[doc_id] = at
            at += rows_of.get(doc_id, 0)
        global_rows = [[(start[d], rows_of[d]) for d in ids if rows_of.get(d)] for ids in plan]
        t = time.perf_counter()
        enc_dir: str | None = None
        samples: list[Any] = []
        fit: Any = None
        if encoder == "builtin":
            say(f"fit the encoder on a sample of {min(n_rows, FIT_SAMPLE)} of {n_rows} clauses…")
            sample = np.asarray(_even_sample(n_rows, FIT_SAMPLE), dtype=np.int64)
            order: list[list[int]] = []
            for i, spans in enumerate(global_rows):
                g = np.concatenate([np.arange(a, a + n) for a, n in spans]) if spans else np.zeros(0, np.int64)
                pos = np.flatnonzero(np.isin(g, sample))
                order.append(g[pos].tolist())
                samples.append(runner.submit(_task_sample, str(work / f"{i:03d}"), pos.tolist(), name=f"sample-{i}"))
            enc_dir = str(tmp / "encoder")
            fit = runner.submit(_task_fit, enc_dir, dim, [str(g) for g in catalog.glossary], order, n_rows, *samples,
                                name="fit")
            runner.results([fit], ["encoder fit"])
        timings["encoder fit"] = round(time.perf_counter() - t, 3)
        say("keyword index, vectors and alignments per shard…")
        t = time.perf_counter()
        meta = {"format_version": FORMAT_VERSION, "corpus_fingerprint": catalog_fingerprint(catalog),
                "corpus_path": str(root), "k1": k1, "b": b, "scorer": scorer, "build_id": build_id, "shards": len(plan),
                "glossary_files": [str(g) for g in catalog.glossary], "align": align}
        built = [runner.submit(_task_index, str(work / f"{i:03d}"), str(tmp / "shards" / f"{i:03d}"), enc_dir,
                               encoder, stats_f, global_rows[i], {**meta, "shard": i}, name=f"index-{i}")
                 for i in range(len(plan))]
        built_meta = runner.results(built, [f"shard {i} (index)" for i in range(len(plan))])
        timings["index shards"] = round(time.perf_counter() - t, 3)
        runner.settle([*tok, stats_f, *samples, *([fit] if fit is not None else []), *built])
        shutil.rmtree(work, ignore_errors=True)
        for leftover in (tmp / "shards").glob(".*"):  # temp dirs of tasks whose worker died
            shutil.rmtree(leftover, ignore_errors=True)
        _link_tree(tmp / "shards" / "000" / "analyzer", tmp / "analyzer")  # the same in every shard
        (tmp / "stats").mkdir()
        vocab = sorted(stats["df"])
        (tmp / "stats" / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        np.save(tmp / "stats" / "df.npy", np.array([stats["df"][w] for w in vocab], dtype=np.int64), allow_pickle=False)
        stage_sums: dict[str, float] = {}
        for m in list(tok_meta) + list(built_meta):
            for k_, v in m["timings_s"].items():
                stage_sums[k_] = round(stage_sums.get(k_, 0.0) + v, 3)
        enc_desc = built_meta[0]["encoder"]
        from ..retrieval.modes import FUSION_DEFAULTS

        manifest: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "layout": LAYOUT,
            "sharded_format": SHARDED_FORMAT,
            "build_id": build_id,
            "library_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "corpus_fingerprint": meta["corpus_fingerprint"],
            "corpus_path": str(root),
            "clause_count": n_rows,
            "doc_count": len(rows_of),
            "skipped": [sk for m in tok_meta for sk in m["skipped"]],
            "encoder": enc_desc,
            "analyzer": built_meta[0]["analyzer"],
            "parameters": {"scorer": scorer, "k1": k1, "b": b, "dim": enc_desc.get("dim"),
                           **json.loads(json.dumps(FUSION_DEFAULTS))},
            "collection": {"rows": n_rows, "length": int(stats["length"]), "avgdl": stats["length"] / n_rows,
                           "terms": len(vocab), "df": "stats/"},
            "shards": [{"path": f"shards/{i:03d}", "docs": ids, "clause_count": built_meta[i]["rows"]}
                       for i, ids in enumerate(plan)],
            "glossary_files": meta["glossary_files"],
            **build_fingerprints(catalog.glossary, catalog, meta["corpus_fingerprint"]),
            "workers": len(runner.workers),
            "timings_s": timings,
            "task_seconds": stage_sums,
        }
        if stats.get("gloss_df"):  # the shards' gloss indexes (the collection's statistics in each)
            from .build import gloss_manifest

            manifest["glosses"] = gloss_manifest(len(stats["gloss_df"]), stats["gloss_length"])
        return manifest

    manifest = write_snapshot(target, write, locked=locked)
    say(f"built {target}: {manifest['clause_count']} clauses in {len(manifest['shards'])} shards")
    return ShardedIndex(target, client=client)


# ----------------------------------------------------------------------------- search tasks

_OPEN: dict[str, tuple[str, Any]] = {}
_OPEN_LOCK = threading.Lock()


def _open_shard(path: str, build_id: str) -> Any:
    """The shard at ``path``, opened once per process (memory-mapped) and kept."""
    from .facade import Index

    with _OPEN_LOCK:
        hit = _OPEN.get(path)
        if hit is not None and hit[0] == build_id:
            return hit[1]
        try:
            manifest = json.loads((Path(path) / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CorruptIndexError(f"{Path(path) / 'manifest.json'} is not readable JSON ({exc}); "
                                    "rebuild the index") from exc
        if not isinstance(manifest, dict) or manifest.get("shard", {}).get("of") != build_id:
            raise IndexError_(f"{path} is not a shard of this index (it was rebuilt?); reopen the index")
        idx = Index(Path(path), manifest)  # its files verified against the checksums of its manifest
        idx.keyword, idx.vectors  # noqa: B018 - map the arrays now, not during the first query
        idx._snapshot.verify("rows/global_row.npy")
        from .store import _load_array

        grow = _load_array(Path(path) / "rows" / "global_row.npy", 1, "i")
        total = int(manifest["shard"].get("collection", {}).get("rows", 0))
        if len(grow) != len(idx) or (len(grow) and (int(grow.min()) < 0 or int(grow.max()) >= total)):
            raise CorruptIndexError(f"{Path(path) / 'rows' / 'global_row.npy'} does not map the shard's rows into "
                                    "the index; rebuild the index")
        idx.global_row = grow
        _OPEN[path] = (build_id, idx)
        return idx


def _task_batch(fn: Callable[..., Any], shared: tuple[Any, ...], items: list[tuple[str, str, str, tuple[Any, ...]]]) -> list[Any]:
    """``fn(path, build_id, *shared, *args)`` for several shards of one worker (the arguments
    common to all shards, such as the query, travel once); a failure names its shard."""
    out = []
    for label, path, build_id, args in items:
        try:
            out.append(fn(path, build_id, *shared, *args))
        except Exception as exc:  # noqa: BLE001 - named and re-raised as one error type
            raise ShardError(f"{label}: {type(exc).__name__}: {exc}") from exc
    return out


def _task_load(path: str, build_id: str) -> int:
    return len(_open_shard(path, build_id))


def _task_search(path: str, build_id: str, terms: dict[str, float] | None, qvec: np.ndarray | None, depth: int,
                 glosses: tuple[list[str], int] | None, filt: dict[str, Any] | None,
                 words: list[str] | None = None) -> dict[str, Any]:
    """One shard's top ``depth`` rows of each retriever: (global rows, local rows, scores), and
    the best impact of each of the query's ``words`` that the shard knows (``impacts``: the
    hits' confidence needs the best score any row could reach and which words the index knows).
    ``glosses``: an English query's words and how many of the shard's rows to find by them in
    its gloss index (``"glosses"``; none if the shard has no gloss index)."""
    idx = _open_shard(path, build_id)
    rows = idx._mask(**filt) if filt else None
    mask = rows.mask if rows is not None else None
    out: dict[str, Any] = {"keyword": None, "dense": None, "glosses": None, "impacts": {}}
    if terms:
        r, s = idx.keyword.search(terms, k=depth, allowed=mask)
        out["keyword"] = (np.asarray(idx.global_row[r]), r.astype(np.int64), s)
    if glosses and glosses[0] and glosses[1] > 0 and idx.glosses is not None:
        r, s = idx.glosses.search(glosses[0], k=glosses[1], allowed=mask)
        r = np.asarray(r, dtype=np.int64)
        out["glosses"] = (np.asarray(idx.global_row[r]), r, np.asarray(s, dtype=np.float64))
    if words:
        ids = idx.keyword.term_ids
        best = idx.keyword.max_impact
        out["impacts"] = {t: float(best[ids[t]]) for t in words if t in ids}
    if qvec is not None and len(idx):
        r, s = idx.vectors.search(qvec[None, :], depth, allowed=mask)
        keep = r[0] >= 0
        r, s = r[0][keep].astype(np.int64), s[0][keep]
        out["dense"] = (np.asarray(idx.global_row[r]), r, s)
    return out


def _task_impacts(path: str, build_id: str, words: list[str]) -> dict[str, float]:
    """The best impact of each of ``words`` that a shard knows (a filtered search does not ask
    the shards without an allowed document; the hits' confidence still needs them)."""
    idx = _open_shard(path, build_id)
    ids = idx.keyword.term_ids
    return {t: float(idx.keyword.max_impact[ids[t]]) for t in words if t in ids}


def _task_context(path: str, build_id: str, terms: dict[str, float], idf: dict[str, float],
                  rows: list[int]) -> list[float]:
    """The context scores of some rows of a shard (:meth:`policyidx.index.Index.context_scores`,
    with the collection's idf)."""
    idx = _open_shard(path, build_id)
    return idx.context_scores(terms, np.asarray(rows, dtype=np.int64), idf=idf).tolist()


def _task_coverage(path: str, build_id: str, terms: dict[str, float], idf: dict[str, float], share: float,
                   rows: list[int]) -> list[float]:
    """How much of a query some rows of a shard cover (:meth:`policyidx.index.Index.coverage_scores`,
    with the collection's idf)."""
    idx = _open_shard(path, build_id)
    return idx.coverage_scores(terms, np.asarray(rows, dtype=np.int64), idf=idf, context_share=share).tolist()


def _task_quantity(path: str, build_id: str, terms: dict[str, float], idf: dict[str, float],
                   rows: list[int]) -> list[float]:
    """Whether some rows of a shard state a number with a unit (1.0) or not (0.0)
    (:meth:`policyidx.index.Index.quantities_of`)."""
    idx = _open_shard(path, build_id)
    return idx.quantities_of(np.asarray(rows, dtype=np.int64)).astype(np.float64).tolist()


def _task_sanction(path: str, build_id: str, terms: dict[str, float], idf: dict[str, float],
                   rows: list[int]) -> list[float]:
    """Whether some rows of a shard, read with their enclosing clauses' lead-ins, state a
    sanction (1.0) or not (0.0) (:meth:`policyidx.index.Index.sanctions_of`)."""
    idx = _open_shard(path, build_id)
    return idx.sanctions_of(np.asarray(rows, dtype=np.int64)).astype(np.float64).tolist()


def _task_boilerplate(path: str, build_id: str, terms: dict[str, float], idf: dict[str, float],
                      rows: list[int]) -> list[float]:
    """Whether some rows of a shard are formal parts of their documents (1.0) or not (0.0)
    (:meth:`policyidx.index.Index.boilerplate_of`)."""
    idx = _open_shard(path, build_id)
    return idx.boilerplate_of(np.asarray(rows, dtype=np.int64)).astype(np.float64).tolist()


def _task_gloss(path: str, build_id: str, terms: dict[str, float], idf: dict[str, float], words: list[str],
                renderings: dict[str, list[str]], rows: list[int]) -> list[float]:
    """How much of an English query's content words some rows of a shard hold in their words'
    glosses or in the query side's renderings (:meth:`policyidx.index.Index.gloss_shares`; NaN
    for a row it cannot read)."""
    idx = _open_shard(path, build_id)
    return idx.gloss_shares(words, np.asarray(rows, dtype=np.int64), renderings).tolist()


def _task_gloss_scores(path: str, build_id: str, terms: dict[str, float], idf: dict[str, float], words: list[str],
                       rows: list[int]) -> list[float]:
    """The gloss-index scores of some rows of a shard for an English query's ``words`` (its
    gloss index holds the collection's statistics; 0 for a shard without one)."""
    idx = _open_shard(path, build_id)
    if idx.glosses is None:
        return [0.0] * len(rows)
    return np.asarray(idx.glosses.score(words, np.asarray(rows, dtype=np.int64)), dtype=np.float64).tolist()


def _task_records(path: str, build_id: str, rows: list[int]) -> list[dict[str, Any]]:
    """The records of some rows of a shard, with their document's id and title."""
    idx = _open_shard(path, build_id)
    out = []
    for r in rows:
        rec = idx.record(r)
        doc = idx.docs[int(idx.row_doc[r])]
        rec["doc"], rec["doc_title"], rec["work"] = doc["id"], doc["title"], doc.get("work")
        out.append(rec)
    return out


# ----------------------------------------------------------------------------- search


@dataclass
class _Ranked:
    shard: np.ndarray
    local: np.ndarray
    glob: np.ndarray
    score: np.ndarray


def _merge(parts: list[tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray] | None]], depth: int) -> _Ranked | None:
    """The global top ``depth`` of per-shard rankings: best score first, ties to the lower global row."""
    got = [(i, p) for i, p in parts if p is not None]
    if not got:
        return None
    shard = np.concatenate([np.full(len(p[0]), i, dtype=np.int32) for i, p in got])
    glob = np.concatenate([p[0] for _, p in got]).astype(np.int64)
    local = np.concatenate([p[1] for _, p in got]).astype(np.int64)
    score = np.concatenate([p[2] for _, p in got])
    order = np.lexsort((glob, -score))[:depth]
    return _Ranked(shard[order], local[order], glob[order], score[order])


class _DocTable:
    """The documents of all shards, with their positions."""

    def __init__(self, docs: list[dict[str, Any]]):
        self.docs = docs
        self._doc_index = {d["id"]: i for i, d in enumerate(docs)}


class ShardedIndex:
    """A sharded index, searched on a Dask cluster (``client``) or in this process.

    Open with :meth:`policyidx.index.Index.open` (which returns this class for a sharded
    directory) or :meth:`open`; :meth:`search` takes the arguments of
    :meth:`policyidx.index.Index.search` and returns the same hits.
    """

    #: ``manifest`` is accepted for compatibility and not used: the manifest is the snapshot's.
    def __init__(self, path: str | Path, manifest: dict[str, Any] | None = None, *, client: Any = None,
                 glossary: Sequence[str | Path] = (), timeout: float = SEARCH_TIMEOUT, snapshot: Any = None):
        from .store import open_snapshot

        self.path = Path(path).resolve()
        if snapshot is None:
            snapshot = open_snapshot(self.path)
        #: The snapshot this index reads for its whole life (a shared lock keeps builds from removing it).
        self._snapshot = snapshot
        self.snapshot_path: Path = snapshot.path
        try:
            self._init(snapshot.manifest, client, glossary, timeout)
        except BaseException:
            snapshot.close()
            raise

    def _init(self, manifest: dict[str, Any], client: Any, glossary: Sequence[str | Path], timeout: float) -> None:
        from .store import MANIFEST

        snap = self._snapshot
        self.manifest = manifest
        where = self.snapshot_path / MANIFEST
        try:
            self.params: dict[str, Any] = manifest["parameters"]
            self.build_id: str = manifest["build_id"]
            shard_rels = [str(s["path"]) for s in manifest["shards"]]
            dict(manifest["encoder"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptIndexError(f"{where} is not the manifest of a sharded index ({type(exc).__name__}: {exc}); "
                                    "rebuild the index") from exc
        self.glossary_files: list[str] = list(manifest.get("glossary_files", [])) + [str(Path(g).resolve()) for g in glossary]
        self.shard_paths = [str(self.snapshot_path / rel) for rel in shard_rels]
        self.timeout = timeout
        self._runner = _Runner(client)
        self._corpus = None
        self._assigned: dict[int, str] = {}
        self._locals: dict[int, Any] = {}
        self._shard_manifests: list[dict[str, Any]] = []
        self.docs: list[dict[str, Any]] = []
        self.doc_shard: list[int] = []
        for i, rel in enumerate(shard_rels):
            # checked against the snapshot's checksums before they are read
            self._shard_manifests.append(self._read_json(f"{rel}/{MANIFEST}", dict))
            if self._shard_manifests[-1].get("shard", {}).get("of") != self.build_id:
                raise CorruptIndexError(f"{self.snapshot_path / rel / MANIFEST} is not a shard of this index "
                                        "(another build id); rebuild the index")
            shard_docs = self._read_json(f"{rel}/rows/docs.json", list)
            self.docs.extend(shard_docs)
            self.doc_shard.extend([i] * len(shard_docs))
        self._table = _DocTable(self.docs)
        self._shard_docs = [{d["id"] for d, s in zip(self.docs, self.doc_shard) if s == i} for i in range(len(self.shard_paths))]
        self._shard_works = [{d["work"] for d, s in zip(self.docs, self.doc_shard) if s == i} for i in range(len(self.shard_paths))]
        # queries segment as the clauses were: the build's analyzer, stored beside the shards
        from ..text.analysis import Analyzer

        described = manifest.get("analyzer") or {}
        snap.verify("analyzer")
        if (self.snapshot_path / "analyzer" / "lexicon.json").is_file() and os.environ.get("POLICYIDX_SEGCACHE", "1") != "0":
            try:
                self.analyzer = Analyzer.load(self.snapshot_path / "analyzer", described)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise CorruptIndexError(f"cannot read {self.snapshot_path / 'analyzer'}: {exc}; rebuild the index") from exc
        else:
            self.analyzer = Analyzer.for_files(described.get("term_files", self.glossary_files))
        if client is not None:
            self._place()

    def _read_json(self, rel: str, kind: type) -> Any:
        """A JSON file of the snapshot, verified against the manifest's checksum first."""
        self._snapshot.verify(rel)
        path = self.snapshot_path / rel
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CorruptIndexError(f"{path} is not readable JSON ({exc}); rebuild the index") from exc
        if not isinstance(value, kind):
            raise CorruptIndexError(f"{path} does not hold a JSON {kind.__name__}; rebuild the index")
        return value

    @classmethod
    def open(cls, path: str | Path, *, client: Any = None, glossary: Sequence[str | Path] = ()) -> ShardedIndex:
        """Open a sharded index (no corpus check: use :meth:`policyidx.index.Index.open` for that).

        Raises
        ------
        IndexError_
            No index at ``path``, or a single index there.
        StaleIndexError
            A sharded index of the layout before snapshots: rebuild it.
        CorruptIndexError
            A damaged file (the message names it).
        """
        from .store import open_snapshot

        snap = open_snapshot(path)
        if snap.manifest.get("layout") != LAYOUT:
            snap.close()
            raise IndexError_(f"{path} is a single index, not a sharded one; open it with Index.open")
        return cls(path, client=client, glossary=glossary, snapshot=snap)

    # ------------------------------------------------------------------ life and checks

    def close(self) -> None:
        """Release the snapshot this index reads (a later build may then remove it)."""
        for shard in self._locals.values():
            shard.close()
        self._snapshot.close()

    def __enter__(self) -> ShardedIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self) -> dict[str, Any]:
        """As :meth:`policyidx.index.Index.check`: every file of the snapshot (the shards'
        included) against the manifest's size and CRC32, then the bounds of every shard's
        parts, by loading them here."""
        problems = self._snapshot.check()
        for i in range(len(self.shard_paths)):
            try:
                problems += self._local_shard(i)._alignment_problems()
            except PolicyIdxError as exc:
                problems.append(str(exc))
        if not problems:
            for i in range(len(self.shard_paths)):
                try:
                    shard = self._local_shard(i)
                    for part in ("keyword", "vectors", "encoder"):
                        getattr(shard, part)
                except PolicyIdxError as exc:
                    problems.append(str(exc))
        return self._snapshot.report(self.path, problems)

    # ------------------------------------------------------------------ placement

    def _place(self) -> None:
        """Give every shard a worker (round robin; kept while the worker lives) and open it there."""
        workers = self._runner.workers
        lost = [i for i in range(len(self.shard_paths)) if self._assigned.get(i) not in workers]
        if not lost:
            return
        workers = worker_addresses(self._runner.client, live=True)  # the cached view may lag
        if not workers:
            raise ShardError("the Dask cluster has no workers; start some (`dask worker ADDRESS`)")
        lost = [i for i in range(len(self.shard_paths)) if self._assigned.get(i) not in workers]
        if not lost:
            return
        load = Counter(w for i, w in self._assigned.items() if i not in lost)
        for i in lost:
            w = min(workers, key=lambda x: (load[x], x))
            self._assigned[i] = w
            load[w] += 1
        futs = [self._runner.submit(_task_load, self.shard_paths[i], self.build_id, name=f"load-{i}",
                                    worker=self._assigned[i]) for i in lost]
        self._runner.results(futs, [self._label(i) for i in lost], timeout=self.timeout)

    def _label(self, i: int) -> str:
        return f"shard {i} of {len(self.shard_paths)} ({self.shard_paths[i]})"

    def _on_shards(self, fn: Callable[..., Any], calls: dict[int, tuple[Any, ...]], name: str,
                   shared: tuple[Any, ...] = ()) -> dict[int, Any]:
        if self._runner.client is not None:
            self._place()
        # one task per worker for all its shards: per-task overhead, not the search, dominates
        by_worker: dict[str | None, list[int]] = {}
        for i in calls:
            by_worker.setdefault(self._assigned.get(i), []).append(i)
        futs, labels = [], []
        for w, shards in by_worker.items():
            items = [(self._label(i), self.shard_paths[i], self.build_id, calls[i]) for i in shards]
            futs.append(self._runner.submit(_task_batch, fn, shared, items, name=f"{name}-{'-'.join(map(str, shards))}", worker=w))
            labels.append(f"shard(s) {', '.join(map(str, shards))} of {len(self.shard_paths)} "
                          f"({', '.join(self.shard_paths[i] for i in shards)})")
        res = self._runner.results(futs, labels, timeout=self.timeout)
        return {i: r for shards, rs in zip(by_worker.values(), res) for i, r in zip(shards, rs)}

    # ------------------------------------------------------------------ parts

    def __len__(self) -> int:
        return int(self.manifest["clause_count"])

    @cached_property
    def glossary(self):
        """The glossary used for query expansion (as :attr:`policyidx.index.Index.glossary`)."""
        from ..text.glossary import default_glossary

        return default_glossary(tuple(self.glossary_files))

    @cached_property
    def encoder(self):
        """The query encoder (the built-in one fitted for all shards, or the named model)."""
        from ..retrieval.encoders import load_encoder

        enc_dir = self.snapshot_path / "encoder"
        self._snapshot.verify("encoder")
        try:
            return load_encoder(enc_dir if enc_dir.is_dir() else None, self.manifest["encoder"])
        except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
            raise CorruptIndexError(f"cannot read {enc_dir}: {exc}; rebuild the index") from exc

    @property
    def corpus(self):
        """The corpus the index was built from (parsed on first use)."""
        if self._corpus is None:
            from ..corpus import Corpus

            self._corpus = Corpus.load(self.manifest.get("corpus_path"))
        return self._corpus

    # ------------------------------------------------------------------ search

    @cached_property
    def _expansion_stats(self):
        """The shards' keyword postings as one corpus, read here (memory-mapped): English and
        Japanese queries choose their renderings on them as a single index does on its own."""
        from ..retrieval.expand import MergedStats

        # each shard's keyword part as its own index opens it: verified against its checksums
        return MergedStats([self._local_shard(i).keyword for i in range(len(self.shard_paths))])

    @cached_property
    def _collection_terms(self) -> frozenset[str]:
        """The terms of all shards (stats/vocab.json): dictionary renderings are kept only if here."""
        return frozenset(self._read_json("stats/vocab.json", list))

    @cached_property
    def _collection_df(self) -> dict[str, int]:
        """Term -> number of rows of the collection that have it (stats/)."""
        vocab = self._read_json("stats/vocab.json", list)
        self._snapshot.verify("stats/df.npy")
        where = self.snapshot_path / "stats" / "df.npy"
        try:
            df = np.load(where, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise CorruptIndexError(f"{where} is not readable ({exc}); rebuild the index") from exc
        if df.ndim != 1 or len(df) != len(vocab):
            raise CorruptIndexError(f"{where} has {df.shape} entries for {len(vocab)} terms; rebuild the index")
        return dict(zip(vocab, df.tolist()))

    def _languages_of(self, rows: np.ndarray) -> np.ndarray:
        """The language of each of global ``rows`` (its document's)."""
        langs = np.array([str(d.get("lang") or "") for d in self.docs] or [""])
        return langs[np.asarray(self.row_doc)[np.asarray(rows, dtype=np.int64)]]

    def _titles_of(self, rows: np.ndarray) -> list[str]:
        """The title of each of global ``rows``' documents."""
        return [self.docs[d].get("title") or "" for d in np.asarray(self.row_doc)[np.asarray(rows, dtype=np.int64)].tolist()]

    @cached_property
    def _language_shares(self) -> dict[str, float]:
        """The share of all shards' rows in each language (as :attr:`policyidx.index.Index.language_shares`)."""
        from ..retrieval.retrievers import language_shares

        return language_shares(self.row_doc, [str(d.get("lang") or "") for d in self.docs])

    @cached_property
    def _jurisdictions(self) -> frozenset[str]:
        """The jurisdictions at the head of all shards' titles (as :attr:`policyidx.index.Index.jurisdictions`)."""
        from ..retrieval.retrievers import jurisdiction_names

        return jurisdiction_names(d.get("title") or "" for d in self.docs)

    def _context_scores(self, terms: dict[str, float], rows: np.ndarray, where: dict[int, tuple[int, int]]) -> np.ndarray:
        """The context scores of global ``rows`` (as :meth:`policyidx.index.Index.context_scores`
        of a single index: collection idf, each row scored on its shard)."""
        return self._row_scores(_task_context, "context", terms, rows, where, ())

    def _coverage_scores(self, terms: dict[str, float], rows: np.ndarray, where: dict[int, tuple[int, int]]) -> np.ndarray:
        """How much of the query global ``rows`` cover (as :meth:`policyidx.index.Index.coverage_scores`
        of a single index: collection idf, each row scored on its shard)."""
        from ..retrieval.modes import HYBRID_DEFAULTS

        share = float(self.params.get("coverage_share", HYBRID_DEFAULTS["coverage_share"]))
        return self._row_scores(_task_coverage, "coverage", terms, rows, where, (share,))

    def _row_scores(self, task: Any, what: str, terms: dict[str, float], rows: np.ndarray,
                    where: dict[int, tuple[int, int]], extra: tuple[Any, ...]) -> np.ndarray:
        """``task(path, build_id, terms, idf, *extra, local_rows)`` on the shards holding global
        ``rows``, with the collection's idf: one float per row."""
        from ..retrieval.retrievers import lucene_idf

        n = int(self.manifest.get("collection", {}).get("rows", len(self)))
        df = self._collection_df
        idf = {t: (lucene_idf(float(df[t]), n) if t in df else 0.0) for t in terms}
        want: dict[int, list[tuple[int, int]]] = {}
        for j, g in enumerate(np.asarray(rows).tolist()):
            s, lo = where[g]
            want.setdefault(s, []).append((j, lo))
        got = self._on_shards(task, {s: ([lo for _, lo in v],) for s, v in want.items()}, what,
                              shared=(terms, idf, *extra))
        out = np.zeros(len(rows), dtype=np.float64)
        for s, v in want.items():
            for (j, _), x in zip(v, got[s]):
                out[j] = x
        return out

    def search(
        self,
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        lang: str | None = None,
        docs: Sequence[str] | None = None,
        works: Sequence[str] | None = None,
        roles: Sequence[str] | None = None,
        *,
        query_lang: str | None = None,
        expand: bool = True,
        dictionaries: bool = True,
    ) -> list[Any]:
        """Find the clauses that answer a query: :meth:`policyidx.index.Index.search` over all shards
        (``dictionaries``: renderings from the general dictionaries kept when they are terms of
        any shard, as a single index keeps its own terms).

        Raises
        ------
        QueryError, NotFoundError
            As :meth:`policyidx.index.Index.search`.
        ShardError
            A shard failed or did not answer (its workers died repeatedly, or timeout): never
            a silently shorter result list.
        """
        from .facade import Index
        from ..retrieval.expand import expand_query, feedback_expansion
        from ..retrieval.filters import Filter

        q = Index._check_query(self, query, mode, k)  # type: ignore[arg-type]  # uses no index state
        if mode not in ("keyword", "dense", "hybrid"):
            raise QueryError(f"a sharded index searches in modes keyword, dense and hybrid, not {mode!r}")
        # validated on the documents of all shards (one row per document): the allowed documents
        allowed = Filter(lang=lang, docs=docs, works=works, roles=roles).rows(self.docs, np.arange(len(self.docs)))
        doc_mask = allowed.mask if allowed is not None else None
        with self.analyzer.active():  # expansion and highlighting segment as the clauses were
            exp = expand_query(q, query_lang, self.glossary if expand else None, enabled=expand,
                               weight=self.params.get("expansion_weight", 0.5), dictionaries=dictionaries,
                               known=self._collection_terms.__contains__, corpus=self._expansion_stats)
            filt = {"lang": lang, "docs": docs, "works": works, "roles": roles}
            hits = self._search(exp, k, mode, doc_mask, filt)
            if mode != "dense" and exp.passed_over:  # as a single index: passed-over renderings its best clauses write
                fed = feedback_expansion(exp, (h.text for h in hits), self._collection_terms.__contains__)
                if fed is not None:
                    return self._search(fed, k, mode, doc_mask, filt)
            return hits

    def _search(self, exp: Any, k: int, mode: str, doc_mask: np.ndarray | None, filt: dict[str, Any]) -> list[Any]:
        from .facade import Hit, confidence, confidence_lead, highlight, lead_depth, make_snippet
        from ..retrieval.base import Ranking
        from ..retrieval.fusion import FUSIONS
        from ..retrieval.fusion import add_candidates, dense_rerank
        from ..retrieval.modes import FUSION_DEFAULTS, HYBRID_DEFAULTS, gloss_candidates_weight, hybrid_weights
        from ..retrieval.retrievers import (coverage_power_for, depth_for, gloss_query_words, judged_coverage, judged_glosses,
                                            judged_boilerplate, judged_jurisdiction, judged_quantity, judged_sanction, query_coverage,
                                            unjudged_share)

        # fusion needs each retriever's top depth_for(k); one retriever alone only its top k
        # (the global top k of a retriever is within the union of the shards' top k)
        rerank = self.params.get("fusion", "rrf") == "dense-rerank"
        # (and a few more, as a single index, for the last hits' confidence lead)
        depth = depth_for(k) if mode == "hybrid" else lead_depth(k)
        if mode == "hybrid" and rerank:  # the default hybrid re-ranks a deeper candidate list
            depth = max(depth, int(hybrid_weights(self.params, exp.lang)["rerank_depth"]))
        # a dict as it is: its synonym sets (retrieval.expand.QueryTerms) travel with it
        terms = (exp.terms if isinstance(exp.terms, dict) else dict(exp.terms)) if mode in ("keyword", "hybrid") and exp.terms else None
        qvec = None
        if mode in ("dense", "hybrid"):
            qv = self.encoder.encode([exp.dense_text], kind="query")
            if np.any(qv):
                qvec = np.ascontiguousarray(qv[0], dtype=np.float32)
        if terms is None and qvec is None:
            return []
        # an English or Japanese query's hybrid candidates are joined by its best rows in the
        # shards' gloss indexes
        g_words: list[str] = []
        g_weight = gloss_candidates_weight(self.params, exp.lang)
        g_depth = int(self.params.get("gloss_depth", HYBRID_DEFAULTS["gloss_depth"]))
        if mode == "hybrid" and rerank and g_weight and g_depth > 0 and "glosses" in self.manifest:
            g_words = gloss_query_words(exp)
        calls: dict[int, tuple[Any, ...]] = {}
        words = list(exp.terms) if exp.terms else None  # which the shards know: the query's coverage
        live = set(np.asarray(self.doc_shard)[doc_mask].tolist()) if doc_mask is not None else None
        for i in range(len(self.shard_paths)):
            f: dict[str, Any] | None = None
            if live is not None:
                if i not in live:
                    continue  # no allowed document lives on this shard
                # the filter as given, cut to what this shard knows (its own check rejects others' ids)
                f = {"lang": filt["lang"], "roles": filt["roles"],
                     "docs": [d for d in filt["docs"] if d in self._shard_docs[i]] if filt["docs"] else None,
                     "works": [w for w in filt["works"] if w in self._shard_works[i]] if filt["works"] else None}
            calls[i] = (f, words)
        got = self._on_shards(_task_search, calls, "search",
                              shared=(terms, qvec, depth, (g_words, g_depth) if g_words else None))
        rest = [i for i in range(len(self.shard_paths)) if i not in calls]
        impacts = [r.get("impacts", {}) for r in got.values()]
        if words and rest:  # the confidence is relative to the whole index, as a single index's
            impacts += list(self._on_shards(_task_impacts, {i: () for i in rest}, "impacts", shared=(words,)).values())
        kw = _merge([(i, r["keyword"]) for i, r in got.items()], depth)
        dn = _merge([(i, r["dense"]) for i, r in got.items()], depth)
        gl = _merge([(i, r.get("glosses")) for i, r in got.items()], g_depth) if g_words else None
        where: dict[int, tuple[int, int]] = {}
        for r in (kw, dn, gl):
            if r is not None:
                for s, lo, g in zip(r.shard.tolist(), r.local.tolist(), r.glob.tolist()):
                    where[g] = (s, lo)
        kw_d = dict(zip(kw.glob.tolist(), kw.score.tolist())) if kw is not None else {}
        dn_d = dict(zip(dn.glob.tolist(), dn.score.tolist())) if dn is not None else {}
        if mode == "keyword":
            ranked = sorted(kw_d.items(), key=lambda x: (-x[1], x[0]))
        elif mode == "dense":
            ranked = sorted(dn_d.items(), key=lambda x: (-x[1], x[0]))
        else:
            # fused from the merged (global) rankings, as a single index fuses its own
            parts = {name: Ranking(r.glob, r.score.astype(np.float64)) for name, r in (("keyword", kw), ("dense", dn))
                     if r is not None}
            if rerank:  # as the single index's hybrid mode, with the document vote and the context
                kw_r = parts.get("keyword", Ranking.empty())
                weights = hybrid_weights(self.params, exp.lang)
                cw = weights["context_weight"]
                n_ctx = min(len(kw_r), int(self.params.get("context_depth", HYBRID_DEFAULTS["context_depth"])))
                ctx = None
                if cw and terms and n_ctx > 0:  # the best candidates only, as a single index
                    ctx = np.zeros(len(kw_r), dtype=np.float64)
                    ctx[:n_ctx] = cw * self._context_scores(terms, kw_r.rows[:n_ctx], where)
                power = coverage_power_for(
                    exp, float(self.params.get("coverage_power", HYBRID_DEFAULTS["coverage_power"])),
                    float(self.params.get("set_coverage_power", HYBRID_DEFAULTS["set_coverage_power"])))
                cov = None
                if power and terms and len(kw_r):
                    cov = judged_coverage(lambda t, rows: self._coverage_scores(t, rows, where), exp, kw_r.rows,
                                          self._languages_of)
                prior = None
                penalty = float(self.params.get("jurisdiction_penalty", HYBRID_DEFAULTS["jurisdiction_penalty"]))
                local = float(self.params.get("local_penalty", HYBRID_DEFAULTS["local_penalty"]))
                if (penalty or local) and terms and len(kw_r):  # as the single index: its documents' titles
                    prior = judged_jurisdiction(exp, kw_r.rows, self._jurisdictions, self._titles_of,
                                                self._languages_of, penalty, local)
                # as the single index: its candidates' texts, read on their shards, for the
                # answer-type factors (a quantity, a sanction) and the formal articles
                langs = self.params.get("sanction_langs", HYBRID_DEFAULTS["sanction_langs"])
                for judge, task, what, more in ((judged_quantity, _task_quantity, "quantity", {}),
                                                (judged_sanction, _task_sanction, "sanction", {"langs": langs}),
                                                (judged_boilerplate, _task_boilerplate, "boilerplate", {})):
                    key = f"{what}_penalty"
                    q = judge(exp, kw_r.rows,
                              lambda rows, task=task, what=what: self._row_scores(task, what, {}, rows, where, ()) > 0.5,
                              self._languages_of, float(self.params.get(key, HYBRID_DEFAULTS[key])), **more)
                    if q is not None:
                        prior = q if prior is None else prior * q
                # as the single index: an English query's candidates read in their glosses, on their shards
                g = judged_glosses(exp, kw_r.rows,
                                   lambda words, rows, rend: self._row_scores(_task_gloss, "glosses", {}, rows, where,
                                                                              (list(words), {w: list(r) for w, r in rend.items()})),
                                   float(self.params.get("gloss_weight", HYBRID_DEFAULTS["gloss_weight"])))
                if g is not None:
                    prior = g if prior is None else prior * g
                unjudged = unjudged_share(cov, self._language_shares, exp.lang)
                reranked = dense_rerank(kw_r, parts.get("dense", Ranking.empty()),
                                        self.row_doc,
                                        doc_weight=weights["doc_weight"], clause_weight=weights["clause_weight"],
                                        context=ctx, coverage=cov, coverage_power=power, prior=prior,
                                        unjudged_share=unjudged)
                if gl is not None and len(gl.glob):  # as the single index: the gloss candidates joined
                    of_ranked = self._row_scores(_task_gloss_scores, "gloss scores", {}, reranked.rows, where,
                                                 (g_words,))
                    of_ranked[np.asarray(self._languages_of(reranked.rows)) != "zh"] = np.nan
                    reranked = add_candidates(reranked, Ranking(gl.glob, gl.score.astype(np.float64)), of_ranked,
                                              g_weight, name="glosses")
                ranked = reranked.pairs()
            else:
                fuse = FUSIONS[self.params.get("fusion", "rrf")]
                ranked = fuse(parts, self.params.get("weights", FUSION_DEFAULTS["weights"]),
                              self.params.get("rrf_k", FUSION_DEFAULTS["rrf_k"])).pairs()
        scores = [sc for _, sc in ranked]
        ranked = ranked[:k]
        # the confidence's inputs, as a single index computes them (facade.confidence)
        impact: dict[str, float] = {}  # each word's best impact over the shards
        for r in impacts:
            for t, m in r.items():
                impact[t] = max(impact.get(t, 0.0), m)
        best = sum(w * impact[t] for t, w in exp.terms.items() if w > 0 and t in impact) if mode != "dense" else 0.0
        qcov = query_coverage(exp.terms, impact.__contains__)
        hcov = np.full(len(ranked), np.nan)
        if exp.terms and ranked:
            hcov = judged_coverage(lambda t, rows: self._coverage_scores(t, rows, where), exp,
                                   np.array([g for g, _ in ranked], dtype=np.int64), self._languages_of)
        want: dict[int, list[int]] = {}
        for g, _ in ranked:
            s, lo = where[g]
            want.setdefault(s, []).append(lo)
        recs = self._on_shards(_task_records, {s: (rows,) for s, rows in want.items()}, "records")
        rec_of = {(s, lo): rec for s, rows in want.items() for lo, rec in zip(rows, recs[s])}
        hits = []
        for rank, (g, score) in enumerate(ranked, 1):
            rec = rec_of[where[g]]
            dns = dn_d.get(g)
            if mode == "dense" and dns is None:
                dns = score
            hc = hcov[rank - 1]
            inputs = {"keyword_score": kw_d.get(g), "best_attainable": best, "dense_score": dns, "coverage": qcov,
                      "hit_coverage": None if np.isnan(hc) else float(hc), "lead": confidence_lead(scores, rank - 1),
                      "lang": exp.lang}
            spans, matched = highlight(rec["text"], rec["lang"], exp)
            snippet, s0 = make_snippet(rec["text"], spans, lang=rec["lang"])
            hits.append(Hit(rank=rank, score=float(score), id=rec["id"], doc=rec["doc"], lang=rec["lang"],
                            label=rec["label"], title=rec["title"], text=rec["text"], doc_title=rec["doc_title"],
                            snippet=snippet, snippet_start=s0, highlights=spans, expansions=matched,
                            keyword_score=kw_d.get(g), dense_score=dns, work=rec.get("work"),
                            path=list(rec.get("path", [])), citation=rec.get("citation"), parents=rec.get("parents"),
                            start=rec.get("start"), end=rec.get("end"), confidence=confidence(**inputs),
                            confidence_inputs=inputs, _index=self))  # type: ignore[arg-type]
        return hits

    # ------------------------------------------------------------------ alignment

    def _local(self, doc_id: str) -> Any:
        """The shard holding ``doc_id``, opened in this process (for its rows and alignments)."""
        from ..errors import NotFoundError

        j = self._table._doc_index.get(doc_id)
        if j is None:
            raise NotFoundError(f"no document {doc_id!r} in the index; known: {', '.join(sorted(self._table._doc_index))}")
        return self._local_shard(self.doc_shard[j])

    def _local_shard(self, i: int) -> Any:
        from .facade import Index

        if i not in self._locals:
            shard = Index(Path(self.shard_paths[i]), self._shard_manifests[i])
            shard._corpus_root = Path(self.manifest.get("corpus_path", ""))
            self._locals[i] = shard
        shard = self._locals[i]
        shard._corpus = shard._corpus or self._corpus  # one parse of the corpus for all shards
        return shard

    def alignment(self, src: str, tgt: str, *, reviewed: bool = True):
        """As :meth:`policyidx.index.Index.alignment` (an original and its translations share a
        shard, which stores their alignment; the review store is the corpus's, as for a
        single index)."""
        return self._local(src).alignment(src, tgt, reviewed=reviewed)

    @cached_property
    def review_store(self):
        """The corpus's review store (as :attr:`policyidx.index.Index.review_store`)."""
        from ..review import ReviewStore

        return ReviewStore.for_corpus(Path(self.manifest.get("corpus_path", "")))

    # ------------------------------------------------------------------ rows, read here

    @cached_property
    def _row_map(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For every row of the single-index numbering: its shard, its row there, its document
        (a position in :attr:`docs`).  Read from the shards' files on first use."""
        n = len(self)
        shard_of = np.zeros(n, dtype=np.int32)
        local_of = np.zeros(n, dtype=np.int64)
        row_doc = np.zeros(n, dtype=np.int32)
        first_doc = 0
        for i in range(len(self.shard_paths)):
            shard = self._local_shard(i)  # its files verified against its checksums, its bounds checked
            g = self._global_rows(i)
            shard_of[g] = i
            local_of[g] = np.arange(len(g))
            row_doc[g] = np.asarray(shard.row_doc) + first_doc
            first_doc += sum(1 for s in self.doc_shard if s == i)
        return shard_of, local_of, row_doc

    def _global_rows(self, i: int) -> np.ndarray:
        """``rows/global_row.npy`` of shard ``i``, verified: one row of this index per row of the shard."""
        from .store import _load_array

        rel = f"{self.manifest['shards'][i]['path']}/rows/global_row.npy"
        self._snapshot.verify(rel)
        g = _load_array(self.snapshot_path / rel, 1, "i")
        if len(g) != len(self._local_shard(i)) or (len(g) and (int(g.min()) < 0 or int(g.max()) >= len(self))):
            raise CorruptIndexError(f"{self.snapshot_path / rel} does not map the shard's rows into the "
                                    f"{len(self)} of the index; rebuild the index")
        return np.asarray(g)

    @property
    def row_doc(self) -> np.ndarray:
        """For every row, its position in :attr:`docs` (as :attr:`policyidx.index.Index.row_doc`)."""
        return self._row_map[2]

    def record(self, row: int) -> dict[str, Any]:
        """The record of a row in the single-index numbering (read from its shard here)."""
        shard_of, local_of, _ = self._row_map
        return self._local_shard(int(shard_of[row])).record(int(local_of[row]))

    def aligned_clauses(self, clause_id: str, docs: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """As :meth:`policyidx.index.Index.aligned_clauses`."""
        return self._local(clause_id.split("#", 1)[0]).aligned_clauses(clause_id, docs)

    def aligned_counterpart(self, clause_id: str) -> str | None:
        """As :meth:`policyidx.index.Index.aligned_counterpart`."""
        aligned = self.aligned_clauses(clause_id)
        return aligned[0][0] if aligned else None

    def counterparts(self, clause_id: str, k: int = 5, docs: Sequence[str] | None = None) -> list[Any]:
        """As :meth:`policyidx.index.Index.counterparts`: aligned clauses from the clause's shard,
        then the most similar clauses of other documents by a search over every shard."""
        from .facade import collect_counterparts

        if not isinstance(clause_id, str):
            raise QueryError(f"a clause id must be a string like 'doc#1.2', not {type(clause_id).__name__}")
        shard = self._local(clause_id.split("#", 1)[0])
        if clause_id not in shard._row_of_id:
            return shard.counterparts(clause_id, k, docs)  # raises the single index's error
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise QueryError(f"k must be a positive whole number, not {k!r}")
        return collect_counterparts(shard, clause_id, min(k, len(self)), docs, self.docs, self.search)

    def __repr__(self) -> str:
        where = "in-process" if self._runner.client is None else "on Dask"
        return (f"ShardedIndex({str(self.path)!r}, {len(self)} clauses in {len(self.shard_paths)} shards, "
                f"encoder={self.manifest['encoder'].get('name')}, {where})")
