"""The corpus: a catalog plus the parsed documents it lists."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Collection, Iterator

from .catalog import Catalog, DocumentEntry
from .errors import CatalogError, NotFoundError, ParseError, PolicyIdxError, QueryError
from .model import Clause, Document

_log = logging.getLogger(__name__)

__all__ = ["Corpus", "SkippedDocument", "bundled_corpus_path", "parse_document", "PARSER_VERSION"]

# Bump when parser output changes: indexes record it in their corpus fingerprint.
PARSER_VERSION = "3"  # 3: collection markup out of clauses (markdown sources get their chapters)


@dataclasses.dataclass(frozen=True)
class SkippedDocument:
    """A document of the catalog that could not be read, and why (the rest of the corpus loads)."""

    id: str
    file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.reason} (document {self.id} skipped)"

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready record."""
        return {"id": self.id, "file": self.file, "reason": self.reason}


def bundled_corpus_path() -> Path:
    """The bundled corpus: ``corpus/`` of a source checkout, else the copy inside the package."""
    here = Path(__file__).resolve().parent
    checkout = here.parent.parent / "corpus"
    if (checkout / "catalog.toml").is_file():
        return checkout
    packaged = here / "bundled_corpus"  # where the wheel puts it (pyproject: force-include)
    if (packaged / "catalog.toml").is_file():
        return packaged
    raise CatalogError(f"the bundled corpus is missing: neither {checkout} nor {packaged} has a catalog.toml")


