"""Run every benchmark (``make bench``), each in its own process, then print all the tables again.

``make bench BENCH_ARGS="--rounds 5"`` sets the alternating rounds of the download, parallel and
object-storage benchmarks (waiting measures one run per size: the jobs it ends are used up); ``--only download,waiting`` picks benchmarks; each script's own ``--help``
lists its sizes. Results: bench/results/<name>.json (DATAPUMP_BENCH_RESULTS moves them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

# The order matters little (every comparison alternates inside one benchmark); the short ones first.
BENCHMARKS = ("import_time", "download", "parallel_fetch", "waiting", "objstore")
TAKE_ROUNDS = ("download", "parallel_fetch", "objstore")  # waiting: one run per size (ended jobs are used up)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated benchmarks (default: all)")
    p.add_argument("--rounds", help="alternating rounds for download, parallel_fetch, waiting and objstore")
    args = p.parse_args()
    chosen = [b for b in args.only.split(",") if b]
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        p.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    started = time.monotonic()
    took = {}
    for name in chosen:
        extra = ["--rounds", args.rounds] if args.rounds and name in TAKE_ROUNDS else []
        print(f"== {name}", flush=True)
        t = time.monotonic()
        subprocess.run([sys.executable, str(_common.BENCH / f"{name}.py"), *extra], check=True, cwd=_common.ROOT)
        took[name] = time.monotonic() - t
    print(f"\n== summary ({time.monotonic() - started:.0f} s: "
          + ", ".join(f"{k} {v:.0f} s" for k, v in took.items()) + ")")
    missed = []
    for name in chosen:
        module = __import__(name)
        result = json.loads((_common.RESULTS / f"{name}.json").read_text())
        module.print_tables(result)
        if result.get("targets_met") is False:
            missed.append(name)
    print(f"\nmachine: {result['machine']['cpu_model']}, {result['machine']['cores']} cores, "
          f"{result['machine']['memory_bytes'] / 2**30:.0f} GiB; " + ", ".join(f"{k} {v}" for k, v in result["versions"].items()))
    print("targets missed in: " + (", ".join(missed) if missed else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
