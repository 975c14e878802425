"""All state and semantics of the emulator, independent of HTTP (moto-style).

The HTTP layer passes in already-parsed values (the authenticated principal, the JSON
body as a dict, the link prefix derived from the request) and renders what comes back.
Job progress is computed lazily from timestamps and an injectable clock: a job created
at ``t`` with duration ``d`` is EXECUTING until ``t + d``; the first call that looks at
the state afterwards finalises it (writes dumps, applies an import to the catalog,
writes the final log). No background threads.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import itertools
import json
import math
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from urllib.parse import quote
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog, CatalogError, Table, is_identifier
from .dumpfiles import (
    DumpFormatError,
    dp_elapsed,
    dp_timestamp,
    format_size,
    natural_dump_size,
    read_dump_header,
    table_line,
    write_dump,
)
from .errors import EmulatorError
from .expressions import ExpressionError, Predicate, match_all, parse_expression

__all__ = [
    "EmulatorState",
    "Principal",
    "DEFAULT_USERS",
    "DEFAULT_CLIENTS",
    "DEFAULT_SETTINGS",
    "OUTCOMES",
    "ORDS_VERSIONS",
    "DEFAULT_ORDS_VERSION",
    "endpoint_keys",
]

OPERATIONS = ("EXPORT", "IMPORT")
JOB_MODES = ("FULL", "SCHEMA", "TABLE", "TABLESPACE")
OUTCOMES = ("success", "errors", "fatal", "crash", "stopped")
MAX_THREADS = 99  # %U yields two digits
DEFAULT_DIRECTORY = "DATA_PUMP_DIR"
OBJECT_STORE_DIR = "_object_store"

DEFAULT_USERS: dict[str, str] = {"dbapi_user": "DbApiUserPassword1"}
DEFAULT_CLIENTS: dict[str, dict[str, str]] = {
    "dbapi_client": {"secret": "DbApiClientSecret1", "alias": "dbapi_user"},
}

# The ORDS releases whose Data Pump reference the emulator models (see the README's table).
ORDS_VERSIONS = ("21.2", "24.4", "25.4", "26.3")
DEFAULT_ORDS_VERSION = "26.3"
LIST_SUPPORT = ("honoured", "ignored")
Q_SUPPORT = ("honoured", "ignored", "rejected")

_JOBS_21 = ("operation", "job_mode", "datapump_dir", "file_name", "filter", "name_expressions",
            "schema_expressions", "tablespace_expressions", "remap_schemas", "threads")
_EXPORT_21 = ("job_mode", "datapump_dir", "filter", "name_expressions", "schema_expressions",
              "tablespace_expressions", "threads")
_IMPORT_21 = ("job_mode", "datapump_dir", "file_name", "name_expressions", "schema_expressions",
              "tablespace_expressions", "remap_schemas", "threads")
# Request keys each create endpoint documents, per modelled version (None: no such endpoint).
# 21.2: DB 19c/21c dbrst and ORDS 21.2 orrst; 24.4: ORDS 21.3-24.4 (credential_name everywhere,
# file_name on export); 25.4/26.3: no jobs/ page, keep_master on export and import.
_ENDPOINT_KEYS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "21.2": {"jobs": _JOBS_21, "export": _EXPORT_21, "import": _IMPORT_21},
    "24.4": {
        "jobs": (*_JOBS_21, "credential_name"),
        "export": (*_EXPORT_21, "file_name", "credential_name"),
        "import": (*_IMPORT_21, "credential_name"),
    },
}
_ENDPOINT_KEYS["25.4"] = _ENDPOINT_KEYS["26.3"] = {
    "jobs": None,
    "export": (*_ENDPOINT_KEYS["24.4"]["export"], "keep_master"),  # type: ignore[misc]
    "import": (*_ENDPOINT_KEYS["24.4"]["import"], "keep_master"),  # type: ignore[misc]
}


def endpoint_keys(version: str, endpoint: str) -> tuple[str, ...] | None:
    """The request keys ``endpoint`` (jobs, export, import) documents in ``version``; None if it has no POST."""
    return _ENDPOINT_KEYS[version][endpoint]


DEFAULT_SETTINGS: dict[str, Any] = {
    "ords_version": DEFAULT_ORDS_VERSION,
    "name_clash_status": 400,
    "can_create_users": True,
    "full_default_threads": 4,
    "q_support": "honoured",
    "offset_support": "honoured",
    "list_max_limit": 10000,
    "strict_accept": True,
    "duration": 1.0,
    "outcome": "success",
    "error_count": 1,
    "ora_codes": None,
    "dump_size": 0,
    "token_ttl": 3600.0,
    "range_support": False,
    "link_origin": None,
    "directories": None,
}
JOB_SCENARIO_KEYS = ("duration", "outcome", "error_count", "ora_codes", "dump_size")
INSTANCE_ONLY_KEYS = (
    "token_ttl", "range_support", "link_origin", "directories", "ords_version", "name_clash_status",
    "can_create_users", "full_default_threads", "q_support", "offset_support", "list_max_limit", "strict_accept",
)

_ORA_TEXT = {
    "ORA-39083": "Object type TABLE:{obj} failed to create with error:",
    "ORA-31684": "Object type TABLE:{obj} already exists",
    "ORA-39151": "Table {obj} exists. All dependent metadata and data will be skipped due to table_exists_action of skip",
    "ORA-39082": "Object type VIEW:{obj} created with compilation warnings",
    "ORA-01917": "user or role {obj} does not exist",
    "ORA-39002": "invalid operation",
    "ORA-39070": "Unable to open the log file.",
    "ORA-39126": "Worker unexpected fatal error in KUPW$WORKER.MAIN [TABLE_DATA:{obj}]",
    "ORA-31626": "job does not exist",
    "ORA-01555": "snapshot too old: rollback segment number  with name \"\" too small",
    "ORA-01652": "unable to extend temp segment by 128 in tablespace TEMP",
}
_DEFAULT_ERROR_CODES = ("ORA-39083",)
_DEFAULT_FATAL_CODES = ("ORA-39126", "ORA-39002")
_ORA_CODE_RE = re.compile(r"^ORA-\d{5}$")
_FILE_FORBIDDEN_RE = re.compile(r"['\";/\\\x00-\x1f\x7f]")
_URI_FORBIDDEN_RE = re.compile(r"['\";\\\s\x00-\x1f\x7f]")
_FILTER_ITEM_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9_$#]{0,127}\.)?[A-Za-z][A-Za-z0-9_$#]{0,127}$")
_MODE_PREFIX = {"FULL": "DATABASE_EXPORT", "SCHEMA": "SCHEMA_EXPORT", "TABLE": "TABLE_EXPORT", "TABLESPACE": "TABLE_EXPORT"}
_NUMERIC_FIELDS = ("degree", "attached_sessions", "datapump_sessions")
_Q_OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$like", "$in")
_LIST_FIELDS = (
    "owner_name",
    "job_name",
    "operation",
    "job_mode",
    "state",
    "degree",
    "attached_sessions",
    "datapump_sessions",
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``user`` is the database user (upper case) owning new jobs."""

    scheme: str  # "basic" | "bearer"
    user: str
    alias: str
    client_id: str | None = None


@dataclass
class _JobFile:
    name: str
    path: str
    role: str  # log | dump | export_log


@dataclass
class _Job:
    owner: str
    name: str
    operation: str
    job_mode: str
    threads: int
    keep_master: int
    directory: str
    created: float
    end: float
    outcome: str
    error_count: int
    ora_codes: list[str] | None
    dump_size: int
    log: _JobFile
    dump_names: list[str] = field(default_factory=list)
    dump_paths: list[str] = field(default_factory=list)
    object_store: bool = False
    export_log: _JobFile | None = None
    schemas: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    dump_prefix: str = "SCHEMA_EXPORT"
    dump_has_users: bool = False
    can_create_users: bool = True
    remaps: dict[str, str] = field(default_factory=dict)
    natural_errors: list[str] = field(default_factory=list)
    source_job: str | None = None
    finalized: bool = False
    final_outcome: str | None = None
    error_lines: list[str] = field(default_factory=list)
    produced: list[_JobFile] = field(default_factory=list)
    vanished: bool = False
    foreign: dict[str, Any] | None = None


@dataclass
class _Fault:
    id: int
    kind: str
    status: int | None
    retry_after: float | None
    times: int | None
    until: float | None
    method: str | None
    path: re.Pattern[str] | None
    after_bytes: int
    seconds: float
    created: float
    hits: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "retry_after": self.retry_after,
            "times": self.times,
            "seconds": self.seconds if self.kind in ("delay", "late") else (None if self.until is None else self.until - self.created),
            "method": self.method,
            "path": self.path.pattern if self.path is not None else None,
            "after_bytes": self.after_bytes if self.kind == "drop" else None,
            "hits": self.hits,
        }


