"""Review of alignments: a translator's corrections, kept in a user file beside the corpus.

An automatic :class:`~policyidx.alignment.Alignment` is a proposal.  A reviewer confirms a
clause pair, rejects it (its clauses become unpaired), re-links a clause to another one,
joins pairs into one or splits a pair with several clauses on a side.  Each correction is
an *operation* on clause ids, appended to a log in a JSON file beside the corpus
(``review.json`` next to ``catalog.toml``; never inside an index).  The reviewed alignment
is the automatic one with the log replayed on it, so corrections survive a rebuild of the
index and a re-alignment with other parameters; an operation whose clauses no longer exist
(the document changed) is skipped and reported.

>>> store = ReviewStore.for_corpus(corpus)                               # doctest: +SKIP
>>> store.relink(al, src=["zgc-2019-ipap.zh#3.4.15"], tgt=["zgc-2019-ipap.ja#3.4.14"])  # doctest: +SKIP
>>> reviewed = store.apply(al, zh_doc, ja_doc)                            # doctest: +SKIP
>>> store.undo()                                                          # doctest: +SKIP

Inside a pair made or changed by a reviewer, sentences are aligned again with
:func:`policyidx.align` on the clauses of that pair alone; when the texts share too little
for a sentence alignment, the pair keeps one bead holding all its sentences (the reviewer
said the clauses correspond, so the export carries them as one segment).
"""

from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from ._io import atomic_write_text
from .errors import PolicyIdxError

if TYPE_CHECKING:  # pragma: no cover
    from .alignment import Alignment, ClausePair, SentencePair
    from .corpus import Corpus
    from .text.glossary import Glossary
    from .model import Document

__all__ = [
    "REVIEW_FILE",
    "REVIEW_FORMAT",
    "ReviewError",
    "ReviewOp",
    "ReviewStore",
    "review_status",
    "bead_status",
    "OPS",
    "BEAD_OPS",
]

#: File name of the review log, beside ``catalog.toml``.
REVIEW_FILE = "review.json"
#: ``format`` value of the review file.
REVIEW_FORMAT = "policyidx-review"
_VERSION = 1
#: The operations a reviewer can record.
OPS = ("confirm", "reject", "link", "join", "split", "join_beads", "split_bead", "reject_bead")
#: The operations on sentence beads inside one clause pair (their ids are sentence ids).
BEAD_OPS = ("join_beads", "split_bead", "reject_bead")
#: Refuse review files larger than this (a log of hand-made corrections is small).
MAX_REVIEW_BYTES = 50 * 1024 * 1024


class ReviewError(PolicyIdxError):
    """A review operation names clauses that are not in the alignment, or the review file is unusable."""


