"""Ingesting the media parts of items (images, audio) on import: probing, gating, sealing
and storing them.

An import row names its media files (:class:`loupe.formats.MediaSource`); where the
bytes come from is a :class:`~loupe.services.projects.media_sources.MediaReader`. Their blobs are
deleted with their items by :mod:`loupe.services.projects.media_gc`; a cleared person reveals an
original with :func:`loupe.services.compliance.reveals.reveal_media`.

An import with media runs in three steps (:class:`MediaIngest`):

1. **probe** every referenced file while the rows are validated, before anything is
   written: readable, at most ``max_media_bytes``, a JPEG, PNG or WebP that decodes, or
   a WAV, FLAC, Ogg (Vorbis/Opus) or MP3 recording that decodes to its end and lasts at
   most an hour (:func:`loupe.privacy.audio.probe_audio`; told apart by their first
   bytes). A bad one raises :class:`~loupe.errors.InvalidInput` naming the row and the file.
2. **ingest** the new items' media outside any transaction: probe again (the file may
   have changed), run the image gate (:func:`loupe.privacy.images.gate_image`) or strip
   the recording's tags (:func:`loupe.privacy.audio.strip_audio_tags`; a voice is served
   only to voice-cleared people, :mod:`loupe.services.projects.media_views`), seal the
   original bytes under the item's subject key (a short write transaction that may create
   the key), and put the sealed and the served blobs (content-addressed, so equal bytes
   are stored once and a failed import leaves harmless orphans for ``loupe media gc``).
3. the items and their ``item_media`` rows are inserted together by
   :func:`loupe.services.projects.items.write_batch`.

In a project whose gate is off (public data) an image is not pixelated or sealed, but its
metadata is stripped all the same (:func:`loupe.privacy.images.strip_metadata`: EXIF with
GPS and serial numbers, XMP, comments, ICC profiles), as a recording's tags are.

An image is withheld (the item is never handed out) when the OCR text check cannot run
and ``image_ocr`` is ``required``, when the project's policy is ``withhold`` and the gate
found any region, or when another detector could not run
(:func:`loupe.services.compliance.gate.image_withheld_reason`).
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from loupe.db.database import Database
from loupe.errors import InvalidInput
from loupe.formats import ItemRecord, MediaSource
from loupe.services.compliance.gate import PrivacyGate, image_withheld_reason
from loupe.services.compliance.vault import media_aad, subject_key_id
from loupe.services.projects.media_sources import (
    AUDIO_SUFFIXES,
    MediaReader,
    source_problem,
    too_big,
)

if TYPE_CHECKING:
    from loupe.services.projects.items import GatedBatch
    from loupe.settings import Settings
    from loupe.storage import BlobStore

__all__ = [
    "MEDIA_CHUNK",
    "MediaIngest",
    "StoredMedia",
    "audio_module",
    "images_module",
]

# Items gated per round of an import with media: an image takes a good part of a second
# through the gate, so write (and report progress) every few dozen instead of every 5,000.
MEDIA_CHUNK = 32
_NEED_EXTRA = "importing images needs the images extra: pip install 'loupe[images]'"
_NEED_AUDIO = "importing audio needs the audio extra: pip install 'loupe[audio]'"


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
            raise too_big(source, self.settings.max_media_bytes)
        try:
            if _is_audio(data, source.name):
                mime, duration_ms, rate = self.audio.probe_audio(data)
                return _Probed(
                    data, "audio", str(mime), duration_ms=int(duration_ms), sample_rate=int(rate)
                )
            mime, width, height = self.images.probe_image(data)
        except InvalidInput as exc:
            raise source_problem(source, exc.message) from None
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
            key_id = subject_key_id(record.subject_id)  # a ref already (new_records)
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
                else:  # the gate is off (public data): no pixelation, but no metadata either
                    served, regions, checks = self._strip_image(source, data), [], ["metadata"]
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

    def _strip_image(self, source: MediaSource, data: bytes) -> bytes:
        # EXIF, XMP, comments and ICC text go whether or not the gate is on: they say where
        # a picture was taken and with which device (GPS, serial numbers), never what
        # people label. With the gate off the pixels are kept (turned upright).
        try:
            return bytes(self.images.strip_metadata(data))
        except InvalidInput as exc:
            raise source_problem(source, exc.message) from None

    def _strip(self, source: MediaSource, data: bytes) -> bytes:
        # Tags go whether or not the project's gate is on: they are what a file says about
        # its recording (a name, a place, a device), never what people label. The voice
        # itself is kept whole and served only to voice-cleared people.
        try:
            return bytes(self.audio.strip_audio_tags(data))
        except InvalidInput as exc:
            raise source_problem(source, exc.message) from None

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
