"""What every benchmark shares: the record of where it ran, the emulator in its own process,
subprocess plumbing, /proc readings and the tables.

Benchmarks compare side by side in one run, alternating, and report medians, because this
machine's CPU is shared and absolute times drift.
"""

from __future__ import annotations

import datetime as _dt
import json
import linecache
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = Path(os.environ.get("DATAPUMP_BENCH_RESULTS", BENCH / "results"))
PY = sys.executable
# Set before anything imports Airflow, and inherited by every client: Airflow's state stays out of
# the user's home, no example DAGs or plugins load, and info logs do not bury the tables.
os.environ.setdefault("AIRFLOW_HOME", os.path.join(tempfile.gettempdir(), "dp-bench-airflow-home"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
MiB = 1024 * 1024
MB = 1_000_000


# ---------------------------------------------------------------- the record


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return match.group(1).strip() if match else platform.machine()


def _mem_total() -> int | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    match = re.search(r"^MemTotal:\s*(\d+) kB", text, re.M)
    return int(match.group(1)) * 1024 if match else None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _curl_version() -> str | None:
    if not shutil.which("curl"):
        return None
    out = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout
    return out.split()[1] if out else None


def record() -> dict[str, Any]:
    """Machine, versions and date, written next to every result."""
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpu_model": _cpu_model(),
            "cores": os.cpu_count(),
            "memory_bytes": _mem_total(),
            "kernel": platform.release(),
            "load_average_when_written": list(os.getloadavg()),  # 1, 5, 15 min: how shared the CPU was
        },
        "versions": {
            "python": platform.python_version(),
            "airflow": _version("apache-airflow"),
            "airflow_task_sdk": _version("apache-airflow-task-sdk"),
            "httpx": _version("httpx"),
            "provider": _version("airflow-provider-datapump"),
            "curl": _curl_version(),
        },
    }


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"benchmark": name, **record(), **data}, indent=2) + "\n")
    tmp.replace(path)
    return path


def publish(name: str, result: dict[str, Any], print_tables: Any) -> dict[str, Any]:
    """Every script ends the same way: the JSON file first (so a crash in printing loses nothing), then the table."""
    path = write_result(name, result)
    print_tables(result)
    print(f"written to {path}")
    return result


# ---------------------------------------------------------------- numbers and tables


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fmt(value: float | None, digits: int = 1) -> str | None:
    return None if value is None else f"{value:.{digits}f}"


# ---------------------------------------------------------------- /proc


def proc_status(key: str, pid: int | str = "self") -> int:
    """A /proc/<pid>/status figure in bytes (VmRSS, VmHWM)."""
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key + ":"))


def reset_peak() -> None:
    """Reset VmHWM to the current RSS, so that the next peak is what follows."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


# ---------------------------------------------------------------- subprocesses


def run_json(cmd: list[str], *, env: dict[str, str] | None = None, timeout: float = 900) -> dict[str, Any]:
    """Run a measuring subprocess and return the JSON object on its last stdout line."""
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


class Emulator:
    """The emulator in its own process, so that its CPU is never counted in a client's."""

    def __init__(self, proc: subprocess.Popen, url: str) -> None:
        self.proc, self.url = proc, url
        self.user = "dbapi_user"
        self.password = "DbApiUserPassword1"  # the emulator's published default test user
        self.base_url = f"{url}/ords/{self.user}"
        self.api_url = f"{self.base_url}/_/db-api/stable/database/datapump/"

    def connection(self) -> dict[str, Any]:
        return {"conn_type": "ords", "host": self.base_url, "login": self.user, "password": self.password}

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a client process: the connection, and Airflow kept quiet."""
        return {
            **os.environ,
            "AIRFLOW_CONN_ORDS_DEFAULT": json.dumps(self.connection()),
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            **extra,
        }

    def cpu_seconds(self) -> float:
        """CPU time the emulator process has used so far (user + system)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = Request(f"{self.url}/_emulator/{path}", data=data, method=method, headers={"Content-Type": "application/json"})
        with urlopen(req, timeout=60) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None


@contextmanager
def emulator(*args: str, data_dir: str | None = None, users: int | None = None, request_log_size: int | None = None,
             settings: dict[str, Any] | None = None):
    """The emulator's own command line; with ``users`` or ``request_log_size``, bench/_emulator.py
    (the same app, with ``users`` more ORDS users and a longer request log; ``settings`` then
    replace ``args``)."""
    if users is not None or request_log_size is not None:
        cmd = [PY, str(BENCH / "_emulator.py"), str(users or 0), str(request_log_size or 10000), json.dumps(settings or {})]
    else:
        cmd = [PY, "-m", "airflow_provider_datapump.emulator", "--port", "0", "--log-level", "warning", *args]
        if data_dir:
            cmd += ["--data-dir", data_dir]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the emulator did not start: {proc.stderr.read()[-2000:]}")
            match = re.search(r"listening on (\S+)", line)
            url = match.group(1) if match else None
            if time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start in time")
        yield Emulator(proc, url)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            stream.close()


