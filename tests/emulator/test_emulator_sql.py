"""REST-Enabled SQL (POST {alias}/_/sql) over real HTTP: ORDS's answer shape, statements understood by
meaning (spacing, case, quoting, bind names, concatenation), the users and Data Pump models behind
them, errors as ORA codes, hostile names, and the object store shared by two emulators."""

from __future__ import annotations

import os
import re

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_datapump.emulator import run_emulator
from airflow_provider_datapump.emulator.catalog import ORACLE_MAINTAINED_USERS

EXAMPLES = int(os.environ.get("DATAPUMP_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# The statements the provider sends (the contract of issue #26), written as the client writes them.
DROP_USER = """
BEGIN
  EXECUTE IMMEDIATE 'DROP USER ' || DBMS_ASSERT.ENQUOTE_NAME(:username, FALSE) || ' CASCADE';
END;"""
STOP_JOB = """
DECLARE
  h NUMBER;
BEGIN
  h := DBMS_DATAPUMP.ATTACH(job_name => :job_name, job_owner => :owner);
  DBMS_DATAPUMP.STOP_JOB(handle => h, immediate => :immediate, keep_master => :keep_master, delay => 0);
END;"""
JOB_PROGRESS = """
SELECT ROUND(SUM(l.sofar) / NULLIF(SUM(l.totalwork), 0) * 100, 1) AS pct
  FROM v$session_longops l
  JOIN dba_datapump_jobs j
    ON l.opname = j.job_name AND l.username = j.owner_name
 WHERE j.owner_name = :owner
   AND j.job_name = :job_name
   AND l.totalwork > 0"""
ORPHANED_JOBS = r"""
SELECT j.job_name
  FROM dba_datapump_jobs j
  JOIN dba_objects o
    ON o.owner = j.owner_name AND o.object_name = j.job_name AND o.object_type = 'TABLE'
 WHERE j.owner_name = :owner
   AND j.state = 'NOT RUNNING'
   AND j.attached_sessions = 0
   AND j.job_name LIKE :name_pattern ESCAPE '\'
   AND j.job_name NOT LIKE 'BIN$%'
   AND o.created < SYSDATE - :age_days
 ORDER BY j.job_name"""
READ_LOG = "SELECT TO_CLOB(BFILENAME(:directory, :file_name)) AS content FROM dual"
RUNNING_JOBS = "SELECT owner_name, job_name, operation, job_mode, state FROM dba_datapump_jobs WHERE state <> 'NOT RUNNING'"
IDENTITY = (
    "SELECT SYS_CONTEXT('USERENV','DB_UNIQUE_NAME') AS db_unique_name, SYS_CONTEXT('USERENV','CON_NAME') AS con_name,"
    " SYS_CONTEXT('USERENV','SESSION_USER') AS session_user FROM dual"
)
HOSTILE = 'X" CASCADE; DROP USER SYS --'


def binds(**values):
    return [
        {"name": k, "data_type": "NUMBER" if isinstance(v, int) else "VARCHAR2", "value": v}
        for k, v in values.items()
    ]


@pytest.fixture
def sql(emu, h):
    """POST one statementText; the one item of the answer (checked for ORDS's shape)."""
    with httpx.Client(base_url=emu.base_url, auth=(h.USER, h.PASSWORD), timeout=10) as c:

        def run(text, bind_list=None, **extra):
            resp = c.post("/_/sql", json={"statementText": text, "binds": bind_list or [], **extra})
            assert resp.status_code == 200, resp.text
            assert resp.headers["content-type"].startswith("application/json")
            body = resp.json()
            assert body["env"] == {"defaultTimeZone": "UTC"}
            assert len(body["items"]) == 1, body
            item = body["items"][0]
            assert {
                "statementId",
                "statementType",
                "statementPos",
                "statementText",
                "response",
                "result",
            } <= set(item)
            return item

        run.client = c
        yield run


def rows(item):
    assert "errorCode" not in item, item
    return item["resultSet"]["items"]


def error(item):
    assert item["errorMessage"].startswith(f"ORA-{item['errorCode']:05d}: "), item
    assert item["errorDetails"].startswith(item["errorMessage"])
    return item["errorCode"]


def make_job(emu, client, duration=None, **payload):
    if duration is not None:
        emu.queue_scenario(duration=duration)
    resp = client.post("export", json=payload or {"schema_expressions": [{"expression": "IN ('TESTUSER1')"}]})
    assert resp.status_code == 201, resp.text
    return resp.json()


# ---------------------------------------------------------------- the answer's shape and the route


def test_select_1_from_dual_has_ords_shape(sql):
    item = sql("select 1 from dual")
    assert item["statementId"] == 1
    assert item["statementType"] == "query"
    assert item["statementPos"] == {"startLine": 1, "endLine": 1}
    assert item["statementText"] == "select 1 from dual"
    rs = item["resultSet"]
    assert rs["items"] == [{"1": 1}]
    assert rs["metadata"][0]["columnName"] == "1" and rs["metadata"][0]["columnTypeName"] == "NUMBER"
    assert {"jsonColumnName", "columnClassName", "precision", "scale", "isNullable"} <= set(rs["metadata"][0])
    assert (rs["hasMore"], rs["offset"], rs["count"]) == (False, 0, 1)
    assert item["response"] == [] and item["result"] == 0


def test_pool_form_and_oauth_reach_the_same_service(emu, h):
    url = f"{emu.url}/ords/pdb1/{h.USER}/_/sql"
    resp = httpx.post(url, json={"statementText": "select user from dual"}, auth=(h.USER, h.PASSWORD))
    assert resp.json()["items"][0]["resultSet"]["items"] == [{"user": h.USER.upper()}]
    token = httpx.post(
        emu.token_url, data={"grant_type": "client_credentials"}, auth=("dbapi_client", "DbApiClientSecret1")
    )
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    resp = httpx.post(emu.sql_url, json={"statementText": "select 1 from dual"}, headers=bearer)
    assert resp.status_code == 200


def test_same_auth_as_the_database_api(emu, h):
    h.assert_problem(httpx.post(emu.sql_url, json={"statementText": "select 1 from dual"}), 401)
    h.assert_problem(httpx.post(emu.sql_url, json={"statementText": "x"}, auth=(h.USER, "wrong")), 401)
    h.assert_problem(
        httpx.post(f"{emu.url}/ords/nobody/_/sql", json={"statementText": "x"}, auth=(h.USER, h.PASSWORD)),
        404,
    )


@pytest.mark.parametrize("datapump_emulator", [{"rest_enabled_sql": False}], indirect=True)
def test_inactive_rest_sql_is_404_like_other_ords_404s(datapump_emulator, h):
    for auth in ((h.USER, h.PASSWORD), None):
        resp = httpx.post(datapump_emulator.sql_url, json={"statementText": "select 1 from dual"}, auth=auth)
        body = h.assert_problem(resp, 404)
        assert body["code"] == "NotFound"
    # The Database API itself still answers.
    assert httpx.get(datapump_emulator.api_url + "jobs/", auth=(h.USER, h.PASSWORD)).status_code == 200


def test_inactive_is_a_runtime_setting(emu, h):
    emu.set_scenario(rest_enabled_sql=False)
    h.assert_problem(
        httpx.post(emu.sql_url, json={"statementText": "select 1 from dual"}, auth=(h.USER, h.PASSWORD)), 404
    )
    emu.set_scenario(rest_enabled_sql=True)
    assert (
        httpx.post(
            emu.sql_url, json={"statementText": "select 1 from dual"}, auth=(h.USER, h.PASSWORD)
        ).status_code
        == 200
    )


def test_bad_requests(emu, h, sql):
    c = sql.client
    h.assert_problem(c.post("/_/sql", json={"binds": []}), 400)
    h.assert_problem(c.post("/_/sql", json={"statementText": "select 1 from dual", "binds": {"a": 1}}), 400)
    h.assert_problem(
        c.post("/_/sql", json={"statementText": "select 1 from dual", "binds": [{"value": 1}]}), 400
    )
    h.assert_problem(c.post("/_/sql", json=["select 1 from dual"]), 400)
    h.assert_problem(
        c.post("/_/sql", content="select 1 from dual", headers={"Content-Type": "text/plain"}), 415
    )


def test_script_is_split_and_goes_on_after_a_failed_statement(sql):
    script = "select 1 from dual;\n\ndrop user nobody cascade;\n-- a comment\nBEGIN\n  NULL;\nEND;\n/\nselect user from dual\n"
    resp = sql.client.post("/_/sql", content=script, headers={"Content-Type": "application/sql"})
    assert resp.status_code == 200
    items = resp.json()["items"]
    assert [i["statementType"] for i in items] == ["query", "ddl", "plsql", "query"]
    assert [i["statementId"] for i in items] == [1, 2, 3, 4]
    assert items[1]["errorCode"] == 1918 and "errorCode" not in items[2]
    assert items[2]["statementPos"] == {"startLine": 5, "endLine": 7}
    assert items[2]["response"] == ["\nPL/SQL procedure successfully completed.\n\n"]
    assert items[3]["resultSet"]["items"] == [{"user": "DBAPI_USER"}]


def test_limit_and_offset_page_a_result(sql):
    first = sql("SELECT username FROM dba_users ORDER BY username", limit=2)["resultSet"]
    assert first["count"] == 2 and first["hasMore"] is True and first["limit"] == 2
    second = sql("SELECT username FROM dba_users ORDER BY username", limit=2, offset=2)["resultSet"]
    assert second["offset"] == 2 and second["items"][0]["username"] > first["items"][1]["username"]


# ---------------------------------------------------------------- identity, users, objects


def test_database_identity(sql):
    (row,) = rows(sql(IDENTITY))
    assert row["session_user"] == "DBAPI_USER"
    assert row["db_unique_name"] and row["con_name"]


@pytest.mark.parametrize(
    "datapump_emulator", [{"db_unique_name": "prod", "con_name": "PRODPDB"}], indirect=True
)
def test_database_identity_from_settings(datapump_emulator, h):
    resp = httpx.post(datapump_emulator.sql_url, json={"statementText": IDENTITY}, auth=(h.USER, h.PASSWORD))
    row = resp.json()["items"][0]["resultSet"]["items"][0]
    assert (row["db_unique_name"], row["con_name"]) == ("PROD", "PRODPDB")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("TESTUSER1", [{"username": "TESTUSER1", "oracle_maintained": "N"}]),
        ("SYS", [{"username": "SYS", "oracle_maintained": "Y"}]),
        ("NOBODY", []),
    ],
)
def test_user_info(sql, name, expected):
    assert (
        rows(
            sql(
                "SELECT username, oracle_maintained FROM dba_users WHERE username = :username",
                binds(username=name),
            )
        )
        == expected
    )


