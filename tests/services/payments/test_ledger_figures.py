"""The figures beyond the wallet and payouts come from the logged entry bytes too: the
dashboard's cost to date, the workspace's tally for today, the cost a model version
records (and the demo prints), and the amount an undo or a rejection reverses. A column
edited beside a leaf is refused, naming its position, and nothing changes."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from tests.factories import (
    Person,
    add_items,
    hold_in,
    make_project,
    make_rate_card,
    make_user,
    snapshot,
)

from loupe.db.database import Database
from loupe.db.ledger_models import LedgerEntry
from loupe.db.models import utcnow
from loupe.errors import LedgerIntegrityError
from loupe.services.access import Actor
from loupe.services.labelling import undo, workspace
from loupe.services.labelling.labels import submit_label
from loupe.services.model_loop import model_versions
from loupe.services.payments import earnings, ledger
from loupe.services.payments.ledger_keys import LedgerConfig, init_keys
from loupe.services.projects import progress
from loupe.settings import Settings
from loupe.web.app import create_app

ORIGIN = "test.loupe/figures"


@dataclass(frozen=True)
class Paid:
    ann: Person
    bob: Person
    manager: Person
    project: int
    now: datetime


@pytest.fixture
def cfg(tmp_path: Path) -> LedgerConfig:
    return LedgerConfig(keys=init_keys(tmp_path / "keys", origin=ORIGIN))


@pytest.fixture
def paid(db: Database, cfg: LedgerConfig) -> Paid:
    """Ann labels items 1 and 2 (entries 0 and 1), Bob item 3 (entry 2): 5 EUR cents each."""
    ann, bob = make_user(db, "ann"), make_user(db, "bob")
    manager = make_user(db, "mia", "manager")
    members = {ann: "annotator", bob: "annotator", manager: "manager"}
    project = make_project(db, members=members)
    add_items(db, project, 4)
    make_rate_card(db, project)
    now = utcnow()
    for person, item in ((ann, 1), (ann, 2), (bob, 3)):
        with db.transaction() as session:
            hold_in(session, person.id, project, item)
            submit_label(session, person.actor, project, item, "call", ledger=cfg, now=now)
    return Paid(ann, bob, manager, project, now)


def _sql(db: Database, sql: str, **params: object) -> None:
    with db.transaction() as session:
        session.execute(text(sql), params)


# Each edit would have changed a figure summed from the columns (50000 instead of 5; an
# earning filed as a payout dropped from the cost; a second currency; an entry moved off
# today): now each is refused, naming entry 1 and the column.
TAMPERING = {
    "delta_minor": "UPDATE ledger_entries SET delta_minor = 50000 WHERE idx = 1",
    "kind": "UPDATE ledger_entries SET kind = 'payout' WHERE idx = 1",
    "currency": "UPDATE ledger_entries SET currency = 'USD' WHERE idx = 1",
    "created_at": "UPDATE ledger_entries SET created_at = :earlier WHERE idx = 1",
}


def _tamper(db: Database, paid: Paid, column: str) -> None:
    earlier = paid.now - timedelta(days=2)
    _sql(db, TAMPERING[column], earlier=earlier.strftime("%Y-%m-%d %H:%M:%S.%f"))


def _refused(caught: pytest.ExceptionInfo[LedgerIntegrityError], index: int, column: str) -> None:
    assert caught.value.details == {"index": index, "columns": [column]}
    assert f"entry {index}" in caught.value.message


def test_untouched_entries_give_the_figures(db: Database, cfg: LedgerConfig, paid: Paid) -> None:
    secret = cfg.keys.secret
    with db.transaction(readonly=True) as session:
        stats = progress.project_progress(session, paid.manager.actor, paid.project, now=paid.now)
        tally = workspace.today(session, paid.ann.actor, paid.project, secret=secret, now=paid.now)
        bobs = workspace.today(session, paid.bob.actor, paid.project, secret=secret, now=paid.now)
        cost = model_versions._cost(session, paid.project)
        spent = earnings.project_spending(session, paid.project)
    assert stats.cost == {"EUR": 15}
    assert (tally.labels, tally.earnings) == (2, {"EUR": 10})
    assert (bobs.labels, bobs.earnings) == (1, {"EUR": 5})
    assert cost == (15, "EUR")
    assert spent == {"EUR": 15}
    tomorrow = paid.now + timedelta(days=1)
    with db.transaction(readonly=True) as session:
        later = workspace.today(session, paid.ann.actor, paid.project, secret=secret, now=tomorrow)
    assert later.earnings == {}


@pytest.mark.parametrize("column", sorted(TAMPERING))
def test_cost_to_date_refuses_an_edited_column(
    db: Database, paid: Paid, column: str
) -> None:  # regression: progress summed delta_minor where kind != 'payout'
    _tamper(db, paid, column)
    with db.transaction(readonly=True) as session, pytest.raises(LedgerIntegrityError) as caught:
        progress.project_progress(session, paid.manager.actor, paid.project, now=paid.now)
    _refused(caught, 1, column)


@pytest.mark.parametrize("column", sorted(TAMPERING))
def test_todays_tally_refuses_an_edited_column(
    db: Database, cfg: LedgerConfig, paid: Paid, column: str
) -> None:  # regression: the tally summed delta_minor filtered by kind and created_at
    _tamper(db, paid, column)
    with db.transaction(readonly=True) as session, pytest.raises(LedgerIntegrityError) as caught:
        workspace.today(session, paid.ann.actor, paid.project, secret=cfg.keys.secret, now=paid.now)
    _refused(caught, 1, column)


def test_todays_tally_refuses_someone_elses_entry_filed_as_mine(
    db: Database, cfg: LedgerConfig, paid: Paid
) -> None:  # regression: Bob's entry 2 counted in Ann's tally
    _sql(db, "UPDATE ledger_entries SET user_id = :ann WHERE idx = 2", ann=paid.ann.id)
    with db.transaction(readonly=True) as session, pytest.raises(LedgerIntegrityError) as caught:
        workspace.today(session, paid.ann.actor, paid.project, secret=cfg.keys.secret, now=paid.now)
    _refused(caught, 2, "user_id")
    with db.transaction(readonly=True) as session:  # the project's cost is unaffected
        assert earnings.project_spending(session, paid.project) == {"EUR": 15}


@pytest.mark.parametrize("column", sorted(TAMPERING))
def test_a_model_versions_cost_refuses_an_edited_column(
    db: Database, paid: Paid, column: str
) -> None:  # regression: retrain recorded SUM(delta_minor) (the demo printed it too)
    _tamper(db, paid, column)
    with db.transaction(readonly=True) as session, pytest.raises(LedgerIntegrityError) as caught:
        model_versions._cost(session, paid.project)
    _refused(caught, 1, column)


def test_undo_reverses_what_the_leaf_says_or_refuses(
    db: Database, cfg: LedgerConfig, paid: Paid
) -> None:  # regression: undo reversed -delta_minor (here -50000)
    _sql(db, "UPDATE ledger_entries SET delta_minor = 50000 WHERE idx = 1")
    before = snapshot(db)
    with db.transaction() as session, pytest.raises(LedgerIntegrityError) as caught:
        undo.undo_label(
            session, paid.ann.actor, paid.project, 2, grace_seconds=30, lease_seconds=600,
            ledger=cfg, now=paid.now,
        )  # fmt: skip
    _refused(caught, 1, "delta_minor")
    assert snapshot(db) == before
    _sql(db, "UPDATE ledger_entries SET delta_minor = 5 WHERE idx = 1")
    with db.transaction() as session:
        done = undo.undo_label(
            session, paid.ann.actor, paid.project, 2, grace_seconds=30, lease_seconds=600,
            ledger=cfg, now=paid.now,
        )  # fmt: skip
    assert done.correction_index == 3
    with db.transaction(readonly=True) as session:
        (balance,) = earnings.balances(session, paid.ann.id, secret=cfg.keys.secret)
    assert balance.balance_minor == 5


def test_a_rejection_refuses_a_correction_filed_against_the_wrong_entry(
    db: Database, cfg: LedgerConfig, paid: Paid
) -> None:  # regression: Bob's earning (entry 2) counted as a correction of entry 0
    _sql(db, "UPDATE ledger_entries SET corrects = 0 WHERE idx = 2")
    before = snapshot(db)
    with db.transaction() as session, pytest.raises(LedgerIntegrityError) as caught:
        earnings.decide_label(session, Actor.system(), cfg, 1, "label.rejected", now=paid.now)
    _refused(caught, 2, "corrects")
    assert snapshot(db) == before
    _sql(db, "UPDATE ledger_entries SET corrects = NULL WHERE idx = 2")
    with db.transaction() as session:
        assert earnings.decide_label(session, Actor.system(), cfg, 1, "label.rejected") == 3
    with db.transaction(readonly=True) as session:
        amounts = session.scalars(select(LedgerEntry.delta_minor).order_by(LedgerEntry.idx))
        assert list(amounts) == [5, 5, 5, -5]


def test_the_audit_needs_every_caller_to_say_which_secret() -> None:
    # The demo's audit left user_id and label_id unchecked by omitting it.
    parameter = inspect.signature(ledger.audit_ledger).parameters["secret"]
    assert parameter.default is inspect.Parameter.empty


# --- over HTTP ----------------------------------------------------------------------------


@pytest.fixture
def client(database_url: str, tmp_path: Path, cfg: LedgerConfig) -> TestClient:
    settings = Settings(database_url=database_url, key_dir=tmp_path / "keys", ledger_origin=ORIGIN)
    return TestClient(create_app(settings))


def test_progress_and_tally_over_http(db: Database, client: TestClient, paid: Paid) -> None:
    project = paid.project
    with client:
        stats = client.get(f"/api/v1/projects/{project}/progress", headers=paid.manager.headers)
        assert stats.status_code == 200, stats.text
        assert stats.json()["cost"] == {"EUR": 15}
        tally = client.get(f"/projects/{project}/work/today", headers=paid.bob.headers)
        assert tally.status_code == 200, tally.text
        assert tally.json() == {"labels": 1, "earnings": {"EUR": 5}}
        assert client.get(f"/projects/{project}/work/today").status_code == 401
        outsider = make_user(db, "olga")
        denied = client.get(f"/projects/{project}/work/today", headers=outsider.headers)
        assert denied.status_code == 403

        _sql(db, "UPDATE ledger_entries SET delta_minor = 50000 WHERE idx = 2")
        before = snapshot(db)
        # Spending already summed from the leaves is carried forward: the edited column
        # does not change it...
        again = client.get(f"/api/v1/projects/{project}/progress", headers=paid.manager.headers)
        assert again.status_code == 200 and again.json()["cost"] == {"EUR": 15}
        # ...and a process that reads the entry afresh refuses it.
        earnings._SPENT.clear()
        for path, person in (
            (f"/api/v1/projects/{project}/progress", paid.manager),
            (f"/projects/{project}/work/today", paid.bob),
        ):
            response = client.get(path, headers=person.headers)
            assert response.status_code == 409, response.text
            error = response.json()["error"]
            assert error["code"] == "ledger_integrity"
            assert error["details"] == {"index": 2, "columns": ["delta_minor"]}
            assert "entry 2" in error["message"]
        assert snapshot(db) == before
