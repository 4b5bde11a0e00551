"""Qualification tests: managers write them, contributors take them to earn a level."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from loupe.services.quality import qualifications
from loupe.web.deps import Reader, Writer
from loupe.web.params import Id
from loupe.web.schemas.qualifications import (
    AttemptOut,
    AttemptResultOut,
    QualificationIn,
    QualificationOut,
    SubmitAttemptIn,
)

router = APIRouter(tags=["qualifications"])


@router.post(
    "/projects/{project_id}/qualifications",
    response_model=QualificationOut,
    status_code=status.HTTP_201_CREATED,
)
def create_test(project_id: Id, body: QualificationIn, ctx: Writer) -> QualificationOut:
    """Create a qualification test from questions with known answers (project managers)."""
    test = qualifications.create_test(
        ctx.session,
        ctx.actor,
        project_id,
        name=body.name,
        domain=body.domain,
        level=body.level,
        pass_mark=body.pass_mark,
        max_attempts=body.max_attempts,
        retry_after_hours=body.retry_after_hours,
        valid_days=body.valid_days,
        questions=[question.model_dump() for question in body.questions],
    )
    return QualificationOut.model_validate(test)


@router.get("/projects/{project_id}/qualifications", response_model=list[QualificationOut])
def list_tests(project_id: Id, ctx: Reader) -> list[QualificationOut]:
    """The project's qualification tests (never their answers)."""
    tests = qualifications.list_tests(ctx.session, ctx.actor, project_id)
    return [QualificationOut.model_validate(test) for test in tests]


@router.post(
    "/projects/{project_id}/qualifications/{test_id}/attempts",
    response_model=AttemptOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": AttemptOut, "description": "Your unfinished attempt, again"}},
)
def start_attempt(project_id: Id, test_id: Id, ctx: Writer, response: Response) -> AttemptOut:
    """Start an attempt: its questions in a shuffled order, without answers.

    Asking again before submitting returns the same attempt (200). Refused (409) while
    you hold the test's level, when your attempts are used up, or until the wait after
    a failed attempt is over (the message says when).
    """
    attempt = qualifications.start_attempt(ctx.session, ctx.actor, project_id, test_id)
    if not attempt.created:
        response.status_code = status.HTTP_200_OK
    return AttemptOut.model_validate(attempt)


@router.post(
    "/projects/{project_id}/qualifications/{test_id}/attempts/{attempt_id}",
    response_model=AttemptResultOut,
)
def submit_attempt(
    project_id: Id, test_id: Id, attempt_id: Id, body: SubmitAttemptIn, ctx: Writer
) -> AttemptResultOut:
    """Submit your answers by question index; a pass grants the test's level in its domain."""
    result = qualifications.submit_attempt(
        ctx.session, ctx.actor, project_id, test_id, attempt_id, body.answers
    )
    return AttemptResultOut.model_validate(result)
