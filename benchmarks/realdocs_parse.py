"""Parse every real document of ``../shared/realdocs`` and measure the clause trees against the source.

Usage::

    python benchmarks/realdocs_parse.py [--root ../shared/realdocs] [--limit N] [--traditional 200] [--show 5]

Each ``zh/**/*.md`` file is turned into the plain text a user copies from a government page (the
collection's markdown marks ``#`` and the ``<!-- INFO END -->`` line taken out) and parsed with
:func:`policyidx.parsers.parse_bytes`.  The truth comes from the markdown the parser never sees:

- *articles*: paragraphs starting ``第X条`` (or ``第X条之Y``) followed by a space, in order, each
  with the chain of markdown headings (``##`` chapter, ``###`` section...) open above it;
- *款*: the paragraphs of an article after its first that do not start with an item label;
  a 款 is misplaced when the deepest clause holding its first character is not the article or
  one of the article's paragraph clauses (e.g. the last item of a list before it).

Printed figures: documents failed (an exception), non-whitespace characters of the text outside
every clause / header / footer span ("lost"), documents whose article list (number and chain of
parent labels) is exact, 款 misplaced, parse time per document and per 1,000 characters.
With ``--traditional N`` the first N documents (every k-th, a fixed sample) are converted with
OpenCC (s2t) and measured again.
"""

from __future__ import annotations

import argparse
import bisect
import os
import re
import sys
import time
from pathlib import Path

from policyidx.parsers import parse_bytes

_NUM = "[零〇一二三四五六七八九十百千两0-9０-９]+"
_ART_LINE = re.compile(rf"^第({_NUM})(?:[\s\u3000]+[条條]|[条條](?:之({_NUM}))?[\s\u3000])")
# a heading of the numbering (unnumbered ones such as 序言 or a case's 基本案情 are not divisions)
_NUMBERED_HEADING = re.compile(rf"^(第{_NUM}(分编|分編|[编編章节節])|[一二三四五六七八九十百]+[、．.]|(附|总|總|分)\s*[则則]$)")
_ITEM = re.compile(r"^(?:[（(]\s*[一二三四五六七八九十百0-9０-９]+\s*[）)]|[一二三四五六七八九十百]+[、．.]|[0-9０-９]+[.．、]|[①-⑳])")
_HEADING = re.compile(r"^(#{2,6})\s*(.*)$")
_WS = re.compile(r"\s+")


def default_root() -> Path:
    here = Path(__file__).resolve().parent.parent
    for cand in (here.parent / "shared" / "realdocs", Path("/work/shared/realdocs")):
        if cand.is_dir():
            return cand
    return here.parent / "shared" / "realdocs"


def to_plain(md: str) -> tuple[str, list[dict], list[dict]]:
    """Plain text of a collection file, its articles (number, suffix, heading chain) and 款 paragraphs."""
    out: list[str] = []
    heads: list[tuple[int, str]] = []  # (markdown level, heading text)
    info: dict = {"title": "", "record_dates": 0}
    in_info = False
    articles: list[dict] = []
    paras: list[dict] = []
    cur_art: dict | None = None
    seen_item = False
    for k, raw in enumerate(md.splitlines()):
        line = raw.strip()
        if k == 0 and line.startswith("# "):
            out.append(line[2:])
            info["title"] = _WS.sub("", line[2:])
            in_info = True
            continue
        if line == "<!-- INFO END -->":
            in_info = False
            continue
        if in_info and re.search(r"\d{4}年\d{1,2}月\d{1,2}日", line):
            info["record_dates"] += 1
        m = _HEADING.match(line)
        if m:
            level, text = len(m.group(1)), m.group(2).strip()
            while heads and heads[-1][0] >= level:
                heads.pop()
            if _NUMBERED_HEADING.match(text):
                heads.append((level, text))
            out.append(text)
            cur_art = None
            continue
        out.append(raw)
        if not line:
            continue
        anchor = {"key": _key(line), "check": False, "after_list": False}
        paras.append(anchor)
        a = _ART_LINE.match(line)
        if a:
            cur_art = {"number": a.group(1), "sub": a.group(2), "chain": [h for _, h in heads], "key": _key(line)}
            articles.append(cur_art)
            seen_item = False
            continue
        if re.match(r"^(附件|附表|附[:：])", line):
            cur_art = None  # an attachment: not a paragraph of the last article
        if cur_art is None:
            continue
        if _ITEM.match(line):
            seen_item = True
            continue
        if line.startswith("|"):
            continue
        if len(line) >= 6:  # shorter lines are fragments of a broken line in the collection ("物；")
            anchor.update(check=True, after_list=seen_item)
    articles_info.append(info)
    return "\n".join(out) + "\n", articles, paras


