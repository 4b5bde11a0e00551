"""Data subjects' rights: export everything held about a subject, or erase it.

Erasure (GDPR art. 17) deletes the subject's items — their redacted data, sealed
originals, labels, leases, consensus and comments go with them, so exports omit them — and
shreds the subject's key. Payment-log entries for those labels keep their leaves (the
log must still verify) and lose only the internal link to the label. Every model
version trained on those items is retired (:func:`loupe.services.model_loop.model_versions.
retire_trained_on`). The erasure is audited and answered with a receipt: canonical
JSON and its sha256, stored in ``erasure_receipts``.

After the erasure commits, its caller runs :func:`finish_erasure`: the retired models'
files are deleted and the deleted rows scrubbed from the database files
(:func:`loupe.db.scrub.scrub`).

The subject id is stored and recorded only as its keyed ref
(:func:`loupe.services.compliance.vault.subject_ref`): the receipt proves *that* a given
subject was erased without keeping who they were. Both look-ups compute the ref from the
id they are given and also try the id itself, which rows written before refs were stored
hold until they are converted (:mod:`loupe.services.compliance.subject_refs`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, select
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.db.media_models import ItemMedia
from loupe.db.models import Item, Label, utcnow
from loupe.db.privacy_models import AuditEvent, ErasureReceipt, ItemVault
from loupe.db.project_models import ItemComment
from loupe.db.scrub import Scrub, scrub
from loupe.errors import NotFound
from loupe.learning.persistence import ModelStore
from loupe.services.access import Actor, authorize
from loupe.services.compliance import audit_log
from loupe.services.compliance.vault import (
    Vault,
    item_aad,
    legacy_subject_ref,
    lock_keys,
    shred,
    split_original,
    subject_forms,
    subject_key_id,
    subject_ref,
)
from loupe.services.model_loop.model_versions import delete_retired_files, retire_trained_on
from loupe.services.projects import webhooks
from loupe.services.projects.media_gc import drop_media

__all__ = [
    "Erasure",
    "ErasureCleanup",
    "SubjectExport",
    "delete_items",
    "erase_subject",
    "export_subject",
    "finish_erasure",
    "unused_keys",
]


@dataclass(frozen=True, slots=True)
class Erasure:
    """The receipt (canonical JSON) and its sha256."""

    receipt: dict[str, Any]
    receipt_json: str
    sha256: str


def delete_items(session: Session, item_ids: Sequence[int]) -> tuple[int, list[str]]:
    """Delete items (labels, leases, consensus and vaults cascade); return labels, key ids."""
    n_labels = 0
    key_ids: list[str] = []
    for start in range(0, len(item_ids), 500):
        part = list(item_ids[start : start + 500])
        # PostgreSQL: locked before counting, so a submit or undo in flight on one of them
        # commits first and the count (an erasure's receipt, a purge's audit) is what goes.
        session.execute(
            select(Item.id).where(Item.id.in_(part)).order_by(Item.id).with_for_update()
        )
        n_labels += session.scalar(select(func.count()).where(Label.item_id.in_(part))) or 0
        key_ids += session.scalars(select(ItemVault.key_id).where(ItemVault.item_id.in_(part)))
        # Media: their originals' keys (the item's own), and their blobs, deleted once this
        # transaction commits (:func:`loupe.services.projects.media_gc.drop_media`).
        key_ids += [
            str(k)
            for k in session.scalars(
                select(ItemMedia.key_id).where(ItemMedia.item_id.in_(part)).distinct()
            )
            if k
        ]
        drop_media(session, part)
        # Explicit, not only ON DELETE CASCADE: the ciphertext must go in this statement
        # order on every backend, before the items that reference it.
        session.execute(delete(ItemVault).where(ItemVault.item_id.in_(part)))
        session.execute(delete(Label).where(Label.item_id.in_(part)))
        session.execute(delete(Item).where(Item.id.in_(part)))
    return n_labels, key_ids


def unused_keys(session: Session, key_ids: Sequence[str]) -> list[str]:
    """Those of ``key_ids`` that no item's original or media is sealed under (any more)."""
    wanted = sorted(set(key_ids))
    used: set[str] = set()
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        for column in (ItemVault.key_id, ItemMedia.key_id):
            used.update(str(k) for k in session.scalars(select(column).where(column.in_(part))))
    return [key for key in wanted if key not in used]


