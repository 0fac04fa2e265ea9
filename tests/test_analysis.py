"""Tests of policyidx.text.analysis: language detection, tokens, index terms."""

from __future__ import annotations

import pytest

from policyidx.text.analysis import (
    BRIDGE_PREFIX,
    analyze,
    analyze_query,
    detect_lang,
    load_user_terms,
    tokenize,
    user_terms,
)
from policyidx.errors import PolicyIdxError, QueryError


@pytest.mark.parametrize(
    "text, lang",
    [
        ("知的財産権によって専精特新中小企業を支援する", "ja"),
        ("クロスライセンス", "ja"),
        ("关于知识产权助力专精特新中小企业创新发展的若干措施", "zh"),
        ("國家知識產權局", "zh"),
        ("Patent open licensing pilot", "en"),
        ("2023-2027", "en"),
    ],
)
def test_detect_lang(text: str, lang: str) -> None:
    assert detect_lang(text) == lang


def test_stray_kana_in_long_chinese_text_stays_chinese() -> None:
    text = "国家知识产权局、工业和信息化部联合印发若干措施，支持中小企业创新发展，の"
    assert detect_lang(text) == "zh"


@pytest.mark.parametrize(
    "text, lang",
    [
        ("专精特新“小巨人”企业享受专利优先审查政策", "zh"),
        ("專精特新「小巨人」企業", "zh"),
        ("専精特新「小巨人」企業の条件に合致する専利優先審査請求を 推薦しなければならない。", "ja"),
        ("知的財産権の創造レベルを高め、企業の革新能力を強化する\n（一）", "ja"),
        ("Patent licenses, granted in 2022.", "en"),
    ],
)
def test_tokens_cover_text_with_exact_offsets(text: str, lang: str) -> None:
    tokens = tokenize(text, lang)
    assert tokens
    for t in tokens:
        assert text[t.start : t.end] == t.surface
    covered = set()
    for t in tokens:
        covered.update(range(t.start, t.end))
    if lang != "en":  # the English tokenizer keeps words only
        assert all(text[i].isspace() for i in range(len(text)) if i not in covered)
    assert [t.start for t in tokens] == sorted(t.start for t in tokens)


@pytest.mark.parametrize(
    "text, lang, norm",
    [
        ("専精特新企業", "ja", "专精特新"),  # merged from MeCab pieces by the user dictionary
        ("専利開放許諾の試行", "ja", "专利开放许诺"),
        ("革新能力を高める", "ja", "高める"),
        ("能力を高め、", "ja", "高める"),  # inflected verb -> dictionary form
        ("ＧＤＰに占める", "ja", "gdp"),
        ("专精特新中小企业", "zh", "专精特新中小企业"),
        ("專利導航", "zh", "专利导航"),
        ("Licenses", "en", "licens"),  # one stemmer for index terms and glossary matching
        ("licence", "en", "licens"),
    ],
)
def test_token_norms(text: str, lang: str, norm: str) -> None:
    assert norm in [t.norm for t in tokenize(text, lang)]


@pytest.mark.parametrize(
    "a, b",
    [
        ("四件", "4件"),
        ("二〇二三年", "2023年"),
        ("十四个", "14个"),
        ("三千五百家", "3500家"),
        ("1.5万元", "15000元"),
        ("２０２２年", "2022年"),
    ],
)
def test_numbers_written_alike(a: str, b: str) -> None:
    words_a = [t for t in analyze(a, "zh") if not t.startswith(BRIDGE_PREFIX)]
    words_b = [t for t in analyze(b, "zh") if not t.startswith(BRIDGE_PREFIX)]
    assert words_a == words_b


@pytest.mark.parametrize(
    "text, lang, number",
    [("高付加価値型特許の件数を4件近くにし", "ja", "4"), ("每亿元营业收入高价值发明专利数达到四件", "zh", "4")],
)
def test_number_in_sentence(text: str, lang: str, number: str) -> None:
    terms = analyze(text, lang)
    assert number in terms and "件" in terms


@pytest.mark.parametrize("text", ["十四五", "万一"])
def test_non_quantities_keep_their_numerals(text: str) -> None:
    assert text in analyze(text, "zh")


@pytest.mark.parametrize(
    "text, lang, absent",
    [
        ("知的財産権の保護を強化する。", "ja", ["の", "を", "。", "する"]),
        ("加强知识产权的保护和运用。", "zh", ["的", "和", "。"]),
        ("the protection of patents", "en", ["the", "of"]),
    ],
)
def test_function_words_and_punctuation_dropped(text: str, lang: str, absent: list[str]) -> None:
    terms = analyze(text, lang)
    for a in absent:
        assert a not in terms


@pytest.mark.parametrize(
    "zh, ja, shared",
    [
        ("专利密集型产品备案认定", "専利密集型製品登録認定", {"专利", "认定", "#密集", "#专利"}),
        ("知识产权质押融资", "知的財産権担保融資", {"#产权", "#融资"}),
        ("专利开放许可", "専利開放許諾", {"专利", "#专利", "#开放"}),
        ("国家知识产权局", "国家知識産権局", {"国家知识产权局"}),
    ],
)
def test_chinese_and_japanese_share_terms(zh: str, ja: str, shared: set[str]) -> None:
    common = set(analyze(zh, "zh")) & set(analyze(ja, "ja"))
    assert shared <= common


def test_cross_license_shares_little_without_glossary() -> None:
    # Katakana loanwords have no Han bridge: a glossary expansion is needed (not here).
    common = set(analyze("知识产权交叉许可和共享机制", "zh")) & set(
        analyze("クロスライセンスと共有のメカニズム", "ja")
    )
    assert len(common) <= 2


