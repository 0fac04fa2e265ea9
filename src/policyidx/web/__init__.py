"""The browser workbench: search, read, review alignments, export (``pip install "policyidx[web]"``).

A local web application over the Python API (:class:`policyidx.Index`,
:func:`policyidx.align`, :func:`policyidx.match`, :func:`policyidx.terms`, the review store
and the export writers); it holds no logic of its own beyond presenting them.

>>> from policyidx.web import create_app, serve                         # doctest: +SKIP
>>> serve(corpus="path/to/corpus", port=8765)                          # doctest: +SKIP

``policyidx serve`` (or ``python -m policyidx.web``) starts it on 127.0.0.1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["create_app", "serve", "Workbench"]

if TYPE_CHECKING:  # pragma: no cover
    from .app import Workbench


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module 'policyidx.web' has no attribute {name!r}")
