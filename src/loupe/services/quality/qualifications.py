"""Qualification tests: earn a level in a domain by answering known questions.

A project manager writes a test: a name, a domain, the level a pass grants (1
qualified, 2 advanced, 3 expert), a pass mark (the share of questions right), a
retry policy (``max_attempts`` tries, ``retry_after_hours`` to wait after a failure)
and how long the level lasts (``valid_days``; ``None``: until revoked). Its
questions are items with known answers in the project's label schema.

A project member takes it: :func:`start_attempt` hands out the questions (index and
data, never the answers) in an order shuffled per attempt; :func:`submit_attempt`
grades the answers, records one piece of gold evidence per question for reputation,
and on a pass grants the level — raising, never lowering, what the contributor holds.
A pass starts a new count of attempts, so a level that expires or is revoked can be
earned again; while it is held, the test is closed to its holder.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.contributor_models import ContributorDomain, QualificationAttempt, QualificationTest
from loupe.db.models import User, utcnow
from loupe.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from loupe.label_schema import LabelSchema, Pairwise, validate_answer
from loupe.services.access import Actor, authorize_project
from loupe.services.compliance import audit_log
from loupe.services.compliance.gate import redact_fields
from loupe.services.people.profiles import check_domain
from loupe.services.people.standing import record_evidence
from loupe.services.projects.definition import project_schema

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_PASS_MARK",
    "DEFAULT_RETRY_AFTER_HOURS",
    "MIN_QUESTIONS",
    "Attempt",
    "AttemptResult",
    "Qualification",
    "Question",
    "create_test",
    "list_tests",
    "start_attempt",
    "submit_attempt",
]

MIN_QUESTIONS = 3
MAX_QUESTIONS = 1000
DEFAULT_PASS_MARK = 0.8
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_RETRY_AFTER_HOURS = 24
MAX_ATTEMPTS = 100
MAX_RETRY_AFTER_HOURS = 24 * 365
MAX_VALID_DAYS = 365 * 10


@dataclass(frozen=True, slots=True)
class Qualification:
    """A qualification test as contributors see it (its answers stay in the database)."""

    id: int
    project_id: int
    name: str
    domain: str
    level: int
    pass_mark: float
    max_attempts: int
    retry_after_hours: int
    valid_days: int | None
    n_questions: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Question:
    """A question of an attempt: answer it under its ``index``."""

    index: int
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Attempt:
    id: int
    test_id: int
    user_id: int
    started_at: datetime
    questions: tuple[Question, ...]
    created: bool  # False: the unfinished attempt the contributor had already started


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """A graded attempt. It says how many answers were right, never which or what."""

    attempt_id: int
    test_id: int
    passed: bool
    n_correct: int
    n_total: int
    score: float
    pass_mark: float
    domain: str
    level: int  # the level now held in ``domain`` (0: none)
    level_expires_at: datetime | None
    attempts_left: int  # further attempts allowed (0 after a pass: closed while the level lasts)
    retry_after: datetime | None  # when the next attempt may start (None: no attempt is left)


def _info(test: QualificationTest) -> Qualification:
    return Qualification(
        id=test.id,
        project_id=test.project_id,
        name=test.name,
        domain=test.domain,
        level=test.level,
        pass_mark=test.pass_mark,
        max_attempts=test.max_attempts,
        retry_after_hours=test.retry_after_hours,
        valid_days=test.valid_days,
        n_questions=len(test.questions),
        created_at=test.created_at,
    )


def _int_in(value: Any, field: str, low: int, high: int, meaning: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(
            f"{field}: must be {meaning} ({low} to {high}), got {value!r}",
            details={"field": field, "min": low, "max": high},
        )
    return value


def _pass_mark(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise InvalidInput(
            f"pass_mark: must be the share of questions to get right, above 0 and at most 1 "
            f"(e.g. 0.8), got {value!r}",
            details={"field": "pass_mark"},
        )
    return float(value)


def _questions(schema: LabelSchema, questions: Sequence[Any]) -> list[dict[str, Any]]:
    if not MIN_QUESTIONS <= len(questions) <= MAX_QUESTIONS:
        raise InvalidInput(
            f"questions: give {MIN_QUESTIONS} to {MAX_QUESTIONS} questions, got {len(questions)}",
            details={"field": "questions", "min": MIN_QUESTIONS, "max": MAX_QUESTIONS},
        )
    needed = [schema.text_field]
    if isinstance(schema.task, Pairwise):
        needed += [schema.task.a_field, schema.task.b_field]
    stored: list[dict[str, Any]] = []
    for index, question in enumerate(questions):
        where = f"questions[{index}]"
        if not isinstance(question, Mapping) or set(question) != {"data", "answer"}:
            raise InvalidInput(
                f'{where}: send a question as {{"data": {{...}}, "answer": ...}}',
                details={"field": where, "index": index},
            )
        data = question["data"]
        if not isinstance(data, dict):
            raise InvalidInput(
                f"{where}.data: must be an object with the item's fields",
                details={"field": f"{where}.data", "index": index},
            )
        for name in needed:
            if not isinstance(data.get(name), str) or not data[name].strip():
                raise InvalidInput(
                    f"{where}.data.{name}: must be a non-empty string "
                    "(the project's items show this field)",
                    details={"field": f"{where}.data.{name}", "index": index},
                )
        try:
            answer = validate_answer(schema.task, question["answer"], text=data[schema.text_field])
        except InvalidInput as exc:
            raise InvalidInput(
                f"{where}.{exc.message}",
                details={**exc.details, "field": f"{where}.answer", "index": index},
            ) from None
        stored.append({"data": data, "answer": answer})
    return stored


def create_test(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    name: str,
    domain: str,
    level: int,
    pass_mark: float = DEFAULT_PASS_MARK,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    retry_after_hours: int = DEFAULT_RETRY_AFTER_HOURS,
    valid_days: int | None = None,
    questions: Sequence[Any],
) -> Qualification:
    """Create a qualification test in the project (its managers; audited).

    Each question is ``{"data": {...}, "answer": ...}``: ``data`` holds the fields an
    item of the project would (at least its text field) and ``answer`` is valid under
    the project's label schema.
    """
    project = authorize_project(session, actor, "projects.update", project_id)
    name = name.strip()
    if not 0 < len(name) <= 100:
        raise InvalidInput("name: use 1 to 100 characters", details={"field": "name"})
    check_domain(domain, new=True)
    _int_in(level, "level", 1, 3, "the level a pass grants: 1 qualified, 2 advanced, 3 expert")
    mark = _pass_mark(pass_mark)
    _int_in(max_attempts, "max_attempts", 1, MAX_ATTEMPTS, "the number of tries allowed")
    _int_in(retry_after_hours, "retry_after_hours", 0, MAX_RETRY_AFTER_HOURS, "hours between tries")
    if valid_days is not None:
        _int_in(valid_days, "valid_days", 1, MAX_VALID_DAYS, "days a granted level lasts, or null")
    # The questions' data is shown to every contributor who takes the test: it passes
    # the project's privacy gate, as an imported item's data does, before it is stored.
    stored = [
        {"data": redact_fields(session, project_id, question["data"]), "answer": question["answer"]}
        for question in _questions(project_schema(project), questions)
    ]
    taken = select(QualificationTest.id).where(
        QualificationTest.project_id == project_id, QualificationTest.name == name
    )
    if session.scalar(taken) is not None:
        raise Conflict(
            f"project {project_id} already has a qualification test named {name!r}",
            details={"field": "name"},
        )
    test = QualificationTest(
        project_id=project_id,
        name=name,
        domain=domain,
        level=level,
        pass_mark=mark,
        max_attempts=max_attempts,
        retry_after_hours=retry_after_hours,
        valid_days=valid_days,
        questions=stored,
    )
    session.add(test)
    session.flush()
    audit_log.record(
        session,
        actor,
        "qualification.create",
        project_id=project_id,
        target=f"qualification:{test.id}",
        details={
            "name": name,
            "domain": domain,
            "level": level,
            "pass_mark": repr(mark),  # audit details hold no floats
            "max_attempts": max_attempts,
            "retry_after_hours": retry_after_hours,
            "valid_days": valid_days,
            "n_questions": len(stored),
        },
    )
    return _info(test)


def list_tests(session: Session, actor: Actor, project_id: int) -> list[Qualification]:
    """The project's qualification tests (any member), without their answers."""
    authorize_project(session, actor, "projects.read", project_id)
    rows = session.scalars(
        select(QualificationTest)
        .where(QualificationTest.project_id == project_id)
        .order_by(QualificationTest.id)
    )
    return [_info(test) for test in rows]


