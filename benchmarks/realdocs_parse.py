"""Parse every real document of ``../shared/realdocs`` and measure the clause trees against the source.

Usage::

    python benchmarks/realdocs_parse.py [--root ../shared/realdocs] [--limit N] [--traditional 200] [--show 5]

Each ``zh/**/*.md`` file is turned into the plain text a user copies from a government page (the
collection's markdown marks ``#`` and the ``<!-- INFO END -->`` line taken out) and parsed with
:func:`policyidx.parsers.parse_bytes`.  The reference is read from the lines of that plain text,
by rules of Chinese legislative drafting written here (none of the parser's label code is used):

- *articles*: lines starting ``第X条`` (or ``第X条之Y``) followed by a space, in order (a dash
  typed for 一 after a Chinese numeral, ``第三十－条``, read as part of the number);
- *their parents*: the division lines open above each article, ranked 编 > 分编 > 章 > 节 by their
  printed kind (not by where a line sits): a line ``第X编/分编/章/节`` with a short title (at
  most 40 characters, no ``。；`` inside, naming no article); a line that is only ``附则`` /
  ``总则`` / ``分则`` stands at the outermost numbered level the document uses; in judicial
  interpretations a line ``一、…`` without sentence punctuation directly above an article (or
  above a ``（一）…`` line directly above one), numbered on from the division before it, is a
  division, and such a ``（一）…`` line, numbered on inside its division, a sub-division;
- *款*: the lines of an article after its first that start no item label (``（一）`` ``一、``
  ``1.`` ``①``) and follow a line that ends a sentence (``。！？；：``, closing quotes and
  brackets after it): a line after one that stops mid-sentence is the rest of a line the
  collection broke, not a paragraph.  A 款 is *misplaced* when the deepest clause holding its
  first character is not the article or one of the article's paragraph clauses (e.g. the last
  item of a list before it), and *not a clause of its own* when that deepest clause is not a
  paragraph clause starting at that character.  A 款 is found in the parsed text by its offset
  among the text's non-blank characters (the parser keeps every one, so the offset carries
  over), never by searching its words.

The former reference, the collection's markdown heading marks (``##`` chapter, ``###`` section
under the mark above it), is printed beside it: the collection leaves some headings unmarked
(an unmarked 附则 or 第X章, the divisions of some judicial interpretations) and marks others at
inconsistent levels, so it disagrees with the source's own lines in a few documents.

Printed figures: documents failed (an exception), non-whitespace characters of the text outside
every clause / header / footer / markup span ("lost"; the ``<!-- TABLE -->`` and ``<!-- FORCE BREAK -->``
lines stay in the plain text and are markup spans), documents whose article list (number and chain of
parent labels) is exact, 款 misplaced and not a clause of their own, parse time per document and
per 1,000 characters.  With ``--traditional N`` the first N documents (every k-th, a fixed
sample) are converted with OpenCC (s2t) and measured again.
"""

from __future__ import annotations

import argparse
import bisect
import os
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from policyidx.parsers import parse_bytes

_NUM = "[零〇一二三四五六七八九十百千两兩0-9０-９]+"
# an article number as typed: a dash or bar for 一 after a Chinese numeral (第三十－条) is a typo,
# not another kind of line
_ART_NUM = "[零〇一二三四五六七八九十百千两兩][零〇一二三四五六七八九十百千两兩－—─ー‐-]*|[0-9０-９]+"
_ART_LINE = re.compile(rf"^第({_ART_NUM})(?:[\s\u3000]+[条條]|[条條](?:之({_NUM}))?(?:[\s\u3000]|$))")
# a heading of the numbering (unnumbered ones such as 序言 or a case's 基本案情 are not divisions)
_NUMBERED_HEADING = re.compile(rf"^(第{_NUM}(分编|分編|[编編章节節])|[一二三四五六七八九十百]+[、．.]|(附|总|總|分)\s*[则則]$)")
_ITEM = re.compile(r"^(?:[（(]\s*[一二三四五六七八九十百0-9０-９]+\s*[）)]|[一二三四五六七八九十百]+[、．.]|[0-9０-９]+[.．、]|[①-⑳])")
_HEADING = re.compile(r"^(#{1,6})\s*(.*)$")
_WS = re.compile(r"\s+")

