"""Test harness: the log of requests to ORDS routes (never passwords or tokens)."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

__all__ = ["RequestLog"]


class RequestLog:
    """A request is logged when its response ends, which a client may see before the server
    gets there. Numbering requests as they begin lets ``clear`` forget a request that began
    before it but ends after it, and lets ``wait_idle`` wait for those still in flight."""

    def __init__(self, size: int = 10000, *, lock: threading.RLock | None = None):
        self._lock = lock or threading.RLock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._seq = 0
        self._cleared_through = 0
        self.in_flight: set[int] = set()
        self._idle = threading.Condition(self._lock)

    def begin(self) -> int:
        with self._lock:
            self._seq += 1
            self.in_flight.add(self._seq)
            return self._seq

    def end(self, seq: int, entry: dict[str, Any]) -> None:
        with self._lock:
            self.in_flight.discard(seq)
            if seq > self._cleared_through:
                self._entries.append(entry)
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every request begun so far has been logged; False if some still run at the timeout."""
        with self._lock:
            pending = set(self.in_flight)
            return self._idle.wait_for(lambda: not (pending & self.in_flight), timeout=timeout)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._cleared_through = self._seq
