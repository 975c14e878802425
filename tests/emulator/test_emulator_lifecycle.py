"""Job lifecycle, scenario outcomes, in-flight control and list paging over HTTP."""

from __future__ import annotations

import re
import time

import pytest

EXPORT = {"operation": "EXPORT", "job_mode": "SCHEMA", "filter": "TESTUSER1"}

# These tests create through POST jobs/, which ORDS documents up to 24.4.
pytestmark = pytest.mark.parametrize("datapump_emulator", ["24.4"], indirect=True)


def test_running_then_completed(client, emu, h):
    emu.set_scenario(duration=30)
    resp = client.post("jobs/", json={**EXPORT, "threads": 2})
    url = resp.headers["location"]
    running = client.get(url).json()
    assert (running["state"], running["job_state"], running["degree"], running["datapump_sessions"]) == (
        "EXECUTING",
        "EXECUTING",
        2,
        3,
    )
    assert "job_comment" not in running
    assert "enclosure" not in [link["rel"] for link in running["links"]]
    partial = client.get(h.links(running, "related")[0])
    assert partial.status_code == 200
    assert partial.text.startswith(f'Starting "DBAPI_USER"."{running["job_name"]}":')
    assert "successfully completed" not in partial.text and "Dump file set" not in partial.text
    item = client.get("jobs/").json()["items"][0]
    assert (item["state"], item["degree"]) == ("EXECUTING", 2)

    emu.patch_job("DBAPI_USER", running["job_name"], finish_now=True)
    done = client.get(url).json()
    assert (done["state"], done["job_state"], done["degree"]) == ("NOT RUNNING", "COMPLETED", 0)
    assert len(h.links(done, "enclosure")) == 2
    assert "successfully completed" in client.get(h.links(done, "related")[0]).text


def test_short_duration_finishes_by_itself(client, emu, h):
    emu.set_scenario(duration=0.15)
    resp = client.post("jobs/", json=EXPORT)
    assert client.get(resp.headers["location"]).json()["state"] == "EXECUTING"
    time.sleep(0.2)
    assert client.get(resp.headers["location"]).json()["job_state"] == "COMPLETED"


def test_same_second_create_is_ora_31634(client, emu, h):
    first = client.post("jobs/", json=EXPORT)
    assert first.status_code == 201
    assert re.fullmatch(r"DATAPUMP_REST_EXPORT_\d{14}", first.json()["job_name"])
    clash = client.post("jobs/", json=EXPORT)
    if clash.status_code == 201:  # the wall clock ticked between the two creates
        assert clash.json()["job_name"] != first.json()["job_name"]
        clash = client.post("jobs/", json=EXPORT)
    message = h.assert_problem(clash, 400)["message"]
    assert "ORA-31634: job already exists" in message and "ORA-39002: invalid operation" in message
    emu.advance_clock(1)
    assert client.post("jobs/", json=EXPORT).status_code == 201


@pytest.mark.parametrize(
    ("outcome", "job_state", "phrase", "has_dumps"),
    [
        ("success", "COMPLETED", "successfully completed", True),
        ("errors", "COMPLETED", "completed with 3 error(s)", True),
        ("fatal", "STOPPED", "stopped due to fatal error", False),
        ("stopped", "STOPPED", "stopped by user request", False),
    ],
)
def test_outcomes(client, emu, h, outcome, job_state, phrase, has_dumps):
    emu.set_scenario(outcome=outcome, error_count=3, ora_codes=["ORA-39083", "ORA-31684"])
    _, done = h.run_job(client, EXPORT)
    assert done["state"] == "NOT RUNNING" and done["job_state"] == job_state
    assert re.fullmatch(
        rf'Job "DBAPI_USER"\."{done["job_name"]}" {re.escape(phrase)} at \w{{3}} \w{{3}} \d+ [\d:]{{8}} \d{{4}} elapsed 0 [\d:]{{8}}',
        done["job_comment"],
    )
    assert bool(h.links(done, "enclosure")) is has_dumps
    log = client.get(h.links(done, "related")[0]).text.rstrip().splitlines()
    assert log[-1] == done["job_comment"]
    ora = [line for line in log if re.match(r"^ORA-\d{5}: ", line)]
    if outcome == "errors":
        assert [line[:9] for line in ora] == ["ORA-39083", "ORA-31684", "ORA-39083"]
        assert all(log.index(line) < len(log) - 1 for line in ora)
    elif outcome == "fatal":
        assert [line[:9] for line in ora] == ["ORA-39083", "ORA-31684"]
    else:
        assert ora == []


