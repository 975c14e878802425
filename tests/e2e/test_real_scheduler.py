"""The refresh DAG under a real Airflow: ``airflow standalone`` (scheduler, dag-processor, triggerer,
api-server, LocalExecutor, SQLite) on loopback, against the emulator running as its own process.

``dag.test()`` and ``airflow dags test`` run the trigger inline; here the deferrable tasks must be
serialized, handed to the triggerer process, resumed on a worker that fetches the connection through
the Task SDK, and only then succeed. Every wait is bounded, and every process this test starts is
stopped at the end, whatever happened.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

REPO = Path(__file__).resolve().parents[2]
DAG_FILE = REPO / "example_dags" / "datapump_refresh_test_from_prod.py"
DAG_ID = "datapump_refresh_test_from_prod"
DEFERRABLE_TASKS = ("export", "import")
PASSWORD = "DbApiUserPassword1"
EMULATOR_USER = "dbapi_user"
JOB_SECONDS = 4  # long enough that each job is polled at least once by the trigger (poll_interval=2)

STARTUP_BUDGET = 150  # seconds for standalone to serve the API and parse the DAG
RUN_BUDGET = 240  # seconds for the triggered run to finish


# ---------------------------------------------------------------- helpers


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 80) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as err:
        return f"(could not read {path}: {err})"


def _wait_for(what: str, check, timeout: float, interval: float = 1.0, procs: dict | None = None):
    """Call ``check()`` until it returns something truthy; fail after ``timeout`` seconds, or as soon
    as one of ``procs`` exits."""
    deadline = time.monotonic() + timeout
    last_err: BaseException | None = None
    while time.monotonic() < deadline:
        for name, proc in (procs or {}).items():
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with rc={proc.returncode} while waiting for {what}")
        try:
            result = check()
            if result:
                return result
        except (httpx.HTTPError, OSError, ValueError, KeyError) as err:
            last_err = err
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_err!r})")


def _pids_with_env(marker: str) -> list[int]:
    """Processes whose environment carries ``marker`` (our unique AIRFLOW_HOME): what we started,
    including children that left our process group."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _stop_group(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM the process group ``proc`` leads, SIGKILL it if it lingers; bounded."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers in the group, even after the leader exited
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _sweep(env_marker: str, timeout: float = 10.0) -> list[int]:
    """Kill, by pid, any process still carrying our AIRFLOW_HOME; returns the ones found."""
    leftovers = _pids_with_env(env_marker)
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(leftovers):
        time.sleep(0.2)
    for pid in _alive(leftovers):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return leftovers


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.append(pid)
    return alive


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """Emulator process + ``airflow standalone``; yields URLs and paths; stops everything after."""
    work = tmp_path_factory.mktemp("real-airflow")
    home, dags, outputs = work / "airflow_home", work / "dags", work / "outputs"
    for d in (home, dags, outputs):
        d.mkdir()
    # Only the refresh DAG: the nightly DAG is @daily and would start its own run (and publish the
    # asset that schedules another refresh), which would muddle the request counts below.
    shutil.copy2(DAG_FILE, dags / DAG_FILE.name)

    emu_port, api_port = _free_port(), _free_port()
    emu_url = f"http://127.0.0.1:{emu_port}"
    api_url = f"http://127.0.0.1:{api_port}"
    venv_bin = str(Path(sys.executable).parent)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "PATH": venv_bin + os.pathsep + env.get("PATH", ""),
            "PYTHONUNBUFFERED": "1",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # the test unpauses through the API
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW_CONN_ORDS_DEFAULT": json.dumps(
                {
                    "conn_type": "ords",
                    "host": f"{emu_url}/ords/{EMULATOR_USER}",
                    "login": EMULATOR_USER,
                    "password": PASSWORD,
                }
            ),
        }
    )
    env_marker = f"AIRFLOW_HOME={home}"

    logs = {"emulator": outputs / "emulator.log", "standalone": outputs / "standalone.log"}
    procs: dict[str, subprocess.Popen] = {}
    handles = []
    try:
        out = open(logs["emulator"], "wb")  # noqa: SIM115 - closed in finally
        handles.append(out)
        procs["emulator"] = subprocess.Popen(
            [sys.executable, "-m", "airflow_provider_datapump.emulator", "--host", "127.0.0.1",
             "--port", str(emu_port), "--job-seconds", str(JOB_SECONDS), "--access-log"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**env, "AIRFLOW_HOME": str(work / "emulator-home")}, start_new_session=True,
        )
        _wait_for("the emulator", lambda: httpx.get(f"{emu_url}/_emulator/health", timeout=2).is_success,
                  timeout=30, interval=0.3, procs=procs)

        out = open(logs["standalone"], "wb")  # noqa: SIM115
        handles.append(out)
        procs["airflow standalone"] = subprocess.Popen(
            [shutil.which("airflow", path=venv_bin) or "airflow", "standalone"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=str(work),
            start_new_session=True,
        )
        yield {
            "api": api_url, "emulator": emu_url, "home": home, "outputs": outputs, "logs": logs,
            "procs": procs, "started": time.monotonic(),
        }
    finally:
        for name in ("airflow standalone", "emulator"):
            if name in procs:
                _stop_group(procs[name])
        leftovers = _sweep(env_marker)
        for h in handles:
            h.close()
        if leftovers:
            print(f"e2e cleanup: killed {len(leftovers)} straggler process(es) by pid: {leftovers}")


def _dump_diagnostics(dep) -> None:
    import tempfile

    print("\n======== e2e diagnostics ========")
    # pytest's tmp dirs rotate quickly on a busy machine; keep the evidence somewhere stable.
    keep = Path(tempfile.mkdtemp(prefix="datapump-e2e-failure-"))
    for src in (dep["home"] / "logs", dep["outputs"]):
        shutil.copytree(src, keep / src.name, dirs_exist_ok=True, ignore_dangling_symlinks=True)
    print(f"logs kept in {keep}")
    for name, path in dep["logs"].items():
        print(f"---- tail of {name} ({path}) ----\n{_tail(path)}")
    for pattern in ("logs/**/*triggerer*", "logs/scheduler/**/*.log", "logs/dag_id=*/**/*"):
        for path in sorted(dep["home"].glob(pattern))[-6:]:
            if path.is_file():
                print(f"---- tail of {path} ----\n{_tail(path, 40)}")
    print("======== end of diagnostics ========")


# ---------------------------------------------------------------- the test


def test_refresh_dag_defers_to_the_triggerer_and_lands_in_testuser2(deployment, request):
    dep = deployment
    api, emu = dep["api"], dep["emulator"]
    procs = {"airflow standalone": dep["procs"]["airflow standalone"], "emulator": dep["procs"]["emulator"]}
    client = httpx.Client(base_url=api, timeout=10)
    failed = True
    try:
        _wait_for("the api-server", lambda: client.get("/api/v2/monitor/health").is_success,
                  timeout=STARTUP_BUDGET, interval=1, procs=procs)
        _wait_for(f"DAG {DAG_ID} to be parsed",
                  lambda: client.get(f"/api/v2/dags/{DAG_ID}").is_success,
                  timeout=max(30, STARTUP_BUDGET - (time.monotonic() - dep["started"])), interval=1, procs=procs)
        _wait_for("the triggerer to heartbeat",
                  lambda: (client.get("/api/v2/monitor/health").json().get("triggerer") or {}).get("status") == "healthy",
                  timeout=60, interval=1, procs=procs)
        ready_at = time.monotonic() - dep["started"]

        resp = client.patch(f"/api/v2/dags/{DAG_ID}", json={"is_paused": False})
        assert resp.status_code == 200, resp.text
        assert resp.json()["is_paused"] is False
        resp = client.post(f"/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None})
        assert resp.status_code in (200, 201), resp.text
        run_id = resp.json()["dag_run_id"]
        triggered = time.monotonic()

        def finished():
            state = client.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}").json()["state"]
            return state if state in ("success", "failed") else None

        state = _wait_for(f"run {run_id} to finish", finished, timeout=RUN_BUDGET, interval=2, procs=procs)
        run_took = time.monotonic() - triggered
        tis = client.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances").json()["task_instances"]
        ti_states = {ti["task_id"]: ti["state"] for ti in tis}
        assert state == "success", f"run {run_id} ended {state}: {ti_states}"
        assert ti_states == {"export": "success", "import": "success", "verify": "success"}, ti_states

        # ---- the deferrable tasks really deferred, and their triggers ran in the triggerer process.
        triggerer_jobs = client.get("/api/v2/jobs", params={"job_type": "TriggererJob"}).json()["jobs"]
        triggerer_ids = {j["id"] for j in triggerer_jobs}
        assert triggerer_ids, "no TriggererJob is registered"
        for task_id in DEFERRABLE_TASKS:
            ti = next(t for t in tis if t["task_id"] == task_id)
            try_number = ti["try_number"]
            # One try, no retry hid a failure; a deferral does not add a try.
            first = dep["home"] / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / f"task_id={task_id}" / "attempt=1.log"
            assert try_number == 1, f"{task_id} needed {try_number} tries; first try:\n{_tail(first, 30)}"
            task_log_dir = dep["home"] / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / f"task_id={task_id}"
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
            # The worker's part of the log shows the hand-off; the task then resumed and succeeded.
            task_log = (task_log_dir / f"attempt={try_number}.log").read_text(errors="replace")
            assert "Pausing task as DEFERRED" in task_log, f"{task_id} never deferred:\n{task_log[-3000:]}"

        # ---- the emulator: TESTUSER2 is a faithful copy, and each job was created exactly once.
        catalog = httpx.get(f"{emu}/_emulator/catalog", timeout=10).json()
        tables = catalog["schemas"].get("TESTUSER2", {}).get("tables", {})
        assert {name: t["rows"] for name, t in tables.items()} == {"EMP": 14, "DEPT": 4}, catalog

        jobs = httpx.get(f"{emu}/_emulator/jobs", timeout=10).json()
        jobs = jobs.get("jobs", jobs) if isinstance(jobs, dict) else jobs
        assert sorted(j["operation"] for j in jobs) == ["EXPORT", "IMPORT"], jobs
        log = httpx.get(f"{emu}/_emulator/requests", timeout=10).json()
        log = log.get("requests", log) if isinstance(log, dict) else log
        creates = [r for r in log if r["method"] == "POST" and r["path"].rstrip("/").endswith("/database/datapump/jobs")]
        assert len(creates) == len(jobs) == 2, f"expected one POST per job (export, import), got {creates}\nfull log: {log}"
        assert all(r["status"] in (200, 201) for r in creates), creates

        # ---- no secret leaked into any log Airflow wrote (task, trigger, dag-processor, standalone's
        # own output). The emulator's banner prints its own credentials by design, so it is not scanned.
        scanned = [p for p in (dep["home"] / "logs").rglob("*") if p.is_file()]
        scanned += [p for p in dep["home"].glob("*.log") if p.is_file()] + [dep["logs"]["standalone"]]
        assert len(scanned) >= 6, scanned  # 3 task logs + 2 trigger logs + standalone at least
        leaks = [str(p) for p in scanned if PASSWORD.encode() in p.read_bytes()]
        assert not leaks, f"the ORDS password appears in {leaks}"

        print(f"\ne2e timings: airflow ready after {ready_at:.0f}s, run {run_id} took {run_took:.0f}s")
        failed = False
    finally:
        client.close()
        if failed:
            _dump_diagnostics(dep)
