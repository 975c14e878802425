"""One test per validation rule: invalid input raises a clear error naming the field, and valid
input becomes a well-formed ORDS body that validates to itself."""

from __future__ import annotations

import json

import pytest

from airflow_provider_datapump.exceptions import DataPumpValidationError
from airflow_provider_datapump.payloads import body_for_endpoint, build_payload, validate_payload


def rejects(field: str, **kwargs):
    operation = kwargs.pop("operation", "EXPORT")
    with pytest.raises(DataPumpValidationError) as err:
        build_payload(operation, **kwargs)
    assert err.value.field == field, str(err.value)
    assert str(err.value).startswith(field)
    return str(err.value)


# ------------------------------------------------------------------ accepted bodies


def test_schemas_become_quoted_in_list():
    body = build_payload("EXPORT", schemas=["testuser1", "HR"])
    assert body == {
        "operation": "EXPORT",
        "job_mode": "SCHEMA",
        "schema_expressions": [{"expression": "IN ('TESTUSER1','HR')"}],
    }


def test_tables_imply_table_mode_and_combine_with_schemas():
    body = build_payload("EXPORT", schemas=["TESTUSER1"], tables=["EMP", "DEPT"], datapump_dir="test_dir", threads=2)
    assert body["job_mode"] == "TABLE"
    assert body["name_expressions"] == [{"expression": "IN ('EMP','DEPT')"}]
    assert body["datapump_dir"] == "TEST_DIR"
    assert body["threads"] == 2


def test_seed_payloads_validate_unchanged():
    seed = {
        "operation": "EXPORT",
        "job_mode": "TABLE",
        "datapump_dir": "TEST_DIR",
        "name_expressions": [{"expression": "='EMP'"}, {"expression": "!='DEPT'"}],
        "schema_expressions": [{"expression": "= 'TESTUSER1'"}],
    }
    assert validate_payload(seed) == seed
    imp = {
        "operation": "IMPORT",
        "job_mode": "FULL",
        "datapump_dir": "TEST_DIR",
        "file_name": "EXPDAT%U-20201001_14_58_04.DMP",
        "remap_schemas": [{"source": "TESTUSER1", "target": "TESTUSER3"}],
    }
    assert validate_payload(imp) == imp


def test_raw_payload_is_merged_last_and_may_be_json():
    body = build_payload("EXPORT", schemas=["A"], payload=json.dumps({"threads": 4, "job_mode": "full"}))
    assert body["threads"] == 4 and body["job_mode"] == "FULL"


def test_remap_dict_becomes_ords_list():
    body = build_payload("IMPORT", file_name="X%U.DMP", remap_schemas={"testuser1": "testuser2"})
    assert body["remap_schemas"] == [{"source": "TESTUSER1", "target": "TESTUSER2"}]


def test_object_store_uri_with_credential():
    uri = "https://objectstorage.eu-frankfurt-1.oraclecloud.com/n/t/b/dp/o/sales_%U.dmp"
    body = build_payload("EXPORT", schemas=["SALES"], credential_name="obj_cred", file_name=uri)
    assert body["file_name"] == uri and body["credential_name"] == "OBJ_CRED"


def test_validation_round_trips():
    body = build_payload(
        "IMPORT", job_mode="schema", file_name="EXP%U.DMP", filter="a, b", schemas=["A"], keep_master=True,
        remap_schemas=[{"source": "A", "target": "B"}],
    )
    assert validate_payload(body) == body
    assert json.loads(json.dumps(body)) == body


# ------------------------------------------------------------------ the validation table


def test_unknown_payload_key_is_refused_with_a_hint():
    message = rejects("payload.tableExistsAction", payload={"tableExistsAction": "REPLACE"})
    assert "silently drop" in message


def test_a_key_no_documented_release_has_is_left_to_the_server_and_refused_by_the_table():
    """table_exists_action is spelt as ORDS spells keys, and a later release may declare it
    (issue 27): parse time lets it through; without a description the table refuses it, saying why."""
    body = build_payload("IMPORT", file_name="X%U.DMP", payload={"table_exists_action": "REPLACE"})
    assert body["table_exists_action"] == "REPLACE"
    with pytest.raises(DataPumpValidationError) as err:
        body_for_endpoint(body, None)
    assert err.value.field == "table_exists_action"
    assert "SKIP" in err.value.reason and "did not declare it" in err.value.reason


def test_another_tools_name_for_an_ords_key_is_refused_at_parse_time():
    assert "threads" in rejects("payload.parallel", payload={"parallel": 4})


def test_misspelt_key_suggests_the_right_one():
    body = build_payload("EXPORT", payload={"datapump_dri": "X"})
    with pytest.raises(DataPumpValidationError) as err:
        body_for_endpoint(body, None)
    assert err.value.field == "datapump_dri" and "'datapump_dir'" in err.value.reason


def test_enum_job_mode():
    rejects("job_mode", job_mode="SCHEMAS")


def test_enum_operation_in_payload_must_match():
    rejects("payload.operation", payload={"operation": "IMPORT"})


def test_remap_on_export():
    rejects("remap_schemas", remap_schemas={"A": "B"})


def test_import_needs_file_name():
    rejects("file_name", operation="IMPORT", schemas=["A"])


@pytest.mark.parametrize(
    "name",
    ["../etc/passwd", "a/b.dmp", "a\\b.dmp", "x'.dmp", 'x".dmp', "x;drop.dmp", "x\n.dmp", "x .dmp", "%Z.dmp", ""],
)
def test_file_name_must_be_a_plain_template(name):
    rejects("file_name", operation="IMPORT", file_name=name)


