"""A mapped nightly export at scale, deferred (issue 19, item 3): one export per schema SCALE00..,
each waiting in a triggerer. tests/e2e/test_scale_out.py runs it under CeleryExecutor with two
workers and two triggerers and kills one triggerer while every export waits.

DATAPUMP_SCALE_EXPORTS (the stack's environment, so the dag-processor sees it) sets the width.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_provider_datapump.operators.datapump import DataPumpExportOperator

SCHEMAS = [f"SCALE{i:02d}" for i in range(int(os.environ.get("DATAPUMP_SCALE_EXPORTS", "50")))]

with DAG(
    dag_id="scale_mapped_exports",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    # Every export may be submitted at once; the executor's slots, not the DAG, are the limit here.
    max_active_tasks=len(SCHEMAS) or 1,
    # One retry only for Airflow 3.3.2's stale-success race on a deferred try; the test checks
    # that any retry was that race and that it reattached instead of submitting again.
    default_args={"retries": 1, "retry_delay": timedelta(seconds=2)},
    tags=["e2e-scale"],
):
    DataPumpExportOperator.partial(task_id="export", deferrable=True, poll_interval=2).expand(
        schemas=[[s] for s in SCHEMAS]
    )
