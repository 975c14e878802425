"""The rules of ``replace_schemas``: which schemas an import may drop before it runs, and when not.

An import may drop (``DROP USER ... CASCADE``) only schemas it writes itself, on its own database,
that are not Oracle's and not the user it signs in as, in a mode whose dump brings the whole
schema back, and that no Data Pump job is using. Everything that can be decided without a request
is decided here (pure: no network, no Airflow), so the operator can refuse at parse time or at the
start of execute before anything is sent; the run-time rules take what SQL or ORDS answered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_datapump.exceptions import DataPumpValidationError
from airflow_provider_datapump.hooks.ords.settings import origin
from airflow_provider_datapump.payloads import identifier
from airflow_provider_datapump.selection import listed_names

__all__ = [
    "FIELD",
    "ORACLE_MAINTAINED",
    "check_database_identities",
    "check_static",
    "database_key",
    "export_read_schemas",
    "is_oracle_maintained",
    "jobs_in_use",
    "normalize_replace_schemas",
    "refuse",
    "schemas_named_in_log",
    "written_schemas",
]

FIELD = "replace_schemas"

# Oracle-maintained accounts (DBA_USERS.ORACLE_MAINTAINED = 'Y' on 12c to 23ai), and the accounts
# ORDS and Autonomous Database run on, which are not flagged but must never be dropped by a job.
# The run-time check (user_info(...).oracle_maintained) catches the ones a release adds.
ORACLE_MAINTAINED = frozenset(
    {
        "ANONYMOUS", "APPQOSSYS", "AUDSYS", "AVRSYS", "CTXSYS", "DBSFWUSER", "DBSNMP", "DGPDB_INT",
        "DIP", "DVF", "DVSYS", "FLOWS_FILES", "GGSHAREDCAP", "GGSYS", "GSMADMIN_INTERNAL",
        "GSMCATUSER", "GSMROOTUSER", "GSMUSER", "LBACSYS", "MDDATA", "MDSYS", "OJVMSYS", "OLAPSYS",
        "OPS$ORACLE", "ORACLE_OCM", "ORDDATA", "ORDPLUGINS", "ORDSYS", "OUTLN",
        "REMOTE_SCHEDULER_AGENT", "SI_INFORMTN_SCHEMA", "SPATIAL_CSW_ADMIN_USR",
        "SPATIAL_WFS_ADMIN_USR", "SYS", "SYS$UMF", "SYSBACKUP", "SYSDG", "SYSKM", "SYSRAC", "SYSTEM",
        "WMSYS", "XDB", "XS$NULL",
        # ORDS's own accounts and Autonomous Database's administrator and service users.
        "ORDS_METADATA", "ORDS_PUBLIC_USER", "ADMIN", "C##CLOUD$SERVICE", "C##ADP$SERVICE",
        "C##OMLIDM", "GGADMIN", "GRAPH$METADATA", "RMAN$VPC",
    }
)  # fmt: skip
_MAINTAINED_PREFIXES = ("APEX_",)  # APEX_PUBLIC_USER, APEX_230200, APEX_LISTENER, ...


def refuse(reason: str) -> DataPumpValidationError:
    return DataPumpValidationError(FIELD, reason)


def normalize_replace_schemas(value: Any) -> list[str]:
    """A list of names or a comma string → upper-case Oracle identifiers, in order, once each."""
    if value is None:
        return []
    if isinstance(value, str):
        items: list[Any] = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise refuse(
            f"must be a list of schema names or a comma-separated string, not {type(value).__name__}"
        )
    out: list[str] = []
    for item in items:
        name = identifier(FIELD, item)
        if name not in out:
            out.append(name)
    return out


def is_oracle_maintained(name: str) -> bool:
    return name in ORACLE_MAINTAINED or name.startswith(_MAINTAINED_PREFIXES)


def _selected_schemas(body: Mapping[str, Any]) -> set[str] | None:
    """The schemas the body's schema_expressions select (ANDed); None when they cannot tell."""
    expressions = [
        i.get("expression") for i in body.get("schema_expressions") or () if isinstance(i, Mapping)
    ]
    if not expressions:
        return None  # Data Pump's default then depends on the dump and on the importer's privileges
    selected: set[str] | None = None
    for text in expressions:
        names = listed_names(text) if isinstance(text, str) else None
        if names is None:
            return None
        selected = names if selected is None else selected & names
    return selected


def written_schemas(body: Mapping[str, Any]) -> set[str] | None:
    """The schemas a validated import body writes: the remap targets of the selected schemas, and
    the selected schemas that are not remapped. None when the body cannot tell (raw expressions,
    FULL mode or no selection, without a remap)."""
    remaps = {
        str(r["source"]): str(r["target"])
        for r in body.get("remap_schemas") or ()
        if isinstance(r, Mapping) and "source" in r and "target" in r
    }
    mode = str(body.get("job_mode") or "SCHEMA").upper()
    selected = _selected_schemas(body) if mode != "FULL" else None
    if selected is None:
        return set(remaps.values()) or None
    return {remaps.get(s, s) for s in selected}


def export_read_schemas(source: Mapping[str, Any]) -> set[str] | None:
    """The schemas a from_job export read; None for a FULL export (every schema)."""
    if str(source.get("job_mode") or "SCHEMA").upper() == "FULL":
        return None
    listed = source.get("schemas")
    if isinstance(listed, list):
        return {str(s).upper() for s in listed}
    return {str(o.get("schema")).upper() for o in source.get("objects") or () if isinstance(o, Mapping)}


