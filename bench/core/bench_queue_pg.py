"""Next-task latency on PostgreSQL with 100,000 items, before and after issue 18.

    .venv/bin/python bench/core/bench_queue_pg.py [--items 100000] [--clients 8 32]
        [--seconds 8] [--rounds 2] [--overlap 1] [--drain 2000]
        [--postgres postgresql://postgres@127.0.0.1/test]

The database (created and dropped by the script) has autovacuum off on the queue's
tables, as on the server of issue 18: after each phase's bulk insert there are no
statistics unless the phase runs ``ANALYZE`` (what ``import_records`` now does after
a large import). The items are written by one ``INSERT ... SELECT`` (the import path
itself is measured by bench_import_contention.py); the project routes by language
(``match_language``, every annotator speaks ``en``), one more filter the planner
must estimate. Whether a planner without statistics picks the old query's sort plan
depends on its estimates (issue 18 saw one; on PostgreSQL 15 with these rows it kept
to an index, as the plan lines show); the window walk bounds any plan.

Phases, each on a fresh copy of the items, for each ``--clients`` count:

* **before**: the claim code before issue 18 (kept below: one candidate query over
  the whole queue, up to 16 tries, every passed-over row kept locked; no
  ``ix_items_open``), without and with ``ANALYZE``;
* **after**: ``loupe.services.labelling.tasks`` as it is (window walk, savepoints, waiting
  second pass), without and with ``ANALYZE``.

Each client is a thread looping next task + submit through the services, as the
HTTP handlers call them, for ``--seconds``; each case runs ``--rounds`` times, the
order of the cases alternating between rounds, and the figures pool the rounds. Printed: next-task and submit p50/p99,
loops done, and "empty": answers of "nothing left" (there are always items left, so
every one is false). The EXPLAIN of each candidate query is summarised first.

Then the **drain**: ``--drain`` items (analysed), the largest ``--clients`` count
working until each is told "nothing left". Printed per code: labels written against
the expected items x overlap, latencies, "false empty" (clients told nothing was left
while an item was still open to them, re-counted after the answer) and refused
submits (a leased item refused: over-assignment).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.db.models import Project, utcnow
from loupe.db.raw import Raw
from loupe.services.access import Actor
from loupe.services.labelling import tasks
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.leases import Lessee
from loupe.services.labelling.tasks import next_task
from loupe.services.people import users
from loupe.services.people.eligibility import SqlFilter, item_filter, load_profile
from loupe.services.projects import definition
from loupe.services.projects.definition import project_schema

CONFIG = {
    "task": {"type": "single_choice", "labels": [{"key": "a"}, {"key": "b"}]},
    "routing": {"match_language": True},
}
QUEUE_TABLES = ("items", "assignments", "labels", "skips")
TEMPLATE, PHASE = "loupe_bench_queue_template", "loupe_bench_queue"

# The claim before issue 18, verbatim but for its signature.
OLD_CANDIDATE = (
    "SELECT i.id FROM items i "
    "WHERE i.project_id = :project AND i.is_complete = :false AND i.withheld = :false "
    "AND i.is_gold = :false AND i.id > :after "
    "AND i.label_count + (SELECT count(*) FROM assignments a WHERE a.item_id = i.id "
    "    AND a.expires_at > :now AND a.user_id <> :user) < :overlap "
    "AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = i.id AND l.user_id = :user) "
    "AND NOT EXISTS (SELECT 1 FROM skips s WHERE s.item_id = i.id AND s.user_id = :user)"
)
OLD_TRIES = 16
OLD_LEASES = (
    "SELECT count(*) FROM assignments "
    "WHERE item_id = :item AND expires_at > :now AND user_id <> :user"
)


def old_claim(raw: Raw, lessee: Lessee, passes: list[SqlFilter]) -> int | None:
    """``next_task``'s passes (see ``tasks._claim``), each claimed the old way."""
    for condition in passes:
        item_id = old_claim_pass(raw, lessee, condition)
        if item_id is not None:
            return item_id
    return None


