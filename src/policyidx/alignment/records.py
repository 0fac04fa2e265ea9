"""Alignment records: sentence and clause pairs, alignments, matches (JSON round trip)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal


from ..errors import PolicyIdxError

#: ``format`` value of :meth:`Alignment.to_dict` records; bump ``version`` on change.
ALIGNMENT_FORMAT = "policyidx-alignment"
_ALIGNMENT_VERSION = 1

Method = Literal["structure", "content", "label", "none"]
_METHODS = ("structure", "content", "label", "none")


class AlignmentError(PolicyIdxError):
    """An alignment record is malformed, or two documents cannot be aligned."""


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class SentencePair:
    """A bead of the sentence alignment: sentence ids of each side (either may be empty).

    ``score`` is the similarity that supported the bead (0.0 for a 1-0 or 0-1 bead).
    """

    src: tuple[str, ...]
    tgt: tuple[str, ...]
    score: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {"src": list(self.src), "tgt": list(self.tgt), "score": float(self.score)}


@dataclass(frozen=True, slots=True)
class ClausePair:
    """A bead of the clause alignment.

    Attributes
    ----------
    src, tgt : tuple of str
        Clause ids; one side is empty for a clause without counterpart, two ids on one side
        mean a clause split (or merged) in translation.
    score : float
        Similarity of the two sides' texts (0.0 for an unpaired clause).
    method : {"structure", "content", "label", "none"}
        ``structure``: same path, confirmed by the text; ``content``: paired by the
        dynamic programming over clause contents; ``label``: a structural pairing the text
        does not support: the two clauses print the same label (``三、``) and sit in the same
        slot between two paired neighbours (``score`` is then the text similarity, usually
        low); ``none``: unpaired.
    sentences : list of SentencePair
        The sentence alignment inside the pair, in document order.
    """

    src: tuple[str, ...]
    tgt: tuple[str, ...]
    score: float
    method: Method
    sentences: list[SentencePair] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """``"1-1"``, ``"1-2"``, ``"2-1"``, ``"1-0"``, ``"0-1"``: the shape of the bead."""
        return f"{len(self.src)}-{len(self.tgt)}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {
            "src": list(self.src),
            "tgt": list(self.tgt),
            "score": float(self.score),
            "method": self.method,
            "sentences": [s.to_dict() for s in self.sentences],
        }


@dataclass
class Alignment:
    """The alignment of document ``src`` with document ``tgt``.

    ``pairs`` lists every clause of both documents exactly once (clauses without text
    included), in document order; ``params`` records how it was made (length ratio, encoder,
    thresholds), for the index manifest and for the reader.
    """

    src: str
    tgt: str
    pairs: list[ClausePair]
    params: dict[str, Any] = field(default_factory=dict)

    # -- views -----------------------------------------------------------------
    def sentence_pairs(self) -> list[SentencePair]:
        """Every sentence bead, in document order."""
        return [sp for cp in self.pairs for sp in cp.sentences]

    def links(self) -> list[tuple[str, str]]:
        """Every (source sentence id, target sentence id) link: a 2-1 bead gives two links."""
        return [(a, b) for sp in self.sentence_pairs() for a in sp.src for b in sp.tgt]

    def counterpart(self, clause_id: str) -> ClausePair:
        """The clause pair holding ``clause_id`` (of either document).

        Raises
        ------
        NotFoundError
            If no pair holds the clause.
        """
        from ..errors import NotFoundError

        for cp in self.pairs:
            if clause_id in cp.src or clause_id in cp.tgt:
                return cp
        raise NotFoundError(f"clause {clause_id!r} is in neither {self.src!r} nor {self.tgt!r} of this alignment")

    # -- persistence -----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record; :meth:`from_dict` reads it back."""
        return {
            "format": ALIGNMENT_FORMAT,
            "version": _ALIGNMENT_VERSION,
            "src": self.src,
            "tgt": self.tgt,
            "params": self.params,
            "pairs": [p.to_dict() for p in self.pairs],
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Alignment:
        """Rebuild an alignment from :meth:`to_dict` output (e.g. loaded from JSON).

        Raises
        ------
        AlignmentError
            If the record is not an alignment of a known version or a field is malformed.
        """
        if not isinstance(record, dict) or record.get("format") != ALIGNMENT_FORMAT:
            found = record.get("format") if isinstance(record, dict) else type(record).__name__
            raise AlignmentError(
                f"expected an alignment record with format {ALIGNMENT_FORMAT!r}, found {found!r}; "
                "write it with Alignment.to_dict()"
            )
        if record.get("version") != _ALIGNMENT_VERSION:
            raise AlignmentError(
                f"alignment record version {record.get('version')!r} is not supported (expected "
                f"{_ALIGNMENT_VERSION}); align the documents again"
            )
        try:
            pairs = [
                ClausePair(
                    src=_str_tuple(p["src"]),
                    tgt=_str_tuple(p["tgt"]),
                    score=float(p["score"]),
                    method=_method(p["method"]),
                    sentences=[
                        SentencePair(_str_tuple(s["src"]), _str_tuple(s["tgt"]), float(s["score"]))
                        for s in p["sentences"]
                    ],
                )
                for p in record["pairs"]
            ]
            return cls(src=str(record["src"]), tgt=str(record["tgt"]), pairs=pairs, params=dict(record.get("params") or {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise AlignmentError(f"malformed alignment record ({exc!r}); expected the shape written by Alignment.to_dict()") from None

    def to_json(self) -> str:
        """The record of :meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Alignment:
        """Read an alignment written by :meth:`to_json`."""
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AlignmentError(f"alignment is not valid JSON: {exc}") from None
        return cls.from_dict(record)


def _str_tuple(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of ids, found {value!r}")
    return tuple(value)


def _method(value: Any) -> Method:
    if value not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, found {value!r}")
    return value  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Match:
    """A provision ``a`` of one document that corresponds to provision ``b`` of another.

    ``a`` and ``b`` are clause ids, or sentence ids (``<clause>/<n>``) when matching at
    sentence level; ``evidence`` names the anchors both texts share
    (``glossary:专利导航=専利ナビゲーション``, ``number:2021``, ``quote:专精特新``, ``han:优先审查``).
    """

    a: str
    b: str
    score: float
    evidence: list[str]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {"a": self.a, "b": self.b, "score": float(self.score), "evidence": list(self.evidence)}
