"""DataPumpExportOperator and DataPumpImportOperator: submit a validated job, wait, judge, reattach."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import BaseOperator, BaseOperatorLink, ResumableJobMixin, conf

from airflow_provider_datapump._compat import log_version_limits
from airflow_provider_datapump.exceptions import (
    DataPumpAmbiguousJobError,
    DataPumpHTTPError,
    DataPumpJobError,
    DataPumpValidationError,
)
from airflow_provider_datapump.payloads import (
    PAYLOAD_ARGUMENTS,
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
        "replace_schemas",
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
        replace_schemas: Sequence[str] | str | None = None,
        verify_copy: bool = True,
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
        self.replace_schemas = replace_schemas
        self.verify_copy = verify_copy
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
        """The validated ORDS body; raises DataPumpValidationError naming the field.

        Which keys the endpoint takes is the server's to say (its description, read at execute
        time), so that is settled by ``execute`` before any other request; what needs no server
        (spelling, types and values of the keys ORDS documents) fails here, at parse time too."""
        return build_payload(self.operation, **self._payload_args(parse_time))

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
        self._check_before_requests()
        # The server's word on each key and the endpoint, before anything is done for the job.
        self.hook.plan_create(self.rendered_body, self.endpoint)
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
            return self._stamp(result)
        return self._done(self.execute_resumable(context))

    def _check_before_requests(self) -> None:
        """Refusals that need the connections but no request; run after the body is built."""

    def _stamp(self, result: dict[str, Any]) -> dict[str, Any]:
        """What the task adds to the job's result: the connection it ran on, so that an import taking
        this result as from_job can tell whether both reach the same database (JSON, new keys only)."""
        result.setdefault("ords_conn_id", self.ords_conn_id)
        if self.oracle_conn_id:
            result.setdefault("oracle_conn_id", self.oracle_conn_id)
        return result

    def _done(self, result: dict[str, Any]) -> dict[str, Any]:
        """The accepted result; with drop_job_when_done its control table is dropped first."""
        if result:
            self._stamp(result)
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
        except DataPumpHTTPError as err:
            # A create refused with Data Pump's ORA lines (a missing dump, a bad directory...).
            err.add_hint(self._create_hint(err))
            raise
        handle = self._adopt(job, context)
        self.log.info("Started Data Pump %s job %s: %s", self.operation, job.ident, handle["self_url"])
        return handle

    def _create_hint(self, err: DataPumpHTTPError) -> str:
        settings = self.hook.settings
        # With Basic auth the login is the database user the job runs as; an OAuth2 client id is not.
        user = ((settings.login or "").upper() or None) if settings.auth_type == "basic" else None
        return self._hint((err.ords_message or "").splitlines(), user=user)

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
        self.job_ref.update(self._job_ref_extras())
        self._publish_job_ref(context)
        return self.job_ref

    # Keys of _job_ref_extras: stored with the job's identity and carried across a deferral.
    _job_ref_extras_keys: ClassVar[tuple[str, ...]] = ()

    def _job_ref_extras(self) -> dict[str, Any]:
        """More of what a retry must know about the job this try started (stored with its identity)."""
        return {}

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
                # What the job reference carries beyond the job (replaced_schemas) reaches the
                # operator that Airflow builds anew for execute_complete through next_kwargs.
                carried = {k: v for k, v in job.items() if k in self._job_ref_extras_keys}
                self.defer(
                    trigger=DataPumpJobTrigger.for_task(self, job, end_time=None, extras=extras),
                    method_name="execute_complete",
                    timeout=None,  # the trigger enforces execution_timeout and reports it as an event
                    kwargs={"carried": carried} if carried else None,
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

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, carried: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        if carried:
            self.job_ref = {**(self.job_ref or {}), **carried}
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
    :param replace_schemas: not for an export (an import argument); set, it fails naming the field.
    :param verify_copy: not for an export (an import argument); False fails naming the field.
    """

    operation = "EXPORT"

    def _payload_args(self, parse_time: bool = False) -> dict[str, Any]:
        if self.from_job is not None:
            raise DataPumpValidationError(
                "from_job", "only applies to an import: it names the dump set to import"
            )
        if self.replace_schemas:
            raise DataPumpValidationError(
                "replace_schemas", "only applies to an import: an export never drops a schema"
            )
        if self.verify_copy is not True:
            raise DataPumpValidationError(
                "verify_copy", "only applies to an import: it compares the import with its export"
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
    existing tables and reports ORA-39151/ORA-31684). For a nightly refresh, let the import drop
    the schemas it recreates with ``replace_schemas``. To re-import over existing tables on purpose,
    allow those codes (``allowed_ora_codes=["ORA-31684", "ORA-39151"]``) and set
    ``verify_copy=False``, since the skipped tables are missing from what the import landed.

    The result adds ``copy_verified`` (see ``verify_copy``), ``ords_conn_id`` and, with
    ``replace_schemas``, ``replaced_schemas``: ``[{"schema", "dropped", "objects"}]``.

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
    :param replace_schemas: schemas (a list, or a comma-separated string; templated) that the
        import drops with ``DROP USER ... CASCADE`` on its own database just before it creates the
        job, so that the dump recreates them. Only a schema this import writes (a remap target, or
        the selected schema when there is no remap), in SCHEMA or FULL mode. Refused, before any
        drop or job: a schema the ``from_job`` export read on the same database (same ORDS URL up
        to the schema alias, or the same ``DB_UNIQUE_NAME``/``CON_NAME`` through SQL; an identity
        that cannot be read counts as the same), an Oracle-maintained user, the user the
        connection signs in as, and a schema a running Data Pump job owns, or that a running
        import writes or may write (one reading the same dump set, or whose log cannot be read).
        A schema not there yet is logged and skipped. A retry that reattaches to its job never
        drops again. Needs SQL: REST-Enabled SQL on the ORDS connection, or ``oracle_conn_id``.
    :param verify_copy: compare each table's rows, within the import's selection and after the
        remap, with the export's (``from_job``'s objects, or the export log the import job links);
        a missing table or a different count fails the task (default). False only logs the
        difference. With nothing to compare, the log and ``result["copy_verified"]["reason"]``
        say so and the task does not fail.
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
                args["file_name"] = (
                    _PARSE_TIME_OBJECT_URI if args.get("credential_name") else _PARSE_TIME_FILE_NAME
                )
        return args

    # ---------------------------------------------------------------- replace_schemas

    def _source(self) -> dict[str, Any] | None:
        """The from_job export result, once rendered; None without one (or while still templated)."""
        if self.from_job is None or _looks_templated(self.from_job):
            return None
        return _job_dict(self.from_job)

    def _replace_names(self) -> list[str]:
        from airflow_provider_datapump.replace import normalize_replace_schemas

        return normalize_replace_schemas(self.replace_schemas)

    def build_body(self, parse_time: bool = False) -> dict[str, Any]:
        body = super().build_body(parse_time)
        if self.replace_schemas and not _looks_templated(self.replace_schemas):
            from airflow_provider_datapump.replace import check_static

            # At parse time an XComArg from_job will still fill in the selection: what depends on
            # it waits for execute.
            pending = parse_time and self.from_job is not None and _looks_templated(self.from_job)
            check_static(self._replace_names(), body, selection_pending=pending)
        return body

    def _check_before_requests(self) -> None:
        """What needs the connections but no request: the sign-in user (Basic auth) and, by URL, the
        export's database. The rest of the rules waits for SQL, just before the drop."""
        names = self._replace_names()
        if not names:
            return
        from airflow_provider_datapump.replace import database_key, refuse

        settings = self.hook.settings
        login = (settings.login or "").strip().upper()
        if settings.auth_type == "basic" and login in names:
            raise refuse(f"{login} is the user connection {self.ords_conn_id!r} signs in as")
        source = self._source()
        shared = self._shared_with_export(names, source)
        if shared and source is not None:
            mine, theirs = database_key(settings.base_url), database_key(source.get("self_url"))
            if mine is not None and mine == theirs:
                raise refuse(
                    f"{', '.join(shared)}: the from_job export read it through the same ORDS and database "
                    f"({settings.base_url.rsplit('/', 1)[0]}); dropping it would drop the source"
                )

    @staticmethod
    def _shared_with_export(names: list[str], source: Mapping[str, Any] | None) -> list[str]:
        from airflow_provider_datapump.replace import export_read_schemas

        if source is None:
            return []
        read = export_read_schemas(source)
        return [n for n in names if read is None or n in read]

    _job_ref_extras_keys = ("replaced_schemas",)

    def _job_ref_extras(self) -> dict[str, Any]:
        replaced = getattr(self, "_replaced", None)
        return {"replaced_schemas": replaced} if replaced is not None else {}

    def _stamp(self, result: dict[str, Any]) -> dict[str, Any]:
        super()._stamp(result)
        if self.replace_schemas:
            # What this task's drops did: this try's, or (on a reattach) the try that started the job.
            replaced = (self.job_ref or {}).get("replaced_schemas")
            result["replaced_schemas"] = list(replaced) if isinstance(replaced, list) else []
        return result

    def submit_job(self, context: Context) -> dict[str, Any]:
        # Only a try that creates a job gets here: one that reattaches to its running import
        # (ResumableJobMixin) never drops again.
        self._replaced = self._replace_schemas_now() if self.replace_schemas else None
        return super().submit_job(context)

    def _replace_schemas_now(self) -> list[dict[str, Any]]:
        """Check the run-time rules with read-only SQL, then drop each schema; the log names each."""
        from airflow_provider_datapump.exceptions import DataPumpError
        from airflow_provider_datapump.replace import check_database_identities, jobs_in_use, refuse

        names = self._replace_names()
        hook = self.hook
        source = self._source()
        shared = self._shared_with_export(names, source)
        try:
            mine = hook.database_identity()
        except Exception as err:
            if shared:
                raise refuse(
                    f"{', '.join(shared)}: the from_job export read it, and this database's identity could "
                    f"not be read ({err}), so this import cannot prove the two databases differ"
                ) from None
            raise refuse(f"cannot check or drop schemas without SQL: {err}") from None
        session_user = str(mine.get("session_user") or "").upper()
        if session_user in names:
            raise refuse(f"{session_user} is the user this connection signs in as")
        if shared and source is not None:
            check_database_identities(shared, mine, self._export_identity(shared, source))
        infos = {name: hook.user_info(name) for name in names}
        maintained = [n for n, info in infos.items() if info and info.get("oracle_maintained")]
        if maintained:
            raise refuse(
                f"{', '.join(maintained)}: the database says Oracle maintains it; it is never dropped"
            )
        # Absent schemas too: a running import may be about to create one.
        held = jobs_in_use(
            names,
            self._running_jobs(),
            me=None,
            same_dump_set=self._same_dump_set,
            targets_of=self._import_targets,
        )
        if held:
            lines = [f"  {schema}: {', '.join(jobs)}" for schema, jobs in held.items()]
            raise DataPumpError(
                "replace_schemas: not dropping a schema a Data Pump job is still using:\n"
                + "\n".join(lines)
                + "\nWait for the job(s) to end (or stop them), then run the task again."
            )
        replaced: list[dict[str, Any]] = []
        for name in names:
            dropped, count = False, 0
            if infos[name] is not None:
                count = hook.user_object_count(name)
                dropped = hook.drop_user(name)
            if dropped:
                self.log.info(
                    "replace_schemas: dropped schema %s (%d objects) before the import", name, count
                )
            else:
                self.log.info("replace_schemas: schema %s is not there yet; nothing to drop", name)
            replaced.append({"schema": name, "dropped": dropped, "objects": count if dropped else 0})
        return replaced

    def _export_identity(self, shared: list[str], source: Mapping[str, Any]) -> Mapping[str, Any]:
        """The export database's identity through SQL on the export's connection, or a refusal."""
        from airflow_provider_datapump.hooks.datapump import DataPumpHook
        from airflow_provider_datapump.replace import refuse

        conn_id = source.get("ords_conn_id")
        names = ", ".join(shared)
        if not isinstance(conn_id, str) or not conn_id:
            raise refuse(
                f"{names}: the from_job export read it, and its result does not say which connection it ran "
                "on, so this import cannot prove the two databases differ; re-run the export with this "
                "provider's version, or remap the schema to another name"
            )
        oracle = source.get("oracle_conn_id")
        other = DataPumpHook(
            ords_conn_id=conn_id,
            oracle_conn_id=oracle if isinstance(oracle, str) else None,
            **(self.hook_params or {}),
        )
        try:
            return other.database_identity()
        except Exception as err:
            raise refuse(
                f"{names}: the from_job export read it, and the identity of its database could not be "
                f"read through {conn_id!r} ({err}), so this import cannot prove the two databases differ"
            ) from None
        finally:
            other.close()

    def _running_jobs(self) -> list[dict[str, Any]]:
        """Jobs not NOT RUNNING: from SQL, else from the ORDS job list."""
        from airflow_provider_datapump.hooks.datapump import LIST_MAX_PAGES, LIST_PAGE_SIZE

        try:
            return list(self.hook.running_jobs())
        except Exception as err:
            self.log.info("replace_schemas: reading running jobs through ORDS's job list (SQL: %s)", err)
        # A bounded walk by offset (a server that ignores offset serves the first page again: the
        # jobs are keyed by identity, so nothing counts twice).
        jobs: dict[str, dict[str, Any]] = {}
        for page_no in range(LIST_MAX_PAGES):
            page = self.hook.list_jobs(limit=LIST_PAGE_SIZE, offset=page_no * LIST_PAGE_SIZE)
            for j in page.items:
                if (j.state or "").upper() != "NOT RUNNING":
                    keys = ("owner_name", "job_name", "operation", "job_mode", "state")
                    jobs[j.ident] = {k: getattr(j, k) for k in keys}
            if not page.has_more:
                break
        return list(jobs.values())

    def _job_logs(self, job: Mapping[str, Any]) -> list[str] | None:
        """The logs a running job links on ORDS (an import: the export's, then its own); None unread."""
        cache = self.__dict__.setdefault("_linked_logs", {})
        ident = (str(job.get("owner_name")), str(job.get("job_name")))
        if ident not in cache:
            try:
                found = self.hook.get_job({"owner_name": ident[0], "job_name": ident[1]})
                cache[ident] = [f.name for f in found.files if f.kind == "log"]
            except Exception as err:
                self.log.info("replace_schemas: could not read job %s.%s on ORDS: %s", *ident, err)
                cache[ident] = None
        return cache[ident]

    def _same_dump_set(self, job: Mapping[str, Any]) -> bool:
        """A running import that links the from_job export's log reads the same dump set."""
        export_log = (self._source() or {}).get("log_file")
        logs = self._job_logs(job)
        return bool(export_log and logs and export_log in logs[:-1])

    def _import_targets(self, job: Mapping[str, Any]) -> set[str] | None:
        """The schemas a running import's own log names so far; None when it cannot be read or names none."""
        from airflow_provider_datapump.replace import schemas_named_in_log

        logs = self._job_logs(job)
        if not logs:
            return None
        try:
            text = self.hook.get_file_text(
                {"owner_name": job["owner_name"], "job_name": job["job_name"]}, logs[-1]
            )
        except Exception as err:
            self.log.info(
                "replace_schemas: could not read the log of %s.%s: %s",
                job["owner_name"],
                job["job_name"],
                err,
            )
            return None
        return schemas_named_in_log(text, (str(job["owner_name"]), str(job["job_name"]))) or None

    # ---------------------------------------------------------------- verify_copy

    def _judge(self, result: dict[str, Any]) -> dict[str, Any]:
        result = super()._judge(result)
        self._judge_copy(result)
        return result

    def _judge_copy(self, result: dict[str, Any]) -> None:
        """Compare the landed tables with the export's (copy_check holds the policy); a difference
        fails the task unless verify_copy is off. Nothing to compare with is said, never fatal."""
        from airflow_provider_datapump.copy_check import copy_failure

        record = self._copy_record(result)
        result["copy_verified"] = record
        ident = f"{result.get('owner_name')}.{result.get('job_name')}"
        message = copy_failure(record, ident)
        if message is None:
            if record.get("verified"):
                self.log.info(
                    "Copy verified: %d table(s) hold the rows the export took (%s)",
                    record["tables_compared"],
                    record["source"],
                )
            else:
                self.log.info("Copy not verified: %s", record.get("reason") or "nothing was compared")
            return
        if not self.verify_copy:
            self.log.warning("%s\nAccepted: verify_copy is off", message.rsplit("\n", 1)[0])
            return
        self.log.error("%s", message)
        raise DataPumpJobError(message, result)

    def _copy_record(self, result: Mapping[str, Any]) -> dict[str, Any]:
        from airflow_provider_datapump.copy_check import compare_copy, nothing_to_compare
        from airflow_provider_datapump.jobs import parse_log

        # Airflow renders (and so builds the body) before execute_complete too; built here when not.
        request = self.rendered_body if isinstance(self.rendered_body, Mapping) else self.build_body()
        source = self._source()
        if source is not None and isinstance(source.get("objects"), list):
            objects = [o for o in source["objects"] if isinstance(o, Mapping)]
            return compare_copy(
                request,
                result,
                objects,
                source=f"from_job {source.get('owner_name')}.{source.get('job_name')}",
                exported_complete=int(source.get("object_count") or 0) <= len(objects),
            )
        own = result.get("log_file")
        logs = [
            str(f.get("name"))
            for f in result.get("files") or ()
            if isinstance(f, Mapping) and f.get("kind") == "log" and f.get("name") != own
        ]
        if not logs:
            return nothing_to_compare(
                "no from_job, and the import job links no export log (ORDS links it when the export's "
                "log sits in the import's directory)"
            )
        try:
            text = self.hook.get_file_text(dict(result), logs[0])
        except Exception as err:
            return nothing_to_compare(f"the export log {logs[0]} could not be read: {err}")
        summary = parse_log(text)
        if not summary.objects:
            return nothing_to_compare(f"the export log {logs[0]} names no table")
        exported = [
            {"schema": o.schema, "name": o.name, "partition": o.partition, "rows": o.rows}
            for o in summary.objects
        ]
        return compare_copy(request, result, exported, source=f"export log {logs[0]}")

    def _lineage(self, lineage: Any, result: dict[str, Any], identity: Any) -> Any:
        body = self.rendered_body or {}
        source = self._source()
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
            source_identity=self._source_identity(lineage, source),
        )

    def _source_identity(self, lineage: Any, source: Mapping[str, Any] | None) -> Any:
        """The database the from_job export read, when it ran on another connection; else None."""
        conn_id = (source or {}).get("ords_conn_id")
        if not isinstance(conn_id, str) or not conn_id or conn_id == self.ords_conn_id:
            return None
        oracle = (source or {}).get("oracle_conn_id")
        try:
            return lineage.database_identity(conn_id, oracle if isinstance(oracle, str) else None)
        except Exception as err:  # lineage never fails the task; the symlink then names this database
            self.log.warning("OpenLineage: cannot name the export's database (%s): %s", conn_id, err)
            return None

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
