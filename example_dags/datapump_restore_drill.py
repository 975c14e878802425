"""Restore drill: prove that last night's backup restores, every morning, then clean up.

A dump set nobody has imported is a hope, not a backup. This DAG imports the set that
``datapump_refresh_test_from_prod`` exported to object storage for the same night, into a scratch
schema on the test database, lets the import check the copy, and drops the scratch schema:

1. ``restore`` (``ords_test``): imports ``<bucket>/refresh/<night>/testuser1_%U.dmp`` with the
   DBMS_CLOUD credential, remapping TESTUSER1 to RESTORE_DRILL. ``replace_schemas`` drops a
   RESTORE_DRILL left behind by a drill that failed halfway before the dump recreates it.
   The provider verifies the copy: each table's rows against the export log of the same dump
   set when the test connection can read it; when it cannot, the task says in its log and its
   result that there was nothing to compare with, and the drill proves only that the set loads.
2. ``drop_scratch``: drops RESTORE_DRILL through the test connection (``DataPumpHook.drop_user``,
   over ORDS's REST-Enabled SQL, or ``oracle_conn_id`` when the hook is given one).

Nothing is dropped on production: both tasks use ``ords_test`` only. The bucket and the credential
are those of the refresh DAG (DATAPUMP_OBJECT_STORE_URI, DATAPUMP_CREDENTIAL_NAME).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_datapump.operators.datapump import DataPumpImportOperator

SOURCE, SCRATCH = "TESTUSER1", "RESTORE_DRILL"
TEST = "ords_test"
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
    restore = DataPumpImportOperator(
        task_id="restore",
        ords_conn_id=TEST,
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
