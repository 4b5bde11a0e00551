"""``/api/v1/media/{sha256}`` and ``.../media/{field}/original``, and the ``media`` list
of every item payload (next task, workspace, review, expert queue, adjudication, items)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from tests.factories import (
    SCHEMA,
    Person,
    add_items,
    add_media,
    add_rows,
    clear,
    count,
    grant_level,
    hold,
    make_project,
    make_user,
    snapshot,
)
from tests.web.ui.signin import sign_in

from loupe.client import Client
from loupe.client import NotFound as ClientNotFound
from loupe.db.contributor_models import ReviewTask
from loupe.db.database import Database
from loupe.db.models import Item, Label
from loupe.db.quality_models import Escalation
from loupe.services.compliance.gate import vault_for
from loupe.services.compliance.vault import load_ref_key
from loupe.settings import Settings
from loupe.storage import BlobStore, blob_store_for

IMAGES: dict[str, Any] = {**SCHEMA, "media": ["image"]}
FACE = {"type": "FACE", "x": 10, "y": 20, "width": 50, "height": 60}
# Served bytes that a browser sniffing the content would take for a page.
HTML_LIKE = b"<html><script>alert(1)</script></html>" + bytes(range(256)) * 4


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        lease_seconds=600,
        key_dir=tmp_path / "keys",
        model_dir=tmp_path / "models",
        media_dir=tmp_path / "media",
        refit_interval_seconds=0,
        reveal_min_purpose=10,
    )


@pytest.fixture
def store(settings: Settings) -> BlobStore:
    return blob_store_for(settings)


def _entry(sha: str, **extra: Any) -> dict[str, Any]:
    return {
        "field": "image",
        "kind": "image",
        "url": f"/api/v1/media/{sha}",
        "sha256": sha,
        "mime": "image/png",
        "width": 1,
        "height": 1,
        "regions": [],
        "duration_ms": None,
        "sample_rate": None,
        "restricted": None,
    } | extra


def _project(db: Database, store: BlobStore, members: dict[Person, str]) -> tuple[int, str, str]:
    """A project with two image items (ids 1 and 2); returns it and their blobs' SHAs."""
    project = make_project(db, config=IMAGES, members=members)
    add_items(db, project, 2)
    return project, add_media(db, 1, store=store, data=HTML_LIKE), add_media(db, 2, store=store)


def test_a_leased_image_is_served_with_safe_headers(
    app_client: TestClient, db: Database, store: BlobStore
) -> None:
    ann = make_user(db, "ann")
    project, sha, _ = _project(db, store, {ann: "annotator"})
    hold(db, ann, project, 1)
    url = f"/api/v1/media/{sha}"
    whole = app_client.get(url, headers=ann.headers)
    assert whole.status_code == 200, whole.text
    assert whole.content == HTML_LIKE
    # The type recorded at import, never sniffed from the bytes; private, not cached by others.
    assert whole.headers["content-type"] == "image/png"
    assert whole.headers["x-content-type-options"] == "nosniff"
    assert whole.headers["cache-control"] == "private"
    assert whole.headers["etag"] == f'"{sha}"'
    assert whole.headers["accept-ranges"] == "bytes"
    part = app_client.get(url, headers={**ann.headers, "Range": "bytes=6-13"})
    assert part.status_code == 206
    assert part.content == HTML_LIKE[6:14]
    assert part.headers["content-range"] == f"bytes 6-13/{len(HTML_LIKE)}"
    head = app_client.head(url, headers=ann.headers)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(HTML_LIKE))
    cached = app_client.get(url, headers={**ann.headers, "If-None-Match": f'"{sha}"'})
    assert cached.status_code == 304


