"""Query expansion with the zh/ja/en glossary.

Shared Han characters carry a Chinese query to a Japanese clause only where both languages
write a concept with related characters.  The glossary adds, for every term of the query it
knows, its renderings in the other two languages (許可 -> 許諾, ライセンス; 质押 -> 担保;
"cross-licensing" -> 交叉许可, クロスライセンス), weighted below the query's own terms.  This
is what makes English queries work with the offline encoder.

Searched against an index, English and Japanese queries are *structured*: each source word or
phrase becomes one synonym set of glossary and dictionary renderings, and the index's own
clauses choose and weight the dictionary renderings (:func:`structured_renderings`): those that
co-occur with the renderings of the other words of the query win.  Words side by side are
also rendered as the Chinese compounds their renderings make, where the index attests them
(:func:`compound_units`: 公募 + 基金 -> 公募基金).
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Iterator, Protocol, Sequence

import numpy as np

from ..text.analysis import ZH_QUESTION_FRAME, analyze_query, detect_lang
from ..text.stem import en_stem, stem_bucket
from ..text.glossary import Entry, Glossary, default_glossary
from ..text.han import HAN_CLASS, unify

__all__ = ["Expansion", "QueryTerms", "expand_query", "structured_renderings", "CorpusStats", "MergedStats", "Unit", "default_glossary", "EXPANSION_WEIGHT", "DICTIONARY_WEIGHT", "compound_units", "attested_rows", "feedback_expansion"]

EXPANSION_WEIGHT = 0.5
#: Dictionary renderings (CC-CEDICT, JMdict) weigh this fraction of a glossary rendering.
DICTIONARY_WEIGHT = 0.6
#: At most this many dictionary renderings per query word or phrase.
DICTIONARY_PER_WORD = 2
#: Whether dictionary renderings also go into the text encoded for dense search.
DICTIONARY_IN_DENSE = True


class QueryTerms(dict):
    """A query's weighted keyword terms (``term -> weight``) with its synonym sets.

    ``synonym_sets`` lists, per source word or phrase of a structured query, its alternatives:
    the terms of the word itself and of each of its renderings.  The keyword index scores a
    set as its best alternative in a clause (:meth:`~policyidx.retrieval.keyword.BM25Index.search`),
    so two renderings of one word in one clause do not count the word twice.  Empty for a
    query without structure: then every term adds up.  ``lang`` is the query's language
    (what the re-ranking's per-language parameters read).
    """

    synonym_sets: tuple[tuple[tuple[str, ...], ...], ...] = ()
    lang: str | None = None


@dataclass
class Expansion:
    """A query with its glossary expansions.

    ``terms`` are weighted keyword terms (the query's own at full weight, expansions below);
    ``renderings`` maps each added rendering to the glossary entry's Chinese term;
    ``dense_text`` is the text to encode for dense search (query plus renderings).
    ``dictionary`` maps each rendering taken from the general dictionaries (not the
    glossary) to the query word or phrase it renders.
    """

    query: str
    lang: str
    terms: dict[str, float]
    renderings: dict[str, str] = field(default_factory=dict)
    rendering_terms: dict[str, set[str]] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    dictionary: dict[str, str] = field(default_factory=dict)

    #: For a structured query: the renderings to encode for dense search (the best of each
    #: source word or phrase); ``None``: all renderings.
    dense_renderings: list[str] | None = None
    #: For a structured English query: per synonym set (its index in
    #: ``terms.synonym_sets``), the source word or phrase, the weight of its best chosen
    #: rendering and the candidate renderings the corpus did not choose, for
    #: :func:`feedback_expansion`.
    passed_over: list[tuple[int, str, float, tuple[str, ...]]] = field(default_factory=list)

    @property
    def dense_text(self) -> str:
        if self.dense_renderings is not None:
            return " ".join([self.query] + self.dense_renderings)
        if not self.renderings:
            return self.query
        return self.query + " " + " ".join(r for r in self.renderings if detect_lang(r) != "en"
                                           and (DICTIONARY_IN_DENSE or r not in self.dictionary))


_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"], 1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_EN_DATE = re.compile(r"\b(?:(\d{1,2})\s+)?(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?\s*(?:(\d{1,2}),?\s*)?(\d{4})?\b", re.I)
_EN_YEAR = re.compile(r"\b(19|20)(\d{2})\b")


def english_dates(query: str) -> list[str]:
    """CJK forms of the dates in an English query: ``May 2022`` -> ``2022年5月``, ``2021`` -> ``2021年``."""
    out: list[str] = []
    for m in _EN_DATE.finditer(query):
        day1, month, day2, year = m.groups()
        if month.lower() == "may" and not (year or day1 or day2):
            continue  # the verb "may"
        mo = _MONTHS[month.lower()]
        day = day1 or day2
        out.append((f"{year}年" if year else "") + f"{mo}月" + (f"{int(day)}日" if day else ""))
    for m in _EN_YEAR.finditer(query):
        y = m.group(0) + "年"
        if not any(o.startswith(y) for o in out):
            out.append(y)
    return out


# --------------------------------------------------------------------------- English matching

_EN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’]*|\d+")
_BRITISH_EN = [(re.compile(r"isation"), "ization"), (re.compile(r"ise(s|d)?$"), r"ize\1"),
               (re.compile(r"(?<=..[a-z])our$"), "or"), (re.compile(r"^licence"), "license")]


def _en_spelling(word: str) -> str:
    """An English word lower-cased, its apostrophe plain, British spellings American."""
    w = word.lower().replace("’", "'").strip("'-")
    for pat, rep in _BRITISH_EN:
        w = pat.sub(rep, w)
    return w


def english_lemmas(word: str) -> frozenset[str]:
    """The forms an English word may be an inflection of: itself, without a plural ending,
    without ``-ing`` or ``-ed`` (with or without a final ``e``, undoubling a doubled
    consonant).  Two words are forms of one word when their lemma sets meet: ``applying``
    and ``apply``, ``revoked`` and ``revoke``, ``licences`` and ``license`` do; ``state`` and
    ``stats``, ``not`` and ``note``, ``them`` and ``theme`` (one stem for the stemmer) do not."""
    w = _en_spelling(word)
    out = {w}
    if len(w) > 3:
        if w.endswith("ies"):
            out.add(w[:-3] + "y")
        elif w.endswith(("sses", "shes", "ches", "xes", "zes")):
            out.add(w[:-2])
        elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
            out.add(w[:-1])
    for b in list(out):
        for suf in ("ing", "ed"):
            if b.endswith(suf) and len(b) >= len(suf) + 3:
                root = b[: -len(suf)]
                out.update((root, root + "e"))
                if suf == "ed" and root.endswith("i"):
                    out.add(root[:-1] + "y")
                if len(root) > 2 and root[-1] == root[-2] and root[-1] not in "aeiouls":
                    out.add(root[:-1])
    return frozenset(out)


#: Whether a query word matches a glossary word only as that word or an inflection of it
#: (the glossary's ``apply`` for ``applying``), not where both are inflections of a third
#: (``returned`` and the glossary's ``returns``, 效益; ``good`` and ``goods``, 商品).  On
#: real..real6 (en) hybrid hit@1/hit@5, both -> base only: dev (190) .426/.632 -> .437/.632,
#: test splits (124) .315/.508 -> .331/.500; bundled English .814/.953 -> .837/.953.
EN_GLOSSARY_BASE_ONLY = True


def _same_word(a: str, b: str) -> bool:
    """Whether query word ``a`` is a form of glossary word ``b``."""
    if a.lower() == b.lower():
        return True
    if EN_GLOSSARY_BASE_ONLY:
        return _en_spelling(b) in english_lemmas(a)
    return bool(english_lemmas(a) & english_lemmas(b))


class EnglishMatcher:
    """Finds glossary entries in English text by word n-grams (longest first).

    Candidates are found by stem (:func:`~policyidx.text.stem.en_stem`), then kept only where
    each query word is a form of the glossary's word (:func:`english_lemmas`): the stemmer
    folds ``state`` and ``stats`` together, which is right for matching an index, not for
    choosing what a word means.

    The glossary's phrases are filed by the bucket of their first word
    (:func:`~policyidx.text.stem.stem_bucket`, no stemming) and stemmed a bucket at a time,
    those of the buckets of a text's words when it is searched: a process pays for the
    phrases its queries can match, not for the whole glossary."""

    MAX_N = 7

    def __init__(self, glossary: Glossary):
        #: stem key -> [(entry, words of the rendering)], for the buckets stemmed so far
        self.phrases: dict[tuple[str, ...], list[tuple[Entry, tuple[str, ...]]]] = {}
        self._filed: dict[str, list[tuple[Entry, str]]] = {}
        from ..text.lexicons import plain_word  # here: the dictionaries' module loads when English needs it

        for entry in glossary:
            for r in entry.terms("en"):
                m = _EN_WORD.search(r)
                if m is not None:
                    self._filed.setdefault(stem_bucket(plain_word(m.group())), []).append((entry, r))
        self._stemmed: set[str] = set()
        self._lock = threading.Lock()

    def _stem_buckets(self, buckets: Iterable[str]) -> None:
        todo = [b for b in dict.fromkeys(buckets) if b not in self._stemmed and b in self._filed]
        if not todo:
            return
        from ..text.lexicons import plain_word

        with self._lock:
            for b in todo:
                if b in self._stemmed:
                    continue
                for entry, r in self._filed[b]:
                    words = tuple(w for w in map(plain_word, _EN_WORD.findall(r)) if w)
                    key = tuple(en_stem(w) for w in words)
                    if key and len(key) <= self.MAX_N:
                        self.phrases.setdefault(key, []).append((entry, words))
                self._stemmed.add(b)  # last: another thread sees a bucket done only when it is

    def _entries(self, key: tuple[str, ...], words: Sequence[str]) -> list[Entry]:
        out: list[Entry] = []
        for entry, forms in self.phrases.get(key, ()):
            if entry not in out and all(_same_word(a, b) for a, b in zip(words, forms)):
                out.append(entry)
        return out

    def find(self, text: str) -> list[tuple[list[Entry], int, int]]:
        """Non-overlapping matches ``(entries, start, end)`` (character offsets), longest first."""
        from ..text.lexicons import plain_word

        words = [(m.start(), m.start() + len(w), en_stem(w)) for m in _EN_WORD.finditer(text) if (w := plain_word(m.group()))]
        self._stem_buckets(stem_bucket(w[2]) for w in words)
        stems = [w[2] for w in words]
        raw = [text[a:b] for a, b, _s in words]
        taken = [False] * len(words)
        found: list[tuple[list[Entry], int, int]] = []
        for n in range(min(self.MAX_N, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                if any(taken[i : i + n]):
                    continue
                entries = self._entries(tuple(stems[i : i + n]), raw[i : i + n])
                if entries:
                    found.append((entries, words[i][0], words[i + n - 1][1]))
                    for j in range(i, i + n):
                        taken[j] = True
        found.sort(key=lambda x: x[1])
        return found


def _english_matcher(glossary: Glossary) -> EnglishMatcher:
    # kept on the glossary object: it lives exactly as long as the glossary it indexes
    m = getattr(glossary, "_policyidx_english_matcher", None)
    if m is None:
        m = EnglishMatcher(glossary)
        glossary._policyidx_english_matcher = m  # type: ignore[attr-defined]
    return m


def expand_query(
    query: str,
    lang: str | None = None,
    glossary: Glossary | None = None,
    *,
    weight: float = EXPANSION_WEIGHT,
    enabled: bool = True,
    dictionaries: bool = True,
    known: Callable[[str], bool] | None = None,
    corpus: CorpusStats | None = None,
) -> Expansion:
    """Analyse a query and add glossary renderings in the other languages.

    Parameters
    ----------
    query
        The user's query, in Chinese, Japanese or English.
    lang
        Its language; detected when ``None``.
    glossary
        The glossary to use (the bundled one by default).
    weight
        Weight of expansion terms relative to the query's own (1.0).  Below 1 so that a
        clause matching the user's own words ranks above one matching only an expansion.
    enabled
        ``False`` returns the query's own terms only.
    dictionaries
        For English and Japanese queries, also add renderings from the general dictionaries
        (:mod:`policyidx.text.lexicons`, when installed) for the words the glossary does not
        cover, at ``DICTIONARY_WEIGHT`` times ``weight``.
    known
        Keeps a dictionary rendering only if it is true for it (an index passes "is a term of
        my vocabulary"); ``None`` keeps all.
    corpus
        The keyword index searched (anything with ``term_ids``, ``indptr``, ``rows`` and
        ``n_docs``, as :class:`~policyidx.retrieval.keyword.BM25Index`).  With it, the
        renderings of an English or Japanese query are chosen and weighted on the corpus
        (:func:`structured_renderings`): each source word or phrase is one synonym set whose
        renderings share its weight, by how well they co-occur with the renderings of the
        other words; without it, every rendering is added at a fixed weight.
    """
    lang = lang or detect_lang(query)
    terms = dict(analyze_query(query, lang))
    exp = Expansion(query=query, lang=lang, terms=terms)
    if not enabled:
        return exp
    glossary = glossary if glossary is not None else default_glossary()
    structured = corpus is not None and lang in ("en", "ja")
    if lang == "en":
        for d in english_dates(query):
            _add(exp, d, "ja", "(date)", weight)
    if structured:
        _expand_structured(exp, glossary, weight, dictionaries, known, corpus)
        return exp
    seen: set[str] = set()
    if lang == "en":
        matches = _english_matcher(glossary).find(query)
        found = [e for entries, _s, _e in matches for e in entries]
        covered = [(s, e) for _entries, s, e in matches]
    else:
        matches4 = glossary.find_in(query, lang)
        found = [entry for entry, _r, _s, _e in matches4]
        covered = [(s, e) for _entry, _r, s, e in matches4]
    for entry in found:
        if entry.zh in seen:
            continue
        seen.add(entry.zh)
        exp.entries.append(entry)
        for other in ("zh", "ja", "en"):
            if other == lang:
                continue
            for r in entry.terms(other):
                if other == "en":
                    continue  # no English text in the corpus: English renderings add nothing to match
                _add(exp, r, other, entry.zh, weight)
    if dictionaries and lang in ("en", "ja"):
        _add_dictionary(exp, covered, weight * DICTIONARY_WEIGHT, known)
    if dictionaries and ZH_SYNONYMS and lang == "zh" and corpus is not None:
        _expand_chinese(exp, known, corpus)
    return exp


#: Prior of a unified Japanese word offered as a Chinese rendering, relative to its JMdict score.
JA_AS_ZH = 0.8
#: Japanese words of a query's frame ("can", "concerning", "in the case where"), not its
#: content: their dictionary renderings are noise.  場合 is one, as 際 and 時 are: its
#: renderings 案件, 案情 and 情形 put "case" into queries that say "if" (…しない場合の罰則).
#: On the Japanese dev queries of real … real23 (605), hybrid hit@1/hit@5/MRR@10
#: .423/.651/.518 -> .430/.660/.525, and on their test queries (397) .411/.630/.503 ->
#: .426/.630/.513 (on real dev 3 alone, early on, it had cost 3 hit@1 for 1 hit@5).
JA_STOP = frozenset("こと 事 ため 為 もの 物 ところ 所 際 時 とき 場合 等 など 関する 対する 係る よる 因る おける "
                    "できる 出来る する ある なる いる 行う 必要 どう 何 誰 どこ いつ".split()
                    # kana frames, now that a long kana word is content (``JA_KANA_CONTENT``).
                    + "について に関して に対して における において によって により として とする どのような "
                      "どのように どうすれば どうやって どのくらい どれくらい ください くださる いただく "
                      "いただける ならない なければ いたす おります でしょう ですか ますか".split())
_JA_STOP_UNIFIED = frozenset(unify(w) for w in JA_STOP)
_JA_CONTENT = re.compile(f"[{HAN_CLASS}\u30a1-\u30ff]")  # a kanji or a katakana letter


#: Whether a word of hiragana only, of at least this many letters, is content (わいせつ,
#: ひったくり: law written in kana) rather than grammar; 0: never.  On real..real4 dev (ja) 4
#: changed no figure (わいせつ now renders 猥亵, 强制猥亵; few dev queries write words in kana).
JA_KANA_CONTENT = 4
_HIRAGANA = re.compile("[\u3041-\u309f]+")


def _ja_content(word: str) -> bool:
    """Whether a Japanese word can be content: it holds a kanji or a katakana letter, or is a
    hiragana run of ``JA_KANA_CONTENT`` letters or more."""
    if _JA_CONTENT.search(word):
        return True
    return 0 < JA_KANA_CONTENT <= len(word) and bool(_HIRAGANA.fullmatch(word))


def _add_dictionary(exp: Expansion, covered: list[tuple[int, int]], weight: float,
                    known: Callable[[str], bool] | None) -> None:
    """Dictionary renderings of the query words outside the glossary's matches (``covered``)."""
    from ..text.lexicons import default_lexicon

    lex = default_lexicon()
    if not len(lex):
        return
    text = exp.query
    for s, e in covered:  # the glossary wins where it knows the words
        text = text[:s] + " " * (e - s) + text[e:]

    def add(word: str, lang: str, source: str, score: float) -> None:
        if word in exp.renderings:
            return
        before = len(exp.renderings)
        _add(exp, word, lang, source, weight * score)
        if len(exp.renderings) > before:
            exp.dictionary[word] = source

    if exp.lang == "en":
        for tgt in ("zh", "ja"):
            for phrase, cands in lex.en_to(text, tgt, keep=known, limit=DICTIONARY_PER_WORD):
                for w, sc in cands:
                    add(w, tgt, phrase, sc)
        return
    for word in _japanese_words(text, lex):
        if not _JA_CONTENT.search(word):
            continue
        cands = [(w, sc) for w, sc in lex.translate(word, "ja", "zh", keep=known, limit=DICTIONARY_PER_WORD + 1) if w != word]
        for w, sc in cands[:DICTIONARY_PER_WORD]:
            add(w, "zh", word, sc)


#: Whether a glossary match in a Japanese query must start and end on a word boundary of
#: :func:`_ja_word_bounds` (責任者 is not the glossary's 責任 and a stray 者).  On real..real4
#: dev (ja, pooled) hit@1/hit@5: hybrid .480/.717 -> .488/.740, keyword .378/.630 -> .386/.638.
JA_WORD_BOUNDS = True
#: Suffixes (UniDic 接尾辞) that do not bind to the word before them: a glossary term still
#: matches before them (事業者等, 法律上).  (Binding these too changed nothing on real dev.)
JA_FREE_SUFFIXES = frozenset("等 など 上 中 内 的".split())


def _ja_word_bounds(text: str) -> set[int]:
    """Offsets of ``text`` where a Japanese word starts or ends: the boundaries of its MeCab
    (UniDic) tokens, except those between a prefix (接頭辞: 再審査) or a suffix (接尾辞:
    責任者, 保険料) and the word it is written onto."""
    from ..text.analysis import _ja_rows
    from ..text.han import normalize_width

    rows = _ja_rows(normalize_width(text))
    out = {0, len(text)}
    for k, (surface, s, e, pos, _base) in enumerate(rows):
        bound_before = k > 0 and rows[k - 1][2] == s and (
            (pos == "接尾辞" and surface not in JA_FREE_SUFFIXES) or rows[k - 1][3] == "接頭辞")
        if not bound_before:
            out.add(s)
            if k > 0:
                out.add(rows[k - 1][2])
    if rows:
        out.add(rows[-1][2])
    return out


#: The most tokens in a row that make one dictionary word of a Japanese query (MeCab cuts
#: 生年月日 into 生, 年, 月, 日: at 3 it was read as 生年 and 月日, "age" and "date", not
#: "date of birth" -> 出生日期).  On real..real4 dev (ja, pooled), 3 -> 4: hybrid hit@1/hit@5
#: .504/.756 -> .504/.764 (mrr .604 -> .605), keyword unchanged; 5 changed nothing more.
JA_LONGEST_WORD = 4


def _japanese_words(text: str, lex: Any) -> Iterator[str]:
    """The words of a Japanese text as the dictionary knows them: its tokens (unified
    forms), where up to ``JA_LONGEST_WORD`` in a row make a dictionary word, that word
    instead (the longest first)."""
    for word, _s, _e in _japanese_word_spans(text, lex):
        yield word


def _japanese_word_spans(text: str, lex: Any, longest: int | None = None) -> Iterator[tuple[str, int, int]]:
    """:func:`_japanese_words` with each word's character span in ``text`` (words of at most
    ``longest`` tokens, default ``JA_LONGEST_WORD``)."""
    from ..text.analysis import tokenize

    toks = [t for t in tokenize(text, "ja") if t.surface.strip()]
    if longest is None:
        longest = JA_LONGEST_WORD
    sizes = list(range(longest, 1, -1))
    i = 0
    while i < len(toks):
        n = next((n for n in sizes if i + n <= len(toks) and lex.glosses_of("".join(t.norm for t in toks[i : i + n]), "ja")), 1)
        yield "".join(t.norm for t in toks[i : i + n]), toks[i].start, toks[i + n - 1].end
        i += n


#: How many of a Japanese word's first JMdict senses give the English words a Japanese query
#: is read in against the Chinese clauses' glosses (:func:`japanese_gloss_words`), as the
#: glosses of a Chinese clause's words are read in their first senses.
JA_GLOSS_SENSES = 3


def japanese_gloss_words(text: str) -> list[str]:
    """The English words of a Japanese query's content words' first JMdict senses
    (:data:`JA_GLOSS_SENSES`), stemmed as glosses are, once each in query order: what a
    Japanese query is looked up by in the English glosses of Chinese clauses
    (:class:`~policyidx.retrieval.retrievers.GlossRetriever`; 葬儀場 "funeral home" meets
    殡仪馆 "funeral parlor" by "funeral").  Empty without the dictionaries."""
    from ..text.lexicons import default_lexicon, gloss_key_words

    lex = default_lexicon()
    if not len(lex):
        return []
    out: dict[str, None] = {}
    for word, _s, _e in _japanese_word_spans(text, lex):
        if not _ja_content(word) or word in JA_STOP or word in _JA_STOP_UNIFIED:
            continue
        for gloss in lex.glosses_of(word, "ja")[:JA_GLOSS_SENSES]:
            for w in gloss_key_words(gloss):
                out.setdefault(w, None)
    return list(out)


def _token_count(text: str) -> int:
    from ..text.analysis import tokenize

    return sum(1 for t in tokenize(text, "ja") if t.surface.strip())


def _add(exp: Expansion, rendering: str, lang: str, source: str, weight: float, *, split_chars: bool = False) -> None:
    if rendering in exp.renderings:
        return
    if split_chars and exp.lang == "en":
        rterms = analyze_query(rendering, lang, RENDERING_BRIDGE)
    else:
        rterms = analyze_query(rendering, lang)
    if split_chars and len(rendering) > 1 and any(t.startswith("#") for t in rterms):
        # a word the segmenter does not know falls apart into characters (制御 -> 制, 御):
        # alone they match too much; its character pairs (#制御) still find it
        rterms = {t: w for t, w in rterms.items() if len(t) > 1}
    if not rterms:
        return
    exp.renderings[rendering] = source
    exp.rendering_terms[rendering] = set(rterms)
    for t, w in rterms.items():
        exp.terms[t] = max(exp.terms.get(t, 0.0), min(w, 1.0) * weight)


# --------------------------------------------------------------------------- structured queries

#: A rendering is kept when its share of its synonym set is at least this fraction of the best one's.
KEEP_RATIO = 0.3
#: At most this many renderings in Han characters per source word or phrase.
PER_UNIT = 3
#: Candidates looked up per source word or phrase before the corpus chooses.
CANDIDATES = 24
#: The same for an English word or phrase (:meth:`~policyidx.text.lexicons.Lexicon.en_to`).
#: The words found through a gloss the English word heads, leads or derives from tie at one
#: prior ("rate": 税率, 利率, 汇率 ... at 0.4) and 24 cut them by length and code point before
#: the corpus chooses.  On the English dev queries of eval/real/ (127), hybrid hit@1/hit@5:
#: 24 .425/.630, 30 .433/.638, 36 .441/.638, 48 .441/.630 (keyword .386/.559 at 24, .378/.567
#: at 36).  Japanese queries keep ``CANDIDATES``.
CANDIDATES_EN = 36
#: Added to a candidate's co-occurrence evidence, so that a query of one word still gets renderings.
EVIDENCE_FLOOR = 0.02
#: At most this many renderings with kana (for Japanese text) per source word or phrase.
PER_UNIT_KANA = 2
#: Whether a glossary term's renderings are all kept (the curated glossary is not second-guessed).
GLOSSARY_KEEPS_ALL = True
#: Factor on a dictionary rendering of one character.
SINGLE_CHAR = 0.5
#: Renderings per source word or phrase in the text encoded for dense search (the best first).
DENSE_PER_UNIT = 1
#: The same for the Han renderings of an English query: its dense text is all renderings, and
#: one per word often misses the clause's word (the second choice is often the right one).
#: On real..real4 dev (en, 127) hybrid hit@1/hit@5 (mrr): 1 .441/.638 (.518), 2 .449/.638
#: (.530); with ``COHERENCE_PRIOR_EXP_EN`` 0.25: 1 .433/.638, 2 .457/.661 (.542).  Keyword
#: search does not read it.
DENSE_PER_UNIT_EN = 2
#: Weight of the best rendering of each synonym set of a Japanese query (its own words weigh 1):
#: chosen on the corpus, a rendering is as good a term as the user's own (unified) word, which is
#: often not the Chinese one.  Renderings of an English query weigh the index's expansion weight.
STRUCTURED_WEIGHT = 1.0
#: Whether an English word is also looked up through the glosses it heads or derives from
#: (:meth:`~policyidx.text.lexicons.Lexicon.from_gloss`), for the corpus to choose among.
LOOSE_LOOKUP = True
#: Whether a synonym set's renderings are weighted to the idf of the set (the rows holding any
#: of them) rather than each to its own (:func:`_set_idf`).
SET_IDF = True
#: Weight of the character pairs (``#..``) of a rendering of an English query, as its words':
#: they find it inside the index's compounds (约束 in 约束力, 章程 in 公司章程).  (A Japanese
#: query keeps the analyzer's weight: its own characters already match the compounds; on real
#: dev the higher weight changed nothing for it.)
RENDERING_BRIDGE = 1.0
#: Whether the keyword index scores each source word's renderings as one synonym set (its best
#: rendering in a clause) rather than adding them up.
SYNONYM_SETS = True
#: Prior factor of a rendering sharing no character with a Japanese word that is itself a
#: Chinese word with a sense in common (:meth:`~policyidx.text.lexicons.Lexicon.same_word`);
#: 0 drops such renderings, 1 turns the rule off.  0 (was 0.2) with ``SAME_WORD_MIN_ROWS``
#: 20, on real..real4 dev (ja, pooled) hit@1/hit@5: hybrid .488/.740 -> .504/.756, keyword
#: .386/.638 -> .402/.677 (0.2 with 5 rows: hybrid .488/.732).
SAME_WORD_OTHERS = 0.0
#: The same-word rule applies only where the index holds the word (unified) in at least this
#: many rows (0: always): a word the index rarely writes so is better found by its other
#: renderings.  On real dev with ``SAME_WORD_OTHERS`` 0, hybrid hit@1/hit@5 (mrr) by rows:
#: 0 .488/.756 (.593), 1 .488/.756, 5 .488/.764 (.594), 10 .480/.764, 20 .504/.756 (.604),
#: 50 .504/.756 (.604).
SAME_WORD_MIN_ROWS = 20
#: Whether such a word is also a candidate rendering of itself (its other renderings then
#: weigh relative to it, on the corpus).
SAME_WORD_SELF = False
#: Exponents of the dictionary's prior and of the corpus frequency in a candidate's score.
PRIOR_EXP = 0.5
DF_EXP = 1.0
#: For an English word, the coherence of a candidate with another word counts that word's
#: renderings each weighted ``prior ** COHERENCE_PRIOR_EXP_EN`` (their dictionary prior), not
#: all alike: a stray low-prior rendering (何, 断, 数分, 利害 among 36 candidates) lends less
#: coherence.  0 turns it off.  On real..real4 dev (en, 127), with ``DENSE_PER_UNIT_EN`` 1,
#: hybrid/keyword hit@1/hit@5 from .441/.638 and .378/.567: 0.25 .433/.638 and .386/.583;
#: 0.5 .425/.638 and .386/.583 (weights by the others' full scores: .417/.622, .378/.591).
#: With ``DENSE_PER_UNIT_EN`` 2, 0.25: hybrid .457/.661, keyword .386/.583.
COHERENCE_PRIOR_EXP_EN = 0.25


class CorpusStats(Protocol):
    """What query expansion reads from a keyword index: its vocabulary and postings."""

    term_ids: dict[str, int]
    indptr: np.ndarray
    rows: np.ndarray

    @property
    def n_docs(self) -> int: ...


@dataclass
class Unit:
    """One source word or phrase of the query and its candidate renderings.

    ``cands`` are ``(rendering, lang, prior, from_glossary)``; the renderings of a unit form
    one synonym set (Pirkola's structured query): they share the unit's weight.  A rendering
    in Han characters only is matched as Chinese (Japanese text is indexed in unified forms,
    so it finds 会社 in Japanese clauses as well); one with kana as Japanese.
    """

    source: str
    cands: list[tuple[str, str, float, bool]]
    #: Glossary renderings -> the glossary entry (its Chinese term) they render; the entries
    #: matched at one place are the senses the glossary offers for it (award: 授予, 奖励, 裁决).
    entry_of: dict[str, str] = field(default_factory=dict)
    #: Whether the unit renders two adjacent source units by compounds of their renderings
    #: (:func:`compound_units`).
    compound: bool = False
    #: For a compound unit: each compound -> its two parts.
    parts: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add(self, rendering: str, lang: str, prior: float, glossary: bool, entry: str | None = None) -> None:
        if all(rendering != c[0] for c in self.cands):
            self.cands.append((rendering, lang, prior, glossary))
            if glossary and entry is not None:
                self.entry_of[rendering] = entry


class _TermUnion:
    """The union of several vocabularies (``term -> id`` mappings), for membership tests."""

    def __init__(self, vocabularies: Sequence[Any]):
        self.vocabularies = list(vocabularies)

    def __contains__(self, term: object) -> bool:
        return any(term in v for v in self.vocabularies)

    def get(self, term: str, default: int | None = None) -> int | None:
        """The number of the first vocabulary holding ``term`` (not a term id), else ``default``."""
        return next((i for i, v in enumerate(self.vocabularies) if term in v), default)


class MergedStats:
    """The postings of several keyword indexes (the shards of a sharded index) as one corpus
    for :func:`structured_renderings`: rows are numbered shard after shard, which changes no
    count, so the renderings chosen are those a single index of the same clauses chooses."""

    def __init__(self, parts: Sequence[CorpusStats]):
        self.parts = list(parts)
        sizes = [int(p.n_docs) for p in self.parts]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        #: the terms of any part, looked up part by part (not merged: that would read every
        #: term of every shard in each process that searches)
        self.term_ids = _TermUnion([p.term_ids for p in self.parts])

    @property
    def n_docs(self) -> int:
        return int(self.offsets[-1])

    def postings(self, t: str) -> np.ndarray | None:
        """Sorted rows holding term ``t``, ``None`` if no part has it."""
        got = [_ascending(p.rows[int(p.indptr[i]) : int(p.indptr[i + 1])]) + off
               for p, off in zip(self.parts, self.offsets[:-1].tolist()) if (i := p.term_ids.get(t)) is not None]
        return np.concatenate(got) if got else None


def _ascending(rows: np.ndarray) -> np.ndarray:
    """``rows`` as sorted unique int64 row numbers.  A keyword index stores each term's rows
    ascending, one entry per row: then only a linear check (no sort) is paid."""
    r = np.asarray(rows, dtype=np.int64)
    if len(r) > 1 and not bool((r[1:] > r[:-1]).all()):
        r = np.unique(r)
    return r


def _postings(corpus: CorpusStats, t: str) -> np.ndarray | None:
    if isinstance(corpus, MergedStats):
        return corpus.postings(t)
    tid = corpus.term_ids.get(t)
    if tid is None:
        return None
    return _ascending(corpus.rows[int(corpus.indptr[tid]) : int(corpus.indptr[tid + 1])])


def _intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The rows of two sorted unique arrays held by both (the smaller looked up in the larger)."""
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return a
    at = np.searchsorted(b, a)
    at[at == len(b)] = 0
    return a[b[at] == a]


def cooccurrence(sets: Sequence[np.ndarray], n_docs: int, *, budget: int = 1 << 16) -> np.ndarray:
    """``co[i, j]``: how many rows sets ``i`` and ``j`` share (``co[i, i]``: the size of set ``i``).

    ``sets`` are sorted unique row numbers below ``n_docs``.  The product of the sets'
    incidence matrix with its transpose, in numpy: the rows held by two sets or more are laid
    out set by set (a counting sort, no comparison sort), then grouped by how many sets hold
    them, so that each group's pairs of sets are counted by one ``bincount`` (at most
    ``budget`` pairs at a time).  The work grows with the sum of the sets' sizes and, per
    row, with the square of the sets holding it, not with ``n_docs`` times the sets.
    """
    k = len(sets)
    lens = np.fromiter((len(s) for s in sets), dtype=np.int64, count=k)
    co = np.zeros(k * k, dtype=np.int64)
    if k > 1 and lens.sum():
        held = np.zeros(n_docs, dtype=np.int32)  # sets holding each row, so far
        ranks = []
        for s in sets:
            ranks.append(held[s])  # the row's place among the sets holding it
            held[s] += 1
        shared = np.flatnonzero(held >= 2)
        if len(shared):
            m = held[shared]
            order = np.argsort(m.astype(np.uint16) if int(m.max()) < 65536 else m, kind="stable")
            shared, m = shared[order], m[order]
            ends = np.cumsum(m)
            start = np.zeros(n_docs, dtype=np.int64)
            start[shared] = ends - m
            flat = np.empty(int(ends[-1]), dtype=np.int64)
            for i, (s, rk) in enumerate(zip(sets, ranks)):
                sel = held[s] >= 2
                flat[start[s[sel]] + rk[sel]] = i
            cuts = (np.flatnonzero(np.diff(m)) + 1).tolist()
            for a, b in zip([0] + cuts, cuts + [len(m)]):
                size = int(m[a])
                block = flat[int(ends[a]) - size : int(ends[b - 1])].reshape(-1, size)
                step = max(1, budget // (size * size))
                for c in range(0, len(block), step):
                    x = block[c : c + step]
                    co += np.bincount((x[:, :, None] * k + x[:, None, :]).ravel(), minlength=k * k)
    co = co.reshape(k, k)
    co[np.diag_indices(k)] = lens
    return co


def _rows_of(corpus: CorpusStats, rendering: str, lang: str) -> np.ndarray | None:
    """Sorted rows where ``rendering`` occurs as the index sees it, ``None`` if nowhere.

    The rows holding every word term of the rendering that the index knows, if those words
    cover the rendering (a compound the index never saw, 专利开放许可试点, is found through
    专利, 开放, 许可, 试点); else the rows holding all its character bigrams.
    """
    terms = analyze_query(rendering, lang)
    words = [t for t in terms if not t.startswith("#") and t in corpus.term_ids]
    covered = np.zeros(len(rendering), dtype=bool)
    for w in words:
        i = rendering.find(w)
        while i >= 0:
            covered[i : i + len(w)] = True
            i = rendering.find(w, i + 1)
    use = words if words and covered.all() else [t for t in terms if t.startswith("#")]
    if not use:
        return None
    out: np.ndarray | None = None
    for t in use:
        r = _postings(corpus, t)
        if r is None:
            return None
        out = r if out is None else _intersect(out, r)
        if not len(out):
            return None
    return out


def structured_renderings(units: list[Unit], corpus: CorpusStats,
                          context: Sequence[tuple[str, str]] = ()) -> list[list[tuple[str, str, float]]]:
    """Choose and weight the renderings of each unit on the corpus.

    A candidate absent from the index is dropped.  The others score
    ``prior ** PRIOR_EXP * (EVIDENCE_FLOOR + coherence) * frequency ** DF_EXP``: coherence is the
    mean, over the other units (and the ``context`` terms, e.g. the query's own words that the
    index knows), of the candidate's best association with one of their renderings (cosine of
    the sets of rows holding them): the renderings of "state" that co-occur with those of
    "compensation" win; frequency is ``log(1 + rows holding the candidate) / log(1 + rows)``,
    since the words of the corpus's register are the common ones.  Kept are the best
    ``PER_UNIT`` in Han characters and the best ``PER_UNIT_KANA`` with kana, each within
    ``KEEP_RATIO`` of the best of its kind and weighted by its score over that best.

    Returns, per unit, ``[(rendering, lang, relative weight in (0, 1]), ...]`` best first.
    """
    keys: dict[tuple[str, str], int] = {}
    sets: list[np.ndarray] = []

    def key_of(r: str, lang: str) -> int | None:
        k = (r, lang)
        if k not in keys:
            rows = _rows_of(corpus, r, lang)
            keys[k] = -1 if rows is None else len(sets)
            if rows is not None:
                sets.append(rows)
        i = keys[k]
        return None if i < 0 else i

    live = [[(r, lang, prior, i) for r, lang, prior, _g in u.cands if (i := key_of(r, lang)) is not None]
            for u in units]
    ctx = [i for t, lang in context if (i := key_of(t, lang)) is not None]
    if not sets:
        return [[] for _ in units]
    n_docs = int(corpus.n_docs)
    lens = np.array([len(x) for x in sets], dtype=np.float64)
    co = cooccurrence(sets, n_docs).astype(np.float64)
    norm = np.sqrt(np.outer(lens, lens))
    cos = np.divide(co, norm, out=np.zeros_like(co), where=norm > 0)  # a rendering in no row: 0
    freq = np.log1p(lens) / np.log1p(max(n_docs, 1))
    # per unit, its candidates' weights as evidence for the other units' (English ones)
    weight_of = [np.array([prior ** COHERENCE_PRIOR_EXP_EN for _r, _l, prior, _k in cs]) for cs in live]
    out: list[list[tuple[str, str, float]]] = []
    for i, (u, cs) in enumerate(zip(units, live)):
        mine = {k for *_x, k in cs}
        peers = [j for j, cs2 in enumerate(live) if j != i and cs2 and units[j].source != u.source]
        others = [[k for *_x, k in live[j]] for j in peers] + [[k] for k in ctx if k not in mine]
        picks: list[tuple[str, str, float]] = []
        # the other units' renderings weighed by their priors for an English word, else alike
        by_prior = bool(COHERENCE_PRIOR_EXP_EN) and u.source.isascii()
        wts = [weight_of[j] if by_prior else np.ones(len(live[j])) for j in peers] + [np.ones(1)] * (len(others) - len(peers))

        def score(prior: float, k: int) -> float:
            coh = sum(float((cos[k, o] * w).max()) for o, w in zip(others, wts)) / len(others) if others else 0.0
            return prior ** PRIOR_EXP * (EVIDENCE_FLOOR + coh) * float(freq[k]) ** DF_EXP

        if GLOSSARY_KEEPS_ALL and any(c[3] for c in u.cands):
            flag = {c[0]: c[3] for c in u.cands}
            scored_all = [(r, lang, flag[r], score(prior, k)) for r, lang, prior, k in cs]
            kept = _glossary_senses(u, [(r, g, sc) for r, _l, g, sc in scored_all])
            if kept is not None:
                # the curated glossary's renderings of the senses kept, as written, and the
                # dictionary renderings the corpus supports better than all of them
                gl_top = max((sc for r, _l, g, sc in scored_all if g and u.entry_of.get(r, u.source) in kept), default=0.0)
                join = DICTIONARY_JOIN_EN if u.source.isascii() else 1.0
                better = sorted(((r, lang, sc) for r, lang, g, sc in scored_all if not g and sc > join * gl_top),
                                key=lambda x: -x[2])[:DICTIONARY_BEYOND_GLOSSARY]
                out.append([(r, lang, 1.0) for r, lang, _p, g in u.cands if g and u.entry_of.get(r, u.source) in kept]
                           + [(r, lang, 1.0) for r, lang, _sc in better])
                continue
        for kana, limit in ((False, PER_UNIT), (True, PER_UNIT_KANA)):
            scored = []
            for r, lang, prior, k in cs:
                if bool(_KANA.search(r)) != kana:
                    continue
                scored.append((r, lang, score(prior, k)))
            if not scored:
                continue
            scored.sort(key=lambda x: -x[2])
            top = scored[0][2]
            if top <= 0.0:
                continue  # no candidate has any support (a prior of 0): none is chosen
            picks += [(r, lang, round(sc / top, 4)) for r, lang, sc in scored[:limit] if sc >= KEEP_RATIO * top]
        out.append(picks)
    return out


#: A glossary sense (entry) of a source word is dropped when its best rendering scores below
#: this fraction of the best sense's (the corpus second-guesses which sense is meant).
SENSE_RATIO = 0.25
#: All glossary senses of a source word give way to its dictionary renderings when the best
#: of them scores below this fraction of the best dictionary rendering's (0.5: the corpus
#: must support a general dictionary's rendering twice as well as the curated glossary's
#: senses; on the real dev sets 0.5 did better than 0.2 for English and changed nothing for
#: Japanese, and the bundled English set gained a hit@1).
GLOSSARY_VETO = 0.5
#: At most this many dictionary renderings join the glossary's senses of a word, each one
#: scoring above all of them (settle: 和解 beside the glossary's 结算, by 当事人 and 仲裁).
DICTIONARY_BEYOND_GLOSSARY = 1
#: For an English word, a dictionary rendering joins the glossary's senses when it scores above
#: this fraction of the best of them (1.0: above all of them, as for Japanese).  The glossary
#: renders a word in one domain's sense (IP, finance) where real regulations use the general
#: one; on the English dev queries of eval/real/ (127), 0.7 against 1.0: hybrid hit@5 .591 ->
#: .606 (hit@1 .417 both), keyword hit@1 .378 -> .362; 0.5 cost keyword hit@1 more (.331).
DICTIONARY_JOIN_EN = 0.7


def _glossary_senses(u: Unit, scored: list[tuple[str, bool, float]]) -> set[str] | None:
    """The glossary entries kept for unit ``u`` given its renderings found in the corpus
    ``scored`` as ``(rendering, from glossary, score)``; ``None``: the glossary gives way to
    the dictionaries.

    A unit with one glossary entry and no dictionary rendering in the corpus keeps it (the
    curated glossary is not second-guessed without evidence).  Otherwise each entry scores as
    its best rendering: entries far below the best entry are other senses of the word (award
    as 奖励 beside an arbitration award, 裁决); all of them give way when a dictionary
    rendering is far better supported by the corpus, or none of their renderings is in it.
    """
    entries = {u.entry_of.get(c[0], u.source) for c in u.cands if c[3]}
    best: dict[str, float] = {}
    dict_best = 0.0
    for r, gl, sc in scored:
        if gl:
            e = u.entry_of.get(r, u.source)
            best[e] = max(best.get(e, 0.0), sc)
        else:
            dict_best = max(dict_best, sc)
    if len(entries) == 1 and dict_best == 0.0:
        return entries
    top = max(best.values(), default=0.0)
    if top <= 0.0 or top < GLOSSARY_VETO * dict_best:
        return None if dict_best > 0.0 else entries
    # a sense the index holds nowhere as a whole is kept unless the dictionaries offer one it
    # holds (its words or characters may still match: 时间表 beside 进度安排)
    return {e for e in entries if best.get(e, 0.0) >= SENSE_RATIO * top or (e not in best and dict_best == 0.0)}


_KANA = re.compile("[\u3041-\u30ff]")


def _lang_of(rendering: str) -> str:
    return "ja" if _KANA.search(rendering) else "zh"


#: Weight of the query's own terms that are Japanese grammar, not content (a hiragana word
#: below ``JA_KANA_CONTENT`` letters: ない, どう, ごと; a ``JA_STOP`` frame: 行う, できる,
#: 場合): they match only the grammar of the index's Japanese clauses (a Japanese IP
#: guideline was the keyword top of 7 real dev misses, by ない, どう, 行う).  1: as the query's
#: other words.  On real..real4 dev (ja, pooled) hit@1/hit@5 (mrr), from 1.0: hybrid
#: .504/.764 (.605) -> .512/.764 (.608) at 0.5, the same at 0.3 (.609) and 0.7 (.610); 0.1
#: .512/.756; 0 .512/.756 (.607); keyword .402/.677 -> .409/.677 at 0.1 to 0.7.
JA_OWN_GRAMMAR = 0.5
#: Whether the query's own inflected words (a term holding hiragana: 払う, 負う, 申し立てる)
#: weigh ``JA_OWN_GRAMMAR`` too: they match only Japanese clauses, the Chinese ones being
#: reached through their renderings.  On real..real4 dev (ja, pooled), with 0.5: keyword
#: hit@1 .409 -> .417 (hit@5 .677), hybrid .512/.764 both (mrr .608 -> .609); the bundled
#: sets (Japanese clauses among them) unchanged.
JA_OWN_INFLECTED = True


def _weigh_ja_grammar(exp: Expansion) -> None:
    """Weigh the grammar terms of a Japanese query's own terms (and its inflected words, with
    ``JA_OWN_INFLECTED``) ``JA_OWN_GRAMMAR`` (dropped at 0), unless nothing else would be left."""
    grammar = [t for t in exp.terms if not t.startswith("#")
               and ((_HIRAGANA.fullmatch(t) and not _ja_content(t)) or t in JA_STOP or t in _JA_STOP_UNIFIED
                    or (JA_OWN_INFLECTED and _HIRAGANA.search(t)))]
    if not grammar or len(grammar) == sum(1 for t in exp.terms if not t.startswith("#")):
        return
    for t in grammar:
        if JA_OWN_GRAMMAR <= 0.0:
            del exp.terms[t]
        else:
            exp.terms[t] *= JA_OWN_GRAMMAR


def _expand_structured(exp: Expansion, glossary: Glossary, weight: float, dictionaries: bool,
                       known: Callable[[str], bool] | None, corpus: CorpusStats) -> None:
    """Glossary and dictionary renderings of an English or Japanese query as synonym sets
    chosen on ``corpus`` (see :func:`structured_renderings`)."""
    units: list[Unit] = []
    gl_source: dict[str, str] = {}
    if exp.lang == "ja" and JA_OWN_GRAMMAR < 1.0:
        _weigh_ja_grammar(exp)
    if exp.lang == "en":
        from ..text.lexicons import STOP

        # a stop word matching a glossary term through the stemmer ("not" ~ "note", "them" ~
        # "theme") is no match
        spans = [(s, e, entries) for entries, s, e in _english_matcher(glossary).find(exp.query)
                 if not all(w.lower() in STOP for w in _EN_WORD.findall(exp.query[s:e]))]
    else:
        by_span: dict[tuple[int, int], list[Entry]] = {}
        bounds = _ja_word_bounds(exp.query) if JA_WORD_BOUNDS and exp.lang == "ja" else None
        for entry, _r, s, e in glossary.find_in(exp.query, exp.lang, bounds=bounds):
            by_span.setdefault((s, e), []).append(entry)
        spans = [(s, e, entries) for (s, e), entries in by_span.items()]
    lex_units: list[Unit] = []
    placed: list[tuple[int, int, Unit]] = []  # units with their spans, for compounds
    known = _in_corpus(corpus, known)
    if dictionaries and exp.lang == "en":
        # a dictionary phrase of several words ("articles of association" -> 章程) beats
        # glossary matches of its single words inside it
        lex_units, lex_spans = _english_dictionary_units(exp.query, known)
        multi = [(s, e) for (s, e), u in zip(lex_spans, lex_units) if len(_EN_WORD.findall(exp.query[s:e])) > 1]
        spans = [sp_ for sp_ in spans if not any(s <= sp_[0] and sp_[1] <= e and (e - s) > (sp_[1] - sp_[0])
                                                 for s, e in multi)]
        keep = [i for i, (s, e) in enumerate(lex_spans)
                if not any(s < ge and gs < e for gs, ge, _ in spans)]
        # elsewhere the glossary's senses compete with the dictionaries' on the corpus, and
        # win unless the corpus supports them far less (:func:`_glossary_senses`)
        overlap = [(lex_spans[i], lex_units[i]) for i in range(len(lex_units)) if i not in keep]
        lex_units = [lex_units[i] for i in keep]
        lex_spans = [lex_spans[i] for i in keep]
    else:
        overlap = []
    for s, e, entries in spans:
        u = Unit(exp.query[s:e], [])
        for entry in entries:
            if entry not in exp.entries:
                exp.entries.append(entry)
            for tgt in ("zh", "ja"):
                if tgt == exp.lang:
                    continue
                for r in entry.terms(tgt):
                    u.add(r, _lang_of(r), 1.0, True, entry.zh)
                    gl_source.setdefault(r, entry.zh)
        for (ls, le), lu in overlap:
            # only renderings of the same words compete (those of "patent" alone do not
            # second-guess the glossary's "patent agents")
            if ls <= s and e <= le:
                for r, lang, prior, _g in lu.cands:
                    u.add(r, lang, prior, False)
        if u.cands:
            units.append(u)
            placed.append((s, e, u))
    if dictionaries:
        if exp.lang == "en":
            units += lex_units
            placed += [(s, e, u) for (s, e), u in zip(lex_spans, lex_units)]
        else:
            units += _japanese_dictionary_units(exp, [(s, e) for s, e, _ in spans], known, placed, corpus)
        if COMPOUNDS:
            # after the parts' units: a compound's terms that its parts' sets hold count there
            units += compound_units(exp.query, placed, corpus, exp.lang)
    context: list[tuple[str, str]] = []
    if exp.lang == "ja":  # the query's own words (unified) are matched in Chinese and Japanese text alike
        context = [(t, "zh") for t in exp.terms if not t.startswith("#")]
    chosen = structured_renderings(units, corpus, context)
    exp.dense_renderings = []
    sets: list[tuple[tuple[str, ...], ...]] = []
    claimed: set[str] = set()
    for u, picks in zip(units, chosen):
        han = [r for r, _lang, _w in picks if not _KANA.search(r)]
        kana = [r for r, _lang, _w in picks if _KANA.search(r)]
        per = DENSE_PER_UNIT_EN if exp.lang == "en" else DENSE_PER_UNIT
        for r in han[:per] + kana[:DENSE_PER_UNIT]:
            if r not in exp.dense_renderings:
                exp.dense_renderings.append(r)
        gl = {c[0] for c in u.cands if c[3]}
        union_idf = _set_idf(corpus, picks) if SET_IDF and len(picks) > 1 else {}
        for r, lang, rel in picks:
            if r in exp.renderings:
                continue
            base = STRUCTURED_WEIGHT if exp.lang == "ja" else weight
            if r in union_idf:
                base *= union_idf[r]
            if len(r) == 1 and r not in gl:
                base *= SINGLE_CHAR  # one character matches too much: 書簡 -> 信
            if u.compound:
                base *= COMPOUND_WEIGHT
            before = len(exp.renderings)
            _add(exp, r, lang, gl_source.get(r, u.source), base * rel, split_chars=True)
            if len(exp.renderings) > before and r not in gl:
                exp.dictionary[r] = u.source
        if SYNONYM_SETS and picks:
            alts = [tuple(t for t in analyze_query(u.source, exp.lang) if t in exp.terms and not t.startswith("#"))]
            alts += [tuple(t for t in exp.rendering_terms.get(r, ()) if t in exp.terms) for r, _l, _w in picks]
            # a term counts once in the query: in the first set holding it ("ruling" and
            # "award" both rendered 裁决 add it once, as a flat query would)
            alts = [a for a in dict.fromkeys(tuple(t for t in dict.fromkeys(a) if t not in claimed) for a in alts) if a]
            claimed.update(t for a in alts for t in a)
            if alts:
                sets.append(tuple(alts))
                if exp.lang == "en":
                    chosen_r = {r for r, _l, _w in picks}
                    top = max((exp.terms.get(r, 0.0) for r in chosen_r), default=0.0) or weight
                    exp.passed_over.append((len(sets) - 1, u.source, top, tuple(
                        c[0] for c in u.cands if c[0] not in chosen_r and len(c[0]) >= 2 and _HAN_ONLY.fullmatch(c[0]))))
    if sets:
        exp.terms = QueryTerms(exp.terms)
        exp.terms.synonym_sets = tuple(sets)
        exp.terms.lang = exp.lang


def _idf(df: int, n: int) -> float:
    return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))


def _set_idf(corpus: CorpusStats, picks: Sequence[tuple[str, str, float]]) -> dict[str, float]:
    """Per rendering of one synonym set, ``idf(set) / idf(rendering)`` (at most 1): the set's
    idf is that of the rows holding any of its renderings (Pirkola's structured query), so a
    rare rendering (ライセンス in a corpus of Chinese laws) weighs what its word weighs, not
    what its rarity would give it."""
    rows = {r: _rows_of(corpus, r, lang) for r, lang, _w in picks}
    found = [x for x in rows.values() if x is not None and len(x)]
    if not found:
        return {}
    n = int(corpus.n_docs)
    held = np.zeros(n, dtype=bool)  # rows holding any rendering (marked, not sorted)
    for x in found:
        held[x] = True
    union = _idf(int(np.count_nonzero(held)), n)
    return {r: min(1.0, union / _idf(len(x), n)) for r, x in rows.items() if x is not None and len(x)}


def _in_corpus(corpus: CorpusStats, known: Callable[[str], bool] | None) -> Callable[[str], bool]:
    """``known``, or else a two-character word the index knows as a character bigram (国家
    where the index only has the compounds 国家赔偿 and 国家机关 as words)."""
    ids = corpus.term_ids

    def keep(w: str) -> bool:
        if known is not None and known(w):
            return True
        if w in ids:
            return True
        return len(w) == 2 and "#" + w in ids  # longer: its bigrams may all occur, apart

    return keep


#: English conjunctions a query uses that the lexicon's stop list (which also shapes its
#: glosses) does not hold: their renderings (要不是, 而且 for "but") are noise, not the
#: question.  On real..real6 dev (en, 190) no change; with adverbs and particles too ("still",
#: "already", "out"), hybrid hit@1/hit@5 .400/.626 -> .395/.632, keyword .337/.521 -> .326/.516.
EN_FUNCTION_WORDS = frozenset("but nor yet because although though unless".split())


def _english_dictionary_units(query: str, known: Callable[[str], bool] | None) -> tuple[list[Unit], list[tuple[int, int]]]:
    """Dictionary candidates of an English query, one unit per phrase, with the phrase's span."""
    from ..text.lexicons import default_lexicon

    lex = default_lexicon()
    if not len(lex):
        return [], []
    by_phrase: dict[str, Unit] = {}
    for tgt in ("zh", "ja"):
        for phrase, cands in lex.en_to(query, tgt, keep=known, limit=CANDIDATES_EN, loose=LOOSE_LOOKUP):
            if phrase in EN_FUNCTION_WORDS:
                continue
            u = by_phrase.setdefault(phrase, Unit(phrase, []))
            for w, sc in cands:
                # a Japanese word in Han characters only, unified, is often the Chinese word
                # too (労働 -> 劳动 where CC-CEDICT glosses 劳动 as "physical labor" only)
                u.add(w, _lang_of(w), sc * (JA_AS_ZH if tgt == "ja" else 1.0), False)
    units, spans = [], []
    low = query.lower()
    for phrase, u in by_phrase.items():
        s = _phrase_span(low, phrase)
        if s is not None:
            units.append(u)
            spans.append(s)
    # a phrase one language's dictionary knows whole covers the words the other found alone
    keep = [i for i, (s, e) in enumerate(spans)
            if not any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2 in spans)]
    return [units[i] for i in keep], [spans[i] for i in keep]


