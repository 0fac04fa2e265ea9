"""Fuzzing the parsers: every entry point, any input, no crash and no text lost.

Run ``python -m policyidx.bench.fuzz`` (the long profile: thousands of inputs per entry point, a few
minutes) or ``python -m policyidx.bench.fuzz --examples 200`` for a quick look; ``--encodings``
measures encoding detection against charset-normalizer on texts of the bundled corpus.  The
test suite runs the same checks with a short profile (``tests/test_fuzz_parsers.py``;
``POLICYIDX_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz_parsers.py`` runs it long).

What is checked, for each generated input (needs ``hypothesis``, in the ``test`` extra):

- **no crash**: :func:`~policyidx.parsers.parse_bytes` returns or raises
  :class:`~policyidx.errors.ParseError`, nothing else;
- **no text lost** (text and HTML): every non-whitespace character of the input's text is in
  the parsed text, in order (text) or as a multiset (HTML, whose page title may move first),
  except what a warning lists as taken out on purpose (page numbers of PDF text, invisible
  characters, page text outside the article body); and every character of the parsed text
  lies in a clause (label or text), the header or the footer;
- **decoded right**: text encoded in UTF-8, UTF-16 (with or without BOM), GB18030 or
  Shift_JIS comes back as it was.
"""

from __future__ import annotations

import argparse
import codecs
import html as _html
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from ..errors import MissingDependencyError, ParseError
from ..parsers import parse_bytes

__all__ = ["check_text", "check_html", "check_bytes", "coverage_gaps", "FuzzStats", "main"]

_WS = re.compile(r"\s+")


def squash(s: str) -> str:
    """``s`` without whitespace."""
    return _WS.sub("", s)


def _invisible(ch: str) -> bool:
    cp = ord(ch)
    return ch not in "\t\n\r\f" and (
        unicodedata.category(ch) in ("Cf", "Cc", "Cs") or (cp & 0xFFFE) == 0xFFFE or 0xFDD0 <= cp <= 0xFDEF
    )


def visible(s: str) -> str:
    """``s`` without invisible characters (an independent restatement of what the parsers remove)."""
    return "".join(ch for ch in s if not _invisible(ch))


def coverage_gaps(res) -> str:
    """Characters of ``res.text`` (not whitespace) outside every clause, the header and the footer."""
    covered = bytearray(len(res.text))
    for root in res.roots:
        for c in root.walk():
            lo = c.label_start if c.label else c.start
            covered[lo : max(lo, c.end)] = b"\x01" * (max(lo, c.end) - lo)
    for s, e in list(res.header_spans) + list(getattr(res, "markup_spans", ())):
        covered[s:e] = b"\x01" * (e - s)
    if res.footer_span:
        s, e = res.footer_span
        covered[s:e] = b"\x01" * (e - s)
    return squash("".join(ch for ch, k in zip(res.text, covered) if not k))


@dataclass
class FuzzStats:
    """Counts of a fuzzing run."""

    tried: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)  # ParseError (a clear error, allowed)
    crashes: list = field(default_factory=list)
    lost: list = field(default_factory=list)
    misdecoded: list = field(default_factory=list)

    def row(self, entry: str) -> str:
        n = lambda xs: sum(1 for x in xs if x[0] == entry)  # noqa: E731
        return (f"{entry:<22} {self.tried[entry]:>7} {self.refused[entry]:>8} {n(self.crashes):>8} "
                f"{n(self.lost):>10} {n(self.misdecoded):>11}")


def _parse(data: bytes, **kw):
    try:
        return parse_bytes(data, doc_id="fuzz", name="fuzz-input", **kw), None
    except ParseError as exc:
        assert "fuzz-input" in str(exc), f"a ParseError that does not name the file: {exc}"
        return None, exc


def _page_lines(res) -> set[int]:
    out: set[int] = set()
    for w in res.warnings:
        if w.code == "page-numbers":
            out.update(int(n) for n in re.findall(r"line (\d+): ", w.message))
    return out