articles_info: list[dict] = []  # the title and record of each document read by to_plain, in order


def _key(line: str) -> str:
    return _WS.sub("", line)[:16]


def _squeeze(text: str) -> tuple[str, list[int]]:
    chars: list[str] = []
    pos: list[int] = []
    for i, ch in enumerate(text):
        if not ch.isspace():
            chars.append(ch)
            pos.append(i)
    return "".join(chars), pos


def _all_clauses(roots):
    for r in roots:
        yield from r.walk()


def _label_key(label: str) -> str:
    return _WS.sub("", label).rstrip("、．.，,")


def evaluate(name: str, plain: str, articles: list[dict], paras: list[dict]) -> dict:
    t0 = time.perf_counter()
    res = parse_bytes(plain.encode("utf-8"), doc_id="d.zh", lang="zh", format="text", name=name)
    dt = time.perf_counter() - t0
    text = res.text
    clauses = list(_all_clauses(res.roots))
    # ---- lost characters
    covered = bytearray(len(text) + 1)
    spans = [(c.label_start, c.end) for c in clauses] + list(res.header_spans)
    if res.footer_span:
        spans.append(res.footer_span)
    for s, e in spans:
        covered[s:e] = b"\x01" * (e - s)
    lost = sum(1 for i, ch in enumerate(text) if not covered[i] and not ch.isspace())
    # ---- articles: number + chain of parent labels
    arts = [c for c in clauses if _is_article(c)]
    got = [(_art_number(c), [_label_key(a.label) or (a.title or "") for a in c.ancestors() if a.kind != "front"]) for c in arts]
    want = []
    for a in articles:
        chain = [_chain_key(h) for h in a["chain"]]
        want.append(((a["number"], a["sub"]), chain))
    exact = _cmp(got, want)
    # ---- 款
    sq, pos = _squeeze(text)
    clauses = [c for c in clauses if c.kind not in ("front", "back")]
    clauses.sort(key=lambda c: c.label_start)  # stable: a parent before the child that starts with it
    starts = [c.label_start for c in clauses]
    misplaced = misplaced_after = total_after = not_own = 0
    cursor = 0
    for p in paras:
        j = sq.find(p["key"], cursor)
        if j < 0:
            continue
        cursor = j + 1
        if not p["check"]:
            continue
        off = pos[j]
        deepest = None
        k = bisect.bisect_right(starts, off) - 1  # pre-order: the deepest holder is the last one starting before
        while k >= 0:
            c = clauses[k]
            if c.label_start <= off < max(c.end, c.label_start + 1):
                deepest = c
                break
            k -= 1
        # misplaced: inside an item (or anything but the article or one of its paragraphs)
        ok = deepest is not None and (_is_article(deepest) or (getattr(deepest, "kind", "") == "paragraph" and deepest.parent is not None and _is_article(deepest.parent)))
        # own clause: a paragraph clause of the article that starts with this paragraph
        own = deepest is not None and getattr(deepest, "kind", "") == "paragraph" and deepest.label_start == off
        if p["after_list"]:
            total_after += 1
            misplaced_after += not ok
        misplaced += not ok
        not_own += not own
    info = articles_info[-1] if articles_info else {"title": "", "record_dates": 0}
    return {
        "title_ok": _WS.sub("", res.parsed_title or "") == info["title"],
        "dated": info["record_dates"] == 0 or bool(res.dates),
        "name": name, "chars": len(plain), "time": dt, "lost": lost, "exact": exact,
        "articles": len(want), "got_articles": len(got), "paras": sum(p["check"] for p in paras), "misplaced": misplaced, "not_own": not_own,
        "after": total_after, "misplaced_after": misplaced_after, "diff": None if exact else _first_diff(got, want),
    }


