"""Test harness: the settings in force and the queue of per-job scenarios (how the next jobs run and end)."""

from __future__ import annotations

import threading
from typing import Any

from .settings import DEFAULT_SETTINGS, JOB_SCENARIO_KEYS, validate_settings

__all__ = ["Scenarios"]


class Scenarios:
    def __init__(self, settings: dict[str, Any], *, lock: threading.RLock | None = None):
        unknown = set(settings) - set(DEFAULT_SETTINGS)
        if unknown:
            raise TypeError(f"unknown emulator settings: {', '.join(sorted(unknown))}")
        self._initial = dict(DEFAULT_SETTINGS)
        self._initial.update(validate_settings(settings, allowed=tuple(DEFAULT_SETTINGS)))
        # One dict for the emulator's life: the backend and auth read it, reset restores it in place.
        self.settings: dict[str, Any] = dict(self._initial)
        self._queue: list[dict[str, Any]] = []
        self._lock = lock or threading.RLock()

    def get(self) -> dict[str, Any]:
        with self._lock:
            return {**self.settings, "queue": [dict(e) for e in self._queue]}

    def set(self, **values: Any) -> dict[str, Any]:
        with self._lock:
            self.settings.update(validate_settings(values, allowed=tuple(DEFAULT_SETTINGS)))
            return self.get()

    def queue(self, **values: Any) -> dict[str, Any]:
        with self._lock:
            entry = validate_settings(values, allowed=(*JOB_SCENARIO_KEYS, "operation"))
            self._queue.append(entry)
            return self.get()

    def clear_queue(self) -> None:
        with self._lock:
            self._queue.clear()

    def for_next_job(self, operation: str) -> dict[str, Any]:
        """The knobs of the next job of ``operation``: the first queued entry that targets it, over the settings."""
        with self._lock:
            scenario = {k: self.settings[k] for k in JOB_SCENARIO_KEYS}
            for i, entry in enumerate(self._queue):
                if entry.get("operation") in (None, operation):
                    del self._queue[i]
                    scenario.update({k: v for k, v in entry.items() if k != "operation"})
                    break
            return scenario

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.settings.clear()
            self.settings.update(self._initial)
