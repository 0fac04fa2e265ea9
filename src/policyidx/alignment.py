"""Alignment of two documents, clause by clause and sentence by sentence, and matching of
provisions across documents.

:func:`align` pairs a Chinese original with its Japanese translation (or any two texts of
one work).  It works in two passes:

1. **Structure first.**  Clauses that carry the same path (``3.2.6`` and ``3.2.6``) are
   candidate pairs; the text confirms or rejects each one, so a renumbered, missing, extra
   or split clause is not paired blindly.  Between two confirmed pairs the remaining
   clauses are aligned by content with dynamic programming over the clause sequences
   (1-1, 1-2, 2-1, 1-0 and 0-1 moves).
2. **Sentences inside each clause pair**, by the same dynamic programming over the
   sentence sequences (the idea of Bertalign and Vecalign: similarity of single sentences
   and of runs of two consecutive sentences, a length prior, crossing-free moves).

The similarity of two texts combines every signal available: shared Han characters and
character bigrams after :func:`policyidx.han.unify` (a weighted Dice coefficient, weights
are idf over the two documents), glossary anchors (a Chinese term in one text and one of
its Japanese renderings in the other), numbers and dates (``15万件`` == ``150,000``),
quoted names (``「専精特新」`` == ``“专精特新”``), Latin words (``PCT``), the ratio of the
lengths (estimated from the two documents) and, when an encoder is given, the cosine of
the embeddings.  Translator's notes (``（…――訳注）``) and responsible-agency notes are cut
out of the text before scoring.

:func:`match` builds a many-to-many table of provisions of one document that correspond to
provisions of another (a summary and the measures it summarises).
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Literal, Sequence

import numpy as np

from .errors import PolicyIdxError, QueryError
from .han import normalize_width, unify
from .model import Clause, Document, Sentence

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse

    from .encoders import Encoder
    from .glossary import Glossary

__all__ = [
    "ALIGNMENT_FORMAT",
    "AlignmentError",
    "SentencePair",
    "ClausePair",
    "Alignment",
    "Match",
    "align",
    "match",
    "numbers_in",
    "quoted_in",
    "bench_align",
]

#: ``format`` value of :meth:`Alignment.to_dict` records; bump ``version`` on change.
ALIGNMENT_FORMAT = "policyidx-alignment"
_ALIGNMENT_VERSION = 1

Method = Literal["structure", "content", "none"]
_METHODS = ("structure", "content", "none")


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
    method : {"structure", "content", "none"}
        ``structure``: same path, confirmed by the text; ``content``: paired by the
        dynamic programming over clause contents; ``none``: unpaired.
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
        from .errors import NotFoundError

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


# --------------------------------------------------------------------------- text signals

_HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RUN = re.compile(f"[{_HAN_CLASS}]+")
_WS = re.compile(r"\s+")
_NON_CONTENT = re.compile(r"[\W_]+")
_LATIN = re.compile(r"[A-Za-z][A-Za-z\-]*[A-Za-z]")
# A number with thousands separators and decimals, then an optional 万/亿 multiplier that
# may itself be followed by the rest (``1万8,000`` is 18000).
_NUMBER = re.compile(r"(?<![\d.])(\d+(?:,\d{3})*(?:\.\d+)?)(?:([万萬亿億])(\d+(?:,\d{3})*)?)?")
_CN_NUMERAL = re.compile("[零〇一二两三四五六七八九十百千]{2,}")
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_QUOTES = [re.compile(p) for p in ("「([^「」]+)」", "『([^『』]+)』", "“([^“”]+)”", '"([^"]+)"', "《([^《》]+)》", "〈([^〈〉]+)〉", "‘([^‘’]+)’")]


def _format_number(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:g}"


def _parse_cn_numeral(s: str) -> int | None:
    # Only the regular forms (十九, 二十, 一百二十, 三千五百): a run such as 十四五 (the
    # 14th five-year plan) is a name, not a number, and yields nothing.
    total, digit, seen_unit = 0, None, False
    last_unit = 10_000
    for ch in s:
        if ch in _CN_DIGIT:
            if digit is not None:
                return None
            digit = _CN_DIGIT[ch]
        else:
            unit = _CN_UNIT[ch]
            if unit >= last_unit:
                return None
            total += (1 if digit is None else digit) * unit
            digit, seen_unit, last_unit = None, True, unit
    if not seen_unit:
        return None
    if digit is not None:
        if last_unit != 10:
            return None
        total += digit
    return total


def numbers_in(text: str) -> list[str]:
    """The numbers of a text, normalised so that Chinese and Japanese spellings meet.

    Full-width digits are folded, thousands separators dropped, ``万``/``亿`` multiplied out
    (``15万件`` -> ``150000``, ``1万8,000`` -> ``18000``, ``1.8万`` -> ``18000``); dates give
    their parts (``2021年`` -> ``2021``); regular Chinese numerals of two characters or more
    are read (``十九大`` -> ``19``).

    Parameters
    ----------
    text : str
        Any Chinese or Japanese text.

    Returns
    -------
    list of str
        The numbers in order of appearance, as canonical decimal strings.
    """
    folded = normalize_width(text).replace("，", ",")
    out: list[str] = []
    for m in _NUMBER.finditer(folded):
        value = float(m.group(1).replace(",", ""))
        if m.group(2):
            value *= 10_000 if m.group(2) in "万萬" else 100_000_000
            if m.group(3):
                value += float(m.group(3).replace(",", ""))
        out.append(_format_number(value))
    for m in _CN_NUMERAL.finditer(folded):
        parsed = _parse_cn_numeral(m.group(0))
        if parsed is not None:
            out.append(str(parsed))
    return out


def quoted_in(text: str) -> list[str]:
    """The quoted names of a text, unified so that both languages meet.

    Text inside ``「」 『』 “” "" 《》 〈〉 ‘’`` is unified with :func:`policyidx.han.unify`,
    width-folded and stripped of spaces and punctuation: ``「専精特新」`` and ``“专精特新”``
    both give ``专精特新``.

    Parameters
    ----------
    text : str
        Any Chinese or Japanese text.

    Returns
    -------
    list of str
        The quoted strings, outer quotes before the quotes nested in them.
    """
    folded = unify(normalize_width(text))
    out: list[str] = []
    for pattern in _QUOTES:
        for m in pattern.finditer(folded):
            key = _NON_CONTENT.sub("", m.group(1)).lower()
            if key:
                out.append(key)
    return out


def _content_length(text: str) -> int:
    return len(_NON_CONTENT.sub("", text))


def _strip_notes(text: str, start: int, notes: Sequence[Any]) -> str:
    """Cut the notes (document offsets) out of a span of text starting at ``start``."""
    if not notes:
        return text
    end = start + len(text)
    pieces: list[str] = []
    pos = start
    for note in sorted(notes, key=lambda n: n.start):
        if note.end <= pos or note.start >= end:
            continue
        pieces.append(text[pos - start : max(pos, note.start) - start])
        pos = max(pos, note.end)
    pieces.append(text[pos - start :] if pos < end else "")
    return "".join(pieces)


_CJK_CLASS = _HAN_CLASS + "\u3040-\u30ff\u3000-\u303f\uff00-\uffef"
# Whitespace next to a CJK character is a line break of the source (PDF extraction breaks
# lines inside words: 知的財\n産権); between Latin words it separates them.
_CJK_SPACE = re.compile(f"(?<=[{_CJK_CLASS}])\\s+|\\s+(?=[{_CJK_CLASS}])")

# Feature keys are int64: a type tag above bit 42, the payload below.  Han characters and
# bigrams carry their code points (so both documents produce the same key without a shared
# table); the other features an id from a table shared by the two documents.
_TAG_SHIFT = 42
_TAGS = {"U": 1, "B": 2, "N": 3, "Q": 4, "L": 5, "G": 6}
_TAG_NAMES = {v: k for k, v in _TAGS.items()}
#: Weight of each feature type, multiplied by its idf: a bigram says more than a character,
#: a glossary anchor, a number, a quoted name or a Latin word more than a bigram.
_TYPE_WEIGHT = {"U": 0.4, "B": 1.0, "G": 2.0, "N": 2.0, "Q": 2.0, "L": 1.5}
_HAN_LO_HI = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))


def _joined(text: str) -> str:
    return _WS.sub(" ", _CJK_SPACE.sub("", text)).strip()


def _han_bigrams(text: str) -> set[str]:
    han = unify(normalize_width(_joined(text)))
    return {run[k : k + 2] for run in _HAN_RUN.findall(han) for k in range(len(run) - 1)}


class _Featurizer:
    """Turns texts into feature keys shared across languages.

    One instance serves both documents of a pair, so that the string features (numbers,
    quoted names, Latin words, glossary entries) get the same ids on both sides.
    """

    def __init__(self, glossary: Glossary | None) -> None:
        self.glossary = glossary
        self.ids: dict[str, int] = {}

    def extra(self, text: str, lang: str) -> list[str]:
        """The string features of one text: ``N`` numbers, ``Q`` quotes, ``L`` Latin, ``G`` glossary."""
        feats = ["N" + n for n in numbers_in(text)]
        feats.extend("Q" + q for q in quoted_in(text))
        feats.extend("L" + w.lower() for w in _LATIN.findall(normalize_width(text)))
        if self.glossary is not None and lang in ("zh", "ja", "en"):
            feats.extend("G" + hit[0].zh for hit in self.glossary.find_in(text, lang))
        return feats

    def keys(self, texts: list[str], lang: str) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
        """(row, key) arrays of every feature occurrence, and the string features per text."""
        joined = [_joined(t) for t in texts]
        # one translate call over the whole document; NUL separates the texts
        folded = unify(normalize_width("\x00".join(j.replace(" ", "") for j in joined)))
        cps = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        row_of = np.cumsum(cps == 0)
        is_han = np.zeros(cps.shape, dtype=bool)
        for lo, hi in _HAN_LO_HI:
            is_han |= (cps >= lo) & (cps < hi)
        uni_rows = row_of[is_han]
        uni_keys = cps[is_han] | (_TAGS["U"] << _TAG_SHIFT)
        pair = is_han[:-1] & is_han[1:]
        bi_rows = row_of[:-1][pair]
        bi_keys = (cps[:-1][pair] << 21) | cps[1:][pair] | (_TAGS["B"] << _TAG_SHIFT)
        extra = [self.extra(j, lang) for j in joined]
        ex_rows: list[int] = []
        ex_keys: list[int] = []
        for r, feats in enumerate(extra):
            for f in feats:
                fid = self.ids.setdefault(f, len(self.ids))
                ex_rows.append(r)
                ex_keys.append((_TAGS[f[0]] << _TAG_SHIFT) | fid)
        rows = np.concatenate([uni_rows, bi_rows, np.asarray(ex_rows, dtype=np.int64)])
        keys = np.concatenate([uni_keys, bi_keys, np.asarray(ex_keys, dtype=np.int64)])
        return rows, keys, extra


@dataclass
class _Side:
    """One document prepared for alignment: its sentence-bearing units and their features."""

    doc: Document
    clauses: list[Clause]  # clauses that have sentences (match(): one per unit), in order
    sentences: list[Sentence]
    sent_clause: np.ndarray  # clause row of each sentence (unit)
    clause_first: np.ndarray  # first sentence row of each clause
    clause_count: np.ndarray
    texts: list[str]  # sentence (unit) texts with notes cut out
    lengths: np.ndarray  # content characters per sentence (unit)
    rows: np.ndarray  # feature occurrences: unit row ...
    keys: np.ndarray  # ... and feature key
    extra: list[list[str]]  # string features per unit (for evidence)


def _make_side(doc: Document, clauses: list[Clause], sentences: list[Sentence], sent_clause: list[int],
               texts: list[str], featurize: _Featurizer) -> _Side:
    counts = np.bincount(np.asarray(sent_clause, dtype=np.int64), minlength=len(clauses)) if clauses else np.zeros(0, np.int64)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else np.zeros(0, np.int64)
    rows, keys, extra = featurize.keys(texts, doc.lang)
    return _Side(
        doc=doc,
        clauses=clauses,
        sentences=sentences,
        sent_clause=np.asarray(sent_clause, dtype=np.int64),
        clause_first=first.astype(np.int64),
        clause_count=counts.astype(np.int64),
        texts=texts,
        lengths=np.array([_content_length(t) for t in texts], dtype=np.float64),
        rows=rows,
        keys=keys,
        extra=extra,
    )


def _prepare(doc: Document, featurize: _Featurizer) -> _Side:
    clauses = [c for c in doc.clauses if c.sentences]
    sentences: list[Sentence] = []
    sent_clause: list[int] = []
    texts: list[str] = []
    for row, clause in enumerate(clauses):
        for s in clause.sentences:
            sentences.append(s)
            sent_clause.append(row)
            texts.append(_strip_notes(s.text, s.start, clause.notes))
    return _make_side(doc, clauses, sentences, sent_clause, texts, featurize)


class _Space:
    """The shared feature space of two documents: binary unit rows and idf weights.

    Only features present in both documents are kept: a feature one side never has cannot
    be evidence of a pair, and dropping it keeps the Dice coefficient about what could match.
    Rows are stored weighted (``xw``) and binary (``x``), with the runs of two consecutive
    rows (``r``) and the rows of whole clauses (``c``) alongside.
    """

    def __init__(self, a: _Side, b: _Side) -> None:
        import scipy.sparse as sp

        shared = np.intersect1d(a.keys, b.keys)
        self.n_features = int(shared.size)
        na, nb = len(a.texts), len(b.texts)
        xa = self._binary(a.rows, a.keys, shared, na)
        xb = self._binary(b.rows, b.keys, shared, nb)
        df = np.asarray(xa.sum(axis=0)).ravel() + np.asarray(xb.sum(axis=0)).ravel()
        idf = np.log((1.0 + na + nb) / (1.0 + df)) + 1.0
        tags = shared >> _TAG_SHIFT
        type_w = np.zeros(shared.shape, dtype=np.float64)
        for name, tag in _TAGS.items():
            type_w[tags == tag] = _TYPE_WEIGHT[name]
        self.w = idf * type_w
        self._diag = sp.diags(self.w).tocsr()
        self.a = _Rows(xa, self._diag)
        self.b = _Rows(xb, self._diag)
        self.ca = _Rows(self._union_rows(xa, a.sent_clause, len(a.clauses)), self._diag)
        self.cb = _Rows(self._union_rows(xb, b.sent_clause, len(b.clauses)), self._diag)

    @staticmethod
    def _binary(rows: np.ndarray, keys: np.ndarray, shared: np.ndarray, n_rows: int) -> scipy.sparse.csr_matrix:
        import scipy.sparse as sp

        if shared.size == 0 or keys.size == 0:
            return sp.csr_matrix((n_rows, int(shared.size)))
        col = np.searchsorted(shared, keys)
        ok = (col < shared.size) & (shared[np.minimum(col, shared.size - 1)] == keys)
        mat = sp.csr_matrix((np.ones(int(ok.sum())), (rows[ok], col[ok])), shape=(n_rows, int(shared.size)))
        mat.sum_duplicates()
        mat.data[:] = 1.0
        return mat

    @staticmethod
    def _union_rows(mat: scipy.sparse.csr_matrix, groups: np.ndarray, n_groups: int) -> scipy.sparse.csr_matrix:
        import scipy.sparse as sp

        ind = sp.csr_matrix((np.ones(len(groups)), (groups, np.arange(len(groups)))), shape=(n_groups, mat.shape[0]))
        out = (ind @ mat).tocsr()
        out.data[:] = 1.0
        return out


class _Rows:
    """Binary feature rows of a sequence and of its runs of two, with weighted sizes."""

    def __init__(self, x: scipy.sparse.csr_matrix, diag: scipy.sparse.csr_matrix) -> None:
        self.x = x
        self.xw = (x @ diag).tocsr()
        self.size = np.asarray(self.xw.sum(axis=1)).ravel()
        if x.shape[0] >= 2:
            self.r = x[:-1].maximum(x[1:]).tocsr()
        else:
            self.r = x[:0]
        self.rw = (self.r @ diag).tocsr()
        self.rsize = np.asarray(self.rw.sum(axis=1)).ravel()


def _dice(xw: Any, size_x: np.ndarray, y: Any, size_y: np.ndarray) -> np.ndarray:
    """Weighted Dice coefficients of every row of ``xw`` (weighted) with every row of ``y``."""
    if xw.shape[0] == 0 or y.shape[0] == 0 or xw.shape[1] == 0:
        return np.zeros((xw.shape[0], y.shape[0]))
    overlap = (xw @ y.T).toarray()
    denom = size_x[:, None] + size_y[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2.0 * overlap / denom, 0.0)


# --------------------------------------------------------------------------- scoring


@dataclass
class _Scorer:
    """Similarity and gain of beads between two prepared documents."""

    a: _Side
    b: _Side
    space: _Space
    emb_a: np.ndarray | None
    emb_b: np.ndarray | None
    ratio: float  # expected target length / source length
    sigma: float  # spread of log length ratios
    tau: float  # a bead's similarity must exceed this to beat leaving both sides unaligned
    merge_penalty: float
    emb_weight: float = 1.0
    clause_emb_a: np.ndarray | None = None
    clause_tau: float = 0.1
    clause_emb_b: np.ndarray | None = None

    def _length_factor(self, la: np.ndarray, lb: np.ndarray, sigma: float) -> np.ndarray:
        z = np.log((lb[None, :] + 1.0) / (self.ratio * (la[:, None] + 1.0))) / sigma
        # A length prior that lowers, but never zeroes, the similarity of a badly sized pair:
        # headings and table rows have noisy length ratios.
        return 0.55 + 0.45 * np.exp(-0.5 * z * z)

    def _combine(self, dice: np.ndarray, cos: np.ndarray | None) -> np.ndarray:
        if cos is None:
            return dice
        return (dice + self.emb_weight * np.clip(cos, 0.0, 1.0)) / (1.0 + self.emb_weight)

    @staticmethod
    def _emb_runs(emb: np.ndarray) -> np.ndarray:
        if emb.shape[0] < 2:
            return emb[:0]
        s = emb[:-1] + emb[1:]
        norms = np.linalg.norm(s, axis=1, keepdims=True)
        return s / np.maximum(norms, 1e-12)

    def block(
        self,
        ra: _Rows,
        rb: _Rows,
        i0: int,
        i1: int,
        j0: int,
        j1: int,
        ea: np.ndarray | None,
        eb: np.ndarray | None,
        la: np.ndarray,
        lb: np.ndarray,
        sigma: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Length-weighted similarities of a block: 1-1, 2-1 and 1-2 beads.

        ``ra``/``rb`` are the rows of the two sequences, ``[i0, i1)``/``[j0, j1)`` the block;
        ``ea``/``eb``/``la``/``lb`` the block's embeddings and lengths.
        """
        s11 = _dice(ra.xw[i0:i1], ra.size[i0:i1], rb.x[j0:j1], rb.size[j0:j1])
        s21 = _dice(ra.rw[i0 : i1 - 1], ra.rsize[i0 : i1 - 1], rb.x[j0:j1], rb.size[j0:j1])
        s12 = _dice(ra.xw[i0:i1], ra.size[i0:i1], rb.r[j0 : j1 - 1], rb.rsize[j0 : j1 - 1])
        return self.weigh(s11, s21, s12, ea, eb, la, lb, sigma)

    def weigh(
        self,
        s11: np.ndarray,
        s21: np.ndarray,
        s12: np.ndarray,
        ea: np.ndarray | None,
        eb: np.ndarray | None,
        la: np.ndarray,
        lb: np.ndarray,
        sigma: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Add the embedding cosine and the length prior to a block's Dice coefficients."""
        if ea is not None and eb is not None:
            s11 = self._combine(s11, ea @ eb.T)
            s21 = self._combine(s21, self._emb_runs(ea) @ eb.T)
            s12 = self._combine(s12, ea @ self._emb_runs(eb).T)
        lra = la[:-1] + la[1:]
        lrb = lb[:-1] + lb[1:]
        w11 = s11 * self._length_factor(la, lb, sigma)
        w21 = s21 * self._length_factor(lra, lb, sigma)
        w12 = s12 * self._length_factor(la, lrb, sigma)
        return w11, w21, w12


def _batched_dice(
    xw: Any, size_x: np.ndarray, y: Any, size_y: np.ndarray, ranges: list[tuple[int, int, int, int]]
) -> list[np.ndarray]:
    """Dice blocks ``xw[i0:i1] x y[j0:j1]`` for many ranges with one sparse product.

    Each block's rows are moved to a column band of its own, so the product of the stacked
    left rows with the stacked right rows is block-diagonal: one scipy call instead of one
    per clause pair, which is what makes long documents fast.
    """
    import scipy.sparse as sp

    n_feat = xw.shape[1]
    shapes = [(max(i1 - i0, 0), max(j1 - j0, 0)) for i0, i1, j0, j1 in ranges]
    out_off = np.concatenate([[0], np.cumsum([p * q for p, q in shapes])]).astype(np.int64)
    flat = np.zeros(int(out_off[-1]))
    if n_feat and out_off[-1]:
        idx_x = np.concatenate([np.arange(i0, i0 + p) for (i0, _, _, _), (p, _) in zip(ranges, shapes)]).astype(np.int64)
        idx_y = np.concatenate([np.arange(j0, j0 + q) for (_, _, j0, _), (_, q) in zip(ranges, shapes)]).astype(np.int64)
        blk_x = np.repeat(np.arange(len(ranges)), [p for p, _ in shapes])
        blk_y = np.repeat(np.arange(len(ranges)), [q for _, q in shapes])
        start_x = np.concatenate([[0], np.cumsum([p for p, _ in shapes])])[:-1]
        start_y = np.concatenate([[0], np.cumsum([q for _, q in shapes])])[:-1]

        def banded(mat: Any, idx: np.ndarray, blk: np.ndarray) -> Any:
            rows = mat[idx].tocsr()
            nnz_blk = np.repeat(blk, np.diff(rows.indptr))
            return sp.csr_matrix(
                (rows.data, rows.indices.astype(np.int64) + nnz_blk * n_feat, rows.indptr),
                shape=(len(idx), n_feat * len(ranges)),
            )

        prod = (banded(xw, idx_x, blk_x) @ banded(y, idx_y, blk_y).T).tocoo()
        blk = blk_x[prod.row]
        width = np.array([q for _, q in shapes], dtype=np.int64)
        pos = out_off[blk] + (prod.row - start_x[blk]) * width[blk] + (prod.col - start_y[blk])
        flat[pos] = prod.data
    out: list[np.ndarray] = []
    for k, ((i0, _, j0, _), (p, q)) in enumerate(zip(ranges, shapes)):
        overlap = flat[out_off[k] : out_off[k + 1]].reshape(p, q)
        denom = size_x[i0 : i0 + p, None] + size_y[None, j0 : j0 + q]
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(np.where(denom > 0, 2.0 * overlap / denom, 0.0))
    return out


def _dp(g11: np.ndarray, g21: np.ndarray, g12: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Best crossing-free bead sequence; skipping an item gains 0.

    ``g11[i, j]`` is the gain of bead (src i, tgt j), ``g21[i, j]`` of (src i..i+1, tgt j),
    ``g12[i, j]`` of (src i, tgt j..j+1).  Returns beads as ``(i0, i1, j0, j1)`` half-open
    ranges covering both sequences in order.

    The recursion runs row by row with numpy; the one move inside a row (skip a target
    item) becomes a running maximum, so the cost is O(n) numpy calls on rows of length m.
    """
    n, m = g11.shape
    neg = -1e18
    score = np.full((n + 1, m + 1), neg)
    back = np.zeros((n + 1, m + 1), dtype=np.int8)  # 1: 1-1, 2: 2-1, 3: 1-2, 4: 1-0, 5: 0-1
    score[0, :] = 0.0
    back[0, 1:] = 5
    for i in range(1, n + 1):
        prev = score[i - 1]
        tmp = np.full(m + 1, neg)
        bp = np.zeros(m + 1, dtype=np.int8)
        if m:
            tmp[1:] = prev[:-1] + g11[i - 1]
            bp[1:] = 1
        if i >= 2 and m:
            cand = score[i - 2, :-1] + g21[i - 2]
            upd = cand > tmp[1:]
            tmp[1:][upd] = cand[upd]
            bp[1:][upd] = 2
        if m >= 2:
            cand = prev[:-2] + g12[i - 1]
            upd = cand > tmp[2:]
            tmp[2:][upd] = cand[upd]
            bp[2:][upd] = 3
        upd = prev > tmp
        tmp[upd] = prev[upd]
        bp[upd] = 4
        run = np.maximum.accumulate(tmp)
        score[i] = run
        back[i] = np.where(tmp >= run, bp, 5)
    beads: list[tuple[int, int, int, int]] = []
    i, j = n, m
    while i > 0 or j > 0:
        move = back[i, j]
        di, dj = {1: (1, 1), 2: (2, 1), 3: (1, 2), 4: (1, 0), 5: (0, 1)}[int(move)] if move else (i, j)
        beads.append((i - di, i, j - dj, j))
        i, j = i - di, j - dj
    beads.reverse()
    return beads


# --------------------------------------------------------------------------- align


def _resolve_glossary(glossary: Glossary | None) -> Glossary:
    if glossary is not None:
        return glossary
    from .glossary import Glossary

    return Glossary.load()


def _resolve_encoder(encoder: Encoder | str | None, a: _Side, b: _Side) -> Encoder | None:
    if encoder is None:
        return None
    if isinstance(encoder, str):
        if encoder != "builtin":
            from .encoders import get_encoder

            return get_encoder(encoder)
        from .encoders import BuiltinEncoder

        texts = sorted(set(a.texts) | set(b.texts))
        # Character n-grams only: fitting on two documents is quick and the segmenters'
        # word terms add little across languages.
        return BuiltinEncoder().fit(texts, dim=min(128, max(2, len(texts) - 1)), words=False, max_features=32_768)
    return encoder


def _encode(encoder: Encoder | None, texts: list[str]) -> np.ndarray | None:
    if encoder is None:
        return None
    if not texts:
        return np.zeros((0, int(encoder.dim)), dtype=np.float32)
    out = np.asarray(encoder.encode(texts, kind="passage"), dtype=np.float64)
    if out.shape[0] != len(texts):
        from .errors import EncoderError

        raise EncoderError(f"encoder {getattr(encoder, 'name', encoder)!r} returned {out.shape[0]} rows for {len(texts)} texts")
    return out


def _clause_embeddings(emb: np.ndarray | None, side: _Side) -> np.ndarray | None:
    if emb is None:
        return None
    out = np.zeros((len(side.clauses), emb.shape[1]))
    np.add.at(out, side.sent_clause, emb)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def _estimate_ratio(a: _Side, b: _Side) -> tuple[float, float]:
    """Target/source length ratio and the spread of its log, from same-path clause pairs."""
    la = np.bincount(a.sent_clause, weights=a.lengths, minlength=len(a.clauses))
    lb = np.bincount(b.sent_clause, weights=b.lengths, minlength=len(b.clauses))
    by_path = {c.path: k for k, c in enumerate(b.clauses)}
    logs = [
        math.log(lb[by_path[c.path]] / la[k])
        for k, c in enumerate(a.clauses)
        if c.path in by_path and la[k] >= 10 and lb[by_path[c.path]] >= 10
    ]
    if len(logs) >= 3:
        arr = np.asarray(logs)
        centre = float(np.median(arr))
        spread = 1.4826 * float(np.median(np.abs(arr - centre)))
    else:
        total_a, total_b = float(a.lengths.sum()), float(b.lengths.sum())
        centre = math.log(total_b / total_a) if total_a > 0 and total_b > 0 else 0.0
        spread = 0.3
    return math.exp(centre), min(max(spread, 0.15), 0.5)


def _same_path(a: _Side, b: _Side) -> list[tuple[int, int]]:
    by_path = {c.path: k for k, c in enumerate(b.clauses)}
    return [(i, by_path[c.path]) for i, c in enumerate(a.clauses) if c.path in by_path]


def _confirmed_anchors(sim: np.ndarray, a: _Side, b: _Side, floor: float, window: int = 8) -> list[tuple[int, int]]:
    """Same-path clause pairs that the text confirms beyond doubt, as a crossing-free chain.

    A pair is confirmed when its similarity reaches ``floor`` and no clause within
    ``window`` positions on either side fits better (a renumbered or shifted clause fails
    this: its number belongs to a neighbour's text).  These pairs cut the documents into
    independent stretches; the stretches are aligned by :func:`_gap`.
    """
    cands: list[tuple[int, int]] = []
    for i, j in _same_path(a, b):
        s = sim[i, j]
        if s < floor:
            continue
        row = sim[i, max(0, j - window) : j + window + 1]
        col = sim[max(0, i - window) : i + window + 1, j]
        if s < row.max() or s < col.max():
            continue
        cands.append((i, j))
    return [cands[k] for k in _longest_chain([j for _, j in cands])]


def _longest_chain(values: Sequence[int]) -> list[int]:
    """Positions of a longest strictly increasing subsequence (patience sorting, O(n log n))."""
    import bisect

    tails: list[int] = []  # value at the end of the best chain of each length
    tail_pos: list[int] = []
    prev = [-1] * len(values)
    for k, v in enumerate(values):
        at = bisect.bisect_left(tails, v)
        if at == len(tails):
            tails.append(v)
            tail_pos.append(k)
        else:
            tails[at] = v
            tail_pos[at] = k
        prev[k] = tail_pos[at - 1] if at > 0 else -1
    out: list[int] = []
    k = tail_pos[-1] if tail_pos else -1
    while k >= 0:
        out.append(k)
        k = prev[k]
    return out[::-1]


#: Gain added to a same-path clause pair whose text supports it (see :func:`_gap`).
_STRUCTURE_BONUS = 0.1

#: Sentence blocks larger than this (cells) are first cut at confident anchor points.
_BIG_BLOCK = 40_000


def _split_corners(scorer: _Scorer, i0: int, i1: int, j0: int, j1: int, tile: int = 64) -> list[tuple[int, int]]:
    """Corners where a long block can be cut into independent pieces (Bertalign-style anchors).

    Each source row is compared with the target rows in a window around its expected
    position; a row's best target that is also that target's best row, with a clear
    similarity, is a 1-1 anchor; the longest crossing-free chain of anchors is kept.  The
    path is cut only between two consecutive anchors ``(i-1, j-1)`` and ``(i, j)``, so no
    2-1 or 1-2 bead can straddle a cut.
    """
    sp = scorer.space
    n, m = i1 - i0, j1 - j0
    slope = m / n
    half = max(tile, int(0.05 * m))
    ranges: list[tuple[int, int, int, int]] = []
    for r0 in range(i0, i1, tile):
        r1 = min(i1, r0 + tile)
        c0 = max(j0, int(j0 + (r0 - i0) * slope) - half)
        c1 = min(j1, int(j0 + (r1 - i0) * slope) + half)
        ranges.append((r0, r1, c0, c1))
    blocks = _batched_dice(sp.a.xw, sp.a.size, sp.b.x, sp.b.size, ranges)
    cands: list[tuple[int, int]] = []
    for (r0, _, c0, _), sims in zip(ranges, blocks):
        if sims.size == 0:
            continue
        best_j = sims.argmax(axis=1)
        best_i = sims.argmax(axis=0)
        for r, jj in enumerate(best_j):
            if best_i[jj] == r and sims[r, jj] >= 0.5:
                cands.append((r0 + r, c0 + int(jj)))
    cands.sort()
    chain = [cands[k] for k in _longest_chain([j for _, j in cands])]
    corners = []
    for (pi, pj), (ci, cj) in zip(chain, chain[1:]):
        if ci == pi + 1 and cj == pj + 1:
            corners.append((ci, cj))
    return corners


def align(
    src: Document,
    tgt: Document,
    *,
    encoder: Encoder | str | None = None,
    glossary: Glossary | None = None,
    tau: float = 0.1,
    merge_penalty: float = 0.02,
) -> Alignment:
    """Align two documents clause by clause and, inside each clause pair, sentence by sentence.

    Parameters
    ----------
    src, tgt : Document
        Typically a Chinese original and its Japanese translation; any two languages work,
        the signals that need both (glossary anchors) are used when available.
    encoder : Encoder, str or None
        An embedding encoder adds the cosine of sentence embeddings to the similarity.
        ``"builtin"`` fits a :class:`~policyidx.encoders.BuiltinEncoder` on the two documents
        (character n-grams, a second or so); another string is passed to
        :func:`~policyidx.encoders.get_encoder`; ``None`` uses the text signals only.
    glossary : Glossary or None
        Source of term anchors; ``None`` loads the bundled glossary.  Pass
        ``Glossary([])`` to align without anchors.
    tau : float
        Similarity a bead must exceed to be preferred over leaving both sides unaligned;
        raise it to leave more sentences unpaired, lower it to pair more aggressively.
    merge_penalty : float
        Subtracted from the gain of 2-1 and 1-2 beads so that a 1-1 bead wins a tie.

    Returns
    -------
    Alignment
        Every clause of both documents appears in exactly one :class:`ClausePair`.

    Examples
    --------
    >>> al = align(zh_doc, ja_doc)                                   # doctest: +SKIP
    >>> al.counterpart("zgc-2019-ipap.zh#3.4.15").tgt                 # doctest: +SKIP
    ('zgc-2019-ipap.ja#3.4.14',)
    """
    if not isinstance(src, Document) or not isinstance(tgt, Document):
        raise QueryError(f"align() expects two Documents, got {type(src).__name__} and {type(tgt).__name__}")
    if src.id == tgt.id:
        raise QueryError(f"align() got the same document twice ({src.id!r}); pass two texts of one work")
    gl = _resolve_glossary(glossary)
    featurize = _Featurizer(gl)
    a = _prepare(src, featurize)
    b = _prepare(tgt, featurize)
    space = _Space(a, b)
    enc = _resolve_encoder(encoder, a, b)
    emb_a, emb_b = _encode(enc, a.texts), _encode(enc, b.texts)
    ratio, sigma = _estimate_ratio(a, b)
    scorer = _Scorer(a, b, space, emb_a, emb_b, ratio, sigma, tau, merge_penalty)

    groups = _align_clauses(scorer)
    pairs = _assemble(scorer, groups)
    params = {
        "length_ratio": round(ratio, 4),
        "length_sigma": round(sigma, 4),
        "tau": tau,
        "merge_penalty": merge_penalty,
        "encoder": None if enc is None else enc.describe() if hasattr(enc, "describe") else getattr(enc, "name", str(enc)),
        "glossary_entries": len(gl),
        "src_lang": src.lang,
        "tgt_lang": tgt.lang,
    }
    return Alignment(src=src.id, tgt=tgt.id, pairs=pairs, params=params)


def _clause_block(scorer: _Scorer, i0: int, i1: int, j0: int, j1: int) -> tuple[np.ndarray, ...]:
    a, b, sp = scorer.a, scorer.b, scorer.space
    la = np.bincount(a.sent_clause, weights=a.lengths, minlength=len(a.clauses))[i0:i1]
    lb = np.bincount(b.sent_clause, weights=b.lengths, minlength=len(b.clauses))[j0:j1]
    ea = None if scorer.clause_emb_a is None else scorer.clause_emb_a[i0:i1]
    eb = None if scorer.clause_emb_b is None else scorer.clause_emb_b[j0:j1]
    return scorer.block(sp.ca, sp.cb, i0, i1, j0, j1, ea, eb, la, lb, scorer.sigma)


def _align_clauses(scorer: _Scorer) -> list[tuple[list[int], list[int], float, Method]]:
    """Clause beads as (src clause rows, tgt clause rows, score, method)."""
    a, b = scorer.a, scorer.b
    scorer.clause_emb_a = _clause_embeddings(scorer.emb_a, a)
    scorer.clause_emb_b = _clause_embeddings(scorer.emb_b, b)
    n, m = len(a.clauses), len(b.clauses)
    if n == 0 or m == 0:
        return [([i], [], 0.0, "none") for i in range(n)] + [([], [j], 0.0, "none") for j in range(m)]
    w11 = _clause_block(scorer, 0, n, 0, m)[0]
    # Unrelated clauses of one domain share vocabulary: the similarity most clause pairs
    # reach sets the bar a pair must clear to count as a translation.
    scorer.clause_tau = max(scorer.tau, float(np.quantile(w11, 0.9)))
    anchors = _confirmed_anchors(w11, a, b, floor=2.0 * scorer.clause_tau)
    out: list[tuple[list[int], list[int], float, Method]] = []
    prev_i, prev_j = 0, 0
    for ai, aj in anchors + [(n, m)]:
        if ai > prev_i or aj > prev_j:
            out.extend(_gap(scorer, prev_i, ai, prev_j, aj))
        if ai < n:
            out.append(([ai], [aj], float(w11[ai, aj]), "structure"))
        prev_i, prev_j = ai + 1, aj + 1
    return out


def _gap(scorer: _Scorer, i0: int, i1: int, j0: int, j1: int) -> list[tuple[list[int], list[int], float, Method]]:
    if i1 == i0 or j1 == j0:
        return [([i], [], 0.0, "none") for i in range(i0, i1)] + [([], [j], 0.0, "none") for j in range(j0, j1)]
    w11, w21, w12 = _clause_block(scorer, i0, i1, j0, j1)
    tau, pen = scorer.clause_tau, scorer.merge_penalty
    # Structure as a prior: a same-path pair that the text supports (similarity above the
    # bar) gets a bonus, so among equally similar candidates the numbering decides.
    bonus = np.zeros_like(w11)
    for i, j in _same_path(scorer.a, scorer.b):
        if i0 <= i < i1 and j0 <= j < j1 and w11[i - i0, j - j0] >= tau:
            bonus[i - i0, j - j0] = _STRUCTURE_BONUS
    beads = _dp(w11 - tau + bonus, w21 - tau - pen, w12 - tau - pen)
    out: list[tuple[list[int], list[int], float, Method]] = []
    for bi0, bi1, bj0, bj1 in beads:
        src_rows = list(range(i0 + bi0, i0 + bi1))
        tgt_rows = list(range(j0 + bj0, j0 + bj1))
        if src_rows and tgt_rows:
            k = (bi1 - bi0, bj1 - bj0)
            score = {(1, 1): w11, (2, 1): w21, (1, 2): w12}[k][bi0, bj0]
            method: Method = "structure" if k == (1, 1) and bonus[bi0, bj0] > 0 else "content"
            out.append((src_rows, tgt_rows, float(score), method))
        else:
            out.append((src_rows, tgt_rows, 0.0, "none"))
    return out


def _sentence_ranges(scorer: _Scorer, src_rows: list[int], tgt_rows: list[int]) -> tuple[int, int, int, int]:
    a, b = scorer.a, scorer.b
    # the clauses of a bead are consecutive in document order, so their sentences are too
    if src_rows:
        i0 = int(a.clause_first[src_rows[0]])
        i1 = int(a.clause_first[src_rows[-1]] + a.clause_count[src_rows[-1]])
    else:
        i0 = i1 = 0
    if tgt_rows:
        j0 = int(b.clause_first[tgt_rows[0]])
        j1 = int(b.clause_first[tgt_rows[-1]] + b.clause_count[tgt_rows[-1]])
    else:
        j0 = j1 = 0
    return i0, i1, j0, j1


def _assemble(scorer: _Scorer, groups: list[tuple[list[int], list[int], float, Method]]) -> list[ClausePair]:
    """Clause pairs in document order, with sentence alignments and the clauses without text."""
    a, b, sp = scorer.a, scorer.b, scorer.space
    ranges = [_sentence_ranges(scorer, s, t) for s, t, _, _ in groups]
    # the pieces each group's sentence block is solved in: one, or several for long blocks
    pieces: list[list[tuple[int, int, int, int]]] = []
    for i0, i1, j0, j1 in ranges:
        if i1 <= i0 or j1 <= j0:
            pieces.append([])
            continue
        cuts = _split_corners(scorer, i0, i1, j0, j1) if (i1 - i0) * (j1 - j0) > _BIG_BLOCK else []
        bounds = [(i0, j0)] + cuts + [(i1, j1)]
        pieces.append([(p[0], q[0], p[1], q[1]) for p, q in zip(bounds, bounds[1:])])
    flat = [r for ps in pieces for r in ps]
    d11 = _batched_dice(sp.a.xw, sp.a.size, sp.b.x, sp.b.size, flat)
    d21 = _batched_dice(sp.a.rw, sp.a.rsize, sp.b.x, sp.b.size, [(i0, i1 - 1, j0, j1) for i0, i1, j0, j1 in flat])
    d12 = _batched_dice(sp.a.xw, sp.a.size, sp.b.r, sp.b.rsize, [(i0, i1, j0, j1 - 1) for i0, i1, j0, j1 in flat])
    # sentence lengths vary more than clause lengths
    sigma = max(scorer.sigma, 0.3)
    tau, pen = scorer.tau, scorer.merge_penalty
    pairs: list[ClausePair] = []
    at = 0
    for k, (src_rows, tgt_rows, score, method) in enumerate(groups):
        i0, i1, j0, j1 = ranges[k]
        sentences: list[SentencePair] = []
        if not pieces[k]:
            sentences = [SentencePair((a.sentences[r].id,), (), 0.0) for r in range(i0, i1)]
            sentences += [SentencePair((), (b.sentences[r].id,), 0.0) for r in range(j0, j1)]
        for p0, p1, q0, q1 in pieces[k]:
            ea = None if scorer.emb_a is None else scorer.emb_a[p0:p1]
            eb = None if scorer.emb_b is None else scorer.emb_b[q0:q1]
            w11, w21, w12 = scorer.weigh(d11[at], d21[at], d12[at], ea, eb, a.lengths[p0:p1], b.lengths[q0:q1], sigma)
            at += 1
            for bi0, bi1, bj0, bj1 in _dp(w11 - tau, w21 - tau - pen, w12 - tau - pen):
                ids_a = tuple(a.sentences[p0 + r].id for r in range(bi0, bi1))
                ids_b = tuple(b.sentences[q0 + r].id for r in range(bj0, bj1))
                bead_score = 0.0
                if ids_a and ids_b:
                    bead_score = float({(1, 1): w11, (2, 1): w21, (1, 2): w12}[(bi1 - bi0, bj1 - bj0)][bi0, bj0])
                sentences.append(SentencePair(ids_a, ids_b, bead_score))
        pairs.append(
            ClausePair(
                src=tuple(a.clauses[r].id for r in src_rows),
                tgt=tuple(b.clauses[r].id for r in tgt_rows),
                score=score,
                method=method,
                sentences=sentences,
            )
        )
    return _insert_containers(pairs, a.doc, b.doc)


def _insert_containers(pairs: list[ClausePair], src: Document, tgt: Document) -> list[ClausePair]:
    """Add the clauses without sentences (the document root ``0``, bare containers).

    Such a clause is paired with the clause of the same path on the other side when most
    of its descendants are paired into that clause's descendants; otherwise it stays unpaired.
    """
    partner: dict[str, set[str]] = {}
    for cp in pairs:
        for s in cp.src:
            partner.setdefault(s, set()).update(cp.tgt)
    empty_a = [c for c in src.clauses if not c.sentences]
    empty_b = {c.path: c for c in tgt.clauses if not c.sentences}
    extra: list[ClausePair] = []
    used_b: set[str] = set()
    for c in empty_a:
        other = empty_b.get(c.path)
        ok = False
        if other is not None and other.id not in used_b:
            desc_b = {d.id for d in other.walk()}
            inner = [d.id for d in c.walk() if d.sentences]
            hits = sum(1 for d in inner if partner.get(d, set()) & desc_b)
            ok = bool(inner) and hits * 2 >= len(inner)
        if ok and other is not None:
            used_b.add(other.id)
            extra.append(ClausePair((c.id,), (other.id,), 0.0, "structure", []))
        else:
            extra.append(ClausePair((c.id,), (), 0.0, "none", []))
    for c in tgt.clauses:
        if not c.sentences and c.id not in used_b:
            extra.append(ClausePair((), (c.id,), 0.0, "none", []))
    if not extra:
        return pairs
    order_a = {c.id: k for k, c in enumerate(src.clauses)}
    order_b = {c.id: k for k, c in enumerate(tgt.clauses)}
    # Merge into document order: a container goes before the first pair that holds a clause
    # following it in its own document.
    result = list(pairs)
    for cp in extra:
        if cp.src:
            key, order, side = order_a[cp.src[0]], order_a, "src"
        else:
            key, order, side = order_b[cp.tgt[0]], order_b, "tgt"
        pos = len(result)
        for k, other in enumerate(result):
            ids = getattr(other, side)
            if ids and order[ids[0]] > key:
                pos = k
                break
        result.insert(pos, cp)
    return result


# --------------------------------------------------------------------------- match


def _units(doc: Document, unit: str, within: Sequence[str] | None, front: bool = False) -> list[tuple[str, Clause, list[Sentence]]]:
    if unit not in ("clause", "sentence"):
        raise QueryError(f"unit must be 'clause' or 'sentence', got {unit!r}")
    prefixes: list[tuple[int, ...]] | None = None
    if within is not None:
        prefixes = []
        for w in within:
            key = w.split("#", 1)[1] if "#" in w else w
            try:
                prefixes.append(tuple(int(x) for x in key.split(".")) if key else ())
            except ValueError:
                raise QueryError(f"{w!r} is not a clause path; expected e.g. '3.1' or '{doc.id}#3.1'") from None
    out: list[tuple[str, Clause, list[Sentence]]] = []
    for c in doc.clauses:
        if not c.sentences or (c.kind == "front" and not front):
            continue
        if prefixes is not None and not any(c.path[: len(p)] == p for p in prefixes):
            continue
        if unit == "clause":
            out.append((c.id, c, list(c.sentences)))
        else:
            out.extend((s.id, c, [s]) for s in c.sentences)
    return out


def _unit_side(doc: Document, units: list[tuple[str, Clause, list[Sentence]]], featurize: _Featurizer) -> _Side:
    texts = ["".join(_strip_notes(s.text, s.start, c.notes) for s in sents) for _, c, sents in units]
    return _make_side(doc, [c for _, c, _ in units], [], list(range(len(units))), texts, featurize)


def _evidence(extra_a: list[str], extra_b: list[str], text_a: str, text_b: str, renderings: dict[str, str], limit: int = 8) -> list[str]:
    """What two texts share, strongest anchors first, as ``kind:value`` strings."""
    shared = set(extra_a) & set(extra_b)
    out: list[str] = []
    for f in dict.fromkeys(extra_a):
        if f not in shared:
            continue
        kind, key = f[0], f[1:]
        if kind == "G":
            rendering = renderings.get(key)
            out.append(f"glossary:{key}={rendering}" if rendering else f"glossary:{key}")
        else:
            out.append({"N": "number", "Q": "quote", "L": "latin"}[kind] + ":" + key)
    # the longest Han strings of ``a`` whose every bigram ``b`` has too
    bigrams_b = _han_bigrams(text_b)
    han = unify(normalize_width(_joined(text_a)))
    spans: list[str] = []
    for run in _HAN_RUN.findall(han):
        cur = ""
        for k in range(len(run) - 1):
            if run[k : k + 2] in bigrams_b:
                cur = cur + run[k + 1] if cur else run[k : k + 2]
            else:
                if len(cur) >= 3:
                    spans.append(cur)
                cur = ""
        if len(cur) >= 3:
            spans.append(cur)
    spans.sort(key=len, reverse=True)
    out.extend(f"han:{x}" for x in dict.fromkeys(spans))
    return out[:limit]


def match(
    doc_a: Document,
    doc_b: Document,
    *,
    threshold: float = 0.3,
    encoder: Encoder | str | None = None,
    glossary: Glossary | None = None,
    unit_a: Literal["clause", "sentence"] = "sentence",
    unit_b: Literal["clause", "sentence"] = "clause",
    within_a: Sequence[str] | None = None,
    within_b: Sequence[str] | None = None,
    relative: float = 0.8,
    front: bool = False,
) -> list[Match]:
    """Provisions of ``doc_a`` that correspond to provisions of ``doc_b`` (many to many).

    Unlike :func:`align`, no order is assumed: a summary may discuss measures in another
    order, and one statement may cover several measures.  Each unit of ``doc_a`` is compared
    with every unit of ``doc_b``; a pair is claimed when its score reaches ``threshold`` and
    is at least ``relative`` times the best score of that ``a`` unit.

    The score is a cosine-normalised overlap of idf-weighted shared features (Han
    characters and bigrams after unification, glossary anchors, numbers, quoted names,
    Latin words), averaged with the embedding cosine when an encoder is given: unlike the
    Dice coefficient of :func:`align`, it does not punish a one-sentence statement for
    summarising a long measure.

    Parameters
    ----------
    doc_a, doc_b : Document
        Any two documents, in any languages (a 解读 and the measures it explains, two
        versions of a policy).
    threshold : float
        Minimum score of a claimed match; nothing below it is returned.
    encoder, glossary
        As in :func:`align`.
    unit_a, unit_b : {"clause", "sentence"}
        Granularity of each side: statements are sentences, measures clauses by default.
        Sentence units give sentence ids (``<clause>/<n>``) in :attr:`Match.a`.
    within_a, within_b : sequence of str, optional
        Restrict a side to clauses under these paths (``["3.1", "3.2"]``).
    relative : float
        Keep only matches scoring at least this fraction of the best match of their ``a``
        unit (0 keeps every match above ``threshold``).  A statement usually summarises one
        provision; lower it to see the runners-up.
    front : bool
        Include front matter (title, notice, preamble) as units.  Off by default: front
        matter restates the whole document and is similar to everything.

    Returns
    -------
    list of Match
        In document order of ``a``, best score first within one ``a``.
    """
    if not 0.0 <= relative <= 1.0:
        raise QueryError(f"relative must be between 0 and 1, got {relative!r}")
    gl = _resolve_glossary(glossary)
    ua = _units(doc_a, unit_a, within_a, front)
    ub = _units(doc_b, unit_b, within_b, front)
    if not ua or not ub:
        return []
    featurize = _Featurizer(gl)
    a = _unit_side(doc_a, ua, featurize)
    b = _unit_side(doc_b, ub, featurize)
    space = _Space(a, b)
    overlap = (space.a.xw @ space.b.x.T).toarray()
    denom = np.sqrt(np.outer(space.a.size, space.b.size))
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(denom > 0, overlap / denom, 0.0)
    enc = _resolve_encoder(encoder, a, b)
    if enc is not None:
        ea, eb = _encode(enc, a.texts), _encode(enc, b.texts)
        assert ea is not None and eb is not None
        score = (score + np.clip(ea @ eb.T, 0.0, 1.0)) / 2.0
    gl_render = _glossary_renderings(gl, doc_b.lang)
    out: list[Match] = []
    for i in range(len(ua)):
        row = score[i]
        best = float(row.max()) if row.size else 0.0
        keep = np.flatnonzero((row >= threshold) & (row >= relative * best))
        for j in keep[np.argsort(-row[keep], kind="stable")]:
            ev = _evidence(a.extra[i], b.extra[j], a.texts[i], b.texts[j], gl_render)
            out.append(Match(ua[i][0], ub[j][0], float(row[j]), ev))
    return out


def _glossary_renderings(gl: Glossary, lang: str) -> dict[str, str]:
    if lang not in ("zh", "ja", "en"):
        return {}
    out: dict[str, str] = {}
    for entry in gl:
        terms = entry.terms(lang)
        if terms:
            out[entry.zh] = terms[0]
    return out


# --------------------------------------------------------------------------- bench


def _synthetic_document(doc_id: str, lang: str, clauses: list[tuple[int, list[str]]], flat: bool) -> Document:
    """A document whose clauses (numbered as given) hold the given sentences, or one clause."""
    from .model import Clause as _Clause
    from .model import Sentence as _Sentence

    groups = [(1, [x for _, group in clauses for x in group])] if flat else clauses
    text_parts: list[str] = []
    pos = 0
    roots: list[_Clause] = []
    for number, group in groups:
        start = pos
        sents: list[_Sentence] = []
        cid = f"{doc_id}#{number}"
        for k, sentence in enumerate(group, start=1):
            sents.append(_Sentence(id=f"{cid}/{k}", clause=cid, start=pos, end=pos + len(sentence), text=sentence))
            text_parts.append(sentence)
            pos += len(sentence)
        body = "".join(group)
        roots.append(
            _Clause(id=cid, doc=doc_id, path=(number,), label=f"{number}.", title=None, text=body, start=start,
                    end=pos, label_start=start, kind="section", lang=lang, sentences=tuple(sents))
        )
        text_parts.append("\n")
        pos += 1
    return Document(id=doc_id, work="bench", lang=lang, role="original", title="bench", text="".join(text_parts), roots=roots)


def bench_align(n: int = 2000, *, flat: bool = False, encoder: str | None = "builtin", seed: int = 0, out: Any = None) -> dict[str, float]:
    """Time :func:`align` on two synthetic documents of about ``n`` sentences each.

    The source is built from the sentences of the bundled corpus (Chinese and Japanese
    texts, repeated to reach ``n``), grouped in clauses of 2-8 sentences numbered 1, 2, ...
    The target is a perturbed copy whose true alignment is known: 2% of clauses dropped,
    numbering gaps after 5% of clauses (every later clause is renumbered), and inside the
    clauses 3% of sentences dropped, 3% of neighbouring pairs merged into one sentence and
    2% extra sentences.  With ``flat=True`` each document is a single clause, so all the
    work falls on the sentence level (the worst case).

    Parameters
    ----------
    n : int
        Sentences in the source document.
    flat : bool
        One clause per document instead of clauses of 2-8 sentences.
    encoder : {"builtin", None}
        ``"builtin"`` fits a builtin encoder on the two documents (timed separately as
        ``fit_s``) and aligns with it; ``None`` aligns with the text signals only.
    seed : int
        Seed of the perturbations.
    out : file, optional
        Where to print the figures (default ``sys.stdout``).

    Returns
    -------
    dict
        ``n_src``, ``n_tgt``, ``fit_s``, ``align_s``, ``total_s``, and ``precision`` /
        ``recall`` of the sentence links against the known truth.
    """
    from .corpus import Corpus

    rng = np.random.default_rng(seed)
    corpus = Corpus.load()
    pool = [s.text for d in corpus for c in d.clauses for s in c.sentences if _content_length(s.text) >= 8]
    if not pool:
        raise AlignmentError("the bundled corpus has no sentences to build the benchmark from")
    src_clauses: list[tuple[int, list[str]]] = []
    tgt_clauses: list[tuple[int, list[str]]] = []
    truth: set[tuple[int, int]] = set()  # (source sentence row, target sentence row)
    row_a = row_b = 0
    number_b = 0
    while row_a < n:
        size = min(int(rng.integers(2, 9)), n - row_a)
        group = [pool[(row_a + k) % len(pool)] for k in range(size)]
        src_clauses.append((len(src_clauses) + 1, group))
        rows = list(range(row_a, row_a + size))
        row_a += size
        if rng.random() < 0.02:
            continue
        out_group: list[str] = []
        k = 0
        while k < size:
            r = rng.random()
            if r < 0.03:
                k += 1
                continue
            if r < 0.06 and k + 1 < size:
                out_group.append(group[k] + group[k + 1])
                truth.update({(rows[k], row_b), (rows[k + 1], row_b)})
                row_b += 1
                k += 2
                continue
            out_group.append(group[k])
            truth.add((rows[k], row_b))
            row_b += 1
            if r > 0.98:
                out_group.append(pool[int(rng.integers(len(pool)))])
                row_b += 1
            k += 1
        if not out_group:
            continue
        number_b += 2 if rng.random() < 0.05 else 1
        tgt_clauses.append((number_b, out_group))
    src_doc = _synthetic_document("bench-src.zh", "zh", src_clauses, flat)
    tgt_doc = _synthetic_document("bench-tgt.ja", "ja", tgt_clauses, flat)
    row_of_a = {s.id: k for k, s in enumerate(s for c in src_doc.clauses for s in c.sentences)}
    row_of_b = {s.id: k for k, s in enumerate(s for c in tgt_doc.clauses for s in c.sentences)}
    from .glossary import Glossary

    gl = Glossary.load()
    gl.find_in("专利", "zh")  # build the glossary's index outside the timing
    unify("专利")
    t0 = time.perf_counter()
    enc = None
    if encoder == "builtin":
        from .encoders import BuiltinEncoder

        texts = sorted({s.text for d in (src_doc, tgt_doc) for c in d.clauses for s in c.sentences})
        enc = BuiltinEncoder().fit(texts, dim=128, words=False, max_features=32_768)
    elif encoder is not None:
        raise QueryError(f"bench_align() knows encoder='builtin' or None, got {encoder!r}")
    t1 = time.perf_counter()
    al = align(src_doc, tgt_doc, encoder=enc, glossary=gl)
    t2 = time.perf_counter()
    links = {(row_of_a[x], row_of_b[y]) for x, y in al.links()}
    correct = len(links & truth)
    figures = {
        "n_src": float(row_a),
        "n_tgt": float(row_b),
        "fit_s": t1 - t0,
        "align_s": t2 - t1,
        "total_s": t2 - t0,
        "precision": correct / len(links) if links else 0.0,
        "recall": correct / len(truth) if truth else 0.0,
    }
    stream = out or sys.stdout
    print(
        f"bench_align: {row_a} x {row_b} sentences ({'flat' if flat else f'{len(src_clauses)} x {len(tgt_clauses)} clauses'}), "
        f"encoder={encoder}: fit {figures['fit_s']:.2f} s, align {figures['align_s']:.2f} s, "
        f"total {figures['total_s']:.2f} s; links P={figures['precision']:.3f} R={figures['recall']:.3f}",
        file=stream,
    )
    return figures


def _main(argv: Iterable[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m policyidx.alignment", description="Alignment benchmark.")
    parser.add_argument("--bench", action="store_true", help="time align() on two synthetic long documents")
    parser.add_argument("-n", type=int, default=2000, help="sentences per document (default 2000)")
    parser.add_argument("--flat", action="store_true", help="one clause per document (worst case)")
    parser.add_argument("--no-encoder", action="store_true", help="text signals only")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not args.bench:
        parser.print_help()
        return 2
    bench_align(args.n, flat=args.flat, encoder=None if args.no_encoder else "builtin")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main())
