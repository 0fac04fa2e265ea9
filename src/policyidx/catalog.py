"""The corpus catalog (``catalog.toml``): the source of document ids and bibliographic facts.

A *work* is one policy instrument; a *document* is one text of a work in one language and
role (``original``, ``translation``, ``interpretation``).  Loading validates the catalog and
every error names the entry at fault.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .errors import CatalogError

__all__ = ["Work", "DocumentEntry", "Catalog", "ROLES", "LANGS", "FORMATS"]

ROLES = ("original", "translation", "interpretation")
LANGS = ("zh", "ja", "en")
FORMATS = ("text", "html", "pdf")

_WORK_KEYS = {
    "id": str,
    "doc_number": str,
    "title_zh": str,
    "title_en": str,
    "issuers": list,
    "signed": str,
    "published": str,
    "in_force": list,
    "source_url": str,
    "notes": str,
}
_DOC_KEYS = {
    "id": str,
    "work": str,
    "lang": str,
    "role": str,
    "translator": str,
    "title": str,
    "file": str,
    "format": str,
    "extracted_from": str,
    "published": str,
    "source_url": str,
    "encoding": str,
    "notes": str,
}
_TOP_KEYS = {"work", "document", "glossary"}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass(frozen=True)
class Work:
    """One policy instrument as described in the catalog."""

    id: str
    doc_number: str = ""
    title_zh: str = ""
    issuers: tuple[str, ...] = ()
    signed: str = ""
    published: str = ""
    in_force: tuple[str, ...] = ()
    source_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentEntry:
    """One document of the catalog: where its file is and what it is."""

    id: str
    work: str
    lang: str
    role: str
    title: str
    file: Path
    format: str = "text"
    translator: str = ""
    extracted_from: str = ""
    published: str = ""
    source_url: str = ""
    encoding: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def meta(self, work: Work) -> dict[str, Any]:
        """Catalog facts of this document merged with those of its work (document wins)."""
        out: dict[str, Any] = {
            "work": work.id,
            "doc_number": work.doc_number,
            "title_zh": work.title_zh,
            "issuers": list(work.issuers),
            "signed": work.signed,
            "published": self.published or work.published,
            "in_force": list(work.in_force),
            "source_url": self.source_url or work.source_url,
            "translator": self.translator,
            "extracted_from": self.extracted_from,
        }
        out.update(work.extra)
        out.update(self.extra)
        return {k: v for k, v in out.items() if v not in ("", [], None)}


@dataclass(frozen=True)
class Catalog:
    """The validated content of a ``catalog.toml``."""

    path: Path
    works: dict[str, Work]
    documents: dict[str, DocumentEntry]
    glossary: tuple[Path, ...] = ()

    @classmethod
    def load(cls, path: str | Path) -> Catalog:
        """Read and validate a catalog file.

        Parameters
        ----------
        path
            The ``catalog.toml`` file; document ``file`` entries are relative to its folder.

        Raises
        ------
        CatalogError
            On a syntax error, an unknown key, a missing file, a duplicate id, a document whose
            work is unknown, or an id that does not follow ``<work>[-suffix].<lang>``.
        """
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise CatalogError(f"{path}: no catalog file here (expected catalog.toml)") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise CatalogError(f"{path}: not a valid TOML file: {exc}") from None
        return cls.from_dict(raw, path)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], path: Path) -> Catalog:
        """Validate an already-parsed catalog (``path`` is used in messages and for files)."""
        unknown = set(raw) - _TOP_KEYS
        if unknown:
            raise CatalogError(f"{path}: unknown top-level key(s) {sorted(unknown)}; expected [[work]], [[document]], glossary")
        works: dict[str, Work] = {}
        for i, entry in enumerate(raw.get("work", []), 1):
            where = f"{path}: [[work]] #{i}" + (f" ({entry.get('id')!r})" if isinstance(entry, dict) and "id" in entry else "")
            data = _check_keys(entry, _WORK_KEYS, where)
            wid = data["id"]
            if not _ID_RE.match(wid):
                raise CatalogError(f"{where}: work id {wid!r} must be lower-case letters, digits, '-' or '_'")
            if wid in works:
                raise CatalogError(f"{where}: duplicate work id {wid!r}")
            for key in ("signed", "published"):
                if key in data and data[key] and not _DATE_RE.match(data[key]):
                    raise CatalogError(f"{where}: {key} = {data[key]!r} is not an ISO date (YYYY-MM-DD)")
            works[wid] = Work(
                id=wid,
                doc_number=data.get("doc_number", ""),
                title_zh=data.get("title_zh", ""),
                issuers=tuple(data.get("issuers", ())),
                signed=data.get("signed", ""),
                published=data.get("published", ""),
                in_force=tuple(str(x) for x in data.get("in_force", ())),
                source_url=data.get("source_url", ""),
                extra={k: v for k, v in data.items() if k == "notes"},
            )
        docs: dict[str, DocumentEntry] = {}
        base = path.parent
        for i, entry in enumerate(raw.get("document", []), 1):
            where = f"{path}: [[document]] #{i}" + (f" ({entry.get('id')!r})" if isinstance(entry, dict) and "id" in entry else "")
            data = _check_keys(entry, _DOC_KEYS, where)
            for key in ("work", "lang", "role", "title", "file"):
                if not data.get(key):
                    raise CatalogError(f"{where}: missing required key {key!r}")
            did = data["id"]
            if did in docs:
                raise CatalogError(f"{where}: duplicate document id {did!r}")
            if data["work"] not in works:
                raise CatalogError(
                    f"{where}: work {data['work']!r} is not in the catalog; add a [[work]] entry with id = {data['work']!r}"
                )
            lang, role, fmt = data["lang"], data["role"], data.get("format", "text")
            if lang not in LANGS:
                raise CatalogError(f"{where}: lang {lang!r} is not one of {LANGS}")
            if role not in ROLES:
                raise CatalogError(f"{where}: role {role!r} is not one of {ROLES}")
            if fmt not in FORMATS:
                raise CatalogError(f"{where}: format {fmt!r} is not one of {FORMATS}")
            stem, _, suffix_lang = did.rpartition(".")
            if suffix_lang != lang:
                raise CatalogError(f"{where}: document id {did!r} must end with '.{lang}' (its lang)")
            if role in ("original", "translation") and stem != data["work"]:
                raise CatalogError(f"{where}: an {role}'s id must be '{data['work']}.{lang}', not {did!r}")
            if role == "interpretation" and not stem.startswith(data["work"] + "-"):
                raise CatalogError(f"{where}: an interpretation's id must look like '{data['work']}-<suffix>.{lang}', not {did!r}")
            file = (base / data["file"]).resolve()
            if not file.is_file():
                raise CatalogError(f"{where}: file {data['file']!r} does not exist (looked for {file})")
            docs[did] = DocumentEntry(
                id=did,
                work=data["work"],
                lang=lang,
                role=role,
                title=data["title"],
                file=file,
                format=fmt,
                translator=data.get("translator", ""),
                extracted_from=data.get("extracted_from", ""),
                published=data.get("published", ""),
                source_url=data.get("source_url", ""),
                encoding=data.get("encoding", ""),
                extra={k: v for k, v in data.items() if k == "notes"},
            )
        gl = raw.get("glossary", [])
        if isinstance(gl, str):
            gl = [gl]
        if not isinstance(gl, list) or not all(isinstance(g, str) for g in gl):
            raise CatalogError(f"{path}: glossary must be a file name or a list of file names")
        glossary = []
        for g in gl:
            gp = (base / g).resolve()
            if not gp.is_file():
                raise CatalogError(f"{path}: glossary file {g!r} does not exist (looked for {gp})")
            glossary.append(gp)
        return cls(path=path, works=works, documents=docs, glossary=tuple(glossary))


def _check_keys(entry: Any, allowed: dict[str, type], where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise CatalogError(f"{where}: expected a table of keys, found {type(entry).__name__}")
    if "id" not in entry:
        raise CatalogError(f"{where}: missing required key 'id'")
    for key, value in entry.items():
        if key not in allowed:
            raise CatalogError(f"{where}: unknown key {key!r}; allowed keys are {sorted(allowed)}")
        if not isinstance(value, allowed[key]):
            raise CatalogError(
                f"{where}: key {key!r} must be a {allowed[key].__name__}, found {type(value).__name__} {value!r}"
            )
    return entry
