"""ORDS Data Pump request bodies: built from keyword arguments, validated before anything is sent.

Real ORDS silently drops keys it does not know and, on some versions, rendered ``file_name``
unescaped into a server-side script. So this module is strict: every key must be one ORDS
documents, every name must be an Oracle identifier, every expression must be one SQL condition
fragment, and every error names the field and the reason. ``build_payload`` and
``validate_payload`` are pure; ``validate_payload(build_payload(...))`` returns the same body.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_datapump.exceptions import DataPumpValidationError

__all__ = [
    "ENDPOINTS",
    "ENDPOINT_FIELDS",
    "EXPRESSION_KINDS",
    "FIELDS",
    "JOB_MODES",
    "OPERATIONS",
    "PAYLOAD_ARGUMENTS",
    "body_for_endpoint",
    "build_payload",
    "identifier",
    "in_list_expression",
    "is_server_key",
    "normalize_remaps",
    "parse_ords_version",
    "parse_raw_payload",
    "validate_endpoint",
    "validate_expression",
    "validate_file_name",
    "validate_payload",
]

OPERATIONS = ("EXPORT", "IMPORT")
JOB_MODES = ("FULL", "SCHEMA", "TABLE", "TABLESPACE")
EXPRESSION_KINDS = ("name_expressions", "schema_expressions", "tablespace_expressions")

# The union of fields the ORDS documentation lists for POST jobs/, export and import.
# Order is the order emitted, so bodies are stable and readable in the rendered-template view.
FIELDS = (
    "operation",
    "job_mode",
    "datapump_dir",
    "file_name",
    "credential_name",
    "filter",
    "name_expressions",
    "schema_expressions",
    "tablespace_expressions",
    "remap_schemas",
    "threads",
    "keep_master",
)
# The keyword arguments of build_payload, which the export and import operators take by the same
# names and template; tests/unit/test_payload_arguments.py holds their signatures to this list.
PAYLOAD_ARGUMENTS = (
    "job_mode",
    "schemas",
    "tables",
    "tablespaces",
    "name_expressions",
    "schema_expressions",
    "tablespace_expressions",
    "filter",
    "datapump_dir",
    "file_name",
    "credential_name",
    "threads",
    "keep_master",
    "payload",
    "remap_schemas",
)
# Options people expect from expdp/impdp that no documented ORDS release has. A server that
# describes itself may declare one (a later release may add table_exists_action): these are refused
# only when it does not, at execute time (hooks/ords/description.py), or by the table below.
_NOT_IN_ORDS = {
    "table_exists_action": "ORDS up to 26.3 has no table_exists_action; Data Pump's default (SKIP) applies on import",
    "remap_tablespaces": "ORDS up to 26.3 only supports remap_schemas",
    "remap_tables": "ORDS up to 26.3 only supports remap_schemas",
    "job_name": "ORDS names jobs itself (DATAPUMP_REST_EXPORT_<timestamp>)",
    "logfile": "ORDS chooses the log file name",
    "log_file": "ORDS chooses the log file name",
}
# Other tools' names for a key ORDS has under its own name: a mistake whatever the server, so
# refused at parse time.
_ALIASES = {
    "parallel": "the ORDS field is threads",
    "directory": "the ORDS field is datapump_dir",
    "dumpfile": "the ORDS field is file_name",
    "schemas": "use schema_expressions in a raw payload, or the operator's schemas= argument",
    "tables": "use name_expressions in a raw payload, or the operator's tables= argument",
}
# ORDS's request keys are snake_case (its Jackson mapping declares them so, and drops any other
# spelling): a key of this shape may be one a newer server declares, any other is a typo.
_SERVER_KEY = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*\Z")

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_$#]{0,127}\Z")
# A plain Data Pump file template: no path, no quotes, substitution variables like %U allowed.
_FILE_TEMPLATE = re.compile(r"[A-Za-z0-9_$#][A-Za-z0-9_$#.\-]*(?:%[A-Za-z][A-Za-z0-9_$#.\-]*)*\Z")
_SUBSTITUTION = re.compile(r"%(.)")
_ALLOWED_SUBSTITUTIONS = set("UuLlDdTtMmYyHh")
_EXPRESSION_START = re.compile(
    r"\s*(?:=|!=|<>|<=|>=|<|>|NOT\s+IN\b|IN\b|NOT\s+LIKE\b|LIKE\b|NOT\s+BETWEEN\b|BETWEEN\b|IS\b)", re.I
)
_MAX_EXPRESSION = 4000


def build_payload(
    operation: str,
    *,
    job_mode: str | None = None,
    schemas: Iterable[str] | str | None = None,
    tables: Iterable[str] | str | None = None,
    tablespaces: Iterable[str] | str | None = None,
    name_expressions: Iterable[Any] | str | None = None,
    schema_expressions: Iterable[Any] | str | None = None,
    tablespace_expressions: Iterable[Any] | str | None = None,
    filter: str | None = None,
    datapump_dir: str | None = None,
    file_name: str | None = None,
    credential_name: str | None = None,
    threads: int | None = None,
    keep_master: bool | int | None = None,
    remap_schemas: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
    payload: Mapping[str, Any] | str | None = None,
) -> dict[str, Any]:
    """Turn keyword arguments plus an optional raw payload (merged last) into a validated body."""
    op = _enum("operation", operation, OPERATIONS)
    body: dict[str, Any] = {"operation": op}
    if job_mode is not None:
        body["job_mode"] = job_mode
    elif tables:
        body["job_mode"] = "TABLE"
    elif tablespaces:
        body["job_mode"] = "TABLESPACE"
    elif schemas:
        body["job_mode"] = "SCHEMA"

    for kind, names, raw in (
        ("schema_expressions", ("schemas", schemas), schema_expressions),
        ("name_expressions", ("tables", tables), name_expressions),
        ("tablespace_expressions", ("tablespaces", tablespaces), tablespace_expressions),
    ):
        items = _expression_items(kind, raw)
        if names[1] is not None:
            items.insert(0, {"expression": in_list_expression(names[0], names[1])})
        if items:
            body[kind] = items

    for key, value in (
        ("filter", filter),
        ("datapump_dir", datapump_dir),
        ("file_name", file_name),
        ("credential_name", credential_name),
        ("threads", threads),
        ("keep_master", keep_master),
        ("remap_schemas", remap_schemas),
    ):
        if value is not None:
            body[key] = value

    if payload is not None:
        raw_payload = parse_raw_payload(payload)
        if "operation" in raw_payload and str(raw_payload["operation"]).strip().upper() != op:
            raise DataPumpValidationError(
                "payload.operation", f"is {_show(raw_payload['operation'])}, but this is an {op} task"
            )
        body.update(raw_payload)
    if body.get("job_mode") is None:
        body["job_mode"] = "SCHEMA"
    return validate_payload(body)


def parse_raw_payload(payload: Mapping[str, Any] | str) -> dict[str, Any]:
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError as err:
            raise DataPumpValidationError("payload", f"is not valid JSON ({err})") from None
    if not isinstance(payload, Mapping):
        raise DataPumpValidationError("payload", f"must be a JSON object, not {type(payload).__name__}")
    return dict(payload)


def validate_payload(body: Mapping[str, Any]) -> dict[str, Any]:
    """Check a complete body (with ``operation``) and return it normalized, in a stable key order.

    A key outside the provider's table (``FIELDS``) passes only when it is spelt as ORDS spells
    keys (snake_case) and is no other tool's name for an ORDS key: whether the server takes it is
    the server's to say, at execute time (``hooks/ords/description.py``), before the create."""
    unknown = [key for key in body if key not in FIELDS and not is_server_key(key)]
    if unknown:
        key = str(unknown[0])
        # The key is echoed into task logs: a control character in it would forge log lines.
        shown = key if key.isprintable() and len(key) <= 60 else _show(key)
        raise DataPumpValidationError(f"payload.{shown}", _unknown_key_reason(key))
    if "operation" not in body:
        raise DataPumpValidationError("operation", "is required (EXPORT or IMPORT)")
    op = _enum("operation", body["operation"], OPERATIONS)
    out: dict[str, Any] = {"operation": op}
    out["job_mode"] = _enum("job_mode", body.get("job_mode", "SCHEMA"), JOB_MODES)

    if body.get("datapump_dir") is not None:
        out["datapump_dir"] = identifier("datapump_dir", body["datapump_dir"])
    credential = body.get("credential_name")
    if credential is not None:
        out["credential_name"] = identifier("credential_name", credential)
    if body.get("file_name") is not None:
        out["file_name"] = validate_file_name(body["file_name"], with_credential=credential is not None)
    elif credential is not None:
        raise DataPumpValidationError(
            "file_name",
            "is required with credential_name: it must be the object-store URI of the dump file(s)",
        )
    elif op == "IMPORT":
        raise DataPumpValidationError("file_name", "is required for an import (or pass from_job=)")

    if body.get("filter") is not None:
        out["filter"] = _filter(body["filter"])
    for kind in EXPRESSION_KINDS:
        if body.get(kind) is not None:
            items = _expression_items(kind, body[kind])
            if items:
                out[kind] = items

    if body.get("remap_schemas") is not None:
        if op == "EXPORT":
            raise DataPumpValidationError(
                "remap_schemas", "only applies to an import; an export copies schemas as they are"
            )
        remaps = normalize_remaps(body["remap_schemas"])
        if remaps:
            out["remap_schemas"] = remaps
    if body.get("threads") is not None:
        out["threads"] = _threads(body["threads"])
    if body.get("keep_master") is not None:
        out["keep_master"] = _keep_master(body["keep_master"])
    ordered = {key: out[key] for key in FIELDS if key in out}
    # Keys for the server to judge, as given (it declares their type and values).
    ordered.update((key, value) for key, value in body.items() if key not in FIELDS and value is not None)
    return ordered


