"""Term look-up and concordance: where and how the corpus writes a glossary term.

:func:`terms` answers "what is 开放许可 called in these texts, how often, and where": it finds
the glossary entries a query names (in any of the three languages) and, for every Chinese
and Japanese rendering of each entry, counts its occurrences in the corpus's clause texts and
lists them keyword-in-context, with exact offsets into the clause text.  Where an original
clause is aligned with its translation, each line also says which rendering the counterpart
clause uses (``rendered_as``): how JETRO translated the term in that very passage.

:func:`coverage` goes the other way: the frequent words of the corpus that no glossary entry
covers, by language, most frequent first -- the list to work through when the glossary is
to grow where it matters.

Matching folds width (``ＰＣＴ`` = ``PCT``), case, and Han characters with
:func:`policyidx.han.unify` (``専利`` = ``專利`` = ``专利``).  Every fold is
length-preserving, so offsets found on folded text are offsets into the clause text:
``clause.text[hit.start:hit.end] == hit.match`` always holds.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence, Union

from .errors import PolicyIdxError, QueryError
from .text.han import HAN_CLASS
from .text.glossary import LANGS, Entry, Glossary, fold as _fold

if TYPE_CHECKING:  # pragma: no cover
    from .corpus import Corpus
    from .index import Index

__all__ = [
    "Concordance",
    "RenderingStats",
    "TermResult",
    "terms",
    "coverage",
    "render_terms",
    "render_coverage",
]

#: A clause-id -> counterpart-clause-id function, or a mapping used the same way.
Counterpart = Union[Callable[[str], Union[str, None]], Mapping[str, Union[str, None]]]


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Concordance:
    """One occurrence of a rendering, keyword in context.

    Attributes
    ----------
    clause : str
        The clause id (``cnipa-2022-448.ja#0.3``).
    doc : str
        The document id.
    start, end : int
        Offsets into the clause's own text (``Clause.text``); ``text[start:end] == match``.
    left, match, right : str
        Up to ``context`` characters before the match, the match as written in the clause
        (it may differ from the rendering in width or Han variant), and up to ``context``
        characters after it.
    counterpart : str or None
        The aligned clause in another document (original <-> translation), when a
        counterpart function was given and knows one.
    rendered_as : str or None
        The entry's rendering, in the counterpart's language, that the counterpart clause
        contains (as written in the glossary); ``None`` if it contains none or its text is
        unknown.
    """

    clause: str
    doc: str
    start: int
    end: int
    left: str
    match: str
    right: str
    counterpart: str | None = None
    rendered_as: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "clause": self.clause,
            "doc": self.doc,
            "start": self.start,
            "end": self.end,
            "left": self.left,
            "match": self.match,
            "right": self.right,
            "counterpart": self.counterpart,
            "rendered_as": self.rendered_as,
        }


@dataclass
class RenderingStats:
    """How often one rendering of an entry occurs in the corpus, and where.

    Attributes
    ----------
    rendering : str
        The rendering as written in the glossary.
    lang : str
        Its language; only clauses of this language are searched.
    count : int
        Number of occurrences (``len(hits)``).
    docs : dict of str to int
        Occurrences per document id, in corpus order.
    hits : list of Concordance
        Every occurrence, in corpus then text order.
    """

    rendering: str
    lang: str
    count: int = 0
    docs: dict[str, int] = field(default_factory=dict)
    hits: list[Concordance] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "rendering": self.rendering,
            "lang": self.lang,
            "count": self.count,
            "docs": dict(self.docs),
            "hits": [h.to_dict() for h in self.hits],
        }


@dataclass
class TermResult:
    """A glossary entry with the corpus statistics of each of its renderings."""

    entry: Entry
    renderings: list[RenderingStats]

    @property
    def count(self) -> int:
        """Occurrences of all renderings together."""
        return sum(r.count for r in self.renderings)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the CLI's ``--json`` shape)."""
        return {
            "entry": self.entry.to_record(),
            "count": self.count,
            "renderings": [r.to_dict() for r in self.renderings],
        }


# --------------------------------------------------------------------------- folding


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _find_all(folded_text: str, folded_term: str) -> Iterable[tuple[int, int]]:
    """Every occurrence of ``folded_term``; ASCII-edged terms only at word boundaries."""
    if not folded_term:
        return
    n, m = len(folded_text), len(folded_term)
    check_left = _is_word_char(folded_term[0])
    check_right = _is_word_char(folded_term[-1])
    i = folded_text.find(folded_term)
    while i >= 0:
        end = i + m
        ok = not (check_left and i > 0 and _is_word_char(folded_text[i - 1])) and not (
            check_right and end < n and _is_word_char(folded_text[end])
        )
        if ok:
            yield i, end
        i = folded_text.find(folded_term, i + 1)


def _select(folded_text: str, terms: Sequence[tuple[str, str]]) -> list[tuple[int, int, str]]:
    """Non-overlapping matches of several renderings, longest first then leftmost.

    ``terms`` are ``(rendering, folded rendering)`` pairs; the result is
    ``(start, end, rendering)`` in text order.  Without this, a rendering that is part of
    another (知的財産 in 知的財産権) would be counted twice.
    """
    cands: list[tuple[int, int, int, str]] = []
    for order, (term, folded) in enumerate(terms):
        for s, e in _find_all(folded_text, folded):
            cands.append((s, e, order, term))
    cands.sort(key=lambda c: (c[0] - c[1], c[0], c[2]))
    taken = bytearray(len(folded_text))
    out: list[tuple[int, int, str]] = []
    for s, e, _order, term in cands:
        if any(taken[s:e]):
            continue
        taken[s:e] = b"\x01" * (e - s)
        out.append((s, e, term))
    out.sort()
    return out


# --------------------------------------------------------------------------- clause source


@dataclass(frozen=True)
class _Row:
    id: str
    doc: str
    lang: str
    text: str


class _Source:
    """The clause texts to search, from an index (no parsing) or a corpus."""

    def __init__(self, corpus: Corpus | None, index: Index | None) -> None:
        rows: list[_Row] = []
        self._corpus = corpus
        if index is not None:
            docs = index.docs
            for r in range(len(index)):
                rec = index.record(r)
                d = docs[int(index.row_doc[r])]
                rows.append(_Row(rec["id"], d["id"], rec.get("lang") or d.get("lang", ""), rec["text"]))
        else:
            if corpus is None:
                from .corpus import Corpus

                corpus = Corpus.load()
                self._corpus = corpus
            for doc in corpus:
                for c in doc.clauses:
                    if c.text.strip():
                        rows.append(_Row(c.id, doc.id, c.lang or doc.lang, c.text))
        self.rows = rows
        self.by_id = {r.id: r for r in rows}
        self.langs = {r.lang for r in rows}
        self._folded: dict[str, str] = {}

    def folded(self, row: _Row) -> str:
        f = self._folded.get(row.id)
        if f is None:
            f = self._folded[row.id] = _fold(row.text)
        return f

    def find(self, cid: str) -> _Row | None:
        row = self.by_id.get(cid)
        if row is not None or self._corpus is None:
            return row
        try:
            c = self._corpus.clause(cid)
        except PolicyIdxError:
            return None
        return _Row(c.id, c.doc, c.lang or self._corpus[c.doc].lang, c.text)


def _counterpart_fn(counterpart: Counterpart | None) -> Callable[[str], str | None] | None:
    if counterpart is None:
        return None
    if isinstance(counterpart, Mapping):
        return counterpart.get
    if not callable(counterpart):
        raise QueryError(
            f"counterpart must be a function clause_id -> clause_id or None, or a mapping; "
            f"found {type(counterpart).__name__}"
        )
    return counterpart


# --------------------------------------------------------------------------- terms


def _entries_for(query: str, glossary: Glossary, lang: str | None) -> list[Entry]:
    found: list[Entry] = []
    seen: set[str] = set()

    def add(entries: Iterable[Entry]) -> None:
        for e in entries:
            if e.zh not in seen:
                seen.add(e.zh)
                found.append(e)

    add(glossary.lookup(query, lang))
    if lang in (None, "en"):
        # Query expansion matches English by stemmed words, longest phrase first ("patent
        # pledges", "licences"); doing the same keeps `terms` an explanation of a search.
        from .retrieval.expand import EnglishMatcher

        for entries, _s, _e in EnglishMatcher(glossary).find(query):
            add(entries)
    add(e for e, _r, _s, _e in glossary.find_in(query, lang))
    return found


def terms(
    query: str,
    *,
    corpus: Corpus | None = None,
    index: Index | None = None,
    glossary: Glossary | None = None,
    lang: str | None = None,
    context: int = 20,
    counterpart: Counterpart | None = None,
) -> list[TermResult]:
    """Look a term up in the glossary and find its renderings in the corpus.

    Parameters
    ----------
    query : str
        A term or a phrase in Chinese, Japanese or English.  Entries having the whole query
        as a rendering come first (``Glossary.lookup``: ``専利``, ``專利`` and ``专利`` all
        name 专利), then, for English, the entries query expansion finds by stemmed words
        (``patent pledges``), then entries whose renderings occur inside the query
        (``Glossary.find_in``: "open licensing pilot for patents" names several).
    corpus : Corpus, optional
        The corpus whose clause texts are searched; the bundled corpus when neither
        ``corpus`` nor ``index`` is given.
    index : Index, optional
        Search the clause texts stored in a built index instead, which needs no parsing.
        Wins over ``corpus`` for the texts; ``corpus`` is then only used to find
        counterpart clauses the index does not hold.
    glossary : Glossary, optional
        The glossary to use; by default the one query expansion uses
        (:func:`policyidx.text.glossary.default_glossary`), so that ``terms`` explains searches.
    lang : {"zh", "ja", "en"}, optional
        Language of the query: compare it with renderings of this language only.
        ``None`` compares with all three.
    context : int
        Characters of context on each side of a match in the concordance.
    counterpart : callable or mapping, optional
        ``counterpart(clause_id) -> clause_id or None``: the aligned clause of another
        document (from stored alignments).  When given, every concordance line records
        the counterpart clause and which rendering of the entry it uses.

    Returns
    -------
    list of TermResult
        One per matching entry; empty when the glossary knows no term of the query.
        Each lists the Chinese rendering, then the Japanese ones (and the English ones if
        the corpus holds English clauses), each searched in clauses of its own language,
        the longest rendering winning where two overlap.

    Raises
    ------
    QueryError
        If ``query`` is empty, ``lang`` unknown, ``context`` negative or ``counterpart``
        neither callable nor a mapping.
    """
    if not query or not query.strip():
        raise QueryError("empty term query: give a term in Chinese, Japanese or English, e.g. 开放许可")
    if lang is not None and lang not in LANGS:
        raise QueryError(f"unknown language {lang!r}: expected one of {', '.join(LANGS)} or None for all")
    if context < 0:
        raise QueryError(f"context must be 0 or more characters, found {context}")
    cp_fn = _counterpart_fn(counterpart)
    if glossary is None:
        from .text.glossary import default_glossary

        glossary = default_glossary()
    entries = _entries_for(query.strip(), glossary, lang)
    if not entries:
        return []
    source = _Source(corpus, index)
    search_langs = [lg for lg in LANGS if lg != "en" or "en" in source.langs]
    by_lang: dict[str, list[_Row]] = {lg: [r for r in source.rows if r.lang == lg] for lg in search_langs}
    cp_cache: dict[str, str | None] = {}

    def rendered_in(entry: Entry, cid: str) -> str | None:
        row = source.find(cid)
        if row is None or row.lang not in LANGS:
            return None
        cands = [(t, _fold(t)) for t in entry.terms(row.lang)]
        found = _select(source.folded(row), cands)
        return found[0][2] if found else None

    results: list[TermResult] = []
    for entry in entries:
        stats: list[RenderingStats] = []
        for lg in search_langs:
            renderings = entry.terms(lg)
            if not renderings:
                continue
            per = {t: RenderingStats(rendering=t, lang=lg) for t in renderings}
            folded_terms = [(t, _fold(t)) for t in renderings]
            for row in by_lang[lg]:
                matches = _select(source.folded(row), folded_terms)
                for s, e, term in matches:
                    cp_id: str | None = None
                    rendered: str | None = None
                    if cp_fn is not None:
                        if row.id not in cp_cache:
                            cp_cache[row.id] = cp_fn(row.id)
                        cp_id = cp_cache[row.id]
                        if cp_id is not None:
                            rendered = rendered_in(entry, cp_id)
                    rs = per[term]
                    rs.hits.append(
                        Concordance(
                            clause=row.id,
                            doc=row.doc,
                            start=s,
                            end=e,
                            left=row.text[max(0, s - context) : s],
                            match=row.text[s:e],
                            right=row.text[e : e + context],
                            counterpart=cp_id,
                            rendered_as=rendered,
                        )
                    )
                    rs.count += 1
                    rs.docs[row.doc] = rs.docs.get(row.doc, 0) + 1
            stats.extend(per[t] for t in renderings)
        results.append(TermResult(entry=entry, renderings=stats))
    return results


# --------------------------------------------------------------------------- coverage

_HAN = HAN_CLASS
_KATAKANA = r"\u30a1-\u30fa\u30fc"
_WORD_RE = re.compile(rf"^(?:[{_HAN}]+|[{_KATAKANA}]+)$")
# Numerals with their counters (二〇二二年, 十六, 第三) are not vocabulary.
_NUMERIC_RE = re.compile(r"^[第]?[零〇一二两三四五六七八九十百千万亿]+[年月日号件个次条项批届期]?$")
# Function words and generic words that are written in Han characters only (the
# segmenters' kana function words never pass the Han/katakana filter anyway).
_STOP: dict[str, frozenset[str]] = {
    "zh": frozenset(
        "以及 或者 等等 对于 为了 并且 这些 那些 可以 应当 及其 其中 一是 二是 三是 四是 五是 六是 "
        "通过 按照 有关 相关 进行 如下 以下 以上 之一 各项 各类 所有 其他 我们 他们 它们 已经 正在 "
        "没有 不断 更加 更好 如何 什么".split()
    ),
    "ja": frozenset(
        "以下 以上 場合 当該 同様 各種 各級 全体 方面 関係 関連 状況 内容 以降 以前 同時 現在 "
        "ため こと もの よう".split()
    ),
}


def coverage(
    corpus: Corpus | None = None,
    glossary: Glossary | None = None,
    *,
    top: int = 50,
    min_count: int = 3,
) -> dict[str, list[tuple[str, int]]]:
    """Frequent words of the corpus that no glossary entry covers.

    Every clause is tokenised with :func:`policyidx.analysis.tokenize` in its language.
    Tokens whose normalised form has at least two characters and is made of Han characters
    only or of katakana only are counted, numerals and function words left out.  A word is
    covered when some rendering of some entry, folded the same way, equals or contains it
    (``产权`` is covered by 知识产权).

    Parameters
    ----------
    corpus : Corpus, optional
        The corpus to survey (the bundled one by default).
    glossary : Glossary, optional
        The glossary to check against (the default search glossary by default).
    top : int
        Words to keep per language.
    min_count : int
        Leave out words rarer than this: a word met once or twice is not where the
        glossary matters.

    Returns
    -------
    dict of str to list of (str, int)
        For each language present in the corpus, ``(word, count)`` most frequent first
        (ties in code point order).  The word is its most frequent surface form, as the
        texts write it (``専利``, not the unified ``专利``).

    Raises
    ------
    QueryError
        If ``top`` or ``min_count`` is below 1.
    """
    if top < 1 or min_count < 1:
        raise QueryError(f"top and min_count must be 1 or more, found top={top}, min_count={min_count}")
    from .text.analysis import tokenize

    if corpus is None:
        from .corpus import Corpus

        corpus = Corpus.load()
    if glossary is None:
        from .text.glossary import default_glossary

        glossary = default_glossary()
    # One string holding every folded rendering: "contains" becomes a substring test.
    blob = "\x00".join(_fold(t) for e in glossary for lg in LANGS for t in e.terms(lg))
    counts: dict[str, Counter[str]] = {}
    surfaces: dict[str, dict[str, Counter[str]]] = {}
    for doc in corpus:
        for clause in doc.clauses:
            if not clause.text.strip():
                continue
            lg = clause.lang or doc.lang
            stop = _STOP.get(lg, frozenset())
            cnt = counts.setdefault(lg, Counter())
            surf = surfaces.setdefault(lg, {})
            for tok in tokenize(clause.text, lg):
                norm = tok.norm
                if len(norm) < 2 or not _WORD_RE.match(norm) or _NUMERIC_RE.match(norm):
                    continue
                if norm in stop or tok.surface in stop:
                    continue
                cnt[norm] += 1
                surf.setdefault(norm, Counter())[tok.surface] += 1
    out: dict[str, list[tuple[str, int]]] = {}
    for lg, cnt in counts.items():
        rows: list[tuple[str, int]] = []
        for norm, n in sorted(cnt.items(), key=lambda kv: (-kv[1], kv[0])):
            if n < min_count:
                break
            if _fold(norm) in blob:
                continue
            form = max(surfaces[lg][norm].items(), key=lambda kv: (kv[1], kv[0] == norm))[0]
            rows.append((form, n))
            if len(rows) >= top:
                break
        out[lg] = rows
    return out


# --------------------------------------------------------------------------- rendering


def _oneline(s: str) -> str:
    return re.sub(r"\s+", " ", s)


def render_terms(results: Sequence[TermResult], *, max_hits: int = 5) -> str:
    """Format :func:`terms` results for the terminal.

    Parameters
    ----------
    results : sequence of TermResult
        What :func:`terms` returned.
    max_hits : int
        Concordance lines shown per rendering (the count is always the full one).

    Returns
    -------
    str
        Lines without a trailing newline; a one-line message when ``results`` is empty.
    """
    if not results:
        return "no glossary entry matches the query; try another form of the term or `policyidx glossary`"
    lines: list[str] = []
    for res in results:
        e = res.entry
        lines.append(f"{e.zh}  [{e.domain}]  {res.count} occurrence{'s' if res.count != 1 else ''}")
        if e.ja:
            lines.append(f"  ja: {' | '.join(e.ja)}")
        if e.en:
            lines.append(f"  en: {' | '.join(e.en)}")
        if e.notes:
            lines.append(f"  notes: {e.notes}")
        width = max((len(r.rendering) for r in res.renderings), default=0)
        for rs in res.renderings:
            pad = " " * (width - len(rs.rendering)) * 2  # CJK cells are two columns wide
            where = ", ".join(f"{d} {n}" for d, n in rs.docs.items())
            lines.append(f"  {rs.lang} {rs.rendering}{pad}  {rs.count:>4}" + (f"  ({where})" if where else ""))
            for hit in rs.hits[:max_hits]:
                line = f"      {hit.clause}:{hit.start}  …{_oneline(hit.left)}【{hit.match}】{_oneline(hit.right)}…"
                if hit.counterpart is not None:
                    line += f"  -> {hit.counterpart}"
                    if hit.rendered_as is not None:
                        line += f" ({hit.rendered_as})"
                lines.append(line)
            if rs.count > max_hits:
                lines.append(f"      … {rs.count - max_hits} more")
        lines.append("")
    return "\n".join(lines).rstrip("\n")


def render_coverage(cov: Mapping[str, Sequence[tuple[str, int]]]) -> str:
    """Format :func:`coverage` output for the terminal: one block per language.

    Parameters
    ----------
    cov : mapping of str to sequence of (str, int)
        What :func:`coverage` returned.

    Returns
    -------
    str
        Lines without a trailing newline.
    """
    lines: list[str] = []
    for lg, rows in cov.items():
        lines.append(f"{lg}: {len(rows)} frequent word{'s' if len(rows) != 1 else ''} not in the glossary")
        for word, n in rows:
            lines.append(f"  {n:>5}  {word}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") or "the corpus has no clause text"
