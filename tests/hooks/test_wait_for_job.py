"""DataPumpHook.wait_for_job and await_for_job: the public wait, driven by the same policy as the tasks."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_datapump.exceptions import DataPumpJobError
from airflow_provider_datapump.jobs import Outcome, accepts

EXPORT = {"operation": "EXPORT", "job_mode": "SCHEMA", "schema_expressions": [{"expression": "= 'TESTUSER1'"}]}


def test_waits_until_the_job_ends_and_returns_its_result(ords_conn, fast_hook):
    ords_conn.set_scenario(duration=1.0)
    job = fast_hook.create_job(EXPORT)
    result = fast_hook.wait_for_job(job, poll_interval=0.2)
    assert result.verdict.outcome is Outcome.SUCCEEDED and accepts(result.verdict)
    assert result.job.job_name == job.job_name
    assert result.dump_file_template and result.dump_file_template.startswith("EXPDAT")  # the one-off name


def test_the_async_twin_reads_the_same_verdict_of_a_failing_job(ords_conn, fast_hook):
    ords_conn.set_scenario(duration=0.5, outcome="errors")
    job = fast_hook.create_job(EXPORT)
    result = asyncio.run(fast_hook.await_for_job({"owner_name": job.owner_name, "job_name": job.job_name}, poll_interval=0.2))
    assert result.verdict.outcome is Outcome.SUCCEEDED_WITH_ERRORS and not accepts(result.verdict)
    assert result.verdict.ora_codes


def test_a_timeout_fails_naming_the_job_and_leaves_it_running(ords_conn, fast_hook):
    ords_conn.set_scenario(duration=30)
    job = fast_hook.create_job(EXPORT)
    with pytest.raises(DataPumpJobError, match=f"{job.job_name} was still running"):
        fast_hook.wait_for_job(job.ident, poll_interval=0.1, timeout=0.5)
    assert fast_hook.resolve(job).verdict.running
