"""Media parts of items (images, audio): reading, probing, gating, sealing and storing
them on import; deleting their blobs with their items; revealing an original.

An import row names its media files (:class:`loupe.formats.MediaSource`); where the
bytes come from is a :class:`MediaReader`: :class:`LocalMedia` (the CLI: paths relative to
the import file's folder, absolute paths, ``s3://`` URIs) or :class:`Uploads` (the API:
the file parts of the request, by name; never a server path or a URL).

An import with media runs in three steps (:class:`MediaIngest`):

1. **probe** every referenced file while the rows are validated, before anything is
   written: readable, at most ``max_media_bytes``, a JPEG, PNG or WebP that decodes, or
   a WAV, FLAC, Ogg (Vorbis/Opus) or MP3 recording that decodes to its end and lasts at
   most an hour (:func:`loupe.privacy.audio.probe_audio`; told apart by their first
   bytes). A bad one raises :class:`~loupe.errors.InvalidInput` naming the row and the file.
2. **ingest** the new items' media outside any transaction: probe again (the file may
   have changed), run the image gate (:func:`loupe.privacy.images.gate_image`) or strip
   the recording's tags (:func:`loupe.privacy.audio.strip_audio_tags`; a voice is served
   only to voice-cleared people, :mod:`loupe.services.media_views`), seal the
   original bytes under the item's subject key (a short write transaction that may create
   the key), and put the sealed and the served blobs (content-addressed, so equal bytes
   are stored once and a failed import leaves harmless orphans for ``loupe media gc``).
3. the items and their ``item_media`` rows are inserted together by
   :func:`loupe.services.items.write_batch`.

An image is withheld (the item is never handed out) when the OCR text check cannot run
and ``image_ocr`` is ``required``, when the project's policy is ``withhold`` and the gate
found any region, or when another detector could not run
(:func:`loupe.services.gate.image_withheld_reason`).
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import IO, TYPE_CHECKING, Any, Protocol
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, delete, event, select
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.db.media_models import ItemMedia
from loupe.db.models import Item, utcnow
from loupe.errors import InvalidInput, NotFound, PermissionDenied
from loupe.formats import ItemRecord, MediaSource
from loupe.services import audit
from loupe.services.access import Actor, authorize_project
from loupe.services.clearances import VOICE, has_clearance
from loupe.services.gate import PrivacyGate, image_withheld_reason, redact_text
from loupe.services.privacy import privacy_of
from loupe.services.vault import Vault, media_aad, subject_key_id

if TYPE_CHECKING:
    from loupe.services.items import GatedBatch
    from loupe.settings import Settings
    from loupe.storage import BlobStore

__all__ = [
    "AUDIO_SUFFIXES",
    "GC_GRACE",
    "IMAGE_SUFFIXES",
    "MEDIA_CHUNK",
    "GarbageRun",
    "LocalMedia",
    "MediaIngest",
    "MediaReader",
    "StoredMedia",
    "Uploads",
    "audio_module",
    "collect_garbage",
    "drop_media",
    "folder_images",
    "images_module",
    "reveal_media",
    "use_blob_store",
]

# File names a folder import takes as images (case-insensitive); anything else is skipped.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp"})
# ... and as audio (loupe.privacy.audio.AUDIO_SUFFIXES, kept here so that listing a folder
# needs no extra).
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3"})
# Items gated per round of an import with media: an image takes a good part of a second
# through the gate, so write (and report progress) every few dozen instead of every 5,000.
MEDIA_CHUNK = 32
# `loupe media gc` leaves orphans younger than this: an import puts its blobs before the
# transaction that references them commits.
GC_GRACE = timedelta(hours=1)
_NEED_EXTRA = "importing images needs the images extra: pip install 'loupe[images]'"
_NEED_AUDIO = "importing audio needs the audio extra: pip install 'loupe[audio]'"
# A name in an API row that is not a bare file name: a path, a URL, a drive letter.
_NOT_A_NAME = re.compile(r"[/\\]|^[A-Za-z][A-Za-z0-9+.-]*:|^\.\.?$")


def images_module() -> ModuleType:
    """:mod:`loupe.privacy.images`, or :class:`InvalidInput` saying which extra to install
    (media are never stored unchecked)."""
    try:
        return importlib.import_module("loupe.privacy.images")  # OpenCV and Pillow
    except ImportError:
        raise InvalidInput(_NEED_EXTRA, details={"extra": "images"}) from None


def audio_module() -> ModuleType:
    """:mod:`loupe.privacy.audio` with its libraries (soundfile, mutagen), or
    :class:`InvalidInput` saying which extra to install (audio is never stored unchecked)."""
    try:
        importlib.import_module("soundfile")  # libsndfile: probes and decodes
        importlib.import_module("mutagen")  # strips tags
    except (ImportError, OSError):  # OSError: soundfile without its libsndfile
        raise InvalidInput(_NEED_AUDIO, details={"extra": "audio"}) from None
    return importlib.import_module("loupe.privacy.audio")


def _is_audio(data: bytes, name: str) -> bool:
    """Whether an import's file is audio: by its first bytes, or (for bytes neither an
    image nor audio) by its name, so that the error names what the file was meant to be."""
    from loupe.privacy.audio import audio_mime

    if audio_mime(data) is not None:
        return True
    return Path(name).suffix.lower() in AUDIO_SUFFIXES and not data.startswith(
        (b"\xff\xd8\xff", b"\x89PNG")
    )


class MediaReader(Protocol):
    """Where an import's media bytes come from."""

    def read(self, source: MediaSource, *, limit: int) -> bytes:
        """The file's bytes; :class:`InvalidInput` naming ``source`` when it cannot be read
        or holds more than ``limit`` bytes."""
        ...


