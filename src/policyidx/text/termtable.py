"""A term dictionary stored as arrays: opened by memory-mapping, nothing built per process.

An index's vocabulary maps each term to its id (its position).  Kept as a JSON list, every
process that opens the index decodes the whole list and builds a ``dict`` from it before the
first query can be answered: on a corpus of 300k clauses that is a quarter of a million terms
and most of the time of a first search.  :class:`TermTable` stores the same mapping as three
arrays written at build time:

* ``<name>.terms.npy``: the UTF-8 bytes of all terms, concatenated in id order (``uint8``);
* ``<name>.offsets.npy``: ``n + 1`` offsets into them (``int64``): term ``i`` is
  ``terms[offsets[i]:offsets[i + 1]]``;
* ``<name>.slots.npy``: an open-addressing hash table (``int32``, a power of two at least
  twice ``n``, ``-1`` where empty) keyed by CRC-32 of a term's bytes, probed linearly.

Opening maps the files; a lookup hashes the key and compares the bytes of the one or two
terms it probes, so its cost does not depend on the size of the vocabulary and nothing is
read that the lookups do not touch.  A table behaves as a read-only ``Mapping[str, int]``.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np

__all__ = ["TermTable", "has_table"]

_SUFFIXES = ("terms", "offsets", "slots")
#: Lone surrogates can come out of mis-decoded text; they are stored, not refused.
_ERRORS = "surrogatepass"
#: Lookups a table remembers (term -> id or None): a process answering many queries asks for
#: the same words again (a query's dictionary candidates are checked against the index's
#: vocabulary, a few thousand per English query); beyond this many, lookups are not kept.
_MEMO_MAX = 1 << 16
_MISS = object()


def _encode(term: str) -> bytes:
    return term.encode("utf-8", _ERRORS)


def _paths(directory: Path, name: str) -> dict[str, Path]:
    return {s: directory / f"{name}.{s}.npy" for s in _SUFFIXES}


def has_table(directory: str | os.PathLike[str], name: str) -> bool:
    """Whether ``directory`` holds the files of a table saved under ``name``."""
    return all(p.is_file() for p in _paths(Path(directory), name).values())


class TermTable(Mapping[str, int]):
    """A read-only ``str -> int`` mapping (term to id) over three arrays.

    Build one with :meth:`from_terms`, write it with :meth:`save`, reopen it with
    :meth:`load`.  Ids are positions in the term sequence it was built from; :meth:`term`
    goes back from an id to its term.
    """

    def __init__(self, blob: np.ndarray, offsets: np.ndarray, slots: np.ndarray) -> None:
        n_slots = int(slots.shape[0])
        if (blob.ndim != 1 or offsets.ndim != 1 or slots.ndim != 1 or offsets.shape[0] < 1
                or n_slots < 1 or n_slots & (n_slots - 1)
                or int(offsets[0]) != 0 or int(offsets[-1]) != blob.shape[0]
                or n_slots < offsets.shape[0] - 1):
            raise ValueError(
                f"inconsistent term table: {blob.shape[0]} bytes, {offsets.shape[0]} offsets "
                f"(first {int(offsets[0]) if offsets.size else None}, last "
                f"{int(offsets[-1]) if offsets.size else None}), {n_slots} slots"
            )
        self._blob = blob
        self._bytes = memoryview(blob).cast("B") if blob.flags.c_contiguous else memoryview(blob.tobytes())
        self._offsets = offsets
        self._slots = slots
        self._mask = n_slots - 1
        self._n = int(offsets.shape[0]) - 1
        self._memo: dict[str, int | None] = {}

    # ------------------------------------------------------------------ build
    @classmethod
    def from_terms(cls, terms: Sequence[str]) -> "TermTable":
        """The table of ``terms`` (ids are their positions).

        Raises
        ------
        ValueError
            If a term occurs twice (two ids for one key).
        """
        n = len(terms)
        if len(set(terms)) != n:
            raise ValueError("a term table needs distinct terms; the sequence repeats one")
        encoded = [_encode(t) for t in terms]
        lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=n)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        blob = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
        size = 8
        while size < 2 * n:
            size <<= 1
        mask = size - 1
        slots = np.full(size, -1, dtype=np.int32)
        # linear probing, placed in rounds: every pending term tries its current slot; of the
        # terms that try one free slot the lowest id takes it and the others move one on.  A
        # term only moves past occupied slots, which is what a probing lookup relies on.
        pending = np.arange(n, dtype=np.int64)
        pos = np.fromiter((zlib.crc32(b) for b in encoded), dtype=np.int64, count=n) & mask
        while pending.size:
            free = np.flatnonzero(slots[pos] == -1)
            taken, first = np.unique(pos[free], return_index=True)
            winners = free[first]
            slots[taken] = pending[winners]
            keep = np.ones(pending.size, dtype=bool)
            keep[winners] = False
            pending = pending[keep]
            pos = (pos[keep] + 1) & mask
        return cls(blob, offsets, slots)

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | os.PathLike[str], name: str) -> None:
        """Write the three arrays as ``<name>.{terms,offsets,slots}.npy`` in ``directory``
        (an existing directory, normally the temporary one of an atomic save)."""
        paths = _paths(Path(directory), name)
        np.save(paths["terms"], np.ascontiguousarray(self._blob, dtype=np.uint8), allow_pickle=False)
        np.save(paths["offsets"], np.ascontiguousarray(self._offsets, dtype=np.int64), allow_pickle=False)
        np.save(paths["slots"], np.ascontiguousarray(self._slots, dtype=np.int32), allow_pickle=False)

    @classmethod
    def load(cls, directory: str | os.PathLike[str], name: str, mmap: bool = True) -> "TermTable":
        """Open a table written by :meth:`save` (memory-mapped unless ``mmap`` is false).

        Raises
        ------
        ValueError
            If a file is missing, not an array of the expected type, or the arrays disagree;
            the message names the file.
        """
        arrays: dict[str, np.ndarray] = {}
        want = {"terms": np.uint8, "offsets": np.int64, "slots": np.int32}
        for suffix, path in _paths(Path(directory), name).items():
            try:
                arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
            except (OSError, ValueError, EOFError) as exc:
                raise ValueError(f"{path}: not a readable array ({exc})") from exc
            if arr.ndim != 1 or arr.dtype != want[suffix]:
                raise ValueError(f"{path}: holds {arr.dtype} {arr.shape}, expected a 1-d {np.dtype(want[suffix])} array")
            if isinstance(arr, np.memmap):
                arr = arr.view(np.ndarray)  # plain view: no per-slice memmap bookkeeping
            arrays[suffix] = arr
        try:
            return cls(arrays["terms"], arrays["offsets"], arrays["slots"])
        except ValueError as exc:
            raise ValueError(f"{Path(directory) / name}.*.npy: {exc}") from exc

    # ------------------------------------------------------------------ mapping
    def get(self, key: object, default: int | None = None) -> int | None:  # type: ignore[override]
        """The id of ``key``, or ``default`` when it is not a term of the table."""
        if not isinstance(key, str):
            return default
        memo = self._memo
        got = memo.get(key, _MISS)
        if got is _MISS:
            got = self._probe(key)
            if len(memo) < _MEMO_MAX:
                memo[key] = got
        return default if got is None else got  # type: ignore[return-value]

    def _probe(self, key: str) -> int | None:
        """The id of ``key`` found in the hash table, ``None`` if it is not a term."""
        b = _encode(key)
        i = zlib.crc32(b) & self._mask
        slots, offsets, data = self._slots, self._offsets, self._bytes
        while True:
            j = int(slots[i])
            if j < 0:
                return None
            if data[int(offsets[j]) : int(offsets[j + 1])] == b:
                return j
            i = (i + 1) & self._mask

    def __getitem__(self, key: str) -> int:
        j = self.get(key)
        if j is None:
            raise KeyError(key)
        return j

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[str]:
        for i in range(self._n):
            yield self.term(i)

    def term(self, i: int) -> str:
        """The term whose id is ``i``."""
        if not 0 <= i < self._n:
            raise IndexError(f"term id {i} outside [0, {self._n})")
        return bytes(self._bytes[int(self._offsets[i]) : int(self._offsets[i + 1])]).decode("utf-8", _ERRORS)

    def terms(self) -> list[str]:
        """All terms in id order (decodes the whole table)."""
        data, offsets = bytes(self._bytes), self._offsets.tolist()
        return [data[a:b].decode("utf-8", _ERRORS) for a, b in zip(offsets[:-1], offsets[1:])]

    def __repr__(self) -> str:
        return f"TermTable({self._n} terms, {self._mask + 1} slots)"
