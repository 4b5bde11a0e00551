"""The quality engine in the live loop: gold tasks, live consensus, dynamic overlap,
escalation, background re-fits and agreement reports.

The maths is in :mod:`loupe.aggregation`; this module wires it to the database.
Functions called from ``submit`` take a :class:`~loupe.db.raw.Raw` (the hot path
is plain SQL); the rest take a session.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Integer, cast, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loupe.aggregation import AGGREGATORS
from loupe.aggregation.agreement import fleiss_kappa, krippendorff_alpha, pairwise_agreement
from loupe.aggregation.free_text import choose_free_text, normalize_text
from loupe.aggregation.posterior import StoppingRule, WorkerSkills, item_posterior
from loupe.aggregation.spans import Span, mean_pairwise_f1, span_consensus
from loupe.db.media_models import ItemMedia
from loupe.db.models import Item, Label, Membership, Project, utcnow
from loupe.db.quality_models import Escalation, GoldAnswer, GoldResult, QualityState, WorkerSkill
from loupe.db.raw import Raw
from loupe.errors import Conflict, InvalidInput, NotFound
from loupe.label_schema import (
    Boxes,
    FreeText,
    LabelSchema,
    QualityPolicy,
    Segments,
    Spans,
    Task,
    answer_keys,
    is_transcript,
    validate_answer,
)
from loupe.services import webhooks
from loupe.services.access import Actor, authorize_project
from loupe.services.consensus import Vote, majority, store_consensus
from loupe.services.gate import PrivacyGate
from loupe.services.privacy import privacy_of
from loupe.services.projects import project_schema

__all__ = [
    "AGREEMENT_DEFINITION",
    "AGREEMENT_SAMPLE",
    "Agreement",
    "GoldFeedback",
    "GoldStat",
    "LiveConsensus",
    "QualityReport",
    "RefitReport",
    "answer_agreement",
    "answer_matches",
    "audio_duration_ms",
    "claim_refit",
    "image_size",
    "label_agreement",
    "list_escalations",
    "live_consensus",
    "projects_due_for_refit",
    "quality_report",
    "record_gold",
    "refit",
    "release_refit",
    "resume_member",
    "set_gold",
    "transcript_error",
    "wilson_interval",
]

# Agreement, one definition for the dashboard and the quality report (label_agreement).
AGREEMENT_SAMPLE = 50_000
AGREEMENT_DEFINITION = (
    "Fleiss' kappa and Krippendorff's alpha (nominal) over the labels on the project's "
    f"non-gold items, the most recent {AGREEMENT_SAMPLE:,} at most; each distinct answer "
    "is one category; items with at least two labels count."
)

# A claim on a project's fit older than this is from a worker that died mid-fit.
FIT_CLAIM_STALE = timedelta(minutes=10)


def wilson_interval(successes: int, n: int, *, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95% by default).

    >>> [round(x, 3) for x in wilson_interval(8, 10)]
    [0.49, 0.943]
    """
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


# --- gold --------------------------------------------------------------------------------


def set_gold(
    session: Session,
    actor: Actor,
    project_id: int,
    answers: Sequence[tuple[str, Any]],
    *,
    gate: PrivacyGate | None = None,
) -> int:
    """Mark items (by external id) as gold with their known answers; returns how many.

    Pass the ``gate`` the items were imported through (:func:`loupe.services.gate.gate_for`):
    an id that held personal data was stored gated, and is found by gating it again.
    """
    project = authorize_project(session, actor, "projects.update", project_id)
    task = project_schema(project).task
    if gate is not None and privacy_of(session, project_id).gate:
        ids = gate.external_ids([external for external, _ in answers])
        answers = [(ids[external], answer) for external, answer in answers]
    by_external = dict(
        session.execute(
            select(Item.external_id, Item.id).where(
                Item.project_id == project_id,
                Item.external_id.in_([external for external, _ in answers]),
            )
        ).all()
    )
    missing = [external for external, _ in answers if external not in by_external]
    if missing:
        raise NotFound(
            f"no items with ids {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''} "
            f"in project {project_id}; import them first",
            details={"missing": missing[:100]},
        )
    sizes = _image_sizes(session, task, list(by_external.values()))
    durations = _durations(session, task, list(by_external.values()))
    for external, answer in answers:
        item_id = by_external[external]
        canonical = validate_answer(
            task, answer, size=sizes.get(item_id), duration_ms=durations.get(item_id)
        )
        gold = session.get(GoldAnswer, item_id)
        if gold is None:
            session.add(GoldAnswer(item_id=item_id, project_id=project_id, answer=canonical))
        else:
            gold.answer = canonical
    session.execute(
        update(Item).where(Item.id.in_(list(by_external.values()))).values(is_gold=True)
    )
    session.flush()
    return len(answers)


