"""The Accept and Range rules for a job's files (RFC 9110)."""

from __future__ import annotations

import re

from .errors import RangeNotSatisfiable

__all__ = ["accepts", "parse_range"]


def accepts(header: str | None, media: str) -> bool:
    """Whether an Accept header admits ``media`` (RFC 9110: the most specific range decides; q=0 refuses)."""
    if header is None or not header.strip():
        return True
    kind = media.split("/", 1)[0]
    best: tuple[int, float] | None = None
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        rng = fields[0].lower()
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        if rng == media:
            rank = 3
        elif rng == f"{kind}/*":
            rank = 2
        elif rng == "*/*":
            rank = 1
        else:
            continue
        if best is None or rank > best[0]:
            best = (rank, q)
    return best is not None and best[1] > 0


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Single ``bytes=`` range → (start, end) inclusive; None to ignore; raise for 416."""
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if m is None:
        return None  # unsupported or multi-range: serve the whole file
    first, last = m.group(1), m.group(2)
    if first == "" and last == "":
        return None
    unsatisfiable = RangeNotSatisfiable(
        "Requested range not satisfiable", headers={"Content-Range": f"bytes */{size}"}
    )
    if first == "":
        n = int(last)
        if n == 0:
            raise unsatisfiable
        return max(0, size - n), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or (last != "" and int(last) < start):
        raise unsatisfiable
    return start, end
