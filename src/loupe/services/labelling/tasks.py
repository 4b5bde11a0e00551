"""Handing out work: ``next task`` under a lease, and skip.

The invariants, under any concurrency and on both backends:

* an item never collects more labels than the project's overlap, and
* an annotator never labels the same item twice.

The second is a unique constraint on ``labels``. The first holds because every
change to an item's labels or leases happens while that item's row is locked:
on SQLite every write transaction begins ``IMMEDIATE`` (one writer at a time);
on PostgreSQL ``next task`` takes the candidate row ``FOR UPDATE SKIP LOCKED``
and counts its leases again once it holds the lock, and ``submit`` locks the
item ``FOR UPDATE`` before counting.

The queue walk (:data:`_QUEUE`, issue 18; docs/architecture.md, "The task queue"):

* **Plan-stable.** The queue is read in windows of :data:`WINDOW` item ids, each
  starting at the project's next open item (a ``LIMIT 1`` on the partial index
  ``ix_items_open``, which holds open items only). However the planner estimates the
  filters (before the first ``ANALYZE`` after a bulk import it takes 100,000 rows for
  a few dozen), a window bounds what any plan reads or sorts per statement.
* **No locks kept on passed-over items, and "nothing left" only when nothing is**:
  :func:`loupe.services.labelling.leases.claim` (a savepoint per candidate; a second,
  waiting pass over rows the ``SKIP LOCKED`` pass skipped).

Items the privacy gate withheld are never handed out; ``data`` is what the gate
stored for annotators (redacted), so no raw content passes through here.

This is the hot path, written in plain SQL (see ``loupe.db.raw``).
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from loupe.db.models import utcnow
from loupe.db.queries.assignments import (
    HELD_TASK,
    OTHER_LEASES_ON_ITEM,
    RELEASE_AND_LEASE_ITEM,
    RENEW_LEASE,
)
from loupe.db.queries.items import (
    FIRST_BY_ITEM_ID,
    FIRST_OPEN_ITEM,
    GOLD_CANDIDATES,
    ITEM_FOR_TAKE,
    ITEM_FOR_TASK,
    ITEM_ROUTING_NEEDS,
    TASK_CANDIDATES,
    TASK_IN_WINDOW,
    TASK_STILL_OPEN,
)
from loupe.db.queries.labels import USER_LABELLED_ITEM
from loupe.db.queries.skips import SKIP_ITEM
from loupe.db.raw import Query, Raw
from loupe.errors import Conflict, NotFound
from loupe.label_schema import LabelSchema
from loupe.permissions import require
from loupe.routing import Profile, Requirements, RoutingPolicy, eligible
from loupe.services.access import Actor, ProjectRef, authorize_project_fast, member_role
from loupe.services.labelling import leases
from loupe.services.labelling.leases import ITEMS, Lessee, Queue, Window
from loupe.services.labelling.pairwise import blind
from loupe.services.people.eligibility import SqlFilter, item_filter, load_profile, require_eligible
from loupe.services.projects.definition import project_schema
from loupe.services.projects.media_views import MediaEntry, media_of

__all__ = [
    "Task",
    "active_leases",
    "item_ref",
    "next_task",
    "release",
    "skip_task",
    "take_item",
]

# Item ids per window of the queue walk: what any plan may read (or sort) per statement.
WINDOW = 1024
# Gold tasks are mixed in at random so annotators cannot tell them apart by position.
_rng = random.SystemRandom()

# The crowd's queue: open items under the overlap, by id, in windows (:overlap bound).
_QUEUE = Queue(
    rows=ITEMS,
    held=HELD_TASK,
    candidates=TASK_CANDIDATES,
    after=TASK_IN_WINDOW,
    order=FIRST_BY_ITEM_ID,
    still_open=TASK_STILL_OPEN,
    upsert=RELEASE_AND_LEASE_ITEM,
    window=Window(FIRST_OPEN_ITEM, WINDOW),
)


@dataclass(frozen=True, slots=True)
class Task:
    item_id: int
    external_id: str
    data: dict[str, Any]
    language: str | None
    domain: str
    lease_expires_at: datetime
    config_version: int
    media: list[MediaEntry] = field(default_factory=list)  # the gated images, if any


def item_ref(key: bytes, project_id: int, item_id: int) -> str:
    """How the workspace names an item to its annotator: a keyed hash, not the item id.

    Item ids follow import order, so gold imported as one batch has ids of its own (the
    lowest, when it came first) that would stand out among the ids an annotator sees;
    the ref is the same for an item whoever asks, and says nothing of when it came.

    >>> item_ref(b"k", 1, 2) == item_ref(b"k", 1, 2) != item_ref(b"k", 1, 3)
    True
    >>> len(item_ref(b"k", 1, 2))
    9
    """
    message = f"loupe-item-ref:{project_id}:{item_id}".encode()
    return "#" + hmac.new(key, message, hashlib.sha256).hexdigest()[:8]


def active_leases(raw: Raw, item_id: int, *, now: datetime, exclude_user: int) -> int:
    """Unexpired leases on an item held by anyone but ``exclude_user``."""
    row = raw.one(OTHER_LEASES_ON_ITEM, item=item_id, now=raw.time(now), user=exclude_user)
    return int(row.leases) if row else 0


def _task(
    raw: Raw,
    item_id: int,
    expires: datetime,
    config_version: int,
    schema: LabelSchema,
    listener: int | None,
) -> Task:
    item = raw.one(ITEM_FOR_TASK, item=item_id)
    assert item is not None
    return Task(
        item_id=item_id,
        external_id=item.external_id,
        data=blind(schema, raw.json_out(item.data)),
        language=item.language,
        domain=item.domain,
        lease_expires_at=expires,
        config_version=config_version,
        media=media_of(raw, item_id, fields=schema.media_fields(), listener=listener),
    )


def next_task(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    lease_seconds: int,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> Task | None:
    """The next item this annotator should label, reserved for ``lease_seconds``.

    An annotator who asks again before labelling gets the same item back (with
    the lease renewed). ``None`` means nothing is left for them. ``rng`` draws whether
    a gold task comes next (default: the system's, so people cannot predict it; a
    simulation passes a seeded one to be repeatable).
    """
    raw = Raw(session)
    project = authorize_project_fast(raw, actor, "tasks.work", project_id)
    assert actor.user_id is not None  # the policy admits only members
    now = now or utcnow()
    expires = now + timedelta(seconds=lease_seconds)
    lessee = Lessee(project_id, actor.user_id, raw.time(now), raw.time(expires))
    schema = project_schema(project)
    profile = load_profile(raw, lessee.user, now=now, project_id=project_id)
    routing = item_filter(schema.routing, profile)
    item_id = _held(raw, lessee, schema.routing, profile)
    if item_id is None:
        item_id = _gold(raw, lessee, schema, routing, rng or _rng)
    if item_id is None:
        item_id = _claim(raw, lessee, _passes(schema.routing, profile, routing, project.overlap))
    if item_id is None:
        return None
    return _task(raw, item_id, expires, project.config_version, schema, lessee.user)


def _held(raw: Raw, lessee: Lessee, policy: RoutingPolicy, profile: Profile) -> int | None:
    """The item ``lessee`` holds, its lease renewed, while they may still have it."""
    held = leases.held(raw, _QUEUE, lessee)
    if held is None:
        return None
    item_id = int(held.item_id)
    if not _eligible(raw, policy, profile, item_id):
        release(raw, item_id=item_id, user_id=lessee.user)  # e.g. a clearance expired meanwhile
        return None
    raw.run(RENEW_LEASE, expires=lessee.expires, id=held.id)
    return item_id


def _gold(
    raw: Raw, lessee: Lessee, schema: LabelSchema, routing: SqlFilter, rng: random.Random
) -> int | None:
    """A gold item, leased, when the draw says one comes next and one is left."""
    gold_rate = schema.quality.gold_rate
    if gold_rate <= 0 or rng.random() >= gold_rate:
        return None
    gold = raw.one(
        Query(GOLD_CANDIDATES.sql + routing.sql + FIRST_BY_ITEM_ID, GOLD_CANDIDATES.row),
        project=lessee.project,
        true=True,
        false=False,
        user=lessee.user,
        **routing.params,
    )
    if gold is None:
        return None
    item_id = int(gold.item_id)
    leases.lease(raw, ITEMS, item_id, lessee)
    return item_id


def _passes(
    policy: RoutingPolicy, profile: Profile, routing: SqlFilter, overlap: int
) -> list[SqlFilter]:
    """The queue's filters, in the order they are tried."""
    params = {**routing.params, "overlap": overlap}
    passes = [SqlFilter(routing.sql, params)]
    own = sorted(domain for domain, level in profile.levels.items() if level >= 1)
    if policy.priority == "expertise" and own:
        # Specialists first get items of their own domains, then anything else they may do.
        names = {f"own{n}": domain for n, domain in enumerate(own)}
        mine = f" AND i.domain IN ({', '.join(':' + name for name in names)})"
        passes.insert(0, SqlFilter(routing.sql + mine, {**params, **names}))
    return passes


