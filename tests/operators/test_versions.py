"""Right on every ORDS version the emulator models (issue 15): the documented endpoints by default,
an export then an import of part of it loads exactly that part, and a key some version drops
silently is caught by reading the log back against the request."""

from __future__ import annotations

import json

import pytest

from airflow_provider_datapump._compat import AIRFLOW_V_3_3_PLUS

from airflow_provider_datapump.emulator import ORDS_VERSIONS
from airflow_provider_datapump.exceptions import DataPumpJobError, DataPumpValidationError
from airflow_provider_datapump.operators.datapump import DataPumpExportOperator, DataPumpImportOperator
from tests.helpers import context, creates

FAST = {"poll_interval": 0.1, "hook_params": {"retry_backoff": 0.05}}


def pytest_generate_tests(metafunc):
    # Every version, unless the test names its own.
    pinned = any("datapump_emulator" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize"))
    if "datapump_emulator" in metafunc.fixturenames and not pinned:
        metafunc.parametrize("datapump_emulator", ORDS_VERSIONS, indirect=True)


def test_export_then_import_of_part_of_it_loads_exactly_that_part(ords_conn):
    ords_conn.set_scenario(duration=0.2)
    version = ords_conn.state.settings["ords_version"]
    exported = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], **FAST).execute(context())
    assert {o["name"] for o in exported["objects"]} == {"EMP", "DEPT"}
    ords_conn.advance_clock(1)
    # SCHEMA mode, so Data Pump creates the missing target user from the dump's CREATE USER;
    # the table selection becomes a name expression, which every version's import documents.
    imported = DataPumpImportOperator(task_id="import", from_job=exported, job_mode="SCHEMA", schemas=["TESTUSER1"],
                                      tables=["EMP"], remap_schemas={"TESTUSER1": "TESTUSER2"}, **FAST).execute(context())
    assert [(o["schema"], o["name"], o["rows"]) for o in imported["objects"]] == [("TESTUSER2", "EMP", 14)]
    assert imported["selection_check"]["ok"] and {"tables", "remap_schemas"} <= set(imported["selection_check"]["checked"])
    tables = ords_conn.catalog()["schemas"]["TESTUSER2"]["tables"]
    assert set(tables) == {"EMP"}, f"ORDS {version} loaded {sorted(tables)}"
    paths = [r["path"].rsplit("/", 1)[-1] for r in creates(ords_conn)]
    assert paths == ["export", "import"]  # the endpoints every version documents
    assert all(r["dropped_keys"] == [] for r in creates(ords_conn) if version != "21.2")


