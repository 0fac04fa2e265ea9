"""Clause trees of the real texts of ``../shared/realdocs`` rendered as government web pages.

Usage::

    python benchmarks/realdocs_html.py [--root ../shared/realdocs] [--limit N] [--match TEXT] [--layout NAME ...] [--show N]
    python benchmarks/realdocs_html.py --peer-src ../main/src [--rounds 3] [--limit N]   # page parse time side by side

Each ``zh/**/*.md`` file is turned into the plain text ``benchmarks/realdocs_parse.py`` parses
(its :func:`read_source`; the collection's comment lines ``<!-- TABLE -->`` / ``<!-- FORCE BREAK -->``
and the ``|---|`` rule rows of its markdown tables taken out, as a page has neither), parsed as
plain text (the reference) and rendered into typical page layouts of Chinese government sites,
each parsed with ``parse_bytes(..., format="html")``:

- ``trs-p``: one ``<p>`` per line in a ``div.TRS_Editor``, navigation, a header with the
  site name, a breadcrumb and a footer around it, the title in an ``<h1>`` above the body
  (gov.cn article pages);
- ``br``: the lines separated by ``<br>`` in one ``div#zoom`` (older provincial pages);
- ``indent-span``: ``<p>`` lines indented with ``&nbsp;`` runs or full-width spaces (alternating
  by line), the text in ``<span style=...>`` runs cut mid-line, an empty ``<p>&nbsp;</p>`` after
  every third line (pages exported from a word processor);
- ``strong-center``: article labels in ``<strong>``/``<b>`` (``<p><strong>第一条</strong>　…</p>``),
  division headings (编/章/节, 附则) centred (``<p align="center">`` or ``<h3>``, alternating),
  the title in a centred ``<p>`` in the body (npc.gov.cn / flk.npc.gov.cn);
- ``table-p``: an old layout table: navigation row, title row, the body as ``<p>`` lines in
  one ``<td>``, footer row;
- ``table-br``: the same table, the body as ``　　``-indented lines separated by ``<br>`` in the
  ``<td>``;
- ``gbk``: ``trs-p`` encoded in GB18030 with ``<meta http-equiv=... charset=gb2312>``.

Markdown table rows of the text (``| a | b |``) become ``<table>`` rows in every layout.
Printed per layout: documents whose clause tree differs from the plain-text parse (clause ids,
labels and titles in order), clauses whose text differs (same trees; whitespace and the ``|``
of table rows aside), document titles that differ, lost characters (characters of the plain
text missing from the parsed page text, counted as a multiset, plus characters of the page
text outside every clause, header, footer and markup span), failures (an exception), and parse
time.  ``--show N`` prints the first N differences of each layout.  ``--peer-src DIR`` (another
checkout's ``src``) prints the CPU time of the page parses of both, every 5th document,
alternating rounds, instead.
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable

from policyidx.parsers import parse_bytes


def _bench():
    """``benchmarks/realdocs_parse.py`` as a module (its plain text and file list are reused)."""
    name = "realdocs_parse"
    if name in sys.modules:
        return sys.modules[name]
    here = Path(__file__).resolve().parent / "realdocs_parse.py"
    spec = importlib.util.spec_from_file_location(name, here)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


_COMMENT = re.compile(r"(<!--.*?-->\s*)+")
_RULE_ROW = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")
_TABLE_ROW = re.compile(r"^\|.*\|$")
_WS = re.compile(r"\s+")
_DIVISION = re.compile(r"^(第[零〇一二三四五六七八九十百千0-9]+(分编|[编章节])|[附总分]\s*则)(\s|$)")
_ARTICLE = re.compile(r"^(第[零〇一二三四五六七八九十百千0-9]+条(之[一二三四五六七八九十]+)?)([\s\u3000]+)(.*)$")


def page_text(md: str) -> str:
    """The plain text of a collection file, without the lines a page cannot hold (see above)."""
    plain = _bench().read_source(md).plain
    keep = [ln for ln in plain.splitlines() if not _COMMENT.fullmatch(ln.strip()) and not _RULE_ROW.match(ln.strip())]
    return "\n".join(keep) + "\n"


# --------------------------------------------------------------------------- page layouts

_NAV = ('<div class="top"><a href="/">首页</a> | <a href="/zhengce/">政策</a> | <a href="/hudong/">互动</a>'
        ' | <a href="/fuwu/">服务</a></div>\n<div class="nav"><ul><li><a href="/">首页</a></li>'
        '<li><a href="/zhengce/">政策文件库</a></li><li><a href="/jiedu/">政策解读</a></li></ul></div>\n')
_CRUMB = '<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zhengce/">政策</a> &gt; 正文</div>\n'
_FOOTER = ('<div class="footer"><p>主办单位：某某省人民政府办公厅　承办：某某省大数据中心</p>'
           '<p>网站标识码 1100000088　<a href="/about">关于本网</a>　<a href="/map">网站地图</a></p></div>\n')


def _esc(s: str) -> str:
    return html.escape(s, quote=False)


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def _rows_html(rows: list[str]) -> str:
    out = ['<table border="1" cellspacing="0">']
    for r in rows:
        cells = [c.strip() for c in r.strip().strip("|").split("|")]
        out.append("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _blocks(text: str) -> list[tuple[str, str | list[str]]]:
    """The lines of the text, runs of markdown table rows grouped: (``line``, text) / (``table``, rows)."""
    out: list[tuple[str, str | list[str]]] = []
    for ln in _lines(text):
        if _TABLE_ROW.match(ln):
            if out and out[-1][0] == "table":
                out[-1][1].append(ln)  # type: ignore[union-attr]
            else:
                out.append(("table", [ln]))
        else:
            out.append(("line", ln))
    return out


def _page(body: str, *, title: str, charset: str = "utf-8", head_meta: str | None = None) -> str:
    meta = head_meta or f'<meta charset="{charset}">'
    return (f"<!DOCTYPE html>\n<html>\n<head>\n{meta}\n<title>{_esc(title)}_某某省人民政府门户网站</title>\n"
            '<script>var _hmt = _hmt || []; document.write("<div>统计</div>");</script>\n'
            '<style>.TRS_Editor p{text-indent:2em}</style>\n</head>\n<body>\n' + body + "</body>\n</html>\n")


def layout_trs_p(text: str) -> bytes:
    blocks = _blocks(text)
    title = blocks[0][1] if blocks and blocks[0][0] == "line" else ""
    rest = blocks[1:] if title else blocks
    parts = [f"<p>{_esc(t)}</p>" if k == "line" else _rows_html(t) for k, t in rest]  # type: ignore[arg-type]
    body = (f"<header>{_NAV}</header>\n{_CRUMB}<div class=\"article\">\n<h1>{_esc(str(title))}</h1>\n"
            '<div class="info">来源：某某省人民政府　<span>字号：大 中 小</span></div>\n'
            '<div class="TRS_Editor">\n' + "\n".join(parts) + "\n</div>\n"
            '<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a></div>\n</div>\n' + _FOOTER)
    return _page(body, title=str(title)).encode("utf-8")


def layout_br(text: str) -> bytes:
    parts = []
    for k, t in _blocks(text):
        parts.append(_esc(t) + "<br>" if k == "line" else _rows_html(t))  # type: ignore[arg-type]
    body = _NAV + _CRUMB + '<div id="zoom">\n' + "\n".join(parts) + "\n</div>\n" + _FOOTER
    return _page(body, title=_lines(text)[0] if text.strip() else "").encode("utf-8")


def _cut_spans(line: str, k: int) -> str:
    """A line as word-processor runs: ``<span style>`` pieces cut at fixed points."""
    style = 'style="font-family:仿宋_GB2312;font-size:16pt"'
    if len(line) < 6:
        return f"<span {style}>{_esc(line)}</span>"
    a = 2 + k % 3
    b = max(a + 1, len(line) // 2)
    return "".join(f"<span {style}>{_esc(p)}</span>" for p in (line[:a], line[a:b], line[b:]) if p)


def layout_indent_span(text: str) -> bytes:
    parts = []
    for k, (kind, t) in enumerate(_blocks(text)):
        if kind == "table":
            parts.append(_rows_html(t))  # type: ignore[arg-type]
            continue
        indent = "&nbsp;&nbsp;&nbsp;&nbsp;" if k % 2 else "\u3000\u3000"
        parts.append(f'<p style="text-indent:0;line-height:1.5">{indent}{_cut_spans(str(t), k)}</p>')
        if k % 3 == 0:
            parts.append('<p style="line-height:1.5"><span style="font-size:16pt">&nbsp;</span></p>')  # a spacer
    body = (_NAV + _CRUMB + '<div class="pages_content" id="UCAP-CONTENT">\n' + "\n".join(parts)
            + "\n</div>\n" + _FOOTER)
    return _page(body, title=_lines(text)[0] if text.strip() else "").encode("utf-8")


def layout_strong_center(text: str) -> bytes:
    parts = []
    ndiv = 0
    for k, (kind, t) in enumerate(_blocks(text)):
        if kind == "table":
            parts.append(_rows_html(t))  # type: ignore[arg-type]
            continue
        t = str(t)
        if k == 0:
            parts.append(f'<p align="center"><strong>{_esc(t)}</strong></p>')
        elif _DIVISION.match(t):
            ndiv += 1
            parts.append(f"<h3>{_esc(t)}</h3>" if ndiv % 2 else f'<p align="center"><b>{_esc(t)}</b></p>')
        elif m := _ARTICLE.match(t):
            tag = "strong" if k % 2 else "b"
            parts.append(f"<p><{tag}>{_esc(m.group(1))}</{tag}>\u3000{_esc(m.group(4))}</p>")
        else:
            parts.append(f"<p>{_esc(t)}</p>")
    body = (_NAV + '<div class="law-content" id="content">\n' + "\n".join(parts) + "\n</div>\n" + _FOOTER)
    return _page(body, title=_lines(text)[0] if text.strip() else "").encode("utf-8")


def _table_page(text: str, inner: Callable[[list[tuple[str, str | list[str]]]], str]) -> bytes:
    blocks = _blocks(text)
    title = str(blocks[0][1]) if blocks and blocks[0][0] == "line" else ""
    rest = blocks[1:] if title else blocks
    body = ('<table width="100%" border="0" cellpadding="0" cellspacing="0">\n'
            '<tr><td class="nav"><a href="/">首页</a> | <a href="/zwgk/">政务公开</a> | <a href="/bsfw/">办事服务</a></td></tr>\n'
            f'<tr><td class="title" align="center"><font size="5"><b>{_esc(title)}</b></font></td></tr>\n'
            '<tr><td class="date" align="center">发布时间：　　来源：</td></tr>\n'
            '<tr><td class="content">\n' + inner(rest) + "\n</td></tr>\n"
            '<tr><td class="bottom" align="center">版权所有：某某市人民政府　地址：某某路1号　联系电话：0000-0000000</td></tr>\n'
            "</table>\n")
    return _page(body, title=title).encode("utf-8")


def layout_table_p(text: str) -> bytes:
    return _table_page(text, lambda rest: "\n".join(
        f"<p>{_esc(str(t))}</p>" if k == "line" else _rows_html(t) for k, t in rest))  # type: ignore[arg-type]


def layout_table_br(text: str) -> bytes:
    return _table_page(text, lambda rest: "\n".join(
        f"\u3000\u3000{_esc(str(t))}<br>" if k == "line" else _rows_html(t) for k, t in rest))  # type: ignore[arg-type]


def layout_gbk(text: str) -> bytes:
    page = layout_trs_p(text).decode("utf-8")
    page = page.replace('<meta charset="utf-8">', '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">')
    return page.encode("gb18030")


LAYOUTS: dict[str, Callable[[str], bytes]] = {
    "trs-p": layout_trs_p,
    "br": layout_br,
    "indent-span": layout_indent_span,
    "strong-center": layout_strong_center,
    "table-p": layout_table_p,
    "table-br": layout_table_br,
    "gbk": layout_gbk,
}


# --------------------------------------------------------------------------- comparison


def _clauses(res) -> list:
    return [c for r in res.roots for c in r.walk()]


def _sq(s: str | None) -> str:
    return _WS.sub("", s or "").replace("|", "")


def _lost_outside(res) -> int:
    text = res.text
    covered = bytearray(len(text) + 1)
    spans = [(c.label_start, c.end) for c in _clauses(res)] + list(res.header_spans) + list(getattr(res, "markup_spans", []))
    if res.footer_span:
        spans.append(res.footer_span)
    for s, e in spans:
        covered[s:e] = b"\x01" * (e - s)
    return sum(1 for i, ch in enumerate(text) if not covered[i] and not ch.isspace())


def compare(ref, got) -> dict:
    """Compare a page's parse (``got``) with the plain-text parse (``ref``) of the same text."""
    ca, cb = _clauses(ref), _clauses(got)
    key_a = [(c.id, _sq(c.label), _sq(c.title)) for c in ca]
    key_b = [(c.id, _sq(c.label), _sq(c.title)) for c in cb]
    same = key_a == key_b
    differ: list[tuple[str, str, str]] = []
    by_id = {c.id: c for c in cb}
    for c in ca:
        d = by_id.get(c.id)
        if d is not None and _sq(c.text) != _sq(d.text):
            differ.append((c.id, c.text, d.text))
    missing = Counter(_sq(ref.text)) - Counter(_sq(got.text))
    first = None
    if not same:
        for k, (a, b) in enumerate(zip(key_a, key_b)):
            if a != b:
                first = f"clause #{k + 1}: plain {a}, page {b}"
                break
        else:
            first = f"{len(key_a)} clauses in the plain parse, {len(key_b)} in the page's"
    return {"same": same, "differ": differ, "clauses": len(ca), "lost": sum(missing.values()) + _lost_outside(got),
            "missing": "".join(sorted(missing.elements()))[:40], "title_same": _sq(ref.parsed_title) == _sq(got.parsed_title),
            "titles": (ref.parsed_title, got.parsed_title), "first": first}


