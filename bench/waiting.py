"""The cost of waiting: N deferred sensors in one triggerer loop, against a worker slot in poke mode.

The emulator (its own process) runs N export jobs that last a day. For each job a deferrable
DataPumpJobSensor executes, polls once and defers; its DataPumpJobTrigger is serialized, as the
triggerer receives it. For N = 1, 100, 1000 (alternating over rounds) a fresh process rebuilds N
triggers and runs them in one asyncio loop polling every INTERVAL seconds (bench/_triggerer.py).
Over a window of steady state, after every trigger has started and polled once:

* RSS at the end of the window; the marginal RSS per waiting job is
  (RSS at 1000 - RSS at 100) / 900, from the medians;
* CPU per poll = the process's CPU time over the window / the polls the emulator logged in it;
* the shortest gap between two polls of the same job, over the whole run (server arrival times),
  which must not be shorter than the interval (2% tolerance for arrival jitter at the server).

Beside it, one job waited for the classic way: a poke-mode sensor holding a worker slot, run by
Airflow's real supervisor, which forks the task process (bench/_poke_worker.py). After two pokes
the RSS and PSS of both processes are read from /proc and summed (PSS shares the pages the fork
still shares between them; RSS counts them twice).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

# Each deferring sensor warns that it runs outside a task runner; a thousand times is noise.
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "ERROR"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import MiB, PY, ROOT, emulator, fmt, median, proc_status, profile, run_json, publish, table  # noqa: E402

TARGET_MB_PER_JOB = 0.1
TARGET_MS_PER_POLL = 0.5
GAP_TOLERANCE = 0.02

POKE_DAG = """
import os
from airflow.sdk import DAG
from airflow_provider_datapump.sensors.datapump import DataPumpJobSensor

with DAG("bench_poke", schedule=None):
    DataPumpJobSensor(task_id="wait", job=os.environ["BENCH_JOB"], mode="poke",
                      poke_interval=float(os.environ["BENCH_INTERVAL"]), deferrable=False)
