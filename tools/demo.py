"""``make demo``: the nightly export, a production→test refresh on two nights, and a restore drill.

Starts two ORDS emulators in-process, "prod" and "test", that share one object-store folder (the
bucket both databases reach), in a temporary AIRFLOW_HOME (SQLite), with ``ords_prod`` (also
``ords_default``) and ``ords_test`` pointing at them. Then runs ``airflow dags test`` for:

1. ``datapump_nightly_export`` on prod (dump sets fetched into a local folder, as before);
2. ``datapump_refresh_test_from_prod`` for night 1, then, after changing prod's TESTUSER1.EMP row
   count (``PATCH /_emulator/catalog/TESTUSER1/EMP``), for night 2: export on prod straight to
   the object store, import on test from the same URI into TESTUSER2, which the import replaces;
3. ``datapump_restore_drill`` for night 2: night 2's set restored into a scratch schema on test,
   verified, dropped.

It prints the rows each night landed in TESTUSER2 on test, and exits non-zero when a step fails,
when night 2 did not land night 2's rows, when the drill left its scratch schema behind, or when
anything changed on prod apart from the row edit (nothing may ever be dropped there). The
emulators are stopped on every path.

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

import httpx

REPO = Path(__file__).resolve().parent.parent
DAGS_FOLDER = REPO / "example_dags"
NIGHTLY, REFRESH, DRILL = "datapump_nightly_export", "datapump_refresh_test_from_prod", "datapump_restore_drill"
NIGHTS = ("2026-12-01", "2026-12-02")
SOURCE_SCHEMA, TARGET_SCHEMA, SCRATCH_SCHEMA = "TESTUSER1", "TESTUSER2", "RESTORE_DRILL"
EDITED_TABLE = "EMP"
BUCKET = "https://objectstorage.demo.invalid/n/demo/b/datapump/o/"  # any https URI: the folder is the bucket
STEP_TIMEOUT = 300  # seconds; a hung step fails the demo instead of hanging it


def _venv_bin() -> Path:
    """The bin directory of the interpreter running this script (the project's venv under make)."""
    return Path(sys.executable).parent


def _airflow_env(home: Path, backups: Path, prod: dict, test: dict) -> dict[str, str]:
    env = dict(os.environ)
    # Never inherit another Airflow's settings (a user's AIRFLOW__* or connections) into the demo.
    for key in list(env):
        if key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_", "DATAPUMP_")):
            del env[key]
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW_CONN_ORDS_DEFAULT": json.dumps(prod),
            "AIRFLOW_CONN_ORDS_PROD": json.dumps(prod),
            "AIRFLOW_CONN_ORDS_TEST": json.dumps(test),
            "DATAPUMP_BACKUP_URL": backups.as_uri().rstrip("/") + "/",
            "DATAPUMP_OBJECT_STORE_URI": BUCKET,
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


def _step_log(logs: Path, step: str) -> Path:
    return logs / f"{step.replace(' ', '-')}.log"


# What the import says about its drop and its copy check: the lines a DBA reads in the task log.
TOLD = ("replace_schemas:", "Copy verified", "Copy not verified", "did not land what the export took")


def _told(log: Path) -> list[str]:
    """The lines of a step's log that say what was dropped and whether the copy was verified."""
    lines = log.read_text(errors="replace").splitlines() if log.is_file() else []
    said = [line.split("] ", 1)[-1].split(" [airflow.task", 1)[0] for line in lines if any(t in line for t in TOLD)]
    for line in said:
        print(f"      {line}")
    return said


def _run(step: str, args: list[str], env: dict[str, str], logs: Path) -> bool:
    log = _step_log(logs, step)
    started = time.monotonic()
    print(f"  {step:<52} ", end="", flush=True)
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
    return ok


def _tables(emulator, schema: str) -> dict[str, int | None]:
    """{table: rows} of ``schema`` in the emulator's catalog (GET /_emulator/catalog); {} when absent."""
    return _shape(emulator.catalog()).get(schema, {})


def _shape(catalog: dict) -> dict[str, dict[str, int | None]]:
    """{schema: {table: rows}}: what a drop, a create or an import on a database would change."""
    return {schema: {t: i.get("rows") for t, i in (s.get("tables") or {}).items()}
            for schema, s in catalog.get("schemas", {}).items()}


def _set_rows(emulator, schema: str, table: str, rows: int) -> None:
    resp = httpx.patch(f"{emulator.url}/_emulator/catalog/{schema}/{table}", json={"rows": rows}, timeout=10)
    resp.raise_for_status()


def _print_jobs(name: str, emulator) -> None:
    print(f"\nData Pump jobs on the {name} emulator:")
    for job in sorted(emulator.jobs(), key=lambda j: str(j.get("created") or "")):
        what = ",".join(job.get("schemas") or []) or ",".join(job.get("tables") or [])
        remap = job.get("remap_schemas") or {}
        if remap:
            what += " remap " + ",".join(f"{k}->{v}" for k, v in remap.items())
        print(f"  {job.get('owner_name') or '?'},{job.get('job_name') or '?':<36} {job.get('operation') or '?':<6} "
              f"{job.get('job_mode') or '':<6} {job.get('outcome') or '?':<8} {what}")


def _print_fetched(backups: Path) -> list[str]:
    print(f"\nFiles the nightly export fetched into {backups}:")
    manifests = sorted(backups.rglob("*.manifest.json"))
    if not manifests:
        return [f"no manifest under {backups}"]
    problems = []
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
            print(f"    {f.get('name', '?'):<40} {f.get('bytes', f.get('size', '?')):>9} bytes  sha256 {digest}")
    return problems


def _night_summary(night: str, source: dict, landed: dict) -> list[str]:
    print(f"\nNight {night}: rows in {TARGET_SCHEMA} on test (source {SOURCE_SCHEMA} on prod at export)")
    for table in sorted(source.keys() | landed.keys()):
        same = "same" if source.get(table) == landed.get(table) else "DIFFERS"
        print(f"  {TARGET_SCHEMA}.{table:<20} {landed.get(table, 'missing')!s:>7} rows  "
              f"({same}; {SOURCE_SCHEMA}.{table}: {source.get(table, 'missing')})")
    print(f"  total {sum(int(r or 0) for r in landed.values())} rows in {len(landed)} table(s)")
    if not landed:
        return [f"night {night}: {TARGET_SCHEMA} is missing or empty on test"]
    if landed != source:
        return [f"night {night}: {TARGET_SCHEMA} on test does not match {SOURCE_SCHEMA} on prod"]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--job-seconds", type=float, default=3.0, help="how long each emulated job runs (default 3)")
    parser.add_argument("--keep-dir", default=None, help="work in this directory instead of a new temp dir")
    args = parser.parse_args(argv)

    from airflow_provider_datapump.emulator import run_emulator

    work = Path(args.keep_dir).resolve() if args.keep_dir else Path(tempfile.mkdtemp(prefix="datapump-demo-"))
    home, backups, logs, bucket = work / "airflow_home", work / "backups", work / "logs", work / "object-store"
    for d in (home, backups, logs, bucket):
        d.mkdir(parents=True, exist_ok=True)
    airflow = shutil.which("airflow", path=str(_venv_bin())) or "airflow"

    print(f"Data Pump provider demo (working in {work})")
    started = time.monotonic()
    failed: list[str] = []
    problems: list[str] = []
    emulator_args = {"duration": args.job_seconds, "object_store_dir": str(bucket)}
    with run_emulator(data_dir=str(work / "prod-data"), db_unique_name="PROD", **emulator_args) as prod, \
            run_emulator(data_dir=str(work / "test-data"), db_unique_name="TEST", **emulator_args) as test:
        print(f"  prod emulator on {prod.url}, test emulator on {test.url}, sharing the bucket {bucket}")
        print(f"  (each job runs {args.job_seconds:g}s, so the tasks defer)")
        env = _airflow_env(home, backups, prod.airflow_connection(), test.airflow_connection())
        prod_before = prod.catalog()

        def step(name: str, cmd: list[str]) -> bool:
            ok = _run(name, cmd, env, logs)
            if not ok:
                failed.append(name)
            return ok

        if step("airflow db migrate", [airflow, "db", "migrate"]):
            step(f"dags test {NIGHTLY}", [airflow, "dags", "test", NIGHTLY])
            landed: dict[str, dict] = {}
            for n, night in enumerate(NIGHTS):
                if n:  # production changes between the nights
                    rows = (_tables(prod, SOURCE_SCHEMA).get(EDITED_TABLE) or 0) + 7
                    _set_rows(prod, SOURCE_SCHEMA, EDITED_TABLE, rows)
                    print(f"  prod: {SOURCE_SCHEMA}.{EDITED_TABLE} now has {rows} rows (PATCH /_emulator/catalog)")
                source = _tables(prod, SOURCE_SCHEMA)
                name = f"dags test {REFRESH} {night}"
                step(name, [airflow, "dags", "test", REFRESH, night])
                landed[night] = (source, _tables(test, TARGET_SCHEMA))
                said = _told(_step_log(logs, name))
                if not any(line.startswith("Copy verified") for line in said):
                    problems.append(f"night {night}: the import's log does not say the copy was verified")
                if n and not any(f"dropped schema {TARGET_SCHEMA}" in line for line in said):
                    problems.append(f"night {night}: the import's log does not say it dropped {TARGET_SCHEMA}")
            name = f"dags test {DRILL} {NIGHTS[-1]}"
            step(name, [airflow, "dags", "test", DRILL, NIGHTS[-1]])
            if not any(line.startswith("Copy verified") for line in _told(_step_log(logs, name))):
                problems.append("the restore drill's log does not say the copy was verified")

            _print_jobs("prod", prod)
            _print_jobs("test", test)
            problems += _print_fetched(backups)
            for night, (source, rows) in landed.items():
                problems += _night_summary(night, source, rows)
            first, last = (landed[n][1] for n in NIGHTS)
            if first and last and first == last:
                problems.append(f"night {NIGHTS[-1]} landed the same rows as night {NIGHTS[0]}: not night 2's data")

            if _tables(test, SCRATCH_SCHEMA):
                problems.append(f"the restore drill left {SCRATCH_SCHEMA} behind on test")
            drill_imports = [j for j in test.jobs() if SCRATCH_SCHEMA in (j.get("remap_schemas") or {}).values()]
            print(f"\nRestore drill: {len(drill_imports)} import(s) into {SCRATCH_SCHEMA} on test, "
                  f"outcome {[j.get('outcome') for j in drill_imports]}; "
                  f"{SCRATCH_SCHEMA} {'still there' if _tables(test, SCRATCH_SCHEMA) else 'dropped afterwards'}")
            if not any(j.get("outcome") == "success" for j in drill_imports):  # the emulator's word
                problems.append("the restore drill's import did not succeed on test")

            expected = _shape(prod_before)
            expected[SOURCE_SCHEMA][EDITED_TABLE] = _tables(prod, SOURCE_SCHEMA).get(EDITED_TABLE)
            unchanged = _shape(prod.catalog()) == expected
            print(f"\nProduction: catalog {'unchanged' if unchanged else 'CHANGED'} apart from the row edit; "
                  f"imports run on prod: {sum(j.get('operation') == 'IMPORT' for j in prod.jobs())}")
            if not unchanged:
                problems.append("prod's catalog changed beyond the row edit (something was dropped or created there)")
            if any(j.get("operation") == "IMPORT" for j in prod.jobs()):
                problems.append("an import ran on prod")

        print("\nWhere things are:")
        print(f"  the bucket (object store): {bucket}")
        print(f"  fetched dump sets:         {backups}")
        print(f"  step logs:                 {logs}")
        print(f"  AIRFLOW_HOME (task logs):  {home}")
    # The emulators are stopped here (and on any exception, by the context managers).

    took = time.monotonic() - started
    if failed or problems:
        print(f"\nDEMO FAILED after {took:.0f}s:")
        for name in failed:
            print(f"  step failed: {name} (log in {logs})")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(f"\nDemo finished in {took:.0f}s: the nightly export, two nights of refresh and the restore drill "
          "succeeded; nothing changed on prod but the row edit.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
