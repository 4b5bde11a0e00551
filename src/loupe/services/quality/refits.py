"""Background re-fits: fit a project's aggregator on all its labels (gold anchoring the
skills), store worker skills and every item's consensus, and make sure several servers
never fit the same project at once.

A fit takes seconds on a large project, so it never runs inside a write transaction
(:func:`refit_in_steps`): the labels, gold answers and settled escalations are read in
one read-only snapshot, the aggregator is fitted with no transaction open, and the
consensus goes back in short write transactions of :data:`BATCH` items. An item whose
labels or consensus changed after the snapshot (a new label, an undo, a review's
rejection, an expert's answer) keeps the consensus the labelling lifecycle gave it: the
fit never saw that change. Worker skills and the project's fit state are replaced last,
in one short transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loupe.db.models import Consensus, Item, Label, Project, utcnow
from loupe.db.quality_models import Escalation, GoldAnswer, QualityState, WorkerSkill
from loupe.db.raw import Raw
from loupe.errors import Conflict, InvalidInput, NotFound
from loupe.label_schema import answer_keys
from loupe.services.claim_renewal import renewed_claim, take_claim
from loupe.services.labelling.consensus import Vote, store_consensus
from loupe.services.projects.definition import project_schema

if TYPE_CHECKING:
    from loupe.db.database import Database

__all__ = [
    "BATCH",
    "FIT_CLAIM_STALE",
    "FittedItem",
    "ItemSeen",
    "RefitFit",
    "RefitReport",
    "RefitSnapshot",
    "claim_refit",
    "finish_refit",
    "fit_snapshot",
    "projects_due_for_refit",
    "read_snapshot",
    "refit",
    "refit_in_steps",
    "release_refit",
    "store_fitted_items",
]

# A claim on a project's fit older than this is from a worker that died mid-fit.
FIT_CLAIM_STALE = timedelta(minutes=10)
# Items whose consensus one short write transaction stores (refit_in_steps).
BATCH = 500


@dataclass(frozen=True, slots=True)
class RefitReport:
    project_id: int
    method: str
    n_labels: int
    n_items: int
    n_workers: int
    # Items that kept the consensus they got after the snapshot (refit_in_steps).
    n_kept: int = 0


class ItemSeen(NamedTuple):
    """What the snapshot saw of an item: changed since when any part differs."""

    labels: int
    last_label: int  # the highest label id: a replaced label raises it
    consensus_at: datetime | None  # consensus.updated_at; None when it had none


@dataclass(frozen=True, slots=True)
class RefitSnapshot:
    """A project's labels, gold and settled items as one read saw them."""

    project_id: int
    method: str
    classes: list[Any]
    items: list[int]
    workers: list[int]
    answers: list[Any]
    gold: dict[int, Any]
    settled: frozenset[int]  # items an escalation settled: they keep the expert's answer
    seen: dict[int, ItemSeen]


@dataclass(frozen=True, slots=True)
class FittedItem:
    item_id: int
    vote: Vote
    confidence: float


@dataclass(frozen=True, slots=True)
class FittedSkill:
    user_id: int
    accuracy: float
    confusion: list[list[float]] | None
    n_labels: int


@dataclass(frozen=True, slots=True)
class RefitFit:
    """The aggregator's answers for a snapshot: every unsettled item and every worker."""

    snapshot: RefitSnapshot
    items: list[FittedItem]
    skills: list[FittedSkill]


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
    if take_claim(
        session, QualityState, "fitting_since", project_id, now=now, stale=FIT_CLAIM_STALE
    ):
        return True
    if session.get(QualityState, project_id) is not None:
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


