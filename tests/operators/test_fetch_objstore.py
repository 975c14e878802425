"""DataPumpFetchFilesOperator into real store APIs: S3 (moto's server mode), GCS (gcp-storage-emulator)
and Azure Blob (Azurite), each a local server on 127.0.0.1 started here, reached through Airflow's
own providers with Airflow connections, as a DAG reaches the real store.

What is checked on every store: a %U dump set lands whole with nothing else beside it; a download
that drops mid-file leaves no object and no open upload; overwrite=False keeps an identical object
and refuses a different one without touching it. On S3 the server's own request log shows each dump
sent once (no temporary key, no copy) and the manifest completed last.
"""

from __future__ import annotations

import hashlib
import json
import re
import time

import pytest

from tests.operators.test_fetch import HOOK_PARAMS, export, fetch
from tests.stores import StoreUnavailable, attach_filesystems, running

from airflow_provider_datapump.exceptions import DataPumpError, DataPumpTransferError
from airflow_provider_datapump.operators import _storage
from airflow_provider_datapump.operators.fetch import DataPumpFetchFilesOperator

EXPORT = {"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": [{"expression": "IN ('TESTUSER1')"}]}
MiB = 1 << 20
STORES = ("s3", "gcs", "azure")
# Small parts, so that a few MiB make a multipart upload: S3's smallest part, and GCS's chunk unit.
SMALL_PART = {"s3": 5 * MiB, "gcs": 1 * MiB, "azure": 1 * MiB}
FS_CLASS = {"s3": "s3fs.core.S3FileSystem", "gcs": "gcsfs.core.GCSFileSystem", "azure": "adlfs.spec.AzureBlobFileSystem"}


@pytest.fixture(scope="module", params=STORES)
def server(request):
    try:
        with running(request.param) as store:
            yield store
    except StoreUnavailable as err:
        pytest.skip(f"{request.param} server unavailable: {err}")


@pytest.fixture
def store(server, monkeypatch, ords_conn):
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    attach_filesystems()
    yield server
    attach_filesystems()


@pytest.fixture
def small_parts(store, monkeypatch):
    """The store's policy with a small default part, so that a few MiB take several parts."""
    key = FS_CLASS[store.kind]
    policy = _storage._POLICIES[key]
    monkeypatch.setitem(_storage._POLICIES, key, _replace(policy, default_part=SMALL_PART[store.kind]))
    return policy


def _replace(policy, **changes):
    import dataclasses

    return dataclasses.replace(policy, **changes)


def served(emu, job_name):
    from pathlib import Path

    info = next(j for j in emu.jobs() if j["job_name"] == job_name)
    return {Path(p).name: Path(p).read_bytes() for p in [*info["dump_paths"], info["log_file"]]}


def in_prefix(listing, prefix):
    return {k.removeprefix(prefix): v for k, v in listing.items() if k.startswith(prefix)}


def test_the_store_is_recognised_from_its_filesystem(store):
    from airflow.sdk import ObjectStoragePath

    bucket = store.new_bucket()
    policy = _storage.policy_for(ObjectStoragePath(store.url(bucket, "x/")).fs)
    assert policy is _storage._POLICIES[FS_CLASS[store.kind]] and policy.direct


def test_dump_set_lands_whole_with_nothing_beside_it(store, small_parts, fast_hook, ords_conn):
    result = export(fast_hook, ords_conn, {**EXPORT, "threads": 3, "file_name": "NIGHTLY_%U.DMP"}, dump_size=6 * MiB + 123)
    expected = served(ords_conn, result.job.job_name)
    assert sum(n.endswith(".DMP") for n in expected) == 3
    bucket = store.new_bucket()

    out = fetch(result.to_xcom(), destination=store.url(bucket, "nightly/"), max_parallel=3)

    manifest_name = f"{result.job.job_name}.manifest.json"
    listing = store.list(bucket)
    assert sorted(listing) == sorted(f"nightly/{n}" for n in [*expected, manifest_name])
    for name, data in expected.items():
        assert listing[f"nightly/{name}"] == data
    manifest = json.loads(listing[f"nightly/{manifest_name}"])
    assert manifest["files"] == out["files"]
    assert {f["name"]: f["sha256"] for f in manifest["files"]} == {n: hashlib.sha256(d).hexdigest() for n, d in expected.items()}
    assert all(f["uri"].startswith(store.url(bucket, "nightly/").split("@")[0]) for f in manifest["files"])
    assert store.pending_uploads(bucket) == []


