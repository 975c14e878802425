"""Test harness: fault rules that make ORDS routes fail, stall or cut their answers short."""

from __future__ import annotations

import builtins
import itertools
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import BadRequest, NotFound

__all__ = ["Fault", "Faults"]

_FIELDS = {
    "status": {"kind", "status", "retry_after", "times", "seconds", "method", "path"},
    "drop": {"kind", "after_bytes", "times", "seconds", "method", "path"},
    "delay": {"kind", "seconds", "times", "method", "path"},
    # The request is handled at once; only its answer is held back (a create whose job
    # exists while the client, timed out, still waits for the 201).
    "late": {"kind", "seconds", "times", "method", "path"},
}


@dataclass
class Fault:
    id: int
    kind: str
    status: int | None
    retry_after: float | None
    times: int | None
    until: float | None
    method: str | None
    path: re.Pattern[str] | None
    after_bytes: int
    seconds: float
    created: float
    hits: int = 0

    def applies(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method.upper()) and (
            self.path is None or self.path.search(path) is not None
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "retry_after": self.retry_after,
            "times": self.times,
            "seconds": self.seconds
            if self.kind in ("delay", "late")
            else (None if self.until is None else self.until - self.created),
            "method": self.method,
            "path": self.path.pattern if self.path is not None else None,
            "after_bytes": self.after_bytes if self.kind == "drop" else None,
            "hits": self.hits,
        }


class Faults:
    """The fault rules in force; ``take`` hands a request the ones that apply to it."""

    def __init__(self, *, now: Callable[[], float], lock: threading.RLock | None = None):
        self._now = now
        self._lock = lock or threading.RLock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, **spec: Any) -> dict[str, Any]:
        with self._lock:
            kind = spec.get("kind")
            if kind not in _FIELDS:
                raise BadRequest("kind must be one of status, drop, delay, late")
            unknown = set(spec) - _FIELDS[kind]
            if unknown:
                raise BadRequest(f"unknown fault fields for kind {kind}: {', '.join(sorted(unknown))}")

            def number(key: str, default: Any, *, integer: bool = False, minimum: float = 0) -> Any:
                value = spec.get(key, default)
                if value is None:
                    return None
                ok = isinstance(value, int) if integer else isinstance(value, (int, float))
                if (
                    isinstance(value, bool)
                    or not ok
                    or value < minimum
                    or (isinstance(value, float) and not math.isfinite(value))
                ):
                    raise BadRequest(f"{key} must be a {'whole ' if integer else ''}number >= {minimum}")
                return value

            status = None
            retry_after = None
            if kind == "status":
                status = number("status", 503, integer=True, minimum=400)
                if status is None or status > 599:
                    raise BadRequest("status must be an HTTP error status (400-599)")
                retry_after = number("retry_after", 1 if status in (429, 503) else None)
            times = number("times", None, integer=True, minimum=1)
            seconds = number("seconds", None)
            if kind in ("delay", "late") and seconds is None:
                raise BadRequest(f"a {kind} fault needs 'seconds'")
            after_bytes = number("after_bytes", 0, integer=True) if kind == "drop" else 0
            method = spec.get("method")
            if method is not None and (not isinstance(method, str) or not method.isalpha()):
                raise BadRequest("method must be an HTTP method name or null")
            path = spec.get("path")
            try:
                path_rx = re.compile(path) if path is not None else None
            except (re.error, TypeError) as exc:
                raise BadRequest(f"path must be a regular expression: {exc}") from exc
            now = self._now()
            fault = Fault(
                id=next(self._ids),
                kind=kind,
                status=status,
                retry_after=retry_after,
                times=times,
                # For status and drop faults "seconds" bounds how long the rule stays active.
                until=(now + seconds) if (seconds is not None and kind not in ("delay", "late")) else None,
                method=method.upper() if method else None,
                path=path_rx,
                after_bytes=after_bytes or 0,
                seconds=float(seconds or 0),
                created=now,
            )
            self._faults.append(fault)
            return fault.as_dict()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def remove(self, fault_id: int) -> None:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            if len(self._faults) == before:
                raise NotFound(f"fault {fault_id} does not exist")

    def take(self, method: str, path: str) -> builtins.list[dict[str, Any]]:  # ``list`` is the method above
        """Faults that apply to this request (each use consumes one of its ``times``)."""
        with self._lock:
            now = self._now()
            hits = []
            keep = []
            for f in self._faults:
                if f.until is not None and now >= f.until:
                    continue
                if f.applies(method, path):
                    f.hits += 1
                    hits.append(f.as_dict())
                    if f.times is not None:
                        f.times -= 1
                        if f.times <= 0:
                            continue
                keep.append(f)
            self._faults = keep
            return hits
