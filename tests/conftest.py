"""Test session setup: an isolated AIRFLOW_HOME, and ORDS connections that point at the emulator."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile

# Before anything imports Airflow: keep its state out of the user's home and the repo. An xdist
# worker inherits the controller's environment, so a home this file made there is replaced by one of
# the worker's own: two workers on one SQLite database would see each other's runs.
_HOME = tempfile.mkdtemp(prefix="dp-airflow-home-")
if os.environ.get("AIRFLOW_HOME") and os.environ.get("AIRFLOW_HOME") == os.environ.get("DATAPUMP_TEST_AIRFLOW_HOME"):
    os.environ["AIRFLOW_HOME"] = _HOME
os.environ.setdefault("AIRFLOW_HOME", _HOME)
os.environ["DATAPUMP_TEST_AIRFLOW_HOME"] = _HOME if os.environ["AIRFLOW_HOME"] == _HOME else ""
# One migrated metadata database per run, copied where one is needed (tests/airflow_db.py); made by
# the first process (the xdist controller, or the only one), inherited by the workers.
os.environ.setdefault("DATAPUMP_AIRFLOW_DB_TEMPLATE_DIR", tempfile.mkdtemp(prefix="dp-airflow-db-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
# dag.test() syncs DAGs from the configured bundle, which Airflow caches on first use.
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = os.path.join(os.path.dirname(__file__), "dags")

import pytest  # noqa: E402
from tests.credentials import PASSWORD, CLIENT_SECRET

# The emulator's pytest plugin is registered through the package's pytest11 entry point once the
# package is installed (make test does that); this keeps a bare checkout working too.
try:
    from importlib.metadata import entry_points

    _registered = any(ep.name == "datapump_emulator" for ep in entry_points(group="pytest11"))
except Exception:  # pragma: no cover
    _registered = False
pytest_plugins = ["pytester"] + ([] if _registered else ["airflow_provider_datapump.emulator.pytest_plugin"])

WRONG_PASSWORD = "Wr0ngSecret!"
# The Airflow UI user of the browser tests (tests/ui): a credential like the others, so scanned too.
UI_PASSWORD = "UiTesterPassw0rd1"


@pytest.fixture
def ords_conn(datapump_emulator, monkeypatch):
    """AIRFLOW_CONN_ORDS_DEFAULT pointing at a fresh emulator; returns the emulator handle."""
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps(datapump_emulator.airflow_connection()))
    return datapump_emulator


class EmulatorPair:
    """Production and test: two emulators on their own ports that share one object-store folder."""

    def __init__(self, prod, test, object_store):
        self.prod, self.test, self.object_store = prod, test, object_store

    def set_rows(self, schema: str, table: str, rows: int, on: str = "prod") -> dict:
        """A table's row count changes on one database (the emulator's catalog control, over HTTP)."""
        import httpx

        handle = getattr(self, on)
        return httpx.patch(f"{handle.url}/_emulator/catalog/{schema}/{table}", json={"rows": rows},
                           timeout=10).raise_for_status().json()


# The suite's emulators play an ORDS that serves no description of itself (openapi "none"), so that
# what the provider does from its own table holds as before; the tests of the self-description
# (tests/hooks/test_description.py and the like) set "release", "next" or a document of their own.
NO_DESCRIPTION = {"openapi": "none"}


@pytest.fixture(scope="session")
def datapump_emulator_server(tmp_path_factory):
    """The plugin's session emulator, serving no description unless a test sets one."""
    from airflow_provider_datapump.emulator.server import run_emulator

    with run_emulator(data_dir=tmp_path_factory.mktemp("datapump_emulator"), **NO_DESCRIPTION) as handle:
        yield handle


# The worker's description files of this test process (the provider's default is shared by every
# process of the OS user on this machine, other runs of the suite included).
_DESCRIPTION_FILES = tempfile.mkdtemp(prefix="dp-descriptions-")
atexit.register(shutil.rmtree, _DESCRIPTION_FILES, True)


@pytest.fixture(autouse=True)
def _no_description_from_another_test():
    """The provider keeps a server's description for minutes, in the process and in a file on the
    worker's disk; tests swap the server behind one URL (another release, another description), so
    each test starts with none kept. The test modules import the hook when collected, so the
    module is there before the first test."""
    _forget_descriptions()
    yield
    _forget_descriptions()


def _forget_descriptions() -> None:
    import sys

    module = sys.modules.get("airflow_provider_datapump.hooks.ords.description")
    if module is not None:
        module.CACHE.directory = _DESCRIPTION_FILES
        module.CACHE.clear()


