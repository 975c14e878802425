"""Export and import operators against the emulator: sync and deferrable paths, every ending,
the acceptance policy, reattach on retry and cancel on kill; on every ORDS version the emulator
models (the operators' defaults must hold on each)."""

from __future__ import annotations

import json
import re
import time

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred  # airflow.sdk.exceptions has it from 3.2

from airflow_provider_datapump.exceptions import DataPumpJobError, DataPumpValidationError
from airflow_provider_datapump.operators.datapump import DataPumpExportOperator, DataPumpImportOperator
from airflow_provider_datapump.triggers.datapump import DataPumpJobTrigger
from airflow_provider_datapump.emulator import ORDS_VERSIONS
from tests.helpers import StateStore, context, creates, run_trigger
from airflow_provider_datapump._compat import AIRFLOW_V_3_3_PLUS

# What a retry does below Airflow 3.3 (a new job) is tested in tests/packaging/test_compat.py.
needs_reattach = pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="reattach needs task_state_store (Airflow 3.3)")



def pytest_generate_tests(metafunc):
    if "datapump_emulator" in metafunc.fixturenames:
        metafunc.parametrize("datapump_emulator", ORDS_VERSIONS, indirect=True)

FAST = {"poll_interval": 0.1, "hook_params": {"retry_backoff": 0.05}}


def export(**kwargs):
    return DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], **{**FAST, **kwargs})


def test_sync_export_returns_the_job_dict(ords_conn):
    ords_conn.set_scenario(duration=0.3)
    ctx = context()
    result = export().execute(ctx)
    assert result["outcome"] == "succeeded" and result["operation"] == "EXPORT"
    assert {f["kind"] for f in result["files"]} == {"dump", "log"}
    assert {(o["schema"], o["name"], o["rows"]) for o in result["objects"]} == {("TESTUSER1", "EMP", 14), ("TESTUSER1", "DEPT", 4)}
    # The job's identity, and its own log (with keep_master=0 its verdict is read from it via SQL).
    ident = {k: result[k] for k in ("owner_name", "job_name", "self_url", "log_file")}
    pushed = ctx["ti"].pushed["datapump_job"]
    # Below Airflow 3.3 common-compat's ResumableJobMixin stores nothing (_compat: no reattach).
    stored = ctx["task_state_store"].data["datapump_job"] if AIRFLOW_V_3_3_PLUS else pushed
    assert pushed == stored  # for the extra link, and for reattach, both before waiting
    assert {k: stored[k] for k in ident} == ident
    # The one-off dump name the hook gave the export, so a reattach can confirm the job by it.
    # (On 21.2 the server drops it and uses its own names, which confirm nothing and refute nothing.)
    assert stored["dump_name"].startswith("EXPDAT%U-")
    # The export got a one-off dump name (an ORDS before 21.3 drops file_name on export and uses
    # its own), and the log shows it ran what was asked.
    one_off = r"EXPDAT01-\d{8}_\d{6}-[0-9A-F]{8}\.DMP" if ords_conn.state.settings["ords_version"] != "21.2" else r"EXPDAT01-\d{8}_\d{2}_\d{2}_\d{2}\.DMP"
    assert re.fullmatch(one_off, result["dump_file_template"]), result["dump_file_template"]
    assert result["selection_check"]["ok"] and "schemas" in result["selection_check"]["checked"]


def test_refresh_from_export_result(ords_conn):
    ords_conn.set_scenario(duration=0.1)
    exported = export().execute(context())
    imp = DataPumpImportOperator(task_id="import", from_job=exported, remap_schemas={"TESTUSER1": "TESTUSER2"}, **FAST)
    result = imp.execute(context())
    assert result["outcome"] == "succeeded"
    assert {o["schema"] for o in result["objects"]} == {"TESTUSER2"}
    tables = ords_conn.catalog()["schemas"]["TESTUSER2"]["tables"]
    assert {name: t["rows"] for name, t in tables.items()} == {"EMP": 14, "DEPT": 4}


