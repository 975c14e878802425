"""The outcome classifier: every way a Data Pump job can end, and the acceptance policy."""

from __future__ import annotations

import pytest

from airflow_provider_datapump.exceptions import DataPumpProtocolError
from airflow_provider_datapump.jobs import (
    DataPumpJob,
    Outcome,
    accepts,
    classify,
    dump_template_from_names,
    normalize_ora_code,
    parse_log,
)

BASE = "https://localhost:8443/ords/dbapi_user/_/db-api/stable/database/datapump/jobs/"
SEED_DONE = {
    "job_name": "DATAPUMP_REST_EXPORT_20201001115524",
    "owner_name": "DBAPI_USER",
    "operation": "EXPORT",
    "job_mode": "SCHEMA",
    "state": "NOT RUNNING",
    "degree": 0,
    "attached_sessions": 0,
    "datapump_sessions": 0,
    "job_state": "COMPLETED",
    "job_comment": 'Job "DBAPI_USER"."DATAPUMP_REST_EXPORT_20201001115524" successfully completed at Thu Oct 1 11:56:07 2020 elapsed 0 00:00:41',
    "links": [
        {"rel": "collection", "href": BASE},
        {"rel": "enclosure", "href": BASE + "DBAPI_USER,DATAPUMP_REST_EXPORT_20201001115524/EXPDAT01-20201001_11_55_26.DMP"},
        {"rel": "related", "href": BASE + "DBAPI_USER,DATAPUMP_REST_EXPORT_20201001115524/EXPDAT-2020-10-01-11_55_24.LOG"},
        {"rel": "self", "href": BASE + "DBAPI_USER,DATAPUMP_REST_EXPORT_20201001115524/"},
    ],
}
LOG_ERRORS = """Starting "DBAPI_USER"."DATAPUMP_REST_IMPORT_1":
. . imported "TESTUSER2"."DEPT"                          5.976 KB       4 rows
. . imported "TESTUSER2"."EMP"                           8.781 KB      14 rows
ORA-39083: Object type INDEX:"TESTUSER2"."PK_EMP" failed to create with error:
ORA-31684: Object type TABLE:"TESTUSER2"."BONUS" already exists
Job "DBAPI_USER"."DATAPUMP_REST_IMPORT_1" completed with 2 error(s) at Thu Oct 1 11:56:07 2020 elapsed 0 00:00:41
"""


def job(**changes):
    body = dict(SEED_DONE)
    body.update(changes)
    return DataPumpJob.from_json({k: v for k, v in body.items() if v is not None})


def test_seed_body_parses_and_classifies_files():
    j = DataPumpJob.from_json(SEED_DONE)
    assert j.ident == "DBAPI_USER,DATAPUMP_REST_EXPORT_20201001115524"
    assert [(f.name, f.kind) for f in j.files] == [
        ("EXPDAT01-20201001_11_55_26.DMP", "dump"),
        ("EXPDAT-2020-10-01-11_55_24.LOG", "log"),
    ]
    assert classify(j).outcome is Outcome.SUCCEEDED


def test_padding_is_stripped_and_unknown_fields_kept():
    j = DataPumpJob.from_json({**SEED_DONE, "operation": "EXPORT" + " " * 24, "new_field": 7})
    assert j.operation == "EXPORT" and j.extra == {"new_field": 7}


@pytest.mark.parametrize("state", ["EXECUTING", "DEFINING", "COMPLETING", "STOP PENDING", "IDLING"])
def test_running_states(state):
    assert classify(job(state=state, job_state=state, job_comment=None)).outcome is Outcome.RUNNING


def test_not_running_without_comment_needs_the_log():
    j = job(job_state=None, job_comment=None)
    assert classify(j).outcome is Outcome.UNDETERMINED
    assert classify(j, parse_log("Starting ...\n. . exported ...\n")).outcome is Outcome.CRASHED
    assert classify(j, log_unavailable=True).outcome is Outcome.CRASHED