def test_who_may_not_fetch_gets_401_or_404_and_bad_input_422(
    app_client: TestClient, db: Database, store: BlobStore
) -> None:
    ann, bob, eve = make_user(db, "ann"), make_user(db, "bob"), make_user(db, "eve")
    project, sha1, sha2 = _project(db, store, {ann: "annotator", bob: "reviewer"})
    other = make_project(db, name="other", config=IMAGES, members={eve: "annotator"})
    add_items(db, other, 1, start=5)
    sha3 = add_media(db, 3, store=store)
    hold(db, ann, project, 1)
    hold(db, eve, other, 3)
    before = snapshot(db)
    assert app_client.get(f"/api/v1/media/{sha1}").status_code == 401
    assert app_client.head(f"/api/v1/media/{sha1}").status_code == 401
    # Not 403: a refusal would confirm that the blob exists.
    for who, sha in [(eve, sha1), (ann, sha2), (ann, sha3), (ann, "0" * 64)]:
        refused = app_client.get(f"/api/v1/media/{sha}", headers=who.headers)
        assert refused.status_code == 404, (who.username, sha)
        assert refused.json()["error"]["code"] == "not_found"
        assert app_client.head(f"/api/v1/media/{sha}", headers=who.headers).status_code == 404
    for bad in ("A" * 64, "abc", "g" * 64, sha1 + "0"):
        assert app_client.get(f"/api/v1/media/{bad}", headers=ann.headers).status_code == 422
    assert snapshot(db) == before


def test_the_browser_session_cookie_fetches_images(
    app_client: TestClient, db: Database, store: BlobStore
) -> None:
    ann = make_user(db, "ann")
    project, sha, other = _project(db, store, {ann: "annotator"})
    hold(db, ann, project, 1)
    sign_in(app_client, db, ann)
    # A safe GET: no CSRF token needed, as for an <img src>.
    assert app_client.get(f"/api/v1/media/{sha}").status_code == 200
    assert app_client.get(f"/api/v1/media/{other}").status_code == 404


def test_a_withheld_or_erased_items_image_is_not_served(
    app_client: TestClient, db: Database, store: BlobStore, settings: Settings
) -> None:
    ann, mgr, aud = make_user(db, "ann"), make_user(db, "mgr", "manager"), make_user(db, "aud")
    admin = make_user(db, "root", "admin")
    project = make_project(
        db, config=IMAGES, members={ann: "annotator", mgr: "manager", aud: "auditor"}
    )
    ref_key = load_ref_key(settings.resolved_key_dir())
    add_rows(db, project, [{"id": "p", "text": "a photo", "subject_id": "alice"}], ref_key=ref_key)
    sha = add_media(db, 1, store=store)
    hold(db, ann, project, 1)
    assert app_client.get(f"/api/v1/media/{sha}", headers=ann.headers).status_code == 200
    with db.transaction() as session:
        session.execute(update(Item).values(withheld=True))
    for who in (ann, aud, mgr, admin):
        assert app_client.get(f"/api/v1/media/{sha}", headers=who.headers).status_code == 404
    # Its manager cleared for its class: the gate could not finish it (text unchecked...).
    clear(db, mgr, project, "personal")
    assert app_client.get(f"/api/v1/media/{sha}", headers=mgr.headers).status_code == 200
    erased = app_client.post(
        "/api/v1/subjects/erase", json={"subject_id": "alice"}, headers=admin.headers
    )
    assert erased.status_code == 200, erased.text
    for who in (ann, mgr, admin):
        assert app_client.get(f"/api/v1/media/{sha}", headers=who.headers).status_code == 404


