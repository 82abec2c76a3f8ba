"""The served pages as a person sees them: Debian's headless Chromium, driven by selenium.

``irarchive serve`` runs as a real process on 127.0.0.1 (a free port) and is always
stopped, even when a test fails. Chromium runs with a fresh profile and with
everything that would reach the network switched off. The tests skip only when
Chromium or its driver is missing (``apt-get install chromium chromium-driver``;
``.ci/run`` installs them).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from irarchive import search
from irarchive.store import open_archive

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.skipif(
        not (CHROMIUM and DRIVER),
        reason="needs Chromium and chromedriver (apt-get install chromium chromium-driver)",
    ),
    pytest.mark.together,  # one Chromium and one server for the module, not one per worker
]
webdriver = pytest.importorskip("selenium.webdriver")
By = pytest.importorskip("selenium.webdriver.common.by").By
Keys = pytest.importorskip("selenium.webdriver.common.keys").Keys

SAMARKAND = "2022 SCO Summit in Samarkand: Key Takeaways"
SCO_HISTORY = "Shanghai Cooperation Organization: History and Role in Regional Security"
CHINA = "China’s and India’a Summits with Central Asia: Latest Developments"
NAVY = "The Indo-Pacific Strategy of the U.S. Navy"
HOSTILE = "<script>window.__pwned = 1</script> Caspian \u202eevil order"
EXTRA = [
    {"title": NAVY, "date": "2023-01-10", "url": "https://example.invalid/navy"},
    {"title": HOSTILE, "date": "2023-02-01", "url": "javascript:window.__pwned = 2"},
    {"title": "Asia Central Bank Reports", "date": "2023-03-12", "category": "Economy"},
]
WIDTH, HEIGHT = 1280, 800


def _irarchive(db: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "irarchive", "--db", str(db), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Site:
    def __init__(self, base: str, db: Path, log: Path, env: dict[str, str]) -> None:
        self.base, self.db, self.log, self.env = base, db, log, env


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A seeded archive with extra and hostile articles, served by ``irarchive serve``."""
    root = tmp_path_factory.mktemp("site")
    env = {
        **os.environ,
        "HOME": str(root),
        "XDG_DATA_HOME": str(root / "data"),
        "NO_COLOR": "1",
    }
    env.pop("IRARCHIVE_DB", None)
    db = root / "archive.db"
    extra = root / "extra.jsonl"
    extra.write_text("".join(json.dumps(r) + "\n" for r in EXTRA), encoding="utf-8")
    _irarchive(db, "db", "init", env=env)
    _irarchive(db, "import", str(extra), env=env)
    port = _free_port()
    log = root / "serve.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "irarchive", "--db", str(db), "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"serve did not start: {log.read_text()}") from None
                time.sleep(0.1)
        yield Site(f"http://127.0.0.1:{port}", db, log, env)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--window-size={WIDTH},{HEIGHT}",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    try:
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()


def result_titles(driver: Any) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "ol.results .title a")]


def search_for(driver: Any, name: str, text: str) -> None:
    box = driver.find_element(By.NAME, name)
    box.clear()
    box.send_keys(text + Keys.ENTER)
    deadline = time.monotonic() + 30
    while quote(text[:3], safe="")[:3] not in driver.current_url.replace("+", "%20"):
        if time.monotonic() > deadline:
            raise AssertionError(f"the search for {text!r} did not load: {driver.current_url}")
        time.sleep(0.05)


