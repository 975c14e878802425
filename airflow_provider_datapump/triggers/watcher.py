"""One poll per connection: the triggers of one ORDS connection in one triggerer share a watcher.

Without it every deferred wait sends its own GET each interval: a mapped export of 1,000 schemas
asks one ORDS 1,000 times per interval, from the small pool of database sessions ORDS serves with,
on the database whose export is running. The watcher asks once per round with a bounded walk of the
job list, filtered by name, and reads a job's detail (and, once it ended, its log) only when the
list shows its state changed or the job is missing from it.

Each trigger keeps its own ``polling.JobWait``: its interval, deadline, outage tolerance and verdict
are the same as when it polls alone, and it yields exactly its own event. The watcher holds nothing
a trigger cannot rebuild from its serialized arguments: after a triggerer restart the triggers join
a new watcher, whose first walk judges each job once.

The rule of rounds. Listing is the cost, not the member count, so a walk looks at every member:

* A member is due its wait's delay after the answer that last judged it (``due``). The watcher walks
  the list when its earliest member is due, started early by how long the last walk took (at most
  a quarter of the interval, so that a slow server is not sent walk after walk), so that the list
  answers when that member is due. A walk judges every member, so afterwards every member is due
  one delay from that answer, and the next walk comes one shortest delay later: one walk per
  interval, and no member's end is seen later than its own interval (plus the detail read).
* In a walk, a member whose listed state is the one last judged is stepped from its row (deadline,
  outage, log lines; the Oracle percent done only once its own interval has passed); a member
  whose state changed, or who is missing from the list, has its detail read.
* A member seen for the first time is judged from its row when the list shows it running; its
  detail is read when it is not listed or already ended. Members that join between walks are read
  at once: by their details when they are few (at most DETAILS_IN_FLIGHT), else by a walk.
* Details are read DETAILS_IN_FLIGHT at a time, never one after another for a thousand jobs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_datapump.exceptions import DataPumpError, DataPumpHTTPError

if TYPE_CHECKING:
    from airflow_provider_datapump.hooks.datapump import DataPumpHook
    from airflow_provider_datapump.jobs import DataPumpJob, JobResult
    from airflow_provider_datapump.polling import Finish, JobWait

__all__ = ["ConnectionWatcher"]


# Details read at once by one watcher: a burst of first sights or ends is not read one after
# another, and ORDS's small session pool is not flooded either.
DETAILS_IN_FLIGHT = 8


@dataclass(eq=False)
class _Member:
    """One trigger's job in a watcher."""

    job: dict[str, Any]
    wait: JobWait
    extras: dict[str, Any]
    done: asyncio.Future[Finish]
    due: float = 0.0  # when the member wants its next look: its wait's delay after the last one
    delay: float = 0.0  # that delay
    progress_due: float = 0.0  # when the Oracle percent done may be read again (its own interval)
    judged_state: str | None = None  # the job's state when it was last judged
    self_url: str | None = None
    ident: str = field(init=False)

    def __post_init__(self) -> None:
        self.ident = f"{self.job.get('owner_name')},{self.job.get('job_name')}"

    @property
    def seen(self) -> bool:
        return self.judged_state is not None


