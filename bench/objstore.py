"""Object-storage benchmark (issue 20): DataPumpFetchFilesOperator fetching one dump into S3, GCS and
Azure Blob, against each store's own client uploading the same file (s3fs, gcsfs, adlfs
``put_file`` from local disk), alternating in each round, each run in a fresh process.

The stores are local servers on 127.0.0.1, each in its own process: moto's server mode,
gcp-storage-emulator (tests/gcs_emulator.py) and Azurite. The fetch also downloads the file from
the ORDS emulator (its own process) while it uploads; the store client reads it from local disk.
Target: the fetch takes at most 1.25x the store client's median time. A miss is profiled with
py-spy. RSS growth is VmHWM after minus VmRSS before, in the measuring process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import MB, MiB, PY, ROOT, _version, emulator, export_and_wait, fmt, median, profile, publish, run_json, table  # noqa: E402

sys.path.insert(0, str(ROOT))
from tests.stores import StoreUnavailable, running  # noqa: E402  (also sets gcsfs's probe off)

TARGET = 1.25
STORES = ("s3", "gcs", "azure")
FS_CLASS = {"s3": "s3fs.core.S3FileSystem", "gcs": "gcsfs.core.GCSFileSystem", "azure": "adlfs.spec.AzureBlobFileSystem"}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size-mib", type=float, default=256, help="dump file size in MiB (default 256)")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    p.add_argument("--stores", default=",".join(STORES), help="comma-separated: s3,gcs,azure (default all)")
    p.add_argument("--no-profile", action="store_true", help="do not profile a missed target")
    p.add_argument("--name", default="objstore", help="result file name (default objstore)")
    p.add_argument("--client-part-mib", type=float, default=None,
                   help="the store client's put_file chunksize in MiB (s3fs, gcsfs) instead of its default: "
                        "to see what the part size alone costs on a server")
    args = p.parse_args(argv)
    size = int(args.size_mib * MiB)
    workdir = Path(tempfile.mkdtemp(prefix="dp-bench-objstore-"))
    per_store: dict[str, Any] = {}
    try:
        with emulator(data_dir=str(workdir / "emulator")) as emu:
            job = export_and_wait(emu, dump_size=size)
            (dump,) = [f["name"] for f in job["files"] if f["kind"] == "dump"]
            info = next(j for j in emu.control("GET", "jobs") if j["job_name"] == job["job_name"])
            local = next(p for p in info["dump_paths"] if p.endswith(dump))
            for kind in [s for s in args.stores.split(",") if s]:
                try:
                    per_store[kind] = _bench_store(kind, emu, job, dump, local, size, args)
                except StoreUnavailable as err:
                    per_store[kind] = {"unavailable": str(err)}
                    print(f"  {kind}: skipped, {err}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    measured = [s for s in per_store.values() if "ratio" in s]
    loads = [load for s in measured for v in ("fetch", "client") for load in s[v]["load_1min"]]
    result = {
        "params": {"size_bytes": size, "rounds": args.rounds, "stores": list(per_store), "target_ratio": TARGET,
                   "client_part_mib": args.client_part_mib},
        "method": __doc__.strip(),
        "command": "make bench-objstore  (or: .venv/bin/python bench/objstore.py --size-mib 256 --rounds 3)",
        "store_versions": {d: _version(d) for d in ("s3fs", "gcsfs", "adlfs", "fsspec", "moto", "gcp-storage-emulator",
                                                    "apache-airflow-providers-amazon", "apache-airflow-providers-google",
                                                    "apache-airflow-providers-microsoft-azure")},
        "stores": per_store,
        "load_1min": {"min": min(loads), "median": median(loads), "max": max(loads)} if loads else None,
        "targets_met": all(s["target_met"] for s in measured) if measured else None,
    }
    return publish(args.name, result, print_tables)


def _bench_store(kind: str, emu: Any, job: dict, dump: str, local: str, size: int, args: Any) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"fetch": [], "client": []}
    with running(kind) as store:
        env = emu.env(**store.env())
        for rnd in range(args.rounds):
            for variant in ("fetch", "client"):
                bucket = store.new_bucket()
                if variant == "fetch":
                    r = run_json([PY, "bench/_clients.py", "fetch", json.dumps(job), store.url(bucket), "1"], env=env)
                    r.pop("files")
                else:
                    chunk = [str(args.client_part_mib)] if args.client_part_mib else []
                    r = run_json([PY, "bench/_clients.py", "store_put", local, store.url(bucket, dump), *chunk], env=env)
                stored = store.list(bucket)
                if len(stored.get(dump, b"")) != size or r["bytes"] != size:
                    raise RuntimeError(f"{kind} {variant}: stored {len(stored.get(dump, b''))} bytes, not {size}")
                if store.pending_uploads(bucket):
                    raise RuntimeError(f"{kind} {variant}: an upload was left open")
                del stored
                r["rss_growth"] = r["hwm_after"] - r["rss_before"]
                r["load_1min"] = os.getloadavg()[0]  # the machine is shared: what else ran beside it
                r["mb_s"] = size / r["seconds"] / MB
                runs[variant].append(r)
                print(f"  {kind} round {rnd + 1}/{args.rounds} {variant}: {r['seconds']:.2f} s, {r['mb_s']:.0f} MB/s, "
                      f"RSS +{r['rss_growth'] / MiB:.1f} MiB", file=sys.stderr, flush=True)
        out: dict[str, Any] = {
            variant: {
                "median_seconds": median([r["seconds"] for r in rs]),
                "median_mb_s": median([r["mb_s"] for r in rs]),
                "median_rss_growth_bytes": median([r["rss_growth"] for r in rs]),
                "median_cpu_seconds": median([r["cpu_seconds"] for r in rs]),
                "load_1min": [r["load_1min"] for r in rs],
                "runs": rs,
            }
            for variant, rs in runs.items()
        }
        from airflow_provider_datapump.operators import _storage

        out["fetch_part_bytes"] = _storage._POLICIES[FS_CLASS[kind]].part_size(size)
        out["ratio"] = out["fetch"]["median_seconds"] / out["client"]["median_seconds"]
        out["target_met"] = out["ratio"] <= TARGET
        if not out["target_met"] and not args.no_profile:
            bucket = store.new_bucket()
            out["profile"] = profile([PY, "bench/_clients.py", "fetch", json.dumps(job), store.url(bucket), "1"],
                                     # The download thread (_copy) and the upload thread (_send):
                                     # each share is of both threads' samples together.
                                     env=env, focus=("_copy (", "DirectUpload._send ("), idle=True,
                                     markers={"reading the ORDS body (socket)": "readinto (",
                                              "download waiting for the upload (one part queued)": "DirectUpload.write (",
                                              "sending a part to the store (flush)": "flush (",
                                              "completing the upload (commit)": "commit (",
                                              "waiting for the SHA-256 thread": "hexdigest ("})
    return out


def print_tables(result: dict[str, Any]) -> None:
    prm = result["params"]
    print(f"\nFetch into object storage vs the store's own client, one {prm['size_bytes'] // MiB} MiB file, "
          f"median of {prm['rounds']} alternating rounds (target: fetch <= {prm['target_ratio']}x)")
    rows = []
    for kind, s in result["stores"].items():
        if "ratio" not in s:
            rows.append([kind, None, None, None, None, None, None, "unavailable"])
            continue
        rows.append([kind, fmt(s["fetch"]["median_seconds"], 2), fmt(s["client"]["median_seconds"], 2), fmt(s["ratio"], 2),
                     fmt(s["fetch"]["median_rss_growth_bytes"] / MiB), fmt(s["client"]["median_rss_growth_bytes"] / MiB),
                     fmt(s["fetch"]["median_mb_s"], 0), "met" if s["target_met"] else "MISSED"])
    print(table(["store", "fetch s", "client put s", "ratio", "fetch RSS+ MiB", "client RSS+ MiB", "fetch MB/s", "target"], rows))
    if result.get("load_1min"):
        load = result["load_1min"]
        print(f"  load average (1 min) after each run: median {load['median']:.1f}, {load['min']:.1f} to {load['max']:.1f} (2 cores)")
    for kind, s in result["stores"].items():
        prof = s.get("profile")
        if prof and prof.get("share"):
            print(f"  {kind} fetch profile: " + ", ".join(f"{k} {v:.0%}" for k, v in prof["share"].items() if v is not None))


if __name__ == "__main__":
    main()