# ---- the reference read from the source's lines
_DIVISION_LEVEL = {"编": 0, "編": 0, "分编": 1, "分編": 1, "章": 2, "节": 3, "節": 3}
_DIV_LINE = re.compile(rf"^第({_NUM})(分编|分編|[编編章节節])(.*)$")
_WORD_LINE = re.compile(r"^[附总總分][则則]$")
_CN_LINE = re.compile(r"^([一二三四五六七八九十]+)、(.*)$")
_PAREN_LINE = re.compile(r"^([（(]([一二三四五六七八九十]+)[）)])(.*)$")
_ART_NAMED = re.compile(rf"第{_NUM}[条條]")
_ENDS_SENTENCE = re.compile(r"[。！？!?；;：:][”’」』）)》〕]*$")
_NOT_TITLE_START = ("的", "规定", "規定", "、")  # 第二章规定的…: a cross-reference
_CN_DIGITS = {c: v for v, c in enumerate("零一二三四五六七八九")}


def _cn_small(s: str) -> int:
    """一 .. 九十九 (the numbers of divisions and sub-divisions)."""
    if "十" not in s:
        return _CN_DIGITS.get(s, -1) if len(s) == 1 else -1
    tens, _, ones = s.partition("十")
    t = 1 if tens == "" else _CN_DIGITS.get(tens, -1)
    o = 0 if ones == "" else _CN_DIGITS.get(ones, -1)
    return -1 if t < 0 or o < 0 else 10 * t + o


def _invisible_class() -> re.Pattern[str]:
    """Whitespace and the characters that carry no text (format, control, surrogate): not counted."""
    cps = [cp for cp in range(0x110000) if unicodedata.category(chr(cp)) in ("Cf", "Cc", "Cs")]
    cps += list(range(0xFDD0, 0xFDF0)) + [p * 0x10000 + k for p in range(17) for k in (0xFFFE, 0xFFFF)]
    ranges: list[list[int]] = []
    for cp in sorted(set(cps)):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "") for a, b in ranges)
    return re.compile(rf"[\s{body}]+")


_BLANK: re.Pattern[str] | None = None


def _visible_len(line: str) -> int:
    global _BLANK
    if _BLANK is None:
        _BLANK = _invisible_class()
    return len(_BLANK.sub("", line))


@dataclass
class Source:
    """A collection file read as a user's plain text, with the reference trees."""

    plain: str
    #: articles from the source's lines: number, 之 number, chain of parent keys
    articles: list[dict] = field(default_factory=list)
    #: 款 from the source's lines: offset among non-blank characters, whether after an item list
    paras: list[dict] = field(default_factory=list)
    #: the former reference: articles under the collection's markdown heading marks
    md_articles: list[dict] = field(default_factory=list)
    title: str = ""
    record_dates: int = 0


def read_source(md: str) -> Source:
    """Plain text of a collection file and its references (see the module docstring)."""
    out: list[str] = []
    heads: list[tuple[int, str]] = []  # (markdown level, heading text)
    src = Source("")
    in_info = False
    for k, raw in enumerate(md.splitlines()):
        line = raw.strip()
        if k == 0 and line.startswith("# "):
            out.append(line[2:])
            src.title = _WS.sub("", line[2:])
            in_info = True
            continue
        if line == "<!-- INFO END -->":
            in_info = False
            continue
        if in_info and re.search(r"\d{4}年\d{1,2}月\d{1,2}日", line):
            src.record_dates += 1
        m = _HEADING.match(line)
        if m:
            level, text = len(m.group(1)), m.group(2).strip()
            if level > 1:
                while heads and heads[-1][0] >= level:
                    heads.pop()
                if _NUMBERED_HEADING.match(text):
                    heads.append((level, text))
            out.append(text)
            continue
        out.append(raw)
        a = _ART_LINE.match(line)
        if a:
            src.md_articles.append({"number": a.group(1), "sub": a.group(2), "chain": [_chain_key(h) for _, h in heads]})
    src.plain = "\n".join(out) + "\n"
    src.articles, src.paras = _reference(out)
    return src


