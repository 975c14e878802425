"""One poll per connection (issue 19): the triggers of one connection in one loop share a watcher.

Run against the emulator over HTTP, side by side with the same triggers polling alone, and counted
from the emulator's request log: one list request per round, a job's detail only when its state
changed, each trigger its own event, and a cancelled trigger leaving the others be.
"""

from __future__ import annotations

import asyncio
import time

from tests.helpers import create_many

from airflow_provider_datapump.triggers.datapump import DataPumpJobTrigger
from airflow_provider_datapump.triggers.watcher import DETAILS_IN_FLIGHT, ConnectionWatcher

EXPORT = {
    "operation": "EXPORT",
    "job_mode": "SCHEMA",
    "schema_expressions": [{"expression": "= 'TESTUSER1'"}],
}
N = 10
INTERVAL = 0.2  # seconds; pinned (max = min), so the counts below are per round


def _trigger(job, **kw) -> DataPumpJobTrigger:
    kw.setdefault("poll_interval", INTERVAL)
    kw.setdefault("max_poll_interval", INTERVAL)
    return DataPumpJobTrigger(job={"owner_name": job.owner_name, "job_name": job.job_name}, **kw)


async def _first(trigger):
    async for event in trigger.run():
        return event.payload
    raise AssertionError("no event")


def _run_all(triggers, cancel=(), cancel_after=0.5):
    async def scenario():
        tasks = {t: asyncio.create_task(_first(t)) for t in triggers}
        if cancel:
            await asyncio.sleep(cancel_after)
            for t in cancel:
                tasks[t].cancel()
        return dict(zip(tasks, await asyncio.gather(*tasks.values(), return_exceptions=True)))

    return asyncio.run(asyncio.wait_for(scenario(), 60))


def _counts(emu, jobs):
    requests = [r for r in emu.requests() if r["method"] == "GET"]
    lists = sum(r["path"].endswith("/datapump/jobs/") for r in requests)
    details = {j.job_name: sum(r["path"].endswith(f",{j.job_name}/") for r in requests) for j in jobs}
    return lists, details, len(requests)


def test_one_list_per_round_and_a_detail_only_on_change_beside_polling_alone(ords_conn, fast_hook):
    emu = ords_conn
    jobs = create_many(fast_hook, emu, EXPORT, N, duration=4.0)  # all end 4 s after the last is created
    emu.clear_requests()
    started = time.monotonic()
    shared = _run_all([_trigger(j) for j in jobs])
    shared_seconds = time.monotonic() - started
    shared_lists, shared_details, shared_total = _counts(emu, jobs)

    # Every trigger got its own job's success, not another's.
    assert [shared[t]["job"]["job_name"] for t in shared] == [j.job_name for j in jobs]
    assert {p["status"] for p in shared.values()} == {"success"}
    # A detail on first sight and once the state changed (running to ended), never per round.
    assert max(shared_details.values()) <= 3, shared_details
    assert ConnectionWatcher._running == {}, "the watcher ends with its last trigger"

    # The same jobs again (ORDS keeps finished jobs), polled alone: the baseline, in the same run.
    jobs2 = create_many(fast_hook, emu, EXPORT, N, duration=4.0)
    emu.clear_requests()
    alone = _run_all([_trigger(j, share_polls=False) for j in jobs2])
    alone_lists, alone_details, alone_total = _counts(emu, jobs2)
    assert {p["status"] for p in alone.values()} == {"success"}
    assert alone_lists == 0
    # Shared, one list request serves all ten each round. Rounds are paced by the interval (a walk
    # starts at most a quarter of it early), so the run's own length bounds them; listing per
    # trigger would send ten times as many. Not compared with the alone run's rounds: ten requests
    # a round make those rounds slower, fewer in the same seconds, and more so under load.
    most_rounds = shared_seconds / (INTERVAL * 0.75) + 2
    assert shared_lists <= most_rounds, (shared_lists, round(shared_seconds, 2))
    # Alone, every trigger reads its job every round: more often than shared, where it is read
    # only on first sight and on a change.
    assert min(alone_details.values()) > max(shared_details.values()), (alone_details, shared_details)
    assert shared_total * 2 < alone_total, (shared_total, alone_total)


def test_a_cancelled_trigger_leaves_and_the_others_end_with_their_own_jobs(ords_conn, fast_hook):
    emu = ords_conn
    jobs = create_many(fast_hook, emu, EXPORT, 4, duration=2.0)
    triggers = [_trigger(j) for j in jobs]
    results = _run_all(triggers, cancel=triggers[:2], cancel_after=0.6)
    assert all(isinstance(results[t], asyncio.CancelledError) for t in triggers[:2])
    assert [results[t]["job"]["job_name"] for t in triggers[2:]] == [j.job_name for j in jobs[2:]]
    assert {results[t]["status"] for t in triggers[2:]} == {"success"}
    assert ConnectionWatcher._running == {}


