"""DAG hygiene for ``example_dags/``: every file imports in a DagBag without errors, opens no network
connection while it is parsed, and parses within a fixed time budget."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"
DAG_FILES = sorted(p for p in EXAMPLE_DAGS.glob("*.py") if not p.name.startswith("_"))
PARSE_BUDGET_SECONDS = 5.0
EXPECTED_DAG_IDS = {"datapump_nightly_export", "datapump_refresh_test_from_prod", "datapump_restore_drill"}


class _NetworkAtParseTime(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection or resolve a name while parsing fails loudly and is recorded."""
    attempts: list[str] = []

    def refuse(what):
        def _refuse(*args, **kwargs):
            attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise _NetworkAtParseTime(f"network access at DAG parse time: {what}{args}")

        return _refuse

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    # Connection env vars that would be used if a DAG reached for them at parse time.
    for conn_id in ("ORDS_DEFAULT", "ORDS_PROD", "ORDS_TEST"):
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id}", '{"conn_type": "ords", "host": "http://192.0.2.1:9/ords/x"}')
    monkeypatch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    monkeypatch.setenv("DATAPUMP_BACKUP_URL", "file:///nonexistent-datapump-backups/")
    return attempts


def _parse(path: Path):
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0 and 3.1
        from airflow.models.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=str(path), safe_mode=False)
    return bag, time.perf_counter() - started


def test_example_dags_folder_is_not_empty():
    assert DAG_FILES, f"no example DAGs in {EXAMPLE_DAGS}"


@pytest.mark.parametrize("path", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_example_dag_imports_without_network_within_budget(path, no_network):
    # The first parse in a process also pays for importing Airflow and the provider; the budget is
    # for the DAG file itself, which is what the dag-processor pays on every re-parse.
    _, cold = _parse(path)
    bag, took = _parse(path)
    assert not bag.import_errors, f"{path.name} failed to import: {bag.import_errors}"
    assert bag.dags, f"{path.name} defines no DAG"
    assert not no_network, f"{path.name} touched the network while being parsed: {no_network}"
    assert took < PARSE_BUDGET_SECONDS, (
        f"{path.name} took {took:.2f}s to parse (budget {PARSE_BUDGET_SECONDS}s; first parse {cold:.2f}s)")
    for dag_id, dag in bag.dags.items():
        assert dag.tags and "example" in dag.tags, f"{dag_id} lacks the 'example' tag"
        assert dag.doc_md, f"{dag_id} has no doc_md"
        assert dag.catchup is False, f"{dag_id} would backfill from its start_date"
        assert dag.fileloc == str(path)


def test_whole_folder_parses_with_the_expected_dags(no_network):
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0 and 3.1
        from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(EXAMPLE_DAGS), safe_mode=False)
    assert not bag.import_errors, bag.import_errors
    assert EXPECTED_DAG_IDS <= set(bag.dag_ids), bag.dag_ids
    assert not no_network, no_network


def test_dags_serialize(no_network):
    """What the dag-processor stores and the scheduler reads back: a DAG that cannot round-trip
    never runs, whatever its import looks like."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0 and 3.1
        from airflow.models.dagbag import DagBag
    try:
        from airflow.serialization.serialized_objects import DagSerialization
    except ImportError:  # Airflow 3.0-3.2 call it SerializedDAG (same to_dict/validate_schema/from_dict)
        from airflow.serialization.serialized_objects import SerializedDAG as DagSerialization

    bag = DagBag(dag_folder=str(EXAMPLE_DAGS), safe_mode=False)
    for dag_id, dag in bag.dags.items():
        data = DagSerialization.to_dict(dag)
        DagSerialization.validate_schema(data)
        again = DagSerialization.from_dict(data)
        assert set(again.task_dict) == set(dag.task_dict), dag_id
    assert not no_network, no_network



def test_the_network_guard_catches_a_dag_that_connects_at_parse_time(tmp_path, no_network):
    """Proves the guard above is live: a DAG that connects while being parsed is an import error."""
    bad = tmp_path / "bad_dag.py"
    bad.write_text(
        "import socket\n"
        "from airflow.sdk import DAG\n"
        "socket.create_connection(('192.0.2.1', 9), timeout=1)\n"
        "with DAG(dag_id='bad', schedule=None):\n"
        "    pass\n"
    )
    bag, _ = _parse(bad)
    assert bag.import_errors and "network access at DAG parse time" in next(iter(bag.import_errors.values()))
    assert no_network


def _scheduled_on(condition):
    """Assets and asset references a DAG's schedule waits for (through AssetAll / AssetAny)."""
    if condition is None:
        return
    inner = getattr(condition, "objects", None)
    if inner is not None:
        for item in inner:
            yield from _scheduled_on(item)
    else:
        yield condition


