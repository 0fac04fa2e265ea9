"""The real-corpus query sets (eval/real/): well-formed, and every gold text stands in its document.

Reads ../shared/realdocs (or $POLICYIDX_REALDOCS); skipped when it is absent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import load_script

ROOT = Path(__file__).resolve().parent.parent
SETS = sorted((ROOT / "eval" / "real").glob("real-*.jsonl"))


def _realcorpus():
    return load_script(ROOT / "benchmarks" / "realcorpus.py", "realcorpus")


def _queries() -> list[dict]:
    return [json.loads(line) for p in SETS for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_sets_are_well_formed() -> None:
    qs = _queries()
    by_lang = {lang: [q for q in qs if q["lang"] == lang] for lang in ("zh", "en", "ja")}
    assert len(by_lang["zh"]) >= 80 and len(by_lang["en"]) >= 40 and len(by_lang["ja"]) >= 40
    needs: dict[str, tuple] = {}
    for q in qs:
        assert q["split"] in ("dev", "test") and q["gold"] and q["q"].strip()
        key = (q["split"], json.dumps(q["gold"], ensure_ascii=False))
        assert needs.setdefault(q["need"], key) == key, f"{q['need']}: languages disagree on gold or split"
    test_share = sum(1 for q in by_lang["zh"] if q["split"] == "test") / len(by_lang["zh"])
    assert 0.3 <= test_share <= 0.5


def test_ids_are_stable_and_valid() -> None:
    rc = _realcorpus()
    root = Path("/nonexistent-root")
    p = root / "zh" / "行政法规" / "专利代理条例(2018-11-06).md"
    d = rc.describe(p, root)
    assert d.id == d.work + ".zh" and d.title == "专利代理条例" and d.date == "2018-11-06"
    assert re.fullmatch(r"xzfg-20181106-[0-9a-f]{8}", d.work)
    assert rc.describe(root / "zh" / "刑法" / "刑法修正案.md", root).work.startswith("xf-nodate-")


def test_gold_text_is_in_its_document() -> None:
    rc = _realcorpus()
    root = rc.realdocs_root()
    if root is None:
        pytest.skip("../shared/realdocs is not here")
    from policyidx.corpus import parse_document

    docs = {d.id: d for d in rc.select(2000, root)}
    gold = {(d, g) for q in _queries() for d, g in q["gold"]}
    squash = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    parsed = {}
    for doc_id, text in sorted(gold):
        assert doc_id in docs, f"{doc_id} is not in the 2,000-document subset"
        if doc_id not in parsed:
            d = docs[doc_id]
            parsed[doc_id] = [squash(c.text) for c in parse_document(d.path, doc_id=doc_id, lang="zh").clauses]
        assert any(squash(text) in t for t in parsed[doc_id]), f"{doc_id}: no clause contains {text!r}"
