"""The labelling lifecycle's invariant (loupe.services.labelling.lifecycle): whatever sequence of
submits, review verdicts, undos, flags and settlements an item goes through, its
stored counters, consensus, reputation evidence and ledger balances equal what a
recomputation from scratch over the labels (and reviews) gives."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import text
from tests.factories import SCHEMA, Person, add_items, hold, make_project, make_rate_card, make_user

from loupe.db.database import Database
from loupe.errors import LoupeError
from loupe.services.labelling.consensus import majority
from loupe.services.labelling.escalations import flag_item, resolve_escalation
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.reviews import submit_review
from loupe.services.labelling.undo import undo_label
from loupe.services.payments.ledger_keys import LedgerConfig, init_keys

OVERLAP = 2
ANSWERS = ("call", "music")
CONFIG: dict[str, Any] = {**SCHEMA, "review": {"rate": 1.0, "reviews_per_label": 1}}
CARD: dict[str, Any] = {
    "currency": "EUR",
    "rates": [{"amount_minor": 5}],
    "quality_multipliers_bp": {"escalation.resolved": 20000},
    "reputation_multipliers": False,
}
PAY = {"label.accepted": 5, "escalation.resolved": 10}
_names = itertools.count()

user_ = st.integers(0, 2)
item_ = st.integers(0, 1)
answer_ = st.sampled_from(("call", "call", "music"))
SUBMIT = st.tuples(st.just("submit"), user_, item_, answer_)
STEP = st.one_of(
    SUBMIT,
    SUBMIT,
    SUBMIT,
    st.tuples(st.just("review"), st.integers(0, 5), st.sampled_from(["reject", "correct"])),
    st.tuples(st.just("review"), st.integers(0, 5), st.just("accept")),
    st.tuples(st.just("undo"), st.integers(0, 5)),
    st.tuples(st.just("undo"), st.integers(0, 5)),
    st.tuples(st.just("flag"), user_, item_),
    st.tuples(st.just("settle"), item_, answer_),
)


@dataclass
class World:
    """The project under test and what history (not the labels table) decides."""

    db: Database
    ledger: LedgerConfig
    project: int
    crowd: list[Person]
    reviewer: Person
    manager: Person
    items: list[int]
    # (label id, labeller) -> amount earned; SQLite reuses a deleted label's id, and
    # undo, rejection and settling each change an item's labels by one step at most.
    earned: dict[tuple[int, int], int] = field(default_factory=dict)
    flagged: set[int] = field(default_factory=set)
    settled: dict[int, tuple[Any, list[tuple[int, Any]]]] = field(default_factory=dict)
    consensus_evidence: Counter[int] = field(default_factory=Counter)


@pytest.fixture
def cfg(tmp_path: Path) -> LedgerConfig:
    return LedgerConfig(keys=init_keys(tmp_path / "keys", origin="test.loupe/lifecycle"))


def _world(db: Database, ledger: LedgerConfig) -> World:
    n = next(_names)
    crowd = [make_user(db, f"lc{n}a{i}") for i in range(3)]
    reviewer, manager = make_user(db, f"lc{n}rev"), make_user(db, f"lc{n}mgr")
    members = {**dict.fromkeys(crowd, "annotator"), reviewer: "reviewer", manager: "manager"}
    project = make_project(
        db, name=f"lifecycle{n}", overlap=OVERLAP, members=members, config=CONFIG
    )
    add_items(db, project, 2)
    make_rate_card(db, project, CARD)
    items = [
        int(row[0]) for row in _rows(db, "SELECT id FROM items WHERE project_id = :p", p=project)
    ]
    return World(db, ledger, project, crowd, reviewer, manager, sorted(items))


def _rows(db: Database, sql: str, **params: Any) -> list[Any]:
    with db.engine.connect() as connection:
        return list(connection.execute(text(sql), params).all())


def _labels(world: World, item_id: int) -> list[tuple[int, int, Any]]:
    rows = _rows(
        world.db,
        "SELECT id, user_id, CAST(answer AS TEXT) FROM labels WHERE item_id = :i ORDER BY id",
        i=item_id,
    )
    return [(int(r[0]), int(r[1]), json.loads(r[2])) for r in rows]


def _apply(world: World, step: tuple[Any, ...]) -> None:
    """Run one step through the services; a refused step (a LoupeError) changes nothing."""
    kind = step[0]
    db = world.db
    acted = False
    try:
        if kind == "submit":
            acted = _submit(world, world.crowd[step[1]], world.items[step[2]], step[3])
        elif kind == "review":
            acted = _review(world, step[1], step[2])
        elif kind == "undo":
            acted = _undo(world, step[1])
        elif kind == "flag":
            person, item_id = world.crowd[step[1]], world.items[step[2]]
            if item_id in world.flagged:
                return
            acted = True
            hold(db, person, world.project, item_id)
            with db.transaction() as session:
                flag_item(session, person.actor, world.project, item_id, reason="unsure")
            world.flagged.add(item_id)
        else:
            acted = _settle(world, world.items[step[1]], step[2])
    except LoupeError as error:
        event(f"{kind} refused: {type(error).__name__}")
    else:
        event(f"{kind} {'ran' if acted else 'had nothing to do'}")


def _submit(world: World, person: Person, item_id: int, answer: str) -> bool:
    if item_id in world.flagged:  # the ladder has it: out of the crowd's reach
        return False
    hold(world.db, person, world.project, item_id)
    with world.db.transaction() as session:
        done = submit_label(
            session, person.actor, world.project, item_id, answer, ledger=world.ledger
        )
    if not done.created:
        return False
    world.earned[done.label.id, person.id] = PAY["label.accepted"]
    labels = _labels(world, item_id)
    vote = majority([given for _, _, given in labels])
    if len(labels) >= OVERLAP and len(labels) > 1 and vote.confidence >= 0.8:
        world.consensus_evidence.update(user for _, user, _ in labels)
    return True


def _undo(world: World, pick: int) -> bool:
    """The labeller of one of the crowd's labels takes it back."""
    crowd = {person.id: person for person in world.crowd}
    mine = [
        (item_id, crowd[user])
        for item_id in world.items
        if item_id not in world.flagged
        for _, user, _ in _labels(world, item_id)
        if user in crowd
    ]
    if not mine:
        return False
    item_id, person = mine[pick % len(mine)]
    with world.db.transaction() as session:
        undo_label(
            session, person.actor, world.project, item_id, grace_seconds=3600,
            lease_seconds=60, ledger=world.ledger,
        )  # fmt: skip
    return True


