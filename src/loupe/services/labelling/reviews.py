"""Peer review: reviewers accept, reject (with a reason) or correct other people's labels.

A share of new labels (the project's ``review.rate``) is queued for review when it
is submitted. A review task is blind: the reviewer sees the item as the privacy gate
left it and the answer under review, never who gave it, and other labels on the item
only where the project says so. Project reviewers and managers may review; an
annotator may review in a domain once their reputation there reaches the project's
``review.min_tier``. Nobody reviews their own label or an item they labelled.

When a label has collected ``review.reviews_per_label`` verdicts it is decided by
majority: accepted, or rejected — then the label is withdrawn (its earning reversed
on the ledger, the item back in the queue, never offered to the same labeller
again) and the most common correction, if any, becomes the correcting reviewer's
label. Every verdict is reputation evidence for the labeller; on a gold item it is
also evidence for the reviewer (accepting what gold shows to be wrong costs standing).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.contributor_models import Review
from loupe.db.models import utcnow
from loupe.db.queries.gold_answers import GOLD_ANSWER
from loupe.db.queries.items import LOCK_ITEM
from loupe.db.queries.labels import OTHER_ANSWERS_ON_ITEM, USER_LABELLED_ITEM
from loupe.db.queries.memberships import MEMBER_ROLE
from loupe.db.queries.review_leases import (
    HELD_REVIEW,
    OTHER_REVIEW_LEASES,
    OWN_REVIEW_LEASE,
    RELEASE_REVIEW,
)
from loupe.db.queries.review_queue import (
    COUNT_REVIEW,
    DECIDE_REVIEW,
    FIRST_BY_LABEL_ID,
    ITEM_OF_QUEUED_LABEL,
    REVIEW_AFTER,
    REVIEW_CANDIDATES,
    REVIEW_STILL_OPEN,
    REVIEW_TASK,
    REVIEW_TASK_LOCKED,
    ReviewTask,
)
from loupe.db.queries.reviews import (
    INSERT_REVIEW,
    OWN_REVIEW,
    VERDICTS_ON_LABEL,
    GivenVerdict,
    OwnReview,
)
from loupe.db.queries.skips import SKIP_ITEM
from loupe.db.raw import Raw
from loupe.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from loupe.label_schema import LabelSchema, validate_answer
from loupe.reputation import tier_at_least
from loupe.routing import ReviewPolicy
from loupe.services.access import (
    Actor,
    ProjectRef,
    authorize_project,
    authorize_project_fast,
    sees_contributors,
)
from loupe.services.compliance.gate import redact_answer, redact_text
from loupe.services.labelling import leases
from loupe.services.labelling.leases import LABELS, Lessee, Queue
from loupe.services.labelling.lifecycle import (
    ItemState,
    Replacement,
    label_withdrawn,
    verdict_recorded,
)
from loupe.services.labelling.media_bounds import audio_duration_ms, image_size
from loupe.services.labelling.pairwise import blind
from loupe.services.payments.ledger_keys import LedgerConfig
from loupe.services.people.eligibility import SqlFilter, item_filter, load_profile, require_eligible
from loupe.services.people.standing import NewEvidence, record_many, tiers_of
from loupe.services.projects.definition import project_schema
from loupe.services.projects.media_views import MediaEntry, media_of

__all__ = [
    "ListedReview",
    "ReviewOutcome",
    "ReviewTaskView",
    "list_reviews",
    "next_review",
    "submit_review",
]

Verdict = Literal["accept", "reject", "correct"]
VERDICTS: tuple[Verdict, ...] = ("accept", "reject", "correct")
MAX_REASON = 500

# The reviewers' queue: labels waiting for verdicts, by label id.
_QUEUE = Queue(
    rows=LABELS,
    held=HELD_REVIEW,
    candidates=REVIEW_CANDIDATES,
    after=REVIEW_AFTER,
    order=FIRST_BY_LABEL_ID,
    still_open=REVIEW_STILL_OPEN,
)


@dataclass(frozen=True, slots=True)
class ReviewTaskView:
    """What a reviewer sees: the item as gated and the answer under review, not who gave it."""

    label_id: int
    item_id: int
    external_id: str
    data: dict[str, Any]
    language: str | None
    domain: str
    answer: Any
    other_answers: list[Any] | None  # only where the project shows other labels
    lease_expires_at: datetime
    config_version: int
    media: list[MediaEntry] = field(default_factory=list)  # the gated images, if any


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    review_id: int
    label_id: int
    verdict: str
    created: bool
    status: str  # the label's: pending (more reviews due), accepted or rejected
    correction_label_id: int | None = None


def _reviewable_domains(
    raw: Raw, actor: Actor, project: ProjectRef, policy: ReviewPolicy
) -> set[str] | None:
    """``None``: any domain (reviewers, managers); else the annotator's domains at tier."""
    assert actor.user_id is not None
    member = raw.one(MEMBER_ROLE, project=project.id, user=actor.user_id)
    role = member.role if member else None
    if role in ("reviewer", "manager"):
        return None
    return {
        domain
        for domain, tier in tiers_of(raw, actor.user_id).items()
        if tier_at_least(tier, policy.min_tier)  # type: ignore[arg-type]
    }