def test_bridge_features_are_prefixed_bigrams() -> None:
    terms = analyze("知識産権", "ja")
    bridge = [t for t in terms if t.startswith(BRIDGE_PREFIX)]
    assert bridge == ["#知识", "#识产", "#产权"]


def test_lang_none_detects() -> None:
    assert analyze("専利開放許諾の試行") == analyze("専利開放許諾の試行", "ja")


def test_unknown_lang_is_a_query_error() -> None:
    with pytest.raises(QueryError):
        analyze("专利", "ko")


def test_analyze_query_weights() -> None:
    q = analyze_query("专利导航", "zh", bridge_weight=0.25)
    assert q["专利导航"] == 1.0
    assert q["#专利"] == 0.25
    assert analyze_query("。、", "zh") == {}


def test_load_user_terms(tmp_path) -> None:
    path = tmp_path / "terms.tsv"
    path.write_text("# test terms\n鑽石級許可\tzh\n", encoding="utf-8")
    assert load_user_terms(path) == 1
    assert "钻石级许可" in user_terms()
    assert "钻石级许可" in analyze("推行钻石级许可制度", "zh")
    assert load_user_terms(path) == 0


def test_load_user_terms_glossary_format(tmp_path) -> None:
    path = tmp_path / "g.tsv"
    path.write_text("zh\tja\ten\tdomain\tnotes\n試點樣板\t試行見本|見本事業\tpilot\tx\t\n", encoding="utf-8")
    assert load_user_terms(path) == 3
    assert "见本事业" in user_terms()


def test_load_user_terms_errors(tmp_path) -> None:
    with pytest.raises(PolicyIdxError):
        load_user_terms(tmp_path / "missing.tsv")
    bad = tmp_path / "bad.tsv"
    bad.write_text("专利\tfr\n", encoding="utf-8")
    with pytest.raises(PolicyIdxError, match="line 1"):
        load_user_terms(bad)


def test_first_call_segments_like_later_calls():
    """Compound parts must not depend on whether a Chinese text was analysed first."""
    import subprocess
    import sys

    code = (
        "from policyidx.text.analysis import analyze\n"
        "t = '工業信息化部など19部門が発行した「『十四五』中小企業発展計画」'\n"
        "a = analyze(t, 'ja'); analyze('专利', 'zh'); b = analyze(t, 'ja'); print(a == b)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "True"


def test_analyzers_do_not_share_their_terms(tmp_path) -> None:
    """Each Analyzer has its own dictionary: adding terms to one changes neither another
    nor the module-level functions (no process-global lexicon)."""
    from policyidx.text.analysis import Analyzer

    terms = tmp_path / "t.tsv"
    terms.write_text("钻石许可证\tzh\n", encoding="utf-8")
    plain, extra = Analyzer(), Analyzer([terms])
    text = "推行钻石许可证制度"
    assert "钻石许可证" in extra.analyze(text, "zh")
    assert "钻石许可证" not in plain.analyze(text, "zh")
    assert "钻石许可证" not in analyze(text, "zh")
    with extra.active():  # the module-level functions follow the active analyzer
        assert "钻石许可证" in analyze(text, "zh")
    assert "钻石许可证" not in analyze(text, "zh")
    assert extra.terms - plain.terms == {"钻石许可证"}
    d = extra.describe()
    assert d["term_files"] == [str(terms)] and d["terms"] == len(extra.terms) and d["version"] >= 2
    assert d["terms_fingerprint"] != plain.describe()["terms_fingerprint"]


def test_analyzer_for_files_is_shared_until_a_file_changes(tmp_path) -> None:
    from policyidx.text.analysis import Analyzer

    f = tmp_path / "t.tsv"
    f.write_text("甲乙丙丁戊\n", encoding="utf-8")
    a = Analyzer.for_files([f])
    assert Analyzer.for_files([str(f)]) is a
    f.write_text("甲乙丙丁戊\n己庚辛壬癸\n", encoding="utf-8")
    b = Analyzer.for_files([f])
    assert b is not a and "己庚辛壬癸" in b.terms and "己庚辛壬癸" not in a.terms
    missing = Analyzer([tmp_path / "gone.tsv"])
    assert missing.missing_files == [str(tmp_path / "gone.tsv")] and missing.term_files == []


@pytest.mark.parametrize("query, gone, kept", [
    ("申请专利需要什么材料", ["什么"], ["材料"]),
    ("违反规定罚款多少", ["多少"], ["罚款"]),
    ("哪些情形可以不予处罚", ["哪些"], ["处罚"]),
    ("公司能不能拒绝", ["不能", "能不能"], ["拒绝"]),
    ("需不需要办理登记", ["不需要"], ["需要", "登记"]),
    # a frame word takes the noun it asks about along (how much money, what time)
    ("未经许可举办焰火晚会要罚多少钱", ["多少", "钱"], ["焰火晚会", "罚"]),
    ("条例什么时候开始施行", ["什么", "时候"], ["施行"]),
    ("复议申请由谁受理", ["谁"], ["受理"]),
    ("申请复议要多长时间", ["多长时间"], ["复议"]),
])
def test_the_frame_of_a_chinese_question_is_no_query_term(query, gone, kept):
    from policyidx.text.analysis import analyze_query, zh_question_frame

    terms = analyze_query(query, "zh")
    assert not [t for t in gone if t in terms]
    assert all(t in terms for t in kept)
    assert len(zh_question_frame(query)) == len(query)
    assert zh_question_frame("企业应当依法纳税") == "企业应当依法纳税"
    assert zh_question_frame("出借钱款的时间") == "出借钱款的时间"  # no frame word: the nouns stay
