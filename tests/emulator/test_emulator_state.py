"""The pure state module, driven by a fake clock (no HTTP, no sleeping)."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_datapump.emulator import EmulatorError, EmulatorState, Principal
from tests.credentials import USER, CLIENT_ID, CLIENT_SECRET

PREFIX = "http://h/ords/dbapi_user/_/db-api/stable"
ME = Principal("basic", "DBAPI_USER", "dbapi_user")


class Clock:
    def __init__(self, start: float):
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock(dt.datetime(2020, 10, 1, 11, 55, 24).timestamp())


@pytest.fixture
def st(tmp_path, clock):
    state = EmulatorState(data_dir=tmp_path, clock=clock, duration=41)
    yield state
    state.close()


def create(st, payload, endpoint=None, who=ME):
    """Create through the endpoint the payload's operation names (export/import, in every version)."""
    if endpoint is None:
        payload = dict(payload)
        endpoint = payload.pop("operation").lower()
    body, url, dropped = st.create_job(who, payload, endpoint, PREFIX)
    return body


def finish(st, clock, body):
    clock.now += 10**6
    return st.get_job(body["owner_name"], body["job_name"], PREFIX)


def log_of(st, body):
    path, _, _ = st.resolve_file(body["owner_name"], body["job_name"], body["links"][-2]["href"].rsplit("/", 1)[1])
    with open(path) as fh:
        return fh.read()


def tables(st, payload, clock):
    body = create(st, {"operation": "EXPORT", **payload})
    finish(st, clock, body)
    [info] = [j for j in st.jobs() if j["job_name"] == body["job_name"]]
    return sorted(info["tables"]), info


def test_names_and_times_follow_the_seed(st, clock):
    body = create(st, {"operation": "EXPORT", "job_mode": "SCHEMA"})
    assert body["job_name"] == "DATAPUMP_REST_EXPORT_20201001115524"
    assert body["links"][2]["href"].endswith("/EXPDAT-2020-10-01-11_55_24.LOG")
    clock.now += 20
    assert st.get_job("DBAPI_USER", body["job_name"], PREFIX)["state"] == "EXECUTING"
    clock.now += 21
    done = st.get_job("DBAPI_USER", body["job_name"], PREFIX)
    assert done["job_comment"] == (
        'Job "DBAPI_USER"."DATAPUMP_REST_EXPORT_20201001115524" successfully completed '
        "at Thu Oct 1 11:56:05 2020 elapsed 0 00:00:41"
    )
    assert done["links"][2]["href"].endswith("/EXPDAT01-20201001_11_55_24.DMP")


def test_same_second_same_owner_is_ora_31634_and_creates_nothing(st, clock):
    st.set_scenario(duration=0)
    a = create(st, {"operation": "EXPORT"})
    with pytest.raises(EmulatorError) as err:
        create(st, {"operation": "EXPORT"})
    assert err.value.status == 400
    assert "ORA-31634: job already exists" in err.value.message and "ORA-39002: invalid operation" in err.value.message
    assert [j["job_name"] for j in st.jobs()] == [a["job_name"]]
    # Another operation has another name; the next second is free again.
    dump = st.jobs()[0]["dump_files"][0]
    assert create(st, {"operation": "IMPORT", "file_name": dump})["job_name"] == "DATAPUMP_REST_IMPORT_20201001115524"
    clock.now += 1
    assert create(st, {"operation": "EXPORT"})["job_name"].endswith("115525")


def test_name_clash_status_500(st):
    st.set_scenario(name_clash_status=500)
    create(st, {"operation": "EXPORT"})
    with pytest.raises(EmulatorError) as err:
        create(st, {"operation": "EXPORT"})
    assert err.value.status == 500 and "ORA-31634" in err.value.message
    with pytest.raises(EmulatorError):
        st.set_scenario(name_clash_status=409)


