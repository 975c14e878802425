"""A real Airflow 3 deployment on loopback, beside the emulator, for the e2e and UI suites.

Each Airflow component (api-server, scheduler, dag-processor, triggerer) runs as its own process
group with its own log, so a test can kill one and start it again; ``airflow standalone`` would hide
them behind one supervisor. Every wait is bounded, and :meth:`AirflowStack.stop` stops every process
this module started, whatever happened, then sweeps stragglers found by their ``AIRFLOW_HOME``.

By default it runs LocalExecutor with one triggerer. ``executor="CeleryExecutor"`` adds a
redis-server (Debian's, on a free port, its files in the work dir) as broker and result backend and
``workers`` Celery workers; ``triggerers=N`` runs N triggerers. Several of one kind are named
``worker-1``, ``triggerer-2`` and so on, each killable and restartable on its own.

``second_emulator=True`` starts a second emulator process beside the first, the two sharing one
object-store folder (``--object-store``), as production and test databases that share a bucket:
``AIRFLOW_CONN_ORDS_PROD`` (and ``ords_default``) point at the first, ``AIRFLOW_CONN_ORDS_TEST``
at the second. The emulator helpers below take ``on="prod"`` (the default) or ``on="test"``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import httpx

from tests import airflow_db
from tests.credentials import PASSWORD, USER

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_DAGS = REPO / "example_dags"
EMULATOR_USER, EMULATOR_PASSWORD = USER, PASSWORD
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
REDIS_COMMAND = "apt-get install redis-server"  # what `make redis` runs as root; named when it is missing


_CREATE_PATH = re.compile(r"/database/datapump/(?:jobs/?|export|import)$")


def is_create(request: dict) -> bool:
    """An emulator request-log entry that asked to create a job, on any of ORDS's three endpoints."""
    return request["method"] == "POST" and bool(_CREATE_PATH.search(request["path"]))


_SQL_PATH = re.compile(r"/_/sql$")
DROP_USER = re.compile(r"\bDROP\s+USER\b", re.IGNORECASE)
STOP_JOB = re.compile(r"\bDBMS_DATAPUMP\s*\.\s*STOP_JOB\b", re.IGNORECASE)


def sql_text(request: dict) -> str:
    """The statement a REST-Enabled SQL request (``POST .../_/sql``) sent, as the emulator logged it."""
    return str(request.get("statement") or "")


