"""Who may fetch a media blob, and the ``media`` entries of item payloads.

The attacker model: a blob is served to exactly those who may read the text of an item
that carries it. Everyone else is told it does not exist (NotFound), whether it does
or not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update
from tests.factories import SCHEMA, Person, add_items, add_media, hold, make_project, make_user

from loupe.db.contributor_models import ReviewLease, ReviewTask
from loupe.db.database import Database
from loupe.db.models import Assignment, Item, Label, Membership, utcnow
from loupe.errors import NotFound
from loupe.services.access import Actor
from loupe.services.people.clearances import grant_clearance
from loupe.services.projects.media_views import authorize_media, media_for, media_url

IMAGES: dict[str, Any] = {**SCHEMA, "media": ["image"]}
FACE = {"type": "FACE", "x": 10, "y": 20, "width": 50, "height": 60}


def _may(db: Database, actor: Actor, sha: str) -> bool:
    with db.transaction() as session:
        try:
            served = authorize_media(session, actor, sha)
        except NotFound as refused:
            assert "that you may see" in refused.message  # one answer for all refusals
            return False
        assert served.sha256 == sha
        return True


def _label(db: Database, person: Person, project_id: int, item_id: int) -> int:
    with db.transaction() as session:
        label = Label(
            project_id=project_id, item_id=item_id, user_id=person.id, answer="call",
            config_version=1,
        )  # fmt: skip
        session.add(label)
        session.flush()
        return label.id


@pytest.fixture
def world(db: Database) -> dict[str, Any]:
    """Two projects with an image item each (and a second image item in project A)."""
    people = {
        name: make_user(db, name, role)
        for name, role in [
            ("ann", "annotator"), ("bob", "annotator"), ("eve", "annotator"),
            ("mgr", "manager"), ("aud", "auditor"), ("adm", "admin"), ("rev", "annotator"),
        ]
    }  # fmt: skip
    a = make_project(
        db,
        name="a",
        config=IMAGES,
        members={
            people["ann"]: "annotator", people["bob"]: "annotator", people["rev"]: "reviewer",
            people["mgr"]: "manager",
        },
    )  # fmt: skip
    b = make_project(db, name="b", config=IMAGES, members={people["eve"]: "annotator"})
    add_items(db, a, 2)
    add_items(db, b, 1, start=2)
    shas = {
        "a1": add_media(db, 1, regions=[FACE], size=(1280, 720)),
        "a2": add_media(db, 2),
        "b3": add_media(db, 3),
    }
    return {"people": people, "a": a, "b": b, "sha": shas}


def test_media_for_builds_the_payload_entries(db: Database, world: dict[str, Any]) -> None:
    sha = world["sha"]["a1"]
    with db.transaction() as session:
        found = media_for(session, [1, 1, 999])
    assert found == {
        1: [
            {
                "field": "image",
                "kind": "image",
                "url": f"/api/v1/media/{sha}",
                "sha256": sha,
                "mime": "image/png",
                "width": 1280,
                "height": 720,
                "regions": [FACE],
                "duration_ms": None,
                "sample_rate": None,
                "restricted": None,
            }
        ]
    }
    assert media_url(sha) == f"/api/v1/media/{sha}"


def test_a_lease_or_a_label_lets_an_annotator_fetch_that_item_only(
    db: Database, world: dict[str, Any]
) -> None:
    people, sha = world["people"], world["sha"]
    ann, bob, eve = people["ann"].actor, people["bob"].actor, people["eve"].actor
    # Nobody holds anything yet: same-project annotators cannot fetch either image.
    assert not _may(db, ann, sha["a1"]) and not _may(db, bob, sha["a2"])
    hold(db, people["ann"], world["a"], 1)
    assert _may(db, ann, sha["a1"])
    assert not _may(db, ann, sha["a2"])  # same project, no lease on item 2
    assert not _may(db, bob, sha["a1"])  # same project, the lease is ann's
    assert not _may(db, ann, sha["b3"])  # another project's blob
    assert not _may(db, eve, sha["a1"])
    _label(db, people["bob"], world["a"], 2)
    assert _may(db, bob, sha["a2"])  # who labelled it may look again
    # An expired lease lets nobody in.
    with db.transaction() as session:
        session.execute(update(Assignment).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert not _may(db, ann, sha["a1"])


def test_a_contributor_removed_from_the_project_loses_access(
    db: Database, world: dict[str, Any]
) -> None:
    ann = world["people"]["ann"]
    hold(db, ann, world["a"], 1)
    assert _may(db, ann.actor, world["sha"]["a1"])
    with db.transaction() as session:
        session.execute(delete(Membership).where(Membership.user_id == ann.id))
    assert not _may(db, ann.actor, world["sha"]["a1"])


def test_a_reviewer_with_a_review_lease_may_fetch(db: Database, world: dict[str, Any]) -> None:
    people = world["people"]
    label_id = _label(db, people["bob"], world["a"], 1)
    eve_in_a = people["eve"]
    with db.transaction() as session:
        session.add(Membership(project_id=world["a"], user_id=eve_in_a.id, role="annotator"))
        session.add(
            ReviewTask(
                label_id=label_id, project_id=world["a"], item_id=1, labeller_id=people["bob"].id,
                needed=1,
            )
        )  # fmt: skip
    assert not _may(db, eve_in_a.actor, world["sha"]["a1"])
    with db.transaction() as session:
        session.add(
            ReviewLease(
                label_id=label_id, user_id=eve_in_a.id, expires_at=utcnow() + timedelta(hours=1)
            )
        )
    assert _may(db, eve_in_a.actor, world["sha"]["a1"])
    assert not _may(db, eve_in_a.actor, world["sha"]["a2"])


def test_staff_who_read_items_may_fetch(db: Database, world: dict[str, Any]) -> None:
    people, sha = world["people"], world["sha"]
    for name in ("mgr", "aud", "adm", "rev"):  # rev: a project reviewer, items routed to them
        assert _may(db, people[name].actor, sha["a1"]), name
    assert _may(db, Actor.system(), sha["b3"])
    assert not _may(db, people["mgr"].actor, sha["b3"])  # not a member of project b


def test_a_withheld_items_blob_is_only_for_its_managers_cleared_for_its_class(
    db: Database, world: dict[str, Any]
) -> None:
    """A withheld image is one the gate could not finish (no OCR: its text unchecked; a
    detector failed: its faces unchecked): its blob may show what the gate would have
    pixelated, so the role alone is not enough, as for revealing an original."""
    people, sha = world["people"], world["sha"]
    hold(db, people["ann"], world["a"], 1)
    _label(db, people["bob"], world["a"], 1)
    with db.transaction() as session:
        session.execute(
            update(Item).where(Item.id == 1).values(withheld=True, sensitivity="personal")
        )
    for name in ("ann", "bob", "aud", "rev", "mgr", "adm"):
        assert not _may(db, people[name].actor, sha["a1"]), name
    with db.transaction() as session:
        for name, sensitivity in (("mgr", "internal"), ("adm", "personal"), ("aud", "health")):
            grant_clearance(
                session, Actor.system(), user_id=people[name].id, project_id=world["a"],
                sensitivity=sensitivity,
            )  # fmt: skip
        grant_clearance(  # another project's clearance never counts
            session, Actor.system(), user_id=people["mgr"].id, project_id=world["b"],
            sensitivity="health",
        )  # fmt: skip
    assert not _may(db, people["mgr"].actor, sha["a1"])  # below the item's class
    assert not _may(db, people["aud"].actor, sha["a1"])  # cleared, but no privacy manager
    assert _may(db, people["adm"].actor, sha["a1"])
    assert _may(db, people["mgr"].actor, sha["a2"])  # not withheld: as before


def test_one_blob_in_two_projects_follows_either_item(db: Database, world: dict[str, Any]) -> None:
    people = world["people"]
    shared = b"the same bytes imported twice"
    add_media(db, 2, field="photo", data=shared)
    sha = add_media(db, 3, field="photo", data=shared)
    assert not _may(db, people["eve"].actor, sha)
    hold(db, people["eve"], world["b"], 3)
    assert _may(db, people["eve"].actor, sha)  # through b's item, never a's
    assert not _may(db, people["ann"].actor, sha)


@pytest.mark.parametrize("sha", ["", "abc", "A" * 64, "g" * 64, "0" * 64, "../" * 21 + "a"])
def test_unknown_or_malformed_blobs_are_not_found(
    db: Database, world: dict[str, Any], sha: str
) -> None:
    assert not _may(db, world["people"]["adm"].actor, sha)


def test_after_erasure_of_the_item_nobody_may_fetch(db: Database, world: dict[str, Any]) -> None:
    people = world["people"]
    hold(db, people["ann"], world["a"], 1)
    with db.transaction() as session:
        session.execute(delete(Item).where(Item.id == 1))
    assert not _may(db, people["ann"].actor, world["sha"]["a1"])
    assert not _may(db, people["adm"].actor, world["sha"]["a1"])


def test_an_item_no_longer_routed_to_someone_is_not_served_to_them(
    db: Database, world: dict[str, Any]
) -> None:
    people, sha = world["people"], world["sha"]
    hold(db, people["ann"], world["a"], 1)
    assert _may(db, people["ann"].actor, sha["a1"]) and _may(db, people["rev"].actor, sha["a1"])
    # Now item 1 needs level 2 in its domain (as a revoked clearance or level would do).
    with db.transaction() as session:
        session.execute(update(Item).where(Item.id == 1).values(min_level=2))
    assert not _may(db, people["ann"].actor, sha["a1"])  # the lease alone is not enough
    assert not _may(db, people["rev"].actor, sha["a1"])  # a project reviewer: routed items only
    assert _may(db, people["aud"].actor, sha["a1"]) and _may(db, people["mgr"].actor, sha["a1"])
