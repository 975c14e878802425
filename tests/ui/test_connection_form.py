"""The ORDS connection as a user meets it: the Add Connection form, and the Test button.

Airflow 3.3.2's form has no Test button; the only one is in the connections list, and it tests the
stored connection. So "fill in, press Test" is: fill in, Save, press the row's Test Connection.
"""

from __future__ import annotations

import os
import re
import shutil
from urllib.parse import urlsplit

import pytest
from packaging.version import Version
from playwright.sync_api import expect

from tests.airflow_stack import EMULATOR_PASSWORD, EMULATOR_USER, REPO
from tests.conftest import WRONG_PASSWORD
from tests.ui.pages import (
    BEHAVIOUR,
    CONNECTION_TYPE,
    add_connection,
    choose_ords,
    edit_connection,
    fill,
    label,
    open_add_dialog,
    press_test_in_list,
    side_by_side,
    toast,
)

pytestmark = [pytest.mark.ui, pytest.mark.timeout(300)]

# The standard fields Airflow 3's form can show or hide ("extra" is not one: its JSON editor is shown
# for every type, whatever hidden-fields says), and those of them the hook reads. A field the hook
# does not read means nothing for ORDS and must be hidden; one it reads must be shown.
STANDARD_FIELDS = ("description", "host", "port", "schema", "login", "password")
READ_BY_THE_HOOK = {"description", "host", "port", "schema", "login", "password"}  # description: Airflow's own
# The extras OrdsSettings.from_connection reads, spelled as the hook spells them: a misspelt
# conn-fields key would give the form a field the hook never reads, and this suite must notice.
HOOK_EXTRAS = ("auth_type", "verify", "timeout", "api_version", "ords_version", "lineage_database", "protocol")

DOCS_IMAGE = REPO / "docs" / "images" / "ords-connection-form.png"


def emulator_base(airflow) -> tuple[str, int]:
    return f"{airflow.emulator_url}/ords/{EMULATOR_USER}", urlsplit(airflow.emulator_url).port


def test_add_dialog_shows_the_providers_labels_placeholders_and_fields(page, airflow, browser, artifacts):
    dialog = open_add_dialog(page, airflow.api_url)
    fill(dialog, conn_id="ords_default")
    choose_ords(page, dialog)
    expect(dialog.get_by_text(CONNECTION_TYPE["hook-name"], exact=True)).to_be_visible()

    # ---- standard fields: shown exactly when the hook reads them, relabelled, with placeholders
    hidden = set(BEHAVIOUR.get("hidden-fields", []))
    assert not hidden & READ_BY_THE_HOOK, f"hidden-fields hides what the hook reads: {hidden & READ_BY_THE_HOOK}"
    for field in STANDARD_FIELDS:
        expect(dialog.locator(f'[name="{field}"]'), f"field {field}").to_have_count(0 if field in hidden else 1)
    for field, text in BEHAVIOUR["relabeling"].items():
        expect(dialog.get_by_label(text, exact=True), f"label of {field}").to_have_attribute("name", field)
    for field, text in BEHAVIOUR["placeholders"].items():
        expect(dialog.locator(f'[name="{field}"]'), f"placeholder of {field}").to_have_attribute("placeholder", text)
    # What the issue asks the form to say, in words a user reads.
    expect(dialog.locator('[name="host"]')).to_have_attribute("placeholder", re.compile(r"^https://[^/]+:\d+/ords/\w+/\w+$"))
    assert "url" in label("host").lower()
    assert "oauth2 client id" in label("login").lower() and "client secret" in label("password").lower()
    assert "port" in label("port").lower() and "url" in label("port").lower()
    standard_shot = artifacts / "ords-connection-form-standard.png"
    dialog.screenshot(path=str(standard_shot))

    # ---- extra fields: one typed field per extra the hook reads, labelled, explained, with its default
    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    declared = CONNECTION_TYPE.get("conn-fields", {})
    for key in HOOK_EXTRAS:
        value = dialog.locator(f'input[name="element_{key}"]')
        expect(value, f"the form has no field for the extra {key!r} the hook reads").to_have_count(1)
        spec = declared.get(key, {})
        # has= is resolved inside each candidate, so it takes a bare selector, not the dialog-rooted one.
        field = dialog.locator('[data-scope="field"][data-part="root"]').filter(has=page.locator(f'input[name="element_{key}"]'))
        expect(field.locator("label")).to_have_text(re.compile(rf"^\s*{re.escape(spec.get('label', key))}\s*$"))
        expect(field).to_contain_text(spec.get("description", "<no description declared>"))
        expect(value).to_have_value(str(spec.get("schema", {}).get("default")))
    extra_labels = " ".join(dialog.locator("label").all_inner_texts())
    for words in ("Authentication", "TLS verification", "Timeout"):
        assert words in extra_labels, f"{words!r} not among the form's labels: {extra_labels}"
    extra_shot = artifacts / "ords-connection-form-extra.png"
    dialog.screenshot(path=str(extra_shot))

    composite = artifacts / "ords-connection-form.png"
    canvas = browser.new_page()
    try:
        side_by_side(canvas, [standard_shot, extra_shot], composite)
    finally:
        canvas.close()
    if os.environ.get("DATAPUMP_UI_UPDATE_DOCS") == "1":  # kept out of normal runs: a committed file
        DOCS_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(composite, DOCS_IMAGE)
    print(f"\nconnection form screenshots: {composite} ({standard_shot.name}, {extra_shot.name})")