def _refittable(session: Session, project_id: int) -> tuple[str, list[Any]]:
    """The project's aggregation method and answer keys (its classes)."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} does not exist")
    schema = project_schema(project)
    classes = answer_keys(schema.task)
    if classes is None:
        raise InvalidInput("re-fitting applies to single_choice and pairwise projects")
    return schema.quality.method, list(classes)


def read_snapshot(session: Session, project_id: int) -> RefitSnapshot:
    """Everything a fit reads, and what it saw of each item. Run it in one read-only
    transaction that sees a single snapshot (on PostgreSQL, ``REPEATABLE READ``)."""
    method, classes = _refittable(session, project_id)
    rows = session.execute(
        select(Label.id, Label.item_id, Label.user_id, Label.answer)
        .where(Label.project_id == project_id)
        .order_by(Label.id)
    ).all()
    labels: dict[int, tuple[int, int]] = {}
    for row in rows:
        count, last = labels.get(row.item_id, (0, 0))
        labels[row.item_id] = (count + 1, max(last, row.id))
    consensus_at = dict(
        session.execute(
            select(Consensus.item_id, Consensus.updated_at).where(
                Consensus.project_id == project_id
            )
        ).all()
    )
    gold: dict[int, Any] = dict(
        session.execute(
            select(GoldAnswer.item_id, GoldAnswer.answer).where(GoldAnswer.project_id == project_id)
        ).all()
    )
    settled = frozenset(
        session.scalars(
            select(Escalation.item_id).where(
                Escalation.project_id == project_id, Escalation.resolved_at.is_not(None)
            )
        )
    )
    return RefitSnapshot(
        project_id=project_id,
        method=method,
        classes=classes,
        items=[row.item_id for row in rows],
        workers=[row.user_id for row in rows],
        answers=[row.answer for row in rows],
        gold=gold,
        settled=settled,
        seen={
            item: ItemSeen(count, last, consensus_at.get(item))
            for item, (count, last) in labels.items()
        },
    )


def fit_snapshot(snapshot: RefitSnapshot) -> RefitFit:
    """Fit the project's aggregator on the snapshot (no database: run it with no
    transaction open). Items an escalation settled get no fitted consensus."""
    if not snapshot.items:
        return RefitFit(snapshot, [], [])
    import numpy as np  # numpy on first use

    from loupe.aggregation import AGGREGATORS

    items, workers, answers = snapshot.items, snapshot.workers, snapshot.answers
    labelled = set(items)
    model = AGGREGATORS[snapshot.method](classes=snapshot.classes, random_state=0)
    model.fit(
        items,
        workers,
        answers,
        gold={k: v for k, v in snapshot.gold.items() if k in labelled} or None,
    )
    confusions = getattr(model, "confusions_", None)
    worker_index = {worker: i for i, worker in enumerate(model.workers_.tolist())}
    counts: dict[int, int] = {}
    for worker in workers:
        counts[worker] = counts.get(worker, 0) + 1
    skills = []
    for key, skill in model.skills_.items():
        matrix = None
        if confusions is not None:
            matrix = np.asarray(confusions[worker_index[key]]).round(6).tolist()
        user = int(str(key))
        skills.append(FittedSkill(user, float(skill), matrix, counts.get(user, 0)))
    per_item: dict[int, list[Any]] = {}
    for item, answer in zip(items, answers, strict=True):
        per_item.setdefault(item, []).append(answer)
    sure = np.max(model.probas_, axis=1)  # one call: per item it cost more than the fit
    fitted = []
    for index, item in enumerate(model.items_.tolist()):
        if int(item) in snapshot.settled:  # the expert's answer stands
            continue
        label = model.labels_[item]
        given = per_item[item]
        fitted.append(
            FittedItem(
                item_id=int(item),
                vote=Vote(answer=label, support=given.count(label), n_labels=len(given)),
                confidence=float(sure[index]),
            )
        )
    return RefitFit(snapshot, fitted, skills)


def _unchanged(session: Session, snapshot: RefitSnapshot, ids: list[int]) -> set[int]:
    """Of ``ids``, the items whose labels and consensus are as the snapshot saw them.

    On PostgreSQL the items' rows are locked first (in id order, as every labelling
    transition locks its item), so none changes between this check and the write.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Item.id).where(Item.id.in_(ids)).order_by(Item.id).with_for_update())
    labels = {
        row.item_id: (int(row.n), int(row.last))
        for row in session.execute(
            select(Label.item_id, func.count().label("n"), func.max(Label.id).label("last"))
            .where(Label.item_id.in_(ids))
            .group_by(Label.item_id)
        )
    }
    consensus_at = dict(
        session.execute(
            select(Consensus.item_id, Consensus.updated_at).where(Consensus.item_id.in_(ids))
        ).all()
    )
    return {
        item
        for item in ids
        if ItemSeen(*labels.get(item, (0, 0)), consensus_at.get(item)) == snapshot.seen[item]
    }


