"""Data Pump's ORA texts as the emulator writes them: in a job's log (the ``errors`` and ``fatal``
outcomes with ``ora_codes``) and in a create refused with the ``refused`` outcome.

Each text is Oracle's message for the code (Oracle's error reference, docs.oracle.com/en/error-help/db/),
filled in with the names the emulated job really has: its directory, dump file, owner, schemas,
tables and tablespaces, object-store URI and credential. Codes not listed here are written as
``ORA-nnnnn: emulated error on <object>``. The emulator never imports the client; the client's own
table of hints (``airflow_provider_datapump.hints``) is tested against these lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["ORA_TEXT", "ora_line", "REFUSED_DEFAULT_CODES"]

ORA_TEXT: dict[str, str] = {
    # create-time and file problems
    "ORA-39001": "invalid argument value",
    "ORA-39000": "bad dump file specification",
    "ORA-31640": 'unable to open dump file "{file_path}" for read',
    "ORA-27037": "unable to obtain file status",
    "ORA-31641": 'unable to create dump file "{file_path}"',
    "ORA-27038": "created file already exists",
    "ORA-39143": 'dump file "{file_path}" may be an original export dump file',
    "ORA-39002": "invalid operation",
    "ORA-39070": "Unable to open the log file.",
    "ORA-29283": "invalid file operation",
    "ORA-39087": "directory name {directory} is invalid",
    # DATA_PUMP_DIR in a pluggable database created with PATH_PREFIX (oracle/docker-images#2443, #2587)
    "ORA-39006": "internal error",
    "ORA-39065": "unexpected master process exception in DISPATCH",
    "ORA-65100": "missing or invalid path prefix - /opt/oracle/admin/ORCLCDB/dpdump/E6FC41838DEA1227E053020011AC3834",
    # privileges
    "ORA-31631": "privileges are required",
    "ORA-01031": "insufficient privileges",
    # DBMS_CLOUD behind credential_name
    "ORA-20401": "Authorization failed for URI - {uri}",
    "ORA-20404": "Object not found - {uri}",
    # objects
    "ORA-39083": "Object type TABLE:{obj} failed to create with error:",
    "ORA-31684": "Object type TABLE:{obj} already exists",
    "ORA-39151": "Table {obj} exists. All dependent metadata and data will be skipped due to table_exists_action of skip",
    "ORA-39082": 'Object type VIEW:"{schema}"."{table}_V" created with compilation warnings',
    # A grant in the dump to a role the target lacks; the role's name is the harness's.
    "ORA-01917": "user or role '{schema}_READER' does not exist",
    "ORA-01918": "user '{schema}' does not exist",
    "ORA-39165": "Schema {schema} was not found.",
    "ORA-31655": "no data or metadata objects selected for job",
    # undo and space
    "ORA-01555": 'snapshot too old: rollback segment number 9 with name "_SYSSMU9_1650507775$" too small',
    "ORA-01653": "unable to extend table {schema}.{table} by 128 in tablespace {tablespace}",
    "ORA-01652": "unable to extend temp segment by 128 in tablespace TEMP",
    # Data Pump logs the resumable wait with the error that caused it, on the next line.
    "ORA-39171": "Job is experiencing a resumable wait.\n"
    "ORA-01653: unable to extend table {schema}.{table} by 128 in tablespace {tablespace}",
    # fatal endings
    "ORA-39126": "Worker unexpected fatal error in KUPW$WORKER.MAIN [TABLE_DATA:{obj}]",
    "ORA-31626": "job does not exist",
}

# What a create answers with the ``refused`` outcome and no ``ora_codes``: the role is missing.
REFUSED_DEFAULT_CODES = ("ORA-31631",)


def ora_line(code: str, values: Mapping[str, str]) -> str:
    """``ORA-nnnnn: <Oracle's text>`` with the job's names."""
    text = ORA_TEXT.get(code, "emulated error on {obj}")
    return f"{code}: {text.format_map(_Defaults(values))}"


def ora_lines(codes: Sequence[str], values: Mapping[str, str]) -> list[str]:
    return [ora_line(code, values) for code in codes]


class _Defaults(dict[str, str]):
    """A name the job does not have is written as Oracle's placeholder would read."""

    def __init__(self, values: Mapping[str, str]):
        super().__init__(values)

    def __missing__(self, key: str) -> str:
        return {"obj": '"EMULATED_OBJECT"', "schema": "EMULATED", "table": "OBJECT"}.get(key, key.upper())
