"""DataPumpHook: the one place that talks to ORDS (sync and async), and runs SQL (``hooks/sql/``).

The hook is a facade over ``hooks/ords/``: each operation is a *flow* (``ords.flows``,
``ords.identity``), a generator that yields requests, downloads and sleeps and receives their
results. A sync driver and an async driver (``ords.transport``) run the same flow, so the two
twins cannot drift apart, and every request leaves through that one transport seam, under one
attempt state machine (``ords.attempts``). The outcome classifier lives in
:mod:`airflow_provider_datapump.jobs`; ``resolve`` is the only code that feeds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_datapump.exceptions import (
    DataPumpJobError,
    DataPumpOracleNotConfiguredError,
    DataPumpSqlUnavailableError,
)
from airflow_provider_datapump.hooks.ords import flows, identity
from airflow_provider_datapump.hooks.ords.description import CACHE as DESCRIPTIONS
from airflow_provider_datapump.hooks.ords.description import (
    Described,
    OrdsDescription,
    describe_flow,
    plan_create,
)
from airflow_provider_datapump.hooks.ords.flows import JobPage
from airflow_provider_datapump.hooks.ords.identity import (
    LIST_MAX_PAGES,
    LIST_PAGE_SIZE,
    NAME_CLASH_SECONDS,
    CreateContext,
    dump_set_evidence,
    unique_dump_template,
)
from airflow_provider_datapump.hooks.ords.instructions import Flow, Sink
from airflow_provider_datapump.hooks.ords.policy import LinkPolicy, RetryPolicy, check_file_name
from airflow_provider_datapump.hooks.ords.refs import JobRef, locate
from airflow_provider_datapump.hooks.ords.settings import OrdsSettings
from airflow_provider_datapump.hooks.ords.transport import AsyncClientPool as _AsyncClientPool
from airflow_provider_datapump.hooks.ords.transport import (
    AsyncTransport,
    SharedAsyncClient,
    Transport,
    arun,
    run,
)
from airflow_provider_datapump.hooks.sql import operations as sql_ops
from airflow_provider_datapump.jobs import DataPumpJob, JobResult, Outcome, classify, parse_log
from airflow_provider_datapump.payloads import validate_payload

if TYPE_CHECKING:
    from airflow_provider_datapump.hooks.sql.runners import RestSqlRunner, SqlRunner
    from airflow_provider_datapump.polling import Finish, JobWait

__all__ = [
    "LIST_MAX_PAGES",
    "LIST_PAGE_SIZE",
    "NAME_CLASH_SECONDS",
    "DataPumpHook",
    "JobPage",
    "JobRef",
    "LinkPolicy",
    "OrdsSettings",
    "RetryPolicy",
    "check_file_name",
    "dump_set_evidence",
    "unique_dump_template",
]

T = TypeVar("T")


class DataPumpHook(BaseHook):
    """ORDS Database API client for Data Pump jobs, plus an optional Oracle connection.

    :param ords_conn_id: Airflow connection of type ``ords``.
    :param oracle_conn_id: optional Oracle connection for what only SQL can do (stop a job,
        progress, reading a log ORDS does not link, dropping control tables and users). Without
        it that SQL goes through the ORDS connection's REST-Enabled SQL (``hook.sql``).
    :param retry_attempts: attempts per idempotent call, including the first.
    :param retry_backoff: base of the exponential backoff, in seconds.
    :param retry_max_backoff: the longest wait between two attempts, in seconds.
    :param timeout: seconds per request; overrides the connection's ``timeout`` extra.
    :param identity_settle: after a create whose answer was lost, how many seconds (beyond the
        grace window) the hook waits for the evidence that tells which new job is ours.
    """

    conn_name_attr = "ords_conn_id"
    default_conn_name = "ords_default"
    conn_type = "ords"
    hook_name = "Oracle Data Pump (ORDS)"

    def __init__(
        self,
        ords_conn_id: str = default_conn_name,
        oracle_conn_id: str | None = None,
        *,
        retry_attempts: int = 5,
        retry_backoff: float = 1.0,
        retry_max_backoff: float = 30.0,
        timeout: float | None = None,
        identity_settle: float = 60.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.identity_settle = max(0.0, float(identity_settle))
        # The one-off dump name the last create_job gave an export (None: the caller named it).
        self.last_one_off_name: str | None = None
        self.ords_conn_id = ords_conn_id
        self.oracle_conn_id = oracle_conn_id
        self.retry = RetryPolicy(
            attempts=max(1, int(retry_attempts)), backoff=retry_backoff, max_backoff=retry_max_backoff
        )
        self.timeout_override = timeout
        self._async_settings: OrdsSettings | None = None
        self._async_links: LinkPolicy | None = None
        self._warned_tls_off = False
        self._said_what_decides = False

    # ---------------------------------------------------------------------------- settings

    def _finish_settings(self, settings: OrdsSettings) -> OrdsSettings:
        if self.timeout_override:
            settings = OrdsSettings(**{**settings.__dict__, "timeout": float(self.timeout_override)})
        if settings.verify is False and not self._warned_tls_off:
            self._warned_tls_off = True  # once per hook, whether it is used sync, async or both
            self.log.warning(
                "TLS certificate verification is OFF for connection %r: anyone on the network path can "
                "read the credentials sent to %s. Point the 'verify' extra at a CA bundle instead.",
                settings.conn_id,
                settings.base_url,
            )
        return settings

    @cached_property
    def settings(self) -> OrdsSettings:
        if self._async_settings is not None:
            # Read already in the event loop: the SQL a trigger runs on a thread (stop on kill,
            # progress, a keep_master=0 log) then needs no sync connection lookup in the triggerer.
            return self._async_settings
        return self._finish_settings(OrdsSettings.from_connection(self.get_connection(self.ords_conn_id)))

    async def asettings(self) -> OrdsSettings:
        if self._async_settings is None:
            from airflow.providers.common.compat.connection import (
                get_async_connection,
                get_async_extra_dejson,
            )

            conn = await get_async_connection(self.ords_conn_id, hook=self)
            extras = await get_async_extra_dejson(conn)
            self._async_settings = self._finish_settings(OrdsSettings.from_connection(conn, extras))
        return self._async_settings

    @cached_property
    def links(self) -> LinkPolicy:
        return LinkPolicy(self.settings, self.log)

    async def _alinks(self) -> LinkPolicy:
        # Kept for the hook's lifetime like ``links``: a trigger polling a job with a foreign
        # self link warns once, not on every poll.
        if self._async_links is None:
            self._async_links = LinkPolicy(await self.asettings(), self.log)
        return self._async_links

    # ---------------------------------------------------------------------------- transport

    @cached_property
    def transport(self) -> Transport:
        """The sync seam: one httpx client for the hook's lifetime, and the fast file path."""
        return Transport(self.settings, self.retry, self.log, _mask)

    @property
    def client(self) -> httpx.Client:
        return self.transport.client

    def close(self) -> None:
        if "transport" in self.__dict__:
            self.transport.close()

    @contextlib.asynccontextmanager
    async def async_client(self) -> AsyncIterator[SharedAsyncClient]:
        """A pooled async client shared by every hook for the same connection on this event loop;
        reference-counted, so a cancelled trigger never closes the client the others still use."""
        settings = await self.asettings()
        shared = _AsyncClientPool.acquire(settings, _amask)
        try:
            yield shared
        finally:
            await _AsyncClientPool.release(shared)

    def _run(self, flow: Flow[T]) -> T:
        return run(flow, self.transport)

    async def _arun(self, flow: Flow[T], client: httpx.AsyncClient | None = None) -> T:
        if client is None:
            async with self.async_client() as shared:
                return await arun(flow, AsyncTransport(shared.client, self.retry, self.log))
        return await arun(flow, AsyncTransport(client, self.retry, self.log))

    def _create_context(self, links: LinkPolicy) -> CreateContext:
        return CreateContext(links, self.retry, self.log, self.identity_settle)

    def locate(self, job: JobRef, links: LinkPolicy | None = None) -> tuple[str, str, str]:
        """(owner, job_name, url) for any job reference, with the link policy applied."""
        return locate(job, links or self.links)

    # ---------------------------------------------------------------------------- public API (sync)

    def create_job(self, payload: Mapping[str, Any], endpoint: str | None = None) -> DataPumpJob:
        """Submit a validated payload (``operation`` included).

        ``endpoint`` None posts to the operation's own endpoint (``export`` or ``import``), which
        every ORDS version documents; ``"jobs"`` posts to ``jobs/``, documented up to ORDS 24.4. A key
        the endpoint does not document is refused before anything is sent.

        An export without ``file_name`` gets a one-off dump name (``EXPDAT%U-<UTC time>-<random>.DMP``).
        The POST is never retried blindly: after an ambiguous failure the new jobs in the job list
        are examined, and one is adopted only when the evidence proves it ours (its dump set has
        the one-off name, or what it processed matches the request). When that cannot be told yet,
        DataPumpAmbiguousJobError names the candidates, and ``settle_create`` decides later.
        """
        validate_payload(payload)  # an invalid body is refused before any request, the description's too
        found = self.describe()
        return self._run(self._create(self.links, payload, endpoint, self._described(found)))

    def describe(self, *, fresh: bool = False) -> Described:
        """The server's description of itself (``hooks/ords/description.py``), read at most once per
        connection and worker within ``DESCRIPTION_TTL`` (kept in the process, and in a file that
        the worker's other task processes read); ``fresh`` reads it again. Never raises: a server
        that describes nothing gives ``Described(None, reason)``."""
        settings = self.settings
        if settings.ords_version:
            return Described(None, overridden=settings.ords_version)
        with DESCRIPTIONS.lock(settings):
            found = None if fresh else DESCRIPTIONS.get(settings)
            if found is None:
                found = self._run(describe_flow(self.links, self.log))
                DESCRIPTIONS.put(settings, found)
        return found

    async def adescribe(self, *, fresh: bool = False) -> Described:
        settings = await self.asettings()
        if settings.ords_version:
            return Described(None, overridden=settings.ords_version)
        found = None if fresh else DESCRIPTIONS.get(settings)
        if found is None:
            found = await self._arun(describe_flow(await self._alinks(), self.log))
            DESCRIPTIONS.put(settings, found)
        return found

    def plan_create(
        self, payload: Mapping[str, Any], endpoint: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """(endpoint, body) a create of ``payload`` would send, by the server's description, or the
        table when it gave none (or the connection's ``ords_version`` overrides it). Sends no create:
        a task asks this before anything it does for the job (an import's schema drops).

        :raises DataPumpValidationError: a key the server does not take, naming it and its release.
        """
        validate_payload(payload)
        description = self._described(self.describe())
        body, _ = identity.prepare_create(payload, self.links, description, endpoint)
        return plan_create(body, endpoint, ords_version=self.settings.ords_version, description=description)

    def _described(self, found: Described) -> OrdsDescription | None:
        """The description a create follows; without one, one line (once per hook) says what applies instead."""
        if self._said_what_decides:
            return found.description
        self._said_what_decides = True
        if found.overridden:
            self.log.info(
                "The connection's ords_version %s decides the create endpoint and keys (the provider's table "
                "for that release); the server's own description is not read",
                found.overridden,
            )
        elif found.description is None:
            self.log.info(
                "ORDS gave no description of itself (%s): the provider's table of what ORDS documents "
                "for 19c to 26.3 decides the create endpoint and keys",
                found.reason,
            )
        return found.description

    def settle_create(self, pending: Mapping[str, Any]) -> DataPumpJob | None:
        """Decide a create that DataPumpAmbiguousJobError left open: the job that is ours, or None
        when every candidate has proven another submission's (nothing of ours was created).
        Raises DataPumpAmbiguousJobError again while the evidence is still open."""
        return self._run(identity.settle_flow(self._create_context(self.links), pending))

    def get_job(self, job: JobRef) -> DataPumpJob:
        return self._run(flows.get_flow(self.links, job))

    def list_jobs(
        self, limit: int | None = None, offset: int | None = None, q: Mapping[str, Any] | None = None
    ) -> JobPage:
        """One page of the job list (every owner's jobs, as DBA_DATAPUMP_JOBS). ``q`` is an ORDS
        filter object, e.g. ``{"job_name": {"$like": "DATAPUMP_REST_EXPORT_%"}}``; ``offset`` is
        not documented by Oracle for this endpoint (follow ``JobPage.next_href`` instead)."""
        return self._run(flows.list_flow(self.links, limit, offset, q=q))

    def job_snapshot(self, jobs: Iterable[str]) -> dict[str, DataPumpJob]:
        """The listed state of the jobs ``"OWNER,JOB_NAME"``, by that ident, from one bounded walk
        of the job list per owner, filtered by owner and name; a job missing from the answer is
        missing from the list."""
        return self._run(flows.snapshot_flow(self.links, self.log, jobs))

    def get_file_text(self, job: JobRef, file_name: str) -> str:
        """A job's text file (its log), decoded; use stream_file for dumps."""
        return self._run(flows.text_flow(self.links, job, file_name))

    def resolve(self, job: JobRef, **extras: Any) -> JobResult:
        """The job's current verdict: running, or how it ended (reading its logs when it ended).

        ``extras``: ``request`` (the body as sent: the result then says what the log shows ran
        against it, in ``selection``), ``datapump_dir`` and ``file_name`` (carried into the result),
        ``log_file`` (the job's own log: with ``keep_master=0`` a successful job leaves ORDS, and
        its verdict is then read from that log through the hook's SQL).
        """
        return self._after_vanished(self._run(flows.resolve_flow(self.links, job, extras)), extras)

    def stream_file(self, job: JobRef, file_name: str, sink: Sink) -> int:
        """Write a job file to a binary file object and return its size in bytes.

        ``sink`` is a file object, or a callable that opens a fresh one for each attempt. A broken
        transfer restarts from zero: on a seekable sink after truncating it, on a factory with a
        fresh file; a non-seekable file object cannot be restarted and the error is raised.
        The size is checked against ``Content-Length``; a sink with an ``announce(length)`` method
        is told that length before the body is read (and may refuse it by raising).
        """
        return self._run(flows.download_flow(self.links, job, file_name, sink))

    def wait_for_job(
        self,
        job: JobRef,
        *,
        poll_interval: float = 10.0,
        max_poll_interval: float | None = None,
        timeout: float | None = None,
        **extras: Any,
    ) -> JobResult:
        """Poll ``job`` until it ends and return its final result (``result.verdict`` says how).

        The interval grows from ``poll_interval`` with the job's age, up to ``max_poll_interval``
        (``polling.MAX_POLL_INTERVAL`` when None; equal to ``poll_interval`` it pins the interval).
        ORDS answering 429/5xx or not at all is ridden out for ``polling.OUTAGE_TOLERANCE`` seconds.
        Judging the result is the caller's: ``jobs.accepts(result.verdict, ...)`` is the rule the
        operators apply. ``extras`` are ``resolve``'s.

        :raises DataPumpJobError: ``timeout`` seconds passed with the job still running.
        """
        from airflow_provider_datapump.hooks.waits import wait_job

        wait = self._job_wait(job, poll_interval, max_poll_interval, timeout)
        return self._finished(wait_job(self, job, wait, extras), job)

    async def await_for_job(
        self,
        job: JobRef,
        *,
        poll_interval: float = 10.0,
        max_poll_interval: float | None = None,
        timeout: float | None = None,
        **extras: Any,
    ) -> JobResult:
        """``wait_for_job`` in an event loop."""
        from airflow_provider_datapump.hooks.waits import await_job

        wait = self._job_wait(job, poll_interval, max_poll_interval, timeout)
        return self._finished(await await_job(self, job, wait, extras), job)

    def _job_wait(
        self, job: JobRef, poll_interval: float, max_poll_interval: float | None, timeout: float | None
    ) -> JobWait:
        from airflow_provider_datapump.polling import JobWait

        owner, name, _ = self.locate(job)
        submitted = job.get("submitted_at") if isinstance(job, Mapping) else None
        deadline = time.time() + timeout if timeout is not None else None
        return JobWait(
            f"{owner},{name}",
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            started_at=submitted if isinstance(submitted, (int, float)) else None,
            deadline=deadline,
            log=self.log,
        )

    @staticmethod
    def _finished(finish: Finish, job: JobRef) -> JobResult:
        if finish.result is None:
            raise DataPumpJobError(finish.message, job if isinstance(job, Mapping) else None)
        return finish.result

    # ---------------------------------------------------------------------------- public API (async)

    async def acreate_job(self, payload: Mapping[str, Any], endpoint: str | None = None) -> DataPumpJob:
        validate_payload(payload)
        found = await self.adescribe()
        return await self._arun(self._create(await self._alinks(), payload, endpoint, self._described(found)))

    async def asettle_create(self, pending: Mapping[str, Any]) -> DataPumpJob | None:
        return await self._arun(identity.settle_flow(self._create_context(await self._alinks()), pending))

    async def aget_job(self, job: JobRef) -> DataPumpJob:
        return await self._arun(flows.get_flow(await self._alinks(), job))

    async def alist_jobs(
        self, limit: int | None = None, offset: int | None = None, q: Mapping[str, Any] | None = None
    ) -> JobPage:
        return await self._arun(flows.list_flow(await self._alinks(), limit, offset, q=q))

    async def ajob_snapshot(
        self, jobs: Iterable[str], client: httpx.AsyncClient | None = None
    ) -> dict[str, DataPumpJob]:
        return await self._arun(flows.snapshot_flow(await self._alinks(), self.log, jobs), client)

    async def aget_file_text(self, job: JobRef, file_name: str) -> str:
        return await self._arun(flows.text_flow(await self._alinks(), job, file_name))

    async def aresolve(
        self, job: JobRef, client: httpx.AsyncClient | None = None, **extras: Any
    ) -> JobResult:
        result = await self._arun(flows.resolve_flow(await self._alinks(), job, extras), client)
        if result.verdict.outcome is Outcome.VANISHED:
            # SQL is blocking (either transport): off the event loop, as the trigger's stop-on-kill is.
            result = await asyncio.to_thread(self._after_vanished, result, extras)
        return result

    async def astream_file(self, job: JobRef, file_name: str, sink: Sink) -> int:
        return await self._arun(flows.download_flow(await self._alinks(), job, file_name, sink))

    def _create(
        self,
        links: LinkPolicy,
        payload: Mapping[str, Any],
        endpoint: str | None,
        description: OrdsDescription | None = None,
    ) -> Flow[DataPumpJob]:
        body, one_off = identity.prepare_create(payload, links, description, endpoint)
        # The caller stores it with the job's identity, so a reattach can check it too.
        self.last_one_off_name = one_off
        return identity.create_flow(
            self._create_context(links),
            body,
            endpoint,
            generated=one_off is not None,
            description=description,
        )

    def _after_vanished(self, result: JobResult, extras: Mapping[str, Any]) -> JobResult:
        """keep_master=0: a job that succeeded drops its control table, and ORDS forgets it (404).
        Its log stays in the directory; SQL can read it (BFILE) when ORDS no longer can: through
        ``oracle_conn_id``, or REST-Enabled SQL. Without either the verdict stays VANISHED, and the
        log says why."""
        raw = extras.get("request")
        request: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        log_name = extras.get("log_file")
        if (
            result.verdict.outcome is not Outcome.VANISHED
            or request.get("keep_master") != 0
            or not isinstance(log_name, str)
        ):
            return result
        directory = request.get("datapump_dir") or "DATA_PUMP_DIR"
        try:
            text = self.read_log(directory, log_name)
        except DataPumpOracleNotConfiguredError as err:
            self.log.warning(
                "Job %s left ORDS (keep_master=0) and its log cannot be read: %s", result.job.ident, err
            )
            return result
        summary = parse_log(text)
        if summary.final is None:
            return result
        self.log.info(
            "Job %s left ORDS (keep_master=0); its log %s, read through SQL, says: %s",
            result.job.ident,
            log_name,
            summary.final.line,
        )
        return flows.build_result(
            result.job, classify(None, summary), result.self_url, summary, extras, log_file=log_name
        )

    # ---------------------------------------------------------------------------- connection test

    def test_connection(self) -> tuple[bool, str]:
        """List one job, and run ``SELECT 1 FROM dual`` through the hook's SQL; never raises.

        Without ``oracle_conn_id`` the SQL goes through REST-Enabled SQL; an ORDS that does not offer
        it still passes (the Database API works), with a sentence saying what then needs SQL.
        """
        try:
            page = self.list_jobs(limit=1)
            message = f"ORDS Data Pump API reachable at {self.settings.base_url} ({page.count} job(s) on the first page)"
            # Read even when ords_version overrides it: the button says what the server offers.
            found = self._run(describe_flow(self.links, self.log))
            if not self.settings.ords_version:
                DESCRIPTIONS.put(self.settings, found)
            if found.description is not None:
                message += f"; {found.description.summary()}"
                if self.settings.ords_version:
                    message += f" (the connection's ords_version {self.settings.ords_version} overrides it)"
            else:
                message += (
                    f"; ORDS gave no description of itself ({found.reason}), so the provider's table of "
                    "ORDS 19c to 26.3 applies"
                )
            try:
                sql_ops.ping(self.sql)
            except DataPumpSqlUnavailableError as err:
                return True, (
                    f"{message}; {err} (stopping a job on kill, progress, keep_master=0 and "
                    "drop_job_when_done need SQL)"
                )
            if self.oracle_conn_id:
                message += f"; Oracle connection {self.oracle_conn_id!r} answered"
            else:
                message += "; REST-Enabled SQL answered"
            return True, message
        except Exception as err:  # the UI wants an answer, not a traceback
            return False, f"{type(err).__name__}: {err}"

    # ---------------------------------------------------------------------------- the Oracle side

    @cached_property
    def oracle_hook(self) -> Any:
        if not self.oracle_conn_id:
            raise DataPumpOracleNotConfiguredError(
                "no oracle_conn_id is set: SQL goes through REST-Enabled SQL"
            )
        from airflow.providers.oracle.hooks.oracle import OracleHook

        return OracleHook(oracle_conn_id=self.oracle_conn_id)

    @property
    def sql(self) -> SqlRunner:
        """Where the hook's SQL runs: oracledb through ``oracle_conn_id`` when it is set, otherwise
        the ORDS connection's REST-Enabled SQL (``POST <base_url>/_/sql``) through this hook's transport."""
        if self.oracle_conn_id:
            from airflow_provider_datapump.hooks.sql.runners import OracleDbRunner

            return OracleDbRunner(self.oracle_hook, self.log)
        return self._rest_sql

    @cached_property
    def _rest_sql(self) -> RestSqlRunner:
        # Kept for the hook's lifetime: it remembers an ORDS that said it offers no REST-Enabled SQL.
        from airflow_provider_datapump.hooks.sql.runners import RestSqlRunner

        return RestSqlRunner(self.settings, self._run, self.log)

    @property
    def progress_available(self) -> bool:
        """Whether asking for progress may still answer: always with ``oracle_conn_id``; over
        REST-Enabled SQL until the ORDS once said it offers none (progress is a courtesy, so the
        hook then stops asking for its lifetime)."""
        if self.oracle_conn_id:
            return True
        return getattr(self.__dict__.get("_rest_sql"), "unavailable", None) is None

    def stop_job(self, owner: str, job: str, *, immediate: bool = True, keep_master: bool = False) -> bool:
        """Stop a Data Pump job with DBMS_DATAPUMP (ATTACH and STOP_JOB in one block; ORDS has no
        endpoint for it); False when there was nothing to stop (ORA-31626 gone, ORA-39004 not running)."""
        return sql_ops.stop_job(self.sql, owner, job, immediate=immediate, keep_master=keep_master)

    def job_progress(self, owner: str, job: str) -> float | None:
        """Percent done from V$SESSION_LONGOPS; None when Oracle has no figure for the job, or when
        this hook already learnt that REST-Enabled SQL is off (it then sends nothing)."""
        if not self.progress_available:
            return None
        return sql_ops.job_progress(self.sql, owner, job)

    def read_log(self, directory: str, file_name: str) -> str:
        """Read a text file from a directory object (``TO_CLOB(BFILENAME(...))``), for a log ORDS no
        longer links."""
        return sql_ops.read_log(self.sql, directory, file_name)

    def drop_job(self, owner: str, job: str) -> bool:
        """Drop a finished job's control table (ORDS cannot); False if not finished or gone.

        ORDS serves a job's files only while the job exists: drop it after they were read."""
        return sql_ops.drop_job(self.sql, owner, job)

    def drop_orphaned_jobs(
        self, owner: str, older_than: Any, name_prefix: str = "DATAPUMP_REST_", dry_run: bool = True
    ) -> list[str]:
        """Drop the control tables of this owner's Data Pump jobs that are not running."""
        return sql_ops.drop_orphaned_jobs(
            self.sql, owner, older_than, name_prefix=name_prefix, dry_run=dry_run
        )

    def database_identity(self) -> dict[str, Any]:
        """``{"db_unique_name", "con_name", "session_user"}`` of the database the hook's SQL reaches."""
        return sql_ops.database_identity(self.sql)

    def user_info(self, name: str) -> dict[str, Any] | None:
        """``{"username", "oracle_maintained": bool}`` for a database user, or None when it does not exist."""
        return sql_ops.user_info(self.sql, name)

    def user_object_count(self, name: str) -> int:
        """How many objects the user owns (DBA_OBJECTS); 0 for an empty or absent user."""
        return sql_ops.user_object_count(self.sql, name)

    def drop_user(self, name: str) -> bool:
        """``DROP USER name CASCADE``; False when there is no such user (ORA-01918). The name is
        checked against a strict pattern, sent as a bind and quoted by ``DBMS_ASSERT.ENQUOTE_NAME``.

        :raises DataPumpSqlError: any other refusal, e.g. ORA-01940 while a session of it is connected.
        """
        return sql_ops.drop_user(self.sql, name)

    def running_jobs(self) -> list[dict[str, Any]]:
        """Data Pump jobs not in state NOT RUNNING: ``owner_name, job_name, operation, job_mode, state``."""
        return sql_ops.running_jobs(self.sql)


def _mask(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


async def _amask(secret: str) -> None:
    from airflow_provider_datapump._compat import amask_secret

    await amask_secret(secret)
