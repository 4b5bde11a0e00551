"""Binding a key directory to one database, so keys are never silently shared.

The ledger's signing key and pseudonym secret and the privacy master key belong to one
database: its checkpoints are signed, its pseudonyms keyed and its originals sealed with
them. Two databases reading one key directory (before ``<name>-keys``, every SQLite
database beside ``./loupe-keys`` did; every PostgreSQL database started from one working
directory still defaults to it) mix their logs' keys and share one master key, so a
rotation for one re-wraps nothing of the other's and a retired key destroyed for one
closes the other's backups.

A database gets a random id the first time Loupe starts on it (``loupe init``,
``loupe serve``, ``loupe demo``): the id is written to ``<key dir>/database-id`` and
recorded in the database as the audit event ``keys.bound`` (no table of its own; the
earliest such event names the id). From then on, starting with a key directory whose
``database-id`` names another database, or none, is refused with one line naming both.

Both sides are written under a lock on the database (``BEGIN IMMEDIATE`` on SQLite; an
advisory lock on PostgreSQL), and the file with ``O_EXCL``: of two databases
binding one fresh directory at once, exactly one wins. A crash between writing the file
and committing leaves a directory naming a database that names none: refused like a
shared directory, and ``loupe keys bind`` adopts it once the operator has looked.

Example::

    >>> import tempfile, pathlib
    >>> from loupe.db.database import Database
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> db = Database(f"sqlite:///{folder / 'a.db'}"); db.migrate()
    >>> bound = bind_key_dir(db, folder / "a-keys")
    >>> bind_key_dir(db, folder / "a-keys") == bound == key_dir_id(folder / "a-keys")
    True
    >>> db.dispose()
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.db.privacy_models import AuditEvent
from loupe.errors import Conflict
from loupe.services.access import Actor
from loupe.services.compliance import audit_log

__all__ = [
    "BIND_ACTION",
    "DATABASE_ID_FILE",
    "KeyDirMismatch",
    "bind_key_dir",
    "check_key_dir",
    "database_id",
    "key_dir_id",
    "release_key_dir",
]

DATABASE_ID_FILE = "database-id"
BIND_ACTION = "keys.bound"
_ID = re.compile(r"^[0-9a-f]{32}$")


class KeyDirMismatch(Conflict):
    """The key directory belongs to another database (exit code of ``Conflict``)."""

    code = "key_dir_mismatch"


def key_dir_id(key_dir: Path) -> str | None:
    """The database id written in ``key_dir`` (``None`` when it has none yet)."""
    path = key_dir / DATABASE_ID_FILE
    try:
        text = path.read_text("ascii").strip()
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, NotADirectoryError):
        text = ""
    if not _ID.match(text):
        raise Conflict(
            f"{path} is corrupt (it should hold 32 hex digits, the id of the database "
            "these keys belong to); restore it from the key directory's backup"
        )
    return text


def database_id(session: Session) -> str | None:
    """The database's id: the one its earliest ``keys.bound`` audit event records."""
    details = session.scalar(
        select(AuditEvent.details)
        .where(AuditEvent.action == BIND_ACTION)
        .order_by(AuditEvent.seq)
        .limit(1)
    )
    if not isinstance(details, dict) or not isinstance(details.get("database_id"), str):
        return None
    return str(details["database_id"])


def check_key_dir(db: Database, key_dir: Path) -> None:
    """Raise :class:`KeyDirMismatch` unless ``key_dir`` may serve ``db``: both name the
    same id, or neither has one yet (the first :func:`bind_key_dir` binds them)."""
    with db.transaction(readonly=True) as session:
        ours = database_id(session)
    _compare(db, key_dir, ours, key_dir_id(key_dir))


