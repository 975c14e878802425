"""DataPumpExportOperator and DataPumpImportOperator: submit a validated job, wait, judge, reattach."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import BaseOperator, BaseOperatorLink, ResumableJobMixin, conf

from airflow_provider_datapump._compat import log_version_limits
from airflow_provider_datapump.exceptions import DataPumpAmbiguousJobError, DataPumpValidationError
from airflow_provider_datapump.payloads import (
    PAYLOAD_ARGUMENTS,
    body_for_endpoint,
    build_payload,
    validate_endpoint,
)
from airflow_provider_datapump.triggers.datapump import DataPumpJobTrigger
from airflow_provider_datapump.waiting import JobWaiter

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.sdk.types import TaskInstanceKey

__all__ = ["XCOM_JOB_KEY", "DataPumpExportOperator", "DataPumpImportOperator", "DataPumpJobLink"]

XCOM_JOB_KEY = "datapump_job"


class DataPumpJobLink(BaseOperatorLink):
    """Oracle Database Actions on the ORDS that ran the task's job: a page a person can sign in to.

    Not the job's REST resource: a browser opening it gets a bare credentials prompt and then JSON.
    ORDS documents no page per Data Pump job, so the link opens Database Actions' sign-in page
    (``<context root>/sql-developer``, Oracle's documented entry point); its Data Pump page lists the
    job under the name this task logs. Blank until the job exists, and for a URL it cannot read.
    """

    name = "Database Actions"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.providers.common.compat.sdk import XCom

        job = XCom.get_value(key=XCOM_JOB_KEY, ti_key=ti_key)
        return database_actions_url(job.get("self_url")) if isinstance(job, dict) else ""


def database_actions_url(self_url: Any) -> str:
    """``https://host:port/ords/sql-developer`` for a job URL under ``https://host:port/ords/...``.

    The context root is the path before the database API's ``/_/db-api/`` less the optional
    database name and the schema alias; ORDS deploys at one path segment (``/ords`` by default), so
    the first segment is taken. Anything else (no ``/_/db-api/``, not http(s)) gives "".
    """
    from urllib.parse import urlsplit

    if not isinstance(self_url, str):
        return ""
    parts = urlsplit(self_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or "/_/db-api/" not in parts.path:
        return ""
    prefix = parts.path.split("/_/db-api/", 1)[0].strip("/").split("/")
    # <root>/<alias> or <root>/<db>/<alias>: a bare /<alias> leaves no context root to name.
    if len(prefix) < 2 or not prefix[0]:
        return ""
    return f"{parts.scheme}://{parts.netloc}/{prefix[0]}/sql-developer"


class _DataPumpJobOperator(JobWaiter, ResumableJobMixin, BaseOperator):
    """Shared body of the export and import operators; see their docstrings for the arguments."""

    operation: ClassVar[str]
    external_id_key = XCOM_JOB_KEY
    template_fields: Sequence[str] = (
        "ords_conn_id",
        "oracle_conn_id",
        *PAYLOAD_ARGUMENTS,
        "from_job",
        # Not an argument: the body ORDS will receive, filled in after rendering (see below) so that
        # the UI's Rendered Template view shows it as JSON, as DAG authors look for it there.
        "rendered_body",
    )
    template_ext: Sequence[str] = (".json",)
    template_fields_renderers: ClassVar[dict[str, str]] = {"payload": "json", "rendered_body": "json"}
    operator_extra_links = (DataPumpJobLink(),)
    ui_color = "#f6e7d7"

    def __init__(
        self,
        *,
        ords_conn_id: str = "ords_default",
        oracle_conn_id: str | None = None,
        job_mode: str | None = None,
        schemas: Sequence[str] | str | None = None,
        tables: Sequence[str] | str | None = None,
        tablespaces: Sequence[str] | str | None = None,
        name_expressions: Sequence[Any] | str | None = None,
        schema_expressions: Sequence[Any] | str | None = None,
        tablespace_expressions: Sequence[Any] | str | None = None,
        filter: str | None = None,
        datapump_dir: str | None = None,
        file_name: str | None = None,
        credential_name: str | None = None,
        threads: int | None = None,
        keep_master: bool | None = None,
        payload: Mapping[str, Any] | str | None = None,
        remap_schemas: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        from_job: Mapping[str, Any] | str | None = None,
        endpoint: str | None = None,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 10.0,
        max_poll_interval: float | None = None,
        fail_on_errors: bool = True,
        allowed_ora_codes: Sequence[str] | str | None = None,
        cancel_on_kill: bool = True,
        verify_selection: bool = True,
        drop_job_when_done: bool = False,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.ords_conn_id = ords_conn_id
        self.oracle_conn_id = oracle_conn_id
        self.job_mode = job_mode
        self.schemas = schemas
        self.tables = tables
        self.tablespaces = tablespaces
        self.name_expressions = name_expressions
        self.schema_expressions = schema_expressions
        self.tablespace_expressions = tablespace_expressions
        self.filter = filter
        self.datapump_dir = datapump_dir
        self.file_name = file_name
        self.credential_name = credential_name
        self.threads = threads
        self.keep_master = keep_master
        self.payload = payload
        self.remap_schemas = remap_schemas
        self.from_job = from_job
        self.endpoint = endpoint
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.fail_on_errors = fail_on_errors
        self.cancel_on_kill = cancel_on_kill
        self.verify_selection = verify_selection
        self.drop_job_when_done = drop_job_when_done
        self.hook_params = hook_params
        self.rendered_body: dict[str, Any] | None = None
        self.job_ref: dict[str, Any] | None = None
        self._result: dict[str, Any] | None = None
        self._last_status_result: dict[str, Any] | None = None
        self._init_waiter(allowed_ora_codes)
        validate_endpoint(endpoint, self.operation)
        if not _looks_templated(self._payload_args(parse_time=True)):
            # Fail at DAG-parse time, naming the field, when nothing is left for Jinja to fill in.
            self.build_body(parse_time=True)

    # ---------------------------------------------------------------- the body

    def _payload_args(self, parse_time: bool = False) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PAYLOAD_ARGUMENTS}

    def build_body(self, parse_time: bool = False) -> dict[str, Any]:
        """The validated ORDS body; raises DataPumpValidationError naming the field."""
        body = build_payload(self.operation, **self._payload_args(parse_time))
        body_for_endpoint(body, self.endpoint)  # a key this endpoint would drop fails now, by name
        return body

    def _extras(self, body: Mapping[str, Any]) -> dict[str, Any]:
        # JSON: these also travel to the trigger. ``request`` lets the result say what ran against
        # what was asked; ``log_file`` lets a keep_master=0 job be judged after ORDS forgot it.
        return {
            "datapump_dir": body.get("datapump_dir"),
            "file_name": body.get("file_name"),
            "request": dict(body),
            "log_file": (self.job_ref or {}).get("log_file"),
        }

    def _do_render_template_fields(
        self, parent: Any, template_fields: Any, context: Any, jinja_env: Any, seen_oids: Any
    ) -> None:
        # Overridden here, not in render_template_fields, because a mapped task renders its unmapped
        # copy through this method only. Airflow stores the rendered fields right after this call,
        # before execute(), so this is the only moment the view can get the body.
        super()._do_render_template_fields(parent, template_fields, context, jinja_env, seen_oids)
        if parent is self:
            try:
                self.rendered_body = self.build_body()
            except DataPumpValidationError:
                self.rendered_body = None  # execute() raises it, naming the field, without retries

    # ---------------------------------------------------------------- execute

    def execute(self, context: Context) -> Any:
        self.rendered_body = self.build_body()  # before any request: nothing invalid is ever sent
        log_version_limits(
            self.log,
            reattach=self.wait_for_completion,
            trigger_on_kill=self.wait_for_completion and self.deferrable and self.cancel_on_kill,
        )
        # Full bodies only at DEBUG (Airflow's rule for payloads); the Rendered Template view shows it too.
        self.log.info("ORDS %s request with %s", self.operation, ", ".join(sorted(self.rendered_body)))
        self.log.debug("ORDS %s body:\n%s", self.operation, json.dumps(self.rendered_body, indent=2))
        if not self.wait_for_completion:
            if self.deferrable:
                self.log.warning("deferrable=True has no effect with wait_for_completion=False")
            job = self.submit_job(context)
            result = self.hook.resolve(job, **self._extras(self.rendered_body)).to_xcom()
            return result
        return self._done(self.execute_resumable(context))

    def _done(self, result: dict[str, Any]) -> dict[str, Any]:
        """The accepted result; with drop_job_when_done its control table is dropped first."""
        if self.drop_job_when_done and result:
            # Only now: the verdict and the log are read. ORDS forgets the job (and its file links)
            # with its control table; Data Pump keeps a failed job's table for a restart, so only an
            # accepted job gets here.
            try:
                dropped = self.hook.drop_job(result["owner_name"], result["job_name"])
            except Exception as err:
                self.log.warning(
                    "Could not drop the control table of %s,%s: %s",
                    result["owner_name"],
                    result["job_name"],
                    err,
                )
            else:
                self.log.info(
                    "Control table %s.%s %s",
                    result["owner_name"],
                    result["job_name"],
                    "dropped" if dropped else "was not there (or the job was not finished)",
                )
        return result

    # ---------------------------------------------------------------- ResumableJobMixin

    def submit_job(self, context: Context) -> dict[str, Any]:
        assert self.rendered_body is not None
        try:
            job = self.hook.create_job(self.rendered_body, endpoint=self.endpoint)
        except DataPumpAmbiguousJobError as err:
            # Stored so that the retry settles which candidate is ours instead of submitting again.
            store = context.get("task_state_store")
            if store is not None and getattr(self, "durable", True):
                store.set(self.external_id_key, err.pending)
            raise
        handle = self._adopt(job, context)
        self.log.info("Started Data Pump %s job %s: %s", self.operation, job.ident, handle["self_url"])
        return handle

    def _adopt(self, job: Any, context: Context) -> dict[str, Any]:
        _, _, url = self.hook.locate(job)
        logs = [f.name for f in job.files if f.kind == "log"]
        # An import links the export's log too; its own is the IMPDAT one, listed last.
        self.job_ref = {
            "owner_name": job.owner_name,
            "job_name": job.job_name,
            "self_url": url,
            "log_file": logs[-1] if logs else None,
            "submitted_at": time.time(),
        }
        if self.hook.last_one_off_name:
            self.job_ref["dump_name"] = self.hook.last_one_off_name
        self._publish_job_ref(context)
        return self.job_ref

    def _publish_job_ref(self, context: Context) -> None:
        # For the Database Actions link. Airflow clears a try's XComs when the next try starts, so a
        # retry that reattaches must push the job again or the link goes blank.
        ti = context.get("ti")
        if ti is not None:
            ti.xcom_push(key=XCOM_JOB_KEY, value=self.job_ref)

    def get_job_status(self, external_id: Any, context: Context) -> str:
        if isinstance(external_id, Mapping) and external_id.get("pending_create"):
            job = self.hook.settle_create(external_id)  # raises while the evidence is still open
            if job is None:
                self.log.info("The earlier try's create started no job; submitting again")
                return "vanished"
            self._adopt(job, context)
            store = context.get("task_state_store")
            if store is not None:
                store.set(self.external_id_key, self.job_ref)
            external_id = self.job_ref
        self.job_ref = dict(external_id)
        self._publish_job_ref(context)
        result = self.hook.resolve(self.job_ref, **self._extras(self.rendered_body or {})).to_xcom()
        self._last_status_result = result
        self.log.info(
            "A previous try started %s,%s; it is %s",
            result["owner_name"],
            result["job_name"],
            result["outcome"],
        )
        return result["outcome"]

    def is_job_active(self, status: str) -> bool:
        from airflow_provider_datapump.jobs import Outcome

        return status == Outcome.RUNNING.value

    def is_job_succeeded(self, status: str) -> bool:
        from airflow_provider_datapump.jobs import accepts, verdict_from_xcom

        result = self._last_status_result
        return result is not None and accepts(
            verdict_from_xcom(result),
            fail_on_errors=self.fail_on_errors,
            allowed_ora_codes=self.allowed_ora_codes,
        )

    # Returns the result although the mixin declares None: on a reattach the mixin returns what
    # this returns (ResumableJobMixin.execute_resumable, Airflow 3.3).
    def poll_until_complete(self, external_id: Any, context: Context) -> dict[str, Any]:  # type: ignore[override]
        job = dict(external_id)
        self.job_ref = job
        extras = self._extras(self.rendered_body or {})
        if self.deferrable:
            first = self.hook.resolve(job, **extras)
            self._look(first)
            if first.verdict.running:
                self.defer(
                    trigger=DataPumpJobTrigger.for_task(self, job, end_time=None, extras=extras),
                    method_name="execute_complete",
                    timeout=None,  # the trigger enforces execution_timeout and reports it as an event
                )
            self._result = self._judge(first.to_xcom())
        else:
            self._result = self._wait_sync(job, extras)
        return self._result

    def get_job_result(self, external_id: Any, context: Context) -> dict[str, Any]:
        if self._result is None:
            self._result = self._judge(
                self._last_status_result or self.hook.resolve(dict(external_id)).to_xcom()
            )
        return self._result

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        self._result = self._event_result(event)
        return self._done(self._result)

    def _judge_selection(self, result: dict[str, Any]) -> None:
        super()._judge_selection(result)
        # A reattach trusts the stored identity only as far as the evidence goes: the dump set of
        # the job it found must not carry another submission's name.
        name = (self.job_ref or {}).get("dump_name")
        if name and result.get("outcome") in ("succeeded", "succeeded_with_errors"):
            from airflow_provider_datapump.exceptions import DataPumpJobError
            from airflow_provider_datapump.hooks.datapump import dump_set_evidence

            dumps = [
                str(f.get("name"))
                for f in result.get("files") or ()
                if isinstance(f, Mapping) and f.get("kind") == "dump"
            ]
            kind, why = dump_set_evidence(name, dumps)
            if kind == "not ours":
                message = (
                    f"Data Pump job {result.get('owner_name')}.{result.get('job_name')} is not this task's: "
                    f"{why}, and this task's export was named {name}"
                )
                self.log.error("%s", message)
                raise DataPumpJobError(message, result)
            if kind == "ours!":
                self.log.info("Job identity confirmed by its dump set: %s", why)

    # ---------------------------------------------------------------- cancel

    def _on_timeout(self, job: Mapping[str, Any]) -> None:
        self.job_ref = dict(job)
        self.on_kill()

    def on_kill(self) -> None:
        """Stop the Data Pump job (best effort, never raises).

        ORDS has no stop endpoint, so this runs DBMS_DATAPUMP through SQL: ``oracle_conn_id`` when
        set, otherwise the ORDS connection's REST-Enabled SQL. Airflow also calls on_kill when
        a worker shuts down gracefully; with ``cancel_on_kill=True`` the job is then stopped and the
        retry submits a new one. Set ``cancel_on_kill=False`` to let the job run on and have the
        retry reattach to it instead. A task process that is SIGKILLed (OOM killer, lost host) gets
        no on_kill whatever ``cancel_on_kill`` says: its job runs on and the retry reattaches.
        """
        self._stop_job_on_kill(self.job_ref, finished=self._result is not None)

    # ---------------------------------------------------------------- OpenLineage (optional extra)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Called by Airflow's OpenLineage listener after success; see airflow_provider_datapump.lineage."""
        from airflow_provider_datapump import lineage

        result = self._result or getattr(self, "_judged", None)
        if result is None:
            return None  # wait_for_completion=False: the job is still running and has moved nothing yet
        identity = lineage.database_identity(
            self.ords_conn_id, self.oracle_conn_id, self.hook.settings.base_url
        )
        return self._lineage(lineage, result, identity)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        from airflow_provider_datapump import lineage

        return lineage.failure_lineage(getattr(self, "_judged", None), self.hook.settings.base_url)

    def _lineage(self, lineage: Any, result: dict[str, Any], identity: Any) -> Any:
        raise NotImplementedError


class DataPumpExportOperator(_DataPumpJobOperator):
    """Run a Data Pump export through ORDS and wait for its verdict.

    Select what to export with plain names (``schemas=["HR"]``, ``tables=["EMP"]``,
    ``tablespaces=["USERS"]``), which are quoted for you, or with raw ORDS expressions
    (``name_expressions=["LIKE 'EMP%'"]``). ``payload`` (a dict, a JSON string or a templated
    ``.json`` file) is merged last. Everything is validated before the first request.

    Returns a small dict (owner_name, job_name, outcome, files, errors, objects, ...) that
    DataPumpImportOperator(from_job=...), DataPumpJobSensor and DataPumpFetchFilesOperator accept.

    Idempotency: every run creates a new export (ORDS names it by timestamp); a retry of the same
    try reattaches to the job it already started instead of starting another.

    :param ords_conn_id: the ``ords`` connection (default ``ords_default``).
    :param oracle_conn_id: an ``oracle`` connection to the same database, for what ORDS's Database API
        cannot do: stopping the job on kill, progress, reading a dropped job's log,
        ``drop_job_when_done``. Without it that SQL goes through the ORDS connection's REST-Enabled
        SQL (``restEnabledSql.active=true``, on by default on Autonomous Database).
    :param job_mode: ``FULL``, ``SCHEMA`` (ORDS's default), ``TABLE`` or ``TABLESPACE``.
    :param schemas: schema names, quoted for you (``IN ('HR','SALES')``).
    :param tables: table names, quoted for you.
    :param tablespaces: tablespace names, quoted for you.
    :param name_expressions: raw ORDS name expressions (``"LIKE 'EMP%'"`` or ``{"expression": ...}``).
    :param schema_expressions: raw ORDS schema expressions.
    :param tablespace_expressions: raw ORDS tablespace expressions.
    :param filter: ORDS's ``filter`` shorthand (a list of names), where the endpoint takes it.
    :param datapump_dir: the database directory object (ORDS's default: ``DATA_PUMP_DIR``).
    :param file_name: the dump file template (``nightly_%U.dmp``), or an ``https://`` object-store
        URI with ``credential_name``.
    :param credential_name: the database credential for an object-store ``file_name``.
    :param threads: Data Pump's parallelism (1 or more).
    :param keep_master: 1 keeps the control table after success (ORDS 25.4+); 0 drops it, so ORDS
        forgets the job and its verdict is read from its log through SQL (``oracle_conn_id`` or
        REST-Enabled SQL; without either the task fails with the job vanished).
    :param payload: more ORDS body keys (a dict, a JSON string or a templated ``.json`` file), merged last.
    :param endpoint: ``None`` (the operation's own endpoint) or ``"jobs"`` (documented up to ORDS 24.4).
    :param wait_for_completion: wait for the job's end and judge it (default); False returns after
        one status read.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param poll_interval: seconds between status reads while the job is young; then a tenth of its age.
    :param max_poll_interval: the longest pause between status reads (default 120 s); equal to
        ``poll_interval`` it pins the interval.
    :param fail_on_errors: treat "completed with N error(s)" as a failure (default).
    :param allowed_ora_codes: ORA codes that may appear without failing the task.
    :param cancel_on_kill: stop the job (through SQL: ``oracle_conn_id`` or REST-Enabled SQL) when the task is killed.
    :param verify_selection: fail when the job's log contradicts the request (default); False warns.
    :param drop_job_when_done: drop the job's control table after an accepted end, through SQL
        (``oracle_conn_id`` or REST-Enabled SQL); a failed drop is a warning, not a failed task.
    :param hook_params: keyword arguments for :class:`~airflow_provider_datapump.hooks.datapump.DataPumpHook`
        (retry and timeout settings).
    :param remap_schemas: not for an export (an import argument); set, it fails naming the field.
    :param from_job: not for an export (an import argument); set, it fails naming the field.
    """

    operation = "EXPORT"

    def _payload_args(self, parse_time: bool = False) -> dict[str, Any]:
        if self.from_job is not None:
            raise DataPumpValidationError(
                "from_job", "only applies to an import: it names the dump set to import"
            )
        return super()._payload_args(parse_time)

    def _lineage(self, lineage: Any, result: dict[str, Any], identity: Any) -> Any:
        return lineage.export_lineage(result, identity, self.hook.settings.base_url)


class DataPumpImportOperator(_DataPumpJobOperator):
    """Run a Data Pump import through ORDS and wait for its verdict.

    ``from_job`` takes what a DataPumpExportOperator returned and derives ``file_name`` (with
    ``%U`` for a multi-file set) and ``datapump_dir``. ``remap_schemas`` takes ``{"SRC": "DST"}``
    or ORDS's list form.

    Idempotency: an import is not idempotent (ORDS has no table_exists_action; Data Pump skips
    existing tables and reports ORA-39151/ORA-31684). Allow those codes explicitly when
    re-importing on purpose: ``allowed_ora_codes=["ORA-31684", "ORA-39151"]``.

    :param ords_conn_id: the ``ords`` connection (default ``ords_default``).
    :param oracle_conn_id: an ``oracle`` connection to the same database, for what ORDS's Database API
        cannot do: stopping the job on kill, progress, reading a dropped job's log,
        ``drop_job_when_done``. Without it that SQL goes through the ORDS connection's REST-Enabled
        SQL (``restEnabledSql.active=true``, on by default on Autonomous Database).
    :param job_mode: ``FULL``, ``SCHEMA`` (ORDS's default), ``TABLE`` or ``TABLESPACE``.
    :param schemas: schema names, quoted for you (``IN ('HR','SALES')``).
    :param tables: table names, quoted for you.
    :param tablespaces: tablespace names, quoted for you.
    :param name_expressions: raw ORDS name expressions (``"LIKE 'EMP%'"`` or ``{"expression": ...}``).
    :param schema_expressions: raw ORDS schema expressions.
    :param tablespace_expressions: raw ORDS tablespace expressions.
    :param filter: ORDS's ``filter`` shorthand (a list of names), where the endpoint takes it.
    :param datapump_dir: the database directory object (ORDS's default: ``DATA_PUMP_DIR``).
    :param file_name: the dump file template (``nightly_%U.dmp``), or an ``https://`` object-store
        URI with ``credential_name``.
    :param credential_name: the database credential for an object-store ``file_name``.
    :param threads: Data Pump's parallelism (1 or more).
    :param keep_master: 1 keeps the control table after success (ORDS 25.4+); 0 drops it, so ORDS
        forgets the job and its verdict is read from its log through SQL (``oracle_conn_id`` or
        REST-Enabled SQL; without either the task fails with the job vanished).
    :param payload: more ORDS body keys (a dict, a JSON string or a templated ``.json`` file), merged last.
    :param endpoint: ``None`` (the operation's own endpoint) or ``"jobs"`` (documented up to ORDS 24.4).
    :param wait_for_completion: wait for the job's end and judge it (default); False returns after
        one status read.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param poll_interval: seconds between status reads while the job is young; then a tenth of its age.
    :param max_poll_interval: the longest pause between status reads (default 120 s); equal to
        ``poll_interval`` it pins the interval.
    :param fail_on_errors: treat "completed with N error(s)" as a failure (default).
    :param allowed_ora_codes: ORA codes that may appear without failing the task.
    :param cancel_on_kill: stop the job (through SQL: ``oracle_conn_id`` or REST-Enabled SQL) when the task is killed.
    :param verify_selection: fail when the job's log contradicts the request (default); False warns.
    :param drop_job_when_done: drop the job's control table after an accepted end, through SQL
        (``oracle_conn_id`` or REST-Enabled SQL); a failed drop is a warning, not a failed task.
    :param hook_params: keyword arguments for :class:`~airflow_provider_datapump.hooks.datapump.DataPumpHook`
        (retry and timeout settings).
    :param remap_schemas: ``{"SRC": "DST"}``, or ORDS's list form ``[{"source": ..., "target": ...}]``.
    :param from_job: what a DataPumpExportOperator returned (or its XCom); gives ``file_name``,
        ``datapump_dir`` and the selection to import.
    """

    operation = "IMPORT"

    def _payload_args(self, parse_time: bool = False) -> dict[str, Any]:
        args = super()._payload_args(parse_time)
        source = (
            _job_dict(self.from_job)
            if self.from_job is not None and not _looks_templated(self.from_job)
            else None
        )
        if source is not None:
            if str(source.get("operation") or "EXPORT").strip().upper() != "EXPORT":
                raise DataPumpValidationError(
                    "from_job", f"is an {source.get('operation')} job; it must be an export"
                )
            if args["file_name"] is None:
                template = source.get("dump_file_template")
                if not template:
                    raise DataPumpValidationError("from_job", "names no dump file; did the export finish?")
                args["file_name"] = template
            if args["datapump_dir"] is None and source.get("datapump_dir"):
                args["datapump_dir"] = source["datapump_dir"]
            self._inherit_selection(args, source)
        elif self.from_job is not None:
            if not parse_time:
                raise DataPumpValidationError(
                    "from_job", f"was not rendered into an export result: {str(self.from_job)[:80]!r}"
                )
            # At parse time from_job is still an XComArg: stand in for the file name it will give,
            # so that everything else is checked now. This name is never sent. With credential_name
            # the export wrote to object storage, so what it will give is an https:// URI.
            if args["file_name"] is None:
                args["file_name"] = _PARSE_TIME_OBJECT_URI if args.get("credential_name") else _PARSE_TIME_FILE_NAME
        return args

    def _lineage(self, lineage: Any, result: dict[str, Any], identity: Any) -> Any:
        body = self.rendered_body or {}
        source = (
            _job_dict(self.from_job) if isinstance(self.from_job, (Mapping, str)) and self.from_job else None
        )
        source_dumps = [
            f["name"]
            for f in (source or {}).get("files") or ()
            if isinstance(f, Mapping) and f.get("kind") == "dump"
        ]
        if source_dumps and body.get("file_name") == (source or {}).get("dump_file_template"):
            # Imported what the export wrote: name its files, not the %U template that stands for them.
            dumps = source_dumps
        else:
            dumps = [n.strip() for n in str(body.get("file_name") or "").split(",") if n.strip()]
        return lineage.import_lineage(
            result,
            identity,
            self.hook.settings.base_url,
            dump_files=dumps,
            directory=body.get("datapump_dir"),
            remaps=body.get("remap_schemas") or (),
        )

    def _inherit_selection(self, args: dict[str, Any], source: Mapping[str, Any]) -> None:
        """With no selection of its own, import what the export exported.

        Data Pump imports only the caller's own schema when a SCHEMA-mode import names none, so
        ``from_job=exp.output`` alone would import nothing from another schema's dump.
        """
        selectors = (
            "job_mode",
            "schemas",
            "tables",
            "tablespaces",
            "name_expressions",
            "schema_expressions",
            "tablespace_expressions",
            "filter",
        )
        raw = self.payload if isinstance(self.payload, Mapping) else {}
        if any(args.get(k) for k in selectors) or any(k in raw for k in selectors):
            return
        objects = [o for o in source.get("objects") or () if isinstance(o, Mapping)]
        mode = str(source.get("job_mode") or "SCHEMA").upper()
        if not objects or mode not in ("SCHEMA", "TABLE"):
            return
        # "schemas" and "tables" are complete where "objects" may be cut short (jobs.XCOM_MAX_OBJECTS).
        schemas, tables = source.get("schemas"), source.get("tables")
        args["job_mode"] = mode
        args["schemas"] = (
            list(schemas) if isinstance(schemas, list) else sorted({str(o["schema"]) for o in objects})
        )
        if mode == "TABLE":
            args["tables"] = (
                list(tables) if isinstance(tables, list) else sorted({str(o["name"]) for o in objects})
            )


_PARSE_TIME_FILE_NAME = "FROM_JOB_AT_RUN_TIME.DMP"
_PARSE_TIME_OBJECT_URI = "https://objectstorage.invalid/from_job/o/FROM_JOB_AT_RUN_TIME_%U.DMP"


def _job_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise DataPumpValidationError(
                "from_job", "is a string but not the JSON of an export result"
            ) from None
    if not isinstance(value, Mapping):
        raise DataPumpValidationError(
            "from_job", f"must be the dict an export task returned, not {type(value).__name__}"
        )
    return dict(value)


def _looks_templated(value: Any) -> bool:
    """True while Jinja (or an XComArg) still has to fill something in."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value or value.endswith(".json")
    if isinstance(value, Mapping):
        return any(_looks_templated(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_looks_templated(v) for v in value)
    return (
        value is not None
        and not isinstance(value, (int, float, bool))
        and type(value).__module__.startswith("airflow")
    )
