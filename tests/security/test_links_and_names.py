"""Credentials only go to the configured origin, and server file names cannot leave the destination.

What tests/hooks/test_hook.py already proves is not repeated here: a foreign port and a foreign
scheme on the sync resolve/stream_file paths (test_foreign_links_never_receive_credentials), and
link-policy refusal of path-like names (test_hostile_file_names_are_refused); tests/operators/
test_fetch.py refuses hostile names served by a stubbed ORDS. This module adds the foreign *host*
(same scheme and port), every path (get_job, resolve, get_file_text, stream_file's http.client
path, and the async twins) for each of host, port and scheme, and hostile names served by the
real emulator.
"""

from __future__ import annotations

import asyncio
import http.client
import io
from urllib.parse import urlsplit

import httpx
import pytest

from airflow_provider_datapump.exceptions import DataPumpLinkError
from airflow_provider_datapump.jobs import Outcome
from tests.helpers import Recorder, wait_done

EXPORT = {"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": [{"expression": "IN ('TESTUSER1')"}]}


@pytest.fixture
def outgoing(monkeypatch):
    """Every request the hook's three clients put on the wire: (url, carries Authorization)."""
    sent: list[tuple[str, bool]] = []
    sync_send = httpx.HTTPTransport.handle_request
    async_send = httpx.AsyncHTTPTransport.handle_async_request
    raw_send = http.client.HTTPConnection.request

    def record_sync(self, request):
        sent.append((str(request.url), "authorization" in request.headers))
        return sync_send(self, request)

    async def record_async(self, request):
        sent.append((str(request.url), "authorization" in request.headers))
        return await async_send(self, request)

    def record_raw(self, method, url, body=None, headers=None, **kwargs):
        scheme = "https" if isinstance(self, http.client.HTTPSConnection) else "http"
        sent.append((f"{scheme}://{self.host}:{self.port}{url}", "Authorization" in (headers or {})))
        return raw_send(self, method, url, body, headers or {}, **kwargs)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", record_sync)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", record_async)
    monkeypatch.setattr(http.client.HTTPConnection, "request", record_raw)
    return sent


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


@pytest.fixture(params=["host", "port", "scheme"])
def foreign(request, ords_conn):
    """A link origin differing from the connection's in exactly one of host, port, scheme."""
    emu_port = urlsplit(ords_conn.url).port
    recorder = None
    if request.param == "host":
        recorder = Recorder("127.0.0.2", emu_port)  # same scheme and port, another loopback host
        link = f"http://127.0.0.2:{emu_port}"
    elif request.param == "port":
        recorder = Recorder("127.0.0.1")
        link = f"http://127.0.0.1:{recorder.port}"
    else:
        # Nothing can listen on the emulator's own port; the client-side record covers it.
        link = f"https://127.0.0.1:{emu_port}"
    ords_conn.set_scenario(duration=0, link_origin=link)
    yield link, recorder
    if recorder is not None:
        recorder.close()


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_foreign_links_never_receive_the_authorization_header(fast_hook, ords_conn, foreign, outgoing, twin):
    link, recorder = foreign
    job = fast_hook.create_job(EXPORT)
    assert job.self_href.startswith(link + "/"), "the emulator did not link the foreign origin"
    wait_done(fast_hook, job)
    outgoing.clear()

    if twin == "sync":
        fetched = fast_hook.get_job(job)
        result = fast_hook.resolve(job)
        log = next(f["name"] for f in result.files if f["kind"] == "log")
        assert "successfully completed" in fast_hook.get_file_text(job, log)
        sizes = [fast_hook.stream_file(job, f["name"], io.BytesIO()) for f in result.files]
    else:
        async def twins():
            fetched = await fast_hook.aget_job(job)
            result = await fast_hook.aresolve(job)
            log = next(f["name"] for f in result.files if f["kind"] == "log")
            assert "successfully completed" in await fast_hook.aget_file_text(job, log)
            sizes = [await fast_hook.astream_file(job, f["name"], io.BytesIO()) for f in result.files]
            return fetched, result, sizes

        fetched, result, sizes = asyncio.run(twins())

    assert fetched.ident == job.ident and result.verdict.outcome is Outcome.SUCCEEDED and all(sizes)
    assert all(f["url"].startswith(ords_conn.base_url + "/") for f in result.files)
    # get_job, resolve (job + log), get_file_text and one stream per file were all recorded ...
    assert len(outgoing) >= 4 + len(result.files), outgoing
    # ... and every one of them, each carrying credentials, went to the configured origin.
    assert all(auth for _, auth in outgoing)
    assert {origin(url) for url, _ in outgoing} == {origin(ords_conn.base_url)}
    if recorder is not None:
        assert recorder.received == []


# ------------------------------------------------------------------ names served by the emulator

# The emulator refuses quotes, separators, control characters and '..' in file_name, but a raw
# POST (the provider would refuse these) gets these names linked by a real server. Each one is
# something a destination path must never contain: hidden files, spaces, non-ASCII, and a
# percent-encoded separator that a second decoding would turn into a path.
EMULATOR_HOSTILE_NAMES = [".hidden.DMP", "evil name.DMP", "évil.DMP", "x%2E%2E%2Fetc.DMP", "x%2Fy.DMP", "-rf.DMP", "a%00.DMP"]


@pytest.mark.parametrize("name", EMULATOR_HOSTILE_NAMES)
def test_hostile_names_linked_by_the_emulator_are_never_written(ords_conn, tmp_path, name, monkeypatch):
    from airflow_provider_datapump.operators.fetch import DataPumpFetchFilesOperator

    ords_conn.set_scenario(duration=0)
    with httpx.Client(auth=(ords_conn.user, ords_conn.password), timeout=10) as raw:
        body = {k: v for k, v in EXPORT.items() if k != "operation"}
        created = raw.post(ords_conn.api_url + "export", json={**body, "file_name": name})
    assert created.status_code == 201, created.text
    body = created.json()
    dest = tmp_path / "backups" / "job"
    op = DataPumpFetchFilesOperator(task_id="fetch", job=f"{body['owner_name']},{body['job_name']}",
                                    destination=f"file://{dest}/", hook_params={"retry_attempts": 1})
    with pytest.raises(DataPumpLinkError, match="refusing"):
        op.execute(context={})
    assert list(tmp_path.rglob("*")) == []
