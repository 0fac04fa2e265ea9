"""The search index: keyword (BM25) and embedding indexes over clauses, fused into one search.

:class:`Index` is a thin façade: the rows and the manifest are kept by
:mod:`policyidx.index.store`, the build by :mod:`policyidx.index.build`, the alignments by
:mod:`policyidx.index.alignments`, highlighting by :mod:`policyidx.index.highlight`, and the
ranking by the retrievers of :mod:`policyidx.retrieval` (one per search mode).

An index is a directory of snapshots (see :mod:`policyidx.index.store`), each one a
complete index::

    CURRENT              which snapshot is current (with checksums)
    snapshots/<n>/
      manifest.json      format and library versions, parameters, encoder, counts, corpus
                         fingerprint, and the size and CRC32 of every file below
      rows/              per-clause records: ids, documents, languages, texts (arrays + UTF-8 blobs)
      keyword/           BM25 impact postings (policyidx.retrieval.keyword)
      encoder/           the fitted built-in encoder (when it is the encoder)
      vectors/           raw float32 clause vectors + the FAISS cache (policyidx.retrieval.vectors)
      alignments/        stored original <-> translation alignments (policyidx.index.alignments)

Nothing is pickled.  A build writes a new snapshot and makes it current only when it is
complete, so an interrupted build never leaves a half-written index; an open :class:`Index`
reads one snapshot for its whole life, whatever builds happen meanwhile, and never writes
into it (a FAISS cache it has to rebuild stays in memory).
"""

from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ..corpus import Corpus
from ..errors import CorruptIndexError, IndexError_, NotFoundError, PolicyIdxError, QueryError, StaleIndexError
from ..model import Clause
from ..retrieval.base import Ranking, Retriever, RowFilter
from ..retrieval.expand import Expansion, expand_query, feedback_expansion
from ..retrieval.filters import Filter
from ..retrieval.modes import FUSION_DEFAULTS, make_retriever, mode_names
from ..retrieval.retrievers import max_attainable, query_coverage
from ..text.analysis import Analyzer, LazyTerms
from .alignments import AlignmentStore
from .build import BM25_B, BM25_K1, DEFAULT_DIM, VECTOR_DEFAULTS, build_index
from .highlight import highlight, make_snippet
from .store import (FORMAT_VERSION, LANG_CODES, RowStore, Snapshot, default_index_path, flat_snapshot, is_index_dir,
                    open_snapshot, read_manifest, staleness, writer_lock)

__all__ = ["Index", "Hit", "Counterpart", "default_index_path", "FORMAT_VERSION", "MODES", "retrieve", "highlight",
           "make_snippet", "FUSION_DEFAULTS", "VECTOR_DEFAULTS", "LANG_CODES", "confidence", "CONFIDENT", "confidence_features", "confidence_lead"]

#: The search modes (see :mod:`policyidx.retrieval.modes`).
MODES = mode_names()
MAX_QUERY_CHARS = 20_000
_SURROGATE = re.compile("[\ud800-\udfff]")


@contextmanager
def _reading(what: Path) -> Iterator[None]:
    """Turn a failure to read an index part into a one-line :class:`CorruptIndexError`
    naming it (the errors of policyidx itself pass through)."""
    try:
        yield
    except PolicyIdxError:
        raise
    except (OSError, ValueError, EOFError, KeyError, TypeError, IndexError, RuntimeError, MemoryError) as exc:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise CorruptIndexError(f"cannot read {what}: {detail}; rebuild the index") from exc

#: A hit at or above this :attr:`Hit.confidence` is ``confident``: chosen on the dev splits of the
#: real-corpus query sets with the off-topic sets (README "Search quality", **Confidence**).
CONFIDENT = 0.6
#: How many hits below a hit :func:`confidence_lead` compares it with (a search asks its retriever
#: for this many more rows when that does not change the candidates, :func:`lead_depth`).
LEAD_DEPTH = 4
#: Per query language, the intercept and the weights of :func:`confidence_features` in the
#: logistic :func:`confidence`, fitted on the first hits of the dev splits of the real-corpus
#: answerable and off-topic query sets (``python eval/real/confidence.py --fit ...``, README).
#: A language not listed uses ``zh``'s.
CONFIDENCE_MODEL: dict[str, tuple[float, ...]] = {
    "zh": (0.399, 0.618, 1.364, 1.99, 0.553, 1.506),
    "ja": (-0.853, 0.062, 1.468, 0.679, 0.045, 1.15),
    "en": (0.257, 0.112, 0.556, 0.558, 1.828, 1.247),
}
_LOG_FLOOR = 0.05


def confidence_lead(scores: Sequence[float], i: int) -> float | None:
    """How far hit ``i`` of a ranking stands above the (up to :data:`LEAD_DEPTH`) hits below
    it: ``(s_i - mean(s_{i+1..i+4})) / s_i``, 0-1; ``None`` when no hit follows it or its score is
    not positive.  A peaked ranking (one clause far ahead) is more often right than a flat one."""
    below = [float(x) for x in scores[i + 1:i + 1 + LEAD_DEPTH]]
    top = float(scores[i])
    if not below or not top > 0:
        return None
    return min(1.0, max(0.0, (top - sum(below) / len(below)) / top))


def lead_depth(k: int) -> int:
    """How many rows to ask a retriever for so that the last of ``k`` hits has its
    :data:`LEAD_DEPTH` followers: ``k + LEAD_DEPTH`` when that leaves the candidate depth of a
    fusion unchanged (:func:`~policyidx.retrieval.retrievers.depth_for`), ``k`` otherwise (the
    ranking of the first ``k`` is the same either way)."""
    from ..retrieval.retrievers import depth_for

    return k + LEAD_DEPTH if depth_for(k + LEAD_DEPTH) == depth_for(k) else k


def confidence_features(keyword_score: float | None, best_attainable: float, dense_score: float | None,
                        coverage: float = 1.0, hit_coverage: float | None = None,
                        lead: float | None = None) -> list[float]:
    """The five features of :func:`confidence`: log of the keyword share, dense similarity, log
    of the query coverage, log of the hit coverage, lead (see :func:`confidence`)."""
    share = 0.0
    if keyword_score is not None and best_attainable > 0:
        share = min(1.0, max(0.0, float(keyword_score) / best_attainable))
    sim = min(1.0, max(0.0, float(dense_score))) if dense_score is not None else 0.0
    cov = min(1.0, max(0.0, float(coverage)))
    hc = cov if hit_coverage is None or hit_coverage != hit_coverage else min(1.0, max(0.0, float(hit_coverage)))
    ld = 0.5 if lead is None else min(1.0, max(0.0, float(lead)))
    return [float(np.log(share + _LOG_FLOOR)), sim, float(np.log(cov + _LOG_FLOOR)), float(np.log(hc + _LOG_FLOOR)), ld]


