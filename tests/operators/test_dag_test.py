"""A real DAG run with dag.test(): deferrable tasks, the trigger run in line, XCom between tasks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).parent.parent / "dags"


@pytest.fixture(scope="module")
def migrated_db():
    env = dict(os.environ)
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True, timeout=180)


def _run(monkeypatch):
    assert os.environ["AIRFLOW__CORE__DAGS_FOLDER"] == str(DAGS)  # set by tests/conftest.py
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS / "dp_refresh_deferrable.py")).dags["dp_refresh_deferrable"]
    return dag.test()


def _output(capfd, caplog) -> str:
    # Where Airflow's log lines land depends on which earlier test configured logging first.
    captured = capfd.readouterr()
    return captured.out + captured.err + caplog.text


def test_refresh_dag_defers_and_succeeds(migrated_db, ords_conn, monkeypatch, capfd, caplog):
    ords_conn.set_scenario(duration=1.5)
    run = _run(monkeypatch)
    out = _output(capfd, caplog)
    assert str(run.state) == "success", out[-3000:]
    assert "running trigger in line" in out and out.count("Pausing task as DEFERRED") == 2
    assert ords_conn.catalog()["schemas"]["TESTUSER2"]["tables"]["EMP"]["rows"] == 14
    posts = [r for r in ords_conn.requests() if r["method"] == "POST"]
    assert len(posts) == 2
    assert "DbApiUserPassword1" not in out


def test_export_with_errors_fails_the_dag_with_ora_lines(migrated_db, ords_conn, monkeypatch, capfd, caplog):
    ords_conn.set_scenario(duration=0.5, outcome="errors", error_count=1, ora_codes=["ORA-39083"])
    run = _run(monkeypatch)
    out = _output(capfd, caplog)
    assert str(run.state) == "failed"
    assert "completed with 1 error(s)" in out and "ORA-39083" in out
    assert len([r for r in ords_conn.requests() if r["method"] == "POST"]) == 1  # the import never started
    assert "TESTUSER2" not in ords_conn.catalog()["schemas"]
