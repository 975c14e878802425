"""The Data Pump job model and the one classifier that judges how a job ended.

Everything that decides "is it still running, and if not, did it work?" lives here, so the
operators, the sensor, the trigger and the fetch operator cannot disagree. It is pure: no
network, no Airflow imports, so it can be fuzzed and reasoned about on its own.

Why the verdict is not simply ``state``: real ORDS shows a finished job as ``NOT RUNNING``
whether it succeeded, failed, crashed or was stopped (the control table is kept). What happened
is read from ``job_state``/``job_comment`` when ORDS sends them, and from the final line of the
Data Pump log otherwise. A job is never called successful without a final line that says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeAlias, TypedDict
from urllib.parse import unquote, urlsplit

from airflow_provider_datapump.exceptions import DataPumpProtocolError, DataPumpValidationError

__all__ = [
    "RUNNING_STATES",
    "TERMINAL_STATES",
    "XCOM_MAX_ERRORS",
    "XCOM_MAX_OBJECTS",
    "DataPumpJob",
    "FinalLine",
    "JobFile",
    "JobHandle",
    "JobRef",
    "JobResult",
    "Link",
    "LogSummary",
    "ObjectRow",
    "OraError",
    "Outcome",
    "Verdict",
    "accepts",
    "classify",
    "classify_file_name",
    "dump_template_from_names",
    "failure_message",
    "file_name_from_href",
    "normalize_ora_code",
    "parse_final_line",
    "parse_log",
    "verdict_from_xcom",
]

# Data Pump states (DBA_DATAPUMP_JOBS.STATE). COMPLETED and STOPPED are only transient in the
# view; NOT RUNNING is what a finished job with a kept control table shows.
RUNNING_STATES = frozenset(
    {"UNDEFINED", "DEFINING", "EXECUTING", "COMPLETING", "STOP PENDING", "STOPPING", "IDLING"}
)
TERMINAL_STATES = frozenset({"COMPLETED", "STOPPED", "NOT RUNNING"})


class Outcome(str, Enum):  # noqa: UP042  (StrEnum would change str(outcome), which messages use)
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    SUCCEEDED_WITH_ERRORS = "succeeded_with_errors"
    FAILED = "failed"
    STOPPED = "stopped"
    CRASHED = "crashed"
    VANISHED = "vanished"
    # Terminal, but the verdict needs the log; never returned once a log (or its absence) is known.
    UNDETERMINED = "undetermined"

    @property
    def is_terminal(self) -> bool:
        return self not in (Outcome.RUNNING, Outcome.UNDETERMINED)


# --------------------------------------------------------------------------------------------
# Parsing ORDS job bodies
# --------------------------------------------------------------------------------------------

_KNOWN_JOB_KEYS = (
    "owner_name",
    "job_name",
    "operation",
    "job_mode",
    "state",
    "degree",
    "attached_sessions",
    "datapump_sessions",
    "job_state",
    "job_comment",
    "links",
)
_JOB_SEGMENT = re.compile(r"/jobs/([^/,]+),([^/]+)/(?P<file>[^/]*)$")


@dataclass(frozen=True)
class Link:
    rel: str
    href: str


@dataclass(frozen=True)
class JobFile:
    name: str
    kind: str  # "dump" or "log"
    href: str


@dataclass(frozen=True)
class DataPumpJob:
    owner_name: str
    job_name: str
    operation: str | None = None
    job_mode: str | None = None
    state: str | None = None
    job_state: str | None = None
    job_comment: str | None = None
    degree: int | None = None
    attached_sessions: int | None = None
    datapump_sessions: int | None = None
    links: tuple[Link, ...] = ()
    # Fields ORDS sent that this model does not know; kept so nothing the server says is lost.
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ident(self) -> str:
        return f"{self.owner_name},{self.job_name}"

    @property
    def self_href(self) -> str | None:
        return next((link.href for link in self.links if link.rel == "self"), None)

    @property
    def files(self) -> tuple[JobFile, ...]:
        """Dump and log files named by the job's links, classified by extension (not by rel)."""
        found: dict[str, JobFile] = {}
        for link in self.links:
            name = file_name_from_href(link.href)
            if not name:
                continue
            kind = classify_file_name(name, rel=link.rel)
            if kind and name not in found:
                found[name] = JobFile(name=name, kind=kind, href=link.href)
        return tuple(found.values())

    @classmethod
    def from_json(cls, data: Any) -> DataPumpJob:
        """Build a job from an ORDS body; a malformed body raises DataPumpProtocolError."""
        if not isinstance(data, Mapping):
            raise DataPumpProtocolError(
                f"expected a JSON object for a Data Pump job, got {type(data).__name__}"
            )
        owner = _text(data, "owner_name")
        name = _text(data, "job_name")
        if not owner or not name:
            raise DataPumpProtocolError("the job body has no owner_name or job_name")
        raw_links = data.get("links")
        links: list[Link] = []
        if isinstance(raw_links, list):
            for item in raw_links:
                if (
                    isinstance(item, Mapping)
                    and isinstance(item.get("rel"), str)
                    and isinstance(item.get("href"), str)
                ):
                    links.append(Link(rel=item["rel"], href=item["href"]))
        elif raw_links is not None:
            raise DataPumpProtocolError("the job body's links is not a list")
        return cls(
            owner_name=owner,
            job_name=name,
            operation=_text(data, "operation"),
            job_mode=_text(data, "job_mode"),
            state=_text(data, "state"),
            job_state=_text(data, "job_state"),
            job_comment=_text(data, "job_comment"),
            degree=_int(data, "degree"),
            attached_sessions=_int(data, "attached_sessions"),
            datapump_sessions=_int(data, "datapump_sessions"),
            links=tuple(links),
            extra={k: v for k, v in data.items() if k not in _KNOWN_JOB_KEYS},
        )


