"""HTTP layer of the emulator: FastAPI routes that translate requests into state calls.

No semantics live here; see ``state.py``. The ORDS surface is declared as real routes
(so ``/openapi.json`` describes it); the emulator's own control surface lives under
``/_emulator/`` and is left out of the OpenAPI document.
"""

import base64
import binascii
import errno
import hashlib
import inspect
import json
import os
import re
import time
from dataclasses import dataclass
from typing import Annotated, Any, Callable
from urllib.parse import parse_qsl

import anyio
from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from .errors import EmulatorError, problem_body
from .state import EmulatorState, Principal, url_segment

__all__ = ["create_app"]

CHUNK_SIZE = 1024 * 1024
MAX_BODY = 1024 * 1024
REALM = 'Basic realm="Oracle REST Data Services"'
DB_API = "/_/db-api/{version}"
DATAPUMP = DB_API + "/database/datapump"

_SEGMENT = r"^[A-Za-z0-9_$#][A-Za-z0-9_$#.\-]{0,127}$"
AliasP = Annotated[str, Path(description="Schema alias of the REST-enabled schema", pattern=_SEGMENT)]
PoolP = Annotated[str, Path(description="Database pool or PDB service segment", pattern=_SEGMENT)]
VersionP = Annotated[str, Path(description="Database API version", pattern=r"^(stable|latest)$")]
JobIdP = Annotated[str, Path(description="OWNER_NAME,JOB_NAME", pattern=r"^[^,/]+,[^,/]+$")]
FileP = Annotated[str, Path(description="Name of a log or dump file linked from the job")]


# ---------------------------------------------------------------- response helpers


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _etag(data: bytes) -> str:
    return '"' + base64.b64encode(hashlib.sha512(data).digest()).decode() + '"'


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None, etag: bool = False) -> Response:
    data = _json_bytes(body)
    resp = Response(data, status_code=status, media_type="application/json", headers=headers)
    if etag:
        resp.headers["ETag"] = _etag(data)
    return resp


def problem_response(
    status: int, message: str, headers: dict[str, Any] | None = None, extra: dict[str, Any] | None = None
) -> Response:
    data = _json_bytes(problem_body(status, message, extra))
    resp = Response(data, status_code=status, media_type="application/problem+json")
    for key, value in (headers or {}).items():
        for v in value if isinstance(value, (list, tuple)) else [value]:
            resp.headers.append(key, str(v))
    return resp


# ---------------------------------------------------------------- file streaming


class FileStream(Response):
    """Stream a file from disk in large chunks, with the full Content-Length up front.

    Starlette's FileResponse reads 64 KiB per thread hop; dumps are benchmarked at
    ~1 GB/s, so this reads 1 MiB per hop and stops reading as soon as the client goes.
    """

    def __init__(self, path: str, size: int, media_type: str, *, start: int = 0, end: int | None = None, status: int = 200, extra_headers: dict[str, str] | None = None):
        super().__init__(status_code=status, media_type=media_type, headers=extra_headers)
        # Exactly the documented media type: Starlette would append "; charset=utf-8".
        self.headers["content-type"] = media_type
        self.path = path
        self.start = start
        self.length = (size - start) if end is None else (end - start + 1)
        self.headers["content-length"] = str(self.length)

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if scope.get("method") == "HEAD" or self.length == 0:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return

        async def watch_disconnect(cancel: anyio.CancelScope) -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    cancel.cancel()
                    return

        async with anyio.create_task_group() as tg:
            tg.start_soon(watch_disconnect, tg.cancel_scope)
            await self._stream(send)
            tg.cancel_scope.cancel()

    async def _stream(self, send: Callable[..., Any]) -> None:
        fd = await anyio.to_thread.run_sync(os.open, self.path, os.O_RDONLY)
        try:
            pos, end = self.start, self.start + self.length
            while pos < end:
                data_at = _next_data(fd, pos, end)
                if data_at > pos:
                    # Inside a hole of a sparse dump: send zeros without touching the page
                    # cache. The zero buffer is immutable, so the transport may keep it.
                    stop = data_at
                    while pos < stop:
                        n = min(CHUNK_SIZE, stop - pos)
                        pos += n
                        if not await _send_body(send, _ZEROS if n == CHUNK_SIZE else bytes(n), pos < end):
                            return
                    continue
                stop = _next_hole(fd, pos, end)
                while pos < stop:
                    chunk = await anyio.to_thread.run_sync(os.pread, fd, min(CHUNK_SIZE, stop - pos), pos)
                    if not chunk:
                        return  # file shrank underneath us: leave the response incomplete
                    pos += len(chunk)
                    if not await _send_body(send, chunk, pos < end):
                        return
        finally:
            os.close(fd)


