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

Items the privacy gate withheld are never handed out; ``data`` is what the gate
stored for annotators (redacted), so no raw content passes through here.

This is the hot path, written in plain SQL (see ``loupe.db.raw``).
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from loupe.db.models import utcnow
from loupe.db.raw import Raw
from loupe.errors import Conflict, NotFound
from loupe.label_schema import LabelSchema
from loupe.policy import require
from loupe.routing import Profile, Requirements, RoutingPolicy, eligible
from loupe.services.access import Actor, ProjectRef, authorize_project_fast, member_role
from loupe.services.pairwise import blind
from loupe.services.projects import project_schema
from loupe.services.routing import SqlFilter, item_filter, load_profile, require_eligible

__all__ = [
    "Task",
    "active_leases",
    "item_ref",
    "next_task",
    "release",
    "skip_task",
    "take_item",
]

CANDIDATE_TRIES = 16
# Gold tasks are mixed in at random so annotators cannot tell them apart by position.
_rng = random.SystemRandom()

_HELD = (
    "SELECT id, item_id FROM assignments "
    "WHERE user_id = :user AND project_id = :project AND expires_at > :now ORDER BY id LIMIT 1"
)
_CANDIDATE = (
    "SELECT i.id FROM items i "
    "WHERE i.project_id = :project AND i.is_complete = :false AND i.withheld = :false "
    "AND i.is_gold = :false AND i.id > :after "
    "AND i.label_count + (SELECT count(*) FROM assignments a WHERE a.item_id = i.id "
    "    AND a.expires_at > :now AND a.user_id <> :user) < :overlap "
    "AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = i.id AND l.user_id = :user) "
    "AND NOT EXISTS (SELECT 1 FROM skips s WHERE s.item_id = i.id AND s.user_id = :user)"
)
_FIRST = " ORDER BY i.id LIMIT 1"
_LOCK = " FOR UPDATE OF i SKIP LOCKED"
# Gold items are offered to everyone (outside the overlap) until they answered them.
_GOLD_CANDIDATE = (
    "SELECT i.id FROM items i "
    "WHERE i.project_id = :project AND i.is_gold = :true AND i.withheld = :false "
    "AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = i.id AND l.user_id = :user) "
    "AND NOT EXISTS (SELECT 1 FROM skips s WHERE s.item_id = i.id AND s.user_id = :user)"
)
_LEASES = (
    "SELECT count(*) FROM assignments "
    "WHERE item_id = :item AND expires_at > :now AND user_id <> :user"
)
_LABEL_COUNT = "SELECT label_count FROM items WHERE id = :item"
_RELEASE = "DELETE FROM assignments WHERE item_id = :item AND user_id = :user"
_LEASE = (
    "INSERT INTO assignments (project_id, item_id, user_id, expires_at, created_at) "
    "VALUES (:project, :item, :user, :expires, :now)"
)
_RENEW = "UPDATE assignments SET expires_at = :expires WHERE id = :id"
_ITEM = "SELECT external_id, data, language, domain, project_id FROM items WHERE id = :item"
_REQUIREMENTS = "SELECT domain, language, sensitivity, min_level FROM items WHERE id = :item"
_TAKE = "SELECT project_id, is_gold, withheld, is_complete, label_count FROM items WHERE id = :item"
_LABELLED = "SELECT 1 FROM labels WHERE item_id = :item AND user_id = :user"
_SKIP = (
    "INSERT INTO skips (item_id, user_id, created_at) VALUES (:item, :user, :now) "
    "ON CONFLICT (item_id, user_id) DO NOTHING"
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
    row = raw.one(_LEASES, item=item_id, now=raw.time(now), user=exclude_user)
    return int(row[0]) if row else 0


def _task(
    raw: Raw, item_id: int, expires: datetime, config_version: int, schema: LabelSchema
) -> Task:
    row = raw.one(_ITEM, item=item_id)
    assert row is not None
    return Task(
        item_id=item_id,
        external_id=row[0],
        data=blind(schema, raw.json_out(row[1])),
        language=row[2],
        domain=row[3],
        lease_expires_at=expires,
        config_version=config_version,
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
    user = actor.user_id
    now = now or utcnow()
    expires = now + timedelta(seconds=lease_seconds)
    at, until = raw.time(now), raw.time(expires)

    schema = project_schema(project)
    profile = load_profile(raw, user, now=now, project_id=project_id)
    routing = item_filter(schema.routing, profile)

    held = raw.one(_HELD, user=user, project=project_id, now=at)
    if held is not None:
        if _eligible(raw, schema.routing, profile, held[1]):
            raw.run(_RENEW, expires=until, id=held[0])
            return _task(raw, held[1], expires, project.config_version, schema)
        release(raw, item_id=held[1], user_id=user)  # e.g. a clearance expired meanwhile

    gold_rate = schema.quality.gold_rate
    if gold_rate > 0 and (rng or _rng).random() < gold_rate:
        gold = raw.one(
            _GOLD_CANDIDATE + routing.sql + _FIRST,
            project=project_id,
            true=True,
            false=False,
            user=user,
            **routing.params,
        )
        if gold is not None:
            item_id = int(gold[0])
            raw.run(_RELEASE, item=item_id, user=user)
            raw.run(_LEASE, project=project_id, item=item_id, user=user, expires=until, now=at)
            return _task(raw, item_id, expires, project.config_version, schema)

    passes = [routing]
    own = sorted(domain for domain, level in profile.levels.items() if level >= 1)
    if schema.routing.priority == "expertise" and own:
        # Specialists first get items of their own domains, then anything else they may do.
        names = {f"own{n}": domain for n, domain in enumerate(own)}
        mine = f" AND i.domain IN ({', '.join(':' + name for name in names)})"
        passes.insert(0, SqlFilter(routing.sql + mine, {**routing.params, **names}))
    for condition in passes:
        claimed = _claim(raw, project, user, condition, now=now, at=at, until=until)
        if claimed is not None:
            return _task(raw, claimed, expires, project.config_version, schema)
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
    require(
        actor.role, "projects.update", member_role=member_role(session, project_id, actor.user_id)
    )
    user = actor.user_id
    now = now or utcnow()
    row = raw.one(_TAKE + (" FOR UPDATE" if raw.postgres else ""), item=item_id)
    if row is None or row[0] != project_id:
        raise NotFound(
            f"item {item_id} does not exist in project {project_id}",
            details={"item_id": item_id},
        )
    details: dict[str, Any] = {"item_id": item_id}
    if row[1]:
        raise Conflict(
            f"item {item_id} is gold: gold items are served at random by the next task, "
            "never chosen",
            details={**details, "reason": "gold"},
        )
    if row[2]:
        raise Conflict(
            f"item {item_id} is withheld by the privacy gate",
            details={**details, "reason": "withheld"},
        )
    if raw.one(_LABELLED, item=item_id, user=user) is not None:
        raise Conflict(
            f"you already labelled item {item_id}", details={**details, "reason": "labelled"}
        )
    schema = project_schema(project)
    require_eligible(raw, schema.routing, user, item_id, now=now)
    if row[3] or int(row[4]) + active_leases(raw, item_id, now=now, exclude_user=user) >= (
        project.overlap
    ):
        raise Conflict(
            f"item {item_id} already has the {project.overlap} label(s) it needs, or others "
            "hold it",
            details={**details, "reason": "full", "overlap": project.overlap},
        )
    expires = now + timedelta(seconds=lease_seconds)
    raw.run(_RELEASE, item=item_id, user=user)
    raw.run(
        _LEASE,
        project=project_id,
        item=item_id,
        user=user,
        expires=raw.time(expires),
        now=raw.time(now),
    )
    return _task(raw, item_id, expires, project.config_version, schema)


def _eligible(raw: Raw, policy: RoutingPolicy, profile: Profile, item_id: int) -> bool:
    row = raw.one(_REQUIREMENTS, item=item_id)
    if row is None:
        return False
    return eligible(policy, profile, Requirements(row[0], row[1], row[2], int(row[3])))


def _claim(
    raw: Raw,
    project: ProjectRef,
    user: int,
    condition: SqlFilter,
    *,
    now: datetime,
    at: Any,
    until: Any,
) -> int | None:
    """Lease the first open item matching ``condition``; ``None`` if there is none."""
    query = _CANDIDATE + condition.sql + _FIRST + (_LOCK if raw.postgres else "")
    after = 0
    for _ in range(CANDIDATE_TRIES):
        row = raw.one(
            query,
            project=project.id,
            false=False,
            after=after,
            now=at,
            user=user,
            overlap=project.overlap,
            **condition.params,
        )
        if row is None:
            return None
        item_id = int(row[0])
        if raw.postgres:
            # We hold the row lock now; count again with a fresh snapshot, since a
            # lease committed just before we locked is invisible to the query above.
            count = raw.one(_LABEL_COUNT, item=item_id)
            taken = (count[0] if count else 0) + active_leases(
                raw, item_id, now=now, exclude_user=user
            )
            if taken >= project.overlap:
                after = item_id
                continue
        raw.run(_RELEASE, item=item_id, user=user)
        raw.run(_LEASE, project=project.id, item=item_id, user=user, expires=until, now=at)
        return item_id
    return None


def release(raw: Raw, *, item_id: int, user_id: int) -> None:
    raw.run(_RELEASE, item=item_id, user=user_id)


def skip_task(session: Session, actor: Actor, project_id: int, item_id: int) -> None:
    """The annotator passes on this item: it is never offered to them again."""
    raw = Raw(session)
    project = authorize_project_fast(raw, actor, "tasks.work", project_id)
    assert actor.user_id is not None
    row = raw.one(_ITEM, item=item_id)
    if row is None or row[4] != project_id:
        raise NotFound(
            f"item {item_id} does not exist in project {project_id}",
            details={"item_id": item_id},
        )
    now = utcnow()
    require_eligible(raw, project_schema(project).routing, actor.user_id, item_id, now=now)
    raw.run(_SKIP, item=item_id, user=actor.user_id, now=raw.time(now))
    release(raw, item_id=item_id, user_id=actor.user_id)
