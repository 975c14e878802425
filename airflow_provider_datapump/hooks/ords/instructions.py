"""What a flow asks its driver for: a Request, a Sleep or a Download, each its own type.

A flow is a generator: it yields instructions and receives what each one produced (a Request's
parsed JSON or text, a Download's byte count, None after a Sleep). A failed instruction is
thrown into the flow as the provider's exception. Flows never send anything themselves, so the
same flow runs under the sync driver and the async one (``transport.run`` / ``transport.arun``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

__all__ = ["Download", "Flow", "Instruction", "Request", "Sink", "Sleep", "Writable"]

T = TypeVar("T")


class Writable(Protocol):
    """Where a file body goes: a binary file object, or anything with ``write`` (the fetch
    operator's hashing writer, its capped XCom buffer). Optional: ``announce(length)``, told the
    size before the body arrives, and ``seekable``/``seek``/``truncate``, for a rewind."""

    def write(self, data: Any, /) -> int: ...


# A writable, or a callable that opens a fresh one for each attempt.
Sink = Writable | Callable[[], Writable]


@dataclass(frozen=True)
class Request:
    """One JSON (or text) exchange with ORDS."""

    method: str
    url: str
    json: Any = None
    params: Mapping[str, Any] | None = None
    # False for a create: a retry could start a second job, so the attempt rules hold it back.
    idempotent: bool = True
    ok: frozenset[int] = frozenset({200})
    # Read a text file (a log) instead of JSON.
    text: bool = False
    # The media types asked for, where a JSON answer has its own (an OpenAPI document).
    accept: str | None = None

    @property
    def headers(self) -> dict[str, str] | None:
        # Oracle documents logs as text/plain; a server that negotiates strictly refuses a log
        # asked for as application/json (the client's default) with 406.
        if self.text:
            return {"Accept": "text/plain, */*;q=0.5"}
        return {"Accept": self.accept} if self.accept else None


@dataclass(frozen=True)
class Download:
    """A file body written to ``sink``; the flow receives the number of bytes written."""

    url: str
    sink: Sink

    # What the attempt rules read off any instruction that leaves.
    method = "GET"
    idempotent = True


@dataclass(frozen=True)
class Sleep:
    """A pause between steps of a flow, with no request."""

    seconds: float


Instruction = Request | Download | Sleep
Flow = Generator[Instruction, Any, T]