def _problem(source: MediaSource, problem: str) -> InvalidInput:
    where = f"{source.where}: " if source.where else ""
    return InvalidInput(
        f"{where}{source.field} {source.name!r}: {problem}",
        details={"field": source.field, "where": source.where, "file": source.name},
    )


def _too_big(source: MediaSource, limit: int) -> InvalidInput:
    return _problem(source, f"the file is larger than max_media_bytes ({limit} bytes); shrink it")


@dataclass(frozen=True, slots=True)
class LocalMedia:
    """The CLI's reader: a path relative to ``base`` (the import file's folder), an
    absolute path, or an ``s3://bucket/key`` URI when the media store is on S3."""

    base: Path
    settings: Settings

    def read(self, source: MediaSource, *, limit: int) -> bytes:
        name = source.name
        if name.startswith("s3://"):
            return self._s3(source, limit)
        if "://" in name:
            raise _problem(source, "only local paths and s3:// URIs can be imported")
        path = Path(name).expanduser()
        path = path if path.is_absolute() else self.base / path
        try:
            if not path.is_file():
                raise _problem(source, f"no such file ({path})")
            if path.stat().st_size > limit:
                raise _too_big(source, limit)
            return path.read_bytes()
        except OSError as exc:
            raise _problem(source, f"cannot read {path} ({exc.strerror})") from None

    def _s3(self, source: MediaSource, limit: int) -> bytes:
        if not (self.settings.media_url or "").startswith("s3://"):
            raise _problem(
                source,
                "s3:// URIs are read only when media are stored on S3 (set LOUPE_MEDIA_URL "
                "to s3://bucket/prefix)",
            )
        try:
            import boto3
        except ImportError:
            raise _problem(
                source, "reading s3:// needs the s3 extra: pip install 'loupe[s3]'"
            ) from None
        bucket, _, key = source.name.removeprefix("s3://").partition("/")
        client = boto3.client("s3", endpoint_url=self.settings.s3_endpoint_url)
        try:
            head = client.head_object(Bucket=bucket, Key=key)
            if int(head["ContentLength"]) > limit:
                raise _too_big(source, limit)
            body: bytes = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except InvalidInput:
            raise
        except Exception as exc:  # botocore's errors: missing object, no access, no network
            raise _problem(source, f"cannot read it ({type(exc).__name__})") from None
        return body


class Uploads:
    """The API's reader: the request's file parts by file name. A row naming a path, a
    URL or a name not uploaded is refused: the server never reads its own files or
    fetches URLs for an API client."""

    def __init__(self, files: Mapping[str, IO[bytes]]) -> None:
        self.files = files

    def read(self, source: MediaSource, *, limit: int) -> bytes:
        if _NOT_A_NAME.search(source.name):
            raise _problem(
                source,
                "name a file uploaded in this request (its file name), not a path or a URL",
            )
        part = self.files.get(source.name)
        if part is None:
            raise _problem(source, "no file of that name was uploaded with this request")
        part.seek(0)
        data = part.read(limit + 1)
        if len(data) > limit:
            raise _too_big(source, limit)
        return data


