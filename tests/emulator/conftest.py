"""Fixtures for the emulator's own tests: a real HTTP server and an httpx client."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any

import httpx
import pytest
from tests.credentials import PASSWORD, USER

# The fixtures normally come from the plugin (pytest11 entry point once installed, or the
# root conftest's pytest_plugins); import them here only when neither has loaded it, so
# the session fixture is not defined twice.
_PLUGIN = "airflow_provider_datapump.emulator.pytest_plugin"
if _PLUGIN not in sys.modules and "datapump_emulator" not in {ep.name for ep in entry_points(group="pytest11")}:
    from airflow_provider_datapump.emulator.pytest_plugin import (  # noqa: F401
        datapump_emulator,
        datapump_emulator_server,
    )

PROBLEM_KEYS = {"code", "title", "message", "type", "instance"}
JOB_KEYS = [
    "job_name",
    "owner_name",
    "operation",
    "job_mode",
    "state",
    "degree",
    "attached_sessions",
    "datapump_sessions",
    "job_state",
]


@pytest.fixture
def emu(datapump_emulator):
    """The emulator with jobs that finish as soon as they are looked at."""
    datapump_emulator.set_scenario(duration=0)
    return datapump_emulator


@pytest.fixture
def client(emu) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.api_url, auth=(USER, PASSWORD), timeout=10) as c:
        yield c


def assert_problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert PROBLEM_KEYS <= set(body), body
    assert body["type"] == f"tag:oracle.com,2020:error/{body['code']}"
    assert body["instance"].startswith("tag:oracle.com,2020:ecid/")
    return body


def links(body: dict[str, Any], rel: str) -> list[str]:
    return [link["href"] for link in body["links"] if link["rel"] == rel]


def wait_finished(c: httpx.Client, url: str, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = c.get(url).json()
        if body["state"] != "EXECUTING":
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"job still running: {body}")
        time.sleep(0.02)


def run_job(c: httpx.Client, payload: dict[str, Any], path: str | None = None) -> tuple[httpx.Response, dict[str, Any]]:
    """Create a job (through jobs/ when the payload names an operation, else export) and wait for its end."""
    if path is None:
        path = "jobs/" if "operation" in payload else "export"
    created = c.post(path, json=payload)
    assert created.status_code == 201, created.text
    return created, wait_finished(c, created.headers["location"])


@contextlib.contextmanager
def start_cli(data_dir: Any, *args: str) -> Iterator[tuple[str, list[str]]]:
    """Run ``python -m airflow_provider_datapump.emulator`` on a free port; yields (base URL, banner lines)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "airflow_provider_datapump.emulator", "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(
        [*command, "--data-dir", str(data_dir), "--log-level", "warning", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        seen: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(line.startswith("Controls:") for line in seen):
            try:
                seen.append(lines.get(timeout=0.5))
            except queue.Empty:
                assert proc.poll() is None, "".join(seen)
        base = next((m.group(1) for m in (re.match(r"Base URL:\s+(\S+)", line) for line in seen) if m), None)
        assert base, "".join(seen)
        for _ in range(100):  # the banner is printed just before the server accepts
            try:
                httpx.get(base.rsplit("/ords/", 1)[0] + "/_emulator/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, seen
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()


@pytest.fixture(scope="session")
def h() -> types.SimpleNamespace:
    """Helpers and constants (a fixture, so tests need no import path tricks)."""
    return types.SimpleNamespace(
        USER=USER,
        PASSWORD=PASSWORD,
        JOB_KEYS=JOB_KEYS,
        assert_problem=assert_problem,
        links=links,
        wait_finished=wait_finished,
        run_job=run_job,
        start_cli=start_cli,
    )
