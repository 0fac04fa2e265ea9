"""Highlighting from the tokens stored at build time: the same highlights and snippets as
segmenting each hit again, and the stored tokens are those of the clauses."""

from __future__ import annotations

import time

import numpy as np

from policyidx.index.highlight import TokenStore, _merge, clause_tokens, highlight, make_snippet, write_tokens
from policyidx.text.analysis import tokenize
from policyidx.text.han import unify

QUERIES = ["专利", "知识产权质押融资", "中小企業", "专利导航 金融服务", "担保融資", "patent", "支援する",
           "优先审查"]


def _reference(text, lang, exp):
    """Highlighting as it was specified before tokens were stored: segment, then match each
    token against every query word, the plain way."""
    words = {t for t in exp.terms if not t.startswith("#")}
    spans, present = [], set()
    for tok in tokenize(text, lang):
        if tok.norm in words:
            spans.append((tok.start, tok.end))
            present.add(tok.norm)
        elif len(tok.norm) > 2:
            for w in [w for w in words if len(w) >= 2]:
                at = tok.norm.find(w)
                if at >= 0 and len(tok.norm) == tok.end - tok.start:
                    spans.append((tok.start + at, tok.start + at + len(w)))
                    present.add(w)
    bigrams = {t[1:] for t in exp.terms if t.startswith("#")}
    if bigrams and not spans:
        u = unify(text)
        spans += [(i, i + 2) for i in range(len(u) - 1) if u[i: i + 2] in bigrams]
    u_text = unify(text).lower()
    matched = [r for r, ts in exp.rendering_terms.items()
               if unify(r).lower() in u_text
               or ([t for t in ts if not t.startswith("#")] and all(t in present for t in ts if not t.startswith("#")))]
    return _merge(spans), matched


def test_stored_tokens_are_the_clauses_tokens(built_index):
    store = built_index.rows.token_store
    assert store is not None, "the index build stores the clauses' tokens"
    n = len(built_index)
    for row in range(0, n, max(1, n // 50)):
        rec = built_index.record(row)
        assert store.tokens(row) == clause_tokens(rec["text"], rec["lang"])


def test_hits_highlighted_as_by_segmenting_again(built_index):
    seen = 0
    for q in QUERIES:
        for mode in ("keyword", "hybrid"):
            with built_index.analyzer.active():
                exp = built_index.analyze_query(q)
            for h in built_index.search(q, k=10, mode=mode):
                spans, matched = highlight(h.text, h.lang, exp)  # segments the text again
                assert h.highlights == spans and h.expansions == matched, (q, h.id)
                assert (spans, matched) == _reference(h.text, h.lang, exp), (q, h.id)
                snippet, s0 = make_snippet(h.text, spans, lang=h.lang)
                assert (h.snippet, h.snippet_start) == (snippet, s0), (q, h.id)
                seen += bool(spans)
    assert seen > 10


def test_highlighting_a_page_is_a_lookup(built_index):
    """Not a timing target (benchmarks measure that): stored tokens make a page of hits cheaper
    to highlight than segmenting them again."""
    hits = built_index.search("知识产权质押融资", k=10, mode="keyword")
    with built_index.analyzer.active():
        exp = built_index.analyze_query("知识产权质押融资")
    rows = [built_index.rows.row_of_id[h.id] for h in hits]
    recs = [built_index.record(r) for r in rows]

    def page(stored: bool) -> float:
        t0 = time.perf_counter()
        for r, rec in zip(rows, recs):
            toks = built_index.rows.tokens(r) if stored else None
            spans, _ = highlight(rec["text"], rec["lang"], exp, toks)
            make_snippet(rec["text"], spans, lang=rec["lang"], tokens=toks)
        return time.perf_counter() - t0

    page(True), page(False)
    assert min(page(True) for _ in range(5)) < min(page(False) for _ in range(5))


def test_write_tokens_forked_equals_serial(tmp_path):
    texts = ["第一条 为了规范个人信息处理活动，制定本法。", "専利密集型製品の登録認定を推進する", "", "Patent licences, 2024.",
             "知识产权质押融资"] * 7
    langs = ["zh", "ja", "zh", "en", "zh"] * 7
    n1 = write_tokens(tmp_path / "one", texts, langs, workers=1)
    n2 = write_tokens(tmp_path / "two", texts, langs, workers=2)
    assert n1 == n2 > 0
    one, two = TokenStore(tmp_path / "one", len(texts)), TokenStore(tmp_path / "two", len(texts))
    for i, (t, lang) in enumerate(zip(texts, langs)):
        assert one.tokens(i) == two.tokens(i) == clause_tokens(t, lang)
    assert not [p for p in (tmp_path / "one").iterdir() if p.is_dir()], "no scratch left behind"


def test_missing_or_damaged_tokens_mean_segmenting_again(tmp_path):
    texts, langs = ["知识产权质押融资", "专利导航"], ["zh", "zh"]
    write_tokens(tmp_path, texts, langs)
    assert TokenStore.open(tmp_path, 3) is None  # another number of rows
    assert TokenStore.open(tmp_path, 2) is not None
    norm = np.load(tmp_path / "tokens.norm.npy")
    norm[0] = 10**6
    np.save(tmp_path / "tokens.norm.npy", norm)
    assert TokenStore.open(tmp_path, 2).tokens(0) is None
    (tmp_path / "tokens.end.npy").unlink()
    assert TokenStore.open(tmp_path, 2) is None
