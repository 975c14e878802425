"""The model: a Data Pump job that knows how it looks, how it ends and what it links to.

Progress is computed from timestamps: a job created at ``t`` with duration ``d`` is
EXECUTING until ``t + d``; the backend calls ``finish`` the first time it looks at the job
afterwards (dumps written, an import applied to the catalog, the final log line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog, Table
from .dumpfiles import dp_elapsed, dp_timestamp, format_size, natural_dump_size, table_line
from .files import FileStore
from .naming import collection_url, job_url, local_time, url_segment
from .ora_texts import ora_line

__all__ = ["Job", "JobFile", "MEDIA_TYPES", "MODE_PREFIX"]

# S15, S6: logs are text/plain, dumps exactly application/vnd.tcpdump.pcap.
MEDIA_TYPES = {"log": "text/plain", "export_log": "text/plain", "dump": "application/vnd.tcpdump.pcap"}
MODE_PREFIX = {
    "FULL": "DATABASE_EXPORT",
    "SCHEMA": "SCHEMA_EXPORT",
    "TABLE": "TABLE_EXPORT",
    "TABLESPACE": "TABLE_EXPORT",
}

_DEFAULT_ERROR_CODES = ("ORA-39083",)
_DEFAULT_FATAL_CODES = ("ORA-39126", "ORA-39002")


@dataclass
class JobFile:
    name: str
    path: str
    role: str  # log | dump | export_log

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.role]


@dataclass
class Job:
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
    log: JobFile
    dump_names: list[str] = field(default_factory=list)
    dump_paths: list[str] = field(default_factory=list)
    object_store: bool = False
    export_log: JobFile | None = None
    schemas: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    dump_prefix: str = "SCHEMA_EXPORT"
    dump_has_users: bool = False
    can_create_users: bool = True
    remaps: dict[str, str] = field(default_factory=dict)
    natural_errors: list[str] = field(default_factory=list)
    source_job: str | None = None
    # Data Pump's TABLE_EXISTS_ACTION for an import (SKIP unless the server declared the key).
    table_exists_action: str = "SKIP"
    # The request's credential_name and file_name, for the names an ORA text carries.
    credential: str | None = None
    file_name: str | None = None
    finalized: bool = False
    final_outcome: str | None = None
    error_lines: list[str] = field(default_factory=list)
    produced: list[JobFile] = field(default_factory=list)
    # The control table is gone (keep_master 0, dropped, stopped with keep_master 0): no row, the name is free.
    vanished: bool = False
    # A DBA_DATAPUMP_JOBS row not created through ORDS: shown as given, never runs, has no files.
    foreign: dict[str, Any] | None = None

    @classmethod
    def foreign_row(cls, owner: str, name: str, row: dict[str, Any], now: float, directory: str) -> Job:
        return cls(
            owner=owner,
            name=name,
            operation=row["operation"],
            job_mode=row["job_mode"],
            threads=0,
            keep_master=1,
            directory=directory,
            created=now,
            end=now,
            outcome="success",
            error_count=0,
            ora_codes=None,
            dump_size=0,
            log=JobFile("", "", "log"),
            foreign=row,
            finalized=True,
        )

    # ------------------------------------------------------------------ progress

    @property
    def ident(self) -> str:
        return f'"{self.owner}"."{self.name}"'

    def running(self, now: float) -> bool:
        return self.foreign is None and not self.finalized and now < self.end

    def due(self, now: float) -> bool:
        """Past its end but not yet finished."""
        return self.foreign is None and not self.finalized and now >= self.end

    def retarget(self, values: dict[str, Any], *, finish_now: bool, now: float) -> None:
        """Change how a running job ends (the scenario knobs), or end it now."""
        if "duration" in values:
            self.end = self.created + values["duration"]
        for key in ("outcome", "error_count", "ora_codes", "dump_size"):
            if key in values:
                setattr(self, key, values[key])
        if finish_now:
            self.end = min(self.end, now)

    def stop(self, now: float, catalog: Catalog, files: FileStore) -> None:
        """DBMS_DATAPUMP.STOP_JOB on a running job: it ends now, stopped by user request."""
        self.outcome = "stopped"
        self.end = now
        self.finish(catalog, files)

    # ------------------------------------------------------------------ rendering

    def url(self, prefix: str) -> str:
        return job_url(prefix, self.owner, self.name)

    def _tail(self) -> str:
        return f"at {dp_timestamp(local_time(self.end))} elapsed {dp_elapsed(self.end - self.created)}"

    def fields(self, now: float, as_created: bool = False) -> dict[str, Any]:
        """The job's DBA_DATAPUMP_JOBS columns, plus job_state and job_comment once it ended."""
        if self.foreign is not None:
            row = self.foreign
            return {
                "job_name": self.name,
                "owner_name": self.owner,
                "operation": row["operation"],
                "job_mode": row["job_mode"],
                "state": row["state"],
                "degree": row["degree"],
                "attached_sessions": row["attached_sessions"],
                "datapump_sessions": row["datapump_sessions"],
            }
        out: dict[str, Any] = {
            "job_name": self.name,
            "owner_name": self.owner,
            "operation": self.operation,
            "job_mode": self.job_mode,
        }
        if as_created or self.running(now):
            # Seed 001: every create answer shows degree 1 and 2 sessions, the parallel FULL export
            # too; the workers are started afterwards.
            degree = 1 if as_created else self.threads
            out.update(
                state="EXECUTING",
                degree=degree,
                attached_sessions=0,
                datapump_sessions=degree + 1,
                job_state="EXECUTING",
            )
            return out
        out.update(state="NOT RUNNING", degree=0, attached_sessions=0, datapump_sessions=0)
        fo = self.final_outcome
        if fo == "success":
            out.update(
                job_state="COMPLETED", job_comment=f"Job {self.ident} successfully completed {self._tail()}"
            )
        elif fo == "errors":
            out.update(
                job_state="COMPLETED",
                job_comment=f"Job {self.ident} completed with {len(self.error_lines)} error(s) {self._tail()}",
            )
        elif fo == "fatal":
            out.update(
                job_state="STOPPED", job_comment=f"Job {self.ident} stopped due to fatal error {self._tail()}"
            )
        elif fo == "stopped":
            out.update(
                job_state="STOPPED", job_comment=f"Job {self.ident} stopped by user request {self._tail()}"
            )
        # crash: no job_state, no job_comment
        return out

    def links(self, prefix: str, as_created: bool = False) -> list[dict[str, str]]:
        """collection, describedby, the files (enclosure dumps once finished, related logs), self."""
        url = self.url(prefix)
        links: list[dict[str, str]] = [
            {"rel": "collection", "href": collection_url(prefix)},
            {"rel": "describedby", "href": f"{prefix}/metadata-catalog/"},
        ]
        if self.foreign is None:
            if self.finalized and not as_created:
                links.extend({"rel": "enclosure", "href": url + url_segment(f.name)} for f in self.produced)
            if self.export_log is not None:
                links.append({"rel": "related", "href": url + url_segment(self.export_log.name)})
            links.append({"rel": "related", "href": url + url_segment(self.log.name)})
        links.append({"rel": "self", "href": url})
        return links

    def render(self, prefix: str, now: float, as_created: bool = False) -> dict[str, Any]:
        body = self.fields(now, as_created)
        body["links"] = self.links(prefix, as_created)
        return body

    def linked_file(self, file_name: str) -> JobFile | None:
        """The log or dump of this name that the job links to (never another job's file)."""
        if self.foreign is not None:
            return None
        candidates = [self.log, *self.produced]
        if self.export_log is not None:
            candidates.append(self.export_log)
        return next((f for f in candidates if f.name == file_name), None)

    def describe(self, now: float) -> dict[str, Any]:
        """The emulator's internal view (GET /_emulator/jobs): what tests assert on."""
        return {
            "owner_name": self.owner,
            "job_name": self.name,
            "operation": self.operation,
            "job_mode": self.job_mode,
            "foreign": self.foreign is not None,
            "running": self.running(now),
            "outcome": self.final_outcome if self.finalized else self.outcome,
            "finalized": self.finalized,
            "visible": not self.vanished,
            "created": self.created,
            "ends": self.end,
            "threads": self.threads,
            "keep_master": self.keep_master,
            "directory": self.directory,
            "log_file": self.log.path or None,
            "dump_files": list(self.dump_names),
            "dump_paths": list(self.dump_paths),
            "object_store": self.object_store,
            "tables": [f"{t.schema}.{t.name}" for t in self.tables],
            "schemas": list(self.schemas),
            "remap_schemas": dict(self.remaps),
            "errors": list(self.error_lines),
            "source_job": self.source_job,
        }

    # ------------------------------------------------------------------ the log

    def log_head(self) -> list[str]:
        """The log lines a job writes when it starts."""
        p = self.dump_prefix
        if self.operation == "EXPORT":
            lines = [
                f"Starting {self.ident}:",
                "Estimate in progress using BLOCKS method...",
                f"Processing object type {p}/TABLE/TABLE_DATA",
                f"Total estimation using BLOCKS method: {format_size(sum(t.bytes for t in self.tables))}",
            ]
            if self.job_mode in ("SCHEMA", "FULL"):
                lines.append(f"Processing object type {p}/USER")
            lines.append(f"Processing object type {p}/TABLE/TABLE")
        else:
            lines = [
                f"Master table {self.ident} successfully loaded/unloaded",
                f"Starting {self.ident}:",
            ]
            if self.dump_has_users and self.job_mode in ("SCHEMA", "FULL"):
                lines.append(f"Processing object type {p}/USER")
            lines.append(f"Processing object type {p}/TABLE/TABLE")
            lines.append(f"Processing object type {p}/TABLE/TABLE_DATA")
        return lines

    def ora_values(self, table: Table | None = None) -> dict[str, str]:
        """The names an ORA text of this job carries (see ora_texts)."""
        uri = next((n for n in self.dump_names if "://" in n), None) or (
            self.file_name if self.file_name and "://" in self.file_name else None
        )
        if self.dump_paths and not self.object_store:
            file_path = self.dump_paths[0]
        elif self.file_name:
            file_path = self.file_name if "://" in self.file_name else f"{self.directory}/{self.file_name}"
        else:
            file_path = self.dump_names[0] if self.dump_names else "EXPDAT01.DMP"
        values = {
            "directory": self.directory,
            "file_path": file_path,
            "uri": uri or "https://objectstorage.example.com/n/ns/b/bucket/o/EXPDAT01.DMP",
            "user": self.owner,
            "credential": self.credential or "",
            "schema": (self.remaps.get(self.schemas[0], self.schemas[0]) if self.schemas else self.owner),
        }
        if table is not None:
            schema = self.remaps.get(table.schema, table.schema)
            values.update(
                obj=f'"{schema}"."{table.name}"', schema=schema, table=table.name, tablespace=table.tablespace
            )
        else:
            values["obj"] = f'"{self.owner}"."EMULATED_OBJECT"'
        return values

    def _scenario_error_lines(self, count: int, codes: list[str] | tuple[str, ...]) -> list[str]:
        tables: list[Table | None] = list(self.tables) or [None]
        lines = [
            ora_line(codes[i % len(codes)], self.ora_values(tables[i % len(tables)])) for i in range(count)
        ]
        return [part for line in lines for part in line.split("\n")]

    # ------------------------------------------------------------------ the end

    def finish(self, catalog: Catalog, files: FileStore) -> None:
        """End the job as its outcome says: dumps, the import's tables, the final log line."""
        self.finalized = True
        outcome = self.outcome
        verb = "exported" if self.operation == "EXPORT" else "imported"
        lines = self.log_head()
        tail = self._tail()

        if outcome in ("success", "errors"):
            errors = list(self.natural_errors)
            table_lines: list[str] = []
            if self.operation == "IMPORT":
                errors_apply, table_lines = self._apply_import(catalog)
                errors.extend(errors_apply)
            else:
                table_lines = [table_line(verb, t.schema, t.name, t.bytes, t.rows) for t in self.tables]
            if outcome == "errors":
                errors.extend(
                    self._scenario_error_lines(self.error_count, self.ora_codes or _DEFAULT_ERROR_CODES)
                )
            lines.extend(errors)
            lines.extend(table_lines)
            if self.operation == "EXPORT":
                self._write_dumps(files)
                lines.append(f"Master table {self.ident} successfully loaded/unloaded")
                lines.append("*" * 78)
                lines.append(f"Dump file set for {self.owner}.{self.name} is:")
                lines.extend(
                    f"  {n if self.object_store else p}"
                    for n, p in zip(self.dump_names, self.dump_paths, strict=True)
                )
            self.error_lines = errors
            if errors:
                self.final_outcome = "errors"
                lines.append(f"Job {self.ident} completed with {len(errors)} error(s) {tail}")
            else:
                self.final_outcome = "success"
                lines.append(f"Job {self.ident} successfully completed {tail}")
        elif outcome == "fatal":
            codes = self.ora_codes or _DEFAULT_FATAL_CODES
            self.error_lines = self._scenario_error_lines(len(codes), codes)
            lines.extend(self.error_lines)
            lines.append(f"Job {self.ident} stopped due to fatal error {tail}")
            self.final_outcome = "fatal"
        elif outcome == "stopped":
            half = self.tables[: len(self.tables) // 2]
            lines.extend(table_line(verb, t.schema, t.name, t.bytes, t.rows) for t in half)
            lines.append(f"Job {self.ident} stopped by user request {tail}")
            self.final_outcome = "stopped"
        else:  # crash: the processes died, nobody wrote a final line
            half = self.tables[: len(self.tables) // 2]
            lines.extend(table_line(verb, t.schema, t.name, t.bytes, t.rows) for t in half)
            self.final_outcome = "crash"
        files.write_text(self.log.path, "\n".join(lines) + "\n")
        if self.final_outcome == "success" and self.keep_master == 0:
            # Without a retained control table the job leaves DBA_DATAPUMP_JOBS.
            self.vanished = True

    def _write_dumps(self, files: FileStore) -> None:
        count = len(self.dump_names)
        spread: list[list[Table]] = [[] for _ in range(count)]
        for i, t in enumerate(self.tables):
            spread[i % count].append(t)
        for index, (name, path) in enumerate(zip(self.dump_names, self.dump_paths, strict=True), start=1):
            header = {
                "format": 1,
                "job_name": self.name,
                "owner_name": self.owner,
                "job_mode": self.job_mode,
                "export_prefix": self.dump_prefix,
                "created": local_time(self.created).isoformat(timespec="seconds"),
                "log_file": self.log.name,
                "log_directory": self.directory,
                "file_index": index,
                "file_count": count,
                "schemas": self.schemas,
                "tables": [t.as_dict() for t in self.tables],
                "file_tables": [f"{t.schema}.{t.name}" for t in spread[index - 1]],
            }
            size = self.dump_size or natural_dump_size(header, sum(t.bytes for t in spread[index - 1]))
            files.write_dump(path, header, size, uri=name if self.object_store else None)
            if not self.object_store:
                self.produced.append(JobFile(name, path, "dump"))

    def _apply_import(self, catalog: Catalog) -> tuple[list[str], list[str]]:
        errors: list[str] = []
        lines: list[str] = []
        targets = {s: self.remaps.get(s, s) for s in self.schemas}
        for t in self.tables:
            targets.setdefault(t.schema, self.remaps.get(t.schema, t.schema))
        # Data Pump creates a (remap) target user only from the CREATE USER metadata in the dump
        # set (written by SCHEMA and FULL exports, processed by SCHEMA and FULL imports), and only
        # when the importer may create users.
        carries_users = self.dump_has_users and self.job_mode in ("SCHEMA", "FULL")
        for source in sorted(targets):
            target = targets[source]
            if target in catalog.schemas:
                if carries_users and source in self.schemas:
                    errors.append(f'ORA-31684: Object type USER:"{target}" already exists')
            elif carries_users and source in self.schemas and self.can_create_users:
                catalog.schemas[target] = {}
        for t in self.tables:
            target = targets[t.schema]
            if target not in catalog.schemas:
                errors.append(
                    f'ORA-39083: Object type TABLE:"{target}"."{t.name}" failed to create with error:'
                )
                errors.append(f"ORA-01918: user '{target}' does not exist")
                continue
            existing = catalog.schemas[target]
            action = self.table_exists_action
            if t.name in existing and action == "SKIP":
                # Data Pump's default; no documented ORDS release exposes another.
                errors.append(
                    f'ORA-39151: Table "{target}"."{t.name}" exists. All dependent metadata and data '
                    "will be skipped due to table_exists_action of skip"
                )
                continue
            if t.name in existing and action == "APPEND":
                # Rows are added to the table as it is; its metadata stays.
                kept = existing[t.name]
                existing[t.name] = Table(
                    target, t.name, kept.tablespace, kept.rows + t.rows, kept.bytes + t.bytes
                )
            else:
                # New, REPLACE (dropped and created from the dump) or TRUNCATE (emptied, then loaded).
                space = (
                    existing[t.name].tablespace
                    if t.name in existing and action == "TRUNCATE"
                    else t.tablespace
                )
                existing[t.name] = Table(target, t.name, space, t.rows, t.bytes)
            lines.append(table_line("imported", target, t.name, t.bytes, t.rows))
        return errors, lines
