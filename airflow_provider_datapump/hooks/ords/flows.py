"""The read flows: list (one page, a bounded walk, a snapshot of named jobs), get, text, download
and resolve, as functions of their inputs.

Each is a generator of instructions (``instructions``); ``transport.run`` and ``transport.arun``
drive them. They hold no state of their own, so a test drives them with scripted answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from airflow_provider_datapump.exceptions import DataPumpHTTPError, DataPumpProtocolError
from airflow_provider_datapump.hooks.ords.instructions import Download, Flow, Request, Sink
from airflow_provider_datapump.hooks.ords.policy import LinkPolicy
from airflow_provider_datapump.hooks.ords.refs import JobRef, file_href, locate
from airflow_provider_datapump.jobs import (
    DataPumpJob,
    JobResult,
    LogSummary,
    Outcome,
    classify,
    dump_template_from_names,
    parse_log,
)
from airflow_provider_datapump.selection import check_selection

__all__ = [
    "LIST_MAX_PAGES",
    "LIST_MAX_ROWS",
    "LIST_PAGE_SIZE",
    "JobPage",
    "ListWindow",
    "NamesWindow",
    "build_result",
    "download_flow",
    "get_flow",
    "list_flow",
    "q_param",
    "resolve_flow",
    "snapshot_flow",
    "text_flow",
    "walk_flow",
]


@dataclass(frozen=True)
class JobPage:
    items: tuple[DataPumpJob, ...]
    has_more: bool
    limit: int | None
    offset: int | None
    count: int
    next_href: str | None = None  # the server's link to the next page, when it gave one


def q_param(filter_object: Mapping[str, Any]) -> str:
    """An ORDS filter object as the ``q`` query parameter."""
    return json.dumps(filter_object, separators=(",", ":"))


def list_flow(
    links: LinkPolicy,
    limit: int | None = None,
    offset: int | None = None,
    *,
    q: Mapping[str, Any] | None = None,
    url: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> Flow[JobPage]:
    if params is None:
        params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
        if q is not None:
            params["q"] = q_param(q)
    body = yield Request("GET", url or links.settings.api_root + "jobs/", params=params or None)
    if not isinstance(body, Mapping) or not isinstance(body.get("items"), list):
        raise DataPumpProtocolError("the job list has no items array")
    next_href = next(
        (
            link.get("href")
            for link in body.get("links") or ()
            if isinstance(link, Mapping) and link.get("rel") == "next" and isinstance(link.get("href"), str)
        ),
        None,
    )
    return JobPage(
        items=tuple(DataPumpJob.from_json(item) for item in body["items"]),
        has_more=bool(body.get("hasMore")),
        limit=body.get("limit") if isinstance(body.get("limit"), int) else None,
        offset=body.get("offset") if isinstance(body.get("offset"), int) else None,
        count=len(body["items"]),
        next_href=next_href,
    )


def get_flow(links: LinkPolicy, job: JobRef) -> Flow[DataPumpJob]:
    _, _, url = locate(job, links)
    body = yield Request("GET", url)
    return DataPumpJob.from_json(body)


def text_flow(links: LinkPolicy, job: JobRef, file_name: str) -> Flow[str]:
    owner, name, _ = locate(job, links)
    return (yield Request("GET", links.follow(file_href(job, file_name), owner, name, file_name), text=True))


def download_flow(links: LinkPolicy, job: JobRef, file_name: str, sink: Sink) -> Flow[int]:
    owner, name, _ = locate(job, links)
    return (yield Download(links.follow(file_href(job, file_name), owner, name, file_name), sink))


def resolve_flow(links: LinkPolicy, job: JobRef, extras: Mapping[str, Any] | None = None) -> Flow[JobResult]:
    """The job's verdict: running, or how it ended, judged from its state and its logs."""
    owner, name, url = locate(job, links)
    try:
        current = yield from get_flow(links, job)
    except DataPumpHTTPError as err:
        if err.status != 404:
            raise
        gone = DataPumpJob(owner_name=owner, job_name=name)
        return build_result(gone, classify(None), url, None, extras)
    verdict = classify(current)
    logs: dict[str, tuple[LogSummary, bool]] = {}
    if verdict.outcome is not Outcome.RUNNING:
        for f in current.files:
            if f.kind != "log":
                continue
            try:
                text = yield from text_flow(links, current, f.name)
            except DataPumpHTTPError as err:
                if err.status != 404:
                    raise
                continue
            logs[f.name] = (parse_log(text), f'"{current.job_name}"' in text)
    primary = _primary_log(logs)
    summary = primary[1] if primary else None
    if verdict.outcome is not Outcome.RUNNING:
        verdict = classify(current, summary, log_unavailable=summary is None)
    return build_result(
        current, verdict, url, summary, extras, links, log_file=primary[0] if primary else None
    )


