from __future__ import annotations

import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from tests.factories import (
    add_items,
    count,
    hold,
    hold_in,
    make_project,
    make_rate_card,
    make_user,
    snapshot,
)

from loupe.db.database import Database
from loupe.db.ledger_models import LedgerEntry
from loupe.errors import Conflict, InvalidInput, LedgerIntegrityError, PermissionDenied
from loupe.ledger.entries import PaymentEntry, contributor_pseudonym, item_digest
from loupe.ledger.merkle import InMemoryTreeStore, MerkleLog
from loupe.ledger.verify import hash_leaf, is_included, verify_checkpoint
from loupe.permissions import Action, allowed
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.payments import earnings, ledger, payout_files
from loupe.services.payments.ledger_keys import LedgerConfig, init_keys, load_keys, rotate_signer
from loupe.services.payments.ledger_store import (
    NewEntry,
    SqlTreeStore,
    append_entries,
    list_checkpoints,
    publish_checkpoint,
)

ORIGIN = "test.loupe/payments"


@pytest.fixture
def cfg(tmp_path: Path) -> LedgerConfig:
    return LedgerConfig(keys=init_keys(tmp_path / "keys", origin=ORIGIN), checkpoint_every=1000)


def _label_all(db: Database, actor: Actor, project: int, n: int, cfg: LedgerConfig) -> None:
    for item_id in range(1, n + 1):
        # The lease first, in a transaction of its own as ``next task`` would (taking it in
        # the submit's transaction would lock in the other order and deadlock PostgreSQL).
        with db.transaction() as session:
            assert actor.user_id is not None
            hold_in(session, actor.user_id, project, item_id)
        with db.transaction() as session:
            submit_label(session, actor, project, item_id, "call", ledger=cfg)


def _entries(db: Database) -> list[LedgerEntry]:
    with db.transaction(readonly=True) as session:
        rows = list(session.scalars(select(LedgerEntry).order_by(LedgerEntry.idx)).all())
        session.expunge_all()  # keep them loaded after the read-only rollback
        return rows


def _audit(db: Database, cfg: LedgerConfig) -> ledger.AuditReport:
    with db.transaction(readonly=True) as session:
        return ledger.audit_ledger(
            session, Actor.system(), verifier_keys=cfg.keys.verifier_keys, secret=cfg.keys.secret
        )


def _problems(db: Database, cfg: LedgerConfig) -> list[str]:
    with pytest.raises(LedgerIntegrityError) as caught:
        _audit(db, cfg)
    problems: list[str] = caught.value.details["problems"]
    return problems


def test_labels_earn_nothing_without_a_rate_card(db: Database, cfg: LedgerConfig) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 2)
    _label_all(db, ann.actor, project, 2, cfg)
    assert count(db, "ledger_entries") == 0
    assert count(db, "labels") == 2


def test_an_accepted_label_earns_a_pseudonymous_entry(db: Database, cfg: LedgerConfig) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 1)
    make_rate_card(db, project)
    _label_all(db, ann.actor, project, 1, cfg)
    (row,) = _entries(db)
    entry = PaymentEntry.decode(row.leaf)
    secret = cfg.keys.secret
    assert entry == PaymentEntry(
        kind="earning",
        contributor=contributor_pseudonym(str(ann.id), secret=secret),
        item=item_digest("1", secret=secret),
        amount_minor=5,
        currency="EUR",
        rule="label.accepted",
        rate_card_version=f"p{project}.v1",
        timestamp=entry.timestamp,
    )
    assert b"ann" not in row.leaf
    assert (row.idx, row.user_id, row.label_id, row.delta_minor) == (0, ann.id, 1, 5)
    assert row.leaf_hash == hash_leaf(row.leaf)
    assert count(db, "ledger_nodes") == 1
    with db.transaction(readonly=True) as session:
        assert earnings.balances(session, ann.id, secret=cfg.keys.secret) == [
            earnings.Balance("EUR", 5, 0, 5)
        ]


