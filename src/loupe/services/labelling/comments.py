"""Comments on items: what reviewers, experts, annotators and managers say about one.

Who may comment on an item, and read its comments, is who may see the item: the project's
managers, reviewers and auditors (``items.read``), admins, and anyone who holds a task,
a review or an expert task for it or labelled it. Auditors read but do not write.

A comment is a person's free text and is treated like any other (flag and review reasons,
typed answers): it passes the project's privacy gate (:func:`loupe.services.compliance.gate.
redact_text`) *before* it is stored, so an e-mail address, phone number or IBAN typed into
one is stored redacted and the original is never kept. Comments belong to their item: they
are deleted with it (ON DELETE CASCADE), so erasing a data subject or deleting the project
deletes them. Authors are shown to those who may see who labelled (managers, auditors,
admins); others see only whether a comment is their own, so review stays blind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from loupe.db.contributor_models import Review, ReviewLease, ReviewTask
from loupe.db.models import Assignment, Item, Label, Project, User, utcnow
from loupe.db.project_models import ItemComment
from loupe.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from loupe.permissions import allowed
from loupe.services.access import Actor, authorize_project, member_role
from loupe.services.compliance import audit_log
from loupe.services.compliance.gate import redact_text

__all__ = ["MAX_COMMENT", "Comment", "add_comment", "list_comments"]

MAX_COMMENT = 2000


@dataclass(frozen=True, slots=True)
class Comment:
    """A stored comment as the reader may see it (``author`` only for those who may see
    who labelled; ``mine`` for everyone)."""

    id: int
    item_id: int
    body: str
    redacted: bool
    mine: bool
    author: str | None
    created_at: datetime


def _holds(session: Session, item_id: int, user_id: int, now: datetime) -> bool:
    """Whether the user holds a task, review or expert task for the item, or labelled or
    reviewed it."""
    lease = exists().where(
        Assignment.item_id == item_id, Assignment.user_id == user_id, Assignment.expires_at > now
    )
    labelled = exists().where(Label.item_id == item_id, Label.user_id == user_id)
    review = exists().where(
        ReviewLease.user_id == user_id,
        ReviewLease.expires_at > now,
        ReviewLease.label_id == ReviewTask.label_id,
        ReviewTask.item_id == item_id,
    )
    reviewed = exists().where(Review.item_id == item_id, Review.reviewer_id == user_id)
    return bool(session.scalar(select(lease | labelled | review | reviewed)))


def _item_for(
    session: Session, actor: Actor, project_id: int, item_id: int, *, write: bool
) -> tuple[Project, bool]:
    """The project, once the actor may see item ``item_id`` in it (and may write, when
    ``write``); also whether the actor may see comments' authors."""
    project = authorize_project(session, actor, "projects.read", project_id)
    item = session.get(Item, item_id)
    if item is None or item.project_id != project_id:
        raise NotFound(
            f"item {item_id} does not exist in project {project_id}",
            details={"item_id": item_id, "project_id": project_id},
        )
    role = member_role(session, project_id, actor.user_id)
    reads = allowed(actor.role, "items.read", member_role=role)
    works = allowed(actor.role, "tasks.work", member_role=role) or allowed(
        actor.role, "projects.update", member_role=role
    )
    sees = reads or (
        actor.user_id is not None and works and _holds(session, item_id, actor.user_id, utcnow())
    )
    if not sees:
        raise PermissionDenied(
            f"you may comment on and read the comments of an item you can see: hold a task "
            f"for item {item_id} or labelled it, or be a project reviewer or manager",
            details={"item_id": item_id, "action": "comments"},
        )
    if write and not works:
        raise PermissionDenied(
            "auditors read comments but do not write them",
            details={"item_id": item_id, "action": "comments.write"},
        )
    return project, allowed(actor.role, "labellers.read", member_role=role)


def add_comment(
    session: Session,
    actor: Actor,
    project_id: int,
    item_id: int,
    *,
    body: str,
    now: datetime | None = None,
) -> Comment:
    """Store a comment on the item after the project's gate; audited (without the text)."""
    text = body.strip()
    if not 1 <= len(text) <= MAX_COMMENT:
        raise InvalidInput(f"body: write 1-{MAX_COMMENT} characters", details={"field": "body"})
    project, _ = _item_for(session, actor, project_id, item_id, write=True)
    if project.archived_at is not None:
        raise Conflict(
            f"project {project_id} is archived: it takes no new comments; "
            "a project manager can unarchive it",
            details={"project_id": project_id, "reason": "archived"},
        )
    # A person's own words reach everyone who can see the item: they pass the gate first.
    gated = redact_text(session, project_id, text)
    row = ItemComment(
        item_id=item_id,
        project_id=project_id,
        user_id=actor.user_id,
        body=gated.text,
        redacted=gated.found,
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    audit_log.record(
        session,
        actor,
        "comment.add",
        project_id=project_id,
        target=f"item:{item_id}",
        details={"comment_id": row.id, "redacted": gated.found},
    )
    return Comment(
        id=row.id,
        item_id=item_id,
        body=row.body,
        redacted=row.redacted,
        mine=True,
        author=actor.username,
        created_at=row.created_at,
    )


def list_comments(
    session: Session, actor: Actor, project_id: int, item_id: int
) -> Sequence[Comment]:
    """The item's comments, oldest first, for those who may see the item."""
    _, sees_authors = _item_for(session, actor, project_id, item_id, write=False)
    rows = session.execute(
        select(ItemComment, User.username)
        .outerjoin(User, User.id == ItemComment.user_id)
        .where(ItemComment.item_id == item_id)
        .order_by(ItemComment.id)
    ).all()
    return [
        Comment(
            id=row.id,
            item_id=row.item_id,
            body=row.body,
            redacted=row.redacted,
            mine=row.user_id is not None and row.user_id == actor.user_id,
            author=username if sees_authors else None,
            created_at=row.created_at,
        )
        for row, username in rows
    ]