@pytest.mark.parametrize("server", ["s3"], indirect=True)
def test_s3_sends_each_dump_once_and_the_manifest_last(store, small_parts, fast_hook, ords_conn):
    """The moto server's access log: which keys were touched, how, and in which order."""
    result = export(fast_hook, ords_conn, {**EXPORT, "threads": 2}, dump_size=12 * MiB + 5)
    dumps = sorted(f["name"] for f in result.files if f["kind"] == "dump")
    bucket = store.new_bucket()
    operations = _count_s3_operations(store.url(bucket, "p/"))

    fetch(result.to_xcom(), files="dump", destination=store.url(bucket, "p/"), max_parallel=2)

    time.sleep(0.2)  # the access log line is written after the response
    requests = store.requests(bucket)
    touched = {re.sub(r"\?.*", "", path).removeprefix(f"/{bucket}/") for _, path in requests} - {f"/{bucket}", f"/{bucket}/"}
    manifest = f"p/{result.job.job_name}.manifest.json"
    assert touched == {f"p/{d}" for d in dumps} | {manifest}, "a key other than the final names was touched"
    assert not any(method == "DELETE" for method, _ in requests)
    for dump in dumps:
        mine = [(m, p) for m, p in requests if p.split("?")[0] == f"/{bucket}/p/{dump}"]
        parts = [p for m, p in mine if m == "PUT" and "partNumber=" in p]
        # 12 MiB in 5 MiB parts: 3 parts, each sent once, then one completion.
        assert len(parts) == 3 and len(set(parts)) == 3
        assert sum(1 for m, p in mine if m == "POST" and p.endswith("?uploads")) == 1
        assert sum(1 for m, p in mine if m == "POST" and "uploadId=" in p) == 1
    # The manifest, smaller than a part, is one PutObject, sent after every dump's completion.
    completions = [i for i, (m, p) in enumerate(requests) if m == "POST" and "uploadId=" in p]
    (manifest_put,) = [i for i, (m, p) in enumerate(requests) if m == "PUT" and p.split("?")[0] == f"/{bucket}/{manifest}"]
    assert len(completions) == len(dumps) and manifest_put > max(completions)
    assert "CopyObject" not in operations and "UploadPartCopy" not in operations
    assert operations["UploadPart"] == 3 * len(dumps) and operations["PutObject"] == 1
    assert store.pending_uploads(bucket) == []


def _count_s3_operations(url):
    """Count the S3 API operations (by name) that the destination's own client sends, through
    botocore's event system on the s3fs instance Airflow made for the connection."""
    from collections import Counter

    from airflow.sdk import ObjectStoragePath

    seen: Counter = Counter()
    fs = ObjectStoragePath(url).fs
    fs.connect()  # s3fs makes its client lazily; made here, so that the hook sees every call
    client = fs.s3

    def count(model, **_):
        seen[model.name] += 1

    client.meta.events.register("before-call.s3", count)
    return seen


@pytest.mark.parametrize("server", ["s3"], indirect=True)
def test_parts_are_sized_from_content_length(store, small_parts, fast_hook, ords_conn, monkeypatch):
    """With the part limit lowered to 2, a 12 MiB file goes in 2 parts of 6 MiB, not 3 of 5 MiB."""
    key = FS_CLASS["s3"]
    monkeypatch.setitem(_storage._POLICIES, key, _replace(_storage._POLICIES[key], max_parts=2))
    result = export(fast_hook, ords_conn, dump_size=12 * MiB)
    (dump,) = [f["name"] for f in result.files if f["kind"] == "dump"]
    bucket = store.new_bucket()

    fetch(result.to_xcom(), files="dump", destination=store.url(bucket))

    time.sleep(0.2)
    parts = [p for m, p in store.requests(bucket) if m == "PUT" and p.startswith(f"/{bucket}/{dump}?") and "partNumber=" in p]
    assert len(parts) == 2
    assert len(store.list(bucket)[dump]) == 12 * MiB


@pytest.mark.parametrize("times", [None, 1], ids=["drops-every-time", "drops-once"])
def test_a_dropped_download_leaves_nothing_behind(store, small_parts, fast_hook, ords_conn, times):
    # 12 MiB in small parts, dropped after 7 MiB: at least one part is already uploaded when it drops.
    result = export(fast_hook, ords_conn, dump_size=12 * MiB)
    (dump,) = [f["name"] for f in result.files if f["kind"] == "dump"]
    ords_conn.add_fault(kind="drop", after_bytes=7 * MiB, path=r"\.DMP$", **({"times": times} if times else {}))
    bucket = store.new_bucket()

    if times is None:
        with pytest.raises(DataPumpTransferError, match=rf"{dump}: received \d+ bytes but Content-Length announced"):
            fetch(result.to_xcom(), files="dump", destination=store.url(bucket))
        assert store.list(bucket) == {}
    else:
        fetch(result.to_xcom(), files="dump", destination=store.url(bucket))
        assert store.list(bucket)[dump] == served(ords_conn, result.job.job_name)[dump]
        assert sorted(store.list(bucket)) == sorted([dump, f"{result.job.job_name}.manifest.json"])
    pending = store.pending_uploads(bucket)
    if store.kind == "gcs" and times is None:
        # Every resumable session cancelled (the DELETE that tests/gcs_emulator.py adds to the
        # emulator, as GCS documents it).
        assert len(re.findall(r'"DELETE /upload/storage/v1/b/' + bucket, store.log.read_text())) == HOOK_PARAMS["retry_attempts"]
    if store.kind == "azure":
        # The staged blocks of every failed attempt are deleted with the name they were staged
        # under: the listing that includes uncommitted blobs shows nothing but what was committed.
        assert store.names_with_uncommitted(bucket) == sorted(store.list(bucket))
    # S3: no multipart upload open; GCS: no resumable session; Azure: no uncommitted block.
    assert pending == []


