"""DataPumpHook against the emulator over real HTTP: every endpoint sync and async, sign-in,
faults, the link policy and the connection parsing."""

from __future__ import annotations

import io
import json
import time

import pytest

from tests.helpers import Recorder, wait_done

from airflow_provider_datapump.exceptions import (
    DataPumpConfigError,
    DataPumpHTTPError,
    DataPumpTransferError,
    DataPumpValidationError,
)
from airflow_provider_datapump.hooks.datapump import DataPumpHook, OrdsSettings
from airflow_provider_datapump.jobs import Outcome
from tests.credentials import CLIENT_ID, CLIENT_SECRET

EXPORT = {"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": [{"expression": "= 'TESTUSER1'"}]}




def posts(emu):
    return [r for r in emu.requests() if r["method"] == "POST" and "/datapump/" in r["path"]]


# ------------------------------------------------------------------ endpoints, sync


@pytest.mark.parametrize(("endpoint", "version"), [("jobs", "24.4"), (None, "21.2"), (None, "24.4"), (None, "26.3")])
def test_export_lifecycle(fast_hook, ords_conn, endpoint, version):
    # jobs/ is documented up to 24.4; the default (the export endpoint) on every version.
    ords_conn.set_scenario(duration=0.3, ords_version=version)
    job = fast_hook.create_job(EXPORT, endpoint=endpoint)
    assert job.state == "EXECUTING" and job.job_name.startswith("DATAPUMP_REST_EXPORT_")
    assert fast_hook.resolve(job).verdict.outcome is Outcome.RUNNING
    result = wait_done(fast_hook, job)
    assert result.verdict.outcome is Outcome.SUCCEEDED
    assert {f["kind"] for f in result.files} == {"dump", "log"}
    assert {(o.schema, o.name, o.rows) for o in result.objects} == {("TESTUSER1", "EMP", 14), ("TESTUSER1", "DEPT", 4)}
    xcom = result.to_xcom()
    assert json.loads(json.dumps(xcom)) == xcom
    dump = next(f for f in result.files if f["kind"] == "dump")
    buf = io.BytesIO()
    assert fast_hook.stream_file(xcom, dump["name"], buf) == len(buf.getvalue()) > 0


def test_import_through_rpc_endpoint_reads_its_own_log(fast_hook, ords_conn):
    ords_conn.set_scenario(duration=0.1)
    exported = wait_done(fast_hook, fast_hook.create_job(EXPORT))
    body = {"operation": "IMPORT", "job_mode": "SCHEMA", "file_name": exported.dump_file_template,
            "remap_schemas": [{"source": "TESTUSER1", "target": "TESTUSER2"}]}
    imported = wait_done(fast_hook, fast_hook.create_job(body, endpoint="import"))
    assert imported.verdict.outcome is Outcome.SUCCEEDED
    assert imported.job.job_name in imported.verdict.message  # the import's own log, not the export's
    assert imported.log_file.startswith("IMPDAT") and imported.to_xcom()["log_file"] == imported.log_file
    assert {o.schema for o in imported.objects} == {"TESTUSER2"}
    assert "TESTUSER2" in ords_conn.catalog()["schemas"]


def test_jobs_endpoint_on_a_version_without_it(fast_hook, ords_conn, monkeypatch):
    # 25.x and later document no POST jobs/: the emulator answers 405, as a strict server would.
    with pytest.raises(DataPumpHTTPError) as err:
        fast_hook.create_job(EXPORT, endpoint="jobs")
    assert err.value.status == 405
    # With the connection's ords_version set, the hook refuses it before sending anything.
    conn = ords_conn.airflow_connection()
    conn["extra"] = json.dumps({"ords_version": "26.3"})
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps(conn))
    ords_conn.clear_requests()
    with pytest.raises(DataPumpValidationError, match="jobs/ is not documented for ORDS 26.3"):
        DataPumpHook().create_job(EXPORT, endpoint="jobs")
    assert posts(ords_conn) == []


def test_endpoint_must_match_operation(fast_hook, ords_conn):
    with pytest.raises(DataPumpValidationError, match="endpoint"):
        fast_hook.create_job(EXPORT, endpoint="import")
    assert posts(ords_conn) == []


