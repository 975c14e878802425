"""Nightly export: one Data Pump job per schema, dump sets verified into object storage, old sets pruned.

Point DATAPUMP_BACKUP_URL at a bucket for real use, for example
``s3://aws_default@my-bucket/datapump/`` (needs apache-airflow-providers-amazon) or
``gs://google_cloud_default@my-bucket/datapump/``. The default keeps sets on the worker's disk.
"""

from __future__ import annotations

# --8<-- [start:dag]
import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Asset, task

from airflow_provider_datapump.operators.datapump import DataPumpExportOperator
from airflow_provider_datapump.operators.fetch import DataPumpFetchFilesOperator

SCHEMAS = ["TESTUSER1", "TESTUSER3"]
BACKUP_URL = os.environ.get("DATAPUMP_BACKUP_URL", "file:///tmp/datapump-backups/")
KEEP_SETS = int(os.environ.get("DATAPUMP_KEEP_SETS", "7"))

# Published when a verified dump set lands; the refresh DAG is scheduled on it.
DUMP_SETS = Asset(name="datapump_nightly_dump_sets", uri=BACKUP_URL.rstrip("/") + "/")

with DAG(
    dag_id="datapump_nightly_export",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["datapump", "example"],
    doc_md=__doc__,
):
    # One export per schema; at most two run at once, so a long schema list does not flood the database.
    exports = DataPumpExportOperator.partial(
        task_id="export",
        deferrable=True,
        poll_interval=2,
        max_active_tis_per_dag=2,
    ).expand(schemas=[[schema] for schema in SCHEMAS])

    fetched = DataPumpFetchFilesOperator.partial(
        task_id="fetch",
        files=("dump", "log"),
        # A run triggered by hand through the API may have no logical date; fall back to run_after.
        destination=BACKUP_URL + "{{ (dag_run.logical_date or dag_run.run_after) | ds }}/",
        max_active_tis_per_dag=2,
        outlets=[DUMP_SETS],
    ).expand(job=exports.output)

    @task
    def apply_retention(keep: int = KEEP_SETS) -> dict:
        """Keep the newest ``keep`` complete day folders; a folder is complete when every dump in it
        is listed in one of its manifests. Incomplete folders never count and are never deleted here."""
        import json

        from airflow.sdk import ObjectStoragePath

        root = ObjectStoragePath(BACKUP_URL)
        complete, incomplete = [], []
        for folder in sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True):
            manifests = [p for p in folder.iterdir() if p.name.endswith(".manifest.json")]
            listed = {f["name"] for m in manifests for f in json.loads(m.read_text())["files"]}
            dumps = {p.name for p in folder.iterdir() if p.name.upper().endswith(".DMP")}
            (complete if manifests and dumps <= listed else incomplete).append(folder)
        removed = []
        for folder in complete[keep:]:
            for item in folder.iterdir():
                item.unlink()
            folder.rmdir()
            removed.append(folder.name)
        return {"kept": [p.name for p in complete[:keep]], "removed": removed, "incomplete": [p.name for p in incomplete]}

    fetched >> apply_retention()
# --8<-- [end:dag]
