"""HTML as found on government sites, and text kept whatever the markup (issues 11 and 13)."""

from __future__ import annotations

import pytest

from policyidx.parsers import parse_bytes

from conftest import realdocs_dir


def parse(page: str, **kw):
    return parse_bytes(page.encode("utf-8"), doc_id="x.zh", lang="zh", format="html", name="p.html", **kw)


def labels(res):
    return [c.label for r in res.roots for c in r.walk() if c.label]


def test_body_split_over_sibling_divs_is_kept_whole():
    res = parse("<html><body><nav>首页 | 政策</nav><div><p>一、总体要求和基本原则，加强知识产权保护</p><p>二、主要任务和具体安排，促进创新发展</p></div>"
                "<div><p>三、保障措施的落实和监督</p></div><div>版权所有</div></body></html>")
    assert labels(res) == ["一、", "二、", "三、"]
    out = [w for w in res.warnings if w.code == "outside-body"]
    assert out and "首页" in out[0].message and "版权所有" in out[0].message


def test_semantic_tags_inside_the_body_are_kept():
    res = parse("<html><body><div id='zoom'><header>关于加强知识产权保护的通知</header><form>国知发〔2022〕1号</form>"
                "<p>一、" + "加强保护" * 20 + "</p><p>二、主要任务</p><nav>附件：实施细则</nav>"
                "<footer>国家知识产权局</footer></div></body></html>")
    for s in ("关于加强知识产权保护的通知", "国知发〔2022〕1号", "附件：实施细则", "国家知识产权局"):
        assert s in res.text


@pytest.mark.parametrize("depth", [300, 100_000])
def test_deep_nesting_keeps_all_text(depth):
    res = parse("<html><body>" + "<div>" * depth + "<p>一、深处的内容</p>" + "</div>" * depth + "<p>二、之后的内容</p></body></html>")
    assert labels(res) == ["一、", "二、"]
    assert any(w.code == "deep-nesting" for w in res.warnings)


def test_h1_title_kept_even_when_the_body_quotes_it():
    res = parse("<html><body><h1>关于印发知识产权保护办法的通知</h1><div id='zoom'>"
                "<p>各单位：现将《关于印发知识产权保护办法的通知》印发给你们。</p>"
                + "<p>一、总体要求，加强知识产权保护，促进创新发展。</p>" * 3 + "</div></body></html>")
    assert res.text.startswith("关于印发知识产权保护办法的通知\n")


def test_table_rows_are_searchable_text_never_labels():
    res = parse("<html><body><div id='zoom'><p>一、总体要求</p><table><tr><td>第151条</td><td>罚款数额</td></tr>"
                "<tr><td>年份</td><td>2021</td></tr></table><p>二、主要任务</p></div></body></html>")
    assert labels(res) == ["一、", "二、"]
    assert "第151条 | 罚款数额" in res.text and "年份 | 2021" in res.text


def test_br_separated_paragraphs():
    res = parse("<html><body><div id='zoom'>各单位：<br>　　一、总体要求和基本原则。<br>　　二、主要任务。"
                "<br><br>三、保障措施<br>　　为了落实各项任务，制定本措施。</div></body></html>")
    assert labels(res) == ["一、", "二、", "三、"]
    assert "为了落实各项任务" in res.text


def test_zero_width_only_page_parses():
    res = parse("<p>\u200b</p>")
    assert res.text == "" and any(w.code == "invisible-characters" for w in res.warnings)


# ----------------------------------------------------------------------------- plain text


def test_a_column_of_years_in_plain_text_is_text():
    res = parse_bytes("一、目标\n年份\n2021\n2022\n2023\n".encode(), doc_id="x.zh", lang="zh")
    assert "2021" in res.text and "2023" in res.text
    assert not any(w.code == "page-numbers" for w in res.warnings)


def test_page_numbers_of_pdf_text_are_taken_out_and_listed():
    res = parse_bytes("一、目标\n加强保护\n2\n推进发展\n3\n".encode(), doc_id="x.zh", lang="zh", extracted_from="pdf")
    assert "2" not in res.text
    w = [w for w in res.warnings if w.code == "page-numbers"]
    assert w and "line 3: '2'" in w[0].message and "line 5: '3'" in w[0].message


@pytest.mark.parametrize("text", ["\u200b", "a\u200b", "\u200b\n第一条\u200b内容", "\x01\x02", "\ufffd", "\u2028\u2029"])
def test_any_character_sequence_parses(text):
    res = parse_bytes(text.encode(), doc_id="x.zh", lang="zh", name="z.txt")
    assert "\u200b" not in res.text


def test_text_longer_than_libxml2_node_limit_is_kept():
    from lxml import html as lhtml

    from policyidx.parsers.html import split_long_text

    run = "a&amp;b" * 1_600_000  # 11.2 MB of text between two tags: libxml2 drops it whole
    markup = "<html><body><p>" + run + "</p><p>end</p></body></html>"
    parser = lhtml.HTMLParser(encoding="utf-8", no_network=True, huge_tree=False)
    root = lhtml.document_fromstring(split_long_text(markup).encode(), parser=parser)
    assert root.text_content() == "a&b" * 1_600_000 + "end"


@pytest.mark.skipif(realdocs_dir() is None, reason="../shared/realdocs not present")
def test_real_texts_as_gbk_text_and_gov_pages_lose_nothing():
    from policyidx.bench.fuzz import realdocs_check

    st = realdocs_check(str(realdocs_dir()), n=6, seed=5, max_bytes=20_000)
    for kind in ("GBK text", "GB2312 page"):
        assert st[kind, "documents"] == 6
        assert st[kind, "refused"] == st[kind, "documents losing text"] == 0
        assert st[kind, "documents with text outside clauses"] == 0
    assert st["GB2312 page", "navigation and footer reported"] == 6
