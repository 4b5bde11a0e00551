"""The escalation ladder: crowd -> domain expert -> adjudicator.

An item reaches the ladder when the quality engine escalates it (dynamic overlap
ran out of labels without a confident answer) or when a contributor working on
it flags it as needing an expert. Either way it leaves the crowd's queue.

* **Expert** stage: offered (under a lease) to contributors whose level in the
  item's domain reaches the project's ``routing.expert_level``, or whose reputation
  tier there is ``expert`` — and who may receive the item at all (clearances,
  language). The expert answers it, or passes it up with a reason.
* **Adjudicator** stage: a project manager (or an admin) decides. An adjudicator may
  also settle an item still at the expert stage — a domain without experts, or whose
  experts all labelled the item already, must not leave it waiting forever.

The final answer becomes the item's consensus (method ``expert`` or ``adjudicator``)
and a label of the one who gave it; each crowd labeller of the item gets a piece
of reputation evidence for agreeing with it or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from loupe.db.models import utcnow
from loupe.db.quality_models import Escalation
from loupe.db.queries.assignments import HELD_EXPERT_TASK, HOLDS_OR_LABELLED
from loupe.db.queries.consensus import CONSENSUS_CONFIDENCE
from loupe.db.queries.escalations import (
    ADJUDICATION_WAITING,
    EXPERT_AFTER,
    EXPERT_CANDIDATES,
    EXPERT_STILL_OPEN,
    FLAG_ITEM,
    ITEM_ESCALATION,
    OLDEST_ESCALATION,
    PASS_UP,
    RESOLVE_ESCALATION,
    ExpertCandidate,
    ItemEscalation,
    expert_candidates_count,
)
from loupe.db.queries.items import ITEM_FOR_ESCALATION, ItemForEscalation
from loupe.db.queries.memberships import MEMBER_ROLE
from loupe.db.raw import Raw
from loupe.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from loupe.label_schema import LabelSchema, validate_answer
from loupe.permissions import allowed
from loupe.routing import Profile
from loupe.services.access import (
    Actor,
    ProjectRef,
    authorize_project_fast,
    member_role,
    refuse_if_archived,
)
from loupe.services.compliance.gate import redact_answer, redact_text
from loupe.services.labelling import leases
from loupe.services.labelling.leases import ITEMS, Lessee, Queue
from loupe.services.labelling.lifecycle import ItemState, escalation_settled, item_escalated
from loupe.services.labelling.media_bounds import audio_duration_ms, image_size
from loupe.services.labelling.pairwise import blind
from loupe.services.labelling.tasks import release
from loupe.services.payments.ledger_keys import LedgerConfig
from loupe.services.people.eligibility import SqlFilter, item_filter, load_profile, require_eligible
from loupe.services.people.standing import expert_domains
from loupe.services.projects import webhooks
from loupe.services.projects.definition import project_schema
from loupe.services.projects.media_views import MediaEntry, media_of

__all__ = [
    "ExpertTask",
    "WaitingWork",
    "flag_item",
    "next_expert_task",
    "resolve_escalation",
    "waiting_work",
]

MAX_REASON = 500


def _past_escalation(row: ExpertCandidate | None) -> dict[str, Any] | None:
    # From the start, no clause; past a row, its (created_at, item_id).
    return None if row is None else {"after_at": row.created_at, "after_item": row.item_id}


# The experts' queue: escalated items at the expert stage, oldest first.
_QUEUE = Queue(
    rows=ITEMS,
    held=HELD_EXPERT_TASK,
    candidates=EXPERT_CANDIDATES,
    after=EXPERT_AFTER,
    order=OLDEST_ESCALATION,
    still_open=EXPERT_STILL_OPEN,
    resume=_past_escalation,
)


@dataclass(frozen=True, slots=True)
class ExpertTask:
    item_id: int
    external_id: str
    data: dict[str, Any]
    language: str | None
    domain: str
    reason: str
    lease_expires_at: datetime
    config_version: int
    media: list[MediaEntry] = field(default_factory=list)  # the gated images, if any


def _item(raw: Raw, project_id: int, item_id: int) -> ItemForEscalation:
    item = raw.one(ITEM_FOR_ESCALATION.locked(raw.postgres), item=item_id)
    if item is None or item.project_id != project_id:
        raise NotFound(
            f"item {item_id} does not exist in project {project_id}", details={"item_id": item_id}
        )
    return item


def flag_item(
    session: Session,
    actor: Actor,
    project_id: int,
    item_id: int,
    *,
    reason: str,
    now: datetime | None = None,
) -> Escalation:
    """Send an item one is working on (or labelled) to the experts. Idempotent."""
    raw = Raw(session)
    project = authorize_project_fast(raw, actor, "tasks.work", project_id)
    assert actor.user_id is not None
    now = now or utcnow()
    reason = reason.strip()
    if not 0 < len(reason) <= MAX_REASON:
        raise InvalidInput(
            f"reason: say in 1-{MAX_REASON} characters why this item needs an expert",
            details={"field": "reason"},
        )
    item = _item(raw, project_id, item_id)
    require_eligible(raw, project_schema(project).routing, actor.user_id, item_id, now=now)
    if item.is_gold:
        raise Conflict("gold items cannot be flagged", details={"item_id": item_id})
    existing = session.get(Escalation, item_id)
    # Flagging released the flagger's lease: their retry is answered, not refused.
    retry = existing is not None and existing.flagged_by == actor.user_id
    if not retry and not raw.all(
        HOLDS_OR_LABELLED, item=item_id, user=actor.user_id, now=raw.time(now)
    ):
        raise Conflict(
            f"you can flag only an item you hold a task for or labelled; item {item_id} is neither",
            details={"item_id": item_id},
        )
    if existing is not None:
        if existing.resolved_at is not None:
            raise Conflict(
                f"item {item_id} was already settled on the escalation ladder",
                details={"item_id": item_id},
            )
        return existing
    consensus = raw.one(CONSENSUS_CONFIDENCE, item=item_id)
    # A person's own words reach experts, managers and auditors: they pass the gate.
    gated = redact_text(session, project_id, reason).text
    raw.run(
        FLAG_ITEM,
        item=item_id,
        project=project_id,
        reason=f"flagged: {gated}",
        confidence=float(consensus.confidence) if consensus else 0.0,
        n=int(item.label_count),
        now=raw.time(now),
        user=actor.user_id,
    )
    item_escalated(raw, item_id)
    release(raw, item_id=item_id, user_id=actor.user_id)
    opened = {"item_id": item_id, "stage": "expert", "trigger": "flagged"}
    webhooks.emit(raw, project_id, "escalation.opened", opened, now=now)
    flagged = session.get(Escalation, item_id)
    assert flagged is not None
    return flagged


def _expert_filter(schema: LabelSchema, profile: Profile, domains: set[str]) -> SqlFilter:
    """The expert's domains, then their routing over items."""
    routing = item_filter(schema.routing, profile)
    names = {f"x{n}": domain for n, domain in enumerate(sorted(domains))}
    in_domains = f" AND i.domain IN ({', '.join(':' + name for name in names)})"
    return SqlFilter(in_domains + routing.sql, {**names, **routing.params})


