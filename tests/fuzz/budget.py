"""Shared by the fuzz tests (imported by them and by this directory's conftest): the example budget, and a record of how many examples really ran.

``DATAPUMP_FUZZ_EXAMPLES`` sets the budget per property (``make stress`` sets 10,000; inside
``make test`` it is small). Each property counts the examples its body executed and fails when
Hypothesis ran far fewer than asked, so a figure quoted from a run is measured, not assumed.
With ``DATAPUMP_FUZZ_REPORT=path.json`` the counts are written there at the end of the session.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("DATAPUMP_FUZZ_EXAMPLES", "200"))
# Hypothesis may stop early when a strategy's space is exhausted, or discard examples it
# judges invalid; below this share of the budget the run does not back the figure it claims.
MIN_SHARE = 0.9

RESULTS: dict[str, dict[str, Any]] = {}


def fuzz_settings(max_examples: int = EXAMPLES) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,  # the emulator shares two cores with other runs: timing is not the property
        database=None,  # no .hypothesis directory in the tree; failures print a reproduction blob
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
            HealthCheck.large_base_example,
        ],
    )


class Tally:
    """Examples executed by one property, and how they ended (accepted, rejected, ...)."""

    def __init__(self) -> None:
        self.examples = 0
        self.outcomes: Counter[str] = Counter()

    def __call__(self, outcome: str) -> None:
        self.examples += 1
        self.outcomes[outcome] += 1


def run_property(request: pytest.FixtureRequest, prop: Callable[[Tally], Callable[[], None]],
                 budget: int = EXAMPLES) -> Tally:
    """Run a Hypothesis property built by ``prop(tally)`` and check it ran its budget."""
    tally = Tally()
    started = time.perf_counter()
    prop(tally)()
    seconds = time.perf_counter() - started
    RESULTS[request.node.nodeid] = {
        "requested": budget,
        "examples": tally.examples,
        "seconds": round(seconds, 1),
        "outcomes": dict(sorted(tally.outcomes.items())),
    }
    print(f"\nfuzz {request.node.name}: {tally.examples} examples in {seconds:.1f}s {dict(tally.outcomes)}")
    assert tally.examples >= budget * MIN_SHARE, f"only {tally.examples} of {budget} examples ran"
    return tally


def record(request: pytest.FixtureRequest, **figures: Any) -> None:
    """Figures from a property that is not driven by run_property (schemathesis)."""
    RESULTS[request.node.nodeid] = figures
    print(f"\nfuzz {request.node.name}: {figures}")
