"""Fixtures for the emulator's own tests: a real HTTP server and an httpx client."""

from __future__ import annotations

import sys
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
    )
