"""How a task waits for a Data Pump job and judges its end: shared by the operators and the sensor,
so the sync, reschedule and deferrable paths reach the same verdict with the same messages."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_datapump.exceptions import DataPumpError, DataPumpHTTPError, DataPumpJobError
# jobs (the parser and the verdict rules) is imported where it is used: DAG parsing never needs it.

if TYPE_CHECKING:
    from airflow_provider_datapump.hooks.datapump import DataPumpHook
    from airflow_provider_datapump.jobs import JobResult


# The four events a DataPumpJobTrigger sends; anything else is refused, never read as success.
EVENT_STATUSES = ("success", "error", "timeout", "cancelled")

# How long a wait rides out ORDS not answering before it fails. Each call already retries within the
# hook's RetryPolicy, but that budget is seconds (5 attempts, ~4 s with Retry-After: 1) and a restart
# of ORDS or of the proxy in front of it lasts longer; the job runs on in the database meanwhile, so
# failing the task would only trade a short outage for a retry (or a failed run).
OUTAGE_TOLERANCE = 600.0


def stop_job_best_effort(hook: DataPumpHook, job: Mapping[str, Any], log: Any) -> None:
    """Stop a killed task's job with DBMS_DATAPUMP (ORDS has no stop endpoint); never raises.

    The one stop-on-kill path for the operators, the sensor and the trigger.
    """
    owner, name = job.get("owner_name"), job.get("job_name")
    if not hook.oracle_conn_id:
        log.warning(
            "Data Pump job %s,%s keeps running: ORDS has no endpoint to stop a job; set oracle_conn_id "
            "so the task can stop it with DBMS_DATAPUMP", owner, name,
        )
        return
    try:
        stopped = hook.stop_job(owner, name)
        log.info("Data Pump job %s,%s %s", owner, name, "stopped" if stopped else "was already gone")
    except Exception as err:
        log.warning("Could not stop Data Pump job %s,%s: %s", owner, name, err)


def is_transient(err: BaseException) -> bool:
    """ORDS was unreachable or answered 429/5xx even after the hook's own retries."""
    from airflow_provider_datapump.hooks.datapump import RetryPolicy

    return isinstance(err, DataPumpHTTPError) and (err.status is None or err.status in RetryPolicy.RETRY_STATUSES)


class Outage:
    """Consecutive failed polls of one job: ridden out while transient and shorter than ``tolerance``."""

    def __init__(self, log: Any, ident: str, tolerance: float | None = None) -> None:
        self.log, self.ident = log, ident
        self.tolerance = OUTAGE_TOLERANCE if tolerance is None else tolerance
        self.since: float | None = None
        self.failures = 0

    def failed(self, err: DataPumpError) -> None:
        """Log and return when the wait should poll on; raise ``err`` when it should fail."""
        if not is_transient(err):
            raise err
        now = time.monotonic()
        self.since = now if self.since is None else self.since
        self.failures += 1
        if now - self.since >= self.tolerance:
            raise err
        self.log.warning(
            "ORDS did not answer the poll of Data Pump job %s (%s); the job runs on in the database, so the "
            "wait polls on (%d failed poll(s) in %.0fs; it gives up after %.0fs)",
            self.ident, err, self.failures, now - self.since, self.tolerance,
        )

    def answered(self) -> None:
        if self.since is not None:
            self.log.info("ORDS answered again for Data Pump job %s after %.0fs and %d failed poll(s)",
                          self.ident, time.monotonic() - self.since, self.failures)
        self.since, self.failures = None, 0


