"""Building an index: the staged pipeline (tokenise, keyword index, encode, vector index,
rows, alignments) written atomically.  ``policyidx bench`` runs the same stages.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .. import __version__
from .._io import atomic_directory
from ..corpus import Corpus
from ..errors import IndexError_
from ..model import Clause
from ..parallel import TermLists, default_workers, encode_parallel, tokenize_parallel
from ..retrieval.modes import FUSION_DEFAULTS
from ..text.analysis import Analyzer, analyze, detect_lang
from .alignments import AlignmentStore
from .store import FORMAT_VERSION, write_rows

__all__ = ["build_index", "clause_rows", "tokenise", "VECTOR_DEFAULTS", "FIT_SAMPLE", "PARALLEL_MIN"]

#: How the dense index is built: exact inner product up to 50k clauses, an inverted file
#: above (exact search costs over 10 ms a query from about 100k clauses; see ``policyidx bench``).
VECTOR_DEFAULTS: dict[str, Any] = {"exact_max": 50_000, "ann": "ivf"}
FIT_SAMPLE = 100_000
PARALLEL_MIN = 20_000  # below this, forking costs more than it saves


def _even_sample(n: int, size: int) -> list[int]:
    """``size`` row numbers spread evenly over ``range(n)`` (all of them when ``n <= size``)."""
    if n <= size:
        return list(range(n))
    return np.linspace(0, n - 1, size).round().astype(np.int64).tolist()


def clause_rows(corpus: Corpus) -> list[Clause]:
    """The clauses that are indexed: every clause with text of its own."""
    return [c for c in corpus.clauses() if c.text.strip()]


class _Stages:
    def __init__(self, progress: bool, timings: dict[str, float]):
        self.progress = progress
        self.timings = timings

    def __call__(self, name: str):
        stages = self

        class _Ctx:
            def __enter__(self_inner):
                self_inner.t = time.perf_counter()
                if stages.progress:
                    print(f"[policyidx] {name}…", file=sys.stderr, flush=True)

            def __exit__(self_inner, *exc):
                stages.timings[name] = round(time.perf_counter() - self_inner.t, 3)
                return False

        return _Ctx()


def tokenise(texts: Sequence[str], langs: Sequence[str], *, workers: int, parallel: bool,
             progress: bool = False) -> tuple[Sequence[list[str]], tuple[np.ndarray, np.ndarray, list[str]] | None]:
    """The index terms of every text: in forked processes when ``parallel`` (then also the
    CSR arrays ``(doc_ptr, term_ids, vocab)`` the keyword index is built from), else here."""
    if parallel:  # forked processes, results in files (see policyidx.parallel)
        doc_ptr, term_ids, vocab = tokenize_parallel(texts, langs, workers)
        return TermLists(doc_ptr, term_ids, vocab), (doc_ptr, term_ids, vocab)
    it: Iterable[int] = range(len(texts))
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc="tokenise", unit="clause", leave=False)
    return [analyze(texts[i], langs[i]) for i in it], None


def build_index(corpus: Corpus, target: Path, *, encoder: str = "builtin", dim: int = 256, k1: float = 1.5,
                b: float = 0.75, progress: bool = False, align: bool = True) -> dict[str, Any]:
    """Build the index of ``corpus`` at ``target`` atomically; returns its manifest.

    See :meth:`policyidx.index.Index.build` for the parameters.
    """
    # the corpus's own terms also segment as words: the index's analyzer has them
    analyzer = Analyzer.for_files(corpus.catalog.glossary)
    with analyzer.active():
        return _build(corpus, target, analyzer, encoder=encoder, dim=dim, k1=k1, b=b, progress=progress, align=align)


def _build(corpus: Corpus, target: Path, analyzer: Analyzer, *, encoder: str, dim: int, k1: float, b: float,
           progress: bool, align: bool) -> dict[str, Any]:
    from ..retrieval.encoders import BuiltinEncoder, get_encoder
    from ..retrieval.keyword import BM25Index
    from ..retrieval.vectors import VectorStore

    timings: dict[str, float] = {}
    with atomic_directory(target, tag="building") as tmp:
        clauses = clause_rows(corpus)
        if not clauses:
            raise IndexError_(f"corpus {corpus.root} has no clause text to index")
        texts = [c.text for c in clauses]
        stage = _Stages(progress, timings)
        langs = [c.lang or detect_lang(c.text) for c in clauses]
        workers = default_workers()
        parallel = len(texts) >= PARALLEL_MIN and workers > 1
        with stage("tokenise"):
            terms, csr = tokenise(texts, langs, workers=workers, parallel=parallel, progress=progress)
        with stage("analyzer"):
            # the segmenter state the clauses were cut with, for queries in other processes
            analyzer.save(tmp / "analyzer")
        with stage("keyword index"):
            if csr is not None:
                kw = BM25Index.from_ids(*csr, k1=k1, b=b)
            else:
                kw = BM25Index.build(terms, k1=k1, b=b, progress=progress)
            kw.save(tmp / "keyword")
        with stage("encode"):
            if encoder == "builtin":
                # the clauses are segmented once: the encoder reuses the keyword terms;
                # on a large corpus it is fitted on an even sample (LSA needs no more)
                sample = _even_sample(len(texts), FIT_SAMPLE)
                enc = BuiltinEncoder().fit([texts[i] for i in sample], dim=dim, progress=progress,
                                           terms=[terms[i] for i in sample])
                enc.save(tmp / "encoder")
                if parallel:
                    vecs = encode_parallel(enc, texts, terms, tmp / "vectors.tmp.npy", workers)
                else:
                    vecs = enc.encode(texts, kind="passage", progress=progress, terms=terms)
            else:
                enc = get_encoder(encoder)
                vecs = enc.encode(texts, kind="passage", progress=progress)
        with stage("vector index"):
            store = VectorStore(vecs, **VECTOR_DEFAULTS)
            store.save(tmp / "vectors")
            del store, vecs
            (tmp / "vectors.tmp.npy").unlink(missing_ok=True)
        with stage("rows"):
            write_rows(tmp / "rows", corpus, clauses)
        manifest: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "library_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "corpus_fingerprint": corpus.fingerprint(),
            "corpus_path": str(corpus.root.resolve()),
            "clause_count": len(clauses),
            "doc_count": len(corpus),
            "encoder": enc.describe(),
            "analyzer": analyzer.describe(),
            "parameters": {
                "k1": k1,
                "b": b,
                "dim": getattr(enc, "dim", None),
                **copy.deepcopy(FUSION_DEFAULTS),
            },
            "timings_s": timings,
            "glossary_files": [str(g) for g in corpus.catalog.glossary],
        }
        if align:
            with stage("alignments"):
                manifest["alignments"] = AlignmentStore(tmp / "alignments").store_all(
                    corpus, enc if encoder == "builtin" else None, workers=default_workers())
        manifest["timings_s"] = timings
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest
