"""DataPumpJobSensor in poke and deferrable modes: waits for running jobs, fails at once on a bad end."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowSensorTimeout, TaskDeferred  # in airflow.sdk.exceptions from 3.2

from airflow_provider_datapump.exceptions import DataPumpJobError
from airflow_provider_datapump.sensors.datapump import DataPumpJobSensor
from tests.helpers import context, run_trigger


def start(emu, fast_hook, **scenario):
    emu.set_scenario(**scenario)
    job = fast_hook.create_job({"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": [{"expression": "= 'TESTUSER1'"}]})
    return job


def sensor(job, **kwargs):
    return DataPumpJobSensor(task_id="wait", job=job, poke_interval=0.1, timeout=20, **kwargs)


@pytest.mark.parametrize("form", ["ident", "url", "dict"])
def test_poke_until_success(ords_conn, fast_hook, form):
    # The job's end comes from the emulator's clock, not a race against a short real duration: under a
    # loaded xdist run a 0.4 s job had ended before the first poke.
    job = start(ords_conn, fast_hook, duration=3600)
    ref = {"ident": job.ident, "url": job.self_href, "dict": {"owner_name": job.owner_name, "job_name": job.job_name}}[form]
    s = sensor(ref)
    assert s.poke(context()) is False
    ords_conn.advance_clock(3601)
    result = s.execute(context())
    assert result["outcome"] == "succeeded"


@pytest.mark.parametrize("outcome", ["fatal", "crash", "stopped", "errors"])
def test_bad_end_fails_at_once_not_at_timeout(ords_conn, fast_hook, outcome):
    import time

    job = start(ords_conn, fast_hook, duration=0.2, outcome=outcome, ora_codes=["ORA-39083"], error_count=1)
    begin = time.monotonic()
    with pytest.raises(DataPumpJobError) as err:
        sensor(job.ident).execute(context())
    assert time.monotonic() - begin < 5
    assert job.job_name in str(err.value)


def test_allowed_codes(ords_conn, fast_hook):
    job = start(ords_conn, fast_hook, duration=0, outcome="errors", ora_codes=["ORA-31684"], error_count=1)
    assert sensor(job.ident, allowed_ora_codes=["ORA-31684"]).execute(context())["outcome"] == "succeeded_with_errors"


def test_deferrable(ords_conn, fast_hook):
    job = start(ords_conn, fast_hook, duration=0.5)
    s = sensor(job.ident, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        s.execute(context())
    assert deferred.value.trigger.cancel_on_kill is False  # the sensor does not own the job
    event = run_trigger(deferred.value.trigger)
    assert s.execute_complete(context(), event.payload)["outcome"] == "succeeded"


def test_deferrable_sensor_timeout(ords_conn, fast_hook):
    job = start(ords_conn, fast_hook, duration=30)
    s = DataPumpJobSensor(task_id="wait", job=job.ident, poke_interval=0.1, timeout=0.5, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        s.execute(context())
    event = run_trigger(deferred.value.trigger)
    assert event.payload["status"] == "timeout"
    with pytest.raises(AirflowSensorTimeout):
        s.execute_complete(context(), event.payload)


def test_logs_state_changes(ords_conn, fast_hook, capsys):
    job = start(ords_conn, fast_hook, duration=3600)
    s = sensor(job.ident)
    assert s.poke(context()) is False
    ords_conn.advance_clock(3601)
    s.execute(context())
    out = capsys.readouterr().out
    assert "is EXECUTING" in out and "is NOT RUNNING" in out and "successfully completed" in out


@pytest.mark.parametrize("cancel_on_kill", [True, False])
def test_killed_poke_mode_sensor_stops_the_job_only_when_asked(ords_conn, fast_hook, cancel_on_kill):
    from tests.unit.test_sql_oracledb import FakeOracle

    job = start(ords_conn, fast_hook, duration=30)
    task = sensor(f"{job.owner_name},{job.job_name}", oracle_conn_id="oracle_default", cancel_on_kill=cancel_on_kill)
    assert task.poke(context()) is False  # still running
    db = FakeOracle()
    task.hook.__dict__["oracle_hook"] = db
    task.on_kill()
    if cancel_on_kill:
        sql, binds = db.executed[0]
        assert "DBMS_DATAPUMP.STOP_JOB" in sql and (binds["owner"], binds["job_name"]) == (job.owner_name, job.job_name)
    else:
        assert db.executed == []


def test_killed_sensor_leaves_an_ended_job_alone(ords_conn, fast_hook):
    from tests.unit.test_sql_oracledb import FakeOracle

    job = start(ords_conn, fast_hook, duration=0)
    task = sensor(f"{job.owner_name},{job.job_name}", oracle_conn_id="oracle_default", cancel_on_kill=True)
    task.poke(context())
    db = FakeOracle()
    task.hook.__dict__["oracle_hook"] = db
    task.on_kill()
    assert db.executed == []


def test_killed_sensor_without_oracle_conn_id_stops_the_job_through_rest_sql(ords_conn, fast_hook):
    job = start(ords_conn, fast_hook, duration=30)
    task = sensor(f"{job.owner_name},{job.job_name}", cancel_on_kill=True)
    assert task.poke(context()) is False
    task.on_kill()
    assert ords_conn.jobs()[0]["outcome"] == "stopped"