def _phrase_span(low: str, phrase: str) -> tuple[int, int] | None:
    words = phrase.split()
    pat = r"\b" + r"\W+(?:(?:a|an|the)\W+)?".join(re.escape(w) for w in words) + r"\b"
    m = re.search(pat, low)
    if m:
        return m.start(), m.end()
    # a word the dictionary knows written solid ("nonprofit" for the query's "non-profit")
    keep = [i for i, c in enumerate(low) if c != "-"]
    m = re.search(pat, "".join(low[i] for i in keep))
    return (keep[m.start()], keep[m.end() - 1] + 1) if m else None


def _japanese_dictionary_units(exp: Expansion, covered: list[tuple[int, int]],
                               known: Callable[[str], bool] | None,
                               placed: list[tuple[int, int, Unit]] | None = None,
                               corpus: CorpusStats | None = None) -> list[Unit]:
    """Dictionary candidates of the words of a Japanese query outside the glossary's matches.

    ``placed``, if given, receives each content word's span and unit, for
    :func:`compound_units`; a word in Han characters is a candidate of itself there (its
    unified form: 公募 in 公募ファンド -> 公募基金), not in the unit returned."""
    from ..text.lexicons import default_lexicon

    lex = default_lexicon()
    if not len(lex):
        return []
    text = exp.query
    for s, e in covered:  # the glossary wins where it knows the words
        text = text[:s] + " " * (e - s) + text[e:]
    units: list[Unit] = []
    todo = list(_japanese_word_spans(text, lex))
    todo.reverse()
    while todo:
        word, ws, we = todo.pop()
        if not _ja_content(word) or word in JA_STOP or word in _JA_STOP_UNIFIED:
            continue  # JA_STOP are frames, not content (the tokens are unified: 場合 -> 场合)
        if COMPOUNDS and SPLIT_UNRENDERED and _HAN_ONLY.fullmatch(word) and len(word) > 2 \
                and not lex.translate(word, "ja", "zh", keep=known, limit=1):
            # a compound of several words with no rendering the index holds (公認会計士):
            # its shorter words instead, rendered and composed one by one (会計士 -> 会计师)
            n = _token_count(text[ws:we])
            if n > 1:
                parts = [(w, ws + s, ws + e) for w, s, e in _japanese_word_spans(text[ws:we], lex, n - 1)]
                todo.extend(reversed(parts))
                continue
        u = Unit(word, [])
        if placed is not None:
            part = Unit(word, [])
            if _HAN_ONLY.fullmatch(word):
                part.add(unify(word), "zh", 1.0, False)
            placed.append((ws, we, part))
        if BOUND_ONE_CHAR and len(word) == 1 and ws > 0 and _HAN_ONLY.fullmatch(word) and _HAN_ONLY.fullmatch(text[ws - 1]):
            # one Han character written onto the word before it (責任者, 出入国者, 立法会) is a
            # bound suffix: it renders in the compound it makes (责任者), not alone
            # (者 -> 应聘者, 患病者)
            continue
        # a word that is the Chinese word itself (憲法, 汚染) needs no pivot: its renderings
        # sharing none of its characters come from other senses of the English glosses
        # (憲法 "constitution" -> 体质) and count only ``SAME_WORD_OTHERS`` as much
        same = SAME_WORD_OTHERS < 1.0 and len(word) > 1 and lex.same_word(word, "ja", "zh")
        if same and corpus is not None and SAME_WORD_MIN_ROWS > 0:
            # ... where the index writes it so: else its other renderings are the way in
            rows = _rows_of(corpus, unify(word), "zh")
            same = rows is not None and len(rows) >= SAME_WORD_MIN_ROWS
        chars = set(unify(word))
        if same and SAME_WORD_SELF:
            # the word itself is the first rendering: the others are weighed against it
            u.add(unify(word), "zh", 1.0, False)
        for w, sc in lex.translate(word, "ja", "zh", keep=known, limit=CANDIDATES, loose=LOOSE_LOOKUP):
            # one character (者, 前, 園) is a suffix or too ambiguous to render, except into a
            # word holding it (園 -> 园区)
            if w != word and (len(word) > 1 or (len(w) > 1 and unify(word) in w)):
                if same and not chars & set(w):
                    if SAME_WORD_OTHERS <= 0.0:
                        continue
                    sc *= SAME_WORD_OTHERS
                u.add(w, "zh", sc, False)
        if placed is not None:
            for c in u.cands:
                placed[-1][2].add(*c)
        if u.cands:
            units.append(u)
    return units


