"""replace_schemas and verify_copy on the import, against the emulator over real HTTP (Database API
and REST-Enabled SQL): every refusal before any request, the drop just before the create, the first
night, the in-use rule, reattach, and the copy compared with its export."""

from __future__ import annotations

import json

import pytest

from airflow_provider_datapump._compat import AIRFLOW_V_3_3_PLUS
from airflow_provider_datapump.exceptions import DataPumpError, DataPumpJobError, DataPumpValidationError
from airflow_provider_datapump.operators.datapump import DataPumpExportOperator, DataPumpImportOperator
from tests.helpers import StateStore, context, creates

FAST = {"poll_interval": 0.1, "hook_params": {"retry_backoff": 0.05}}
REMAP = {"TESTUSER1": "TESTUSER2"}


def export(**kwargs):
    return DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], **{**FAST, **kwargs})


def importer(**kwargs):
    return DataPumpImportOperator(task_id="import", **{**FAST, **kwargs})


def sql_requests(emu) -> list[int]:
    """Positions of the REST-Enabled SQL requests in the emulator's request log."""
    return [i for i, r in enumerate(emu.requests()) if r["path"].endswith("/_/sql")]


@pytest.fixture
def drops(monkeypatch):
    """Every hook.drop_user call (still run for real against the emulator)."""
    from airflow_provider_datapump.hooks.datapump import DataPumpHook

    calls: list[str] = []
    original = DataPumpHook.drop_user

    def recording(self, name):
        calls.append(name)
        return original(self, name)

    monkeypatch.setattr(DataPumpHook, "drop_user", recording)
    return calls


def exported(emu) -> dict:
    emu.set_scenario(duration=0)
    result = export().execute(context())
    emu.clear_requests()
    return result


# ------------------------------------------------------------------ refusals before any request


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"schemas": ["TESTUSER1"], "remap_schemas": REMAP, "replace_schemas": ["TESTUSER3"]}, "TESTUSER3 is not written"),
        ({"schemas": ["TESTUSER1"], "replace_schemas": "testuser1, sys"}, "SYS is an Oracle-maintained"),
        ({"schemas": ["TESTUSER1"], "remap_schemas": {"TESTUSER1": "SYSTEM"}, "replace_schemas": ["SYSTEM"]}, "Oracle-maintained"),
        ({"schema_expressions": ["LIKE 'TEST%'"], "replace_schemas": ["TESTUSER1"]}, "cannot tell which schemas"),
        ({"job_mode": "FULL", "replace_schemas": ["TESTUSER1"]}, "cannot tell which schemas"),
        ({"tables": ["EMP"], "schemas": ["TESTUSER1"], "remap_schemas": REMAP, "replace_schemas": ["TESTUSER2"]}, "TABLE mode"),
        ({"job_mode": "TABLESPACE", "tablespaces": ["USERS"], "replace_schemas": ["TESTUSER2"]}, "TABLESPACE mode"),
        ({"schemas": ["TESTUSER1"], "replace_schemas": ["bad name"]}, "not an Oracle identifier"),
    ],
)
def test_static_refusals_happen_at_parse_time(kwargs, words):
    with pytest.raises(DataPumpValidationError) as err:
        DataPumpImportOperator(task_id="t", file_name="X.DMP", **kwargs)
    assert err.value.field == "replace_schemas" and words in str(err.value)


def test_export_refuses_replace_schemas_and_verify_copy():
    with pytest.raises(DataPumpValidationError) as err:
        DataPumpExportOperator(task_id="t", schemas=["TESTUSER1"], replace_schemas=["TESTUSER1"])
    assert err.value.field == "replace_schemas"
    with pytest.raises(DataPumpValidationError) as err:
        DataPumpExportOperator(task_id="t", schemas=["TESTUSER1"], verify_copy=False)
    assert err.value.field == "verify_copy"


def test_replace_schemas_is_templated_and_normalised(ords_conn):
    op = importer(file_name="X.DMP", schemas=["TESTUSER1"], replace_schemas="{{ params.s }}")
    assert "replace_schemas" in op.template_fields
    op.replace_schemas = "testuser1 , testuser1"  # what rendering produced
    assert op._replace_names() == ["TESTUSER1"]
    op.replace_schemas = "TESTUSER3"
    with pytest.raises(DataPumpValidationError, match="TESTUSER3 is not written"):
        op.execute(context())
    assert ords_conn.requests() == []