def _reference(lines: list[str]) -> tuple[list[dict], list[dict]]:
    """Articles (with their parents) and 款 read from the source's lines."""
    rows: list[tuple[str, str, int]] = []  # (stripped line, squeezed line, offset among non-blank characters)
    off = 0
    for raw in lines:
        n = _visible_len(raw)
        if n:
            line = raw.strip()
            rows.append((line, _WS.sub("", line), off))
        off += n
    kinds: list[tuple] = []
    for line, sq, _ in rows:
        kind: tuple = ("text",)
        if a := _ART_LINE.match(line):
            kind = ("art", a.group(1), a.group(2))
        elif (d := _DIV_LINE.match(sq)) and _is_title(d.group(3), 40):
            kind = ("div", _DIVISION_LEVEL[d.group(2)], f"第{d.group(1)}{d.group(2)}")
        elif _WORD_LINE.match(sq):
            kind = ("word", sq)
        elif (c := _CN_LINE.match(sq)) and _is_title(c.group(2), 40, strict=True):
            kind = ("cn", _cn_small(c.group(1)), c.group(1))
        elif (p := _PAREN_LINE.match(sq)) and _is_title(p.group(3), 30, strict=True):
            kind = ("paren", _cn_small(p.group(2)), p.group(1))
        kinds.append(kind)
    levels = [k[1] for k in kinds if k[0] == "div"]
    outer = min(levels) if levels else None
    stack: list[tuple[int, str]] = []
    articles: list[dict] = []
    paras: list[dict] = []
    in_article = seen_item = False
    last_div = last_sub = 0

    def push(level: int, key: str) -> None:
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, key))

    for i, (line, sq, off) in enumerate(rows):
        kind = kinds[i]
        nxt = kinds[i + 1][0] if i + 1 < len(kinds) else ""
        if kind[0] == "art":
            articles.append({"number": kind[1], "sub": kind[2], "chain": [key for _, key in stack]})
            in_article, seen_item = True, False
            continue
        if kind[0] == "div":
            push(kind[1], kind[2])
            in_article = False
            continue
        if kind[0] == "word" and outer is not None:
            push(outer, sq)
            in_article = False
            continue
        if kind[0] == "cn" and kind[1] == last_div + 1 and (
            nxt == "art" or (nxt == "paren" and kinds[i + 1][1] == 1 and i + 2 < len(kinds) and kinds[i + 2][0] == "art")
        ):
            push(4, kind[2])
            last_div, last_sub = kind[1], 0
            in_article = False
            continue
        if kind[0] == "paren" and last_div and kind[1] == last_sub + 1 and nxt == "art":
            push(5, kind[2])
            last_sub = kind[1]
            in_article = False
            continue
        if not in_article:
            continue
        if re.match(r"^(附件|附表|附[:：])", sq):
            in_article = False  # an attachment: not a paragraph of the last article
            continue
        if _ITEM.match(sq):
            seen_item = True
            continue
        if sq.startswith("|"):
            continue
        if _ENDS_SENTENCE.search(rows[i - 1][1]):  # a line after a broken one is its rest
            paras.append({"offset": off, "after_list": seen_item, "key": sq[:16]})
    return articles, paras


def _is_title(rest: str, limit: int, strict: bool = False) -> bool:
    """The rest of a heading line: a short title, not a sentence (``第七节相应改为第八节，…``)."""
    if len(rest) > limit or _ART_NAMED.search(rest) or (not strict and rest.startswith(_NOT_TITLE_START)):
        return False
    body = rest.rstrip("。")
    stops = "。；;！？!?：:，," if strict else "。；;"
    return not any(ch in stops for ch in body)


