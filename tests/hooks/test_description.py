"""The server describes itself (issue 27): the provider reads ORDS's OpenAPI description once per
connection and worker (in the process, and a file its other task processes read), and that description, not the provider's table, decides the create
endpoint and which keys are sent. Real HTTP against the emulator, which serves a description per
release it models, none, or one a test hands it."""

from __future__ import annotations

import copy
import json
import threading

import httpx
import pytest

from airflow_provider_datapump.emulator.description import release_description
from airflow_provider_datapump.exceptions import DataPumpValidationError
from airflow_provider_datapump.hooks.datapump import DataPumpHook
from tests.helpers import creates

EXPORT = {"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": [{"expression": "= 'TESTUSER1'"}]}
IMPORT = {"operation": "IMPORT", "job_mode": "TABLE", "file_name": "X%U.DMP",
          "schema_expressions": [{"expression": "= 'TESTUSER1'"}], "name_expressions": [{"expression": "= 'EMP'"}]}


def description_reads(emu) -> list[str]:
    return [r["path"].rsplit("/", 2)[-2] + "/" + r["path"].rsplit("/", 1)[-1]
            for r in emu.requests() if "metadata-catalog" in r["path"]]


def hook() -> DataPumpHook:
    return DataPumpHook(retry_attempts=2, retry_backoff=0.05, retry_max_backoff=0.1)


def without(doc: dict, endpoint_path: str, key: str) -> dict:
    """A copy of a description whose endpoint no longer declares ``key``."""
    doc = copy.deepcopy(doc)
    ref = doc["paths"][endpoint_path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    del doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"][key]
    return doc


# ------------------------------------------------------------------ a server that declares a new key


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "next", "openapi": "release"}], indirect=True)
def test_a_key_the_server_declares_is_sent(ords_conn):
    endpoint, body = hook().plan_create({**IMPORT, "table_exists_action": "REPLACE"})
    assert endpoint == "import" and body["table_exists_action"] == "REPLACE"


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "next", "openapi": "release"}], indirect=True)
def test_a_declared_key_is_checked_against_the_declared_enum(ords_conn):
    with pytest.raises(DataPumpValidationError) as err:
        hook().plan_create({**IMPORT, "table_exists_action": "OVERWRITE"})
    assert err.value.field == "table_exists_action"
    assert "SKIP, APPEND, TRUNCATE, REPLACE" in err.value.reason and "99.1.0" in err.value.reason
    with pytest.raises(DataPumpValidationError, match="must be of type string"):
        hook().plan_create({**IMPORT, "table_exists_action": 1})
    assert creates(ords_conn) == []


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "26.3", "openapi": "release"}], indirect=True)
def test_a_key_the_server_does_not_declare_is_refused_naming_it_and_the_release(ords_conn):
    with pytest.raises(DataPumpValidationError) as err:
        hook().create_job({**IMPORT, "table_exists_action": "REPLACE"})
    assert err.value.field == "table_exists_action"
    assert "this ORDS (26.3.0) does not declare table_exists_action on import" in str(err.value)
    assert creates(ords_conn) == []


# ------------------------------------------------------------------ a server that no longer declares a key


@pytest.mark.parametrize("datapump_emulator", [{"openapi": "release"}], indirect=True)
def test_a_key_the_server_no_longer_declares_is_refused_before_any_create(ords_conn):
    """A release whose export drops keep_master from its description: the table says 25.4+ has it,
    the server says otherwise, and the server wins."""
    doc = without(release_description("26.3", ords_conn.api_url.rstrip("/").rsplit("/database", 1)[0]),
                  "/database/datapump/export", "keep_master")
    doc["info"]["version"] = "27.1.0"
    ords_conn.set_scenario(openapi=doc)
    with pytest.raises(DataPumpValidationError) as err:
        hook().create_job({**EXPORT, "keep_master": 0})
    assert err.value.field == "keep_master" and "this ORDS (27.1.0) does not declare keep_master on export" in str(err.value)
    assert creates(ords_conn) == []
    # What it still declares goes through, and nothing is dropped on the way.
    job = hook().create_job(EXPORT)
    assert job.operation == "EXPORT" and creates(ords_conn)[0]["dropped_keys"] == []