def check_text(text: str, *, encoding: str, lang: str, pdf: bool) -> str | None:
    """Encode ``text``, parse it as a text file; a description of the failure, or None.

    Raises whatever the parser raises other than :class:`ParseError` (a crash).
    """
    data = b"" if not text else (codecs.BOM_UTF8 + text.encode("utf-8") if encoding == "utf-8-sig" else text.encode(encoding))
    res, err = _parse(data, lang=lang, format="text", extracted_from="pdf" if pdf else "")
    # only text that says what it is (UTF-8, a BOM) or that reads like a document can be
    # expected back exactly; for the rest, any clear outcome will do (no crash)
    marked = encoding in ("utf-8", "utf-8-sig", "utf-16") and "\x00" not in text
    if not marked and not realistic(text):
        # the decoding may differ; what was decoded must still be all in the clause tree
        gaps = coverage_gaps(res) if res is not None else ""
        return f"characters outside every clause: {gaps[:40]!r}" if gaps else None
    if res is None:
        if visible(text).strip():
            return f"refused valid {encoding} text: {err}"
        return None
    if "\ufffd" in res.text and "\ufffd" not in text:
        return f"misdecoded ({encoding}): {res.text[:60]!r}"
    raw = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\f\n")
    raw = raw.replace("\u2028", "\n").replace("\u2029", "\n")
    skip = _page_lines(res)
    kept = "\n".join(ln for i, ln in enumerate(raw.split("\n"), 1) if i not in skip)
    want = squash(visible(kept)).replace("|", "")
    got = squash(res.text).replace("|", "")
    if any(_invisible(c) for c in text) and not any(w.code == "invisible-characters" for w in res.warnings):
        return "invisible characters removed without a warning"
    if want != got and len(want) == len(got) and not marked:
        i = next(k for k, (a, b) in enumerate(zip(want, got)) if a != b)
        return f"misdecoded ({encoding}): want {want[max(0, i - 10):i + 20]!r}, got {got[max(0, i - 10):i + 20]!r}"
    if want != got:
        i = next((k for k, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
        return f"text lost or changed at {i}: want {want[max(0, i - 10):i + 20]!r}, got {got[max(0, i - 10):i + 20]!r}"
    gaps = coverage_gaps(res)
    if gaps:
        return f"characters outside every clause: {gaps[:40]!r}"
    return None


#: characters a document of this corpus is made of (the generators' own alphabets)
HAN = "中华人民共和国知识产权保护发展创新规定条例实施办法国务院部门单位企业应当依法加强管理服务年月日一二三十百第条章节"
KANA = "のにはをがでとしてるれあいうえおかきくけこアイウエオカキクケコ日本語翻訳文書知的財産権規定項号"
PUNCT = "。，、；：（）《》“”「」！？—…·①"


def realistic(text: str) -> bool:
    """Text of printable ASCII and the generators' CJK alphabet, with at least 24 CJK characters.

    Shorter snippets are often valid, plausible text in two codecs (a dozen characters of
    GB18030 that read as a dozen JIS kanji): ``--encodings`` measures those apart.
    """
    allowed = set(HAN + KANA + PUNCT + "\n\r\t ")
    n = sum(1 for c in text if c in allowed and not c.isspace())
    return n >= 24 and all(c in allowed or " " <= c <= "~" for c in text)


def check_html(page: str, expected_text: str, *, lang: str, encoding: str = "utf-8") -> str | None:
    """Parse an HTML page whose visible text is ``expected_text``; a description of the failure, or None."""
    page = page.replace("{enc}", encoding)
    res, err = _parse(page.encode(encoding, "xmlcharrefreplace"), lang=lang, format="html")
    if res is None:
        if visible(expected_text).strip():
            return f"refused a page with text: {err}"
        return None
    left_out = ""
    for w in res.warnings:
        if w.code == "outside-body":
            left_out += w.message.split(" left out: ", 1)[1]
    have = Counter(squash(res.text + left_out).replace("|", ""))
    want = Counter(squash(visible(expected_text)).replace("|", ""))
    missing = want - have
    if missing:
        return f"text lost: {''.join(sorted(missing.elements()))[:60]!r}"
    gaps = coverage_gaps(res)
    if gaps:
        return f"characters outside every clause: {gaps[:40]!r}"
    return None


def check_bytes(data: bytes, *, format: str, lang: str) -> None:
    """Parse arbitrary bytes: returns when the parser returns, raises ParseError when it refuses."""
    _res, err = _parse(data, lang=lang, format=format)
    if err is not None:
        raise err


# --------------------------------------------------------------------------- generators


def strategies():
    """Hypothesis strategies: (text lines, html trees, pdf files)."""
    try:
        from hypothesis import strategies as st
    except ImportError as exc:  # pragma: no cover
        raise MissingDependencyError("fuzzing needs hypothesis: pip install 'policyidx[test]'") from exc

    han, kana, punct = HAN, KANA, PUNCT
    odd = "\u200b\u200c\u200d\ufeff\u00ad\u2060\x01\x07\x1b\x7f\u2028\u2029\ufffd\u3000\xa0\t |─①"
    labels = st.sampled_from(["一、", "二、", "十二、", "第一条", "第十二条", "第三百零一条", "第1条", "第一章", "第二节",
                              "（一）", "（二）", "(3)", "1.", "2．", "（1）", "①", "第2項", "第3号", ""])
    words = st.text(alphabet=han + kana + punct + odd + "abcXYZ0123456789 .:/-", min_size=0, max_size=30)
    line = st.one_of(
        st.builds(lambda lab, w: lab + w, labels, words),
        words,
        st.integers(0, 3000).map(str),
        st.sampled_from(["- 3 -", "— 12 —", "年份", "\u200b", "\ufeff\u200b", "http://example.org/a?b=1", "各单位：",
                         "国家知识产权局", "2022年1月1日", "出典：JETRO", "发布日期：2022-10-24", "国知发〔2022〕1号"]),
        st.text(min_size=0, max_size=8),  # any code points
    )
    text_doc = st.lists(line, max_size=40).flatmap(
        lambda ls: st.sampled_from(["\n", "\r\n", "\n\n"]).map(lambda sep: sep.join(ls))
    )

    inline = ["span", "a", "b", "strong", "font", "em"]
    blocks = ["div", "p", "section", "article", "li", "h1", "h2", "nav", "header", "footer", "form", "td", "center"]
    text_node = st.one_of(words, st.builds(lambda lab, w: lab + w, labels, words))

    def render(tree) -> tuple[str, str]:
        kind = tree[0]
        if kind == "text":
            return _html.escape(tree[1], quote=False), tree[1]
        if kind == "br":
            return "<br>", ""
        if kind == "script":
            return f"<script>var s = '{tree[1].replace('<', '')}';</script>", ""
        tag, kids = tree[1], tree[2]
        if tag == "table":
            rows = []
            texts = []
            for row in kids:
                cells = []
                for cell in row:
                    m, t = render(cell)
                    cells.append(f"<td>{m}</td>")
                    texts.append(t)
                rows.append("<tr>" + "".join(cells) + "</tr>")
            return "<table>" + "".join(rows) + "</table>", " ".join(texts)
        parts = [render(k) for k in kids]
        return f"<{tag}>" + "".join(m for m, _ in parts) + f"</{tag}>", " ".join(t for _, t in parts)

    leaf = st.one_of(
        text_node.map(lambda t: ("text", t)),
        st.just(("br",)),
        words.map(lambda t: ("script", t)),
    )
    tree = st.recursive(
        leaf,
        lambda kids: st.one_of(
            st.tuples(st.just("el"), st.sampled_from(blocks + inline), st.lists(kids, max_size=5)),
            st.tuples(st.just("el"), st.just("table"), st.lists(st.lists(kids, min_size=1, max_size=3), min_size=1, max_size=3)),
        ),
        max_leaves=40,
    )

    def page(t, depth: int) -> tuple[str, str]:
        m, txt = render(t)
        m = "<div>" * depth + m + "</div>" * depth
        return f"<html><head><meta charset=\"{{enc}}\"><title>t</title></head><body>{m}</body></html>", txt

    html_doc = st.builds(page, tree, st.sampled_from([0, 0, 0, 1, 50, 300, 3000]))
    return st, text_doc, html_doc


# --------------------------------------------------------------------------- runs


ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gb18030", "cp932")


def run(examples: int, stats: FuzzStats, *, seed: int | None = None) -> FuzzStats:
    """Run every entry point on ``examples`` generated inputs each, counting into ``stats``."""
    from hypothesis import HealthCheck, given, seed as hseed, settings

    st, text_doc, html_doc = strategies()
    cfg = settings(max_examples=examples, deadline=None, database=None, derandomize=seed is None,
                   suppress_health_check=list(HealthCheck))

    def record(entry: str, fn) -> None:
        stats.tried[entry] += 1
        try:
            problem = fn()
        except ParseError:
            stats.refused[entry] += 1
            return
        except Exception as exc:  # a crash: anything but ParseError
            stats.crashes.append((entry, f"{type(exc).__name__}: {exc}"))
            return
        if problem:
            (stats.misdecoded if problem.startswith(("misdecoded", "refused valid")) else stats.lost).append((entry, problem))

    def seeded(f):
        return hseed(seed)(f) if seed is not None else f

    @seeded
    @cfg
    @given(text_doc, st.sampled_from(ENCODINGS), st.sampled_from(["zh", "ja"]), st.booleans())
    def text_entry(text, enc, lang, pdf):
        try:
            text.encode(enc.replace("-sig", ""))
        except UnicodeEncodeError:
            enc = "utf-8"
        record("text", lambda: check_text(text, encoding=enc, lang=lang, pdf=pdf))

    @seeded
    @cfg
    @given(html_doc, st.sampled_from(["zh", "ja"]), st.sampled_from(["utf-8", "gb18030", "utf-16"]))
    def html_entry(doc, lang, enc):
        page, txt = doc
        record("html", lambda: check_html(page, txt, lang=lang, encoding=enc))

    @seeded
    @cfg
    @given(st.binary(max_size=400), st.sampled_from(["text", "html", "pdf"]), st.sampled_from(["zh", "ja"]))
    def bytes_entry(data, fmt, lang):
        record(f"{fmt} (random bytes)", lambda: check_bytes(data, format=fmt, lang=lang))

    @seeded
    @cfg
    @given(st.integers(0, 10**9), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
           st.integers(0, 4))
    def pdf_entry(salt, flips, shape):
        data = bytearray(_pdf_sample(shape, salt))
        for pos, val in flips:
            data[pos % len(data)] = val
        record("pdf (mutated)", lambda: check_bytes(bytes(data), format="pdf", lang="ja"))

    for f in (text_entry, html_entry, bytes_entry, pdf_entry):
        f()
    return stats


def _pdf(objs: list[str], trailer: str = "") -> bytes:
    out = b"%PDF-1.4\n"
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += f"{i} 0 obj\n{o}\nendobj\n".encode("latin-1")
    x = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offs)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R {trailer}>>\nstartxref\n{x}\n%%EOF\n".encode()
    return out


def pdf_file(lines: list[str], *, depth: int = 1, pages: int = 1, trailer: str = "", extra: list[str] | None = None) -> bytes:
    """A small PDF: ``pages`` pages showing ``lines`` (ASCII), its page tree ``depth`` levels deep."""
    objs = ["<< /Type /Catalog /Pages 2 0 R >>"]
    for d in range(depth - 1):  # intermediate nodes 2 .. depth
        parent = f"/Parent {1 + d} 0 R " if d else ""
        objs.append(f"<< /Type /Pages {parent}/Kids [{3 + d} 0 R] /Count {pages} >>")
    last = len(objs) + 1  # the node holding the pages
    first_page = last + 1
    content = first_page + pages
    kids = " ".join(f"{first_page + i} 0 R" for i in range(pages))
    parent = f"/Parent {last - 1} 0 R " if depth > 1 else ""
    objs.append(f"<< /Type /Pages {parent}/Kids [{kids}] /Count {pages} >>")
    for _ in range(pages):
        objs.append(f"<< /Type /Page /Parent {last} 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
                    f"/Resources << /Font << /F1 {content + 1} 0 R >> >> >>")
    ops = " ".join(f"72 {720 - 14 * i} Td ({ln}) Tj" if i == 0 else f"0 -14 Td ({ln}) Tj" for i, ln in enumerate(lines))
    stream = f"BT /F1 12 Tf {ops} ET"
    objs.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    objs.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    objs.extend(extra or [])
    return _pdf(objs, trailer)


def _pdf_sample(shape: int, salt: int) -> bytes:
    lines = [f"Article {salt % 97}", "1", f"text {salt}", "- 2 -"]
    if shape == 0:
        return pdf_file(lines)
    if shape == 1:
        return pdf_file(lines, depth=3 + salt % 20)
    if shape == 2:
        return pdf_file(lines, pages=1 + salt % 5)
    if shape == 3:  # encrypted with a scheme pypdf does not implement
        return pdf_file(lines, trailer="/Encrypt 6 0 R /ID [<01> <01>] ",
                        extra=["<< /Filter /Standard /V 0 /R 2 /O <00> /U <00> /P -4 >>"])
    return pdf_file(lines, depth=150)


# --------------------------------------------------------------------------- encodings


def compare_encodings(n: int = 2000, seed: int = 7, zh_dir: str | None = None) -> dict[str, Counter]:
    """Encoding detection of :func:`decode_bytes` and of charset-normalizer on the same inputs.

    Inputs: random excerpts (5 to 400 characters) of the bundled corpus's Chinese and Japanese
    texts, encoded in GB18030, Shift_JIS (CP932), EUC-JP, Big5 (Traditional conversions),
    UTF-16 LE/BE without BOM and UTF-8, some with the last byte cut off.  A decoding is right
    when it gives back the excerpt (less a cut last character).  ``zh_dir``: take the Chinese
    excerpts from the ``*.md`` / ``*.txt`` files under this folder instead (e.g. the 2,645 real
    texts of ``../shared/realdocs``, 200 of them, chosen at random).  Rows ``all (20+ chars)``
    leave out the excerpts of 5 and 10 characters, which are often valid in several codecs.
    """
    import random

    from ..corpus import bundled_corpus_path
    from ..parsers.decode import decode_bytes

    try:
        import charset_normalizer
    except ImportError:  # pragma: no cover
        charset_normalizer = None
    root = bundled_corpus_path()
    if zh_dir:
        from pathlib import Path

        files = sorted(p for p in Path(zh_dir).rglob("*") if p.suffix in (".md", ".txt"))
        files = random.Random(seed).sample(files, min(200, len(files)))
        zh = "".join(p.read_text("utf-8", errors="replace") for p in files)
    else:
        zh = "".join(p.read_text("utf-8") for p in sorted(root.glob("zh/*.txt")))
    ja = "".join(p.read_text("utf-8") for p in sorted(root.glob("ja/*.txt")))
    rng = random.Random(seed)
    out = {"policyidx": Counter(), "charset-normalizer": Counter()}
    for _ in range(n):
        lang = rng.choice(["zh", "ja"])
        src = zh if lang == "zh" else ja
        size = rng.choice([5, 10, 20, 50, 100, 400])
        i = rng.randrange(0, max(1, len(src) - size))
        text = src[i : i + size]
        encs = ["gb18030", "utf-16-le", "utf-16-be", "utf-8", "cp932"] if lang == "zh" else ["cp932", "euc_jp", "utf-16-le", "utf-8", "gb18030"]
        enc = rng.choice(encs)
        try:
            data = text.encode(enc)
        except UnicodeEncodeError:
            continue
        cut = rng.random() < 0.2 and len(data) > 4
        if cut:
            data = data[:-1]
        key = f"{enc}{' cut' if cut else ''}"

        def right(decoded: str | None) -> bool:
            if decoded is None:
                return False
            if cut:
                return text.startswith(decoded.rstrip("\ufffd")) and len(decoded.rstrip("\ufffd")) >= len(text) - 1
            return decoded == text

        try:
            mine = decode_bytes(data, name="x", lang=lang)[0]
        except ParseError:
            mine = None
        long = " (20+ chars)" if size >= 20 else ""
        out["policyidx"][key, right(mine), long] += 1
        if charset_normalizer is not None:
            best = charset_normalizer.from_bytes(data).best()
            out["charset-normalizer"][key, right(str(best) if best is not None else None), long] += 1
    return out


def realdocs_check(folder: str, n: int = 150, seed: int = 11, max_bytes: int | None = None) -> Counter:
    """Real texts as GBK plain text and as a GB2312-labelled government page, checked for loss.

    ``n`` files of ``folder`` (``*.md`` of ``../shared/realdocs``, markdown marks taken off)
    are encoded in GBK (no encoding given: detection) and wrapped in a page with navigation, a
    sidebar of numbered links, an ``<h1>`` title, a ``TRS_Editor`` body of ``<p>`` and a site
    footer.  Counted: documents, refused, documents losing text (characters of the source not
    in the parsed text), documents with text outside every clause, pages whose navigation and
    footer are listed in the ``outside-body`` warning.
    """
    import random
    from pathlib import Path

    files = sorted(p for p in Path(folder).rglob("*.md") if max_bytes is None or p.stat().st_size <= max_bytes)
    stats: Counter = Counter()
    for f in random.Random(seed).sample(files, min(n, len(files))):
        raw = re.sub(r"^#+ ", "", f.read_text("utf-8").replace("<!-- INFO END -->", ""), flags=re.M)
        lines = [ln for ln in raw.split("\n") if ln.strip()]
        if not lines:
            continue
        page = ("<html><head><meta charset='gb2312'><title>x</title></head><body><div class='nav'><a href='/'>首页</a> &gt; "
                "<a>政策法规</a></div><div class='side'><ul><li><a>一、关于某某的通知</a></li></ul></div><h1>"
                + _html.escape(lines[0]) + "</h1><div class='TRS_Editor'>"
                + "".join(f"<p>{_html.escape(ln)}</p>" for ln in lines[1:]) + "</div><div class='footer'>版权所有</div></body></html>")
        for kind, data, fmt, want in (
            ("GBK text", raw.encode("gb18030"), "text", raw),
            ("GB2312 page", page.encode("gb18030"), "html", "".join(lines)),
        ):
            stats[kind, "documents"] += 1
            stats[kind, "characters"] += len(squash(want))
            res, err = _parse(data, lang="zh", format=fmt)
            if res is None:
                stats[kind, "refused"] += 1
                continue
            lost = Counter(squash(visible(want)).replace("|", "")) - Counter(squash(res.text).replace("|", ""))
            stats[kind, "documents losing text"] += bool(lost)
            stats[kind, "characters lost"] += sum(lost.values())
            stats[kind, "documents with text outside clauses"] += bool(coverage_gaps(res))
            if fmt == "html":
                ob = " ".join(w.message for w in res.warnings if w.code == "outside-body")
                stats[kind, "navigation and footer reported"] += "首页" in ob and "版权所有" in ob
    return stats


def big_document(folder: str, n: int) -> dict:
    """Parse the first ``n`` texts of ``folder`` concatenated into one GBK file: size, time, clauses, peak RSS."""
    import resource
    import time
    from pathlib import Path

    files = sorted(Path(folder).rglob("*.md"))[:n]
    data = "\n".join(f.read_text("utf-8") for f in files).encode("gb18030")
    t = time.perf_counter()
    res = parse_bytes(data, doc_id="big.zh", lang="zh", name="big.txt")
    return {"megabytes": round(len(data) / 1e6, 1), "seconds": round(time.perf_counter() - t, 1),
            "clauses": sum(1 for r in res.roots for _ in r.walk()),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3)}


