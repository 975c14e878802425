"""The backend: the Data Pump operations ORDS exposes, over one database's catalog, jobs and files.

The HTTP layer hands in parsed values (the principal, the JSON body, the link prefix) and
renders what comes back; errors are the typed ones of ``errors``. How each job runs and
ends comes from ``next_scenario``, which the test harness supplies.
"""

from __future__ import annotations

import datetime as _dt
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .auth import Principal
from .catalog import ORACLE_MAINTAINED_USERS, Catalog, CatalogError, Table, is_identifier
from .description import CATALOG_MEDIA_TYPE, create_keys, release_description
from .dumpfiles import DumpFormatError, read_dump_header
from .errors import BadRequest, Conflict, MethodNotAllowed, NameClash, NotAcceptable, NotFound
from .files import FileStore
from .jobs import MODE_PREFIX, Job, JobFile
from .listing import page, parse_q
from .naming import (
    DEFAULT_DIRECTORY,
    api_prefix,
    default_dump_template,
    expand,
    has_substitution,
    job_name,
    log_name,
)
from .negotiation import accepts, parse_range
from .ora_texts import REFUSED_DEFAULT_CODES, ora_line
from .payload import CreateRequest, dropped_keys, parse_create, request_object
from .selection import select
from .sql.ora import OracleError, ora

__all__ = ["DataPumpBackend", "FileAnswer", "coerce_catalog"]


@dataclass
class FileAnswer:
    """Which bytes of which file a file GET answers with."""

    path: str
    size: int
    media_type: str
    start: int = 0
    end: int | None = None  # inclusive; None: to the end
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def coerce_catalog(catalog: Any) -> Catalog:
    try:
        if catalog is None:
            return Catalog.default()
        if isinstance(catalog, Catalog):
            return catalog.copy()
        if isinstance(catalog, dict):
            return Catalog.from_data(catalog)
        return Catalog.from_file(catalog)
    except CatalogError as exc:
        raise BadRequest(f"invalid catalog: {exc}") from exc