def _review(world: World, pick: int, verdict: str) -> bool:
    pending = _rows(
        world.db,
        "SELECT label_id, item_id FROM review_queue WHERE project_id = :p AND status = 'pending' "
        "ORDER BY label_id",
        p=world.project,
    )
    pending = [row for row in pending if int(row[1]) not in world.flagged]
    if not pending:
        return False
    label_id, item_id = (int(v) for v in pending[pick % len(pending)])
    given = next((a for lid, _, a in _labels(world, item_id) if lid == label_id), None)
    corrected = next(a for a in ANSWERS if a != given) if verdict == "correct" else None
    with world.db.transaction() as session:
        submit_review(
            session, world.reviewer.actor, world.project, label_id, verdict=verdict,
            reason="" if verdict == "accept" else "wrong", corrected_answer=corrected,
            ledger=world.ledger,
        )  # fmt: skip
    return True


def _settle(world: World, item_id: int, answer: str) -> bool:
    if item_id not in world.flagged or item_id in world.settled:
        return False
    crowd = [(user, given) for _, user, given in _labels(world, item_id)]
    with world.db.transaction() as session:
        resolve_escalation(
            session, world.manager.actor, world.project, item_id, answer=answer,
            ledger=world.ledger,
        )  # fmt: skip
    world.settled[item_id] = (answer, crowd)
    mine = [lid for lid, user, _ in _labels(world, item_id) if user == world.manager.id]
    world.earned[mine[0], world.manager.id] = PAY["escalation.resolved"]
    return True


def _check(world: World) -> None:
    for item_id in world.items:
        _check_item(world, item_id)
    _check_ledger(world)
    _check_evidence(world)


