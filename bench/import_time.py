"""Import-time benchmark: what the provider's DAG-facing modules add over ``import airflow.sdk``.

Each repetition is a fresh interpreter that imports airflow.sdk, then the operators, sensors and
triggers modules, timing both steps; the figure is the median of the second step (Airflow parses
DAG files constantly, so this is paid on every parse of a file that uses the provider).

Installed from a wheel, the package has bytecode; this checkout is an editable install and the
environment may set PYTHONDONTWRITEBYTECODE, which would make every run compile our sources. So
the target figure runs with a bytecode cache (PYTHONPYCACHEPREFIX in a temporary directory, filled
by one warm-up run), and the source-only figure is measured alternately beside it. The same
interpreter lists what the provider's imports added to sys.modules, which must include no Oracle
driver, no emulator (FastAPI, uvicorn) and no fsspec back end. One extra run under
``-X importtime`` names the modules that cost the most.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import PY, ROOT, fmt, median, publish, table  # noqa: E402

MODULES = (
    "airflow_provider_datapump.operators.datapump",
    "airflow_provider_datapump.sensors.datapump",
    "airflow_provider_datapump.triggers.datapump",
)
# Top-level packages that must never load at DAG-parse time because of us.
FORBIDDEN = ("oracledb", "fastapi", "uvicorn", "starlette", "airflow_provider_datapump.emulator",
             "s3fs", "gcsfs", "adlfs", "ocifs", "huggingface_hub", "aiobotocore", "botocore")
TARGET_MS = 30.0

PROBE = f"""
import json, sys, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
before = set(sys.modules)
{chr(10).join('import ' + m for m in MODULES)}
t2 = time.perf_counter()
added = sorted(set(sys.modules) - before)
print(json.dumps({{"sdk_ms": (t1 - t0) * 1e3, "added_ms": (t2 - t1) * 1e3, "added_modules": added,
                  "fsspec_loaded_by_sdk": "fsspec" in before,
                  # Only what our imports added: Airflow 3.0's own airflow.sdk already loads fastapi.
                  "loaded": sorted(m for m in added if m.split(".")[0] in {FORBIDDEN!r} or m in {FORBIDDEN!r})}}))
"""


def probe_env(pycache: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    if pycache:
        env["PYTHONPYCACHEPREFIX"] = pycache
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # as this checkout runs here: our sources compiled each time
    return env


def run_probe(env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([PY, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def importtime_top(env: dict[str, str], limit: int = 12) -> list[dict[str, Any]]:
    """Self time per module imported after airflow.sdk, from one -X importtime run."""
    code = "import airflow.sdk\n" + "\n".join(f"import {m}" for m in MODULES)
    proc = subprocess.run([PY, "-X", "importtime", "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)
    lines = proc.stderr.splitlines()
    # The sdk's own import ends with its top-level line; everything after is ours.
    last_sdk = max(i for i, line in enumerate(lines) if re.search(r"\|\s*airflow\.sdk$", line))
    rows = []
    for line in lines[last_sdk + 1:]:
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            rows.append({"module": match.group(4), "self_us": int(match.group(1)), "cumulative_us": int(match.group(2))})
    return sorted(rows, key=lambda r: -r["self_us"])[:limit]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=15, help="fresh interpreters (default 15)")
    p.add_argument("--name", default="import_time", help="result file name (default import_time)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dp-bench-pycache-") as pycache:
        cached_env, source_env = probe_env(pycache), probe_env(None)
        run_probe(cached_env)  # fills the bytecode cache
        probes, source = [], []
        for i in range(args.repeat):
            probes.append(run_probe(cached_env))
            source.append(run_probe(source_env))
            print(f"  {i + 1}/{args.repeat}: +{probes[-1]['added_ms']:.1f} ms (from source: +{source[-1]['added_ms']:.1f} ms)",
                  file=sys.stderr, flush=True)
        top = importtime_top(cached_env)
    added = median([r["added_ms"] for r in probes])
    loaded = sorted({m for r in probes for m in r["loaded"]})
    result = {
        "params": {"repeat": args.repeat, "modules": list(MODULES)},
        "method": __doc__.strip(),
        "median_sdk_ms": median([r["sdk_ms"] for r in probes]),
        "median_added_ms": added,
        "added_ms_runs": [r["added_ms"] for r in probes],
        "median_added_ms_from_source": median([r["added_ms"] for r in source]),
        "forbidden_loaded": loaded,
        "fsspec_loaded_by_airflow_sdk_itself": all(r["fsspec_loaded_by_sdk"] for r in probes),
        "modules_added": probes[-1]["added_modules"],
        "importtime_top_self": top,
        "targets": {"added_le_30ms": added <= TARGET_MS, "no_forbidden_modules": not loaded},
    }
    result["targets_met"] = all(result["targets"].values())
    return publish(args.name, result, print_tables)


def print_tables(result: dict[str, Any]) -> None:
    print(f"\nImport time, median of {result['params']['repeat']} fresh interpreters")
    print(table(["what", "ms"], [["import airflow.sdk", fmt(result["median_sdk_ms"])],
                                 ["+ operators, sensors, triggers", fmt(result["median_added_ms"])],
                                 ["  the same without bytecode", fmt(result["median_added_ms_from_source"])]]))
    print(f"forbidden modules loaded: {', '.join(result['forbidden_loaded']) or 'none'}; "
          f"fsspec already loaded by airflow.sdk itself: {result['fsspec_loaded_by_airflow_sdk_itself']}")
    top = ", ".join(f"{r['module']} {r['self_us'] / 1000:.1f}" for r in result["importtime_top_self"][:5])
    print(f"largest self times (ms, -X importtime): {top}")
    print("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in result["targets"].items()))


if __name__ == "__main__":
    main()