def test_from_job_selection_is_checked_at_run_time_before_any_request(ords_conn):
    source = exported(ords_conn)
    from airflow.sdk import DAG

    with DAG("d", schedule=None):
        exp = export()
        # Parse time: from_job is an XComArg, so the selection it brings is not known yet.
        imp = importer(from_job=exp.output, remap_schemas=REMAP, replace_schemas=["TESTUSER3"])
    imp.from_job = source
    with pytest.raises(DataPumpValidationError, match="TESTUSER3 is not written by this import, which writes TESTUSER2"):
        imp.execute(context())
    assert ords_conn.requests() == []


def test_the_schema_the_export_read_on_the_same_ords_is_refused_before_any_request(ords_conn):
    source = exported(ords_conn)
    op = importer(from_job=source, replace_schemas=["TESTUSER1"])
    with pytest.raises(DataPumpValidationError) as err:
        op.execute(context())
    assert "TESTUSER1: the from_job export read it through the same ORDS and database" in str(err.value)
    assert ords_conn.requests() == []


def test_the_signed_in_user_is_refused_before_any_request(ords_conn):
    op = importer(file_name="X.DMP", schemas=["DBAPI_USER"], replace_schemas=["dbapi_user"])
    with pytest.raises(DataPumpValidationError, match="DBAPI_USER is the user connection 'ords_default' signs in as"):
        op.execute(context())
    assert ords_conn.requests() == []


def test_same_database_under_another_url_is_refused_by_its_sql_identity(ords_conn, monkeypatch, drops):
    """Another host name for the same ORDS: the URLs differ, SQL says it is one database. Only
    read-only identity queries are sent; no DROP and no job."""
    source = exported(ords_conn)
    other = dict(ords_conn.airflow_connection())
    other["host"] = other["host"].replace("127.0.0.1", "localhost")
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_PROD", json.dumps(other))
    source = {**source, "ords_conn_id": "ords_prod", "self_url": source["self_url"].replace("127.0.0.1", "localhost")}
    op = importer(from_job=source, replace_schemas=["TESTUSER1"])
    with pytest.raises(DataPumpValidationError, match="TESTUSER1: the from_job export read it on this same database"):
        op.execute(context())
    assert creates(ords_conn) == [] and drops == []
    assert len(sql_requests(ords_conn)) == 2  # the identity, once on each connection


def test_identity_unreadable_on_a_shared_name_is_refused(ords_conn, monkeypatch):
    source = exported(ords_conn)
    other = dict(ords_conn.airflow_connection())
    other["host"] = other["host"].replace("127.0.0.1", "localhost")
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_PROD", json.dumps(other))
    source = {**source, "ords_conn_id": "ords_prod", "self_url": "https://prod.example.com/ords/x/_/db-api/stable/"}
    ords_conn.set_scenario(rest_enabled_sql=False)
    op = importer(from_job=source, replace_schemas=["TESTUSER1"])
    with pytest.raises(DataPumpValidationError) as err:
        op.execute(context())
    assert "TESTUSER1: the from_job export read it" in str(err.value)
    assert "cannot prove the two databases differ" in str(err.value)
    assert "restEnabledSql.active" in str(err.value) and "oracle_conn_id" in str(err.value)  # both ways
    assert creates(ords_conn) == []


def test_without_sql_nothing_is_dropped(ords_conn):
    ords_conn.set_scenario(rest_enabled_sql=False)
    op = importer(file_name="X.DMP", schemas=["TESTUSER1"], remap_schemas=REMAP, replace_schemas=["TESTUSER2"])
    with pytest.raises(DataPumpValidationError, match="cannot check or drop schemas without SQL"):
        op.execute(context())
    assert creates(ords_conn) == []


def test_an_export_result_without_its_connection_cannot_prove_another_database(ords_conn, drops):
    source = exported(ords_conn)
    source = {k: v for k, v in source.items() if k != "ords_conn_id"}
    source["self_url"] = "https://prod.example.com/ords/x/_/db-api/stable/database/datapump/jobs/A,B/"
    op = importer(from_job=source, replace_schemas=["TESTUSER1"])
    with pytest.raises(DataPumpValidationError, match="cannot prove the two databases differ"):
        op.execute(context())
    assert creates(ords_conn) == [] and drops == []
    assert len(sql_requests(ords_conn)) == 1  # this database's identity only


def test_export_result_names_its_connection(ords_conn):
    result = exported(ords_conn)
    assert result["ords_conn_id"] == "ords_default"
    json.dumps(result)


# ------------------------------------------------------------------ the drop


def test_drop_happens_just_before_the_create_and_is_logged(ords_conn, capsys, drops):
    source = exported(ords_conn)
    first = importer(from_job=source, remap_schemas=REMAP, replace_schemas=["TESTUSER2"]).execute(context())
    assert first["replaced_schemas"] == [{"schema": "TESTUSER2", "dropped": False, "objects": 0}]
    assert "schema TESTUSER2 is not there yet" in capsys.readouterr().out  # the first night is no error
    ords_conn.advance_clock(1)
    ords_conn.clear_requests()
    capsys.readouterr()
    second = importer(from_job=source, remap_schemas=REMAP, replace_schemas=["TESTUSER2"]).execute(context())
    assert second["outcome"] == "succeeded" and second["ora_codes"] == []
    assert second["replaced_schemas"] == [{"schema": "TESTUSER2", "dropped": True, "objects": 2}]
    assert "dropped schema TESTUSER2 (2 objects) before the import" in capsys.readouterr().out
    assert drops == ["TESTUSER2"]
    log = ords_conn.requests()
    create = next(i for i, r in enumerate(log) if r["method"] == "POST" and "/datapump/" in r["path"])
    # The drop is the last SQL statement before the create, and nothing but reads come between.
    drop = max(i for i in sql_requests(ords_conn) if i < create)
    assert all(r["method"] == "GET" for r in log[drop + 1 : create])
    json.dumps(second)


def test_a_schema_in_use_by_a_running_import_is_not_dropped(ords_conn, drops):
    source = exported(ords_conn)
    ords_conn.set_scenario(duration=30)
    running = importer(from_job=source, remap_schemas=REMAP, wait_for_completion=False).execute(context())
    assert running["outcome"] == "running"
    ords_conn.advance_clock(1)
    ords_conn.clear_requests()
    op = importer(from_job=source, remap_schemas=REMAP, replace_schemas=["TESTUSER2"])
    with pytest.raises(DataPumpError) as err:
        op.execute(context())
    text = str(err.value)
    assert f"{running['owner_name']}.{running['job_name']}" in text and "TESTUSER2" in text
    assert "Wait for the job(s) to end (or stop them)" in text
    assert creates(ords_conn) == [] and drops == []


def test_without_sql_for_running_jobs_the_ords_job_list_is_read(ords_conn, drops):
    from airflow_provider_datapump.exceptions import DataPumpSqlUnavailableError

    source = exported(ords_conn)
    ords_conn.set_scenario(duration=30)
    running = importer(from_job=source, remap_schemas=REMAP, wait_for_completion=False).execute(context())
    ords_conn.advance_clock(1)
    op = importer(from_job=source, remap_schemas=REMAP, replace_schemas=["TESTUSER2"])

    def unavailable():
        raise DataPumpSqlUnavailableError("REST-Enabled SQL is not active")

    op.hook.running_jobs = unavailable
    with pytest.raises(DataPumpError, match=f"{running['job_name']} \\(an import of the same dump set\\)"):
        op.execute(context())
    assert drops == [] and len(creates(ords_conn)) == 1  # the running import only (exported() cleared the log)


def test_a_schema_owning_a_running_job_is_not_dropped(ords_conn, drops):
    ords_conn.set_scenario(duration=0)
    op = importer(file_name="X.DMP", schemas=["TESTUSER1"], remap_schemas=REMAP, replace_schemas=["TESTUSER2"])
    jobs = [{"owner_name": "TESTUSER2", "job_name": "SYS_EXPORT_SCHEMA_01", "operation": "EXPORT", "job_mode": "SCHEMA", "state": "EXECUTING"}]
    op.hook.running_jobs = lambda: jobs
    ords_conn.load_catalog({"schemas": {**ords_conn.catalog()["schemas"], "TESTUSER2": {"tables": {}}}})
    with pytest.raises(DataPumpError, match=r"TESTUSER2\.SYS_EXPORT_SCHEMA_01 \(owned by TESTUSER2\)"):
        op.execute(context())
    assert creates(ords_conn) == [] and drops == []


class WorkerDied(BaseException):
    """Stands for SIGKILL of the worker: nothing after it runs."""


def first_try_dies_mid_import(monkeypatch, ctx, **kwargs) -> None:
    import airflow_provider_datapump.hooks.waits as waits

    def die(_):
        raise WorkerDied()

    with monkeypatch.context() as patch, pytest.raises(WorkerDied):
        patch.setattr(waits.time, "sleep", die)
        importer(**kwargs).execute(ctx)


@pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="reattach needs task_state_store (Airflow 3.3)")
def test_a_retry_that_reattaches_never_drops_again(ords_conn, monkeypatch, drops):
    source = exported(ords_conn)
    night = {"from_job": source, "remap_schemas": REMAP, "replace_schemas": ["TESTUSER2"]}
    importer(**night).execute(context())  # night 1 creates TESTUSER2
    ords_conn.advance_clock(1)
    ords_conn.set_scenario(duration=1.0)
    store = StateStore()
    first_try_dies_mid_import(monkeypatch, context(store), **night)
    assert drops == ["TESTUSER2"]
    ords_conn.clear_requests()
    result = importer(**night).execute(context(store))
    assert result["outcome"] == "succeeded" and result["copy_verified"]["verified"]
    assert creates(ords_conn) == [] and drops == ["TESTUSER2"]  # the retry dropped nothing
    # The result still says what the try that started the job replaced.
    assert result["replaced_schemas"] == [{"schema": "TESTUSER2", "dropped": True, "objects": 2}]


def test_below_3_3_a_retry_does_not_drop_what_the_first_try_still_imports(ords_conn, monkeypatch, drops):
    """No task_state_store: the retry cannot reattach, so it would submit again; the in-use rule sees
    the first try's import (same dump set) and refuses before dropping anything."""
    source = exported(ords_conn)
    ords_conn.set_scenario(duration=30)
    night = {"from_job": source, "remap_schemas": REMAP, "replace_schemas": ["TESTUSER2"]}
    first_try_dies_mid_import(monkeypatch, {"ti": None}, **night)
    ords_conn.advance_clock(1)
    ords_conn.clear_requests()
    with pytest.raises(DataPumpError, match="an import of the same dump set"):
        importer(**night).execute({"ti": None})
    assert creates(ords_conn) == [] and drops == []


# ------------------------------------------------------------------ verify_copy


def test_copy_verified_against_from_job(ords_conn, capsys):
    source = exported(ords_conn)
    result = importer(from_job=source, remap_schemas=REMAP).execute(context())
    assert result["copy_verified"]["verified"] is True and result["copy_verified"]["tables_compared"] == 2
    assert "Copy verified: 2 table(s)" in capsys.readouterr().out


def test_a_changed_count_fails_naming_the_table(ords_conn):
    source = exported(ords_conn)
    source["objects"] = [dict(o, rows=o["rows"] + 1) if o["name"] == "EMP" else o for o in source["objects"]]
    with pytest.raises(DataPumpJobError) as err:
        importer(from_job=source, remap_schemas=REMAP).execute(context())
    assert "TESTUSER2.EMP: 15 rows exported, 14 imported" in str(err.value)
    assert "verify_copy=False" in str(err.value)


def test_a_missing_table_fails_naming_it(ords_conn):
    source = exported(ords_conn)
    source["objects"] = [*source["objects"], {"schema": "TESTUSER1", "name": "BONUS", "partition": None, "rows": 3, "bytes": 1}]
    with pytest.raises(DataPumpJobError, match="TESTUSER2.BONUS: exported with 3 rows, not imported"):
        importer(from_job=source, remap_schemas=REMAP).execute(context())


def test_verify_copy_false_only_logs(ords_conn, capsys):
    source = exported(ords_conn)
    source["objects"] = [dict(o, rows=0) for o in source["objects"]]
    result = importer(from_job=source, remap_schemas=REMAP, verify_copy=False).execute(context())
    assert result["outcome"] == "succeeded" and result["copy_verified"]["verified"] is False
    assert result["copy_verified"]["mismatch_count"] == 2
    assert "Accepted: verify_copy is off" in capsys.readouterr().out


def test_without_from_job_the_export_log_the_import_links_is_compared(ords_conn):
    source = exported(ords_conn)
    result = importer(file_name=source["dump_file_template"], schemas=["TESTUSER1"], remap_schemas=REMAP).execute(context())
    record = result["copy_verified"]
    assert record["verified"] is True and record["source"].startswith("export log ")


def test_nothing_to_compare_is_said_and_does_not_fail(ords_conn, capsys):
    source = exported(ords_conn)
    op = importer(file_name=source["dump_file_template"], schemas=["TESTUSER1"], remap_schemas=REMAP)
    # An ORDS that links no export log to the import (the export's log is not in its directory).
    original = op.hook.resolve

    def without_export_log(job, **extras):
        result = original(job, **extras)
        own = result.log_file
        files = tuple(f for f in result.files if f.get("kind") != "log" or f.get("name") == own)
        return type(result)(**{**result.__dict__, "files": files})

    op.hook.resolve = without_export_log
    result = op.execute(context())
    assert result["copy_verified"]["verified"] is False
    assert "no from_job" in result["copy_verified"]["reason"]
    assert "Copy not verified: no from_job" in capsys.readouterr().out


