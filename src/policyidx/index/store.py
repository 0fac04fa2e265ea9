"""Where an index lives and what it stores besides the retrievers' files: the rows (clause
ids, texts, records, documents), the snapshots with their manifest and checksums, the
build lock, and whether the index is stale.

An index directory holds immutable snapshots and a pointer to the current one::

    CURRENT              the current snapshot's name, its manifest's CRC32, and a CRC32 of both
    build.lock           held (flock) by the one process that builds into the index
    snapshots/<n>/       one complete index: manifest.json, rows/, keyword/, vectors/, ...
    snapshots/<n>/.readers   held shared (flock) by every process that has snapshot n open

A build writes ``snapshots/.building-<n>``, records every file's size and CRC32 in its
``manifest.json``, flushes everything to the disk, renames it to ``snapshots/<n>`` and then
replaces ``CURRENT`` atomically.  A reader reads ``CURRENT`` once and keeps its snapshot for
its whole life; the next build removes snapshots that are neither current nor open.
"""

from __future__ import annotations

import errno
import hashlib
import json
import mmap
import os
import shutil
import time
import zlib
from contextlib import contextmanager
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .. import __version__
from .._io import atomic_write_bytes, cache_root, fsync_dir, fsync_tree, write_record
from ..catalog import Catalog
from ..corpus import Corpus, bundled_corpus_path, catalog_fingerprint
from ..errors import CorruptIndexError, IndexBusyError, IndexError_, StaleIndexError
from ..model import Clause
from ..text.analysis import ANALYZER_VERSION

try:  # POSIX; elsewhere there is no locking (and no concurrent use is promised)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = ["FORMAT_VERSION", "LANG_CODES", "default_index_path", "RowStore", "write_rows", "Snapshot",
           "open_snapshot", "flat_snapshot", "read_manifest", "writer_lock", "staleness", "seal", "commit_snapshot", "clean_snapshots",
           "new_snapshot_dir", "VERIFY_MAX_BYTES", "write_snapshot", "file_checksum", "corpus_stamp"]

#: Version of the index layout; an index of another version must be rebuilt.
#: 2: one English stemmer for index terms and glossary matching (``licence`` -> ``licens``),
#: domain terms added to jieba once in sorted order, the analyzer described in the manifest.
#: 3: snapshot directories, a CURRENT pointer, a CRC32 of every file in the manifest.
FORMAT_VERSION = 3
LANG_CODES = {"zh": 0, "ja": 1, "en": 2}


# ----------------------------------------------------------------------------- locations


def default_index_path(corpus_root: str | Path | None = None) -> Path:
    """Where the default index of a corpus lives.

    ``$POLICYIDX_INDEX`` if set; else ``indexes/default`` beside the corpus directory (in a
    checkout: ``<repo>/indexes/default``); where that is not writable, the user's cache
    directory (``$XDG_CACHE_HOME/policyidx`` or ``~/.cache/policyidx``).
    """
    env = os.environ.get("POLICYIDX_INDEX")
    if env:
        return Path(env)
    root = Path(corpus_root) if corpus_root is not None else bundled_corpus_path()
    root = root.resolve()
    beside = root.parent / "indexes" / "default"
    if _writable(beside):
        return beside
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "policyidx"
    return cache / f"default-{hashlib.sha256(str(root).encode()).hexdigest()[:12]}"


def _writable(path: Path) -> bool:
    p = path
    while not p.exists():
        if p.parent == p:
            return False
        p = p.parent
    return os.access(p, os.W_OK)


# ----------------------------------------------------------------------------- rows


def _write_blob(directory: Path, name: str, items: Sequence[str]) -> None:
    data = [s.encode("utf-8") for s in items]
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    if data:
        offsets[1:] = np.cumsum([len(d) for d in data])
    (directory / f"{name}.bin").write_bytes(b"".join(data))
    np.save(directory / f"{name}.offsets.npy", offsets, allow_pickle=False)


def _load_array(path: Path, ndim: int, kinds: str) -> np.ndarray:
    """``np.load`` (memory-mapped) of an array that must have ``ndim`` dimensions and a dtype
    kind among ``kinds``; anything else is a :class:`CorruptIndexError` naming the file."""
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise CorruptIndexError(f"{path} is not a readable array ({exc}); rebuild the index") from exc
    if arr.ndim != ndim or arr.dtype.kind not in kinds:
        raise CorruptIndexError(f"{path} holds a {arr.dtype} array of shape {arr.shape}, not what the index "
                                "writes there; rebuild the index")
    # a plain ndarray over the same mapping: np.memmap's subclass hooks cost more than the read
    # on every element or slice taken (a tenth of a second on a page of hits)
    return np.asarray(arr)


