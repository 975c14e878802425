"""The SQL transport through ORDS (issue 26): every operation of hooks/sql over REST-Enabled SQL,
against the emulator over real HTTP, through the hook's own transport (auth, retries, masking).

The same operations over oracledb, against a fake DB-API connection, are in
tests/unit/test_sql_oracledb.py."""

from __future__ import annotations

import logging
import re

import pytest
from tests.credentials import PASSWORD

from airflow_provider_datapump.exceptions import (
    DataPumpHTTPError,
    DataPumpSqlError,
    DataPumpSqlUnavailableError,
    DataPumpValidationError,
)
from airflow_provider_datapump.hooks.datapump import DataPumpHook
from airflow_provider_datapump.hooks.sql import statements as st
from airflow_provider_datapump.hooks.sql.runners import RestSqlRunner, sql_flow

EXPORT = {"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": [{"expression": "= 'TESTUSER1'"}]}


def sql_posts(emu):
    return [r for r in emu.requests() if r["method"] == "POST" and r["path"].endswith("/_/sql")]


def running(emu, hook, seconds=60):
    emu.set_scenario(duration=seconds)
    return hook.create_job(EXPORT)


def test_without_oracle_conn_id_the_hook_runs_sql_through_ords(ords_conn, fast_hook):
    assert isinstance(fast_hook.sql, RestSqlRunner) and fast_hook.progress_available
    ords_conn.clear_requests()
    identity = fast_hook.database_identity()
    assert set(identity) == {"db_unique_name", "con_name", "session_user"}
    assert identity["session_user"] == "DBAPI_USER"
    [post] = sql_posts(ords_conn)
    assert post["path"] == "/ords/dbapi_user/_/sql" and post["status"] == 200
    ok, message = fast_hook.test_connection()
    assert ok and "REST-Enabled SQL answered" in message


def test_users_identity_and_object_counts(ords_conn, fast_hook):
    assert fast_hook.user_info("testuser1") == {"username": "TESTUSER1", "oracle_maintained": False}
    assert fast_hook.user_info("SYS") == {"username": "SYS", "oracle_maintained": True}
    assert fast_hook.user_info("NOBODY_HERE") is None
    tables = len(ords_conn.catalog()["schemas"]["TESTUSER1"]["tables"])
    assert fast_hook.user_object_count("TESTUSER1") == tables > 0
    assert fast_hook.user_object_count("NOBODY_HERE") == 0


def test_drop_user_drops_then_reports_the_first_night(ords_conn, fast_hook):
    assert fast_hook.drop_user("TESTUSER1") is True
    assert "TESTUSER1" not in ords_conn.catalog()["schemas"]
    assert fast_hook.user_info("TESTUSER1") is None
    assert fast_hook.drop_user("TESTUSER1") is False  # ORA-01918: not there, not an error


def test_drop_user_while_a_job_of_it_runs_is_ora_01940(ords_conn, fast_hook):
    job = running(ords_conn, fast_hook)
    with pytest.raises(DataPumpSqlError) as caught:
        fast_hook.drop_user(job.owner_name)
    assert caught.value.code == "ORA-01940" and caught.value.statement == "DROP_USER"
    assert "DROP_USER: ORA-01940" in str(caught.value)


@pytest.mark.parametrize("name", ['X" CASCADE; DROP USER SYS --', "TESTUSER1'", "a b", "", "A\nB"])
def test_a_hostile_user_name_never_reaches_ords(ords_conn, fast_hook, name):
    ords_conn.clear_requests()
    with pytest.raises(DataPumpValidationError, match="username"):
        fast_hook.drop_user(name)
    assert sql_posts(ords_conn) == []


def test_running_jobs_progress_and_stop_really_stops_the_job(ords_conn, fast_hook):
    job = running(ords_conn, fast_hook)
    listed = fast_hook.running_jobs()
    assert [(j["owner_name"], j["job_name"], j["operation"]) for j in listed] == [(job.owner_name, job.job_name, "EXPORT")]
    percent = fast_hook.job_progress(job.owner_name, job.job_name)
    assert percent is not None and 0 <= percent <= 100
    assert fast_hook.stop_job(job.owner_name, job.job_name) is True
    assert ords_conn.jobs()[0]["outcome"] == "stopped"
    assert fast_hook.running_jobs() == []
    # keep_master=0 (the default): the stopped job's control table goes, and ORDS forgets it.
    assert fast_hook.resolve(job).verdict.outcome.value == "vanished"
    assert fast_hook.stop_job(job.owner_name, job.job_name) is False  # ORA-31626: nothing left to stop


