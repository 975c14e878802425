"""Creating a job without ever starting two, and telling which new job is ours when an answer is lost.

``create_flow`` never sends a create blindly again: after an ambiguous failure it searches the
job list (``search_flow``) for new jobs of the same operation and weighs each one's evidence
(``evidence_flow``, ``decide_flow``). ``settle_flow`` finishes that decision on a later try.
"""

from __future__ import annotations

import random
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_datapump.exceptions import (
    DataPumpAmbiguousJobError,
    DataPumpHTTPError,
    DataPumpValidationError,
)
from airflow_provider_datapump.hooks.ords.description import (
    OrdsDescription,
    choose_endpoint,
    declares,
    plan_create,
)
from airflow_provider_datapump.hooks.ords.errors import AmbiguousCreate
from airflow_provider_datapump.hooks.ords.flows import LIST_MAX_PAGES, LIST_PAGE_SIZE, resolve_flow, walk_flow
from airflow_provider_datapump.hooks.ords.instructions import Flow, Request, Sleep
from airflow_provider_datapump.hooks.ords.policy import LinkPolicy, RetryPolicy
from airflow_provider_datapump.jobs import DataPumpJob, Outcome
from airflow_provider_datapump.payloads import parse_ords_version, validate_payload
from airflow_provider_datapump.selection import file_template_regex

__all__ = [
    "LIST_MAX_PAGES",
    "LIST_PAGE_SIZE",
    "NAME_CLASH_SECONDS",
    "CreateContext",
    "Decision",
    "SearchWindow",
    "create_flow",
    "decide_flow",
    "dump_set_evidence",
    "evidence_flow",
    "identify_flow",
    "prepare_create",
    "search_flow",
    "settle_flow",
    "unique_dump_template",
]

# Walking the job list: pages of this size, never more than this many pages for one question.
# ORA-31634 (a job of this owner was named in the same second) is retried for this long. ORDS
# creates at most one job of an operation per owner per second, so N creates at once need N
# seconds: a mapped export of 100 schemas on one ORDS user, plus anyone else on it, fits.
NAME_CLASH_SECONDS = 300.0
# The database's local time (in which ORDS names jobs) lies within 12 hours behind UTC and 14
# ahead; the search window opens early enough for any of them, and a few minutes of clock skew.
_WINDOW_BEHIND = 12 * 3600 + 600
_DEFAULT_DUMP_NAME = re.compile(r"EXPDAT\d{2}", re.I)

Evidence = tuple[str, str, "DataPumpJob | None"]


@dataclass(frozen=True)
class CreateContext:
    """What the identity flows need besides their arguments."""

    links: LinkPolicy
    retry: RetryPolicy
    log: Any
    # Seconds (beyond the grace window) to wait for the evidence that tells which new job is ours.
    identity_settle: float


def unique_dump_template(now: float | None = None) -> str:
    """A dump file template no other submission uses: ORDS's own pattern plus a random part."""
    stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"EXPDAT%U-{stamp}-{secrets.token_hex(4).upper()}.DMP"


@dataclass(frozen=True)
class SearchWindow:
    """Jobs one create may have started: its operation's REST jobs named after ``lower``."""

    operation: str
    lower: str  # a job name: DATAPUMP_REST_<OP>_<YYYYMMDDHH24MISS>

    @classmethod
    def around(cls, operation: str, now: float) -> SearchWindow:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now - _WINDOW_BEHIND))
        return cls(operation, f"DATAPUMP_REST_{operation}_{stamp}")

    @property
    def prefix(self) -> str:
        return f"DATAPUMP_REST_{self.operation}_"

    @property
    def q(self) -> dict[str, Any]:
        return {"job_name": {"$gt": self.lower}}

    def matches(self, job: DataPumpJob) -> bool:
        return (
            job.job_name.startswith(self.prefix)
            and job.job_name > self.lower
            and ((job.operation or self.operation).upper() == self.operation)
        )


