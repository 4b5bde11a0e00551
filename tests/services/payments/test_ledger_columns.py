"""Every figure comes from the logged entry bytes: a column edited beside a leaf is caught
by `verify` (by position), and the wallet, balances, payouts and payout files refuse."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.factories import add_items, hold_in, make_project, make_rate_card, make_user, snapshot

from loupe.db.database import Database
from loupe.errors import Conflict, LedgerIntegrityError
from loupe.ledger.entries import PaymentEntry, contributor_pseudonym, item_digest, utc_seconds
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.payments import earnings, ledger, payout_files
from loupe.services.payments.ledger_keys import LedgerConfig, init_keys
from loupe.services.payments.ledger_store import NewEntry, append_entries, publish_checkpoint

SYSTEM = Actor.system()
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def cfg(tmp_path: Path) -> LedgerConfig:
    return LedgerConfig(keys=init_keys(tmp_path / "keys", origin="test.loupe/cols"))


@pytest.fixture
def logged(db: Database, cfg: LedgerConfig) -> dict[str, int]:
    """Ann earns entries 0-20 (5 each), Bob entry 21 (7); a checkpoint covers them."""
    ann, bob = make_user(db, "ann"), make_user(db, "bob")
    project = make_project(db, members={ann: "annotator", bob: "annotator"})
    secret = cfg.keys.secret
    owners = [ann.id] * 21 + [bob.id]
    entries = [
        NewEntry(
            entry=PaymentEntry(
                kind="earning",
                contributor=contributor_pseudonym(str(user), secret=secret),
                item=item_digest(str(i), secret=secret),
                amount_minor=5 if user == ann.id else 7,
                currency="EUR",
                rule="label.accepted",
                rate_card_version=f"p{project}.v1",
                timestamp=utc_seconds(NOW),
            ),
            user_id=user,
            project_id=project,
        )
        for i, user in enumerate(owners)
    ]
    with db.transaction() as session:
        append_entries(session, entries, keys=None, checkpoint_every=10**9)
        publish_checkpoint(session, cfg.keys)
    return {"ann": ann.id, "bob": bob.id, "project": project}


def _sql(db: Database, sql: str, **params: object) -> None:
    with db.transaction() as session:
        session.execute(text(sql), params)


def _verify(db: Database, cfg: LedgerConfig) -> list[str]:
    with db.transaction(readonly=True) as session:
        report = ledger.audit_ledger(
            session,
            SYSTEM,
            verifier_keys=cfg.keys.verifier_keys,
            secret=cfg.keys.secret,
            raise_on_problems=False,
        )
    return report.problems


def test_an_untouched_log_verifies_and_pays_from_its_leaves(
    db: Database, cfg: LedgerConfig, logged: dict[str, int]
) -> None:
    assert _verify(db, cfg) == []
    with db.transaction(readonly=True) as session:
        assert earnings.balances(session, logged["ann"], secret=cfg.keys.secret) == [
            earnings.Balance("EUR", 105, 0, 105)
        ]


TAMPERING = {
    "user_id": ("UPDATE ledger_entries SET user_id = :bob WHERE idx <= 20", range(21)),
    "delta_minor": ("UPDATE ledger_entries SET delta_minor = 50000 WHERE idx = 3", [3]),
    "currency": ("UPDATE ledger_entries SET currency = 'USD' WHERE idx = 4", [4]),
    "kind": ("UPDATE ledger_entries SET kind = 'bonus' WHERE idx = 5", [5]),
    "corrects": ("UPDATE ledger_entries SET corrects = 1 WHERE idx = 6", [6]),
    "project_id": ("UPDATE ledger_entries SET project_id = NULL WHERE idx = 7", [7]),
    "created_at": ("UPDATE ledger_entries SET created_at = :earlier WHERE idx = 8", [8]),
}


@pytest.mark.parametrize("column", sorted(TAMPERING))
def test_a_column_that_disagrees_with_its_leaf_is_named_and_refused(
    db: Database, cfg: LedgerConfig, logged: dict[str, int], column: str
) -> None:
    sql, positions = TAMPERING[column]
    _sql(db, sql, bob=logged["bob"], earlier="2026-01-01 00:00:00.000000")
    problems = _verify(db, cfg)
    # Regression: these columns used to be summed without ever being compared.
    assert problems == [
        f"entry {index}: column {column} disagrees with its leaf" for index in positions
    ]
    first = positions[0]
    victim = logged["bob"] if column == "user_id" else logged["ann"]
    before = snapshot(db)
    with db.transaction(readonly=True) as session, pytest.raises(LedgerIntegrityError) as wallet:
        ledger.wallet(
            session,
            Actor(user_id=victim, username="someone", role="annotator"),
            secret=cfg.keys.secret,
        )
    assert wallet.value.details["index"] == first
    assert column in wallet.value.details["columns"]
    with db.transaction() as session, pytest.raises(LedgerIntegrityError) as payout:
        earnings.create_payout(session, SYSTEM, cfg, currency="EUR")
    assert payout.value.details == {"index": first, "columns": [column]}
    assert f"entry {first}" in payout.value.message
    assert snapshot(db) == before


def test_a_payout_file_refuses_an_edited_payout_line(
    db: Database, cfg: LedgerConfig, logged: dict[str, int]
) -> None:
    with db.transaction() as session:
        payout = earnings.create_payout(session, SYSTEM, cfg, currency="EUR")
    _sql(db, "UPDATE ledger_entries SET delta_minor = -1 WHERE payout_id = :p", p=payout.id)
    with db.transaction(readonly=True) as session, pytest.raises(LedgerIntegrityError) as caught:
        payout_files.payout_batch(session, SYSTEM, payout.id, secret=cfg.keys.secret)
    assert caught.value.details["columns"] == ["delta_minor"]
    _sql(db, "UPDATE payouts SET total_minor = 1 WHERE id = :p", p=payout.id)
    _sql(db, "UPDATE ledger_entries SET delta_minor = -105 WHERE idx = 22")
    _sql(db, "UPDATE ledger_entries SET delta_minor = -7 WHERE idx = 23")
    with db.transaction(readonly=True) as session, pytest.raises(LedgerIntegrityError) as total:
        payout_files.payout_batch(session, SYSTEM, payout.id, secret=cfg.keys.secret)
    assert "batch records 1" in total.value.message


def test_an_erased_user_may_leave_an_empty_user_id_but_a_living_one_may_not(
    db: Database, cfg: LedgerConfig, logged: dict[str, int]
) -> None:
    _sql(db, "UPDATE ledger_entries SET user_id = NULL WHERE idx = 21")
    assert _verify(db, cfg) == ["entry 21: column user_id disagrees with its leaf"]
    _sql(db, "DELETE FROM users WHERE id = :bob", bob=logged["bob"])
    assert _verify(db, cfg) == []


# --- negative balances ------------------------------------------------------------------


def _label(db: Database, user: int, project: int, items: range, cfg: LedgerConfig) -> None:
    actor = Actor(user_id=user, username="ann", role="annotator")
    for item in items:
        with db.transaction() as session:
            hold_in(session, user, project, item)
        with db.transaction() as session:
            submit_label(session, actor, project, item, "call", ledger=cfg)


def test_a_rejection_after_payout_is_owed_back_and_netted_never_paid_below_zero(
    db: Database, cfg: LedgerConfig
) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 4)
    make_rate_card(db, project)  # 5 per label
    _label(db, ann.id, project, range(1, 3), cfg)
    with db.transaction() as session:
        first = earnings.create_payout(session, SYSTEM, cfg, currency="EUR")
        assert first.total_minor == 10
        earnings.decide_label(session, SYSTEM, cfg, 1, "label.rejected")
        earnings.decide_label(session, SYSTEM, cfg, 2, "label.rejected")
    with db.transaction(readonly=True) as session:
        (balance,) = earnings.balances(session, ann.id, secret=cfg.keys.secret)
    assert balance == earnings.Balance("EUR", 0, 10, -10)
    assert balance.owed_back_minor == 10
    before = snapshot(db)
    with db.transaction() as session, pytest.raises(Conflict):
        earnings.create_payout(session, SYSTEM, cfg, currency="EUR")  # nothing is paid
    assert snapshot(db) == before
    _label(db, ann.id, project, range(3, 5), cfg)  # +10: nets the debt to 0
    with db.transaction() as session, pytest.raises(Conflict):
        earnings.create_payout(session, SYSTEM, cfg, currency="EUR")
    make_rate_card(db, project, {"currency": "EUR", "rates": [{"amount_minor": 30}]})
    add_items(db, project, 1, start=4)
    _label(db, ann.id, project, range(5, 6), cfg)  # +30
    with db.transaction() as session:
        second = earnings.create_payout(session, SYSTEM, cfg, currency="EUR")
    assert second.total_minor == 30  # 10 + 30 earned since, less the 10 owed back
    assert _verify(db, cfg) == []
    with db.transaction(readonly=True) as session:
        (after,) = earnings.balances(session, ann.id, secret=cfg.keys.secret)
    assert (after.balance_minor, after.owed_back_minor, after.paid_out_minor) == (0, 0, 40)
