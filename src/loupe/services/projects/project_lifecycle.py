"""A project's life after creation: archive, unarchive, duplicate as a template, delete.

* **Archive** (managers, admins): the project serves no tasks, reviews or expert work and
  takes no imports or labels (:data:`loupe.services.access.CLOSED_WHEN_ARCHIVED`, a 409
  that says so); it stays readable — exports, the dashboard, wallets and the payment log.
  **Unarchive** reopens it. Project lists hide archived projects unless asked for them.
* **Duplicate** copies the configuration — label schema (with its quality, routing and
  review policies), guidelines, description, overlap, the privacy gate's settings, the
  loop's settings and the current rate card — and, if asked, the members; never items,
  labels or anything people produced.
* **Delete** (managers, admins; the caller types the project's name to confirm) removes
  the project and everything it holds: items, their sealed originals, labels, consensus,
  leases, reviews, escalations, predictions, model versions, comments, members, rate
  cards. The keys that sealed only this project's originals are shredded, as erasure
  does (a data subject's key still sealing items of another project stays). What stays:
  the payment log's entries (append-only: the log still verifies and balances remain
  payable; an entry names its project only by id, in its rate-card version ``p<id>.v<n>``,
  and its contributor by pseudonym), the audit log, erasure receipts, and the project's
  id and name in ``deleted_projects`` so that no later project takes the id.

Every one of these is recorded in the audit log. After a deletion commits, its caller runs
:func:`finish_deletion`: model files are deleted and the deleted rows scrubbed from the
database files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.db.ledger_models import LedgerEntry, RateCard
from loupe.db.loop_models import LoopConfig, ModelVersionRecord
from loupe.db.models import Item, Membership, Project, utcnow
from loupe.db.privacy_models import ItemVault, ProjectPrivacy
from loupe.db.project_models import DeletedProject, ItemComment
from loupe.db.scrub import ERASURE_TABLES, Scrub, scrub
from loupe.errors import Conflict, InvalidInput
from loupe.learning.persistence import ModelStore
from loupe.services.access import Actor, authorize_project
from loupe.services.compliance import audit_log
from loupe.services.compliance.subjects import delete_items
from loupe.services.compliance.vault import lock_keys, shred
from loupe.services.model_loop.model_versions import model_key
from loupe.services.payments.earnings import create_rate_card
from loupe.services.projects.definition import create_project

__all__ = [
    "DeletionCleanup",
    "ProjectDeletion",
    "archive_project",
    "delete_project",
    "duplicate_project",
    "finish_deletion",
    "unarchive_project",
]


def archive_project(
    session: Session, actor: Actor, project_id: int, *, now: datetime | None = None
) -> Project:
    """Archive the project (managers, admins); :class:`Conflict` if it already is."""
    project = authorize_project(session, actor, "projects.update", project_id)
    if project.archived_at is not None:
        raise Conflict(
            f"project {project_id} is already archived",
            details={"project_id": project_id, "reason": "archived"},
        )
    now = now or utcnow()
    project.archived_at = now
    project.archived_by = actor.user_id
    project.updated_at = now
    audit_log.record(
        session, actor, "project.archive", project_id=project_id, target=f"project:{project_id}"
    )
    session.flush()
    return project


def unarchive_project(
    session: Session, actor: Actor, project_id: int, *, now: datetime | None = None
) -> Project:
    """Reopen an archived project; :class:`Conflict` if it is not archived."""
    project = authorize_project(session, actor, "projects.update", project_id)
    if project.archived_at is None:
        raise Conflict(f"project {project_id} is not archived", details={"project_id": project_id})
    project.archived_at = None
    project.archived_by = None
    project.updated_at = now or utcnow()
    audit_log.record(
        session, actor, "project.unarchive", project_id=project_id, target=f"project:{project_id}"
    )
    session.flush()
    return project


def duplicate_project(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    name: str,
    members: bool = False,
) -> Project:
    """A new project named ``name`` with the configuration of ``project_id`` (see the
    module docstring); ``members`` copies the memberships too (needs ``projects.update``
    on the source). The actor becomes the new project's manager, as on creation."""
    source = authorize_project(
        session, actor, "projects.update" if members else "projects.read", project_id
    )
    copy = create_project(
        session,
        actor,
        name=name,
        config=source.config,
        overlap=source.overlap,
        guidelines=source.guidelines,
        description=source.description,
    )
    privacy = session.get(ProjectPrivacy, project_id)
    if privacy is not None:
        session.add(
            ProjectPrivacy(
                project_id=copy.id,
                policy=privacy.policy,
                gate=privacy.gate,
                retention_days=privacy.retention_days,
            )
        )
    loop = session.get(LoopConfig, project_id)
    if loop is not None:
        session.add(
            LoopConfig(
                project_id=copy.id,
                mix=dict(loop.mix),
                audit_share=loop.audit_share,
                label_share=loop.label_share,
                label_budget=loop.label_budget,
                oos_threshold=loop.oos_threshold,
                trainer=loop.trainer,
                seed=loop.seed,
                shadow_min_items=loop.shadow_min_items,
                shadow_max_drop=loop.shadow_max_drop,
                batches=0,
                labels_at_train=0,
            )
        )
    card = session.scalar(
        select(RateCard)
        .where(RateCard.project_id == project_id)
        .order_by(RateCard.version.desc())
        .limit(1)
    )
    # The actor manages the copy (its creator) or is an admin: they may set its rate card.
    if card is not None:
        create_rate_card(session, actor, copy.id, dict(card.card))
    n_members = 0
    if members:
        for row in session.scalars(
            select(Membership).where(Membership.project_id == project_id)
        ).all():
            if session.get(Membership, (copy.id, row.user_id)) is None:
                session.add(Membership(project_id=copy.id, user_id=row.user_id, role=row.role))
                n_members += 1
    session.flush()
    audit_log.record(
        session,
        actor,
        "project.duplicate",
        project_id=copy.id,
        target=f"project:{copy.id}",
        details={
            "from_project": project_id,
            "members_copied": n_members,
            "rate_card_copied": card is not None,
        },
    )
    return copy


