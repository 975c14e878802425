"""A worker slot holding a poke-mode sensor: Airflow's real supervisor and the task process it forks.

``python bench/_poke_worker.py DAG_REL_PATH`` runs ``supervise_task`` (what every executor runs for a
task) on the dag-folder bundle. The only stand-in is the execution API server: the supervisor's
client answers from an in-process handler (start: a running dag run; everything else: 204), as
Airflow's own dry-run client does, so no scheduler or database is needed. The task process loads
the DAG file, pokes the emulator every poke_interval and never ends on its own; the parent
measures the process tree and then kills it.
"""

from __future__ import annotations

import sys
import uuid

import httpx
from airflow.sdk.api.client import Client
from airflow.sdk.api.datamodels._generated import BundleInfo, DagRun, TaskInstance
try:
    from airflow.sdk.execution_time.supervisor import supervise_task
except ImportError:  # Airflow 3.0-3.2 call it supervise (same arguments)
    from airflow.sdk.execution_time.supervisor import supervise as supervise_task

DAG_ID = "bench_poke"


def answer(request: httpx.Request) -> httpx.Response:
    # Airflow's own dry-run handler answers /run with a context this version no longer accepts.
    if request.url.path.startswith("/task-instances/") and request.url.path.endswith("/run"):
        when = "2026-01-01T00:00:00Z"
        dag_run = {"dag_id": DAG_ID, "run_id": "bench", "logical_date": when, "data_interval_start": None,
                   "data_interval_end": None, "start_date": when, "end_date": None, "run_after": when,
                   "run_type": "manual", "state": "running", "partition_key": None,
                   "consumed_asset_events": [], "conf": {}}
        # Each Airflow's model forbids keys it does not know (3.0 has no partition_key).
        dag_run = {k: v for k, v in dag_run.items() if k in DagRun.model_fields}
        return httpx.Response(200, json={"dag_run": dag_run, "max_tries": 0, "should_retry": False})
    return httpx.Response(204)


if __name__ == "__main__":
    ti = TaskInstance(id=uuid.uuid4(), task_id="wait", dag_id=DAG_ID, run_id="bench", try_number=1,
                      dag_version_id=uuid.uuid4())
    client = Client(base_url=None, dry_run=True, token="", transport=httpx.MockTransport(answer))
    sys.exit(supervise_task(ti=ti, bundle_info=BundleInfo(name="dags-folder"), dag_rel_path=sys.argv[1],
                            token="", client=client))