def test_invalid_payload_is_never_sent(fast_hook, ords_conn):
    with pytest.raises(DataPumpValidationError):
        fast_hook.create_job({**EXPORT, "file_name": "x'; drop"})
    assert ords_conn.requests() == []


def test_list_paging(fast_hook, ords_conn):
    ords_conn.set_scenario(duration=0)
    for _ in range(3):
        fast_hook.create_job(EXPORT)
    first = fast_hook.list_jobs(limit=2)
    assert first.count == 2 and first.has_more
    rest = fast_hook.list_jobs(limit=2, offset=2)
    assert rest.count == 1 and not rest.has_more
    assert {j.ident for j in first.items} | {j.ident for j in rest.items} == {j["owner_name"] + "," + j["job_name"] for j in ords_conn.jobs()}


def test_job_reference_forms(fast_hook, ords_conn):
    job = fast_hook.create_job(EXPORT)
    url = job.self_href
    for ref in (job, job.ident, url, {"owner_name": job.owner_name, "job_name": job.job_name}, {"self_url": url}):
        assert fast_hook.get_job(ref).ident == job.ident
    for bad in ("nonsense", "A,B,C", {"owner_name": "A"}, "A/../B,C"):
        with pytest.raises(DataPumpValidationError):
            fast_hook.get_job(bad)


def test_unknown_job_is_a_404_error(fast_hook, ords_conn):
    with pytest.raises(DataPumpHTTPError) as err:
        fast_hook.get_job("DBAPI_USER,DATAPUMP_REST_EXPORT_20000101000000")
    assert err.value.status == 404 and err.value.code
    assert fast_hook.resolve("DBAPI_USER,DATAPUMP_REST_EXPORT_20000101000000").verdict.outcome is Outcome.VANISHED


@pytest.mark.parametrize(
    "outcome, expected, codes",
    [
        ("success", Outcome.SUCCEEDED, ()),
        ("errors", Outcome.SUCCEEDED_WITH_ERRORS, ("ORA-39083",)),
        ("fatal", Outcome.FAILED, None),
        ("crash", Outcome.CRASHED, ()),
        ("stopped", Outcome.STOPPED, None),
    ],
)
def test_every_ending(fast_hook, ords_conn, outcome, expected, codes):
    ords_conn.set_scenario(duration=0.1, outcome=outcome, error_count=2, ora_codes=["ORA-39083"])
    result = wait_done(fast_hook, fast_hook.create_job(EXPORT))
    assert result.verdict.outcome is expected, result.verdict
    if codes is not None:
        assert result.verdict.ora_codes == codes
    if expected is Outcome.SUCCEEDED_WITH_ERRORS:
        assert result.verdict.error_count == 2 and "completed with 2 error(s)" in result.verdict.message


def test_keep_master_zero_vanishes(fast_hook, ords_conn):
    ords_conn.set_scenario(duration=0.1)
    job = fast_hook.create_job({**EXPORT, "keep_master": 0})
    time.sleep(0.4)
    assert fast_hook.resolve(job).verdict.outcome is Outcome.VANISHED


# ------------------------------------------------------------------ endpoints, async


async def test_async_twins(ords_conn):
    hook = DataPumpHook(retry_backoff=0.05)
    ords_conn.set_scenario(duration=0.2)
    job = await hook.acreate_job(EXPORT)
    assert (await hook.aget_job(job.ident)).job_name == job.job_name
    page = await hook.alist_jobs(limit=1)
    assert page.count == 1
    while (result := await hook.aresolve(job)).verdict.outcome is Outcome.RUNNING:
        time.sleep(0.05)
    assert result.verdict.outcome is Outcome.SUCCEEDED
    log = next(f for f in result.files if f["kind"] == "log")
    text = await hook.aget_file_text(result.to_xcom(), log["name"])
    assert "successfully completed" in text
    buf = io.BytesIO()
    assert await hook.astream_file(result.to_xcom(), log["name"], buf) == len(text.encode())