@dataclass(frozen=True, slots=True)
class ProjectDeletion:
    """What a deletion removed, and what it kept (the payment log's entries)."""

    project_id: int
    name: str
    items_deleted: int
    labels_deleted: int
    comments_deleted: int
    keys_shredded: int
    ledger_entries_kept: int
    model_files: list[str]  # the stored models' keys; deleted by :func:`finish_deletion`


def delete_project(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    confirm: str,
    now: datetime | None = None,
) -> ProjectDeletion:
    """Delete the project and its data (see the module docstring); ``confirm`` must be the
    project's name exactly. The caller commits, then runs :func:`finish_deletion`."""
    project = authorize_project(session, actor, "projects.delete", project_id)
    if confirm != project.name:
        raise InvalidInput(
            f"confirm: type the project's name ({project.name!r}) to delete it and all its "
            "items and labels; the payment log keeps its entries",
            details={"field": "confirm"},
        )
    now = now or utcnow()
    name = project.name
    # PostgreSQL: an import's batch in flight (compliance/privacy_settings.lock_privacy)
    # commits first and its items are counted and their keys shredded; later ones find
    # the project gone.
    session.execute(select(Project.id).where(Project.id == project_id).with_for_update())
    item_ids = list(
        session.scalars(select(Item.id).where(Item.project_id == project_id).order_by(Item.id))
    )
    n_comments = _count(
        session, select(func.count(ItemComment.id)).where(ItemComment.project_id == project_id)
    )
    kept = _count(
        session, select(func.count(LedgerEntry.idx)).where(LedgerEntry.project_id == project_id)
    )
    models = [
        model_key(project_id, int(version))
        for version in session.scalars(
            select(ModelVersionRecord.version).where(ModelVersionRecord.project_id == project_id)
        )
    ]
    n_labels, key_ids = delete_items(session, item_ids)
    # Shred the keys nothing else is sealed under: a per-item key always, a subject's key
    # only when no other project still holds that subject's items.
    still_used: set[str] = set()
    wanted = sorted(set(key_ids))
    # Locked before looking for other items sealed under them (vault.py): an import into
    # another project sealing under a subject's key commits first, and that key stays.
    lock_keys(session, [key for key in wanted if key.startswith("subject:")])
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        still_used.update(
            session.scalars(select(ItemVault.key_id).where(ItemVault.key_id.in_(part)).distinct())
        )
    shredded = shred(session, [key for key in wanted if key not in still_used])
    # Everything else of the project goes with its row (ON DELETE CASCADE); the payment
    # log's entries lose only their internal project and label links (SET NULL).
    session.delete(project)
    session.flush()
    session.add(DeletedProject(id=project_id, name=name, deleted_at=now, deleted_by=actor.user_id))
    audit_log.record(
        session,
        actor,
        "project.delete",
        project_id=project_id,
        target=f"project:{project_id}",
        details={
            "name": name,
            "items_deleted": len(item_ids),
            "labels_deleted": n_labels,
            "comments_deleted": n_comments,
            "keys_shredded": shredded,
            "ledger_entries_kept": kept,
        },
        now=now,
    )
    session.flush()
    return ProjectDeletion(
        project_id=project_id,
        name=name,
        items_deleted=len(item_ids),
        labels_deleted=n_labels,
        comments_deleted=n_comments,
        keys_shredded=shredded,
        ledger_entries_kept=kept,
        model_files=models,
    )


def _count(session: Session, query: Select[int]) -> int:
    return int(session.scalar(query) or 0)


@dataclass(frozen=True, slots=True)
class DeletionCleanup:
    """What :func:`finish_deletion` did: model files deleted, and the database scrub."""

    model_files_deleted: list[str]
    storage: Scrub


def finish_deletion(
    db: Database, deletion: ProjectDeletion, *, store: ModelStore
) -> DeletionCleanup:
    """After a deletion COMMITTED: delete the project's model files, then scrub the deleted
    rows from the database files (:func:`loupe.db.scrub.scrub`). Idempotent."""
    deleted = [key for key in deletion.model_files if _unlink(store, key)]
    tables = (*ERASURE_TABLES, "item_comments", "memberships", "projects")
    return DeletionCleanup(model_files_deleted=deleted, storage=scrub(db.engine, tables=tables))


def _unlink(store: ModelStore, key: str) -> bool:
    try:
        return store.delete(key)
    except OSError:  # the deletion has committed: report it by leaving the key out
        return False
