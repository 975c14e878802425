"""Run the refresh example DAG with dag.test() in a process of its own (the OpenLineage provider
reads its configuration once per process, so each configuration needs a fresh one).

argv: [--block-openlineage] [--no-retries]. With the first, importing OpenLineage fails as if the extra
were not installed; the second drops the example's retry (and its one-minute delay) for failure tests.

DATAPUMP_REFRESH_NIGHTS, when set, is a JSON list of nights run one after the other in this process,
each ``{"logical_date": ISO 8601, "before": [{"method": ..., "url": ..., "json": ...}, ...]}``: the
requests in ``before`` (an emulator's controls, e.g. a table's new row count on production) are sent
ahead of that night's run. Unset, one run with dag.test()'s default logical date.

Writes {"state": <the last run's>, "states": [<each night's>], "openlineage_modules": [...]} as JSON to
the file named by DATAPUMP_LINEAGE_RESULT (stdout also carries Airflow's own output).
"""

from __future__ import annotations

import importlib.abc
import json
import os
import sys
from pathlib import Path

import httpx
import pendulum

EXAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "datapump_refresh_test_from_prod.py"


class _Absent(importlib.abc.MetaPathFinder):
    """The OpenLineage client and the provider's code fail to import. The provider's metadata module
    stays importable: Airflow's ProvidersManager reads it for every installed distribution, and an
    uninstalled one would have no entry point to read at all."""

    def find_spec(self, name, path=None, target=None):
        blocked = name == "openlineage" or name.startswith("openlineage.") or (
            name.startswith("airflow.providers.openlineage.") and name != "airflow.providers.openlineage.get_provider_info")
        if blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: the extra is not installed)", name=name)
        return None


def main() -> None:
    if "--block-openlineage" in sys.argv:
        sys.meta_path.insert(0, _Absent())
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: the repo's tests package
    from tests.airflow_db import migrate

    migrate(os.environ["AIRFLOW_HOME"])
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0 and 3.1
        from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(EXAMPLE))
    assert not bag.import_errors, bag.import_errors
    dag = bag.dags["datapump_refresh_test_from_prod"]
    if "--no-retries" in sys.argv:
        for task in dag.tasks:
            task.retries = 0
    states = []
    for night in json.loads(os.environ.get("DATAPUMP_REFRESH_NIGHTS") or "[{}]"):
        for request in night.get("before", ()):
            httpx.request(request["method"], request["url"], json=request.get("json"), timeout=10).raise_for_status()
        run = dag.test(logical_date=pendulum.parse(night["logical_date"])) if "logical_date" in night else dag.test()
        states.append(str(run.state))
    loaded = sorted(m for m in sys.modules if m.split(".")[0] == "openlineage" or m.startswith("airflow.providers.openlineage.")
                    or m == "airflow_provider_datapump.lineage")
    loaded = [m for m in loaded if m != "airflow.providers.openlineage.get_provider_info"]
    Path(os.environ["DATAPUMP_LINEAGE_RESULT"]).write_text(json.dumps({"state": states[-1], "states": states, "openlineage_modules": loaded}))


if __name__ == "__main__":
    main()
