"""Every public module says what it offers (``__all__``), and offers only names it has."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import airflow_provider_datapump

PUBLIC = sorted(
    info.name
    for info in pkgutil.walk_packages(airflow_provider_datapump.__path__, "airflow_provider_datapump.")
    if not any(part.startswith("_") for part in info.name.split(".")) and not info.ispkg
)


@pytest.mark.parametrize("name", PUBLIC)
def test_a_public_module_declares_its_surface(name):
    module = importlib.import_module(name)
    assert isinstance(getattr(module, "__all__", None), list), f"{name} has no __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not have: {missing}"
    assert len(set(module.__all__)) == len(module.__all__)


def test_the_list_is_not_empty():
    assert "airflow_provider_datapump.operators.datapump" in PUBLIC and "airflow_provider_datapump.hooks.datapump" in PUBLIC
