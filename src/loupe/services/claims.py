"""Claiming the next row of a work queue: tasks, reviews, expert tasks.

Many threads, and several servers sharing one PostgreSQL, ask at once. A claim must
not over-assign (two people taking an item's last slot), must not answer "nothing
left" while something is, and must not make anyone else wait for long. On
PostgreSQL, :func:`claim_first`:

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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loupe.db.raw import Raw

__all__ = ["Row", "claim_first"]

Row = tuple[Any, ...]

_SAVEPOINT = "SAVEPOINT loupe_claim"
_RELEASE = "RELEASE SAVEPOINT loupe_claim"
_ROLLBACK = "ROLLBACK TO SAVEPOINT loupe_claim"


def claim_first(
    raw: Raw,
    *,
    find: Callable[[Row | None, bool], Row | None],
    lock: Callable[[Row], object],
    still_open: Callable[[Row], bool],
) -> Row | None:
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
        after: Row | None = None
        while True:
            raw.run(_SAVEPOINT)
            row = find(after, not wait)
            if row is None:
                raw.run(_RELEASE)
                break
            if wait:
                lock(row)
            if still_open(row):
                # Left open: the row lock and what follows commit with the transaction,
                # and a RELEASE would cost a round trip on the hot path for nothing.
                return row
            raw.run(_ROLLBACK)  # drops the row lock now
            raw.run(_RELEASE)
            after = row
    return None
