"""Nothing the app serves loads code or styles from another origin (Swagger UI used to
pull its scripts from a CDN onto the app's origin)."""

from __future__ import annotations

import re
from collections import deque

from fastapi.testclient import TestClient
from tests.factories import add_items, make_project, make_user
from tests.web.ui.signin import HTML, sign_in

from loupe.db.database import Database

# An attribute or CSS url() that makes a browser fetch from another origin.
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?|url\(\s*["']?|@import\s+["']?)"""
    r"""((?:https?:)?//[^/"')\s]*)""",
    re.IGNORECASE,
)
LINK = re.compile(r"""\b(?:href|src)\s*=\s*["'](?:https?://testserver)?(/[^"'#?]*)""", re.I)
OWN = {"//testserver", "http://testserver", "https://testserver"}


def _foreign(page: str) -> list[str]:
    """Origins other than the app's own (TestClient's ``testserver``) that ``page`` loads."""
    return [origin for origin in EXTERNAL.findall(page) if origin.lower() not in OWN]


def test_api_docs_pages_are_not_served_but_the_contract_is(app_client: TestClient) -> None:
    for path in ("/api/v1/docs", "/api/v1/redoc", "/docs", "/redoc"):
        assert app_client.get(path, headers=HTML).status_code == 404, path
    contract = app_client.get("/api/v1/openapi.json")
    assert contract.status_code == 200
    assert contract.json()["info"]["title"] == "Loupe"


def test_no_page_or_asset_references_another_origin(app_client: TestClient, db: Database) -> None:
    admin = make_user(db, "admin", "admin")
    project = make_project(db, members={admin: "manager"})
    add_items(db, project, 3)
    login = app_client.get("/login", headers=HTML)
    assert _foreign(login.text) == []
    assert "/static/" in login.text
    sign_in(app_client, db, admin)

    seen: set[str] = set()
    queue = deque(
        ["/", "/api/v1/docs", f"/projects/{project}/work", f"/projects/{project}/dashboard"]
    )
    while queue and len(seen) < 60:
        path = queue.popleft()
        if path in seen or "logout" in path:
            continue
        seen.add(path)
        response = app_client.get(path, headers=HTML)
        kind = response.headers.get("content-type", "")
        if response.status_code != 200 or not any(k in kind for k in ("html", "css", "javascript")):
            continue
        assert _foreign(response.text) == [], path
        queue.extend(LINK.findall(response.text))
    assert any(path.startswith("/static/") for path in seen), seen
    assert len(seen) > 5, seen