@dataclass(frozen=True, slots=True)
class StoredMedia:
    """One media part after ingest: its blobs are stored; its ``item_media`` row is not."""

    field: str
    mime: str
    sha256: str  # of the served bytes
    size: int
    width: int | None
    height: int | None
    sealed_blob: str | None
    key_id: str | None
    regions: list[dict[str, Any]]
    checks: list[str]
    kind: str = "image"
    duration_ms: int | None = None  # audio
    sample_rate: int | None = None  # audio

    def row(self, item_id: int, project_id: int, now: datetime) -> dict[str, Any]:
        return {
            "item_id": item_id,
            "project_id": project_id,
            "field": self.field,
            "kind": self.kind,
            "mime": self.mime,
            "sha256": self.sha256,
            "bytes": self.size,
            "width": self.width,
            "height": self.height,
            "duration_ms": self.duration_ms,
            "sample_rate": self.sample_rate,
            "sealed_blob": self.sealed_blob,
            "key_id": self.key_id,
            "regions": self.regions,
            "checks": self.checks,
            "created_at": now,
        }


@dataclass(frozen=True, slots=True)
class _Probed:
    """A media file that passed its probe."""

    data: bytes
    kind: str  # "image" or "audio"
    mime: str
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    sample_rate: int | None = None


@dataclass(slots=True)
class MediaIngest:
    """Probes and ingests an import's media (see the module docstring)."""

    reader: MediaReader
    settings: Settings
    store: BlobStore | None = None
    _images: ModuleType | None = field(default=None, repr=False)
    _audio: ModuleType | None = field(default=None, repr=False)

    @property
    def images(self) -> ModuleType:
        if self._images is None:
            self._images = images_module()
        return self._images

    @property
    def audio(self) -> ModuleType:
        if self._audio is None:
            self._audio = audio_module()
        return self._audio

    def blob_store(self) -> BlobStore:
        if self.store is None:
            from loupe.storage import blob_store_for

            self.store = blob_store_for(self.settings)
        return self.store

    def _load(self, source: MediaSource) -> _Probed:
        data = self.reader.read(source, limit=self.settings.max_media_bytes)
        if len(data) > self.settings.max_media_bytes:
            raise _too_big(source, self.settings.max_media_bytes)
        try:
            if _is_audio(data, source.name):
                mime, duration_ms, rate = self.audio.probe_audio(data)
                return _Probed(
                    data, "audio", str(mime), duration_ms=int(duration_ms), sample_rate=int(rate)
                )
            mime, width, height = self.images.probe_image(data)
        except InvalidInput as exc:
            raise _problem(source, exc.message) from None
        return _Probed(data, "image", str(mime), width=int(width), height=int(height))

    def probe(self, record: ItemRecord) -> None:
        """Check every media file of ``record`` (read, size, format, decodes); raises
        :class:`InvalidInput` naming the row and the file."""
        for source in record.media:
            probed = self._load(source)
            if probed.kind == "audio":
                # Stripping can fail too (a tag block mutagen cannot parse): find out now,
                # before anything is written, not halfway through the import.
                self._strip(source, probed.data)

    def ingest(self, db: Database, batch: GatedBatch, gate: PrivacyGate) -> None:
        """Gate, seal and store the media of ``batch``'s records (outside any transaction
        but the short one that seals); fills ``batch.media``, ``batch.key_ids`` and, for
        withheld images, ``batch.results``."""
        ocr = self.settings.image_ocr
        for external_id, record in batch.records.items():
            if not record.media:
                continue
            key_id = subject_key_id(record.subject_id)
            originals: list[tuple[MediaSource, bytes]] = []
            parts: list[StoredMedia] = []
            reasons: list[str] = []
            found: set[str] = set()
            for source in record.media:
                probed = self._load(source)
                data, mime, width, height = probed.data, probed.mime, probed.width, probed.height
                if probed.kind == "audio":
                    served = self._strip(source, data)
                    digest = hashlib.sha256(served).hexdigest()
                    parts.append(
                        StoredMedia(
                            source.field, mime, digest, len(served), None, None, None, None,
                            [], ["tags"], kind="audio", duration_ms=probed.duration_ms,
                            sample_rate=probed.sample_rate,
                        )
                    )  # fmt: skip
                    originals.append((source, data))
                    self._put(_served_key(digest), served)
                    continue
                if batch.gated:
                    gated = self.images.gate_image(
                        data, scanner=gate.scanner, ocr=True, plates=True
                    )
                    served, mime = bytes(gated.data), str(gated.mime)
                    width, height = int(gated.width), int(gated.height)
                    regions = [
                        {"type": r.type, "x": r.x, "y": r.y, "width": r.width, "height": r.height}
                        for r in gated.regions
                    ]
                    checks = [str(c) for c in gated.checks]
                    found.update(r["type"] for r in regions)
                    reason = image_withheld_reason(
                        [r["type"] for r in regions],
                        missing=[str(m) for m in gated.missing],
                        policy=batch.policy,
                        ocr=ocr,
                    )
                    if reason is not None:
                        reasons.append(reason)
                else:  # the project's gate is off (public data): stored as given, like text
                    served, regions, checks = data, [], []
                digest = hashlib.sha256(served).hexdigest()
                parts.append(
                    StoredMedia(
                        source.field, mime, digest, len(served), width, height,
                        None, None, regions, checks,
                    )
                )  # fmt: skip
                originals.append((source, data))
                self._put(_served_key(digest), served)
            if batch.gated and gate.vault is not None:
                parts = self._seal(
                    db, batch.project_id, external_id, key_id, originals, parts, gate
                )
            batch.media[external_id] = parts
            batch.key_ids[external_id] = key_id
            result = batch.results.get(external_id)
            if result is not None and (reasons or found):
                batch.results[external_id] = replace(
                    result,
                    detected=tuple(sorted(set(result.detected) | found)),
                    withheld_reason=result.withheld_reason or (reasons[0] if reasons else None),
                )

    def _strip(self, source: MediaSource, data: bytes) -> bytes:
        # Tags go whether or not the project's gate is on: they are what a file says about
        # its recording (a name, a place, a device), never what people label. The voice
        # itself is kept whole and served only to voice-cleared people.
        try:
            return bytes(self.audio.strip_audio_tags(data))
        except InvalidInput as exc:
            raise _problem(source, exc.message) from None

    def _seal(
        self,
        db: Database,
        project_id: int,
        external_id: str,
        key_id: str,
        originals: list[tuple[MediaSource, bytes]],
        parts: list[StoredMedia],
        gate: PrivacyGate,
    ) -> list[StoredMedia]:
        assert gate.vault is not None
        entries = [
            (key_id, media_aad(project_id, external_id, source.field), data)
            for source, data in originals
        ]
        # Short: it may create the subject's key, which must be committed before any blob
        # sealed under it is referenced.
        with db.transaction() as session:
            sealed = gate.vault.seal_bytes_many(session, entries)
        out = []
        for part, box in zip(parts, sealed, strict=True):
            key = _sealed_key(hashlib.sha256(box.ciphertext).hexdigest())
            self._put(key, box.ciphertext)
            out.append(replace(part, sealed_blob=key, key_id=box.key_id))
        return out

    def _put(self, key: str, data: bytes) -> None:
        store = self.blob_store()
        if key.startswith("media/") and store.exists(key):
            return  # content-addressed: the same bytes are already there
        store.put(key, data)


