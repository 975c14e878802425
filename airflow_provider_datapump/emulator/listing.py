"""GET jobs/: the limit, offset and q parameters, and the page ORDS answers with."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from .errors import BadRequest
from .naming import collection_url, job_url

__all__ = ["LIST_FIELDS", "int_param", "parse_q", "q_match", "page"]

# DBA_DATAPUMP_JOBS' columns as a list item shows them (seed 001). The client names the same
# fields in airflow_provider_datapump/jobs.py; this copy is deliberate, so that neither imports the other.
LIST_FIELDS = (
    "owner_name",
    "job_name",
    "operation",
    "job_mode",
    "state",
    "degree",
    "attached_sessions",
    "datapump_sessions",
)
_NUMERIC_FIELDS = ("degree", "attached_sessions", "datapump_sessions")
_Q_OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$like", "$in")
DEFAULT_LIMIT = 25  # seed 001


def int_param(name: str, value: Any, default: int, lo: int, hi: int | None) -> int:
    if value is None:
        return default
    if isinstance(value, bool):
        raise BadRequest(f"{name} must be an integer")
    if isinstance(value, str):
        if not re.fullmatch(r"\d{1,9}", value.strip()):
            raise BadRequest(f"{name} must be a non-negative integer")
        value = int(value.strip())
    if not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        rng = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
        raise BadRequest(f"{name} must be an integer {rng}")
    return value


def parse_q(q: Any) -> dict[str, Any]:
    """An ORDS filter object (S29), checked field by field."""
    try:
        cond = json.loads(q) if isinstance(q, str) else q
    except ValueError as exc:
        raise BadRequest("q must be a JSON filter object") from exc
    if not isinstance(cond, dict):
        raise BadRequest("q must be a JSON filter object")
    for key, value in cond.items():
        if key not in LIST_FIELDS:
            raise BadRequest(f"q: unknown field {key!r}")
        numeric = key in _NUMERIC_FIELDS
        ops = value if isinstance(value, dict) else {"$eq": value}
        if not ops:
            raise BadRequest(f"q: {key} has no condition")
        for op, arg in ops.items():
            if op not in _Q_OPERATORS:
                raise BadRequest(f"q: unsupported operator {op!r}")
            args = arg if op == "$in" else [arg]
            if op == "$in" and not isinstance(arg, list):
                raise BadRequest("q: $in takes an array")
            if op == "$like" and not isinstance(arg, str):
                raise BadRequest("q: $like takes a string")
            for a in args:
                is_number = isinstance(a, (int, float)) and not isinstance(a, bool)
                if op != "$like" and not (is_number if numeric else isinstance(a, str)):
                    # Oracle would try an implicit conversion and fail (ORA-01722) or compare
                    # digits as text; neither is worth imitating.
                    raise BadRequest(
                        f"q: {key} compares with {'numbers' if numeric else 'strings'}, not {a!r}"
                    )
    return cond


def q_match(cond: dict[str, Any], fields: dict[str, Any]) -> bool:
    """Every field's every operator must hold (AND), as in ORDS' filter objects."""
    for key, value in cond.items():
        actual = fields[key]
        ops = value if isinstance(value, dict) else {"$eq": value}
        for op, arg in ops.items():
            if op == "$like":
                rx = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in arg)
                ok = re.fullmatch(rx, str(actual), re.DOTALL) is not None
            elif op == "$in":
                ok = actual in arg
            else:
                # Strings compare as strings (job names sort by their timestamp), numbers as numbers.
                ok = {
                    "$eq": actual == arg,
                    "$ne": actual != arg,
                    "$gt": actual > arg,
                    "$gte": actual >= arg,
                    "$lt": actual < arg,
                    "$lte": actual <= arg,
                }[op]
            if not ok:
                return False
    return True


def page(
    rows: list[dict[str, Any]],
    prefix: str,
    settings: dict[str, Any],
    *,
    limit: Any = None,
    offset: Any = None,
    q: Any = None,
    query_string: str = "",
) -> dict[str, Any]:
    """One page of ``rows`` (each job's fields, in list order) as ORDS renders a collection."""
    # A limit above the server's maximum is capped silently; the answer's limit says so.
    lim = min(int_param("limit", limit, DEFAULT_LIMIT, 1, None), settings["list_max_limit"])
    off = int_param("offset", offset, 0, 0, None)  # validated even when ignored
    if settings["offset_support"] == "ignored":
        off = 0
    if q is not None:
        support = settings["q_support"]
        if support == "rejected":
            raise BadRequest("The q filter parameter is not supported on this resource")
        cond = parse_q(q)
        if support == "honoured":
            rows = [f for f in rows if q_match(cond, f)]
    chosen = rows[off : off + lim]
    has_more = off + lim < len(rows)
    items = []
    for f in chosen:
        item = {k: f[k] for k in LIST_FIELDS}
        # DBA_DATAPUMP_JOBS stores these as CHAR-like, blank-padded to 30.
        item["operation"] = f["operation"].ljust(30)
        item["job_mode"] = f["job_mode"].ljust(30)
        item["links"] = [{"rel": "self", "href": job_url(prefix, f["owner_name"], f["job_name"])}]
        items.append(item)
    base = collection_url(prefix)
    keep = []
    if limit is not None:
        keep.append(f"limit={lim}")
    if q is not None:
        keep.append("q=" + quote(str(q), safe=""))
    first = base + ("?" + "&".join(keep) if keep else "")
    extra = "&".join(k for k in keep if not k.startswith("limit="))
    extra = ("&" + extra) if extra else ""
    links = [
        {"rel": "self", "href": base + ("?" + query_string if query_string else "")},
        {"rel": "edit", "href": base},
        {"rel": "describedby", "href": f"{prefix}/metadata-catalog/"},
        {"rel": "first", "href": first},
    ]
    # A server that ignores offset serves page one every time, with page one's next link:
    # a client that follows next links without a bound never stops.
    if off > 0:
        links.append({"rel": "prev", "href": f"{base}?offset={max(0, off - lim)}&limit={lim}{extra}"})
    if has_more:
        links.append({"rel": "next", "href": f"{base}?offset={off + lim}&limit={lim}{extra}"})
    return {
        "items": items,
        "hasMore": has_more,
        "limit": lim,
        "offset": off,
        "count": len(items),
        "links": links,
    }
