"""Small stand-ins for what Airflow passes a task at run time (used where a whole DAG run would
add nothing): a task-state store that survives 'retries' and a TI that records XCom pushes."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any


class StateStore:
    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def set(self, key: str, value: Any, **_: Any) -> None:
        self.data[key] = value


class TI:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}
        self.stats_tags: dict[str, str] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def context(store: StateStore | None = None) -> dict[str, Any]:
    return {"ti": TI(), "task_state_store": store if store is not None else StateStore()}


def run_trigger(trigger, timeout: float = 20.0):
    """Run a trigger to its first event, as the triggerer would."""

    async def first():
        async for event in trigger.run():
            return event
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(asyncio.wait_for(first(), timeout))


def creates(emu) -> list[dict[str, Any]]:
    return [r for r in emu.requests() if r["method"] == "POST" and "/datapump/" in r["path"]]


def wait_done(hook, job, timeout: float = 10.0, pause: float = 0.05):
    """Resolve a job until it is no longer running (bounded)."""
    from airflow_provider_datapump.jobs import Outcome

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = hook.resolve(job)
        if result.verdict.outcome is not Outcome.RUNNING:
            return result
        time.sleep(pause)
    raise AssertionError("job did not finish")


class Recorder:
    """A bare TCP listener standing in for a foreign host of the link tests: it records whatever reaches it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    self.received.append(conn.recv(65536))
                except OSError:
                    pass

    def close(self):
        # shutdown wakes the thread blocked in accept(); close alone would leave the port bound.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def create_many(hook, emu, payload, n: int, duration: float) -> list:
    """n jobs of one operation, an emulator second apart (ORDS names jobs by the second, so two in
    one second clash with ORA-31634), all ending ``duration`` seconds after the last is created."""
    jobs = []
    for i in range(n):
        emu.queue_scenario(duration=duration + (n - 1 - i))
        jobs.append(hook.create_job(payload))
        if i < n - 1:
            emu.advance_clock(1)
    return jobs