def old_claim_pass(raw: Raw, lessee: Lessee, condition: SqlFilter) -> int | None:
    query = OLD_CANDIDATE + condition.sql + " ORDER BY i.id LIMIT 1 FOR UPDATE OF i SKIP LOCKED"
    overlap = condition.params["overlap"]
    at, user = lessee.now, lessee.user
    after = 0
    for _ in range(OLD_TRIES):
        params = {
            "project": lessee.project,
            "false": False,
            "after": after,
            "now": at,
            "user": user,
        }
        row = raw.one(query, **params, **condition.params)
        if row is None:
            return None
        item_id = int(row[0])
        count = raw.one("SELECT label_count FROM items WHERE id = :item", item=item_id)
        leases = raw.one(OLD_LEASES, item=item_id, now=at, user=user)
        if (count[0] if count else 0) + (leases[0] if leases else 0) >= overlap:
            after = item_id  # ... and the row stays locked until the transaction ends
            continue
        raw.run(
            "DELETE FROM assignments WHERE item_id = :item AND user_id = :user",
            item=item_id,
            user=user,
        )
        raw.run(
            "INSERT INTO assignments (project_id, item_id, user_id, expires_at, created_at) "
            "VALUES (:project, :item, :user, :expires, :now)",
            project=lessee.project,
            item=item_id,
            user=user,
            expires=lessee.expires,
            now=at,
        )
        return item_id
    return None


@contextmanager
def claim_code(old: bool) -> Iterator[None]:
    saved = tasks._claim
    if old:
        tasks._claim = old_claim
    try:
        yield
    finally:
        tasks._claim = saved


@dataclass
class Client:
    asks: list[float] = field(default_factory=list)
    submits: list[float] = field(default_factory=list)
    empty: int = 0
    errors: list[str] = field(default_factory=list)


def work(db: Database, actor: Actor, project: int, stop: threading.Event, out: Client) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        try:
            with db.transaction() as session:
                found = next_task(session, actor, project, lease_seconds=600)
        except Exception as exc:  # reported, not raised: a phase goes on
            out.errors.append(type(exc).__name__)
            continue
        asked = time.perf_counter()
        out.asks.append(asked - started)
        if found is None:
            out.empty += 1
            continue
        try:
            with db.transaction() as session:
                submit_label(session, actor, project, found.item_id, "a")
        except Exception as exc:
            out.errors.append(type(exc).__name__)
        out.submits.append(time.perf_counter() - asked)


def fill(db: Database, project: int, n: int, *, analyse: bool, old: bool) -> None:
    """The bulk import into a freshly migrated database (its tables look empty to the
    planner until analysed); before issue 18 there was no ``ix_items_open``."""
    with db.engine.begin() as connection:
        if old:
            connection.execute(text("DROP INDEX ix_items_open"))
        connection.execute(
            text(
                "INSERT INTO items (project_id, external_id, data, metadata, language, domain, "
                "sensitivity, withheld, min_level, label_count, is_complete, is_gold, "
                "created_at) SELECT :p, 'x' || g, jsonb_build_object('text', 'item ' || g), "
                "'{}', 'en', 'general', 'internal', false, 0, 0, false, false, now() "
                "FROM generate_series(1, :n) g"
            ),
            {"p": project, "n": n},
        )
    if analyse:
        with db.engine.begin() as connection:
            for table in QUEUE_TABLES:
                connection.execute(text(f"ANALYZE {table}"))


