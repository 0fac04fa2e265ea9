"""Fuzzing every parser entry point (short profile; ``python -m policyidx.bench.fuzz`` runs the long one).

``POLICYIDX_FUZZ_EXAMPLES`` sets the inputs per entry point (default 40, a few seconds each).
"""

from __future__ import annotations

import os

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from policyidx.errors import ParseError  # noqa: E402
from policyidx.bench.fuzz import check_bytes, check_html, check_text, pdf_file, strategies  # noqa: E402
from policyidx.parsers import parse_bytes  # noqa: E402
from policyidx.parsers import pdf as pdfmod  # noqa: E402

EXAMPLES = int(os.environ.get("POLICYIDX_FUZZ_EXAMPLES", "40"))
# derandomized: CI sees the same inputs every run (the long profile explores: python -m policyidx.bench.fuzz --seed N)
CFG = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
               suppress_health_check=list(HealthCheck))
_st, TEXT_DOC, HTML_DOC = strategies()


@CFG
@given(TEXT_DOC, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "gb18030", "cp932"]),
       st.sampled_from(["zh", "ja"]), st.booleans())
def test_text_no_crash_no_loss(text, enc, lang, pdf):
    try:
        text.encode(enc.replace("-sig", ""))
    except UnicodeEncodeError:
        enc = "utf-8"
    assert check_text(text, encoding=enc, lang=lang, pdf=pdf) is None


@CFG
@given(HTML_DOC, st.sampled_from(["zh", "ja"]), st.sampled_from(["utf-8", "gb18030"]))
def test_html_no_crash_no_loss(doc, lang, enc):
    page, text = doc
    assert check_html(page, text, lang=lang, encoding=enc) is None


@CFG
@given(st.binary(max_size=300), st.sampled_from(["text", "html", "pdf"]), st.sampled_from(["zh", "ja"]))
def test_random_bytes_give_a_result_or_a_parse_error(data, fmt, lang):
    try:
        check_bytes(data, format=fmt, lang=lang)
    except ParseError:
        pass


@CFG
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6))
def test_mutated_pdf_gives_a_result_or_a_parse_error(flips):
    data = bytearray(pdf_file(["Article 1", "text", "- 2 -"], pages=2))
    for pos, val in flips:
        data[pos % len(data)] = val
    try:
        check_bytes(bytes(data), format="pdf", lang="ja")
    except ParseError:
        pass


# ----------------------------------------------------------------------------- bounded PDFs


def test_pdf_page_tree_too_deep_is_a_clear_error():
    with pytest.raises(ParseError, match=r"deep\.pdf.*nested too deep"):
        parse_bytes(pdf_file(["Article 1"], depth=5000), doc_id="x.ja", lang="ja", format="pdf", name="deep.pdf")


def test_pdf_unsupported_encryption_is_a_clear_error():
    data = pdf_file(["Article 1"], trailer="/Encrypt 6 0 R /ID [<01> <01>] ",
                    extra=["<< /Filter /Standard /V 0 /R 2 /O <00> /U <00> /P -4 >>"])
    with pytest.raises(ParseError, match=r"enc\.pdf.*encrypted"):
        parse_bytes(data, doc_id="x.ja", lang="ja", format="pdf", name="enc.pdf")


def test_pdf_page_count_is_bounded(monkeypatch):
    monkeypatch.setattr(pdfmod, "MAX_PAGES", 3)
    with pytest.raises(ParseError, match=r"big\.pdf: 5 pages"):
        parse_bytes(pdf_file(["Article 1"], pages=5), doc_id="x.ja", lang="ja", format="pdf", name="big.pdf")
    assert parse_bytes(pdf_file(["Article 1"], pages=3), doc_id="x.ja", lang="ja", format="pdf").text


def test_pdf_page_numbers_are_taken_out_and_listed():
    res = parse_bytes(pdf_file(["Article 1 text", "- 2 -"]), doc_id="x.ja", lang="ja", format="pdf")
    assert "2" not in res.text
    assert any(w.code == "page-numbers" and "'- 2 -'" in w.message for w in res.warnings)


def test_the_fuzz_oracle_can_fail():
    # the checks are not vacuous: a parser that dropped a character would be caught
    from policyidx.bench import fuzz

    class Fake:
        text = "一、总体"
        roots: list = []
        header_spans: list = []
        footer_span = None
        warnings: list = []

    assert fuzz.coverage_gaps(Fake()) == "一、总体"


def test_input_over_the_size_bound_is_a_clear_error(monkeypatch):
    import policyidx.parsers as parsers

    monkeypatch.setattr(parsers, "MAX_BYTES", 1000)
    with pytest.raises(ParseError, match=r"huge\.txt: .*larger than"):
        parse_bytes(b"a" * 1001, doc_id="x.zh", lang="zh", name="huge.txt")
