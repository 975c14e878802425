"""What ORDS makes of a create request's JSON body, per endpoint and modelled version.

A key the endpoint does not document is dropped silently (and reported in the request
log); the rest is validated and defaulted as Data Pump would. Nothing here touches state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .catalog import is_identifier
from .description import create_keys
from .errors import BadRequest
from .expressions import ExpressionError, Predicate, parse_expression
from .naming import DEFAULT_DIRECTORY, JOB_MODES, MAX_THREADS
from .settings import OPERATIONS
from .versions import TABLE_EXISTS_ACTIONS

__all__ = ["CreateRequest", "JOB_MODES", "request_object", "known_keys", "parse_create", "dropped_keys"]


_FILE_FORBIDDEN_RE = re.compile(r"['\";/\\\x00-\x1f\x7f]")
_URI_FORBIDDEN_RE = re.compile(r"['\";\\\s\x00-\x1f\x7f]")
_FILTER_ITEM_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9_$#]{0,127}\.)?[A-Za-z][A-Za-z0-9_$#]{0,127}$")
_EXPRESSION_PARAMS = {
    "name_expressions": "NAME_EXPR",
    "schema_expressions": "SCHEMA_EXPR",
    "tablespace_expressions": "TABLESPACE_EXPR",
}


@dataclass
class CreateRequest:
    """A create request as Data Pump receives it: defaults applied, names upper-cased."""

    operation: str
    job_mode: str
    directory: str
    credential: str | None
    file_name: str | None
    filter: list[str]
    name_p: list[Predicate]
    schema_p: list[Predicate]
    tablespace_p: list[Predicate]
    remaps: dict[str, str]
    threads: int
    keep_master: int
    # Data Pump's TABLE_EXISTS_ACTION; only a server that declares the key lets it through.
    table_exists_action: str = "SKIP"


def request_object(body: Any, endpoint: str) -> dict[str, Any]:
    """The body as a JSON object: export and import take an empty body as ``{}``, jobs/ needs one."""
    if body is None:
        if endpoint == "jobs":
            raise BadRequest("The request body is empty; a JSON object is required")
        return {}
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object")
    return body


def known_keys(payload: dict[str, Any], endpoint: str, settings: dict[str, Any]) -> tuple[str, ...]:
    """Keys this endpoint of this server uses for this payload; every other key is dropped silently."""
    known = create_keys(settings, endpoint) or ()
    if endpoint == "jobs":
        op = payload.get("operation")
        op = op.upper() if isinstance(op, str) else op
        if op == "EXPORT":
            # remap_schemas is documented as import-only.
            known = tuple(k for k in known if k != "remap_schemas")
        elif op == "IMPORT":
            # filter is documented on jobs/ as an export convenience carried over from 19.1.
            known = tuple(k for k in known if k != "filter")
    return known


def dropped_keys(payload: dict[str, Any], endpoint: str, settings: dict[str, Any]) -> list[str]:
    """Keys ORDS would silently ignore; computed even when the payload is invalid."""
    try:
        return parse_create(payload, endpoint, settings)[1]
    except BadRequest:
        known = known_keys(payload, endpoint, settings)
        return [k for k in payload if k not in known]


def _expressions(payload: dict[str, Any], key: str, dropped: list[str]) -> list[Predicate]:
    value = payload.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest(f'{key} must be an array of objects like {{"expression": "IN (\'A\')"}}')
    preds = []
    param = _EXPRESSION_PARAMS[key]
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("expression"), str):
            raise BadRequest(f"{key}[{i}] must be an object with a string 'expression'")
        dropped.extend(f"{key}[{i}].{k}" for k in item if k != "expression")
        try:
            preds.append(parse_expression(item["expression"]))
        except ExpressionError as exc:
            raise BadRequest(
                "ORA-39001: invalid argument value\n"
                f"ORA-39207: Value {item['expression']!r} for parameter {param} is invalid: {exc}"
            ) from exc
    return preds


def _file_name(file_name: Any, credential: str | None) -> str:
    if not isinstance(file_name, str) or not file_name:
        raise BadRequest("file_name must be a non-empty string")
    if len(file_name) > 4000:
        raise BadRequest("file_name is too long")
    if credential is not None:
        if not file_name.startswith("https://"):
            raise BadRequest("file_name must be an https:// Object Storage URI when credential_name is given")
        if _URI_FORBIDDEN_RE.search(file_name):
            raise BadRequest("file_name holds a character that is not allowed in an Object Storage URI")
        return file_name
    bad = _FILE_FORBIDDEN_RE.search(file_name)
    if bad:
        ch = bad.group()
        what = {
            "'": "a quote",
            '"': "a quote",
            ";": "';'",
            "/": "a path separator",
            "\\": "a path separator",
        }.get(ch, "a control character")
        raise BadRequest(f"file_name must be a plain file name in the directory; it holds {what}")
    if ".." in file_name:
        raise BadRequest("file_name must not contain '..'")
    return file_name


def _directory(payload: dict[str, Any], allowed_dirs: list[str] | None) -> str:
    directory = payload.get("datapump_dir")
    if directory is None:
        directory = DEFAULT_DIRECTORY
    if not is_identifier(directory):
        raise BadRequest(
            "ORA-39002: invalid operation\nORA-39070: Unable to open the log file.\n"
            f"ORA-39087: directory name {str(directory)[:130]!r} is invalid"
        )
    if allowed_dirs is not None and directory.upper() not in allowed_dirs:
        raise BadRequest(
            "ORA-39002: invalid operation\nORA-39070: Unable to open the log file.\n"
            f"ORA-39087: directory name {directory.upper()} is invalid"
        )
    return directory.upper()


def _filter(payload: dict[str, Any]) -> list[str]:
    filt = payload.get("filter")
    names: list[str] = []
    if filt is not None:
        if not isinstance(filt, str):
            raise BadRequest("filter must be a comma-separated string of names")
        for raw in filt.split(","):
            item = raw.strip()
            if not item:
                continue
            if not _FILTER_ITEM_RE.match(item):
                raise BadRequest(f"filter item {item[:130]!r} is not a valid name")
            names.append(item.upper())
        if not names:
            raise BadRequest("filter holds no names")
    return names


def _remaps(payload: dict[str, Any], dropped: list[str]) -> dict[str, str]:
    remaps: dict[str, str] = {}
    value = payload.get("remap_schemas")
    if value is not None:
        if not isinstance(value, list):
            raise BadRequest('remap_schemas must be an array of {"source", "target"} objects')
        for i, item in enumerate(value):
            if (
                not isinstance(item, dict)
                or not is_identifier(item.get("source"))
                or not is_identifier(item.get("target"))
            ):
                raise BadRequest(f"remap_schemas[{i}] needs 'source' and 'target' schema names")
            dropped.extend(f"remap_schemas[{i}].{k}" for k in item if k not in ("source", "target"))
            remaps[item["source"].upper()] = item["target"].upper()
    return remaps


def parse_create(
    payload: dict[str, Any], endpoint: str, settings: dict[str, Any]
) -> tuple[CreateRequest, list[str]]:
    """The request Data Pump receives, and the keys (and nested keys) ORDS dropped on the way."""
    known = known_keys(payload, endpoint, settings)
    dropped = [k for k in payload if k not in known]
    payload = {k: v for k, v in payload.items() if k in known}

    if endpoint == "jobs":
        op = payload.get("operation")
        if op is None:
            raise BadRequest("operation is required: EXPORT or IMPORT")
        if not isinstance(op, str) or op.upper() not in OPERATIONS:
            raise BadRequest(f"operation must be EXPORT or IMPORT, not {op!r}")
        operation = op.upper()
    else:
        operation = endpoint.upper()

    mode = payload.get("job_mode")
    if mode is None:
        job_mode = "SCHEMA"
    elif not isinstance(mode, str) or mode.upper() not in JOB_MODES:
        raise BadRequest(f"job_mode must be one of {', '.join(JOB_MODES)}, not {mode!r}")
    else:
        job_mode = mode.upper()

    directory = _directory(payload, settings["directories"])

    credential = payload.get("credential_name")
    if credential is not None and not is_identifier(credential):
        raise BadRequest("credential_name must be the name of a credential")
    credential = credential.upper() if credential is not None else None

    file_name = payload.get("file_name")
    if file_name is None:
        if operation == "IMPORT":
            raise BadRequest("file_name is required for an IMPORT job")
        if credential is not None:
            raise BadRequest("file_name (an Object Storage URI) is required when credential_name is given")
    else:
        file_name = _file_name(file_name, credential)

    names = _filter(payload)
    name_p = _expressions(payload, "name_expressions", dropped)
    schema_p = _expressions(payload, "schema_expressions", dropped)
    tablespace_p = _expressions(payload, "tablespace_expressions", dropped)
    remaps = _remaps(payload, dropped)

    threads = payload.get("threads")
    if threads is None:
        # Seed 001: "The full export will run in parallel by default".
        full_export = operation == "EXPORT" and job_mode == "FULL"
        threads = settings["full_default_threads"] if full_export else 1
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= MAX_THREADS:
        raise BadRequest(f"threads must be an integer from 1 to {MAX_THREADS}")

    keep = payload.get("keep_master")
    if keep is None:
        keep = 1  # also where keep_master is not documented: the control table is kept
    if isinstance(keep, bool):
        keep = int(keep)
    if not isinstance(keep, int) or keep not in (0, 1):
        raise BadRequest("keep_master must be 0 or 1")

    action = payload.get("table_exists_action", "SKIP")
    if not isinstance(action, str) or action.upper() not in TABLE_EXISTS_ACTIONS:
        raise BadRequest(
            "ORA-39001: invalid argument value\n"
            f"ORA-39053: parameter or attribute TABLE_EXISTS_ACTION must be one of {', '.join(TABLE_EXISTS_ACTIONS)}"
        )
    if operation == "EXPORT":
        action = "SKIP"  # an export reads tables; the key means nothing to it

    req = CreateRequest(
        operation=operation,
        job_mode=job_mode,
        directory=directory,
        credential=credential,
        file_name=file_name,
        filter=names,
        name_p=name_p,
        schema_p=schema_p,
        tablespace_p=tablespace_p,
        remaps=remaps,
        threads=threads,
        keep_master=keep,
        table_exists_action=action.upper(),
    )
    return req, dropped