def test_one_earning_per_label_even_when_resubmitted(db: Database, cfg: LedgerConfig) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 1)
    make_rate_card(db, project)
    _label_all(db, ann.actor, project, 1, cfg)
    _label_all(db, ann.actor, project, 1, cfg)  # same answer again: the same label
    assert count(db, "ledger_entries") == 1
    with db.transaction() as session:
        assert earnings.decide_label(session, Actor.system(), cfg, 1, "label.accepted") is None
    assert count(db, "ledger_entries") == 1


def test_a_paying_project_needs_ledger_keys_and_rolls_back(db: Database) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 1)
    make_rate_card(db, project)
    hold(db, ann, project, 1)
    before = snapshot(db)
    with pytest.raises(Conflict, match="LOUPE_KEY_DIR"), db.transaction() as session:
        submit_label(session, ann.actor, project, 1, "call")
    assert snapshot(db) == before


def test_rates_by_domain_tier_and_version(db: Database, cfg: LedgerConfig) -> None:
    ann, rev = make_user(db, "ann"), make_user(db, "rev")
    project = make_project(db, overlap=2, members={ann: "annotator", rev: "reviewer"})
    add_items(db, project, 2)
    with db.transaction() as session:
        session.execute(text("UPDATE items SET domain = 'medical' WHERE id = 2"))
    make_rate_card(db, project)
    _label_all(db, ann.actor, project, 2, cfg)
    card = {"currency": "EUR", "rates": [{"amount_minor": 9}]}
    make_rate_card(db, project, card)
    _label_all(db, rev.actor, project, 1, cfg)
    rows = [PaymentEntry.decode(row.leaf) for row in _entries(db)]
    assert [(e.amount_minor, e.rate_card_version) for e in rows] == [
        (5, f"p{project}.v1"),
        (12, f"p{project}.v1"),
        (9, f"p{project}.v2"),
    ]
    with db.transaction(readonly=True) as session:
        cards = earnings.list_rate_cards(session, Actor.system(), project)
        assert [c.version for c in cards] == [2, 1]
        assert cards[1].card["rates"][0]["amount_minor"] == 5  # never edited


def test_price_picks_the_most_specific_rate() -> None:
    card = {
        "rates": [
            {"amount_minor": 1},
            {"tier": "reviewer", "amount_minor": 2},
            {"domain": "med", "tier": "reviewer", "amount_minor": 3},
        ],
        "quality_multipliers_bp": {"gold.passed": 15000},
    }
    assert earnings.price(card, task_type="t", domain="x", tier="annotator") == 1
    assert earnings.price(card, task_type="t", domain="x", tier="reviewer") == 2
    assert earnings.price(card, task_type="t", domain="med", tier="reviewer") == 3
    assert earnings.price(card, task_type="t", domain="med", tier="r", rule="gold.passed") == 1


def test_rate_cards_are_validated_and_need_a_manager(db: Database) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    before = snapshot(db)
    with db.transaction() as session, pytest.raises(InvalidInput) as bad:
        earnings.create_rate_card(session, Actor.system(), project, {"currency": "eur"})
    assert bad.value.details["field"] == "currency"
    with db.transaction() as session, pytest.raises(PermissionDenied):
        earnings.create_rate_card(session, ann.actor, project, {"currency": "EUR"})
    assert snapshot(db) == before


def test_failed_gold_and_corrections_append_never_edit(db: Database, cfg: LedgerConfig) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 2)
    make_rate_card(db, project)
    _label_all(db, ann.actor, project, 2, cfg)
    system = Actor.system()
    with db.transaction() as session:
        index = earnings.decide_label(session, system, cfg, 1, "gold.failed")
        assert earnings.decide_label(session, system, cfg, 1, "label.rejected") is None
        bonus = earnings.grant_bonus(session, system, cfg, project, user_id=ann.id, bonus="expert")
        fix = earnings.correct_entry(session, system, cfg, 1, amount_minor=-2, reason="overpaid")
    rows = _entries(db)
    first = rows[0].leaf
    assert (index, bonus, fix) == (2, 3, 4)
    decoded = [PaymentEntry.decode(row.leaf) for row in rows]
    assert [(e.kind, e.amount_minor, e.rule, e.corrects) for e in decoded] == [
        ("earning", 5, "label.accepted", None),
        ("earning", 5, "label.accepted", None),
        ("correction", -5, "gold.failed", 0),
        ("bonus", 20, "bonus.expert", None),
        ("correction", -2, "correction.overpaid", 1),
    ]
    assert rows[0].leaf == first
    with db.transaction(readonly=True) as session:
        assert earnings.balances(session, ann.id, secret=cfg.keys.secret) == [
            earnings.Balance("EUR", 23, 0, 23)
        ]
    with db.transaction() as session, pytest.raises(InvalidInput):
        earnings.grant_bonus(session, system, cfg, project, user_id=ann.id, bonus="gold")


def test_payouts_debit_balances_and_export(db: Database, cfg: LedgerConfig) -> None:
    ann, bob = make_user(db, "ann"), make_user(db, "bob")
    project = make_project(db, overlap=2, members={ann: "annotator", bob: "annotator"})
    add_items(db, project, 3)
    make_rate_card(db, project)
    _label_all(db, ann.actor, project, 3, cfg)
    _label_all(db, bob.actor, project, 1, cfg)
    with db.transaction() as session:
        payout = earnings.create_payout(
            session, Actor.system(), cfg, currency="EUR", minimum_minor=10
        )
        batch = payout_files.payout_batch(
            session, Actor.system(), payout.id, secret=cfg.keys.secret
        )
    assert (payout.total_minor, payout.n_entries) == (15, 1)
    assert batch.lines == [
        payout_files.PayoutLine(
            entry_index=4,
            user_id=ann.id,
            username="ann",
            display_name="ann",
            contributor=contributor_pseudonym(str(ann.id), secret=cfg.keys.secret),
            amount_minor=15,
            currency="EUR",
        )
    ]
    assert batch.tree_size == 5  # the payout is sealed by a checkpoint over it
    with db.transaction(readonly=True) as session:
        assert earnings.balances(session, ann.id, secret=cfg.keys.secret) == [
            earnings.Balance("EUR", 15, 15, 0)
        ]
        assert earnings.balances(session, bob.id, secret=cfg.keys.secret) == [
            earnings.Balance("EUR", 5, 0, 5)
        ]
    before = snapshot(db)
    with db.transaction() as session, pytest.raises(Conflict):
        earnings.create_payout(session, Actor.system(), cfg, currency="EUR", minimum_minor=10)
    with db.transaction() as session, pytest.raises(PermissionDenied):
        earnings.create_payout(session, ann.actor, cfg, currency="EUR")
    assert snapshot(db) == before


def test_checkpoints_every_n_entries_verify(db: Database, tmp_path: Path) -> None:
    keys = init_keys(tmp_path / "keys", origin=ORIGIN)
    cfg = LedgerConfig(keys=keys, checkpoint_every=2)
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 5)
    make_rate_card(db, project)
    _label_all(db, ann.actor, project, 5, cfg)
    with db.transaction(readonly=True) as session:
        checkpoints = list_checkpoints(session)
        log = MerkleLog(SqlTreeStore(session))
        assert [c.size for c in checkpoints] == [2, 4]
        for record in checkpoints:
            signed = verify_checkpoint(record.note, keys.verifier_keys, origin=ORIGIN)
            assert signed.root_hash == log.root(record.size)


def test_rotated_keys_keep_old_checkpoints_verifiable(db: Database, tmp_path: Path) -> None:
    keys = init_keys(tmp_path / "keys", origin=ORIGIN)
    with db.transaction() as session:
        publish_checkpoint(session, keys)
    new = rotate_signer(tmp_path / "keys")
    assert new.verifier_keys[0] == keys.signer.verifier_key
    assert new.signer.verifier_key != keys.signer.verifier_key
    assert load_keys(tmp_path / "keys").secret == keys.secret
    with db.transaction() as session:
        publish_checkpoint(session, new)
    assert _audit(db, LedgerConfig(keys=new)).checkpoints == 2
    assert oct((tmp_path / "keys" / "ledger-signer").stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "keys" / "ledger-secret").stat().st_mode & 0o777) == "0o600"


