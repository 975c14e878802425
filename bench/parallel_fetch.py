"""Parallel multi-file benchmark: an export with threads=8 gives 8 dump files (%U), fetched by
DataPumpFetchFilesOperator into file:// serially (max_parallel=1), with the default (4) and with
one transfer per file (8), alternating in each round, each in a fresh process.

Time is the operator's whole execute (resolve, transfers, SHA-256, renames, manifest). RSS growth
is VmHWM after minus VmRSS before, in the fetching process.
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
from _common import MB, MiB, PY, emulator, export_and_wait, fmt, median, run_json, publish, table  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=8, help="export threads, hence dump files (default 8)")
    p.add_argument("--file-mib", type=float, default=128, help="size of each dump file in MiB (default 128)")
    p.add_argument("--parallel", default="1,4,8", help="max_parallel values to compare (default 1,4,8)")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    p.add_argument("--name", default="parallel_fetch", help="result file name (default parallel_fetch)")
    args = p.parse_args(argv)
    file_size = int(args.file_mib * MiB)
    variants = [int(v) for v in args.parallel.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="dp-bench-parallel-"))
    runs: dict[int, list[dict[str, Any]]] = {v: [] for v in variants}
    try:
        with emulator(data_dir=str(workdir / "emulator")) as emu:
            job = export_and_wait(emu, dump_size=file_size, threads=args.files, file_name="BENCH_%U.DMP")
            dumps = [f for f in job["files"] if f["kind"] == "dump"]
            if len(dumps) != args.files:
                raise RuntimeError(f"the export made {len(dumps)} dump files, not {args.files}")
            total = file_size * len(dumps)
            for rnd in range(args.rounds):
                for v in variants:
                    dest = workdir / "out"
                    r = run_json([PY, "bench/_clients.py", "fetch", json.dumps(job), f"file://{dest}/", str(v)], env=emu.env())
                    if r["bytes"] != total or sorted(f["name"] for f in r["files"]) != sorted(f["name"] for f in dumps):
                        raise RuntimeError(f"max_parallel={v} fetched {r['bytes']} bytes in {len(r['files'])} files")
                    if not Path(r["manifest"].removeprefix("file://")).exists() or list(dest.glob(".*part-*")):
                        raise RuntimeError(f"max_parallel={v} left no manifest or a partial file")
                    shutil.rmtree(dest)
                    r["rss_growth"] = r["hwm_after"] - r["rss_before"]
                    r["mb_s"] = total / r["seconds"] / MB
                    r.pop("files")
                    runs[v].append(r)
                    print(f"  round {rnd + 1}/{args.rounds} max_parallel={v}: {r['seconds']:.2f} s, {r['mb_s']:.0f} MB/s, "
                          f"RSS +{r['rss_growth'] / MiB:.1f} MiB", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    variants_out = {
        str(v): {
            "max_parallel": v,
            "median_seconds": median([r["seconds"] for r in rs]),
            "median_mb_s": median([r["mb_s"] for r in rs]),
            "median_rss_growth_bytes": median([r["rss_growth"] for r in rs]),
            "median_cpu_seconds": median([r["cpu_seconds"] for r in rs]),
            "runs": rs,
        }
        for v, rs in runs.items()
    }
    serial = variants_out[str(variants[0])]["median_seconds"]
    result = {
        "params": {"files": args.files, "file_bytes": file_size, "total_bytes": total, "rounds": args.rounds,
                   "max_parallel": variants},
        "method": __doc__.strip(),
        "variants": variants_out,
        "speedup_over_first": {k: serial / v["median_seconds"] for k, v in variants_out.items()},
    }
    return publish(args.name, result, print_tables)


def print_tables(result: dict[str, Any]) -> None:
    prm = result["params"]
    print(f"\nParallel fetch, {prm['files']} files x {prm['file_bytes'] // MiB} MiB into file://, "
          f"median of {prm['rounds']} alternating rounds")
    rows = [[v["max_parallel"], fmt(v["median_seconds"], 2), fmt(v["median_mb_s"], 0),
             fmt(result["speedup_over_first"][k], 2), fmt(v["median_rss_growth_bytes"] / MiB), fmt(v["median_cpu_seconds"], 2)]
            for k, v in result["variants"].items()]
    print(table(["max_parallel", "seconds", "MB/s", "speed-up", "RSS growth MiB", "CPU s"], rows))


if __name__ == "__main__":
    main()