class JobHandle(TypedDict, total=False):
    """What an operator keeps of the job it submitted: pushed to XCom for the "ORDS job" link,
    stored for a retry to reattach, and handed to the trigger (so every value is JSON)."""

    owner_name: str
    job_name: str
    self_url: str
    log_file: str | None  # the job's own log, for a keep_master=0 job ORDS forgets when it ends
    dump_name: str  # the one-off dump name an export without file_name was given
    submitted_at: float  # epoch seconds: a wait's poll interval grows with the job's age


# Anything a job can be named by: "OWNER,JOB_NAME", a job's self URL, a DataPumpJob, or a job dict
# (an ORDS body, a JobHandle, or the result dict an operator returned).
JobRef: TypeAlias = str | Mapping[str, Any] | DataPumpJob


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DataPumpProtocolError(f"the job body's {key} is not a string: {type(value).__name__}")
    # List items pad operation and job_mode to 30 characters (seen on real ORDS).
    return value.strip() or None


def _int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataPumpProtocolError(f"the job body's {key} is not an integer: {value!r:.40}")
    return value


def file_name_from_href(href: str) -> str | None:
    """The file segment of a ``…/jobs/OWNER,JOB/<file>`` link, or None for job and other links."""
    try:
        path = urlsplit(href).path
    except ValueError:
        return None
    match = _JOB_SEGMENT.search(path)
    if not match or not match.group("file"):
        return None
    return unquote(match.group("file"))


def classify_file_name(name: str, rel: str | None = None) -> str | None:
    upper = name.upper()
    if upper.endswith(".LOG"):
        return "log"
    if upper.endswith(".DMP") or rel == "enclosure":
        return "dump"
    return None


# --------------------------------------------------------------------------------------------
# Parsing Data Pump logs
# --------------------------------------------------------------------------------------------

_PREFIX = r"^(?:\S+ \S+: )?"  # LOGTIME=ALL puts "02-JUL-25 13:43:11.295: " before each line
_FINAL_LINES = (
    ("success", re.compile(_PREFIX + r'Job "([^"]+)"\."([^"]+)" successfully completed at .*$')),
    ("errors", re.compile(_PREFIX + r'Job "([^"]+)"\."([^"]+)" completed with (\d{1,9}) error\(s\) at .*$')),
    ("fatal", re.compile(_PREFIX + r'Job "([^"]+)"\."([^"]+)" stopped due to fatal error at .*$')),
    ("stopped", re.compile(_PREFIX + r'Job "([^"]+)"\."([^"]+)" stopped by user request at .*$')),
)
_ORA = re.compile(r"\b(ORA-\d{5})\b")
# Numbers are bounded so that a corrupt or hostile line is skipped rather than crashing the
# parser: "1.2.3" is no float, and int() refuses more than 4300 digits.
_OBJECT_ROW = re.compile(
    _PREFIX
    + r'\. \. (?P<verb>exported|imported) "(?P<schema>[^"]+)"\."(?P<name>[^"]+)"(?::"(?P<part>[^"]+)")?'
    r"\s+(?P<size>\d{1,20}(?:\.\d{1,20})?)\s+(?P<unit>[KMGT]?B)\s+(?P<rows>\d{1,20})\s+rows"
)
_DUMP_SET = re.compile(_PREFIX + r"Dump file set for \S+ is:\s*$")
_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


