"""Background jobs (refit, retrain) claimed exactly once across servers (issue 18).

Several servers against one PostgreSQL are stood in for by threads, each with its own
:class:`Database` (its own engine and connections). The claim is a conditional
``UPDATE`` committed before the work, so exactly one of them wins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from tests.factories import Person, add_items, hold_in, make_project, make_user
from tests.loop_helpers import add_gold, configure, label_items

from loupe.aggregation import AGGREGATORS
from loupe.db.database import Database
from loupe.db.loop_models import LoopConfig, ModelVersionRecord
from loupe.db.models import utcnow
from loupe.db.quality_models import QualityState
from loupe.errors import Conflict, InvalidInput
from loupe.services.labelling.labels import submit_label
from loupe.services.model_loop.retrain_schedule import CLAIM_STALE, claim_retrain, release_retrain
from loupe.services.quality import refits
from loupe.web.refitter import refit_due_projects
from loupe.web.retrainer import retrain_due_projects

SERVERS = 6
ROUNDS = 5  # the old read-then-set claim lost some rounds, not every one
T = TypeVar("T")


def _postgres_only(db: Database) -> None:
    if not db.url.startswith("postgresql"):
        pytest.skip(
            "servers racing for a claim need PostgreSQL: SQLite serializes every writer "
            "(BEGIN IMMEDIATE), so there is no race to lose there"
        )


def _at_once(url: str, job: Callable[[Database], T]) -> list[T]:
    """``job`` run by SERVERS threads, each with its own Database, released together."""
    barrier = threading.Barrier(SERVERS)
    results: list[Any] = [None] * SERVERS
    errors: list[BaseException] = []

    def server(index: int) -> None:
        own = Database(url, pool_size=2)
        try:
            barrier.wait()
            results[index] = job(own)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=server, args=(i,)) for i in range(SERVERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def _refit_project(db: Database) -> int:
    """A project with 12 labels, due every 5, fitted once (its state row exists)."""
    people = [make_user(db, f"p{i}") for i in range(2)]
    project = make_project(
        db,
        config={
            "task": {
                "type": "single_choice",
                "labels": [{"key": "call"}, {"key": "music"}, {"key": "navigate"}],
            },
            "quality": {"refit_every": 5},
        },
        overlap=2,
        members=dict.fromkeys(people, "annotator"),
    )
    _label(db, project, people, range(1, 4))
    with db.transaction() as session:
        refits.refit(session, project)  # the state row now exists, not claimed
    _label(db, project, people, range(4, 7))
    return project


def _label(db: Database, project: int, people: list[Person], items: range) -> None:
    add_items(db, project, len(items), start=items.start - 1)
    with db.transaction() as session:
        for item in items:
            for person in people:
                hold_in(session, person.id, project, item)
                submit_label(session, person.actor, project, item, "call")


def _count_fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    fits: list[int] = []
    original = AGGREGATORS["ds"]

    def counting(**kwargs: Any) -> Any:
        fits.append(1)  # list.append is atomic
        return original(**kwargs)

    monkeypatch.setitem(AGGREGATORS, "ds", counting)
    return fits


def _fitting_since(db: Database, project: int) -> Any:
    with db.transaction(readonly=True) as session:
        return session.scalar(
            select(QualityState.fitting_since).where(QualityState.project_id == project)
        )


def _retrain_project(db: Database) -> int:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    configure(db, project)
    add_gold(db, project)
    label_items(db, project, manager, 3)
    return project


def _versions(db: Database, project: int) -> int:
    with db.transaction(readonly=True) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(ModelVersionRecord)
                .where(ModelVersionRecord.project_id == project)
            )
            or 0
        )


def _training_since(db: Database, project: int) -> Any:
    with db.transaction(readonly=True) as session:
        return session.scalar(
            select(LoopConfig.training_since).where(LoopConfig.project_id == project)
        )


# --- refit ---------------------------------------------------------------------------------


def test_refit_claim_has_one_winner_among_servers(db: Database) -> None:
    _postgres_only(db)
    project = _refit_project(db)

    def claim(own: Database) -> bool:
        with own.transaction() as session:
            return refits.claim_refit(session, project)

    for _ in range(ROUNDS):
        assert sorted(_at_once(db.url, claim)) == [False] * (SERVERS - 1) + [True]
        with db.transaction() as session:
            refits.release_refit(session, project)


def test_first_refit_claim_has_one_winner_among_servers(db: Database) -> None:
    _postgres_only(db)
    project = make_project(db, name="never-fitted")  # no quality state row yet

    def claim(own: Database) -> bool:
        with own.transaction() as session:
            return refits.claim_refit(session, project)

    assert sorted(_at_once(db.url, claim)) == [False] * (SERVERS - 1) + [True]


def test_background_refit_runs_once_across_servers(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgres_only(db)
    project = _refit_project(db)
    fits = _count_fits(monkeypatch)
    done = _at_once(db.url, refit_due_projects)
    assert len(fits) == 1
    assert sorted(map(len, done)) == [0] * (SERVERS - 1) + [1]
    assert _fitting_since(db, project) is None
    with db.transaction(readonly=True) as session:
        assert refits.projects_due_for_refit(session) == []


def test_stale_refit_claim_is_taken_over(db: Database) -> None:
    project = _refit_project(db)
    now = utcnow()
    with db.transaction() as session:  # a server that died mid-fit, long ago
        assert refits.claim_refit(session, project, now=now - refits.FIT_CLAIM_STALE)
    with db.transaction() as session:
        assert refits.claim_refit(session, project, now=now)
    with db.transaction() as session:  # the new claim is fresh: nobody else gets it
        assert not refits.claim_refit(session, project, now=now + timedelta(seconds=1))


def test_failed_refit_releases_its_claim(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _refit_project(db)

    def failing(**kwargs: Any) -> Any:
        raise InvalidInput("the aggregator failed")

    monkeypatch.setitem(AGGREGATORS, "ds", failing)
    assert refit_due_projects(db) == []
    assert _fitting_since(db, project) is None
    monkeypatch.undo()
    assert refit_due_projects(db) == [project]  # not left waiting for a stale claim
    assert _fitting_since(db, project) is None


def test_refit_single_process_behaviour_unchanged(db: Database) -> None:
    project = _refit_project(db)
    with db.transaction() as session:  # an explicit refit claims and releases in one go
        assert refits.refit(session, project).n_labels == 12
    assert _fitting_since(db, project) is None
    assert refit_due_projects(db) == []  # fitted: not due
    with db.transaction() as session:
        assert refits.claim_refit(session, project)
    with pytest.raises(Conflict, match="re-fitted already"), db.transaction() as s:
        refits.refit(s, project)


# --- retrain -------------------------------------------------------------------------------


def test_retrain_claim_has_one_winner_among_servers(db: Database) -> None:
    _postgres_only(db)
    project = _retrain_project(db)

    def claim(own: Database) -> bool:
        with own.transaction() as session:
            return claim_retrain(session, project)

    for _ in range(ROUNDS):
        assert sorted(_at_once(db.url, claim)) == [False] * (SERVERS - 1) + [True]
        with db.transaction() as session:
            release_retrain(session, project)


def test_background_retrain_runs_once_across_servers(db: Database) -> None:
    _postgres_only(db)
    project = _retrain_project(db)
    done = _at_once(db.url, lambda own: retrain_due_projects(own, every=9))
    assert sorted(map(len, done)) == [0] * (SERVERS - 1) + [1]
    assert _versions(db, project) == 1
    assert _training_since(db, project) is None


def test_stale_retrain_claim_is_taken_over(db: Database) -> None:
    project = _retrain_project(db)
    now = utcnow()
    with db.transaction() as session:
        assert claim_retrain(session, project, now=now - CLAIM_STALE)
    with db.transaction() as session:
        assert claim_retrain(session, project, now=now)
    with db.transaction() as session:
        assert not claim_retrain(session, project, now=now + timedelta(seconds=1))


def test_failed_retrain_releases_its_claim(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _retrain_project(db)

    def broken(name: str) -> Any:
        raise RuntimeError("the trainer crashed")

    monkeypatch.setattr("loupe.services.model_loop.training.get_trainer", broken)
    with pytest.raises(RuntimeError, match="crashed"):
        retrain_due_projects(db, every=9)
    assert _training_since(db, project) is None
    monkeypatch.undo()
    assert retrain_due_projects(db, every=9) == [project]
    assert _versions(db, project) == 1
