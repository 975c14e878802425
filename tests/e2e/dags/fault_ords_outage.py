"""Scenario "ORDS answers 503 for 30 s": two exports waiting at once, one in the triggerer and one on
a worker, so one outage exercises both ways a task polls a job."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_provider_datapump.operators.datapump import DataPumpExportOperator

with DAG(
    dag_id="fault_ords_outage",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    # A retry would hide a wait that gave up during the outage (it would reattach afterwards), so
    # the test requires try 1 to succeed; the retry is there only for Airflow 3.3.2's stale-success
    # race on a deferred try, which the test tells apart.
    default_args={"retries": 1, "retry_delay": timedelta(seconds=2)},
    tags=["e2e-faults"],
):
    DataPumpExportOperator(task_id="export_deferred", schemas=["TESTUSER1"], deferrable=True, poll_interval=2)
    DataPumpExportOperator(task_id="export_sync", schemas=["TESTUSER3"], deferrable=False, poll_interval=2)