@pytest.mark.parametrize("datapump_emulator", [{"openapi": "release"}], indirect=True)
def test_the_endpoint_default_follows_what_the_server_offers(ords_conn):
    """A server that offers only POST jobs/ for creates (no export, no import) gets the job there."""
    doc = release_description("24.4", "/ords/dbapi_user/_/db-api/stable")
    for path in ("/database/datapump/export", "/database/datapump/import"):
        del doc["paths"][path]
    ords_conn.set_scenario(ords_version="24.4", openapi=doc)
    job = hook().create_job(EXPORT)
    assert [r["path"].rsplit("/", 2)[-2] for r in creates(ords_conn)] == ["jobs"] and job.operation == "EXPORT"
    with pytest.raises(DataPumpValidationError, match=r"does not declare POST export; leave endpoint unset to use POST jobs/"):
        hook().create_job(EXPORT, endpoint="export")


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "25.4", "openapi": "release"}], indirect=True)
def test_an_endpoint_the_server_does_not_offer_is_refused_naming_the_release(ords_conn):
    with pytest.raises(DataPumpValidationError, match=r"this ORDS \(25.4.0\) does not declare POST jobs/"):
        hook().create_job(EXPORT, endpoint="jobs")
    assert creates(ords_conn) == []


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "21.2", "openapi": "release"}], indirect=True)
def test_an_export_gets_no_one_off_name_where_the_server_declares_no_file_name(ords_conn):
    """ORDS 21.2's export has no file_name: the one-off dump name is not sent, and the caller's own is refused."""
    job = hook().create_job(EXPORT)
    assert creates(ords_conn)[0]["dropped_keys"] == [] and job.operation == "EXPORT"
    with pytest.raises(DataPumpValidationError, match="this ORDS \\(21.2.0\\) does not declare file_name on export"):
        hook().create_job({**EXPORT, "file_name": "MINE%U.DMP"})


# ------------------------------------------------------------------ no description: the table, said once


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(None, id="404: no description"),
        pytest.param({"kind": "status", "status": 401, "path": "metadata-catalog"}, id="401"),
        pytest.param({"kind": "delay", "seconds": 1.0, "path": "metadata-catalog"}, id="timeout"),
    ],
)
def test_with_no_description_the_table_applies_and_one_line_says_so(ords_conn, fault, capsys):
    if fault is not None:
        ords_conn.set_scenario(openapi="release")
        ords_conn.add_fault(**fault)
    h = DataPumpHook(retry_attempts=2, retry_backoff=0.05, retry_max_backoff=0.1, timeout=0.5)
    job = h.create_job(EXPORT)
    assert job.operation == "EXPORT" and [r["path"].rsplit("/", 1)[-1] for r in creates(ords_conn)] == ["export"]
    with pytest.raises(DataPumpValidationError) as err:
        h.create_job({**IMPORT, "table_exists_action": "REPLACE"})
    assert "is not a field of the ORDS import endpoint in any release the provider's table knows" in err.value.reason
    out = capsys.readouterr().out
    assert out.count("ORDS gave no description of itself") == 1


@pytest.mark.parametrize("datapump_emulator", [{"openapi": "release"}], indirect=True)
def test_a_description_that_is_not_openapi_is_no_description(ords_conn, capsys):
    doc = release_description("26.3", "/ords/dbapi_user/_/db-api/stable")
    doc["swagger"] = "2.0"  # what it declares the emulator still uses; the provider reads no Swagger 2
    del doc["openapi"]
    ords_conn.set_scenario(openapi=doc)
    assert hook().describe().description is None
    assert hook().create_job(EXPORT).operation == "EXPORT"
    assert "not an OpenAPI 3 document" in capsys.readouterr().out


