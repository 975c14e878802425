"""Opt-in: the provider against a real ORDS and Oracle. Skipped unless both are configured:

    DATAPUMP_IT_ORDS_URL       base URL up to the schema alias (https://host:8443/ords/pdb1/dbapi_user)
    DATAPUMP_IT_ORDS_USER      DATAPUMP_IT_ORDS_PASSWORD
    DATAPUMP_IT_ORACLE_DSN     host:port/service of the same database
    DATAPUMP_IT_ORACLE_USER    DATAPUMP_IT_ORACLE_PASSWORD
    DATAPUMP_IT_SCHEMA         a small schema the user may export (default: the ORDS user)
"""

from __future__ import annotations

import json
import os
import time

import pytest

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (os.environ.get("DATAPUMP_IT_ORDS_URL") and os.environ.get("DATAPUMP_IT_ORACLE_DSN")),
        reason="set DATAPUMP_IT_ORDS_URL and DATAPUMP_IT_ORACLE_DSN (see the module docstring) to run",
    ),
]


@pytest.fixture
def real_hook(monkeypatch):
    from airflow_provider_datapump.hooks.datapump import DataPumpHook

    monkeypatch.setenv("AIRFLOW_CONN_ORDS_IT", json.dumps({
        "conn_type": "ords", "host": os.environ["DATAPUMP_IT_ORDS_URL"],
        "login": os.environ["DATAPUMP_IT_ORDS_USER"], "password": os.environ["DATAPUMP_IT_ORDS_PASSWORD"],
    }))
    monkeypatch.setenv("AIRFLOW_CONN_ORACLE_IT", json.dumps({
        "conn_type": "oracle", "login": os.environ["DATAPUMP_IT_ORACLE_USER"],
        "password": os.environ["DATAPUMP_IT_ORACLE_PASSWORD"], "extra": {"dsn": os.environ["DATAPUMP_IT_ORACLE_DSN"]},
    }))
    return DataPumpHook(ords_conn_id="ords_it", oracle_conn_id="oracle_it")


def test_connection_both_sides(real_hook):
    ok, message = real_hook.test_connection()
    assert ok, message


def test_export_runs_to_a_verdict_and_its_log_is_readable(real_hook):
    from airflow_provider_datapump.jobs import Outcome

    schema = os.environ.get("DATAPUMP_IT_SCHEMA", os.environ["DATAPUMP_IT_ORDS_USER"]).upper()
    job = real_hook.create_job({"operation": "EXPORT", "job_mode": "SCHEMA",
                                "schema_expressions": [{"expression": f"IN ('{schema}')"}]})
    deadline = time.monotonic() + 900
    while (result := real_hook.resolve(job)).verdict.outcome is Outcome.RUNNING:
        assert time.monotonic() < deadline, "the export did not finish in 15 minutes"
        time.sleep(10)
    assert result.verdict.outcome in (Outcome.SUCCEEDED, Outcome.SUCCEEDED_WITH_ERRORS), result.verdict
    assert any(f["kind"] == "log" for f in result.files)


def test_stop_job_of_a_missing_job_counts_as_gone(real_hook):
    assert real_hook.stop_job(os.environ["DATAPUMP_IT_ORACLE_USER"], "DATAPUMP_REST_EXPORT_19700101000000") is False
