"""What only SQL can do for a Data Pump job: ORDS has no endpoint to stop a job, report progress,
read a log it does not link, or clean up control tables.

Every statement is a named constant and every value is a bind variable. The only identifiers
formatted into SQL (control-table names in ``DROP TABLE``) come from the dictionary and are
checked against a strict pattern first, because identifiers cannot be bound.

Functions take an ``OracleHook`` (anything with ``get_conn()`` returning a DB-API connection).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from airflow_provider_datapump.exceptions import DataPumpValidationError
from airflow_provider_datapump.hooks.ords.policy import is_plain_file_name
from airflow_provider_datapump.payloads import identifier

__all__ = [
    "JOB_DOES_NOT_EXIST",
    "drop_job",
    "drop_orphaned_jobs",
    "job_progress",
    "ping",
    "read_log",
    "stop_job",
]

PING = "select 1 from dual"

STOP_JOB = """
DECLARE
  h NUMBER;
BEGIN
  h := DBMS_DATAPUMP.ATTACH(job_name => :job_name, job_owner => :owner);
  DBMS_DATAPUMP.STOP_JOB(handle => h, immediate => :immediate, keep_master => :keep_master, delay => 0);
END;"""

JOB_PROGRESS = """
SELECT ROUND(SUM(l.sofar) / NULLIF(SUM(l.totalwork), 0) * 100, 1)
  FROM v$session_longops l
  JOIN dba_datapump_jobs j
    ON l.opname = j.job_name AND l.username = j.owner_name
 WHERE j.owner_name = :owner
   AND j.job_name = :job_name
   AND l.totalwork > 0"""

READ_LOG = """
DECLARE
  src     BFILE := BFILENAME(:directory, :file_name);
  dst     CLOB;
  dst_off INTEGER := 1;
  src_off INTEGER := 1;
  lang    INTEGER := DBMS_LOB.DEFAULT_LANG_CTX;
  warn    INTEGER;
BEGIN
  DBMS_LOB.CREATETEMPORARY(dst, TRUE);
  DBMS_LOB.FILEOPEN(src, DBMS_LOB.FILE_READONLY);
  DBMS_LOB.LOADCLOBFROMFILE(dst, src, DBMS_LOB.LOBMAXSIZE, dst_off, src_off, DBMS_LOB.DEFAULT_CSID, lang, warn);
  DBMS_LOB.FILECLOSE(src);
  :content := dst;