def test_a_description_that_is_not_json_is_no_description(monkeypatch):
    """The emulator always answers JSON; a proxy's HTML page in its place is played with respx."""
    import respx

    from airflow_provider_datapump.hooks.ords.description import DescriptionCache

    base = "https://ords.example.com/ords/dbapi_user"
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps(
        {"conn_type": "ords", "host": base, "login": "u", "password": "p"}))
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{base}/_/db-api/stable/metadata-catalog/").respond(200, text="<html>sign in</html>")
        found = hook().describe()
    assert found.description is None and "not JSON" in found.reason
    assert isinstance(DescriptionCache(), DescriptionCache)


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "next", "openapi": "release"}], indirect=True)
def test_the_connections_ords_version_overrides_the_description(ords_conn, monkeypatch):
    conn = ords_conn.airflow_connection()
    conn["extra"] = json.dumps({"ords_version": "26.3"})
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps(conn))
    with pytest.raises(DataPumpValidationError, match="in any release the provider's table knows"):
        hook().create_job({**IMPORT, "table_exists_action": "REPLACE"})
    assert description_reads(ords_conn) == []  # not even read


# ------------------------------------------------------------------ read once, same origin only


@pytest.mark.parametrize("datapump_emulator", [{"openapi": "release"}], indirect=True)
def test_the_description_is_read_once_for_many_tasks_in_one_process(ords_conn):
    """Fifty hooks, as fifty mapped tasks in one worker would make, twenty of them at once."""
    plans = [DataPumpHook().plan_create(EXPORT) for _ in range(30)]
    threads = [threading.Thread(target=lambda: plans.append(DataPumpHook().plan_create(EXPORT))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(plans) == 50 and all(endpoint == "export" for endpoint, _ in plans)
    assert description_reads(ords_conn) == ["metadata-catalog/", "metadata-catalog/openapi.json"]


@pytest.mark.parametrize("datapump_emulator", [{"openapi": "release"}], indirect=True)
def test_the_description_is_read_again_after_its_time(ords_conn, monkeypatch):
    from airflow_provider_datapump.hooks.ords import description

    monkeypatch.setattr(description.CACHE, "ttl", 0.0)
    DataPumpHook().plan_create(EXPORT)
    DataPumpHook().plan_create(EXPORT)
    assert len(description_reads(ords_conn)) == 4


def test_a_description_from_another_origin_is_not_followed(ords_pair, capsys):
    """Production's catalog links its description on the test server's origin, which would declare
    table_exists_action. The link is not followed: production's own description decides."""
    prod, other = ords_pair.prod, ords_pair.test
    other.set_scenario(ords_version="next", openapi="release")
    prod.set_scenario(ords_version="26.3", openapi="release", link_origin=other.url)
    catalog = httpx.get(prod.base_url + "/_/db-api/stable/metadata-catalog/", auth=("dbapi_user", "DbApiUserPassword1"))
    assert catalog.json()["items"][0]["links"][0]["href"].startswith(other.url)
    with pytest.raises(DataPumpValidationError, match=r"this ORDS \(26.3.0\) does not declare table_exists_action"):
        DataPumpHook(ords_conn_id="ords_prod").plan_create({**IMPORT, "table_exists_action": "REPLACE"})
    assert description_reads(other) == []
    # The test's own look at the catalog above, then the hook's catalog and prod's own description.
    assert description_reads(prod) == ["metadata-catalog/", "metadata-catalog/", "metadata-catalog/openapi.json"]
    assert "which is not under the connection's base URL" in capsys.readouterr().out


# ------------------------------------------------------------------ the Test button


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "25.4", "openapi": "release"}], indirect=True)
def test_the_test_button_reports_the_release_and_its_create_endpoints(ords_conn):
    ok, message = DataPumpHook().test_connection()
    assert ok and "ORDS 25.4.0 describes its create endpoints: POST export, POST import" in message, message


def test_the_test_button_says_when_the_server_describes_nothing(ords_conn):
    ok, message = DataPumpHook().test_connection()
    assert ok and "ORDS gave no description of itself" in message and "19c to 26.3 applies" in message, message


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "next", "openapi": "release"}], indirect=True)
def test_the_async_create_follows_the_description_too(ords_conn):
    import asyncio

    ords_conn.set_scenario(duration=0)
    h = hook()
    with pytest.raises(DataPumpValidationError, match="this ORDS \\(99.1.0\\) does not declare threads_max on export"):
        asyncio.run(h.acreate_job({**EXPORT, "threads_max": 2}))
    job = asyncio.run(h.acreate_job(EXPORT))
    assert job.operation == "EXPORT" and [r["dropped_keys"] for r in creates(ords_conn)] == [[]]


