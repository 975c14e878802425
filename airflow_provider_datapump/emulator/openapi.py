"""OpenAPI fragments that describe the emulated ORDS surface in ``/openapi.json``."""

from __future__ import annotations

from typing import Any

from .naming import DEFAULT_DIRECTORY, JOB_MODES, MAX_THREADS

__all__ = ["COMMON_PROPS", "REMAP", "LINKS", "JOB_ITEM", "request_body", "responses"]

_EXPRESSIONS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["expression"],
        "properties": {"expression": {"type": "string", "example": "IN ('TESTUSER1')"}},
    },
}
COMMON_PROPS: dict[str, Any] = {
    "job_mode": {"type": "string", "enum": list(JOB_MODES), "default": "SCHEMA"},
    "datapump_dir": {"type": "string", "default": DEFAULT_DIRECTORY},
    "file_name": {
        "type": "string",
        "description": "Dump file name or template (%U); Object Storage URI with credential_name",
    },
    "credential_name": {"type": "string"},
    "filter": {"type": "string", "description": "Comma-separated names, interpreted by job_mode"},
    "name_expressions": _EXPRESSIONS,
    "schema_expressions": _EXPRESSIONS,
    "tablespace_expressions": _EXPRESSIONS,
    "threads": {"type": "integer", "minimum": 1, "maximum": MAX_THREADS},
    "keep_master": {"type": "integer", "enum": [0, 1]},
}
REMAP = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["source", "target"],
        "properties": {"source": {"type": "string"}, "target": {"type": "string"}},
    },
}
LINKS = {
    "type": "array",
    "items": {"type": "object", "properties": {"rel": {"type": "string"}, "href": {"type": "string"}}},
}
JOB_ITEM = {
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
        "links": LINKS,
    },
}
_PROBLEM = {
    "type": "object",
    "properties": {k: {"type": "string"} for k in ("code", "title", "message", "type", "instance")},
}


def request_body(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def responses(
    ok: int,
    ok_schema: dict[str, Any] | None,
    ok_media: str = "application/json",
    errors: tuple[int, ...] = (400, 401, 404),
) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {}
    out[ok] = {"description": "Success", "content": {ok_media: {"schema": ok_schema or {}}}}
    for code in errors:
        out[code] = {"description": "Error", "content": {"application/problem+json": {"schema": _PROBLEM}}}
    return out
