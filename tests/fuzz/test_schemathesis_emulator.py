"""Schemathesis against the emulator's own OpenAPI document, over real HTTP.

Cases come from every declared operation, schema-conforming and schema-violating alike, sent
with good, wrong and no credentials. Two checks: no 5xx (``not_a_server_error``) and every 4xx
answered as ``application/problem+json`` with ORDS's problem fields (``problem_json`` below).
The budget is a quarter of DATAPUMP_FUZZ_EXAMPLES: a case costs one real request, and the input
properties in test_fuzz_inputs.py are the ones the issue's figure counts.
"""

from __future__ import annotations

import json

import pytest
import requests
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.fuzz.budget import EXAMPLES, fuzz_settings, run_property

BUDGET = max(50, EXAMPLES // 4)

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(max(300, BUDGET // 10))]

PROBLEM_KEYS = {"code", "title", "message", "type", "instance"}


def problem_json(ctx, response, case):
    """Every client error is an ORDS-style problem document, as real ORDS (25.3+) answers."""
    if not 400 <= response.status_code < 500:
        return None
    ctype = (response.headers.get("content-type") or [""])[0]
    if not ctype.startswith("application/problem+json"):
        raise AssertionError(f"HTTP {response.status_code} answered as {ctype!r}, not application/problem+json")
    body = json.loads(response.content)
    if not isinstance(body, dict) or not PROBLEM_KEYS <= set(body):
        raise AssertionError(f"HTTP {response.status_code} problem document lacks {sorted(PROBLEM_KEYS - set(body or {}))}")
    if body["type"] != f"tag:oracle.com,2020:error/{body['code']}":
        raise AssertionError(f"problem type {body['type']!r} does not match code {body['code']!r}")
    return None


def test_problem_json_check_can_fail():
    # The custom check is only worth something if it rejects what it should.
    class Fake:
        def __init__(self, status, ctype, content):
            self.status_code, self.headers, self.content = status, {"content-type": [ctype]}, content

    problem_json(None, Fake(404, "application/problem+json", json.dumps(
        {"code": "NotFound", "title": "t", "message": "m", "type": "tag:oracle.com,2020:error/NotFound", "instance": "i"})), None)
    problem_json(None, Fake(200, "text/html", b"<html>"), None)
    for fake in (Fake(404, "application/json", b'{"detail": "Not Found"}'), Fake(422, "application/problem+json", b'{"detail": []}')):
        with pytest.raises(AssertionError):
            problem_json(None, fake, None)


def test_emulator_http_surface(request, datapump_emulator_server):
    emu = datapump_emulator_server
    emu.reset()
    # 24.4 is the profile where every operation the document declares exists (POST jobs/ is 405
    # from 25.4 on), so the handlers behind all of them are reached.
    emu.set_scenario(ords_version="24.4", openapi="release")  # the metadata catalog and its description too
    schema = schemathesis.openapi.from_url(f"{emu.url}/openapi.json")
    emu_user, emu_password = emu.user, emu.password
    # Mostly the configured alias, so that requests get past the alias lookup into the handlers;
    # the generated aliases still exercise the 404 path.
    cases = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE, path_parameters={"alias": emu_user}),
        schema.as_strategy(GenerationMode.NEGATIVE, path_parameters={"alias": emu_user}),
        schema.as_strategy(GenerationMode.POSITIVE),
        schema.as_strategy(GenerationMode.NEGATIVE),
    )
    credentials = st.sampled_from(["good"] * 4 + ["wrong", "none"])
    session = requests.Session()

    def prop(tally):
        @fuzz_settings(BUDGET)
        @given(case=cases, who=credentials)
        def check(case, who):
            if tally.examples % 200 == 0:
                emu.reset()  # created jobs and their files would otherwise pile up over a long run
                emu.set_scenario(ords_version="24.4")
            # Jobs are named by the second: without this most creates would be ORA-31634.
            emu.advance_clock(1)
            auth = {"good": (emu_user, emu_password), "wrong": (emu_user, "not-the-password")}.get(who)
            response = case.call(session=session, auth=auth, timeout=10)
            case.validate_response(response, checks=[not_a_server_error, problem_json])
            tally(f"{response.status_code // 100}xx")

        return check

    try:
        tally = run_property(request, prop, BUDGET)
    finally:
        session.close()
        emu.reset()
    # Handlers must actually be reached: a run that only ever met 401/404 proves little.
    assert tally.outcomes["2xx"] >= tally.examples * 0.02, dict(tally.outcomes)
