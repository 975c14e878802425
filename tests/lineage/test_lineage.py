"""OpenLineage (#17): real events from real runs against the emulator, checked against the published
schemas, and proof that nothing changes without the extra.

The dag.test() runs happen in a process of their own: the OpenLineage provider reads its transport
configuration once per process, and a test that blocks its import must start from a clean one.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import STATIC_SECRETS
from tests.helpers import wait_done
from tests.lineage import olschema
from tests.lineage.refresh import LISTENER, REPO, connection, run_refresh

NAMESPACE, SERVICE = "oracle://db.example.test:1521", "FREEPDB1"
TARGET = ("oracle://test.example.test:1521", "TESTPDB")  # TEST_LISTENER's namespace and service


# ---------------------------------------------------------------- dag.test() with the extra


def test_refresh_example_emits_valid_events_that_trace_emp_through_the_dump(ords_pair, tmp_path):
    """From TESTUSER1.EMP on production, through the object both databases reach, to TESTUSER2.EMP on test."""
    for handle in (ords_pair.prod, ords_pair.test):
        handle.set_scenario(duration=1)
    out = run_refresh(ords_pair, tmp_path)
    assert out["state"] == "success", out["output"][-4000:]
    events = olschema.read_events(tmp_path)
    summary = olschema.assert_refresh_lineage(events, NAMESPACE, SERVICE, STATIC_SECRETS, target=TARGET)
    assert ords_pair.test.catalog()["schemas"]["TESTUSER2"]["tables"]["EMP"]["rows"] == 14
    assert "TESTUSER2" not in ords_pair.prod.catalog()["schemas"]
    print(f"\nlineage under dag.test(): {summary}")


def test_a_failed_export_reports_the_final_line_and_ora_codes(ords_pair, tmp_path):
    ords_pair.prod.set_scenario(duration=0.5, outcome="errors", error_count=1, ora_codes=["ORA-39083"])
    out = run_refresh(ords_pair, tmp_path, "--no-retries")
    assert out["state"] == "failed", out["output"][-4000:]
    events = olschema.read_events(tmp_path)
    fails = [e for e in events if e["eventType"] == "FAIL" and e["job"]["name"].endswith(".export")]
    assert len(fails) == 1, [(e["eventType"], e["job"]["name"]) for e in events]
    assert olschema.validate_event(fails[0]) == []
    error = fails[0]["run"]["facets"]["dataPumpError"]
    assert error["outcome"] == "succeeded_with_errors" and error["oraCodes"] == ["ORA-39083"]
    assert "completed with 1 error(s)" in error["message"] and error["errorCount"] == 1
    assert fails[0]["run"]["facets"]["dataPumpJob"]["operation"] == "EXPORT"
    assert not fails[0].get("inputs") and not fails[0].get("outputs")  # a failed job's log proves no copy
    assert not any(s in json.dumps(events) for s in STATIC_SECRETS)
    assert not [j for j in ords_pair.test.jobs() if j["operation"] == "IMPORT"], "the import ran after a failed export"


# ---------------------------------------------------------------- without the extra


def test_without_openlineage_the_refresh_runs_and_nothing_is_imported(ords_pair, tmp_path):
    for handle in (ords_pair.prod, ords_pair.test):
        handle.set_scenario(duration=0.5)
    out = run_refresh(ords_pair, tmp_path, "--block-openlineage")
    assert (out["state"], out["openlineage_modules"]) == ("success", []), out["output"][-4000:]
    assert not list(tmp_path.iterdir()), "events were written with OpenLineage unimportable"
    assert ords_pair.test.catalog()["schemas"]["TESTUSER2"]["tables"]["EMP"]["rows"] == 14


def test_importing_and_parsing_the_operators_imports_no_openlineage():
    code = """
import json, sys
before = {m for m in sys.modules}
from airflow_provider_datapump.operators.datapump import DataPumpExportOperator, DataPumpImportOperator
from airflow_provider_datapump.operators.fetch import DataPumpFetchFilesOperator
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 3.0 and 3.1
    from airflow.models.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
new = sorted(m for m in sys.modules if m not in before)
# Airflow's ProvidersManager reads every installed provider's metadata module; that is Airflow's doing
# and imports no OpenLineage code. Anything else OpenLineage, or our lineage module, must not load.
print(json.dumps([m for m in new if (m.split(".")[0] == "openlineage" or m.startswith("airflow.providers.openlineage.")
                  or m == "airflow_provider_datapump.lineage") and m != "airflow.providers.openlineage.get_provider_info"]))
