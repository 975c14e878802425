"""Where the suite's time goes (#29): wall and CPU per test, and the costly things it repeats.

Loaded with ``-p tools.pytest_profile`` (``make test-profile``); writes one JSON line per test
phase to ``$DATAPUMP_TEST_PROFILE`` (default ``.artifacts/test-profile.jsonl``), which
``tools/test_profile_report.py`` sums up. Under xdist every worker appends to the same file.

CPU is this process's own (``process_time``) plus what its reaped children used
(``RUSAGE_CHILDREN``): an Airflow stack's processes are counted in the phase that stops them.
The counters wrap ``subprocess.Popen`` (an Airflow process, a ``db migrate``) and ``time.sleep``
(seconds slept on a clock in the test process) and the Airflow DB reset that dag.test() fixtures do.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

_counts = {"airflow_procs": 0, "db_migrate": 0, "sleep_s": 0.0, "sleeps": 0, "procs": 0}
_sleep_sites: Counter[str] = Counter()  # seconds slept, by the test-side line that slept
_real_sleep = time.sleep
_real_popen_init = subprocess.Popen.__init__


def _sleep(seconds):
    _counts["sleep_s"] += float(seconds)
    _counts["sleeps"] += 1
    frame = sys._getframe(1)
    while frame and "site-packages" in frame.f_code.co_filename:
        frame = frame.f_back  # name the suite's line, not the library's
    if frame:
        _sleep_sites[f"{os.path.relpath(frame.f_code.co_filename)}:{frame.f_lineno}"] += float(seconds)
    return _real_sleep(seconds)


def _popen_init(self, args, *a, **kw):
    argv = [str(x) for x in (args if isinstance(args, (list, tuple)) else [args])]
    text = " ".join(argv)
    _counts["procs"] += 1
    if "airflow" in text and "airflow_provider_datapump.emulator" not in text:
        _counts["airflow_procs"] += 1
    if "db migrate" in text or "db reset" in text:
        _counts["db_migrate"] += 1
    return _real_popen_init(self, args, *a, **kw)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def pytest_configure(config):
    time.sleep = _sleep
    subprocess.Popen.__init__ = _popen_init
    path = Path(os.environ.get("DATAPUMP_TEST_PROFILE", ".artifacts/test-profile.jsonl"))
    path.parent.mkdir(parents=True, exist_ok=True)
    config._dp_profile = open(path, "a")  # noqa: SIM115 - closed in unconfigure


def pytest_unconfigure(config):
    time.sleep = _real_sleep
    subprocess.Popen.__init__ = _real_popen_init
    f = getattr(config, "_dp_profile", None)
    if f:
        for site, seconds in _sleep_sites.items():
            f.write(json.dumps({"sleep_site": site, "seconds": round(seconds, 3),
                                "worker": os.environ.get("PYTEST_XDIST_WORKER", "main")}) + "\n")
        f.close()


def _phase(item, when):
    before = (time.monotonic(), time.process_time(), _children_cpu(), dict(_counts))
    yield
    wall, cpu, kids, counts = before
    record = {
        "test": item.nodeid, "when": when, "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        "wall": round(time.monotonic() - wall, 4), "cpu": round(time.process_time() - cpu, 4),
        "child_cpu": round(_children_cpu() - kids, 4),
        **{k: round(_counts[k] - counts[k], 4) for k in _counts},
    }
    f = item.config._dp_profile
    f.write(json.dumps(record) + "\n")
    f.flush()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    yield from _phase(item, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield from _phase(item, "call")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield from _phase(item, "teardown")
