"""The flows on their own: each is driven with scripted answers, no HTTP, no emulator.

A flow is a generator of instructions (Request, Download, Sleep); ``drive`` checks each
instruction it yields against the script and sends back the scripted answer, or throws the
scripted error into it, as the transport's drivers do.
"""

from __future__ import annotations

import time

import io
import logging
from typing import Any

import pytest

from airflow_provider_datapump.exceptions import (
    DataPumpHTTPError,
    DataPumpLinkError,
    DataPumpProtocolError,
    DataPumpUnreachableError,
    DataPumpValidationError,
)
from airflow_provider_datapump.hooks.ords import flows, identity
from airflow_provider_datapump.hooks.ords.errors import AmbiguousCreate
from airflow_provider_datapump.hooks.ords.instructions import Download, Request, Sleep
from airflow_provider_datapump.hooks.ords.policy import LinkPolicy, RetryPolicy
from airflow_provider_datapump.hooks.ords.settings import OrdsSettings
from airflow_provider_datapump.jobs import Outcome

BASE = "https://ords.example.com/ords/dbapi_user"
API = f"{BASE}/_/db-api/stable/database/datapump/"
JOB = "DBAPI_USER,DATAPUMP_REST_EXPORT_20261201120000"
JOB_URL = f"{API}jobs/DBAPI_USER,DATAPUMP_REST_EXPORT_20261201120000/"
EXPORT = {"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": [{"expression": "= 'TESTUSER1'"}]}
LOG = logging.getLogger("test_flows")


def links(ords_version: str | None = None) -> LinkPolicy:
    return LinkPolicy(OrdsSettings(conn_id="t", base_url=BASE, login="u", password="p", ords_version=ords_version), LOG)


def ctx(**kw: Any) -> identity.CreateContext:
    return identity.CreateContext(links(), RetryPolicy(attempts=kw.pop("attempts", 3), backoff=0.0), LOG,
                                  kw.pop("identity_settle", 0.0))


def job_body(name: str = "DATAPUMP_REST_EXPORT_20261201120000", state: str = "EXECUTING", files: tuple[str, ...] = (),
             self_href: str | None = None) -> dict[str, Any]:
    url = self_href or f"{API}jobs/DBAPI_USER,{name}/"
    return {"owner_name": "DBAPI_USER", "job_name": name, "operation": "EXPORT", "job_mode": "SCHEMA", "state": state,
            "links": [{"rel": "self", "href": url}] + [{"rel": "related", "href": url + f} for f in files]}


def http_error(status: int, message: str = "") -> DataPumpHTTPError:
    return DataPumpHTTPError(method="GET", url=API, status=status, message=message)


def drive(flow, script: list[tuple[Any, Any]]) -> tuple[Any, list[Any]]:
    """Run ``flow`` against ``script``: (what the instruction must match, the answer or error for it).

    The match is a callable (asserting on the instruction) or an instruction type. Returns the
    flow's result and every instruction it yielded."""
    seen: list[Any] = []
    try:
        step = next(flow)
        for expect, reply in script:
            seen.append(step)
            if isinstance(expect, type):
                assert isinstance(step, expect), step
            else:
                expect(step)
            step = flow.throw(reply) if isinstance(reply, BaseException) else flow.send(reply)
        raise AssertionError(f"the flow asked for more than the script has: {step}")
    except StopIteration as done:
        return done.value, seen


def get(url: str, **params: Any):
    def check(step: Any) -> None:
        assert isinstance(step, Request) and step.method == "GET" and step.url == url, step
        for key, value in params.items():
            assert (step.params or {}).get(key) == value, (key, step.params)
    return check


# ------------------------------------------------------------------ the read flows


