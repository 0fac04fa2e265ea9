"""Where an index lives and what it stores besides the retrievers' files: the rows (clause
ids, texts, records, documents), the manifest, and whether the index is stale."""

from __future__ import annotations

import hashlib
import json
import os
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..catalog import Catalog
from ..corpus import Corpus, bundled_corpus_path, catalog_fingerprint
from ..model import Clause
from ..text.analysis import ANALYZER_VERSION

__all__ = ["FORMAT_VERSION", "LANG_CODES", "default_index_path", "RowStore", "write_rows", "read_manifest",
           "staleness"]

#: Version of the index layout; an index of another version must be rebuilt.
#: 2: one English stemmer for index terms and glossary matching (``licence`` -> ``licens``),
#: domain terms added to jieba once in sorted order, the analyzer described in the manifest.
FORMAT_VERSION = 2
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


class _Blob:
    """A list of strings stored as one UTF-8 file plus offsets (memory-mapped)."""

    def __init__(self, directory: Path, name: str):
        self.offsets = np.load(directory / f"{name}.offsets.npy", mmap_mode="r", allow_pickle=False)
        size = (directory / f"{name}.bin").stat().st_size
        self.data = np.memmap(directory / f"{name}.bin", dtype=np.uint8, mode="r") if size else np.zeros(0, np.uint8)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return bytes(self.data[a:b]).decode("utf-8")


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
    (directory / "docs.json").write_text(json.dumps(
        [{"id": d.id, "work": d.work, "lang": d.lang, "role": d.role, "title": d.title,
          "fingerprint": corpus.doc_fingerprint(d.id)} for d in docs], ensure_ascii=False, indent=1), encoding="utf-8")


def _hit_context(c: Clause) -> dict[str, Any]:
    """What a search hit reports of its clause beyond the text: citation, parent headings,
    offsets into the document text."""
    return {"citation": c.citation() if c.kind not in ("front", "back") else "",
            "parents": [p.heading() for p in c.ancestors()], "start": c.start, "end": c.end}


class RowStore:
    """The rows of an index, memory-mapped: row -> clause id, text, record, document."""

    def __init__(self, directory: Path):
        self._ids = _Blob(directory, "ids")
        self._texts = _Blob(directory, "texts")
        self._records = _Blob(directory, "records")
        self.row_doc = np.load(directory / "row_doc.npy", mmap_mode="r", allow_pickle=False)
        self.row_lang = np.load(directory / "row_lang.npy", mmap_mode="r", allow_pickle=False)
        self.docs: list[dict[str, Any]] = json.loads((directory / "docs.json").read_text(encoding="utf-8"))
        self.doc_index = {d["id"]: i for i, d in enumerate(self.docs)}

    def __len__(self) -> int:
        return len(self._ids)

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
        rec = json.loads(self._records[row])
        rec["id"] = self._ids[row]
        rec["text"] = self._texts[row]
        return rec


# ----------------------------------------------------------------------------- manifest


def read_manifest(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The manifest of the index at ``path``, or ``None`` and what is wrong."""
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        return None, f"no index at {path} (no manifest.json)"
    try:
        return json.loads(manifest_path.read_text(encoding="utf-8")), None
    except (OSError, json.JSONDecodeError) as exc:
        return None, f"{manifest_path} is not readable JSON ({exc})"


def staleness(path: Path, manifest: dict[str, Any], corpus_root: Path | None, corpus: Corpus | None,
              is_default: bool) -> tuple[str | None, Path | None]:
    """Why the index at ``path`` must be rebuilt (``None`` if it need not), and the corpus
    directory it belongs to.

    An index is stale when its format version is not this library's, or when the corpus
    (``corpus_root``, else the one in the manifest; for the default index the bundled one)
    has another fingerprint than the one it was built from.
    """
    if manifest.get("format_version") != FORMAT_VERSION:
        return (f"index {path} has format version {manifest.get('format_version')}, this library reads "
                f"{FORMAT_VERSION} (the index terms changed)"), corpus_root
    analysis = (manifest.get("analyzer") or {}).get("version")
    if analysis != ANALYZER_VERSION:
        return (f"index {path} was analysed with analyzer version {analysis}, this library has "
                f"{ANALYZER_VERSION}"), corpus_root
    root = corpus_root or Path(manifest.get("corpus_path", ""))
    if corpus_root is None and is_default:
        root = bundled_corpus_path()  # like Corpus.load(None); the CLI passes $POLICYIDX_CORPUS in
    problem = None
    if (root / "catalog.toml").is_file():
        fp = corpus.fingerprint() if corpus is not None else catalog_fingerprint(Catalog.load(root / "catalog.toml"))
        if fp != manifest.get("corpus_fingerprint"):
            problem = (f"index {path} was built for corpus {manifest.get('corpus_fingerprint')} "
                       f"but the corpus at {root} is now {fp}")
        corpus_root = root
    return problem, corpus_root
