"""Retrieval: rankers behind one interface.

A :class:`~policyidx.retrieval.base.Retriever` turns an analysed query into a ranking of
rows; ``keyword`` (BM25), ``encoders`` + ``vectors`` (dense), ``fusion`` (reciprocal-rank
fusion over any number of named rankings), ``expand`` (query analysis and glossary
expansion) and ``modes`` (the registry of search modes the CLI reads its choices from).
This package imports ``text``, ``errors``, ``_io`` and ``parallel``, never ``index`` or ``cli``.
"""
