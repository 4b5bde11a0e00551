"""The task queue under concurrency (issue 18): no over-assignment, no false "nothing
left", no locks kept on passed-over items, plans that do not depend on statistics.

The PostgreSQL tests drive real concurrent transactions (threads, each with its own
connection); SQLite serialises writers, so there only the window walk is tested.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection
from tests.factories import (
    OPEN_HEALTH,
    SCHEMA,
    Person,
    add_items,
    add_rows,
    grant_level,
    make_project,
    make_user,
)

from loupe.db.database import Database
from loupe.formats import parse_item
from loupe.services.access import Actor
from loupe.services.labelling import escalations, reviews, tasks
from loupe.services.labelling.escalations import flag_item, next_expert_task
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.reviews import next_review
from loupe.services.labelling.tasks import next_task
from loupe.services.projects import imports
from loupe.services.projects.imports import import_records, refresh_statistics

LEASE = 600


@pytest.fixture
def pg(db: Database) -> Database:
    if not db.url.startswith("postgresql"):
        pytest.skip("SKIP LOCKED and row locks are PostgreSQL's; SQLite has one writer")
    return db


@pytest.fixture
def wide(pg: Database) -> Iterator[Database]:
    """A second handle with a connection per hammering thread (24 at most)."""
    database = Database(pg.url, pool_size=26)
    yield database
    database.dispose()


def _eligible_for(connection: Connection, project: int, user: int, overlap: int) -> list[int]:
    """Items ``user`` could still be given: what ``next_task`` must not deny exists."""
    rows = connection.execute(
        text(
            "SELECT i.id FROM items i WHERE i.project_id = :p AND NOT i.is_complete "
            "AND NOT i.withheld AND NOT i.is_gold "
            "AND i.label_count + (SELECT count(*) FROM assignments a WHERE a.item_id = i.id "
            "  AND a.user_id <> :u AND a.expires_at > now() AT TIME ZONE 'UTC') < :k "
            "AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = i.id AND l.user_id = :u) "
            "AND NOT EXISTS (SELECT 1 FROM skips s WHERE s.item_id = i.id AND s.user_id = :u)"
        ),
        {"p": project, "u": user, "k": overlap},
    )
    return [int(row[0]) for row in rows]


@pytest.mark.slow
@pytest.mark.parametrize(("clients", "overlap"), [(16, 1), (24, 3)])
def test_hammered_queue_never_over_assigns_and_never_says_empty_falsely(
    pg: Database, wide: Database, clients: int, overlap: int
) -> None:
    """``clients`` annotators ask and submit at once until told nothing is left.

    Leases never expire here and nobody skips, so an item's labels plus others' leases
    only grow: an item not eligible for someone when they were told "nothing left" is
    not eligible afterwards either, and the re-check below is exact.
    """
    people = [make_user(pg, f"h{i}") for i in range(clients)]
    project = make_project(pg, overlap=overlap, members=dict.fromkeys(people, "annotator"))
    n_items = 90
    add_items(pg, project, n_items)
    start = threading.Barrier(clients)
    errors: list[BaseException] = []
    refused: list[tuple[int, int]] = []
    false_empty: list[tuple[str, list[int]]] = []
    done = Counter[str]()

    def work(person: Person) -> None:
        try:
            start.wait()
            while True:
                with wide.transaction() as session:
                    task = next_task(session, person.actor, project, lease_seconds=LEASE)
                if task is None:
                    with wide.engine.connect() as connection:
                        left = _eligible_for(connection, project, person.id, overlap)
                    if left:
                        false_empty.append((person.username, left))
                    return
                try:
                    with wide.transaction() as session:
                        submit_label(session, person.actor, project, task.item_id, "call")
                    done[person.username] += 1
                except Exception:  # any refusal of a leased item is over-assignment
                    refused.append((person.id, task.item_id))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert false_empty == []
    assert refused == []
    with pg.engine.connect() as connection:
        per_item = Counter(
            int(row[0]) for row in connection.execute(text("SELECT item_id FROM labels"))
        )
        pairs = Counter(
            (int(row[0]), int(row[1]))
            for row in connection.execute(text("SELECT item_id, user_id FROM labels"))
        )
        stored = {
            int(row[0]): (int(row[1]), bool(row[2]))
            for row in connection.execute(text("SELECT id, label_count, is_complete FROM items"))
        }
        leases = connection.execute(text("SELECT count(*) FROM assignments")).scalar_one()
    assert sum(done.values()) == n_items * overlap
    assert set(per_item.values()) == {overlap}
    assert len(per_item) == n_items
    assert max(pairs.values()) == 1
    assert all(stored[item] == (overlap, True) for item in per_item)
    assert leases == 0


def _waiting_backends(connection: Connection) -> int:
    return int(
        connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
        ).scalar_one()
    )


def test_a_busy_item_is_waited_for_not_reported_gone(pg: Database) -> None:
    """Regression: the only open item is row-locked for a moment (a submit in flight);
    ``SKIP LOCKED`` passes over it, and the old claim then answered "nothing left"."""
    ann = make_user(pg, "ann")
    project = make_project(pg, overlap=2, members={ann: "annotator"})
    add_items(pg, project, 1)
    result: list[tasks.Task | None] = []
    with pg.engine.connect() as busy, pg.engine.connect() as watcher:
        watcher.execute(text("SELECT 1"))
        watcher.commit()
        busy.execute(text("SELECT id FROM items FOR UPDATE"))

        def ask() -> None:
            with pg.transaction() as session:
                result.append(next_task(session, ann.actor, project, lease_seconds=LEASE))

        asker = threading.Thread(target=ask)
        asker.start()
        # Until the asker waits on the lock (or, as the old code did, gives up at once).
        while asker.is_alive() and not _waiting_backends(watcher):
            watcher.rollback()
            time.sleep(0.01)
        busy.rollback()
        asker.join()
    assert len(result) == 1
    assert result[0] is not None


def test_a_full_item_passed_over_is_unlocked_at_once(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: the claim found item 1 full once it held its lock and went on to
    item 2; the old code kept item 1 locked until commit, and submits on it queued."""
    ann = make_user(pg, "ann")
    project = make_project(pg, overlap=1, members={ann: "annotator"})
    add_items(pg, project, 3)
    with pg.engine.connect() as connection:
        first, second = (
            int(row[0])
            for row in connection.execute(text("SELECT id FROM items ORDER BY id LIMIT 2"))
        )
    # As if a lease on the first item had committed just after the candidate query.
    still_open = tasks._QUEUE.still_open
    still_open = replace(
        still_open, sql=still_open.sql.replace("i.id = :item", f"i.id = :item AND i.id <> {first}")
    )
    monkeypatch.setattr(tasks, "_QUEUE", replace(tasks._QUEUE, still_open=still_open))
    with pg.transaction() as session:
        task = next_task(session, ann.actor, project, lease_seconds=LEASE)
        assert task is not None
        assert task.item_id == second
        with pg.engine.connect() as other:
            free = other.execute(
                text(f"SELECT id FROM items WHERE id IN ({first}, {second}) FOR UPDATE SKIP LOCKED")
            ).all()
            other.rollback()
    assert [int(row[0]) for row in free] == [first]


