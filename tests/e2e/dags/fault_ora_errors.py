"""Scenario "the job fails with ORA errors": the nightly export trimmed to its export and fetch, with
no retries (a retry would submit a fresh export), plus a fetch that runs whatever happened upstream
so the fetch operator's own refusal is exercised, not only Airflow's trigger rule."""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG

from airflow_provider_datapump.operators.datapump import DataPumpExportOperator
from airflow_provider_datapump.operators.fetch import DataPumpFetchFilesOperator

BACKUP_URL = os.environ.get("DATAPUMP_FAULT_BACKUP_URL", "file:///tmp/datapump-fault-backups/")
DESTINATION = BACKUP_URL + "{{ (dag_run.logical_date or dag_run.run_after) | ds }}/"

with DAG(
    dag_id="fault_ora_errors",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 0},
    tags=["e2e-faults"],
):
    # Not deferrable: with retries=0, Airflow 3.3.2's stale-success race on a deferred try would
    # fail the task for a reason other than the job's verdict.
    exports = DataPumpExportOperator.partial(task_id="export", deferrable=False, poll_interval=1).expand(
        schemas=[["TESTUSER1"], ["TESTUSER3"]]
    )
    DataPumpFetchFilesOperator.partial(task_id="fetch", files=("dump", "log"), destination=DESTINATION).expand(
        job=exports.output
    )
    exports >> DataPumpFetchFilesOperator(
        task_id="fetch_anyway",
        trigger_rule="all_done",
        # The job the second export started, whatever its verdict (pushed before the task waits).
        job="{{ ti.xcom_pull(task_ids='export', key='datapump_job', map_indexes=1)['self_url'] }}",
        files=("dump", "log"),
        destination=DESTINATION,
    )