@pytest.mark.parametrize(
    "outcome, words",
    [
        ("errors", ["completed with 2 error(s)", "ORA-39083", "allowed_ora_codes"]),
        ("fatal", ["failed", "stopped due to fatal error"]),
        ("crash", ["crashed", "no final Data Pump line"]),
        ("stopped", ["stopped", "stopped by user request"]),
    ],
)
def test_every_bad_ending_fails_with_the_reason(ords_conn, outcome, words):
    ords_conn.set_scenario(duration=0.1, outcome=outcome, error_count=2, ora_codes=["ORA-39083"])
    with pytest.raises(DataPumpJobError) as err:
        export().execute(context())
    for word in words:
        assert word in str(err.value)
    assert err.value.result["outcome"] != "succeeded"


def test_errors_accepted_when_asked(ords_conn):
    ords_conn.set_scenario(duration=0.1, outcome="errors", error_count=1, ora_codes=["ORA-31684"])
    assert export(fail_on_errors=False).execute(context())["outcome"] == "succeeded_with_errors"
    assert export(allowed_ora_codes=["ORA-31684"]).execute(context())["errors"][0]["code"] == "ORA-31684"
    with pytest.raises(DataPumpJobError):
        export(allowed_ora_codes=["ORA-39083"]).execute(context())


def test_deferrable_defers_then_completes(ords_conn):
    ords_conn.set_scenario(duration=0.5)
    op = export(deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, DataPumpJobTrigger) and deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout is None  # the trigger carries the deadline itself
    event = run_trigger(trigger)
    assert event.payload["status"] == "success"
    result = op.execute_complete(context(), event.payload)
    assert result["outcome"] == "succeeded" and result["files"]


def test_deferrable_does_not_defer_a_finished_job(ords_conn):
    ords_conn.set_scenario(duration=0)
    assert export(deferrable=True).execute(context())["outcome"] == "succeeded"


def test_deferrable_failure_has_the_same_message(ords_conn):
    ords_conn.set_scenario(duration=0.3, outcome="errors", error_count=1, ora_codes=["ORA-39083"])
    op = export(deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context())
    event = run_trigger(deferred.value.trigger)
    assert event.payload["status"] == "error"
    with pytest.raises(DataPumpJobError, match="ORA-39083"):
        op.execute_complete(context(), event.payload)


@pytest.mark.parametrize("event", [None, {}, {"status": "weird"}, {"status": "error", "message": "boom", "job": {}}])
def test_execute_complete_rejects_bad_events(event):
    with pytest.raises(Exception, match="event|boom"):
        export().execute_complete(context(), event)


def test_execution_timeout_becomes_a_timeout_event(ords_conn):
    from datetime import timedelta

    ords_conn.set_scenario(duration=30)
    op = export(deferrable=True, execution_timeout=timedelta(seconds=0.5))
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context())
    start = time.monotonic()
    event = run_trigger(deferred.value.trigger)
    assert event.payload["status"] == "timeout" and time.monotonic() - start < 3
    with pytest.raises(DataPumpJobError, match="execution_timeout"):
        op.execute_complete(context(), event.payload)


def test_wait_for_completion_false_returns_at_once(ords_conn):
    ords_conn.set_scenario(duration=30)
    result = export(wait_for_completion=False).execute(context())
    assert result["outcome"] == "running" and result["state"] == "EXECUTING"


# ------------------------------------------------------------------ reattach on retry


class WorkerDied(BaseException):
    """Stands for SIGKILL of the worker: nothing after it runs, not even except Exception."""


