"""The search index: keyword (BM25) and embedding indexes over clauses, fused into one search.

An index is a directory::

    manifest.json        format and library versions, parameters, encoder, counts, corpus fingerprint
    rows/                per-clause records: ids, documents, languages, texts (arrays + UTF-8 blobs)
    keyword/             BM25 impact postings (policyidx.keyword)
    encoder/             the fitted built-in encoder (when it is the encoder)
    vectors/             raw float32 clause vectors + the FAISS cache (policyidx.vectors)
    alignments/          stored original <-> translation alignments (policyidx.alignment)

Nothing is pickled.  Builds go to a temporary sibling directory that replaces the target
only when complete, so an interrupted build never leaves a half-written index.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from . import __version__
from ._io import atomic_directory, atomic_write_text
from .analysis import analyze, detect_lang, tokenize
from .catalog import Catalog
from .corpus import Corpus, bundled_corpus_path, catalog_fingerprint
from .errors import IndexError_, NotFoundError, QueryError, StaleIndexError
from .expand import Expansion, expand_query
from .han import unify
from .model import Clause
from .parallel import TermLists, default_workers, encode_parallel, tokenize_parallel

__all__ = ["Index", "Hit", "Counterpart", "default_index_path", "FORMAT_VERSION", "MODES"]

FORMAT_VERSION = 1
MODES = ("keyword", "dense", "hybrid")
LANG_CODES = {"zh": 0, "ja": 1, "en": 2}
MAX_QUERY_CHARS = 20_000
#: How the dense index is built: exact inner product up to 50k clauses, an inverted file
#: above (exact search costs over 10 ms a query from about 100k clauses; see ``policyidx bench``).
VECTOR_DEFAULTS: dict[str, Any] = {"exact_max": 50_000, "ann": "ivf"}
#: Fusion parameters written into new indexes, chosen on the development query sets
#: (eval/, ../shared/dev-queries.jsonl) with ``python -m policyidx.evaluate`` (see README).
FUSION_DEFAULTS: dict[str, Any] = {
    "fusion": "rrf",
    "rrf_k": 10,
    "weights": {"keyword": 1.0, "dense": 0.7},
    "expansion_weight": 0.5,
}


# ----------------------------------------------------------------------------- locations


def default_index_path(corpus_root: str | Path | None = None) -> Path:
    """Where the default index of a corpus lives.

    ``$POLICYIDX_INDEX`` if set; else ``indexes/default`` beside the corpus directory (in a
    checkout: ``<repo>/indexes/default``); where that is not writable, the user's cache
    directory (``$XDG_CACHE_HOME/policyidx`` or ``~/.cache/policyidx``).
    """
    env = os.environ.get("POLICYIDX_INDEX")
    if env:
        return Path(env)
    root = Path(corpus_root) if corpus_root is not None else bundled_corpus_path()
    root = root.resolve()
    beside = root.parent / "indexes" / "default"
    if _writable(beside):
        return beside
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "policyidx"
    import hashlib

    return cache / f"default-{hashlib.sha256(str(root).encode()).hexdigest()[:12]}"


def _writable(path: Path) -> bool:
    p = path
    while not p.exists():
        if p.parent == p:
            return False
        p = p.parent
    return os.access(p, os.W_OK)


# ----------------------------------------------------------------------------- hits


@dataclass
class Hit:
    """One search result.

    ``highlights`` are ``(start, end)`` character offsets into ``text`` (the clause's own
    text) of the words that matched; ``snippet`` is a window of ``text`` around them, with
    ``snippet_start`` its offset in ``text``; ``expansions`` are glossary renderings of query
    terms that the clause matched.
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
    _index: Index | None = field(default=None, repr=False)

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
        }


# ----------------------------------------------------------------------------- rows store


