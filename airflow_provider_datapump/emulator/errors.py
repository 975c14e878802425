"""Errors raised by the emulator's state and rendered by the HTTP layer as problem+json."""

from __future__ import annotations

import secrets

__all__ = ["EmulatorError", "problem_body", "STATUS_CODES"]

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
    """A request the emulator refuses; ``status`` is the HTTP status to answer with."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, object] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


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