def quantiles(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def phase(
    db: Database, actors: list[Actor], project: int, seconds: float
) -> tuple[list[Client], float]:
    clients = [Client() for _ in actors]
    stop = threading.Event()
    threads = [
        threading.Thread(target=work, args=(db, actor, project, stop, client))
        for actor, client in zip(actors, clients, strict=True)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return clients, time.perf_counter() - started


# What a client could still be given (leases never expire in a drain, nobody skips).
ELIGIBLE = (
    "SELECT count(*) FROM items i WHERE i.project_id = :p AND NOT i.is_complete "
    "AND i.label_count + (SELECT count(*) FROM assignments a WHERE a.item_id = i.id "
    "  AND a.user_id <> :u) < :k "
    "AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = i.id AND l.user_id = :u)"
)


def drain_work(db: Database, actor: Actor, project: int, overlap: int, out: Client) -> None:
    """Next task + submit until told "nothing left"; a false one is counted in
    ``out.empty`` (what was still eligible is re-counted after the answer: labels and
    others' leases only grow here, so it was eligible when the answer was given)."""
    while True:
        started = time.perf_counter()
        with db.transaction() as session:
            found = next_task(session, actor, project, lease_seconds=3600)
        asked = time.perf_counter()
        out.asks.append(asked - started)
        if found is None:
            with db.engine.connect() as connection:
                left = connection.execute(
                    text(ELIGIBLE), {"p": project, "u": actor.user_id, "k": overlap}
                ).scalar_one()
            out.empty += int(left > 0)
            return
        try:
            with db.transaction() as session:
                submit_label(session, actor, project, found.item_id, "a")
        except Exception as exc:  # a refused submit of a leased item: over-assignment
            out.errors.append(type(exc).__name__)
        out.submits.append(time.perf_counter() - asked)


def drain(db: Database, actors: list[Actor], project: int, overlap: int) -> list[Client]:
    clients = [Client() for _ in actors]
    threads = [
        threading.Thread(target=drain_work, args=(db, actor, project, overlap, client))
        for actor, client in zip(actors, clients, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return clients


def plan_summary(db: Database, project: int, user: int, *, old: bool) -> str:
    """The scan and sort nodes of the candidate query's plan, as next task runs it."""
    with db.transaction(readonly=True) as session:
        raw = Raw(session)
        schema = project_schema(load_project(session, project))
        profile = load_profile(raw, user, now=utcnow(), project_id=project)
    routing = item_filter(schema.routing, profile)
    params: dict[str, Any] = {
        "project": project,
        "false": False,
        "after": 0,
        "window": tasks.WINDOW,
        "now": utcnow().replace(tzinfo=None),
        "user": user,
        "overlap": 1,
        **routing.params,
    }
    routing_sql = routing.sql
    if old:
        sql = OLD_CANDIDATE + routing_sql + " ORDER BY i.id LIMIT 1 FOR UPDATE OF i SKIP LOCKED"
    else:
        sql = tasks._QUEUE.query(routing_sql, resumed=True, skip_locked=True)
    with db.engine.connect() as connection:
        lines = [str(r[0]) for r in connection.execute(text("EXPLAIN " + sql), params)]
        if not old:
            start = connection.execute(
                text("EXPLAIN " + tasks._FIRST_OPEN), {"project": project, "after": 0}
            )
            lines += [str(r[0]) for r in start]
    nodes = [line.strip().removeprefix("->  ") for line in lines]
    keep = [n.split("  (")[0] for n in nodes if " on items i" in n or n.startswith("Sort")]
    return "; ".join(keep)


def load_project(session: Session, project: int) -> Project:
    found = session.get(Project, project)
    assert found is not None
    return found


def template(url: str, args: argparse.Namespace) -> None:
    """A migrated database with the annotators and the project, and no items."""
    db = Database(url)
    db.migrate()
    with db.engine.begin() as connection:
        for table in QUEUE_TABLES:
            connection.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
    system = Actor.system()
    with db.transaction() as session:
        project = definition.create_project(
            session, system, name="queue", config=CONFIG, overlap=args.overlap
        ).id
        for n in range(max(args.clients)):
            user = users.create_user(session, system, username=f"a{n}", role="annotator")
            definition.add_member(session, system, project, user_id=user.id, role="annotator")
            session.flush()
            session.execute(
                text("INSERT INTO contributor_languages (user_id, language) VALUES (:u, 'en')"),
                {"u": user.id},
            )
    db.dispose()


def actors_of(db: Database) -> tuple[int, list[Actor]]:
    with db.engine.connect() as connection:
        project = int(connection.execute(text("SELECT id FROM projects")).scalar_one())
        rows = connection.execute(text("SELECT id, username FROM users ORDER BY id")).all()
    return project, [Actor(int(row[0]), str(row[1]), "annotator") for row in rows]


def run(admin: Engine, base: URL, args: argparse.Namespace) -> None:
    template(base.set(database=TEMPLATE).render_as_string(hide_password=False), args)
    url = base.set(database=PHASE).render_as_string(hide_password=False)

    @contextmanager
    def fresh(
        *, old: bool, analyse: bool, pool: int
    ) -> Iterator[tuple[Database, int, list[Actor]]]:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {PHASE} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {PHASE} TEMPLATE {TEMPLATE}"))
        db = Database(url, pool_size=pool)
        try:
            project, actors = actors_of(db)
            fill(db, project, args.items, analyse=analyse, old=old)
            yield db, project, actors
        finally:
            db.dispose()

    print(
        f"PostgreSQL, {args.items:,} items, overlap {args.overlap}, "
        f"{args.rounds} x {args.seconds:.0f} s per case"
    )
    cases = [(old, analyse) for old in (True, False) for analyse in (False, True)]
    for old, analyse in cases:
        with fresh(old=old, analyse=analyse, pool=4) as (db, project, actors):
            summary = plan_summary(db, project, actors[0].user_id or 0, old=old)
        print(f"  plan {label(old, analyse):<20} {summary}")
    if args.drain:
        print_drains(admin, base, args)
    print(
        f"  {'code, statistics':<22} {'clients':>7} {'loops':>6} {'next p50':>9} "
        f"{'next p99':>9} {'submit p50':>10} {'submit p99':>10} {'empty':>6} {'errors':>6}"
    )
    for count in args.clients:
        done: dict[tuple[bool, bool], list[Client]] = {case: [] for case in cases}
        for round_ in range(args.rounds):
            # Alternate the order, so that a change in the machine's load over the run
            # does not fall on one side only.
            for old, analyse in cases if round_ % 2 == 0 else cases[::-1]:
                with (
                    fresh(old=old, analyse=analyse, pool=count + 4) as (db, project, actors),
                    claim_code(old),
                ):
                    phase(db, actors[:count], project, 1.0)  # warm-up
                    done[old, analyse] += phase(db, actors[:count], project, args.seconds)[0]
        for old, analyse in cases:
            clients = done[old, analyse]
            asks = [x for c in clients for x in c.asks]
            submits = [x for c in clients for x in c.submits]
            (a50, a99), (s50, s99) = quantiles(asks), quantiles(submits)
            print(
                f"  {label(old, analyse):<22} {count:>7} {len(submits):>6} {a50:>7.1f}ms "
                f"{a99:>7.1f}ms {s50:>8.1f}ms {s99:>8.1f}ms "
                f"{sum(c.empty for c in clients):>6} {sum(len(c.errors) for c in clients):>6}",
                flush=True,
            )


def print_drains(admin: Engine, base: URL, args: argparse.Namespace) -> None:
    """Every client works until told "nothing left", on ``--drain`` items."""
    url = base.set(database=PHASE).render_as_string(hide_password=False)
    count = max(args.clients)
    print(
        f"  drain: {args.drain:,} items, overlap {args.overlap}, {count} clients until empty "
        "(analysed); false empty: told nothing was left while an item was open to them"
    )
    for old in (True, False):
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {PHASE} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {PHASE} TEMPLATE {TEMPLATE}"))
        db = Database(url, pool_size=2 * count + 4)
        try:
            project, actors = actors_of(db)
            fill(db, project, args.drain, analyse=True, old=old)
            with claim_code(old):
                clients = drain(db, actors[:count], project, args.overlap)
            with db.engine.connect() as connection:
                labels = connection.execute(text("SELECT count(*) FROM labels")).scalar_one()
        finally:
            db.dispose()
        asks = [x for c in clients for x in c.asks]
        submits = [x for c in clients for x in c.submits]
        (a50, a99), (s50, s99) = quantiles(asks), quantiles(submits)
        print(
            f"  {'before' if old else 'after':<8} labels {labels:>6}/{args.drain * args.overlap}"
            f"  next p50 {a50:.1f}ms p99 {a99:.1f}ms  submit p50 {s50:.1f}ms p99 {s99:.1f}ms"
            f"  false empty {sum(c.empty for c in clients)}/{count}"
            f"  refused submits {sum(len(c.errors) for c in clients)}",
            flush=True,
        )


def label(old: bool, analyse: bool) -> str:
    return f"{'before' if old else 'after'}, {'ANALYZE' if analyse else 'no stats'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--overlap", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each case, alternated")
    parser.add_argument("--drain", type=int, default=2000, help="items to drain (0: skip)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    base = make_url(args.postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in (PHASE, TEMPLATE):
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {TEMPLATE}"))
    try:
        run(admin, base, args)
    finally:
        with admin.connect() as connection:
            for name in (PHASE, TEMPLATE):
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


if __name__ == "__main__":
    main()
