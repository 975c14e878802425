"""Scenario "kill the worker mid-import" (issue 26): production exports to the object store both
emulators share; the test database's import, watched by its task process (not deferrable), may drop
TESTUSER2 first (replace_schemas). The test SIGKILLs that task process while the import runs: the
retry must not drop TESTUSER2 again while the first try's import still writes it."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_provider_datapump.operators.datapump import DataPumpExportOperator, DataPumpImportOperator

CREDENTIAL = "OBJ_STORE_CRED"
URI = "https://objectstorage.example.test/n/faults/b/refresh/o/worker_kill/testuser1_%U.dmp"

with DAG(
    dag_id="fault_refresh_worker_kill",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["e2e-faults"],
):
    export = DataPumpExportOperator(
        task_id="export", ords_conn_id="ords_prod", schemas=["TESTUSER1"], credential_name=CREDENTIAL,
        file_name=URI, deferrable=False, poll_interval=1, retries=0,
    )
    DataPumpImportOperator(
        task_id="import",
        ords_conn_id="ords_test",
        from_job=export.output,
        credential_name=CREDENTIAL,
        remap_schemas={"TESTUSER1": "TESTUSER2"},
        replace_schemas=["TESTUSER2"],
        deferrable=False,
        poll_interval=1,
        # A SIGKILLed task gets no on_kill; the retry decides what to do with the job still running.
        retries=1,
        retry_delay=timedelta(seconds=2),
    )