def source_files(root: Path, limit: int = 0) -> list[Path]:
    """The collection's texts (``root/zh/**/*.md``) in path order, the first ``limit`` of them
    when ``limit`` is set; none (said on stderr) when the folder holds none."""
    files = sorted((root / "zh").rglob("*.md"))
    if limit:
        files = files[:limit]
    if not files:
        print(f"no documents under {root}/zh", file=sys.stderr)
    return files


def default_root() -> Path:
    here = Path(__file__).resolve().parent.parent
    for cand in (here.parent / "shared" / "realdocs", Path("/work/shared/realdocs")):
        if cand.is_dir():
            return cand
    return here.parent / "shared" / "realdocs"


def to_plain(md: str) -> tuple[str, list[dict], list[dict]]:
    """Plain text, reference articles and 款 of a collection file (see :func:`read_source`)."""
    src = read_source(md)
    return src.plain, src.articles, src.paras


def _all_clauses(roots):
    for r in roots:
        yield from r.walk()


def _label_key(label: str) -> str:
    return _WS.sub("", label).rstrip("、．.，,")


def _squeeze(text: str) -> tuple[str, list[int]]:
    chars: list[str] = []
    pos: list[int] = []
    for i, ch in enumerate(text):
        if not ch.isspace():
            chars.append(ch)
            pos.append(i)
    return "".join(chars), pos


def evaluate(name: str, src: Source | str, articles: list[dict] | None = None, paras: list[dict] | None = None) -> dict:
    """Parse one document and measure it against its references (a :class:`Source`)."""
    if not isinstance(src, Source):  # (plain, articles, paras) as to_plain returns them
        src = Source(src, articles or [], paras or [])
    plain = src.plain
    t0 = time.perf_counter()
    res = parse_bytes(plain.encode("utf-8"), doc_id="d.zh", lang="zh", format="text", name=name)
    dt = time.perf_counter() - t0
    text = res.text
    clauses = list(_all_clauses(res.roots))
    # ---- lost characters
    covered = bytearray(len(text) + 1)
    spans = [(c.label_start, c.end) for c in clauses] + list(res.header_spans) + list(getattr(res, "markup_spans", []))
    if res.footer_span:
        spans.append(res.footer_span)
    for s, e in spans:
        covered[s:e] = b"\x01" * (e - s)
    lost = sum(1 for i, ch in enumerate(text) if not covered[i] and not ch.isspace())
    # ---- articles: number + chain of parent labels
    arts = [c for c in clauses if _is_article(c)]
    got = [(_art_number(c), [_WS.sub("", _label_key(a.label) or (a.title or "")) for a in c.ancestors() if a.kind != "front"]) for c in arts]
    want = [((a["number"], a["sub"]), a["chain"]) for a in src.articles]
    want_md = [((a["number"], a["sub"]), a["chain"]) for a in src.md_articles]
    exact = _cmp(got, want)
    # ---- 款
    sq, pos = _squeeze(text)
    clauses = [c for c in clauses if c.kind not in ("front", "back")]
    clauses.sort(key=lambda c: c.label_start)  # stable: a parent before the child that starts with it
    starts = [c.label_start for c in clauses]
    misplaced = misplaced_after = total_after = not_own = unanchored = 0
    for p in src.paras:
        j = p["offset"]
        if sq[j : j + len(p["key"])] != p["key"]:
            unanchored += 1  # the parser's text does not keep the source's characters: counted apart
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
    return {
        "title_ok": _WS.sub("", res.parsed_title or "") == src.title,
        "title": res.parsed_title, "want_title": src.title,
        "dated": src.record_dates == 0 or bool(res.dates),
        "name": name, "chars": len(plain), "time": dt, "lost": lost, "exact": exact,
        "exact_md": _cmp(got, want_md),
        "refs_agree": _cmp(want, want_md),
        "articles": len(want), "got_articles": len(got), "paras": len(src.paras) - unanchored, "unanchored": unanchored,
        "misplaced": misplaced, "not_own": not_own,
        "after": total_after, "misplaced_after": misplaced_after, "diff": None if exact else _first_diff(got, want),
    }