def _served_key(sha256: str) -> str:
    from loupe.storage import served_key

    return served_key(sha256)


def _sealed_key(sha256: str) -> str:
    from loupe.storage import sealed_key

    return sealed_key(sha256)


def folder_images(folder: Path) -> Iterator[Path]:
    """The media files under ``folder`` (recursively, sorted, hidden files and folders
    skipped): files whose name ends in .jpg, .jpeg, .png or .webp (images) or .wav,
    .flac, .ogg, .oga, .opus or .mp3 (audio)."""
    suffixes = IMAGE_SUFFIXES | AUDIO_SUFFIXES
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.suffix.lower() in suffixes and path.is_file():
            yield path


# ---- deleting media with their items -------------------------------------------------

_STORES: WeakKeyDictionary[Engine, Callable[[], BlobStore]] = WeakKeyDictionary()
_DOOMED = "loupe.media.doomed"


def use_blob_store(db: Database, store: BlobStore | Settings) -> None:
    """Delete the blobs of items deleted through ``db`` from ``store`` (or the store of
    these settings, opened when first needed) once the deletion commits
    (:func:`drop_media`). Called where a database is opened with its settings."""
    from loupe.settings import Settings

    if isinstance(store, Settings):
        settings = store

        def opener() -> BlobStore:
            from loupe.storage import blob_store_for

            return blob_store_for(settings)

        _STORES[db.engine] = opener
    else:
        blobs = store
        _STORES[db.engine] = lambda: blobs


