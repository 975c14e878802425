"""The OpenAPI description ORDS serves of its Database API, per modelled release, and the create
keys a description declares.

Real ORDS answers ``GET …/_/db-api/stable/metadata-catalog/`` with a ``canonical`` link to
``…/metadata-catalog/openapi.json`` (media type ``application/vnd.oai.openapi+json;version=3.0``),
an OpenAPI 3.0 document from which Oracle's reference pages are rendered. No raw copy of that
document could be found, so this one is shaped from what those pages show: paths relative to the
Database API root given in ``servers``, request bodies under ``requestBody`` that ``$ref`` the
schemas ``DatabaseDatapumpExportRequest``, ``DatabaseDatapumpImportRequest``,
``DatabaseDatapumpJobsRequest`` and ``JobMode``. A test may also hand the emulator a description
of its own (the ``openapi`` setting); the keys it declares are then the keys the emulator uses.
"""

from __future__ import annotations

import copy
from typing import Any

from .openapi import COMMON_PROPS, JOB_ITEM, REMAP
from .versions import RELEASE_NUMBERS, TABLE_EXISTS_ACTIONS, endpoint_keys

__all__ = [
    "CATALOG_MEDIA_TYPE",
    "ENDPOINT_PATHS",
    "create_keys",
    "declared_keys",
    "release_description",
]

CATALOG_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
# Create endpoint -> its path relative to the Database API root (the ``servers`` URL).
ENDPOINT_PATHS = {
    "export": "/database/datapump/export",
    "import": "/database/datapump/import",
    "jobs": "/database/datapump/jobs/",
}
_SCHEMA_NAMES = {
    "export": "DatabaseDatapumpExportRequest",
    "import": "DatabaseDatapumpImportRequest",
    "jobs": "DatabaseDatapumpJobsRequest",
}
_PROPERTIES: dict[str, Any] = {
    **COMMON_PROPS,
    "job_mode": {"$ref": "#/components/schemas/JobMode"},
    "operation": {"type": "string", "enum": ["EXPORT", "IMPORT"]},
    "remap_schemas": REMAP,
    "table_exists_action": {
        "type": "string",
        "enum": list(TABLE_EXISTS_ACTIONS),
        "default": "SKIP",
        "description": "What to do when a table being imported already exists",
    },
}


def release_description(version: str, server_url: str) -> dict[str, Any]:
    """The description a release serves; ``server_url`` is the Database API root of this request."""
    schemas: dict[str, Any] = {"JobMode": copy.deepcopy(COMMON_PROPS["job_mode"])}
    paths: dict[str, Any] = {
        "/database/datapump/jobs/": {
            "get": {
                "summary": "Get all Data Pump jobs",
                "responses": {
                    "200": {"description": "Jobs", "content": {"application/json": {"schema": {}}}}
                },
            }
        },
        "/database/datapump/jobs/{owner_name},{job_name}/": {
            "get": {"summary": "Get a Data Pump job", "responses": {"200": {"description": "The job"}}}
        },
    }
    for endpoint, path in ENDPOINT_PATHS.items():
        keys = endpoint_keys(version, endpoint)
        if keys is None:
            continue  # no POST in this release: the path is absent, or GET only (jobs/)
        name = _SCHEMA_NAMES[endpoint]
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {key: copy.deepcopy(_PROPERTIES[key]) for key in keys},
        }
        if endpoint == "jobs":
            schema["required"] = ["operation"]
        elif endpoint == "import":
            schema["required"] = ["file_name"]
        schemas[name] = schema
        operation = {
            "summary": f"Create a Data Pump {'job' if endpoint == 'jobs' else endpoint + ' job'}",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
            },
            "responses": {
                "201": {
                    "description": "The job was created",
                    "content": {"application/json": {"schema": copy.deepcopy(JOB_ITEM)}},
                }
            },
        }
        paths.setdefault(path, {})["post"] = operation
    return {
        "openapi": "3.0.0",
        "info": {"title": "Oracle REST Data Services Database API", "version": RELEASE_NUMBERS[version]},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    for _ in range(20):  # a $ref chain, never a loop
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return {}
        node = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node.get(part) if isinstance(node, dict) else None
    return {}


def _post_path(doc: dict[str, Any], endpoint: str) -> dict[str, Any] | None:
    want = ENDPOINT_PATHS[endpoint].strip("/")
    for path, item in doc.get("paths", {}).items():
        if isinstance(path, str) and isinstance(item, dict) and path.strip("/").endswith(want):
            post = item.get("post")
            if isinstance(post, dict):
                return post
    return None


def declared_keys(doc: dict[str, Any], endpoint: str) -> tuple[str, ...] | None:
    """The request keys a description declares for a create endpoint; None when it has no POST."""
    post = _post_path(doc, endpoint)
    if post is None:
        return None
    body = _resolve(doc, post.get("requestBody"))
    content = body.get("content") if isinstance(body, dict) else None
    schema: Any = None
    if isinstance(content, dict):
        media = content.get("application/json") or next(iter(content.values()), None)
        schema = _resolve(doc, media.get("schema")) if isinstance(media, dict) else None
    props = schema.get("properties") if isinstance(schema, dict) else None
    return tuple(props) if isinstance(props, dict) else ()


def create_keys(settings: dict[str, Any], endpoint: str) -> tuple[str, ...] | None:
    """The keys a create endpoint uses on this emulator (None: no POST): those its served
    description declares when the ``openapi`` setting is a description of the test's own, else
    those of the modelled release (which its own description declares too)."""
    doc = settings.get("openapi")
    if isinstance(doc, dict):
        return declared_keys(doc, endpoint)
    return endpoint_keys(settings["ords_version"], endpoint)
