"""Emulated dump files and Data Pump log text.

A dump file starts with a magic line and one JSON line describing what was exported,
so an import can read it back; the rest is zero padding grown with ``truncate`` so
that a multi-GB dump is a sparse file and never passes through memory.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from typing import Any

__all__ = [
    "DUMP_MAGIC",
    "DumpFormatError",
    "write_dump",
    "read_dump_header",
    "natural_dump_size",
    "format_size",
    "table_line",
    "dp_timestamp",
    "dp_elapsed",
]

DUMP_MAGIC = b"ORDS-DATAPUMP-EMULATOR-DUMP 1\n"
_MAX_HEADER = 16 * 1024 * 1024
_BLOCK = 4096


class DumpFormatError(ValueError):
    pass


def _header_bytes(header: dict[str, Any]) -> bytes:
    return DUMP_MAGIC + json.dumps(header, separators=(",", ":"), sort_keys=True).encode() + b"\n"


def natural_dump_size(header: dict[str, Any], table_bytes: int) -> int:
    raw = len(_header_bytes(header)) + table_bytes + _BLOCK  # a block of "metadata"
    return -(-raw // _BLOCK) * _BLOCK


def write_dump(path: str, header: dict[str, Any], size: int) -> int:
    """Write the header, then extend to ``size`` bytes sparsely. Returns the final size."""
    data = _header_bytes(header)
    size = max(size, len(data))
    with open(path, "xb") as fh:
        fh.write(data)
        fh.truncate(size)
    return size


def read_dump_header(path: str) -> dict[str, Any]:
    with open(path, "rb") as fh:
        magic = fh.read(len(DUMP_MAGIC))
        if magic != DUMP_MAGIC:
            raise DumpFormatError("not an export dump file produced by this emulator")
        line = fh.readline(_MAX_HEADER)
    if not line.endswith(b"\n"):
        raise DumpFormatError("truncated dump file header")
    try:
        header = json.loads(line)
    except ValueError as exc:
        raise DumpFormatError("corrupt dump file header") from exc
    if not isinstance(header, dict) or not isinstance(header.get("tables"), list):
        raise DumpFormatError("corrupt dump file header")
    return header


def format_size(nbytes: int) -> str:
    if nbytes < 1024 * 1024:
        return f"{nbytes / 1024:.3f} KB" if nbytes else "0 KB"
    if nbytes < 1024**3:
        return f"{nbytes / 1024**2:.3f} MB"
    return f"{nbytes / 1024**3:.3f} GB"


def table_line(verb: str, schema: str, name: str, nbytes: int, rows: int) -> str:
    qualified = f'"{schema}"."{name}"'
    return f". . {verb} {qualified:<40} {format_size(nbytes):>10} {rows:>7} rows"


def dp_timestamp(when: _dt.datetime) -> str:
    """Data Pump's final-line time: ``Thu Oct 1 11:56:07 2020`` (day not zero-padded)."""
    return f"{when:%a %b} {when.day} {when:%H:%M:%S %Y}"


def dp_elapsed(seconds: float) -> str:
    total = max(0, int(round(seconds)))
    days, rem = divmod(total, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    return f"{days} {hours:02d}:{minutes:02d}:{secs:02d}"


def file_size(path: str) -> int:
    return os.stat(path).st_size
