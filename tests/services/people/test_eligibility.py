from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from tests.factories import (
    SCHEMA,
    Person,
    add_rows,
    grant_level,
    hold,
    make_project,
    make_user,
)

from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.db.raw import Query
from loupe.errors import PermissionDenied
from loupe.routing import Profile, Requirements, RoutingPolicy, eligible
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task
from loupe.services.people.clearances import grant_clearance
from loupe.services.people.eligibility import item_filter, load_profile


def routed(**routing: Any) -> dict[str, Any]:
    """A routing policy; health is open unless the test lists ``clearance_for`` (these tests
    are about levels and languages; the clearance default has tests of its own)."""
    return {**SCHEMA, "routing": {"clearance_for": [], **routing}}


def drain(db: Database, person: Person, project: int) -> list[str]:
    """Every item ``person`` is handed, labelled as it comes."""
    seen = []
    while True:
        with db.transaction() as session:
            task = next_task(session, person.actor, project, lease_seconds=60)
            if task is None:
                return seen
            seen.append(task.external_id)
            submit_label(session, person.actor, project, task.item_id, "call")


MIXED = [
    {"id": "g1", "text": "call mum"},
    {"id": "m1", "text": "dosage of ibuprofen", "domain": "medical"},
    {"id": "l1", "text": "is this clause valid", "domain": "legal"},
    {"id": "d1", "text": "ruf Anna an", "language": "de-AT"},
    {"id": "h1", "text": "my diagnosis", "domain": "medical", "sensitivity": "health"},
    {"id": "x1", "text": "hard one", "metadata": {"min_level": 2}},
]


def test_items_go_only_to_contributors_who_meet_their_requirements(db: Database) -> None:
    crowd, doctor = make_user(db, "crowd"), make_user(db, "doctor")
    policy = routed(domain_levels={"medical": 1, "legal": 1}, match_language=True,
                    clearance_for=["health"])  # fmt: skip
    project = make_project(db, config=policy, overlap=2,
                           members={crowd: "annotator", doctor: "annotator"})  # fmt: skip
    add_rows(db, project, MIXED)
    grant_level(db, doctor, "medical", 2)
    grant_level(db, doctor, "general", 2)
    with db.transaction() as session:
        grant_clearance(
            session, Actor.system(), user_id=doctor.id, project_id=project, sensitivity="health"
        )
    assert drain(db, crowd, project) == ["g1"]
    assert drain(db, doctor, project) == ["g1", "m1", "h1", "x1"]


def test_language_match_uses_the_primary_subtag(db: Database) -> None:
    speaker = make_user(db, "speaker")
    project = make_project(db, config=routed(match_language=True), members={speaker: "annotator"})
    add_rows(db, project, MIXED)
    from loupe.db.contributor_models import ContributorLanguage

    with db.transaction() as session:
        session.add(ContributorLanguage(user_id=speaker.id, language="de"))
    assert "d1" in drain(db, speaker, project)


def test_submit_refuses_an_item_that_is_not_routed_to_you(db: Database) -> None:
    crowd = make_user(db, "crowd")
    project = make_project(db, config=routed(domain_levels={"medical": 1}),
                           members={crowd: "annotator"})  # fmt: skip
    add_rows(db, project, MIXED)
    hold(db, crowd, project, 2)  # even under a lease (say, one from before a change)
    with db.transaction() as session, pytest.raises(PermissionDenied, match="needs level 1"):
        submit_label(session, crowd.actor, project, 2, "call")


def test_min_level_from_metadata_applies_without_a_routing_policy(db: Database) -> None:
    crowd = make_user(db, "crowd")
    project = make_project(db, members={crowd: "annotator"})
    add_rows(db, project, MIXED)
    assert "x1" not in drain(db, crowd, project)
    hold(db, crowd, project, 6)
    with db.transaction() as session, pytest.raises(PermissionDenied):
        submit_label(session, crowd.actor, project, 6, "call")


def test_expired_levels_and_clearances_do_not_count(db: Database) -> None:
    doc = make_user(db, "doc")
    now = utcnow()
    from loupe.db.contributor_models import ContributorDomain

    with db.transaction() as session:
        session.add(ContributorDomain(user_id=doc.id, domain="medical", level=3, source="test",
                                      expires_at=now - timedelta(days=1)))  # fmt: skip
    with db.transaction() as session:
        profile = load_profile(session_raw(session), doc.id, now=now)
    assert profile.levels == {}


class _Id(NamedTuple):
    id: int


def session_raw(session: Any) -> Any:
    from loupe.db.raw import Raw

    return Raw(session)


def test_expertise_priority_serves_own_domain_first(db: Database) -> None:
    doctor = make_user(db, "doctor")
    project = make_project(db, config=routed(priority="expertise"), members={doctor: "annotator"})
    add_rows(db, project, MIXED[:3])
    grant_level(db, doctor, "medical", 1)
    assert drain(db, doctor, project)[0] == "m1"


