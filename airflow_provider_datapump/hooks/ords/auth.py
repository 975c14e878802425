"""Authentication: a Basic header, or an OAuth2 client-credentials token fetched and cached.

A token the server no longer accepts (a 401) is dropped through ``invalidate``; the attempt state
machine (``attempts.Attempts``) decides when, so JSON calls and file bodies refresh alike.
"""

from __future__ import annotations

import base64
import inspect
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import Any

import httpx

from airflow_provider_datapump.exceptions import DataPumpProtocolError
from airflow_provider_datapump.hooks.ords.errors import http_error
from airflow_provider_datapump.hooks.ords.settings import OrdsSettings

__all__ = ["OrdsAuth"]


class OrdsAuth(httpx.Auth):
    """Basic, or OAuth2 client credentials with a cached token."""

    # Only the token endpoint's body is needed; reading every body would consume streamed files.
    requires_response_body = False
    EXPIRY_MARGIN = 30.0

    def __init__(self, settings: OrdsSettings, masker: Callable[[str], Any], user_agent: str) -> None:
        self.settings = settings
        self._masker = masker
        self._user_agent = user_agent
        # An async masker's registrations, awaited by async_auth_flow before any request leaves.
        self._pending_masks: list[Awaitable[Any]] = []
        credentials = base64.b64encode(f"{settings.login}:{settings.password}".encode()).decode()
        self._basic = "Basic " + credentials
        # Airflow masks the password, but not its base64 form inside a Basic header.
        self._mask(credentials)
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    @property
    def refreshable(self) -> bool:
        """Whether a 401 may be cured by asking for a new token (a Basic password stays wrong)."""
        return self.settings.auth_type == "oauth2"

    @property
    def token_url(self) -> str:
        return f"{self.settings.base_url}/oauth/token"

    def header(self, client: httpx.Client) -> str:
        """The Authorization value for a request sent outside httpx (the file path), fetching a
        token through ``client`` when none is held."""
        if self.settings.auth_type == "basic":
            return self._basic
        with self._lock:
            if self._valid_token() is None:
                self._store_token(client.send(self._token_request(), auth=None))
            return f"Bearer {self._token}"

    def invalidate(self) -> None:
        self._token = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.settings.auth_type == "basic":
            request.headers["Authorization"] = self._basic
            yield request
            return
        token = self._valid_token()
        if token is None:
            self._store_token((yield self._token_request()))
            token = self._token
        request.headers["Authorization"] = f"Bearer {token}"
        yield request

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

    def _mask(self, secret: str) -> None:
        registered = self._masker(secret)
        if inspect.isawaitable(registered):
            self._pending_masks.append(registered)

    async def _await_masks(self) -> None:
        while self._pending_masks:
            await self._pending_masks.pop()

    def _token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.token_url,
            headers={
                "Authorization": self._basic,
                "Accept": "application/json",
                "User-Agent": self._user_agent,
            },
            data={"grant_type": "client_credentials"},
        )

    def _store_token(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise http_error(
                response.status_code,
                response.headers,
                response.content,
                "POST",
                self.token_url,
                what="the OAuth2 token request",
            )
        try:
            body = response.json()
            token = body["access_token"]
            ttl = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError, RecursionError):
            raise DataPumpProtocolError(
                "the OAuth2 token endpoint answered without an access_token"
            ) from None
        self._mask(token)
        self._token = token
        self._expires = time.monotonic() + max(0.0, ttl - self.EXPIRY_MARGIN)

    def _valid_token(self) -> str | None:
        return self._token if self._token and time.monotonic() < self._expires else None