def test_oracle_maintained_users_are_there(sql):
    maintained = {
        r["username"] for r in rows(sql("select username from dba_users where oracle_maintained = 'Y'"))
    }
    assert {"SYS", "SYSTEM", "AUDSYS", "DBSNMP", "XDB", "OUTLN"} <= maintained
    assert "TESTUSER1" not in maintained


def test_user_object_count_counts_tables_and_control_tables(emu, client, sql):
    count = "SELECT COUNT(*) AS objects FROM dba_objects WHERE owner = :username"
    assert rows(sql(count, binds(username="TESTUSER1"))) == [{"objects": 2}]
    assert rows(sql(count, binds(username="DBAPI_USER"))) == [{"objects": 0}]
    make_job(emu, client)
    assert rows(sql(count, binds(username="DBAPI_USER"))) == [{"objects": 1}]


def test_an_import_that_creates_a_schema_creates_the_user(emu, client, h, sql):
    export = make_job(emu, client)
    h.wait_finished(client, client.get(f"jobs/DBAPI_USER,{export['job_name']}/").json()["links"][-1]["href"])
    dump = [f for f in emu.jobs()[0]["dump_files"]][0]
    emu.advance_clock(1)
    h.run_job(
        client,
        {"file_name": dump, "remap_schemas": [{"source": "TESTUSER1", "target": "TESTUSER9"}]},
        "import",
    )
    assert rows(sql("select username from dba_users where username = 'TESTUSER9'")) == [
        {"username": "TESTUSER9"}
    ]


# ---------------------------------------------------------------- DROP USER by meaning

DROP_VARIANTS = {
    "the provider's block": (DROP_USER, binds(username="TESTUSER1")),
    "plain DDL": ("drop user testuser1 cascade", []),
    "quoted, spaced, with a semicolon": ('DROP   USER\n  "TESTUSER1"\tCASCADE ;', []),
    "another bind name": (DROP_USER.replace(":username", ":u"), binds(u="TESTUSER1")),
    "bind by index": (DROP_USER, [{"index": 1, "data_type": "VARCHAR2", "value": "TESTUSER1"}]),
    "capitalizing ENQUOTE_NAME": (
        "begin execute immediate 'drop user '||dbms_assert.enqueue_name(:n)||' cascade'; end;".replace(
            "enqueue", "enquote"
        ),
        binds(n="testuser1"),
    ),
    "named ENQUOTE_NAME arguments, comments": (
        "BEGIN /* nightly */ EXECUTE IMMEDIATE 'DROP USER ' || SYS.DBMS_ASSERT.ENQUOTE_NAME(str => :who, capitalize => FALSE)"
        " || ' CASCADE'; -- done\nEND;",
        binds(who="TESTUSER1"),
    ),
    "quotes written into the string": (
        """BEGIN EXECUTE IMMEDIATE 'DROP USER "' || :u || '" CASCADE'; END;""",
        binds(u="TESTUSER1"),
    ),
    "a variable": (
        "DECLARE stmt VARCHAR2(200) := 'DROP USER ' || DBMS_ASSERT.ENQUOTE_NAME(:u, FALSE) || ' CASCADE';"
        " BEGIN EXECUTE IMMEDIATE stmt; END;",
        binds(u="TESTUSER1"),
    ),
    "a literal": ("BEGIN EXECUTE IMMEDIATE 'drop user \"TESTUSER1\" cascade'; END;", []),
}


@pytest.mark.parametrize(("text", "bind_list"), list(DROP_VARIANTS.values()), ids=list(DROP_VARIANTS))
def test_drop_user_variants_mean_the_same(emu, sql, text, bind_list):
    item = sql(text, bind_list)
    assert "errorCode" not in item, item
    assert "TESTUSER1" not in emu.catalog()["schemas"]
    assert rows(sql("select count(*) n from dba_objects where owner = 'TESTUSER1'")) == [{"n": 0}]
    assert rows(sql("select username from dba_users where username = 'TESTUSER1'")) == []
    assert "TESTUSER3" in emu.catalog()["schemas"]


def test_drop_user_errors(emu, sql):
    assert error(sql(DROP_USER, binds(username="NOBODY"))) == 1918
    assert (
        sql(DROP_USER, binds(username="NOBODY"))["errorMessage"] == "ORA-01918: user 'NOBODY' does not exist"
    )
    item = sql("drop user testuser1")
    assert (
        error(item) == 1922
        and item["errorMessage"] == "ORA-01922: CASCADE must be specified to drop 'TESTUSER1'"
    )
    assert "TESTUSER1" in emu.catalog()["schemas"]
    # A user with no objects drops without CASCADE.
    emu.load_catalog({"schemas": {**emu.catalog()["schemas"], "EMPTY1": {"tables": {}}}})
    assert "errorCode" not in sql("drop user empty1")
    # The signed-in user is connected; Oracle-maintained users are refused.
    assert error(sql(DROP_USER, binds(username="DBAPI_USER"))) == 1940
    assert error(sql(DROP_USER, binds(username="SYS"))) == 28014
    # A quoted lower-case name is another user.
    assert error(sql('drop user "testuser1" cascade')) == 1918


def test_drop_user_while_a_job_it_owns_runs_is_01940(emu, client, sql):
    emu.state.add_foreign_job(
        {"owner_name": "TESTUSER1", "job_name": "SYS_EXPORT_SCHEMA_01", "state": "EXECUTING"}
    )
    item = sql(DROP_USER, binds(username="TESTUSER1"))
    assert (
        error(item) == 1940
        and item["errorMessage"] == "ORA-01940: cannot drop a user that is currently connected"
    )
    assert "TESTUSER1" in emu.catalog()["schemas"]
    # Once stopped (NOT RUNNING), CASCADE takes its control table too.
    emu.state.add_foreign_job(
        {"owner_name": "TESTUSER1", "job_name": "SYS_EXPORT_SCHEMA_01", "state": "NOT RUNNING"}
    )
    assert error(sql("drop user testuser1")) == 1922
    assert "errorCode" not in sql(DROP_USER, binds(username="TESTUSER1"))
    assert not [
        r
        for r in rows(sql("select job_name from dba_datapump_jobs"))
        if r["job_name"] == "SYS_EXPORT_SCHEMA_01"
    ]


def test_drop_user_while_an_import_writes_into_it_is_00054(emu, client, h, sql):
    h.run_job(client, {"schema_expressions": [{"expression": "IN ('TESTUSER1')"}]}, "export")
    dump = emu.jobs()[0]["dump_files"][0]
    emu.load_catalog({"schemas": {**emu.catalog()["schemas"], "TESTUSER2": {"tables": {"OLD": {"rows": 1}}}}})
    emu.advance_clock(1)
    emu.queue_scenario(duration=60)
    created = client.post("import", json={"file_name": dump, "remap_schemas": [{"source": "TESTUSER1", "target": "TESTUSER2"}]})
    assert created.status_code == 201, created.text
    assert error(sql(DROP_USER, binds(username="TESTUSER2"))) == 54
    assert "TESTUSER2" in emu.catalog()["schemas"]
    assert "errorCode" not in sql(STOP_JOB, stop_binds(created.json()["job_name"]))
    assert "errorCode" not in sql(DROP_USER, binds(username="TESTUSER2"))


def test_a_job_owned_by_another_user_does_not_block(emu, client, sql):
    make_job(emu, client, duration=60)
    assert "errorCode" not in sql(DROP_USER, binds(username="TESTUSER3"))


