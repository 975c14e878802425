"""The version gate (_compat): what each Airflow lacks is said once per task, never raised.

Runs on whichever Airflow the venv has; `make test-matrix` runs it on 3.0, 3.1, 3.2 and 3.3, so the
"below 3.3" branch is exercised for real there, not only through the version argument.
"""

from __future__ import annotations

import pytest
from packaging.version import Version

from airflow_provider_datapump import _compat
from airflow_provider_datapump.operators.datapump import DataPumpExportOperator
from airflow_provider_datapump.sensors.datapump import DataPumpJobSensor
from tests.helpers import context

MARK = "(below 3.3)"


@pytest.mark.parametrize("version", ["3.0.6", "3.1.8", "3.2.2"])
def test_below_3_3_both_limits_are_named_with_their_meaning(version):
    line = _compat.version_limits("reattach", "trigger_on_kill", version=Version(version))
    assert line.startswith(f"Airflow {version} {MARK}")
    assert "retry submits a new Data Pump job" in line and "task_state_store" in line
    assert "does not stop its Data Pump job" in line and "on_kill" in line
    assert "\n" not in line


@pytest.mark.parametrize("version", ["3.3.0", "3.3.2", "3.4.0"])
def test_from_3_3_nothing_is_missing(version):
    assert _compat.version_limits("reattach", "trigger_on_kill", version=Version(version)) is None


def test_only_the_features_a_task_uses_are_named():
    line = _compat.version_limits("trigger_on_kill", version=Version("3.1.8"))
    assert "on_kill" in line and "task_state_store" not in line
    assert _compat.version_limits(version=Version("3.0.6")) is None


def test_the_running_airflow_is_classified_by_its_own_version():
    import airflow

    assert _compat.AIRFLOW_V_3_3_PLUS is (Version(Version(airflow.__version__).base_version) >= Version("3.3"))


class Lines:
    """Stands in for a task's logger: caplog did not see a task's self.log on Airflow 3.1.8."""

    def __init__(self):
        self.lines: list[str] = []

    def info(self, fmt, *args):
        self.lines.append(fmt % args)


def _spy(monkeypatch, module):
    seen = Lines()
    monkeypatch.setattr(module, "log_version_limits", lambda log, **kw: _compat.log_version_limits(seen, **kw))
    return seen


def test_an_export_logs_one_line_below_3_3_and_none_from_3_3(ords_conn, monkeypatch):
    from airflow_provider_datapump.operators import datapump

    seen = _spy(monkeypatch, datapump)
    ords_conn.set_scenario(duration=0.1)
    op = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], poll_interval=0.1)
    assert op.execute(context())["outcome"] == "succeeded"
    if _compat.AIRFLOW_V_3_3_PLUS:
        assert seen.lines == []
    else:
        assert len(seen.lines) == 1 and "retry submits a new Data Pump job" in seen.lines[0]


@pytest.mark.skipif(_compat.AIRFLOW_V_3_3_PLUS, reason="from Airflow 3.3 a retry reattaches (tests/operators)")
def test_below_3_3_a_retry_submits_a_new_job_as_the_line_says(ords_conn):
    from tests.helpers import StateStore, creates

    ords_conn.set_scenario(duration=0.1)
    store = StateStore()
    DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], poll_interval=0.1).execute(context(store))
    ords_conn.advance_clock(1)  # ORDS names jobs by the second (ORA-31634)
    DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], poll_interval=0.1).execute(context(store))
    assert len(creates(ords_conn)) == 2 and store.data == {}


def test_a_poking_sensor_without_cancel_on_kill_uses_nothing_version_bound(ords_conn, monkeypatch):
    from airflow_provider_datapump.sensors import datapump

    ords_conn.set_scenario(duration=0.0)
    job = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], poll_interval=0.1).execute(context())
    sensor = DataPumpJobSensor(task_id="wait", job=job, poke_interval=0.1, timeout=30)
    seen = _spy(monkeypatch, datapump)
    sensor.execute(context())
    assert seen.lines == []


async def test_amask_secret_masks_on_this_airflow():
    # The hook masks each OAuth token it fetches in a trigger through this; below 3.3 the task SDK
    # has no amask_secret and the shim stands in.
    from airflow.providers.common.compat.sdk import redact

    await _compat.amask_secret("TokenOnlyATriggerKnows42")
    assert redact("bearer TokenOnlyATriggerKnows42 sent") == "bearer *** sent"