_ZEROS = bytes(CHUNK_SIZE)


async def _send_body(send: Callable[..., Any], body: bytes, more: bool) -> bool:
    try:
        await send({"type": "http.response.body", "body": body, "more_body": more})
    except OSError:
        return False
    return True


def _next_data(fd: int, pos: int, end: int) -> int:
    if not hasattr(os, "SEEK_DATA"):
        return pos
    try:
        return min(os.lseek(fd, pos, os.SEEK_DATA), end)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # only a hole remains up to EOF
            return end
        return pos


def _next_hole(fd: int, pos: int, end: int) -> int:
    if not hasattr(os, "SEEK_HOLE"):
        return end
    try:
        return max(pos + 1, min(os.lseek(fd, pos, os.SEEK_HOLE), end))
    except OSError:
        return end


def accepts(header: str | None, media: str) -> bool:
    """Whether an Accept header admits ``media`` (RFC 9110: the most specific range decides; q=0 refuses)."""
    if header is None or not header.strip():
        return True
    kind = media.split("/", 1)[0]
    best: tuple[int, float] | None = None
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        rng = fields[0].lower()
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        if rng == media:
            rank = 3
        elif rng == f"{kind}/*":
            rank = 2
        elif rng == "*/*":
            rank = 1
        else:
            continue
        if best is None or rank > best[0]:
            best = (rank, q)
    return best is not None and best[1] > 0


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Single ``bytes=`` range → (start, end) inclusive; None to ignore; raise for 416."""
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if m is None:
        return None  # unsupported or multi-range: serve the whole file
    first, last = m.group(1), m.group(2)
    if first == "" and last == "":
        return None
    if first == "":
        n = int(last)
        if n == 0:
            raise EmulatorError(416, "Requested range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
        return max(0, size - n), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or (last != "" and int(last) < start):
        raise EmulatorError(416, "Requested range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
    return start, end


# ---------------------------------------------------------------- fault + request-log middleware


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
    no extra buffering.
    """

    def __init__(self, app: Any, state: EmulatorState):
        self.app = app
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/ords/"):
            await self.app(scope, receive, send)
            return
        started = time.time()
        method, path = scope["method"], scope["path"]
        req_state: dict[str, Any] = scope.setdefault("state", {})
        faults = self.state.take_faults(method, path)
        status_holder: dict[str, Any] = {"status": None, "bytes": 0}
        seq = self.state.begin_request()
        try:
            delay = sum(f["seconds"] for f in faults if f["kind"] == "delay")
            if delay:
                await anyio.sleep(delay)
            status_fault = next((f for f in faults if f["kind"] == "status"), None)
            drop_fault = next((f for f in faults if f["kind"] == "drop"), None)
            if status_fault is not None:
                status = status_fault["status"]
                headers: dict[str, Any] = {}
                if status_fault["retry_after"] is not None:
                    ra = status_fault["retry_after"]
                    headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
                resp = problem_response(status, f"Injected fault: HTTP {status}", headers)
                status_holder["status"] = status
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
            except BaseException as exc:  # noqa: BLE001 - only swallow our own marker
                if not _only_dropped(exc):
                    if status_holder["status"] is None:
                        status_holder["status"] = 500  # answered by Starlette's error middleware
                    raise
        finally:
            self.state.log_request(
                seq,
                {
                    "timestamp": started,
                    "method": method,
                    "path": path,
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "status": status_holder["status"],
                    "auth_scheme": req_state.get("auth_scheme"),
                    "user": req_state.get("auth_user"),
                    "dropped_keys": list(req_state.get("dropped_keys", [])),
                    "faults": [f["kind"] for f in faults],
                    "duration": round(time.time() - started, 6),
                }
            )