def test_an_outage_is_ridden_out_by_every_trigger_of_the_watcher(ords_conn, fast_hook):
    emu = ords_conn
    jobs = create_many(fast_hook, emu, EXPORT, 3, duration=1.5)
    emu.add_fault(kind="status", status=503, retry_after=None, seconds=1.0)
    results = _run_all([_trigger(j, hook_params={"retry_attempts": 2, "retry_backoff": 0.01}) for j in jobs])
    assert {p["status"] for p in results.values()} == {"success"}, results


def test_connections_do_not_share_a_watcher(ords_conn, fast_hook):
    """A different connection (or hook parameters) is another watcher: credentials never mix."""
    jobs = create_many(fast_hook, ords_conn, EXPORT, 2, duration=1.0)
    a, b = _trigger(jobs[0]), _trigger(jobs[1], hook_params={"retry_attempts": 2})
    assert a._connection_key() != b._connection_key()
    seen = {}

    async def scenario():
        tasks = [asyncio.create_task(_first(t)) for t in (a, b)]
        await asyncio.sleep(0.3)
        seen["watchers"] = len(ConnectionWatcher._running)
        return await asyncio.gather(*tasks)

    results = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert seen["watchers"] == 2 and [r["status"] for r in results] == ["success", "success"]


def test_the_list_walk_reads_only_the_watched_owners_jobs(ords_conn, fast_hook):
    """The list mirrors DBA_DATAPUMP_JOBS, every user's jobs, ordered by owner. Filtered by name
    alone, a walk also reads another owner's jobs named after ours; past the walk's bound (here
    LIST_MAX_PAGES pages of 2 rows: the server caps the page) our jobs fall off its end and would
    be read one by one every round. The owner in ``q`` keeps each walk to our own rows."""
    import httpx

    from airflow_provider_datapump.hooks.ords.flows import LIST_MAX_PAGES

    emu = ords_conn
    jobs = create_many(fast_hook, emu, EXPORT, 3, duration=2.0)
    with httpx.Client(base_url=emu.url) as client:
        for i in range(2 * LIST_MAX_PAGES + 5):  # APPUSER sorts before DBAPI_USER; ZZ names after ours
            client.post(
                "/_emulator/jobs",
                json={
                    "owner_name": "APPUSER",
                    "job_name": f"ZZ_JOB_{i:03d}",
                    "operation": "EXPORT",
                    "job_mode": "SCHEMA",
                    "state": "EXECUTING",
                },
            ).raise_for_status()
    emu.set_scenario(list_max_limit=2)
    emu.clear_requests()
    results = _run_all([_trigger(j) for j in jobs])
    assert {p["status"] for p in results.values()} == {"success"}
    lists, details, _ = _counts(emu, jobs)
    queries = [r["query"] for r in emu.requests() if r["path"].endswith("/datapump/jobs/")]
    walks = sum("offset=" not in q for q in queries)
    assert max(details.values()) <= 3, details  # not one detail per round
    assert lists <= 2 * walks, (lists, walks)  # 3 jobs: two pages of 2 rows, never the other owner's 45
    assert queries and all("owner_name" in q for q in queries), queries[:3]


def test_a_cancelled_watcher_cancels_its_waits_instead_of_failing_them(ords_conn, fast_hook):
    """A triggerer that stops cancels every task in its loop, the watcher's too. Its waits must end
    cancelled (Airflow hands them to the next triggerer), never as error events that fail their tasks."""
    jobs = create_many(fast_hook, ords_conn, EXPORT, 2, duration=30)
    triggers = [_trigger(j) for j in jobs]

    async def scenario():
        tasks = [asyncio.create_task(_first(t)) for t in triggers]
        await asyncio.sleep(0.5)
        (watcher,) = ConnectionWatcher._running.values()
        watcher.task.cancel()
        return await asyncio.gather(*tasks, return_exceptions=True)

    results = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert all(isinstance(r, asyncio.CancelledError) for r in results), results
    assert ConnectionWatcher._running == {}


# ---------------------------------------------------------------- the rule of rounds (issue 19)

LIST_PATH = r"/datapump/jobs/$"


def _walk_times(emu) -> list[float]:
    """Arrival times of the list walks (a walk's first page carries no offset)."""
    return sorted(
        r["timestamp"]
        for r in emu.requests()
        if r["path"].endswith("/datapump/jobs/") and "offset=" not in r["query"]
    )


