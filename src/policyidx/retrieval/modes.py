"""The registry of search modes.

A mode is a name, a one-line description and a factory that makes a
:class:`~policyidx.retrieval.base.Retriever` from the index's base retrievers (asked for by
name, so a mode only loads what it uses) and the index's parameters.  The index, the CLI's
``--mode`` choices and the evaluation all read this registry: a new mode is one
:func:`register_mode` call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..errors import QueryError
from .base import Retriever
from .retrievers import FusionRetriever

__all__ = ["Mode", "register_mode", "get_mode", "mode_names", "make_retriever", "FUSION_DEFAULTS"]

#: Fusion parameters written into new indexes, chosen on the development query sets
#: (eval/, ../shared/dev-queries.jsonl) with ``python -m policyidx.evaluate`` (see README).
FUSION_DEFAULTS: dict[str, Any] = {
    "fusion": "rrf",
    "rrf_k": 10,
    "weights": {"keyword": 1.0, "dense": 0.7},
    "expansion_weight": 0.5,
}

#: ``factory(part, params)``: ``part(name)`` returns a base retriever of the index.
Factory = Callable[[Callable[[str], Retriever], Mapping[str, Any]], Retriever]


@dataclass(frozen=True)
class Mode:
    name: str
    help: str
    factory: Factory


_MODES: dict[str, Mode] = {}


def register_mode(name: str, help: str, factory: Factory) -> None:
    """Add (or replace) a search mode."""
    _MODES[name] = Mode(name, help, factory)


def mode_names() -> tuple[str, ...]:
    """The registered modes, in registration order."""
    return tuple(_MODES)


def get_mode(name: str) -> Mode:
    try:
        return _MODES[name]
    except (KeyError, TypeError):
        raise QueryError(f"unknown mode {name!r}; expected one of {', '.join(_MODES)}") from None


def make_retriever(name: str, part: Callable[[str], Retriever], params: Mapping[str, Any] | None = None) -> Retriever:
    """The retriever of mode ``name`` over the base retrievers ``part(name)``."""
    return get_mode(name).factory(part, params or FUSION_DEFAULTS)


def _hybrid(part: Callable[[str], Retriever], params: Mapping[str, Any]) -> Retriever:
    weights = params.get("weights", FUSION_DEFAULTS["weights"])
    return FusionRetriever({"keyword": part("keyword"), "dense": part("dense")}, weights,
                           fusion=params.get("fusion", "rrf"), rrf_k=params.get("rrf_k", FUSION_DEFAULTS["rrf_k"]),
                           name="hybrid")


register_mode("keyword", "BM25 over words and shared Han characters", lambda part, params: part("keyword"))
register_mode("dense", "the embedding index", lambda part, params: part("dense"))
register_mode("hybrid", "both, fused by reciprocal rank", _hybrid)