def _write_blob(directory: Path, name: str, items: Sequence[str]) -> None:
    data = [s.encode("utf-8") for s in items]
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    if data:
        offsets[1:] = np.cumsum([len(d) for d in data])
    (directory / f"{name}.bin").write_bytes(b"".join(data))
    np.save(directory / f"{name}.offsets.npy", offsets, allow_pickle=False)


class _Blob:
    """A list of strings stored as one UTF-8 file plus offsets (memory-mapped)."""

    def __init__(self, directory: Path, name: str):
        self.offsets = np.load(directory / f"{name}.offsets.npy", mmap_mode="r", allow_pickle=False)
        size = (directory / f"{name}.bin").stat().st_size
        self.data = np.memmap(directory / f"{name}.bin", dtype=np.uint8, mode="r") if size else np.zeros(0, np.uint8)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return bytes(self.data[a:b]).decode("utf-8")


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


# ----------------------------------------------------------------------------- the index


class Index:
    """A built search index over a corpus's clauses.

    Use :meth:`build` to create one and :meth:`open` to open one; :meth:`search` answers
    queries in Chinese, Japanese or English.
    """

    def __init__(self, path: Path, manifest: dict[str, Any], corpus: Corpus | None = None):
        self.path = Path(path)
        self.manifest = manifest
        self._corpus = corpus
        rows = self.path / "rows"
        self._ids = _Blob(rows, "ids")
        self._texts = _Blob(rows, "texts")
        self._records = _Blob(rows, "records")
        self.row_doc = np.load(rows / "row_doc.npy", mmap_mode="r", allow_pickle=False)
        self.row_lang = np.load(rows / "row_lang.npy", mmap_mode="r", allow_pickle=False)
        self.docs: list[dict[str, Any]] = json.loads((rows / "docs.json").read_text(encoding="utf-8"))
        self._doc_index = {d["id"]: i for i, d in enumerate(self.docs)}
        self.params: dict[str, Any] = manifest["parameters"]
        self.glossary_files: list[str] = list(manifest.get("glossary_files", []))
        self._alignments: dict[tuple[str, str], Any] = {}
        if self.glossary_files:
            from .analysis import load_user_terms

            for g in self.glossary_files:  # queries must segment as the clauses were
                if Path(g).is_file():
                    load_user_terms(g)

    @cached_property
    def glossary(self):
        """The glossary used for query expansion: the bundled one, the corpus catalog's
        ``glossary`` files, and any given to :meth:`open`."""
        from .expand import default_glossary

        return default_glossary(tuple(self.glossary_files))

    # ------------------------------------------------------------------ build

    @classmethod
    def build(
        cls,
        corpus: Corpus | None = None,
        path: str | Path | None = None,
        *,
        encoder: str = "builtin",
        dim: int = 256,
        k1: float = 1.5,
        b: float = 0.75,
        progress: bool = False,
        align: bool = True,
    ) -> Index:
        """Build an index and write it atomically.

        Parameters
        ----------
        corpus
            The corpus to index (the bundled one when ``None``).
        path
            Index directory (the corpus's default index when ``None``).  An existing index
            there is replaced only once the new one is complete.
        encoder
            ``builtin`` (the default: learned from the corpus, offline) or
            ``st:<model name or path>`` for a sentence-transformers model.
        dim
            Width of the built-in encoder's vectors.
        k1, b
            BM25 parameters.
        progress
            Show progress bars.
        align
            Also align every original with its translations and store the alignments.
        """
        from .encoders import BuiltinEncoder, get_encoder
        from .keyword import BM25Index
        from .vectors import VectorStore

        corpus = corpus if corpus is not None else Corpus.load()
        target = Path(path) if path is not None else default_index_path(corpus.root)
        timings: dict[str, float] = {}
        from .analysis import load_user_terms

        for g in corpus.catalog.glossary:  # the corpus's own terms also segment as words
            load_user_terms(g)
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
                if parallel:  # forked processes, results in files (see policyidx.parallel)
                    doc_ptr, term_ids, vocab = tokenize_parallel(texts, langs, workers)
                    terms: Sequence[list[str]] = TermLists(doc_ptr, term_ids, vocab)
                else:
                    it: Iterable[int] = range(len(texts))
                    if progress:
                        from tqdm.auto import tqdm

                        it = tqdm(it, desc="tokenise", unit="clause", leave=False)
                    terms = [analyze(texts[i], langs[i]) for i in it]
            with stage("keyword index"):
                if parallel:
                    kw = BM25Index.from_ids(doc_ptr, term_ids, vocab, k1=k1, b=b)
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
                _write_rows(tmp / "rows", corpus, clauses)
            manifest: dict[str, Any] = {
                "format_version": FORMAT_VERSION,
                "library_version": __version__,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "corpus_fingerprint": corpus.fingerprint(),
                "corpus_path": str(corpus.root.resolve()),
                "clause_count": len(clauses),
                "doc_count": len(corpus),
                "encoder": enc.describe(),
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
                    manifest["alignments"] = _store_alignments(tmp / "alignments", corpus, enc if encoder == "builtin" else None,
                                                               workers=default_workers())
            manifest["timings_s"] = timings
            (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        return cls(target, manifest, corpus)

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
    ) -> Index:
        """Open an index.

        Parameters
        ----------
        path
            The index directory; ``None`` for the default index of ``corpus``, which is built
            on first use and rebuilt when the corpus has changed.
        corpus
            The corpus (or its directory) the index must match; by default the one recorded in
            the manifest (for the default index: the bundled corpus).
        build
            Build the index when it is missing or stale (default: only for the default index).
        glossary
            User glossary files (TSV, see :mod:`policyidx.glossary`) that extend or override the
            bundled glossary for query expansion.

        Raises
        ------
        IndexError_
            No index at ``path`` (and ``build`` is false) or an unreadable manifest.
        StaleIndexError
            The index was built from another corpus or format version: rebuild it.
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
        path = Path(path)
        build = is_default if build is None else build
        manifest_path = path / "manifest.json"
        problem: str | None = None
        manifest: dict[str, Any] | None = None
        if not manifest_path.is_file():
            problem = f"no index at {path} (no manifest.json)"
        else:
            try:
                manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                problem = f"{manifest_path} is not readable JSON ({exc})"
        if manifest is not None:
            if manifest.get("format_version") != FORMAT_VERSION:
                problem = (f"index {path} has format version {manifest.get('format_version')}, this library reads "
                           f"{FORMAT_VERSION}")
            else:
                root = corpus_root or Path(manifest.get("corpus_path", ""))
                if corpus_root is None and is_default:
                    root = bundled_corpus_path()  # like Corpus.load(None); the CLI passes $POLICYIDX_CORPUS in
                if (root / "catalog.toml").is_file():
                    fp = corpus_obj.fingerprint() if corpus_obj is not None else catalog_fingerprint(Catalog.load(root / "catalog.toml"))
                    if fp != manifest.get("corpus_fingerprint"):
                        problem = (f"index {path} was built for corpus {manifest.get('corpus_fingerprint')} "
                                   f"but the corpus at {root} is now {fp}")
                    corpus_root = root
        if problem is not None:
            if build:
                corpus_obj = corpus_obj or Corpus.load(corpus_root)
                built = cls.build(corpus_obj, path, progress=progress,
                                  encoder=(manifest or {}).get("encoder", {}).get("name", "builtin") if manifest else "builtin")
                built.glossary_files.extend(str(Path(g).resolve()) for g in glossary)
                return built
            if manifest is None:
                raise IndexError_(f"{problem}; run `policyidx build --index {path}`")
            raise StaleIndexError(f"{problem}; run `policyidx build --index {path}` to rebuild it")
        assert manifest is not None
        idx = cls(path, manifest, corpus_obj)
        idx._corpus_root = corpus_root or Path(manifest.get("corpus_path", ""))
        idx.glossary_files.extend(str(Path(g).resolve()) for g in glossary)
        return idx

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
        from .keyword import BM25Index

        return BM25Index.load(self.path / "keyword", mmap=True)

    @cached_property
    def vectors(self):
        from .vectors import VectorStore

        return VectorStore.load(self.path / "vectors", mmap=True)

    @cached_property
    def encoder(self):
        from .encoders import load_encoder

        enc_dir = self.path / "encoder"
        return load_encoder(enc_dir if enc_dir.is_dir() else None, self.manifest["encoder"])

    def __len__(self) -> int:
        return len(self._ids)

    def row_id(self, row: int) -> str:
        return self._ids[row]

    @cached_property
    def _row_of_id(self) -> dict[str, int]:
        return {self._ids[i]: i for i in range(len(self._ids))}

    def record(self, row: int) -> dict[str, Any]:
        rec = json.loads(self._records[row])
        rec["id"] = self._ids[row]
        rec["text"] = self._texts[row]
        return rec

    # ------------------------------------------------------------------ search

    def _mask(self, lang: str | None, docs: Sequence[str] | None, works: Sequence[str] | None,
              roles: Sequence[str] | None) -> np.ndarray | None:
        if not (lang or docs or works or roles):
            return None
        allowed_docs = np.ones(len(self.docs), dtype=bool)
        if docs:
            unknown = [d for d in docs if d not in self._doc_index]
            if unknown:
                raise NotFoundError(f"unknown document id(s) {unknown}; known: {', '.join(sorted(self._doc_index))}")
            sel = np.zeros(len(self.docs), dtype=bool)
            sel[[self._doc_index[d] for d in docs]] = True
            allowed_docs &= sel
        if works:
            known = {d["work"] for d in self.docs}
            unknown = [w for w in works if w not in known]
            if unknown:
                raise NotFoundError(f"unknown work id(s) {unknown}; known: {', '.join(sorted(known))}")
            allowed_docs &= np.array([d["work"] in works for d in self.docs])
        if roles:
            bad = [r for r in roles if r not in ("original", "translation", "interpretation")]
            if bad:
                raise QueryError(f"unknown role(s) {bad}; expected original, translation or interpretation")
            allowed_docs &= np.array([d["role"] in roles for d in self.docs])
        if lang:
            if lang not in LANG_CODES:
                raise QueryError(f"unknown language {lang!r}; expected zh, ja or en")
            allowed_docs &= np.array([d["lang"] == lang for d in self.docs])
        return allowed_docs[np.asarray(self.row_doc)]

    def _check_query(self, query: str, mode: str, k: int) -> str:
        if not isinstance(query, str):
            raise QueryError(f"a query must be a string, not {type(query).__name__}")
        q = query.strip()
        if not q:
            raise QueryError("empty query: give some words to search for")
        if not any(ch.isalnum() for ch in q):
            raise QueryError(f"the query {query!r} has only punctuation: give some words to search for")
        if mode not in MODES:
            raise QueryError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
        if not isinstance(k, int) or k < 1:
            raise QueryError(f"k must be a positive whole number, not {k!r}")
        return q[:MAX_QUERY_CHARS]

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
    ) -> list[Hit]:
        """Find the clauses that answer a query.

        Parameters
        ----------
        query
            Words or a sentence in Chinese, Japanese or English (up to 20,000 characters).
        k
            Number of hits.
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

        Raises
        ------
        QueryError
            Empty or punctuation-only query, unknown mode or language.
        NotFoundError
            Unknown document or work id in a filter.
        """
        q = self._check_query(query, mode, k)
        exp = expand_query(q, query_lang, self.glossary if expand else None, enabled=expand,
                           weight=self.params.get("expansion_weight", 0.5))
        mask = self._mask(lang, docs, works, roles)
        return self._search(exp, k, mode, mask)

    def _search(self, exp: Expansion, k: int, mode: str, mask: np.ndarray | None) -> list[Hit]:
        ranked, kw, dn = retrieve(exp, self.keyword, self.encoder, self.vectors, k=k, mode=mode, mask=mask,
                                  params=self.params)
        return [self._hit(row, rank, score, exp, kw.get(row), dn.get(row))
                for rank, (row, score) in enumerate(ranked, 1)]

    def _hit(self, row: int, rank: int, score: float, exp: Expansion, kws: float | None, dns: float | None) -> Hit:
        rec = self.record(row)
        text = rec["text"]
        spans, matched = highlight(text, rec["lang"], exp)
        snippet, s0 = make_snippet(text, spans)
        doc = self.docs[int(self.row_doc[row])]
        return Hit(rank=rank, score=float(score), id=rec["id"], doc=doc["id"], lang=rec["lang"], label=rec["label"],
                   title=rec["title"], text=text, doc_title=doc["title"], snippet=snippet, snippet_start=s0,
                   highlights=spans, expansions=matched, keyword_score=kws, dense_score=dns, _index=self)

    # ------------------------------------------------------------------ alignment

    def alignment(self, src: str, tgt: str):
        """The alignment of document ``src`` with ``tgt``: stored with the index when it was
        built (and both documents are unchanged since), computed and stored otherwise.

        The stored alignment of a pair is also used, reversed, for the pair the other way round.
        """
        from .alignment import Alignment, align

        if (src, tgt) in self._alignments:
            return self._alignments[(src, tgt)]
        corpus = self.corpus
        a, b = corpus[src], corpus[tgt]
        fp_a, fp_b = corpus.doc_fingerprint(src), corpus.doc_fingerprint(tgt)
        directory = self.path / "alignments"
        for (x, y), flip in (((src, tgt), False), ((tgt, src), True)):
            f = directory / f"{x}__{y}.json"
            if f.is_file():
                rec = json.loads(f.read_text(encoding="utf-8"))
                want = (fp_a, fp_b) if not flip else (fp_b, fp_a)
                if (rec.get("src_fingerprint"), rec.get("tgt_fingerprint")) == want:
                    al = Alignment.from_dict(rec["alignment"])
                    al = _reverse(al) if flip else al
                    self._alignments[(src, tgt)] = al
                    return al
        enc = self.encoder if self.manifest["encoder"].get("name") == "builtin" else None
        al = align(a, b, encoder=enc)
        try:
            directory.mkdir(exist_ok=True)
            _write_alignment(directory, al, fp_a, fp_b)
        except OSError:
            pass  # a read-only index still answers, it just cannot keep the result
        self._alignments[(src, tgt)] = al
        return al

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
        if clause_id not in self._row_of_id:
            self.corpus.clause(clause_id)  # raises NotFoundError with the document's context
            raise NotFoundError(f"clause {clause_id!r} has no text of its own to compare")
        row = self._row_of_id[clause_id]
        own = self.docs[int(self.row_doc[row])]
        out: list[Counterpart] = []
        seen = {clause_id}
        for cid, score in self.aligned_clauses(clause_id, docs):
            if cid in self._row_of_id and cid not in seen:
                seen.add(cid)
                out.append(self._counterpart(cid, score, "alignment"))
        allowed = [d["id"] for d in self.docs if d["id"] != own["id"] and (not docs or d["id"] in docs)]
        if allowed and len(out) < k:
            text = self._texts[row][:MAX_QUERY_CHARS]
            if any(ch.isalnum() for ch in text):
                for h in self.search(text, k=k + len(seen), docs=allowed, query_lang=own["lang"]):
                    if h.id not in seen:
                        seen.add(h.id)
                        out.append(self._counterpart(h.id, h.score, "search"))
        for i, c in enumerate(out[:k], 1):
            c.rank = i
        return out[:k]

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


def _reverse(al):
    """The same alignment seen from the other document."""
    from .alignment import Alignment, ClausePair, SentencePair

    pairs = [ClausePair(src=cp.tgt, tgt=cp.src, score=cp.score, method=cp.method,
                        sentences=[SentencePair(src=sp.tgt, tgt=sp.src, score=sp.score) for sp in cp.sentences])
             for cp in al.pairs]
    return Alignment(src=al.tgt, tgt=al.src, pairs=pairs, params=dict(al.params))


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
    """The search itself, without the clause records: rows ranked by one retriever or both.

    :meth:`Index.search` is this plus highlighting and records; ``policyidx bench`` times
    this same function on its synthetic indexes.

    Parameters
    ----------
    exp
        The analysed (and possibly expanded) query, from :func:`policyidx.expand.expand_query`.
    keyword, encoder, vectors
        A :class:`~policyidx.keyword.BM25Index`, an encoder, a :class:`~policyidx.vectors.VectorStore`.
    k
        Rows wanted; each retriever is asked for ``max(5k, 100)`` before fusion.
    mode
        ``keyword``, ``dense`` or ``hybrid``.
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
    params = params or FUSION_DEFAULTS
    depth = max(k * 5, 100)
    kw_rows = kw_scores = dn_rows = dn_scores = None
    if mode in ("keyword", "hybrid") and exp.terms:
        kw_rows, kw_scores = keyword.search(exp.terms, k=depth, allowed=mask)
    if mode in ("dense", "hybrid"):
        qv = encoder.encode([exp.dense_text], kind="query")
        if np.any(qv):
            r, s = vectors.search(qv, depth, allowed=mask)
            keep = r[0] >= 0
            dn_rows, dn_scores = r[0][keep], s[0][keep]
    kw = dict(zip(kw_rows.tolist(), kw_scores.tolist())) if kw_rows is not None else {}
    dn = dict(zip(dn_rows.tolist(), dn_scores.tolist())) if dn_rows is not None else {}
    if mode == "keyword":
        ranked = sorted(kw.items(), key=lambda x: (-x[1], x[0]))
    elif mode == "dense":
        ranked = sorted(dn.items(), key=lambda x: (-x[1], x[0]))
    else:
        weights = params.get("weights", FUSION_DEFAULTS["weights"])
        ranked = _rrf([kw_rows, dn_rows], [weights["keyword"], weights["dense"]],
                      params.get("rrf_k", FUSION_DEFAULTS["rrf_k"]))
    return ranked[:k], kw, dn


def _rrf(rankings: list[np.ndarray | None], weights: list[float], k: int) -> list[tuple[int, float]]:
    fused: dict[int, float] = {}
    for rows, w in zip(rankings, weights):
        if rows is None:
            continue
        for r, row in enumerate(rows.tolist(), 1):
            fused[row] = fused.get(row, 0.0) + w / (k + r)
    return sorted(fused.items(), key=lambda x: (-x[1], x[0]))


# ----------------------------------------------------------------------------- highlights


def highlight(text: str, lang: str, exp: Expansion) -> tuple[list[tuple[int, int]], list[str]]:
    """Spans of ``text`` that match the query's word terms (or shared Han bigrams).

    Returns the merged spans and the glossary renderings whose terms occur in the text.
    """
    words = {t for t in exp.terms if not t.startswith("#")}
    spans: list[tuple[int, int]] = []
    toks = tokenize(text, lang)
    present: set[str] = set()
    long_words = [w for w in words if len(w) >= 2]
    for tok in toks:
        if tok.norm in words:
            spans.append((tok.start, tok.end))
            present.add(tok.norm)
        elif len(tok.norm) > 2:
            # a compound token (専利担保融資) that contains a query word (担保融資)
            for w in long_words:
                at = tok.norm.find(w)
                if at >= 0 and len(tok.norm) == tok.end - tok.start:
                    spans.append((tok.start + at, tok.start + at + len(w)))
                    present.add(w)
    bigrams = {t[1:] for t in exp.terms if t.startswith("#")}
    if bigrams and not spans:
        u = unify(text)
        for i in range(len(u) - 1):
            if u[i : i + 2] in bigrams:
                spans.append((i, i + 2))
    # a rendering matched when it stands in the text (Han-unified) or all its words do
    u_text = unify(text).lower()
    matched = [r for r, ts in exp.rendering_terms.items()
               if unify(r).lower() in u_text
               or (words_of := [t for t in ts if not t.startswith("#")]) and all(t in present for t in words_of)]
    return _merge(spans), matched


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def make_snippet(text: str, spans: list[tuple[int, int]], width: int = 120) -> tuple[str, int]:
    """A window of about ``width`` characters of ``text`` around the densest highlights."""
    if len(text) <= width:
        return text, 0
    if not spans:
        return text[:width], 0
    best, best_n = 0, -1
    for s, _ in spans:
        n = sum(1 for a, b in spans if s <= a and b <= s + width)
        if n > best_n:
            best, best_n = s, n
    start = max(0, min(best - width // 4, len(text) - width))
    return text[start : start + width], start


# ----------------------------------------------------------------------------- writing


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


def _write_rows(directory: Path, corpus: Corpus, clauses: list[Clause]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    docs = corpus.documents
    doc_index = {d.id: i for i, d in enumerate(docs)}
    _write_blob(directory, "ids", [c.id for c in clauses])
    _write_blob(directory, "texts", [c.text for c in clauses])
    _write_blob(directory, "records", [json.dumps({"label": c.label, "title": c.title, "lang": c.lang,
                                                    "path": list(c.path)}, ensure_ascii=False) for c in clauses])
    np.save(directory / "row_doc.npy", np.array([doc_index[c.doc] for c in clauses], dtype=np.int32), allow_pickle=False)
    np.save(directory / "row_lang.npy", np.array([LANG_CODES.get(c.lang, 2) for c in clauses], dtype=np.int8), allow_pickle=False)
    (directory / "docs.json").write_text(json.dumps(
        [{"id": d.id, "work": d.work, "lang": d.lang, "role": d.role, "title": d.title,
          "fingerprint": corpus.doc_fingerprint(d.id)} for d in docs], ensure_ascii=False, indent=1), encoding="utf-8")


def _store_alignments(directory: Path, corpus: Corpus, encoder: Any, workers: int = 1) -> list[dict[str, str]]:
    """Align every original with each translation of the same work; returns what was stored.

    With several pairs and ``workers > 1`` the pairs are aligned in forked processes, each
    writing its own file (the encoder is inherited, nothing is pickled).
    """
    by_work: dict[str, list[Any]] = {}
    for d in corpus:
        if d.role == "translation":
            by_work.setdefault(d.work, []).append(d)
    pairs = [(o, t) for o in corpus if o.role == "original" for t in by_work.get(o.work, [])]
    if not pairs:
        return []
    from .alignment import align
    from .parallel import fork_map

    directory.mkdir(parents=True, exist_ok=True)

    def task(i: int) -> None:
        o, t = pairs[i]
        al = align(o, t, encoder=encoder)
        _write_alignment(directory, al, corpus.doc_fingerprint(o.id), corpus.doc_fingerprint(t.id))

    fork_map(task, len(pairs), workers if len(pairs) >= 2 * workers else 1)
    return [{"src": o.id, "tgt": t.id, "file": f"alignments/{o.id}__{t.id}.json"} for o, t in pairs]


def _write_alignment(directory: Path, al: Any, src_fingerprint: str, tgt_fingerprint: str) -> None:
    """Store an alignment with the fingerprints of the two documents it was made from."""
    rec = {"src": al.src, "tgt": al.tgt, "src_fingerprint": src_fingerprint, "tgt_fingerprint": tgt_fingerprint,
           "alignment": al.to_dict()}
    atomic_write_text(directory / f"{al.src}__{al.tgt}.json", json.dumps(rec, ensure_ascii=False))
