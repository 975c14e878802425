"""ORDS version profiles and the behaviours issue #15 asked the emulator to model.

Over real HTTP where the behaviour is HTTP (routes, 405, 406, links, paging); through
EmulatorState with an injected clock where it is Data Pump semantics.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import httpx
import pytest

from airflow_provider_datapump.emulator import (
    DEFAULT_ORDS_VERSION,
    ORDS_VERSIONS,
    EmulatorError,
    EmulatorState,
    Principal,
    endpoint_keys,
    run_emulator,
)
from airflow_provider_datapump.emulator.__main__ import _parser

PREFIX = "http://h/ords/dbapi_user/_/db-api/stable"
ME = Principal("basic", "DBAPI_USER", "dbapi_user")

# Every key any version documents on any create endpoint, with valid values.
ALL_KEYS = {
    "job_mode": "SCHEMA",
    "datapump_dir": "DATA_PUMP_DIR",
    "file_name": "ALLKEYS_%U.DMP",
    "credential_name": "OBJ_CRED",
    "filter": "TESTUSER1",
    "name_expressions": [{"expression": "LIKE '%'"}],
    "schema_expressions": [{"expression": "= 'TESTUSER1'"}],
    "tablespace_expressions": [{"expression": "= 'USERS'"}],
    "remap_schemas": [{"source": "TESTUSER1", "target": "TESTUSER2"}],
    "threads": 1,
    "keep_master": 1,
}
EXPECTED_EXPORT_KEYS = {
    "21.2": {"job_mode", "datapump_dir", "filter", "name_expressions", "schema_expressions", "tablespace_expressions", "threads"},
    "24.4": {"job_mode", "datapump_dir", "filter", "name_expressions", "schema_expressions", "tablespace_expressions", "threads", "file_name", "credential_name"},
}
EXPECTED_EXPORT_KEYS["25.4"] = EXPECTED_EXPORT_KEYS["26.3"] = EXPECTED_EXPORT_KEYS["24.4"] | {"keep_master"}
EXPECTED_IMPORT_KEYS = {
    "21.2": {"job_mode", "datapump_dir", "file_name", "name_expressions", "schema_expressions", "tablespace_expressions", "remap_schemas", "threads"},
}
EXPECTED_IMPORT_KEYS["24.4"] = EXPECTED_IMPORT_KEYS["21.2"] | {"credential_name"}
EXPECTED_IMPORT_KEYS["25.4"] = EXPECTED_IMPORT_KEYS["26.3"] = EXPECTED_IMPORT_KEYS["24.4"] | {"keep_master"}


def post_log(emu):
    return [r for r in emu.requests() if r["method"] == "POST"]


# ---------------------------------------------------------------- version model


def test_versions_and_default():
    assert ORDS_VERSIONS == ("21.2", "24.4", "25.4", "26.3") and DEFAULT_ORDS_VERSION == "26.3"
    for version in ORDS_VERSIONS:
        assert set(endpoint_keys(version, "export")) == EXPECTED_EXPORT_KEYS[version]
        assert set(endpoint_keys(version, "import")) == EXPECTED_IMPORT_KEYS[version]
    assert set(endpoint_keys("21.2", "jobs")) == {
        "operation", "job_mode", "datapump_dir", "file_name", "filter", "name_expressions",
        "schema_expressions", "tablespace_expressions", "remap_schemas", "threads",
    }
    assert set(endpoint_keys("24.4", "jobs")) == set(endpoint_keys("21.2", "jobs")) | {"credential_name"}
    assert endpoint_keys("25.4", "jobs") is None and endpoint_keys("26.3", "jobs") is None


def test_default_version_and_reset(emu, h):
    assert emu.state.settings["ords_version"] == "26.3"
    emu.set_scenario(ords_version="21.2")
    emu.reset()
    assert emu.state.settings["ords_version"] == "26.3"
    with httpx.Client(base_url=emu.url, timeout=10) as c:
        assert c.put("/_emulator/scenario", json={"ords_version": "24.4"}).json()["ords_version"] == "24.4"
        h.assert_problem(c.put("/_emulator/scenario", json={"ords_version": "23.1"}), 400)


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "21.2", "full_default_threads": 2}], indirect=True)
def test_fixture_takes_settings_by_indirect_parametrization(datapump_emulator):
    assert datapump_emulator.state.settings["ords_version"] == "21.2"
    assert datapump_emulator.state.settings["full_default_threads"] == 2


@pytest.mark.parametrize("datapump_emulator", ORDS_VERSIONS, indirect=True)
def test_fixture_takes_a_version_string(datapump_emulator, request):
    assert datapump_emulator.state.settings["ords_version"] == request.node.callspec.params["datapump_emulator"]


def test_cli_flag():
    assert _parser().parse_args(["--ords-version", "21.2"]).ords_version == "21.2"
    assert _parser().parse_args([]).ords_version is None  # the state's default applies
    with pytest.raises(SystemExit):
        _parser().parse_args(["--ords-version", "19.1"])


def test_run_emulator_takes_the_version():
    with run_emulator(ords_version="21.2", duration=0) as emu:
        r = httpx.post(emu.api_url + "jobs/", auth=(emu.user, emu.password), json={"operation": "EXPORT", "filter": "TESTUSER1"})
        assert r.status_code == 201


@pytest.mark.parametrize("datapump_emulator", ORDS_VERSIONS, indirect=True)
def test_post_jobs_exists_up_to_24_4_only(client, emu, h):
    version = emu.state.settings["ords_version"]
    r = client.post("jobs/", json={"operation": "EXPORT", "filter": "TESTUSER1"})
    if version in ("21.2", "24.4"):
        assert r.status_code == 201
    else:
        assert "POST" in h.assert_problem(r, 405)["message"]
        assert r.headers["allow"] == "GET"
        assert client.get("jobs/").json()["count"] == 0
        # 405 is routing: it comes before authentication.
        h.assert_problem(httpx.post(emu.api_url + "jobs/", json={}), 405)
    assert client.get("jobs/").status_code == 200  # GET jobs/ exists in every version


@pytest.mark.parametrize("datapump_emulator", ORDS_VERSIONS, indirect=True)
def test_export_drops_what_the_version_does_not_document(client, emu):
    version = emu.state.settings["ords_version"]
    body = {**ALL_KEYS, "operation": "EXPORT", "credential_name": None}  # null: not sent to Object Storage
    body = {k: v for k, v in body.items() if v is not None}
    r = client.post("export", json=body)
    assert r.status_code == 201, r.text
    [entry] = post_log(emu)
    assert set(entry["dropped_keys"]) == set(body) - EXPECTED_EXPORT_KEYS[version]
    assert "remap_schemas" in entry["dropped_keys"] and "operation" in entry["dropped_keys"]
    job = client.get(r.headers["location"]).json()
    while job["state"] == "EXECUTING":
        job = client.get(r.headers["location"]).json()
    dumps = [link["href"].rsplit("/", 1)[1] for link in job["links"] if link["rel"] == "enclosure"]
    if version == "21.2":
        # file_name dropped: ORDS picks its default EXPDAT%U-<timestamp>.DMP name.
        assert dumps[0].startswith("EXPDAT01-")
    else:
        assert dumps == ["ALLKEYS_01.DMP"]


def test_credential_and_file_name_dropped_on_a_21_2_export_do_not_reach_object_storage(client, emu):
    emu.set_scenario(ords_version="21.2")
    uri = "https://objectstorage.example.com/n/t/b/bucket/o/x_%U.dmp"
    r = client.post("export", json={"filter": "TESTUSER1", "credential_name": "OBJ_CRED", "file_name": uri})
    assert r.status_code == 201
    assert post_log(emu)[0]["dropped_keys"] == ["credential_name", "file_name"]
    assert emu.state.object_store() == {}
    [info] = emu.jobs()
    assert info["object_store"] is False and info["dump_files"][0].startswith("EXPDAT01-")


@pytest.mark.parametrize("datapump_emulator", ORDS_VERSIONS, indirect=True)
def test_import_drops_filter_and_takes_every_schema_of_the_dump(client, emu, h):
    version = emu.state.settings["ords_version"]
    _, export = h.run_job(client, {"schema_expressions": [{"expression": "IN ('TESTUSER1','TESTUSER3')"}]}, "export")
    dump = h.links(export, "enclosure")[0].rsplit("/", 1)[1]
    emu.load_catalog({"schemas": {"DBAPI_USER": {}}})
    body = {**ALL_KEYS, "file_name": dump, "schema_expressions": None, "name_expressions": None,
            "tablespace_expressions": None, "remap_schemas": None, "credential_name": None, "filter": "TESTUSER1"}
    body = {k: v for k, v in body.items() if v is not None}
    _, done = h.run_job(client, body, "import")
    entry = post_log(emu)[-1]
    assert set(entry["dropped_keys"]) == set(body) - EXPECTED_IMPORT_KEYS[version]
    assert "filter" in entry["dropped_keys"]
    # The filter asked for TESTUSER1 only; ORDS lost it, so the import loaded both schemas.
    assert {"TESTUSER1", "TESTUSER3"} <= set(emu.catalog()["schemas"])
    assert done["job_state"] == "COMPLETED"


@pytest.mark.parametrize("datapump_emulator", ["24.4"], indirect=True)
def test_jobs_import_drops_filter_and_jobs_export_drops_remap(client, emu, h):
    _, export = h.run_job(client, {"operation": "EXPORT", "filter": "TESTUSER1", "remap_schemas": [{"source": "TESTUSER1", "target": "X"}]})
    assert post_log(emu)[0]["dropped_keys"] == ["remap_schemas"]
    dump = h.links(export, "enclosure")[0].rsplit("/", 1)[1]
    emu.state.drop_schema("TESTUSER1")
    _, imp = h.run_job(client, {"operation": "IMPORT", "job_mode": "TABLE", "file_name": dump, "filter": "EMP",
                                "schema_expressions": [{"expression": "= 'TESTUSER1'"}]})
    assert post_log(emu)[-1]["dropped_keys"] == ["filter"]
    assert emu.jobs()[-1]["tables"] == ["TESTUSER1.DEPT", "TESTUSER1.EMP"]  # both, not just EMP


@pytest.mark.parametrize(("version", "vanishes"), [("21.2", False), ("24.4", False), ("25.4", True), ("26.3", True)])
def test_keep_master_only_where_documented(version, vanishes, tmp_path):
    st = EmulatorState(data_dir=tmp_path, ords_version=version, duration=0)
    try:
        body, _, dropped = st.create_job(ME, {"filter": "TESTUSER1", "keep_master": 0}, "export", PREFIX)
        assert ("keep_master" in dropped) is not vanishes
        assert st.jobs()[0]["visible"] is not vanishes
        if vanishes:
            with pytest.raises(EmulatorError):
                st.create_job(ME, {"keep_master": 2}, "export", PREFIX)
        else:
            # Dropped keys are not validated: ORDS never reads them.
            st.advance_clock(1)
            st.create_job(ME, {"keep_master": 2}, "export", PREFIX)
    finally:
        st.close()


# ---------------------------------------------------------------- ORA-31634 over HTTP


class FrozenClock:
    def __init__(self):
        self.now = dt.datetime(2026, 12, 1, 9, 30, 15).timestamp()

    def __call__(self):
        return self.now


@pytest.mark.parametrize("status", [400, 500])
def test_ora_31634_over_http(status):
    clock = FrozenClock()
    with run_emulator(clock=clock, name_clash_status=status, duration=0) as emu:
        auth = (emu.user, emu.password)
        first = httpx.post(emu.api_url + "export", auth=auth, json={"filter": "TESTUSER1"})
        assert first.json()["job_name"] == "DATAPUMP_REST_EXPORT_20261201093015"
        clash = httpx.post(emu.api_url + "export", auth=auth, json={"filter": "TESTUSER3"})
        assert clash.status_code == status
        assert clash.headers["content-type"].startswith("application/problem+json")
        message = clash.json()["message"]
        assert "ORA-31634: job already exists" in message and "ORA-39002: invalid operation" in message
        assert [j["job_name"] for j in emu.jobs()] == ["DATAPUMP_REST_EXPORT_20261201093015"]
        clock.now += 1
        assert httpx.post(emu.api_url + "export", auth=auth, json={"filter": "TESTUSER3"}).status_code == 201


# ---------------------------------------------------------------- remap target users (state)


@pytest.fixture
def st(tmp_path):
    clock = FrozenClock()
    state = EmulatorState(data_dir=tmp_path, clock=clock, duration=0)
    state.test_clock = clock
    yield state
    state.close()


def _export(st, payload):
    body, _, _ = st.create_job(ME, payload, "export", PREFIX)
    st.test_clock.now += 1
    return next(j for j in st.jobs() if j["job_name"] == body["job_name"])


def _import(st, payload):
    body, _, _ = st.create_job(ME, payload, "import", PREFIX)
    st.test_clock.now += 1
    info = next(j for j in st.jobs() if j["job_name"] == body["job_name"] and j["operation"] == "IMPORT")
    return info, st.get_job("DBAPI_USER", body["job_name"], PREFIX)


def test_schema_dump_creates_the_remap_target(st):
    info = _export(st, {"job_mode": "SCHEMA", "filter": "TESTUSER1"})
    imp, done = _import(st, {"job_mode": "SCHEMA", "file_name": info["dump_files"][0], "remap_schemas": [{"source": "TESTUSER1", "target": "NEWUSER"}]})
    assert set(st.catalog_data()["schemas"]["NEWUSER"]["tables"]) == {"EMP", "DEPT"}
    assert done["job_state"] == "COMPLETED" and "successfully completed" in done["job_comment"]


def test_without_the_privilege_the_target_is_not_created(st):
    st.set_scenario(can_create_users=False)
    info = _export(st, {"job_mode": "SCHEMA", "filter": "TESTUSER1"})
    imp, done = _import(st, {"job_mode": "SCHEMA", "file_name": info["dump_files"][0], "remap_schemas": [{"source": "TESTUSER1", "target": "NEWUSER"}]})
    assert "NEWUSER" not in st.catalog_data()["schemas"]
    assert imp["errors"] == [
        'ORA-39083: Object type TABLE:"NEWUSER"."DEPT" failed to create with error:',
        "ORA-01918: user 'NEWUSER' does not exist",
        'ORA-39083: Object type TABLE:"NEWUSER"."EMP" failed to create with error:',
        "ORA-01918: user 'NEWUSER' does not exist",
    ]
    assert "completed with 4 error(s)" in done["job_comment"]


def test_table_dump_carries_no_create_user(st):
    info = _export(st, {"job_mode": "TABLE", "schema_expressions": [{"expression": "= 'TESTUSER1'"}], "name_expressions": [{"expression": "= 'EMP'"}]})
    imp, done = _import(st, {"job_mode": "TABLE", "file_name": info["dump_files"][0], "schema_expressions": [{"expression": "= 'TESTUSER1'"}], "remap_schemas": [{"source": "TESTUSER1", "target": "NEWUSER"}]})
    assert "NEWUSER" not in st.catalog_data()["schemas"]
    assert imp["errors"] == ['ORA-39083: Object type TABLE:"NEWUSER"."EMP" failed to create with error:', "ORA-01918: user 'NEWUSER' does not exist"]
    assert "completed with 2 error(s)" in done["job_comment"]
    # Once the DBA has created the user, the same import loads the table.
    st.load_catalog({"schemas": {**st.catalog_data()["schemas"], "NEWUSER": {}}})
    imp, done = _import(st, {"job_mode": "TABLE", "file_name": info["dump_files"][0], "schema_expressions": [{"expression": "= 'TESTUSER1'"}], "remap_schemas": [{"source": "TESTUSER1", "target": "NEWUSER"}]})
    assert imp["errors"] == [] and set(st.catalog_data()["schemas"]["NEWUSER"]["tables"]) == {"EMP"}


def test_table_mode_import_of_a_schema_dump_creates_no_user(st):
    info = _export(st, {"job_mode": "SCHEMA", "filter": "TESTUSER1"})
    imp, _ = _import(st, {"job_mode": "TABLE", "file_name": info["dump_files"][0], "schema_expressions": [{"expression": "= 'TESTUSER1'"}],
                          "remap_schemas": [{"source": "TESTUSER1", "target": "NEWUSER"}]})
    assert "NEWUSER" not in st.catalog_data()["schemas"] and len(imp["errors"]) == 4


def test_full_dump_creates_users(st):
    info = _export(st, {"job_mode": "FULL", "threads": 1})
    st.drop_schema("TESTUSER3")
    imp, done = _import(st, {"job_mode": "FULL", "file_name": info["dump_files"][0], "remap_schemas": [{"source": "TESTUSER1", "target": "COPY1"}]})
    schemas = st.catalog_data()["schemas"]
    assert set(schemas["COPY1"]["tables"]) == {"EMP", "DEPT"} and set(schemas["TESTUSER3"]["tables"]) == {"EMPLOYEES", "DEPARTMENTS"}


# ---------------------------------------------------------------- FULL parallelism (state)


def test_full_export_parallel_by_default(st):
    info = _export(st, {"job_mode": "FULL"})
    assert info["threads"] == 4 and [n[:8] for n in info["dump_files"]] == ["EXPDAT01", "EXPDAT02", "EXPDAT03", "EXPDAT04"]
    assert len(_export(st, {"job_mode": "FULL", "threads": 1})["dump_files"]) == 1
    assert len(_export(st, {"job_mode": "SCHEMA"})["dump_files"]) == 1  # only FULL is parallel by default
    st.set_scenario(full_default_threads=2)
    assert len(_export(st, {"job_mode": "FULL"})["dump_files"]) == 2
    # An import of the whole set by %U, as in the seed.
    pattern = info["dump_files"][0].replace("EXPDAT01", "EXPDAT%U")
    imp, done = _import(st, {"job_mode": "FULL", "file_name": pattern})
    assert done["job_state"] == "COMPLETED"


# ---------------------------------------------------------------- list: q, offset, limit (HTTP)


def _foreign(emu, *names, owner="DBAPI_USER"):
    for name in names:
        emu.state.add_foreign_job({"owner_name": owner, "job_name": name, "degree": int(name[-1]) if name[-1].isdigit() else 0})


def _names(client, **params):
    r = client.get("jobs/", params={k: json.dumps(v) if k == "q" else v for k, v in params.items()})
    assert r.status_code == 200, r.text
    return [i["job_name"] for i in r.json()["items"]]


def test_q_comparisons_and_and(client, emu, h):
    _foreign(emu, "DATAPUMP_REST_EXPORT_20261201000001", "DATAPUMP_REST_EXPORT_20261201000002",
             "DATAPUMP_REST_IMPORT_20261201000003", "SYS_EXPORT_SCHEMA_01")
    assert _names(client, q={"job_name": {"$gt": "DATAPUMP_REST_EXPORT_20261201000001"}}) == [
        "DATAPUMP_REST_EXPORT_20261201000002", "DATAPUMP_REST_IMPORT_20261201000003", "SYS_EXPORT_SCHEMA_01"]
    assert _names(client, q={"job_name": {"$gte": "DATAPUMP_REST_EXPORT_20261201000001", "$like": "DATAPUMP_REST_EXPORT_%"}}) == [
        "DATAPUMP_REST_EXPORT_20261201000001", "DATAPUMP_REST_EXPORT_20261201000002"]
    assert _names(client, q={"job_name": {"$lt": "DATAPUMP_REST_EXPORT_20261201000002"}}) == ["DATAPUMP_REST_EXPORT_20261201000001"]
    assert _names(client, q={"job_name": {"$lte": "DATAPUMP_REST_EXPORT_20261201000002", "$ne": "DATAPUMP_REST_EXPORT_20261201000001"}}) == [
        "DATAPUMP_REST_EXPORT_20261201000002"]
    # Numbers compare as numbers (degrees 1, 2, 3, 1 from the names' last digit): as strings,
    # "2" < "10" would be false and nothing would match.
    assert _names(client, q={"degree": {"$gte": 2, "$lt": 10}}) == [
        "DATAPUMP_REST_EXPORT_20261201000002", "DATAPUMP_REST_IMPORT_20261201000003"]
    # Several fields AND.
    assert _names(client, q={"owner_name": "DBAPI_USER", "job_name": {"$like": "%IMPORT%"}}) == ["DATAPUMP_REST_IMPORT_20261201000003"]
    for bad in ({"job_name": {"$gt": 5}}, {"degree": {"$gt": "1"}}, {"job_name": {"$between": ["A", "B"]}}, {"job_name": {}}):
        h.assert_problem(client.get("jobs/", params={"q": json.dumps(bad)}), 400)


def test_q_ignored_and_rejected(client, emu, h):
    _foreign(emu, "A_JOB", "B_JOB")
    q = {"job_name": "A_JOB"}
    assert _names(client, q=q) == ["A_JOB"]
    emu.set_scenario(q_support="ignored")
    assert _names(client, q=q) == ["A_JOB", "B_JOB"]
    emu.set_scenario(q_support="rejected")
    h.assert_problem(client.get("jobs/", params={"q": json.dumps(q)}), 400)
    assert _names(client) == ["A_JOB", "B_JOB"]  # without q the list still answers


def test_next_links_carry_offset_limit_and_q(client, emu):
    _foreign(emu, *[f"DATAPUMP_REST_EXPORT_2026120100000{i}" for i in range(5)], "OTHER")
    q = json.dumps({"job_name": {"$like": "DATAPUMP_REST_%"}})
    page = client.get("jobs/", params={"limit": 2, "q": q}).json()
    seen = [i["job_name"] for i in page["items"]]
    while True:
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(nxt[0]).query)
        assert query["q"] == [q] and query["limit"] == ["2"] and "offset" in query
        page = client.get(nxt[0]).json()
        seen += [i["job_name"] for i in page["items"]]
    assert seen == [f"DATAPUMP_REST_EXPORT_2026120100000{i}" for i in range(5)]


def test_offset_ignored_still_gives_next_links(client, emu):
    _foreign(emu, "J1", "J2", "J3")
    emu.set_scenario(offset_support="ignored")
    first = client.get("jobs/", params={"limit": 2}).json()
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    again = client.get(nxt).json()
    # The same first page again, and a next link again: a client must bound its loop.
    assert [i["job_name"] for i in again["items"]] == ["J1", "J2"] and again["offset"] == 0
    assert [link["href"] for link in again["links"] if link["rel"] == "next"] == [nxt]


def test_limit_capped_silently(client, emu):
    _foreign(emu, "J1", "J2", "J3")
    body = client.get("jobs/", params={"limit": 10**7}).json()
    assert (body["limit"], body["count"]) == (10000, 3)
    emu.set_scenario(list_max_limit=2)
    body = client.get("jobs/", params={"limit": 50}).json()
    assert (body["limit"], body["count"], body["hasMore"]) == (2, 2, True)
    assert client.get("jobs/").json()["limit"] == 2  # the default 25 is capped too


# ---------------------------------------------------------------- files by media type (HTTP)


@pytest.fixture
def finished_export(client, emu, h):
    emu.set_scenario(dump_size=4096)
    _, done = h.run_job(client, {"filter": "TESTUSER1"}, "export")
    return h.links(done, "related")[0], h.links(done, "enclosure")[0]


@pytest.mark.parametrize(
    ("accept", "log_ok", "dump_ok"),
    [
        (None, True, True),
        ("*/*", True, True),
        ("application/json", False, False),
        ("text/plain", True, False),
        ("application/vnd.tcpdump.pcap", False, True),
        ("text/*", True, False),
        ("application/*", False, True),
        ("application/json, text/plain;q=0.5", True, False),
        ("text/plain;q=0", False, False),
        ("text/plain;q=0, */*", False, True),
        ("application/json, */*;q=0.1", True, True),
    ],
)
def test_accept_must_admit_the_files_media_type(client, h, finished_export, accept, log_ok, dump_ok):
    log_url, dump_url = finished_export
    headers = {"Accept": accept} if accept is not None else {}
    for url, ok, media in ((log_url, log_ok, "text/plain"), (dump_url, dump_ok, "application/vnd.tcpdump.pcap")):
        req = client.build_request("GET", url, headers=headers)
        if accept is None:
            del req.headers["accept"]
        r = client.send(req)
        if ok:
            assert r.status_code == 200 and r.headers["content-type"].startswith(media)
        else:
            assert media in h.assert_problem(r, 406)["message"]


def test_strict_accept_off(client, emu, finished_export):
    emu.set_scenario(strict_accept=False)
    for url in finished_export:
        assert client.get(url, headers={"Accept": "application/json"}).status_code == 200


# ---------------------------------------------------------------- $ and # in identifiers (HTTP)


@pytest.mark.parametrize("user", ["c##dp_admin", "dp$ops"])
def test_owners_with_dollar_and_hash_work_on_every_route(user, tmp_path):
    with run_emulator(users={user: "Secret#1"}, data_dir=tmp_path, duration=0) as emu:
        owner = user.upper()
        assert "#" not in emu.base_url  # the alias is percent-encoded in the handle's URLs
        with httpx.Client(auth=(user, "Secret#1"), timeout=10) as c:
            r = c.post(emu.api_url + "export", json={"filter": "TESTUSER1"})
            assert r.status_code == 201, r.text
            body = r.json()
            assert body["owner_name"] == owner
            enc_owner = urllib.parse.quote(owner, safe="$")
            location = r.headers["location"]
            assert location == r.headers["content-location"]
            assert f"/jobs/{enc_owner},{body['job_name']}/" in location and "#" not in location
            assert all("#" not in link["href"] for link in body["links"])
            done = c.get(location).json()
            assert done["job_state"] == "COMPLETED" and done["owner_name"] == owner
            for link in done["links"]:
                assert "#" not in link["href"]
                assert c.get(link["href"]).status_code == 200, link
            listing = c.get(emu.api_url + "jobs/").json()
            assert [i["owner_name"] for i in listing["items"]] == [owner]
            assert c.get(listing["items"][0]["links"][0]["href"]).json()["job_name"] == body["job_name"]
            # '$' may also come encoded; '#' must.
            assert c.get(location.replace("$", "%24")).status_code == 200
            # Control routes take the decoded owner too.
            ctl = httpx.delete(f"{emu.url}/_emulator/jobs/{enc_owner},{body['job_name']}")
            assert ctl.status_code == 204
            assert c.get(location).status_code == 404
        # A Basic user with '#' is refused on another alias (the OAuth client's), like any user.
        r = httpx.get(emu.url + "/ords/dbapi_user/_/db-api/stable/database/datapump/jobs/", auth=(user, "Secret#1"))
        assert r.status_code == 401