# --------------------------------------------------------------------------- Chinese synonyms

#: Whether a Chinese query searched against an index also gets, for each of its words, the
#: Chinese words sharing its CC-CEDICT English glosses (卖 "to sell" -> 出售, 销售), chosen on the
#: index as the renderings of a Japanese word are (:func:`structured_renderings`).
ZH_SYNONYMS = True
#: Weight of a Chinese synonym relative to the query's own word (1.0).
ZH_SYNONYM_WEIGHT = 0.3
#: Whether a Chinese word and its synonyms form one synonym set (``QueryTerms.synonym_sets``).
ZH_SYNONYM_SETS = False
#: At most this many synonyms per query word.
ZH_SYNONYM_PER_WORD = 2
#: Whether the synonyms also go into the text encoded for dense search.
ZH_SYNONYMS_IN_DENSE = True
#: Whether a one-character word of the query gets synonyms (one character has many senses:
#: 种 -> 种子, 物种).
ZH_ONE_CHAR = True
#: A candidate is kept only if its dictionary score (:meth:`Lexicon.translate`, the best 1) is at least this.
ZH_MIN_PRIOR = 0.0
#: The dictionary candidates looked at per query word (best first), before the sense filter.
ZH_CANDIDATES = 12
#: A synonym shares a gloss among the first ``ZH_SENSES_OWN`` senses of the query word and
#: the first ``ZH_SENSES`` of its own.
ZH_SENSES_OWN = 2
ZH_SENSES = 2
#: The frame of a Chinese question, not its content: no synonyms.
ZH_STOP = ZH_QUESTION_FRAME | frozenset("可以 能 要 需要 应该 应当 的 了 谁 是 有 和 与 或 及 在 对 被 由 给 向 从 "
                                       "为 把 就 都 还 也 不 会 该 这 那 其 之".split())


