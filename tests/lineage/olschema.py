"""Validate emitted OpenLineage events against the published schemas, offline.

Every event is checked against the schema its ``schemaURL`` names, and every facet in it (run, job,
dataset, input and output facets) against the schema its ``_schemaURL`` names. A facet whose schema
is not known here fails the check rather than being skipped: "valid" must mean every part was checked.

Schemas come from: OpenLineage's spec (vendored, see schemas/openlineage/SOURCE.md), the facets that
installed packages ship (Airflow's OpenLineage provider, openlineage-integration-common) and this
provider's own (airflow_provider_datapump/openlineage_facets.json).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

VENDORED = Path(__file__).parent / "schemas" / "openlineage"


def _installed_schema_files() -> Iterator[Path]:
    for package, folder in (("airflow.providers.openlineage", "facets"), ("openlineage.common", "schema")):
        try:
            root = resources.files(package).joinpath(folder)
        except ModuleNotFoundError:
            continue
        yield from (Path(str(p)) for p in root.iterdir() if p.name.endswith(".json"))


@lru_cache(maxsize=1)
def registry() -> Registry:
    from airflow_provider_datapump import lineage

    resources_: list[tuple[str, Resource]] = []
    files = [VENDORED / "OpenLineage.json", *sorted((VENDORED / "facets").glob("*.json")), *_installed_schema_files()]
    for path in files:
        schema = json.loads(path.read_text())
        uri = schema.get("$id") or path.as_uri()
        resources_.append((uri, Resource.from_contents(schema, default_specification=DRAFT202012)))
    ours = json.loads(resources.files("airflow_provider_datapump").joinpath(lineage.FACETS_SCHEMA_FILE).read_text())
    assert ours["$id"] == lineage.FACETS_SCHEMA_URL
    resources_.append((lineage.FACETS_SCHEMA_URL, Resource.from_contents(ours, default_specification=DRAFT202012)))
    return Registry().with_resources(resources_)


def _errors(instance: Any, url: str) -> list[str]:
    base = url.split("#", 1)[0]
    try:
        registry().contents(base)
    except Exception:
        return [f"no schema known for {url}"]
    validator = Draft202012Validator({"$ref": url}, registry=registry())
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}" for e in validator.iter_errors(instance)]


def facets_of(event: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, facet) for every facet in an event."""
    for kind in ("run", "job"):
        for name, facet in ((event.get(kind) or {}).get("facets") or {}).items():
            yield f"{kind}.facets.{name}", facet
    for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        for i, ds in enumerate(event.get(side) or ()):
            for key in ("facets", extra):
                for name, facet in (ds.get(key) or {}).items():
                    yield f"{side}[{i}].{key}.{name}", facet


def validate_event(event: dict[str, Any]) -> list[str]:
    """Every problem found, as readable strings; [] means the event and each facet are valid."""
    problems = [f"event: {e}" for e in _errors(event, event.get("schemaURL") or "<no schemaURL>")]
    for where, facet in facets_of(event):
        url = facet.get("_schemaURL") if isinstance(facet, dict) else None
        if not url:
            problems.append(f"{where}: no _schemaURL")
            continue
        problems += [f"{where} ({url}): {e}" for e in _errors(facet, url)]
    return problems


def read_events(folder: Path) -> list[dict[str, Any]]:
    """Events the file transport wrote (one JSON document per file with append=False)."""
    events = []
    for path in sorted(folder.glob("*.json")):
        text = path.read_text()
        for line in text.splitlines() if text.lstrip().startswith("{") and "\n{" in text else [text]:
            if line.strip():
                events.append(json.loads(line))
    return events


def file_transport(folder: Path) -> str:
    """The AIRFLOW__OPENLINEAGE__TRANSPORT value that writes each event to a file in ``folder``."""
    return json.dumps({"type": "file", "log_file_path": str(folder / "ol"), "append": False})


def complete_event(events: list[dict[str, Any]], task_id: str, tries: int = 1) -> dict[str, Any]:
    """The task's COMPLETE event. A try that Airflow's stale-success race retried (tests/airflow_stack.py)
    may have sent one before its state report was refused, so a task of ``tries`` tries may have sent
    up to that many; the last one is the try that ended the task."""
    found = [e for e in events if e["eventType"] == "COMPLETE" and e["job"]["name"].endswith(f".{task_id}")]
    assert 1 <= len(found) <= tries, (
        f"expected one COMPLETE event per try for {task_id} ({tries} tries), got {len(found)}: "
        f"{[e['job']['name'] for e in events]}")
    return max(found, key=lambda e: e["eventTime"])