def test_deferred_path_verifies_the_same_way(ords_conn):
    from airflow.providers.common.compat.sdk import TaskDeferred

    from tests.helpers import run_trigger

    source = exported(ords_conn)
    source["objects"] = [dict(o, rows=99) for o in source["objects"]]
    ords_conn.set_scenario(duration=0.5)
    op = importer(from_job=source, remap_schemas=REMAP, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context())
    event = run_trigger(deferred.value.trigger)
    with pytest.raises(DataPumpJobError, match="99 rows exported"):
        op.execute_complete(context(), event.payload)


# ------------------------------------------------------------------ two databases


URI = "https://objectstorage.eu-frankfurt-1.oraclecloud.com/n/ns/b/refresh/o/nightly_%U.dmp"


def test_two_databases_two_nights_replace_the_schema_the_export_read(tmp_path, monkeypatch, capsys):
    """Production and test behind two ORDS (two emulators sharing an object store): the schema the
    export read may be replaced on test, because SQL proves the databases differ. Night 2 lands
    night 2's rows, production keeps its schema, and the copy is verified each night."""
    from airflow_provider_datapump.emulator.server import run_emulator

    store = tmp_path / "bucket"
    with (
        run_emulator(data_dir=tmp_path / "prod", duration=0, object_store_dir=str(store), db_unique_name="PROD") as prod,
        run_emulator(data_dir=tmp_path / "test", duration=0, object_store_dir=str(store), db_unique_name="TEST") as test,
    ):
        monkeypatch.setenv("AIRFLOW_CONN_ORDS_PROD", json.dumps(prod.airflow_connection()))
        monkeypatch.setenv("AIRFLOW_CONN_ORDS_TEST", json.dumps(test.airflow_connection()))
        landed = []
        for night, rows in enumerate((20, 25), start=1):
            prod.set_table_rows("TESTUSER1", "EMP", rows)
            uri = URI.replace("nightly", f"night{night}")  # object storage refuses to overwrite (ORA-27038)
            source = export(ords_conn_id="ords_prod", credential_name="OBJ_CRED", file_name=uri).execute(context())
            assert source["ords_conn_id"] == "ords_prod"
            result = importer(
                ords_conn_id="ords_test", from_job=source, credential_name="OBJ_CRED", file_name=uri,
                replace_schemas=["TESTUSER1"],
            ).execute(context())
            assert result["outcome"] == "succeeded", result["message"]
            assert result["replaced_schemas"] == [{"schema": "TESTUSER1", "dropped": True, "objects": 2}]
            assert result["copy_verified"]["verified"] is True
            landed.append(test.catalog()["schemas"]["TESTUSER1"]["tables"]["EMP"]["rows"])
            assert prod.catalog()["schemas"]["TESTUSER1"]["tables"]["EMP"]["rows"] == rows
            prod.advance_clock(1)
            test.advance_clock(1)
        assert landed == [20, 25]
        assert "dropped schema TESTUSER1 (2 objects)" in capsys.readouterr().out


def test_a_deferred_import_reports_what_it_replaced(ords_conn):
    """Airflow builds the operator anew for execute_complete: the drops reach it through next_kwargs."""
    from airflow.providers.common.compat.sdk import TaskDeferred

    from tests.helpers import run_trigger

    source = exported(ords_conn)
    night = {"from_job": source, "remap_schemas": REMAP, "replace_schemas": ["TESTUSER2"]}
    importer(**night).execute(context())
    ords_conn.advance_clock(1)
    ords_conn.set_scenario(duration=0.5)
    with pytest.raises(TaskDeferred) as deferred:
        importer(**night, deferrable=True).execute(context())
    assert deferred.value.kwargs == {"carried": {"replaced_schemas": [{"schema": "TESTUSER2", "dropped": True, "objects": 2}]}}
    event = run_trigger(deferred.value.trigger)
    result = importer(**night, deferrable=True).execute_complete(context(), event.payload, **deferred.value.kwargs)
    assert result["replaced_schemas"] == [{"schema": "TESTUSER2", "dropped": True, "objects": 2}]
    assert result["copy_verified"]["verified"] is True
    json.dumps(result)