def test_fatal_default_codes(client, emu, h):
    emu.set_scenario(outcome="fatal")
    _, done = h.run_job(client, EXPORT)
    log = client.get(h.links(done, "related")[0]).text
    assert "ORA-39126:" in log and "ORA-39002: invalid operation" in log


def test_crash_has_no_job_state_and_no_final_line(client, emu, h):
    emu.set_scenario(outcome="crash")
    _, done = h.run_job(client, EXPORT)
    assert done["state"] == "NOT RUNNING"
    assert "job_state" not in done and "job_comment" not in done
    assert (done["degree"], done["datapump_sessions"]) == (0, 0)
    log = client.get(h.links(done, "related")[0]).text
    assert not re.search(r'^Job ".*" (successfully|completed|stopped)', log, re.M)
    assert h.links(done, "enclosure") == []


def test_queued_scenarios_are_fifo_and_can_target_an_operation(client, emu, h):
    emu.queue_scenario(outcome="errors", error_count=2)
    emu.queue_scenario(operation="IMPORT", outcome="fatal")
    _, first = h.run_job(client, EXPORT)
    assert "completed with 2 error(s)" in first["job_comment"]
    emu.advance_clock(1)
    _, second = h.run_job(client, EXPORT)  # the IMPORT entry is skipped for an export
    assert "successfully completed" in second["job_comment"]
    dump = h.links(second, "enclosure")[0].rsplit("/", 1)[1]
    _, imp = h.run_job(client, {"operation": "IMPORT", "file_name": dump, "remap_schemas": [{"source": "TESTUSER1", "target": "TESTUSER9"}]})
    assert imp["job_state"] == "STOPPED"
    assert "TESTUSER9" not in emu.catalog()["schemas"]  # a fatal import changes nothing


def test_patch_outcome_in_flight_and_stop(client, emu, h):
    emu.set_scenario(duration=60)
    a = client.post("jobs/", json=EXPORT).json()
    emu.advance_clock(1)
    b = client.post("jobs/", json=EXPORT).json()
    with h_control(emu) as c:
        r = c.patch(f"/_emulator/jobs/DBAPI_USER,{a['job_name']}", json={"outcome": "fatal", "finish_now": True})
        assert r.status_code == 200 and r.json()["outcome"] == "fatal"
        r = c.post(f"/_emulator/jobs/DBAPI_USER,{b['job_name']}/stop")
        assert r.status_code == 200
        assert c.patch(f"/_emulator/jobs/DBAPI_USER,{a['job_name']}", json={"duration": 1}).status_code == 409
        assert c.post("/_emulator/jobs/DBAPI_USER,NOPE/stop").status_code == 404
    assert client.get(f"jobs/DBAPI_USER,{a['job_name']}/").json()["job_state"] == "STOPPED"
    stopped = client.get(f"jobs/DBAPI_USER,{b['job_name']}/").json()
    assert "stopped by user request" in stopped["job_comment"]


def test_patch_duration_shortens_a_job(client, emu):
    emu.set_scenario(duration=60)
    job = client.post("jobs/", json=EXPORT).json()
    emu.patch_job("DBAPI_USER", job["job_name"], duration=0)
    assert client.get(f"jobs/DBAPI_USER,{job['job_name']}/").json()["state"] == "NOT RUNNING"


def test_keep_master_zero_success_vanishes(client, emu, h):
    emu.set_scenario(ords_version="25.4")  # keep_master is documented on export from 25.4
    export = {k: v for k, v in EXPORT.items() if k != "operation"}
    resp = client.post("export", json={**export, "keep_master": 0})
    url = resp.headers["location"]
    log_url = h.links(resp.json(), "related")[0]
    assert client.get(url).status_code == 404
    assert client.get(log_url).status_code == 404
    assert client.get("jobs/").json()["count"] == 0
    # The dump stays in the directory and can still be imported by name.
    [info] = emu.jobs()
    assert info["visible"] is False and info["outcome"] == "success"
    _, imp = h.run_job(client, {"file_name": info["dump_files"][0], "remap_schemas": [{"source": "TESTUSER1", "target": "TESTUSER2"}]}, "import")
    assert imp["job_state"] == "COMPLETED"


def test_keep_master_zero_failure_is_kept(client, emu, h):
    emu.set_scenario(outcome="fatal", ords_version="26.3")
    _, done = h.run_job(client, {"filter": "TESTUSER1", "keep_master": 0}, "export")
    assert done["job_state"] == "STOPPED"