END;"""

ORPHANED_JOBS = r"""
SELECT j.job_name
  FROM dba_datapump_jobs j
  JOIN dba_objects o
    ON o.owner = j.owner_name AND o.object_name = j.job_name AND o.object_type = 'TABLE'
 WHERE j.owner_name = :owner
   AND j.state = 'NOT RUNNING'
   AND j.attached_sessions = 0
   AND j.job_name LIKE :name_pattern ESCAPE '\'
   AND j.job_name NOT LIKE 'BIN$%'
   AND o.created < SYSDATE - :age_days
 ORDER BY j.job_name"""

FINISHED_JOB = """
SELECT j.job_name
  FROM dba_datapump_jobs j
 WHERE j.owner_name = :owner
   AND j.job_name = :job_name
   AND j.state = 'NOT RUNNING'
   AND j.attached_sessions = 0"""

# Control tables live under the job name; DROP TABLE cannot take a bind, so names are checked.
DROP_CONTROL_TABLE = 'DROP TABLE "{owner}"."{job_name}" PURGE'

JOB_DOES_NOT_EXIST = "ORA-31626"
_SAFE_NAME = re.compile(r"[A-Z][A-Z0-9_$#]{0,127}\Z")


def ping(hook: Any) -> None:
    with _cursor(hook) as cur:
        cur.execute(PING)
        cur.fetchone()


def stop_job(hook: Any, owner: str, job: str, *, immediate: bool = True, keep_master: bool = False) -> bool:
    """ATTACH + STOP_JOB. Returns False when the job no longer exists (ORA-31626)."""
    binds = {
        "job_name": identifier("job_name", job),
        "owner": identifier("owner", owner),
        "immediate": 1 if immediate else 0,
        "keep_master": 1 if keep_master else 0,
    }
    try:
        with _cursor(hook) as cur:
            cur.execute(STOP_JOB, binds)
    except Exception as err:
        if JOB_DOES_NOT_EXIST in str(err):
            return False
        raise
    return True


def job_progress(hook: Any, owner: str, job: str) -> float | None:
    with _cursor(hook) as cur:
        cur.execute(
            JOB_PROGRESS, {"owner": identifier("owner", owner), "job_name": identifier("job_name", job)}
        )
        row = cur.fetchone()
    if not row or row[0] is None:
        return None
    return float(row[0])


def read_log(hook: Any, directory: str, file_name: str) -> str:
    if not is_plain_file_name(file_name):
        raise DataPumpValidationError("file_name", f"{str(file_name)[:80]!r} is not a plain file name")
    with _cursor(hook) as cur:
        content = cur.var(_clob_type())
        cur.execute(
            READ_LOG,
            {"directory": identifier("directory", directory), "file_name": file_name, "content": content},
        )
        value = content.getvalue()
    if value is None:
        return ""
    return value.read() if hasattr(value, "read") else str(value)


def drop_orphaned_jobs(
    hook: Any,
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
    owner_name = identifier("owner", owner)
    age_days = older_than.total_seconds() / 86400 if isinstance(older_than, timedelta) else float(older_than)
    if age_days < 0:
        raise DataPumpValidationError("older_than", "must not be negative")
    prefix = name_prefix.strip().upper()
    if not _SAFE_NAME.match(prefix):
        raise DataPumpValidationError(
            "name_prefix", f"{name_prefix!r} is not the start of an Oracle identifier"
        )
    # _ is a LIKE wildcard; escape it so DATAPUMP_REST_ does not also match DATAPUMPXREST...
    pattern = prefix.replace("_", "\\_") + "%"
    with _cursor(hook) as cur:
        cur.execute(ORPHANED_JOBS, {"owner": owner_name, "name_pattern": pattern, "age_days": age_days})
        names = [row[0] for row in cur.fetchall()]
        names = [name for name in names if _SAFE_NAME.match(name or "")]
        if not dry_run:
            for name in names:
                cur.execute(DROP_CONTROL_TABLE.format(owner=owner_name, job_name=name))
    return names


def drop_job(hook: Any, owner: str, job: str) -> bool:
    """Drop one finished job's control table, so that ORDS's job list stops growing by it.

    Only a job that is NOT RUNNING with no session attached is dropped; False when there is no
    such job (still running, or already gone). Needs SELECT on DBA_DATAPUMP_JOBS, and ownership of
    the control table (the same user as the ORDS connection) or DROP ANY TABLE.
    """
    owner_name, job_name = identifier("owner", owner), identifier("job_name", job)
    if not _SAFE_NAME.match(owner_name) or not _SAFE_NAME.match(job_name):
        raise DataPumpValidationError("job", f"{owner_name}.{job_name} cannot be named in DROP TABLE")
    with _cursor(hook) as cur:
        cur.execute(FINISHED_JOB, {"owner": owner_name, "job_name": job_name})
        if not cur.fetchone():
            return False
        cur.execute(DROP_CONTROL_TABLE.format(owner=owner_name, job_name=job_name))
    return True


class _cursor:
    """A cursor on a fresh connection, both closed on exit; DDL and PL/SQL here need no commit."""

    def __init__(self, hook: Any) -> None:
        self.hook = hook

    def __enter__(self) -> Any:
        self.conn = self.hook.get_conn()
        self.cur = self.conn.cursor()
        return self.cur

    def __exit__(self, *exc: Any) -> None:
        try:
            self.cur.close()
        finally:
            self.conn.close()


def _clob_type() -> Any:
    import oracledb

    return oracledb.DB_TYPE_CLOB
