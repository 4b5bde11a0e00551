"""Live consensus and dynamic overlap: after each submission, the item's answer under
the current worker skills, and whether it is done, needs another label or goes to the
experts.

The maths is in :mod:`loupe.aggregation`; :mod:`loupe.services.labelling.consensus` stores the
row. Runs inside every submit, so plain SQL on a :class:`~loupe.db.raw.Raw`, and NumPy only
where the item needs it: the posterior (fitted skills or dynamic overlap) and fused boxes,
segments and transcripts import it on first use; a plain majority vote never does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from loupe.aggregation.free_text import choose_free_text, normalize_text
from loupe.aggregation.spans import Span, mean_pairwise_f1, span_consensus
from loupe.db.queries.escalations import OPEN_ESCALATION
from loupe.db.queries.gold_results import gold_tallies_of
from loupe.db.queries.labels import ITEM_ANSWERS, ITEM_REVIEW_TALLY
from loupe.db.queries.worker_skills import fitted_skills_of
from loupe.db.raw import Raw
from loupe.label_schema import (
    Boxes,
    FreeText,
    LabelSchema,
    Segments,
    Spans,
    answer_keys,
    is_transcript,
)
from loupe.services.labelling.answer_matching import transcript_error
from loupe.services.labelling.consensus import Vote, majority, store_consensus
from loupe.services.projects import webhooks

if TYPE_CHECKING:
    from loupe.aggregation.posterior import WorkerSkills

__all__ = ["BOX_PRIOR_SKILL", "LiveConsensus", "live_consensus"]


@dataclass(frozen=True, slots=True)
class LiveConsensus:
    vote: Vote
    confidence: float
    method: str
    decision: str  # "done", "needs_more", "escalate" (dynamic overlap) or "count" (fixed)
    # Boxes, segments, transcripts: agreement between the annotators (NaN with one).
    agreement: float | None = None


def _skills(
    raw: Raw, project_id: int, users: Sequence[int], classes: tuple[str, ...]
) -> WorkerSkills | None:
    names = {f"u{i}": user for i, user in enumerate(sorted(set(users)))}
    rows = raw.all(fitted_skills_of(names), project=project_id, **names)
    if not rows:
        return None
    import numpy as np  # a fitted skill model: the posterior needs NumPy anyway

    from loupe.aggregation.posterior import WorkerSkills

    confusions: dict[Any, Any] = {}
    accuracies: dict[Any, float] = {}
    for skill in rows:
        matrix = raw.json_out(skill.confusion) if skill.confusion is not None else None
        if matrix is not None and len(matrix) == len(classes):
            confusions[skill.user_id] = np.asarray(matrix, dtype=float)
        else:
            accuracies[skill.user_id] = float(skill.accuracy)
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
    rows = raw.all(ITEM_ANSWERS, item=item_id)
    users = [int(row.user_id) for row in rows]
    answers = [raw.json_out(row.answer) for row in rows]
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
            from loupe.aggregation.posterior import StoppingRule, WorkerSkills, item_posterior

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
            OPEN_ESCALATION,
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


def _span_vote(answers: Sequence[Any], task: Spans) -> tuple[Vote, float, str]:
    """Spans that at least half of the annotators marked exactly; confidence = mean pairwise F1."""
    annotations = [[Span(s["start"], s["end"], s["label"]) for s in answer] for answer in answers]
    kept = span_consensus(annotations, allow_overlap=task.allow_overlap)
    answer = [{"start": v.start, "end": v.end, "label": v.label} for v in kept]
    support = sum(1 for given in answers if given == answer)
    agreement = mean_pairwise_f1(annotations) if len(annotations) > 1 else 1.0
    return Vote(answer=answer, support=support, n_labels=len(answers)), agreement, "spans"


BOX_PRIOR_SKILL = 0.7  # a worker's box skill before any gold, and its weight (2 answers)


def _gold_skills(raw: Raw, project_id: int, users: Sequence[int]) -> dict[int, float]:
    """Each worker's gold accuracy on the project, smoothed towards :data:`BOX_PRIOR_SKILL`
    with the weight of two answers: the weight of their boxes, segments or transcripts."""
    names = {f"u{i}": user for i, user in enumerate(sorted(set(users)))}
    rows = raw.all(gold_tallies_of(names), project=project_id, **names)
    skills = dict.fromkeys(users, BOX_PRIOR_SKILL)
    for tally in rows:
        right, answered = int(tally.right), int(tally.answered)
        skills[int(tally.user_id)] = (right + 2 * BOX_PRIOR_SKILL) / (answered + 2)
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
        (str(raw.json_out(row.answer)), int(row.accepts), int(row.rejects))
        for row in raw.all(ITEM_REVIEW_TALLY, item=item_id)
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
