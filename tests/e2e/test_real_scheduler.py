"""The refresh DAG under a real Airflow (api-server, scheduler, dag-processor and triggerer as separate
processes, LocalExecutor, SQLite) on loopback, on two consecutive nights, from a production emulator
to a test emulator, each its own process, the two sharing one object-store folder (issue 26).

``dag.test()`` and ``airflow dags test`` run the trigger inline; here the deferrable tasks must be
serialized, handed to the triggerer process, resumed on a worker that fetches the connection through
the Task SDK, and only then succeed. Between the nights production's TESTUSER1.EMP changes (the
emulator's catalog control), so night 2 must land night 2's rows; the import drops TESTUSER2 on the
test database through REST-Enabled SQL first, and nothing is ever dropped on production. Every wait
is bounded, and every process this test starts is stopped at the end (``tests/airflow_stack.py``).
"""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.airflow_stack import (
    DROP_USER,
    EMULATOR_PASSWORD,
    EXAMPLE_DAGS,
    AirflowStack,
    assert_retry_was_airflows_stale_success_race,
    is_create,
    sql_requests,
    xfail_when_the_race_failed_the_run_below_3_3,
)
from tests.conftest import STATIC_SECRETS
from tests.lineage import olschema

# Two databases, two listeners: lineage names each by its own connection's field.
PROD_DATABASE, TEST_DATABASE = "prod.example.test:1521/PROD", "test.example.test:1521/TEST"

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(480)]

DAG_FILE = EXAMPLE_DAGS / "datapump_refresh_test_from_prod.py"
DAG_ID = "datapump_refresh_test_from_prod"
DEFERRABLE_TASKS = ("export", "import")
JOB_SECONDS = 4  # long enough that each job is polled at least once by the trigger (poll_interval=2)
# Night 1 copies the seed's 14 rows of EMP; before night 2 production's EMP grows to 23.
NIGHTS = (("2026-12-01T01:00:00+00:00", 14), ("2026-12-02T01:00:00+00:00", 23))

STARTUP_BUDGET = 150  # seconds for Airflow to serve the API, parse the DAG and heartbeat
RUN_BUDGET = 240  # seconds for one night's run to finish


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """Two emulators + the four Airflow components, each its own process; stopped after, whatever happened."""
    # Only the refresh DAG: the nightly DAG would add exports on production, which would muddle the
    # request counts below.
    work = tmp_path_factory.mktemp("real-airflow")
    # Lineage (#17) rides on these runs rather than starting a second stack: every component and task
    # process writes its OpenLineage events to files in one folder.
    (work / "openlineage").mkdir()
    with AirflowStack(work, [DAG_FILE], job_seconds=JOB_SECONDS, second_emulator=True,
                      extra_env={"AIRFLOW__OPENLINEAGE__TRANSPORT": olschema.file_transport(work / "openlineage"),
                                 # The example runs at 02:00 every day: unpaused, the scheduler would add a
                                 # run of its own to the two nights triggered here. Triggered runs still run.
                                 "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"},
                      connection_extras={"ords_prod": {"lineage_database": PROD_DATABASE},
                                         "ords_test": {"lineage_database": TEST_DATABASE}}) as stack:
        yield stack.start()


# ---------------------------------------------------------------- evidence of one night


def assert_deferred_to_the_triggerer(stack: AirflowStack, run_id: str, tis: dict[str, dict]) -> dict[str, int]:
    """Each deferrable task deferred and its trigger ran in a triggerer process; returns, per task,
    the jobs a retry forced by Airflow's stale-success race submitted again (below 3.3: 0 or 1)."""
    triggerer_jobs = stack.client.get("/api/v2/jobs", params={"job_type": "TriggererJob"}).json()["jobs"]
    triggerer_ids = {j["id"] for j in triggerer_jobs}
    assert triggerer_ids, "no TriggererJob is registered"
    resubmitted = dict.fromkeys(DEFERRABLE_TASKS, 0)
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
    return resubmitted


def run_night(stack: AirflowStack, logical_date: str) -> tuple[str, dict[str, dict], float, float]:
    """Trigger one night's run and wait for it: (run id, task instances, started, ended) in epoch seconds."""
    started = time.time()
    run_id = stack.trigger(DAG_ID, logical_date=logical_date)
    state = stack.wait_run(DAG_ID, run_id, timeout=RUN_BUDGET)
    tis = stack.task_instances(DAG_ID, run_id)
    ti_states = {task_id: ti["state"] for task_id, ti in tis.items()}
    if state != "success":
        xfail_when_the_race_failed_the_run_below_3_3(stack, DAG_ID, run_id, tis)
    assert state == "success", f"run {run_id} ({logical_date}) ended {state}: {ti_states}"
    # The example has no verify task of its own any more: the import compares the rows itself.
    assert ti_states == {"export": "success", "import": "success"}, ti_states
    return run_id, tis, started, time.time()


def within(entries: list[dict], since: float, until: float, key: str = "timestamp") -> list[dict]:
    return [e for e in entries if since - 1 <= e[key] <= until + 1]


