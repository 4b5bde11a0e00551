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
import random
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
from loupe.label_schema import FreeText, LabelSchema, validate_answer
from loupe.reputation import tier_at_least
from loupe.routing import ReviewPolicy
from loupe.services.access import (
    Actor,
    ProjectRef,
    authorize_project,
    authorize_project_fast,
    sees_contributors,
)
from loupe.services.claims import Row, claim_first
from loupe.services.gate import redact_answer, redact_text
from loupe.services.ledger_keys import LedgerConfig
from loupe.services.media_views import MediaEntry, media_of
from loupe.services.pairwise import blind
from loupe.services.payments import decide_label
from loupe.services.projects import project_schema
from loupe.services.quality import audio_duration_ms, image_size, live_consensus
from loupe.services.reputation import NewEvidence, record_many, tiers_of
from loupe.services.routing import item_filter, load_profile, require_eligible

__all__ = [
    "ListedReview",
    "ReviewOutcome",
    "ReviewTaskView",
    "enqueue_for_review",
    "list_reviews",
    "next_review",
    "submit_review",
]

Verdict = Literal["accept", "reject", "correct"]
VERDICTS: tuple[Verdict, ...] = ("accept", "reject", "correct")
MAX_REASON = 500
_rng = random.SystemRandom()

_ENQUEUE = (
    "INSERT INTO review_queue (label_id, project_id, item_id, labeller_id, needed, n_reviews, "
    "status, created_at) VALUES (:label, :project, :item, :user, :needed, 0, 'pending', :now)"
)
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
_LOCK = "SELECT label_id FROM review_queue WHERE label_id = :label FOR UPDATE"
_TAKEN = (
    "SELECT q.status, q.n_reviews + (SELECT count(*) FROM review_leases rl "
    "WHERE rl.label_id = q.label_id AND rl.user_id <> :user AND rl.expires_at > :now), "
    "q.needed FROM review_queue q WHERE q.label_id = :label"
)
_RELEASE = "DELETE FROM review_leases WHERE label_id = :label AND user_id = :user"
_LEASE = (
    "INSERT INTO review_leases (label_id, user_id, expires_at) VALUES (:label, :user, :expires)"
)
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
_EARNING = "SELECT 1 FROM ledger_entries WHERE label_id = :label"
_DELETE_LABEL = "DELETE FROM labels WHERE id = :label"
_ITEM_COUNT = "UPDATE items SET label_count = :count, is_complete = :complete WHERE id = :item"
_SKIP = (
    "INSERT INTO skips (item_id, user_id, created_at) VALUES (:item, :user, :now) "
    "ON CONFLICT (item_id, user_id) DO NOTHING"
)
_HAS_LABEL = "SELECT 1 FROM labels WHERE item_id = :item AND user_id = :user"
_INSERT_LABEL = (
    "INSERT INTO labels (project_id, item_id, user_id, answer, config_version, lead_time_ms, "
    "created_at) VALUES (:project, :item, :user, :answer, :version, NULL, :now) RETURNING id"
)
_LEFT = "SELECT count(*) FROM labels WHERE item_id = :item"
_NO_CONSENSUS = "DELETE FROM consensus WHERE item_id = :item"


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


