"""``loupe users password USERNAME``: sets a web UI password from stdin (or a prompt)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import text
from tests.cli_run import run
from tests.factories import make_user

from loupe.db.database import Database
from loupe.services.people.users import verify_password


def test_password_from_stdin_lets_the_user_sign_in(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    db: Database,
) -> None:
    make_user(db, "maya")
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    code, out, _ = run(capsys, "users", "password", "maya", "--database-url", database_url)
    assert code == 0, out
    assert "password set for 'maya'" in out
    with db.transaction(readonly=True) as session:
        assert verify_password(session, username="maya", password="correct horse battery")
        stored = session.execute(text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("scrypt$16384$8$1$") and "correct" not in stored


def test_a_short_password_is_refused(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    db: Database,
) -> None:
    make_user(db, "maya")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, out, err = run(capsys, "users", "password", "maya", "--database-url", database_url)
    assert code == 2
    assert "password: use 8 to 1024 characters" in out + err