def sql_requests(requests: Iterable[dict], pattern: re.Pattern[str] | None = None) -> list[dict]:
    """The REST-Enabled SQL requests in an emulator's request log, those whose statement matches
    ``pattern`` when one is given (``DROP_USER``, ``STOP_JOB``)."""
    return [r for r in requests if r["method"] == "POST" and _SQL_PATH.search(r["path"])
            and (pattern is None or pattern.search(sql_text(r)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n: int) -> list[int]:
    """n distinct free ports. Asked one at a time, the kernel may hand a closed port out again: a
    worker's log server once took the api-server's port that way."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def tail(path: Path, lines: int = 80) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"<{path}: {exc}>"


class StackError(AssertionError):
    pass


class AirflowStack:
    """Start with :meth:`start`, always end with :meth:`stop` (or use it as a context manager)."""

    def __init__(
        self,
        work: Path,
        dag_files: Iterable[Path],
        *,
        job_seconds: float = 4,
        ords_connection_env: bool = True,
        users: dict[str, str] | None = None,
        extra_env: dict[str, str] | None = None,
        emulator_args: Iterable[str] = (),
        ords_connection_extra: dict[str, str] | None = None,
        executor: str = "LocalExecutor",
        workers: int = 2,  # Celery workers; only under CeleryExecutor
        triggerers: int = 1,
        component_env: dict[str, dict[str, str]] | None = None,
        second_emulator: bool = False,
        connection_extras: dict[str, dict[str, str]] | None = None,
    ):
        self.work = Path(work)
        self.home, self.dags, self.outputs = self.work / "airflow_home", self.work / "dags", self.work / "outputs"
        for d in (self.home, self.dags, self.outputs):
            d.mkdir(parents=True, exist_ok=True)
        for f in dag_files:
            shutil.copy2(f, self.dags / Path(f).name)
        self.executor = executor
        self.celery = executor == "CeleryExecutor"
        if self.celery and not shutil.which("redis-server"):
            raise StackError(f"CeleryExecutor needs redis-server: run 'make redis' (as root: '{REDIS_COMMAND}')")
        # One of a kind keeps its plain name, so the LocalExecutor suites kill "triggerer" as before.
        self.triggerer_names = ["triggerer"] if triggerers == 1 else [f"triggerer-{i}" for i in range(1, triggerers + 1)]
        self.worker_names = [f"worker-{i}" for i in range(1, workers + 1)] if self.celery else []
        self.components = ("api-server", "scheduler", "dag-processor", *self.triggerer_names, *self.worker_names)
        # Several triggerers or workers on one host would all bind the default log-server port.
        several = self.worker_names + (self.triggerer_names if triggerers > 1 else [])
        ports = free_ports(4 + len(several))
        self.emu_port, self.api_port = ports[0], ports[1]
        self.redis_port = ports[2] if self.celery else None
        self._log_ports = dict(zip(several, ports[4:]))
        self.component_env = {k: dict(v) for k, v in (component_env or {}).items()}  # one component's settings
        self.emulator_url = f"http://127.0.0.1:{self.emu_port}"
        # Emulator processes by the name a test calls them: "prod" is the first (ords_default's).
        self.emulator_urls = {"prod": self.emulator_url}
        self.object_store: Path | None = None
        if second_emulator:
            self.emulator_urls["test"] = f"http://127.0.0.1:{ports[3]}"
            self.object_store = self.work / "object-store"  # the bucket both databases reach
            self.object_store.mkdir(exist_ok=True)
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.job_seconds = job_seconds
        self.users = users
        self.emulator_args = list(emulator_args)
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self._handles: list = []
        self._restarts: dict[str, int] = {}
        self.killed: set[str] = set()  # components a test killed on purpose; their death is no failure
        self.started = time.monotonic()
        self.ords_connection_extra = dict(ords_connection_extra or {})
        self.connection_extras = {k.lower(): dict(v) for k, v in (connection_extras or {}).items()}
        self.env = self._environment(ords_connection_env, extra_env or {})
        self._client: httpx.Client | None = None

    # ------------------------------------------------------------ set-up

    def _environment(self, ords_connection_env: bool, extra: dict[str, str]) -> dict[str, str]:
        venv_bin = str(Path(sys.executable).parent)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
        env.update({
            "AIRFLOW_HOME": str(self.home),
            # Airflow starts task processes as `airflow ...` found through PATH.
            "PATH": venv_bin + os.pathsep + env.get("PATH", ""),
            "PYTHONUNBUFFERED": "1",
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # tests unpause what they run
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__WORKERS": "1",
            # The tests read results with ?deserialize=true; Airflow 3.0 refuses that (HTTP 400) unless
            # this is set, 3.1 and later ignore it.
            "AIRFLOW__API__ENABLE_XCOM_DESERIALIZE_SUPPORT": "True",
            # One signing key for every process, as Airflow requires of a deployment: left empty, a
            # process makes up its own, and on 3.1.8 the Celery workers' task processes were refused
            # by the api-server ("Invalid auth token: Signature verification failed").
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            # Airflow's log servers default to fixed ports (8793, 8794): a second stack on this
            # machine (another matrix cell, another checkout's tests) would fail to bind them.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        })
        if self.celery:
            env.update({
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                # Results in redis too: the Celery default (the metadata database) would put every
                # worker's result writes on the one SQLite file the scheduler and triggerers share.
                "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                "AIRFLOW__CELERY__RESULT_BACKEND": f"redis://127.0.0.1:{self.redis_port}/1",
                # Few slots per worker: a deferrable task holds one only to submit and to finish,
                # and each slot's task process costs a second or more of CPU on 2 shared cores.
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "3",
                "AIRFLOW__CORE__PARALLELISM": "6",
            })
        if self.users:
            pw_file = self.work / "simple_auth_passwords.json"
            pw_file.write_text(json.dumps(self.users))
            env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = ",".join(f"{u}:admin" for u in self.users)
            env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = str(pw_file)
        else:
            env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] = "True"
        if ords_connection_env:
            on = {"ords_default": "prod"}
            if "test" in self.emulator_urls:
                on.update(ords_prod="prod", ords_test="test")
            for conn_id, which in on.items():
                conn_extra = {**self.ords_connection_extra, **self.connection_extras.get(conn_id, {})}
                env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps({
                    "conn_type": "ords", "host": f"{self.emulator_urls[which]}/ords/{EMULATOR_USER}",
                    "login": EMULATOR_USER, "password": EMULATOR_PASSWORD,
                    **({"extra": conn_extra} if conn_extra else {}),
                })
        env.update(extra)
        return env

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        n = self._restarts.get(name, 0)
        log = self.outputs / (f"{name}.log" if n == 0 else f"{name}.{n}.log")
        out = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self._handles.append(out)
        self.logs[name] = log
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env or self.env, cwd=str(self.work), start_new_session=True)
        self.procs[name] = proc
        return proc

    def airflow(self, *args: str) -> list[str]:
        return [shutil.which("airflow", path=self.env["PATH"]) or "airflow", *args]

    def start(self, components: Iterable[str] | None = None) -> AirflowStack:
        if self.celery:
            self._start_redis()
        for which, url in self.emulator_urls.items():
            name = "emulator" if which == "prod" else f"emulator-{which}"
            # Two databases: one bucket both reach, and each its own DB_UNIQUE_NAME.
            two = ["--object-store", str(self.object_store), "--db-unique-name", which.upper()] if self.object_store else []
            # As in tests/conftest.py: an ORDS that describes nothing, unless the stack asks for one.
            described = [] if "--openapi" in self.emulator_args else ["--openapi", "none"]
            self._spawn(name, [
                sys.executable, "-m", "airflow_provider_datapump.emulator", "--host", "127.0.0.1",
                "--port", url.rsplit(":", 1)[1], "--job-seconds", str(self.job_seconds), "--access-log",
                *two, *described, *self.emulator_args,
            ], env={**self.env, "AIRFLOW_HOME": str(self.work / f"{name}-home")})
        for which, url in self.emulator_urls.items():
            self.wait_for(f"the {which} emulator", lambda u=url: httpx.get(f"{u}/_emulator/health", timeout=2).is_success,
                          timeout=30, interval=0.3)
        try:
            airflow_db.migrate(self.home, self.env)
        except subprocess.CalledProcessError as exc:
            (self.outputs / "db-migrate.log").write_text(f"{exc.stdout or ''}{exc.stderr or ''}")
            raise StackError(f"airflow db migrate failed:\n{tail(self.outputs / 'db-migrate.log')}") from exc
        for name in self.components if components is None else components:
            self.start_component(name)
        return self

    def _start_redis(self) -> None:
        data = self.work / "redis"
        data.mkdir(exist_ok=True)
        # No persistence and loopback only: the broker lives and dies with the test.
        self._spawn("redis", [
            shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port),
            "--dir", str(data), "--save", "", "--appendonly", "no", "--protected-mode", "yes",
        ])
        self.wait_for("redis-server", lambda: redis_ping(self.redis_port), timeout=30, interval=0.2)

    def _component_command(self, name: str) -> tuple[list[str], dict[str, str]]:
        """argv and environment of an Airflow component by its stack name (``worker-2`` → a Celery worker)."""
        env = {**self.env, **self.component_env.get(name, {})}
        if name in self.worker_names:
            env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(self._log_ports[name])
            # A node name per worker: two workers on one host under Celery's default name clash.
            return self.airflow("celery", "worker", "--celery-hostname", f"{name}@%h"), env
        if name in self.triggerer_names:
            if name in self._log_ports:
                env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(self._log_ports[name])
            return self.airflow("triggerer"), env
        return self.airflow(name), env

    def start_component(self, name: str) -> subprocess.Popen:
        if name in self.procs and self.procs[name].poll() is None:
            raise StackError(f"{name} is already running")
        if name in self.procs:
            self._restarts[name] = self._restarts.get(name, 0) + 1
        self.killed.discard(name)
        argv, env = self._component_command(name)
        return self._spawn(name, argv, env)

    def kill_component(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill a component's whole process group at once, as an OOM kill or a crashed host would."""
        proc = self.procs[name]
        self.killed.add(name)
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    # ------------------------------------------------------------ waiting

    def wait_for(self, what: str, check: Callable[[], object], timeout: float, interval: float = 1.0):
        """Poll ``check`` until it returns something truthy; fail fast when a process this stack owns died."""
        deadline = time.monotonic() + timeout
        last: object = None
        while True:
            dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None and n not in self.killed}
            if dead:
                raise StackError(f"while waiting for {what}: {dead} exited\n" + self.diagnostics(keep=False))
            try:
                last = check()
                if last:
                    return last
            except (httpx.HTTPError, OSError, ValueError, KeyError) as exc:
                last = exc
            if time.monotonic() >= deadline:
                raise StackError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")
            time.sleep(interval)

    # ------------------------------------------------------------ Airflow's REST API

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            headers = {}
            if self.users:
                user, password = next(iter(self.users.items()))
                token = httpx.post(f"{self.api_url}/auth/token", json={"username": user, "password": password},
                                   timeout=10).raise_for_status().json()["access_token"]
                headers["Authorization"] = f"Bearer {token}"
            else:
                # All-admins mode: 3.3 serves the API with no token, 3.1.8 answers 401 without one.
                # GET /auth/token hands out an admin token without credentials in this mode (3.0 to 3.2
                # serve it); where it is missing, no header is what the API accepts.
                resp = httpx.get(f"{self.api_url}/auth/token", timeout=10)
                if resp.is_success:
                    headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
            self._client = httpx.Client(base_url=self.api_url, timeout=15, headers=headers)
        return self._client

    def wait_ready(self, dag_ids: Iterable[str], budget: float = 150) -> float:
        """API served, every DAG parsed, scheduler and triggerer heartbeating; returns seconds taken."""
        ends = time.monotonic() + budget
        self.wait_for("the api-server", lambda: httpx.get(f"{self.api_url}/api/v2/monitor/health", timeout=5).is_success,
                      timeout=budget)
        for dag_id in dag_ids:
            self.wait_for(f"DAG {dag_id} to be parsed", lambda d=dag_id: self.client.get(f"/api/v2/dags/{d}").is_success,
                          timeout=max(30, ends - time.monotonic()))
        self.wait_healthy(("scheduler", "triggerer"), timeout=max(30, ends - time.monotonic()))
        started = [n for n in self.triggerer_names if n in self.procs]
        if len(started) > 1:
            self.wait_for(f"{len(started)} triggerers to heartbeat", lambda: len(self.alive_triggerer_jobs()) >= len(started),
                          timeout=max(30, ends - time.monotonic()))
        if self.worker_names:
            self.wait_for(f"{len(self.worker_names)} Celery workers to be ready", self.workers_ready,
                          timeout=max(30, ends - time.monotonic()))
        return time.monotonic() - self.started

    def alive_triggerer_jobs(self) -> dict[int, dict]:
        """Running TriggererJobs (Airflow's jobs API), by job id: the ids triggers are assigned to."""
        jobs = self.client.get("/api/v2/jobs", params={"job_type": "TriggererJob", "is_alive": True,
                                                      "limit": 100}).json()["jobs"]
        return {j["id"]: j for j in jobs}

    def workers_ready(self) -> bool:
        # Celery logs "<nodename> ready." once the worker consumes from the broker.
        return all(re.search(rf"{re.escape(n)}@\S+ ready\.", self.logs[n].read_text(errors="replace"))
                   for n in self.worker_names if n in self.logs)

    def wait_healthy(self, parts: Iterable[str], timeout: float) -> None:
        def healthy():
            health = self.client.get("/api/v2/monitor/health").json()
            return all((health.get(p) or {}).get("status") == "healthy" for p in parts)

        self.wait_for(f"{', '.join(parts)} to heartbeat", healthy, timeout=timeout)

    def trigger(self, dag_id: str, conf: dict | None = None, logical_date: str | None = None) -> str:
        """Unpause and trigger a run; ``logical_date`` (ISO 8601) names the night it stands for."""
        resp = self.client.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False})
        if resp.status_code != 200:
            raise StackError(f"unpausing {dag_id}: {resp.status_code} {resp.text}")
        body = {"logical_date": logical_date, **({"conf": conf} if conf else {})}
        resp = self.client.post(f"/api/v2/dags/{dag_id}/dagRuns", json=body)
        if resp.status_code not in (200, 201):
            raise StackError(f"triggering {dag_id}: {resp.status_code} {resp.text}")
        return resp.json()["dag_run_id"]

    def mark_failed(self, dag_id: str, run_id: str, task_id: str) -> dict:
        """Mark a task instance failed through the API, as a user killing a running task does."""
        resp = self.client.patch(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}",
                                 json={"new_state": "failed"})
        if resp.status_code != 200:
            raise StackError(f"marking {dag_id}.{task_id} failed: {resp.status_code} {resp.text}")
        return resp.json()

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").json()["state"]

    def wait_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        def finished():
            state = self.run_state(dag_id, run_id)
            return state if state in ("success", "failed") else None

        return self.wait_for(f"run {run_id} to finish", finished, timeout=timeout, interval=2)

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict]:
        tis = self.client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()["task_instances"]
        return {ti["task_id"]: ti for ti in tis}

    def task_log_dir(self, dag_id: str, run_id: str, task_id: str) -> Path:
        return self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"

    def task_log(self, dag_id: str, run_id: str, task_id: str, attempt: int) -> str:
        path = self.task_log_dir(dag_id, run_id, task_id) / f"attempt={attempt}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # ------------------------------------------------------------ the emulator

    def emulator(self, what: str, on: str = "prod"):
        # The request log settles first: a request is logged only when its response has ended.
        params = {"wait_idle": 2} if what == "requests" else None
        body = httpx.get(f"{self.emulator_urls[on]}/_emulator/{what}", params=params, timeout=10).json()
        return body.get(what, body) if isinstance(body, dict) and what in ("jobs", "requests") else body

    def creates(self, on: str = "prod") -> list[dict]:
        """Create requests that created a job (201). A refused one (ORA-31634 for a second already
        taken, retried by the hook) created nothing."""
        return [r for r in self.emulator("requests", on) if is_create(r) and r["status"] == 201]

    def control(self, method: str, what: str, body: object = None, on: str = "prod"):
        """Call an emulator's control surface (``/_emulator/<what>``): faults, scenarios, jobs, catalog."""
        resp = httpx.request(method, f"{self.emulator_urls[on]}/_emulator/{what}", json=body, timeout=10)
        if resp.status_code >= 400:
            raise StackError(f"{method} /_emulator/{what} ({on}): {resp.status_code} {resp.text}")
        return resp.json() if resp.content else None

    def add_fault(self, on: str = "prod", **spec) -> dict:
        return self.control("POST", "faults", spec, on=on)

    def clear_faults(self, on: str = "prod") -> None:
        self.control("DELETE", "faults", on=on)

    def patch_job(self, owner: str, job_name: str, on: str = "prod", **changes) -> dict:
        return self.control("PATCH", f"jobs/{owner},{job_name}", changes, on=on)

    def set_rows(self, schema: str, table: str, rows: int, on: str = "prod") -> dict:
        """Change a table's row count in an emulator's catalog, as the night's business would."""
        return self.control("PATCH", f"catalog/{schema}/{table}", {"rows": rows}, on=on)

    # ------------------------------------------------------------ a running task's processes

    def task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        return self.client.get(path + (f"/{map_index}" if map_index >= 0 else "")).json()

    @staticmethod
    def task_processes(ti_id: str) -> dict[str, list[int]]:
        """A running try's supervisor and task processes, found by the titles Airflow gives them."""
        found: dict[str, list[int]] = {"supervisor": [], "task": []}
        for pid, title in process_titles().items():
            if title == f"airflow worker -- LocalExecutor: {ti_id}":
                found["supervisor"].append(pid)
            elif title == f"airflow worker -- {ti_id}":
                found["task"].append(pid)
        return found

    # ------------------------------------------------------------ evidence and clean-up

    def secret_leaks(self, secrets: Iterable[str]) -> list[str]:
        """Files Airflow wrote (task, trigger, component logs) that contain any of ``secrets``.
        The emulator's own log is not scanned: its banner prints its credentials by design."""
        scanned = [p for p in (self.home / "logs").rglob("*") if p.is_file()]
        # Every component log, a restarted component's earlier ones too.
        scanned += [p for p in self.outputs.glob("*.log") if not p.name.startswith("emulator")]
        return [str(p) for p in scanned for s in secrets if s.encode() in p.read_bytes()]

    def diagnostics(self, keep: bool = True) -> str:
        lines = ["======== airflow stack diagnostics ========"]
        if keep:
            # pytest's tmp dirs rotate quickly; keep the evidence somewhere stable.
            dest = Path(tempfile.mkdtemp(prefix="datapump-e2e-failure-"))
            for src in (self.home / "logs", self.outputs):
                if src.exists():
                    shutil.copytree(src, dest / src.name, dirs_exist_ok=True, ignore_dangling_symlinks=True)
            lines.append(f"logs kept in {dest}")
        for name, path in self.logs.items():
            lines.append(f"---- tail of {name} ({path}) ----\n{tail(path, 40)}")
        for pattern in ("logs/dag_id=*/**/*",):
            for path in sorted(self.home.glob(pattern))[-8:]:
                if path.is_file():
                    lines.append(f"---- tail of {path} ----\n{tail(path, 40)}")
        return "\n".join(lines)

    def stop(self) -> list[int]:
        if self._client is not None:
            self._client.close()
        for name in reversed(list(self.procs)):
            stop_group(self.procs[name])
        leftovers = sweep(f"AIRFLOW_HOME={self.home}")
        for h in self._handles:
            h.close()
        return leftovers

    def __enter__(self) -> AirflowStack:
        return self

    def __exit__(self, *exc) -> None:
        leftovers = self.stop()
        if leftovers:
            print(f"airflow stack clean-up: killed {len(leftovers)} straggler process(es): {leftovers}")