class _Blob:
    """A list of strings stored as one UTF-8 file plus offsets (memory-mapped).

    The offsets are checked when the blob is opened (from 0, never decreasing, ending at the
    file's size), so no item can be read from outside the file.
    """

    def __init__(self, directory: Path, name: str):
        self.path = directory / f"{name}.bin"
        off_path = directory / f"{name}.offsets.npy"
        self.offsets = _load_array(off_path, 1, "i")
        try:
            size = self.path.stat().st_size
        except OSError as exc:
            raise CorruptIndexError(f"{self.path} is missing ({exc.strerror}); rebuild the index") from exc
        if len(self.offsets) < 1 or int(self.offsets[0]) != 0 or int(self.offsets[-1]) != size \
                or (len(self.offsets) > 1 and bool((np.diff(self.offsets) < 0).any())):
            raise CorruptIndexError(f"{off_path} does not describe {self.path.name} ({size} bytes): offsets must "
                                    "rise from 0 to the file's size; rebuild the index")
        self.data = np.asarray(np.memmap(self.path, dtype=np.uint8, mode="r")) if size else np.zeros(0, np.uint8)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        try:
            return self.data[a:b].tobytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorruptIndexError(f"{self.path} is damaged: item {i} is not UTF-8 ({exc.reason} at byte "
                                    f"{a + exc.start}); rebuild the index") from exc


