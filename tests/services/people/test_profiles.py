from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from tests.factories import make_project, make_user, snapshot

from loupe.db.contributor_models import ContributorDomain
from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.db.privacy_models import AuditEvent
from loupe.db.raw import Raw
from loupe.errors import InvalidInput, NotFound, PermissionDenied
from loupe.routing import Profile
from loupe.services.access import Actor
from loupe.services.people import profiles
from loupe.services.people.clearances import grant_clearance
from loupe.services.people.eligibility import load_profile


def _routing_profile(db: Database, user_id: int, now: datetime) -> Profile:
    with db.transaction(readonly=True) as session:
        return load_profile(Raw(session), user_id, now=now)


def _actions(db: Database) -> list[str]:
    with db.transaction(readonly=True) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_a_contributor_reads_their_own_profile_and_managers_read_anyones(db: Database) -> None:
    manager, ann, other = make_user(db, "mgr", "manager"), make_user(db, "ann"), make_user(db, "b")
    soon = utcnow() + timedelta(days=30)
    project = make_project(db, members={ann: "annotator"})
    with db.transaction() as session:
        profiles.grant_domain(session, manager.actor, ann.id, "medical", 2, soon)
        profiles.grant_domain(session, manager.actor, ann.id, "legal", 1)
        profiles.set_languages(session, ann.actor, ann.id, ["de-AT", "en"])
        grant_clearance(
            session, Actor.system(), user_id=ann.id, project_id=project, sensitivity="health"
        )
    with db.transaction(readonly=True) as session:
        mine = profiles.get_profile(session, ann.actor, ann.id)
        assert profiles.get_profile(session, manager.actor, ann.id) == mine
        assert profiles.get_profile(session, Actor.system(), ann.id) == mine
        with pytest.raises(PermissionDenied):
            profiles.get_profile(session, other.actor, ann.id)
        with pytest.raises(NotFound):
            profiles.get_profile(session, manager.actor, 999)
    assert (mine.user_id, mine.username, mine.role) == (ann.id, "ann", "annotator")
    assert mine.languages == ("de", "en")
    assert [(d.domain, d.level, d.source, d.granted_by, d.expired) for d in mine.domains] == [
        ("legal", 1, "manager", manager.id, False),
        ("medical", 2, "manager", manager.id, False),
    ]
    assert mine.domains[1].expires_at == soon
    assert [(c.sensitivity, c.expires_at, c.expired) for c in mine.clearances] == [
        ("health", None, False)
    ]
    assert mine.qualifications == ()


def test_languages_are_primary_subtags_deduplicated_and_replaced(db: Database) -> None:
    manager, ann, other = make_user(db, "mgr", "manager"), make_user(db, "ann"), make_user(db, "b")
    with db.transaction() as session:
        stored = profiles.set_languages(
            session, ann.actor, ann.id, ["DE", "de-AT", "en_US", "pt-BR", "en"]
        )
    assert stored == ("de", "en", "pt")
    with db.transaction() as session:
        assert profiles.set_languages(session, manager.actor, ann.id, ["fr"]) == ("fr",)
    assert _routing_profile(db, ann.id, utcnow()).languages == frozenset({"fr"})
    before = snapshot(db)
    for bad in (["fr", "deutsch!"], ["x"], ["en", "1a"]):
        with pytest.raises(InvalidInput) as info, db.transaction() as session:
            profiles.set_languages(session, ann.actor, ann.id, bad)
        assert info.value.message.startswith("languages[")
        assert "'de', 'en' or 'pt-BR'" in info.value.message
    many = [f"a{c}{d}" for c in "bcd" for d in "abcdefghijklmnopq"]  # 51 tags
    with pytest.raises(InvalidInput, match="at most 50"), db.transaction() as session:
        profiles.set_languages(session, ann.actor, ann.id, many)
    with pytest.raises(PermissionDenied), db.transaction() as session:
        profiles.set_languages(session, other.actor, ann.id, ["de"])
    with pytest.raises(NotFound), db.transaction() as session:
        profiles.set_languages(session, manager.actor, 999, ["de"])
    assert snapshot(db) == before
    with db.transaction() as session:
        assert profiles.set_languages(session, ann.actor, ann.id, []) == ()
    assert _routing_profile(db, ann.id, utcnow()).languages == frozenset()
    assert _actions(db).count("contributor.languages") == 3


def test_grant_and_revoke_are_audited_and_replace_the_level(db: Database) -> None:
    manager, ann = make_user(db, "mgr", "manager"), make_user(db, "ann")
    with db.transaction() as session:
        row = profiles.grant_domain(session, manager.actor, ann.id, "medical", 3)
        assert (row.level, row.source, row.granted_by, row.expires_at) == (
            3,
            "manager",
            manager.id,
            None,
        )
    with db.transaction() as session:  # a manager's grant may lower a level
        profiles.grant_domain(session, manager.actor, ann.id, "medical", 1)
    assert _routing_profile(db, ann.id, utcnow()).levels == {"medical": 1}
    with db.transaction() as session:
        profiles.revoke_domain(session, manager.actor, ann.id, "medical")
    assert _routing_profile(db, ann.id, utcnow()).levels == {}
    assert _actions(db)[-3:] == ["contributor.grant", "contributor.grant", "contributor.revoke"]


