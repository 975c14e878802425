"""Two ways to run a statement, one protocol: oracledb (``oracle_conn_id``) or ORDS's REST-Enabled SQL.

:class:`SqlRunner` is all the operations (``operations``) see: ``query`` returns rows as tuples in
the statement's column order, ``execute`` runs DDL or a PL/SQL block. Both runners take the same
statements (``statements``) with the same binds, and both turn a refused statement into
:class:`~airflow_provider_datapump.exceptions.DataPumpSqlError` carrying the ORA code, so the
operations decide on ``err.code`` alone, whatever the transport.

``RestSqlRunner`` sends ``POST <base_url>/_/sql`` as a flow (``sql_flow``) through the hook's one
transport seam: the connection's auth, TLS, retry policy and secret masking, like every other
request. A query may be retried like a GET; a statement that changes something is not retried
once it may have reached the server (the attempt rules for a non-idempotent request).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from airflow_provider_datapump.exceptions import (
    DataPumpHTTPError,
    DataPumpProtocolError,
    DataPumpSqlError,
    DataPumpSqlUnavailableError,
)
from airflow_provider_datapump.hooks.ords.errors import AmbiguousCreate
from airflow_provider_datapump.hooks.ords.instructions import Flow, Request
from airflow_provider_datapump.hooks.ords.policy import redact_url
from airflow_provider_datapump.hooks.ords.settings import OrdsSettings

__all__ = [
    "UNAVAILABLE_STATUSES",
    "Binds",
    "OracleDbRunner",
    "RestSqlRunner",
    "SqlRunner",
    "rest_binds",
    "sql_flow",
]

Binds = Mapping[str, str | int | float | None]

# What `_/sql` answers when REST-Enabled SQL is off (404, as ORDS's other 404s), or when the
# deployment does not route or allow it (405; 401 while the Database API takes the same login).
UNAVAILABLE_STATUSES = frozenset({401, 404, 405})
# ORDS pages query results (its default page is 10,000 rows); a bound, not a loop without end.
MAX_PAGES = 100

_CODE = re.compile(r"\b((?:ORA|PLS|DPY|DPI)-\d{4,5})\b")


class SqlRunner(Protocol):
    """Runs one statement with named binds; a refused statement raises DataPumpSqlError."""

    def query(self, sql: str, binds: Binds | None = None) -> list[tuple[Any, ...]]: ...

    def execute(self, sql: str, binds: Binds | None = None) -> None: ...


def _name(sql: str) -> str:
    return getattr(sql, "name", "SQL")


# ---------------------------------------------------------------------------- oracledb


class _Runner:
    """``query`` and ``execute`` on top of one ``_run``, which each transport supplies."""

    def query(self, sql: str, binds: Binds | None = None) -> list[tuple[Any, ...]]:
        rows = self._run(sql, binds, query=True)
        assert rows is not None
        return rows

    def execute(self, sql: str, binds: Binds | None = None) -> None:
        self._run(sql, binds, query=False)

    def _run(self, sql: str, binds: Binds | None, *, query: bool) -> list[tuple[Any, ...]] | None:
        raise NotImplementedError


class OracleDbRunner(_Runner):
    """Statements over oracledb, through ``OracleHook.get_conn()``: a fresh connection per statement
    (closed after it), LOB values read before it closes. DDL and PL/SQL here need no commit.

    :param oracle_hook: an ``OracleHook``, or anything whose ``get_conn()`` returns a DB-API connection.
    """

    def __init__(self, oracle_hook: Any, log: Any = None) -> None:
        self.oracle_hook = oracle_hook
        self.log = log

    def _run(self, sql: str, binds: Binds | None, *, query: bool) -> list[tuple[Any, ...]] | None:
        if self.log is not None:
            self.log.debug("SQL %s over oracledb, binds %s", _name(sql), dict(binds or {}))
        conn = self.oracle_hook.get_conn()
        try:
            cur = conn.cursor()
            try:
                cur.execute(sql, dict(binds or {}))
                if not query:
                    return None
                return [tuple(_read_lob(v) for v in row) for row in cur.fetchall()]
            finally:
                cur.close()
        except Exception as err:
            code = _driver_code(err)
            if code is None:
                raise
            raise DataPumpSqlError(code, _driver_message(err), statement=_name(sql)) from err
        finally:
            conn.close()


def _read_lob(value: Any) -> Any:
    return value.read() if hasattr(value, "read") else value


def _driver_code(err: Exception) -> str | None:
    """The ORA (or DPY) code of a driver error: oracledb's ``full_code``, else the first in its text."""
    inner = err.args[0] if err.args else None
    code = getattr(inner, "full_code", None)
    if isinstance(code, str) and code:
        return code
    found = _CODE.search(str(err))
    return found.group(1) if found else None


def _driver_message(err: Exception) -> str:
    inner = err.args[0] if err.args else None
    return str(getattr(inner, "message", None) or err).strip()


# ---------------------------------------------------------------------------- REST-Enabled SQL


