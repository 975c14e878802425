"""What only SQL can do for a Data Pump job and its schemas, each a function of a ``SqlRunner``.

ORDS's Database API has no endpoint to stop a job, report progress, read a log it does not link,
drop a control table, or drop a user; these run the statements of ``statements`` through either
runner (oracledb or REST-Enabled SQL) with the same binds, and decide on ORA codes
(``DataPumpSqlError.code``), whatever the transport. Names are checked before anything is sent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow_provider_datapump.exceptions import DataPumpSqlError, DataPumpValidationError
from airflow_provider_datapump.hooks.ords.policy import is_plain_file_name
from airflow_provider_datapump.hooks.sql import statements as st
from airflow_provider_datapump.hooks.sql.runners import SqlRunner
from airflow_provider_datapump.payloads import identifier

__all__ = [
    "JOB_DOES_NOT_EXIST",
    "JOB_NOT_RUNNING",
    "USER_CONNECTED",
    "USER_DOES_NOT_EXIST",
    "database_identity",
    "drop_job",
    "drop_orphaned_jobs",
    "drop_user",
    "job_progress",
    "ping",
    "read_log",
    "running_jobs",
    "stop_job",
    "user_info",
    "user_object_count",
]

JOB_DOES_NOT_EXIST = "ORA-31626"
# DBMS_DATAPUMP's "invalid state": STOP_JOB on a job that is no longer executing.
JOB_NOT_RUNNING = "ORA-39004"
USER_DOES_NOT_EXIST = "ORA-01918"
USER_CONNECTED = "ORA-01940"


def ping(sql: SqlRunner) -> None:
    sql.query(st.PING)


def stop_job(
    sql: SqlRunner, owner: str, job: str, *, immediate: bool = True, keep_master: bool = False
) -> bool:
    """ATTACH and STOP_JOB in one block. False when there is nothing to stop: the job no longer
    exists (ORA-31626) or no longer runs (ORA-39004)."""
    binds = {
        "job_name": identifier("job_name", job),
        "owner": identifier("owner", owner),
        "immediate": 1 if immediate else 0,
        "keep_master": 1 if keep_master else 0,
    }
    try:
        sql.execute(st.STOP_JOB, binds)
    except DataPumpSqlError as err:
        if err.code in (JOB_DOES_NOT_EXIST, JOB_NOT_RUNNING):
            return False
        raise
    return True


def job_progress(sql: SqlRunner, owner: str, job: str) -> float | None:
    """Percent done from V$SESSION_LONGOPS, or None when Oracle has no figure for the job."""
    rows = sql.query(
        st.JOB_PROGRESS, {"owner": identifier("owner", owner), "job_name": identifier("job_name", job)}
    )
    if not rows or rows[0][0] is None:
        return None
    return float(rows[0][0])


def read_log(sql: SqlRunner, directory: str, file_name: str) -> str:
    """A text file in a directory object (a job's log), as BFILE read into a CLOB."""
    if not is_plain_file_name(file_name):
        raise DataPumpValidationError("file_name", f"{str(file_name)[:80]!r} is not a plain file name")
    rows = sql.query(st.READ_LOG, {"directory": identifier("directory", directory), "file_name": file_name})
    value = rows[0][0] if rows else None
    return "" if value is None else str(value)


def drop_orphaned_jobs(
    sql: SqlRunner,
    owner: str,
    older_than: timedelta | float | int,
    *,
    name_prefix: str = "DATAPUMP_REST_",
    dry_run: bool = True,
) -> list[str]:
    """The control tables of ``owner``'s jobs that are not running and older than ``older_than``.

    Only jobs whose name starts with ``name_prefix`` are considered, so jobs started by expdp or
    other tools are never touched. With ``dry_run`` (the default) nothing is dropped.
    """
    owner_name = st.safe_name("owner", identifier("owner", owner))
    age_days = older_than.total_seconds() / 86400 if isinstance(older_than, timedelta) else float(older_than)
    if age_days < 0:
        raise DataPumpValidationError("older_than", "must not be negative")
    prefix = name_prefix.strip().upper()
    if not st.SAFE_NAME.match(prefix):
        raise DataPumpValidationError(
            "name_prefix", f"{name_prefix!r} is not the start of an Oracle identifier"
        )
    # _ is a LIKE wildcard; escape it so DATAPUMP_REST_ does not also match DATAPUMPXREST...
    pattern = prefix.replace("_", "\\_") + "%"
    rows = sql.query(st.ORPHANED_JOBS, {"owner": owner_name, "name_pattern": pattern, "age_days": age_days})
    names = [row[0] for row in rows if isinstance(row[0], str) and st.SAFE_NAME.match(row[0])]
    if not dry_run:
        for name in names:
            sql.execute(st.drop_control_table(owner_name, name))
    return names


def drop_job(sql: SqlRunner, owner: str, job: str) -> bool:
    """Drop one finished job's control table, so that ORDS's job list stops growing by it.

    Only a job that is NOT RUNNING with no session attached is dropped; False when there is no
    such job (still running, or already gone). Needs SELECT on DBA_DATAPUMP_JOBS, and ownership of
    the control table (the same user as the ORDS connection) or DROP ANY TABLE.
    """
    owner_name, job_name = identifier("owner", owner), identifier("job_name", job)
    drop = st.drop_control_table(owner_name, job_name)  # refuses a name it cannot write, before any SQL
    if not sql.query(st.FINISHED_JOB, {"owner": owner_name, "job_name": job_name}):
        return False
    sql.execute(drop)
    return True


def database_identity(sql: SqlRunner) -> dict[str, Any]:
    """The database the statements reach: ``db_unique_name``, ``con_name``, ``session_user``."""
    rows = sql.query(st.DATABASE_IDENTITY)
    if not rows:
        return {"db_unique_name": None, "con_name": None, "session_user": None}
    db_unique_name, con_name, session_user = rows[0][:3]
    return {"db_unique_name": db_unique_name, "con_name": con_name, "session_user": session_user}


def user_info(sql: SqlRunner, name: str) -> dict[str, Any] | None:
    """``{"username", "oracle_maintained": bool}`` from DBA_USERS, or None when there is no such user."""
    rows = sql.query(st.USER_INFO, {"username": _user("username", name)})
    if not rows:
        return None
    username, maintained = rows[0][:2]
    return {"username": username, "oracle_maintained": str(maintained or "").upper() == "Y"}


def user_object_count(sql: SqlRunner, name: str) -> int:
    """How many objects DBA_OBJECTS lists for the user (0 for an empty or absent user)."""
    rows = sql.query(st.USER_OBJECT_COUNT, {"username": _user("username", name)})
    return int(rows[0][0] or 0) if rows else 0


def drop_user(sql: SqlRunner, name: str) -> bool:
    """``DROP USER … CASCADE``; False when the user is not there (ORA-01918: the first night).

    Any other refusal raises, ORA-01940 (a session of the user is connected) among them.
    """
    try:
        sql.execute(st.DROP_USER, {"username": _user("username", name)})
    except DataPumpSqlError as err:
        if err.code == USER_DOES_NOT_EXIST:
            return False
        raise
    return True


def running_jobs(sql: SqlRunner) -> list[dict[str, Any]]:
    """Every Data Pump job that is not NOT RUNNING, of every owner the user can see."""
    keys = ("owner_name", "job_name", "operation", "job_mode", "state")
    return [dict(zip(keys, row[:5], strict=False)) for row in sql.query(st.RUNNING_JOBS)]


def _user(field: str, name: Any) -> str:
    """A user name for a bind that also ends up in DDL: an identifier, upper-cased, then checked strictly."""
    return st.safe_name(field, identifier(field, name))