def _chain_key(heading: str) -> str:
    h = _WS.sub("", heading)
    m = re.match(r"^(第[^章节節编編条條]{1,8}(?:分编|分編|[章节節编編])|[一二三四五六七八九十百]+[、．.]|[0-9.]+)", h)
    return m.group(1).rstrip("、．.") if m else h


def _is_article(c) -> bool:
    return bool(re.match(r"^第.{1,12}[条條](之.{1,4})?$", _WS.sub("", c.label)))


def _art_number(c) -> tuple[str, str | None]:
    m = re.match(rf"^第({_ART_NUM})[条條](?:之({_NUM}))?", _WS.sub("", c.label))
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
    ap.add_argument("--show-titles", type=int, default=0, help="print the first N documents whose title is not exact")
    ap.add_argument("--timing-only", action="store_true", help="only time parsing (CPU) over every 5th document")
    ap.add_argument("--peer-src", type=Path, action="append", default=[],
                    help="a src/ directory of another policyidx checkout (e.g. main) to time side by side (repeatable)")
    ap.add_argument("--rounds", type=int, default=3, help="timing rounds, alternating between the peers")
    args = ap.parse_args(argv)
    if args.timing_only:
        return _timing(args.root)
    if args.peer_src:
        return _compare(args)
    files = source_files(args.root, args.limit)
    if not files:
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
            src = read_source(md)
            try:
                rows.append(evaluate(str(f.relative_to(args.root)), src))
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
        print(f"  exact article trees         {ex}/{len(rows)} = {100 * ex / max(1, len(rows)):.2f}%  ({sum(r['articles'] for r in rows)} articles in the sources; parents from the source's lines)")
        exm = sum(r["exact_md"] for r in rows)
        agree = sum(r["refs_agree"] for r in rows)
        print(f"    against the markdown marks {exm}/{len(rows)} = {100 * exm / max(1, len(rows)):.2f}%  (the former reference; the two references agree in {agree} documents)")
        mis = sum(r["misplaced"] for r in rows)
        mis_a = sum(r["misplaced_after"] for r in rows)
        print(f"  款 misplaced                {mis}/{paras} = {100 * mis / max(1, paras):.2f}%  (after an item list: {mis_a}/{after})")
        own = sum(r["not_own"] for r in rows)
        print(f"  款 not a clause of its own  {own}/{paras} = {100 * own / max(1, paras):.2f}%  ({sum(r['unanchored'] for r in rows)} 款 not found at their offset, not counted)")
        tt = sum(r["title_ok"] for r in rows)
        dd = sum(r["dated"] for r in rows)
        print(f"  title exact (no record)     {tt}/{len(rows)} = {100 * tt / max(1, len(rows)):.2f}%")
        print(f"  dates found where the record has dates  {dd}/{len(rows)} = {100 * dd / max(1, len(rows)):.2f}%")
        print(f"  parse time                  {secs:.1f} s, {1000 * secs / max(1, len(rows)):.1f} ms/document, {1e9 * secs / max(1, chars):.0f} µs/1,000 chars")
        slow = sorted(rows, key=lambda r: -r["time"])[:1]
        for r in slow:
            print(f"  slowest                     {r['name']} {r['time']:.2f} s ({r['chars']} chars)")
        for msg in failed[: args.show]:
            print(f"  FAILED {msg}")
        bad = [r for r in rows if not r["exact"] or r["lost"]][: args.show]
        for r in bad:
            print(f"  not exact: {r['name']}: {r['diff']} lost={r['lost']}")
        if args.show_titles:
            for r in [r for r in rows if not r["title_ok"]][: args.show_titles]:
                print(f"  title: {r['name']}: got {r['title']!r}, want {r['want_title']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
