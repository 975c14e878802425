"""The cost of waiting (issue 19): N deferred waits in one triggerer loop, sharing a watcher per
connection or polling alone, against a worker slot in poke mode.

Modes, each with its own emulator process (so one layout's jobs never lengthen another's job list):

* ``shared_1conn``: N waiting jobs of one ORDS user on one Airflow connection, ``share_polls=True``
  (one ConnectionWatcher);
* ``shared_100conn``: N jobs spread evenly over 100 ORDS users of one emulator, one Airflow
  connection id each (100 watchers, 100 HTTP clients; all users' jobs share one job list, as the
  users of one database share DBA_DATAPUMP_JOBS);
* ``alone_1conn``: the baseline, per-trigger polling (``share_polls=False``); at most 1,000 jobs by
  default, because 10,000 triggers each sending a GET every 10 s are 1,000 requests a second, more
  than this 2-core machine serves (bench/_http_floor.py: about 1 ms of client CPU per GET).

Jobs are created through ORDS (one emulator second apart) and last a day. For each N a fresh
process rebuilds the serialized DataPumpJobTriggers and runs them in one asyncio loop
(bench/_triggerer.py); each job's age counts from its trigger's first look, so every job is polled
every INTERVAL (the costliest case of the interval rule). After every job has been looked at once
and one more interval, WINDOW seconds of steady state are measured:

* RSS at the end of the window; the marginal RSS per waiting job is (RSS at the largest N - RSS at
  the smallest) / (difference in N);
* CPU per waiting job per minute = the process's CPU time over the window / N / minutes;
* ORDS requests per minute, from the emulator's request log (server arrival times in the window):
  job-list pages, list walks (first pages), job details and file (log) reads, separately;
* the notice delay: FINISH jobs are ended during the window (PATCH /_emulator/jobs/... finish_now,
  spread over its first part); the delay is the time the trigger's event fired minus the time that
  PATCH was sent (the job ended at or after it, so the delay is not understated); its bound is
  max(INTERVAL, age/10) + 1 s.

Beside them, one job waited for the classic way: a poke-mode sensor holding a worker slot, run by
Airflow's real supervisor, which forks the task process (bench/_poke_worker.py). After two pokes the
RSS and PSS of both processes are read from /proc and summed (PSS shares the pages the fork still
shares between them; RSS counts them twice).

A missed CPU target of a shared mode is profiled: one more run of the same triggers under py-spy.
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
from _common import BENCH, MiB, PY, ROOT, emulator, fmt, median, proc_status, profile, publish, table  # noqa: E402

TARGET_MB_PER_JOB = 0.05
TARGET_CPU_MS_PER_JOB_MIN = 1.0
WARMUP_LIMIT = 600.0

POKE_DAG = """
import os
from airflow.sdk import DAG
from airflow_provider_datapump.sensors.datapump import DataPumpJobSensor

with DAG("bench_poke", schedule=None):
    DataPumpJobSensor(task_id="wait", job=os.environ["BENCH_JOB"], mode="poke",
                      poke_interval=float(os.environ["BENCH_INTERVAL"]), deferrable=False)