# ---------------------------------------------------------------- hostile names


def test_enquote_name_rejects_a_hostile_name(emu, sql):
    item = sql(DROP_USER, binds(username=HOSTILE))
    assert error(item) == 44003 and item["errorMessage"] == "ORA-44003: invalid SQL name"
    assert {"SYS", "TESTUSER1"} <= {r["username"] for r in rows(sql("select username from dba_users"))}


def test_a_pasted_name_never_runs_two_statements(emu, sql):
    pasted = "BEGIN EXECUTE IMMEDIATE 'DROP USER ' || :u || ' CASCADE'; END;"
    assert error(sql(pasted, binds(u="TESTUSER1 CASCADE; DROP USER SYS --"))) == 911
    assert error(sql(pasted, binds(u="TESTUSER1 CASCADE DROP USER SYS"))) == 933
    assert {"TESTUSER1", "SYS"} <= {r["username"] for r in rows(sql("select username from dba_users"))}


@FUZZ
@given(
    name=st.tuples(
        st.text(max_size=20),
        st.sampled_from(['"', '" CASCADE; DROP USER SYS --', '""']),
        st.text(max_size=20),
    ).map("".join)
)
def test_fuzz_names_with_a_quote_never_drop_anything(emu, sql, name):
    before = sorted(emu.catalog()["schemas"])
    code = error(sql(DROP_USER, binds(username=name)))
    already_quoted = len(name) > 2 and name[0] == name[-1] == '"' and '"' not in name[1:-1]
    # ENQUOTE_NAME leaves an already quoted name as it is: then nobody has that name.
    assert code == (1918 if already_quoted and "\x00" not in name else 44003), name
    assert sorted(emu.catalog()["schemas"]) == before


@FUZZ
@given(
    name=st.text(
        alphabet=st.characters(blacklist_characters='"\x00', blacklist_categories=("Cs",)),
        min_size=1,
        max_size=30,
    )
)
def test_fuzz_other_names_are_one_quoted_identifier(emu, sql, name):
    """Without a quote a name stays one identifier: ORA-01918 (nobody by that name), never a second statement."""
    if name in emu.catalog()["schemas"] or name in ORACLE_MAINTAINED_USERS:
        return
    item = sql(DROP_USER, binds(username=name))
    assert error(item) == (44003 if len(name.encode()) > 128 else 1918)
    assert {"DBAPI_USER", "TESTUSER1", "TESTUSER3"} <= set(emu.catalog()["schemas"])


_SPACE = st.sampled_from([" ", "  ", "\n", "\t", " /* c */ ", " --c\n"])


@FUZZ
@given(data=st.data())
def test_fuzz_spacing_and_case_keep_the_meaning(emu, sql, data):
    words = [
        "begin",
        "execute",
        "immediate",
        "'DROP USER '",
        "||",
        "dbms_assert.enquote_name(:username,false)",
        "||",
        "' CASCADE'",
        ";",
        "end",
        ";",
    ]
    text = ""
    for w in words:
        cased = w if w.startswith("'") else "".join(c.upper() if data.draw(st.booleans()) else c for c in w)
        text += data.draw(_SPACE) + cased
    emu.load_catalog({"schemas": {"TESTUSER1": {"tables": {"EMP": {"rows": 1}}}, "DBAPI_USER": {}}})
    item = sql(text, binds(username="TESTUSER1"))
    assert "errorCode" not in item, (text, item)
    assert "TESTUSER1" not in emu.catalog()["schemas"]


# ---------------------------------------------------------------- what is not understood


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("insert into t values (1)", 900),
        ("create table t (x number)", 900),
        ("alter user testuser1 identified by x", 900),
        ("grant dba to testuser1", 900),
        ("BEGIN DBMS_OUTPUT.PUT_LINE('x'); END;", 900),
        ("BEGIN DBMS_DATAPUMP.START_JOB(1); END;", 900),
        ("BEGIN NULL; EXCEPTION WHEN OTHERS THEN NULL; END;", 900),
        ("hello world", 900),
        ("select * from nowhere", 942),
        ("select count(*) from testuser1.nothing", 942),
        ("select x from dba_users", 904),
        ("select * from dba_users union select * from dba_users", 900),
        ("select username from dba_users group by username", 900),
        ("select :nobody from dual", 1008),
        ("drop table nobody.nothing purge", 942),
        ("drop index x", 900),
    ],
)
def test_not_understood_is_an_ora_error_never_a_success(sql, text, code):
    assert error(sql(text)) == code


