"""The wheel as a user gets it: built from this checkout, installed into a clean venv (with the
OLDEST Airflow the provider supports), and looked at through Airflow's own CLI.

uv (or pip) fetches through its cache, so after the first run nothing new is downloaded.
DATAPUMP_WHEEL_AIRFLOW picks another Airflow (the matrix cells leave the default).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _oldest_cell() -> str:
    """The oldest cell of `make test-matrix`: Airflow and common-compat at their floors, with the pins
    (and their reasons) that live in tools/matrix.py only."""
    spec = importlib.util.spec_from_file_location("_datapump_matrix", ROOT / "tools" / "matrix.py")
    matrix = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(matrix)
    return " ".join(matrix.CELLS["3.0"])


OLDEST = _oldest_cell()
PROVIDER = "airflow-provider-datapump"
pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--wheel", "--sdist", "--outdir", str(out), str(ROOT)])
    wheel, = out.glob("*.whl")
    sdist, = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


def test_the_wheel_has_the_package_its_licence_and_nothing_else(dists):
    names = zipfile.ZipFile(dists["wheel"]).namelist()
    info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    assert f"{info}/licenses/LICENSE" in names and f"{info}/licenses/NOTICE" in names
    assert "airflow_provider_datapump/py.typed" in names
    assert "airflow_provider_datapump/openlineage_facets.json" in names  # read at run time
    strays = [n for n in names if not n.startswith(("airflow_provider_datapump/", f"{info}/"))]
    assert strays == []
    inside = [n for n in names if any(part in ("tests", "bench", "results", "example_dags", "tools")
                                      for part in Path(n).parts)]
    assert inside == []
    metadata = zipfile.ZipFile(dists["wheel"]).read(f"{info}/METADATA").decode()
    assert "example.invalid" not in metadata and "License: Apache-2.0" in metadata


def test_the_sdist_has_the_licence_and_notice(dists):
    with tarfile.open(dists["sdist"]) as tar:
        names = {Path(n).relative_to(Path(n).parts[0]).as_posix() for n in tar.getnames() if len(Path(n).parts) > 1}
    assert {"LICENSE", "NOTICE", "pyproject.toml", "airflow_provider_datapump/py.typed"} <= names
    # bench/results/latest/ is the committed run behind the README's figures; other results are local.
    strays = [n for n in names if n.startswith((".artifacts/", "tools/node/node_modules/", "site/", ".venv"))
              or (n.startswith("bench/results/") and not n.startswith("bench/results/latest/"))]
    assert strays == []


def _has_uv() -> bool:
    import importlib.util

    return importlib.util.find_spec("uv") is not None


@pytest.fixture(scope="module")
def clean_venv(dists, tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("clean") / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    pins = os.environ.get("DATAPUMP_WHEEL_AIRFLOW", OLDEST).split()
    target = str(venv / "bin" / "python")
    # uv (which make venv installs) resolves and installs what pip would, from the same PyPI, in a
    # fraction of the time (3 min with pip under load here); pip where uv is missing.
    installer = [sys.executable, "-m", "uv", "pip", "install", "--python", target] if _has_uv() else [
        target, "-m", "pip", "install"]
    run([*installer, "-q", str(dists["wheel"]), *pins])
    return venv


def airflow(venv: Path, tmp_path: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHONPATH"))}
    env.update({"AIRFLOW_HOME": str(tmp_path / "home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"})
    # Run from an empty directory: the checkout must not shadow the installed package.
    return run([str(venv / "bin" / "airflow"), *args], env=env, cwd=tmp_path).stdout


def _json(text: str):
    # Airflow may print log lines (which also start with "[") before the JSON.
    start = re.search(r"^\[(\{|\])", text, re.M)
    assert start, text[-2000:]
    return json.loads(text[start.start():])


def test_airflow_sees_the_installed_provider(clean_venv, tmp_path):
    version = run([str(clean_venv / "bin" / "python"), "-c", "import airflow; print(airflow.__version__)"]).stdout.strip()
    pins = os.environ.get("DATAPUMP_WHEEL_AIRFLOW", OLDEST)
    assert f"apache-airflow=={version}" in pins.split()

    # The first call writes AIRFLOW_HOME's config; the other four only read, so they run side by
    # side (each CLI start costs seconds, most of this test's time).
    listed = {p["package_name"]: p for p in _json(airflow(clean_venv, tmp_path, "providers", "list", "-o", "json"))}
    assert PROVIDER in listed, sorted(listed)
    from concurrent.futures import ThreadPoolExecutor

    commands = {"get": ("get", PROVIDER, "--full"), "hooks": ("hooks",), "links": ("links",), "triggers": ("triggers",)}
    with ThreadPoolExecutor(len(commands)) as pool:
        futures = {k: pool.submit(airflow, clean_venv, tmp_path, "providers", *c, "-o", "json") for k, c in commands.items()}
        out = {k: _json(f.result()) for k, f in futures.items()}

    full, = out["get"]
    assert full["connection-types"][0]["connection-type"] == "ords"
    hooks = {h["connection_type"]: h for h in out["hooks"]}
    assert hooks["ords"]["class"] == "airflow_provider_datapump.hooks.datapump.DataPumpHook"
    links = [row["extra_link_class_name"] for row in out["links"]]
    assert "airflow_provider_datapump.operators.datapump.DataPumpJobLink" in links
    assert any(t["package_name"] == PROVIDER and t["class"] == "airflow_provider_datapump.triggers.datapump"
               for t in out["triggers"]), out["triggers"]


def test_the_emulator_console_script_runs(clean_venv, tmp_path):
    out = run([str(clean_venv / "bin" / "datapump-emulator"), "--help"], cwd=tmp_path).stdout
    assert "--port" in out
