"""Writes the fuzz run's measured example counts to ``$DATAPUMP_FUZZ_REPORT`` (see budget.py) and
prints them as a table at the end of the run, so the README's figures come from one command."""

from __future__ import annotations

import json
import os

import pytest

from tests.fuzz.budget import EXAMPLES, RESULTS


def pytest_terminal_summary(terminalreporter, exitstatus: int) -> None:
    if not RESULTS:
        return
    write = terminalreporter.write_line
    write(f"fuzz examples measured (budget {EXAMPLES} per property):")
    for name, r in RESULTS.items():
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted((r.get("outcomes") or {}).items()))
        write(f"  {name}: {r.get('examples', 0)} examples{' (' + outcomes + ')' if outcomes else ''}")
    write(f"  total: {sum(int(r.get('examples', 0)) for r in RESULTS.values())}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get("DATAPUMP_FUZZ_REPORT")
    if not path or not RESULTS:
        return
    summary = {
        "examples_per_property": EXAMPLES,
        "exit_status": int(exitstatus),
        "total_examples": sum(int(r.get("examples", 0)) for r in RESULTS.values()),
        "tests": RESULTS,
    }
    with open(path, "w", encoding="utf-8") as out:
        json.dump(summary, out, indent=2)
        out.write("\n")
