"""The hits' confidence (policyidx.index.facade.confidence), the off-topic query sets
(eval/real/offtopic-*.jsonl) and the script that measures the confidence on them
(eval/real/confidence.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from policyidx.index import facade
from policyidx.index.facade import CONFIDENT, confidence, confidence_lead, lead_depth

from conftest import load_script

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "eval" / "real"
LANGS = ("zh", "en", "ja")

GOOD = dict(keyword_score=8.0, best_attainable=10.0, dense_score=0.8, coverage=1.0, hit_coverage=0.9, lead=0.6)


@pytest.mark.parametrize("lang", LANGS)
def test_confidence_is_a_probability_rising_with_each_sign_of_an_answer(lang):
    base = confidence(**GOOD, lang=lang)
    assert 0.0 < base < 1.0
    for key, worse in (("keyword_score", 2.0), ("coverage", 0.3), ("hit_coverage", 0.3), ("lead", 0.0)):
        w = confidence(**{**GOOD, key: worse}, lang=lang)
        assert 0.0 <= w < base, (key, w, base)
    # nothing known of the query, nothing found: far below the threshold
    assert confidence(None, 0.0, None, coverage=0.0, hit_coverage=0.0, lead=0.0, lang=lang) < CONFIDENT / 2
    # out-of-range inputs are clipped, not propagated
    assert 0.0 <= confidence(50.0, 1.0, 3.0, coverage=7.0, hit_coverage=2.0, lead=9.0, lang=lang) <= 1.0


def test_confidence_of_an_unknown_language_uses_the_chinese_model():
    assert confidence(**GOOD, lang="fr") == confidence(**GOOD, lang="zh") == confidence(**GOOD)


def test_a_peaked_ranking_is_more_confident_than_a_flat_one():
    flat, peaked = [10.0, 9.9, 9.8, 9.8, 9.7], [10.0, 3.0, 2.0, 2.0, 1.0]
    assert confidence_lead(flat, 0) < 0.05 and confidence_lead(peaked, 0) == pytest.approx(0.8)
    assert confidence_lead(peaked, 4) is None and confidence_lead([0.0, 0.0], 0) is None
    assert confidence_lead([5.0, 4.0], 0) == pytest.approx(0.2)  # fewer than four below: those there are
    a = confidence(**{**GOOD, "lead": confidence_lead(flat, 0)})
    b = confidence(**{**GOOD, "lead": confidence_lead(peaked, 0)})
    assert a < b


def test_lead_depth_keeps_the_fusion_candidates():
    from policyidx.retrieval.retrievers import depth_for

    for k in (1, 5, 10, 16, 17, 40, 200):
        assert depth_for(lead_depth(k)) == depth_for(k)
    assert lead_depth(10) == 14


@pytest.fixture(scope="module")
def index(built_index):
    return built_index


def test_hits_carry_their_confidence_inputs_and_rankings_do_not_depend_on_k(index):
    for mode in ("hybrid", "keyword", "dense"):
        ten = index.search("专利开放许可 许可使用费", k=10, mode=mode)
        two = index.search("专利开放许可 许可使用费", k=2, mode=mode)
        assert [h.id for h in two] == [h.id for h in ten[:2]]
        for h in two:  # the last of two hits still has hits below it to lead
            assert h.confidence_inputs is not None and h.confidence_inputs["lead"] is not None
            assert h.confidence == pytest.approx(confidence(**h.confidence_inputs))
            assert h.confidence == pytest.approx(ten[h.rank - 1].confidence)
            assert "confidence_inputs" not in h.to_dict()
    top = index.search("专利开放许可 许可使用费", k=1, lang="zh")[0]  # a Chinese clause: its coverage is judged
    assert top.confident and top.confidence_inputs["lang"] == "zh" and top.confidence_inputs["hit_coverage"] > 0.5


# ----------------------------------------------------------------------------- the off-topic sets


def _offtopic() -> dict[str, list[dict]]:
    return {lang: [json.loads(x) for x in (REAL / f"offtopic-{lang}.jsonl").read_text(encoding="utf-8").splitlines()
                   if x.strip()] for lang in LANGS}


def test_offtopic_sets_have_no_gold_and_split_by_the_need_rule():
    sets = _offtopic()
    needs = {lang: {q["need"]: q for q in qs} for lang, qs in sets.items()}
    assert all(len(qs) >= 25 for qs in sets.values())
    assert needs["zh"].keys() == needs["en"].keys() == needs["ja"].keys()
    for lang, qs in sets.items():
        for q in qs:
            assert q["gold"] == [] and q["lang"] == lang and q["q"].strip()
            want = "test" if int(hashlib.sha1(q["need"].encode()).hexdigest()[:8], 16) % 10 < 4 else "dev"
            assert q["split"] == want
    splits = [q["split"] for q in sets["zh"]]
    assert splits.count("dev") >= 10 and splits.count("test") >= 10


def _script():
    return load_script(REAL / "confidence.py", "confidence_script")


def _row(lang, answerable, correct, **inputs):
    return {"q": "q", "lang": lang, "set": "s", "split": "dev", "answerable": answerable, "correct": correct,
            "inputs": {**GOOD, **inputs, "lang": lang}}


def test_confidence_script_figures_on_made_up_first_hits():
    mod = _script()
    rows = [_row("zh", True, True), _row("zh", True, True, lead=0.0, hit_coverage=0.1),
            _row("zh", True, False), _row("zh", False, False, coverage=0.2, keyword_score=1.0, dense_score=None),
            {**_row("zh", False, False), "inputs": None}]
    res = mod.figures(rows, threshold=confidence(**GOOD) - 1e-9)
    zh = res["zh"]
    assert (zh["correct"]["n"], zh["wrong"]["n"], zh["offtopic"]["n"]) == (2, 1, 2)
    assert zh["recall"] == 0.5 and zh["precision"] == 0.5 and zh["false_alarms"] == 0.0 and zh["wrong_confident"] == 1.0
    assert res["all"] == zh
    assert "precision 0.5" in mod.format_figures(res, 0.5)


def test_confidence_script_fit_separates_right_from_wrong():
    mod = _script()
    rows = [_row("zh", True, True, lead=0.5 + i / 100) for i in range(20)] + \
           [_row("zh", True, False, lead=i / 100, hit_coverage=0.2) for i in range(20)]
    w = mod.fit(rows, steps=3000)["zh"]
    assert len(w) == 1 + len(facade.confidence_features(**{k: v for k, v in GOOD.items()}))
    assert w[5] > 0 and w[4] > 0  # more lead, more of the query covered: more likely right
