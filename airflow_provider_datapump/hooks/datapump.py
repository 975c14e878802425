"""DataPumpHook: the one place that talks to ORDS (sync and async) and, optionally, to Oracle.

Read this file for the three policies every caller shares, each defined once:

* ``RetryPolicy`` — what is retried, how often, and how long to wait.
* ``LinkPolicy`` — which server-supplied URLs may receive our credentials.
* the outcome classifier lives in :mod:`airflow_provider_datapump.jobs` (``classify``/``accepts``);
  ``resolve`` below is the only code that feeds it.

Multi-step operations (create with duplicate protection, resolve a job's verdict) are written once
as *flows*: generators that yield HTTP calls and receive answers. A sync driver and an async driver
run the same flow, so the two twins cannot drift apart.

File bodies have their own read path (``http.client`` + ``readinto`` into a reused buffer) because
httpx's streaming loop tops out near half of what curl reaches on loopback; it uses the same URL,
auth, TLS, retry and link policy as everything else.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import http.client
import inspect
import json
import random
import re
import secrets
import ssl
import threading
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

import httpx
from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_datapump import __version__
from airflow_provider_datapump.exceptions import (
    DataPumpAmbiguousJobError,
    DataPumpConfigError,
    DataPumpError,
    DataPumpHTTPError,
    DataPumpLinkError,
    DataPumpOracleNotConfiguredError,
    DataPumpProtocolError,
    DataPumpTransferError,
    DataPumpValidationError,
)
from airflow_provider_datapump.jobs import (
    DataPumpJob,
    JobResult,
    LogSummary,
    Outcome,
    classify,
    dump_template_from_names,
    parse_log,
)
from airflow_provider_datapump.payloads import body_for_endpoint, parse_ords_version, validate_payload
from airflow_provider_datapump.selection import check_selection, file_template_regex

if TYPE_CHECKING:
    from airflow.sdk import Connection

T = TypeVar("T")
JobRef = Any  # "OWNER,JOB", a self URL, a job dict (ORDS body or our XCom), or a DataPumpJob

USER_AGENT = f"airflow-provider-datapump/{__version__} httpx/{httpx.__version__}"
DEFAULT_TIMEOUT = 60.0
# 512 KiB, not 1 MiB: bench/download.py profiled the hook's file write as 84% of its samples, and on
# the benchmark machine (ext4, Linux 6.18) writing a 2 GiB file in 1 MiB write() calls cost 2-4 s of
# kernel CPU in four runs against 0.4-0.6 s in 512 KiB or 64 KiB calls.
CHUNK = 1 << 19


# ============================================================================================
# Connection settings
# ============================================================================================


def _extra(extras: Mapping[str, Any], key: str, default: Any = None) -> Any:
    # The UI stores conn-fields under their plain key; older forms used the prefixed one.
    for name in (key, f"extra__ords__{key}"):
        value = extras.get(name)
        if value not in (None, ""):
            return value
    return default


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _as_bool(field_name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise DataPumpConfigError(f"connection extra {field_name!r} must be true or false, not {value!r}")


@dataclass(frozen=True)
class OrdsSettings:
    """What the hook needs from an Airflow connection, already checked."""

    conn_id: str
    base_url: str  # up to and including the schema alias, no trailing slash
    api_version: str = "stable"
    auth_type: str = "basic"
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    verify: bool | str = True
    timeout: float = DEFAULT_TIMEOUT
    # The server's ORDS version when the user knows it (extra ``ords_version``): keys that version
    # does not document are then refused instead of sent. None: every documented key is allowed.
    ords_version: str | None = None

    @property
    def api_root(self) -> str:
        return f"{self.base_url}/_/db-api/{self.api_version}/database/datapump/"

    @property
    def origin(self) -> tuple[str, str, int]:
        return _origin(self.base_url)

    @classmethod
    def from_connection(cls, conn: Connection, extras: Mapping[str, Any] | None = None) -> OrdsSettings:
        extras = conn.extra_dejson if extras is None else extras
        host = (conn.host or "").strip()
        if not host:
            raise DataPumpConfigError(
                f"connection {conn.conn_id!r} has no host: set it to the ORDS URL up to the schema alias, "
                "e.g. https://db.example.com:8443/ords/pdb1/dbapi_user"
            )
        api_version = str(_extra(extras, "api_version", "stable")).strip().strip("/")
        if "://" in host:
            parts = urlsplit(host)
            if parts.username or parts.password:
                raise DataPumpConfigError(
                    f"connection {conn.conn_id!r}: put the user and password in login/password, not in the URL"
                )
            netloc = parts.hostname or ""
            if ":" in netloc:
                netloc = f"[{netloc}]"
            port = parts.port
            if conn.port and port and conn.port != port:
                raise DataPumpConfigError(
                    f"connection {conn.conn_id!r}: the URL says port {port} but the port field says {conn.port}"
                )
            port = port or conn.port
            path = parts.path.rstrip("/")
            if conn.schema and not path:
                path = "/" + conn.schema.strip("/")
            scheme = parts.scheme
        else:
            scheme = str(_extra(extras, "protocol", "https")).lower()
            netloc, port = host, conn.port
            path = "/" + (conn.schema or "").strip("/")
        if scheme not in ("http", "https"):
            raise DataPumpConfigError(f"connection {conn.conn_id!r}: protocol must be http or https, not {scheme!r}")
        # Users often paste a whole endpoint URL; keep what is before the Database API part.
        if "/_/db-api/" in path + "/":
            path, _, rest = (path + "/").partition("/_/db-api/")
            api_version = rest.split("/", 1)[0] or api_version
        if not path.strip("/"):
            raise DataPumpConfigError(
                f"connection {conn.conn_id!r}: the URL has no ORDS path; it must end with the schema alias, "
                "e.g. /ords/dbapi_user"
            )
        base = urlunsplit((scheme, f"{netloc}:{port}" if port else netloc, path.rstrip("/"), "", ""))
        auth_type = str(_extra(extras, "auth_type", "basic")).strip().lower()
        if auth_type not in ("basic", "oauth2"):
            raise DataPumpConfigError(f"connection {conn.conn_id!r}: auth_type must be basic or oauth2, not {auth_type!r}")
        if not conn.login or not conn.password:
            who = "client id and client secret" if auth_type == "oauth2" else "user and password"
            raise DataPumpConfigError(f"connection {conn.conn_id!r} needs a {who} (login and password fields)")
        verify_raw = _extra(extras, "verify", True)
        verify: bool | str
        if isinstance(verify_raw, str) and verify_raw.strip().lower() not in _TRUE + _FALSE:
            verify = verify_raw.strip()
        else:
            verify = _as_bool("verify", verify_raw)
        try:
            timeout = float(_extra(extras, "timeout", DEFAULT_TIMEOUT))
        except (TypeError, ValueError):
            raise DataPumpConfigError(f"connection {conn.conn_id!r}: timeout must be a number of seconds") from None
        if timeout <= 0:
            raise DataPumpConfigError(f"connection {conn.conn_id!r}: timeout must be positive")
        ords_version = _extra(extras, "ords_version")
        try:
            parsed = parse_ords_version(ords_version)
        except DataPumpValidationError as err:
            raise DataPumpConfigError(f"connection {conn.conn_id!r}: {err}") from None
        return cls(
            conn_id=conn.conn_id,
            base_url=base,
            api_version=api_version or "stable",
            auth_type=auth_type,
            login=conn.login,
            password=conn.password,
            verify=verify,
            timeout=timeout,
            ords_version=f"{parsed[0]}.{parsed[1]}" if parsed else None,
        )


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


# ============================================================================================
# Retry policy
# ============================================================================================


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

    RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

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
        if _certificate_error(error):
            return False  # an untrusted certificate stays untrusted: say so now, not after backoff
        if idempotent:
            return isinstance(error, (httpx.TransportError, OSError, http.client.HTTPException, DataPumpTransferError))
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


# ============================================================================================
# Link policy
# ============================================================================================


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
            return _origin(href) == self.origin and not parts.fragment and (parts.path + "/").startswith(self.base_path)
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
                _redact_url(href),
                self.settings.base_url,
                rebuilt,
            )
        return rebuilt


# The one rule for file names that come from the server: they are put into URLs here and into
# destination paths by the fetch operator, so only plain names pass.
PLAIN_FILE_NAME = re.compile(r"[A-Za-z0-9_$#][A-Za-z0-9_$#.\-]{0,254}\Z")


def check_file_name(name: Any) -> str:
    """Refuse a server-supplied file name that is anything but a plain file name."""
    if not isinstance(name, str) or not PLAIN_FILE_NAME.match(name) or ".." in name:
        raise DataPumpLinkError(
            f"refusing the server's file name {str(name)[:80]!r}: only plain file names "
            "(letters, digits, _ $ # . -) are requested or written"
        )
    return name


def _redact_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        if parts.username or parts.password:
            host = parts.hostname or ""
            return urlunsplit((parts.scheme, f"***@{host}" + (f":{parts.port}" if parts.port else ""), parts.path, "", ""))
    except ValueError:  # a server's link with an unclosed IPv6 bracket or an impossible port
        return "<a malformed URL>"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


# ============================================================================================
# Authentication
# ============================================================================================


class _OrdsAuth(httpx.Auth):
    """Basic, or OAuth2 client credentials with a cached token refreshed once on a 401."""

    # Only the token endpoint's body is needed; reading every body would consume streamed files.
    requires_response_body = False
    EXPIRY_MARGIN = 30.0

    def __init__(self, settings: OrdsSettings, masker: Callable[[str], Any]) -> None:
        self.settings = settings
        self._masker = masker
        # An async masker's registrations, awaited by async_auth_flow before any request leaves.
        self._pending_masks: list[Awaitable[Any]] = []
        credentials = base64.b64encode(f"{settings.login}:{settings.password}".encode()).decode()
        self._basic = "Basic " + credentials
        # Airflow masks the password, but not its base64 form inside a Basic header.
        self._mask(credentials)
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def _mask(self, secret: str) -> None:
        registered = self._masker(secret)
        if inspect.isawaitable(registered):
            self._pending_masks.append(registered)

    async def _await_masks(self) -> None:
        while self._pending_masks:
            await self._pending_masks.pop()

    @property
    def token_url(self) -> str:
        return f"{self.settings.base_url}/oauth/token"

    def _token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.token_url,
            headers={"Authorization": self._basic, "Accept": "application/json", "User-Agent": USER_AGENT},
            data={"grant_type": "client_credentials"},
        )

    def _store_token(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise _http_error(response, "POST", self.token_url, what="the OAuth2 token request")
        try:
            body = response.json()
            token = body["access_token"]
            ttl = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError, RecursionError):
            raise DataPumpProtocolError("the OAuth2 token endpoint answered without an access_token") from None
        self._mask(token)
        self._token = token
        self._expires = time.monotonic() + max(0.0, ttl - self.EXPIRY_MARGIN)

    def _valid_token(self) -> str | None:
        return self._token if self._token and time.monotonic() < self._expires else None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.settings.auth_type == "basic":
            request.headers["Authorization"] = self._basic
            yield request
            return
        for attempt in (1, 2):
            token = self._valid_token()
            if token is None:
                self._store_token((yield self._token_request()))
                token = self._token
            request.headers["Authorization"] = f"Bearer {token}"
            response = yield request
            if response.status_code != 401 or attempt == 2:
                return
            self._token = None  # revoked or expired early: refresh once

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        flow = self.auth_flow(request)
        outgoing = next(flow)
        while True:
            response = yield outgoing
            if outgoing.url.path.endswith("/oauth/token"):
                response.read()
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        flow = self.auth_flow(request)
        outgoing = next(flow)
        while True:
            await self._await_masks()
            response = yield outgoing
            if outgoing.url.path.endswith("/oauth/token"):
                await response.aread()
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return

    def header(self, client: httpx.Client) -> str:
        """The Authorization value for the raw file path (sync), fetching a token if needed."""
        if self.settings.auth_type == "basic":
            return self._basic
        with self._lock:
            if self._valid_token() is None:
                self._store_token(client.send(self._token_request(), auth=None))
            return f"Bearer {self._token}"

    def invalidate(self) -> None:
        self._token = None


# ============================================================================================
# Errors
# ============================================================================================


def _http_error(response: httpx.Response | None, method: str, url: str, *, what: str | None = None,
                error: Exception | None = None) -> DataPumpHTTPError:
    status = response.status_code if response is not None else None
    headers: Mapping[str, str] = response.headers if response is not None else {}
    body = response.content if response is not None else b""
    code = message = None
    if body:
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):
            doc = None
        if isinstance(doc, dict):
            code = _short(doc.get("code") or doc.get("title"))
            message = _short(doc.get("message") or doc.get("detail") or doc.get("title"))
        else:
            text = body[:2000].decode("utf-8", "replace")
            if "<" in text:
                text = re.sub(r"<[^>]+>", " ", text)
            message = _short(" ".join(text.split())) or None
    if status is None and error is not None:
        message = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        if _certificate_error(error):
            message += "; the server's TLS certificate is not trusted: set the connection extra 'verify' to its CA bundle"
    if status == 401:
        message = (message + "; " if message else "") + "check the connection's login and password (or OAuth2 client)"
    err = DataPumpHTTPError(
        method=method,
        url=_redact_url(url),
        status=status,
        code=code,
        message=(f"{what}: " if what and message else "") + (message or ""),
        retry_after=parse_retry_after(headers.get("Retry-After")),
    )
    return err


def _certificate_error(error: BaseException) -> bool:
    """Whether TLS certificate verification failed somewhere in the chain (httpx wraps it twice)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _short(value: Any, limit: int = 300) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ============================================================================================
