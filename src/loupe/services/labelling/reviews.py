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

_ROLE = "SELECT role FROM memberships WHERE project_id = :project AND user_id = :user"
_HELD = (
    "SELECT rl.label_id FROM review_leases rl JOIN review_queue q ON q.label_id = rl.label_id "
    "WHERE rl.user_id = :user AND q.project_id = :project AND rl.expires_at > :now "
    "AND q.status = 'pending' ORDER BY rl.label_id LIMIT 1"
)
_CANDIDATE = (
    "SELECT q.label_id FROM review_queue q JOIN items i ON i.id = q.item_id "
    "WHERE q.project_id = :project AND q.status = 'pending' AND q.labeller_id <> :user "
    "AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.label_id = q.label_id "
    "    AND r.reviewer_id = :user) "
    "AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = q.item_id AND l.user_id = :user) "
    "AND q.n_reviews + (SELECT count(*) FROM review_leases rl WHERE rl.label_id = q.label_id "
    "    AND rl.user_id <> :user AND rl.expires_at > :now) < q.needed"
)
# Under the row lock, in a statement of its own: a fresh snapshot.
_STILL_OPEN = (
    "SELECT 1 FROM review_queue q WHERE q.label_id = :label AND q.status = 'pending' "
    "AND q.n_reviews + (SELECT count(*) FROM review_leases rl WHERE rl.label_id = q.label_id "
    "    AND rl.user_id <> :user AND rl.expires_at > :now) < q.needed"
)
# The reviewers' queue: labels waiting for verdicts, by label id.
_QUEUE = Queue(
    rows=LABELS,
    held=_HELD,
    candidates=_CANDIDATE,
    after=" AND q.label_id > :after",
    order=" ORDER BY q.label_id LIMIT 1",
    still_open=_STILL_OPEN,
)
_RELEASE = "DELETE FROM review_leases WHERE label_id = :label AND user_id = :user"
_TASK = (
    "SELECT q.item_id, q.labeller_id, q.status, q.n_reviews, q.needed, l.answer, i.external_id, "
    "i.data, i.language, i.domain, i.is_gold, i.label_count, l.user_id "
    "FROM review_queue q JOIN labels l ON l.id = q.label_id JOIN items i ON i.id = q.item_id "
    "WHERE q.label_id = :label AND q.project_id = :project"
)
_OTHERS = "SELECT answer FROM labels WHERE item_id = :item AND id <> :label ORDER BY id"
_MINE = "SELECT id, verdict FROM reviews WHERE label_id = :label AND reviewer_id = :user"
_MY_LEASE = (
    "SELECT 1 FROM review_leases WHERE label_id = :label AND user_id = :user AND expires_at > :now"
)
_OTHER_LEASES = (
    "SELECT count(*) FROM review_leases WHERE label_id = :label AND user_id <> :user "
    "AND expires_at > :now"
)
_INSERT = (
    "INSERT INTO reviews (project_id, item_id, label_id, labeller_id, reviewer_id, verdict, "
    "reason, reviewed_answer, corrected_answer, created_at) VALUES (:project, :item, :label, "
    ":labeller, :reviewer, :verdict, :reason, :answer, :corrected, :now) RETURNING id"
)
_COUNT_REVIEW = "UPDATE review_queue SET n_reviews = :n WHERE label_id = :label"
_VERDICTS = (
    "SELECT reviewer_id, verdict, corrected_answer FROM reviews WHERE label_id = :label ORDER BY id"
)
_DECIDE = "UPDATE review_queue SET status = :status WHERE label_id = :label"
_GOLD = "SELECT answer FROM gold_answers WHERE item_id = :item"
_SKIP = (
    "INSERT INTO skips (item_id, user_id, created_at) VALUES (:item, :user, :now) "
    "ON CONFLICT (item_id, user_id) DO NOTHING"
)
_HAS_LABEL = "SELECT 1 FROM labels WHERE item_id = :item AND user_id = :user"


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
    row = raw.one(_ROLE, project=project.id, user=actor.user_id)
    role = row[0] if row else None
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
    label_id = int(row[0])
    task = raw.one(_TASK, label=label_id, project=project_id)
    assert task is not None
    others = None
    if schema.review.show_other_labels:
        others = [raw.json_out(r[0]) for r in raw.all(_OTHERS, item=task[0], label=label_id)]
    return ReviewTaskView(
        label_id=label_id,
        item_id=int(task[0]),
        external_id=str(task[6]),
        data=blind(schema, raw.json_out(task[7])),
        language=task[8],
        domain=str(task[9]),
        answer=raw.json_out(task[5]),
        other_answers=others,
        lease_expires_at=expires,
        config_version=project.config_version,
        media=media_of(raw, int(task[0]), fields=schema.media_fields(), listener=user),
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
    item_id, labeller = int(task[0]), int(task[1])
    if labeller == user:
        raise PermissionDenied("nobody reviews their own label", details={"label_id": label_id})
    _require_can_review(raw, actor, project, schema.review, str(task[9]))
    require_eligible(raw, schema.routing, user, item_id, now=now)
    corrected = None
    if verdict == "correct":
        corrected = _corrected(raw, session, schema, project_id, task, corrected_answer)
    mine = raw.one(_MINE, label=label_id, user=user)
    if mine is not None:
        return _reviewed_before(mine, label_id, verdict, status=str(task[2]))
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
    if int(task[3]) + 1 >= int(task[4]):
        item = ItemState(project=project, schema=schema, item_id=item_id, label_count=int(task[11]))
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


def _review_task(raw: Raw, project_id: int, label_id: int) -> tuple[Any, ...]:
    """The label's queue row joined to its label and item, the queue row locked."""
    task = raw.one(
        _TASK + (" FOR UPDATE OF q" if raw.postgres else ""), label=label_id, project=project_id
    )
    if task is None:
        raise NotFound(
            f"label {label_id} is not waiting for review in project {project_id}",
            details={"label_id": label_id},
        )
    return tuple(task)


def _corrected(
    raw: Raw,
    session: Session,
    schema: LabelSchema,
    project_id: int,
    task: tuple[Any, ...],
    corrected_answer: Any,
) -> Any:
    """A correction's answer: valid, gated, and not the answer under review."""
    if corrected_answer is None:
        raise InvalidInput(
            "corrected_answer: a correction gives the right answer",
            details={"field": "corrected_answer"},
        )
    item_id = int(task[0])
    try:
        corrected = validate_answer(
            schema.task,
            corrected_answer,
            text=schema.text_of(raw.json_out(task[7])),
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
    if corrected == raw.json_out(task[5]):
        raise InvalidInput(
            "corrected_answer: it equals the answer under review; accept it instead",
            details={"field": "corrected_answer"},
        )
    return corrected


def _reviewed_before(
    mine: tuple[Any, ...], label_id: int, verdict: str, *, status: str
) -> ReviewOutcome:
    """The same verdict again is the review already stored; another is a conflict."""
    if mine[1] != verdict:
        raise Conflict(
            f"you already reviewed label {label_id} ({mine[1]}); reviews cannot be changed",
            details={"label_id": label_id, "review_id": int(mine[0])},
        )
    return ReviewOutcome(int(mine[0]), label_id, verdict, created=False, status=status)


def _require_open(
    raw: Raw, task: tuple[Any, ...], *, label_id: int, user_id: int, now: datetime
) -> None:
    """Still pending, on an item the reviewer did not label, with a review slot left
    (theirs if they hold a lease on it, else one no other lease holds)."""
    item_id = int(task[0])
    if task[2] != "pending":
        raise Conflict(
            f"label {label_id} was already {task[2]} by its reviewers",
            details={"label_id": label_id, "status": task[2]},
        )
    if raw.one(_HAS_LABEL, item=item_id, user=user_id) is not None:
        raise Conflict(
            f"you labelled item {item_id} yourself; someone else reviews its labels",
            details={"item_id": item_id},
        )
    taken, needed = int(task[3]), int(task[4])
    if raw.one(_MY_LEASE, label=label_id, user=user_id, now=raw.time(now)) is None:
        others = raw.one(_OTHER_LEASES, label=label_id, user=user_id, now=raw.time(now))
        taken += int(others[0]) if others else 0
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
    task: tuple[Any, ...],
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
        _INSERT,
        project=project_id,
        item=int(task[0]),
        label=label_id,
        labeller=int(task[1]),
        reviewer=user_id,
        verdict=verdict,
        # The reviewer's own words reach the labeller, managers and auditors: gated.
        reason=redact_text(session, project_id, reason).text if reason else "",
        answer=raw.json(raw.json_out(task[5])),
        corrected=None if corrected is None else raw.json(corrected),
        now=raw.time(now),
    )
    assert inserted is not None
    raw.run(_COUNT_REVIEW, n=int(task[3]) + 1, label=label_id)
    raw.run(_RELEASE, label=label_id, user=user_id)
    return int(inserted[0])


def _review_evidence(
    raw: Raw,
    session: Session,
    project_id: int,
    task: tuple[Any, ...],
    reviewer: int,
    review_id: int,
    *,
    verdict: str,
    corrected: Any,
    now: datetime,
) -> None:
    """Every verdict is evidence for the labeller; on a gold item it is also evidence
    for the reviewer, checked against the gold answer."""
    domain, ref = str(task[9]), f"review:{review_id}"
    accepted = 1.0 if verdict == "accept" else 0.0
    evidence = [NewEvidence(int(task[1]), domain, "review_received", accepted, ref)]
    gold = raw.one(_GOLD, item=int(task[0])) if task[10] else None
    if gold is not None:
        truth = raw.json_out(gold[0])
        right = (verdict == "accept") == (raw.json_out(task[5]) == truth)
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
    verdicts = raw.all(_VERDICTS, label=label_id)
    accepts = sum(1 for row in verdicts if row[1] == "accept")
    if 2 * accepts > len(verdicts):
        raw.run(_DECIDE, status="accepted", label=label_id)
        return "accepted", None
    raw.run(_DECIDE, status="rejected", label=label_id)
    raw.run(_SKIP, item=item.item_id, user=labeller, now=raw.time(now))
    withdrawn = label_withdrawn(
        raw, session, item, label_id=label_id, why="rejected", ledger=ledger, now=now,
        replacement=_replacement(raw, verdicts, item.item_id),
    )  # fmt: skip
    return "rejected", withdrawn.replacement_id


def _replacement(raw: Raw, verdicts: Sequence[Any], item_id: int) -> Replacement | None:
    """The most common correction, as a label of the first reviewer who gave it, unless
    they labelled the item already."""
    fixes = [(int(r[0]), raw.json_out(r[2])) for r in verdicts if r[1] == "correct"]
    if not fixes:
        return None
    tally = Counter(json.dumps(answer, sort_keys=True) for _, answer in fixes)
    best = tally.most_common(1)[0][0]
    reviewer = next(u for u, a in fixes if json.dumps(a, sort_keys=True) == best)
    if raw.one(_HAS_LABEL, item=item_id, user=reviewer) is not None:
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
