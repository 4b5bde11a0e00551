"""Audio over the API: multipart upload, and raw audio served (ranged, audited per
playback) only to people who may read the item AND hold a live voice clearance; every
payload for anyone else names the part without its URL or SHA-256."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests.audio_samples import SECRET, TRAILER, can_write, tagged, tone, with_trailer
from tests.factories import Person, count, hold, make_project, make_user, snapshot

from loupe.db.database import Database
from loupe.db.media_models import ItemMedia
from loupe.db.models import utcnow
from loupe.db.privacy_models import AuditEvent, Clearance
from loupe.settings import Settings
from loupe.web.app import create_app

mutagen = pytest.importorskip("mutagen", reason="the audio extra is not installed")
pytest.importorskip("soundfile", reason="the audio extra is not installed")

AUDIO: dict[str, Any] = {
    "task": {"type": "single_choice", "labels": [{"key": "weather"}, {"key": "music"}]},
    "media": ["audio"],
}


@pytest.fixture
def client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    config = settings.model_copy(update={"media_dir": tmp_path / "media"})
    with TestClient(create_app(config), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def people(db: Database) -> dict[str, Person]:
    return {
        "admin": make_user(db, "root", "admin"),
        "mgr": make_user(db, "mgr", "manager"),
        "ann": make_user(db, "ann"),  # voice-cleared
        "bob": make_user(db, "bob"),  # not
    }


def upload(client: TestClient, project: int, person: Person, files: dict[str, bytes]) -> Any:
    rows = "".join(
        json.dumps({"id": name.split(".")[0], "audio": name, "text": f"request {name}"}) + "\n"
        for name in files
    ).encode()
    parts = [("items", ("items.jsonl", rows, "application/x-ndjson"))]
    parts += [("files", (name, data, "application/octet-stream")) for name, data in files.items()]
    return client.post(
        f"/api/v1/projects/{project}/items/upload", files=parts, headers=person.headers
    )


def grant_voice(client: TestClient, admin: Person, user: Person, project: int, **extra: Any) -> int:
    body = {"user_id": user.id, "project_id": project, "sensitivity": "voice"} | extra
    response = client.post("/api/v1/clearances", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    assert response.json()["sensitivity"] == "voice"
    return int(response.json()["id"])


@pytest.fixture
def world(client: TestClient, db: Database, people: dict[str, Person]) -> dict[str, Any]:
    """Two uploaded recordings (items 1: WAV, 2: FLAC); ann and bob hold leases on item 1,
    only ann holds a voice clearance."""
    p = people
    project = make_project(
        db,
        config=AUDIO,
        members={p["mgr"]: "manager", p["ann"]: "annotator", p["bob"]: "annotator"},
    )
    files = {"one.wav": tagged("wav", seconds=1.0), "two.flac": tagged("flac", seconds=2.0)}
    response = upload(client, project, p["mgr"], files)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2
    with db.transaction(readonly=True) as session:
        shas = dict(session.execute(select(ItemMedia.item_id, ItemMedia.sha256)).all())
    hold(db, p["ann"], project, 1)
    hold(db, p["bob"], project, 1)
    clearance = grant_voice(client, p["admin"], p["ann"], project)
    return {"project": project, "sha": shas, "clearance": clearance}


def plays(db: Database) -> list[AuditEvent]:
    with db.transaction(readonly=True) as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "media.play")))
        session.expunge_all()
    return rows


def test_an_upload_of_recordings_stores_them_without_tags(
    client: TestClient, db: Database, world: dict[str, Any], people: dict[str, Person]
) -> None:
    with db.transaction(readonly=True) as session:
        parts = list(session.scalars(select(ItemMedia).order_by(ItemMedia.item_id)))
        found = [(m.kind, m.mime, m.duration_ms, m.sample_rate) for m in parts]
    assert found == [("audio", "audio/wav", 1000, 16000), ("audio", "audio/flac", 2000, 16000)]
    body = client.get(f"/api/v1/media/{world['sha'][1]}", headers=people["ann"].headers).content
    assert SECRET.encode() not in body and not mutagen.File(io.BytesIO(body)).tags


def test_a_corrupt_upload_is_refused_and_nothing_is_written(
    client: TestClient, db: Database, people: dict[str, Person]
) -> None:
    project = make_project(db, config=AUDIO, members={people["mgr"]: "manager"})
    before = snapshot(db)
    whole = tagged("flac", seconds=2.0)
    files = {"one.wav": tagged("wav"), "cut.flac": whole[: len(whole) // 2]}
    response = upload(client, project, people["mgr"], files)
    assert response.status_code == 422
    assert "line 2" in response.json()["error"]["message"]
    assert "cut.flac" in response.json()["error"]["message"]
    assert snapshot(db) == before and count(db, "item_media") == 0


def test_a_voice_cleared_annotator_with_a_lease_plays_it_in_ranges_each_playback_audited(
    client: TestClient, db: Database, world: dict[str, Any], people: dict[str, Person]
) -> None:
    ann, url = people["ann"], f"/api/v1/media/{world['sha'][1]}"
    whole = client.get(url, headers=ann.headers)
    assert whole.status_code == 200, whole.text
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["accept-ranges"] == "bytes"
    first = client.get(url, headers={**ann.headers, "Range": "bytes=0-99"})
    assert first.status_code == 206 and first.content == whole.content[:100]
    seek = client.get(url, headers={**ann.headers, "Range": "bytes=1000-1999"})
    assert seek.status_code == 206 and seek.content == whole.content[1000:2000]
    assert client.head(url, headers=ann.headers).status_code == 200
    # Two playbacks (no range, a range from 0); seeking and HEAD are the same playback.
    events = plays(db)
    assert len(events) == 2
    assert {(e.actor_id, e.project_id, e.target) for e in events} == {
        (ann.id, world["project"], "item:1")
    }
    assert events[0].details == {"field": "audio", "sha256": world["sha"][1]}


def test_without_a_voice_clearance_nobody_hears_it_and_payloads_omit_url_and_sha(
    client: TestClient, db: Database, world: dict[str, Any], people: dict[str, Person]
) -> None:
    project, sha = world["project"], world["sha"][1]
    before = snapshot(db)
    for who in ("bob", "mgr", "admin"):  # a lease, items.read, admin: none is a clearance
        refused = client.get(f"/api/v1/media/{sha}", headers=people[who].headers)
        assert refused.status_code == 404, who
        assert client.head(f"/api/v1/media/{sha}", headers=people[who].headers).status_code == 404
        ranged = client.get(
            f"/api/v1/media/{sha}", headers={**people[who].headers, "Range": "bytes=0-9"}
        )
        assert ranged.status_code == 404
    assert snapshot(db) == before and plays(db) == []
    task = client.post(f"/api/v1/projects/{project}/tasks/next", headers=people["bob"].headers)
    assert task.status_code == 200, task.text
    (entry,) = task.json()["task"]["media"]
    assert entry["url"] is None and entry["sha256"] is None and entry["restricted"] == "voice"
    assert (entry["kind"], entry["mime"], entry["sample_rate"]) == ("audio", "audio/wav", 16000)
    assert entry["duration_ms"] == 1000
    assert sha not in task.text
    item = client.get(f"/api/v1/projects/{project}/items/1", headers=people["mgr"].headers)
    assert item.status_code == 200
    assert item.json()["media"][0]["url"] is None and sha not in item.text


def test_a_cleared_annotator_gets_the_url_in_the_payload(
    client: TestClient, world: dict[str, Any], people: dict[str, Person]
) -> None:
    task = client.post(
        f"/api/v1/projects/{world['project']}/tasks/next", headers=people["ann"].headers
    )
    assert task.status_code == 200, task.text
    (entry,) = task.json()["task"]["media"]
    assert entry["restricted"] is None
    assert entry["url"] == f"/api/v1/media/{entry['sha256']}"
    assert entry["sha256"] == world["sha"][task.json()["task"]["item_id"]]


def test_a_clearance_without_a_lease_is_not_enough(
    client: TestClient, world: dict[str, Any], people: dict[str, Person]
) -> None:
    # ann is voice-cleared but holds no lease on item 2 and never labelled it.
    assert (
        client.get(f"/api/v1/media/{world['sha'][2]}", headers=people["ann"].headers).status_code
        == 404
    )


def test_an_expired_or_revoked_voice_clearance_ends_playback(
    client: TestClient, db: Database, world: dict[str, Any], people: dict[str, Person]
) -> None:
    url = f"/api/v1/media/{world['sha'][1]}"
    assert client.get(url, headers=people["ann"].headers).status_code == 200
    with db.transaction() as session:
        session.execute(
            update(Clearance)
            .where(Clearance.id == world["clearance"])
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    assert client.get(url, headers=people["ann"].headers).status_code == 404
    task = client.post(
        f"/api/v1/projects/{world['project']}/tasks/next", headers=people["ann"].headers
    )
    assert task.json()["task"]["media"][0]["url"] is None
    grant_voice(client, people["admin"], people["ann"], world["project"])
    assert client.get(url, headers=people["ann"].headers).status_code == 200
    revoked = client.delete(
        f"/api/v1/clearances/{world['clearance']}", headers=people["admin"].headers
    )
    assert revoked.status_code == 204
    assert client.get(url, headers=people["ann"].headers).status_code == 404


def test_a_manager_with_a_voice_clearance_may_listen(
    client: TestClient, world: dict[str, Any], people: dict[str, Person]
) -> None:
    grant_voice(client, people["admin"], people["mgr"], world["project"])
    for sha in world["sha"].values():  # items.read, no lease needed
        assert client.get(f"/api/v1/media/{sha}", headers=people["mgr"].headers).status_code == 200


def test_granting_a_voice_clearance_is_admin_only_validated_and_audited(
    client: TestClient, db: Database, world: dict[str, Any], people: dict[str, Person]
) -> None:
    project, bob = world["project"], people["bob"]
    before = snapshot(db)
    body = {"user_id": bob.id, "project_id": project, "sensitivity": "voice"}
    assert client.post("/api/v1/clearances", json=body).status_code == 401
    assert (
        client.post("/api/v1/clearances", json=body, headers=people["mgr"].headers).status_code
        == 403
    )
    bad = client.post(
        "/api/v1/clearances", json=body | {"sensitivity": "voices"}, headers=people["admin"].headers
    )
    assert bad.status_code == 422
    assert snapshot(db) == before
    grant_voice(client, people["admin"], bob, project)
    with db.transaction(readonly=True) as session:
        event = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "clearance.grant")
            .order_by(AuditEvent.seq.desc())
        ).first()
        assert event is not None and event.details["sensitivity"] == "voice"
    assert client.get(f"/api/v1/media/{world['sha'][1]}", headers=bob.headers).status_code == 200


def test_an_uploaded_recording_is_served_without_the_bytes_after_its_sound(
    client: TestClient, db: Database, people: dict[str, Person]
) -> None:
    # Text appended after an MP3's (or FLAC's) last frame used to reach annotators.
    p = people
    project = make_project(db, config=AUDIO, members={p["mgr"]: "manager"})
    kinds = [kind for kind in ("mp3", "flac", "wav") if can_write(kind)]
    files = {f"{kind}-note.{kind}": with_trailer(tone(kind, seconds=1.0)) for kind in kinds}
    response = upload(client, project, p["mgr"], files)
    assert response.status_code == 200, response.text
    grant_voice(client, p["admin"], p["mgr"], project)
    with db.transaction(readonly=True) as session:
        shas = list(session.scalars(select(ItemMedia.sha256)))
    assert len(shas) == len(kinds)
    for sha in shas:
        body = client.get(f"/api/v1/media/{sha}", headers=p["mgr"].headers)
        assert body.status_code == 200, body.text
        assert TRAILER not in body.content and len(body.content) > 1000


def test_an_uploaded_mp3_with_bytes_between_its_frames_is_a_422_and_nothing_is_written(
    client: TestClient, db: Database, people: dict[str, Person]
) -> None:
    if not can_write("mp3"):
        pytest.skip("this libsndfile cannot write MP3")
    from loupe.privacy.audio_frames import mp3_sound_end

    project = make_project(db, config=AUDIO, members={people["mgr"]: "manager"})
    sound = tone("mp3", seconds=2.0)
    at = mp3_sound_end(sound[: len(sound) // 2])
    files = {"ok.wav": tone("wav"), "spliced.mp3": sound[:at] + TRAILER + sound[at:]}
    before = snapshot(db)
    response = upload(client, project, people["mgr"], files)
    assert response.status_code == 422, response.text
    assert "spliced.mp3" in response.text and "not sound" in response.text
    assert snapshot(db) == before
