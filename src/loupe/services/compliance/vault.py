"""Raw item content sealed per data subject, and the master key that wraps subject keys.

The master key (32 random bytes, hex) lives in ``<key dir>/privacy-master.key``
(mode 0600; the directory, shared with the ledger's keys, is 0700), never in the
database. Beside it, ``subject-ref.key`` keys the HMAC that names a subject
(:func:`subject_ref`) in ``items.subject_id``, in the id of its key, in receipts and in
the audit log, so a guessable subject id (an email) is never stored and cannot be
recovered from its reference. Each subject's data key is a row of ``subject_keys``
named :func:`subject_key_id` of that ref, wrapped by the master key
(:class:`loupe.privacy.SubjectKeyring`). Rows written before refs were stored hold the
id itself (``subject:<id>``): lookups try both forms (:func:`subject_forms`) until
:mod:`loupe.services.compliance.subject_refs` converts them.
An item without a subject gets a pseudo-subject of its own (``item:<random>``), so it
too can be shredded alone.

Ciphertexts bind ``<project id>/<external id>`` as associated data: a sealed value
cannot be moved onto another item.

A key must not be shredded while something is being sealed under it (the ciphertext
would be noise the moment it commits). SQLite serialises writers; on PostgreSQL a sealer
locks the subject keys it seals under ``FOR KEY SHARE`` (:meth:`Vault.seal_bytes_many`,
:func:`lock_keys` with ``share``) and a shredder locks the keys it may shred ``FOR
UPDATE`` (:func:`lock_keys`) *before* it looks for the items still sealed under them. So
either the sealer commits first and the shredder then sees its items, or the shredder
commits first and the sealer finds the key gone and creates a new one.

The master key can be rotated (:mod:`loupe.services.compliance.master_keys`). Each rotation writes
a key-check row (``subject_keys`` row :data:`CHECK_KEY_ID`, a throwaway key wrapped
like the others), so a :class:`Vault` made from a key directory notices that its key
is no longer the one the database is wrapped under and reloads it (from
``privacy-master.key``, or ``privacy-master.key.next`` while a rotation that has
committed has not yet renamed its files). A vault made from bare key bytes cannot
reload: after a rotation it raises :class:`~loupe.errors.Conflict`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from loupe.db.models import utcnow
from loupe.db.privacy_models import SubjectKey
from loupe.db.raw import Raw
from loupe.errors import Conflict, InvalidInput
from loupe.privacy import SubjectKeyring

__all__ = [
    "CHECK_KEY_ID",
    "MASTER_KEY_FILE",
    "NEXT_KEY_FILE",
    "REF_KEY_FILE",
    "Sealed",
    "Vault",
    "init_master_key",
    "is_subject_ref",
    "item_aad",
    "legacy_subject_ref",
    "load_master_key",
    "load_ref_key",
    "lock_keys",
    "media_aad",
    "opens_check",
    "original_payload",
    "rewrap_rows",
    "shred",
    "split_original",
    "subject_forms",
    "subject_key_id",
    "subject_ref",
]

MASTER_KEY_FILE = "privacy-master.key"
NEXT_KEY_FILE = "privacy-master.key.next"  # a rotation's new key until its rename
CHECK_KEY_ID = "master:check"  # never a subject's key id ("subject:..." / "item:...")
REF_KEY_FILE = "subject-ref.key"


_REF = re.compile(r"hmac:[0-9a-f]{64}")


def subject_key_id(stored: str | None) -> str:
    """The key a subject's content is sealed under, from what ``items.subject_id`` holds
    (its ref, :func:`subject_ref`); a fresh pseudo-subject when ``None``."""
    return f"subject:{stored}" if stored is not None else f"item:{secrets.token_hex(16)}"


def item_aad(project_id: int, external_id: str) -> str:
    return f"{project_id}/{external_id}"


def media_aad(project_id: int, external_id: str, field: str) -> str:
    """The associated data of a sealed original media file: bound to its item and field."""
    return f"{project_id}/{external_id}#media:{field}"


def original_payload(
    data: dict[str, Any], metadata: dict[str, Any], *, metadata_changed: bool
) -> dict[str, Any]:
    """What is sealed for an item: its data, plus its metadata when the gate redacted some.

    An item's data never has a ``metadata`` key (it is a reserved field), so a payload
    with one is unambiguously ``{"data": ..., "metadata": ...}``; older payloads, and
    those whose metadata was stored as given, are the data alone.
    """
    return {"data": data, "metadata": metadata} if metadata_changed else data


def split_original(payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """``(data, metadata)`` from a sealed payload; metadata is ``None`` when not sealed."""
    if "metadata" in payload and isinstance(payload.get("data"), dict):
        return dict(payload["data"]), dict(payload["metadata"])
    return payload, None


def init_master_key(key_dir: Path, *, name: str = MASTER_KEY_FILE) -> Path:
    """Create ``privacy-master.key`` (or the key file ``name``) in ``key_dir`` if absent
    (idempotent); return its path."""
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(key_dir, 0o700)
    path = key_dir / name
    if not path.exists():
        tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
        # Created 0600 from the start: no moment where another user could read it.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_bytes(32).hex() + "\n")
        # Two processes creating it at once: the first link wins and both read it.
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path


def load_master_key(key_dir: Path, *, create: bool = False, name: str = MASTER_KEY_FILE) -> bytes:
    """The master key from ``key_dir`` (created first when ``create``)."""
    path = key_dir / name
    if create:
        init_master_key(key_dir, name=name)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise Conflict(
            f"the privacy key {name} is missing from {key_dir}; run `loupe init` (or set "
            "LOUPE_KEY_DIR to the directory that holds it)",
            details={"key_dir": str(key_dir)},
        ) from None
    # The inode too: a rotation replaces the file, possibly within the clock's granularity.
    return _read(str(path.resolve()), (info.st_ino, info.st_mtime_ns, info.st_size))


def load_ref_key(key_dir: Path) -> bytes:
    """The key of :func:`subject_ref` from ``key_dir`` (created on first use)."""
    return load_master_key(key_dir, create=True, name=REF_KEY_FILE)


def subject_ref(subject_id: str, *, key: bytes) -> str:
    """``hmac:<hex>``: HMAC-SHA256 of the subject id under the deployment's ref key.

    Names a subject in receipts and the audit log without keeping who they were: unlike
    a bare hash, it cannot be reversed by hashing guesses (emails) without the key.

    >>> subject_ref("ana@example.org", key=bytes(32))[:5]
    'hmac:'
    """
    return "hmac:" + hmac.new(key, subject_id.encode(), hashlib.sha256).hexdigest()


def is_subject_ref(value: str) -> bool:
    """Whether ``value`` has the form of :func:`subject_ref` (an id stored before refs
    were, that happens to have it too, is taken for one).

    >>> is_subject_ref(subject_ref("ana@example.org", key=bytes(32)))
    True
    >>> is_subject_ref("ana@example.org")
    False
    """
    return _REF.fullmatch(value) is not None


def subject_forms(subject_id: str, *, key: bytes) -> list[str]:
    """What ``items.subject_id`` (and, as :func:`subject_key_id`, a key's id) may hold
    for ``subject_id``: its ref, and the id itself in rows written before refs were
    stored and not yet converted. Used only to look rows up, never to write them.

    >>> subject_forms("ana", key=bytes(32))[1]
    'ana'
    """
    ref = subject_ref(subject_id, key=key)
    return [ref] if subject_id == ref else [ref, subject_id]


def legacy_subject_ref(subject_id: str) -> str:
    """The unkeyed ``sha256:<hex>`` refs written before revision 0009 (looked up, never written)."""
    return "sha256:" + hashlib.sha256(subject_id.encode()).hexdigest()


@lru_cache(maxsize=8)
def _read(path: str, _stamp: tuple[int, int, int]) -> bytes:
    try:
        key = bytes.fromhex(Path(path).read_text("ascii").strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise InvalidInput(f"{path} must hold 32 random bytes as 64 hex digits")
    return key


@dataclass(frozen=True, slots=True)
class Sealed:
    key_id: str
    ciphertext: bytes


class Vault:
    """Seal and open items' raw data with subject keys stored in ``subject_keys``.

    ``key_dir`` (as :func:`loupe.services.compliance.gate.vault_for` passes it) lets the
    vault follow
    a master-key rotation made after it was created; without it, it raises
    :class:`~loupe.errors.Conflict` once the database is wrapped under another key.

    >>> vault = Vault(bytes(32))
    >>> vault.master_key == bytes(32)
    True
    """

    def __init__(self, master_key: bytes, *, key_dir: Path | None = None) -> None:
        if len(master_key) != 32:
            raise InvalidInput("the privacy master key must be 32 bytes")
        self.master_key = master_key
        self.key_dir = key_dir

    def seal_many(
        self, session: Session, entries: Sequence[tuple[str, str, dict[str, Any]]]
    ) -> list[Sealed]:
        """Seal ``(key_id, aad, raw data)`` triples, creating subject keys as needed."""
        return self.seal_bytes_many(
            session,
            [
                (key_id, aad, json.dumps(data, ensure_ascii=False).encode())
                for key_id, aad, data in entries
            ],
        )

    def seal_bytes_many(
        self, session: Session, entries: Sequence[tuple[str, str, bytes]]
    ) -> list[Sealed]:
        """Seal ``(key_id, aad, raw bytes)`` triples (an item's JSON, an original image),
        creating subject keys as needed."""
        if not entries:
            return []
        wanted = sorted({key_id for key_id, _, _ in entries if key_id.startswith("subject:")})
        # Locked (PostgreSQL): no erasure or purge may shred them before this commits.
        stored = _load(session, wanted, lock="share")
        check = _load(session, [CHECK_KEY_ID]).get(CHECK_KEY_ID)
        self._follow(check)
        sealing_key = self.master_key
        known = dict(stored)
        ring = SubjectKeyring(master_key=self.master_key, storage=known)
        plain = list(entries)
        sealed = [ring.encrypt(key_id, body, item_id=aad) for key_id, aad, body in plain]
        raw = Raw(session)
        now = raw.time(utcnow())
        created = [(k, w, now) for k, w in known.items() if k not in stored]
        if created:
            # Plain SQL: an import creates a key per item without a subject (thousands).
            raw.insert("subject_keys", ("key_id", "wrapped", "created_at"), created,
                       conflict=("key_id",))  # fmt: skip
            # On PostgreSQL a concurrent import may have created the same subject's key
            # first; then seal under the winner's key, or our ciphertexts would be lost.
            named = [str(k) for k in known if k not in stored and k.startswith("subject:")]
            winners = _load(session, named, lock="share")
            check_now = _load(session, [CHECK_KEY_ID]).get(CHECK_KEY_ID)
            lost = {k for k, w in winners.items() if known[k] != w}
            if lost:
                known.update(winners)
                sealed = [
                    ring.encrypt(key_id, body, item_id=aad) if key_id in lost else old
                    for (key_id, aad, body), old in zip(plain, sealed, strict=True)
                ]
            if check_now != check:
                # On PostgreSQL a rotation may commit while our insert waits on its table
                # lock: the keys we created are wrapped under the old master key. Re-wrap
                # them; their data keys, and so the ciphertexts, stay as they are.
                self._follow(check_now)
                ours = {str(k): w for k, w in known.items() if k not in stored and k not in lost}
                SubjectKeyring(master_key=sealing_key, storage=ours).rewrap(self.master_key)
                rewrap_rows(session, ours)
        return [Sealed(key_id, c) for (key_id, _, _), c in zip(entries, sealed, strict=True)]

    def open(self, session: Session, key_id: str, ciphertext: bytes, *, aad: str) -> dict[str, Any]:
        """The raw data; :class:`~loupe.errors.NotFound` once the subject was shredded."""
        data: dict[str, Any] = json.loads(self.open_bytes(session, key_id, ciphertext, aad=aad))
        return data

    def open_bytes(self, session: Session, key_id: str, ciphertext: bytes, *, aad: str) -> bytes:
        """The raw bytes :meth:`seal_bytes_many` sealed; :class:`~loupe.errors.NotFound` once
        the subject was shredded."""
        stored = _load(session, [key_id, CHECK_KEY_ID])
        self._follow(stored.pop(CHECK_KEY_ID, None))
        ring = SubjectKeyring(master_key=self.master_key, storage=stored)
        return ring.decrypt(key_id, ciphertext, item_id=aad)

    def has_key(self, session: Session, key_id: str) -> bool:
        return bool(_load(session, [key_id]))

    def rename_keys(self, session: Session, renames: dict[str, str]) -> None:
        """Give existing keys new ids (``{old: new}``), re-wrapped under the new ids; what
        they sealed opens under the new ids. The caller points the rows that name the
        old ids (``item_vaults``, ``item_media``) at the new ones in the same transaction.
        A new id that has a key already is refused (:class:`~loupe.errors.InvalidInput`)."""
        if not renames:
            return
        table = cast(Table, SubjectKey.__table__)
        stored = _load(session, [*renames, *renames.values(), CHECK_KEY_ID])
        self._follow(stored.pop(CHECK_KEY_ID, None))
        ring = SubjectKeyring(master_key=self.master_key, storage=stored)
        for old, new in renames.items():
            ring.rename(old, new)
        created = {
            str(row.key_id): row.created_at
            for row in session.execute(
                select(table.c.key_id, table.c.created_at).where(table.c.key_id.in_(list(renames)))
            )
        }
        shred(session, list(renames))
        session.execute(
            insert(table),
            [
                {"key_id": new, "wrapped": stored[new], "created_at": created[old]}
                for old, new in renames.items()
            ],
        )

    def _key_files(self) -> list[bytes]:
        return _candidate_keys(self.key_dir)

    def _follow(self, check: bytes | None) -> None:
        """Switch to the master key the database's keys are wrapped under, when a rotation
        changed it since this vault read its key (``check``: the key-check row, if any)."""
        if check is None or opens_check(self.master_key, check):
            return
        # ``.next`` first: a rotation renames it to the master key's name after moving the
        # old key away, so if it is gone by now, the master key file is the new key. A file
        # can vanish between its stat and its read while the renames run: look twice.
        for _ in range(2):
            for key in self._key_files():
                if opens_check(key, check):
                    self.master_key = key
                    return
        where = f"the key directory {self.key_dir}" if self.key_dir else "this vault"
        raise Conflict(
            f"{where} does not hold the privacy master key the database's subject keys are "
            "wrapped under: set LOUPE_KEY_DIR to the directory `loupe keys rotate` last used "
            "(after restoring a backup, put the retired key of its date back as "
            f"{MASTER_KEY_FILE})",
            details={"key_dir": str(self.key_dir) if self.key_dir else None},
        )


def _candidate_keys(key_dir: Path | None) -> list[bytes]:
    keys: list[bytes] = []
    if key_dir is not None:
        for name in (NEXT_KEY_FILE, MASTER_KEY_FILE):
            try:
                keys.append(load_master_key(key_dir, name=name))
            except (Conflict, InvalidInput, OSError):
                continue
    return keys


def opens_check(master_key: bytes, check: bytes) -> bool:
    """Whether the key-check row ``check`` was wrapped under ``master_key``."""
    return SubjectKeyring(master_key=master_key, storage={CHECK_KEY_ID: check}).opens(CHECK_KEY_ID)


def rewrap_rows(session: Session, wrapped: dict[str, bytes]) -> None:
    """Store new wrapped values for existing ``subject_keys`` rows."""
    if not wrapped:
        return
    table = cast(Table, SubjectKey.__table__)
    session.execute(
        update(table).where(table.c.key_id == bindparam("k")).values(wrapped=bindparam("w")),
        [{"k": k, "w": w} for k, w in wrapped.items()],
    )


def lock_keys(session: Session, key_ids: Collection[str], *, share: bool = False) -> set[str]:
    """Those of ``key_ids`` that exist, locked until the transaction ends (PostgreSQL;
    SQLite writers are serialised already): ``FOR UPDATE`` for a shredder, which must
    lock the keys it may shred before it counts the items still sealed under them;
    ``share`` (``FOR KEY SHARE``) for a writer about to reference them, so that none is
    shredded before it commits. A key a shredder deleted while this waited is absent."""
    return set(_load(session, sorted(key_ids), lock="share" if share else "update"))


def _load(
    session: Session, key_ids: Sequence[str], *, lock: Literal["share", "update"] | None = None
) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for start in range(0, len(key_ids), 500):
        part = key_ids[start : start + 500]
        query = select(SubjectKey.key_id, SubjectKey.wrapped).where(SubjectKey.key_id.in_(part))
        if lock is not None:
            # In key order, so two lockers of overlapping sets cannot deadlock.
            shared = lock == "share"  # FOR KEY SHARE, else FOR UPDATE (which blocks it)
            query = query.order_by(SubjectKey.key_id).with_for_update(read=shared, key_share=shared)
        found.update({row.key_id: bytes(row.wrapped) for row in session.execute(query)})
    return found


def shred(session: Session, key_ids: Sequence[str]) -> int:
    """Delete subject keys (crypto-shredding); returns how many existed."""
    total = 0
    for start in range(0, len(key_ids), 500):
        part = list(key_ids[start : start + 500])
        result = session.execute(delete(SubjectKey).where(SubjectKey.key_id.in_(part)))
        total += int(getattr(result, "rowcount", 0) or 0)
    return total
