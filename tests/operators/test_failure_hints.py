"""Every code in the hints table, produced by the emulator, fails its task with the cause and the
action under the ORA lines, naming the real file, directory, schema, credential, user and role:
once from the job's log and once from the create request's error answer (issue #28).

The codes come from the emulator's own ORA texts (``emulator/ora_texts.py``), through its scenario
knobs (``outcome`` ``errors``/``fatal`` with ``ora_codes`` for the log, ``refused`` for the create),
and, where the emulator's model produces a code by itself, from that model (a missing dump, an
existing dump file, an import into existing tables).
"""

from __future__ import annotations

import re
import string

import pytest

from airflow_provider_datapump.exceptions import DataPumpHTTPError, DataPumpJobError
from airflow_provider_datapump.hints import HINTS
from airflow_provider_datapump.operators.datapump import DataPumpExportOperator, DataPumpImportOperator
from airflow_provider_datapump.sensors.datapump import DataPumpJobSensor
from tests.helpers import context

FAST = {"poll_interval": 0.05, "hook_params": {"retry_backoff": 0.05}}
DIRECTORY = "DP_STAGE"
CREDENTIAL = "OBJ_STORE_CRED"
URI = "https://objectstorage.eu-frankfurt-1.oraclecloud.com/n/ns/b/dp/o/night/testuser1_%U.dmp"
OBJECT_STORE_CODES = {"ORA-20401", "ORA-20404"}
# The real names each placeholder of a hint must become, for an export of TESTUSER1 by DBAPI_USER.
# ``file``: the local dump template or the URI; checked by the part every form of it keeps.
REAL = {
    "user": "DBAPI_USER",
    "directory": DIRECTORY,
    "schema": "TESTUSER1",
    "schema_list": "TESTUSER1",
    "role": "DATAPUMP_EXP_FULL_DATABASE",
    "tablespace": None,  # from the ORA line: USERS (the table's) or TEMP
    "object": "TESTUSER1",
    "path": "/opt/oracle/admin/ORCLCDB/dpdump/",
}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _export(code: str) -> DataPumpExportOperator:
    if code in OBJECT_STORE_CODES:
        where = {"credential_name": CREDENTIAL, "file_name": URI}
    else:
        where = {"file_name": "NIGHTLY_%U.DMP"}
    return DataPumpExportOperator(
        task_id="export", schemas=["TESTUSER1"], datapump_dir=DIRECTORY, **where, **FAST
    )


def _check(message: str, code: str) -> None:
    hint = next(h for h in HINTS if h.code == code)
    assert "What the ORA codes mean" in message, message
    (line,) = [ln for ln in message.splitlines() if ln.strip().startswith(f"{code} ({hint.message})")]
    assert "What to do:" in line
    assert "<the " not in line, f"a name was left unfilled: {line}"  # every name is the real one
    for name in _placeholders(hint.cause) | _placeholders(hint.action):
        if name == "file":
            expected = "testuser1_" if code in OBJECT_STORE_CODES else "NIGHTLY_"
        elif name == "uri":
            expected = "https://objectstorage.eu-frankfurt-1.oraclecloud.com/n/ns/b/dp/o/night/testuser1_"
        elif name == "credential":
            expected = CREDENTIAL
        elif name == "tablespace":
            expected = "TEMP" if code == "ORA-01652" else "USERS"
        elif name == "grantee":
            expected = "TESTUSER1_READER"
        elif name == "directory_sql":
            expected = f"directory_name = '{DIRECTORY}'"
        else:
            expected = REAL[name]
        assert expected in line, f"{code}: {name} should read {expected!r} in: {line}"


@pytest.mark.parametrize("code", [h.code for h in HINTS])
def test_a_code_in_the_job_log_fails_the_task_with_its_hint(ords_conn, code):
    # A wrapper code alone: its own hint is then shown (under a known specific code it is not).
    outcome = "fatal" if code in ("ORA-39006", "ORA-39065") else "errors"
    ords_conn.set_scenario(duration=0, outcome=outcome, error_count=1, ora_codes=[code])
    with pytest.raises(DataPumpJobError) as err:
        _export(code).execute(context())
    message = str(err.value)
    assert f"  {code}: " in message  # the ORA line from the log is there, above the hint
    assert message.index("ORA- lines from the log") < message.index("What the ORA codes mean")
    _check(message, code)