def test_a_filter_for_an_import_is_refused_before_anything_is_sent(ords_conn):
    # Whether an endpoint takes a key is the server's to say (issue 27), so this is settled at execute
    # time: by the table here, where the server describes nothing; still before any create.
    task = DataPumpImportOperator(task_id="import", file_name="X%U.DMP", filter="EMP", **FAST)
    with pytest.raises(DataPumpValidationError) as err:
        task.execute(context())
    assert err.value.field == "filter" and "import endpoint" in err.value.reason
    assert creates(ords_conn) == []


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "21.2"}], indirect=True)
def test_a_key_the_server_dropped_fails_the_task_naming_what_was_asked_and_what_ran(ords_conn):
    """ORDS before 21.3 documents no file_name on the export endpoint and drops it: the job runs, with
    ORDS's own names. Only the log shows it, and the task says so instead of succeeding."""
    ords_conn.set_scenario(duration=0.1)
    with pytest.raises(DataPumpJobError) as err:
        DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], file_name="NIGHTLY_%U.DMP", **FAST).execute(context())
    text = str(err.value)
    assert "did not do what was asked" in text and "file_name NIGHTLY_%U.DMP was asked, the dump set is EXPDAT01-" in text
    assert creates(ords_conn)[0]["dropped_keys"] == ["file_name"]
    ords_conn.advance_clock(1)
    accepted = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], file_name="NIGHTLY_%U.DMP",
                                      verify_selection=False, **FAST).execute(context())
    assert accepted["selection_check"]["ok"] is False and accepted["outcome"] == "succeeded"


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "24.4"}], indirect=True)
def test_the_connections_ords_version_refuses_what_that_version_would_drop(ords_conn, monkeypatch):
    conn = ords_conn.airflow_connection()
    conn["extra"] = json.dumps({"ords_version": "24.4"})
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps(conn))
    task = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], keep_master=True, **FAST)
    with pytest.raises(DataPumpValidationError, match="keep_master: is documented on the ORDS export endpoint only from 25.4"):
        task.execute(context())
    assert creates(ords_conn) == []


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "26.3"}], indirect=True)
def test_keep_master_0_is_judged_from_its_log_with_oracle_conn_id(ords_conn, monkeypatch):
    ords_conn.set_scenario(duration=0.2)
    read = []

    def read_log(self, directory, file_name):  # what UTL_FILE would return: the file in the directory
        read.append((directory, file_name))
        with open(f"{ords_conn.state.data_dir}/{directory}/{file_name}", encoding="utf-8") as fh:
            return fh.read()

    from airflow_provider_datapump.hooks.datapump import DataPumpHook

    monkeypatch.setattr(DataPumpHook, "read_log", read_log)
    result = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], keep_master=False,
                                    oracle_conn_id="oracle_default", **FAST).execute(context())
    assert result["outcome"] == "succeeded" and "the job is gone from ORDS; its log says" in result["message"]
    assert read == [("DATA_PUMP_DIR", result["log_file"])]
    gone = DataPumpHook().resolve({"owner_name": result["owner_name"], "job_name": result["job_name"]})
    assert gone.verdict.outcome.value == "vanished"  # ORDS itself no longer knows the job


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "26.3"}], indirect=True)
def test_keep_master_0_without_oracle_conn_id_is_judged_from_its_log_through_rest_sql(ords_conn):
    """No oracle_conn_id and no stand-in: the log is read with TO_CLOB(BFILENAME(...)) over _/sql."""
    from airflow_provider_datapump.hooks.datapump import DataPumpHook

    ords_conn.set_scenario(duration=0.2)
    result = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], keep_master=False, **FAST).execute(context())
    assert result["outcome"] == "succeeded" and "the job is gone from ORDS; its log says" in result["message"]
    reads = [r for r in ords_conn.requests() if r["path"].endswith("/_/sql") and r["status"] == 200]
    assert reads, "the verdict came through REST-Enabled SQL"
    gone = DataPumpHook().resolve({"owner_name": result["owner_name"], "job_name": result["job_name"]})
    assert gone.verdict.outcome.value == "vanished"


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "26.3"}], indirect=True)
def test_keep_master_0_without_any_sql_fails_as_vanished_and_says_why(ords_conn, capsys):
    ords_conn.set_scenario(duration=0.2, rest_enabled_sql=False)
    with pytest.raises(DataPumpJobError):
        DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], keep_master=False, **FAST).execute(context())
    out = capsys.readouterr().out
    assert "its log cannot be read" in out and "restEnabledSql.active=true" in out and "oracle_conn_id" in out


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "26.3"}], indirect=True)
def test_drop_job_when_done_without_oracle_conn_id_drops_through_rest_sql(ords_conn):
    from airflow_provider_datapump.hooks.datapump import DataPumpHook

    ords_conn.set_scenario(duration=0.2)
    result = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], drop_job_when_done=True, **FAST).execute(context())
    assert result["outcome"] == "succeeded"
    assert all(j.job_name != result["job_name"] for j in DataPumpHook().list_jobs(limit=100).items)
    ords_conn.advance_clock(1)
    ords_conn.set_scenario(outcome="fatal")
    with pytest.raises(DataPumpJobError):
        DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], drop_job_when_done=True, **FAST).execute(context())
    failed = [j for j in ords_conn.jobs() if j["outcome"] == "fatal"]
    assert failed and all(j["visible"] for j in failed)  # a failed job's table is kept (Data Pump restarts from it)


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "26.3"}], indirect=True)
def test_drop_job_when_done_drops_the_control_table_once_the_verdict_is_read(ords_conn, monkeypatch):
    ords_conn.set_scenario(duration=0.2)
    from airflow_provider_datapump.hooks.datapump import DataPumpHook

    dropped = []

    def drop_job(self, owner, job):  # what DROP TABLE does to ORDS's view: the job leaves the list
        dropped.append(job)
        ords_conn.state.drop_job(owner, job)
        return True

    monkeypatch.setattr(DataPumpHook, "drop_job", drop_job)
    result = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], drop_job_when_done=True,
                                    oracle_conn_id="oracle_default", **FAST).execute(context())
    assert result["outcome"] == "succeeded" and dropped == [result["job_name"]]
    assert all(j["job_name"] != result["job_name"] for j in DataPumpHook().list_jobs(limit=100).items)

    ords_conn.advance_clock(1)
    ords_conn.set_scenario(outcome="fatal")
    with pytest.raises(DataPumpJobError):
        DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], drop_job_when_done=True,
                               oracle_conn_id="oracle_default", **FAST).execute(context())
    assert len(dropped) == 1  # a failed job's table is kept (Data Pump restarts from it)


@pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="reattach needs task_state_store (Airflow 3.3)")
@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "26.3"}], indirect=True)
def test_a_reattach_confirms_the_stored_identity_by_the_dump_set(ords_conn):
    """The stored identity says job X; a retry that finds X with another submission's dump set
    (a name reused, or a store edited by hand) refuses it instead of reporting it."""
    from airflow_provider_datapump.hooks.datapump import DataPumpHook
    from tests.helpers import StateStore, wait_done

    ords_conn.set_scenario(duration=0.1)
    theirs = DataPumpHook().create_job({"operation": "EXPORT", "schema_expressions": [{"expression": "= 'TESTUSER1'"}],
                                        "file_name": "THEIRS_%U.DMP"})
    wait_done(DataPumpHook(), theirs)
    store = StateStore()
    store.set("datapump_job", {"owner_name": theirs.owner_name, "job_name": theirs.job_name,
                               "dump_name": "EXPDAT%U-20261201_000000-0123ABCD.DMP"})
    with pytest.raises(DataPumpJobError, match="is not this task's: its dump set is THEIRS_01.DMP"):
        DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], **FAST).execute(context(store))

    ords_conn.advance_clock(1)
    ctx = context()
    result = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], **FAST).execute(ctx)
    stored = ctx["task_state_store"].data["datapump_job"]
    assert stored["dump_name"].startswith("EXPDAT%U-")  # kept for the next try's check
    again = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], **FAST).execute(context(ctx["task_state_store"]))
    assert again["job_name"] == result["job_name"]  # the retry found the job it started, and confirmed it