def rest_binds(binds: Binds | None) -> list[dict[str, Any]]:
    """Named binds as REST-Enabled SQL takes them: numbers as NUMBER, the rest as VARCHAR2."""
    out = []
    for name, value in (binds or {}).items():
        if isinstance(value, bool):
            value = int(value)
        kind = "NUMBER" if isinstance(value, (int, float)) else "VARCHAR2"
        out.append({"name": name, "data_type": kind, "value": value})
    return out


def sql_flow(
    settings: OrdsSettings, sql: str, binds: Binds | None, *, query: bool
) -> Flow[list[tuple[Any, ...]] | None]:
    """One statement over ``POST <base_url>/_/sql``: its rows (a query, every page), or None."""
    url, name = settings.base_url + "/_/sql", _name(sql)
    body: dict[str, Any] = {"statementText": str(sql), "binds": rest_binds(binds)}
    rows: list[tuple[Any, ...]] = []
    for _ in range(MAX_PAGES):
        try:
            answer = yield Request("POST", url, json=body, idempotent=query)
        except AmbiguousCreate as err:
            raise DataPumpSqlError(
                None, f"no answer ({err.cause}); the statement may or may not have run", statement=name
            ) from err
        except DataPumpHTTPError as err:
            if err.status not in UNAVAILABLE_STATUSES:
                raise
            if err.status == 401:
                # Unavailable only if the Database API takes the same login; else the login is wrong.
                try:
                    yield Request("GET", settings.api_root + "jobs/", params={"limit": 1})
                except DataPumpHTTPError:
                    raise err from None
            raise DataPumpSqlUnavailableError(redact_url(url), err.status, err.ords_message or "") from err
        item = _statement_item(answer, name)
        if item.get("errorCode") is not None or item.get("errorMessage"):
            raise DataPumpSqlError(_rest_code(item), str(item.get("errorMessage") or ""), statement=name)
        if not query:
            return None
        result = item.get("resultSet")
        if not isinstance(result, Mapping) or not isinstance(result.get("items"), list):
            raise DataPumpProtocolError(f"REST-Enabled SQL answered {name} with no result set")
        rows.extend(_rows(result))
        if not result.get("hasMore") or not result["items"]:
            return rows
        body = {**body, "offset": int(result.get("offset") or 0) + len(result["items"])}
    raise DataPumpProtocolError(f"REST-Enabled SQL answered {name} with more than {MAX_PAGES} pages")


def _statement_item(answer: Any, name: str) -> Mapping[str, Any]:
    items = answer.get("items") if isinstance(answer, Mapping) else None
    if not isinstance(items, list) or not items or not isinstance(items[0], Mapping):
        raise DataPumpProtocolError(f"REST-Enabled SQL answered {name} without a statement item")
    return items[0]


def _rest_code(item: Mapping[str, Any]) -> str | None:
    found = _CODE.search(str(item.get("errorMessage") or ""))
    if found:
        return found.group(1)
    code = item.get("errorCode")
    if isinstance(code, int) or (isinstance(code, str) and code.isdigit()):
        return f"ORA-{int(code):05d}"
    return str(code) if code else None


def _rows(result: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    metadata = result.get("metadata")
    keys = (
        [str(m.get("jsonColumnName") or str(m.get("columnName", "")).lower()) for m in metadata]
        if isinstance(metadata, list) and all(isinstance(m, Mapping) for m in metadata)
        else None
    )
    rows = []
    for item in result["items"]:
        if not isinstance(item, Mapping):
            raise DataPumpProtocolError("REST-Enabled SQL answered a row that is not an object")
        rows.append(tuple(item.get(k) for k in keys) if keys else tuple(item.values()))
    return rows


class RestSqlRunner(_Runner):
    """Statements over the ORDS connection's REST-Enabled SQL, through the hook's transport seam.

    :param settings: the ORDS connection (``_/sql`` lives under its base URL, the schema alias).
    :param run: the driver that runs a flow (``DataPumpHook._run``), so every request leaves
        through the hook's one transport, with its auth, TLS, retry policy and secret masking.
    :param log: where the statement's name (and its binds, at DEBUG) go.

    ``unavailable`` keeps the first DataPumpSqlUnavailableError, for callers that treat SQL as a
    courtesy (progress) and stop asking once the ORDS said it offers none.
    """

    def __init__(self, settings: OrdsSettings, run: Callable[[Flow[Any]], Any], log: Any) -> None:
        self.settings, self._run_flow, self.log = settings, run, log
        self.unavailable: DataPumpSqlUnavailableError | None = None

    def _run(self, sql: str, binds: Binds | None, *, query: bool) -> list[tuple[Any, ...]] | None:
        self.log.debug("SQL %s over REST-Enabled SQL, binds %s", _name(sql), dict(binds or {}))
        try:
            return self._run_flow(sql_flow(self.settings, sql, binds, query=query))
        except DataPumpSqlUnavailableError as err:
            self.unavailable = self.unavailable or err
            raise
