"""DataPumpJobTrigger: waits in the triggerer until a Data Pump job ends, then wakes the task once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class DataPumpJobTrigger(BaseTrigger):
    """Poll a job until it ends and yield one event: success, error, timeout or cancelled.

    Every argument is JSON-safe, so the trigger serializes exactly and survives triggerer restarts.
    Deadlines are absolute epoch seconds computed on the worker, because a relative timeout would
    start again each time a triggerer re-creates the trigger. ORDS answering 429/5xx or not at all is
    ridden out (the job runs on in the database) for up to ``waiting.OUTAGE_TOLERANCE`` seconds.

    :param job: ``{"owner_name", "job_name", "self_url"}`` (extra keys are passed through).
    :param end_time: give up with a ``timeout`` event at this time (a sensor's ``timeout``).
    :param execution_deadline: the same, for the task's ``execution_timeout``.
    :param ords_conn_id: the ``ords`` connection (default ``ords_default``).
    :param oracle_conn_id: an ``oracle`` connection, for stopping the job and progress lines.
    :param poll_interval: seconds between status reads.
    :param fail_on_errors: treat "completed with N error(s)" as a failure (default).
    :param allowed_ora_codes: ORA codes that may appear without failing the task.
    :param cancel_on_kill: stop the Data Pump job (through Oracle) when a user kills the task.
        Airflow calls a trigger's ``on_kill`` from 3.3 only; below it the job runs on.
    :param hook_params: keyword arguments for :class:`~airflow_provider_datapump.hooks.datapump.DataPumpHook`.
    :param result_extras: JSON-safe keyword arguments the trigger passes to the hook's ``aresolve``
        (the request and log file, so the event's result matches the worker's).
    """

    def __init__(
        self,
        *,
        job: dict[str, Any],
        ords_conn_id: str = "ords_default",
        oracle_conn_id: str | None = None,
        poll_interval: float = 10.0,
        end_time: float | None = None,
        execution_deadline: float | None = None,
        fail_on_errors: bool = True,
        allowed_ora_codes: list[str] | None = None,
        cancel_on_kill: bool = True,
        hook_params: dict[str, Any] | None = None,
        result_extras: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.job = dict(job)
        self.ords_conn_id = ords_conn_id
        self.oracle_conn_id = oracle_conn_id
        self.poll_interval = float(poll_interval)
        self.end_time = end_time
        self.execution_deadline = execution_deadline
        self.fail_on_errors = fail_on_errors
        self.allowed_ora_codes = list(allowed_ora_codes or [])
        self.cancel_on_kill = cancel_on_kill
        self.hook_params = dict(hook_params or {})
        self.result_extras = dict(result_extras or {})
        self._fired = False
        self._killed = False

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job": self.job,
                "ords_conn_id": self.ords_conn_id,
                "oracle_conn_id": self.oracle_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "execution_deadline": self.execution_deadline,
                "fail_on_errors": self.fail_on_errors,
                "allowed_ora_codes": self.allowed_ora_codes,
                "cancel_on_kill": self.cancel_on_kill,
                "hook_params": self.hook_params,
                "result_extras": self.result_extras,
            },
        )

    def _hook(self) -> Any:
        from airflow_provider_datapump.hooks.datapump import DataPumpHook

        return DataPumpHook(ords_conn_id=self.ords_conn_id, oracle_conn_id=self.oracle_conn_id, **self.hook_params)

    def _deadline(self) -> tuple[float | None, str]:
        candidates = [(t, why) for t, why in ((self.execution_deadline, "execution_timeout"), (self.end_time, "timeout")) if t]
        return min(candidates) if candidates else (None, "")

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # Imported here: a DAG file that imports this module at parse time never needs them.
        from airflow_provider_datapump.exceptions import DataPumpHTTPError
        from airflow_provider_datapump.jobs import Outcome, accepts
        from airflow_provider_datapump.waiting import Outage

        hook = self._hook()
        ident = f"{self.job.get('owner_name')},{self.job.get('job_name')}"
        deadline, why = self._deadline()
        last_state: str | None = None
        outage = Outage(self.log, ident)
        try:
            async with hook.async_client() as shared:
                while True:
                    if deadline is not None and time.time() >= deadline:
                        self._fired = True
                        yield TriggerEvent({
                            "status": "timeout",
                            "message": f"Data Pump job {ident} was still running when the task's {why} passed",
                            "job": self.job,
                        })
                        return
                    try:
                        result = await hook.aresolve(self.job, client=shared.client, **self.result_extras)
                    except DataPumpHTTPError as err:
                        outage.failed(err)  # raises into the error event when not transient or too long
                        await asyncio.sleep(self._pause(deadline))
                        continue
                    outage.answered()
                    outcome = result.verdict.outcome
                    if outcome is Outcome.RUNNING:
                        state = result.job.state
                        if state != last_state:
                            self.log.info("Data Pump job %s is %s", ident, state)
                            last_state = state
                        await self._log_progress(hook, result)
                        await asyncio.sleep(self._pause(deadline))
                        continue
                    ok = accepts(result.verdict, fail_on_errors=self.fail_on_errors, allowed_ora_codes=self.allowed_ora_codes)
                    status = "success" if ok else "cancelled" if outcome is Outcome.STOPPED else "error"
                    self._fired = True
                    yield TriggerEvent({"status": status, "message": result.verdict.message, "job": result.to_xcom()})
                    return
        except Exception as err:  # one event with the reason beats a trigger that dies opaquely
            self._fired = True
            yield TriggerEvent({"status": "error", "message": f"{type(err).__name__}: {err}", "job": self.job})

    def _pause(self, deadline: float | None) -> float:
        if deadline is None:
            return self.poll_interval
        return max(0.0, min(self.poll_interval, deadline - time.time()))

    async def _log_progress(self, hook: Any, result: Any) -> None:
        if not self.oracle_conn_id:
            return
        try:
            percent = await asyncio.to_thread(hook.job_progress, result.job.owner_name, result.job.job_name)
        except Exception as err:
            self.log.debug("Could not read progress from Oracle: %s", err)
            return
        if percent is not None:
            self.log.info("Data Pump job %s is %.1f%% done", result.job.ident, percent)

    async def on_kill(self) -> None:
        """A user killed the deferred task: stop the Data Pump job, once, if asked to."""
        if self._killed or self._fired or not self.cancel_on_kill:
            return
        self._killed = True
        from airflow_provider_datapump.waiting import stop_job_best_effort

        try:
            # On a thread (the SQL call blocks), bounded so a hung listener cannot hold the triggerer.
            await asyncio.wait_for(asyncio.to_thread(stop_job_best_effort, self._hook(), self.job, self.log), timeout=60)
        except asyncio.TimeoutError:
            self.log.warning("Stopping Data Pump job %s,%s took over 60 s; gave up waiting",
                             self.job.get("owner_name"), self.job.get("job_name"))
