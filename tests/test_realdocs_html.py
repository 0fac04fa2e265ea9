"""A sample of the real documents of ``../shared/realdocs``, rendered as government web pages,
parses into the clause tree of its plain text.

The pages are made by ``benchmarks/realdocs_html.py`` (seven layouts: ``<p>`` lines in a
``TRS_Editor`` div, ``<br>`` lines, indented ``<span>`` runs, ``<strong>`` article labels and
centred headings, layout tables with ``<p>`` or ``<br>`` lines, a GB18030 page declaring
gb2312).  A fixed sample of 24 documents (every k-th file) keeps the test within seconds; the
full run is the benchmark.  Skipped when ``../shared`` is not beside the checkout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import load_script, realdocs_dir

from policyidx.parsers import parse_bytes

ROOT = Path(__file__).resolve().parent.parent


REALDOCS = realdocs_dir()
pytestmark = pytest.mark.skipif(REALDOCS is None, reason="../shared/realdocs is not beside the checkout")


@pytest.fixture(scope="module")
def bench():
    return load_script(ROOT / "benchmarks" / "realdocs_html.py", "realdocs_html")


@pytest.fixture(scope="module")
def sample(bench):
    assert REALDOCS is not None
    files = sorted((REALDOCS / "zh").rglob("*.md"))
    step = max(1, len(files) // 24)
    out = []
    for f in files[::step][:24]:
        text = bench.page_text(f.read_text(encoding="utf-8"))
        ref = parse_bytes(text.encode("utf-8"), doc_id="d.zh", lang="zh", format="text", name=f.name)
        out.append((f.name, text, ref))
    return out


@pytest.mark.parametrize("layout", ["trs-p", "br", "indent-span", "strong-center", "table-p", "table-br", "gbk"])
def test_pages_parse_like_their_plain_text(bench, sample, layout):
    bad = []
    for name, text, ref in sample:
        page = bench.LAYOUTS[layout](text)
        got = parse_bytes(page, doc_id="d.zh", lang="zh", format="html", name=name)
        r = bench.compare(ref, got)
        if not r["same"] or r["differ"] or r["lost"] or not r["title_same"]:
            bad.append(f"{name}: {r['first']}; {len(r['differ'])} clauses differ; lost {r['lost']}; titles {r['titles']}")
    assert not bad, "\n".join(bad)


def test_layouts_render_the_whole_text(bench, sample):
    # the benchmark's pages hold the text: a layout that dropped lines would make the test above vacuous
    name, text, _ = sample[0]
    for layout, render in bench.LAYOUTS.items():
        page = render(text)
        decoded = page.decode("gb18030" if layout == "gbk" else "utf-8")
        assert decoded.count("<p") + decoded.count("<br") + decoded.count("<tr") >= len(bench._lines(text)) // 2, layout
