"""The attempt state machine on its own (table-driven, no HTTP), and one real unreachable server."""

from __future__ import annotations

import io
import json
import logging
import socket
from typing import Any

import httpx
import pytest

from airflow_provider_datapump.exceptions import DataPumpHTTPError, DataPumpTransferError, DataPumpUnreachableError
from airflow_provider_datapump.hooks.datapump import DataPumpHook
from airflow_provider_datapump.hooks.ords.attempts import Attempts, Refusal
from airflow_provider_datapump.hooks.ords.auth import OrdsAuth
from airflow_provider_datapump.hooks.ords.errors import AmbiguousCreate
from airflow_provider_datapump.hooks.ords.instructions import Download, Request
from airflow_provider_datapump.hooks.ords.policy import RetryPolicy
from airflow_provider_datapump.hooks.ords.settings import OrdsSettings

URL = "https://ords.example.com/ords/u/_/db-api/stable/database/datapump/jobs/"
GET = Request("GET", URL)
POST = Request("POST", URL, idempotent=False, ok=frozenset({200, 201}))
POLICY = RetryPolicy(attempts=2, backoff=0.0)
CONNECT = httpx.ConnectError("refused")
TIMEOUT = httpx.ReadTimeout("slow")


def auth(auth_type: str) -> OrdsAuth:
    settings = OrdsSettings(conn_id="t", base_url="https://ords.example.com/ords/u", auth_type=auth_type, login="u", password="p")
    return OrdsAuth(settings, lambda secret: None, "test")


def refusal(status: int) -> Refusal:
    return Refusal(status, {}, b'{"code": "X", "message": "m"}')


def feed(attempts: Attempts, event: Any) -> Any:
    """What the machine makes of one failed try: the wait before the next, or what it raises."""
    try:
        return attempts.after_refusal(event) if isinstance(event, Refusal) else attempts.after_error(event)
    except Exception as err:
        return err


@pytest.mark.parametrize(
    ("call", "auth_type", "events", "outcomes"),
    [
        pytest.param(GET, "oauth2", [refusal(401), refusal(401)], [0.0, DataPumpHTTPError],
                     id="oauth2 401: one refresh at once, then the error"),
        pytest.param(GET, "basic", [refusal(401)], [DataPumpHTTPError], id="basic 401: no refresh cures a password"),
        pytest.param(POST, "oauth2", [refusal(401), refusal(201)], [0.0, DataPumpHTTPError],
                     id="a refused create is sent again after the refresh"),
        pytest.param(GET, "basic", [refusal(503), refusal(503)], [float, DataPumpHTTPError], id="503: retried within budget"),
        pytest.param(POST, "basic", [refusal(503)], [AmbiguousCreate], id="a create's 5xx is ambiguous, not retried"),
        pytest.param(POST, "basic", [refusal(429), refusal(400)], [float, DataPumpHTTPError], id="a create's 429 is retried"),
        pytest.param(POST, "basic", [CONNECT, TIMEOUT], [float, AmbiguousCreate], id="create: connect error retried, timeout ambiguous"),
        pytest.param(GET, "basic", [TIMEOUT, TIMEOUT], [float, DataPumpUnreachableError], id="no answer: unreachable"),
    ],
)
def test_attempts(call, auth_type, events, outcomes):
    attempts = Attempts(POLICY, call, auth(auth_type), logging.getLogger("t"))
    for event, expected in zip(events, outcomes):
        got = feed(attempts, event)
        if expected is float:
            assert isinstance(got, float), got
        elif isinstance(expected, type):
            assert isinstance(got, expected), got
        else:
            assert got == expected
    if isinstance(got, AmbiguousCreate):
        assert got.answered is isinstance(events[-1], Refusal)


class _Pipe(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: Any) -> int:
        return len(data)


@pytest.mark.parametrize(
    ("sink", "restartable"),
    [(io.BytesIO(), True), (_Pipe(), False), (lambda: io.BytesIO(), True)],
    ids=["seekable: rewound", "not seekable: refused", "factory: a fresh file"],
)
def test_a_partly_written_body_is_rewound_or_the_retry_refused(sink, restartable):
    attempts = Attempts(RetryPolicy(attempts=3, backoff=0.0), Download(URL + "X.DMP", sink), None, logging.getLogger("t"))
    assert attempts.sink is not None
    out = attempts.sink.open(4)
    out.write(b"half")
    attempts.sink.wrote(4)
    got = feed(attempts, DataPumpTransferError("short body"))
    if restartable:
        assert isinstance(got, float)
        again = attempts.sink.open(4)
        assert again.tell() == 0 and (callable(sink) or again.getvalue() == b"")
    else:
        assert isinstance(got, DataPumpTransferError) and "cannot be rewound" in str(got)


def test_an_unreachable_server_is_not_an_answer(monkeypatch):
    # A port nothing listens on: the emulator cannot play a server that is not there.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conn = {"conn_type": "ords", "host": f"http://127.0.0.1:{port}/ords/u", "login": "u", "password": "p"}
    monkeypatch.setenv("AIRFLOW_CONN_ORDS_DEFAULT", json.dumps(conn))
    hook = DataPumpHook(retry_attempts=2, retry_backoff=0.01)
    for call in (lambda: hook.list_jobs(), lambda: hook.stream_file("U,J", "X.DMP", io.BytesIO())):
        with pytest.raises(DataPumpUnreachableError) as err:
            call()
        assert err.value.status is None and isinstance(err.value, DataPumpHTTPError)
