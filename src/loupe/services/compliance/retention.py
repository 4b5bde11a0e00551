"""Retention: purge items older than their project's ``retention_days``.

Run by ``loupe retention run``, ``POST /api/v1/retention/run`` (a cron job), or a
server's own timer calling :func:`run_retention` in a write transaction. Purged
items go as in an erasure (:func:`loupe.services.compliance.subjects.delete_items`); per-item
pseudo-subject keys are shredded with them, and a named subject's key once none of
its items remain (or no item is sealed under it any more). Each project's purge is
audited. Retention needs no ref key: it reads the subjects as stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loupe.db.models import Item, utcnow
from loupe.db.privacy_models import ProjectPrivacy
from loupe.services.access import Actor, authorize
from loupe.services.compliance import audit_log
from loupe.services.compliance.subjects import delete_items, unused_keys
from loupe.services.compliance.vault import lock_keys, shred, subject_key_id

__all__ = ["ProjectPurge", "RetentionRun", "run_retention"]


@dataclass(frozen=True, slots=True)
class ProjectPurge:
    project_id: int
    retention_days: int
    cutoff: datetime
    items_deleted: int
    labels_deleted: int
    keys_shredded: int


@dataclass(slots=True)
class RetentionRun:
    purges: list[ProjectPurge] = field(default_factory=list)

    @property
    def items_deleted(self) -> int:
        return sum(p.items_deleted for p in self.purges)


def run_retention(
    session: Session, actor: Actor, *, now: datetime | None = None, batch: int = 1_000
) -> RetentionRun:
    """Purge every project's expired items; returns what went, per project."""
    authorize(actor, "subjects.manage")
    now = now or utcnow()
    run = RetentionRun()
    policies = session.execute(
        select(ProjectPrivacy.project_id, ProjectPrivacy.retention_days)
        .where(ProjectPrivacy.retention_days.is_not(None))
        .order_by(ProjectPrivacy.project_id)
    ).all()
    for project_id, kept in policies:
        days = int(kept or 0)
        cutoff = now - timedelta(days=days)
        items = labels = keys = 0
        while True:
            rows = session.execute(
                select(Item.id, Item.subject_id)
                .where(Item.project_id == project_id, Item.created_at < cutoff)
                .order_by(Item.id)
                .limit(batch)
                .with_for_update()
            ).all()
            if not rows:
                break
            n_labels, key_ids = delete_items(session, [int(r.id) for r in rows])
            # As stored: refs, or ids written before refs were (each form has its own key).
            subjects = sorted({str(r.subject_id) for r in rows if r.subject_id is not None})
            # Locked before looking for their items (vault.py): an import sealing a new item
            # under one commits first, and that key stays.
            lock_keys(
                session,
                {subject_key_id(s) for s in subjects}
                | {k for k in key_ids if k.startswith("subject:")},
            )
            gone = [
                s
                for s in subjects
                if not session.scalar(select(func.count()).where(Item.subject_id == s))
            ]
            doomed = {k for k in key_ids if k.startswith("item:")}
            # A subject's key once none of its items remain: the one named after it, and
            # any other that no item is sealed under any more (one renamed when its ids
            # were converted to refs, loupe.services.compliance.subject_refs).
            doomed |= {subject_key_id(s) for s in gone}
            doomed |= set(unused_keys(session, [k for k in key_ids if k.startswith("subject:")]))
            keys += shred(session, sorted(doomed))
            items += len(rows)
            labels += n_labels
        if items:
            purge = ProjectPurge(project_id, days, cutoff, items, labels, keys)
            run.purges.append(purge)
            audit_log.record(
                session,
                actor,
                "retention.purge",
                project_id=project_id,
                target=f"project:{project_id}",
                details={
                    "retention_days": days,
                    "cutoff": cutoff.isoformat(timespec="seconds"),
                    "items": items,
                    "labels_deleted": labels,
                    "keys_shredded": keys,
                },
                now=now,
            )
    return run
