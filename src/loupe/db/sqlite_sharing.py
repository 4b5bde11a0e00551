"""Whether another process has a SQLite database open.

A bulk writer (an import) pauses between its write batches so that other writers take
SQLite's lock (:meth:`loupe.db.database.Database.bulk_writer_should_yield`). Writers of
this process queue on its own writer lock, which counts them; writers of another process
(a server while ``loupe import`` runs, another server worker) wait in SQLite's busy
handler, which polls, and find the lock free only if the importer pauses after every
batch. Those pauses cost 2 s per 100,000 items, so they are taken only when another
process has the database open.

How that is known: in WAL mode every connection holds a shared POSIX lock on the
"DMS" byte of the ``-shm`` file while it is open (SQLite's unix VFS uses it to tell
whether it is the first connection). ``F_GETLK`` on that byte reports a lock held by
another process, never this process's own. Where this cannot be asked (not Linux, no
``-shm`` file readable), the answer is yes: the pause is the safe side.

Written here rather than taken from a library: none exposes it, and it is one
``fcntl`` call on a lock layout SQLite has kept since WAL mode appeared (3.7.0).
"""

from __future__ import annotations

import os
import struct
import sys

__all__ = ["other_processes_attached"]

# UNIX_SHM_BASE (120) + SQLITE_SHM_NLOCK (8): the dead-man switch byte of the -shm file.
DMS_OFFSET = 128
# struct flock on Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t.
_FLOCK = "hhqqi"


def other_processes_attached(database_file: str) -> bool:
    """Whether a process other than this one has ``database_file`` (WAL mode) open."""
    if sys.platform != "linux":
        return True
    import fcntl

    try:
        fd = os.open(f"{database_file}-shm", os.O_RDONLY)
    except OSError:
        return True
    try:
        asked = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, DMS_OFFSET, 1, 0)
        found = fcntl.fcntl(fd, fcntl.F_GETLK, asked)
        kind: int = struct.unpack(_FLOCK, found)[0]
        return kind != fcntl.F_UNLCK
    except OSError:
        return True
    finally:
        os.close(fd)
