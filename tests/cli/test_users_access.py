"""``loupe users deactivate|reactivate`` and ``loupe users token --expires-days`` (issue #12)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.factories import make_user

from loupe.cli import main
from loupe.db.database import Database
from loupe.db.models import ApiToken, User


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, _ = capsys.readouterr()
    return code, out


def test_deactivate_and_reactivate(
    capsys: pytest.CaptureFixture[str], database_url: str, db: Database
) -> None:
    maya = make_user(db, "maya")
    code, out = _run(capsys, "users", "deactivate", "maya", "--database-url", database_url)
    assert code == 0, out
    with db.transaction(readonly=True) as session:
        user = session.get(User, maya.id)
        assert user is not None and not user.is_active
    code, out = _run(capsys, "users", "reactivate", "maya", "--database-url", database_url)
    assert code == 0, out
    with db.transaction(readonly=True) as session:
        user = session.get(User, maya.id)
        assert user is not None and user.is_active
    code, _ = _run(capsys, "users", "deactivate", "nobody", "--database-url", database_url)
    assert code != 0


def test_a_token_with_an_expiry(
    capsys: pytest.CaptureFixture[str], database_url: str, db: Database
) -> None:
    make_user(db, "maya")
    argv = ("users", "token", "maya", "--expires-days", "2", "--database-url", database_url)
    code, out = _run(capsys, *argv)
    assert code == 0, out
    assert "expires" in out
    with db.transaction(readonly=True) as session:
        newest = session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()
        assert newest is not None and newest.expires_at is not None
    bad = ("users", "token", "maya", "--expires-days", "0", "--database-url", database_url)
    assert _run(capsys, *bad)[0] == 2
