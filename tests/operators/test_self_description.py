"""The operators follow the server, not the provider's table (issue 27): against a release whose
description declares table_exists_action on import, a DAG author's payload key is sent and
honoured; against a release that does not, it is refused before anything is done for the job."""

from __future__ import annotations

import pytest

from airflow_provider_datapump.exceptions import DataPumpJobError, DataPumpValidationError
from airflow_provider_datapump.operators.datapump import DataPumpExportOperator, DataPumpImportOperator
from airflow_provider_datapump.emulator import ORDS_VERSIONS
from tests.helpers import context, creates

FAST = {"poll_interval": 0.1, "hook_params": {"retry_backoff": 0.05}}


def export_then_change_emp(emu) -> dict:
    emu.set_scenario(duration=0.1)
    exported = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], **FAST).execute(context())
    emu.set_table_rows("TESTUSER1", "EMP", 99)  # the table moved on since the export
    emu.advance_clock(1)
    return exported


def reimport_emp(exported: dict, action: str | None) -> dict:
    payload = {"table_exists_action": action} if action else None
    # A table_exists_action key is parse-time valid: the server is asked at execute time.
    task = DataPumpImportOperator(task_id="import", from_job=exported, job_mode="TABLE", schemas=["TESTUSER1"], tables=["EMP"],
                                  payload=payload, allowed_ora_codes=["ORA-39151"], **FAST)
    return task.execute(context())


@pytest.mark.parametrize(("action", "rows"), [("REPLACE", 14), ("TRUNCATE", 14), ("APPEND", 99 + 14)])
@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "next", "openapi": "release"}], indirect=True)
def test_a_key_the_server_declares_is_sent_and_honoured(ords_conn, action, rows):
    exported = export_then_change_emp(ords_conn)
    result = reimport_emp(exported, action)
    assert result["outcome"] == "succeeded", result["message"]
    assert ords_conn.catalog()["schemas"]["TESTUSER1"]["tables"]["EMP"]["rows"] == rows
    sent = creates(ords_conn)[-1]
    assert sent["path"].endswith("/import") and sent["dropped_keys"] == []


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "next", "openapi": "release"}], indirect=True)
def test_without_the_key_data_pumps_default_skip_applies(ords_conn):
    """SKIP (ORA-39151, allowed here) leaves the table as it was, and the copy check says so."""
    exported = export_then_change_emp(ords_conn)
    with pytest.raises(DataPumpJobError, match="TESTUSER1.EMP: exported with 14 rows, not imported"):
        reimport_emp(exported, None)
    assert ords_conn.catalog()["schemas"]["TESTUSER1"]["tables"]["EMP"]["rows"] == 99


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "26.3", "openapi": "release"}, {"openapi": "none"}],
                         indirect=True, ids=["26.3 describes itself", "no description"])
def test_a_key_the_server_does_not_declare_is_refused_before_the_schema_is_dropped(ords_conn):
    """An import that would replace its target schema is refused before the drop, not after it."""
    exported = export_then_change_emp(ords_conn)
    task = DataPumpImportOperator(task_id="import", from_job=exported, remap_schemas={"TESTUSER1": "TESTUSER2"},
                                  replace_schemas=["TESTUSER2"], payload={"table_exists_action": "REPLACE"}, **FAST)
    before = len(ords_conn.requests())
    with pytest.raises(DataPumpValidationError) as err:
        task.execute(context())
    assert err.value.field == "table_exists_action"
    described = ords_conn.state.settings["openapi"] == "release"
    assert ("this ORDS (26.3.0) does not declare table_exists_action on import" in str(err.value)) is described
    # Nothing was posted: no create, and no SQL (the schema drop) either.
    assert [r["path"] for r in ords_conn.requests()[before:] if r["method"] == "POST"] == []


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": v, "openapi": "release"} for v in ORDS_VERSIONS],
                         indirect=True, ids=list(ORDS_VERSIONS))
def test_each_releases_description_lets_an_export_and_an_import_run_with_nothing_dropped(ords_conn):
    """Each modelled release's own description: the operators' defaults hold on it, and the server
    drops nothing (on 21.2 the export is sent no file_name, which that release does not declare)."""
    ords_conn.set_scenario(duration=0.1)
    exported = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"], **FAST).execute(context())
    ords_conn.advance_clock(1)
    imported = DataPumpImportOperator(task_id="import", from_job=exported, job_mode="SCHEMA", schemas=["TESTUSER1"],
                                      tables=["EMP"], remap_schemas={"TESTUSER1": "TESTUSER2"}, **FAST).execute(context())
    assert [(o["schema"], o["name"]) for o in imported["objects"]] == [("TESTUSER2", "EMP")]
    assert [r["dropped_keys"] for r in creates(ords_conn)] == [[], []]
