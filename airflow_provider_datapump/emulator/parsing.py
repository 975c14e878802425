"""Reading a request's JSON body: media type, size and syntax, the same for ORDS and control routes."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import ClientDisconnect, Request

from .errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

__all__ = ["read_json", "read_sql", "MAX_BODY"]

MAX_BODY = 1024 * 1024
_REQUIRED = object()


async def _body(request: Request) -> bytes:
    try:
        data = await request.body()
    except ClientDisconnect:
        # Nobody is listening any more (a client timeout during a delay fault, typically).
        raise BadRequest("The client disconnected before sending the whole body") from None
    if len(data) > MAX_BODY:
        raise PayloadTooLarge("Request body is too large")
    return data


async def read_sql(request: Request) -> str:
    """An ``application/sql`` body: the script's text (UTF-8)."""
    try:
        return (await _body(request)).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The SQL script is not valid UTF-8") from None


async def read_json(request: Request, *, empty: Any = _REQUIRED) -> Any:
    """The body decoded as JSON; ``empty`` is what an empty body yields (by default it is refused)."""
    ctype = request.headers.get("content-type")
    if ctype is not None:
        mt = ctype.split(";", 1)[0].strip().lower()
        if mt and mt != "application/json" and not mt.endswith("+json"):
            raise UnsupportedMediaType(f"Content-Type {mt} is not supported; send application/json")
    data = await _body(request)
    if not data.strip():
        if empty is not _REQUIRED:
            return empty
        raise BadRequest("The request body is empty; a JSON object is required")
    try:
        return json.loads(data)
    except RecursionError:
        raise BadRequest("The request body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from None