def test_stop_keeping_the_control_table_and_stopping_again(ords_conn, fast_hook):
    job = running(ords_conn, fast_hook)
    assert fast_hook.stop_job(job.owner_name, job.job_name, keep_master=True) is True
    assert fast_hook.get_job(job).state == "NOT RUNNING"
    # ORA-39004: no longer running. (With keep_master=0 the emulator, like Oracle, lets the stop drop the table.)
    assert fast_hook.stop_job(job.owner_name, job.job_name, keep_master=True) is False


def test_read_log_and_drop_a_finished_jobs_control_table(ords_conn, fast_hook):
    ords_conn.set_scenario(duration=0)
    job = fast_hook.create_job(EXPORT)
    result = fast_hook.resolve(job)
    log_name = result.to_xcom()["log_file"]
    assert fast_hook.read_log("DATA_PUMP_DIR", log_name) == fast_hook.get_file_text(job, log_name)
    with pytest.raises(DataPumpSqlError) as caught:
        fast_hook.read_log("DATA_PUMP_DIR", "NOPE.LOG")
    assert caught.value.code.startswith("ORA-") and caught.value.statement == "READ_LOG"
    assert fast_hook.drop_orphaned_jobs(job.owner_name, 0) == []  # created this second: not older than 0 days yet
    assert fast_hook.drop_job(job.owner_name, job.job_name) is True
    assert all(j.job_name != job.job_name for j in fast_hook.list_jobs(limit=100).items)
    assert fast_hook.drop_job(job.owner_name, job.job_name) is False  # gone


def test_drop_orphaned_jobs_lists_then_drops(ords_conn, fast_hook):
    ords_conn.set_scenario(duration=0)
    job = fast_hook.create_job(EXPORT)
    fast_hook.resolve(job)
    ords_conn.advance_clock(3 * 86400)
    assert fast_hook.drop_orphaned_jobs(job.owner_name, 2) == [job.job_name]  # dry run
    assert any(j.job_name == job.job_name for j in fast_hook.list_jobs(limit=100).items)
    assert fast_hook.drop_orphaned_jobs(job.owner_name, 2, dry_run=False) == [job.job_name]
    assert all(j.job_name != job.job_name for j in fast_hook.list_jobs(limit=100).items)


def test_a_statement_the_database_refuses_comes_back_as_its_ora_code(ords_conn, fast_hook):
    with pytest.raises(DataPumpSqlError) as caught:
        fast_hook.sql.query(st.Statement("NONSENSE", "SELECT * FROM no_such_view"), {})
    assert caught.value.code == "ORA-00942" and caught.value.statement == "NONSENSE"
    with pytest.raises(DataPumpSqlError) as caught:
        fast_hook.sql.execute("GRANT DBA TO PUBLIC")
    assert caught.value.code in ("ORA-00900", "ORA-00942") and caught.value.statement == "SQL"


@pytest.mark.parametrize("datapump_emulator", [{"rest_enabled_sql": False}], indirect=True)
def test_rest_sql_inactive_names_both_ways_and_progress_stops_asking(ords_conn, fast_hook):
    job = running(ords_conn, fast_hook)
    ords_conn.clear_requests()
    with pytest.raises(DataPumpSqlUnavailableError) as caught:
        fast_hook.stop_job(job.owner_name, job.job_name)
    message = str(caught.value)
    assert "restEnabledSql.active=true" in message and "oracle_conn_id" in message and "HTTP 404" in message
    assert caught.value.status == 404
    assert ords_conn.jobs()[0]["outcome"] != "stopped"
    # Progress is a courtesy: after one "not available" the hook stops asking for its lifetime.
    assert not fast_hook.progress_available
    assert fast_hook.job_progress(job.owner_name, job.job_name) is None
    assert len(sql_posts(ords_conn)) == 1
    ok, text = fast_hook.test_connection()
    assert ok and "restEnabledSql.active=true" in text  # the Database API works; SQL is what is missing


@pytest.mark.parametrize("status", [405, 401])
def test_405_or_401_at_sql_while_the_database_api_answers_is_unavailable(ords_conn, fast_hook, status):
    # ORDS behind a gateway that does not route _/sql, or an OAuth client without SQL access: the
    # emulator's fault injection answers _/sql alone with that status.
    ords_conn.add_fault(kind="status", status=status, method="POST", path=r"/_/sql$")
    with pytest.raises(DataPumpSqlUnavailableError, match=rf"HTTP {status}.*restEnabledSql.active=true.*oracle_conn_id"):
        fast_hook.database_identity()