def test_keep_master_on_jobs_is_dropped_and_the_table_kept(client, emu, h):
    _, done = h.run_job(client, {**EXPORT, "keep_master": 0})
    assert done["job_state"] == "COMPLETED"  # still listed: keep_master is on no jobs/ page
    assert emu.requests()[0]["dropped_keys"] == ["keep_master"]


def test_paging(client, emu, h):
    names = []
    for _ in range(5):
        names.append(client.post("jobs/", json=EXPORT).json()["job_name"])
        emu.advance_clock(1)
    names.sort()
    page = client.get("jobs/", params={"limit": 2}).json()
    assert (page["count"], page["limit"], page["offset"], page["hasMore"]) == (2, 2, 0, True)
    assert [i["job_name"] for i in page["items"]] == names[:2]  # ordered by owner, job name
    rels = {link["rel"]: link["href"] for link in page["links"]}
    assert "prev" not in rels and rels["first"].endswith("jobs/?limit=2")
    nxt = client.get(rels["next"]).json()
    assert [i["job_name"] for i in nxt["items"]] == names[2:4] and nxt["offset"] == 2
    prev_href = {link["rel"]: link["href"] for link in nxt["links"]}["prev"]
    assert "offset=0" in prev_href
    last = client.get("jobs/", params={"limit": 2, "offset": 4}).json()
    assert (last["count"], last["hasMore"]) == (1, False)
    assert "next" not in {link["rel"] for link in last["links"]}
    beyond = client.get("jobs/", params={"offset": 50}).json()
    assert (beyond["count"], beyond["items"], beyond["hasMore"]) == (0, [], False)


def test_list_q_filter_and_foreign_rows(client, emu):
    client.post("jobs/", json=EXPORT)
    with h_control(emu) as c:
        r = c.post("/_emulator/jobs", json={"owner_name": "SYSTEM", "job_name": "SYS_EXPORT_SCHEMA_01", "state": "NOT RUNNING"})
        assert r.status_code == 201
    body = client.get("jobs/").json()
    assert [i["owner_name"] for i in body["items"]] == ["DBAPI_USER", "SYSTEM"]
    only = client.get("jobs/", params={"q": '{"job_name":{"$like":"DATAPUMP_REST_%"}}'}).json()
    assert [i["owner_name"] for i in only["items"]] == ["DBAPI_USER"]
    assert client.get("jobs/", params={"q": "{nope"}).status_code == 400
    detail = client.get("jobs/SYSTEM,SYS_EXPORT_SCHEMA_01/").json()
    assert [link["rel"] for link in detail["links"]] == ["collection", "describedby", "self"]


def test_a_list_filtered_by_owner_answers_as_the_unfiltered_list_does(client, emu):
    """The owner in q is applied before the rows are rendered (for speed): the answer must be the
    rows of the whole list that the filter keeps, in its order, and a server that ignores q or an
    owner condition other than one $eq must not narrow the list either."""
    import json

    with h_control(emu) as c:
        for owner in ("APPUSER", "DBAPI_USER", "ZED"):
            for i in range(3):
                job = {"owner_name": owner, "job_name": f"J_{i}", "operation": "EXPORT", "job_mode": "SCHEMA",
                       "state": "EXECUTING"}
                assert c.post("/_emulator/jobs", json=job).status_code == 201

    def names(q):
        body = client.get("jobs/", params={"q": json.dumps(q)}).json()
        return [(i["owner_name"], i["job_name"]) for i in body["items"]]

    everything = [(i["owner_name"], i["job_name"]) for i in client.get("jobs/").json()["items"]]
    assert len(everything) == 9
    assert names({"owner_name": "DBAPI_USER"}) == [r for r in everything if r[0] == "DBAPI_USER"]
    assert names({"owner_name": {"$eq": "ZED"}, "job_name": {"$gte": "J_1"}}) == [("ZED", "J_1"), ("ZED", "J_2")]
    assert names({"owner_name": {"$eq": "ZED", "$ne": "ZED"}}) == []
    assert names({"owner_name": {"$gte": "DBAPI_USER"}}) == [r for r in everything if r[0] >= "DBAPI_USER"]
    emu.set_scenario(q_support="ignored")
    assert names({"owner_name": "ZED"}) == everything


def h_control(emu):
    import httpx

    return httpx.Client(base_url=emu.url, timeout=10)