_IMAGE_SIZE = "SELECT width, height FROM item_media WHERE item_id = :item AND field = :field"


def image_size(raw: Raw, schema: LabelSchema, item_id: int) -> tuple[int, int] | None:
    """``(width, height)`` of the served image a boxes task draws on, if known (boxes
    answers are checked against it: ``validate_answer(..., size=...)``)."""
    if not isinstance(schema.task, Boxes):
        return None
    row = raw.one(_IMAGE_SIZE, item=item_id, field=schema.task.media_field)
    if row is None or row[0] is None or row[1] is None:
        return None
    return int(row[0]), int(row[1])


def _image_sizes(
    session: Session, task: Task, item_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """``(width, height)`` of each item's image for a boxes task (gold boxes must fit it)."""
    if not isinstance(task, Boxes) or not item_ids:
        return {}
    rows = session.execute(
        select(ItemMedia.item_id, ItemMedia.width, ItemMedia.height).where(
            ItemMedia.item_id.in_(item_ids), ItemMedia.field == task.media_field
        )
    ).all()
    return {int(i): (int(w), int(h)) for i, w, h in rows if w is not None and h is not None}


_DURATION = "SELECT duration_ms FROM item_media WHERE item_id = :item AND field = :field"


def audio_duration_ms(raw: Raw, schema: LabelSchema, item_id: int) -> int | None:
    """Length of the audio a segments task marks, if known (segments answers are checked
    against it: ``validate_answer(..., duration_ms=...)``)."""
    if not isinstance(schema.task, Segments):
        return None
    row = raw.one(_DURATION, item=item_id, field=schema.task.media_field)
    return None if row is None or row[0] is None else int(row[0])


def _durations(session: Session, task: Task, item_ids: Sequence[int]) -> dict[int, int]:
    """The audio length of each item for a segments task (gold segments must fit it)."""
    if not isinstance(task, Segments) or not item_ids:
        return {}
    rows = session.execute(
        select(ItemMedia.item_id, ItemMedia.duration_ms).where(
            ItemMedia.item_id.in_(item_ids), ItemMedia.field == task.media_field
        )
    ).all()
    return {int(i): int(d) for i, d in rows if d is not None}


def transcript_error(reference: str, given: str) -> float:
    """Word error rate of ``given`` against ``reference`` (as
    :func:`~loupe.aggregation.transcripts.word_error_rate` counts it), capped at 1; a
    reference without words is matched only by an answer without words."""
    from loupe.aggregation.transcripts import transcript_words, word_error_rate

    if not transcript_words(reference):
        return 0.0 if not transcript_words(given) else 1.0
    return min(1.0, word_error_rate([reference], [given]))


def answer_agreement(task: Task, given: Any, settled: Any) -> float:
    """How far ``given`` agrees with the ``settled`` answer, in [0, 1] (reputation
    evidence): F1 at IoU 0.5 for boxes and segments (never drawn to the pixel or the
    millisecond alike), one minus the word error rate for transcripts, else 1 when equal."""
    if isinstance(task, Boxes):
        from loupe.aggregation.boxes import box_score

        return box_score(given, settled).f1
    if isinstance(task, Segments):
        from loupe.aggregation.segments import segment_score

        return segment_score(given, settled).f1
    if is_transcript(task):
        return 1.0 - transcript_error(str(settled), str(given))
    return 1.0 if given == settled else 0.0


def answer_matches(task: Task, given: Any, settled: Any, *, max_wer: float = 0.1) -> bool:
    """Whether ``given`` is right against ``settled`` as a gold answer would be: boxes and
    segments at F1 >= 0.8 (IoU 0.5, labels matching), transcripts at a word error rate of
    at most ``max_wer``, anything else when equal."""
    if isinstance(task, Boxes | Segments):
        return isinstance(given, list) and answer_agreement(task, given, settled) >= 0.8 - 1e-12
    if is_transcript(task):
        return isinstance(given, str) and transcript_error(str(settled), given) <= max_wer + 1e-12
    return bool(given == settled)


@dataclass(frozen=True, slots=True)
class GoldFeedback:
    """How an answer to a gold item scored; ``shown``: whether the annotator is told
    (the project's ``quality.gold_feedback``). Untold, a gold submit answers exactly as
    an ordinary one does."""

    correct: bool
    expected: Any
    paused: bool
    shown: bool = True


_GOLD = "SELECT answer FROM gold_answers WHERE item_id = :item"
_GOLD_RESULT = (
    "INSERT INTO gold_results (project_id, item_id, user_id, correct, created_at) "
    "VALUES (:project, :item, :user, :correct, :now) ON CONFLICT (item_id, user_id) DO NOTHING"
)
_GOLD_TALLY = (
    "SELECT count(*), coalesce(sum(CASE WHEN correct THEN 1 ELSE 0 END), 0) "
    "FROM gold_results WHERE project_id = :project AND user_id = :user"
)
_PAUSE = (
    "UPDATE memberships SET paused_at = :now, paused_reason = :reason "
    "WHERE project_id = :project AND user_id = :user AND paused_at IS NULL"
)


def record_gold(
    raw: Raw,
    *,
    project_id: int,
    item_id: int,
    user_id: int,
    answer: Any,
    policy: QualityPolicy,
    now: datetime,
    task: Task | None = None,
) -> GoldFeedback:
    """Score an answer to a gold item; pause the annotator if they fall below the bar.

    Boxes (segments) are right when they match the gold ones with F1 >= ``GOLD_PASS_F1``
    at IoU ``IOU_THRESHOLD``, labels matching (:func:`loupe.aggregation.boxes.box_score`,
    :func:`loupe.aggregation.segments.segment_score`); transcripts at a word error rate
    of at most ``policy.gold_max_wer``; any other answer when it equals the gold answer."""
    row = raw.one(_GOLD, item=item_id)
    assert row is not None, "is_gold items always have a gold answer"
    expected = raw.json_out(row[0])
    if task is None:
        correct = expected == answer
    else:
        correct = answer_matches(task, answer, expected, max_wer=policy.gold_max_wer)
    raw.run(
        _GOLD_RESULT,
        project=project_id,
        item=item_id,
        user=user_id,
        correct=correct,
        now=raw.time(now),
    )
    paused = False
    if policy.min_gold_accuracy > 0:
        tally = raw.one(_GOLD_TALLY, project=project_id, user=user_id)
        answered, right = (int(tally[0]), int(tally[1])) if tally else (0, 0)
        if answered >= policy.min_gold_answered:
            low, high = wilson_interval(right, answered)
            # Pause only when we are confident the annotator is below the bar.
            if high < policy.min_gold_accuracy:
                reason = (
                    f"gold accuracy {right}/{answered} = {right / answered:.2f} "
                    f"(95% CI {low:.2f}-{high:.2f}) is below the project's "
                    f"{policy.min_gold_accuracy:.2f}; a manager can review and resume you"
                )
                paused = (
                    raw.run(
                        _PAUSE, now=raw.time(now), reason=reason, project=project_id, user=user_id
                    )
                    > 0
                )
    return GoldFeedback(
        correct=correct,
        expected=expected if policy.gold_feedback else None,
        paused=paused,
        shown=policy.gold_feedback,
    )


# --- live consensus and dynamic overlap --------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiveConsensus:
    vote: Vote
    confidence: float
    method: str
    decision: str  # "done", "needs_more", "escalate" (dynamic overlap) or "count" (fixed)
    # Boxes, segments, transcripts: agreement between the annotators (NaN with one).
    agreement: float | None = None


_ITEM_LABELS = "SELECT user_id, answer FROM labels WHERE item_id = :item ORDER BY id"
_ESCALATE = (
    "INSERT INTO escalations (item_id, project_id, reason, confidence, n_labels, created_at) "
    "VALUES (:item, :project, :reason, :confidence, :n, :now) ON CONFLICT (item_id) DO NOTHING"
)


def _skills(
    raw: Raw, project_id: int, users: Sequence[int], classes: tuple[str, ...]
) -> WorkerSkills | None:
    names = {f"u{i}": user for i, user in enumerate(sorted(set(users)))}
    rows = raw.all(
        "SELECT user_id, accuracy, confusion FROM worker_skills WHERE project_id = :project "
        f"AND user_id IN ({', '.join(':' + name for name in names)})",
        project=project_id,
        **names,
    )
    if not rows:
        return None
    confusions: dict[Any, Any] = {}
    accuracies: dict[Any, float] = {}
    for user, accuracy, confusion in rows:
        matrix = raw.json_out(confusion) if confusion is not None else None
        if matrix is not None and len(matrix) == len(classes):
            confusions[user] = np.asarray(matrix, dtype=float)
        else:
            accuracies[user] = float(accuracy)
    return WorkerSkills(classes=classes, confusions=confusions, accuracies=accuracies)


def live_consensus(
    raw: Raw,
    *,
    project_id: int,
    overlap: int,
    schema: LabelSchema,
    item_id: int,
    now: datetime,
) -> LiveConsensus:
    """Update the item's consensus after a submission, with the current worker skills.

    Majority vote until the project has a fitted skill model; then the posterior
    under those skills (workers not yet fitted count with a default accuracy).
    With dynamic overlap the posterior also decides whether the item is done,
    needs another label, or goes to the experts.
    """
    rows = raw.all(_ITEM_LABELS, item=item_id)
    users = [int(row[0]) for row in rows]
    answers = [raw.json_out(row[1]) for row in rows]
    vote = majority(answers)
    confidence, method = vote.confidence, "mv"
    policy = schema.quality
    decision = "count"
    keys = answer_keys(schema.task)
    agreement: float | None = None
    fused = isinstance(schema.task, Boxes | Segments) or is_transcript(schema.task)
    if isinstance(schema.task, Spans):
        vote, confidence, method = _span_vote(answers, schema.task)
    elif fused:
        if isinstance(schema.task, Boxes):
            vote, confidence, agreement = _box_vote(raw, project_id, users, answers)
            method = "boxes"
        elif isinstance(schema.task, Segments):
            vote, confidence, agreement = _segment_vote(raw, project_id, users, answers)
            method = "segments"
        else:
            vote, confidence, agreement = _transcript_vote(
                raw, project_id, users, answers, max_wer=policy.gold_max_wer
            )
            method = "transcript"
        if policy.dynamic_overlap:
            # One annotator agrees with themself: a fused item is done on two labels or more.
            least = min(max(policy.min_labels, 2), overlap)
            sure = confidence >= policy.target
            decision = (
                "done" if sure and len(answers) >= least
                else "escalate" if len(answers) >= overlap
                else "needs_more"
            )  # fmt: skip
    elif isinstance(schema.task, FreeText):
        vote, confidence, method = _text_vote(raw, item_id, answers)
    elif keys is not None:
        classes = tuple(keys)
        skills = _skills(raw, project_id, users, classes)
        if skills is not None or policy.dynamic_overlap:
            skills = skills or WorkerSkills(classes=classes)
            posterior = item_posterior(skills, users, answers)
            label = str(posterior.label)
            vote = Vote(answer=label, support=answers.count(label), n_labels=len(answers))
            confidence = float(posterior.confidence)
            method = (
                f"{policy.method}-live" if skills.accuracies or skills.confusions else "prior-live"
            )
            if policy.dynamic_overlap:
                rule = StoppingRule(
                    target=policy.target,
                    min_labels=min(policy.min_labels, overlap),
                    max_labels=overlap,
                )
                decision = rule.decide(posterior)
    store_consensus(
        raw,
        project_id=project_id,
        item_id=item_id,
        vote=vote,
        confidence=confidence,
        method=method,
        now=now,
    )
    if decision == "escalate":
        opened = raw.run(
            _ESCALATE,
            item=item_id,
            project=project_id,
            reason=(
                f"reached {len(answers)} labels without {policy.target:.2f} confidence "
                f"(best: {vote.answer!r} at {confidence:.2f})"
            ),
            confidence=confidence,
            n=len(answers),
            now=raw.time(now),
        )
        if opened:
            escalated = {"item_id": item_id, "stage": "expert", "trigger": "low_confidence"}
            webhooks.emit(raw, project_id, "escalation.opened", escalated, now=now)
    return LiveConsensus(
        vote=vote, confidence=confidence, method=method, decision=decision, agreement=agreement
    )


_REVIEW_TALLY = (
    "SELECT l.answer, "
    "coalesce(sum(CASE WHEN r.verdict = 'accept' THEN 1 ELSE 0 END), 0), "
    "coalesce(sum(CASE WHEN r.verdict IS NOT NULL AND r.verdict <> 'accept' THEN 1 ELSE 0 END), 0) "
    "FROM labels l LEFT JOIN reviews r ON r.label_id = l.id WHERE l.item_id = :item "
    "GROUP BY l.id, l.answer ORDER BY l.id"
)


def _span_vote(answers: Sequence[Any], task: Spans) -> tuple[Vote, float, str]:
    """Spans that at least half of the annotators marked exactly; confidence = mean pairwise F1."""
    annotations = [[Span(s["start"], s["end"], s["label"]) for s in answer] for answer in answers]
    kept = span_consensus(annotations, allow_overlap=task.allow_overlap)
    answer = [{"start": v.start, "end": v.end, "label": v.label} for v in kept]
    support = sum(1 for given in answers if given == answer)
    agreement = mean_pairwise_f1(annotations) if len(annotations) > 1 else 1.0
    return Vote(answer=answer, support=support, n_labels=len(answers)), agreement, "spans"


_GOLD_SKILL = (
    "SELECT user_id, count(*), coalesce(sum(CASE WHEN correct THEN 1 ELSE 0 END), 0) "
    "FROM gold_results WHERE project_id = :project AND user_id IN ({users}) GROUP BY user_id"
)
BOX_PRIOR_SKILL = 0.7  # a worker's box skill before any gold, and its weight (2 answers)


def _gold_skills(raw: Raw, project_id: int, users: Sequence[int]) -> dict[int, float]:
    """Each worker's gold accuracy on the project, smoothed towards :data:`BOX_PRIOR_SKILL`
    with the weight of two answers: the weight of their boxes, segments or transcripts."""
    names = {f"u{i}": user for i, user in enumerate(sorted(set(users)))}
    rows = raw.all(
        _GOLD_SKILL.format(users=", ".join(":" + name for name in names)),
        project=project_id,
        **names,
    )
    skills = dict.fromkeys(users, BOX_PRIOR_SKILL)
    for user, answered, right in rows:
        skills[int(user)] = (int(right) + 2 * BOX_PRIOR_SKILL) / (int(answered) + 2)
    return skills


def _box_vote(
    raw: Raw, project_id: int, users: Sequence[int], answers: Sequence[Any]
) -> tuple[Vote, float, float]:
    """Boxes matched across annotators (optimal assignment on IoU) and fused with each
    worker's gold accuracy on the project as weight (:func:`_gold_skills`); confidence
    and agreement as :mod:`loupe.aggregation.boxes` defines them."""
    from loupe.aggregation.boxes import box_score, fuse_boxes

    skills = _gold_skills(raw, project_id, users)
    fused = fuse_boxes(dict(zip(users, answers, strict=True)), skills=skills)
    support = sum(1 for given in answers if box_score(given, fused.boxes).passes())
    vote = Vote(answer=fused.boxes, support=support, n_labels=len(answers))
    return vote, fused.confidence, fused.agreement


def _segment_vote(
    raw: Raw, project_id: int, users: Sequence[int], answers: Sequence[Any]
) -> tuple[Vote, float, float]:
    """Segments matched by 1-D IoU and fused like boxes (:mod:`loupe.aggregation.segments`)."""
    from loupe.aggregation.segments import fuse_segments, segment_score

    skills = _gold_skills(raw, project_id, users)
    fused = fuse_segments(dict(zip(users, answers, strict=True)), skills=skills)
    support = sum(1 for given in answers if segment_score(given, fused.segments).passes())
    vote = Vote(answer=fused.segments, support=support, n_labels=len(answers))
    return vote, fused.confidence, fused.agreement


def _transcript_vote(
    raw: Raw, project_id: int, users: Sequence[int], answers: Sequence[Any], *, max_wer: float
) -> tuple[Vote, float, float]:
    """The transcripts fused word by word (ROVER, :func:`loupe.aggregation.transcripts.
    fuse_transcript`), each weighted by its worker's gold accuracy (:func:`_gold_skills`);
    support: the answers within the gold WER threshold of the fused text."""
    from loupe.aggregation.transcripts import fuse_transcript

    skills = _gold_skills(raw, project_id, users)
    texts = [str(answer) for answer in answers]
    fused = fuse_transcript(texts, weights=[skills[user] for user in users])
    support = sum(1 for text in texts if transcript_error(fused.text, text) <= max_wer + 1e-12)
    vote = Vote(answer=fused.text, support=support, n_labels=len(answers))
    return vote, fused.confidence, fused.agreement


def _text_vote(raw: Raw, item_id: int, answers: Sequence[Any]) -> tuple[Vote, float, str]:
    """The free-text answer reviewers accepted most surely; without reviews, the most common."""
    tally = [
        (str(raw.json_out(row[0])), int(row[1]), int(row[2]))
        for row in raw.all(_REVIEW_TALLY, item=item_id)
    ]
    if any(accepts or rejects for _, accepts, rejects in tally):
        best = choose_free_text(tally)
        if best is not None:
            support = sum(
                1 for text, _, _ in tally if normalize_text(text) == normalize_text(best.text)
            )
            vote = Vote(answer=best.text, support=support, n_labels=len(answers))
            return vote, best.confidence, "review"
    pooled = majority([normalize_text(str(answer)) for answer in answers])
    first = next(str(a) for a in answers if normalize_text(str(a)) == pooled.answer)
    vote = Vote(answer=first, support=pooled.support, n_labels=len(answers))
    return vote, vote.confidence, "mv"


# --- background re-fit -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefitReport:
    project_id: int
    method: str
    n_labels: int
    n_items: int
    n_workers: int


def projects_due_for_refit(session: Session) -> list[int]:
    """Projects whose label count grew by at least their ``refit_every`` since the last fit."""
    counts = dict(
        session.execute(select(Label.project_id, func.count()).group_by(Label.project_id)).all()
    )
    fitted = dict(
        session.execute(select(QualityState.project_id, QualityState.labels_at_fit)).all()
    )
    due = []
    for project in session.scalars(select(Project).where(Project.id.in_(list(counts)))):
        schema = project_schema(project)
        if answer_keys(schema.task) is None:
            continue  # spans, free text and multi-label are settled per item, not re-fitted
        every = schema.quality.refit_every
        if counts[project.id] - fitted.get(project.id, 0) >= every:
            due.append(project.id)
    return due


def _claim(session: Session, project_id: int, method: str, now: datetime) -> bool:
    """Take the project's fit, so that several servers never fit it at once.

    One conditional ``UPDATE`` (its row count says who won), or, for a project never
    fitted, an ``INSERT`` in a savepoint (a duplicate means another server won). A
    claim older than ``FIT_CLAIM_STALE`` is from a server that died mid-fit and is
    taken over. Commit it before fitting (:func:`claim_refit`) for the other servers
    to see it.
    """
    taken = session.execute(
        update(QualityState)
        .where(
            QualityState.project_id == project_id,
            or_(
                QualityState.fitting_since.is_(None),
                QualityState.fitting_since <= now - FIT_CLAIM_STALE,
            ),
        )
        .values(fitting_since=now)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(taken, "rowcount", 0) or 0) == 1:
        session.get(QualityState, project_id, populate_existing=True)
        return True
    if session.get(QualityState, project_id, populate_existing=True) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                QualityState(
                    project_id=project_id, labels_at_fit=0, method=method, fitting_since=now
                )
            )
    except IntegrityError:
        return False
    return True