@dataclass(frozen=True)
class Decision:
    ours: DataPumpJob | None
    undecided: set[str]
    why: str


def dump_set_evidence(template: str, dumps: Sequence[str]) -> tuple[str, str]:
    """What a finished export's dump file names say about whose it is, against the name its request
    had: "ours!" (the name), "not ours" (another name), "undecided" (none, or ORDS's own default
    names, which an ORDS that dropped file_name uses: they prove nothing)."""
    if dumps and all(file_template_regex(template).match(d) for d in dumps):
        return "ours!", f"its dump set {', '.join(dumps[:3])} has this request's name"
    if dumps and not all(_DEFAULT_DUMP_NAME.match(d) for d in dumps):
        return "not ours", f"its dump set is {', '.join(dumps[:3])}"
    return "undecided", "its dump set has ORDS's default names (or none), which prove nothing"


def prepare_create(
    payload: Mapping[str, Any],
    links: LinkPolicy,
    description: OrdsDescription | None = None,
    endpoint: str | None = None,
) -> tuple[dict[str, Any], str | None]:
    """(the body to send, the one-off dump name it was given or None). Raises before anything is sent."""
    body = validate_payload(payload)  # never send what we would reject
    ords_version = links.settings.ords_version
    if body["operation"] == "EXPORT" and body.get("file_name") is None:
        # A server that describes itself says whether its export takes file_name; by the table,
        # the export endpoint documents it from ORDS 21.3, and an older one would drop it.
        said = None
        if description is not None and not ords_version:
            said = declares(description, None, choose_endpoint(description, endpoint, "EXPORT"), "file_name")
        version = parse_ords_version(ords_version)
        named = said if said is not None else (version is None or version >= (21, 3))
    else:
        named = False
    if named:
        # A name no other submission uses: when the create's answer is lost, the dump set of a
        # new job proves whether it is ours (see identify_flow). ORDS's own default name is
        # EXPDAT%U-<timestamp>.DMP, the same for every job created in one second.
        body["file_name"] = unique_dump_template()
        return body, body["file_name"]
    return body, None


def create_flow(
    ctx: CreateContext,
    body: Mapping[str, Any],
    endpoint: str | None,
    *,
    generated: bool,
    description: OrdsDescription | None = None,
) -> Flow[DataPumpJob]:
    """Submit ``body`` (from ``prepare_create``; ``generated``: it carries a one-off dump name).

    What is sent, and where, is the server's ``description`` when it gave one, else the table
    (``description.plan_create``); a key neither allows is refused here, before any request."""
    links = ctx.links
    operation = body["operation"]
    chosen, sent = plan_create(
        body, endpoint, ords_version=links.settings.ords_version, description=description
    )
    url = links.settings.api_root + ("jobs/" if chosen == "jobs" else chosen)
    window = SearchWindow.around(operation, time.time())
    known, _ = yield from search_flow(ctx, window)
    attempt = 0
    clash_deadline: float | None = None
    while True:
        attempt += 1
        try:
            answer = yield Request("POST", url, json=sent, idempotent=False, ok=frozenset({200, 201}))
            return DataPumpJob.from_json(answer)
        except (AmbiguousCreate, DataPumpHTTPError) as failure:
            cause = failure.cause if isinstance(failure, AmbiguousCreate) else failure
            if _is_name_clash(cause):
                clash_deadline = clash_deadline or time.monotonic() + NAME_CLASH_SECONDS
            if _is_name_clash(cause) and time.monotonic() < (clash_deadline or 0):
                # ORA-31634: another job of this owner got this second's name first (ORDS names
                # jobs by the second). Nothing was created; a later second is free. Random
                # waits spread the creates that collided over the seconds to come.
                attempt -= 1
                wait = random.uniform(0.5, 2.5)
                ctx.log.info(
                    "ORDS named the job after one created in the same second (ORA-31634); "
                    "sending the create again in %.1fs",
                    wait,
                )
                yield Sleep(wait)
                continue
            ours_may_exist = isinstance(failure, AmbiguousCreate) or (generated and _dump_file_exists(cause))
            if not ours_may_exist:
                raise
            answered = not isinstance(failure, AmbiguousCreate) or failure.answered
        grace = 0.0 if answered else 2 * links.settings.timeout
        job = yield from identify_flow(
            ctx,
            body,
            window,
            {j.ident for j in known},
            cause,
            grace=grace,
            settle=grace + ctx.identity_settle,
        )
        if job is not None:
            return job
        if attempt >= ctx.retry.attempts:
            raise cause
        wait = ctx.retry.delay(attempt, getattr(cause, "retry_after", None)) or 0.0
        ctx.log.warning(
            "The create request failed (%s) and no new job is ours; sending it again in %.1fs", cause, wait
        )
        yield Sleep(wait)


