"""Collection markup in plain text: kept in the document text, out of every clause, title and index.

A line that is only an HTML comment (``<!-- INFO END -->``) and the mark of a markdown heading
(``# 标题``, ``## 第一章 总则``) are markup: collections of legal texts add them, the official text
has none.  The texts below are short and written for these tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policyidx.corpus import Corpus
from policyidx.parsers import parse_bytes
from policyidx.parsers.labels import match_label
from policyidx.parsers.layout import markup_line

from conftest import realdocs_dir

ROOT = Path(__file__).resolve().parent.parent


def parse(text: str, fmt: str = "text"):
    return parse_bytes(text.encode("utf-8"), doc_id="t.zh", lang="zh", format=fmt)


def clauses(res):
    return [c for r in res.roots for c in r.walk()]


def lost(res) -> int:
    """Non-whitespace characters in no clause, header, footer or markup span."""
    covered = bytearray(len(res.text) + 1)
    spans = [(c.label_start, c.end) for c in clauses(res)] + list(res.header_spans) + list(res.markup_spans)
    if res.footer_span:
        spans.append(res.footer_span)
    for s, e in spans:
        covered[s:e] = b"\x01" * (e - s)
    return sum(1 for i, ch in enumerate(res.text) if not covered[i] and not ch.isspace())


def strip_markup(text: str) -> str:
    """The plain text a user copies from the government page (an independent restatement)."""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if re.fullmatch(r"(<!--.*?-->\s*)+", s):
            continue
        out.append(re.sub(r"^#{1,6}\s+", "", s))
    return "\n".join(out)


def squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def same_as_plain(md: str) -> None:
    """The markdown text parses into the tree of its plain text, with the same indexed text and titles."""
    a, b = parse(md), parse(strip_markup(md))
    assert [c.id for c in clauses(a)] == [c.id for c in clauses(b)]
    assert a.parsed_title == b.parsed_title
    for x, y in zip(clauses(a), clauses(b)):
        assert squash(x.content) == squash(y.text), x.id
        assert x.title == y.title, x.id
        assert x.label == y.label, x.id
    assert lost(a) == 0


LAW = (
    "# 某某市养犬管理条例\n\n"
    "2017年8月30日某某市第八届人民代表大会常务委员会第四次会议通过\n\n"
    "<!-- INFO END -->\n\n"
    "## 第一章  总则\n\n"
    "### 第一节 适用\n\n"
    "第一条 为了规范养犬行为，制定本条例。\n\n"
    "第二条 本市行政区域内的养犬活动，适用本条例。\n\n"
    "### 第二节 登记\n\n"
    "第三条 养犬实行登记制度。\n\n"
    "## 第二章  附则\n\n"
    "第四条 本条例自2018年1月1日起施行。\n"
)


def test_markdown_law_keeps_markup_as_spans_only():
    res = parse(LAW)
    assert res.parsed_title == "某某市养犬管理条例"
    assert [res.text[s:e] for s, e in res.markup_spans] == ["# ", "<!-- INFO END -->", "## ", "### ", "### ", "## "]
    ids = {c.id.split("#")[1]: c for c in clauses(res)}
    assert ids["0.2"].title == "某某市养犬管理条例" and ids["0.2"].text == "某某市养犬管理条例"
    assert "INFO" not in ids["0.4"].text and ids["0.4"].style == "record"
    assert "0.3" not in ids  # the comment line makes no preamble
    assert ids["1"].label == "第一章" and ids["1"].title == "总则" and ids["1"].text == "总则"
    assert ids["1.2"].title == "登记" and ids["1.2"].label == "第二节" and ids["1.1.1"].label == "第一条"
    assert ids["1.2.3"].label == "第三条" and ids["2.4"].label == "第四条"
    for c in clauses(res):
        assert res.text[c.start : c.end] == c.text
        assert "#" not in c.text and "<!--" not in c.text and not c.markup
        assert not (c.title or "").startswith("#")
        assert all("#" not in s.text and res.text[s.start : s.end] == s.text for s in c.sentences)
    assert lost(res) == 0
    same_as_plain(LAW)


CASES = {
    # name: (text, the markup spans' text: normalised as every line is, spaces next to Han characters out)
    "comment line with spaces around it": (
        "某某办法\n   <!-- INFO END -->  \n第一条 本办法自公布之日起施行。\n", ["<!-- INFO END -->"]),
    "two comments on one line": (
        "某某办法\n<!-- a --> <!-- b -->\n第一条 本办法自公布之日起施行。\n", ["<!-- a --> <!-- b -->"]),
    "comment holding Chinese and dashes": (
        "某某办法\n<!-- 注：以下为正文 - 第一条 -->\n第一条 本办法自公布之日起施行。\n", ["<!--注：以下为正文-第一条-->"]),
    "heading marks of every level, a bare mark": (
        "# 某某办法\n#\n###### 第一章 总则\n第一条 本办法自公布之日起施行。\n", ["# ", "#", "###### "]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_markup_lines(name):
    text, want = CASES[name]
    res = parse(text)
    assert [res.text[s:e] for s, e in res.markup_spans] == want
    same_as_plain(text)


NOT_MARKUP = {
    # name: (text, the string that must stay in a clause's text)
    "comment inside a sentence": ("第一条 本办法<!-- 注 -->所称单位，包括个体工商户。\n", "<!-- 注 -->"),
    "comment then text on one line": ("第一条 本办法自公布之日起施行。\n<!-- a --> 附：说明\n", "<!-- a --> 附：说明"),
    "an unclosed comment": ("第一条 本办法自公布之日起施行。\n<!-- 未完\n", "<!-- 未完"),
    "a hash without a space": ("第一条 下列事项：\n#1 申请材料。\n", "#1"),
    "a full-width hash": ("第一条 下列事项：\n＃ 申请材料。\n", "＃"),
}


@pytest.mark.parametrize("name", sorted(NOT_MARKUP))
def test_text_that_is_not_markup(name):
    text, keep = NOT_MARKUP[name]
    res = parse(text)
    assert res.markup_spans == []
    assert any(squash(keep) in squash(c.content) for c in clauses(res))
    assert lost(res) == 0


def test_markup_line_reader():
    assert markup_line("<!-- INFO END -->") == ("<!-- INFO END -->", "")
    assert markup_line("  ## 第一章  总则 ") == ("## ", "第一章总则")
    assert markup_line("见<!-- x -->") is None
    assert markup_line("#1") is None
    assert markup_line("####### 七级") is None  # markdown has six levels


def test_a_file_of_only_a_comment():
    res = parse("<!-- INFO END -->\n")
    assert res.roots == [] and res.text == "<!-- INFO END -->"
    assert res.markup_spans == [(0, len(res.text))]
    assert [w.code for w in res.warnings] == ["empty"] and "only markup" in res.warnings[0].message
    assert lost(res) == 0


def test_markup_between_paragraphs_of_one_clause_is_not_indexed():
    text = ("某某条例\n第一条 第一段正文。\n<!-- FORCE BREAK -->\n第二段正文。\n"
            "第二条 说明如下：\n<!-- TABLE -->\n| 项目 | 金额 |\n<!-- TABLE END -->\n第三条 本条例自公布之日起施行。\n")
    res = parse(text)
    held = [c for c in clauses(res) if c.markup]
    assert held, "a comment between two paragraphs of one clause stays inside its span"
    for c in clauses(res):
        assert res.text[c.start : c.end] == c.text
        assert len(c.content) == len(c.text)
        assert "FORCE" not in c.content and "TABLE" not in c.content
        assert all("<!--" not in s.text for s in c.sentences)
        for s, e in c.markup:
            assert c.start < s < e < c.end and res.text[s:e].startswith("<!--")
    assert any("第二段正文" in c.content for c in held) or any("第二段正文" in c.content for c in clauses(res))
    assert lost(res) == 0
    same_as_plain(text)


def test_heading_mark_before_a_child_is_not_in_its_parent():
    text = "某某方案\n## 一、总体要求\n### （一）指导思想\n坚持创新驱动。\n### （二）主要目标\n到2025年，形成体系。\n"
    res = parse(text)
    for c in clauses(res):
        assert "#" not in c.text, (c.id, c.text)
    same_as_plain(text)


def test_html_comments_are_not_text():
    page = ("<html><head><title>某某办法</title></head><body><h1>某某办法</h1><!-- INFO END -->"
            "<p>第一条 本办法<!-- 注 -->自公布之日起施行。</p><!-- FORCE BREAK --><p>第二条 本办法由某某局负责解释。</p></body></html>")
    res = parse(page, "html")
    assert "<!--" not in res.text and "INFO" not in res.text and "FORCE" not in res.text
    assert "本办法自公布之日起施行。" in res.text
    assert res.markup_spans == []


@pytest.mark.parametrize("path", sorted(p.relative_to(ROOT / "corpus").as_posix() for p in (ROOT / "corpus").rglob("*.txt")))
def test_bundled_documents_keep_their_ids_with_markup_added(path):
    """A comment line at the top, before every labelled line and at the end changes no id of the bundled texts."""
    src = (ROOT / "corpus" / path).read_text(encoding="utf-8")
    lines = src.splitlines()
    marked = ["<!-- SOURCE START -->"]
    for line in lines:
        if match_label(line.strip()) is not None:
            marked.append("<!-- NEXT -->")
        marked.append(line)
    marked.append("<!-- INFO END -->")
    lang = "ja" if path.startswith("ja") else "zh"
    pdf = lang == "ja"
    kw = dict(doc_id="b", lang=lang, format="text", extracted_from="pdf" if pdf else "")
    a = parse_bytes("\n".join(marked).encode("utf-8"), **kw)
    b = parse_bytes(src.encode("utf-8"), **kw)
    assert [c.id for c in clauses(a)] == [c.id for c in clauses(b)]
    assert [c.title for c in clauses(a)] == [c.title for c in clauses(b)]
    assert [squash(c.content) for c in clauses(a)] == [squash(c.text) for c in clauses(b)]
    assert not any("<!--" in c.content for c in clauses(a))


def test_bundled_corpus_has_no_markup():
    corpus = Corpus.load(ROOT / "corpus")
    assert all(d.markup_spans == [] for d in corpus)


def test_markup_is_not_indexed(tmp_path):
    from policyidx.index import Index

    root = tmp_path / "corpus"
    root.mkdir()
    (root / "a.md").write_text(LAW, encoding="utf-8")
    (root / "b.md").write_text("# 某某办法\n\n<!-- INFO END -->\n\n第一条 第一段。\n\n<!-- FORCE BREAK -->\n\n第二段。\n", encoding="utf-8")
    (root / "catalog.toml").write_text(
        '[[work]]\nid = "a"\n\n[[document]]\nid = "a.zh"\nwork = "a"\nlang = "zh"\nrole = "original"\ntitle = "a"\nfile = "a.md"\nformat = "text"\n\n'
        '[[work]]\nid = "b"\n\n[[document]]\nid = "b.zh"\nwork = "b"\nlang = "zh"\nrole = "original"\ntitle = "b"\nfile = "b.md"\nformat = "text"\n',
        encoding="utf-8")
    idx = Index.build(Corpus.load(root), tmp_path / "idx", align=False)
    assert idx.search("INFO END", k=5, mode="keyword") == []
    assert idx.search("FORCE BREAK", k=5, mode="keyword") == []
    hits = idx.search("养犬登记", k=3, mode="keyword")
    assert hits and hits[0].id == "a.zh#1.2.3"


@pytest.mark.skipif(realdocs_dir() is None, reason="../shared/realdocs is not beside the checkout")
def test_real_collection_files_parse_as_their_plain_copy():
    """A fixed sample of 40 collection files (every k-th): no markup reaches a clause's indexed text,
    a title or a sentence, nothing is lost, and the tree is that of the plain copy."""
    root = realdocs_dir()
    assert root is not None
    files = sorted((root / "zh").rglob("*.md"))
    sample = files[:: max(1, len(files) // 40)][:40]
    same = 0
    for f in sample:
        md = f.read_text(encoding="utf-8")
        res = parse(md)
        assert res.markup_spans and res.text[slice(*res.markup_spans[0])] == "# ", f.name
        assert any(res.text[s:e] == "<!-- INFO END -->" for s, e in res.markup_spans), f.name
        for c in clauses(res):
            assert "<!--" not in c.content and not (c.title or "").startswith("#"), (f.name, c.id)
            assert all("<!--" not in s.text and not s.text.startswith("#") for s in c.sentences), (f.name, c.id)
        assert not (res.parsed_title or "").startswith("#")
        assert lost(res) == 0, f.name
        plain = parse(strip_markup(md))
        same += [c.id for c in clauses(res)] == [c.id for c in clauses(plain)]
    assert same >= len(sample) - 1
