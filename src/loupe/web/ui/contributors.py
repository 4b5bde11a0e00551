"""``GET /me``: a contributor's own page — profile, reputation and qualification tests.

The profile (domains with levels and expiry, languages, clearances) comes from
``loupe.services.people.profiles``; the reputation per domain, recomputed now with the
rule that set its tier and every input behind it, from ``loupe.services.people.standing``
(the API's ``GET /me/reputation?explain=true``); the tests are those of the projects
where one may take them (``qualifications.take``), each linking to its page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from loupe.db.models import utcnow
from loupe.errors import Unauthenticated
from loupe.permissions import allowed
from loupe.reputation.tiers import TIER_UNLOCKS
from loupe.services.access import member_role
from loupe.services.people import profiles, standing
from loupe.services.people.profiles import QualificationRecord
from loupe.services.people.standing import DomainReputation
from loupe.services.projects import definition
from loupe.services.quality import qualifications
from loupe.services.quality.qualifications import Qualification
from loupe.web.deps import Reader
from loupe.web.ui.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

EVIDENCE_SHOWN = 50
KINDS = {
    "gold": "gold answer",
    "review_received": "review of your label",
    "review_check": "your review, checked",
    "consensus": "agreement with the settled answer",
}
UNLOCKS = {"review": "reviewing others' labels", "expert_tasks": "expert tasks"}
LEVELS = {1: "qualified", 2: "advanced", 3: "expert"}


@dataclass(frozen=True, slots=True)
class Evidence:
    kind: str
    ref: str
    at: datetime
    success: float
    weight: float  # decayed, with its kind's weight


@dataclass(frozen=True, slots=True)
class Standing:
    domain: str
    tier: str
    rule: str
    unlocks: list[str]
    pay_multiplier: str
    mean: float
    lower: float
    upper: float
    effective_n: float
    evidence: list[Evidence]  # newest first, at most EVIDENCE_SHOWN
    evidence_total: int


@dataclass(frozen=True, slots=True)
class TestRow:
    project_id: int
    project_name: str
    test: Qualification
    status: str  # in words
    can_start: bool


def _standing(row: DomainReputation) -> Standing:
    inputs = sorted(row.reputation.contributions, key=lambda c: c.evidence.at, reverse=True)
    return Standing(
        domain=row.domain,
        tier=row.tier.tier,
        rule=row.tier.rule,
        unlocks=[UNLOCKS.get(name, name) for name in row.unlocks],
        pay_multiplier=f"×{row.pay_multiplier_bp / 10_000:.2f}",
        mean=row.reputation.mean,
        lower=row.reputation.lower,
        upper=row.reputation.upper,
        effective_n=row.reputation.effective_n,
        evidence=[
            Evidence(
                kind=KINDS.get(c.evidence.kind, c.evidence.kind),
                ref=c.evidence.ref,
                at=c.evidence.at,
                success=c.evidence.success,
                weight=c.weight,
            )
            for c in inputs[:EVIDENCE_SHOWN]
        ],
        evidence_total=len(inputs),
    )


def attempt_status(
    test: Qualification, record: QualificationRecord | None, *, now: datetime
) -> tuple[str, bool]:
    """The test's state for this contributor in words, and whether they may start it now
    (the API has the last word: it also refuses while one holds the level)."""
    if record is None:
        return "not taken yet", True
    if record.in_progress:
        return "an attempt is open: finish it", True
    score = f"best score {record.best_score:.0%}" if record.best_score is not None else ""
    if record.passed:
        return f"passed ({score})", False
    if record.attempts >= test.max_attempts:
        return f"not passed ({score}); no attempts left — ask a project manager", False
    retry = (record.last_finished_at or now) + timedelta(hours=test.retry_after_hours)
    left = test.max_attempts - record.attempts
    if retry > now:
        when = retry.strftime("%Y-%m-%d %H:%M UTC")
        return f"not passed ({score}); {left} attempt(s) left, the next from {when}", False
    return f"not passed ({score}); {left} attempt(s) left", True


@router.get("/me", response_class=HTMLResponse)
def me_page(request: Request, ctx: Reader) -> HTMLResponse:
    current = ctx.browser_session
    actor = current.actor
    if actor.user_id is None:  # pragma: no cover - browser sessions belong to users
        raise Unauthenticated("sign in as a user to see your profile")
    now = utcnow()
    profile = profiles.get_profile(ctx.session, actor, actor.user_id, now=now)
    rows = [_standing(row) for row in standing.explain(ctx.session, actor, actor.user_id)]
    records = {record.test_id: record for record in profile.qualifications}
    tests = []
    for project in definition.list_projects(ctx.session, actor, after_id=0, limit=200):
        role = member_role(ctx.session, project.id, actor.user_id)
        if not allowed(actor.role, "qualifications.take", member_role=role):
            continue
        for test in qualifications.list_tests(ctx.session, actor, project.id):
            status, can_start = attempt_status(test, records.get(test.id), now=now)
            tests.append(TestRow(project.id, project.name, test, status, can_start))
    return page(
        request,
        "me.html",
        current,
        title="My profile",
        nav_current="me",
        profile=profile,
        standing=rows,
        tests=tests,
        levels=LEVELS,
        tiers=[(tier, TIER_UNLOCKS[tier]) for tier in TIER_UNLOCKS],
        evidence_shown=EVIDENCE_SHOWN,
    )
