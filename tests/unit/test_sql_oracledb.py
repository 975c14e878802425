"""The oracledb transport, against a recording DB-API fake: no Oracle runs here, so these tests pin
the exact statements and bind variables a real database would receive. The same operations over
REST-Enabled SQL, against the emulator over HTTP, are in tests/hooks/test_rest_sql.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_provider_datapump.exceptions import DataPumpSqlError, DataPumpValidationError
from airflow_provider_datapump.hooks.datapump import DataPumpHook
from airflow_provider_datapump.hooks.sql import operations as ops
from airflow_provider_datapump.hooks.sql import statements as st
from airflow_provider_datapump.hooks.sql.runners import OracleDbRunner


class FakeLob:
    def __init__(self, text):
        self.text = text

    def read(self):
        return self.text


class OraError(Exception):
    """What oracledb raises: args[0] carries ``full_code`` and ``message``."""

    def __init__(self, code, message):
        class _Inner:
            full_code, message_ = code, message

        inner = _Inner()
        inner.message = f"{code}: {message}"
        super().__init__(inner)


class FakeCursor:
    def __init__(self, db):
        self.db = db

    def execute(self, sql, binds=None):
        self.db.executed.append((" ".join(sql.split()), dict(binds or {})))
        self.db.names.append(getattr(sql, "name", None))
        if self.db.raise_on_execute:
            raise self.db.raise_on_execute

    def fetchall(self):
        return list(self.db.rows)

    def close(self):
        self.db.closed += 1


class FakeOracle:
    """Stands in for OracleHook: get_conn() returns a connection whose cursors record everything."""

    def __init__(self, rows=(), raise_on_execute=None):
        self.executed, self.names, self.rows, self.raise_on_execute = [], [], list(rows), raise_on_execute
        self.closed = 0

    def get_conn(self):
        db = self

        class Conn:
            def cursor(self):
                return FakeCursor(db)

            def close(self):
                db.closed += 1

        return Conn()

    def runner(self):
        return OracleDbRunner(self)


def test_stop_job_attaches_and_stops_in_one_block_with_binds():
    db = FakeOracle()
    assert ops.stop_job(db.runner(), "dbapi_user", "DATAPUMP_REST_EXPORT_1") is True
    [(sql, binds)] = db.executed
    assert sql.startswith("DECLARE") and sql.endswith("END;")  # one block: ORDS pools sessions
    assert "DBMS_DATAPUMP.ATTACH(job_name => :job_name, job_owner => :owner)" in sql
    assert "DBMS_DATAPUMP.STOP_JOB(handle => h, immediate => :immediate, keep_master => :keep_master, delay => 0)" in sql
    assert binds == {"job_name": "DATAPUMP_REST_EXPORT_1", "owner": "DBAPI_USER", "immediate": 1, "keep_master": 0}
    assert db.closed == 2  # cursor and connection


def test_stop_job_that_does_not_exist_counts_as_gone():
    assert ops.stop_job(FakeOracle(raise_on_execute=OraError("ORA-31626", "job does not exist")).runner(), "A", "B") is False
    # A driver whose error only says the code in its text maps the same way.
    assert ops.stop_job(FakeOracle(raise_on_execute=RuntimeError("ORA-31626: job does not exist")).runner(), "A", "B") is False


def test_other_errors_come_back_as_the_ora_code_naming_the_statement():
    db = FakeOracle(raise_on_execute=OraError("ORA-01031", "insufficient privileges"))
    with pytest.raises(DataPumpSqlError, match="STOP_JOB: ORA-01031: insufficient privileges") as caught:
        ops.stop_job(db.runner(), "A", "B")
    assert caught.value.code == "ORA-01031" and caught.value.statement == "STOP_JOB"
    assert db.closed == 2


def test_an_error_without_a_code_is_not_dressed_up_as_one():
    db = FakeOracle(raise_on_execute=ConnectionError("listener refused"))
    with pytest.raises(ConnectionError):
        ops.ping(db.runner())


def test_stop_job_refuses_a_name_that_is_not_an_identifier():
    db = FakeOracle()
    with pytest.raises(DataPumpValidationError, match="job_name"):
        ops.stop_job(db.runner(), "A", "B'; drop")
    assert db.executed == []


def test_progress():
    db = FakeOracle(rows=[(42.5,)])
    assert ops.job_progress(db.runner(), "a", "b") == 42.5
    assert db.executed[0][1] == {"owner": "A", "job_name": "B"}
    assert ops.job_progress(FakeOracle(rows=[(None,)]).runner(), "a", "b") is None
    assert ops.job_progress(FakeOracle(rows=[]).runner(), "a", "b") is None


def test_read_log_is_the_same_query_on_both_transports_and_reads_the_lob():
    db = FakeOracle(rows=[(FakeLob("Job ... successfully completed at x"),)])
    assert ops.read_log(db.runner(), "test_dir", "EXPDAT-1.LOG").startswith("Job")
    sql, binds = db.executed[0]
    assert sql == "SELECT TO_CLOB(BFILENAME(:directory, :file_name)) AS content FROM dual"
    assert binds == {"directory": "TEST_DIR", "file_name": "EXPDAT-1.LOG"}
    with pytest.raises(DataPumpValidationError):
        ops.read_log(db.runner(), "TEST_DIR", "../x.log")
    assert len(db.executed) == 1


def test_drop_orphaned_jobs_dry_run_and_real():
    db = FakeOracle(rows=[("DATAPUMP_REST_EXPORT_1",), ("BAD NAME",), ('X"Y',)])
    names = ops.drop_orphaned_jobs(db.runner(), "dbapi_user", timedelta(days=2))
    assert names == ["DATAPUMP_REST_EXPORT_1"]
    sql, binds = db.executed[0]
    assert binds == {"owner": "DBAPI_USER", "name_pattern": "DATAPUMP\\_REST\\_%", "age_days": 2.0}
    assert "j.state = 'NOT RUNNING'" in sql and len(db.executed) == 1
    ops.drop_orphaned_jobs(db.runner(), "dbapi_user", 1, dry_run=False)
    assert db.executed[-1] == ('DROP TABLE "DBAPI_USER"."DATAPUMP_REST_EXPORT_1" PURGE', {})
    assert db.names[-1] == "DROP_CONTROL_TABLE"


def test_drop_job_drops_only_a_finished_jobs_control_table():
    db = FakeOracle(rows=[("DATAPUMP_REST_EXPORT_20261201120000",)])
    assert ops.drop_job(db.runner(), "c##dp_admin", "DATAPUMP_REST_EXPORT_20261201120000") is True
    (check, binds), (drop, _) = db.executed
    assert "j.state = 'NOT RUNNING'" in check and "j.attached_sessions = 0" in check
    assert binds == {"owner": "C##DP_ADMIN", "job_name": "DATAPUMP_REST_EXPORT_20261201120000"}
    assert drop == 'DROP TABLE "C##DP_ADMIN"."DATAPUMP_REST_EXPORT_20261201120000" PURGE'
    running = FakeOracle(rows=[])
    assert ops.drop_job(running.runner(), "DBAPI_USER", "DATAPUMP_REST_EXPORT_1") is False
    assert len(running.executed) == 1  # nothing dropped while it runs (or once it is gone)


def test_identity_users_and_running_jobs():
    assert ops.database_identity(FakeOracle(rows=[("ORCL", "PDB1", "DBAPI_USER")]).runner()) == {
        "db_unique_name": "ORCL", "con_name": "PDB1", "session_user": "DBAPI_USER"}
    db = FakeOracle(rows=[("SYS", "Y")])
    assert ops.user_info(db.runner(), "sys") == {"username": "SYS", "oracle_maintained": True}
    assert db.executed == [("SELECT username, oracle_maintained FROM dba_users WHERE username = :username",
                            {"username": "SYS"})]
    assert ops.user_info(FakeOracle(rows=[]).runner(), "TESTUSER2") is None
    assert ops.user_object_count(FakeOracle(rows=[(7,)]).runner(), "TESTUSER2") == 7
    jobs = ops.running_jobs(FakeOracle(rows=[("A", "J", "EXPORT", "SCHEMA", "EXECUTING")]).runner())
    assert jobs == [{"owner_name": "A", "job_name": "J", "operation": "EXPORT", "job_mode": "SCHEMA", "state": "EXECUTING"}]


def test_drop_user_binds_the_name_through_enquote_name_and_reads_ora_codes():
    db = FakeOracle()
    assert ops.drop_user(db.runner(), "testuser2") is True
    [(sql, binds)] = db.executed
    assert "DBMS_ASSERT.ENQUOTE_NAME(:username, FALSE)" in sql and "CASCADE" in sql
    assert binds == {"username": "TESTUSER2"}  # a bind, never pasted into the text
    assert "TESTUSER2" not in sql
    absent = FakeOracle(raise_on_execute=OraError("ORA-01918", "user 'TESTUSER2' does not exist"))
    assert ops.drop_user(absent.runner(), "TESTUSER2") is False  # the first night
    connected = FakeOracle(raise_on_execute=OraError("ORA-01940", "cannot drop a user that is currently connected"))
    with pytest.raises(DataPumpSqlError) as caught:
        ops.drop_user(connected.runner(), "TESTUSER2")
    assert caught.value.code == "ORA-01940"


@pytest.mark.parametrize("name", ['A" CASCADE; --', "a b", "", "1ABC", "TEST\u0130", "X" * 129, None, 7, "ab'c", "A\nB"])
def test_hostile_user_names_are_refused_before_any_sql(name):
    db = FakeOracle()
    for call in (ops.drop_user, ops.user_info, ops.user_object_count):
        with pytest.raises(DataPumpValidationError, match="username"):
            call(db.runner(), name)
    assert db.executed == []


def test_every_statement_is_named_and_every_value_a_bind():
    assert set(st.STATEMENTS) == {"PING", "STOP_JOB", "JOB_PROGRESS", "READ_LOG", "ORPHANED_JOBS", "FINISHED_JOB",
                                  "DATABASE_IDENTITY", "USER_INFO", "USER_OBJECT_COUNT", "DROP_USER", "RUNNING_JOBS"}
    for name, statement in st.STATEMENTS.items():
        assert statement.name == name and isinstance(statement, str)
    with pytest.raises(DataPumpValidationError):
        st.drop_control_table("A", 'B" PURGE; DROP TABLE "X')


def test_the_hook_picks_oracledb_with_oracle_conn_id_and_rest_sql_without():
    db = FakeOracle()
    hook = DataPumpHook(oracle_conn_id="oracle_default")
    hook.__dict__["oracle_hook"] = db
    assert isinstance(hook.sql, OracleDbRunner)
    assert hook.stop_job("A", "B") is True and db.names == ["STOP_JOB"]
    assert hook.progress_available