def claim_refit(session: Session, project_id: int, *, now: datetime | None = None) -> bool:
    """Take the project's fit in a transaction of its own, committed before
    ``refit(..., claimed=True)`` (False while another server holds a fresh claim)."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} does not exist")
    return _claim(session, project_id, project_schema(project).quality.method, now or utcnow())


def release_refit(session: Session, project_id: int) -> None:
    """Drop the project's fit claim (after a fit that failed)."""
    session.execute(
        update(QualityState)
        .where(QualityState.project_id == project_id)
        .values(fitting_since=None)
        .execution_options(synchronize_session=False)
    )


def refit(
    session: Session, project_id: int, *, now: datetime | None = None, claimed: bool = False
) -> RefitReport:
    """Fit the project's aggregator on all its labels (gold anchoring the skills) and
    store worker skills and every item's consensus.

    ``claimed``: the caller took the claim in an earlier, committed transaction
    (:func:`claim_refit`); otherwise it is taken here.
    """
    now = now or utcnow()
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} does not exist")
    schema = project_schema(project)
    classes = answer_keys(schema.task)
    if classes is None:
        raise InvalidInput("re-fitting applies to single_choice and pairwise projects")
    policy = schema.quality
    if not claimed and not _claim(session, project_id, policy.method, now):
        raise Conflict(f"project {project_id} is being re-fitted already; try again shortly")
    rows = session.execute(
        select(Label.item_id, Label.user_id, Label.answer).where(Label.project_id == project_id)
    ).all()
    state = session.get(QualityState, project_id, populate_existing=True)
    assert state is not None
    if not rows:
        state.fitting_since = None
        return RefitReport(project_id, policy.method, 0, 0, 0)
    items = [row[0] for row in rows]
    workers = [row[1] for row in rows]
    answers = [row[2] for row in rows]
    gold: dict[int, Any] = dict(
        session.execute(
            select(GoldAnswer.item_id, GoldAnswer.answer).where(GoldAnswer.project_id == project_id)
        ).all()
    )
    model = AGGREGATORS[policy.method](classes=classes, random_state=0)
    model.fit(
        items, workers, answers, gold={k: v for k, v in gold.items() if k in set(items)} or None
    )

    confusions = getattr(model, "confusions_", None)
    worker_index = {worker: i for i, worker in enumerate(model.workers_.tolist())}
    counts: dict[int, int] = {}
    for worker in workers:
        counts[worker] = counts.get(worker, 0) + 1
    session.query(WorkerSkill).filter(WorkerSkill.project_id == project_id).delete()
    for worker, skill in model.skills_.items():
        matrix = None
        if confusions is not None:
            matrix = np.asarray(confusions[worker_index[worker]]).round(6).tolist()
        session.add(
            WorkerSkill(
                project_id=project_id,
                user_id=int(str(worker)),
                accuracy=float(skill),
                confusion=matrix,
                n_labels=counts.get(int(str(worker)), 0),
                fitted_at=now,
            )
        )
    raw = Raw(session)
    per_item: dict[int, list[Any]] = {}
    for item, answer in zip(items, answers, strict=True):
        per_item.setdefault(item, []).append(answer)
    probas = model.probas_
    # Items settled on the escalation ladder keep the expert's answer.
    settled = set(
        session.scalars(
            select(Escalation.item_id).where(
                Escalation.project_id == project_id, Escalation.resolved_at.is_not(None)
            )
        )
    )
    for index, item in enumerate(model.items_.tolist()):
        if int(item) in settled:
            continue
        label = model.labels_[item]
        given = per_item[item]
        store_consensus(
            raw,
            project_id=project_id,
            item_id=int(item),
            vote=Vote(answer=label, support=given.count(label), n_labels=len(given)),
            confidence=float(np.max(probas[index])),
            method=policy.method,
            now=now,
        )
    state.labels_at_fit = len(rows)
    state.method = policy.method
    state.fitted_at = now
    state.fitting_since = None
    session.flush()
    return RefitReport(project_id, policy.method, len(rows), len(per_item), len(model.skills_))


