from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text
from tests.factories import add_items, count, make_project, make_user

from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.errors import Conflict, NotFound, PermissionDenied
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task, skip_task


def test_next_task_leases_and_returns_the_same_item_until_labelled(db: Database) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 3)
    with db.transaction() as session:
        first = next_task(session, ann.actor, project, lease_seconds=60)
    with db.transaction() as session:
        again = next_task(session, ann.actor, project, lease_seconds=60)
    assert first is not None
    assert again is not None
    assert again.item_id == first.item_id
    assert first.data == {"text": "utterance 0"}
    assert count(db, "assignments") == 1


def test_overlap_one_gives_each_item_to_one_annotator(db: Database) -> None:
    a, b = make_user(db, "a"), make_user(db, "b")
    project = make_project(db, members={a: "annotator", b: "annotator"})
    add_items(db, project, 2)
    with db.transaction() as session:
        ta = next_task(session, a.actor, project, lease_seconds=60)
    with db.transaction() as session:
        tb = next_task(session, b.actor, project, lease_seconds=60)
    assert ta
    assert tb
    assert ta.item_id != tb.item_id


def test_expired_lease_frees_the_item(db: Database) -> None:
    a, b = make_user(db, "a"), make_user(db, "b")
    project = make_project(db, members={a: "annotator", b: "annotator"})
    add_items(db, project, 1)
    now = utcnow()
    with db.transaction() as session:
        ta = next_task(session, a.actor, project, lease_seconds=30, now=now)
    with db.transaction() as session:
        assert next_task(session, b.actor, project, lease_seconds=30, now=now) is None
    later = now + timedelta(seconds=31)
    with db.transaction() as session:
        tb = next_task(session, b.actor, project, lease_seconds=30, now=later)
    assert ta
    assert tb
    assert tb.item_id == ta.item_id
    # a's lease ran out and b holds the item: a may not take the last slot.
    with db.transaction() as session, pytest.raises(Conflict):
        submit_label(session, a.actor, project, ta.item_id, "call", now=later)


def test_skip_is_never_offered_again(db: Database) -> None:
    a = make_user(db, "a")
    project = make_project(db, members={a: "annotator"})
    add_items(db, project, 2)
    with db.transaction() as session:
        first = next_task(session, a.actor, project, lease_seconds=60)
        assert first is not None
        skip_task(session, a.actor, project, first.item_id)
    with db.transaction() as session:
        second = next_task(session, a.actor, project, lease_seconds=60)
        assert second is not None
        assert second.item_id != first.item_id
        skip_task(session, a.actor, project, second.item_id)
    with db.transaction() as session:
        assert next_task(session, a.actor, project, lease_seconds=60) is None


def test_skip_unknown_item_is_not_found(db: Database) -> None:
    a = make_user(db, "a")
    project = make_project(db, members={a: "annotator"})
    with db.transaction() as session, pytest.raises(NotFound):
        skip_task(session, a.actor, project, 999)


def test_non_member_cannot_work(db: Database) -> None:
    outsider = make_user(db, "outsider")
    project = make_project(db)
    add_items(db, project, 1)
    with db.transaction() as session, pytest.raises(PermissionDenied):
        next_task(session, outsider.actor, project, lease_seconds=60)


@pytest.mark.slow
@pytest.mark.parametrize("overlap", [1, 2])
def test_concurrent_annotators_never_exceed_overlap(db: Database, overlap: int) -> None:
    """Many threads doing next-task + submit (some after their lease expired, which
    counts while the item has room; some going for an item without a lease: refused)."""
    if db.url.startswith("sqlite") and ":memory:" in db.url:
        pytest.skip("needs a file database")
    people = [make_user(db, f"p{i}") for i in range(8)]
    project = make_project(db, overlap=overlap, members=dict.fromkeys(people, "annotator"))
    n_items = 30
    add_items(db, project, n_items)
    errors: list[BaseException] = []

    def work(index: int) -> None:
        rng = random.Random(index)
        person = people[index]
        try:
            for _ in range(n_items):
                lease = 0 if rng.random() < 0.2 else 60  # 0: expired by the submit
                with db.transaction() as session:
                    task = next_task(session, person.actor, project, lease_seconds=lease)
                if task is None:
                    return
                target = task.item_id
                if rng.random() < 0.2:  # sometimes go for another item, without a lease
                    target = rng.randint(1, n_items)
                try:
                    with db.transaction() as session:
                        submit_label(session, person.actor, project, target, "call")
                except Conflict:
                    pass
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(people))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with db.engine.connect() as connection:
        per_item = Counter(row[0] for row in connection.execute(text("SELECT item_id FROM labels")))
        pairs = Counter(
            (row[0], row[1])
            for row in connection.execute(text("SELECT item_id, user_id FROM labels"))
        )
        stored = dict(connection.execute(text("SELECT id, label_count FROM items")).all())
    assert max(per_item.values()) <= overlap
    assert max(pairs.values()) == 1
    assert all(stored[item] == n for item, n in per_item.items())


def test_take_item_leases_a_chosen_item_to_a_manager_only(db: Database) -> None:
    """Staff label specific items (the demo's seed set) under a lease like anyone's;
    annotators may not choose, and gold, withheld or unroutable items are refused."""
    from tests.factories import Person, snapshot

    from loupe.services.access import Actor
    from loupe.services.labelling.tasks import take_item
    from loupe.services.quality.gold import set_gold

    boss, ann = make_user(db, "boss", "manager"), make_user(db, "ann")
    project = make_project(db, members={boss: "manager", ann: "annotator"})
    add_items(db, project, 5)
    with db.transaction() as session:
        set_gold(session, Actor.system(), project, [("u3", "call")])
        session.execute(text("UPDATE items SET withheld = :t WHERE id = 3"), {"t": True})
        session.execute(text("UPDATE items SET min_level = 3 WHERE id = 2"))
    before = snapshot(db)
    refusals: list[tuple[Person, int, type[Exception], str]] = [
        (ann, 1, PermissionDenied, "may not change this project"),
        (boss, 4, Conflict, "gold"),
        (boss, 3, Conflict, "withheld"),
        (boss, 2, PermissionDenied, "not routed to you"),
        (boss, 99, NotFound, "does not exist"),
    ]
    for who, item, error, match in refusals:
        with pytest.raises(error, match=match), db.transaction() as session:
            take_item(session, who.actor, project, item, lease_seconds=60)
    assert snapshot(db) == before
    with db.transaction() as session:
        task = take_item(session, boss.actor, project, 1, lease_seconds=60)
    assert (task.item_id, task.data) == (1, {"text": "utterance 0"})
    with db.transaction() as session:  # overlap 1, leased to the manager: not served
        served = next_task(session, ann.actor, project, lease_seconds=60)
    assert served is not None and served.item_id == 5
    with db.transaction() as session:
        assert submit_label(session, boss.actor, project, 1, "call").created
    with pytest.raises(Conflict, match="already labelled"), db.transaction() as session:
        take_item(session, boss.actor, project, 1, lease_seconds=60)
    with pytest.raises(Conflict, match="already has"), db.transaction() as session:
        take_item(session, boss.actor, project, 5, lease_seconds=60)  # ann holds it