def test_first_screen_is_a_search_box_and_readable_results(site: Site, browser: Any) -> None:
    browser.get(site.base + "/archive/-/search")
    fold = browser.execute_script("return window.innerHeight")
    box = browser.find_element(By.NAME, "q")
    assert box.is_displayed()
    assert box.rect["y"] + box.rect["height"] <= fold / 3
    assert browser.switch_to.active_element == box  # typing goes straight in
    rows = browser.find_elements(By.CSS_SELECTOR, "ol.results > li")
    assert len(rows) == 13
    first_rows_bottom = rows[3].rect["y"] + rows[3].rect["height"]
    assert first_rows_bottom <= fold  # several results on the first screen
    first = rows[0].text.splitlines()
    assert first[0] == "Asia Central Bank Reports"  # newest first
    assert first[1] == "2023-03-12 · Economy"
    second = rows[1].text.splitlines()
    assert second[1].startswith("2023-02-01")
    aside = browser.find_element(By.TAG_NAME, "aside").text.splitlines()
    assert aside[:4] == ["Year", "2023 3", "2022 9", "2021 1"]
    assert "Category" in aside and "International Relations 10" in aside
    # Title links to the article's row; only a web url becomes a "source" link.
    link = rows[0].find_element(By.CSS_SELECTOR, ".title a").get_attribute("href")
    assert link.startswith(site.base + "/archive/articles/")
    sources = [a.get_attribute("href") for a in browser.find_elements(By.LINK_TEXT, "source ↗")]
    assert sources == ["https://example.invalid/navy"]


@pytest.mark.parametrize(
    ("query", "first"), [("samarqand", SAMARKAND), ("shangai cooperaton", SCO_HISTORY)]
)
def test_typed_search_ranks_like_the_cli(site: Site, browser: Any, query: str, first: str) -> None:
    browser.get(site.base + "/archive/-/search")
    search_for(browser, "q", query)
    shown = result_titles(browser)
    archive = open_archive(str(site.db), readonly=True)
    try:
        cli = [h.article["title"] for h in search.search(archive, query, limit=0).hits]
    finally:
        archive.close()
    assert shown[0] == first
    assert shown == cli


def test_facet_links_filter(site: Site, browser: Any) -> None:
    browser.get(site.base + "/archive/-/search?q=asia")
    everything = result_titles(browser)
    browser.find_element(By.CSS_SELECTOR, ".facet-year").find_element(By.LINK_TEXT, "2023").click()
    in_2023 = result_titles(browser)
    assert in_2023 == ["Asia Central Bank Reports"]
    assert len(everything) > len(in_2023)
    assert "year 2023 ✕" in browser.find_element(By.CSS_SELECTOR, ".summary").text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("china's", CHINA),
        ("China’s", CHINA),
        ("indo-pacific", NAVY),
        ("U.S.", NAVY),
        ('"central bank"', "Asia Central Bank Reports"),
    ],
)
def test_table_search_box_answers_ordinary_input(
    site: Site, browser: Any, query: str, expected: str
) -> None:
    browser.get(site.base + "/archive/articles")
    search_for(browser, "_search", query)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Invalid SQL" not in body and "phrase queries" not in body
    cells = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "td.col-title")]
    assert expected in cells
    assert "Traceback" not in site.log.read_text()


def test_hostile_titles_are_shown_as_text(site: Site, browser: Any) -> None:
    browser.get(site.base + "/archive/-/search?q=pwned+evil")
    (title,) = result_titles(browser)
    assert title == "<script>window.__pwned = 1</script> Caspian <U+202E>evil order"
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.find_elements(By.LINK_TEXT, "source ↗") == []  # no javascript: link
    browser.get(site.base + "/archive/articles?_search=pwned")
    cells = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "td.col-title")]
    assert cells == ["<script>window.__pwned = 1</script> Caspian <U+202E>evil order"]
    assert browser.execute_script("return window.__pwned === undefined")


def test_an_import_shows_up_on_reload(site: Site, browser: Any, tmp_path: Path) -> None:
    browser.get(site.base + "/archive/-/search?q=caviar")
    assert result_titles(browser) == []
    new = tmp_path / "new.jsonl"
    new.write_text('{"title": "Caspian Caviar Diplomacy", "date": "2023-04-01"}\n')
    _irarchive(site.db, "import", str(new), env=site.env)
    browser.refresh()
    assert result_titles(browser) == ["Caspian Caviar Diplomacy"]