def url_segment(value: str) -> str:
    """Percent-encode one path segment of a rendered URL ('#' as %23, '/' as %2F; '$' stays)."""
    return quote(value, safe="$")


def _bad(message: str) -> EmulatorError:
    return EmulatorError(400, message)


def _now_float(clock: Callable[[], Any]) -> float:
    value = clock()
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    return float(value)


def _local(ts: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ts)


# Data Pump's substitution variables: %U and %L number the files of a set; %D, %M, %Y, %T
# (YYYYMMDD) and %H are the date and hour when the file is created. A template such as
# "nightly_%T_%U.dmp" must never leave a literal '%' in a file name.
_SUBSTITUTION_RE = re.compile(r"%([UuLlDdMmYyTtHh])")
_SUBSTITUTION_DIGITS = {"U": r"\d{2,3}", "L": r"\d{2,10}", "D": r"\d{2}", "M": r"\d{2}", "Y": r"\d{4}", "T": r"\d{8}", "H": r"\d{2}"}
_SUBSTITUTION_DATES = {"D": "%d", "M": "%m", "Y": "%Y", "T": "%Y%m%d", "H": "%H"}


def _pattern_regex(file_name: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in _SUBSTITUTION_RE.finditer(file_name):
        out += [re.escape(file_name[pos : m.start()]), _SUBSTITUTION_DIGITS[m.group(1).upper()]]
        pos = m.end()
    out.append(re.escape(file_name[pos:]))
    return re.compile("".join(out))


def _has_substitution(file_name: str) -> bool:
    """Whether the template names a numbered set of files (%U or %L)."""
    return re.search(r"%[UuLl]", file_name) is not None


def _expand(template: str, index: int, when: _dt.datetime | None = None) -> str:
    moment = when or _dt.datetime.now()

    def one(m: re.Match[str]) -> str:
        var = m.group(1).upper()
        return f"{index:02d}" if var in "UL" else moment.strftime(_SUBSTITUTION_DATES[var])

    return _SUBSTITUTION_RE.sub(one, template)


# Settings that take one of a few words.
_ENUM_SETTINGS: dict[str, tuple[str, ...]] = {
    "ords_version": ORDS_VERSIONS,
    "q_support": Q_SUPPORT,
    "offset_support": LIST_SUPPORT,
}


def _validate_settings(values: dict[str, Any], *, allowed: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in allowed:
            raise _bad(f"unknown scenario setting {key!r}; allowed: {', '.join(allowed)}")
        if key == "duration":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or math.isinf(value) or math.isnan(value):
                raise _bad("duration must be a non-negative number of seconds")
            out[key] = float(value)
        elif key == "outcome":
            if value not in OUTCOMES:
                raise _bad(f"outcome must be one of {', '.join(OUTCOMES)}")
            out[key] = value
        elif key == "error_count":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise _bad("error_count must be a positive integer")
            out[key] = value
        elif key == "ora_codes":
            if value is None:
                out[key] = None
                continue
            if not isinstance(value, list) or not value:
                raise _bad("ora_codes must be a non-empty list such as [\"ORA-39083\"]")
            codes = []
            for code in value:
                if isinstance(code, int) and not isinstance(code, bool):
                    code = f"ORA-{code:05d}"
                if not isinstance(code, str) or not _ORA_CODE_RE.match(code):
                    raise _bad(f"invalid ORA code {code!r}; expected ORA-nnnnn")
                codes.append(code)
            out[key] = codes
        elif key == "dump_size":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise _bad("dump_size must be a non-negative integer (bytes)")
            out[key] = value
        elif key == "token_ttl":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or math.isinf(value) or math.isnan(value):
                raise _bad("token_ttl must be a non-negative number of seconds")
            out[key] = float(value)
        elif key in ("range_support", "can_create_users", "strict_accept"):
            if not isinstance(value, bool):
                raise _bad(f"{key} must be true or false")
            out[key] = value
        elif key in _ENUM_SETTINGS:
            if value not in _ENUM_SETTINGS[key]:
                raise _bad(f"{key} must be one of {', '.join(_ENUM_SETTINGS[key])}")
            out[key] = value
        elif key == "name_clash_status":
            if value not in (400, 500) or isinstance(value, bool):
                raise _bad("name_clash_status must be 400 or 500")
            out[key] = value
        elif key in ("full_default_threads", "list_max_limit"):
            top = MAX_THREADS if key == "full_default_threads" else 10**6
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
                raise _bad(f"{key} must be an integer from 1 to {top}")
            out[key] = value
        elif key == "link_origin":
            if value is not None and (
                not isinstance(value, str) or not re.match(r"^https?://[^/\s?#]+$", value)
            ):
                raise _bad("link_origin must be null or an origin such as http://host:port (no path)")
            out[key] = value
        elif key == "directories":
            if value is not None and (not isinstance(value, list) or not all(is_identifier(v) for v in value)):
                raise _bad("directories must be null (any) or a list of directory names")
            out[key] = None if value is None else [v.upper() for v in value]
        elif key == "operation":
            if value is not None and (not isinstance(value, str) or value.upper() not in OPERATIONS):
                raise _bad("operation must be EXPORT, IMPORT or null")
            out[key] = None if value is None else value.upper()
    return out


class EmulatorState:
    """Catalog, jobs, files, users, tokens, scenarios, faults and the request log."""

    def __init__(
        self,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        catalog: Catalog | dict[str, Any] | str | os.PathLike[str] | None = None,
        clock: Callable[[], Any] = time.time,
        users: dict[str, str] | None = None,
        clients: dict[str, dict[str, str]] | None = None,
        request_log_size: int = 10000,
        **settings: Any,
    ):
        self._lock = threading.RLock()
        self.clock = clock
        unknown = set(settings) - set(DEFAULT_SETTINGS)
        if unknown:
            raise TypeError(f"unknown emulator settings: {', '.join(sorted(unknown))}")
        self._initial_settings = dict(DEFAULT_SETTINGS)
        self._initial_settings.update(_validate_settings(settings, allowed=tuple(DEFAULT_SETTINGS)))
        self.settings = dict(self._initial_settings)
        self._initial_catalog = self._coerce_catalog(catalog)
        self.catalog = self._initial_catalog.copy()
        if data_dir is None:
            self.data_dir = tempfile.mkdtemp(prefix="datapump-emulator-")
            self._owns_data_dir = True
        else:
            self.data_dir = os.path.abspath(os.fspath(data_dir))
            os.makedirs(self.data_dir, exist_ok=True)
            self._owns_data_dir = False
        self.users = {k.lower(): v for k, v in (users if users is not None else DEFAULT_USERS).items()}
        self.clients = {
            k: {"secret": v["secret"], "alias": v["alias"].lower()}
            for k, v in (clients if clients is not None else DEFAULT_CLIENTS).items()
        }
        self._queue: list[dict[str, Any]] = []
        self._jobs: dict[tuple[str, str], _Job] = {}
        # Control tables whose row left DBA_DATAPUMP_JOBS (keep_master 0, dropped): their names are free again.
        self._dropped_jobs: list[_Job] = []
        # Added to the clock: tests step past a second instead of sleeping (time only moves forward).
        self._clock_offset = 0.0
        self._created_files: set[str] = set()
        self._object_store: dict[str, str] = {}
        self._tokens: dict[str, tuple[str, str, float]] = {}
        self._faults: list[_Fault] = []
        self._fault_ids = itertools.count(1)
        self._requests: deque[dict[str, Any]] = deque(maxlen=request_log_size)
        # A request is logged when its response ends, which a client may see before the server
        # gets there. Numbering requests as they begin lets clear_requests() forget a request that
        # began before it but ends after it, and lets wait_idle() wait for those still in flight.
        self._request_seq = 0
        self._cleared_through = 0
        self._in_flight: set[int] = set()
        self._idle = threading.Condition(self._lock)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _coerce_catalog(catalog: Any) -> Catalog:
        try:
            if catalog is None:
                return Catalog.default()
            if isinstance(catalog, Catalog):
                return catalog.copy()
            if isinstance(catalog, dict):
                return Catalog.from_data(catalog)
            return Catalog.from_file(catalog)
        except CatalogError as exc:
            raise _bad(f"invalid catalog: {exc}") from exc

    def now(self) -> float:
        return _now_float(self.clock) + self._clock_offset

    def advance_clock(self, seconds: float) -> float:
        """Move the emulator's time forward by ``seconds`` (never back); returns the new time."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < 10**9:
            raise _bad("seconds must be a non-negative number")
        with self._lock:
            self._clock_offset += float(seconds)
            return self.now()

    @property
    def aliases(self) -> set[str]:
        return set(self.users) | {c["alias"] for c in self.clients.values()}

    def close(self) -> None:
        """Remove the data directory if the emulator created it."""
        if self._owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # ------------------------------------------------------------------ auth

    def authenticate_basic(self, alias: str, user: str, password: str) -> Principal:
        with self._lock:
            expected = self.users.get(user.lower())
            if expected is None or not secrets.compare_digest(expected.encode(), password.encode()):
                raise EmulatorError(401, "The request could not be authorized: invalid user name or password")
            if user.lower() != alias.lower():
                raise EmulatorError(401, f"User {user.upper()} is not authorized for schema alias {alias}")
            return Principal("basic", user.upper(), alias.lower())

    def authenticate_bearer(self, alias: str, token: str) -> Principal:
        with self._lock:
            now = self.now()
            entry = self._tokens.get(token)
            if entry is None:
                raise EmulatorError(401, "The bearer token is not valid")
            client_id, token_alias, expires = entry
            if now >= expires:
                self._tokens.pop(token, None)
                raise EmulatorError(401, "The bearer token has expired")
            if token_alias != alias.lower():
                raise EmulatorError(401, f"The bearer token is not valid for schema alias {alias}")
            # A client acts as the schema it was registered in.
            return Principal("bearer", token_alias.upper(), token_alias, client_id)

    def issue_token(self, alias: str, client_id: str, secret: str, grant_type: str | None) -> dict[str, Any]:
        with self._lock:
            client = self.clients.get(client_id)
            if client is None or not secrets.compare_digest(client["secret"].encode(), secret.encode()):
                raise EmulatorError(401, "Client authentication failed", extra={"error": "invalid_client"})
            if client["alias"] != alias.lower():
                raise EmulatorError(401, f"Client is not registered in schema alias {alias}", extra={"error": "invalid_client"})
            if grant_type is None:
                raise EmulatorError(400, "grant_type is required", extra={"error": "invalid_request"})
            if grant_type != "client_credentials":
                raise EmulatorError(400, f"unsupported grant_type {grant_type!r}", extra={"error": "unsupported_grant_type"})
            now = self.now()
            self._tokens = {t: e for t, e in self._tokens.items() if e[2] > now}
            ttl = float(self.settings["token_ttl"])
            token = secrets.token_urlsafe(24)
            self._tokens[token] = (client_id, client["alias"], now + ttl)
            return {"access_token": token, "token_type": "bearer", "expires_in": int(ttl)}

    # ------------------------------------------------------------------ lifecycle

    def _advance(self) -> float:
        now = self.now()
        for job in list(self._jobs.values()):
            if job.foreign is None and not job.finalized and now >= job.end:
                self._finalize(job)
        return now

    def _is_running(self, job: _Job, now: float) -> bool:
        return job.foreign is None and not job.finalized and now < job.end

    # ------------------------------------------------------------------ payload

    def _parse_expressions(self, payload: dict[str, Any], key: str, dropped: list[str]) -> list[Predicate]:
        value = payload.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise _bad(f"{key} must be an array of objects like {{\"expression\": \"IN ('A')\"}}")
        preds = []
        param = {"name_expressions": "NAME_EXPR", "schema_expressions": "SCHEMA_EXPR", "tablespace_expressions": "TABLESPACE_EXPR"}[key]
        for i, item in enumerate(value):
            if not isinstance(item, dict) or not isinstance(item.get("expression"), str):
                raise _bad(f"{key}[{i}] must be an object with a string 'expression'")
            dropped.extend(f"{key}[{i}].{k}" for k in item if k != "expression")
            try:
                preds.append(parse_expression(item["expression"]))
            except ExpressionError as exc:
                raise _bad(
                    "ORA-39001: invalid argument value\n"
                    f"ORA-39207: Value {item['expression']!r} for parameter {param} is invalid: {exc}"
                ) from exc
        return preds

    def _check_file_name(self, file_name: Any, credential: str | None) -> str:
        if not isinstance(file_name, str) or not file_name:
            raise _bad("file_name must be a non-empty string")
        if len(file_name) > 4000:
            raise _bad("file_name is too long")
        if credential is not None:
            if not file_name.startswith("https://"):
                raise _bad("file_name must be an https:// Object Storage URI when credential_name is given")
            if _URI_FORBIDDEN_RE.search(file_name):
                raise _bad("file_name holds a character that is not allowed in an Object Storage URI")
            return file_name
        bad = _FILE_FORBIDDEN_RE.search(file_name)
        if bad:
            ch = bad.group()
            what = {"'": "a quote", '"': "a quote", ";": "';'", "/": "a path separator", "\\": "a path separator"}.get(
                ch, "a control character"
            )
            raise _bad(f"file_name must be a plain file name in the directory; it holds {what}")
        if ".." in file_name:
            raise _bad("file_name must not contain '..'")
        return file_name

    def check_endpoint(self, endpoint: str) -> None:
        """405 for a create endpoint the modelled ORDS version does not have (jobs/ on 25.x+)."""
        if endpoint_keys(self.settings["ords_version"], endpoint) is None:
            raise EmulatorError(
                405,
                f"The POST method is not allowed on this resource (ORDS {self.settings['ords_version']})",
                headers={"Allow": "GET"},
            )

    def _known_keys(self, payload: dict[str, Any], endpoint: str) -> tuple[str, ...]:
        """Keys this endpoint of this version uses for this payload; every other key is dropped silently."""
        known = endpoint_keys(self.settings["ords_version"], endpoint) or ()
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

    def _parse_payload(self, payload: dict[str, Any], endpoint: str) -> tuple[dict[str, Any], list[str]]:
        known = self._known_keys(payload, endpoint)
        dropped = [k for k in payload if k not in known]
        payload = {k: v for k, v in payload.items() if k in known}
        req: dict[str, Any] = {}

        if endpoint == "jobs":
            op = payload.get("operation")
            if op is None:
                raise _bad("operation is required: EXPORT or IMPORT")
            if not isinstance(op, str) or op.upper() not in OPERATIONS:
                raise _bad(f"operation must be EXPORT or IMPORT, not {op!r}")
            req["operation"] = op.upper()
        else:
            req["operation"] = endpoint.upper()

        mode = payload.get("job_mode")
        if mode is None:
            req["job_mode"] = "SCHEMA"
        elif not isinstance(mode, str) or mode.upper() not in JOB_MODES:
            raise _bad(f"job_mode must be one of {', '.join(JOB_MODES)}, not {mode!r}")
        else:
            req["job_mode"] = mode.upper()

        directory = payload.get("datapump_dir")
        if directory is None:
            directory = DEFAULT_DIRECTORY
        if not is_identifier(directory):
            raise _bad(
                "ORA-39002: invalid operation\nORA-39070: Unable to open the log file.\n"
                f"ORA-39087: directory name {str(directory)[:130]!r} is invalid"
            )
        allowed_dirs = self.settings["directories"]
        if allowed_dirs is not None and directory.upper() not in allowed_dirs:
            raise _bad(
                "ORA-39002: invalid operation\nORA-39070: Unable to open the log file.\n"
                f"ORA-39087: directory name {directory.upper()} is invalid"
            )
        req["directory"] = directory.upper()

        credential = payload.get("credential_name")
        if credential is not None and not is_identifier(credential):
            raise _bad("credential_name must be the name of a credential")
        req["credential"] = credential.upper() if credential is not None else None

        file_name = payload.get("file_name")
        if file_name is None:
            if req["operation"] == "IMPORT":
                raise _bad("file_name is required for an IMPORT job")
            if credential is not None:
                raise _bad("file_name (an Object Storage URI) is required when credential_name is given")
            req["file_name"] = None
        else:
            req["file_name"] = self._check_file_name(file_name, req["credential"])

        filt = payload.get("filter")
        names: list[str] = []
        if filt is not None:
            if not isinstance(filt, str):
                raise _bad("filter must be a comma-separated string of names")
            for raw in filt.split(","):
                item = raw.strip()
                if not item:
                    continue
                if not _FILTER_ITEM_RE.match(item):
                    raise _bad(f"filter item {item[:130]!r} is not a valid name")
                names.append(item.upper())
            if not names:
                raise _bad("filter holds no names")
        req["filter"] = names

        req["name_p"] = self._parse_expressions(payload, "name_expressions", dropped)
        req["schema_p"] = self._parse_expressions(payload, "schema_expressions", dropped)
        req["tablespace_p"] = self._parse_expressions(payload, "tablespace_expressions", dropped)

        remaps: dict[str, str] = {}
        value = payload.get("remap_schemas")
        if value is not None:
            if not isinstance(value, list):
                raise _bad("remap_schemas must be an array of {\"source\", \"target\"} objects")
            for i, item in enumerate(value):
                if not isinstance(item, dict) or not is_identifier(item.get("source")) or not is_identifier(item.get("target")):
                    raise _bad(f"remap_schemas[{i}] needs 'source' and 'target' schema names")
                dropped.extend(f"remap_schemas[{i}].{k}" for k in item if k not in ("source", "target"))
                remaps[item["source"].upper()] = item["target"].upper()
        req["remaps"] = remaps

        threads = payload.get("threads")
        if threads is None:
            # Seed 001: "The full export will run in parallel by default".
            full_export = req["operation"] == "EXPORT" and req["job_mode"] == "FULL"
            threads = self.settings["full_default_threads"] if full_export else 1
        if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= MAX_THREADS:
            raise _bad(f"threads must be an integer from 1 to {MAX_THREADS}")
        req["threads"] = threads

        keep = payload.get("keep_master")
        if keep is None:
            keep = 1  # also where keep_master is not documented: the control table is kept
        if isinstance(keep, bool):
            keep = int(keep)
        if not isinstance(keep, int) or keep not in (0, 1):
            raise _bad("keep_master must be 0 or 1")
        req["keep_master"] = keep
        return req, dropped

    def dropped_keys(self, payload: dict[str, Any], endpoint: str) -> list[str]:
        """Keys ORDS would silently ignore; computed even when the payload is invalid."""
        try:
            return self._parse_payload(payload, endpoint)[1]
        except EmulatorError:
            known = self._known_keys(payload, endpoint)
            return [k for k in payload if k not in known]

    # ------------------------------------------------------------------ selection

    @staticmethod
    def _filter_tables(tables: list[Table], req: dict[str, Any]) -> list[Table]:
        return [
            t
            for t in tables
            if match_all(req["name_p"], t.name) and match_all(req["tablespace_p"], t.tablespace)
        ]

    def _select(
        self,
        owner: str,
        req: dict[str, Any],
        schemas: list[str],
        tables: list[Table],
        *,
        from_dump: bool = False,
    ) -> tuple[list[str], list[Table], list[str]]:
        """Apply job_mode, filter and expressions to a universe (the catalog or a dump)."""
        mode = req["job_mode"]
        names = req["filter"]
        errors: list[str] = []
        by_schema: dict[str, list[Table]] = {}
        for t in tables:
            by_schema.setdefault(t.schema, []).append(t)
        universe = sorted(set(schemas) | set(by_schema))
        selected_schemas: list[str]
        selected: list[Table]

        if mode == "FULL":
            selected_schemas = [s for s in universe if match_all(req["schema_p"], s)]
            selected = self._filter_tables([t for s in selected_schemas for t in by_schema.get(s, [])], req)
            if not selected_schemas:
                errors.append("ORA-31655: no data or metadata objects selected for job")
        elif mode == "SCHEMA":
            if req["schema_p"] or names:
                selected_schemas = [
                    s for s in universe if match_all(req["schema_p"], s) and (not names or s in names)
                ]
                errors.extend(f"ORA-39165: Schema {n} was not found." for n in names if n not in universe)
            elif from_dump:
                # A schema-mode import without a selection takes every schema in the dump.
                selected_schemas = universe
            else:
                # Data Pump's default for a schema-mode export: the caller's own schema.
                selected_schemas = [owner] if owner in universe else []
                if not selected_schemas:
                    errors.append(f"ORA-39165: Schema {owner} was not found.")
            selected = self._filter_tables([t for s in selected_schemas for t in by_schema.get(s, [])], req)
            if not selected_schemas:
                errors.append("ORA-31655: no data or metadata objects selected for job")
        elif mode == "TABLE":
            if req["schema_p"]:
                default_schemas = [s for s in universe if match_all(req["schema_p"], s)]
            else:
                default_schemas = [owner]
            plain = [n for n in names if "." not in n]
            qualified = [tuple(n.split(".", 1)) for n in names if "." in n]
            chosen: dict[tuple[str, str], Table] = {}
            if not names or plain:
                for s in default_schemas:
                    for t in by_schema.get(s, []):
                        if not names or t.name in plain:
                            chosen[(t.schema, t.name)] = t
            for s, n in qualified:
                if match_all(req["schema_p"], s):
                    for t in by_schema.get(s, []):
                        if t.name == n:
                            chosen[(s, n)] = t
            selected = self._filter_tables(sorted(chosen.values(), key=lambda t: (t.schema, t.name)), req)
            found = {t.name for t in selected} | {f"{t.schema}.{t.name}" for t in selected}
            errors.extend(f"ORA-39166: Object {n} was not found." for n in names if n not in found)
            selected_schemas = sorted({t.schema for t in selected})
            if not selected:
                errors.append("ORA-31655: no data or metadata objects selected for job")
        else:  # TABLESPACE
            spaces = {t.tablespace for t in tables}
            candidates = [
                t
                for t in tables
                if match_all(req["schema_p"], t.schema) and (not names or t.tablespace in names)
            ]
            selected = self._filter_tables(candidates, req)
            errors.extend(f"ORA-29304: tablespace '{n}' does not exist" for n in names if n not in spaces)
            selected_schemas = sorted({t.schema for t in selected})
            if not selected:
                errors.append("ORA-31655: no data or metadata objects selected for job")
        return selected_schemas, selected, errors

    # ------------------------------------------------------------------ names and files

    def _dir_path(self, directory: str) -> str:
        path = os.path.join(self.data_dir, directory)
        os.makedirs(path, exist_ok=True)
        return path

    def _object_path(self, uri: str) -> str:
        folder = os.path.join(self.data_dir, OBJECT_STORE_DIR)
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, hashlib.sha256(uri.encode()).hexdigest()[:40] + ".dmp")

    def _claim_name(self, owner: str, operation: str, directory: str, now: float) -> tuple[str, _dt.datetime]:
        """The job's name and start time, or the error Data Pump raises when they are taken.

        ORDS names a REST job by its operation and the second it starts, and Data Pump refuses a
        job name whose control table the owner still has (ORA-31634), so two creates of one
        operation by one owner in one second collide. The HTTP status is a setting (inferred).
        """
        when = _local(math.floor(now))
        name = f"DATAPUMP_REST_{operation}_" + when.strftime("%Y%m%d%H%M%S")
        status = self.settings["name_clash_status"]
        held = self._jobs.get((owner, name))
        if held is not None and not held.vanished:
            raise EmulatorError(status, f"ORA-39002: invalid operation\nORA-31634: job already exists ({owner}.{name})")
        log = self._log_name(operation, when)
        if os.path.exists(os.path.join(self._dir_path(directory), log)):
            # Another owner's job of the same second writes this log file in this directory.
            raise EmulatorError(
                status,
                "ORA-39002: invalid operation\nORA-39070: Unable to open the log file.\n"
                f"ORA-29283: invalid file operation: {directory}/{log} is in use",
            )
        return name, when

    @staticmethod
    def _log_name(operation: str, when: _dt.datetime) -> str:
        return ("EXPDAT" if operation == "EXPORT" else "IMPDAT") + when.strftime("-%Y-%m-%d-%H_%M_%S.LOG")

    def _write_text(self, path: str, text: str) -> None:
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
        self._created_files.add(path)

    def _resolve_dump_set(self, req: dict[str, Any]) -> tuple[list[str], list[str]]:
        """Find the files an import reads; returns (names, paths) or raises 400 with ORA text."""
        file_name: str = req["file_name"]
        rx = _pattern_regex(file_name)
        if req["credential"] is not None:
            names = sorted(u for u in self._object_store if rx.fullmatch(u))
            paths = [self._object_store[u] for u in names]
            where = file_name
        else:
            dir_path = os.path.join(self.data_dir, req["directory"])
            try:
                entries = os.listdir(dir_path)
            except FileNotFoundError:
                entries = []
            if _has_substitution(file_name):
                names = sorted(e for e in entries if rx.fullmatch(e) and os.path.isfile(os.path.join(dir_path, e)))
            else:
                names = [file_name] if os.path.isfile(os.path.join(dir_path, file_name)) else []
            paths = [os.path.join(dir_path, n) for n in names]
            where = os.path.join(dir_path, _expand(file_name, 1))
        if not names:
            raise _bad(
                "ORA-39001: invalid argument value\nORA-39000: bad dump file specification\n"
                f'ORA-31640: unable to open dump file "{where}" for read\n'
                "ORA-27037: unable to obtain file status"
            )
        return names, paths

    # ------------------------------------------------------------------ create

    def _next_scenario(self, operation: str) -> dict[str, Any]:
        for i, entry in enumerate(self._queue):
            if entry.get("operation") in (None, operation):
                del self._queue[i]
                return {k: v for k, v in entry.items() if k != "operation"}
        return {}

    def create_job(
        self, principal: Principal, payload: dict[str, Any], endpoint: str, prefix: str
    ) -> tuple[dict[str, Any], str, list[str]]:
        """Validate, create and start a job. Returns (body, job_url, dropped_keys)."""
        with self._lock:
            self.check_endpoint(endpoint)
            now = self._advance()
            req, dropped = self._parse_payload(payload, endpoint)
            owner = principal.user
            operation = req["operation"]
            directory = req["directory"]
            dir_path = self._dir_path(directory)
            # DBMS_DATAPUMP.OPEN names the job before any file is opened.
            job_name, when = self._claim_name(owner, operation, directory, now)

            # Everything that can fail with 400 happens before the job exists.
            if operation == "IMPORT":
                names, paths = self._resolve_dump_set(req)
                headers = []
                for n, p in zip(names, paths):
                    try:
                        headers.append(read_dump_header(p))
                    except (DumpFormatError, OSError) as exc:
                        raise _bad(
                            "ORA-39001: invalid argument value\nORA-39000: bad dump file specification\n"
                            f'ORA-31619: invalid dump file "{n}" ({exc})'
                        ) from exc
                jobs_in_set = {h.get("job_name") for h in headers}
                if len(jobs_in_set) != 1:
                    raise _bad(
                        "ORA-39001: invalid argument value\nORA-39000: bad dump file specification\n"
                        "ORA-39130: the files matched by file_name belong to different dump file sets"
                    )
                expected = int(headers[0].get("file_count", 1))
                indexes = {int(h.get("file_index", 1)) for h in headers}
                if indexes != set(range(1, expected + 1)):
                    raise _bad("ORA-39002: invalid operation\nORA-39059: dump file set is incomplete")
                head = headers[0]
                dump_tables = [
                    Table(t["schema"], t["name"], t["tablespace"], int(t["rows"]), int(t["bytes"])) for t in head["tables"]
                ]
                dump_schemas = list(head.get("schemas", []))
                schemas, tables, natural = self._select(owner, req, dump_schemas, dump_tables, from_dump=True)
            else:
                schemas, tables, natural = self._select(
                    owner, req, list(self.catalog.schemas), self.catalog.all_tables()
                )

            dump_names: list[str] = []
            dump_paths: list[str] = []
            object_store = req["credential"] is not None
            if operation == "EXPORT":
                template = req["file_name"] or "EXPDAT%U-" + when.strftime("%Y%m%d_%H_%M_%S") + ".DMP"
                count = req["threads"] if _has_substitution(template) else 1
                dump_names = [_expand(template, i, when) for i in range(1, count + 1)]
                if object_store:
                    dump_paths = [self._object_path(u) for u in dump_names]
                else:
                    dump_paths = [os.path.join(dir_path, n) for n in dump_names]
                reserved = {p for j in self._jobs.values() if not j.finalized for p in j.dump_paths}
                for n, p in zip(dump_names, dump_paths):
                    if os.path.exists(p) or p in reserved or (object_store and n in self._object_store):
                        raise _bad(
                            "ORA-39001: invalid argument value\nORA-39000: bad dump file specification\n"
                            f'ORA-31641: unable to create dump file "{p if not object_store else n}"\n'
                            "ORA-27038: created file already exists"
                        )

            scenario = {k: self.settings[k] for k in JOB_SCENARIO_KEYS}
            scenario.update(self._next_scenario(operation))
            log = _JobFile(self._log_name(operation, when), os.path.join(dir_path, self._log_name(operation, when)), "log")
            job = _Job(
                owner=owner,
                name=job_name,
                operation=operation,
                job_mode=req["job_mode"],
                threads=req["threads"],
                keep_master=req["keep_master"],
                directory=directory,
                created=now,
                end=now + scenario["duration"],
                outcome=scenario["outcome"],
                error_count=scenario["error_count"],
                ora_codes=scenario["ora_codes"],
                dump_size=scenario["dump_size"],
                log=log,
                dump_names=dump_names,
                dump_paths=dump_paths,
                object_store=object_store,
                schemas=schemas,
                tables=tables,
                remaps=req["remaps"],
                natural_errors=natural,
            )
            if operation == "IMPORT":
                job.dump_prefix = head.get("export_prefix", "SCHEMA_EXPORT")
                job.dump_has_users = head.get("job_mode") in ("SCHEMA", "FULL")
                job.can_create_users = self.settings["can_create_users"]
                job.source_job = head.get("job_name")
                log_name, log_dir = head.get("log_file"), head.get("log_directory")
                if isinstance(log_name, str) and is_identifier(log_dir):
                    path = os.path.join(self.data_dir, log_dir, log_name)
                    if os.path.isfile(path) and log_name != log.name:
                        job.export_log = _JobFile(log_name, path, "export_log")
            else:
                job.dump_prefix = _MODE_PREFIX[job.job_mode]
            previous = self._jobs.get((owner, job_name))
            if previous is not None:  # a dropped control table's name, reused
                self._dropped_jobs.append(previous)
            self._jobs[(owner, job_name)] = job
            self._write_text(log.path, "\n".join(self._log_head(job)) + "\n")
            body = self._render(job, prefix, now, as_created=True)
            return body, self.job_url(prefix, owner, job_name), dropped

    # ------------------------------------------------------------------ finalisation

    def _log_head(self, job: _Job) -> list[str]:
        ident = f'"{job.owner}"."{job.name}"'
        p = job.dump_prefix
        if job.operation == "EXPORT":
            lines = [
                f"Starting {ident}:",
                "Estimate in progress using BLOCKS method...",
                f"Processing object type {p}/TABLE/TABLE_DATA",
                f"Total estimation using BLOCKS method: {self._estimate(job)}",
            ]
            if job.job_mode in ("SCHEMA", "FULL"):
                lines.append(f"Processing object type {p}/USER")
            lines.append(f"Processing object type {p}/TABLE/TABLE")
        else:
            lines = [
                f"Master table {ident} successfully loaded/unloaded",
                f"Starting {ident}:",
            ]
            if job.dump_has_users and job.job_mode in ("SCHEMA", "FULL"):
                lines.append(f"Processing object type {p}/USER")
            lines.append(f"Processing object type {p}/TABLE/TABLE")
            lines.append(f"Processing object type {p}/TABLE/TABLE_DATA")
        return lines

    @staticmethod
    def _estimate(job: _Job) -> str:
        return format_size(sum(t.bytes for t in job.tables))

    def _scenario_error_lines(self, job: _Job, count: int, codes: list[str] | tuple[str, ...]) -> list[str]:
        objects = [f'"{t.schema}"."{t.name}"' for t in job.tables] or [f'"{job.owner}"."EMULATED_OBJECT"']
        lines = []
        for i in range(count):
            code = codes[i % len(codes)]
            obj = objects[i % len(objects)]
            text = _ORA_TEXT.get(code, "emulated error on {obj}").format(obj=obj)
            lines.append(f"{code}: {text}")
        return lines

    def _finalize(self, job: _Job) -> None:
        job.finalized = True
        outcome = job.outcome
        ident = f'"{job.owner}"."{job.name}"'
        verb = "exported" if job.operation == "EXPORT" else "imported"
        lines = self._log_head(job)
        end_dt = _local(job.end)
        tail = f"at {dp_timestamp(end_dt)} elapsed {dp_elapsed(job.end - job.created)}"

        if outcome in ("success", "errors"):
            errors = list(job.natural_errors)
            table_lines: list[str] = []
            if job.operation == "IMPORT":
                errors_apply, table_lines = self._apply_import(job)
                errors.extend(errors_apply)
            else:
                table_lines = [table_line(verb, t.schema, t.name, t.bytes, t.rows) for t in job.tables]
            if outcome == "errors":
                errors.extend(self._scenario_error_lines(job, job.error_count, job.ora_codes or _DEFAULT_ERROR_CODES))
            lines.extend(errors)
            lines.extend(table_lines)
            if job.operation == "EXPORT":
                self._write_dumps(job)
                lines.append(f"Master table {ident} successfully loaded/unloaded")
                lines.append("*" * 78)
                lines.append(f"Dump file set for {job.owner}.{job.name} is:")
                lines.extend(f"  {n if job.object_store else p}" for n, p in zip(job.dump_names, job.dump_paths))
            job.error_lines = errors
            if errors:
                job.final_outcome = "errors"
                lines.append(f"Job {ident} completed with {len(errors)} error(s) {tail}")
            else:
                job.final_outcome = "success"
                lines.append(f"Job {ident} successfully completed {tail}")
        elif outcome == "fatal":
            job.error_lines = self._scenario_error_lines(job, len(job.ora_codes or _DEFAULT_FATAL_CODES), job.ora_codes or _DEFAULT_FATAL_CODES)
            lines.extend(job.error_lines)
            lines.append(f"Job {ident} stopped due to fatal error {tail}")
            job.final_outcome = "fatal"
        elif outcome == "stopped":
            half = job.tables[: len(job.tables) // 2]
            lines.extend(table_line(verb, t.schema, t.name, t.bytes, t.rows) for t in half)
            lines.append(f"Job {ident} stopped by user request {tail}")
            job.final_outcome = "stopped"
        else:  # crash: the processes died, nobody wrote a final line
            half = job.tables[: len(job.tables) // 2]
            lines.extend(table_line(verb, t.schema, t.name, t.bytes, t.rows) for t in half)
            job.final_outcome = "crash"
        self._write_text(job.log.path, "\n".join(lines) + "\n")
        if job.final_outcome == "success" and job.keep_master == 0:
            # Without a retained control table the job leaves DBA_DATAPUMP_JOBS.
            job.vanished = True

    def _write_dumps(self, job: _Job) -> None:
        count = len(job.dump_names)
        spread: list[list[Table]] = [[] for _ in range(count)]
        for i, t in enumerate(job.tables):
            spread[i % count].append(t)
        for index, (name, path) in enumerate(zip(job.dump_names, job.dump_paths), start=1):
            header = {
                "format": 1,
                "job_name": job.name,
                "owner_name": job.owner,
                "job_mode": job.job_mode,
                "export_prefix": job.dump_prefix,
                "created": _local(job.created).isoformat(timespec="seconds"),
                "log_file": job.log.name,
                "log_directory": job.directory,
                "file_index": index,
                "file_count": count,
                "schemas": job.schemas,
                "tables": [t.as_dict() for t in job.tables],
                "file_tables": [f"{t.schema}.{t.name}" for t in spread[index - 1]],
            }
            size = job.dump_size or natural_dump_size(header, sum(t.bytes for t in spread[index - 1]))
            if os.path.exists(path):
                os.remove(path)
            write_dump(path, header, size)
            self._created_files.add(path)
            if job.object_store:
                self._object_store[name] = path
            else:
                job.produced.append(_JobFile(name, path, "dump"))

    def _apply_import(self, job: _Job) -> tuple[list[str], list[str]]:
        errors: list[str] = []
        lines: list[str] = []
        targets = {s: job.remaps.get(s, s) for s in job.schemas}
        for t in job.tables:
            targets.setdefault(t.schema, job.remaps.get(t.schema, t.schema))
        # Data Pump creates a (remap) target user only from the CREATE USER metadata in the dump
        # set (written by SCHEMA and FULL exports, processed by SCHEMA and FULL imports), and only
        # when the importer may create users.
        carries_users = job.dump_has_users and job.job_mode in ("SCHEMA", "FULL")
        for source in sorted(targets):
            target = targets[source]
            if target in self.catalog.schemas:
                if carries_users and source in job.schemas:
                    errors.append(f'ORA-31684: Object type USER:"{target}" already exists')
            elif carries_users and source in job.schemas and job.can_create_users:
                self.catalog.schemas[target] = {}
        for t in job.tables:
            target = targets[t.schema]
            if target not in self.catalog.schemas:
                errors.append(f'ORA-39083: Object type TABLE:"{target}"."{t.name}" failed to create with error:')
                errors.append(f"ORA-01918: user '{target}' does not exist")
                continue
            existing = self.catalog.schemas[target]
            if t.name in existing:
                # Data Pump's default TABLE_EXISTS_ACTION is SKIP; ORDS exposes no way to change it.
                errors.append(
                    f'ORA-39151: Table "{target}"."{t.name}" exists. All dependent metadata and data '
                    "will be skipped due to table_exists_action of skip"
                )
                continue
            existing[t.name] = Table(target, t.name, t.tablespace, t.rows, t.bytes)
            lines.append(table_line("imported", target, t.name, t.bytes, t.rows))
        return errors, lines

    # ------------------------------------------------------------------ rendering

    @staticmethod
    def job_url(prefix: str, owner: str, name: str) -> str:
        # '#' (C## users) would end the path; '$' may stay.
        return f"{prefix}/database/datapump/jobs/{url_segment(owner)},{url_segment(name)}/"

    def _fields(self, job: _Job, now: float, as_created: bool = False) -> dict[str, Any]:
        if job.foreign is not None:
            row = job.foreign
            return {
                "job_name": job.name,
                "owner_name": job.owner,
                "operation": row["operation"],
                "job_mode": row["job_mode"],
                "state": row["state"],
                "degree": row["degree"],
                "attached_sessions": row["attached_sessions"],
                "datapump_sessions": row["datapump_sessions"],
            }
        out: dict[str, Any] = {
            "job_name": job.name,
            "owner_name": job.owner,
            "operation": job.operation,
            "job_mode": job.job_mode,
        }
        if as_created or self._is_running(job, now):
            # Seed 001: every create answer shows degree 1 and 2 sessions, the parallel FULL export
            # too; the workers are started afterwards.
            degree = 1 if as_created else job.threads
            out.update(
                state="EXECUTING",
                degree=degree,
                attached_sessions=0,
                datapump_sessions=degree + 1,
                job_state="EXECUTING",
            )
            return out
        out.update(state="NOT RUNNING", degree=0, attached_sessions=0, datapump_sessions=0)
        fo = job.final_outcome
        ident = f'"{job.owner}"."{job.name}"'
        tail = f"at {dp_timestamp(_local(job.end))} elapsed {dp_elapsed(job.end - job.created)}"
        if fo == "success":
            out.update(job_state="COMPLETED", job_comment=f"Job {ident} successfully completed {tail}")
        elif fo == "errors":
            out.update(
                job_state="COMPLETED",
                job_comment=f"Job {ident} completed with {len(job.error_lines)} error(s) {tail}",
            )
        elif fo == "fatal":
            out.update(job_state="STOPPED", job_comment=f"Job {ident} stopped due to fatal error {tail}")
        elif fo == "stopped":
            out.update(job_state="STOPPED", job_comment=f"Job {ident} stopped by user request {tail}")
        # crash: no job_state, no job_comment
        return out

    def _render(self, job: _Job, prefix: str, now: float, as_created: bool = False) -> dict[str, Any]:
        body = self._fields(job, now, as_created)
        url = self.job_url(prefix, job.owner, job.name)
        links: list[dict[str, str]] = [
            {"rel": "collection", "href": f"{prefix}/database/datapump/jobs/"},
            {"rel": "describedby", "href": f"{prefix}/metadata-catalog/"},
        ]
        if job.foreign is None:
            if job.finalized and not as_created:
                links.extend({"rel": "enclosure", "href": url + url_segment(f.name)} for f in job.produced)
            if job.export_log is not None:
                links.append({"rel": "related", "href": url + url_segment(job.export_log.name)})
            links.append({"rel": "related", "href": url + url_segment(job.log.name)})
        links.append({"rel": "self", "href": url})
        body["links"] = links
        return body

    # ------------------------------------------------------------------ reads

    def _visible(self, job: _Job) -> bool:
        return not job.vanished

    def get_job(self, owner: str, name: str, prefix: str) -> dict[str, Any]:
        with self._lock:
            now = self._advance()
            job = self._jobs.get((owner, name))
            if job is None or not self._visible(job):
                raise EmulatorError(404, f"Data Pump job {owner},{name} was not found")
            return self._render(job, prefix, now)

    def list_jobs(
        self, prefix: str, *, limit: Any = None, offset: Any = None, q: Any = None, query_string: str = ""
    ) -> dict[str, Any]:
        with self._lock:
            now = self._advance()
            cap = self.settings["list_max_limit"]
            # A limit above the server's maximum is capped silently; the answer's limit says so.
            lim = min(self._int_param("limit", limit, 25, 1, None), cap)
            off = self._int_param("offset", offset, 0, 0, None)  # validated even when ignored
            if self.settings["offset_support"] == "ignored":
                off = 0
            rows = []
            for job in sorted(self._jobs.values(), key=lambda j: (j.owner, j.name)):
                if not self._visible(job):
                    continue
                fields = self._fields(job, now)
                rows.append((job, fields))
            if q is not None:
                support = self.settings["q_support"]
                if support == "rejected":
                    raise _bad("The q filter parameter is not supported on this resource")
                cond = self._parse_q(q)
                if support == "honoured":
                    rows = [(j, f) for j, f in rows if self._q_match(cond, f)]
            page = rows[off : off + lim]
            has_more = off + lim < len(rows)
            items = []
            for job, f in page:
                item = {k: f[k] for k in _LIST_FIELDS}
                # DBA_DATAPUMP_JOBS stores these as CHAR-like, blank-padded to 30.
                item["operation"] = f["operation"].ljust(30)
                item["job_mode"] = f["job_mode"].ljust(30)
                item["links"] = [{"rel": "self", "href": self.job_url(prefix, job.owner, job.name)}]
                items.append(item)
            base = f"{prefix}/database/datapump/jobs/"
            keep = []
            if limit is not None:
                keep.append(f"limit={lim}")
            if q is not None:
                keep.append("q=" + quote(str(q), safe=""))
            first = base + ("?" + "&".join(keep) if keep else "")
            extra = "&".join(k for k in keep if not k.startswith("limit="))
            extra = ("&" + extra) if extra else ""
            links = [
                {"rel": "self", "href": base + ("?" + query_string if query_string else "")},
                {"rel": "edit", "href": base},
                {"rel": "describedby", "href": f"{prefix}/metadata-catalog/"},
                {"rel": "first", "href": first},
            ]
            # A server that ignores offset serves page one every time, with page one's next link:
            # a client that follows next links without a bound never stops.
            if off > 0:
                links.append({"rel": "prev", "href": f"{base}?offset={max(0, off - lim)}&limit={lim}{extra}"})
            if has_more:
                links.append({"rel": "next", "href": f"{base}?offset={off + lim}&limit={lim}{extra}"})
            return {
                "items": items,
                "hasMore": has_more,
                "limit": lim,
                "offset": off,
                "count": len(items),
                "links": links,
            }

    @staticmethod
    def _int_param(name: str, value: Any, default: int, lo: int, hi: int | None) -> int:
        if value is None:
            return default
        if isinstance(value, bool):
            raise _bad(f"{name} must be an integer")
        if isinstance(value, str):
            if not re.fullmatch(r"\d{1,9}", value.strip()):
                raise _bad(f"{name} must be a non-negative integer")
            value = int(value.strip())
        if not isinstance(value, int) or value < lo or (hi is not None and value > hi):
            rng = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
            raise _bad(f"{name} must be an integer {rng}")
        return value

    @staticmethod
    def _parse_q(q: Any) -> dict[str, Any]:
        try:
            cond = json.loads(q) if isinstance(q, str) else q
        except ValueError as exc:
            raise _bad("q must be a JSON filter object") from exc
        if not isinstance(cond, dict):
            raise _bad("q must be a JSON filter object")
        for key, value in cond.items():
            if key not in _LIST_FIELDS:
                raise _bad(f"q: unknown field {key!r}")
            numeric = key in _NUMERIC_FIELDS
            ops = value if isinstance(value, dict) else {"$eq": value}
            if not ops:
                raise _bad(f"q: {key} has no condition")
            for op, arg in ops.items():
                if op not in _Q_OPERATORS:
                    raise _bad(f"q: unsupported operator {op!r}")
                args = arg if op == "$in" else [arg]
                if op == "$in" and not isinstance(arg, list):
                    raise _bad("q: $in takes an array")
                if op == "$like" and not isinstance(arg, str):
                    raise _bad("q: $like takes a string")
                for a in args:
                    is_number = isinstance(a, (int, float)) and not isinstance(a, bool)
                    if op != "$like" and not (is_number if numeric else isinstance(a, str)):
                        # Oracle would try an implicit conversion and fail (ORA-01722) or compare
                        # digits as text; neither is worth imitating.
                        raise _bad(f"q: {key} compares with {'numbers' if numeric else 'strings'}, not {a!r}")
        return cond

    @staticmethod
    def _q_match(cond: dict[str, Any], fields: dict[str, Any]) -> bool:
        """Every field's every operator must hold (AND), as in ORDS' filter objects."""
        for key, value in cond.items():
            actual = fields[key]
            ops = value if isinstance(value, dict) else {"$eq": value}
            for op, arg in ops.items():
                if op == "$like":
                    rx = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in arg)
                    ok = re.fullmatch(rx, str(actual), re.DOTALL) is not None
                elif op == "$in":
                    ok = actual in arg
                else:
                    # Strings compare as strings (job names sort by their timestamp), numbers as numbers.
                    ok = {
                        "$eq": actual == arg,
                        "$ne": actual != arg,
                        "$gt": actual > arg,
                        "$gte": actual >= arg,
                        "$lt": actual < arg,
                        "$lte": actual <= arg,
                    }[op]
                if not ok:
                    return False
        return True

    def resolve_file(self, owner: str, name: str, file_name: str) -> tuple[str, int, str]:
        """Return (path, size, media type) for a file linked from a job."""
        with self._lock:
            self._advance()
            job = self._jobs.get((owner, name))
            if job is None or not self._visible(job) or job.foreign is not None:
                raise EmulatorError(404, f"Data Pump job {owner},{name} was not found")
            candidates = [job.log, *job.produced]
            if job.export_log is not None:
                candidates.append(job.export_log)
            for f in candidates:
                if f.name == file_name:
                    try:
                        size = os.stat(f.path).st_size
                    except FileNotFoundError:
                        break
                    media = "text/plain" if f.role in ("log", "export_log") else "application/vnd.tcpdump.pcap"
                    return f.path, size, media
            raise EmulatorError(404, f"File {file_name} was not found for job {owner},{name}")

    # ------------------------------------------------------------------ control surface

    def catalog_data(self) -> dict[str, Any]:
        with self._lock:
            self._advance()
            return self.catalog.to_data()

    def load_catalog(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, (dict, Catalog)):
            raise _bad("a catalog is a JSON object: {\"schemas\": {\"NAME\": {\"tables\": {...}}}}")
        with self._lock:
            self._advance()
            self.catalog = self._coerce_catalog(data)
            return self.catalog.to_data()

    def drop_schema(self, schema: str) -> None:
        with self._lock:
            self._advance()
            if self.catalog.schemas.pop(schema.upper(), None) is None:
                raise EmulatorError(404, f"ORA-01918: user '{schema.upper()}' does not exist")

    def drop_table(self, schema: str, table: str) -> None:
        with self._lock:
            self._advance()
            tables = self.catalog.schemas.get(schema.upper())
            if tables is None or tables.pop(table.upper(), None) is None:
                raise EmulatorError(404, "ORA-00942: table or view does not exist")

    def reset(self) -> None:
        with self._lock:
            for path in sorted(self._created_files):
                try:
                    os.remove(path)
                except OSError:
                    pass
            self._created_files.clear()
            self._object_store.clear()
            self._jobs.clear()
            self._dropped_jobs.clear()
            self._tokens.clear()
            self._faults.clear()
            self._queue.clear()
            self._requests.clear()
            self._cleared_through = self._request_seq
            self.catalog = self._initial_catalog.copy()
            self.settings = dict(self._initial_settings)

    def get_scenario(self) -> dict[str, Any]:
        with self._lock:
            return {**self.settings, "queue": [dict(e) for e in self._queue]}

    def set_scenario(self, **values: Any) -> dict[str, Any]:
        with self._lock:
            self.settings.update(_validate_settings(values, allowed=tuple(DEFAULT_SETTINGS)))
            return self.get_scenario()

    def queue_scenario(self, **values: Any) -> dict[str, Any]:
        with self._lock:
            entry = _validate_settings(values, allowed=(*JOB_SCENARIO_KEYS, "operation"))
            self._queue.append(entry)
            return self.get_scenario()

    def clear_scenario_queue(self) -> None:
        with self._lock:
            self._queue.clear()

    def _job_for_control(self, owner: str, name: str) -> _Job:
        job = self._jobs.get((owner, name))
        if job is None or job.vanished:
            raise EmulatorError(404, f"ORA-31626: job does not exist ({owner},{name})")
        return job

    def patch_job(self, owner: str, name: str, **changes: Any) -> dict[str, Any]:
        with self._lock:
            now = self._advance()
            job = self._job_for_control(owner, name)
            finish_now = changes.pop("finish_now", False)
            if not isinstance(finish_now, bool):
                raise _bad("finish_now must be true or false")
            values = _validate_settings(changes, allowed=JOB_SCENARIO_KEYS)
            if job.foreign is not None or job.finalized:
                raise EmulatorError(409, f"job {owner},{name} is no longer running")
            if "duration" in values:
                job.end = job.created + values["duration"]
            for key in ("outcome", "error_count", "ora_codes", "dump_size"):
                if key in values:
                    setattr(job, key, values[key])
            if finish_now:
                job.end = min(job.end, now)
            self._advance()
            return self._describe(job)

    def stop_job(self, owner: str, name: str, *, keep_master: int = 1) -> dict[str, Any]:
        """DBMS_DATAPUMP.ATTACH + STOP_JOB: a running job ends as stopped by user request."""
        with self._lock:
            now = self._advance()
            if keep_master not in (0, 1) or isinstance(keep_master, bool):
                raise _bad("keep_master must be 0 or 1")
            job = self._job_for_control(owner, name)
            if job.foreign is None and not job.finalized:
                job.outcome = "stopped"
                job.end = now
                self._finalize(job)
            elif keep_master == 1:
                raise EmulatorError(409, f"job {owner},{name} is not running")
            if keep_master == 0:
                job.vanished = True
            return self._describe(job)

    def drop_job(self, owner: str, name: str) -> None:
        """DROP TABLE owner.job PURGE: the row leaves the job list; files stay on disk."""
        with self._lock:
            self._advance()
            job = self._job_for_control(owner, name)
            if job.foreign is None and not job.finalized:
                raise EmulatorError(409, f"job {owner},{name} is running; stop it first")
            job.vanished = True

    def add_foreign_job(self, row: dict[str, Any]) -> dict[str, Any]:
        """A DBA_DATAPUMP_JOBS row not created through ORDS (expdp, stale control tables)."""
        with self._lock:
            owner, name = row.get("owner_name"), row.get("job_name")
            if not isinstance(owner, str) or not owner or not isinstance(name, str) or not name or "," in owner + name or "/" in owner + name:
                raise _bad("owner_name and job_name are required strings without ',' or '/'")
            values = {
                "operation": row.get("operation", "EXPORT"),
                "job_mode": row.get("job_mode", "SCHEMA"),
                "state": row.get("state", "NOT RUNNING"),
                "degree": row.get("degree", 0),
                "attached_sessions": row.get("attached_sessions", 0),
                "datapump_sessions": row.get("datapump_sessions", 0),
            }
            for k in ("operation", "job_mode", "state"):
                if not isinstance(values[k], str):
                    raise _bad(f"{k} must be a string")
            for k in ("degree", "attached_sessions", "datapump_sessions"):
                if isinstance(values[k], bool) or not isinstance(values[k], int):
                    raise _bad(f"{k} must be an integer")
            now = self.now()
            job = _Job(
                owner=owner, name=name, operation=values["operation"], job_mode=values["job_mode"], threads=0,
                keep_master=1, directory=DEFAULT_DIRECTORY, created=now, end=now, outcome="success", error_count=0,
                ora_codes=None, dump_size=0, log=_JobFile("", "", "log"), foreign=values, finalized=True,
            )
            self._jobs[(owner, name)] = job
            return self._describe(job)

    def _describe(self, job: _Job) -> dict[str, Any]:
        now = self.now()
        return {
            "owner_name": job.owner,
            "job_name": job.name,
            "operation": job.operation,
            "job_mode": job.job_mode,
            "foreign": job.foreign is not None,
            "running": self._is_running(job, now),
            "outcome": job.final_outcome if job.finalized else job.outcome,
            "finalized": job.finalized,
            "visible": not job.vanished,
            "created": job.created,
            "ends": job.end,
            "threads": job.threads,
            "keep_master": job.keep_master,
            "directory": job.directory,
            "log_file": job.log.path or None,
            "dump_files": list(job.dump_names),
            "dump_paths": list(job.dump_paths),
            "object_store": job.object_store,
            "tables": [f"{t.schema}.{t.name}" for t in job.tables],
            "schemas": list(job.schemas),
            "remap_schemas": dict(job.remaps),
            "errors": list(job.error_lines),
            "source_job": job.source_job,
        }

    def jobs(self) -> list[dict[str, Any]]:
        with self._lock:
            self._advance()
            every = [*self._dropped_jobs, *self._jobs.values()]
            return [self._describe(j) for j in sorted(every, key=lambda j: (j.owner, j.name, j.created))]

    def object_store(self) -> dict[str, str]:
        with self._lock:
            self._advance()
            return dict(self._object_store)

    # faults -----------------------------------------------------------------

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        with self._lock:
            kind = spec.get("kind")
            allowed = {
                "status": {"kind", "status", "retry_after", "times", "seconds", "method", "path"},
                "drop": {"kind", "after_bytes", "times", "seconds", "method", "path"},
                "delay": {"kind", "seconds", "times", "method", "path"},
                # The request is handled at once; only its answer is held back (a create whose job
                # exists while the client, timed out, still waits for the 201).
                "late": {"kind", "seconds", "times", "method", "path"},
            }
            if kind not in allowed:
                raise _bad("kind must be one of status, drop, delay, late")
            unknown = set(spec) - allowed[kind]
            if unknown:
                raise _bad(f"unknown fault fields for kind {kind}: {', '.join(sorted(unknown))}")

            def number(key: str, default: Any, *, integer: bool = False, minimum: float = 0) -> Any:
                value = spec.get(key, default)
                if value is None:
                    return None
                ok = isinstance(value, int) if integer else isinstance(value, (int, float))
                if isinstance(value, bool) or not ok or value < minimum or (isinstance(value, float) and not math.isfinite(value)):
                    raise _bad(f"{key} must be a {'whole ' if integer else ''}number >= {minimum}")
                return value

            status = None
            retry_after = None
            if kind == "status":
                status = number("status", 503, integer=True, minimum=400)
                if status is None or status > 599:
                    raise _bad("status must be an HTTP error status (400-599)")
                retry_after = number("retry_after", 1 if status in (429, 503) else None)
            times = number("times", None, integer=True, minimum=1)
            seconds = number("seconds", None)
            if kind in ("delay", "late") and seconds is None:
                raise _bad(f"a {kind} fault needs 'seconds'")
            after_bytes = number("after_bytes", 0, integer=True) if kind == "drop" else 0
            method = spec.get("method")
            if method is not None and (not isinstance(method, str) or not method.isalpha()):
                raise _bad("method must be an HTTP method name or null")
            path = spec.get("path")
            try:
                path_rx = re.compile(path) if path is not None else None
            except (re.error, TypeError) as exc:
                raise _bad(f"path must be a regular expression: {exc}") from exc
            now = self.now()
            fault = _Fault(
                id=next(self._fault_ids),
                kind=kind,
                status=status,
                retry_after=retry_after,
                times=times,
                # For status and drop faults "seconds" bounds how long the rule stays active.
                until=(now + seconds) if (seconds is not None and kind not in ("delay", "late")) else None,
                method=method.upper() if method else None,
                path=path_rx,
                after_bytes=after_bytes or 0,
                seconds=float(seconds or 0),
                created=now,
            )
            self._faults.append(fault)
            return fault.as_dict()

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def remove_fault(self, fault_id: int) -> None:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            if len(self._faults) == before:
                raise EmulatorError(404, f"fault {fault_id} does not exist")

    def take_faults(self, method: str, path: str) -> list[dict[str, Any]]:
        """Faults that apply to this request (each use consumes one of its ``times``)."""
        with self._lock:
            now = self.now()
            hits = []
            keep = []
            for f in self._faults:
                if f.until is not None and now >= f.until:
                    continue
                applies = (f.method is None or f.method == method.upper()) and (
                    f.path is None or f.path.search(path) is not None
                )
                if applies:
                    f.hits += 1
                    hits.append(f.as_dict())
                    if f.times is not None:
                        f.times -= 1
                        if f.times <= 0:
                            continue
                keep.append(f)
            self._faults = keep
            return hits

    # request log --------------------------------------------------------------

    def begin_request(self) -> int:
        with self._lock:
            self._request_seq += 1
            self._in_flight.add(self._request_seq)
            return self._request_seq

    def log_request(self, seq: int, entry: dict[str, Any]) -> None:
        with self._lock:
            self._in_flight.discard(seq)
            if seq > self._cleared_through:
                self._requests.append(entry)
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every request begun so far has been logged; False if some still run at the timeout."""
        with self._lock:
            pending = set(self._in_flight)
            return self._idle.wait_for(lambda: not (pending & self._in_flight), timeout=timeout)

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._requests]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()
            self._cleared_through = self._request_seq