"""


TRIGGER = "airflow_provider_datapump.triggers.datapump.DataPumpJobTrigger"
EXPORT = {"job_mode": "SCHEMA", "schema_expressions": [{"expression": "IN ('TESTUSER1')"}]}


def create_jobs(emu: Any, users: list[tuple[str, str]], per_user: int) -> list[dict[str, str]]:
    """``per_user`` running jobs for each (user, password), round-robin, one emulator second apart."""
    import httpx

    jobs = []
    with httpx.Client(timeout=60) as client:
        for _ in range(per_user):
            for user, password in users:
                url = f"{emu.url}/ords/{user}/_/db-api/stable/database/datapump/export"
                job = client.post(url, json=EXPORT, auth=(user, password)).raise_for_status().json()
                self_url = next((link["href"] for link in job.get("links", []) if link.get("rel") == "self"), None)
                jobs.append({"owner_name": job["owner_name"], "job_name": job["job_name"], "self_url": self_url,
                             "conn_id": _conn_id(user)})
                # ORDS names jobs by the second (a second create in one second is ORA-31634, and two
                # owners' exports of one second clash on their log file); the emulator's clock moves
                # on instead of the benchmark waiting. Jobs run for a day.
                client.post(f"{emu.url}/_emulator/clock", json={"advance": 1}).raise_for_status()
    return jobs


def _conn_id(user: str) -> str:
    return "ords_default" if user == "dbapi_user" else f"ords_{user}"


def conn_env(emu: Any, users: list[tuple[str, str]]) -> dict[str, str]:
    """One Airflow connection per ORDS user, as AIRFLOW_CONN_* variables."""
    return {f"AIRFLOW_CONN_{_conn_id(u).upper()}": json.dumps(
        {"conn_type": "ords", "host": f"{emu.url}/ords/{u}", "login": u, "password": pw}) for u, pw in users}


def trigger_specs(jobs: list[dict[str, str]], interval: float, share: bool) -> list[Any]:
    """What a deferring sensor hands the triggerer (DataPumpJobTrigger.for_task's arguments), built
    directly: executing 10,000 sensors would only add 10,000 first polls before the run. No
    ``started_at``: each job's age counts from its trigger's first look, so every job is young
    (polled every ``interval``) throughout a run: the costliest case of the age rule."""
    from airflow_provider_datapump.triggers.datapump import DataPumpJobTrigger

    return [DataPumpJobTrigger(job={k: j[k] for k in ("owner_name", "job_name", "self_url")}, ords_conn_id=j["conn_id"],
                               poll_interval=interval, share_polls=share).serialize() for j in jobs]


def classify_requests(log: list[dict[str, Any]], start: float, end: float) -> dict[str, Any]:
    """ORDS GETs in [start, end]: list pages (and walks: first pages), job details, file reads;
    and the shortest gap between two detail reads of one job over the whole log."""
    counts = {"list": 0, "list_walks": 0, "detail": 0, "file": 0, "other": 0}
    details: dict[str, list[float]] = defaultdict(list)
    for e in log:
        if e["method"] != "GET" or "/datapump/" not in e["path"]:
            continue
        tail = e["path"].split("/datapump/", 1)[1]
        if tail == "jobs/":
            kind = "list"
        elif tail.startswith("jobs/") and tail.count("/") == 2 and tail.endswith("/"):
            kind = "detail"
            details[tail].append(e["timestamp"])
        elif tail.startswith("jobs/"):
            kind = "file"
        else:
            kind = "other"
        if start <= e["timestamp"] <= end:
            counts[kind] += 1
            if kind == "list" and "offset=" not in (e.get("query") or ""):
                counts["list_walks"] += 1
    gaps = [b - a for ts in details.values() for a, b in zip(sorted(ts), sorted(ts)[1:])]
    counts["min_detail_gap"] = min(gaps) if gaps else None
    # How long a list walk takes (first page sent to last page answered, per connection), and the
    # server's share of it: a job that ends is noticed up to one walk after its round starts.
    pages = sorted((e for e in log if e["method"] == "GET" and e["path"].endswith("/datapump/jobs/")
                    and start <= e["timestamp"] <= end), key=lambda e: e["timestamp"])
    walks: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for e in pages:
        if "offset=" not in (e.get("query") or "") or not walks[e.get("user")]:
            walks[e.get("user")].append({"start": e["timestamp"], "end": e["timestamp"], "pages": 0, "server": 0.0})
        w = walks[e.get("user")][-1]
        w["end"] = e["timestamp"] + (e.get("duration") or 0.0)
        w["pages"] += 1
        w["server"] += e.get("duration") or 0.0
    spans = [w["end"] - w["start"] for ws in walks.values() for w in ws]
    counts["walk_seconds_median"] = median(spans)
    counts["walk_seconds_max"] = max(spans) if spans else None
    counts["walk_server_seconds_median"] = median([w["server"] for ws in walks.values() for w in ws])
    counts["walk_pages_max"] = max((w["pages"] for ws in walks.values() for w in ws), default=0)
    return counts


def run_triggerer(emu: Any, specs: list[Any], finish: list[dict[str, str]], interval: float, window: float,
                  workdir: Path, env: dict[str, str]) -> dict[str, Any]:
    """One triggerer process over ``specs``; the jobs in ``finish`` end inside its window, spread over
    its first part, each at a time the emulator is told (PATCH finish_now), so their notice delay is
    measured: the event's time minus the time the PATCH was sent (the job ended at or after it)."""
    import threading

    specs_path = workdir / "triggers.json"
    specs_path.write_text(json.dumps(specs))
    emu.control("DELETE", "requests")
    proc = subprocess.Popen([PY, "bench/_triggerer.py", str(specs_path), str(interval), str(window)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err_lines: list[str] = []
    opened = threading.Event()
    window_at: list[float] = []

    def drain() -> None:
        for line in proc.stderr:
            if line.startswith("BENCH-WINDOW "):
                window_at.extend(float(x) for x in line.split()[1:3])
                opened.set()
            else:
                err_lines.append(line)
        opened.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    ended: dict[str, float] = {}
    patch_answered: dict[str, float] = {}
    patched: list[Any] = []
    try:
        opened.wait(WARMUP_LIMIT + 120)
        if window_at:
            w_start, w_end = window_at
            last = w_end - interval - 3.0  # late enough to be noticed inside the window
            for i, job in enumerate(finish):
                at = w_start + 1.0 + i * max(0.0, last - w_start - 1.0) / max(1, len(finish))
                time.sleep(max(0.0, at - time.time()))
                sent = time.time()
                answer = emu.control("PATCH", f"jobs/{job['owner_name']},{job['job_name']}", {"finish_now": True})
                ended[f"{job['owner_name']},{job['job_name']}"] = sent
                patch_answered[f"{job['owner_name']},{job['job_name']}"] = time.time()
                patched.append({k: answer.get(k) for k in ("state", "job_state", "end", "finalized")} if isinstance(answer, dict) else answer)
        out, _ = proc.communicate(timeout=WARMUP_LIMIT + window + 300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(10)
    if proc.returncode != 0:
        raise RuntimeError(f"bench/_triggerer.py failed ({proc.returncode}):\n{''.join(err_lines)[-4000:]}")
    r = json.loads(out.strip().splitlines()[-1])
    log = emu.control("GET", "requests?wait_idle=5")
    if log and min(e["timestamp"] for e in log) > r["window_start"]:
        raise RuntimeError("the emulator's request log overflowed before the window: raise its size")
    r["requests"] = classify_requests(log, r["window_start"], r["window_end"])
    minutes = (r["window_end"] - r["window_start"]) / 60
    r["per_minute"] = {k: r["requests"][k] / minutes for k in ("list", "list_walks", "detail", "file")}
    r["cpu_ms_per_job_minute"] = 1000 * r["cpu_seconds"] / r["n"] / minutes
    delays = []
    for ident, t_end in ended.items():
        t_fired = r["fired"].get(ident)
        age = t_end - r["started"]  # the job's age counts from its trigger's first look, at most this
        # The job ended while the PATCH was served, between its sending and its answer: the delay
        # judged counts from the sending (never understated); from the answer it is the least it
        # can have been. Under load the emulator took up to 2.2 s to answer a PATCH.
        t_answered = patch_answered[ident]
        delays.append({"job": ident, "delay": None if t_fired is None else t_fired - t_end,
                       "delay_after_patch_answered": None if t_fired is None else t_fired - t_answered,
                       "patch_seconds": t_answered - t_end, "bound": max(interval, age / 10) + 1.0})
    r["notice"] = delays
    r["patched"] = patched
    trace = r.pop("trace")
    r["walk_sync"] = walk_sync(trace["walks"], interval)
    r["loop_lag_max"] = max((lag for _, lag in trace["lags"]), default=0.0)
    r["breakdown"] = breakdown(ended, patch_answered, r["fired"], trace, log)
    r.pop("fired")
    return r


def breakdown(ended: dict[str, float], patch_answered: dict[str, float], fired: dict[str, float],
              trace: dict[str, Any], log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where each ended job's notice delay went, in seconds from the PATCH that ended it: the walk
    (of its owner's watcher) that saw it, sent and answered; the detail resolve, sent and answered,
    with the server's arrival and duration of its detail and log GETs and the requests the emulator
    had in flight when the detail arrived; the watcher's finish; the trigger's event; and the
    longest event-loop lag of the triggerer process meanwhile."""
    gets = [e for e in log if e["method"] == "GET" and "/datapump/" in e["path"]]
    out = []
    for ident, t0 in ended.items():
        owner, name = ident.split(",", 1)
        t_fired = fired.get(ident)
        res = next((x for x in sorted(trace["resolves"], key=lambda x: x[1]) if x[0] == ident and x[1] >= t0), None)
        walks = sorted((w for w in trace["walks"] if w[0] == owner), key=lambda w: w[1])
        seen = [w for w in walks if res is not None and w[2] <= res[1] + 1e-6]
        seen_walk = seen[-1] if seen else None
        before = [w for w in walks if seen_walk is not None and w[2] < seen_walk[1]]
        mine = sorted((e for e in gets if name in e["path"] and e["timestamp"] >= t0 - 0.01), key=lambda e: e["timestamp"])

        def in_flight(t: float, only_list: bool = False) -> int:
            return sum(1 for e in log if e["timestamp"] <= t < e["timestamp"] + (e.get("duration") or 0.0)
                       and (not only_list or e["path"].endswith("/datapump/jobs/")))

        def rel(t: float | None, t0: float = t0) -> float | None:
            return None if t is None else round(t - t0, 3)

        first = mine[0]["timestamp"] if mine else None
        lag_until = t_fired or t0 + 30
        out.append({
            "job": ident, "delay": rel(t_fired), "patch_answered": rel(patch_answered.get(ident)),
            "previous_walk": None if not before else [rel(before[-1][1]), rel(before[-1][2])],
            "seen_by_walk": None if seen_walk is None else [rel(seen_walk[1]), rel(seen_walk[2])],
            "walks_in_flight_at_seen_walk_start": None if seen_walk is None else sum(
                1 for w in trace["walks"] if w[1] <= seen_walk[1] < w[2]),
            "resolve": None if res is None else [rel(res[1]), rel(res[2])],
            "server_reads": [[("detail" if e["path"].endswith(f"{name}/") else "file"), rel(e["timestamp"]),
                              round(e.get("duration") or 0.0, 3)] for e in mine],
            "emulator_in_flight_at_detail": None if first is None else in_flight(first),
            "list_requests_in_flight_at_detail": None if first is None else in_flight(first, True),
            "finished": rel(trace["finished"].get(ident)), "fired": rel(t_fired),
            "max_loop_lag": max((lag for t, lag in trace["lags"] if t0 <= t <= lag_until), default=0.0),
        })
    return out


def walk_sync(trace_walks: list[Any], interval: float) -> dict[str, Any]:
    """How bunched the watchers' walks are: for each walk, how many other watchers' walks started
    within 0.5 s of it (100 evenly spread watchers at a 10 s interval would give about 10)."""
    starts = sorted(w[1] for w in trace_walks)
    import bisect

    near = [bisect.bisect_right(starts, t + 0.5) - bisect.bisect_left(starts, t - 0.5) - 1 for t in starts]
    return {"walks": len(starts), "others_within_0.5s_median": median(near), "others_within_0.5s_max": max(near, default=0)}


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


MODES = {
    # name: (connections, share_polls)
    "shared_1conn": (1, True),
    "shared_100conn": (100, True),
    "alone_1conn": (1, False),
}


def _sizes(text: str) -> list[int]:
    return sorted(int(n) for n in text.split(","))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", default="1000,10000", help="waiting jobs per run with shared polls (default 1000,10000)")
    p.add_argument("--n-alone", default="100,1000", help="waiting jobs per run polling alone (default 100,1000)")
    p.add_argument("--connections", type=int, default=100, help="connections (ORDS users) of the spread mode (default 100)")
    p.add_argument("--interval", type=float, default=10.0, help="poll interval in seconds (default 10)")
    p.add_argument("--window", type=float, default=60.0, help="seconds of steady state measured (default 60)")
    p.add_argument("--finish", type=int, default=20, help="jobs ended inside each window, for the notice delay (default 20)")
    p.add_argument("--modes", default=",".join(MODES), help=f"which modes (default {','.join(MODES)})")
    p.add_argument("--no-poke", action="store_true", help="skip the poke-mode worker measurement")
    p.add_argument("--name", default="waiting", help="result file name (default waiting)")
    p.add_argument("--no-profile", action="store_true", help="do not profile a missed target (smoke runs)")
    args = p.parse_args(argv)
    ns, ns_alone = _sizes(args.n), _sizes(args.n_alone)
    modes = [m for m in args.modes.split(",") if m]
    conns = {"shared_1conn": 1, "shared_100conn": args.connections, "alone_1conn": 1}
    workdir = Path(tempfile.mkdtemp(prefix="dp-bench-waiting-"))
    runs: dict[str, dict[int, dict[str, Any]]] = {m: {} for m in modes}
    setup: dict[str, Any] = {}
    poke = None
    profiles: dict[str, Any] = {}
    try:
        # One emulator per connection layout, so that one layout's jobs never lengthen another's list.
        for layout in ("one", "spread"):
            layout_modes = [m for m in modes if (conns[m] == 1) == (layout == "one")]
            if not layout_modes:
                continue
            extra_users = 0 if layout == "one" else args.connections
            with emulator(users=extra_users, request_log_size=400_000, settings={"duration": 86400.0}) as emu:
                sys.path.insert(0, str(BENCH))
                from _emulator import bench_users

                users = [(emu.user, emu.password)] if layout == "one" else list(bench_users(extra_users).items())
                env = emu.env(**conn_env(emu, users))
                os.environ.update(conn_env(emu, users))
                # Each run gets jobs no earlier run ended; the largest run takes all but the smaller
                # runs' slices, which are created last (ORDS lists by name: a smaller run's walk then
                # covers only its own jobs, as on a database where they are the newest).
                plan = []  # (mode, n, jobs slice)
                wanted = [(m, n) for m in layout_modes for n in (ns if MODES[m][1] else ns_alone)]
                per_user_sizes = {(m, n): -(-n // len(users)) for m, n in wanted}
                biggest = max(per_user_sizes.values())
                alone = sum(v for k, v in per_user_sizes.items() if not MODES[k[0]][1])
                per_user_total = alone + biggest  # the shared runs' smaller slices sit inside the biggest one
                t = time.monotonic()
                jobs = create_jobs(emu, users, per_user_total)
                setup[layout] = {"jobs_created": len(jobs), "users": len(users), "create_seconds": time.monotonic() - t,
                                 "load_average": list(os.getloadavg())}
                print(f"  {layout}: {len(jobs)} running jobs over {len(users)} ORDS user(s) in {setup[layout]['create_seconds']:.0f} s",
                      file=sys.stderr, flush=True)
                by_round = [jobs[i * len(users):(i + 1) * len(users)] for i in range(per_user_total)]
                alone_rounds, shared_rounds = by_round[:alone], by_round[alone:]
                offset = 0
                for m, n in wanted:
                    k = per_user_sizes[(m, n)]
                    if not MODES[m][1]:
                        chosen = [j for r in alone_rounds[offset:offset + k] for j in r][:n]
                        offset += k
                        plan.append((m, n, chosen, chosen[-max(1, min(args.finish, n // 10)):]))
                    else:
                        chosen = [j for r in shared_rounds[len(shared_rounds) - k:] for j in r][:n]
                        plan.append((m, n, chosen, None))
                # The biggest shared run first: it ends jobs outside the smaller runs' slices.
                plan.sort(key=lambda x: (not MODES[x[0]][1], -x[1]))
                taken: set[str] = set()
                smaller = {j["job_name"] + j["owner_name"] for m, n, ch, _ in plan if MODES[m][1] and n != max(ns) for j in ch}
                for m, n, chosen, fin in plan:
                    if fin is None:
                        pool = [j for j in chosen if j["job_name"] + j["owner_name"] not in smaller | taken]
                        pool = pool or [j for j in chosen if j["job_name"] + j["owner_name"] not in taken]
                        # Evenly over the run's jobs, one more each step, so that with several connections
                        # the ended jobs belong to different ones (a plain stride of a multiple of the
                        # connection count picks one connection's jobs only, and measures one watcher).
                        k = max(1, min(args.finish, n // 10))
                        step = max(1, len(pool) // k)
                        fin = [pool[(i * step + i) % len(pool)] for i in range(min(k, len(pool)))]
                    taken.update(j["job_name"] + j["owner_name"] for j in fin)
                    specs = trigger_specs(chosen, args.interval, MODES[m][1])
                    r = run_triggerer(emu, specs, fin, args.interval, args.window, workdir, env)
                    r["load_average_after"] = list(os.getloadavg())
                    r["connections"] = len({j["conn_id"] for j in chosen})
                    runs[m][n] = r
                    d = [x["delay"] for x in r["notice"] if x["delay"] is not None]
                    print(f"  {m} N={n}: RSS {r['rss_window_end'] / MiB:.1f} MiB, CPU {r['cpu_ms_per_job_minute']:.3f} ms/job/min, "
                          f"list {r['per_minute']['list']:.0f}/min, detail {r['per_minute']['detail']:.0f}/min, "
                          f"notice max {fmt(max(d) if d else None, 2)} s, warmup {r['warmup_seconds']:.0f} s, "
                          f"load {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
                    lo = [x["delay_after_patch_answered"] for x in r["notice"] if x["delay_after_patch_answered"] is not None]
                    print(f"    notice max from the PATCH answered (least possible) {fmt(max(lo) if lo else None, 2)} s, "
                          f"PATCH answered in at most {max((x['patch_seconds'] for x in r['notice']), default=0):.2f} s; "
                          f"walks bunched: {r['walk_sync']}, loop lag max {r['loop_lag_max']:.3f} s", file=sys.stderr)
                    for b in sorted(r["breakdown"], key=lambda b: -(b["delay"] or 1e9)):
                        print(f"    {b['job']}: delay {b['delay']} prev walk {b['previous_walk']} seen walk {b['seen_by_walk']} "
                              f"(walks in flight {b['walks_in_flight_at_seen_walk_start']}) resolve {b['resolve']} "
                              f"server {b['server_reads']} in flight {b['emulator_in_flight_at_detail']}"
                              f"/{b['list_requests_in_flight_at_detail']} list, finished {b['finished']} fired {b['fired']} "
                              f"lag {b['max_loop_lag']:.3f}", file=sys.stderr, flush=True)
                    if not args.no_profile and MODES[m][1] and r["cpu_ms_per_job_minute"] > TARGET_CPU_MS_PER_JOB_MIN:
                        profiles[f"{m}_{n}"] = _profile_run(emu, specs, args.interval, workdir, env)
                if layout == "one" and not args.no_poke:
                    poke = poke_worker(emu, f"{jobs[0]['owner_name']},{jobs[0]['job_name']}", args.interval, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return publish(args.name, summarize(args, modes, runs, setup, poke, profiles), print_tables)


def _profile_run(emu: Any, specs: list[Any], interval: float, workdir: Path, env: dict[str, str]) -> dict[str, Any]:
    """One more run of the same triggers under py-spy: where the watcher's CPU goes."""
    path = workdir / "profile-triggers.json"
    path.write_text(json.dumps(specs))
    return profile([PY, "bench/_triggerer.py", str(path), str(interval), str(min(30.0, 3 * interval))], env=env,
                   focus="_run (", markers={
                       "list walks (_snapshot)": "_snapshot",
                       "job list parsing (DataPumpJob.from_json)": "from_json",
                       "detail reads (aresolve)": "aresolve",
                       "httpx request": "AsyncClient.request",
                       "response JSON decoding": "Response.json",
                       "due-member scans (_round/_sleep_until_due)": "_sleep_until_due",
                   })


def summarize(args: Any, modes: list[str], runs: dict[str, dict[int, dict[str, Any]]], setup: dict[str, Any],
              poke: dict[str, Any] | None, profiles: dict[str, Any]) -> dict[str, Any]:
    per_mode: dict[str, Any] = {}
    for m in modes:
        rs = runs[m]
        if not rs:
            continue
        sizes = sorted(rs)
        rows = {}
        for n in sizes:
            r = rs[n]
            d = [x["delay"] for x in r["notice"] if x["delay"] is not None]
            rows[str(n)] = {
                "n": n, "connections": r["connections"], "rss_bytes": r["rss_window_end"],
                "cpu_ms_per_job_minute": r["cpu_ms_per_job_minute"], "per_minute": r["per_minute"],
                "list_pages_per_interval_per_connection": r["per_minute"]["list"] * args.interval / 60 / r["connections"],
                "list_walks_per_interval_per_connection": r["per_minute"]["list_walks"] * args.interval / 60 / r["connections"],
                "min_detail_gap": r["requests"]["min_detail_gap"],
                "walk_seconds_median": r["requests"]["walk_seconds_median"], "walk_seconds_max": r["requests"]["walk_seconds_max"],
                "walk_server_seconds_median": r["requests"]["walk_server_seconds_median"],
                "walk_pages_max": r["requests"]["walk_pages_max"],
                "ended": len(r["notice"]), "noticed": len(d),
                "notice_max": max(d) if d else None, "notice_median": median(d),
                "notice_max_after_patch_answered": max((x["delay_after_patch_answered"] for x in r["notice"]
                                                        if x["delay_after_patch_answered"] is not None), default=None),
                "patch_seconds_max": max((x["patch_seconds"] for x in r["notice"]), default=None),
                "notice_within_bound": all(x["delay"] is not None and x["delay"] <= x["bound"] for x in r["notice"]),
                "events": r["event_count"], "statuses": r["statuses"], "watchers": r["watchers"],
                "warmup_seconds": r["warmup_seconds"], "load_average_after": r["load_average_after"], "run": r,
            }
        entry: dict[str, Any] = {"share_polls": MODES[m][1], "sizes": rows}
        if len(sizes) >= 2:
            lo, hi = rs[sizes[0]], rs[sizes[-1]]
            entry["marginal_rss_mb_per_job"] = (hi["rss_window_end"] - lo["rss_window_end"]) / (hi["n"] - lo["n"]) / 1e6
            entry["marginal_between"] = [sizes[0], sizes[-1]]
        per_mode[m] = entry
    result: dict[str, Any] = {
        "params": {"n": _sizes(args.n), "n_alone": _sizes(args.n_alone), "connections": args.connections,
                   "interval": args.interval, "window": args.window, "finish": args.finish, "modes": modes,
                   "command": "python bench/waiting.py " + " ".join(sys.argv[1:])},
        "method": __doc__.strip(), "setup": setup, "modes": per_mode, "poke_worker": poke,
    }
    targets: dict[str, Any] = {}
    one = per_mode.get("shared_1conn", {}).get("sizes", {})
    at_1k = one.get("1000") or (one[min(one, key=int)] if one else None)
    if at_1k:
        ended_per_minute = at_1k["ended"] / (args.window / 60)
        # one walk per interval, and per ended job one detail plus its log file(s)
        targets["1conn_1k_one_list_walk_per_interval"] = at_1k["list_walks_per_interval_per_connection"] <= 1.0 + 1e-9
        targets["1conn_1k_one_list_page_per_interval"] = at_1k["list_pages_per_interval_per_connection"] <= 1.0 + 1e-9
        targets["1conn_1k_details_only_for_changed_jobs"] = at_1k["per_minute"]["detail"] <= ended_per_minute + 1e-9
        targets["1conn_1k_cpu_le_1ms_per_job_minute"] = at_1k["cpu_ms_per_job_minute"] <= TARGET_CPU_MS_PER_JOB_MIN
    spread = per_mode.get("shared_100conn", {}).get("sizes", {})
    if len(spread) >= 2:
        lo, hi = spread[min(spread, key=int)], spread[max(spread, key=int)]
        # Jobs x10 at the same connections: list requests grow far less than the jobs (< 2x, not 10x).
        targets["100conn_list_requests_scale_with_connections"] = (
            hi["per_minute"]["list"] <= 2 * max(lo["per_minute"]["list"], 1e-9))
    for m in ("shared_1conn", "shared_100conn"):
        if "marginal_rss_mb_per_job" in per_mode.get(m, {}):
            targets[f"{m}_rss_le_0.05MB_per_job"] = per_mode[m]["marginal_rss_mb_per_job"] <= TARGET_MB_PER_JOB
    for m in ("shared_1conn", "shared_100conn"):  # the baseline's delays are reported, not judged
        for n, row in per_mode.get(m, {}).get("sizes", {}).items():
            targets[f"{m}_{n}_notice_delay_within_bound"] = row["notice_within_bound"]
    result["targets"] = targets
    result["targets_met"] = all(targets.values())
    if profiles:
        result["profiles"] = profiles
    elif not result["targets_met"]:
        result["profiles"] = "not profiled (--no-profile)"
    return result


def print_tables(result: dict[str, Any]) -> None:
    prm = result["params"]
    print(f"\nWaiting jobs in one triggerer loop, poll interval {prm['interval']:.0f} s, {prm['window']:g} s of steady state "
          f"per run, {prm['finish']} jobs ended in each window (1 run each)")
    rows = []
    for m, e in result["modes"].items():
        for v in e["sizes"].values():
            pm = v["per_minute"]
            rows.append([m, v["n"], v["connections"], fmt(v["rss_bytes"] / MiB), fmt(v["cpu_ms_per_job_minute"], 3),
                         f"{pm['list']:.0f}", f"{pm['list_walks']:.0f}", f"{pm['detail']:.0f}", f"{pm['file']:.0f}",
                         f"{v['noticed']}/{v['ended']}", fmt(v["notice_median"], 2), fmt(v["notice_max"], 2),
                         None if v.get("walk_seconds_median") is None else f"{v['walk_seconds_median']:.2f}/{v['walk_seconds_max']:.2f}",
                         " ".join(f"{x:.1f}" for x in v["load_average_after"])])
    print(table(["mode", "N", "conns", "RSS MiB", "CPU ms/job/min", "list/min", "walks/min", "detail/min", "file/min",
                 "noticed", "notice med s", "notice max s", "walk s med/max", "load 1/5/15"], rows))
    for m, e in result["modes"].items():
        if "marginal_rss_mb_per_job" in e:
            lo, hi = e["marginal_between"]
            print(f"{m}: marginal RSS per waiting job ({lo} -> {hi}): {e['marginal_rss_mb_per_job']:.4f} MB")
    poke = result["poke_worker"]
    if poke:
        print(f"one poke-mode sensor in a worker slot ({poke['processes']} processes): RSS {poke['rss_sum'] / MiB:.1f} MiB, "
              f"PSS {poke['pss_sum'] / MiB:.1f} MiB")
    print("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in result["targets"].items()))
    if isinstance(result.get("profiles"), dict):
        for key, prof in result["profiles"].items():
            shares = ", ".join(f"{k} {v:.0%}" for k, v in prof.get("share", {}).items() if v is not None)
            top = "; ".join(f"{f['frame']} {f['share']:.0%}" for f in prof.get("top_self_frames", [])[:4])
            print(f"cause, {key} (py-spy, share of the watcher's samples): {shares}\n  top self frames: {top}")


if __name__ == "__main__":
    main()