def test_the_original_is_for_cleared_people_and_audited(
    app_client: TestClient, db: Database, store: BlobStore, settings: Settings
) -> None:
    admin, mgr = make_user(db, "root", "admin"), make_user(db, "mgr", "manager")
    ann = make_user(db, "ann")
    project = make_project(db, config=IMAGES, members={mgr: "manager", ann: "annotator"})
    ref_key = load_ref_key(settings.resolved_key_dir())
    add_rows(db, project, [{"id": "p", "text": "a photo", "subject_id": "alice"}], ref_key=ref_key)
    original = b"the original, face and card number in clear"
    add_media(db, 1, store=store, original=original, vault=vault_for(settings))
    hold(db, ann, project, 1)
    url = f"/api/v1/projects/{project}/items/1/media/image/original"
    why = {"purpose": "checking the face blur"}
    before = snapshot(db)
    assert app_client.get(url, params=why).status_code == 401
    assert app_client.get(url, params=why, headers=ann.headers).status_code == 403
    uncleared = app_client.get(url, params=why, headers=mgr.headers)
    assert uncleared.status_code == 403
    assert "clearance" in uncleared.json()["error"]["message"]
    assert snapshot(db) == before
    grant = app_client.post(
        "/api/v1/clearances",
        json={"user_id": mgr.id, "project_id": project, "sensitivity": "personal"},
        headers=admin.headers,
    )
    assert grant.status_code == 201, grant.text
    before = snapshot(db)
    assert app_client.get(url, headers=mgr.headers).status_code == 422  # no purpose
    assert app_client.get(url, params={"purpose": "x"}, headers=mgr.headers).status_code == 422
    nope = url.replace("/image/", "/nope/")
    assert app_client.get(nope, params=why, headers=mgr.headers).status_code == 404
    assert snapshot(db) == before
    shown = app_client.get(url, params=why, headers=mgr.headers)
    assert shown.status_code == 200, shown.text
    assert shown.content == original
    assert shown.headers["cache-control"] == "no-store"
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert count(db, "audit_log") == before["audit_log"] + 1
    events = app_client.get("/api/v1/audit?limit=1000", headers=admin.headers).json()["items"]
    assert [e["target"] for e in events if e["action"] == "media.reveal"] == ["item:1"]
    # A browser must send the CSRF token: the reveal writes an audit event.
    csrf = sign_in(app_client, db, mgr)
    audited = count(db, "audit_log")
    forged = app_client.get(url, params=why)
    assert forged.status_code == 403
    assert forged.json()["error"]["details"]["reason"] == "csrf"
    assert count(db, "audit_log") == audited
    assert app_client.get(url, params=why, headers={"X-CSRF-Token": csrf}).status_code == 200


def test_next_task_and_workspace_carry_the_media(
    app_client: TestClient, db: Database, store: BlobStore
) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, config=IMAGES, members={ann: "annotator"})
    add_items(db, project, 1)
    sha = add_media(db, 1, store=store, regions=[FACE], size=(1280, 720))
    task = app_client.post(f"/api/v1/projects/{project}/tasks/next", headers=ann.headers)
    assert task.status_code == 200, task.text
    entry = _entry(sha, width=1280, height=720, regions=[FACE])
    assert task.json()["task"]["media"] == [entry]
    served = app_client.post(f"/projects/{project}/work/next", headers=ann.headers)
    assert served.status_code == 200, served.text
    assert served.json()["task"]["media"] == [entry]
    # What the payload points at, the annotator may fetch.
    assert app_client.get(entry["url"], headers=ann.headers).status_code == 200


def test_a_text_project_serves_an_empty_media_list(app_client: TestClient, db: Database) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 1)
    task = app_client.post(f"/api/v1/projects/{project}/tasks/next", headers=ann.headers)
    assert task.json()["task"]["media"] == []


def test_review_expert_and_adjudication_payloads_carry_the_media(
    app_client: TestClient, db: Database, store: BlobStore
) -> None:
    ann, rev = make_user(db, "ann"), make_user(db, "rev", "reviewer")
    expert, mgr = make_user(db, "exp"), make_user(db, "mgr", "manager")
    project, sha1, sha2 = _project(
        db, store, {ann: "annotator", rev: "reviewer", mgr: "manager", expert: "annotator"}
    )
    grant_level(db, expert, "general", 3)
    with db.transaction() as session:
        label = Label(
            project_id=project, item_id=1, user_id=ann.id, answer="call", config_version=1
        )
        session.add(label)
        session.flush()
        session.add(
            ReviewTask(
                label_id=label.id, project_id=project, item_id=1, labeller_id=ann.id, needed=1
            )
        )
        session.add(
            Escalation(
                item_id=2, project_id=project, reason="unsure", confidence=0.4, n_labels=0,
                stage="expert",
            )
        )  # fmt: skip
    review = app_client.post(f"/api/v1/projects/{project}/reviews/next", headers=rev.headers)
    assert review.status_code == 200, review.text
    assert review.json()["review"]["media"] == [_entry(sha1)]
    assert app_client.get(f"/api/v1/media/{sha1}", headers=rev.headers).status_code == 200
    task = app_client.post(f"/api/v1/projects/{project}/expert-tasks/next", headers=expert.headers)
    assert task.status_code == 200, task.text
    assert task.json()["task"]["media"] == [_entry(sha2)]
    assert app_client.get(f"/api/v1/media/{sha2}", headers=expert.headers).status_code == 200
    adjudication = app_client.get(
        f"/projects/{project}/expert/adjudication", params={"item": 2}, headers=mgr.headers
    )
    assert adjudication.status_code == 200, adjudication.text
    assert adjudication.json()["task"]["media"] == [_entry(sha2)]