def test_other_owner_same_second_has_its_own_name_but_not_the_same_log(tmp_path, clock):
    state = EmulatorState(data_dir=tmp_path, clock=clock, users={"dbapi_user": "p", "hr": "q"})
    try:
        hr = Principal("basic", "HR", "hr")
        create(state, {"operation": "EXPORT"})
        # Same name, other owner: Data Pump allows it; but the log file of that second in
        # the same directory is taken, so the create fails rather than moving on.
        with pytest.raises(EmulatorError) as err:
            create(state, {"operation": "EXPORT"}, who=hr)
        assert "ORA-39070" in err.value.message and err.value.status == 400
        body = create(state, {"operation": "EXPORT", "datapump_dir": "HR_DIR"}, who=hr)
        assert (body["owner_name"], body["job_name"]) == ("HR", "DATAPUMP_REST_EXPORT_20201001115524")
    finally:
        state.close()


def test_a_dropped_control_table_frees_its_name(st, clock):
    st.set_scenario(duration=0)
    a = create(st, {"operation": "EXPORT", "keep_master": 0})  # vanishes when it succeeds
    assert st.jobs()[0]["visible"] is False
    # Same second, same owner: the name is free; the log file of that second is not.
    with pytest.raises(EmulatorError) as err:
        create(st, {"operation": "EXPORT"})
    assert "ORA-39070" in err.value.message
    b = create(st, {"operation": "EXPORT", "datapump_dir": "OTHER_DIR"})
    assert b["job_name"] == a["job_name"]
    assert [j["visible"] for j in st.jobs()] == [False, True]  # the dropped one is still in the internal view
    clock.now += 1
    c = create(st, {"operation": "EXPORT"})
    st.drop_job("DBAPI_USER", c["job_name"])
    assert create(st, {"operation": "EXPORT", "datapump_dir": "THIRD_DIR"})["job_name"] == c["job_name"]


def test_elapsed_over_a_day(st, clock):
    st.set_scenario(duration=90061)
    body = create(st, {"operation": "EXPORT"})
    assert finish(st, clock, body)["job_comment"].endswith("elapsed 1 01:01:01")


def test_schema_mode_defaults_to_own_schema(st, clock):
    names, info = tables(st, {"job_mode": "SCHEMA"}, clock)
    assert names == [] and info["schemas"] == ["DBAPI_USER"]
    assert info["outcome"] == "success"  # an empty schema still exports its metadata


def test_table_mode_defaults_to_own_schema_and_reports_nothing_selected(st, clock):
    names, info = tables(st, {"job_mode": "TABLE", "filter": "EMP"}, clock)
    assert names == []
    assert info["outcome"] == "errors"
    assert info["errors"] == ["ORA-39166: Object EMP was not found.", "ORA-31655: no data or metadata objects selected for job"]


def test_table_mode_with_qualified_filter(st, clock):
    names, _ = tables(st, {"job_mode": "TABLE", "filter": "TESTUSER1.EMP, testuser3.departments"}, clock)
    assert names == ["TESTUSER1.EMP", "TESTUSER3.DEPARTMENTS"]


def test_schema_filter_with_missing_schema(st, clock):
    names, info = tables(st, {"job_mode": "SCHEMA", "filter": "TESTUSER1,NOSUCH"}, clock)
    assert names == ["TESTUSER1.DEPT", "TESTUSER1.EMP"]
    assert info["errors"] == ["ORA-39165: Schema NOSUCH was not found."]


def test_schema_expressions_in_and_not_in(st, clock):
    names, _ = tables(st, {"job_mode": "SCHEMA", "schema_expressions": [{"expression": "IN ('TESTUSER1','TESTUSER3')"}, {"expression": "NOT IN ('TESTUSER1')"}]}, clock)
    assert names == ["TESTUSER3.DEPARTMENTS", "TESTUSER3.EMPLOYEES"]


def test_tablespace_mode(st, clock):
    names, _ = tables(st, {"job_mode": "TABLESPACE", "tablespace_expressions": [{"expression": "= 'EXAMPLE'"}]}, clock)
    assert names == ["TESTUSER3.DEPARTMENTS", "TESTUSER3.EMPLOYEES"]
    names, _ = tables(st, {"job_mode": "TABLESPACE", "filter": "USERS"}, clock)
    assert names == ["TESTUSER1.DEPT", "TESTUSER1.EMP"]


