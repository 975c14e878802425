"""DataPumpJobSensor: wait for a Data Pump job someone else started, with the same verdict rules."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from airflow_provider_datapump._compat import log_version_limits
from airflow_provider_datapump.exceptions import DataPumpJobError
from airflow_provider_datapump.triggers.datapump import DataPumpJobTrigger
from airflow_provider_datapump.waiting import JobWaiter

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["DataPumpJobSensor"]


class DataPumpJobSensor(JobWaiter, BaseSensorOperator):
    """Wait until a Data Pump job ends; succeed only on an accepted verdict.

    :param job: what an export/import operator returned, a job URL, or ``"OWNER,JOB_NAME"``.
    :param fail_on_errors: treat "completed with N error(s)" as a failure (default).
    :param allowed_ora_codes: ORA codes that may appear without failing the sensor.
    :param ords_conn_id: the ``ords`` connection (default ``ords_default``).
    :param oracle_conn_id: an ``oracle`` connection, for ``cancel_on_kill`` and progress lines;
        without it they go through the ORDS connection's REST-Enabled SQL.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``); then
        ``poke_interval`` defaults to 10 s and ``timeout`` to two days.
    :param cancel_on_kill: stop the job when the sensor is killed (off by default: it is not the
        sensor's job). Through SQL: ``oracle_conn_id`` or REST-Enabled SQL.
    :param max_poll_interval: deferred, the trigger's interval grows from ``poke_interval`` with the
        job's age up to this (default 120 s); equal to ``poke_interval`` it pins the interval.
    :param hook_params: keyword arguments for :class:`~airflow_provider_datapump.hooks.datapump.DataPumpHook`.

    A job that failed, was stopped, crashed or vanished fails the sensor at once, with Data Pump's
    final line and the ORA- lines; the sensor never pokes on until its timeout for a job that has
    already ended. Works in poke, reschedule and deferrable modes. It does not own the job, so a
    killed sensor leaves the job running unless ``cancel_on_kill=True`` (which stops it through
    SQL: ORDS's Database API cannot stop a job). In poke mode the sensor stops the job itself; while
    deferred, its trigger does; in reschedule mode nothing runs between pokes to be killed.
    """

    template_fields: Sequence[str] = ("job", "ords_conn_id", "oracle_conn_id")
    ui_color = "#f6e7d7"

    def __init__(
        self,
        *,
        job: Mapping[str, Any] | str,
        ords_conn_id: str = "ords_default",
        oracle_conn_id: str | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        fail_on_errors: bool = True,
        allowed_ora_codes: Sequence[str] | str | None = None,
        cancel_on_kill: bool = False,
        max_poll_interval: float | None = None,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if deferrable:
            kwargs.setdefault("poke_interval", 10)
            kwargs.setdefault("timeout", timedelta(days=2).total_seconds())
        super().__init__(**kwargs)
        self.job = job
        self.ords_conn_id = ords_conn_id
        self.oracle_conn_id = oracle_conn_id
        self.deferrable = deferrable
        self.fail_on_errors = fail_on_errors
        self.cancel_on_kill = cancel_on_kill
        # Deferred, the trigger's interval grows from poke_interval up to this; in poke and reschedule
        # mode Airflow's own loop (poke_interval, exponential_backoff) sets the pace.
        self.max_poll_interval = max_poll_interval
        self.hook_params = hook_params
        self._watched: dict[str, Any] | None = None  # the located job, for on_kill
        self._ended = False
        self._init_waiter(allowed_ora_codes)

    # JobWaiter's name for poke_interval, read live: Airflow's exponential backoff may change it.
    @property
    def poll_interval(self) -> float:  # type: ignore[override]
        return float(self.poke_interval)

    def _job_ref(self) -> dict[str, Any]:
        owner, name, url = self.hook.locate(self.job)
        self._watched = {"owner_name": owner, "job_name": name, "self_url": url}
        return self._watched

    def poke(self, context: Context) -> bool | PokeReturnValue:
        result = self.hook.resolve(self._job_ref())
        self._look(result)
        if result.verdict.running:
            return False
        self._ended = True
        return PokeReturnValue(is_done=True, xcom_value=self._judge(result.to_xcom()))

    def on_kill(self) -> None:
        """With ``cancel_on_kill=True``, stop the job this sensor was killed while waiting for."""
        self._stop_job_on_kill(self._watched, finished=self._ended)

    def execute(self, context: Context) -> Any:
        log_version_limits(self.log, trigger_on_kill=self.deferrable and self.cancel_on_kill)
        if not self.deferrable:
            return super().execute(context)
        job = self._job_ref()
        first = self.poke(context)
        if isinstance(first, PokeReturnValue):
            return first.xcom_value
        self.defer(
            trigger=DataPumpJobTrigger.for_task(
                self, job, end_time=time.time() + float(self.timeout), extras={}
            ),
            method_name="execute_complete",
            timeout=None,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            return self._event_result(event)
        except DataPumpJobError as err:
            if isinstance(event, Mapping) and event.get("status") == "timeout":
                raise AirflowSensorTimeout(str(err)) from None
            raise
