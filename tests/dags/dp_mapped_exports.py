"""Ten exports side by side on one connection, as a mapped nightly export runs them (issue 15).

The tests that run it load a catalog with schemas APP00..APP09, hold back the answers of some
creates past the hook's timeout, and have another client create exports of other schemas on the
same ORDS user meanwhile. ``check`` fails the run if any export reports a job that is not its own.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_datapump.operators.datapump import DataPumpExportOperator

SCHEMAS = [f"APP{i:02d}" for i in range(int(os.environ.get("DATAPUMP_MAPPED_EXPORTS", "10")))]

with DAG(
    dag_id="dp_mapped_exports",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    # One retry: a create the evidence cannot settle in time fails its try, and the retry settles it.
    default_args={"retries": 1, "retry_delay": pendulum.duration(seconds=2)},
    max_active_tasks=10,
    tags=["e2e-faults"],
):
    exports = DataPumpExportOperator.partial(
        task_id="export",
        deferrable=False,
        poll_interval=0.5,
        # A short request timeout so that a create answered late is ambiguous; the evidence waits.
        hook_params={"timeout": 3, "retry_backoff": 0.1, "identity_settle": 30},
    ).expand(schemas=[[s] for s in SCHEMAS])

    @task
    def check(results: list[dict]) -> dict:
        wrong = []
        for schema, result in zip(SCHEMAS, results):
            ran = sorted({o["schema"] for o in result["objects"]})
            if ran != [schema]:
                wrong.append(f"the export of {schema} reported {result['job_name']}, which exported {ran}")
        jobs = [r["job_name"] for r in results]
        if len(set(jobs)) != len(jobs):
            wrong.append(f"two exports reported the same job: {jobs}")
        if wrong:
            raise AssertionError("; ".join(wrong))
        return {"exports": len(results), "jobs": jobs}

    check(exports.output)
