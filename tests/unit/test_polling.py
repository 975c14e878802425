"""The waiting policy as tables: each answer or failed poll, at a given time, and what the wait does next.

The policy is pure (it is handed the time and sends nothing), so every rule is checked here without
a server; tests/triggers and tests/operators drive the same policy over HTTP against the emulator.
"""

from __future__ import annotations

import logging

import pytest

from airflow_provider_datapump.exceptions import DataPumpHTTPError, DataPumpProtocolError
from airflow_provider_datapump.jobs import DataPumpJob, JobResult, OraError, Outcome, Verdict
from airflow_provider_datapump.polling import Finish, JobWait, Poll, event_status, next_interval

LOG = logging.getLogger("test_polling")


def result(outcome: Outcome, state: str = "NOT RUNNING", codes: tuple[str, ...] = ()) -> JobResult:
    errors = tuple(OraError(code=c, line=f"{c}: boom") for c in codes)
    verdict = Verdict(outcome=outcome, message=f"the job {outcome.value}", errors=errors, error_count=len(errors))
    job = DataPumpJob(owner_name="HR", job_name="EXP_1", state=state)
    return JobResult(job=job, verdict=verdict, self_url="http://ords/jobs/HR,EXP_1/", files=())


def http_error(status: int | None) -> DataPumpHTTPError:
    return DataPumpHTTPError(method="GET", url="http://ords/jobs/HR,EXP_1/", status=status)


def wait(**kw) -> JobWait:
    kw.setdefault("poll_interval", 10.0)
    return JobWait("HR,EXP_1", log=LOG, **kw)


@pytest.mark.parametrize(
    ("answer", "rules", "expected"),
    [
        (result(Outcome.RUNNING, "EXECUTING"), {}, Poll),
        (result(Outcome.SUCCEEDED), {}, "success"),
        (result(Outcome.SUCCEEDED_WITH_ERRORS, codes=("ORA-39082",)), {}, "error"),
        (result(Outcome.SUCCEEDED_WITH_ERRORS, codes=("ORA-39082",)), {"fail_on_errors": False}, "success"),
        (result(Outcome.SUCCEEDED_WITH_ERRORS, codes=("ORA-39082",)), {"allowed_ora_codes": ["39082"]}, "success"),
        (result(Outcome.SUCCEEDED_WITH_ERRORS, codes=("ORA-39082", "ORA-31684")), {"allowed_ora_codes": ["39082"]}, "error"),
        (result(Outcome.FAILED), {"fail_on_errors": False}, "error"),
        (result(Outcome.STOPPED), {}, "cancelled"),
        (result(Outcome.VANISHED), {}, "error"),
    ],
)
def test_an_answer_polls_on_while_running_and_labels_the_end(answer, rules, expected):
    step = wait(**rules).answered(answer, now=1000.0)
    if expected is Poll:
        assert step == Poll(10.0, running=answer)
    else:
        assert isinstance(step, Finish) and step.status == expected and step.result is answer
        assert step.status == event_status(answer, fail_on_errors=rules.get("fail_on_errors", True),
                                           allowed_ora_codes=rules.get("allowed_ora_codes", ()))


@pytest.mark.parametrize(
    ("deadline", "now", "expected"),
    [
        (None, 1e9, None),
        (1000.0, 999.0, None),
        (1000.0, 1000.0, "timeout"),
        (1000.0, 1500.0, "timeout"),
    ],
)
def test_the_deadline_is_checked_before_each_look(deadline, now, expected):
    finish = wait(deadline=deadline, deadline_reason="execution_timeout").before_poll(now)
    if expected is None:
        assert finish is None
    else:
        assert finish.status == "timeout" and "execution_timeout" in finish.message and finish.result is None
        assert finish.event({"owner_name": "HR", "job_name": "EXP_1"})["job"] == {"owner_name": "HR", "job_name": "EXP_1"}


@pytest.mark.parametrize(("deadline", "now", "delay"), [(None, 0.0, 10.0), (1003.0, 1000.0, 3.0), (1000.0, 1000.5, 0.0)])
def test_the_pause_never_overshoots_the_deadline(deadline, now, delay):
    assert wait(deadline=deadline).answered(result(Outcome.RUNNING, "EXECUTING"), now).delay == delay