def test_count_star_reads_a_table_and_the_control_changes_it(emu, sql, h):
    assert rows(sql('SELECT COUNT(*) FROM "TESTUSER1"."EMP"')) == [{"count(*)": 14}]
    assert rows(sql("select count(*) as n from testuser1.emp")) == [{"n": 14}]
    resp = httpx.patch(f"{emu.url}/_emulator/catalog/TESTUSER1/EMP", json={"rows": 20})
    assert resp.status_code == 200 and resp.json()["rows"] == 20
    assert rows(sql('SELECT COUNT(*) AS n FROM "TESTUSER1"."EMP"')) == [{"n": 20}]
    assert emu.catalog()["schemas"]["TESTUSER1"]["tables"]["EMP"]["rows"] == 20
    assert emu.set_table_rows("testuser1", "emp", 21)["rows"] == 21
    h.assert_problem(httpx.patch(f"{emu.url}/_emulator/catalog/TESTUSER1/NOPE", json={"rows": 1}), 404)
    h.assert_problem(httpx.patch(f"{emu.url}/_emulator/catalog/TESTUSER1/EMP", json={"rows": -1}), 400)
    h.assert_problem(httpx.patch(f"{emu.url}/_emulator/catalog/TESTUSER1/EMP", json={"rowz": 1}), 400)
    h.assert_problem(httpx.patch(f"{emu.url}/_emulator/catalog/TESTUSER1/EMP", json={}), 400)
    # Columns of user tables are not modelled: said so, not made up.
    assert error(sql("select * from testuser1.emp")) == 900


# ---------------------------------------------------------------- Data Pump jobs


def stop_binds(job, owner="DBAPI_USER", immediate=1, keep_master=1):
    return binds(job_name=job, owner=owner, immediate=immediate, keep_master=keep_master)


def test_stop_job_really_stops_a_running_job(emu, client, h, sql):
    job = make_job(emu, client, duration=60)
    item = sql(STOP_JOB, stop_binds(job["job_name"]))
    assert "errorCode" not in item and item["statementType"] == "plsql"
    detail = client.get(f"jobs/DBAPI_USER,{job['job_name']}/").json()
    assert detail["state"] == "NOT RUNNING" and detail["job_state"] == "STOPPED"
    log = client.get(f"jobs/DBAPI_USER,{job['job_name']}/{h.links(detail, 'related')[-1].rsplit('/', 1)[-1]}")
    assert re.search(rf'Job "DBAPI_USER"\."{job["job_name"]}" stopped by user request at ', log.text)
    assert emu.jobs()[0]["outcome"] == "stopped"
    # Again: no longer running.
    assert error(sql(STOP_JOB, stop_binds(job["job_name"]))) == 39004


def test_stop_job_with_keep_master_0_removes_its_row(emu, client, sql):
    job = make_job(emu, client, duration=60)
    assert "errorCode" not in sql(STOP_JOB, stop_binds(job["job_name"], keep_master=0))
    assert client.get(f"jobs/DBAPI_USER,{job['job_name']}/").status_code == 404
    assert error(sql(STOP_JOB, stop_binds(job["job_name"]))) == 31626


def test_stop_job_of_a_job_that_does_not_exist_is_31626(sql):
    item = sql(STOP_JOB, stop_binds("NO_SUCH_JOB"))
    assert error(item) == 31626 and item["errorMessage"] == "ORA-31626: job does not exist"


def test_stop_job_written_otherwise(emu, client, sql):
    job = make_job(emu, client, duration=60)
    text = (
        "declare\n  l_h number;\nbegin\n  l_h := dbms_datapump.attach(:1, :2);\n"
        "  dbms_datapump.stop_job(l_h, 1, 0);\nend;\n"
    )
    idx = [{"index": 1, "value": job["job_name"]}, {"index": 2, "value": "DBAPI_USER"}]
    assert "errorCode" not in sql(text, idx)
    assert emu.jobs()[0]["outcome"] == "stopped" and not emu.jobs()[0]["visible"]


def test_job_progress_running_and_finished(emu, client, sql):
    job = make_job(emu, client, duration=60)
    b = binds(owner="DBAPI_USER", job_name=job["job_name"])
    (row,) = rows(sql(JOB_PROGRESS, b))
    assert 0 <= row["pct"] <= 100
    emu.patch_job("DBAPI_USER", job["job_name"], finish_now=True)
    assert rows(sql(JOB_PROGRESS, b)) == [{"pct": None}]


