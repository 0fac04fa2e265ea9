"""A sample of the real documents of ``../shared/realdocs`` parses into exact article trees.

The truth is read from the source's own lines by the benchmark's rules of legislative drafting
(``benchmarks/realdocs_parse.py``, none of the parser's label code): articles are the lines that
start ``第X条`` followed by a space, each under the 编/章/节 (and 附则, judicial ``一、`` division)
lines open above it; 款 are the later lines of an article that start no item label and follow a
line that ends a sentence.  A fixed sample of 60 documents (every k-th file, all
categories) keeps the test within a few seconds; the full run is the benchmark.  Skipped when
``../shared`` is not beside the checkout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import load_script, realdocs_dir

ROOT = Path(__file__).resolve().parent.parent


REALDOCS = realdocs_dir()
pytestmark = pytest.mark.skipif(REALDOCS is None, reason="../shared/realdocs is not beside the checkout")


@pytest.fixture(scope="module")
def bench():
    return load_script(ROOT / "benchmarks" / "realdocs_parse.py", "realdocs_parse")


@pytest.fixture(scope="module")
def rows(bench):
    assert REALDOCS is not None
    files = sorted((REALDOCS / "zh").rglob("*.md"))
    sample = files[:: max(1, len(files) // 60)][:60]
    out = []
    for f in sample:
        out.append(bench.evaluate(str(f.name), bench.read_source(f.read_text(encoding="utf-8"))))
    return out


def test_nothing_lost(rows):
    assert [r["name"] for r in rows if r["lost"]] == []


def test_article_trees_exact(rows):
    bad = [(r["name"], r["diff"]) for r in rows if not r["exact"]]
    assert bad == []


def test_paragraphs_after_item_lists_are_not_inside_items(rows):
    paras = sum(r["paras"] for r in rows)
    misplaced = sum(r["misplaced"] for r in rows)
    after = sum(r["after"] for r in rows)
    assert paras > 500 and after > 50 and misplaced <= 0.005 * paras


def test_every_paragraph_is_a_clause_of_its_own(rows):
    paras = sum(r["paras"] for r in rows)
    assert sum(r["unanchored"] for r in rows) == 0
    assert sum(r["not_own"] for r in rows) <= 0.005 * paras
