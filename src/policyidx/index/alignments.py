"""The alignment store of an index: original <-> translation alignments kept as JSON files
under ``alignments/``, each with the fingerprints of the two documents it was made from.

Alignments are written when the index is built (:meth:`AlignmentStore.store_all`) or when
asked to (:meth:`AlignmentStore.put`); reading an index never writes into it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from .._io import atomic_write_text
from ..corpus import Corpus
from ..errors import CorruptIndexError

__all__ = ["AlignmentStore", "reverse"]


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
        if it was made from the documents as they are now; ``None`` otherwise."""
        from ..alignment import Alignment

        for (x, y), flip in (((src, tgt), False), ((tgt, src), True)):
            f = self.directory / f"{x}__{y}.json"
            if f.is_file():
                if self.verify is not None:
                    self.verify(f)
                try:
                    rec = json.loads(f.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise CorruptIndexError(f"{f} is not a readable alignment ({exc}); rebuild the index") from exc
                want = (src_fingerprint, tgt_fingerprint) if not flip else (tgt_fingerprint, src_fingerprint)
                if (rec.get("src_fingerprint"), rec.get("tgt_fingerprint")) == want:
                    al = Alignment.from_dict(rec["alignment"])
                    return reverse(al) if flip else al
        return None

    def put(self, al: Any, src_fingerprint: str, tgt_fingerprint: str) -> Path:
        """Store an alignment with the fingerprints of the two documents it was made from."""
        self.directory.mkdir(parents=True, exist_ok=True)
        rec = {"src": al.src, "tgt": al.tgt, "src_fingerprint": src_fingerprint, "tgt_fingerprint": tgt_fingerprint,
               "alignment": al.to_dict()}
        target = self.directory / f"{al.src}__{al.tgt}.json"
        atomic_write_text(target, json.dumps(rec, ensure_ascii=False))
        return target

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
