"""Scenario "kill a running import" (issue 26): production exports to the object store both emulators
share; then two imports of that dump set on ords_test, which has no oracle_conn_id, one deferred to the
triggerer and one watched by its task process. The test marks both imports failed through Airflow's
API; each must stop its Data Pump job through the ORDS connection's REST-Enabled SQL."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_datapump.operators.datapump import DataPumpExportOperator, DataPumpImportOperator

CREDENTIAL = "OBJ_STORE_CRED"
URI = "https://objectstorage.example.test/n/faults/b/refresh/o/kill_stops_job/testuser1_%U.dmp"

with DAG(
    dag_id="fault_kill_stops_job",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 0, "cancel_on_kill": True},
    tags=["e2e-faults"],
):
    export = DataPumpExportOperator(
        task_id="export", ords_conn_id="ords_prod", schemas=["TESTUSER1"], credential_name=CREDENTIAL,
        file_name=URI, deferrable=False, poll_interval=1,
    )
    for task_id, target, deferrable in (("import_deferred", "KILL_DEFERRED", True),
                                        ("import_running", "KILL_RUNNING", False)):
        DataPumpImportOperator(
            task_id=task_id, ords_conn_id="ords_test", from_job=export.output, credential_name=CREDENTIAL,
            remap_schemas={"TESTUSER1": target}, deferrable=deferrable, poll_interval=2 if deferrable else 1,
        )