@pytest.mark.parametrize(
    ("make_flow", "script", "expected"),
    [
        pytest.param(
            lambda: flows.list_flow(links(), 2, q={"job_name": {"$gt": "A"}}),
            [(get(API + "jobs/", limit=2, q='{"job_name":{"$gt":"A"}}'),
              {"items": [job_body()], "hasMore": True, "limit": 2, "offset": 0,
               "links": [{"rel": "next", "href": API + "jobs/?offset=1"}]})],
            lambda page: page.count == 1 and page.has_more and page.next_href == API + "jobs/?offset=1",
            id="list: a page, its next link",
        ),
        pytest.param(
            lambda: flows.get_flow(links(), JOB),
            [(get(JOB_URL), job_body())],
            lambda job: job.ident == JOB and job.state == "EXECUTING",
            id="get by OWNER,JOB",
        ),
        pytest.param(
            # A self link on another host is never requested: the URL is rebuilt from the base.
            lambda: flows.get_flow(links(), {"self_url": "http://internal:8080/ords/dbapi_user/_/db-api/stable/"
                                                         "database/datapump/jobs/DBAPI_USER,DATAPUMP_REST_EXPORT_20261201120000/"}),
            [(get(JOB_URL), job_body())],
            lambda job: job.ident == JOB,
            id="get: a foreign self link is rebuilt",
        ),
        pytest.param(
            lambda: flows.text_flow(links(), JOB, "EXPDAT-1.LOG"),
            [(lambda s: s.text and s.url == JOB_URL + "EXPDAT-1.LOG" and s.headers["Accept"].startswith("text/plain"),
              "log text")],
            lambda text: text == "log text",
            id="text: asks for text/plain",
        ),
        pytest.param(
            lambda: flows.resolve_flow(links(), JOB),
            [(get(JOB_URL), http_error(404))],
            lambda result: result.verdict.outcome is Outcome.VANISHED,
            id="resolve: a 404 is VANISHED, nothing else asked",
        ),
        pytest.param(
            lambda: flows.resolve_flow(links(), JOB),
            [(get(JOB_URL), job_body())],
            lambda result: result.verdict.outcome is Outcome.RUNNING,
            id="resolve: running, no log read",
        ),
        pytest.param(
            lambda: flows.resolve_flow(links(), JOB),
            [(get(JOB_URL), job_body(state="NOT RUNNING", files=("EXPDAT01.DMP", "EXPDAT.LOG"))),
             (lambda s: s.text and s.url == JOB_URL + "EXPDAT.LOG",
              'Job "DBAPI_USER"."DATAPUMP_REST_EXPORT_20261201120000" successfully completed at Tue Dec 1 12:00:05 2026')],
            lambda result: result.verdict.outcome is Outcome.SUCCEEDED and result.log_file == "EXPDAT.LOG",
            id="resolve: ended, judged from its log",
        ),
        pytest.param(
            lambda: flows.resolve_flow(links(), JOB),
            [(get(JOB_URL), job_body(state="NOT RUNNING", files=("EXPDAT.LOG",))),
             (Request, http_error(404))],
            lambda result: result.verdict.outcome is Outcome.CRASHED,
            id="resolve: ended, its log gone",
        ),
    ],
)
def test_read_flows(make_flow, script, expected):
    result, seen = drive(make_flow(), script)
    assert len(seen) == len(script)
    assert expected(result), result


@pytest.mark.parametrize(
    ("make_flow", "script", "error"),
    [
        pytest.param(lambda: flows.list_flow(links()), [(Request, {"no": "items"})], DataPumpProtocolError, id="list: no items"),
        pytest.param(lambda: flows.get_flow(links(), "A,B,C"), [], DataPumpValidationError, id="get: a bad reference"),
        pytest.param(lambda: flows.resolve_flow(links(), JOB), [(Request, http_error(503))], DataPumpHTTPError,
                     id="resolve: other errors pass"),
        pytest.param(lambda: flows.download_flow(links(), JOB, "../etc/passwd", io.BytesIO()), [], DataPumpLinkError,
                     id="download: not a plain file name"),
    ],
)
def test_read_flows_refuse(make_flow, script, error):
    with pytest.raises(error):
        drive(make_flow(), script)


def test_download_flow_yields_a_download_with_the_sink():
    sink = io.BytesIO()
    size, (step,) = drive(flows.download_flow(links(), JOB, "EXPDAT01.DMP", sink), [(Download, 42)])
    assert size == 42 and step == Download(JOB_URL + "EXPDAT01.DMP", sink)


# ------------------------------------------------------------------ walking the job list


WINDOW = identity.SearchWindow("EXPORT", "DATAPUMP_REST_EXPORT_20261201000000")


def page(*names: str, has_more: bool = True) -> dict[str, Any]:
    return {"items": [job_body(n) for n in names], "hasMore": has_more, "offset": 0}


@pytest.mark.parametrize(
    ("script", "found", "complete"),
    [
        pytest.param([(get(API + "jobs/", q='{"job_name":{"$gt":"DATAPUMP_REST_EXPORT_20261201000000"}}'),
                       page("DATAPUMP_REST_EXPORT_20261201120000", has_more=False))],
                     ["DATAPUMP_REST_EXPORT_20261201120000"], True, id="one page, filtered by q"),
        pytest.param([(Request, http_error(400, "q")),
                      (lambda s: "q" not in s.params, page("DATAPUMP_REST_IMPORT_20261201120000",
                                                           "DATAPUMP_REST_EXPORT_20261201120001", has_more=False))],
                     ["DATAPUMP_REST_EXPORT_20261201120001"], True, id="q refused: listed without it, filtered here"),
        pytest.param([(Request, page("DATAPUMP_REST_EXPORT_20261201120000")),
                      (get(API + "jobs/", offset=1), page("DATAPUMP_REST_EXPORT_20261201120000")),
                      (get(API + "jobs/", q='{"job_name":{"$gt":"DATAPUMP_REST_EXPORT_20261201120000"}}'),
                       page("DATAPUMP_REST_EXPORT_20261201120000"))],
                     ["DATAPUMP_REST_EXPORT_20261201120000"], False, id="offset and q ignored: the walk stops"),
    ],
)
def test_search_flow(script, found, complete):
    (jobs, done), seen = drive(identity.search_flow(ctx(), WINDOW), script)
    assert [j.job_name for j in jobs] == found and done is complete and len(seen) == len(script)