@needs_reattach
def test_retry_reattaches_instead_of_posting_again(ords_conn, monkeypatch):
    ords_conn.set_scenario(duration=1.0)
    store = StateStore()
    import airflow_provider_datapump.hooks.waits as waits

    def die(_):
        raise WorkerDied()

    with monkeypatch.context() as patch, pytest.raises(WorkerDied):
        patch.setattr(waits.time, "sleep", die)
        export().execute(context(store))  # try 1 dies mid-job, after storing the job identity
    assert len(creates(ords_conn)) == 1 and store.data["datapump_job"]
    retry = context(store)
    result = export().execute(retry)  # try 2
    assert result["outcome"] == "succeeded" and result["job_name"] == store.data["datapump_job"]["job_name"]
    assert len(creates(ords_conn)) == 1
    # Airflow cleared try 1's XComs; the reattaching try pushes the job again for the extra link.
    assert retry["ti"].pushed["datapump_job"] == store.data["datapump_job"]


@needs_reattach
def test_retry_after_success_returns_the_result_without_waiting(ords_conn):
    ords_conn.set_scenario(duration=0)
    store = StateStore()
    first = export().execute(context(store))
    retry = context(store)
    again = export().execute(retry)
    assert again["job_name"] == first["job_name"] and len(creates(ords_conn)) == 1
    assert retry["ti"].pushed["datapump_job"]["job_name"] == first["job_name"]


def test_retry_after_failure_submits_again(ords_conn):
    ords_conn.set_scenario(duration=0, outcome="fatal")
    store = StateStore()
    with pytest.raises(DataPumpJobError):
        export().execute(context(store))
    ords_conn.set_scenario(outcome="success")
    ords_conn.advance_clock(1)  # Airflow's retry_delay: ORDS names jobs by the second (ORA-31634)
    assert export().execute(context(store))["outcome"] == "succeeded"
    assert len(creates(ords_conn)) == 2


def test_retry_after_vanished_submits_again(ords_conn):
    ords_conn.set_scenario(duration=0)
    store = StateStore()
    store.set("datapump_job", {"owner_name": "DBAPI_USER", "job_name": "DATAPUMP_REST_EXPORT_20000101000000",
                               "self_url": ords_conn.api_url + "jobs/DBAPI_USER,DATAPUMP_REST_EXPORT_20000101000000/"})
    assert export().execute(context(store))["outcome"] == "succeeded"
    assert len(creates(ords_conn)) == 1


# ------------------------------------------------------------------ cancel on kill


class Recorder:
    def __init__(self):
        self.calls = []

    def stop_job(self, owner, job, **kw):
        self.calls.append((owner, job))
        return True


def test_on_kill_stops_the_job_through_oracle(ords_conn):
    from tests.unit.test_sql_oracledb import FakeOracle

    ords_conn.set_scenario(duration=30)
    op = export(wait_for_completion=False, oracle_conn_id="oracle_default")
    op.execute(context())
    db = FakeOracle()
    op.hook.__dict__["oracle_hook"] = db
    op.on_kill()
    sql, binds = db.executed[0]
    assert "DBMS_DATAPUMP.STOP_JOB" in sql and binds["job_name"] == op.job_ref["job_name"]
    assert binds["owner"] == "DBAPI_USER" and binds["immediate"] == 1


def test_on_kill_without_oracle_stops_the_job_through_rest_enabled_sql(ords_conn, capsys):
    ords_conn.set_scenario(duration=30)
    op = export(wait_for_completion=False)
    op.execute(context())
    op.on_kill()
    [job] = ords_conn.jobs()
    assert job["outcome"] == "stopped" and job["job_name"] == op.job_ref["job_name"]
    assert f"{op.job_ref['job_name']} stopped" in capsys.readouterr().out
    stops = [r for r in ords_conn.requests() if r["path"].endswith("/_/sql")]
    assert [r["status"] for r in stops] == [200]


def test_on_kill_without_any_sql_warns_naming_both_ways_and_never_raises(ords_conn, capsys):
    ords_conn.set_scenario(duration=30, rest_enabled_sql=False)
    op = export(wait_for_completion=False)
    op.execute(context())
    op.on_kill()
    out = capsys.readouterr().out
    assert "keeps running: ORDS has no endpoint to stop a job" in out
    assert "restEnabledSql.active=true" in out and "oracle_conn_id" in out
    assert ords_conn.jobs()[0]["outcome"] != "stopped"


