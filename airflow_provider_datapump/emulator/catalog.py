"""The emulated database dictionary: schemas and their tables."""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Table",
    "Catalog",
    "CatalogError",
    "default_catalog_data",
    "IDENTIFIER_RE",
    "is_identifier",
    "ORACLE_MAINTAINED_USERS",
]

# Unquoted Oracle identifier (schema, table, tablespace, directory, credential).
IDENTIFIER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_$#]{0,127}$")


def is_identifier(value: object) -> bool:
    return isinstance(value, str) and IDENTIFIER_RE.match(value) is not None


# Users every Oracle database has (DBA_USERS.ORACLE_MAINTAINED = 'Y'; 19c's list, abridged). The
# catalog's schemas are the other users: an import that creates a schema creates its user.
ORACLE_MAINTAINED_USERS = (
    "SYS",
    "SYSTEM",
    "AUDSYS",
    "DBSNMP",
    "XDB",
    "OUTLN",
    "APPQOSSYS",
    "DBSFWUSER",
    "GSMADMIN_INTERNAL",
    "GSMCATUSER",
    "GSMUSER",
    "REMOTE_SCHEDULER_AGENT",
    "SYSBACKUP",
    "SYSDG",
    "SYSKM",
    "SYSRAC",
    "SYS$UMF",
    "DIP",
    "ORACLE_OCM",
    "XS$NULL",
    "GGSYS",
    "ANONYMOUS",
    "CTXSYS",
    "MDSYS",
    "WMSYS",
    "OJVMSYS",
    "LBACSYS",
    "DVSYS",
    "DVF",
    "OLAPSYS",
)


class CatalogError(ValueError):
    pass


@dataclass
class Table:
    schema: str
    name: str
    tablespace: str
    rows: int
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "name": self.name,
            "tablespace": self.tablespace,
            "rows": self.rows,
            "bytes": self.bytes,
        }


def _natural_bytes(rows: int) -> int:
    # Roughly what Data Pump reports for small tables: a few KB of overhead plus row data.
    return 5120 + rows * 64


def default_catalog_data() -> dict[str, Any]:
    """Seed-compatible catalog: TESTUSER1 (EMP, DEPT), an HR-like TESTUSER3, DBAPI_USER empty."""
    return {
        "schemas": {
            "DBAPI_USER": {"tables": {}},
            "TESTUSER1": {
                "tables": {
                    "EMP": {"tablespace": "USERS", "rows": 14, "bytes": 8992},
                    "DEPT": {"tablespace": "USERS", "rows": 4, "bytes": 6168},
                }
            },
            "TESTUSER3": {
                "tables": {
                    "EMPLOYEES": {"tablespace": "EXAMPLE", "rows": 107, "bytes": 17490},
                    "DEPARTMENTS": {"tablespace": "EXAMPLE", "rows": 27, "bytes": 7296},
                }
            },
        }
    }


def _int_field(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CatalogError(f"{what} must be a non-negative integer")
    return value


class Catalog:
    """Schemas → tables. Names are stored upper case, as unquoted identifiers are."""

    def __init__(self) -> None:
        self.schemas: dict[str, dict[str, Table]] = {}

    @classmethod
    def from_data(cls, data: Any) -> Catalog:
        if not isinstance(data, dict):
            raise CatalogError("catalog must be a JSON object")
        schemas = data.get("schemas", data)
        if not isinstance(schemas, dict):
            raise CatalogError("'schemas' must be an object mapping schema names to their tables")
        cat = cls()
        for sname, sbody in schemas.items():
            if not is_identifier(sname):
                raise CatalogError(f"invalid schema name {sname!r}")
            schema = sname.upper()
            cat.schemas.setdefault(schema, {})
            tables: Any
            if isinstance(sbody, dict):
                tables = sbody.get("tables", {})
            elif isinstance(sbody, list):
                tables = sbody
            elif sbody is None:
                tables = {}
            else:
                raise CatalogError(f"schema {sname!r}: expected an object with 'tables'")
            if isinstance(tables, dict):
                items = [dict(v or {}, name=k) for k, v in tables.items()]
            elif isinstance(tables, list):
                items = tables
            else:
                raise CatalogError(f"schema {sname!r}: 'tables' must be an object or a list")
            for item in items:
                if not isinstance(item, dict):
                    raise CatalogError(f"schema {sname!r}: each table must be an object")
                tname = item.get("name")
                if not is_identifier(tname):
                    raise CatalogError(f"schema {sname!r}: invalid table name {tname!r}")
                tablespace = item.get("tablespace", "USERS")
                if not is_identifier(tablespace):
                    raise CatalogError(f"table {sname}.{tname}: invalid tablespace {tablespace!r}")
                rows = _int_field(item.get("rows", 0), f"table {sname}.{tname}: rows")
                nbytes = item.get("bytes")
                nbytes = (
                    _natural_bytes(rows)
                    if nbytes is None
                    else _int_field(nbytes, f"table {sname}.{tname}: bytes")
                )
                table = Table(schema, str(tname).upper(), str(tablespace).upper(), rows, nbytes)
                cat.schemas[schema][table.name] = table
        return cat

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Catalog:
        with open(path, encoding="utf-8") as fh:
            return cls.from_data(json.load(fh))

    @classmethod
    def default(cls) -> Catalog:
        return cls.from_data(default_catalog_data())

    def copy(self) -> Catalog:
        return copy.deepcopy(self)

    def to_data(self) -> dict[str, Any]:
        return {
            "schemas": {
                s: {
                    "tables": {
                        t.name: {"tablespace": t.tablespace, "rows": t.rows, "bytes": t.bytes}
                        for t in sorted(tables.values(), key=lambda t: t.name)
                    }
                }
                for s, tables in sorted(self.schemas.items())
            }
        }

    def all_tables(self) -> list[Table]:
        return [
            t for s in sorted(self.schemas) for t in sorted(self.schemas[s].values(), key=lambda t: t.name)
        ]