@pytest.mark.parametrize("server", ["azure"], indirect=True)
def test_azure_cleanup_never_touches_a_committed_blob(store, small_parts, fast_hook, ords_conn):
    """overwrite=True over an existing blob, every attempt dropped: the blob keeps its bytes and its
    ETag. Azure offers no call that drops staged blocks beside a committed blob without deleting or
    rewriting that blob, so those blocks are left (documented) until Azure expires them or the
    next upload commits."""
    result = export(fast_hook, ords_conn, dump_size=12 * MiB)
    (dump,) = [f["name"] for f in result.files if f["kind"] == "dump"]
    bucket = store.new_bucket()
    store.put(bucket, dump, b"yesterday's dump")
    blob = store.client().get_container_client(bucket).get_blob_client(dump)
    etag = blob.get_blob_properties().etag
    ords_conn.add_fault(kind="drop", after_bytes=7 * MiB, path=r"\.DMP$")

    with pytest.raises(DataPumpTransferError):
        fetch(result.to_xcom(), files="dump", destination=store.url(bucket), overwrite=True)

    assert store.list(bucket) == {dump: b"yesterday's dump"}
    assert blob.get_blob_properties().etag == etag
    assert store.uncommitted_blocks(bucket, [dump])[dump] >= 1  # the documented case

    # The next upload of that name commits its own block list, which drops the leftovers.
    ords_conn.clear_faults()
    fetch(result.to_xcom(), files="dump", destination=store.url(bucket), overwrite=True)
    assert store.list(bucket)[dump] == served(ords_conn, result.job.job_name)[dump]
    assert store.pending_uploads(bucket) == []


@pytest.mark.parametrize("differs", [None, "same-size", "other-size"])
def test_overwrite_false_against_an_existing_object(store, fast_hook, ords_conn, differs):
    result = export(fast_hook, ords_conn)
    expected = served(ords_conn, result.job.job_name)
    dump = next(n for n in expected if n.endswith(".DMP"))
    bucket = store.new_bucket()
    mine = {None: expected[dump], "same-size": b"x" * len(expected[dump]), "other-size": b"x" * 10}[differs]
    store.put(bucket, dump, mine)
    before = store.list(bucket)

    if differs:
        with pytest.raises(DataPumpError, match="exists with different content.*overwrite=True"):
            fetch(result.to_xcom(), destination=store.url(bucket))
        after = store.list(bucket)
        assert after[dump] == before[dump] == mine  # untouched
        assert f"{result.job.job_name}.manifest.json" not in after
    else:
        out = fetch(result.to_xcom(), destination=store.url(bucket))
        assert next(f for f in out["files"] if f["name"] == dump)["skipped"] is True
        assert store.list(bucket)[dump] == mine
    assert store.pending_uploads(bucket) == []


def test_overwrite_true_replaces_in_one_upload(store, fast_hook, ords_conn):
    result = export(fast_hook, ords_conn)
    expected = served(ords_conn, result.job.job_name)
    dump = next(n for n in expected if n.endswith(".DMP"))
    bucket = store.new_bucket()
    store.put(bucket, dump, b"stale")

    fetch(result.to_xcom(), destination=store.url(bucket), overwrite=True)

    listing = store.list(bucket)
    assert listing[dump] == expected[dump]
    assert sorted(listing) == sorted([*expected, f"{result.job.job_name}.manifest.json"])
    assert store.pending_uploads(bucket) == []


def test_a_killed_task_abandons_its_upload(store, small_parts, fast_hook, ords_conn, monkeypatch):
    """on_kill while a dump is mid-upload (parts already sent): nothing is left on the store."""
    from airflow_provider_datapump.operators import fetch as fetch_module

    result = export(fast_hook, ords_conn, dump_size=16 * MiB)
    bucket = store.new_bucket()
    op = DataPumpFetchFilesOperator(task_id="fetch", job=result.to_xcom(), files="dump",
                                    destination=store.url(bucket), hook_params=HOOK_PARAMS)
    real_write = fetch_module._HashingWriter.write
    sent_before_kill = []

    def write(self, data):
        if self.bytes >= 11 * MiB and not sent_before_kill:
            sent_before_kill.append(self.bytes)
            op.on_kill()  # what Airflow calls when the task is stopped
        return real_write(self, data)

    monkeypatch.setattr(fetch_module._HashingWriter, "write", write)

    with pytest.raises(DataPumpError, match="transfer cancelled"):
        op.execute(context={})

    assert sent_before_kill  # killed mid-file, after two parts of 5 MiB (or more smaller ones) went out
    assert store.list(bucket) == {}
    assert store.pending_uploads(bucket) == []
    if store.kind == "azure":
        assert store.names_with_uncommitted(bucket) == []
