"""Table-driven tests: every common shape of a Chinese law, regulation, judicial interpretation and
notice (and a Japanese translation of a law) parses into the clause tree its numbering prints.

The texts are short and written for these tests.
"""

from __future__ import annotations

import pytest

from policyidx.corpus import Corpus
from policyidx.errors import NotFoundError, ParseError, QueryError
from policyidx.parsers import parse_bytes


def parse(text: str, lang: str = "zh"):
    return parse_bytes(text.encode("utf-8"), doc_id="t.zh" if lang == "zh" else "t.ja", lang=lang, format="text")


def tree(text: str, lang: str = "zh") -> list[tuple[str, str]]:
    """(path, label) of every body clause (front and back matter left out)."""
    res = parse(text, lang)
    out = []
    for r in res.roots:
        for c in r.walk():
            if c.kind not in ("front", "back"):
                out.append((c.id.split("#", 1)[1], c.label))
    return out


def own_text(text: str, path: str, lang: str = "zh") -> str:
    res = parse(text, lang)
    for r in res.roots:
        for c in r.walk():
            if c.id.split("#", 1)[1] == path:
                return c.text
    raise KeyError(path)


def lost(res) -> int:
    """Non-whitespace characters of the text in no clause, header or footer span."""
    covered = bytearray(len(res.text) + 1)
    spans = [(c.label_start, c.end) for r in res.roots for c in r.walk()] + list(res.header_spans)
    if res.footer_span:
        spans.append(res.footer_span)
    for s, e in spans:
        covered[s:e] = b"\x01" * (e - s)
    return sum(1 for i, ch in enumerate(res.text) if not covered[i] and not ch.isspace())


