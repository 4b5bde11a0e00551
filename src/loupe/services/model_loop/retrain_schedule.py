"""When a project is due for a retrain, and which server runs it.

:func:`projects_due_for_retrain` lists the projects whose resolved items grew enough since
their last retrain, or whose versions an erasure retired; :func:`claim_retrain` takes a
project's retrain with one conditional ``UPDATE``, so that of several servers exactly one
runs it (:mod:`loupe.web.retrainer`), and :func:`release_retrain` gives it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loupe.db.loop_models import LoopConfig, ModelVersionRecord
from loupe.db.models import Consensus, utcnow
from loupe.db.quality_models import GoldAnswer
from loupe.services.claim_renewal import take_claim
from loupe.services.model_loop.loop_settings import stored_config

__all__ = [
    "CLAIM_STALE",
    "claim_retrain",
    "projects_due_for_retrain",
    "release_retrain",
    "resolved_count",
    "retrain_after_erasure",
]

CLAIM_STALE = timedelta(minutes=10)


def resolved_count(session: Session, project_id: int) -> int:
    """Items of the project with a consensus answer."""
    return int(
        session.scalar(
            select(func.count()).select_from(Consensus).where(Consensus.project_id == project_id)
        )
        or 0
    )


def claim_retrain(session: Session, project_id: int, *, now: datetime | None = None) -> bool:
    """Take the project's retrain (False while another server holds a fresh claim).

    One conditional ``UPDATE``; its row count says who won, so of several servers
    claiming at once exactly one does. A claim older than ``CLAIM_STALE`` is from a
    server that died mid-retrain and is taken over. Commit it before training for the
    other servers to see it (:func:`loupe.web.retrainer.retrain_due_projects`).
    """
    stored_config(session, project_id)  # the row, created on first use
    return take_claim(
        session, LoopConfig, "training_since", project_id, now=now or utcnow(), stale=CLAIM_STALE
    )


def release_retrain(session: Session, project_id: int) -> None:
    config = session.get(LoopConfig, project_id)
    if config is not None:
        config.training_since = None
        session.flush()


def projects_due_for_retrain(session: Session, *, every: int) -> list[int]:
    """Projects in the loop whose resolved items grew by ``every`` since their last retrain,
    or that have trained nothing since an erasure retired one of their versions."""
    counts = dict(
        session.execute(
            select(Consensus.project_id, func.count()).group_by(Consensus.project_id)
        ).all()
    )
    trained: dict[int, int] = {
        row.project_id: row.labels_at_train
        for row in session.execute(select(LoopConfig.project_id, LoopConfig.labels_at_train))
    }
    gold = set(session.scalars(select(GoldAnswer.project_id).distinct()))
    retired = retrain_after_erasure(session)
    return sorted(
        project
        for project, at in trained.items()
        if project in gold and (counts.get(project, 0) - at >= every or project in retired)
    )


def retrain_after_erasure(session: Session, projects: Sequence[int] | None = None) -> set[int]:
    """Projects with nothing trained since an erasure retired one of their versions.

    Judged by what was trained *since* the retirement, so that a retrain whose result is
    not promoted still ends it.
    """
    query = select(
        ModelVersionRecord.project_id,
        ModelVersionRecord.created_at,
        ModelVersionRecord.trained_on_erased_at,
    )
    if projects is not None:
        query = query.where(ModelVersionRecord.project_id.in_(list(projects)))
    newest: dict[int, datetime] = {}
    retired: dict[int, datetime] = {}
    for project, created_at, erased_at in session.execute(query):
        newest[project] = max(created_at, newest.get(project, created_at))
        if erased_at is not None:
            retired[project] = max(erased_at, retired.get(project, erased_at))
    return {int(p) for p, at in retired.items() if newest[p] <= at}