def test_running_jobs_and_finished_job(emu, client, sql):
    running = make_job(emu, client, duration=60)
    emu.advance_clock(1)
    done = make_job(emu, client, duration=0)
    listed = rows(sql(RUNNING_JOBS))
    assert [r["job_name"] for r in listed] == [running["job_name"]]
    assert listed[0]["state"] == "EXECUTING" and listed[0]["operation"] == "EXPORT"
    finished = (
        "SELECT j.job_name FROM dba_datapump_jobs j WHERE j.owner_name = :owner AND j.job_name = :job_name"
        " AND j.state = 'NOT RUNNING' AND j.attached_sessions = 0"
    )
    assert rows(sql(finished, binds(owner="DBAPI_USER", job_name=done["job_name"]))) == [
        {"job_name": done["job_name"]}
    ]
    assert rows(sql(finished, binds(owner="DBAPI_USER", job_name=running["job_name"]))) == []


def test_orphaned_jobs_query(emu, client, sql):
    done = make_job(emu, client, duration=0)
    b = [
        *binds(owner="DBAPI_USER", name_pattern="DATAPUMP\\_REST\\_%"),
        {"name": "age_days", "data_type": "NUMBER", "value": 1},
    ]
    assert rows(sql(ORPHANED_JOBS, b)) == []
    emu.advance_clock(2 * 86400)
    assert rows(sql(ORPHANED_JOBS, b)) == [{"job_name": done["job_name"]}]


def test_drop_control_table(emu, client, sql):
    running = make_job(emu, client, duration=60)
    emu.advance_clock(1)
    done = make_job(emu, client, duration=0)
    client.get(f"jobs/DBAPI_USER,{done['job_name']}/")
    item = sql(f'DROP TABLE "DBAPI_USER"."{running["job_name"]}" PURGE')
    assert error(item) == 54
    assert (
        item["errorMessage"]
        == "ORA-00054: resource busy and acquire with NOWAIT specified or timeout expired"
    )
    item = sql(f'drop table "DBAPI_USER"."{done["job_name"]}" purge')
    assert "errorCode" not in item and item["statementType"] == "ddl"
    assert client.get(f"jobs/DBAPI_USER,{done['job_name']}/").status_code == 404
    assert error(sql(f'DROP TABLE "DBAPI_USER"."{done["job_name"]}" PURGE')) == 942


def test_read_log_through_bfilename(emu, client, h, sql):
    job = make_job(emu, client, duration=0)
    detail = client.get(f"jobs/DBAPI_USER,{job['job_name']}/").json()
    log_name = h.links(detail, "related")[-1].rsplit("/", 1)[-1]
    expected = client.get(f"jobs/DBAPI_USER,{job['job_name']}/{log_name}").text
    item = sql(READ_LOG, binds(directory="DATA_PUMP_DIR", file_name=log_name))
    assert rows(item) == [{"content": expected}]
    assert item["resultSet"]["metadata"][0]["columnTypeName"] == "CLOB"
    missing = sql(READ_LOG, binds(directory="DATA_PUMP_DIR", file_name="NOPE.LOG"))
    assert (
        error(missing) == 22288
        and missing["errorMessage"] == "ORA-22288: file or LOB operation FILEOPEN failed"
    )
    assert error(sql(READ_LOG, binds(directory="data_pump_dir", file_name=log_name))) == 22285
    assert error(sql(READ_LOG, binds(directory="DATA_PUMP_DIR", file_name="../x.log"))) == 22288


# ---------------------------------------------------------------- the object store shared by two emulators

URI = "https://objectstorage.eu-frankfurt-1.oraclecloud.com/n/ns/b/refresh/o/night1_%U.dmp"


def _export_to_store(emu):
    with httpx.Client(base_url=emu.api_url, auth=(emu.user, emu.password), timeout=10) as c:
        created = c.post(
            "export",
            json={
                "credential_name": "OBJ_CRED",
                "file_name": URI,
                "schema_expressions": [{"expression": "IN ('TESTUSER1')"}],
            },
        )
        assert created.status_code == 201, created.text
        assert c.get(created.headers["location"]).json()["state"] == "NOT RUNNING"


def _import_from_store(emu):
    with httpx.Client(base_url=emu.api_url, auth=(emu.user, emu.password), timeout=10) as c:
        return c.post(
            "import",
            json={
                "credential_name": "OBJ_CRED",
                "file_name": URI,
                "remap_schemas": [{"source": "TESTUSER1", "target": "TESTUSER2"}],
            },
        )


