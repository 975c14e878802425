"""Injected faults: status codes with Retry-After, dropped connections, slow responses."""

from __future__ import annotations

import time

import httpx
import pytest
from tests.credentials import CLIENT_ID, CLIENT_SECRET

EXPORT = {"filter": "TESTUSER1"}  # for the export endpoint


@pytest.mark.parametrize(("status", "code"), [(503, "ServiceUnavailable"), (429, "TooManyRequests")])
def test_status_fault_n_times_then_ok(client, emu, h, status, code):
    emu.add_fault(kind="status", status=status, retry_after=2, times=2, method="GET", path=r"/jobs/$")
    for _ in range(2):
        r = client.get("jobs/")
        assert h.assert_problem(r, status)["code"] == code
        assert r.headers["retry-after"] == "2"
    assert client.get("jobs/").status_code == 200
    statuses = [(e["status"], e["faults"]) for e in emu.requests()]
    assert statuses == [(status, ["status"]), (status, ["status"]), (200, [])]


def test_status_fault_default_retry_after_and_500(client, emu, h):
    emu.add_fault(kind="status", status=503, times=1)
    r = client.post("export", json=EXPORT)
    h.assert_problem(r, 503)
    assert r.headers["retry-after"] == "1"
    assert client.get("jobs/").json()["count"] == 0  # the faulted create never reached the state
    emu.add_fault(kind="status", status=500, times=1)
    r = client.get("jobs/")
    h.assert_problem(r, 500)
    assert "retry-after" not in r.headers


def test_status_fault_filters_method_and_path(client, emu, h):
    emu.add_fault(kind="status", status=503, method="POST")
    assert client.get("jobs/").status_code == 200
    h.assert_problem(client.post("export", json=EXPORT), 503)
    emu.clear_faults()
    assert client.post("export", json=EXPORT).status_code == 201


def test_status_fault_time_window(client, emu, h):
    emu.add_fault(kind="status", status=503, seconds=0.2)
    h.assert_problem(client.get("jobs/"), 503)
    time.sleep(0.25)
    assert client.get("jobs/").status_code == 200


def test_faults_also_hit_the_token_endpoint_but_not_controls(emu, h):
    emu.add_fault(kind="status", status=503)
    r = httpx.post(emu.token_url, auth=(CLIENT_ID, CLIENT_SECRET), data={"grant_type": "client_credentials"})
    h.assert_problem(r, 503)
    assert httpx.get(emu.url + "/_emulator/catalog").status_code == 200
    assert httpx.get(emu.url + "/openapi.json").status_code == 200


def test_drop_mid_file(client, emu, h):
    emu.set_scenario(dump_size=4 * 1024 * 1024)
    _, done = h.run_job(client, EXPORT)
    dump = h.links(done, "enclosure")[0]
    emu.add_fault(kind="drop", after_bytes=100_000, times=1, path=r"\.DMP$")
    received = 0
    announced = None
    with pytest.raises(httpx.RemoteProtocolError):
        with client.stream("GET", dump) as r:
            announced = int(r.headers["content-length"])
            for chunk in r.iter_bytes():
                received += len(chunk)
    assert announced == 4 * 1024 * 1024
    assert received == 100_000
    # The next download is whole again.
    r = client.get(dump)
    assert len(r.content) == 4 * 1024 * 1024


def test_drop_on_a_json_response(client, emu):
    emu.add_fault(kind="drop", after_bytes=10, times=1, path=r"/jobs/$", method="GET")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("jobs/")
    assert client.get("jobs/").status_code == 200


def test_delay(client, emu):
    emu.add_fault(kind="delay", seconds=0.3, times=1)
    started = time.monotonic()
    assert client.get("jobs/").status_code == 200
    assert time.monotonic() - started >= 0.3
    client.get("jobs/")
    # times=1: only the first GET was delayed (read from the log, not a clock a loaded CI can stall)
    assert [e["faults"] for e in emu.requests()] == [["delay"], []]


def test_delay_triggers_client_timeout(emu, h):
    emu.add_fault(kind="delay", seconds=0.5, times=1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(emu.api_url + "jobs/", auth=(h.USER, h.PASSWORD), timeout=0.1)


def test_fault_control_endpoints(emu, h):
    with httpx.Client(base_url=emu.url) as c:
        r = c.post("/_emulator/faults", json={"kind": "status", "status": 503, "times": 3})
        assert r.status_code == 201
        fid = r.json()["id"]
        assert [f["id"] for f in c.get("/_emulator/faults").json()] == [fid]
        assert c.delete(f"/_emulator/faults/{fid}").status_code == 204
        assert c.get("/_emulator/faults").json() == []
        for bad in ({"kind": "boom"}, {"kind": "status", "status": 200}, {"kind": "delay"}, {"kind": "drop", "after_bytes": -1}, {"kind": "status", "path": "("}, {"kind": "delay", "seconds": 1, "status": 503}):
            h.assert_problem(c.post("/_emulator/faults", json=bad), 400)
        c.post("/_emulator/faults", json={"kind": "delay", "seconds": 0.01})
        assert c.delete("/_emulator/faults").status_code == 204
        assert c.get("/_emulator/faults").json() == []


def test_late_fault_handles_the_request_at_once_and_holds_the_answer(client, emu):
    emu.add_fault(kind="late", seconds=1.0, times=1, method="POST")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post("export", json=EXPORT, timeout=0.3)
    # The client gave up, yet the job exists: exactly the create whose answer came too late.
    assert client.get("jobs/").json()["count"] == 1
    assert time.monotonic() - started < 1.0
    time.sleep(1.0)
    assert [e["faults"] for e in emu.requests() if e["method"] == "POST"] == [["late"]]


def test_delay_fault_lets_a_client_that_gave_up_leave_nothing_behind(client, emu):
    emu.add_fault(kind="delay", seconds=0.8, times=1, method="POST")
    with pytest.raises(httpx.ReadTimeout):
        client.post("export", json=EXPORT, timeout=0.3)
    time.sleep(1.0)
    assert client.get("jobs/").json()["count"] == 0
