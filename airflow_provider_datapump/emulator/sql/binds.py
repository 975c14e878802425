"""Bind variables as ORDS's ``_/sql`` receives them: ``[{"name"|"index", "data_type", "value"}]``."""

from __future__ import annotations

import math
from typing import Any

from .ora import OracleError, ora

__all__ = ["Binds", "BindError"]


class BindError(ValueError):
    """The ``binds`` array itself is malformed (a 400, not a statement's error)."""


def _typed(data_type: Any, value: Any) -> Any:
    if value is None:
        return None
    kind = str(data_type or "VARCHAR2").upper()
    if kind in ("NUMBER", "INTEGER", "BINARY_INTEGER", "PLS_INTEGER", "BINARY_DOUBLE", "BINARY_FLOAT"):
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, (int, float)):
            return value
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ora(1722) from None
        if math.isnan(number) or math.isinf(number):
            raise ora(1722)
        return int(number) if number.is_integer() else number
    if isinstance(value, (dict, list)):
        raise ora(6502)
    return value if isinstance(value, (bool, int, float)) else str(value)


class Binds:
    """The request's binds, looked up by name (any case) or by position (1-based)."""

    def __init__(self, specs: Any):
        if specs is None:
            specs = []
        if not isinstance(specs, list) or not all(isinstance(b, dict) for b in specs):
            raise BindError("binds must be an array of objects")
        self._by_name: dict[str, dict[str, Any]] = {}
        self._by_index: dict[int, dict[str, Any]] = {}
        for b in specs:
            name, index = b.get("name"), b.get("index")
            if isinstance(name, str) and name:
                self._by_name[name.lstrip(":").upper()] = b
            elif isinstance(index, int) and not isinstance(index, bool) and index >= 1:
                self._by_index[index] = b
            else:
                raise BindError('each bind needs a "name" or a positive "index"')

    def resolve(self, name: str, order: list[str]) -> Any:
        """The value of placeholder ``name``; ``order`` lists the statement's placeholders as they first appear."""
        key = name.upper()
        spec = self._by_name.get(key)
        if spec is None:
            position = int(key) if key.isdigit() else (order.index(key) + 1 if key in order else 0)
            spec = self._by_index.get(position)
        if spec is None:
            raise ora(1008)
        try:
            return _typed(spec.get("data_type"), spec.get("value"))
        except OracleError:
            raise
