"""Work spread over processes: tokenising and encoding a large corpus on every core.

The tokenisers are pure Python and hold the GIL, so threads do not help.  Children are
forked (they inherit the loaded dictionaries) and write their results to files: nothing is
sent back through pipes, so no object is pickled.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import traceback
from array import array
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .errors import PolicyIdxError

__all__ = ["fork_map", "chunks", "tokenize_parallel", "TermLists", "encode_parallel", "default_workers"]


def default_workers() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def fork_map(task: Callable[[int], None], n_tasks: int, workers: int) -> None:
    """Run ``task(i)`` for ``i < n_tasks`` in up to ``workers`` forked children at a time.

    Tasks write their results to files; nothing is sent back through pipes, so no object is
    pickled.  A child that fails prints its traceback and makes the whole map fail.
    """
    if workers <= 1 or not hasattr(os, "fork"):
        for i in range(n_tasks):
            task(i)
        return
    running: dict[int, int] = {}
    failed: list[int] = []
    nxt = 0
    sys.stdout.flush()
    sys.stderr.flush()
    while nxt < n_tasks or running:
        while nxt < n_tasks and len(running) < workers:
            pid = os.fork()
            if pid == 0:  # child
                code = 0
                try:
                    task(nxt)
                except BaseException:
                    traceback.print_exc()
                    code = 1
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            running[pid] = nxt
            nxt += 1
        pid, status = os.wait()
        i = running.pop(pid)
        if os.waitstatus_to_exitcode(status) != 0:
            failed.append(i)
    if failed:
        raise PolicyIdxError(f"worker processes failed on tasks {sorted(failed)} (tracebacks above)")


def chunks(n: int, parts: int) -> list[tuple[int, int]]:
    step = max(1, -(-n // max(1, parts)))
    return [(a, min(n, a + step)) for a in range(0, n, step)]


def tokenize_parallel(
    texts: Sequence[str], langs: Sequence[str], workers: int = 2, tmp: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """:func:`policyidx.analysis.analyze` of every text, in ``workers`` processes.

    Parameters
    ----------
    texts, langs : sequence of str
        Texts and their languages.
    workers : int
        Processes (the tokenisers are pure Python and hold the GIL, so threads do not help).
    tmp : path, optional
        Scratch directory for the workers' outputs (a new temporary one by default).

    Returns
    -------
    doc_ptr : numpy.ndarray of int64
        ``len(texts) + 1`` offsets into ``term_ids``.
    term_ids : numpy.ndarray of int32
        Term ids, text after text, in :func:`~policyidx.analysis.analyze` order.
    vocab : list of str
        Terms by id, in order of first occurrence.
    """
    from .text.analysis import analyze

    if len(texts) != len(langs):
        raise PolicyIdxError(f"got {len(texts)} texts but {len(langs)} languages; pass one language per text")
    # Warm the segmenters before forking so that every child inherits loaded dictionaries.
    analyze("知识产权", "zh")
    analyze("知的財産権", "ja")
    parts_ = chunks(len(texts), workers * 4)
    own_tmp = tmp is None
    scratch = Path(tempfile.mkdtemp(prefix="policyidx-tok-") if own_tmp else tmp)
    try:

        def task(i: int) -> None:
            a, b = parts_[i]
            vocab: dict[str, int] = {}
            setdefault = vocab.setdefault
            ids = array("i")
            lens = array("q")
            for t, lang in zip(texts[a:b], langs[a:b]):
                terms = analyze(t, lang)
                ids.extend([setdefault(x, len(vocab)) for x in terms])
                lens.append(len(terms))
            np.save(scratch / f"{i}.ids.npy", np.frombuffer(ids, dtype=np.int32), allow_pickle=False)
            np.save(scratch / f"{i}.len.npy", np.frombuffer(lens, dtype=np.int64), allow_pickle=False)
            tmp_json = scratch / f"{i}.vocab.json.tmp"
            tmp_json.write_text(json.dumps(list(vocab), ensure_ascii=False), encoding="utf-8")
            os.replace(tmp_json, scratch / f"{i}.vocab.json")

        fork_map(task, len(parts_), workers)
        vocab_ids: dict[str, int] = {}
        parts, lens = [], []
        for i in range(len(parts_)):
            local = json.loads((scratch / f"{i}.vocab.json").read_text(encoding="utf-8"))
            remap = np.fromiter((vocab_ids.setdefault(t, len(vocab_ids)) for t in local), np.int32, len(local))
            parts.append(remap[np.load(scratch / f"{i}.ids.npy", allow_pickle=False)])
            lens.append(np.load(scratch / f"{i}.len.npy", allow_pickle=False))
    finally:
        if own_tmp:
            shutil.rmtree(scratch, ignore_errors=True)
    doc_ptr = np.zeros(len(texts) + 1, dtype=np.int64)
    if lens:
        np.cumsum(np.concatenate(lens), out=doc_ptr[1:])
    term_ids = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    return doc_ptr, term_ids, list(vocab_ids)


class TermLists(Sequence):
    """Read-only view of CSR term ids as one list per document (strings or ids), built on access."""

    def __init__(self, doc_ptr: np.ndarray, term_ids: np.ndarray, vocab: list[str] | None, rows: np.ndarray | None = None):
        self.doc_ptr, self.term_ids, self.vocab = doc_ptr, term_ids, vocab
        self.rows = rows

    def __len__(self) -> int:
        return len(self.doc_ptr) - 1 if self.rows is None else len(self.rows)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            rows = np.arange(len(self))[i] if self.rows is None else self.rows[i]
            return TermLists(self.doc_ptr, self.term_ids, self.vocab, rows)
        r = int(i if self.rows is None else self.rows[i])
        ids = self.term_ids[self.doc_ptr[r] : self.doc_ptr[r + 1]].tolist()
        if self.vocab is None:
            return ids
        vocab = self.vocab
        return [vocab[t] for t in ids]

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]


def encode_parallel(encoder: Any, texts: Sequence[str], terms: TermLists, out_path: Path, workers: int) -> np.ndarray:
    """Encode every text in forked workers straight into a ``.npy`` file; return it memory-mapped."""
    out = np.lib.format.open_memmap(out_path, mode="w+", dtype=np.float32, shape=(len(texts), encoder.dim))
    del out
    parts_ = chunks(len(texts), workers * 4)

    def task(i: int) -> None:
        a, b = parts_[i]
        mm = np.load(out_path, mmap_mode="r+", allow_pickle=False)
        step = 20_000
        for s in range(a, b, step):
            e = min(b, s + step)
            mm[s:e] = encoder.encode(texts[s:e], batch_size=512, terms=terms[s:e])
        mm.flush()

    fork_map(task, len(parts_), workers)
    return np.load(out_path, mmap_mode="r", allow_pickle=False)
