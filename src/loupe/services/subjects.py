"""Data subjects' rights: export everything held about a subject, or erase it.

Erasure (GDPR art. 17) deletes the subject's items — their redacted data, sealed
originals, labels, leases and consensus go with them, so exports omit them — and
shreds the subject's key, so any copy of the ciphertext (a backup) is unreadable.
Payment-log entries for those labels keep their leaves (the log must still verify)
and lose only the internal link to the label. The erasure is audited and answered
with a receipt: canonical JSON and its sha256, stored in ``erasure_receipts``.

The subject id is recorded only as ``sha256:<hex>`` of itself: the receipt proves
*that* a given subject was erased without keeping who they were.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from loupe.db.loop_models import ModelVersionRecord
from loupe.db.models import Item, Label, utcnow
from loupe.db.privacy_models import AuditEvent, ErasureReceipt, ItemVault
from loupe.errors import NotFound
from loupe.services import audit
from loupe.services.access import Actor, authorize
from loupe.services.vault import Vault, item_aad, shred, split_original, subject_key_id

__all__ = [
    "TRAINING_HOOKS",
    "Erasure",
    "SubjectExport",
    "delete_items",
    "erase_subject",
    "export_subject",
    "subject_ref",
    "trained_model_versions",
]


def trained_model_versions(session: Session, item_ids: Sequence[int]) -> list[str]:
    """The model versions (``project:<id>/v<version>``) whose training set held any of
    these items, from the model registry's ``training_ids`` (external ids)."""
    wanted: dict[int, set[str]] = {}
    for start in range(0, len(item_ids), 500):
        part = list(item_ids[start : start + 500])
        for project_id, external_id in session.execute(
            select(Item.project_id, Item.external_id).where(Item.id.in_(part))
        ):
            wanted.setdefault(int(project_id), set()).add(str(external_id))
    if not wanted:
        return []
    rows = session.execute(
        select(
            ModelVersionRecord.project_id,
            ModelVersionRecord.version,
            ModelVersionRecord.training_ids,
        ).where(ModelVersionRecord.project_id.in_(list(wanted)))
    )
    return sorted(
        f"project:{project_id}/v{version}"
        for project_id, version, trained in rows
        if wanted[int(project_id)].intersection(str(i) for i in trained or ())
    )


# Who trained on what: each hook maps erased item ids to model versions that saw them,
# listed in the erasure receipt so that those models can be retrained without them.
TRAINING_HOOKS: list[Callable[[Session, Sequence[int]], list[str]]] = [trained_model_versions]


def subject_ref(subject_id: str) -> str:
    return "sha256:" + hashlib.sha256(subject_id.encode()).hexdigest()


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
        n_labels += session.scalar(select(func.count()).where(Label.item_id.in_(part))) or 0
        key_ids += session.scalars(select(ItemVault.key_id).where(ItemVault.item_id.in_(part)))
        # Explicit, not only ON DELETE CASCADE: the ciphertext must go in this statement
        # order on every backend, before the items that reference it.
        session.execute(delete(ItemVault).where(ItemVault.item_id.in_(part)))
        session.execute(delete(Label).where(Label.item_id.in_(part)))
        session.execute(delete(Item).where(Item.id.in_(part)))
    return n_labels, key_ids


def erase_subject(
    session: Session, actor: Actor, subject_id: str, *, now: datetime | None = None
) -> Erasure:
    """Erase everything held about ``subject_id`` and return the receipt."""
    authorize(actor, "subjects.manage")
    now = now or utcnow()
    rows = session.execute(
        select(Item.id, Item.project_id).where(Item.subject_id == subject_id).order_by(Item.id)
    ).all()
    item_ids = [int(row[0]) for row in rows]
    key = subject_key_id(subject_id)
    models = sorted({v for hook in TRAINING_HOOKS for v in hook(session, item_ids)})
    n_labels, key_ids = delete_items(session, item_ids)
    shredded = shred(session, sorted({key, *key_ids}))
    if not item_ids and not shredded:
        raise NotFound(
            "nothing is held about this subject (no items, no key)",
            details={"subject_ref": subject_ref(subject_id)},
        )
    ref = subject_ref(subject_id)
    receipt: dict[str, Any] = {
        "type": "loupe.erasure/v1",
        "subject_ref": ref,
        "erased_at": now.isoformat(timespec="seconds"),
        "erased_by": actor.username,
        "items": [{"project_id": int(r[1]), "item_id": int(r[0])} for r in rows],
        "labels_deleted": n_labels,
        "keys_shredded": shredded,
        # Models already trained on these items keep what they learnt: listed for retraining.
        "trained_model_versions": models,
    }
    text = json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode()).hexdigest()
    session.add(ErasureReceipt(subject_ref=ref, receipt=text, sha256=digest, created_at=now))
    audit.record(
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
    session.flush()
    return Erasure(receipt, text, digest)


@dataclass(frozen=True, slots=True)
class SubjectExport:
    """Everything held about a subject (GDPR art. 15)."""

    subject_ref: str
    key_held: bool
    items: list[dict[str, Any]]
    audit_events: list[dict[str, Any]]
    erasure_receipts: list[dict[str, Any]]


def export_subject(
    session: Session, actor: Actor, subject_id: str, *, vault: Vault
) -> SubjectExport:
    """The subject's items (original and redacted), their labels and related audit events."""
    authorize(actor, "subjects.manage")
    ref = subject_ref(subject_id)
    items = session.scalars(
        select(Item).where(Item.subject_id == subject_id).order_by(Item.id)
    ).all()
    out: list[dict[str, Any]] = []
    targets: list[str] = []
    for item in items:
        box = session.get(ItemVault, item.id)
        original: dict[str, Any] | None = None
        original_meta: dict[str, Any] | None = None
        if box is not None:
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
                    {"annotator": r[0], "answer": r[1], "created_at": r[2].isoformat()}
                    for r in labels
                ],
            }
        )
        targets.append(f"item:{item.id}")
    events: list[AuditEvent] = []
    for start in range(0, len(targets), 500):
        events += session.scalars(
            select(AuditEvent).where(AuditEvent.target.in_(targets[start : start + 500]))
        ).all()
    events += session.scalars(select(AuditEvent).where(AuditEvent.target == ref)).all()
    receipts = session.scalars(
        select(ErasureReceipt).where(ErasureReceipt.subject_ref == ref).order_by(ErasureReceipt.id)
    ).all()
    key_held = vault.has_key(session, subject_key_id(subject_id))
    if not out and not key_held and not receipts:
        raise NotFound("nothing is held about this subject", details={"subject_ref": ref})
    audit.record(session, actor, "subject.export", target=ref, details={"items": len(out)})
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
