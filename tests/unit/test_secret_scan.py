"""The suite-wide secret scan must itself fail a test that leaks a credential."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = Path(__file__).parent.parent / "conftest.py"


@pytest.mark.prints_secrets  # it shows the inner run's output, leaks included, on purpose
def test_scan_fails_a_leaking_test_and_passes_a_clean_one(pytester):
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(
        test_probe="""
import logging
from tests.credentials import PASSWORD, CLIENT_SECRET

def test_leaks_in_stdout():
    print(f"connecting with {PASSWORD}")

def test_leaks_in_a_log_record():
    logging.getLogger("x").warning("secret %s", CLIENT_SECRET)

def test_clean():
    print("nothing to see")
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*secret leaked*"])