class Corpus:
    """A collection of parsed documents described by a ``catalog.toml``.

    Examples
    --------
    >>> corpus = Corpus.load()                        # the bundled corpus
    >>> corpus["cnipa-2022-38.ja"].clause("2.6").title
    '知的財産権金融サービスの効果を高める。'
    """

    def __init__(self, root: Path, catalog: Catalog, documents: dict[str, Document], skipped: list[SkippedDocument] | None = None):
        self.root = root
        self.catalog = catalog
        self._docs = documents
        self._fingerprint: str | None = None
        #: documents of the catalog that could not be read (file and reason); empty when all loaded
        self.skipped: list[SkippedDocument] = list(skipped or [])

    @classmethod
    def load(cls, path: str | Path | None = None, *, progress: bool = False, strict: bool = False,
             only: Collection[str] | None = None) -> Corpus:
        """Load and parse a corpus.

        Parameters
        ----------
        path
            A corpus directory holding ``catalog.toml`` (or the catalog file itself); ``None``
            for the bundled corpus.
        progress
            Show a progress bar while parsing (useful for large corpora).
        strict
            Raise on the first document that cannot be read instead of skipping it (the CLI's
            ``--strict``).  To open an index over a strictly loaded corpus, pass the loaded
            :class:`Corpus` to :meth:`policyidx.Index.open` / :meth:`~policyidx.Index.build`.
        only
            Parse only these documents of the catalog (a shard of a sharded index); the
            catalog, and so the fingerprint, stay the whole corpus's.

        A document that cannot be read (binary, undecodable, an unreadable PDF, a parser
        failure) is skipped: it is listed in :attr:`skipped` with its file and the reason, a
        warning is logged, and the rest of the corpus loads.

        Raises
        ------
        CatalogError
            The catalog is missing or invalid (the message names the entry).
        ParseError
            With ``strict=True``: a document cannot be decoded or parsed (the message names the file).
        """
        root = bundled_corpus_path() if path is None else Path(path)
        cat_path = root if root.suffix == ".toml" else root / "catalog.toml"
        if not cat_path.is_file():
            raise CatalogError(f"{root}: not a corpus directory (no catalog.toml); pass the folder that holds "
                               f"catalog.toml, or run `policyidx init {root}` to write one for the documents in it")
        catalog = Catalog.load(cat_path)
        entries = [e for e in catalog.documents.values() if only is None or e.id in only]
        it: object = entries
        if progress:
            from tqdm.auto import tqdm

            it = tqdm(entries, desc="parsing", unit="doc")
        docs: dict[str, Document] = {}
        skipped: list[SkippedDocument] = []
        for e in it:  # type: ignore[union-attr]
            try:
                docs[e.id] = _parse_entry(e, catalog)
            except Exception as exc:  # noqa: BLE001 - one bad document never stops the others
                name = str(e.file)
                reason = str(exc) if isinstance(exc, PolicyIdxError) else f"{type(exc).__name__}: {exc}"
                reason = reason.removeprefix(f"{name}: ")
                if strict:
                    if isinstance(exc, ParseError):
                        raise
                    raise ParseError(f"{name}: {reason}") from exc
                skipped.append(SkippedDocument(e.id, name, reason))
                _log.warning("%s: %s (document %s skipped)", name, reason, e.id)
        return cls(cat_path.parent, catalog, docs, skipped)

    # -- access -------------------------------------------------------------
    def __getitem__(self, doc_id: str) -> Document:
        try:
            return self._docs[doc_id]
        except KeyError:
            raise NotFoundError(f"no document {doc_id!r} in the corpus; known: {', '.join(sorted(self._docs))}") from None

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    def __iter__(self) -> Iterator[Document]:
        return iter(self._docs.values())

    def __len__(self) -> int:
        return len(self._docs)

    @property
    def documents(self) -> list[Document]:
        """Documents in catalog order."""
        return list(self._docs.values())

    def clauses(self) -> Iterator[Clause]:
        """Every clause of every document, in catalog then document order."""
        for doc in self._docs.values():
            yield from doc.clauses

    def clause(self, cid: str) -> Clause:
        """A clause by its id, ``cnipa-2022-38.ja#2.6``, or by a citation inside a document:
        ``reg.zh#第十二条第二款`` (see :meth:`cite` for a citation by title)."""
        doc_id, sep, rest = cid.partition("#")
        if not sep:
            raise NotFoundError(f"{cid!r} is not a clause id; expected <document>#<path>, e.g. cnipa-2022-38.ja#2.6")
        doc = self[doc_id]
        if not rest.isascii() or rest[:3].lower() == "art":
            return doc.cite(rest)  # doc#第十二条第二款, doc#Article 12(2)
        return doc.clause(cid)

    def cite(self, citation: str) -> Clause:
        """The clause a citation names, with the document named by its title.

        ``corpus.cite("专利代理条例第十二条第二款第（三）项")``, ``《专利代理条例》第12条``,
        ``corpus.cite("cnipa-2022-38.ja 第1条")``.  The title is matched against the catalog
        title and the title found in the text (exactly, or as their end: 《中华人民共和国专利法》
        is found as 专利法); one document alone may be cited without a title.

        Raises
        ------
        NotFoundError
            No document has that title, or it has no such clause.
        QueryError
            The title names several documents, or the text is not a citation.
        """
        from .model import split_citation as split_title

        title, rest = split_title(citation)
        if not rest:
            raise QueryError(f"{citation!r} names no article or clause; write e.g. 专利代理条例第十二条第二款")
        if not title:
            if len(self._docs) == 1:
                return next(iter(self._docs.values())).cite(rest)
            raise QueryError(f"{citation!r}: name the document (its title or id) before the article")
        if title in self._docs:
            return self._docs[title].cite(rest)
        key = _title_key(title)
        exact = [d for d in self._docs.values() if key in (_title_key(d.title), _title_key(d.parsed_title or ""))]
        cands = exact or [d for d in self._docs.values() if any(
            t and (t.endswith(key) or key.endswith(t)) for t in (_title_key(d.title), _title_key(d.parsed_title or "")))]
        if not cands:
            raise NotFoundError(f"{citation!r}: no document titled {title!r} in the corpus")
        if len(cands) > 1:
            # the same work in several languages: prefer the original (zh) when the citation is Chinese
            zh = [d for d in cands if d.lang == "zh"]
            if len({d.work for d in cands}) == 1 and zh:
                cands = zh[:1]
            else:
                raise QueryError(f"{citation!r}: {title!r} names {len(cands)} documents ({', '.join(d.id for d in cands[:5])}); use the document id")
        return cands[0].cite(rest)

    def counterpart_docs(self, doc_id: str) -> list[Document]:
        """The other documents of the same work."""
        work = self[doc_id].work
        return [d for d in self._docs.values() if d.work == work and d.id != doc_id]

    def fingerprint(self) -> str:
        """A hash of the catalog, every source file and the parser version.

        An index records it; opening the index against a changed corpus is detected by it.
        """
        if self._fingerprint is None:
            self._fingerprint = catalog_fingerprint(self.catalog)
        return self._fingerprint

    def doc_fingerprint(self, doc_id: str) -> str:
        """A hash of one document's source file and catalog entry (to invalidate stored alignments)."""
        e = self.catalog.documents[doc_id]
        h = hashlib.sha256(f"{PARSER_VERSION}|{e.id}|{e.format}|{e.lang}".encode())
        h.update(e.file.read_bytes())
        return h.hexdigest()[:16]

    def __repr__(self) -> str:
        return f"Corpus({str(self.root)!r}, {len(self)} documents)"