def _chinese_synonyms(lex: Any, word: str) -> list[tuple[str, float]]:
    """The synonym candidates of a Chinese word with their dictionary scores, before the index
    is asked: the best ``ZH_CANDIDATES`` words sharing a gloss with it (:meth:`Lexicon.translate`)
    that share one among the first senses of both, of two characters or more unless the word
    has one.  Cached per lexicon (the lexicon is read-only)."""
    cache = lex.__dict__.setdefault("_zh_synonyms", {})
    key = (word, ZH_CANDIDATES, ZH_SENSES_OWN, ZH_SENSES, ZH_MIN_PRIOR)
    got = cache.get(key)
    if got is None:
        senses = set(lex.glosses_of(word, "zh")[:ZH_SENSES_OWN])
        got = []
        for w, sc in lex.translate(word, "zh", "zh", limit=ZH_CANDIDATES):
            if w == word or sc < ZH_MIN_PRIOR:
                continue
            if len(w) == 1 and len(word) > 1:
                continue  # one character matches too much (销售 -> 售)
            if not senses & set(lex.glosses_of(w, "zh")[:ZH_SENSES]):
                continue  # only a later sense of one of them is shared (丈夫 "husband" -> 先生)
            got.append((w, sc))
        if len(cache) < 100_000:
            cache[key] = got
    return got