def enqueue_for_review(
    raw: Raw,
    policy: ReviewPolicy,
    *,
    label_id: int,
    project_id: int,
    item_id: int,
    user_id: int,
    now: datetime,
    rng: random.Random | None = None,
) -> bool:
    """Queue a new label for review with probability ``policy.rate`` (in the submit)."""
    if policy.rate <= 0 or (policy.rate < 1 and (rng or _rng).random() >= policy.rate):
        return False
    raw.run(
        _ENQUEUE,
        label=label_id,
        project=project_id,
        item=item_id,
        user=user_id,
        needed=policy.reviews_per_label,
        now=raw.time(now),
    )
    return True


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
    at = raw.time(now)
    schema = project_schema(project)
    domains = _reviewable_domains(raw, actor, project, schema.review)
    if domains is not None and not domains:
        raise PermissionDenied(
            f"reviewing needs the {schema.review.min_tier} reputation tier in a domain "
            "(or the project's reviewer role); keep labelling to earn it",
            details={"action": "reviews.work", "min_tier": schema.review.min_tier},
        )
    held = raw.one(_HELD, user=user, project=project_id, now=at)
    if held is not None:
        label_id = int(held[0])
    else:
        profile = load_profile(raw, user, now=now, project_id=project_id)
        routing = item_filter(schema.routing, profile)
        extra, params = routing.sql, dict(routing.params)
        if domains is not None:
            names = {f"d{n}": domain for n, domain in enumerate(sorted(domains))}
            extra += f" AND i.domain IN ({', '.join(':' + name for name in names)})"
            params.update(names)
        query = _CANDIDATE + extra

        def find(after: Row | None, skip_locked: bool) -> Row | None:
            return raw.one(
                query
                + " AND q.label_id > :after ORDER BY q.label_id LIMIT 1"
                + (" FOR UPDATE OF q SKIP LOCKED" if skip_locked else ""),
                project=project_id,
                user=user,
                now=at,
                after=after[0] if after else 0,
                **params,
            )

        def still_open(row: Row) -> bool:
            # Under the row lock, with a fresh snapshot (see loupe.services.claims).
            taken = raw.one(_TAKEN, label=row[0], user=user, now=at)
            return taken is not None and taken[0] == "pending" and int(taken[1]) < int(taken[2])

        row = claim_first(
            raw,
            find=find,
            lock=lambda row: raw.one(_LOCK, label=row[0]),
            still_open=still_open,
        )
        if row is None:
            return None
        label_id = int(row[0])
    expires = now + timedelta(seconds=lease_seconds)
    raw.run(_RELEASE, label=label_id, user=user)
    raw.run(_LEASE, label=label_id, user=user, expires=raw.time(expires))
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
    """Record a verdict on a label; decide the label once it has all its reviews."""
    raw = Raw(session)
    project = authorize_project_fast(raw, actor, "reviews.work", project_id)
    assert actor.user_id is not None
    user = actor.user_id
    now = now or utcnow()
    schema = project_schema(project)
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
    task = raw.one(
        _TASK + (" FOR UPDATE OF q" if raw.postgres else ""), label=label_id, project=project_id
    )
    if task is None:
        raise NotFound(
            f"label {label_id} is not waiting for review in project {project_id}",
            details={"label_id": label_id},
        )
    item_id, labeller, answer = int(task[0]), int(task[1]), raw.json_out(task[5])
    if labeller == user:
        raise PermissionDenied("nobody reviews their own label", details={"label_id": label_id})
    _require_can_review(raw, actor, project, schema.review, str(task[9]))
    require_eligible(raw, schema.routing, user, item_id, now=now)
    corrected = None
    if verdict == "correct":
        if corrected_answer is None:
            raise InvalidInput(
                "corrected_answer: a correction gives the right answer",
                details={"field": "corrected_answer"},
            )
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
        if corrected == answer:
            raise InvalidInput(
                "corrected_answer: it equals the answer under review; accept it instead",
                details={"field": "corrected_answer"},
            )
    mine = raw.one(_MINE, label=label_id, user=user)
    if mine is not None:
        if mine[1] == verdict:
            return ReviewOutcome(int(mine[0]), label_id, verdict, created=False, status=task[2])
        raise Conflict(
            f"you already reviewed label {label_id} ({mine[1]}); reviews cannot be changed",
            details={"label_id": label_id, "review_id": int(mine[0])},
        )
    if task[2] != "pending":
        raise Conflict(
            f"label {label_id} was already {task[2]} by its reviewers",
            details={"label_id": label_id, "status": task[2]},
        )
    if raw.one(_HAS_LABEL, item=item_id, user=user) is not None:
        raise Conflict(
            f"you labelled item {item_id} yourself; someone else reviews its labels",
            details={"item_id": item_id},
        )
    n_reviews, needed = int(task[3]), int(task[4])
    taken = n_reviews
    if raw.one(_MY_LEASE, label=label_id, user=user, now=raw.time(now)) is None:
        others = raw.one(_OTHER_LEASES, label=label_id, user=user, now=raw.time(now))
        taken += int(others[0]) if others else 0
    if taken >= needed:
        raise Conflict(
            f"label {label_id} already has the {needed} review(s) it needs; "
            "ask for the next review instead",
            details={"label_id": label_id},
        )
    inserted = raw.one(
        _INSERT,
        project=project_id,
        item=item_id,
        label=label_id,
        labeller=labeller,
        reviewer=user,
        verdict=verdict,
        # The reviewer's own words reach the labeller, managers and auditors: gated.
        reason=redact_text(session, project_id, reason).text if reason else "",
        answer=raw.json(answer),
        corrected=None if corrected is None else raw.json(corrected),
        now=raw.time(now),
    )
    assert inserted is not None
    review_id = int(inserted[0])
    raw.run(_COUNT_REVIEW, n=n_reviews + 1, label=label_id)
    raw.run(_RELEASE, label=label_id, user=user)
    domain = str(task[9])
    evidence = [
        NewEvidence(
            labeller, domain, "review_received", 1.0 if verdict == "accept" else 0.0,
            f"review:{review_id}",
        )
    ]  # fmt: skip
    gold = raw.one(_GOLD, item=item_id) if task[10] else None
    if gold is not None:
        truth = raw.json_out(gold[0])
        right = (verdict == "accept") == (answer == truth)
        if verdict == "correct":
            right = corrected == truth
        evidence.append(
            NewEvidence(user, domain, "review_check", 1.0 if right else 0.0, f"review:{review_id}")
        )
    record_many(session, evidence, project_id=project_id, now=now)
    status, correction = "pending", None
    if n_reviews + 1 >= needed:
        status, correction = _decide(
            raw,
            session,
            project,
            schema,
            ledger,
            label_id=label_id,
            item_id=item_id,
            labeller=labeller,
            label_count=int(task[11]),
            now=now,
        )
    if isinstance(schema.task, FreeText) and status != "rejected":
        # A free-text item's answer is the one its reviewers accept most surely.
        live_consensus(
            raw,
            project_id=project_id,
            overlap=project.overlap,
            schema=schema,
            item_id=item_id,
            now=now,
        )
    return ReviewOutcome(review_id, label_id, verdict, True, status, correction)