def test_the_item_api_carries_media_but_not_a_withheld_items_to_auditors(
    app_client: TestClient, db: Database, store: BlobStore
) -> None:
    mgr, aud = make_user(db, "mgr", "manager"), make_user(db, "aud", "auditor")
    project, sha1, sha2 = _project(db, store, {mgr: "manager", aud: "auditor"})
    url = f"/api/v1/projects/{project}/items"
    listed = app_client.get(url, headers=mgr.headers).json()["items"]
    assert [item["media"] for item in listed] == [[_entry(sha1)], [_entry(sha2)]]
    assert app_client.get(f"{url}/1", headers=aud.headers).json()["media"] == [_entry(sha1)]
    with db.transaction() as session:
        session.execute(update(Item).where(Item.id == 1).values(withheld=True))
    assert app_client.get(f"{url}/1", headers=aud.headers).json()["media"] == []
    assert app_client.get(url, headers=aud.headers).json()["items"][0]["media"] == []
    assert app_client.get(f"{url}/1", headers=mgr.headers).json()["media"] == []
    clear(db, mgr, project, "health")
    assert app_client.get(f"{url}/1", headers=mgr.headers).json()["media"] == [_entry(sha1)]


def test_exports_name_media_by_uri_and_sha(
    app_client: TestClient, db: Database, store: BlobStore
) -> None:
    mgr = make_user(db, "mgr", "manager")
    project, sha1, sha2 = _project(db, store, {mgr: "manager"})
    with db.transaction() as session:
        session.execute(update(Item).where(Item.id == 2).values(withheld=True))
    url = f"/api/v1/projects/{project}/export"
    lines = app_client.get(url, headers=mgr.headers).text.splitlines()
    rows = [json.loads(line) for line in lines]
    assert rows[0]["media"] == [
        {
            "field": "image",
            "uri": f"/api/v1/media/{sha1}",
            "sha256": sha1,
            "mime": "image/png",
            "width": 1,
            "height": 1,
            "kind": "image",
            "duration_ms": None,
            "sample_rate": None,
        }
    ]
    assert rows[1]["media"] == []  # withheld: its image is not even named
    assert sha2 not in "".join(lines)
    text = app_client.get(url, params={"format": "csv"}, headers=mgr.headers).text
    header, first = text.splitlines()[:2]
    assert header.split(",")[-1] == "media"
    assert sha1 in first and f"/api/v1/media/{sha1}" in first


def test_the_sdk_reads_media_and_downloads_it(
    app_client: TestClient, db: Database, store: BlobStore
) -> None:
    ann = make_user(db, "ann")
    project, sha, other = _project(db, store, {ann: "annotator"})
    client = Client("http://testserver", ann.token, http=app_client)
    task = client.tasks.next(project)
    assert task is not None
    assert [media.sha256 for media in task.media] == [sha]
    assert task.media[0].url == f"/api/v1/media/{sha}" and task.media[0].mime == "image/png"
    assert client.items.download_media(sha) == HTML_LIKE
    with pytest.raises(ClientNotFound):
        client.items.download_media(other)


def test_the_parquet_export_carries_the_same_media(
    app_client: TestClient, db: Database, store: BlobStore
) -> None:
    pytest.importorskip("pyarrow")
    from loupe.formats_parquet import export_rows

    mgr = make_user(db, "mgr", "manager")
    project, sha1, sha2 = _project(db, store, {mgr: "manager"})
    url = f"/api/v1/projects/{project}/export"
    parquet = app_client.get(url, params={"format": "parquet"}, headers=mgr.headers)
    assert parquet.status_code == 200, parquet.text
    rows = list(export_rows(io.BytesIO(parquet.content)))
    assert [[media["sha256"] for media in row["media"]] for row in rows] == [[sha1], [sha2]]
    jsonl = [
        json.loads(line) for line in app_client.get(url, headers=mgr.headers).text.splitlines()
    ]
    assert [row["media"] for row in rows] == [row["media"] for row in jsonl]