@pytest.mark.parametrize(
    ("domain", "level", "expires", "field"),
    [
        ("Medical", 1, None, "domain"),
        ("", 1, None, "domain"),
        ("ana-ruiz", 1, None, "domain"),
        ("tel-02079460958", 1, None, "domain"),
        ("medical", 0, None, "level"),
        ("medical", 4, None, "level"),
        ("medical", True, None, "level"),
        ("medical", 1, "naive", "expires_at"),
        ("medical", 1, "past", "expires_at"),
    ],
)
def test_grant_refuses_bad_input_and_changes_nothing(
    db: Database, domain: str, level: int, expires: str | None, field: str
) -> None:
    manager, ann = make_user(db, "mgr", "manager"), make_user(db, "ann")
    expires_at = {
        None: None,
        "naive": datetime(2999, 1, 1),
        "past": utcnow() - timedelta(seconds=1),
    }[expires]
    before = snapshot(db)
    with pytest.raises(InvalidInput) as info, db.transaction() as session:
        profiles.grant_domain(session, manager.actor, ann.id, domain, level, expires_at)
    assert info.value.details["field"] == field
    assert info.value.message.startswith(f"{field}: ")
    assert snapshot(db) == before


def test_only_managers_grant_never_to_themselves(db: Database) -> None:
    manager, ann, admin = (
        make_user(db, "mgr", "manager"),
        make_user(db, "ann"),
        make_user(db, "root", "admin"),
    )
    before = snapshot(db)
    for actor, user_id, error in [
        (ann.actor, ann.id, PermissionDenied),
        (ann.actor, manager.id, PermissionDenied),
        (manager.actor, manager.id, PermissionDenied),
        (admin.actor, admin.id, PermissionDenied),
        (manager.actor, 999, NotFound),
    ]:
        with pytest.raises(error), db.transaction() as session:
            profiles.grant_domain(session, actor, user_id, "medical", 1)
    with pytest.raises(PermissionDenied), db.transaction() as session:
        profiles.revoke_domain(session, ann.actor, ann.id, "medical")
    with pytest.raises(NotFound, match="holds no level in 'medical'"), db.transaction() as s:
        profiles.revoke_domain(s, manager.actor, ann.id, "medical")
    assert snapshot(db) == before
    with db.transaction() as session:  # the CLI (system) may grant anyone
        row = profiles.grant_domain(session, Actor.system(), manager.id, "legal", 2)
        assert row.granted_by is None


def test_an_expired_level_does_not_count(db: Database) -> None:
    manager, ann = make_user(db, "mgr", "manager"), make_user(db, "ann")
    now = utcnow()
    with db.transaction() as session:
        profiles.grant_domain(
            session, manager.actor, ann.id, "medical", 2, now + timedelta(hours=1), now=now
        )
    assert _routing_profile(db, ann.id, now).levels == {"medical": 2}
    later = now + timedelta(hours=2)
    assert _routing_profile(db, ann.id, later).levels == {}
    with db.transaction(readonly=True) as session:
        profile = profiles.get_profile(session, ann.actor, ann.id, now=later)
    assert [(d.domain, d.expired) for d in profile.domains] == [("medical", True)]


def test_a_domain_stored_before_the_personal_data_check_can_be_found_and_revoked(
    db: Database,
) -> None:
    manager, ann = make_user(db, "mgr", "manager"), make_user(db, "ann")
    with db.transaction() as session:
        session.add(ContributorDomain(user_id=ann.id, domain="ana-ruiz", level=1, source="manager"))
    with db.transaction(readonly=True) as session:
        found = profiles.list_contributors(session, manager.actor, domain="ana-ruiz")
    assert [p.username for p in found] == ["ann"]
    with db.transaction() as session:
        profiles.revoke_domain(session, manager.actor, ann.id, "ana-ruiz")
    assert _routing_profile(db, ann.id, utcnow()).levels == {}


def test_list_contributors_pages_and_filters_by_domain(db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    people = [make_user(db, f"u{i}") for i in range(5)]
    with db.transaction() as session:
        for person in people[1::2]:
            profiles.grant_domain(session, manager.actor, person.id, "medical", 1)
    with db.transaction(readonly=True) as session:
        first = profiles.list_contributors(session, manager.actor, after_id=0, limit=4)
        rest = profiles.list_contributors(
            session, manager.actor, after_id=first[-1].user_id, limit=4
        )
        medical = profiles.list_contributors(session, manager.actor, domain="medical")
        with pytest.raises(PermissionDenied):
            profiles.list_contributors(session, people[0].actor)
        with pytest.raises(InvalidInput):
            profiles.list_contributors(session, manager.actor, domain="No Such")
    assert [p.username for p in first + rest] == ["mgr", "u0", "u1", "u2", "u3", "u4"]
    assert [p.username for p in medical] == ["u1", "u3"]
    assert medical[0].domains[0].level == 1
