"""The search index: a thin :class:`Index` façade over a store of rows, a manifest and the
retrievers' files (see :mod:`policyidx.index.facade`)."""

from .facade import (
    FORMAT_VERSION,
    FUSION_DEFAULTS,
    MODES,
    VECTOR_DEFAULTS,
    Counterpart,
    Hit,
    Index,
    default_index_path,
    highlight,
    make_snippet,
    retrieve,
)

__all__ = ["Index", "Hit", "Counterpart", "default_index_path", "FORMAT_VERSION", "MODES", "FUSION_DEFAULTS",
           "VECTOR_DEFAULTS", "highlight", "make_snippet", "retrieve"]