def _check_item(world: World, item_id: int) -> None:
    labels = _labels(world, item_id)
    ((count, complete),) = _rows(
        world.db, "SELECT label_count, is_complete FROM items WHERE id = :i", i=item_id
    )
    assert count == len(labels)
    expected_complete = item_id in world.flagged or len(labels) >= OVERLAP
    assert bool(complete) is expected_complete
    stored = _rows(
        world.db,
        "SELECT CAST(answer AS TEXT), support, n_labels, method FROM consensus WHERE item_id = :i",
        i=item_id,
    )
    if item_id in world.settled:
        answer, crowd = world.settled[item_id]
        agreeing = sum(1 for _, given in crowd if given == answer)
        assert [(json.loads(s[0]), s[1], s[2], s[3]) for s in stored] == [
            (answer, agreeing + 1, len(crowd) + 1, "adjudicator")
        ]
    elif labels:
        vote = majority([given for _, _, given in labels])
        assert [(json.loads(s[0]), s[1], s[2], s[3]) for s in stored] == [
            (vote.answer, vote.support, vote.n_labels, "mv")
        ]
    else:
        assert stored == []


def _check_ledger(world: World) -> None:
    present = {(lid, user) for item_id in world.items for lid, user, _ in _labels(world, item_id)}
    # A withdrawn label's earning was reversed: forget it before its id comes back.
    world.earned = {key: amount for key, amount in world.earned.items() if key in present}
    expected: Counter[int] = Counter()
    for (_, user), amount in world.earned.items():
        expected[user] += amount
    balances = _rows(
        world.db,
        "SELECT user_id, SUM(delta_minor) FROM ledger_entries WHERE project_id = :p "
        "GROUP BY user_id",
        p=world.project,
    )
    assert {int(u): int(b) for u, b in balances if int(b) != 0} == dict(+expected)


def _check_evidence(world: World) -> None:
    events = _rows(
        world.db,
        "SELECT user_id, kind, ref, success FROM reputation_events WHERE project_id = :p",
        p=world.project,
    )
    reviews = _rows(
        world.db,
        "SELECT labeller_id, count(*) FROM reviews WHERE project_id = :p GROUP BY labeller_id",
        p=world.project,
    )
    received = Counter(int(u) for u, kind, _, _ in events if kind == "review_received")
    assert received == Counter({int(u): int(n) for u, n in reviews})
    by_consensus = Counter(int(u) for u, kind, ref, _ in events if ref.startswith("consensus:"))
    assert by_consensus == world.consensus_evidence
    for item_id, (answer, crowd) in world.settled.items():
        got = sorted(
            (int(u), float(s)) for u, _, ref, s in events if ref == f"escalation:item:{item_id}"
        )
        assert got == sorted((user, 1.0 if given == answer else 0.0) for user, given in crowd)
    assert all(
        ref.split(":")[0] in ("consensus", "review", "escalation") for _, _, ref, _ in events
    )


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(STEP, min_size=3, max_size=16))
# Each transition once for sure: a correction replacing a label on a complete item,
# the ladder settling against the crowd, an undo then a second try, a rejection.
@example(steps=[("submit", 0, 0, "call"), ("submit", 1, 0, "call"), ("review", 0, "correct")])
@example(
    steps=[
        ("submit", 0, 0, "call"),
        ("submit", 1, 0, "call"),
        ("flag", 2, 0),
        ("settle", 0, "music"),
    ]
)
@example(
    steps=[
        ("submit", 0, 0, "call"),
        ("undo", 0),
        ("submit", 0, 0, "music"),
        ("submit", 1, 0, "music"),
    ]
)
@example(
    steps=[
        ("submit", 0, 1, "music"),
        ("review", 0, "reject"),
        ("submit", 1, 1, "call"),
        ("submit", 2, 1, "call"),
    ]
)
def test_counters_consensus_evidence_and_balances_follow_the_labels(
    db: Database, cfg: LedgerConfig, steps: list[tuple[Any, ...]]
) -> None:
    note(f"steps: {steps}")
    world = _world(db, cfg)
    for step in steps:
        _apply(world, step)
        _check(world)
