"""The waiting policy: what a wait does after each look at a job.

Every wait in the provider (the hook's ``wait_for_job`` on a worker, its async twin in the
triggerer, and a sensor's pokes) feeds each answer, or each failed poll, to one ``JobWait``. The
policy says either "poll again after this delay" or "finish with this event"; the drivers only send
requests and sleep. It reads no clock and sends nothing, so every rule here (the deadline, riding out
an outage, the state-change log lines, the verdict that labels the event) is tested as a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_datapump.exceptions import DataPumpError, DataPumpHTTPError
from airflow_provider_datapump.jobs import Outcome, accepts

if TYPE_CHECKING:
    from airflow_provider_datapump.jobs import JobResult

__all__ = [
    "EVENT_STATUSES",
    "MAX_POLL_INTERVAL",
    "OUTAGE_TOLERANCE",
    "Finish",
    "JobWait",
    "Poll",
    "event_status",
    "is_transient",
    "next_interval",
]

# The four events a wait can end with; a task refuses any other, never reading it as success.
EVENT_STATUSES = ("success", "error", "timeout", "cancelled")

# How long a wait rides out ORDS not answering before it fails. Each call already retries within the
# hook's RetryPolicy, but that budget is seconds (5 attempts, ~4 s with Retry-After: 1) and a restart
# of ORDS or of the proxy in front of it lasts longer; the job runs on in the database meanwhile, so
# failing the task would only trade a short outage for a retry (or a failed run).
OUTAGE_TOLERANCE = 600.0

# The longest pause between two looks at a running job, unless a task asks for another. A job is
# polled every poll_interval while it is young, then every tenth of its age: the answer changes
# once, at its end, so a two-hour export costs 87 looks instead of 720 at 10 s, and its end is
# noticed within a tenth of its age, and never more than this late.
MAX_POLL_INTERVAL = 120.0


def next_interval(age: float, poll_interval: float, max_poll_interval: float | None = None) -> float:
    """Seconds until the next look at a job ``age`` seconds old: max(poll_interval, age/10), capped.

    The cap is ``max_poll_interval`` (default MAX_POLL_INTERVAL), never below ``poll_interval``:
    ``max_poll_interval=poll_interval`` pins the interval.
    """
    cap = MAX_POLL_INTERVAL if max_poll_interval is None else max_poll_interval
    return min(max(poll_interval, age / 10.0), max(cap, poll_interval))


def is_transient(err: BaseException) -> bool:
    """ORDS was unreachable or answered 429/5xx even after the hook's own retries."""
    return isinstance(err, DataPumpHTTPError) and err.transient


def event_status(result: JobResult, *, fail_on_errors: bool, allowed_ora_codes: Iterable[str]) -> str:
    """The label of an ended job's event; the task judges the result again with the same rules."""
    if accepts(result.verdict, fail_on_errors=fail_on_errors, allowed_ora_codes=allowed_ora_codes):
        return "success"
    return "cancelled" if result.verdict.outcome is Outcome.STOPPED else "error"


@dataclass(frozen=True)
class Poll:
    """Look at the job again after ``delay`` seconds.

    ``running`` is the answer that showed the job still running (None after a failed poll): a driver
    with an Oracle connection reads the percent done for it.
    """

    delay: float
    running: JobResult | None = None


@dataclass(frozen=True)
class Finish:
    """The wait is over. ``result`` is the ended job, or None when the deadline passed first."""

    status: str
    message: str
    result: JobResult | None = None

    def event(self, job: Mapping[str, Any]) -> dict[str, Any]:
        """The trigger event's payload; ``job`` stands in for the result when there is none."""
        return {
            "status": self.status,
            "message": self.message,
            "job": self.result.to_xcom() if self.result is not None else dict(job),
        }