def _test(session: Session, project_id: int, test_id: int) -> QualificationTest:
    test = session.get(QualificationTest, test_id)
    if test is None or test.project_id != project_id:
        raise NotFound(
            f"qualification test {test_id} does not exist in project {project_id}",
            details={"test_id": test_id},
        )
    return test


def _held(session: Session, user_id: int, domain: str, now: datetime) -> ContributorDomain | None:
    """The unexpired level ``user_id`` holds in ``domain``, if any."""
    row = session.get(ContributorDomain, (user_id, domain))
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return row


def _period(session: Session, test_id: int, user_id: int) -> list[QualificationAttempt]:
    """The finished attempts since the user's last pass (a pass starts a new count)."""
    finished = session.scalars(
        select(QualificationAttempt)
        .where(
            QualificationAttempt.test_id == test_id,
            QualificationAttempt.user_id == user_id,
            QualificationAttempt.finished_at.is_not(None),
        )
        .order_by(QualificationAttempt.id)
    ).all()
    passes = [i for i, attempt in enumerate(finished) if attempt.passed]
    return list(finished[passes[-1] + 1 :] if passes else finished)


def _next_start(test: QualificationTest, period: list[QualificationAttempt]) -> datetime | None:
    """When another attempt may start after ``period``'s last (``None``: at once)."""
    if not period or period[-1].finished_at is None:
        return None
    return period[-1].finished_at + timedelta(hours=test.retry_after_hours)