def test_completed_with_errors_is_not_success():
    v = classify(job(job_comment=None), parse_log(LOG_ERRORS))
    assert v.outcome is Outcome.SUCCEEDED_WITH_ERRORS
    assert v.ora_codes == ("ORA-39083", "ORA-31684") and v.error_count == 2
    assert not accepts(v)
    assert accepts(v, fail_on_errors=False)
    assert not accepts(v, allowed_ora_codes=["ORA-31684"])
    assert accepts(v, allowed_ora_codes=["ORA-31684", "39083"])


def test_error_count_larger_than_visible_lines_is_never_allowed():
    comment = 'Job "A"."B" completed with 3 error(s) at Thu Oct 1 11:56:07 2020 elapsed 0 00:00:41'
    v = classify(job(job_comment=comment), parse_log("ORA-31684: exists\n" + comment))
    assert not accepts(v, allowed_ora_codes=["ORA-31684"])


def test_fatal_and_stopped_and_vanished():
    fatal = 'Job "A"."B" stopped due to fatal error at Thu Oct 1 11:56:07 2020 elapsed 0 00:00:41'
    assert classify(job(job_state="STOPPED", job_comment=fatal)).outcome is Outcome.FAILED
    stopped = 'Job "A"."B" stopped by user request at Thu Oct 1 11:56:07 2020 elapsed 0 00:00:41'
    assert classify(job(job_state="STOPPED", job_comment=stopped)).outcome is Outcome.STOPPED
    assert classify(None).outcome is Outcome.VANISHED


def test_logtime_prefix():
    line = '02-JUL-25 13:43:11.295: Job "A"."B" successfully completed at Wed Jul 2 13:43:11 2025 elapsed 0 00:00:46'
    assert parse_log(line).final.kind == "success"


def test_unknown_state_is_a_protocol_error():
    with pytest.raises(DataPumpProtocolError):
        classify(job(state="DANCING"))


@pytest.mark.parametrize("body", [[], "x", {"owner_name": "A"}, {"owner_name": "A", "job_name": 5},
                                  {**SEED_DONE, "degree": "0"}, {**SEED_DONE, "links": "nope"}])
def test_malformed_bodies(body):
    with pytest.raises(DataPumpProtocolError):
        DataPumpJob.from_json(body)


def test_log_objects_and_dump_set():
    log = parse_log(
        '. . exported "TESTUSER1"."EMP"                          8.781 KB      14 rows\n'
        '. . exported "S"."T":"P1"                              1.5 MB     100 rows\n'
        "Dump file set for DBAPI_USER.X is:\n  /u01/dp/EXPDAT01-X.DMP\n  /u01/dp/EXPDAT02-X.DMP\n"
        'Job "A"."X" successfully completed at 11:00:00\n'
    )
    assert [(o.schema, o.name, o.rows, o.partition) for o in log.objects] == [("TESTUSER1", "EMP", 14, None), ("S", "T", 100, "P1")]
    assert log.objects[0].bytes == int(8.781 * 1024)
    assert log.dump_files == ("/u01/dp/EXPDAT01-X.DMP", "/u01/dp/EXPDAT02-X.DMP")


def test_dump_template():
    assert dump_template_from_names(["EXPDAT02-20201001_14_58_04.DMP", "EXPDAT01-20201001_14_58_04.DMP"]) == "EXPDAT%U-20201001_14_58_04.DMP"
    assert dump_template_from_names(["ONE.DMP"]) == "ONE.DMP"
    assert dump_template_from_names([]) is None


@pytest.mark.parametrize("code, norm", [("ORA-31684", "ORA-31684"), (31684, "ORA-31684"), ("ora-1", "ORA-00001")])
def test_ora_codes(code, norm):
    assert normalize_ora_code(code) == norm


# ------------------------------------------------------------------ a big job's result in XCom


