"""Shared fixtures: the bundled corpus is parsed once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyidx.corpus import Corpus

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return Corpus.load()