def _require_can_review(
    raw: Raw, actor: Actor, project: ProjectRef, policy: ReviewPolicy, domain: str
) -> None:
    domains = _reviewable_domains(raw, actor, project, policy)
    if domains is not None and domain not in domains:
        raise PermissionDenied(
            f"reviewing {domain} items needs the {policy.min_tier} reputation tier in {domain} "
            "(or the project's reviewer role)",
            details={"action": "reviews.work", "domain": domain, "min_tier": policy.min_tier},
        )


def _review_filter(
    raw: Raw, schema: LabelSchema, lessee: Lessee, domains: set[str] | None, *, now: datetime
) -> SqlFilter:
    """The reviewer's routing over items, and their domains where they review only some."""
    profile = load_profile(raw, lessee.user, now=now, project_id=lessee.project)
    routing = item_filter(schema.routing, profile)
    if domains is None:
        return routing
    names = {f"d{n}": domain for n, domain in enumerate(sorted(domains))}
    in_domains = f" AND i.domain IN ({', '.join(':' + name for name in names)})"
    return SqlFilter(routing.sql + in_domains, {**routing.params, **names})


def next_review(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    lease_seconds: int,
    now: datetime | None = None,
) -> ReviewTaskView | None:
    """The next label this reviewer should judge, reserved for ``lease_seconds``."""
    raw = Raw(session)
    project = authorize_project_fast(raw, actor, "reviews.work", project_id)
    assert actor.user_id is not None
    user = actor.user_id
    now = now or utcnow()
    schema = project_schema(project)
    domains = _reviewable_domains(raw, actor, project, schema.review)
    if domains is not None and not domains:
        raise PermissionDenied(
            f"reviewing needs the {schema.review.min_tier} reputation tier in a domain "
            "(or the project's reviewer role); keep labelling to earn it",
            details={"action": "reviews.work", "min_tier": schema.review.min_tier},
        )
    expires = now + timedelta(seconds=lease_seconds)
    lessee = Lessee(project_id, user, raw.time(now), raw.time(expires))
    row = leases.lease_next(
        raw, _QUEUE, lessee, lambda: _review_filter(raw, schema, lessee, domains, now=now)
    )
    if row is None:
        return None
    label_id = int(row.label_id)
    task = raw.one(REVIEW_TASK, label=label_id, project=project_id)
    assert task is not None
    others = None
    if schema.review.show_other_labels:
        others = [
            raw.json_out(other.answer)
            for other in raw.all(OTHER_ANSWERS_ON_ITEM, item=task.item_id, label=label_id)
        ]
    return ReviewTaskView(
        label_id=label_id,
        item_id=int(task.item_id),
        external_id=str(task.external_id),
        data=blind(schema, raw.json_out(task.data)),
        language=task.language,
        domain=str(task.domain),
        answer=raw.json_out(task.answer),
        other_answers=others,
        lease_expires_at=expires,
        config_version=project.config_version,
        media=media_of(raw, int(task.item_id), fields=schema.media_fields(), listener=user),
    )


