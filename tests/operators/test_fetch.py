"""DataPumpFetchFilesOperator against the emulator over real HTTP: parallel verified copies into
file:// and memory://, faults mid-file, overwrite rules, hostile names, the XCom cap, job states,
and a 2 GiB dump with flat memory."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.helpers import wait_done

from airflow_provider_datapump.exceptions import (
    DataPumpError,
    DataPumpHTTPError,
    DataPumpLinkError,
    DataPumpTransferError,
    DataPumpValidationError,
)
from airflow_provider_datapump.jobs import Outcome
from airflow_provider_datapump.operators import fetch as fetch_module
from airflow_provider_datapump.operators.fetch import DataPumpFetchFilesOperator

HOOK_PARAMS = {"retry_attempts": 4, "retry_backoff": 0.05, "retry_max_backoff": 0.2}
EXPORT = {"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": [{"expression": "IN ('TESTUSER1')"}]}
EXPORT4 = {**EXPORT, "threads": 4}
MiB = 1 << 20


def export(hook, emu, payload=EXPORT, **scenario):
    emu.set_scenario(duration=0.05, **scenario)
    return wait_done(hook, hook.create_job(payload))


def fetch(job, **kwargs):
    op = DataPumpFetchFilesOperator(task_id="fetch", job=job, hook_params=HOOK_PARAMS, **kwargs)
    return op.execute(context={})


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def server_files(emu, job_name):
    """What the emulator serves, read from its disk: name -> bytes."""
    info = next(j for j in emu.jobs() if j["job_name"] == job_name)
    return {Path(p).name: Path(p).read_bytes() for p in [*info["dump_paths"], info["log_file"]]}


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def names_in(path: Path):
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def parts_in(path: Path):
    return [n for n in names_in(path) if ".part-" in n]


def file_gets(emu, suffix=".DMP"):
    return [r for r in emu.requests() if r["method"] == "GET" and r["path"].endswith(suffix)]


def max_overlap(requests):
    edges = sorted([(r["timestamp"], 1) for r in requests] + [(r["timestamp"] + r["duration"], -1) for r in requests])
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


@pytest.fixture
def memory_root():
    """A fresh folder in fsspec's in-memory filesystem, attached to Airflow's ObjectStoragePath.

    Airflow registers only file:// itself (other schemes come from providers), so memory:// must
    be attached once; the store is process-wide, hence a unique bucket per test.
    """
    import fsspec
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io import attach

    fs = fsspec.filesystem("memory")
    attach("memory", fs=fs)
    bucket = f"bucket-{uuid.uuid4().hex[:8]}"
    yield ObjectStoragePath(f"memory://{bucket}/x/")
    if fs.exists(f"/{bucket}"):
        fs.rm(f"/{bucket}", recursive=True)


# ------------------------------------------------------------------ parallel, verified, manifest


@pytest.mark.parametrize("where", ["file", "memory"])
def test_parallel_fetch_verifies_and_writes_manifest(fast_hook, ords_conn, tmp_path, memory_root, where):
    result = export(fast_hook, ords_conn, EXPORT4, dump_size=3 * MiB + 123)
    expected = server_files(ords_conn, result.job.job_name)
    assert sum(n.endswith(".DMP") for n in expected) == 4
    # Each dump GET waits 0.3 s first, so transfers overlap only if they run in parallel.
    ords_conn.add_fault(kind="delay", seconds=0.3, path=r"\.DMP$")
    if where == "file":
        destination = f"file://{tmp_path}/out/"  # a URL, as a DAG would pass it
        read = lambda name: (tmp_path / "out" / name).read_bytes()  # noqa: E731
        listing = lambda: names_in(tmp_path / "out")  # noqa: E731
    else:
        destination = memory_root  # an ObjectStoragePath
        read = lambda name: (memory_root / name).read_bytes()  # noqa: E731
        listing = lambda: sorted(p.name for p in memory_root.iterdir())  # noqa: E731

    out = fetch(result.to_xcom(), destination=destination, max_parallel=4)

    manifest_name = f"{result.job.job_name}.manifest.json"
    assert listing() == sorted([*expected, manifest_name])  # no .part- files, nothing else
    assert max_overlap(file_gets(ords_conn)) == 4
    manifest = json.loads(read(manifest_name))
    assert out["manifest"].endswith("/" + manifest_name)
    assert out["files"] == manifest["files"]
    assert {f["name"] for f in manifest["files"]} == set(expected)
    for entry in manifest["files"]:
        written = read(entry["name"])
        assert written == expected[entry["name"]]
        assert entry["sha256"] == sha256(written)
        assert entry["bytes"] == len(written)
        assert entry["kind"] == ("dump" if entry["name"].endswith(".DMP") else "log")
        assert entry["uri"].endswith("/" + entry["name"]) and "skipped" not in entry
    assert sum(len(b) for b in expected.values()) > 12 * MiB
    assert manifest["job"]["owner_name"] == result.job.owner_name
    assert manifest["job"]["job_name"] == result.job.job_name
    assert manifest["job"]["operation"] == "EXPORT" and manifest["job"]["outcome"] == "succeeded"
    assert manifest["job"]["self_url"] == result.self_url
    assert manifest["ords_base_url"] == ords_conn.base_url
    assert ords_conn.password not in json.dumps(manifest)
    assert {(o["schema"], o["name"], o["rows"]) for o in manifest["objects"]} == {("TESTUSER1", "EMP", 14), ("TESTUSER1", "DEPT", 4)}
    assert json.dumps(out)  # the XCom is JSON


def test_max_parallel_bounds_concurrent_transfers(fast_hook, ords_conn, tmp_path):
    result = export(fast_hook, ords_conn, EXPORT4)
    ords_conn.add_fault(kind="delay", seconds=0.3, path=r"\.DMP$")
    fetch(result.to_xcom(), files="dump", destination=f"file://{tmp_path}/", max_parallel=2)
    assert max_overlap(file_gets(ords_conn)) == 2
    assert len(names_in(tmp_path)) == 5  # 4 dumps and the manifest


# ------------------------------------------------------------------ faults


def test_dropped_once_restarts_in_a_fresh_temporary_file(fast_hook, ords_conn, tmp_path, monkeypatch):
    result = export(fast_hook, ords_conn, dump_size=3 * MiB + 7)
    expected = server_files(ords_conn, result.job.job_name)
    dump = next(n for n in expected if n.endswith(".DMP"))
    ords_conn.add_fault(kind="drop", after_bytes=MiB + 5, times=1, path=r"\.DMP$")
    temps, present = [], []
    real_init = fetch_module._HashingWriter.__init__

    def spy(self, path, *args, **kwargs):
        if path.name.startswith(f".{dump}.part-"):
            present.append([n for n in parts_in(tmp_path) if n.startswith(f".{dump}.")])
            temps.append(path.name)
        real_init(self, path, *args, **kwargs)

    monkeypatch.setattr(fetch_module._HashingWriter, "__init__", spy)

    out = fetch(result.to_xcom(), destination=f"file://{tmp_path}/")

    assert len(temps) == 2 and temps[0] != temps[1]
    assert present == [[], []]  # the broken attempt's partial file was gone before the retry began
    assert [r["faults"] for r in file_gets(ords_conn)] == [["drop"], []]
    assert (tmp_path / dump).read_bytes() == expected[dump]
    assert next(f for f in out["files"] if f["name"] == dump)["sha256"] == sha256(expected[dump])
    assert parts_in(tmp_path) == []


def test_dropped_every_time_fails_and_leaves_nothing(fast_hook, ords_conn, tmp_path):
    result = export(fast_hook, ords_conn, dump_size=2 * MiB)
    dump = next(f["name"] for f in result.files if f["kind"] == "dump")
    ords_conn.add_fault(kind="drop", after_bytes=MiB // 2, path=r"\.DMP$")

    with pytest.raises(DataPumpTransferError, match=rf"{dump}: received \d+ bytes but Content-Length announced {2 * MiB}"):
        fetch(result.to_xcom(), destination=f"file://{tmp_path}/")

    assert len(file_gets(ords_conn)) == HOOK_PARAMS["retry_attempts"]
    assert not (tmp_path / dump).exists()
    assert not (tmp_path / f"{result.job.job_name}.manifest.json").exists()
    assert parts_in(tmp_path) == []


def test_a_failed_file_stops_the_others(fast_hook, ords_conn, tmp_path):
    result = export(fast_hook, ords_conn, {**EXPORT, "threads": 2}, dump_size=8 * MiB)
    first, second = sorted(f["name"] for f in result.files if f["kind"] == "dump")
    ords_conn.add_fault(kind="status", status=404, path=re.escape(first) + "$")
    ords_conn.add_fault(kind="delay", seconds=0.5, path=re.escape(second) + "$")

    with pytest.raises(DataPumpHTTPError) as err:
        fetch(result.to_xcom(), files="dump", destination=f"file://{tmp_path}/")

    assert err.value.status == 404  # the cause, not the cancellation it caused
    assert names_in(tmp_path) == []  # the second one was cancelled before it was complete


# ------------------------------------------------------------------ overwrite rules


def test_existing_identical_files_are_skipped(fast_hook, ords_conn, tmp_path):
    result = export(fast_hook, ords_conn, EXPORT4)
    first = fetch(result.to_xcom(), destination=f"file://{tmp_path}/")
    stamps = {n: (tmp_path / n).stat().st_mtime_ns for n in names_in(tmp_path) if not n.endswith(".json")}

    again = fetch(result.to_xcom(), destination=f"file://{tmp_path}/")

    assert all(f["skipped"] for f in again["files"])
    assert [{k: v for k, v in f.items() if k != "skipped"} for f in again["files"]] == first["files"]
    assert {n: (tmp_path / n).stat().st_mtime_ns for n in stamps} == stamps
    manifest = json.loads((tmp_path / f"{result.job.job_name}.manifest.json").read_text())
    assert all(f["skipped"] for f in manifest["files"])
    assert parts_in(tmp_path) == []


@pytest.mark.parametrize("same_size", [True, False])
def test_existing_different_file_fails_untouched(fast_hook, ords_conn, tmp_path, same_size):
    result = export(fast_hook, ords_conn)
    dump = next(f["name"] for f in result.files if f["kind"] == "dump")
    size = len(server_files(ords_conn, result.job.job_name)[dump])
    mine = b"x" * (size if same_size else size + 1)
    (tmp_path / dump).write_bytes(mine)

    with pytest.raises(DataPumpError, match="exists with different content.*overwrite=True") as err:
        fetch(result.to_xcom(), destination=f"file://{tmp_path}/")

    if not same_size:  # decided from Content-Length, before the body was read
        assert "the server's copy has" in str(err.value)
    assert (tmp_path / dump).read_bytes() == mine
    assert not (tmp_path / f"{result.job.job_name}.manifest.json").exists()
    assert parts_in(tmp_path) == []


def test_overwrite_replaces(fast_hook, ords_conn, tmp_path):
    result = export(fast_hook, ords_conn)
    expected = server_files(ords_conn, result.job.job_name)
    dump = next(n for n in expected if n.endswith(".DMP"))
    (tmp_path / dump).write_bytes(b"stale")

    out = fetch(result.to_xcom(), destination=f"file://{tmp_path}/", overwrite=True)

    assert (tmp_path / dump).read_bytes() == expected[dump]
    entry = next(f for f in out["files"] if f["name"] == dump)
    assert entry["sha256"] == sha256(expected[dump]) and "skipped" not in entry
    assert parts_in(tmp_path) == []


# ------------------------------------------------------------------ hostile names

# The emulator only ever links the plain names it generates, and the operator re-reads the job's
# links from the server (the names in the XCom it is given are not used), so hostile names need a
# stubbed ORDS: respx answers the job and log GETs (httpx). File bodies use http.client, which
# respx does not see: a download would fail on ords.invalid's DNS, not with DataPumpLinkError.
FAKE_BASE = "http://ords.invalid/ords/dbapi_user"
FAKE_JOB = f"{FAKE_BASE}/_/db-api/stable/database/datapump/jobs/DBAPI_USER,DATAPUMP_REST_EXPORT_1/"
FINAL = 'Job "DBAPI_USER"."DATAPUMP_REST_EXPORT_1" successfully completed at Mon Nov 3 10:00:00 2025 elapsed 0 00:00:01'


@pytest.mark.parametrize(
    "name",
    [
        "../../evil.DMP",
        "..\\evil.DMP",
        "/etc/evil.DMP",
        "sub/evil.DMP",
        "evil\n.DMP",
        "evil\x00.DMP",
        "..",
        ".hidden.DMP",  # the hook lets these through; the operator writes only plain names
        "evil name.DMP",
        "évil.DMP",
    ],
)
def test_hostile_file_names_are_refused(monkeypatch, tmp_path, name):
    import respx

    monkeypatch.setenv(
        "AIRFLOW_CONN_ORDS_DEFAULT",
        json.dumps({"conn_type": "ords", "host": FAKE_BASE, "login": "dbapi_user", "password": "pw"}),
    )
    body = {
        "owner_name": "DBAPI_USER",
        "job_name": "DATAPUMP_REST_EXPORT_1",
        "operation": "EXPORT",
        "job_mode": "SCHEMA",
        "state": "NOT RUNNING",
        "job_state": "COMPLETED",
        "job_comment": FINAL,
        "links": [
            {"rel": "self", "href": FAKE_JOB},
            {"rel": "enclosure", "href": FAKE_JOB + "EXPDAT01.DMP"},
            {"rel": "enclosure", "href": FAKE_JOB + quote(name, safe="")},
            {"rel": "related", "href": FAKE_JOB + "EXPDAT.LOG"},
        ],
    }
    xcom = {"owner_name": "DBAPI_USER", "job_name": "DATAPUMP_REST_EXPORT_1", "self_url": FAKE_JOB,
            "files": [{"name": name, "kind": "dump", "url": FAKE_JOB + quote(name, safe="")}]}
    dest = tmp_path / "a" / "b"
    with respx.mock(assert_all_called=False) as ords:
        ords.get(FAKE_JOB).respond(json=body)
        ords.get(FAKE_JOB + "EXPDAT.LOG").respond(text=FINAL + "\n")
        with pytest.raises(DataPumpLinkError, match="refusing"):
            fetch(xcom, destination=f"file://{dest}/")
    assert list(tmp_path.rglob("*")) == []


# ------------------------------------------------------------------ XCom mode


def test_log_to_xcom(fast_hook, ords_conn):
    result = export(fast_hook, ords_conn)
    log = next(f["name"] for f in result.files if f["kind"] == "log")
    text = fetch(result.to_xcom(), files="log")
    assert text == fast_hook.get_file_text(result.to_xcom(), log)
    assert "successfully completed" in text


def test_log_to_xcom_of_an_import_is_its_own_log(fast_hook, ords_conn):
    exported = export(fast_hook, ords_conn)
    imported = export(fast_hook, ords_conn, payload={
        "operation": "IMPORT", "job_mode": "SCHEMA", "file_name": exported.dump_file_template,
        "schema_expressions": [{"expression": "IN ('TESTUSER1')"}],
        "remap_schemas": [{"source": "TESTUSER1", "target": "TESTUSER2"}]})
    assert len([f for f in imported.files if f["kind"] == "log"]) == 2  # the export's log and its own
    text = fetch(imported.to_xcom(), files="log")
    assert imported.job.job_name in text and '"TESTUSER2"."EMP"' in text


def test_xcom_cap_is_checked_before_the_body_is_read(fast_hook, ords_conn, monkeypatch):
    result = export(fast_hook, ords_conn)
    log = next(f["name"] for f in result.files if f["kind"] == "log")
    size = len(fast_hook.get_file_text(result.to_xcom(), log).encode())
    written = []
    monkeypatch.setattr(fetch_module._CappedBuffer, "write", lambda self, data: written.append(len(data)))
    ords_conn.clear_requests()

    with pytest.raises(DataPumpValidationError, match=rf"max_xcom_bytes: {log} is {size} bytes, over the 100-byte") as err:
        fetch(result.to_xcom(), files="log", max_xcom_bytes=100)

    assert err.value.field == "max_xcom_bytes"
    assert written == []  # refused on Content-Length: no byte of the body reached the buffer
    # One GET is resolve reading the log for the verdict, the other the refused download (not
    # retried); the server logs the refused one once it notices the closed connection.
    # The refused one had sent its headers, so it had begun: wait_idle waits for it to be logged.
    assert ords_conn.wait_idle(5)
    assert len(file_gets(ords_conn, ".LOG")) == 2


def test_dumps_to_xcom_are_refused_at_construction():
    with pytest.raises(DataPumpValidationError, match="destination") as err:
        DataPumpFetchFilesOperator(task_id="fetch", job="A,B", files=("dump",))
    assert err.value.field == "files"
    with pytest.raises(DataPumpValidationError):
        DataPumpFetchFilesOperator(task_id="fetch", job="A,B", files=("log", "core"), destination="file:///tmp/x/")


# ------------------------------------------------------------------ job states


def test_running_job_is_refused(fast_hook, ords_conn, tmp_path):
    ords_conn.set_scenario(duration=30)
    job = fast_hook.create_job(EXPORT)
    with pytest.raises(DataPumpError, match="still running.*DataPumpJobSensor"):
        fetch(job.ident, destination=f"file://{tmp_path}/out/")
    assert not (tmp_path / "out").exists()
    assert file_gets(ords_conn) == [] and file_gets(ords_conn, ".LOG") == []


def test_failed_job_dumps_are_refused_but_its_log_can_be_fetched(fast_hook, ords_conn, tmp_path):
    result = export(fast_hook, ords_conn, outcome="fatal")
    assert result.verdict.outcome is Outcome.FAILED

    with pytest.raises(DataPumpError, match=r"ended failed.*files=\['log'\]"):
        fetch(result.to_xcom(), destination=f"file://{tmp_path}/")
    assert names_in(tmp_path) == []

    out = fetch(result.to_xcom(), files=("log",), destination=f"file://{tmp_path}/")
    log = next(f["name"] for f in result.files if f["kind"] == "log")
    assert [f["name"] for f in out["files"]] == [log]
    assert "stopped due to fatal error" in (tmp_path / log).read_text()
    assert names_in(tmp_path) == sorted([log, f"{result.job.job_name}.manifest.json"])
    assert "stopped due to fatal error" in fetch(result.to_xcom(), files="log")


# ------------------------------------------------------------------ 2 GiB, flat memory

_BIG_FETCH = textwrap.dedent(
    """
    import json, sys, time
    from airflow.sdk import ObjectStoragePath  # imported before measuring: code, not transfer
    from airflow_provider_datapump.hooks.datapump import DataPumpHook
    from airflow_provider_datapump.operators.fetch import DataPumpFetchFilesOperator

    def status(key):
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key + ":"))

    op = DataPumpFetchFilesOperator(task_id="fetch", job=sys.argv[1], files="dump", destination=sys.argv[2])
    op.hook.settings, op.hook.client  # connection lookup and client set-up are not the transfer
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset VmHWM so that the peak is the transfer's
    except OSError:
        pass
    before = status("VmRSS")
    start = time.monotonic()
    out = op.execute(context={})
    elapsed = time.monotonic() - start
    print(json.dumps({"rss_before": before, "hwm_after": status("VmHWM"), "seconds": elapsed, "files": out["files"]}))
    """
)


def test_two_gib_dump_streams_with_flat_memory(fast_hook, ords_conn, tmp_path):
    size = 2 * 1024**3
    result = export(fast_hook, ords_conn, dump_size=size)
    (dump,) = [f["name"] for f in result.files if f["kind"] == "dump"]
    env = {**os.environ, "AIRFLOW_CONN_ORDS_DEFAULT": json.dumps(ords_conn.airflow_connection())}

    proc = subprocess.run(
        [sys.executable, "-c", _BIG_FETCH, result.job.ident, f"file://{tmp_path}/"],
        env=env, capture_output=True, text=True, timeout=240,
    )

    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    growth = report["hwm_after"] - report["rss_before"]
    rate = size / report["seconds"] / MiB
    print(f"\n2 GiB fetch: {report['seconds']:.2f} s, {rate:.0f} MiB/s, RSS growth {growth / MiB:.1f} MiB")
    assert growth < 64 * MiB, f"memory grew by {growth / MiB:.1f} MiB"
    (entry,) = report["files"]
    assert entry["bytes"] == (tmp_path / dump).stat().st_size == size
    assert entry["sha256"] == file_sha256(tmp_path / dump)
    assert parts_in(tmp_path) == []
