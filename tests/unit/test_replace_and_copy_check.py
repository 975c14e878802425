"""The pure rules behind replace_schemas (replace.py) and verify_copy (copy_check.py)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_datapump.copy_check import compare_copy, copy_failure
from airflow_provider_datapump.exceptions import DataPumpValidationError
from airflow_provider_datapump.payloads import build_payload
from airflow_provider_datapump.replace import (
    check_database_identities,
    check_static,
    database_key,
    export_read_schemas,
    is_oracle_maintained,
    jobs_in_use,
    normalize_replace_schemas,
    schemas_named_in_log,
    written_schemas,
)


def body(**kwargs):
    return build_payload("IMPORT", file_name="X.DMP", **kwargs)


@pytest.mark.parametrize(
    "kwargs, written",
    [
        ({"schemas": ["A", "B"]}, {"A", "B"}),
        ({"schemas": ["A", "B"], "remap_schemas": {"A": "X"}}, {"X", "B"}),
        ({"schemas": ["B"], "remap_schemas": {"A": "X"}}, {"B"}),  # A is not selected: X is not written
        ({"remap_schemas": {"A": "X"}}, {"X"}),
        ({"job_mode": "FULL", "remap_schemas": {"A": "X"}}, {"X"}),
        ({"schema_expressions": ["= 'A'"]}, {"A"}),
        ({"schema_expressions": ["LIKE 'A%'"]}, None),
        ({"job_mode": "FULL"}, None),
        ({}, None),
    ],
)
def test_written_schemas(kwargs, written):
    assert written_schemas(body(**kwargs)) == written


def test_normalize_and_maintained():
    assert normalize_replace_schemas(" hr, Sales ,hr") == ["HR", "SALES"]
    assert normalize_replace_schemas(["x"]) == ["X"]
    assert normalize_replace_schemas(None) == []
    with pytest.raises(DataPumpValidationError, match="replace_schemas"):
        normalize_replace_schemas(["a;drop"])
    with pytest.raises(DataPumpValidationError, match="replace_schemas"):
        normalize_replace_schemas(42)
    assert is_oracle_maintained("SYS") and is_oracle_maintained("APEX_230200") and not is_oracle_maintained("HR")


def test_static_checks_wait_for_a_pending_selection():
    check_static(["HR"], body(), selection_pending=True)  # from_job will say at run time
    with pytest.raises(DataPumpValidationError, match="cannot tell"):
        check_static(["HR"], body())


def test_database_key_ignores_the_alias_only():
    assert database_key("https://H:8443/ords/alias_a") == database_key(
        "https://h:8443/ords/alias_b/_/db-api/stable/database/datapump/jobs/A,B/"
    )
    assert database_key("https://h/ords/pdb1/a") != database_key("https://h/ords/pdb2/a")
    assert database_key("https://h/ords/a") == ("https", "h", 443, "ords")
    assert database_key("https://h:444/ords/a") != database_key("https://h/ords/a")
    assert database_key(None) is None and database_key("ftp://h/x/y") is None


def test_identities():
    check_database_identities(["HR"], {"db_unique_name": "A", "con_name": "P"}, {"db_unique_name": "B", "con_name": "P"})
    with pytest.raises(DataPumpValidationError, match="same database"):
        check_database_identities(["HR"], {"db_unique_name": "A", "con_name": "P"}, {"db_unique_name": "A", "con_name": "P"})


def test_export_read_schemas():
    assert export_read_schemas({"job_mode": "FULL"}) is None
    assert export_read_schemas({"schemas": ["HR"]}) == {"HR"}
    assert export_read_schemas({"objects": [{"schema": "HR"}]}) == {"HR"}


def test_jobs_in_use():
    running = [
        {"owner_name": "HR", "job_name": "J1", "operation": "EXPORT", "state": "EXECUTING"},
        {"owner_name": "DBA", "job_name": "J2", "operation": "IMPORT", "state": "EXECUTING"},
        {"owner_name": "DBA", "job_name": "J3", "operation": "IMPORT", "state": "EXECUTING"},
        {"owner_name": "DBA", "job_name": "J4", "operation": "IMPORT", "state": "EXECUTING"},
        {"owner_name": "DBA", "job_name": "J5", "operation": "IMPORT", "state": "NOT RUNNING"},
    ]
    targets = {"J2": {"SALES"}, "J3": None, "J4": {"OTHER"}}
    held = jobs_in_use(
        ["HR", "SALES"],
        running,
        me=None,
        same_dump_set=lambda job: False,
        targets_of=lambda job: targets[job["job_name"]],
    )
    assert held == {
        "HR": ["HR.J1 (owned by HR)", "DBA.J3 (an import whose targets cannot be read)"],
        "SALES": ["DBA.J2 (an import writing SALES)", "DBA.J3 (an import whose targets cannot be read)"],
    }
    same = jobs_in_use(["HR"], running[1:2], me=None, same_dump_set=lambda j: True, targets_of=lambda j: set())
    assert same == {"HR": ["DBA.J2 (an import of the same dump set)"]}
    assert jobs_in_use(["HR"], running[:1], me=("HR", "J1"), same_dump_set=bool, targets_of=bool) == {}


def test_schemas_named_in_log():
    text = 'ORA-31684: Object type USER:"TESTUSER2" already exists\n. . imported "HR"."EMP" 8 KB 14 rows'
    assert schemas_named_in_log(text) == {"TESTUSER2", "HR"}
    assert schemas_named_in_log("Starting job") == set()


def test_a_young_imports_own_control_table_is_not_a_target():
    # What a running import's log holds before it writes anything: only its own job names a schema.
    # Counted, the import looked as if it wrote DBAPI_USER alone, and a retry below Airflow 3.3
    # started a second import into the schema the first was still recreating.
    young = (
        'Master table "DBAPI_USER"."DATAPUMP_REST_IMPORT_1" successfully loaded/unloaded\n'
        'Starting "DBAPI_USER"."DATAPUMP_REST_IMPORT_1":\n'
    )
    assert schemas_named_in_log(young, ("DBAPI_USER", "DATAPUMP_REST_IMPORT_1")) == set()
    later = young + '. . imported "TESTUSER2"."EMP" 8 KB 14 rows\n'
    assert schemas_named_in_log(later, ("DBAPI_USER", "DATAPUMP_REST_IMPORT_1")) == {"TESTUSER2"}


def row(schema, name, rows, partition=None):
    return {"schema": schema, "name": name, "partition": partition, "rows": rows}


def test_compare_copy_applies_the_remap_and_the_selection():
    request = body(schemas=["A"], remap_schemas={"A": "X"}, tables=None)
    exported = [row("A", "T", 5), row("A", "P", 1, "P1"), row("A", "P", 2, "P2"), row("B", "T", 9)]
    imported = {"objects": [row("X", "T", 5), row("X", "P", 1, "P1"), row("X", "P", 2, "P2")], "object_count": 3}
    record = compare_copy(request, imported, exported, source="from_job")
    assert record["verified"] and record["tables_compared"] == 3 and copy_failure(record, "J") is None
    json.dumps(record)


def test_compare_copy_names_missing_and_different_tables():
    request = body(schemas=["A"])
    record = compare_copy(
        request, {"objects": [row("A", "T", 4)], "object_count": 1}, [row("A", "T", 5), row("A", "U", 1)], source="s"
    )
    assert record["verified"] is False and record["mismatch_count"] == 2
    message = copy_failure(record, "O.J")
    assert "A.T: 5 rows exported, 4 imported" in message and "A.U: exported with 1 rows, not imported" in message


def test_compare_copy_does_not_call_missing_what_it_cannot_settle():
    unsettled = compare_copy(
        body(schema_expressions=["BETWEEN 'A' AND 'C'"], remap_schemas={"A": "X"}),
        {"objects": [], "object_count": 0},
        [row("A", "T", 5)],
        source="s",
    )
    assert unsettled["mismatches"] == [] and unsettled["unchecked"]
    cut = compare_copy(body(schemas=["A"]), {"objects": [], "object_count": 5000}, [row("A", "T", 5)], source="s")
    assert cut["mismatches"] == [] and cut["unchecked"]
    empty = compare_copy(body(schemas=["A"]), {"objects": []}, [row("B", "T", 5)], source="s")
    assert empty["verified"] is False and "no table" in empty["reason"]
