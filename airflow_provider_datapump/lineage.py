"""OpenLineage for the export, import and fetch operators (the optional ``openlineage`` extra).

Airflow's OpenLineage listener calls the operators' ``get_openlineage_facets_on_complete`` and
``..._on_failure`` after a task ends; those import this module then, never at DAG-parse time, and
this module imports the OpenLineage packages only inside the functions that build facets. Without
``apache-airflow-providers-openlineage`` installed there is no listener, nothing calls in here, and
nothing changes.

Datasets are named by the OpenLineage naming spec (spec/Naming.md): an Oracle table is namespace
``oracle://{host}:{port}``, name ``{serviceName}.{schema}.{table}``. ORDS knows its own URL, not the
database listener behind it, so where the host, port and service come from is decided once, in
:func:`database_identity`:

1. ``oracle_conn_id``, when the task has one: what Airflow's Oracle provider reports for that
   connection (the same namespace Airflow's SQL operators use for it);
2. the ORDS connection's ``lineage_database`` extra, ``host[:port]/service_name``;
3. otherwise a namespace derived from the ORDS URL, ``ords://{host}:{port}`` with the ORDS path
   standing for the service, and a warning naming the field to set. It has its own scheme so that
   it can never be mistaken for, or collide with, a real listener's ``oracle://`` namespace.

Dump files in a directory object are named ``{serviceName}/{DIRECTORY}/{file}`` in the database's
namespace (the directory lives in that database); dumps written to object storage by URI are named
by that URI (namespace ``scheme://host``, name the path).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_datapump.exceptions import DataPumpConfigError

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

__all__ = [
    "CONNECTION_FIELD",
    "DEFAULT_DIRECTORY",
    "DEFAULT_ORACLE_PORT",
    "ERROR_FACET",
    "FACETS_SCHEMA_FILE",
    "FACETS_SCHEMA_URL",
    "FILE_FACET",
    "JOB_FACET",
    "DatabaseIdentity",
    "database_identity",
    "dump_datasets",
    "error_run_facet",
    "export_lineage",
    "failure_lineage",
    "fetch_lineage",
    "import_lineage",
    "job_run_facets",
    "parse_database_field",
]

log = logging.getLogger(__name__)

CONNECTION_FIELD = "lineage_database"
DEFAULT_ORACLE_PORT = 1521
DEFAULT_DIRECTORY = "DATA_PUMP_DIR"  # what ORDS uses when a job names no datapump_dir
# The schema of the provider's own facets ships in the package next to this module (and in the
# docs, Lineage page). The project has no web address to serve it from, so its identifier is a URN:
# a valid URI for OpenLineage's _schemaURL that does not pretend to be fetchable.
FACETS_SCHEMA_FILE = "openlineage_facets.json"
FACETS_SCHEMA_URL = "urn:airflow-provider-datapump:openlineage:facets:1-0-0:DataPumpFacets.json"
JOB_FACET = "dataPumpJob"
ERROR_FACET = "dataPumpError"
FILE_FACET = "dataPumpFile"


# ============================================================================================
# Which database
# ============================================================================================


@dataclass(frozen=True)
class DatabaseIdentity:
    namespace: str  # oracle://host:port, or ords://host:port for the fallback
    service: str  # the service name (or SID); the ORDS path for the fallback
    source: str  # "oracle_conn_id", "connection field", or "ORDS URL"

    def table(self, schema: str, name: str) -> str:
        return f"{self.service}.{schema}.{name}"

    def directory_file(self, directory: str | None, file_name: str) -> str:
        return f"{self.service}/{directory or DEFAULT_DIRECTORY}/{file_name}"


def parse_database_field(value: Any, conn_id: str) -> tuple[str, int, str]:
    """``host[:port]/service_name`` (EZConnect without the user) -> (host, port, service)."""
    where = f"connection {conn_id!r}, extra {CONNECTION_FIELD!r}"
    if not isinstance(value, str) or not value.strip():
        raise DataPumpConfigError(f"{where} must be host[:port]/service_name, not {value!r}")
    text = value.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.lstrip("/")
    authority, sep, service = text.partition("/")
    service = service.strip("/")
    try:
        parts = urlsplit(f"//{authority}")
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not sep or not service or not host or "@" in authority or "/" in service:
        raise DataPumpConfigError(
            f"{where} must be host[:port]/service_name (e.g. db.example.com:1521/PDB1), not {value!r}"
        )
    return host, port or DEFAULT_ORACLE_PORT, service


def _authority(host: str, port: int | None) -> str:
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host


def database_identity(
    ords_conn_id: str, oracle_conn_id: str | None, ords_base_url: str | None = None
) -> DatabaseIdentity:
    """The database a job ran in, named for OpenLineage; the precedence is the module docstring's."""
    from airflow.providers.common.compat.sdk import BaseHook

    if oracle_conn_id:
        from airflow.providers.oracle.hooks.oracle import OracleHook

        hook = OracleHook(oracle_conn_id=oracle_conn_id)
        conn = hook.get_connection(oracle_conn_id)
        info = hook.get_openlineage_database_info(conn)
        # Airflow's Oracle hook also treats the Schema field as the service name when the extras
        # name none (OracleHook.get_conn); its lineage info does not, so that case is covered here.
        service = info.database or conn.schema
        if not service:
            raise DataPumpConfigError(
                f"Oracle connection {oracle_conn_id!r} names no service_name or sid, so its tables cannot be "
                "named for OpenLineage"
            )
        return DatabaseIdentity(f"{info.scheme}://{info.authority}", str(service), "oracle_conn_id")

    from airflow_provider_datapump.hooks.ords.settings import connection_extra as _extra

    conn = BaseHook.get_connection(ords_conn_id)
    field = _extra(conn.extra_dejson, CONNECTION_FIELD)
    if field is not None:
        host, port, service = parse_database_field(field, ords_conn_id)
        return DatabaseIdentity(f"oracle://{_authority(host, port)}", service, "connection field")

    if ords_base_url is None:
        from airflow_provider_datapump.hooks.datapump import OrdsSettings

        ords_base_url = OrdsSettings.from_connection(conn).base_url
    parts = urlsplit(ords_base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    log.warning(
        "OpenLineage: ORDS connection %r does not say which database it serves, so its tables are named under "
        "ords://%s. Set the connection's %r extra to the database's host:port/service_name (or give the task an "
        "oracle_conn_id) to name them oracle://host:port as other tools do.",
        ords_conn_id,
        _authority(parts.hostname or "", port),
        CONNECTION_FIELD,
    )
    return DatabaseIdentity(
        f"ords://{_authority(parts.hostname or '', port)}", parts.path.strip("/"), "ORDS URL"
    )


# ============================================================================================
# Facets of our own
# ============================================================================================


def _facet_classes() -> tuple[type, type, type]:
    """Defined on first use: their base classes come from the OpenLineage client."""
    global _FACETS
    if _FACETS is None:
        import attr
        from airflow.providers.common.compat.openlineage.facet import DatasetFacet, RunFacet

        def schema_of(name: str) -> Any:
            return staticmethod(lambda: f"{FACETS_SCHEMA_URL}#/$defs/{name}")

        @attr.define
        class DataPumpJobRunFacet(RunFacet):
            """The Data Pump job behind the task run."""

            ownerName: str
            jobName: str
            operation: str | None = None
            jobMode: str | None = None
            outcome: str | None = None
            ordsBaseUrl: str | None = None
            jobUrl: str | None = None
            datapumpDir: str | None = None
            objectCount: int | None = None
            _get_schema = schema_of("DataPumpJobRunFacet")

        @attr.define
        class DataPumpErrorRunFacet(RunFacet):
            """How the job ended when the task failed: Data Pump's final line and the ORA- codes."""

            outcome: str
            message: str
            oraCodes: list[str] = attr.field(factory=list)
            errorCount: int = 0
            errorsSeen: int = 0
            oraLines: list[str] = attr.field(factory=list)
            _get_schema = schema_of("DataPumpErrorRunFacet")

        @attr.define
        class DataPumpFileDatasetFacet(DatasetFacet):
            """A dump file as copied: its size and SHA-256, and the job that wrote it."""

            size: int
            sha256: str
            kind: str = "dump"
            sourceJob: str | None = None
            _get_schema = schema_of("DataPumpFileDatasetFacet")

        _FACETS = (DataPumpJobRunFacet, DataPumpErrorRunFacet, DataPumpFileDatasetFacet)
    return _FACETS


_FACETS: tuple[type, type, type] | None = None


def _without_credentials(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = host + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else url


def job_run_facets(result: Mapping[str, Any], ords_base_url: str | None) -> dict[str, Any]:
    job_facet, _, _ = _facet_classes()
    from airflow.providers.common.compat.openlineage.facet import ExternalQueryRunFacet

    owner, name = str(result.get("owner_name") or ""), str(result.get("job_name") or "")
    base = _without_credentials(ords_base_url)
    return {
        JOB_FACET: job_facet(
            ownerName=owner,
            jobName=name,
            operation=result.get("operation"),
            jobMode=result.get("job_mode"),
            outcome=result.get("outcome"),
            ordsBaseUrl=base,
            jobUrl=_without_credentials(result.get("self_url")),
            datapumpDir=result.get("datapump_dir"),
            objectCount=result.get("object_count"),
        ),
        # The standard way to say "this run is that job in another system".
        "externalQuery": ExternalQueryRunFacet(externalQueryId=f"{owner},{name}", source=base or "ords"),
    }


def error_run_facet(result: Mapping[str, Any]) -> Any:
    _, error_facet, _ = _facet_classes()
    from airflow_provider_datapump.jobs import verdict_from_xcom

    verdict = verdict_from_xcom(result)
    return error_facet(
        outcome=verdict.outcome.value,
        message=verdict.message,
        oraCodes=list(verdict.ora_codes),
        errorCount=verdict.error_count,
        errorsSeen=verdict.seen,
        oraLines=[e.line for e in verdict.errors[:20]],
    )


# ============================================================================================
# Datasets
# ============================================================================================


def _tables(objects: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(schema, table) -> (rows, bytes), partitions summed into their table, in log order."""
    totals: dict[tuple[str, str], tuple[int, int]] = {}
    for o in objects:
        key = (str(o.get("schema")), str(o.get("name")))
        rows, size = totals.get(key, (0, 0))
        totals[key] = (rows + int(o.get("rows") or 0), size + int(o.get("bytes") or 0))
    return totals


def _uri_dataset(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    if parts.scheme in ("file", "local", ""):
        return "file", parts.path
    return f"{parts.scheme}://{_authority(parts.hostname or '', parts.port)}", parts.path.lstrip("/")


def _is_uri(name: str) -> bool:
    return "://" in name


def dump_datasets(
    identity: DatabaseIdentity, names: Sequence[str], directory: str | None
) -> list[tuple[str, str]]:
    """(namespace, name) of each dump file, in a directory object or at an object-store URI."""
    out = []
    for name in names:
        if _is_uri(name):
            out.append(_uri_dataset(name))
        else:
            out.append((identity.namespace, identity.directory_file(directory, name)))
    return out


def _dump_names(result: Mapping[str, Any]) -> list[str]:
    names = [
        str(f["name"])
        for f in result.get("files") or ()
        if isinstance(f, Mapping) and f.get("kind") == "dump"
    ]
    if not names and result.get("dump_file_template"):
        # Written straight to object storage: ORDS links no dump, the URI sent names the set.
        names = [n.strip() for n in str(result["dump_file_template"]).split(",") if n.strip()]
    return names


def export_lineage(
    result: Mapping[str, Any], identity: DatabaseIdentity, ords_base_url: str | None
) -> OperatorLineage:
    from airflow.providers.common.compat.openlineage.facet import InputDataset, OutputDataset
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.generated.input_statistics_input_dataset import InputStatisticsInputDatasetFacet

    inputs = [
        InputDataset(
            namespace=identity.namespace,
            name=identity.table(schema, table),
            inputFacets={"inputStatistics": InputStatisticsInputDatasetFacet(rowCount=rows, size=size)},
        )
        for (schema, table), (rows, size) in _tables(result.get("objects") or ()).items()
    ]
    outputs = [
        OutputDataset(namespace=ns, name=name)
        for ns, name in dump_datasets(identity, _dump_names(result), result.get("datapump_dir"))
    ]
    return OperatorLineage(inputs=inputs, outputs=outputs, run_facets=job_run_facets(result, ords_base_url))


def import_lineage(
    result: Mapping[str, Any],
    identity: DatabaseIdentity,
    ords_base_url: str | None,
    *,
    dump_files: Sequence[str],
    directory: str | None,
    remaps: Sequence[Mapping[str, str]] = (),
    source_identity: DatabaseIdentity | None = None,
) -> OperatorLineage:
    """Inputs: the dump files read. Outputs: each table the log says was imported, under its
    remapped schema, with a symlink facet naming the source table the remap copied it from.

    ``source_identity`` is the database the export read (another one in a refresh from production);
    the symlink names the source table there. None: the same database as the import."""
    from airflow.providers.common.compat.openlineage.facet import (
        Identifier,
        InputDataset,
        OutputDataset,
        OutputStatisticsOutputDatasetFacet,
        SymlinksDatasetFacet,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    source_of = {
        str(r["target"]).upper(): str(r["source"]).upper() for r in remaps if "source" in r and "target" in r
    }
    inputs = [
        InputDataset(namespace=ns, name=name) for ns, name in dump_datasets(identity, dump_files, directory)
    ]
    origin = source_identity or identity
    outputs = []
    for (schema, table), (rows, size) in _tables(result.get("objects") or ()).items():
        facets: dict[str, Any] = {}
        source = source_of.get(schema.upper())
        if source and source != schema.upper():
            facets["symlinks"] = SymlinksDatasetFacet(
                identifiers=[
                    Identifier(namespace=origin.namespace, name=origin.table(source, table), type="TABLE")
                ]
            )
        outputs.append(
            OutputDataset(
                namespace=identity.namespace,
                name=identity.table(schema, table),
                facets=facets,
                outputFacets={
                    "outputStatistics": OutputStatisticsOutputDatasetFacet(rowCount=rows, size=size)
                },
            )
        )
    return OperatorLineage(inputs=inputs, outputs=outputs, run_facets=job_run_facets(result, ords_base_url))


def fetch_lineage(
    result: Mapping[str, Any],
    copied: Sequence[Mapping[str, Any]],
    identity: DatabaseIdentity,
    ords_base_url: str | None,
    directory: str | None,
) -> OperatorLineage:
    """Inputs: the dump files on the server. Outputs: their copies, with size and SHA-256."""
    from airflow.providers.common.compat.openlineage.facet import InputDataset, OutputDataset
    from airflow.providers.openlineage.extractors import OperatorLineage

    _, _, file_facet = _facet_classes()
    dumps = [f for f in copied if f.get("kind") == "dump"]
    inputs, outputs = [], []
    ident = f"{result.get('owner_name')},{result.get('job_name')}"
    for f in dumps:
        namespace, name = dump_datasets(identity, [str(f["name"])], directory)[0]
        inputs.append(InputDataset(namespace=namespace, name=name))
        out_ns, out_name = _uri_dataset(str(f["uri"]))
        outputs.append(
            OutputDataset(
                namespace=out_ns,
                name=out_name,
                facets={
                    FILE_FACET: file_facet(
                        size=int(f["bytes"]), sha256=str(f["sha256"]), kind="dump", sourceJob=ident
                    )
                },
            )
        )
    return OperatorLineage(inputs=inputs, outputs=outputs, run_facets=job_run_facets(result, ords_base_url))


def failure_lineage(result: Mapping[str, Any] | None, ords_base_url: str | None) -> OperatorLineage | None:
    """No datasets (a failed job's log is no record of what it moved), the job and how it ended."""
    if not result:
        return None
    from airflow.providers.openlineage.extractors import OperatorLineage

    facets = job_run_facets(result, ords_base_url)
    facets[ERROR_FACET] = error_run_facet(result)
    return OperatorLineage(run_facets=facets)
