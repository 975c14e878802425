"""What a user does in Airflow 3.3's Connections page, one helper per gesture.

Fields are found by their label inside the dialog (the sidebar has a "User" button, so page-wide
label searches can hit it). Results are read from the HTTP responses the clicks cause: the list's
Test button shows its verdict only as an icon colour and a toast that vanishes.
"""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page, Response, expect

from airflow_provider_datapump.get_provider_info import get_provider_info

CONNECTION_TYPE = get_provider_info()["connection-types"][0]
HOOK_NAME = CONNECTION_TYPE["hook-name"]
BEHAVIOUR = CONNECTION_TYPE["ui-field-behaviour"]


def label(field: str) -> str:
    """The label the form shows for a standard field: the provider's, else Airflow's."""
    defaults = {"host": "Host", "port": "Port", "schema": "Schema", "login": "Login", "password": "Password"}
    return BEHAVIOUR.get("relabeling", {}).get(field, defaults[field])


def open_connections(page: Page, api_url: str) -> None:
    page.goto(f"{api_url}/connections")
    expect(page.get_by_role("button", name="Add Connection")).to_be_visible()


def open_add_dialog(page: Page, api_url: str) -> Locator:
    open_connections(page, api_url)
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Add Connection")).to_be_visible()
    return dialog


def choose_ords(page: Page, dialog: Locator) -> None:
    # A react-select: its placeholder swallows clicks aimed at it, so click the combobox, type, Enter.
    dialog.get_by_role("combobox", name="Connection Type").click()
    page.keyboard.type("ORDS")
    expect(page.get_by_role("option", name=HOOK_NAME)).to_be_visible()
    page.keyboard.press("Enter")
    expect(dialog.get_by_text("Standard Fields")).to_be_visible()


def fill(dialog: Locator, *, conn_id: str | None = None, host: str | None = None, login: str | None = None,
         password: str | None = None, port: int | None = None) -> None:
    if conn_id is not None:
        dialog.get_by_label("Connection ID").fill(conn_id)
    for field, value in (("host", host), ("login", login), ("password", password), ("port", port)):
        if value is not None:
            dialog.get_by_label(label(field), exact=True).fill(str(value))


def add_connection(page: Page, api_url: str, conn_id: str, host: str, login: str, password: str,
                   port: int | None) -> dict:
    """Add Connection → ORDS → fill → Save; returns the stored connection as the API answered."""
    dialog = open_add_dialog(page, api_url)
    fill(dialog, conn_id=conn_id)
    choose_ords(page, dialog)
    fill(dialog, host=host, login=login, password=password, port=port)
    return save(page, dialog, "POST", "/api/v2/connections", 201)


def edit_connection(page: Page, conn_id: str, **values) -> dict:
    row(page, conn_id).get_by_role("button", name="Edit Connection").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Edit Connection")).to_be_visible()
    fill(dialog, **values)
    return save(page, dialog, "PATCH", f"/api/v2/connections/{conn_id}", 200)


def save(page: Page, dialog: Locator, method: str, path: str, status: int) -> dict:
    with page.expect_response(lambda r: r.request.method == method and urlsplit(r.url).path == path) as answer:
        dialog.get_by_role("button", name="Save").click()
    response = answer.value
    assert response.status == status, f"{method} {path} answered {response.status}: {response.text()}"
    expect(dialog).to_be_hidden()
    return response.json()


def row(page: Page, conn_id: str) -> Locator:
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=conn_id, exact=True))


def press_test_in_list(page: Page, conn_id: str) -> Response:
    """Click the list row's "Test Connection" and return the POST /api/v2/connections/test answer."""
    button = row(page, conn_id).get_by_role("button", name="Test Connection")
    expect(button).to_be_enabled()
    with page.expect_response(
        lambda r: r.request.method == "POST" and urlsplit(r.url).path == "/api/v2/connections/test"
    ) as answer:
        button.click()
    return answer.value



def toast(page: Page, title: str) -> Locator:
    return page.locator('[data-scope="toast"][data-part="root"]').filter(has_text=title).last


def side_by_side(page: Page, images: list[Path], out: Path) -> None:
    """Compose screenshots into one image in the browser itself (no image library needed)."""
    tags = "".join(
        f'<img src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}">' for p in images
    )
    page.set_content(
        '<html><body style="margin:0;background:#fff"><div style="display:flex;gap:16px;'
        f'align-items:flex-start;padding:8px;width:max-content">{tags}</div></body></html>'
    )
    page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    page.locator("div").first.screenshot(path=str(out))
