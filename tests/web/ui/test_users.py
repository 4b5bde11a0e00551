"""``GET /users`` and its deactivate/reactivate forms (issue #12: deactivation in the UI)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.factories import make_user, snapshot
from tests.web.ui.signin import HTML, sign_in

from loupe.db.database import Database
from loupe.db.models import User
from loupe.db.privacy_models import AuditEvent


def _active(db: Database, user_id: int) -> bool:
    with db.transaction(readonly=True) as session:
        return bool(session.scalar(select(User.is_active).where(User.id == user_id)))


def _row(page: str, user_id: int) -> str:
    found = re.search(rf'<tr id="user-{user_id}">.*?</tr>', page, re.S)
    assert found, page
    return found.group(0)


def test_an_admin_deactivates_and_reactivates_a_user_from_the_page(
    app_client: TestClient, db: Database
) -> None:
    root, maya = make_user(db, "root", "admin"), make_user(db, "maya")
    csrf = sign_in(app_client, db, root)
    page = app_client.get("/users", headers=HTML)
    assert page.status_code == 200
    assert '<a href="/users" aria-current="page">Users</a>' in page.text
    row = _row(page.text, maya.id)
    assert "maya" in row and "active" in row
    assert f'action="/users/{maya.id}/deactivate"' in row and csrf in row
    assert "/deactivate" not in _row(page.text, root.id)  # never oneself

    done = app_client.post(
        f"/users/{maya.id}/deactivate", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == f"/users#user-{maya.id}"
    assert not _active(db, maya.id)
    assert app_client.get("/api/v1/projects", headers=maya.headers).status_code == 401
    row = _row(app_client.get("/users", headers=HTML).text, maya.id)
    assert "deactivated" in row and f'action="/users/{maya.id}/reactivate"' in row

    back = app_client.post(
        f"/users/{maya.id}/reactivate", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert back.status_code == 303
    assert _active(db, maya.id)
    assert app_client.get("/api/v1/projects", headers=maya.headers).status_code == 200
    with db.transaction(readonly=True) as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert actions[-2:] == ["user.deactivate", "user.reactivate"]


@pytest.mark.parametrize("csrf", ["", "forged"])
def test_a_form_without_the_sessions_csrf_token_is_403_and_changes_nothing(
    app_client: TestClient, db: Database, csrf: str
) -> None:
    root, maya = make_user(db, "root", "admin"), make_user(db, "maya")
    sign_in(app_client, db, root)
    before = snapshot(db)
    refused = app_client.post(f"/users/{maya.id}/deactivate", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert "CSRF token" in refused.text
    assert _active(db, maya.id) and snapshot(db) == before


def test_only_admins_may_deactivate_and_others_see_no_buttons(
    app_client: TestClient, db: Database
) -> None:
    boss, maya = make_user(db, "boss", "manager"), make_user(db, "maya")
    csrf = sign_in(app_client, db, boss)
    page = app_client.get("/users", headers=HTML)
    assert page.status_code == 200  # managers may list users
    assert "/deactivate" not in page.text
    before = snapshot(db)
    refused = app_client.post(f"/users/{maya.id}/deactivate", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert _active(db, maya.id) and snapshot(db) == before
    app_client.cookies.clear()
    csrf = sign_in(app_client, db, maya)
    assert app_client.get("/users", headers=HTML).status_code == 403
    assert "/users" not in app_client.get("/", headers=HTML).text  # no link for annotators


def test_refusals_for_oneself_unknown_users_bad_ids_and_no_session(
    app_client: TestClient, db: Database
) -> None:
    root = make_user(db, "root", "admin")
    anonymous = app_client.get("/users", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert app_client.post(f"/users/{root.id}/deactivate", data={}).status_code == 401
    csrf = sign_in(app_client, db, root)
    before = snapshot(db)
    for path, status in [
        (f"/users/{root.id}/deactivate", 403),
        ("/users/9999/deactivate", 404),
        ("/users/0/deactivate", 422),
        ("/users/abc/reactivate", 422),
    ]:
        response = app_client.post(path, data={"csrf_token": csrf})
        assert response.status_code == status, (path, response.text)
    assert _active(db, root.id) and snapshot(db) == before