@pytest.mark.parametrize("datapump_emulator", [{"openapi": "release"}], indirect=True)
def test_against_a_description_the_table_never_saw_exactly_its_keys_are_sent(ords_conn):
    """The issue's Done-when: a server whose export declares a key no release has (compression)
    and lacks ones every release has (datapump_dir, file_name): what it declares is sent (the
    one-off dump name is not, having no file_name to go in), the rest is refused before any job."""
    props = {"job_mode": {"type": "string", "enum": ["SCHEMA", "TABLE"]},
             "schema_expressions": {"type": "array", "items": {"type": "object", "properties": {"expression": {"type": "string"}}}},
             "compression": {"type": "string", "enum": ["ALL", "NONE"]}}
    doc = {"openapi": "3.0.3", "info": {"version": "30.1.0"}, "servers": [{"url": "/ords/dbapi_user/_/db-api/stable/"}],
           "paths": {"database/datapump/export": {"post": {"requestBody": {"content": {"application/json": {"schema": {
               "type": "object", "properties": props}}}}}}}}
    ords_conn.set_scenario(openapi=doc, duration=0)
    endpoint, sent = hook().plan_create({**EXPORT, "compression": "ALL"})
    assert endpoint == "export" and set(sent) == {"job_mode", "schema_expressions", "compression"}
    job = hook().create_job({**EXPORT, "compression": "ALL"})
    assert job.operation == "EXPORT" and [r["dropped_keys"] for r in creates(ords_conn)] == [[]]
    for extra, field in [({"datapump_dir": "DP_DIR"}, "datapump_dir"), ({"file_name": "A%U.DMP"}, "file_name"),
                         ({"compression": "SOME"}, "compression")]:
        with pytest.raises(DataPumpValidationError) as err:
            hook().create_job({**EXPORT, **extra})
        assert err.value.field == field and "30.1.0" in err.value.reason
    with pytest.raises(DataPumpValidationError, match=r"declares no create endpoint for an import"):
        hook().create_job({**IMPORT})
    assert len(creates(ords_conn)) == 1


# ------------------------------------------------------------------ one read per worker, across processes
#
# Airflow 3 runs every task try in a process of its own, so the in-process cache alone would have
# fifty mapped tasks on one worker read the description fifty times. The worker's file under it
# is what these tests show. Eight processes stand in for fifty: each is forked from this one (a
# fresh interpreter costs seconds of imports on this 2-core machine) and shares no memory with it
# or the others after the fork; each checks it starts with nothing kept in memory.


def _task_try(results) -> None:
    """One task try in a process of its own: the create plan of an export, as the operator asks it."""
    import os

    from airflow_provider_datapump.hooks.ords import description

    try:
        kept = dict(description.CACHE._entries)
        endpoint, _ = DataPumpHook(retry_attempts=2, retry_backoff=0.05, retry_max_backoff=0.1).plan_create(EXPORT)
        results.put((os.getpid(), kept, endpoint))
    except BaseException as err:  # noqa: BLE001 - said to the parent, which fails the test
        results.put((os.getpid(), None, repr(err)))