def test_search_flow_is_bounded_by_max_pages():
    script = [(Request, page(f"DATAPUMP_REST_EXPORT_2026120112{i:04d}")) for i in range(identity.LIST_MAX_PAGES)]
    (jobs, done), seen = drive(identity.search_flow(ctx(), WINDOW), script)
    assert not done and len(jobs) == len(seen) == identity.LIST_MAX_PAGES


# ------------------------------------------------------------------ creating a job


def empty_list(step: Any) -> None:
    assert isinstance(step, Request) and step.method == "GET" and step.url == API + "jobs/"


def post(step: Any) -> None:
    assert isinstance(step, Request) and step.method == "POST" and step.url == API + "export" and not step.idempotent


NO_JOBS = page(has_more=False)
# Named now: the create's search window opens 12 h 10 min before the clock (SearchWindow.around),
# so a fixed timestamp would fall out of it as the calendar moves on.
CREATED = job_body(time.strftime("DATAPUMP_REST_EXPORT_%Y%m%d%H%M%S", time.gmtime()))


@pytest.mark.parametrize(
    ("script", "kinds"),
    [
        pytest.param([(empty_list, NO_JOBS), (post, CREATED)], [Request, Request], id="created at once"),
        pytest.param([(empty_list, NO_JOBS), (post, http_error(409, "ORA-31634: job already exists")),
                      (Sleep, None), (post, CREATED)],
                     [Request, Request, Sleep, Request], id="ORA-31634: a pause, then the create again"),
        pytest.param([(empty_list, NO_JOBS), (post, AmbiguousCreate(http_error(502), answered=True)),
                      (empty_list, NO_JOBS), (Sleep, None), (post, CREATED)],
                     [Request, Request, Request, Sleep, Request], id="ambiguous, no new job: sent again"),
    ],
)
def test_create_flow(script, kinds):
    body, one_off = identity.prepare_create(EXPORT, links())
    job, seen = drive(identity.create_flow(ctx(), body, None, generated=one_off is not None), script)
    assert job.job_name == CREATED["job_name"]
    assert [type(s) for s in seen] == kinds


def test_create_flow_adopts_the_new_job_with_its_one_off_dump_name():
    body, one_off = identity.prepare_create(EXPORT, links())
    dump = one_off.replace("%U", "01")
    ended = job_body(CREATED["job_name"], state="NOT RUNNING", files=(dump,))
    script = [(empty_list, NO_JOBS), (post, AmbiguousCreate(http_error(502), answered=True)),
              (empty_list, page(CREATED["job_name"], has_more=False)),
              (get(f"{API}jobs/DBAPI_USER,{CREATED['job_name']}/"), ended)]
    job, seen = drive(identity.create_flow(ctx(), body, None, generated=True), script)
    assert job.job_name == CREATED["job_name"] and len(seen) == 4


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        pytest.param(http_error(400, "ORA-39001: invalid argument value"), DataPumpHTTPError, id="a plain refusal"),
        pytest.param(DataPumpUnreachableError(method="POST", url=API, message="ConnectError"), DataPumpUnreachableError,
                     id="unreachable after the attempts"),
    ],
)
def test_create_flow_is_never_sent_twice_after_a_clear_failure(failure, error):
    body, _ = identity.prepare_create(EXPORT, links())
    with pytest.raises(error):
        drive(identity.create_flow(ctx(), body, None, generated=True), [(empty_list, NO_JOBS), (post, failure)])


@pytest.mark.parametrize(
    ("payload", "version", "one_off"),
    [
        pytest.param(EXPORT, None, True, id="export: a one-off name"),
        pytest.param(EXPORT, "21.2", False, id="export on ORDS 21.2: file_name undocumented"),
        pytest.param({**EXPORT, "file_name": "MINE%U.DMP"}, None, False, id="export named by the caller"),
    ],
)
def test_prepare_create(payload, version, one_off):
    body, name = identity.prepare_create(payload, links(version))
    assert (name is not None) is one_off
    if one_off:
        assert body["file_name"] == name and name.startswith("EXPDAT%U-")


def test_prepare_create_refuses_before_anything_is_sent():
    with pytest.raises(DataPumpValidationError):
        identity.prepare_create({**EXPORT, "file_name": "x'; drop"}, links())


@pytest.mark.parametrize(
    ("dumps", "kind"),
    [(["EXPDAT%U-X.DMP".replace("%U", "01")], "ours!"), (["OTHER01.DMP"], "not ours"), (["EXPDAT01.DMP"], "undecided"),
     ([], "undecided")],
)
def test_dump_set_evidence(dumps, kind):
    assert identity.dump_set_evidence("EXPDAT%U-X.DMP", dumps)[0] == kind
