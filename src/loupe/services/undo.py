"""Taking back one's own label within a grace period (``U`` in the workspace).

An annotator who pressed the wrong key may withdraw the label they just submitted,
for ``LOUPE_UNDO_GRACE_SECONDS`` after submitting it. Undo deletes the label,
decrements the item's ``label_count`` (re-opening it if it was complete), recomputes
the item's consensus and hands the item back to the annotator under a fresh lease,
so the next ``next task`` returns it for a second try.

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
from loupe.db.raw import Raw
from loupe.errors import Conflict, NotFound
from loupe.services.access import Actor, authorize_project_fast
from loupe.services.ledger_keys import LedgerConfig
from loupe.services.payments import correct_entry, earning_net
from loupe.services.projects import project_schema
from loupe.services.quality import live_consensus
from loupe.services.tasks import release

__all__ = ["Undone", "undo_label"]

_ITEM = "SELECT project_id, label_count FROM items WHERE id = :item"
_MINE = "SELECT id, answer, created_at FROM labels WHERE item_id = :item AND user_id = :user"
_DELETE = "DELETE FROM labels WHERE id = :label"
_COUNT = "UPDATE items SET label_count = :count, is_complete = :complete WHERE id = :item"
_LEFT = "SELECT count(*) FROM labels WHERE item_id = :item"
_NO_CONSENSUS = "DELETE FROM consensus WHERE item_id = :item"
_LEASE = (
    "INSERT INTO assignments (project_id, item_id, user_id, expires_at, created_at) "
    "VALUES (:project, :item, :user, :expires, :now)"
)


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
    item = raw.one(_ITEM + (" FOR UPDATE" if raw.postgres else ""), item=item_id)
    if item is None or item[0] != project_id:
        raise NotFound(
            f"item {item_id} does not exist in project {project_id}",
            details={"item_id": item_id},
        )
    mine = raw.one(_MINE, item=item_id, user=user)
    if mine is None:
        raise NotFound(f"you have no label on item {item_id} to undo", details={"item_id": item_id})
    label_id, created_at = int(mine[0]), raw.time_out(mine[2])
    if grace_seconds <= 0 or now - created_at > timedelta(seconds=grace_seconds):
        raise Conflict(
            f"the label on item {item_id} is older than the {grace_seconds} s undo grace "
            "period; ask a project manager to review it instead",
            details={"item_id": item_id, "label_id": label_id, "grace_seconds": grace_seconds},
        )

    correction = _reverse_earning(session, ledger, label_id=label_id, now=now)
    raw.run(_DELETE, label=label_id)
    count = max(int(item[1]) - 1, 0)
    raw.run(_COUNT, count=count, complete=count >= project.overlap, item=item_id)
    left = raw.one(_LEFT, item=item_id)
    if left is not None and int(left[0]) > 0:
        live_consensus(
            raw,
            project_id=project_id,
            overlap=project.overlap,
            schema=project_schema(project),
            item_id=item_id,
            now=now,
        )
    else:
        raw.run(_NO_CONSENSUS, item=item_id)
    # Hand the item back: the slot the label held becomes this annotator's lease.
    release(raw, item_id=item_id, user_id=user)
    raw.run(
        _LEASE,
        project=project_id,
        item=item_id,
        user=user,
        expires=raw.time(now + timedelta(seconds=lease_seconds)),
        now=raw.time(now),
    )
    return Undone(
        item_id=item_id,
        label_id=label_id,
        answer=raw.json_out(mine[1]),
        label_count=count,
        correction_index=correction,
    )


def _reverse_earning(
    session: Session, ledger: LedgerConfig | None, *, label_id: int, now: datetime
) -> int | None:
    # From the logged bytes, each entry checked against its columns: an edited amount
    # refuses the undo (naming the position) instead of reversing the wrong sum.
    earning = earning_net(session, label_id, secret=ledger.keys.secret if ledger else None)
    if earning is None:
        return None
    index, net = earning
    if net == 0:
        return None
    if ledger is None:
        raise Conflict(
            "this label earned a payment, and reversing it needs the ledger keys; "
            "configure LOUPE_KEY_DIR (created by `loupe init`)",
            details={"label_id": label_id},
        )
    return correct_entry(
        session,
        Actor.system(),
        ledger,
        index,
        amount_minor=-net,
        reason="undone",
        now=now,
    )
