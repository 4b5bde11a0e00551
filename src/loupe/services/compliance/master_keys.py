"""Master-key rotation, and destroying retired master keys after the backup retention period.

Why: erasure deletes a subject's wrapped data key from the live database, but a backup
taken before still holds it, wrapped under the master key of that day. A rotation
re-wraps every subject key under a new master key and retires the old one; destroying
the retired keys older than the backup retention period leaves no key that opens a
backup taken while they were current, erased subjects' data included.

Files in the key directory::

    privacy-master.key                   the current master key
    privacy-master.key.next              a rotation's new key, until its rename after commit
    retired/privacy-master.<UTC>.key     a retired key; <UTC> is when it was retired
    .rotation.lock                       serialises rotations (``flock``)

Crash safety: the new key is written (0600, atomically) before the transaction that
re-wraps, and the files are renamed only after it commits. A crash before the commit
leaves a ``.next`` the database is not wrapped under: the next rotation deletes it. A
crash after the commit leaves one it *is* wrapped under (the key-check row,
:data:`~loupe.services.compliance.vault.CHECK_KEY_ID`, says which): vaults already use it, and the
next rotation finishes the renames before it starts.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.db.privacy_models import SubjectKey
from loupe.errors import Conflict, InvalidInput
from loupe.privacy import SubjectKeyring
from loupe.services.access import Actor, authorize
from loupe.services.compliance import audit_log
from loupe.services.compliance.vault import (
    CHECK_KEY_ID,
    MASTER_KEY_FILE,
    NEXT_KEY_FILE,
    load_master_key,
    opens_check,
    rewrap_rows,
)

__all__ = [
    "RETIRED_DIR",
    "RetiredKey",
    "Rotation",
    "destroy_retired_master_keys",
    "retired_master_keys",
    "rotate_master_key",
]

RETIRED_DIR = "retired"
_LOCK_FILE = ".rotation.lock"
_STAMP = "%Y%m%dT%H%M%S.%fZ"
_PREFIX, _SUFFIX = "privacy-master.", ".key"


@dataclass(frozen=True, slots=True)
class Rotation:
    """What :func:`rotate_master_key` did: ``rewrapped`` subject keys, the old key's new
    path, and whether an earlier rotation's renames had to be finished first."""

    rewrapped: int
    retired: Path
    finished_earlier: bool


@dataclass(frozen=True, slots=True)
class RetiredKey:
    path: Path
    retired_at: datetime


def rotate_master_key(
    db: Database, actor: Actor, *, key_dir: Path, now: datetime | None = None, chunk: int = 500
) -> Rotation:
    """Re-wrap every subject key under a new random master key in one transaction, then
    retire the old key to ``retired/privacy-master.<UTC>.key``. Audited.

    Vaults made before (:func:`loupe.services.compliance.gate.vault_for`) follow the new
    key on their next use. Raises :class:`~loupe.errors.Conflict` when the key directory
    does not hold
    the key the database is wrapped under.
    """
    authorize(actor, "subjects.manage")
    current = key_dir / MASTER_KEY_FILE
    pending = key_dir / NEXT_KEY_FILE
    with _rotation_lock(key_dir):
        finished = _finish_or_discard(db, key_dir)
        old_key = load_master_key(key_dir)
        new_key = secrets.token_bytes(32)
        _write_key(pending, new_key)
        try:
            with db.transaction() as session:
                rewrapped = _rewrap_all(session, old_key, new_key, chunk=chunk)
                audit_log.record(
                    session,
                    actor,
                    "keys.master_rotated",
                    target="privacy-master.key",
                    details={"rewrapped": rewrapped},
                )
        except BaseException:
            pending.unlink(missing_ok=True)
            raise
        retired = _retire(key_dir, current, now or utcnow())
        os.replace(pending, current)
        _sync_dir(key_dir)
    return Rotation(rewrapped=rewrapped, retired=retired, finished_earlier=finished)


def retired_master_keys(key_dir: Path) -> list[RetiredKey]:
    """The retired master keys in ``key_dir``, oldest first (files not named as a rotation
    names them are left out)."""
    found: list[RetiredKey] = []
    folder = key_dir / RETIRED_DIR
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        name = path.name
        if not (name.startswith(_PREFIX) and name.endswith(_SUFFIX)) or not path.is_file():
            continue
        try:
            at = datetime.strptime(name[len(_PREFIX) : -len(_SUFFIX)], _STAMP)
        except ValueError:
            continue
        found.append(RetiredKey(path=path, retired_at=at.replace(tzinfo=UTC)))
    return sorted(found, key=lambda key: key.retired_at)


