"""Refresh TESTUSER2 from TESTUSER1: export, import with a schema remap, then prove the copy.

Runs whenever the nightly export publishes a dump set, or by hand. The verify task compares
table names and row counts from the export's log with those from the import's log and fails loudly
when anything is missing or differs.

The import expects TESTUSER2 to be absent, as on a fresh test database: ORDS takes no
``table_exists_action``, so into tables that already exist Data Pump's default SKIP applies and the
import ends "completed with N error(s)" (ORA-39151, ORA-31684), which fails the task. To refresh
the same target night after night, drop it first on the target database, with a task ahead of
the import such as common-sql's ``SQLExecuteQueryOperator`` on an Oracle connection running

    BEGIN
      EXECUTE IMMEDIATE 'DROP USER TESTUSER2 CASCADE';
    EXCEPTION WHEN OTHERS THEN
      IF SQLCODE != -1918 THEN RAISE; END IF;  -- ORA-01918: no such user yet, the first night
    END;

The emulator has no SQL to run that against, so this example leaves the task out.

Across two databases, export straight to object storage and import from the same URI on the other
connection (both need a DBMS_CLOUD credential of that name):

    export = DataPumpExportOperator(
        task_id="export", ords_conn_id="ords_prod", schemas=["TESTUSER1"],
        credential_name="OBJ_STORE_CRED",
        file_name="https://objectstorage.eu-frankfurt-1.oraclecloud.com/n/ns/b/dp/o/testuser1_%U.dmp",
    )
    load = DataPumpImportOperator(
        task_id="import", ords_conn_id="ords_test", from_job=export.output,
        credential_name="OBJ_STORE_CRED", remap_schemas={"TESTUSER1": "TESTUSER2"},
    )
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Asset, task

from airflow_provider_datapump.operators.datapump import DataPumpExportOperator, DataPumpImportOperator

SOURCE, TARGET = "TESTUSER1", "TESTUSER2"

with DAG(
    dag_id="datapump_refresh_test_from_prod",
    schedule=[Asset.ref(name="datapump_nightly_dump_sets")],  # the nightly DAG defines its uri
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1)},
    tags=["datapump", "example"],
    doc_md=__doc__,
):
    export = DataPumpExportOperator(task_id="export", schemas=[SOURCE], deferrable=True, poll_interval=2)
    load = DataPumpImportOperator(
        task_id="import",
        from_job=export.output,
        remap_schemas={SOURCE: TARGET},
        deferrable=True,
        poll_interval=2,
    )

    @task
    def verify(exported: dict, imported: dict) -> dict:
        """The import must contain every exported table, remapped, with the same row count."""
        expected = {o["name"]: o["rows"] for o in exported["objects"] if o["schema"] == SOURCE}
        actual = {o["name"]: o["rows"] for o in imported["objects"] if o["schema"] == TARGET}
        missing = sorted(set(expected) - set(actual))
        differ = {t: (expected[t], actual[t]) for t in expected.keys() & actual.keys() if expected[t] != actual[t]}
        if not expected or missing or differ:
            raise ValueError(
                f"refresh of {TARGET} from {SOURCE} is not a faithful copy: exported {expected}, "
                f"imported {actual}, missing {missing}, row counts differ {differ}"
            )
        return {"tables": len(expected), "rows": sum(expected.values()), "target": TARGET}

    verify(export.output, load.output)
