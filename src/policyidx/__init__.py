"""policyidx: clause-level search and alignment for Chinese policy documents and their
Japanese translations.

>>> import policyidx
>>> corpus = policyidx.Corpus.load()
>>> corpus.clause("cnipa-2022-38.ja#2.6").title
'知的財産権金融サービスの効果を高める。'

Names are imported lazily: ``import policyidx`` does no work and loads no heavy library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Corpus",
    "Document",
    "Clause",
    "Sentence",
    "Note",
    "Index",
    "Hit",
    "align",
    "match",
    "terms",
    "Glossary",
    "PolicyIdxError",
    "to_tsv",
    "to_tmx",
    "to_html",
    "to_xlsx",
    "align_files",
    "ReviewStore",
]

_LAZY = {
    "Corpus": ("policyidx.corpus", "Corpus"),
    "Document": ("policyidx.model", "Document"),
    "Clause": ("policyidx.model", "Clause"),
    "Sentence": ("policyidx.model", "Sentence"),
    "Note": ("policyidx.model", "Note"),
    "Index": ("policyidx.index", "Index"),
    "Hit": ("policyidx.index", "Hit"),
    "align": ("policyidx.alignment", "align"),
    "match": ("policyidx.alignment", "match"),
    "terms": ("policyidx.concordance", "terms"),
    "Glossary": ("policyidx.text.glossary", "Glossary"),
    "PolicyIdxError": ("policyidx.errors", "PolicyIdxError"),
    "to_tsv": ("policyidx.export", "to_tsv"),
    "to_tmx": ("policyidx.export", "to_tmx"),
    "to_html": ("policyidx.export", "to_html"),
    "to_xlsx": ("policyidx.export", "to_xlsx"),
    "align_files": ("policyidx.adhoc", "align_files"),
    "ReviewStore": ("policyidx.review", "ReviewStore"),
}

if TYPE_CHECKING:  # pragma: no cover
    from .corpus import Corpus
    from .errors import PolicyIdxError
    from .model import Clause, Document, Note, Sentence


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'policyidx' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