def test_on_kill_respects_cancel_on_kill_and_swallows_errors(ords_conn):
    ords_conn.set_scenario(duration=30)
    op = export(wait_for_completion=False, cancel_on_kill=False, oracle_conn_id="oracle_default")
    op.execute(context())
    rec = Recorder()
    op.hook.__dict__["oracle_hook"] = rec
    op.on_kill()
    assert rec.calls == []

    class Broken:
        def get_conn(self):
            raise RuntimeError("listener down")

    op2 = export(wait_for_completion=False, oracle_conn_id="oracle_default")
    op2.execute(context())
    op2.hook.__dict__["oracle_hook"] = Broken()
    op2.on_kill()  # logged, not raised


def test_trigger_on_kill_stops_exactly_once(ords_conn, monkeypatch):
    import asyncio

    calls = []
    trigger = DataPumpJobTrigger(job={"owner_name": "DBAPI_USER", "job_name": "J"}, oracle_conn_id="oracle_default")
    fake = {"oracle_conn_id": "oracle_default", "stop_job": lambda s, o, j: calls.append((o, j)) or True}
    monkeypatch.setattr(DataPumpJobTrigger, "_hook", lambda self: type("H", (), fake)())

    async def kill_twice():
        await trigger.on_kill()
        await trigger.on_kill()

    asyncio.run(kill_twice())
    assert calls == [("DBAPI_USER", "J")]


def test_trigger_on_kill_without_oracle_stops_the_emulated_job(ords_conn):
    import asyncio

    ords_conn.set_scenario(duration=30)
    op = export(wait_for_completion=False)
    op.execute(context())
    trigger = DataPumpJobTrigger.for_task(op, op.job_ref, end_time=None, extras=op._extras(op.rendered_body))
    assert trigger.oracle_conn_id is None
    classpath, kwargs = trigger.serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs  # still JSON-safe
    asyncio.run(trigger.on_kill())
    assert ords_conn.jobs()[0]["outcome"] == "stopped"


# ------------------------------------------------------------------ validation at the operator


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: DataPumpExportOperator(task_id="t", remap_schemas={"A": "B"}), "remap_schemas"),
        (lambda: DataPumpExportOperator(task_id="t", from_job={"job_name": "X"}), "from_job"),
        (lambda: DataPumpImportOperator(task_id="t", schemas=["A"]), "file_name"),
        (lambda: DataPumpImportOperator(task_id="t", from_job={"operation": "IMPORT"}), "from_job"),
        (lambda: DataPumpImportOperator(task_id="t", from_job={"operation": "EXPORT"}), "from_job"),
        (lambda: DataPumpExportOperator(task_id="t", job_mode="PARTIAL"), "job_mode"),
        (lambda: DataPumpExportOperator(task_id="t", payload={"parallel": 4}), "payload.parallel"),
        (lambda: DataPumpExportOperator(task_id="t", allowed_ora_codes=["nope"]), "allowed_ora_codes"),
        (lambda: DataPumpExportOperator(task_id="t", endpoint="delete"), "endpoint"),
        (lambda: DataPumpExportOperator(task_id="t", endpoint="import"), "endpoint"),
        (lambda: DataPumpImportOperator(task_id="t", file_name="A.DMP", endpoint="export"), "endpoint"),
    ],
)
def test_invalid_arguments_fail_at_parse_time(make, field):
    with pytest.raises(DataPumpValidationError) as err:
        make()
    assert err.value.field == field


def test_templated_arguments_are_validated_at_run_time(ords_conn):
    op = DataPumpExportOperator(task_id="t", schemas=["{{ params.schema }}"], **FAST)
    op.schemas = ["bad name"]  # what rendering produced
    with pytest.raises(DataPumpValidationError, match="schemas"):
        op.execute(context())
    assert ords_conn.requests() == []


