"""Converting subject ids stored in clear into their keyed refs.

Imports store a data subject's id only as its ref (:func:`loupe.services.compliance.vault.
subject_ref`, ``hmac:<hex>`` under the deployment's ``subject-ref.key``): in
``items.subject_id`` and in the id of the subject's key (``subject:hmac:<hex>``). Rows
written before held the id as the importer gave it (often an email): ``items.subject_id``,
and ``subject:<id>`` in ``subject_keys``, ``item_vaults`` and ``item_media``. Erasure and
access requests still find them (they try both forms); :func:`convert_subject_ids` rewrites
them, in one transaction:

* each item's ``subject_id`` becomes its ref;
* each key ``subject:<id>`` is renamed ``subject:<ref>`` and re-wrapped (the wrap binds the
  key's id; the data key, and so every ciphertext, stays), and the rows sealed under it
  follow. If the subject has a ``subject:<ref>`` key already (items imported after the
  upgrade, before the conversion), the old key keeps a name of its own,
  ``subject:<ref>:<random>``, and is found through the items sealed under it; one that
  seals nothing any more is shredded instead.

An Alembic migration cannot do this: it has no key directory. ``loupe init`` (run at
every start of the container) and ``loupe subjects convert-ids`` run it once the key
directory is known to be this database's (:mod:`loupe.services.compliance.key_binding`):
converted under another deployment's key, a subject could never be found again. It is
idempotent, and cheap when nothing is left to convert. The rewritten rows' old bytes
are then scrubbed from the database files, as after an erasure
(:func:`loupe.db.scrub.scrub`).

A value that already has the form of a ref is taken for one (an importer's id of exactly
that form is left as it is). An older Loupe still writing ids in clear meanwhile (a
rolling upgrade) leaves rows for the next run.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, and_, bindparam, func, not_, select, update
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.db.media_models import ItemMedia
from loupe.db.models import Item
from loupe.db.privacy_models import ItemVault, SubjectKey
from loupe.db.scrub import Scrub, scrub
from loupe.services.access import Actor, authorize
from loupe.services.compliance import audit_log
from loupe.services.compliance.subjects import unused_keys
from loupe.services.compliance.vault import (
    Vault,
    is_subject_ref,
    shred,
    subject_key_id,
    subject_ref,
)

__all__ = [
    "CONVERTED_TABLES",
    "CONVERT_ACTION",
    "SubjectIdConversion",
    "clear_subject_ids",
    "convert_subject_ids",
    "finish_conversion",
]

CONVERT_ACTION = "subjects.ids_converted"
CONVERTED_TABLES = ("items", "item_vaults", "item_media", "subject_keys")
_PREFIX = "subject:"
_REF_LENGTH = len(subject_ref("", key=bytes(32)))
_BATCH = 500
_ITEMS = cast(Table, Item.__table__)
_VAULTS = cast(Table, ItemVault.__table__)
_MEDIA = cast(Table, ItemMedia.__table__)
# ``subject:<ref>``, and an old key renamed beside one: ``subject:<ref>:<random>``.
_CONVERTED_KEY = re.compile(r"subject:hmac:[0-9a-f]{64}(:[0-9a-f]{16})?")
_CONVERTED_PREFIX = "subject:hmac:"
_CONVERTED_LENGTHS = (len(_CONVERTED_PREFIX) + 64, len(_CONVERTED_PREFIX) + 64 + 17)


@dataclass(frozen=True, slots=True)
class SubjectIdConversion:
    """What :func:`convert_subject_ids` did: distinct ids converted, item rows rewritten,
    keys renamed, and keys shredded because nothing was sealed under them any more."""

    subjects: int
    items: int
    keys_renamed: int
    keys_shredded: int


def clear_subject_ids(session: Session) -> list[str]:
    """The subject ids still stored in clear: in items, or in the names of keys."""
    prefix = func.substr(Item.subject_id, 1, 5)
    rows = session.scalars(
        select(Item.subject_id)
        .where(
            Item.subject_id.is_not(None),
            # A ref is "hmac:" and 64 hex digits: the rest is certainly an id in clear.
            not_(and_(prefix == "hmac:", func.length(Item.subject_id) == _REF_LENGTH)),
        )
        .distinct()
    )
    found = {str(value) for value in rows if not is_subject_ref(str(value))}
    converted = and_(
        func.substr(SubjectKey.key_id, 1, len(_CONVERTED_PREFIX)) == _CONVERTED_PREFIX,
        func.length(SubjectKey.key_id).in_(_CONVERTED_LENGTHS),
    )
    # Converted keys are filtered out by the database: every start reads none of them.
    keys = session.scalars(
        select(SubjectKey.key_id).where(SubjectKey.key_id.startswith(_PREFIX), not_(converted))
    )
    # Checked again here: SQLite's LIKE ignores case.
    found.update(
        str(key_id).removeprefix(_PREFIX)
        for key_id in keys
        if str(key_id).startswith(_PREFIX) and not _CONVERTED_KEY.fullmatch(str(key_id))
    )
    return sorted(found)


def convert_subject_ids(
    session: Session, actor: Actor, *, vault: Vault, ref_key: bytes
) -> SubjectIdConversion:
    """Rewrite every subject id stored in clear as its ref (see the module's docstring);
    audited when it converted anything. The caller commits, then runs
    :func:`finish_conversion`."""
    authorize(actor, "subjects.manage")
    ids = clear_subject_ids(session)
    if not ids:
        return SubjectIdConversion(0, 0, 0, 0)
    refs = {raw: subject_ref(raw, key=ref_key) for raw in ids}
    items = 0
    for start in range(0, len(ids), _BATCH):
        part = ids[start : start + _BATCH]
        # Counted, not a rowcount: an executemany's rowcount is the driver's to define.
        items += session.scalar(select(func.count()).where(Item.subject_id.in_(part))) or 0
        _rewrite(session, _ITEMS, "subject_id", {raw: refs[raw] for raw in part})
    renamed = shredded = 0
    for start in range(0, len(ids), _BATCH):
        old_keys = {
            subject_key_id(raw): subject_key_id(refs[raw]) for raw in ids[start : start + _BATCH]
        }
        present = _existing(session, list(old_keys))
        taken = _existing(session, [old_keys[k] for k in present])
        idle = set(unused_keys(session, [k for k in present if old_keys[k] in taken]))
        renames: dict[str, str] = {}
        doomed: list[str] = []
        for old in sorted(present):
            target = old_keys[old]
            if target not in taken:
                renames[old] = target
            elif old in idle:
                doomed.append(old)
            else:
                renames[old] = f"{target}:{secrets.token_hex(8)}"
        vault.rename_keys(session, renames)
        for table in (_VAULTS, _MEDIA):
            _rewrite(session, table, "key_id", renames)
        renamed += len(renames)
        shredded += shred(session, doomed)
    audit_log.record(
        session,
        actor,
        CONVERT_ACTION,
        target="subjects",
        details={
            "subjects": len(ids),
            "items": items,
            "keys_renamed": renamed,
            "keys_shredded": shredded,
        },
    )
    session.flush()
    return SubjectIdConversion(len(ids), items, renamed, shredded)


def finish_conversion(db: Database) -> Scrub:
    """After a conversion COMMITTED: scrub the rewritten rows' old values (the ids in
    clear) from the database files, as after an erasure."""
    return scrub(db.engine, tables=CONVERTED_TABLES)


def _existing(session: Session, key_ids: list[str]) -> set[str]:
    if not key_ids:
        return set()
    return set(session.scalars(select(SubjectKey.key_id).where(SubjectKey.key_id.in_(key_ids))))


def _rewrite(session: Session, table: Table, column: str, values: dict[str, str]) -> None:
    """``UPDATE table SET column = new WHERE column = old`` for each pair."""
    if values:
        session.execute(
            update(table)
            .where(table.c[column] == bindparam("old"))
            .values({column: bindparam("new")}),
            [{"old": old, "new": new} for old, new in values.items()],
        )
