"""Faults in a real deployment (issue 8, part 3): kill the triggerer, kill a worker, take ORDS away
for 30 s, and fail a job with ORA errors, each under a real Airflow (api-server, scheduler,
dag-processor and triggerer as separate processes, LocalExecutor) against the emulator process.
Issue 26 adds a second emulator (the test database, sharing the first's object-store folder): a task
marked failed stops its job through REST-Enabled SQL, and a worker killed mid-import with
``replace_schemas`` is retried without a second drop.

One deployment serves every scenario: starting Airflow costs 20-60 s on this machine and the
scenarios do not disturb each other (each has its own DAG, and faults and queued scenarios are
cleared around each). The emulator runs every job for 10 minutes unless a scenario ends it through
the control surface, so each scenario decides exactly when its jobs end instead of racing a timer.

Every wait is bounded, every process is stopped on every path (``tests/airflow_stack.py``), and each
scenario prints its figures (wall time, outage or kill length, retries, polls, creates); run with -s.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from airflow_provider_datapump._compat import AIRFLOW_VERSION, FEATURES
from tests.airflow_stack import (
    DROP_USER,
    EMULATOR_PASSWORD,
    EMULATOR_USER,
    STOP_JOB,
    AirflowStack,
    assert_retry_was_airflows_stale_success_race,
    is_create,
    sql_requests,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

DAGS = Path(__file__).parent / "dags"
DAG_IDS = ("fault_triggerer_kill", "fault_worker_kill", "fault_ords_outage", "fault_ora_errors", "dp_mapped_exports",
           "fault_kill_stops_job", "fault_refresh_worker_kill")
# Ten mapped exports side by side (issue 15); the same DAG dag.test() runs in tests/operators.
MAPPED_DAG = Path(__file__).parent.parent / "dags" / "dp_mapped_exports.py"
STARTUP_BUDGET = 180
RUN_BUDGET = 180  # seconds for a scenario's run to finish once its fault is over
JOB_SECONDS = 600  # every job runs until its scenario finishes it (PATCH finish_now)
OUTAGE_SECONDS = 30
TRIGGERER_DOWN_SECONDS = 5
# What a dead triggerer's triggers wait for before another triggerer adopts them (default 30 s).
TRIGGERER_HEALTH_CHECK_THRESHOLD = 15
# The hook's per-call budget (RetryPolicy: 5 attempts); more 503s than this on one job means a
# wait rode out more than one call's worth of outage.
RETRY_ATTEMPTS = 5
SECRETS = (EMULATOR_PASSWORD, base64.b64encode(f"{EMULATOR_USER}:{EMULATOR_PASSWORD}".encode()).decode())

FIGURES: dict[str, dict] = {}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    work = tmp_path_factory.mktemp("faults")
    with AirflowStack(
        work,
        [*sorted(DAGS.glob("fault_*.py")), MAPPED_DAG],
        job_seconds=JOB_SECONDS,
        second_emulator=True,  # ords_test, for the issue 26 scenarios; the others use ords_default (prod)
        extra_env={
            "DATAPUMP_FAULT_BACKUP_URL": f"file://{work}/backups/",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(TRIGGERER_HEALTH_CHECK_THRESHOLD),
        },
    ) as s:
        s.start()
        try:
            s.ready_after = s.wait_ready(DAG_IDS, budget=STARTUP_BUDGET)
        except BaseException:
            print(s.diagnostics())
            raise
        print(f"\nfaults: airflow ready after {s.ready_after:.0f}s")
        yield s
        print("\nfault figures: " + json.dumps(FIGURES, indent=1))


@pytest.fixture
def scenario(stack, request):
    """Clean emulator controls before and after; the scenario's figures; diagnostics on failure."""
    stack.clear_faults()
    stack.control("DELETE", "scenario/next")
    started_wall, started = time.time(), time.monotonic()
    figures = FIGURES.setdefault(request.node.name, {})
    failed = True
    try:
        yield started_wall, figures
        failed = False
    finally:
        figures["wall_seconds"] = round(time.monotonic() - started, 1)
        print(f"\n{request.node.name}: {json.dumps(figures)}")
        try:
            stack.clear_faults()
            stack.control("DELETE", "scenario/next")
        finally:
            if failed:
                print(stack.diagnostics())


# ---------------------------------------------------------------- evidence helpers


def requests_since(stack: AirflowStack, since: float, on: str = "prod") -> list[dict]:
    return [r for r in stack.emulator("requests", on) if r["timestamp"] >= since]