def _lock_items_of(session: Session, stored: Sequence[str]) -> Sequence[Row[int, int]]:
    """``(id, project_id)`` of the items stored under these forms of a subject's id, in id
    order, locked until the transaction ends (PostgreSQL)."""
    return session.execute(
        select(Item.id, Item.project_id)
        .where(Item.subject_id.in_(stored))
        .order_by(Item.id)
        .with_for_update()
    ).all()


def erase_subject(
    session: Session,
    actor: Actor,
    subject_id: str,
    *,
    ref_key: bytes,
    now: datetime | None = None,
) -> Erasure:
    """Erase everything held about ``subject_id`` and return the receipt.

    ``ref_key``: the key of the subject's ref
    (:func:`loupe.services.compliance.vault.load_ref_key`).
    The caller commits, then runs :func:`finish_erasure`.
    """
    authorize(actor, "subjects.manage")
    now = now or utcnow()
    ref = subject_ref(subject_id, key=ref_key)
    stored = subject_forms(subject_id, key=ref_key)
    # The keys named after the subject (one may seal nothing yet: media sealed by an import
    # that died before writing its items) and every key its items were sealed under.
    named = [subject_key_id(form) for form in stored]
    # PostgreSQL: the subject's items locked (a submit in flight commits first, and its
    # label is counted), then its keys (an import sealing under them commits first), then
    # its items again, those that import wrote included (vault.py: an import that finds
    # the key gone after this commits seals under a new one).
    _lock_items_of(session, stored)
    lock_keys(session, named)
    rows = _lock_items_of(session, stored)
    item_ids = [int(row.id) for row in rows]
    models = retire_trained_on(session, item_ids, now=now)
    n_labels, key_ids = delete_items(session, item_ids)
    shredded = shred(session, sorted({*named, *key_ids}))
    if not item_ids and not shredded:
        raise NotFound(
            "nothing is held about this subject (no items, no key)",
            details={"subject_ref": ref},
        )
    receipt: dict[str, Any] = {
        "type": "loupe.erasure/v2",
        "subject_ref": ref,
        "erased_at": now.isoformat(timespec="seconds"),
        "erased_by": actor.username,
        "items": [{"project_id": int(r.project_id), "item_id": int(r.id)} for r in rows],
        "labels_deleted": n_labels,
        "keys_shredded": shredded,
        # Trained on these items: they no longer serve and their files are deleted.
        "models_retired": models.retired,
        # Their projects, due for retraining without these items.
        "models_retrain": models.retrain,
    }
    text = json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode()).hexdigest()
    session.add(ErasureReceipt(subject_ref=ref, receipt=text, sha256=digest, created_at=now))
    audit_log.record(
        session,
        actor,
        "subject.erase",
        target=ref,
        details={
            "items": len(item_ids),
            "labels_deleted": n_labels,
            "keys_shredded": shredded,
            "receipt_sha256": digest,
        },
        now=now,
    )
    erased = [(int(row.id), int(row.project_id)) for row in rows]
    webhooks.subject_erased(session, erased, receipt_sha256=digest, now=now)
    session.flush()
    return Erasure(receipt, text, digest)


@dataclass(frozen=True, slots=True)
class ErasureCleanup:
    """What :func:`finish_erasure` did: model files deleted, and the database scrub."""

    model_files_deleted: list[str]
    storage: Scrub


def finish_erasure(db: Database, *, store: ModelStore) -> ErasureCleanup:
    """After an erasure (or any deletion of personal data) COMMITTED: delete the files of
    retired models, empty this process's cache of sentence vectors, then scrub the
    deleted rows from the database files.

    Idempotent, and it catches up on anything an earlier crash left behind.
    """
    with db.transaction(readonly=True) as session:
        deleted = delete_retired_files(session, store)
    forget_encodings()
    return ErasureCleanup(model_files_deleted=deleted, storage=scrub(db.engine))


def forget_encodings() -> None:
    """Empty this process's cache of sentence vectors, if the encoder was ever loaded
    (checked in ``sys.modules``: an erasure imports no NumPy for it)."""
    import sys

    embeddings = sys.modules.get("loupe.learning.embeddings")
    if embeddings is not None:
        embeddings.forget_encodings()


@dataclass(frozen=True, slots=True)
class SubjectExport:
    """Everything held about a subject (GDPR art. 15)."""

    subject_ref: str
    key_held: bool
    items: list[dict[str, Any]]
    audit_events: list[dict[str, Any]]
    erasure_receipts: list[dict[str, Any]]