class ConnectionWatcher:
    """The shared poll of one connection (``ords_conn_id`` and hook parameters) in one event loop.

    Use :meth:`watch`; a watcher starts with its first trigger and ends with its last.
    """

    _running: ClassVar[dict[tuple[int, str], ConnectionWatcher]] = {}

    def __init__(self, key: tuple[int, str], hook: DataPumpHook) -> None:
        self.key = key
        self.hook = hook
        self.members: list[_Member] = []
        self.joined = asyncio.Event()
        self.rounds = 0  # walks of the job list
        # How long the last walk took: the next walk starts this much before its member is due.
        self.walk_seconds = 0.0
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def watch(
        cls,
        hook_key: str,
        make_hook: Any,
        job: Mapping[str, Any],
        wait: JobWait,
        extras: Mapping[str, Any] | None = None,
    ) -> Finish:
        """Wait for ``job`` through the watcher of ``hook_key`` in this loop; return the job's finish.

        :param hook_key: what makes two triggers share a watcher (their connection and hook parameters).
        :param make_hook: builds the watcher's hook when this call starts a new watcher.
        """
        loop = asyncio.get_running_loop()
        key = (id(loop), hook_key)
        watcher = cls._running.get(key)
        if watcher is None or watcher.task is None or watcher.task.done():
            watcher = cls._running[key] = cls(key, make_hook())
            watcher.task = loop.create_task(watcher._run(), name=f"datapump-watcher-{hook_key}")
        member = _Member(job=dict(job), wait=wait, extras=dict(extras or {}), done=loop.create_future())
        watcher.members.append(member)
        watcher.joined.set()
        try:
            return await member.done
        finally:
            # A cancelled trigger (the task was killed, or moved to another triggerer) leaves at once.
            if member in watcher.members:
                watcher.members.remove(member)
            if not member.done.done():
                member.done.cancel()

    async def _run(self) -> None:
        try:
            async with self.hook.async_client() as shared:
                while self.members:
                    await self._sleep_until_due()
                    await self._round(shared.client)
        except Exception as err:  # every waiting trigger hears of it: none is left waiting forever
            for member in list(self.members):
                if not member.done.done():
                    member.done.set_exception(err)
        except BaseException:
            # Cancelled (the triggerer is stopping): the waits are cancelled too, never turned into
            # error events that would fail their tasks; the next triggerer picks them up.
            for member in list(self.members):
                member.done.cancel()
            raise
        finally:
            if self._running.get(self.key) is self:
                del self._running[self.key]

    def _starts_at(self, member: _Member) -> float:
        # A seen member is looked at by a walk, which starts early by its duration, but never more
        # than a quarter of the interval: a slow server would otherwise be sent walk after walk,
        # each starting as the last one answers, and get slower still. A newcomer is read at once.
        if not member.seen:
            return member.due
        return member.due - min(self.walk_seconds, member.delay / 4)

    async def _sleep_until_due(self) -> None:
        while self.members:
            now = time.time()
            due = min(self._starts_at(m) for m in self.members)
            if due <= now:
                return
            self.joined.clear()
            try:  # a trigger that joins meanwhile is due at once
                await asyncio.wait_for(self.joined.wait(), timeout=due - now)
            except TimeoutError:
                return

    async def _round(self, client: Any) -> None:
        now = time.time()
        walk = any(m.seen and self._starts_at(m) <= now for m in self.members)
        looked = list(self.members) if walk else [m for m in self.members if not m.seen and m.due <= now]
        for member in looked:
            finish = member.wait.before_poll(now)
            if finish is not None:
                self._finish(member, finish)
        looked = [m for m in looked if not m.done.done()]
        if not looked:
            return
        if not walk and len(looked) <= DETAILS_IN_FLIGHT:  # a few newcomers: their details
            await self._read_details(client, looked)
            return
        self.rounds += 1
        try:
            listed = await self._snapshot(client)
        except DataPumpError as err:
            if isinstance(err, DataPumpHTTPError) and err.transient:
                # ORDS is down or busy: each wait rides it out by its own rules.
                for member in looked:
                    self._failed(member, err)
                return
            self.hook.log.warning(
                "Reading the job list failed (%s); reading each job instead this round", err
            )
            listed = {}
        answered = time.time()
        unchanged: list[tuple[_Member, DataPumpJob]] = []
        unread: list[_Member] = []
        for member in looked:
            job = listed.get(member.ident)
            if job is not None and (
                job.state == member.judged_state or (not member.seen and self._listed_running(job))
            ):
                unchanged.append((member, job))
            else:
                unread.append(member)
        # The changed jobs' details are asked for first: their ends are what the wait is for.
        reading = asyncio.ensure_future(self._read_details(client, unread))
        try:
            for member, job in unchanged:
                member.judged_state = job.state
                await self._step(member, self._unchanged(job, member), answered)
        except BaseException:
            reading.cancel()
            raise
        await reading

    async def _read_details(self, client: Any, members: list[_Member]) -> None:
        """Each member's detail (and its log once ended), DETAILS_IN_FLIGHT at a time."""
        gate = asyncio.Semaphore(DETAILS_IN_FLIGHT)

        async def read(member: _Member) -> None:
            async with gate:
                try:
                    result = await self.hook.aresolve(member.job, client=client, **member.extras)
                except DataPumpHTTPError as err:
                    self._failed(member, err)
                    return
                except Exception as err:
                    self._fail(member, err)
                    return
            member.judged_state = result.job.state
            member.self_url = result.self_url
            await self._step(member, result, time.time())

        if members:
            await asyncio.gather(*(read(m) for m in members))

    @staticmethod
    def _listed_running(job: DataPumpJob) -> bool:
        from airflow_provider_datapump.jobs import classify

        try:
            return classify(job).running
        except Exception:
            return False  # its detail tells what is wrong

    async def _snapshot(self, client: Any) -> dict[str, DataPumpJob]:
        """The listed state of the members' jobs (``hook.ajob_snapshot``: one walk per owner), and
        how long it took, so that the next walk starts that much early."""
        started = time.monotonic()
        try:
            return await self.hook.ajob_snapshot([m.ident for m in self.members], client=client)
        finally:
            self.walk_seconds = time.monotonic() - started

    def _unchanged(self, job: DataPumpJob, member: _Member) -> JobResult | Exception:
        """A job the list shows in the state its detail last had: nothing more to read."""
        from airflow_provider_datapump.jobs import JobResult, classify

        try:
            return JobResult(job=job, verdict=classify(job), self_url=member.self_url or "", files=())
        except Exception as err:
            return err

    async def _step(self, member: _Member, answer: JobResult | Exception, answered: float) -> None:
        from airflow_provider_datapump.polling import Finish

        try:
            if isinstance(answer, Exception):
                raise answer
            step = member.wait.answered(answer, answered)
        except Exception as err:
            self._fail(member, err)
            return
        if isinstance(step, Finish):
            self._finish(member, step)
            return
        member.due, member.delay = answered + step.delay, step.delay
        # Progress only through oracle_conn_id here: over REST-Enabled SQL it would be one more ORDS
        # request per job per round, against the one-request-per-round this watcher exists for.
        # A trigger with share_polls=False reads it over REST-Enabled SQL as a worker's wait does.
        if step.running is not None and self.hook.oracle_conn_id and member.progress_due <= answered:
            from airflow_provider_datapump.hooks.waits import read_progress

            member.progress_due = member.due
            member.wait.progress(
                step.running, await asyncio.to_thread(read_progress, self.hook, step.running, member.wait.log)
            )

    def _failed(self, member: _Member, err: DataPumpHTTPError) -> None:
        now = time.time()
        try:
            step = member.wait.failed(err, now)
        except Exception as raised:
            self._fail(member, raised)
            return
        member.due, member.delay = now + step.delay, step.delay

    def _finish(self, member: _Member, finish: Finish) -> None:
        if not member.done.done():
            member.done.set_result(finish)
        if member in self.members:
            self.members.remove(member)

    def _fail(self, member: _Member, err: BaseException) -> None:
        if not member.done.done():
            member.done.set_exception(err)
        if member in self.members:
            self.members.remove(member)
