"""`make docs`'s build (mkdocs --strict: any warning fails), and the docstrings it renders."""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.docs


def test_the_site_builds_without_warnings(tmp_path):
    pytest.importorskip("mkdocs", reason="the docs extra is missing: run `make docs` (or pip install -e '.[docs]')")
    pytest.importorskip("mkdocstrings", reason="the docs extra is missing: run `make docs` (or pip install -e '.[docs]')")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=ROOT, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-4000:]
    # The pages are what they claim: README sections included, parameters rendered from docstrings.
    export = (site / "operators" / "export" / "index.html").read_text()
    assert "A one-off dump name" in export and "verify_selection" in export
    assert "create_job" in (site / "hook" / "index.html").read_text()
    assert "ords-connection-form.png" in (site / "connections" / "index.html").read_text()
    assert (site / "images" / "ords-connection-form.png").is_file()
    assert "## 0.1.0" not in (site / "changelog" / "index.html").read_text()  # rendered, not raw
    # The Troubleshooting table is rendered from hints.py at build time (tools/mkdocs_hints.py).
    from airflow_provider_datapump.hints import HINTS

    trouble = (site / "troubleshooting" / "index.html").read_text()
    assert "hints-table" not in trouble
    assert all(f'id="{h.code.lower()}"' in trouble for h in HINTS)
    shutil.rmtree(site)


def _public_classes():
    from airflow_provider_datapump.operators.datapump import DataPumpExportOperator, DataPumpImportOperator
    from airflow_provider_datapump.operators.fetch import DataPumpFetchFilesOperator
    from airflow_provider_datapump.sensors.datapump import DataPumpJobSensor
    from airflow_provider_datapump.triggers.datapump import DataPumpJobTrigger

    return [DataPumpExportOperator, DataPumpImportOperator, DataPumpFetchFilesOperator, DataPumpJobSensor, DataPumpJobTrigger]


@pytest.mark.parametrize("cls", _public_classes(), ids=lambda c: c.__name__)
def test_every_public_parameter_has_a_param_line(cls):
    params = [n for n, p in inspect.signature(cls.__init__).parameters.items()
              if n != "self" and p.kind is p.KEYWORD_ONLY and not n.startswith("_")]
    documented = set(re.findall(r":param (\w+):", cls.__doc__ or ""))
    assert params, cls
    assert [n for n in params if n not in documented] == []
    assert sorted(documented - set(params)) == []  # no line for a parameter that is not there