async def test_async_clients_are_shared_and_survive_cancellation(ords_conn):
    import asyncio

    hook = DataPumpHook()
    async with hook.async_client() as one, hook.async_client() as two:
        assert one is two and one.users == 2
        task = asyncio.create_task(hook.aget_job("DBAPI_USER,NOPE"))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises((asyncio.CancelledError, DataPumpHTTPError)):
            await task
        assert not one.client.is_closed
    assert one.client.is_closed


# ------------------------------------------------------------------ authentication


def test_wrong_password_is_a_clear_401_without_the_password(ords_conn, monkeypatch, capsys):
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps(ords_conn.airflow_connection(password="Wr0ngSecret!")))
    ok, message = DataPumpHook().test_connection()
    assert not ok and "401" in message and "login and password" in message
    out = capsys.readouterr()
    assert "Wr0ngSecret!" not in message + out.out + out.err


def test_oauth2_token_is_fetched_cached_and_refreshed(ords_conn, monkeypatch):
    conn = ords_conn.airflow_connection(login=CLIENT_ID, password=CLIENT_SECRET, extra=json.dumps({"auth_type": "oauth2"}))
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps(conn))
    ords_conn.set_scenario(token_ttl=1)  # expires_in 1 s: our 30 s margin makes every call refresh
    hook = DataPumpHook()
    hook.list_jobs()
    hook.list_jobs()
    tokens = [r for r in ords_conn.requests() if r["path"].endswith("/oauth/token")]
    bearer = [r for r in ords_conn.requests() if r.get("auth_scheme", "").lower() == "bearer"]
    assert len(tokens) == 2 and len(bearer) == 2
    ords_conn.set_scenario(token_ttl=3600)
    hook2 = DataPumpHook()
    for _ in range(3):
        hook2.list_jobs()
    assert len([r for r in ords_conn.requests() if r["path"].endswith("/oauth/token")]) == 3


def test_oauth2_expired_token_is_refreshed_once_on_401(ords_conn, monkeypatch):
    conn = ords_conn.airflow_connection(login=CLIENT_ID, password=CLIENT_SECRET, extra=json.dumps({"auth_type": "oauth2"}))
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps(conn))
    hook = DataPumpHook()
    hook.list_jobs()
    hook.transport.auth._expires = time.monotonic() + 3600  # we believe it is valid...
    ords_conn.state._tokens.clear()  # the emulator forgets every token, as after an ORDS restart
    assert hook.list_jobs().count == 0  # ...the server does not: one 401, one refresh, success
    codes = [r["status"] for r in ords_conn.requests()]
    assert codes.count(401) == 1


async def test_oauth2_async(ords_conn, monkeypatch):
    conn = ords_conn.airflow_connection(login=CLIENT_ID, password=CLIENT_SECRET, extra=json.dumps({"auth_type": "oauth2"}))
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps(conn))
    assert (await DataPumpHook().alist_jobs()).count == 0


def test_basic_credentials_and_oauth_tokens_are_masked_sync_and_async(ords_conn, monkeypatch):
    """Airflow masks a connection's password, not its base64 form in a Basic header, nor a token
    the hook fetches: the hook registers both, and the async path awaits the registration."""
    import asyncio
    import base64

    from airflow.providers.common.compat.sdk import redact  # airflow.sdk.log lacks it on 3.0

    def b64(login, password):
        return base64.b64encode(f"{login}:{password}".encode()).decode()

    sync_conn = ords_conn.airflow_connection(login="masked_sync_user", password="MaskedSyncPw1")
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps(sync_conn))
    DataPumpHook().transport  # its auth is built for the first request
    assert b64("masked_sync_user", "MaskedSyncPw1") not in redact(f"Basic {b64('masked_sync_user', 'MaskedSyncPw1')}")

    async_conn = ords_conn.airflow_connection(login="masked_async_user", password="MaskedAsyncPw1")
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps(async_conn))

    # The emulator refuses this user, but the request went through the auth flow, which awaited
    # the mask registrations before sending it.
    with pytest.raises(DataPumpHTTPError):
        asyncio.run(DataPumpHook().alist_jobs())
    assert b64("masked_async_user", "MaskedAsyncPw1") not in redact(b64("masked_async_user", "MaskedAsyncPw1"))

    oauth = ords_conn.airflow_connection(login=CLIENT_ID, password=CLIENT_SECRET, extra=json.dumps({"auth_type": "oauth2"}))
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps(oauth))
    for call in (lambda: DataPumpHook().list_jobs(), lambda: asyncio.run(DataPumpHook().alist_jobs())):
        ords_conn.state._tokens.clear()
        call()
        (token,) = ords_conn.state._tokens
        assert token not in redact(f"Bearer {token}")