def submit_review(
    session: Session,
    actor: Actor,
    project_id: int,
    label_id: int,
    *,
    verdict: str,
    reason: str = "",
    corrected_answer: Any = None,
    ledger: LedgerConfig | None = None,
    now: datetime | None = None,
) -> ReviewOutcome:
    """Record a verdict on a label; decide the label once it has all its reviews.

    A rejected label is withdrawn by :func:`loupe.services.labelling.lifecycle.label_withdrawn`.
    """
    raw = Raw(session)
    project = authorize_project_fast(raw, actor, "reviews.work", project_id)
    assert actor.user_id is not None
    user = actor.user_id
    now = now or utcnow()
    schema = project_schema(project)
    reason = _checked_reason(verdict, reason)
    task = _review_task(raw, project_id, label_id)
    item_id, labeller = int(task.item_id), int(task.labeller_id)
    if labeller == user:
        raise PermissionDenied("nobody reviews their own label", details={"label_id": label_id})
    _require_can_review(raw, actor, project, schema.review, str(task.domain))
    require_eligible(raw, schema.routing, user, item_id, now=now)
    corrected = None
    if verdict == "correct":
        corrected = _corrected(raw, session, schema, project_id, task, corrected_answer)
    mine = raw.one(OWN_REVIEW, label=label_id, user=user)
    if mine is not None:
        return _reviewed_before(mine, label_id, verdict, status=str(task.status))
    _require_open(raw, task, label_id=label_id, user_id=user, now=now)
    review_id = _insert_review(
        raw, session, project_id, task, label_id, user, verdict=verdict, reason=reason,
        corrected=corrected, now=now,
    )  # fmt: skip
    _review_evidence(
        raw, session, project_id, task, user, review_id, verdict=verdict, corrected=corrected,
        now=now,
    )  # fmt: skip
    status, correction = "pending", None
    if int(task.n_reviews) + 1 >= int(task.needed):
        item = ItemState(
            project=project, schema=schema, item_id=item_id, label_count=int(task.label_count)
        )
        status, correction = _decide(raw, session, item, ledger, label_id, labeller, now=now)
    if status != "rejected":
        verdict_recorded(raw, project, schema, item_id, now=now)
    return ReviewOutcome(review_id, label_id, verdict, True, status, correction)


def _checked_reason(verdict: str, reason: str) -> str:
    """The verdict is one of :data:`VERDICTS`; a rejection says why."""
    if verdict not in VERDICTS:
        raise InvalidInput(
            f"verdict: {verdict!r} is not a verdict; send one of {', '.join(VERDICTS)}",
            details={"field": "verdict", "allowed": list(VERDICTS)},
        )
    reason = reason.strip()
    if len(reason) > MAX_REASON or (verdict == "reject" and not reason):
        raise InvalidInput(
            f"reason: a rejection says why, in 1-{MAX_REASON} characters",
            details={"field": "reason"},
        )
    return reason


def _review_task(raw: Raw, project_id: int, label_id: int) -> ReviewTask:
    """The label's queue row joined to its label and item, both rows locked.

    PostgreSQL: the item first, as every change to an item's labels is made under its
    lock (a rejection withdraws the label and rewrites the item's counters: a submit on
    the item committed meanwhile was lost), then the queue row; read once both are held.
    """
    if raw.postgres:
        queued = raw.one(ITEM_OF_QUEUED_LABEL, label=label_id, project=project_id)
        if queued is not None:
            raw.one(LOCK_ITEM, item=int(queued.item_id))
    query = REVIEW_TASK_LOCKED if raw.postgres else REVIEW_TASK
    task = raw.one(query, label=label_id, project=project_id)
    if task is None:
        raise NotFound(
            f"label {label_id} is not waiting for review in project {project_id}",
            details={"label_id": label_id},
        )
    return task