@dataclass(frozen=True)
class ReviewOp:
    """One recorded correction.

    Attributes
    ----------
    seq : int
        Position in the log (1, 2, ...): :meth:`ReviewStore.undo` removes the highest.
    op : {"confirm", "reject", "link", "join", "split"}
        ``confirm``: the clauses ``src`` and ``tgt`` form a correct pair (made so if the
        automatic alignment differs); ``reject``: the pair holding them is wrong, its clauses
        become unpaired; ``link``: pair ``src`` with ``tgt``, taking them out of their former
        pairs (a re-link); ``join``: one pair of all the clauses of the pairs holding
        ``src`` and ``tgt``; ``split``: the pair holding them is cut into pairs of one clause
        a side, in order.
    src_doc, tgt_doc : str
        The two documents of the alignment.
    src, tgt : tuple of str
        Clause ids of each document.
    time : float
        When it was recorded (seconds since the epoch).
    """

    seq: int
    op: str
    src_doc: str
    tgt_doc: str
    src: tuple[str, ...]
    tgt: tuple[str, ...]
    time: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {"seq": self.seq, "op": self.op, "src_doc": self.src_doc, "tgt_doc": self.tgt_doc,
                "src": list(self.src), "tgt": list(self.tgt), "time": self.time}

    @classmethod
    def from_dict(cls, rec: Any) -> ReviewOp:
        """Read a record written by :meth:`to_dict`.

        Raises
        ------
        ReviewError
            If a field is missing or of the wrong type.
        """
        try:
            op = rec["op"]
            if op not in OPS:
                raise ValueError(f"unknown operation {op!r}")
            src, tgt = rec["src"], rec["tgt"]
            if not all(isinstance(x, str) for x in [*src, *tgt, rec["src_doc"], rec["tgt_doc"]]):
                raise ValueError("ids must be strings")
            return cls(seq=int(rec["seq"]), op=op, src_doc=rec["src_doc"], tgt_doc=rec["tgt_doc"],
                       src=tuple(src), tgt=tuple(tgt), time=float(rec.get("time", 0.0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ReviewError(f"malformed review operation {rec!r}: {exc}") from None


def review_status(alignment: Alignment, pair: ClausePair) -> str | None:
    """How a reviewer left ``pair`` of a reviewed alignment.

    Returns
    -------
    str or None
        ``"confirmed"``, ``"linked"``, ``"joined"``, ``"split"`` or ``"rejected"``, or
        ``None`` for a pair nobody reviewed (also for any pair of an automatic alignment).
    """
    statuses = (alignment.params.get("review") or {}).get("status") or {}
    return statuses.get(_pair_key(pair.src, pair.tgt))


def bead_status(alignment: Alignment, bead: SentencePair) -> str | None:
    """How a reviewer left sentence ``bead`` of a reviewed alignment: ``"joined"``,
    ``"split"`` or ``"rejected"``, or ``None``."""
    statuses = (alignment.params.get("review") or {}).get("beads") or {}
    return statuses.get(_pair_key(bead.src, bead.tgt))


def _pair_key(src: Sequence[str], tgt: Sequence[str]) -> str:
    return " ".join(src) + " => " + " ".join(tgt)


def _default_path(root: Path) -> Path:
    """``review.json`` beside the catalog, or a per-corpus file in the user's data directory
    when the corpus folder is not writable (the bundled corpus of an installed wheel)."""
    if os.access(root, os.W_OK):
        return root / REVIEW_FILE
    import hashlib

    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "policyidx" / "review"
    tag = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    return base / f"{root.name}-{tag}.json"


class ReviewStore:
    """The review log of a corpus: recorded corrections, replayed on alignments.

    Every recording method validates the clause ids against the alignment it is given,
    appends one :class:`ReviewOp` and rewrites the file atomically.  A store is safe to use
    from several threads of one process (the web server); the file is re-read when another
    process changed it.

    Parameters
    ----------
    path : path-like
        The review file (created on the first correction).
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._lock = threading.RLock()
        self._ops: list[ReviewOp] = []
        self._stamp: tuple[int, int] | None = None
        self._sentence_cache: dict[tuple[Any, ...], list[SentencePair]] = {}
        self._glossary: Glossary | None = None
        self._depth = 0
        self._dir_fd: int | None = None
        self._load()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the store for a read-modify-write: this process's threads by a lock, other
        processes (two servers, a script) by an advisory lock on the file's directory."""
        with self._lock:
            if self._depth == 0:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    import fcntl

                    fd = os.open(self.path.parent, os.O_RDONLY)
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    self._dir_fd = fd
                except (ImportError, OSError):  # no advisory locks here: threads are still serialised
                    self._dir_fd = None
            self._depth += 1
            try:
                self._load()
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._dir_fd is not None:
                    os.close(self._dir_fd)  # closing releases the lock
                    self._dir_fd = None

    @classmethod
    def for_corpus(cls, corpus: Corpus | str | os.PathLike[str]) -> ReviewStore:
        """The store of a corpus: ``review.json`` beside its ``catalog.toml``.

        Where the corpus folder is not writable (the bundled corpus installed with the
        package), the file is kept in ``$XDG_DATA_HOME/policyidx/review/`` instead.
        """
        root = Path(corpus) if isinstance(corpus, (str, os.PathLike)) else Path(corpus.root)
        if root.suffix == ".toml":
            root = root.parent
        return cls(_default_path(root))

    # ------------------------------------------------------------------ file

    def _load(self) -> None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._ops, self._stamp = [], None
            return
        except OSError as exc:
            raise ReviewError(f"cannot read review file {self.path}: {exc}") from None
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        if st.st_size > MAX_REVIEW_BYTES:
            raise ReviewError(f"review file {self.path} is {st.st_size} bytes (limit {MAX_REVIEW_BYTES}); is it the right file?")
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ReviewError(f"review file {self.path} is not readable JSON ({exc}); fix or move it aside") from None
        if not isinstance(record, dict) or record.get("format") != REVIEW_FORMAT:
            raise ReviewError(f"{self.path} is not a policyidx review file (no \"format\": \"{REVIEW_FORMAT}\")")
        if record.get("version") != _VERSION:
            raise ReviewError(f"review file {self.path} has version {record.get('version')!r}; this library reads {_VERSION}")
        ops = record.get("ops")
        if not isinstance(ops, list):
            raise ReviewError(f"review file {self.path}: \"ops\" must be a list")
        try:
            self._ops = [ReviewOp.from_dict(r) for r in ops]
        except ReviewError as exc:
            raise ReviewError(f"review file {self.path}: {exc}") from None
        self._stamp = stamp

    def _save(self) -> None:
        record = {"format": REVIEW_FORMAT, "version": _VERSION, "ops": [o.to_dict() for o in self._ops]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json.dumps(record, ensure_ascii=False, indent=1) + "\n")
        st = self.path.stat()
        self._stamp = (st.st_mtime_ns, st.st_size)

    # ------------------------------------------------------------------ reading

    def ops(self, src: str | None = None, tgt: str | None = None) -> list[ReviewOp]:
        """The recorded operations, oldest first; only those of the document pair when given
        (either order)."""
        with self._lock:
            self._load()
            if src is None:
                return list(self._ops)
            return [o for o in self._ops if {o.src_doc, o.tgt_doc} == {src, tgt}]

    def __len__(self) -> int:
        return len(self.ops())

    # ------------------------------------------------------------------ recording

    def _record(self, op: str, alignment: Alignment, src: Iterable[str], tgt: Iterable[str]) -> ReviewOp:
        src_t, tgt_t = tuple(dict.fromkeys(src)), tuple(dict.fromkeys(tgt))
        if op in BEAD_OPS:
            _bead_holders(alignment.pairs, src_t, tgt_t, op)  # raises ReviewError when they do not fit
            return self._append(op, alignment, src_t, tgt_t)
        known_src = {c for cp in alignment.pairs for c in cp.src}
        known_tgt = {c for cp in alignment.pairs for c in cp.tgt}
        for ids, known, doc in ((src_t, known_src, alignment.src), (tgt_t, known_tgt, alignment.tgt)):
            bad = [c for c in ids if c not in known]
            if bad:
                raise ReviewError(f"clause {bad[0]!r} is not a clause of {doc!r} in this alignment")
        if op == "link" and (not src_t or not tgt_t):
            raise ReviewError("a link needs at least one clause on each side")
        if not src_t and not tgt_t:
            raise ReviewError(f"{op} needs at least one clause id")
        if op in ("reject", "split") and not _holding(alignment.pairs, src_t, tgt_t, exact=False):
            raise ReviewError(f"no single pair holds {', '.join(src_t + tgt_t)}; {op} works on one pair")
        return self._append(op, alignment, src_t, tgt_t)

    def _append(self, op: str, alignment: Alignment, src_t: tuple[str, ...], tgt_t: tuple[str, ...]) -> ReviewOp:
        with self._writing():
            seq = max((o.seq for o in self._ops), default=0) + 1
            rec = ReviewOp(seq=seq, op=op, src_doc=alignment.src, tgt_doc=alignment.tgt, src=src_t, tgt=tgt_t,
                           time=round(time.time(), 3))
            self._ops.append(rec)
            self._save()
            return rec

    def confirm(self, alignment: Alignment, src: Sequence[str], tgt: Sequence[str]) -> ReviewOp:
        """Record that clauses ``src`` and ``tgt`` form a correct pair.

        If the automatic alignment pairs them differently (now or after a rebuild), the
        confirmed pair is made, as by :meth:`relink`.

        Raises
        ------
        ReviewError
            If a clause id is not in ``alignment``.
        """
        return self._record("confirm", alignment, src, tgt)

    def reject(self, alignment: Alignment, src: Sequence[str] = (), tgt: Sequence[str] = ()) -> ReviewOp:
        """Record that the pair holding these clauses is wrong: its clauses become unpaired."""
        return self._record("reject", alignment, src, tgt)

    def relink(self, alignment: Alignment, src: Sequence[str], tgt: Sequence[str]) -> ReviewOp:
        """Pair clauses ``src`` with ``tgt``, taking them out of the pairs they were in.

        What remains of those pairs stays paired when both sides keep a clause, and becomes
        unpaired otherwise.
        """
        return self._record("link", alignment, src, tgt)

    def join(self, alignment: Alignment, src: Sequence[str] = (), tgt: Sequence[str] = ()) -> ReviewOp:
        """Join the pairs holding these clauses into one pair (e.g. a clause split in translation)."""
        return self._record("join", alignment, src, tgt)

    def split(self, alignment: Alignment, src: Sequence[str] = (), tgt: Sequence[str] = ()) -> ReviewOp:
        """Cut the pair holding these clauses into pairs of one clause a side, in order; a
        side with more clauses leaves the rest unpaired."""
        return self._record("split", alignment, src, tgt)

    def join_beads(self, alignment: Alignment, src: Sequence[str] = (), tgt: Sequence[str] = ()) -> ReviewOp:
        """Join consecutive sentence beads of one clause pair, those holding these sentence ids
        (``<clause>/<n>``), into one bead (a sentence translated as two, or two as one)."""
        return self._record("join_beads", alignment, src, tgt)

    def split_bead(self, alignment: Alignment, src: Sequence[str] = (), tgt: Sequence[str] = ()) -> ReviewOp:
        """Cut the sentence bead holding these sentences into beads of one sentence a side, in
        order; a side with more sentences leaves the rest unpaired."""
        return self._record("split_bead", alignment, src, tgt)

    def reject_bead(self, alignment: Alignment, src: Sequence[str] = (), tgt: Sequence[str] = ()) -> ReviewOp:
        """The sentence bead holding these sentences is wrong: its sentences become unpaired
        (and leave the TMX export)."""
        return self._record("reject_bead", alignment, src, tgt)

    def undo(self, src: str | None = None, tgt: str | None = None) -> ReviewOp | None:
        """Remove the last recorded operation and return it; ``None`` when there is none.

        Parameters
        ----------
        src, tgt : str, optional
            Only an operation on this document pair (either order); by default the last of all.
        """
        with self._writing():
            mine = [o for o in self._ops if src is None or {o.src_doc, o.tgt_doc} == {src, tgt}]
            if not mine:
                return None
            last = max(mine, key=lambda o: o.seq)
            self._ops.remove(last)
            self._save()
            return last

    # ------------------------------------------------------------------ a corrected TSV

    def import_tsv(self, path: str | os.PathLike[str], alignment: Alignment, src_doc: Document,
                   tgt_doc: Document) -> list[ReviewOp]:
        """Record the corrections a reviewer made in a TSV written by :func:`policyidx.export.to_tsv`.

        Read per clause pair (the ``src_clause`` and ``tgt_clause`` cells of its rows): a
        ``review`` cell set to ``confirmed`` (or ``confirm``, ``ok``) or ``rejected``
        (``reject``, ``no``) records that verdict; a pair that neither the automatic nor the
        reviewed alignment has (clause ids edited in the sheet) is recorded as a re-link.
        Reading the same file twice records nothing the second time.  Other cells (texts,
        scores) are not read back.  Every operation is checked as if made in the page;
        nothing is recorded when one is refused.

        Parameters
        ----------
        path : path-like
            The TSV (UTF-8 with or without BOM, the header row of
            :data:`policyidx.export.TSV_COLUMNS`).
        alignment : Alignment
            The automatic alignment of ``src_doc`` with ``tgt_doc``.
        src_doc, tgt_doc : Document
            The documents.

        Returns
        -------
        list of ReviewOp
            The operations recorded, in order.

        Raises
        ------
        ReviewError
            Unreadable file, missing columns, an unknown verdict or a clause id that is not
            in the documents (the message names the file and line).
        """
        import csv

        p = Path(path)
        try:
            text = p.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ReviewError(f"cannot read {p} as UTF-8 text: {exc}") from None
        rows = list(csv.reader(text.splitlines(), delimiter="\t"))
        if not rows or not {"src_clause", "tgt_clause", "review"} <= set(rows[0]):
            raise ReviewError(f"{p}: the header must have the columns src_clause, tgt_clause and review "
                              "(a TSV written by policyidx.export.to_tsv)")
        col = {name: k for k, name in enumerate(rows[0])}
        verdicts = {"confirmed": "confirm", "confirm": "confirm", "ok": "confirm", "rejected": "reject",
                    "reject": "reject", "no": "reject"}
        wanted: list[tuple[tuple[str, ...], tuple[str, ...], str | None, int]] = []
        for line, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            cells = row + [""] * (len(rows[0]) - len(row))
            src = tuple(cells[col["src_clause"]].split())
            tgt = tuple(cells[col["tgt_clause"]].split())
            verdict = cells[col["review"]].strip().lower()
            if verdict and verdict not in verdicts and verdict not in ("linked", "joined", "split"):
                raise ReviewError(f"{p}:{line}: unknown review verdict {verdict!r}; write confirmed or rejected")
            key = (src, tgt, verdicts.get(verdict), line)
            if wanted and wanted[-1][:2] == (src, tgt):
                if key[2] and not wanted[-1][2]:
                    wanted[-1] = key
                continue
            wanted.append(key)
        with self._writing():
            before = list(self._ops)
            stamp = self._stamp
            recorded: list[ReviewOp] = []
            try:
                automatic = {(tuple(cp.src), tuple(cp.tgt)) for cp in alignment.pairs}
                for src, tgt, verdict, line in wanted:
                    current = self.apply(alignment, src_doc, tgt_doc)
                    holder = _holding(current.pairs, src, tgt, exact=True)
                    status = review_status(current, holder) if holder is not None else None
                    try:
                        if verdict == "confirm" and src and tgt:
                            if holder is None or status != "confirmed":
                                recorded.append(self.confirm(current, src, tgt))
                        elif verdict == "reject" and holder is not None and src and tgt:
                            recorded.append(self.reject(current, src, tgt))
                        elif src and tgt and holder is None and (src, tgt) not in automatic:
                            # a pairing the aligner did not make and the alignment lacks: a re-link
                            recorded.append(self.relink(current, src, tgt))
                    except ReviewError as exc:
                        raise ReviewError(f"{p}:{line}: {exc}") from None
            except BaseException:
                self._ops = before
                self._save() if stamp is not None or before else self._remove()
                raise
            return recorded

    def _remove(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        self._stamp = None

    # ------------------------------------------------------------------ applying

    def apply(self, alignment: Alignment, src_doc: Document, tgt_doc: Document, *,
              glossary: Glossary | None = None) -> Alignment:
        """The alignment with the recorded corrections of its document pair replayed on it.

        Parameters
        ----------
        alignment : Alignment
            The automatic alignment of ``src_doc`` with ``tgt_doc`` (operations recorded the
            other way round are applied mirrored).
        src_doc, tgt_doc : Document
            The documents, to align the sentences of changed pairs again.
        glossary : Glossary, optional
            Term anchors for that sentence alignment (default: the bundled glossary).

        Returns
        -------
        Alignment
            A new alignment; ``params["review"]`` holds ``ops`` (operations applied),
            ``skipped`` (operations naming clauses that are gone, with the reason) and
            ``status`` (see :func:`review_status`).  The input is not changed.
        """
        from .alignment import Alignment as _Alignment

        if alignment.src != src_doc.id or alignment.tgt != tgt_doc.id:
            raise ReviewError(f"the alignment is of {alignment.src!r} -> {alignment.tgt!r} but the documents given are "
                              f"{src_doc.id!r} -> {tgt_doc.id!r}")
        ops = self.ops(alignment.src, alignment.tgt)
        pairs = list(alignment.pairs)
        status: dict[str, str] = {}
        bead_statuses: dict[str, str] = {}
        applied: list[int] = []
        skipped: list[dict[str, Any]] = []
        self._glossary = glossary or self._glossary
        for o in ops:
            src, tgt = (o.src, o.tgt) if o.src_doc == alignment.src else (o.tgt, o.src)
            try:
                pairs = self._replay(o.op, pairs, src, tgt, src_doc, tgt_doc, status, bead_statuses)
                applied.append(o.seq)
            except ReviewError as exc:
                skipped.append({"seq": o.seq, "op": o.op, "reason": str(exc)})
        params = dict(alignment.params)
        present = {_pair_key(sp.src, sp.tgt) for cp in pairs for sp in cp.sentences}
        beads = {key: st for key, st in bead_statuses.items() if key in present}
        params["review"] = {"ops": applied, "skipped": skipped, "status": status, "beads": beads, "file": str(self.path)}
        return _Alignment(src=alignment.src, tgt=alignment.tgt, pairs=pairs, params=params)

    def _replay(self, op: str, pairs: list[ClausePair], src: tuple[str, ...], tgt: tuple[str, ...],
                src_doc: Document, tgt_doc: Document, status: dict[str, str],
                bead_statuses: dict[str, str] | None = None) -> list[ClausePair]:
        if op in BEAD_OPS:
            return _replay_beads(op, pairs, src, tgt, {} if bead_statuses is None else bead_statuses)
        present_src = {c for cp in pairs for c in cp.src}
        present_tgt = {c for cp in pairs for c in cp.tgt}
        gone = [c for c in src if c not in present_src] + [c for c in tgt if c not in present_tgt]
        if gone:
            raise ReviewError(f"clause {gone[0]!r} is no longer in the documents")
        if op == "confirm" and (not src or not tgt):
            # "this clause has no counterpart" is a verdict too: make it unpaired if need be
            new = self._link_unpaired(pairs, src, tgt, src_doc, tgt_doc, status)
            for c in src:
                status[_pair_key((c,), ())] = "confirmed"
            for c in tgt:
                status[_pair_key((), (c,))] = "confirmed"
            return new
        if op in ("confirm", "link"):
            new = self._link(pairs, src, tgt, src_doc, tgt_doc, status)
            status[_pair_key(src, tgt)] = "confirmed" if op == "confirm" else "linked"
            return new
        if op == "join":
            holders = [cp for cp in pairs if set(cp.src) & set(src) or set(cp.tgt) & set(tgt)]
            all_src = _in_order([c for cp in holders for c in cp.src], src_doc)
            all_tgt = _in_order([c for cp in holders for c in cp.tgt], tgt_doc)
            new = self._link(pairs, all_src, all_tgt, src_doc, tgt_doc, status)
            status[_pair_key(all_src, all_tgt)] = "joined"
            return new
        holder = _holding(pairs, src, tgt, exact=False)
        if holder is None:
            raise ReviewError(f"no single pair holds {', '.join(src + tgt)} any more")
        rest = [cp for cp in pairs if cp is not holder]
        if op == "reject":
            pieces = self._unpaired(holder.src, holder.tgt, src_doc, tgt_doc)
            for cp in pieces:
                status[_pair_key(cp.src, cp.tgt)] = "rejected"
        else:  # split
            pieces = []
            for k in range(max(len(holder.src), len(holder.tgt))):
                s = holder.src[k:k + 1]
                t = holder.tgt[k:k + 1]
                if s and t:
                    pieces.append(self._make_pair(s, t, src_doc, tgt_doc))
                else:
                    pieces.extend(self._unpaired(s, t, src_doc, tgt_doc))
                status[_pair_key(s, t)] = "split"
        status.pop(_pair_key(holder.src, holder.tgt), None)
        return _document_order(rest + pieces, src_doc, tgt_doc)

    def _link(self, pairs: list[ClausePair], src: tuple[str, ...], tgt: tuple[str, ...], src_doc: Document,
              tgt_doc: Document, status: dict[str, str]) -> list[ClausePair]:
        s_set, t_set = set(src), set(tgt)
        keep: list[ClausePair] = []
        out: list[ClausePair] = []
        for cp in pairs:
            if not (s_set & set(cp.src) or t_set & set(cp.tgt)):
                keep.append(cp)
                continue
            if tuple(cp.src) == src and tuple(cp.tgt) == tgt:
                out.append(cp)  # already this pair: keep its sentence alignment
                continue
            status.pop(_pair_key(cp.src, cp.tgt), None)
            left_src = tuple(c for c in cp.src if c not in s_set)
            left_tgt = tuple(c for c in cp.tgt if c not in t_set)
            if left_src and left_tgt:
                out.append(self._make_pair(left_src, left_tgt, src_doc, tgt_doc))
            else:
                out.extend(self._unpaired(left_src, left_tgt, src_doc, tgt_doc))
        if not any(tuple(cp.src) == src and tuple(cp.tgt) == tgt for cp in out):
            out.append(self._make_pair(src, tgt, src_doc, tgt_doc))
        return _document_order(keep + out, src_doc, tgt_doc)

    def _link_unpaired(self, pairs: list[ClausePair], src: tuple[str, ...], tgt: tuple[str, ...], src_doc: Document,
                       tgt_doc: Document, status: dict[str, str]) -> list[ClausePair]:
        """The clauses given left without counterpart (taken out of any pair they are in)."""
        ids = set(src) | set(tgt)
        if all(not (cp.src and cp.tgt) for cp in pairs if ids & (set(cp.src) | set(cp.tgt))):
            return pairs
        keep, out = [], []
        for cp in pairs:
            if not ids & (set(cp.src) | set(cp.tgt)):
                keep.append(cp)
                continue
            status.pop(_pair_key(cp.src, cp.tgt), None)
            left_src = tuple(c for c in cp.src if c not in ids)
            left_tgt = tuple(c for c in cp.tgt if c not in ids)
            if left_src and left_tgt:
                out.append(self._make_pair(left_src, left_tgt, src_doc, tgt_doc))
            else:
                out.extend(self._unpaired(left_src, left_tgt, src_doc, tgt_doc))
            out.extend(self._unpaired(tuple(c for c in cp.src if c in ids), tuple(c for c in cp.tgt if c in ids),
                                      src_doc, tgt_doc))
        return _document_order(keep + out, src_doc, tgt_doc)

    def _unpaired(self, src: Sequence[str], tgt: Sequence[str], src_doc: Document, tgt_doc: Document) -> list[ClausePair]:
        from .alignment import ClausePair as _CP
        from .alignment import SentencePair as _SP

        out = [_CP((c,), (), 0.0, "none", [_SP((s.id,), (), 0.0) for s in src_doc.clause(c).sentences]) for c in src]
        out += [_CP((), (c,), 0.0, "none", [_SP((), (s.id,), 0.0) for s in tgt_doc.clause(c).sentences]) for c in tgt]
        return out

    def _make_pair(self, src: tuple[str, ...], tgt: tuple[str, ...], src_doc: Document, tgt_doc: Document) -> ClausePair:
        """A pair the reviewer made: sentences aligned again on these clauses alone."""
        from .alignment import ClausePair as _CP

        score, sentences = self._sentences(src, tgt, src_doc, tgt_doc)
        method = "structure" if [_path(c) for c in src] == [_path(c) for c in tgt] else "content"
        return _CP(tuple(src), tuple(tgt), score, method, sentences)  # type: ignore[arg-type]

    def _sentences(self, src: tuple[str, ...], tgt: tuple[str, ...], src_doc: Document,
                   tgt_doc: Document) -> tuple[float, list[SentencePair]]:
        from .alignment import SentencePair as _SP
        from .alignment import align

        sa = [s for c in src for s in src_doc.clause(c).sentences]
        sb = [s for c in tgt for s in tgt_doc.clause(c).sentences]
        key = (src_doc.id, tgt_doc.id, src, tgt, tuple(s.text for s in sa), tuple(s.text for s in sb))
        cached = self._sentence_cache.get(key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        if not sa or not sb:
            result = (0.0, [_SP((s.id,), (), 0.0) for s in sa] + [_SP((), (s.id,), 0.0) for s in sb])
        else:
            mini_a = _one_clause_document(src_doc, src, sa)
            mini_b = _one_clause_document(tgt_doc, tgt, sb)
            al = align(mini_a, mini_b, glossary=self._glossary)
            paired = [cp for cp in al.pairs if cp.src and cp.tgt]
            if paired:
                beads = [sp for cp in al.pairs for sp in cp.sentences]
                linked = sum(len(sp.src) + len(sp.tgt) for sp in beads if sp.src and sp.tgt)
                scores = [sp.score for sp in beads if sp.src and sp.tgt]
                # the pair's score: mean bead score, discounted by the share of sentences left unpaired
                score = (sum(scores) / len(scores)) * linked / (len(sa) + len(sb)) if scores else 0.0
                result = (float(score), beads)
            else:
                # the texts share too little for a sentence alignment: one bead of everything
                result = (0.0, [_SP(tuple(s.id for s in sa), tuple(s.id for s in sb), 0.0)])
        if len(self._sentence_cache) > 4096:
            self._sentence_cache.clear()
        self._sentence_cache[key] = result  # type: ignore[assignment]
        return result


def _bead_holders(pairs: Sequence[ClausePair], src: tuple[str, ...], tgt: tuple[str, ...], op: str) -> tuple[int, list[int]]:
    """The clause pair (index) and its consecutive beads (indexes) holding these sentence ids."""
    ids = set(src) | set(tgt)
    if not ids:
        raise ReviewError(f"{op} needs at least one sentence id")
    for k, cp in enumerate(pairs):
        hold = [j for j, sp in enumerate(cp.sentences) if ids & (set(sp.src) | set(sp.tgt))]
        if not hold:
            continue
        found = {x for j in hold for x in (*cp.sentences[j].src, *cp.sentences[j].tgt)}
        missing = ids - found
        if missing:
            raise ReviewError(f"sentence {sorted(missing)[0]!r} is not in the same clause pair as the others; "
                              f"{op} works inside one clause pair")
        wrong_side = [x for x in src if not any(x in cp.sentences[j].src for j in hold)] + \
                     [x for x in tgt if not any(x in cp.sentences[j].tgt for j in hold)]
        if wrong_side:
            raise ReviewError(f"sentence {wrong_side[0]!r} is not on that side of the alignment")
        if op != "join_beads" and len(hold) > 1:
            raise ReviewError(f"{op} works on one bead; these sentences are in {len(hold)}")
        if hold != list(range(hold[0], hold[-1] + 1)):
            raise ReviewError("only consecutive beads can be joined")
        if op == "join_beads" and len(hold) < 2:
            raise ReviewError("join_beads needs sentences of at least two beads")
        return k, hold
    raise ReviewError(f"sentence {sorted(ids)[0]!r} is in no bead of this alignment")


def _replay_beads(op: str, pairs: list[ClausePair], src: tuple[str, ...], tgt: tuple[str, ...],
                  status: dict[str, str]) -> list[ClausePair]:
    from .alignment import ClausePair as _CP
    from .alignment import SentencePair as _SP

    k, hold = _bead_holders(pairs, src, tgt, op)
    cp = pairs[k]
    beads = list(cp.sentences)
    first, last = hold[0], hold[-1]
    if op == "join_beads":
        a = tuple(x for j in hold for x in beads[j].src)
        b = tuple(x for j in hold for x in beads[j].tgt)
        scores = [beads[j].score for j in hold if beads[j].src and beads[j].tgt]
        new = [_SP(a, b, sum(scores) / len(scores) if scores else 0.0)]
        status[_pair_key(a, b)] = "joined"
    elif op == "split_bead":
        bead = beads[first]
        new = []
        for n in range(max(len(bead.src), len(bead.tgt))):
            a, b = bead.src[n:n + 1], bead.tgt[n:n + 1]
            new.append(_SP(a, b, bead.score if a and b else 0.0))
            status[_pair_key(a, b)] = "split"
    else:  # reject_bead
        bead = beads[first]
        new = [_SP((x,), (), 0.0) for x in bead.src] + [_SP((), (x,), 0.0) for x in bead.tgt]
        for sp in new:
            status[_pair_key(sp.src, sp.tgt)] = "rejected"
    beads[first:last + 1] = new
    out = list(pairs)
    out[k] = _CP(cp.src, cp.tgt, cp.score, cp.method, beads)
    return out


def _path(cid: str) -> str:
    return cid.split("#", 1)[1] if "#" in cid else cid


def _holding(pairs: Sequence[ClausePair], src: Sequence[str], tgt: Sequence[str], *, exact: bool) -> ClausePair | None:
    """The one pair holding every clause given (exactly those clauses when ``exact``)."""
    for cp in pairs:
        if exact:
            if tuple(cp.src) == tuple(src) and tuple(cp.tgt) == tuple(tgt):
                return cp
        elif set(src) <= set(cp.src) and set(tgt) <= set(cp.tgt) and (src or tgt):
            return cp
    return None


def _in_order(ids: Iterable[str], doc: Document) -> tuple[str, ...]:
    order = {c.id: k for k, c in enumerate(doc.clauses)}
    return tuple(sorted(dict.fromkeys(ids), key=lambda c: order.get(c, 1 << 30)))


def _document_order(pairs: list[ClausePair], src_doc: Document, tgt_doc: Document) -> list[ClausePair]:
    """Pairs with a source clause in source order; target-only pairs slotted in before the
    first pair whose target follows them."""
    oa = {c.id: k for k, c in enumerate(src_doc.clauses)}
    ob = {c.id: k for k, c in enumerate(tgt_doc.clauses)}
    with_src = sorted((cp for cp in pairs if cp.src), key=lambda cp: min(oa[c] for c in cp.src))
    only_tgt = sorted((cp for cp in pairs if not cp.src), key=lambda cp: min(ob[c] for c in cp.tgt))
    result = list(with_src)
    for cp in only_tgt:
        key = min(ob[c] for c in cp.tgt)
        pos = len(result)
        for k, other in enumerate(result):
            if other.tgt and min(ob[c] for c in other.tgt) > key:
                pos = k
                break
        result.insert(pos, cp)
    return result


def _one_clause_document(doc: Document, clause_ids: Sequence[str], sentences: list[Any]) -> Document:
    """A document with one clause holding the given sentences (ids kept), for aligning the
    sentences of one reviewed pair with :func:`policyidx.align`."""
    from .model import Clause
    from .model import Document as _Document

    clauses = [doc.clause(c) for c in clause_ids]
    notes = tuple(n for c in clauses for n in c.notes)
    start, end = min(s.start for s in sentences), max(s.end for s in sentences)
    cid = f"{doc.id}#1"
    root = Clause(id=cid, doc=doc.id, path=(1,), label="", title=None, text=doc.text[start:end], start=start, end=end,
                  label_start=start, kind="section", lang=doc.lang, sentences=tuple(sentences), notes=notes)
    return _Document(id=doc.id, work=doc.work, lang=doc.lang, role=doc.role, title=doc.title, text=doc.text, roots=[root])