def _chain_key(heading: str) -> str:
    h = _WS.sub("", heading)
    m = re.match(r"^(第[^章节節编編条條]{1,8}(?:分编|分編|[章节節编編])|[一二三四五六七八九十百]+[、．.]|[0-9.]+)", h)
    return m.group(1).rstrip("、．.") if m else h


def _is_article(c) -> bool:
    return bool(re.match(r"^第.{1,12}[条條](之.{1,4})?$", _WS.sub("", c.label)))


def _art_number(c) -> tuple[str, str | None]:
    m = re.match(rf"^第({_NUM})[条條](?:之({_NUM}))?", _WS.sub("", c.label))
    return (m.group(1), m.group(2)) if m else (c.label, None)


def _cmp(got, want) -> bool:
    if len(got) != len(want):
        return False
    for (gn, gc), (wn, wc) in zip(got, want):
        if gn != wn:
            return False
        if [x for x in gc] != [x for x in wc]:
            return False
    return True


def _first_diff(got, want) -> str:
    for k, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return f"article #{k + 1}: got {g}, want {w}"
    return f"{len(got)} articles found, {len(want)} in the source"


def _timing(root: Path) -> int:
    """Parse every 5th document (after a warm-up) and print CPU time per 1,000 characters."""
    files = sorted((root / "zh").rglob("*.md"))[::5]
    datas = [to_plain(f.read_text(encoding="utf-8"))[0].encode("utf-8") for f in files]
    parse_bytes(datas[0], doc_id="d.zh", lang="zh", format="text")  # tokeniser dictionaries
    chars = sum(len(d.decode("utf-8")) for d in datas)
    t0 = time.process_time()
    for d in datas:
        parse_bytes(d, doc_id="d.zh", lang="zh", format="text")
    dt = time.process_time() - t0
    print(f"{len(datas)} {chars} {dt:.3f}")
    # the worst case of clause-id de-duplication: 32,000 paragraphs with the same label
    data = "".join("一、内容。\n" for _ in range(32000)).encode("utf-8")
    t0 = time.process_time()
    parse_bytes(data, doc_id="d.zh", lang="zh", format="text")
    print(f"{time.process_time() - t0:.3f}")
    return 0


