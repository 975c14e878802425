"""Pytest fixtures for the Data Pump emulator (registered through the ``pytest11`` entry point).

Loaded in every pytest run, so nothing heavy is imported until a fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

__all__ = ["datapump_emulator_server", "datapump_emulator"]

if TYPE_CHECKING:
    from .server import EmulatorHandle


@pytest.fixture(scope="session")
def datapump_emulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    """One emulator per test session, on a free port of 127.0.0.1."""
    from .server import run_emulator

    with run_emulator(data_dir=tmp_path_factory.mktemp("datapump_emulator")) as handle:
        yield handle


@pytest.fixture
def datapump_emulator(
    request: pytest.FixtureRequest, datapump_emulator_server: EmulatorHandle
) -> EmulatorHandle:
    """The session's emulator, reset to its defaults (jobs, files, faults, catalog) for this test.

    Indirect parametrization applies settings for one test: a dict of settings
    (``@pytest.mark.parametrize("datapump_emulator", [{"ords_version": "21.2"}], indirect=True)``)
    or an ORDS version string (``parametrize("datapump_emulator", ORDS_VERSIONS, indirect=True)``);
    e.g. ``{"rest_enabled_sql": False}`` plays an ORDS without REST-Enabled SQL, and
    ``{"object_store_dir": str(folder)}`` shares the object store with another emulator.
    The next test's reset restores the defaults.
    """
    datapump_emulator_server.reset()
    param = getattr(request, "param", None)
    if param is not None:
        settings = {"ords_version": param} if isinstance(param, str) else dict(param)
        datapump_emulator_server.set_scenario(**settings)
    return datapump_emulator_server