def _claim(raw: Raw, lessee: Lessee, passes: list[SqlFilter]) -> int | None:
    """Lease the first open item of the first pass that has one; ``None`` if none has
    (see :func:`loupe.services.labelling.leases.claim`)."""
    for where in passes:
        row = leases.claim(raw, _QUEUE, lessee, where)
        if row is not None:
            leases.take(raw, _QUEUE, row.item_id, lessee)
            return int(row.item_id)
    return None


def take_item(
    session: Session,
    actor: Actor,
    project_id: int,
    item_id: int,
    *,
    lease_seconds: int,
    now: datetime | None = None,
) -> Task:
    """Lease one chosen item to ``actor``, a manager of the project, to label it.

    Staff label specific items (a seed set, a fix) where annotators only take what
    :func:`next_task` serves them. The item must be one the actor could be served:
    routing-eligible, not withheld by the privacy gate, not gold (gold is served at
    random, never chosen), not labelled by them yet and with room under the overlap;
    otherwise :class:`Conflict` (:class:`PermissionDenied` for non-managers), and no
    lease is written.
    """
    raw = Raw(session)
    project = authorize_project_fast(raw, actor, "tasks.work", project_id)
    assert actor.user_id is not None
    member = member_role(session, project_id, actor.user_id)
    require(actor.role, "projects.update", member_role=member, in_project=True)
    now = now or utcnow()
    schema = project_schema(project)
    _require_takeable(raw, project, schema, actor.user_id, item_id, now=now)
    expires = now + timedelta(seconds=lease_seconds)
    lessee = Lessee(project_id, actor.user_id, raw.time(now), raw.time(expires))
    leases.lease(raw, ITEMS, item_id, lessee)
    return _task(raw, item_id, expires, project.config_version, schema, actor.user_id)


