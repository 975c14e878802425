"""A real DAG run with dag.test(): deferrable tasks, the trigger run in line, XCom between tasks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from packaging.version import Version

from airflow_provider_datapump._compat import AIRFLOW_VERSION
from tests import airflow_db
from tests.airflow_stack import DROP_USER, is_create, sql_requests
from tests.credentials import PASSWORD
from tests.helpers import creates
from tests.lineage.refresh import run_refresh

DAGS = Path(__file__).parent.parent / "dags"


@pytest.fixture(scope="module")
def migrated_db():
    airflow_db.migrate(os.environ["AIRFLOW_HOME"])


def _run(monkeypatch):
    assert os.environ["AIRFLOW__CORE__DAGS_FOLDER"] == str(DAGS)  # set by tests/conftest.py
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0 and 3.1
        from airflow.models.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS / "dp_refresh_deferrable.py")).dags["dp_refresh_deferrable"]
    return dag.test()


def _output(capfd, caplog) -> str:
    # Where Airflow's log lines land depends on which earlier test configured logging first.
    captured = capfd.readouterr()
    return captured.out + captured.err + caplog.text


def _without_airflows_mask_echo(out: str) -> str:
    """Drop the DEBUG line in which Airflow below 3.1 echoes each secret as it masks it, under dag.test().

    There ``mask_secret`` sends the secret to the supervisor before adding it to the local masker,
    and dag.test()'s in-process supervisor logs what it is sent ("Sending request
    msg=MaskSecret(value=...)"), unredacted. Airflow does this for every connection's password as
    the task reads the connection, before any provider code sees it; 3.1 masks locally first. Only
    that line is dropped: the password anywhere else still fails the test.
    """
    if Version("3.1.0") <= AIRFLOW_VERSION:
        return out
    return "\n".join(line for line in out.splitlines() if not ("Sending request" in line and "MaskSecret(" in line))


def test_refresh_dag_defers_and_succeeds(migrated_db, ords_conn, monkeypatch, capfd, caplog):
    ords_conn.set_scenario(duration=1.5)
    run = _run(monkeypatch)
    out = _output(capfd, caplog)
    assert str(run.state) == "success", out[-3000:]
    assert "running trigger in line" in out and out.count("Pausing task as DEFERRED") == 2
    assert ords_conn.catalog()["schemas"]["TESTUSER2"]["tables"]["EMP"]["rows"] == 14
    assert len(creates(ords_conn)) == 2  # (REST-Enabled SQL posts for progress are not creates)
    assert PASSWORD not in _without_airflows_mask_echo(out)


def test_export_with_errors_fails_the_dag_with_ora_lines(migrated_db, ords_conn, monkeypatch, capfd, caplog):
    ords_conn.set_scenario(duration=0.5, outcome="errors", error_count=1, ora_codes=["ORA-39083"])
    run = _run(monkeypatch)
    out = _output(capfd, caplog)
    assert str(run.state) == "failed"
    assert "completed with 1 error(s)" in out and "ORA-39083" in out
    assert len(creates(ords_conn)) == 1  # the import never started
    assert "TESTUSER2" not in ords_conn.catalog()["schemas"]


def test_mapped_exports_beside_another_client_each_end_with_their_own_job(migrated_db, ords_conn, capfd, caplog):
    """Issue 15 under dag.test(): ten mapped exports on one connection, three creates answered after
    the hook's timeout, while another client of the same ORDS user creates exports of other schemas
    every half second. No export may report another's job, and no schema is exported twice."""
    import threading

    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0 and 3.1
        from airflow.models.dagbag import DagBag

    from airflow_provider_datapump.hooks.datapump import DataPumpHook

    schemas = [f"APP{i:02d}" for i in range(10)]
    catalog = ords_conn.catalog()
    catalog["schemas"].update({s: {"tables": {"T1": {"tablespace": "USERS", "rows": 100 + i, "bytes": 65536}}}
                               for i, s in enumerate(schemas)})
    ords_conn.load_catalog(catalog)
    ords_conn.set_scenario(duration=1.0)
    ords_conn.add_fault(kind="late", seconds=5, times=3, method="POST", path=r"/export$")
    stop = threading.Event()
    theirs: list[str] = []

    def other_client():
        hook = DataPumpHook(retry_backoff=0.05)
        i = 0
        while not stop.is_set():
            schema = ("TESTUSER1", "TESTUSER3")[i % 2]
            i += 1
            try:
                job = hook.create_job({"operation": "EXPORT", "schema_expressions": [{"expression": f"= '{schema}'"}]})
                theirs.append(job.ident)
            except Exception:  # a late answer can land on this client too; it is not under test
                pass
            stop.wait(0.5)

    thread = threading.Thread(target=other_client, daemon=True)
    thread.start()
    try:
        dag = DagBag(dag_folder=str(DAGS / "dp_mapped_exports.py")).dags["dp_mapped_exports"]
        run = dag.test()
    finally:
        stop.set()
        thread.join(30)
    out = _output(capfd, caplog)
    assert str(run.state) == "success", out[-4000:]
    ours = [j for j in ords_conn.jobs() if j["schemas"] and j["schemas"][0].startswith("APP")]
    per_schema = {s: sum(1 for j in ours if j["schemas"] == [s]) for s in schemas}
    assert all(n == 1 for n in per_schema.values()), per_schema  # no second export behind a task's back
    assert len(theirs) >= 3 and not set(theirs) & {f"{j['owner_name']},{j['job_name']}" for j in ours}
    assert len([r for r in ords_conn.requests() if "late" in r["faults"]]) == 3