# ---------------------------------------------------------------- request context


@dataclass
class Ctx:
    pool: str | None
    alias: str
    version: str
    prefix: str


def _origin(request: Request, state: EmulatorState) -> str:
    configured = state.settings.get("link_origin")
    if configured:
        return configured
    return f"{request.url.scheme}://{request.url.netloc}"


def _ctx(request: Request, pool: str | None, alias: str, version: str) -> Ctx:
    state: EmulatorState = request.app.state.emulator
    if alias.lower() not in state.aliases:
        raise EmulatorError(404, f"The schema alias {alias} is not mapped to a REST-enabled schema")
    middle = f"/{url_segment(pool)}" if pool else ""
    prefix = f"{_origin(request, state)}/ords{middle}/{url_segment(alias)}/_/db-api/{version}"
    return Ctx(pool, alias, version, prefix)


def ctx_plain(request: Request, alias: AliasP, version: VersionP) -> Ctx:
    return _ctx(request, None, alias, version)


def ctx_pool(request: Request, pool: PoolP, alias: AliasP, version: VersionP) -> Ctx:
    return _ctx(request, pool, alias, version)


def alias_plain(request: Request, alias: AliasP) -> tuple[str | None, str]:
    return None, alias


def alias_pool(request: Request, pool: PoolP, alias: AliasP) -> tuple[str | None, str]:
    return pool, alias


def _unauthorized(message: str, bearer_sent: bool) -> EmulatorError:
    challenges: list[str] = [REALM]
    if bearer_sent:
        challenges.append('Bearer realm="Oracle REST Data Services", error="invalid_token"')
    return EmulatorError(401, message, headers={"WWW-Authenticate": challenges})


def _basic_credentials(header: str) -> tuple[str, str] | None:
    try:
        raw = base64.b64decode(header.split(None, 1)[1].strip(), validate=True).decode("utf-8")
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if ":" not in raw:
        return None
    user, _, password = raw.partition(":")
    return user, password


def authenticate(request: Request, alias: str) -> Principal:
    state: EmulatorState = request.app.state.emulator
    header = request.headers.get("authorization", "")
    scheme = header.split(None, 1)[0].lower() if header.strip() else ""
    if scheme == "basic":
        request.state.auth_scheme = "basic"
        creds = _basic_credentials(header)
        if creds is None:
            raise _unauthorized("Malformed Basic credentials", False)
        request.state.auth_user = creds[0]
        try:
            return state.authenticate_basic(alias, *creds)
        except EmulatorError as exc:
            raise _unauthorized(exc.message, False) from None
    if scheme == "bearer":
        request.state.auth_scheme = "bearer"
        token = header.split(None, 1)[1].strip() if len(header.split(None, 1)) > 1 else ""
        try:
            principal = state.authenticate_bearer(alias, token)
        except EmulatorError as exc:
            raise _unauthorized(exc.message, True) from None
        request.state.auth_user = principal.client_id
        return principal
    if scheme:
        request.state.auth_scheme = scheme
    raise _unauthorized("This resource requires authentication", False)


