"""From a failed exchange to the provider's exception: what ORDS said, or that nothing answered."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_datapump.exceptions import DataPumpError, DataPumpHTTPError, DataPumpUnreachableError
from airflow_provider_datapump.hooks.ords.policy import certificate_error, parse_retry_after, redact_url

__all__ = ["AmbiguousCreate", "http_error", "unreachable_error"]


class AmbiguousCreate(DataPumpError):
    """A create POST failed in a way that does not say whether the job was created."""

    def __init__(self, cause: Exception, *, answered: bool) -> None:
        self.cause = cause
        # No answer at all (timeout, dropped connection): the server may still be working on it.
        self.answered = answered
        super().__init__(str(cause))


def http_error(
    status: int, headers: Mapping[str, str], body: bytes, method: str, url: str, *, what: str | None = None
) -> DataPumpHTTPError:
    """The error for an answer with an unwanted status, with ORDS's code and message when it sent them."""
    code = message = None
    if body:
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):
            doc = None
        if isinstance(doc, dict):
            code = _short(doc.get("code") or doc.get("title"))
            # Data Pump's ORA chain (three or four lines, an object-store URI in one) passes 300 characters.
            message = _short(doc.get("message") or doc.get("detail") or doc.get("title"), 1000)
        else:
            text = body[:2000].decode("utf-8", "replace")
            if "<" in text:
                text = re.sub(r"<[^>]+>", " ", text)
            message = _short(" ".join(text.split())) or None
    if status == 401:
        message = (
            message + "; " if message else ""
        ) + "check the connection's login and password (or OAuth2 client)"
    return DataPumpHTTPError(
        method=method,
        url=redact_url(url),
        status=status,
        code=code,
        message=(f"{what}: " if what and message else "") + (message or ""),
        retry_after=parse_retry_after(headers.get("Retry-After")),
    )


def unreachable_error(method: str, url: str, error: Exception) -> DataPumpUnreachableError:
    """The error for an exchange that ended without an answer."""
    message = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    if certificate_error(error):
        message += "; the server's TLS certificate is not trusted: set the connection extra 'verify' to its CA bundle"
    return DataPumpUnreachableError(method=method, url=redact_url(url), message=message)


def _short(value: Any, limit: int = 300) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