# ---------------------------------------------------------------- Airflow's stale-success race

STALE_SUCCESS = "finished with state success, but the task instance's state attribute is queued"


def retries_resubmit() -> bool:
    """True on an Airflow where a retry cannot reattach (below 3.3); the stack runs this venv's Airflow."""
    from airflow_provider_datapump._compat import FEATURES

    return not FEATURES["reattach"].available()


def assert_retry_was_airflows_stale_success_race(stack: AirflowStack, dag_id: str, run_id: str, task_id: str,
                                                 reattach_marker: str | None = "A previous try started",
                                                 map_index: int | None = None) -> int:
    """A second try is allowed for one cause only; returns how many jobs the retry added (0 or 1).

    Airflow's scheduler sometimes drains the executor's "success" for the try that deferred after
    the trigger has already re-queued the task, calls it a state mismatch and retries (apache/airflow
    #66374, #67287, #72716; not fixed in 3.3.2; 3.2 fixed only the case where the task is back in
    "scheduled"). It shows on a loaded 2-core machine, on every minor. The provider's answer on 3.3
    is reattach: the retry must adopt the job the first try started. Below 3.3 it cannot (no
    task_state_store): the retry must say so and submit one new job, the README's known limit. A
    task that starts no job (a sensor) passes ``reattach_marker=None``.
    """
    mapped = "" if map_index is None else f"map_index={map_index} "
    scheduler_log = "\n".join(p.read_text(errors="replace") for p in stack.outputs.glob("scheduler*.log"))
    race = [line for line in scheduler_log.splitlines()
            if STALE_SUCCESS in line and f"{dag_id}.{task_id} {run_id} {mapped}" in line]
    log_dir = stack.task_log_dir(dag_id, run_id, task_id)
    if map_index is not None:
        log_dir = log_dir / f"map_index={map_index}"
    first_log, retry_path = log_dir / "attempt=1.log", log_dir / "attempt=2.log"
    who = task_id if map_index is None else f"{task_id}[{map_index}]"
    assert race, f"{who} needed a retry without Airflow's stale-success race:\n{tail(first_log, 30)}"
    if reattach_marker is None:
        print(f"\n{who}: Airflow's stale-success race forced a retry")
        return 0
    retry_log = retry_path.read_text(errors="replace") if retry_path.exists() else ""
    if not retries_resubmit():
        assert reattach_marker in retry_log, f"{who}'s retry did not reattach:\n{retry_log[-3000:]}"
        print(f"\n{who}: Airflow's stale-success race forced a retry; the retry reattached to the first job")
        return 0
    # Below 3.3 every try that waits logs the version line of airflow_provider_datapump._compat first.
    from airflow_provider_datapump._compat import FEATURES

    said = FEATURES["reattach"].missing
    assert said in retry_log, f"{who}'s retry did not say it cannot reattach here:\n{retry_log[-3000:]}"
    if "Started Data Pump" not in retry_log:
        # An export to an object-store URI the first try already filled: Data Pump does not overwrite
        # a dump file, so the new job is refused (ORA-31641) and the retry fails; nothing was created.
        assert "ORA-31641" in retry_log, f"{who}'s retry started no job:\n{retry_log[-3000:]}"
        print(f"\n{who}: Airflow's stale-success race forced a retry; below 3.3 its new job was refused (ORA-31641)")
        return 0
    print(f"\n{who}: Airflow's stale-success race forced a retry; below 3.3 it submitted a new job, as documented")
    return 1


