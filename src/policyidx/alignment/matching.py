"""Matching of provisions across documents: :func:`match`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Sequence

import numpy as np

from ..errors import QueryError
from ..model import Clause, Document, Sentence
from ..text.han import normalize_width, unify

if TYPE_CHECKING:  # pragma: no cover
    from ..retrieval.encoders import Encoder
    from ..text.glossary import Glossary

from .aligner import _encode, _resolve_encoder, _resolve_glossary
from .records import Match
from .signals import _Featurizer, _HAN_RUN, _Side, _Space, _han_bigrams, _joined, _make_side, _strip_notes

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
