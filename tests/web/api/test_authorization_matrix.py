"""The authorisation matrix of issue #7: each role and clearance x each endpoint.

One project routes its items (``medical`` needs level 2, ``health`` data needs a
clearance, languages must match) and peer-reviews every label. Its items are one of
each kind, twice over: the crowd's (``gen`` ... ``hard``) and the same kinds already
flagged to the experts (``x-gen`` ... ``x-hard``). The people cover every global role,
the project roles that work, and the combinations of level, language and clearance
that decide something. For every (endpoint, person) the test runs the endpoint on
every item against a fresh copy of that world and compares the outcome with
:data:`EXPECTED`, written out by hand below. No response carries the text of an item
the person may not have, and a person refused everything changes nothing.

Medical items are ``health`` data by classification (``loupe.services.compliance.gate.classify``),
so ``med`` needs both the level and the clearance; ``hea`` (general, marked ``health``)
needs only the clearance.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, create_engine, text
from tests.conftest import BACKENDS
from tests.factories import SCHEMA, Person, add_rows, grant_level, make_project, make_user, snapshot

from loupe.db.contributor_models import ContributorLanguage
from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.db.raw import Raw
from loupe.services.access import Actor
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.services.labelling.escalations import flag_item
from loupe.services.labelling.labels import submit_label
from loupe.services.people.clearances import grant_clearance

CONFIG: dict[str, Any] = {
    **SCHEMA,
    "routing": {
        "domain_levels": {"medical": 2},
        "clearance_for": ["health"],
        "match_language": True,
    },
    "review": {"rate": 1.0},
}

# One item of each kind; ``x-`` items are the same kinds, waiting for an expert.
KINDS: dict[str, dict[str, Any]] = {
    "gen": {},
    "med": {"domain": "medical"},
    "hea": {"sensitivity": "health"},
    "de": {"language": "de-AT"},
    "hard": {"metadata": {"min_level": 3}},
}
CROWD = tuple(KINDS)
ESCALATED = tuple(f"x-{kind}" for kind in KINDS)
ALL = frozenset(CROWD + ESCALATED)


def marker(key: str) -> str:
    """The text only item ``key`` holds: where it shows up, that item was shown."""
    return f"[[{key}]]"


class Spec(NamedTuple):
    role: str  # global role
    member: str | None  # project role
    levels: dict[str, int]
    languages: tuple[str, ...] = ()
    health: bool = False  # an unexpired clearance for health data


PEOPLE: dict[str, Spec] = {
    "admin": Spec("admin", None, {}),
    "auditor": Spec("auditor", None, {}),
    "manager": Spec("manager", "manager", {}),
    "reviewer": Spec("reviewer", "reviewer", {}, ("de",)),
    "medreviewer": Spec("reviewer", "reviewer", {"medical": 2}, health=True),
    "plain": Spec("annotator", "annotator", {}),
    "med_nc": Spec("annotator", "annotator", {"medical": 2}),
    "med_hc": Spec("annotator", "annotator", {"medical": 2}, health=True),
    "speaker": Spec("annotator", "annotator", {}, ("de",)),
    "senior": Spec("annotator", "annotator", {"general": 3}),
    "expert": Spec("annotator", "annotator", {"medical": 3}, health=True),
    "expert_nc": Spec("annotator", "annotator", {"medical": 3}),
    # Everything but membership: qualifications never stand in for it.
    "outsider": Spec("annotator", None, {"medical": 3, "general": 3}, ("de",), health=True),
}
# Labels the crowd items and flags the x- items while the world is built; not in the matrix.
SEEDER = Spec("annotator", "annotator", {"medical": 3, "general": 3}, ("de",), health=True)


class Row(NamedTuple):
    """What a person may do, per endpoint family. ``None``: refused at the door (403 on
    every item, the queue itself is 403); a set: those items succeed, the others are 403
    (a queue hands out exactly those, then nothing)."""

    work: frozenset[str] | None  # tasks/next hands out; labels, skip and flag accept
    read: frozenset[str] | bool  # GET items and items/{id} (the gated text; True: every item)
    reveal: frozenset[str] | None  # POST items/{id}/reveal (the raw text)
    review: frozenset[str] | None  # reviews/next hands out; labels/{id}/reviews accepts
    expert: frozenset[str] | None  # expert-tasks/next hands out
    settle: frozenset[str] | None  # escalations/{id}/resolve accepts an answer


def only(*keys: str) -> frozenset[str]:
    return frozenset(keys)


NONE: frozenset[str] = frozenset()
LADDER = frozenset(ESCALATED)

# Project reviewers are contributors: they read only items routed to them (both copies).
ROUTED_REVIEWER = only("gen", "de", "x-gen", "x-de")
ROUTED_MEDREVIEWER = only("gen", "med", "hea", "x-gen", "x-med", "x-hea")

# fmt: off
EXPECTED: dict[str, Row] = {
    #              work                           read   reveal  review                     expert                    settle
    "admin":       Row(None,                      True,  NONE,   None,                      None,                     LADDER),
    "auditor":     Row(None,                      True,  None,   None,                      None,                     None),
    "manager":     Row(only("gen"),               True,  NONE,   only("gen"),               None,                     LADDER),
    "reviewer":    Row(only("gen", "de"),         ROUTED_REVIEWER, NONE,   only("gen", "de"),         None,                     None),
    "medreviewer": Row(only("gen", "med", "hea"), ROUTED_MEDREVIEWER, ALL,    only("gen", "med", "hea"), None,                     None),
    "plain":       Row(only("gen"),               False, None,   None,                      None,                     None),
    "med_nc":      Row(only("gen"),               False, None,   None,                      None,                     None),
    "med_hc":      Row(only("gen", "med", "hea"), False, None,   None,                      None,                     None),
    "speaker":     Row(only("gen", "de"),         False, None,   None,                      None,                     None),
    "senior":      Row(only("gen", "hard"),       False, None,   None,                      only("x-gen", "x-hard"),  only("x-gen", "x-hard")),
    "expert":      Row(only("gen", "med", "hea"), False, None,   None,                      only("x-med"),            only("x-med")),
    "expert_nc":   Row(only("gen"),               False, None,   None,                      NONE,                     NONE),
    "outsider":    Row(None,                      False, None,   None,                      None,                     None),
}
# fmt: on
# Notes on the table:
# * read: project managers, and global admins and auditors, read the gated (redacted)
#   items whatever the routing says: ``items.read`` is their oversight. Project reviewers
#   are contributors, so they read only items routed to them. Annotators never read items
#   outside their own tasks.
# * reveal: the raw text needs ``items.reveal`` (admins, project managers and reviewers)
#   *and* a clearance covering the item's class, even for public items; only medreviewer
#   holds one.
# * review: annotators need the project's ``trusted`` tier (nobody here has it: their
#   queue is refused, and their verdicts are 403 per label); project reviewers and
#   managers review only labels on items routed to them.
# * expert: levels 3 (or the expert tier) make an expert of a domain; experts still need
#   the item's clearance and language (expert_nc: an empty queue, 403 on x-med).
# * settle: adjudicators (project managers, admins) may settle any open escalation, at
#   any rung and whatever routing says, so that none waits for ever; like ``read``, this
#   is oversight by project staff. Everyone else settles what their expert queue offers.


@dataclass(frozen=True)
class World:
    project: int
    people: dict[str, Person]
    items: dict[str, int]  # key -> item id
    labels: dict[str, int]  # crowd key -> the seeder's label, waiting for review


def hold(db: Database, person: Person, item_id: int, project: int) -> None:
    """A live lease on ``item_id``, as if ``next task`` had handed it out."""
    now = utcnow()
    with db.transaction() as session:
        raw = Raw(session)
        raw.run(
            "INSERT INTO assignments (project_id, item_id, user_id, expires_at, created_at) "
            "VALUES (:project, :item, :user, :expires, :now)",
            project=project,
            item=item_id,
            user=person.id,
            expires=raw.time(now + timedelta(hours=1)),
            now=raw.time(now),
        )


def build_world(db: Database) -> World:
    specs = {**PEOPLE, "seeder": SEEDER}
    people = {name: make_user(db, name, spec.role) for name, spec in specs.items()}
    project = make_project(
        db,
        overlap=3,
        config=CONFIG,
        members={people[n]: s.member for n, s in specs.items() if s.member is not None},
    )
    with db.transaction() as session:
        set_privacy(session, Actor.system(), project, gate=False)  # the raw text is the data
    add_rows(
        db,
        project,
        [
            {"id": key, "text": f"{marker(key)} call Bo", **KINDS[key.removeprefix("x-")]}
            for key in CROWD + ESCALATED
        ],
    )
    for name, spec in specs.items():
        for domain, level in spec.levels.items():
            grant_level(db, people[name], domain, level)
        with db.transaction() as session:
            for language in spec.languages:
                session.add(ContributorLanguage(user_id=people[name].id, language=language))
            if spec.health:
                grant_clearance(
                    session,
                    Actor.system(),
                    user_id=people[name].id,
                    project_id=project,
                    sensitivity="health",
                )
    with db.engine.connect() as connection:
        items = {
            str(key): int(item_id)
            for item_id, key in connection.execute(
                text("SELECT id, external_id FROM items WHERE project_id = :p"), {"p": project}
            )
        }
    seeder = people.pop("seeder")
    labels = {}
    for key in CROWD:
        hold(db, seeder, items[key], project)
    with db.transaction() as session:
        for key in CROWD:
            submission = submit_label(session, seeder.actor, project, items[key], "call")
            labels[key] = submission.label.id
    for key in ESCALATED:
        hold(db, seeder, items[key], project)
        with db.transaction() as session:
            flag_item(session, seeder.actor, project, items[key], reason="needs a clinician")
    return World(project, people, items, labels)


# --- the world, built once per module and copied for each test -----------------------


@pytest.fixture(scope="module")
def sqlite_world(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, World]:
    """The world built once on SQLite; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("matrix") / "world.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    world = build_world(db)
    db.dispose()  # the last connection to close checkpoints the WAL into the file
    return path, world


