"""DataPumpJobTrigger: waits in the triggerer until a Data Pump job ends, then wakes the task once."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

if TYPE_CHECKING:
    from airflow_provider_datapump.hooks.datapump import DataPumpHook

__all__ = ["DataPumpJobTrigger"]


class DataPumpJobTrigger(BaseTrigger):
    """Poll a job until it ends and yield one event: success, error, timeout or cancelled.

    Every argument is JSON-safe, so the trigger serializes exactly and survives triggerer restarts.
    Deadlines are absolute epoch seconds computed on the worker, because a relative timeout would
    start again each time a triggerer re-creates the trigger. ORDS answering 429/5xx or not at all is
    ridden out (the job runs on in the database) for up to ``polling.OUTAGE_TOLERANCE`` seconds.
    The waiting rules are ``polling.JobWait``'s, the same the operators follow on a worker.

    :param job: ``{"owner_name", "job_name", "self_url"}`` (extra keys are passed through).
    :param poll_interval: seconds between looks while the job is young; then a tenth of its age.
    :param max_poll_interval: the longest pause between looks (``polling.MAX_POLL_INTERVAL`` when
        None); equal to ``poll_interval`` it pins the interval.
    :param started_at: epoch seconds the job's age counts from (its submission, when known).
    :param share_polls: wait through the connection's shared watcher (``triggers.watcher``): one
        job-list request per round for all the triggers of this connection in this triggerer,
        instead of one request per trigger. False polls the job alone.
    :param end_time: give up with a ``timeout`` event at this time (a sensor's ``timeout``).
    :param execution_deadline: the same, for the task's ``execution_timeout``.
    :param ords_conn_id: the ``ords`` connection (default ``ords_default``).
    :param oracle_conn_id: an ``oracle`` connection, for stopping the job and progress lines;
        without it the job is stopped through the ORDS connection's REST-Enabled SQL (progress
        lines then come only with ``share_polls=False``: the shared watcher sends one request per
        round, not one per job).
    :param fail_on_errors: treat "completed with N error(s)" as a failure (default).
    :param allowed_ora_codes: ORA codes that may appear without failing the task.
    :param cancel_on_kill: stop the Data Pump job (through SQL) when a user kills the task.
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
        max_poll_interval: float | None = None,
        started_at: float | None = None,
        end_time: float | None = None,
        execution_deadline: float | None = None,
        fail_on_errors: bool = True,
        allowed_ora_codes: list[str] | None = None,
        cancel_on_kill: bool = True,
        hook_params: dict[str, Any] | None = None,
        result_extras: dict[str, Any] | None = None,
        share_polls: bool = True,
    ) -> None:
        super().__init__()
        self.job = dict(job)
        self.ords_conn_id = ords_conn_id
        self.oracle_conn_id = oracle_conn_id
        self.poll_interval = float(poll_interval)
        self.max_poll_interval = max_poll_interval
        self.started_at = started_at
        self.end_time = end_time
        self.execution_deadline = execution_deadline
        self.fail_on_errors = fail_on_errors
        self.allowed_ora_codes = list(allowed_ora_codes or [])
        self.cancel_on_kill = cancel_on_kill
        self.hook_params = dict(hook_params or {})
        self.result_extras = dict(result_extras or {})
        self.share_polls = share_polls
        self._fired = False
        self._killed = False

    @classmethod
    def for_task(
        cls, task: Any, job: Mapping[str, Any], *, end_time: float | None, extras: Mapping[str, Any]
    ) -> DataPumpJobTrigger:
        """The trigger a deferring operator or sensor (``task``) hands its wait to, with the task's rules.

        ``execution_deadline`` is fixed now, on the worker, from the task's ``execution_timeout``.
        """
        execution_timeout: timedelta | None = getattr(task, "execution_timeout", None)
        return cls(
            job={k: job[k] for k in ("owner_name", "job_name", "self_url") if k in job},
            ords_conn_id=task.ords_conn_id,
            oracle_conn_id=task.oracle_conn_id,
            poll_interval=task.poll_interval,
            max_poll_interval=getattr(task, "max_poll_interval", None),
            # Fixed here, so that a triggerer restart does not make an old job look young again.
            started_at=job.get("submitted_at") or time.time(),
            end_time=end_time,
            execution_deadline=time.time() + execution_timeout.total_seconds() if execution_timeout else None,
            fail_on_errors=task.fail_on_errors,
            allowed_ora_codes=list(task.allowed_ora_codes),
            cancel_on_kill=task.cancel_on_kill,
            hook_params=dict(task.hook_params or {}),
            result_extras=dict(extras),
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job": self.job,
                "ords_conn_id": self.ords_conn_id,
                "oracle_conn_id": self.oracle_conn_id,
                "poll_interval": self.poll_interval,
                "max_poll_interval": self.max_poll_interval,
                "started_at": self.started_at,
                "end_time": self.end_time,
                "execution_deadline": self.execution_deadline,
                "fail_on_errors": self.fail_on_errors,
                "allowed_ora_codes": self.allowed_ora_codes,
                "cancel_on_kill": self.cancel_on_kill,
                "hook_params": self.hook_params,
                "result_extras": self.result_extras,
                "share_polls": self.share_polls,
            },
        )

    def _hook(self) -> DataPumpHook:
        from airflow_provider_datapump.hooks.datapump import DataPumpHook

        return DataPumpHook(
            ords_conn_id=self.ords_conn_id, oracle_conn_id=self.oracle_conn_id, **self.hook_params
        )

    def _connection_key(self) -> str:
        """Triggers with the same key share one watcher: the same ORDS, user and client settings."""
        return json.dumps(
            [self.ords_conn_id, self.oracle_conn_id, self.hook_params], sort_keys=True, default=str
        )

    def _deadline(self) -> tuple[float | None, str]:
        candidates = [
            (t, why)
            for t, why in ((self.execution_deadline, "execution_timeout"), (self.end_time, "timeout"))
            if t
        ]
        return min(candidates) if candidates else (None, "")

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # Imported here: a DAG file that imports this module at parse time never needs them.
        from airflow_provider_datapump.hooks.waits import await_job
        from airflow_provider_datapump.polling import JobWait
        from airflow_provider_datapump.triggers.watcher import ConnectionWatcher

        deadline, why = self._deadline()
        wait = JobWait(
            f"{self.job.get('owner_name')},{self.job.get('job_name')}",
            poll_interval=self.poll_interval,
            log=self.log,
            max_poll_interval=self.max_poll_interval,
            started_at=self.started_at,
            deadline=deadline,
            deadline_reason=why,
            fail_on_errors=self.fail_on_errors,
            allowed_ora_codes=self.allowed_ora_codes,
        )
        try:
            if self.share_polls:
                finish = await ConnectionWatcher.watch(
                    self._connection_key(), self._hook, self.job, wait, self.result_extras
                )
            else:
                finish = await await_job(self._hook(), self.job, wait, self.result_extras)
            event = finish.event(self.job)
        except Exception as err:  # one event with the reason beats a trigger that dies opaquely
            event = {"status": "error", "message": f"{type(err).__name__}: {err}", "job": self.job}
        self._fired = True
        yield TriggerEvent(event)

    async def on_kill(self) -> None:
        """A user killed the deferred task: stop the Data Pump job, once, if asked to."""
        if self._killed or self._fired or not self.cancel_on_kill:
            return
        self._killed = True
        from airflow_provider_datapump.hooks.waits import stop_job_best_effort

        owner, name = self.job.get("owner_name"), self.job.get("job_name")
        try:
            hook = self._hook()
            if not self.oracle_conn_id:
                # REST-Enabled SQL on the ORDS connection: read it here, in the loop, not on the thread.
                await hook.asettings()
            # On a thread (the SQL call blocks), bounded so a hung listener cannot hold the triggerer.
            await asyncio.wait_for(
                asyncio.to_thread(stop_job_best_effort, hook, self.job, self.log), timeout=60
            )
        except TimeoutError:
            self.log.warning("Stopping Data Pump job %s,%s took over 60 s; gave up waiting", owner, name)
        except Exception as err:  # stop_job_best_effort never raises; reading the connection may
            self.log.warning("Could not stop Data Pump job %s,%s: %s", owner, name, err)