@pytest.fixture
def paid(db: Database, cfg: LedgerConfig) -> Database:
    """Six earnings and a checkpoint over them."""
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 6)
    make_rate_card(db, project)
    _label_all(db, ann.actor, project, 6, cfg)
    with db.transaction() as session:
        publish_checkpoint(session, cfg.keys)
    report = _audit(db, cfg)
    assert (report.entries, report.nodes, report.checkpoints) == (6, 10, 1)
    return db


def _sql(db: Database, sql: str, **params: object) -> None:
    with db.transaction() as session:
        session.execute(text(sql), params)


def test_verify_reports_an_edited_entry(paid: Database, cfg: LedgerConfig) -> None:
    leaf = _entries(paid)[3].leaf.replace(b'"amount_minor":5', b'"amount_minor":9')
    _sql(paid, "UPDATE ledger_entries SET leaf = :leaf WHERE idx = 3", leaf=leaf)
    problems = _problems(paid, cfg)
    assert problems[0] == "entry 3: column delta_minor disagrees with its leaf"
    assert "entry 3: its stored leaf hash does not match its bytes" in problems
    assert "node (0, 3) differs from the hash recomputed from entries" in problems


def test_verify_reports_a_rehashed_entry_by_its_node(paid: Database, cfg: LedgerConfig) -> None:
    leaf = _entries(paid)[3].leaf.replace(b'"amount_minor":5', b'"amount_minor":9')
    _sql(
        paid,
        "UPDATE ledger_entries SET leaf = :leaf, leaf_hash = :hash WHERE idx = 3",
        leaf=leaf,
        hash=hash_leaf(leaf),
    )
    problems = _problems(paid, cfg)
    assert problems[0] == "entry 3: column delta_minor disagrees with its leaf"
    assert problems[1] == "node (0, 3) differs from the hash recomputed from entries"
    assert any(p.startswith("checkpoint 1 (size 6): the signed root differs") for p in problems)


def test_verify_reports_a_deleted_entry(paid: Database, cfg: LedgerConfig) -> None:
    _sql(paid, "DELETE FROM ledger_entries WHERE idx = 2")
    problems = _problems(paid, cfg)
    assert problems[0] == "entries 2..2 are missing (deleted?)"
    assert "ledger_state says 6 entries but 5 are stored" in problems


def test_verify_reports_reordered_entries(paid: Database, cfg: LedgerConfig) -> None:
    rows = _entries(paid)
    for index, source in ((1, rows[4]), (4, rows[1])):
        _sql(
            paid,
            "UPDATE ledger_entries SET leaf = :leaf, leaf_hash = :hash WHERE idx = :idx",
            leaf=source.leaf,
            hash=source.leaf_hash,
            idx=index,
        )
    problems = _problems(paid, cfg)
    # Each leaf now sits beside another label's columns (and, when the two entries were
    # filed in different seconds, beside another time: not asserted, it depends on timing).
    assert [p for p in problems if "label_id" in p] == [
        "entry 1: column label_id disagrees with its leaf",
        "entry 4: column label_id disagrees with its leaf",
    ]
    assert [p for p in problems if p.startswith("node")][:2] == [
        "node (0, 1) differs from the hash recomputed from entries",
        "node (0, 4) differs from the hash recomputed from entries",
    ]


def test_verify_reports_edited_and_deleted_nodes(paid: Database, cfg: LedgerConfig) -> None:
    _sql(paid, "UPDATE ledger_nodes SET hash = :h WHERE level = 1 AND idx = 2", h=b"\0" * 32)
    _sql(paid, "DELETE FROM ledger_nodes WHERE level = 2 AND idx = 0")
    assert _problems(paid, cfg) == [
        "node (1, 2) differs from the hash recomputed from entries",
        "nodes (2, 0..0) are missing from ledger_nodes",
    ]


def test_verify_reports_a_forged_checkpoint(paid: Database, cfg: LedgerConfig) -> None:
    _sql(paid, "UPDATE ledger_checkpoints SET note = replace(note, '\n6\n', '\n5\n')")
    (problem,) = _problems(paid, cfg)
    assert problem.startswith("checkpoint 1 (size 6): signature does not verify")