def destroy_retired_master_keys(
    key_dir: Path, older_than: timedelta, now: datetime | None = None
) -> list[RetiredKey]:
    """Overwrite with zeros and delete the retired master keys retired more than
    ``older_than`` before ``now``; returns them. Irreversible: a backup taken while one
    of them was current can no longer be opened."""
    if older_than < timedelta(0):
        raise InvalidInput("the age of the retired keys to destroy cannot be negative")
    cutoff = (now or utcnow()) - older_than
    destroyed: list[RetiredKey] = []
    with _rotation_lock(key_dir):
        for key in retired_master_keys(key_dir):
            if key.retired_at > cutoff:
                continue
            size = key.path.stat().st_size
            fd = os.open(key.path, os.O_WRONLY)
            try:
                os.write(fd, bytes(size))
                os.fsync(fd)
            finally:
                os.close(fd)
            key.path.unlink()
            destroyed.append(key)
        if destroyed:
            _sync_dir(key_dir / RETIRED_DIR)
    return destroyed


def _rewrap_all(session: Session, old_key: bytes, new_key: bytes, *, chunk: int) -> int:
    if session.get_bind().dialect.name == "postgresql":
        # Blocks key inserts and deletes until the commit, so no key is created under the
        # old master key behind the scan (SQLite writers are serialised already).
        session.execute(text("LOCK TABLE subject_keys IN SHARE ROW EXCLUSIVE MODE"))
    check = session.scalar(select(SubjectKey.wrapped).where(SubjectKey.key_id == CHECK_KEY_ID))
    if check is not None and not opens_check(old_key, bytes(check)):
        raise Conflict(
            f"the database's subject keys are not wrapped under {MASTER_KEY_FILE} in this key "
            "directory: set LOUPE_KEY_DIR to the directory that holds the right one"
        )
    total, after = 0, ""
    while True:
        rows = session.execute(
            select(SubjectKey.key_id, SubjectKey.wrapped)
            .where(SubjectKey.key_id > after)
            .order_by(SubjectKey.key_id)
            .limit(chunk)
        ).all()
        if not rows:
            break
        part = {str(row.key_id): bytes(row.wrapped) for row in rows}
        SubjectKeyring(master_key=old_key, storage=part).rewrap(new_key)
        rewrap_rows(session, part)
        total += len(part) - (CHECK_KEY_ID in part)
        after = str(rows[-1].key_id)
    if check is None:
        fresh: dict[str, bytes] = {}
        SubjectKeyring(master_key=new_key, storage=fresh).encrypt(CHECK_KEY_ID, b"", item_id="")
        session.add(SubjectKey(key_id=CHECK_KEY_ID, wrapped=fresh[CHECK_KEY_ID]))
    return total


def _finish_or_discard(db: Database, key_dir: Path) -> bool:
    """Settle a ``.next`` left by a rotation that crashed: finish its renames if its
    transaction committed (the key-check row opens under it), else delete it."""
    pending = key_dir / NEXT_KEY_FILE
    if not pending.exists():
        return False
    with db.transaction(readonly=True) as session:
        check = session.scalar(select(SubjectKey.wrapped).where(SubjectKey.key_id == CHECK_KEY_ID))
    try:
        committed = check is not None and opens_check(
            load_master_key(key_dir, name=NEXT_KEY_FILE), bytes(check)
        )
    except InvalidInput:
        committed = False  # not a whole key: no transaction ever committed under it
    if not committed:
        pending.unlink()
        return False
    current = key_dir / MASTER_KEY_FILE
    if current.exists():
        _retire(key_dir, current, utcnow())
    os.replace(pending, current)
    _sync_dir(key_dir)
    return True


def _retire(key_dir: Path, current: Path, at: datetime) -> Path:
    """Link the current key into ``retired/`` (0600, directory 0700), unless a crash
    after an earlier link already put it there; returns its path there."""
    folder = key_dir / RETIRED_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    body = current.read_bytes()
    for key in retired_master_keys(key_dir):
        if key.path.read_bytes() == body:
            return key.path
    target = folder / f"{_PREFIX}{at.astimezone(UTC).strftime(_STAMP)}{_SUFFIX}"
    os.link(current, target)
    os.chmod(target, 0o600)
    _sync_dir(folder)
    return target


def _write_key(path: Path, key: bytes) -> None:
    """Write ``key`` to ``path`` atomically, created 0600, flushed to disk."""
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (key.hex() + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _sync_dir(path.parent)


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _rotation_lock(key_dir: Path) -> Iterator[None]:
    if not key_dir.is_dir():
        raise Conflict(
            f"the key directory {key_dir} does not exist; run `loupe init` (or set "
            "LOUPE_KEY_DIR to the directory that holds the keys)"
        )
    fd = os.open(key_dir / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