def assert_refresh_lineage(events: list[dict[str, Any]], namespace: str, service: str, secrets: tuple[str, ...],
                           *, target: tuple[str, str] | None = None, rows: int = 14,
                           tries: dict[str, int] | None = None) -> dict[str, Any]:
    """The refresh DAG's events trace TESTUSER1.EMP -> dump file -> TESTUSER2.EMP with row counts,
    are valid against the schemas, and carry no credential. Returns a summary for the test to print.

    ``namespace``/``service`` name the database exported from; ``target`` the (namespace, service)
    imported into when it is another database, the dump then being an object-store URI both name."""
    assert events, "no OpenLineage event was written"
    problems = {f"{e['eventType']} {e['job']['name']}": validate_event(e) for e in events}
    problems = {k: v for k, v in problems.items() if v}
    assert not problems, f"events not valid against the OpenLineage schemas: {json.dumps(problems, indent=1)[:4000]}"
    raw = json.dumps(events)
    leaked = [s for s in secrets if s in raw]
    assert not leaked, f"a credential appears in the OpenLineage events ({len(leaked)} hit(s))"

    target_namespace, target_service = target or (namespace, service)
    tries = tries or {}
    export = complete_event(events, "export", tries.get("export", 1))
    load = complete_event(events, "import", tries.get("import", 1))
    exported = {(i["namespace"], i["name"]): i["inputFacets"]["inputStatistics"]["rowCount"] for i in export["inputs"]}
    imported = {(o["namespace"], o["name"]): o["outputFacets"]["outputStatistics"]["rowCount"] for o in load["outputs"]}
    src, dst = (namespace, f"{service}.TESTUSER1.EMP"), (target_namespace, f"{target_service}.TESTUSER2.EMP")
    assert exported.get(src) == rows, f"the export's inputs do not carry TESTUSER1.EMP with {rows} rows: {exported}"
    assert imported.get(dst) == rows, f"the import's outputs do not carry TESTUSER2.EMP with {rows} rows: {imported}"
    # Every table exported arrives under the remapped schema, in the target database, with the same row count.
    assert {(target_namespace, n.replace(f"{service}.TESTUSER1.", f"{target_service}.TESTUSER2.")): r
            for (_, n), r in exported.items()} == imported, (exported, imported)
    # The dump file links them: the export's output is the import's input.
    dumps_out = {(o["namespace"], o["name"]) for o in export["outputs"]}
    dumps_in = {(i["namespace"], i["name"]) for i in load["inputs"]}
    assert dumps_out and dumps_out == dumps_in, f"export wrote {dumps_out}, import read {dumps_in}"
    if target is None:  # one database: the dump lives in its directory object
        assert all(n.startswith(f"{service}/DATA_PUMP_DIR/") and n.upper().endswith(".DMP") for _, n in dumps_out), dumps_out
    else:  # two databases: the dump is an object in the bucket both reach, named by its URI
        assert all(ns.startswith("https://") and n.upper().endswith(".DMP") for ns, n in dumps_out), dumps_out
    emp = next(o for o in load["outputs"] if o["name"] == dst[1])
    links = emp["facets"]["symlinks"]["identifiers"]
    assert [(i["name"].rsplit(".", 2)[-2:], i["type"]) for i in links] == [(["TESTUSER1", "EMP"], "TABLE")], links
    # The symlink names the source table where the export read it: production's database.
    assert links == [{"namespace": namespace, "name": src[1], "type": "TABLE"}], links
    for event, operation in ((export, "EXPORT"), (load, "IMPORT")):
        job = event["run"]["facets"]["dataPumpJob"]
        assert job["operation"] == operation and job["outcome"] == "succeeded" and job["ownerName"] and job["jobName"]
        assert "@" not in (job.get("ordsBaseUrl") or "")
    return {"events": len(events), "dump": sorted(dumps_out)[0][1], "rows": exported}
