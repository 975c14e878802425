"""The emulator's settings: what may be set, their defaults, and how each is checked.

Instance settings choose among the ORDS behaviours that vary between versions or are
unknown (README, "Settings"); the per-job scenario knobs say how a job runs and ends.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

from .catalog import is_identifier
from .errors import BadRequest
from .naming import MAX_THREADS
from .versions import DEFAULT_ORDS_VERSION, MODELLED_VERSIONS

__all__ = [
    "OPERATIONS",
    "OUTCOMES",
    "DEFAULT_SETTINGS",
    "JOB_SCENARIO_KEYS",
    "validate_settings",
]

OPERATIONS = ("EXPORT", "IMPORT")
# "refused": the create itself answers 400 with the ORA texts of ora_codes (ora_texts.py), no job.
OUTCOMES = ("success", "errors", "fatal", "crash", "stopped", "refused")
LIST_SUPPORT = ("honoured", "ignored")
Q_SUPPORT = ("honoured", "ignored", "rejected")

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
    # REST-Enabled SQL (POST {alias}/_/sql): on, as on Autonomous Database and wherever database
    # users sign in to the Database API; false answers 404 like an ORDS with restEnabledSql.active=false.
    "rest_enabled_sql": True,
    # A local folder standing for the object store, shared by emulator processes (None: this process only).
    "object_store_dir": None,
    # SYS_CONTEXT('USERENV', 'DB_UNIQUE_NAME' | 'CON_NAME'); None: named after the data directory.
    "db_unique_name": None,
    "con_name": None,
    # What GET …/metadata-catalog/ and …/openapi.json serve: "release" (the modelled release's
    # description), "none" (404, an ORDS that describes nothing), or a description (an OpenAPI
    # object) whose declared create keys the emulator then uses instead of the release's.
    "openapi": "release",
}
# The knobs a queued scenario or PATCH /_emulator/jobs/... sets for one job.
JOB_SCENARIO_KEYS = ("duration", "outcome", "error_count", "ora_codes", "dump_size")

_ORA_CODE_RE = re.compile(r"^ORA-\d{5}$")

# Settings that take one of a few words.
_ENUM_SETTINGS: dict[str, tuple[str, ...]] = {
    "ords_version": MODELLED_VERSIONS,
    "q_support": Q_SUPPORT,
    "offset_support": LIST_SUPPORT,
}


def validate_settings(values: dict[str, Any], *, allowed: tuple[str, ...]) -> dict[str, Any]:
    """Check ``values`` (keys limited to ``allowed``) and return them normalised; BadRequest names the field."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in allowed:
            raise BadRequest(f"unknown scenario setting {key!r}; allowed: {', '.join(allowed)}")
        if key in ("duration", "token_ttl"):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or value < 0
                or math.isinf(value)
                or math.isnan(value)
            ):
                raise BadRequest(f"{key} must be a non-negative number of seconds")
            out[key] = float(value)
        elif key == "outcome":
            if value not in OUTCOMES:
                raise BadRequest(f"outcome must be one of {', '.join(OUTCOMES)}")
            out[key] = value
        elif key == "error_count":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BadRequest("error_count must be a positive integer")
            out[key] = value
        elif key == "ora_codes":
            if value is None:
                out[key] = None
                continue
            if not isinstance(value, list) or not value:
                raise BadRequest('ora_codes must be a non-empty list such as ["ORA-39083"]')
            codes = []
            for code in value:
                if isinstance(code, int) and not isinstance(code, bool):
                    code = f"ORA-{code:05d}"
                if not isinstance(code, str) or not _ORA_CODE_RE.match(code):
                    raise BadRequest(f"invalid ORA code {code!r}; expected ORA-nnnnn")
                codes.append(code)
            out[key] = codes
        elif key == "dump_size":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise BadRequest("dump_size must be a non-negative integer (bytes)")
            out[key] = value
        elif key in ("range_support", "can_create_users", "strict_accept", "rest_enabled_sql"):
            if not isinstance(value, bool):
                raise BadRequest(f"{key} must be true or false")
            out[key] = value
        elif key in _ENUM_SETTINGS:
            if value not in _ENUM_SETTINGS[key]:
                raise BadRequest(f"{key} must be one of {', '.join(_ENUM_SETTINGS[key])}")
            out[key] = value
        elif key == "name_clash_status":
            if value not in (400, 500) or isinstance(value, bool):
                raise BadRequest("name_clash_status must be 400 or 500")
            out[key] = value
        elif key in ("full_default_threads", "list_max_limit"):
            top = MAX_THREADS if key == "full_default_threads" else 10**6
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
                raise BadRequest(f"{key} must be an integer from 1 to {top}")
            out[key] = value
        elif key == "link_origin":
            if value is not None and (
                not isinstance(value, str) or not re.match(r"^https?://[^/\s?#]+$", value)
            ):
                raise BadRequest("link_origin must be null or an origin such as http://host:port (no path)")
            out[key] = value
        elif key == "object_store_dir":
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise BadRequest("object_store_dir must be null or the path of a folder")
            out[key] = None if value is None else os.path.abspath(value)
        elif key in ("db_unique_name", "con_name"):
            if value is not None and not is_identifier(value):
                raise BadRequest(f"{key} must be null or a database name such as ORCLPDB1")
            out[key] = None if value is None else value.upper()
        elif key == "directories":
            if value is not None and (
                not isinstance(value, list) or not all(is_identifier(v) for v in value)
            ):
                raise BadRequest("directories must be null (any) or a list of directory names")
            out[key] = None if value is None else [v.upper() for v in value]
        elif key == "openapi":
            if value in ("release", "none"):
                out[key] = value
                continue
            # An OpenAPI object; description.declared_keys reads what it declares.
            if not isinstance(value, dict) or not isinstance(value.get("paths"), dict):
                raise BadRequest(
                    'openapi must be "release", "none" or an OpenAPI description with a "paths" object'
                )
            out[key] = value
        elif key == "operation":
            if value is not None and (not isinstance(value, str) or value.upper() not in OPERATIONS):
                raise BadRequest("operation must be EXPORT, IMPORT or null")
            out[key] = None if value is None else value.upper()
    return out
