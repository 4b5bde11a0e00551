"""Contributor profiles: domain levels, languages, clearances and qualifications.

A contributor's level in a domain (1 qualified, 2 advanced, 3 expert) is earned by
passing a qualification test (``loupe.services.quality.qualifications``) or granted by a
manager; either may expire, and an expired level counts as none
(``loupe.services.people.eligibility.load_profile``). Languages are lower-case primary subtags
(``"pt-BR"`` is stored as ``"pt"``), declared by contributors themselves or by a manager.

Contributors read their own profile; managers and admins (``contributors.manage``)
read anyone's, grant and revoke levels — never to themselves — and every grant,
revocation and language change is audited.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from loupe.db.contributor_models import (
    ContributorDomain,
    ContributorLanguage,
    QualificationAttempt,
    QualificationTest,
)
from loupe.db.models import User, utcnow
from loupe.db.privacy_models import Clearance
from loupe.errors import InvalidInput, NotFound, PermissionDenied
from loupe.formats import (
    DOMAIN_PATTERN,
    LANGUAGE_PATTERN,
    domain_identifiers,
    domain_identifiers_message,
)
from loupe.routing import language_tag
from loupe.services.access import Actor, authorize
from loupe.services.compliance import audit_log

__all__ = [
    "MAX_LANGUAGES",
    "ClearanceHeld",
    "ContributorProfile",
    "DomainLevel",
    "QualificationRecord",
    "check_domain",
    "check_expiry",
    "get_profile",
    "grant_domain",
    "list_contributors",
    "revoke_domain",
    "set_languages",
]

MAX_LANGUAGES = 50
LEVELS = (1, 2, 3)


@dataclass(frozen=True, slots=True)
class DomainLevel:
    """A level held in a domain; ``source`` is ``"manager"`` or ``"qualification:<test id>"``."""

    domain: str
    level: int
    source: str
    granted_by: int | None
    expires_at: datetime | None
    expired: bool


@dataclass(frozen=True, slots=True)
class ClearanceHeld:
    project_id: int
    sensitivity: str
    expires_at: datetime | None
    expired: bool


@dataclass(frozen=True, slots=True)
class QualificationRecord:
    """A contributor's attempts at one qualification test (scores, never answers)."""

    test_id: int
    project_id: int
    name: str
    domain: str
    level: int
    attempts: int  # finished ones
    passed: bool  # any attempt passed
    best_score: float | None
    last_finished_at: datetime | None
    in_progress: bool


@dataclass(frozen=True, slots=True)
class ContributorProfile:
    """What Loupe knows of a contributor's expertise (see the module docstring)."""

    user_id: int
    username: str
    role: str
    domains: tuple[DomainLevel, ...]
    languages: tuple[str, ...]
    clearances: tuple[ClearanceHeld, ...]
    qualifications: tuple[QualificationRecord, ...]


def check_domain(domain: str, *, field: str = "domain", new: bool = False) -> str:
    """``domain`` if it is a domain tag such as ``medical``; else :class:`InvalidInput`.

    ``new``: the domain is being set (a grant, a qualification test), so it is refused
    too when it holds personal data (:func:`loupe.formats.domain_identifiers`). Filtering
    by or revoking a domain stored before that check existed still works."""
    if not DOMAIN_PATTERN.match(domain):
        raise InvalidInput(
            f"{field}: {domain!r} is not a domain; use a lower-case tag such as 'medical' "
            "(a letter, then up to 31 letters, digits, '_' or '-')",
            details={"field": field},
        )
    if new and (found := domain_identifiers(domain)):
        raise InvalidInput(
            f"{field}: {domain_identifiers_message(found)}",
            details={"field": field, "detected": list(found)},
        )
    return domain


def check_expiry(expires_at: datetime | None, now: datetime, *, field: str = "expires_at") -> None:
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        raise InvalidInput(
            f"{field}: must be a future time with a timezone (e.g. 2030-01-01T00:00:00Z)",
            details={"field": field},
        )


def _require_self_or_manager(actor: Actor, user_id: int) -> None:
    if actor.user_id is None or actor.user_id != user_id:
        authorize(actor, "contributors.manage")


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist", details={"user_id": user_id})
    return user