def test_template_fields_and_renderers():
    op = export(payload="payload.json")
    assert ".json" in op.template_ext and op.template_fields_renderers["payload"] == "json"
    assert {"schemas", "payload", "file_name", "ords_conn_id"} <= set(op.template_fields)


class OracleThatStopsTheEmulatorJob:
    """A recording Oracle whose STOP_JOB really stops the job in the emulator, as DBMS_DATAPUMP would."""

    def __init__(self, emu):
        self.emu, self.stopped = emu, []

    def stop_job(self, owner, job, **_):
        self.stopped.append(job)
        self.emu.stop_job(owner, job)
        return True


# Below Airflow 3.3 there is no reattach, so the retry posts a new job either way (_compat).
@pytest.mark.parametrize("cancel_on_kill, posts, outcome", [(True, 2, "succeeded"), (False, 1 if AIRFLOW_V_3_3_PLUS else 2, "succeeded")])
def test_graceful_shutdown_then_retry(ords_conn, monkeypatch, cancel_on_kill, posts, outcome):
    """Airflow calls on_kill on a graceful worker shutdown too. cancel_on_kill=True stops the job and
    the retry submits a new one; cancel_on_kill=False leaves it running and the retry reattaches."""
    import airflow_provider_datapump.hooks.waits as waits

    ords_conn.set_scenario(duration=1.0)
    store = StateStore()
    first = export(cancel_on_kill=cancel_on_kill, oracle_conn_id="oracle_default")
    oracle = OracleThatStopsTheEmulatorJob(ords_conn)
    first.hook.stop_job = oracle.stop_job  # the SQL itself is pinned in test_on_kill_stops_the_job_through_oracle

    def shutdown(_):
        first.on_kill()  # what the supervisor's SIGTERM handler runs
        raise WorkerDied()

    with monkeypatch.context() as patch, pytest.raises(WorkerDied):
        patch.setattr(waits.time, "sleep", shutdown)
        first.execute(context(store))
    assert len(oracle.stopped) == (1 if cancel_on_kill else 0)
    ords_conn.advance_clock(1)  # Airflow's retry_delay: ORDS names jobs by the second (ORA-31634)
    result = export(cancel_on_kill=cancel_on_kill).execute(context(store))
    assert result["outcome"] == outcome
    assert len(creates(ords_conn)) == posts


def test_from_job_still_unrendered_at_run_time_is_refused_before_sending(ords_conn):
    from airflow.sdk import DAG

    with DAG("d", schedule=None):
        exp = export()
        imp = DataPumpImportOperator(task_id="import", from_job=exp.output, remap_schemas={"TESTUSER1": "TESTUSER2"}, **FAST)
    imp.from_job = "{{ ti.xcom_pull('export') }}"  # as if rendering had not happened
    with pytest.raises(DataPumpValidationError, match="from_job"):
        imp.execute(context())
    assert ords_conn.requests() == []


def test_sync_wait_rides_out_an_outage_longer_than_the_retry_budget(ords_conn):
    ords_conn.set_scenario(duration=1.5)
    # Only the polls of the job fail (its URL is .../jobs/OWNER,NAME/): the create goes through first.
    ords_conn.add_fault(kind="status", status=503, retry_after=None, seconds=1.0, method="GET", path=r"/jobs/[^/]+,")
    op = export(deferrable=False, hook_params={"retry_attempts": 2, "retry_backoff": 0.01, "retry_max_backoff": 0.02})
    result = op.execute(context())
    assert result["outcome"] == "succeeded"
    assert sum(r["status"] == 503 for r in ords_conn.requests()) >= 4
    assert len(creates(ords_conn)) == 1


def test_the_body_is_not_logged_whole_above_debug(ords_conn, capsys):
    ords_conn.set_scenario(duration=0)
    export(wait_for_completion=False).execute(context())
    out = capsys.readouterr().out
    assert "ORDS EXPORT request with job_mode, operation, schema_expressions" in out
    assert "IN ('TESTUSER1')" not in out  # Airflow's rule: full payloads only at DEBUG
