"""The measured side of the waiting benchmark: N triggers in one asyncio loop, as a triggerer runs them.

``python bench/_triggerer.py SPECS.json N INTERVAL WINDOW`` rebuilds the first N serialized
triggers the way the triggerer does (classpath + kwargs), starts them spread over one poll
interval (deferrals arrive over time, not all in the same millisecond), waits until every trigger
has started and polled once, then measures process CPU time and RSS over WINDOW seconds of steady
state. Polls are counted by the parent from the emulator's request log, in the window printed here.
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


def build(classpath: str, kwargs: dict) -> object:
    module, _, name = classpath.rpartition(".")
    return getattr(import_module(module), name)(**kwargs)


async def run(triggers: list, interval: float, window: float) -> dict:
    from airflow_provider_datapump.hooks.datapump import _AsyncClientPool

    events: list[dict] = []

    async def one(trigger, delay: float) -> None:
        await asyncio.sleep(delay)
        async for event in trigger.run():
            events.append(event.payload)
            return

    tasks = [asyncio.create_task(one(t, i * interval / len(triggers))) for i, t in enumerate(triggers)]
    await asyncio.sleep(interval + 1.0)
    start, cpu, rss_start = time.time(), time.process_time(), proc_status("VmRSS")
    await asyncio.sleep(window)
    end, cpu_end, rss_end = time.time(), time.process_time(), proc_status("VmRSS")
    pooled = [(shared.users, shared.client.is_closed) for shared in _AsyncClientPool._clients.values()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "window_start": start, "window_end": end, "cpu_seconds": cpu_end - cpu,
        "rss_window_start": rss_start, "rss_window_end": rss_end, "hwm": proc_status("VmHWM"),
        "events": events[:5], "event_count": len(events),
        "pooled_clients": len(pooled), "pool_users": [u for u, _ in pooled], "pool_closed": [c for _, c in pooled],
        "pool_after_cancel": len(_AsyncClientPool._clients),
    }


def main(path: str, n: str, interval: str, window: str) -> dict:
    # What a triggerer has loaded before any trigger arrives.
    import airflow.sdk  # noqa: F401

    import airflow_provider_datapump.hooks.datapump  # noqa: F401
    import airflow_provider_datapump.jobs  # noqa: F401
    import airflow_provider_datapump.triggers.datapump  # noqa: F401

    with open(path) as fh:
        specs = json.load(fh)[: int(n)]
    rss_idle = proc_status("VmRSS")
    triggers = [build(classpath, kwargs) for classpath, kwargs in specs]
    result = asyncio.run(run(triggers, float(interval), float(window)))
    return {"n": len(triggers), "rss_idle": rss_idle, **result}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])))
