"""One call's attempts: the single state machine behind every request, JSON or file body.

It decides, after each failed try, whether and when to try again: the retry policy, the OAuth2
refresh on a 401 (once, with no wait), and the rewind-before-retry rule (a file body partly
written must be rewound, or the retry is refused). The transport supplies one try at a time
(``run_attempts`` / ``arun_attempts``); nothing else loops.
"""

from __future__ import annotations

import asyncio
import http.client
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any, TypeVar, cast

import httpx

from airflow_provider_datapump.exceptions import DataPumpTransferError
from airflow_provider_datapump.hooks.ords.auth import OrdsAuth
from airflow_provider_datapump.hooks.ords.errors import AmbiguousCreate, http_error, unreachable_error
from airflow_provider_datapump.hooks.ords.instructions import Download, Request, Sink, Writable
from airflow_provider_datapump.hooks.ords.policy import RetryPolicy

__all__ = ["NO_ANSWER", "Attempts", "Refusal", "SinkState", "arun_attempts", "run_attempts"]

T = TypeVar("T")

# What a try can fail with before a whole answer arrived (httpx's errors, http.client's, and a
# body that ended short of its Content-Length).
NO_ANSWER = (httpx.HTTPError, OSError, http.client.HTTPException, DataPumpTransferError)


@dataclass(frozen=True)
class Refusal:
    """An answer whose status the call did not want."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class SinkState:
    """Where one file goes, across attempts: a fresh file from a factory, or a rewound file object.

    Only an attempt that wrote bytes makes a restart need a rewind; a 503 before the body does not.
    """

    def __init__(self, target: Sink) -> None:
        self.target = target
        self.factory = callable(target) and not hasattr(target, "write")
        self.dirty = False

    def open(self, expected: int | None) -> Writable:
        if self.factory:
            out = cast("Callable[[], Writable]", self.target)()
        else:
            out = cast("Writable", self.target)
            if self.dirty:  # check_restartable let this attempt happen: the sink can be rewound
                rewindable = cast("IO[bytes]", out)
                rewindable.seek(0)
                rewindable.truncate()
        self.dirty = False
        # A sink may want the size before the body arrives (an XCom cap, a progress percentage).
        announce = getattr(out, "announce", None)
        if announce is not None:
            announce(expected)
        return out

    def wrote(self, total: int) -> None:
        self.dirty = self.dirty or total > 0

    def check_restartable(self, exc: Exception) -> None:
        if self.factory or not self.dirty:
            return
        try:
            restartable = cast("IO[bytes]", self.target).seekable()  # AttributeError: not rewindable
        except Exception:
            restartable = False
        if not restartable:
            raise DataPumpTransferError(
                f"the transfer broke ({exc}) and the sink cannot be rewound to restart it"
            ) from exc


class Attempts:
    """Retry bookkeeping for one call: each failed try either returns the wait before the next, or raises."""

    def __init__(
        self, policy: RetryPolicy, call: Request | Download, auth: OrdsAuth | None, log: Any
    ) -> None:
        self.policy, self.call, self.auth, self.log = policy, call, auth, log
        self.sink = SinkState(call.sink) if isinstance(call, Download) else None
        self.attempt = 1
        self.refreshed = False

    def after_refusal(self, refusal: Refusal) -> float:
        if refusal.status == 401 and self.auth is not None and self.auth.refreshable and not self.refreshed:
            # The token was revoked or expired early (an ORDS restart): a new one, once, at once.
            # The server refused the request, so even a create is safe to send again.
            self.refreshed = True
            self.auth.invalidate()
            return 0.0
        err = http_error(refusal.status, refusal.headers, refusal.body, self.call.method, self.call.url)
        if not self.policy.status_is_retryable(refusal.status, idempotent=self.call.idempotent):
            if not self.call.idempotent and refusal.status >= 500:
                raise AmbiguousCreate(err, answered=True)
            raise err
        return self._wait(err, err.retry_after)

    def after_error(self, exc: Exception) -> float:
        if self.sink is not None:
            self.sink.check_restartable(exc)
        err = (
            exc
            if isinstance(exc, DataPumpTransferError)
            else unreachable_error(self.call.method, self.call.url, exc)
        )
        if not self.policy.error_is_retryable(exc, idempotent=self.call.idempotent):
            if not self.call.idempotent:
                raise AmbiguousCreate(err, answered=False) from exc
            raise err from exc
        return self._wait(err, None)

    def _wait(self, err: Exception, retry_after: float | None) -> float:
        delay = self.policy.delay(self.attempt, retry_after)
        if delay is None:
            raise err
        self.log.warning(
            "Attempt %d of %d failed (%s); retrying in %.1fs", self.attempt, self.policy.attempts, err, delay
        )
        self.attempt += 1
        return delay


def run_attempts(attempts: Attempts, once: Callable[[], T | Refusal]) -> T:
    """Try ``once`` until it succeeds or the attempt rules raise (sync)."""
    while True:
        try:
            outcome = once()
        except NO_ANSWER as exc:
            wait = attempts.after_error(exc)
        else:
            if not isinstance(outcome, Refusal):
                return outcome
            wait = attempts.after_refusal(outcome)
        if wait:
            time.sleep(wait)


async def arun_attempts(attempts: Attempts, once: Callable[[], Awaitable[T | Refusal]]) -> T:
    """Try ``once`` until it succeeds or the attempt rules raise (async)."""
    while True:
        try:
            outcome = await once()
        except NO_ANSWER as exc:
            wait = attempts.after_error(exc)
        else:
            if not isinstance(outcome, Refusal):
                return outcome
            wait = attempts.after_refusal(outcome)
        if wait:
            await asyncio.sleep(wait)
