"""HTTP Basic and OAuth2 client-credentials sign-in."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from tests.credentials import USER, PASSWORD, CLIENT_ID, CLIENT_SECRET

CLIENT = (CLIENT_ID, CLIENT_SECRET)


def token(emu, *, auth=CLIENT, data=None, url=None) -> httpx.Response:
    return httpx.post(url or emu.token_url, auth=auth, data=data if data is not None else {"grant_type": "client_credentials"})


def test_basic_ok(client, emu):
    assert client.get("jobs/").status_code == 200
    entry = emu.requests()[-1]
    assert (entry["auth_scheme"], entry["user"], entry["status"]) == ("basic", "dbapi_user", 200)


def test_basic_user_name_is_case_insensitive(emu, h):
    r = httpx.get(emu.api_url + "jobs/", auth=("DBAPI_USER", h.PASSWORD))
    assert r.status_code == 200


@pytest.mark.parametrize(
    "auth",
    [None, ("dbapi_user", "wrong"), ("nobody", PASSWORD), ("dbapi_user", "")],
    ids=["none", "wrong-password", "unknown-user", "empty-password"],
)
def test_basic_refused(emu, h, auth):
    r = httpx.get(emu.api_url + "jobs/", auth=auth)
    h.assert_problem(r, 401)
    assert r.headers.get_list("www-authenticate") == ['Basic realm="Oracle REST Data Services"']


def test_malformed_authorization_headers(emu, h):
    for value in ["Basic !!!", "Basic " + "dXNlcg==", "Digest abc", "Bearer", "Basic"]:
        r = httpx.get(emu.api_url + "jobs/", headers={"Authorization": value})
        h.assert_problem(r, 401)


def test_basic_user_must_match_alias(emu, h):
    users = {USER: PASSWORD, "other_user": "OtherPassword1"}
    emu.state.users.update(users)
    try:
        r = httpx.get(emu.api_url + "jobs/", auth=("other_user", "OtherPassword1"))
        h.assert_problem(r, 401)
        other = emu.url + "/ords/other_user/_/db-api/stable/database/datapump/jobs/"
        r = httpx.post(other.replace("jobs/", "export"), auth=("other_user", "OtherPassword1"), json={})
        assert r.status_code == 201 and r.json()["owner_name"] == "OTHER_USER"
    finally:
        emu.state.users.pop("other_user", None)


def test_oauth_token_and_bearer(emu, h):
    r = token(emu)
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["access_token", "token_type", "expires_in"]
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    created = httpx.post(emu.api_url + "export", headers=bearer, json={"filter": "TESTUSER1"})
    assert created.status_code == 201
    assert created.json()["owner_name"] == "DBAPI_USER"
    assert httpx.get(emu.api_url + "jobs/", headers=bearer).status_code == 200
    entries = emu.requests()
    dumped = json.dumps(entries)
    assert body["access_token"] not in dumped
    assert CLIENT_SECRET not in dumped and PASSWORD not in dumped
    assert entries[-1]["auth_scheme"] == "bearer" and entries[-1]["user"] == "dbapi_client"


def test_oauth_with_pool_segment(emu):
    r = token(emu, url=emu.url + "/ords/pdb1/dbapi_user/oauth/token")
    assert r.status_code == 200
    tok = r.json()["access_token"]
    r = httpx.get(emu.url + "/ords/pdb1/dbapi_user/_/db-api/stable/database/datapump/jobs/", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 200


def test_token_expiry(emu, h):
    # 2 s: the first call must land inside the token's life; with 0.2 s it did not on a loaded machine
    # (two suites at once, 2 cores), and the test failed before it reached the expiry it is about.
    emu.set_scenario(token_ttl=2.0)
    body = token(emu).json()
    assert body["expires_in"] == 2
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert httpx.get(emu.api_url + "jobs/", headers=bearer).status_code == 200
    time.sleep(2.1)
    r = httpx.get(emu.api_url + "jobs/", headers=bearer)
    h.assert_problem(r, 401)
    challenges = r.headers.get_list("www-authenticate")
    assert challenges[0] == 'Basic realm="Oracle REST Data Services"'
    assert challenges[1].startswith("Bearer ") and 'error="invalid_token"' in challenges[1]
    assert token(emu).status_code == 200  # a new token can be fetched


def test_unknown_bearer_token(emu, h):
    h.assert_problem(httpx.get(emu.api_url + "jobs/", headers={"Authorization": "Bearer nope"}), 401)


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"auth": ("dbapi_client", "wrong")}, 401, "invalid_client"),
        ({"auth": ("nobody", "x")}, 401, "invalid_client"),
        ({"auth": None}, 401, "invalid_client"),
        ({"data": {"grant_type": "password"}}, 400, "unsupported_grant_type"),
        ({"data": {}}, 400, "invalid_request"),
    ],
)
def test_token_errors(emu, h, kwargs, status, error):
    r = token(emu, **kwargs)
    body = h.assert_problem(r, status)
    assert body["error"] == error


def test_token_for_another_alias_refused(emu, h):
    r = token(emu, url=emu.url + "/ords/unknown/oauth/token")
    h.assert_problem(r, 404)


def test_token_with_form_credentials(emu):
    r = httpx.post(emu.token_url, data={"grant_type": "client_credentials", "client_id": CLIENT[0], "client_secret": CLIENT[1]})
    assert r.status_code == 200