def _order(attempt_id: int, n: int) -> list[int]:
    """The attempt's question order: shuffled, and the same every time it is asked for."""
    return random.Random(f"loupe-qualification-attempt:{attempt_id}").sample(range(n), n)


def _attempt(test: QualificationTest, attempt: QualificationAttempt, *, created: bool) -> Attempt:
    questions = tuple(
        Question(index=index, data=test.questions[index]["data"])
        for index in _order(attempt.id, attempt.n_total)
    )
    return Attempt(
        id=attempt.id,
        test_id=test.id,
        user_id=attempt.user_id,
        started_at=attempt.started_at,
        questions=questions,
        created=created,
    )


def start_attempt(
    session: Session, actor: Actor, project_id: int, test_id: int, *, now: datetime | None = None
) -> Attempt:
    """Start an attempt at the test, or return the one the contributor left unfinished.

    Refused (:class:`Conflict`) while the contributor holds the test's level in its
    domain, when their attempts are used up, and until ``retry_after_hours`` have
    passed since a failure (the message says when).
    """
    authorize_project(session, actor, "qualifications.take", project_id)
    assert actor.user_id is not None  # only members may take tests, and members are users
    user_id = actor.user_id
    now = now or utcnow()
    test = _test(session, project_id, test_id)
    # Serialises a user's starts on PostgreSQL (SQLite writers are serialised already).
    session.get(User, user_id, with_for_update={"key_share": True})
    unfinished = session.scalar(
        select(QualificationAttempt)
        .where(
            QualificationAttempt.test_id == test_id,
            QualificationAttempt.user_id == user_id,
            QualificationAttempt.finished_at.is_(None),
        )
        .order_by(QualificationAttempt.id)
        .limit(1)
    )
    if unfinished is not None:
        return _attempt(test, unfinished, created=False)
    held = _held(session, user_id, test.domain, now)
    if held is not None and held.level >= test.level:
        raise Conflict(
            f"already qualified: you hold level {held.level} in {test.domain}, and this test "
            f"grants level {test.level}",
            details={"test_id": test_id, "domain": test.domain, "level": held.level},
        )
    period = _period(session, test_id, user_id)
    if len(period) >= test.max_attempts:
        raise Conflict(
            f"no attempts left: you used all {test.max_attempts} attempts at "
            f"qualification test {test.name!r}; ask a project manager",
            details={"test_id": test_id, "max_attempts": test.max_attempts},
        )
    retry_at = _next_start(test, period)
    if retry_at is not None and now < retry_at:
        raise Conflict(
            f"you may retry qualification test {test.name!r} from "
            f"{retry_at.isoformat(timespec='seconds')} ({test.retry_after_hours} hours after "
            "your last attempt)",
            details={"test_id": test_id, "retry_after": retry_at.isoformat()},
        )
    attempt = QualificationAttempt(
        test_id=test_id, user_id=user_id, started_at=now, n_total=len(test.questions)
    )
    session.add(attempt)
    session.flush()
    return _attempt(test, attempt, created=True)


