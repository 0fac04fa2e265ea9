"""Front matter and same-label headings in alignment: hand-written Chinese openings of two
bundled works (tests/fixtures/zh/<work>-opening.zh.txt) aligned with their JETRO translations,
against clause pairs written before aligning (tests/fixtures/align/openings.gold.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from policyidx.alignment import Alignment, align
from policyidx.corpus import parse_document
from policyidx.export import to_tmx, to_tsv
from policyidx.model import Document

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLD = json.loads((FIXTURES / "align" / "openings.gold.json").read_text(encoding="utf-8"))
WORKS = sorted(GOLD["works"])


def _opening(work: str, text: str | None = None, tmp_path: Path | None = None) -> Document:
    path = FIXTURES / "zh" / f"{work}-opening.zh.txt"
    if text is not None:
        assert tmp_path is not None
        path = tmp_path / path.name
        path.write_text(text, encoding="utf-8")
    return parse_document(path, doc_id=f"{work}.zh", lang="zh", role="original")


def _locate(doc: Document, sub: str) -> str:
    """The clause whose whitespace-free text contains ``sub`` (``=sub``: equals it)."""
    exact = sub.startswith("=")
    sub = sub.lstrip("=")
    hits = []
    for c in doc.clauses:
        if not c.sentences:
            continue
        text = re.sub(r"\s+", "", c.text)
        if (text == sub) if exact else (sub in text):
            hits.append(c.id)
    assert len(hits) == 1, f"{sub!r} in {doc.id}: {hits}"
    return hits[0]


@pytest.fixture(scope="module")
def aligned(corpus) -> dict[str, tuple[Document, Document, Alignment]]:
    out = {}
    for work in WORKS:
        zh, ja = _opening(work), corpus[f"{work}.ja"]
        out[work] = (zh, ja, align(zh, ja))
    return out


def _clause_links(al: Alignment) -> dict[tuple[str, str], str]:
    return {(s, t): cp.method for cp in al.pairs for s in cp.src for t in cp.tgt}


def test_opening_pairs_against_gold(aligned):
    found = expected = 0
    missing = []
    for work in WORKS:
        zh, ja, al = aligned[work]
        links = _clause_links(al)
        for z, j in GOLD["works"][work]:
            key = (_locate(zh, z), _locate(ja, j))
            expected += 1
            if key in links:
                found += 1
            else:
                missing.append(key)
    print(f"\nopening clause pairs: {found}/{expected} found")
    assert not missing, missing


@pytest.mark.parametrize("style", ["doc-number", "date", "signature", "addressees", "title", "preamble"])
def test_front_parts_pair_with_their_counterparts(aligned, style):
    zh, ja, al = aligned["cnipa-2022-38"]
    [a] = [c for c in zh.clauses if c.style == style]
    [b] = [c for c in ja.clauses if c.style == style]
    cp = al.counterpart(a.id)
    assert cp.src == (a.id,) and cp.tgt == (b.id,)
    # the sentences are linked too, so every export carries the part
    assert any(sp.src and sp.tgt for sp in cp.sentences)


def test_addressees_and_body_are_separate_segments(aligned):
    zh, ja, al = aligned["cnipa-2022-38"]
    for doc in (zh, ja):
        [addr] = [c for c in doc.clauses if c.style == "addressees"]
        assert len(addr.sentences) == 1 and addr.sentences[0].text.rstrip().endswith("：")
    links = {(s, t) for s, t in al.links()}
    assert any(s.startswith(f"{zh.id}#0.6/") and t.startswith(f"{ja.id}#0.6/") for s, t in links)


def test_same_label_heading_pairs_between_paired_neighbours(aligned):
    for work, (zh_id, ja_id) in {"cnipa-2022-38": ("#1", "#1"), "miit-2023-48": ("#3", "#3")}.items():
        zh, ja, al = aligned[work]
        cp = al.counterpart(zh.id + zh_id)
        assert cp.tgt == (ja.id + ja_id,) and cp.method == "label"
        # no word in common: the text gives no support, the label does
        assert cp.score < 0.1
        # the two headings form one sentence bead (exports carry it)
        assert [(len(s.src), len(s.tgt)) for s in cp.sentences][0] == (1, 1)
        # neighbours on both sides are paired by their text
        k = al.pairs.index(cp)
        assert al.pairs[k - 1].method in ("structure", "content") and al.pairs[k + 1].method in ("structure", "content")


def test_different_labels_never_pair(corpus, tmp_path):
    text = (FIXTURES / "zh" / "miit-2023-48-opening.zh.txt").read_text(encoding="utf-8")
    assert "三、重点任务" in text
    zh = _opening("miit-2023-48", text.replace("三、重点任务", "四、重点任务"), tmp_path)
    ja = corpus["miit-2023-48.ja"]
    al = align(zh, ja)
    [heading] = [c for c in zh.clauses if c.label == "四、"]
    assert al.counterpart(heading.id).tgt == ()
    assert al.counterpart(f"{ja.id}#3").src == ()
    assert not [cp for cp in al.pairs if cp.method == "label"]


def test_label_pairing_needs_paired_neighbours(corpus, tmp_path):
    # the heading is the last clause: no paired neighbour after it, so no pairing by label
    text = (FIXTURES / "zh" / "miit-2023-48-opening.zh.txt").read_text(encoding="utf-8")
    cut = text[: text.index("（一）强化重点产业")]
    zh = _opening("miit-2023-48", cut, tmp_path)
    al = align(zh, corpus["miit-2023-48.ja"])
    assert al.counterpart(f"{zh.id}#3").tgt == ()


def test_label_method_round_trips(aligned):
    al = aligned["miit-2023-48"][2]
    again = Alignment.from_json(al.to_json())
    assert [cp.method for cp in again.pairs] == [cp.method for cp in al.pairs]
    assert "label" in {cp.method for cp in again.pairs}


def test_exports_carry_front_matter_and_label_pairs(aligned, tmp_path):
    zh, ja, al = aligned["cnipa-2022-38"]
    tsv = to_tsv(al, zh, ja, tmp_path / "a.tsv").read_text(encoding="utf-8-sig")
    rows = [line.split("\t") for line in tsv.splitlines()[1:]]
    pairs = {(re.sub(r"\s+", "", r[0]), re.sub(r"\s+", "", r[1])) for r in rows}
    assert ("国知发运字〔2022〕38号", "国知発運字〔2022〕38号") in pairs
    assert ("2022年10月13日", "2022年10月13日") in pairs
    assert ("国家知识产权局工业和信息化部", "国家知識産権局工業信息化部") in pairs
    assert ("夯实源头根基", "知的財産権の創造レベルを高め、企業の革新能力を強化する") in pairs
    tmx = to_tmx(al, zh, ja, tmp_path / "a.tmx").read_text(encoding="utf-8")
    for seg in ("国知发运字〔2022〕38号", "国知発運字〔2022〕38号", "2022年10月13日", "夯实源头根基"):
        assert f"<seg>{seg}</seg>" in tmx


def test_label_keys_fold_width_and_numerals(corpus):
    from policyidx.alignment.aligner import _label_key

    zh = parse_document(FIXTURES / "zh" / "zgc-2019-ipap.zh.txt", doc_id="zgc-2019-ipap.zh", lang="zh", role="original")
    ja = corpus["cnipa-2022-38.ja"]
    full, half = zh.clause("3.4"), ja.clause("2.4")
    assert (full.label, half.label) == ("（四）", "(四)")
    assert _label_key(full) == _label_key(half)
    assert _label_key(zh.clause("3.3")) != _label_key(half)
    assert _label_key(zh.clause("0.2")) is None  # front matter carries no label