def main(argv: list[str] | None = None) -> int:
    """``python -m policyidx.bench.fuzz``: the long fuzzing profile, figures on stdout."""
    ap = argparse.ArgumentParser(prog="python -m policyidx.bench.fuzz", description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=3000, help="inputs per entry point (default 3000)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: derandomized, repeatable)")
    ap.add_argument("--encodings", type=int, default=0, metavar="N",
                    help="instead: compare encoding detection with charset-normalizer on N inputs")
    ap.add_argument("--zh-dir", default=None, help="with --encodings: Chinese texts from this folder (e.g. ../shared/realdocs)")
    ap.add_argument("--realdocs", default=None, metavar="DIR",
                    help="instead: parse real texts (e.g. ../shared/realdocs) as GBK text and GB2312 pages, count losses")
    ap.add_argument("--docs", type=int, default=150, help="with --realdocs: how many files (default 150)")
    ap.add_argument("--big", action="store_true",
                    help="with --realdocs: parse the first --docs texts as ONE GBK file (time, clauses, peak RSS)")
    ap.add_argument("--json", action="store_true", help="figures as JSON")
    a = ap.parse_args(argv)
    if a.realdocs and a.big:
        import json

        print(json.dumps(big_document(a.realdocs, a.docs)))
        return 0
    if a.realdocs:
        st = realdocs_check(a.realdocs, a.docs)
        if a.json:
            import json

            print(json.dumps({f"{k} / {m}": v for (k, m), v in st.items()}, ensure_ascii=False))
        else:
            for (k, m), v in sorted(st.items()):
                print(f"{k:<12} {m:<38} {v:>9}")
        return 0
    if a.encodings:
        res = compare_encodings(a.encodings, seed=a.seed or 7, zh_dir=a.zh_dir)
        keys = sorted({k for c in res.values() for k, _, _ in c})

        def tally(c: Counter, k: str) -> tuple[int, int]:
            sel = [(r, v) for (kk, r, lg), v in c.items()
                   if kk == k or k == "all" or (k == "all (20+ chars)" and lg)]
            return sum(v for r, v in sel if r), sum(v for _, v in sel)

        rows = keys + ["all", "all (20+ chars)"]
        if a.json:
            import json

            print(json.dumps({d: {k: tally(c, k) for k in rows} for d, c in res.items()}))
            return 0
        print(f"{'encoding':<16}" + "".join(f"{d:>22}" for d in res))
        for k in rows:
            cells = [f"{ok:>10}/{tot:<5} {100 * ok / max(1, tot):5.1f}%" for ok, tot in (tally(c, k) for c in res.values())]
            print(f"{k:<16}" + "".join(f"{c:>22}" for c in cells))
        return 0
    stats = run(a.examples, FuzzStats(), seed=a.seed)
    if a.json:
        import json

        print(json.dumps({"tried": dict(stats.tried), "refused": dict(stats.refused), "crashes": stats.crashes,
                          "lost": stats.lost, "misdecoded": stats.misdecoded}, ensure_ascii=False))
    else:
        print(f"{'entry point':<22} {'inputs':>7} {'refused':>8} {'crashes':>8} {'text lost':>10} {'misdecoded':>11}")
        for entry in stats.tried:
            print(stats.row(entry))
        for kind, xs in (("crash", stats.crashes), ("lost", stats.lost), ("misdecoded", stats.misdecoded)):
            for entry, msg in xs[:10]:
                print(f"{kind}: {entry}: {msg}")
    return 1 if stats.crashes or stats.lost or stats.misdecoded else 0


if __name__ == "__main__":
    sys.exit(main())
