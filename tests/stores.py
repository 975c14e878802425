"""Local S3, GCS and Azure Blob servers for the object-storage tests and bench/objstore.py.

Each server runs in a process of its own on 127.0.0.1 (moto's server mode, gcp-storage-emulator,
Azurite from npm), reached through Airflow's own providers with an Airflow connection, as a user's
DAG would reach the real store. A server that cannot start raises ``StoreUnavailable`` naming the
command that installs it; the tests turn that into a skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.request import urlopen

# gcsfs (2026.x) probes each bucket's layout through the gRPC Storage Control API, which the
# emulator does not serve: every probe waited 60 s for a TLS handshake on 127.0.0.1 before gcsfs
# fell back to the JSON API. Read when gcsfs is imported, so set before any test imports it.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

ROOT = Path(__file__).resolve().parents[1]
AZURITE = ROOT / "tools" / "node" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's published development account (https://learn.microsoft.com/azure/storage/common/storage-use-azurite).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
MOTO_KEY_ID, MOTO_SECRET = "testing", "testing"


class StoreUnavailable(RuntimeError):
    """A local store server could not start; the message names the command that fixes it."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, log: Path, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StoreUnavailable(f"{what} exited ({proc.returncode}): {log.read_text()[-1500:]}")
        try:
            with urlopen(url, timeout=2):
                return
        except OSError as err:
            if getattr(err, "code", None):  # an HTTP error status: the server answers
                return
            time.sleep(0.1)
    raise StoreUnavailable(f"{what} did not answer on {url} within {timeout:.0f} s")


class Store:
    """One running server: its Airflow connection, a destination URL maker, and an inspector."""

    kind = ""
    conn_id = ""

    def __init__(self, proc: subprocess.Popen, port: int, workdir: Path, log: Path) -> None:
        self.proc, self.port, self.workdir, self.log = proc, port, workdir, log
        self.endpoint = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def connection(self) -> dict[str, Any]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return {f"AIRFLOW_CONN_{self.conn_id.upper()}": json.dumps(self.connection())}

    def url(self, bucket: str, prefix: str = "") -> str:
        raise NotImplementedError

    def new_bucket(self) -> str:
        raise NotImplementedError

    def list(self, bucket: str) -> dict[str, bytes]:
        """Every committed object in the bucket: key -> bytes."""
        raise NotImplementedError

    def put(self, bucket: str, key: str, data: bytes) -> None:
        raise NotImplementedError

    def pending_uploads(self, bucket: str) -> list[str]:
        """Uploads begun and neither completed nor aborted, as far as the server shows them."""
        raise NotImplementedError


