"""Shared fixtures: the bundled corpus is parsed once per test session, and the tests that
only read an index share one built index."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from policyidx.corpus import Corpus

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def realdocs_dir() -> Path | None:
    """``$POLICYIDX_REALDOCS``, else ``realdocs`` in :func:`shared_dir`, when it holds the
    Chinese texts; ``None`` if absent (the tests that read it skip)."""
    shared = shared_dir()
    for cand in (os.environ.get("POLICYIDX_REALDOCS"), shared / "realdocs" if shared else None):
        if cand and (Path(cand) / "zh").is_dir():
            return Path(cand)
    return None


def load_script(path: Path, name: str):
    """Import a script that is not a package module (a benchmark) under ``name``; it is put in
    ``sys.modules`` first, since dataclasses look their module up."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def shared_dir() -> Path | None:
    """The shared data directory (real documents, dev queries): ``$POLICYIDX_SHARED``, else
    ``../shared`` beside the checkout (as in CI), else ``/work/shared``; ``None`` if absent."""
    for cand in (os.environ.get("POLICYIDX_SHARED"), ROOT.parent / "shared", "/work/shared"):
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return Corpus.load()


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, corpus):
    """The index of the bundled corpus (no alignments), built once for every test that only
    reads it.  Tests that change an index build or copy their own."""
    from policyidx.index import Index

    return Index.build(corpus, tmp_path_factory.mktemp("shared-index") / "default", align=False)