async def read_json(request: Request, *, empty: Any = None) -> Any:
    ctype = request.headers.get("content-type")
    if ctype is not None:
        mt = ctype.split(";", 1)[0].strip().lower()
        if mt and mt != "application/json" and not mt.endswith("+json"):
            raise EmulatorError(415, f"Content-Type {mt} is not supported; send application/json")
    try:
        data = await request.body()
    except ClientDisconnect:
        # Nobody is listening any more (a client timeout during a delay fault, typically).
        raise EmulatorError(400, "The client disconnected before sending the whole body") from None
    if len(data) > MAX_BODY:
        raise EmulatorError(413, "Request body is too large")
    if not data.strip():
        if empty is not None:
            return empty
        raise EmulatorError(400, "The request body is empty; a JSON object is required")
    try:
        return json.loads(data)
    except RecursionError:
        raise EmulatorError(400, "The request body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise EmulatorError(400, f"The request body is not valid JSON: {exc}") from None


def _bind(handler: Callable[..., Any], dependency: Callable[..., Any], param: str = "ctx") -> Callable[..., Any]:
    """Give ``handler`` a signature whose ``param`` depends on ``dependency``.

    The same handler serves ``/ords/{alias}/...`` and ``/ords/{pool}/{alias}/...``; FastAPI
    builds each route's parameters (and OpenAPI) from the signature it sees.
    """
    sig = inspect.signature(handler)
    params = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY, default=Depends(dependency))
        if p.name == param
        else p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in sig.parameters.values()
    ]

    async def endpoint(**kwargs: Any) -> Any:
        return await handler(**kwargs)

    endpoint.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


# ---------------------------------------------------------------- OpenAPI fragments

_EXPRESSIONS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["expression"],
        "properties": {"expression": {"type": "string", "example": "IN ('TESTUSER1')"}},
    },
}
_COMMON_PROPS: dict[str, Any] = {
    "job_mode": {"type": "string", "enum": ["FULL", "SCHEMA", "TABLE", "TABLESPACE"], "default": "SCHEMA"},
    "datapump_dir": {"type": "string", "default": "DATA_PUMP_DIR"},
    "file_name": {"type": "string", "description": "Dump file name or template (%U); Object Storage URI with credential_name"},
    "credential_name": {"type": "string"},
    "filter": {"type": "string", "description": "Comma-separated names, interpreted by job_mode"},
    "name_expressions": _EXPRESSIONS,
    "schema_expressions": _EXPRESSIONS,
    "tablespace_expressions": _EXPRESSIONS,
    "threads": {"type": "integer", "minimum": 1, "maximum": 99},
    "keep_master": {"type": "integer", "enum": [0, 1]},
}
_REMAP = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["source", "target"],
        "properties": {"source": {"type": "string"}, "target": {"type": "string"}},
    },
}
_LINKS = {
    "type": "array",
    "items": {"type": "object", "properties": {"rel": {"type": "string"}, "href": {"type": "string"}}},
}
_JOB_ITEM = {
    "type": "object",
    "properties": {
        "job_name": {"type": "string"},
        "owner_name": {"type": "string"},
        "operation": {"type": "string"},
        "job_mode": {"type": "string"},
        "state": {"type": "string"},
        "degree": {"type": "integer"},
        "attached_sessions": {"type": "integer"},
        "datapump_sessions": {"type": "integer"},
        "job_state": {"type": "string"},
        "job_comment": {"type": "string"},
        "links": _LINKS,
    },
}
_PROBLEM = {
    "type": "object",
    "properties": {k: {"type": "string"} for k in ("code", "title", "message", "type", "instance")},
}


