"""Text no database can store (NUL, lone surrogates) is a 422 naming the field, on
every route and both databases; nothing is written and the connection stays usable."""

from __future__ import annotations

import json
from typing import Any

import hypothesis
import pytest
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from tests.factories import make_project, make_user, snapshot

from loupe.db.database import Database

# Bodies nested far past the recursion limit: see the fixture.
pytestmark = pytest.mark.usefixtures("default_recursion_limit")

BAD = {"nul": "\x00", "surrogate": "\ud800", "low surrogate": "\udfff"}
LABELS = {"task": {"type": "single_choice", "labels": [{"key": "a"}, {"key": "b"}]}}


def _post(client: TestClient, url: str, body: Any, headers: dict[str, str]) -> Any:
    # json.dumps escapes NUL and surrogates as \u0000 / \ud800: what a client sends.
    content = json.dumps(body)
    return client.post(
        url, content=content, headers={**headers, "content-type": "application/json"}
    )


def _assert_refused(response: Any, field: str, what: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["details"]["field"] == field
    assert error["message"].startswith(f"{field}: ")
    assert what in error["message"]
    assert "remove it" in error["message"]


def _cases(project_id: int) -> list[tuple[str, Any, str]]:
    items = f"/api/v1/projects/{project_id}/items"
    return [
        ("/api/v1/projects", {"name": "p{}", "config": LABELS}, "name"),
        (
            "/api/v1/projects",
            {"name": "ok", "config": {"task": {**LABELS["task"], "instructions": "x{}"}}},
            "config.task.instructions",
        ),
        (items, {"items": [{"id": "a", "text": "hello{}"}]}, "items.0.text"),
        (items, {"items": [{"id": "a{}", "text": "hello"}]}, "items.0.id"),
        (
            items,
            {"items": [{"id": "a", "text": "hi", "metadata": {"k": "v{}"}}]},
            "items.0.metadata.k",
        ),
        (items, {"items": [{"id": "a", "text": "hi", "metadata": {"k{}": 1}}]}, "items.0.metadata"),
    ]


@pytest.mark.parametrize("kind", list(BAD))
def test_json_bodies_with_unstorable_text_are_422_and_write_nothing(
    app_client: TestClient, db: Database, kind: str
) -> None:
    admin = make_user(db, "admin", "admin")
    project = make_project(db)
    before = snapshot(db)
    for url, template, field in _cases(project):
        body = json.loads(json.dumps(template).replace("{}", json.dumps(BAD[kind])[1:-1]))
        response = _post(app_client, url, body, admin.headers)
        what = "NUL character" if kind == "nul" else "unpaired surrogate"
        _assert_refused(response, field, what)
        # The same keep-alive client goes on working.
        assert app_client.get("/api/v1/projects", headers=admin.headers).status_code == 200
    assert snapshot(db) == before
    ok = _post(app_client, "/api/v1/projects", {"name": "fine", "config": LABELS}, admin.headers)
    assert ok.status_code == 201, ok.text


def test_query_strings_and_paths_with_nul_are_422(app_client: TestClient, db: Database) -> None:
    admin = make_user(db, "admin", "admin")
    response = app_client.get("/api/v1/audit?action=%00x", headers=admin.headers)
    _assert_refused(response, "action", "NUL character")
    response = app_client.get("/api/v1/contributors?domain=a%00", headers=admin.headers)
    _assert_refused(response, "domain", "NUL character")
    response = app_client.get("/api/v1/users/1%00/tokens", headers=admin.headers)
    _assert_refused(response, "path", "NUL character")
    assert app_client.get("/api/v1/audit?action=x", headers=admin.headers).status_code == 200


def test_sign_in_form_with_nul_is_422(app_client: TestClient, db: Database) -> None:
    before = snapshot(db)
    response = app_client.post(
        "/login", data={"username": "ad\x00min", "password": "x"}, follow_redirects=False
    )
    assert response.status_code == 422, response.text
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("application/x-ndjson", '{"id": "a", "text": "ok"}\n{"id": "b", "text": "x\\u0000"}\n'),
        ("application/x-ndjson", '{"id": "a", "text": "ok"}\n{"id": "b\\ud83d", "text": "x"}\n'),
        ("text/csv", "id,text\na,ok\nb,x\x00y\n"),
    ],
)
def test_uploads_with_unstorable_text_name_the_line_and_write_nothing(
    app_client: TestClient, db: Database, content_type: str, payload: str
) -> None:
    admin = make_user(db, "admin", "admin")
    project = make_project(db)
    before = snapshot(db)
    response = app_client.post(
        f"/api/v1/projects/{project}/items/import",
        content=payload.encode(),
        headers={**admin.headers, "content-type": content_type},
    )
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert message.startswith("upload: line 3: ") or message.startswith("upload: line 2: ")
    assert "remove it" in message
    assert snapshot(db) == before
    assert app_client.get("/api/v1/projects", headers=admin.headers).status_code == 200


