"""A zh/ja/en glossary of Chinese IP and industrial-policy terminology.

Each :class:`Entry` is keyed by its Simplified Chinese term and lists the Japanese and
English renderings met in practice.  The Japanese side records what JETRO's provisional
translations actually write as well as the ordinary Japanese term: JETRO keeps many Chinese
words in kanji (``専利`` for 专利, ``開放許諾`` for 开放许可, ``工業信息化部`` next to
``工業情報化部``) and borrows katakana words for others (``ナビゲーション``, ``マッチング``).

The bundled table lives in ``policyidx/data/glossary.tsv``; users extend or override it
with files of the same format::

    zh<TAB>ja<TAB>en<TAB>domain<TAB>notes
    专利<TAB>専利|特許<TAB>patent|patents<TAB>patents<TAB>free text

Matching (:meth:`Glossary.lookup`, :meth:`Glossary.find_in`) compares *folded* strings:
NFKC width folding and lower case character by character, then :func:`policyidx.han.unify`,
so Japanese shinjitai and Traditional forms meet the Simplified ones (``專利``, ``専利`` and
``专利`` are one key).  Folding never changes the length of a string, so offsets found on
the folded text are offsets into the text the caller passed.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Container, Iterable, Iterator, Sequence

from ..errors import NotFoundError, PolicyIdxError, QueryError

__all__ = [
    "default_glossary",
    "DOMAINS",
    "LANGS",
    "HEADER",
    "Entry",
    "Glossary",
    "GlossaryError",
    "fold",
]

#: The allowed values of the ``domain`` column.
DOMAINS: tuple[str, ...] = (
    "patents",
    "trademarks",
    "licensing",
    "finance",
    "enforcement",
    "smes",
    "administration",
    "international",
    "standards",
    "data",
    "programmes",
    "general",  # general vocabulary of policy writing (data/vocab.tsv), used for query expansion
)

#: The languages an entry has renderings in.
LANGS: tuple[str, ...] = ("zh", "ja", "en")

#: The header line every glossary file starts with (the ``notes`` column may be left out).
HEADER: tuple[str, ...] = ("zh", "ja", "en", "domain", "notes")

_SEP = "|"
_WS_RE = re.compile(r"\s+")


#: One bucket of a glossary's folded index: folded rendering -> [(entry row, lang, rendering
#: as written)], and the lengths of those renderings, longest first.
_Bucket = tuple[dict[str, list[tuple[int, str, str]]], tuple[int, ...]]


class GlossaryError(PolicyIdxError):
    """A glossary file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class Entry:
    """One glossary entry: a Chinese term with its Japanese and English renderings.

    Attributes
    ----------
    zh : str
        The Simplified Chinese term; unique within a glossary.
    ja : tuple of str
        Japanese renderings, JETRO's kanji loans and katakana words included.
    en : tuple of str
        English equivalents, abbreviations (``CNIPA``, ``PCT``) included.
    domain : str
        One of :data:`DOMAINS`.
    notes : str
        Free text (dates, scope, what a slogan stands for).
    source : str
        ``"builtin"`` for the bundled table, otherwise the path of the file the entry
        came from; tells a user which file to edit.
    """

    zh: str
    ja: tuple[str, ...]
    en: tuple[str, ...]
    domain: str
    notes: str = ""
    source: str = "builtin"

    def terms(self, lang: str) -> tuple[str, ...]:
        """Return the renderings of this entry in one language.

        Parameters
        ----------
        lang : {"zh", "ja", "en"}
            The language wanted; ``"zh"`` gives the one-element tuple ``(zh,)``.

        Returns
        -------
        tuple of str

        Raises
        ------
        QueryError
            If ``lang`` is not one of :data:`LANGS`.
        """
        if lang == "zh":
            return (self.zh,)
        if lang == "ja":
            return self.ja
        if lang == "en":
            return self.en
        raise QueryError(f"unknown glossary language {lang!r}: expected one of {', '.join(LANGS)}")

    def to_record(self) -> dict[str, Any]:
        """Return the entry as a JSON-ready dict (tuples become lists)."""
        return {
            "zh": self.zh,
            "ja": list(self.ja),
            "en": list(self.en),
            "domain": self.domain,
            "notes": self.notes,
            "source": self.source,
        }


