"""Exception types of policyidx.

Every error the library raises on purpose derives from :class:`PolicyIdxError`, so a
caller (and the CLI) can catch one type.  Messages say what was expected, what was found
and what to do.
"""

from __future__ import annotations

__all__ = [
    "PolicyIdxError",
    "CatalogError",
    "ParseError",
    "NotFoundError",
    "IndexError_",
    "StaleIndexError",
    "QueryError",
    "EncoderError",
    "MissingDependencyError",
    "ShardError",
    "CorruptIndexError",
    "IndexBusyError",
]


class PolicyIdxError(Exception):
    """Base class of every error raised by policyidx."""


class CatalogError(PolicyIdxError):
    """The corpus catalog is missing, malformed or inconsistent."""


class ParseError(PolicyIdxError):
    """A source file cannot be decoded or parsed at all (names the file)."""


class NotFoundError(PolicyIdxError, KeyError):
    """An unknown document id, clause id, work id or glossary term."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class IndexError_(PolicyIdxError):
    """An index directory is missing, incomplete or of an unknown format."""


class StaleIndexError(IndexError_):
    """An index was built from another corpus or format version: rebuild it."""


class QueryError(PolicyIdxError, ValueError):
    """A query or search parameter is not usable (empty query, unknown mode...)."""


class EncoderError(PolicyIdxError):
    """An embedding encoder cannot be loaded or used."""


class MissingDependencyError(PolicyIdxError, ImportError):
    """An optional dependency is not installed; the message gives the pip command."""


class ShardError(IndexError_):
    """A shard of a sharded index failed or did not answer (names the shard), or the Dask
    cluster cannot be reached."""


class CorruptIndexError(IndexError_):
    """A file of an index is damaged (checksum, size or bounds): the message names it."""


class IndexBusyError(IndexError_):
    """Another process is building the same index (its lock file is held)."""