# --- reports -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GoldStat:
    user_id: int
    answered: int
    correct: int
    accuracy: float
    ci_low: float
    ci_high: float
    paused_reason: str | None


@dataclass(frozen=True, slots=True)
class PairStat:
    user_a: int
    user_b: int
    shared_items: int
    observed: float
    kappa: float | None


@dataclass(frozen=True, slots=True)
class QualityReport:
    n_labels: int  # the labels agreement counts (AGREEMENT_DEFINITION)
    n_items_labelled: int
    n_items_paired: int  # of those items, the ones with at least two labels
    krippendorff_alpha: float | None
    fleiss_kappa: float | None
    fleiss_kappa_per_label: dict[str, float | None]
    pairwise: list[PairStat]
    gold: list[GoldStat]
    escalated: int
    skills: dict[int, float] = field(default_factory=dict)
    agreement_definition: str = AGREEMENT_DEFINITION


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def _category(encoded: Any) -> str:
    """A category as the report names it: the label key itself for a plain key."""
    value = json.loads(str(encoded))
    return value if isinstance(value, str) else str(encoded)


# --- agreement: one definition for the dashboard and the quality report ----------------


@dataclass(frozen=True, slots=True)
class Agreement:
    """Agreement as :data:`AGREEMENT_DEFINITION` states it (``None``: not computable)."""

    fleiss_kappa: float | None
    krippendorff_alpha: float | None
    items: int  # items with at least two labels
    labels: int  # labels counted
    definition: str = AGREEMENT_DEFINITION


