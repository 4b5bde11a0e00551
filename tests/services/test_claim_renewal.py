"""A claim on a background job stays fresh while its slow part runs, and only then."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from tests.factories import make_project

from loupe.db.database import Database
from loupe.db.loop_models import LoopConfig
from loupe.db.models import utcnow
from loupe.services.claim_renewal import renewed_claim
from loupe.services.model_loop.retrain_schedule import (
    CLAIM_STALE,
    claim_retrain,
    release_retrain,
)

FAST = timedelta(milliseconds=5)


def _claimed_at(db: Database, project: int) -> datetime | None:
    with db.transaction(readonly=True) as session:
        return session.scalar(
            select(LoopConfig.training_since).where(LoopConfig.project_id == project)
        )


def _wait_for_change(db: Database, project: int, old: datetime | None) -> datetime | None:
    """Wait for readiness (the renewal's first write), not for a fixed time."""
    for _ in range(10_000):
        now = _claimed_at(db, project)
        if now != old:
            return now
        time.sleep(0.001)
    pytest.fail("the claim was never renewed")


def test_a_claim_is_renewed_while_the_work_runs_and_not_after(db: Database) -> None:
    project = make_project(db)
    start = utcnow() - timedelta(minutes=9)  # nearly stale when the work begins
    with db.transaction() as session:
        assert claim_retrain(session, project, now=start)
    with renewed_claim(db, LoopConfig, "training_since", project, every=FAST):
        renewed = _wait_for_change(db, project, start)
        assert renewed is not None and renewed > start
        # A second server, ten minutes after the first claimed, finds it fresh.
        with db.transaction() as session:
            assert not claim_retrain(session, project, now=start + CLAIM_STALE)
    after = _claimed_at(db, project)
    time.sleep(0.05)  # several renewal periods: nothing renews once the block ended
    assert _claimed_at(db, project) == after


def test_a_released_claim_is_not_brought_back(db: Database) -> None:
    project = make_project(db)
    with db.transaction() as session:
        assert claim_retrain(session, project)
    with renewed_claim(db, LoopConfig, "training_since", project, every=FAST):
        with db.transaction() as session:
            release_retrain(session, project)
        time.sleep(0.05)  # several renewal periods
        assert _claimed_at(db, project) is None
    assert _claimed_at(db, project) is None


def test_nothing_is_renewed_without_a_claim(db: Database) -> None:
    project = make_project(db)
    with db.transaction() as session:
        release_retrain(session, project)  # no loop settings row yet: nothing to release
    with renewed_claim(db, LoopConfig, "training_since", project, every=FAST):
        time.sleep(0.02)
    assert _claimed_at(db, project) is None
