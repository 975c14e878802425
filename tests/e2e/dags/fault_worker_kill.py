"""Scenario "kill the worker": a non-deferrable export, so the job is watched by the task process
itself; one quick retry, which must reattach to the job rather than submit another."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_provider_datapump.operators.datapump import DataPumpExportOperator

with DAG(
    dag_id="fault_worker_kill",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["e2e-faults"],
):
    DataPumpExportOperator(
        task_id="export",
        schemas=["TESTUSER1"],
        deferrable=False,
        poll_interval=1,
        retries=1,
        retry_delay=timedelta(seconds=2),
    )
