"""Items: idempotent batch import (by external id) through the privacy gate, and reading them.

Every imported item passes the gate (:mod:`loupe.services.compliance.gate`) before it is
written: ``items.data`` and ``items.metadata`` hold what annotators may see
(redacted, or ``[WITHHELD]``), and the original is sealed under its subject's key in
``item_vaults``. A project whose gate is off (public data) stores items as given. In
every project the data subject's id is stored only as its keyed ref
(``items.subject_id``, and the name of the subject's key).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from loupe.db.media_models import ItemMedia
from loupe.db.models import Consensus, Item, Project, utcnow
from loupe.db.queries.items import routed_item_ids
from loupe.db.raw import Raw
from loupe.errors import Conflict, NotFound
from loupe.formats import ItemRecord
from loupe.privacy import Policy
from loupe.services.access import Actor, authorize_project, member_role
from loupe.services.compliance.gate import GateResult, PrivacyGate, classify
from loupe.services.compliance.privacy_settings import lock_privacy, privacy_of
from loupe.services.compliance.vault import item_aad, lock_keys, original_payload, subject_key_id
from loupe.services.people.eligibility import item_filter, load_profile, require_eligible
from loupe.services.projects.definition import project_schema

if TYPE_CHECKING:
    from loupe.services.projects.media import StoredMedia

__all__ = [
    "GatedBatch",
    "ImportResult",
    "StaleBatch",
    "answered_items",
    "batched",
    "consensus_answers",
    "count_items",
    "count_personal_items",
    "gate_ids",
    "get_item",
    "insert_items",
    "item_id_for",
    "keepless_gate",
    "list_items",
    "media_regions",
    "new_records",
    "personal_items",
    "write_batch",
]


@dataclass(slots=True)
class ImportResult:
    received: int = 0
    created: int = 0
    # New items the gate withheld (a scan that failed or a text over the size limit, or
    # any finding under the ``withhold`` policy): stored, never handed out.
    withheld: int = 0

    @property
    def existing(self) -> int:
        """Rows whose external id was already in the project (left unchanged)."""
        return self.received - self.created


def batched(records: Iterable[ItemRecord], size: int) -> Iterator[list[ItemRecord]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


@lru_cache(maxsize=1)
def keepless_gate() -> PrivacyGate:
    """The gate for callers that pass none: it redacts but keeps no originals."""
    return PrivacyGate()


def insert_items(
    session: Session,
    actor: Actor,
    project_id: int,
    records: Sequence[ItemRecord],
    *,
    gate: PrivacyGate | None = None,
) -> ImportResult:
    """Insert one batch through the privacy gate; existing external ids are skipped.

    Pass a ``gate`` with a vault (:func:`loupe.services.compliance.vault.Vault`) to keep the
    originals sealed. Without one the gate still redacts, but the originals are not
    kept at all (demos and tests that have no key directory), and records that name a
    data subject are refused: their ids are stored as refs under the gate's ref key.
    """
    project = authorize_project(session, actor, "items.import", project_id)
    # Locked first (PostgreSQL): the settings the batch is gated under are those it is
    # written under.
    lock_privacy(session, project_id)
    return _insert(session, project, records, gate or keepless_gate())


def gate_ids(
    session: Session, project_id: int, records: Sequence[ItemRecord], gate: PrivacyGate
) -> list[ItemRecord]:
    """``records`` with their ids as the project's gate lets them be stored and shown
    (:meth:`PrivacyGate.external_ids`; a row that came without an id,
    :meth:`PrivacyGate.row_id`); as given when the project's gate is off."""
    return _gated_ids(
        session, project_id, records, gate, gated=privacy_of(session, project_id).gate
    )


def _gated_ids(
    session: Session,
    project_id: int,
    records: Sequence[ItemRecord],
    gate: PrivacyGate,
    *,
    gated: bool,
) -> list[ItemRecord]:
    if not records or not gated:
        return list(records)
    ids = gate.external_ids([record.external_id for record in records if not record.derived_id])
    derived = {r.external_id: gate.row_id(r.external_id) for r in records if r.derived_id}
    if derived:
        # A row an older Loupe stored under its unkeyed content hash keeps that id, so a
        # re-import finds it instead of adding it twice.
        ids.update(
            (old, old)
            for old in session.scalars(
                select(Item.external_id).where(
                    Item.project_id == project_id, Item.external_id.in_(list(derived))
                )
            )
        )
        ids.update((old, new) for old, new in derived.items() if old not in ids)
    return [
        record
        if ids[record.external_id] == record.external_id
        else replace(record, external_id=ids[record.external_id])
        for record in records
    ]


