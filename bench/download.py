"""Download benchmark: our stream_file against curl and a naive httpx.get, side by side.

The emulator (its own process) serves an export's dump file from its data directory; the dump is
a sparse file, so its holes are sent from a zero buffer and the server is not the bottleneck.
Every client runs in a fresh process, alternating A B C D E in each round:

  A  curl -s -o FILE URL (credentials through -K -, never on the command line)
  B  DataPumpHook.stream_file into a file
  C  httpx.get(URL).content, then one write
  D  DataPumpFetchFilesOperator into file:// (SHA-256 and temporary name included)
  E  DataPumpFetchFilesOperator into memory:// (only up to --memory-max-mib: the memory
     filesystem holds the whole file in the process by nature)

Throughput is bytes / transfer time (curl's own time_total for A). RSS growth is VmHWM after the
transfer minus VmRSS before it, in the client's own process; for curl, whose process we cannot
read before the transfer, it is the peak RSS (wait4) minus the peak of the same curl fetching the
job's few-kB log file. Clients write into --out-dir (default: the system temp directory, on disk);
each output is deleted and os.sync() waits out pending writeback before the next client starts.
A missed target is profiled with py-spy in one extra run, and the summary goes into "cause".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import MB, MiB, PY, emulator, export_and_wait, fmt, median, profile, run_json, publish, table  # noqa: E402

CLIENTS = {
    "A": "curl",
    "B": "DataPumpHook.stream_file",
    "C": "httpx.get().content",
    "D": "FetchFiles -> file://",
    "E": "FetchFiles -> memory://",
}
TARGET_RATIO = 0.9
TARGET_GROWTH = 64 * MiB


def run_curl(emu: Any, url: str, out: str) -> dict[str, Any]:
    cmd = ["curl", "-s", "-S", "-f", "-K", "-", "-o", out, "-w", "%{time_total} %{size_download}", url]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(f'user = "{emu.user}:{emu.password}"\n'.encode())
    proc.stdin.close()
    stdout, stderr = proc.stdout.read().decode(), proc.stderr.read().decode()
    proc.stdout.close(), proc.stderr.close()
    # wait4, not wait: it also returns the child's peak RSS.
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"curl failed ({proc.returncode}): {stderr.strip()}")
    seconds, size = stdout.split()
    return {"seconds": float(seconds), "bytes": int(size), "maxrss": usage.ru_maxrss * 1024,
            "cpu_seconds": usage.ru_utime + usage.ru_stime}


def run_client(kind: str, emu: Any, job: dict[str, Any], dump: dict[str, str], workdir: Path, baseline_curl: int) -> dict[str, Any]:
    env = emu.env()
    out = workdir / f"{kind}.out"
    server_cpu = emu.cpu_seconds()
    if kind == "A":
        r = run_curl(emu, dump["url"], str(out))
        r["rss_growth"] = r["maxrss"] - baseline_curl
    elif kind == "B":
        r = run_json([PY, "bench/_clients.py", "hook", f"{job['owner_name']},{job['job_name']}", dump["name"], str(out)], env=env)
    elif kind == "C":
        r = run_json([PY, "bench/_clients.py", "naive", dump["url"], str(out)], env=env)
    else:
        dest = f"file://{workdir}/fetch/" if kind == "D" else f"memory://bench-{os.getpid()}/fetch/"
        r = run_json([PY, "bench/_clients.py", "fetch", json.dumps(job), dest, "1"], env=env)
        if kind == "D":
            out = workdir / "fetch" / dump["name"]
    if kind != "A":
        r["rss_growth"] = r["hwm_after"] - r["rss_before"]
    stored = r.get("stored_sizes", [r["bytes"]]) if kind == "E" else [out.stat().st_size]
    if stored != [r["bytes"]]:
        raise RuntimeError(f"{CLIENTS[kind]} stored {stored} bytes but reported {r['bytes']}")
    shutil.rmtree(workdir / "fetch", ignore_errors=True)
    out.unlink(missing_ok=True)
    # Wait for the writeback already under way, so that the next client does not pay for this one's.
    os.sync()
    r["mb_s"] = r["bytes"] / r["seconds"] / MB
    r["server_cpu_seconds"] = emu.cpu_seconds() - server_cpu  # the emulator's share, a bottleneck check
    return r


def bench_size(emu: Any, size: int, rounds: int, memory_max: int, workdir: Path, explain: bool = True) -> dict[str, Any]:
    job = export_and_wait(emu, dump_size=size)
    (dump,) = [f for f in job["files"] if f["kind"] == "dump"]
    log = next(f for f in job["files"] if f["kind"] == "log")
    kinds = [k for k in CLIENTS if k != "E" or size <= memory_max]
    baseline_curl = int(median([run_curl(emu, log["url"], str(workdir / "log.out"))["maxrss"] for _ in range(3)]))
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    for rnd in range(rounds):
        for kind in kinds:
            r = run_client(kind, emu, job, dump, workdir, baseline_curl)
            if r["bytes"] != size:
                raise RuntimeError(f"{CLIENTS[kind]} transferred {r['bytes']} bytes of {size}")
            runs[kind].append(r)
            print(f"  {size // MiB} MiB round {rnd + 1}/{rounds} {kind} {CLIENTS[kind]:<26} "
                  f"{r['mb_s']:7.0f} MB/s  RSS +{r['rss_growth'] / MiB:.1f} MiB", file=sys.stderr, flush=True)
    clients = {}
    for kind, rs in runs.items():
        clients[kind] = {
            "client": CLIENTS[kind],
            "median_mb_s": median([r["mb_s"] for r in rs]),
            "median_seconds": median([r["seconds"] for r in rs]),
            "median_rss_growth_bytes": median([r["rss_growth"] for r in rs]),
            "median_cpu_seconds": median([r["cpu_seconds"] for r in rs]),
            "median_server_cpu_seconds": median([r["server_cpu_seconds"] for r in rs]),
            "runs": [{k: v for k, v in r.items() if k != "files"} for r in rs],
        }
    ratio = clients["B"]["median_mb_s"] / clients["A"]["median_mb_s"]
    hashing = clients["D"]["median_mb_s"] / clients["B"]["median_mb_s"]
    result = {
        "size_bytes": size,
        "curl_baseline_maxrss_bytes": baseline_curl,
        "clients": clients,
        "ratio_B_over_curl": ratio,
        "ratio_fetch_file_over_B": hashing,
        "targets": {
            "B_ratio_ge_0.9": ratio >= TARGET_RATIO,
            "B_rss_growth_lt_64MiB": clients["B"]["median_rss_growth_bytes"] < TARGET_GROWTH,
            "fetch_file_not_halved": hashing >= 0.5,
        },
    }
    if not all(result["targets"].values()):
        result["cause"] = (find_cause(emu, job, dump, workdir, clients, result["targets"]) if explain
                           else {"note": "not profiled (--no-profile)"})
    return result


def sha256_speed(total: int = 512 * MiB) -> float:
    """What SHA-256 alone reaches on one core here: the ceiling of any hashing fetch."""
    import hashlib
    import time

    chunk, digest = bytes(512 * 1024), hashlib.sha256()
    start = time.perf_counter()
    for _ in range(total // len(chunk)):
        digest.update(chunk)
    return total / (time.perf_counter() - start) / MB


def find_cause(emu: Any, job: dict[str, Any], dump: dict[str, str], workdir: Path, clients: dict[str, Any],
               targets: dict[str, bool]) -> dict[str, Any]:
    """Profile the client that missed (one more run, under py-spy) and set it beside the CPU figures."""
    cause: dict[str, Any] = {}
    if not (targets["B_ratio_ge_0.9"] and targets["B_rss_growth_lt_64MiB"]):
        b = clients["B"]
        cause["B"] = {
            "cpu_seconds_over_wall": b["median_cpu_seconds"] / b["median_seconds"],
            "emulator_cpu_seconds_over_wall": b["median_server_cpu_seconds"] / b["median_seconds"],
            "curl_cpu_seconds_over_wall": clients["A"]["median_cpu_seconds"] / clients["A"]["median_seconds"],
            "profile": profile([PY, "bench/_clients.py", "hook", f"{job['owner_name']},{job['job_name']}", dump["name"],
                                str(workdir / "B.out")], env=emu.env(), focus="stream_file",
                               markers={"socket receive": "SocketIO.readinto", "TLS context set-up": "create_default_context"}),
        }
        (workdir / "B.out").unlink(missing_ok=True)
    if not targets["fetch_file_not_halved"]:
        cause["D"] = {"sha256_one_core_mb_s": sha256_speed(), "B_mb_s": clients["B"]["median_mb_s"],
                      "profile": profile([PY, "bench/_clients.py", "fetch", json.dumps(job), f"file://{workdir}/fetch/", "1"],
                                         env=emu.env(), focus="_copy",
                                         markers={"hashing writer": "_HashingWriter.write", "fsspec file write": "LocalFileOpener.write",
                                                  "socket receive": "SocketIO.readinto"})}
        shutil.rmtree(workdir / "fetch", ignore_errors=True)
    return cause


def print_tables(result: dict[str, Any]) -> None:
    for s in result["sizes"]:
        rows = [[f"{k} {c['client']}", fmt(c["median_mb_s"], 0), fmt(c["median_mb_s"] / s["clients"]["A"]["median_mb_s"], 2),
                 fmt(c["median_rss_growth_bytes"] / MiB), fmt(c["median_cpu_seconds"], 2), fmt(c["median_server_cpu_seconds"], 2)]
                for k, c in s["clients"].items()]
        print(f"\nDownload, {s['size_bytes'] // MiB} MiB, median of {result['params']['rounds']} alternating rounds")
        print(table(["client", "MB/s", "x curl", "RSS growth MiB", "CPU s", "emulator CPU s"], rows))
        print("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in s["targets"].items()))
        for who, c in s.get("cause", {}).items():
            if not isinstance(c, dict):
                continue
            shares = ", ".join(f"{k} {v:.0%}" for k, v in c["profile"].get("share", {}).items() if v is not None)
            top = c["profile"].get("top_self_frames") or [{}]
            print(f"cause ({who}, py-spy): {shares}; heaviest line: {top[0].get('frame')} {top[0].get('share', 0):.0%}")
            if "sha256_one_core_mb_s" in c:
                print(f"  SHA-256 alone on one core: {c['sha256_one_core_mb_s']:.0f} MB/s; B: {c['B_mb_s']:.0f} MB/s")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes-mib", default="256,2048", help="dump sizes in MiB, comma-separated (default 256,2048)")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    p.add_argument("--memory-max-mib", type=int, default=256, help="largest size also fetched into memory:// (default 256)")
    p.add_argument("--name", default="download", help="result file name (default download)")
    p.add_argument("--no-profile", action="store_true", help="do not profile a missed target (smoke runs)")
    p.add_argument("--out-dir", default=None, help="where the clients write (default: the system temp dir)")
    args = p.parse_args(argv)
    sizes = [int(float(s) * MiB) for s in args.sizes_mib.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="dp-bench-download-", dir=args.out_dir))
    try:
        with emulator(data_dir=str(workdir / "emulator")) as emu:
            result = {
                "params": {"sizes_bytes": sizes, "rounds": args.rounds, "memory_max_bytes": args.memory_max_mib * MiB,
                           "out_dir": str(workdir.parent)},
                "method": __doc__.strip(),
                "sizes": [bench_size(emu, size, args.rounds, args.memory_max_mib * MiB, workdir, not args.no_profile)
                          for size in sizes],
            }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result["targets_met"] = all(all(s["targets"].values()) for s in result["sizes"])
    causes = {f"{s['size_bytes'] // MiB} MiB": s["cause"] for s in result["sizes"] if "cause" in s}
    if causes:
        result["cause"] = causes
    return publish(args.name, result, print_tables)


if __name__ == "__main__":
    main()