def is_server_key(key: Any) -> bool:
    """A key outside the provider's table that a server may declare: snake_case, and not another
    tool's name for a key ORDS has (``parallel`` is ``threads``)."""
    return isinstance(key, str) and len(key) <= 60 and bool(_SERVER_KEY.match(key)) and key not in _ALIASES


# --------------------------------------------------------------------------------------------
# Field rules
# --------------------------------------------------------------------------------------------


ENDPOINTS = ("jobs", "export", "import")

# The keys each create endpoint documents, over every ORDS version whose reference was read (19c
# dbrst to ORDS 26.3 orrst; shared/reference/ords-datapump-api.md §3.1, §4.1). ORDS drops any other
# key without a word, so a key outside its endpoint's list is refused before anything is sent:
# `filter` on import would import the whole dump, `remap_schemas` on export would do nothing.
ENDPOINT_FIELDS: dict[str, tuple[str, ...]] = {
    "jobs": (
        "operation",
        "job_mode",
        "datapump_dir",
        "file_name",
        "credential_name",
        "filter",
        "name_expressions",
        "schema_expressions",
        "tablespace_expressions",
        "remap_schemas",
        "threads",
    ),
    "export": (
        "job_mode",
        "datapump_dir",
        "file_name",
        "credential_name",
        "filter",
        "name_expressions",
        "schema_expressions",
        "tablespace_expressions",
        "threads",
        "keep_master",
    ),
    "import": (
        "job_mode",
        "datapump_dir",
        "file_name",
        "credential_name",
        "name_expressions",
        "schema_expressions",
        "tablespace_expressions",
        "remap_schemas",
        "threads",
        "keep_master",
    ),
}
# Keys that arrived in a later ORDS version than the endpoint itself: (endpoint, key) -> the first
# version whose reference documents it. With the connection's ords_version set, older servers are
# not sent keys they would drop. jobs/ has no page after 24.4.
_FIELD_SINCE: dict[tuple[str, str], str] = {
    ("jobs", "credential_name"): "21.3",
    ("export", "credential_name"): "21.3",
    ("import", "credential_name"): "21.3",
    ("export", "file_name"): "21.3",
    ("export", "keep_master"): "25.4",
    ("import", "keep_master"): "25.4",
}
_JOBS_ENDPOINT_UNTIL = "24.4"
_FIELD_HINTS = {
    ("import", "filter"): "an import has no filter; select with tables=, schemas= or name_expressions",
    ("export", "remap_schemas"): "remapping happens on import",
    ("jobs", "keep_master"): "keep_master is documented only on the export and import endpoints (ORDS 25.4+)",
}