def _grade(
    schema: LabelSchema, test: QualificationTest, n_total: int, answers: Mapping[int, Any]
) -> list[bool]:
    """Per question, whether the answer given is the known one (missing: wrong)."""
    canonical: dict[int, Any] = {}
    for index, answer in answers.items():
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n_total:
            raise InvalidInput(
                f"answers: {index!r} is not a question of this attempt; "
                f"use the question indexes 0 to {n_total - 1}",
                details={"field": "answers", "index": index},
            )
        if answer is None:
            continue
        text = test.questions[index]["data"].get(schema.text_field)
        try:
            canonical[index] = validate_answer(
                schema.task, answer, text=text if isinstance(text, str) else None
            )
        except InvalidInput as exc:
            raise InvalidInput(
                f"answers.{index}: {exc.message.removeprefix('answer: ')}",
                details={**exc.details, "field": f"answers.{index}", "index": index},
            ) from None
    return [
        index in canonical and canonical[index] == test.questions[index]["answer"]
        for index in range(n_total)
    ]


def _grant(
    session: Session, test: QualificationTest, user_id: int, now: datetime
) -> ContributorDomain:
    """Give ``user_id`` the test's level: raise or renew what they hold, never lower it."""
    expires = now + timedelta(days=test.valid_days) if test.valid_days else None
    source = f"qualification:{test.id}"
    row = session.get(ContributorDomain, (user_id, test.domain))
    if row is None:
        row = ContributorDomain(user_id=user_id, domain=test.domain)
        session.add(row)
    else:
        current = row.level if row.expires_at is None or row.expires_at > now else 0
        if current > test.level:
            return row
        lasts = row.expires_at is None or (expires is not None and expires <= row.expires_at)
        if current == test.level and lasts:
            return row  # what they hold already lasts at least as long
    row.level = test.level
    row.source = source
    row.granted_by = None
    row.expires_at = expires
    row.created_at = now
    session.flush()
    return row


def submit_attempt(
    session: Session,
    actor: Actor,
    project_id: int,
    test_id: int,
    attempt_id: int,
    answers: Mapping[int, Any],
    *,
    now: datetime | None = None,
) -> AttemptResult:
    """Grade the attempt (its owner only): ``answers`` maps question index to answer."""
    project = authorize_project(session, actor, "qualifications.take", project_id)
    assert actor.user_id is not None
    now = now or utcnow()
    test = _test(session, project_id, test_id)
    attempt = session.get(QualificationAttempt, attempt_id, with_for_update=True)
    if attempt is None or attempt.test_id != test_id:
        raise NotFound(
            f"attempt {attempt_id} does not exist for qualification test {test_id}",
            details={"attempt_id": attempt_id},
        )
    if attempt.user_id != actor.user_id:
        raise PermissionDenied(
            f"attempt {attempt_id} is not yours; start your own attempt",
            details={"attempt_id": attempt_id},
        )
    if attempt.finished_at is not None:
        raise Conflict(
            f"attempt {attempt_id} was already graded; start a new attempt to try again",
            details={"attempt_id": attempt_id},
        )
    schema = project_schema(project)
    correct = _grade(schema, test, attempt.n_total, answers)
    n_correct = sum(correct)
    score = n_correct / attempt.n_total
    passed = score >= test.pass_mark
    attempt.finished_at = now
    attempt.n_correct = n_correct
    attempt.passed = passed
    session.flush()
    for index, right in enumerate(correct):
        record_evidence(
            session,
            user_id=attempt.user_id,
            domain=test.domain,
            project_id=project_id,
            kind="gold",
            success=1.0 if right else 0.0,
            ref=f"qualification:{test_id}:{attempt_id}:{index}",
            now=now,
        )
    if passed:
        _grant(session, test, attempt.user_id, now)
    held = _held(session, attempt.user_id, test.domain, now)
    # After a pass the test is closed to its holder: no attempt is left while the level lasts.
    left = (
        0 if passed else max(0, test.max_attempts - len(_period(session, test_id, attempt.user_id)))
    )
    audit_log.record(
        session,
        actor,
        "qualification.attempt",
        project_id=project_id,
        target=f"user:{attempt.user_id}",
        details={
            "test_id": test_id,
            "attempt_id": attempt_id,
            "n_correct": n_correct,
            "n_total": attempt.n_total,
            "passed": passed,
            "level": held.level if held else 0,
        },
        now=now,
    )
    return AttemptResult(
        attempt_id=attempt_id,
        test_id=test_id,
        passed=passed,
        n_correct=n_correct,
        n_total=attempt.n_total,
        score=score,
        pass_mark=test.pass_mark,
        domain=test.domain,
        level=held.level if held else 0,
        level_expires_at=held.expires_at if held else None,
        attempts_left=left,
        retry_after=now + timedelta(hours=test.retry_after_hours) if left else None,
    )
