"""A compiled copy of an analyzer's segmenter state, stored with an index.

Setting up jieba costs most of a fresh process's first query: reading its dictionary
(about half a million words and prefixes) and adding the several thousand domain terms,
each with a frequency computed by segmenting it.  An index stores the result once, at
build time, as arrays and JSON (no pickle)::

    analyzer/jieba.words.bin, jieba.offsets.npy   the dictionary's keys, UTF-8, in one blob
    analyzer/jieba.freq.npy                       their frequencies (int32; 0 = a prefix only)
    analyzer/jieba.slots.npy                      an open-addressing hash table: key -> position
    analyzer/lexicon.json                         total, the domain terms and their parts

:class:`FrozenFreq` reads it memory-mapped as the read-only mapping jieba's tokenizer
looks words up in, so a process that only answers queries never loads jieba's dictionary
and segments exactly as the analyzer that built the index did.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Iterator, Mapping

import numpy as np

from .._io import atomic_write_text
from ..errors import IndexError_

__all__ = ["FrozenFreq", "save_jieba", "load_lexicon_state", "SEGCACHE_FORMAT"]

SEGCACHE_FORMAT = 1
_EMPTY = -1


def _slot_count(n: int) -> int:
    size = 1
    while size < 2 * n + 1:  # load factor <= 1/2: short probe runs
        size <<= 1
    return size


def save_jieba(directory: Path, freq: Mapping[str, int], total: int, terms: list[str],
               parts: Mapping[str, tuple[str, ...]]) -> None:
    """Write a jieba dictionary state (``FREQ``, ``total``) and a lexicon's terms and parts."""
    directory.mkdir(parents=True, exist_ok=True)
    keys = [k.encode("utf-8") for k in freq]
    values = np.fromiter((int(v) for v in freq.values()), dtype=np.int64, count=len(keys))
    if len(values) and (values.max() >= 2**31 or values.min() < 0):
        raise IndexError_("a jieba word frequency does not fit the segmenter cache (int32)")
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    if keys:
        offsets[1:] = np.cumsum([len(k) for k in keys])
    if offsets[-1] < 2**31:
        offsets = offsets.astype(np.int32)
    size = _slot_count(len(keys))
    mask = size - 1
    slots = np.full(size, _EMPTY, dtype=np.int32)
    table = slots.tolist()
    for i, k in enumerate(keys):
        s = zlib.crc32(k) & mask
        while table[s] != _EMPTY:
            s = (s + 1) & mask
        table[s] = i
    slots = np.asarray(table, dtype=np.int32)
    (directory / "jieba.words.bin").write_bytes(b"".join(keys))
    np.save(directory / "jieba.offsets.npy", offsets, allow_pickle=False)
    np.save(directory / "jieba.freq.npy", values.astype(np.int32), allow_pickle=False)
    np.save(directory / "jieba.slots.npy", slots, allow_pickle=False)
    state = {"format": "policyidx-segcache", "version": SEGCACHE_FORMAT, "total": int(total), "words": len(keys),
             "terms": sorted(terms), "parts": {t: list(p) for t, p in sorted(parts.items())}}
    atomic_write_text(directory / "lexicon.json", json.dumps(state, ensure_ascii=False))


def load_lexicon_state(directory: Path) -> dict:
    """The ``lexicon.json`` of a segmenter cache (checked)."""
    try:
        state = json.loads((directory / "lexicon.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexError_(f"the segmenter cache in {directory} is unreadable ({exc}); rebuild the index") from exc
    if state.get("format") != "policyidx-segcache" or state.get("version") != SEGCACHE_FORMAT:
        raise IndexError_(f"the segmenter cache in {directory} has another format; rebuild the index")
    return state


class FrozenFreq(Mapping[str, int]):
    """jieba's word -> frequency table, read-only and memory-mapped from a segmenter cache."""

    def __init__(self, directory: Path, size: int):
        # plain ndarrays over the mappings (np.asarray): np.memmap's subclass hooks on every
        # element and slice cost more than the lookups themselves
        self._data = np.asarray(np.memmap(directory / "jieba.words.bin", dtype=np.uint8, mode="r")) \
            if (directory / "jieba.words.bin").stat().st_size else np.zeros(0, np.uint8)
        self._offsets = np.asarray(np.load(directory / "jieba.offsets.npy", mmap_mode="r", allow_pickle=False))
        self._freq = np.asarray(np.load(directory / "jieba.freq.npy", mmap_mode="r", allow_pickle=False))
        self._slots = np.asarray(np.load(directory / "jieba.slots.npy", mmap_mode="r", allow_pickle=False))
        if len(self._freq) != size or len(self._offsets) != size + 1:
            raise IndexError_(f"the segmenter cache in {directory} is inconsistent; rebuild the index")
        self._mask = len(self._slots) - 1
        self._memo: dict[str, int] = {}  # word -> position (-1: absent), filled as words are looked up

    def _find(self, key: str) -> int:
        pos = self._memo.get(key)
        if pos is not None:
            return pos
        raw = key.encode("utf-8")
        s = zlib.crc32(raw) & self._mask
        slots, offsets, data = self._slots, self._offsets, self._data
        while True:
            i = int(slots[s])
            if i == _EMPTY:
                pos = -1
                break
            a, b = int(offsets[i]), int(offsets[i + 1])
            if b - a == len(raw) and data[a:b].tobytes() == raw:
                pos = i
                break
            s = (s + 1) & self._mask
        if len(self._memo) < 1_000_000:
            self._memo[key] = pos
        return pos

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._find(key) >= 0

    def __getitem__(self, key: str) -> int:
        pos = self._find(key)
        if pos < 0:
            raise KeyError(key)
        return int(self._freq[pos])

    def get(self, key: str, default: int | None = None) -> int | None:  # type: ignore[override]
        pos = self._find(key)
        return int(self._freq[pos]) if pos >= 0 else default

    def __len__(self) -> int:
        return len(self._freq)

    def __iter__(self) -> Iterator[str]:
        offsets, data = self._offsets, self._data
        for i in range(len(self._freq)):
            yield data[int(offsets[i]) : int(offsets[i + 1])].tobytes().decode("utf-8")

    def __setitem__(self, key: str, value: int) -> None:
        raise TypeError("the segmenter cache of an index is read-only: rebuild the index to change its terms")