def _primary_log(logs: Mapping[str, tuple[LogSummary, bool]]) -> tuple[str, LogSummary] | None:
    """(name, summary) of the job's own log: an import links the export's log and its own, and
    the job's own log is the one that names the job."""
    if not logs:
        return None
    own = [(name, summary) for name, (summary, names_job) in logs.items() if names_job]
    if own:
        return own[-1]
    name, (summary, _) = list(logs.items())[-1]
    return name, summary


def build_result(
    job: DataPumpJob,
    verdict: Any,
    url: str,
    summary: LogSummary | None,
    extras: Mapping[str, Any] | None,
    links: LinkPolicy | None = None,
    log_file: str | None = None,
) -> JobResult:
    extras = extras or {}
    files = []
    for f in job.files:
        href = links.follow(f.href, job.owner_name, job.job_name, f.name) if links else f.href
        files.append({"name": f.name, "kind": f.kind, "url": href})
    dumps = [f["name"] for f in files if f["kind"] == "dump"]
    log_dumps = tuple(
        d.replace("\\", "/").rsplit("/", 1)[-1] for d in (summary.dump_files if summary else ())
    )
    template = extras.get("file_name") or dump_template_from_names(dumps or log_dumps)
    objects = summary.objects if summary else ()
    selection = None
    request = extras.get("request")
    if (
        isinstance(request, Mapping)
        and verdict.outcome.is_terminal
        and verdict.outcome is not Outcome.VANISHED
    ):
        selection = check_selection(
            request,
            owner=job.owner_name,
            job_mode=job.job_mode,
            objects=((o.schema, o.name) for o in objects),
            dump_files=dumps or log_dumps,
            log_read=summary is not None,
        ).to_json()
    return JobResult(
        job=job,
        verdict=verdict,
        self_url=url,
        files=tuple(files),
        objects=tuple(objects),
        dump_file_template=template,
        datapump_dir=extras.get("datapump_dir"),
        log_file=log_file,
        selection=selection,
        log_dump_files=log_dumps,
    )


# Walking the job list: pages of this size, never more than this many pages for one question.
LIST_PAGE_SIZE = 500
LIST_MAX_PAGES = 20
# The largest page a snapshot asks for: ORDS's row cap, misc.pagination.maxRows, 10,000 by default.
# A server configured lower clamps the page (the answer's limit says so) and the walk follows next.
LIST_MAX_ROWS = 10000


class ListWindow(Protocol):
    """What a walk of the job list looks for: ``q`` for the server, ``matches`` applied here too."""

    @property
    def q(self) -> dict[str, Any]: ...

    def matches(self, job: DataPumpJob) -> bool: ...


@dataclass(frozen=True)
class NamesWindow:
    """One owner's jobs named ``names``: filtered by owner, and by name from the lowest of them on
    (ORDS filters by range); ``matches`` applies the filter here too, for a server that ignores it."""

    owner: str
    names: frozenset[str]

    @property
    def q(self) -> dict[str, Any]:
        return {"owner_name": {"$eq": self.owner}, "job_name": {"$gte": min(self.names)}}

    def matches(self, job: DataPumpJob) -> bool:
        return job.owner_name == self.owner and job.job_name in self.names


