"""How a task waits for a Data Pump job and judges its end: shared by the operators and the sensor,
so the sync, reschedule and deferrable paths reach the same verdict with the same messages.

The wait itself is the hook's (``hooks.waits`` driving ``polling.JobWait``); this module holds what
only a task has: the acceptance rules it was given, the selection check, and stop-on-kill.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_datapump.exceptions import DataPumpError, DataPumpJobError

# jobs (the parser and the verdict rules) and polling, which needs it, are imported where they are
# used: DAG parsing never needs them.

if TYPE_CHECKING:
    from airflow_provider_datapump.hooks.datapump import DataPumpHook
    from airflow_provider_datapump.jobs import JobResult
    from airflow_provider_datapump.polling import Finish, JobWait, Poll

__all__ = ["JobWaiter"]


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

            # Raises DataPumpValidationError naming allowed_ora_codes, at DAG-parse time.
            self.allowed_ora_codes = [normalize_ora_code(code) for code in codes]
        else:
            self.allowed_ora_codes = []
        self._last_state: str | None = None

    @cached_property
    def hook(self) -> DataPumpHook:
        from airflow_provider_datapump.hooks.datapump import DataPumpHook

        return DataPumpHook(
            ords_conn_id=self.ords_conn_id, oracle_conn_id=self.oracle_conn_id, **(self.hook_params or {})
        )

    def _stop_job_on_kill(self, job: Mapping[str, Any] | None, *, finished: bool) -> None:
        """Stop a job the task is killed while watching (best effort, never raises).

        ORDS has no stop endpoint, so this runs DBMS_DATAPUMP through the hook's SQL
        (``oracle_conn_id``, or REST-Enabled SQL on the ORDS connection).
        """
        if not job or not self.cancel_on_kill or finished:
            return
        from airflow_provider_datapump.hooks.waits import stop_job_best_effort

        stop_job_best_effort(self.hook, job, self.log)

    # ---------------------------------------------------------------- observing

    def _job_wait(self, job: Mapping[str, Any]) -> JobWait:
        """This task's wait for ``job``; kept, so a state is logged once across looks and pokes."""
        from airflow_provider_datapump.polling import JobWait

        ident = f"{job.get('owner_name')},{job.get('job_name')}"
        wait = getattr(self, "_wait", None)
        if wait is None or wait.ident != ident:
            wait = self._wait = JobWait(
                ident,
                poll_interval=self.poll_interval,
                log=self.log,
                max_poll_interval=getattr(self, "max_poll_interval", None),
                started_at=job.get("submitted_at"),
                fail_on_errors=self.fail_on_errors,
                allowed_ora_codes=self.allowed_ora_codes,
            )
        return wait

    def _look(self, result: JobResult) -> Poll | Finish:
        """Feed one answer to the wait (logging a change of state, and the percent done when Oracle can tell)."""
        from airflow_provider_datapump.polling import Poll

        wait = self._job_wait({"owner_name": result.job.owner_name, "job_name": result.job.job_name})
        step = wait.answered(result, time.time())
        if isinstance(step, Poll) and step.running is not None and self.hook.progress_available:
            from airflow_provider_datapump.hooks.waits import read_progress

            wait.progress(result, read_progress(self.hook, result, self.log))
        return step

    def _wait_sync(self, job: Mapping[str, Any], extras: Mapping[str, Any]) -> dict[str, Any]:
        """Wait on the worker until the job ends; return the judged result dict."""
        from airflow_provider_datapump.hooks.waits import wait_job

        finish = wait_job(self.hook, job, self._job_wait(job), extras)
        assert finish.result is not None  # without a deadline only an ended job finishes a wait
        return self._judge(finish.result.to_xcom())

    # ---------------------------------------------------------------- deferring

    def _event_result(self, event: Mapping[str, Any] | None) -> dict[str, Any]:
        """Check a trigger event's shape and return the judged result, or raise."""
        from airflow_provider_datapump.polling import EVENT_STATUSES

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
                self.log.info(
                    "The log shows the job ran what was asked (%s)", ", ".join(map(str, check["checked"]))
                )
            return
        message = (
            f"Data Pump job {result.get('owner_name')}.{result.get('job_name')} did not do what was asked "
            "(ORDS drops request keys it does not know without a word):\n"
            + "\n".join(f"  {m}" for m in mismatches)
        )
        if not self.verify_selection:
            self.log.warning("%s\nAccepted: verify_selection is off", message)
            return
        message += "\nTo accept it anyway, set verify_selection=False."
        self.log.error("%s", message)
        raise DataPumpJobError(message, result)

    def _hint(
        self, lines: list[str], result: Mapping[str, Any] | None = None, user: str | None = None
    ) -> str:
        """The known causes and actions for the ORA codes in ``lines``, with this task's real names
        (``user``: the database user when no job result names its owner)."""
        from airflow_provider_datapump.hints import facts_from, hint_block

        request = getattr(self, "rendered_body", None)
        return hint_block(lines, facts_from(result, request if isinstance(request, Mapping) else None, user))

    def _judge(self, result: dict[str, Any]) -> dict[str, Any]:
        from airflow_provider_datapump.jobs import Outcome, accepts, failure_message, verdict_from_xcom

        # Kept for the OpenLineage methods, which Airflow calls after the task ends, pass or fail.
        self._judged = result
        verdict = verdict_from_xcom(result)
        if accepts(verdict, fail_on_errors=self.fail_on_errors, allowed_ora_codes=self.allowed_ora_codes):
            self._judge_selection(result)
            if verdict.outcome is Outcome.SUCCEEDED_WITH_ERRORS:
                self.log.warning(
                    "%s\nAccepted: %s",
                    failure_message(result, verdict),
                    "fail_on_errors is off"
                    if not self.fail_on_errors
                    else "every ORA code is in allowed_ora_codes",
                )
            else:
                self.log.info(
                    "Data Pump job %s,%s: %s",
                    result.get("owner_name"),
                    result.get("job_name"),
                    verdict.message,
                )
            return result
        message = failure_message(result, verdict)
        hint = self._hint([e.line for e in verdict.errors] + [verdict.message], result)
        if hint:
            message += "\n" + hint
        if verdict.outcome is Outcome.SUCCEEDED_WITH_ERRORS and self.fail_on_errors:
            message += (
                "\nTo accept these errors, list their codes in allowed_ora_codes or set fail_on_errors=False."
            )
        self.log.error("%s", message)
        raise DataPumpJobError(message, result)