def get_profile(
    session: Session, actor: Actor, user_id: int, *, now: datetime | None = None
) -> ContributorProfile:
    """``user_id``'s profile: their own, or anyone's with ``contributors.manage``."""
    _require_self_or_manager(actor, user_id)
    return _profiles(session, [_user(session, user_id)], now=now or utcnow())[0]


def list_contributors(
    session: Session,
    actor: Actor,
    *,
    domain: str | None = None,
    after_id: int = 0,
    limit: int = 100,
    now: datetime | None = None,
) -> list[ContributorProfile]:
    """Profiles in user-id order (keyset pagination); with ``domain``, only users holding a
    level in it (expired ones included, flagged, so that they can be renewed)."""
    authorize(actor, "contributors.manage")
    query = select(User).where(User.id > after_id).order_by(User.id).limit(limit)
    if domain is not None:
        check_domain(domain)
        query = query.where(
            User.id.in_(select(ContributorDomain.user_id).where(ContributorDomain.domain == domain))
        )
    return _profiles(session, session.scalars(query).all(), now=now or utcnow())


def _profiles(
    session: Session, users: Sequence[User], *, now: datetime
) -> list[ContributorProfile]:
    """Profiles for ``users`` in four queries, whatever their number."""
    ids = [user.id for user in users]
    if not ids:
        return []
    domains: dict[int, list[DomainLevel]] = defaultdict(list)
    for row in session.scalars(
        select(ContributorDomain)
        .where(ContributorDomain.user_id.in_(ids))
        .order_by(ContributorDomain.user_id, ContributorDomain.domain)
    ):
        domains[row.user_id].append(
            DomainLevel(
                domain=row.domain,
                level=row.level,
                source=row.source,
                granted_by=row.granted_by,
                expires_at=row.expires_at,
                expired=row.expires_at is not None and row.expires_at <= now,
            )
        )
    languages: dict[int, list[str]] = defaultdict(list)
    for user_id, language in session.execute(
        select(ContributorLanguage.user_id, ContributorLanguage.language)
        .where(ContributorLanguage.user_id.in_(ids))
        .order_by(ContributorLanguage.user_id, ContributorLanguage.language)
    ):
        languages[user_id].append(language)
    clearances: dict[int, list[ClearanceHeld]] = defaultdict(list)
    for clearance in session.scalars(
        select(Clearance).where(Clearance.user_id.in_(ids)).order_by(Clearance.id)
    ):
        clearances[clearance.user_id].append(
            ClearanceHeld(
                project_id=clearance.project_id,
                sensitivity=clearance.sensitivity,
                expires_at=clearance.expires_at,
                expired=clearance.expires_at is not None and clearance.expires_at <= now,
            )
        )
    qualifications = _qualification_records(session, ids)
    return [
        ContributorProfile(
            user_id=user.id,
            username=user.username,
            role=user.role,
            domains=tuple(domains[user.id]),
            languages=tuple(languages[user.id]),
            clearances=tuple(clearances[user.id]),
            qualifications=tuple(qualifications[user.id]),
        )
        for user in users
    ]


def _qualification_records(
    session: Session, ids: list[int]
) -> dict[int, list[QualificationRecord]]:
    rows = session.execute(
        select(QualificationAttempt, QualificationTest)
        .join(QualificationTest, QualificationTest.id == QualificationAttempt.test_id)
        .where(QualificationAttempt.user_id.in_(ids))
        .order_by(QualificationAttempt.user_id, QualificationTest.id, QualificationAttempt.id)
    ).all()
    grouped: dict[tuple[int, int], list[QualificationAttempt]] = defaultdict(list)
    tests: dict[int, QualificationTest] = {}
    for attempt, test in rows:
        grouped[(attempt.user_id, test.id)].append(attempt)
        tests[test.id] = test
    records: dict[int, list[QualificationRecord]] = defaultdict(list)
    for (user_id, test_id), attempts in grouped.items():
        test = tests[test_id]
        finished = [a for a in attempts if a.finished_at is not None]
        scores = [(a.n_correct or 0) / a.n_total for a in finished if a.n_total]
        records[user_id].append(
            QualificationRecord(
                test_id=test.id,
                project_id=test.project_id,
                name=test.name,
                domain=test.domain,
                level=test.level,
                attempts=len(finished),
                passed=any(a.passed for a in finished),
                best_score=max(scores) if scores else None,
                last_finished_at=max(
                    (a.finished_at for a in finished if a.finished_at), default=None
                ),
                in_progress=len(finished) < len(attempts),
            )
        )
    return records