# --------------------------------------------------------------------------- folding


@functools.lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    # NFKC and lower() each return more than one character for a few inputs ("㈱",
    # "İ"); those are kept unchanged so the folded text stays aligned with the original.
    n = unicodedata.normalize("NFKC", ch)
    if len(n) != 1:
        n = ch
    low = n.lower()
    return low if len(low) == 1 else n


def _unify(text: str) -> str:
    from .han import unify  # sibling module; imported here so loading needs no OpenCC

    out = unify(text)
    if len(out) != len(text):  # pragma: no cover - unify's contract is length-preserving
        raise PolicyIdxError("policyidx.han.unify changed the length of its input; offsets would be wrong")
    return out


class _FoldTable(dict):
    """``str.translate`` table filled on demand: translate() looks characters up in C."""

    def __missing__(self, code: int) -> str:
        out = self[code] = _fold_char(chr(code))
        return out


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Width-fold, lower-case and Han-unify ``text`` without changing its length.

    The matching key of the glossary (and of the concordance): offsets found in the folded
    text are offsets in the original.
    """
    return _unify(text.translate(_FOLD_TABLE))


def _fold_all(texts: list[str]) -> list[str]:
    """:func:`fold` of each text, in one pass over their concatenation (folding is
    character by character and keeps lengths, so the pieces are the folded texts)."""
    if not texts or any("\n" in t for t in texts):
        return [fold(t) for t in texts]
    joined = fold("\n".join(texts))
    out = joined.split("\n")
    if len(out) != len(texts):  # pragma: no cover - a line break folded from something else
        return [fold(t) for t in texts]
    return out


def _lookup_key(term: str) -> str:
    # A looked-up term may carry stray spaces ("patent  law", "専利 "); matching inside
    # a text cannot collapse them (offsets), but a lookup can.
    return _WS_RE.sub(" ", fold(term)).strip()


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


# --------------------------------------------------------------------------- parsing


def _split_terms(cell: str, column: str, where: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in cell.split(_SEP):
        term = raw.strip()
        if not term:
            raise GlossaryError(
                f"{where}: empty term in column {column!r} (found {cell!r}); "
                f"separate renderings with a single '|' and give at least one"
            )
        if term not in out:
            out.append(term)
    return tuple(out)


def _parse(text: str, name: str, source: str) -> list[Entry]:
    """Parse the text of one glossary file into entries (file order)."""
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    header_seen = False
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        where = f"glossary file {name}, line {lineno}"
        if not header_seen:
            if tuple(cells) not in (HEADER, HEADER[:4]):
                raise GlossaryError(
                    f"{where}: expected the header line {'<TAB>'.join(HEADER)!r}, "
                    f"found {line.strip()!r}; add the header as the first line"
                )
            header_seen = True
            continue
        if len(cells) not in (4, 5):
            raise GlossaryError(
                f"{where}: expected 5 tab-separated columns (zh, ja, en, domain, notes; notes may be "
                f"omitted), found {len(cells)}; check for missing or extra tabs"
            )
        zh, ja_cell, en_cell, domain = cells[:4]
        notes = cells[4] if len(cells) == 5 else ""
        if not zh:
            raise GlossaryError(f"{where}: empty term in column 'zh'; every entry needs its Chinese term")
        if _SEP in zh:
            raise GlossaryError(
                f"{where}: column 'zh' holds one term, found {zh!r} with '|'; "
                f"put each Chinese term on its own line"
            )
        if domain not in DOMAINS:
            raise GlossaryError(
                f"{where}: unknown domain {domain!r}; expected one of {', '.join(DOMAINS)}"
            )
        ja = _split_terms(ja_cell, "ja", where)
        en = _split_terms(en_cell, "en", where)
        if zh in seen:
            raise GlossaryError(
                f"{where}: duplicate zh term {zh!r} (first on line {seen[zh]}); "
                f"merge the two lines into one entry"
            )
        seen[zh] = lineno
        entries.append(Entry(zh=zh, ja=ja, en=en, domain=domain, notes=notes, source=source))
    if not header_seen:
        raise GlossaryError(
            f"glossary file {name}: empty file; expected the header line {'<TAB>'.join(HEADER)!r} "
            f"followed by one entry per line"
        )
    return entries


def _read_path(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise GlossaryError(f"glossary file {path} not found; check the path") from None
    except OSError as exc:
        raise GlossaryError(f"glossary file {path} cannot be read: {exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise GlossaryError(
            f"glossary file {path}, line {line}: not valid UTF-8 ({exc.reason}); save the file as UTF-8"
        ) from None


def _read_builtin() -> str:
    resource = importlib.resources.files("policyidx").joinpath("data", "glossary.tsv")
    try:
        return resource.read_text(encoding="utf-8")
    except FileNotFoundError:  # pragma: no cover - a broken installation
        raise GlossaryError(
            "the bundled glossary policyidx/data/glossary.tsv is missing; reinstall policyidx"
        ) from None


# --------------------------------------------------------------------------- glossary


class Glossary:
    """An ordered collection of :class:`Entry`, unique by ``zh``, with term matching.

    Build one with :meth:`load`.  Constructing from entries directly is allowed; an entry
    whose ``zh`` repeats an earlier one replaces it (keeping the earlier position).

    Parameters
    ----------
    entries : iterable of Entry
        The entries, in the order iteration should return them.
    """

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        by_zh: dict[str, Entry] = {}
        for entry in entries:
            by_zh[entry.zh] = entry
        self._by_zh = by_zh
        self._entries: tuple[Entry, ...] = tuple(by_zh.values())
        # the folded index, one bucket per folded first character, built on first use
        self._filed: dict[str, list[tuple[int, int, str, str]]] | None = None
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- loading

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        extra: Sequence[str | Path] = (),
    ) -> "Glossary":
        """Load the bundled glossary (or ``path``) and apply user files on top.

        Parameters
        ----------
        path : str or Path, optional
            A glossary TSV to use *instead of* the bundled table; ``None`` (the default)
            loads ``policyidx/data/glossary.tsv``.
        extra : sequence of str or Path
            User files in the same format, applied in order: an entry whose ``zh`` is
            already present replaces the earlier entry (the later file wins), new entries
            are appended.  This is how a user adds house terms or corrects a rendering
            without editing the installed package.

        Returns
        -------
        Glossary

        Raises
        ------
        GlossaryError
            If a file is missing, not UTF-8, lacks the header, or has a line with the wrong
            number of columns, an unknown domain, an empty term or a ``zh`` already used
            in the same file.  The message names the file and the line.
        """
        if isinstance(extra, (str, Path)):  # a lone path would be iterated character by character
            extra = (extra,)
        if path is None:
            entries = _parse(_read_builtin(), "policyidx/data/glossary.tsv", "builtin")
        else:
            p = Path(path)
            entries = _parse(_read_path(p), str(p), str(p))
        for item in extra:
            p = Path(item)
            entries.extend(_parse(_read_path(p), str(p), str(p)))
        return cls(entries)

    # ---------------------------------------------------------------- container

    @property
    def entries(self) -> tuple[Entry, ...]:
        """All entries, in file order (overridden entries keep their first position)."""
        return self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    def __contains__(self, zh: object) -> bool:
        return zh in self._by_zh

    def __getitem__(self, zh: str) -> Entry:
        try:
            return self._by_zh[zh]
        except KeyError:
            raise NotFoundError(
                f"no glossary entry with zh term {zh!r}; use Glossary.lookup() to search "
                f"Japanese, English or Traditional forms"
            ) from None

    def __repr__(self) -> str:
        return f"Glossary({len(self)} entries)"

    def to_records(self) -> list[dict[str, Any]]:
        """Return every entry as a JSON-ready dict, in order (see :meth:`Entry.to_record`)."""
        return [e.to_record() for e in self._entries]

    # ---------------------------------------------------------------- matching

    def _get_filed(self) -> dict[str, list[tuple[int, int, str, str]]]:
        # folded first character -> [(position, entry row, lang, rendering as written)]: a
        # rendering's folded form starts with the fold of its first character (folding is
        # character by character), so filing needs one fold of the distinct first characters
        if self._filed is None:
            with self._lock:
                if self._filed is None:
                    raw: dict[str, list[tuple[int, int, str, str]]] = {}
                    pos = 0
                    for row, entry in enumerate(self._entries):
                        for lang in LANGS:
                            for term in entry.terms(lang):
                                if term:
                                    raw.setdefault(term[0], []).append((pos, row, lang, term))
                                    pos += 1
                    filed: dict[str, list[tuple[int, int, str, str]]] = {}
                    for ch, f in zip(raw, fold("".join(raw))):
                        filed.setdefault(f, []).extend(raw[ch])
                    self._filed = filed
        return self._filed

    def _bucket(self, ch: str) -> _Bucket:
        """The folded index for the keys starting with the folded character ``ch``:
        folded rendering -> [(entry row, lang, rendering as written)], and the lengths of
        those keys, longest first.  Built the first time a text holds ``ch``: a query pays
        for the renderings starting with its own characters, not for the whole glossary."""
        got = self._buckets.get(ch)
        if got is not None:
            return got
        filed = self._get_filed()
        with self._lock:
            got = self._buckets.get(ch)
            if got is None:
                items = sorted(filed.get(ch, ()))  # glossary order, as lookups report them
                index: dict[str, list[tuple[int, str, str]]] = {}
                lengths: set[int] = set()
                for (_pos, row, lang, term), key in zip(items, _fold_all([it[3] for it in items])):
                    hits = index.setdefault(key, [])
                    if (row, lang, term) not in hits:
                        hits.append((row, lang, term))
                    lengths.add(len(key))
                got = self._buckets[ch] = (index, tuple(sorted(lengths, reverse=True)))
        return got

    @staticmethod
    def _check_lang(lang: str | None) -> None:
        if lang is not None and lang not in LANGS:
            raise QueryError(
                f"unknown glossary language {lang!r}: expected one of {', '.join(LANGS)} or None for all"
            )

    def lookup(self, term: str, lang: str | None = None) -> list[Entry]:
        """Return the entries having ``term`` as one of their renderings.

        The match is exact on the whole rendering after folding: full-width and
        half-width forms are equal, English is case-insensitive, runs of spaces count as
        one, and Han characters are unified, so ``専利``, ``專利`` and ``专利`` all find the
        entry of 专利.

        Parameters
        ----------
        term : str
            A term in any of the three languages.
        lang : {"zh", "ja", "en"}, optional
            Only compare with renderings of this language; ``None`` compares with all.
            Because of Han unification, ``lookup("専利", "zh")`` still finds 专利.

        Returns
        -------
        list of Entry
            Matching entries in glossary order, each once; empty if none.

        Raises
        ------
        QueryError
            If ``lang`` is not one of :data:`LANGS` or ``None``.
        """
        self._check_lang(lang)
        key = _lookup_key(term)
        if not key:
            return []
        rows: list[int] = []
        for row, term_lang, _ in self._bucket(key[0])[0].get(key, ()):
            if (lang is None or term_lang == lang) and row not in rows:
                rows.append(row)
        return [self._entries[r] for r in sorted(rows)]

    def find_in(self, text: str, lang: str | None = None, *,
                bounds: Container[int] | None = None) -> list[tuple[Entry, str, int, int]]:
        """Find every glossary rendering occurring in ``text``.

        Matches are selected longest first, then leftmost, and never overlap: in
        ``专利开放许可试点`` the entry 专利开放许可试点 wins over 专利开放许可, 开放许可 and 专利.
        Renderings that begin or end with an ASCII letter or digit only match at word
        boundaries (``IP`` does not match inside ``ship``); CJK renderings match anywhere.

        Parameters
        ----------
        text : str
            Any text; offsets refer to it unchanged (folding is length-preserving).
        lang : {"zh", "ja", "en"}, optional
            Only look for renderings of this language; ``None`` looks for all.
        bounds : container of int, optional
            Word boundaries of ``text`` (offsets): a match must start and end on one (a
            Japanese query's words, so that 責任 is no match in 責任者).  ``None``: anywhere.

        Returns
        -------
        list of (Entry, str, int, int)
            ``(entry, rendering, start, end)`` sorted by ``start``; ``rendering`` is the
            form as written in the glossary, ``text[start:end]`` the form in the text.  A
            span that is a rendering of several entries yields one tuple per entry.

        Raises
        ------
        QueryError
            If ``lang`` is not one of :data:`LANGS` or ``None``.
        """
        self._check_lang(lang)
        if not text:
            return []
        folded = fold(text)
        n = len(folded)
        candidates: list[tuple[int, int, list[tuple[int, str]]]] = []
        bucket = self._bucket
        for i, ch in enumerate(folded):
            index, lengths = bucket(ch)
            for length in lengths:
                end = i + length
                if end > n:
                    continue
                hits = index.get(folded[i:end])
                if not hits:
                    continue
                chosen = [(row, term) for row, term_lang, term in hits if lang is None or term_lang == lang]
                if not chosen:
                    continue
                if _is_word_char(folded[i]) and i > 0 and _is_word_char(folded[i - 1]):
                    continue
                if _is_word_char(folded[end - 1]) and end < n and _is_word_char(folded[end]):
                    continue
                if bounds is not None and (i not in bounds or end not in bounds):
                    continue
                candidates.append((i, end, chosen))
        candidates.sort(key=lambda c: (c[0] - c[1], c[0]))
        taken = bytearray(n)
        accepted: list[tuple[int, int, list[tuple[int, str]]]] = []
        for start, end, chosen in candidates:
            if any(taken[start:end]):
                continue
            taken[start:end] = b"\x01" * (end - start)
            accepted.append((start, end, chosen))
        accepted.sort(key=lambda c: c[0])
        out: list[tuple[Entry, str, int, int]] = []
        for start, end, chosen in accepted:
            done: set[int] = set()
            for row, term in sorted(chosen, key=lambda rt: rt[0]):
                if row in done:
                    continue
                done.add(row)
                out.append((self._entries[row], term, start, end))
        return out


@functools.lru_cache(maxsize=8)
def _cached_default(extra: tuple[str, ...], general: bool) -> Glossary:
    if not general:
        return Glossary.load(extra=list(extra))
    vocab = importlib.resources.files("policyidx") / "data" / "vocab.tsv"
    return Glossary.load(extra=[str(vocab), *extra])


def default_glossary(extra: Sequence[str | Path] = (), *, general: bool = True) -> Glossary:
    """The default glossary, loaded once per process: the bundled terminology, the general
    policy vocabulary (``data/vocab.tsv``, domain ``general``) unless ``general`` is false,
    then user files (which extend or override both).

    Search expands queries with the general vocabulary too (``加强`` -> ``強化``); alignment
    and matching use the terminology only (``general=False``): words as common as ``加强``
    anchor a clause to most others, and on the hand-aligned jiedu/measures pairs the
    general vocabulary lowers the precision of :func:`policyidx.match`.
    """
    return _cached_default(tuple(str(e) for e in extra), bool(general))
