"""Importing audio: probe everything first, strip tags, seal the original, store the
duration and sample rate; erasure deletes the blobs; revealing an original needs a voice
clearance."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.audio_samples import SECRET, TRAILER, can_write, tagged, tone, with_trailer
from tests.factories import count, make_project, make_user
from tests.services.media_imports import (
    import_media_folder,
    media_rows,
    run_import,
    vault_of,
    write_rows,
)

from loupe.db.database import Database
from loupe.db.models import Item
from loupe.errors import InvalidInput, PermissionDenied
from loupe.privacy.audio import strip_audio_tags
from loupe.services.access import Actor
from loupe.services.compliance.reveals import reveal_media
from loupe.services.compliance.subjects import erase_subject
from loupe.services.compliance.vault import load_ref_key
from loupe.services.people.clearances import grant_clearance
from loupe.services.projects.definition import add_member
from loupe.services.projects.media_gc import use_blob_store
from loupe.settings import Settings
from loupe.storage import BlobStore, LocalBlobStore

soundfile = pytest.importorskip("soundfile", reason="the audio extra is not installed")
mutagen = pytest.importorskip("mutagen", reason="the audio extra is not installed")

AUDIO_SCHEMA: dict[str, Any] = {
    "task": {"type": "single_choice", "labels": [{"key": "weather"}, {"key": "music"}]},
    "media": ["audio"],
}


@pytest.fixture
def config(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"media_dir": tmp_path / "media"})


@pytest.fixture
def store(config: Settings) -> BlobStore:
    return LocalBlobStore(config.resolved_media_dir())


@pytest.fixture
def project(db: Database) -> int:
    return make_project(db, name="voice", config=AUDIO_SCHEMA)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "import"
    (folder / "clips").mkdir(parents=True)
    (folder / "clips" / "a.wav").write_bytes(tagged("wav", seconds=1.5))
    (folder / "clips" / "b.flac").write_bytes(tagged("flac", seconds=2.0, rate=8000))
    (folder / "clips" / "c.ogg").write_bytes(tagged("ogg", seconds=1.0))
    return folder


def served(store: BlobStore, sha: str) -> bytes:
    return store.read_all(f"media/{sha[:2]}/{sha}")


def test_rows_naming_wav_and_flac_become_audio_items_without_tags(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    path = write_rows(
        files,
        [
            {"id": "r1", "audio": "clips/a.wav", "text": "what is the weather"},
            {"id": "r2", "audio": str(files / "clips" / "b.flac"), "text": "play jazz"},
            {"id": "r3", "audio": "clips/c.ogg"},
        ],
    )
    result = run_import(db, project, path, config, store)
    assert (result.received, result.created, result.withheld) == (3, 3, 0)
    parts = media_rows(db)
    assert [(p.field, p.kind, p.mime, p.duration_ms, p.sample_rate) for p in parts] == [
        ("audio", "audio", "audio/wav", 1500, 16000),
        ("audio", "audio", "audio/flac", 2000, 8000),
        ("audio", "audio", "audio/ogg", 1000, 16000),
    ]
    for part in parts:
        data = served(store, part.sha256)
        assert SECRET.encode() not in data  # the tags are gone from what is served
        assert not mutagen.File(io.BytesIO(data)).tags
        assert part.bytes == len(data) and (part.width, part.height) == (None, None)
        assert part.checks == ["tags"] and part.regions == []
        assert part.sealed_blob is not None and store.exists(part.sealed_blob)
        assert SECRET.encode() not in store.read_all(part.sealed_blob)  # sealed: ciphertext
    with db.transaction(readonly=True) as session:
        texts = dict(session.execute(select(Item.external_id, Item.data)).all())
    assert texts["r1"] == {"text": "what is the weather"} and texts["r3"] == {}


def test_a_corrupt_recording_on_line_3_is_named_and_nothing_is_written(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    whole = tone("flac", seconds=2.0)
    (files / "clips" / "cut.flac").write_bytes(whole[: len(whole) // 2])
    path = write_rows(
        files,
        [
            {"id": "r1", "audio": "clips/a.wav"},
            {"id": "r2", "audio": "clips/b.flac"},
            {"id": "r3", "audio": "clips/cut.flac"},
        ],
    )
    with pytest.raises(InvalidInput) as caught:
        run_import(db, project, path, config, store)
    message = caught.value.message
    assert "line 3" in message and "clips/cut.flac" in message and "corrupt" in message
    assert (count(db, "items"), count(db, "item_media"), count(db, "subject_keys")) == (0, 0, 0)
    assert list(store.keys()) == []


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.wav", b"", "empty"),
        ("noise.mp3", b"this is not audio at all" * 4, "not a wav, flac"),
        ("long.wav", None, "longer than"),
    ],
)
def test_empty_unsupported_or_too_long_recordings_are_refused(
    db: Database,
    project: int,
    files: Path,
    config: Settings,
    store: BlobStore,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    content: bytes | None,
    expected: str,
) -> None:
    if content is None:
        from loupe.privacy import audio

        monkeypatch.setattr(audio.probe_audio, "__kwdefaults__", {"max_duration_ms": 2000})
        content = tone("wav", seconds=3.0, rate=8000)
    (files / name).write_bytes(content)
    path = write_rows(files, [{"id": "r1", "audio": "clips/a.wav"}, {"id": "r2", "audio": name}])
    with pytest.raises(InvalidInput) as caught:
        run_import(db, project, path, config, store)
    assert "line 2" in caught.value.message and name in caught.value.message
    assert expected in caught.value.message.lower()
    assert count(db, "items") == 0 and list(store.keys()) == []


def test_bytes_after_the_sound_are_neither_served_nor_stored_in_clear(
    db: Database, project: int, tmp_path: Path, config: Settings, store: BlobStore
) -> None:
    # A tool appended a note after the last frame: decoders never play it, so it used to
    # be served to annotators as it was (MP3, FLAC).
    folder = tmp_path / "notes"
    folder.mkdir()
    clean = {kind: tone(kind, seconds=1.2) for kind in ("wav", "flac", "ogg", "mp3")}
    kinds = [kind for kind in clean if can_write(kind)]
    for kind in kinds:
        (folder / f"call.{kind}").write_bytes(with_trailer(clean[kind]))
    assert import_media_folder(db, project, folder, config, store).created == len(kinds)
    for part in media_rows(db):
        kind = "ogg" if part.mime == "audio/ogg" else part.mime.split("/")[1]
        kind = {"mpeg": "mp3"}.get(kind, kind)
        data = served(store, part.sha256)
        assert TRAILER not in data
        assert data == strip_audio_tags(clean[kind])  # the sound of the clean file, unchanged
        assert part.sealed_blob is not None and TRAILER not in store.read_all(part.sealed_blob)
    stored = [*store.keys("media/"), *store.keys("sealed/")]
    assert len(stored) == 2 * len(kinds) and not any(TRAILER in store.read_all(k) for k in stored)


def test_an_mp3_with_bytes_between_its_frames_is_refused_and_nothing_is_written(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    if not can_write("mp3"):
        pytest.skip("this libsndfile cannot write MP3")
    from loupe.privacy.audio_frames import mp3_sound_end

    sound = tone("mp3", seconds=2.0)
    at = mp3_sound_end(sound[: len(sound) // 2])  # the end of a frame near the middle
    (files / "clips" / "spliced.mp3").write_bytes(sound[:at] + TRAILER + sound[at:])
    path = write_rows(
        files, [{"id": "r1", "audio": "clips/a.wav"}, {"id": "r2", "audio": "clips/spliced.mp3"}]
    )
    with pytest.raises(InvalidInput) as caught:
        run_import(db, project, path, config, store)
    message = caught.value.message
    assert "line 2" in message and "clips/spliced.mp3" in message and "not sound" in message
    assert "\n" not in message
    assert (count(db, "items"), count(db, "item_media"), count(db, "subject_keys")) == (0, 0, 0)
    assert list(store.keys()) == []


def test_a_folder_import_takes_audio_files_too(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    (files / "clips" / "notes.txt").write_text("not audio")
    result = import_media_folder(db, project, files, config, store)
    assert result.created == 3
    with db.transaction(readonly=True) as session:
        ids = sorted(session.scalars(select(Item.external_id)))
    assert ids == ["clips/a.wav", "clips/b.flac", "clips/c.ogg"]
    assert {p.kind for p in media_rows(db)} == {"audio"}


def test_without_the_audio_extra_audio_is_refused_with_the_extra_named(
    db: Database,
    project: int,
    files: Path,
    config: Settings,
    store: BlobStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "soundfile", None)
    path = write_rows(files, [{"id": "r1", "audio": "clips/a.wav"}])
    with pytest.raises(InvalidInput, match=r"pip install 'loupe\[audio\]'"):
        run_import(db, project, path, config, store)
    assert count(db, "items") == 0 and list(store.keys()) == []


def test_erasure_deletes_the_subjects_audio_blobs(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    use_blob_store(db, store)
    path = write_rows(
        files,
        [
            {"id": "r1", "audio": "clips/a.wav", "subject_id": "ana"},
            {"id": "r2", "audio": "clips/b.flac", "subject_id": "bob"},
        ],
    )
    run_import(db, project, path, config, store)
    assert len(list(store.keys("media/"))) == 2 and len(list(store.keys("sealed/"))) == 2
    bob = next(p for p in media_rows(db) if p.mime == "audio/flac")
    ref_key = load_ref_key(config.resolved_key_dir())
    with db.transaction() as session:
        erase_subject(session, Actor.system(), "ana", ref_key=ref_key)
    assert set(store.keys()) == {f"media/{bob.sha256[:2]}/{bob.sha256}", bob.sealed_blob}
    assert count(db, "item_media") == 1


def test_revealing_an_original_recording_needs_a_voice_clearance(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    path = write_rows(files, [{"id": "r1", "audio": "clips/a.wav"}])
    run_import(db, project, path, config, store)
    admin, manager = make_user(db, "root", "admin"), make_user(db, "mia", "manager")
    (part,) = media_rows(db)
    with db.transaction() as session:
        add_member(session, Actor.system(), project, user_id=manager.id, role="manager")
        # The highest class of the ladder, but no voice clearance: it does not imply one.
        grant_clearance(
            session, admin.actor, user_id=manager.id, project_id=project, sensitivity="health"
        )
    vault = vault_of(config)

    def reveal() -> tuple[bytes, str]:
        with db.transaction() as session:
            return reveal_media(
                session, manager.actor, project, part.item_id, "audio", vault,
                store=store, purpose="checking a disputed transcript",
            )  # fmt: skip

    before = count(db, "audit_log")
    with pytest.raises(PermissionDenied, match="voice clearance"):
        reveal()
    assert count(db, "audit_log") == before
    with db.transaction() as session:
        grant_clearance(
            session, admin.actor, user_id=manager.id, project_id=project, sensitivity="voice"
        )
    data, mime = reveal()
    assert mime == "audio/wav" and SECRET.encode() in data  # the original, tags and all
    assert data == (files / "clips" / "a.wav").read_bytes()


def test_a_voice_clearance_is_an_exact_match_beside_the_ladder(db: Database, project: int) -> None:
    from datetime import timedelta

    from loupe.db.models import utcnow
    from loupe.services.people.clearances import VOICE, has_clearance

    admin, ann, bob = make_user(db, "root", "admin"), make_user(db, "ann"), make_user(db, "bob")
    other = make_project(db, name="elsewhere", config=AUDIO_SCHEMA)
    now = utcnow()
    with db.transaction() as session:
        grant_clearance(session, admin.actor, user_id=ann.id, project_id=project, sensitivity=VOICE)
        grant_clearance(
            session, admin.actor, user_id=bob.id, project_id=project, sensitivity="health",
            expires_at=now + timedelta(hours=1),
        )  # fmt: skip
        grant_clearance(
            session, admin.actor, user_id=bob.id, project_id=project, sensitivity=VOICE,
            expires_at=now + timedelta(hours=1),
        )  # fmt: skip
    with db.transaction(readonly=True) as session:
        assert has_clearance(session, ann.id, VOICE, project_id=project, now=now)
        assert not has_clearance(session, ann.id, VOICE, project_id=other, now=now)
        assert not has_clearance(session, ann.id, "public", project_id=project, now=now)
        assert has_clearance(session, bob.id, "health", project_id=project, now=now)
        assert has_clearance(session, bob.id, VOICE, project_id=project, now=now)
        later = now + timedelta(hours=2)  # bob's voice clearance has expired by then
        assert not has_clearance(session, bob.id, VOICE, project_id=project, now=later)
    with db.transaction() as session, pytest.raises(InvalidInput, match="voice"):
        grant_clearance(session, admin.actor, user_id=ann.id, project_id=project, sensitivity="vox")