def _body(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _responses(ok: int, ok_schema: dict[str, Any] | None, ok_media: str = "application/json", errors: tuple[int, ...] = (400, 401, 404)) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {}
    out[ok] = {"description": "Success", "content": {ok_media: {"schema": ok_schema or {}}}}
    for code in errors:
        out[code] = {"description": "Error", "content": {"application/problem+json": {"schema": _PROBLEM}}}
    return out


# ---------------------------------------------------------------- the app


def create_app(state: EmulatorState) -> FastAPI:
    app = FastAPI(
        title="ORDS Database API (Data Pump) emulator",
        version="1.0",
        description=(
            "Local emulator of the Oracle REST Data Services Data Pump endpoints. It is not Oracle. "
            "Emulator-only controls live under /_emulator/ and are not part of this document."
        ),
        redirect_slashes=False,
    )
    app.state.emulator = state

    # --------------------------------------------------------- error rendering

    @app.exception_handler(EmulatorError)
    async def _emulator_error(request: Request, exc: EmulatorError) -> Response:
        return problem_response(exc.status, exc.message, exc.headers, exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        if any(e.get("loc", ("",))[0] == "path" for e in errors):
            return problem_response(404, "The requested resource could not be found")
        parts = []
        for e in errors[:5]:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body",))
            parts.append(f"{loc}: {e.get('msg')}" if loc else str(e.get("msg")))
        return problem_response(400, "Invalid request: " + "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {
            404: "The requested resource could not be found",
            405: f"The {request.method} method is not allowed on this resource",
        }.get(exc.status_code, str(exc.detail))
        return problem_response(exc.status_code, message, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return problem_response(500, "The emulator failed to process the request")

    # --------------------------------------------------------- ORDS handlers

    async def create_job(request: Request, ctx: Ctx) -> Response:
        return await _create(request, ctx, "jobs")

    async def create_export(request: Request, ctx: Ctx) -> Response:
        return await _create(request, ctx, "export")

    async def create_import(request: Request, ctx: Ctx) -> Response:
        return await _create(request, ctx, "import")

    async def _create(request: Request, ctx: Ctx, endpoint: str) -> Response:
        state.check_endpoint(endpoint)  # routing (405) comes before authentication
        principal = authenticate(request, ctx.alias)
        payload = await read_json(request, empty={} if endpoint != "jobs" else None)
        if not isinstance(payload, dict):
            raise EmulatorError(400, "The request body must be a JSON object")
        request.state.dropped_keys = state.dropped_keys(payload, endpoint)
        body, url, dropped = state.create_job(principal, payload, endpoint, ctx.prefix)
        request.state.dropped_keys = dropped
        return json_response(body, 201, {"Location": url, "Content-Location": url}, etag=True)

    async def list_jobs(
        request: Request,
        ctx: Ctx,
        limit: Annotated[int | None, Query(ge=1, description="Page size (default 25; capped at the server's maximum)")] = None,
        offset: Annotated[int | None, Query(ge=0, description="Index of the first item")] = None,
        q: Annotated[str | None, Query(description="ORDS filter object, e.g. {\"state\":\"EXECUTING\"}")] = None,
    ) -> Response:
        authenticate(request, ctx.alias)
        body = state.list_jobs(ctx.prefix, limit=limit, offset=offset, q=q, query_string=request.url.query)
        return json_response(body, etag=True)

    async def get_job(request: Request, ctx: Ctx, job_id: JobIdP) -> Response:
        authenticate(request, ctx.alias)
        owner, name = job_id.split(",", 1)
        return json_response(state.get_job(owner, name, ctx.prefix), etag=True)

    async def get_file(request: Request, ctx: Ctx, job_id: JobIdP, file_name: FileP) -> Response:
        authenticate(request, ctx.alias)
        owner, name = job_id.split(",", 1)
        path, size, media = state.resolve_file(owner, name, file_name)
        if state.settings.get("strict_accept") and not accepts(request.headers.get("accept"), media):
            raise EmulatorError(406, f"The file is {media}, which the Accept header does not admit")
        headers: dict[str, str] = {}
        if state.settings.get("range_support"):
            headers["Accept-Ranges"] = "bytes"
            rng = request.headers.get("range")
            span = _parse_range(rng, size) if rng else None
            if span is not None:
                start, end = span
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
                return FileStream(path, size, media, start=start, end=end, status=206, extra_headers=headers)
        return FileStream(path, size, media, extra_headers=headers)

    async def metadata_catalog(request: Request, ctx: Ctx) -> Response:
        authenticate(request, ctx.alias)
        base = f"{ctx.prefix}/metadata-catalog/"
        return json_response(
            {
                "items": [
                    {
                        "name": "database/datapump",
                        "links": [{"rel": "describes", "href": f"{ctx.prefix}/database/datapump/jobs/"}],
                    }
                ],
                "links": [
                    {"rel": "self", "href": base},
                    {"rel": "alternate", "href": base + "openapi.json", "mediaType": "application/openapi+json"},
                ],
            }
        )

    async def metadata_openapi(request: Request, ctx: Ctx) -> Response:
        authenticate(request, ctx.alias)
        return json_response(app.openapi())

    async def oauth_token(request: Request, target: tuple[str | None, str]) -> Response:
        _pool, alias = target
        if alias.lower() not in state.aliases:
            raise EmulatorError(404, f"The schema alias {alias} is not mapped to a REST-enabled schema")
        raw = (await request.body()).decode("utf-8", "replace")
        form = dict(parse_qsl(raw, keep_blank_values=True))
        header = request.headers.get("authorization", "")
        client_id = secret = None
        if header.lower().startswith("basic "):
            request.state.auth_scheme = "basic"
            creds = _basic_credentials(header)
            if creds is not None:
                client_id, secret = creds
        elif "client_id" in form:
            request.state.auth_scheme = "form"
            client_id, secret = form.get("client_id"), form.get("client_secret", "")
        request.state.auth_user = client_id
        if not client_id:
            raise EmulatorError(401, "Client authentication is required", headers={"WWW-Authenticate": REALM}, extra={"error": "invalid_client"})
        try:
            token = state.issue_token(alias, client_id, secret or "", form.get("grant_type"))
        except EmulatorError as exc:
            if exc.status == 401:
                exc.headers.setdefault("WWW-Authenticate", REALM)
            raise
        return json_response(token, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    tags = ["Data Pump"]
    routes: list[tuple[str, Callable[..., Any], str, str, dict[str, Any]]] = [
        (DATAPUMP + "/jobs/", create_job, "POST", "createDataPumpJob", {
            "status_code": 201,
            "summary": "Create a Data Pump export or import job",
            "openapi_extra": _body({"operation": {"type": "string", "enum": ["EXPORT", "IMPORT"]}, **_COMMON_PROPS, "remap_schemas": _REMAP}, ["operation"]),
            "responses": _responses(201, _JOB_ITEM, errors=(400, 401, 404, 405, 415)),
        }),
        (DATAPUMP + "/export", create_export, "POST", "createDataPumpExport", {
            "status_code": 201,
            "summary": "Create a Data Pump export job",
            "openapi_extra": _body(dict(_COMMON_PROPS), []),
            "responses": _responses(201, _JOB_ITEM, errors=(400, 401, 404, 415)),
        }),
        (DATAPUMP + "/import", create_import, "POST", "createDataPumpImport", {
            "status_code": 201,
            "summary": "Create a Data Pump import job",
            "openapi_extra": _body({**_COMMON_PROPS, "remap_schemas": _REMAP}, ["file_name"]),
            "responses": _responses(201, _JOB_ITEM, errors=(400, 401, 404, 415)),
        }),
        (DATAPUMP + "/jobs/", list_jobs, "GET", "listDataPumpJobs", {
            "summary": "List Data Pump jobs",
            "responses": _responses(200, {"type": "object", "properties": {"items": {"type": "array", "items": _JOB_ITEM}, "hasMore": {"type": "boolean"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}, "count": {"type": "integer"}, "links": _LINKS}}),
        }),
        (DATAPUMP + "/jobs/{job_id}/", get_job, "GET", "getDataPumpJob", {
            "summary": "Get a Data Pump job",
            "responses": _responses(200, _JOB_ITEM),
        }),
        (DATAPUMP + "/jobs/{job_id}/{file_name}", get_file, "GET", "getDataPumpJobFile", {
            "summary": "Download a log or dump file of a job",
            "response_class": Response,
            "responses": {
                200: {"description": "The file", "content": {"text/plain": {"schema": {"type": "string"}}, "application/vnd.tcpdump.pcap": {"schema": {"type": "string", "format": "binary"}}}},
                **{k: v for k, v in _responses(200, None, errors=(400, 401, 404, 406)).items() if k != 200},
            },
        }),
        (DB_API + "/metadata-catalog/", metadata_catalog, "GET", "getMetadataCatalog", {
            "summary": "Metadata catalog root",
            "responses": _responses(200, {"type": "object"}),
        }),
        (DB_API + "/metadata-catalog/openapi.json", metadata_openapi, "GET", "getMetadataOpenApi", {
            "summary": "OpenAPI description of the emulated surface",
            "responses": _responses(200, {"type": "object"}),
        }),
    ]
    for suffix, handler, method, op_id, extra in routes:
        for with_pool, dep in ((False, ctx_plain), (True, ctx_pool)):
            path = ("/ords/{pool}/{alias}" if with_pool else "/ords/{alias}") + suffix
            app.add_api_route(
                path,
                _bind(handler, dep),
                methods=[method],
                operation_id=op_id + ("WithPool" if with_pool else ""),
                tags=tags,
                **extra,
            )
    token_extra = {
        "summary": "OAuth2 client-credentials token",
        "openapi_extra": {
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "required": ["grant_type"], "properties": {"grant_type": {"type": "string", "enum": ["client_credentials"]}}}
                    }
                },
            }
        },
        "responses": _responses(200, {"type": "object", "properties": {"access_token": {"type": "string"}, "token_type": {"type": "string"}, "expires_in": {"type": "integer"}}}, errors=(400, 401, 404)),
    }
    for with_pool, dep in ((False, alias_plain), (True, alias_pool)):
        app.add_api_route(
            ("/ords/{pool}/{alias}" if with_pool else "/ords/{alias}") + "/oauth/token",
            _bind(oauth_token, dep, "target"),
            methods=["POST"],
            operation_id="oauthToken" + ("WithPool" if with_pool else ""),
            tags=["OAuth"],
            **token_extra,
        )

    _add_control_routes(app, state)
    app.add_middleware(OrdsMiddleware, state=state)
    return app


