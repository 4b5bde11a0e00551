"""Leases: the rows of a work queue handed out to one person at a time, for a while.

Three queues share this mechanism: tasks (items to label, :mod:`loupe.services.labelling.tasks`),
reviews (labels to judge, :mod:`loupe.services.labelling.reviews`) and expert tasks (escalated
items, :mod:`loupe.services.labelling.escalations`). Each is a :class:`Queue`: its SQL (from
``loupe.db.queries``, its rows named), over a :class:`Leasable` kind of row (items, labels
under review) and the table of its leases. Asking a queue for work is the same in all three:

1. **held**: the lease the asker already holds in the project, if any, comes back
   (asking twice before answering gives the same row);
2. **candidate**: otherwise the queue's first open row for them is claimed (below);
3. **lease**: the row is leased to them until the lease expires, replacing any
   lease of theirs on it;
4. **release**: answering (or skipping, or losing eligibility) drops the lease.

Many threads, and several servers sharing one PostgreSQL, ask at once. A claim must
not over-assign (two people taking a row's last slot), must not answer "nothing
left" while something is, and must not make anyone else wait for long. On
PostgreSQL, :func:`claim`:

1. selects the first candidate ``FOR UPDATE SKIP LOCKED`` inside a savepoint: rows
   others hold locked (a submit, another claim) are passed over, not waited for;
2. holding its lock, re-counts it in a statement of its own (a fresh snapshot: a
   lease committed just after the query's snapshot is invisible to the query). If it
   is full after all, rolling back to the savepoint drops the row lock at once, so
   nobody queues behind this transaction for a row it did not take, and the walk
   goes on after it;
3. when that pass finds nothing, walks again without ``SKIP LOCKED``: each candidate
   is selected without a lock and then locked on its own, waiting for its holder.
   (A ``FOR UPDATE`` on the candidate query itself would, once the holder's update
   commits, re-check its conditions against the new row but the old snapshot's
   leases, counting a submitted label twice, and pass the row over.)

So ``None`` means a pass that skipped nothing found nothing. On SQLite every writer
holds the one write lock from its first statement: the first candidate is the one.

This is the hot path, written in plain SQL (see ``loupe.db.raw``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from loupe.db.queries.assignments import LEASE_ITEM, RELEASE_ITEM
from loupe.db.queries.items import LOCK_ITEM
from loupe.db.queries.review_leases import LEASE_REVIEW, RELEASE_REVIEW
from loupe.db.queries.review_queue import LOCK_QUEUED_LABEL
from loupe.db.raw import Query, Raw
from loupe.services.people.eligibility import SqlFilter

__all__ = [
    "ITEMS",
    "LABELS",
    "Leasable",
    "Lessee",
    "Queue",
    "Window",
    "claim",
    "held",
    "lease",
    "lease_next",
    "take",
]

HeldT = TypeVar("HeldT", bound=NamedTuple)
RowT = TypeVar("RowT", bound=NamedTuple)

_SAVEPOINT = "SAVEPOINT loupe_claim"
_RELEASE_SAVEPOINT = "RELEASE SAVEPOINT loupe_claim"
_ROLLBACK = "ROLLBACK TO SAVEPOINT loupe_claim"


@dataclass(frozen=True, slots=True)
class Leasable:
    """A kind of row handed out under leases, and the table its leases live in."""

    key: str  # the bind parameter naming one such row: :item, :label
    column: str  # the field naming it in every row a queue of them returns: item_id, label_id
    lock: Query[Any]  # locks row :key, waiting for its holder
    skip_locked: str  # ends a candidate query: lock its row, passing over locked ones
    release: str  # drops :user's lease on row :key
    lease: str  # leases row :key to :user until :expires (binds :project and :now too)

    def key_of(self, row: NamedTuple) -> int:
        """The key of the leased row that a queue's ``row`` names."""
        key: int = getattr(row, self.column)
        return key


