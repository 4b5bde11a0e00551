"""Deleting media blobs: with their items, once the deletion commits (:func:`drop_media`,
:func:`use_blob_store`), and the orphans an import or a failed delete left behind
(:func:`collect_garbage`, ``loupe media gc``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, delete, event, select
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.db.media_models import ItemMedia
from loupe.db.models import utcnow

if TYPE_CHECKING:
    from loupe.settings import Settings
    from loupe.storage import BlobStore

__all__ = ["GC_GRACE", "GarbageRun", "collect_garbage", "drop_media", "use_blob_store"]

# `loupe media gc` leaves orphans younger than this: an import puts its blobs before the
# transaction that references them commits.
GC_GRACE = timedelta(hours=1)
_STORES: WeakKeyDictionary[Engine, Callable[[], BlobStore]] = WeakKeyDictionary()
_DOOMED = "loupe.media.doomed"


def use_blob_store(db: Database, store: BlobStore | Settings) -> None:
    """Delete the blobs of items deleted through ``db`` from ``store`` (or the store of
    these settings, opened when first needed) once the deletion commits
    (:func:`drop_media`). Called where a database is opened with its settings."""
    from loupe.settings import Settings

    if isinstance(store, Settings):
        settings = store

        def opener() -> BlobStore:
            from loupe.storage import blob_store_for

            return blob_store_for(settings)

        _STORES[db.engine] = opener
    else:
        blobs = store
        _STORES[db.engine] = lambda: blobs


def drop_media(session: Session, item_ids: Sequence[int]) -> list[str]:
    """Delete the ``item_media`` rows of ``item_ids`` (in the caller's transaction) and
    return the blob keys that no row references any more: their sealed originals, and
    served blobs no other item carries. Those blobs are deleted after the transaction
    commits (when a blob store is registered for the database, :func:`use_blob_store`);
    otherwise, or should that fail, ``loupe media gc`` deletes them later."""
    sealed: set[str] = set()
    served: set[str] = set()
    for start in range(0, len(item_ids), 500):
        part = list(item_ids[start : start + 500])
        for blob, sha in session.execute(
            select(ItemMedia.sealed_blob, ItemMedia.sha256).where(ItemMedia.item_id.in_(part))
        ):
            if blob:
                sealed.add(str(blob))
            served.add(str(sha))
        session.execute(delete(ItemMedia).where(ItemMedia.item_id.in_(part)))
    if not sealed and not served:
        return []
    kept = _referenced(session, served)
    doomed = sorted(sealed) + [_served_key(sha) for sha in sorted(served - kept)]
    pending: list[str] | None = session.info.get(_DOOMED)
    if pending is None:
        pending = session.info[_DOOMED] = []
        event.listen(session, "after_commit", _after_commit, once=True)
        event.listen(session, "after_rollback", _forget, once=True)
    pending.extend(doomed)
    return doomed


def _referenced(session: Session | Any, shas: set[str]) -> set[str]:
    found: set[str] = set()
    wanted = sorted(shas)
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        found.update(
            str(s)
            for s in session.execute(
                select(ItemMedia.sha256).where(ItemMedia.sha256.in_(part)).distinct()
            ).scalars()
        )
    return found


def _forget(session: Session) -> None:
    session.info.pop(_DOOMED, None)


def _after_commit(session: Session) -> None:
    keys: list[str] = session.info.pop(_DOOMED, None) or []
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    opener = _STORES.get(engine)
    if opener is None or not keys:
        return
    try:
        store = opener()
    except Exception:
        return
    _delete_unreferenced(engine, store, keys)


def _delete_unreferenced(engine: Engine, store: BlobStore, keys: Sequence[str]) -> int:
    """Delete ``keys`` from ``store``, except served blobs an item references again (an
    import of the same bytes may have committed meanwhile)."""
    served = {key.rsplit("/", 1)[-1] for key in keys if key.startswith("media/")}
    with engine.connect() as connection:
        kept = _referenced(connection, served) if served else set()
    deleted = 0
    for key in keys:
        if key.startswith("media/") and key.rsplit("/", 1)[-1] in kept:
            continue
        try:
            deleted += bool(store.delete(key))
        except Exception:
            continue
    return deleted


@dataclass(frozen=True, slots=True)
class GarbageRun:
    """What :func:`collect_garbage` found and deleted."""

    deleted: list[str]
    bytes_freed: int
    kept_young: int  # orphans younger than the grace period, left for a later run
    referenced: int  # blobs some item_media row references


def collect_garbage(
    db: Database,
    store: BlobStore,
    *,
    grace: timedelta = GC_GRACE,
    now: datetime | None = None,
    dry_run: bool = False,
    modified: Callable[[str], datetime | None] | None = None,
) -> GarbageRun:
    """Delete blobs no ``item_media`` row references and older than ``grace`` (an import
    in flight puts its blobs before the transaction that references them commits).

    ``modified`` gives a blob's last-modified time; by default the store's own
    ``modified(key)`` if it has one, else the local file's. A blob whose age cannot be
    told is kept unless ``grace`` is zero.
    """
    now = now or utcnow()
    age_of = modified or _modified_of(store)
    with db.transaction(readonly=True) as session:
        served = set(session.scalars(select(ItemMedia.sha256).distinct()))
        sealed = {str(b) for b in session.scalars(select(ItemMedia.sealed_blob)) if b}
    deleted: list[str] = []
    freed = young = referenced = 0
    for prefix in ("media/", "sealed/"):
        for key in list(store.keys(prefix)):
            name = key.rsplit("/", 1)[-1]
            if (prefix == "media/" and name in served) or key in sealed:
                referenced += 1
                continue
            if grace > timedelta(0):
                stamp = age_of(key)
                if stamp is None or now - stamp < grace:
                    young += 1
                    continue
            size = store.size(key)
            if dry_run or store.delete(key):
                deleted.append(key)
                freed += size
    if deleted and not dry_run:
        # An import of the same bytes may have committed since the rows were read.
        with db.transaction(readonly=True) as session:
            again = _referenced(session, {k.rsplit("/", 1)[-1] for k in deleted})
        if again:  # pragma: no cover - a race with an import; its next run re-puts them
            deleted = [k for k in deleted if k.rsplit("/", 1)[-1] not in again]
    return GarbageRun(deleted, freed, young, referenced)


def _modified_of(store: BlobStore) -> Callable[[str], datetime | None]:
    own = getattr(store, "modified", None)
    if callable(own):
        return own  # type: ignore[no-any-return]
    root = getattr(store, "root", None)

    def from_file(key: str) -> datetime | None:
        if root is None:
            return None
        try:
            stamp = (Path(root) / key).stat().st_mtime
        except OSError:
            return None
        return datetime.fromtimestamp(stamp, tz=UTC)

    return from_file


def _served_key(sha256: str) -> str:
    from loupe.storage import served_key

    return served_key(sha256)