def test_one_walk_per_interval_even_when_a_walk_is_slow(ords_conn, fast_hook):
    """A walk starts early by the last walk's duration, but the members' next looks count from the
    list's answer: the early start shifts the walks, it does not shorten their cadence. With walks
    of 0.25 s every 0.5 s, a cadence shortened by each walk would walk twice as often."""
    emu = ords_conn
    jobs = create_many(fast_hook, emu, EXPORT, 12, duration=60)
    emu.add_fault(kind="delay", seconds=0.25, method="GET", path=LIST_PATH)
    triggers = [_trigger(j, poll_interval=0.5, max_poll_interval=0.5) for j in jobs]
    seen: dict[str, float] = {}

    async def scenario():
        tasks = [asyncio.create_task(_first(t)) for t in triggers]
        await asyncio.sleep(1.5)  # first sight and one walk
        emu.clear_requests()
        seen["start"] = time.time()
        await asyncio.sleep(4.0)
        seen["end"] = time.time()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(asyncio.wait_for(scenario(), 60))
    walks = [t for t in _walk_times(emu) if seen["start"] <= t <= seen["end"]]
    # 4 s at one walk per 0.5 s is 8; 0.25 s shaved off each would be 16.
    assert 4 <= len(walks) <= 9, walks
    gaps = [b - a for a, b in zip(walks, walks[1:])]
    assert min(gaps) >= 0.35, gaps


def test_every_walk_judges_every_member_so_a_long_interval_is_noticed_at_the_next_walk(ords_conn, fast_hook):
    """A job whose own interval is 20 s shares a watcher with jobs polled every 0.4 s: the list is
    walked anyway, so its end is noticed at the next walk, not when its own interval comes round."""
    emu = ords_conn
    jobs = create_many(fast_hook, emu, EXPORT, 4, duration=60)
    slow = _trigger(jobs[0], poll_interval=20, max_poll_interval=20)
    fast = [_trigger(j, poll_interval=0.4, max_poll_interval=0.4) for j in jobs[1:]]
    out: dict[str, float] = {}

    async def scenario():
        tasks = [asyncio.create_task(_first(t)) for t in fast]
        slow_task = asyncio.create_task(_first(slow))
        await asyncio.sleep(1.5)
        out["sent"] = time.time()
        emu.patch_job(jobs[0].owner_name, jobs[0].job_name, finish_now=True)
        payload = await slow_task
        out["noticed"] = time.time()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return payload

    payload = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert payload["status"] == "success" and payload["job"]["job_name"] == jobs[0].job_name
    assert out["noticed"] - out["sent"] < 3.0, out  # one walk (0.4 s) and a detail, not 20 s


def test_first_sight_of_many_jobs_comes_from_one_walk_not_a_detail_each(ords_conn, fast_hook):
    """Triggers that join together are judged from the list when it shows their jobs running: a
    thousand jobs after a triggerer restart cost one walk, not a thousand details read in turn."""
    emu = ords_conn
    jobs = create_many(fast_hook, emu, EXPORT, 20, duration=60)
    emu.clear_requests()
    triggers = [_trigger(j, poll_interval=5, max_poll_interval=5) for j in jobs]
    judged: dict[str, int] = {}

    async def scenario():
        tasks = [asyncio.create_task(_first(t)) for t in triggers]
        await asyncio.sleep(1.0)
        (watcher,) = ConnectionWatcher._running.values()
        judged["seen"] = sum(m.judged_state is not None for m in watcher.members)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(asyncio.wait_for(scenario(), 60))
    _, details, _ = _counts(emu, jobs)
    assert judged["seen"] == len(jobs)
    assert sum(details.values()) <= DETAILS_IN_FLIGHT, details  # at most the first few, before the crowd
    assert len(_walk_times(emu)) == 1


def test_details_are_read_a_few_at_a_time(ords_conn, fast_hook):
    """When the list cannot be read (here ORDS refuses it, with or without q), each job's detail is
    read instead: DETAILS_IN_FLIGHT at a time, neither one after another nor all at once."""
    emu = ords_conn
    n = 24
    jobs = create_many(fast_hook, emu, EXPORT, n, duration=60)
    emu.add_fault(kind="status", status=400, method="GET", path=LIST_PATH)
    emu.add_fault(kind="delay", seconds=0.3, method="GET", path=r",[A-Z0-9_]+/$")
    triggers = [_trigger(j, poll_interval=30, max_poll_interval=30) for j in jobs]
    out: dict[str, float] = {}

    async def scenario():
        tasks = [asyncio.create_task(_first(t)) for t in triggers]
        await asyncio.sleep(0)  # the triggers join
        started = time.time()
        while not ConnectionWatcher._running or not all(
            m.judged_state is not None for w in ConnectionWatcher._running.values() for m in w.members
        ):
            await asyncio.sleep(0.02)
            assert time.time() - started < 30
        out["seconds"] = time.time() - started
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(asyncio.wait_for(scenario(), 60))
    waves = n / DETAILS_IN_FLIGHT
    assert waves * 0.3 * 0.9 <= out["seconds"] < n * 0.3 / 2, out  # 3 waves of 0.3 s; serial would be 7.2 s
