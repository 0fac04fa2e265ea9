"""Linear time in the input size: each parser stage timed on inputs doubling in size.

A ratio test, robust to machine noise: the best of a few runs at sizes n and 4n, timed in CPU
time of the process (not wall time, which other processes on a loaded machine stretch); a linear
stage takes about 4x as long at 4n (an O(n log n) one a little more), a quadratic one 16x.
The bound (7x) leaves room for noise without letting a quadratic stage through; a ratio above it
is measured again (up to three times) before the test fails, since a quadratic stage stays near
16x at every try while a burst of noise does not repeat.
"""

from __future__ import annotations

import time

import pytest

from policyidx.parsers import parse_bytes
from policyidx.parsers.decode import decode_bytes
from policyidx.parsers.html import cap_depth
from policyidx.parsers.layout import assemble, split_lines, strip_invisible

BOUND = 7.0


TRIES = 3


def _best(fn, arg, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn(arg)
        best = min(best, time.process_time() - t)
    return best


def _ratio(make, fn, n: int) -> float:
    """The smallest of up to :data:`TRIES` measured ratios, stopping at the first below :data:`BOUND`."""
    fn(make(n))  # warm up (caches, first-use tables)
    small_in, large_in = make(n), make(4 * n)
    ratio = float("inf")
    for _ in range(TRIES):
        ratio = min(ratio, _best(fn, large_in) / max(_best(fn, small_in), 1e-4))
        if ratio < BOUND:
            break
    return ratio


def _wrapped(n: int) -> str:
    # one paragraph wrapped over n lines with no sentence end: the PDF-joining worst case
    return "一、总体要求\n" + "加强知识产权保护促进创新发展的若干措施\n" * n


STAGES = {  # name: (input of size n, the stage, n)
    "decode (GB18030 detection)": (lambda n: ("第一条 加强知识产权保护，促进创新发展。\n" * n).encode("gb18030"),
                                   lambda d: decode_bytes(d, name="x", lang="zh"), 20_000),
    "decode (UTF-16 without BOM)": (lambda n: ("第一条 加强知识产权保护。\n" * n).encode("utf-16-le"),
                                    lambda d: decode_bytes(d, name="x", lang="zh"), 20_000),
    "invisible characters": (lambda n: "第一条\u200b加强保护。\n" * n, lambda t: strip_invisible(t, []), 10_000),
    "split lines (PDF text)": (lambda n: ("加强知识产权保护\n12\n" * n), lambda t: split_lines(t, pdf=True, warnings=[]), 10_000),
    # a tokeniser looks at every line end: a large constant, so fewer lines (the old
    # quadratic joining took 43 s on 9.7 MB)
    "join wrapped lines": (lambda n: split_lines(_wrapped(n), pdf=True)[0], lambda ls: assemble(ls, lang="zh", wrapped=True), 800),
    "flatten deep HTML": (lambda n: "<div>" * n + "text" + "</div>" * n, cap_depth, 10_000),
}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_is_linear(stage):
    make, fn, n = STAGES[stage]
    r = _ratio(make, fn, n)
    assert r < BOUND, f"{stage}: 4x the input took {r:.1f}x the time"


def test_whole_text_parse_is_linear():
    make = lambda n: ("一、总体要求\n" + "加强知识产权保护，促进创新发展\n" * n).encode("utf-8")  # noqa: E731
    r = _ratio(make, lambda d: parse_bytes(d, doc_id="x.zh", lang="zh", extracted_from="pdf"), 800)
    assert r < BOUND, f"parse_bytes(text): 4x the input took {r:.1f}x the time"


def test_whole_html_parse_is_linear():
    def make(n: int) -> bytes:
        body = "".join(f"<p>加强知识产权保护，促进创新发展{i}</p>" for i in range(n))
        nav = "<nav>" + "".join(f"<a href='/{i}'>链接{i}</a>" for i in range(n // 10)) + "</nav>"
        return f"<html><body>{nav}<div id='zoom'><p>一、总体要求</p>{body}</div><footer>版权</footer></body></html>".encode()

    r = _ratio(make, lambda d: parse_bytes(d, doc_id="x.zh", lang="zh", format="html"), 1_000)
    assert r < BOUND, f"parse_bytes(html): 4x the input took {r:.1f}x the time"
