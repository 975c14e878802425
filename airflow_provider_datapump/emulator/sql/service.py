"""REST-Enabled SQL over the backend: the script split into statements, each run, one item each.

``SqlService`` sits on top of the Data Pump backend (it reads and changes the backend's model;
the backend knows nothing of it). A failed statement's item carries ``errorCode``/``errorMessage``
(HTTP is still 200) and the script goes on, as SQLcl's default WHENEVER SQLERROR CONTINUE does.
The SELECT engine (sqlglot) is imported on the first request, so the emulator runs without it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import BadRequest, InternalError, NotFound
from .binds import BindError, Binds
from .lexer import split_script
from .ora import OracleError, ora
from .statements import classify, run_statement
from .views import Session

if TYPE_CHECKING:
    from ..auth import Principal
    from ..backend import DataPumpBackend

__all__ = ["SqlService", "run_script"]


class SqlService:
    """``POST {alias}/_/sql`` as the backend's database sees it; the HTTP layer parses, this decides."""

    def __init__(self, backend: DataPumpBackend):
        self.backend = backend

    def check_active(self) -> None:
        """404 as ORDS answers a path it does not map, when REST-Enabled SQL is not active."""
        if not self.backend.settings.get("rest_enabled_sql", True):
            raise NotFound("The requested resource could not be found")

    def run(
        self, principal: Principal, text: Any, binds: Any, *, offset: Any = 0, limit: Any = None
    ) -> dict[str, Any]:
        """Run a script (statements split script-style) as the principal's database user."""
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("statementText is required: the SQL to run")
        top = int(self.backend.settings["list_max_limit"])
        for what, value in (("offset", offset), ("limit", limit)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise BadRequest(f"{what} must be a non-negative integer")
        try:
            parsed = Binds(binds)
        except BindError as exc:
            raise BadRequest(str(exc)) from None
        return run_script(
            self.backend, principal.user, text, parsed, offset=offset or 0, limit=min(limit or top, top)
        )


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _query_item(result: Any, offset: int, limit: int) -> dict[str, Any]:
    rows = result.rows[offset : offset + limit]
    keys = [c.lower() for c, _ in result.columns]
    return {
        "resultSet": {
            "metadata": [
                {
                    "columnName": name,
                    "jsonColumnName": key,
                    "columnTypeName": kind,
                    "columnClassName": {
                        "NUMBER": "java.math.BigDecimal",
                        "DATE": "java.sql.Timestamp",
                        "CLOB": "oracle.jdbc.OracleClob",
                    }.get(kind, "java.lang.String"),
                    "precision": 0 if kind != "VARCHAR2" else 4000,
                    "scale": 0,
                    "isNullable": 1,
                }
                for (name, kind), key in zip(result.columns, keys, strict=True)
            ],
            "items": [{k: _json_value(v) for k, v in zip(keys, row, strict=True)} for row in rows],
            "hasMore": offset + limit < len(result.rows),
            "limit": limit,
            "offset": offset,
            "count": len(rows),
        },
        "response": [],
        "result": 0,
    }


def run_script(
    backend: DataPumpBackend,
    user: str,
    text: str,
    binds: Binds,
    *,
    offset: int = 0,
    limit: int = 10000,
) -> dict[str, Any]:
    """Run every statement of ``text`` as ``user``; the body ORDS answers with."""
    try:
        from .query import run_query
    except ModuleNotFoundError as exc:  # sqlglot comes with the emulator extra
        raise InternalError(
            f"REST-Enabled SQL needs {exc.name}: pip install 'airflow-provider-datapump[emulator]'"
        ) from None
    items: list[dict[str, Any]] = []
    for number, piece in enumerate(split_script(text), start=1):
        item: dict[str, Any] = {
            "statementId": number,
            "statementType": "other",
            "statementPos": {"startLine": piece.start_line, "endLine": piece.end_line},
            "statementText": piece.text,
        }
        try:
            stmt = classify(piece.text)
            item["statementType"] = stmt.kind
            with backend.lock:
                session = Session(backend, user, backend.now())
                if stmt.kind == "query":
                    result = run_query(piece.text, session, binds, stmt.bind_order)
                    item.update(_query_item(result, offset, limit))
                else:
                    line = run_statement(stmt, session, binds, run_query)
                    item.update(response=[f"\n{line}\n\n"], result=0)
        except TypeError:  # values of types that do not mix (ORDER BY over a DATE and a string, ...)
            _fail(item, ora(932))
        except (ValueError, ArithmeticError, RecursionError) as exc:
            _fail(item, ora(900, more=f"(emulator) could not evaluate the statement: {type(exc).__name__}"))
        except OracleError as err:
            _fail(item, err)
        items.append(item)
    return {"env": {"defaultTimeZone": "UTC"}, "items": items}


def _fail(item: dict[str, Any], err: OracleError) -> None:
    item.update(
        response=[],
        result=0,
        errorCode=err.code,
        errorLine=1,
        errorColumn=1,
        errorMessage=err.message,
        errorDetails=err.details,
    )
