"""How Data Pump and ORDS name things: jobs, log and dump files, substitution variables, URLs."""

from __future__ import annotations

import datetime as _dt
import math
import re
from urllib.parse import quote

__all__ = [
    "MAX_THREADS",
    "JOB_MODES",
    "DEFAULT_DIRECTORY",
    "local_time",
    "job_name",
    "log_name",
    "default_dump_template",
    "pattern_regex",
    "has_substitution",
    "expand",
    "url_segment",
    "job_url",
    "collection_url",
    "api_prefix",
]

# %U yields two digits. The client checks the same bound (payloads.py); it is repeated here on
# purpose so that the emulator answers as ORDS would without importing the client.
MAX_THREADS = 99
# Data Pump's job modes. The client validates against its own copy (payloads.JOB_MODES);
# the emulator keeps this one so that it never imports the client it is testing.
JOB_MODES = ("FULL", "SCHEMA", "TABLE", "TABLESPACE")
# ORDS' default directory object; the client repeats it for its own defaults, independently.
DEFAULT_DIRECTORY = "DATA_PUMP_DIR"


def local_time(ts: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ts)


def job_name(operation: str, now: float) -> tuple[str, _dt.datetime]:
    """ORDS names a REST job by its operation and the second it starts (seed 001, S10).

    The client parses the same ``DATAPUMP_REST_<OP>_<YYYYMMDDHH24MISS>`` form; the emulator
    writes it from the documentation, not from the client's constant.
    """
    when = local_time(math.floor(now))
    return f"DATAPUMP_REST_{operation}_" + when.strftime("%Y%m%d%H%M%S"), when


def log_name(operation: str, when: _dt.datetime) -> str:
    return ("EXPDAT" if operation == "EXPORT" else "IMPDAT") + when.strftime("-%Y-%m-%d-%H_%M_%S.LOG")


def default_dump_template(when: _dt.datetime) -> str:
    """ORDS' dump name for an export sent without file_name (seed 001): the same for every job of one second."""
    return "EXPDAT%U-" + when.strftime("%Y%m%d_%H_%M_%S") + ".DMP"


# Data Pump's substitution variables: %U and %L number the files of a set; %D, %M, %Y, %T
# (YYYYMMDD) and %H are the date and hour when the file is created. A template such as
# "nightly_%T_%U.dmp" must never leave a literal '%' in a file name.
_SUBSTITUTION_RE = re.compile(r"%([UuLlDdMmYyTtHh])")
_SUBSTITUTION_DIGITS = {
    "U": r"\d{2,3}",
    "L": r"\d{2,10}",
    "D": r"\d{2}",
    "M": r"\d{2}",
    "Y": r"\d{4}",
    "T": r"\d{8}",
    "H": r"\d{2}",
}
_SUBSTITUTION_DATES = {"D": "%d", "M": "%m", "Y": "%Y", "T": "%Y%m%d", "H": "%H"}


def pattern_regex(file_name: str) -> re.Pattern[str]:
    """The names a template can expand to (an import's file_name matches a set of files)."""
    out, pos = [], 0
    for m in _SUBSTITUTION_RE.finditer(file_name):
        out += [re.escape(file_name[pos : m.start()]), _SUBSTITUTION_DIGITS[m.group(1).upper()]]
        pos = m.end()
    out.append(re.escape(file_name[pos:]))
    return re.compile("".join(out))


def has_substitution(file_name: str) -> bool:
    """Whether the template names a numbered set of files (%U or %L)."""
    return re.search(r"%[UuLl]", file_name) is not None


def expand(template: str, index: int, when: _dt.datetime | None = None) -> str:
    moment = when or _dt.datetime.now()

    def one(m: re.Match[str]) -> str:
        var = m.group(1).upper()
        return f"{index:02d}" if var in "UL" else moment.strftime(_SUBSTITUTION_DATES[var])

    return _SUBSTITUTION_RE.sub(one, template)


def url_segment(value: str) -> str:
    """Percent-encode one path segment of a rendered URL ('#' as %23, '/' as %2F; '$' stays)."""
    return quote(value, safe="$")


def api_prefix(origin: str, pool: str | None, alias: str, version: str) -> str:
    """The database API's base URL as links render it: origin, optional pool, alias, API version."""
    middle = f"/{url_segment(pool)}" if pool else ""
    return f"{origin}/ords{middle}/{url_segment(alias)}/_/db-api/{version}"


def collection_url(prefix: str) -> str:
    return f"{prefix}/database/datapump/jobs/"


def job_url(prefix: str, owner: str, name: str) -> str:
    # '#' (C## users) would end the path; '$' may stay.
    return f"{collection_url(prefix)}{url_segment(owner)},{url_segment(name)}/"