def next_expert_task(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    lease_seconds: int,
    now: datetime | None = None,
) -> ExpertTask | None:
    """The next escalated item this expert should answer, reserved for ``lease_seconds``."""
    raw = Raw(session)
    project = authorize_project_fast(raw, actor, "tasks.work", project_id)
    assert actor.user_id is not None
    user = actor.user_id
    now = now or utcnow()
    schema = project_schema(project)
    profile = load_profile(raw, user, now=now, project_id=project_id)
    domains = expert_domains(raw, user, profile, schema.routing.expert_level)
    if not domains:
        raise PermissionDenied(
            f"escalated items go to experts: you need level {schema.routing.expert_level} "
            "or the expert reputation tier in a domain",
            details={"expert_level": schema.routing.expert_level},
        )
    expires = now + timedelta(seconds=lease_seconds)
    lessee = Lessee(project_id, user, raw.time(now), raw.time(expires))
    row = leases.lease_next(raw, _QUEUE, lessee, lambda: _expert_filter(schema, profile, domains))
    if row is None:
        return None
    item_id, reason = int(row.item_id), str(row.reason)
    item = _item(raw, project_id, item_id)
    return ExpertTask(
        item_id=item_id,
        external_id=str(item.external_id),
        data=blind(schema, raw.json_out(item.data)),
        language=item.language,
        domain=str(item.domain),
        reason=reason,
        lease_expires_at=expires,
        config_version=project.config_version,
        media=media_of(raw, item_id, fields=schema.media_fields(), listener=user),
    )