class JobWaiter:
    """Mixin for tasks that watch one job. Expects the attributes set by ``_init_waiter``."""

    ords_conn_id: str
    oracle_conn_id: str | None
    poll_interval: float
    fail_on_errors: bool
    allowed_ora_codes: Iterable[str]
    hook_params: dict[str, Any] | None
    cancel_on_kill: bool
    log: Any

    def _init_waiter(self, allowed_ora_codes: Iterable[str] | str | None) -> None:
        codes = [allowed_ora_codes] if isinstance(allowed_ora_codes, str) else list(allowed_ora_codes or ())
        if codes:
            from airflow_provider_datapump.jobs import normalize_ora_code
        try:
            self.allowed_ora_codes = [normalize_ora_code(code) for code in codes]
        except ValueError as err:
            from airflow_provider_datapump.exceptions import DataPumpValidationError

            raise DataPumpValidationError("allowed_ora_codes", str(err)) from None
        self._last_state: str | None = None

    @cached_property
    def hook(self) -> DataPumpHook:
        from airflow_provider_datapump.hooks.datapump import DataPumpHook

        return DataPumpHook(ords_conn_id=self.ords_conn_id, oracle_conn_id=self.oracle_conn_id, **(self.hook_params or {}))

    def _stop_job_on_kill(self, job: Mapping[str, Any] | None, *, finished: bool) -> None:
        """Stop a job the task is killed while watching (best effort, never raises).

        ORDS has no stop endpoint, so this goes through ``oracle_conn_id`` and DBMS_DATAPUMP.
        """
        if not job or not self.cancel_on_kill or finished:
            return
        stop_job_best_effort(self.hook, job, self.log)

    # ---------------------------------------------------------------- observing

    def _observe(self, result: JobResult) -> None:
        """Log each change of state, and the percent done when Oracle can tell."""
        state = result.job.state
        if state != getattr(self, "_last_state", None):
            self.log.info("Data Pump job %s is %s", result.job.ident, state)
            self._last_state = state
        if result.verdict.running and self.oracle_conn_id:
            try:
                percent = self.hook.job_progress(result.job.owner_name, result.job.job_name)
            except Exception as err:
                self.log.debug("Could not read progress from Oracle: %s", err)
            else:
                if percent is not None:
                    self.log.info("Data Pump job %s is %.1f%% done", result.job.ident, percent)

    def _wait_sync(self, job: Mapping[str, Any], extras: Mapping[str, Any]) -> dict[str, Any]:
        """Poll on the worker until the job ends; return the judged result dict."""
        outage = Outage(self.log, f"{job.get('owner_name')},{job.get('job_name')}")
        while True:
            try:
                result = self.hook.resolve(job, **extras)
            except DataPumpHTTPError as err:
                outage.failed(err)
                time.sleep(self.poll_interval)
                continue
            outage.answered()
            self._observe(result)
            if not result.verdict.running:
                return self._judge(result.to_xcom())
            time.sleep(self.poll_interval)

    # ---------------------------------------------------------------- deferring

    def _trigger(self, job: Mapping[str, Any], *, end_time: float | None, cancel_on_kill: bool,
                 extras: Mapping[str, Any]) -> Any:
        from airflow_provider_datapump.triggers.datapump import DataPumpJobTrigger

        execution_timeout: timedelta | None = getattr(self, "execution_timeout", None)
        return DataPumpJobTrigger(
            job={k: job[k] for k in ("owner_name", "job_name", "self_url") if k in job},
            ords_conn_id=self.ords_conn_id,
            oracle_conn_id=self.oracle_conn_id,
            poll_interval=self.poll_interval,
            end_time=end_time,
            execution_deadline=time.time() + execution_timeout.total_seconds() if execution_timeout else None,
            fail_on_errors=self.fail_on_errors,
            allowed_ora_codes=list(self.allowed_ora_codes),
            cancel_on_kill=cancel_on_kill,
            hook_params=dict(self.hook_params or {}),
            result_extras=dict(extras),
        )

    def _event_result(self, event: Mapping[str, Any] | None) -> dict[str, Any]:
        """Check a trigger event's shape and return the judged result, or raise."""
        if not isinstance(event, Mapping) or event.get("status") not in EVENT_STATUSES:
            # Falling through to success on a malformed event would report a job we never judged.
            raise DataPumpError(f"the trigger sent an event this task cannot read: {event!r:.300}")
        job = event.get("job") or {}
        if event["status"] == "timeout":
            self._on_timeout(job)
            raise DataPumpJobError(str(event.get("message")), job)
        if "outcome" not in job:
            raise DataPumpJobError(f"waiting for the Data Pump job failed: {event.get('message')}", job)
        return self._judge(job)

    def _on_timeout(self, job: Mapping[str, Any]) -> None:
        """What a deadline does besides failing; the operators stop the job, the sensor does not."""

    # ---------------------------------------------------------------- judging

    # Whether what the log says ran must match what was asked (operators: on by default; the sensor
    # watches jobs it did not submit, so it has no request to compare).
    verify_selection: bool = False

    def _judge_selection(self, result: dict[str, Any]) -> None:
        """Fail a job that ran on another selection than the one sent: ORDS drops keys silently."""
        check = result.get("selection_check")
        if not isinstance(check, Mapping):
            return
        if check.get("unchecked"):
            self.log.info("Not checked against the log: %s", "; ".join(map(str, check["unchecked"])))
        mismatches = list(check.get("mismatches") or ())
        if not mismatches:
            if check.get("checked"):
                self.log.info("The log shows the job ran what was asked (%s)", ", ".join(map(str, check["checked"])))
            return
        message = (
            f"Data Pump job {result.get('owner_name')}.{result.get('job_name')} did not do what was asked "
            "(ORDS drops request keys it does not know without a word):\n" + "\n".join(f"  {m}" for m in mismatches)
        )
        if not self.verify_selection:
            self.log.warning("%s\nAccepted: verify_selection is off", message)
            return
        message += "\nTo accept it anyway, set verify_selection=False."
        self.log.error("%s", message)
        raise DataPumpJobError(message, result)

    def _judge(self, result: dict[str, Any]) -> dict[str, Any]:
        from airflow_provider_datapump.jobs import Outcome, accepts, failure_message, verdict_from_xcom

        # Kept for the OpenLineage methods, which Airflow calls after the task ends, pass or fail.
        self._judged = result
        verdict = verdict_from_xcom(result)
        if accepts(verdict, fail_on_errors=self.fail_on_errors, allowed_ora_codes=self.allowed_ora_codes):
            self._judge_selection(result)
            if verdict.outcome is Outcome.SUCCEEDED_WITH_ERRORS:
                self.log.warning("%s\nAccepted: %s", failure_message(result, verdict),
                                 "fail_on_errors is off" if not self.fail_on_errors else "every ORA code is in allowed_ora_codes")
            else:
                self.log.info("Data Pump job %s,%s: %s", result.get("owner_name"), result.get("job_name"), verdict.message)
            return result
        message = failure_message(result, verdict)
        if verdict.outcome is Outcome.SUCCEEDED_WITH_ERRORS and self.fail_on_errors:
            message += "\nTo accept these errors, list their codes in allowed_ora_codes or set fail_on_errors=False."
        self.log.error("%s", message)
        raise DataPumpJobError(message, result)