SHAPES = {
    "code with parts, subparts, chapters, sections": (
        "某某法典\n第一编　总则\n第一章　基本规定\n第一条　为了保护当事人的合法权益，制定本法。\n第二条　本法调整平等主体之间的关系。\n"
        "第二编　物权\n第一分编　通则\n第一章　一般规定\n第一节　不动产登记\n第三条　不动产物权的设立，经依法登记，发生效力。\n"
        "第二节　动产交付\n第四条　动产物权的设立和转让，自交付时发生效力。\n",
        [("1", "第一编"), ("1.1", "第一章"), ("1.1.1", "第一条"), ("1.1.2", "第二条"), ("2", "第二编"), ("2.1", "第一分编"),
         ("2.1.1", "第一章"), ("2.1.1.1", "第一节"), ("2.1.1.1.3", "第三条"), ("2.1.1.2", "第二节"), ("2.1.1.2.4", "第四条")],
    ),
    "articles into the thousands, in Chinese numerals and digits": (
        "第一千二百五十九条　民法所称的“以上”，包括本数。\n第一千二百六十条　本法自2021年1月1日起施行。\n第1261条　附加的条文。\n",
        [("1259", "第一千二百五十九条"), ("1260", "第一千二百六十条"), ("1261", "第1261条")],
    ),
    "第X条之一 is its own article after 第X条": (
        "第十七条　经营者应当依法经营。\n第十七条之一　经营者不得滥用市场支配地位。\n第十七条之二　经营者应当公平竞争。\n第十八条　本法自公布之日起施行。\n",
        [("17", "第十七条"), ("17-1", "第十七条之一"), ("17-2", "第十七条之二"), ("18", "第十八条")],
    ),
    "a paragraph after an item list is the next 款, never part of the last item": (
        "第十二条　专利代理机构应当具备下列条件：\n（一）有符合规定的名称；\n（二）有书面合伙协议；\n（三）有独立的经营场所。\n"
        "前款所称经营场所，是指固定的办公场所。\n专利代理机构应当依法办理登记。\n第十三条　本条例自公布之日起施行。\n",
        [("12", "第十二条"), ("12.1", ""), ("12.1.1", "（一）"), ("12.1.2", "（二）"), ("12.1.3", "（三）"), ("12.2", ""), ("12.3", ""),
         ("13", "第十三条")],
    ),
    "a second item list belongs to the paragraph it follows": (
        "第五条　申请人应当提交下列材料：\n（一）申请书；\n（二）身份证明。\n有下列情形之一的，不予受理：\n（一）材料不全的；\n（二）超过期限的。\n",
        [("5", "第五条"), ("5.1", ""), ("5.1.1", "（一）"), ("5.1.2", "（二）"), ("5.2", ""), ("5.2.1", "（一）"), ("5.2.2", "（二）")],
    ),
    "a single-paragraph article has no paragraph level": (
        "第一条　为了规范管理，制定本办法。\n第二条　本办法适用于下列单位：\n（一）企业；\n（二）事业单位。\n",
        [("1", "第一条"), ("2", "第二条"), ("2.1", "（一）"), ("2.2", "（二）")],
    ),
    "judicial interpretation: 一、关于… divisions above the articles": (
        "最高人民法院关于审理某类案件适用法律若干问题的解释\n为正确审理案件，制定本解释。\n一、关于案件受理\n"
        "第一条　当事人起诉的，人民法院应当受理。\n第二条　起诉应当符合下列条件：\n（一）有明确的被告；\n（二）有具体的诉讼请求。\n"
        "二、关于证据\n第三条　当事人对自己的主张，有责任提供证据。\n三、其他\n第四条　本解释自公布之日起施行。\n",
        [("1", "一、"), ("1.1", "第一条"), ("1.2", "第二条"), ("1.2.1", "（一）"), ("1.2.2", "（二）"), ("2", "二、"), ("2.3", "第三条"),
         ("3", "三、"), ("3.4", "第四条")],
    ),
    "judicial interpretation: （一） sub-divisions between a division and its articles": (
        "一、关于抵押\n（一）不动产抵押\n第一条　抵押合同应当采用书面形式。\n（二）动产抵押\n第二条　动产抵押自合同生效时设立。\n二、关于质押\n第三条　质权自交付时设立。\n",
        [("1", "一、"), ("1.1", "（一）"), ("1.1.1", "第一条"), ("1.2", "（二）"), ("1.2.2", "第二条"), ("2", "二、"), ("2.3", "第三条")],
    ),
    "附则 standing for a chapter": (
        "第一章　总则\n第一条　为了规范管理，制定本条例。\n第二章　管理\n第二条　主管部门负责管理工作。\n附　则\n第三条　本条例自2020年1月1日起施行。\n",
        [("1", "第一章"), ("1.1", "第一条"), ("2", "第二章"), ("2.2", "第二条"), ("3", ""), ("3.3", "第三条")],
    ),
    "总则 alone above the first article of a law that numbers its chapters": (
        "某某条例\n总　则\n第一条　为了规范管理，制定本条例。\n第二章　管理\n第二条　主管部门负责管理工作。\n",
        [("1", ""), ("1.1", "第一条"), ("2", "第二章"), ("2.2", "第二条")],
    ),
    "a tab between a heading label and its title; a tab inside a sentence": (
        "第一章\t总则\n第一条　为了规范管理，制定本条例。\n第二章\t管理\n第二条　主管部门应当报告；\t也可以委托下级部门。\n",
        [("1", "第一章"), ("1.1", "第一条"), ("2", "第二章"), ("2.2", "第二条")],
    ),
    "lines of an unlabelled list ending with ； are paragraphs of their own": (
        "第二条　其离休退休年龄可以适当延长：\n副教授、副研究员以及相当这一级职称的高级专家，经所在单位报请上一级主管机关批准，可以适当延长；\n"
        "教授、研究员以及相当这一级职称的高级专家，经所在单位报请省人民政府批准，可以延长离休退休年龄；\n"
        "杰出高级专家，经国务院批准，可以暂缓离休退休。\n第三条　本规定自发布之日起施行。\n",
        [("2", "第二条"), ("2.1", ""), ("2.2", ""), ("2.3", ""), ("2.4", ""), ("3", "第三条")],
    ),
    "Traditional characters: 編 章 節 條": (
        "第一編　總則\n第一章　基本規定\n第一節　一般規定\n第一條　為了保護當事人的合法權益，制定本法。\n第二條　本法調整下列關係：\n（一）人身關係；\n（二）財產關係。\n",
        [("1", "第一編"), ("1.1", "第一章"), ("1.1.1", "第一節"), ("1.1.1.1", "第一條"), ("1.1.1.2", "第二條"), ("1.1.1.2.1", "（一）"),
         ("1.1.1.2.2", "（二）")],
    ),
    "cross-references at a paragraph start and table rows are never labels": (
        "第二十九条　当事人可以申请复议。\n第三十条　复议机关应当作出决定。\n第二十九条规定的期限，自收到通知之日起计算。\n"
        "第151条 | 走私罪 | 第2款\n第三十一条　本法自公布之日起施行。\n",
        [("29", "第二十九条"), ("30", "第三十条"), ("30.1", ""), ("30.2", ""), ("31", "第三十一条")],
    ),
    "a dash typed for 一 in the next article's number; never in a cross-reference or out of sequence": (
        ("第三十条　规划应当统一。\n第三十－条　新建建筑物，应当配套建设市政设施。\n第三十二条　禁止乱建。\n"
         "第一—三条规定的事项，依照本条执行。\n第五十—条　本条例自公布之日起施行。\n"),
        [("30", "第三十条"), ("31", "第三十－条"), ("32", "第三十二条"), ("32.1", ""), ("32.2", ""), ("32.3", "")],
    ),
    "an article whose text starts with 规定 is still the next article": (
        "第七条　市人民代表大会审议法规案。\n第八条　规定本市特别重大事项的地方性法规，应当由市人民代表大会通过。\n",
        [("7", "第七条"), ("8", "第八条")],
    ),
    "policy document: 一、 >（一）> 1. >（1）> ①": (
        "关于加强知识产权保护的意见\n一、总体要求\n（一）指导思想。坚持问题导向。\n1.强化制度约束。\n（1）完善法律法规。\n①修订专利法。\n②修订商标法。\n"
        "二、重点任务\n（二）加强审查。\n",
        [("1", "一、"), ("1.1", "（一）"), ("1.1.1", "1."), ("1.1.1.1", "（1）"), ("1.1.1.1.1", "①"), ("1.1.1.1.2", "②"), ("2", "二、"),
         ("2.2", "（二）")],
    ),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shape_tree(name):
    text, want = SHAPES[name]
    assert tree(text) == want
    assert lost(parse(text)) == 0


def test_table_row_stays_text_of_its_clause():
    text = SHAPES["cross-references at a paragraph start and table rows are never labels"][0]
    assert "走私罪" in own_text(text, "30.2")


def test_tabs_are_not_table_cells_in_headings_and_sentences():
    text = SHAPES["a tab between a heading label and its title; a tab inside a sentence"][0]
    res = parse(text)
    assert "|" not in res.text
    assert [c.title for c in res.roots if c.label == "第二章"] == ["管理"]


def test_paragraph_after_list_is_not_in_the_last_item():
    text = SHAPES["a paragraph after an item list is the next 款, never part of the last item"][0]
    assert own_text(text, "12.1.3") == "有独立的经营场所。"
    assert own_text(text, "12.2").startswith("前款所称经营场所")


def test_japanese_translation_of_a_law():
    text = (
        "第1条　この条例は、特許代理を規範化するために制定する。\n第2条　特許代理機構は、次に掲げる条件を備えなければならない。\n"
        "（1）規定に合致する名称を有すること。\n（2）書面による組合契約を有すること。\n前項にいう名称とは、登記された名称をいう。\n第3条　この条例は公布の日から施行する。\n"
    )
    assert tree(text, "ja") == [("1", "第1条"), ("2", "第2条"), ("2.1", ""), ("2.1.1", "（1）"), ("2.1.2", "（2）"), ("2.2", ""), ("3", "第3条")]


JA_LAW = (
    "第１条　この条例は、特許代理を規範化するために制定する。\n第２条　特許代理機構は、次に掲げる条件を備えなければならない。\n"
    "（１）規定に合致する名称を有すること。\n（２）書面による組合契約を有すること。\n（３）独立した経営場所を有すること。\n"
    "２　前項にいう名称とは、登記された名称をいう。\n３　前二項の規定は、支所に準用する。\n第３条　この条例は公布の日から施行する。\n"
)


@pytest.mark.parametrize(
    "text, want",
    [
        # JETRO's form: full-width number and an ideographic space; the first paragraph carries no number
        (JA_LAW, [("1", "第１条"), ("2", "第２条"), ("2.1", ""), ("2.1.1", "（１）"), ("2.1.2", "（２）"), ("2.1.3", "（３）"),
                  ("2.2", "２"), ("2.3", "３"), ("3", "第３条")]),
        # ASCII digits the same
        ("第1条　甲は、乙をする。\n2　前項の規定は、丙に準用する。\n", [("1", "第1条"), ("1.1", ""), ("1.2", "2")]),
        # a number that is not the next paragraph's is text of an unnumbered paragraph
        ("第1条　甲は、乙をする。\n５　年以内に報告する。\n", [("1", "第1条"), ("1.1", ""), ("1.2", "")]),
        # a digit and an ASCII space (PDF extraction) is not a paragraph number
        ("第1条　甲は、乙をする。\n8 つの重点地域を定める。\n", [("1", "第1条"), ("1.1", ""), ("1.2", "")]),
    ],
)
def test_japanese_paragraph_numbers(text, want):
    assert tree(text, "ja") == want
    assert lost(parse(text, "ja")) == 0


def test_japanese_paragraph_numbers_in_wrapped_pdf_text():
    # lines wrapped at the page width: a line that starts ２　 still starts the next paragraph
    text = ("第２条　特許代理機構は、次に掲げる条件を備えなければならず、その条件は国務\n"
            "院の特許行政部門が定めるところによるものとし、公告しなければならない\n"
            "２　前項にいう条件とは、名称、組合契約及び経営場所に関する条件をいうも\n"
            "のとし、その詳細は別に定めるところによるものとする。\n")
    res = parse_bytes(text.encode("utf-8"), doc_id="t.ja", lang="ja", format="text", extracted_from="pdf")
    clauses = {c.id.split("#")[1]: c for r in res.roots for c in r.walk()}
    assert clauses["2.2"].label == "２" and clauses["2.2"].text.startswith("前項にいう条件")
    assert clauses["2.1"].text.endswith("公告しなければならない")


@pytest.mark.parametrize(
    "citation, path",
    [("第2条第2項", "2.2"), ("第２条第３項", "2.3"), ("第2条第1項第3号", "2.1.3"), ("Article 2(2)", "2.2"),
     ("第二条第二款", "2.2")],
)
def test_japanese_paragraph_numbers_are_citable(tmp_path, citation, path):
    from policyidx.corpus import parse_document

    f = tmp_path / "law.ja.txt"
    f.write_text(JA_LAW, encoding="utf-8")
    doc = parse_document(f, doc_id="t.ja", lang="ja", title="特許代理条例")
    assert doc.cite(citation).id == f"t.ja#{path}"
    assert doc.clause(path).citation("ja") == "第" + path.split(".")[0] + "条第" + path.split(".")[1] + "項" + (
        f"第{path.split('.')[2]}号" if path.count(".") == 2 else "")


def test_one_hundred_thousand_chars_of_repeated_labels_get_unique_ids_in_order():
    res = parse("".join("一、内容。\n" for _ in range(3000)))
    ids = [c.id for r in res.roots for c in r.walk()]
    assert len(ids) == len(set(ids)) == 3000
    assert ids[:3] == ["t.zh#1", "t.zh#1~2", "t.zh#1~3"] and ids[-1] == "t.zh#1~3000"


@pytest.mark.parametrize(
    "text",
    [
        "\u200b\n第一条　内容。\n\u200b\n第二条　内容\u200b。\n",
        "第一条　\x00\x07内容\x1b。\n\ufffd\ufffd\n第二条　内容。\n",
        "\u2028\u2029\u200e\u200f\u2060\ufeff\n第一条　内容。\n",
        "",
        "\u200b",
    ],
)
def test_any_character_sequence_parses(text):
    from policyidx.parsers.text import parse_text

    res = parse_text(text, doc_id="t.zh", lang="zh")  # decoded text: control characters included
    assert lost(res) == 0


# --------------------------------------------------------------------------- front and back matter

LAW = (
    "中华人民共和国某某管理条例\n"
    "（2019年3月2日中华人民共和国国务院令第706号公布　根据2020年11月29日《国务院关于修改和废止部分行政法规的决定》修订）\n"
    "第一条　为了加强管理，制定本条例。\n第二条　本条例自2019年5月1日起施行。\n"
)
REALDOCS_STYLE = (
    "人民检察院某某规则\n2019年12月2日 最高人民检察院第十三届检察委员会第二十八次会议通过\n2019年12月30日 施行\n"
    "第一章 通 则\n第一条 为了规范办案，制定本规则。\n"
)
NOTICE = (
    "国家知识产权局办公室关于开展专利开放许可试点工作的通知\n国知办函运字〔2022〕448号\n各省、自治区、直辖市知识产权局，各有关单位：\n"
    "为贯彻落实《专利法》，现将有关事项通知如下：\n一、总体要求\n（一）指导思想。坚持市场导向。\n二、工作任务\n试点地方要加强组织领导。\n"
    "附件：1.专利开放许可试点工作方案\n2.试点地方名单\n国家知识产权局办公室\n二〇二二年五月十一日\n"
    "附件1\n专利开放许可试点工作方案\n一、试点范围\n全国各地。\n二、试点期限\n一年。\n附件2\n试点地方名单\n北京、上海。\n"
    "抄送：工业和信息化部办公厅，财政部办公厅。\n国家知识产权局办公室2022年5月12日印发\n"
)


def _parts(res) -> dict[str, str]:
    return {c.id.split("#", 1)[1]: c.text for r in res.roots for c in r.walk() if c.kind in ("front", "back", "attachment")}


def test_law_title_apart_from_the_record_with_typed_dates():
    res = parse(LAW)
    assert res.parsed_title == "中华人民共和国某某管理条例"
    parts = _parts(res)
    assert parts["0.2"] == "中华人民共和国某某管理条例" and parts["0.4"].startswith("（2019年3月2日")
    assert res.dates == {"promulgated": "2019-03-02", "amended": "2020-11-29"}
    assert res.order_number == "中华人民共和国国务院令第706号"
    assert [(e.kind, e.date) for e in res.record] == [("promulgated", "2019-03-02"), ("amended", "2020-11-29")]


def test_record_lines_without_brackets():
    res = parse(REALDOCS_STYLE)
    assert res.parsed_title == "人民检察院某某规则"
    assert res.dates == {"adopted": "2019-12-02", "effective": "2019-12-30"}
    assert res.record[0].by == "最高人民检察院第十三届检察委员会第二十八次会议"
    assert tree(REALDOCS_STYLE) == [("1", "第一章"), ("1.1", "第一条")]


@pytest.mark.parametrize(
    "text, title",
    [
        # a court case: its parts' headings (基本案情, 典型意义) are not its title
        ("劳动者拒绝违法超时加班安排，用人单位能否解除劳动合同\n基本案情\n张某于2019年入职某公司。公司要求加班，张某拒绝。\n"
         "裁判结果\n法院判决公司支付赔偿金。\n典型意义\n本案明确了劳动者拒绝违法超时加班的权利。\n",
         "劳动者拒绝违法超时加班安排，用人单位能否解除劳动合同"),
        # a case whose long title stands over the case name and a heading
        ("消费者明知其所购买的食品不符合食品安全标准的，可要求食品销售者或者生产者十倍赔偿\n孙某诉某超市买卖合同纠纷案\n关键词\n"
         "民事、买卖合同、食品安全。\n裁判要点\n消费者购买到不符合食品安全标准的食品，可以要求赔偿。\n",
         "消费者明知其所购买的食品不符合食品安全标准的，可要求食品销售者或者生产者十倍赔偿"),
        # a title broken over lines: after the issuer, before 若干 / 和
        ("最高人民法院\n关于审理森林资源民事纠纷案件适用法律\n若干问题的解释\n法释〔2022〕16号\n为妥善审理案件，制定本解释。\n第一条　人民法院依法审理。\n",
         "最高人民法院关于审理森林资源民事纠纷案件适用法律若干问题的解释"),
        ("中华人民共和国地方各级人民代表大会\n和地方各级人民政府组织法\n1979年7月1日第五届全国人民代表大会第二次会议通过\n第一条　本法依据宪法制定。\n",
         "中华人民共和国地方各级人民代表大会和地方各级人民政府组织法"),
        # a title printed twice (a page heading over the text's own) is one title
        ("中华人民共和国某某法\n中华人民共和国某某法\n2006年8月27日第十届全国人民代表大会常务委员会第二十三次会议通过\n第一条　为了规范管理，制定本法。\n",
         "中华人民共和国某某法"),
    ],
)
def test_titles_of_cases_and_broken_titles(text, title):
    res = parse(text)
    assert res.parsed_title == title
    assert lost(res) == 0


@pytest.mark.parametrize(
    "line, lang, want",
    [
        ("各省、自治区、直辖市人民政府：", "zh", ["各省、自治区、直辖市人民政府"]),
        ("各省、自治区、直辖市人民政府，国务院各部委、各直属机构：", "zh", ["各省、自治区、直辖市人民政府", "国务院各部委、各直属机构"]),
        ("工业和信息化部、财政部：", "zh", ["工业和信息化部", "财政部"]),
        ("各省、自治区、直辖市知识产权局，各有关单位：", "zh", ["各省、自治区、直辖市知识产权局", "各有关单位"]),
        ("各省、自治区、直辖市及新疆生产建设兵团知识产权管理部门、工业和信息化主管部门：", "zh",
         ["各省、自治区、直辖市及新疆生产建设兵团知识产权管理部门", "工业和信息化主管部门"]),
        ("各区县人民政府；市政府各委、办、局：", "zh", ["各区县人民政府", "市政府各委、办、局"]),
        ("中関村各分園管理委員会、各関係組織 御中", "ja", ["中関村各分園管理委員会", "各関係組織"]),
        ("各省・自治区・直轄市の知識産権局、各地方の関係センター：", "ja", ["各省・自治区・直轄市の知識産権局", "各地方の関係センター"]),
        ("：", "zh", []),
    ],
)
def test_addressees_split_at_the_top_level_separator(line, lang, want):
    from policyidx.parsers.matter import split_addressees

    assert split_addressees(line, lang) == want


def test_addressee_line_cut_from_the_body_after_a_document_number():
    # text from a PDF, wrapped at the page width: the addressee line lost its colon and runs on
    text = ("关于印发《某某产业创新发展行动方案》的通知，请各单位认真贯彻落实执行\n某部〔2023〕48号\n"
            "各省、自治区、直辖市工业和信息化主管部门，有关部属单位，有关行业协会\n"
            "现将《某某产业创新发展行动方案》印发给你们，请结合实际认真贯彻落实\n到位。\n")
    res = parse_bytes(text.encode("utf-8"), doc_id="t.zh", lang="zh", format="text", extracted_from="pdf")
    parts = _parts(res)
    assert parts["0.6"] == "各省、自治区、直辖市工业和信息化主管部门，有关部属单位，有关行业协会"
    assert res.addressees == ["各省、自治区、直辖市工业和信息化主管部门", "有关部属单位", "有关行业协会"]
    assert parts["0.3"].startswith("现将")
    assert lost(res) == 0


def test_notice_front_and_back_matter_are_their_own_parts():
    res = parse(NOTICE)
    parts = _parts(res)
    assert parts["0.2"] == "国家知识产权局办公室关于开展专利开放许可试点工作的通知"
    assert parts["0.5"] == "国知办函运字〔2022〕448号"
    assert parts["0.6"] == "各省、自治区、直辖市知识产权局，各有关单位："
    assert parts["0.3"] == "为贯彻落实《专利法》，现将有关事项通知如下："
    assert parts["back.9"] == "附件：1.专利开放许可试点工作方案\n2.试点地方名单"
    assert parts["back.7"] == "国家知识产权局办公室"
    assert parts["back.8"] == "二〇二二年五月十一日"
    assert parts["back.10"].startswith("抄送") and parts["back.11"].endswith("印发")
    # the last clause keeps only its own text; attachments are subtrees of their own
    assert own_text(NOTICE, "2") == "工作任务\n试点地方要加强组织领导。"
    assert ("att1.1", "一、") in tree(NOTICE) and ("att1.2", "二、") in tree(NOTICE)
    assert res.doc_number == "国知办函运字〔2022〕448号"
    assert res.dates["signed"] == "2022-05-11" and res.issuers == ["国家知识产权局办公室"]
    assert res.attachments == ["专利开放许可试点工作方案", "试点地方名单"]
    assert res.cc == ["工业和信息化部办公厅", "财政部办公厅"]
    assert lost(res) == 0


# --------------------------------------------------------------------------- Corpus.load never stops


def _corpus_dir(tmp_path, files: dict[str, bytes]):
    lines = ['[[work]]\nid = "w"\n']
    for k, (name, data) in enumerate(files.items()):
        (tmp_path / name).write_bytes(data)
        lines.append(f'[[document]]\nid = "{"w.zh" if k == 0 else f"w-{k}.zh"}"\nwork = "w"\nlang = "zh"\nrole = "{"original" if k == 0 else "interpretation"}"\n'
                     f'title = "专利代理条例"\nfile = "{name}"\nformat = "text"\n')
    (tmp_path / "catalog.toml").write_text("\n".join(lines), encoding="utf-8")
    return tmp_path


def test_a_binary_document_is_skipped_and_named(tmp_path):
    root = _corpus_dir(tmp_path, {"good.txt": LAW.encode("utf-8"), "bad.txt": bytes(range(256)) * 64})
    corpus = Corpus.load(root)
    assert [d.id for d in corpus] == ["w.zh"]
    assert len(corpus.skipped) == 1 and corpus.skipped[0].file.endswith("bad.txt")
    with pytest.raises(ParseError, match="bad.txt"):
        Corpus.load(root, strict=True)


def test_an_unreadable_document_is_skipped_and_reported(tmp_path, monkeypatch):
    import policyidx.corpus as corpus_mod

    root = _corpus_dir(tmp_path, {"good.txt": LAW.encode("utf-8"), "bad.txt": LAW.encode("utf-8")})
    real = corpus_mod._parse_entry

    def flaky(entry, catalog):
        if entry.file.name == "bad.txt":
            raise ParseError(f"{entry.file}: cannot be decoded as text")
        return real(entry, catalog)

    monkeypatch.setattr(corpus_mod, "_parse_entry", flaky)
    corpus = Corpus.load(root)
    assert len(corpus) == 1
    assert [s.id for s in corpus.skipped] == ["w-1.zh"]
    assert corpus.skipped[0].file.endswith("bad.txt") and "cannot be decoded" in corpus.skipped[0].reason
    with pytest.raises(ParseError, match="bad.txt"):
        Corpus.load(root, strict=True)


# --------------------------------------------------------------------------- citations

CITED = (
    "专利代理条例\n第一章　总则\n第一条　为了规范专利代理行为，制定本条例。\n第二章　专利代理机构\n"
    "第十二条　专利代理机构应当具备下列条件：\n（一）有符合规定的名称；\n（二）有书面合伙协议。\n"
    "合伙企业形式的专利代理机构应当具备下列条件：\n（一）有符合规定的名称；\n（二）有书面合伙协议；\n（三）有独立的经营场所。\n"
    "第十二条之一　本条为新增条文。\n第十三条　本条例自公布之日起施行。\n"
)


@pytest.fixture(scope="module")
def cited_doc(tmp_path_factory):
    from policyidx.corpus import parse_document

    p = tmp_path_factory.mktemp("cite") / "reg.txt"
    p.write_text(CITED, encoding="utf-8")
    return parse_document(p, doc_id="reg.zh", lang="zh", title="专利代理条例")


@pytest.mark.parametrize(
    "citation, cid",
    [
        ("第十二条第二款第（三）项", "reg.zh#2.12.2.3"),
        ("第12条第2項第3号", "reg.zh#2.12.2.3"),
        ("Article 12(2)(iii)", "reg.zh#2.12.2.3"),
        ("Art. 12, paragraph 2, item 3", "reg.zh#2.12.2.3"),
        ("第十二條第二款第（三）項", "reg.zh#2.12.2.3"),
        ("第十二条第二款", "reg.zh#2.12.2"),
        ("第十二条第（二）项", "reg.zh#2.12.1.2"),
        ("第十二条", "reg.zh#2.12"),
        ("第12条", "reg.zh#2.12"),
        ("第十二条之一", "reg.zh#2.12-1"),
        ("第12条の1", "reg.zh#2.12-1"),
        ("第一条第一款", "reg.zh#1.1"),
        ("第二章", "reg.zh#2"),
    ],
)
def test_cite(cited_doc, citation, cid):
    assert cited_doc.cite(citation).id == cid


@pytest.mark.parametrize(
    "cid, zh, ja, en",
    [
        ("2.12.2.3", "第十二条第二款第（三）项", "第12条第2項第3号", "Article 12(2)(iii)"),
        ("2.12.2", "第十二条第二款", "第12条第2項", "Article 12(2)"),
        ("2.12", "第十二条", "第12条", "Article 12"),
        ("2.12-1", "第十二条之一", "第12条の1", "Article 12-1"),
        ("1.1", "第一条", "第1条", "Article 1"),
    ],
)
def test_every_clause_renders_its_citation(cited_doc, cid, zh, ja, en):
    c = cited_doc.clause(cid)
    assert (c.citation("zh"), c.citation("ja"), c.citation("en")) == (zh, ja, en)
    assert cited_doc.cite(c.citation("zh")) is c and cited_doc.cite(c.citation("ja")) is c


def test_article_by_number_in_a_law_with_chapters(cited_doc):
    assert cited_doc.clause("12").id == "reg.zh#2.12"
    assert cited_doc.article(12, 1).label == "第十二条之一"


@pytest.mark.parametrize("bad, err", [("第九十九条", NotFoundError), ("第十二条第五款", NotFoundError), ("hello", QueryError),
                                      ("第十二条第（九）项", NotFoundError)])
def test_cite_errors(cited_doc, bad, err):
    with pytest.raises(err):
        cited_doc.cite(bad)


def test_corpus_cite_by_title(cited_doc):
    corpus = Corpus(cited_doc.source_path, catalog=None, documents={cited_doc.id: cited_doc})  # type: ignore[arg-type]
    assert corpus.cite("专利代理条例第十二条第二款第（三）项").id == "reg.zh#2.12.2.3"
    assert corpus.cite("《专利代理条例》第12条").id == "reg.zh#2.12"
    with pytest.raises(NotFoundError):
        corpus.cite("商标法第十二条")


def test_cli_show_takes_a_citation_and_strict_names_the_file(tmp_path, capsys):
    from policyidx.cli.main import main

    root = _corpus_dir(tmp_path, {"good.txt": CITED.encode("utf-8"), "bad.txt": bytes(range(256)) * 64})
    assert main(["show", "专利代理条例第十二条第二款", "--corpus", str(root), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"id": "w.zh#2.12.2"' in out and '"citation": "第十二条第二款"' in out
    assert main(["show", "w.zh#第12条第2項第3号", "--corpus", str(root), "--json"]) == 0
    assert '"id": "w.zh#2.12.2.3"' in capsys.readouterr().out
    assert main(["show", "w.zh#2.12", "--corpus", str(root), "--strict"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.txt" in err[0]
    # --strict is a parameter of that one command: nothing is left behind for the next one
    assert main(["show", "w.zh#2.12", "--corpus", str(root), "--json"]) == 0
    capsys.readouterr()


def test_strict_reaches_the_index_through_the_corpus(tmp_path, capsys, monkeypatch):
    from policyidx.cli.main import main

    monkeypatch.setenv("POLICYIDX_STRICT", "1")  # not read: strictness is only a parameter
    root = _corpus_dir(tmp_path, {"good.txt": CITED.encode("utf-8"), "bad.txt": bytes(range(256)) * 64})
    assert len(Corpus.load(root)) == 1
    idx = str(tmp_path / "idx")
    assert main(["build", "--corpus", str(root), "--index", idx, "--json", "--strict"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.txt" in err[0]
    assert main(["build", "--corpus", str(root), "--index", idx, "--json"]) == 0
    capsys.readouterr()
    assert main(["search", "专利代理机构", "--corpus", str(root), "--index", idx, "--json", "--strict"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.txt" in err[0]
    assert main(["search", "专利代理机构", "--corpus", str(root), "--index", idx, "--json"]) == 0