@pytest.mark.parametrize("overlap", [1, 2])
def test_the_walk_crosses_windows_of_other_projects_and_done_items(
    db: Database, monkeypatch: pytest.MonkeyPatch, overlap: int
) -> None:
    """Both backends: small windows, items of two projects interleaved, the first ones
    already labelled by the asker; the first item they may have is still found."""
    assert tasks._QUEUE.window is not None
    window = replace(tasks._QUEUE.window, size=3)
    monkeypatch.setattr(tasks, "_QUEUE", replace(tasks._QUEUE, window=window))
    ann, bob = make_user(db, "ann"), make_user(db, "bob")
    members = {ann: "annotator", bob: "annotator"}
    mine = make_project(db, name="mine", overlap=overlap, members=members)
    other = make_project(db, name="other", members=members)
    for n in range(12):
        add_items(db, mine, 1, start=n)
        add_items(db, other, 1, start=n)
    for _ in range(7):
        with db.transaction() as session:
            task = next_task(session, ann.actor, mine, lease_seconds=LEASE)
            assert task is not None
            submit_label(session, ann.actor, mine, task.item_id, "call")
    with db.transaction() as session:
        task = next_task(session, ann.actor, mine, lease_seconds=LEASE)
    with db.engine.connect() as connection:
        ids = [
            int(row[0])
            for row in connection.execute(
                text("SELECT id FROM items WHERE project_id = :p ORDER BY id"), {"p": mine}
            )
        ]
    assert task is not None
    assert task.item_id == ids[7]
    with db.transaction() as session:
        again = next_task(session, bob.actor, mine, lease_seconds=LEASE)
    assert again is not None
    assert again.item_id == (ids[0] if overlap == 2 else ids[8])


def _plan(connection: Connection, sql: str, params: dict[str, object]) -> str:
    rows = connection.execute(text("EXPLAIN " + sql), params)
    return "\n".join(str(row[0]) for row in rows)


