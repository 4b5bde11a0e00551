"""Error bodies name the field and the value refused, but never personal data in it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from tests.factories import make_project, make_user

from loupe.db.database import Database
from loupe.errors import Conflict
from loupe.web.errors import install_error_handlers

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


def _duplicate_write(db: Database) -> None:
    """Two transactions inserting the same key: what two requests creating the same thing
    at once do once both passed the service's "is it taken?" check."""
    with db.transaction() as session:
        session.execute(text("CREATE TABLE raced (k VARCHAR(40) PRIMARY KEY)"))
    try:
        for _ in range(2):
            with db.transaction() as session:
                session.execute(text("INSERT INTO raced (k) VALUES (:k)"), {"k": EMAIL})
    finally:  # the PostgreSQL test database outlives the test; its tables are the app's
        with db.transaction() as session:
            session.execute(text("DROP TABLE raced"))


def test_a_unique_constraint_lost_to_a_concurrent_write_is_a_409_not_a_500(
    db: Database,
) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/api/v1/raced")
    def raced() -> None:
        _duplicate_write(db)

    response = TestClient(app, raise_server_exceptions=False).post("/api/v1/raced")
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "conflict"
    assert "retry" in response.json()["error"]["message"]
    assert not _leaks(response.text)


def test_the_cli_says_so_in_one_line(db: Database) -> None:
    from loupe.cli import _unavailable

    with pytest.raises(IntegrityError) as raised:
        _duplicate_write(db)
    mapped = _unavailable(raised.value)
    assert isinstance(mapped, Conflict)
    assert "\n" not in mapped.message and EMAIL not in mapped.message
