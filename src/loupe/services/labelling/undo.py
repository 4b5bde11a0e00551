"""Taking back one's own label within a grace period (``U`` in the workspace).

An annotator who pressed the wrong key may withdraw the label they just submitted,
for ``LOUPE_UNDO_GRACE_SECONDS`` after submitting it. Undo withdraws the label
(:func:`loupe.services.labelling.lifecycle.label_withdrawn`: deleted, the item's ``label_count``
decremented, re-opening it if it was complete, its consensus recomputed) and hands the
item back to the annotator under a fresh lease, so the next ``next task`` returns it
for a second try.

The payment log is append-only: if the label earned, its earning stays in the log
and a ``correction.undone`` entry of minus what it netted is appended in the same
transaction, naming the earning. That correction is bookkeeping that follows from
the undo (as the earning followed from the submit), so it is recorded on the
system's authority once the annotator's undo has been authorised.

Example (in a transaction)::

    undone = undo_label(session, maya, project_id, item_id, grace_seconds=30,
                        lease_seconds=600)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from loupe.db.models import utcnow
from loupe.db.queries.assignments import LEASE_ITEM
from loupe.db.queries.items import ITEM_FOR_UNDO
from loupe.db.queries.labels import OWN_LABEL_TO_UNDO
from loupe.db.raw import Raw
from loupe.errors import Conflict, NotFound
from loupe.services.access import Actor, authorize_project_fast
from loupe.services.labelling.lifecycle import ItemState, label_withdrawn
from loupe.services.labelling.tasks import release
from loupe.services.payments.ledger_keys import LedgerConfig
from loupe.services.projects.definition import project_schema

__all__ = ["Undone", "undo_label"]


@dataclass(frozen=True, slots=True)
class Undone:
    """The withdrawn label, and the item's state after it."""

    item_id: int
    label_id: int
    answer: Any
    label_count: int
    correction_index: int | None  # the ledger correction appended, if the label had earned


def undo_label(
    session: Session,
    actor: Actor,
    project_id: int,
    item_id: int,
    *,
    grace_seconds: int,
    lease_seconds: int,
    ledger: LedgerConfig | None = None,
    now: datetime | None = None,
) -> Undone:
    """Withdraw ``actor``'s own label on an item, if it is at most ``grace_seconds`` old.

    :class:`NotFound` when they have no label on it; :class:`Conflict` once the grace
    period is over (or undo is off: ``grace_seconds == 0``), or when the label earned
    and no ``ledger`` was given to record its reversal.
    """
    raw = Raw(session)
    project = authorize_project_fast(raw, actor, "tasks.work", project_id)
    assert actor.user_id is not None
    user = actor.user_id
    now = now or utcnow()
    row = raw.one(ITEM_FOR_UNDO.locked(raw.postgres), item=item_id)
    if row is None or row.project_id != project_id:
        raise NotFound(
            f"item {item_id} does not exist in project {project_id}",
            details={"item_id": item_id},
        )
    mine = raw.one(OWN_LABEL_TO_UNDO, item=item_id, user=user)
    if mine is None:
        raise NotFound(f"you have no label on item {item_id} to undo", details={"item_id": item_id})
    label_id, created_at = int(mine.id), raw.time_out(mine.created_at)
    if grace_seconds <= 0 or now - created_at > timedelta(seconds=grace_seconds):
        raise Conflict(
            f"the label on item {item_id} is older than the {grace_seconds} s undo grace "
            "period; ask a project manager to review it instead",
            details={"item_id": item_id, "label_id": label_id, "grace_seconds": grace_seconds},
        )

    schema = project_schema(project)
    item = ItemState(
        project=project, schema=schema, item_id=item_id, label_count=int(row.label_count)
    )
    withdrawn = label_withdrawn(
        raw, session, item, label_id=label_id, why="undone", ledger=ledger, now=now
    )
    # Hand the item back: the slot the label held becomes this annotator's lease.
    release(raw, item_id=item_id, user_id=user)
    raw.run(
        LEASE_ITEM,
        project=project_id,
        item=item_id,
        user=user,
        expires=raw.time(now + timedelta(seconds=lease_seconds)),
        now=raw.time(now),
    )
    return Undone(
        item_id=item_id,
        label_id=label_id,
        answer=raw.json_out(mine.answer),
        label_count=withdrawn.label_count,
        correction_index=withdrawn.correction_index,
    )
