"""The operators' extra link opens Database Actions' sign-in page, never the job's REST resource
(which a browser answers with a bare credentials prompt, then JSON)."""

from __future__ import annotations

import httpx
import pytest

from airflow_provider_datapump.operators.datapump import (
    DataPumpExportOperator,
    DataPumpJobLink,
    database_actions_url,
)
from airflow_provider_datapump.get_provider_info import get_provider_info
from tests.helpers import context


@pytest.mark.parametrize(
    ("self_url", "expected"),
    [
        ("https://db.example.com:8443/ords/pdb1/dbapi_user/_/db-api/stable/database/datapump/jobs/A,B/",
         "https://db.example.com:8443/ords/sql-developer"),
        ("https://db.example.com/ords/dbapi_user/_/db-api/latest/database/datapump/jobs/A,B/",
         "https://db.example.com/ords/sql-developer"),
        ("http://127.0.0.1:9999/rest/hr/_/db-api/stable/database/datapump/jobs/C%23%23X,J/", "http://127.0.0.1:9999/rest/sql-developer"),
        # Nothing to name: no context root, not the database API, not http(s), not a string.
        ("https://db.example.com/dbapi_user/_/db-api/stable/database/datapump/jobs/A,B/", ""),
        ("https://db.example.com/ords/dbapi_user/datapump/jobs/A,B/", ""),
        ("javascript:alert(1)//ords/x/_/db-api/", ""),
        (None, ""),
    ],
)
def test_the_link_is_database_actions_on_the_same_ords(self_url, expected):
    assert database_actions_url(self_url) == expected


def test_the_link_for_a_real_job_is_not_its_rest_resource(ords_conn):
    ords_conn.set_scenario(duration=0.0)
    ctx = context()
    DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], poll_interval=0.1).execute(ctx)
    self_url = ctx["ti"].pushed["datapump_job"]["self_url"]
    # What the old link opened: a browser without the connection's credentials gets the prompt.
    prompt = httpx.get(self_url)
    assert prompt.status_code == 401
    link = database_actions_url(self_url)
    assert link.endswith("/sql-developer") and "db-api" not in link
    assert httpx.URL(link).netloc == httpx.URL(self_url).netloc


def test_get_link_reads_the_pushed_job(monkeypatch):
    # XCom.get_value is replaced because a real read needs a running API server; the e2e suites run
    # one but do not open links. What is checked is the key read and the URL built from it.
    from airflow.providers.common.compat import sdk

    pushed = {"datapump_job": {"self_url": "https://h:8443/ords/u/_/db-api/stable/database/datapump/jobs/U,J/"}}
    monkeypatch.setattr(sdk.XCom, "get_value", staticmethod(lambda *, key, ti_key: pushed.get(key)))
    link = DataPumpJobLink()
    assert link.get_link(None, ti_key=None) == "https://h:8443/ords/sql-developer"
    pushed.clear()
    assert link.get_link(None, ti_key=None) == ""


def test_the_registered_link_is_this_class():
    assert get_provider_info()["extra-links"] == ["airflow_provider_datapump.operators.datapump.DataPumpJobLink"]
    assert DataPumpJobLink.name == "Database Actions"