# Calls and flows
# ============================================================================================


@dataclass(frozen=True)
class _Call:
    method: str
    url: str
    json: Any = None
    params: Mapping[str, Any] | None = None
    idempotent: bool = True
    ok: frozenset[int] = frozenset({200})
    # Read a text file (a log) instead of JSON.
    text: bool = False

    @property
    def headers(self) -> dict[str, str] | None:
        # Oracle documents logs as text/plain; a server that negotiates strictly refuses a log
        # asked for as application/json (the client's default) with 406.
        return {"Accept": "text/plain, */*;q=0.5"} if self.text else None


@dataclass(frozen=True)
class _Sleep:
    """A flow asks its driver to wait, without a request."""

    seconds: float


@dataclass(frozen=True)
class _Answer:
    body: Any  # parsed JSON, or text for text calls


class _AmbiguousCreate(DataPumpError):
    """A create POST failed in a way that does not say whether the job was created."""

    def __init__(self, cause: Exception, *, answered: bool) -> None:
        self.cause = cause
        # No answer at all (timeout, dropped connection): the server may still be working on it.
        self.answered = answered
        super().__init__(str(cause))


@dataclass(frozen=True)
class JobPage:
    items: tuple[DataPumpJob, ...]
    has_more: bool
    limit: int | None
    offset: int | None
    count: int
    next_href: str | None = None  # the server's link to the next page, when it gave one


# Walking the job list: pages of this size, never more than this many pages for one question.
LIST_PAGE_SIZE = 500
LIST_MAX_PAGES = 20
# ORA-31634 (a job of this owner was named in the same second) is retried for this long. ORDS
# creates at most one job of an operation per owner per second, so N creates at once need N
# seconds: a mapped export of 100 schemas on one ORDS user, plus anyone else on it, fits.
NAME_CLASH_SECONDS = 300.0
# The database's local time (in which ORDS names jobs) lies within 12 hours behind UTC and 14
# ahead; the search window opens early enough for any of them, and a few minutes of clock skew.
_WINDOW_BEHIND = 12 * 3600 + 600
_DEFAULT_DUMP_NAME = re.compile(r"EXPDAT\d{2}", re.I)