def drop_media(session: Session, item_ids: Sequence[int]) -> list[str]:
    """Delete the ``item_media`` rows of ``item_ids`` (in the caller's transaction) and
    return the blob keys that no row references any more: their sealed originals, and
    served blobs no other item carries. Those blobs are deleted after the transaction
    commits (when a blob store is registered for the database, :func:`use_blob_store`);
    otherwise, or should that fail, ``loupe media gc`` deletes them later."""
    sealed: set[str] = set()
    served: set[str] = set()
    for start in range(0, len(item_ids), 500):
        part = list(item_ids[start : start + 500])
        for blob, sha in session.execute(
            select(ItemMedia.sealed_blob, ItemMedia.sha256).where(ItemMedia.item_id.in_(part))
        ):
            if blob:
                sealed.add(str(blob))
            served.add(str(sha))
        session.execute(delete(ItemMedia).where(ItemMedia.item_id.in_(part)))
    if not sealed and not served:
        return []
    kept = _referenced(session, served)
    doomed = sorted(sealed) + [_served_key(sha) for sha in sorted(served - kept)]
    pending: list[str] | None = session.info.get(_DOOMED)
    if pending is None:
        pending = session.info[_DOOMED] = []
        event.listen(session, "after_commit", _after_commit, once=True)
        event.listen(session, "after_rollback", _forget, once=True)
    pending.extend(doomed)
    return doomed


def _referenced(session: Session | Any, shas: set[str]) -> set[str]:
    found: set[str] = set()
    wanted = sorted(shas)
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        found.update(
            str(s)
            for s in session.execute(
                select(ItemMedia.sha256).where(ItemMedia.sha256.in_(part)).distinct()
            ).scalars()
        )
    return found


def _forget(session: Session) -> None:
    session.info.pop(_DOOMED, None)


def _after_commit(session: Session) -> None:
    keys: list[str] = session.info.pop(_DOOMED, None) or []
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    opener = _STORES.get(engine)
    if opener is None or not keys:
        return
    try:
        store = opener()
    except Exception:
        return
    _delete_unreferenced(engine, store, keys)


def _delete_unreferenced(engine: Engine, store: BlobStore, keys: Sequence[str]) -> int:
    """Delete ``keys`` from ``store``, except served blobs an item references again (an
    import of the same bytes may have committed meanwhile)."""
    served = {key.rsplit("/", 1)[-1] for key in keys if key.startswith("media/")}
    with engine.connect() as connection:
        kept = _referenced(connection, served) if served else set()
    deleted = 0
    for key in keys:
        if key.startswith("media/") and key.rsplit("/", 1)[-1] in kept:
            continue
        try:
            deleted += bool(store.delete(key))
        except Exception:
            continue
    return deleted


@dataclass(frozen=True, slots=True)
class GarbageRun:
    """What :func:`collect_garbage` found and deleted."""

    deleted: list[str]
    bytes_freed: int
    kept_young: int  # orphans younger than the grace period, left for a later run
    referenced: int  # blobs some item_media row references


def collect_garbage(
    db: Database,
    store: BlobStore,
    *,
    grace: timedelta = GC_GRACE,
    now: datetime | None = None,
    dry_run: bool = False,
    modified: Callable[[str], datetime | None] | None = None,
) -> GarbageRun:
    """Delete blobs no ``item_media`` row references and older than ``grace`` (an import
    in flight puts its blobs before the transaction that references them commits).

    ``modified`` gives a blob's last-modified time; by default the store's own
    ``modified(key)`` if it has one, else the local file's. A blob whose age cannot be
    told is kept unless ``grace`` is zero.
    """
    now = now or utcnow()
    age_of = modified or _modified_of(store)
    with db.transaction(readonly=True) as session:
        served = set(session.scalars(select(ItemMedia.sha256).distinct()))
        sealed = {str(b) for b in session.scalars(select(ItemMedia.sealed_blob)) if b}
    deleted: list[str] = []
    freed = young = referenced = 0
    for prefix in ("media/", "sealed/"):
        for key in list(store.keys(prefix)):
            name = key.rsplit("/", 1)[-1]
            if (prefix == "media/" and name in served) or key in sealed:
                referenced += 1
                continue
            if grace > timedelta(0):
                stamp = age_of(key)
                if stamp is None or now - stamp < grace:
                    young += 1
                    continue
            size = store.size(key)
            if dry_run or store.delete(key):
                deleted.append(key)
                freed += size
    if deleted and not dry_run:
        # An import of the same bytes may have committed since the rows were read.
        with db.transaction(readonly=True) as session:
            again = _referenced(session, {k.rsplit("/", 1)[-1] for k in deleted})
        if again:  # pragma: no cover - a race with an import; its next run re-puts them
            deleted = [k for k in deleted if k.rsplit("/", 1)[-1] not in again]
    return GarbageRun(deleted, freed, young, referenced)