def confidence(keyword_score: float | None, best_attainable: float, dense_score: float | None,
               coverage: float = 1.0, hit_coverage: float | None = None, lead: float | None = None,
               lang: str | None = None) -> float:
    """How likely a hit answers its query, 0-1, comparable across queries and indexes.

    A logistic model per query language (:data:`CONFIDENCE_MODEL`) over
    :func:`confidence_features`, fitted to say whether the first hit of the default (hybrid)
    search is a right answer, on answerable and off-topic queries of a real corpus: about the
    share of such hits that are right.  Every input is relative (shares, similarities), none
    depends on the size of the index.

    Parameters
    ----------
    keyword_score
        The hit's BM25 score (``None``: keyword search did not return it).
    best_attainable
        The highest BM25 score any clause could reach for the query
        (:func:`~policyidx.retrieval.retrievers.max_attainable`).
    dense_score
        The hit's cosine similarity to the query (``None``: dense search did not return it).
    coverage
        How much of the query the index knows (:func:`~policyidx.retrieval.retrievers.query_coverage`).
    hit_coverage
        How much of the query's words the hit has
        (:func:`~policyidx.retrieval.retrievers.coverage_scores`; ``None``: not judged, taken
        as ``coverage``).
    lead
        :func:`confidence_lead` of the hit in its ranking (``None``: taken as 0.5).
    lang
        The query's language (its model in :data:`CONFIDENCE_MODEL`).

    Returns
    -------
    float
        In [0, 1]; ``>= CONFIDENT`` is ``confident``.
    """
    w = CONFIDENCE_MODEL.get(lang or "zh", CONFIDENCE_MODEL["zh"])
    x = confidence_features(keyword_score, best_attainable, dense_score, coverage, hit_coverage, lead)
    z = w[0] + sum(wi * xi for wi, xi in zip(w[1:], x))
    return float(1.0 / (1.0 + np.exp(-z)))


# ----------------------------------------------------------------------------- hits


@dataclass
class Hit:
    """One search result.

    ``highlights`` are ``(start, end)`` character offsets into ``text`` (the clause's own
    text) of the words that matched; ``snippet`` is a window of ``text`` around them that
    starts and ends on word boundaries, with ``snippet_start`` its offset in ``text``;
    ``expansions`` are glossary (or dictionary) renderings of query terms that the clause
    matched.  ``work`` is the document's work (original and translations share it), ``path``
    the clause's position in the document tree, ``citation`` the clause as people cite it
    (``第十二条第二款``, ``第12条第2項``), ``parents`` the headings of the enclosing clauses
    (outermost first), ``start``/``end`` the offsets of ``text`` in the document's text (the
    last four are ``None`` for an index built before they were recorded).

    ``confidence`` (0-1) says how well the clause answers the query, comparable across
    queries: the share of the query's best attainable keyword score that the clause reaches
    (each query term weighted by its best impact in the index), blended with the dense
    similarity; ``confident`` is ``confidence >= CONFIDENT`` (see README "Search quality").
    """

    rank: int
    score: float
    id: str
    doc: str
    lang: str
    label: str
    title: str | None
    text: str
    doc_title: str
    snippet: str
    snippet_start: int
    highlights: list[tuple[int, int]]
    expansions: list[str] = field(default_factory=list)
    keyword_score: float | None = None
    dense_score: float | None = None
    work: str | None = None
    path: list[int] = field(default_factory=list)
    citation: str | None = None
    parents: list[str] | None = None
    start: int | None = None
    end: int | None = None
    confidence: float = 0.0
    #: the keyword arguments :func:`confidence` was computed from (not in :meth:`to_dict`)
    confidence_inputs: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    _index: Index | None = field(default=None, repr=False)

    @property
    def confident(self) -> bool:
        """Whether the hit clears the confidence threshold :data:`CONFIDENT`."""
        return self.confidence >= CONFIDENT

    @property
    def clause(self) -> Clause:
        """The :class:`~policyidx.model.Clause` (loads the corpus on first use)."""
        if self._index is None:
            raise IndexError_("this hit is detached from its index")
        return self._index.corpus.clause(self.id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "score": round(float(self.score), 6),
            "id": self.id,
            "doc": self.doc,
            "lang": self.lang,
            "label": self.label,
            "title": self.title,
            "text": self.text,
            "doc_title": self.doc_title,
            "snippet": self.snippet,
            "snippet_start": self.snippet_start,
            "highlights": [list(h) for h in self.highlights],
            "expansions": self.expansions,
            "keyword_score": None if self.keyword_score is None else round(float(self.keyword_score), 6),
            "dense_score": None if self.dense_score is None else round(float(self.dense_score), 6),
            "work": self.work,
            "path": list(self.path),
            "citation": self.citation,
            "parents": self.parents,
            "start": self.start,
            "end": self.end,
            "confidence": round(float(self.confidence), 4),
            "confident": self.confident,
        }


# ----------------------------------------------------------------------------- the index


#: Query analyses an :class:`Index` keeps (see :meth:`Index.analyze_query`).
_ANALYSES_KEPT = 32
_ANALYSES_LOCK = threading.Lock()


