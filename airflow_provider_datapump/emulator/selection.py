"""Which schemas and tables a job takes: job_mode, filter and the metadata expressions
applied to a universe (the catalog for an export, the dump set for an import)."""

from __future__ import annotations

from .catalog import Table
from .expressions import match_all
from .payload import CreateRequest

__all__ = ["select"]


def _filter_tables(tables: list[Table], req: CreateRequest) -> list[Table]:
    return [t for t in tables if match_all(req.name_p, t.name) and match_all(req.tablespace_p, t.tablespace)]


def select(
    owner: str,
    req: CreateRequest,
    schemas: list[str],
    tables: list[Table],
    *,
    from_dump: bool = False,
) -> tuple[list[str], list[Table], list[str]]:
    """(schemas, tables, the ORA lines Data Pump logs for names it did not find)."""
    mode = req.job_mode
    names = req.filter
    errors: list[str] = []
    by_schema: dict[str, list[Table]] = {}
    for t in tables:
        by_schema.setdefault(t.schema, []).append(t)
    universe = sorted(set(schemas) | set(by_schema))
    selected_schemas: list[str]
    selected: list[Table]

    if mode == "FULL":
        selected_schemas = [s for s in universe if match_all(req.schema_p, s)]
        selected = _filter_tables([t for s in selected_schemas for t in by_schema.get(s, [])], req)
        if not selected_schemas:
            errors.append("ORA-31655: no data or metadata objects selected for job")
    elif mode == "SCHEMA":
        if req.schema_p or names:
            selected_schemas = [
                s for s in universe if match_all(req.schema_p, s) and (not names or s in names)
            ]
            errors.extend(f"ORA-39165: Schema {n} was not found." for n in names if n not in universe)
        elif from_dump:
            # A schema-mode import without a selection takes every schema in the dump.
            selected_schemas = universe
        else:
            # Data Pump's default for a schema-mode export: the caller's own schema.
            selected_schemas = [owner] if owner in universe else []
            if not selected_schemas:
                errors.append(f"ORA-39165: Schema {owner} was not found.")
        selected = _filter_tables([t for s in selected_schemas for t in by_schema.get(s, [])], req)
        if not selected_schemas:
            errors.append("ORA-31655: no data or metadata objects selected for job")
    elif mode == "TABLE":
        if req.schema_p:
            default_schemas = [s for s in universe if match_all(req.schema_p, s)]
        else:
            default_schemas = [owner]
        plain = [n for n in names if "." not in n]
        qualified = [tuple(n.split(".", 1)) for n in names if "." in n]
        chosen: dict[tuple[str, str], Table] = {}
        if not names or plain:
            for s in default_schemas:
                for t in by_schema.get(s, []):
                    if not names or t.name in plain:
                        chosen[(t.schema, t.name)] = t
        for s, n in qualified:
            if match_all(req.schema_p, s):
                for t in by_schema.get(s, []):
                    if t.name == n:
                        chosen[(s, n)] = t
        selected = _filter_tables(sorted(chosen.values(), key=lambda t: (t.schema, t.name)), req)
        found = {t.name for t in selected} | {f"{t.schema}.{t.name}" for t in selected}
        errors.extend(f"ORA-39166: Object {n} was not found." for n in names if n not in found)
        selected_schemas = sorted({t.schema for t in selected})
        if not selected:
            errors.append("ORA-31655: no data or metadata objects selected for job")
    else:  # TABLESPACE
        spaces = {t.tablespace for t in tables}
        candidates = [
            t for t in tables if match_all(req.schema_p, t.schema) and (not names or t.tablespace in names)
        ]
        selected = _filter_tables(candidates, req)
        errors.extend(f"ORA-29304: tablespace '{n}' does not exist" for n in names if n not in spaces)
        selected_schemas = sorted({t.schema for t in selected})
        if not selected:
            errors.append("ORA-31655: no data or metadata objects selected for job")
    return selected_schemas, selected, errors