"""
    proc = subprocess.run([sys.executable, "-c", code, str(REPO / "example_dags")], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "example_dags")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


# ---------------------------------------------------------------- which database


@pytest.fixture
def ords_only(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_LIN", json.dumps(
        {"conn_type": "ords", "host": "https://ords.example.test:8443/ords/pdb1/dbapi_user", "login": "u", "password": "p"}))


def test_oracle_conn_id_wins_and_names_the_database_as_airflows_oracle_provider_does(monkeypatch, ords_only):
    from airflow_provider_datapump import lineage

    monkeypatch.setenv("AIRFLOW_CONN_ORA_LIN", json.dumps(
        {"conn_type": "oracle", "host": "db1.example.test", "port": 1522, "login": "u", "password": "p",
         "extra": {"service_name": "PDB1.EXAMPLE"}}))
    assert lineage.database_identity("ords_lin", "ora_lin") == lineage.DatabaseIdentity(
        "oracle://db1.example.test:1522", "PDB1.EXAMPLE", "oracle_conn_id")
    # The Schema field stands for the service name when no extra names one, as in OracleHook.get_conn.
    monkeypatch.setenv("AIRFLOW_CONN_ORA_LIN", json.dumps({"conn_type": "oracle", "host": "db2", "schema": "ORCLPDB"}))
    assert lineage.database_identity("ords_lin", "ora_lin").namespace == "oracle://db2:1521"
    assert lineage.database_identity("ords_lin", "ora_lin").service == "ORCLPDB"


def test_the_connection_field_comes_next(monkeypatch):
    from airflow_provider_datapump import lineage

    monkeypatch.setenv("AIRFLOW_CONN_ORDS_LIN", json.dumps(
        {"conn_type": "ords", "host": "https://ords.example.test/ords/x", "login": "u", "password": "p",
         "extra": {"lineage_database": "[2001:db8::1]/PROD"}}))
    assert lineage.database_identity("ords_lin", None) == lineage.DatabaseIdentity(
        "oracle://[2001:db8::1]:1521", "PROD", "connection field")


@pytest.mark.parametrize("value", ["db.example.test", "db:1521/", "/PDB1", "user:pw@db:1521/PDB1", "db:port/PDB1", ""])
def test_a_malformed_connection_field_is_refused_naming_it(value):
    from airflow_provider_datapump import lineage
    from airflow_provider_datapump.exceptions import DataPumpConfigError

    with pytest.raises(DataPumpConfigError, match="lineage_database.*host\\[:port\\]/service_name"):
        lineage.parse_database_field(value, "ords_lin")


def test_without_either_the_ords_url_names_the_database_with_a_warning(ords_only, caplog):
    from airflow_provider_datapump import lineage

    with caplog.at_level(logging.WARNING, logger=lineage.__name__):
        identity = lineage.database_identity("ords_lin", None)
    assert identity == lineage.DatabaseIdentity("ords://ords.example.test:8443", "ords/pdb1/dbapi_user", "ORDS URL")
    assert "'lineage_database'" in caplog.text and "oracle_conn_id" in caplog.text


# ---------------------------------------------------------------- fetch, on real files


def test_fetch_reports_the_server_dumps_in_and_their_verified_copies_out(fast_hook, ords_conn, tmp_path, monkeypatch):
    from openlineage.client.serde import Serde

    from airflow_provider_datapump.operators.fetch import DataPumpFetchFilesOperator

    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", connection(ords_conn, lineage_database=LISTENER))
    ords_conn.set_scenario(duration=0.05)
    job = wait_done(fast_hook, fast_hook.create_job(
        {"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": [{"expression": "IN ('TESTUSER1')"}]}))
    op = DataPumpFetchFilesOperator(task_id="fetch", job=job.to_xcom(), destination=f"file://{tmp_path}/",
                                    hook_params={"retry_attempts": 2, "retry_backoff": 0.05})
    copied = op.execute(context={})["files"]
    lineage = op.get_openlineage_facets_on_complete(None)
    dump = next(f for f in copied if f["kind"] == "dump")
    assert [(d.namespace, d.name) for d in lineage.inputs] == [(NAMESPACE, f"{SERVICE}/DATA_PUMP_DIR/{dump['name']}")]
    out = json.loads(Serde.to_json(lineage.outputs[0]))
    assert (out["namespace"], out["name"]) == ("file", str(tmp_path / dump["name"]))
    assert out["facets"]["dataPumpFile"]["sha256"] == dump["sha256"] == olschema_sha256(tmp_path / dump["name"])
    assert out["facets"]["dataPumpFile"]["size"] == (tmp_path / dump["name"]).stat().st_size
    for name, facet in out["facets"].items():
        assert olschema._errors(facet, facet["_schemaURL"]) == [], name
    run = json.loads(Serde.to_json(lineage.run_facets["dataPumpJob"]))
    assert olschema._errors(run, run["_schemaURL"]) == [] and run["jobName"] == job.job.job_name


def olschema_sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- the checker itself


def test_the_schema_check_fails_a_bad_facet_and_an_unknown_one():
    facet = {"_producer": "x", "_schemaURL": "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json"
             "#/$defs/OutputStatisticsOutputDatasetFacet", "rowCount": "fourteen"}
    assert olschema._errors(facet, facet["_schemaURL"]), "a string rowCount passed"
    assert olschema._errors({}, "urn:nobody:nothing.json#/$defs/X") == ["no schema known for urn:nobody:nothing.json#/$defs/X"]
    ours = {"_producer": "x", "_schemaURL": "", "size": 1, "sha256": "not-hex"}
    from airflow_provider_datapump import lineage

    assert olschema._errors(ours, f"{lineage.FACETS_SCHEMA_URL}#/$defs/DataPumpFileDatasetFacet")
