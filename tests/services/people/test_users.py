"""Passwords: a failed sign-in costs the same whichever way it failed."""

from __future__ import annotations

from typing import Any

import pytest
from tests.factories import make_user
from tests.web.ui.signin import give_password

from loupe.db.database import Database
from loupe.errors import Unauthenticated
from loupe.services.access import Actor
from loupe.services.people import users


def test_a_failed_sign_in_hashes_once_whether_or_not_the_user_has_a_password(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A user without a password (API tokens only) was refused without hashing: ~1 ms
    # against ~50 ms for an unknown name, so the time told which usernames exist.
    make_user(db, "apibot")
    maya = make_user(db, "maya")
    give_password(db, maya)
    gone = make_user(db, "gone")
    give_password(db, gone)
    with db.transaction() as session:
        users.set_active(session, Actor.system(), user_id=gone.id, active=False)
    calls: list[int] = []
    real = users._scrypt

    def counted(*args: Any, **kwargs: Any) -> bytes:
        calls.append(1)
        return real(*args, **kwargs)

    with db.transaction(readonly=True) as session:
        with pytest.raises(Unauthenticated):  # makes the dummy hash, once per process
            users.verify_password(session, username="nobody", password="wrong password")
        monkeypatch.setattr(users, "_scrypt", counted)
        for username in ("nobody", "apibot", "maya", "gone"):
            calls.clear()
            with pytest.raises(Unauthenticated) as refused:
                users.verify_password(session, username=username, password="wrong password")
            assert len(calls) == 1, username
            assert "username or password is wrong" in refused.value.message