def test_test_button_says_success_then_a_clear_failure_that_does_not_echo_the_password(page, airflow, artifacts):
    base, port = emulator_base(airflow)
    stored = add_connection(page, airflow.api_url, "ords_ui_check", base, EMULATOR_USER, EMULATOR_PASSWORD, port)
    assert stored["port"] == port and stored["password"] != EMULATOR_PASSWORD

    answer = press_test_in_list(page, "ords_ui_check")
    body = answer.json()
    assert answer.status == 200 and body["status"] is True, f"{answer.status} {body}"
    assert body["message"].startswith("ORDS Data Pump API reachable at ") and base in body["message"], body
    expect(toast(page, "Test Connection Successful")).to_contain_text("ORDS Data Pump API reachable")
    page.screenshot(path=str(artifacts / "connection-test-success.png"))

    edit_connection(page, "ords_ui_check", password=WRONG_PASSWORD)
    answer = press_test_in_list(page, "ords_ui_check")
    body = answer.json()
    assert answer.status == 200 and body["status"] is False, f"{answer.status} {body}"
    # Clear: names the status ORDS gave and what to check.
    assert "HTTP 401" in body["message"] and "login and password" in body["message"], body
    failure = toast(page, "Test Connection Failed")
    expect(failure).to_contain_text("HTTP 401")
    page.screenshot(path=str(artifacts / "connection-test-failure.png"))
    for secret in (WRONG_PASSWORD, EMULATOR_PASSWORD):
        assert secret not in answer.text(), "the test answer echoes a password"
        assert secret not in page.locator("body").inner_text(), "the page shows a password"


def test_list_test_button_on_a_connection_saved_without_a_port(page, airflow, artifacts):
    """Airflow 3.3.2's list button sends port 0 for a stored connection without a port (fixed after
    3.3.2, apache/airflow#73298); then the API refuses. Filling the Port field is the way out."""
    from airflow import __version__ as airflow_version

    base, port = emulator_base(airflow)
    stored = add_connection(page, airflow.api_url, "ords_no_port", base, EMULATOR_USER, EMULATOR_PASSWORD, None)
    assert stored["port"] is None

    answer = press_test_in_list(page, "ords_no_port")
    sent = answer.request.post_data_json
    if Version(airflow_version) <= Version("3.3.2"):
        assert sent["port"] == 0, sent["port"]
        assert answer.status == 400, f"{answer.status} {answer.text()}"
        assert "The host or port to test differs from the stored connection" in answer.json()["detail"]
        # All the user is told: a red toast saying "Bad Request", the reason only in the response.
        expect(toast(page, "Test Connection Failed")).to_contain_text("Bad Request")
        page.screenshot(path=str(artifacts / "connection-test-port-0.png"))
        print(f"\nAirflow {airflow_version}, connection saved without a port: list Test sent port 0, "
              f"API answered {answer.status} {answer.json()['detail']!r}; the toast: "
              f"{toast(page, 'Test Connection Failed').inner_text()!r}")
    else:
        assert answer.status == 200 and answer.json()["status"] is True, f"{answer.status} {answer.text()}"

    # The way out: repeat the URL's port in the Port field (the password stays the stored one).
    edit_connection(page, "ords_no_port", port=port)
    answer = press_test_in_list(page, "ords_no_port")
    assert answer.status == 200 and answer.json()["status"] is True, f"{answer.status} {answer.text()}"
    expect(toast(page, "Test Connection Successful")).to_be_visible()