def creates_since(stack: AirflowStack, since: float, on: str = "prod") -> list[dict]:
    """Creates that created a job (201); one refused for a second already taken (ORA-31634) did not."""
    return [r for r in requests_since(stack, since, on) if is_create(r) and r["status"] == 201]


def jobs_since(stack: AirflowStack, since: float, on: str = "prod") -> list[dict]:
    return [j for j in stack.emulator("jobs", on) if not j["foreign"] and j["created"] >= since - 1]


def job_for_schema(stack: AirflowStack, since: float, schema: str, on: str = "prod") -> dict | None:
    return next((j for j in jobs_since(stack, since, on) if j["schemas"] == [schema]), None)


def export_writing(stack: AirflowStack, since: float, uri_part: str) -> dict | None:
    """The export on prod whose object-store dump set names ``uri_part``: a scenario's own export, never
    another scenario's export of the same schema created within the second before ``since``."""
    return next((j for j in jobs_since(stack, since) if j["operation"] == "EXPORT" and j["object_store"]
                 and any(uri_part in f for f in j["dump_files"])), None)


def events(path: Path) -> list[str]:
    """The messages of a structured (JSON lines) Airflow task or trigger log."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                out.append(str(json.loads(line).get("event", "")))
            except ValueError:
                continue
    return out


def log_text(path: Path) -> str:
    """Every string in a structured log, decoded (quotes in ORA lines are escaped in the raw JSON)."""
    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)

    out = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            out.extend(strings(json.loads(line)))
        except ValueError:
            out.append(line)
    return "\n".join(out)


def trigger_logs(stack: AirflowStack, dag_id: str, run_id: str, task_id: str, attempt: int = 1) -> dict[int, Path]:
    """triggerer job id → the log the trigger wrote while that triggerer ran it."""
    found = stack.task_log_dir(dag_id, run_id, task_id).glob(f"attempt={attempt}.log.trigger.*.log")
    return {int(p.name.rsplit(".", 2)[-2]): p for p in found}


def all_tis(stack: AirflowStack, dag_id: str, run_id: str) -> list[dict]:
    body = stack.client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()
    return body["task_instances"]


def assert_first_try_or_race(stack: AirflowStack, dag_id: str, run_id: str, task_id: str, deferred: bool,
                             reattach_marker: str | None = "A previous try started") -> tuple[int, int]:
    """(the task's try number, the jobs a raced retry submitted again below Airflow 3.3: 0 or 1)."""
    try_number = stack.task_instance(dag_id, run_id, task_id)["try_number"]
    resubmitted = 0
    if try_number > 1:
        assert deferred, f"{task_id} (not deferrable) needed {try_number} tries"
        assert try_number == 2, f"{task_id} needed {try_number} tries"
        resubmitted = assert_retry_was_airflows_stale_success_race(stack, dag_id, run_id, task_id, reattach_marker)
    return try_number, resubmitted


def sigkill_first_try(stack: AirflowStack, dag_id: str, run_id: str, task_id: str) -> float:
    """SIGKILL the task process of a task's running first try (an OOM kill); returns when, monotonic."""
    ti = stack.task_instance(dag_id, run_id, task_id)
    assert ti["state"] == "running" and ti["try_number"] == 1, ti
    procs = stack.task_processes(ti["id"])
    assert len(procs["task"]) == 1 and len(procs["supervisor"]) == 1, procs
    os.kill(procs["task"][0], signal.SIGKILL)
    return time.monotonic()


def assert_no_leaks(stack: AirflowStack) -> None:
    leaks = stack.secret_leaks(SECRETS)
    assert not leaks, f"a credential appears in {sorted(set(leaks))}"


def pause(stack: AirflowStack, seconds: float, what: str) -> None:
    """Sleep, but fail at once if a process the stack owns dies meanwhile."""
    until = time.monotonic() + seconds
    stack.wait_for(what, lambda: time.monotonic() >= until, timeout=seconds + 5, interval=0.5)


# ---------------------------------------------------------------- scenarios


def test_job_failing_with_ora_errors_fails_the_dag_and_fetch_writes_nothing(stack, scenario):
    """Two exports end badly, one "completed with 2 error(s)", one "stopped due to fatal error":
    the run fails with Data Pump's ORA lines in each task log, and no file (so no manifest) ever
    reaches the backup destination, neither through the fetch the trigger rule skips nor through
    a fetch that runs anyway."""
    since, figures = scenario
    dag_id = "fault_ora_errors"
    run_id = stack.trigger(dag_id)
    jobs = stack.wait_for("both exports to start their jobs", lambda: (
        (a, b) if (a := job_for_schema(stack, since, "TESTUSER1")) and (b := job_for_schema(stack, since, "TESTUSER3"))
        else None), timeout=RUN_BUDGET)
    endings = {
        "TESTUSER1": {"outcome": "errors", "error_count": 2, "ora_codes": ["ORA-39083", "ORA-01917"]},
        "TESTUSER3": {"outcome": "fatal", "ora_codes": ["ORA-39126", "ORA-01652"]},
    }
    for job in jobs:
        stack.patch_job(job["owner_name"], job["job_name"], finish_now=True, **endings[job["schemas"][0]])
    state = stack.wait_run(dag_id, run_id, timeout=RUN_BUDGET)
    tis = {(ti["task_id"], ti["map_index"]): ti for ti in all_tis(stack, dag_id, run_id)}
    figures.update(run_state=state, ti_states={f"{t}[{i}]": ti["state"] for (t, i), ti in tis.items()})
    assert state == "failed"

    finished = {j["job_name"]: j for j in stack.emulator("jobs")}
    for map_index, job in enumerate(jobs):
        assert tis[("export", map_index)]["state"] == "failed"
        assert tis[("export", map_index)]["try_number"] == 1
        log = log_text(stack.task_log_dir(dag_id, run_id, "export") / f"map_index={map_index}" / "attempt=1.log")
        ora_lines = finished[job["job_name"]]["errors"]
        assert len(ora_lines) == 2 and all(line.startswith("ORA-") for line in ora_lines), ora_lines
        for line in ora_lines:
            assert line in log, f"export[{map_index}]'s log lacks Data Pump's line {line!r}:\n{log[-3000:]}"
        ending = "completed with 2 error(s)" if map_index == 0 else "stopped due to fatal error"
        assert ending in log, f"export[{map_index}]'s log lacks {ending!r}"
        # Under the ORA lines, what the known code means, with the job's own names (hints.py, #28).
        hint = ("ORA-01917 (user or role does not exist): The dump grants a privilege to TESTUSER1_READER"
                if map_index == 0 else "ORA-01652 (unable to extend temp segment): Tablespace TEMP ran out")
        assert hint in log, f"export[{map_index}]'s log lacks the hint {hint!r}:\n{log[-3000:]}"
    figures["ora_lines_in_task_logs"] = sum(len(finished[j["job_name"]]["errors"]) for j in jobs)

    # Airflow's trigger rule keeps the fetch from running at all...
    fetch_states = {i: ti["state"] for (t, i), ti in tis.items() if t == "fetch"}
    assert set(fetch_states.values()) == {"upstream_failed"}, fetch_states
    # ...and a fetch that runs anyway refuses the failed job's set before writing anything.
    assert tis[("fetch_anyway", -1)]["state"] == "failed"
    fetch_log = stack.task_log(dag_id, run_id, "fetch_anyway", 1)
    assert "its dump set is not complete, so it is not copied" in fetch_log, fetch_log[-3000:]
    written = [str(p) for p in (stack.work / "backups").rglob("*") if p.is_file()]
    assert written == [], f"files reached the backup destination: {written}"
    figures["files_written"] = len(written)

    creates = creates_since(stack, since)
    figures["creates"] = len(creates)
    assert len(creates) == 2, creates
    assert_no_leaks(stack)


@pytest.mark.skipif(not FEATURES["reattach"].available(),
                    reason=f"needs Airflow 3.3: {FEATURES['reattach'].missing}")
def test_killed_worker_retry_reattaches_to_the_running_export(stack, scenario):
    """SIGKILL of the task process of a non-deferrable export mid-job: no on_kill runs (a SIGKILL
    cannot be caught), so cancel_on_kill does nothing and the job runs on; Airflow's retry reads
    the job from the task-state store and adopts it. Exactly one export POST."""
    since, figures = scenario
    dag_id, task_id = "fault_worker_kill", "export"
    run_id = stack.trigger(dag_id)
    job = stack.wait_for("the export's job", lambda: job_for_schema(stack, since, "TESTUSER1"), timeout=RUN_BUDGET)
    # "is EXECUTING" comes from the wait loop, which starts after the job id is in the task-state
    # store; a kill before that would (by design of ResumableJobMixin) submit again.
    stack.wait_for("try 1 to poll the job", lambda: "is EXECUTING" in stack.task_log(dag_id, run_id, task_id, 1),
                   timeout=RUN_BUDGET, interval=0.5)
    killed_at = sigkill_first_try(stack, dag_id, run_id, task_id)

    stack.wait_for("try 2 to adopt the job", lambda: "A previous try started" in stack.task_log(dag_id, run_id, task_id, 2),
                   timeout=RUN_BUDGET, interval=0.5)
    figures["kill_to_reattach_seconds"] = round(time.monotonic() - killed_at, 1)
    assert job_for_schema(stack, since, "TESTUSER1")["running"], "the job ended with its task"
    stack.patch_job(job["owner_name"], job["job_name"], finish_now=True)
    state = stack.wait_run(dag_id, run_id, timeout=RUN_BUDGET)
    ti = stack.task_instance(dag_id, run_id, task_id)
    figures.update(run_state=state, try_number=ti["try_number"])
    assert state == "success" and ti["try_number"] == 2, (state, ti)

    first, retry = stack.task_log(dag_id, run_id, task_id, 1), stack.task_log(dag_id, run_id, task_id, 2)
    # on_kill would have stopped the job through REST-Enabled SQL (or said it "keeps running").
    stopped = f"Data Pump job {job['owner_name']},{job['job_name']} stopped"
    assert "keeps running" not in first and stopped not in first, "on_kill ran although the task was SIGKILLed"
    adopted = f"A previous try started {job['owner_name']},{job['job_name']}; it is running"
    assert adopted in retry, retry[-3000:]
    assert "Started Data Pump EXPORT job" not in retry, "the retry submitted a new export"
    finished = {j["job_name"]: j for j in stack.emulator("jobs")}[job["job_name"]]
    assert finished["outcome"] == "success", finished

    creates = creates_since(stack, since)
    figures["creates"] = len(creates)
    assert len(creates) == 1, creates
    assert_no_leaks(stack)


def test_thirty_seconds_of_503_during_the_waits_is_ridden_out(stack, scenario):
    """ORDS answers 503 (Retry-After: 1, as the emulator and most proxies send it) to every request
    for 30 s while one export waits in the triggerer and another on a worker. One call's retry
    budget is ~4 s; the waits must poll on through the outage and both tasks succeed on try 1."""
    since, figures = scenario
    dag_id = "fault_ords_outage"
    run_id = stack.trigger(dag_id)
    job_d = stack.wait_for("the deferred export's job", lambda: job_for_schema(stack, since, "TESTUSER1"), timeout=RUN_BUDGET)
    job_s = stack.wait_for("the sync export's job", lambda: job_for_schema(stack, since, "TESTUSER3"), timeout=RUN_BUDGET)

    def both_polling():
        deferred = stack.task_instance(dag_id, run_id, "export_deferred")["state"] == "deferred" and any(
            "is EXECUTING" in p.read_text(errors="replace") for p in trigger_logs(stack, dag_id, run_id, "export_deferred").values())
        return deferred and "is EXECUTING" in stack.task_log(dag_id, run_id, "export_sync", 1)

    stack.wait_for("the trigger and the sync task to poll their jobs", both_polling, timeout=RUN_BUDGET)
    fault = stack.add_fault(kind="status", status=503, seconds=OUTAGE_SECONDS)
    outage_from = time.time()
    pause(stack, OUTAGE_SECONDS + 1, "the outage to pass")
    seen = requests_since(stack, outage_from)
    refused = [r for r in seen if r["status"] == 503]
    # The rule's 30 s began a moment before outage_from (when the emulator took it): stay inside.
    inside = [r for r in seen if r["timestamp"] <= outage_from + OUTAGE_SECONDS - 1]
    # A refused poll of a job: its detail, or the job-list walk that names it (the triggerer's
    # shared watcher lists the jobs it watches, filtered from the lowest watched name on).
    per_job = {name: sum(j["job_name"] in r["path"] + "?" + r.get("query", "") for r in refused)
               for name, j in (("deferred", job_d), ("sync", job_s))}
    figures.update(outage_seconds=OUTAGE_SECONDS, retry_after=fault.get("retry_after"), requests_refused=len(refused),
                   refused_span_seconds=round(refused[-1]["timestamp"] - refused[0]["timestamp"], 1) if refused else 0,
                   refused_polls_per_job=per_job)
    assert all(r["status"] == 503 for r in inside), [r for r in inside if r["status"] != 503][:5]
    for who, count in per_job.items():
        # More than one call's budget was refused, so the wait outlived a call that gave up.
        assert count > 2 * RETRY_ATTEMPTS, f"the {who} wait saw only {count} 503s: {per_job}"

    for job in (job_d, job_s):
        stack.patch_job(job["owner_name"], job["job_name"], finish_now=True)
    state = stack.wait_run(dag_id, run_id, timeout=RUN_BUDGET)
    figures["run_state"] = state
    assert state == "success", {t: ti["state"] for t, ti in stack.task_instances(dag_id, run_id).items()}

    sync_events = events(stack.task_log_dir(dag_id, run_id, "export_sync") / "attempt=1.log")
    trigger_events = [e for p in trigger_logs(stack, dag_id, run_id, "export_deferred").values() for e in events(p)]
    for who, evts in (("sync task", sync_events), ("trigger", trigger_events)):
        gave_up_on = [e for e in evts if e.startswith("ORDS did not answer the poll")]
        assert gave_up_on, f"the {who} never saw a call fail through its retry budget"
        assert any(e.startswith("ORDS answered again") for e in evts), f"the {who} never saw ORDS come back"
        figures[f"{who.split()[0]}_polls_ridden_out"] = len(gave_up_on)
    tries = {
        "export_sync": assert_first_try_or_race(stack, dag_id, run_id, "export_sync", deferred=False),
        "export_deferred": assert_first_try_or_race(stack, dag_id, run_id, "export_deferred", deferred=True),
    }
    figures["tries"] = {task_id: try_number for task_id, (try_number, _) in tries.items()}
    creates = creates_since(stack, since)
    figures["creates"] = len(creates)
    assert len(creates) == 2 + sum(resubmitted for _, resubmitted in tries.values()), creates
    assert_no_leaks(stack)


def test_killed_triggerer_restarts_and_the_deferred_sensor_still_succeeds(stack, scenario):
    """SIGKILL of the triggerer's process group while a deferred sensor waits; restarted after a few
    seconds, a triggerer adopts the trigger (once the dead one's heartbeat is stale), polls the same
    job, and the run succeeds. The sensor creates nothing; the one export POST is the submit task's."""
    since, figures = scenario
    dag_id = "fault_triggerer_kill"
    run_id = stack.trigger(dag_id)
    job = stack.wait_for("the submitted job", lambda: job_for_schema(stack, since, "TESTUSER1"), timeout=RUN_BUDGET)

    def polling_in(exclude: set[int]):
        if stack.task_instance(dag_id, run_id, "wait")["state"] != "deferred":
            return None
        return next((tid for tid, p in trigger_logs(stack, dag_id, run_id, "wait").items()
                     if tid not in exclude and "is EXECUTING" in p.read_text(errors="replace")), None)

    first = stack.wait_for("the sensor's trigger to poll in the triggerer", lambda: polling_in(set()), timeout=RUN_BUDGET)
    stack.kill_component("triggerer", signal.SIGKILL)
    killed_at = time.monotonic()
    pause(stack, TRIGGERER_DOWN_SECONDS, "the triggerer to stay down")
    stack.start_component("triggerer")
    restarted_at = time.monotonic()
    second = stack.wait_for("a restarted triggerer to poll the same job", lambda: polling_in({first}),
                            timeout=TRIGGERER_HEALTH_CHECK_THRESHOLD + RUN_BUDGET)
    adopted_at = time.monotonic()
    figures.update(triggerer_down_seconds=round(restarted_at - killed_at, 1),
                   restart_to_adoption_seconds=round(adopted_at - restarted_at, 1),
                   triggerer_ids=[first, second])
    assert stack.task_instance(dag_id, run_id, "wait")["state"] == "deferred"

    stack.patch_job(job["owner_name"], job["job_name"], finish_now=True)
    state = stack.wait_run(dag_id, run_id, timeout=RUN_BUDGET)
    figures["run_state"] = state
    assert state == "success", {t: ti["state"] for t, ti in stack.task_instances(dag_id, run_id).items()}
    after = events(trigger_logs(stack, dag_id, run_id, "wait")[second])
    assert "Trigger fired event" in after, after
    figures["sensor_try"], _ = assert_first_try_or_race(stack, dag_id, run_id, "wait", deferred=True, reattach_marker=None)
    creates = creates_since(stack, since)
    figures["creates"] = len(creates)
    assert len(creates) == 1, creates
    polled = [r for r in requests_since(stack, since) if r["method"] == "GET" and job["job_name"] in r["path"]]
    figures["job_polls"] = len(polled)
    stack.wait_healthy(("triggerer",), timeout=60)  # leave the deployment whole for whatever runs next
    assert_no_leaks(stack)



def test_mapped_exports_beside_another_client_each_end_with_their_own_job(stack, scenario):
    """Ten mapped exports run side by side by the real scheduler (LocalExecutor), on one connection;
    three creates are answered after the hook's timeout, and another client of the same ORDS user
    creates exports of other schemas every second meanwhile. ORDS names jobs by the second, so the
    creates also collide (ORA-31634) and are retried into later seconds. Every export ends with its own
    job (the DAG's check task fails the run otherwise), and no schema is exported twice."""
    import threading

    since, figures = scenario
    dag_id = "dp_mapped_exports"
    schemas = [f"APP{i:02d}" for i in range(10)]
    catalog = stack.control("GET", "catalog")
    catalog["schemas"].update({s: {"tables": {"T1": {"tablespace": "USERS", "rows": 100 + i, "bytes": 65536}}}
                               for i, s in enumerate(schemas)})
    stack.control("PUT", "catalog", catalog)
    stack.control("PUT", "scenario", {"duration": 2})
    stack.add_fault(kind="late", seconds=6, times=3, method="POST", path=r"/export$")
    stop = threading.Event()
    theirs: list[int] = []

    def other_client():  # a person with curl, on the same database user
        with httpx.Client(auth=(EMULATOR_USER, EMULATOR_PASSWORD), timeout=15) as client:
            url = f"{stack.emulator_url}/ords/{EMULATOR_USER}/_/db-api/stable/database/datapump/export"
            i = 0
            while not stop.is_set():
                schema = ("TESTUSER1", "TESTUSER3")[i % 2]
                i += 1
                try:
                    theirs.append(client.post(url, json={"schema_expressions": [{"expression": f"= '{schema}'"}]}).status_code)
                except httpx.HTTPError:
                    pass
                stop.wait(1.0)

    thread = threading.Thread(target=other_client, daemon=True)
    thread.start()
    try:
        run_id = stack.trigger(dag_id)
        state = stack.wait_run(dag_id, run_id, timeout=RUN_BUDGET + 120)
    finally:
        stop.set()
        thread.join(30)
        stack.control("PUT", "scenario", {"duration": JOB_SECONDS})
    tis = all_tis(stack, dag_id, run_id)
    figures.update(run_state=state, other_client_creates=theirs.count(201),
                   tries={f"{t['task_id']}[{t['map_index']}]": t["try_number"] for t in tis},
                   late_creates=len([r for r in requests_since(stack, since) if "late" in r["faults"]]))
    if state != "success":
        for t in tis:
            if t["state"] == "failed":
                for log in sorted(stack.task_log_dir(dag_id, run_id, t["task_id"]).glob(f"map_index={t['map_index']}/*.log")):
                    print(f"---- {log} ----\n" + "\n".join(log_text(log).splitlines()[-60:]))
    assert state == "success", {f"{t['task_id']}[{t['map_index']}]": t["state"] for t in tis}
    ours = [j for j in jobs_since(stack, since) if j["schemas"] and j["schemas"][0].startswith("APP")]
    per_schema = {s: sum(1 for j in ours if j["schemas"] == [s]) for s in schemas}
    assert all(n == 1 for n in per_schema.values()), per_schema
    figures["name_clashes"] = len([r for r in requests_since(stack, since) if is_create(r) and r["status"] == 400])
    assert figures["late_creates"] == 3 and figures["other_client_creates"] >= 3
    assert_no_leaks(stack)


# ---------------------------------------------------------------- issue 26: the Oracle side through ORDS


def test_tasks_marked_failed_stop_their_jobs_through_rest_enabled_sql(stack, scenario):
    """Two imports on ords_test, which has no oracle_conn_id, of a dump set production exported to the
    shared object store: one deferred (its trigger waits in the triggerer), one watched by its task
    process. A user marks both failed. Each import's job must end STOPPED in the test emulator, stopped
    by an ATTACH + STOP_JOB block sent to ORDS's REST-Enabled SQL (``_/sql``). Airflow calls a trigger's
    on_kill from 3.3 only: below it the deferred import's job runs on (the README's known limit), and
    only the running import is checked."""
    since, figures = scenario
    dag_id = "fault_kill_stops_job"
    deferred_stops = FEATURES["trigger_on_kill"].available()
    run_id = stack.trigger(dag_id)
    export = stack.wait_for("the export's job on production", lambda: export_writing(stack, since, "/kill_stops_job/"),
                            timeout=RUN_BUDGET)
    stack.patch_job(export["owner_name"], export["job_name"], finish_now=True)

    def imports():
        found = {t: next((j for j in jobs_since(stack, since, "test")
                          if j["operation"] == "IMPORT" and j["remap_schemas"].get("TESTUSER1") == target), None)
                 for t, target in (("import_deferred", "KILL_DEFERRED"), ("import_running", "KILL_RUNNING"))}
        return found if all(found.values()) else None

    jobs = stack.wait_for("both imports' jobs on the test database", imports, timeout=RUN_BUDGET)

    def both_polling():
        deferred = stack.task_instance(dag_id, run_id, "import_deferred")["state"] == "deferred" and any(
            "is EXECUTING" in p.read_text(errors="replace") for p in trigger_logs(stack, dag_id, run_id, "import_deferred").values())
        return deferred and "is EXECUTING" in stack.task_log(dag_id, run_id, "import_running", 1)

    stack.wait_for("the trigger and the running task to poll their imports", both_polling, timeout=RUN_BUDGET)
    killed = time.time()
    for task_id in jobs:
        stack.mark_failed(dag_id, run_id, task_id)
    expected = [t for t in jobs if deferred_stops or t == "import_running"]

    def stopped():
        now = {j["job_name"]: j for j in stack.emulator("jobs", "test")}
        return all(not now[jobs[t]["job_name"]]["running"] and now[jobs[t]["job_name"]]["outcome"] == "stopped"
                   for t in expected)

    stack.wait_for(f"{expected} to end STOPPED", stopped, timeout=90, interval=0.5)
    figures["kill_to_stopped_seconds"] = round(time.time() - killed, 1)
    state = stack.wait_run(dag_id, run_id, timeout=RUN_BUDGET)
    figures["run_state"] = state
    assert state == "failed"

    stops = [r for r in sql_requests(requests_since(stack, killed, "test"), STOP_JOB) if r["status"] == 200]
    figures["stop_job_requests"] = len(stops)
    assert len(stops) >= len(expected), f"expected a STOP_JOB block per stopped job on _/sql, got {stops}"
    assert sql_requests(requests_since(stack, since, "prod"), STOP_JOB) == [], "a stop reached production"
    running_log = stack.task_log(dag_id, run_id, "import_running", 1)
    job = jobs["import_running"]
    assert f"Data Pump job {job['owner_name']},{job['job_name']} stopped" in running_log, running_log[-3000:]
    assert "keeps running" not in running_log, running_log[-3000:]
    if not deferred_stops:
        still = {j["job_name"]: j for j in stack.emulator("jobs", "test")}[jobs["import_deferred"]["job_name"]]
        assert still["running"], "below 3.3 nothing should have stopped the deferred import's job"
        stack.patch_job(still["owner_name"], still["job_name"], on="test", finish_now=True)
    assert len(creates_since(stack, since, "test")) == 2
    assert_no_leaks(stack)


def test_killed_worker_mid_import_retry_does_not_drop_the_schema_again(stack, scenario):
    """The refresh's import (replace_schemas=["TESTUSER2"], not deferrable) drops TESTUSER2 on the test
    database, starts its job, and its task process is SIGKILLed while the job runs (no on_kill: the job
    runs on). The retry must not send a second DROP USER while that import still writes TESTUSER2: on
    Airflow 3.3 it reattaches to the running job; below 3.3 it cannot reattach and must refuse the drop.
    The run ends with TESTUSER2 holding the rows production exported."""
    since, figures = scenario
    dag_id, task_id = "fault_refresh_worker_kill", "import"
    # Last night's copy: TESTUSER2 exists on the test database, so the first try really drops it.
    catalog = stack.control("GET", "catalog", on="test")
    catalog["schemas"]["TESTUSER2"] = {"tables": {"EMP": {"tablespace": "USERS", "rows": 3, "bytes": 65536}}}
    stack.control("PUT", "catalog", catalog, on="test")
    run_id = stack.trigger(dag_id)
    export = stack.wait_for("the export's job on production", lambda: export_writing(stack, since, "/worker_kill/"),
                            timeout=RUN_BUDGET)
    stack.patch_job(export["owner_name"], export["job_name"], finish_now=True)
    job = stack.wait_for("the import's job on the test database", lambda: next(
        (j for j in jobs_since(stack, since, "test") if j["operation"] == "IMPORT"), None), timeout=RUN_BUDGET)
    stack.wait_for("try 1 to poll the import", lambda: "is EXECUTING" in stack.task_log(dag_id, run_id, task_id, 1),
                   timeout=RUN_BUDGET, interval=0.5)
    drops_before_kill = sql_requests(requests_since(stack, since, "test"), DROP_USER)
    assert len(drops_before_kill) == 1, drops_before_kill
    killed_at = sigkill_first_try(stack, dag_id, run_id, task_id)

    def retry_log() -> str:
        return stack.task_log(dag_id, run_id, task_id, 2)

    if FEATURES["reattach"].available():
        stack.wait_for("try 2 to adopt the import", lambda: "A previous try started" in retry_log(),
                       timeout=RUN_BUDGET, interval=0.5)
    else:
        # Below 3.3 the retry cannot know the job; it must find TESTUSER2 still written and neither drop
        # it nor import into it beside the first import. (Airflow 3.0.6 gives a SIGKILLed try no retry at
        # all: the task ends failed at once.)
        stack.wait_for("the task to end failed, or its retry to start a second import", lambda: (
            stack.task_instance(dag_id, run_id, task_id)["state"] == "failed" or len(creates_since(stack, since, "test")) > 1),
            timeout=RUN_BUDGET, interval=0.5)
        assert len(creates_since(stack, since, "test")) == 1, (
            f"the retry started a second import into TESTUSER2 while the first still wrote it:\n{retry_log()[-3000:]}")
    figures["kill_to_retry_seconds"] = round(time.monotonic() - killed_at, 1)
    assert {j["job_name"]: j for j in stack.emulator("jobs", "test")}[job["job_name"]]["running"], "the import ended with its task"
    drops_while_running = sql_requests(requests_since(stack, since, "test"), DROP_USER)
    figures["drops_while_first_import_ran"] = len(drops_while_running)
    assert len(drops_while_running) == 1, f"the retry dropped TESTUSER2 while the first import wrote it: {drops_while_running}"

    stack.patch_job(job["owner_name"], job["job_name"], on="test", finish_now=True)
    state = stack.wait_run(dag_id, run_id, timeout=RUN_BUDGET)
    ti = stack.task_instance(dag_id, run_id, task_id)
    figures.update(run_state=state, try_number=ti["try_number"])
    tables = stack.emulator("catalog", "test")["schemas"].get("TESTUSER2", {}).get("tables", {})
    figures["testuser2"] = {n: t["rows"] for n, t in tables.items()}
    if FEATURES["reattach"].available():
        assert state == "success" and ti["try_number"] == 2, (state, ti)
        adopted = f"A previous try started {job['owner_name']},{job['job_name']}; it is running"
        assert adopted in retry_log(), retry_log()[-3000:]
        assert "Started Data Pump IMPORT job" not in retry_log(), "the retry submitted a new import"
        assert len(creates_since(stack, since, "test")) == 1
    else:
        # Below 3.3 the retry cannot reattach: it finds the import still writing TESTUSER2 and refuses
        # to drop it, which fails the task (the README's known limit); the first import still lands.
        assert state == "failed", (state, ti)
        if ti["try_number"] == 2:
            assert "not dropping a schema a Data Pump job is still using" in log_text(
                stack.task_log_dir(dag_id, run_id, task_id) / "attempt=2.log"), retry_log()[-3000:]
        else:  # Airflow ended the killed try failed without the retry the task has (3.0.6 does)
            assert ti["try_number"] == 1 and "Process terminated by signal" in stack.task_log(dag_id, run_id, task_id, 1)
            print(f"\nAirflow {AIRFLOW_VERSION} gave the SIGKILLed try no retry; nothing was dropped a second time")
    # Whatever the retry did, the first import finished into the schema it had dropped and recreated.
    assert {n: t["rows"] for n, t in tables.items()} == {"EMP": 14, "DEPT": 4}, tables
    assert len(sql_requests(requests_since(stack, since, "test"), DROP_USER)) == 1
    assert sql_requests(requests_since(stack, since, "prod"), DROP_USER) == [], "a DROP USER reached production"
    assert "TESTUSER1" in stack.emulator("catalog", "prod")["schemas"]
    assert_no_leaks(stack)
