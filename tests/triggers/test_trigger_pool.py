"""The pooled async client that DataPumpJobTrigger shares in a triggerer (issue 10, "the cost of waiting").

Many triggers in one loop: one client per connection, bounded, never closed under the others by a
trigger that is cancelled halfway or fails, credentials kept per connection id, and nothing left
behind once the last trigger is gone.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from tests.helpers import create_many

from airflow_provider_datapump.hooks.ords.transport import AsyncClientPool as _AsyncClientPool
from airflow_provider_datapump.triggers.datapump import DataPumpJobTrigger

EXPORT = {"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": [{"expression": "= 'TESTUSER1'"}]}
WRONG_PASSWORD_CONN = "ords_wrong_password"


@pytest.fixture
def two_connections(ords_conn, monkeypatch):
    """ords_default, and a connection to the same server whose password is wrong."""
    wrong = ords_conn.airflow_connection(password="not-the-password-" + "x" * 8)
    monkeypatch.setenv(f"AIRFLOW_CONN_{WRONG_PASSWORD_CONN.upper()}", json.dumps(wrong))
    return ords_conn


def test_many_triggers_share_one_client_and_survive_cancelled_and_failed_ones(two_connections, fast_hook):
    emu = two_connections
    jobs = create_many(fast_hook, emu, EXPORT, 12, duration=8.0)
    hook_params = {"retry_attempts": 1}

    # Each trigger polling alone (share_polls=False), so that each is a user of the pooled client;
    # through the watcher (tests/triggers/test_watcher.py) only the watcher is.
    def trigger(job, conn_id="ords_default"):
        return DataPumpJobTrigger(job={"owner_name": job.owner_name, "job_name": job.job_name}, ords_conn_id=conn_id,
                                  poll_interval=0.2, hook_params=hook_params, share_polls=False)

    waiting = [trigger(job) for job in jobs[:8]]
    to_cancel = [trigger(job) for job in jobs[8:]]
    vanished = [DataPumpJobTrigger(job={"owner_name": "DBAPI_USER", "job_name": f"NO_SUCH_JOB_{i}"},
                                   poll_interval=0.2, hook_params=hook_params, share_polls=False) for i in range(3)]
    refused = [trigger(job, WRONG_PASSWORD_CONN) for job in jobs[:3]]
    seen: dict[str, object] = {}

    async def first_event(t):
        async for event in t.run():
            return event.payload

    async def scenario():
        tasks = {t: asyncio.create_task(first_event(t)) for t in [*waiting, *to_cancel, *vanished, *refused]}
        # Halfway: the failed triggers are done, and the pool holds one client per connection. Waited
        # for, not slept: a trigger's first poll pays its first-use imports, and on Airflow 3.0.6 with
        # two suites on 2 cores none had polled after a fixed 0.8 s (the jobs run 8 s, well past it).
        failed = [tasks[t] for t in [*vanished, *refused]]
        deadline = time.monotonic() + 6.0
        while time.monotonic() < deadline and not (all(f.done() for f in failed) and _AsyncClientPool._clients):
            await asyncio.sleep(0.05)
        seen["clients_halfway"] = {key[1].conn_id: shared for key, shared in _AsyncClientPool._clients.items()}
        for t in to_cancel:
            tasks[t].cancel()
        await asyncio.sleep(0.3)
        seen["after_cancel"] = {key: (shared, shared.users, shared.client.is_closed)
                                for key, shared in _AsyncClientPool._clients.items()}
        results = await asyncio.gather(*tasks.values(), return_exceptions=True)
        seen["after_all"] = dict(_AsyncClientPool._clients)
        return dict(zip(tasks, results))

    results = asyncio.run(asyncio.wait_for(scenario(), 30))

    # The survivors polled on through the cancellations and failures, to the job's real end.
    assert [results[t]["status"] for t in waiting] == ["success"] * len(waiting)
    assert all(isinstance(results[t], asyncio.CancelledError) for t in to_cancel)
    assert all(results[t]["status"] == "error" for t in vanished)
    # The wrong password stayed with its own connection id: those triggers were refused, the others not.
    assert all(results[t]["status"] == "error" and "401" in results[t]["message"] for t in refused)

    halfway = seen["clients_halfway"]
    assert set(halfway) == {"ords_default"}, "the refused connection's triggers had already let go of their client"
    shared = halfway["ords_default"]
    # After the cancellations the same client is still open, held by exactly the survivors.
    assert list(seen["after_cancel"].values()) == [(shared, len(waiting), False)]
    # Bounded: one client per connection and loop, with a fixed connection limit, however many triggers.
    pool = shared.client._transport._pool
    assert pool._max_connections == _AsyncClientPool.MAX_CONNECTIONS
    # The last trigger out closed it, and the pool forgot it.
    assert seen["after_all"] == {} and shared.client.is_closed

    by_user = {r["user"] for r in emu.requests() if r["method"] == "GET" and "/jobs/" in r["path"] and r["status"] == 200}
    assert by_user == {"dbapi_user"}
    assert any(r["status"] == 401 for r in emu.requests())


def test_separate_event_loops_get_separate_clients(ords_conn, fast_hook):
    job = fast_hook.create_job(EXPORT)
    ref = {"owner_name": job.owner_name, "job_name": job.job_name}
    clients = []

    async def grab():
        from airflow_provider_datapump.hooks.datapump import DataPumpHook

        async with DataPumpHook().async_client() as shared:
            clients.append(shared.client)
            await DataPumpHook().aget_job(ref)  # a second hook on the same loop borrows the same client
            assert len(_AsyncClientPool._clients) == 1

    asyncio.run(grab())
    asyncio.run(grab())
    assert clients[0] is not clients[1] and all(c.is_closed for c in clients)
    assert _AsyncClientPool._clients == {}
