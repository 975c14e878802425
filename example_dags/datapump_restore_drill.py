"""Restore drill: prove that last night's backup restores, every morning, then clean up.

A dump set nobody has imported is a hope, not a backup. This DAG imports the set that
``datapump_refresh_test_from_prod`` exported to object storage for the same night, into a scratch
schema on the test database, has the import check the copy, and drops the scratch schema:

1. ``find_export`` (``ords_prod``, read-only): finds the night's export in production's job list,
   by the dump set its log names, and returns its result: the tables and rows it wrote.
2. ``restore`` (``ords_test``): imports ``<bucket>/refresh/<night>/testuser1_%U.dmp`` with the
   DBMS_CLOUD credential, remapping TESTUSER1 to RESTORE_DRILL. ``replace_schemas`` drops a
   RESTORE_DRILL left behind by a drill that failed halfway, before the dump recreates it. With
   ``from_job`` set to that export, the provider compares every restored table's rows with what the
   export wrote and fails the task, naming the table, when one is missing or differs.
3. ``drop_scratch`` (``ords_test``): drops RESTORE_DRILL (``DataPumpHook.drop_user``, over ORDS's
   REST-Enabled SQL, or ``oracle_conn_id`` when the hook is given one).

A green run proves that last night's set restores, complete, into an empty schema. A night without
an export, a set that does not load, or a table that comes back short fails the drill. Nothing is
dropped on production: only the test connection drops. The bucket and the credential are those of
the refresh DAG (DATAPUMP_OBJECT_STORE_URI, DATAPUMP_CREDENTIAL_NAME).
"""
from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_datapump.operators.datapump import DataPumpImportOperator

SOURCE, SCRATCH = "TESTUSER1", "RESTORE_DRILL"
PROD, TEST = "ords_prod", "ords_test"
CREDENTIAL = os.environ.get("DATAPUMP_CREDENTIAL_NAME", "OBJ_STORE_CRED")
BUCKET = os.environ.get(
    "DATAPUMP_OBJECT_STORE_URI", "https://objectstorage.eu-frankfurt-1.oraclecloud.com/n/mytenancy/b/datapump/o/"
)
NIGHT = "{{ (dag_run.logical_date or dag_run.run_after) | ds_nodash }}"
DUMP_URI = BUCKET.rstrip("/") + f"/refresh/{NIGHT}/{SOURCE.lower()}_%U.dmp"

with DAG(
    dag_id="datapump_restore_drill",
    schedule="0 6 * * *",  # after the 02:00 refresh has exported the night's set
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1)},
    tags=["datapump", "example"],
    doc_md=__doc__,
):
    @task
    def find_export(dump_uri: str) -> dict:
        """The newest finished export on production whose log names this dump set, as the export
        operator returns it. Reads the job list and export logs only; fails when there is none."""
        from airflow_provider_datapump.hooks.datapump import DataPumpHook

        hook = DataPumpHook(ords_conn_id=PROD)
        prefix = dump_uri.split("%U")[0]
        page = hook.list_jobs(limit=100, q={"job_name": {"$like": "DATAPUMP_REST_EXPORT_%"}})
        for job in sorted(page.items, key=lambda j: j.job_name, reverse=True)[:20]:  # ORDS names them by time
            ref = {"owner_name": job.owner_name, "job_name": job.job_name}
            found = hook.resolve(ref).to_xcom()
            log = found.get("log_file")
            if found.get("outcome") == "succeeded" and log and prefix in hook.get_file_text(ref, log):
                return {**found, "ords_conn_id": PROD}
        raise ValueError(f"no finished export on {PROD} wrote {dump_uri}: there is no backup to restore")

    restore = DataPumpImportOperator(
        task_id="restore",
        ords_conn_id=TEST,
        from_job=find_export(DUMP_URI),  # what the export wrote: the copy is checked against it
        credential_name=CREDENTIAL,
        file_name=DUMP_URI,
        schemas=[SOURCE],
        remap_schemas={SOURCE: SCRATCH},
        replace_schemas=[SCRATCH],
        deferrable=True,
        poll_interval=2,
    )

    @task
    def drop_scratch(restored: dict) -> dict:
        """Drop the scratch schema the drill restored into; False when it was already gone."""
        from airflow_provider_datapump.hooks.datapump import DataPumpHook

        dropped = DataPumpHook(ords_conn_id=TEST).drop_user(SCRATCH)
        return {"schema": SCRATCH, "dropped": dropped, "restored_tables": restored.get("object_count")}

    drop_scratch(restore.output)
