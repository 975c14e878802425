"""The documentation site as a reader meets it: built by mkdocs (as ``make docs``), served over HTTP,
opened in Debian's chromium (issue #28).

- the first page starts where a user starts: the install command and the connection (with the
  form's screenshot) come before any contributor material;
- the Troubleshooting page lists every code of ``airflow_provider_datapump.hints``;
- no page has a broken internal link: every page reachable from the first one is crawled in the
  browser, and every link to this site must answer 200 and, when it names an anchor, land on an
  element with that id.

It shares the suite's browser (``browser`` in conftest.py) rather than starting a Playwright of its
own: two sync Playwrights cannot run in one thread. Its own fixtures are module-scoped.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from airflow_provider_datapump.hints import HINTS

pytestmark = [pytest.mark.ui, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
# What only someone working on the provider needs; none of it may come before install and the connection.
CONTRIBUTOR_MARKERS = ("make test", "make demo", "make lint", "tests/unit/test_layering.py", "jobs.py                the model")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs", reason="the docs extra is missing: run `make venv`")
    out = tmp_path_factory.mktemp("docs-site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return out


@pytest.fixture(scope="module")
def docs_url(site):
    """The built site on a loopback port, served as any static host would (index.html per folder)."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@pytest.fixture
def tab(browser):
    page = browser.new_page()
    try:
        yield page
    finally:
        page.close()


def _article_text(page) -> str:
    return page.locator("article").first.inner_text()


def test_the_first_page_has_install_and_the_connection_before_any_contributor_material(tab, docs_url):
    tab.goto(docs_url)
    text = _article_text(tab)
    install = text.find("pip install airflow-provider-datapump")
    connection = text.find("Connect Airflow to ORDS")
    fields = text.find("ORDS base URL")
    first_dag = text.find("A first DAG")
    assert -1 < install < connection < fields < first_dag, (install, connection, fields, first_dag)
    # The connection form's screenshot is on the page and the browser could load it.
    image = tab.locator("article img[src*='ords-connection-form.png']")
    assert image.count() == 1
    assert tab.evaluate("img => img.complete && img.naturalWidth > 0", image.element_handle())
    # The first DAG is there to paste, and what to run it with.
    assert "DataPumpExportOperator(" in text and "airflow dags test datapump_first_export" in text
    contributor = [(text.find(m), m) for m in CONTRIBUTOR_MARKERS if m in text]
    assert all(at > first_dag for at, _ in contributor), contributor
    # The Development page holds the contributor material instead.
    tab.get_by_role("link", name="Development").first.click()
    tab.wait_for_url("**/development/")
    dev = _article_text(tab)
    assert "make test" in dev and "make demo" in dev and "Layering" in dev and "jobs.py" in dev


def test_the_troubleshooting_page_lists_every_code_of_the_table(tab, docs_url):
    tab.goto(urljoin(docs_url, "troubleshooting/"))
    rows = tab.locator("article table tbody tr")
    assert rows.count() >= len(HINTS)
    table = "\n".join(rows.all_inner_texts())
    missing = [h.code for h in HINTS if h.code not in table]
    assert not missing, missing
    for hint in HINTS:  # each code can be linked to (the runbooks do)
        assert tab.locator(f"#{hint.code.lower()}").count() == 1, hint.code


def test_no_page_has_a_broken_internal_link(tab, docs_url):
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(docs_url))
    pages: dict[str, set[str] | None] = {}  # page URL -> the ids on it (None: it did not answer 200)
    links: list[tuple[str, str]] = []  # (page, href) of every link to this site
    assets: set[str] = set()
    queue = deque([docs_url])
    while queue:
        url = queue.popleft()
        if url in pages:
            continue
        response = tab.goto(url)
        if response is None or response.status != 200:
            pages[url] = None
            continue
        found = tab.evaluate(
            """() => ({
                ids: [...document.querySelectorAll('[id]')].map(e => e.id),
                links: [...document.querySelectorAll('a[href]')].map(a => a.href),
                assets: [...document.querySelectorAll('img[src], link[href][rel=stylesheet], script[src]')]
                        .map(e => e.src || e.href),
            })"""
        )
        pages[url] = set(found["ids"])
        for href in found["links"]:
            if not href.startswith(origin):
                continue
            links.append((url, href))
            target, _ = urldefrag(href)
            if target not in pages and _is_page(target):
                queue.append(target)
        assets.update(a for a in found["assets"] if a.startswith(origin))
    assert len(pages) >= 20, sorted(pages)  # every page of the nav, not just the first
    broken = []
    for page, href in links:
        target, fragment = urldefrag(href)
        if _is_page(target):
            ids = pages.get(target)
            if ids is None:
                broken.append(f"{page} -> {href}: no page there")
            elif fragment and fragment not in ids:
                broken.append(f"{page} -> {href}: no element with id {fragment!r}")
        else:
            assets.add(target)
    for asset in sorted(assets):
        status = tab.request.get(asset).status
        if status != 200:
            broken.append(f"{asset}: HTTP {status}")
    assert not broken, "\n".join(broken)


def _is_page(url: str) -> bool:
    path = urlsplit(url).path
    return path.endswith("/") or path.endswith(".html")
