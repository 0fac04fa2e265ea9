"""The data model: documents made of a tree of clauses made of sentences.

Field vocabulary (used the same way everywhere in policyidx):

``id``
    the external string id.  Documents: ``<work>.<lang>`` or ``<work>-<suffix>.<lang>``
    (fixed by the catalog).  Clauses: ``<doc>#<n1>.<n2>...`` with the numbers as printed
    in the official numbering, front matter under ``0``.  Sentences: ``<clause>/<n>``.
``path``
    the clause numbers as a tuple of ints, ``(2, 6)`` for ``#2.6``.
``start``, ``end``
    character offsets (Python ``str`` indices, end exclusive) into :attr:`Document.text`,
    the document's normalised text.  ``doc.text[c.start:c.end] == c.text`` always holds.
``row``
    an internal integer position (index arrays); never shown as an id.
``score``
    higher is better; ``rank`` starts at 1.

Records are plain dataclasses that the parsers fill once; treat them as read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Literal

__all__ = [
    "Sentence",
    "Note",
    "ParseWarning",
    "Page",
    "Clause",
    "Document",
    "clause_id",
    "DatedEvent",
    "split_citation",
]

NoteKind = Literal["translator", "agency"]
ClauseKind = Literal["front", "section", "item", "enum", "paragraph", "back", "attachment"]

#: a path segment: the printed number, or a string for 第X条之Y (``"17-1"``) and the named parts
#: of the back matter (``"back"``, ``"att1"``)
PathSegment = int | str


def split_citation(citation: str) -> tuple[str, str]:
    """A citation split into the title it names and the clause part:
    ``《专利代理条例》第十二条第二款`` -> (``专利代理条例``, ``第十二条第二款``)."""
    from .text.citation import split_title

    return split_title(citation)


def clause_id(doc: str, path: tuple[PathSegment, ...]) -> str:
    """Return the clause id of ``path`` in document ``doc`` (``doc#2.6``)."""
    return f"{doc}#{'.'.join(str(n) for n in path)}"


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of a clause's own text."""

    id: str
    clause: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Note:
    """A note embedded in the text, kept in the text as well.

    ``translator``: a translator's note such as ``（…――訳注）``.
    ``agency``: a responsible-agency note such as ``（知識産権局が主導し、工業情報化部が協力する）``
    or ``（工业和信息化部牵头，国家知识产权局配合）``.
    """

    kind: NoteKind
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """Something the parser noticed but kept going over; no text is ever dropped.

    ``code`` is a short stable identifier (``skipped-number``, ``repeated-number``,
    ``not-a-label``, ``undecodable-bytes``, ``unparsed-block`` ...); ``start``/``end`` point
    into :attr:`Document.text` where applicable; ``line`` is the 1-based line of the source file.
    """

    code: str
    message: str
    start: int | None = None
    end: int | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.code}: {self.message}"


@dataclass(frozen=True, slots=True)
class DatedEvent:
    """A dated step of a document's life, from its promulgation record or signature.

    ``kind``: ``adopted`` (通过), ``promulgated`` (公布/发布/印发), ``amended`` (修正/修订),
    ``effective`` (施行), ``approved`` (批准), ``repealed`` (废止); ``date`` is ISO
    (``2019-12-30``); ``by`` the body named before the verb (``第十三届全国人民代表大会常务委员会
    第十次会议``), ``text`` the words it was read from.
    """

    kind: str
    date: str
    by: str | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {"kind": self.kind, "date": self.date, "by": self.by, "text": self.text}


@dataclass(frozen=True, slots=True)
class Page:
    """A page of the source, as a span of the normalised text."""

    number: int
    start: int
    end: int


