from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.factories import Person, make_project, make_user, snapshot

from loupe.db.contributor_models import ContributorDomain
from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.db.privacy_models import AuditEvent
from loupe.db.raw import Raw
from loupe.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from loupe.services.access import Actor
from loupe.services.people import profiles
from loupe.services.people.eligibility import load_profile
from loupe.services.quality import qualifications
from loupe.services.quality.qualifications import Attempt, AttemptResult

# Answer keys that appear nowhere else, so a leak of an answer is easy to spot.
SCHEMA: dict[str, Any] = {
    "task": {
        "type": "single_choice",
        "labels": [{"key": "ans_alpha"}, {"key": "ans_beta"}, {"key": "ans_gamma"}],
    }
}
ANSWERS = ["ans_alpha", "ans_beta", "ans_gamma", "ans_alpha", "ans_beta"]
QUESTIONS: list[dict[str, Any]] = [
    {"data": {"text": f"question {i}"}, "answer": answer} for i, answer in enumerate(ANSWERS)
]


@pytest.fixture
def setup(db: Database) -> tuple[Person, Person, int]:
    manager, ann = make_user(db, "mgr", "manager"), make_user(db, "ann")
    project = make_project(db, members={manager: "manager", ann: "annotator"}, config=SCHEMA)
    return manager, ann, project


def _create(db: Database, manager: Person, project: int, **overrides: Any) -> int:
    options: dict[str, Any] = {
        "name": "medical basics",
        "domain": "medical",
        "level": 1,
        "pass_mark": 0.8,
        "max_attempts": 2,
        "retry_after_hours": 24,
        "valid_days": None,
        "questions": QUESTIONS,
    } | overrides
    with db.transaction() as session:
        return qualifications.create_test(session, manager.actor, project, **options).id


def _start(db: Database, who: Person, project: int, test: int, now: datetime) -> Attempt:
    with db.transaction() as session:
        return qualifications.start_attempt(session, who.actor, project, test, now=now)


def _submit(
    db: Database,
    who: Person,
    project: int,
    test: int,
    attempt: int,
    answers: dict[int, Any],
    now: datetime,
) -> AttemptResult:
    with db.transaction() as session:
        return qualifications.submit_attempt(
            session, who.actor, project, test, attempt, answers, now=now
        )


def _right(n_wrong: int = 0) -> dict[int, Any]:
    """Answers with the first ``n_wrong`` questions wrong."""
    wrong = {"ans_alpha": "ans_beta", "ans_beta": "ans_gamma", "ans_gamma": "ans_alpha"}
    return {i: wrong[a] if i < n_wrong else a for i, a in enumerate(ANSWERS)}


def _levels(db: Database, user_id: int, now: datetime) -> dict[str, int]:
    with db.transaction(readonly=True) as session:
        return dict(load_profile(Raw(session), user_id, now=now).levels)


def test_create_and_list_never_show_answers(
    db: Database, setup: tuple[Person, Person, int]
) -> None:
    manager, ann, project = setup
    test = _create(db, manager, project, valid_days=30)
    with db.transaction(readonly=True) as session:
        listed = qualifications.list_tests(session, ann.actor, project)
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert event is not None
        action, details, event_project = event.action, event.details, event.project_id
    assert [(t.id, t.name, t.domain, t.level, t.n_questions, t.valid_days) for t in listed] == [
        (test, "medical basics", "medical", 1, 5, 30)
    ]
    assert "ans_" not in repr(listed)
    assert action == "qualification.create"
    assert details["n_questions"] == 5 and event_project == project


@pytest.mark.parametrize(
    ("overrides", "field", "hint"),
    [
        ({"questions": QUESTIONS[:2]}, "questions", "give 3 to 1000 questions"),
        (
            {"questions": [*QUESTIONS[:2], {"data": {"text": "q"}, "answer": "dance"}]},
            "questions[2].answer",
            "'dance' is not a label",
        ),
        (
            {"questions": [*QUESTIONS[:2], {"data": {"body": "q"}, "answer": "ans_beta"}]},
            "questions[2].data.text",
            "must be a non-empty string",
        ),
        ({"questions": [*QUESTIONS[:2], {"answer": "ans_beta"}]}, "questions[2]", '"data"'),
        ({"domain": "Medical"}, "domain", "lower-case tag"),
        ({"domain": "ana-ruiz"}, "domain", "looks like personal data (PERSON)"),
        ({"level": 0}, "level", "1 qualified"),
        ({"level": 4}, "level", "1 qualified"),
        ({"pass_mark": 0}, "pass_mark", "above 0 and at most 1"),
        ({"pass_mark": 1.5}, "pass_mark", "above 0 and at most 1"),
        ({"max_attempts": 0}, "max_attempts", "tries allowed"),
        ({"retry_after_hours": -1}, "retry_after_hours", "hours between tries"),
        ({"valid_days": 0}, "valid_days", "days a granted level lasts"),
        ({"name": "  "}, "name", "1 to 100 characters"),
    ],
)
def test_create_refuses_bad_input_and_changes_nothing(
    db: Database,
    setup: tuple[Person, Person, int],
    overrides: dict[str, Any],
    field: str,
    hint: str,
) -> None:
    manager, _, project = setup
    before = snapshot(db)
    with pytest.raises(InvalidInput) as info:
        _create(db, manager, project, **overrides)
    assert info.value.details["field"] == field
    assert info.value.message.startswith(field)
    assert hint in info.value.message
    assert snapshot(db) == before


