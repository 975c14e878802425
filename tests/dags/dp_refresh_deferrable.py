"""The issue's three-line refresh, deferrable, for dag.test() (the trigger runs in line)."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_datapump.operators.datapump import DataPumpExportOperator, DataPumpImportOperator

with DAG(dag_id="dp_refresh_deferrable", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):
    exp = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], deferrable=True, poll_interval=0.5)
    imp = DataPumpImportOperator(task_id="import", from_job=exp.output, remap_schemas={"TESTUSER1": "TESTUSER2"},
                                 deferrable=True, poll_interval=0.5)
    exp >> imp