def _agreement_rows(session: Session, project_id: int) -> list[tuple[int, int, str]]:
    rows = session.execute(
        select(Label.item_id, Label.user_id, Label.answer)
        .join(Item, Item.id == Label.item_id)
        .where(Label.project_id == project_id, Item.is_gold.is_(False))
        .order_by(Label.id.desc())
        .limit(AGREEMENT_SAMPLE)
    ).all()
    # Multi-choice answers are lists: each distinct (sorted) answer is one category.
    return [(int(i), int(u), json.dumps(a, sort_keys=True)) for i, u, a in rows]


def _agreement_of(rows: Sequence[tuple[int, int, str]]) -> tuple[Agreement, Any]:
    """The agreement of ``rows`` and Fleiss' per-category result (``None`` if no pair)."""
    counts = Counter(item for item, _, _ in rows)
    paired = sum(1 for n in counts.values() if n >= 2)
    if paired == 0:
        return Agreement(None, None, 0, len(rows)), None
    items = [r[0] for r in rows]
    workers = [r[1] for r in rows]
    answers = [r[2] for r in rows]
    fk = fleiss_kappa(items, workers, answers)
    alpha = _finite(krippendorff_alpha(items, workers, answers))
    return Agreement(_finite(fk.kappa), alpha, paired, len(rows)), fk


