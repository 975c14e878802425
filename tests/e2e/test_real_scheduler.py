"""The refresh DAG under a real Airflow (api-server, scheduler, dag-processor and triggerer as separate
processes, LocalExecutor, SQLite) on loopback, against the emulator running as its own process.

``dag.test()`` and ``airflow dags test`` run the trigger inline; here the deferrable tasks must be
serialized, handed to the triggerer process, resumed on a worker that fetches the connection through
the Task SDK, and only then succeed. Every wait is bounded, and every process this test starts is
stopped at the end, whatever happened (``tests/airflow_stack.py``).
"""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.airflow_stack import (
    EMULATOR_PASSWORD,
    EXAMPLE_DAGS,
    AirflowStack,
    assert_retry_was_airflows_stale_success_race,
    xfail_when_the_race_failed_the_run_below_3_3,
)
from tests.conftest import STATIC_SECRETS
from tests.lineage import olschema

LINEAGE_DATABASE = "db.example.test:1521/FREEPDB1"

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

DAG_FILE = EXAMPLE_DAGS / "datapump_refresh_test_from_prod.py"
DAG_ID = "datapump_refresh_test_from_prod"
DEFERRABLE_TASKS = ("export", "import")
JOB_SECONDS = 4  # long enough that each job is polled at least once by the trigger (poll_interval=2)

STARTUP_BUDGET = 150  # seconds for Airflow to serve the API, parse the DAG and heartbeat
RUN_BUDGET = 240  # seconds for the triggered run to finish


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """Emulator + the four Airflow components, each its own process; stopped after, whatever happened."""
    # Only the refresh DAG: the nightly DAG is @daily and would start its own run (and publish the
    # asset that schedules another refresh), which would muddle the request counts below.
    work = tmp_path_factory.mktemp("real-airflow")
    # Lineage (#17) rides on this run rather than starting a second stack: every component and task
    # process writes its OpenLineage events to files in one folder.
    (work / "openlineage").mkdir()
    with AirflowStack(work, [DAG_FILE], job_seconds=JOB_SECONDS,
                      extra_env={"AIRFLOW__OPENLINEAGE__TRANSPORT": olschema.file_transport(work / "openlineage")},
                      ords_connection_extra={"lineage_database": LINEAGE_DATABASE}) as stack:
        yield stack.start()


# ---------------------------------------------------------------- the test


def test_refresh_dag_defers_to_the_triggerer_and_lands_in_testuser2(deployment):
    stack = deployment
    failed = True
    try:
        ready_at = stack.wait_ready([DAG_ID], budget=STARTUP_BUDGET)
        run_id = stack.trigger(DAG_ID)
        state = stack.wait_run(DAG_ID, run_id, timeout=RUN_BUDGET)
        tis = stack.task_instances(DAG_ID, run_id)
        ti_states = {task_id: ti["state"] for task_id, ti in tis.items()}
        if state != "success":
            xfail_when_the_race_failed_the_run_below_3_3(stack, DAG_ID, run_id, tis)
        assert state == "success", f"run {run_id} ended {state}: {ti_states}"
        assert ti_states == {"export": "success", "import": "success", "verify": "success"}, ti_states

        # ---- the deferrable tasks really deferred, and their triggers ran in the triggerer process.
        triggerer_jobs = stack.client.get("/api/v2/jobs", params={"job_type": "TriggererJob"}).json()["jobs"]
        triggerer_ids = {j["id"] for j in triggerer_jobs}
        assert triggerer_ids, "no TriggererJob is registered"
        resubmitted = dict.fromkeys(DEFERRABLE_TASKS, 0)  # jobs submitted again by a raced retry below 3.3
        for task_id in DEFERRABLE_TASKS:
            task_log_dir = stack.task_log_dir(DAG_ID, run_id, task_id)
            if tis[task_id]["try_number"] > 1:
                resubmitted[task_id] = assert_retry_was_airflows_stale_success_race(stack, DAG_ID, run_id, task_id)
            try_number = 1  # the try that deferred; a deferral itself does not add a try
            # The triggerer writes what a trigger logs to <task log>.trigger.<triggerer job id>.log; the
            # file exists only when a triggerer process ran the trigger (inline runs have none).
            trigger_logs = sorted(task_log_dir.glob(f"attempt={try_number}.log.trigger.*.log"))
            assert trigger_logs, f"no trigger log for {task_id} in {task_log_dir}: {sorted(os.listdir(task_log_dir))}"
            ran_in = {int(p.name.rsplit(".", 2)[-2]) for p in trigger_logs}
            assert ran_in <= triggerer_ids, f"{task_id}'s trigger ran in {ran_in}, triggerers are {triggerer_ids}"
            events = [json.loads(line)["event"] for p in trigger_logs
                      for line in p.read_text(errors="replace").splitlines() if line.startswith("{")]
            # Logged by DataPumpTrigger.run() while it polled, then Airflow's record of the event it fired.
            assert any(e.startswith("Data Pump job ") and e.endswith(" is EXECUTING") for e in events), (
                f"{task_id}'s trigger never polled a running job in the triggerer: {events}")
            assert any(e == "Trigger fired event" for e in events), f"{task_id}'s trigger never fired: {events}"
            # The worker's part of the log shows the hand-off.
            task_log = stack.task_log(DAG_ID, run_id, task_id, try_number)
            assert "Pausing task as DEFERRED" in task_log, f"{task_id} never deferred:\n{task_log[-3000:]}"

        # ---- the emulator: TESTUSER2 is a faithful copy, and each job was created exactly once.
        catalog = stack.emulator("catalog")
        tables = catalog["schemas"].get("TESTUSER2", {}).get("tables", {})
        assert {name: t["rows"] for name, t in tables.items()} == {"EMP": 14, "DEPT": 4}, catalog
        jobs = stack.emulator("jobs")
        expected = sorted(["EXPORT"] * (1 + resubmitted["export"]) + ["IMPORT"] * (1 + resubmitted["import"]))
        assert sorted(j["operation"] for j in jobs) == expected, jobs
        creates = stack.creates()
        assert len(creates) == len(jobs) == len(expected), (
            f"expected one POST per job (export, import, resubmitted {resubmitted}), got {creates}")
        assert all(r["status"] in (200, 201) for r in creates), creates

        # ---- no secret leaked into any log Airflow wrote (task, trigger, every component's output).
        leaks = stack.secret_leaks([EMULATOR_PASSWORD])
        assert not leaks, f"the ORDS password appears in {leaks}"

        # ---- lineage: the worker processes emitted COMPLETE events tracing EMP through the dump file.
        events = [e for e in olschema.read_events(stack.work / "openlineage") if e["run"]["facets"].get("airflow", {})
                  .get("dagRun", {}).get("run_id", run_id) == run_id]
        lineage = olschema.assert_refresh_lineage(events, "oracle://db.example.test:1521", "FREEPDB1",
                                                  (EMULATOR_PASSWORD, *STATIC_SECRETS))
        print(f"\ne2e timings: airflow ready after {ready_at:.0f}s, run {run_id} took "
              f"{time.monotonic() - stack.started - ready_at:.0f}s; lineage: {lineage}")
        failed = False
    finally:
        if failed:
            print(stack.diagnostics())