class S3Store(Store):
    kind, conn_id = "s3", "s3_objstore"

    def connection(self) -> dict[str, Any]:
        return {"conn_type": "aws", "login": MOTO_KEY_ID, "password": MOTO_SECRET,
                "extra": {"endpoint_url": self.endpoint, "region_name": "us-east-1"}}

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=MOTO_KEY_ID, aws_secret_access_key=MOTO_SECRET)

    def url(self, bucket: str, prefix: str = "") -> str:
        return f"s3://{self.conn_id}@{bucket}/{prefix}"

    def new_bucket(self) -> str:
        name = f"dp-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def list(self, bucket: str) -> dict[str, bytes]:
        c = self.client()
        keys = [o["Key"] for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in page.get("Contents", [])]
        return {k: c.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.client().put_object(Bucket=bucket, Key=key, Body=data)

    def pending_uploads(self, bucket: str) -> list[str]:
        out = self.client().list_multipart_uploads(Bucket=bucket)
        return [u["Key"] for u in out.get("Uploads", [])]

    def requests(self, bucket: str) -> list[tuple[str, str]]:
        """(method, path?query) of every request to the bucket, from the moto server's access log."""
        pattern = re.compile(r'"(GET|PUT|POST|DELETE|HEAD) (/' + re.escape(bucket) + r'[^ ]*) HTTP/[\d.]+" (\d+)')
        return [(m.group(1), m.group(2)) for m in pattern.finditer(self.log.read_text())]


class GCSStore(Store):
    kind, conn_id = "gcs", "gcs_objstore"

    def connection(self) -> dict[str, Any]:
        # Anonymous credentials: nothing is ever sent to Google's token endpoint.
        return {"conn_type": "google_cloud_platform",
                "extra": {"is_anonymous": True, "project": "test-project", "gcs.endpoint": self.endpoint}}

    def client(self):
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(project="test-project", credentials=AnonymousCredentials(),
                              client_options={"api_endpoint": self.endpoint})

    def url(self, bucket: str, prefix: str = "") -> str:
        return f"gs://{self.conn_id}@{bucket}/{prefix}"

    def new_bucket(self) -> str:
        name = f"dp-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(name)
        return name

    def list(self, bucket: str) -> dict[str, bytes]:
        c = self.client()
        return {b.name: b.download_as_bytes() for b in c.list_blobs(bucket)}

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.client().bucket(bucket).blob(key).upload_from_string(data)

    def pending_uploads(self, bucket: str) -> list[str]:
        # The GCS JSON API lists no resumable sessions; the emulator keeps its open ones in the
        # "resumable" table of its on-disk state, keyed "bucket:name:started".
        meta = self.workdir / "data" / ".meta"
        sessions = json.loads(meta.read_text()).get("resumable") or {} if meta.exists() else {}
        return sorted(k.split(":")[1] for k in sessions if k.startswith(f"{bucket}:"))


class AzureStore(Store):
    kind, conn_id = "azure", "azure_objstore"

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
                f"BlobEndpoint={self.endpoint}/{AZURITE_ACCOUNT};")

    def connection(self) -> dict[str, Any]:
        return {"conn_type": "azure_data_lake", "extra": {"connection_string": self.connection_string}}

    def client(self):
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(self.connection_string)

    def url(self, bucket: str, prefix: str = "") -> str:
        return f"abfs://{self.conn_id}@{bucket}/{prefix}"

    def new_bucket(self) -> str:
        name = f"dp-{uuid.uuid4().hex[:12]}"
        self.client().create_container(name)
        return name

    def list(self, bucket: str) -> dict[str, bytes]:
        c = self.client().get_container_client(bucket)
        return {b.name: c.download_blob(b.name).readall() for b in c.list_blobs()}

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.client().get_container_client(bucket).upload_blob(key, data, overwrite=True)

    def pending_uploads(self, bucket: str) -> list[str]:
        """Blobs with uncommitted blocks: what a discarded block upload leaves until Azure drops it."""
        return sorted(self.uncommitted_blocks(bucket))

    def names_with_uncommitted(self, bucket: str) -> list[str]:
        """Every name in the container, blobs that hold only uncommitted blocks included."""
        c = self.client().get_container_client(bucket)
        return sorted(b.name for b in c.list_blobs(include=["uncommittedblobs"]))

    def uncommitted_blocks(self, bucket: str, names: list[str] | None = None) -> dict[str, int]:
        from azure.core.exceptions import ResourceNotFoundError

        c = self.client().get_container_client(bucket)
        names = names if names is not None else [b.name for b in c.list_blobs(include=["uncommittedblobs"])]
        found = {}
        for name in names:
            try:
                _, uncommitted = c.get_blob_client(name).get_block_list("uncommitted")
            except ResourceNotFoundError:
                continue
            if uncommitted:
                found[name] = len(uncommitted)
        return found


def _start(cmd: list[str], what: str, workdir: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, Path]:
    log = workdir / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=workdir,
                                env={**os.environ, **(env or {})}, start_new_session=True)
    return proc, log


@contextmanager
def running(kind: str) -> Iterator[Store]:
    """Start one local store server, yield it, stop it and remove its data."""
    workdir = Path(tempfile.mkdtemp(prefix=f"dp-store-{kind}-"))
    port = free_port()
    try:
        if kind == "s3":
            try:
                import moto.server  # noqa: F401
            except ImportError as err:
                raise StoreUnavailable(f"moto[server] is not installed ({err}); run 'make venv'") from err
            proc, log = _start([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], "moto", workdir)
            store: Store = S3Store(proc, port, workdir, log)
            health = f"{store.endpoint}/moto-api/"
        elif kind == "gcs":
            try:
                import gcp_storage_emulator  # noqa: F401
            except ImportError as err:
                raise StoreUnavailable(f"gcp-storage-emulator is not installed ({err}); run 'make venv'") from err
            # On disk (not -M), so that open resumable sessions can be seen after a failure.
            proc, log = _start([sys.executable, str(ROOT / "tests" / "gcs_emulator.py"), "start", "-H", "127.0.0.1",
                                "--port", str(port)], "gcp-storage-emulator", workdir,
                               {"STORAGE_BASE": str(workdir), "STORAGE_DIR": "data"})
            store = GCSStore(proc, port, workdir, log)
            health = f"{store.endpoint}/"
        elif kind == "azure":
            if not AZURITE.exists() or not shutil.which("node"):
                raise StoreUnavailable(f"Azurite is not installed ({AZURITE} or node missing); run 'make stores'")
            proc, log = _start([str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port),
                                "--inMemoryPersistence", "--skipApiVersionCheck", "--loose",
                                "--disableProductStyleUrl"], "azurite", workdir)
            store = AzureStore(proc, port, workdir, log)
            health = f"{store.endpoint}/{AZURITE_ACCOUNT}?comp=list"
        else:
            raise ValueError(kind)
        try:
            _wait_http(health, proc, log, kind)
        except BaseException:
            store.stop()
            raise
        try:
            yield store
        finally:
            store.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def attach_filesystems() -> None:
    """Forget the filesystems Airflow cached per connection, so that a new server's is used."""
    from airflow.sdk.io import store as io_store

    getattr(io_store, "_STORE_CACHE", {}).clear()
