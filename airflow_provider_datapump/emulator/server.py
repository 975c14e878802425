"""Run the emulator in-process (background uvicorn thread) for tests and scripts.

Only the standard library is imported at module level; FastAPI and uvicorn are
imported when a server actually starts.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from .auth import DEFAULT_USERS
from .state import EmulatorState

__all__ = ["run_emulator", "EmulatorHandle", "bind_socket"]

DEFAULT_USER = "dbapi_user"


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind and listen before uvicorn starts, so that port 0 yields a known free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    if ":" in host:
        return f"[{host}]"
    return host


class EmulatorHandle:
    """A running emulator: its URLs, its in-process state and shortcuts for tests."""

    def __init__(
        self, state: EmulatorState, url: str, *, user: str = DEFAULT_USER, password: str | None = None
    ):
        self.state = state
        self.url = url
        self.user = user
        self.password = password if password is not None else state.users.get(user.lower(), "")
        # The alias is percent-encoded: a C## common user's '#' would otherwise start a fragment.
        self.base_url = f"{url}/ords/{quote(user.lower(), safe='$')}"
        self.api_url = f"{self.base_url}/_/db-api/stable/database/datapump/"
        self.token_url = f"{self.base_url}/oauth/token"

    def __repr__(self) -> str:
        return f"EmulatorHandle(url={self.url!r})"

    # shortcuts onto the state (same semantics as the /_emulator endpoints)
    def reset(self) -> None:
        self.state.reset()

    def set_scenario(self, **settings: Any) -> dict[str, Any]:
        return self.state.set_scenario(**settings)

    def queue_scenario(self, **settings: Any) -> dict[str, Any]:
        return self.state.queue_scenario(**settings)

    def advance_clock(self, seconds: float) -> float:
        """Move the emulator's time forward (e.g. past the second a job was named in)."""
        return self.state.advance_clock(seconds)

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        return self.state.add_fault(**spec)

    def clear_faults(self) -> None:
        self.state.clear_faults()

    def requests(self, *, wait_idle: float = 2.0) -> list[dict[str, Any]]:
        """The request log, once the requests already begun have ended (waiting at most ``wait_idle`` s).

        The server logs a request when its response ends, which can be after the client has read
        the last byte, so reading the log straight after a call could otherwise miss that call.
        """
        if wait_idle > 0:
            self.state.wait_idle(wait_idle)
        return self.state.requests()

    def clear_requests(self) -> None:
        self.state.clear_requests()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        return self.state.wait_idle(timeout)

    def catalog(self) -> dict[str, Any]:
        return self.state.catalog_data()

    def load_catalog(self, data: Any) -> dict[str, Any]:
        return self.state.load_catalog(data)

    def set_table_rows(self, schema: str, table: str, rows: int, nbytes: int | None = None) -> dict[str, Any]:
        """Change a table's row count (``PATCH /_emulator/catalog/{schema}/{table}``)."""
        return self.state.set_table_rows(schema, table, rows, nbytes)

    @property
    def sql_url(self) -> str:
        """REST-Enabled SQL: ``POST`` here (``{"statementText": ..., "binds": [...]}``)."""
        return f"{self.base_url}/_/sql"

    def jobs(self) -> list[dict[str, Any]]:
        return self.state.jobs()

    def patch_job(self, owner: str, job: str, **changes: Any) -> dict[str, Any]:
        return self.state.patch_job(owner, job, **changes)

    def stop_job(self, owner: str, job: str, *, keep_master: int = 1) -> dict[str, Any]:
        return self.state.stop_job(owner, job, keep_master=keep_master)

    def airflow_connection(self, **overrides: Any) -> dict[str, Any]:
        """Connection dict for ``AIRFLOW_CONN_ORDS_DEFAULT`` (serialize with json.dumps)."""
        conn: dict[str, Any] = {
            "conn_type": "ords",
            "host": self.base_url,
            "login": self.user,
            "password": self.password,
        }
        conn.update(overrides)
        return conn


class _ServerThread:
    def __init__(
        self,
        app: Any,
        sock: socket.socket,
        *,
        ssl_certfile: str | None,
        ssl_keyfile: str | None,
        log_level: str,
    ):
        import uvicorn

        config = uvicorn.Config(
            app,
            log_level=log_level,
            access_log=False,
            lifespan="off",
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.sock = sock
        self.thread = threading.Thread(target=self._run, name="datapump-emulator", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as exc:
            self.error = exc

    def start(self, timeout: float = 15.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if self.error is not None or not self.thread.is_alive():
                raise RuntimeError(f"emulator failed to start: {self.error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("emulator did not start in time")
            time.sleep(0.01)

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout)
        with contextlib.suppress(OSError):
            self.sock.close()


@contextlib.contextmanager
def run_emulator(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    catalog: Any = None,
    data_dir: Any = None,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
    log_level: str = "warning",
    users: dict[str, str] | None = None,
    clients: dict[str, dict[str, str]] | None = None,
    clock: Any = None,
    **settings: Any,
) -> Iterator[EmulatorHandle]:
    """Start the emulator on ``host:port`` (0 = a free port) in a background thread.

    ``settings`` are the instance defaults that ``PUT /_emulator/scenario`` also sets
    (``ords_version``, ``name_clash_status``, ``can_create_users``, ``full_default_threads``,
    ``q_support``, ``offset_support``, ``list_max_limit``, ``strict_accept``, ``duration``,
    ``outcome``, ``error_count``, ``ora_codes``, ``dump_size``, ``token_ttl``,
    ``range_support``, ``link_origin``, ``directories``, ``rest_enabled_sql``, ``object_store_dir``,
    ``db_unique_name``, ``con_name``); e.g. ``run_emulator(ords_version="21.2")``.
    """
    from .app import create_app

    kwargs: dict[str, Any] = {"data_dir": data_dir, "catalog": catalog, "users": users, "clients": clients}
    if clock is not None:
        kwargs["clock"] = clock
    state = EmulatorState(**kwargs, **settings)
    try:
        app = create_app(state)
        sock = bind_socket(host, port)
        actual_port = sock.getsockname()[1]
        scheme = "https" if ssl_certfile else "http"
        try:
            runner = _ServerThread(
                app, sock, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile, log_level=log_level
            )
            runner.start()
        except BaseException:
            sock.close()
            raise
        try:
            user = next(iter(users)) if users else next(iter(DEFAULT_USERS))
            yield EmulatorHandle(state, f"{scheme}://{url_host(host)}:{actual_port}", user=user)
        finally:
            runner.stop()
    finally:
        state.close()
