"""The refresh example (production to test, two ORDS connections) under dag.test(), in a process of
its own (tests/lineage/run_refresh.py), against two emulators of this test process that share an
object-store folder (the ``ords_pair`` fixture)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.lineage import olschema

REPO = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).parent / "run_refresh.py"
LISTENER = "db.example.test:1521/FREEPDB1"
# Two databases, each named by its own connection's field: production keeps the one-database name.
PROD_LISTENER, TEST_LISTENER = LISTENER, "test.example.test:1521/TESTPDB"


def connection(emu, **extra) -> str:
    """An emulator's Airflow connection as JSON, with ``extra`` merged into its extra."""
    conn = emu.airflow_connection()
    conn["extra"] = {**(json.loads(conn["extra"]) if isinstance(conn.get("extra"), str) else conn.get("extra") or {}), **extra}
    return json.dumps(conn)


def run_refresh(pair, events: Path, *args: str, nights: list[dict] | None = None) -> dict:
    """Run the example, ords_prod (and ords_default) and ords_test pointing at the two emulators of
    ``pair``; OpenLineage events go to files in ``events``; ``nights`` as run_refresh.py reads them.
    Returns its result, and Airflow's output under ``output``."""
    result = events.parent / f"{events.name}.result.json"
    env = {
        "DATAPUMP_LINEAGE_RESULT": str(result),
        **os.environ,
        "AIRFLOW_CONN_ORDS_DEFAULT": connection(pair.prod, lineage_database=PROD_LISTENER),
        "AIRFLOW_CONN_ORDS_PROD": connection(pair.prod, lineage_database=PROD_LISTENER),
        "AIRFLOW_CONN_ORDS_TEST": connection(pair.test, lineage_database=TEST_LISTENER),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": olschema.file_transport(events),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "example_dags"),
        # A bucket of its own per run: the session's emulators share one object-store folder, and Data
        # Pump refuses to overwrite a dump (ORA-31641) another test's night left at the same URI.
        "DATAPUMP_OBJECT_STORE_URI": f"https://objectstorage.example.test/n/tests/b/{uuid.uuid4().hex}/o/",
        **({"DATAPUMP_REFRESH_NIGHTS": json.dumps(nights)} if nights else {}),
    }
    proc = subprocess.run([sys.executable, str(RUNNER), *args], env=env, capture_output=True, text=True,
                          timeout=120 + 120 * len(nights or [None]), cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(result.read_text())
    out["output"] = proc.stdout + proc.stderr
    return out
