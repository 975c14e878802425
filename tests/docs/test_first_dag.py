"""The first page's "A first DAG", saved into a DAGs folder as the page says, runs to success with
the page's own command, ``airflow dags test datapump_first_export``, against the emulator through
the ``AIRFLOW_CONN_ORDS_DEFAULT`` the page shows (issue #28: the first page gets a new user from
install to a first successful DAG)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests import airflow_db

ROOT = Path(__file__).resolve().parents[2]


def first_dag_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("<!-- --8<-- [start:first-dag] -->", 1)[1].split("<!-- --8<-- [end:first-dag] -->", 1)[0]


def test_the_first_dag_succeeds_with_the_pages_command(ords_conn, tmp_path):
    section = first_dag_section()
    (code,) = re.findall(r"^```python\n(.*?)^```", section, re.S | re.M)
    (shell,) = re.findall(r"^```bash\n(.*?)^```", section, re.S | re.M)
    command = shell.strip().splitlines()[-1]
    assert command == "airflow dags test datapump_first_export"
    # The page's connection is the emulator's default user on its port: the same one, on ours.
    page_conn = json.loads(re.search(r"AIRFLOW_CONN_ORDS_DEFAULT='(.*?)'", shell, re.S).group(1))
    ours = ords_conn.airflow_connection()
    assert (page_conn["login"], page_conn["password"]) == (ours["login"], ours["password"])
    assert page_conn["host"].endswith("/ords/dbapi_user") and ours["host"].endswith("/ords/dbapi_user")

    home, dags = tmp_path / "home", tmp_path / "dags"
    dags.mkdir()
    (dags / "datapump_first_export.py").write_text(code)  # the file name the page gives
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW_CONN_ORDS_DEFAULT": json.dumps({**page_conn, "host": ours["host"], "port": ours.get("port")}),
    })  # fmt: skip
    airflow_db.migrate(home, env)
    ords_conn.set_scenario(duration=0.5)
    done = subprocess.run([sys.executable, "-m", "airflow", *command.split()[1:]], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=240)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    # What the page says the task log shows.
    assert re.search(r"Started Data Pump EXPORT job DBAPI_USER,DATAPUMP_REST_EXPORT_\d+", out), out[-4000:]
    assert re.search(r'Job \\?"DBAPI_USER\\?"\.\\?"DATAPUMP_REST_EXPORT_\d+\\?" successfully completed at', out), out[-4000:]
    (job,) = [j for j in ords_conn.jobs() if j["operation"] == "EXPORT"]
    assert job["schemas"] == ["TESTUSER1"] and job["directory"] == "DATA_PUMP_DIR"
