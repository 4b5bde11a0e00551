"""Background re-fits: fit a project's aggregator on all its labels (gold anchoring the
skills), store worker skills and every item's consensus, and make sure several servers
never fit the same project at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loupe.db.models import Label, Project, utcnow
from loupe.db.quality_models import Escalation, GoldAnswer, QualityState, WorkerSkill
from loupe.db.raw import Raw
from loupe.errors import Conflict, InvalidInput, NotFound
from loupe.label_schema import answer_keys
from loupe.services.labelling.consensus import Vote, store_consensus
from loupe.services.projects.definition import project_schema

__all__ = [
    "FIT_CLAIM_STALE",
    "RefitReport",
    "claim_refit",
    "projects_due_for_refit",
    "refit",
    "release_refit",
]

# A claim on a project's fit older than this is from a worker that died mid-fit.
FIT_CLAIM_STALE = timedelta(minutes=10)


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
    import numpy as np  # numpy on first use

    from loupe.aggregation import AGGREGATORS

    items = [row.item_id for row in rows]
    workers = [row.user_id for row in rows]
    answers = [row.answer for row in rows]
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
