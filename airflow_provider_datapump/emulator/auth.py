"""Users, OAuth2 clients and bearer tokens; who a request's Authorization header says it is.

Basic users are schema aliases (a user may only call its own alias, in any case); a
client is registered in one alias and acts as that schema (S24, S25).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import BadRequest, NotFound, Unauthorized

__all__ = ["Principal", "Caller", "Auth", "DEFAULT_USERS", "DEFAULT_CLIENTS", "REALM"]

# The emulator's default credentials, as its README documents them. The client knows none of
# them; tests that start an emulator in another process repeat them.
DEFAULT_USERS: dict[str, str] = {"dbapi_user": "DbApiUserPassword1"}
DEFAULT_CLIENTS: dict[str, dict[str, str]] = {
    "dbapi_client": {"secret": "DbApiClientSecret1", "alias": "dbapi_user"},
}
REALM = 'Basic realm="Oracle REST Data Services"'
_BEARER_CHALLENGE = 'Bearer realm="Oracle REST Data Services", error="invalid_token"'


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``user`` is the database user (upper case) owning new jobs."""

    scheme: str  # "basic" | "bearer"
    user: str
    alias: str
    client_id: str | None = None


@dataclass
class Caller:
    """What the request log records about who called, filled in even when authentication fails."""

    scheme: str | None = None
    user: str | None = None


def _challenge(message: str, bearer_sent: bool) -> Unauthorized:
    challenges: list[str] = [REALM]
    if bearer_sent:
        challenges.append(_BEARER_CHALLENGE)
    return Unauthorized(message, headers={"WWW-Authenticate": challenges})


def basic_credentials(header: str) -> tuple[str, str] | None:
    try:
        raw = base64.b64decode(header.split(None, 1)[1].strip(), validate=True).decode("utf-8")
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if ":" not in raw:
        return None
    user, _, password = raw.partition(":")
    return user, password


class Auth:
    def __init__(
        self,
        users: dict[str, str] | None,
        clients: dict[str, dict[str, str]] | None,
        *,
        now: Callable[[], float],
        settings: dict[str, Any],
        lock: threading.RLock | None = None,
    ):
        self.users = {k.lower(): v for k, v in (users if users is not None else DEFAULT_USERS).items()}
        self.clients = {
            k: {"secret": v["secret"], "alias": v["alias"].lower()}
            for k, v in (clients if clients is not None else DEFAULT_CLIENTS).items()
        }
        # token -> (client_id, alias, expiry)
        self.tokens: dict[str, tuple[str, str, float]] = {}
        self._now = now
        self._settings = settings
        self._lock = lock or threading.RLock()

    @property
    def aliases(self) -> set[str]:
        return set(self.users) | {c["alias"] for c in self.clients.values()}

    def check_alias(self, alias: str) -> None:
        if alias.lower() not in self.aliases:
            raise NotFound(f"The schema alias {alias} is not mapped to a REST-enabled schema")

    def reset(self) -> None:
        self.tokens.clear()

    # ------------------------------------------------------------------ requests

    def authenticate(self, alias: str, authorization: str, caller: Caller) -> Principal:
        """The principal an Authorization header proves for ``alias``, or 401 with ORDS' challenges."""
        scheme = authorization.split(None, 1)[0].lower() if authorization.strip() else ""
        if scheme == "basic":
            caller.scheme = "basic"
            creds = basic_credentials(authorization)
            if creds is None:
                raise _challenge("Malformed Basic credentials", False)
            caller.user = creds[0]
            try:
                return self.authenticate_basic(alias, *creds)
            except Unauthorized as exc:
                raise _challenge(exc.message, False) from None
        if scheme == "bearer":
            caller.scheme = "bearer"
            parts = authorization.split(None, 1)
            token = parts[1].strip() if len(parts) > 1 else ""
            try:
                principal = self.authenticate_bearer(alias, token)
            except Unauthorized as exc:
                raise _challenge(exc.message, True) from None
            caller.user = principal.client_id
            return principal
        if scheme:
            caller.scheme = scheme
        raise _challenge("This resource requires authentication", False)

    def token_request(
        self, alias: str, authorization: str, form: dict[str, str], caller: Caller
    ) -> dict[str, Any]:
        """POST {alias}/oauth/token (after ``check_alias``): client credentials in a Basic header or in the form."""
        client_id = secret = None
        if authorization.lower().startswith("basic "):
            caller.scheme = "basic"
            creds = basic_credentials(authorization)
            if creds is not None:
                client_id, secret = creds
        elif "client_id" in form:
            caller.scheme = "form"
            client_id, secret = form.get("client_id"), form.get("client_secret", "")
        caller.user = client_id
        if not client_id:
            raise Unauthorized(
                "Client authentication is required",
                headers={"WWW-Authenticate": REALM},
                extra={"error": "invalid_client"},
            )
        try:
            return self.issue_token(alias, client_id, secret or "", form.get("grant_type"))
        except Unauthorized as exc:
            exc.headers.setdefault("WWW-Authenticate", REALM)
            raise

    # ------------------------------------------------------------------ credentials

    def authenticate_basic(self, alias: str, user: str, password: str) -> Principal:
        with self._lock:
            expected = self.users.get(user.lower())
            if expected is None or not secrets.compare_digest(expected.encode(), password.encode()):
                raise Unauthorized("The request could not be authorized: invalid user name or password")
            if user.lower() != alias.lower():
                raise Unauthorized(f"User {user.upper()} is not authorized for schema alias {alias}")
            return Principal("basic", user.upper(), alias.lower())

    def authenticate_bearer(self, alias: str, token: str) -> Principal:
        with self._lock:
            now = self._now()
            entry = self.tokens.get(token)
            if entry is None:
                raise Unauthorized("The bearer token is not valid")
            client_id, token_alias, expires = entry
            if now >= expires:
                self.tokens.pop(token, None)
                raise Unauthorized("The bearer token has expired")
            if token_alias != alias.lower():
                raise Unauthorized(f"The bearer token is not valid for schema alias {alias}")
            # A client acts as the schema it was registered in.
            return Principal("bearer", token_alias.upper(), token_alias, client_id)

    def issue_token(self, alias: str, client_id: str, secret: str, grant_type: str | None) -> dict[str, Any]:
        with self._lock:
            client = self.clients.get(client_id)
            if client is None or not secrets.compare_digest(client["secret"].encode(), secret.encode()):
                raise Unauthorized("Client authentication failed", extra={"error": "invalid_client"})
            if client["alias"] != alias.lower():
                raise Unauthorized(
                    f"Client is not registered in schema alias {alias}", extra={"error": "invalid_client"}
                )
            if grant_type is None:
                raise BadRequest("grant_type is required", extra={"error": "invalid_request"})
            if grant_type != "client_credentials":
                raise BadRequest(
                    f"unsupported grant_type {grant_type!r}", extra={"error": "unsupported_grant_type"}
                )
            now = self._now()
            self.tokens = {t: e for t, e in self.tokens.items() if e[2] > now}
            ttl = float(self._settings["token_ttl"])
            token = secrets.token_urlsafe(24)
            self.tokens[token] = (client_id, client["alias"], now + ttl)
            return {"access_token": token, "token_type": "bearer", "expires_in": int(ttl)}