def test_the_walk_is_index_driven_without_statistics(pg: Database) -> None:
    """The failure of issue 18: no statistics after a bulk import, and the planner
    sorting every open item. The window start is an ordered ``ix_items_open`` scan
    and the candidate query reads one window, with or without ANALYZE."""
    project = make_project(pg, overlap=1)
    add_items(pg, project, 3000)
    params = {
        "project": project,
        "after": 0,
        "window": tasks.WINDOW,
        "now": "2026-01-01",
        "user": 1,
        "overlap": 1,
    }
    candidate = tasks._QUEUE.query(" AND lower(i.language) = 'en'", resumed=True, skip_locked=False)
    assert tasks._QUEUE.window is not None
    first_open = tasks._QUEUE.window.first_open
    for analysed in (False, True):
        with pg.engine.begin() as connection:
            if analysed:
                connection.execute(text("ANALYZE items"))
            start_plan = _plan(connection, first_open.sql, {"project": project, "after": 0})
            walk_plan = _plan(connection, candidate.sql, params)
        assert "Index" in start_plan.splitlines()[1]  # an ordered scan under the LIMIT
        assert "Sort" not in start_plan
        # The window bounds whatever the plan reads (and sorts, if it ever sorted).
        assert "Index Cond" in walk_plan
        assert "id < " in walk_plan


def _records(n: int) -> list[object]:
    return [
        parse_item({"id": f"r{i}", "text": f"row {i}"}, where="test", text_field="text")
        for i in range(n)
    ]


def test_a_large_import_analyses_the_tables_and_a_small_one_does_not(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "ANALYZE_MIN_ROWS", 20)
    project = make_project(pg, overlap=1)

    def known_rows() -> float:
        with pg.engine.connect() as connection:
            return float(
                connection.execute(
                    text("SELECT reltuples FROM pg_class WHERE oid = 'items'::regclass")
                ).scalar_one()
            )

    assert known_rows() == -1  # the fixture's TRUNCATE: never analysed
    import_records(pg, Actor.system(), project, _records(30))  # type: ignore[arg-type]
    assert known_rows() == 30
    assert refresh_statistics(pg, created=10) is False  # under ANALYZE_MIN_ROWS
    monkeypatch.setattr(imports, "ANALYZE_FRACTION", 1.0)
    add_items(pg, project, 50)
    assert refresh_statistics(pg, created=25) is False  # under 100% of the 30 analysed
    assert known_rows() == 30
    assert refresh_statistics(pg, created=40) is True
    assert known_rows() == 80


REVIEWED: dict[str, Any] = {**SCHEMA, "review": {"rate": 1.0}}


def test_a_review_taken_since_the_query_began_is_not_handed_out_twice(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: ``next review`` leased the row its query returned without counting
    again under the lock, so a lease committed after the query's snapshot (simulated:
    the query's lease count is blinded) gave one needed review to two reviewers."""
    ann, rev1, rev2 = make_user(pg, "ann"), make_user(pg, "rev1"), make_user(pg, "rev2")
    project = make_project(
        pg, config=REVIEWED, members={ann: "annotator", rev1: "reviewer", rev2: "reviewer"}
    )
    add_items(pg, project, 1)
    with pg.transaction() as session:
        task = next_task(session, ann.actor, project, lease_seconds=LEASE)
        assert task is not None
        submit_label(session, ann.actor, project, task.item_id, "call")
    with pg.transaction() as session:
        assert next_review(session, rev1.actor, project, lease_seconds=LEASE) is not None
    candidates = reviews._QUEUE.candidates
    blinded = "rl.expires_at > :now AND 0 = 1"
    stale = replace(candidates, sql=candidates.sql.replace("rl.expires_at > :now", blinded))
    monkeypatch.setattr(reviews, "_QUEUE", replace(reviews._QUEUE, candidates=stale))
    with pg.transaction() as session:
        assert next_review(session, rev2.actor, project, lease_seconds=LEASE) is None
    with pg.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM review_leases")).scalar_one() == 1


def test_an_escalation_taken_since_the_query_began_is_not_handed_out_twice(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for ``next expert task`` (one expert per escalated item)."""
    crowd, doc1, doc2 = make_user(pg, "crowd"), make_user(pg, "doc1"), make_user(pg, "doc2")
    project = make_project(
        pg,
        overlap=2,
        members={crowd: "annotator", doc1: "annotator", doc2: "annotator"},
        config=OPEN_HEALTH,
    )
    add_rows(pg, project, [{"id": "m1", "text": "take two tablets?", "domain": "medical"}])
    grant_level(pg, doc1, "medical", 3)
    grant_level(pg, doc2, "medical", 3)
    with pg.transaction() as session:
        task = next_task(session, crowd.actor, project, lease_seconds=LEASE)
        assert task is not None
        submit_label(session, crowd.actor, project, task.item_id, "music")
        flag_item(session, crowd.actor, project, task.item_id, reason="medical advice")
    with pg.transaction() as session:
        assert next_expert_task(session, doc1.actor, project, lease_seconds=LEASE) is not None
    candidates = escalations._QUEUE.candidates
    stale = replace(candidates, sql=candidates.sql.replace("a.expires_at > :now", "0 = 1"))
    monkeypatch.setattr(escalations, "_QUEUE", replace(escalations._QUEUE, candidates=stale))
    with pg.transaction() as session:
        assert next_expert_task(session, doc2.actor, project, lease_seconds=LEASE) is None
    with pg.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM assignments")).scalar_one() == 1