@dataclass(frozen=True)
class OraError:
    code: str
    line: str


@dataclass(frozen=True)
class ObjectRow:
    schema: str
    name: str
    rows: int
    bytes: int
    size: str
    partition: str | None = None


@dataclass(frozen=True)
class FinalLine:
    kind: str  # success | errors | fatal | stopped
    line: str
    error_count: int = 0


@dataclass(frozen=True)
class LogSummary:
    final: FinalLine | None
    errors: tuple[OraError, ...] = ()
    objects: tuple[ObjectRow, ...] = ()
    dump_files: tuple[str, ...] = ()


def parse_final_line(line: str) -> FinalLine | None:
    text = line.strip()
    for kind, pattern in _FINAL_LINES:
        match = pattern.match(text)
        if match:
            count = int(match.group(3)) if kind == "errors" else 0
            return FinalLine(kind=kind, line=text, error_count=count)
    return None


def parse_log(text: str) -> LogSummary:
    final: FinalLine | None = None
    errors: list[OraError] = []
    objects: list[ObjectRow] = []
    dumps: list[str] = []
    in_dump_set = False
    for raw in text.splitlines():
        line = raw.rstrip()
        if in_dump_set:
            if line.startswith((" ", "\t")) and line.strip():
                dumps.append(line.strip())
                continue
            in_dump_set = False
        if _DUMP_SET.match(line):
            in_dump_set = True
            continue
        parsed = parse_final_line(line)
        if parsed:
            final = parsed  # the last one wins: a restarted job logs several
            continue
        for code in _ORA.findall(line):
            errors.append(OraError(code=code, line=line.strip()))
            break
        row = _OBJECT_ROW.match(line)
        if row:
            objects.append(
                ObjectRow(
                    schema=row["schema"],
                    name=row["name"],
                    partition=row["part"],
                    rows=int(row["rows"]),
                    bytes=int(float(row["size"]) * _UNITS[row["unit"]]),
                    size=f"{row['size']} {row['unit']}",
                )
            )
    return LogSummary(final=final, errors=tuple(errors), objects=tuple(objects), dump_files=tuple(dumps))


# --------------------------------------------------------------------------------------------
# The classifier
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    message: str
    errors: tuple[OraError, ...] = ()
    error_count: int = 0
    # Set when ``errors`` holds only the first ORA lines (a result read back from XCom): how many
    # were read from the log, and the codes of all of them.
    errors_seen: int | None = None
    more_codes: tuple[str, ...] = ()

    @property
    def ora_codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*(e.code for e in self.errors), *self.more_codes]))

    @property
    def seen(self) -> int:
        """The number of ORA lines read from the log."""
        return len(self.errors) if self.errors_seen is None else max(self.errors_seen, len(self.errors))

    @property
    def running(self) -> bool:
        # Lets operators, the sensor and waiting.py ask without importing Outcome: they import
        # this module only at run time, keeping it out of DAG parsing (bench/import_time.py).
        return self.outcome is Outcome.RUNNING


_FINAL_TO_OUTCOME = {
    "success": Outcome.SUCCEEDED,
    "errors": Outcome.SUCCEEDED_WITH_ERRORS,
    "fatal": Outcome.FAILED,
    "stopped": Outcome.STOPPED,
}