def unique_dump_template(now: float | None = None) -> str:
    """A dump file template no other submission uses: ORDS's own pattern plus a random part."""
    stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"EXPDAT%U-{stamp}-{secrets.token_hex(4).upper()}.DMP"


@dataclass(frozen=True)
class _SearchWindow:
    """Jobs one create may have started: its operation's REST jobs named after ``lower``."""

    operation: str
    lower: str  # a job name: DATAPUMP_REST_<OP>_<YYYYMMDDHH24MISS>

    @classmethod
    def around(cls, operation: str, now: float) -> _SearchWindow:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now - _WINDOW_BEHIND))
        return cls(operation, f"DATAPUMP_REST_{operation}_{stamp}")

    @property
    def prefix(self) -> str:
        return f"DATAPUMP_REST_{self.operation}_"

    @property
    def q(self) -> dict[str, Any]:
        return {"job_name": {"$gt": self.lower}}

    def matches(self, job: DataPumpJob) -> bool:
        return job.job_name.startswith(self.prefix) and job.job_name > self.lower and (
            (job.operation or self.operation).upper() == self.operation
        )


@dataclass(frozen=True)
class _Decision:
    ours: DataPumpJob | None
    undecided: set[str]
    why: str


def dump_set_evidence(template: str, dumps: Sequence[str]) -> tuple[str, str]:
    """What a finished export's dump file names say about whose it is, against the name its request
    had: "ours!" (the name), "not ours" (another name), "undecided" (none, or ORDS's own default
    names, which an ORDS that dropped file_name uses: they prove nothing)."""
    if dumps and all(file_template_regex(template).match(d) for d in dumps):
        return "ours!", f"its dump set {', '.join(dumps[:3])} has this request's name"
    if dumps and not all(_DEFAULT_DUMP_NAME.match(d) for d in dumps):
        return "not ours", f"its dump set is {', '.join(dumps[:3])}"
    return "undecided", "its dump set has ORDS's default names (or none), which prove nothing"


def _q(filter_object: Mapping[str, Any]) -> str:
    return json.dumps(filter_object, separators=(",", ":"))


def _is_name_clash(err: BaseException) -> bool:
    return "ORA-31634" in str(err)


def _dump_file_exists(err: BaseException) -> bool:
    """ORA-31641/ORA-27038: the dump file exists. On a one-off name only a job of ours can hold it."""
    text = str(err)
    return "ORA-31641" in text or "ORA-27038" in text


Flow = Generator["_Call | _Sleep", _Answer, T]


# ============================================================================================
# The hook
# ============================================================================================


