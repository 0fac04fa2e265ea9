"""Search filters: which documents, works, roles or languages a search may return.

A :class:`Filter` is declarative (it names documents, works, roles, a language), so an
external engine can translate it into its own query; :meth:`Filter.rows` resolves it
against an index's document table into the :class:`~policyidx.retrieval.base.RowFilter`
the built-in retrievers use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import NotFoundError, QueryError
from .base import RowFilter

__all__ = ["Filter", "LANGS", "ROLES"]

LANGS = ("zh", "ja", "en")
ROLES = ("original", "translation", "interpretation")


@dataclass(frozen=True)
class Filter:
    """Only clauses in language ``lang`` of these ``docs``, ``works`` and ``roles``
    (``None`` or empty: no restriction)."""

    lang: str | None = None
    docs: Sequence[str] | None = None
    works: Sequence[str] | None = None
    roles: Sequence[str] | None = None

    def __bool__(self) -> bool:
        return bool(self.lang or self.docs or self.works or self.roles)

    def rows(self, docs: Sequence[dict[str, Any]], row_doc: np.ndarray) -> RowFilter | None:
        """The rows this filter allows.

        Parameters
        ----------
        docs
            The index's documents (``id``, ``work``, ``role``, ``lang``), in row-doc order.
        row_doc
            For every row, its position in ``docs``.

        Returns
        -------
        RowFilter or None
            ``None`` when the filter restricts nothing.

        Raises
        ------
        NotFoundError
            An unknown document or work id.
        QueryError
            An unknown role or language.
        """
        if not self:
            return None
        doc_index = {d["id"]: i for i, d in enumerate(docs)}
        allowed_docs = np.ones(len(docs), dtype=bool)
        if self.docs:
            unknown = [d for d in self.docs if d not in doc_index]
            if unknown:
                raise NotFoundError(f"unknown document id(s) {unknown}; known: {', '.join(sorted(doc_index))}")
            sel = np.zeros(len(docs), dtype=bool)
            sel[[doc_index[d] for d in self.docs]] = True
            allowed_docs &= sel
        if self.works:
            known = {d["work"] for d in docs}
            unknown = [w for w in self.works if w not in known]
            if unknown:
                raise NotFoundError(f"unknown work id(s) {unknown}; known: {', '.join(sorted(known))}")
            allowed_docs &= np.array([d["work"] in self.works for d in docs])
        if self.roles:
            bad = [r for r in self.roles if r not in ROLES]
            if bad:
                raise QueryError(f"unknown role(s) {bad}; expected original, translation or interpretation")
            allowed_docs &= np.array([d["role"] in self.roles for d in docs])
        if self.lang:
            if self.lang not in LANGS:
                raise QueryError(f"unknown language {self.lang!r}; expected zh, ja or en")
            allowed_docs &= np.array([d["lang"] == self.lang for d in docs])
        return RowFilter(allowed_docs[np.asarray(row_doc)])