def test_object_store_uri_needs_credential():
    rejects("file_name", file_name="https://bucket.example.com/o/x.dmp")


@pytest.mark.parametrize("uri", [
    "http://insecure.example.com/o/x.dmp", "https://h/o/x'.dmp", "https://u:p@h/o/x.dmp", "X.DMP",
    # Unicode whitespace and invisible characters (NEL found by the fuzzer, 2026-12-07).
    "https://h/b/\x85/o/x.dmp", "https://h/o/x\u2028.dmp", "https://h/o/x\u00a0.dmp", "https://h/o/x\u200b.dmp",
    "https://h/o/x\u202e.dmp",
])
def test_credential_requires_https_uri(uri):
    rejects("file_name", credential_name="CRED", file_name=uri)


def test_credential_without_file_name():
    rejects("file_name", credential_name="CRED")


@pytest.mark.parametrize("name", ["1ABC", "A B", "A'B", "A;B", 'A"B', "A-B", "x" * 129, ""])
def test_names_must_be_identifiers(name):
    rejects("schemas[0]", schemas=[name])


def test_remap_names_must_be_identifiers():
    rejects("remap_schemas[0].target", operation="IMPORT", file_name="X.DMP", remap_schemas={"A": "B C"})


def test_remap_twice():
    rejects("remap_schemas[1].source", operation="IMPORT", file_name="X.DMP",
            remap_schemas=[{"source": "A", "target": "B"}, {"source": "a", "target": "C"}])


@pytest.mark.parametrize(
    "expr, why",
    [
        ("IN ('A'); DROP TABLE X", ";"),
        ("= 'A' -- comment", "comment"),
        ("= 'A' /* x */", "comment"),
        ("= 'A", "quote"),
        ("IN ('A'", "parenthes"),
        ("= 'A')", "parenthes"),
        ("'A' OR 1=1", "comparison"),
        ("= 'A'\nUNION", "control"),
        ("", "empty"),
    ],
)
def test_expressions_are_one_condition(expr, why):
    assert why in rejects("name_expressions[0]", name_expressions=[expr])


def test_expression_quotes_may_hide_markers():
    body = build_payload("EXPORT", job_mode="TABLE", name_expressions=["LIKE 'A--B%'", "= 'O''NEIL'"])
    assert [i["expression"] for i in body["name_expressions"]] == ["LIKE 'A--B%'", "= 'O''NEIL'"]


def test_expression_item_with_extra_key():
    rejects("schema_expressions[0]", schema_expressions=[{"expression": "= 'A'", "exp": 1}])


@pytest.mark.parametrize("threads", [0, 100, "many", True, 1.5])
def test_threads_range(threads):
    rejects("threads", threads=threads)


def test_keep_master_values():
    rejects("keep_master", keep_master=2)


def test_payload_must_be_an_object():
    rejects("payload", payload="[1, 2]")
    rejects("payload", payload="{not json")


# ------------------------------------------------------------------ endpoints (issue 15)

from airflow_provider_datapump.payloads import ENDPOINT_FIELDS  # noqa: E402



def test_the_default_endpoint_is_the_operations_own():
    body = build_payload("EXPORT", schemas=["HR"])
    endpoint, sent = body_for_endpoint(body, None)
    assert endpoint == "export" and "operation" not in sent and sent["schema_expressions"]
    endpoint, sent = body_for_endpoint(build_payload("IMPORT", file_name="X%U.DMP"), None)
    assert endpoint == "import" and "operation" not in sent
    endpoint, sent = body_for_endpoint(body, "jobs")
    assert endpoint == "jobs" and sent["operation"] == "EXPORT"


@pytest.mark.parametrize(
    ("operation", "args", "endpoint", "field", "words"),
    [
        ("IMPORT", {"file_name": "X%U.DMP", "filter": "EMP"}, None, "filter", "not a field of the ORDS import endpoint"),
        ("EXPORT", {"keep_master": 0}, "jobs", "keep_master", "export and import endpoints"),
    ],
)
def test_a_key_the_endpoint_would_drop_is_refused_by_name(operation, args, endpoint, field, words):
    body = build_payload(operation, **args)
    with pytest.raises(DataPumpValidationError) as caught:
        body_for_endpoint(body, endpoint)
    assert caught.value.field == field and words in caught.value.reason


@pytest.mark.parametrize(
    ("version", "args", "endpoint", "field"),
    [
        ("21.2", {"file_name": "X%U.DMP"}, None, "file_name"),  # 19c/21c export has no file_name
        ("24.4", {"keep_master": 1}, None, "keep_master"),  # keep_master from 25.4
        ("25.4", {}, "jobs", "endpoint"),  # no jobs/ page after 24.4
    ],
)
def test_the_connections_ords_version_narrows_the_keys(version, args, endpoint, field):
    body = build_payload("EXPORT", schemas=["HR"], **args)
    with pytest.raises(DataPumpValidationError) as caught:
        body_for_endpoint(body, endpoint, version)
    assert caught.value.field == field
    body_for_endpoint(body, endpoint, "26.3" if endpoint is None else "24.4")  # a version that has it


def test_every_field_belongs_to_some_endpoint():
    from airflow_provider_datapump.payloads import FIELDS

    assert set(FIELDS) == set().union(*ENDPOINT_FIELDS.values())
    assert "filter" not in ENDPOINT_FIELDS["import"] and "remap_schemas" not in ENDPOINT_FIELDS["export"]
