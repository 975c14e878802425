"""One emulator instance: the backend, users and tokens, and the test harness, wired together.

``EmulatorState`` is what the HTTP layer, ``run_emulator`` and tests hold. It owns no
semantics of its own: each method hands over to the part that does (``backend``,
``auth``, ``scenarios``, ``faults``, ``request_log``, ``clock``), and ``reset`` resets them all.
All parts share one lock, so a reset never interleaves with a request's state change.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from .auth import DEFAULT_CLIENTS, DEFAULT_USERS, Auth, Principal
from .backend import DataPumpBackend
from .catalog import Catalog
from .clock import Clock
from .errors import BadRequest, Conflict
from .faults import Faults
from .files import FileStore
from .request_log import RequestLog
from .scenarios import Scenarios
from .settings import DEFAULT_SETTINGS, JOB_SCENARIO_KEYS, OUTCOMES, validate_settings
from .sql.service import SqlService
from .versions import DEFAULT_ORDS_VERSION, ORDS_VERSIONS, endpoint_keys

__all__ = [
    "EmulatorState",
    "Principal",
    "DEFAULT_USERS",
    "DEFAULT_CLIENTS",
    "DEFAULT_SETTINGS",
    "OUTCOMES",
    "ORDS_VERSIONS",
    "DEFAULT_ORDS_VERSION",
    "endpoint_keys",
]


class EmulatorState:
    """Catalog, jobs and files (``backend``), REST-Enabled SQL over them (``sql``), users and tokens (``auth``), and the harness:
    ``scenarios``, ``faults``, ``request_log``, ``clock``."""

    def __init__(
        self,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        catalog: Catalog | dict[str, Any] | str | os.PathLike[str] | None = None,
        clock: Callable[[], Any] = time.time,
        users: dict[str, str] | None = None,
        clients: dict[str, dict[str, str]] | None = None,
        request_log_size: int = 10000,
        **settings: Any,
    ):
        lock = threading.RLock()
        self.scenarios = Scenarios(settings, lock=lock)
        self.settings = self.scenarios.settings
        self.clock = Clock(clock, lock=lock)
        self.files = FileStore(data_dir, self.settings)
        try:
            self.backend = DataPumpBackend(
                settings=self.settings,
                files=self.files,
                catalog=catalog,
                now=self.clock.now,
                next_scenario=self.scenarios.for_next_job,
                lock=lock,
            )
        except BaseException:
            self.files.close()
            raise
        self.sql = SqlService(self.backend)
        self.auth = Auth(users, clients, now=self.clock.now, settings=self.settings, lock=lock)
        self.faults = Faults(now=self.clock.now, lock=lock)
        self.request_log = RequestLog(request_log_size, lock=lock)
        self._lock = lock

    @property
    def data_dir(self) -> str:
        return self.files.data_dir

    @property
    def users(self) -> dict[str, str]:
        return self.auth.users

    @property
    def _tokens(self) -> dict[str, tuple[str, str, float]]:
        # Tests forget every token (as an ORDS restart would) and scan logs for issued ones.
        return self.auth.tokens

    def now(self) -> float:
        return self.clock.now()

    def close(self) -> None:
        """Remove the data directory if the emulator created it."""
        self.files.close()

    def reset(self) -> None:
        """Jobs, files, tokens, faults, request log and queued scenarios go; catalog and settings return to their start."""
        with self._lock:
            self.backend.reset()
            self.auth.reset()
            self.faults.clear()
            self.request_log.clear()
            self.scenarios.reset()

    # ------------------------------------------------------------------ the Data Pump backend

    def create_job(
        self, principal: Principal, payload: Any, endpoint: str, prefix: str
    ) -> tuple[dict[str, Any], str, list[str]]:
        return self.backend.create_job(principal, payload, endpoint, prefix)

    def get_job(self, owner: str, name: str, prefix: str) -> dict[str, Any]:
        return self.backend.get_job(owner, name, prefix)

    def list_jobs(self, prefix: str, **params: Any) -> dict[str, Any]:
        return self.backend.list_jobs(prefix, **params)

    def resolve_file(self, owner: str, name: str, file_name: str) -> tuple[str, int, str]:
        return self.backend.resolve_file(owner, name, file_name)

    def catalog_data(self) -> dict[str, Any]:
        return self.backend.catalog_data()

    def load_catalog(self, data: Any) -> dict[str, Any]:
        return self.backend.load_catalog(data)

    def drop_schema(self, schema: str) -> None:
        self.backend.drop_schema(schema)

    def drop_table(self, schema: str, table: str) -> None:
        self.backend.drop_table(schema, table)

    def set_table_rows(self, schema: str, table: str, rows: int, nbytes: int | None = None) -> dict[str, Any]:
        return self.backend.set_table_rows(schema, table, rows, nbytes)

    def stop_job(self, owner: str, name: str, *, keep_master: int = 1) -> dict[str, Any]:
        return self.backend.stop_job(owner, name, keep_master=keep_master)

    def drop_job(self, owner: str, name: str) -> None:
        self.backend.drop_job(owner, name)

    def add_foreign_job(self, row: dict[str, Any]) -> dict[str, Any]:
        return self.backend.add_foreign_job(row)

    def jobs(self) -> list[dict[str, Any]]:
        return self.backend.jobs()

    def object_store(self) -> dict[str, str]:
        return self.backend.object_store()

    # ------------------------------------------------------------------ users and tokens

    def authenticate_basic(self, alias: str, user: str, password: str) -> Principal:
        return self.auth.authenticate_basic(alias, user, password)

    def authenticate_bearer(self, alias: str, token: str) -> Principal:
        return self.auth.authenticate_bearer(alias, token)

    def issue_token(self, alias: str, client_id: str, secret: str, grant_type: str | None) -> dict[str, Any]:
        return self.auth.issue_token(alias, client_id, secret, grant_type)

    # ------------------------------------------------------------------ the harness

    def advance_clock(self, seconds: float) -> float:
        """Move the emulator's time forward by ``seconds`` (never back); returns the new time."""
        return self.clock.advance(seconds)

    def get_scenario(self) -> dict[str, Any]:
        return self.scenarios.get()

    def set_scenario(self, **values: Any) -> dict[str, Any]:
        return self.scenarios.set(**values)

    def queue_scenario(self, **values: Any) -> dict[str, Any]:
        return self.scenarios.queue(**values)

    def clear_scenario_queue(self) -> None:
        self.scenarios.clear_queue()

    def patch_job(self, owner: str, name: str, **changes: Any) -> dict[str, Any]:
        """Change how a running job ends (``finish_now`` ends it at once)."""
        with self._lock:
            now = self.backend.advance()
            job = self.backend.control_job(owner, name)
            finish_now = changes.pop("finish_now", False)
            if not isinstance(finish_now, bool):
                raise BadRequest("finish_now must be true or false")
            values = validate_settings(changes, allowed=JOB_SCENARIO_KEYS)
            if values.get("outcome") == "refused":
                raise BadRequest("outcome refused applies to a create; this job exists already")
            if job.foreign is not None or job.finalized:
                raise Conflict(f"job {owner},{name} is no longer running")
            job.retarget(values, finish_now=finish_now, now=now)
            self.backend.advance()
            return job.describe(self.clock.now())

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        return self.faults.add(**spec)

    def clear_faults(self) -> None:
        self.faults.clear()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every request begun so far has been logged; False if some still run at the timeout."""
        return self.request_log.wait_idle(timeout)

    def requests(self) -> list[dict[str, Any]]:
        return self.request_log.entries()

    def clear_requests(self) -> None:
        self.request_log.clear()
