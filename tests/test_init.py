"""`policyidx init`: a folder of documents becomes a corpus (policyidx.adhoc.scan_folder / write_catalog)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyidx.adhoc import scan_folder, write_catalog
from policyidx.cli import main
from policyidx.corpus import Corpus
from policyidx.errors import CatalogError, QueryError

ZH = "第一条 为了规范专利开放许可，制定本办法。\n第二条 本办法自发布之日起施行。\n"
JA = "第1条 特許の開放許諾を規範化するため、本弁法を制定する。\n第2条 本弁法は公布日から施行する。\n"
ZH_LAW = "# 某市养犬管理条例\n\n<!-- INFO END -->\n\n第一条 为了规范养犬行为，制定本条例。\n"


def _folder(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    root = tmp_path / "docs"
    for name, content in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


@pytest.mark.parametrize("files, expected", [
    # a name that says its language pairs across folders: original and translation of one work
    ({"zh/notice.zh.txt": ZH, "ja/notice.ja.txt": JA},
     [("notice.ja", "notice", "ja", "translation"), ("notice.zh", "notice", "zh", "original")]),
    # the language from the text when the name does not say it
    ({"a/plan.txt": ZH, "b/plan.txt": JA},
     [("plan.zh", "plan", "zh", "original"), ("plan-", None, "ja", "original")]),
    # a Chinese name: a hashed id, the date in brackets becomes the publication date
    ({"某市养犬管理条例(2017-10-11).md": ZH_LAW}, [("doc-", None, "zh", "original")]),
    # a folder's README is not a document; other suffixes are left alone
    ({"README.md": "# notes\n", "x.csv": "a,b\n", "rule.html": f"<html><body><p>{ZH}</p></body></html>"},
     [("rule.zh", "rule", "zh", "original")]),
])
def test_scan_folder(tmp_path, files, expected) -> None:
    found, skipped = scan_folder(_folder(tmp_path, files))
    assert skipped == []
    got = sorted((d.doc_id, d.work, d.lang, d.role) for d in found)
    assert len(got) == len(expected)
    for (doc_id, work, lang, role), (want_id, want_work, want_lang, want_role) in zip(got, sorted(expected)):
        assert doc_id.startswith(want_id) and doc_id.endswith("." + lang)
        assert want_work is None or work == want_work
        assert (lang, role) == (want_lang, want_role)
    assert len({d.work for d in found if d.role == "original"}) == sum(d.role == "original" for d in found)


def test_dated_name_and_html_format(tmp_path) -> None:
    found, _ = scan_folder(_folder(tmp_path, {"某市养犬管理条例(2017-10-11).md": ZH_LAW,
                                              "page.htm": f"<html><body><p>{ZH}</p></body></html>"}))
    by_file = {d.file: d for d in found}
    law = by_file["某市养犬管理条例(2017-10-11).md"]
    assert (law.title, law.published, law.format) == ("某市养犬管理条例", "2017-10-11", "text")
    assert by_file["page.htm"].format == "html"


def test_written_catalog_loads_and_builds(tmp_path) -> None:
    root = _folder(tmp_path, {"zh/notice.zh.txt": ZH, "ja/notice.ja.txt": JA, "某市养犬管理条例(2017-10-11).md": ZH_LAW})
    with pytest.raises(CatalogError, match="policyidx init"):
        Corpus.load(root)
    path, found, _ = write_catalog(root)
    assert path == root / "catalog.toml" and len(found) == 3
    corpus = Corpus.load(root)
    assert sorted(d.lang for d in corpus) == ["ja", "zh", "zh"]
    law = next(d for d in corpus if d.id.startswith("doc-"))
    assert "INFO END" not in (law.title or "") and "养犬" in "".join(c.text for c in law.clauses)
    with pytest.raises(QueryError, match="exists already"):
        write_catalog(root)
    write_catalog(root, force=True)  # the same catalog again
    assert Corpus.load(root).fingerprint() == corpus.fingerprint()


def test_empty_folder_and_cli(tmp_path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["init", str(empty)]) == 2
    assert "no document found" in capsys.readouterr().err
    root = _folder(tmp_path, {"zh/notice.zh.txt": ZH, "ja/notice.ja.txt": JA})
    assert main(["init", str(root), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["catalog"].endswith("catalog.toml") and len(out["documents"]) == 2 and out["skipped"] == []


def test_unreadable_file_is_skipped_or_stops_a_strict_run(tmp_path, capsys) -> None:
    root = _folder(tmp_path, {"zh/notice.zh.txt": ZH})
    (root / "gone.txt").symlink_to(root / "missing.txt")  # listed, but cannot be opened
    with pytest.raises(QueryError, match="gone.txt"):
        write_catalog(root, strict=True)
    assert not (root / "catalog.toml").exists()
    assert main(["init", "--corpus", str(root), "--strict"]) == 2  # the folder through --corpus
    assert "gone.txt" in capsys.readouterr().err
    _, found, skipped = write_catalog(root)
    assert [d.file for d in found] == ["zh/notice.zh.txt"] and "gone.txt" in skipped[0]
