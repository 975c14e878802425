"""Every statement the provider sends to Oracle, the one module of them, for both transports.

Each is a :class:`Statement`: the text, plus the name errors and logs call it by. Every value is a
bind variable, with the same names over oracledb and over REST-Enabled SQL. The only names that
cannot be bound are identifiers in DDL (the control table in ``DROP TABLE``); they are checked
against :data:`SAFE_NAME` and double-quoted by :func:`drop_control_table`, never pasted raw. The
user in ``DROP USER`` is checked the same way client-side and then passed as a bind through
``DBMS_ASSERT.ENQUOTE_NAME`` inside the block, so the database quotes it too.

ORDS pools the sessions behind REST-Enabled SQL, so a statement never relies on session state left
by an earlier one: ``DBMS_DATAPUMP.ATTACH`` and ``STOP_JOB`` share one PL/SQL block, and reading a
log is a query (``TO_CLOB(BFILENAME(...))``) rather than a block with an OUT bind.
"""

from __future__ import annotations

import re
from typing import Any

from airflow_provider_datapump.exceptions import DataPumpValidationError

__all__ = [
    "DATABASE_IDENTITY",
    "DROP_USER",
    "FINISHED_JOB",
    "JOB_PROGRESS",
    "ORPHANED_JOBS",
    "PING",
    "READ_LOG",
    "RUNNING_JOBS",
    "SAFE_NAME",
    "STATEMENTS",
    "STOP_JOB",
    "USER_INFO",
    "USER_OBJECT_COUNT",
    "Statement",
    "drop_control_table",
    "safe_name",
]

# An unquoted Oracle identifier as the dictionary stores it (upper case). Names that must be
# written into SQL text match this, and are then quoted as well.
SAFE_NAME = re.compile(r"[A-Z][A-Z0-9_$#]{0,127}\Z")


class Statement(str):
    """A statement's text (it is a ``str``, so either driver takes it as is) with its ``name``."""

    name: str

    def __new__(cls, name: str, text: str) -> Statement:
        self = super().__new__(cls, text.strip())
        self.name = name
        return self

    def __reduce__(self) -> Any:  # keep the name through pickling (Airflow's task runner)
        return (Statement, (self.name, str(self)))


def safe_name(field: str, value: Any) -> str:
    """``value`` when it is an upper-case Oracle identifier fit to write into SQL; else refused."""
    if not isinstance(value, str) or not SAFE_NAME.match(value):
        raise DataPumpValidationError(
            field,
            f"{str(value)[:80]!r} cannot be named in SQL: only upper-case Oracle identifiers "
            "(a letter, then up to 127 of A-Z 0-9 _ $ #) are",
        )
    return value


PING = Statement("PING", "SELECT 1 FROM dual")

STOP_JOB = Statement(
    "STOP_JOB",
    """
DECLARE
  h NUMBER;
BEGIN
  h := DBMS_DATAPUMP.ATTACH(job_name => :job_name, job_owner => :owner);
  DBMS_DATAPUMP.STOP_JOB(handle => h, immediate => :immediate, keep_master => :keep_master, delay => 0);
END;""",
)

JOB_PROGRESS = Statement(
    "JOB_PROGRESS",
    """
SELECT ROUND(SUM(l.sofar) / NULLIF(SUM(l.totalwork), 0) * 100, 1) AS percent_done
  FROM v$session_longops l
  JOIN dba_datapump_jobs j
    ON l.opname = j.job_name AND l.username = j.owner_name
 WHERE j.owner_name = :owner
   AND j.job_name = :job_name
   AND l.totalwork > 0""",
)

# A query, not a block with an OUT CLOB: the same statement over both transports.
READ_LOG = Statement("READ_LOG", "SELECT TO_CLOB(BFILENAME(:directory, :file_name)) AS content FROM dual")

ORPHANED_JOBS = Statement(
    "ORPHANED_JOBS",
    r"""
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
 ORDER BY j.job_name""",
)

FINISHED_JOB = Statement(
    "FINISHED_JOB",
    """
SELECT j.job_name
  FROM dba_datapump_jobs j
 WHERE j.owner_name = :owner
   AND j.job_name = :job_name
   AND j.state = 'NOT RUNNING'
   AND j.attached_sessions = 0""",
)

_DROP_CONTROL_TABLE = 'DROP TABLE "{owner}"."{job_name}" PURGE'


def drop_control_table(owner: str, job_name: str) -> Statement:
    """``DROP TABLE "OWNER"."JOB" PURGE``: DDL takes no binds, so both names are checked, then quoted."""
    return Statement(
        "DROP_CONTROL_TABLE",
        _DROP_CONTROL_TABLE.format(owner=safe_name("owner", owner), job_name=safe_name("job_name", job_name)),
    )


DATABASE_IDENTITY = Statement(
    "DATABASE_IDENTITY",
    """
SELECT SYS_CONTEXT('USERENV', 'DB_UNIQUE_NAME') AS db_unique_name,
       SYS_CONTEXT('USERENV', 'CON_NAME') AS con_name,
       SYS_CONTEXT('USERENV', 'SESSION_USER') AS session_user
  FROM dual""",
)

USER_INFO = Statement(
    "USER_INFO", "SELECT username, oracle_maintained FROM dba_users WHERE username = :username"
)

USER_OBJECT_COUNT = Statement(
    "USER_OBJECT_COUNT", "SELECT COUNT(*) AS objects FROM dba_objects WHERE owner = :username"
)

# The name is a bind, quoted by the database (ENQUOTE_NAME with capitalize FALSE: as given, which
# safe_name made upper case); it was checked against SAFE_NAME before it was sent.
DROP_USER = Statement(
    "DROP_USER",
    """
BEGIN
  EXECUTE IMMEDIATE 'DROP USER ' || DBMS_ASSERT.ENQUOTE_NAME(:username, FALSE) || ' CASCADE';
END;""",
)

RUNNING_JOBS = Statement(
    "RUNNING_JOBS",
    "SELECT owner_name, job_name, operation, job_mode, state FROM dba_datapump_jobs WHERE state <> 'NOT RUNNING'",
)

STATEMENTS: dict[str, Statement] = {
    s.name: s
    for s in (
        PING,
        STOP_JOB,
        JOB_PROGRESS,
        READ_LOG,
        ORPHANED_JOBS,
        FINISHED_JOB,
        DATABASE_IDENTITY,
        USER_INFO,
        USER_OBJECT_COUNT,
        DROP_USER,
        RUNNING_JOBS,
    )
}