def test_a_401_when_the_login_itself_is_wrong_stays_a_login_error(ords_conn, monkeypatch):
    import json

    from tests.conftest import WRONG_PASSWORD

    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps(ords_conn.airflow_connection(password=WRONG_PASSWORD)))
    hook = DataPumpHook(retry_attempts=1)
    with pytest.raises(DataPumpHTTPError) as caught:
        hook.database_identity()
    assert not isinstance(caught.value, DataPumpSqlUnavailableError)
    assert caught.value.status == 401 and "login and password" in str(caught.value)


def test_a_503_is_retried_like_any_query(ords_conn, fast_hook):
    ords_conn.add_fault(kind="status", status=503, retry_after=None, times=2, method="POST", path=r"/_/sql$")
    assert fast_hook.user_info("TESTUSER1")["username"] == "TESTUSER1"
    assert [r["status"] for r in sql_posts(ords_conn)][-3:] == [503, 503, 200]


def test_a_change_is_not_sent_twice_after_a_5xx(ords_conn, fast_hook):
    """DROP USER, STOP_JOB, DROP TABLE may have run when a 5xx came back: not retried blindly."""
    ords_conn.add_fault(kind="status", status=502, retry_after=None, times=1, method="POST", path=r"/_/sql$")
    ords_conn.clear_requests()
    with pytest.raises(DataPumpSqlError, match="may or may not have run") as caught:
        fast_hook.drop_user("TESTUSER3")
    assert caught.value.code is None and len(sql_posts(ords_conn)) == 1


class RecordingLog:
    """Every call to the runner's log, by level (Airflow's own logger filters DEBUG out by default)."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, level):
        return lambda msg, *args, **kw: self.calls.append((level, msg % args if args else msg))


def test_nothing_secret_is_logged_and_binds_only_at_debug(ords_conn, fast_hook, caplog):
    caplog.set_level(logging.DEBUG)  # httpx and httpcore too
    log = RecordingLog()
    runner = RestSqlRunner(fast_hook.settings, fast_hook._run, log)
    job = running(ords_conn, fast_hook)
    from airflow_provider_datapump.hooks.sql import operations as ops

    ops.job_progress(runner, job.owner_name, job.job_name)
    ops.stop_job(runner, job.owner_name, job.job_name)
    text = "\n".join(m for _, m in log.calls) + caplog.text
    assert any("SQL STOP_JOB over REST-Enabled SQL, binds" in m and job.job_name in m for _, m in log.calls)
    assert {level for level, m in log.calls if "binds" in m} == {"debug"}
    assert PASSWORD not in text and "Authorization" not in text and "Basic " not in text


def test_a_query_reads_every_page(ords_conn):
    """ORDS pages a result (hasMore): the flow asks again from the next offset until the end."""
    hook = DataPumpHook()
    pages = iter([
        {"items": [{"resultSet": {"metadata": [{"jsonColumnName": "job_name"}], "items": [{"job_name": "A"}],
                                  "hasMore": True, "offset": 0}}]},
        {"items": [{"resultSet": {"metadata": [{"jsonColumnName": "job_name"}], "items": [{"job_name": "B"}],
                                  "hasMore": False, "offset": 1}}]},
    ])
    flow = sql_flow(hook.settings, st.RUNNING_JOBS, {}, query=True)
    sent = [next(flow)]
    try:
        while True:
            sent.append(flow.send(next(pages)))
    except StopIteration as done:
        assert done.value == [("A",), ("B",)]
    assert [r.json.get("offset") for r in sent] == [None, 1]


def test_a_wait_on_a_worker_logs_progress_read_through_rest_sql(ords_conn, fast_hook, capsys):
    job = running(ords_conn, fast_hook, seconds=0.6)
    ords_conn.clear_requests()
    result = fast_hook.wait_for_job(job, poll_interval=0.1, max_poll_interval=0.1)
    assert result.verdict.outcome.value == "succeeded"
    assert re.search(rf"Data Pump job {job.ident} is \d+\.\d% done", capsys.readouterr().out)
    assert {r["status"] for r in sql_posts(ords_conn)} == {200}


def test_progress_asks_once_when_rest_sql_is_off(ords_conn, fast_hook, capsys):
    ords_conn.set_scenario(rest_enabled_sql=False)
    job = running(ords_conn, fast_hook, seconds=0.6)
    ords_conn.clear_requests()
    fast_hook.wait_for_job(job, poll_interval=0.1, max_poll_interval=0.1)
    assert len(sql_posts(ords_conn)) == 1
    assert capsys.readouterr().out.count("No progress lines") == 1
