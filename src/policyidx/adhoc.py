"""Ad hoc alignment of two files, with no corpus and no catalog.

:func:`align_files` is what ``policyidx align FILE_A FILE_B`` and the web page's upload form
run: each file is parsed with the corpus parsers (format and language detected from the
content, overridable), and the two documents are aligned with :func:`policyidx.align`.

>>> res = align_files("original.html", "translation.pdf")                 # doctest: +SKIP
>>> res.src.lang, res.tgt.lang, len(res.alignment.pairs)                  # doctest: +SKIP
('zh', 'ja', 34)
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .corpus import parse_document
from .errors import ParseError, QueryError
from .parsers import MAX_BYTES

if TYPE_CHECKING:  # pragma: no cover
    from .alignment import Alignment
    from .text.glossary import Glossary
    from .model import Document

__all__ = ["FileAlignment", "align_files", "document_from_bytes", "detect_format", "FoundDocument", "scan_folder",
           "catalog_text", "write_catalog", "DOCUMENT_SUFFIXES"]

FORMATS = ("text", "html", "pdf")
LANGS = ("zh", "ja", "en")
_HTML_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|div|p)\b",
                         re.IGNORECASE | re.DOTALL)


@dataclass
class FileAlignment:
    """The result of :func:`align_files`: the alignment and the two parsed documents."""

    alignment: Alignment
    src: Document
    tgt: Document


def detect_format(data: bytes, name: str = "") -> str:
    """``pdf``, ``html`` or ``text`` from the content (a PDF signature, an HTML start tag),
    falling back on the file extension.

    Parameters
    ----------
    data : bytes
        The file's content (its first kilobytes are enough).
    name : str
        The file name, for the extension.
    """
    head = data[:4096].lstrip(b"\xef\xbb\xbf")
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: decode to look for tags
        text = head.decode("utf-16", errors="ignore").encode("utf-8")
        return "html" if _HTML_START.match(text) else "text"
    if _HTML_START.match(head):
        return "html"
    ext = Path(name).suffix.lower()
    return {".html": "html", ".htm": "html", ".xhtml": "html", ".pdf": "pdf"}.get(ext, "text")


def _doc_id(name: str, lang: str) -> str:
    stem = Path(name).name
    for suffix in (".zh", ".ja", ".en"):
        stem = stem.replace(suffix + ".", ".")
    stem = stem.split(".", 1)[0] or "document"
    stem = re.sub(r"[^\w\-]+", "-", stem).strip("-") or "document"
    return f"{stem[:60]}.{lang}"


def document_from_bytes(
    data: bytes,
    name: str,
    *,
    lang: str | None = None,
    format: str | None = None,
    doc_id: str | None = None,
    role: str = "original",
    extracted_from: str = "",
    encoding: str = "",
) -> Document:
    """Parse one file's content into a :class:`~policyidx.model.Document` without a catalog.

    Parameters
    ----------
    data : bytes
        The content (at most the parsers' size limit).
    name : str
        The file name, for messages, the extension and the default id.
    lang : {"zh", "ja", "en"}, optional
        The language; detected from the parsed text when ``None`` (kana means Japanese,
        Han without kana Chinese).
    format : {"text", "html", "pdf"}, optional
        Detected with :func:`detect_format` when ``None``.
    doc_id : str, optional
        Default: the file name's stem and the language (``notice.zh``).
    role : str
        ``original`` or ``translation``.
    extracted_from : str
        ``pdf`` for text extracted from a PDF (wrapped lines, page numbers).
    encoding : str
        Force a text encoding instead of detecting it.

    Raises
    ------
    ParseError
        Binary, undecodable or unparsable content (the message names the file).
    QueryError
        An unknown format or language.
    """
    from .text.analysis import detect_lang

    if format is not None and format not in FORMATS:
        raise QueryError(f"unknown format {format!r} for {name}: expected one of {', '.join(FORMATS)}")
    if lang is not None and lang not in LANGS:
        raise QueryError(f"unknown language {lang!r} for {name}: expected one of {', '.join(LANGS)}")
    fmt = format or detect_format(data, name)
    with tempfile.TemporaryDirectory(prefix="policyidx-upload-") as tmp:
        # the parsers read files; the name inside the temporary folder is ours, never the caller's
        path = Path(tmp) / f"upload.{ {'pdf': 'pdf', 'html': 'html'}.get(fmt, 'txt') }"
        path.write_bytes(data)

        def parse(lg: str) -> Document:
            try:
                doc = parse_document(path, doc_id=doc_id or _doc_id(name, lg), lang=lg, role=role, format=fmt,
                                     title=Path(name).name, extracted_from=extracted_from, encoding=encoding)
            except ParseError as exc:
                # the parsers name the file as they were given it or relative to the working
                # directory: either way it is our temporary file, shown as the caller's name
                msg = str(exc)
                for shown in sorted({str(path), os.path.relpath(path)}, key=len, reverse=True):
                    msg = msg.replace(shown, name)
                raise ParseError(msg) from None
            doc.source_path = None
            return doc

        if lang is not None:
            return parse(lang)
        first = parse("zh")
        found = detect_lang(first.text[:200_000])
        return first if found == "zh" else parse(found)


def align_files(
    file_a: str | os.PathLike[str],
    file_b: str | os.PathLike[str],
    *,
    lang_a: str | None = None,
    lang_b: str | None = None,
    format_a: str | None = None,
    format_b: str | None = None,
    extracted_from_a: str = "",
    extracted_from_b: str = "",
    encoder: str | None = None,
    glossary: Glossary | None = None,
) -> FileAlignment:
    """Parse two files and align them: an original and its translation, no corpus needed.

    Parameters
    ----------
    file_a, file_b : path-like
        The source (typically the Chinese original) and the target file.
    lang_a, lang_b : {"zh", "ja", "en"}, optional
        Languages; detected from each parsed text when ``None``.
    format_a, format_b : {"text", "html", "pdf"}, optional
        Formats; detected from the content when ``None`` (see :func:`detect_format`).
    extracted_from_a, extracted_from_b : str
        ``pdf`` for a text file extracted from a PDF (wrapped lines, page numbers).
    encoder, glossary
        As in :func:`policyidx.align`.

    Returns
    -------
    FileAlignment
        ``alignment``, ``src`` and ``tgt``; export it with :func:`policyidx.export.to_tmx` and
        the other writers.

    Raises
    ------
    ParseError
        A file is missing, binary, undecodable or unparsable (the message names it).
    """
    from .alignment import align

    docs: list[Document] = []
    sides = ((file_a, lang_a, format_a, extracted_from_a), (file_b, lang_b, format_b, extracted_from_b))
    for k, (path, lang, fmt, extracted) in enumerate(sides):
        p = Path(path)
        try:
            size = p.stat().st_size
            if size > MAX_BYTES:
                raise ParseError(f"{p}: {size / 1e6:.0f} MB is larger than the {MAX_BYTES / 1e6:.0f} MB a policy "
                                 "document can be")
            data = p.read_bytes()
        except OSError as exc:
            raise ParseError(f"{p}: cannot read the file ({exc.strerror or exc})") from None
        role = "original" if k == 0 else "translation"
        doc = document_from_bytes(data, str(p), lang=lang, format=fmt, role=role, extracted_from=extracted)
        if docs and doc.id == docs[0].id:  # two files named alike in one language
            doc = document_from_bytes(data, str(p), lang=doc.lang, format=fmt, role=role, extracted_from=extracted,
                                      doc_id=doc.id.rsplit(".", 1)[0] + "-2." + doc.lang)
        docs.append(doc)
    src, tgt = docs
    return FileAlignment(alignment=align(src, tgt, encoder=encoder, glossary=glossary), src=src, tgt=tgt)


# --------------------------------------------------------------------------- a folder as a corpus

#: File name endings read as documents by :func:`scan_folder` (others are left alone).
DOCUMENT_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".pdf")
_LANG_IN_NAME = re.compile(r"\.(zh|ja|en)$")
_DATE_IN_NAME = re.compile(r"\s*[（(](\d{4}-\d{2}-\d{2})[)）]\s*$")
_SLUG_DROP = re.compile(r"[^a-z0-9_-]+")
_DETECT_BYTES = 256 * 1024
#: A folder's own notes, not documents of it.
_NOT_DOCUMENTS = re.compile(r"^(readme|license|licence|changelog|notice|copying)(\.[a-z]+)?$", re.IGNORECASE)


@dataclass
class FoundDocument:
    """One file :func:`scan_folder` will list in a catalog, and what it found out about it."""

    file: str  # relative to the folder, with ``/``
    work: str
    doc_id: str
    lang: str
    role: str
    format: str
    title: str
    published: str = ""


def _name_parts(rel: Path) -> tuple[str, str | None]:
    """A file's name without its extension and without a ``.zh`` / ``.ja`` / ``.en`` before it
    (the bundled corpus's convention), and that language if there was one."""
    stem = rel.name[: -len(rel.suffix)] if rel.suffix else rel.name
    m = _LANG_IN_NAME.search(stem)
    return (stem[: m.start()], m.group(1)) if m else (stem, None)


def _file_lang(path: Path, head: bytes, fmt: str) -> str:
    """The language of a file's text: kana means Japanese, Han without kana Chinese (see
    :func:`policyidx.text.analysis.detect_lang`); a PDF is parsed to see its text."""
    from .parsers.decode import decode_bytes
    from .text.analysis import detect_lang

    if fmt == "pdf":
        return document_from_bytes(path.read_bytes(), path.name, format="pdf").lang
    text, _, _ = decode_bytes(head, name=str(path), lang="zh")
    return detect_lang(text[:200_000])


def scan_folder(directory: str | os.PathLike[str]) -> tuple[list[FoundDocument], list[str]]:
    """The documents of a folder of files (searched recursively), described for a catalog.

    Files ending in one of :data:`DOCUMENT_SUFFIXES` are read; hidden files and folders, a
    folder holding an index and a folder's own notes (README, LICENSE ...) are skipped.  For each file:

    * **format** from its content (:func:`detect_format`), **language** from its text (a
      ``.zh`` / ``.ja`` / ``.en`` before the extension, as in ``notice.ja.pdf``, wins);
    * **work**: files whose names say their language and are otherwise the same
      (``zh/notice.zh.html``, ``ja/notice.ja.pdf``, in any folders) are one work, its Chinese
      file the ``original`` and the others ``translation``; any other file is a work of its own;
    * **id**: the name's ASCII letters and digits (lower-cased) when it has some, else
      ``doc-`` and ten hex digits of a hash of its path, so ids are stable and unique;
    * **title**: the name, without a trailing ``(YYYY-MM-DD)``, which becomes ``published``.

    Parameters
    ----------
    directory : path-like
        The folder.

    Returns
    -------
    tuple of (list of FoundDocument, list of str)
        The documents, in path order, and one message per file that was skipped (unreadable,
        or a text that cannot be decoded), naming the file.
    """
    import hashlib

    root = Path(directory)
    if not root.is_dir():
        raise QueryError(f"{root}: not a folder")
    paths: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (here / d / "CURRENT").is_file()
                             and not (here / d / "manifest.json").is_file())
        paths += [here / f for f in sorted(filenames)
                  if not f.startswith(".") and Path(f).suffix.lower() in DOCUMENT_SUFFIXES
                  and not _NOT_DOCUMENTS.match(f)]
    skipped: list[str] = []
    groups: dict[tuple[str, str], list[tuple[Path, str, str, str]]] = {}
    for path in paths:
        rel = path.relative_to(root)
        try:
            with open(path, "rb") as fh:
                head = fh.read(_DETECT_BYTES)
            fmt = detect_format(head, path.name)
            base, named = _name_parts(rel)
            lang = named or _file_lang(path, head, fmt)
        except (OSError, ParseError) as exc:
            skipped.append(f"{rel.as_posix()}: skipped ({exc})")
            continue
        # a name that says its language pairs across folders (zh/x.zh.html, ja/x.ja.pdf)
        groups.setdefault(("" if named else rel.parent.as_posix(), base), []).append((rel, base, lang, fmt))
    found: list[FoundDocument] = []
    used: set[str] = set()
    for (parent, base), members in groups.items():
        m = _DATE_IN_NAME.search(base)
        title, published = (base[: m.start()], m.group(1)) if m else (base, "")
        slug = _SLUG_DROP.sub("-", base.lower()).strip("-_")[:48].strip("-_")
        digest = hashlib.sha1(f"{parent}/{base}".encode("utf-8", "surrogatepass")).hexdigest()
        work = slug if len(re.sub(r"[^a-z]", "", slug)) >= 2 else f"doc-{digest[:10]}"
        if work in used:
            work = f"{work}-{digest[:6]}"
        by_lang: dict[str, list[tuple[Path, str, str, str]]] = {}
        for item in members:
            by_lang.setdefault(item[2], []).append(item)
        # one work per language set: a second file of the same language starts another work
        rounds = max(len(v) for v in by_lang.values())
        for i in range(rounds):
            w = work if i == 0 else f"{work}-{i + 1}"
            used.add(w)
            langs = {lg: v[i] for lg, v in by_lang.items() if i < len(v)}
            original = "zh" if "zh" in langs else sorted(langs)[0]
            for lg, (rel, _, _, fmt) in sorted(langs.items()):
                found.append(FoundDocument(file=rel.as_posix(), work=w, doc_id=f"{w}.{lg}", lang=lg,
                                           role="original" if lg == original else "translation",
                                           format=fmt, title=title.strip() or rel.name, published=published))
    found.sort(key=lambda d: d.file)
    return found, skipped


def _toml_string(value: str) -> str:
    import json

    # a JSON string (control characters escaped, the rest as is) is a TOML basic string
    return json.dumps(value, ensure_ascii=False)


def catalog_text(found: list[FoundDocument]) -> str:
    """``catalog.toml`` for the documents :func:`scan_folder` found."""
    lines = ["# Written by `policyidx init`: one [[work]] per work, one [[document]] per file.",
             "# Edit freely (titles, dates, roles, ids before the first build); see the README's corpus section.", ""]
    works_done: set[str] = set()
    for d in found:
        if d.work not in works_done:
            works_done.add(d.work)
            lines += ["[[work]]", f"id = {_toml_string(d.work)}"]
            if d.lang == "zh":
                lines.append(f"title_zh = {_toml_string(d.title)}")
            if d.published:
                lines.append(f"published = {_toml_string(d.published)}")
            lines.append("")
    for d in found:
        lines += ["[[document]]", f"id = {_toml_string(d.doc_id)}", f"work = {_toml_string(d.work)}",
                  f"lang = {_toml_string(d.lang)}", f"role = {_toml_string(d.role)}",
                  f"title = {_toml_string(d.title)}", f"file = {_toml_string(d.file)}",
                  f"format = {_toml_string(d.format)}", ""]
    return "\n".join(lines)


def write_catalog(directory: str | os.PathLike[str], *, force: bool = False,
                  strict: bool = False) -> tuple[Path, list[FoundDocument], list[str]]:
    """Write ``catalog.toml`` into a folder of documents, so that it can be built as a corpus.

    See :func:`scan_folder` for what is found.  The file is written atomically and checked by
    loading it back.

    Parameters
    ----------
    directory : path-like
        The folder of documents.
    force : bool
        Replace an existing ``catalog.toml``.
    strict : bool
        Write nothing when a file cannot be read (instead of listing it as skipped).

    Returns
    -------
    tuple
        The catalog's path, the documents listed, and the messages of skipped files.

    Raises
    ------
    QueryError
        The folder has a catalog already (and ``force`` is false), no document at all, or
        (with ``strict``) a file that cannot be read, named.
    """
    import tomllib

    from ._io import atomic_write_text
    from .catalog import Catalog

    root = Path(directory)
    target = root / "catalog.toml"
    if target.exists() and not force:
        raise QueryError(f"{target} exists already; edit it, or pass force=True (--force) to write a new one")
    found, skipped = scan_folder(root)
    if strict and skipped:
        raise QueryError(f"{root}: nothing written: {skipped[0]}")
    if not found:
        raise QueryError(f"{root}: no document found (files ending in {', '.join(DOCUMENT_SUFFIXES)})"
                         + (f"; skipped: {'; '.join(skipped[:3])}" if skipped else ""))
    text = catalog_text(found)
    Catalog.from_dict(tomllib.loads(text), target)  # what is written loads
    atomic_write_text(target, text)
    return target, found, skipped
