"""The retrievers: BM25 over keyword terms, dense search (an encoder + a vector store), and
the fusion of several named retrievers."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Container, Iterable, Mapping, Sequence

import numpy as np

from ..errors import QueryError
from .base import Ranking, Retriever, RowFilter
from .fusion import FUSIONS, add_candidates, dense_rerank

if TYPE_CHECKING:  # pragma: no cover
    from .expand import Expansion
    from .keyword import BM25Index
    from .vectors import VectorStore

__all__ = ["KeywordRetriever", "DenseRetriever", "GlossRetriever", "FusionRetriever", "RerankRetriever", "depth_for", "max_attainable",
           "query_coverage", "context_scores", "coverage_scores", "judged_coverage", "lucene_idf",
           "coverage_power_for", "proximity_scores", "ordered_scores", "jurisdiction_names", "query_jurisdictions",
           "jurisdiction_factor", "asks_quantity", "has_quantity", "quantity_factor", "judged_quantity", "asks_boilerplate", "is_boilerplate", "judged_boilerplate", "gloss_factor", "judged_glosses", "gloss_query_words", "GLOSS_QUERY_LANGS", "english_word_renderings", "COVERAGE_LANGS", "SET_COVERAGE_ANY_LANG", "UNJUDGED_BY_LANGUAGE_SHARE", "UNJUDGED_LANGUAGE_FLOOR",
           "unjudged_weight", "unjudged_share", "language_shares"]

#: ``context(terms, rows) -> scores``: a keyword-like score of each row for what its context
#: (document title, headings of the enclosing clauses) adds to its own text.
ContextScorer = Callable[[Mapping[str, float], np.ndarray], np.ndarray]

#: Query languages whose own words are the corpus's words, so that how many of them a clause
#: has says how much of the query it answers (:func:`coverage_scores`).  A query in another
#: language (English) is judged only by its synonym sets, the renderings of its words, of which
#: a clause needs one (:func:`coverage_power_for`, :data:`SET_COVERAGE_ANY_LANG`).
COVERAGE_LANGS = frozenset({"zh", "ja"})

#: Whether a query in a language outside :data:`COVERAGE_LANGS` whose words come with
#: renderings (an English query's synonym sets) is judged by them, as a Japanese query is, with
#: ``set_coverage_power``.  Without it the hybrid mode fell below keyword search at hit@1 on the
#: English dev queries of eval/real/ (.462 against .481; with it .538, hit@5 .692 -> .712;
#: README "Search quality"): the dense side, which sees only guessed renderings, could vote a
#: clause that has half of the query's words above the keyword answer that has all of them.
SET_COVERAGE_ANY_LANG = True

#: Whether the hybrid mode takes a keyword candidate whose coverage is not judged (a clause in
#: another language than a Chinese query's) as a typical candidate rather than as the best one,
#: to the extent the index's rows are in the query's language (:func:`unjudged_weight`,
#: :func:`~policyidx.retrieval.fusion.relative_coverage`).  On the Chinese dev queries of
#: eval/real/ (index real2000-v3: 202,483 Chinese rows, 140 Japanese) hybrid hit@1 .793 -> .799,
#: hit@5 .957 -> .962: a Japanese translation in the corpus had come first, with coverage 1,
#: over the Chinese answer (婚姻法规定的知识产权的收益是指什么); English, Japanese and the bundled
#: sets (a Chinese query over a corpus of Japanese translations) unchanged.
UNJUDGED_BY_LANGUAGE_SHARE = True

#: The share of the index's rows in the query's language below which a candidate not judged
#: keeps coverage 1 (:func:`unjudged_weight`): only in an index almost all in the query's language
#: is a clause in another language an unlikely answer.  The bundled corpus (8.5% of its rows
#: Chinese) and the corpus of the tests (27%) are Japanese translations a Chinese query is meant
#: to reach (专利密集型产品备案认定 -> cnipa-2022-38.ja#2.5); real2000-v3 is 99.93% Chinese.
UNJUDGED_LANGUAGE_FLOOR = 0.9


def language_shares(langs: np.ndarray, names: Sequence[str] | None = None) -> dict[str, float]:
    """The share of each language among ``langs`` (one language per row of an index):
    ``{"ja": 0.01, "zh": 0.99}``; empty for no rows.  With ``names``, ``langs`` are integer
    codes and ``names[code]`` their languages (a name may stand for several codes: a
    document's language for each of its rows), counted without making a string per row."""
    n = len(langs)
    if not n:
        return {}
    if names is None:
        got, counts = np.unique(np.asarray(langs), return_counts=True)
        return {str(a): float(c) / n for a, c in zip(got.tolist(), counts.tolist())}
    out: dict[str, float] = {}
    for code, c in enumerate(np.bincount(np.asarray(langs, dtype=np.int64), minlength=len(names)).tolist()):
        if c:
            out[str(names[code])] = out.get(str(names[code]), 0.0) + c
    return {k: out[k] / n for k in sorted(out)}


def unjudged_share(coverage: np.ndarray | None, shares: Mapping[str, float], lang: str | None) -> float:
    """The ``unjudged_share`` a re-ranking with ``coverage`` (None: no coverage) uses:
    :func:`unjudged_weight` where some candidate is not judged (NaN), else 0."""
    if coverage is None or not np.isnan(coverage).any():
        return 0.0
    return unjudged_weight(shares, lang)


def unjudged_weight(shares: Mapping[str, float], lang: str | None) -> float:
    """How far a keyword candidate whose coverage is not judged counts as a typical candidate
    rather than the best (the ``unjudged_share`` of
    :func:`~policyidx.retrieval.fusion.dense_rerank`): the share ``s`` of the index's rows in the
    query's language above :data:`UNJUDGED_LANGUAGE_FLOOR`, ``(s - floor) / (1 - floor)``, 0-1;
    0 when :data:`UNJUDGED_BY_LANGUAGE_SHARE` is off.

    Parameters
    ----------
    shares
        The share of the index's rows in each language.
    lang
        The query's language.

    Returns
    -------
    float
    """
    if not UNJUDGED_BY_LANGUAGE_SHARE or not lang:
        return 0.0
    s = float(shares.get(lang, 0.0))
    return min(max((s - UNJUDGED_LANGUAGE_FLOOR) / (1.0 - UNJUDGED_LANGUAGE_FLOOR), 0.0), 1.0)

#: Whether :func:`coverage_scores` counts a synonym set of the query (the renderings of one source
#: word) as one word that a row has when it has any of its alternatives.
SET_COVERAGE = True

#: What a Chinese query word the index does not know weighs in :func:`coverage_scores`, as a
#: share of the heaviest word it knows (0: such a word is left out, as before).  A word unknown
#: to the index is often the query's subject in the user's own form (an abbreviation, a
#: colloquial compound jieba keeps whole); without it a clause that has only the query's frame
#: words (规定, 办理) covered the query as well as one that has its subject.
UNKNOWN_WORD_SHARE = 1.0

#: Whether :func:`context_scores` counts a synonym set of the query (the renderings of one
#: source word, ``QueryTerms.synonym_sets``) once, as the keyword score does.
SET_CONTEXT = True


def depth_for(k: int) -> int:
    """How many rows each retriever of a fusion is asked for when ``k`` are wanted."""
    return max(k * 5, 100)


def _check_k(k: int) -> None:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise QueryError(f"k must be a positive whole number, not {k!r}")


def _mask(filter: RowFilter | None, n: int) -> np.ndarray | None:
    if filter is None:
        return None
    if len(filter) != n:
        raise QueryError(f"the row filter covers {len(filter)} rows, the index has {n}")
    return filter.mask


class KeywordRetriever:
    """BM25 over the query's weighted terms (:class:`~policyidx.retrieval.keyword.BM25Index`)."""

    name = "keyword"

    def __init__(self, bm25: BM25Index):
        self.bm25 = bm25

    def terms_of(self, query: Expansion) -> Mapping[str, float] | list[str]:
        """What the query is looked up by: its weighted terms."""
        return query.terms

    def search(self, query: Expansion, k: int, filter: RowFilter | None = None) -> Ranking:
        _check_k(k)
        mask = _mask(filter, self.bm25.n_docs)
        terms = self.terms_of(query)
        if not terms:
            return Ranking.empty()
        rows, scores = self.bm25.search(terms, k=k, allowed=mask)
        return Ranking(np.asarray(rows, dtype=np.int64), np.asarray(scores, dtype=np.float64))


class DenseRetriever:
    """Nearest clause vectors to the embedded query (an encoder and a
    :class:`~policyidx.retrieval.vectors.VectorStore`).  The encoder is asked for lazily:
    a keyword-only search never loads it."""

    name = "dense"

    def __init__(self, encoder: Any | Callable[[], Any], vectors: VectorStore):
        self._encoder = encoder
        self.vectors = vectors

    @property
    def encoder(self) -> Any:
        if callable(self._encoder) and not hasattr(self._encoder, "encode"):
            self._encoder = self._encoder()
        return self._encoder

    def search(self, query: Expansion, k: int, filter: RowFilter | None = None) -> Ranking:
        _check_k(k)
        mask = _mask(filter, len(self.vectors))
        qv = self.encoder.encode([query.dense_text], kind="query")
        if not np.any(qv):
            return Ranking.empty()
        rows, scores = self.vectors.search(qv, k, allowed=mask)
        keep = rows[0] >= 0
        r, s = np.asarray(rows[0][keep], dtype=np.int64), np.asarray(scores[0][keep], dtype=np.float64)
        order = np.lexsort((r, -s))  # ties to the lower row, like every other ranking
        return Ranking(r[order], s[order])


#: Query languages whose re-ranked candidates are joined by the Chinese clauses their words
#: find in the clauses' English glosses (:class:`GlossRetriever`, ``gloss_candidates``).
#: Japanese since the round of real27: JMdict's glosses of its words meet CC-CEDICT's of a
#: clause's words where no shared gloss renders a word (README, "Japanese: the clauses read in
#: their glosses").
GLOSS_QUERY_LANGS: tuple[str, ...] = ("en", "ja")


def gloss_query_words(query: Expansion) -> list[str]:
    """The English words a query is looked up by in the glosses of Chinese clauses: an English
    query's content words (:func:`~policyidx.text.lexicons.english_query_words`), a Japanese
    query's words' JMdict glosses (:func:`~policyidx.retrieval.expand.japanese_gloss_words`);
    none for a language not in :data:`GLOSS_QUERY_LANGS`."""
    if query.lang not in GLOSS_QUERY_LANGS:
        return []
    if query.lang == "en":
        from ..text.lexicons import english_query_words

        return english_query_words(query.query)
    if query.lang == "ja":
        from .expand import japanese_gloss_words

        return japanese_gloss_words(query.query)
    return []


class GlossRetriever(KeywordRetriever):
    """BM25 of an English query's content words, or of a Japanese query's words' glosses
    (:func:`gloss_query_words`), over the English glosses of the Chinese rows' words
    (:func:`policyidx.index.build.gloss_index`): the document side of cross-language
    retrieval.  A query in another language finds nothing."""

    name = "glosses"

    def terms_of(self, query: Expansion) -> list[str]:
        """The words the query is looked up by (:func:`gloss_query_words`)."""
        return gloss_query_words(query)

    def score(self, query: Expansion, rows: np.ndarray) -> np.ndarray:
        """The score of given rows (0 where none of the query's words is in their glosses)."""
        words = self.terms_of(query)
        if not words:
            return np.zeros(len(rows), dtype=np.float64)
        return np.asarray(self.bm25.score(words, np.asarray(rows, dtype=np.int64)), dtype=np.float64)


class FusionRetriever:
    """Several named retrievers, each asked for :func:`depth_for` ``(k)`` rows, fused.

    Parameters
    ----------
    parts
        Name -> retriever.
    weights
        Name -> weight in the fusion.
    fusion
        A name in :data:`~policyidx.retrieval.fusion.FUSIONS` (``rrf``).
    rrf_k
        The RRF constant.
    name
        This retriever's name (the search mode).
    """

    def __init__(self, parts: Mapping[str, Retriever], weights: Mapping[str, float], *, fusion: str = "rrf",
                 rrf_k: float = 60.0, name: str = "hybrid"):
        if fusion not in FUSIONS:
            raise QueryError(f"unknown fusion {fusion!r}; expected one of {', '.join(FUSIONS)}")
        self.parts = dict(parts)
        self.weights = dict(weights)
        self.fuse = FUSIONS[fusion]
        self.rrf_k = rrf_k
        self.name = name

    def search(self, query: Expansion, k: int, filter: RowFilter | None = None) -> Ranking:
        _check_k(k)
        depth = depth_for(k)
        rankings = {name: r.search(query, depth, filter) for name, r in self.parts.items()}
        return self.fuse(rankings, self.weights, self.rrf_k).top(k)


class RerankRetriever:
    """Keyword candidates re-ranked by the dense side's votes for their document and clause
    and by what their context says (:func:`~policyidx.retrieval.fusion.dense_rerank`): the
    default ``hybrid`` mode.

    Parameters
    ----------
    keyword, dense
        The two base retrievers.
    row_doc
        Row -> document number of the index (``None``: no document vote).
    doc_weight, clause_weight
        The votes' weights.
    depth
        How many rows each side is asked for (at least :func:`depth_for` ``(k)``).
    context
        ``context(terms, rows)``: the context score of rows (:func:`context_scores`);
        ``None`` (or ``context_weight`` 0) leaves it out.
    context_weight
        Its weight, relative to BM25.
    context_depth
        How many of the best keyword candidates get a context score.
    coverage
        ``coverage(terms, rows)``: how much of the query each row covers, 0-1
        (:func:`coverage_scores`); ``None`` (or ``coverage_power`` 0) leaves it out.  Asked for
        every keyword candidate of a query whose :func:`coverage_power_for` is not 0.
    coverage_power
        Each keyword candidate's fused score is multiplied by its coverage to this power.
    set_coverage_power
        The power for a query whose words come with their renderings (synonym sets: English
        and Japanese queries, :func:`coverage_power_for`); ``None``: ``coverage_power``.
    row_lang
        ``row_lang(rows)``: the language of each row; coverage is judged for candidates in the
        query's language only, relative to the best of them (``None``: all are judged).
    lang_weights
        Per query language, weights replacing ``doc_weight``, ``clause_weight`` or
        ``context_weight``, or a ``rerank_depth`` replacing ``depth``, for queries in it
        (``{"en": {"context_weight": 0.0}}``).
    row_title
        ``row_title(rows)``: the title of each row's document (``None``: no jurisdiction factor).
    jurisdictions
        The jurisdictions named at the head of the index's document titles
        (:func:`jurisdiction_names`; a callable returning them is called on first use).
    jurisdiction_penalty
        What a candidate loses, as a share of its fused score, when the query names a
        jurisdiction its document's title does not (:func:`jurisdiction_factor`; 0: not used).
    local_penalty
        What a candidate of a local regulation loses when the query names no jurisdiction
        (:func:`jurisdiction_factor`; 0: not used).
    row_quantity, quantity_penalty
        ``row_quantity(rows)``: whether each row states a number with a unit
        (:func:`has_quantity`); a candidate in the query's language that does not loses the
        share ``quantity_penalty`` of its fused score when a Chinese query asks for a quantity
        (:func:`asks_quantity`, :func:`quantity_factor`; ``None`` or 0: not used).
    row_sanction, sanction_penalty
        ``row_sanction(rows)``: whether each row, read with the lead-in of the list it is an item
        of, states a sanction (:func:`has_sanction`); a Chinese candidate that does not loses the
        share ``sanction_penalty`` of its fused score when a query asks about one
        (:func:`judged_sanction`; ``None`` or 0: not used).
    sanction_langs
        The query languages whose questions about a sanction are judged (``("zh",)``).
    row_boilerplate, boilerplate_penalty
        ``row_boilerplate(rows)``: whether each row is a formal part of its document (a title
        line, a purpose, commencement or repeal article; :func:`is_boilerplate`); such a
        candidate loses the share ``boilerplate_penalty`` of its fused score unless the query
        asks about those articles (:func:`judged_boilerplate`; ``None`` or 0: not used).
    row_gloss, gloss_weight
        ``row_gloss(words, rows, renderings)``: the share of an English query's content words
        (stemmed) that the glosses of each row's words hold, or that the row has a rendering of; each candidate of an English query
        is multiplied by :func:`gloss_factor` of it (:func:`judged_glosses`; ``None`` or 0:
        not used).
    lang_shares
        The share of the index's rows in each language (a callable returning them is called on
        first use): a candidate whose coverage is not judged counts as a typical candidate to
        the extent the index is in the query's language
        (:func:`~policyidx.retrieval.fusion.relative_coverage`; ``None``: as the best).
    glosses, gloss_candidates, gloss_depth
        A :class:`GlossRetriever`: an English query's ranking is joined by its ``gloss_depth``
        best rows, each row scoring its re-ranked score plus ``gloss_candidates`` times its
        gloss score, both relative to their best
        (:func:`~policyidx.retrieval.fusion.add_candidates`; ``None`` or 0: not used).
    """

    def __init__(self, keyword: Retriever, dense: Retriever, row_doc: np.ndarray | None = None, *,
                 doc_weight: float = 0.3, clause_weight: float = 0.2, depth: int = 200, name: str = "hybrid",
                 context: ContextScorer | None = None, context_weight: float = 0.0, context_depth: int = 50,
                 coverage: ContextScorer | None = None, coverage_power: float = 0.0,
                 row_lang: Callable[[np.ndarray], np.ndarray] | None = None,
                 lang_weights: Mapping[str, Mapping[str, float]] | None = None,
                 set_coverage_power: float | None = None,
                 row_title: Callable[[np.ndarray], Sequence[str]] | None = None,
                 jurisdictions: frozenset[str] | Callable[[], frozenset[str]] | None = None,
                 jurisdiction_penalty: float = 0.0, local_penalty: float = 0.0,
                 row_quantity: Callable[[np.ndarray], np.ndarray] | None = None, quantity_penalty: float = 0.0,
                 row_sanction: Callable[[np.ndarray], np.ndarray] | None = None, sanction_penalty: float = 0.0,
                 sanction_langs: Iterable[str] = ("zh",),
                 row_boilerplate: Callable[[np.ndarray], np.ndarray] | None = None, boilerplate_penalty: float = 0.0,
                 row_gloss: Callable[..., np.ndarray] | None = None,
                 gloss_weight: float = 0.0,
                 lang_shares: Mapping[str, float] | Callable[[], Mapping[str, float]] | None = None,
                 glosses: GlossRetriever | None = None, gloss_candidates: float = 0.0, gloss_depth: int = 200):
        self.keyword, self.dense, self.row_doc = keyword, dense, row_doc
        self.glosses, self.gloss_candidates, self.gloss_depth = glosses, float(gloss_candidates), int(gloss_depth)
        self.row_title, self._jurisdictions = row_title, jurisdictions
        self.jurisdiction_penalty = float(jurisdiction_penalty)
        self.local_penalty = float(local_penalty)
        self.row_quantity, self.quantity_penalty = row_quantity, float(quantity_penalty)
        self.row_sanction, self.sanction_penalty = row_sanction, float(sanction_penalty)
        self.sanction_langs = tuple(sanction_langs)
        self.row_boilerplate, self.boilerplate_penalty = row_boilerplate, float(boilerplate_penalty)
        self.row_gloss, self.gloss_weight = row_gloss, float(gloss_weight)
        self._lang_shares = lang_shares
        self.lang_weights = {lang: dict(w) for lang, w in (lang_weights or {}).items()}
        self.row_lang = row_lang
        self.doc_weight, self.clause_weight, self.depth = float(doc_weight), float(clause_weight), int(depth)
        self.context, self.context_weight, self.context_depth = context, float(context_weight), int(context_depth)
        self.coverage, self.coverage_power = coverage, float(coverage_power)
        self.set_coverage_power = float(coverage_power if set_coverage_power is None else set_coverage_power)
        self.name = name

    def search(self, query: Expansion, k: int, filter: RowFilter | None = None) -> Ranking:
        _check_k(k)
        own = self.lang_weights.get(query.lang) or {}
        depth = max(int(own.get("rerank_depth", self.depth)), depth_for(k))
        kw = self.keyword.search(query, depth, filter)
        dn = self.dense.search(query, depth, filter)
        doc_weight = float(own.get("doc_weight", self.doc_weight))
        clause_weight = float(own.get("clause_weight", self.clause_weight))
        context_weight = float(own.get("context_weight", self.context_weight))
        ctx = None
        if self.context is not None and context_weight and len(kw) and query.terms and self.context_depth > 0:
            ctx = np.zeros(len(kw), dtype=np.float64)
            n = min(len(kw), self.context_depth)
            ctx[:n] = context_weight * np.asarray(self.context(query.terms, kw.rows[:n]), dtype=np.float64)
        cov = None
        power = coverage_power_for(query, self.coverage_power, self.set_coverage_power)
        if self.coverage is not None and power and len(kw) and query.terms:
            cov = judged_coverage(self.coverage, query, kw.rows, self.row_lang)
        prior = None
        if self.row_title is not None and (self.jurisdiction_penalty or self.local_penalty) and len(kw) and query.terms:
            prior = judged_jurisdiction(query, kw.rows, self.jurisdictions, self.row_title, self.row_lang,
                                        self.jurisdiction_penalty, self.local_penalty)
        # the answer-type factors (a quantity, a sanction), the formal articles, an English
        # query's glosses: each None when it does not judge this query
        factors = (
            judged_quantity(query, kw.rows, self.row_quantity, self.row_lang, self.quantity_penalty)
            if self.row_quantity is not None else None,
            judged_sanction(query, kw.rows, self.row_sanction, self.row_lang, self.sanction_penalty,
                            self.sanction_langs) if self.row_sanction is not None else None,
            judged_boilerplate(query, kw.rows, self.row_boilerplate, self.row_lang, self.boilerplate_penalty)
            if self.row_boilerplate is not None else None,
            judged_glosses(query, kw.rows, self.row_gloss, self.gloss_weight))
        for q in factors:
            if q is not None:
                prior = q if prior is None else prior * q
        ranked = dense_rerank(kw, dn, self.row_doc, doc_weight=doc_weight, clause_weight=clause_weight,
                              context=ctx, coverage=cov, coverage_power=power, prior=prior,
                              unjudged_share=unjudged_share(cov, self.lang_shares, query.lang))
        gloss_candidates = float(own.get("gloss_candidates", self.gloss_candidates))
        if self.glosses is not None and gloss_candidates and self.gloss_depth > 0 and query.lang in GLOSS_QUERY_LANGS:
            # (the weight for the query's language: ``lang_weights``, else the common one)
            gl = self.glosses.search(query, self.gloss_depth, filter)
            if len(gl):
                of_ranked = self.glosses.score(query, ranked.rows)
                if self.row_lang is not None:  # a row not in Chinese has no glosses to read
                    of_ranked[np.asarray(self.row_lang(ranked.rows)) != "zh"] = np.nan
                ranked = add_candidates(ranked, gl, of_ranked, gloss_candidates, name="glosses")
        return ranked.top(k)

    @property
    def lang_shares(self) -> Mapping[str, float]:
        """The share of the index's rows in each language, asked for once."""
        if callable(self._lang_shares):
            self._lang_shares = dict(self._lang_shares())
        return self._lang_shares or {}

    @property
    def jurisdictions(self) -> frozenset[str]:
        """The jurisdictions of the index's titles (:func:`jurisdiction_names`), asked for once."""
        if callable(self._jurisdictions):
            self._jurisdictions = frozenset(self._jurisdictions())
        return self._jurisdictions or frozenset()


def coverage_power_for(query: Expansion, power: float, set_power: float) -> float:
    """The power of the coverage factor for ``query`` (0: not judged).

    A query whose words come with their renderings (``query.terms.synonym_sets``: a Japanese
    or English query reaching Chinese clauses) gets ``set_power``: a clause covers one of its
    words when it has any rendering of it (:func:`coverage_scores`), and renderings are guesses,
    so the factor is softer.  Another query in a language of :data:`COVERAGE_LANGS` gets
    ``power``; one in another language without synonym sets is not judged (its words are not
    the corpus's).  (An English query with synonym sets is judged only while
    :data:`SET_COVERAGE_ANY_LANG` holds.)

    Parameters
    ----------
    query
        The analysed query.
    power, set_power
        The index's ``coverage_power`` and ``set_coverage_power``.

    Returns
    -------
    float
    """
    sets = SET_COVERAGE and bool(getattr(query.terms, "synonym_sets", ()))
    if query.lang not in COVERAGE_LANGS:
        return float(set_power) if sets and SET_COVERAGE_ANY_LANG else 0.0
    return float(set_power) if sets else float(power)


def judged_coverage(coverage: ContextScorer, query: Expansion, rows: np.ndarray,
                    row_lang: Callable[[np.ndarray], np.ndarray] | None) -> np.ndarray:
    """``coverage(query.terms, rows)`` for the rows in the query's language, NaN (not judged)
    for the others: a Japanese translation cannot have the words of a Chinese query, and how
    much it answers is left to the bridge terms and the dense side.  A query with synonym sets
    (the renderings of its words in the other languages) is judged on every row."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.full(len(rows), np.nan)
    across = SET_COVERAGE and bool(getattr(query.terms, "synonym_sets", ()))
    same = np.ones(len(rows), dtype=bool) if row_lang is None or across else np.asarray(row_lang(rows)) == query.lang
    if same.any():
        out[same] = np.asarray(coverage(query.terms, rows[same]), dtype=np.float64)
    return out


#: The head of a title that names the jurisdiction of a local regulation: an optional
#: ``中华人民共和国``, a name of two to four characters (none of them an administrative suffix,
#: so that ``城市`` or ``市场`` is no name) and the suffix of a province, city, autonomous
#: region or prefecture, county or special administrative region (郑州市..., 河南省...,
#: 香港特别行政区...).
_JURISDICTION = re.compile(r"^(?:中华人民共和国)?([^\W\d_省市区县诉]{2,4}?)(?:特别行政区|自治区|自治州|省|市|县)")

#: Administrative suffixes a query word may add to a jurisdiction's name (郑州市 for 郑州).
_JURISDICTION_SUFFIXES = ("特别行政区", "自治区", "自治州", "省", "市", "县")


def jurisdiction_names(titles: Iterable[str]) -> frozenset[str]:
    """The jurisdictions named at the head of document titles: ``郑州`` for
    ``郑州市城市道路交通安全管理条例``, ``河南`` for ``河南省实施《水土保持法》办法``.

    Local regulations carry their province or city at the head of their title; which names
    these are is read from the corpus's own titles, not from a list of places.

    Parameters
    ----------
    titles
        Document titles.

    Returns
    -------
    frozenset of str
    """
    out = set()
    for title in titles:
        m = _JURISDICTION.match((title or "").strip())
        if m:
            out.add(m.group(1))
    return frozenset(out)


def query_jurisdictions(words: Iterable[str], names: frozenset[str]) -> tuple[str, ...]:
    """The jurisdictions a query names: the names of ``names`` that are one of its ``words``,
    alone or with an administrative suffix (``郑州`` or ``郑州市``), in the order of the words.

    Parameters
    ----------
    words
        The query's own words.
    names
        The index's jurisdictions (:func:`jurisdiction_names`).

    Returns
    -------
    tuple of str
    """
    got: list[str] = []
    for w in words:
        name = w if w in names else next((w[:-len(x)] for x in _JURISDICTION_SUFFIXES
                                          if w.endswith(x) and w[:-len(x)] in names), None)
        if name and name not in got:
            got.append(name)
    return tuple(got)


def jurisdiction_factor(named: Sequence[str], titles: Sequence[str], penalty: float,
                        local_penalty: float = 0.0) -> np.ndarray:
    """One factor per row: 1 where the row's document title has every jurisdiction the query
    names (``named``, :func:`query_jurisdictions`), ``1 - penalty`` elsewhere; when the query
    names none, ``1 - local_penalty`` where the title names a jurisdiction at its head (a local
    regulation), else 1.

    A user who names a city or province (郑州交通事故认定书几天内出具) asks about its rules; the
    same rule in another city's regulation, or in a national one, is a weaker answer, however
    alike its wording.  A user who names none asks, most often, about the rules that hold
    everywhere: the same rule in one city's regulation comes second, by a little.

    Parameters
    ----------
    named
        The jurisdictions the query names.
    titles
        Each row's document title.
    penalty
        The share of its score a row of another jurisdiction loses (0-1).
    local_penalty
        The share a row of a local regulation loses when the query names no jurisdiction (0-1).

    Returns
    -------
    numpy.ndarray of float64
    """
    out = np.ones(len(titles), dtype=np.float64)
    if not named:
        if local_penalty:
            low = 1.0 - min(max(float(local_penalty), 0.0), 1.0)
            for i, t in enumerate(titles):
                if _JURISDICTION.match((t or "").strip()):
                    out[i] = low
        return out
    if not penalty:
        return out
    low = 1.0 - min(max(float(penalty), 0.0), 1.0)
    for i, t in enumerate(titles):
        if not all(n in (t or "") for n in named):
            out[i] = low
    return out


def judged_jurisdiction(query: Expansion, rows: np.ndarray, names: frozenset[str],
                        row_title: Callable[[np.ndarray], Sequence[str]],
                        row_lang: Callable[[np.ndarray], np.ndarray] | None, penalty: float,
                        local_penalty: float = 0.0) -> np.ndarray | None:
    """:func:`jurisdiction_factor` for a query's own words over ``rows`` (``None`` when it
    changes nothing: the query names no jurisdiction and ``local_penalty`` is 0).  Judged as
    the proximity of words is: for a query whose own words are the corpus's (a language of
    :data:`COVERAGE_LANGS`, no synonym sets), on the rows in its language (others get 1)."""
    if query.lang not in COVERAGE_LANGS or getattr(query.terms, "synonym_sets", ()) or not names:
        return None
    from ..text.analysis import BRIDGE_PREFIX

    named = query_jurisdictions((t for t, w in query.terms.items() if w >= 1.0 and not t.startswith(BRIDGE_PREFIX)),
                                names)
    if not named and not local_penalty:
        return None
    rows = np.asarray(rows, dtype=np.int64)
    out = jurisdiction_factor(named, list(row_title(rows)), penalty, local_penalty)
    if row_lang is not None:
        out[np.asarray(row_lang(rows)) != query.lang] = 1.0
    return out


#: A Chinese question that asks for a quantity: 多少, 多长, 多久, or 几 before a measure word
#: (几天, 几年; not 好几 "several").
_QUANTITY_QUESTION = re.compile(r"多少|多长|多久|(?<!好)几(?=[天日年月周个次倍项人级种岁元十百千万])")
#: An English or Japanese question asking for a quantity ("how many days", "what percentage",
#: "deadline"; 何日以内, いくら; not 何人も "anyone", 何年も "for years"); its answer is a
#: Chinese clause with a number and a unit too.
_QUANTITY_QUESTION_EN = re.compile(r"\bhow (?:much|many|long|large|high|big|old|soon|far|heavy)\b|\bwhat (?:percentage|proportion|share|amount|sum|age|ratio)\b"
                                   r"|\bby how\b|\bwithin what\b|\b(?:minimum|maximum|deadline|time limit)s?\b", re.I)
_QUANTITY_QUESTION_JA = re.compile(r"いくら|幾ら|どのくらい|どれくらい|どれだけ|何(?:日|年|か月|ヶ月|カ月|箇月|週|時間|倍|人|回|件|パーセント|%|％|元|歳|割)(?!も)")
#: A number with a unit of time, money, share or count (十五日内, 二十万元, 30年以上, 5%; in a
#: Japanese translation also 3か月, 50万円).
_QUANTITY = re.compile(r"[0-9０-９零〇一二三四五六七八九十百千万两]+(?:[.．][0-9０-９]+)?\s*"
                       r"(?:个工作日|工作日|个月|か月|ヶ月|カ月|箇月|小时|日|天|月|年|周|元|円|%|％|倍|人|次|项|件|家|个|名|株|亩|公斤|千克|吨|米|公里|岁|分)")


_QUANTITY_QUESTIONS = {"zh": _QUANTITY_QUESTION, "en": _QUANTITY_QUESTION_EN, "ja": _QUANTITY_QUESTION_JA}


def asks_quantity(query: Expansion) -> bool:
    """Whether a query asks for a quantity (罚款多少, 几天内, 多长时间; "how much", "how many
    days"; いくら, 何日): its answer states a number and a unit."""
    pattern = _QUANTITY_QUESTIONS.get(query.lang)
    return pattern is not None and bool(pattern.search(query.query))


def has_quantity(texts: Iterable[str]) -> np.ndarray:
    """Per text, whether it states a number with a unit (:data:`_QUANTITY`)."""
    return np.fromiter((bool(_QUANTITY.search(t or "")) for t in texts), dtype=bool)


def quantity_factor(has: np.ndarray, penalty: float) -> np.ndarray:
    """One factor per candidate of a question asking for a quantity: 1 where the candidate states
    one (``has``), ``1 - penalty`` elsewhere.  The answer to 罚多少钱 or 几天内 is a clause
    with a number and a unit, not its neighbour that names the same act or deadline without it."""
    low = 1.0 - min(max(float(penalty), 0.0), 1.0)
    return np.where(np.asarray(has, dtype=bool), 1.0, low)


def judged_quantity(query: Expansion, rows: np.ndarray, row_quantity: Callable[[np.ndarray], np.ndarray],
                    row_lang: Callable[[np.ndarray], np.ndarray] | None, penalty: float) -> np.ndarray | None:
    """:func:`quantity_factor` of ``rows`` for a query that asks for a quantity
    (:func:`asks_quantity`), judged on the rows in its language and on the Chinese rows (an
    English or Japanese query reaches Chinese clauses; :data:`_QUANTITY` reads Chinese and
    Japanese numbers alike); others get 1.  ``None`` for any other query, or a penalty of 0."""
    if not penalty or not len(rows) or not asks_quantity(query):
        return None
    rows = np.asarray(rows, dtype=np.int64)
    out = quantity_factor(row_quantity(rows), penalty)
    if row_lang is not None:
        langs = np.asarray(row_lang(rows))
        out[(langs != query.lang) & (langs != "zh")] = 1.0
    return out


#: A Chinese question about the consequence of an act: its penalty, liability or punishment
#: (怎么处罚, 罚多少, 法律责任, 什么后果, 判几年, 怎么处理).
_SANCTION_QUESTION = re.compile(r"处罚|罚款|罚金|罚多少|怎么罚|如何罚|怎么处理|如何处理|怎样处理|法律责任|刑事责任|什么责任"
                                r"|后果|处分|吊销|判多少|判几年|怎么判|量刑|定罪")
#: What a clause that states a sanction says: a fine, a penalty, a warning, revocation,
#: confiscation, detention or a prison term, a disciplinary sanction, an order to stop or to
#: correct, liability pursued, or punishment "under" another provision.
_SANCTION = re.compile(r"罚款|处罚|警告|吊销|没收|拘役|有期徒刑|无期徒刑|死刑|刑事责任|处分|取缔|拘留|罚金|责令停|责令改正"
                       r"|撤销|暂扣|追究|依照.{0,12}规定处")


#: The same in English ("what is the penalty", "what happens to", "fined", "prosecuted") and in
#: Japanese (処罰, 罰金, 処分, どうなる, 責任を負う).
_SANCTION_QUESTION_EN = re.compile(r"\bpenalt(?:y|ies)\b|\bpunish|\bfined?\b|\bfines\b|\bsanction|\bliab(?:le|ility)\b"
                                   r"|\bwhat happens (?:to|if|when)\b|\bconsequences?\b|\bprosecut|\bsentenced?\b"
                                   r"|\bdisciplin|\bcriminal responsibility\b", re.I)
_SANCTION_QUESTION_JA = re.compile(r"処罰|罰金|罰則|過料|科料|懲役|処分|刑事責任|責任を(?:負|問|追及)|どうなる|どう処理"
                                   r"|どのような処理|どんな処理|制裁|罰せ")
_SANCTION_QUESTIONS = {"zh": _SANCTION_QUESTION, "en": _SANCTION_QUESTION_EN, "ja": _SANCTION_QUESTION_JA}


def asks_sanction(query: Expansion, langs: Iterable[str] = ("zh",)) -> bool:
    """Whether a query in one of ``langs`` asks what an act costs (:data:`_SANCTION_QUESTION`
    and its English and Japanese counterparts): its answer states a sanction."""
    pattern = _SANCTION_QUESTIONS.get(query.lang) if query.lang in langs else None
    return pattern is not None and bool(pattern.search(query.query))


def has_sanction(texts: Iterable[str]) -> np.ndarray:
    """Per text, whether it states a sanction (:data:`_SANCTION`)."""
    return np.fromiter((bool(_SANCTION.search(t or "")) for t in texts), dtype=bool)


def judged_sanction(query: Expansion, rows: np.ndarray, row_sanction: Callable[[np.ndarray], np.ndarray],
                    row_lang: Callable[[np.ndarray], np.ndarray] | None, penalty: float,
                    langs: Iterable[str] = ("zh",)) -> np.ndarray | None:
    """For a question about a sanction in one of ``langs`` (:func:`asks_sanction`), one factor
    per Chinese candidate: 1 where the row, with the lead-in of the list it is an item of, states
    one (``row_sanction``), ``1 - penalty`` elsewhere (:func:`quantity_factor`'s rule); rows in
    another language than Chinese get 1 (an English or Japanese query is judged on the Chinese
    clauses it reaches).
    The answer to 怎么处罚 is the penalty article, not the duty it sanctions.  ``None`` for any
    other query, or a penalty of 0."""
    if not penalty or not len(rows) or not asks_sanction(query, langs):
        return None
    rows = np.asarray(rows, dtype=np.int64)
    out = quantity_factor(row_sanction(rows), penalty)
    if row_lang is not None:
        out[np.asarray(row_lang(rows)) != "zh"] = 1.0
    return out


_SPACES = re.compile(r"\s+")

#: The formal articles of a Chinese law that answer no question about its subject: its
#: purpose ("为了……，根据……，制定本条例"), its commencement ("本办法自……起施行") and the
#: repeal of an older text ("……同时废止"), and their Japanese counterparts
#: ("……を目的として、本法を制定する", "本規則は……から施行する").
_FORMAL_KINDS = r"(?:条例|办法|规定|法|细则|决定|解释|规则|意见|安排|通知|准则|规范|纲要|章程)"
_FORMAL = re.compile(
    r"^(?:第[一二三四五六七八九十百零〇\d]+条)?\s*(?:"
    r"(?:为了|为|根据)[^。]{2,300}?(?:制定|制订)本" + _FORMAL_KINDS +
    r"|本" + _FORMAL_KINDS + r"(?:自|从|于)[^。]{0,60}?(?:起施行|起实施|施行|生效)"
    r"|[^。]{0,120}?同时(?:废止|失效)[。；]?$"
    r"|(?:この|本)(?:法律|法|規則|規定|条例|弁法|細則|決定|解釈)は[^。]{0,60}?(?:から|より)(?:施行|実施)"
    r"|[^。]{2,300}?(?:ため|目的として)[^。]{0,200}?(?:本|この)(?:法律|法|規則|規定|条例|弁法|細則)を制定する)")
#: A question about those very articles: when a text takes effect, what it is for, what it
#: repealed ("何时施行", "what is the purpose of", "いつから施行").
_FORMAL_QUESTION = {
    "zh": re.compile(r"施行|生效|实施日期|起实施|何时实施|什么时候实施|目的|宗旨|为什么制定|废止|失效"),
    "en": re.compile(r"\b(?:effect(?:ive)?|in force|commenc\w*|purpose|aims?|repeal\w*|invalid\w*|expire\w*)\b", re.I),
    "ja": re.compile(r"施行|発効|効力を(?:生|有)|目的|廃止|失効"),
}


def asks_boilerplate(query: Expansion) -> bool:
    """Whether a query asks about a text's commencement, purpose or repeals
    (:data:`_FORMAL_QUESTION`): then the formal articles are answers like any other."""
    pattern = _FORMAL_QUESTION.get(query.lang)
    return pattern is not None and bool(pattern.search(query.query))


def is_boilerplate(texts: Iterable[str], titles: Iterable[str | None]) -> np.ndarray:
    """Per row, whether it is a formal part that answers no question about a text's subject:
    a copy of its document's title (the title line repeated at the head of the body) or a
    purpose, commencement or repeal article (:data:`_FORMAL`).  ``titles``: each row's
    document title."""
    out = []
    for text, title in zip(texts, titles):
        t = _SPACES.sub("", text or "")
        out.append(bool(t) and (t == _SPACES.sub("", title or "") or bool(_FORMAL.search(t))))
    return np.array(out, dtype=bool)


def judged_boilerplate(query: Expansion, rows: np.ndarray, row_boilerplate: Callable[[np.ndarray], np.ndarray],
                       row_lang: Callable[[np.ndarray], np.ndarray] | None, penalty: float) -> np.ndarray | None:
    """One factor per candidate: ``1 - penalty`` for a formal row (``row_boilerplate``,
    :func:`is_boilerplate`: a title line, a purpose, commencement or repeal article), 1
    elsewhere, in every language.  The title line of 最高人民法院关于裁判文书引用法律、法规等规范性法律文件的规定
    holds every word of "which laws may a judgment cite" and answers nothing; the articles do.
    ``None`` for a query that asks about those articles (:func:`asks_boilerplate`), or a
    penalty of 0 (``row_lang`` is accepted for the signature the other factors share)."""
    if not penalty or not len(rows) or asks_boilerplate(query):
        return None
    rows = np.asarray(rows, dtype=np.int64)
    return quantity_factor(~np.asarray(row_boilerplate(rows), dtype=bool), penalty)


def gloss_factor(shares: np.ndarray, weight: float) -> np.ndarray:
    """One factor per candidate of an English query, ``(1 + weight * share) / (1 + weight)``,
    where ``share`` is the part of the query's content words that the English glosses of the
    candidate's Chinese words hold (:meth:`policyidx.index.Index.gloss_shares`).

    The query side reaches a Chinese clause through a few renderings per English word, chosen
    before any clause is seen; the clause side here reads every Chinese word of a candidate in
    its dictionary senses, so a clause that says 坟墓 for "grave", where the query's renderings
    chose 严重 ("grave; serious"), still counts the word.  Translating the documents as well
    as the query is the classic remedy of cross-language retrieval for a query translation's
    narrow choices (McCarley, ACL 1999); here only the candidates are read, at query time."""
    w = max(float(weight), 0.0)
    return (1.0 + w * np.asarray(shares, dtype=np.float64)) / (1.0 + w)


def english_word_renderings(query: Expansion, words: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Per content word of an English query (stemmed, :func:`~policyidx.text.lexicons.english_query_words`),
    the renderings the query side gave it: those of the glossary entries whose English forms
    have the word (both languages' forms) and those of the dictionary words or phrases that
    have it (``query.dictionary``)."""
    from ..text.lexicons import english_query_words

    want = set(words)
    out: dict[str, set[str]] = {}
    for entry in query.entries:
        for w in set(english_query_words(" ".join(entry.en))) & want:
            out.setdefault(w, set()).update((entry.zh, *entry.ja))
    for rendering, source in query.dictionary.items():
        for w in set(english_query_words(source)) & want:
            out.setdefault(w, set()).add(rendering)
    return {w: tuple(sorted(r for r in rs if r)) for w, rs in out.items()}


def judged_glosses(query: Expansion, rows: np.ndarray,
                   row_gloss: Callable[..., np.ndarray] | None, weight: float) -> np.ndarray | None:
    """:func:`gloss_factor` of ``rows`` for an English query (``None`` for others, a weight of 0
    or a query of no content word): ``row_gloss(words, rows, renderings)`` gives their shares
    (NaN for a row it cannot read, which gets the mean factor of the others, a typical
    candidate's), a word counting where the row's glosses hold it or the row has one of its
    renderings (:func:`english_word_renderings`: the query side's translation, the curated
    glossary's included, is not second-guessed)."""
    if not weight or row_gloss is None or query.lang != "en" or not len(rows):
        return None
    from ..text.lexicons import english_query_words

    words = english_query_words(query.query)
    if not words:
        return None
    shares = np.asarray(row_gloss(words, np.asarray(rows, dtype=np.int64), english_word_renderings(query, words)),
                        dtype=np.float64)
    read = ~np.isnan(shares)
    if not read.any():
        return None
    out = np.empty(len(shares), dtype=np.float64)
    out[read] = gloss_factor(shares[read], weight)
    out[~read] = float(out[read].mean())
    return out


def lucene_idf(df: float, n: int) -> float:
    """BM25's (Lucene's) idf of a term in ``df`` of ``n`` rows."""
    return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def context_scores(terms: Mapping[str, float], rows: np.ndarray, *, has_term: Callable[[str, np.ndarray], np.ndarray],
                   context_of: Callable[[int], tuple[Container[str], str]], row_text: Callable[[int], str],
                   idf: Callable[[str], float], k1: float) -> np.ndarray:
    """What the context of each row adds to its own text, as a keyword score.

    A clause often leaves out what its law or its heading says: the city (德州, 湛江), the
    subject (会计师事务所 in the title of an interpretation), the lead-in of a list of items.
    For each row this is the sum, over the query terms that its context (document title,
    headings of the enclosing clauses) has and its own text lacks, of ``weight * idf /
    (1 + k1)``: what one occurrence of the term would add to the BM25 score of a clause of
    average length.  A Chinese or Japanese term of two or more characters is looked for as a
    substring (``德州`` is in the title ``德州市制定地方性法规条例`` though the title's word is
    ``德州市``) as well as an index term, shared-Han-character terms (``#..``) by their
    characters too; other terms as index terms only.

    A query with synonym sets (``terms.synonym_sets``, :class:`~policyidx.retrieval.expand.QueryTerms`:
    the renderings of one source word) counts each set once, as the keyword score does: its
    best alternative's sum, and nothing for a row whose own text has any term of the set.

    Parameters
    ----------
    terms
        The query's weighted keyword terms (with their ``synonym_sets``, if any).
    rows
        The rows to score.
    has_term
        ``has_term(term, rows)``: boolean array, which rows' own text has the index term.
    context_of
        ``context_of(row)``: the index terms (a set, or anything ``in`` asks) and the text of
        the row's context.
    row_text
        ``row_text(row)``: the row's own text.
    idf
        ``idf(term)``: the term's idf in the index (0 for an unknown term).
    k1
        The index's BM25 ``k1``.

    Returns
    -------
    numpy.ndarray of float64
        One score per row (0 where the context adds nothing).
    """
    rows = np.asarray(rows, dtype=np.int64)
    out = np.zeros(len(rows), dtype=np.float64)
    if not len(rows):
        return out
    ctxs = [context_of(int(r)) for r in rows.tolist()]
    texts: list[str] | None = None

    def judge(t: str, w: float) -> tuple[np.ndarray, np.ndarray] | None:
        """(what the context adds for ``t`` per row, whether the row's own text has it), or
        ``None`` when no row's context has it."""
        nonlocal texts
        if w <= 0:
            return None
        value = w * idf(t) / (1.0 + k1)
        if value <= 0:
            return None
        chars = t[1:] if t.startswith("#") else t
        if len(chars) >= 2 and _CJK.search(chars):
            # the text first: a context's terms are then segmented only where it is not enough
            in_ctx = np.fromiter((chars in c[1] or t in c[0] for c in ctxs), dtype=bool, count=len(rows))
            if not in_ctx.any():
                return None
            if texts is None:
                texts = [row_text(int(r)) for r in rows.tolist()]
            own = np.fromiter((chars in x for x in texts), dtype=bool, count=len(rows))
            own |= np.asarray(has_term(t, rows), dtype=bool)
        else:
            in_ctx = np.fromiter((t in c[0] for c in ctxs), dtype=bool, count=len(rows))
            if not in_ctx.any():
                return None
            own = np.asarray(has_term(t, rows), dtype=bool)
        return np.where(in_ctx & ~own, value, 0.0), own

    sets = getattr(terms, "synonym_sets", ()) if SET_CONTEXT else ()
    in_set = {t for alts in sets for alt in alts for t in alt}
    for t, w in terms.items():
        if t not in in_set:
            got = judge(t, w)
            if got is not None:
                out += got[0]
    for alts in sets:
        # one word of the query, whichever of its renderings the context has, counts once (its
        # best alternative, as the keyword score counts a set), and not at all where the
        # clause itself has one of its renderings (the keyword score has counted it)
        members = list(dict.fromkeys(t for alt in alts for t in alt))  # a fixed order: fixed sums
        judged = {t: judge(t, float(terms.get(t, 0.0))) for t in members}
        if all(v is None for v in judged.values()):
            continue
        best = np.zeros(len(rows), dtype=np.float64)
        for alt in alts:
            s = np.zeros(len(rows), dtype=np.float64)
            for t in dict.fromkeys(alt):
                j = judged[t]
                if j is not None:
                    s += j[0]
            best = np.maximum(best, s)
        own = np.zeros(len(rows), dtype=bool)
        for t in members:
            j = judged[t]
            if j is not None:
                own |= j[1]
            elif t in terms:
                own |= np.asarray(has_term(t, rows), dtype=bool)
        out += np.where(own, 0.0, best)
    return out


def _made_of(word: str, parts: Sequence[str]) -> bool:
    """Whether the ``parts`` found in ``word`` cover every character of it."""
    covered = [False] * len(word)
    for p in parts:
        if p and p != word:
            i = word.find(p)
            while i >= 0:
                covered[i:i + len(p)] = [True] * len(p)
                i = word.find(p, i + 1)
    return all(covered)


def coverage_scores(terms: Mapping[str, float], rows: np.ndarray, *,
                    has_term: Callable[[str, np.ndarray], np.ndarray],
                    context_text: Callable[[int], str], row_text: Callable[[int], str],
                    idf: Callable[[str], float], context_share: float = 0.5, proximity_weight: float = 0.0,
                    proximity_gap: int = 10, abbreviation_share: float = 0.0, ordered_weight: float = 0.0,
                    ordered_gap: int = 3, set_proximity_weight: float = 0.0) -> np.ndarray:
    """How much of a query each row covers, 0-1: the idf-weighted share of the query's own words
    that the row has, a word only its context has (document title, enclosing headings, the
    lead-in of a list of items) counting ``context_share``, and a word the row has only part of
    counting the share of its shared-Han-character bigrams the row has (a clause with ``知识``
    and ``产权`` apart has two of the three bigrams of ``知识产权``).

    BM25 adds up its terms, so a clause that repeats the subject of a query (生产性废旧金属 three
    times) can outrank the one that also has the word the query asks about (登记); and a long
    clause that matches many weak words outranks a short one that matches the rare ones.  The
    hybrid mode multiplies each candidate's fused score by a power of this share (relative to
    the best share among the candidates in the query's language).  The query's
    own words are its full-weight terms (weight >= 1) other than shared-Han-character terms
    (``#..``), each weighted by ``weight * idf``; renderings and expansions (below full
    weight) do not count; a Chinese word the index does not know (idf 0) weighs
    :data:`UNKNOWN_WORD_SHARE` times the heaviest known word.  A row has a word
    when the word is one of its index terms or, for a Chinese or Japanese word of two or more
    characters, a substring of its text (as in :func:`context_scores`); its context has a word
    when the context's text contains it (the context is not analysed: this runs on every
    candidate).

    With ``proximity_weight`` ``a`` > 0, a query without synonym sets (its own words are the
    corpus's: Chinese) also asks whether the row uses its words together: the share ``p`` scales
    to ``share * (1 + a * p) / (1 + a)``, where ``p`` is :func:`proximity_scores`, the weighted
    share of the pairs of the query's words that stand within ``proximity_gap`` characters of
    each other in the row.  A clause that names the subject in one sentence and the question's
    word in another (湛江 in a list of development zones, 文明行为 elsewhere) covers the query
    less than the definition ``本条例所称文明行为，是指`` of the same law.

    With ``ordered_weight`` ``m`` > 0 as well, ``p`` also counts the query's words in the order
    the query has them: ``p = (p_any + m * p_ordered) / (1 + m)``, where ``p_ordered`` is
    :func:`ordered_scores`, the weighted share of the pairs of consecutive words of the query
    that the row has in that order, at most ``ordered_gap`` characters apart (资源税 ... 申报缴纳,
    违反《收费许可证》规定实施行政事业性收费 for 违反收费许可证收取行政事业性收费): the ordered window of
    the sequential dependence model beside its unordered one.

    With ``abbreviation_share`` > 0, each word of two or more characters of a query without
    synonym sets (Chinese) counts that much in a row whose text lacks it but has its characters
    in order, close together (:func:`in_order`): a user writes 居委会, 中级法院, 食品药品 where the
    law writes 居民委员会, 中级人民法院, 食品、药品 (one query in ten of the Chinese dev sets of
    eval/real/).

    Parameters
    ----------
    terms
        The query's weighted keyword terms.
    rows
        The rows to score.
    has_term, row_text, idf
        As for :func:`context_scores`.
    context_text
        ``context_text(row)``: the text of the row's context (document title, headings).
    context_share
        What a word counts for when only the row's context has it.
    proximity_weight, proximity_gap
        The weight of the proximity of the query's words (0: not used) and the largest gap,
        in characters, between two words that count as together.
    abbreviation_share
        What a Chinese or Japanese word counts for in a row whose text writes it out in full
        (:func:`in_order`: 居委会 in 居民委员会, 监管部门 in 监督管理部门, 食品药品 in 食品、药品);
        0: not looked for.
    ordered_weight, ordered_gap
        The weight, beside the proximity of any two words, of consecutive words of the query
        that the row has in the query's order (:func:`ordered_scores`; 0: not used), and the
        largest gap in characters between them; used only with ``proximity_weight`` > 0.
    set_proximity_weight
        The same proximity for a query whose words come with renderings (English, Japanese):
        each word is found as any of its renderings, and the share scales by
        ``(1 + w * p) / (1 + w)`` with ``p`` the :func:`proximity_scores` of the words so found,
        within ``proximity_gap`` characters (the query's order is not the clause's: no ordered
        pairs); 0: not used.

    Returns
    -------
    numpy.ndarray of float64
        One share per row; all 1 when the query has no known word of its own.
    """
    from ..text.analysis import BRIDGE_PREFIX
    from ..text.han import is_han, unify

    rows = np.asarray(rows, dtype=np.int64)
    sets = [alts for alts in getattr(terms, "synonym_sets", ()) if alts] if SET_COVERAGE else []
    in_set = {t for alts in sets for alt in alts for t in alt}
    # the query's own words outside any synonym set, each its own one-alternative word
    words: list[tuple[tuple[tuple[str, ...], ...], float]] = []
    for t, w in terms.items():
        if w >= 1.0 and not t.startswith(BRIDGE_PREFIX) and t not in in_set and (v := float(w) * idf(t)) > 0:
            words.append((((t,),), v))
    for alts in sets:
        # a word with renderings: whichever alternative the row has best; it weighs what its
        # heaviest term weighs in the query (a rendering's weight already carries the set's idf)
        alts = tuple(a for a in (tuple(t for t in alt if not t.startswith(BRIDGE_PREFIX)) for alt in alts) if a)
        v = max((float(terms.get(t, 0.0)) * idf(t) for alt in alts for t in alt), default=0.0)
        if v > 0:
            words.append((alts, v))
    if UNKNOWN_WORD_SHARE > 0 and not sets:
        # a Chinese word the index does not know (a user's 居委会, a term coined after the index)
        # still says what the query is about: it weighs as the heaviest known word, times
        # UNKNOWN_WORD_SHARE, and a row has it as text, in part (bigrams) or written out in full
        # (a compound whose parts are query words, 许可使用费 beside 许可 and 使用费, is counted
        # by its parts)
        heaviest = max((v for _a, v in words), default=1.0)
        full = [t for t, w in terms.items() if w >= 1.0 and not t.startswith(BRIDGE_PREFIX)]
        words += [(((t,),), UNKNOWN_WORD_SHARE * heaviest) for t in full
                  if len(t) >= 2 and _CJK.search(t) and idf(t) <= 0 and not _made_of(t, full)]
    if not len(rows) or not words:
        return np.ones(len(rows), dtype=np.float64)
    ctxs = [context_text(int(r)).lower() for r in rows.tolist()]
    texts = [row_text(int(r)) for r in rows.tolist()]
    # a query's own words written out in full: Chinese queries (no synonym sets), as proximity
    abbreviation = 0.0 if sets else float(abbreviation_share)

    def credit_of(t: str) -> np.ndarray:
        """How much of the word or term ``t`` each row has, 0-1."""
        credit = np.asarray(has_term(t, rows), dtype=bool).astype(np.float64)
        in_ctx = np.fromiter((t in c for c in ctxs), dtype=bool, count=len(rows))
        if len(t) >= 2 and _CJK.search(t):
            credit = np.maximum(credit, np.fromiter((t in x for x in texts), dtype=bool, count=len(rows)))
            u = unify(t)
            grams = {BRIDGE_PREFIX + u[i:i + 2] for i in range(len(u) - 1) if is_han(u[i]) and is_han(u[i + 1])}
            if grams:  # the word's shared-Han-character bigrams: part of a word counts in part
                part = sum(np.asarray(has_term(g, rows), dtype=bool).astype(np.float64) for g in grams)
                credit = np.maximum(credit, part / len(grams))
            if abbreviation > 0:  # 居委会 in 居民委员会, 食品药品 in 食品、药品
                short = credit < abbreviation
                if short.any():
                    got = np.fromiter((bool(s) and in_order(t, x) for s, x in zip(short.tolist(), texts)), dtype=bool,
                                      count=len(rows))
                    credit = np.where(got, abbreviation, credit)
        return np.maximum(credit, np.where(in_ctx, context_share, 0.0))

    got = np.zeros(len(rows), dtype=np.float64)
    for alts, v in words:
        best = np.zeros(len(rows), dtype=np.float64)
        for alt in alts:
            weights = np.array([max(float(terms.get(t, 1.0)), 1e-9) * max(idf(t), 1e-9) for t in alt])
            share = sum(w * credit_of(t) for w, t in zip(weights, alt)) / float(weights.sum())
            best = np.maximum(best, share)
        got += v * best
    share = got / sum(v for _, v in words)
    if proximity_weight > 0 and not sets:
        own = [(alts[0][0], v) for alts, v in words]
        near = proximity_scores(own, texts, proximity_gap)
        if ordered_weight > 0:
            # consecutive words in the query's order (the terms' order; a word the index does
            # not know was appended to ``words`` last)
            at = {t: i for i, t in enumerate(terms)}
            seq = sorted(own, key=lambda wv: at.get(wv[0], len(at)))
            near = (near + ordered_weight * ordered_scores(seq, texts, ordered_gap)) / (1.0 + ordered_weight)
        share *= (1.0 + proximity_weight * near) / (1.0 + proximity_weight)
    elif set_proximity_weight > 0 and sets:
        # a rendering of one word beside a rendering of another: the renderings were guessed
        # one word at a time, and a clause that uses two of them together uses them in the
        # query's sense (罚款 beside 停车, not in another sentence of a long article)
        groups = [(tuple(dict.fromkeys(t for alt in alts for t in alt)), v) for alts, v in words]
        near = proximity_scores(groups, texts, proximity_gap)
        share *= (1.0 + set_proximity_weight * near) / (1.0 + set_proximity_weight)
    return share


#: How far apart the characters of a word may stand in a text that writes it out in full, as a
#: multiple of the word's length (:func:`in_order`): 居委会 (3) in 居民委员会 (5 of at most 6).
ABBREVIATION_SPAN = 2


def in_order(word: str, text: str, span_ratio: int = ABBREVIATION_SPAN) -> bool:
    """Whether ``text`` has the characters of ``word`` in order within ``span_ratio * len(word)``
    characters: the full form of a Chinese abbreviation (居委会: 居民委员会; 监管部门:
    监督管理部门; 中级法院: 中级人民法院) or a coordination written with its common part once or
    with a pause mark (食品药品: 食品、药品; 江河湖泊: 江河、湖泊).

    Parameters
    ----------
    word
        A word of two or more characters.
    text
        The text to look in.
    span_ratio
        The longest span, as a multiple of the word's length.

    Returns
    -------
    bool
    """
    if len(word) < 2:
        return word in text
    span = span_ratio * len(word)
    first, rest = word[0], word[1:]
    i = text.find(first)
    while i >= 0:
        j, ok = i, True
        for ch in rest:
            j = text.find(ch, j + 1)
            if j < 0 or j - i + 1 > span:
                ok = False
                break
        if ok:
            return True
        if j < 0:  # a later start cannot find what this one did not
            return False
        i = text.find(first, i + 1)
    return False


def proximity_scores(words: Sequence[tuple[str | tuple[str, ...], float]], texts: Sequence[str],
                     gap: int = 10) -> np.ndarray:
    """How closely each text uses the query's words together, 0-1: over the pairs of
    ``words``, each weighing the smaller of its two weights, the share of the pairs whose words
    occur (case aside) at most ``gap`` characters apart in the text, in either order (a pair
    of overlapping occurrences does not count).  The unordered-window feature of the sequential
    dependence model (Metzler and Croft, SIGIR 2005), over all pairs, in characters, so that it
    needs no segmentation of the text.

    Parameters
    ----------
    words
        ``(word, weight)`` pairs: the query's own words; a word may be a tuple of
        alternatives, any of which counts (an English word's renderings).
    texts
        One text per row.
    gap
        The largest number of characters between the end of one word and the start of the other.

    Returns
    -------
    numpy.ndarray of float64
        One share per text; 0 for every text when ``words`` has fewer than two words.
    """
    # each word as its alternatives (one for a plain word), lower-cased, empty ones dropped
    groups = [(tuple(dict.fromkeys(t.lower() for t in ((a,) if isinstance(a, str) else a) if t)), v)
              for a, v in words]
    pairs = [(i, j, min(vi, vj)) for i, (ai, vi) in enumerate(groups) for j, (aj, vj) in enumerate(groups)
             if j > i and ai and aj]
    total = sum(w for _, _, w in pairs)
    out = np.zeros(len(texts), dtype=np.float64)
    if not pairs or total <= 0:
        return out
    vocab = list(dict.fromkeys(t for alts, _v in groups for t in alts))
    for n, text in enumerate(texts):
        low = text.lower()
        found: dict[str, list[int]] = {}
        for t in vocab:  # each distinct string looked for once per text
            got, i = [], low.find(t)
            while i >= 0 and len(got) < _MAX_OCCURRENCES:
                got.append(i)
                i = low.find(t, i + 1)
            found[t] = got
        # a word occurs wherever any of its alternatives does: (start, end) of each occurrence
        spans = [[(x, x + len(t)) for t in alts for x in found[t]][:_MAX_OCCURRENCES] for alts, _v in groups]
        num = 0.0
        for i, j, w in pairs:
            if spans[i] and spans[j] and any(0 <= y0 - x1 <= gap or 0 <= x0 - y1 <= gap
                                             for x0, x1 in spans[i] for y0, y1 in spans[j]):
                num += w
        out[n] = num / total
    return out


#: Occurrences of a word looked at per text by :func:`proximity_scores`.
_MAX_OCCURRENCES = 32


def ordered_scores(words: Sequence[tuple[str, float]], texts: Sequence[str], gap: int = 3) -> np.ndarray:
    """How much of the query's word order each text keeps, 0-1: over the pairs of consecutive
    ``words`` (in the query's order), each weighing the smaller of its two weights, the share of
    the pairs whose second word follows the first (case aside, not overlapping it) within ``gap``
    characters in the text.  The ordered-window feature of the sequential dependence model
    (Metzler and Croft, SIGIR 2005), in characters: a clause that says 申报缴纳资源税 or
    违反《收费许可证》 keeps the query's phrases, one that has the same words scattered does not.

    Parameters
    ----------
    words
        ``(word, weight)`` pairs: the query's own words in the query's order.
    texts
        One text per row.
    gap
        The largest number of characters between the end of one word and the start of the next.

    Returns
    -------
    numpy.ndarray of float64
        One share per text; 0 for every text when ``words`` has fewer than two words.
    """
    out = np.zeros(len(texts), dtype=np.float64)
    pairs = [(a.lower(), b.lower(), min(va, vb)) for (a, va), (b, vb) in zip(words, words[1:]) if a and b and a != b]
    total = sum(w for _, _, w in pairs)
    if not pairs or total <= 0:
        return out
    for j, text in enumerate(texts):
        low = text.lower()
        num = 0.0
        for a, b, w in pairs:
            i, seen = low.find(a), 0
            while i >= 0 and seen < _MAX_OCCURRENCES:
                k = low.find(b, i + len(a))
                if k < 0:
                    break
                if k - i - len(a) <= gap:
                    num += w
                    break
                i, seen = low.find(a, i + 1), seen + 1
        out[j] = num / total
    return out


def max_attainable(bm25: BM25Index, terms: Mapping[str, float]) -> float:
    """The highest BM25 score any clause could get for weighted ``terms``: the sum over the
    query's index terms of weight times the term's best impact (0 when none is indexed)."""
    ids = [(bm25.term_ids[t], w) for t, w in terms.items() if w > 0 and t in bm25.term_ids]
    if not ids:
        return 0.0
    best = getattr(bm25, "max_impact", None)
    total = 0.0
    for tid, w in ids:
        if best is not None:
            m = float(best[tid])
        else:
            a, b = int(bm25.indptr[tid]), int(bm25.indptr[tid + 1])
            m = float(np.max(bm25.scores[a:b])) if b > a else 0.0
        total += w * m
    return total


def query_coverage(terms: Mapping[str, float], known: Callable[[str], bool]) -> float:
    """How much of a query the index knows, 0-1: the weight of the query's word terms
    (its own and their renderings) that are index terms, over the number of its own words
    (full-weight terms), capped at 1.  Shared-Han-character terms (``#..``) do not count.
    A query about something the corpus never mentions (``carbon emissions trading`` on IP
    policy) covers little even when one of its words is everywhere."""
    words = {t: w for t, w in terms.items() if not t.startswith("#") and w > 0}
    own = sum(1 for w in words.values() if w >= 1.0)
    if not own:
        return 0.0
    return min(1.0, sum(w for t, w in words.items() if known(t)) / own)
