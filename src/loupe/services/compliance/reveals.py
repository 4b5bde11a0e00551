"""Revealing an item's raw (unredacted) data or an original media file (image,
recording): clearance, a stated purpose, an audit record.

The only path by which original content leaves the vault for a person. The reveal
and its audit event commit together, or neither does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.media_models import ItemMedia
from loupe.db.models import Item, utcnow
from loupe.db.privacy_models import ItemVault
from loupe.errors import InvalidInput, NotFound, PermissionDenied
from loupe.services.access import Actor, authorize_project
from loupe.services.compliance import audit_log
from loupe.services.compliance.gate import redact_text
from loupe.services.compliance.privacy_settings import privacy_of
from loupe.services.compliance.vault import Vault, item_aad, media_aad, split_original
from loupe.services.labelling.pairwise import for_reader
from loupe.services.people.clearances import VOICE, has_clearance

if TYPE_CHECKING:
    from loupe.storage import BlobStore

__all__ = ["MAX_PURPOSE", "Revealed", "reveal_item", "reveal_media"]

MAX_PURPOSE = 500


@dataclass(frozen=True, slots=True)
class Revealed:
    item_id: int
    external_id: str
    sensitivity: str
    data: dict[str, Any]  # the original
    redacted: dict[str, Any]  # what annotators see
    metadata: dict[str, Any]  # the original metadata
    redacted_metadata: dict[str, Any]  # the metadata others see
    spans: dict[str, list[list[Any]]]
    detected: list[str]
    withheld_reason: str | None
    audit_seq: int


def reveal_item(
    session: Session,
    actor: Actor,
    project_id: int,
    item_id: int,
    *,
    purpose: str,
    vault: Vault,
    min_purpose: int = 10,
    now: datetime | None = None,
) -> Revealed:
    """The item's original data for a cleared ``actor`` who says why (audited)."""
    item, stated, now = _cleared_item(
        session, actor, project_id, item_id, purpose, "the raw item", min_purpose, now
    )
    box = session.get(ItemVault, item_id)
    if box is not None:
        raw, raw_meta = split_original(
            vault.open(
                session, box.key_id, box.ciphertext, aad=item_aad(project_id, item.external_id)
            )
        )
        meta = raw_meta if raw_meta is not None else dict(item.meta)
        spans, detected, reason = box.spans, list(box.detected), box.withheld_reason
    elif not privacy_of(session, project_id).gate:
        raw, spans, detected, reason = dict(item.data), {}, [], None
        meta = dict(item.meta)
    else:
        raise NotFound(
            f"item {item_id}'s original was not kept (imported without a key directory, or erased)",
            details={"item_id": item_id},
        )
    seq = audit_log.record(
        session,
        actor,
        "item.reveal",
        project_id=project_id,
        target=f"item:{item_id}",
        # The purpose is the revealer's own words, read by auditors: it passes the gate.
        details={
            "purpose": redact_text(session, project_id, stated).text,
            "sensitivity": item.sensitivity,
        },
        now=now,
    )
    shown = for_reader(session, actor, project_id)  # a reviewer stays blind to systems
    return Revealed(
        item_id=item_id,
        external_id=item.external_id,
        sensitivity=item.sensitivity,
        data=shown(raw),
        redacted=shown(item.data),
        metadata=shown(meta),
        redacted_metadata=shown(item.meta),
        spans=spans,
        detected=detected,
        withheld_reason=reason,
        audit_seq=seq,
    )


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
    (:func:`reveal_item`)."""
    item, stated, now = _cleared_item(
        session, actor, project_id, item_id, purpose, "the original", min_purpose, now
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
        from loupe.storage import served_key

        data, mime = store.read_all(served_key(part.sha256)), part.mime
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
    audit_log.record(
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


def _cleared_item(
    session: Session,
    actor: Actor,
    project_id: int,
    item_id: int,
    purpose: str,
    wanted: str,
    min_purpose: int,
    now: datetime | None,
) -> tuple[Item, str, datetime]:
    """The item ``actor`` may reveal, the purpose stated (white space folded) and the time:
    the ``items.reveal`` permission, a purpose of ``min_purpose`` to :data:`MAX_PURPOSE`
    characters saying why ``wanted`` is needed, and a clearance for the item's
    sensitivity."""
    authorize_project(session, actor, "items.reveal", project_id)
    stated = " ".join(purpose.split())
    if not min_purpose <= len(stated) <= MAX_PURPOSE:
        raise InvalidInput(
            f"purpose: say why you need {wanted}, in {min_purpose} to {MAX_PURPOSE} "
            "characters (it is recorded in the audit log)",
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
            f"item needs a clearance for {item.sensitivity} "
            f"data in project {project_id}; ask an admin to grant one",
            details={"action": "items.reveal", "sensitivity": item.sensitivity},
        )
    return item, stated, now
