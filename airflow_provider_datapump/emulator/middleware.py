"""ASGI middleware on ORDS routes: applies the harness's fault rules and writes the request log."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import anyio

from .auth import Caller
from .errors import InjectedFault
from .faults import Faults
from .request_log import RequestLog
from .responses import problem_response

__all__ = ["OrdsMiddleware"]

# REST-Enabled SQL: the request log keeps the statement each request ran (never its binds), so a test
# can count what reached a database (a DROP USER, a STOP_JOB block). Bodies beyond this are not kept.
_SQL_SUFFIX = "/_/sql"
_SQL_BODY_LIMIT = 64 * 1024


def _statement(body: bytes, content_type: str) -> str | None:
    """The statement text of a ``_/sql`` request body (JSON ``statementText`` or application/sql)."""
    text = body.decode("utf-8", errors="replace")
    if content_type.startswith("application/sql"):
        return text
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    statement = parsed.get("statementText") if isinstance(parsed, dict) else None
    return statement if isinstance(statement, str) else None


class _Dropped(OSError):
    pass


def _only_dropped(exc: BaseException) -> bool:
    if isinstance(exc, _Dropped):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_dropped(e) for e in exc.exceptions)
    return False


class OrdsMiddleware:
    """Injects configured faults into ORDS routes and records each request.

    Pure ASGI (not BaseHTTPMiddleware) so that multi-GB file bodies pass through with
    no extra buffering. Handlers report who called (``caller``) and which keys ORDS
    dropped (``dropped_keys``) through the request's state.
    """

    def __init__(self, app: Any, faults: Faults, request_log: RequestLog):
        self.app = app
        self.faults = faults
        self.request_log = request_log

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/ords/"):
            await self.app(scope, receive, send)
            return
        started = time.time()
        method, path = scope["method"], scope["path"]
        req_state: dict[str, Any] = scope.setdefault("state", {})
        caller = req_state.setdefault("caller", Caller())
        faults = self.faults.take(method, path)
        status_holder: dict[str, Any] = {"status": None, "bytes": 0}
        if method == "POST" and path.endswith(_SQL_SUFFIX):
            receive = self._keeping_body(scope, receive, status_holder)
        seq = self.request_log.begin()
        try:
            delay = sum(f["seconds"] for f in faults if f["kind"] == "delay")
            if delay:
                await anyio.sleep(delay)
            status_fault = next((f for f in faults if f["kind"] == "status"), None)
            drop_fault = next((f for f in faults if f["kind"] == "drop"), None)
            if status_fault is not None:
                resp = problem_response(InjectedFault(status_fault["status"], status_fault["retry_after"]))
                status_holder["status"] = status_fault["status"]
                await resp(scope, receive, send)
                return

            limit = drop_fault["after_bytes"] if drop_fault is not None else None
            late = sum(f["seconds"] for f in faults if f["kind"] == "late")

            async def wrapped_send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    status_holder["status"] = message["status"]
                    if late:
                        await anyio.sleep(late)
                elif message["type"] == "http.response.body" and limit is not None:
                    body = message.get("body", b"")
                    room = limit - status_holder["bytes"]
                    if len(body) >= room:
                        if room > 0:
                            await send({"type": "http.response.body", "body": body[:room], "more_body": True})
                        status_holder["bytes"] = limit
                        # Returning without finishing the response makes uvicorn close the
                        # connection: the client sees fewer bytes than Content-Length announced.
                        raise _Dropped("connection dropped by fault injection")
                    status_holder["bytes"] += len(body)
                await send(message)

            try:
                await self.app(scope, receive, wrapped_send)
            except BaseException as exc:
                if not _only_dropped(exc):
                    if status_holder["status"] is None:
                        status_holder["status"] = 500  # answered by Starlette's error middleware
                    raise
        finally:
            self.request_log.end(
                seq,
                {
                    "timestamp": started,
                    "method": method,
                    "path": path,
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "status": status_holder["status"],
                    "auth_scheme": caller.scheme,
                    "user": caller.user,
                    "dropped_keys": list(req_state.get("dropped_keys", [])),
                    "faults": [f["kind"] for f in faults],
                    "duration": round(time.time() - started, 6),
                    **({"statement": status_holder["statement"]} if "statement" in status_holder else {}),
                },
            )

    @staticmethod
    def _keeping_body(
        scope: dict[str, Any], receive: Callable[..., Any], holder: dict[str, Any]
    ) -> Callable[..., Any]:
        """``receive`` that also keeps a ``_/sql`` body's statement in ``holder`` once it is read whole."""
        content_type = next(
            (v.decode("latin-1").lower() for k, v in scope.get("headers", ()) if k == b"content-type"), ""
        )
        chunks: list[bytes] = []

        async def receiving() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.request" and sum(map(len, chunks)) < _SQL_BODY_LIMIT:
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    holder["statement"] = _statement(b"".join(chunks), content_type)
            return message

        return receiving