@pytest.mark.parametrize("code", [h.code for h in HINTS])
def test_a_code_in_the_create_answer_fails_the_task_with_its_hint(ords_conn, code):
    ords_conn.set_scenario(outcome="refused", ora_codes=[code])
    with pytest.raises(DataPumpHTTPError) as err:
        _export(code).execute(context())
    assert err.value.status == 400 and not err.value.transient
    message = str(err.value)
    assert f"{code}: " in message.split("What the ORA codes mean")[0]  # ORDS's answer first
    _check(message, code)
    assert not [j for j in ords_conn.jobs() if j["operation"] == "EXPORT"]  # refused: no job


def test_a_wrapper_gives_way_to_the_code_under_it(ords_conn):
    ords_conn.set_scenario(outcome="refused", ora_codes=["ORA-39006", "ORA-39065", "ORA-65100"])
    with pytest.raises(DataPumpHTTPError) as err:
        _export("ORA-65100").execute(context())
    hints = str(err.value).split("What the ORA codes mean")[1]
    assert "ORA-65100 (" in hints and "ORA-39006 (" not in hints and "ORA-39065 (" not in hints
    assert "CREATE OR REPLACE DIRECTORY DP_STAGE" in hints and "GRANT READ, WRITE ON DIRECTORY DP_STAGE TO DBAPI_USER" in hints


def test_the_emulators_own_refusals_get_their_hints(ords_conn):
    """Not a scenario: a missing dump set, a dump file that exists, an import into existing tables."""
    ords_conn.set_scenario(duration=0)
    missing = DataPumpImportOperator(task_id="imp", file_name="NOPE_%U.DMP", datapump_dir="DATA_PUMP_DIR", **FAST)
    with pytest.raises(DataPumpHTTPError) as err:
        missing.execute(context())
    text = str(err.value)
    assert "ORA-31640 (" in text and "NOPE" in text and "directory DATA_PUMP_DIR" in text
    assert "ORA-39001 (" not in text.split("What the ORA codes mean")[1]  # the wrapper gives way

    export = DataPumpExportOperator(task_id="exp", schemas=["TESTUSER1"], file_name="ONCE_%U.DMP", **FAST)
    exported = export.execute(context())
    ords_conn.advance_clock(1)
    with pytest.raises(DataPumpHTTPError) as err:
        export.execute(context())
    assert "ORA-31641 (" in str(err.value) and "ONCE_01.DMP" in str(err.value)

    into = {"from_job": exported, "remap_schemas": {"TESTUSER1": "TESTUSER2"}, **FAST}
    DataPumpImportOperator(task_id="imp1", **into).execute(context())
    ords_conn.advance_clock(1)
    with pytest.raises(DataPumpJobError) as err:
        DataPumpImportOperator(task_id="imp2", **into).execute(context())
    hints = str(err.value).split("What the ORA codes mean")[1]
    assert "ORA-39151 (" in hints and "replace_schemas=['TESTUSER2']" in hints
    assert "ORA-31684 (" in hints


def test_the_deferred_path_and_the_sensor_give_the_same_hint(ords_conn):
    from airflow.providers.common.compat.sdk import TaskDeferred

    from tests.helpers import run_trigger

    ords_conn.set_scenario(duration=0.3, outcome="errors", error_count=1, ora_codes=["ORA-01555"])
    op = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], deferrable=True, **FAST)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context())
    event = run_trigger(deferred.value.trigger)
    with pytest.raises(DataPumpJobError) as err:
        op.execute_complete(context(), event.payload)
    assert "ORA-01555 (snapshot too old)" in str(err.value) and "UNDO_RETENTION" in str(err.value)
    job = event.payload["job"]
    sensor = DataPumpJobSensor(task_id="wait", job=f"{job['owner_name']},{job['job_name']}", poke_interval=0.05)
    with pytest.raises(DataPumpJobError) as err:
        sensor.execute(context())
    assert re.search(r"ORA-01555 \(snapshot too old\): The export of TESTUSER1 reads", str(err.value))