def run_task_tries(count: int) -> list[tuple]:
    """``count`` task processes started together; what each said, once all have ended."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    procs = [ctx.Process(target=_task_try, args=(results,)) for _ in range(count)]
    try:
        for p in procs:
            p.start()
        said = [results.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(30)
        assert [p.exitcode for p in procs] == [0] * count
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
    return said


def files_dir():
    from pathlib import Path

    from airflow_provider_datapump.hooks.ords import description

    return Path(description.CACHE.directory or description.default_directory())


def the_file():
    found = list(files_dir().glob("*.json"))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("datapump_emulator", [{"openapi": "release"}], indirect=True)
def test_the_description_is_read_once_for_many_task_processes_on_one_worker(ords_conn):
    import os

    said = run_task_tries(1) + run_task_tries(7)
    assert len({pid for pid, _, _ in said} | {os.getpid()}) == 9
    assert [(kept, endpoint) for _, kept, endpoint in said] == [({}, "export")] * 8
    assert description_reads(ords_conn) == ["metadata-catalog/", "metadata-catalog/openapi.json"]


@pytest.mark.parametrize("datapump_emulator", [{"openapi": "release"}], indirect=True)
def test_task_processes_that_start_together_may_each_read_but_leave_one_whole_file(ords_conn):
    """Nothing holds a lock across processes: first reads at once may each fetch (and each write),
    but every one gets its description, no partial or stray file is left, and the next reads it."""
    said = run_task_tries(8)
    assert [(kept, endpoint) for _, kept, endpoint in said] == [({}, "export")] * 8
    reads = len(description_reads(ords_conn))
    assert 2 <= reads <= 16 and reads % 2 == 0
    assert [p.name for p in files_dir().iterdir()] == [the_file().name]  # no .tmp left behind
    assert run_task_tries(1)[0][2] == "export" and len(description_reads(ords_conn)) == reads


@pytest.mark.parametrize("datapump_emulator", [{"openapi": "release"}], indirect=True)
def test_a_worker_file_past_its_time_is_read_again(ords_conn):
    from airflow_provider_datapump.hooks.ords import description

    DataPumpHook().plan_create(EXPORT)
    path = the_file()
    doc = json.loads(path.read_bytes())
    # Another process (only the file is shared) finds it read 10 minutes and a second ago: read again.
    path.write_text(json.dumps({**doc, "read_at": doc["read_at"] - description.DESCRIPTION_TTL - 1}))
    description.CACHE.clear(files=False)
    DataPumpHook().plan_create(EXPORT)
    assert len(description_reads(ords_conn)) == 4
    # That read was written: the next process reads nothing.
    description.CACHE.clear(files=False)
    DataPumpHook().plan_create(EXPORT)
    assert len(description_reads(ords_conn)) == 4
    # One read 9.5 minutes ago is kept in a process for what is left of its 10, not 10 more.
    path.write_text(json.dumps({**json.loads(path.read_bytes()), "read_at": doc["read_at"] - 570}))
    description.CACHE.clear(files=False)
    DataPumpHook().plan_create(EXPORT)
    assert len(description_reads(ords_conn)) == 4
    (expires, _), = description.CACHE._entries.values()
    import time

    assert 0 < expires - time.monotonic() <= 30


def _corrupt(path, how: str, elsewhere) -> None:
    import os

    doc = json.loads(path.read_bytes())
    if how == "truncated":
        path.write_bytes(path.read_bytes()[:40])
    elif how == "not JSON":
        path.write_bytes(b"\x00\xff\xfe not json")
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "a property not an object":
        doc["endpoints"]["export"]["job_mode"] = "string"
        path.write_text(json.dumps(doc))
    elif how == "an endpoint the provider does not create through":
        doc["endpoints"]["drop_user"] = None
        path.write_text(json.dumps(doc))
    elif how == "another server's":
        doc["key"] = "0" * 64
        path.write_text(json.dumps(doc))
    elif how == "read in the future":
        doc["read_at"] += 3600
        path.write_text(json.dumps(doc))
    elif how == "writable by others":
        os.chmod(path, 0o666)
    elif how == "another user's":
        os.chown(path, 65534, 65534)
    elif how == "a symlink":
        target = elsewhere / path.name  # a valid file, but reached through a link
        path.rename(target)
        path.symlink_to(target)
    else:  # pragma: no cover
        raise AssertionError(how)


CORRUPTIONS = ["truncated", "not JSON", "empty", "a property not an object",
               "an endpoint the provider does not create through", "another server's", "read in the future",
               "writable by others", "another user's", "a symlink"]


@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "next", "openapi": "release"}], indirect=True)
@pytest.mark.parametrize("how", CORRUPTIONS)
def test_a_worker_file_that_cannot_be_trusted_is_ignored_and_read_again(ords_conn, how, tmp_path):
    import os

    from airflow_provider_datapump.hooks.ords import description

    if how == "another user's" and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    DataPumpHook().plan_create(EXPORT)
    _corrupt(the_file(), how, tmp_path)
    description.CACHE.clear(files=False)
    # The server's own description decides (it declares table_exists_action), read again.
    endpoint, body = hook().plan_create({**IMPORT, "table_exists_action": "SKIP"})
    assert endpoint == "import" and body["table_exists_action"] == "SKIP"
    assert len(description_reads(ords_conn)) == 4
    # The file is whole and ours again, and the next process takes it.
    path = the_file()
    assert not path.is_symlink() and path.stat().st_uid == os.geteuid() and path.stat().st_mode & 0o777 == 0o600
    description.CACHE.clear(files=False)
    assert hook().describe().description.version == "99.1.0" and len(description_reads(ords_conn)) == 4


@pytest.mark.parametrize("datapump_emulator", [{"openapi": "release"}], indirect=True)
def test_a_directory_others_may_write_to_is_not_used(ords_conn):
    import os

    from airflow_provider_datapump.hooks.ords import description

    DataPumpHook().plan_create(EXPORT)
    os.chmod(files_dir(), 0o777)
    try:
        description.CACHE.clear(files=False)
        DataPumpHook().plan_create(EXPORT)
        assert len(description_reads(ords_conn)) == 4
    finally:
        os.chmod(files_dir(), 0o700)


def test_a_server_that_describes_nothing_is_not_shared_across_processes(ords_conn):
    """A failure stays in its process: a 404 (as here), a 401 or a timeout is asked again by the
    next task process, and nothing is written."""
    from airflow_provider_datapump.hooks.ords import description

    assert DataPumpHook().describe().description is None
    description.CACHE.clear(files=False)
    assert DataPumpHook().describe().description is None
    assert description_reads(ords_conn) == ["metadata-catalog/", "metadata-catalog/"]
    assert not files_dir().exists() or list(files_dir().iterdir()) == []


@pytest.mark.parametrize("auth", ["basic", "oauth2"])
@pytest.mark.parametrize("datapump_emulator", [{"openapi": "release"}], indirect=True)
def test_the_worker_file_holds_no_credential(ords_conn, monkeypatch, auth):
    import os
    import stat

    from tests.credentials import CLIENT_ID, CLIENT_SECRET, PASSWORD

    if auth == "oauth2":
        conn = ords_conn.airflow_connection(login=CLIENT_ID, password=CLIENT_SECRET, extra=json.dumps({"auth_type": "oauth2"}))
        monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps(conn))
    DataPumpHook().plan_create(EXPORT)
    tokens = list(ords_conn.state._tokens)
    assert (auth == "oauth2") == bool(tokens)
    path = the_file()
    text = path.read_text()
    for secret in (PASSWORD, CLIENT_SECRET, *tokens):
        assert secret not in text and secret not in path.name
    assert json.loads(text)["endpoints"]["export"]["job_mode"]["enum"]  # it does hold the description
    assert stat.S_IMODE(os.stat(files_dir()).st_mode) == 0o700 and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_worker_file_is_per_server_and_gives_back_what_was_read(tmp_path):
    """Two connections (another id, user or auth) to one server share its file; another alias, API
    version, scheme or TLS verification does not. Every modelled release's description comes back from it as it was read."""
    from airflow_provider_datapump.emulator.versions import ORDS_VERSIONS
    from airflow_provider_datapump.hooks.ords.description import Described, DescriptionCache, parse_description
    from airflow_provider_datapump.hooks.ords.settings import OrdsSettings

    here = OrdsSettings(conn_id="a", base_url="https://db.example.com/ords/hr", login="hr", password="x1")
    key = DescriptionCache.file_key
    assert key(here) == key(OrdsSettings(conn_id="b", base_url="https://DB.example.com:443/ords/hr",
                                         auth_type="oauth2", login="c", password="x2"))
    assert len({key(here), key(OrdsSettings(conn_id="a", base_url="https://db.example.com/ords/scott")),
                key(OrdsSettings(conn_id="a", base_url="https://db.example.com/ords/hr", api_version="latest")),
                key(OrdsSettings(conn_id="a", base_url="http://db.example.com/ords/hr")),
                key(OrdsSettings(conn_id="a", base_url="https://db.example.com/ords/hr", verify=False))}) == 5
    for version in (*ORDS_VERSIONS, "next"):
        read = parse_description(release_description(version, "/ords/hr/_/db-api/stable"), "https://db.example.com/x")
        DescriptionCache(directory=str(tmp_path / "d")).put(here, Described(read))
        assert DescriptionCache(directory=str(tmp_path / "d")).get(here) == Described(read)
