"""The /_emulator control surface, the OpenAPI document, the handle and the CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time

import httpx
import pytest
from tests.credentials import USER, PASSWORD

EXPORT = {"filter": "TESTUSER1"}  # for the export endpoint, present in every version


@pytest.fixture
def ctl(emu):
    with httpx.Client(base_url=emu.url, timeout=10) as c:
        yield c


def test_catalog_get_put_and_drop(ctl, h):
    cat = ctl.get("/_emulator/catalog").json()
    assert cat["schemas"]["TESTUSER1"]["tables"]["EMP"] == {"tablespace": "USERS", "rows": 14, "bytes": 8992}
    assert cat["schemas"]["TESTUSER1"]["tables"]["DEPT"]["rows"] == 4
    assert set(cat["schemas"]["TESTUSER3"]["tables"]) == {"EMPLOYEES", "DEPARTMENTS"}
    assert "TESTUSER2" not in cat["schemas"]
    r = ctl.put("/_emulator/catalog", json={"schemas": {"SALES": {"tables": {"ORDERS": {"rows": 3}}}}})
    assert r.status_code == 200 and list(r.json()["schemas"]) == ["SALES"]
    h.assert_problem(ctl.put("/_emulator/catalog", json="/etc/passwd"), 400)
    h.assert_problem(ctl.put("/_emulator/catalog", content=b"{", headers={"content-type": "application/json"}), 400)
    assert ctl.delete("/_emulator/catalog/SALES/ORDERS").status_code == 204
    assert ctl.get("/_emulator/catalog").json()["schemas"]["SALES"]["tables"] == {}
    assert ctl.delete("/_emulator/catalog/SALES").status_code == 204
    h.assert_problem(ctl.delete("/_emulator/catalog/SALES"), 404)


def test_reset_restores_everything(client, ctl, emu):
    client.post("export", json=EXPORT)
    ctl.put("/_emulator/scenario", json={"duration": 5, "outcome": "fatal"})
    ctl.post("/_emulator/scenario/next", json={"outcome": "errors"})
    ctl.post("/_emulator/faults", json={"kind": "delay", "seconds": 0.01})
    ctl.put("/_emulator/catalog", json={"schemas": {}})
    assert ctl.post("/_emulator/reset").status_code == 204
    assert ctl.get("/_emulator/requests").json() == []
    assert ctl.get("/_emulator/faults").json() == []
    scenario = ctl.get("/_emulator/scenario").json()
    assert (scenario["duration"], scenario["outcome"], scenario["queue"]) == (1.0, "success", [])
    assert "TESTUSER1" in ctl.get("/_emulator/catalog").json()["schemas"]
    assert client.get("jobs/").json()["count"] == 0


def test_request_log(client, ctl):
    client.get("jobs/", params={"limit": 5})
    client.post("export", json={**EXPORT, "parallel": 4})
    entries = ctl.get("/_emulator/requests").json()
    assert [(e["method"], e["status"]) for e in entries] == [("GET", 200), ("POST", 201)]
    first = entries[0]
    assert set(first) >= {"timestamp", "method", "path", "query", "status", "auth_scheme", "user", "dropped_keys"}
    assert first["query"] == "limit=5" and first["path"].endswith("/database/datapump/jobs/")
    assert entries[1]["dropped_keys"] == ["parallel"]
    assert ctl.delete("/_emulator/requests").status_code == 204
    assert ctl.get("/_emulator/requests").json() == []


def test_request_log_keeps_the_statement_of_a_rest_enabled_sql_request_but_not_its_binds(ctl, emu):
    """Tests count what reached a database (a DROP USER, a STOP_JOB block) from the request log."""
    block = "BEGIN\n  EXECUTE IMMEDIATE 'DROP USER ' || DBMS_ASSERT.ENQUOTE_NAME(:username, FALSE) || ' CASCADE';\nEND;"
    with httpx.Client(base_url=emu.base_url, auth=(USER, PASSWORD), timeout=10) as sql:
        sql.post("_/sql", json={"statementText": block, "binds": [
            {"name": "username", "data_type": "VARCHAR2", "value": "BIND_VALUE_NOT_LOGGED"}]})
        sql.post("_/sql", content=b"SELECT 1 FROM dual", headers={"content-type": "application/sql"})
    sql_entries = [e for e in ctl.get("/_emulator/requests").json() if e["path"].endswith("/_/sql")]
    assert [e["statement"] for e in sql_entries] == [block, "SELECT 1 FROM dual"], sql_entries
    assert "BIND_VALUE_NOT_LOGGED" not in json.dumps(sql_entries)


def test_request_log_with_requests_in_flight(client, ctl, emu):
    """A request is logged when its response ends. Clearing forgets one that began before the
    clear, and wait_idle waits for the ones begun before it, over HTTP and on the handle."""
    emu.add_fault(kind="delay", seconds=0.6, times=2, method="GET", path=r"/jobs/$")

    def slow_get():
        thread = threading.Thread(target=client.get, args=("jobs/",))
        thread.start()
        deadline = time.monotonic() + 5
        while not emu.state.request_log.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        assert emu.state.request_log.in_flight, "the delayed GET never began"
        return thread

    first = slow_get()
    assert ctl.delete("/_emulator/requests").status_code == 204
    assert emu.wait_idle(0.05) is False  # the delayed GET is still running
    first.join()
    assert emu.wait_idle(5) is True
    assert ctl.get("/_emulator/requests").json() == []  # it began before the clear

    second = slow_get()
    entries = ctl.get("/_emulator/requests", params={"wait_idle": 5}).json()
    assert [(e["method"], e["status"], e["faults"]) for e in entries] == [("GET", 200, ["delay"])]
    second.join()


def test_scenario_endpoints(ctl, client, h):
    r = ctl.put("/_emulator/scenario", json={"duration": 0, "outcome": "errors", "error_count": 2, "ora_codes": ["ORA-31684"], "dump_size": 8192})
    assert r.status_code == 200 and r.json()["error_count"] == 2
    h.assert_problem(ctl.put("/_emulator/scenario", json={"outcome": "explode"}), 400)
    h.assert_problem(ctl.put("/_emulator/scenario", json={"bogus": 1}), 400)
    assert ctl.post("/_emulator/scenario/next", json=[{"outcome": "success"}, {"outcome": "crash"}]).json()["queue"] == [{"outcome": "success"}, {"outcome": "crash"}]
    _, first = h.run_job(client, EXPORT)
    # Jobs are named by the second they start in: step past it rather than sleep.
    assert ctl.post("/_emulator/clock", json={"advance": 1}).status_code == 200
    _, second = h.run_job(client, EXPORT)
    ctl.post("/_emulator/clock", json={"advance": 1})
    _, third = h.run_job(client, EXPORT)
    h.assert_problem(ctl.post("/_emulator/clock", json={"advance": -1}), 400)
    assert "successfully" in first["job_comment"]
    assert "job_state" not in second
    assert "completed with 2 error(s)" in third["job_comment"]
    assert int(client.get(h.links(third, "enclosure")[0]).headers["content-length"]) == 8192
    ctl.post("/_emulator/scenario/next", json={"outcome": "fatal"})
    assert ctl.delete("/_emulator/scenario/next").status_code == 204
    assert ctl.get("/_emulator/scenario").json()["queue"] == []


def test_jobs_control(ctl, client, emu, h):
    emu.set_scenario(duration=60)
    job = client.post("export", json=EXPORT).json()
    key = f"DBAPI_USER,{job['job_name']}"
    [info] = ctl.get("/_emulator/jobs").json()
    assert info["running"] is True and info["tables"] == ["TESTUSER1.DEPT", "TESTUSER1.EMP"]
    h.assert_problem(ctl.delete(f"/_emulator/jobs/{key}"), 409)  # running
    h.assert_problem(ctl.patch(f"/_emulator/jobs/{key}", json={"bogus": 1}), 400)
    assert ctl.post(f"/_emulator/jobs/{key}/stop", json={"keep_master": 1}).json()["outcome"] == "stopped"
    h.assert_problem(ctl.post(f"/_emulator/jobs/{key}/stop"), 409)  # not running any more
    assert ctl.delete(f"/_emulator/jobs/{key}").status_code == 204
    assert client.get(f"jobs/{key}/").status_code == 404


def test_stop_with_keep_master_zero_removes_the_job(ctl, client, emu):
    emu.set_scenario(duration=60)
    job = client.post("export", json=EXPORT).json()
    ctl.post(f"/_emulator/jobs/DBAPI_USER,{job['job_name']}/stop", json={"keep_master": 0})
    assert client.get(f"jobs/DBAPI_USER,{job['job_name']}/").status_code == 404


def test_openapi_describes_the_ords_surface_only(ctl):
    doc = ctl.get("/openapi.json").json()
    paths = set(doc["paths"])
    assert "/ords/{alias}/_/db-api/{version}/database/datapump/jobs/" in paths
    assert "/ords/{pool}/{alias}/_/db-api/{version}/database/datapump/jobs/{job_id}/{file_name}" in paths
    assert "/ords/{alias}/oauth/token" in paths
    assert not any(p.startswith("/_emulator") for p in paths)
    ops = {(p, m) for p, item in doc["paths"].items() for m in item}
    assert ("/ords/{alias}/_/db-api/{version}/database/datapump/export", "post") in ops
    body = doc["paths"]["/ords/{alias}/_/db-api/{version}/database/datapump/jobs/"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["required"] == ["operation"]


def test_metadata_catalog(client, emu):
    emu.set_scenario(openapi="release")
    base = emu.base_url + "/_/db-api/stable/metadata-catalog/"
    assert client.get(base).status_code == 200
    assert "paths" in client.get(base + "openapi.json").json()
    assert httpx.get(base).status_code == 401


def test_handle(emu):
    conn = emu.airflow_connection()
    assert conn == {"conn_type": "ords", "host": emu.base_url, "login": USER, "password": PASSWORD}
    assert emu.airflow_connection(extra={"auth_type": "oauth2"})["extra"] == {"auth_type": "oauth2"}
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emu.url)
    assert emu.base_url == emu.url + "/ords/dbapi_user"
    assert emu.api_url == emu.base_url + "/_/db-api/stable/database/datapump/"
    json.dumps(conn)


def test_package_import_is_light():
    code = (
        "import sys, airflow_provider_datapump.emulator, airflow_provider_datapump.emulator.pytest_plugin;"
        "heavy = [m for m in ('fastapi', 'uvicorn', 'starlette', 'airflow', 'pydantic') if m in sys.modules];"
        "print(heavy)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert out.stdout.strip() == "[]", out.stderr


def _imports(path):
    """Every module ``path`` imports, relative ones spelled with their leading dots."""
    import ast

    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            yield ("." * node.level) + (node.module or "")
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_emulator_does_not_import_the_client():
    import pathlib

    import airflow_provider_datapump.emulator as pkg

    for path in pathlib.Path(pkg.__file__).parent.glob("*.py"):
        for mod in _imports(path):
            # '..x' is the client package; only the emulator's own modules ('.x') are allowed.
            assert not mod.startswith(".."), (path, mod)
            assert not mod.startswith("airflow_provider_datapump") or mod.startswith("airflow_provider_datapump.emulator"), (path, mod)
            assert not mod.startswith("airflow.") and mod != "airflow", (path, mod)


def test_client_does_not_import_the_emulator():
    import pathlib

    import airflow_provider_datapump as client

    root = pathlib.Path(client.__file__).parent
    for path in root.rglob("*.py"):
        if "emulator" in path.relative_to(root).parts:
            continue
        for mod in _imports(path):
            assert "emulator" not in mod, (path, mod)


# The emulator's parts, by role (README "Layout"). The backend and the model hold no test
# machinery and no HTTP; only the HTTP layer imports the web framework.
_HTTP = {"app", "control", "responses", "parsing", "streaming", "middleware", "server", "__main__"}
_HARNESS = {"scenarios", "faults", "request_log", "clock", "state"}
_BACKEND_AND_MODEL = {
    "backend", "jobs", "catalog", "dumpfiles", "naming", "selection", "expressions", "payload", "listing",
    "negotiation", "versions", "settings", "files", "auth", "errors",
}


def test_emulator_layers():
    import pathlib

    import airflow_provider_datapump.emulator as pkg

    root = pathlib.Path(pkg.__file__).parent
    for path in root.rglob("*.py"):
        # The SQL layer (sql/) is backend and model: it runs statements against the backend's model.
        name = path.stem if path.parent == root else "backend"
        imported = set(_imports(path))
        own = {m.lstrip(".").split(".")[0] for m in imported if m.startswith(".")}
        if name in _BACKEND_AND_MODEL:
            assert not own & (_HTTP | _HARNESS), (name, own & (_HTTP | _HARNESS))
        if name not in _HTTP:
            web = {m for m in imported if m.split(".")[0] in ("fastapi", "starlette", "uvicorn", "anyio")}
            assert not web, (name, web)


def test_cli_starts_and_answers(tmp_path, h):
    with h.start_cli(tmp_path, "--job-seconds", "0") as (base, seen):
        assert any(f"{USER} / {PASSWORD}" in line for line in seen)
        url = base + "/_/db-api/stable/database/datapump/jobs/"
        export_url = base + "/_/db-api/stable/database/datapump/export"
        r = httpx.get(url, auth=(USER, PASSWORD), timeout=2)
        assert r.status_code == 200 and r.json()["count"] == 0
        r = httpx.post(export_url, auth=(USER, PASSWORD), json=EXPORT)
        assert r.status_code == 201
        assert os.path.isdir(tmp_path / "DATA_PUMP_DIR")


def test_tls(tmp_path):
    crypto = pytest.importorskip("cryptography")
    del crypto
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from airflow_provider_datapump.emulator import run_emulator

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with run_emulator(ssl_certfile=str(certfile), ssl_keyfile=str(keyfile), duration=0) as emu:
        assert emu.url.startswith("https://127.0.0.1:")
        r = httpx.post(emu.api_url + "export", auth=(USER, PASSWORD), json=EXPORT, verify=False)
        assert r.status_code == 201
        assert r.headers["location"].startswith(emu.url + "/ords/dbapi_user/")