def validate_endpoint(endpoint: Any, operation: str) -> str:
    """The create URL to POST to. ``None`` is the operation's own endpoint (``export`` or ``import``),
    documented in every ORDS version; ``jobs`` (documented up to ORDS 24.4) takes either operation."""
    if endpoint is None:
        return str(operation).strip().lower()
    if endpoint not in ENDPOINTS:
        raise DataPumpValidationError("endpoint", f"must be export, import or jobs, not {_show(endpoint)}")
    if endpoint != "jobs" and str(operation).strip().lower() != endpoint:
        raise DataPumpValidationError("endpoint", f"{endpoint} cannot run an {operation} payload")
    return endpoint


def parse_ords_version(value: Any) -> tuple[int, int] | None:
    """``"24.4"`` or ``"24.4.1.r1234"`` → (24, 4); None or "" → None (unknown: every version's keys)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    match = re.match(r"\s*(\d{1,2})\.(\d{1,2})", str(value))
    if not match:
        raise DataPumpValidationError("ords_version", f"{_show(value)} is not an ORDS version such as 24.4")
    return int(match.group(1)), int(match.group(2))


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def body_for_endpoint(
    body: Mapping[str, Any], endpoint: Any, ords_version: Any = None
) -> tuple[str, dict[str, Any]]:
    """(endpoint, the body it receives) for a validated body; refuses any key the endpoint (or the
    connection's ORDS version) does not document, naming the key and the endpoint."""
    operation = body["operation"]
    chosen = validate_endpoint(endpoint, operation)
    version = parse_ords_version(ords_version)
    if chosen == "jobs" and version is not None and version > _version(_JOBS_ENDPOINT_UNTIL):
        raise DataPumpValidationError(
            "endpoint",
            f"jobs/ is not documented for ORDS {version[0]}.{version[1]} (last seen in {_JOBS_ENDPOINT_UNTIL}); "
            "leave endpoint unset to use the export and import endpoints",
        )
    allowed = ENDPOINT_FIELDS[chosen]
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "operation" and chosen != "jobs":
            continue
        if key not in FIELDS:
            raise DataPumpValidationError(key, _undescribed_key_reason(key, chosen))
        if key not in allowed:
            hint = _FIELD_HINTS.get((chosen, key), "")
            raise DataPumpValidationError(
                key,
                f"is not a field of the ORDS {chosen} endpoint, which would drop it silently"
                + (f"; {hint}" if hint else ""),
            )
        since = _FIELD_SINCE.get((chosen, key))
        if since and version is not None and version < _version(since):
            raise DataPumpValidationError(
                key,
                f"is documented on the ORDS {chosen} endpoint only from {since}; the connection says ORDS "
                f"{version[0]}.{version[1]}, which would drop it silently",
            )
        out[key] = value
    return chosen, out


def identifier(field: str, value: Any) -> str:
    """An unquoted Oracle identifier, upper-cased as Oracle stores it."""
    if not isinstance(value, str):
        raise DataPumpValidationError(field, f"must be a string, not {type(value).__name__}")
    text = value.strip()
    if not _IDENTIFIER.match(text):
        raise DataPumpValidationError(
            field,
            f"{_show(value)} is not an Oracle identifier (a letter, then up to 127 letters, digits, _ $ #)",
        )
    return text.upper()


def in_list_expression(field: str, names: Iterable[str] | str) -> str:
    """``IN ('A','B')`` from plain names: the quoting is ours, so names cannot break out of it."""
    if isinstance(names, str):
        names = [names]
    try:
        listed = list(names)
    except TypeError:
        raise DataPumpValidationError(field, "must be a list of names") from None
    if not listed:
        raise DataPumpValidationError(field, "is empty; leave it unset to select nothing by name")
    cleaned = list(dict.fromkeys(identifier(f"{field}[{i}]", name) for i, name in enumerate(listed)))
    return "IN (" + ",".join(f"'{name}'" for name in cleaned) + ")"


def validate_expression(field: str, text: Any) -> str:
    """One SQL condition fragment, such as ``IN ('SCOTT')`` or ``LIKE 'EMP%'``; never a statement."""
    if not isinstance(text, str):
        raise DataPumpValidationError(field, f"must be a string, not {type(text).__name__}")
    expr = text.strip()
    if not expr:
        raise DataPumpValidationError(field, "is empty")
    if len(expr) > _MAX_EXPRESSION:
        raise DataPumpValidationError(field, f"is longer than {_MAX_EXPRESSION} characters")
    if any(ord(ch) < 32 and ch != "\t" or ord(ch) == 127 for ch in expr):
        raise DataPumpValidationError(field, "contains a control character (newline, NUL, ...)")
    if ";" in expr:
        raise DataPumpValidationError(
            field, "contains ';': an expression is one condition, never a statement"
        )
    outside = _outside_quotes(field, expr)
    if "--" in outside or "/*" in outside or "*/" in outside:
        raise DataPumpValidationError(field, "contains an SQL comment marker (-- or /* */)")
    if '"' in outside and outside.count('"') % 2:
        raise DataPumpValidationError(field, "has an unbalanced double quote")
    depth = 0
    for ch in outside:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            break
    if depth != 0:
        raise DataPumpValidationError(field, "has unbalanced parentheses")
    if not _EXPRESSION_START.match(expr):
        raise DataPumpValidationError(
            field,
            f"{_show(expr)} must start with a comparison (=, !=, <>, IN, NOT IN, LIKE, NOT LIKE, BETWEEN, IS)",
        )
    return expr


def _outside_quotes(field: str, expr: str) -> str:
    """The expression with single-quoted literals removed ('' is an escaped quote inside one)."""
    out: list[str] = []
    i, n = 0, len(expr)
    while i < n:
        ch = expr[i]
        if ch == "'":
            i += 1
            while True:
                if i >= n:
                    raise DataPumpValidationError(field, "has an unbalanced single quote")
                if expr[i] == "'":
                    if i + 1 < n and expr[i + 1] == "'":
                        i += 2
                        continue
                    break
                i += 1
            out.append("''")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _expression_items(kind: str, raw: Any) -> list[dict[str, str]]:
    if raw is None:
        return []
    if isinstance(raw, (str, Mapping)):
        raw = [raw]
    if not isinstance(raw, (list, tuple)):
        raise DataPumpValidationError(kind, "must be a list of expressions")
    items = []
    for i, item in enumerate(raw):
        field = f"{kind}[{i}]"
        if isinstance(item, Mapping):
            extra = set(item) - {"expression"}
            if extra:
                raise DataPumpValidationError(
                    field, f"has unknown key(s) {_show(sorted(map(str, extra)))}; only 'expression' exists"
                )
            item = item.get("expression")
            field += ".expression"
        items.append({"expression": validate_expression(field, item)})
    return items


def validate_file_name(value: Any, *, with_credential: bool) -> str:
    if not isinstance(value, str):
        raise DataPumpValidationError("file_name", f"must be a string, not {type(value).__name__}")
    text = value.strip()
    if with_credential:
        return _object_store_uri(text)
    if "://" in text:
        raise DataPumpValidationError(
            "file_name",
            "is an object-store URI; set credential_name to the DBMS_CLOUD credential that can write it",
        )
    if len(text) > 255 or not _FILE_TEMPLATE.match(text) or ".." in text:
        raise DataPumpValidationError(
            "file_name",
            f"{_show(value)} is not a plain Data Pump file template: use letters, digits, _ $ # . - and "
            "substitution variables such as %U; no paths, quotes, spaces or ';'",
        )
    for sub in _SUBSTITUTION.findall(text):
        if sub not in _ALLOWED_SUBSTITUTIONS:
            raise DataPumpValidationError(
                "file_name", f"uses %{sub}, which is not a Data Pump substitution variable"
            )
    return text


def _object_store_uri(text: str) -> str:
    # Unicode counts too: NEL (U+0085) and the other C1 controls, line and paragraph separators and
    # invisible format characters are whitespace or worse to a URI parser (found by the fuzzer).
    bad = next(
        (
            ch
            for ch in text
            if ord(ch) < 33
            or ch in "'\";\\<>`"
            or ch.isspace()
            or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Zs")
        ),
        None,
    )
    if bad is not None:
        raise DataPumpValidationError(
            "file_name", f"contains {bad!r}, which has no place in an object-store URI"
        )
    try:
        parts = urlsplit(text)
    except ValueError as err:  # e.g. an unclosed IPv6 bracket
        raise DataPumpValidationError("file_name", f"is not a valid URI ({err})") from None
    if parts.scheme != "https" or not parts.netloc or not parts.path.strip("/"):
        raise DataPumpValidationError(
            "file_name",
            "must be an https:// object-store URI (bucket and object) when credential_name is set",
        )
    if parts.username or parts.password:
        raise DataPumpValidationError(
            "file_name", "must not carry credentials in the URI; credential_name holds them"
        )
    return text


def _filter(value: Any) -> str:
    if not isinstance(value, str):
        raise DataPumpValidationError("filter", f"must be a string, not {type(value).__name__}")
    names = [part.strip() for part in value.split(",")]
    return ",".join(identifier(f"filter[{i}]", name) for i, name in enumerate(names))


def normalize_remaps(value: Any) -> list[dict[str, str]]:
    """``{"SRC": "DST"}`` or ORDS's ``[{"source": ..., "target": ...}]`` → the ORDS list form."""
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, (list, tuple)):
        pairs = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping) or set(item) != {"source", "target"}:
                raise DataPumpValidationError(f"remap_schemas[{i}]", 'must be {"source": ..., "target": ...}')
            pairs.append((item["source"], item["target"]))
    else:
        raise DataPumpValidationError(
            "remap_schemas", 'must be a dict {"SRC": "DST"} or a list of {source, target}'
        )
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, (source, target) in enumerate(pairs):
        src = identifier(f"remap_schemas[{i}].source", source)
        dst = identifier(f"remap_schemas[{i}].target", target)
        if src in seen:
            raise DataPumpValidationError(f"remap_schemas[{i}].source", f"{src} is remapped twice")
        seen.add(src)
        out.append({"source": src, "target": dst})
    return out