@dataclass(slots=True)
class GatedBatch:
    """A batch's records not stored yet (:func:`new_records`), gated by :meth:`check`.

    Gating is the slow part of an import (a fraction of a millisecond per item), so it
    runs outside any transaction; :func:`write_batch` then holds the writer only for
    the inserts.
    """

    project_id: int
    received: int
    gated: bool = False
    policy: Policy = "placeholder"
    records: dict[str, ItemRecord] = field(default_factory=dict)
    results: dict[str, GateResult | None] = field(default_factory=dict)
    # Media parts stored by :meth:`loupe.services.projects.media.MediaIngest.ingest`,
    # by external id,
    # and the subject key their originals are sealed under (the item's text uses it too).
    media: dict[str, list[StoredMedia]] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)

    def check(self, gate: PrivacyGate) -> GatedBatch:
        """Run the gate on the records (when the project's gate is on); returns ``self``."""
        return self.submit(gate)()

    def submit(self, gate: PrivacyGate) -> Callable[[], GatedBatch]:
        """Start :meth:`check`: calling what it returns waits for the gate's results and
        returns ``self``. With a gate pool the records are gated meanwhile."""
        batch = list(self.records.values())
        if not (self.gated and batch):
            self.results = dict.fromkeys(self.records)
            return lambda: self
        pending = gate.submit(
            [record.data for record in batch],
            policy=self.policy,
            metadata=[record.meta for record in batch],
        )

        def finish() -> GatedBatch:
            self.results = dict(zip(self.records, pending.result(), strict=True))
            return self

        return finish

    def slices(self, size: int) -> Iterator[GatedBatch]:
        """This batch's new records in parts of ``size`` (``received`` counts each part's
        records only), to write in shorter transactions than the gate's batches."""
        keys = list(self.records)
        for start in range(0, len(keys), size):
            part = keys[start : start + size]
            yield GatedBatch(
                self.project_id,
                len(part),
                gated=self.gated,
                policy=self.policy,
                records={key: self.records[key] for key in part},
                results={key: self.results[key] for key in part},
                media={key: self.media[key] for key in part if key in self.media},
                key_ids={key: self.key_ids[key] for key in part if key in self.key_ids},
            )


def new_records(
    session: Session, project_id: int, records: Sequence[ItemRecord], gate: PrivacyGate
) -> GatedBatch:
    """The records of ``project_id`` not stored yet, with their gated ids and their subject
    ids replaced by their refs (:meth:`PrivacyGate.stored_subject`, whether or not the
    project's gate is on), not yet :meth:`~GatedBatch.check`-ed; reads only (no
    authorisation: the caller checked it)."""
    if not records:
        return GatedBatch(project_id, 0)
    # Read once: the ids, the gate's run and the check in write_batch see the same settings.
    settings = privacy_of(session, project_id)
    records = _gated_ids(session, project_id, records, gate, gated=settings.gate)
    # Within one batch the last duplicate would lose to the first at the database;
    # keep the first explicitly so counts are right.
    unique: dict[str, ItemRecord] = {}
    for record in records:
        unique.setdefault(record.external_id, record)
    # Ids already in the project are left as they are: skip them before the gate, so
    # re-running an import (to resume one that died) does not scan everything again.
    present = set(
        session.scalars(
            select(Item.external_id).where(
                Item.project_id == project_id, Item.external_id.in_(list(unique))
            )
        )
    )
    for external_id in present:
        del unique[external_id]
    # From here on a record's subject is what is stored of it, its keyed ref: the item's
    # row, and the key its original and media are sealed under, name the ref only.
    for external_id, record in unique.items():
        if record.subject_id is not None:
            unique[external_id] = replace(record, subject_id=gate.stored_subject(record.subject_id))
    return GatedBatch(
        project_id, len(records), gated=settings.gate, policy=settings.policy, records=unique
    )


# The columns write_batch fills, in its rows' order.
_ITEM_COLUMNS = (
    "project_id",
    "external_id",
    "data",
    "metadata",
    "language",
    "domain",
    "min_level",
    "sensitivity",
    "subject_id",
    "withheld",
    "label_count",
    "is_complete",
    "is_gold",
    "created_at",
)
_VAULT_COLUMNS = ("item_id", "key_id", "ciphertext", "spans", "detected", "withheld_reason")


class StaleBatch(Conflict):
    """A gated batch that no longer fits its project: the project's privacy settings
    changed, or a subject's key its media were sealed under was shredded (an erasure, a
    purge), after it was gated. Nothing of it was written; gate it again
    (:func:`loupe.services.projects.imports.import_records` does)."""


