"""HTTP layer of the test harness: the /_emulator control routes (left out of /openapi.json).

Like moto's ``moto_api``: reset, clock, scenarios, faults, the request log, and views of
the backend's catalog, jobs and object store. Each route parses and calls; the rules live
in ``scenarios``, ``faults``, ``request_log``, ``clock`` and ``backend``.
"""

from typing import Any

import anyio
from fastapi import FastAPI, Request
from starlette.responses import Response

from .errors import BadRequest, NotFound
from .parsing import read_json
from .responses import json_response
from .state import EmulatorState

__all__ = ["add_control_routes"]


def add_control_routes(app: FastAPI, state: EmulatorState) -> None:
    """The /_emulator routes, each a call into one part of the harness or the backend."""
    hidden: dict[str, Any] = {"include_in_schema": False}
    backend = state.backend

    def job_key(job_id: str) -> tuple[str, str]:
        if job_id.count(",") != 1:
            raise NotFound("expected OWNER,JOB")
        owner, name = job_id.split(",")
        return owner, name

    async def obj(request: Request) -> dict[str, Any]:
        body = await read_json(request, empty={})
        if not isinstance(body, dict):
            raise BadRequest("expected a JSON object")
        return body

    @app.get("/_emulator/health", **hidden)
    async def health() -> Response:
        return json_response({"status": "ok"})

    @app.post("/_emulator/clock", **hidden)
    async def advance_clock(request: Request) -> Response:
        body = await obj(request)
        unknown = set(body) - {"advance"}
        if unknown:
            raise BadRequest(f"unknown fields: {', '.join(sorted(unknown))}")
        return json_response({"now": state.clock.advance(body.get("advance", 0))})

    @app.get("/_emulator/catalog", **hidden)
    async def get_catalog() -> Response:
        return json_response(backend.catalog_data())

    @app.put("/_emulator/catalog", **hidden)
    async def put_catalog(request: Request) -> Response:
        return json_response(backend.load_catalog(await read_json(request)))

    @app.delete("/_emulator/catalog/{schema}", **hidden)
    async def drop_schema(schema: str) -> Response:
        backend.drop_schema(schema)
        return Response(status_code=204)

    @app.delete("/_emulator/catalog/{schema}/{table}", **hidden)
    async def drop_table(schema: str, table: str) -> Response:
        backend.drop_table(schema, table)
        return Response(status_code=204)

    @app.patch("/_emulator/catalog/{schema}/{table}", **hidden)
    async def patch_table(schema: str, table: str, request: Request) -> Response:
        body = await obj(request)
        unknown = set(body) - {"rows", "bytes"}
        if unknown:
            raise BadRequest(f"unknown fields: {', '.join(sorted(unknown))}")
        return json_response(backend.set_table_rows(schema, table, body.get("rows"), body.get("bytes")))

    @app.post("/_emulator/reset", **hidden)
    async def reset() -> Response:
        state.reset()
        return Response(status_code=204)

    @app.get("/_emulator/requests", **hidden)
    async def get_requests(wait_idle: float = 0.0) -> Response:
        if wait_idle > 0:
            # On a worker thread: the requests being waited for finish on this event loop.
            await anyio.to_thread.run_sync(state.request_log.wait_idle, min(wait_idle, 60.0))
        return json_response(state.request_log.entries())

    @app.delete("/_emulator/requests", **hidden)
    async def clear_requests() -> Response:
        state.request_log.clear()
        return Response(status_code=204)

    @app.get("/_emulator/scenario", **hidden)
    async def get_scenario() -> Response:
        return json_response(state.scenarios.get())

    @app.put("/_emulator/scenario", **hidden)
    async def put_scenario(request: Request) -> Response:
        return json_response(state.scenarios.set(**await obj(request)))

    @app.post("/_emulator/scenario/next", **hidden)
    async def queue_scenario(request: Request) -> Response:
        body = await read_json(request, empty={})
        entries = body if isinstance(body, list) else [body]
        if not all(isinstance(e, dict) for e in entries):
            raise BadRequest("expected a JSON object or an array of objects")
        result: dict[str, Any] = {}
        for entry in entries:
            result = state.scenarios.queue(**entry)
        return json_response(result or state.scenarios.get())

    @app.delete("/_emulator/scenario/next", **hidden)
    async def clear_queue() -> Response:
        state.scenarios.clear_queue()
        return Response(status_code=204)

    @app.get("/_emulator/jobs", **hidden)
    async def list_internal_jobs() -> Response:
        return json_response(backend.jobs())

    @app.post("/_emulator/jobs", **hidden)
    async def add_foreign_job(request: Request) -> Response:
        return json_response(backend.add_foreign_job(await obj(request)), 201)

    @app.patch("/_emulator/jobs/{job_id}", **hidden)
    async def patch_job(job_id: str, request: Request) -> Response:
        return json_response(state.patch_job(*job_key(job_id), **await obj(request)))

    @app.delete("/_emulator/jobs/{job_id}", **hidden)
    async def drop_job(job_id: str) -> Response:
        backend.drop_job(*job_key(job_id))
        return Response(status_code=204)

    @app.post("/_emulator/jobs/{job_id}/stop", **hidden)
    async def stop_job(job_id: str, request: Request) -> Response:
        body = await obj(request)
        unknown = set(body) - {"keep_master", "immediate"}
        if unknown:
            raise BadRequest(f"unknown fields: {', '.join(sorted(unknown))}")
        return json_response(backend.stop_job(*job_key(job_id), keep_master=body.get("keep_master", 1)))

    @app.get("/_emulator/faults", **hidden)
    async def list_faults() -> Response:
        return json_response(state.faults.list())

    @app.post("/_emulator/faults", **hidden)
    async def add_fault(request: Request) -> Response:
        return json_response(state.faults.add(**await obj(request)), 201)

    @app.delete("/_emulator/faults", **hidden)
    async def clear_faults() -> Response:
        state.faults.clear()
        return Response(status_code=204)

    @app.delete("/_emulator/faults/{fault_id}", **hidden)
    async def remove_fault(fault_id: int) -> Response:
        state.faults.remove(fault_id)
        return Response(status_code=204)

    @app.get("/_emulator/objects", **hidden)
    async def list_objects() -> Response:
        return json_response(sorted(backend.object_store()))
