"""The rules every request obeys, each defined once.

* ``RetryPolicy``: what is retried, how often, and how long to wait.
* ``LinkPolicy``: which server-supplied URLs may receive our credentials.
* ``check_file_name``: the one rule for file names, on URLs, destination paths and SQL alike.
* ``redact_url``: the one way a URL is shown in a message, a log or a manifest.
"""

from __future__ import annotations

import email.utils
import http.client
import random
import re
import ssl
import time
from dataclasses import dataclass
from typing import Any, overload
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from airflow_provider_datapump.exceptions import TRANSIENT_STATUSES, DataPumpLinkError, DataPumpTransferError
from airflow_provider_datapump.hooks.ords.settings import OrdsSettings, origin

__all__ = [
    "PLAIN_FILE_NAME",
    "LinkPolicy",
    "RetryPolicy",
    "certificate_error",
    "check_file_name",
    "is_plain_file_name",
    "parse_retry_after",
    "redact_url",
]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter; ``Retry-After`` wins when the server sends it.

    Idempotent calls (GET) retry on connect errors, timeouts, dropped connections, 429 and 5xx.
    A create POST is never retried blindly: only when the request provably never reached the
    server (connect error) or the server said so (429). Every other failure of a POST is
    ambiguous, and the create flow looks in the job list before it tries again.
    """

    attempts: int = 5
    backoff: float = 1.0
    max_backoff: float = 30.0
    max_retry_after: float = 300.0

    RETRY_STATUSES = TRANSIENT_STATUSES  # one list: what the hook retries is what a wait rides out

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None when the budget is spent."""
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return random.uniform(0, min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))

    def status_is_retryable(self, status: int, *, idempotent: bool) -> bool:
        return status in self.RETRY_STATUSES and (idempotent or status == 429)

    @staticmethod
    def error_is_retryable(error: Exception, *, idempotent: bool) -> bool:
        if certificate_error(error):
            return False  # an untrusted certificate stays untrusted: say so now, not after backoff
        if idempotent:
            return isinstance(
                error, (httpx.TransportError, OSError, http.client.HTTPException, DataPumpTransferError)
            )
        # The request never left: safe to send again even for a POST.
        return isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, ConnectionRefusedError))


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def certificate_error(error: BaseException) -> bool:
    """Whether TLS certificate verification failed somewhere in the chain (httpx wraps it twice)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class LinkPolicy:
    """Which URLs may receive credentials.

    ORDS chooses the links in its responses, and behind proxies they are often wrong (``http://``
    for an ``https://`` service, an internal host name). A link is followed as given only when its
    scheme, host and port equal the connection's base URL and its path lies under the base path.
    Any other link is never requested: the URL is rebuilt from the base URL and the job's owner,
    name and file name, which identify the resource without trusting the server's choice of host.
    """

    def __init__(self, settings: OrdsSettings, log: Any) -> None:
        self.settings = settings
        self.origin = settings.origin
        self.base_path = urlsplit(settings.base_url).path.rstrip("/") + "/"
        self._log = log
        self._warned: set[str] = set()

    def trusted(self, href: str) -> bool:
        try:
            parts = urlsplit(href)
            # A fragment means the server put a raw '#' (legal in owner names: C##USER) into the
            # path; such a link does not name the resource it means to.
            return (
                origin(href) == self.origin
                and not parts.fragment
                and (parts.path + "/").startswith(self.base_path)
            )
        except ValueError:
            return False

    def job_url(self, owner: str, job: str) -> str:
        return f"{self.settings.api_root}jobs/{quote(owner, safe='$_')},{quote(job, safe='$_')}/"

    def file_url(self, owner: str, job: str, file_name: str) -> str:
        return self.job_url(owner, job) + quote(check_file_name(file_name), safe="$_.-")

    def follow(self, href: str | None, owner: str, job: str, file_name: str | None = None) -> str:
        """The URL to request for a job (or one of its files) that the server linked as ``href``."""
        rebuilt = self.file_url(owner, job, file_name) if file_name else self.job_url(owner, job)
        if href and self.trusted(href):
            return href
        if href and href not in self._warned:
            self._warned.add(href)
            self._log.warning(
                "ORDS linked %s, which is not under the connection's base URL %s; requesting %s instead "
                "so that credentials only go to the configured host",
                redact_url(href),
                self.settings.base_url,
                rebuilt,
            )
        return rebuilt


# File names go into URLs (here), destination paths (the fetch operator) and PL/SQL binds that
# name a file in a directory (the Oracle side), so only plain names pass, wherever they come from.
PLAIN_FILE_NAME = re.compile(r"[A-Za-z0-9_$#][A-Za-z0-9_$#.\-]{0,254}\Z")


def is_plain_file_name(name: Any) -> bool:
    return isinstance(name, str) and bool(PLAIN_FILE_NAME.match(name)) and ".." not in name


def check_file_name(name: Any) -> str:
    """Refuse a server-supplied file name that is anything but a plain file name."""
    if not is_plain_file_name(name):
        raise DataPumpLinkError(
            f"refusing the server's file name {str(name)[:80]!r}: only plain file names "
            "(letters, digits, _ $ # . -) are requested or written"
        )
    return name


@overload
def redact_url(url: str) -> str: ...
@overload
def redact_url(url: None) -> None: ...
def redact_url(url: str | None) -> str | None:
    """A URL fit to show: no user information, and no query or fragment, where tokens travel."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.username or parts.password:
            host = parts.hostname or ""
            host = f"[{host}]" if ":" in host else host
            netloc = "***@" + host + (f":{parts.port}" if parts.port else "")
    except ValueError:  # a server's link with an unclosed IPv6 bracket or an impossible port
        return "<a malformed URL>"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
