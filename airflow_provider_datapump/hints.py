"""What an ORA code means and what to do about it: the one table of known Data Pump failures.

A failed task names its job's final line and ORA lines; this module adds, under them, the likely
cause and the action for each code it knows, filled in with the real names (the file, the
directory, the schema, the credential, the user and the role to grant). The same table renders the
docs' troubleshooting page (``markdown_table``), so the text is written once.

It is pure (no network, no Airflow imports): the operators and the sensor call ``hint_block`` with
the ORA lines, from a create request's error answer or from the job's log, and what they know of
the request.

Codes come in chains (``ORA-39001`` / ``ORA-39000`` / ``ORA-31640``). A *wrapper* code says only
that something below it went wrong; its hint is shown only when no code below it has one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["HINTS", "Facts", "Hint", "facts_from", "hint_block", "hints_for", "markdown_table"]

_ERR = "https://docs.oracle.com/en/error-help/db/{}"
_DBMS_CLOUD = "DBMS_CLOUD reference: https://docs.oracle.com/iaas/autonomous-database-serverless/doc/dbms-cloud-subprograms.html"


@dataclass(frozen=True)
class Hint:
    """One known failure. ``cause`` and ``action`` are templates over ``Facts`` names."""

    code: str
    message: str  # Oracle's message text for the code
    cause: str
    action: str
    sources: tuple[str, ...]
    wrapper: bool = False

    @property
    def error_reference(self) -> str:
        return _ERR.format(self.code.lower())


_DIRECTORY_SQL = "SELECT directory_path FROM dba_directories WHERE directory_name = '{directory}'"

HINTS: tuple[Hint, ...] = (
    Hint(
        "ORA-39001",
        "invalid argument value",
        "Data Pump refused an argument of the request; the ORA line under it names which.",
        "Read the next ORA line. The request body is in the task's Rendered Template view (rendered_body).",
        ("Oracle error reference",),
        wrapper=True,
    ),
    Hint(
        "ORA-39000",
        "bad dump file specification",
        "The dump file set {file} in directory {directory} cannot be used.",
        "Read the next ORA line: ORA-31640 (not there or not readable), ORA-31641 (already exists), "
        "ORA-39143 (not a Data Pump dump).",
        ("Oracle error reference",),
        wrapper=True,
    ),
    Hint(
        "ORA-31640",
        "unable to open dump file for read",
        "The import cannot read dump file {file} (directory {directory}): it is not there (the export "
        "wrote it elsewhere, under another name, or has not finished), or the oracle OS user cannot read it.",
        "Check that {file} exists in directory {directory} on the database server ({directory_sql}) and readable by the "
        "oracle OS user. Give the import from_job=<export task>.output so it takes the export's own file "
        "name and directory; a dump in object storage needs its https:// URI and credential_name.",
        ("Oracle error reference",),
    ),
    Hint(
        "ORA-31641",
        "unable to create dump file",
        "The export's dump file {file} already exists: Data Pump never overwrites a dump file.",
        "Make file_name unique per run (a folder or name per night, e.g. {{{{ ds_nodash }}}}), or delete "
        "{file} first. Leave file_name unset to get a one-off name.",
        (
            "Oracle error reference",
            "this project's refresh runbook, section 7 (Data Pump does not overwrite a dump file)",
        ),
    ),
    Hint(
        "ORA-39143",
        "dump file may be an original export dump file",
        "{file} was written by the original exp utility, not by Data Pump (expdp, DBMS_DATAPUMP, ORDS).",
        "Data Pump cannot read it: import it with the original imp utility, or export the source again "
        "with Data Pump.",
        ("Oracle error reference", "benqmamun/POS-SOFTWARE-Oracle-APEX#2"),
    ),
    Hint(
        "ORA-39002",
        "invalid operation",
        "Data Pump could not start the job; the ORA line under it says why.",
        "Read the next ORA line.",
        ("Oracle error reference",),
        wrapper=True,
    ),
    Hint(
        "ORA-39070",
        "Unable to open the log file.",
        "Data Pump could not write the job's log file in directory {directory}: the directory object "
        "or its path on the server is missing, the oracle OS user cannot write there, or {user} has no "
        "WRITE on it.",
        "As a DBA: GRANT READ, WRITE ON DIRECTORY {directory} TO {user}; and check that the path of "
        "{directory} exists and is writable by the oracle OS user ({directory_sql}).",
        (
            "Oracle error reference",
            "MaksymBilenko/docker-oracle-12c#46",
            "MaksymBilenko/docker-oracle-12c#70",
        ),
        wrapper=True,
    ),
    Hint(
        "ORA-29283",
        "invalid file operation",
        "A file in directory {directory} could not be opened: its path on the server does not exist "
        "or the oracle OS user cannot write there, or {user} lacks READ, WRITE on {directory}.",
        "As a DBA: GRANT READ, WRITE ON DIRECTORY {directory} TO {user}; then check the path "
        "({directory_sql}) exists on the database server and belongs to the oracle OS user.",
        (
            "Oracle error reference",
            "MaksymBilenko/docker-oracle-12c#46",
            "MaksymBilenko/docker-oracle-12c#70",
            "MaksymBilenko/docker-oracle-xe-11g#22",
        ),
    ),
    Hint(
        "ORA-39087",
        "directory name is invalid",
        "There is no directory object {directory} that {user} may use: it does not exist in this "
        "database (names are upper case unless created quoted), or {user} has no privilege on it.",
        "As a DBA: CREATE DIRECTORY {directory} AS '<path on the server>'; GRANT READ, WRITE ON DIRECTORY "
        "{directory} TO {user}; or set datapump_dir to one that exists (SELECT directory_name FROM all_directories).",
        ("Oracle error reference",),
    ),
    Hint(
        "ORA-39006",
        "internal error",
        "Data Pump failed before the job ran; the ORA lines under it name the error (in a pluggable "
        "database often ORA-65100).",
        "Read the ORA lines under it.",
        ("Oracle error reference", "oracle/docker-images#2443", "oracle/docker-images#2587"),
        wrapper=True,
    ),
    Hint(
        "ORA-39065",
        "unexpected master process exception in DISPATCH",
        "The job's control process failed while starting; the ORA lines under it name the error.",
        "Read the ORA lines under it.",
        ("Oracle error reference", "oracle/docker-images#2443", "oracle/docker-images#2587"),
        wrapper=True,
    ),
    Hint(
        "ORA-65100",
        "missing or invalid path prefix",
        "Directory {directory} points to {path}, which is not under the pluggable database's PATH_PREFIX: "
        "in a PDB created with a PATH_PREFIX, a DATA_PUMP_DIR whose path the CDB set cannot be used.",
        "As a DBA in the PDB: SELECT property_value FROM database_properties WHERE property_name = "
        "'PATH_PREFIX'; CREATE OR REPLACE DIRECTORY {directory} AS '<a path relative to that prefix>' "
        "(with a PATH_PREFIX only relative paths are accepted: ORA-65254); "
        "GRANT READ, WRITE ON DIRECTORY {directory} TO {user}; or use another directory under it in datapump_dir.",
        (
            "Oracle error reference",
            "oracle/docker-images#2443",
            "oracle/docker-images#2506",
            "oracle/docker-images#2587",
        ),
    ),
    Hint(
        "ORA-39151",
        "Table exists. All dependent metadata and data will be skipped",
        "Table {object} already exists in the target, so the import skipped its data (ORDS has no "
        "table_exists_action; Data Pump's default is SKIP).",
        "Drop the target schema just before the import: replace_schemas=['{schema}']; or import into a "
        "new schema (remap_schemas). If skipping is what you want: allowed_ora_codes=['ORA-39151', 'ORA-31684'].",
        (
            "Oracle error reference",
            "this project's README, Import (an import is not idempotent: ORDS has no table_exists_action)",
        ),
    ),
    Hint(
        "ORA-31684",
        "Object type already exists",
        "{object} already exists in the target, so the import did not create it again.",
        "Drop the target schema just before the import: replace_schemas=['{schema}']; or, if the existing "
        "objects are what you want, allowed_ora_codes=['ORA-31684', 'ORA-39151'].",
        (
            "Oracle error reference",
            "this project's README, Import (an import is not idempotent: ORDS has no table_exists_action)",
        ),
    ),
    Hint(
        "ORA-39083",
        "Object type failed to create with error",
        "Data Pump could not create {object}; the ORA line under it says why.",
        "Read the next ORA line.",
        ("Oracle error reference",),
        wrapper=True,
    ),
    Hint(
        "ORA-01918",
        "user does not exist",
        "Schema {schema} does not exist in the target, and this import does not create it (a TABLE-mode "
        "import, or a dump without its CREATE USER).",
        "Import in SCHEMA mode from a SCHEMA export (the dump then creates {schema}), or create {schema} first.",
        ("Oracle error reference", "this project's README, Import (a remap target in a TABLE-mode import)"),
    ),
    Hint(
        "ORA-01917",
        "user or role does not exist",
        "The dump grants a privilege to {grantee}, which does not exist in the target: the object was "
        "created without that grant.",
        "Create it in the target (as a DBA: CREATE ROLE {grantee}; or the user) and run the import again, "
        "or grant by hand later; if the grant is not wanted there: allowed_ora_codes=['ORA-39083', 'ORA-01917'].",
        ("Oracle error reference",),
    ),
    Hint(
        "ORA-31631",
        "privileges are required",
        "{user} lacks a privilege this job needs: exporting or importing a schema other than its own, "
        "FULL mode, or a job of another owner.",
        "As a DBA: GRANT {role} TO {user}; or let the job touch only {user}'s own schema.",
        ("Oracle error reference",),
    ),
    Hint(
        "ORA-01031",
        "insufficient privileges",
        "{user} lacks a privilege the job needed (a Data Pump role, or a privilege on an object it creates).",
        'As a DBA: GRANT {role} TO {user}; the runbook\'s "What to grant" lists the rest.',
        ("Oracle error reference",),
    ),
    Hint(
        "ORA-20401",
        "Authorization failed for URI",
        "The object store refused DBMS_CLOUD credential {credential} for {uri}: a wrong user name or auth "
        "token (on OCI an auth token, not the console password), or that user may not "
        "write (export) or read (import) the bucket.",
        "As {user}: BEGIN DBMS_CLOUD.DROP_CREDENTIAL('{credential}'); DBMS_CLOUD.CREATE_CREDENTIAL("
        "credential_name => '{credential}', username => '<user>', password => '<auth token>'); END; "
        "and check the bucket's policy for that user.",
        (
            _DBMS_CLOUD,
            "reported in this project's issue #28; the message text is recalled, no captured answer was found",
        ),
    ),
    Hint(
        "ORA-20404",
        "Object not found",
        "There is no object at {uri} that credential {credential} can see: the URI (region, namespace, "
        "bucket or object name) is wrong, the export did not write it, or the credential cannot list the bucket.",
        "List the bucket with the same credential (SELECT object_name FROM DBMS_CLOUD.LIST_OBJECTS("
        "'{credential}', '<bucket URI>')) and give the import the export's own URI (from_job).",
        (
            _DBMS_CLOUD,
            "reported in this project's issue #28; the message text is recalled, no captured answer was found",
        ),
    ),
    Hint(
        "ORA-39082",
        "Object type created with compilation warnings",
        "{object} was created but compiled with warnings: it refers to an object, grant or schema that "
        "is not in the target (yet). The data is in.",
        "Recompile in the target (EXEC UTL_RECOMP.RECOMP_SERIAL('{schema}')) and read DBA_ERRORS; "
        "to accept it: allowed_ora_codes=['ORA-39082'].",
        ("Oracle error reference",),
    ),
    Hint(
        "ORA-01555",
        "snapshot too old",
        "The export of {schema_list} reads each table as it was when it began unloading it, and undo "
        "it needed was overwritten before it finished: a table took longer than the database keeps undo.",
        "Raise UNDO_RETENTION beyond the export's run time (and the undo tablespace with it, or "
        "RETENTION GUARANTEE), run it when fewer changes happen, or make it shorter (threads, smaller "
        "selections); then run the task again.",
        ("Oracle error reference",),
    ),
    Hint(
        "ORA-01653",
        "unable to extend table",
        "Tablespace {tablespace} is full: table {object} could not grow.",
        "As a DBA: ALTER TABLESPACE {tablespace} ADD DATAFILE SIZE 1G AUTOEXTEND ON; (or resize a data "
        "file), and give the schema a quota (ALTER USER {schema} QUOTA UNLIMITED ON {tablespace}); then run again.",
        ("Oracle error reference",),
    ),
    Hint(
        "ORA-01652",
        "unable to extend temp segment",
        "Tablespace {tablespace} ran out of space for a temporary segment (sorting, index builds).",
        "As a DBA: ALTER TABLESPACE {tablespace} ADD TEMPFILE SIZE 1G AUTOEXTEND ON; (or ADD DATAFILE for a "
        "permanent tablespace); then run again.",
        ("Oracle error reference",),
    ),
    Hint(
        "ORA-39171",
        "Job is experiencing a resumable wait.",
        "The job waited for space; the ORA line under it names the tablespace ({tablespace}).",
        "Add space to {tablespace} within the resumable timeout (ALTER TABLESPACE {tablespace} ADD "
        "DATAFILE ...), or the job fails when the wait times out.",
        ("Oracle error reference",),
    ),
    Hint(
        "ORA-31655",
        "no data or metadata objects selected for job",
        "The selection matched nothing in {schema_list}.",
        "Check schemas, tables and name_expressions: names are upper case unless created quoted, and "
        "expressions compare exactly (the ORA-39165/ORA-39166 lines name what was not found).",
        ("Oracle error reference",),
    ),
    Hint(
        "ORA-39165",
        "Schema was not found.",
        "Schema {schema} is not in the database (export) or in the dump set (import).",
        "Check the name's spelling and case (SELECT username FROM all_users WHERE username = '{schema}'); "
        "an import selects from what the export wrote.",
        ("Oracle error reference",),
    ),
)

_BY_CODE = {h.code: h for h in HINTS}


# --------------------------------------------------------------------------------------------
# The real names: from the request and the job, then from the ORA lines themselves
# --------------------------------------------------------------------------------------------

_ROLES = {"EXPORT": "DATAPUMP_EXP_FULL_DATABASE", "IMPORT": "DATAPUMP_IMP_FULL_DATABASE"}


@dataclass(frozen=True)
class Facts:
    """What is known of the failed request: every field optional."""

    operation: str | None = None  # EXPORT | IMPORT
    user: str | None = None  # the database user the job runs as
    directory: str | None = None
    file: str | None = None
    credential: str | None = None
    schemas: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)

    def values(self) -> dict[str, str]:
        op = (self.operation or "").upper()
        directory = self.directory or "<the directory object>"
        user = self.user or "the connection's database user"
        values: dict[str, str] = {
            "user": user,
            "directory": directory,
            "file": self.file or "<the dump file>",
            "credential": self.credential or "<the credential_name>",
            "uri": self.file
            if self.file and self.file.lower().startswith("https://")
            else "<the object URI>",
            "schema": self.schemas[0] if self.schemas else user,
            "schema_list": ", ".join(self.schemas) if self.schemas else f"the selection of {user}",
            "role": _ROLES.get(
                op, "DATAPUMP_EXP_FULL_DATABASE (export) or DATAPUMP_IMP_FULL_DATABASE (import)"
            ),
            "object": "<the object>",
            "tablespace": "<the tablespace>",
            "grantee": "<the user or role>",
            "path": "the directory's path",
        }
        values.update(self.extra)
        values["directory_sql"] = _DIRECTORY_SQL.format(directory=values["directory"])
        return values


_Q = r'"([^"]+)"'
# What an ORA line of each code carries, as Oracle words it.
_LINE_FACTS: dict[str, re.Pattern[str]] = {
    "ORA-31640": re.compile(r'dump file "(?P<file>[^"]+)"'),
    "ORA-31641": re.compile(r'dump file "(?P<file>[^"]+)"'),
    "ORA-39143": re.compile(r'dump file "(?P<file>[^"]+)"'),
    "ORA-39087": re.compile(r"directory name (?P<directory>[^\s]+) is invalid"),
    "ORA-65100": re.compile(r"path prefix\s*-\s*(?P<path>\S+)"),
    "ORA-01918": re.compile(r"user '(?P<schema>[^']+)'"),
    "ORA-01917": re.compile(r"user or role '(?P<grantee>[^']+)'"),
    "ORA-39165": re.compile(r"Schema (?P<schema>\S+?)\.? was not found"),
    "ORA-20401": re.compile(r"URI\s*-\s*(?P<uri>\S+)"),
    "ORA-20404": re.compile(r"not found\s*-\s*(?P<uri>\S+)"),
    "ORA-01653": re.compile(r"table (?P<object>\S+) by \d+ in tablespace (?P<tablespace>\S+)"),
    "ORA-01652": re.compile(r"in tablespace (?P<tablespace>\S+)"),
}
_OBJECT = re.compile(rf"(?:{_Q}\.)?{_Q}")
# The codes whose line names the object they are about as "SCHEMA"."NAME" (or "NAME").
_OBJECT_CODES = frozenset({"ORA-39151", "ORA-31684", "ORA-39083", "ORA-39082"})
_ORA_LINE = re.compile(r"\b(ORA-\d{5})\b")


def _line_facts(code: str, line: str) -> dict[str, str]:
    found: dict[str, str] = {}
    pattern = _LINE_FACTS.get(code)
    if pattern is not None:
        match = pattern.search(line)
        if match:
            found.update({k: v.strip("'\".,") for k, v in match.groupdict().items() if v})
    if "object" not in found and code in _OBJECT_CODES:
        obj = _OBJECT.search(line.split(code, 1)[-1])
        if obj:
            schema, name = obj.group(1), obj.group(2)
            found["object"] = f'"{schema}"."{name}"' if schema else f'"{name}"'
            found.setdefault("schema", schema or name)
    if "object" in found and "." in found["object"] and "schema" not in found:
        found["schema"] = found["object"].split(".", 1)[0].strip('"')
    return found


def hints_for(lines: Iterable[str], facts: Facts) -> list[str]:
    """One line per known code in ``lines`` (ORA text, in order), wrappers only when nothing below them is known."""
    seen: dict[str, str] = {}
    for line in lines:
        for code in _ORA_LINE.findall(line):
            seen.setdefault(code, line)
    known = [c for c in seen if c in _BY_CODE]
    specific = [c for c in known if not _BY_CODE[c].wrapper]
    shown = specific or known
    # A value a line names (the tablespace behind ORA-39171) helps every hint of the same answer.
    shared: dict[str, str] = {}
    for code, line in seen.items():
        for key, value in _line_facts(code, line).items():
            shared.setdefault(key, value)
    out = []
    for code in shown:
        hint = _BY_CODE[code]
        # What this code's own line names wins over the other lines', and both over the request's.
        values = replace(facts, extra={**shared, **_line_facts(code, seen[code]), **facts.extra}).values()
        cause = hint.cause.format_map(values)
        action = hint.action.format_map(values)
        out.append(f"{code} ({hint.message}): {cause} What to do: {action}")
    return out


def hint_block(lines: Iterable[str], facts: Facts) -> str:
    """The text a failure message ends with ("" when no code is known)."""
    hints = hints_for(lines, facts)
    if not hints:
        return ""
    return "What the ORA codes mean (airflow_provider_datapump.hints):\n" + "\n".join(f"  {h}" for h in hints)


def facts_from(
    result: Mapping[str, Any] | None = None, request: Mapping[str, Any] | None = None, user: str | None = None
) -> Facts:
    """The facts a job result (its XCom dict) and the request body as sent give."""
    result = result or {}
    request = request or {}
    schemas: list[str] = []
    remaps = request.get("remap_schemas")
    if isinstance(remaps, list):
        schemas += [str(r.get("target")) for r in remaps if isinstance(r, Mapping) and r.get("target")]
    schemas += [str(s) for s in result.get("schemas") or () if s not in schemas]
    for expr in request.get("schema_expressions") or ():
        if isinstance(expr, Mapping):
            schemas += [
                s for s in re.findall(r"'([^']+)'", str(expr.get("expression", ""))) if s not in schemas
            ]
    file = request.get("file_name") or result.get("dump_file_template")
    directory = request.get("datapump_dir") or result.get("datapump_dir")
    if not directory and request:
        directory = "DATA_PUMP_DIR"  # what ORDS uses when the request names no directory
    return Facts(
        operation=str(request.get("operation") or result.get("operation") or "") or None,
        user=user or result.get("owner_name"),
        directory=directory,
        file=str(file) if file else None,
        credential=request.get("credential_name"),
        schemas=tuple(schemas),
    )


def markdown_table() -> str:
    """The troubleshooting page's table, from HINTS (placeholders shown as <name>)."""
    # Every name a hint can use, as the reader fills it in.
    placeholders = {key: f"<{key}>" for key in Facts().values()}
    placeholders["schema_list"] = "<the selected schemas>"
    placeholders["role"] = "DATAPUMP_EXP_FULL_DATABASE (export) or DATAPUMP_IMP_FULL_DATABASE (import)"
    placeholders["directory_sql"] = _DIRECTORY_SQL.format(directory="<directory>")

    def cell(text: str) -> str:
        return text.format_map(placeholders).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")

    rows = ["| Code and Oracle's message | Likely cause | What to do | Sources |", "|---|---|---|---|"]
    for h in HINTS:
        sources = ", ".join(
            f"[{s}]({h.error_reference})" if s == "Oracle error reference" else _link_issue(s)
            for s in h.sources
        )
        kind = " (a wrapper: shown when nothing under it is known)" if h.wrapper else ""
        rows.append(
            f'| <span id="{h.code.lower()}">**{h.code}**</span><br>{cell(h.message)}{kind} | {cell(h.cause)} '
            f"| {cell(h.action)} | {sources} |"
        )
    return "\n".join(rows)


def _link_issue(source: str) -> str:
    """``owner/repo#N`` becomes a GitHub link; other sources stay text."""
    if source.startswith("DBMS_CLOUD reference: "):
        return f"[DBMS_CLOUD reference]({source.split(': ', 1)[1]})"
    match = re.fullmatch(r"([\w.-]+/[\w.-]+)#(\d+)", source)
    if not match:
        return source.replace("|", "\\|")
    repo, number = match.groups()
    return f"[{source}](https://github.com/{repo}/issues/{number})"
