"""Text signals of alignment: numbers, quoted names, Latin words, Han characters and
bigrams, glossary anchors, and the per-document feature spaces built from them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..model import Clause, Document, Sentence
from ..text.han import HAN_CLASS, HAN_RANGES, normalize_width, unify
from ..text.numerals import parse_numeral

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse

    from ..text.glossary import Glossary


# --------------------------------------------------------------------------- text signals

_HAN_CLASS = HAN_CLASS
_HAN_RUN = re.compile(f"[{_HAN_CLASS}]+")
_WS = re.compile(r"\s+")
_NON_CONTENT = re.compile(r"[\W_]+")
_LATIN = re.compile(r"[A-Za-z][A-Za-z\-]*[A-Za-z]")
# A number with thousands separators and decimals, then an optional 万/亿 multiplier that
# may itself be followed by the rest (``1万8,000`` is 18000).
_NUMBER = re.compile(r"(?<![\d.])(\d+(?:,\d{3})*(?:\.\d+)?)(?:([万萬亿億])(\d+(?:,\d{3})*)?)?")
_CN_NUMERAL = re.compile("[零〇一二两三四五六七八九十百千]{2,}")
_QUOTES = [re.compile(p) for p in ("「([^「」]+)」", "『([^『』]+)』", "“([^“”]+)”", '"([^"]+)"', "《([^《》]+)》", "〈([^〈〉]+)〉", "‘([^‘’]+)’")]


def _format_number(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:g}"


#: The regular forms of a numeral with units (十九, 二十, 一百二十, 三千五百): falling units,
#: each after at most one digit, a last digit only after 十, no 零.  A run such as 十四五
#: (the 14th five-year plan) is a name, not a number, and yields nothing.
_REGULAR_NUMERAL = re.compile(
    "^(?=.*[十百千])(?:[一二两三四五六七八九]?千)?(?:[一二两三四五六七八九]?百)?"
    "(?:[一二两三四五六七八九]?十)?(?:(?<=十)[一二两三四五六七八九])?$"
)


def _parse_cn_numeral(s: str) -> int | None:
    return parse_numeral(s) if _REGULAR_NUMERAL.match(s) else None


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
_HAN_LO_HI = HAN_RANGES


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
