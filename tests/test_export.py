"""Exports of an alignment: TSV, TMX (read back with a small lxml reader), HTML, terminal, JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from lxml import etree

from policyidx.alignment import Alignment, ClausePair, SentencePair, align
from policyidx.corpus import parse_document
from policyidx.export import (
    TSV_COLUMNS,
    ExportError,
    ExportWarning,
    clause_anchor,
    to_xlsx,
    alignment_records,
    display_width,
    render_terminal,
    to_html,
    to_tmx,
    to_tsv,
)
from policyidx.model import Clause, Document, Sentence

FIXTURES = Path(__file__).resolve().parent / "fixtures"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture(scope="module")
def docs(corpus) -> tuple[Document, Document]:
    zh = parse_document(FIXTURES / "zh" / "zgc-2019-ipap.zh.txt", doc_id="zgc-2019-ipap.zh", lang="zh", role="original")
    return zh, corpus["zgc-2019-ipap.ja"]


@pytest.fixture(scope="module")
def alignment(docs) -> Alignment:
    return align(*docs)


def _texts(doc: Document) -> dict[str, str]:
    return {s.id: s.text for c in doc.clauses for s in c.sentences}


def _squash(text: str) -> str:
    return "".join(text.split())


def read_tmx(path: Path) -> tuple[dict[str, str], list[dict[str, dict[str, object]]]]:
    """A minimal TMX reader: header attributes and, per <tu>, {lang: {seg, props}}."""
    tree = etree.parse(str(path))
    root = tree.getroot()
    assert root.tag == "tmx" and root.get("version") == "1.4"
    header = dict(root.find("header").attrib)
    units = []
    for tu in root.find("body").iterfind("tu"):
        unit: dict[str, dict[str, object]] = {}
        for tuv in tu.iterfind("tuv"):
            props = {p.get("type"): p.text for p in tuv.iterfind("prop")}
            unit[tuv.get(XML_LANG)] = {"seg": tuv.findtext("seg"), "props": props}
        units.append(unit)
    return header, units


def test_tmx_round_trip(tmp_path, docs, alignment):
    zh, ja = docs
    path = to_tmx(alignment, zh, ja, tmp_path / "out.tmx")
    header, units = read_tmx(path)
    for attr, value in {
        "creationtool": "policyidx",
        "datatype": "plaintext",
        "segtype": "sentence",
        "adminlang": "en",
        "srclang": "zh-CN",
        "o-tmf": "policyidx",
    }.items():
        assert header[attr] == value
    assert header["creationtoolversion"]
    expected = [sp for sp in alignment.sentence_pairs() if sp.src and sp.tgt]
    assert len(units) == len(expected) > 90
    zt, jt = _texts(zh), _texts(ja)
    for unit, sp in zip(units, expected):
        assert set(unit) == {"zh-CN", "ja-JP"}
        assert unit["zh-CN"]["seg"] == _squash("".join(zt[s] for s in sp.src))
        assert unit["ja-JP"]["seg"] == _squash("".join(jt[s] for s in sp.tgt))
        assert unit["zh-CN"]["props"]["x-doc-id"] == zh.id
        assert unit["ja-JP"]["props"]["x-doc-id"] == ja.id
        assert unit["zh-CN"]["props"]["x-sentence-id"].split() == list(sp.src)
        assert unit["zh-CN"]["props"]["x-clause-id"].split() == list(dict.fromkeys(s.rsplit("/", 1)[0] for s in sp.src))
        assert unit["ja-JP"]["props"]["x-clause-id"].split() == list(dict.fromkeys(s.rsplit("/", 1)[0] for s in sp.tgt))


def test_tmx_skips_one_to_nothing(tmp_path, docs, alignment):
    _, units = read_tmx(to_tmx(alignment, *docs, tmp_path / "o.tmx"))
    segs = {u["zh-CN"]["seg"] for u in units}
    assert not any("加强监督和考核工作" in s for s in segs)  # 四（五） has no translation


def test_tsv_columns(tmp_path, docs, alignment):
    path = to_tsv(alignment, *docs, tmp_path / "out.tsv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfsrc_text\t")  # UTF-8 BOM for Excel
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    assert tuple(rows[0]) == TSV_COLUMNS
    body = rows[1:]
    assert len(body) == len(alignment.sentence_pairs())
    assert all(len(r) == len(TSV_COLUMNS) for r in body)
    renumbered = next(r for r in body if r[3] == "zgc-2019-ipap.zh#3.4.15")
    assert renumbered[4] == "zgc-2019-ipap.ja#3.4.14"
    missing = [r for r in body if r[3] == "zgc-2019-ipap.zh#4.5"]
    assert len(missing) == 3 and all(r[1] == "" and r[4] == "" for r in missing)
    assert all(0.0 <= float(r[2]) <= 1.0 for r in body)
    aligned_only = to_tsv(alignment, *docs, tmp_path / "aligned.tsv", unaligned=False)
    with aligned_only.open(encoding="utf-8-sig", newline="") as fh:
        kept = list(csv.reader(fh, delimiter="\t"))[1:]
    assert len(kept) == sum(1 for sp in alignment.sentence_pairs() if sp.src and sp.tgt)
    assert all(r[0] and r[1] for r in kept)


def test_html_has_every_clause_and_marks_differences(tmp_path, docs, alignment):
    zh, ja = docs
    page = to_html(alignment, zh, ja, tmp_path / "out.html").read_text("utf-8")
    for doc in docs:
        for clause in doc.clauses:
            assert clause.id in page
    assert "renumbered" in page and "no counterpart" in page
    assert "<script" not in page and "http" not in page.split("</style>")[0]
    assert page.count("<tr") == 1 + len(alignment.pairs) + len(alignment.sentence_pairs())


def _tiny_pair(text_a: str, text_b: str) -> tuple[Document, Document]:
    docs = []
    for doc_id, lang, text in (("t.zh", "zh", text_a), ("t.ja", "ja", text_b)):
        cid = f"{doc_id}#1"
        sent = Sentence(id=f"{cid}/1", clause=cid, start=0, end=len(text), text=text)
        clause = Clause(id=cid, doc=doc_id, path=(1,), label="1.", title=None, text=text, start=0, end=len(text),
                        label_start=0, kind="section", lang=lang, sentences=(sent,))
        docs.append(Document(id=doc_id, work="t", lang=lang, role="original", title="<t>", text=text, roots=[clause]))
    return docs[0], docs[1]


@pytest.mark.parametrize(
    "text_a, text_b, escaped",
    [
        ("专利<script>alert(1)</script>导航。", "専利ナビゲーション<b>。", "专利&lt;script&gt;alert(1)&lt;/script&gt;导航。"),
        ("A&B公司实施“专精特新”计划。", "A&B社が「専精特新」計画を実施する。", "A&amp;B社が「専精特新」計画を実施する。"),
    ],
)
def test_html_escapes_text(tmp_path, text_a, text_b, escaped):
    a, b = _tiny_pair(text_a, text_b)
    al = Alignment(a.id, b.id, [ClausePair((f"{a.id}#1",), (f"{b.id}#1",), 0.5, "structure",
                                           [SentencePair((f"{a.id}#1/1",), (f"{b.id}#1/1",), 0.5)])])
    page = to_html(al, a, b, tmp_path / "p.html").read_text("utf-8")
    assert "<script>alert" not in page and "<b>。" not in page
    assert escaped in page


@pytest.mark.parametrize(
    "text, width",
    [("专利导航", 8), ("専利ナビゲーション", 18), ("PCT专利", 7), ("ＩＳＯ", 6), ("ISO 56005", 9)],
)
def test_display_width(text, width):
    assert display_width(text) == width


@pytest.mark.parametrize("width", [40, 60, 100])
def test_terminal_lines_fit_the_width(docs, alignment, width):
    out = render_terminal(alignment, *docs, width=width)
    lines = out.splitlines()
    assert all(display_width(line) <= width for line in lines), max(lines, key=display_width)
    assert "3.4.15 ↔ 3.4.14" in out and "[renumbered]" in out
    assert "4.5 ↔ —" in out and "[no counterpart]" in out
    # the left column, read top to bottom, holds the source sentences unbroken
    left = "".join(line.split("│")[0].strip() for line in lines if "│" in line)
    for sentence in docs[0].clause("3.2.6").sentences:
        assert _squash(sentence.text) in left


def test_alignment_records(docs, alignment):
    records = alignment_records(alignment, *docs)
    assert len(records) == len(alignment.pairs)
    json.dumps(records, ensure_ascii=False)
    by_src = {tuple(r["src"]): r for r in records}
    rec = by_src[("zgc-2019-ipap.zh#3.4.15",)]
    assert rec["tgt"] == ["zgc-2019-ipap.ja#3.4.14"] and rec["method"] == "content" and rec["kind"] == "renumbered"
    assert rec["sentences"][0]["src"] == ["促进知识产权服务业国际化。"]
    assert all({"src", "tgt", "score", "method", "sentences"} <= set(r) for r in records)
    assert any(r["tgt"] == [] for r in records) and any(r["src"] == [] or r["tgt"] == [] for r in records)


def test_export_refuses_other_documents(tmp_path, docs, alignment):
    zh, ja = docs
    with pytest.raises(ExportError):
        to_tsv(alignment, ja, zh, tmp_path / "x.tsv")
    with pytest.raises(ExportError):
        to_tmx(alignment, zh, ja, tmp_path / "missing-dir" / "x.tmx")


# --------------------------------------------------------------------------- issue 13/14 additions


def _tiny_alignment(a: Document, b: Document) -> Alignment:
    return Alignment(a.id, b.id, [ClausePair((f"{a.id}#1",), (f"{b.id}#1",), 0.5, "structure",
                                             [SentencePair((f"{a.id}#1/1",), (f"{b.id}#1/1",), 0.5)])])


def test_html_has_language_per_column_and_clause_anchors(tmp_path, docs, alignment):
    zh, ja = docs
    page = to_html(alignment, zh, ja, tmp_path / "out.html").read_text("utf-8")
    assert '<td lang="zh-Hans">' in page and '<td lang="ja">' in page
    assert ":lang(ja){font-family:\"Noto Sans CJK JP\"" in page
    for doc in docs:
        for clause in doc.clauses:
            assert f'id="{clause_anchor(clause.id)}"' in page
    # a clause title is shown once: in its sentence row, not again in the heading row
    title = ja.clause("zgc-2019-ipap.ja#3.2.6").title
    assert title and page.count(title) == 1


def test_formula_cells_are_quoted_in_tsv_and_xlsx(tmp_path):
    pytest.importorskip("openpyxl")
    from openpyxl import load_workbook

    a, b = _tiny_pair("=HYPERLINK(\"http://x\")", "@SUM(A1)")
    al = _tiny_alignment(a, b)
    with to_tsv(al, a, b, tmp_path / "f.tsv").open(encoding="utf-8-sig", newline="") as fh:
        row = list(csv.reader(fh, delimiter="\t"))[1]
    assert row[0] == "'=HYPERLINK(\"http://x\")" and row[1] == "'@SUM(A1)"
    ws = load_workbook(to_xlsx(al, a, b, tmp_path / "f.xlsx")).active
    assert [c.value for c in ws[1]] == list(TSV_COLUMNS)
    assert ws["A2"].data_type == "s" and ws["A2"].value == "'=HYPERLINK(\"http://x\")"
    assert ws["B2"].value == "'@SUM(A1)"


def test_xml_illegal_characters_are_replaced_and_reported(tmp_path):
    a, b = _tiny_pair("专利\x01导航\x08。", "専利\ufffeナビ。")
    al = _tiny_alignment(a, b)
    with pytest.warns(ExportWarning, match=r"3 character\(s\).*t\.zh#1/1"):
        path = to_tmx(al, a, b, tmp_path / "x.tmx")
    _, units = read_tmx(path)
    assert units[0]["zh-CN"]["seg"] == "专利\ufffd导航\ufffd。"
    assert units[0]["ja-JP"]["seg"] == "専利\ufffdナビ。"
    with pytest.warns(ExportWarning):
        page = to_html(al, a, b, tmp_path / "x.html").read_text("utf-8")
    assert "\x01" not in page and "专利\ufffd导航" in page
    pytest.importorskip("openpyxl")
    with pytest.warns(ExportWarning):
        to_xlsx(al, a, b, tmp_path / "x.xlsx")


def test_enumeration_labels_stay_in_exported_sentences(tmp_path):
    docs = []
    for doc_id, lang, label, body in (("e.zh", "zh", "一是", "突出需求导向。"), ("e.ja", "ja", "1つ目は", "需要志向を際立たせる。")):
        text = label + body
        cid = f"{doc_id}#1"
        sent = Sentence(id=f"{cid}/1", clause=cid, start=len(label), end=len(text), text=body)
        clause = Clause(id=cid, doc=doc_id, path=(1,), label=label, title=None, text=body, start=len(label), end=len(text),
                        label_start=0, kind="enum", lang=lang, sentences=(sent,))
        docs.append(Document(id=doc_id, work="e", lang=lang, role="original", title="e", text=text, roots=[clause]))
    a, b = docs
    _, units = read_tmx(to_tmx(_tiny_alignment(a, b), a, b, tmp_path / "e.tmx"))
    assert units[0]["zh-CN"]["seg"] == "一是突出需求导向。"
    assert units[0]["ja-JP"]["seg"] == "1つ目は需要志向を際立たせる。"