def export_and_wait(emu: Emulator, *, dump_size: int, threads: int = 1, file_name: str | None = None) -> dict[str, Any]:
    """An export of the given size per dump file, finished; returns its result dict (XCom shape)."""
    os.environ["AIRFLOW_CONN_ORDS_DEFAULT"] = json.dumps(emu.connection())
    from airflow_provider_datapump.hooks.datapump import DataPumpHook

    emu.control("POST", "scenario/next", {"duration": 0.05, "dump_size": dump_size})
    hook = DataPumpHook()
    payload: dict[str, Any] = {"operation": "EXPORT", "job_mode": "SCHEMA",
                               "schema_expressions": [{"expression": "IN ('TESTUSER1')"}], "threads": threads}
    if file_name:
        payload["file_name"] = file_name
    try:
        job = hook.create_job(payload)
        deadline = time.monotonic() + 600
        while True:
            result = hook.resolve(job)
            if result.verdict.outcome.value != "running":
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the export did not finish")
            time.sleep(0.1)
    finally:
        hook.close()
    if result.verdict.outcome.value != "succeeded":
        raise RuntimeError(f"the export ended {result.verdict.outcome.value}: {result.verdict.message}")
    return result.to_xcom()


# ---------------------------------------------------------------- profiles for missed targets


def profile(cmd: list[str], *, env: dict[str, str], focus: str | tuple[str, ...], markers: dict[str, str], rate: int = 250,
            timeout: float = 900, idle: bool = False) -> dict[str, Any]:
    """Run ``cmd`` under py-spy and summarize where the samples whose stack contains ``focus`` (or
    one of several) went.

    ``markers`` maps a label to a frame-name substring; each gets the share of focused samples
    whose stack contains it. The heaviest self frames come along, so the cause is read, not guessed.
    ``idle`` samples waiting threads too (py-spy --idle): where a transfer waits on a server, the
    wall clock goes to the wait, which running-thread samples do not show.
    """
    spy = Path(PY).with_name("py-spy")
    raw = Path(tempfile.mkdtemp(prefix="dp-bench-spy-")) / "profile.txt"
    try:
        flags = ["--idle"] if idle else []
        focuses = (focus,) if isinstance(focus, str) else focus
        proc = subprocess.run([str(spy), "record", "--nonblocking", *flags, "-r", str(rate), "-f", "raw", "-o", str(raw), "--", *cmd],
                              env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        if proc.returncode != 0 or not raw.exists():
            return {"profiler": "py-spy", "error": (proc.stderr or proc.stdout)[-1000:]}
        focused, self_frames, hits = 0, Counter(), Counter()
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = stack.split(";")
            if not any(f_ in f for f_ in focuses for f in frames):
                continue
            n = int(count)
            focused += n
            self_frames[_frame(frames[-1])] += n
            for label, marker in markers.items():
                if any(marker in f for f in frames):
                    hits[label] += n
    finally:
        shutil.rmtree(raw.parent, ignore_errors=True)
    return {
        "profiler": f"py-spy record -r {rate}" + (" --idle (wall-clock samples of all threads, waiting ones too)" if idle else " (wall-clock samples of running threads)"),
        "focus": focus,
        "samples": focused,
        "share": {label: round(hits[label] / focused, 3) if focused else None for label in markers},
        "top_self_frames": [{"frame": f, "share": round(n / focused, 3)} for f, n in self_frames.most_common(8)] if focused else [],
    }


def _frame(frame: str) -> str:
    """"func (/…/site-packages/pkg/mod.py:123)" -> "func (pkg/mod.py:123)", plus the source line for
    our own files: py-spy charges a native call (a write, a hash update) to the line that makes it."""
    match = re.search(r"\((.*):(\d+)\)$", frame)
    code = ""
    if match:
        path = ROOT / match.group(1)  # py-spy prints our files relative to sys.path, others' absolute
        if path.resolve().is_relative_to(ROOT) and path.is_file():
            code = " `" + linecache.getline(str(path), int(match.group(2))).strip() + "`"
    frame = frame.replace(str(ROOT) + "/", "").replace(sysconfig.get_paths()["stdlib"] + "/", "")
    return re.sub(r"\([^()]*site-packages/", "(", frame) + code
