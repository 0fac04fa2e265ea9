"""``policyidx eval``: the evaluation table per set, language, split and mode, and its errors."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from policyidx.cli import main
from policyidx.evaluate import evaluate, format_table, load_queries

ROOT = Path(__file__).resolve().parent.parent


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def queries(tmp_path_factory) -> Path:
    """A small set with a dev and a test split, one query whose gold cannot be found."""
    p = tmp_path_factory.mktemp("q") / "mini.jsonl"
    rows = [
        {"q": "专利开放许可试点", "lang": "zh", "split": "dev", "gold": [["cnipa-2022-448.ja", "試行"]]},
        {"q": "段階的な無料許諾", "lang": "ja", "split": "test", "gold": [["cnipa-2022-448.ja", "段階的な無料許諾"]]},
        {"q": "专利开放许可", "lang": "zh", "split": "test", "gold": [["cnipa-2022-448.ja", "この文はどこにもない"]]},
    ]
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return p


def test_eval_json_groups_by_set_language_split_and_mode(built_index, queries) -> None:
    code, out, err = _run(["eval", str(queries), "--index", str(built_index.path), "--mode", "keyword", "--json"])
    assert code == 0, err
    res = json.loads(out)
    groups = {(g["set"], g["lang"], g["split"], g["mode"]): g for g in res["groups"]}
    assert set(groups) == {("mini", "zh", "dev", "keyword"), ("mini", "ja", "test", "keyword"), ("mini", "zh", "test", "keyword")}
    assert groups[("mini", "zh", "test", "keyword")]["hit@5"] == 0.0  # the gold text is in no clause
    assert groups[("mini", "ja", "test", "keyword")]["hit@5"] == 1.0
    for g in res["groups"]:
        assert 0.0 <= g["hit@1"] <= g["hit@5"] <= 1.0 and g["hit@1"] <= g["mrr@10"] <= 1.0
    assert res["modes"]["keyword"]["all"]["n"] == 3


def test_eval_split_filter_and_text_table(built_index, queries) -> None:
    code, out, _ = _run(["eval", str(queries), "--index", str(built_index.path), "--mode", "keyword", "--mode", "dense",
                         "--split", "test"])
    assert code == 0
    assert "2 queries" in out and "keyword" in out and "dense" in out
    assert " dev " not in out and "test" in out


def test_eval_errors_are_one_line(built_index, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": "x", "gold": [["a", "b"]]}\nnot json\n', encoding="utf-8")
    code, _, err = _run(["eval", str(bad), "--index", str(built_index.path)])
    assert code == 2 and f"{bad}:2" in err and len(err.strip().splitlines()) == 1
    code, _, err = _run(["eval", str(tmp_path / "missing.jsonl"), "--index", str(built_index.path)])
    assert code == 2 and "missing.jsonl" in err and len(err.strip().splitlines()) == 1


def test_bundled_sets_have_no_split_and_report_as_one_group(built_index) -> None:
    qs = load_queries([ROOT / "eval" / "queries-zh.jsonl"])
    res = evaluate(built_index, qs[:5], ["keyword"])
    assert [(g["set"], g["split"]) for g in res["groups"]] == [("queries-zh", "-")]
    table = format_table(res)
    assert "queries-zh" in table and "(all sets)" in table


LAW = """某市养犬管理条例

第一章 总则

第一条 为了规范养犬行为，制定本条例。

第二章 管理

第二条 养犬人应当遵守下列规定：
（一）携犬出户时为犬只佩戴犬牌；
（二）及时清除犬只排泄物；
（三）不得携犬进入菜市场。