def write_batch(session: Session, batch: GatedBatch, gate: PrivacyGate) -> ImportResult:
    """Insert a checked :class:`GatedBatch`; ids stored meanwhile (a concurrent import of
    the same file) are skipped, so the counts stay exact.

    The batch was gated outside this transaction: :class:`StaleBatch` (nothing written)
    when the project's privacy settings are no longer those it was gated under, or a key
    its media were sealed under is gone. Both are checked under locks held to the commit
    (PostgreSQL; SQLite serialises writers), so no item is stored ungated in a project
    whose gate was switched on meanwhile, nor names a shredded key.
    """
    if not batch.records:
        return ImportResult(received=batch.received, created=0)
    settings = lock_privacy(session, batch.project_id)
    if settings.gate != batch.gated or (settings.gate and settings.policy != batch.policy):
        raise StaleBatch(
            f"project {batch.project_id}'s privacy settings changed while these items were "
            "gated; import them again (items already stored are skipped)",
            details={"project_id": batch.project_id, "reason": "privacy_settings"},
        )
    media_keys = {part.key_id for parts in batch.media.values() for part in parts if part.key_id}
    if media_keys and lock_keys(session, media_keys, share=True) != media_keys:
        raise StaleBatch(
            "a data subject's key was shredded (an erasure or a retention purge) after "
            "these items' media were sealed under it; import them again (items already "
            "stored are skipped)",
            details={"project_id": batch.project_id, "reason": "key_shredded"},
        )
    now = utcnow()
    project_id, unique, results = batch.project_id, batch.records, batch.results
    raw = Raw(session)
    created_at = raw.time(now)
    rows = [
        (
            project_id,
            record.external_id,
            raw.json(result.data if result else record.data),
            raw.json(result.metadata if result else record.meta),
            record.language,
            record.domain,
            record.min_level,
            classify(result, domain=record.domain, floor=record.sensitivity, gated=batch.gated),
            record.subject_id,
            bool(result and result.withheld_reason),
            0,
            False,
            False,
            created_at,
        )
        for record, result in zip(unique.values(), results.values(), strict=True)
    ]
    inserted = raw.insert(
        "items",
        _ITEM_COLUMNS,
        rows,
        conflict=("project_id", "external_id"),
        returning=("id", "external_id"),
    )
    if batch.gated and gate.vault is not None and inserted:
        _seal(session, project_id, gate, inserted, unique, results, batch.key_ids)
    media_rows = [
        part.row(item_id, project_id, now)
        for item_id, external_id in inserted
        for part in batch.media.get(external_id, ())
    ]
    if media_rows:
        session.execute(insert(ItemMedia), media_rows)
    withheld = sum(1 for _, external_id in inserted if _withheld(results[external_id]))
    return ImportResult(received=batch.received, created=len(inserted), withheld=withheld)


def _insert(
    session: Session, project: Project, records: Sequence[ItemRecord], gate: PrivacyGate
) -> ImportResult:
    return write_batch(session, new_records(session, project.id, records, gate).check(gate), gate)


def _withheld(result: GateResult | None) -> bool:
    return result is not None and result.withheld_reason is not None


def _seal(
    session: Session,
    project_id: int,
    gate: PrivacyGate,
    inserted: Sequence[Any],
    records: dict[str, ItemRecord],
    results: dict[str, GateResult | None],
    key_ids: dict[str, str],
) -> None:
    assert gate.vault is not None
    entries = []
    for _, external_id in inserted:
        record, result = records[external_id], results[external_id]
        assert result is not None
        payload = original_payload(
            record.data, record.meta, metadata_changed=result.metadata != record.meta
        )
        key_id = key_ids.get(external_id) or subject_key_id(record.subject_id)
        entries.append((key_id, item_aad(project_id, external_id), payload))
    sealed = gate.vault.seal_many(session, entries)
    raw = Raw(session)
    vault_rows = []
    for (item_id, external_id), box in zip(inserted, sealed, strict=True):
        result = results[external_id]
        assert result is not None
        vault_rows.append(
            (
                item_id,
                box.key_id,
                box.ciphertext,
                raw.json(result.spans),
                raw.json(list(result.detected)),
                result.withheld_reason,
            )
        )
    raw.insert("item_vaults", _VAULT_COLUMNS, vault_rows)


def _count(session: Session, project_id: int) -> int:
    return session.scalar(select(func.count()).where(Item.project_id == project_id)) or 0


def count_items(session: Session, actor: Actor, project_id: int) -> int:
    authorize_project(session, actor, "projects.read", project_id)
    return _count(session, project_id)


