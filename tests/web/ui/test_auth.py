"""Signing in and out of the web UI; CSRF on every form; 401 and 403 as pages."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update
from tests.factories import count, make_project, make_user, snapshot
from tests.web.ui.signin import HTML, PASSWORD, give_password, login_token, sign_in

from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.db.session_models import BrowserSession
from loupe.settings import Settings
from loupe.web.app import create_app
from loupe.web.ui.auth import safe_next


def test_pages_send_the_signed_out_browser_to_sign_in(app_client: TestClient) -> None:
    response = app_client.get("/projects/1/work?x=1", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/projects/1/work%3Fx%3D1"
    # A JSON client (the workspace's fetch) gets the JSON error instead.
    response = app_client.post("/projects/1/work/next")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_login_page_is_accessible_and_sets_a_login_csrf_cookie(app_client: TestClient) -> None:
    page = app_client.get("/login?next=/wallet")
    assert page.status_code == 200
    assert '<label for="username">' in page.text and '<label for="password">' in page.text
    assert 'name="next" value="/wallet"' in page.text
    cookie = page.headers["set-cookie"]
    assert "loupe_login_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_sign_in_sets_an_httponly_lax_cookie_backed_by_a_row(
    app_client: TestClient, db: Database
) -> None:
    maya = make_user(db, "maya")
    give_password(db, maya)
    response = app_client.post(
        "/login",
        data={
            "username": "maya",
            "password": PASSWORD,
            "csrf_token": login_token(app_client),
            "next": "/wallet",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/wallet"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("loupe_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Max-Age=43200" in cookie
    assert "Secure" not in cookie  # plain HTTP (a laptop, the tests) must keep its session
    assert count(db, "browser_sessions") == 1
    home = app_client.get("/")
    assert home.status_code == 200
    assert "maya" in home.text and "Sign out" in home.text


def test_cookies_are_secure_when_the_request_came_over_https(
    settings: Settings, db: Database
) -> None:
    # They were Secure only with LOUPE_SESSION_COOKIE_SECURE=true: a TLS deployment that
    # forgot it sent the session cookie with any plain-HTTP request to the same host.
    maya = make_user(db, "maya")
    give_password(db, maya)
    with TestClient(create_app(settings), base_url="https://loupe.example") as client:
        form = client.get("/login")
        assert "Secure" in form.headers["set-cookie"]
        response = client.post(
            "/login",
            data={"username": "maya", "password": PASSWORD, "csrf_token": login_token(client)},
            follow_redirects=False,
        )
        assert response.status_code == 303
        cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("loupe_session=")
        )
        assert "Secure" in cookie and "HttpOnly" in cookie


def test_wrong_password_and_unknown_user_read_the_same(
    app_client: TestClient, db: Database
) -> None:
    give_password(db, make_user(db, "maya"))
    for username, password in [("maya", "wrong password"), ("nobody", PASSWORD)]:
        response = app_client.post(
            "/login",
            data={
                "username": username,
                "password": password,
                "csrf_token": login_token(app_client),
            },
        )
        assert response.status_code == 401
        # Regression (issue #15): the error quoted a CLI command and cleared the username.
        assert "Wrong username or password." in response.text
        assert "loupe users" not in response.text
        assert f'value="{username}"' in response.text
    assert count(db, "browser_sessions") == 0


def test_sign_in_without_the_form_token_is_refused_and_changes_nothing(
    app_client: TestClient, db: Database
) -> None:
    give_password(db, make_user(db, "maya"))
    login_token(app_client)  # the cookie half is there; the form half is not
    before = count(db, "browser_sessions")
    response = app_client.post(
        "/login", data={"username": "maya", "password": PASSWORD}, headers=HTML
    )
    assert response.status_code == 403
    assert "did not come from this site" in response.text
    assert count(db, "browser_sessions") == before == 0


def test_a_stale_sign_in_form_answers_with_a_fresh_one(
    app_client: TestClient, db: Database
) -> None:
    # Two sign-in tabs: the second replaced the token cookie, so the first tab's form was
    # refused with a dead-end error page; now it is refused with a form to sign in from.
    give_password(db, make_user(db, "maya"))
    first_tab = login_token(app_client)
    login_token(app_client)
    stale = app_client.post(
        "/login",
        data={"username": "maya", "password": PASSWORD, "csrf_token": first_tab, "next": "/me"},
        headers=HTML,
    )
    assert stale.status_code == 403 and "another sign-in tab" in stale.text
    assert 'value="maya"' in stale.text and 'name="next" value="/me"' in stale.text
    assert count(db, "browser_sessions") == 0
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', stale.text)
    assert fresh and fresh.group(1) != first_tab
    again = app_client.post(
        "/login",
        data={
            "username": "maya",
            "password": PASSWORD,
            "csrf_token": fresh.group(1),
            "next": "/me",
        },
        follow_redirects=False,
    )
    assert again.status_code == 303 and again.headers["location"] == "/me"


def test_sign_out_needs_the_session_token(app_client: TestClient, db: Database) -> None:
    maya = make_user(db, "maya")
    csrf = sign_in(app_client, db, maya)
    before = snapshot(db)
    refused = app_client.post("/logout", data={}, headers=HTML)
    assert refused.status_code == 403
    assert snapshot(db) == before
    assert count(db, "browser_sessions") == 1
    assert app_client.get("/", headers=HTML, follow_redirects=False).status_code == 200

    done = app_client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert count(db, "browser_sessions") == 0
    assert app_client.get("/", headers=HTML, follow_redirects=False).status_code == 303


def test_an_expired_session_signs_nobody_in(app_client: TestClient, db: Database) -> None:
    sign_in(app_client, db, make_user(db, "maya"))
    with db.transaction() as session:
        session.execute(update(BrowserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = app_client.get("/", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    # Regression (issue #15): the sign-in form did not say why it was shown.
    assert response.headers["location"] == "/login?next=/&expired=1"
    assert "Your session has expired" in app_client.get(response.headers["location"]).text
    app_client.cookies.clear()
    fresh = app_client.get("/", headers=HTML, follow_redirects=False)
    assert fresh.headers["location"] == "/login?next=/"  # no session: nothing expired
    assert "expired" not in app_client.get(fresh.headers["location"]).text


def test_a_deactivated_user_cannot_sign_in_or_keep_a_session(
    app_client: TestClient, db: Database
) -> None:
    maya = make_user(db, "maya")
    sign_in(app_client, db, maya)
    with db.transaction() as session:
        from loupe.db.models import User

        session.execute(update(User).where(User.id == maya.id).values(is_active=False))
    assert app_client.get("/", headers=HTML, follow_redirects=False).status_code == 303


def test_next_only_goes_to_this_site() -> None:
    assert safe_next("/projects/1/work") == "/projects/1/work"
    for hostile in ["https://evil.example/", "//evil.example", "/\\evil.example", "", None]:
        assert safe_next(hostile) == "/"


def test_forbidden_pages_are_html_403s(app_client: TestClient, db: Database) -> None:
    maya = make_user(db, "maya")
    project = make_project(db, members={maya: "annotator"})
    sign_in(app_client, db, maya)
    for path in [f"/projects/{project}/dashboard", "/audit"]:
        response = app_client.get(path, headers=HTML)
        assert response.status_code == 403, path
        assert "text/html" in response.headers["content-type"]
        assert "may not" in response.text
        # Regression (issue #15): the 403 page had no header (who is signed in, the nav).
        assert '<span class="who">maya' in response.text and "Sign out" in response.text
    missing = app_client.get("/projects/999/work", headers=HTML)
    assert missing.status_code == 404
    assert "project 999 does not exist" in missing.text


def test_a_locked_account_says_for_how_long_and_keeps_the_username(
    app_client: TestClient, db: Database
) -> None:
    give_password(db, make_user(db, "maya"))
    for _ in range(5):
        app_client.post(
            "/login",
            data={"username": "maya", "password": "no", "csrf_token": login_token(app_client)},
        )
    locked = app_client.post(
        "/login",
        data={"username": "maya", "password": PASSWORD, "csrf_token": login_token(app_client)},
    )
    assert locked.status_code == 429
    wait = int(locked.headers["Retry-After"])
    # Regression (issue #15): it quoted a CLI command and cleared the username.
    assert f"This account is locked for {wait} s after too many failed sign-ins." in locked.text
    assert "loupe users" not in locked.text and 'value="maya"' in locked.text
    assert count(db, "browser_sessions") == 0