def store_fitted_items(
    session: Session, fit: RefitFit, batch: Sequence[FittedItem], *, now: datetime
) -> int:
    """Store the fitted consensus of ``batch``, except on items that changed since the
    snapshot (they keep their live consensus); returns how many were stored."""
    if not batch:
        return 0
    unchanged = _unchanged(session, fit.snapshot, [fitted.item_id for fitted in batch])
    raw = Raw(session)
    stored = 0
    for fitted in batch:
        if fitted.item_id not in unchanged:
            continue
        store_consensus(
            raw,
            project_id=fit.snapshot.project_id,
            item_id=fitted.item_id,
            vote=fitted.vote,
            confidence=fitted.confidence,
            method=fit.snapshot.method,
            now=now,
        )
        stored += 1
    return stored


def finish_refit(session: Session, fit: RefitFit, *, now: datetime) -> None:
    """Replace the project's worker skills, record what was fitted and drop the claim."""
    snapshot = fit.snapshot
    state = session.get(QualityState, snapshot.project_id, populate_existing=True)
    if state is None:  # the project was deleted during the fit
        return
    state.fitting_since = None
    if not snapshot.items:
        session.flush()
        return
    session.execute(delete(WorkerSkill).where(WorkerSkill.project_id == snapshot.project_id))
    session.add_all(
        WorkerSkill(
            project_id=snapshot.project_id,
            user_id=skill.user_id,
            accuracy=skill.accuracy,
            confusion=skill.confusion,
            n_labels=skill.n_labels,
            fitted_at=now,
        )
        for skill in fit.skills
    )
    state.labels_at_fit = len(snapshot.items)
    state.method = snapshot.method
    state.fitted_at = now
    session.flush()


def _report(fit: RefitFit, *, stored: int) -> RefitReport:
    snapshot = fit.snapshot
    return RefitReport(
        snapshot.project_id,
        snapshot.method,
        len(snapshot.items),
        len(snapshot.seen),
        len(fit.skills),
        n_kept=len(fit.items) - stored,
    )


def _batches(items: Sequence[FittedItem], size: int) -> Iterable[Sequence[FittedItem]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def refit(
    session: Session, project_id: int, *, now: datetime | None = None, claimed: bool = False
) -> RefitReport:
    """Fit the project's aggregator on all its labels (gold anchoring the skills) and
    store worker skills and every item's consensus, all in the caller's transaction.

    It holds that transaction (on SQLite the writer lock) for the whole fit: a server
    re-fits with :func:`refit_in_steps` instead. ``claimed``: the caller took the claim
    in an earlier, committed transaction (:func:`claim_refit`); otherwise it is taken
    here.
    """
    now = now or utcnow()
    method, _ = _refittable(session, project_id)
    if not claimed and not _claim(session, project_id, method, now):
        raise Conflict(f"project {project_id} is being re-fitted already; try again shortly")
    fit = fit_snapshot(read_snapshot(session, project_id))
    stored = store_fitted_items(session, fit, fit.items, now=now)
    finish_refit(session, fit, now=now)
    return _report(fit, stored=stored)


def refit_in_steps(
    db: Database,
    project_id: int,
    *,
    now: datetime | None = None,
    claimed: bool = False,
    batch: int = BATCH,
) -> RefitReport:
    """:func:`refit` without holding the database: a read-only snapshot, the fit with no
    transaction open, then short write transactions of ``batch`` items and a last one
    for the skills and the fit state. Labels that arrive meanwhile are kept, with the
    consensus their submit gave the item, and count toward the next fit.

    ``claimed``: the caller committed :func:`claim_refit`; otherwise it is claimed here
    (:class:`Conflict` while another server fits the project). A fit that fails
    releases the claim.
    """
    now = now or utcnow()
    if not claimed:
        with db.transaction() as session:
            _refittable(session, project_id)  # refuse before claiming: nothing written
            if not claim_refit(session, project_id, now=now):
                raise Conflict(
                    f"project {project_id} is being re-fitted already; try again shortly"
                )
    try:
        with db.transaction(readonly=True) as session:
            if db.engine.dialect.name == "postgresql":  # one snapshot for every read
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            snapshot = read_snapshot(session, project_id)
        with renewed_claim(db, QualityState, "fitting_since", project_id):
            fit = fit_snapshot(snapshot)  # may outlast the claim's ten minutes: renewed
        stored = 0
        for items in _batches(fit.items, max(1, batch)):
            with db.transaction() as session:
                stored += store_fitted_items(session, fit, items, now=now)
            # Let a request queued on the writer lock take it before the next batch:
            # the lock is not fair, and this thread would usually win it back.
            time.sleep(0)
        with db.transaction() as session:
            finish_refit(session, fit, now=now)
    except BaseException:
        with db.transaction() as session:
            release_refit(session, project_id)
        raise
    return _report(fit, stored=stored)
