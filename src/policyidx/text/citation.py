"""Citations as people write them, both ways: clause -> ``第十二条第二款``, and text -> clause.

Chinese (``第十二条第二款第（三）项``, ``第十七条之一``, Traditional ``第十二條第二款第（三）項``),
Japanese (JETRO's ``第12条第2項第3号``, ``第17条の1``) and English (``Article 12(2)(iii)``,
``Art. 12, paragraph 2, item 3``).  Chapters are not part of a citation in a law: an article
is found by its number wherever it stands; a chapter alone (``第二章``) can be cited too.  In a
document without articles (a policy notice) a citation is the chain of printed labels
(``三、（二）1.`` or ``三（二）1``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import NotFoundError, QueryError
from .numerals import parse_numeral, to_chinese

if TYPE_CHECKING:  # pragma: no cover - names for the annotations only (duck-typed: text sits below the model)
    Clause = Any
    Document = Any

__all__ = ["render_citation", "resolve", "parse_citation", "split_title"]

_ITEM_STYLES = ("cn-paren", "cn", "num", "num-paren", "circled", "enum")
_NUM = r"[0-9０-９]+|[〇零一二三四五六七八九十百千两兩壹貳贰參叁肆伍陸陆柒捌玖拾佰仟]+"
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10, "xi": 11,
          "xii": 12, "xiii": 13, "xiv": 14, "xv": 15, "xvi": 16, "xvii": 17, "xviii": 18, "xix": 19, "xx": 20}
_DIVISIONS = {"编": "part", "編": "part", "分编": "subpart", "分編": "subpart", "章": "chapter", "节": "section", "節": "section"}


# --------------------------------------------------------------------------- rendering


def render_citation(c: Clause, lang: str = "zh") -> str:
    """The citation of clause ``c`` (see :meth:`policyidx.model.Clause.citation`)."""
    if c.kind in ("front", "back", "attachment"):
        return ""
    chain = [*c.ancestors(), c]
    chain = [x for x in chain if x.kind not in ("front", "back", "attachment")]
    arts = [k for k, x in enumerate(chain) if x.style == "article"]
    if arts:
        chain = chain[arts[-1] :]
    elif any(x.style in ("part", "subpart", "chapter", "section") for x in chain):
        chain = chain[-1:]  # a chapter or section is cited alone
    if lang == "en":
        return _render_en(chain)
    out: list[str] = []
    item_depth = 0
    for x in chain:
        n = x.number
        if n is None:
            out.append(x.label or "")
            continue
        if x.style == "article":
            if lang == "ja":
                out.append(f"第{n}条" + (f"の{x.sub}" if x.sub else ""))
            else:
                out.append(f"第{to_chinese(n)}条" + (f"之{to_chinese(x.sub)}" if x.sub else ""))
        elif x.style == "paragraph":
            out.append(f"第{n}項" if lang == "ja" else f"第{to_chinese(n)}款")
        elif x.style in ("part", "subpart", "chapter", "section"):
            word = {"part": "编", "subpart": "分编", "chapter": "章", "section": "节"}[x.style]
            out.append(f"第{n}{word}" if lang == "ja" else f"第{to_chinese(n)}{word}")
        elif arts and x.style in _ITEM_STYLES:
            item_depth += 1
            if lang == "ja":
                out.append(f"第{n}号" if item_depth == 1 else f"（{n}）")
            else:
                out.append(f"第（{to_chinese(n)}）项" if item_depth == 1 else f"第{n}目")
        else:
            out.append(x.label or str(n))
    return "".join(out)


def _render_en(chain: list[Clause]) -> str:
    out = ""
    roman = {v: k for k, v in _ROMAN.items()}
    depth = 0
    for x in chain:
        n = x.number
        if x.style == "article":
            out += f"Article {n}" + (f"-{x.sub}" if x.sub else "")
        elif x.style in ("part", "subpart", "chapter", "section"):
            out += f"{x.style.capitalize()} {n}"
        elif x.style == "paragraph":
            out += f"({n})"
        elif n is not None:
            depth += 1
            out += f"({roman.get(n, n)})" if depth == 1 else f"({n})"
        else:
            out += x.label
    return out


# --------------------------------------------------------------------------- parsing

_TOKEN = re.compile(
    rf"第\s*(?P<art>{_NUM})\s*[条條](?:\s*(?:之|の)\s*(?P<sub>{_NUM}))?"
    rf"|第\s*(?P<div>{_NUM})\s*(?P<divw>分编|分編|[编編章节節])"
    rf"|第\s*(?P<para>{_NUM})\s*款"
    rf"|第\s*(?P<xiang>{_NUM})\s*[项項]"
    rf"|第\s*[（(]\s*(?P<pitem>{_NUM})\s*[）)]\s*[项項号號]?"
    rf"|第\s*(?P<hao>{_NUM})\s*[号號]"
    rf"|第\s*(?P<mu>{_NUM})\s*目"
    rf"|[（(]\s*(?P<paren>{_NUM})\s*[）)]"
    rf"|(?P<cn>[一二三四五六七八九十]+)\s*[、．.]?"
    rf"|(?P<dig>[0-9０-９]+)\s*[.．、]?"
    r"|\s+|[,，、及和]"
)
_EN = re.compile(
    r"^\s*(?:Art(?:icle)?\.?)\s*(?P<art>\d+)(?:-(?P<sub>\d+))?"
    r"(?P<rest>(?:\s*\(\s*[0-9ivxlIVXL]+\s*\))*)"
    r"(?:\s*,?\s*(?:para(?:graph)?\.?)\s*(?P<para>\d+))?"
    r"(?:\s*,?\s*(?:item|subparagraph|sub-paragraph)\s*\(?(?P<item>[0-9ivxlIVXL]+)\)?)?\s*$",
    re.IGNORECASE,
)


def parse_citation(text: str, lang: str = "zh") -> list[tuple[str, int, int]]:
    """The steps of a citation as ``(what, number, sub)``: what is ``article``, ``paragraph``,
    ``item``, ``subitem``, a division style (``chapter``...) or ``label`` (a printed label).

    ``lang`` decides what 第N項 means when nothing else tells: the paragraph in Japanese,
    the item in (Traditional) Chinese.

    Raises
    ------
    QueryError
        The text is not a citation.
    """
    t = text.strip().replace("（", "(").replace("）", ")")
    m = _EN.match(t)
    if m and re.match(r"^\s*art", t, re.IGNORECASE):
        steps: list[tuple[str, int, int]] = [("article", int(m.group("art")), int(m.group("sub") or 0))]
        parens = re.findall(r"\(\s*([0-9ivxlIVXL]+)\s*\)", m.group("rest") or "")
        if m.group("para"):
            parens = [m.group("para"), *parens]
        if m.group("item"):
            parens = [*parens, m.group("item")]
        kinds = ["paragraph", "item", "subitem"]
        for k, p in enumerate(parens[:3]):
            if p.isdigit():
                val = int(p)
            elif p.lower() in _ROMAN:
                val = _ROMAN[p.lower()]
            else:
                raise QueryError(f"{text!r}: {p!r} is not a number")
            # "Article 12(iii)": a roman numeral straight after the article is an item
            kind = kinds[k]
            if k == 0 and not p.isdigit():
                kind = "item"
            steps.append((kind, val, 0))
        return steps
    steps = []
    pos = 0
    # JETRO writes 第12条第2項第3号: 号, の, or digits with 項 mark a Japanese citation
    japanese = lang == "ja" or bool(re.search(r"[号號]|の\s*\d|[0-9０-９]\s*項", t))
    chinese_para = "款" in t
    while pos < len(t):
        m = _TOKEN.match(t, pos)
        if not m or m.end() == pos:
            raise QueryError(f"{text!r} is not a citation (stopped at {t[pos:pos + 10]!r}); write e.g. 第十二条第二款第（三）项, 第12条第2項第3号 or Article 12(2)(iii)")
        pos = m.end()
        g = m.groupdict()
        if g["art"]:
            steps.append(("article", _num(g["art"]), _num(g["sub"]) if g["sub"] else 0))
        elif g["div"]:
            steps.append((_DIVISIONS[g["divw"]], _num(g["div"]), 0))
        elif g["para"]:
            steps.append(("paragraph", _num(g["para"]), 0))
        elif g["xiang"]:
            # 第2項: the paragraph in Japanese, the item in Chinese (项 / Traditional 項)
            is_para = japanese and not chinese_para and "项" not in m.group()
            steps.append(("paragraph" if is_para else "item", _num(g["xiang"]), 0))
        elif g["pitem"]:
            steps.append(("item", _num(g["pitem"]), 0))
        elif g["hao"]:
            steps.append(("item", _num(g["hao"]), 0))
        elif g["mu"]:
            steps.append(("subitem", _num(g["mu"]), 0))
        elif g["paren"]:
            steps.append(("label-paren", _num(g["paren"]), 0))
        elif g["cn"]:
            steps.append(("label-cn", _num(g["cn"]), 0))
        elif g["dig"]:
            steps.append(("label-num", _num(g["dig"]), 0))
    if not steps:
        raise QueryError(f"{text!r} is not a citation; write e.g. 第十二条第二款第（三）项")
    return steps


def _num(s: str) -> int:
    n = parse_numeral(s)
    if n is None:
        raise QueryError(f"{s!r} is not a number")
    return n


# --------------------------------------------------------------------------- resolving


def resolve(doc: Document, citation: str) -> Clause:
    """The clause of ``doc`` that ``citation`` names (see :meth:`policyidx.model.Document.cite`)."""
    steps = parse_citation(citation, doc.lang)
    node: Clause | None = None
    pool = doc.roots
    where = doc.id

    def fail(what: str) -> NotFoundError:
        return NotFoundError(f"{citation!r}: {what} in {where}")

    for k, (what, n, sub) in enumerate(steps):
        if what == "article":
            try:
                node = doc.article(n, sub)
            except NotFoundError:
                raise fail(f"no article {n}{'-' + str(sub) if sub else ''}") from None
        elif what in ("part", "subpart", "chapter", "section"):
            cands = [c for c in _descendants(pool) if c.style == what and c.number == n]
            if not cands:
                raise fail(f"no {what} {n}")
            node = cands[0]
        elif what == "paragraph":
            if node is None or node.style != "article":
                raise fail("a paragraph (款) needs its article")
            paras = [c for c in node.children if c.style == "paragraph"]
            if paras:
                hit = [c for c in paras if c.number == n]
                if not hit:
                    raise fail(f"no paragraph {n} of {node.label}")
                node = hit[0]
            elif n != 1:
                raise fail(f"{node.label} has a single paragraph")
        elif what in ("item", "subitem"):
            if node is None:
                raise fail("an item needs its article")
            hit = _item(node, n)
            if hit is None:
                raise fail(f"no item {n} under {node.id}")
            node = hit
        else:  # printed labels of a policy document: 三、（二）1.
            style = {"label-cn": ("cn", "division"), "label-paren": ("cn-paren", "num-paren", "subdivision"), "label-num": ("num",)}[what]
            kids = node.children if node is not None else [c for c in doc.roots if c.kind != "front"]
            hit = [c for c in kids if c.style in style and c.number == n]
            if not hit:
                raise fail(f"no clause labelled {n} ({'/'.join(style)}) under {node.id if node else 'the top level'}")
            node = hit[0]
        where = node.id if node is not None else doc.id
    assert node is not None
    return node


def _item(node: Clause, n: int) -> Clause | None:
    """Item ``n`` of an article or paragraph: directly under it, or under its first paragraph that has one."""
    for c in node.children:
        if c.style in _ITEM_STYLES and c.number == n:
            return c
    for para in node.children:
        if para.style == "paragraph":
            for c in para.children:
                if c.style in _ITEM_STYLES and c.number == n:
                    return c
    return None


def _descendants(roots: list[Clause]):
    for r in roots:
        yield from r.walk()


def split_title(citation: str) -> tuple[str, str]:
    """``《专利代理条例》第十二条第二款`` -> (``专利代理条例``, ``第十二条第二款``)."""
    t = citation.strip()
    m = re.search(r"(第\s*(?:[0-9０-９]+|[〇零一二三四五六七八九十百千两兩]+)\s*(?:条|條|章|节|節|编|編|分编))|\b(?:Art(?:icle)?\.?\s*\d)", t)
    if not m:
        return t.strip("《》〈〉 "), ""
    return t[: m.start()].strip().strip("《》〈〉“”\"' ,，"), t[m.start() :]
