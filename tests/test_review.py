"""The review store: corrections recorded as operations, replayed on alignments, kept beside
the corpus across rebuilds, used by Index.alignment / counterparts and the exports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import etree

from policyidx.alignment import align
from policyidx.corpus import Corpus, bundled_corpus_path, parse_document
from policyidx.export import to_tmx, to_tsv
from policyidx.index import Index
from policyidx.review import REVIEW_FILE, ReviewError, ReviewOp, ReviewStore, review_status

FX = Path(__file__).resolve().parent / "fixtures"
ZH, JA = "zgc-2019-ipap.zh", "zgc-2019-ipap.ja"


@pytest.fixture(scope="module")
def docs(corpus):
    zh = parse_document(FX / "zh" / "zgc-2019-ipap.zh.txt", doc_id=ZH, lang="zh", role="original")
    return zh, corpus[JA]


@pytest.fixture(scope="module")
def auto(docs):
    return align(*docs)


def _check_complete(al, zh, ja):
    """Every clause and every sentence of both documents appears exactly once."""
    for doc, side in ((zh, "src"), (ja, "tgt")):
        clauses = [c for cp in al.pairs for c in getattr(cp, side)]
        assert sorted(clauses) == sorted(c.id for c in doc.clauses)
        sents = [s for cp in al.pairs for sp in cp.sentences for s in getattr(sp, side)]
        assert sorted(sents) == sorted(s.id for c in doc.clauses for s in c.sentences)


def _pair_of(al, cid):
    return al.counterpart(cid)


def test_relink_is_saved_and_replayed_by_a_new_store(tmp_path, docs, auto):
    zh, ja = docs
    assert _pair_of(auto, f"{ZH}#3.4.15").tgt == (f"{JA}#3.4.14",)
    store = ReviewStore(tmp_path / REVIEW_FILE)
    op = store.relink(auto, [f"{ZH}#3.4.15"], [f"{JA}#3.4.13"])
    assert op.seq == 1 and op.op == "link"
    again = ReviewStore(tmp_path / REVIEW_FILE)  # as after a restart
    al = again.apply(auto, zh, ja)
    cp = _pair_of(al, f"{ZH}#3.4.15")
    assert cp.tgt == (f"{JA}#3.4.13",) and review_status(al, cp) == "linked"
    # the clauses they were paired with before are now unpaired
    assert _pair_of(al, f"{JA}#3.4.14").src == ()
    assert _pair_of(al, f"{ZH}#3.4.13").tgt == ()
    assert cp.sentences and any(sp.src and sp.tgt for sp in cp.sentences)
    _check_complete(al, zh, ja)
    # the automatic alignment is untouched
    assert _pair_of(auto, f"{ZH}#3.4.15").tgt == (f"{JA}#3.4.14",)


def test_reject_confirm_join_split_and_undo(tmp_path, docs, auto):
    zh, ja = docs
    store = ReviewStore(tmp_path / "r.json")
    a, b = f"{ZH}#3.2.6", f"{JA}#3.2.6"
    store.reject(auto, [a], [b])
    al = store.apply(auto, zh, ja)
    assert _pair_of(al, a).tgt == () and _pair_of(al, b).src == ()
    assert review_status(al, _pair_of(al, a)) == "rejected"
    _check_complete(al, zh, ja)
    store.confirm(al, [a], [b])  # confirming a pair that no longer exists makes it again
    al = store.apply(auto, zh, ja)
    assert _pair_of(al, a).tgt == (b,) and review_status(al, _pair_of(al, a)) == "confirmed"
    store.join(al, [f"{ZH}#3.2.6", f"{ZH}#3.2.7"], [f"{JA}#3.2.6", f"{JA}#3.2.7"])
    al = store.apply(auto, zh, ja)
    joined = _pair_of(al, a)
    assert joined.src == (a, f"{ZH}#3.2.7") and joined.tgt == (b, f"{JA}#3.2.7")
    assert review_status(al, joined) == "joined"
    _check_complete(al, zh, ja)
    store.split(al, [a], [])
    al = store.apply(auto, zh, ja)
    assert _pair_of(al, a).tgt == (b,) and _pair_of(al, f"{ZH}#3.2.7").tgt == (f"{JA}#3.2.7",)
    _check_complete(al, zh, ja)
    assert [o.op for o in store.ops()] == ["reject", "confirm", "join", "split"]
    assert store.undo().op == "split"
    assert _pair_of(store.apply(auto, zh, ja), a).src == (a, f"{ZH}#3.2.7")
    store.undo(), store.undo(), store.undo()
    assert store.undo() is None and len(store) == 0
    assert [(cp.src, cp.tgt) for cp in store.apply(auto, zh, ja).pairs] == [(cp.src, cp.tgt) for cp in auto.pairs]


def test_operations_are_validated(tmp_path, docs, auto):
    store = ReviewStore(tmp_path / "r.json")
    with pytest.raises(ReviewError, match="not a clause"):
        store.relink(auto, [f"{ZH}#99"], [f"{JA}#3.2.6"])
    with pytest.raises(ReviewError, match="not a clause"):
        store.relink(auto, [f"{JA}#3.2.6"], [f"{ZH}#3.2.6"])  # sides swapped
    with pytest.raises(ReviewError, match="each side"):
        store.relink(auto, [f"{ZH}#3.2.6"], [])
    with pytest.raises(ReviewError, match="one pair"):
        store.split(auto, [f"{ZH}#3.2.6", f"{ZH}#3.2.7"], [])
    assert len(store) == 0 and not (tmp_path / "r.json").exists()


def test_an_operation_on_vanished_clauses_is_skipped_and_reported(tmp_path, docs, auto):
    zh, ja = docs
    path = tmp_path / "r.json"
    ops = [{"seq": 1, "op": "link", "src_doc": ZH, "tgt_doc": JA, "src": [f"{ZH}#9.9"], "tgt": [f"{JA}#3.2.6"]},
           {"seq": 2, "op": "reject", "src_doc": ZH, "tgt_doc": JA, "src": [f"{ZH}#3.2.7"], "tgt": []}]
    path.write_text(json.dumps({"format": "policyidx-review", "version": 1, "ops": ops}), encoding="utf-8")
    al = ReviewStore(path).apply(auto, zh, ja)
    review = al.params["review"]
    assert review["ops"] == [2]
    assert review["skipped"][0]["seq"] == 1 and "9.9" in review["skipped"][0]["reason"]
    assert _pair_of(al, f"{ZH}#3.2.7").tgt == ()


def test_operations_recorded_the_other_way_round_apply_mirrored(tmp_path, docs, auto):
    zh, ja = docs
    store = ReviewStore(tmp_path / "r.json")
    reverse = align(ja, zh)
    store.relink(reverse, [f"{JA}#3.4.13"], [f"{ZH}#3.4.15"])
    assert _pair_of(store.apply(auto, zh, ja), f"{ZH}#3.4.15").tgt == (f"{JA}#3.4.13",)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not readable JSON"),
    ('{"format": "other"}', "not a policyidx review file"),
    ('{"format": "policyidx-review", "version": 99, "ops": []}', "version"),
    ('{"format": "policyidx-review", "version": 1, "ops": [{"op": "explode"}]}', "malformed"),
])
def test_a_broken_review_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "r.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReviewError, match=message) as exc:
        ReviewStore(path)
    assert str(path) in str(exc.value)


def test_exports_carry_the_review(tmp_path, docs, auto):
    zh, ja = docs
    store = ReviewStore(tmp_path / "r.json")
    store.relink(auto, [f"{ZH}#3.4.15"], [f"{JA}#3.4.13"])
    al = store.apply(auto, zh, ja)
    root = etree.parse(str(to_tmx(al, zh, ja, tmp_path / "o.tmx"))).getroot()
    reviewed = [tu for tu in root.iter("tu") if tu.find("prop[@type='x-review']") is not None]
    assert reviewed and all(tu.findtext("prop[@type='x-review']") == "linked" for tu in reviewed)
    clause_ids = {p.text for tu in reviewed for p in tu.iter("prop") if p.get("type") == "x-clause-id"}
    assert clause_ids == {f"{ZH}#3.4.15", f"{JA}#3.4.13"}
    rows = to_tsv(al, zh, ja, tmp_path / "o.tsv").read_text("utf-8-sig").splitlines()
    linked = [r.split("\t") for r in rows[1:] if r.split("\t")[-1] == "linked"]
    assert linked and all(r[3] == f"{ZH}#3.4.15" for r in linked if r[3])


# --------------------------------------------------------------------------- through the Index


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("rc") / "corpus"
    shutil.copytree(bundled_corpus_path(), root)
    shutil.copy(FX / "zh" / "zgc-2019-ipap.zh.html", root / "zh" / "zgc-2019-ipap.zh.html")
    with open(root / "catalog.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[[document]]\nid = "{ZH}"\nwork = "zgc-2019-ipap"\nlang = "zh"\nrole = "original"\n'
                'title = "中关村国家自主创新示范区知识产权行动方案（2019-2021年）"\nfile = "zh/zgc-2019-ipap.zh.html"\nformat = "html"\n')
    return root


def test_index_counterparts_follow_the_review_across_rebuilds(tmp_path, corpus_root):
    corpus = Corpus.load(corpus_root)
    idx = Index.build(corpus, tmp_path / "idx")
    cid = f"{ZH}#3.4.15"
    first = idx.counterparts(cid, k=3)
    assert first[0].id == f"{JA}#3.4.14" and first[0].method == "alignment"
    auto = idx.alignment(ZH, JA)
    idx.review_store.relink(auto, [cid], [f"{JA}#3.4.13"])
    assert idx.review_store.path == corpus_root / REVIEW_FILE  # beside the corpus ...
    assert not list((tmp_path / "idx").rglob(REVIEW_FILE))  # ... never inside the index
    assert idx.counterparts(cid, k=3)[0].id == f"{JA}#3.4.13"
    assert idx.alignment(ZH, JA, reviewed=False).counterpart(cid).tgt == (f"{JA}#3.4.14",)
    # a rebuild (a new index directory, the stored alignments made again) keeps the correction
    rebuilt = Index.build(Corpus.load(corpus_root), tmp_path / "idx2")
    top = rebuilt.counterparts(cid, k=3)[0]
    assert top.id == f"{JA}#3.4.13" and top.method == "alignment"
    assert rebuilt.alignment(JA, ZH).counterpart(f"{JA}#3.4.13").tgt == (cid,)
    idx.review_store.undo()
    assert Index.open(tmp_path / "idx2", corpus=corpus_root).counterparts(cid, k=3)[0].id == f"{JA}#3.4.14"


def test_a_corrected_tsv_is_read_back(tmp_path, docs, auto):
    import csv

    zh, ja = docs
    path = to_tsv(auto, zh, ja, tmp_path / "review.tsv")
    text = path.read_text("utf-8-sig")
    rows = list(csv.reader(text.splitlines(), delimiter="\t"))
    for r in rows[1:]:
        if r[3] == f"{ZH}#3.4.15":
            r[4] = f"{JA}#3.4.13"  # re-link in the spreadsheet
        if r[3] == f"{ZH}#3.2.6":
            r[7] = "confirmed"
        if r[3] == f"{ZH}#3.2.7":
            r[7] = "Rejected"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, delimiter="\t", lineterminator="\n").writerows(rows)
    store = ReviewStore(tmp_path / "r.json")
    ops = store.import_tsv(path, auto, zh, ja)
    assert [(o.op, o.src) for o in ops] == [("confirm", (f"{ZH}#3.2.6",)), ("reject", (f"{ZH}#3.2.7",)),
                                            ("link", (f"{ZH}#3.4.15",))]
    al = store.apply(auto, zh, ja)
    assert al.counterpart(f"{ZH}#3.4.15").tgt == (f"{JA}#3.4.13",)
    assert review_status(al, al.counterpart(f"{ZH}#3.2.6")) == "confirmed"
    assert al.counterpart(f"{ZH}#3.2.7").tgt == ()
    # reading the same file again records nothing new
    assert store.import_tsv(path, auto, zh, ja) == []
    # a bad verdict or clause refuses the whole file and records nothing
    rows[5][7] = "maybe"
    bad = tmp_path / "bad.tsv"
    with bad.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter="\t", lineterminator="\n").writerows(rows)
    fresh = ReviewStore(tmp_path / "fresh.json")
    with pytest.raises(ReviewError, match=r"bad.tsv:6: unknown review verdict 'maybe'"):
        fresh.import_tsv(bad, auto, zh, ja)
    assert len(fresh) == 0 and not (tmp_path / "fresh.json").exists()


def test_undo_can_be_limited_to_one_document_pair(tmp_path, docs, auto):
    store = ReviewStore(tmp_path / "r.json")
    store.reject(auto, [f"{ZH}#3.2.6"], [f"{JA}#3.2.6"])
    other = ReviewOp(seq=2, op="reject", src_doc="a.zh", tgt_doc="a.ja", src=("a.zh#1",), tgt=(), time=0.0)
    rec = json.loads((tmp_path / "r.json").read_text("utf-8"))
    rec["ops"].append(other.to_dict())
    (tmp_path / "r.json").write_text(json.dumps(rec), encoding="utf-8")
    assert store.undo(JA, ZH).seq == 1  # either order names the pair
    assert store.undo(ZH, JA) is None
    assert [o.src_doc for o in store.ops()] == ["a.zh"]


def test_confirming_an_unpaired_clause(tmp_path, docs, auto):
    zh, ja = docs
    store = ReviewStore(tmp_path / "r.json")
    store.confirm(auto, [f"{ZH}#4.5"], [])  # unpaired in the automatic alignment: stays so, confirmed
    al = store.apply(auto, zh, ja)
    assert al.counterpart(f"{ZH}#4.5").tgt == () and review_status(al, al.counterpart(f"{ZH}#4.5")) == "confirmed"
    store.confirm(al, [f"{ZH}#3.2.6"], [])  # paired: "no counterpart" takes it out of its pair
    al = store.apply(auto, zh, ja)
    assert al.counterpart(f"{ZH}#3.2.6").tgt == () and al.counterpart(f"{JA}#3.2.6").src == ()
    _check_complete(al, zh, ja)


def test_two_processes_recording_at_once_lose_nothing(tmp_path, docs, auto):
    import multiprocessing

    path = tmp_path / "r.json"
    clauses = [cp for cp in auto.pairs if cp.src and cp.tgt][:24]

    def work(part: int) -> None:
        store = ReviewStore(path)
        for cp in clauses[part::2]:
            store.confirm(auto, cp.src, cp.tgt)

    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=work, args=(k,)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    ops = ReviewStore(path).ops()
    assert sorted(o.seq for o in ops) == list(range(1, len(clauses) + 1))
    assert {o.src for o in ops} == {cp.src for cp in clauses}


def test_sentence_beads_joined_split_and_rejected(tmp_path, docs, auto):
    from policyidx.review import bead_status

    zh, ja = docs
    store = ReviewStore(tmp_path / "r.json")
    cp = auto.counterpart(f"{ZH}#3.4.15")
    b1, b2 = cp.sentences[0], cp.sentences[1]
    assert b1.src and b1.tgt and b2.src and b2.tgt
    store.join_beads(auto, [b1.src[0], b2.src[0]], [])
    al = store.apply(auto, zh, ja)
    joined = al.counterpart(f"{ZH}#3.4.15").sentences[0]
    assert joined.src == b1.src + b2.src and joined.tgt == b1.tgt + b2.tgt
    assert bead_status(al, joined) == "joined"
    assert len(al.counterpart(f"{ZH}#3.4.15").sentences) == len(cp.sentences) - 1
    _check_complete(al, zh, ja)
    store.split_bead(al, [b1.src[0]], [])
    al = store.apply(auto, zh, ja)
    assert al.counterpart(f"{ZH}#3.4.15").sentences[:2] == [
        type(b1)(b1.src, b1.tgt, al.counterpart(f"{ZH}#3.4.15").sentences[0].score),
        type(b2)(b2.src, b2.tgt, al.counterpart(f"{ZH}#3.4.15").sentences[1].score)]
    store.reject_bead(al, [b2.src[0]], [])
    al = store.apply(auto, zh, ja)
    beads = al.counterpart(f"{ZH}#3.4.15").sentences
    assert (b2.src, ()) in [(sp.src, sp.tgt) for sp in beads] and ((), b2.tgt) in [(sp.src, sp.tgt) for sp in beads]
    _check_complete(al, zh, ja)
    # the TMX export leaves the rejected bead out and marks the others
    root = etree.parse(str(to_tmx(al, zh, ja, tmp_path / "b.tmx"))).getroot()
    ids = [p.text for tu in root.iter("tu") for p in tu.iter("prop") if p.get("type") == "x-sentence-id"]
    assert b2.src[0] not in ids and b1.src[0] in ids


def test_bead_operations_are_validated(tmp_path, docs, auto):
    store = ReviewStore(tmp_path / "r.json")
    a = auto.counterpart(f"{ZH}#3.4.15").sentences
    b = auto.counterpart(f"{ZH}#3.2.6").sentences
    with pytest.raises(ReviewError, match="same clause pair"):
        store.join_beads(auto, [a[0].src[0], b[0].src[0]], [])
    with pytest.raises(ReviewError, match="consecutive"):
        store.join_beads(auto, [a[0].src[0], a[2].src[0]], [])
    with pytest.raises(ReviewError, match="one bead"):
        store.split_bead(auto, [a[0].src[0], a[1].src[0]], [])
    with pytest.raises(ReviewError, match="not on that side"):
        store.reject_bead(auto, [], [a[0].src[0]])
    with pytest.raises(ReviewError, match="in no bead"):
        store.reject_bead(auto, [f"{ZH}#3.4.15/99"], [])
    assert len(store) == 0
