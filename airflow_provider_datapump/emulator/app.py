"""HTTP layer of the emulator: FastAPI routes that parse ORDS requests and call the backend.

No semantics live here: what a request means is decided by ``backend`` and ``auth``; each
error they raise becomes problem+json in ``responses.problem_response``. The ORDS surface
is declared as real routes (so ``/openapi.json`` describes it); the emulator's own control
surface (``control``) lives under ``/_emulator/`` and is left out of the OpenAPI document.
"""

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from .auth import Caller, Principal
from .control import add_control_routes
from .description import CATALOG_MEDIA_TYPE
from .errors import BadRequest, EmulatorError, InternalError, NotFound
from .middleware import OrdsMiddleware
from .openapi import COMMON_PROPS, JOB_ITEM, LINKS, REMAP, request_body, responses
from .parsing import read_json, read_sql
from .responses import json_response, problem_response
from .state import EmulatorState
from .streaming import FileStream

__all__ = ["create_app"]

DB_API = "/_/db-api/{version}"
DATAPUMP = DB_API + "/database/datapump"

_SEGMENT = r"^[A-Za-z0-9_$#][A-Za-z0-9_$#.\-]{0,127}$"
AliasP = Annotated[str, Path(description="Schema alias of the REST-enabled schema", pattern=_SEGMENT)]
PoolP = Annotated[str, Path(description="Database pool or PDB service segment", pattern=_SEGMENT)]
VersionP = Annotated[str, Path(description="Database API version", pattern=r"^(stable|latest)$")]
JobIdP = Annotated[str, Path(description="OWNER_NAME,JOB_NAME", pattern=r"^[^,/]+,[^,/]+$")]
FileP = Annotated[str, Path(description="Name of a log or dump file linked from the job")]


# ---------------------------------------------------------------- request parsing


@dataclass
class Ctx:
    """The path's pool, alias and API version, and the link prefix the backend renders with."""

    pool: str | None
    alias: str
    version: str
    prefix: str


def _ctx(request: Request, pool: str | None, alias: str, version: str) -> Ctx:
    state: EmulatorState = request.app.state.emulator
    state.auth.check_alias(alias)
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return Ctx(pool, alias, version, state.backend.link_prefix(origin, pool, alias, version))


def ctx_plain(request: Request, alias: AliasP, version: VersionP) -> Ctx:
    return _ctx(request, None, alias, version)


def ctx_pool(request: Request, pool: PoolP, alias: AliasP, version: VersionP) -> Ctx:
    return _ctx(request, pool, alias, version)


def alias_plain(request: Request, alias: AliasP) -> tuple[str | None, str]:
    return None, alias


def alias_pool(request: Request, pool: PoolP, alias: AliasP) -> tuple[str | None, str]:
    return pool, alias


def _caller(request: Request) -> Caller:
    caller = getattr(request.state, "caller", None)
    if caller is None:
        caller = request.state.caller = Caller()
    return caller


def authenticate(request: Request, alias: str) -> Principal:
    state: EmulatorState = request.app.state.emulator
    return state.auth.authenticate(alias, request.headers.get("authorization", ""), _caller(request))