def test_every_scheduled_asset_is_the_one_some_example_dag_publishes(no_network):
    """An asset is identified by name *and* uri. Scheduling on ``Asset(name=X)`` when the producer
    publishes ``Asset(name=X, uri=Y)`` declares a second asset with the same name: Airflow keeps only
    one of them active, the producer's events are dropped ("Task has inactive assets"), and the
    consumer never runs. Reference a published asset by name with ``Asset.ref(name=X)`` instead."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0 and 3.1
        from airflow.models.dagbag import DagBag
    from airflow.sdk import Asset

    bag = DagBag(dag_folder=str(EXAMPLE_DAGS), safe_mode=False)
    published: dict[str, set[str]] = {}
    for dag in bag.dags.values():
        for task in dag.tasks:
            for outlet in getattr(task, "outlets", None) or []:
                if isinstance(outlet, Asset):
                    published.setdefault(outlet.name, set()).add(outlet.uri)
    assert all(len(uris) == 1 for uris in published.values()), f"one asset name, several uris: {published}"

    problems = []
    for dag in bag.dags.values():
        for wanted in _scheduled_on(getattr(dag.timetable, "asset_condition", None)):
            name, uri = getattr(wanted, "name", None), getattr(wanted, "uri", None)
            if name is not None and name not in published:
                problems.append(f"{dag.dag_id} waits for asset name {name!r}, which no example DAG publishes")
            elif isinstance(wanted, Asset) and published.get(name) != {uri}:
                problems.append(
                    f"{dag.dag_id} waits for Asset(name={name!r}, uri={uri!r}) but the published asset of "
                    f"that name has uri {sorted(published.get(name, ()))}"
                )
    assert not problems, problems


def test_the_refresh_goes_from_prod_to_test_through_object_storage(no_network):
    """The refresh DAG exports on ords_prod straight to an object-store URI for the night and imports
    on ords_test from the same URI; only the test side may drop, and only the import's own target."""
    bag, _ = _parse(EXAMPLE_DAGS / "datapump_refresh_test_from_prod.py")
    dag = bag.dags["datapump_refresh_test_from_prod"]
    assert set(dag.task_dict) == {"export", "import"}  # no hand-written verify task: the import checks the copy
    export, load = dag.task_dict["export"], dag.task_dict["import"]
    assert (export.ords_conn_id, load.ords_conn_id) == ("ords_prod", "ords_test")
    assert export.credential_name and load.credential_name == export.credential_name
    assert export.file_name.startswith("https://") and "%U" in export.file_name
    assert "ds_nodash" in export.file_name  # a folder per night
    assert load.file_name is None  # the URI comes from the export's result (from_job)
    assert load.remap_schemas == {"TESTUSER1": "TESTUSER2"} and list(load.replace_schemas) == ["TESTUSER2"]
    assert not getattr(export, "replace_schemas", None)


def test_the_restore_drill_restores_into_a_scratch_schema_on_test_and_drops_it(no_network):
    bag, _ = _parse(EXAMPLE_DAGS / "datapump_restore_drill.py")
    dag = bag.dags["datapump_restore_drill"]
    restore = dag.task_dict["restore"]
    assert restore.ords_conn_id == "ords_test" and restore.credential_name
    assert restore.file_name.startswith("https://") and "%U" in restore.file_name
    (scratch,) = restore.remap_schemas.values()
    assert list(restore.replace_schemas) == [scratch]
    assert restore.upstream_task_ids == {"find_export"}  # the export it is checked against, found on prod
    assert dag.task_dict["drop_scratch"].upstream_task_ids == {"restore"}


def test_the_nightly_export_copies_each_schema_and_keeps_the_newest_complete_sets(no_network, tmp_path, monkeypatch):
    """One export and one fetch per schema into <bucket>/<date>/, then retention: the newest
    DATAPUMP_KEEP_SETS complete night folders stay, older complete ones go, an incomplete one
    (a dump no manifest lists) is neither counted nor deleted."""
    import json

    monkeypatch.setenv("DATAPUMP_BACKUP_URL", tmp_path.as_uri() + "/")
    bag, _ = _parse(EXAMPLE_DAGS / "datapump_nightly_export.py")
    dag = bag.dags["datapump_nightly_export"]
    assert set(dag.task_dict) == {"export", "fetch", "apply_retention"}
    assert dag.task_dict["fetch"].upstream_task_ids == {"export"}
    assert dag.task_dict["apply_retention"].upstream_task_ids == {"fetch"}
    for night in ("2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"):
        folder = tmp_path / night
        folder.mkdir()
        (folder / "EXPDAT01.DMP").write_bytes(b"x")
        (folder / "JOB.manifest.json").write_text(json.dumps({"files": [{"name": "EXPDAT01.DMP"}]}))
    (tmp_path / "2026-12-05").mkdir()
    (tmp_path / "2026-12-05" / "EXPDAT01.DMP").write_bytes(b"x")  # that night's fetch failed: no manifest
    result = dag.task_dict["apply_retention"].python_callable(keep=2)
    assert result == {"kept": ["2026-12-04", "2026-12-03"], "removed": ["2026-12-02", "2026-12-01"],
                      "incomplete": ["2026-12-05"]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-12-03", "2026-12-04", "2026-12-05"]