ITEMS = Leasable(
    key="item",
    column="item_id",
    lock=LOCK_ITEM,
    skip_locked=" FOR UPDATE OF i SKIP LOCKED",  # candidate queries call items i
    release=RELEASE_ITEM,
    lease=LEASE_ITEM,
)
LABELS = Leasable(
    key="label",
    column="label_id",
    lock=LOCK_QUEUED_LABEL,
    skip_locked=" FOR UPDATE OF q SKIP LOCKED",  # candidate queries call review_queue q
    release=RELEASE_REVIEW,
    lease=LEASE_REVIEW,
)


@dataclass(frozen=True, slots=True)
class Window(Generic[RowT]):
    """A queue read :attr:`size` keys at a time, so that no plan reads (or sorts) more.

    The queue's ``after`` clause binds ``:after`` and ``:window``; ``first_open`` is
    the first open key past ``:after`` in ``:project``, where the next window starts.
    """

    first_open: Query[RowT]
    size: int


@dataclass(frozen=True, slots=True)
class Queue(Generic[HeldT, RowT]):
    """One work queue's SQL. Every statement binds ``:project``, ``:user`` and ``:now``;
    its rows (``HeldT`` for a lease held, ``RowT`` for a candidate) name the leased row's
    key as :attr:`Leasable.column` says.

    ``candidates`` selects the rows open to the asker, unordered; a caller's filter
    (:class:`SqlFilter`) follows it, then ``after`` (where a walk goes on past the row
    that ``resume`` describes; left out where ``resume`` says ``None``; by default past
    the row's key), then ``order`` (``ORDER BY ... LIMIT 1``). ``still_open`` returns a
    row when row ``:key`` is still open to the asker: it runs under the row's lock, in a
    fresh snapshot.
    """

    rows: Leasable
    held: Query[HeldT]  # the lease :user holds in :project at :now, if any
    candidates: Query[RowT]
    after: str
    order: str
    still_open: Query[Any]
    resume: Callable[[RowT | None], dict[str, Any] | None] | None = None
    # One statement for "drop the asker's lease on the row, if any, and lease it again"
    # (a round trip fewer on the hot path); without it, release and then lease.
    upsert: str | None = None
    window: Window[RowT] | None = None

    def query(self, where: str, *, resumed: bool, skip_locked: bool) -> Query[RowT]:
        """The candidate query with the filter ``where``, as a walk runs it."""
        sql = self.candidates.sql + where + (self.after if resumed else "") + self.order
        return Query(sql + self.rows.skip_locked if skip_locked else sql, self.candidates.row)

    def position(self, row: RowT | None) -> dict[str, Any] | None:
        """Where a walk goes on past ``row`` (from the start when ``None``)."""
        if self.resume is not None:
            return self.resume(row)
        return {"after": 0 if row is None else self.rows.key_of(row)}


@dataclass(frozen=True, slots=True)
class Lessee:
    """Who asks for work, in which project and when, in the backend's form (``Raw.time``)."""

    project: int
    user: int
    now: Any
    expires: Any  # when a lease taken now ends

    def binds(self) -> dict[str, Any]:
        return {"project": self.project, "user": self.user, "now": self.now}


def held(raw: Raw, queue: Queue[HeldT, Any], lessee: Lessee) -> HeldT | None:
    """The lease ``lessee`` already holds in the queue, if any."""
    return raw.one(queue.held, **lessee.binds())


def lease_next(
    raw: Raw, queue: Queue[HeldT, RowT], lessee: Lessee, where: Callable[[], SqlFilter]
) -> HeldT | RowT | None:
    """The row ``lessee`` holds, or else the first open one matching ``where()``,
    leased to them until ``lessee.expires``; ``None`` when there is neither."""
    row: HeldT | RowT | None = held(raw, queue, lessee) or claim(raw, queue, lessee, where())
    if row is not None:
        take(raw, queue, queue.rows.key_of(row), lessee)
    return row


