"""The workbench in a real browser: Playwright for Python driving Debian's Chromium.

The server runs in a subprocess (``policyidx serve``) on 127.0.0.1 and a free port,
over a temporary corpus with the zgc Chinese original and a document whose text holds
markup.  When a test fails, screenshots of the page and of the main pages are saved in
``$POLICYIDX_SCREENSHOTS`` (default ``test-screenshots/`` at the repository root).

Skipped when Playwright or Chromium is missing, unless ``POLICYIDX_REQUIRE_BROWSER=1``
(``.ci/run`` sets it after installing them), where a missing browser fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("POLICYIDX_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ZH, JA = "zgc-2019-ipap.zh", "zgc-2019-ipap.ja"
SHOTS = Path(os.environ.get("POLICYIDX_SCREENSHOTS", ROOT / "test-screenshots"))


def _require(reason: str) -> None:
    if os.environ.get("POLICYIDX_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required but {reason}")
    pytest.skip(reason)


try:
    from playwright.sync_api import Page, expect, sync_playwright

    # A click that submits a form navigates asynchronously: wait_for_load_state() can return
    # before the new page is there, so checks after an action retry (on a loaded CI machine too).
    expect.set_options(timeout=20_000)
except ImportError:  # pragma: no cover
    sync_playwright = None  # type: ignore[assignment]

pytest.importorskip("starlette")

from test_web import make_corpus  # noqa: E402  (the same test corpus as the HTTP tests)

from policyidx.corpus import Corpus  # noqa: E402
from policyidx.index import Index  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``policyidx serve`` in a subprocess; restartable on the same port."""

    def __init__(self, corpus: Path, index: Path, log: Path):
        self.corpus, self.index, self.log = corpus, index, log
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(  # `policyidx serve`, as a user starts it
                [sys.executable, "-c", "import sys; from policyidx.cli import main; sys.exit(main())", "serve",
                 "--corpus", str(self.corpus), "--index", str(self.index), "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/docs", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within 90 s: {self.log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("browser")
    root = make_corpus(base / "corpus")
    Index.build(Corpus.load(root), base / "index")
    srv = Server(root, base / "index", base / "server.log")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    if sync_playwright is None:
        _require("Playwright for Python is not installed (pip install playwright)")
    if not Path(CHROMIUM).is_file():
        _require(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser, server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()


@contextlib.contextmanager
def screenshots_on_failure(pg: Page, server: Server, name: str) -> Iterator[None]:
    """On failure, save the current page and the main pages as PNG files."""
    try:
        yield
    except BaseException:
        SHOTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            pg.screenshot(path=str(SHOTS / f"{name}-failed.png"), full_page=True)
        for label, url in (("search", "/?q=知识产权质押融资"), ("side-by-side", f"/align/{ZH}/{JA}"), ("document", f"/doc/{JA}")):
            with contextlib.suppress(Exception):
                pg.goto(server.url + url)
                pg.screenshot(path=str(SHOTS / f"{name}-{label}.png"))
        raise


def test_search_finds_a_known_clause_and_its_link_opens_it(page, server):
    with screenshots_on_failure(page, server, "search"):
        page.goto(server.url + "/")
        page.fill("input[name=q]", "知识产权质押融资")
        page.select_option("select[name=lang]", "zh")
        page.click("form.search button[type=submit]")
        link = page.locator(f"a.hit-link[href='/doc/{ZH}#{ZH}:3.3.10']")
        link.wait_for()
        assert "10.推进知识产权与金融融合创新" in link.inner_text()
        link.click()
        page.wait_for_url(re.compile(f"/doc/{re.escape(ZH)}#"))
        target = page.locator(f"li[id='{ZH}:3.3.10']")
        assert target.is_visible()
        assert page.evaluate("location.hash") == f"#{ZH}:3.3.10"
        # the :target clause is the one highlighted and in view
        assert page.evaluate("document.querySelector(':target').id") == f"{ZH}:3.3.10"
        box = target.bounding_box()
        assert box is not None and 0 <= box["y"] < 900
        assert "质押融资" in target.inner_text()


def test_side_by_side_shows_a_known_pair(page, server):
    with screenshots_on_failure(page, server, "sbs"):
        page.goto(server.url + f"/align/{ZH}/{JA}")
        pair = page.locator(f"tbody.pair[data-src='{ZH}#3.4.15']")
        assert pair.get_attribute("data-tgt") == f"{JA}#3.4.14"
        text = pair.inner_text()
        assert "促进知识产权服务业国际化" in text
        assert "知的財産サービス業の国際化を促進する" in text.replace("\n", "") or "国際化" in text
        # the Japanese column is rendered with a Japanese font, the Chinese with a Chinese one
        ja_font = page.evaluate("getComputedStyle(document.querySelector('tr.bead td[lang=ja]')).fontFamily")
        zh_font = page.evaluate("getComputedStyle(document.querySelector('tr.bead td[lang=zh-Hans]')).fontFamily")
        assert "JP" in ja_font and "SC" in zh_font
        assert page.locator("tbody.pair.b-unpaired").count() >= 1
        assert not page.errors  # type: ignore[attr-defined]


def test_relink_survives_a_restart_and_reaches_the_tmx_export(page, server, tmp_path):
    with screenshots_on_failure(page, server, "relink"):
        url = server.url + f"/align/{ZH}/{JA}"
        page.goto(url)
        page.locator(f"tbody.pair[data-src='{ZH}#3.4.15'] a.relink").click()
        assert page.locator("#relink-src").input_value() == f"{ZH}#3.4.15"
        page.select_option("#relink-tgt", f"{JA}#3.4.13")
        page.click("#relink-save")
        page.wait_for_load_state()
        pair = page.locator(f"tbody.pair[data-src='{ZH}#3.4.15']")
        expect(pair).to_have_attribute("data-tgt", f"{JA}#3.4.13")
        expect(pair.locator(".status")).to_contain_text("linked")
        assert (server.corpus / "review.json").is_file()

        server.restart()
        page.goto(url)
        pair = page.locator(f"tbody.pair[data-src='{ZH}#3.4.15']")
        assert pair.get_attribute("data-tgt") == f"{JA}#3.4.13"
        assert page.locator(f"tbody.pair[data-tgt='{JA}#3.4.14']").get_attribute("data-src") == ""

        with page.expect_download() as dl:
            page.click("a.btn[href$='/export/tmx']")
        path = tmp_path / "out.tmx"
        dl.value.save_as(path)
        from lxml import etree

        units = etree.parse(str(path)).getroot().iter("tu")
        linked = [tu for tu in units if tu.findtext("prop[@type='x-review']") == "linked"]
        assert linked
        ids = {p.text for tu in linked for p in tu.iter("prop") if p.get("type") == "x-clause-id"}
        assert ids == {f"{ZH}#3.4.15", f"{JA}#3.4.13"}

        # undo puts the automatic pair back
        page.click("#undo")
        page.wait_for_load_state()
        expect(page.locator(f"tbody.pair[data-src='{ZH}#3.4.15']")).to_have_attribute("data-tgt", f"{JA}#3.4.14")


def test_injected_script_does_not_execute(page, server):
    with screenshots_on_failure(page, server, "script"):
        for url in ("/doc/evil.zh", "/?q=恶意条款", "/clause/evil.zh/1", "/docs", "/?q=<script>window.__pwned=3</script>"):
            page.goto(server.url + url)
            assert page.evaluate("window.__pwned === undefined"), url
            assert page.locator("img[src=x]").count() == 0
        page.goto(server.url + "/doc/evil.zh")
        assert "<script>window.__pwned=1</script></textarea>" in page.locator("li[id='evil.zh:1']").inner_text()
        assert page.locator("script:not([src])").count() == 0


def test_keyboard_review(page, server):
    with screenshots_on_failure(page, server, "keys"):
        page.goto(server.url + f"/align/{ZH}/{JA}#{ZH}:3.2.6")
        page.keyboard.press("j")  # from 3.2.6 to the next pair, 3.2.7
        current = page.locator("tbody.pair.current")
        assert current.get_attribute("data-src") == f"{ZH}#3.2.7"
        page.keyboard.press("c")
        page.wait_for_load_state()
        pair = page.locator(f"tbody.pair[data-src='{ZH}#3.2.7']")
        expect(pair.locator(".status")).to_contain_text("confirmed")
        expect(page.locator("tbody.pair.current")).to_have_attribute("data-src", f"{ZH}#3.2.7")  # back at the pair
        page.keyboard.press("u")
        page.wait_for_load_state()
        expect(page.locator(f"tbody.pair[data-src='{ZH}#3.2.7'] .status")).to_have_count(0)


def test_sentence_rows_are_joined_in_the_page(page, server):
    with screenshots_on_failure(page, server, "beads"):
        page.goto(server.url + f"/align/{ZH}/{JA}#{ZH}:3.4.15")
        rows = page.locator(f"tr.bead[data-src^='{ZH}#3.4.15/']")
        n = rows.count()
        first = rows.nth(0)
        first.hover()
        first.locator("button[data-bead-op=join_beads]").click()
        page.wait_for_load_state()
        rows = page.locator(f"tr.bead[data-src^='{ZH}#3.4.15/']")
        expect(rows).to_have_count(n - 1)
        assert rows.nth(0).get_attribute("data-src") == f"{ZH}#3.4.15/1 {ZH}#3.4.15/2"
        assert "joined" in rows.nth(0).inner_text()
        page.click("#undo")
        page.wait_for_load_state()
        expect(page.locator(f"tr.bead[data-src^='{ZH}#3.4.15/']")).to_have_count(n)