def _expand_chinese(exp: Expansion, known: Callable[[str], bool] | None, corpus: CorpusStats) -> None:
    """Chinese synonyms of the words of a Chinese query, through shared CC-CEDICT glosses.

    Each content word (two Han characters or more, or one the dictionary knows) becomes a unit
    whose candidates are the word itself and the Chinese words sharing its English glosses
    (:meth:`~policyidx.text.lexicons.Lexicon.translate` from Chinese to Chinese) that the index
    holds; :func:`structured_renderings` scores them on the index (co-occurrence with the other
    words of the query, frequency), the word itself being the yardstick: a synonym is kept at
    its score over the word's, times ``ZH_SYNONYM_WEIGHT``.  With ``ZH_SYNONYM_SETS`` the word
    and its synonyms are one synonym set: a clause has the word when it has any of them.
    """
    from ..text.lexicons import default_lexicon

    lex = default_lexicon()
    if not len(lex):
        return
    keep = _in_corpus(corpus, known)
    own = [t for t, w in exp.terms.items() if w >= 1.0 and not t.startswith("#") and _HAN_ONLY.fullmatch(t)]
    units: list[Unit] = []
    for word in own:
        if word in ZH_STOP or (len(word) == 1 and not ZH_ONE_CHAR):
            continue
        u = Unit(word, [(word, "zh", 1.0, False)])
        for w, sc in _chinese_synonyms(lex, word):
            if w not in exp.terms and keep(w):
                u.add(w, "zh", sc, False)
        if len(u.cands) > 1:
            units.append(u)
    if not units:
        return
    context = [(t, "zh") for t in own if t not in {u.source for u in units}]
    chosen = structured_renderings(units, corpus, context)
    sets: list[tuple[tuple[str, ...], ...]] = []
    zh_added: set[str] = set()
    for u, picks in zip(units, chosen):
        base = next((rel for r, _l, rel in picks if r == u.source), None)
        syn = [(r, rel) for r, _l, rel in picks if r != u.source][:ZH_SYNONYM_PER_WORD]
        if not syn:
            continue
        added = []
        for r, rel in syn:
            share = min(1.0, rel / base) if base else rel
            before = len(exp.renderings)
            _add(exp, r, "zh", u.source, ZH_SYNONYM_WEIGHT * share, split_chars=True)
            if len(exp.renderings) > before:
                exp.dictionary[r] = u.source
                added.append(r)
                zh_added.add(r)
        if ZH_SYNONYM_SETS and added:
            alts = [tuple(t for t in analyze_query(u.source, "zh") if t in exp.terms and not t.startswith("#"))]
            # a rendering's word terms (not its character pairs), unless the query has them itself
            alts += [tuple(t for t in sorted(exp.rendering_terms.get(r, ())) if not t.startswith("#")
                           and exp.terms.get(t, 0.0) < 1.0) for r in added]
            alts = [a for a in dict.fromkeys(alts) if a]
            if len(alts) > 1:
                sets.append(tuple(alts))
    if sets:
        exp.terms = QueryTerms(exp.terms)
        exp.terms.synonym_sets = tuple(sets)
        exp.terms.lang = exp.lang
    if not ZH_SYNONYMS_IN_DENSE:
        exp.dense_renderings = [r for r in exp.renderings if detect_lang(r) != "en" and r not in zh_added
                                and (DICTIONARY_IN_DENSE or r not in exp.dictionary)]