def resolve_escalation(
    session: Session,
    actor: Actor,
    project_id: int,
    item_id: int,
    *,
    answer: Any = None,
    pass_up: str | None = None,
    ledger: LedgerConfig | None = None,
    now: datetime | None = None,
) -> Escalation:
    """Answer an escalated item (expert or adjudicator), or pass it up (expert only).

    The answer settles the item: :func:`loupe.services.labelling.lifecycle.escalation_settled`.
    """
    raw = Raw(session)
    project = authorize_project_fast(raw, actor, "projects.read", project_id)
    refuse_if_archived("escalations.resolve", project_id, True if project.archived else None)
    now = now or utcnow()
    item = _item(raw, project_id, item_id)
    escalation = raw.one(ITEM_ESCALATION, item=item_id)
    if escalation is None or escalation.resolved_at is not None:
        raise NotFound(f"item {item_id} has no open escalation", details={"item_id": item_id})
    schema = project_schema(project)
    stage = str(escalation.stage)
    adjudicator = allowed(
        actor.role, "escalations.resolve", member_role=_member_role(raw, actor, project)
    )
    if stage == "expert" and not (adjudicator and pass_up is None):
        # An adjudicator may settle any rung: an item whose domain has no expert (or whose
        # experts all labelled it already) must not wait forever.
        _require_expert(raw, actor, project, schema, item_id, str(item.domain), now=now)
    elif stage != "expert" and not adjudicator:
        raise PermissionDenied(
            f"item {item_id} waits for an adjudicator: a project manager decides it",
            details={"action": "escalations.resolve", "stage": stage},
        )
    if pass_up is not None:
        _pass_up(raw, session, actor, escalation, item_id, project_id=project_id, note=pass_up)
        return _reload(session, item_id)
    canonical = _settling_answer(raw, session, schema, item, item_id, answer)
    decided_by = "expert" if stage == "expert" and not adjudicator else "adjudicator"
    state = _state(project, schema, item_id, item)
    labelled = escalation_settled(
        raw, session, state, user_id=actor.user_id, answer=canonical, decided_by=decided_by,
        ledger=ledger, now=now,
    )  # fmt: skip
    if labelled and actor.user_id is not None:
        release(raw, item_id=item_id, user_id=actor.user_id)
    raw.run(
        RESOLVE_ESCALATION,
        now=raw.time(now),
        user=actor.user_id,
        answer=raw.json(canonical),
        item=item_id,
    )
    settled = {"item_id": item_id, "decided_by": decided_by}
    webhooks.emit(raw, project_id, "escalation.settled", settled, answer=canonical, now=now)
    return _reload(session, item_id)


def _state(
    project: ProjectRef, schema: LabelSchema, item_id: int, item: ItemForEscalation
) -> ItemState:
    """The item for the lifecycle."""
    return ItemState(
        project=project,
        schema=schema,
        item_id=item_id,
        label_count=int(item.label_count),
        domain=str(item.domain),
        is_gold=bool(item.is_gold),
        is_complete=bool(item.is_complete),
    )


def _pass_up(
    raw: Raw,
    session: Session,
    actor: Actor,
    escalation: ItemEscalation,
    item_id: int,
    *,
    project_id: int,
    note: str,
) -> None:
    """An expert hands the item to the adjudicator, saying why (gated)."""
    if str(escalation.stage) != "expert":
        raise Conflict(
            "the adjudicator is the last rung of the ladder; give an answer",
            details={"stage": str(escalation.stage)},
        )
    note = note.strip()
    if not 0 < len(note) <= MAX_REASON:
        raise InvalidInput(
            f"pass_up: say in 1-{MAX_REASON} characters why an adjudicator must decide",
            details={"field": "pass_up"},
        )
    note = redact_text(session, project_id, note).text
    raw.run(PASS_UP, reason=f"{escalation.reason}; expert: {note}"[:2000], item=item_id)
    if actor.user_id is not None:
        release(raw, item_id=item_id, user_id=actor.user_id)


