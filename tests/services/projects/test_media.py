"""Importing images through the gate: probe everything first, gate, seal, store; erasure,
retention and ``gc`` delete their blobs; a cleared person can reveal an original."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from tests.factories import count, make_project, make_user, subject_key_of
from tests.image_samples import assert_no_metadata, with_metadata
from tests.services.media_imports import (
    import_media_folder,
    media_rows,
    run_import,
    vault_of,
    write_rows,
)
from tests.storage.conftest import aws_env, s3_endpoint, s3_store  # noqa: F401 - fixtures

from loupe.db.database import Database
from loupe.db.models import Item, utcnow
from loupe.db.privacy_models import AuditEvent, ItemVault
from loupe.errors import InvalidInput, NotFound, PermissionDenied
from loupe.formats import MediaSource
from loupe.services.access import Actor
from loupe.services.compliance.gate import gate_for, image_withheld_reason
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.services.compliance.retention import run_retention
from loupe.services.compliance.reveals import reveal_media
from loupe.services.compliance.subjects import erase_subject
from loupe.services.compliance.vault import load_ref_key
from loupe.services.people.clearances import grant_clearance
from loupe.services.projects.definition import add_member
from loupe.services.projects.imports import import_folder, import_stream
from loupe.services.projects.media import MediaIngest
from loupe.services.projects.media_gc import collect_garbage, use_blob_store
from loupe.services.projects.media_sources import LocalMedia, Uploads
from loupe.settings import Settings
from loupe.storage import BlobStore, LocalBlobStore

pytest.importorskip("cv2", reason="the images extra (OpenCV) is not installed")

MEDIA_SCHEMA: dict[str, Any] = {
    "task": {"type": "single_choice", "labels": [{"key": "product"}, {"key": "sign"}]},
    "media": ["image"],
}


def picture(seed: int, *, size: tuple[int, int] = (64, 48), fmt: str = "PNG") -> bytes:
    """A small image of random blocks (seeded: the same seed gives the same bytes)."""
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 255, size=(size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    pixels = np.kron(cells, np.ones((8, 8, 1), dtype=np.uint8))
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture
def config(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"media_dir": tmp_path / "media", "image_ocr": "optional"})


@pytest.fixture
def store(config: Settings) -> BlobStore:
    return LocalBlobStore(config.resolved_media_dir())


@pytest.fixture
def project(db: Database) -> int:
    return make_project(db, name="glasses", config=MEDIA_SCHEMA)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "import"
    (folder / "photos").mkdir(parents=True)
    for seed in range(3):
        (folder / "photos" / f"p{seed}.png").write_bytes(picture(seed))
    (folder / "photos" / "p3.jpg").write_bytes(picture(3, fmt="JPEG"))
    return folder


def test_rows_naming_images_become_items_with_gated_media_and_sealed_originals(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    path = write_rows(
        files,
        [
            {"id": "a", "image": "photos/p0.png", "text": "what am I looking at"},
            {"id": "b", "image": str(files / "photos" / "p3.jpg")},  # absolute, no text
        ],
    )
    result = run_import(db, project, path, config, store)
    assert (result.received, result.created, result.withheld) == (2, 2, 0)
    with db.transaction(readonly=True) as session:
        items = {i.external_id: i for i in session.scalars(select(Item))}
        assert items["a"].data == {"text": "what am I looking at"}  # text only
        assert items["b"].data == {}
    parts = media_rows(db)
    assert [(p.field, p.mime, p.width, p.height) for p in parts] == [
        ("image", "image/png", 64, 48),
        ("image", "image/jpeg", 64, 48),
    ]
    for part in parts:
        assert store.exists(f"media/{part.sha256[:2]}/{part.sha256}")
        assert part.sealed_blob is not None and store.exists(part.sealed_blob)
        assert part.key_id is not None and part.key_id.startswith("item:")
        assert "metadata" in part.checks and "faces" in part.checks
    with db.transaction(readonly=True) as session:
        # The item's text is sealed under the same key as its image: one shred erases both.
        vault_keys = dict(session.execute(select(ItemVault.item_id, ItemVault.key_id)).all())
    assert {p.item_id: p.key_id for p in parts} == vault_keys


def test_a_corrupt_file_on_line_3_is_named_and_nothing_is_written(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    (files / "photos" / "broken.png").write_bytes(picture(9)[:60])
    path = write_rows(
        files,
        [
            {"id": "a", "image": "photos/p0.png"},
            {"id": "b", "image": "photos/p1.png"},
            {"id": "c", "image": "photos/broken.png"},
        ],
    )
    with pytest.raises(InvalidInput) as caught:
        run_import(db, project, path, config, store)
    assert "line 3" in caught.value.message and "photos/broken.png" in caught.value.message
    assert (count(db, "items"), count(db, "item_media"), count(db, "subject_keys")) == (0, 0, 0)
    assert list(store.keys()) == []  # probed first: not even an orphan blob


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("anim.gif", b"GIF89a" + bytes(40), "GIF"),
        ("notes.png", b"hello, not an image at all", "not"),
        ("missing.png", None, "no such file"),
    ],
)
def test_unsupported_corrupt_or_missing_files_are_refused(
    db: Database,
    project: int,
    files: Path,
    config: Settings,
    store: BlobStore,
    name: str,
    content: bytes | None,
    expected: str,
) -> None:
    if content is not None:
        (files / name).write_bytes(content)
    path = write_rows(files, [{"id": "a", "image": "photos/p0.png"}, {"id": "b", "image": name}])
    with pytest.raises(InvalidInput) as caught:
        run_import(db, project, path, config, store)
    assert "line 2" in caught.value.message and name in caught.value.message
    assert expected.lower() in caught.value.message.lower()
    assert count(db, "items") == 0 and list(store.keys()) == []


def test_a_file_over_max_media_bytes_is_refused(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    small = config.model_copy(update={"max_media_bytes": 1024})
    (files / "big.png").write_bytes(picture(7, size=(256, 256)))
    assert (files / "big.png").stat().st_size > 1024
    path = write_rows(files, [{"id": "a", "image": "big.png"}])
    with pytest.raises(InvalidInput, match="max_media_bytes"):
        run_import(db, project, path, small, store)
    assert count(db, "items") == 0


def test_a_media_value_must_name_a_file(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    path = write_rows(files, [{"id": "a", "image": 42}])
    with pytest.raises(InvalidInput, match="line 1: field 'image' must name a media file"):
        run_import(db, project, path, config, store)


def test_reimport_is_idempotent_and_equal_bytes_are_stored_once(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    (files / "copy.png").write_bytes((files / "photos" / "p0.png").read_bytes())
    path = write_rows(
        files,
        [{"id": "a", "image": "photos/p0.png"}, {"id": "b", "image": "copy.png", "text": "x"}],
    )
    first = run_import(db, project, path, config, store)
    keys = sorted(store.keys())
    second = run_import(db, project, path, config, store)
    assert (first.created, second.created, second.existing) == (2, 0, 2)
    assert sorted(store.keys()) == keys  # nothing gated or stored again
    parts = media_rows(db)
    assert len(parts) == 2 and parts[0].sha256 == parts[1].sha256
    assert len(list(store.keys("media/"))) == 1  # one served blob for both items
    assert len(list(store.keys("sealed/"))) == 2  # each original sealed for its subject


def test_a_folder_import_takes_every_image_with_its_relative_path_as_id(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    (files / "photos" / "readme.txt").write_text("not an image")
    (files / "photos" / ".hidden.png").write_bytes(picture(5))
    result = import_media_folder(db, project, files, config, store)
    assert result.created == 4
    with db.transaction(readonly=True) as session:
        ids = sorted(session.scalars(select(Item.external_id)))
    assert ids == ["photos/p0.png", "photos/p1.png", "photos/p2.png", "photos/p3.jpg"]
    assert count(db, "item_media") == 4


def test_a_folder_import_needs_a_media_field(
    db: Database, files: Path, config: Settings, store: BlobStore
) -> None:
    text_only = make_project(db, name="text")
    media = MediaIngest(LocalMedia(files, config), config, store)
    with pytest.raises(InvalidInput, match="no media field"):
        import_folder(db, Actor.system(), text_only, files, media=media)


def test_without_ocr_an_image_is_withheld_unless_ocr_is_optional(
    db: Database,
    project: int,
    files: Path,
    config: Settings,
    store: BlobStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from loupe.privacy import image_gate

    monkeypatch.setattr(image_gate, "ocr_available", lambda: False)
    path = write_rows(files, [{"id": "a", "image": "photos/p0.png", "text": "hello"}])
    required = config.model_copy(update={"image_ocr": "required"})
    result = run_import(db, project, path, required, store)
    assert result.withheld == 1
    with db.transaction(readonly=True) as session:
        item = session.scalars(select(Item)).one()
        assert item.withheld and item.sensitivity == "personal"
        assert session.get(ItemVault, item.id).withheld_reason == "no_ocr"  # type: ignore[union-attr]
    path = write_rows(files, [{"id": "b", "image": "photos/p1.png", "text": "hello"}])
    assert run_import(db, project, path, config, store).withheld == 0  # optional


def test_the_withhold_decision_for_images() -> None:
    assert image_withheld_reason([], missing=["text"], policy="placeholder", ocr="required") == (
        "no_ocr"
    )
    assert image_withheld_reason([], missing=["text"], policy="placeholder", ocr="optional") is None
    assert image_withheld_reason([], missing=["faces"], policy="placeholder", ocr="optional") == (
        "unchecked"
    )
    assert image_withheld_reason(["FACE"], missing=[], policy="withhold", ocr="required") == (
        "policy"
    )
    assert image_withheld_reason(["FACE"], missing=[], policy="placeholder", ocr="required") is None


def test_the_withhold_policy_withholds_an_image_with_a_region(
    db: Database,
    project: int,
    files: Path,
    config: Settings,
    store: BlobStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from loupe.privacy import image_gate
    from loupe.privacy.images import Region

    real = image_gate.gate_image

    def with_a_face(data: bytes, **kwargs: Any) -> Any:
        from dataclasses import replace

        gated = real(data, **kwargs)
        return replace(gated, regions=(Region(1, 2, 10, 10, "FACE"),))

    monkeypatch.setattr(image_gate, "gate_image", with_a_face)
    with db.transaction() as session:
        set_privacy(session, Actor.system(), project, policy="withhold")
    path = write_rows(files, [{"id": "a", "image": "photos/p0.png"}])
    assert run_import(db, project, path, config, store).withheld == 1
    (part,) = media_rows(db)
    assert part.regions == [{"type": "FACE", "x": 1, "y": 2, "width": 10, "height": 10}]


def test_the_served_image_has_no_exif_but_the_sealed_original_keeps_it(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    exif = Image.Exif()
    exif[0x010F] = "GlassesMaker"  # Make
    image = Image.open(io.BytesIO(picture(1, fmt="JPEG")))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    original = buffer.getvalue()
    (files / "exif.jpg").write_bytes(original)
    path = write_rows(files, [{"id": "a", "image": "exif.jpg", "subject_id": "ana"}])
    run_import(db, project, path, config, store)
    (part,) = media_rows(db)
    served = store.read_all(f"media/{part.sha256[:2]}/{part.sha256}")
    assert b"GlassesMaker" not in served and b"GlassesMaker" in original
    assert part.key_id == subject_key_of(config.resolved_key_dir(), "ana")
    admin, cleared = make_user(db, "root", "admin"), make_user(db, "dpo", "manager")
    with db.transaction() as session:
        add_member(session, Actor.system(), project, user_id=cleared.id, role="manager")
        grant_clearance(
            session, admin.actor, user_id=cleared.id, project_id=project, sensitivity="personal"
        )
    vault = vault_of(config)
    with db.transaction() as session:
        data, mime = reveal_media(
            session, cleared.actor, project, part.item_id, "image", vault,
            store=store, purpose="checking a complaint about this photo",
        )  # fmt: skip
    assert (data, mime) == (original, "image/jpeg")
    with db.transaction(readonly=True) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "media.reveal")).one()
        assert event.target == f"item:{part.item_id}" and event.details["field"] == "image"


def test_a_gate_off_project_serves_images_without_metadata(
    db: Database, project: int, tmp_path: Path, config: Settings, store: BlobStore
) -> None:
    # Public pictures need no pixelation, but EXIF still holds where a photo was taken and
    # with which camera: it used to be served as imported when the gate was off.
    with db.transaction() as session:
        set_privacy(session, Actor.system(), project, gate=False)
    folder = tmp_path / "public"
    folder.mkdir()
    for fmt, name in [("JPEG", "a.jpg"), ("PNG", "b.png"), ("WEBP", "c.webp")]:
        (folder / name).write_bytes(with_metadata(fmt, orientation=6))
    assert import_media_folder(db, project, folder, config, store).created == 3
    parts = media_rows(db)
    assert [(p.mime, p.width, p.height) for p in parts] == [
        ("image/jpeg", 48, 64),
        ("image/png", 48, 64),
        ("image/webp", 48, 64),
    ]
    for part in parts:
        served = store.read_all(f"media/{part.sha256[:2]}/{part.sha256}")
        assert_no_metadata(served)
        with Image.open(io.BytesIO(served)) as image:
            assert image.size == (48, 64)  # upright, as the camera's orientation said
        assert (part.regions, part.checks, part.sealed_blob) == ([], ["metadata"], None)


def test_revealing_an_original_needs_a_clearance_and_a_purpose(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    path = write_rows(files, [{"id": "a", "image": "photos/p0.png"}])
    run_import(db, project, path, config, store)
    (part,) = media_rows(db)
    manager = make_user(db, "boss", "manager")
    with db.transaction() as session:
        add_member(session, Actor.system(), project, user_id=manager.id, role="manager")
    vault = vault_of(config)
    before = count(db, "audit_log")
    with db.transaction() as session, pytest.raises(PermissionDenied, match="clearance"):
        reveal_media(
            session, manager.actor, project, part.item_id, "image", vault,
            store=store, purpose="just curious about it",
        )  # fmt: skip
    with db.transaction() as session, pytest.raises(InvalidInput, match="purpose"):
        reveal_media(
            session, manager.actor, project, part.item_id, "image", vault,
            store=store, purpose="why",
        )  # fmt: skip
    admin = make_user(db, "root", "admin")
    with db.transaction() as session:
        grant_clearance(
            session, admin.actor, user_id=manager.id, project_id=project, sensitivity="internal"
        )
    before = count(db, "audit_log")
    with db.transaction() as session, pytest.raises(NotFound):
        reveal_media(
            session, manager.actor, project, part.item_id, "photo", vault,
            store=store, purpose="a field that is not there",
        )  # fmt: skip
    assert count(db, "audit_log") == before


def test_erasure_deletes_the_subjects_blobs_and_keeps_a_served_blob_still_in_use(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    use_blob_store(db, store)
    path = write_rows(
        files,
        [
            {"id": "a", "image": "photos/p0.png", "subject_id": "ana"},
            {"id": "b", "image": "photos/p0.png", "subject_id": "bob"},  # same bytes
            {"id": "c", "image": "photos/p1.png", "subject_id": "ana"},
        ],
    )
    run_import(db, project, path, config, store)
    parts = {p.item_id: p for p in media_rows(db)}
    with db.transaction(readonly=True) as session:
        ids = dict(session.execute(select(Item.external_id, Item.id)).all())
    a, b, c = parts[ids["a"]], parts[ids["b"]], parts[ids["c"]]
    ref_key = load_ref_key(config.resolved_key_dir())
    with db.transaction() as session:
        erase_subject(session, Actor.system(), "ana", ref_key=ref_key)
    served = set(store.keys("media/"))
    sealed = set(store.keys("sealed/"))
    assert served == {f"media/{b.sha256[:2]}/{b.sha256}"}  # bob's item still shows it
    assert sealed == {b.sealed_blob}
    assert a.sealed_blob not in sealed and c.sealed_blob not in sealed
    assert count(db, "item_media") == 1
    with db.transaction() as session:
        erase_subject(session, Actor.system(), "bob", ref_key=ref_key)
    assert list(store.keys()) == []


def test_a_failed_erasure_deletes_no_blob(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    use_blob_store(db, store)
    path = write_rows(files, [{"id": "a", "image": "photos/p0.png", "subject_id": "ana"}])
    run_import(db, project, path, config, store)
    keys = sorted(store.keys())
    ref_key = load_ref_key(config.resolved_key_dir())

    def erase_then_fail() -> None:
        with db.transaction() as session:
            erase_subject(session, Actor.system(), "ana", ref_key=ref_key)
            raise RuntimeError("the transaction fails after the erasure")

    with pytest.raises(RuntimeError):
        erase_then_fail()
    assert sorted(store.keys()) == keys and count(db, "item_media") == 1


def test_retention_deletes_the_blobs_of_expired_items(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    use_blob_store(db, store)
    path = write_rows(files, [{"id": "a", "image": "photos/p0.png"}])
    run_import(db, project, path, config, store)
    assert list(store.keys())
    with db.transaction() as session:
        set_privacy(session, Actor.system(), project, retention_days=1)
    with db.transaction() as session:
        run_retention(session, Actor.system(), now=utcnow() + timedelta(days=2))
    assert count(db, "items") == 0 and list(store.keys()) == []


def test_gc_deletes_old_orphans_only(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    path = write_rows(files, [{"id": "a", "image": "photos/p0.png"}])
    run_import(db, project, path, config, store)
    kept = sorted(store.keys())
    orphan = "media/ab/" + "ab" * 32
    store.put(orphan, b"left by a failed import")
    young = collect_garbage(db, store)  # just written: within the grace period
    assert (young.deleted, young.kept_young, young.referenced) == ([], 1, 2)
    later = collect_garbage(db, store, now=utcnow() + timedelta(hours=2))
    assert later.deleted == [orphan] and later.bytes_freed == len(b"left by a failed import")
    assert sorted(store.keys()) == kept


def test_without_the_images_extra_media_are_refused_with_the_extra_named(
    db: Database,
    project: int,
    files: Path,
    config: Settings,
    store: BlobStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "loupe.privacy.images", None)
    path = write_rows(files, [{"id": "a", "image": "photos/p0.png"}])
    with pytest.raises(InvalidInput, match=r"pip install 'loupe\[images\]'"):
        run_import(db, project, path, config, store)
    assert count(db, "items") == 0


def test_rows_naming_media_need_a_media_reader(
    db: Database, project: int, files: Path, config: Settings
) -> None:
    path = write_rows(files, [{"id": "a", "image": "photos/p0.png"}])

    @contextmanager
    def reopen() -> Iterator[IO[str]]:
        with path.open(encoding="utf-8") as stream:
            yield stream

    with pytest.raises(InvalidInput, match="line 1: field 'image' names a media file"):
        import_stream(db, Actor.system(), project, reopen=reopen, fmt="jsonl")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../etc/passwd", "not a path or a URL"),
        ("/etc/hosts", "not a path or a URL"),
        ("https://example.org/a.png", "not a path or a URL"),
        ("C:evil.png", "not a path or a URL"),
        ("other.png", "no file of that name was uploaded"),
    ],
)
def test_uploads_never_resolve_paths_or_urls(name: str, expected: str) -> None:
    uploads = Uploads({"a.png": io.BytesIO(b"x")})
    with pytest.raises(InvalidInput, match=expected):
        uploads.read(MediaSource("image", name, "line 4"), limit=1024)
    assert uploads.read(MediaSource("image", "a.png", "line 1"), limit=1024) == b"x"


def test_an_upload_over_the_limit_is_refused() -> None:
    uploads = Uploads({"a.png": io.BytesIO(b"x" * 2000)})
    with pytest.raises(InvalidInput, match=r"line 2: image 'a\.png'.*max_media_bytes"):
        uploads.read(MediaSource("image", "a.png", "line 2"), limit=1024)


def test_s3_uris_need_s3_storage(tmp_path: Path, config: Settings) -> None:
    reader = LocalMedia(tmp_path, config)
    with pytest.raises(InvalidInput, match="LOUPE_MEDIA_URL"):
        reader.read(MediaSource("image", "s3://bucket/a.png", "line 1"), limit=1024)
    with pytest.raises(InvalidInput, match="only local paths and s3:// URIs"):
        reader.read(MediaSource("image", "https://example.org/a.png", "line 1"), limit=1024)


def test_on_s3_an_import_stores_blobs_and_erasure_and_gc_delete_them(
    db: Database,
    project: int,
    files: Path,
    config: Settings,
    s3_store: BlobStore,  # noqa: F811 - the fixture imported above
) -> None:
    use_blob_store(db, s3_store)
    path = write_rows(
        files,
        [
            {"id": "a", "image": "photos/p0.png", "subject_id": "ana"},
            {"id": "b", "image": "photos/p1.png", "subject_id": "bob"},
        ],
    )
    assert run_import(db, project, path, config, s3_store).created == 2
    assert len(list(s3_store.keys("media/"))) == 2 and len(list(s3_store.keys("sealed/"))) == 2
    with db.transaction() as session:
        erase_subject(
            session, Actor.system(), "ana", ref_key=load_ref_key(config.resolved_key_dir())
        )
    (part,) = media_rows(db)
    assert sorted(s3_store.keys()) == sorted(
        [f"media/{part.sha256[:2]}/{part.sha256}", str(part.sealed_blob)]
    )
    s3_store.put("sealed/ff/" + "f" * 64, b"orphan")
    run = collect_garbage(db, s3_store, grace=timedelta(0))
    assert run.deleted == ["sealed/ff/" + "f" * 64] and run.referenced == 2


def test_a_retry_of_withheld_items_never_releases_an_image_withheld_for_no_ocr(
    db: Database,
    project: int,
    files: Path,
    config: Settings,
    store: BlobStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from loupe.privacy import image_gate
    from loupe.services.compliance.withheld import retry_withheld

    monkeypatch.setattr(image_gate, "ocr_available", lambda: False)
    required = config.model_copy(update={"image_ocr": "required"})
    path = write_rows(files, [{"id": "a", "image": "photos/p0.png", "text": "hello"}])
    assert run_import(db, project, path, required, store).withheld == 1
    with gate_for(config) as gate, db.transaction() as session:
        run = retry_withheld(session, Actor.system(), gate, project_id=project)
    assert run.released == 0
    with db.transaction(readonly=True) as session:
        assert session.scalars(select(Item.withheld)).one() is True


def test_parse_item_takes_media_fields_out_of_the_data() -> None:
    from loupe.formats import parse_item

    record = parse_item(
        {"id": "a", "image": " photos/a.png ", "caption": "hi"},
        where="line 1",
        text_field="text",
        media_fields=["image"],
    )
    assert record.data == {"caption": "hi"}
    assert record.media == (MediaSource("image", "photos/a.png", "line 1"),)
    empty = parse_item(
        {"id": "b", "image": "", "text": "words"},
        where="line 2",
        text_field="text",
        media_fields=["image"],
    )
    assert empty.media == () and empty.data == {"text": "words"}
    with pytest.raises(InvalidInput, match="line 3: field 'text' must be a non-empty string"):
        parse_item({"id": "c"}, where="line 3", text_field="text", media_fields=["image"])
    with pytest.raises(InvalidInput, match="line 4: field 'image' must name a media file"):
        parse_item({"id": "d", "image": ["a.png"]}, where="line 4", text_field="text",
                   media_fields=["image"])  # fmt: skip


def test_a_subject_export_lists_their_images(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    from loupe.services.compliance.subjects import export_subject

    path = write_rows(files, [{"id": "a", "image": "photos/p0.png", "subject_id": "ana"}])
    run_import(db, project, path, config, store)
    (part,) = media_rows(db)
    vault = vault_of(config)
    with db.transaction(readonly=True) as session:
        out = export_subject(
            session, Actor.system(), "ana", vault=vault,
            ref_key=load_ref_key(config.resolved_key_dir()),
        )  # fmt: skip
    (media,) = out.items[0]["media"]
    assert media["sha256"] == part.sha256 and media["original_sealed"] is True


def test_without_a_vault_no_original_is_kept_and_none_is_revealed(
    db: Database, project: int, files: Path, config: Settings, store: BlobStore
) -> None:
    from loupe.services.compliance.gate import PrivacyGate

    path = write_rows(files, [{"id": "a", "image": "photos/p0.png"}])

    @contextmanager
    def reopen() -> Iterator[IO[str]]:
        with path.open(encoding="utf-8") as stream:
            yield stream

    media = MediaIngest(LocalMedia(files, config), config, store)
    import_stream(
        db, Actor.system(), project, reopen=reopen, fmt="jsonl", gate=PrivacyGate(), media=media
    )
    (part,) = media_rows(db)
    assert part.sealed_blob is None and list(store.keys("sealed/")) == []
    admin, cleared = make_user(db, "root", "admin"), make_user(db, "dpo", "manager")
    with db.transaction() as session:
        add_member(session, Actor.system(), project, user_id=cleared.id, role="manager")
        grant_clearance(
            session, admin.actor, user_id=cleared.id, project_id=project, sensitivity="internal"
        )
    vault = vault_of(config)
    with db.transaction() as session, pytest.raises(NotFound, match="not kept"):
        reveal_media(
            session, cleared.actor, project, part.item_id, "image", vault,
            store=store, purpose="checking what was served here",
        )  # fmt: skip


def test_an_erasure_between_sealing_the_media_and_writing_the_items_loses_no_original(
    db: Database,
    project: int,
    files: Path,
    config: Settings,
    store: BlobStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: an import seals an item's media under the subject's key in a transaction
    of its own, then writes the item. An erasure of the subject in between shredded that
    key; the write then created a new key of the same name, and the item's media row
    named it: the original was lost ("does not authenticate" on reveal). Now the write
    finds the key gone and the chunk's media are sealed again."""
    path = write_rows(files, [{"id": "a", "image": "photos/p0.png", "subject_id": "ana"}])
    ref_key = load_ref_key(config.resolved_key_dir())
    ingest = MediaIngest.ingest
    erasures: list[int] = []

    def erasing(self: MediaIngest, *args: Any, **kwargs: Any) -> None:
        ingest(self, *args, **kwargs)
        if not erasures:  # the key exists, sealing this item's media only
            with db.transaction() as session:
                erased = erase_subject(session, Actor.system(), "ana", ref_key=ref_key)
                erasures.append(erased.receipt["keys_shredded"])

    monkeypatch.setattr(MediaIngest, "ingest", erasing)
    assert run_import(db, project, path, config, store).created == 1
    assert erasures == [1]
    (part,) = media_rows(db)
    assert part.sealed_blob is not None and part.key_id is not None
    with db.transaction(readonly=True) as session:
        original = vault_of(config).open_bytes(
            session, part.key_id, store.read_all(part.sealed_blob), aad=f"{project}/a#media:image"
        )
    assert original == (files / "photos" / "p0.png").read_bytes()
