"""The one seam through which every request leaves, sync and async, and the drivers that run flows.

``Transport`` (sync) and ``AsyncTransport`` each carry out the three instructions a flow yields:
a ``Request`` through httpx, a ``Download`` through the fast file path, and a ``Sleep``. Every try
of every request goes through ``attempts.Attempts``, so retries, the OAuth2 refresh and the
rewind rule are the same for JSON calls and file bodies, sync and async.

File bodies are read sync with ``http.client`` + ``readinto`` into one reused buffer, because
httpx's streaming loop tops out near half of what curl reaches on loopback (bench/download.py);
async with httpx's raw stream. Both use the same URL, auth, TLS context and attempt rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import ssl
import time
import weakref
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from airflow_provider_datapump import __version__
from airflow_provider_datapump.exceptions import DataPumpError, DataPumpProtocolError, DataPumpTransferError
from airflow_provider_datapump.hooks.ords.attempts import Attempts, Refusal, arun_attempts, run_attempts
from airflow_provider_datapump.hooks.ords.auth import OrdsAuth
from airflow_provider_datapump.hooks.ords.instructions import Download, Flow, Instruction, Request, Sleep
from airflow_provider_datapump.hooks.ords.policy import RetryPolicy, redact_url
from airflow_provider_datapump.hooks.ords.settings import OrdsSettings

__all__ = [
    "CHUNK",
    "USER_AGENT",
    "AsyncClientPool",
    "AsyncTransport",
    "SharedAsyncClient",
    "Transport",
    "arun",
    "run",
]

T = TypeVar("T")

USER_AGENT = f"airflow-provider-datapump/{__version__} httpx/{httpx.__version__}"
# 512 KiB, not 1 MiB: bench/download.py profiled the hook's file write as 84% of its samples, and on
# the benchmark machine (ext4, Linux 6.18) writing a 2 GiB file in 1 MiB write() calls cost 2-4 s of
# kernel CPU in four runs against 0.4-0.6 s in 512 KiB or 64 KiB calls.
CHUNK = 1 << 19


def tls_context(verify: bool | str) -> ssl.SSLContext:
    """The one TLS context of a connection, shared by httpx and the file path: the same trust for
    every request (httpx's default store, a CA bundle, or none when the user turned it off)."""
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return httpx.create_ssl_context(verify=verify)


def _client_kwargs(settings: OrdsSettings, tls: ssl.SSLContext) -> dict[str, Any]:
    return {
        "headers": {"User-Agent": USER_AGENT, "Accept": "application/json"},
        "timeout": httpx.Timeout(settings.timeout, connect=min(settings.timeout, 30.0)),
        "verify": tls,
        "follow_redirects": False,
    }


def _decode(response: httpx.Response, request: Request) -> Any:
    if request.text:
        return response.text
    try:
        return response.json() if response.content else None
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python recurses
        raise DataPumpProtocolError(
            f"{request.method} {redact_url(request.url)} answered HTTP {response.status_code} with a body that is not JSON"
        ) from None


def _content_length(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _check_length(url: str, total: int, expected: int | None) -> None:
    if expected is not None and total != expected:
        raise DataPumpTransferError(
            f"{redact_url(url)}: received {total} bytes but Content-Length announced {expected}"
        )


class Transport:
    """The sync seam: one httpx client (connection reuse, one TLS handshake) and the file path."""

    def __init__(
        self, settings: OrdsSettings, policy: RetryPolicy, log: Any, masker: Callable[[str], Any]
    ) -> None:
        self.settings, self.policy, self.log = settings, policy, log
        self.auth = OrdsAuth(settings, masker, USER_AGENT)

    @cached_property
    def tls(self) -> ssl.SSLContext:
        return tls_context(self.settings.verify)

    @cached_property
    def client(self) -> httpx.Client:
        return httpx.Client(auth=self.auth, **_client_kwargs(self.settings, self.tls))

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()
            del self.__dict__["client"]

    def perform(self, instruction: Request | Download) -> Any:
        return self.download(instruction) if isinstance(instruction, Download) else self.send(instruction)

    def send(self, request: Request) -> Any:
        """The parsed answer of a JSON (or text) request."""

        def once() -> Any:
            response = self.client.request(
                request.method, request.url, json=request.json, params=request.params, headers=request.headers
            )
            if response.status_code in request.ok:
                return _decode(response, request)
            return Refusal(response.status_code, response.headers, response.content)

        return run_attempts(Attempts(self.policy, request, self.auth, self.log), once)

    def download(self, download: Download) -> int:
        """Write a file body to the download's sink; the number of bytes written."""
        attempts = Attempts(self.policy, download, self.auth, self.log)
        sink = attempts.sink
        assert sink is not None
        parts = urlsplit(download.url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        view = memoryview(bytearray(CHUNK))

        def once() -> int | Refusal:
            if parts.scheme == "https":
                conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                    parts.hostname or "", parts.port, timeout=self.settings.timeout, context=self.tls
                )
            else:
                conn = http.client.HTTPConnection(
                    parts.hostname or "", parts.port, timeout=self.settings.timeout
                )
            try:
                conn.request(
                    "GET",
                    target,
                    headers={
                        "Authorization": self.auth.header(self.client),
                        "User-Agent": USER_AGENT,
                        "Accept": "*/*",
                    },
                )
                response = conn.getresponse()
                if response.status != 200:
                    return Refusal(
                        response.status, httpx.Headers(response.getheaders()), response.read(65536)
                    )
                expected = _content_length(response.getheader("Content-Length"))
                out = sink.open(expected)
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
                    sink.wrote(total)
                _check_length(download.url, total, expected)
                return total
            finally:
                conn.close()

        return run_attempts(attempts, once)


class AsyncTransport:
    """The async seam, over a (pooled) AsyncClient whose auth is an ``OrdsAuth``."""

    def __init__(self, client: httpx.AsyncClient, policy: RetryPolicy, log: Any) -> None:
        self.client, self.policy, self.log = client, policy, log
        self.auth = client.auth if isinstance(client.auth, OrdsAuth) else None

    async def perform(self, instruction: Request | Download) -> Any:
        if isinstance(instruction, Download):
            return await self.download(instruction)
        return await self.send(instruction)

    async def send(self, request: Request) -> Any:
        async def once() -> Any:
            response = await self.client.request(
                request.method, request.url, json=request.json, params=request.params, headers=request.headers
            )
            if response.status_code in request.ok:
                return _decode(response, request)
            return Refusal(response.status_code, response.headers, response.content)

        return await arun_attempts(Attempts(self.policy, request, self.auth, self.log), once)

    async def download(self, download: Download) -> int:
        attempts = Attempts(self.policy, download, self.auth, self.log)
        sink = attempts.sink
        assert sink is not None

        async def once() -> int | Refusal:
            async with self.client.stream("GET", download.url, headers={"Accept": "*/*"}) as response:
                if response.status_code != 200:
                    await response.aread()
                    return Refusal(response.status_code, response.headers, response.content)
                expected = _content_length(response.headers.get("Content-Length"))
                out = sink.open(expected)
                total = 0
                try:
                    async for chunk in response.aiter_raw(CHUNK):
                        out.write(chunk)
                        total += len(chunk)
                finally:
                    sink.wrote(total)
                _check_length(download.url, total, expected)
                return total

        return await arun_attempts(attempts, once)


def run(flow: Flow[T], transport: Transport) -> T:
    """Drive a flow to its result (sync)."""
    try:
        step: Instruction = next(flow)
        while True:
            if isinstance(step, Sleep):
                time.sleep(step.seconds)
                step = flow.send(None)
                continue
            try:
                result = transport.perform(step)
            except DataPumpError as err:
                step = flow.throw(err)
            else:
                step = flow.send(result)
    except StopIteration as done:
        return done.value


async def arun(flow: Flow[T], transport: AsyncTransport) -> T:
    """Drive a flow to its result (async): the same flow as ``run``, so the two cannot drift apart."""
    try:
        step: Instruction = next(flow)
        while True:
            if isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
                step = flow.send(None)
                continue
            try:
                result = await transport.perform(step)
            except DataPumpError as err:
                step = flow.throw(err)
            else:
                step = flow.send(result)
    except StopIteration as done:
        return done.value


class SharedAsyncClient:
    def __init__(self, key: tuple, client: httpx.AsyncClient, auth: OrdsAuth) -> None:
        self.key, self.client, self.auth = key, client, auth
        self.users = 0


class AsyncClientPool:
    """One AsyncClient per (event loop, connection settings), reference-counted.

    A triggerer runs hundreds of waits in one loop; one client each would cost ~1 MB apiece. A
    cancelled or failed trigger only drops its reference and never closes a client others use.
    """

    _clients: dict[tuple, SharedAsyncClient] = {}
    MAX_CONNECTIONS = 20

    @classmethod
    def acquire(cls, settings: OrdsSettings, amask: Callable[[str], Any]) -> SharedAsyncClient:
        loop = asyncio.get_running_loop()
        key = (id(loop), settings)
        shared = cls._clients.get(key)
        if shared is None or shared.client.is_closed:
            auth = OrdsAuth(settings, amask, USER_AGENT)
            kwargs = _client_kwargs(settings, tls_context(settings.verify))
            kwargs["limits"] = httpx.Limits(
                max_connections=cls.MAX_CONNECTIONS, max_keepalive_connections=cls.MAX_CONNECTIONS
            )
            shared = SharedAsyncClient(key, httpx.AsyncClient(auth=auth, **kwargs), auth)
            cls._clients[key] = shared
            weakref.finalize(loop, cls._clients.pop, key, None)
        shared.users += 1
        return shared

    @classmethod
    async def release(cls, shared: SharedAsyncClient) -> None:
        shared.users -= 1
        if shared.users <= 0 and cls._clients.get(shared.key) is shared:
            del cls._clients[shared.key]
            # Shielded so a cancelled trigger still closes a client nobody else holds.
            with contextlib.suppress(Exception):
                await asyncio.shield(shared.client.aclose())
