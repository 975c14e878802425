"""The dictionary views a query may read, built from the backend's model at the moment of the query.

Each view is its columns (in ``SELECT *`` order) and its rows (dicts keyed by column). Only
what the provider reads and a DBA would check is modelled; another view is ORA-00942.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..catalog import ORACLE_MAINTAINED_USERS

if TYPE_CHECKING:
    from ..backend import DataPumpBackend

__all__ = ["View", "Session", "VIEWS", "identity"]


@dataclass
class Session:
    """Who runs the statement and when: the database user ORDS connected as, and SYSDATE."""

    backend: DataPumpBackend
    user: str
    now: float = 0.0

    @property
    def sysdate(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.now).replace(microsecond=0)


@dataclass
class View:
    columns: list[str]
    rows: list[dict[str, Any]]


def _date(ts: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ts).replace(microsecond=0)


def identity(s: Session) -> dict[str, str]:
    """SYS_CONTEXT('USERENV', ...): a database named after the data directory unless a setting names it.

    Two emulators on one data directory play one database; two on different ones, two databases.
    """
    settings = s.backend.settings
    derived = "EMU" + hashlib.sha256(s.backend.files.data_dir.encode()).hexdigest()[:6].upper()
    db = settings.get("db_unique_name") or derived
    return {
        "DB_UNIQUE_NAME": db,
        "DB_NAME": db,
        "CON_NAME": settings.get("con_name") or db + "PDB",
        "SESSION_USER": s.user,
        "CURRENT_USER": s.user,
        "CURRENT_SCHEMA": s.user,
        "AUTHENTICATED_IDENTITY": s.user,
        "INSTANCE_NAME": db.lower(),
        "SERVICE_NAME": (settings.get("con_name") or db + "PDB").lower(),
        "LANGUAGE": "AMERICAN_AMERICA.AL32UTF8",
    }


def _users(s: Session) -> View:
    cat = s.backend.catalog
    names = list(ORACLE_MAINTAINED_USERS) + sorted(n for n in cat.schemas if n not in ORACLE_MAINTAINED_USERS)
    rows = [
        {
            "USERNAME": n,
            "USER_ID": i,
            "ACCOUNT_STATUS": "OPEN" if n not in ORACLE_MAINTAINED_USERS else "LOCKED",
            "DEFAULT_TABLESPACE": "SYSTEM" if n in ORACLE_MAINTAINED_USERS else "USERS",
            "CREATED": _date(s.backend.started),
            "COMMON": "NO",
            "ORACLE_MAINTAINED": "Y" if n in ORACLE_MAINTAINED_USERS else "N",
        }
        for i, n in enumerate(names)
    ]
    if s.user not in cat.schemas and s.user not in ORACLE_MAINTAINED_USERS:
        # The signed-in user exists even when the catalog leaves it out.
        rows.append({**rows[-1], "USERNAME": s.user, "USER_ID": len(rows), "ORACLE_MAINTAINED": "N"})
    cols = [
        "USERNAME",
        "USER_ID",
        "ACCOUNT_STATUS",
        "DEFAULT_TABLESPACE",
        "CREATED",
        "COMMON",
        "ORACLE_MAINTAINED",
    ]
    return View(cols, rows)


def _objects(s: Session) -> View:
    created = _date(s.backend.started)
    rows = [
        {
            "OWNER": t.schema,
            "OBJECT_NAME": t.name,
            "OBJECT_TYPE": "TABLE",
            "CREATED": created,
            "STATUS": "VALID",
        }
        for t in s.backend.catalog.all_tables()
    ]
    # A Data Pump job's control table is a table of its owner, created with the job.
    rows += [
        {
            "OWNER": j.owner,
            "OBJECT_NAME": j.name,
            "OBJECT_TYPE": "TABLE",
            "CREATED": _date(j.created),
            "STATUS": "VALID",
        }
        for j in s.backend.visible_jobs()
    ]
    rows.sort(key=lambda r: (r["OWNER"], r["OBJECT_NAME"]))
    for r in rows:
        r["LAST_DDL_TIME"] = r["CREATED"]
    return View(["OWNER", "OBJECT_NAME", "OBJECT_TYPE", "CREATED", "LAST_DDL_TIME", "STATUS"], rows)


def _tables(s: Session) -> View:
    rows = [
        {"OWNER": t.schema, "TABLE_NAME": t.name, "TABLESPACE_NAME": t.tablespace, "NUM_ROWS": t.rows}
        for t in s.backend.catalog.all_tables()
    ]
    return View(["OWNER", "TABLE_NAME", "TABLESPACE_NAME", "NUM_ROWS"], rows)


_JOB_COLUMNS = [
    "OWNER_NAME",
    "JOB_NAME",
    "OPERATION",
    "JOB_MODE",
    "STATE",
    "DEGREE",
    "ATTACHED_SESSIONS",
    "DATAPUMP_SESSIONS",
]


def _jobs(s: Session) -> View:
    rows = []
    for job in s.backend.visible_jobs():
        f = job.fields(s.now)
        rows.append({c: f[c.lower()] for c in _JOB_COLUMNS})
    return View(list(_JOB_COLUMNS), rows)


def _user_jobs(s: Session) -> View:
    v = _jobs(s)
    return View(
        v.columns[1:], [{k: r[k] for k in v.columns[1:]} for r in v.rows if r["OWNER_NAME"] == s.user]
    )


def _longops(s: Session) -> View:
    """One row per running job: work in MB, done in proportion to the time it has run."""
    rows = []
    for sid, job in enumerate(s.backend.visible_jobs(), start=100):
        if job.foreign is not None or not job.running(s.now):
            continue
        total = max(1, sum(t.bytes for t in job.tables) // (1024 * 1024))
        span = max(job.end - job.created, 1e-9)
        done = min(total, int(total * (s.now - job.created) / span))
        rows.append(
            {
                "SID": sid,
                "SERIAL#": 1,
                "OPNAME": job.name,
                "TARGET": None,
                "SOFAR": done,
                "TOTALWORK": total,
                "UNITS": "MB",
                "START_TIME": _date(job.created),
                "LAST_UPDATE_TIME": s.sysdate,
                "TIME_REMAINING": max(0, round(job.end - s.now)),
                "ELAPSED_SECONDS": round(s.now - job.created),
                "USERNAME": job.owner,
                "MESSAGE": f"{job.name}: {job.operation} : {done} out of {total} MB done",
            }
        )
    return View(
        [
            "SID",
            "SERIAL#",
            "OPNAME",
            "TARGET",
            "SOFAR",
            "TOTALWORK",
            "UNITS",
            "START_TIME",
            "LAST_UPDATE_TIME",
        ]
        + ["TIME_REMAINING", "ELAPSED_SECONDS", "USERNAME", "MESSAGE"],
        rows,
    )


def _dual(s: Session) -> View:
    return View(["DUMMY"], [{"DUMMY": "X"}])


# Name (as the dictionary spells it) -> builder. SYS.<name> reaches the same view.
VIEWS: dict[str, Callable[[Session], View]] = {
    "DUAL": _dual,
    "DBA_USERS": _users,
    "ALL_USERS": _users,
    "DBA_OBJECTS": _objects,
    "ALL_OBJECTS": _objects,
    "DBA_TABLES": _tables,
    "ALL_TABLES": _tables,
    "DBA_DATAPUMP_JOBS": _jobs,
    "USER_DATAPUMP_JOBS": _user_jobs,
    "V$SESSION_LONGOPS": _longops,
    "GV$SESSION_LONGOPS": _longops,
}