def _decide(
    raw: Raw,
    session: Session,
    project: ProjectRef,
    schema: LabelSchema,
    ledger: LedgerConfig | None,
    *,
    label_id: int,
    item_id: int,
    labeller: int,
    label_count: int,
    now: datetime,
) -> tuple[str, int | None]:
    verdicts = raw.all(_VERDICTS, label=label_id)
    accepts = sum(1 for row in verdicts if row[1] == "accept")
    if 2 * accepts > len(verdicts):
        raw.run(_DECIDE, status="accepted", label=label_id)
        return "accepted", None
    raw.run(_DECIDE, status="rejected", label=label_id)
    # The label is withdrawn: its earning reversed, the item reopened for someone else.
    if raw.one(_EARNING, label=label_id) is not None:
        if ledger is None:
            raise Conflict(
                "the rejected label earned a payment, and reversing it needs the ledger keys; "
                "configure LOUPE_KEY_DIR (created by `loupe init`)",
                details={"label_id": label_id},
            )
        decide_label(session, Actor.system(), ledger, label_id, "label.rejected", now=now)
    raw.run(_DELETE_LABEL, label=label_id)
    count = max(label_count - 1, 0)
    raw.run(_SKIP, item=item_id, user=labeller, now=raw.time(now))
    correction = None
    fixes = [(int(r[0]), raw.json_out(r[2])) for r in verdicts if r[1] == "correct"]
    if fixes:
        tally = Counter(json.dumps(answer, sort_keys=True) for _, answer in fixes)
        best = tally.most_common(1)[0][0]
        reviewer = next(u for u, a in fixes if json.dumps(a, sort_keys=True) == best)
        if raw.one(_HAS_LABEL, item=item_id, user=reviewer) is None:
            inserted = raw.one(
                _INSERT_LABEL,
                project=project.id,
                item=item_id,
                user=reviewer,
                answer=raw.json(json.loads(best)),
                version=project.config_version,
                now=raw.time(now),
            )
            assert inserted is not None
            correction = int(inserted[0])
            count += 1
    raw.run(_ITEM_COUNT, count=count, complete=count >= project.overlap, item=item_id)
    left = raw.one(_LEFT, item=item_id)
    if left is not None and int(left[0]) > 0:
        live_consensus(
            raw,
            project_id=project.id,
            overlap=project.overlap,
            schema=schema,
            item_id=item_id,
            now=now,
        )
    else:
        raw.run(_NO_CONSENSUS, item=item_id)
    return "rejected", correction


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