def _require_takeable(
    raw: Raw, project: ProjectRef, schema: LabelSchema, user: int, item_id: int, *, now: datetime
) -> None:
    """Refuse (:class:`NotFound`, :class:`Conflict`) an item :func:`take_item` may not lease."""
    item = raw.one(ITEM_FOR_TAKE.locked(raw.postgres), item=item_id)
    if item is None or item.project_id != project.id:
        raise NotFound(
            f"item {item_id} does not exist in project {project.id}",
            details={"item_id": item_id},
        )
    details: dict[str, Any] = {"item_id": item_id}
    if item.is_gold:
        raise Conflict(
            f"item {item_id} is gold: gold items are served at random by the next task, "
            "never chosen",
            details={**details, "reason": "gold"},
        )
    if item.withheld:
        raise Conflict(
            f"item {item_id} is withheld by the privacy gate",
            details={**details, "reason": "withheld"},
        )
    if raw.one(USER_LABELLED_ITEM, item=item_id, user=user) is not None:
        raise Conflict(
            f"you already labelled item {item_id}", details={**details, "reason": "labelled"}
        )
    require_eligible(raw, schema.routing, user, item_id, now=now)
    if item.is_complete or int(item.label_count) + active_leases(
        raw, item_id, now=now, exclude_user=user
    ) >= (project.overlap):
        raise Conflict(
            f"item {item_id} already has the {project.overlap} label(s) it needs, or others "
            "hold it",
            details={**details, "reason": "full", "overlap": project.overlap},
        )


def _eligible(raw: Raw, policy: RoutingPolicy, profile: Profile, item_id: int) -> bool:
    needs = raw.one(ITEM_ROUTING_NEEDS, item=item_id)
    if needs is None:
        return False
    requirements = Requirements(needs.domain, needs.language, needs.sensitivity, needs.min_level)
    return eligible(policy, profile, requirements)


def release(raw: Raw, *, item_id: int, user_id: int) -> None:
    raw.run(ITEMS.release, item=item_id, user=user_id)


def skip_task(session: Session, actor: Actor, project_id: int, item_id: int) -> None:
    """The annotator passes on this item: it is never offered to them again."""
    raw = Raw(session)
    project = authorize_project_fast(raw, actor, "tasks.work", project_id)
    assert actor.user_id is not None
    item = raw.one(ITEM_FOR_TASK, item=item_id)
    if item is None or item.project_id != project_id:
        raise NotFound(
            f"item {item_id} does not exist in project {project_id}",
            details={"item_id": item_id},
        )
    now = utcnow()
    require_eligible(raw, project_schema(project).routing, actor.user_id, item_id, now=now)
    raw.run(SKIP_ITEM, item=item_id, user=actor.user_id, now=raw.time(now))
    release(raw, item_id=item_id, user_id=actor.user_id)