# ---------------------------------------------------------------- /_emulator control surface


def _add_control_routes(app: FastAPI, state: EmulatorState) -> None:
    hidden = {"include_in_schema": False}

    def job_key(job_id: str) -> tuple[str, str]:
        if job_id.count(",") != 1:
            raise EmulatorError(404, "expected OWNER,JOB")
        owner, name = job_id.split(",")
        return owner, name

    async def obj(request: Request) -> dict[str, Any]:
        body = await read_json(request, empty={})
        if not isinstance(body, dict):
            raise EmulatorError(400, "expected a JSON object")
        return body

    @app.get("/_emulator/health", **hidden)
    async def health() -> Response:
        return json_response({"status": "ok"})

    @app.post("/_emulator/clock", **hidden)
    async def advance_clock(request: Request) -> Response:
        body = await obj(request)
        unknown = set(body) - {"advance"}
        if unknown:
            raise EmulatorError(400, f"unknown fields: {', '.join(sorted(unknown))}")
        return json_response({"now": state.advance_clock(body.get("advance", 0))})

    @app.get("/_emulator/catalog", **hidden)
    async def get_catalog() -> Response:
        return json_response(state.catalog_data())

    @app.put("/_emulator/catalog", **hidden)
    async def put_catalog(request: Request) -> Response:
        return json_response(state.load_catalog(await read_json(request)))

    @app.delete("/_emulator/catalog/{schema}", **hidden)
    async def drop_schema(schema: str) -> Response:
        state.drop_schema(schema)
        return Response(status_code=204)

    @app.delete("/_emulator/catalog/{schema}/{table}", **hidden)
    async def drop_table(schema: str, table: str) -> Response:
        state.drop_table(schema, table)
        return Response(status_code=204)

    @app.post("/_emulator/reset", **hidden)
    async def reset() -> Response:
        state.reset()
        return Response(status_code=204)

    @app.get("/_emulator/requests", **hidden)
    async def get_requests(wait_idle: float = 0.0) -> Response:
        if wait_idle > 0:
            # On a worker thread: the requests being waited for finish on this event loop.
            await anyio.to_thread.run_sync(state.wait_idle, min(wait_idle, 60.0))
        return json_response(state.requests())

    @app.delete("/_emulator/requests", **hidden)
    async def clear_requests() -> Response:
        state.clear_requests()
        return Response(status_code=204)

    @app.get("/_emulator/scenario", **hidden)
    async def get_scenario() -> Response:
        return json_response(state.get_scenario())

    @app.put("/_emulator/scenario", **hidden)
    async def put_scenario(request: Request) -> Response:
        return json_response(state.set_scenario(**await obj(request)))

    @app.post("/_emulator/scenario/next", **hidden)
    async def queue_scenario(request: Request) -> Response:
        body = await read_json(request, empty={})
        entries = body if isinstance(body, list) else [body]
        if not all(isinstance(e, dict) for e in entries):
            raise EmulatorError(400, "expected a JSON object or an array of objects")
        result: dict[str, Any] = {}
        for entry in entries:
            result = state.queue_scenario(**entry)
        return json_response(result or state.get_scenario())

    @app.delete("/_emulator/scenario/next", **hidden)
    async def clear_queue() -> Response:
        state.clear_scenario_queue()
        return Response(status_code=204)

    @app.get("/_emulator/jobs", **hidden)
    async def list_internal_jobs() -> Response:
        return json_response(state.jobs())

    @app.post("/_emulator/jobs", **hidden)
    async def add_foreign_job(request: Request) -> Response:
        return json_response(state.add_foreign_job(await obj(request)), 201)

    @app.patch("/_emulator/jobs/{job_id}", **hidden)
    async def patch_job(job_id: str, request: Request) -> Response:
        return json_response(state.patch_job(*job_key(job_id), **await obj(request)))

    @app.delete("/_emulator/jobs/{job_id}", **hidden)
    async def drop_job(job_id: str) -> Response:
        state.drop_job(*job_key(job_id))
        return Response(status_code=204)

    @app.post("/_emulator/jobs/{job_id}/stop", **hidden)
    async def stop_job(job_id: str, request: Request) -> Response:
        body = await obj(request)
        unknown = set(body) - {"keep_master", "immediate"}
        if unknown:
            raise EmulatorError(400, f"unknown fields: {', '.join(sorted(unknown))}")
        return json_response(state.stop_job(*job_key(job_id), keep_master=body.get("keep_master", 1)))

    @app.get("/_emulator/faults", **hidden)
    async def list_faults() -> Response:
        return json_response(state.faults())

    @app.post("/_emulator/faults", **hidden)
    async def add_fault(request: Request) -> Response:
        return json_response(state.add_fault(**await obj(request)), 201)

    @app.delete("/_emulator/faults", **hidden)
    async def clear_faults() -> Response:
        state.clear_faults()
        return Response(status_code=204)

    @app.delete("/_emulator/faults/{fault_id}", **hidden)
    async def remove_fault(fault_id: int) -> Response:
        state.remove_fault(fault_id)
        return Response(status_code=204)

    @app.get("/_emulator/objects", **hidden)
    async def list_objects() -> Response:
        return json_response(sorted(state.object_store()))
