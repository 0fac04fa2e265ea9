"""Building an index: the staged pipeline (tokenise, keyword index, encode, vector index,
rows, alignments) written into a new snapshot of the index that becomes current only when
complete (see :mod:`policyidx.index.store`).  ``policyidx bench`` runs the same stages.
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .. import __version__
from ..corpus import Corpus
from ..errors import IndexError_
from ..model import Clause
from ..parallel import TermLists, default_workers, encode_parallel, tokenize_parallel
from ..retrieval.encoders import DEFAULT_DIM
from ..retrieval.modes import FUSION_DEFAULTS, HYBRID_DEFAULTS
from ..text.analysis import Analyzer, analyze, detect_lang
from .alignments import AlignmentStore
from .highlight import write_tokens
from .store import FORMAT_VERSION, build_fingerprints, write_rows, write_snapshot

__all__ = ["build_index", "clause_rows", "tokenise", "keyword_index", "gloss_bags", "gloss_index", "gloss_bm25", "gloss_manifest", "GLOSS_K1", "GLOSS_B", "fit_builtin", "encode_rows", "vector_store",
           "VECTOR_DEFAULTS", "FIT_SAMPLE", "PARALLEL_MIN", "DENSE_CONTEXT", "feature_cap", "dense_context", "row_contexts", "with_context", "context_string"]

#: How the dense index is built: exact inner product up to 50k clauses, an inverted file
#: above (exact search costs over 10 ms a query from about 100k clauses; see ``policyidx bench``).
VECTOR_DEFAULTS: dict[str, Any] = {"exact_max": 50_000, "ann": "ivf"}
#: BM25 parameters of a new index.  Chosen on the dev split of the real-corpus query sets
#: (eval/real/, 2,005 documents, 203k clauses): legal clauses are short and of very uneven
#: length, and the usual ``k1 = 1.2-1.5, b = 0.75`` let a short clause that merely names a
#: query's subject outrank the longer one that answers it (real zh dev keyword hit@1 0.558 ->
#: 0.673 with these; README "Search quality").
BM25_K1 = 0.9
BM25_B = 0.3
FIT_SAMPLE = 30_000
#: BM25 parameters of the gloss index (:func:`gloss_index`): the usual values.  A gloss bag
#: counts each word once, so ``b`` only weighs how many words a clause has (and with ``b`` 0,
#: ``k1`` does nothing).  A grid on the English dev splits (k1 0.6-2, b 0-0.75) found nothing
#: that held on the test splits (README, "English: the clauses read in their glosses").
GLOSS_K1 = 1.2
GLOSS_B = 0.75
#: The built-in encoder sees each clause in its context: the document title and the headings
#: of the enclosing clauses before the clause text (chosen on the real-corpus dev queries,
#: README "Search quality").
DENSE_CONTEXT = True
#: Bounds on the built-in encoder's features: half the number of rows, within these limits, so
#: that from about 30,000 rows on its stored projection is no larger than the vectors it makes.
FEATURES_MIN, FEATURES_MAX = 16_384, 262_144


def feature_cap(n_rows: int) -> int:
    """How many features the built-in encoder keeps for an index of ``n_rows`` rows."""
    return int(min(FEATURES_MAX, max(FEATURES_MIN, n_rows // 2)))


class _Prefixed(Sequence):
    """Per-row term lists: the terms of the row's context, then the row's own terms."""

    def __init__(self, prefixes: list[list[str]], ctx_of: np.ndarray, base: Sequence):
        self.prefixes, self.ctx_of, self.base = prefixes, ctx_of, base

    def __len__(self) -> int:
        return len(self.ctx_of)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return _Prefixed(self.prefixes, self.ctx_of[i], self.base[i])
        return self.prefixes[int(self.ctx_of[i])] + list(self.base[i])


def dense_context(corpus: Corpus, clauses: list[Clause], texts: Sequence[str], terms: Sequence,
                  langs: Sequence[str]) -> tuple[list[str], Sequence]:
    """Each clause's text and terms preceded by its context (document title, headings of the
    enclosing clauses), for the built-in encoder; each distinct context is analysed once."""
    titles = {d.id: d.title or "" for d in corpus.documents}
    ctxs = [context_string(titles.get(c.doc, ""), [p.heading() for p in c.ancestors()]) for c in clauses]
    return with_context(texts, terms, ctxs, langs)


def context_string(doc_title: str, parents: Sequence[str]) -> str:
    """The context of a clause as the built-in encoder reads it: document title, then the
    headings of the enclosing clauses."""
    return " ".join([doc_title or ""] + list(parents)).strip()


def row_contexts(rows_dir: Path, rows: Sequence[int]) -> tuple[list[str], list[str]]:
    """Context strings (:func:`context_string`) and languages of some rows of a rows directory
    written by :func:`~policyidx.index.store.write_rows`."""
    from .store import RowStore

    store = RowStore(Path(rows_dir))
    ctxs, langs = [], []
    for r in rows:
        rec = store.record(int(r))
        ctxs.append(context_string(store.doc(int(r)).get("title") or "", rec.get("parents") or []))
        langs.append(rec.get("lang") or "zh")
    return ctxs, langs


def with_context(texts: Sequence[str], terms: Sequence, ctxs: Sequence[str],
                 langs: Sequence[str]) -> tuple[list[str], Sequence]:
    """Texts and term lists preceded by their contexts (each distinct context analysed once,
    with the active analyzer)."""
    ctx_ids: dict[tuple[str, str], int] = {}
    prefixes: list[list[str]] = []
    ctx_of = np.zeros(len(texts), dtype=np.int64)
    out: list[str] = []
    for i, ctx in enumerate(ctxs):
        key = (ctx, langs[i])
        j = ctx_ids.get(key)
        if j is None:
            j = ctx_ids[key] = len(prefixes)
            prefixes.append(analyze(ctx, langs[i]) if ctx else [])
        ctx_of[i] = j
        out.append(f"{ctx}\n{texts[i]}" if ctx else texts[i])
    return out, _Prefixed(prefixes, ctx_of, terms)


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


def build_index(corpus: Corpus, target: Path, *, encoder: str = "builtin", dim: int = DEFAULT_DIM, k1: float = BM25_K1,
                b: float = BM25_B, progress: bool = False, align: bool = True, scorer: str = "lucene",
                locked: bool = False) -> dict[str, Any]:
    """Build the index of ``corpus`` at ``target`` as a new snapshot; returns its manifest.

    See :meth:`policyidx.index.Index.build` for the parameters.  The build holds the
    index's lock (``locked``: the caller already holds it), removes what interrupted builds
    left, and makes the new snapshot current only once it is complete and on the disk.

    Raises
    ------
    IndexBusyError
        Another process is building the same index.
    IndexError_
        ``target`` is a directory with other things in it than an index.
    """
    kw = dict(encoder=encoder, dim=dim, k1=k1, b=b, progress=progress, align=align, scorer=scorer)

    def write(building: Path) -> dict[str, Any]:
        # the corpus's own terms also segment as words: the index's analyzer has them
        analyzer = Analyzer.for_files(corpus.catalog.glossary)
        with analyzer.active():
            return _build(corpus, building, analyzer, **kw)

    return write_snapshot(Path(target), write, locked=locked)


def keyword_index(terms: Sequence[Sequence[str]] | None, csr: tuple[np.ndarray, np.ndarray, list[str]] | None, *,
                  k1: float, b: float, scorer: str = "lucene", progress: bool = False):
    """The BM25 index of the rows: from the CSR arrays of a parallel tokenisation when
    given, else from the term lists."""
    from ..retrieval.keyword import BM25Index

    if csr is not None:
        return BM25Index.from_ids(*csr, k1=k1, b=b, method=scorer)
    assert terms is not None
    return BM25Index.build(terms, k1=k1, b=b, progress=progress, method=scorer)


def gloss_bags(texts: Sequence[str], langs: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """The English words of each Chinese row's words' dictionary glosses
    (:meth:`~policyidx.text.lexicons.Lexicon.gloss_bag`: 坟墓 gives "grave" and "tomb"), each
    word once per row, as CSR arrays ``(row_ptr, word_ids, words)``; other rows have none.
    ``None`` when the dictionaries are not installed or no row has a gloss.  About 90 µs a
    row (18 s for the 202,625 rows of the real-corpus index)."""
    from ..text.lexicons import DictionaryError, available_sources, default_lexicon

    if not available_sources():
        return None
    try:
        lex = default_lexicon()
    except DictionaryError:
        return None
    if not len(lex):
        return None
    vocab: dict[str, int] = {}
    ptr = np.zeros(len(texts) + 1, dtype=np.int64)
    ids: list[int] = []
    for i, (text, lang) in enumerate(zip(texts, langs)):
        if lang == "zh":
            ids.extend(vocab.setdefault(w, len(vocab)) for w in sorted(lex.gloss_bag(text)))
        ptr[i + 1] = len(ids)
    if not ids:
        return None
    return ptr, np.asarray(ids, dtype=np.int32), list(vocab)


def gloss_index(texts: Sequence[str], langs: Sequence[str], *, k1: float = GLOSS_K1, b: float = GLOSS_B):
    """The BM25 index of the Chinese rows by their :func:`gloss_bags` (:func:`gloss_bm25`);
    ``None`` when there are none.

    An English query reaches Chinese clauses through the few renderings its words are given
    before any clause is seen; this index lets it reach the clauses that say a word another
    way, by the document side's translation (the hybrid mode's gloss candidates,
    :class:`~policyidx.retrieval.retrievers.RerankRetriever`)."""
    bags = gloss_bags(texts, langs)
    return None if bags is None else gloss_bm25(bags, k1=k1, b=b)


def gloss_bm25(bags: tuple[np.ndarray, np.ndarray, list[str]], *, k1: float = GLOSS_K1, b: float = GLOSS_B,
               collection: tuple[int, float, np.ndarray] | None = None):
    """The BM25 index of :func:`gloss_bags`; ``collection`` as for
    :meth:`~policyidx.retrieval.keyword.BM25Index.from_ids` (a shard of a larger index)."""
    from ..retrieval.keyword import BM25Index

    return BM25Index.from_ids(*bags, k1=k1, b=b, method="lucene", collection=collection)


def gloss_manifest(words: int, postings: int) -> dict[str, Any]:
    """``manifest["glosses"]`` of an index whose gloss index has ``words`` and ``postings``."""
    return {"k1": GLOSS_K1, "b": GLOSS_B, "words": int(words), "postings": int(postings)}


def fit_builtin(texts: Sequence[str], terms: Sequence[Sequence[str]], *, dim: int, progress: bool = False,
                **fit_args: Any):
    """The built-in encoder fitted on ``texts`` (a sample of the rows) with their terms."""
    from ..retrieval.encoders import BuiltinEncoder

    return BuiltinEncoder().fit(texts, dim=dim, progress=progress, terms=terms, **fit_args)


def encode_rows(enc: Any, texts: Sequence[str], terms: Sequence[Sequence[str]], *, parallel: bool, workers: int,
                scratch: Path, progress: bool = False) -> np.ndarray:
    """The built-in encoder's vectors of every row: in forked processes writing into the
    file ``scratch`` when ``parallel``, else here."""
    if parallel:
        return encode_parallel(enc, texts, terms, scratch, workers)
    return enc.encode(texts, kind="passage", progress=progress, terms=terms)


def vector_store(vecs: np.ndarray, **settings: Any):
    """The dense index of the vectors, with :data:`VECTOR_DEFAULTS` unless overridden."""
    from ..retrieval.vectors import VectorStore

    return VectorStore(vecs, **{**VECTOR_DEFAULTS, **settings})


def warm_lexicon() -> None:
    """Build (once per machine) and cache the dictionary lexicon, if the dictionaries are installed."""
    from ..text.lexicons import DictionaryError, available_sources, default_lexicon

    if available_sources():
        try:
            default_lexicon()
        except DictionaryError:
            pass  # a damaged dictionary does not stop a build; queries fall back to the glossary


def _build(corpus: Corpus, tmp: Path, analyzer: Analyzer, *, encoder: str, dim: int, k1: float, b: float,
           progress: bool, align: bool, scorer: str) -> dict[str, Any]:
    from ..retrieval.encoders import get_encoder
    from ..retrieval.scorers import check_scorer

    check_scorer(scorer)
    timings: dict[str, float] = {}
    clauses = clause_rows(corpus)
    if not clauses:
        raise IndexError_(f"corpus {corpus.root} has no clause text to index")
    texts = [c.content for c in clauses]  # the clause text with collection markup blanked out
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
        keyword_index(terms, csr, k1=k1, b=b, scorer=scorer, progress=progress).save(tmp / "keyword")
    with stage("encode"):
        if encoder == "builtin":
            # the clauses are segmented once: the encoder reuses the keyword terms;
            # on a large corpus it is fitted on an even sample (LSA needs no more)
            e_texts, e_terms = (dense_context(corpus, clauses, texts, terms, langs) if DENSE_CONTEXT
                                else (texts, terms))
            sample = _even_sample(len(texts), FIT_SAMPLE)
            with stage("fit encoder"):
                enc = fit_builtin([e_texts[i] for i in sample], [e_terms[i] for i in sample], dim=dim,
                                  progress=progress, max_features=feature_cap(len(texts)))
            enc.save(tmp / "encoder")
            vecs = encode_rows(enc, e_texts, e_terms, parallel=parallel, workers=workers,
                               scratch=tmp / "vectors.tmp.npy", progress=progress)
        else:
            enc = get_encoder(encoder)
            vecs = enc.encode(texts, kind="passage", progress=progress)
    with stage("vector index"):
        store = vector_store(vecs)
        store.save(tmp / "vectors")
        del store, vecs
        (tmp / "vectors.tmp.npy").unlink(missing_ok=True)
    with stage("rows"):
        write_rows(tmp / "rows", corpus, clauses)
    with stage("tokens"):
        # the clauses' tokens with their offsets: highlighting a hit is then a lookup
        write_tokens(tmp / "rows", texts, langs, workers=workers if parallel else 1)
    with stage("dictionaries"):
        # English and Japanese queries read the dictionary lexicon: cached once per machine
        # here rather than by the first such query
        warm_lexicon()
    with stage("glosses"):
        # the Chinese rows by their words' English glosses, for English queries
        glosses = gloss_index(texts, langs)
        if glosses is not None:
            glosses.save(tmp / "glosses")
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
            "scorer": scorer,
            "k1": k1,
            "b": b,
            "dim": getattr(enc, "dim", None),
            **copy.deepcopy(FUSION_DEFAULTS),
            **copy.deepcopy(HYBRID_DEFAULTS),
        },
        "timings_s": timings,
        "glossary_files": [str(g) for g in corpus.catalog.glossary],
        **build_fingerprints(corpus.catalog.glossary, corpus.catalog, corpus.fingerprint()),
    }
    if glosses is not None:
        manifest["glosses"] = gloss_manifest(glosses.n_terms, glosses.n_postings)
    if align:
        with stage("alignments"):
            manifest["alignments"] = AlignmentStore(tmp / "alignments").store_all(
                corpus, enc if encoder == "builtin" else None, workers=default_workers())
    manifest["timings_s"] = timings
    return manifest