DOMAINS = ["general", "medical", "legal"]
SENSITIVITY = ["public", "internal", "personal", "health"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    levels=st.dictionaries(st.sampled_from(DOMAINS), st.integers(0, 3), max_size=3),
    needs=st.dictionaries(st.sampled_from(DOMAINS), st.integers(0, 3), max_size=3),
    default=st.integers(0, 3),
    languages=st.frozensets(st.sampled_from(["de", "en", "fr"]), max_size=2),
    clearances=st.lists(st.sampled_from(SENSITIVITY), max_size=2),
    blocked=st.lists(st.sampled_from(["personal", "health"]), max_size=2, unique=True),
    match=st.booleans(),
    upper=st.dictionaries(st.sampled_from(DOMAINS), st.floats(0.05, 0.99), max_size=3),
    bar=st.one_of(st.none(), st.floats(0.1, 0.9)),
)
def test_the_sql_filter_agrees_with_the_rule(
    db: Database,
    levels: dict[str, int],
    needs: dict[str, int],
    default: int,
    languages: frozenset[str],
    clearances: list[str],
    blocked: list[Any],
    match: bool,
    upper: dict[str, float],
    bar: float | None,
) -> None:
    """``item_filter`` (SQL) admits exactly the items ``eligible`` (Python) admits."""
    policy = RoutingPolicy(domain_levels=needs, default_level=default, match_language=match,
                           clearance_for=blocked, min_reputation=bar)  # fmt: skip
    profile = Profile(levels=levels, languages=languages, clearances=tuple(clearances),
                      reputation_upper=upper)  # fmt: skip
    rows = [
        (domain, language, sensitivity, min_level)
        for domain in DOMAINS
        for language in (None, "de-AT", "en", "fr-CA", "it")
        for sensitivity in SENSITIVITY
        for min_level in (0, 2)
    ]
    condition = item_filter(policy, profile)
    values = " UNION ALL ".join(
        f"SELECT {n} AS id, :d{n} AS domain, :l{n} AS language, :s{n} AS sensitivity, "
        f"{m} AS min_level"
        for n, (_, _, _, m) in enumerate(rows)
    )
    params: dict[str, Any] = {}
    for n, (domain, language, sensitivity, _) in enumerate(rows):
        params |= {f"d{n}": domain, f"l{n}": language, f"s{n}": sensitivity}
    with db.transaction(readonly=True) as session:
        raw = session_raw(session)
        query = Query(f"SELECT i.id FROM ({values}) i WHERE 1 = 1{condition.sql}", _Id)
        found = {int(row.id) for row in raw.all(query, **params, **condition.params)}
    expected = {n for n, row in enumerate(rows) if eligible(policy, profile, Requirements(*row))}
    assert found == expected


def test_a_contributor_confidently_below_the_bar_stops_receiving_that_domain(
    db: Database,
) -> None:
    from loupe.services.people.standing import record_evidence

    lucky, good = make_user(db, "lucky"), make_user(db, "good")
    policy = routed(domain_levels={"medical": 1}, min_reputation=0.7)
    project = make_project(db, config=policy, overlap=2,
                           members={lucky: "annotator", good: "annotator"})  # fmt: skip
    add_rows(db, project, MIXED[:2])
    grant_level(db, lucky, "medical", 3)  # passed the qualification test by luck
    grant_level(db, good, "medical", 3)
    now = utcnow()
    with db.transaction() as session:
        for n in range(30):  # half of the gold answers wrong
            record_evidence(session, user_id=lucky.id, domain="medical", project_id=project,
                            kind="gold", success=float(n % 2), ref=f"g{n}",
                            now=now - timedelta(minutes=40 - n))  # fmt: skip
    assert drain(db, lucky, project) == ["g1"]
    assert drain(db, good, project) == ["g1", "m1"]
    hold(db, lucky, project, 2)
    with db.transaction() as session, pytest.raises(PermissionDenied, match="reputation"):
        submit_label(session, lucky.actor, project, 2, "call")


def test_health_items_need_a_clearance_by_default(db: Database) -> None:
    """Regression (#12): items the gate classed as health went to uncleared annotators
    unless the project listed ``clearance_for``."""
    crowd, nurse = make_user(db, "crowd"), make_user(db, "nurse")
    project = make_project(db, overlap=2, members={crowd: "annotator", nurse: "annotator"})
    add_rows(db, project, MIXED[:2])  # g1 general, m1 medical (health)
    with db.transaction() as session:
        grant_clearance(
            session, Actor.system(), user_id=nurse.id, project_id=project, sensitivity="health"
        )
    assert drain(db, crowd, project) == ["g1"]
    assert sorted(drain(db, nurse, project)) == ["g1", "m1"]


def test_opening_health_to_everyone_is_an_audited_choice(db: Database) -> None:
    from loupe.db.privacy_models import AuditEvent
    from loupe.services.projects.definition import update_project

    crowd = make_user(db, "crowd")
    project = make_project(db, config=routed(), members={crowd: "annotator"})
    add_rows(db, project, MIXED[:2])
    assert sorted(drain(db, crowd, project)) == ["g1", "m1"]
    with db.transaction() as session:
        update_project(session, Actor.system(), project, config=routed(clearance_for=["health"]))
        update_project(session, Actor.system(), project, config=routed(clearance_for=["health"]))
    with db.transaction() as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("project.special%"))
                .order_by(AuditEvent.seq)
            )
        )
    assert actions == ["project.special_category_opened", "project.special_category_closed"]
