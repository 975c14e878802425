"""Scenario "kill the triggerer": an export submitted without waiting, then a deferrable sensor on it,
so the only thing watching the job while the triggerer is killed is a serialized trigger."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_provider_datapump.operators.datapump import DataPumpExportOperator
from airflow_provider_datapump.sensors.datapump import DataPumpJobSensor

with DAG(
    dag_id="fault_triggerer_kill",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    # One retry only for Airflow 3.3.2's stale-success race on a deferred try; the test checks
    # that any retry was that race.
    default_args={"retries": 1, "retry_delay": timedelta(seconds=2)},
    tags=["e2e-faults"],
):
    submit = DataPumpExportOperator(task_id="submit", schemas=["TESTUSER1"], wait_for_completion=False, retries=0)
    DataPumpJobSensor(task_id="wait", job=submit.output, deferrable=True, poke_interval=2, timeout=600)
