"""Text: everything about characters and words that every other package shares.

``han`` (Han ranges, variant unification, width folding), ``width`` (terminal display
width), ``stem`` (the one English stemmer), ``analysis`` (language detection, tokenisers,
index terms, the :class:`~policyidx.text.analysis.Analyzer`) and ``glossary`` (the zh/ja/en
terminology table).  This package imports nothing of policyidx but ``errors`` and ``_io``.
"""
