"""`make test-matrix`: the suite on the newest patch of every Airflow 3 minor, one venv each.

Each cell installs this checkout (``-e .[test,docs]`` by default) with its Airflow pins into ``.venv-<minor>``,
once per pyproject.toml (a stamp file keyed by its checksum and the pins), runs pytest with the
given marker expression, and keeps a JUnit report in ``.artifacts/matrix/<minor>.xml``. The table
at the end is read from those reports, so its counts are pytest's own.

    python tools/matrix.py [--cells 3.0 3.3] [--marker "not ui"] [-- extra pytest args]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".artifacts" / "matrix"
# The newest patch of each minor. 3.0 also pins common-compat at pyproject.toml's floor, so the
# oldest cell proves both floors at once. Airflow 3.0.6 declares only lower bounds on its web stack,
# so pip picks today's releases, some of which it cannot run with; each pin below keeps what Airflow's
# own constraints file for 3.0 pins (constraints-3.11.txt on v3-0-test: universal-pathlib 0.2.6,
# PyJWT 2.10.1, cadwyn 5.3.3, fastapi 0.115.12):
# - universal-pathlib<0.3: 0.3's paths are refused by 3.0's ObjectStoragePath ("detected protocol
#   file which is incompatible"), for Airflow's own code as for ours.
# - pyjwt<2.11: 2.11's encode refuses the token 3.0.6's api-server signs ("Issuer (iss) must be a
#   string"), so no task can start (3.1 requires 2.11).
# - cadwyn<5.5 and fastapi<0.116: with today's cadwyn 9 and fastapi 0.165 the execution API reads
#   every request body as a JSON string, so PATCH /task-instances/{id}/run answers 422
#   "model_attributes_type ... Input should be a valid dictionary" and no task starts (dag.test()
#   or a real scheduler). Both are needed: cadwyn 5.x imports fastapi internals gone from newer
#   fastapi (ImportError at api-server start), and newer cadwyn needs newer fastapi.
#   Measured good: cadwyn 5.3.3 and 5.4.6 with fastapi 0.115.12.
# - cryptography<51 on 3.0 and 3.1: their get_fernet sets ``is_encrypted`` on a MultiFernet, which
#   cryptography 51 (a Rust class) refuses ("'MultiFernet' object has no attribute 'is_encrypted'"),
#   so no task can read a connection once airflow.cfg has a fernet_key (measured on 3.0.6 with 51.0.1:
#   every e2e task failed "The conn_id `ords_default` isn't defined"). 3.2 wraps it in _RealFernet.
CELLS: dict[str, list[str]] = {
    "3.0": ["apache-airflow==3.0.6", "apache-airflow-providers-common-compat==1.23.0", "universal-pathlib<0.3",
            "pyjwt<2.11", "cadwyn<5.5", "fastapi<0.116", "cryptography<51"],
    "3.1": ["apache-airflow==3.1.8", "cryptography<51"],
    # fastapi<0.156.1: from 0.156.1 fastapi builds the body model of PATCH /task-instances/{id}/state
    # so that pydantic reads its callable discriminator as a field name, and the execution API fails at
    # import ("Model 'TITerminalStatePayload' needs a discriminator field"), so dag.test() runs no
    # task (bisected here: 0.156.0 imports, 0.156.1 to 0.165.0 do not).
    # svcs<26.2: dag.test()'s in-process execution API loses its lifespan while the app still serves.
    # The cause is Airflow 3.2's: InProcessTestSupervisor._api_client keeps only the WSGI transport of
    # the InProcessExecutionAPI it builds, and the lifespan's AsyncExitStack lives on that dropped
    # object, so its async generator is garbage-collected and the event loop's finalizer closes it
    # (GeneratorExit). svcs 26.2.0's lifespan then deletes app.state.svcs_registry on exit (26.1.0 left
    # it), so every request answers 500 "'State' object has no attribute 'svcs_registry'" and no task
    # runs (measured: 26.1.0 passes, 26.2.0 fails). Airflow 3.3 ties that clean-up to the transport's
    # lifetime (apache/airflow#68855), so 3.3 needs no pin.
    "3.2": ["apache-airflow==3.2.2", "fastapi<0.156.1", "svcs<26.2"],
    "3.3": ["apache-airflow==3.3.2"],
}
# What only the full test extra needs on a cell (the wheel test installs CELLS alone):
# - apache-airflow-providers-celery<3.13 on 3.0 (the scale-out test's executor), though every release
#   up to 3.26.0 declares apache-airflow>=2.11: from 3.17.0 it no longer defines queue_workload and
#   relies on BaseExecutor's, which Airflow 3.1 added, so on 3.0.6 the scheduler queues tuples and
#   exits at the first task ("_process_workloads cannot handle <class 'tuple'>"); 3.16.0 reads
#   executor.team_name (3.1's multi-team), same exit; with 3.15.2 the workers received three tasks
#   and ran none within the test's budget (cause not looked for). 3.12.4 runs the test (2026-12-02).
TEST_PINS: dict[str, list[str]] = {
    "3.0": ["apache-airflow-providers-celery<3.13"],
}


def log(msg: str) -> None:
    print(f"[matrix] {msg}", flush=True)


def ensure_venv(cell: str, python: str, extras: str) -> tuple[Path, float]:
    venv = ROOT / f".venv-{cell}"
    # The Celery provider comes with the full test extra only (test-stores), not with test-core.
    pins = CELLS[cell] + (TEST_PINS.get(cell, []) if "test" in extras.split(",") else [])
    key = hashlib.sha256(((ROOT / "pyproject.toml").read_bytes() + " ".join([extras, *pins]).encode())).hexdigest()[:16]
    stamp = venv / f".installed-{key}"
    if stamp.exists():
        return venv, 0.0
    start = time.monotonic()
    if not (venv / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    # uv resolves from the same PyPI with the same extras and pins as pip, in about a tenth of the
    # time here (make venv's figure), which is what lets a whole matrix run in one session.
    subprocess.run([py, "-m", "pip", "install", "-q", "--upgrade", "pip", "uv"], check=True)
    log(f"{cell}: installing -e .[{extras}] {' '.join(pins)}")
    subprocess.run([py, "-m", "uv", "pip", "install", "-q", "--python", py, "-e", f".[{extras}]", *pins],
                   check=True, cwd=ROOT)
    for old in venv.glob(".installed-*"):
        old.unlink()
    stamp.touch()
    return venv, time.monotonic() - start


def counts(report: Path) -> dict[str, int]:
    if not report.exists():
        return {}
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    total = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
    total["passed"] = total["tests"] - total["failures"] - total["errors"] - total["skipped"]
    return total


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=list(CELLS))
    parser.add_argument("--marker", default="not ui")
    parser.add_argument("--extras", default="test,docs", help="pip extras to install (test-core for CI's oldest run)")
    parser.add_argument("--python", default=os.environ.get("PYTHON", "python3"))
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for cell in args.cells:
        try:
            venv, installed = ensure_venv(cell, args.python, args.extras)
        except subprocess.CalledProcessError as err:
            rows.append((cell, "install failed", 0.0, 0.0, {}, err.returncode))
            continue
        report = OUT / f"{cell}.xml"
        report.unlink(missing_ok=True)
        version = subprocess.run([str(venv / "bin" / "python"), "-c", "import airflow; print(airflow.__version__)"],
                                 capture_output=True, text=True).stdout.strip()
        log(f"{cell}: Airflow {version}, pytest -m {args.marker!r} {' '.join(args.pytest_args)}")
        start = time.monotonic()
        # The wheel test installs the built wheel into a clean venv with this cell's Airflow.
        env = {**os.environ, "DATAPUMP_WHEEL_AIRFLOW": " ".join(CELLS[cell])}
        rc = subprocess.run([str(venv / "bin" / "python"), "-m", "pytest", "-m", args.marker, "-q",
                             f"--junitxml={report}", *args.pytest_args], cwd=ROOT, env=env).returncode
        rows.append((cell, version, installed, time.monotonic() - start, counts(report), rc))
    print()
    print("| Airflow | installed | install | tests | passed | failed | errors | skipped | result |")
    print("|---|---|---|---|---|---|---|---|---|")
    for cell, version, installed, took, c, rc in rows:
        result = "pass" if rc == 0 else f"FAIL (exit {rc})"
        install = f"{installed / 60:.1f} min" if installed else "reused"
        print(f"| {cell} | {version} | {install} | {took / 60:.1f} min | {c.get('passed', '-')} | {c.get('failures', '-')} "
              f"| {c.get('errors', '-')} | {c.get('skipped', '-')} | {result} |")
    return 0 if all(r[-1] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