第三条 违反本条例第二条规定的，由公安机关给予警告。
"""


@pytest.fixture(scope="module")
def law_index(tmp_path_factory):
    from policyidx import Index
    from policyidx.adhoc import write_catalog

    root = tmp_path_factory.mktemp("law")
    (root / "dogs.txt").write_text(LAW, encoding="utf-8")
    write_catalog(root)
    return Index.build(root, root / "index")


def test_article_match_counts_the_enclosing_article_and_its_items_only(law_index) -> None:
    """Issue 12's hit: "the gold article or one of its items".  Gold in an item accepts its
    article (not the chapter, not a sibling item); gold in an article accepts its items."""
    from policyidx.evaluate import article_ids

    doc = law_index.docs[0]["id"]
    ids = {law_index.record(r)["citation"]: law_index.row_id(r) for r in range(len(law_index.rows))}
    item, article, sibling = ids["第二条第（二）项"], ids["第二条"], ids["第二条第（三）项"]
    got = article_ids(law_index, [[doc, "及时清除犬只排泄物"]])
    assert article in got and sibling not in got and ids["第二章"] not in got and item not in got
    got = article_ids(law_index, [[doc, "养犬人应当遵守下列规定"]])
    assert {ids["第二条第（一）项"], item, sibling} <= got and ids["第三条"] not in got
    assert article_ids(law_index, [["no-such-doc", "养犬人"]]) == frozenset()


def test_eval_match_article_scores_an_article_hit(law_index, tmp_path: Path) -> None:
    doc = law_index.docs[0]["id"]
    q = tmp_path / "q.jsonl"
    q.write_text(json.dumps({"q": "养犬人应当遵守的规定", "lang": "zh", "gold": [[doc, "不得携犬进入菜市场"]]},
                            ensure_ascii=False) + "\n", encoding="utf-8")
    queries = load_queries([q])
    hits = law_index.search(queries[0]["q"], k=5, mode="keyword")
    assert hits[0].citation == "第二条"  # the lead-in answers the question; the item holds the gold text
    text = evaluate(law_index, queries, ["keyword"], match="text")["modes"]["keyword"]["all"]
    art = evaluate(law_index, queries, ["keyword"], match="article")["modes"]["keyword"]["all"]
    assert art["hit@1"] == 1.0 and text["hit@1"] < 1.0
    code, out, err = _run(["eval", str(q), "--index", str(law_index.path), "--corpus", str(law_index.path.parent),
                           "--mode", "keyword", "--match", "article"])
    assert code == 0, err
    assert "enclosing article" in out


def test_paired_hits_count_the_needs_the_chinese_query_answers() -> None:
    from policyidx.evaluate import paired_hits

    ranks = [("n1", "zh", 1), ("n2", "zh", 4), ("n3", "zh", 9), ("n4", "zh", None),
             ("n1", "en", 2), ("n2", "en", None), ("n3", "en", 1), ("n5", "en", 1),
             ("n1", "ja", 7), ("n4", "ja", 1)]
    got = paired_hits(ranks)
    # en: n1 and n2 are answered in Chinese; n1 is found in English, n2 not; n3 (Chinese rank 9)
    # and n5 (no Chinese query) do not count
    assert got["en"] == {"needs": 3, "pivot_answered": 2, "hit@5": 0.5}
    assert got["ja"] == {"needs": 2, "pivot_answered": 1, "hit@5": 0.0}
    assert paired_hits([("n1", "ja", 1)]) == {}
    assert paired_hits([("n1", "zh", None), ("n1", "en", 1)])["en"]["hit@5"] is None


def test_eval_prints_the_paired_figure_for_queries_that_name_their_need(built_index, tmp_path: Path) -> None:
    p = tmp_path / "pair.jsonl"
    rows = [
        {"q": "专利开放许可试点", "lang": "zh", "need": "p1", "gold": [["cnipa-2022-448.ja", "試行"]]},
        {"q": "開放許諾の試行", "lang": "ja", "need": "p1", "gold": [["cnipa-2022-448.ja", "試行"]]},
    ]
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    code, out, err = _run(["eval", str(p), "--index", str(built_index.path), "--mode", "keyword", "--json"])
    assert code == 0, err
    paired = json.loads(out)["paired"]["keyword"]["ja"]
    assert paired["needs"] == 1 and paired["pivot_answered"] in (0, 1)
    code, out, _ = _run(["eval", str(p), "--index", str(built_index.path), "--mode", "keyword"])
    assert "where the Chinese query of the need is answered" in out
