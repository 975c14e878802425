"""The ORDS releases the emulator models, and the request keys each create endpoint documents in each."""

from __future__ import annotations

__all__ = [
    "ORDS_VERSIONS",
    "DEFAULT_ORDS_VERSION",
    "NEXT_RELEASE",
    "MODELLED_VERSIONS",
    "RELEASE_NUMBERS",
    "TABLE_EXISTS_ACTIONS",
    "endpoint_keys",
]

# The ORDS releases whose Data Pump reference the emulator models (see the README's table).
ORDS_VERSIONS = ("21.2", "24.4", "25.4", "26.3")
DEFAULT_ORDS_VERSION = "26.3"
# Not a real release: one newer than every documented one, whose import declares a key no
# documented release has (table_exists_action), so tests can show a client following the server's
# own description rather than a table written from the reference pages. Kept out of ORDS_VERSIONS
# so that "every documented version" stays what Oracle documents.
NEXT_RELEASE = "next"
MODELLED_VERSIONS = (*ORDS_VERSIONS, NEXT_RELEASE)
# ``info.version`` of each release's description (the full release number ORDS reports).
RELEASE_NUMBERS = {
    "21.2": "21.2.0",
    "24.4": "24.4.0",
    "25.4": "25.4.0",
    "26.3": "26.3.0",
    NEXT_RELEASE: "99.1.0",
}
# Data Pump's TABLE_EXISTS_ACTION values (utilities guide), which the "next" release exposes.
TABLE_EXISTS_ACTIONS = ("SKIP", "APPEND", "TRUNCATE", "REPLACE")

_JOBS_21 = (
    "operation",
    "job_mode",
    "datapump_dir",
    "file_name",
    "filter",
    "name_expressions",
    "schema_expressions",
    "tablespace_expressions",
    "remap_schemas",
    "threads",
)
_EXPORT_21 = (
    "job_mode",
    "datapump_dir",
    "filter",
    "name_expressions",
    "schema_expressions",
    "tablespace_expressions",
    "threads",
)
_IMPORT_21 = (
    "job_mode",
    "datapump_dir",
    "file_name",
    "name_expressions",
    "schema_expressions",
    "tablespace_expressions",
    "remap_schemas",
    "threads",
)
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
_ENDPOINT_KEYS[NEXT_RELEASE] = {
    "jobs": None,
    "export": _ENDPOINT_KEYS["26.3"]["export"],
    "import": (*_ENDPOINT_KEYS["26.3"]["import"], "table_exists_action"),  # type: ignore[misc]
}


def endpoint_keys(version: str, endpoint: str) -> tuple[str, ...] | None:
    """The request keys ``endpoint`` (jobs, export, import) documents in ``version``; None if it has no POST."""
    return _ENDPOINT_KEYS[version][endpoint]
