"""Scenario "kill a running export" (issue 26): two exports on ords_test, which has no oracle_conn_id,
one deferred to the triggerer and one watched by its task process. The test marks both failed through
Airflow's API; each must stop its Data Pump job through the ORDS connection's REST-Enabled SQL."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_datapump.operators.datapump import DataPumpExportOperator

with DAG(
    dag_id="fault_kill_stops_job",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 0, "ords_conn_id": "ords_test", "cancel_on_kill": True},
    tags=["e2e-faults"],
):
    DataPumpExportOperator(task_id="export_deferred", schemas=["TESTUSER1"], deferrable=True, poll_interval=2)
    DataPumpExportOperator(task_id="export_running", schemas=["TESTUSER3"], deferrable=False, poll_interval=1)
