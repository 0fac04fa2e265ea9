"""The memory-mapped term dictionary (policyidx.text.termtable)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from policyidx.text.termtable import TermTable, has_table


def _terms(n: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    alphabet = "知识产权专利法第条款项abcXYZ０１２ー的に\ud800"
    out: set[str] = {"", " ", "a", "知"}
    while len(out) < n:
        out.add("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))))
    return sorted(out)


@pytest.mark.parametrize("n", [0, 1, 7, 3000])
def test_lookups_agree_with_a_dict(tmp_path, n: int) -> None:
    terms = _terms(n)[:n] if n else []
    expected = {t: i for i, t in enumerate(terms)}
    built = TermTable.from_terms(terms)
    built.save(tmp_path, "vocab")
    assert has_table(tmp_path, "vocab") and not has_table(tmp_path, "other")
    for mmap in (True, False):
        table = TermTable.load(tmp_path, "vocab", mmap=mmap)
        for t in (built, table):
            assert len(t) == n
            assert all(t.get(k) == i for k, i in expected.items())
            assert all(t.term(i) == k for k, i in expected.items())
            assert t.terms() == terms and list(t) == terms
            for missing in ("不在", "zz", "知识产权专利法第条款项x"):
                if missing not in expected:
                    assert missing not in t and t.get(missing, -1) == -1
                    with pytest.raises(KeyError):
                        t[missing]
            assert t.get(3) is None  # not a string: never a term


def test_colliding_slots_probe_past_each_other() -> None:
    # many terms in a small table: most share a home slot with another term
    terms = [str(i) for i in range(5000)]
    table = TermTable.from_terms(terms)
    assert [table[t] for t in terms] == list(range(5000))
    slots = np.asarray(table._slots)
    assert (slots >= 0).sum() == 5000 and len(slots) >= 10000


def test_repeated_terms_are_refused() -> None:
    with pytest.raises(ValueError, match="distinct"):
        TermTable.from_terms(["a", "b", "a"])


def test_damaged_files_name_the_file(tmp_path) -> None:
    TermTable.from_terms(["a", "bc"]).save(tmp_path, "vocab")
    np.save(tmp_path / "vocab.offsets.npy", np.array([0, 1, 9], dtype=np.int64))
    with pytest.raises(ValueError, match="vocab"):
        TermTable.load(tmp_path, "vocab")
    np.save(tmp_path / "vocab.slots.npy", np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="vocab.slots.npy"):
        TermTable.load(tmp_path, "vocab")


def test_a_loaded_keyword_index_answers_batches_alike(tmp_path) -> None:
    from policyidx.retrieval.keyword import _DICT_FROM, BM25Index

    rng = random.Random(5)
    words = [f"w{i}" for i in range(300)]
    docs = [[rng.choice(words) for _ in range(rng.randint(3, 12))] for _ in range(400)]
    built = BM25Index.build(docs, k1=0.9, b=0.3)
    built.save(tmp_path / "kw")
    loaded = BM25Index.load(tmp_path / "kw")
    assert isinstance(loaded.term_ids, TermTable)
    queries = [[rng.choice(words) for _ in range(4)] + ["absent"] for _ in range(_DICT_FROM + 6)]
    few = loaded.search_many(queries[:3])
    assert isinstance(loaded.term_ids, TermTable)  # a short batch keeps the mapped table
    many = loaded.search_many(queries)
    assert isinstance(loaded.term_ids, dict) and loaded.vocab == built.vocab
    for (r1, s1), (r2, s2) in zip(many, built.search_many(queries)):
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(s1, s2)
    for (r1, _), (r2, _) in zip(few, many):
        np.testing.assert_array_equal(r1, r2)
    loaded.save(tmp_path / "again")  # the table is still what is saved
    assert TermTable.load(tmp_path / "again", "vocab").terms() == built.vocab


def test_indexes_saved_before_the_term_table_still_open(tmp_path) -> None:
    """A keyword index or builtin encoder written with a JSON vocabulary (before the term
    table) opens and answers alike."""
    import json

    from policyidx.retrieval.encoders import BuiltinEncoder
    from policyidx.retrieval.keyword import BM25Index

    docs = [["专利", "许可"], ["开放", "许可", "试点"], ["专利", "质押"]] * 3
    kw = BM25Index.build(docs)
    kw.save(tmp_path / "kw")
    for suffix in ("terms", "offsets", "slots"):
        (tmp_path / "kw" / f"vocab.{suffix}.npy").unlink()
    (tmp_path / "kw" / "vocab.json").write_text(json.dumps(kw.vocab, ensure_ascii=False), encoding="utf-8")
    old = BM25Index.load(tmp_path / "kw")
    assert isinstance(old.term_ids, dict) and old.vocab == kw.vocab
    for q in (["专利"], ["许可", "试点"]):
        np.testing.assert_array_equal(old.search(q)[0], kw.search(q)[0])

    texts = ["专利开放许可试点", "知识产权质押融资", "開放許諾の試行", "专利质押登记"] * 5
    enc = BuiltinEncoder.fit(texts, dim=4, seed=0)
    enc.save(tmp_path / "enc")
    table = TermTable.load(tmp_path / "enc", "vocabulary")
    for suffix in ("terms", "offsets", "slots"):
        (tmp_path / "enc" / f"vocabulary.{suffix}.npy").unlink()
    (tmp_path / "enc" / "vocabulary.json").write_text(json.dumps(table.terms(), ensure_ascii=False), encoding="utf-8")
    np.testing.assert_array_equal(BuiltinEncoder.load(tmp_path / "enc").encode(texts[:4]), enc.encode(texts[:4]))


def test_remembered_lookups_stay_right_and_bounded(monkeypatch) -> None:
    """Lookups are remembered per table up to a bound; a remembered answer, present or absent,
    is the table's own, and the default still applies to a remembered absence."""
    import policyidx.text.termtable as tt

    monkeypatch.setattr(tt, "_MEMO_MAX", 50)
    terms = _terms(300)
    table = TermTable.from_terms(terms)
    asked = terms[:120] + [t + "※" for t in terms[:120]]
    for _ in range(2):  # the second round reads the remembered answers
        for i, t in enumerate(terms[:120]):
            assert table.get(t) == i and t in table
        for t in asked[120:]:
            assert table.get(t) is None and table.get(t, -1) == -1 and t not in table
    assert len(table._memo) == 50
    assert table.get(3) is None  # not a string: never looked up or remembered