def list_items(
    session: Session, actor: Actor, project_id: int, *, after_id: int, limit: int
) -> Sequence[Item]:
    """A page of items in id order (keyset pagination: pass the last id seen)."""
    project = authorize_project(session, actor, "items.read", project_id)
    if _routed_reader(session, actor, project_id):
        # A project reviewer is a contributor: they read only items routed to them.
        raw = Raw(session)
        profile = load_profile(raw, actor.user_id or 0, now=utcnow(), project_id=project_id)
        condition = item_filter(project_schema(project).routing, profile)
        ids = [
            int(row.id)
            for row in raw.all(
                routed_item_ids(condition.sql),
                project=project_id,
                after=after_id,
                limit=limit,
                **condition.params,
            )
        ]
        return session.scalars(select(Item).where(Item.id.in_(ids)).order_by(Item.id)).all()
    return session.scalars(
        select(Item)
        .where(Item.project_id == project_id, Item.id > after_id)
        .order_by(Item.id)
        .limit(limit)
    ).all()


def _routed_reader(session: Session, actor: Actor, project_id: int) -> bool:
    """Whether ``actor`` reads this project's items as a contributor (a project reviewer),
    not as its staff (managers, auditors, admins), and so only items routed to them."""
    if actor.role in ("admin", "auditor") or actor.user_id is None:
        return False
    return member_role(session, project_id, actor.user_id) == "reviewer"


def get_item(session: Session, actor: Actor, project_id: int, item_id: int) -> Item:
    project = authorize_project(session, actor, "items.read", project_id)
    item = session.get(Item, item_id)
    if item is None or item.project_id != project_id:
        raise NotFound(
            f"item {item_id} does not exist in project {project_id}",
            details={"item_id": item_id},
        )
    if _routed_reader(session, actor, project_id):
        require_eligible(
            Raw(session), project_schema(project).routing, actor.user_id or 0, item_id,
            now=utcnow(),
        )  # fmt: skip
    return item


def item_id_for(session: Session, project_id: int, external_id: str) -> int | None:
    """The id of the project's item stored under ``external_id`` (as the gate stored it)."""
    return session.scalar(
        select(Item.id).where(Item.project_id == project_id, Item.external_id == external_id)
    )


def personal_items(
    session: Session, project_id: int, *, limit: int, external_prefix: str = ""
) -> list[tuple[str, dict[str, Any]]]:
    """``(external_id, redacted data)`` of the first items the gate found personal data in."""
    rows = session.execute(
        select(Item.external_id, Item.data)
        .where(
            Item.project_id == project_id,
            Item.sensitivity == "personal",
            Item.external_id.startswith(external_prefix, autoescape=True),
        )
        .order_by(Item.id)
        .limit(limit)
    ).all()
    return [(external_id, data) for external_id, data in rows]


def count_personal_items(session: Session, project_id: int) -> int:
    """How many of the project's items the gate found personal data in."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Item)
            .where(Item.project_id == project_id, Item.sensitivity == "personal")
        )
        or 0
    )


def consensus_answers(
    session: Session, project_id: int, external_ids: Collection[str]
) -> list[tuple[str, Any]]:
    """``(external_id, consensus answer)`` of those of these items that have a consensus."""
    rows = session.execute(
        select(Item.external_id, Consensus.answer)
        .join(Consensus, Consensus.item_id == Item.id)
        .where(Item.project_id == project_id, Item.external_id.in_(list(external_ids)))
    ).all()
    return [(external_id, answer) for external_id, answer in rows]


def answered_items(
    session: Session, project_id: int, external_ids: Collection[str]
) -> list[tuple[str, dict[str, Any], bool, Any]]:
    """``(external_id, data, withheld, consensus answer or None)`` of these items."""
    rows = session.execute(
        select(Item.external_id, Item.data, Item.withheld, Consensus.answer)
        .outerjoin(Consensus, Consensus.item_id == Item.id)
        .where(Item.project_id == project_id, Item.external_id.in_(list(external_ids)))
    ).all()
    return [(external_id, data, withheld, answer) for external_id, data, withheld, answer in rows]


def media_regions(
    session: Session, project_id: int, external_ids: Collection[str]
) -> list[list[dict[str, Any]]]:
    """What the gate pixelated in each of these items' media (type and box, no content)."""
    return list(
        session.scalars(
            select(ItemMedia.regions)
            .join(Item, Item.id == ItemMedia.item_id)
            .where(Item.project_id == project_id, Item.external_id.in_(list(external_ids)))
        ).all()
    )