def _corrected(
    raw: Raw,
    session: Session,
    schema: LabelSchema,
    project_id: int,
    task: ReviewTask,
    corrected_answer: Any,
) -> Any:
    """A correction's answer: valid, gated, and not the answer under review."""
    if corrected_answer is None:
        raise InvalidInput(
            "corrected_answer: a correction gives the right answer",
            details={"field": "corrected_answer"},
        )
    item_id = int(task.item_id)
    try:
        corrected = validate_answer(
            schema.task,
            corrected_answer,
            text=schema.text_of(raw.json_out(task.data)),
            size=image_size(raw, schema, item_id),
            duration_ms=audio_duration_ms(raw, schema, item_id),
        )
    except InvalidInput as error:  # it names ``answer``; the reviewer sent corrected_answer
        field = error.details.get("field", "answer")
        raise InvalidInput(
            f"corrected_{error.message}",
            details={**error.details, "field": f"corrected_{field}"},
        ) from error
    corrected = redact_answer(session, project_id, schema.task, corrected)
    if corrected == raw.json_out(task.answer):
        raise InvalidInput(
            "corrected_answer: it equals the answer under review; accept it instead",
            details={"field": "corrected_answer"},
        )
    return corrected


def _reviewed_before(mine: OwnReview, label_id: int, verdict: str, *, status: str) -> ReviewOutcome:
    """The same verdict again is the review already stored; another is a conflict."""
    if mine.verdict != verdict:
        raise Conflict(
            f"you already reviewed label {label_id} ({mine.verdict}); reviews cannot be changed",
            details={"label_id": label_id, "review_id": int(mine.id)},
        )
    return ReviewOutcome(int(mine.id), label_id, verdict, created=False, status=status)


def _require_open(
    raw: Raw, task: ReviewTask, *, label_id: int, user_id: int, now: datetime
) -> None:
    """Still pending, on an item the reviewer did not label, with a review slot left
    (theirs if they hold a lease on it, else one no other lease holds)."""
    item_id = int(task.item_id)
    if task.status != "pending":
        raise Conflict(
            f"label {label_id} was already {task.status} by its reviewers",
            details={"label_id": label_id, "status": task.status},
        )
    if raw.one(USER_LABELLED_ITEM, item=item_id, user=user_id) is not None:
        raise Conflict(
            f"you labelled item {item_id} yourself; someone else reviews its labels",
            details={"item_id": item_id},
        )
    taken, needed = int(task.n_reviews), int(task.needed)
    if raw.one(OWN_REVIEW_LEASE, label=label_id, user=user_id, now=raw.time(now)) is None:
        others = raw.one(OTHER_REVIEW_LEASES, label=label_id, user=user_id, now=raw.time(now))
        taken += int(others.leases) if others else 0
    if taken >= needed:
        raise Conflict(
            f"label {label_id} already has the {needed} review(s) it needs; "
            "ask for the next review instead",
            details={"label_id": label_id},
        )


def _insert_review(
    raw: Raw,
    session: Session,
    project_id: int,
    task: ReviewTask,
    label_id: int,
    user_id: int,
    *,
    verdict: str,
    reason: str,
    corrected: Any,
    now: datetime,
) -> int:
    """Store the verdict, count it on the queue row and free the reviewer's lease."""
    inserted = raw.one(
        INSERT_REVIEW,
        project=project_id,
        item=int(task.item_id),
        label=label_id,
        labeller=int(task.labeller_id),
        reviewer=user_id,
        verdict=verdict,
        # The reviewer's own words reach the labeller, managers and auditors: gated.
        reason=redact_text(session, project_id, reason).text if reason else "",
        answer=raw.json(raw.json_out(task.answer)),
        corrected=None if corrected is None else raw.json(corrected),
        now=raw.time(now),
    )
    assert inserted is not None
    raw.run(COUNT_REVIEW, n=int(task.n_reviews) + 1, label=label_id)
    raw.run(RELEASE_REVIEW, label=label_id, user=user_id)
    return int(inserted.id)


