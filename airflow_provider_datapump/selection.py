"""Did the job do what was asked? Compare what a Data Pump log says ran with the request body.

ORDS drops keys it does not know without a word, and the keys it knows differ by version and by
endpoint. A request whose selection was dropped still runs, on a different selection: a schema
export of the caller's own schema, or an import of the whole dump. The only witness of what ran
is the log's ``. . exported "S"."T"`` / ``. . imported "S"."T"`` lines and its dump file set, so
this module reads the request's selection back against them.

It is pure (no network, no Airflow) and used twice: by the hook to judge a finished job, and by
the create flow as evidence of which job, among several created at the same moment, is ours.

Only what the log can settle is checked: plain ``=``, ``!=``, ``IN``, ``NOT IN``, ``LIKE`` and
``NOT LIKE`` conditions on schema and table names, the remap targets, the job mode and the dump
file names. Anything else (``BETWEEN``, sub-queries, tablespace conditions) is listed as unchecked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

__all__ = ["SelectionCheck", "check_selection", "file_template_regex", "listed_names", "parse_condition"]

Condition = Callable[[str], bool]


@dataclass(frozen=True)
class SelectionCheck:
    """What was compared (``checked``), what could not be (``unchecked``), and every difference."""

    checked: tuple[str, ...] = ()
    unchecked: tuple[str, ...] = ()
    mismatches: tuple[str, ...] = ()
    # How many objects the log showed: a check with nothing to look at proves nothing.
    objects_seen: int = 0

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checked": list(self.checked),
            "unchecked": list(self.unchecked),
            "mismatches": list(self.mismatches),
            "objects_seen": self.objects_seen,
        }


_LITERAL = r"'(?:[^']|'')*'"
_LIST = re.compile(r"\(\s*(" + _LITERAL + r"(?:\s*,\s*" + _LITERAL + r")*)\s*\)\Z", re.S)
_HEAD = re.compile(r"\s*(NOT\s+IN|IN|NOT\s+LIKE|LIKE|!=|<>|=)\s*", re.I)


def _literals(text: str) -> list[str]:
    return [m[1:-1].replace("''", "'") for m in re.findall(_LITERAL, text)]


def _like_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern), re.S)


def parse_condition(expression: str) -> Condition | None:
    """A predicate on a name for the condition forms a log can settle; None for any other form."""
    match = _HEAD.match(expression)
    if not match:
        return None
    op = re.sub(r"\s+", " ", match.group(1).upper())
    rest = expression[match.end() :].strip()
    if op in ("IN", "NOT IN"):
        listed = _LIST.match(rest)
        if not listed:
            return None
        values = set(_literals(listed.group(1)))
        return (lambda name: name in values) if op == "IN" else (lambda name: name not in values)
    if not re.fullmatch(_LITERAL, rest):
        return None
    value = _literals(rest)[0]
    if op in ("LIKE", "NOT LIKE"):
        rx = _like_regex(value)
        return (
            (lambda name: bool(rx.fullmatch(name))) if op == "LIKE" else (lambda name: not rx.fullmatch(name))
        )
    if op == "=":
        return lambda name: name == value
    return lambda name: name != value


def listed_names(expression: str) -> set[str] | None:
    """The names an ``IN ('A','B')`` or ``= 'A'`` condition selects; None for any other form."""
    match = _HEAD.match(expression)
    if not match:
        return None
    op = match.group(1).upper()
    rest = expression[match.end() :].strip()
    if op == "IN":
        listed = _LIST.match(rest)
        return set(_literals(listed.group(1))) if listed else None
    if op == "=" and re.fullmatch(_LITERAL, rest):
        return set(_literals(rest))
    return None


def file_template_regex(template: str) -> re.Pattern[str]:
    """Names a Data Pump file template can expand to (``%U`` two digits, ``%L`` more; others any)."""
    out = []
    i = 0
    while i < len(template):
        ch = template[i]
        if ch == "%" and i + 1 < len(template):
            sub = template[i + 1].upper()
            out.append(r"\d{2}" if sub == "U" else r"\d{2,10}" if sub == "L" else r"[0-9A-Za-z]+")
            i += 2
            continue
        out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z", re.I)


def _items(value: object) -> list[object]:
    """A request's list field (expressions, remaps); anything else reads as empty."""
    return list(value) if isinstance(value, (list, tuple)) else []


def _conditions(body: Mapping[str, object], key: str, unchecked: list[str]) -> list[tuple[str, Condition]]:
    out = []
    for item in _items(body.get(key)):
        text = item.get("expression") if isinstance(item, Mapping) else None
        if not isinstance(text, str):
            continue
        cond = parse_condition(text)
        if cond is None:
            unchecked.append(f"{key} {text!r}: the log cannot settle this form")
        else:
            out.append((text, cond))
    return out


