"""Highlights and snippets of a hit: the spans of a clause that matched the query.

Both need the clause's tokens (:func:`policyidx.text.analysis.tokenize`: normalised form and
offsets).  Segmenting every hit again was most of a search's time, so an index stores them
at build time (:func:`write_tokens`, read back by :class:`TokenStore`): highlighting a hit is
then a lookup.  Without stored tokens (an index built before, or a sharded one) they are
segmented again, with the same result.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from array import array
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..text.analysis import tokenize
from ..text.han import unify

if TYPE_CHECKING:  # pragma: no cover
    from ..retrieval.expand import Expansion

__all__ = ["highlight", "make_snippet", "marked", "clause_tokens", "write_tokens", "TokenStore", "RowTokens", "TOKEN_FILES"]

#: A clause's tokens as (normalised form, start, end), offsets into the clause text.
Tokens = Sequence[tuple[str, int, int]]
#: Files :func:`write_tokens` writes into a directory (the index's ``rows``).
TOKEN_FILES = ("tokens.ptr.npy", "tokens.start.npy", "tokens.end.npy", "tokens.norm.npy", "tokens.norms.json")


def clause_tokens(text: str, lang: str) -> list[tuple[str, int, int]]:
    """The tokens of a clause as highlighting uses them: (normalised form, start, end)."""
    return [(t.norm, t.start, t.end) for t in tokenize(text, lang)]


def highlight(text: str, lang: str, exp: Expansion, tokens: Tokens | None = None
              ) -> tuple[list[tuple[int, int]], list[str]]:
    """Spans of ``text`` that match the query's word terms (or shared Han bigrams).

    ``tokens``: the clause's tokens (:func:`clause_tokens`, or :meth:`TokenStore.tokens` of an
    index); segmented here when not given.  Returns the merged spans and the glossary
    renderings whose terms occur in the text.
    """
    words = {t for t in exp.terms if not t.startswith("#")}
    spans: list[tuple[int, int]] = []
    toks = clause_tokens(text, lang) if tokens is None else tokens
    present: set[str] = set()
    long_words = [w for w in words if len(w) >= 2]
    long_set = set(long_words)
    lengths = sorted({len(w) for w in long_words})
    if isinstance(toks, RowTokens):
        _match_stored(toks, words, long_words, long_set, lengths, spans, present)
    else:
        for norm, start, end in toks:
            if norm in words:
                spans.append((start, end))
                present.add(norm)
            elif len(norm) > 2 and long_words and len(norm) == end - start and _holds_any(norm, long_set, lengths):
                # a compound token (専利担保融資) that contains a query word (担保融資)
                for w in long_words:
                    at = norm.find(w)
                    if at >= 0:
                        spans.append((start + at, start + at + len(w)))
                        present.add(w)
    bigrams = {t[1:] for t in exp.terms if t.startswith("#")}
    u = unify(text)
    if bigrams and not spans:
        for i in range(len(u) - 1):
            if u[i : i + 2] in bigrams:
                spans.append((i, i + 2))
    # a rendering matched when it stands in the text (Han-unified) or all its words do
    u_text = u.lower()
    matched = [r for r, ts in exp.rendering_terms.items()
               if _unified_lower(r) in u_text
               or (words_of := [t for t in ts if not t.startswith("#")]) and all(t in present for t in words_of)]
    return _merge(spans), matched


def _match_stored(toks: "RowTokens", words: set[str], long_words: list[str], long_set: set[str],
                  lengths: list[int], spans: list[tuple[int, int]], present: set[str]) -> None:
    """The token loop of :func:`highlight` on stored tokens, by ids: the tokens that are query
    words are found with one array comparison, and only tokens longer than two characters
    are looked at one by one for query words inside them (once per distinct form)."""
    store = toks.store
    ids, starts, ends = toks.ids, toks.starts, toks.ends
    index = store.form_index
    wanted = np.array(sorted(index[w] for w in words if w in index), dtype=np.int64)
    if len(wanted) and len(ids):
        pos = np.searchsorted(wanted, ids)
        pos[pos == len(wanted)] = 0
        exact = wanted[pos] == ids
    else:
        exact = np.zeros(len(ids), dtype=bool)
    if exact.any():
        spans.extend(zip(starts[exact].tolist(), ends[exact].tolist()))
        forms = store.forms
        present.update(forms[i] for i in set(ids[exact].tolist()))
    if not long_words:
        return
    flen = store.form_len[ids]
    cand = np.flatnonzero((flen > 2) & (ends - starts == flen) & ~exact)
    if not len(cand):
        return
    forms = store.forms
    # the words found inside each form, kept for the next hits of the same query
    key = tuple(long_words)
    cached = store._inside
    if cached[0] != key:
        cached = store._inside = (key, {})
    found: dict[int, list[tuple[int, str]]] = cached[1]
    for i, f, s in zip(cand.tolist(), ids[cand].tolist(), starts[cand].tolist()):
        hits = found.get(f)
        if hits is None:
            norm = forms[f]
            hits = found[f] = [(at, w) for w in long_words if (at := norm.find(w)) >= 0] \
                if _holds_any(norm, long_set, lengths) else []
        for at, w in hits:
            spans.append((s + at, s + at + len(w)))
            present.add(w)


def _holds_any(norm: str, words: set[str], lengths: list[int]) -> bool:
    """Whether some word of ``words`` (of the ``lengths``, ascending) occurs in ``norm``, by
    looking up its substrings of those lengths (a token is short) rather than searching it
    for every query word."""
    n = len(norm)
    for m in lengths:
        if m > n:
            return False
        for i in range(n - m + 1):
            if norm[i : i + m] in words:
                return True
    return False


@lru_cache(maxsize=4096)
def _unified_lower(s: str) -> str:
    return unify(s).lower()


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


_BREAKS = set("。．.！!？?；;，,、：:\n 　）)」』】")


def make_snippet(text: str, spans: list[tuple[int, int]], width: int = 120, lang: str | None = None,
                 tokens: Tokens | None = None) -> tuple[str, int]:
    """A window of about ``width`` characters of ``text`` around the densest highlights,
    starting and ending on word boundaries (after punctuation when one is near, else between
    two of the analyser's tokens when ``lang`` or ``tokens`` is given), never inside a word.

    Returns the snippet and its offset in ``text``.
    """
    if len(text) <= width:
        return text, 0
    best = 0
    if spans:
        best_n = -1
        for s, _ in spans:
            n = sum(1 for a, b in spans if s <= a and b <= s + width)
            if n > best_n:
                best, best_n = s, n
    start = max(0, min(best - width // 4, len(text) - width))
    end = min(len(text), start + width)
    cuts = _word_cuts(text, lang, tokens)
    start = _snap(text, start, cuts, back=True, limit=width // 4, floor=0)
    end = _snap(text, end, cuts, back=False, limit=width // 4, floor=start)
    if spans and best >= start:
        # keep the first highlight of the window whole
        for a, b in spans:
            if a >= best and b > end and a < end:
                end = _snap(text, b, cuts, back=False, limit=width // 4, floor=start)
                break
    return text[start:end], start


def _word_cuts(text: str, lang: str | None, tokens: Tokens | None = None) -> set[int] | None:
    """Offsets between two words of ``text`` (``None``: any offset between non-letters)."""
    if tokens is None:
        if not lang:
            return None
        try:
            tokens = clause_tokens(text, lang)
        except Exception:  # noqa: BLE001 - a snippet never fails a search
            return None
    if isinstance(tokens, RowTokens):
        cuts = set(tokens.starts.tolist())
        cuts.update(tokens.ends.tolist())
        cuts.update((0, len(text)))
        return cuts
    cuts = {0, len(text)}
    for _, start, end in tokens:
        cuts.add(start)
        cuts.add(end)
    return cuts


def _is_cut(text: str, i: int, cuts: set[int] | None) -> bool:
    if i <= 0 or i >= len(text):
        return True
    if text[i - 1] in _BREAKS or text[i] in _BREAKS:
        return True
    if cuts is not None:
        return i in cuts
    # without a tokeniser: between two letters of a space-separated script is inside a word
    return not (text[i - 1].isalnum() and text[i].isalnum() and text[i - 1].isascii() and text[i].isascii())


def _snap(text: str, i: int, cuts: set[int] | None, *, back: bool, limit: int, floor: int) -> int:
    """The nearest boundary to ``i`` (after punctuation first, then a word cut), moving
    outward (``back``: towards the start) at most ``limit`` characters."""
    if i <= 0 or i >= len(text):
        return max(0, min(i, len(text)))
    rng = range(i, max(floor, i - limit) - 1, -1) if back else range(i, min(len(text), i + limit) + 1)
    for j in rng:  # a sentence or phrase break
        if 0 < j < len(text) and text[j - 1] in _BREAKS:
            return j
        if j in (0, len(text)):
            return j
    for j in rng:  # a word boundary
        if _is_cut(text, j, cuts):
            return j
    return i


def marked(text: str, spans: list[tuple[int, int]], offset: int = 0, *, start: str = "【", end: str = "】") -> str:
    """``text`` with the highlight ``spans`` (offsets into a text of which ``text`` starts at
    ``offset``, as a hit's snippet does) wrapped in ``start`` and ``end``; line breaks become
    spaces."""
    out, pos = [], 0
    for a, b in spans:
        a, b = a - offset, b - offset
        if b <= 0 or a >= len(text):
            continue
        a, b = max(a, 0), min(b, len(text))
        out.append(text[pos:a])
        out.append(start + text[a:b] + end)
        pos = b
    out.append(text[pos:])
    return "".join(out).replace("\n", " ")


# ----------------------------------------------------------------------------- stored tokens


def write_tokens(directory: str | os.PathLike[str], texts: Sequence[str], langs: Sequence[str], *,
                 workers: int = 1) -> int:
    """Segment every text once (:func:`clause_tokens`) and store the tokens in ``directory``
    (:data:`TOKEN_FILES`: per-row offsets into flat int32 arrays of starts, ends and ids of
    normalised forms, and the forms as a JSON list), for :class:`TokenStore`.

    ``workers`` > 1 segments in that many forked processes (the segmenters hold the GIL).
    Must run with the analyzer state the clauses were indexed with (as the index build does).
    Returns the number of tokens.
    """
    from ..parallel import chunks, fork_map

    if len(texts) != len(langs):
        raise ValueError(f"got {len(texts)} texts but {len(langs)} languages")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    clause_tokens("知识产权", "zh")  # load the segmenters before forking
    clause_tokens("知的財産権", "ja")
    parts = chunks(len(texts), max(1, workers) * 4) if workers > 1 else [(0, len(texts))]
    scratch = Path(tempfile.mkdtemp(prefix="policyidx-spans-", dir=out))
    try:

        def task(i: int) -> None:
            a, b = parts[i]
            forms: dict[str, int] = {}
            setdefault = forms.setdefault
            starts, ends, ids, lens = array("i"), array("i"), array("i"), array("q")
            for text, lang in zip(texts[a:b], langs[a:b]):
                toks = clause_tokens(text, lang)
                lens.append(len(toks))
                for norm, s, e in toks:
                    ids.append(setdefault(norm, len(forms)))
                    starts.append(s)
                    ends.append(e)
            for name, arr, dt in (("start", starts, np.int32), ("end", ends, np.int32), ("norm", ids, np.int32),
                                  ("len", lens, np.int64)):
                np.save(scratch / f"{i}.{name}.npy", np.frombuffer(arr, dtype=dt), allow_pickle=False)
            tmp = scratch / f"{i}.forms.json.tmp"
            tmp.write_text(json.dumps(list(forms), ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, scratch / f"{i}.forms.json")

        fork_map(task, len(parts), workers if len(parts) > 1 else 1)
        forms_ids: dict[str, int] = {}
        starts_l, ends_l, ids_l, lens_l = [], [], [], []
        for i in range(len(parts)):
            local = json.loads((scratch / f"{i}.forms.json").read_text(encoding="utf-8"))
            remap = np.fromiter((forms_ids.setdefault(t, len(forms_ids)) for t in local), np.int32, len(local))
            ids_l.append(remap[np.load(scratch / f"{i}.norm.npy", allow_pickle=False)])
            starts_l.append(np.load(scratch / f"{i}.start.npy", allow_pickle=False))
            ends_l.append(np.load(scratch / f"{i}.end.npy", allow_pickle=False))
            lens_l.append(np.load(scratch / f"{i}.len.npy", allow_pickle=False))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ptr = np.zeros(len(texts) + 1, dtype=np.int64)
    if lens_l:
        np.cumsum(np.concatenate(lens_l), out=ptr[1:])

    def flat(parts_: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts_).astype(np.int32, copy=False) if parts_ else np.zeros(0, np.int32)

    np.save(out / "tokens.ptr.npy", ptr, allow_pickle=False)
    np.save(out / "tokens.start.npy", flat(starts_l), allow_pickle=False)
    np.save(out / "tokens.end.npy", flat(ends_l), allow_pickle=False)
    np.save(out / "tokens.norm.npy", flat(ids_l), allow_pickle=False)
    (out / "tokens.norms.json").write_text(json.dumps(list(forms_ids), ensure_ascii=False), encoding="utf-8")
    return int(ptr[-1])


class TokenStore:
    """The tokens :func:`write_tokens` stored for the rows of an index, memory-mapped; the list
    of normalised forms is read on first use."""

    def __init__(self, directory: str | os.PathLike[str], n_rows: int) -> None:
        d = Path(directory)
        self.directory = d

        def load(name: str) -> np.ndarray:
            arr = np.load(d / name, mmap_mode="r", allow_pickle=False)
            if arr.ndim != 1 or arr.dtype.kind != "i":
                raise ValueError(f"{d / name} holds {arr.dtype} {arr.shape}, not a 1-d integer array")
            # a plain view: slicing an np.memmap costs far more than reading a clause's tokens
            return arr.view(np.ndarray)

        self.ptr = load("tokens.ptr.npy")
        self.start = load("tokens.start.npy")
        self.end = load("tokens.end.npy")
        self.norm = load("tokens.norm.npy")
        total = int(self.ptr[-1]) if len(self.ptr) else -1
        if self.ptr.shape != (n_rows + 1,) or int(self.ptr[0]) != 0 or \
                not (len(self.start) == len(self.end) == len(self.norm) == total):
            raise ValueError(f"token arrays in {d} do not fit together or not {n_rows} rows")
        self._forms: list[str] | None = None
        # (query words, form id -> [(offset, word)] of the words inside the form), see highlight
        self._inside: tuple[tuple[str, ...], dict[int, list[tuple[int, str]]]] = ((), {})

    @classmethod
    def open(cls, directory: str | os.PathLike[str], n_rows: int) -> "TokenStore | None":
        """The stored tokens of ``directory``, or None where there are none (or they are damaged:
        highlighting then segments the hits again)."""
        d = Path(directory)
        if not all((d / f).is_file() for f in TOKEN_FILES):
            return None
        try:
            return cls(d, n_rows)
        except (OSError, ValueError):
            return None

    @property
    def forms(self) -> list[str]:
        if self._forms is None:
            self._forms = json.loads((self.directory / "tokens.norms.json").read_text(encoding="utf-8"))
        return self._forms

    @cached_property
    def form_index(self) -> dict[str, int]:
        """Normalised form -> id."""
        return {f: i for i, f in enumerate(self.forms)}

    @cached_property
    def form_len(self) -> np.ndarray:
        """The length of each normalised form."""
        return np.fromiter((len(f) for f in self.forms), dtype=np.int32, count=len(self.forms))

    def tokens(self, row: int) -> "RowTokens | None":
        """Row ``row``'s tokens, iterable as :func:`clause_tokens` gives them (None if they look
        damaged)."""
        a, b = int(self.ptr[row]), int(self.ptr[row + 1])
        ids = self.norm[a:b]
        if b > a and (int(ids.min()) < 0 or int(ids.max()) >= len(self.forms)):
            return None
        return RowTokens(self, ids, self.start[a:b], self.end[a:b])


class RowTokens:
    """One row's stored tokens: arrays of form ids, starts and ends; iterating gives
    (normalised form, start, end) tuples as :func:`clause_tokens` does."""

    __slots__ = ("store", "ids", "starts", "ends")

    def __init__(self, store: TokenStore, ids: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        self.store, self.ids, self.starts, self.ends = store, ids, starts, ends

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self):  # type: ignore[no-untyped-def]
        forms = self.store.forms
        return zip([forms[i] for i in self.ids.tolist()], self.starts.tolist(), self.ends.tolist())

    def __eq__(self, other: object) -> bool:
        try:
            return list(self) == list(other)  # type: ignore[call-overload]
        except TypeError:
            return NotImplemented

    __hash__ = None  # type: ignore[assignment]
