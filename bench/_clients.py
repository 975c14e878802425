"""The measured side of the transfer benchmarks: one client per fresh process.

``python bench/_clients.py KIND ...`` imports what that client needs, resets the peak RSS, reads
VmRSS, transfers, reads VmHWM, and prints one JSON line. Imports and connection set-up happen
before the baseline is read: they are code, not transfer.
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import proc_status, reset_peak  # noqa: E402


def _measure(transfer) -> dict:
    reset_peak()
    before = proc_status("VmRSS")
    start = time.perf_counter()
    cpu = time.process_time()
    extra = transfer()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "cpu_seconds": time.process_time() - cpu,
            "rss_before": before, "hwm_after": proc_status("VmHWM"), **extra}


def hook(job: str, name: str, out: str) -> dict:
    """B: DataPumpHook.stream_file into a file, the path the fetch operator uses."""
    from airflow_provider_datapump.hooks.datapump import DataPumpHook

    h = DataPumpHook()
    _ = h.settings, h.links

    def transfer() -> dict:
        with open(out, "wb") as fh:
            return {"bytes": h.stream_file(job, name, fh)}

    return _measure(transfer)


def naive(url: str, out: str) -> dict:
    """C: what a user writes first, httpx.get(...).content and one write."""
    import httpx

    conn = json.loads(os.environ["AIRFLOW_CONN_ORDS_DEFAULT"])
    auth = (conn["login"], conn["password"])

    def transfer() -> dict:
        data = httpx.get(url, auth=auth, timeout=600).raise_for_status().content
        with open(out, "wb") as fh:
            fh.write(data)
        return {"bytes": len(data)}

    return _measure(transfer)


def fetch(job_json: str, destination: str, max_parallel: str) -> dict:
    """D/E and the parallel benchmark: DataPumpFetchFilesOperator, files="dump"."""
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_datapump.operators.fetch import DataPumpFetchFilesOperator

    if destination.startswith("memory://"):
        # Airflow registers only file:// itself; other schemes come from providers.
        import fsspec
        from airflow.sdk.io import attach

        attach("memory", fs=fsspec.filesystem("memory"))
    job = json.loads(job_json)
    op = DataPumpFetchFilesOperator(task_id="fetch", job=job, files="dump", destination=destination,
                                    max_parallel=int(max_parallel))
    _ = op.hook.settings, op.hook.client
    fs = ObjectStoragePath(destination).fs  # the filesystem class is loaded before the baseline
    try:
        fs.connect()  # s3fs makes its client lazily; made before the clock starts, as store_put's is
    except AttributeError:
        pass
    # The first write through ObjectStoragePath loads Airflow's plugins for lineage (about 0.3 s
    # here); a worker has them loaded already, so they are loaded before the clock starts.
    from airflow.providers.common.compat.sdk import get_hook_lineage_collector  # airflow.sdk.lineage from 3.2

    get_hook_lineage_collector()

    def transfer() -> dict:
        out = op.execute(context={})
        files = out["files"]
        return {"bytes": sum(f["bytes"] for f in files), "files": files, "manifest": out["manifest"]}

    result = _measure(transfer)
    if destination.startswith("memory://"):
        # The file lives in this process's memory filesystem: check it there, before exiting.
        fs = ObjectStoragePath(destination).fs
        for f in result["files"]:
            result.setdefault("stored_sizes", []).append(fs.size(ObjectStoragePath(f["uri"]).path))
    return result


def store_put(local: str, destination: str, chunk_mib: str = "") -> dict:
    """The store's own client uploading the same file: ``fs.put_file`` on the filesystem Airflow
    made for the connection (s3fs, gcsfs or adlfs), with that library's defaults, or with
    ``chunksize`` (s3fs and gcsfs) set to ``chunk_mib`` MiB."""
    from airflow.sdk import ObjectStoragePath

    target = ObjectStoragePath(destination)
    fs = target.fs
    try:
        fs.connect()  # s3fs makes its client lazily; made before the clock starts, as the fetch's is
    except AttributeError:
        pass

    def transfer() -> dict:
        fs.put_file(local, target.path, **({"chunksize": int(float(chunk_mib) * 2**20)} if chunk_mib else {}))
        return {"bytes": os.path.getsize(local), "stored": fs.size(target.path)}

    return _measure(transfer)


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    print(json.dumps({"hook": hook, "naive": naive, "fetch": fetch, "store_put": store_put}[kind](*args)))
