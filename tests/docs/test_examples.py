"""Every Python block in the README and the docs runs, or says which test covers it.

A block runs as a reader would paste it: the blocks of one file in order, sharing their names
(the import example uses the export example's ``export``), inside one DAG (as in a DAG file), with
``ords_default`` pointing at the emulator, so a block that talks to ORDS talks to it. A block that
defines a pytest-style ``test_*`` function (the emulator's fixture example) has it called with the
real ``datapump_emulator`` fixture. Operator blocks are executed as Airflow parses a DAG file:
their arguments are validated then, which is what a typo in a pasted example meets first.

A block that cannot run as pasted (it needs a real Oracle, or it is a fragment) carries, on the
line before its fence, ``<!-- excerpt: tests/<file>.py::<test> -->`` naming the test that runs
what it shows; that test must exist. Files this project includes but another part owns (the
emulator's README) register their excerpts in EXCERPTS below instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["README.md", "CHANGELOG.md", "airflow_provider_datapump/emulator/README.md",
           *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```python\s*$")
MARKER = re.compile(r"^<!-- excerpt: (tests/[\w/]+\.py)::(\w+) -->$")
# (file, start of the block's first line) -> the test that covers it.
EXCERPTS = {
    ("airflow_provider_datapump/emulator/README.md", "from airflow_provider_datapump.emulator import ORDS_VERSIONS"):
        "tests/emulator/test_emulator_versions.py::test_fixture_takes_a_version_string",
}


def blocks(path: str) -> list[tuple[int, str, str | None]]:
    """(line, code, excerpt test or None) for each ```python block of ``path``."""
    lines = (ROOT / path).read_text().splitlines()
    found, i = [], 0
    while i < len(lines):
        if FENCE.match(lines[i]):
            start = i
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            code = "\n".join(lines[start + 1:j])
            marker = MARKER.match(lines[start - 1]) if start else None
            first = code.splitlines()[0] if code else ""
            registered = [t for (f, head), t in EXCERPTS.items() if f == path and first.startswith(head)]
            excerpt = "::".join(marker.groups()) if marker else (registered[0] if registered else None)
            found.append((start + 1, code, excerpt))
            i = j
        i += 1
    return found


ALL = [(path, line, code, excerpt) for path in SOURCES for line, code, excerpt in blocks(path)]


def test_there_are_blocks_to_check():
    assert sum(1 for *_, excerpt in ALL if excerpt is None) >= 5
    assert any(path == "README.md" and excerpt for path, _, _, excerpt in ALL)


def missing(test: str) -> str | None:
    """Why ``tests/<file>.py::<test>`` names nothing, or None when the test exists."""
    file, name = test.split("::")
    source = ROOT / file
    if not source.is_file():
        return f"{file} does not exist"
    if not re.search(rf"^(async )?def {name}\(", source.read_text(), re.M):
        return f"{file} has no test {name}"
    return None


@pytest.mark.parametrize(("path", "line", "test"), [(p, n, e) for p, n, _, e in ALL if e], ids=lambda v: str(v))
def test_an_excerpt_names_a_test_that_exists(path, line, test):
    assert missing(test) is None, f"{path}:{line}: {missing(test)}"


def test_a_wrong_excerpt_name_and_a_broken_block_are_caught(tmp_path):
    assert missing("tests/hooks/test_hook.py::test_no_such_thing") == "tests/hooks/test_hook.py has no test test_no_such_thing"
    assert missing("tests/nowhere.py::test_x") == "tests/nowhere.py does not exist"
    page = tmp_path / "page.md"
    page.write_text("<!-- excerpt: tests/hooks/test_hook.py::test_export_lifecycle -->\n```python\nhook.x()\n```\n"
                    "text\n```python\nfrom airflow_provider_datapump.operators.datapump import DataPumpExportOperator\n"
                    "DataPumpExportOperator(task_id='e', shemas=['HR'])\n```\n")
    (first, _, excerpt), (_, code, none) = blocks(str(page))  # an absolute path stays absolute under ROOT
    assert (first, excerpt, none) == (2, "tests/hooks/test_hook.py::test_export_lifecycle", None)
    with pytest.raises(TypeError, match="shemas"):
        exec(compile(code, "page.md", "exec"), {})


RUNNABLE = sorted({p for p, _, _, e in ALL if e is None})


@pytest.mark.parametrize("path", RUNNABLE)
def test_every_runnable_block_runs(path, ords_conn, monkeypatch, tmp_path):
    from airflow.sdk import DAG

    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "docs_example_" + re.sub(r"\W", "_", path)}
    ran = 0
    with DAG(dag_id=namespace["__name__"], schedule=None):
        for line, code, excerpt in blocks(path):
            if excerpt:
                continue
            try:
                exec(compile(code, f"{path}:{line}", "exec"), namespace)
            except Exception as err:
                raise AssertionError(f"the block at {path}:{line} fails as pasted: {type(err).__name__}: {err}") from err
            ran += 1
    for name, func in list(namespace.items()):
        if name.startswith("test_") and callable(func):
            func(datapump_emulator=ords_conn, monkeypatch=monkeypatch)
    assert ran
