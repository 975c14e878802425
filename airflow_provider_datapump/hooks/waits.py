"""The two drivers of the waiting policy (``polling.JobWait``): one blocking, one asyncio.

They only look, sleep and read the percent done; every decision is the policy's. The hook's
``wait_for_job``/``await_for_job``, the operators' wait on a worker and the trigger all run these.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_datapump.exceptions import DataPumpHTTPError, DataPumpOracleNotConfiguredError
from airflow_provider_datapump.polling import Finish, JobWait

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from airflow_provider_datapump.jobs import JobRef, JobResult


class WaitingHook(Protocol):
    """What the drivers use of ``hooks.datapump.DataPumpHook`` (named here, not imported: the hook
    module imports this one for its ``wait_for_job``)."""

    @property
    def progress_available(self) -> bool: ...

    def resolve(self, job: JobRef, **extras: Any) -> JobResult: ...

    async def aresolve(self, job: JobRef, client: Any = None, **extras: Any) -> JobResult: ...

    def async_client(self) -> AbstractAsyncContextManager[Any]: ...

    def job_progress(self, owner: str, job: str) -> float | None: ...

    def stop_job(self, owner: str, job: str) -> bool: ...


__all__ = ["WaitingHook", "await_job", "read_progress", "stop_job_best_effort", "wait_job"]


def wait_job(
    hook: WaitingHook, job: JobRef, wait: JobWait, extras: Mapping[str, Any] | None = None
) -> Finish:
    """Look at ``job`` until ``wait`` finishes, sleeping on this thread between looks."""
    while True:
        finish = wait.before_poll(time.time())
        if finish is not None:
            return finish
        try:
            step = wait.answered(hook.resolve(job, **dict(extras or {})), time.time())
        except DataPumpHTTPError as err:
            step = wait.failed(err, time.time())
        if isinstance(step, Finish):
            return step
        if step.running is not None and hook.progress_available:
            wait.progress(step.running, read_progress(hook, step.running, wait.log))
        time.sleep(step.delay)


async def await_job(
    hook: WaitingHook, job: JobRef, wait: JobWait, extras: Mapping[str, Any] | None = None
) -> Finish:
    """The same loop in an event loop: one shared client, and Oracle's blocking calls on a thread."""
    async with hook.async_client() as shared:
        while True:
            finish = wait.before_poll(time.time())
            if finish is not None:
                return finish
            try:
                step = wait.answered(
                    await hook.aresolve(job, client=shared.client, **dict(extras or {})), time.time()
                )
            except DataPumpHTTPError as err:
                step = wait.failed(err, time.time())
            if isinstance(step, Finish):
                return step
            if step.running is not None and hook.progress_available:
                wait.progress(
                    step.running, await asyncio.to_thread(read_progress, hook, step.running, wait.log)
                )
            await asyncio.sleep(step.delay)


def read_progress(hook: WaitingHook, result: JobResult, log: Any) -> float | None:
    """The percent done Oracle reports for a running job; None when it cannot tell or the read fails.

    Over REST-Enabled SQL the first answer that it is off is logged once, at INFO; the hook then
    stops asking (``progress_available``)."""
    try:
        return hook.job_progress(result.job.owner_name, result.job.job_name)
    except DataPumpOracleNotConfiguredError as err:
        log.info("No progress lines: %s", err)
        return None
    except Exception as err:  # progress is a courtesy: a failed read never ends the wait
        log.debug("Could not read progress through SQL: %s", err)
        return None


def stop_job_best_effort(hook: WaitingHook, job: Mapping[str, Any], log: Any) -> None:
    """Stop a killed task's job with DBMS_DATAPUMP (ORDS has no stop endpoint); never raises.

    The SQL goes through ``oracle_conn_id`` when set, otherwise REST-Enabled SQL on the ORDS
    connection. The one stop-on-kill path for the operators, the sensor and the trigger.
    """
    owner, name = job.get("owner_name"), job.get("job_name")
    try:
        stopped = hook.stop_job(str(owner), str(name))
        log.info("Data Pump job %s,%s %s", owner, name, "stopped" if stopped else "was no longer running")
    except DataPumpOracleNotConfiguredError as err:
        log.warning(
            "Data Pump job %s,%s keeps running: ORDS has no endpoint to stop a job, and %s", owner, name, err
        )
    except Exception as err:
        log.warning("Could not stop Data Pump job %s,%s: %s", owner, name, err)
