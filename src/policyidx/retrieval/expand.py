"""Query expansion with the zh/ja/en glossary.

Shared Han characters carry a Chinese query to a Japanese clause only where both languages
write a concept with related characters.  The glossary adds, for every term of the query it
knows, its renderings in the other two languages (許可 -> 許諾, ライセンス; 质押 -> 担保;
"cross-licensing" -> 交叉许可, クロスライセンス), weighted below the query's own terms.  This
is what makes English queries work with the offline encoder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from ..text.analysis import analyze_query, detect_lang
from ..text.stem import en_stem
from ..text.glossary import Entry, Glossary, default_glossary

__all__ = ["Expansion", "expand_query", "default_glossary", "EXPANSION_WEIGHT", "DICTIONARY_WEIGHT"]

EXPANSION_WEIGHT = 0.5
#: Dictionary renderings (CC-CEDICT, JMdict) weigh this fraction of a glossary rendering.
DICTIONARY_WEIGHT = 0.6
#: At most this many dictionary renderings per query word or phrase.
DICTIONARY_PER_WORD = 2
#: Whether dictionary renderings also go into the text encoded for dense search.
DICTIONARY_IN_DENSE = True


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

    @property
    def dense_text(self) -> str:
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
class EnglishMatcher:
    """Finds glossary entries in English text by stemmed word n-grams (longest first)."""

    MAX_N = 7

    def __init__(self, glossary: Glossary):
        self.phrases: dict[tuple[str, ...], list[Entry]] = {}
        for entry in glossary:
            for r in entry.terms("en"):
                key = tuple(en_stem(w) for w in _EN_WORD.findall(r))
                if key and len(key) <= self.MAX_N:
                    lst = self.phrases.setdefault(key, [])
                    if entry not in lst:
                        lst.append(entry)

    def find(self, text: str) -> list[tuple[list[Entry], int, int]]:
        """Non-overlapping matches ``(entries, start, end)`` (character offsets), longest first."""
        words = [(m.start(), m.end(), en_stem(m.group())) for m in _EN_WORD.finditer(text)]
        stems = [w[2] for w in words]
        taken = [False] * len(words)
        found: list[tuple[list[Entry], int, int]] = []
        for n in range(min(self.MAX_N, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                if any(taken[i : i + n]):
                    continue
                entries = self.phrases.get(tuple(stems[i : i + n]))
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
    """
    lang = lang or detect_lang(query)
    terms = dict(analyze_query(query, lang))
    exp = Expansion(query=query, lang=lang, terms=terms)
    if not enabled:
        return exp
    glossary = glossary if glossary is not None else default_glossary()
    if lang == "en":
        for d in english_dates(query):
            _add(exp, d, "ja", "(date)", weight)
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
    return exp


_JA_CONTENT = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u30a1-\u30ff]")


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
    from ..text.analysis import tokenize

    toks = [t.norm for t in tokenize(text, "ja") if t.surface.strip()]
    i = 0
    while i < len(toks):
        n = next((n for n in (3, 2) if i + n <= len(toks) and lex.glosses_of("".join(toks[i : i + n]), "ja")), 1)
        word = "".join(toks[i : i + n])
        i += n
        if not _JA_CONTENT.search(word):
            continue
        cands = [(w, sc) for w, sc in lex.translate(word, "ja", "zh", keep=known, limit=DICTIONARY_PER_WORD + 1) if w != word]
        for w, sc in cands[:DICTIONARY_PER_WORD]:
            add(w, "zh", word, sc)


def _add(exp: Expansion, rendering: str, lang: str, source: str, weight: float) -> None:
    if rendering in exp.renderings:
        return
    rterms = analyze_query(rendering, lang)
    if not rterms:
        return
    exp.renderings[rendering] = source
    exp.rendering_terms[rendering] = set(rterms)
    for t, w in rterms.items():
        exp.terms[t] = max(exp.terms.get(t, 0.0), min(w, 1.0) * weight)