def test_two_emulators_share_an_object_store(tmp_path):
    store = tmp_path / "bucket"
    with (
        run_emulator(
            data_dir=tmp_path / "prod", duration=0, object_store_dir=str(store), db_unique_name="PROD"
        ) as prod,
        run_emulator(
            data_dir=tmp_path / "test", duration=0, object_store_dir=str(store), db_unique_name="TEST"
        ) as test,
    ):
        _export_to_store(prod)
        uri = URI.replace("%U", "01")
        assert list(test.state.object_store()) == [uri]
        sidecars = [p for p in os.listdir(store) if p.endswith(".uri")]
        assert len(sidecars) == 1 and (store / sidecars[0]).read_text() == uri
        created = _import_from_store(test)
        assert created.status_code == 201, created.text
        with httpx.Client(auth=(test.user, test.password)) as c:
            assert c.get(created.headers["location"]).json()["job_state"] == "COMPLETED"
        assert test.catalog()["schemas"]["TESTUSER2"]["tables"]["EMP"]["rows"] == 14
        assert "TESTUSER2" not in prod.catalog()["schemas"]
        # Night 2: the source's rows changed; test's reset does not remove prod's objects.
        test.reset()
        assert list(prod.state.object_store()) == [uri]
        prod.reset()
        assert prod.state.object_store() == {} and not os.listdir(store)


def test_without_the_setting_each_emulator_has_its_own_store(tmp_path):
    with run_emulator(duration=0) as prod, run_emulator(duration=0) as test:
        _export_to_store(prod)
        assert prod.state.object_store() and not test.state.object_store()
        resp = _import_from_store(test)
        assert resp.status_code == 400 and "ORA-31640" in resp.json()["message"]


def test_identity_differs_between_data_dirs(tmp_path, h):
    with run_emulator(data_dir=tmp_path / "a") as a, run_emulator(data_dir=tmp_path / "b") as b:
        names = [
            httpx.post(e.sql_url, json={"statementText": IDENTITY}, auth=(h.USER, h.PASSWORD)).json()[
                "items"
            ][0]["resultSet"]["items"][0]["db_unique_name"]
            for e in (a, b)
        ]
        assert names[0] != names[1]


_SOUP = [
    *"select from dual dba_users dba_objects dba_datapump_jobs v$session_longops where and or not like in".split(),
    *"between is null order by desc begin end declare execute immediate drop user table cascade purge".split(),
    *"count( sum( round( nullif( sys_context( to_clob( bfilename( dbms_assert.enquote_name( ) , ; = <> < >".split(),
    *[
        "||",
        ":=",
        ":a",
        "?",
        "'x'",
        "1",
        "2.5",
        "*",
        "-",
        "+",
        "/",
        '"X"',
        "sysdate",
        "user",
        "created",
        "escape",
        "'%'",
    ],
]


@FUZZ
@given(
    words=st.lists(st.sampled_from(_SOUP), max_size=25),
    value=st.one_of(st.text(max_size=8), st.integers(), st.none()),
)
def test_fuzz_any_text_answers_200_with_a_result_or_an_ora_code(emu, sql, words, value):
    """Whatever arrives, each statement ends in a result or an ORA code (never a 500, never a silent oddity)."""
    resp = sql.client.post(
        "/_/sql", json={"statementText": " ".join(words) or "x", "binds": [{"name": "a", "value": value}]}
    )
    assert resp.status_code == 200, resp.text
    for item in resp.json()["items"]:
        if "errorCode" in item:
            assert re.fullmatch(r"ORA-\d{5}: .+", item["errorMessage"]), item
        else:
            assert "resultSet" in item or item["response"], item


def test_cli_flags(tmp_path, h):
    store = tmp_path / "bucket"
    flags = ["--object-store", str(store), "--db-unique-name", "prod", "--con-name", "prodpdb"]
    with h.start_cli(tmp_path / "a", *flags) as (base, seen):
        assert any(line.startswith("REST SQL:") and base + "/_/sql" in line for line in seen)
        assert any(line.startswith("Object store:") and str(store) in line for line in seen)
        resp = httpx.post(base + "/_/sql", json={"statementText": IDENTITY}, auth=(h.USER, h.PASSWORD))
        row = resp.json()["items"][0]["resultSet"]["items"][0]
        assert (row["db_unique_name"], row["con_name"]) == ("PROD", "PRODPDB")
        scenario = httpx.get(base.rsplit("/ords/", 1)[0] + "/_emulator/scenario").json()
        assert scenario["object_store_dir"] == str(store) and scenario["rest_enabled_sql"] is True
    with h.start_cli(tmp_path / "b", "--no-rest-enabled-sql") as (base, seen):
        assert not any(line.startswith("REST SQL:") for line in seen)
        resp = httpx.post(base + "/_/sql", json={"statementText": "select 1 from dual"}, auth=(h.USER, h.PASSWORD))
        h.assert_problem(resp, 404)