def export_subject(
    session: Session, actor: Actor, subject_id: str, *, vault: Vault, ref_key: bytes
) -> SubjectExport:
    """The subject's items (original and redacted), their labels and related audit events.

    Receipts and audit events written before refs were keyed (revision 0009) carry the
    legacy ``sha256:`` ref: both forms are looked up.
    """
    authorize(actor, "subjects.manage")
    ref = subject_ref(subject_id, key=ref_key)
    refs = [ref, legacy_subject_ref(subject_id)]
    stored = subject_forms(subject_id, key=ref_key)
    items = session.scalars(select(Item).where(Item.subject_id.in_(stored)).order_by(Item.id)).all()
    out: list[dict[str, Any]] = []
    targets: list[str] = []
    keys = {subject_key_id(form) for form in stored}
    for item in items:
        box = session.get(ItemVault, item.id)
        original: dict[str, Any] | None = None
        original_meta: dict[str, Any] | None = None
        if box is not None:
            keys.add(box.key_id)
            try:
                aad = item_aad(item.project_id, item.external_id)
                original, original_meta = split_original(
                    vault.open(session, box.key_id, box.ciphertext, aad=aad)
                )
            except NotFound:
                original = None
        labels = session.execute(
            select(Label.user_id, Label.answer, Label.created_at)
            .where(Label.item_id == item.id)
            .order_by(Label.id)
        ).all()
        out.append(
            {
                "project_id": item.project_id,
                "item_id": item.id,
                "external_id": item.external_id,
                "sensitivity": item.sensitivity,
                "withheld": item.withheld,
                "original": original,
                "shown_to_annotators": item.data,
                "metadata": original_meta if original_meta is not None else item.meta,
                "metadata_shown": item.meta,
                "created_at": item.created_at.isoformat(),
                "labels": [
                    {
                        "annotator": r.user_id,
                        "answer": r.answer,
                        "created_at": r.created_at.isoformat(),
                    }
                    for r in labels
                ],
                # Its images and recordings: what people were shown (by SHA-256), what the
                # gate found.
                "media": [
                    {
                        "field": part.field,
                        "mime": part.mime,
                        "sha256": part.sha256,
                        "width": part.width,
                        "height": part.height,
                        "kind": part.kind,
                        "duration_ms": part.duration_ms,
                        "sample_rate": part.sample_rate,
                        "regions": part.regions,
                        "original_sealed": part.sealed_blob is not None,
                    }
                    for part in session.scalars(
                        select(ItemMedia).where(ItemMedia.item_id == item.id).order_by(ItemMedia.id)
                    )
                ],
                # People's comments on the item, as stored (after the gate).
                "comments": [
                    {"author": r.user_id, "body": r.body, "created_at": r.created_at.isoformat()}
                    for r in session.execute(
                        select(ItemComment.user_id, ItemComment.body, ItemComment.created_at)
                        .where(ItemComment.item_id == item.id)
                        .order_by(ItemComment.id)
                    )
                ],
            }
        )
        targets.append(f"item:{item.id}")
    events: list[AuditEvent] = []
    for start in range(0, len(targets), 500):
        events += session.scalars(
            select(AuditEvent).where(AuditEvent.target.in_(targets[start : start + 500]))
        ).all()
    events += session.scalars(select(AuditEvent).where(AuditEvent.target.in_(refs))).all()
    receipts = session.scalars(
        select(ErasureReceipt)
        .where(ErasureReceipt.subject_ref.in_(refs))
        .order_by(ErasureReceipt.id)
    ).all()
    key_held = any(vault.has_key(session, key) for key in sorted(keys))
    if not out and not key_held and not receipts:
        raise NotFound("nothing is held about this subject", details={"subject_ref": ref})
    audit_log.record(session, actor, "subject.export", target=ref, details={"items": len(out)})
    return SubjectExport(
        subject_ref=ref,
        key_held=key_held,
        items=out,
        audit_events=[
            {"seq": e.seq, "at": e.at.isoformat(), "action": e.action, "target": e.target}
            for e in sorted(events, key=lambda e: e.seq)
        ],
        erasure_receipts=[{"sha256": r.sha256, "receipt": json.loads(r.receipt)} for r in receipts],
    )
