"""One migrated Airflow metadata database per test run, copied into every AIRFLOW_HOME that needs one.

``airflow db migrate`` on an empty SQLite file costs 7 s of CPU here, most of it importing Airflow
in a fresh process, and the suite needs a migrated database in every Airflow stack, in each xdist
worker's home and in each process that runs dag.test(). A copy of one migrated file is the same
database: the schema and the rows ``db migrate`` writes depend only on the installed Airflow.

The template lives in a folder that tests/conftest.py creates once per run (in the xdist controller,
whose environment the workers inherit) and names in ``$DATAPUMP_AIRFLOW_DB_TEMPLATE_DIR``; the first
process to need it migrates it under a file lock, the others wait and copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from filelock import FileLock

TEMPLATE_DIR_ENV = "DATAPUMP_AIRFLOW_DB_TEMPLATE_DIR"


def _template(env: dict[str, str]) -> Path:
    folder = Path(os.environ[TEMPLATE_DIR_ENV])
    db = folder / "home" / "airflow.db"
    with FileLock(str(folder / "migrate.lock"), timeout=300):
        if not db.exists():
            home = folder / "home"
            home.mkdir(exist_ok=True)
            migrate_env = {k: v for k, v in env.items() if k != "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"}
            migrate_env["AIRFLOW_HOME"] = str(home)
            subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=migrate_env, check=True,
                           capture_output=True, timeout=300, cwd=str(home))
    return db


def migrate(home: str | Path, env: dict[str, str] | None = None) -> None:
    """Leave a migrated ``airflow.db`` in ``home`` (Airflow's default SQLite location there).

    Without a template folder (a test module run on its own outside this suite's conftest), it
    migrates in place as before."""
    home = Path(home)
    env = dict(os.environ if env is None else env)
    target = home / "airflow.db"
    if target.exists():
        return
    if TEMPLATE_DIR_ENV not in os.environ:
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env={**env, "AIRFLOW_HOME": str(home)},
                       check=True, capture_output=True, timeout=300, cwd=str(home))
        return
    home.mkdir(parents=True, exist_ok=True)
    partial = home / "airflow.db.copying"
    shutil.copyfile(_template(env), partial)
    partial.rename(target)  # never a half-copied database under the name Airflow opens
