"""The emulator's time: an injected clock plus an offset that tests move forward."""

from __future__ import annotations

import datetime as _dt
import threading
import time
from collections.abc import Callable
from typing import Any

from .errors import BadRequest

__all__ = ["Clock"]


class Clock:
    """``now()`` is the injected clock (epoch seconds or a datetime) plus what ``advance`` added.

    Tests step past a second instead of sleeping; time only moves forward, and reset keeps it.
    """

    def __init__(self, source: Callable[[], Any] = time.time, *, lock: threading.RLock | None = None):
        self.source = source
        self._offset = 0.0
        self._lock = lock or threading.RLock()

    def now(self) -> float:
        value = self.source()
        if isinstance(value, _dt.datetime):
            value = value.timestamp()
        return float(value) + self._offset

    def advance(self, seconds: float) -> float:
        """Move the emulator's time forward by ``seconds`` (never back); returns the new time."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < 10**9:
            raise BadRequest("seconds must be a non-negative number")
        with self._lock:
            self._offset += float(seconds)
            return self.now()