def _timing(files: list[Path], names: list[str]) -> int:
    """CPU time of the page parses (every 5th document, after a warm-up), one line per layout."""
    texts = [page_text(f.read_text(encoding="utf-8")) for f in files[::5]]
    # the tokeniser's dictionaries load once per process (on the first line cut mid-word): not per page
    from policyidx.text.analysis import tokenize

    tokenize("发挥表率作用", "zh")
    for n in names:
        pages = [LAYOUTS[n](t) for t in texts]
        parse_bytes(pages[0], doc_id="d.zh", lang="zh", format="html")
        t0 = time.process_time()
        for p in pages:
            parse_bytes(p, doc_id="d.zh", lang="zh", format="html")
        print(n, len(pages), time.process_time() - t0)
    return 0


def _compare(args, names: list[str]) -> int:
    """Page parse time of this checkout and others, side by side, alternating rounds."""
    import os
    import subprocess

    peers = [("this checkout", Path(__file__).resolve().parent.parent / "src")] + [(str(p), p.resolve()) for p in args.peer_src]
    res: dict[str, dict[str, list[float]]] = {name: {} for name, _ in peers}
    docs = 0
    for _ in range(args.rounds):
        for name, src in peers:
            cmd = [sys.executable, __file__, "--root", str(args.root), "--timing-only", "--limit", str(args.limit)]
            for n in names:
                cmd += ["--layout", n]
            out = subprocess.run(cmd, env=dict(os.environ, PYTHONPATH=str(src)), capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                n, k, dt = line.split()
                docs = int(k)
                res[name].setdefault(n, []).append(float(dt))
    print(f"page parse CPU time, ms/document, {docs} documents (every 5th file), median of {args.rounds} alternating rounds:")
    print(f"  {'layout':14s} " + " ".join(f"{name[-30:]:>30s}" for name, _ in peers))
    for n in names:
        cells = []
        for name, _ in peers:
            ts = sorted(res[name].get(n, [0.0]))
            cells.append(f"{1000 * ts[len(ts) // 2] / max(1, docs):30.1f}")
        print(f"  {n:14s} " + " ".join(cells))
    return 0


def main(argv: list[str] | None = None) -> int:
    bench = _bench()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=bench.default_root())
    ap.add_argument("--limit", type=int, default=0, help="only the first N files (0: all)")
    ap.add_argument("--layout", action="append", choices=sorted(LAYOUTS), help="only these layouts (repeatable; default all)")
    ap.add_argument("--show", type=int, default=0, help="print the first N differences of each layout")
    ap.add_argument("--match", default="", help="only the files whose path holds this text")
    ap.add_argument("--timing-only", action="store_true", help="only time the page parses (CPU, every 5th document)")
    ap.add_argument("--peer-src", type=Path, action="append", default=[],
                    help="a src/ directory of another policyidx checkout to time side by side (repeatable)")
    ap.add_argument("--rounds", type=int, default=3, help="timing rounds, alternating between the checkouts")
    args = ap.parse_args(argv)
    files = bench.source_files(args.root, 0 if args.match else args.limit)
    if args.match:
        files = [f for f in files if args.match in str(f.relative_to(args.root))][: args.limit or None]
    if not files:
        return 2
    names = args.layout or list(LAYOUTS)
    if args.timing_only:
        return _timing(files, names)
    if args.peer_src:
        return _compare(args, names)
    stats = {n: {"tree": 0, "differ": 0, "title": 0, "lost": 0, "lost_docs": 0, "failed": 0, "time": 0.0, "examples": []}
             for n in ["plain"] + names}
    clauses = chars = 0
    for f in files:
        rel = str(f.relative_to(args.root))
        text = page_text(f.read_text(encoding="utf-8"))
        chars += len(text)
        t0 = time.perf_counter()
        try:
            ref = parse_bytes(text.encode("utf-8"), doc_id="d.zh", lang="zh", format="text", name=rel)
        except Exception as exc:  # noqa: BLE001 - a benchmark counts failures
            stats["plain"]["failed"] += 1
            stats["plain"]["examples"].append(f"FAILED {rel}: {type(exc).__name__}: {exc}")
            continue
        stats["plain"]["time"] += time.perf_counter() - t0
        clauses += len(_clauses(ref))
        for n in names:
            st = stats[n]
            data = LAYOUTS[n](text)
            t0 = time.perf_counter()
            try:
                got = parse_bytes(data, doc_id="d.zh", lang="zh", format="html", name=rel)
            except Exception as exc:  # noqa: BLE001
                st["failed"] += 1
                st["examples"].append(f"FAILED {rel}: {type(exc).__name__}: {exc}")
                continue
            st["time"] += time.perf_counter() - t0
            r = compare(ref, got)
            st["tree"] += not r["same"]
            st["differ"] += len(r["differ"])
            st["title"] += not r["title_same"]
            st["lost"] += r["lost"]
            st["lost_docs"] += bool(r["lost"])
            if not r["same"]:
                st["examples"].append(f"tree {rel}: {r['first']}")
            for cid, a, b in r["differ"][:2]:
                st["examples"].append(f"text {rel} {cid}: plain {a[:60]!r} / page {b[:60]!r}")
            if r["lost"]:
                st["examples"].append(f"lost {rel}: {r['lost']} ({r['missing']!r})")
            if not r["title_same"]:
                st["examples"].append(f"title {rel}: plain {r['titles'][0]!r} / page {r['titles'][1]!r}")
    n = len(files)
    print(f"== {n} documents ({chars / 1e6:.1f} M characters, {clauses} clauses in the plain-text parses), each page "
          "parsed with parse_bytes(format='html') and compared with the plain-text parse")
    print(f"  {'layout':14s} {'trees differ':>13s} {'clauses differ':>15s} {'titles differ':>14s} {'lost chars':>11s} "
          f"{'failed':>7s} {'ms/doc':>7s}")
    for name, st in stats.items():
        if name == "plain":
            print(f"  {'(plain text)':14s} {'':>13s} {'':>15s} {'':>14s} {'':>11s} {st['failed']:7d} {1000 * st['time'] / n:7.1f}")
            continue
        print(f"  {name:14s} {st['tree']:13d} {st['differ']:15d} {st['title']:14d} "
              f"{str(st['lost']) + ' (' + str(st['lost_docs']) + ')':>11s} {st['failed']:7d} {1000 * st['time'] / n:7.1f}")
    if args.show:
        for name, st in stats.items():
            if st["examples"]:
                print(f"-- {name}")
                for e in st["examples"][: args.show]:
                    print(f"  {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
