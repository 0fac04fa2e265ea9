"""Tests of policyidx.text.glossary: the bundled zh/ja/en table and its loader."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from policyidx.errors import NotFoundError, PolicyIdxError, QueryError
from policyidx.text.glossary import DOMAINS, HEADER, Entry, Glossary, GlossaryError

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "src" / "policyidx" / "data" / "glossary.tsv"
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.load()


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


HEAD = "\t".join(HEADER) + "\n"


# --------------------------------------------------------------------------- bundled data


def test_bundled_loads_with_enough_entries(glossary: Glossary) -> None:
    assert len(glossary) >= 600
    assert len(glossary.entries) == len(glossary) == len(list(glossary))
    assert all(e.source == "builtin" for e in glossary)


def test_bundled_uses_every_domain(glossary: Glossary) -> None:
    counts = collections.Counter(e.domain for e in glossary)
    # "general" is the policy vocabulary of data/vocab.tsv, not part of the terminology glossary
    assert set(counts) == set(DOMAINS) - {"general"}
    # no domain is a token gesture
    assert min(counts.values()) >= 30, counts


def test_bundled_file_is_consistent_and_sorted() -> None:
    lines = BUNDLED.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == list(HEADER)
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(r) == 5 for r in rows)
    zhs = [r[0] for r in rows]
    assert len(zhs) == len(set(zhs)), [z for z, n in collections.Counter(zhs).items() if n > 1]
    for zh, ja, en, domain, _notes in rows:
        assert zh and domain in DOMAINS
        assert ja and all(t.strip() == t and t for t in ja.split("|")), zh
        assert en and all(t.strip() == t and t for t in en.split("|")), zh
    keys = [(r[3], r[0]) for r in rows]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    "zh, ja, en",
    [
        ("专利", "専利", "patent"),
        ("专利", "特許", "patent"),
        ("专精特新", "専精特新", "specialized and sophisticated"),
        ("知识产权局", "知識産権局", "IP office"),
        ("工业和信息化部", "工業信息化部", "MIIT"),
        ("工业和信息化部", "工業情報化部", "Ministry of Industry and Information Technology"),
        ("国家知识产权局", "国家知識産権局", "CNIPA"),
        ("知识产权", "知的財産権", "intellectual property"),
        ("许可", "ライセンス", "license"),
        ("开放许可", "開放許諾", "open license"),
        ("专利合作条约", "PCT", "PCT"),
        ("中小企业", "中小企業", "SME"),
        ("数据", "データ", "data"),
        ("品牌", "ブランド", "brand"),
        ("平台", "プラットフォーム", "platform"),
        ("专利导航", "専利ナビゲーション", "patent navigation"),
        ("创新", "イノベーション", "innovation"),
        ("机制", "メカニズム", "mechanism"),
        ("服务", "サービス", "service"),
        ("激励", "インセンティブ", "incentive"),
        ("对接", "マッチング", "matching"),
        ("专利布局", "専利ポートフォリオ", "patent portfolio"),
        ("产业集群", "産業クラスター", "industrial cluster"),
        ("试点", "パイロット", "pilot"),
        ("试点", "モデルケース", "pilot"),
        ("初创企业", "スタートアップ", "startup"),
        ("创业企业", "ベンチャー", "venture company"),
    ],
)
def test_bundled_has_expected_renderings(glossary: Glossary, zh: str, ja: str, en: str) -> None:
    entry = glossary[zh]
    assert ja in entry.ja
    assert en in entry.en


# --------------------------------------------------------------------------- Entry


def test_entry_terms_per_language(glossary: Glossary) -> None:
    e = glossary["专利"]
    assert e.terms("zh") == ("专利",)
    assert e.terms("ja") == e.ja and "専利" in e.ja
    assert e.terms("en") == e.en
    with pytest.raises(QueryError, match="unknown glossary language 'ko'"):
        e.terms("ko")


def test_getitem_unknown_raises_not_found(glossary: Glossary) -> None:
    with pytest.raises(NotFoundError, match="不存在的词"):
        glossary["不存在的词"]
    assert "专利" in glossary and "専利" not in glossary


def test_to_records_round_trips_through_json(glossary: Glossary) -> None:
    records = json.loads(json.dumps(glossary.to_records(), ensure_ascii=False))
    assert len(records) == len(glossary)
    rebuilt = [
        Entry(r["zh"], tuple(r["ja"]), tuple(r["en"]), r["domain"], r["notes"], r["source"]) for r in records
    ]
    assert rebuilt == list(glossary.entries)


# --------------------------------------------------------------------------- lookup


@pytest.mark.parametrize(
    "term, lang, zh",
    [
        ("专利", None, "专利"),
        ("専利", None, "专利"),  # JETRO's kanji loan
        ("專利", None, "专利"),  # Traditional, unified
        ("専利", "zh", "专利"),  # shinjitai unified to the Chinese term itself
        ("特許", "ja", "专利"),
        ("patent", "en", "专利"),
        ("PATENTS", None, "专利"),
        ("知識産権局", None, "知识产权局"),
        ("國家知識產權局", "zh", "国家知识产权局"),
        ("ＣＮＩＰＡ", None, "国家知识产权局"),  # full-width Latin
        ("cnipa", "en", "国家知识产权局"),
        ("工業信息化部", "ja", "工业和信息化部"),
        ("工業情報化部", "ja", "工业和信息化部"),
        ("miit", None, "工业和信息化部"),
        ("専精特新", None, "专精特新"),
        ("開放許諾", "ja", "开放许可"),
        ("専利開放許諾", None, "专利开放许可"),
        ("クロスライセンス", None, "交叉许可"),
        ("ライセンス使用料", "ja", "许可使用费"),
        ("担保融資", "ja", "质押融资"),
        ("知的財産権担保融資", None, "知识产权质押融资"),
        ("マドリッド制度", None, "马德里体系"),
        ("標準必須特許", None, "标准必要专利"),
        ("standard  essential patent", "en", "标准必要专利"),  # stray spaces
        ("SEP", None, "标准必要专利"),
        ("一帯一路", None, "一带一路"),
        ("海外進出", None, "走出去"),
        ("懲罰的賠償", None, "惩罚性赔偿"),
        ("行政裁決", None, "行政裁决"),
        ("小巨人", "zh", "小巨人"),
        ("第14次5か年計画", None, "十四五"),
        (" 意匠 ", None, "外观设计"),
    ],
)
def test_lookup_across_languages(glossary: Glossary, term: str, lang: str | None, zh: str) -> None:
    found = glossary.lookup(term, lang)
    assert zh in [e.zh for e in found]
    assert len({e.zh for e in found}) == len(found)


@pytest.mark.parametrize(
    "term, lang",
    [
        ("patent", "ja"),
        ("専利", "en"),
        ("特許", "zh"),
        ("専利権者の", None),  # only whole renderings match
        ("", None),
        ("   ", None),
        ("量子もつれ", None),
    ],
)
def test_lookup_misses(glossary: Glossary, term: str, lang: str | None) -> None:
    assert glossary.lookup(term, lang) == []


def test_lookup_returns_every_entry_sharing_a_rendering(glossary: Glossary) -> None:
    zhs = [e.zh for e in glossary.lookup("パテントトロール")]
    assert zhs == sorted(zhs, key=[e.zh for e in glossary].index)
    assert {"专利流氓", "非专利实施主体"} <= set(zhs)


def test_lookup_rejects_unknown_language(glossary: Glossary) -> None:
    with pytest.raises(QueryError, match="expected one of zh, ja, en"):
        glossary.lookup("专利", "jp")
    with pytest.raises(QueryError):
        glossary.find_in("专利", "zh-cn")


# --------------------------------------------------------------------------- find_in

# cnipa-2022-448.ja, section 三(一)1: the licensing information sheet.
JA_SENTENCE = (
    "専利権者は、許諾情報テーブルにおいて、本専利が専利独占的実施許諾または排他的実施許諾の"
    "有効期間内にないこと、専利権の有効維持を保証することなどを承諾しなければならない。"
)


def _corpus_text(name: str) -> str:
    raw = (CORPUS / name).read_text(encoding="utf-8")
    return "".join(line.strip() for line in raw.splitlines())


def test_find_in_real_japanese_sentence(glossary: Glossary) -> None:
    assert JA_SENTENCE in _corpus_text("ja/cnipa-2022-448.ja.txt")
    found = [(e.zh, r, s, t) for e, r, s, t in glossary.find_in(JA_SENTENCE, "ja")]
    # a span that renders two entries lists them in glossary order
    assert found == [
        ("专利权人", "専利権者", 0, 4),
        ("许可信息表", "許諾情報テーブル", 6, 14),
        ("专利", "専利", 20, 22),
        ("专利", "専利", 23, 25),
        ("独占实施许可", "独占的実施許諾", 25, 32),
        ("独占许可", "独占的実施許諾", 25, 32),
        ("排他实施许可", "排他的実施許諾", 35, 42),
        ("排他许可", "排他的実施許諾", 35, 42),
        ("专利权", "専利権", 54, 57),
    ]
    for _e, rendering, start, end in glossary.find_in(JA_SENTENCE, "ja"):
        assert JA_SENTENCE[start:end] == rendering


@pytest.mark.parametrize(
    "text, lang, expected",
    [
        # longest match wins over the terms nested in it
        ("推进专利开放许可试点工作", "zh", [("专利开放许可试点", 2, 10)]),
        ("专精特新小巨人企业", "zh", [("专精特新小巨人企业", 0, 9)]),
        # the compound beats 知识产权 and 质押融资 nested in it
        ("加强知识产权质押融资服务", "zh", [("知识产权质押融资", 2, 10), ("服务", 10, 12)]),
        # Han unification: Traditional text, Simplified glossary
        ("申請專利優先審查", "zh", [("专利优先审查", 2, 8)]),
        # offsets survive full-width Latin letters
        ("ＰＣＴに基づく専利出願", "ja", [("PCT专利申请", 0, 11)]),
        # English: case-insensitive, whole words only
        ("The CNIPA ship left; ip rights", "en", [("国家知识产权局", 4, 9), ("知识产权", 21, 23)]),
        ("SMEships and PCTs", "en", []),
        ("", None, []),
    ],
)
def test_find_in_spans(
    glossary: Glossary, text: str, lang: str | None, expected: list[tuple[str, int, int]]
) -> None:
    found = glossary.find_in(text, lang)
    spans = [(e.zh, s, t) for e, _r, s, t in found]
    # one span may carry several entries; compare the first entry of each span
    firsts: list[tuple[str, int, int]] = []
    for zh, s, t in spans:
        if not firsts or (firsts[-1][1], firsts[-1][2]) != (s, t):
            firsts.append((zh, s, t))
    assert [(s, t) for _z, s, t in firsts] == [(s, t) for _z, s, t in expected]
    for zh, s, t in expected:
        assert zh in [z for z, s2, t2 in spans if (s2, t2) == (s, t)]


def test_find_in_is_non_overlapping_and_ordered(glossary: Glossary) -> None:
    text = _corpus_text("ja/miit-2023-48.ja.txt")
    found = glossary.find_in(text, "ja")
    assert len(found) > 100
    last_end = 0
    last_span = (-1, -1)
    for _e, _r, start, end in found:
        if (start, end) == last_span:
            continue
        assert start >= last_end
        last_end, last_span = end, (start, end)
    zhs = {e.zh for e, *_ in found}
    assert {"知识产权", "专利导航", "交叉许可", "马德里体系", "开源社区"} <= zhs


def _tiny(*zhs: str) -> Glossary:
    return Glossary(Entry(zh, (zh,), (f"t{i}",), "finance") for i, zh in enumerate(zhs))


@pytest.mark.parametrize(
    "zhs, text, expected",
    [
        # equally long overlapping candidates: the leftmost wins
        (("质押融资", "融资服务"), "质押融资服务", [("质押融资", 0, 4)]),
        # longest first over the whole text, not leftmost first
        (("质押融资", "融资服务平台"), "质押融资服务平台", [("融资服务平台", 2, 8)]),
        # after a long match, a shorter one can still fill the remaining text
        (("质押融资", "融资服务平台", "知识产权"), "知识产权质押融资服务平台", [("知识产权", 0, 4), ("融资服务平台", 6, 12)]),
    ],
)
def test_find_in_selection_order(zhs: tuple[str, ...], text: str, expected: list[tuple[str, int, int]]) -> None:
    assert [(e.zh, s, t) for e, _r, s, t in _tiny(*zhs).find_in(text)] == expected


def test_constructor_keeps_first_position_of_repeated_zh() -> None:
    g = Glossary(
        [
            Entry("专利", ("専利",), ("patent",), "patents"),
            Entry("商标", ("商標",), ("trademark",), "trademarks"),
            Entry("专利", ("特許",), ("patent",), "patents", source="user.tsv"),
        ]
    )
    assert [e.zh for e in g] == ["专利", "商标"]
    assert g["专利"].ja == ("特許",)
    assert g.lookup("専利", "ja") == [] and [e.zh for e in g.lookup("専利")] == ["专利"]


def test_find_in_all_languages_on_mixed_text(glossary: Glossary) -> None:
    found = glossary.find_in("专利 / 専利 / patent", None)
    assert [(e.zh, s, t) for e, _r, s, t in found] == [("专利", 0, 2), ("专利", 5, 7), ("专利", 10, 16)]


# --------------------------------------------------------------------------- user files


def test_user_file_extends_and_overrides(tmp_path: Path) -> None:
    base = Glossary.load()
    user = _write(
        tmp_path,
        "house.tsv",
        HEAD
        + "专利\t専利|パテント権\tpatent|patent right\tpatents\thouse style\n"
        + "# comments and blank lines are allowed\n\n"
        + "揭榜挂帅\t掲榜掛帥|公募による研究責任者選定\topen competition mechanism\tprogrammes\n",
    )
    g = Glossary.load(extra=[user])
    assert len(g) == len(base) + 1
    patent = g["专利"]
    assert patent.ja == ("専利", "パテント権") and patent.source == str(user)
    # the override keeps the position of the entry it replaces; new entries come last
    assert [e.zh for e in g].index("专利") == [e.zh for e in base].index("专利")
    assert g.entries[-1].zh == "揭榜挂帅" and g.entries[-1].notes == ""
    assert [e.zh for e in g.lookup("公募による研究責任者選定")] == ["揭榜挂帅"]
    assert [e.zh for e in g.lookup("パテント権")] == ["专利"]
    assert g.lookup("特許", "ja") != [] and "专利" not in [e.zh for e in g.lookup("特許", "ja")]


def test_later_user_file_wins_and_path_replaces_builtin(tmp_path: Path) -> None:
    first = _write(tmp_path, "a.tsv", HEAD + "开源\tオープンソース\topen source\tdata\tfirst\n")
    second = _write(tmp_path, "b.tsv", HEAD + "开源\tオープンソース|OSS\topen source|FOSS\tdata\tsecond\n")
    g = Glossary.load(first, extra=(second,))
    assert len(g) == 1
    assert g["开源"].notes == "second" and g["开源"].en == ("open source", "FOSS")
    # a single path given as `extra` is one file, not a sequence of characters
    assert len(Glossary.load(first, extra=str(second))) == 1


@pytest.mark.parametrize(
    "content, line, problem",
    [
        ("专利\t専利\tpatent\tpatents\t\n", 1, "expected the header line"),
        ("", None, "empty file"),
        (HEAD + "专利\t専利\tpatent\n", 2, "found 3"),
        (HEAD + "专利\t専利\tpatent\tpatents\tnote\textra\n", 2, "found 6"),
        (HEAD + "专利\t専利\tpatent\tpatent-law\t\n", 2, "unknown domain 'patent-law'"),
        (HEAD + "专利\t専利||特許\tpatent\tpatents\t\n", 2, "empty term in column 'ja'"),
        (HEAD + "专利\t専利\t\tpatents\t\n", 2, "empty term in column 'en'"),
        (HEAD + "\t専利\tpatent\tpatents\t\n", 2, "empty term in column 'zh'"),
        (HEAD + "专利|发明\t専利\tpatent\tpatents\t\n", 2, "holds one term"),
        (
            HEAD + "专利\t専利\tpatent\tpatents\t\n" + "商标\t商標\ttrademark\ttrademarks\t\n" + "专利\t特許\tpatent\tpatents\t\n",
            4,
            "duplicate zh term '专利' (first on line 2)",
        ),
    ],
)
def test_malformed_user_file(tmp_path: Path, content: str, line: int | None, problem: str) -> None:
    bad = _write(tmp_path, "bad.tsv", content)
    with pytest.raises(GlossaryError) as info:
        Glossary.load(extra=[bad])
    msg = str(info.value)
    assert str(bad) in msg
    assert problem in msg
    if line is not None:
        assert f"line {line}:" in msg
    assert isinstance(info.value, PolicyIdxError)


def test_unreadable_user_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.tsv"
    with pytest.raises(GlossaryError, match="not found"):
        Glossary.load(extra=[missing])
    latin1 = _write(tmp_path, "latin1.tsv", (HEAD + "专利\t専利\tpatent\tpatents\t\n").encode("utf-8") + b"caf\xe9\n")
    with pytest.raises(GlossaryError, match=r"latin1\.tsv, line 3: not valid UTF-8"):
        Glossary.load(latin1)


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    p = _write(tmp_path, "win.tsv", ("\ufeff" + HEAD + "专利\t専利\tpatent\tpatents\n").replace("\n", "\r\n").encode("utf-8"))
    g = Glossary.load(p)
    assert [e.zh for e in g] == ["专利"] and g["专利"].ja == ("専利",)


def test_one_default_glossary_for_search_and_alignment() -> None:
    """Search and alignment take their glossary from one function: search with the general
    vocabulary, alignment with the terminology only."""
    from policyidx.alignment.aligner import _resolve_glossary
    from policyidx.retrieval import expand
    from policyidx.text.glossary import default_glossary

    search, terminology = default_glossary(), default_glossary(general=False)
    assert expand.default_glossary is default_glossary and default_glossary() is search
    assert _resolve_glossary(None) is terminology
    assert any(e.domain == "general" for e in search)
    assert not any(e.domain == "general" for e in terminology)
    assert {e.zh for e in terminology} <= {e.zh for e in search}


def test_folded_index_is_built_per_first_character() -> None:
    dom = DOMAINS[0]
    g = Glossary([Entry(zh="专利", ja=("專利", "特許"), en=("patent",), domain=dom),
                  Entry(zh="專利權", ja=("専利権",), en=("patent right",), domain=dom),
                  Entry(zh="许可", ja=("許諾",), en=("licence",), domain=dom)])
    found = g.find_in("専利権と專利の許諾")
    assert [(e.zh, r, s, t) for e, r, s, t in found] == [("專利權", "專利權", 0, 3), ("专利", "专利", 4, 6),
                                                          ("许可", "許諾", 7, 9)]
    # renderings written with different first characters that fold alike (专, 專, 専) share
    # one bucket; only the buckets of the characters met so far are built
    assert "专" in g._buckets and "p" not in g._buckets
    assert [e.zh for e in g.lookup("Patent Right")] == ["專利權"] and "p" in g._buckets
    assert [e.zh for e in g.lookup("專利")] == ["专利"] and [e.zh for e in g.lookup("専利権", "ja")] == ["專利權"]
