"""Items the privacy gate withheld: how many and why, and a second look at them.

The gate's verdict depends on the text alone (a detector that raised, a text over the
size limit, or any finding under the ``withhold`` policy), so retrying an item as it is
gives the same answer. A retry is worth it when the gate has changed since the import
(a detector fixed, a larger size limit, the project's policy moved from ``withhold`` to
redaction): :func:`retry_withheld` opens each withheld item's sealed original, gates it
again under the project's current policy and, when it now passes, stores the redacted
data and lets the item be handed out. The server runs it in the background
(``gate_retry_interval_seconds``); ``loupe privacy retry-withheld`` runs it at once.

Items imported without a key directory kept no original and cannot be retried.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.media_models import ItemMedia
from loupe.db.models import Item, Project
from loupe.db.privacy_models import ItemVault
from loupe.formats import Sensitivity
from loupe.services.access import Actor, authorize, authorize_project
from loupe.services.compliance import audit_log
from loupe.services.compliance.gate import PrivacyGate, classify
from loupe.services.compliance.privacy_settings import lock_privacy
from loupe.services.compliance.vault import item_aad, split_original

__all__ = ["RETRY_BATCH", "RetryRun", "WithheldCount", "retry_withheld", "withheld_counts"]

RETRY_BATCH = 500  # items re-gated per run and project, so one run stays a short transaction


@dataclass(frozen=True, slots=True)
class WithheldCount:
    """A project's withheld items: how many, and how many per reason."""

    project_id: int
    total: int
    by_reason: dict[str, int]


def withheld_counts(session: Session, actor: Actor, project_id: int) -> WithheldCount:
    """How many of the project's items are withheld, per reason (``"unknown"`` for
    items whose original was not kept)."""
    authorize_project(session, actor, "projects.read", project_id)
    rows = session.execute(
        select(ItemVault.withheld_reason)
        .select_from(Item)
        .outerjoin(ItemVault, ItemVault.item_id == Item.id)
        .where(Item.project_id == project_id, Item.withheld.is_(True))
    ).scalars()
    by_reason = Counter(reason or "unknown" for reason in rows)
    return WithheldCount(project_id, sum(by_reason.values()), dict(sorted(by_reason.items())))


@dataclass(slots=True)
class RetryRun:
    """What one retry did: items looked at again, and those it released."""

    retried: int = 0
    released: int = 0
    by_project: dict[int, int] = field(default_factory=dict)  # project id -> released


def retry_withheld(
    session: Session,
    actor: Actor,
    gate: PrivacyGate,
    *,
    project_id: int | None = None,
    limit: int = RETRY_BATCH,
) -> RetryRun:
    """Gate withheld items again (every project, or one); release those that now pass.

    Needs a gate with a vault (the originals are sealed). Each released item is
    audited as ``item.gate_retry``.
    """
    if gate.vault is None:
        raise ValueError("retrying withheld items needs the vault that sealed them")
    if project_id is None:
        authorize(actor, "projects.update")
        projects = list(session.scalars(select(Project.id).order_by(Project.id)))
    else:
        authorize_project(session, actor, "projects.update", project_id)
        projects = [project_id]
    run = RetryRun()
    for pid in projects:
        released = _retry_project(session, actor, gate, pid, limit=limit)
        run.retried += released[0]
        run.released += released[1]
        if released[1]:
            run.by_project[pid] = released[1]
    return run


def _retry_project(
    session: Session, actor: Actor, gate: PrivacyGate, project_id: int, *, limit: int
) -> tuple[int, int]:
    # Locked: an item is released under the settings that hold when this commits.
    settings = lock_privacy(session, project_id)
    if not settings.gate:
        return 0, 0
    assert gate.vault is not None
    # An item with media stays withheld: this retry gates text only, and an image held
    # back (no OCR, the withhold policy) would be released without its own second look.
    with_media = select(ItemMedia.id).where(ItemMedia.item_id == Item.id).exists()
    rows = session.execute(
        select(Item, ItemVault)
        .join(ItemVault, ItemVault.item_id == Item.id)
        .where(Item.project_id == project_id, Item.withheld.is_(True), ~with_media)
        .order_by(Item.id)
        .limit(limit)
        # PostgreSQL: another server's retry of the same items skips them (each is gated
        # and released once, audited once), and an erasure waits for this one.
        .with_for_update(of=Item, skip_locked=True)
    ).all()
    released = 0
    for item, box in rows:
        payload = gate.vault.open(
            session, box.key_id, box.ciphertext, aad=item_aad(project_id, item.external_id)
        )
        data, meta = split_original(payload)
        original_meta = meta if meta is not None else {}
        result = gate.check([data], policy=settings.policy, metadata=[original_meta])[0]
        if result.withheld_reason is not None:
            box.withheld_reason = result.withheld_reason
            continue
        item.data = result.data
        item.meta = result.metadata
        item.withheld = False
        # The withheld item's class is kept as a floor: a retry never lowers it.
        floor = cast(Sensitivity, item.sensitivity)
        item.sensitivity = classify(result, domain=item.domain, floor=floor, gated=True)
        box.spans = result.spans
        box.detected = list(result.detected)
        box.withheld_reason = None
        audit_log.record(
            session,
            actor,
            "item.gate_retry",
            project_id=project_id,
            target=f"item:{item.id}",
            details={"released": True, "detected": list(result.detected)},
        )
        released += 1
    return len(rows), released