def write_rows(directory: Path, corpus: Corpus, clauses: list[Clause]) -> None:
    """Write the rows of ``clauses`` (ids, texts, records, documents) to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    docs = corpus.documents
    doc_index = {d.id: i for i, d in enumerate(docs)}
    _write_blob(directory, "ids", [c.id for c in clauses])
    _write_blob(directory, "texts", [c.text for c in clauses])
    _write_blob(directory, "records", [json.dumps({"label": c.label, "title": c.title, "lang": c.lang,
                                                    "path": list(c.path), **_hit_context(c)},
                                                   ensure_ascii=False) for c in clauses])
    np.save(directory / "row_doc.npy", np.array([doc_index[c.doc] for c in clauses], dtype=np.int32), allow_pickle=False)
    np.save(directory / "row_lang.npy", np.array([LANG_CODES.get(c.lang, 2) for c in clauses], dtype=np.int8), allow_pickle=False)
    atomic_write_bytes(directory / "docs.json", json.dumps(
        [{"id": d.id, "work": d.work, "lang": d.lang, "role": d.role, "title": d.title,
          "fingerprint": corpus.doc_fingerprint(d.id)} for d in docs], ensure_ascii=False, indent=1).encode("utf-8"))


def _hit_context(c: Clause) -> dict[str, Any]:
    """What a search hit reports of its clause beyond the text: citation, parent headings,
    offsets into the document text."""
    return {"citation": c.citation() if c.kind not in ("front", "back") else "",
            "parents": [p.heading() for p in c.ancestors()], "start": c.start, "end": c.end}


class RowStore:
    """The rows of an index, memory-mapped: row -> clause id, text, record, document."""

    def __init__(self, directory: Path, expected_rows: int | None = None):
        self.directory = Path(directory)
        self._ids = _Blob(directory, "ids")
        self._texts = _Blob(directory, "texts")
        self._records = _Blob(directory, "records")
        self.row_doc = _load_array(directory / "row_doc.npy", 1, "i")
        self.row_lang = _load_array(directory / "row_lang.npy", 1, "i")
        docs_path = directory / "docs.json"
        try:
            self.docs: list[dict[str, Any]] = json.loads(docs_path.read_text(encoding="utf-8"))
            self.doc_index = {d["id"]: i for i, d in enumerate(self.docs)}
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise CorruptIndexError(f"{docs_path} is not the list of documents the index writes ({exc}); "
                                    "rebuild the index") from exc
        n = len(self._ids) if expected_rows is None else expected_rows
        for what, count in (("ids.offsets.npy", len(self._ids)), ("texts.offsets.npy", len(self._texts)),
                            ("records.offsets.npy", len(self._records)), ("row_doc.npy", len(self.row_doc)),
                            ("row_lang.npy", len(self.row_lang))):
            if count != n:
                raise CorruptIndexError(f"{directory / what} has {count} rows, the index {n}; rebuild the index")
        if n and (int(self.row_doc.min()) < 0 or int(self.row_doc.max()) >= len(self.docs)):
            raise CorruptIndexError(f"{directory / 'row_doc.npy'} names documents outside the "
                                    f"{len(self.docs)} of docs.json; rebuild the index")
        if n and (int(self.row_lang.min()) < 0 or int(self.row_lang.max()) >= len(LANG_CODES)):
            raise CorruptIndexError(f"{directory / 'row_lang.npy'} holds unknown language codes; rebuild the index")

    def __len__(self) -> int:
        return len(self._ids)

    @cached_property
    def token_store(self):  # type: ignore[no-untyped-def]
        """The clauses' tokens stored at build time (:class:`policyidx.index.highlight.TokenStore`),
        or None for an index built without them."""
        from .highlight import TokenStore

        return TokenStore.open(self.directory, len(self))

    def tokens(self, row: int) -> list[tuple[str, int, int]] | None:
        """Row ``row``'s tokens (normalised form, start, end) as stored at build time, or None."""
        store = self.token_store
        return store.tokens(row) if store is not None else None

    def id(self, row: int) -> str:
        return self._ids[row]

    def text(self, row: int) -> str:
        return self._texts[row]

    def doc(self, row: int) -> dict[str, Any]:
        return self.docs[int(self.row_doc[row])]

    @cached_property
    def row_of_id(self) -> dict[str, int]:
        return {self._ids[i]: i for i in range(len(self._ids))}

    def record(self, row: int) -> dict[str, Any]:
        rec = self.meta(row)
        rec["id"] = self._ids[row]
        rec["text"] = self._texts[row]
        return rec

    def meta(self, row: int) -> dict[str, Any]:
        """A row's record without its id and text (label, title, lang, path, citation,
        parents, start, end): what ranking reads of thousands of candidates, one stored
        string each."""
        try:
            rec = json.loads(self._records[row])
            if not isinstance(rec, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            raise CorruptIndexError(f"{self._records.path} is damaged: record {row} is not JSON ({exc}); "
                                    "rebuild the index") from exc
        return rec


# ----------------------------------------------------------------------------- snapshots

SNAPSHOTS = "snapshots"
POINTER = "CURRENT"
LOCK_FILE = "build.lock"
READERS = ".readers"
MANIFEST = "manifest.json"
_BUILDING = ".building-"
_TRASH = ".trash-"
#: What an index of formats 1 and 2 (before snapshots) kept at its top level.
_LEGACY_ENTRIES = (MANIFEST, "rows", "keyword", "encoder", "vectors", "alignments", "analyzer",
                   "stats", "shards")  # the last two: a sharded index before snapshots
#: Files up to this size are checksummed when their part is first loaded.  Larger
#: memory-mapped arrays (``.npy`` and ``.bin`` under ``rows/``, ``keyword/``, ``vectors/``) are
#: checked for size and bounds instead, and checksummed by :meth:`Snapshot.check`
#: (``policyidx check``); every other file is read whole anyway and always checksummed.
VERIFY_MAX_BYTES = 64 << 20
_MAPPED_PARTS = ("rows/", "keyword/", "vectors/")
#: How many per-snapshot records of verified files (``verified/`` in the cache) to keep.
_SEEN_KEEP = 400


def _crc(data: bytes) -> str:
    return f"{zlib.crc32(data) & 0xFFFFFFFF:08x}"


def file_checksum(path: Path) -> tuple[int, str]:
    """Size and CRC32 (8 hex digits) of a file.

    The file is memory-mapped (faster than reading it into buffers here) and its pages are
    dropped from this process's mapping afterwards, so checking a large file does not leave
    it resident.
    """
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return 0, f"{zlib.crc32(b''):08x}"
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            crc = 0
            view = memoryview(mm)
            try:
                for a in range(0, size, 1 << 24):
                    crc = zlib.crc32(view[a : a + (1 << 24)], crc)
            finally:
                view.release()
            if hasattr(mm, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
                try:
                    mm.madvise(mmap.MADV_DONTNEED)
                except OSError:
                    pass
    return size, f"{crc & 0xFFFFFFFF:08x}"


def seal(directory: Path) -> dict[str, dict[str, Any]]:
    """The size and CRC32 of every file under a snapshot directory (relative POSIX paths),
    the manifest and the readers' lock file excepted."""
    out: dict[str, dict[str, Any]] = {}
    for p in sorted(directory.rglob("*")):
        if p.is_file() and p.name != READERS and p.relative_to(directory).as_posix() != MANIFEST:
            size, crc = file_checksum(p)
            out[p.relative_to(directory).as_posix()] = {"size": size, "crc32": crc}
    return out


def _pointer_text(name: str, manifest_crc: str) -> str:
    body = f"snapshot {name}\nmanifest-crc32 {manifest_crc}\n"
    return body + f"crc32 {_crc(body.encode('ascii'))}\n"


def _read_pointer(index_dir: Path) -> tuple[str, str]:
    """``(snapshot name, manifest CRC32)`` from ``CURRENT``; a damaged pointer is a
    :class:`CorruptIndexError` naming it."""
    path = index_dir / POINTER
    raw = path.read_bytes()
    try:
        lines = raw.decode("ascii").split("\n")
        body = "\n".join(lines[:2]) + "\n"
        ok = (len(lines) == 4 and lines[3] == "" and lines[0].startswith("snapshot ")
              and lines[1].startswith("manifest-crc32 ") and lines[2] == f"crc32 {_crc(body.encode('ascii'))}")
    except UnicodeDecodeError:
        ok = False
    if not ok:
        raise CorruptIndexError(f"{path} is damaged (it does not name a snapshot with its checksum); "
                                f"rebuild the index (`policyidx build --index {index_dir}`)")
    name = lines[0].split(" ", 1)[1]
    if not name.isdigit():
        raise CorruptIndexError(f"{path} names snapshot {name!r}, not a number; rebuild the index")
    return name, lines[1].split(" ", 1)[1]


def _manifest_from(path: Path, expected_crc: str | None) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise CorruptIndexError(f"{path} is missing; rebuild the index") from exc
    if expected_crc is not None and _crc(raw) != expected_crc:
        raise CorruptIndexError(f"{path} is damaged (CRC32 {_crc(raw)}, {POINTER} says {expected_crc}); "
                                "rebuild the index")
    return json_object(path, raw)


def json_object(path: Path, raw: bytes, what: str = "readable JSON") -> dict[str, Any]:
    """The JSON object in the bytes ``raw`` read from ``path``.

    Raises
    ------
    CorruptIndexError
        Naming ``path`` (``"{path} is not {what} (...)"``): not UTF-8 JSON, or not an object.
    """
    try:
        value = json.loads(raw.decode("utf-8"))
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        raise CorruptIndexError(f"{path} is not {what} ({exc}); rebuild the index") from exc
    return value


def _lock(fd: int, kind: int, *, wait: bool) -> bool:
    """flock ``fd``; ``False`` when ``wait`` is false and another process holds it."""
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fcntl.flock(fd, kind | (0 if wait else fcntl.LOCK_NB))
        return True
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise


class Snapshot:
    """One snapshot of an index, held open for reading.

    While a :class:`Snapshot` is open it holds a shared lock on the snapshot's ``.readers``
    file, so no build removes it; :meth:`close` releases it (so does the end of the process).
    Files are checked against the manifest's sizes and CRC32s by :meth:`verify` before they
    are read.
    """

    def __init__(self, index_dir: Path, name: str, path: Path, manifest: dict[str, Any], fd: int | None):
        self.index_dir = index_dir
        self.name = name
        self.path = path
        self.manifest = manifest
        self._fd = fd
        self._verified: set[str] = set()
        files = manifest.get("files")
        self.files: dict[str, dict[str, Any]] = files if isinstance(files, dict) else {}
        self._seen: dict[str, list[Any]] | None = None  # see _seen_file
        self._seen_new = False

    # ------------------------------------------------------------------ life

    def close(self) -> None:
        """Release the snapshot (a later build may then remove it)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def __del__(self) -> None:
        self.close()

    # ------------------------------------------------------------------ checks

    def _check_file(self, rel: str, *, full: bool) -> None:
        entry = self.files.get(rel)
        path = self.path / rel
        if not isinstance(entry, dict) or not isinstance(entry.get("size"), int) or not isinstance(entry.get("crc32"), str):
            raise CorruptIndexError(f"{self.path / MANIFEST} has no valid checksum entry for {rel}; rebuild the index")
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise CorruptIndexError(f"{path} is missing ({exc.strerror}); rebuild the index") from exc
        if size != entry["size"]:
            raise CorruptIndexError(f"{path} has {size} bytes, the manifest says {entry['size']}: the file is "
                                    "damaged; rebuild the index")
        mapped = rel.startswith(_MAPPED_PARTS) and rel.endswith((".npy", ".bin"))
        if full or not mapped or size <= VERIFY_MAX_BYTES:
            stamp = self._stamp(path, entry["crc32"])
            if full or stamp is None or self._seen_before().get(rel) != stamp:
                got = file_checksum(path)[1]
                if got != entry["crc32"]:
                    raise CorruptIndexError(f"{path} is damaged (CRC32 {got}, the manifest says {entry['crc32']}); "
                                            "rebuild the index")
                if stamp is not None:
                    self._seen_before()[rel] = stamp
                    self._seen_new = True
        self._verified.add(rel)

    # A file whose CRC32 an earlier process verified, and whose device, inode, size, mtime
    # and ctime are unchanged since (any write to a file moves its ctime, which no user can
    # set back), is not checksummed again when a part is opened: the checksums of a large
    # index cost a fresh process more than its whole query.  The record is kept per snapshot
    # outside the index ($POLICYIDX_CACHE, default ~/.cache/policyidx, ``verified/``; a
    # reader never writes into an index); ``policyidx check`` always checksums in full.

    @staticmethod
    def _stamp(path: Path, crc: str) -> list[Any] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        if time.time_ns() - st.st_ctime_ns < _RACY_NS:
            return None  # changed too recently for its ctime to tell a later change
        return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, crc]

    def _seen_file(self) -> Path:
        key = hashlib.sha256(f"{self.path.resolve()}\0{self.name}".encode("utf-8")).hexdigest()[:24]
        return cache_root() / "verified" / f"{key}.json"

    def _seen_before(self) -> dict[str, list[Any]]:
        if self._seen is None:
            try:
                seen = json.loads(self._seen_file().read_text(encoding="utf-8"))
                self._seen = seen if isinstance(seen, dict) else {}
            except (OSError, ValueError):
                self._seen = {}
        return self._seen

    def _remember(self) -> None:
        """Record the files verified in this process for the next ones (best effort)."""
        if not self._seen_new or self._seen is None:
            return
        self._seen_new = False
        write_record(self._seen_file(), json.dumps(self._seen).encode("utf-8"), keep=_SEEN_KEEP)

    def verify(self, part: str, *, full: bool = False, missing_ok: Sequence[str] = ()) -> None:
        """Check the files of ``part`` (``"rows"``, ``"keyword"``... or one file's relative
        path) against the manifest: present, of the recorded size, and of the recorded CRC32
        (large memory-mapped arrays only when ``full``).  Files whose names end with one of
        ``missing_ok`` may be absent (a cache the reader can rebuild in memory).

        Raises
        ------
        CorruptIndexError
            Naming the first damaged or missing file.
        """
        prefix = part.rstrip("/") + "/"
        names = [r for r in self.files if r == part or r.startswith(prefix)]
        for rel in names:
            if missing_ok and rel.endswith(tuple(missing_ok)) and not (self.path / rel).exists():
                continue
            if full or rel not in self._verified:
                self._check_file(rel, full=full)
        self._remember()

    def verify_file(self, path: Path) -> bool:
        """Check one file given by its path; ``False`` if the manifest does not list it
        (a file stored after the build, such as an alignment stored on request)."""
        try:
            rel = Path(path).relative_to(self.path).as_posix()
        except ValueError:
            return False
        if rel not in self.files:
            return False
        if rel not in self._verified:
            self._check_file(rel, full=False)
            self._remember()
        return True

    def report(self, index_path: Path, problems: list[str]) -> dict[str, Any]:
        """What ``Index.check`` returns: ``index``, ``snapshot``, ``files`` (count), ``bytes``
        and ``problems``."""
        return {"index": str(index_path), "snapshot": self.name, "files": len(self.files),
                "bytes": sum(int(f.get("size", 0)) for f in self.files.values() if isinstance(f, dict)),
                "problems": problems}

    def check(self) -> list[str]:
        """Every problem found by checksumming every listed file in full (an empty list for a
        sound snapshot)."""
        problems = []
        for rel in sorted(self.files):
            try:
                self._check_file(rel, full=True)
            except CorruptIndexError as exc:
                problems.append(str(exc))
        self._remember()
        return problems


def read_manifest(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The ``manifest.json`` at the top of ``path`` (a sharded index, or a layout before
    snapshots), or ``None`` and what is wrong."""
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        return None, f"no index at {path} (no manifest.json)"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"{manifest_path} is not readable JSON ({exc})"
    return (manifest, None) if isinstance(manifest, dict) else (None, f"{manifest_path} is not a JSON object")


def flat_snapshot(path: Path, manifest: dict[str, Any]) -> Snapshot:
    """A directory laid out as one snapshot but not inside an index's ``snapshots/`` (a
    shard of a sharded index): read as it is, with no lock; its files are verified against
    the checksums of its own manifest when it lists them (the shards of a sharded index do)."""
    return Snapshot(path, "", path, manifest, None)


def open_snapshot(index_dir: str | Path) -> Snapshot:
    """Open the current snapshot of the index at ``index_dir`` for reading.

    Raises
    ------
    IndexError_
        No index there (the message starts ``no index at``).
    StaleIndexError
        An index of the layout before snapshots (format version 1): rebuild it.
    CorruptIndexError
        A damaged pointer, manifest, or a snapshot that is gone.
    """
    index_dir = Path(index_dir)
    for _attempt in range(50):
        try:
            name, manifest_crc = _read_pointer(index_dir)
        except FileNotFoundError:
            legacy = index_dir / MANIFEST
            if legacy.is_file():
                version = None
                try:
                    version = json.loads(legacy.read_text(encoding="utf-8")).get("format_version")
                except (OSError, ValueError, AttributeError):
                    pass
                if version == FORMAT_VERSION:  # a sharded index of the layout before snapshots
                    raise StaleIndexError(f"index {index_dir} is a sharded index of the layout before snapshots "
                                          "(no CURRENT file)")
                raise StaleIndexError(f"index {index_dir} has format version {version}, this library reads "
                                      f"{FORMAT_VERSION}")
            raise IndexError_(f"no index at {index_dir} (no {POINTER} file)") from None
        except (IsADirectoryError, PermissionError) as exc:
            raise IndexError_(f"cannot read {index_dir / POINTER} ({exc.strerror})") from exc
        path = index_dir / SNAPSHOTS / name
        readers = path / READERS
        try:
            fd: int | None = os.open(readers, os.O_RDONLY)
        except FileNotFoundError:
            if _pointer_moved(index_dir, name):
                continue  # a build replaced the snapshot between the two reads: read the pointer again
            raise CorruptIndexError(f"{POINTER} of {index_dir} names snapshot {name}, but {readers} is missing; "
                                    "rebuild the index") from None
        except PermissionError:
            fd = None  # a read-only copy nobody builds into: nothing to protect
        if fd is not None:
            _lock(fd, fcntl.LOCK_SH if fcntl else 0, wait=True)
            try:
                same = os.stat(readers).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # removed by a build after we read the pointer
                os.close(fd)
                continue
        try:
            manifest = _manifest_from(path / MANIFEST, manifest_crc)
        except BaseException:
            if fd is not None:
                os.close(fd)
            raise
        return Snapshot(index_dir, name, path, manifest, fd)
    raise IndexError_(f"the index at {index_dir} changed 50 times while it was being opened; try again")


def _pointer_moved(index_dir: Path, name: str) -> bool:
    try:
        return _read_pointer(index_dir)[0] != name
    except (OSError, CorruptIndexError):
        return False


# ----------------------------------------------------------------------------- writing


@contextmanager
def writer_lock(index_dir: Path, *, wait: bool = False) -> Iterator[int]:
    """Hold the build lock of an index (creating the directory); one writer at a time.

    Raises
    ------
    IndexBusyError
        Another process holds it and ``wait`` is false.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise IndexError_(f"cannot build the index at {index_dir}: {path} cannot be opened ({exc.strerror})") from exc
    try:
        if not _lock(fd, fcntl.LOCK_EX if fcntl else 0, wait=False):
            if not wait:
                holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
                raise IndexBusyError(f"another process (pid {holder}) is building the index at {index_dir} "
                                     f"(it holds {path}); wait for it to finish, or build elsewhere with --index")
            _lock(fd, fcntl.LOCK_EX, wait=True)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield fd
    finally:
        os.close(fd)  # releases the lock


def is_index_dir(index_dir: Path) -> bool:
    """Whether ``index_dir`` holds (or held) a policyidx index of any format version."""
    return any((index_dir / n).exists() for n in (POINTER, SNAPSHOTS, LOCK_FILE, MANIFEST))


def new_snapshot_dir(index_dir: Path) -> tuple[str, Path]:
    """A fresh ``snapshots/.building-<n>`` directory (hold :func:`writer_lock`) and ``n``."""
    snaps = index_dir / SNAPSHOTS
    snaps.mkdir(parents=True, exist_ok=True)
    numbers = [0]
    for p in snaps.iterdir():
        digits = p.name.rsplit("-", 1)[-1]
        if digits.isdigit():
            numbers.append(int(digits))
    try:
        numbers.append(int(_read_pointer(index_dir)[0]))
    except (OSError, CorruptIndexError):
        pass
    name = str(max(numbers) + 1)
    path = snaps / f"{_BUILDING}{name}"
    path.mkdir()
    return name, path


def commit_snapshot(index_dir: Path, name: str, building: Path, manifest: dict[str, Any]) -> Path:
    """Seal a built snapshot and make it current (hold :func:`writer_lock`).

    Records every file's size and CRC32 in ``manifest.json``, flushes the files and
    directories to the disk, renames ``building`` to ``snapshots/<name>`` and replaces
    ``CURRENT`` atomically; removes what an index of format 1 kept at the top level and the
    snapshots no reader has open.  Returns the snapshot's path.
    """
    (building / READERS).touch()
    manifest["snapshot"] = name
    manifest["files"] = seal(building)
    data = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
    (building / MANIFEST).write_bytes(data)
    fsync_tree(building)
    final = index_dir / SNAPSHOTS / name
    os.rename(building, final)
    fsync_dir(index_dir / SNAPSHOTS)
    atomic_write_bytes(index_dir / POINTER, _pointer_text(name, _crc(data)).encode("ascii"), durable=True)
    for entry in _LEGACY_ENTRIES:  # the layout before snapshots
        p = index_dir / entry
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        elif p.is_file():
            p.unlink(missing_ok=True)
    clean_snapshots(index_dir)
    return final


def write_snapshot(target: Path, write: Callable[[Path], dict[str, Any]], *, locked: bool = False) -> dict[str, Any]:
    """Build a new snapshot of the index at ``target`` and make it current; returns its manifest.

    Holds the index's build lock (``locked``: the caller already holds it), removes what
    interrupted builds left, calls ``write(directory)`` to fill a fresh
    ``snapshots/.building-<n>`` and return the snapshot's manifest, then seals and commits it
    (:func:`commit_snapshot`).  On any failure, ``KeyboardInterrupt`` included, the partial
    snapshot is removed, and so is ``target`` when this build created it.  A single and a
    sharded build both go through here.

    Raises
    ------
    IndexBusyError
        Another process is building the same index.
    IndexError_
        ``target`` is a file, or a directory with other things in it than an index.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise IndexError_(f"cannot build an index at {target}: it is a file")
    if target.is_dir() and any(target.iterdir()) and not is_index_dir(target):
        raise IndexError_(f"cannot build an index at {target}: the directory holds other files; "
                          "choose an empty or new directory")
    created = not target.exists()
    if locked:
        return _write_snapshot_locked(target, write, created)
    with writer_lock(target):
        return _write_snapshot_locked(target, write, created)


def _write_snapshot_locked(target: Path, write: Callable[[Path], dict[str, Any]], created: bool) -> dict[str, Any]:
    clean_snapshots(target)
    name, building = new_snapshot_dir(target)
    try:
        manifest = write(building)
        commit_snapshot(target, name, building, manifest)
        return manifest
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        if created:  # nothing was there before: leave nothing
            shutil.rmtree(target, ignore_errors=True)
        raise


def clean_snapshots(index_dir: Path) -> list[str]:
    """Remove what no reader can use (hold :func:`writer_lock`): the snapshots that are not
    current and not open in any process, leftovers of interrupted builds (``.building-*``
    here, and the temporary siblings builds of format 1 left beside the index).  Returns the
    names removed."""
    removed: list[str] = []
    snaps = index_dir / SNAPSHOTS
    try:
        current = _read_pointer(index_dir)[0]
    except (OSError, CorruptIndexError):
        current = None
    if snaps.is_dir():
        for p in sorted(snaps.iterdir()):
            if p.name == current:
                continue
            if p.name.startswith((_BUILDING, _TRASH)) or not p.is_dir():
                _remove(p)
                removed.append(p.name)
                continue
            if not p.name.isdigit():
                continue  # not ours
            fd = None
            try:
                fd = os.open(p / READERS, os.O_RDONLY)
            except FileNotFoundError:
                pass
            try:
                if fd is not None and not _lock(fd, fcntl.LOCK_EX if fcntl else 0, wait=False):
                    continue  # a reader has it open
                trash = snaps / f"{_TRASH}{p.name}-{os.getpid()}-{time.monotonic_ns()}"
                os.rename(p, trash)  # readers that read the old pointer now see it gone
                _remove(trash)
                removed.append(p.name)
            finally:
                if fd is not None:
                    os.close(fd)
    parent = index_dir.parent
    for pattern in (f".{index_dir.name}.building-*", f".{index_dir.name}.old-*"):
        for p in parent.glob(pattern):
            _remove(p)
            removed.append(p.name)
    return removed


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- staleness


def _file_fingerprint(path: str | Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


@lru_cache(maxsize=1)
def data_fingerprint() -> str:
    """A fingerprint of the data files bundled with the library (glossary, vocabulary, user
    dictionary): segmentation and expansion depend on them (computed once per process)."""
    h = hashlib.sha256()
    data = Path(__file__).resolve().parent.parent / "data"
    for p in sorted(data.glob("*")):
        if p.is_file():
            h.update(p.name.encode("utf-8") + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def build_fingerprints(glossary_files: Sequence[str | Path], catalog: Catalog | None = None,
                       corpus_fingerprint: str | None = None) -> dict[str, Any]:
    """What :func:`staleness` compares besides the corpus: the library version, the bundled
    data files and every glossary file of the catalog; with the ``catalog`` and the
    ``corpus_fingerprint`` the index records, also the corpus's :func:`corpus_stamp`."""
    out: dict[str, Any] = {"library_version": __version__, "data_fingerprint": data_fingerprint(),
                           "glossary_fingerprints": {str(g): _file_fingerprint(g) for g in glossary_files}}
    if catalog is not None and corpus_fingerprint is not None:
        out["corpus_stamp"] = corpus_stamp(catalog, corpus_fingerprint)
    return out


#: A file modified less than this long before a stamp is taken is not stamped: a change
#: made within the file system's timestamp granularity might not move its mtime.
_RACY_NS = 2_000_000_000


def _stat_list(paths: Sequence[Path]) -> list[list[Any]] | None:
    out: list[list[Any]] = []
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            return None
        out.append([str(p), st.st_size, st.st_mtime_ns])
    return out


def corpus_stamp(catalog: Catalog, corpus_fingerprint: str) -> dict[str, Any] | None:
    """Size and modification time (ns) of the catalog file and of every document file, taken
    around a check that they still hash to ``corpus_fingerprint``; ``None`` when that check
    fails, a file is missing, or one was modified in the last two seconds (as git's index,
    a stamp of recently modified files cannot be trusted).

    :func:`staleness` compares the stamp instead of hashing the corpus (and parsing its
    catalog: 2.5 s for 4,000 documents) when every size and mtime is unchanged.
    """
    from ..corpus import catalog_fingerprint

    paths = [Path(catalog.path).resolve()] + [Path(e.file) for e in catalog.documents.values()]
    now = time.time_ns()
    before = _stat_list(paths)
    if before is None or any(now - mtime < _RACY_NS for _, _, mtime in before):
        return None
    if catalog_fingerprint(catalog) != corpus_fingerprint or _stat_list(paths) != before:
        return None  # the corpus changed during the build: no shortcut for this index
    return {"catalog": before[0], "files": before[1:]}


def _stamp_holds(stamp: Any, catalog_file: Path) -> bool:
    """Whether a :func:`corpus_stamp` still describes the corpus whose catalog is ``catalog_file``."""
    try:
        recorded = [stamp["catalog"], *stamp["files"]]
        if recorded[0][0] != str(catalog_file.resolve()):
            return False
        # file by file, stopping at the first that moved (a copied corpus fails the manifest's
        # stamp at its first file, then the recorded one is read): opening an index of 4,150
        # documents so checks its stamps in 0.03 s, against 0.12 s building a path per file
        # and comparing whole lists
        for name, size, mtime in recorded:
            st = os.stat(name)
            if st.st_size != size or st.st_mtime_ns != mtime:
                return False
        return True
    except (TypeError, KeyError, IndexError, ValueError, OSError):
        return False


def staleness(path: Path, manifest: dict[str, Any], corpus_root: Path | None, corpus: Corpus | None,
              is_default: bool) -> tuple[str | None, Path | None]:
    """Why the index at ``path`` must be rebuilt (``None`` if it need not), and the corpus
    directory it belongs to.

    An index is stale when its format version or library version is not this library's,
    when the data files bundled with the library or a glossary file of the catalog changed
    (or vanished) since the build, when the corpus (``corpus_root``, else the one in the
    manifest; for the default index the bundled one) has another fingerprint than the one it
    was built from, or when that corpus is gone.  The corpus is hashed only when its
    :func:`corpus_stamp` (sizes and mtimes) no longer holds.
    """
    if manifest.get("format_version") != FORMAT_VERSION:
        return (f"index {path} has format version {manifest.get('format_version')}, this library reads "
                f"{FORMAT_VERSION}"), corpus_root
    analysis = (manifest.get("analyzer") or {}).get("version")
    if analysis != ANALYZER_VERSION:
        return (f"index {path} was analysed with analyzer version {analysis}, this library has "
                f"{ANALYZER_VERSION}"), corpus_root
    if manifest.get("library_version") != __version__:
        return (f"index {path} was built by policyidx {manifest.get('library_version')}, this is "
                f"{__version__}"), corpus_root
    if "data_fingerprint" in manifest and manifest["data_fingerprint"] != data_fingerprint():
        return (f"the glossary or dictionary files bundled with policyidx changed since index {path} "
                "was built"), corpus_root
    for g, fp in (manifest.get("glossary_fingerprints") or {}).items():
        if _file_fingerprint(g) != fp:
            state = "is gone" if not Path(g).is_file() else "changed"
            return f"glossary file {g} {state} since index {path} was built", corpus_root
    root = corpus_root or Path(manifest.get("corpus_path", ""))
    if corpus_root is None and is_default:
        root = bundled_corpus_path()  # like Corpus.load(None); the CLI passes $POLICYIDX_CORPUS in
    if not (root / "catalog.toml").is_file():
        return (f"the corpus index {path} was built from ({root}) is gone (no catalog.toml); pass the corpus "
                "(corpus= / --corpus) or build the index again"), root
    cat_file = root / "catalog.toml"
    if corpus is None and (_stamp_holds(manifest.get("corpus_stamp"), cat_file)
                           or _stamp_holds(_recorded_stamp(path, manifest), cat_file)):
        return None, root  # no file's size or mtime moved since the build (or a later open) checked them
    catalog = Catalog.load(cat_file) if corpus is None else None
    fp = corpus.fingerprint() if corpus is not None else catalog_fingerprint(catalog)  # type: ignore[arg-type]
    problem = None
    if fp != manifest.get("corpus_fingerprint"):
        problem = (f"index {path} was built for corpus {manifest.get('corpus_fingerprint')} "
                   f"but the corpus at {root} is now {fp}")
    elif catalog is not None:
        _record_stamp(path, manifest, catalog)
    return problem, root


# Files whose content is unchanged but whose mtimes moved (a fresh checkout or copy of the
# corpus, `touch`) would make every later open hash the whole corpus again.  Once a full check
# finds the corpus unchanged, its new stamp is recorded outside the index (as the verified
# files: $POLICYIDX_CACHE, default ~/.cache/policyidx, ``stamps/``) for the next processes.


def _stamp_file(path: Path, manifest: dict[str, Any]) -> Path:
    key = hashlib.sha256(f"{Path(path).resolve()}\0{manifest.get('build_id')}\0{manifest.get('corpus_fingerprint')}"
                         .encode("utf-8")).hexdigest()[:24]
    return cache_root() / "stamps" / f"{key}.json"


def _recorded_stamp(path: Path, manifest: dict[str, Any]) -> Any:
    try:
        rec = json.loads(_stamp_file(path, manifest).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(rec, dict) or rec.get("corpus_fingerprint") != manifest.get("corpus_fingerprint"):
        return None
    return rec.get("stamp")


def _record_stamp(path: Path, manifest: dict[str, Any], catalog: Catalog) -> None:
    """Best effort: a stamp of the corpus as it is now, for :func:`staleness` in later processes."""
    fp = manifest.get("corpus_fingerprint")
    if not isinstance(fp, str):
        return
    stamp = corpus_stamp(catalog, fp)
    if stamp is None:
        return
    write_record(_stamp_file(path, manifest), json.dumps({"corpus_fingerprint": fp, "stamp": stamp}).encode("utf-8"),
                 keep=_SEEN_KEEP)