def test_full_mode_with_name_expression(st, clock):
    names, _ = tables(st, {"job_mode": "FULL", "name_expressions": [{"expression": "LIKE 'DEP%'"}]}, clock)
    assert names == ["TESTUSER1.DEPT", "TESTUSER3.DEPARTMENTS"]


def test_import_into_existing_schema_skips_existing_tables(st, clock):
    export = create(st, {"operation": "EXPORT", "job_mode": "SCHEMA", "filter": "TESTUSER1"})
    finish(st, clock, export)
    dump = [j for j in st.jobs() if j["job_name"] == export["job_name"]][0]["dump_files"][0]
    st.drop_table("TESTUSER1", "DEPT")
    imp = create(st, {"operation": "IMPORT", "job_mode": "SCHEMA", "file_name": dump})
    done = finish(st, clock, imp)
    assert "completed with 2 error(s)" in done["job_comment"]
    log = log_of(st, done)
    assert 'ORA-31684: Object type USER:"TESTUSER1" already exists' in log
    assert 'ORA-39151: Table "TESTUSER1"."EMP" exists.' in log
    assert 'imported "TESTUSER1"."DEPT"' in log
    assert st.catalog_data()["schemas"]["TESTUSER1"]["tables"]["DEPT"]["rows"] == 4


def test_import_filters_against_dump_contents(st, clock):
    export = create(st, {"operation": "EXPORT", "job_mode": "FULL", "threads": 1})
    finish(st, clock, export)
    st.load_catalog({"schemas": {**st.catalog_data()["schemas"], "HR2": {}}})  # a TABLE import creates no user
    dump = [j for j in st.jobs() if j["job_name"] == export["job_name"]][0]["dump_files"][0]
    imp = create(
        st,
        {
            "operation": "IMPORT",
            "job_mode": "TABLE",
            "file_name": dump,
            "schema_expressions": [{"expression": "= 'TESTUSER3'"}],
            "name_expressions": [{"expression": "= 'EMPLOYEES'"}],
            "remap_schemas": [{"source": "TESTUSER3", "target": "HR2"}],
        },
    )
    finish(st, clock, imp)
    assert st.catalog_data()["schemas"]["HR2"]["tables"] == {"EMPLOYEES": {"tablespace": "EXAMPLE", "rows": 107, "bytes": 17490}}


def test_token_lifecycle(st, clock):
    tok = st.issue_token(USER, CLIENT_ID, CLIENT_SECRET, "client_credentials")
    assert st.authenticate_bearer("dbapi_user", tok["access_token"]).user == "DBAPI_USER"
    clock.now += 3600
    with pytest.raises(EmulatorError) as err:
        st.authenticate_bearer("dbapi_user", tok["access_token"])
    assert err.value.status == 401


def test_catalog_file_and_validation(tmp_path, clock):
    path = tmp_path / "cat.json"
    path.write_text('{"schemas": {"sales": {"tables": [{"name": "orders", "rows": 5}]}}}')
    state = EmulatorState(data_dir=tmp_path / "d", catalog=str(path), clock=clock)
    try:
        assert state.catalog_data() == {"schemas": {"SALES": {"tables": {"ORDERS": {"tablespace": "USERS", "rows": 5, "bytes": 5440}}}}}
        for bad in ([], {"schemas": {"bad name": {}}}, {"schemas": {"A": {"tables": [{"name": "T", "rows": -1}]}}}):
            with pytest.raises(EmulatorError):
                state.load_catalog(bad)
    finally:
        state.close()


def test_settings_validation(st):
    with pytest.raises(TypeError):
        EmulatorState(nonsense=1)
    for bad in ({"outcome": "boom"}, {"duration": -1}, {"ora_codes": ["X-1"]}, {"link_origin": "ftp://x"}, {"nope": 1}):
        with pytest.raises(EmulatorError):
            st.set_scenario(**bad)
    with pytest.raises(EmulatorError):
        st.queue_scenario(token_ttl=1)  # instance-wide settings cannot be queued per job
    assert st.set_scenario(ora_codes=[39083])["ora_codes"] == ["ORA-39083"]
