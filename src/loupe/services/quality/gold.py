"""Gold items: marking them with their known answers, and scoring the answers given to
them in the live loop (pausing an annotator who is confidently below the project's bar).

:func:`record_gold` runs inside submit, so it takes a :class:`~loupe.db.raw.Raw`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loupe.db.models import Item
from loupe.db.quality_models import GoldAnswer
from loupe.db.queries.gold_answers import GOLD_ANSWER
from loupe.db.queries.gold_results import INSERT_GOLD_RESULT, USERS_GOLD_TALLY
from loupe.db.queries.memberships import PAUSE_MEMBER
from loupe.db.raw import Raw
from loupe.errors import NotFound
from loupe.label_schema import QualityPolicy, Task, validate_answer
from loupe.services.access import Actor, authorize_project
from loupe.services.compliance.gate import PrivacyGate, redact_answer
from loupe.services.compliance.privacy_settings import privacy_of
from loupe.services.labelling.answer_matching import answer_matches
from loupe.services.labelling.media_bounds import audio_durations, image_sizes
from loupe.services.projects.definition import project_schema

__all__ = ["GoldFeedback", "record_gold", "set_gold", "wilson_interval"]


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


def set_gold(
    session: Session,
    actor: Actor,
    project_id: int,
    answers: Sequence[tuple[str, Any]],
    *,
    gate: PrivacyGate | None = None,
) -> int:
    """Mark items (by external id) as gold with their known answers; returns how many.

    Pass the ``gate`` the items were imported through
    (:func:`loupe.services.compliance.gate.gate_for`):
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
    sizes = image_sizes(session, task, list(by_external.values()))
    durations = audio_durations(session, task, list(by_external.values()))
    for external, answer in answers:
        item_id = by_external[external]
        canonical = validate_answer(
            task, answer, size=sizes.get(item_id), duration_ms=durations.get(item_id)
        )
        # A known translation or transcript repeats the item's personal data, and is shown
        # to annotators (gold feedback) and reviewers: it passes the gate as their answers
        # do, so the two are also compared as stored.
        canonical = redact_answer(session, project_id, task, canonical)
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


@dataclass(frozen=True, slots=True)
class GoldFeedback:
    """How an answer to a gold item scored; ``shown``: whether the annotator is told
    (the project's ``quality.gold_feedback``). Untold, a gold submit answers exactly as
    an ordinary one does."""

    correct: bool
    expected: Any
    paused: bool
    shown: bool = True


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
    row = raw.one(GOLD_ANSWER, item=item_id)
    assert row is not None, "is_gold items always have a gold answer"
    expected = raw.json_out(row.answer)
    if task is None:
        correct = expected == answer
    else:
        correct = answer_matches(task, answer, expected, max_wer=policy.gold_max_wer)
    raw.run(
        INSERT_GOLD_RESULT,
        project=project_id,
        item=item_id,
        user=user_id,
        correct=correct,
        now=raw.time(now),
    )
    paused = False
    if policy.min_gold_accuracy > 0:
        tally = raw.one(USERS_GOLD_TALLY, project=project_id, user=user_id)
        answered, right = (int(tally.answered), int(tally.right)) if tally else (0, 0)
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
                        PAUSE_MEMBER,
                        now=raw.time(now),
                        reason=reason,
                        project=project_id,
                        user=user_id,
                    )
                    > 0
                )
    return GoldFeedback(
        correct=correct,
        expected=expected if policy.gold_feedback else None,
        paused=paused,
        shown=policy.gold_feedback,
    )