def test_any_change_to_an_entry_breaks_its_proof(paid: Database) -> None:
    with paid.transaction(readonly=True) as session:
        log = MerkleLog(SqlTreeStore(session))
        proofs = [log.prove_inclusion(i, 6) for i in range(6)]
    leaves = [row.leaf for row in _entries(paid)]

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.integers(0, 5), st.data())
    def check(index: int, data: st.DataObject) -> None:
        leaf = leaves[index]
        position = data.draw(st.integers(0, len(leaf) - 1))
        byte = data.draw(st.integers(0, 255).filter(lambda b: b != leaf[position]))
        changed = leaf[:position] + bytes([byte]) + leaf[position + 1 :]
        proof = proofs[index]
        assert is_included(hash_leaf(leaf), index, 6, proof.path, proof.root)
        assert not is_included(hash_leaf(changed), index, 6, proof.path, proof.root)

    check()


def test_concurrent_submits_keep_one_consistent_log(db: Database, cfg: LedgerConfig) -> None:
    people = [make_user(db, f"ann{i}") for i in range(4)]
    project = make_project(db, overlap=4, members=dict.fromkeys(people, "annotator"))
    add_items(db, project, 10)
    make_rate_card(db, project)
    errors: list[BaseException] = []

    def work(person: int) -> None:
        try:
            _label_all(db, people[person].actor, project, 10, cfg)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.transaction() as session:
        publish_checkpoint(session, cfg.keys)
    report = _audit(db, cfg)
    assert report.entries == 40
    assert [row.idx for row in _entries(db)] == list(range(40))


def test_the_sql_store_matches_the_in_memory_log(db: Database, cfg: LedgerConfig) -> None:
    secret = cfg.keys.secret
    leaves = [
        PaymentEntry(
            kind="bonus",
            contributor=contributor_pseudonym(str(i % 3), secret=secret),
            amount_minor=i + 1,
            currency="EUR",
            rule="bonus.review",
            rate_card_version="p1.v1",
            timestamp=1_700_000_000,
        )
        for i in range(300)
    ]
    for start in (0, 1, 2, 100):  # batches of uneven sizes
        end = {0: 1, 1: 2, 2: 100, 100: 300}[start]
        with db.transaction() as session:
            batch = [NewEntry(entry=e, user_id=None) for e in leaves[start:end]]
            assert append_entries(session, batch, keys=None, checkpoint_every=1000) == list(
                range(start, end)
            )
    memory = MerkleLog(InMemoryTreeStore())
    memory.append_many([e.encode() for e in leaves])
    keys = [(level, i) for level in range(9) for i in range(300 >> level)]
    assert len(keys) > 400  # more than one query's worth
    with db.transaction(readonly=True) as session:
        store = SqlTreeStore(session)
        assert store.get_nodes(keys) == memory.store.get_nodes(keys)
        for size in (1, 2, 3, 128, 255, 300):
            assert MerkleLog(store).root(size) == memory.root(size)
            assert MerkleLog(store).consistency_proof(1, size) == memory.consistency_proof(1, size)


LEDGER_ACTIONS: tuple[Action, ...] = (
    "ledger.read",
    "ledger.audit",
    "wallet.read",
    "payments.manage",
    "payouts.manage",
)


@pytest.mark.parametrize(
    ("role", "member", "expected"),
    [
        ("admin", None, set(LEDGER_ACTIONS)),
        ("auditor", None, {"ledger.read", "ledger.audit", "wallet.read"}),
        ("manager", None, {"ledger.read", "wallet.read"}),
        ("manager", "manager", {"ledger.read", "wallet.read", "payments.manage"}),
        ("annotator", "annotator", {"ledger.read", "wallet.read"}),
        ("reviewer", "reviewer", {"ledger.read", "wallet.read"}),
    ],
)
def test_ledger_policy(role: str, member: str | None, expected: set[str]) -> None:
    granted = {a for a in LEDGER_ACTIONS if allowed(role, a, member_role=member)}
    assert granted == expected
