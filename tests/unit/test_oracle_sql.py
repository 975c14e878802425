"""The Oracle side, against a recording DB-API fake: no Oracle runs here, so these tests pin the
exact PL/SQL and bind variables that a real database would receive."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_provider_datapump.exceptions import DataPumpOracleNotConfiguredError
from airflow_provider_datapump.hooks import oracle_sql
from airflow_provider_datapump.hooks.datapump import DataPumpHook


class FakeVar:
    def __init__(self, value=None):
        self.value = value

    def getvalue(self):
        return self.value


class FakeCursor:
    def __init__(self, db):
        self.db = db

    def execute(self, sql, binds=None):
        self.db.executed.append((" ".join(sql.split()), dict(binds or {})))
        if self.db.raise_on_execute:
            raise self.db.raise_on_execute
        if binds and "content" in binds:
            binds["content"].value = self.db.clob

    def var(self, kind):
        return FakeVar()

    def fetchone(self):
        return self.db.rows[0] if self.db.rows else None

    def fetchall(self):
        return list(self.db.rows)

    def close(self):
        self.db.closed += 1


class FakeOracle:
    """Stands in for OracleHook: get_conn() returns a connection whose cursors record everything."""

    def __init__(self, rows=(), raise_on_execute=None, clob=None):
        self.executed, self.rows, self.raise_on_execute, self.clob = [], list(rows), raise_on_execute, clob
        self.closed = 0

    def get_conn(self):
        db = self

        class Conn:
            def cursor(self):
                return FakeCursor(db)

            def close(self):
                db.closed += 1

        return Conn()


def test_stop_job_attaches_and_stops_with_binds():
    db = FakeOracle()
    assert oracle_sql.stop_job(db, "dbapi_user", "DATAPUMP_REST_EXPORT_1") is True
    sql, binds = db.executed[0]
    assert "DBMS_DATAPUMP.ATTACH(job_name => :job_name, job_owner => :owner)" in sql
    assert "DBMS_DATAPUMP.STOP_JOB(handle => h, immediate => :immediate, keep_master => :keep_master, delay => 0)" in sql
    assert binds == {"job_name": "DATAPUMP_REST_EXPORT_1", "owner": "DBAPI_USER", "immediate": 1, "keep_master": 0}
    assert db.closed == 2  # cursor and connection


def test_stop_job_that_does_not_exist_counts_as_gone():
    db = FakeOracle(raise_on_execute=RuntimeError("ORA-31626: job does not exist"))
    assert oracle_sql.stop_job(db, "A", "B") is False


def test_stop_job_other_errors_propagate():
    db = FakeOracle(raise_on_execute=RuntimeError("ORA-01031: insufficient privileges"))
    with pytest.raises(RuntimeError, match="ORA-01031"):
        oracle_sql.stop_job(db, "A", "B")


def test_stop_job_refuses_a_name_that_is_not_an_identifier():
    db = FakeOracle()
    with pytest.raises(ValueError, match="job_name"):
        oracle_sql.stop_job(db, "A", "B'; drop")
    assert db.executed == []


def test_progress():
    db = FakeOracle(rows=[(42.5,)])
    assert oracle_sql.job_progress(db, "a", "b") == 42.5
    assert db.executed[0][1] == {"owner": "A", "job_name": "B"}
    assert oracle_sql.job_progress(FakeOracle(rows=[(None,)]), "a", "b") is None


def test_read_log_loads_the_bfile(monkeypatch):
    monkeypatch.setattr(oracle_sql, "_clob_type", lambda: "CLOB")
    db = FakeOracle(clob="Job ... successfully completed at x")
    assert oracle_sql.read_log(db, "test_dir", "EXPDAT-1.LOG").startswith("Job")
    sql, binds = db.executed[0]
    assert "BFILENAME(:directory, :file_name)" in sql and binds["directory"] == "TEST_DIR"
    with pytest.raises(ValueError):
        oracle_sql.read_log(db, "TEST_DIR", "../x.log")


def test_drop_orphaned_jobs_dry_run_and_real():
    db = FakeOracle(rows=[("DATAPUMP_REST_EXPORT_1",), ("BAD NAME",)])
    names = oracle_sql.drop_orphaned_jobs(db, "dbapi_user", timedelta(days=2))
    assert names == ["DATAPUMP_REST_EXPORT_1"]
    sql, binds = db.executed[0]
    assert binds == {"owner": "DBAPI_USER", "name_pattern": "DATAPUMP\\_REST\\_%", "age_days": 2.0}
    assert "j.state = 'NOT RUNNING'" in sql and len(db.executed) == 1
    oracle_sql.drop_orphaned_jobs(db, "dbapi_user", 1, dry_run=False)
    assert db.executed[-1][0] == 'DROP TABLE "DBAPI_USER"."DATAPUMP_REST_EXPORT_1" PURGE'


def test_drop_job_drops_only_a_finished_jobs_control_table():
    db = FakeOracle(rows=[("DATAPUMP_REST_EXPORT_20261201120000",)])
    assert oracle_sql.drop_job(db, "c##dp_admin", "DATAPUMP_REST_EXPORT_20261201120000") is True
    (check, binds), (drop, _) = db.executed
    assert "j.state = 'NOT RUNNING'" in check and "j.attached_sessions = 0" in check
    assert binds == {"owner": "C##DP_ADMIN", "job_name": "DATAPUMP_REST_EXPORT_20261201120000"}
    assert drop == 'DROP TABLE "C##DP_ADMIN"."DATAPUMP_REST_EXPORT_20261201120000" PURGE'
    running = FakeOracle(rows=[])
    assert oracle_sql.drop_job(running, "DBAPI_USER", "DATAPUMP_REST_EXPORT_1") is False
    assert len(running.executed) == 1  # nothing dropped while it runs (or once it is gone)


def test_hook_without_oracle_says_so_in_one_sentence():
    hook = DataPumpHook()
    for call in (lambda: hook.stop_job("A", "B"), lambda: hook.job_progress("A", "B"),
                 lambda: hook.read_log("D", "F.LOG"), lambda: hook.drop_orphaned_jobs("A", 1),
                 lambda: hook.drop_job("A", "B")):
        with pytest.raises(DataPumpOracleNotConfiguredError, match="no oracle_conn_id is set"):
            call()


def test_hook_uses_oracle_hook(monkeypatch):
    db = FakeOracle()
    hook = DataPumpHook(oracle_conn_id="oracle_default")
    hook.__dict__["oracle_hook"] = db
    assert hook.stop_job("A", "B") is True