def take(raw: Raw, queue: Queue[Any, Any], key: int, lessee: Lessee) -> None:
    """Lease row ``key`` of the queue to ``lessee``, replacing any lease of theirs on it."""
    if queue.upsert is None:
        lease(raw, queue.rows, key, lessee)
    else:
        binds = lessee.binds()
        raw.run(queue.upsert, expires=lessee.expires, **{queue.rows.key: key}, **binds)


def lease(raw: Raw, rows: Leasable, key: int, lessee: Lessee) -> None:
    """Release ``lessee``'s lease on row ``key``, if any, and lease it to them again."""
    raw.run(rows.release, user=lessee.user, **{rows.key: key})
    raw.run(rows.lease, expires=lessee.expires, **{rows.key: key}, **lessee.binds())


def claim(raw: Raw, queue: Queue[Any, RowT], lessee: Lessee, where: SqlFilter) -> RowT | None:
    """The queue's first open row matching ``where``, locked on PostgreSQL (not leased).

    ``where.params`` binds the filter and whatever else the queue's SQL needs beyond
    ``:project``, ``:user`` and ``:now``.
    """
    binds = {**lessee.binds(), **where.params}
    if queue.window is not None:
        binds["window"] = queue.window.size
    rows = queue.rows

    def find(after: RowT | None, skip_locked: bool) -> RowT | None:
        position = queue.position(after)
        query = queue.query(where.sql, resumed=position is not None, skip_locked=skip_locked)
        return _walk(raw, queue, query, binds, position or {})

    def lock(row: RowT) -> None:
        raw.one(rows.lock, **{rows.key: rows.key_of(row)})

    def still_open(row: RowT) -> bool:
        return raw.one(queue.still_open, **{**binds, rows.key: rows.key_of(row)}) is not None

    return _claim_first(raw, find=find, lock=lock, still_open=still_open)


def _walk(
    raw: Raw,
    queue: Queue[Any, RowT],
    query: Query[RowT],
    binds: dict[str, Any],
    position: dict[str, Any],
) -> RowT | None:
    """The first row ``query`` returns from ``position`` on; in a windowed queue, one
    window at a time, each starting at the next open key."""
    row = raw.one(query, **binds, **position)
    window = queue.window
    while row is None and window is not None:
        # Nothing in this window: the next one starts past it (rarely more than once).
        first = raw.one(window.first_open, project=binds["project"], after=position["after"])
        if first is None:
            return None
        position = {"after": queue.rows.key_of(first) + window.size - 1}
        row = raw.one(query, **binds, **position)
    return row


def _claim_first(
    raw: Raw,
    *,
    find: Callable[[RowT | None, bool], RowT | None],
    lock: Callable[[RowT], object],
    still_open: Callable[[RowT], bool],
) -> RowT | None:
    """The first row ``find`` offers that is ``still_open`` once locked, left locked.

    ``find(after, skip_locked)`` returns the queue's first candidate after the row
    ``after`` (from the start when ``None``) in the queue's order; with
    ``skip_locked`` its query ends ``FOR UPDATE ... SKIP LOCKED``, otherwise it locks
    nothing. ``lock(row)`` locks that row, waiting for its holder; ``still_open(row)``
    re-counts it (under the lock, in statements of their own). On PostgreSQL the
    row comes back inside the savepoint ``loupe_claim``, still open: it ends with the
    transaction.
    """
    if not raw.postgres:
        return find(None, False)
    for wait in (False, True):
        after: RowT | None = None
        while True:
            raw.run(_SAVEPOINT)
            row = find(after, not wait)
            if row is None:
                raw.run(_RELEASE_SAVEPOINT)
                break
            if wait:
                lock(row)
            if still_open(row):
                # Left open: the row lock and what follows commit with the transaction,
                # and a RELEASE would cost a round trip on the hot path for nothing.
                return row
            raw.run(_ROLLBACK)  # drops the row lock now
            raw.run(_RELEASE_SAVEPOINT)
            after = row
    return None
