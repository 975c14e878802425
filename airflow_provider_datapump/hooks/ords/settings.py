"""Connection settings: what the hook needs from an Airflow ``ords`` connection, checked once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_datapump.exceptions import DataPumpConfigError, DataPumpValidationError
from airflow_provider_datapump.payloads import parse_ords_version

if TYPE_CHECKING:
    from airflow.sdk import Connection

__all__ = ["DEFAULT_TIMEOUT", "OrdsSettings", "connection_extra", "origin"]

DEFAULT_TIMEOUT = 60.0

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def connection_extra(extras: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """One connection extra, under its plain key or the prefixed one older UI forms stored."""
    for name in (key, f"extra__ords__{key}"):
        value = extras.get(name)
        if value not in (None, ""):
            return value
    return default


def _as_bool(field_name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise DataPumpConfigError(f"connection extra {field_name!r} must be true or false, not {value!r}")


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


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
    def db_api_root(self) -> str:
        """The Database API's root, where its metadata catalog lives too."""
        return f"{self.base_url}/_/db-api/{self.api_version}/"

    @property
    def api_root(self) -> str:
        return f"{self.db_api_root}database/datapump/"

    @property
    def origin(self) -> tuple[str, str, int]:
        return origin(self.base_url)

    @classmethod
    def from_connection(cls, conn: Connection, extras: Mapping[str, Any] | None = None) -> OrdsSettings:
        extras = conn.extra_dejson if extras is None else extras
        host = (conn.host or "").strip()
        if not host:
            raise DataPumpConfigError(
                f"connection {conn.conn_id!r} has no host: set it to the ORDS URL up to the schema alias, "
                "e.g. https://db.example.com:8443/ords/pdb1/dbapi_user"
            )
        api_version = str(connection_extra(extras, "api_version", "stable")).strip().strip("/")
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
            scheme = str(connection_extra(extras, "protocol", "https")).lower()
            netloc, port = host, conn.port
            path = "/" + (conn.schema or "").strip("/")
        if scheme not in ("http", "https"):
            raise DataPumpConfigError(
                f"connection {conn.conn_id!r}: protocol must be http or https, not {scheme!r}"
            )
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
        auth_type = str(connection_extra(extras, "auth_type", "basic")).strip().lower()
        if auth_type not in ("basic", "oauth2"):
            raise DataPumpConfigError(
                f"connection {conn.conn_id!r}: auth_type must be basic or oauth2, not {auth_type!r}"
            )
        if not conn.login or not conn.password:
            who = "client id and client secret" if auth_type == "oauth2" else "user and password"
            raise DataPumpConfigError(
                f"connection {conn.conn_id!r} needs a {who} (login and password fields)"
            )
        verify_raw = connection_extra(extras, "verify", True)
        verify: bool | str
        if isinstance(verify_raw, str) and verify_raw.strip().lower() not in _TRUE + _FALSE:
            verify = verify_raw.strip()
        else:
            verify = _as_bool("verify", verify_raw)
        try:
            timeout = float(connection_extra(extras, "timeout", DEFAULT_TIMEOUT))
        except (TypeError, ValueError):
            raise DataPumpConfigError(
                f"connection {conn.conn_id!r}: timeout must be a number of seconds"
            ) from None
        if timeout <= 0:
            raise DataPumpConfigError(f"connection {conn.conn_id!r}: timeout must be positive")
        ords_version = connection_extra(extras, "ords_version")
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