def _compare(args) -> int:
    import subprocess

    peers = [("this checkout", Path(__file__).resolve().parent.parent / "src")] + [(str(p), p.resolve()) for p in args.peer_src]
    results: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in peers}
    docs = chars = 0
    for _ in range(args.rounds):
        for name, src in peers:
            env = dict(os.environ, PYTHONPATH=str(src))
            out = subprocess.run([sys.executable, __file__, "--root", str(args.root), "--timing-only"], env=env,
                                 capture_output=True, text=True, check=True).stdout.split("\n")
            n, c, dt = out[0].split()
            docs, chars = int(n), int(c)
            results[name].append((float(dt), float(out[1])))
    print(f"parse time, CPU, {docs} documents ({chars / 1e6:.2f} M characters, every 5th file), {args.rounds} alternating rounds:")
    for name, rs in results.items():
        per = sorted(1e9 * dt / chars for dt, _ in rs)
        rep = sorted(r for _, r in rs)
        print(f"  {name:40s} median {per[len(per) // 2]:6.0f} µs/1,000 chars (min {per[0]:.0f}, max {per[-1]:.0f});"
              f"  32,000 x '一、内容。': {rep[len(rep) // 2]:.2f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=default_root())
    ap.add_argument("--limit", type=int, default=0, help="only the first N files (0: all)")
    ap.add_argument("--traditional", type=int, default=200, help="also measure N documents converted with OpenCC s2t (0: skip)")
    ap.add_argument("--show", type=int, default=5, help="print the first N documents that are not exact")
    ap.add_argument("--timing-only", action="store_true", help="only time parsing (CPU) over every 5th document")
    ap.add_argument("--peer-src", type=Path, action="append", default=[],
                    help="a src/ directory of another policyidx checkout (e.g. main) to time side by side (repeatable)")
    ap.add_argument("--rounds", type=int, default=3, help="timing rounds, alternating between the peers")
    args = ap.parse_args(argv)
    if args.timing_only:
        return _timing(args.root)
    if args.peer_src:
        return _compare(args)
    files = sorted((args.root / "zh").rglob("*.md"))
    if args.limit:
        files = files[: args.limit]
    if not files:
        print(f"no documents under {args.root}/zh", file=sys.stderr)
        return 2
    runs = [("simplified", files, None)]
    if args.traditional:
        import opencc

        conv = opencc.OpenCC("s2t")
        step = max(1, len(files) // args.traditional)
        runs.append(("traditional (OpenCC s2t)", files[::step][: args.traditional], conv))
    for label, fs, conv in runs:
        rows = []
        failed: list[str] = []
        for f in fs:
            md = f.read_text(encoding="utf-8")
            if conv is not None:
                md = conv.convert(md)
            plain, articles, paras = to_plain(md)
            try:
                rows.append(evaluate(str(f.relative_to(args.root)), plain, articles, paras))
            except Exception as exc:  # noqa: BLE001 - a benchmark counts failures
                failed.append(f"{f.name}: {type(exc).__name__}: {exc}")
        n = len(fs)
        chars = sum(r["chars"] for r in rows)
        secs = sum(r["time"] for r in rows)
        paras = sum(r["paras"] for r in rows)
        after = sum(r["after"] for r in rows)
        print(f"== {label}: {n} documents ({chars / 1e6:.1f} M characters)")
        print(f"  failed                      {len(failed)}")
        print(f"  lost characters             {sum(r['lost'] for r in rows)} (in {sum(1 for r in rows if r['lost'])} documents)")
        ex = sum(r["exact"] for r in rows)
        print(f"  exact article trees         {ex}/{len(rows)} = {100 * ex / max(1, len(rows)):.2f}%  ({sum(r['articles'] for r in rows)} articles in the sources)")
        mis = sum(r["misplaced"] for r in rows)
        mis_a = sum(r["misplaced_after"] for r in rows)
        print(f"  款 misplaced                {mis}/{paras} = {100 * mis / max(1, paras):.2f}%  (after an item list: {mis_a}/{after})")
        tt = sum(r["title_ok"] for r in rows)
        dd = sum(r["dated"] for r in rows)
        print(f"  title exact (no record)     {tt}/{len(rows)} = {100 * tt / max(1, len(rows)):.2f}%")
        print(f"  dates found where the record has dates  {dd}/{len(rows)} = {100 * dd / max(1, len(rows)):.2f}%")
        own = sum(r["not_own"] for r in rows)
        print(f"  款 not a clause of its own  {own}/{paras} = {100 * own / max(1, paras):.2f}%")
        print(f"  parse time                  {secs:.1f} s, {1000 * secs / max(1, len(rows)):.1f} ms/document, {1e9 * secs / max(1, chars):.0f} µs/1,000 chars")
        slow = sorted(rows, key=lambda r: -r["time"])[:1]
        for r in slow:
            print(f"  slowest                     {r['name']} {r['time']:.2f} s ({r['chars']} chars)")
        for msg in failed[: args.show]:
            print(f"  FAILED {msg}")
        bad = [r for r in rows if not r["exact"] or r["lost"]][: args.show]
        for r in bad:
            print(f"  not exact: {r['name']}: {r['diff']} lost={r['lost']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