def snapshot_flow(links: LinkPolicy, log: Any, idents: Iterable[str]) -> Flow[dict[str, DataPumpJob]]:
    """The listed state of the jobs ``idents`` (``"OWNER,JOB_NAME"``), by ident: one bounded walk
    of the job list per owner. A job missing from the answer is missing from the list, or past the
    walk's last page.

    Per owner, because the list mirrors DBA_DATAPUMP_JOBS, every user's jobs: filtered by name
    alone, a walk for one owner's jobs would read every other owner's jobs named after the lowest
    of them, and past the walk's bound its own would fall off the end.
    """
    by_owner: dict[str, set[str]] = {}
    for ident in idents:
        owner, _, name = str(ident).partition(",")
        if owner and name:
            by_owner.setdefault(owner, set()).add(name)
    listed: dict[str, DataPumpJob] = {}
    for owner, names in sorted(by_owner.items()):
        # One request where the server allows: the page is sized to the watched names with room for
        # as many unwatched ones in their range (the list keeps ended jobs), within ORDS's row cap.
        limit = min(LIST_MAX_ROWS, max(LIST_PAGE_SIZE, 2 * len(names)))
        jobs, _ = yield from walk_flow(links, log, NamesWindow(owner, frozenset(names)), limit=limit)
        listed.update((job.ident, job) for job in jobs)
    return listed


def walk_flow(
    links: LinkPolicy, log: Any, window: ListWindow, *, limit: int = LIST_PAGE_SIZE
) -> Flow[tuple[list[DataPumpJob], bool]]:
    """The jobs ``window`` matches: a bounded walk of the job list.

    The list mirrors DBA_DATAPUMP_JOBS and only grows (control tables are kept by default), so
    it is filtered with ``q`` (documented) and walked by its ``next`` links (``offset`` is not a
    documented request parameter) for at most LIST_MAX_PAGES pages. The filter is applied here
    too: a server may ignore ``q``, or refuse it (then the walk goes on without it). A server
    that ignores ``offset`` serves the same rows again; the walk then goes on by ``q`` alone,
    asking for names after the highest one seen (the list is ordered by owner and job name, so
    with several owners this may skip some of another owner's rows), and stops when that does
    not help either. ``limit`` is the page asked for; a server may clamp it. Returns (jobs, complete).
    """
    root = links.settings.api_root + "jobs/"
    url: str = root
    params: dict[str, Any] | None = {"limit": limit, "q": q_param(window.q)}
    found: dict[str, DataPumpJob] = {}
    listed: set[str] = set()
    q_works = True
    for _ in range(LIST_MAX_PAGES):
        try:
            page = yield from list_flow(links, url=url, params=params)
        except DataPumpHTTPError as err:
            if err.status == 400 and params and "q" in params and q_works:
                log.info("ORDS refused the job-list filter q (%s); listing without it", err)
                q_works = False
                url, params = root, {"limit": limit}
                continue
            raise
        fresh = [job for job in page.items if job.ident not in listed]
        listed.update(job.ident for job in page.items)
        found.update((job.ident, job) for job in page.items if window.matches(job))
        if not page.has_more or not page.items:
            return list(found.values()), True
        if not fresh:
            # The same rows again: the server ignores offset (or q); walking on by them cannot end.
            if not q_works:
                return list(found.values()), False
            highest = max(job.job_name for job in page.items)
            if params and params.get("q") == q_param({"job_name": {"$gt": highest}}):
                return list(found.values()), False  # q is ignored too
            url, params = root, {"limit": limit, "q": q_param({"job_name": {"$gt": highest}})}
            continue
        if page.next_href:
            parts = urlsplit(page.next_href)
            url = root
            params = dict(parse_qsl(parts.query)) if parts.query else None
        else:
            params = {**(params or {}), "offset": (page.offset or 0) + page.count}
    return list(found.values()), False