def _threads(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        # A rendered template gives text. Only ASCII digits, and few of them: str.isdigit() also
        # says yes to "²", which int() refuses, and int() refuses more than 4300 digits.
        text = value.strip() if isinstance(value, str) else ""
        if text.isascii() and text.isdigit() and len(text) <= 9:
            value = int(text)
        else:
            raise DataPumpValidationError("threads", f"must be a whole number, not {_show(value)}")
    if not 1 <= value <= 99:
        # %U expands to 01..99, so more workers than that cannot each get a dump file.
        raise DataPumpValidationError("threads", f"must be between 1 and 99, not {value}")
    return value


def _keep_master(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if value in (0, 1):
        return int(value)
    raise DataPumpValidationError("keep_master", f"must be true/false or 0/1, not {_show(value)}")


def _enum(field: str, value: Any, allowed: Sequence[str]) -> str:
    text = value.strip().upper() if isinstance(value, str) else value
    if text not in allowed:
        raise DataPumpValidationError(field, f"{_show(value)} is not one of {', '.join(allowed)}")
    return text


def _undescribed_key_reason(key: str, endpoint: str) -> str:
    note = _NOT_IN_ORDS.get(key)
    close = difflib.get_close_matches(key, ENDPOINT_FIELDS[endpoint], n=1, cutoff=0.7)
    return (
        f"is not a field of the ORDS {endpoint} endpoint in any release the provider's table knows (19c to "
        "26.3), and the server did not declare it in a description of its own; ORDS would silently drop it"
        + (f" ({note})" if note else "")
        + (f"; did you mean {close[0]!r}?" if close and not note else "")
    )


def _unknown_key_reason(key: str) -> str:
    lowered = key.lower()
    if lowered in _ALIASES:
        return f"is not an ORDS Data Pump field ({_ALIASES[lowered]}); ORDS would silently drop it"
    if lowered in _NOT_IN_ORDS:
        return (
            f"is not an ORDS Data Pump field ({_NOT_IN_ORDS[lowered]}); ORDS spells its keys in snake_case "
            f"({lowered!r}) and would silently drop this one"
        )
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
    close = difflib.get_close_matches(snake, FIELDS, n=1, cutoff=0.7)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"is not an ORDS Data Pump field, and ORDS would silently drop it{hint}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