def test_create_needs_project_rights_and_a_unique_name(
    db: Database, setup: tuple[Person, Person, int]
) -> None:
    manager, ann, project = setup
    _create(db, manager, project)
    before = snapshot(db)
    with pytest.raises(PermissionDenied):
        _create(db, ann, project, name="other")
    with pytest.raises(Conflict, match="already has a qualification test named"):
        _create(db, manager, project)
    with pytest.raises(NotFound):
        _create(db, manager, 999, name="other")
    assert snapshot(db) == before


def test_a_pass_grants_the_level_until_it_expires(
    db: Database, setup: tuple[Person, Person, int]
) -> None:
    manager, ann, project = setup
    test = _create(db, manager, project, level=2, valid_days=30)
    now = utcnow()
    attempt = _start(db, ann, project, test, now)
    assert attempt.created
    assert sorted(q.index for q in attempt.questions) == [0, 1, 2, 3, 4]
    assert {q.index: q.data for q in attempt.questions} == {
        i: q["data"] for i, q in enumerate(QUESTIONS)
    }
    assert "ans_" not in repr(attempt)
    result = _submit(db, ann, project, test, attempt.id, _right(n_wrong=1), now)
    assert "ans_" not in repr(result)
    assert (result.passed, result.n_correct, result.n_total, result.score) == (True, 4, 5, 0.8)
    assert (result.level, result.level_expires_at) == (2, now + timedelta(days=30))
    assert (result.attempts_left, result.retry_after) == (0, None)
    with db.transaction(readonly=True) as session:
        row = session.get(ContributorDomain, (ann.id, "medical"))
        assert row is not None and row.source == f"qualification:{test}"
        profile = profiles.get_profile(session, ann.actor, ann.id, now=now)
    record = profile.qualifications[0]
    assert (record.test_id, record.attempts, record.passed, record.best_score) == (
        test,
        1,
        True,
        0.8,
    )
    assert _levels(db, ann.id, now + timedelta(days=29)) == {"medical": 2}
    assert _levels(db, ann.id, now + timedelta(days=31)) == {}
    with pytest.raises(Conflict, match="already qualified"):
        _start(db, ann, project, test, now + timedelta(days=1))
    # Once the level has lapsed the test may be taken again: a pass starts a new count.
    again = _start(db, ann, project, test, now + timedelta(days=31))
    assert again.created and again.id != attempt.id


def test_an_unfinished_attempt_comes_back_in_the_same_shuffled_order(
    db: Database, setup: tuple[Person, Person, int]
) -> None:
    manager, ann, project = setup
    many = [{"data": {"text": f"q{i}"}, "answer": "ans_alpha"} for i in range(12)]
    test = _create(db, manager, project, questions=many, max_attempts=5, retry_after_hours=0)
    now = utcnow()
    first = _start(db, ann, project, test, now)
    again = _start(db, ann, project, test, now)
    assert (again.id, again.created, again.questions) == (first.id, False, first.questions)
    orders = [[q.index for q in first.questions]]
    for _ in range(3):
        _submit(db, ann, project, test, first.id, {}, now)
        first = _start(db, ann, project, test, now)
        orders.append([q.index for q in first.questions])
    assert all(sorted(order) == list(range(12)) for order in orders)
    assert len({tuple(order) for order in orders}) > 1


def test_retry_policy_waits_after_a_failure_and_limits_attempts(
    db: Database, setup: tuple[Person, Person, int]
) -> None:
    manager, ann, project = setup
    test = _create(db, manager, project, max_attempts=2, retry_after_hours=24)
    now = utcnow()
    attempt = _start(db, ann, project, test, now)
    failed = _submit(db, ann, project, test, attempt.id, _right(n_wrong=2), now)
    assert (failed.passed, failed.n_correct, failed.level) == (False, 3, 0)
    assert (failed.attempts_left, failed.retry_after) == (1, now + timedelta(hours=24))
    before = snapshot(db)
    with pytest.raises(Conflict) as info:
        _start(db, ann, project, test, now + timedelta(hours=23))
    assert "you may retry" in info.value.message
    assert (now + timedelta(hours=24)).isoformat(timespec="seconds") in info.value.message
    assert snapshot(db) == before
    attempt = _start(db, ann, project, test, now + timedelta(hours=24))
    later = now + timedelta(hours=25)
    last = _submit(db, ann, project, test, attempt.id, {0: "ans_alpha"}, later)
    assert (last.passed, last.n_correct, last.attempts_left, last.retry_after) == (
        False,
        1,
        0,
        None,
    )
    with pytest.raises(Conflict, match="no attempts left: you used all 2 attempts"):
        _start(db, ann, project, test, now + timedelta(days=30))
    with db.transaction(readonly=True) as session:
        record = profiles.get_profile(session, ann.actor, ann.id).qualifications[0]
    assert (record.attempts, record.passed, record.best_score, record.in_progress) == (
        2,
        False,
        0.6,
        False,
    )