def _review_evidence(
    raw: Raw,
    session: Session,
    project_id: int,
    task: ReviewTask,
    reviewer: int,
    review_id: int,
    *,
    verdict: str,
    corrected: Any,
    now: datetime,
) -> None:
    """Every verdict is evidence for the labeller; on a gold item it is also evidence
    for the reviewer, checked against the gold answer."""
    domain, ref = str(task.domain), f"review:{review_id}"
    accepted = 1.0 if verdict == "accept" else 0.0
    evidence = [NewEvidence(int(task.labeller_id), domain, "review_received", accepted, ref)]
    gold = raw.one(GOLD_ANSWER, item=int(task.item_id)) if task.is_gold else None
    if gold is not None:
        truth = raw.json_out(gold.answer)
        right = (verdict == "accept") == (raw.json_out(task.answer) == truth)
        if verdict == "correct":
            right = corrected == truth
        evidence.append(NewEvidence(reviewer, domain, "review_check", 1.0 if right else 0.0, ref))
    record_many(session, evidence, project_id=project_id, now=now)


def _decide(
    raw: Raw,
    session: Session,
    item: ItemState,
    ledger: LedgerConfig | None,
    label_id: int,
    labeller: int,
    *,
    now: datetime,
) -> tuple[str, int | None]:
    """Decide a fully reviewed label by majority: accepted, or rejected — then it is
    withdrawn, never offered to its labeller again, and replaced by the most common
    correction (of a reviewer who has no label on the item)."""
    verdicts = raw.all(VERDICTS_ON_LABEL, label=label_id)
    accepts = sum(1 for given in verdicts if given.verdict == "accept")
    if 2 * accepts > len(verdicts):
        raw.run(DECIDE_REVIEW, status="accepted", label=label_id)
        return "accepted", None
    raw.run(DECIDE_REVIEW, status="rejected", label=label_id)
    raw.run(SKIP_ITEM, item=item.item_id, user=labeller, now=raw.time(now))
    withdrawn = label_withdrawn(
        raw, session, item, label_id=label_id, why="rejected", ledger=ledger, now=now,
        replacement=_replacement(raw, verdicts, item.item_id),
    )  # fmt: skip
    return "rejected", withdrawn.replacement_id


def _replacement(raw: Raw, verdicts: Sequence[GivenVerdict], item_id: int) -> Replacement | None:
    """The most common correction, as a label of the first reviewer who gave it, unless
    they labelled the item already."""
    fixes = [
        (int(given.reviewer_id), raw.json_out(given.corrected_answer))
        for given in verdicts
        if given.verdict == "correct"
    ]
    if not fixes:
        return None
    tally = Counter(json.dumps(answer, sort_keys=True) for _, answer in fixes)
    best = tally.most_common(1)[0][0]
    reviewer = next(u for u, a in fixes if json.dumps(a, sort_keys=True) == best)
    if raw.one(USER_LABELLED_ITEM, item=item_id, user=reviewer) is not None:
        return None
    return Replacement(user_id=reviewer, answer=json.loads(best))


@dataclass(frozen=True, slots=True)
class ListedReview:
    """A verdict as listed: ``labeller_id`` and ``reviewer_id`` are ``None`` for readers
    who review blind (see :func:`loupe.services.access.sees_contributors`)."""

    id: int
    item_id: int
    label_id: int | None
    labeller_id: int | None
    reviewer_id: int | None
    verdict: str
    reason: str
    reviewed_answer: Any
    corrected_answer: Any
    created_at: datetime


def list_reviews(
    session: Session, actor: Actor, project_id: int, *, after_id: int, limit: int
) -> Sequence[ListedReview]:
    """Every verdict of a project; who labelled and who reviewed only for managers,
    auditors and admins (reviewers see them blind)."""
    authorize_project(session, actor, "labels.read", project_id)
    named = sees_contributors(session, actor, project_id)
    rows = session.scalars(
        select(Review)
        .where(Review.project_id == project_id, Review.id > after_id)
        .order_by(Review.id)
        .limit(limit)
    ).all()
    return [
        ListedReview(
            id=row.id,
            item_id=row.item_id,
            label_id=row.label_id,
            labeller_id=row.labeller_id if named else None,
            reviewer_id=row.reviewer_id if named else None,
            verdict=row.verdict,
            reason=row.reason,
            reviewed_answer=row.reviewed_answer,
            corrected_answer=row.corrected_answer,
            created_at=row.created_at,
        )
        for row in rows
    ]