def identify_flow(
    ctx: CreateContext,
    body: Mapping[str, Any],
    window: SearchWindow,
    known: set[str],
    cause: Exception,
    *,
    grace: float,
    settle: float,
) -> Flow[DataPumpJob | None]:
    """Which new job, if any, did our unanswered create start? Decided from evidence only.

    New jobs of the same operation are candidates; each is ours, not ours, or undecided
    (``evidence_flow``). Waits up to ``grace`` seconds for a job to appear (a request with no
    answer may still be in the server's hands) and up to ``settle`` for the evidence to settle.
    The candidates are those seen by the first look after the grace window: a job that appears
    later is not our request's, as sending the create again already assumes, and on a busy
    ORDS user new jobs never stop appearing. None: nothing new is ours, and sending the create
    again starts no second job.
    """
    started = time.monotonic()
    candidates: dict[str, DataPumpJob] = {}
    frozen = False
    settled: dict[str, Evidence] = {}
    while True:
        jobs, complete = yield from search_flow(ctx, window)
        if not frozen:
            candidates.update((j.ident, j) for j in jobs if j.ident not in known)
            frozen = time.monotonic() - started >= grace
        if not complete:
            ctx.log.warning(
                "The job list was longer than %d pages; candidates past them are not considered",
                LIST_MAX_PAGES,
            )
        decision = yield from decide_flow(ctx.links, body, list(candidates), settled)
        elapsed = time.monotonic() - started
        if decision.ours is not None:
            ctx.log.warning(
                "The create request failed (%s) but ORDS did create %s: %s",
                cause,
                decision.ours.ident,
                decision.why,
            )
            return decision.ours
        if not decision.undecided and frozen:
            if candidates:
                ctx.log.info(
                    "New %s job(s) %s belong to other submissions: %s",
                    body["operation"],
                    ", ".join(candidates),
                    decision.why,
                )
            return None
        if elapsed >= settle:
            idents = sorted(decision.undecided)
            pending = {"pending_create": True, "request": dict(body), "candidates": idents}
            raise DataPumpAmbiguousJobError(
                f"the create request failed ({cause}) and {len(idents)} new {body['operation']} job(s) may be ours: "
                f"{', '.join(idents)}. None is proven ours yet ({decision.why}); refusing to report another "
                "submission's job, or to start a second one. A retry of this task settles it once they end.",
                candidates=idents,
                pending=pending,
            ) from cause
        yield Sleep(min(2.0, max(0.2, settle - elapsed)))


def settle_flow(ctx: CreateContext, pending: Mapping[str, Any]) -> Flow[DataPumpJob | None]:
    request, candidates = pending.get("request"), pending.get("candidates")
    if not isinstance(request, Mapping) or not isinstance(candidates, list):
        raise DataPumpValidationError("pending", "is not what DataPumpAmbiguousJobError.pending holds")
    body = validate_payload(request)
    # The candidates were fixed after the grace window, as in identify_flow: a job that
    # appeared since is not the failed try's.
    idents = list(dict.fromkeys(map(str, candidates)))
    decision = yield from decide_flow(ctx.links, body, idents)
    if decision.ours is not None:
        ctx.log.info("%s is the job the earlier create started: %s", decision.ours.ident, decision.why)
        return decision.ours
    if not decision.undecided:
        ctx.log.info(
            "None of %s is the earlier create's job (%s); nothing of ours was created",
            ", ".join(idents),
            decision.why,
        )
        return None
    raise DataPumpAmbiguousJobError(
        f"which of {', '.join(sorted(decision.undecided))} the earlier create started cannot be told yet "
        f"({decision.why}); it can once they end",
        candidates=sorted(decision.undecided),
        pending=dict(pending),
    )


