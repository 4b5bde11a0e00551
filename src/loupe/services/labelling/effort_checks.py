"""Low-effort checks in the submit path: pause for review, never silently.

About one submit in ``CHECK_EVERY`` per contributor (by label id) gathers their
recent work in the project — lead times, answers, agreement with settled
consensus — and asks :func:`loupe.reputation.detect_low_effort`. Any finding
pauses their membership with the finding's own sentence as the reason (the
contributor sees it; a manager reviews and resumes them, as for a gold pause),
and the pause is written to the audit log.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import datetime

from sqlalchemy.orm import Session

from loupe.db.queries.labels import PROJECT_RECENT_LABELS, USERS_RECENT_LABELS
from loupe.db.queries.memberships import PAUSE_MEMBER
from loupe.db.raw import Raw
from loupe.label_schema import LabelSchema, answer_keys
from loupe.reputation import EffortPolicy, RecentWork, detect_low_effort
from loupe.services.compliance import audit_log

__all__ = ["CHECK_EVERY", "RECENT", "check_effort"]

CHECK_EVERY = 10
RECENT = 50  # the contributor's labels looked at
PROJECT_SAMPLE = 500  # the project's recent labels that set the baseline
POLICY = EffortPolicy()


def _key(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _tally(raw: Raw, stored: list[object]) -> Counter[str]:
    """``Counter(_key(raw.json_out(a)) for a in stored)``, decoding each distinct answer
    once (a project's answers repeat a few keys)."""
    # SQLite hands back JSON text; PostgreSQL decoded values, where 1 and True would
    # share a Counter slot: only strings are grouped before decoding.
    if not all(type(answer) is str for answer in stored):
        return Counter(_key(raw.json_out(answer)) for answer in stored)
    counts: Counter[str] = Counter()
    for answer, n in Counter(stored).items():
        counts[_key(raw.json_out(answer))] += n
    return counts


def check_effort(
    raw: Raw,
    session: Session,
    *,
    project_id: int,
    user_id: int,
    schema: LabelSchema,
    label_id: int,
    now: datetime,
    force: bool = False,
) -> list[str]:
    """Run the checks (on every ``CHECK_EVERY``-th label, or when ``force``); return findings."""
    if not force and label_id % CHECK_EVERY:
        return []
    mine = raw.all(USERS_RECENT_LABELS, user=user_id, project=project_id, n=RECENT)
    if len(mine) < min(POLICY.fast_min_labels, POLICY.one_answer_min_labels):
        return []
    project = raw.all(PROJECT_RECENT_LABELS, project=project_id, n=PROJECT_SAMPLE)
    project_times = [
        float(row.lead_time_ms)
        for row in project
        if row.lead_time_ms is not None and row.lead_time_ms > 0
    ]
    classes = answer_keys(schema.task)
    answers = [_key(raw.json_out(row.answer)) for row in mine]
    top_share = None
    if classes is not None and project:
        counts = _tally(raw, [row.answer for row in project])
        top_share = counts.most_common(1)[0][1] / len(project)
    # Agreement with consensus settled by others: items with at least one other label.
    compared = [
        (raw.json_out(row.answer), raw.json_out(row.consensus_answer))
        for row in mine
        if row.consensus_answer is not None and int(row.consensus_n_labels or 0) >= 2
    ]
    work = RecentWork(
        lead_times_ms=[float(row.lead_time_ms) for row in mine if row.lead_time_ms is not None],
        project_median_ms=statistics.median(project_times) if project_times else None,
        answers=answers if classes is not None else [],
        project_top_share=top_share,
        n_agree=sum(1 for given, settled in compared if given == settled),
        n_compared=len(compared),
        n_classes=len(classes) if classes is not None else None,
    )
    findings = detect_low_effort(work, policy=POLICY)
    if not findings:
        return []
    reason = "; ".join(f.message for f in findings) + (
        ". Paused for a manager to review your recent work; they can resume you."
    )
    paused = raw.run(
        PAUSE_MEMBER, now=raw.time(now), reason=reason, project=project_id, user=user_id
    )
    if paused:
        audit_log.record(
            session,
            None,
            "member.pause",
            project_id=project_id,
            target=f"user:{user_id}",
            details={"findings": [f.code for f in findings]},
            now=now,
        )
    return [f.code for f in findings]