# ------------------------------------------------------------------ faults and retries


def test_get_retries_503_honouring_retry_after(fast_hook, ords_conn, capsys):
    job = fast_hook.create_job(EXPORT)
    ords_conn.add_fault(kind="status", status=503, retry_after=1, times=2, method="GET")
    start = time.monotonic()
    assert fast_hook.get_job(job).ident == job.ident
    assert time.monotonic() - start >= 1.9  # two Retry-After: 1 waits, not the 0.05 s backoff
    assert capsys.readouterr().out.count("retrying in 1.0s") == 2


def test_get_retries_500_then_gives_up(fast_hook, ords_conn):
    job = fast_hook.create_job(EXPORT)
    ords_conn.add_fault(kind="status", status=500, times=None, method="GET")
    with pytest.raises(DataPumpHTTPError) as err:
        fast_hook.get_job(job)
    assert err.value.status == 500
    assert len([r for r in ords_conn.requests() if r["method"] == "GET" and job.job_name in r["path"]]) == 4


def test_create_is_not_duplicated_after_an_ambiguous_failure(fast_hook, ords_conn):
    ords_conn.add_fault(kind="status", status=503, times=1, method="POST")
    job = fast_hook.create_job(EXPORT)
    assert len(ords_conn.jobs()) == 1 and job.ident == ords_conn.jobs()[0]["owner_name"] + "," + ords_conn.jobs()[0]["job_name"]


def test_create_that_succeeded_but_lost_its_answer_is_adopted(fast_hook, ords_conn):
    # ORDS created the job, then the connection dropped before the 201 body arrived.
    ords_conn.add_fault(kind="drop", after_bytes=0, times=1, method="POST")
    job = fast_hook.create_job(EXPORT)
    assert len(ords_conn.jobs()) == 1 and job.job_name == ords_conn.jobs()[0]["job_name"]
    assert len(posts(ords_conn)) == 1


def test_create_timeout_waits_for_the_server_before_resending(ords_conn):
    # The server is slow to answer; the retry must not start while the first request may still land.
    ords_conn.add_fault(kind="delay", seconds=1.5, times=1, method="POST")
    hook = DataPumpHook(timeout=0.5, retry_backoff=0.05)
    start = time.monotonic()
    job = hook.create_job(EXPORT)
    assert time.monotonic() - start >= 1.4  # 0.5 s timeout + a 1 s grace of job-list checks
    assert [j["job_name"] for j in ords_conn.jobs()] == [job.job_name]


def test_slow_response_within_timeout(fast_hook, ords_conn):
    ords_conn.add_fault(kind="delay", seconds=0.5, times=1, method="GET")
    assert fast_hook.list_jobs().count == 0


def test_slow_responses_beyond_timeout_fail_after_retries(ords_conn):
    ords_conn.add_fault(kind="delay", seconds=1.5, times=None, method="GET")
    hook = DataPumpHook(timeout=0.5, retry_attempts=2, retry_backoff=0.01)
    with pytest.raises(DataPumpHTTPError, match="Timeout"):
        hook.list_jobs()


def _dump_of(hook, emu, size):
    emu.set_scenario(duration=0, dump_size=size)
    result = wait_done(hook, hook.create_job(EXPORT))
    return result.to_xcom(), next(f["name"] for f in result.files if f["kind"] == "dump")


@pytest.mark.parametrize("path", ["sync", "async"])
async def test_dropped_transfer_restarts_and_ends_complete(fast_hook, ords_conn, tmp_path, path):
    job, name = _dump_of(fast_hook, ords_conn, 3 * 1024 * 1024)
    ords_conn.add_fault(kind="drop", after_bytes=1024 * 1024, times=1, path=r"\.DMP$")
    target = tmp_path / name
    with open(target, "wb") as out:
        if path == "sync":
            size = fast_hook.stream_file(job, name, out)
        else:
            size = await fast_hook.astream_file(job, name, out)
    assert size == target.stat().st_size == 3 * 1024 * 1024


