"""``make demo``: run both example DAGs against the ORDS emulator and print what happened.

Creates a temporary AIRFLOW_HOME (SQLite), starts the emulator in-process on a free port, points
``AIRFLOW_CONN_ORDS_DEFAULT`` at it, runs ``airflow db migrate`` and then ``airflow dags test`` for
the refresh DAG and the nightly export DAG, and prints a short summary: the jobs the emulator saw,
the files written with their checksums, and the rows now in TESTUSER2. Exits non-zero when any step
fails; the emulator is stopped on every path.

Usage: ``python tools/demo.py [--job-seconds 3] [--keep-dir DIR]``. No arguments are needed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DAGS_FOLDER = REPO / "example_dags"
DAGS = ("datapump_refresh_test_from_prod", "datapump_nightly_export")
SOURCE_SCHEMA, TARGET_SCHEMA = "TESTUSER1", "TESTUSER2"
STEP_TIMEOUT = 300  # seconds; a hung step fails the demo instead of hanging it


def _venv_bin() -> Path:
    """The bin directory of the interpreter running this script (the project's venv under make)."""
    return Path(sys.executable).parent


def _airflow_env(home: Path, backups: Path, conn: dict) -> dict[str, str]:
    env = dict(os.environ)
    # Never inherit another Airflow's settings (a user's AIRFLOW__* or connections) into the demo.
    for key in list(env):
        if key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")):
            del env[key]
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW_CONN_ORDS_DEFAULT": json.dumps(conn),
            "DATAPUMP_BACKUP_URL": backups.as_uri().rstrip("/") + "/",
            "PATH": f"{_venv_bin()}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as err:
        return f"(could not read {path}: {err})"


def _run(step: str, args: list[str], env: dict[str, str], logs: Path) -> tuple[bool, float, Path]:
    log = logs / f"{step}.log"
    started = time.monotonic()
    print(f"  {step:<40} ", end="", flush=True)
    with log.open("wb") as out:
        try:
            proc = subprocess.run(
                args, env=env, cwd=str(logs), stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, timeout=STEP_TIMEOUT, check=False,
            )
            ok = proc.returncode == 0
            why = f"rc={proc.returncode}"
        except subprocess.TimeoutExpired:
            ok, why = False, f"timed out after {STEP_TIMEOUT}s"
    took = time.monotonic() - started
    print(f"{'ok' if ok else 'FAILED (' + why + ')'}  {took:5.1f}s", flush=True)
    if not ok:
        print(f"\n---- last 60 lines of {log} ----\n{_tail(log)}\n---- end of {log.name} ----\n", flush=True)
    return ok, took, log


def _summary(emulator, backups: Path, home: Path, logs: Path) -> list[str]:
    problems: list[str] = []
    print("\nData Pump jobs created on the emulator:")
    jobs = emulator.jobs()
    if not jobs:
        problems.append("the emulator saw no jobs")
    for job in sorted(jobs, key=lambda j: str(j.get("created") or "")):
        owner = job.get("owner_name") or "?"
        name = job.get("job_name") or "?"
        what = ",".join(job.get("schemas") or []) or ",".join(job.get("tables") or [])
        remap = job.get("remap_schemas") or {}
        if remap:
            what += " remap " + ",".join(f"{k}->{v}" for k, v in remap.items())
        print(f"  {owner},{name:<36} {job.get('operation') or '?':<6} {job.get('job_mode') or '':<6} "
              f"{job.get('outcome') or '?':<8} {what}")

    print(f"\nFiles fetched into {backups}:")
    manifests = sorted(backups.rglob("*.manifest.json"))
    if not manifests:
        problems.append(f"no manifest under {backups}")
    for manifest_path in manifests:
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, ValueError) as err:
            problems.append(f"unreadable manifest {manifest_path}: {err}")
            continue
        job = manifest.get("job", {})
        print(f"  {manifest_path.relative_to(backups)}  (job {job.get('owner_name')},{job.get('job_name')}: "
              f"{job.get('operation')} {job.get('outcome')})")
        for f in manifest.get("files", []):
            digest = f.get("sha256") or f.get("checksum") or "?"
            size = f.get("bytes", f.get("size", "?"))
            print(f"    {f.get('name', '?'):<40} {size:>9} bytes  sha256 {digest}")

    print(f"\nRows in {TARGET_SCHEMA} on the emulator (after the refresh):")
    schemas = emulator.catalog().get("schemas", {})
    tables = schemas.get(TARGET_SCHEMA, {}).get("tables")
    source = schemas.get(SOURCE_SCHEMA, {}).get("tables", {})
    if not tables:
        problems.append(f"{TARGET_SCHEMA} is missing or empty on the emulator")
    else:
        for table, info in sorted(tables.items()):
            expected = (source.get(table) or {}).get("rows")
            same = "same as" if expected == info.get("rows") else "DIFFERS from"
            print(f"  {TARGET_SCHEMA}.{table:<20} {info.get('rows', '?'):>7} rows  ({same} {SOURCE_SCHEMA}: {expected})")
        if {t: i.get("rows") for t, i in tables.items()} != {t: i.get("rows") for t, i in source.items()}:
            problems.append(f"{TARGET_SCHEMA} does not match {SOURCE_SCHEMA} on the emulator")
        print(f"  total {sum(int(t.get('rows') or 0) for t in tables.values())} rows in {len(tables)} table(s)")

    print("\nWhere things are:")
    print(f"  dump sets and manifests: {backups}")
    print(f"  step logs:               {logs}")
    print(f"  AIRFLOW_HOME (task logs): {home}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--job-seconds", type=float, default=3.0, help="how long each emulated job runs (default 3)")
    parser.add_argument("--keep-dir", default=None, help="work in this directory instead of a new temp dir")
    args = parser.parse_args(argv)

    from airflow_provider_datapump.emulator import run_emulator

    work = Path(args.keep_dir).resolve() if args.keep_dir else Path(tempfile.mkdtemp(prefix="datapump-demo-"))
    home, backups, logs = work / "airflow_home", work / "backups", work / "logs"
    for d in (home, backups, logs):
        d.mkdir(parents=True, exist_ok=True)
    airflow = shutil.which("airflow", path=str(_venv_bin())) or "airflow"

    print(f"Data Pump provider demo (working in {work})")
    started = time.monotonic()
    failed: list[str] = []
    with run_emulator(duration=args.job_seconds, data_dir=str(work / "emulator-data")) as emulator:
        print(f"  emulator on {emulator.url} (each job runs {args.job_seconds:g}s, so the tasks defer)")
        env = _airflow_env(home, backups, emulator.airflow_connection())
        steps = [("airflow db migrate", [airflow, "db", "migrate"])]
        steps += [(f"airflow dags test {dag}", [airflow, "dags", "test", dag]) for dag in DAGS]
        for step, cmd in steps:
            ok, _, _ = _run(step.replace("airflow ", "").replace(" ", "-"), cmd, env, logs)
            if not ok:
                failed.append(step)
                if step == "airflow db migrate":
                    break  # nothing else can run without a database
        problems = _summary(emulator, backups, home, logs)
    # The emulator is stopped here (and on any exception, by the context manager).

    took = time.monotonic() - started
    if failed or problems:
        print(f"\nDEMO FAILED after {took:.0f}s:")
        for step in failed:
            print(f"  step failed: {step} (log in {logs})")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(f"\nDemo finished in {took:.0f}s: both DAGs succeeded against the emulator.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