# --------------------------------------------------------------------------- compounds

#: Whether adjacent source words or phrases are also rendered as the Chinese compounds their
#: renderings make, where the index attests them (:func:`compound_units`).
COMPOUNDS = True
#: Renderings of each part combined (the best by prior, in Han characters).
COMPOUND_PARTS = 12
#: Whether a Japanese word of several tokens with no rendering the index holds is rendered
#: as its shorter words (公認会計士 -> 公認, 会計士).
SPLIT_UNRENDERED = True
#: Whether a one-character Japanese word written onto the Han word before it (責任者) is
#: rendered only in the compounds it makes, not alone.
BOUND_ONE_CHAR = True
#: Rows of the index a compound must occur in (as a word, or as its chain of character pairs).
COMPOUND_MIN_ROWS = 2
#: Least share of the rows of its rarer part a compound must occur in (its parts must be
#: bound, not merely meet; chosen on the real dev sets: 0, 0.02, 0.05, 0.1 tried).
COMPOUND_MIN_SHARE = 0.05
#: Shortest compound, in characters.
COMPOUND_MIN_CHARS = 3
#: Factor on the weight of a compound's synonym set (relative to other renderings'; chosen on
#: the real dev sets: 0.35, 0.5, 0.75, 1.0 tried).
COMPOUND_WEIGHT = 0.5
#: Whether English words side by side are also composed in the reverse order.
COMPOUND_REVERSED = True

