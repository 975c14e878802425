"""Bad input answers 400 problem+json and creates no job; 404/405/415 shapes."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BAD_BODIES = {
    "malformed json": b'{"operation": "EXPORT",',
    "json array": b'[{"operation": "EXPORT"}]',
    "json string": b'"EXPORT"',
    "empty body": b"",
    "no operation": b'{"job_mode": "FULL"}',
    "unknown operation": b'{"operation": "DELETE"}',
    "operation not a string": b'{"operation": 1}',
    "unknown job_mode": b'{"operation": "EXPORT", "job_mode": "TRANSPORTABLE"}',
    "job_mode not a string": b'{"operation": "EXPORT", "job_mode": ["FULL"]}',
    "import without file_name": b'{"operation": "IMPORT", "job_mode": "FULL"}',
    "import of missing file": b'{"operation": "IMPORT", "file_name": "NOPE01.DMP"}',
    "import of missing pattern": b'{"operation": "IMPORT", "file_name": "NOPE%U.DMP"}',
    "bad name expression": b'{"operation": "EXPORT", "job_mode": "TABLE", "name_expressions": [{"expression": "= \'EMP\' OR 1=1"}]}',
    "bad schema expression": b'{"operation": "EXPORT", "schema_expressions": [{"expression": "IN (\'A\'); DROP USER X"}]}',
    "bad tablespace expression": b'{"operation": "EXPORT", "job_mode": "TABLESPACE", "tablespace_expressions": [{"expression": "= \'USERS\' --"}]}',
    "expression not a list": b'{"operation": "EXPORT", "name_expressions": "= \'EMP\'"}',
    "expression item without expression": b'{"operation": "EXPORT", "name_expressions": [{"expr": "= \'EMP\'"}]}',
    "threads zero": b'{"operation": "EXPORT", "threads": 0}',
    "threads string": b'{"operation": "EXPORT", "threads": "2"}',
    "bad directory": b'{"operation": "EXPORT", "datapump_dir": "../etc"}',
    "bad filter item": b'{"operation": "EXPORT", "filter": "TESTUSER1, X\'; --"}',
    "empty filter": b'{"operation": "EXPORT", "filter": " , "}',
    "remap not a list": b'{"operation": "IMPORT", "file_name": "X.DMP", "remap_schemas": {"source": "A"}}',
    "credential without file_name": b'{"operation": "EXPORT", "credential_name": "OBJ_CRED"}',
    "deeply nested json": b'{"operation": "EXPORT", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "threads float": b'{"operation": "EXPORT", "threads": 1.5}',
    "threads huge": b'{"operation": "EXPORT", "threads": 1e308}',
    "not utf-8": b'{"operation": "EXPORT\xff"}',
    "credential with plain file_name": b'{"operation": "EXPORT", "credential_name": "OBJ_CRED", "file_name": "X.DMP"}',
}


# These tests create through POST jobs/, which ORDS documents up to 24.4.
pytestmark = pytest.mark.parametrize("datapump_emulator", ["24.4"], indirect=True)

BAD_FILE_NAMES = {
    "single quote": "EXP'01.DMP",
    "double quote": 'EXP"01.DMP',
    "newline": "EXP01.DMP\nHOST rm -rf /",
    "carriage return": "EXP01.DMP\r",
    "tab": "EXP\t01.DMP",
    "nul": "EXP\x0001.DMP",
    "semicolon": "EXP01.DMP;HOST id",
    "slash": "sub/EXP01.DMP",
    "absolute": "/etc/passwd",
    "backslash": "..\\EXP01.DMP",
    "dot dot": "..EXP01.DMP",
    "uri without credential": "https://objectstorage.example.com/n/ns/b/bucket/o/x.dmp",
    "empty": "",
    "not a string": 12,
}


def assert_no_job(client):
    assert client.get("jobs/").json()["count"] == 0


@pytest.mark.parametrize("body", list(BAD_BODIES.values()), ids=list(BAD_BODIES))
def test_bad_bodies(client, emu, h, body):
    resp = client.post("jobs/", content=body, headers={"Content-Type": "application/json"})
    h.assert_problem(resp, 400)
    assert_no_job(client)


def test_missing_file_message_names_the_file(client, emu, h):
    resp = client.post("jobs/", json={"operation": "IMPORT", "datapump_dir": "TEST_DIR", "file_name": "NOPE01.DMP"})
    msg = h.assert_problem(resp, 400)["message"]
    assert "ORA-39001" in msg and "ORA-31640" in msg and "NOPE01.DMP" in msg


@pytest.mark.parametrize("operation", ["EXPORT", "IMPORT"])
@pytest.mark.parametrize("file_name", list(BAD_FILE_NAMES.values()), ids=list(BAD_FILE_NAMES))
def test_bad_file_names(client, emu, h, operation, file_name):
    resp = client.post("jobs/", json={"operation": operation, "file_name": file_name})
    h.assert_problem(resp, 400)
    assert_no_job(client)


@pytest.mark.parametrize("path", ["export", "import"])
def test_bad_input_on_rpc_endpoints(client, emu, h, path):
    h.assert_problem(client.post(path, content=b"{oops", headers={"Content-Type": "application/json"}), 400)
    h.assert_problem(client.post(path, json={"job_mode": "NOPE", "file_name": "X.DMP"}), 400)
    h.assert_problem(client.post(path, json={"file_name": "a;b"}), 400)
    assert_no_job(client)


def test_import_without_file_name_on_rpc(client, emu, h):
    h.assert_problem(client.post("import", json={"job_mode": "FULL"}), 400)


def test_import_of_a_file_that_is_not_a_dump(client, emu, h):
    _, done = h.run_job(client, {"operation": "EXPORT", "filter": "TESTUSER1"})
    log_name = h.links(done, "related")[0].rsplit("/", 1)[1]
    resp = client.post("jobs/", json={"operation": "IMPORT", "file_name": log_name})
    assert "ORA-39000" in h.assert_problem(resp, 400)["message"]
    assert client.get("jobs/").json()["count"] == 1


def test_export_onto_an_existing_file(client, emu, h):
    h.run_job(client, {"operation": "EXPORT", "filter": "TESTUSER1", "file_name": "FIXED.DMP"})
    emu.advance_clock(1)  # a create in the same second would fail on its name first
    resp = client.post("jobs/", json={"operation": "EXPORT", "filter": "TESTUSER1", "file_name": "FIXED.DMP"})
    assert "ORA-31641" in h.assert_problem(resp, 400)["message"]


def test_wrong_content_type(client, emu, h):
    resp = client.post("jobs/", content=b"operation=EXPORT", headers={"Content-Type": "application/x-www-form-urlencoded"})
    h.assert_problem(resp, 415)
    assert_no_job(client)


def test_unknown_keys_are_ignored_but_recorded(client, emu):
    resp = client.post(
        "jobs/",
        json={
            "operation": "EXPORT",
            "filter": "TESTUSER1",
            "table_exists_action": "REPLACE",
            "jobMode": "FULL",
            "name_expressions": [{"expression": "LIKE '%'", "flags": "i"}],
        },
    )
    assert resp.status_code == 201
    assert resp.json()["job_mode"] == "SCHEMA"
    entry = [r for r in emu.requests() if r["method"] == "POST"][-1]
    assert entry["dropped_keys"] == ["table_exists_action", "jobMode", "name_expressions[0].flags"]


def test_remap_on_export_is_dropped(client, emu):
    resp = client.post("jobs/", json={"operation": "EXPORT", "filter": "TESTUSER1", "remap_schemas": [{"source": "A", "target": "B"}]})
    assert resp.status_code == 201
    assert emu.requests()[-1]["dropped_keys"] == ["remap_schemas"]


@pytest.mark.parametrize(
    "path",
    [
        "/nothing",
        "/ords/dbapi_user/_/db-api/stable/database/datapump/nothing",
        "/ords/dbapi_user/_/db-api/v2/database/datapump/jobs/",
        "/ords/unknown_alias/_/db-api/stable/database/datapump/jobs/",
        "/ords/dbapi_user/_/db-api/stable/database/datapump/jobs",  # no trailing slash
        "/ords/dbapi_user/_/db-api/stable/database/datapump/jobs/NOCOMMA/",
        "/ords/dbapi_user/_/db-api/stable/database/datapump/jobs/DBAPI_USER,NOPE/",
        "/ords/dbapi_user/_/db-api/stable/database/datapump/jobs/DBAPI_USER,NOPE/X.LOG",
    ],
)
def test_not_found(emu, h, path):
    with httpx.Client(base_url=emu.url, auth=(h.USER, h.PASSWORD)) as c:
        h.assert_problem(c.get(path), 404)


def test_unknown_file_of_existing_job(client, emu, h):
    resp = client.post("jobs/", json={"operation": "EXPORT", "filter": "TESTUSER1"})
    h.assert_problem(client.get(resp.headers["location"] + "OTHER.LOG"), 404)
    h.assert_problem(client.get(resp.headers["location"] + "..%2F..%2Fetc%2Fpasswd"), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "jobs/DBAPI_USER,X/"),
        ("PUT", "jobs/"),
        ("GET", "export"),
        ("GET", "import"),
        ("PATCH", "jobs/DBAPI_USER,X/"),
        ("POST", "jobs/DBAPI_USER,X/X.LOG"),
    ],
)
def test_method_not_allowed(client, emu, h, method, path):
    h.assert_problem(client.request(method, path), 405)


@pytest.mark.parametrize("params", [{"limit": "abc"}, {"limit": 0}, {"limit": -1}, {"offset": -5}, {"offset": "x"}])
def test_bad_paging_params(client, emu, h, params):
    h.assert_problem(client.get("jobs/", params=params), 400)


KEYS = ["operation", "job_mode", "datapump_dir", "file_name", "credential_name", "filter", "name_expressions", "schema_expressions", "tablespace_expressions", "remap_schemas", "threads", "keep_master", "other"]
scalars = st.none() | st.booleans() | st.integers(-5, 200) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20) | st.sampled_from(
    ["EXPORT", "IMPORT", "FULL", "SCHEMA", "TABLE", "TABLESPACE", "TEST_DIR", "X%U.DMP", "TESTUSER1", "= 'EMP'", "https://o.example/x_%U.dmp"]
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["expression", "source", "target", "x"]), inner, max_size=3), max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(KEYS), values, max_size=8), path=st.sampled_from(["jobs/", "export", "import"]))
def test_fuzzed_bodies_never_fail_server_side(client, emu, body, path):
    resp = client.post(path, json=body)
    # 400 includes ORA-31634 for a second create within one second.
    assert resp.status_code in (201, 400), resp.text
    emu.advance_clock(1)
    if resp.status_code == 400:
        assert resp.headers["content-type"].startswith("application/problem+json")
