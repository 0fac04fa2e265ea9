"""The English stemmer: one for index terms, queries and glossary renderings alike.

Light suffix stripping, enough for the English of policy translations and queries:
British spellings fold to American (``licence`` -> ``license``, ``securitisation`` ->
``securitization``, and 1,657 of the 1,730 word pairs of breame's spelling list: ``offence`` ->
``offense``, ``judgement`` -> ``judgment``, ``labelled`` -> ``labeled``, ``fulfil`` ->
``fulfill``); then a plural, then ``-ing`` or ``-ed`` (a doubled consonant left undoubled:
``planning`` -> ``plan``; one short syllable given back its ``e``: ``caring`` -> ``care``), then a
final ``e`` unless the rest is one short syllable (Porter's rule: ``care``, ``site``, ``rate``
keep theirs and do not meet ``car``, ``sit``, ``rat``), so ``licensing``, ``licensed``,
``licence`` and ``licenses`` all become ``licens``.  As in Porter's step 1b, ``-eed`` is cut to
``-ee`` after a vowel-consonant (``agreed`` meets ``agree``, ``exceeds`` meets ``exceeding``;
``need`` stays) and ``-ing`` or ``-ed`` goes only where a vowel is left (``spring`` stays);
``news``, ``series``, ``species`` (and a few more) are no plurals.  Words with
digits (``5g``, ``2021``) are only lower-cased.

JMdict writes its English glosses in British spelling and CC-CEDICT in American: without the
word list, a Japanese word glossed "offence" met no Chinese word glossed "offense".
"""

from __future__ import annotations

import functools
import re

__all__ = ["en_stem", "stem_bucket"]

_BRITISH = [(re.compile(r"isation"), "ization"), (re.compile(r"ise(s|d)?$"), r"ize\1"), (re.compile(r"^licence"), "license"),
            (re.compile(r"^programme"), "program"), (re.compile(r"^centre"), "center"), (re.compile(r"^defence"), "defense"),
            (re.compile(r"(?<=..[a-z])our$"), "or")]


@functools.lru_cache(maxsize=1)
def _american() -> dict[str, str]:
    """breame's British -> American spellings (Apache-2.0), lower case, without the pairs whose
    first two letters differ (``aeroplane`` -> ``airplane``): :func:`stem_bucket` relies on a
    word's start staying as it is."""
    from breame.data.spelling_constants import BRITISH_ENGLISH_SPELLINGS

    out: dict[str, str] = {}
    for british, american in BRITISH_ENGLISH_SPELLINGS.items():
        b, a = british.lower(), american.lower()
        if b != a and b.isalpha() and a.isalpha() and b[:2].replace("z", "s") == a[:2].replace("z", "s"):
            out[b] = a
    return out


@functools.lru_cache(maxsize=1 << 16)
def en_stem(word: str) -> str:
    """The stem of one English word (lower-cased; see the module docstring).  Memoised:
    texts and glossaries repeat their words."""
    w = word.lower().replace("’", "'").strip("'-")
    if not w.isalpha():
        return w
    w = _american().get(w, w)
    for pat, rep in _BRITISH:
        w = pat.sub(rep, w)
    if len(w) <= 3 or w in _INVARIANT:
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "shes", "ches", "xes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("eed"):
        return _eed(w)
    cut = 3 if w.endswith("ing") and len(w) >= 6 else 2 if w.endswith("ed") and len(w) >= 5 else 0
    if cut and _has_vowel(w[:-cut]):  # not spring, string, shed (Porter: the rest has a vowel)
        w = w[:-cut]
        if w.endswith("eed"):  # exceeding, proceeding: as exceed, proceed
            return _eed(w)
        if len(w) >= 3 and w[-1] == w[-2] and w[-1] not in "lsz" and _consonant(w, len(w) - 1):
            w = w[:-1]  # planning, permitted: plan, permit
        elif _measure(w) == 1 and _short_end(w):
            w += "e"  # caring, fined, trading: care, fine, trade (not car, fin, trad)
    return _final_e(w)


#: Words ending in -s that are no plurals (Porter2's invariant forms and a few like them):
#: ``news`` does not meet ``new``, nor ``series`` ``sery``.
_INVARIANT = frozenset("news series species bias chaos atlas cosmos lens".split())


def _eed(w: str) -> str:
    """A word ending in -eed, by Porter's step 1b: -eed is a verb's own ending (proceed, exceed,
    agreed: agree), not a past tense, and is cut to -ee only after a vowel-consonant (need, speed
    stay whole)."""
    return _final_e(w[:-1]) if _measure(w[:-3]) > 0 else w


def _has_vowel(w: str) -> bool:
    """Whether ``w`` holds a vowel (Porter's *v*)."""
    return any(not _consonant(w, i) for i in range(len(w)))


def _final_e(w: str) -> str:
    """``w`` without a final e, unless the rest is one short syllable."""
    if w.endswith("e") and len(w) >= 4:
        rest = w[:-1]
        # Porter's rule: a final e goes unless the rest is one short syllable (care, site, rate,
        # fine, state keep theirs, so they do not meet car, sit, rat, fin, stat)
        if _measure(rest) > 1 or not _short_end(rest):
            w = rest
    return w


def _consonant(w: str, i: int) -> bool:
    """Whether ``w[i]`` is a consonant (Porter: ``y`` after a consonant is a vowel)."""
    c = w[i]
    if c in "aeiou":
        return False
    return c != "y" or i == 0 or not _consonant(w, i - 1)


def _measure(w: str) -> int:
    """Porter's m: the number of vowel-consonant sequences in ``w``."""
    m, vowel = 0, False
    for i in range(len(w)):
        if _consonant(w, i):
            if vowel:
                m += 1
            vowel = False
        else:
            vowel = True
    return m


def _short_end(w: str) -> bool:
    """Porter's *o: ``w`` ends consonant-vowel-consonant, the last not w, x or y (car, sit)."""
    n = len(w)
    return (n >= 3 and _consonant(w, n - 3) and not _consonant(w, n - 2) and _consonant(w, n - 1)
            and w[-1] not in "wxy")


def stem_bucket(word: str) -> str:
    """A key that all words of one stem share, computed without stemming: the first two
    letters of the word as :func:`en_stem` reads it, with ``z`` read as ``s``.

    The stemmer changes a word's end, never its first two letters, except where a British
    spelling at the very start becomes American (``isation`` -> ``ization``: ``s`` -> ``z``),
    so ``stem_bucket(w) == stem_bucket(en_stem(w))`` for every word, and words with one stem
    fall in one bucket.  A matcher can then stem only the phrases in the buckets of a
    query's words instead of every phrase it knows.  (``tests/test_stem.py`` holds
    :func:`en_stem` to this.)
    """
    w = word.lower().replace("’", "'").strip("'-")
    return w[:2].replace("z", "s")
