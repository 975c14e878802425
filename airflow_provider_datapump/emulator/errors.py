"""The emulator's typed errors, and the one problem+json document every refusal becomes.

Parts of the emulator raise these; the HTTP layer turns each into a response in one place
(``responses.problem_response``). Nothing here imports FastAPI.
"""

from __future__ import annotations

import secrets
from typing import Any

__all__ = [
    "EmulatorError",
    "BadRequest",
    "Unauthorized",
    "NotFound",
    "MethodNotAllowed",
    "NotAcceptable",
    "Conflict",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "RangeNotSatisfiable",
    "NameClash",
    "InjectedFault",
    "InternalError",
    "problem_body",
    "STATUS_CODES",
]

# ORDS' problem documents name the status in CamelCase (`code`) and in words (`title`).
STATUS_CODES: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "Bad Request"),
    401: ("Unauthorized", "Unauthorized"),
    403: ("Forbidden", "Forbidden"),
    404: ("NotFound", "Not Found"),
    405: ("MethodNotAllowed", "Method Not Allowed"),
    406: ("NotAcceptable", "Not Acceptable"),
    409: ("Conflict", "Conflict"),
    413: ("PayloadTooLarge", "Payload Too Large"),
    415: ("UnsupportedMediaType", "Unsupported Media Type"),
    416: ("RangeNotSatisfiable", "Range Not Satisfiable"),
    429: ("TooManyRequests", "Too Many Requests"),
    500: ("InternalServerError", "Internal Server Error"),
    502: ("BadGateway", "Bad Gateway"),
    503: ("ServiceUnavailable", "Service Unavailable"),
    504: ("GatewayTimeout", "Gateway Timeout"),
}


class EmulatorError(Exception):
    """A request the emulator refuses; ``status`` is the HTTP status to answer with.

    ``headers`` values may be lists (one header line each, e.g. two WWW-Authenticate
    challenges); ``extra`` adds members to the problem document (OAuth's ``error``).
    """

    status = 500

    def __init__(
        self,
        status: int | None = None,
        message: str = "",
        *,
        headers: dict[str, Any] | None = None,
        extra: dict[str, object] | None = None,
    ):
        super().__init__(message)
        if status is not None:
            self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class _Fixed(EmulatorError):
    """An error whose status is its class."""

    def __init__(
        self, message: str, *, headers: dict[str, Any] | None = None, extra: dict[str, object] | None = None
    ):
        super().__init__(None, message, headers=headers, extra=extra)


class BadRequest(_Fixed):
    status = 400


class Unauthorized(_Fixed):
    status = 401


class NotFound(_Fixed):
    status = 404


class MethodNotAllowed(_Fixed):
    status = 405


class NotAcceptable(_Fixed):
    status = 406


class Conflict(_Fixed):
    status = 409


class PayloadTooLarge(_Fixed):
    status = 413


class UnsupportedMediaType(_Fixed):
    status = 415


class RangeNotSatisfiable(_Fixed):
    status = 416


class InternalError(_Fixed):
    status = 500


class NameClash(EmulatorError):
    """ORA-31634 and the same-second log-file clash; their HTTP status is a setting (400 or 500)."""


class InjectedFault(EmulatorError):
    """A status a fault rule answers with instead of handling the request."""

    def __init__(self, status: int, retry_after: float | None):
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = (
                str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
            )
        super().__init__(status, f"Injected fault: HTTP {status}", headers=headers)


def problem_body(status: int, message: str, extra: dict[str, object] | None = None) -> dict[str, object]:
    code, title = STATUS_CODES.get(status, (f"Status{status}", f"HTTP {status}"))
    body: dict[str, object] = {
        "code": code,
        "title": title,
        "message": message,
        "type": f"tag:oracle.com,2020:error/{code}",
        "instance": f"tag:oracle.com,2020:ecid/{secrets.token_urlsafe(16)}",
    }
    if extra:
        body.update(extra)
    return body
