"""One test per defect the fuzzers of this directory found, so each stays fixed at any budget.

Not marked ``fuzz``: these are ordinary, fast tests and run in every suite.
"""

from __future__ import annotations

import io
import json

import pytest

from airflow_provider_datapump.exceptions import DataPumpHTTPError, DataPumpProtocolError, DataPumpValidationError
from airflow_provider_datapump.jobs import Outcome, parse_final_line, parse_log
from airflow_provider_datapump.payloads import build_payload, validate_payload
from tests.helpers import wait_done

# ------------------------------------------------------------------ payloads


def test_unknown_payload_key_with_a_control_character_cannot_forge_a_log_line():
    with pytest.raises(DataPumpValidationError) as err:
        build_payload("EXPORT", payload={"x\nERROR forged line": 1})
    assert str(err.value).isprintable() and err.value.field.startswith("payload.")


def test_unknown_expression_keys_are_echoed_bounded():
    with pytest.raises(DataPumpValidationError) as err:
        validate_payload({"operation": "EXPORT", "name_expressions": [{"expression": "= 'A'", "k" * 5000: 1}]})
    assert len(str(err.value)) < 300


def test_a_mismatched_payload_operation_is_echoed_bounded():
    with pytest.raises(DataPumpValidationError, match="^payload.operation:") as err:
        build_payload("EXPORT", payload={"operation": "A" * 5000})
    assert len(str(err.value)) < 300


@pytest.mark.parametrize("threads", ["²", "0" * 5000 + "1", "٣"])
def test_threads_text_is_ascii_digits_only(threads):
    # "²".isdigit() is true but int("²") raises ValueError; int() refuses over 4300 digits.
    with pytest.raises(DataPumpValidationError, match="^threads:"):
        build_payload("EXPORT", threads=threads)
    assert build_payload("EXPORT", threads=" 4 ")["threads"] == 4


@pytest.mark.parametrize("uri", ["https://[::1/n/x/b/y/o/z.dmp", "https://[bad]/o/z.dmp"])
def test_malformed_object_store_uri_is_a_validation_error(uri):
    with pytest.raises(DataPumpValidationError, match="^file_name:"):
        build_payload("EXPORT", credential_name="CRED", file_name=uri)


# ------------------------------------------------------------------ logs


@pytest.mark.parametrize(
    "line",
    [
        '. . exported "A"."B" 1.2.3 KB 5 rows',
        '. . exported "A"."B" . KB 5 rows',
        '. . exported "A"."B" ' + "9" * 400 + " KB 5 rows",  # float() gives inf
        '. . exported "A"."B" 1 KB ' + "9" * 5000 + " rows",  # int() refuses over 4300 digits
        'Job "A"."B" completed with ' + "9" * 5000 + " error(s) at Mon Nov 23 16:06:50 2026",
    ],
)
def test_corrupt_log_lines_are_skipped_not_fatal(line):
    summary = parse_log(line + '\n. . exported "A"."C" 8.906 KB 14 rows\n')
    assert [(o.name, o.rows, o.bytes) for o in summary.objects] == [("C", 14, 9119)]
    assert parse_final_line(line) is None or parse_final_line(line).error_count < 10**9


# ------------------------------------------------------------------ answers the emulator never gives

BASE = "http://ords.fuzz/ords/dbapi_user"
JOB = f"{BASE}/_/db-api/stable/database/datapump/jobs/A,B/"


@pytest.fixture
def fake_hook(monkeypatch):
    from airflow_provider_datapump.hooks.datapump import DataPumpHook

    monkeypatch.setenv("AIRFLOW_CONN_ORDS_FAKE", json.dumps({"conn_type": "ords", "host": BASE, "login": "u", "password": "not-a-secret"}))
    hook = DataPumpHook("ords_fake", retry_attempts=1)
    yield hook
    hook.close()


# respx: the emulator always answers well-formed JSON or problem+json.
@pytest.mark.parametrize("status, error", [(200, DataPumpProtocolError), (400, DataPumpHTTPError)])
def test_json_nested_deeper_than_python_recurses_is_a_provider_error(fake_hook, status, error):
    import respx

    with respx.mock() as mock:
        mock.get(JOB).respond(status, content=b"[" * 100_000 + b"]" * 100_000, headers={"Content-Type": "application/json"})
        with pytest.raises(error):
            fake_hook.get_job("A,B")


def test_malformed_self_link_from_the_server_is_not_a_crash(fake_hook, capsys):
    import respx

    body = {"owner_name": "A", "job_name": "B", "state": "NOT RUNNING",
            "links": [{"rel": "self", "href": "http://[::1/x"}, {"rel": "related", "href": JOB + "X.LOG"}]}
    with respx.mock() as mock:
        mock.get(JOB).respond(json=body)
        log = mock.get(JOB + "X.LOG").respond(text='Job "A"."B" successfully completed at Mon Nov 23 16:06:50 2026\n')
        result = fake_hook.resolve("A,B")
    assert result.verdict.outcome is Outcome.SUCCEEDED and log.called
    assert "<a malformed URL>" in capsys.readouterr().out


# ------------------------------------------------------------------ the emulator


def test_date_substitution_variables_expand_in_export_file_names(fast_hook, ords_conn):
    # The provider accepts %T, %D, ... (Data Pump's own variables); the emulator used to write
    # them literally, and a name with '%' is one the hook rightly refuses to request.
    ords_conn.set_scenario(duration=0)
    job = fast_hook.create_job({"operation": "EXPORT", "file_name": "NIGHTLY_%T_%H_%U.DMP", "threads": 2})
    result = wait_done(fast_hook, job)
    dumps = sorted(f["name"] for f in result.files if f["kind"] == "dump")
    assert len(dumps) == 2 and all("%" not in name for name in dumps), dumps
    assert fast_hook.stream_file(result.to_xcom(), dumps[0], io.BytesIO()) > 0