@pytest.mark.parametrize(
    ("errors", "tolerance", "expected"),
    [
        # (status, seconds since the first failure) per failed poll; the last decides
        ([(503, 0)], 600, Poll),
        ([(None, 0), (None, 599)], 600, Poll),  # unreachable: ridden out like a 5xx
        ([(429, 0), (502, 300), (504, 600)], 600, "raise"),  # the tolerance is spent
        ([(404, 0)], 600, "raise"),  # an answer that is not "later": fail at once
        ([(401, 0)], 600, "raise"),
    ],
)
def test_outages_are_ridden_out_within_the_tolerance(errors, tolerance, expected):
    policy = wait(tolerance=tolerance)
    *before, (status, at) = errors
    for s, t in before:
        assert isinstance(policy.failed(http_error(s), 1000.0 + t), Poll)
    last = http_error(status)
    if expected is Poll:
        step = policy.failed(last, 1000.0 + at)
        assert isinstance(step, Poll) and step.running is None
    else:
        with pytest.raises(DataPumpHTTPError) as raised:
            policy.failed(last, 1000.0 + at)
        assert raised.value is last


def test_a_protocol_error_is_never_ridden_out():
    with pytest.raises(DataPumpProtocolError):
        wait().failed(DataPumpProtocolError("not a job"), 0.0)


def test_an_answer_ends_the_outage_so_the_tolerance_starts_again(caplog):
    policy = wait(tolerance=100)
    policy.failed(http_error(503), 0.0)
    policy.failed(http_error(503), 90.0)
    with caplog.at_level(logging.INFO, logger="test_polling"):
        policy.answered(result(Outcome.RUNNING, "EXECUTING"), 95.0)
    assert "answered again" in caplog.text and "2 failed poll(s)" in caplog.text
    assert isinstance(policy.failed(http_error(503), 150.0), Poll)  # 150 s after the first, 0 s into this one


def test_a_state_is_logged_once_until_it_changes(caplog):
    policy = wait()
    with caplog.at_level(logging.INFO, logger="test_polling"):
        for state in ("DEFINING", "EXECUTING", "EXECUTING", "EXECUTING"):
            policy.answered(result(Outcome.RUNNING, state), 0.0)
        policy.answered(result(Outcome.SUCCEEDED), 0.0)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["Data Pump job HR,EXP_1 is DEFINING", "Data Pump job HR,EXP_1 is EXECUTING",
                     "Data Pump job HR,EXP_1 is NOT RUNNING"]


@pytest.mark.parametrize(
    ("age", "poll_interval", "cap", "expected"),
    [
        (0, 10, None, 10),  # young: poll_interval
        (100, 10, None, 10),
        (300, 10, None, 30),  # a tenth of its age
        (1200, 10, None, 120),  # up to the default cap
        (7200, 10, None, 120),
        (7200, 10, 600, 600),
        (7200, 10, 10, 10),  # max_poll_interval=poll_interval pins it
        (7200, 30, 10, 30),  # a cap below poll_interval never shortens it
    ],
)
def test_the_interval_follows_the_job_age(age, poll_interval, cap, expected):
    assert next_interval(age, poll_interval, cap) == expected


def test_a_wait_counts_the_age_from_the_submission_and_still_respects_the_deadline():
    policy = wait(poll_interval=10.0, started_at=0.0, deadline=3000.0)
    running = result(Outcome.RUNNING, "EXECUTING")
    assert policy.answered(running, 500.0).delay == 50.0
    assert policy.answered(running, 2990.0).delay == 10.0  # 120 s by age, 10 s to the deadline
    unknown = wait(poll_interval=10.0)  # the age counts from the first look
    assert unknown.answered(running, 5000.0).delay == 10.0
    assert unknown.answered(running, 5600.0).delay == 60.0


def test_polls_over_a_two_hour_job_and_the_notice_delay_bound():
    """The figure in polling.MAX_POLL_INTERVAL's comment, and the bound the README states."""
    policy, now, looks, worst = wait(poll_interval=10.0, started_at=0.0), 0.0, 0, 0.0
    running = result(Outcome.RUNNING, "EXECUTING")
    while now < 7200:
        delay = policy.answered(running, now).delay
        # A job that ends just after this look is seen at the next: within max(poll_interval, age/10), capped.
        assert delay <= min(max(10.0, now / 10), 120.0) + 1e-9
        worst = max(worst, delay)
        now += delay
        looks += 1
    assert 80 <= looks <= 95 and worst == 120.0, (looks, worst)  # 87 measured; 720 at a fixed 10 s