# ---------------------------------------------------------------- the test


def test_refresh_dag_on_two_nights_from_prod_to_test_under_the_real_scheduler(deployment):
    stack = deployment
    failed = True
    try:
        ready_at = stack.wait_ready([DAG_ID], budget=STARTUP_BUDGET)
        timings, summaries = [], []
        for night, (logical_date, rows) in enumerate(NIGHTS, start=1):
            if night == 2:
                # Production's business changed EMP during the day; the test copy is still night 1's.
                stack.set_rows("TESTUSER1", "EMP", rows, on="prod")
                assert stack.emulator("catalog", "test")["schemas"]["TESTUSER2"]["tables"]["EMP"]["rows"] == NIGHTS[0][1]
            began = time.monotonic()
            run_id, tis, since, until = run_night(stack, logical_date)
            timings.append(round(time.monotonic() - began, 1))
            resubmitted = assert_deferred_to_the_triggerer(stack, run_id, tis)

            # ---- the test emulator: TESTUSER2 holds this night's rows.
            tables = stack.emulator("catalog", "test")["schemas"].get("TESTUSER2", {}).get("tables", {})
            assert {name: t["rows"] for name, t in tables.items()} == {"EMP": rows, "DEPT": 4}, (night, tables)

            # ---- each job was created once, on its own database: the export on prod, the import on test.
            prod_jobs = within(stack.emulator("jobs", "prod"), since, until, "created")
            test_jobs = within(stack.emulator("jobs", "test"), since, until, "created")
            assert sorted(j["operation"] for j in prod_jobs) == ["EXPORT"] * (1 + resubmitted["export"]), prod_jobs
            assert sorted(j["operation"] for j in test_jobs) == ["IMPORT"] * (1 + resubmitted["import"]), test_jobs
            assert all(j["object_store"] for j in prod_jobs + test_jobs), "a job did not use the object store"
            test_requests = within(stack.emulator("requests", "test"), since, until)
            prod_creates = [r for r in within(stack.emulator("requests", "prod"), since, until)
                            if is_create(r) and r["status"] == 201]
            test_creates = [r for r in test_requests if is_create(r) and r["status"] == 201]
            assert len(prod_creates) == len(prod_jobs) and len(test_creates) == len(test_jobs), (prod_creates, test_creates)

            # ---- the drop: through the test database's REST-Enabled SQL, before its import was created.
            drops = sql_requests(test_requests, DROP_USER)
            assert all(r["status"] == 200 for r in drops), drops
            if drops:
                assert drops[0]["timestamp"] <= test_creates[0]["timestamp"], (drops, test_creates)
            import_log = stack.task_log(DAG_ID, run_id, "import", 1)
            if night == 1:
                # TESTUSER2 did not exist yet: no drop, or one that ORA-01918 answered, which is no error.
                assert len(drops) <= 1 + resubmitted["import"], drops
                assert "schema TESTUSER2 is not there yet" in import_log, import_log[-3000:]
            else:
                assert len(drops) == 1 + resubmitted["import"], f"night 2 sent {len(drops)} DROP USER: {drops}"
                # The task log names the schema dropped and how many objects it held (night 1's two tables).
                assert "dropped schema TESTUSER2 (2 objects)" in import_log, import_log[-3000:]

            # ---- lineage: the workers emitted COMPLETE events tracing EMP from prod, through the
            # object in the shared bucket, into TESTUSER2 on test.
            events = [e for e in olschema.read_events(stack.work / "openlineage") if e["run"]["facets"]
                      .get("airflow", {}).get("dagRun", {}).get("run_id", run_id) == run_id]
            summaries.append(olschema.assert_refresh_lineage(
                events, "oracle://prod.example.test:1521", "PROD", (EMULATOR_PASSWORD, *STATIC_SECRETS),
                target=("oracle://test.example.test:1521", "TEST"), rows=rows,
                tries={task: tis[task]["try_number"] for task in ("export", "import")}))

        # ---- production is untouched: no DROP ever reached it, and its source schema is whole.
        prod_drops = sql_requests(stack.emulator("requests", "prod"), DROP_USER)
        assert prod_drops == [], f"a DROP USER reached production: {prod_drops}"
        prod_tables = stack.emulator("catalog", "prod")["schemas"]["TESTUSER1"]["tables"]
        assert {name: t["rows"] for name, t in prod_tables.items()} == {"EMP": NIGHTS[-1][1], "DEPT": 4}, prod_tables
        assert "TESTUSER2" not in stack.emulator("catalog", "prod")["schemas"], "the import wrote to production"

        # ---- no secret leaked into any log Airflow wrote (task, trigger, every component's output).
        leaks = stack.secret_leaks([EMULATOR_PASSWORD])
        assert not leaks, f"the ORDS password appears in {leaks}"
        print(f"\ne2e timings: airflow ready after {ready_at:.0f}s, nights took {timings}s; lineage: {summaries}")
        failed = False
    finally:
        if failed:
            print(stack.diagnostics())
