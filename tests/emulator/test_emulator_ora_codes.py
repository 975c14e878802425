"""The ORA codes the emulator writes (ora_texts.py): a create refused with chosen codes (the
``refused`` outcome), and log lines that carry the job's real names (README "The ORA codes it can
produce, and how")."""

from __future__ import annotations

import httpx
import pytest


def _export(emu, **body):
    payload = {"operation": "EXPORT", "job_mode": "SCHEMA", "datapump_dir": "DP_STAGE",
               "schema_expressions": [{"expression": "IN ('TESTUSER1')"}], **body}
    return httpx.post(emu.api_url + "export", json=payload, auth=("dbapi_user", "DbApiUserPassword1"), timeout=10)


def test_a_refused_create_answers_400_with_the_codes_texts_and_creates_no_job(datapump_emulator):
    emu = datapump_emulator
    httpx.post(emu.url + "/_emulator/scenario/next",
               json={"outcome": "refused", "ora_codes": ["ORA-39002", "ORA-39070", "ORA-29283"]}).raise_for_status()
    resp = _export(emu)
    assert resp.status_code == 400
    assert resp.json()["message"].splitlines() == [
        "ORA-39002: invalid operation", "ORA-39070: Unable to open the log file.", "ORA-29283: invalid file operation"]
    assert emu.jobs() == []
    assert _export(emu).status_code == 201  # the queued refusal was for one create only


def test_refused_without_codes_is_a_missing_role_and_names_come_from_the_request(datapump_emulator):
    emu = datapump_emulator
    emu.set_scenario(outcome="refused")
    assert _export(emu).json()["message"] == "ORA-31631: privileges are required"
    emu.set_scenario(ora_codes=["ORA-39087", "ORA-20401"])
    uri = "https://objectstorage.example.com/n/ns/b/dp/o/x_%U.dmp"
    lines = _export(emu, credential_name="CRED", file_name=uri).json()["message"].splitlines()
    assert lines[0] == "ORA-39087: directory name DP_STAGE is invalid"
    assert lines[1] == "ORA-20401: Authorization failed for URI - https://objectstorage.example.com/n/ns/b/dp/o/x_01.dmp"


def test_a_running_job_cannot_be_turned_into_a_refused_create(datapump_emulator):
    emu = datapump_emulator
    emu.set_scenario(duration=30)
    job = _export(emu).json()
    resp = httpx.patch(f"{emu.url}/_emulator/jobs/{job['owner_name']},{job['job_name']}", json={"outcome": "refused"})
    assert resp.status_code == 400 and "refused" in resp.json()["message"]


@pytest.mark.parametrize(("code", "line"), [
    ("ORA-01653", "ORA-01653: unable to extend table TESTUSER1.{t} by 128 in tablespace USERS"),
    ("ORA-39151", 'ORA-39151: Table "TESTUSER1"."{t}" exists. All dependent metadata and data will be skipped due to table_exists_action of skip'),
    ("ORA-01918", "ORA-01918: user 'TESTUSER1' does not exist"),
])  # fmt: skip
def test_log_lines_name_the_jobs_own_tables_and_tablespaces(datapump_emulator, code, line):
    emu = datapump_emulator
    emu.set_scenario(duration=0, outcome="errors", error_count=1, ora_codes=[code])
    _export(emu)
    (job,) = emu.jobs()
    first_table = job["tables"][0].split(".")[1]
    assert job["errors"] == [line.format(t=first_table)]


def test_a_resumable_wait_is_logged_with_the_error_behind_it(datapump_emulator):
    emu = datapump_emulator
    emu.set_scenario(duration=0, outcome="errors", error_count=1, ora_codes=["ORA-39171"])
    _export(emu)
    (job,) = emu.jobs()
    assert [e.split(":")[0] for e in job["errors"]] == ["ORA-39171", "ORA-01653"]
    assert job["errors"][1].endswith("in tablespace USERS")