def test_dropped_on_every_attempt_fails(fast_hook, ords_conn, tmp_path):
    job, name = _dump_of(fast_hook, ords_conn, 2 * 1024 * 1024)
    ords_conn.add_fault(kind="drop", after_bytes=1000, times=None, path=r"\.DMP$")
    with pytest.raises(DataPumpTransferError, match="Content-Length"):
        fast_hook.stream_file(job, name, io.BytesIO())


def test_unrewindable_sink_is_not_silently_appended_to(fast_hook, ords_conn):
    job, name = _dump_of(fast_hook, ords_conn, 2 * 1024 * 1024)
    ords_conn.add_fault(kind="drop", after_bytes=1000, times=1, path=r"\.DMP$")

    class Pipe(io.RawIOBase):
        def writable(self):
            return True

        def write(self, b):
            return len(b)

    with pytest.raises(DataPumpTransferError, match="cannot be rewound"):
        fast_hook.stream_file(job, name, Pipe())


# ------------------------------------------------------------------ the link policy


@pytest.mark.parametrize("foreign", ["recorder", "https-same-host"])
def test_foreign_links_never_receive_credentials(fast_hook, ords_conn, foreign, capsys):
    recorder = Recorder()
    origin = f"http://127.0.0.1:{recorder.port}" if foreign == "recorder" else ords_conn.url.replace("http://", "https://")
    ords_conn.set_scenario(duration=0, link_origin=origin)
    job = fast_hook.create_job(EXPORT)
    assert job.self_href.startswith(origin)
    result = wait_done(fast_hook, job)
    for f in result.files:
        fast_hook.stream_file(job, f["name"], io.BytesIO())
    assert result.verdict.outcome is Outcome.SUCCEEDED
    assert recorder.received == []
    assert all(f["url"].startswith(ords_conn.base_url) for f in result.files)
    assert "not under the connection's base URL" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b.DMP", "x\x00.LOG", ".."])
def test_hostile_file_names_are_refused(fast_hook, name):
    from airflow_provider_datapump.exceptions import DataPumpLinkError

    with pytest.raises(DataPumpLinkError):
        fast_hook.links.file_url("A", "B", name)


# ------------------------------------------------------------------ connection parsing


class Conn:
    def __init__(self, host, port=None, schema=None, login="u", password="p", extra=None, conn_id="c"):
        self.host, self.port, self.schema, self.login, self.password = host, port, schema, login, password
        self.extra_dejson, self.conn_id = extra or {}, conn_id


@pytest.mark.parametrize(
    "conn, base",
    [
        (Conn("https://db.example.com:8443/ords/pdb1/dbapi_user/"), "https://db.example.com:8443/ords/pdb1/dbapi_user"),
        (Conn("https://db.example.com/ords/x", port=8443), "https://db.example.com:8443/ords/x"),
        (Conn("db.example.com", port=8443, schema="ords/pdb1/dbapi_user"), "https://db.example.com:8443/ords/pdb1/dbapi_user"),
        (Conn("db", schema="/ords/a/", extra={"protocol": "http"}), "http://db/ords/a"),
        (Conn("https://h/ords/a/_/db-api/latest/database/datapump/jobs/"), "https://h/ords/a"),
    ],
)
def test_base_url(conn, base):
    assert OrdsSettings.from_connection(conn).base_url == base


def test_whole_endpoint_url_keeps_its_api_version():
    assert OrdsSettings.from_connection(Conn("https://h/ords/a/_/db-api/latest/")).api_version == "latest"


def test_prefixed_extras_and_verify_path():
    s = OrdsSettings.from_connection(Conn("https://h/ords/a", extra={"extra__ords__verify": "/etc/ca.pem", "timeout": "5"}))
    assert s.verify == "/etc/ca.pem" and s.timeout == 5.0


