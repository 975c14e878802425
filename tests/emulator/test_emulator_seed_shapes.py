"""Every request body of the oracle-base walkthrough gets the seed's shape of answer."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest

TABLE_EXPORT_EXPR = {
    "operation": "EXPORT",
    "job_mode": "TABLE",
    "datapump_dir": "TEST_DIR",
    "name_expressions": [{"expression": "='EMP'"}, {"expression": "!='DEPT'"}],
    "schema_expressions": [{"expression": "= 'TESTUSER1'"}],
}
TABLE_EXPORT_FILTER = {
    "operation": "EXPORT",
    "job_mode": "TABLE",
    "datapump_dir": "TEST_DIR",
    "filter": "EMP",
    "schema_expressions": [{"expression": "= 'TESTUSER1'"}],
}
SCHEMA_EXPORT_EXPR = {
    "operation": "EXPORT",
    "job_mode": "SCHEMA",
    "datapump_dir": "TEST_DIR",
    "schema_expressions": [{"expression": "= 'TESTUSER1'"}],
}
SCHEMA_EXPORT_FILTER = {"operation": "EXPORT", "job_mode": "SCHEMA", "datapump_dir": "TEST_DIR", "filter": "TESTUSER1"}
FULL_EXPORT = {"operation": "EXPORT", "job_mode": "FULL", "datapump_dir": "TEST_DIR"}
FULL_EXPORT_THREADS = {"operation": "EXPORT", "job_mode": "FULL", "datapump_dir": "TEST_DIR", "threads": 1}

JOB_NAME_RE = re.compile(r"^DATAPUMP_REST_(EXPORT|IMPORT)_\d{14}$")

# The seed creates through POST jobs/, which ORDS documents up to 24.4.
pytestmark = pytest.mark.parametrize("datapump_emulator", ["24.4"], indirect=True)


def check_created(h, resp: httpx.Response, operation: str, mode: str) -> dict:
    assert resp.status_code == 201, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert list(body) == h.JOB_KEYS + ["links"]
    assert JOB_NAME_RE.match(body["job_name"]) and body["job_name"].split("_")[2] == operation
    assert body["owner_name"] == "DBAPI_USER"
    assert (body["operation"], body["job_mode"]) == (operation, mode)
    assert (body["state"], body["job_state"]) == ("EXECUTING", "EXECUTING")
    # Seed: every create answer, the parallel FULL export's too, shows degree 1 and 2 sessions.
    assert (body["degree"], body["attached_sessions"], body["datapump_sessions"]) == (1, 0, 2)
    job_url = resp.headers["location"]
    assert job_url == resp.headers["content-location"]
    assert job_url.endswith(f"/database/datapump/jobs/DBAPI_USER,{body['job_name']}/")
    digest = base64.b64encode(hashlib.sha512(resp.content).digest()).decode()
    assert resp.headers["etag"] == f'"{digest}"'
    rels = [link["rel"] for link in body["links"]]
    api = job_url.split("/database/datapump/")[0]
    assert h.links(body, "collection") == [f"{api}/database/datapump/jobs/"]
    assert h.links(body, "describedby") == [f"{api}/metadata-catalog/"]
    assert h.links(body, "self") == [job_url]
    assert "enclosure" not in rels
    ts = body["job_name"][-14:]
    log_stamp = f"{ts[:4]}-{ts[4:6]}-{ts[6:8]}-{ts[8:10]}_{ts[10:12]}_{ts[12:]}"
    prefix = "EXPDAT" if operation == "EXPORT" else "IMPDAT"
    assert h.links(body, "related")[-1] == f"{job_url}{prefix}-{log_stamp}.LOG"
    if operation == "EXPORT":
        assert rels == ["collection", "describedby", "related", "self"]
    return body


def check_completed(h, body: dict, operation: str) -> None:
    assert list(body) == h.JOB_KEYS + ["job_comment", "links"]
    assert body["state"] == "NOT RUNNING" and body["job_state"] == "COMPLETED"
    assert (body["degree"], body["attached_sessions"], body["datapump_sessions"]) == (0, 0, 0)
    assert re.fullmatch(
        rf'Job "DBAPI_USER"\."{body["job_name"]}" successfully completed at '
        r"\w{3} \w{3} \d{1,2} \d\d:\d\d:\d\d \d{4} elapsed 0 \d\d:\d\d:\d\d",
        body["job_comment"],
    ), body["job_comment"]
    rels = [link["rel"] for link in body["links"]]
    assert rels == sorted(rels)  # collection, describedby, enclosure..., related..., self
    if operation == "EXPORT":
        assert len(h.links(body, "enclosure")) >= 1


@pytest.mark.parametrize("payload", [TABLE_EXPORT_EXPR, TABLE_EXPORT_FILTER], ids=["expressions", "filter"])
def test_table_export(client, emu, h, payload):
    resp = client.post("jobs/", json=payload)
    body = check_created(h, resp, "EXPORT", "TABLE")
    done = h.wait_finished(client, resp.headers["location"])
    check_completed(h, done, "EXPORT")
    [dump] = h.links(done, "enclosure")
    assert re.search(r"/EXPDAT01-\d{8}_\d\d_\d\d_\d\d\.DMP$", dump)
    log = client.get(h.links(done, "related")[0])
    assert log.headers["content-type"].startswith("text/plain")
    assert re.search(r'^\. \. exported "TESTUSER1"\."EMP" +8\.781 KB +14 rows$', log.text, re.M)
    assert '"DEPT"' not in log.text
    assert f"Dump file set for DBAPI_USER.{body['job_name']} is:" in log.text
    assert log.text.rstrip().splitlines()[-1] == done["job_comment"]


def test_table_import(client, emu, h):
    _, export = h.run_job(client, TABLE_EXPORT_EXPR)
    dump_name = h.links(export, "enclosure")[0].rsplit("/", 1)[1]
    export_log = h.links(export, "related")[0].rsplit("/", 1)[1]
    emu.state.drop_table("TESTUSER1", "EMP")  # the seed drops the table first
    for step, payload in enumerate((
        {
            "operation": "IMPORT",
            "job_mode": "TABLE",
            "datapump_dir": "TEST_DIR",
            "file_name": dump_name,
            "name_expressions": [{"expression": "='EMP'"}],
            "schema_expressions": [{"expression": "= 'TESTUSER1'"}],
        },
        {
            "operation": "IMPORT",
            "job_mode": "TABLE",
            "datapump_dir": "TEST_DIR",
            "file_name": dump_name,
            "filter": "EMP",
            "schema_expressions": [{"expression": "= 'TESTUSER1'"}],
        },
    )):
        emu.advance_clock(step)  # one import per second: the second would otherwise be ORA-31634
        resp = client.post("jobs/", json=payload)
        body = check_created(h, resp, "IMPORT", "TABLE")
        assert [link["rel"] for link in body["links"]] == ["collection", "describedby", "related", "related", "self"]
        job_url = resp.headers["location"]
        assert h.links(body, "related")[0] == job_url + export_log  # the export's log, under the import job
        assert client.get(h.links(body, "related")[0]).status_code == 200
        done = h.wait_finished(client, job_url)
        assert "enclosure" not in [link["rel"] for link in done["links"]]
        log = client.get(h.links(done, "related")[1]).text
        if payload.get("filter"):
            # filter is an export convenience: dropped on import, which then takes every table of
            # TESTUSER1 in the dump (only EMP here).
            assert [r for r in emu.requests() if r["method"] == "POST"][-1]["dropped_keys"] == ["filter"]
            # Second run: EMP exists again; Data Pump's default TABLE_EXISTS_ACTION=SKIP reports it.
            assert done["job_comment"].startswith(f'Job "DBAPI_USER"."{done["job_name"]}" completed with 1 error(s)')
            assert "ORA-39151" in log
        else:
            check_completed(h, done, "IMPORT")
            assert re.search(r'^\. \. imported "TESTUSER1"\."EMP" +8\.781 KB +14 rows$', log, re.M)
    assert emu.catalog()["schemas"]["TESTUSER1"]["tables"]["EMP"]["rows"] == 14


@pytest.mark.parametrize("payload", [SCHEMA_EXPORT_EXPR, SCHEMA_EXPORT_FILTER], ids=["expressions", "filter"])
def test_schema_export_and_import_with_remap(client, emu, h, payload):
    resp = client.post("jobs/", json=payload)
    check_created(h, resp, "EXPORT", "SCHEMA")
    export = h.wait_finished(client, resp.headers["location"])
    check_completed(h, export, "EXPORT")
    log = client.get(h.links(export, "related")[0]).text
    assert '"TESTUSER1"."EMP"' in log and '"TESTUSER1"."DEPT"' in log
    assert "TESTUSER3" not in log
    assert "TESTUSER2" not in emu.catalog()["schemas"]

    dump_name = h.links(export, "enclosure")[0].rsplit("/", 1)[1]
    selector = (
        {"schema_expressions": [{"expression": "= 'TESTUSER1'"}]}
        if "schema_expressions" in payload
        else {"filter": "TESTUSER1"}
    )
    imp = {
        "operation": "IMPORT",
        "job_mode": "SCHEMA",
        "datapump_dir": "TEST_DIR",
        "file_name": dump_name,
        **selector,
        "remap_schemas": [{"source": "TESTUSER1", "target": "TESTUSER2"}],
    }
    resp = client.post("jobs/", json=imp)
    check_created(h, resp, "IMPORT", "SCHEMA")
    # filter is dropped on import; a SCHEMA import without selection takes every schema in the dump.
    assert [r for r in emu.requests() if r["method"] == "POST"][-1]["dropped_keys"] == (["filter"] if "filter" in imp else [])
    done = h.wait_finished(client, resp.headers["location"])
    check_completed(h, done, "IMPORT")
    tables = emu.catalog()["schemas"]["TESTUSER2"]["tables"]
    assert tables == {
        "DEPT": {"tablespace": "USERS", "rows": 4, "bytes": 6168},
        "EMP": {"tablespace": "USERS", "rows": 14, "bytes": 8992},
    }
    assert set(emu.catalog()["schemas"]["TESTUSER1"]["tables"]) == {"EMP", "DEPT"}  # source untouched


@pytest.mark.parametrize("payload", [FULL_EXPORT, FULL_EXPORT_THREADS], ids=["default", "threads1"])
def test_full_export_and_full_import_with_pattern_and_remap(client, emu, h, payload):
    resp = client.post("jobs/", json=payload)
    body = check_created(h, resp, "EXPORT", "FULL")
    export = h.wait_finished(client, resp.headers["location"])
    check_completed(h, export, "EXPORT")
    # Seed: "The full export will run in parallel by default" (and is imported with EXPDAT%U).
    dumps = [u.rsplit("/", 1)[1] for u in h.links(export, "enclosure")]
    ts = body["job_name"][-14:]
    count = payload.get("threads", 4)
    assert dumps == [f"EXPDAT{i:02d}-{ts[:8]}_{ts[8:10]}_{ts[10:12]}_{ts[12:]}.DMP" for i in range(1, count + 1)]
    pattern = dumps[0].replace("EXPDAT01-", "EXPDAT%U-")

    emu.state.drop_schema("TESTUSER3")  # so that the remapped import lands on an empty schema
    resp = client.post(
        "jobs/",
        json={
            "operation": "IMPORT",
            "job_mode": "FULL",
            "datapump_dir": "TEST_DIR",
            "file_name": pattern,
            "remap_schemas": [{"source": "TESTUSER1", "target": "TESTUSER3"}],
        },
    )
    check_created(h, resp, "IMPORT", "FULL")
    done = h.wait_finished(client, resp.headers["location"])
    # DBAPI_USER exists already: the USER object is reported, as Data Pump does.
    assert done["job_state"] == "COMPLETED"
    schemas = emu.catalog()["schemas"]
    # TESTUSER1's tables land in TESTUSER3, next to TESTUSER3's own tables from the dump.
    assert set(schemas["TESTUSER3"]["tables"]) == {"EMP", "DEPT", "EMPLOYEES", "DEPARTMENTS"}
    log = client.get(h.links(done, "related")[-1]).text
    assert 'imported "TESTUSER3"."EMP"' in log


def test_full_export_with_threads_expands_percent_u(client, emu, h):
    resp = client.post("jobs/", json={**FULL_EXPORT, "threads": 3})
    check_created(h, resp, "EXPORT", "FULL")
    assert client.get(resp.headers["location"]).json()["degree"] in (0, 3)  # 3 workers while it runs
    done = h.wait_finished(client, resp.headers["location"])
    names = [u.rsplit("/", 1)[1] for u in h.links(done, "enclosure")]
    assert [n[:8] for n in names] == ["EXPDAT01", "EXPDAT02", "EXPDAT03"]
    log = client.get(h.links(done, "related")[0]).text
    for n in names:
        assert re.search(rf"^  /.*/TEST_DIR/{n}$", log, re.M)
    pattern = names[0].replace("EXPDAT01", "EXPDAT%U")
    emu.load_catalog({"schemas": {"DBAPI_USER": {}}})
    _, imp = h.run_job(client, {"operation": "IMPORT", "job_mode": "FULL", "datapump_dir": "TEST_DIR", "file_name": pattern})
    assert imp["job_state"] == "COMPLETED"
    assert set(emu.catalog()["schemas"]) == {"DBAPI_USER", "TESTUSER1", "TESTUSER3"}


def test_list_shape_matches_seed(client, emu, h):
    _, done = h.run_job(client, SCHEMA_EXPORT_FILTER)
    resp = client.get("jobs/")
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == ["items", "hasMore", "limit", "offset", "count", "links"]
    assert (body["hasMore"], body["limit"], body["offset"], body["count"]) == (False, 25, 0, 1)
    [item] = body["items"]
    assert list(item) == [
        "owner_name",
        "job_name",
        "operation",
        "job_mode",
        "state",
        "degree",
        "attached_sessions",
        "datapump_sessions",
        "links",
    ]
    assert item["operation"] == "EXPORT" + " " * 24 and len(item["job_mode"]) == 30
    assert item["job_mode"].rstrip() == "SCHEMA"
    assert (item["state"], item["degree"], item["datapump_sessions"]) == ("NOT RUNNING", 0, 0)
    assert item["links"] == [{"rel": "self", "href": client.base_url.join(f"jobs/DBAPI_USER,{done['job_name']}/").__str__()}]
    jobs_url = str(client.base_url.join("jobs/"))
    assert [link["rel"] for link in body["links"]] == ["self", "edit", "describedby", "first"]
    assert h.links(body, "self") == h.links(body, "edit") == h.links(body, "first") == [jobs_url]
    assert h.links(body, "describedby") == [jobs_url.replace("database/datapump/jobs/", "metadata-catalog/")]


def test_rpc_endpoints(client, emu, h):
    resp = client.post("export", json={"job_mode": "TABLE", "name_expressions": [{"expression": "!='EMP'"}, {"expression": "LIKE 'EMP%'"}], "schema_expressions": [{"expression": "IN ('TESTUSER3')"}]})
    check_created(h, resp, "EXPORT", "TABLE")
    done = h.wait_finished(client, resp.headers["location"])
    log = client.get(h.links(done, "related")[0]).text
    assert '"TESTUSER3"."EMPLOYEES"' in log and "DEPARTMENTS" not in log
    dump = h.links(done, "enclosure")[0].rsplit("/", 1)[1]
    # Default directory DATA_PUMP_DIR on both sides.
    emu.load_catalog({"schemas": {**emu.catalog()["schemas"], "HR_COPY": {}}})  # a TABLE dump carries no CREATE USER
    resp = client.post("import", json={"file_name": dump, "job_mode": "TABLE", "schema_expressions": [{"expression": "= 'TESTUSER3'"}], "remap_schemas": [{"source": "TESTUSER3", "target": "HR_COPY"}]})
    check_created(h, resp, "IMPORT", "TABLE")
    h.wait_finished(client, resp.headers["location"])
    assert set(emu.catalog()["schemas"]["HR_COPY"]["tables"]) == {"EMPLOYEES"}


@pytest.mark.parametrize("prefix", ["/ords/pdb1/dbapi_user/_/db-api/latest", "/ords/dbapi_user/_/db-api/latest", "/ords/PDB1/DBAPI_USER/_/db-api/stable"])
def test_links_keep_request_prefix(emu, h, prefix):
    with httpx.Client(base_url=emu.url, auth=(h.USER, h.PASSWORD)) as c:
        resp = c.post(prefix + "/database/datapump/jobs/", json=SCHEMA_EXPORT_FILTER)
        assert resp.status_code == 201
        expected = f"{emu.url}{prefix}/database/datapump/jobs/"
        assert resp.headers["location"].startswith(expected)
        for link in resp.json()["links"]:
            assert link["href"].startswith(f"{emu.url}{prefix}/"), link
        done = h.wait_finished(c, resp.headers["location"])
        assert c.get(h.links(done, "enclosure")[0]).status_code == 200
        listing = c.get(prefix + "/database/datapump/jobs/").json()
        assert listing["items"][0]["links"][0]["href"].startswith(expected)


def test_link_origin_knob(emu, client, h):
    emu.set_scenario(link_origin="http://evil.example:9999")
    resp = client.post("jobs/", json=SCHEMA_EXPORT_FILTER)
    assert resp.headers["location"].startswith("http://evil.example:9999/ords/dbapi_user/_/db-api/stable/")
    assert all(link["href"].startswith("http://evil.example:9999/") for link in resp.json()["links"])
