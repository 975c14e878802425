"""Did the import land what the export took? The one policy for comparing their tables' rows.

Pure (no network, no Airflow): the operator hands it the import's request and result and the
export's objects (from ``from_job``, or parsed from the export log the import job links), and
gets back a JSON-safe record for the result (``copy_verified``) and, when the copy differs, the
message the task fails with. Sync, reattach and deferred paths all judge through it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_datapump.selection import parse_condition

__all__ = ["compare_copy", "copy_failure", "nothing_to_compare"]

_MAX_LISTED = 20

Key = tuple[str, str, str | None]


def nothing_to_compare(reason: str) -> dict[str, Any]:
    return {"verified": False, "reason": reason}


def _key(row: Mapping[str, Any]) -> Key:
    part = row.get("partition")
    return str(row.get("schema")), str(row.get("name")), str(part) if part else None


def _show(key: Key) -> str:
    schema, name, part = key
    return f"{schema}.{name}" + (f":{part}" if part else "")


def _conditions(body: Mapping[str, Any], kind: str) -> tuple[list[Any], bool]:
    """The parsed conditions of one expression kind, and whether every one could be parsed."""
    out, settled = [], True
    for item in body.get(kind) or ():
        text = item.get("expression") if isinstance(item, Mapping) else None
        cond = parse_condition(text) if isinstance(text, str) else None
        if cond is None:
            settled = False
        else:
            out.append(cond)
    return out, settled


def compare_copy(
    request: Mapping[str, Any],
    imported: Mapping[str, Any],
    exported: Iterable[Mapping[str, Any]],
    *,
    source: str,
    exported_complete: bool = True,
) -> dict[str, Any]:
    """Compare, within the import's selection, each exported table's rows with the imported ones.

    ``request`` is the import body as sent (its selection and remap), ``imported`` the import's
    result dict, ``exported`` the export's object rows (``schema``, ``name``, ``partition``,
    ``rows``). Tables are matched after the remap. A table the export took and the import did not
    land, or a different row count, is a mismatch; what cannot be settled is listed as unchecked.
    """
    remaps = {
        str(r.get("source")): str(r.get("target"))
        for r in request.get("remap_schemas") or ()
        if isinstance(r, Mapping)
    }
    schema_conds, schemas_settled = _conditions(request, "schema_expressions")
    name_conds, names_settled = _conditions(request, "name_expressions")
    unchecked: list[str] = []
    if request.get("tablespace_expressions"):
        names_settled = False  # the logs do not name tablespaces
    if not (schemas_settled and names_settled):
        unchecked.append("tables missing from the import: its selection has a form the logs cannot settle")

    expected: dict[Key, int] = {}
    for row in exported:
        schema, name, part = _key(row)
        if not all(c(schema) for c in schema_conds) or not all(c(name) for c in name_conds):
            continue
        expected[(remaps.get(schema, schema), name, part)] = int(row.get("rows") or 0)
    landed: dict[Key, int] = {_key(o): int(o.get("rows") or 0) for o in imported.get("objects") or ()}
    imported_complete = int(imported.get("object_count") or 0) <= len(landed)
    if not exported_complete:
        unchecked.append("tables beyond the export's listed objects (the result keeps the first ones)")
    if not imported_complete:
        unchecked.append("tables beyond the import's listed objects (the result keeps the first ones)")
    judge_missing = schemas_settled and names_settled and imported_complete

    mismatches: list[str] = []
    compared = 0
    for key, rows in sorted(expected.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")):
        if key not in landed:
            if judge_missing:
                mismatches.append(f"{_show(key)}: exported with {rows} rows, not imported")
            continue
        compared += 1
        if landed[key] != rows:
            mismatches.append(f"{_show(key)}: {rows} rows exported, {landed[key]} imported")
    record: dict[str, Any] = {
        "verified": not mismatches and compared > 0,
        "source": source,
        "tables_compared": compared,
        "mismatches": mismatches[:_MAX_LISTED]
        + ([f"... and {len(mismatches) - _MAX_LISTED} more"] if len(mismatches) > _MAX_LISTED else []),
        "mismatch_count": len(mismatches),
    }
    if unchecked:
        record["unchecked"] = unchecked
    if not expected:
        record["reason"] = "the export listed no table within this import's selection"
    return record


def copy_failure(record: Mapping[str, Any], ident: str) -> str | None:
    """The failure message for a copy that differs from its export; None when nothing differs."""
    mismatches = list(record.get("mismatches") or ())
    if not mismatches:
        return None
    return (
        f"Data Pump import {ident} did not land what the export took (compared with {record.get('source')}):\n"
        + "\n".join(f"  {m}" for m in mismatches)
        + "\nTo accept it anyway, set verify_copy=False."
    )