# Every JSON body the API accepts, with a bad character spliced into a random string
# (a value or a key), is refused with the field named: never a 5xx, never a write.
BODIES: list[tuple[str, dict[str, Any]]] = [
    ("/api/v1/projects", {"name": "proj", "config": LABELS}),
    (
        "/api/v1/projects/{project}/items",
        {
            "items": [
                {
                    "id": "u1",
                    "text": "call mum",
                    "language": "en",
                    "metadata": {"source": "app", "tags": ["a", "b"]},
                }
            ]
        },
    ),
    ("/api/v1/users", {"username": "newuser", "role": "annotator"}),
]


def _strings(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], bool]]:
    """Paths to every string in ``value``: ``(path, is_key)``."""
    found: list[tuple[tuple[Any, ...], bool]] = []
    if isinstance(value, str):
        found.append((path, False))
    elif isinstance(value, dict):
        for key, child in value.items():
            found.append(((*path, key), True))
            found += _strings(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _strings(child, (*path, index))
    return found


def _splice(body: Any, path: tuple[Any, ...], is_key: bool, char: str, at: int) -> Any:
    if not path:
        return body[:at] + char + body[at:] if isinstance(body, str) else body
    head, rest = path[0], path[1:]
    if isinstance(body, list):
        return [_splice(v, rest, is_key, char, at) if i == head else v for i, v in enumerate(body)]
    out: dict[str, Any] = {}
    for key, child in body.items():
        if key == head and is_key and not rest:
            at = min(at, len(key))
            out[key[:at] + char + key[at:]] = child
        elif key == head:
            out[key] = _splice(child, rest, is_key, char, at)
        else:
            out[key] = child
    return out


@pytest.mark.slow
def test_fuzzed_bodies_with_unstorable_text_are_always_422(
    app_client: TestClient, db: Database
) -> None:
    admin = make_user(db, "admin", "admin")
    project = make_project(db)
    before = snapshot(db)
    for url, body in BODIES:
        _fuzz(app_client, url.format(project=project), body, admin.headers)
        assert app_client.get("/api/v1/projects", headers=admin.headers).status_code == 200
    assert snapshot(db) == before


def _fuzz(client: TestClient, url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
    @hypothesis.given(
        spot=st.sampled_from(_strings(body)),
        char=st.sampled_from(["\x00", *[chr(c) for c in (0xD800, 0xDBFF, 0xDC00, 0xDFFF)]]),
        at=st.integers(0, 10),
    )
    @hypothesis.settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(spot: tuple[tuple[Any, ...], bool], char: str, at: int) -> None:
        bad = _splice(body, spot[0], spot[1], char, at)
        response = _post(client, url, bad, headers)
        assert response.status_code == 422, (bad, response.text)
        error = response.json()["error"]
        assert error["details"]["field"], error
        assert "remove it" in error["message"]

    fuzz()


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def _deep_in(template: str, levels: int) -> str:
    """``template`` with its ``@`` replaced by arrays ``levels`` deep."""
    return template.replace("@", _deep(levels))


def _labelling(client: TestClient, db: Database) -> tuple[Any, Any, str, str]:
    admin, annotator = make_user(db, "admin", "admin"), make_user(db, "ann")
    project = make_project(db, members={annotator: "annotator"})
    items = f"/api/v1/projects/{project}/items"
    added = client.post(items, json={"items": [{"id": "a", "text": "hi"}]}, headers=admin.headers)
    assert added.status_code == 200, added.text
    task = client.post(f"/api/v1/projects/{project}/tasks/next", headers=annotator.headers)
    submit = f"/api/v1/projects/{project}/items/{task.json()['task']['item_id']}/labels"
    return admin, annotator, items, submit


@pytest.mark.parametrize(
    ("target", "body", "field", "what"),
    [
        # Deeper than Python's parser goes: it raised RecursionError (a 500 on the hot path).
        ("submit", _deep_in('{"answer": @}', 100_000), "body", "nested more than 64 levels"),
        ("items", _deep_in('{"items": @}', 5_000), "body", "nested more than 64 levels"),
        # Parsed, but deeper than the privacy gate's walk (a 500 from the gate).
        (
            "items",
            _deep_in('{"items": [{"id": "b", "text": "x", "metadata": {"k": @}}]}', 500),
            "items.0.metadata.k.0",
            "nested more than 64 levels",
        ),
        # Python reads NaN, Infinity and 1e400; no database's JSON holds them (SQLite kept
        # NaN, shown as null, exported as invalid JSON; PostgreSQL refused them: a 500).
        (
            "items",
            '{"items": [{"id": "b", "text": "x", "metadata": {"k": NaN}}]}',
            "items.0.metadata.k",
            "not a finite number",
        ),
        (
            "items",
            '{"items": [{"id": "b", "text": "x", "score": -Infinity}]}',
            "items.0.score",
            "not a finite number",
        ),
        (
            "items",
            '{"items": [{"id": "b", "text": "x", "metadata": {"k": [1e400]}}]}',
            "items.0.metadata.k.0",
            "not a finite number",
        ),
        ("submit", '{"answer": NaN}', "answer", "not a finite number"),
        # FastAPI's bare 400 "There was an error parsing the body" said nothing to fix.
        ("submit", b'{"answer": "\xff"}', "body", "not UTF-8"),
        (
            "items",
            '{"items": [{"id": "b", "text": "x", "n": @}]}'.replace("@", "1" * 5000),
            "body",
            "4300",
        ),
    ],
)
def test_unreadable_or_unstorable_json_is_422_naming_the_field(
    app_client: TestClient, db: Database, target: str, body: str | bytes, field: str, what: str
) -> None:
    admin, annotator, items, submit = _labelling(app_client, db)
    url, who = (submit, annotator) if target == "submit" else (items, admin)
    before = snapshot(db)
    response = app_client.post(
        url, content=body, headers={**who.headers, "content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["details"]["field"].startswith(field)
    assert error["message"].startswith(f"{error['details']['field']}: ")
    assert what in error["message"]
    assert snapshot(db) == before
    # A body just as deep as allowed still goes through.
    ok = app_client.post(
        items,
        json={"items": [{"id": "c", "text": "x", "metadata": {"k": json.loads(_deep(60))}}]},
        headers=admin.headers,
    )
    assert ok.status_code == 200, ok.text
    assert app_client.post(submit, json={"answer": "call"}, headers=annotator.headers).is_success


@pytest.mark.parametrize(
    ("payload", "where", "what"),
    [
        (
            _deep_in('{"id": "a", "text": "ok"}\n{"id": "b", "text": "x", "m": @}\n', 5_000),
            "line 2",
            "nested more than 64 levels",
        ),
        (
            _deep_in('{"id": "a", "text": "ok"}\n{"id": "b", "text": "x", "m": @}\n', 200),
            "line 2",
            "nested more than 64 levels",
        ),
        (
            '{"id": "a", "text": "ok"}\n{"id": "b", "text": "x", "m": NaN}\n',
            "line 2",
            "NaN is not a JSON number",
        ),
        (
            _deep_in('[{"id": "a", "text": "ok"}, {"id": "b", "text": "x", "m": @}]', 5_000),
            "index 1",
            "nested more than 64 levels",
        ),
    ],
)
def test_uploads_too_deep_or_not_finite_name_the_row_and_write_nothing(
    app_client: TestClient, db: Database, payload: str, where: str, what: str
) -> None:
    admin = make_user(db, "admin", "admin")
    project = make_project(db)
    before = snapshot(db)
    response = app_client.post(
        f"/api/v1/projects/{project}/items/import",
        content=payload.encode(),
        headers={**admin.headers, "content-type": "application/x-ndjson"},
    )
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert message.startswith(f"upload: {where}: "), message
    assert what in message
    assert snapshot(db) == before
