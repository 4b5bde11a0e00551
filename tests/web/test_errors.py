"""Error bodies name the field and the value refused, but never personal data in it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.factories import make_project, make_user

from loupe.db.database import Database

EMAIL = "canary.fox@example.org"
PHONE = "+44 20 7946 0958"


def _leaks(text: str) -> bool:
    return EMAIL in text or "7946" in text or "Schmidt" in text


def test_a_422_does_not_echo_personal_data_it_refuses(app_client: TestClient, db: Database) -> None:
    """Regression: a shifted CSV column (an e-mail address where the language goes) came
    back verbatim in the 422 (``got 'canary.fox@example.org'``), and from there into
    browser error pages and HTTP clients' logs, past the privacy gate."""
    manager = make_user(db, "mia", role="manager")
    project = make_project(db, members={manager: "manager"})
    base = f"/api/v1/projects/{project}"
    csv = f"id,text,language\nu1,hello,{EMAIL}\n"
    responses = [
        app_client.post(
            f"{base}/items/import",
            content=csv,
            headers={**manager.headers, "content-type": "text/csv"},
        ),
        app_client.post(
            f"{base}/items",
            json={"items": [{"id": "u1", "text": "hello", "domain": PHONE}]},
            headers=manager.headers,
        ),
        # Pydantic's own refusals: an unknown field's name is the caller's key.
        app_client.put(f"{base}/privacy", json={EMAIL: 1}, headers=manager.headers),
    ]
    for response in responses:
        assert response.status_code == 422, response.text
        assert not _leaks(response.text), response.text
    first = responses[0].json()["error"]
    assert first["message"].endswith("got '[EMAIL]'")
    assert first["details"] == {"field": "language"}


def test_a_browsers_error_page_does_not_echo_it_either(
    app_client: TestClient, db: Database
) -> None:
    manager = make_user(db, "mia", role="manager")
    make_project(db, members={manager: "manager"})
    page = app_client.get(f"/projects/{EMAIL}", headers={**manager.headers, "accept": "text/html"})
    assert page.status_code in (404, 422)
    assert not _leaks(page.text)
