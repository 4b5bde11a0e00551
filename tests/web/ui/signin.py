"""Signing a test person in to the web UI (plain functions, like ``tests.factories``)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from tests.factories import Person

from loupe.db.database import Database
from loupe.services.access import Actor
from loupe.services.people import users

PASSWORD = "correct horse battery"
HTML = {"Accept": "text/html"}


def give_password(db: Database, person: Person, password: str = PASSWORD) -> None:
    with db.transaction() as session:
        users.set_password(session, Actor.system(), user_id=person.id, password=password)


def login_token(client: TestClient) -> str:
    page = client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_in(client: TestClient, db: Database, person: Person) -> str:
    """Give ``person`` a password, sign in through the form; return the session's CSRF token."""
    give_password(db, person)
    response = client.post(
        "/login",
        data={"username": person.username, "password": PASSWORD, "csrf_token": login_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return page_csrf(client)


def page_csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert found
    return found.group(1)