def _title_key(t: str) -> str:
    t = "".join(t.split()).strip("《》〈〉")
    return t.removeprefix("中华人民共和国").removeprefix("中華人民共和國")


def catalog_fingerprint(catalog: Catalog) -> str:
    """Hash of a catalog, the files it lists and the parser version (no parsing needed)."""
    h = hashlib.sha256()
    h.update(f"policyidx-parser-{PARSER_VERSION}".encode())
    h.update(catalog.path.read_bytes())
    for e in catalog.documents.values():
        h.update(e.id.encode())
        h.update(hashlib.sha256(e.file.read_bytes()).digest())
    return h.hexdigest()[:16]


def _parse_entry(entry: DocumentEntry, catalog: Catalog) -> Document:
    from .parsers import parse_file  # here: opening an index to search needs no parser

    work = catalog.works[entry.work]
    res = parse_file(
        entry.file,
        doc_id=entry.id,
        lang=entry.lang,
        format=entry.format,
        extracted_from=entry.extracted_from,
        encoding=entry.encoding,
        name=os.path.relpath(entry.file) if entry.file.is_absolute() else str(entry.file),
    )
    # every fact the parser found, under the same field names on the Document
    found = {f.name: getattr(res, f.name) for f in dataclasses.fields(res)}
    found["doc_number"] = res.doc_number or (work.doc_number if entry.role != "interpretation" else "") or None
    found["issuers"] = res.issuers or list(work.issuers)
    return Document(
        id=entry.id,
        work=entry.work,
        lang=entry.lang,
        role=entry.role,
        title=entry.title,
        meta=json.loads(json.dumps(entry.meta(work))),
        source_path=str(entry.file),
        format=entry.format,
        **found,
    )


def parse_document(
    path: str | Path,
    *,
    doc_id: str,
    lang: str,
    role: str = "original",
    format: str | None = None,
    title: str = "",
    work: str | None = None,
    extracted_from: str = "",
    encoding: str = "",
) -> Document:
    """Parse one file into a :class:`Document` without a catalog.

    Parameters
    ----------
    path
        The source file.
    doc_id, lang, role
        As in the catalog (``cnipa-2022-38.zh``, ``zh``, ``original``).
    format
        ``text``, ``html`` or ``pdf``; guessed from the file extension when ``None``.
    title, work
        Catalog facts; ``work`` defaults to the id without its language suffix.
    """
    path = Path(path)
    if format is None:
        ext = path.suffix.lower()
        format = {".html": "html", ".htm": "html", ".pdf": "pdf"}.get(ext, "text")
    work_id = work or doc_id.rpartition(".")[0]
    entry = DocumentEntry(id=doc_id, work=work_id, lang=lang, role=role, title=title or path.stem, file=path.resolve(),
                          format=format, extracted_from=extracted_from, encoding=encoding)
    from .catalog import Work

    return _parse_entry(entry, Catalog(path=path, works={work_id: Work(id=work_id)}, documents={doc_id: entry}))