def test_refresh_example_two_nights_from_prod_to_test(ords_pair, tmp_path):
    """Issue 26 under dag.test(): the example refresh DAG on two nights, production and test being two
    emulators that share an object-store folder. Between the nights production's EMP grows; night 2
    must land night 2's rows, the drop goes to the test database only, and production is untouched."""
    for handle in (ords_pair.prod, ords_pair.test):
        handle.set_scenario(duration=0.5)
    grow = {"method": "PATCH", "url": f"{ords_pair.prod.url}/_emulator/catalog/TESTUSER1/EMP", "json": {"rows": 23}}
    (tmp_path / "events").mkdir()
    out = run_refresh(ords_pair, tmp_path / "events", nights=[
        {"logical_date": "2026-12-01T01:00:00+00:00"},
        {"logical_date": "2026-12-02T01:00:00+00:00", "before": [grow]},
    ])
    assert out["states"] == ["success", "success"], out["output"][-4000:]
    tables = ords_pair.test.catalog()["schemas"]["TESTUSER2"]["tables"]
    assert {name: t["rows"] for name, t in tables.items()} == {"EMP": 23, "DEPT": 4}, tables

    test_requests, prod_requests = ords_pair.test.requests(), ords_pair.prod.requests()
    imports = [r for r in test_requests if is_create(r) and r["status"] == 201]
    assert len(imports) == 2, imports
    drops = sql_requests(test_requests, DROP_USER)
    # Night 1 may try the drop (TESTUSER2 absent: ORA-01918, not an error) or skip it; night 2 must drop,
    # after night 1's import and before its own.
    night2 = [d for d in drops if imports[0]["timestamp"] < d["timestamp"] < imports[1]["timestamp"]]
    assert len(night2) == 1 and len(drops) <= 2, drops
    assert sql_requests(prod_requests, DROP_USER) == [], "a DROP USER reached production"
    prod_tables = ords_pair.prod.catalog()["schemas"]
    assert {n: t["rows"] for n, t in prod_tables["TESTUSER1"]["tables"].items()} == {"EMP": 23, "DEPT": 4}
    assert "TESTUSER2" not in prod_tables
    assert PASSWORD not in _without_airflows_mask_echo(out["output"])