def check_static(
    names: list[str], body: Mapping[str, Any] | None, *, selection_pending: bool = False
) -> None:
    """The refusals that need no request and no connection (parse time, or the start of execute).

    ``body`` None (or ``selection_pending``) skips what depends on a selection that from_job
    will still fill in at run time.
    """
    for name in names:
        if is_oracle_maintained(name):
            raise refuse(
                f"{name} is an Oracle-maintained (or ORDS/Autonomous service) account; it is never dropped"
            )
    if not names or body is None:
        return
    mode = str(body.get("job_mode") or "SCHEMA").upper()
    if mode in ("TABLE", "TABLESPACE"):
        raise refuse(
            f"this import runs in {mode} mode: dropping a whole schema would lose everything the dump does "
            "not bring back; replace schemas only with a SCHEMA or FULL import"
        )
    if selection_pending:
        return
    written = written_schemas(body)
    if written is None:
        raise refuse(
            "cannot tell which schemas this import writes (raw expressions, or FULL mode or no selection "
            "without remap_schemas); name them with schemas= or remap_schemas"
        )
    foreign = [n for n in names if n not in written]
    if foreign:
        raise refuse(
            f"{', '.join(foreign)} {'is' if len(foreign) == 1 else 'are'} not written by this import, which "
            f"writes {', '.join(sorted(written)) or 'no schema'}; only a schema the import recreates may be dropped"
        )


def database_key(url: Any) -> tuple[str, str, int, str] | None:
    """What identifies a database behind an ORDS URL: origin and context root (plus the optional
    database or pool segment), without the schema alias, which differs per schema user.

    Takes a connection's base URL (up to the alias) or a job's URL (``.../_/db-api/...``)."""
    if not isinstance(url, str):
        return None
    scheme, host, port = origin(url)
    if scheme not in ("http", "https") or not host:
        return None
    path = urlsplit(url).path.split("/_/", 1)[0].strip("/")
    segments = [s for s in path.split("/") if s]
    if not segments:
        return None
    return scheme, host, port, "/".join(s.lower() for s in segments[:-1])


def check_database_identities(
    shared: Iterable[str], mine: Mapping[str, Any], theirs: Mapping[str, Any]
) -> None:
    """Refuse when both connections answered the same (db_unique_name, con_name)."""
    key = ("db_unique_name", "con_name")
    if all(mine.get(k) for k in key) and [mine.get(k) for k in key] == [theirs.get(k) for k in key]:
        raise refuse(
            f"{', '.join(sorted(shared))}: the from_job export read it on this same database "
            f"({mine.get('db_unique_name')}/{mine.get('con_name')}); dropping it would drop the source"
        )


_QUOTED_OWNER = re.compile(r'"([A-Z][A-Z0-9_$#]{0,127})"\."')
_USER_OBJECT = re.compile(r'USER:"([A-Z][A-Z0-9_$#]{0,127})"')


def schemas_named_in_log(text: str, job: tuple[str, str] | None = None) -> set[str]:
    """Schemas an import's log names (``"S"."T"`` objects, ``USER:"S"``): what it writes so far.

    ``job`` is the importing job's ``(owner, name)``: its log names its own control table
    (``Starting "OWNER"."JOB"``, ``Master table "OWNER"."JOB" ...``), which says nothing of where it
    writes. Counted, a young import's log would look as if it wrote only its owner.
    """
    if job is not None:
        text = text.replace(f'"{job[0]}"."{job[1]}"', "")
    return set(_QUOTED_OWNER.findall(text)) | set(_USER_OBJECT.findall(text))


def jobs_in_use(
    names: Iterable[str],
    running: Iterable[Mapping[str, Any]],
    *,
    me: tuple[str, str] | None,
    same_dump_set: Callable[[Mapping[str, Any]], bool],
    targets_of: Callable[[Mapping[str, Any]], set[str] | None],
) -> dict[str, list[str]]:
    """Which running jobs hold each schema: ``{schema: ["OWNER.JOB (why)", ...]}``.

    A job that is not NOT RUNNING holds a schema when it is owned by it, or it is an IMPORT reading
    the same dump set as this import (an earlier try, or a twin), or it is an IMPORT whose log names
    the schema; an import whose targets cannot be read (``targets_of`` None) holds every schema.
    ``me`` is this task's own job, never counted.
    """
    wanted = list(names)
    held: dict[str, list[str]] = {}
    for job in running:
        if str(job.get("state") or "").upper() == "NOT RUNNING":
            continue
        owner, name = str(job.get("owner_name") or ""), str(job.get("job_name") or "")
        if me is not None and (owner, name) == me:
            continue
        ident = f"{owner}.{name}"
        for schema in wanted:
            if owner.upper() == schema:
                held.setdefault(schema, []).append(f"{ident} (owned by {schema})")
        if str(job.get("operation") or "").upper() != "IMPORT":
            continue
        if same_dump_set(job):
            for schema in wanted:
                held.setdefault(schema, []).append(f"{ident} (an import of the same dump set)")
            continue
        targets = targets_of(job)
        for schema in wanted:
            if targets is None:
                held.setdefault(schema, []).append(f"{ident} (an import whose targets cannot be read)")
            elif schema in targets:
                held.setdefault(schema, []).append(f"{ident} (an import writing {schema})")
    return {s: list(dict.fromkeys(v)) for s, v in held.items()}