def classify(
    job: DataPumpJob | None,
    log: LogSummary | None = None,
    *,
    log_unavailable: bool = False,
) -> Verdict:
    """Turn a job (None: it answered 404 after being seen) and optionally its log into a verdict.

    ``log_unavailable`` says the caller looked for the log and there is none; without it, a
    terminal job whose verdict depends on the log comes back UNDETERMINED so the caller reads it.
    """
    errors = log.errors if log else ()
    if job is None:
        if log and log.final:
            return _from_final(log.final, errors, prefix="the job is gone from ORDS; its log says: ")
        return Verdict(
            Outcome.VANISHED,
            "ORDS does not know the job (404): either the owner or job name is wrong, or the job "
            "went away before a verdict could be read (with keep_master=0 a successful job goes "
            "too), so its outcome is unknown",
            errors=errors,
        )
    state = (job.state or "").upper()
    if state in RUNNING_STATES:
        return Verdict(Outcome.RUNNING, f"the job is {state}")
    if state not in TERMINAL_STATES:
        raise DataPumpProtocolError(f"ORDS reported an unknown Data Pump state {job.state!r} for {job.ident}")

    # job_comment carries Data Pump's final line on ORDS versions that send it; a log, if read,
    # is the fuller record (it also has the ORA- lines), so prefer the log's final line.
    final = (log.final if log else None) or (parse_final_line(job.job_comment) if job.job_comment else None)
    if final:
        return _from_final(final, errors)
    if log is None and not log_unavailable:
        return Verdict(Outcome.UNDETERMINED, f"the job is {state}; the verdict needs its log")
    if (job.job_state or "").upper() == "STOPPED" or state == "STOPPED":
        return Verdict(Outcome.STOPPED, "the job was stopped and left no final line", errors=errors)
    where = "its log has no final Data Pump line" if log is not None else "no log could be read"
    return Verdict(
        Outcome.CRASHED,
        f"the job is {state} but {where}: it ended without Data Pump reporting an outcome",
        errors=errors,
    )


def _from_final(final: FinalLine, errors: tuple[OraError, ...], prefix: str = "") -> Verdict:
    return Verdict(
        _FINAL_TO_OUTCOME[final.kind],
        prefix + final.line,
        errors=errors,
        error_count=final.error_count,
    )


def accepts(verdict: Verdict, *, fail_on_errors: bool = True, allowed_ora_codes: Iterable[str] = ()) -> bool:
    """The one policy for "does the task accept this ending?"."""
    if verdict.outcome is Outcome.SUCCEEDED:
        return True
    if verdict.outcome is not Outcome.SUCCEEDED_WITH_ERRORS:
        return False
    if not fail_on_errors:
        return True
    allowed = {normalize_ora_code(code) for code in allowed_ora_codes}
    codes = set(verdict.ora_codes)
    # Every error must be proven allowed: a count larger than the ORA lines we could read means
    # some error went unseen, and an unseen error cannot be allowed.
    return bool(codes) and codes <= allowed and verdict.seen >= verdict.error_count


def normalize_ora_code(code: str | int) -> str:
    """``"ORA-1"``, ``"39082"`` or ``39082`` as ``"ORA-39082"``; anything else is refused, naming it."""
    text = str(code).strip().upper()
    digits = text[4:] if text.startswith("ORA-") else text
    if not digits.isdigit():
        raise DataPumpValidationError("allowed_ora_codes", f"not an ORA code: {code!r}")
    return f"ORA-{int(digits):05d}"


# --------------------------------------------------------------------------------------------
# The result every task returns (XCom) and every waiter passes around
# --------------------------------------------------------------------------------------------


# A result crosses XCom and the trigger's event, both kept in Airflow's database and shown in its
# UI. A FULL export of a large database lists tens of thousands of objects, and an import into
# existing tables can log as many ORA lines, so the dict keeps the first of each and the totals.
# Nothing is judged on the cut lists: errors_seen and ora_codes cover every line read.
XCOM_MAX_OBJECTS = 1000
XCOM_MAX_ERRORS = 200


