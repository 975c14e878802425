"""The payload's arguments are listed once (payloads.PAYLOAD_ARGUMENTS); everything that names them is held to it."""

from __future__ import annotations

import inspect

import pytest

from airflow_provider_datapump.operators.datapump import DataPumpExportOperator, DataPumpImportOperator
from airflow_provider_datapump.payloads import PAYLOAD_ARGUMENTS, build_payload


def keyword_only(func) -> list[str]:
    return [p.name for p in inspect.signature(func).parameters.values() if p.kind is p.KEYWORD_ONLY]


def test_build_payload_takes_exactly_the_listed_arguments():
    assert sorted(keyword_only(build_payload)) == sorted(PAYLOAD_ARGUMENTS)


@pytest.mark.parametrize("operator", [DataPumpExportOperator, DataPumpImportOperator])
def test_each_operator_takes_and_templates_every_payload_argument(operator):
    signature = keyword_only(operator.__init__)
    assert [a for a in PAYLOAD_ARGUMENTS if a not in signature] == [], "an argument missing from the signature"
    assert [a for a in PAYLOAD_ARGUMENTS if a not in operator.template_fields] == [], "an argument not templated"
    # ...and hands each of them to build_payload under its own name.
    task = operator(task_id="t", schemas="HR", datapump_dir="DATA_PUMP_DIR", file_name="X.DMP")
    assert set(task._payload_args()) >= set(PAYLOAD_ARGUMENTS)


def test_import_from_an_object_store_export_parses_with_credential_name():
    """from_job=export.output with credential_name is checked at parse time against a stand-in
    https:// URI, not refused for lacking one (the export gives the real URI at run time)."""
    from airflow.sdk import DAG

    with DAG("refresh", schedule=None):
        exp = DataPumpExportOperator(
            task_id="export", schemas=["TESTUSER1"], credential_name="OBJ_STORE_CRED",
            file_name="https://objectstorage.example.com/n/ns/b/dp/o/testuser1_%U.dmp",
        )
        imp = DataPumpImportOperator(
            task_id="import", from_job=exp.output, credential_name="OBJ_STORE_CRED",
            remap_schemas={"TESTUSER1": "TESTUSER2"},
        )
    body = imp.build_body(parse_time=True)
    assert body["credential_name"] == "OBJ_STORE_CRED"
    assert body["file_name"].startswith("https://")
    # Without credential_name the stand-in stays a plain file name in a directory object.
    with DAG("local", schedule=None):
        exp = DataPumpExportOperator(task_id="export", schemas=["TESTUSER1"])
        imp = DataPumpImportOperator(task_id="import", from_job=exp.output)
    assert not imp.build_body(parse_time=True)["file_name"].startswith("https://")