def _modified_of(store: BlobStore) -> Callable[[str], datetime | None]:
    own = getattr(store, "modified", None)
    if callable(own):
        return own  # type: ignore[no-any-return]
    root = getattr(store, "root", None)

    def from_file(key: str) -> datetime | None:
        if root is None:
            return None
        try:
            stamp = (Path(root) / key).stat().st_mtime
        except OSError:
            return None
        return datetime.fromtimestamp(stamp, tz=UTC)

    return from_file


# ---- revealing an original -----------------------------------------------------------


def reveal_media(
    session: Session,
    actor: Actor,
    project_id: int,
    item_id: int,
    field: str,
    vault: Vault,
    *,
    store: BlobStore,
    purpose: str,
    min_purpose: int = 10,
    now: datetime | None = None,
) -> tuple[bytes, str]:
    """The original bytes of an item's media ``field`` and their MIME type, for a cleared
    ``actor`` who says why; audited (``media.reveal``) like a text reveal
    (:func:`loupe.services.reveals.reveal_item`)."""
    from loupe.services.reveals import MAX_PURPOSE

    authorize_project(session, actor, "items.reveal", project_id)
    stated = " ".join(purpose.split())
    if not min_purpose <= len(stated) <= MAX_PURPOSE:
        raise InvalidInput(
            f"purpose: say why you need the original, in {min_purpose} to "
            f"{MAX_PURPOSE} characters (it is recorded in the audit log)",
            details={"field": "purpose"},
        )
    item = session.get(Item, item_id)
    if item is None or item.project_id != project_id:
        raise NotFound(
            f"item {item_id} does not exist in project {project_id}", details={"item_id": item_id}
        )
    now = now or utcnow()
    if not has_clearance(session, actor.user_id, item.sensitivity, project_id=project_id, now=now):
        raise PermissionDenied(
            f"revealing {'an' if item.sensitivity[:1] in 'aeiou' else 'a'} {item.sensitivity} "
            f"item needs a clearance for {item.sensitivity} data in project {project_id}; "
            "ask an admin to grant one",
            details={"action": "items.reveal", "sensitivity": item.sensitivity},
        )
    part = session.scalar(
        select(ItemMedia).where(ItemMedia.item_id == item_id, ItemMedia.field == field)
    )
    if part is None:
        raise NotFound(
            f"item {item_id} has no media field {field!r}",
            details={"item_id": item_id, "field": field},
        )
    if part.kind == "audio" and not has_clearance(
        session, actor.user_id, VOICE, project_id=project_id, now=now
    ):
        raise PermissionDenied(
            f"revealing a recording needs a voice clearance in project {project_id} (a voice "
            "is biometric data); ask an admin to grant one",
            details={"action": "items.reveal", "clearance": VOICE},
        )
    if part.sealed_blob is None or part.key_id is None:
        if privacy_of(session, project_id).gate:
            raise NotFound(
                f"item {item_id}'s original {field!r} was not kept (imported without a key "
                "directory)",
                details={"item_id": item_id, "field": field},
            )
        # Stored as given (the project's gate is off): the served bytes are the original.
        data, mime = store.read_all(_served_key(part.sha256)), part.mime
    else:
        try:
            sealed = store.read_all(part.sealed_blob)
        except NotFound:
            raise NotFound(
                f"item {item_id}'s original {field!r} is no longer stored (erased)",
                details={"item_id": item_id, "field": field},
            ) from None
        data = vault.open_bytes(
            session, part.key_id, sealed, aad=media_aad(project_id, item.external_id, field)
        )
        mime = _mime_of(data) or part.mime
    audit.record(
        session,
        actor,
        "media.reveal",
        project_id=project_id,
        target=f"item:{item_id}",
        details={
            "field": field,
            "purpose": redact_text(session, project_id, stated).text,
            "sensitivity": item.sensitivity,
        },
        now=now,
    )
    return data, mime


def _mime_of(data: bytes) -> str | None:
    """The MIME type of an original image or recording, from its first bytes."""
    from loupe.privacy.audio import audio_mime

    if (audio := audio_mime(data)) is not None:
        return audio
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