class JobWait:
    """One wait for one job: feed it each answer or failed poll with the current time (epoch s).

    :param ident: ``"OWNER,JOB_NAME"``, for log lines.
    :param poll_interval: seconds between looks while the job is young (see ``next_interval``).
    :param max_poll_interval: the longest pause between looks; equal to ``poll_interval`` pins it.
    :param started_at: epoch seconds when the job was submitted, if known; the job's age counts from
        here, else from the wait's first look.
    :param deadline: epoch seconds after which the wait finishes with ``timeout`` (None: never).
    :param deadline_reason: what set the deadline (``timeout``, ``execution_timeout``), for the message.
    :param tolerance: seconds of consecutive transient failures ridden out (default OUTAGE_TOLERANCE).
    :param fail_on_errors: and ``allowed_ora_codes``: the acceptance rules that label the event.
    """

    def __init__(
        self,
        ident: str,
        *,
        poll_interval: float,
        log: Any,
        deadline: float | None = None,
        deadline_reason: str = "timeout",
        max_poll_interval: float | None = None,
        started_at: float | None = None,
        tolerance: float | None = None,
        fail_on_errors: bool = True,
        allowed_ora_codes: Iterable[str] = (),
    ) -> None:
        self.ident = ident
        self.poll_interval = float(poll_interval)
        self.max_poll_interval = max_poll_interval
        self.started_at = started_at
        self.log = log
        self.deadline = deadline
        self.deadline_reason = deadline_reason
        self.tolerance = OUTAGE_TOLERANCE if tolerance is None else tolerance
        self.fail_on_errors = fail_on_errors
        self.allowed_ora_codes = list(allowed_ora_codes)
        self.last_state: str | None = None
        self.outage_since: float | None = None
        self.failures = 0

    def before_poll(self, now: float) -> Finish | None:
        """A ``timeout`` finish once the deadline has passed; checked before each look."""
        if self.deadline is not None and now >= self.deadline:
            return Finish(
                "timeout",
                f"Data Pump job {self.ident} was still running when the task's {self.deadline_reason} passed",
            )
        return None

    def answered(self, result: JobResult, now: float) -> Poll | Finish:
        """ORDS answered: log a change of state, then poll on while the job runs, else finish."""
        if self.outage_since is not None:
            self.log.info(
                "ORDS answered again for Data Pump job %s after %.0fs and %d failed poll(s)",
                self.ident,
                now - self.outage_since,
                self.failures,
            )
        self.outage_since, self.failures = None, 0
        state = result.job.state
        if state != self.last_state:
            self.log.info("Data Pump job %s is %s", result.job.ident, state)
            self.last_state = state
        if result.verdict.running:
            return Poll(self._delay(now), running=result)
        status = event_status(
            result, fail_on_errors=self.fail_on_errors, allowed_ora_codes=self.allowed_ora_codes
        )
        return Finish(status, result.verdict.message, result)

    def failed(self, err: DataPumpError, now: float) -> Poll:
        """A poll failed: poll on through a transient outage shorter than the tolerance, else raise ``err``."""
        if not is_transient(err):
            raise err
        self.outage_since = now if self.outage_since is None else self.outage_since
        self.failures += 1
        if now - self.outage_since >= self.tolerance:
            raise err
        self.log.warning(
            "ORDS did not answer the poll of Data Pump job %s (%s); the job runs on in the database, so the "
            "wait polls on (%d failed poll(s) in %.0fs; it gives up after %.0fs)",
            self.ident,
            err,
            self.failures,
            now - self.outage_since,
            self.tolerance,
        )
        return Poll(self._delay(now))

    def progress(self, result: JobResult, percent: float | None) -> None:
        """Log the percent done that a driver read through SQL for a running job."""
        if percent is not None:
            self.log.info("Data Pump job %s is %.1f%% done", result.job.ident, percent)

    def _delay(self, now: float) -> float:
        if self.started_at is None:
            self.started_at = now
        delay = next_interval(max(0.0, now - self.started_at), self.poll_interval, self.max_poll_interval)
        if self.deadline is None:
            return delay
        return max(0.0, min(delay, self.deadline - now))