def _settling_answer(
    raw: Raw,
    session: Session,
    schema: LabelSchema,
    item: ItemForEscalation,
    item_id: int,
    answer: Any,
) -> Any:
    """The ladder's answer, validated against the item and gated."""
    if answer is None:
        raise InvalidInput(
            "answer: give the item's answer (or pass_up with a reason)",
            details={"field": "answer"},
        )
    canonical = validate_answer(
        schema.task,
        answer,
        text=schema.text_of(raw.json_out(item.data)),
        size=image_size(raw, schema, item_id),
        duration_ms=audio_duration_ms(raw, schema, item_id),
    )
    return redact_answer(session, int(item.project_id), schema.task, canonical)


def _reload(session: Session, item_id: int) -> Escalation:
    session.expire_all()
    escalation = session.get(Escalation, item_id)
    assert escalation is not None
    return escalation


def _member_role(raw: Raw, actor: Actor, project: ProjectRef) -> str | None:
    if actor.user_id is None:
        return None
    member = raw.one(MEMBER_ROLE, project=project.id, user=actor.user_id)
    return str(member.role) if member else None


def _require_expert(
    raw: Raw,
    actor: Actor,
    project: ProjectRef,
    schema: LabelSchema,
    item_id: int,
    domain: str,
    *,
    now: datetime,
) -> None:
    if actor.user_id is None or not allowed(
        actor.role, "tasks.work", member_role=_member_role(raw, actor, project)
    ):
        raise PermissionDenied(
            f"item {item_id} waits for a domain expert who works in this project",
            details={"stage": "expert"},
        )
    profile = load_profile(raw, actor.user_id, now=now, project_id=project.id)
    if domain not in expert_domains(raw, actor.user_id, profile, schema.routing.expert_level):
        raise PermissionDenied(
            f"item {item_id} waits for an expert in {domain}: you need level "
            f"{schema.routing.expert_level} or the expert reputation tier there",
            details={"stage": "expert", "domain": domain},
        )
    require_eligible(raw, schema.routing, actor.user_id, item_id, now=now)


@dataclass(frozen=True, slots=True)
class WaitingWork:
    """Escalated items waiting for this person: ``None`` where they have no such role."""

    expert: int | None  # what :func:`next_expert_task` would hand them, in their domains
    adjudicator: int | None  # passed up by experts, for those who resolve escalations


def waiting_work(
    session: Session, actor: Actor, project_id: int, *, now: datetime | None = None
) -> WaitingWork:
    """How many escalated items wait for ``actor`` at each stage (the pages' counts).

    The expert count is the candidates :func:`next_expert_task` chooses from (the one
    they hold among them), so the tab says what the queue will hand out.
    """
    raw = Raw(session)
    project = authorize_project_fast(raw, actor, "projects.read", project_id)
    now = now or utcnow()
    role = member_role(session, project_id, actor.user_id)
    adjudicator = None
    if allowed(actor.role, "escalations.resolve", member_role=role):
        waiting = raw.one(ADJUDICATION_WAITING, project=project_id)
        adjudicator = int(waiting.waiting) if waiting else 0
    expert = None
    user = actor.user_id
    if user is not None and allowed(actor.role, "tasks.work", member_role=role):
        schema = project_schema(project)
        profile = load_profile(raw, user, now=now, project_id=project_id)
        domains = expert_domains(raw, user, profile, schema.routing.expert_level)
        if domains:
            at = raw.time(now)
            routing = item_filter(schema.routing, profile)
            names = {f"x{n}": domain for n, domain in enumerate(sorted(domains))}
            in_domains = f" AND i.domain IN ({', '.join(':' + name for name in names)})"
            free = raw.one(
                expert_candidates_count(in_domains + routing.sql),
                project=project_id,
                user=user,
                now=at,
                **names,
                **routing.params,
            )
            expert = int(free.waiting) if free else 0
    return WaitingWork(expert=expert, adjudicator=adjudicator)
