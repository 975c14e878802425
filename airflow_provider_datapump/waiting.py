"""How a task waits for a Data Pump job and judges its end: shared by the operators and the sensor,
so the sync, reschedule and deferrable paths reach the same verdict with the same messages."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_datapump.exceptions import DataPumpError, DataPumpJobError
from airflow_provider_datapump.jobs import Outcome, accepts, failure_message, normalize_ora_code, verdict_from_xcom

if TYPE_CHECKING:
    from airflow_provider_datapump.hooks.datapump import DataPumpHook
    from airflow_provider_datapump.jobs import JobResult


class JobWaiter:
    """Mixin for tasks that watch one job. Expects the attributes set by ``_init_waiter``."""

    ords_conn_id: str
    oracle_conn_id: str | None
    poll_interval: float
    fail_on_errors: bool
    allowed_ora_codes: Iterable[str]
    hook_params: dict[str, Any] | None
    log: Any

    def _init_waiter(self, allowed_ora_codes: Iterable[str] | str | None) -> None:
        codes = [allowed_ora_codes] if isinstance(allowed_ora_codes, str) else list(allowed_ora_codes or ())
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

    # ---------------------------------------------------------------- observing

    def _observe(self, result: JobResult) -> None:
        """Log each change of state, and the percent done when Oracle can tell."""
        state = result.job.state
        if state != getattr(self, "_last_state", None):
            self.log.info("Data Pump job %s is %s", result.job.ident, state)
            self._last_state = state
        if result.verdict.outcome is Outcome.RUNNING and self.oracle_conn_id:
            try:
                percent = self.hook.job_progress(result.job.owner_name, result.job.job_name)
            except Exception as err:
                self.log.debug("Could not read progress from Oracle: %s", err)
            else:
                if percent is not None:
                    self.log.info("Data Pump job %s is %.1f%% done", result.job.ident, percent)

    def _wait_sync(self, job: Mapping[str, Any], extras: Mapping[str, Any]) -> dict[str, Any]:
        """Poll on the worker until the job ends; return the judged result dict."""
        while True:
            result = self.hook.resolve(job, **extras)
            self._observe(result)
            if result.verdict.outcome is not Outcome.RUNNING:
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
        if not isinstance(event, Mapping) or event.get("status") not in ("success", "error", "timeout", "cancelled"):
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

    def _judge(self, result: dict[str, Any]) -> dict[str, Any]:
        verdict = verdict_from_xcom(result)
        if accepts(verdict, fail_on_errors=self.fail_on_errors, allowed_ora_codes=self.allowed_ora_codes):
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
