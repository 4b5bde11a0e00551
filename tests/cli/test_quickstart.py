"""``loupe quickstart``: a seeded project with a way into both the API and the web UI."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from tests.cli_run import run
from tests.factories import count
from tests.web.ui.signin import login_token

from loupe.db.database import Database


def test_quickstart_prints_a_web_ui_sign_in_that_works(
    capsys: pytest.CaptureFixture[str], database_url: str, app_client: TestClient, db: Database
) -> None:
    """Regression (#19): quickstart printed API tokens only; no password was ever set."""
    code, out, err = run(
        capsys, "quickstart", "--no-serve", "--items", "5", "--database-url", database_url
    )
    assert code == 0, err
    assert "sign in at http://127.0.0.1:8000/login" in out
    found = re.search(r"^\s+qs-annotator / (\S+)$", out, re.MULTILINE)
    assert found is not None, out
    assert count(db, "items") == 5
    signed_in = app_client.post(
        "/login",
        data={
            "username": "qs-annotator",
            "password": found.group(1),
            "csrf_token": login_token(app_client),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303, signed_in.text
    assert any(c.startswith("loupe_session=") for c in signed_in.headers.get_list("set-cookie"))
    # A second run seeds nothing and says how to get a new password.
    code, out, _ = run(capsys, "quickstart", "--no-serve", "--database-url", database_url)
    assert code == 0
    assert "loupe users password qs-annotator" in out
    assert count(db, "items") == 5
