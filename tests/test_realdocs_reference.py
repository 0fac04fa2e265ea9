"""The reference of ``benchmarks/realdocs_parse.py`` reads articles, their parents and 款 from the
source's lines by its own rules (not the parser's): checked here on short texts written for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import load_script

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    return load_script(ROOT / "benchmarks" / "realdocs_parse.py", "realdocs_parse")


def chains(src) -> list[tuple[str, list[str]]]:
    return [(a["number"], a["chain"]) for a in src.articles]


def test_divisions_by_printed_kind_not_by_markdown_level(bench):
    md = ("# 某法\n\n2020年1月1日通过\n\n<!-- INFO END -->\n\n## 第一编 总则\n\n## 第一章 一般规定\n\n第一条 甲。\n\n"
          "### 第二章 乙\n\n## 第一节 丙\n\n第二条 乙。\n\n附 则\n\n第三条 本法自公布之日起施行。\n")
    src = bench.read_source(md)
    assert chains(src) == [("一", ["第一编", "第一章"]), ("二", ["第一编", "第二章", "第一节"]), ("三", ["附则"])]
    assert [a["chain"] for a in src.md_articles][1] == ["第一节"]  # the marks put 第二章 under 第一节's level


def test_judicial_divisions_and_sentences_that_are_not_headings(bench):
    md = ("# 解释\n\n<!-- INFO END -->\n\n一、关于受理\n\n（一）一般规定\n\n第一条 甲。\n\n（二）特别规定\n\n第二条 下列情形：\n\n"
          "一、未经批准的\n\n二、关于证据\n\n第三条 乙。\n\n第七节相应改为第八节，第三条至第五条相应修改。\n\n第四条 丙。\n")
    src = bench.read_source(md)
    assert chains(src) == [("一", ["一", "（一）"]), ("二", ["一", "（二）"]), ("三", ["二"]), ("四", ["二"])]


def test_paragraphs_follow_a_sentence_end(bench):
    md = ("# 条例\n\n<!-- INFO END -->\n\n第一条 甲应当向\n\n有关部门报告。\n\n乙应当配合；\n\n丙应当配合。\n\n（一）丁；\n\n"
          "前款所称丁，是指戊。\n")
    src = bench.read_source(md)
    keys = [(p["key"], p["after_list"]) for p in src.paras]
    assert keys == [("乙应当配合；", False), ("丙应当配合。", False), ("前款所称丁，是指戊。", True)]
    assert all(src.plain.replace("\n", "").replace(" ", "")[p["offset"]:].startswith(p["key"]) for p in src.paras)