def decide_flow(
    links: LinkPolicy, body: Mapping[str, Any], idents: list[str], settled: dict[str, Evidence] | None = None
) -> Flow[Decision]:
    evidence: dict[str, Evidence] = {}
    settled = {} if settled is None else settled
    for ident in idents:
        if ident not in settled:
            found = yield from evidence_flow(links, body, ident)
            if found[0] != "running":
                settled[ident] = found  # an ended job's evidence does not change: read it once
            evidence[ident] = found
        else:
            evidence[ident] = settled[ident]
    strong = [job for kind, _, job in evidence.values() if kind == "ours!" and job is not None]
    weak = [job for kind, _, job in evidence.values() if kind == "ours" and job is not None]
    undecided = {i for i, (kind, _, _) in evidence.items() if kind in ("running", "undecided")}
    why = "; ".join(f"{i}: {reason}" for i, (_, reason, _) in evidence.items()) or "no new job"
    if len(strong) == 1:
        return Decision(strong[0], set(), why)
    if len(strong) > 1:
        # Two dump sets with our one-off name cannot both be ours: say so instead of guessing.
        return Decision(None, {j.ident for j in strong} | undecided, why)
    if len(weak) == 1 and not undecided:
        return Decision(weak[0], set(), why)
    return Decision(None, undecided | {j.ident for j in weak}, why)


def evidence_flow(links: LinkPolicy, body: Mapping[str, Any], ident: str) -> Flow[Evidence]:
    """(kind, why, job): "ours!" (proven by our one-off dump name), "ours" (by what it processed),
    "not ours", "running" (no evidence yet) or "undecided" (ended, and nothing proves whose it is)."""
    result = yield from resolve_flow(links, ident, {"request": body})
    job = result.job
    if (job.operation or body["operation"]).upper() != body["operation"]:
        return "not ours", f"a {job.operation} job", None
    if result.verdict.outcome is Outcome.VANISHED:
        return "not ours", "gone from ORDS", None
    if result.verdict.running:
        return "running", "still running: its dump set and log are written when it ends", None
    check = result.selection or {}
    mismatches = [m for m in check.get("mismatches", ()) if not m.startswith("file_name ")]
    if mismatches:
        return "not ours", mismatches[0], None
    template = body.get("file_name")
    if body["operation"] == "EXPORT" and isinstance(template, str) and "://" not in template:
        dumps = [f["name"] for f in result.files if f["kind"] == "dump"] or list(result.log_dump_files)
        kind, why = dump_set_evidence(template, dumps)
        return kind, why, job if kind == "ours!" else None
    if check.get("objects_seen"):
        return "ours", "what it processed matches this request", job
    return "undecided", "it processed nothing that proves whose it is", None


def search_flow(ctx: CreateContext, window: SearchWindow) -> Flow[tuple[list[DataPumpJob], bool]]:
    """REST jobs of one operation named after ``window.lower``: see ``flows.walk_flow``."""
    return (yield from walk_flow(ctx.links, ctx.log, window))


def _is_name_clash(err: BaseException) -> bool:
    return "ORA-31634" in str(err)


def _dump_file_exists(err: BaseException) -> bool:
    """ORA-31641/ORA-27038: the dump file exists. On a one-off name only a job of ours can hold it."""
    text = str(err)
    return "ORA-31641" in text or "ORA-27038" in text
