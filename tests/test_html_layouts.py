"""Government page layouts found by ``benchmarks/realdocs_html.py``: old layout tables, titles
outside the body, paragraphs cut mid-word (each test fails without its fix)."""

from __future__ import annotations

from policyidx.parsers import parse_bytes


def parse(page: str):
    return parse_bytes(page.encode("utf-8"), doc_id="x.zh", lang="zh", format="html", name="p.html")


def clauses(res):
    return [c for r in res.roots for c in r.walk()]


ARTICLES = ("第一条　为了规范养犬行为，保障公民健康和人身安全，制定本条例。",
            "第二条　本条例适用于本市行政区域内的养犬管理活动。",
            "第三条　养犬管理实行政府负责、部门协同、属地管理、公众参与的原则。")


def _table_page(inner: str, title: str = "某市养犬管理条例") -> str:
    return ("<html><head><title>" + title + "_某某市人民政府</title></head><body>"
            "<table width='100%'><tr><td class='nav'><a href='/'>首页</a> | <a href='/zwgk/'>政务公开</a></td></tr>"
            "<tr><td align='center'><font size='5'><b>" + title + "</b></font></td></tr>"
            "<tr><td>" + inner + "</td></tr>"
            "<tr><td align='center'>版权所有：某某市人民政府　联系电话：0000</td></tr></table></body></html>")


def test_br_lines_in_a_layout_table_cell_are_the_body():
    res = parse(_table_page("".join("　　" + a + "<br>" for a in ARTICLES)))
    assert [c.label for c in clauses(res) if c.label] == ["第一条", "第二条", "第三条"]
    assert "首页" not in res.text and "版权所有" not in res.text
    first = next(c for c in clauses(res) if c.label == "第一条")
    assert first.text.startswith("为了规范养犬行为")


def test_title_cell_before_the_body_is_the_document_title():
    res = parse(_table_page("".join("<p>" + a + "</p>" for a in ARTICLES)))
    assert res.parsed_title == "某市养犬管理条例"
    assert res.text.startswith("某市养犬管理条例\n")
    out = [w.message for w in res.warnings if w.code == "outside-body"]
    assert out and "某市养犬管理条例" not in out[0].split("left out:")[1]


def test_title_element_matches_only_the_whole_page_title():
    # a cell that merely contains the title's words is not the title
    page = _table_page("".join("<p>" + a + "</p>" for a in ARTICLES)).replace(
        "<b>某市养犬管理条例</b>", "<b>相关文件：某市养犬管理条例解读</b>")
    res = parse(page)
    assert "相关文件" not in res.text


def test_paragraph_cut_mid_word_goes_on():
    res = parse("<html><body><div class='TRS_Editor'><p>" + ARTICLES[0] + "</p>"
                "<p>公职人员、公众人物应当在文明行为促进工作中发挥表率</p><p>作用。</p>"
                "<p>" + ARTICLES[1] + "</p></div></body></html>")
    first = next(c for c in clauses(res) if c.label == "第一条")
    texts = [c.text for c in first.children]
    assert texts[-1] == "公职人员、公众人物应当在文明行为促进工作中发挥表率作用。"
    assert len(first.children) == 2


def test_paragraph_break_between_words_stays():
    res = parse("<html><body><div class='TRS_Editor'><p>" + ARTICLES[0] + "</p>"
                "<p>有关部门应当加强监督检查工作</p><p>公众可以举报违法行为。</p>"
                "<p>" + ARTICLES[1] + "</p></div></body></html>")
    first = next(c for c in clauses(res) if c.label == "第一条")
    assert len(first.children) == 3


def test_long_paragraph_stopping_without_punctuation_stays():
    # no word runs across this break: a paragraph missing its 。 is as likely as a cut sentence
    long = "从事生猪产品销售、加工的单位和个人以及饭店、宾馆、集体伙食单位，销售或者使用的生猪产品应当是定点屠宰厂屠宰的生猪产品"
    res = parse("<html><body><div class='TRS_Editor'><p>" + ARTICLES[0] + "</p>"
                "<p>" + ARTICLES[1] + "</p><p>" + long + "</p><p>进入市场销售的生猪产品，必须具有检验合格印章。</p>"
                "<p>" + ARTICLES[2] + "</p></div></body></html>")
    second = next(c for c in clauses(res) if c.label == "第二条")
    assert [c.text for c in second.children][-2:] == [long, "进入市场销售的生猪产品，必须具有检验合格印章。"]


def test_word_cut_before_a_colon_line_goes_on():
    res = parse("<html><body><div class='TRS_Editor'><p>" + ARTICLES[0] + "</p>"
                "<p>第二条　禁止在饮用水水源二级保护区内从事以下行</p><p>为：</p><p>（一）新建排放污染物的建设项目；</p>"
                "<p>" + ARTICLES[2] + "</p></div></body></html>")
    second = next(c for c in clauses(res) if c.label == "第二条")
    assert second.text.startswith("禁止在饮用水水源二级保护区内从事以下行为：")


def test_first_line_title_is_never_joined_onto():
    # a word would run across this break (管理规|定如下), but the first line is the title
    res = parse("<html><body><div class='TRS_Editor'><p>某市养犬管理规</p><p>定如下：</p>"
                "<p>" + ARTICLES[0] + "</p><p>" + ARTICLES[1] + "</p></div></body></html>")
    assert res.parsed_title == "某市养犬管理规"


def test_heading_line_without_punctuation_is_not_joined_onto():
    # 解释|法释 reads as a word across the break, but the line before is a title, not a sentence
    res = parse("<html><body><h1>某某解释</h1><div class='TRS_Editor'><p>2024年8月20日施行</p>"
                "<p>最高人民法院 最高人民检察院 关于办理洗钱刑事案件适用法律若干问题的解释</p><p>法释〔2024〕10号</p>"
                "<p>" + ARTICLES[0] + "</p><p>" + ARTICLES[1] + "</p></div></body></html>")
    assert res.doc_number == "法释〔2024〕10号"


def test_document_number_line_is_not_joined_onto_a_title_with_punctuation():
    res = parse("<html><body><h1>某某解释</h1><div class='TRS_Editor'><p>2024年8月20日施行</p>"
                "<p>最高人民法院、最高人民检察院关于办理洗钱刑事案件适用法律若干问题的解释</p><p>法释〔2024〕10号</p>"
                "<p>" + ARTICLES[0] + "</p><p>" + ARTICLES[1] + "</p></div></body></html>")
    assert res.doc_number == "法释〔2024〕10号"