def check_selection(
    body: Mapping[str, object],
    *,
    owner: str | None,
    job_mode: str | None,
    objects: Iterable[tuple[str, str]],
    dump_files: Iterable[str] | None = None,
    log_read: bool = True,
) -> SelectionCheck:
    """Compare ``body`` (the request as sent, ``operation`` included) with what the log says ran.

    ``objects`` are ``(schema, table)`` pairs from the log (the target schema for an import), and
    ``dump_files`` the names of the export's dump set when known.
    """
    checked: list[str] = []
    unchecked: list[str] = []
    mismatches: list[str] = []
    operation = str(body.get("operation") or "").upper()
    asked_mode = str(body.get("job_mode") or "SCHEMA").upper()
    rows = [(str(s), str(t)) for s, t in objects]

    if job_mode:
        checked.append("job_mode")
        if job_mode.strip().upper() != asked_mode:
            mismatches.append(
                f"job_mode {asked_mode} was asked, the job ran in {job_mode.strip().upper()} mode"
            )

    if not log_read:
        unchecked.append("the selection: no log could be read")
        return SelectionCheck(tuple(checked), tuple(unchecked), tuple(mismatches), 0)

    schema_conds = _conditions(body, "schema_expressions", unchecked)
    name_conds = _conditions(body, "name_expressions", unchecked)
    if body.get("tablespace_expressions"):
        unchecked.append("tablespace_expressions: the log does not name tablespaces")
    filter_text = body.get("filter")
    if isinstance(filter_text, str) and filter_text:
        names = {n.strip().upper() for n in filter_text.split(",") if n.strip()}
        if asked_mode == "SCHEMA":
            schema_conds.append((f"filter {filter_text}", names.__contains__))
        elif asked_mode == "TABLE" and all("." not in n for n in names):
            name_conds.append((f"filter {filter_text}", names.__contains__))
        else:
            unchecked.append(f"filter {filter_text!r} in {asked_mode} mode")

    remaps: dict[str, str] = {}
    for item in _items(body.get("remap_schemas")):
        if isinstance(item, Mapping):
            remaps[str(item.get("source")).upper()] = str(item.get("target")).upper()

    def sources_of(schema: str) -> set[str]:
        """The dump schemas an object now under ``schema`` can have come from."""
        found = {src for src, dst in remaps.items() if dst == schema}
        if schema not in remaps:
            found.add(schema)
        return found

    # Data Pump's defaults when nothing selects a schema: an export takes the caller's own schema.
    own_schema_only = (
        operation == "EXPORT"
        and asked_mode in ("SCHEMA", "TABLE")
        and not body.get("schema_expressions")
        and not (asked_mode == "SCHEMA" and filter_text)
    )
    if own_schema_only and owner:
        schema_conds.append((f"the caller's own schema {owner}", owner.upper().__eq__))

    if schema_conds:
        checked.append("schemas")
    if name_conds:
        checked.append("tables")
    if remaps:
        checked.append("remap_schemas")
    for schema, table in rows:
        origins = sources_of(schema)
        if not origins:
            mismatches.append(
                f"{schema}.{table} landed under {schema}, which was to be remapped to {remaps[schema]}"
            )
            continue
        for text, cond in schema_conds:
            if not any(cond(src) for src in origins):
                mismatches.append(f"{schema}.{table} ran, outside the schema selection {text}")
                break
        for text, cond in name_conds:
            if not cond(table):
                mismatches.append(f"{schema}.{table} ran, outside the table selection {text}")
                break

    file_name = body.get("file_name")
    if operation == "EXPORT" and isinstance(file_name, str) and file_name and "://" not in file_name:
        dumps = [os.path.basename(str(n)) for n in dump_files or ()]
        if dumps:
            checked.append("file_name")
            rx = file_template_regex(file_name)
            wrong = [n for n in dumps if not rx.match(n)]
            if wrong:
                mismatches.append(
                    f"file_name {file_name} was asked, the dump set is {', '.join(sorted(wrong)[:5])}"
                )
        else:
            unchecked.append("file_name: the job named no dump file")
    # Many differences say the same thing; the first few are enough to read.
    if len(mismatches) > 20:
        mismatches = [*mismatches[:20], f"... and {len(mismatches) - 20} more"]
    return SelectionCheck(tuple(checked), tuple(unchecked), tuple(mismatches), len(rows))