_HAN_ONLY = re.compile(f"[{HAN_CLASS}]+")
#: What may stand between two English words or phrases composed, and the order of their
#: renderings: side by side, either order (Chinese puts the modifier first, as English mostly
#: does); "B of A", the renderings of A first.
_EN_GAP_ADJACENT = re.compile(r"[\s\-]*")
_EN_GAP_OF = re.compile(r"\s+of\s+(?:the\s+|a\s+|an\s+)?", re.I)


def attested_rows(corpus: CorpusStats, compound: str, *, min_rows: int | None = None) -> int:
    """How many rows of the index hold ``compound``: those of its term if the index has it as
    a word, else those holding every character pair of it (a chain of pairs, the one across
    the parts' junction included, seldom meets in a clause but as the compound itself).
    The count stops below ``min_rows`` (default ``COMPOUND_MIN_ROWS``): a smaller count is
    exact only up to that."""
    floor = COMPOUND_MIN_ROWS if min_rows is None else min_rows
    ids = corpus.term_ids
    if compound in ids:
        r = _postings(corpus, compound)
        return 0 if r is None else len(r)
    u = unify(compound)
    pairs = ["#" + u[i : i + 2] for i in range(len(u) - 1)]
    if not pairs or not all(p in ids for p in pairs):  # membership first: no postings read
        return 0
    got = [r for p in dict.fromkeys(pairs) if (r := _postings(corpus, p)) is not None]
    if len(got) < len(set(pairs)):
        return 0
    got.sort(key=len)
    out = got[0]
    for r in got[1:]:
        out = _intersect(out, r)
        if len(out) < floor:
            break
    return len(out)