class DataPumpHook(BaseHook):
    """ORDS Database API client for Data Pump jobs, plus an optional Oracle connection.

    :param ords_conn_id: Airflow connection of type ``ords``.
    :param oracle_conn_id: optional Oracle connection, for what only SQL can do (stop a job,
        progress, reading a log ORDS does not link, dropping orphaned control tables).
    :param retry_attempts: attempts per idempotent call, including the first.
    :param retry_backoff: base of the exponential backoff, in seconds.
    :param timeout: seconds per request; overrides the connection's ``timeout`` extra.
    :param identity_settle: after a create whose answer was lost, how many seconds (beyond the
        grace window) the hook waits for the evidence that tells which new job is ours.
    """

    conn_name_attr = "ords_conn_id"
    default_conn_name = "ords_default"
    conn_type = "ords"
    hook_name = "Oracle Data Pump (ORDS)"

    def __init__(
        self,
        ords_conn_id: str = default_conn_name,
        oracle_conn_id: str | None = None,
        *,
        retry_attempts: int = 5,
        retry_backoff: float = 1.0,
        retry_max_backoff: float = 30.0,
        timeout: float | None = None,
        identity_settle: float = 60.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.identity_settle = max(0.0, float(identity_settle))
        # The one-off dump name the last create_job gave an export (None: the caller named it).
        self.last_one_off_name: str | None = None
        self.ords_conn_id = ords_conn_id
        self.oracle_conn_id = oracle_conn_id
        self.retry = RetryPolicy(attempts=max(1, int(retry_attempts)), backoff=retry_backoff, max_backoff=retry_max_backoff)
        self.timeout_override = timeout
        self._async_settings: OrdsSettings | None = None
        self._async_links: LinkPolicy | None = None
        self._warned_tls_off = False

    # ---------------------------------------------------------------------------- settings

    def _finish_settings(self, settings: OrdsSettings) -> OrdsSettings:
        if self.timeout_override:
            settings = OrdsSettings(**{**settings.__dict__, "timeout": float(self.timeout_override)})
        if settings.verify is False and not self._warned_tls_off:
            self._warned_tls_off = True  # once per hook, whether it is used sync, async or both
            self.log.warning(
                "TLS certificate verification is OFF for connection %r: anyone on the network path can "
                "read the credentials sent to %s. Point the 'verify' extra at a CA bundle instead.",
                settings.conn_id,
                settings.base_url,
            )
        return settings

    @cached_property
    def settings(self) -> OrdsSettings:
        return self._finish_settings(OrdsSettings.from_connection(self.get_connection(self.ords_conn_id)))

    async def asettings(self) -> OrdsSettings:
        if self._async_settings is None:
            from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson

            conn = await get_async_connection(self.ords_conn_id, hook=self)
            extras = await get_async_extra_dejson(conn)
            self._async_settings = self._finish_settings(OrdsSettings.from_connection(conn, extras))
        return self._async_settings

    @cached_property
    def links(self) -> LinkPolicy:
        return LinkPolicy(self.settings, self.log)

    def _mask(self, secret: str) -> None:
        from airflow.sdk.log import mask_secret

        mask_secret(secret)

    # ---------------------------------------------------------------------------- clients

    @staticmethod
    def _client_kwargs(settings: OrdsSettings) -> dict[str, Any]:
        return {
            "headers": {"User-Agent": USER_AGENT, "Accept": "application/json"},
            "timeout": httpx.Timeout(settings.timeout, connect=min(settings.timeout, 30.0)),
            "verify": _ssl_context(settings.verify),
            "follow_redirects": False,
        }

    @cached_property
    def _auth(self) -> _OrdsAuth:
        return _OrdsAuth(self.settings, self._mask)

    @cached_property
    def client(self) -> httpx.Client:
        """One client for the hook's lifetime: connection reuse, one TLS handshake."""
        return httpx.Client(auth=self._auth, **self._client_kwargs(self.settings))

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()
            del self.__dict__["client"]

    @contextlib.asynccontextmanager
    async def async_client(self) -> AsyncIterator[_SharedAsyncClient]:
        """A pooled async client shared by every hook for the same connection on this event loop.

        A triggerer runs hundreds of waits in one loop; one client each would cost ~1 MB apiece.
        The pool is reference-counted, so a cancelled or failed trigger only drops its reference
        and never closes the client the others still use.
        """
        settings = await self.asettings()
        shared = _AsyncClientPool.acquire(settings, self._client_kwargs, self._amask)
        try:
            yield shared
        finally:
            await _AsyncClientPool.release(shared)

    async def _amask(self, secret: str) -> None:
        from airflow_provider_datapump._compat import amask_secret

        await amask_secret(secret)

    # ---------------------------------------------------------------------------- drivers

    def _send(self, call: _Call) -> _Answer:
        state = _Attempts(self.retry, call, self.log)
        while True:
            try:
                response = self.client.request(call.method, call.url, json=call.json, params=call.params, headers=call.headers)
            except httpx.HTTPError as exc:
                wait = state.after_error(exc)
                time.sleep(wait)
                continue
            if response.status_code in call.ok:
                return _answer(response, call)
            time.sleep(state.after_status(response))

    async def _asend(self, client: httpx.AsyncClient, call: _Call) -> _Answer:
        state = _Attempts(self.retry, call, self.log)
        while True:
            try:
                response = await client.request(call.method, call.url, json=call.json, params=call.params, headers=call.headers)
            except httpx.HTTPError as exc:
                await asyncio.sleep(state.after_error(exc))
                continue
            if response.status_code in call.ok:
                return _answer(response, call)
            await asyncio.sleep(state.after_status(response))

    def _run(self, flow: Flow[T]) -> T:
        try:
            call = next(flow)
            while True:
                if isinstance(call, _Sleep):
                    time.sleep(call.seconds)
                    call = flow.send(_Answer(None))
                    continue
                try:
                    answer = self._send(call)
                except DataPumpError as err:
                    call = flow.throw(err)
                else:
                    call = flow.send(answer)
        except StopIteration as done:
            return done.value

    async def _arun(self, flow: Flow[T], client: httpx.AsyncClient | None = None) -> T:
        if client is None:
            async with self.async_client() as shared:
                return await self._arun(flow, shared.client)
        try:
            call = next(flow)
            while True:
                if isinstance(call, _Sleep):
                    await asyncio.sleep(call.seconds)
                    call = flow.send(_Answer(None))
                    continue
                try:
                    answer = await self._asend(client, call)
                except DataPumpError as err:
                    call = flow.throw(err)
                else:
                    call = flow.send(answer)
        except StopIteration as done:
            return done.value

    # ---------------------------------------------------------------------------- job references

    def locate(self, job: JobRef, links: LinkPolicy | None = None) -> tuple[str, str, str]:
        """(owner, job_name, url) for any job reference, with the link policy applied."""
        links = links or self.links
        href: str | None = None
        if isinstance(job, DataPumpJob):
            owner, name, href = job.owner_name, job.job_name, job.self_href
        elif isinstance(job, Mapping):
            owner, name = job.get("owner_name"), job.get("job_name")
            href = job.get("self_url") or next(
                (link.get("href") for link in job.get("links") or () if isinstance(link, Mapping) and link.get("rel") == "self"),
                None,
            )
            if (not owner or not name) and href:
                owner, name = _ident_from_url(href)
        elif isinstance(job, str) and "://" in job:
            href = job
            owner, name = _ident_from_url(job)
        elif isinstance(job, str) and job.count(",") == 1:
            owner, name = (part.strip() for part in job.split(","))
        else:
            raise DataPumpValidationError("job", f"{str(job)[:80]!r} is not a job dict, a job URL or 'OWNER,JOB_NAME'")
        if not owner or not name or not isinstance(owner, str) or not isinstance(name, str):
            raise DataPumpValidationError("job", "does not name the job's owner and job name")
        _check_ident_part(owner)
        _check_ident_part(name)
        return owner, name, links.follow(href, owner, name)

    # ---------------------------------------------------------------------------- flows

    def _create_flow(self, links: LinkPolicy, payload: Mapping[str, Any], endpoint: str | None) -> Flow[DataPumpJob]:
        body = validate_payload(payload)  # never send what we would reject
        operation = body["operation"]
        generated = operation == "EXPORT" and body.get("file_name") is None and self._unique_names(links)
        if generated:
            # A name no other submission uses: when the create's answer is lost, the dump set of a
            # new job proves whether it is ours (see _identify_flow). ORDS's own default name is
            # EXPDAT%U-<timestamp>.DMP, the same for every job created in one second.
            body["file_name"] = unique_dump_template()
        # The caller stores it with the job's identity, so a reattach can check it too.
        self.last_one_off_name = body["file_name"] if generated else None
        chosen, sent = body_for_endpoint(body, endpoint, links.settings.ords_version)
        url = links.settings.api_root + ("jobs/" if chosen == "jobs" else chosen)
        window = _SearchWindow.around(operation, time.time())
        known, _ = yield from self._search_flow(links, window)
        attempt = 0
        clash_deadline: float | None = None
        while True:
            attempt += 1
            try:
                answer = yield _Call("POST", url, json=sent, idempotent=False, ok=frozenset({200, 201}))
                return DataPumpJob.from_json(answer.body)
            except (_AmbiguousCreate, DataPumpHTTPError) as failure:
                cause = failure.cause if isinstance(failure, _AmbiguousCreate) else failure
                if _is_name_clash(cause):
                    clash_deadline = clash_deadline or time.monotonic() + NAME_CLASH_SECONDS
                if _is_name_clash(cause) and time.monotonic() < (clash_deadline or 0):
                    # ORA-31634: another job of this owner got this second's name first (ORDS names
                    # jobs by the second). Nothing was created; a later second is free. Random
                    # waits spread the creates that collided over the seconds to come.
                    attempt -= 1
                    wait = random.uniform(0.5, 2.5)
                    self.log.info("ORDS named the job after one created in the same second (ORA-31634); "
                                  "sending the create again in %.1fs", wait)
                    yield _Sleep(wait)
                    continue
                ours_may_exist = isinstance(failure, _AmbiguousCreate) or (generated and _dump_file_exists(cause))
                if not ours_may_exist:
                    raise
                answered = not isinstance(failure, _AmbiguousCreate) or failure.answered
            grace = 0.0 if answered else 2 * links.settings.timeout
            job = yield from self._identify_flow(links, body, window, {j.ident for j in known}, cause,
                                                 grace=grace, settle=grace + self.identity_settle)
            if job is not None:
                return job
            if attempt >= self.retry.attempts:
                raise cause
            wait = self.retry.delay(attempt, getattr(cause, "retry_after", None)) or 0.0
            self.log.warning("The create request failed (%s) and no new job is ours; sending it again in %.1fs", cause, wait)
            yield _Sleep(wait)

    def _unique_names(self, links: LinkPolicy) -> bool:
        # The export endpoint documents file_name from ORDS 21.3; an older one would drop it.
        version = parse_ords_version(links.settings.ords_version)
        return version is None or version >= (21, 3)

    def _identify_flow(
        self, links: LinkPolicy, body: Mapping[str, Any], window: _SearchWindow, known: set[str],
        cause: Exception, *, grace: float, settle: float,
    ) -> Flow[DataPumpJob | None]:
        """Which new job, if any, did our unanswered create start? Decided from evidence only.

        New jobs of the same operation are candidates; each is ours, not ours, or undecided
        (``_evidence_flow``). Waits up to ``grace`` seconds for a job to appear (a request with no
        answer may still be in the server's hands) and up to ``settle`` for the evidence to settle.
        The candidates are those seen by the first look after the grace window: a job that appears
        later is not our request's, as sending the create again already assumes, and on a busy
        ORDS user new jobs never stop appearing. None: nothing new is ours, and sending the create
        again starts no second job.
        """
        started = time.monotonic()
        candidates: dict[str, DataPumpJob] = {}
        frozen = False
        settled: dict[str, tuple[str, str, DataPumpJob | None]] = {}
        while True:
            jobs, complete = yield from self._search_flow(links, window)
            if not frozen:
                candidates.update((j.ident, j) for j in jobs if j.ident not in known)
                frozen = time.monotonic() - started >= grace
            if not complete:
                self.log.warning("The job list was longer than %d pages; candidates past them are not considered", LIST_MAX_PAGES)
            decision = yield from self._decide_flow(links, body, list(candidates), settled)
            elapsed = time.monotonic() - started
            if decision.ours is not None:
                self.log.warning("The create request failed (%s) but ORDS did create %s: %s",
                                 cause, decision.ours.ident, decision.why)
                return decision.ours
            if not decision.undecided and frozen:
                if candidates:
                    self.log.info("New %s job(s) %s belong to other submissions: %s", body["operation"],
                                  ", ".join(candidates), decision.why)
                return None
            if elapsed >= settle:
                idents = sorted(decision.undecided)
                pending = {"pending_create": True, "request": dict(body), "candidates": idents}
                raise DataPumpAmbiguousJobError(
                    f"the create request failed ({cause}) and {len(idents)} new {body['operation']} job(s) may be ours: "
                    f"{', '.join(idents)}. None is proven ours yet ({decision.why}); refusing to report another "
                    "submission's job, or to start a second one. A retry of this task settles it once they end.",
                    candidates=idents, pending=pending,
                ) from cause
            yield _Sleep(min(2.0, max(0.2, settle - elapsed)))

    def _settle_flow(self, links: LinkPolicy, pending: Mapping[str, Any]) -> Flow[DataPumpJob | None]:
        request, candidates = pending.get("request"), pending.get("candidates")
        if not isinstance(request, Mapping) or not isinstance(candidates, list):
            raise DataPumpValidationError("pending", "is not what DataPumpAmbiguousJobError.pending holds")
        body = validate_payload(request)
        # The candidates were fixed after the grace window, as in _identify_flow: a job that
        # appeared since is not the failed try's.
        idents = list(dict.fromkeys(map(str, candidates)))
        decision = yield from self._decide_flow(links, body, idents)
        if decision.ours is not None:
            self.log.info("%s is the job the earlier create started: %s", decision.ours.ident, decision.why)
            return decision.ours
        if not decision.undecided:
            self.log.info("None of %s is the earlier create's job (%s); nothing of ours was created", ", ".join(idents), decision.why)
            return None
        raise DataPumpAmbiguousJobError(
            f"which of {', '.join(sorted(decision.undecided))} the earlier create started cannot be told yet "
            f"({decision.why}); it can once they end",
            candidates=sorted(decision.undecided), pending=dict(pending),
        )

    def _decide_flow(self, links: LinkPolicy, body: Mapping[str, Any], idents: list[str],
                     settled: dict[str, tuple[str, str, DataPumpJob | None]] | None = None) -> Flow[_Decision]:
        evidence: dict[str, tuple[str, str, DataPumpJob | None]] = {}
        settled = {} if settled is None else settled
        for ident in idents:
            if ident not in settled:
                found = yield from self._evidence_flow(links, body, ident)
                if found[0] != "running":
                    settled[ident] = found  # an ended job's evidence does not change: read it once
                evidence[ident] = found
            else:
                evidence[ident] = settled[ident]
        strong = [job for kind, _, job in evidence.values() if kind == "ours!" and job is not None]
        weak = [job for kind, _, job in evidence.values() if kind == "ours" and job is not None]
        undecided = {i for i, (kind, _, _) in evidence.items() if kind in ("running", "undecided")}
        why = "; ".join(f"{i}: {reason}" for i, (_, reason, _) in evidence.items()) or "no new job"
        if len(strong) == 1:
            return _Decision(strong[0], set(), why)
        if len(strong) > 1:
            # Two dump sets with our one-off name cannot both be ours: say so instead of guessing.
            return _Decision(None, {j.ident for j in strong} | undecided, why)
        if len(weak) == 1 and not undecided:
            return _Decision(weak[0], set(), why)
        return _Decision(None, undecided | {j.ident for j in weak}, why)

    def _evidence_flow(self, links: LinkPolicy, body: Mapping[str, Any], ident: str) -> Flow[tuple[str, str, DataPumpJob | None]]:
        """(kind, why, job): "ours!" (proven by our one-off dump name), "ours" (by what it processed),
        "not ours", "running" (no evidence yet) or "undecided" (ended, and nothing proves whose it is)."""
        result = yield from self._resolve_flow(links, ident, {"request": body})
        job = result.job
        if (job.operation or body["operation"]).upper() != body["operation"]:
            return "not ours", f"a {job.operation} job", None
        if result.verdict.outcome is Outcome.VANISHED:
            return "not ours", "gone from ORDS", None
        if result.verdict.running:
            return "running", "still running: its dump set and log are written when it ends", None
        check = result.selection or {}
        mismatches = [m for m in check.get("mismatches", ()) if not m.startswith("file_name ")]
        if mismatches:
            return "not ours", mismatches[0], None
        template = body.get("file_name")
        if body["operation"] == "EXPORT" and isinstance(template, str) and "://" not in template:
            dumps = [f["name"] for f in result.files if f["kind"] == "dump"] or list(result.log_dump_files)
            kind, why = dump_set_evidence(template, dumps)
            return kind, why, job if kind == "ours!" else None
        if check.get("objects_seen"):
            return "ours", "what it processed matches this request", job
        return "undecided", "it processed nothing that proves whose it is", None

    def _search_flow(self, links: LinkPolicy, window: _SearchWindow) -> Flow[tuple[list[DataPumpJob], bool]]:
        """REST jobs of one operation named after ``window.lower``: a bounded walk of the job list.

        The list mirrors DBA_DATAPUMP_JOBS and only grows (control tables are kept by default), so
        it is filtered with ``q`` (documented) and walked by its ``next`` links (``offset`` is not a
        documented request parameter) for at most LIST_MAX_PAGES pages. The filter is applied here
        too: a server may ignore ``q``, or refuse it (then the walk goes on without it). A server
        that ignores ``offset`` serves the same rows again; the walk then goes on by ``q`` alone,
        asking for names after the highest one seen (the list is ordered by owner and job name, so
        with several owners this may skip some of another owner's rows), and stops when that does
        not help either. Returns (jobs, complete).
        """
        root = links.settings.api_root + "jobs/"
        url: str = root
        params: dict[str, Any] | None = {"limit": LIST_PAGE_SIZE, "q": _q(window.q)}
        found: dict[str, DataPumpJob] = {}
        listed: set[str] = set()
        q_works = True
        for _ in range(LIST_MAX_PAGES):
            try:
                page = yield from self._list_flow(links, url=url, params=params)
            except DataPumpHTTPError as err:
                if err.status == 400 and params and "q" in params and q_works:
                    self.log.info("ORDS refused the job-list filter q (%s); listing without it", err)
                    q_works = False
                    url, params = root, {"limit": LIST_PAGE_SIZE}
                    continue
                raise
            fresh = [job for job in page.items if job.ident not in listed]
            listed.update(job.ident for job in page.items)
            found.update((job.ident, job) for job in page.items if window.matches(job))
            if not page.has_more or not page.items:
                return list(found.values()), True
            if not fresh:
                # The same rows again: the server ignores offset (or q); walking on by them cannot end.
                if not q_works:
                    return list(found.values()), False
                highest = max(job.job_name for job in page.items)
                if params and params.get("q") == _q({"job_name": {"$gt": highest}}):
                    return list(found.values()), False  # q is ignored too
                url, params = root, {"limit": LIST_PAGE_SIZE, "q": _q({"job_name": {"$gt": highest}})}
                continue
            if page.next_href:
                parts = urlsplit(page.next_href)
                url = root
                params = dict(parse_qsl(parts.query)) if parts.query else None
            else:
                params = {**(params or {}), "offset": (page.offset or 0) + page.count}
        return list(found.values()), False

    def _list_flow(self, links: LinkPolicy, limit: int | None = None, offset: int | None = None, *,
                   q: Mapping[str, Any] | None = None, url: str | None = None,
                   params: Mapping[str, Any] | None = None) -> Flow[JobPage]:
        if params is None:
            params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
            if q is not None:
                params["q"] = _q(q)
        answer = yield _Call("GET", url or links.settings.api_root + "jobs/", params=params or None)
        body = answer.body
        if not isinstance(body, Mapping) or not isinstance(body.get("items"), list):
            raise DataPumpProtocolError("the job list has no items array")
        next_href = next(
            (link.get("href") for link in body.get("links") or ()
             if isinstance(link, Mapping) and link.get("rel") == "next" and isinstance(link.get("href"), str)),
            None,
        )
        return JobPage(
            items=tuple(DataPumpJob.from_json(item) for item in body["items"]),
            has_more=bool(body.get("hasMore")),
            limit=body.get("limit") if isinstance(body.get("limit"), int) else None,
            offset=body.get("offset") if isinstance(body.get("offset"), int) else None,
            count=len(body["items"]),
            next_href=next_href,
        )

    def _get_flow(self, links: LinkPolicy, job: JobRef) -> Flow[DataPumpJob]:
        _, _, url = self.locate(job, links)
        answer = yield _Call("GET", url)
        return DataPumpJob.from_json(answer.body)

    def _text_flow(self, links: LinkPolicy, job: JobRef, file_name: str) -> Flow[str]:
        owner, name, _ = self.locate(job, links)
        href = _file_href(job, file_name)
        answer = yield _Call("GET", links.follow(href, owner, name, file_name), text=True)
        return answer.body

    def _resolve_flow(self, links: LinkPolicy, job: JobRef, extras: Mapping[str, Any] | None = None) -> Flow[JobResult]:
        owner, name, url = self.locate(job, links)
        try:
            current = yield from self._get_flow(links, job)
        except DataPumpHTTPError as err:
            if err.status != 404:
                raise
            gone = DataPumpJob(owner_name=owner, job_name=name)
            return _result(gone, classify(None), url, None, extras)
        verdict = classify(current)
        logs: dict[str, tuple[LogSummary, bool]] = {}
        if verdict.outcome is not Outcome.RUNNING:
            for f in current.files:
                if f.kind != "log":
                    continue
                try:
                    text = yield from self._text_flow(links, current, f.name)
                except DataPumpHTTPError as err:
                    if err.status != 404:
                        raise
                    continue
                logs[f.name] = (parse_log(text), f"\"{current.job_name}\"" in text)
        primary = _primary_log(logs)
        summary = primary[1] if primary else None
        if verdict.outcome is not Outcome.RUNNING:
            verdict = classify(current, summary, log_unavailable=summary is None)
        return _result(current, verdict, url, summary, extras, links, log_file=primary[0] if primary else None)

    # ---------------------------------------------------------------------------- public API (sync)

    def create_job(self, payload: Mapping[str, Any], endpoint: str | None = None) -> DataPumpJob:
        """Submit a validated payload (``operation`` included).

        ``endpoint`` None posts to the operation's own endpoint (``export`` or ``import``), which
        every ORDS version documents; ``"jobs"`` posts to ``jobs/``, documented up to ORDS 24.4. A key
        the endpoint does not document is refused before anything is sent.

        An export without ``file_name`` gets a one-off dump name (``EXPDAT%U-<UTC time>-<random>.DMP``).
        The POST is never retried blindly: after an ambiguous failure the new jobs in the job list
        are examined, and one is adopted only when the evidence proves it ours (its dump set has
        the one-off name, or what it processed matches the request). When that cannot be told yet,
        DataPumpAmbiguousJobError names the candidates, and ``settle_create`` decides later.
        """
        return self._run(self._create_flow(self.links, payload, endpoint))

    def settle_create(self, pending: Mapping[str, Any]) -> DataPumpJob | None:
        """Decide a create that DataPumpAmbiguousJobError left open: the job that is ours, or None
        when every candidate has proven another submission's (nothing of ours was created).
        Raises DataPumpAmbiguousJobError again while the evidence is still open."""
        return self._run(self._settle_flow(self.links, pending))

    def get_job(self, job: JobRef) -> DataPumpJob:
        return self._run(self._get_flow(self.links, job))

    def list_jobs(self, limit: int | None = None, offset: int | None = None, q: Mapping[str, Any] | None = None) -> JobPage:
        """One page of the job list (every owner's jobs, as DBA_DATAPUMP_JOBS). ``q`` is an ORDS
        filter object, e.g. ``{"job_name": {"$like": "DATAPUMP_REST_EXPORT_%"}}``; ``offset`` is
        not documented by Oracle for this endpoint (follow ``JobPage.next_href`` instead)."""
        return self._run(self._list_flow(self.links, limit, offset, q=q))

    def get_file_text(self, job: JobRef, file_name: str) -> str:
        """A job's text file (its log), decoded; use stream_file for dumps."""
        return self._run(self._text_flow(self.links, job, file_name))

    def resolve(self, job: JobRef, **extras: Any) -> JobResult:
        """The job's current verdict: running, or how it ended (reading its logs when it ended).

        ``extras``: ``request`` (the body as sent: the result then says what the log shows ran
        against it, in ``selection``), ``datapump_dir`` and ``file_name`` (carried into the result),
        ``log_file`` (the job's own log: with ``keep_master=0`` a successful job leaves ORDS, and
        with ``oracle_conn_id`` set its verdict is then read from that log through SQL).
        """
        return self._after_vanished(self._run(self._resolve_flow(self.links, job, extras)), extras)

    def _after_vanished(self, result: JobResult, extras: Mapping[str, Any]) -> JobResult:
        """keep_master=0: a job that succeeded drops its control table, and ORDS forgets it (404).
        Its log stays in the directory; Oracle can read it (UTL_FILE/BFILE) when ORDS no longer can."""
        request = extras.get("request") if isinstance(extras.get("request"), Mapping) else {}
        log_name = extras.get("log_file")
        if (result.verdict.outcome is not Outcome.VANISHED or request.get("keep_master") != 0
                or not self.oracle_conn_id or not isinstance(log_name, str)):
            return result
        directory = request.get("datapump_dir") or "DATA_PUMP_DIR"
        summary = parse_log(self.read_log(directory, log_name))
        if summary.final is None:
            return result
        self.log.info("Job %s left ORDS (keep_master=0); its log %s, read through Oracle, says: %s",
                      result.job.ident, log_name, summary.final.line)
        return _result(result.job, classify(None, summary), result.self_url, summary, extras, log_file=log_name)

    def stream_file(self, job: JobRef, file_name: str, sink: IO[bytes] | Callable[[], IO[bytes]]) -> int:
        """Write a job file to a binary file object and return its size in bytes.

        ``sink`` is a file object, or a callable that opens a fresh one for each attempt. A broken
        transfer restarts from zero: on a seekable sink after truncating it, on a factory with a
        fresh file; a non-seekable file object cannot be restarted and the error is raised.
        The size is checked against ``Content-Length``; a sink with an ``announce(length)`` method
        is told that length before the body is read (and may refuse it by raising).
        """
        owner, name, _ = self.locate(job)
        url = self.links.follow(_file_href(job, file_name), owner, name, file_name)
        return _FileReader(self, url).read_into(sink)

    # ---------------------------------------------------------------------------- public API (async)

    async def acreate_job(self, payload: Mapping[str, Any], endpoint: str | None = None) -> DataPumpJob:
        return await self._arun(self._create_flow(await self._alinks(), payload, endpoint))

    async def asettle_create(self, pending: Mapping[str, Any]) -> DataPumpJob | None:
        return await self._arun(self._settle_flow(await self._alinks(), pending))

    async def aget_job(self, job: JobRef) -> DataPumpJob:
        return await self._arun(self._get_flow(await self._alinks(), job))

    async def alist_jobs(self, limit: int | None = None, offset: int | None = None,
                         q: Mapping[str, Any] | None = None) -> JobPage:
        return await self._arun(self._list_flow(await self._alinks(), limit, offset, q=q))

    async def aget_file_text(self, job: JobRef, file_name: str) -> str:
        return await self._arun(self._text_flow(await self._alinks(), job, file_name))

    async def aresolve(self, job: JobRef, client: httpx.AsyncClient | None = None, **extras: Any) -> JobResult:
        result = await self._arun(self._resolve_flow(await self._alinks(), job, extras), client)
        if result.verdict.outcome is Outcome.VANISHED and self.oracle_conn_id:
            # SQL is blocking: off the event loop, as the trigger's stop-on-kill is.
            result = await asyncio.to_thread(self._after_vanished, result, extras)
        return result

    async def astream_file(self, job: JobRef, file_name: str, sink: IO[bytes] | Callable[[], IO[bytes]]) -> int:
        links = await self._alinks()
        owner, name, _ = self.locate(job, links)
        url = links.follow(_file_href(job, file_name), owner, name, file_name)
        async with self.async_client() as shared:
            state = _Attempts(self.retry, _Call("GET", url), self.log)
            target = _Sink(sink)
            while True:
                try:
                    async with shared.client.stream("GET", url, headers={"Accept": "*/*"}) as response:
                        if response.status_code != 200:
                            await response.aread()
                            await asyncio.sleep(state.after_status(response))
                            continue
                        expected = _content_length(response.headers)
                        out = target.open(expected)
                        total = 0
                        try:
                            async for chunk in response.aiter_raw(CHUNK):
                                out.write(chunk)
                                total += len(chunk)
                        finally:
                            target.wrote(total)
                        _check_length(url, total, expected)
                        return total
                except (httpx.HTTPError, DataPumpTransferError) as exc:
                    target.check_restartable(exc)
                    await asyncio.sleep(state.after_error(exc))

    async def _alinks(self) -> LinkPolicy:
        # Kept for the hook's lifetime like ``links``: a trigger polling a job with a foreign
        # self link warns once, not on every poll.
        if self._async_links is None:
            self._async_links = LinkPolicy(await self.asettings(), self.log)
        return self._async_links

    # ---------------------------------------------------------------------------- connection test

    def test_connection(self) -> tuple[bool, str]:
        """List one job (and run ``select 1 from dual`` when an Oracle connection is set); never raises."""
        try:
            page = self.list_jobs(limit=1)
            message = f"ORDS Data Pump API reachable at {self.settings.base_url} ({page.count} job(s) on the first page)"
            if self.oracle_conn_id:
                from airflow_provider_datapump.hooks import oracle_sql

                oracle_sql.ping(self.oracle_hook)
                message += f"; Oracle connection {self.oracle_conn_id!r} answered"
            return True, message
        except Exception as err:  # the UI wants an answer, not a traceback
            return False, f"{type(err).__name__}: {err}"

    # ---------------------------------------------------------------------------- the Oracle side

    @cached_property
    def oracle_hook(self) -> Any:
        if not self.oracle_conn_id:
            raise DataPumpOracleNotConfiguredError(
                "this needs SQL, and no oracle_conn_id is set: ORDS has no endpoint for it"
            )
        from airflow.providers.oracle.hooks.oracle import OracleHook

        return OracleHook(oracle_conn_id=self.oracle_conn_id)

    def stop_job(self, owner: str, job: str, *, immediate: bool = True, keep_master: bool = False) -> bool:
        """Stop a Data Pump job through DBMS_DATAPUMP (ORDS cannot); False when it was already gone."""
        from airflow_provider_datapump.hooks import oracle_sql

        return oracle_sql.stop_job(self._oracle("stop a Data Pump job"), owner, job, immediate=immediate, keep_master=keep_master)

    def job_progress(self, owner: str, job: str) -> float | None:
        """Percent done from V$SESSION_LONGOPS, or None when Oracle has no figure for the job."""
        from airflow_provider_datapump.hooks import oracle_sql

        return oracle_sql.job_progress(self._oracle("read a job's progress"), owner, job)

    def read_log(self, directory: str, file_name: str) -> str:
        """Read a log file from a directory object with UTL_FILE (for when ORDS links no log)."""
        from airflow_provider_datapump.hooks import oracle_sql

        return oracle_sql.read_log(self._oracle("read a log file"), directory, file_name)

    def drop_job(self, owner: str, job: str) -> bool:
        """Drop a finished job's control table through Oracle (ORDS cannot); False if not finished or gone.

        ORDS serves a job's files only while the job exists: drop it after they were read."""
        from airflow_provider_datapump.hooks import oracle_sql

        return oracle_sql.drop_job(self._oracle("drop a job's control table"), owner, job)

    def drop_orphaned_jobs(self, owner: str, older_than: Any, name_prefix: str = "DATAPUMP_REST_", dry_run: bool = True) -> list[str]:
        """Drop the control tables of this owner's Data Pump jobs that are not running."""
        from airflow_provider_datapump.hooks import oracle_sql

        return oracle_sql.drop_orphaned_jobs(
            self._oracle("drop orphaned jobs"), owner, older_than, name_prefix=name_prefix, dry_run=dry_run
        )

    def _oracle(self, purpose: str) -> Any:
        if not self.oracle_conn_id:
            raise DataPumpOracleNotConfiguredError(
                f"cannot {purpose}: that needs SQL (ORDS has no endpoint for it) and no oracle_conn_id is set"
            )
        return self.oracle_hook


# ============================================================================================
# Helpers shared by both drivers
# ============================================================================================


class _Attempts:
    """Retry bookkeeping for one call: each failure either returns a wait or raises."""

    def __init__(self, policy: RetryPolicy, call: _Call, log: Any) -> None:
        self.policy, self.call, self.log = policy, call, log
        self.attempt = 1

    def after_status(self, response: httpx.Response) -> float:
        err = _http_error(response, self.call.method, self.call.url)
        if not self.policy.status_is_retryable(response.status_code, idempotent=self.call.idempotent):
            if not self.call.idempotent and response.status_code >= 500:
                raise _AmbiguousCreate(err, answered=True)
            raise err
        return self._wait(err, err.retry_after)

    def after_error(self, exc: Exception) -> float:
        err = exc if isinstance(exc, DataPumpTransferError) else _http_error(None, self.call.method, self.call.url, error=exc)
        if not self.policy.error_is_retryable(exc, idempotent=self.call.idempotent):
            if not self.call.idempotent:
                raise _AmbiguousCreate(err, answered=False) from exc
            raise err from exc
        return self._wait(err, None)

    def _wait(self, err: Exception, retry_after: float | None) -> float:
        delay = self.policy.delay(self.attempt, retry_after)
        if delay is None:
            raise err
        self.log.warning("Attempt %d of %d failed (%s); retrying in %.1fs", self.attempt, self.policy.attempts, err, delay)
        self.attempt += 1
        return delay


def _answer(response: httpx.Response, call: _Call) -> _Answer:
    if call.text:
        return _Answer(response.text)
    try:
        body = response.json() if response.content else None
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python recurses
        raise DataPumpProtocolError(
            f"{call.method} {_redact_url(call.url)} answered HTTP {response.status_code} with a body that is not JSON"
        ) from None
    return _Answer(body)


def _ident_from_url(url: str) -> tuple[str | None, str | None]:
    path = unquote(urlsplit(url).path)
    marker = "/jobs/"
    if marker not in path:
        return None, None
    segment = path.rsplit(marker, 1)[1].split("/", 1)[0]
    if segment.count(",") != 1:
        return None, None
    owner, name = segment.split(",")
    return owner or None, name or None


def _check_ident_part(value: str) -> None:
    # $ and # are legal in Oracle names (C##ADMIN, a common user); they are percent-encoded in URLs.
    if not value or len(value) > 128 or any(ch in "/\\,?\"'%" or ord(ch) < 33 or ord(ch) == 127 for ch in value):
        raise DataPumpValidationError("job", f"{value[:80]!r} is not a Data Pump owner or job name")


def _file_href(job: JobRef, file_name: str) -> str | None:
    """The server's link for a file, if the reference carries one (our XCom or an ORDS body)."""
    if isinstance(job, DataPumpJob):
        return next((f.href for f in job.files if f.name == file_name), None)
    if isinstance(job, Mapping):
        for f in job.get("files") or ():
            if isinstance(f, Mapping) and f.get("name") == file_name:
                return f.get("url")
        for link in job.get("links") or ():
            if isinstance(link, Mapping) and isinstance(link.get("href"), str) and link["href"].endswith("/" + quote(file_name)):
                return link["href"]
    return None


def _primary_log(logs: Mapping[str, tuple[LogSummary, bool]]) -> tuple[str, LogSummary] | None:
    """(name, summary) of the job's own log: an import links the export's log and its own, and
    the job's own log is the one that names the job."""
    if not logs:
        return None
    own = [(name, summary) for name, (summary, names_job) in logs.items() if names_job]
    if own:
        return own[-1]
    name, (summary, _) = list(logs.items())[-1]
    return name, summary


def _result(job: DataPumpJob, verdict: Any, url: str, summary: LogSummary | None, extras: Mapping[str, Any] | None,
            links: LinkPolicy | None = None, log_file: str | None = None) -> JobResult:
    extras = extras or {}
    files = []
    for f in job.files:
        href = links.follow(f.href, job.owner_name, job.job_name, f.name) if links else f.href
        files.append({"name": f.name, "kind": f.kind, "url": href})
    dumps = [f["name"] for f in files if f["kind"] == "dump"]
    log_dumps = tuple(d.replace("\\", "/").rsplit("/", 1)[-1] for d in (summary.dump_files if summary else ()))
    template = extras.get("file_name") or dump_template_from_names(dumps or log_dumps)
    objects = summary.objects if summary else ()
    selection = None
    request = extras.get("request")
    if isinstance(request, Mapping) and verdict.outcome.is_terminal and verdict.outcome is not Outcome.VANISHED:
        selection = check_selection(
            request,
            owner=job.owner_name,
            job_mode=job.job_mode,
            objects=((o.schema, o.name) for o in objects),
            dump_files=dumps or log_dumps,
            log_read=summary is not None,
        ).to_json()
    return JobResult(
        job=job,
        verdict=verdict,
        self_url=url,
        files=tuple(files),
        objects=tuple(objects),
        dump_file_template=template,
        datapump_dir=extras.get("datapump_dir"),
        log_file=log_file,
        selection=selection,
        log_dump_files=log_dumps,
    )


def _ssl_context(verify: bool | str) -> ssl.SSLContext | bool:
    if verify is False:
        return False
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return True


def _content_length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("Content-Length")
    return int(value) if value and value.isdigit() else None


def _check_length(url: str, total: int, expected: int | None) -> None:
    if expected is not None and total != expected:
        raise DataPumpTransferError(f"{_redact_url(url)}: received {total} bytes but Content-Length announced {expected}")


class _Sink:
    """Where one file goes, across attempts: a fresh file from a factory, or a rewound file object.

    Only an attempt that wrote bytes makes a restart need a rewind; a 503 before the body does not.
    """

    def __init__(self, target: IO[bytes] | Callable[[], IO[bytes]]) -> None:
        self.target = target
        self.factory = callable(target) and not hasattr(target, "write")
        self.dirty = False

    def open(self, expected: int | None) -> IO[bytes]:
        if self.factory:
            out = self.target()  # type: ignore[operator]
        else:
            out = self.target  # type: ignore[assignment]
            if self.dirty:
                out.seek(0)
                out.truncate()
        self.dirty = False
        _announce(out, expected)
        return out

    def wrote(self, total: int) -> None:
        self.dirty = self.dirty or total > 0

    def check_restartable(self, exc: Exception) -> None:
        if self.factory or not self.dirty:
            return
        try:
            restartable = self.target.seekable()  # type: ignore[union-attr]
        except Exception:
            restartable = False
        if not restartable:
            raise DataPumpTransferError(f"the transfer broke ({exc}) and the sink cannot be rewound to restart it") from exc


def _announce(sink: Any, length: int | None) -> None:
    # A sink may want the size before the body arrives (an XCom cap, a progress percentage).
    announce = getattr(sink, "announce", None)
    if announce is not None:
        announce(length)


class _FileReader:
    """The fast read path for file bodies: http.client + readinto into one reused buffer."""

    def __init__(self, hook: DataPumpHook, url: str) -> None:
        self.hook, self.url = hook, url
        self.settings = hook.settings
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname or "", parts.port
        self.target = parts.path + (f"?{parts.query}" if parts.query else "")

    def _connect(self) -> http.client.HTTPConnection:
        timeout = self.settings.timeout
        if self.https:
            ctx = _ssl_context(self.settings.verify)
            if ctx is True:
                ctx = ssl.create_default_context()
            elif ctx is False:
                ctx = ssl._create_unverified_context()  # the user turned verification off; warned at load
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def read_into(self, sink: IO[bytes] | Callable[[], IO[bytes]]) -> int:
        call = _Call("GET", self.url)
        state = _Attempts(self.hook.retry, call, self.hook.log)
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        target = _Sink(sink)
        refreshed = False
        while True:
            conn = self._connect()
            try:
                conn.request("GET", self.target, headers={
                    "Authorization": self.hook._auth.header(self.hook.client),
                    "User-Agent": USER_AGENT,
                    "Accept": "*/*",
                })
                response = conn.getresponse()
                if response.status != 200:
                    body = response.read(65536)
                    if response.status == 401 and self.settings.auth_type == "oauth2" and not refreshed:
                        refreshed = True
                        self.hook._auth.invalidate()
                        continue
                    fake = httpx.Response(response.status, headers=dict(response.getheaders()), content=body,
                                          request=httpx.Request("GET", self.url))
                    time.sleep(state.after_status(fake))
                    continue
                expected = _content_length({"Content-Length": response.getheader("Content-Length") or ""})
                out = target.open(expected)
                total = 0
                readinto, write = response.readinto, out.write
                try:
                    while True:
                        n = readinto(view)
                        if not n:
                            break
                        write(view[:n])
                        total += n
                finally:
                    target.wrote(total)
                _check_length(self.url, total, expected)
                return total
            except (OSError, http.client.HTTPException, DataPumpTransferError) as exc:
                target.check_restartable(exc)
                time.sleep(state.after_error(exc))
            finally:
                conn.close()


class _SharedAsyncClient:
    def __init__(self, key: tuple, client: httpx.AsyncClient, auth: _OrdsAuth) -> None:
        self.key, self.client, self.auth = key, client, auth
        self.users = 0


class _AsyncClientPool:
    """One AsyncClient per (event loop, connection settings), reference-counted."""

    _clients: dict[tuple, _SharedAsyncClient] = {}
    MAX_CONNECTIONS = 20

    @classmethod
    def acquire(cls, settings: OrdsSettings, client_kwargs: Callable[[OrdsSettings], dict], amask: Any) -> _SharedAsyncClient:
        loop = asyncio.get_running_loop()
        key = (id(loop), settings)
        shared = cls._clients.get(key)
        if shared is None or shared.client.is_closed:
            auth = _OrdsAuth(settings, amask)
            kwargs = client_kwargs(settings)
            kwargs["limits"] = httpx.Limits(max_connections=cls.MAX_CONNECTIONS, max_keepalive_connections=cls.MAX_CONNECTIONS)
            shared = _SharedAsyncClient(key, httpx.AsyncClient(auth=auth, **kwargs), auth)
            cls._clients[key] = shared
            weakref.finalize(loop, cls._clients.pop, key, None)
        shared.users += 1
        return shared

    @classmethod
    async def release(cls, shared: _SharedAsyncClient) -> None:
        shared.users -= 1
        if shared.users <= 0 and cls._clients.get(shared.key) is shared:
            del cls._clients[shared.key]
            # Shielded so a cancelled trigger still closes a client nobody else holds.
            with contextlib.suppress(Exception):
                await asyncio.shield(shared.client.aclose())