def label_agreement(session: Session, actor: Actor, project_id: int) -> Agreement:
    """The project's agreement (:data:`AGREEMENT_DEFINITION`); needs ``labels.read``."""
    authorize_project(session, actor, "labels.read", project_id)
    return _agreement_of(_agreement_rows(session, project_id))[0]


def quality_report(session: Session, actor: Actor, project_id: int) -> QualityReport:
    """Agreement (:data:`AGREEMENT_DEFINITION`: Krippendorff's alpha, Fleiss' kappa per
    project and label, pairwise Cohen's kappa), gold accuracy per annotator with Wilson
    intervals, escalations."""
    authorize_project(session, actor, "labels.read", project_id)
    rows = _agreement_rows(session, project_id)
    agreement, fk = _agreement_of(rows)
    alpha, kappa = agreement.krippendorff_alpha, agreement.fleiss_kappa
    per_label: dict[str, float | None] = {}
    pairs: list[PairStat] = []
    if fk is not None:
        items = [r[0] for r in rows]
        workers = [r[1] for r in rows]
        labels = [r[2] for r in rows]
        per_label = {_category(k): _finite(v) for k, v in fk.per_class.items()}
        pw = pairwise_agreement(items, workers, labels)
        pairs = [
            PairStat(int(a), int(b), int(n), float(o), _finite(k))
            for a, b, n, o, k in zip(
                pw.worker_a, pw.worker_b, pw.n_shared, pw.observed, pw.kappa, strict=True
            )
        ]
    paused = dict(
        session.execute(
            select(Membership.user_id, Membership.paused_reason).where(
                Membership.project_id == project_id
            )
        ).all()
    )
    gold: list[GoldStat] = []
    for user, answered, right in session.execute(
        select(
            GoldResult.user_id,
            func.count(),
            func.sum(cast(GoldResult.correct, Integer)),
        )
        .where(GoldResult.project_id == project_id)
        .group_by(GoldResult.user_id)
        .order_by(GoldResult.user_id)
    ):
        right = int(right or 0)
        low, high = wilson_interval(right, int(answered))
        gold.append(
            GoldStat(int(user), int(answered), right, right / answered, low, high, paused.get(user))
        )
    escalated = session.scalar(
        select(func.count())
        .select_from(Escalation)
        .where(Escalation.project_id == project_id, Escalation.resolved_at.is_(None))
    )
    skills = dict(
        session.execute(
            select(WorkerSkill.user_id, WorkerSkill.accuracy).where(
                WorkerSkill.project_id == project_id
            )
        ).all()
    )
    return QualityReport(
        n_labels=len(rows),
        n_items_labelled=len({r[0] for r in rows}),
        n_items_paired=agreement.items,
        krippendorff_alpha=alpha,
        fleiss_kappa=kappa,
        fleiss_kappa_per_label=per_label,
        pairwise=pairs,
        gold=gold,
        escalated=int(escalated or 0),
        skills={int(k): round(float(v), 6) for k, v in skills.items()},
    )


def list_escalations(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    after_id: int,
    limit: int,
    open_only: bool = False,
) -> Sequence[Escalation]:
    """Items on the escalation ladder (with ``open_only``, those still waiting), by item id
    (keyset pagination)."""
    authorize_project(session, actor, "items.read", project_id)
    query = select(Escalation).where(
        Escalation.project_id == project_id, Escalation.item_id > after_id
    )
    if open_only:
        query = query.where(Escalation.resolved_at.is_(None))
    return session.scalars(query.order_by(Escalation.item_id).limit(limit)).all()


def resume_member(session: Session, actor: Actor, project_id: int, user_id: int) -> Membership:
    """Lift a quality pause (a manager decision, recorded by clearing the reason)."""
    authorize_project(session, actor, "projects.update", project_id)
    membership = session.get(Membership, (project_id, user_id))
    if membership is None:
        raise NotFound(f"user {user_id} is not a member of project {project_id}")
    membership.paused_at = None
    membership.paused_reason = None
    session.flush()
    return membership