class Index:
    """A built search index over a corpus's clauses.

    Use :meth:`build` to create one and :meth:`open` to open one; :meth:`search` answers
    queries in Chinese, Japanese or English.
    """

    def __init__(self, path: Path, manifest: dict[str, Any] | None = None, corpus: Corpus | None = None,
                 snapshot: Snapshot | None = None):
        self.path = Path(path)
        if snapshot is None and manifest is not None and not (self.path / "CURRENT").exists():
            snapshot = flat_snapshot(self.path, manifest)  # a shard of a sharded index: no snapshots
        self._snapshot = snapshot if snapshot is not None else open_snapshot(self.path)
        #: The directory of the snapshot this index reads, for its whole life.
        self.snapshot_path: Path = self._snapshot.path
        self.manifest = self._snapshot.manifest if manifest is None or snapshot is None else manifest
        self._corpus = corpus
        snap = self._snapshot.path
        self._snapshot.verify("rows")
        with _reading(snap / "rows"):
            count = self.manifest.get("clause_count")
            self.rows = RowStore(snap / "rows", count if isinstance(count, int) else None)
        self.row_doc = self.rows.row_doc
        self.row_lang = self.rows.row_lang
        self.docs: list[dict[str, Any]] = self.rows.docs
        self._doc_index = self.rows.doc_index
        self.alignments = AlignmentStore(snap / "alignments", verify=self._snapshot.verify_file)
        params = self.manifest.get("parameters")
        if not isinstance(params, dict) or not isinstance(self.manifest.get("encoder"), dict):
            raise CorruptIndexError(f"{snap / 'manifest.json'} lacks the parameters or the encoder; rebuild the index")
        self.params: dict[str, Any] = params
        self.glossary_files: list[str] = list(self.manifest.get("glossary_files", []))
        self._alignments: dict[tuple[str, str], Any] = {}
        self._retrievers: dict[str, Retriever] = {}
        # queries segment as the clauses were: the analyzer has the term files of the build
        described = self.manifest.get("analyzer") or {}
        self._snapshot.verify("analyzer")
        if (snap / "analyzer" / "lexicon.json").is_file() and os.environ.get("POLICYIDX_SEGCACHE", "1") != "0":
            # the stored segmenter state: no jieba dictionary to load in this process
            with _reading(snap / "analyzer"):
                self.analyzer = Analyzer.load(snap / "analyzer", described)
        else:
            self.analyzer = Analyzer.for_files(described.get("term_files", self.glossary_files))

    @cached_property
    def glossary(self):
        """The glossary used for query expansion: the bundled one, the corpus catalog's
        ``glossary`` files, and any given to :meth:`open`."""
        from ..text.glossary import default_glossary

        return default_glossary(tuple(self.glossary_files))

    # ------------------------------------------------------------------ build

    @classmethod
    def build(
        cls,
        corpus: Corpus | str | Path | None = None,
        path: str | Path | None = None,
        *,
        encoder: str = "builtin",
        dim: int = DEFAULT_DIM,
        k1: float = BM25_K1,
        b: float = BM25_B,
        progress: bool = False,
        align: bool = True,
        scorer: str = "lucene",
        client: Any = None,
        shards: int | None = None,
    ) -> Index:
        """Build an index and write it atomically.

        Parameters
        ----------
        corpus
            The corpus to index: a loaded :class:`~policyidx.corpus.Corpus`, the path of a corpus
            directory (loaded here), or ``None`` for the bundled one.
        path
            Index directory (the corpus's default index when ``None``).  An existing index
            there is replaced only once the new one is complete.
        encoder
            ``builtin`` (the default: learned from the corpus, offline) or
            ``st:<model name or path>`` for a sentence-transformers model.
        dim
            Width of the built-in encoder's vectors.
        k1, b
            BM25 parameters (defaults :data:`~policyidx.index.build.BM25_K1`,
            :data:`~policyidx.index.build.BM25_B`, chosen on real legal text).
        scorer
            The BM25 variant, by name: ``lucene`` (the default), ``robertson``, ``atire``,
            ``bm25l`` or ``bm25+`` (see :mod:`policyidx.retrieval.scorers`).
        progress
            Show progress bars.
        align
            Also align every original with its translations and store the alignments.
        client, shards
            A ``distributed.Client`` and/or a number of shards: build a sharded index instead
            (one sub-index per group of works, built as Dask tasks on the client's workers, or
            here without a client); returns a :class:`policyidx.index.sharded.ShardedIndex`.
            Needs ``pip install "policyidx[dask]"`` for a client.
        """
        if client is not None or shards is not None:
            from .sharded import build_sharded

            return build_sharded(corpus, path, shards=shards, client=client, encoder=encoder, dim=dim,  # type: ignore[return-value]
                                 k1=k1, b=b, progress=progress, align=align, scorer=scorer)
        corpus = corpus if isinstance(corpus, Corpus) else Corpus.load(corpus, progress=progress)
        target = Path(path) if path is not None else default_index_path(corpus.root)
        build_index(corpus, target, encoder=encoder, dim=dim, k1=k1, b=b, progress=progress, align=align,
                    scorer=scorer)
        return cls(target, None, corpus)

    # ------------------------------------------------------------------ open

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        corpus: Corpus | str | Path | None = None,
        build: bool | None = None,
        progress: bool = False,
        glossary: Sequence[str | Path] = (),
        client: Any = None,
    ) -> Index:
        """Open an index.

        Parameters
        ----------
        path
            The index directory; ``None`` for the default index of ``corpus``, which is built
            on first use and rebuilt when the corpus has changed.  An existing index at
            ``$POLICYIDX_INDEX`` is opened as if given here (checked against the corpus it
            was built from, not rebuilt).
        corpus
            The corpus (or its directory) the index must match; by default the one recorded in
            the manifest (for the default index: the bundled corpus).
        build
            Build the index when it is missing or stale (default: only for the default index).
        glossary
            User glossary files (TSV, see :mod:`policyidx.glossary`) that extend or override the
            bundled glossary for query expansion.
        client
            A ``distributed.Client``: a sharded index is then searched on its workers (each
            shard opened once on one worker); without one, in this process.  A single index is
            always searched here.

        Raises
        ------
        IndexError_
            No index at ``path`` (and ``build`` is false).
        CorruptIndexError
            A damaged file (the message names it): rebuild the index.
        StaleIndexError
            The index was built from another corpus, format or library version, with other
            glossary files, or its corpus is gone: rebuild it.
        """
        is_default = path is None
        if isinstance(corpus, (str, Path)):
            corpus_root: Path | None = Path(corpus)
            corpus_obj: Corpus | None = None
        else:
            corpus_obj = corpus
            corpus_root = corpus.root if corpus is not None else None
        if path is None:
            path = default_index_path(corpus_root)
            if os.environ.get("POLICYIDX_INDEX") and is_index_dir(Path(path)):
                # an index named by $POLICYIDX_INDEX is any index, not the bundled corpus's
                # default one: checked against its own corpus, never rebuilt from another
                is_default = False
        path = Path(path)
        build = is_default if build is None else build
        previous: dict[str, Any] | None = None  # what a rebuild builds like
        if not (path / "CURRENT").exists():
            manifest, _ = read_manifest(path)
            if manifest is not None and "shard" in manifest:  # one shard of a sharded index, opened alone
                problem, corpus_root = staleness(path, manifest, corpus_root, corpus_obj, is_default)
                if problem is not None:
                    raise StaleIndexError(f"{problem}; rebuild the sharded index it belongs to")
                idx = cls(path, manifest, corpus_obj)
                idx._corpus_root = corpus_root or Path(manifest.get("corpus_path", ""))
                idx.glossary_files.extend(str(Path(g).resolve()) for g in glossary)
                return idx
            previous = manifest  # a layout before snapshots (a sharded index too) is rebuilt as it was
        snap, problem, corpus_root = cls._current(path, corpus_root, corpus_obj, is_default)
        if problem is not None and build:
            with writer_lock(path, wait=True):  # one build; a process that waited finds it done
                snap, problem, corpus_root = cls._current(path, corpus_root, corpus_obj, is_default)
                if problem is not None:
                    if snap is not None:  # rebuilt as it was built
                        previous = snap.manifest
                        snap.close()
                    previous = previous or {}
                    encoder = str((previous.get("encoder") or {}).get("name", "builtin"))
                    scorer = str((previous.get("parameters") or {}).get("scorer", "lucene"))
                    corpus_obj = corpus_obj or Corpus.load(corpus_root)
                    if previous.get("layout") == "sharded":
                        from .sharded import build_sharded

                        build_sharded(corpus_obj, path, shards=len(previous.get("shards") or [0]), client=client,
                                      encoder=encoder, scorer=scorer, progress=progress, locked=True).close()
                    else:
                        build_index(corpus_obj, path, progress=progress, encoder=encoder, scorer=scorer, locked=True)
                    snap, problem = open_snapshot(path), None
        if problem is not None:
            if snap is None and problem.startswith("no index at"):
                raise IndexError_(f"{problem}; run `policyidx build --index {path}`")
            if snap is not None:
                snap.close()
            raise StaleIndexError(f"{problem}; run `policyidx build --index {path}` to rebuild it")
        assert snap is not None
        idx = cls.from_snapshot(path, snap, corpus_obj, glossary=glossary, client=client)
        idx._corpus_root = corpus_root or Path(snap.manifest.get("corpus_path", ""))
        return idx

    @classmethod
    def from_snapshot(cls, path: str | Path, snapshot: Snapshot | None = None, corpus: Corpus | None = None, *,
                      glossary: Sequence[str | Path] = (), client: Any = None) -> Index:
        """The index whose snapshot is ``snapshot`` (by default the current one at ``path``,
        opened here), single or sharded, with no check of staleness (:meth:`open` checks).

        Raises
        ------
        IndexError_, StaleIndexError, CorruptIndexError
            As :meth:`open` (staleness aside).
        """
        path = Path(path)
        snap = snapshot if snapshot is not None else open_snapshot(path)
        if snap.manifest.get("layout") == "sharded":
            from .sharded import ShardedIndex

            return ShardedIndex(path, client=client, glossary=glossary, snapshot=snap)  # type: ignore[return-value]
        try:
            idx = cls(path, snap.manifest, corpus, snapshot=snap)
        except BaseException:
            snap.close()
            raise
        idx.glossary_files.extend(str(Path(g).resolve()) for g in glossary)
        return idx

    @staticmethod
    def _current(path: Path, corpus_root: Path | None, corpus: Corpus | None,
                 is_default: bool) -> tuple[Snapshot | None, str | None, Path | None]:
        """The current snapshot (``None`` when there is none), why it must be rebuilt
        (``None`` if it need not) and the corpus directory."""
        try:
            snap = open_snapshot(path)
        except StaleIndexError as exc:  # a layout this library does not read
            return None, str(exc), corpus_root
        except CorruptIndexError:
            raise
        except IndexError_ as exc:
            if not str(exc).startswith("no index at"):
                raise
            return None, str(exc), corpus_root
        try:
            problem, root = staleness(path, snap.manifest, corpus_root, corpus, is_default)
        except BaseException:
            snap.close()
            raise
        return snap, problem, root

    # ------------------------------------------------------------------ life and checks

    def close(self) -> None:
        """Release the snapshot this index reads (a later build may then remove it).  The
        index must not be used afterwards."""
        self._snapshot.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self) -> dict[str, Any]:
        """Verify the whole snapshot: every file's size and CRC32 against the manifest
        (memory-mapped arrays included, which opening checks only for size and bounds),
        then the bounds of every part, by loading it.

        Returns
        -------
        dict
            ``index``, ``snapshot``, ``files`` (count), ``bytes``, and ``problems`` (one
            line each, naming the file; empty for a sound index).
        """
        problems = self._snapshot.check() + self._alignment_problems()
        if not problems:
            for part in ("keyword", "vectors", "encoder", "glosses"):
                try:
                    getattr(self, part)
                except PolicyIdxError as exc:
                    problems.append(str(exc))
        return self._snapshot.report(self.path, problems)

    def _alignment_problems(self) -> list[str]:
        """The problems of the stored alignments by their own checksum lines (those stored on
        request after the build are not in the manifest)."""
        listed = self._snapshot.files

        def in_manifest(f: Path) -> bool:
            try:
                return f.relative_to(self.snapshot_path).as_posix() in listed
            except ValueError:
                return False

        return self.alignments.check(in_manifest)

    # ------------------------------------------------------------------ lazy parts

    @property
    def corpus(self) -> Corpus:
        """The corpus the index was built from (parsed on first use)."""
        if self._corpus is None:
            root = getattr(self, "_corpus_root", None) or Path(self.manifest.get("corpus_path", ""))
            self._corpus = Corpus.load(root)
        return self._corpus

    @cached_property
    def keyword(self):
        return self._bm25_part("keyword")

    @cached_property
    def glosses(self):
        """The gloss index (:func:`~policyidx.index.build.gloss_index`), ``None`` for an index
        built without the dictionaries or before it existed."""
        if not any(f.startswith("glosses/") for f in self._snapshot.files):
            return None
        return self._bm25_part("glosses")

    def _bm25_part(self, part: str):
        """The BM25 index stored as ``part`` of the snapshot, checked against the manifest and
        against the number of rows."""
        from ..retrieval.keyword import BM25Index

        where = self.snapshot_path / part
        self._snapshot.verify(part)
        with _reading(where):
            index = BM25Index.load(where, mmap=True)
        if index.n_docs != len(self.rows):
            raise CorruptIndexError(f"{where} indexes {index.n_docs} rows, the index has {len(self.rows)}; "
                                    "rebuild the index")
        return index

    @cached_property
    def vectors(self):
        from ..retrieval.vectors import VectorStore

        where = self.snapshot_path / "vectors"
        self._snapshot.verify("vectors", missing_ok=(".index",))  # the FAISS cache can be rebuilt
        with _reading(where):
            store = VectorStore.load(where, mmap=True)  # a missing FAISS cache is rebuilt in memory only
        if len(store) != len(self.rows):
            raise CorruptIndexError(f"{where} holds {len(store)} vectors, the index has {len(self.rows)} rows; "
                                    "rebuild the index")
        return store

    @cached_property
    def encoder(self):
        from ..retrieval.encoders import load_encoder

        enc_dir = self.snapshot_path / "encoder"
        self._snapshot.verify("encoder")
        with _reading(enc_dir):
            return load_encoder(enc_dir if enc_dir.is_dir() else None, self.manifest["encoder"])

    def retriever(self, mode: str = "hybrid") -> Retriever:
        """The retriever of a search mode (see :mod:`policyidx.retrieval.modes`) over this
        index's parts; only the parts the mode uses are loaded."""
        if mode not in self._retrievers:
            self._retrievers[mode] = make_retriever(mode, self._part, self.params)
        return self._retrievers[mode]

    def _part(self, name: str) -> Retriever:
        from ..retrieval.retrievers import DenseRetriever, GlossRetriever, KeywordRetriever

        if name == "keyword":
            return KeywordRetriever(self.keyword)
        if name == "dense":
            return DenseRetriever(lambda: self.encoder, self.vectors)
        if name == "glosses":
            if self.glosses is None:
                raise QueryError("this index has no gloss index (built before it existed, or without the dictionaries): "
                                 "rebuild it with the dictionaries installed")
            return GlossRetriever(self.glosses)
        if name == "row_doc":
            return self.row_doc
        if name == "context":
            return self.context_scores
        if name == "coverage":
            return self.coverage_scores
        if name == "row_lang":
            return self.languages_of
        if name == "row_title":
            return self.titles_of
        if name == "row_quantity":
            return self.quantities_of
        if name == "row_sanction":
            return self.sanctions_of
        if name == "row_boilerplate":
            return self.boilerplate_of
        if name == "row_gloss":
            return self.gloss_shares
        if name == "jurisdictions":
            return lambda: self.jurisdictions
        if name == "lang_shares":
            return lambda: self.language_shares
        raise QueryError(f"this index has no retriever {name!r}; it has keyword and dense")

    def context_of(self, row: int) -> tuple[LazyTerms, str]:
        """A row's context, its document's title and the headings of its enclosing clauses:
        their index terms (a :class:`~policyidx.text.analysis.LazyTerms`, analysed with the
        active analyzer once per distinct context, when first asked about a term it could
        hold) and their text."""
        key, text = self._context_key_text(row)
        cache = self._context_cache
        got = cache.get(key)
        if got is None:
            if len(cache) >= 200_000:  # a long-lived index: bounded memory
                cache.clear()
                self._context_parts.clear()
            got = cache[key] = (LazyTerms(text, key[2], self._context_parts), text)
        return got

    def context_text(self, row: int) -> str:
        """The text of a row's context (:meth:`context_of`) without analysing it."""
        return self._context_key_text(row)[1]

    def _context_key_text(self, row: int) -> tuple[tuple[int, tuple[str, ...], str], str]:
        rec = self.rows.meta(row)
        d = int(self.row_doc[row])
        key = (d, tuple(rec.get("parents") or ()), rec.get("lang") or "zh")
        return key, " ".join([self.docs[d].get("title") or "", *key[1]]).strip()

    @cached_property
    def _context_cache(self) -> dict[tuple[int, tuple[str, ...], str], tuple[LazyTerms, str]]:
        return {}

    @cached_property
    def _context_parts(self) -> dict[tuple[str, str], frozenset[str]]:
        """The terms of each title and heading analysed so far (shared by the contexts)."""
        return {}

    def context_scores(self, terms: dict[str, float], rows: np.ndarray,
                       idf: dict[str, float] | None = None) -> np.ndarray:
        """What each row's context adds for a query's ``terms``
        (:func:`~policyidx.retrieval.retrievers.context_scores` over this index); ``idf``
        gives the terms' idf (a shard of a sharded index is given the collection's), else
        they are this index's."""
        from ..retrieval.retrievers import context_scores

        kw = self.keyword
        return context_scores(terms, rows, has_term=lambda t, r: kw.score({t: 1.0}, r) > 0,
                              context_of=self.context_of, row_text=self.rows.text,
                              idf=self._own_idf if idf is None else (lambda t: float(idf.get(t, 0.0))),
                              k1=float(self.params.get("k1", kw.k1)))

    def coverage_scores(self, terms: dict[str, float], rows: np.ndarray, idf: dict[str, float] | None = None,
                        context_share: float | None = None) -> np.ndarray:
        """How much of a query's own words each row covers, 0-1
        (:func:`~policyidx.retrieval.retrievers.coverage_scores` over this index); ``idf`` as
        for :meth:`context_scores`; ``context_share`` (what a word only the row's context has
        counts for) defaults to the index's parameter ``coverage_share``; the proximity of the
        query's words is weighed by the parameters ``proximity_weight`` and ``proximity_gap`` (their order by
        ``ordered_weight`` and ``ordered_gap``), a word
        written out in full (:func:`~policyidx.retrieval.retrievers.in_order`) by ``abbreviation_share``."""
        from ..retrieval.modes import HYBRID_DEFAULTS, set_proximity_weight
        from ..retrieval.retrievers import coverage_scores

        kw = self.keyword
        share = self.params.get("coverage_share", HYBRID_DEFAULTS["coverage_share"]) if context_share is None \
            else context_share
        return coverage_scores(terms, rows, has_term=lambda t, r: kw.score({t: 1.0}, r) > 0,
                               context_text=self.context_text, row_text=self.rows.text,
                               idf=self._own_idf if idf is None else (lambda t: float(idf.get(t, 0.0))),
                               context_share=float(share),
                               proximity_weight=float(self.params.get("proximity_weight",
                                                                      HYBRID_DEFAULTS["proximity_weight"])),
                               proximity_gap=int(self.params.get("proximity_gap", HYBRID_DEFAULTS["proximity_gap"])),
                               abbreviation_share=float(self.params.get("abbreviation_share",
                                                                        HYBRID_DEFAULTS["abbreviation_share"])),
                               ordered_weight=float(self.params.get("ordered_weight", HYBRID_DEFAULTS["ordered_weight"])),
                               ordered_gap=int(self.params.get("ordered_gap", HYBRID_DEFAULTS["ordered_gap"])),
                               set_proximity_weight=set_proximity_weight(self.params, getattr(terms, "lang", None)))

    def languages_of(self, rows: np.ndarray) -> np.ndarray:
        """The language (``zh``, ``ja``, ``en``) of each of ``rows``."""
        names = np.array(sorted(LANG_CODES, key=LANG_CODES.__getitem__))
        return names[np.asarray(self.row_lang)[np.asarray(rows, dtype=np.int64)]]

    @cached_property
    def language_shares(self) -> dict[str, float]:
        """The share of the index's rows in each language (``{"zh": 0.99, "ja": 0.01}``)."""
        from ..retrieval.retrievers import language_shares

        return language_shares(self.row_lang, sorted(LANG_CODES, key=LANG_CODES.__getitem__))

    def sanctions_of(self, rows: np.ndarray) -> np.ndarray:
        """Whether each of ``rows`` states a sanction, read with the headings and lead-ins of its
        enclosing clauses (an item of "有下列行为之一的，处……罚款：" states the fine of its lead-in;
        :func:`~policyidx.retrieval.retrievers.has_sanction`)."""
        from ..retrieval.retrievers import has_sanction

        rows = np.asarray(rows, dtype=np.int64).tolist()
        return has_sanction(" ".join([self.rows.text(r), *(self.rows.meta(r).get("parents") or ())]) for r in rows)

    def boilerplate_of(self, rows: np.ndarray) -> np.ndarray:
        """Whether each of ``rows`` is a formal part of its document: a copy of its title, or a
        purpose, commencement or repeal article (:func:`~policyidx.retrieval.retrievers.is_boilerplate`)."""
        from ..retrieval.retrievers import is_boilerplate

        rows = np.asarray(rows, dtype=np.int64)
        return is_boilerplate((self.rows.text(int(r)) for r in rows.tolist()), self.titles_of(rows))

    def quantities_of(self, rows: np.ndarray) -> np.ndarray:
        """Whether each of ``rows`` states a number with a unit
        (:func:`~policyidx.retrieval.retrievers.has_quantity`)."""
        from ..retrieval.retrievers import has_quantity

        return has_quantity(self.rows.text(int(r)) for r in np.asarray(rows, dtype=np.int64).tolist())

    def gloss_shares(self, words: Sequence[str], rows: np.ndarray,
                     renderings: dict[str, Sequence[str]] | None = None) -> np.ndarray:
        """Per row, the share of ``words`` (an English query's content words, stemmed:
        :func:`~policyidx.text.lexicons.english_query_words`) that the English glosses of the
        Chinese words written in the row hold
        (:meth:`~policyidx.text.lexicons.Lexicon.gloss_words_in`) or that the row has one of
        the ``renderings`` of (per word: the query side's translation of it); NaN for a row
        not in Chinese (a Japanese translation).  An index with a gloss index reads the rows'
        glosses there (its postings: the same gloss bags, made at build time); an older one
        reads them from the rows' text."""
        from ..text.han import HAN_RUN
        from ..text.lexicons import default_lexicon

        rows = np.asarray(rows, dtype=np.int64)
        out = np.full(len(rows), np.nan)
        want = sorted(set(words))
        lex = default_lexicon()
        if not want or not len(lex):
            return out
        zh = self.languages_of(rows) == "zh"
        held = np.zeros((len(want), len(rows)), dtype=bool)  # word x row: the row holds the word
        texts: list[str] | None = None
        if any((renderings or {}).get(w) for w in want):
            texts = [self.rows.text(int(r)) if z else "" for r, z in zip(rows.tolist(), zh)]
            for j, w in enumerate(want):
                if rs := (renderings or {}).get(w):
                    # one search per row for all of the word's renderings
                    found = re.compile("|".join(map(re.escape, dict.fromkeys(rs)))).search
                    held[j] = [found(t) is not None for t in texts]
        if self.glosses is not None:
            for j, w in enumerate(want):
                held[j] |= self.glosses.contains(w, rows)
        else:  # an index without a gloss index: each row's words read in their glosses now
            for i in np.flatnonzero(zh).tolist():
                left = frozenset(w for j, w in enumerate(want) if not held[j, i])
                got: set[str] = set()
                for run in HAN_RUN.findall(texts[i] if texts is not None else self.rows.text(int(rows[i]))):
                    if left <= got:
                        break
                    got |= lex.gloss_words_in(run, left - got)
                held[:, i] |= [w in got for w in want]
        out[zh] = held[:, zh].sum(axis=0) / len(want)
        return out

    def titles_of(self, rows: np.ndarray) -> list[str]:
        """The title of each of ``rows``' documents."""
        return [self.docs[d].get("title") or "" for d in np.asarray(self.row_doc)[np.asarray(rows, dtype=np.int64)].tolist()]

    @cached_property
    def jurisdictions(self) -> frozenset[str]:
        """The provinces and cities named at the head of the documents' titles
        (:func:`~policyidx.retrieval.retrievers.jurisdiction_names`)."""
        from ..retrieval.retrievers import jurisdiction_names

        return jurisdiction_names(d.get("title") or "" for d in self.docs)

    def _own_idf(self, t: str) -> float:
        from ..retrieval.retrievers import lucene_idf

        kw = self.keyword
        tid = kw.term_ids.get(t)
        return 0.0 if tid is None else lucene_idf(float(kw.indptr[tid + 1] - kw.indptr[tid]), kw.n_docs)

    def __len__(self) -> int:
        return len(self.rows)

    def row_id(self, row: int) -> str:
        return self.rows.id(row)

    @property
    def _row_of_id(self) -> dict[str, int]:
        return self.rows.row_of_id

    def record(self, row: int) -> dict[str, Any]:
        return self.rows.record(row)

    # ------------------------------------------------------------------ search

    def _mask(self, lang: str | None, docs: Sequence[str] | None, works: Sequence[str] | None,
              roles: Sequence[str] | None) -> RowFilter | None:
        return Filter(lang=lang, docs=docs, works=works, roles=roles).rows(self.docs, self.row_doc)

    def _check_query(self, query: str, mode: str, k: int) -> str:
        if not isinstance(query, str):
            raise QueryError(f"a query must be a string, not {type(query).__name__}")
        bad = _SURROGATE.search(query)
        if bad:
            code = ord(bad.group())
            what = (f"the byte 0x{code - 0xDC00:02x}, which is not UTF-8" if 0xDC80 <= code <= 0xDCFF
                    else f"a lone surrogate U+{code:04X}, which is not text")
            raise QueryError(f"the query has {what} (at character {bad.start()}); give the query as UTF-8 text")
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError(f"the query has {len(query):,} characters; at most {MAX_QUERY_CHARS:,} are searched: "
                             "shorten it")
        q = query.strip()
        if not q:
            raise QueryError("empty query: give some words to search for")
        if not any(ch.isalnum() for ch in q):
            raise QueryError(f"the query {query!r} has only punctuation: give some words to search for")
        if mode not in mode_names():
            raise QueryError(f"unknown mode {mode!r}; expected one of {', '.join(mode_names())}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise QueryError(f"k must be a positive whole number, not {k!r}")
        return q

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
    ) -> list[Hit]:
        """Find the clauses that answer a query.

        Parameters
        ----------
        query
            Words or a sentence in Chinese, Japanese or English (up to 20,000 characters;
            a longer query, or one that is not valid Unicode text, is a :class:`QueryError`).
        k
            Number of hits (a ``k`` above the number of clauses returns every match).
        mode
            ``keyword`` (BM25 over words and shared Han characters), ``dense`` (the
            embedding index) or ``hybrid`` (both, fused by reciprocal rank).
        lang
            Only clauses in this language (``zh`` or ``ja``).
        docs, works, roles
            Only clauses of these documents, works, or document roles.
        query_lang
            The query's language, detected when ``None``.
        expand
            Add the glossary's renderings of query terms in the other languages.
        dictionaries
            With ``expand``, also render the words of an English or Japanese query that the
            glossary does not know with the general dictionaries (CC-CEDICT, JMdict; see
            :mod:`policyidx.text.lexicons`), keeping renderings that are terms of this index.

        Raises
        ------
        QueryError
            Empty, punctuation-only, too long or non-Unicode query, unknown mode or language,
            ``k`` not a positive whole number.
        NotFoundError
            Unknown document or work id in a filter.
        """
        q = self._check_query(query, mode, k)
        k = min(k, len(self))  # nothing more can be found; a huge k would size arrays by it
        mask = self._mask(lang, docs, works, roles)
        with self.analyzer.active():
            exp = self.analyze_query(q, query_lang, expand=expand, dictionaries=dictionaries)
            return self._search(exp, k, mode, mask)

    def analyze_query(self, query: str, query_lang: str | None = None, *, expand: bool = True,
                      dictionaries: bool = True) -> Expansion:
        """The query as the retrievers see it: its terms by this index's analyzer, with the
        glossary's renderings in the other languages when ``expand`` (and, for English and
        Japanese words the glossary does not know, the general dictionaries' renderings that
        are terms of this index when ``dictionaries``).

        The last few analyses are kept (an English or Japanese query's expansion scores its
        renderings on the index's postings, tens of milliseconds on a large index), so asking
        again for a query just searched, as ``policyidx search`` does to label its
        renderings, costs nothing.  The returned object is shared: do not modify it.
        """
        key = (query.strip(), query_lang, expand, dictionaries, tuple(self.glossary_files))
        cache = self._analyses
        hit = cache.get(key)
        if hit is not None:
            return hit
        with self.analyzer.active():
            exp = expand_query(query, query_lang, self.glossary if expand else None, enabled=expand,
                               weight=self.params.get("expansion_weight", 0.5), dictionaries=dictionaries,
                               known=self.keyword.term_ids.__contains__, corpus=self.keyword)
        with _ANALYSES_LOCK:
            if len(cache) >= _ANALYSES_KEPT:
                cache.pop(next(iter(cache)), None)  # the oldest (dicts keep insertion order)
            cache[key] = exp
        return exp

    @cached_property
    def _analyses(self) -> dict[tuple[Any, ...], Expansion]:
        return {}

    def _search(self, exp: Expansion, k: int, mode: str, rows: RowFilter | None) -> list[Hit]:
        from ..retrieval.retrievers import judged_coverage

        # a few rows more than asked (same candidates, same first k) give the last hits their lead
        ranking = self.retriever(mode).search(exp, min(lead_depth(k), len(self)), rows)
        if mode != "dense" and exp.passed_over:
            # an English word's renderings the corpus passed over, that the best clauses write
            fed = feedback_expansion(exp, (self.rows.text(int(r)) for r in ranking.rows[:k]),
                                     self.keyword.term_ids.__contains__)
            if fed is not None:
                exp = fed
                ranking = self.retriever(mode).search(exp, min(lead_depth(k), len(self)), rows)
        parts = ranking.components or {mode: ranking}
        kw = parts["keyword"].score_of() if "keyword" in parts else {}
        dn = parts["dense"].score_of() if "dense" in parts else {}
        best = max_attainable(self.keyword, exp.terms) if mode != "dense" else 0.0
        cov = query_coverage(exp.terms, self.keyword.term_ids.__contains__)
        pairs = ranking.pairs()
        scores = [s for _, s in pairs]
        pairs = pairs[:k]
        hcov = judged_coverage(self.coverage_scores, exp, np.array([r for r, _ in pairs], dtype=np.int64),
                               self.languages_of) if exp.terms and pairs else np.full(len(pairs), np.nan)
        return [self._hit(row, rank, score, exp, kw.get(row), dn.get(row), best, mode,
                          {"coverage": cov, "hit_coverage": None if np.isnan(hc) else float(hc),
                           "lead": confidence_lead(scores, rank - 1), "lang": exp.lang})
                for rank, ((row, score), hc) in enumerate(zip(pairs, hcov), 1)]

    def _hit(self, row: int, rank: int, score: float, exp: Expansion, kws: float | None, dns: float | None,
             best: float = 0.0, mode: str = "hybrid", context: dict[str, Any] | None = None) -> Hit:
        rec = self.record(row)
        text = rec["text"]
        toks = self.rows.tokens(row)  # stored at build time (None: segmented again)
        spans, matched = highlight(text, rec["lang"], exp, toks)
        snippet, s0 = make_snippet(text, spans, lang=rec["lang"], tokens=toks)
        doc = self.docs[int(self.row_doc[row])]
        if mode == "dense" and dns is None:
            dns = score
        inputs = {"keyword_score": kws, "best_attainable": best, "dense_score": dns, **(context or {})}
        return Hit(rank=rank, score=float(score), id=rec["id"], doc=doc["id"], lang=rec["lang"], label=rec["label"],
                   title=rec["title"], text=text, doc_title=doc["title"], snippet=snippet, snippet_start=s0,
                   highlights=spans, expansions=matched, keyword_score=kws, dense_score=dns, work=doc.get("work"),
                   path=list(rec.get("path", [])), citation=rec.get("citation"), parents=rec.get("parents"),
                   start=rec.get("start"), end=rec.get("end"), confidence=confidence(**inputs),
                   confidence_inputs=inputs, _index=self)

    # ------------------------------------------------------------------ alignment

    def alignment(self, src: str, tgt: str, *, reviewed: bool = True):
        """The alignment of document ``src`` with ``tgt``: stored with the index when it was
        built (and both documents are unchanged since), computed otherwise (and kept in
        memory: reading an index never writes into it; :meth:`store_alignment` does).

        The stored alignment of a pair is also used, reversed, for the pair the other way round.
        With ``reviewed`` (the default), the corrections of the corpus's review store
        (:attr:`review_store`, a file beside the corpus, never in the index) are replayed
        on it; ``reviewed=False`` gives the automatic alignment.
        """
        al = self._automatic_alignment(src, tgt)
        if not reviewed or not self.review_store.ops(src, tgt):
            return al
        return self.review_store.apply(al, self.corpus[src], self.corpus[tgt], glossary=self.glossary)

    @cached_property
    def review_store(self):
        """The :class:`~policyidx.review.ReviewStore` of the corpus (``review.json`` beside it)."""
        from ..review import ReviewStore

        return ReviewStore.for_corpus(getattr(self, "_corpus_root", None) or self.corpus.root)

    def _automatic_alignment(self, src: str, tgt: str):
        from ..alignment import align

        if (src, tgt) in self._alignments:
            return self._alignments[(src, tgt)]
        corpus = self.corpus
        a, b = corpus[src], corpus[tgt]
        fp_a, fp_b = corpus.doc_fingerprint(src), corpus.doc_fingerprint(tgt)
        al = self.alignments.get(src, tgt, fp_a, fp_b)
        if al is None:
            enc = self.encoder if self.manifest["encoder"].get("name") == "builtin" else None
            al = align(a, b, encoder=enc)
        self._alignments[(src, tgt)] = al
        return al

    def store_alignment(self, src: str, tgt: str) -> Path:
        """Compute (if need be) and store the alignment of ``src`` with ``tgt`` in the index
        (the automatic one: review corrections stay in the review store)."""
        al = self._automatic_alignment(src, tgt)
        corpus = self.corpus
        return self.alignments.put(al, corpus.doc_fingerprint(src), corpus.doc_fingerprint(tgt))

    def aligned_clauses(self, clause_id: str, docs: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """The clauses aligned with ``clause_id`` in the other language of the same work.

        Only an original and its translations are aligned; returns ``(clause id, pair score)``
        pairs, empty for a clause of a work without such a pair (or aligned to nothing).

        Parameters
        ----------
        clause_id
            ``<doc>#<path>``.
        docs
            Only in these documents.
        """
        own_id = clause_id.split("#", 1)[0]
        own = next((d for d in self.docs if d["id"] == own_id), None)
        if own is None:
            raise NotFoundError(f"no document {own_id!r} in the index; known: {', '.join(sorted(self._doc_index))}")
        out: list[tuple[str, float]] = []
        for other in self.docs:
            if other["work"] != own["work"] or other["lang"] == own["lang"]:
                continue
            if {own["role"], other["role"]} != {"original", "translation"} or (docs and other["id"] not in docs):
                continue
            cp = self.alignment(own["id"], other["id"]).counterpart(clause_id)
            out.extend((cid, float(cp.score)) for cid in (cp.tgt if clause_id in cp.src else cp.src))
        return out

    def aligned_counterpart(self, clause_id: str) -> str | None:
        """The first clause aligned with ``clause_id`` in the other language of its work
        (see :meth:`aligned_clauses`), or ``None``; the ``counterpart`` of
        :func:`policyidx.terms` for an index."""
        aligned = self.aligned_clauses(clause_id)
        return aligned[0][0] if aligned else None

    def counterparts(self, clause_id: str, k: int = 5, docs: Sequence[str] | None = None) -> list[Counterpart]:
        """The clauses elsewhere that state the same provision.

        For a clause of a work with an original and a translation in the corpus, the aligned
        clause(s) of the other language come first (method ``alignment``); then the most
        similar clauses of other documents by hybrid search on the clause's text (method
        ``search``).

        Parameters
        ----------
        clause_id
            ``<doc>#<path>``.
        k
            How many counterparts.
        docs
            Only in these documents.
        """
        if not isinstance(clause_id, str):
            raise QueryError(f"a clause id must be a string like 'doc#1.2', not {type(clause_id).__name__}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise QueryError(f"k must be a positive whole number, not {k!r}")
        k = min(k, len(self))
        if clause_id not in self._row_of_id:
            self.corpus.clause(clause_id)  # raises NotFoundError with the document's context
            raise NotFoundError(f"clause {clause_id!r} has no text of its own to compare")
        return collect_counterparts(self, clause_id, k, docs, self.docs, self.search)

    def _counterpart(self, cid: str, score: float, method: str) -> Counterpart:
        rec = self.record(self._row_of_id[cid])
        doc = self.docs[int(self.row_doc[self._row_of_id[cid]])]
        return Counterpart(rank=0, id=cid, doc=doc["id"], lang=rec["lang"], score=score, method=method,
                           label=rec["label"], title=rec["title"], text=rec["text"])

    def __repr__(self) -> str:
        return f"Index({str(self.path)!r}, {len(self)} clauses, encoder={self.manifest['encoder'].get('name')})"


@dataclass
class Counterpart:
    """A clause of another document stating the same provision (see :meth:`Index.counterparts`)."""

    rank: int
    id: str
    doc: str
    lang: str
    score: float
    method: str  # "alignment" or "search"
    label: str
    title: str | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "id": self.id, "doc": self.doc, "lang": self.lang, "score": round(self.score, 6),
                "method": self.method, "label": self.label, "title": self.title, "text": self.text}


def collect_counterparts(local: Index, clause_id: str, k: int, docs: Sequence[str] | None,
                         all_docs: Sequence[dict[str, Any]], search: Any) -> list[Counterpart]:
    """The counterparts of a clause that ``local`` holds: its aligned clauses there, then the
    best hits of ``search`` (``Index.search`` of a single or a sharded index) over the other
    documents of ``all_docs``.  One implementation for :meth:`Index.counterparts` and the
    sharded index's; the caller has checked ``clause_id`` and ``k``."""
    row = local._row_of_id[clause_id]
    own = local.docs[int(local.row_doc[row])]
    out: list[Counterpart] = []
    seen = {clause_id}
    for cid, score in local.aligned_clauses(clause_id, docs):
        if cid in local._row_of_id and cid not in seen:
            seen.add(cid)
            out.append(local._counterpart(cid, score, "alignment"))
    allowed = [d["id"] for d in all_docs if d["id"] != own["id"] and (not docs or d["id"] in docs)]
    if allowed and len(out) < k:
        text = local.rows.text(row)[:MAX_QUERY_CHARS]
        if any(ch.isalnum() for ch in text):
            for h in search(text, k=k + len(seen), docs=allowed, query_lang=own["lang"]):
                if h.id not in seen:
                    seen.add(h.id)
                    out.append(Counterpart(rank=0, id=h.id, doc=h.doc, lang=h.lang, score=h.score, method="search",
                                           label=h.label, title=h.title, text=h.text))
    for i, c in enumerate(out[:k], 1):
        c.rank = i
    return out[:k]


def retrieve(
    exp: Expansion,
    keyword: Any,
    encoder: Any,
    vectors: Any,
    *,
    k: int = 10,
    mode: str = "hybrid",
    mask: np.ndarray | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[list[tuple[int, float]], dict[int, float], dict[int, float]]:
    """The search itself, without the clause records: rows ranked by a mode's retriever
    over a keyword index, an encoder and a vector store that need not belong to an
    :class:`Index` (``policyidx bench`` times this on its synthetic indexes).

    Parameters
    ----------
    exp
        The analysed (and possibly expanded) query, from :func:`policyidx.retrieval.expand.expand_query`.
    keyword, encoder, vectors
        A :class:`~policyidx.retrieval.keyword.BM25Index`, an encoder, a
        :class:`~policyidx.retrieval.vectors.VectorStore`.
    k
        Rows wanted; each retriever of a fusion is asked for ``max(5k, 100)``.
    mode
        A registered mode (``keyword``, ``dense``, ``hybrid``).
    mask
        Boolean mask of the rows that may be returned.
    params
        ``rrf_k`` and ``weights`` (an index's parameters); :data:`FUSION_DEFAULTS` if omitted.

    Returns
    -------
    ranked : list of (row, score)
        At most ``k``, best first (ties to the lower row).
    keyword_scores, dense_scores : dict of row -> score
        Each retriever's scores of the rows it returned.
    """
    from ..retrieval.retrievers import DenseRetriever, KeywordRetriever

    def part(name: str) -> Retriever:
        if name == "keyword":
            return KeywordRetriever(keyword)
        if name == "dense":
            return DenseRetriever(encoder, vectors)
        raise QueryError(f"no retriever {name!r} here (keyword and dense only)")

    ranking: Ranking = make_retriever(mode, part, params or FUSION_DEFAULTS).search(
        exp, k, RowFilter(np.asarray(mask)) if mask is not None else None)
    parts = ranking.components or {mode: ranking}
    kw = parts["keyword"].score_of() if "keyword" in parts else {}
    dn = parts["dense"].score_of() if "dense" in parts else {}
    return ranking.pairs(), kw, dn
