"""The measured side of the waiting benchmark: N triggers in one asyncio loop, as a triggerer runs them.

``python bench/_triggerer.py SPECS.json INTERVAL WINDOW`` rebuilds the serialized triggers in
SPECS.json the way the triggerer does (classpath + kwargs), starts them spread over one poll
interval (deferrals arrive over time, not all in the same millisecond), waits until every trigger
has polled once (with shared polls: until the watchers have judged every job once) and one
more interval has passed, then measures process CPU time and RSS over WINDOW seconds of steady
state. It prints ``BENCH-WINDOW <start> <end>`` to stderr when the window opens, so the parent can
end jobs inside it, and records when each trigger's event fired. Requests are counted by the parent
from the emulator's request log, in the window printed here.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from importlib import import_module

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import proc_status  # noqa: E402

WARMUP_LIMIT = 600.0


def build(classpath: str, kwargs: dict) -> object:
    module, _, name = classpath.rpartition(".")
    return getattr(import_module(module), name)(**kwargs)


def _unjudged() -> int:
    from airflow_provider_datapump.triggers.watcher import ConnectionWatcher

    return sum(m.judged_state is None for w in list(ConnectionWatcher._running.values()) for m in w.members)


def trace_watchers() -> dict:
    """Timing of what the watchers do, for the notice-delay breakdown: each list walk (owner, sent,
    answered), each detail resolve (job, sent, answered; detail and log reads), and each finish
    (job, when the watcher handed its trigger the result). Wrappers around the watcher's own
    methods, installed by this benchmark process only: the package pays nothing for them."""
    from airflow_provider_datapump.hooks.datapump import DataPumpHook
    from airflow_provider_datapump.triggers.watcher import ConnectionWatcher

    trace: dict = {"walks": [], "resolves": [], "finished": {}}
    snapshot, aresolve, finish = ConnectionWatcher._snapshot, DataPumpHook.aresolve, ConnectionWatcher._finish

    async def traced_snapshot(self, client):
        owner = self.members[0].job.get("owner_name") if self.members else None
        sent = time.time()
        try:
            return await snapshot(self, client)
        finally:
            trace["walks"].append((owner, sent, time.time()))

    async def traced_aresolve(self, job, client=None, **extras):
        sent = time.time()
        try:
            return await aresolve(self, job, client=client, **extras)
        finally:
            trace["resolves"].append((f"{job.get('owner_name')},{job.get('job_name')}", sent, time.time()))

    def traced_finish(self, member, result):
        trace["finished"].setdefault(member.ident, time.time())
        return finish(self, member, result)

    ConnectionWatcher._snapshot = traced_snapshot
    DataPumpHook.aresolve = traced_aresolve
    ConnectionWatcher._finish = traced_finish
    return trace


async def probe_lag(lags: list, tick: float = 0.05) -> None:
    """The event loop's lag: how late a ``tick`` sleep wakes up (recorded when over 20 ms)."""
    while True:
        before = time.time()
        await asyncio.sleep(tick)
        late = time.time() - before - tick
        if late > 0.02:
            lags.append((before + tick, late))


async def run(triggers: list, interval: float, window: float) -> dict:
    from airflow_provider_datapump.hooks.datapump import _AsyncClientPool
    from airflow_provider_datapump.triggers.watcher import ConnectionWatcher

    events: list[dict] = []
    fired: dict[str, float] = {}
    trace = trace_watchers()
    lags: list = []
    prober = asyncio.create_task(probe_lag(lags))

    async def one(trigger, delay: float) -> None:
        await asyncio.sleep(delay)
        async for event in trigger.run():
            fired[f"{trigger.job['owner_name']},{trigger.job['job_name']}"] = time.time()
            events.append(event.payload)
            return

    started = time.time()
    tasks = [asyncio.create_task(one(t, i * interval / len(triggers))) for i, t in enumerate(triggers)]
    await asyncio.sleep(interval + 1.0)
    # Triggers polling alone must each have read their job once too (they have no watcher to ask). The
    # first poll can come late: on Airflow 3.0.6 a trigger's first request came 2.6 s after its start
    # (first-use imports) and, under load, after a fixed warm-up had already opened the window.
    alone = {f"{t.job['owner_name']},{t.job['job_name']}" for t in triggers if not getattr(t, "share_polls", True)}

    def unread() -> bool:
        return bool(alone - {ident for ident, _, _ in trace["resolves"]})

    while (_unjudged() or unread()) and time.time() - started < WARMUP_LIMIT:  # every job's first reading
        await asyncio.sleep(0.2)
    await asyncio.sleep(interval)  # one more interval: the rounds of steady state, not the first sight
    warmup = time.time() - started
    start, cpu, rss_start = time.time(), time.process_time(), proc_status("VmRSS")
    print(f"BENCH-WINDOW {start} {start + window}", file=sys.stderr, flush=True)
    await asyncio.sleep(window)
    end, cpu_end, rss_end = time.time(), time.process_time(), proc_status("VmRSS")
    watchers = len(ConnectionWatcher._running)
    # Each watcher's state at the window's end: how many jobs it still watches, its rounds, and
    # how far off its next round is (a watcher that stopped would show here).
    watcher_state = [{"key": key[1][:80], "members": len(w.members), "rounds": w.rounds,
                      "next_due_in": min((m.due for m in w.members), default=end) - end,
                      "task_done": w.task.done() if w.task else None}
                     for key, w in ConnectionWatcher._running.items()]
    rounds = sum(w.rounds for w in ConnectionWatcher._running.values())
    pooled = [(shared.users, shared.client.is_closed) for shared in _AsyncClientPool._clients.values()]
    prober.cancel()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "started": started, "warmup_seconds": warmup,
        "window_start": start, "window_end": end, "cpu_seconds": cpu_end - cpu,
        "rss_window_start": rss_start, "rss_window_end": rss_end, "hwm": proc_status("VmHWM"),
        "events": events[:5], "event_count": len(events), "fired": fired,
        "statuses": sorted({e["status"] for e in events}),
        "watchers": watchers, "watcher_rounds_total": rounds, "watcher_state": watcher_state,
        "pooled_clients": len(pooled), "pool_users": [u for u, _ in pooled], "pool_closed": [c for _, c in pooled],
        "pool_after_cancel": len(_AsyncClientPool._clients),
        "trace": {"walks": [w for w in trace["walks"] if w[2] >= start],
                  "resolves": [r for r in trace["resolves"] if r[2] >= start],
                  "finished": {k: v for k, v in trace["finished"].items() if v >= start},
                  "lags": [x for x in lags if x[0] >= start]},
    }


def main(path: str, interval: str, window: str) -> dict:
    # What a triggerer has loaded before any trigger arrives.
    import airflow.sdk  # noqa: F401

    import airflow_provider_datapump.hooks.datapump  # noqa: F401
    import airflow_provider_datapump.jobs  # noqa: F401
    import airflow_provider_datapump.triggers.datapump  # noqa: F401
    import airflow_provider_datapump.triggers.watcher  # noqa: F401

    with open(path) as fh:
        specs = json.load(fh)
    rss_idle = proc_status("VmRSS")
    triggers = [build(classpath, kwargs) for classpath, kwargs in specs]
    result = asyncio.run(run(triggers, float(interval), float(window)))
    return {"n": len(triggers), "rss_idle": rss_idle, **result}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])))