def _bind(
    handler: Callable[..., Any], dependency: Callable[..., Any], param: str = "ctx"
) -> Callable[..., Any]:
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
    backend, auth = state.backend, state.auth

    # --------------------------------------------------------- every refusal through problem_response

    @app.exception_handler(EmulatorError)
    async def _emulator_error(request: Request, exc: EmulatorError) -> Response:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        if any(e.get("loc", ("",))[0] == "path" for e in errors):
            return problem_response(NotFound("The requested resource could not be found"))
        parts = []
        for e in errors[:5]:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body",))
            parts.append(f"{loc}: {e.get('msg')}" if loc else str(e.get("msg")))
        return problem_response(BadRequest("Invalid request: " + "; ".join(parts)))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {
            404: "The requested resource could not be found",
            405: f"The {request.method} method is not allowed on this resource",
        }.get(exc.status_code, str(exc.detail))
        return problem_response(EmulatorError(exc.status_code, message, headers=dict(exc.headers or {})))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return problem_response(InternalError("The emulator failed to process the request"))

    # --------------------------------------------------------- ORDS handlers

    async def create_job(request: Request, ctx: Ctx) -> Response:
        return await _create(request, ctx, "jobs")

    async def create_export(request: Request, ctx: Ctx) -> Response:
        return await _create(request, ctx, "export")

    async def create_import(request: Request, ctx: Ctx) -> Response:
        return await _create(request, ctx, "import")

    async def _create(request: Request, ctx: Ctx, endpoint: str) -> Response:
        backend.check_endpoint(endpoint)  # routing (405) comes before authentication
        principal = authenticate(request, ctx.alias)
        payload = await read_json(request, empty=None)

        def note_dropped(keys: list[str]) -> None:
            request.state.dropped_keys = keys

        body, url, _ = backend.create_job(principal, payload, endpoint, ctx.prefix, note_dropped=note_dropped)
        return json_response(body, 201, {"Location": url, "Content-Location": url}, etag=True)

    async def list_jobs(
        request: Request,
        ctx: Ctx,
        limit: Annotated[
            int | None, Query(ge=1, description="Page size (default 25; capped at the server's maximum)")
        ] = None,
        offset: Annotated[int | None, Query(ge=0, description="Index of the first item")] = None,
        q: Annotated[str | None, Query(description='ORDS filter object, e.g. {"state":"EXECUTING"}')] = None,
    ) -> Response:
        authenticate(request, ctx.alias)
        body = backend.list_jobs(ctx.prefix, limit=limit, offset=offset, q=q, query_string=request.url.query)
        return json_response(body, etag=True)

    async def get_job(request: Request, ctx: Ctx, job_id: JobIdP) -> Response:
        authenticate(request, ctx.alias)
        owner, name = job_id.split(",", 1)
        return json_response(backend.get_job(owner, name, ctx.prefix), etag=True)

    async def get_file(request: Request, ctx: Ctx, job_id: JobIdP, file_name: FileP) -> Response:
        authenticate(request, ctx.alias)
        owner, name = job_id.split(",", 1)
        answer = backend.open_file(
            owner,
            name,
            file_name,
            accept=request.headers.get("accept"),
            range_header=request.headers.get("range"),
        )
        return FileStream(
            answer.path,
            answer.size,
            answer.media_type,
            start=answer.start,
            end=answer.end,
            status=answer.status,
            extra_headers=answer.headers,
        )

    async def metadata_catalog(request: Request, ctx: Ctx) -> Response:
        authenticate(request, ctx.alias)
        return json_response(backend.metadata_catalog(ctx.prefix))

    async def metadata_openapi(request: Request, ctx: Ctx) -> Response:
        authenticate(request, ctx.alias)
        doc = backend.describe(ctx.prefix)
        # The catalog's link announces this media type; that the document is served with it is inferred.
        return Response(json.dumps(doc).encode(), media_type=CATALOG_MEDIA_TYPE)

    async def oauth_token(request: Request, target: tuple[str | None, str]) -> Response:
        _pool, alias = target
        auth.check_alias(alias)
        raw = (await request.body()).decode("utf-8", "replace")
        form = dict(parse_qsl(raw, keep_blank_values=True))
        token = auth.token_request(alias, request.headers.get("authorization", ""), form, _caller(request))
        return json_response(token, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def rest_sql(request: Request, target: tuple[str | None, str]) -> Response:
        _pool, alias = target
        state.sql.check_active()  # an inactive service is not mapped at all: 404 before anything else
        auth.check_alias(alias)
        principal = authenticate(request, alias)
        ctype = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
        text: Any
        if ctype == "application/sql":
            text, binds, offset, limit = await read_sql(request), None, 0, None
        else:
            body = await read_json(request)
            if not isinstance(body, dict):
                raise BadRequest('expected a JSON object: {"statementText": "...", "binds": [...]}')
            text, binds = body.get("statementText"), body.get("binds")
            offset, limit = body.get("offset", 0), body.get("limit")
        return json_response(state.sql.run(principal, text, binds, offset=offset, limit=limit))

    tags: list[str | Enum] = ["Data Pump"]
    routes: list[tuple[str, Callable[..., Any], str, str, dict[str, Any]]] = [
        (
            DATAPUMP + "/jobs/",
            create_job,
            "POST",
            "createDataPumpJob",
            {
                "status_code": 201,
                "summary": "Create a Data Pump export or import job",
                "openapi_extra": request_body(
                    {
                        "operation": {"type": "string", "enum": ["EXPORT", "IMPORT"]},
                        **COMMON_PROPS,
                        "remap_schemas": REMAP,
                    },
                    ["operation"],
                ),
                "responses": responses(201, JOB_ITEM, errors=(400, 401, 404, 405, 415)),
            },
        ),
        (
            DATAPUMP + "/export",
            create_export,
            "POST",
            "createDataPumpExport",
            {
                "status_code": 201,
                "summary": "Create a Data Pump export job",
                "openapi_extra": request_body(dict(COMMON_PROPS), []),
                "responses": responses(201, JOB_ITEM, errors=(400, 401, 404, 415)),
            },
        ),
        (
            DATAPUMP + "/import",
            create_import,
            "POST",
            "createDataPumpImport",
            {
                "status_code": 201,
                "summary": "Create a Data Pump import job",
                "openapi_extra": request_body({**COMMON_PROPS, "remap_schemas": REMAP}, ["file_name"]),
                "responses": responses(201, JOB_ITEM, errors=(400, 401, 404, 415)),
            },
        ),
        (
            DATAPUMP + "/jobs/",
            list_jobs,
            "GET",
            "listDataPumpJobs",
            {
                "summary": "List Data Pump jobs",
                "responses": responses(
                    200,
                    {
                        "type": "object",
                        "properties": {
                            "items": {"type": "array", "items": JOB_ITEM},
                            "hasMore": {"type": "boolean"},
                            "limit": {"type": "integer"},
                            "offset": {"type": "integer"},
                            "count": {"type": "integer"},
                            "links": LINKS,
                        },
                    },
                ),
            },
        ),
        (
            DATAPUMP + "/jobs/{job_id}/",
            get_job,
            "GET",
            "getDataPumpJob",
            {
                "summary": "Get a Data Pump job",
                "responses": responses(200, JOB_ITEM),
            },
        ),
        (
            DATAPUMP + "/jobs/{job_id}/{file_name}",
            get_file,
            "GET",
            "getDataPumpJobFile",
            {
                "summary": "Download a log or dump file of a job",
                "response_class": Response,
                "responses": {
                    200: {
                        "description": "The file",
                        "content": {
                            "text/plain": {"schema": {"type": "string"}},
                            "application/vnd.tcpdump.pcap": {
                                "schema": {"type": "string", "format": "binary"}
                            },
                        },
                    },
                    **{
                        k: v for k, v in responses(200, None, errors=(400, 401, 404, 406)).items() if k != 200
                    },
                },
            },
        ),
        (
            DB_API + "/metadata-catalog/",
            metadata_catalog,
            "GET",
            "getMetadataCatalog",
            {
                "summary": "Metadata catalog root",
                "responses": responses(200, {"type": "object"}),
            },
        ),
        (
            DB_API + "/metadata-catalog/openapi.json",
            metadata_openapi,
            "GET",
            "getMetadataOpenApi",
            {
                "summary": "OpenAPI description of the Database API, as the modelled ORDS release serves it",
                "responses": responses(200, {"type": "object"}, ok_media=CATALOG_MEDIA_TYPE),
            },
        ),
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
    token_extra: dict[str, Any] = {
        "summary": "OAuth2 client-credentials token",
        "openapi_extra": {
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "required": ["grant_type"],
                            "properties": {"grant_type": {"type": "string", "enum": ["client_credentials"]}},
                        }
                    }
                },
            }
        },
        "responses": responses(
            200,
            {
                "type": "object",
                "properties": {
                    "access_token": {"type": "string"},
                    "token_type": {"type": "string"},
                    "expires_in": {"type": "integer"},
                },
            },
            errors=(400, 401, 404),
        ),
    }

    def add_alias_route(
        suffix: str, handler: Callable[..., Any], op_id: str, tag: str, extra: dict[str, Any]
    ) -> None:
        """A POST under the schema alias, with and without the pool segment."""
        for with_pool, alias_dep in ((False, alias_plain), (True, alias_pool)):
            app.add_api_route(
                ("/ords/{pool}/{alias}" if with_pool else "/ords/{alias}") + suffix,
                _bind(handler, alias_dep, "target"),
                methods=["POST"],
                operation_id=op_id + ("WithPool" if with_pool else ""),
                tags=[tag],
                **extra,
            )

    add_alias_route("/oauth/token", oauth_token, "oauthToken", "OAuth", token_extra)

    sql_extra: dict[str, Any] = {
        "summary": "REST-Enabled SQL: run SQL, PL/SQL and scripts",
        "openapi_extra": {
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["statementText"],
                            "properties": {
                                "statementText": {"type": "string"},
                                "binds": {"type": "array", "items": {"type": "object"}},
                                "offset": {"type": "integer", "minimum": 0},
                                "limit": {"type": "integer", "minimum": 0},
                            },
                        }
                    },
                    "application/sql": {"schema": {"type": "string"}},
                },
            }
        },
        "responses": responses(
            200,
            {"type": "object", "properties": {"env": {"type": "object"}, "items": {"type": "array"}}},
            errors=(400, 401, 404, 415),
        ),
    }
    add_alias_route("/_/sql", rest_sql, "restEnabledSql", "REST-Enabled SQL", sql_extra)

    add_control_routes(app, state)
    app.add_middleware(OrdsMiddleware, faults=state.faults, request_log=state.request_log)
    return app
