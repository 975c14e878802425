"""DataPumpJobTrigger: exact serialization, JSON-safe kwargs, one event per run, errors as events."""

from __future__ import annotations

import json

from airflow_provider_datapump.triggers.datapump import DataPumpJobTrigger
from tests.helpers import run_trigger

KWARGS = {
    "job": {"owner_name": "DBAPI_USER", "job_name": "DATAPUMP_REST_EXPORT_20261123000000", "self_url": "http://h/x/"},
    "ords_conn_id": "ords_default",
    "oracle_conn_id": None,
    "poll_interval": 5.0,
    "max_poll_interval": 60.0,
    "started_at": 1799990000.0,
    "end_time": 1800000000.0,
    "execution_deadline": None,
    "fail_on_errors": True,
    "allowed_ora_codes": ["ORA-31684"],
    "cancel_on_kill": True,
    "hook_params": {"retry_attempts": 3},
    "result_extras": {"datapump_dir": "TEST_DIR", "file_name": None},
    "share_polls": True,
}


def test_serialize_round_trips_exactly():
    classpath, kwargs = DataPumpJobTrigger(**KWARGS).serialize()
    assert classpath == "airflow_provider_datapump.triggers.datapump.DataPumpJobTrigger"
    assert kwargs == KWARGS
    assert DataPumpJobTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert json.loads(json.dumps(kwargs)) == kwargs


def test_a_trigger_serialized_before_the_interval_grew_still_loads():
    """Triggers in the database outlive an upgrade of the provider: older kwargs must still build one."""
    older = {k: v for k, v in KWARGS.items() if k not in ("max_poll_interval", "started_at", "share_polls")}
    _, kwargs = DataPumpJobTrigger(**older).serialize()
    assert kwargs["max_poll_interval"] is None and kwargs["started_at"] is None and kwargs["share_polls"] is True


def test_airflow_serde_accepts_the_kwargs():
    try:
        from airflow.sdk.serde import deserialize, serialize
    except ImportError:  # Airflow 3.0 and 3.1: the serde is core's
        from airflow.serialization.serde import deserialize, serialize

    _, kwargs = DataPumpJobTrigger(**KWARGS).serialize()
    assert deserialize(serialize(kwargs)) == kwargs


def test_an_unreachable_job_is_one_error_event(ords_conn):
    trigger = DataPumpJobTrigger(job={"owner_name": "DBAPI_USER", "job_name": "J"}, ords_conn_id="nope_conn",
                                 hook_params={"retry_attempts": 1})
    event = run_trigger(trigger)
    assert event.payload["status"] == "error" and "nope_conn" in event.payload["message"]


def test_polls_no_faster_than_asked(ords_conn, fast_hook):
    ords_conn.set_scenario(duration=1.2)
    job = fast_hook.create_job({"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": [{"expression": "= 'TESTUSER1'"}]})
    ords_conn.clear_requests()
    event = run_trigger(DataPumpJobTrigger(job={"owner_name": job.owner_name, "job_name": job.job_name}, poll_interval=0.5))
    assert event.payload["status"] == "success"
    gets = [r for r in ords_conn.requests() if r["path"].endswith(job.job_name + "/")]
    assert 2 <= len(gets) <= 4  # ~1.2 s at one poll per 0.5 s


# ---- ORDS outages longer than one call's retry budget (issue 8, "Faults in a real deployment")

OUTAGE_HOOK = {"retry_attempts": 2, "retry_backoff": 0.01, "retry_max_backoff": 0.02}


def _running_job(ords_conn, fast_hook, duration: float):
    ords_conn.set_scenario(duration=duration)
    job = fast_hook.create_job({"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": [{"expression": "= 'TESTUSER1'"}]})
    return {"owner_name": job.owner_name, "job_name": job.job_name}


def test_rides_out_an_outage_longer_than_the_retry_budget(ords_conn, fast_hook):
    job = _running_job(ords_conn, fast_hook, duration=1.5)
    # No Retry-After: the hook's own backoff gives up within ~0.05 s, thirty times shorter than the outage.
    ords_conn.add_fault(kind="status", status=503, retry_after=None, seconds=1.0)
    event = run_trigger(DataPumpJobTrigger(job=job, poll_interval=0.1, hook_params=OUTAGE_HOOK))
    assert event.payload["status"] == "success", event.payload
    assert sum(r["status"] == 503 for r in ords_conn.requests()) >= 2 * OUTAGE_HOOK["retry_attempts"]


def test_an_outage_longer_than_the_tolerance_is_one_error_event(ords_conn, fast_hook, monkeypatch):
    from airflow_provider_datapump import polling

    monkeypatch.setattr(polling, "OUTAGE_TOLERANCE", 0.3)
    job = _running_job(ords_conn, fast_hook, duration=30)
    ords_conn.add_fault(kind="status", status=502, retry_after=None)
    event = run_trigger(DataPumpJobTrigger(job=job, poll_interval=0.05, hook_params=OUTAGE_HOOK), timeout=10)
    assert event.payload["status"] == "error" and "HTTP 502" in event.payload["message"], event.payload


def test_a_permanent_error_is_not_ridden_out(ords_conn, fast_hook):
    job = _running_job(ords_conn, fast_hook, duration=30)
    ords_conn.clear_requests()
    ords_conn.add_fault(kind="status", status=403)
    event = run_trigger(DataPumpJobTrigger(job=job, poll_interval=0.05, hook_params=OUTAGE_HOOK), timeout=10)
    assert event.payload["status"] == "error" and "HTTP 403" in event.payload["message"], event.payload
    assert len(ords_conn.requests()) == 1