def bind_key_dir(db: Database, key_dir: Path, *, adopt: bool = False) -> str:
    """Bind ``key_dir`` to ``db`` the first time (a new id in both), else check that they
    match; returns the id. Raises :class:`KeyDirMismatch` when they do not.

    ``adopt`` (``loupe keys bind``): write the database's id into a key directory that has
    none, or record the directory's id in a database that has none; two different ids are
    still refused.
    """
    with db.transaction(readonly=True) as session:
        ours = database_id(session)
    theirs = key_dir_id(key_dir)
    if ours is not None and ours == theirs:
        return ours  # the common case: no write
    with db.transaction() as session:
        _lock(session)
        ours = database_id(session)
        theirs = key_dir_id(key_dir)
        if adopt and (ours is None) != (theirs is None):
            bound = ours or theirs
            assert bound is not None
            if theirs is None:
                _write_id(key_dir, bound)
            else:
                _record(session, key_dir, bound)
            return bound
        if ours is None and theirs is None:
            fresh = secrets.token_hex(16)
            if _write_id(key_dir, fresh):
                _record(session, key_dir, fresh)
                return fresh
            theirs = key_dir_id(key_dir)  # another database bound it a moment ago
        _compare(db, key_dir, ours, theirs)
        assert ours is not None
        return ours


def release_key_dir(db: Database, key_dir: Path) -> bool:
    """Before ``db`` is deleted (``loupe demo`` replacing its own database): remove
    ``key_dir``'s ``database-id`` if it names ``db``, so a new database can bind the keys;
    returns whether it did. A directory bound to another database is left alone."""
    with db.transaction(readonly=True) as session:
        ours = database_id(session)
    if ours is None or key_dir_id(key_dir) != ours:
        return False
    (key_dir / DATABASE_ID_FILE).unlink()
    return True


def _compare(db: Database, key_dir: Path, ours: str | None, theirs: str | None) -> None:
    if ours == theirs:
        return
    where = key_dir / DATABASE_ID_FILE
    if ours is None:
        assert theirs is not None
        raise KeyDirMismatch(
            f"the key directory {key_dir} belongs to another database ({where} names "
            f"{theirs}; the database {db.location} has no key directory yet): keys belong "
            "to one database. If several databases shared it (an old ./loupe-keys), give "
            f"this one its own copy (`cp -a {key_dir} NEW`, delete NEW/{DATABASE_ID_FILE}, "
            "set LOUPE_KEY_DIR=NEW, then `loupe keys rotate` and `loupe ledger rotate-key`); "
            f"if {key_dir} holds only this database's keys, run `loupe keys bind`",
            details={"key_dir": str(key_dir), "key_dir_database_id": theirs},
        )
    if theirs is None:
        raise KeyDirMismatch(
            f"the key directory {key_dir} has no {DATABASE_ID_FILE}, but the database "
            f"{db.location} is bound to the keys of database {ours}: set LOUPE_KEY_DIR to "
            f"the directory whose {DATABASE_ID_FILE} says {ours} (restore it from backup if "
            "lost); if these are its keys, run `loupe keys bind`",
            details={"key_dir": str(key_dir), "database_id": ours},
        )
    raise KeyDirMismatch(
        f"the key directory {key_dir} belongs to database {theirs} ({where}), not to the "
        f"database {db.location} ({ours}): set LOUPE_KEY_DIR to this database's key "
        "directory (keys belong to one database)",
        details={"key_dir": str(key_dir), "database_id": ours, "key_dir_database_id": theirs},
    )


def _lock(session: Session) -> None:
    # Serialises binders of one database: SQLite writers hold the database lock from
    # BEGIN IMMEDIATE already; on PostgreSQL a transaction-scoped advisory lock.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('loupe.keys.bound'))"))


def _record(session: Session, key_dir: Path, bound: str) -> None:
    audit_log.record(
        session,
        Actor.system(),
        BIND_ACTION,
        target=str(key_dir),
        details={"database_id": bound},
    )


def _write_id(key_dir: Path, bound: str) -> bool:
    """Create ``database-id`` holding ``bound``; ``False`` when one exists already."""
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = key_dir / DATABASE_ID_FILE
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (bound + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if it exists: the first binder wins
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    return True