def set_languages(
    session: Session, actor: Actor, user_id: int, languages: Iterable[str]
) -> tuple[str, ...]:
    """Replace ``user_id``'s languages (their own, or anyone's for managers); returns the
    stored set: primary subtags, lower-cased, without repeats, sorted."""
    _require_self_or_manager(actor, user_id)
    tags: set[str] = set()
    for index, language in enumerate(languages):
        if not isinstance(language, str) or not LANGUAGE_PATTERN.match(language):
            raise InvalidInput(
                f"languages[{index}]: {language!r} is not a language tag; "
                "use a tag such as 'de', 'en' or 'pt-BR'",
                details={"field": "languages", "index": index},
            )
        tag = language_tag(language)
        assert tag is not None  # the pattern guarantees a primary subtag
        tags.add(tag)
    if len(tags) > MAX_LANGUAGES:
        raise InvalidInput(
            f"languages: {len(tags)} languages; list at most {MAX_LANGUAGES}",
            details={"field": "languages", "max": MAX_LANGUAGES},
        )
    _user(session, user_id)
    stored = tuple(sorted(tags))
    previous = session.scalars(
        select(ContributorLanguage.language)
        .where(ContributorLanguage.user_id == user_id)
        .order_by(ContributorLanguage.language)
    ).all()
    if tuple(previous) != stored:
        session.execute(delete(ContributorLanguage).where(ContributorLanguage.user_id == user_id))
        session.add_all(ContributorLanguage(user_id=user_id, language=tag) for tag in stored)
        session.flush()
        audit_log.record(
            session,
            actor,
            "contributor.languages",
            target=f"user:{user_id}",
            details={"languages": list(stored), "previous": list(previous)},
        )
    return stored


def grant_domain(
    session: Session,
    actor: Actor,
    user_id: int,
    domain: str,
    level: int,
    expires_at: datetime | None = None,
    *,
    now: datetime | None = None,
) -> ContributorDomain:
    """Set ``user_id``'s level in ``domain`` (a manager's grant replaces any earlier level,
    so it may also lower one). Never to oneself; audited."""
    authorize(actor, "contributors.manage")
    now = now or utcnow()
    check_domain(domain, new=True)
    if isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS:
        raise InvalidInput(
            f"level: must be 1 (qualified), 2 (advanced) or 3 (expert), got {level!r}; "
            "revoke the domain to take a level away",
            details={"field": "level", "allowed": list(LEVELS)},
        )
    check_expiry(expires_at, now)
    if actor.user_id is not None and actor.user_id == user_id:
        raise PermissionDenied(
            "nobody may grant a level to themselves; ask another manager or an admin",
            details={"action": "contributors.manage"},
        )
    _user(session, user_id)
    row = session.get(ContributorDomain, (user_id, domain))
    previous = None if row is None else row.level
    if row is None:
        row = ContributorDomain(user_id=user_id, domain=domain)
        session.add(row)
    row.level = level
    row.source = "manager"
    row.granted_by = actor.user_id
    row.expires_at = expires_at
    row.created_at = now
    session.flush()
    audit_log.record(
        session,
        actor,
        "contributor.grant",
        target=f"user:{user_id}",
        details={
            "domain": domain,
            "level": level,
            "previous_level": previous,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return row


def revoke_domain(session: Session, actor: Actor, user_id: int, domain: str) -> None:
    """Take ``user_id``'s level in ``domain`` away at once (however it was earned). Audited."""
    authorize(actor, "contributors.manage")
    check_domain(domain)
    row = session.get(ContributorDomain, (user_id, domain))
    if row is None:
        raise NotFound(
            f"user {user_id} holds no level in {domain!r}",
            details={"user_id": user_id, "domain": domain},
        )
    audit_log.record(
        session,
        actor,
        "contributor.revoke",
        target=f"user:{user_id}",
        details={"domain": domain, "level": row.level, "source": row.source},
    )
    session.delete(row)
    session.flush()
