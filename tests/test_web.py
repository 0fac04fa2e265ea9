"""The web workbench over HTTP (Starlette's test client): pages, escaping, edits guarded by a
same-origin token, uploads bounded, no file-system path from a request; align_files."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from policyidx.adhoc import align_files, detect_format, document_from_bytes  # noqa: E402
from policyidx.corpus import Corpus, bundled_corpus_path  # noqa: E402
from policyidx.errors import ParseError  # noqa: E402
from policyidx.index import Index  # noqa: E402
from policyidx.web.app import Workbench, create_app, find_clause  # noqa: E402

FX = Path(__file__).resolve().parent / "fixtures"
ZH, JA = "zgc-2019-ipap.zh", "zgc-2019-ipap.ja"
EVIL = "恶意条款<script>window.__pwned=1</script></textarea><img src=x onerror=\"window.__pwned=2\">测试。"


def make_corpus(root: Path) -> Path:
    """The bundled corpus, the zgc Chinese original and a document whose text holds markup."""
    shutil.copytree(bundled_corpus_path(), root)
    shutil.copy(FX / "zh" / "zgc-2019-ipap.zh.html", root / "zh" / "zgc-2019-ipap.zh.html")
    (root / "zh" / "evil.zh.txt").write_text(f"测试通知\n\n一、{EVIL}\n二、第二条内容说明。\n", encoding="utf-8")
    with open(root / "catalog.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[[document]]\nid = "{ZH}"\nwork = "zgc-2019-ipap"\nlang = "zh"\nrole = "original"\n'
                'title = "中关村国家自主创新示范区知识产权行动方案（2019-2021年）"\nfile = "zh/zgc-2019-ipap.zh.html"\nformat = "html"\n')
        f.write('\n[[work]]\nid = "evil"\n\n[[document]]\nid = "evil.zh"\nwork = "evil"\nlang = "zh"\nrole = "original"\n'
                'title = "<b>标题</b>"\nfile = "zh/evil.zh.txt"\nformat = "text"\n')
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("web")
    root = make_corpus(base / "corpus")
    Index.build(Corpus.load(root), base / "index")
    wb = Workbench(root, base / "index", upload_limit=2_000_000)
    return wb, root


@pytest.fixture()
def client(site):
    wb, _ = site
    with TestClient(create_app(workbench=wb), base_url="http://127.0.0.1:8000") as c:
        yield c


ORIGIN = {"origin": "http://127.0.0.1:8000"}


def test_catalog_of_the_test_corpus_is_valid(site):
    wb, _ = site
    assert "evil.zh" in wb.corpus and EVIL in wb.corpus["evil.zh"].text


def test_search_finds_a_known_clause_and_links_to_it(client):
    r = client.get("/", params={"q": "知识产权质押融资", "lang": "zh"})
    assert r.status_code == 200
    assert f'href="/doc/{ZH}#{ZH}:3.3.10"' in r.text
    assert '<mark class="hl">' in r.text
    doc = client.get(f"/doc/{ZH}")
    assert doc.status_code == 200 and f'id="{ZH}:3.3.10"' in doc.text


def test_search_filters_and_errors(client):
    r = client.get("/", params={"q": "专利", "doc": JA})
    hits = re.findall(r'class="cid">([^<]+)</span>', r.text)
    assert hits and all(h.startswith(JA + "#") for h in hits)
    assert "problem" in client.get("/", params={"q": "。。。"}).text
    assert "problem" in client.get("/", params={"q": "专利", "doc": "nope"}).text
    assert "k must be" in client.get("/", params={"q": "专利", "k": "10000"}).text


def test_every_text_is_escaped(client):
    for url in ("/doc/evil.zh", "/docs", "/clause/evil.zh/1", f"/align/evil.zh/{JA}", f"/match?a=evil.zh&b={ZH}&threshold=0",
                f"/align/evil.zh/{JA}/export/html"):
        page = client.get(url).text
        assert "<script>window" not in page and "<img src=x" not in page and "</textarea><img" not in page
        if url != "/docs":
            assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page, url  # shown, as text
    page = client.get("/doc/evil.zh").text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;/textarea&gt;&lt;img" in page
    assert "&lt;b&gt;标题&lt;/b&gt;" in page
    r = client.get("/", params={"q": "<script>alert(1)</script> 恶意条款"})
    assert "<script>alert" not in r.text and "&lt;script&gt;alert(1)" in r.text


def test_security_headers(client):
    r = client.get("/")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "<script src=\"/static/app.js\"" in r.text and "http://" not in r.text.split("<body>")[0]


def test_unknown_host_is_refused(site):
    wb, _ = site
    with TestClient(create_app(workbench=wb), base_url="http://evil.example") as c:
        assert c.get("/").status_code == 400


@pytest.mark.parametrize("url", [
    "/doc/..%2F..%2F..%2Fetc%2Fpasswd",
    "/doc/%2Fetc%2Fpasswd",
    "/clause/..%2Fcatalog.toml/1",
    "/align/..%2Fcatalog.toml/zgc-2019-ipap.ja",
    "/static/..%2F..%2Fapp.py",
    "/static/../app.py",
    "/files/..%2F..%2Fetc/export/tsv",
])
def test_no_path_from_a_request_reaches_the_file_system(client, url):
    r = client.get(url)
    assert r.status_code == 404
    assert "root:" not in r.text and "[[document]]" not in r.text and "import" not in r.text


def test_goto_by_citation(client, site):
    wb, _ = site
    r = client.get(f"/doc/{JA}/goto", params={"c": "（二）"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/doc/{JA}#{JA}:3.2"
    doc = wb.corpus[JA]
    assert [c.id for c in find_clause(doc, "(二)")][:1] == [f"{JA}#3.2"]  # width folded
    assert find_clause(doc, "3.2.6")[0].id == f"{JA}#3.2.6"
    assert find_clause(doc, f"{JA}#3.2.6")[0].id == f"{JA}#3.2.6"
    assert [c.id for c in find_clause(doc, "三．（四）")] == [f"{JA}#3.4"]  # a chain of labels
    assert [c.id for c in find_clause(doc, "四（二）")] == [f"{JA}#4.2"]
    assert [c.id for c in find_clause(doc, "三（二）6.")] == [f"{JA}#3.2.6"]
    r = client.get(f"/doc/{JA}/goto", params={"c": "第九十九条"}, follow_redirects=False)
    assert r.status_code == 303 and "missing=" in r.headers["location"]
    assert "No clause is cited as" in client.get(r.headers["location"]).text


def test_side_by_side_shows_a_known_pair_and_marks_unpaired(client):
    page = client.get(f"/align/{ZH}/{JA}").text
    bodies = re.findall(r'<tbody class="pair([^"]*)" data-src="([^"]*)" data-tgt="([^"]*)"', page)
    pairs = {src: (tgt, cls) for cls, src, tgt in bodies}
    assert pairs[f"{ZH}#3.4.15"][0] == f"{JA}#3.4.14"
    assert "b-unpaired" in pairs[f"{ZH}#4.5"][1] and pairs[f"{ZH}#4.5"][0] == ""
    assert 'lang="zh-Hans"' in page and 'lang="ja"' in page
    assert 'class="term both"' in page  # glossary terms found on both sides


def _token(client, url):
    return re.search(r'name="policyidx-token" content="([0-9a-f]+)"', client.get(url).text).group(1)


def test_edits_need_the_token_and_the_same_origin(client, site):
    wb, root = site
    url = f"/align/{ZH}/{JA}"
    form = {"op": "reject", "src": f"{ZH}#3.2.7", "tgt": f"{JA}#3.2.7"}
    assert client.post(url + "/review", data=form, headers=ORIGIN).status_code == 403  # no token
    token = _token(client, url)
    assert client.post(url + "/review", data={**form, "token": token}).status_code == 403  # no Origin
    assert client.post(url + "/review", data={**form, "token": token},
                       headers={"origin": "http://evil.example"}).status_code == 403
    assert client.post(url + "/review", data={**form, "token": "0" * 64}, headers=ORIGIN).status_code == 403
    assert len(wb.review) == 0
    r = client.post(url + "/review", data={**form, "token": token, "back": f"{ZH}:3.2.7"}, headers=ORIGIN,
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{url}#{ZH}:3.2.7"
    assert len(wb.review) == 1 and (root / "review.json").is_file()
    assert 'status rejected' in client.get(url).text
    r = client.post(url + "/undo", data={"token": token}, headers=ORIGIN, follow_redirects=False)
    assert r.status_code == 303 and len(wb.review) == 0


def test_a_refused_edit_says_why(client):
    url = f"/align/{ZH}/{JA}"
    token = _token(client, url)
    r = client.post(url + "/review", data={"op": "link", "src": f"{ZH}#3.2.7", "tgt": "../../etc", "token": token},
                    headers=ORIGIN)
    assert r.status_code == 200 and "is not a clause of" in r.text


def test_exports(client):
    base = f"/align/{ZH}/{JA}/export"
    tsv = client.get(base + "/tsv")
    assert tsv.status_code == 200 and tsv.content.startswith(b"\xef\xbb\xbfsrc_text")
    assert "attachment" in tsv.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(tsv.content.decode("utf-8-sig")), delimiter="\t"))
    assert any(r[3] == f"{ZH}#3.4.15" and r[4] == f"{JA}#3.4.14" for r in rows[1:])
    assert client.get(base + "/tmx").content.startswith(b"<?xml")
    assert client.get(base + "/xlsx").content.startswith(b"PK")
    html = client.get(base + "/html").text
    assert '<td lang="ja">' in html
    assert client.get(base + "/exe").status_code == 404


def test_match_and_terms_pages(client):
    page = client.get("/match", params={"a": "cnipa-2022-38-jiedu.zh", "b": "cnipa-2022-38.ja"}).text
    assert "cnipa-2022-38-jiedu.zh#3.1" in page and "glossary:" in page
    page = client.get("/term", params={"q": "开放许可"}).text
    assert "開放許諾" in page or "オープンライセンス" in page
    assert 'class="kw"' in page


def test_clause_page_lists_counterparts(client):
    page = client.get(f"/clause/{ZH}/3.4.15").text
    assert f"{JA}#3.4.14" in page and "alignment" in page
    assert client.get(f"/clause/{ZH}/99.1").status_code == 404


# --------------------------------------------------------------------------- uploads


def _upload(client, files, extra=None, headers=ORIGIN):
    token = _token(client, "/files")
    data = {"token": token, **(extra or {})}
    return client.post("/files", data=data, files=files, headers=headers, follow_redirects=False)


def test_upload_two_files_and_review_them(client, site):
    zh = (FX / "zh" / "zgc-2019-ipap.zh.txt").read_bytes()
    ja = (bundled_corpus_path() / "ja" / "zgc-2019-ipap.ja.txt").read_bytes()
    r = _upload(client, {"file_a": ("original.txt", zh, "text/plain"), "file_b": ("../../translation.txt", ja, "text/plain")},
                {"from_pdf_b": "1"})
    assert r.status_code == 303 and r.headers["location"].startswith("/files/")
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and "original.zh" in page.text and "translation.ja" in page.text
    assert 'data-src="original.zh#3.4.15" data-tgt="translation.ja#3.4.14"' in page.text
    token = _token(client, r.headers["location"])
    client.post(r.headers["location"] + "/review", headers=ORIGIN,
                data={"op": "link", "src": "original.zh#3.4.15", "tgt": "translation.ja#3.4.13", "token": token})
    page = client.get(r.headers["location"]).text
    assert 'data-src="original.zh#3.4.15" data-tgt="translation.ja#3.4.13"' in page
    tmx = client.get(r.headers["location"] + "/export/tmx").text
    assert "translation.ja#3.4.13" in tmx and "x-review" in tmx
    wb, root = site
    assert not (root / "translation.txt").exists() and not (root.parent / "translation.txt").exists()


def test_uploads_are_bounded_and_checked(client):
    big = b"a" * 2_100_000
    r = _upload(client, {"file_a": ("a.txt", big, "text/plain"), "file_b": ("b.txt", b"x", "text/plain")})
    assert r.status_code == 413
    r = _upload(client, {"file_a": ("a.bin", bytes(range(256)) * 40, "application/octet-stream"),
                         "file_b": ("b.txt", "第一条 内容。".encode(), "text/plain")})
    assert r.status_code == 400 and "a.bin" in r.text
    r = _upload(client, {"file_a": ("a.txt", b"x", "text/plain"), "file_b": ("b.txt", b"y", "text/plain")},
                headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    r = client.post("/files", data={"token": "bad"}, files={"file_a": ("a.txt", b"x")}, headers=ORIGIN)
    assert r.status_code in (400, 403)
    assert client.get("/files/nonexistent").status_code == 404


# --------------------------------------------------------------------------- align_files


def test_align_files_detects_format_and_language(tmp_path):
    res = align_files(FX / "zh" / "zgc-2019-ipap.zh.html", bundled_corpus_path() / "ja" / "zgc-2019-ipap.ja.txt",
                      extracted_from_b="pdf")
    assert (res.src.lang, res.src.format, res.tgt.lang, res.tgt.format) == ("zh", "html", "ja", "text")
    assert res.src.id == "zgc-2019-ipap.zh" and res.tgt.id == "zgc-2019-ipap.ja"
    assert res.alignment.counterpart(f"{ZH}#3.4.15").tgt == (f"{JA}#3.4.14",)
    forced = align_files(FX / "zh" / "zgc-2019-ipap.zh.txt", FX / "zh" / "zgc-2019-ipap.zh.txt", lang_b="ja")
    assert forced.tgt.lang == "ja" and forced.src.id != forced.tgt.id


def test_detect_format():
    assert detect_format(b"%PDF-1.7\n...") == "pdf"
    assert detect_format(b"\xef\xbb\xbf<!DOCTYPE html><html>") == "html"
    assert detect_format(b"  <html lang='zh'>") == "html"
    assert detect_format("<html>".encode("utf-16")) == "html"
    assert detect_format("第一条 内容。".encode(), "notes.txt") == "text"
    assert detect_format("第一条 内容。".encode(), "page.htm") == "html"


def test_align_files_errors_name_the_file(tmp_path):
    with pytest.raises(ParseError, match="missing.txt"):
        align_files(tmp_path / "missing.txt", FX / "zh" / "zgc-2019-ipap.zh.txt")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(ParseError, match="blob.txt"):
        align_files(binary, FX / "zh" / "zgc-2019-ipap.zh.txt")
    with pytest.raises(ParseError, match="upload.bin"):
        document_from_bytes(bytes(range(256)) * 10, "upload.bin")


def test_the_wheel_ships_every_template_and_asset(tmp_path):
    import subprocess
    import sys
    import zipfile

    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(root), "--no-deps", "-q", "-w", str(tmp_path)],
                   check=True, capture_output=True)
    names = set(zipfile.ZipFile(next(tmp_path.glob("policyidx-*.whl"))).namelist())
    web = root / "src" / "policyidx" / "web"
    assets = {f"policyidx/web/{p.relative_to(web).as_posix()}" for p in web.rglob("*")
              if p.is_file() and p.suffix in (".html", ".css", ".js")}
    assert len(assets) >= 12 and assets <= names
    # nothing is loaded from elsewhere: no absolute URL in a template or asset
    for p in web.rglob("*"):
        if p.suffix in (".html", ".css", ".js"):
            assert not re.search(r"(?:src|href)=[\"']?(?:https?:)?//|url\((?:https?:)?//", p.read_text("utf-8")), p


def test_a_corrected_tsv_is_read_back_in_the_page(client, site):
    wb, _ = site
    url = f"/align/{ZH}/{JA}"
    tsv = client.get(url + "/export/tsv").content.decode("utf-8-sig")
    rows = [r.split("\t") for r in tsv.splitlines()]
    for r in rows[1:]:
        if r[3] == f"{ZH}#3.2.6":
            r[7] = "confirmed"
    body = "\n".join("\t".join(r) for r in rows).encode("utf-8-sig")
    token = _token(client, url)
    r = client.post(url + "/import", data={"token": token}, files={"tsv": ("mine.tsv", body, "text/plain")},
                    headers=ORIGIN, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?imported=1")
    page = client.get(r.headers["location"]).text
    assert "1 correction(s) read" in page and "status confirmed" in page
    rows[2][7] = "perhaps"
    body = "\n".join("\t".join(r) for r in rows).encode("utf-8")
    r = client.post(url + "/import", data={"token": token}, files={"tsv": ("mine.tsv", body, "text/plain")},
                    headers=ORIGIN)
    assert "mine.tsv:3: unknown review verdict" in r.text
    assert client.post(url + "/import", data={"token": "x"}, files={"tsv": ("m.tsv", body)}, headers=ORIGIN).status_code == 403
    wb.review.undo()
    assert len(wb.review) == 0


# --------------------------------------------------------------------------- command line


def _cli(capsys, *argv):
    from policyidx.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_align_two_files(tmp_path, capsys):
    import json

    from lxml import etree

    ja = bundled_corpus_path() / "ja" / "zgc-2019-ipap.ja.txt"
    code, out, err = _cli(capsys, "align", str(FX / "zh" / "zgc-2019-ipap.zh.html"), str(ja), "--from-pdf-b", "--json",
                          "--tmx", str(tmp_path / "o.tmx"), "--xlsx", str(tmp_path / "o.xlsx"))
    assert code == 0, err
    records = json.loads(out)
    assert any(r["src"] == [f"{ZH}#3.4.15"] and r["tgt"] == [f"{JA}#3.4.14"] for r in records)
    assert etree.parse(str(tmp_path / "o.tmx")).getroot().find("header").get("srclang") == "zh-CN"
    assert (tmp_path / "o.xlsx").read_bytes()[:2] == b"PK"
    code, out, err = _cli(capsys, "align", str(FX / "zh" / "zgc-2019-ipap.zh.txt"), str(ja), "--lang-b", "ja")
    assert code == 0 and "3.4.15 ↔ 3.4.14" in out


def test_cli_align_errors_are_one_line(tmp_path, capsys):
    code, _, err = _cli(capsys, "align", str(tmp_path / "nope.txt"), str(FX / "zh" / "zgc-2019-ipap.zh.txt"))
    assert code == 2 and "nope.txt" in err and err.count("\n") == 1
    code, _, err = _cli(capsys, "align", ZH, JA, "--lang-a", "zh")
    assert code == 2 and "--lang-a is for two files" in err


def test_cli_serve_refuses_a_bad_port(capsys):
    code, _, err = _cli(capsys, "serve", "--port", "70000")
    assert code == 2 and "--port" in err and err.count("\n") == 1


def test_an_index_alone_serves_the_corpus_it_was_built_from(site, monkeypatch):
    wb, root = site
    monkeypatch.delenv("POLICYIDX_CORPUS", raising=False)
    alone = Workbench(index=wb.index.path)
    assert Path(alone.corpus.root).resolve() == root.resolve() and "evil.zh" in alone.corpus