def _big_result(mode: str, tables: int, errors: list[str], error_count: int):
    from airflow_provider_datapump.jobs import JobResult, ObjectRow, OraError, Verdict

    return JobResult(
        job=job(job_mode=mode),
        verdict=Verdict(
            Outcome.SUCCEEDED_WITH_ERRORS if error_count else Outcome.SUCCEEDED,
            "done",
            errors=tuple(OraError(code=c, line=f"{c}: line {i}") for i, c in enumerate(errors)),
            error_count=error_count,
        ),
        self_url=BASE,
        files=({"name": "EXPDAT01.DMP", "kind": "dump", "url": BASE + "EXPDAT01.DMP"},),
        objects=tuple(ObjectRow(schema=f"S{i % 7}", name=f"T{i:05d}", rows=i, bytes=8 * i, size="8 KB") for i in range(tables)),
        dump_file_template="EXPDAT%U.DMP",
    )


def test_a_big_jobs_xcom_is_cut_short_but_judged_on_everything():
    import json

    from airflow_provider_datapump.jobs import XCOM_MAX_ERRORS, XCOM_MAX_OBJECTS, failure_message, verdict_from_xcom

    # 3,000 allowed ORA-31684 lines, then one ORA-01031 past the cut: the XCom copy must still fail it.
    codes = ["ORA-31684"] * 3000 + ["ORA-01031"]
    big = _big_result("SCHEMA", 20000, codes, len(codes))
    data = big.to_xcom()
    assert len(json.dumps(data)) < 200_000  # 94 KB; uncut it is 1.9 MB
    assert len(data["objects"]) == XCOM_MAX_OBJECTS and data["object_count"] == 20000
    assert data["schemas"] == [f"S{i}" for i in range(7)] and "tables" not in data
    assert len(data["errors"]) == XCOM_MAX_ERRORS and data["errors_seen"] == 3001
    assert data["ora_codes"] == ["ORA-31684", "ORA-01031"]
    back = verdict_from_xcom(json.loads(json.dumps(data)))
    assert not accepts(back, allowed_ora_codes=["ORA-31684"])
    assert accepts(back, allowed_ora_codes=["ORA-31684", "ORA-01031"])
    message = failure_message(data, back)
    assert "ORA- lines from the log (3001):" in message and "... and 2981 more" in message

    # A count above the lines read stays unprovable after the trip, as before it.
    unseen = _big_result("SCHEMA", 10, ["ORA-31684"] * 300, 301).to_xcom()
    assert not accepts(verdict_from_xcom(unseen), allowed_ora_codes=["ORA-31684"])


def test_a_table_mode_import_inherits_every_table_past_the_cut(monkeypatch):
    import airflow_provider_datapump.jobs as jobs
    from airflow_provider_datapump.operators.datapump import DataPumpImportOperator

    # A smaller cut, so that the inherited IN list stays under the 4,000-character expression limit.
    monkeypatch.setattr(jobs, "XCOM_MAX_OBJECTS", 100)
    data = _big_result("TABLE", 300, [], 0).to_xcom()
    assert len(data["objects"]) == 100 and len(data["tables"]) == 300
    body = DataPumpImportOperator(task_id="imp", from_job=data).build_body()
    assert body["job_mode"] == "TABLE"
    names = " ".join(e["expression"] for e in body.get("name_expressions", []))
    assert "'T00000'" in names and "'T00299'" in names


def test_a_bad_ora_code_is_refused_naming_the_field_at_parse_time():
    from airflow_provider_datapump.exceptions import DataPumpValidationError
    from airflow_provider_datapump.operators.datapump import DataPumpExportOperator

    with pytest.raises(DataPumpValidationError) as raised:
        normalize_ora_code("ORA-3908x")
    assert raised.value.field == "allowed_ora_codes" and "ORA-3908x" in raised.value.reason
    with pytest.raises(DataPumpValidationError, match=r"^allowed_ora_codes: not an ORA code: 'oops'$"):
        DataPumpExportOperator(task_id="t", schemas="HR", allowed_ora_codes=["ORA-39082", "oops"])
