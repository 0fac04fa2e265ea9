"""The alignment store of an index: original <-> translation alignments kept as JSON files
under ``alignments/``, each with the fingerprints of the two documents it was made from.

Alignments are written when the index is built (:meth:`AlignmentStore.store_all`) or when
asked to (:meth:`AlignmentStore.put`); reading an index never writes into it.

Every file carries its own checksum, as a last line after the JSON text::

    {"src": ..., "alignment": {...}}
    policyidx-crc32 1a2b3c4d size 81234

(the CRC32 and size of the JSON text), and is written atomically and flushed to the disk.
A file stored with the index is also listed in the snapshot's manifest; one stored on
request later is not, and its own checksum is what protects it.  Both are verified before
the file is read; a damaged file is a :class:`~policyidx.errors.CorruptIndexError` naming it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

from .._io import atomic_write_bytes
from ..corpus import Corpus
from ..errors import CorruptIndexError
from .store import _crc, json_object

_FOOTER = re.compile(rb"policyidx-crc32 ([0-9a-f]{8}) size (\d+)\n?")

__all__ = ["AlignmentStore", "reverse", "seal_bytes", "unseal"]


def reverse(al: Any) -> Any:
    """The same alignment seen from the other document."""
    from ..alignment import Alignment, ClausePair, SentencePair

    pairs = [ClausePair(src=cp.tgt, tgt=cp.src, score=cp.score, method=cp.method,
                        sentences=[SentencePair(src=sp.tgt, tgt=sp.src, score=sp.score) for sp in cp.sentences])
             for cp in al.pairs]
    return Alignment(src=al.tgt, tgt=al.src, pairs=pairs, params=dict(al.params))


class AlignmentStore:
    """Stored alignments under ``directory`` (which need not exist).

    ``verify``, when given, is called with a file's path before it is read (an index passes
    the check of the file against its manifest's checksum).
    """

    def __init__(self, directory: str | Path, verify: Callable[[Path], Any] | None = None):
        self.directory = Path(directory)
        self.verify = verify

    def get(self, src: str, tgt: str, src_fingerprint: str, tgt_fingerprint: str) -> Any | None:
        """The stored alignment of ``src`` with ``tgt`` (or of ``tgt`` with ``src``, reversed)
        if it was made from the documents as they are now; ``None`` otherwise.

        Raises
        ------
        CorruptIndexError
            The file is damaged (its checksum, or the manifest's, does not match), naming it.
        """
        from ..alignment import Alignment

        for (x, y), flip in (((src, tgt), False), ((tgt, src), True)):
            f = self.directory / f"{x}__{y}.json"
            if f.is_file():
                rec = self.read(f)
                want = (src_fingerprint, tgt_fingerprint) if not flip else (tgt_fingerprint, src_fingerprint)
                if (rec.get("src_fingerprint"), rec.get("tgt_fingerprint")) == want:
                    try:
                        al = Alignment.from_dict(rec["alignment"])
                    except (KeyError, TypeError, ValueError) as exc:
                        raise CorruptIndexError(f"{f} does not hold an alignment ({type(exc).__name__}: {exc}); "
                                                "rebuild the index") from exc
                    return reverse(al) if flip else al
        return None

    def read(self, f: Path) -> dict[str, Any]:
        """The record stored in the file ``f``, verified: against the index's manifest when
        it lists the file, and against the file's own checksum line."""
        listed = bool(self.verify(f)) if self.verify is not None else False
        try:
            data = f.read_bytes()
        except OSError as exc:
            raise CorruptIndexError(f"{f} cannot be read ({exc.strerror}); rebuild the index") from exc
        return json_object(f, unseal(f, data, listed), "a readable alignment")

    def put(self, al: Any, src_fingerprint: str, tgt_fingerprint: str) -> Path:
        """Store an alignment with the fingerprints of the two documents it was made from:
        written atomically with its checksum and flushed to the disk (an identical file
        already there is left as it is)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        rec = {"src": al.src, "tgt": al.tgt, "src_fingerprint": src_fingerprint, "tgt_fingerprint": tgt_fingerprint,
               "alignment": al.to_dict()}
        target = self.directory / f"{al.src}__{al.tgt}.json"
        data = seal_bytes(json.dumps(rec, ensure_ascii=False).encode("utf-8"))
        try:
            if target.read_bytes() == data:
                return target
        except OSError:
            pass
        atomic_write_bytes(target, data, durable=True)
        return target

    def check(self, covered: Callable[[Path], bool] = lambda f: False) -> list[str]:
        """Every problem of the stored files by their own checksum lines (one line each,
        naming the file), but for those ``covered(file)`` says the index's manifest checks.

        Returns
        -------
        list of str
            Empty when every file is sound.
        """
        problems = []
        for f in sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []:
            if covered(f):
                continue
            try:
                unseal(f, f.read_bytes())
            except CorruptIndexError as exc:
                problems.append(str(exc))
            except OSError as exc:
                problems.append(f"{f} cannot be read ({exc.strerror}); rebuild the index")
        return problems

    def store_all(self, corpus: Corpus, encoder: Any, workers: int = 1) -> list[dict[str, str]]:
        """Align every original with each translation of the same work; returns what was stored.

        With several pairs and ``workers > 1`` the pairs are aligned in forked processes, each
        writing its own file (the encoder is inherited, nothing is pickled).
        """
        by_work: dict[str, list[Any]] = {}
        for d in corpus:
            if d.role == "translation":
                by_work.setdefault(d.work, []).append(d)
        pairs = [(o, t) for o in corpus if o.role == "original" for t in by_work.get(o.work, [])]
        if not pairs:
            return []
        from ..alignment import align
        from ..parallel import fork_map

        self.directory.mkdir(parents=True, exist_ok=True)

        def task(i: int) -> None:
            o, t = pairs[i]
            al = align(o, t, encoder=encoder)
            self.put(al, corpus.doc_fingerprint(o.id), corpus.doc_fingerprint(t.id))

        fork_map(task, len(pairs), workers if len(pairs) >= 2 * workers else 1)
        return [{"src": o.id, "tgt": t.id, "file": f"alignments/{o.id}__{t.id}.json"} for o, t in pairs]


def seal_bytes(body: bytes) -> bytes:
    """``body`` followed by its checksum line (see the module's docstring)."""
    return body + f"\npolicyidx-crc32 {_crc(body)} size {len(body)}\n".encode("ascii")


def unseal(path: Path, data: bytes, listed: bool = False) -> bytes:
    """The JSON text of a stored alignment file after checking its checksum line.

    A file without one (written before alignments carried checksums) is accepted only when
    the index's manifest lists it (``listed``: its checksum there was verified).

    Raises
    ------
    CorruptIndexError
        Naming ``path``: no valid checksum line, or a size or CRC32 that does not match.
    """
    body, sep, last = data.rstrip(b"\n").rpartition(b"\n")
    m = _FOOTER.fullmatch(last) if sep else None
    if m is None:
        if listed and data.lstrip().startswith(b"{"):
            return data
        raise CorruptIndexError(f"{path} has no checksum line (damaged, or stored by an older policyidx); "
                                "store the alignment again or rebuild the index")
    if int(m.group(2)) != len(body) or m.group(1).decode("ascii") != _crc(body):
        raise CorruptIndexError(f"{path} is damaged ({len(body)} bytes of CRC32 {_crc(body)}, its checksum line "
                                f"says {int(m.group(2))} bytes of CRC32 {m.group(1).decode('ascii')}); "
                                "rebuild the index or store the alignment again")
    return body