def test_a_pass_never_lowers_a_level(db: Database, setup: tuple[Person, Person, int]) -> None:
    manager, ann, project = setup
    admin = make_user(db, "root", "admin")
    test = _create(db, manager, project, level=2, valid_days=10)
    now = utcnow()
    attempt = _start(db, ann, project, test, now)
    with db.transaction() as session:  # an expert level granted while the attempt runs
        profiles.grant_domain(session, admin.actor, ann.id, "medical", 3)
    result = _submit(db, ann, project, test, attempt.id, _right(), now)
    assert (result.passed, result.level, result.level_expires_at) == (True, 3, None)
    assert _levels(db, ann.id, now + timedelta(days=100)) == {"medical": 3}


def test_a_pass_raises_a_lower_level(db: Database, setup: tuple[Person, Person, int]) -> None:
    manager, ann, project = setup
    admin = make_user(db, "root", "admin")
    with db.transaction() as session:
        profiles.grant_domain(session, admin.actor, ann.id, "medical", 1)
    test = _create(db, manager, project, level=2)
    now = utcnow()
    attempt = _start(db, ann, project, test, now)
    assert _submit(db, ann, project, test, attempt.id, _right(), now).level == 2
    assert _levels(db, ann.id, now) == {"medical": 2}


def test_submit_validates_answers_by_question(
    db: Database, setup: tuple[Person, Person, int]
) -> None:
    manager, ann, project = setup
    test = _create(db, manager, project)
    attempt = _start(db, ann, project, test, utcnow())
    before = snapshot(db)
    for answers, field, hint in [
        ({2: "dance"}, "answers.2", "'dance' is not a label of this project"),
        ({7: "ans_alpha"}, "answers", "use the question indexes 0 to 4"),
        ({-1: "ans_alpha"}, "answers", "use the question indexes 0 to 4"),
    ]:
        with pytest.raises(InvalidInput) as info:
            _submit(db, ann, project, test, attempt.id, answers, utcnow())
        assert info.value.details["field"] == field
        assert info.value.message.startswith(field)
        assert hint in info.value.message
    assert snapshot(db) == before
    # Missing (or null) answers count as wrong.
    result = _submit(db, ann, project, test, attempt.id, {0: "ans_alpha", 1: None}, utcnow())
    assert (result.n_correct, result.passed) == (1, False)


def test_only_the_owner_submits_once(db: Database, setup: tuple[Person, Person, int]) -> None:
    manager, ann, project = setup
    other = make_user(db, "other")
    auditor = make_user(db, "aud", "auditor")
    with db.transaction() as session:
        from loupe.services.projects.definition import add_member

        add_member(session, Actor.system(), project, user_id=other.id, role="annotator")
        add_member(session, Actor.system(), project, user_id=auditor.id, role="auditor")
    test = _create(db, manager, project)
    attempt = _start(db, ann, project, test, utcnow())
    before = snapshot(db)
    with pytest.raises(PermissionDenied, match="is not yours"):
        _submit(db, other, project, test, attempt.id, _right(), utcnow())
    with pytest.raises(PermissionDenied):  # auditors may not take tests
        _start(db, auditor, project, test, utcnow())
    with pytest.raises(NotFound):
        _submit(db, ann, project, test, 999, _right(), utcnow())
    with pytest.raises(NotFound):
        _start(db, ann, project, 999, utcnow())
    assert snapshot(db) == before
    _submit(db, ann, project, test, attempt.id, _right(), utcnow())
    with pytest.raises(Conflict, match="already graded"):
        _submit(db, ann, project, test, attempt.id, _right(), utcnow())


def test_each_graded_question_is_gold_evidence(
    db: Database, setup: tuple[Person, Person, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, ann, project = setup
    test = _create(db, manager, project, domain="legal")
    recorded: list[dict[str, Any]] = []
    monkeypatch.setattr(
        qualifications, "record_evidence", lambda session, **kwargs: recorded.append(kwargs)
    )
    now = utcnow()
    attempt = _start(db, ann, project, test, now)
    _submit(db, ann, project, test, attempt.id, _right(n_wrong=2), now)
    assert recorded == [
        {
            "user_id": ann.id,
            "domain": "legal",
            "project_id": project,
            "kind": "gold",
            "success": 0.0 if index < 2 else 1.0,
            "ref": f"qualification:{test}:{attempt.id}:{index}",
            "now": now,
        }
        for index in range(5)
    ]
    with db.transaction(readonly=True) as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert event is not None
        action, details = event.action, event.details
    assert action == "qualification.attempt"
    assert details == {
        "test_id": test,
        "attempt_id": attempt.id,
        "n_correct": 3,
        "n_total": 5,
        "passed": False,
        "level": 0,
    }