@dataclass(frozen=True)
class PgCopy:
    """The world's rows, kept aside in a schema of their own."""

    schema: str
    tables: list[str]  # in foreign-key order
    sequences: list[tuple[str, str, str]]  # (table, column, sequence)


@pytest.fixture(scope="module")
def pg_world(pg_migrated: str) -> Iterator[tuple[PgCopy, World]]:
    """The world built once on PostgreSQL, its rows copied aside for :func:`reset`."""
    db = Database(pg_migrated)
    copy = PgCopy(f"loupe_matrix_{os.getpid()}", [], [])
    with db.engine.begin() as connection:
        metadata = MetaData()
        metadata.reflect(connection)
        copy.tables.extend(t.name for t in metadata.sorted_tables if t.name != "alembic_version")
        names = ", ".join(f'"{table}"' for table in copy.tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for table in copy.tables:
            for column in metadata.tables[table].columns:
                sequence = connection.execute(
                    text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table, "c": column.name}
                ).scalar_one()
                if sequence is not None:
                    copy.sequences.append((table, column.name, sequence))
    world = build_world(db)
    with db.engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {copy.schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {copy.schema}"))
        for table in copy.tables:
            connection.execute(text(f'CREATE TABLE {copy.schema}."{table}" AS TABLE "{table}"'))
    yield copy, world
    with db.engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {copy.schema} CASCADE"))
    db.dispose()


def reset(url: str, copy: PgCopy) -> None:
    """Put the schema of ``url`` back to the world's rows (DELETE is far cheaper than
    TRUNCATE for a few dozen rows)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in reversed(copy.tables):
            connection.execute(text(f'DELETE FROM "{table}"'))
        for table in copy.tables:
            connection.execute(text(f'INSERT INTO "{table}" SELECT * FROM {copy.schema}."{table}"'))
        for table, column, sequence in copy.sequences:
            connection.execute(
                text(
                    f'SELECT setval(:s, (SELECT coalesce(max("{column}"), 0) + 1 FROM "{table}"), false)'
                ),
                {"s": sequence},
            )
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """This module's databases hold a fresh copy of the world (``settings``, ``db`` and
    ``app_client`` from conftest use it)."""
    if request.param == "sqlite":
        source, _ = request.getfixturevalue("sqlite_world")
        path = tmp_path / "loupe.db"
        shutil.copy(source, path)
        return f"sqlite:///{path}"
    copy, _ = request.getfixturevalue("pg_world")
    url: str = request.getfixturevalue("pg_migrated")
    reset(url, copy)
    return url


@pytest.fixture
def world(request: pytest.FixtureRequest, database_url: str) -> World:
    name = "sqlite_world" if database_url.startswith("sqlite") else "pg_world"
    built: World = request.getfixturevalue(name)[1]
    return built


# --- the endpoints -------------------------------------------------------------------


class Outcome(NamedTuple):
    per_item: dict[str, int]  # item key -> status (endpoints on one item)
    handed: frozenset[str] | None  # what a queue or list gave (None: it was refused)
    bodies: list[str]


Call = Callable[[TestClient, World, Person, Database], Outcome]
Response = Any  # what TestClient returns (httpx's, whichever httpx it bundles)


def _base(world: World) -> str:
    return f"/api/v1/projects/{world.project}"


def _per_item(keys: tuple[str, ...], call: Callable[[str], Response]) -> Outcome:
    responses = {key: call(key) for key in keys}
    return Outcome(
        {key: r.status_code for key, r in responses.items()},
        None,
        [r.text for r in responses.values()],
    )


def _drain(
    ask: Callable[[], Response], field: str, finish: Callable[[dict[str, Any]], Response]
) -> Outcome:
    """Ask a queue until it runs dry, finishing each task so that the next one comes."""
    handed: set[str] = set()
    bodies = []
    for _ in range(len(ALL) + 1):
        response = ask()
        bodies.append(response.text)
        if response.status_code == 403:
            assert not handed
            return Outcome({}, None, bodies)
        assert response.status_code == 200, response.text
        task = response.json()[field]
        if task is None:
            return Outcome({}, frozenset(handed), bodies)
        handed.add(task["external_id"])
        done = finish(task)
        assert done.status_code in (200, 201), done.text
    raise AssertionError(f"the queue did not run dry: {sorted(handed)}")


def next_tasks(client: TestClient, world: World, who: Person, db: Database) -> Outcome:
    return _drain(
        lambda: client.post(f"{_base(world)}/tasks/next", headers=who.headers),
        "task",
        lambda task: client.post(
            f"{_base(world)}/items/{task['item_id']}/labels",
            json={"answer": "call"},
            headers=who.headers,
        ),
    )


def submit(client: TestClient, world: World, who: Person, db: Database) -> Outcome:
    return _per_item(
        CROWD,
        lambda key: client.post(
            f"{_base(world)}/items/{world.items[key]}/labels",
            json={"answer": "call"},
            headers=who.headers,
        ),
    )


def skip(client: TestClient, world: World, who: Person, db: Database) -> Outcome:
    return _per_item(
        CROWD,
        lambda key: client.post(
            f"{_base(world)}/tasks/{world.items[key]}/skip", headers=who.headers
        ),
    )


def hold_all(world: World, who: Person, db: Database) -> None:
    """The worst case for submitting and flagging (which need a task): a live lease on
    every item."""
    for key in CROWD:
        hold(db, who, world.items[key], world.project)


def flag(client: TestClient, world: World, who: Person, db: Database) -> Outcome:
    return _per_item(
        CROWD,
        lambda key: client.post(
            f"{_base(world)}/items/{world.items[key]}/flag",
            json={"reason": "looks clinical"},
            headers=who.headers,
        ),
    )


def get_item(client: TestClient, world: World, who: Person, db: Database) -> Outcome:
    return _per_item(
        CROWD,
        lambda key: client.get(f"{_base(world)}/items/{world.items[key]}", headers=who.headers),
    )


def list_items(client: TestClient, world: World, who: Person, db: Database) -> Outcome:
    response = client.get(f"{_base(world)}/items", headers=who.headers)
    if response.status_code == 403:
        return Outcome({}, None, [response.text])
    assert response.status_code == 200
    listed = frozenset(item["external_id"] for item in response.json()["items"])
    return Outcome({}, listed, [response.text])


def reveal(client: TestClient, world: World, who: Person, db: Database) -> Outcome:
    return _per_item(
        CROWD,
        lambda key: client.post(
            f"{_base(world)}/items/{world.items[key]}/reveal",
            json={"purpose": "checking the redaction of this item"},
            headers=who.headers,
        ),
    )


def next_reviews(client: TestClient, world: World, who: Person, db: Database) -> Outcome:
    return _drain(
        lambda: client.post(f"{_base(world)}/reviews/next", headers=who.headers),
        "review",
        lambda task: client.post(
            f"{_base(world)}/labels/{task['label_id']}/reviews",
            json={"verdict": "accept"},
            headers=who.headers,
        ),
    )


def review(client: TestClient, world: World, who: Person, db: Database) -> Outcome:
    return _per_item(
        CROWD,
        lambda key: client.post(
            f"{_base(world)}/labels/{world.labels[key]}/reviews",
            json={"verdict": "accept"},
            headers=who.headers,
        ),
    )


def next_expert_tasks(client: TestClient, world: World, who: Person, db: Database) -> Outcome:
    return _drain(
        lambda: client.post(f"{_base(world)}/expert-tasks/next", headers=who.headers),
        "task",
        lambda task: client.post(
            f"{_base(world)}/escalations/{task['item_id']}/resolve",
            json={"answer": "call"},
            headers=who.headers,
        ),
    )


def resolve(client: TestClient, world: World, who: Person, db: Database) -> Outcome:
    return _per_item(
        ESCALATED,
        lambda key: client.post(
            f"{_base(world)}/escalations/{world.items[key]}/resolve",
            json={"answer": "call"},
            headers=who.headers,
        ),
    )


class Endpoint(NamedTuple):
    call: Call
    column: str  # of :class:`Row`
    items: tuple[str, ...]  # the items it is tried on (queues and lists: all they may give)
    success: int  # the status of an allowed call on one item
    shows_text: bool  # whether a successful response carries the item's text
    queue: bool = False  # a queue or a list: compare what it gave, not per-item statuses
    prepare: Callable[[World, Person, Database], None] | None = None


ENDPOINTS: dict[str, Endpoint] = {
    "POST tasks/next": Endpoint(next_tasks, "work", CROWD, 200, True, queue=True),
    "POST items/{i}/labels": Endpoint(submit, "work", CROWD, 201, False, prepare=hold_all),
    "POST tasks/{i}/skip": Endpoint(skip, "work", CROWD, 204, False),
    "POST items/{i}/flag": Endpoint(flag, "work", CROWD, 200, False, prepare=hold_all),
    "GET items": Endpoint(list_items, "read", tuple(ALL), 200, True, queue=True),
    "GET items/{i}": Endpoint(get_item, "read", CROWD, 200, True),
    "POST items/{i}/reveal": Endpoint(reveal, "reveal", CROWD, 200, True),
    "POST reviews/next": Endpoint(next_reviews, "review", CROWD, 200, True, queue=True),
    "POST labels/{l}/reviews": Endpoint(review, "review", CROWD, 201, False),
    "POST expert-tasks/next": Endpoint(
        next_expert_tasks, "expert", ESCALATED, 200, True, queue=True
    ),
    "POST escalations/{i}/resolve": Endpoint(resolve, "settle", ESCALATED, 200, False),
}


def allowed_items(person: str, column: str) -> frozenset[str] | None:
    value = EXPECTED[person]._asdict()[column]
    if isinstance(value, bool):
        return ALL if value else None
    return value  # type: ignore[no-any-return]


def test_the_table_covers_every_person() -> None:
    assert set(EXPECTED) == set(PEOPLE)


@pytest.mark.parametrize("person", list(PEOPLE))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_authorization_matrix(
    endpoint: str, person: str, world: World, app_client: TestClient, db: Database
) -> None:
    spec = ENDPOINTS[endpoint]
    allowed = allowed_items(person, spec.column)
    who = world.people[person]
    if spec.prepare is not None:
        spec.prepare(world, who, db)
    before = snapshot(db) if not allowed else None
    outcome = spec.call(app_client, world, who, db)
    if spec.queue:
        assert outcome.handed == allowed
    else:
        expected = {key: spec.success if allowed and key in allowed else 403 for key in spec.items}
        assert outcome.per_item == expected
    # No response carries the text of an item this person may not have.
    shown = {key for key in ALL if any(marker(key) in body for body in outcome.bodies)}
    assert shown == (set(allowed or ()) & set(spec.items) if spec.shows_text else set())
    if before is not None:  # refused everything (or was handed nothing): nothing changed
        assert snapshot(db) == before


def test_a_clearance_that_expires_mid_lease_takes_the_item_back(
    world: World, app_client: TestClient, db: Database
) -> None:
    admin, who = world.people["admin"], world.people["med_hc"]
    base, med = _base(world), world.items["med"]
    renewed = app_client.post(
        "/api/v1/clearances",
        json={"user_id": who.id, "project_id": world.project, "sensitivity": "health",
              "expires_at": (utcnow() + timedelta(hours=1)).isoformat()},
        headers=admin.headers,
    )  # fmt: skip
    assert renewed.status_code == 201
    first = app_client.post(f"{base}/tasks/next", headers=who.headers).json()["task"]
    assert first["external_id"] == "gen"
    app_client.post(f"{base}/items/{first['item_id']}/labels", json={"answer": "call"},
                    headers=who.headers)  # fmt: skip
    held = app_client.post(f"{base}/tasks/next", headers=who.headers).json()["task"]
    assert (held["item_id"], held["data"]["text"]) == (med, f"{marker('med')} call Bo")
    # The hour passes while the lease (ten minutes from each ask) is still live.
    with db.transaction() as session:
        raw = Raw(session)
        raw.run("UPDATE clearances SET expires_at = :past WHERE user_id = :user",
                past=raw.time(utcnow() - timedelta(seconds=1)), user=who.id)  # fmt: skip
    again = app_client.post(f"{base}/tasks/next", headers=who.headers)
    assert again.status_code == 200
    assert again.json() == {"task": None}  # hea needs the clearance too; gen is done
    with db.engine.connect() as connection:
        leases = connection.execute(
            text("SELECT count(*) FROM assignments WHERE user_id = :u"), {"u": who.id}
        ).scalar_one()
    assert leases == 0  # released, so someone cleared can take it
    before = snapshot(db)
    late = app_client.post(f"{base}/items/{med}/labels", json={"answer": "call"},
                           headers=who.headers)  # fmt: skip
    assert (late.status_code, late.json()["error"]["details"]["reason"]) == (409, "no_lease")
    assert marker("med") not in late.text
    for path, body in [
        (f"{base}/tasks/{med}/skip", None),
        (f"{base}/items/{med}/flag", {"reason": "looks clinical"}),
    ]:
        refused = app_client.post(path, json=body, headers=who.headers)
        assert refused.status_code == 403, path
        assert "needs a clearance for health data" in refused.json()["error"]["message"]
        assert marker("med") not in refused.text
    assert snapshot(db) == before
    # Someone still cleared gets it (after the general item, which comes first).
    cleared = world.people["expert"]
    handed = []
    for _ in range(2):
        task = app_client.post(f"{base}/tasks/next", headers=cleared.headers).json()["task"]
        handed.append(task["external_id"])
        app_client.post(f"{base}/items/{task['item_id']}/labels", json={"answer": "call"},
                        headers=cleared.headers)  # fmt: skip
    assert handed == ["gen", "med"]