@dataclass(eq=False)
class Clause:
    """A node of a document's clause tree.

    ``text`` is the clause's *own* text: after its label, before its first child.  Headings
    that are only a title (``一、指針思想``) have ``text == title``.  ``label`` is the number
    as written (``（六）``, ``(六)``, ``1.``, ``一是``, ``1つ目は``), empty for front matter.
    """

    id: str
    doc: str
    path: tuple[int, ...]
    label: str
    title: str | None
    text: str
    start: int
    end: int
    label_start: int
    kind: ClauseKind
    lang: str = ""
    #: the label style (``article``, ``paragraph``, ``cn-paren``, ``chapter`` ..., see
    #: :data:`policyidx.parsers.labels.STYLE_RANK`; ``front``/``back`` parts name their role:
    #: ``title``, ``record``, ``doc-number``, ``addressees``, ``signature``, ``date`` ...)
    style: str = ""
    #: the printed number (``12`` for 第十二条, ``2`` for the second 款) and the 之 number of 第X条之Y
    number: int | None = None
    sub: int = 0
    sentences: tuple[Sentence, ...] = ()
    notes: tuple[Note, ...] = ()
    pages: tuple[int, ...] = ()
    #: spans (document offsets) of collection markup inside :attr:`text`, rare: a
    #: ``<!-- FORCE BREAK -->`` line between two paragraphs of one clause (see :attr:`Document.markup_spans`)
    markup: tuple[tuple[int, int], ...] = ()
    parent: Clause | None = field(default=None, repr=False)
    children: list[Clause] = field(default_factory=list, repr=False)

    @property
    def parent_id(self) -> str | None:
        """The parent clause id, ``None`` at the top level."""
        return self.parent.id if self.parent is not None else None

    @property
    def depth(self) -> int:
        """1 for top-level clauses."""
        return len(self.path)

    def ancestors(self) -> list[Clause]:
        """The chain of parents, outermost first."""
        chain: list[Clause] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]

    def walk(self) -> Iterator[Clause]:
        """This clause and all its descendants, in document order."""
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def content(self) -> str:
        """The clause's own text as indexed: :attr:`text` with its collection markup blanked out.

        The same length as :attr:`text` (markup characters become spaces, line feeds stay), so an
        offset into one is an offset into the other; equal to :attr:`text` when the clause holds
        no markup, which is almost always.
        """
        if not self.markup:
            return self.text
        chars = list(self.text)
        for s, e in self.markup:
            for i in range(s - self.start, e - self.start):
                if chars[i] != "\n":
                    chars[i] = " "
        return "".join(chars)

    def heading(self) -> str:
        """Label and title as printed, e.g. ``（六）知的財産権金融サービスの効果を高める。``"""
        return f"{self.label}{self.title or ''}".strip()

    def citation(self, lang: str | None = None) -> str:
        """The clause cited as people cite it: ``第十二条第二款第（三）项`` (zh), ``第12条第2項第3号`` (ja).

        In a law the citation starts at the article (chapters are never cited); elsewhere it
        is the chain of printed labels (``三、（二）``).  Front and back matter parts have none
        (an empty string).
        """
        from .text.citation import render_citation

        return render_citation(self, lang or self.lang or "zh")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record (the CLI's ``--json`` shape)."""
        return {
            "id": self.id,
            "doc": self.doc,
            "lang": self.lang,
            "path": list(self.path),
            "label": self.label,
            "title": self.title,
            "text": self.text,
            "kind": self.kind,
            "style": self.style,
            "number": self.number,
            "citation": self.citation() if self.kind not in ("front", "back") else "",
            "parent": self.parent_id,
            "children": [c.id for c in self.children],
            "start": self.start,
            "end": self.end,
            "pages": list(self.pages),
            "sentences": [{"id": s.id, "start": s.start, "end": s.end, "text": s.text} for s in self.sentences],
            "notes": [{"kind": n.kind, "start": n.start, "end": n.end, "text": n.text} for n in self.notes],
        }


@dataclass(eq=False)
class Document:
    """One text of a work in one language and role, parsed into a clause tree.

    Catalog facts (``id``, ``work``, ``lang``, ``role``, ``title``, ``meta``) come from
    ``catalog.toml``; the rest is what the parser found in the text itself.  The header block
    and the footer are kept as spans of :attr:`text` (``header_spans``, ``footer_span``) and
    their facts as fields, so nothing of the source is lost.
    """

    id: str
    work: str
    lang: str
    role: str
    title: str
    text: str
    roots: list[Clause]
    meta: dict[str, Any] = field(default_factory=dict)
    source_path: str | None = None
    format: str = "text"
    # what the parser found
    parsed_title: str | None = None
    doc_number: str | None = None
    issuers: list[str] = field(default_factory=list)
    dates: dict[str, str] = field(default_factory=dict)
    addressees: list[str] = field(default_factory=list)
    source_line: str | None = None
    urls: list[str] = field(default_factory=list)
    disclaimer: str | None = None
    header_spans: list[tuple[int, int]] = field(default_factory=list)
    footer_span: tuple[int, int] | None = None
    #: spans of :attr:`text` that are collection markup, not the document's own words: a line
    #: that is only an HTML comment (``<!-- INFO END -->``) and the mark of a markdown heading
    #: (``## `` before ``第一章 总则``) in plain text.  Kept so nothing is lost, outside every title,
    #: record and heading, never indexed (:attr:`Clause.markup`, :attr:`Clause.content`)
    markup_spans: list[tuple[int, int]] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    #: the promulgation record and signature dates, in text order (``dates`` keeps one per kind)
    record: list[DatedEvent] = field(default_factory=list)
    #: the order number of the promulgation (``中华人民共和国国务院令第706号``)
    order_number: str | None = None
    #: attachment titles as listed (``附件：1. …``) or as headed (``附件1``)
    attachments: list[str] = field(default_factory=list)
    #: ``抄送`` recipients and the ``印发`` line of a notice
    cc: list[str] = field(default_factory=list)
    printed: str | None = None
    _by_id: dict[str, Clause] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self._by_id:
            self._by_id = {c.id: c for c in self.clauses}

    @property
    def clauses(self) -> list[Clause]:
        """All clauses in document order (pre-order walk of the tree)."""
        out: list[Clause] = []
        for root in self.roots:
            out.extend(root.walk())
        return out

    def clause(self, cid: str) -> Clause:
        """The clause with id ``cid`` (``doc#2.6``) or path string (``2.6``)."""
        from .errors import NotFoundError

        key = cid if "#" in cid else f"{self.id}#{cid}"
        try:
            return self._by_id[key]
        except KeyError:
            # an article by its number in a law with chapters: "12" (or "17-1") -> 第十二条
            tail = key.split("#", 1)[1]
            num, _, sub = tail.partition("-")
            if num.isdigit() and (not sub or sub.isdigit()):
                arts = [c for c in self.clauses if c.style == "article" and c.number == int(num) and c.sub == int(sub or 0)]
                if len(arts) == 1:
                    return arts[0]
            raise NotFoundError(f"no clause {key!r} in document {self.id!r}") from None

    def article(self, number: int, sub: int = 0) -> Clause:
        """The article 第 ``number`` 条 (之 ``sub``), wherever it stands in the chapters."""
        from .errors import NotFoundError

        for c in self.clauses:
            if c.style == "article" and c.number == number and c.sub == sub:
                return c
        raise NotFoundError(f"no article {number}{f'-{sub}' if sub else ''} in document {self.id!r}")

    def cite(self, citation: str) -> Clause:
        """The clause a citation names: ``第十二条第二款第（三）项``, ``第12条第2項第3号``, ``Article 12(2)(iii)``.

        Raises
        ------
        NotFoundError
            The document has no such clause.
        CitationError
            The text is not a citation.
        """
        from .text.citation import resolve

        return resolve(self, citation)

    def __iter__(self) -> Iterator[Clause]:
        return iter(self.clauses)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, cid: object) -> bool:
        return isinstance(cid, str) and (cid in self._by_id or f"{self.id}#{cid}" in self._by_id)

    @property
    def header(self) -> str:
        """The header block's text (issuers, number, dates, addressees), lines joined."""
        return "\n".join(self.text[s:e] for s, e in self.header_spans)

    @property
    def footer(self) -> str:
        """The footer's text (source line, URLs, disclaimer)."""
        if self.footer_span is None:
            return ""
        return self.text[self.footer_span[0] : self.footer_span[1]]

    def page_of(self, offset: int) -> int | None:
        """The page number at a character offset, where pages are known."""
        for page in self.pages:
            if page.start <= offset < page.end:
                return page.number
        return None

    def to_dict(self, clauses: bool = False) -> dict[str, Any]:
        """A JSON-ready record of the document's metadata (and clauses if asked)."""
        out: dict[str, Any] = {
            "id": self.id,
            "work": self.work,
            "lang": self.lang,
            "role": self.role,
            "title": self.title,
            "parsed_title": self.parsed_title,
            "doc_number": self.doc_number,
            "issuers": self.issuers,
            "dates": self.dates,
            "addressees": self.addressees,
            "source_line": self.source_line,
            "urls": self.urls,
            "disclaimer": self.disclaimer,
            "record": [e.to_dict() for e in self.record],
            "order_number": self.order_number,
            "attachments": self.attachments,
            "cc": self.cc,
            "printed": self.printed,
            "format": self.format,
            "source_path": self.source_path,
            "clauses": len(self._by_id),
            "pages": [{"number": p.number, "start": p.start, "end": p.end} for p in self.pages],
            "markup_spans": [list(span) for span in self.markup_spans],
            "warnings": [str(w) for w in self.warnings],
            "meta": self.meta,
        }
        if clauses:
            out["clause_list"] = [c.to_dict() for c in self.clauses]
        return out