@pytest.fixture(scope="session")
def emulator_pair_servers(tmp_path_factory):
    """Two emulators for the session, started with the same object-store folder."""
    from airflow_provider_datapump.emulator.server import run_emulator

    bucket = tmp_path_factory.mktemp("object-store")
    with run_emulator(data_dir=tmp_path_factory.mktemp("prod-db"), object_store_dir=str(bucket), db_unique_name="PROD",
                      **NO_DESCRIPTION) as prod, \
            run_emulator(data_dir=tmp_path_factory.mktemp("test-db"), object_store_dir=str(bucket), db_unique_name="TEST",
                         **NO_DESCRIPTION) as test:
        yield EmulatorPair(prod, test, bucket)


@pytest.fixture
def ords_pair(emulator_pair_servers, monkeypatch):
    """ords_prod (and ords_default) and ords_test pointing at two fresh emulators sharing a bucket."""
    pair = emulator_pair_servers
    for handle in (pair.prod, pair.test):
        handle.reset()
    for conn_id, handle in (("ORDS_DEFAULT", pair.prod), ("ORDS_PROD", pair.prod), ("ORDS_TEST", pair.test)):
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id}", json.dumps(handle.airflow_connection()))
    return pair


@pytest.fixture
def fast_hook(ords_conn):
    """A hook with short retry waits, so fault tests finish in seconds."""
    from airflow_provider_datapump.hooks.datapump import DataPumpHook

    hook = DataPumpHook(retry_attempts=4, retry_backoff=0.05, retry_max_backoff=0.2)
    yield hook
    hook.close()


# ---------------------------------------------------------------------------------------------
# Secret scan: every test's captured output, log records and failure text are searched for the
# test credentials and for every OAuth token the emulator issued. A hit fails the test.
# ---------------------------------------------------------------------------------------------

STATIC_SECRETS = (PASSWORD, CLIENT_SECRET, WRONG_PASSWORD, UI_PASSWORD)


def _issued_tokens(item) -> list[str]:
    servers = [item.funcargs.get("datapump_emulator") or item.funcargs.get("ords_conn")]
    pair = item.funcargs.get("ords_pair")
    if pair is not None:
        servers += [pair.prod, pair.test]
    return [t for server in servers if server is not None for t in (getattr(server.state, "_tokens", {}) or {})]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    # The call report carries setup's and the call's captures; teardown would report them again.
    if report.when != "call" or item.get_closest_marker("prints_secrets"):
        return
    text = "\n".join(
        [report.capstdout, report.capstderr, report.caplog, str(report.longrepr or "")]
    )
    leaked = [s for s in (*STATIC_SECRETS, *_issued_tokens(item)) if s and s in text]
    if leaked and report.outcome != "failed":
        report.outcome = "failed"
        report.longrepr = f"secret leaked into the test's output or logs: {leaked[0][:4]}… ({len(leaked)} hit(s))"


def pytest_configure(config):
    config.addinivalue_line("markers", "prints_secrets: the test prints credentials on purpose (exempt from the scan)")


# ---------------------------------------------------------------------------------------------
# Parallel runs (#29). make test runs on both cores with pytest-xdist, `--dist loadscope`, with the
# scheduler below: a module is one unit of work, so its module-scoped fixtures (an Airflow stack, a
# store server, the bench smoke's scripts) are set up once, on one worker. Units go out in this
# order: the ones measured slowest first (make test-profile), so that a long one does not start
# last and end the run alone. Without xdist none of this matters.
# ---------------------------------------------------------------------------------------------

# Modules run one after another as one unit. The browser suite shares one session deployment. The
# real-scheduler modules each start a whole Airflow (four or more processes): two at once on two
# cores starve each other's scheduler and triggerer, so they take one lane while the other worker
# runs the rest of the suite.
SHARED_UNITS = {"tests/ui/": "airflow-stacks", "tests/e2e/": "airflow-stacks"}
SLOWEST_FIRST = (
    "airflow-stacks",
    "tests/bench/test_bench_smoke.py",
    "tests/lineage/test_lineage.py",
    "tests/operators/test_dag_test.py",
    "tests/operators/test_operators.py",
    "tests/packaging/test_wheel.py",
    "tests/hooks/test_identity.py",
    "tests/operators/test_fetch_objstore.py",
    "tests/unit/test_provider_info.py",
    "tests/triggers/test_watcher.py",
)


def _unit(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    return next((unit for prefix, unit in SHARED_UNITS.items() if module.startswith(prefix)), module)


@pytest.hookimpl(optionalhook=True)  # `-p no:xdist` runs serially without the hook's spec
def pytest_xdist_make_scheduler(config, log):
    """loadscope with this file's units. Not `--dist loadgroup` and xdist_group marks: xdist 3.8
    applies a group by rewriting ``item._nodeid``, which pytest 9.2 no longer reads, so every test
    became a unit of its own and a module's fixtures were set up on both workers."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    return UnitScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    if not hasattr(config, "workerinput"):
        return  # a serial run keeps pytest's order
    # Each worker collects the same list, in this order, and the scheduler hands units out in it
    # (--no-loadscope-reorder). A stable sort: within a unit and among the rest, collection order stands.
    rank = {unit: i for i, unit in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(_unit(item.nodeid), len(rank)))
