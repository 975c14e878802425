"""selection.check_selection: what the log says ran, read back against the request (pure, table-driven)."""

from __future__ import annotations

import pytest

from airflow_provider_datapump.selection import check_selection, file_template_regex, parse_condition


def expr(*texts):
    return [{"expression": t} for t in texts]


@pytest.mark.parametrize(
    ("condition", "name", "expected"),
    [
        ("= 'EMP'", "EMP", True),
        ("='EMP'", "DEPT", False),
        ("!= 'EMP'", "DEPT", True),
        ("<> 'EMP'", "EMP", False),
        ("IN ('A','B')", "B", True),
        ("IN ('A', 'B')", "C", False),
        ("NOT IN ('A','B')", "C", True),
        ("LIKE 'EMP%'", "EMPLOYEES", True),
        ("LIKE 'EMP_'", "EMPS", True),
        ("LIKE 'EMP_'", "EMP", False),
        ("NOT LIKE 'EMP%'", "DEPT", True),
        ("IN ('O''BRIEN')", "O'BRIEN", True),
        ("= 'emp'", "EMP", False),  # Oracle compares case-sensitively
    ],
)
def test_conditions_the_log_can_settle(condition, name, expected):
    assert parse_condition(condition)(name) is expected


@pytest.mark.parametrize("condition", ["BETWEEN 'A' AND 'M'", "IN (SELECT username FROM dba_users)", "> 'A'", "IS NOT NULL"])
def test_other_forms_are_left_unchecked(condition):
    assert parse_condition(condition) is None
    check = check_selection({"operation": "EXPORT", "job_mode": "TABLE", "name_expressions": expr(condition),
                             "schema_expressions": expr("= 'HR'")},
                            owner="DBAPI_USER", job_mode="TABLE", objects=[("HR", "EMP")])
    assert check.ok and any(condition in u for u in check.unchecked)


# (request body, job_mode the job reports, objects the log lists, dump files, expected mismatch fragments)
CASES = [
    pytest.param({"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": expr("IN ('TESTUSER1')")},
                 "SCHEMA", [("TESTUSER1", "EMP"), ("TESTUSER1", "DEPT")], None, [], id="schema export as asked"),
    pytest.param({"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": expr("IN ('TESTUSER1')")},
                 "SCHEMA", [("HR", "EMPLOYEES")], None, ["HR.EMPLOYEES ran, outside the schema selection"],
                 id="another schema ran"),
    pytest.param({"operation": "EXPORT", "job_mode": "SCHEMA", "filter": "TESTUSER1"},
                 "SCHEMA", [("DBAPI_USER", "T")], None, ["DBAPI_USER.T ran, outside the schema selection filter"],
                 id="filter dropped: the caller's own schema ran"),
    pytest.param({"operation": "EXPORT", "job_mode": "SCHEMA"},
                 "SCHEMA", [("HR", "EMPLOYEES")], None, ["outside the schema selection the caller's own schema DBAPI_USER"],
                 id="no selection means the caller's own schema"),
    pytest.param({"operation": "EXPORT", "job_mode": "TABLE", "schema_expressions": expr("= 'TESTUSER1'"),
                  "name_expressions": expr("= 'EMP'")},
                 "TABLE", [("TESTUSER1", "EMP"), ("TESTUSER1", "DEPT")], None,
                 ["TESTUSER1.DEPT ran, outside the table selection"], id="name expression dropped"),
    pytest.param({"operation": "IMPORT", "job_mode": "TABLE", "file_name": "X%U.DMP", "name_expressions": expr("IN ('EMP')"),
                  "remap_schemas": [{"source": "TESTUSER1", "target": "TESTUSER2"}]},
                 "TABLE", [("TESTUSER2", "EMP")], None, [], id="import of one table, remapped"),
    pytest.param({"operation": "IMPORT", "job_mode": "SCHEMA", "file_name": "X%U.DMP",
                  "remap_schemas": [{"source": "TESTUSER1", "target": "TESTUSER2"}]},
                 "SCHEMA", [("TESTUSER1", "EMP")], None, ["which was to be remapped to TESTUSER2"], id="remap ignored"),
    pytest.param({"operation": "IMPORT", "job_mode": "TABLE", "file_name": "X%U.DMP", "name_expressions": expr("IN ('EMP')")},
                 "TABLE", [("TESTUSER1", "EMP"), ("TESTUSER1", "DEPT")], None, ["TESTUSER1.DEPT ran, outside the table selection"],
                 id="the whole dump imported"),
    pytest.param({"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": expr("= 'TESTUSER1'")},
                 "FULL", [("TESTUSER1", "EMP")], None, ["job_mode SCHEMA was asked, the job ran in FULL mode"], id="mode"),
    pytest.param({"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": expr("= 'TESTUSER1'"), "file_name": "NIGHTLY_%U.DMP"},
                 "SCHEMA", [("TESTUSER1", "EMP")], ["NIGHTLY_01.DMP", "NIGHTLY_02.DMP"], [], id="file names as asked"),
    pytest.param({"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": expr("= 'TESTUSER1'"), "file_name": "NIGHTLY_%U.DMP"},
                 "SCHEMA", [("TESTUSER1", "EMP")], ["EXPDAT01-20201001_11_55_26.DMP"],
                 ["file_name NIGHTLY_%U.DMP was asked, the dump set is EXPDAT01-20201001_11_55_26.DMP"], id="file_name dropped"),
]


@pytest.mark.parametrize(("body", "mode", "objects", "dumps", "expected"), CASES)
def test_check_selection(body, mode, objects, dumps, expected):
    check = check_selection(body, owner="DBAPI_USER", job_mode=mode, objects=objects, dump_files=dumps)
    assert check.ok is (not expected)
    for fragment in expected:
        assert any(fragment in m for m in check.mismatches), (fragment, check.mismatches)
    assert check.objects_seen == len(objects)
    assert check.to_json()["ok"] is check.ok


def test_without_a_log_nothing_is_claimed():
    check = check_selection({"operation": "EXPORT", "schema_expressions": expr("= 'A'")}, owner="X",
                            job_mode="SCHEMA", objects=[], log_read=False)
    assert check.ok and check.checked == ("job_mode",) and "no log could be read" in check.unchecked[0]


@pytest.mark.parametrize(("template", "name", "matches"), [
    ("EXPDAT%U-20261201_201500-1A2B3C4D.DMP", "EXPDAT01-20261201_201500-1A2B3C4D.DMP", True),
    ("EXPDAT%U-20261201_201500-1A2B3C4D.DMP", "EXPDAT01-20261201_201500-FFFFFFFF.DMP", False),
    ("nightly_%U.dmp", "NIGHTLY_12.DMP", True),  # Data Pump upper-cases unquoted file names on some platforms
    ("full_%L.dmp", "full_101.dmp", True),
    ("x.dmp", "x.dmp.bak", False),
])
def test_file_templates(template, name, matches):
    assert bool(file_template_regex(template).match(name)) is matches
