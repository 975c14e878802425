"""Browser suite: Debian's chromium, driven by Playwright, against a real Airflow 3 on loopback.

One deployment (two emulators standing for production and test, sharing an object-store folder, and
the four Airflow components, see ``tests/airflow_stack.py``) and one browser serve the whole suite:
starting them costs most of its run time on a 2-core machine. Airflow uses simple auth with one known
user, so the tests sign in through the real login page, and no ORDS connection exists until a test
creates one in the UI.

Every browser wait is bounded (context defaults below; ``expect`` too); the deployment is stopped
and the browser closed on every path; a failing test gets the page URL, a screenshot path and the
tail of the api-server log appended to its report.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.airflow_stack import EMULATOR_PASSWORD, EXAMPLE_DAGS, REPO, AirflowStack, tail
from tests.conftest import UI_PASSWORD, WRONG_PASSWORD

UI_USER = "tester"
DAG_ID = "datapump_refresh_test_from_prod"
DAG_FILE = EXAMPLE_DAGS / f"{DAG_ID}.py"
# Long enough for the trigger to see each job running at least once (poll_interval=2), so the task
# log has a state change to show; short enough to keep the suite well under four minutes.
JOB_SECONDS = 6
STARTUP_BUDGET = 150  # seconds: API served, DAG parsed, scheduler and triggerer heartbeating

UI_TIMEOUT_MS = 30_000  # any single wait for an element; the UI is slow while a DAG run is busy
NAVIGATION_TIMEOUT_MS = 60_000
# Without the networking flags Chromium's own background connections are refused here and stall it.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Must never reach Airflow's logs, the responses or the page (the suite-wide scan in tests/conftest.py
# only sees captured output, which ``-s`` turns off; the deployment's files are checked here too).
SECRETS = (EMULATOR_PASSWORD, WRONG_PASSWORD, UI_PASSWORD)


def artifacts_dir() -> Path:
    """Screenshots go here: $DATAPUMP_UI_ARTIFACTS, else <repo>/.artifacts/ui (git-ignored)."""
    path = Path(os.environ.get("DATAPUMP_UI_ARTIFACTS") or REPO / ".artifacts" / "ui")
    path.mkdir(parents=True, exist_ok=True)
    return path


NO_CHROMIUM = ("the browser tests need Debian's chromium on PATH: run `make browser` as root, "
               "or `sudo apt-get install chromium` (Playwright's own browser download cannot work here)")
_skipped_for_chromium: list[bool] = []


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium")
    if not path:
        _skipped_for_chromium.append(True)
        pytest.skip(NO_CHROMIUM)
    pytest.importorskip("playwright.sync_api", reason="Playwright for Python is missing: run `make venv`")
    return path


@pytest.fixture(scope="session")
def artifacts() -> Path:
    return artifacts_dir()


@pytest.fixture(scope="session")
def airflow(chromium, tmp_path_factory):
    """The deployment; requested after ``chromium`` so that a missing browser skips before it starts."""
    stack = AirflowStack(
        tmp_path_factory.mktemp("ui-airflow"),
        [DAG_FILE],
        job_seconds=JOB_SECONDS,
        ords_connection_env=False,  # an env-var connection would shadow the ones the UI creates
        second_emulator=True,  # the refresh example exports on ords_prod and imports on ords_test
        users={UI_USER: UI_PASSWORD},
        # The refresh example runs at 02:00 every day; unpaused, the scheduler would start a run of its
        # own beside the one the test triggers. Runs triggered by hand still run.
        extra_env={"AIRFLOW__CORE__TEST_CONNECTION": "Enabled", "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"},
    )
    with stack:
        stack.start()
        stack.wait_ready([DAG_ID], budget=STARTUP_BUDGET)
        yield stack
        leaks = stack.secret_leaks(SECRETS)
        assert not leaks, f"a test credential reached Airflow's files: {leaks}"


# Per module, not per session: while Playwright's sync API is open it holds a running asyncio loop in
# the main thread, and under xdist the worker that runs these tests goes on to other modules, whose
# asyncio.run() then fails ("cannot be called from a running event loop": CI, 2026-12-07, 42 tests).
@pytest.fixture(scope="module")
def browser(chromium, tmp_path_factory):
    """One Chromium with a fresh profile for the module; closed whatever happened."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=UI_TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # becomes --user-data-dir
            executable_path=chromium,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
            locale="en-US",
            timezone_id="UTC",
        )
        try:
            context.set_default_timeout(UI_TIMEOUT_MS)
            context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
            yield context
        finally:
            context.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser, airflow):
    """A fresh tab, signed in (the login cookie lives in the session's profile)."""
    tab = browser.new_page()
    try:
        sign_in(tab, airflow.api_url)
        yield tab
    finally:
        tab.close()


def sign_in(page, api_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{api_url}/")
    username = page.get_by_label("Username")
    signed_in = page.get_by_role("button", name="Admin")
    expect(username.or_(signed_in).first).to_be_visible()
    if username.is_visible():
        username.fill(UI_USER)
        page.get_by_label("Password").fill(UI_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/auth/login" not in url)
    expect(signed_in).to_be_visible()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure: every open tab's URL and a screenshot of it, and the api-server log's tail."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed or report.when == "teardown":
        return
    lines = []
    context = item.funcargs.get("browser")
    tabs = [t for t in (context.pages if context is not None else []) if t.url != "about:blank"]
    for n, tab in enumerate(tabs):
        shot = artifacts_dir() / f"FAILED-{re.sub(r'[^A-Za-z0-9_.-]+', '_', item.name)}-{n}.png"
        try:
            tab.screenshot(path=str(shot), full_page=True, timeout=15_000)
            lines.append(f"page {tab.url}\nscreenshot {shot}")
        except Exception as exc:  # the tab may be what broke
            lines.append(f"page {tab.url}\n(no screenshot: {exc})")
    stack = item.funcargs.get("airflow")
    if stack is not None and "api-server" in stack.logs:
        lines.append(f"---- last lines of {stack.logs['api-server']} ----\n{tail(stack.logs['api-server'], 40)}")
    if lines:
        report.sections.append(("UI failure diagnostics", "\n".join(lines)))


def pytest_terminal_summary(terminalreporter):
    # pytest hides skip reasons unless run with -rs; a whole suite skipped for want of a browser must
    # not look like a pass.
    if _skipped_for_chromium:
        terminalreporter.write_sep("!", "UI tests skipped", yellow=True, bold=True)
        terminalreporter.write_line(NO_CHROMIUM)
