"""Dump and log files: streaming, sizes, headers, Range, object storage."""

from __future__ import annotations

import hashlib
import json
import os
import tracemalloc

import httpx
import pytest

from airflow_provider_datapump.emulator.dumpfiles import DUMP_MAGIC, read_dump_header

EXPORT = {"operation": "EXPORT", "filter": "TESTUSER1", "datapump_dir": "TEST_DIR"}
SIZE = 64 * 1024 * 1024

# These tests create through POST jobs/, which ORDS documents up to 24.4.
pytestmark = pytest.mark.parametrize("datapump_emulator", ["24.4"], indirect=True)


def test_big_dump_streams_without_buffering(client, emu, h):
    emu.set_scenario(dump_size=SIZE)
    _, done = h.run_job(client, EXPORT)
    dump = h.links(done, "enclosure")[0]
    path = emu.jobs()[0]["dump_paths"][0]
    assert os.stat(path).st_size == SIZE
    # Sparse: the padding occupies (almost) no blocks on disk.
    assert os.stat(path).st_blocks * 512 < SIZE // 4

    tracemalloc.start()
    try:
        digest = hashlib.sha256()
        received = 0
        with client.stream("GET", dump) as r:
            assert r.status_code == 200
            assert r.headers["content-type"] == "application/vnd.tcpdump.pcap"
            assert int(r.headers["content-length"]) == SIZE
            assert "accept-ranges" not in r.headers
            first = True
            for chunk in r.iter_raw(1024 * 1024):
                if first:
                    assert chunk.startswith(DUMP_MAGIC)
                    first = False
                digest.update(chunk)
                received += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == SIZE
    # Client and server share this process: neither held the file in memory.
    assert peak < 16 * 1024 * 1024, peak
    with open(path, "rb") as fh:
        expected = hashlib.sha256()
        for block in iter(lambda: fh.read(1 << 20), b""):
            expected.update(block)
    assert digest.hexdigest() == expected.hexdigest()


def test_natural_size_and_header(client, emu, h):
    _, done = h.run_job(client, EXPORT)
    r = client.get(h.links(done, "enclosure")[0])
    assert len(r.content) % 4096 == 0 and len(r.content) > 8992 + 6168
    header = json.loads(r.content[len(DUMP_MAGIC) :].split(b"\n", 1)[0])
    assert header["job_name"] == done["job_name"]
    assert header["schemas"] == ["TESTUSER1"]
    assert {(t["schema"], t["name"], t["rows"]) for t in header["tables"]} == {("TESTUSER1", "EMP", 14), ("TESTUSER1", "DEPT", 4)}


def test_threads_spread_tables_and_every_file_is_self_describing(client, emu, h):
    _, done = h.run_job(client, {"operation": "EXPORT", "job_mode": "FULL", "threads": 2, "file_name": "FULL_%U.DMP"})
    names = [u.rsplit("/", 1)[1] for u in h.links(done, "enclosure")]
    assert names == ["FULL_01.DMP", "FULL_02.DMP"]
    headers = [read_dump_header(p) for p in emu.jobs()[0]["dump_paths"]]
    assert [hd["file_index"] for hd in headers] == [1, 2]
    assert all(hd["file_count"] == 2 and len(hd["tables"]) == 4 for hd in headers)
    assert sorted(sum((hd["file_tables"] for hd in headers), [])) == sorted(f"{t['schema']}.{t['name']}" for t in headers[0]["tables"])


def test_incomplete_dump_set_refused(client, emu, h):
    h.run_job(client, {"operation": "EXPORT", "job_mode": "FULL", "threads": 2, "file_name": "SET_%U.DMP"})
    r = client.post("jobs/", json={"operation": "IMPORT", "job_mode": "FULL", "file_name": "SET_01.DMP"})
    assert "ORA-39059" in h.assert_problem(r, 400)["message"]
    # Same second: the refused import took no job name (nor log file), so this one may have them.
    r = client.post("jobs/", json={"operation": "IMPORT", "job_mode": "FULL", "file_name": "SET_%U.DMP"})
    assert r.status_code == 201


def test_log_is_text_plain_with_length(client, emu, h):
    _, done = h.run_job(client, EXPORT)
    r = client.get(h.links(done, "related")[0])
    assert r.headers["content-type"].startswith("text/plain")
    assert int(r.headers["content-length"]) == len(r.content)


def test_range_support_flag(client, emu, h):
    emu.set_scenario(dump_size=10_000)
    _, done = h.run_job(client, EXPORT)
    dump = h.links(done, "enclosure")[0]
    full = client.get(dump).content
    assert client.get(dump, headers={"Range": "bytes=0-9"}).status_code == 200  # ignored by default
    emu.set_scenario(range_support=True)
    r = client.get(dump, headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == full[10:20]
    assert r.headers["content-range"] == "bytes 10-19/10000" and r.headers["accept-ranges"] == "bytes"
    r = client.get(dump, headers={"Range": "bytes=9990-"})
    assert r.status_code == 206 and r.content == full[9990:]
    r = client.get(dump, headers={"Range": "bytes=-5"})
    assert r.content == full[-5:]
    h.assert_problem(client.get(dump, headers={"Range": "bytes=20000-"}), 416)
    assert client.get(dump, headers={"Range": "bytes=0-1,5-6"}).status_code == 200


def test_object_store_export_and_import(client, emu, h):
    uri = "https://objectstorage.example.com/n/tenancy/b/bucket/o/schema_%U.dmp"
    _, done = h.run_job(client, {**EXPORT, "credential_name": "OBJ_CRED", "file_name": uri, "threads": 2})
    assert h.links(done, "enclosure") == []  # objects are not served from a directory
    objects = httpx.get(emu.url + "/_emulator/objects").json()
    assert objects == [uri.replace("%U", "01"), uri.replace("%U", "02")]
    log = client.get(h.links(done, "related")[0]).text
    assert f"  {uri.replace('%U', '01')}" in log
    # Without the credential the URI is just a bad file name.
    h.assert_problem(client.post("jobs/", json={"operation": "IMPORT", "file_name": uri}), 400)
    _, imp = h.run_job(
        client,
        {"operation": "IMPORT", "credential_name": "OBJ_CRED", "file_name": uri, "remap_schemas": [{"source": "TESTUSER1", "target": "CLOUD_COPY"}]},
    )
    assert imp["job_state"] == "COMPLETED"
    assert set(emu.catalog()["schemas"]["CLOUD_COPY"]["tables"]) == {"EMP", "DEPT"}
    missing = uri.replace("schema_", "other_")
    h.assert_problem(client.post("jobs/", json={"operation": "IMPORT", "credential_name": "OBJ_CRED", "file_name": missing}), 400)


def test_reset_removes_files(client, emu, h):
    _, done = h.run_job(client, EXPORT)
    path = emu.jobs()[0]["dump_paths"][0]
    assert os.path.exists(path)
    emu.reset()
    assert not os.path.exists(path)
    assert client.get("jobs/").json()["count"] == 0


@pytest.mark.parametrize("directory", ["DATA_PUMP_DIR", "my_dir"])
def test_directories_are_created_lazily(client, emu, h, directory):
    _, done = h.run_job(client, {**EXPORT, "datapump_dir": directory})
    path = emu.jobs()[0]["dump_paths"][0]
    assert os.path.basename(os.path.dirname(path)) == directory.upper()