@pytest.mark.parametrize(
    "conn, words",
    [
        (Conn(""), "no host"),
        (Conn("https://u:p@h/ords/a"), "login/password"),
        (Conn("https://h:1/ords/a", port=2), "port"),
        (Conn("https://h"), "schema alias"),
        (Conn("ftp://h/ords/a"), "protocol"),
        (Conn("https://h/ords/a", extra={"auth_type": "kerberos"}), "auth_type"),
        (Conn("https://h/ords/a", password=None), "password"),
        (Conn("https://h/ords/a", extra={"timeout": "soon"}), "timeout"),
        (Conn("https://h/ords/a", extra={"verify": ""}), None),
    ],
)
def test_bad_connections_say_why(conn, words):
    if words is None:
        assert OrdsSettings.from_connection(conn).verify is True
        return
    with pytest.raises(DataPumpConfigError, match=words):
        OrdsSettings.from_connection(conn)


def test_env_var_connection_and_test_connection(ords_conn):
    ok, message = DataPumpHook().test_connection()
    assert ok and ords_conn.base_url in message


def test_user_agent_and_timeouts_on_every_request(fast_hook, ords_conn):
    client = fast_hook.client
    assert client.headers["User-Agent"].startswith("airflow-provider-datapump/")
    assert client.timeout.read == 60.0 and client.timeout.connect == 30.0
    assert fast_hook.client is client  # one client for the hook's lifetime


def test_html_error_page_from_a_proxy_becomes_a_readable_error(monkeypatch):
    # respx, because the emulator always answers problem+json: the HTML page comes from a proxy
    # or load balancer in front of ORDS (and from ORDS itself before 25.3, see the reference).
    import respx

    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps({"conn_type": "ords", "host": "https://ords.test/ords/u", "login": "u", "password": "p"}))
    hook = DataPumpHook(retry_attempts=2, retry_backoff=0.01)
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>upstream ORDS down</p></body></html>"
    with respx.mock(assert_all_called=True) as mock:
        mock.get("https://ords.test/ords/u/_/db-api/stable/database/datapump/jobs/").respond(502, html=page)
        with pytest.raises(DataPumpHTTPError) as err:
            hook.list_jobs()
        assert mock.calls.call_count == 2  # retried once, as a 5xx on a GET should be
    assert err.value.status == 502 and "upstream ORDS down" in str(err.value) and "<h1>" not in str(err.value)


def test_a_503_before_the_body_does_not_need_a_rewindable_sink(fast_hook, ords_conn):
    job, name = _dump_of(fast_hook, ords_conn, 1024 * 1024)
    ords_conn.add_fault(kind="status", status=503, retry_after=0, times=1, path=r"\.DMP$")
    received = []

    class Pipe(io.RawIOBase):
        def writable(self):
            return True

        def write(self, b):
            received.append(len(b))
            return len(b)

    assert fast_hook.stream_file(job, name, Pipe()) == sum(received) == 1024 * 1024


def test_a_snapshot_is_one_list_request_and_still_complete_when_the_server_caps_the_page(ords_conn, fast_hook):
    """A snapshot asks for a page sized to the watched names (issue 19: one request per walk); a
    server whose row cap (ORDS misc.pagination.maxRows) is lower clamps it, and the walk then
    follows the next links to the end, every job found."""
    from urllib.parse import parse_qs

    from tests.helpers import create_many

    emu = ords_conn
    jobs = create_many(fast_hook, emu, EXPORT, 30, duration=60)
    idents = [j.ident for j in jobs]

    def walk() -> tuple[dict, list[dict]]:
        emu.clear_requests()
        found = fast_hook.job_snapshot(idents)
        pages = [r for r in emu.requests() if r["path"].endswith("/datapump/jobs/")]
        return found, pages

    found, pages = walk()
    assert sorted(found) == sorted(idents)
    assert len(pages) == 1, pages
    assert parse_qs(pages[0]["query"])["limit"] == ["500"]

    emu.set_scenario(list_max_limit=7)
    found, pages = walk()
    assert sorted(found) == sorted(idents)
    assert {j.state for j in found.values()} == {"EXECUTING"}
    assert len(pages) == 5, [p["query"] for p in pages]  # 30 rows, 7 a page
    assert parse_qs(pages[0]["query"])["limit"] == ["500"] and all(
        parse_qs(p["query"])["limit"] == ["7"] for p in pages[1:]
    )
