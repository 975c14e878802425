"""Refresh TESTUSER2 on the test database from TESTUSER1 on production, every night.

Two ORDS connections, two databases, one object-store bucket between them:

1. ``export`` runs on ``ords_prod`` and writes the dump set straight to object storage
   (``credential_name`` and an ``https://`` URI with ``%U``, one folder per night from the run's
   logical date), so no file crosses the network through Airflow.
2. ``import`` runs on ``ords_test`` and reads the same URI (``from_job=export.output``), with the
   same credential name, remapping TESTUSER1 to TESTUSER2. ``replace_schemas=["TESTUSER2"]`` lets
   it drop TESTUSER2 (``DROP USER ... CASCADE``, on the test database only) just before the job is
   created, so that night after night the dump recreates it; ORDS has no ``table_exists_action``,
   and without the drop a second night ends ORA-39151/ORA-31684. The first night, when TESTUSER2
   does not exist yet, nothing is dropped and that is not an error.
3. The import then compares each table's rows with what the export wrote (from ``from_job``) and
   fails, naming the table, when one is missing or differs. No verify task of your own is needed.

Before the first night, a DBA creates the DBMS_CLOUD credential (here ``OBJ_STORE_CRED``) on both
databases and grants what the runbook "Refresh a test schema from production every night" lists.
The drop goes through the test connection's REST-Enabled SQL (``restEnabledSql.active=true`` on
that ORDS; on by default on Autonomous Database), or through ``oracle_conn_id`` when you give one.

Point DATAPUMP_OBJECT_STORE_URI at your bucket (a folder URI ending in ``/``); the default is a
placeholder for OCI Object Storage. Nothing is ever dropped on production: the import, and its
drop, only reach ``ords_test``, and ``replace_schemas`` refuses, before any request, a schema the
export reads when both connections reach the same database.

What this does not give you: ORDS's export has no flashback key, so while production is written
to, the tables of one export may come from slightly different moments (README, "Known limits").
"""

from __future__ import annotations

# --8<-- [start:dag]
import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_provider_datapump.operators.datapump import DataPumpExportOperator, DataPumpImportOperator

SOURCE, TARGET = "TESTUSER1", "TESTUSER2"
PROD, TEST = "ords_prod", "ords_test"
CREDENTIAL = os.environ.get("DATAPUMP_CREDENTIAL_NAME", "OBJ_STORE_CRED")
BUCKET = os.environ.get(
    "DATAPUMP_OBJECT_STORE_URI", "https://objectstorage.eu-frankfurt-1.oraclecloud.com/n/mytenancy/b/datapump/o/"
)
# One folder per night, so a new night never meets last night's files. Data Pump does not overwrite
# a dump file (ORA-31641): to rerun a night whose export already wrote its set, remove that folder.
NIGHT = "{{ (dag_run.logical_date or dag_run.run_after) | ds_nodash }}"
DUMP_URI = BUCKET.rstrip("/") + f"/refresh/{NIGHT}/{SOURCE.lower()}_%U.dmp"

with DAG(
    dag_id="datapump_refresh_test_from_prod",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1)},
    tags=["datapump", "example"],
    doc_md=__doc__,
):
    export = DataPumpExportOperator(
        task_id="export",
        ords_conn_id=PROD,
        schemas=[SOURCE],
        credential_name=CREDENTIAL,
        file_name=DUMP_URI,
        deferrable=True,
        poll_interval=2,
    )
    DataPumpImportOperator(
        task_id="import",
        ords_conn_id=TEST,
        from_job=export.output,
        credential_name=CREDENTIAL,
        remap_schemas={SOURCE: TARGET},
        replace_schemas=[TARGET],
        deferrable=True,
        poll_interval=2,
    )
# --8<-- [end:dag]
