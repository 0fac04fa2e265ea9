"""Query expansion with the zh/ja/en glossary.

Shared Han characters carry a Chinese query to a Japanese clause only where both languages
write a concept with related characters.  The glossary adds, for every term of the query it
knows, its renderings in the other two languages (許可 -> 許諾, ライセンス; 质押 -> 担保;
"cross-licensing" -> 交叉许可, クロスライセンス), weighted below the query's own terms.  This
is what makes English queries work with the offline encoder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from .analysis import analyze_query, detect_lang
from .glossary import Entry, Glossary

__all__ = ["Expansion", "expand_query", "default_glossary", "EXPANSION_WEIGHT"]

EXPANSION_WEIGHT = 0.5


@dataclass
class Expansion:
    """A query with its glossary expansions.

    ``terms`` are weighted keyword terms (the query's own at full weight, expansions below);
    ``renderings`` maps each added rendering to the glossary entry's Chinese term;
    ``dense_text`` is the text to encode for dense search (query plus renderings).
    """

    query: str
    lang: str
    terms: dict[str, float]
    renderings: dict[str, str] = field(default_factory=dict)
    rendering_terms: dict[str, set[str]] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)

    @property
    def dense_text(self) -> str:
        if not self.renderings:
            return self.query
        return self.query + " " + " ".join(r for r in self.renderings if detect_lang(r) != "en")


@lru_cache(maxsize=4)
def _cached_glossary(extra: tuple[str, ...]) -> Glossary:
    return Glossary.load(extra=list(extra))


def default_glossary(extra: tuple[str, ...] = ()) -> Glossary:
    """The bundled glossary (plus user files), loaded once per process."""
    return _cached_glossary(tuple(str(e) for e in extra))


def expand_query(
    query: str,
    lang: str | None = None,
    glossary: Glossary | None = None,
    *,
    weight: float = EXPANSION_WEIGHT,
    enabled: bool = True,
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
    """
    lang = lang or detect_lang(query)
    terms = dict(analyze_query(query, lang))
    exp = Expansion(query=query, lang=lang, terms=terms)
    if not enabled:
        return exp
    glossary = glossary if glossary is not None else default_glossary()
    seen: set[str] = set()
    for entry, _rendering, _s, _e in glossary.find_in(query, lang):
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
                if r in exp.renderings:
                    continue
                rterms = analyze_query(r, other)
                if not rterms:
                    continue
                exp.renderings[r] = entry.zh
                exp.rendering_terms[r] = set(rterms)
                for t, w in rterms.items():
                    exp.terms[t] = max(exp.terms.get(t, 0.0), min(w, 1.0) * weight)
    return exp