"""


def create_jobs(emu: Any, n: int) -> list[str]:
    import httpx

    body = {"job_mode": "SCHEMA", "schema_expressions": [{"expression": "IN ('TESTUSER1')"}]}
    with httpx.Client(auth=(emu.user, emu.password), timeout=60) as client:
        jobs = []
        for _ in range(n):
            job = client.post(emu.api_url + "export", json=body).raise_for_status().json()
            jobs.append(f"{job['owner_name']},{job['job_name']}")
            # ORDS names jobs by the second (a second create in one second is ORA-31634); the
            # emulator's clock moves on instead of the benchmark waiting. Jobs run for a day.
            emu.control("POST", "clock", {"advance": 1})
    return jobs


def deferred_triggers(emu: Any, jobs: list[str], interval: float) -> list[Any]:
    """What each deferrable sensor hands the triggerer: its serialized DataPumpJobTrigger."""
    os.environ["AIRFLOW_CONN_ORDS_DEFAULT"] = json.dumps(emu.connection())
    from airflow.providers.common.compat.sdk import TaskDeferred  # in airflow.sdk.exceptions from 3.2

    from airflow_provider_datapump.sensors.datapump import DataPumpJobSensor

    specs = []
    for i, job in enumerate(jobs):
        sensor = DataPumpJobSensor(task_id=f"wait_{i}", job=job, deferrable=True, poke_interval=interval)
        try:
            sensor.execute(context={})
        except TaskDeferred as deferred:
            specs.append(deferred.trigger.serialize())
        else:
            raise RuntimeError(f"the sensor for {job} did not defer")
        finally:
            sensor.hook.close()
    return specs


def poll_stats(log: list[dict[str, Any]], start: float, end: float) -> tuple[int, float | None, int]:
    """(polls in the window, shortest gap between two polls of one job, jobs polled)."""
    polls = [e for e in log if e["method"] == "GET" and "/jobs/" in e["path"] and e["path"].rstrip("/").count(",") == 1]
    times: dict[str, list[float]] = defaultdict(list)
    for e in polls:
        times[e["path"]].append(e["timestamp"])
    gaps = [b - a for ts in times.values() for a, b in zip(sorted(ts), sorted(ts)[1:])]
    return sum(start <= e["timestamp"] <= end for e in polls), min(gaps) if gaps else None, len(times)


def run_triggerer(emu: Any, specs_path: Path, n: int, interval: float, window: float) -> dict[str, Any]:
    emu.control("DELETE", "requests")
    r = run_json([PY, "bench/_triggerer.py", str(specs_path), str(n), str(interval), str(window)], env=emu.env())
    log = emu.control("GET", "requests")
    if len(log) >= 10000:
        raise RuntimeError("the emulator's request log is full: shorten --window")
    r["polls"], r["min_gap"], r["jobs_polled"] = poll_stats(log, r["window_start"], r["window_end"])
    r["cpu_ms_per_poll"] = 1000 * r["cpu_seconds"] / r["polls"] if r["polls"] else None
    return r


def _tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid] + [p for c in children for p in _tree(int(c))]


def _pss(pid: int) -> int:
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    return next(int(line.split()[1]) * 1024 for line in text.splitlines() if line.startswith("Pss:"))


def poke_worker(emu: Any, job: str, interval: float, workdir: Path) -> dict[str, Any]:
    dags = workdir / "dags"
    dags.mkdir(exist_ok=True)
    (dags / "bench_poke.py").write_text(POKE_DAG)
    env = emu.env(BENCH_JOB=job, BENCH_INTERVAL=str(interval), AIRFLOW__CORE__DAGS_FOLDER=str(dags),
                  AIRFLOW__CORE__LOAD_EXAMPLES="False")
    emu.control("DELETE", "requests")
    proc = subprocess.Popen([PY, "bench/_poke_worker.py", "bench_poke.py"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 4 * interval + 60
        pokes = 0
        while pokes < 2:
            if proc.poll() is not None:
                raise RuntimeError(f"the poke-mode worker exited: {proc.stderr.read()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("the poke-mode sensor did not poke twice in time")
            time.sleep(0.5)
            pokes = sum(1 for e in emu.control("GET", "requests") if e["method"] == "GET" and job.split(",")[1] in e["path"])
        pids = _tree(proc.pid)
        rss = {pid: proc_status("VmRSS", pid) for pid in pids}
        pss = {pid: _pss(pid) for pid in pids}
    finally:
        for pid in reversed(_tree(proc.pid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(10)
        proc.stderr.close()
    return {"processes": len(pids), "rss_each": list(rss.values()), "rss_sum": sum(rss.values()),
            "pss_each": list(pss.values()), "pss_sum": sum(pss.values()), "pokes_seen": pokes}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", default="1,100,1000", help="waiting jobs per run, comma-separated (default 1,100,1000)")
    p.add_argument("--interval", type=float, default=10.0, help="poll interval in seconds (default 10)")
    p.add_argument("--window", type=float, default=20.0, help="seconds of steady state measured (default 20)")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    p.add_argument("--no-poke", action="store_true", help="skip the poke-mode worker measurement")
    p.add_argument("--name", default="waiting", help="result file name (default waiting)")
    p.add_argument("--no-profile", action="store_true", help="do not profile a missed target (smoke runs)")
    args = p.parse_args(argv)
    ns = [int(n) for n in args.n.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="dp-bench-waiting-"))
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in ns}
    try:
        with emulator("--job-seconds", "86400", data_dir=str(workdir / "emulator")) as emu:
            t = time.monotonic()
            jobs = create_jobs(emu, max(ns))
            specs = deferred_triggers(emu, jobs, args.interval)
            specs_path = workdir / "triggers.json"
            specs_path.write_text(json.dumps(specs))
            print(f"  {len(jobs)} running jobs and deferred sensors in {time.monotonic() - t:.0f} s", file=sys.stderr, flush=True)
            for rnd in range(args.rounds):
                for n in ns:
                    r = run_triggerer(emu, specs_path, n, args.interval, args.window)
                    runs[n].append(r)
                    print(f"  round {rnd + 1}/{args.rounds} N={n}: RSS {r['rss_window_end'] / MiB:.1f} MiB, "
                          f"{r['polls']} polls, {fmt(r['cpu_ms_per_poll'], 3)} ms CPU/poll, min gap {fmt(r['min_gap'], 2)} s",
                          file=sys.stderr, flush=True)
            poke = None if args.no_poke else poke_worker(emu, jobs[0], args.interval, workdir)
            top_cpu = median([r["cpu_ms_per_poll"] for r in runs[ns[-1]] if r["cpu_ms_per_poll"] is not None])
            cause = None
            if top_cpu is not None and top_cpu > TARGET_MS_PER_POLL and not args.no_profile:
                # One more run of the largest N under py-spy: where a poll's CPU goes.
                cause = {"cpu_ms_per_poll": top_cpu, "profile": profile(
                    [PY, "bench/_triggerer.py", str(specs_path), str(ns[-1]), str(args.interval), str(min(args.window, 20.0))],
                    env=emu.env(), focus="DataPumpJobTrigger.run",
                    markers={"httpx AsyncClient.request": "AsyncClient.request",
                             "httpcore pool scans (has_expired)": "has_expired",
                             "httpx response.json": "Response.json",
                             "job parsing and verdict": "DataPumpJob.from_json"}),
                    # The same GET without the trigger: what the HTTP client alone costs, and the floor.
                    "http_client_alone": run_json([PY, "bench/_http_floor.py", specs[0][1]["job"]["self_url"]], env=emu.env())}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    per_n = {}
    for n, rs in runs.items():
        per_n[str(n)] = {
            "n": n,
            "median_rss_bytes": median([r["rss_window_end"] for r in rs]),
            "median_rss_idle_bytes": median([r["rss_idle"] for r in rs]),
            "median_cpu_ms_per_poll": median([r["cpu_ms_per_poll"] for r in rs if r["cpu_ms_per_poll"] is not None]),
            "median_polls_per_window": median([r["polls"] for r in rs]),
            "expected_polls_per_window": n * args.window / args.interval,
            "min_gap_seconds": min((r["min_gap"] for r in rs if r["min_gap"] is not None), default=None),
            "events": sum(r["event_count"] for r in rs),
            "pooled_clients": max(r["pooled_clients"] for r in rs),
            "runs": rs,
        }
    result: dict[str, Any] = {
        "params": {"n": ns, "interval": args.interval, "window": args.window, "rounds": args.rounds},
        "method": __doc__.strip(),
        "per_n": per_n,
        "poke_worker": poke,
    }
    if len(ns) >= 2:
        lo, hi = per_n[str(ns[-2])], per_n[str(ns[-1])]
        result["marginal_rss_bytes_per_job"] = (hi["median_rss_bytes"] - lo["median_rss_bytes"]) / (hi["n"] - lo["n"])
        result["marginal_between"] = [lo["n"], hi["n"]]
    top = per_n[str(ns[-1])]
    min_gap = min((v["min_gap_seconds"] for v in per_n.values() if v["min_gap_seconds"] is not None), default=None)
    result["targets"] = {
        "rss_per_job_le_0.1MB": result.get("marginal_rss_bytes_per_job", 0) <= TARGET_MB_PER_JOB * 1e6,
        "cpu_per_poll_le_0.5ms": (top["median_cpu_ms_per_poll"] or 0) <= TARGET_MS_PER_POLL,
        "no_poll_faster_than_interval": min_gap is None or min_gap >= args.interval * (1 - GAP_TOLERANCE),
        "no_trigger_fired": all(v["events"] == 0 for v in per_n.values()),
    }
    result["targets_met"] = all(result["targets"].values())
    if not result["targets"]["cpu_per_poll_le_0.5ms"]:
        result["cause"] = cause or "not profiled (--no-profile)"
    return publish(args.name, result, print_tables)


def print_tables(result: dict[str, Any]) -> None:
    prm = result["params"]
    print(f"\nWaiting, triggers polling every {prm['interval']:.0f} s in one loop, {prm['window']:.0f} s of steady state, "
          f"median of {prm['rounds']} alternating rounds")
    rows = [[v["n"], fmt(v["median_rss_bytes"] / MiB), fmt(v["median_cpu_ms_per_poll"], 3),
             f"{v['median_polls_per_window']:.0f}/{v['expected_polls_per_window']:.0f}", fmt(v["min_gap_seconds"], 2),
             v["pooled_clients"]] for v in result["per_n"].values()]
    print(table(["N", "RSS MiB", "CPU ms/poll", "polls/expected", "min gap s", "clients"], rows))
    if "marginal_rss_bytes_per_job" in result:
        lo, hi = result["marginal_between"]
        print(f"marginal RSS per waiting job ({lo} -> {hi}): {result['marginal_rss_bytes_per_job'] / 1e6:.4f} MB")
    poke = result["poke_worker"]
    if poke:
        print(f"one poke-mode sensor in a worker slot ({poke['processes']} processes): RSS {poke['rss_sum'] / MiB:.1f} MiB, "
              f"PSS {poke['pss_sum'] / MiB:.1f} MiB")
    print("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in result["targets"].items()))
    if isinstance(result.get("cause"), dict):
        prof = result["cause"]["profile"]
        shares = ", ".join(f"{k} {v:.0%}" for k, v in prof.get("share", {}).items() if v is not None)
        print(f"cause (py-spy, share of the triggers' samples): {shares}")
        alone = result["cause"].get("http_client_alone", {})
        if alone:
            print(f"the same GET alone: httpx.AsyncClient {alone['httpx_async_client_ms']:.3f} ms CPU, "
                  f"bare asyncio HTTP/1.1 {alone['bare_asyncio_ms']:.3f} ms CPU")


if __name__ == "__main__":
    main()