def xfail_when_the_race_failed_the_run_below_3_3(stack: AirflowStack, dag_id: str, run_id: str,
                                                tis: dict[str, dict]) -> None:
    """Below 3.3 a retry forced by Airflow's race submits its job again (no reattach), and an import
    run again into the schema its first try filled ends "completed with N error(s)" (ORA-39151, no
    table_exists_action in ORDS): the README's known limit. Only that, proven from the scheduler's
    log and the retry's, turns a failed run into an expected failure; anything else fails the test."""
    failed = [t for t, ti in tis.items() if ti["state"] == "failed"]
    if not retries_resubmit() or not failed:
        return
    for task_id in failed:
        if tis[task_id]["try_number"] != 2:
            return
        assert_retry_was_airflows_stale_success_race(stack, dag_id, run_id, task_id)
    import pytest

    pytest.xfail(f"Airflow's stale-success race retried {failed}, and below 3.3 the retry submitted again "
                 "(README, Airflow versions: the known limit)")


# ---------------------------------------------------------------- processes


def redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")


def pids_with_env(marker: str) -> list[int]:
    """Processes whose environment holds ``marker`` (task processes may outlive their group)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def alive(pids: Iterable[int]) -> list[int]:
    live = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            live.append(pid)
    return live


def stop_group(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def sweep(env_marker: str, timeout: float = 10.0) -> list[int]:
    """SIGTERM, then SIGKILL, whatever still runs with this stack's AIRFLOW_HOME."""
    found = pids = alive(pids_with_env(env_marker))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while alive(pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        pids = alive(pids)
        if not pids:
            break
    return found


def process_titles() -> dict[int, str]:
    """pid → command line as Airflow titles it (setproctitle), for finding a task's processes."""
    titles = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                titles[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                continue
    return titles