def _pair_chain(corpus: CorpusStats, w: str) -> np.ndarray | None:
    """Sorted rows holding every character pair of ``w`` (unified, two characters or more),
    ``None`` where none does."""
    pairs = list(dict.fromkeys("#" + w[i : i + 2] for i in range(len(w) - 1)))
    if not pairs or not all(p in corpus.term_ids for p in pairs):
        return None
    got = [r for p in pairs if (r := _postings(corpus, p)) is not None]
    if len(got) < len(pairs):
        return None
    got.sort(key=len)
    out = got[0]
    for r in got[1:]:
        if not len(out):
            break
        out = _intersect(out, r)
    return out if len(out) else None


def _part_renderings(u: Unit) -> list[tuple[str, float]]:
    cands = [(r, p) for r, _l, p, _g in u.cands if _HAN_ONLY.fullmatch(r)]
    cands.sort(key=lambda x: -x[1])
    top = cands[0][1] if cands and cands[0][1] > 0 else 1.0
    return [(r, p / top) for r, p in cands[:COMPOUND_PARTS]]


def compound_units(text: str, placed: Sequence[tuple[int, int, Unit]], corpus: CorpusStats,
                   lang: str) -> list[Unit]:
    """Compositional renderings of adjacent source words or phrases: the Chinese compounds
    made of a rendering of each (公募 + 基金 -> 公募基金, 名胜 + 区 -> 名胜区), kept where the
    index attests them (:func:`attested_rows`, at least ``COMPOUND_MIN_ROWS`` rows).

    ``placed`` are the query's units with their spans in ``text``; each unit's best
    ``COMPOUND_PARTS`` renderings in Han characters are combined.  English words side by side
    are composed in either order (``COMPOUND_REVERSED``), "B of A" as A's rendering then B's;
    Japanese words only side by side, in their order.  A compound must be attested: in at
    least ``COMPOUND_MIN_ROWS`` rows, and in ``COMPOUND_MIN_SHARE`` of the rows of its rarer
    part (two words that merely meet, 停止用户 for "stop customers", are no compound); a
    one-character head (区, 者) only where the index has the compound as a word.  Each pair
    of units attesting compounds gives one unit (its source the two sources, ``compound``
    set), whose candidates are the compounds at the geometric mean of their parts' priors
    (relative to each part's best), for the corpus to weigh as any other rendering.

    Parameters
    ----------
    text
        The query.
    placed
        ``(start, end, unit)`` of the query's units.
    corpus
        The keyword index (its vocabulary and postings).
    lang
        The query's language, ``en`` or ``ja``.

    Returns
    -------
    list of Unit
        One unit per pair of adjacent units with attested compounds, in query order.
    """
    order = sorted(placed, key=lambda x: (x[0], x[1]))
    out: list[Unit] = []
    ids = corpus.term_ids

    @functools.lru_cache(maxsize=None)
    def part_rows(w: str) -> int:
        return attested_rows(corpus, w, min_rows=0)

    @functools.lru_cache(maxsize=None)
    def chain(w: str) -> np.ndarray | None:
        # the rows holding every character pair of a part (read once per part)
        return _pair_chain(corpus, w)

    def compound_rows(ua: str, ub: str) -> int:
        # :func:`attested_rows` of ua + ub, from its parts' chains and the junction's pair
        c = ua + ub
        if c in ids:
            r = _postings(corpus, c)
            return 0 if r is None else len(r)
        got = [chain(ua), chain(ub), _postings(corpus, "#" + ua[-1] + ub[0])]
        if any(x is None for x in got):
            return 0
        got.sort(key=len)
        out = _intersect(got[0], got[1])
        return len(_intersect(out, got[2])) if len(out) else 0

    for (s1, e1, u1), (s2, e2, u2) in zip(order, order[1:]):
        if s2 < e1:
            continue
        gap = text[e1:s2]
        if lang == "en":
            if _EN_GAP_ADJACENT.fullmatch(gap):
                orders = ((0, 1), (1, 0)) if COMPOUND_REVERSED else ((0, 1),)
            elif _EN_GAP_OF.fullmatch(gap):
                orders = ((1, 0),)
            else:
                continue
        elif gap:
            continue
        else:
            orders = ((0, 1),)
        parts = (_part_renderings(u1), _part_renderings(u2))
        if not parts[0] or not parts[1]:
            continue
        cu = Unit(f"{u1.source} {u2.source}", [], compound=True)
        seen: set[str] = set()
        for i, j in orders:
            for a, pa in parts[i]:
                if len(a) < 2:
                    continue  # one character leads no compound (员 + 国务院)
                for b, pb in parts[j]:
                    ua, ub = unify(a), unify(b)
                    c = ua + ub  # 建設 and 建设 are one rendering to the index
                    if c in seen or len(c) < COMPOUND_MIN_CHARS or ua in ub or ub in ua:
                        continue
                    seen.add(c)
                    if len(ub) < 2:
                        # a one-character head (区, 境, 者) only where the index has the
                        # compound as a word (名胜区, 出入境), not merely side by side (取得二)
                        if c not in ids:
                            continue
                    elif c not in ids and "#" + ua[-1] + ub[0] not in ids:
                        continue  # the pair across the junction: most candidates end here
                    n = compound_rows(ua, ub)
                    # a word, not two words that happen to meet: the compound holds a fair
                    # share of the rows of its rarer part (公募基金: most of 公募's; 停止用户,
                    # "stop customers": 4 of 1,053)
                    if n >= COMPOUND_MIN_ROWS and n >= COMPOUND_MIN_SHARE * min(part_rows(ua), part_rows(ub)):
                        cu.add(c, "zh", (pa * pb) ** 0.5, False)
                        cu.parts.setdefault(c, (a, b))
        if cu.cands:
            out.append(cu)
    return out


# --------------------------------------------------------------------------- feedback

#: Clauses of the first ranking an English query's passed-over renderings are looked for in
#: (:func:`feedback_expansion`; of the first ``k`` hits asked for, where that is fewer, so a
#: sharded index reads the same clauses as a single one); 0 turns the second pass off.  On real..real6 (en), hybrid
#: hit@1/hit@5 without -> with (top 3, weight 1): dev (190) .400/.626 -> .421/.632, test
#: splits (124, not chosen on) .250/.476 -> .315/.500; top 2 .416/.626, top 5 .416/.632 on
#: dev.  Japanese queries: no change on dev (.500/.747 -> .505/.753), none kept.
FEEDBACK_ROWS = 3
#: Weight of a rendering taken in this way, relative to its set's best chosen rendering.
FEEDBACK_WEIGHT = 1.0
_SPACE = re.compile(r"\s+")


def feedback_expansion(exp: Expansion, texts: Iterable[str], known: Callable[[str], bool]) -> Expansion | None:
    """The query again, with the renderings the corpus passed over that the first ranking's
    best clauses (``texts``, best first; the first :data:`FEEDBACK_ROWS` are read) write: the
    words a translation chose among are chosen again by the clauses the rest of the query found.

    Each such rendering joins its source word's synonym set (so a clause holding it and a
    chosen rendering does not count the word twice), weighing :data:`FEEDBACK_WEIGHT` times
    the set's best chosen rendering.  Returns ``None`` when nothing is added (the caller
    keeps its first ranking).  "If the penalty agreed in a home purchase contract is too
    high ...": 约定, passed over for "agreed", stands in the best clauses, and the article on
    reducing an agreed 违约金 comes from beyond the first ten to fourth place.
    """
    sets = list(getattr(exp.terms, "synonym_sets", ()))
    if not FEEDBACK_ROWS or not exp.passed_over or not sets:
        return None
    squashed = [_SPACE.sub("", t) for t in itertools.islice(texts, FEEDBACK_ROWS)]
    if not squashed:
        return None
    terms = QueryTerms(exp.terms)
    out = replace(exp, terms=terms, renderings=dict(exp.renderings), rendering_terms=dict(exp.rendering_terms),
                  entries=list(exp.entries), dictionary=dict(exp.dictionary))
    added = False
    for si, source, best, cands in exp.passed_over:
        if si >= len(sets):
            continue
        for c in cands:
            if c in terms or not known(c) or not any(c in t for t in squashed):
                continue
            terms[c] = FEEDBACK_WEIGHT * best
            sets[si] = sets[si] + ((c,),)
            out.renderings.setdefault(c, source)
            out.dictionary.setdefault(c, source)
            out.rendering_terms.setdefault(c, {c})
            added = True
    if not added:
        return None
    terms.synonym_sets = tuple(sets)
    terms.lang = exp.lang
    return out