@dataclass(frozen=True)
class JobResult:
    job: DataPumpJob
    verdict: Verdict
    self_url: str
    files: tuple[dict[str, str], ...]
    objects: tuple[ObjectRow, ...] = ()
    dump_file_template: str | None = None
    datapump_dir: str | None = None
    log_file: str | None = None  # the job's own log, once it ended and the log was read
    # What the log says ran, compared with the request (selection.check_selection), when the
    # request was known and the job has ended.
    selection: Mapping[str, Any] | None = None
    # The dump set as the log's "Dump file set" lines name it (file names only).
    log_dump_files: tuple[str, ...] = ()

    def objects_json(self, limit: int | None = None) -> list[dict[str, Any]]:
        return [
            {"schema": o.schema, "name": o.name, "partition": o.partition, "rows": o.rows, "bytes": o.bytes}
            for o in self.objects[:limit]
        ]

    def to_xcom(self) -> dict[str, Any]:
        """A small JSON dict; the sensor, the import's from_job and the fetch operator accept it.

        ``errors`` and ``objects`` hold at most the first XCOM_MAX_ERRORS and XCOM_MAX_OBJECTS
        entries; ``errors_seen``, ``ora_codes``, ``object_count`` and ``schemas`` (and ``tables``
        for a TABLE-mode job) are complete.
        """
        errors = self.verdict.errors
        result: dict[str, Any] = {
            "owner_name": self.job.owner_name,
            "job_name": self.job.job_name,
            "operation": self.job.operation,
            "job_mode": self.job.job_mode,
            "state": self.job.state,
            "job_state": self.job.job_state,
            "outcome": self.verdict.outcome.value,
            "message": self.verdict.message,
            "self_url": self.self_url,
            "datapump_dir": self.datapump_dir,
            "dump_file_template": self.dump_file_template,
            "log_file": self.log_file,
            "files": [dict(f) for f in self.files],
            "error_count": self.verdict.error_count,
            "errors": [{"code": e.code, "line": e.line} for e in errors[:XCOM_MAX_ERRORS]],
            "errors_seen": self.verdict.seen,
            "ora_codes": list(self.verdict.ora_codes),
            "objects": self.objects_json(XCOM_MAX_OBJECTS),
            "object_count": len(self.objects),
            "schemas": sorted({o.schema for o in self.objects}),
        }
        if (self.job.job_mode or "").upper() == "TABLE":
            result["tables"] = sorted({o.name for o in self.objects})
        if self.selection is not None:
            result["selection_check"] = dict(self.selection)
        return result


def dump_template_from_names(names: Iterable[str]) -> str | None:
    """The ``%U`` template behind a set of dump names (EXPDAT01-x.DMP, EXPDAT02-x.DMP → EXPDAT%U-x.DMP)."""
    ordered = sorted(set(names))
    if not ordered:
        return None
    if len(ordered) == 1:
        return ordered[0]
    first = ordered[0]
    for match in re.finditer(r"\d{2}", first):
        start, end = match.span()
        template = first[:start] + "%U" + first[end:]
        pattern = re.compile(re.escape(first[:start]) + r"\d{2}" + re.escape(first[end:]) + r"\Z")
        if all(pattern.match(name) for name in ordered):
            return template
    return None


def verdict_from_xcom(result: Mapping[str, Any]) -> Verdict:
    """The verdict inside a result dict (what crosses the trigger boundary and XCom)."""
    try:
        outcome = Outcome(result.get("outcome"))
    except ValueError:
        raise DataPumpProtocolError(
            f"the job result has no valid outcome: {result.get('outcome')!r}"
        ) from None
    errors = tuple(
        OraError(code=str(e.get("code")), line=str(e.get("line")))
        for e in result.get("errors") or ()
        if isinstance(e, Mapping)
    )
    seen = result.get("errors_seen")
    codes = result.get("ora_codes")
    return Verdict(
        outcome=outcome,
        message=str(result.get("message") or outcome.value),
        errors=errors,
        error_count=int(result.get("error_count") or 0),
        errors_seen=seen if isinstance(seen, int) and not isinstance(seen, bool) else None,
        more_codes=tuple(str(c) for c in codes) if isinstance(codes, list) else (),
    )


def failure_message(result: Mapping[str, Any], verdict: Verdict, *, max_lines: int = 20) -> str:
    """One readable message: which job, how it ended, Data Pump's final line and the ORA- lines."""
    ident = f"{result.get('owner_name')}.{result.get('job_name')}"
    lines = [f"Data Pump job {ident} ended {verdict.outcome.value}: {verdict.message}"]
    if verdict.errors:
        lines.append(f"ORA- lines from the log ({verdict.seen}):")
        lines.extend(f"  {e.line}" for e in verdict.errors[:max_lines])
        if verdict.seen > min(max_lines, len(verdict.errors)):
            lines.append(f"  ... and {verdict.seen - min(max_lines, len(verdict.errors))} more")
    if result.get("self_url"):
        lines.append(f"Job: {result['self_url']}")
    return "\n".join(lines)
