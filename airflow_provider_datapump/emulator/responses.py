"""JSON answers, and the one place an ``EmulatorError`` becomes a problem+json response."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from starlette.responses import Response

from .errors import EmulatorError, problem_body

__all__ = ["json_response", "problem_response"]


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _etag(data: bytes) -> str:
    # S7, S10: ORDS' ETag is the SHA-512 of the body, Base64.
    return '"' + base64.b64encode(hashlib.sha512(data).digest()).decode() + '"'


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None, etag: bool = False
) -> Response:
    data = _json_bytes(body)
    resp = Response(data, status_code=status, media_type="application/json", headers=headers)
    if etag:
        resp.headers["ETag"] = _etag(data)
    return resp


def problem_response(error: EmulatorError) -> Response:
    data = _json_bytes(problem_body(error.status, error.message, error.extra))
    resp = Response(data, status_code=error.status, media_type="application/problem+json")
    for key, value in error.headers.items():
        for v in value if isinstance(value, (list, tuple)) else [value]:
            resp.headers.append(key, str(v))
    return resp