class DataPumpBackend:
    def __init__(
        self,
        *,
        settings: dict[str, Any],
        files: FileStore,
        catalog: Catalog | dict[str, Any] | str | os.PathLike[str] | None,
        now: Callable[[], float],
        next_scenario: Callable[[str], dict[str, Any]],
        lock: threading.RLock | None = None,
    ):
        self.settings = settings
        self.files = files
        self._now = now
        self._next_scenario = next_scenario
        self._lock = lock or threading.RLock()
        self._initial_catalog = coerce_catalog(catalog)
        self.catalog = self._initial_catalog.copy()
        self._jobs: dict[tuple[str, str], Job] = {}
        # When the catalog's users and tables were created, as DBA_USERS and DBA_OBJECTS show it.
        self.started = now()
        # Control tables whose row left DBA_DATAPUMP_JOBS and whose name a later job took.
        self._dropped_jobs: list[Job] = []

    def reset(self) -> None:
        with self._lock:
            self.files.reset()
            self._jobs.clear()
            self._dropped_jobs.clear()
            self.catalog = self._initial_catalog.copy()

    def advance(self) -> float:
        """Finish every job whose time is up; returns now."""
        now = self._now()
        for job in list(self._jobs.values()):
            if job.due(now):
                job.finish(self.catalog, self.files)
        return now

    def link_prefix(self, request_origin: str, pool: str | None, alias: str, version: str) -> str:
        """The base of rendered links: the request's origin unless ``link_origin`` overrides it."""
        return api_prefix(self.settings.get("link_origin") or request_origin, pool, alias, version)

    # ------------------------------------------------------------------ create

    def check_endpoint(self, endpoint: str) -> None:
        """405 for a create endpoint the modelled ORDS version (or the served description) does not
        have (jobs/ on 25.x+)."""
        if create_keys(self.settings, endpoint) is None:
            raise MethodNotAllowed(
                f"The POST method is not allowed on this resource (ORDS {self.settings['ords_version']})",
                headers={"Allow": "GET"},
            )

    def dropped_keys(self, payload: dict[str, Any], endpoint: str) -> list[str]:
        """Keys ORDS would silently ignore; computed even when the payload is invalid."""
        return dropped_keys(payload, endpoint, self.settings)

    def _claim_name(self, owner: str, operation: str, directory: str, now: float) -> tuple[str, _dt.datetime]:
        """The job's name and start time, or the error Data Pump raises when they are taken.

        ORDS names a REST job by its operation and the second it starts, and Data Pump refuses a
        job name whose control table the owner still has (ORA-31634), so two creates of one
        operation by one owner in one second collide. The HTTP status is a setting (inferred).
        """
        name, when = job_name(operation, now)
        status = self.settings["name_clash_status"]
        held = self._jobs.get((owner, name))
        if held is not None and not held.vanished:
            raise NameClash(
                status, f"ORA-39002: invalid operation\nORA-31634: job already exists ({owner}.{name})"
            )
        log = log_name(operation, when)
        if os.path.exists(os.path.join(self.files.dir_path(directory), log)):
            # Another owner's job of the same second writes this log file in this directory.
            raise NameClash(
                status,
                "ORA-39002: invalid operation\nORA-39070: Unable to open the log file.\n"
                f"ORA-29283: invalid file operation: {directory}/{log} is in use",
            )
        return name, when

    def _read_dump_set(self, req: CreateRequest) -> dict[str, Any]:
        """The header of a complete dump set, or 400 with the ORA text of what is wrong with it."""
        assert req.file_name is not None
        names, paths = self.files.dump_set(
            req.file_name, req.directory, object_store=req.credential is not None
        )
        headers = []
        for n, p in zip(names, paths, strict=True):
            try:
                headers.append(read_dump_header(p))
            except (DumpFormatError, OSError) as exc:
                raise BadRequest(
                    "ORA-39001: invalid argument value\nORA-39000: bad dump file specification\n"
                    f'ORA-31619: invalid dump file "{n}" ({exc})'
                ) from exc
        if len({h.get("job_name") for h in headers}) != 1:
            raise BadRequest(
                "ORA-39001: invalid argument value\nORA-39000: bad dump file specification\n"
                "ORA-39130: the files matched by file_name belong to different dump file sets"
            )
        expected = int(headers[0].get("file_count", 1))
        indexes = {int(h.get("file_index", 1)) for h in headers}
        if indexes != set(range(1, expected + 1)):
            raise BadRequest("ORA-39002: invalid operation\nORA-39059: dump file set is incomplete")
        return headers[0]

    def _dump_files(
        self, req: CreateRequest, when: _dt.datetime, dir_path: str
    ) -> tuple[list[str], list[str]]:
        """An export's dump names and paths, or 400 if one exists or another running job will write it."""
        object_store = req.credential is not None
        template = req.file_name or default_dump_template(when)
        count = req.threads if has_substitution(template) else 1
        names = [expand(template, i, when) for i in range(1, count + 1)]
        if object_store:
            paths = [self.files.object_path(u) for u in names]
        else:
            paths = [os.path.join(dir_path, n) for n in names]
        reserved = {p for j in self._jobs.values() if not j.finalized for p in j.dump_paths}
        for n, p in zip(names, paths, strict=True):
            if os.path.exists(p) or p in reserved or (object_store and n in self.files.objects):
                raise BadRequest(
                    "ORA-39001: invalid argument value\nORA-39000: bad dump file specification\n"
                    f'ORA-31641: unable to create dump file "{p if not object_store else n}"\n'
                    "ORA-27038: created file already exists"
                )
        return names, paths

    def create_job(
        self,
        principal: Principal,
        payload: Any,
        endpoint: str,
        prefix: str,
        *,
        note_dropped: Callable[[list[str]], None] | None = None,
    ) -> tuple[dict[str, Any], str, list[str]]:
        """Validate, create and start a job. Returns (body, job_url, dropped_keys).

        ``payload`` is the decoded body (None when empty); ``note_dropped`` hears the dropped
        keys as soon as they are known, so that a refused request still reports them.
        """
        self.check_endpoint(endpoint)
        payload = request_object(payload, endpoint)
        if note_dropped is not None:
            note_dropped(self.dropped_keys(payload, endpoint))
        with self._lock:
            now = self.advance()
            req, dropped = parse_create(payload, endpoint, self.settings)
            owner = principal.user
            operation = req.operation
            directory = req.directory
            dir_path = self.files.dir_path(directory)
            # DBMS_DATAPUMP.OPEN names the job before any file is opened.
            name, when = self._claim_name(owner, operation, directory, now)

            # Everything that can fail with 400 happens before the job exists.
            head: dict[str, Any] = {}
            if operation == "IMPORT":
                head = self._read_dump_set(req)
                dump_tables = [
                    Table(t["schema"], t["name"], t["tablespace"], int(t["rows"]), int(t["bytes"]))
                    for t in head["tables"]
                ]
                schemas, tables, natural = select(
                    owner, req, list(head.get("schemas", [])), dump_tables, from_dump=True
                )
                dump_names: list[str] = []
                dump_paths: list[str] = []
            else:
                schemas, tables, natural = select(
                    owner, req, list(self.catalog.schemas), self.catalog.all_tables()
                )
                dump_names, dump_paths = self._dump_files(req, when, dir_path)

            scenario = self._next_scenario(operation)
            # What the request asked, the same for a refused probe and a created job.
            asked: dict[str, Any] = {
                "owner": owner,
                "name": name,
                "operation": operation,
                "job_mode": req.job_mode,
                "threads": req.threads,
                "keep_master": req.keep_master,
                "directory": directory,
                "created": now,
                "dump_names": dump_names,
                "dump_paths": dump_paths,
                "object_store": req.credential is not None,
                "schemas": schemas,
                "tables": tables,
                "remaps": req.remaps,
                "credential": req.credential,
                "file_name": req.file_name,
            }
            if scenario["outcome"] == "refused":
                # Harness: Data Pump refuses the job before it exists, with the scenario's ORA texts.
                probe = Job(
                    **asked,
                    end=now,
                    outcome="refused",
                    error_count=0,
                    ora_codes=None,
                    dump_size=0,
                    log=JobFile("", "", "log"),
                )
                codes = scenario["ora_codes"] or REFUSED_DEFAULT_CODES
                raise BadRequest(
                    "\n".join(ora_line(c, probe.ora_values(tables[0] if tables else None)) for c in codes)
                )
            log = JobFile(log_name(operation, when), os.path.join(dir_path, log_name(operation, when)), "log")
            job = Job(
                **asked,
                end=now + scenario["duration"],
                outcome=scenario["outcome"],
                error_count=scenario["error_count"],
                ora_codes=scenario["ora_codes"],
                dump_size=scenario["dump_size"],
                log=log,
                natural_errors=natural,
            )
            if operation == "IMPORT":
                job.dump_prefix = head.get("export_prefix", "SCHEMA_EXPORT")
                job.dump_has_users = head.get("job_mode") in ("SCHEMA", "FULL")
                job.can_create_users = self.settings["can_create_users"]
                job.source_job = head.get("job_name")
                job.table_exists_action = req.table_exists_action
                export_log, log_dir = head.get("log_file"), head.get("log_directory")
                if isinstance(export_log, str) and isinstance(log_dir, str) and is_identifier(log_dir):
                    path = os.path.join(self.files.data_dir, log_dir, export_log)
                    if os.path.isfile(path) and export_log != log.name:
                        job.export_log = JobFile(export_log, path, "export_log")
            else:
                job.dump_prefix = MODE_PREFIX[job.job_mode]
            previous = self._jobs.get((owner, name))
            if previous is not None:  # a dropped control table's name, reused
                self._dropped_jobs.append(previous)
            self._jobs[(owner, name)] = job
            self.files.write_text(log.path, "\n".join(job.log_head()) + "\n")
            if note_dropped is not None:
                note_dropped(dropped)
            return job.render(prefix, now, as_created=True), job.url(prefix), dropped

    # ------------------------------------------------------------------ reads

    def _visible_job(self, owner: str, name: str) -> Job:
        job = self._jobs.get((owner, name))
        if job is None or job.vanished:
            raise NotFound(f"Data Pump job {owner},{name} was not found")
        return job

    def get_job(self, owner: str, name: str, prefix: str) -> dict[str, Any]:
        with self._lock:
            now = self.advance()
            return self._visible_job(owner, name).render(prefix, now)

    def list_jobs(
        self, prefix: str, *, limit: Any = None, offset: Any = None, q: Any = None, query_string: str = ""
    ) -> dict[str, Any]:
        with self._lock:
            now = self.advance()
            # The filter on the owner is applied before rendering each row: the answer is the same,
            # but one user's walk no longer renders every user's jobs (100 users walking a shared list
            # of 10,000 jobs made the emulator the bottleneck of the waiting benchmark).
            owner = self._owner_filter(q)
            kept = [j for j in self._jobs.values() if not j.vanished and (owner is None or j.owner == owner)]
            rows = [job.fields(now) for job in sorted(kept, key=lambda j: (j.owner, j.name))]
            return page(
                rows, prefix, self.settings, limit=limit, offset=offset, q=q, query_string=query_string
            )

    def _owner_filter(self, q: Any) -> str | None:
        """The one owner a honoured ``q`` keeps (``{"owner_name": "X"}`` or ``{"$eq": "X"}``), else None."""
        if q is None or self.settings["q_support"] != "honoured":
            return None
        try:
            cond = parse_q(q)
        except Exception:
            return None  # page() answers the malformed filter with its 400
        value = cond.get("owner_name") if isinstance(cond, dict) else None
        if isinstance(value, dict):
            value = value.get("$eq") if set(value) == {"$eq"} else None
        return value if isinstance(value, str) else None

    def resolve_file(self, owner: str, name: str, file_name: str) -> tuple[str, int, str]:
        """Return (path, size, media type) for a file linked from a job."""
        with self._lock:
            self.advance()
            job = self._visible_job(owner, name)
            if job.foreign is not None:
                raise NotFound(f"Data Pump job {owner},{name} was not found")
            f = job.linked_file(file_name)
            if f is not None:
                try:
                    return f.path, os.stat(f.path).st_size, f.media_type
                except FileNotFoundError:
                    pass
            raise NotFound(f"File {file_name} was not found for job {owner},{name}")

    def open_file(
        self, owner: str, name: str, file_name: str, *, accept: str | None, range_header: str | None
    ) -> FileAnswer:
        """A file GET: the file, checked against Accept, and the Range to serve if ranges are supported."""
        path, size, media = self.resolve_file(owner, name, file_name)
        if self.settings.get("strict_accept") and not accepts(accept, media):
            raise NotAcceptable(f"The file is {media}, which the Accept header does not admit")
        answer = FileAnswer(path, size, media)
        if self.settings.get("range_support"):
            answer.headers["Accept-Ranges"] = "bytes"
            span = parse_range(range_header, size) if range_header else None
            if span is not None:
                answer.start, answer.end = span
                answer.status = 206
                answer.headers["Content-Range"] = f"bytes {answer.start}-{answer.end}/{size}"
        return answer

    def metadata_catalog(self, prefix: str) -> dict[str, Any]:
        """The catalog root, shaped as a real ORDS answered it (oracle-database-operator's
        testapi.log): one item whose ``canonical`` link is the OpenAPI document."""
        self._check_described()
        base = f"{prefix}/metadata-catalog/"
        return {
            "items": [
                {
                    "name": "default",
                    "links": [
                        {"rel": "canonical", "href": base + "openapi.json", "mediaType": CATALOG_MEDIA_TYPE}
                    ],
                }
            ],
            "links": [{"rel": "self", "href": base}, {"rel": "describes", "href": f"{prefix}/"}],
        }

    def describe(self, prefix: str) -> dict[str, Any]:
        """The OpenAPI description: the modelled release's, or the one the ``openapi`` setting holds."""
        self._check_described()
        doc = self.settings["openapi"]
        if isinstance(doc, dict):
            return doc
        return release_description(self.settings["ords_version"], prefix)

    def _check_described(self) -> None:
        if self.settings["openapi"] == "none":
            raise NotFound("The requested resource could not be found")

    # ------------------------------------------------------------------ the database behind ORDS

    def catalog_data(self) -> dict[str, Any]:
        with self._lock:
            self.advance()
            return self.catalog.to_data()

    def load_catalog(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, (dict, Catalog)):
            raise BadRequest('a catalog is a JSON object: {"schemas": {"NAME": {"tables": {...}}}}')
        with self._lock:
            self.advance()
            self.catalog = coerce_catalog(data)
            return self.catalog.to_data()

    def drop_schema(self, schema: str) -> None:
        with self._lock:
            self.advance()
            if self.catalog.schemas.pop(schema.upper(), None) is None:
                raise NotFound(f"ORA-01918: user '{schema.upper()}' does not exist")

    def drop_table(self, schema: str, table: str) -> None:
        with self._lock:
            self.advance()
            tables = self.catalog.schemas.get(schema.upper())
            if tables is None or tables.pop(table.upper(), None) is None:
                raise NotFound("ORA-00942: table or view does not exist")

    def control_job(self, owner: str, name: str) -> Job:
        """A job as DBMS_DATAPUMP.ATTACH finds it (404 with ORA-31626 when its row is gone)."""
        job = self._jobs.get((owner, name))
        if job is None or job.vanished:
            raise NotFound(f"ORA-31626: job does not exist ({owner},{name})")
        return job

    def stop_job(self, owner: str, name: str, *, keep_master: int = 1) -> dict[str, Any]:
        """DBMS_DATAPUMP.ATTACH + STOP_JOB: a running job ends as stopped by user request."""
        with self._lock:
            now = self.advance()
            if keep_master not in (0, 1) or isinstance(keep_master, bool):
                raise BadRequest("keep_master must be 0 or 1")
            job = self.control_job(owner, name)
            if job.foreign is None and not job.finalized:
                job.stop(now, self.catalog, self.files)
            elif keep_master == 1:
                raise Conflict(f"job {owner},{name} is not running")
            if keep_master == 0:
                job.vanished = True
            return job.describe(self._now())

    def drop_job(self, owner: str, name: str) -> None:
        """DROP TABLE owner.job PURGE: the row leaves the job list; files stay on disk."""
        with self._lock:
            self.advance()
            job = self.control_job(owner, name)
            if job.foreign is None and not job.finalized:
                raise Conflict(f"job {owner},{name} is running; stop it first")
            job.vanished = True

    def set_table_rows(self, schema: str, table: str, rows: Any, nbytes: Any = None) -> dict[str, Any]:
        """Change a table's row count (and bytes): the source's data changing between two nights."""
        for what, value in (("rows", rows), ("bytes", nbytes)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise BadRequest(f"{what} must be a non-negative integer")
        if rows is None:
            raise BadRequest("rows is required")
        with self._lock:
            self.advance()
            found = self.catalog.schemas.get(schema.upper(), {}).get(table.upper())
            if found is None:
                raise NotFound("ORA-00942: table or view does not exist")
            found.rows = rows
            if nbytes is not None:
                found.bytes = nbytes
            return found.as_dict()

    # ------------------------------------------------------------------ the database as SQL sees it

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def visible_jobs(self) -> list[Job]:
        """The jobs whose control table exists (their DBA_DATAPUMP_JOBS rows), after advancing."""
        with self._lock:
            self.advance()
            return sorted((j for j in self._jobs.values() if not j.vanished), key=lambda j: (j.owner, j.name))

    def now(self) -> float:
        return self._now()

    @staticmethod
    def _active(job: Job, now: float) -> bool:
        if job.foreign is not None:
            return str(job.foreign.get("state", "")).strip().upper() != "NOT RUNNING"
        return job.running(now)

    def drop_user(self, session_user: str, name: str, *, cascade: bool) -> int:
        """DROP USER name [CASCADE]; returns how many objects went with it (tables, control tables)."""
        with self._lock:
            now = self.advance()
            if name in ORACLE_MAINTAINED_USERS:
                raise ora(28014)
            tables = self.catalog.schemas.get(name)
            if tables is None:
                raise ora(1918, name)
            owned = [j for j in self._jobs.values() if j.owner == name and not j.vanished]
            if name == session_user or any(self._active(j, now) for j in owned):
                # A Data Pump job's sessions are sessions of its owner.
                raise ora(1940)
            count = len(tables) + len(owned)
            if count and not cascade:
                raise ora(1922, name)
            if any(self._writes_into(j, name, now) for j in self._jobs.values()):
                # A running import's workers hold locks on the tables they load.
                raise ora(54)
            del self.catalog.schemas[name]
            for job in owned:
                job.vanished = True
            return count

    @staticmethod
    def _writes_into(job: Job, schema: str, now: float) -> bool:
        if job.operation != "IMPORT" or job.foreign is not None or not job.running(now):
            return False
        sources = set(job.schemas) | {t.schema for t in job.tables}
        return schema in {job.remaps.get(s, s) for s in sources}

    def drop_table_sql(self, owner: str, name: str) -> None:
        """DROP TABLE owner.name PURGE: a job's control table (its row leaves the job list) or a catalog table."""
        with self._lock:
            now = self.advance()
            job = self._jobs.get((owner, name))
            if job is not None and not job.vanished:
                if self._active(job, now):
                    raise ora(54)
                job.vanished = True
                return
            if self.catalog.schemas.get(owner, {}).pop(name, None) is None:
                raise ora(942)

    def attach(self, owner: str, name: str) -> Job:
        """DBMS_DATAPUMP.ATTACH: the job, or ORA-31626 when its control table is gone."""
        with self._lock:
            self.advance()
            try:
                return self.control_job(owner, name)
            except NotFound:
                raise ora(31626) from None

    def stop_attached(self, job: Job, *, keep_master: int) -> None:
        """DBMS_DATAPUMP.STOP_JOB on an attached job; ORA-39004 when it is no longer running."""
        try:
            self.stop_job(job.owner, job.name, keep_master=keep_master)
        except NotFound:
            raise ora(31626) from None
        except Conflict:
            raise ora(39004) from None

    def count_rows(self, owner: str, name: str) -> int:
        with self._lock:
            self.advance()
            table = self.catalog.schemas.get(owner, {}).get(name)
            if table is not None:
                return table.rows
            job = self._jobs.get((owner, name))
            if job is not None and not job.vanished:
                raise OracleError(
                    900, "ORA-00900: invalid SQL statement", "the emulator has no rows in control tables"
                )
            raise ora(942)

    def read_directory_file(self, directory: Any, file_name: Any) -> str:
        """BFILENAME(directory, file_name) read whole: ORA-22285 for no such directory, ORA-22288 for no file."""
        allowed = self.settings.get("directories")
        if (
            not isinstance(directory, str)
            or not is_identifier(directory)
            or directory != directory.upper()
            or (allowed is not None and directory not in allowed)
        ):
            raise ora(22285)
        missing = ora(22288, more="No such file or directory")
        if not isinstance(file_name, str) or not file_name or "/" in file_name or "\\" in file_name:
            raise missing
        if file_name in (".", ".."):
            raise missing
        path = os.path.join(self.files.data_dir, directory, file_name)
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except OSError:
            raise missing from None

    def add_foreign_job(self, row: dict[str, Any]) -> dict[str, Any]:
        """A DBA_DATAPUMP_JOBS row not created through ORDS (expdp, stale control tables)."""
        with self._lock:
            owner, name = row.get("owner_name"), row.get("job_name")
            if (
                not isinstance(owner, str)
                or not owner
                or not isinstance(name, str)
                or not name
                or "," in owner + name
                or "/" in owner + name
            ):
                raise BadRequest("owner_name and job_name are required strings without ',' or '/'")
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
                    raise BadRequest(f"{k} must be a string")
            for k in ("degree", "attached_sessions", "datapump_sessions"):
                if isinstance(values[k], bool) or not isinstance(values[k], int):
                    raise BadRequest(f"{k} must be an integer")
            now = self._now()
            job = Job.foreign_row(owner, name, values, now, DEFAULT_DIRECTORY)
            self._jobs[(owner, name)] = job
            return job.describe(self._now())

    # ------------------------------------------------------------------ introspection (GET /_emulator/...)

    def jobs(self) -> list[dict[str, Any]]:
        with self._lock:
            self.advance()
            now = self._now()
            every = [*self._dropped_jobs, *self._jobs.values()]
            return [j.describe(now) for j in sorted(every, key=lambda j: (j.owner, j.name, j.created))]

    def object_store(self) -> dict[str, str]:
        with self._lock:
            self.advance()
            return dict(self.files.objects)
