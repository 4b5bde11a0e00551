"""Media going out: the ``media`` list of item payloads, and who may fetch a blob.

Every payload that shows an item to a person (next task, review, expert queue,
adjudication, the item API) carries its media parts as :class:`MediaEntry` values
built by :func:`media_for`: the blob's URL (``/api/v1/media/<sha256>``), its type and
size, and the regions the privacy gate pixelated. The URL names the *served* (gated)
bytes; originals leave the vault only through
:func:`loupe.services.compliance.reveals.reveal_media` (cleared, audited).

:func:`authorize_media` decides a fetch of ``/media/<sha256>``. The bytes are content
addressed, so one blob may belong to several items; a person may fetch it when they
may read the text of at least one item that carries it:

* a contributor (a member who works in the project) holding a live lease on the item
  (a task, or an expert's escalated item), who labelled it, or who holds a live review
  lease on one of its labels, and to whom the item is still routed (clearances,
  language, levels);
* those who read a project's items (``items.read``: managers, auditors, admins; a
  project reviewer only the items routed to them, as
  :func:`loupe.services.projects.items.get_item`).

An item the privacy gate withheld is never shown to contributors, reviewers or
auditors: its blob is fetchable only by those who manage the project's privacy gate
(``privacy.manage``: its managers and admins) and hold a clearance for the item's class in
its project, since the gate could not finish it (its text unchecked without OCR, its faces
unchecked when a detector failed). Anyone else gets :class:`NotFound`, never a refusal
that would confirm the blob exists.

**Audio** (a voice is biometric data) needs, on top of all that, a live ``voice``
clearance for the item's project (:data:`loupe.services.people.clearances.VOICE`), for everyone:
annotators, reviewers, experts, managers and admins alike. A payload shown to someone
without one names the part (field, type, duration, sample rate) but neither its URL nor
its SHA-256 (``restricted: "voice"``); they work from the item's transcript, a text field
that passed the text gate. Each playback by a cleared person is audited
(:func:`record_play`, ``media.play``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy.orm import Session

from loupe.db.models import Item, utcnow
from loupe.db.queries.clearances import VOICE_CLEARANCE_IN_PROJECT, VOICE_CLEARED_PROJECTS
from loupe.db.queries.item_media import (
    MEDIA_WORKED_ON,
    NOT_WITHHELD,
    PROJECTS_WITH_BLOB,
    MediaPart,
    blob_in_project,
    media_of_items,
    withheld_if_cleared,
)
from loupe.db.queries.memberships import MEMBER_ROLE
from loupe.db.raw import Raw
from loupe.errors import NotFound, PermissionDenied
from loupe.formats import SENSITIVITIES
from loupe.permissions import allowed
from loupe.services.access import Actor, ProjectRef, authorize_project_fast, member_role
from loupe.services.compliance import audit_log
from loupe.services.people.clearances import VOICE, has_clearance
from loupe.services.people.eligibility import item_filter, load_profile, require_eligible
from loupe.services.projects.definition import project_schema

__all__ = [
    "MEDIA_PATH",
    "SHA256_PATTERN",
    "MediaEntry",
    "MediaRegion",
    "ServedMedia",
    "authorize_media",
    "media_for",
    "media_for_reader",
    "media_of",
    "media_url",
    "playback_starts",
    "record_play",
]

MEDIA_PATH = "/api/v1/media/"
SHA256_PATTERN = "^[0-9a-f]{64}$"
_SHA256 = re.compile(SHA256_PATTERN)
_CHUNK = 500  # item ids per IN (...) list


class MediaRegion(TypedDict):
    """A region the gate pixelated: its type (``FACE``, ``LICENSE_PLATE``, ``EMAIL``...)
    and box in pixels of the served image; never what it held."""

    type: str
    x: int
    y: int
    width: int
    height: int


class MediaEntry(TypedDict):
    """One media part of an item, as every item payload carries it (the UI reads this).

    ``url`` and ``sha256`` are ``None`` for an audio part shown to someone without a voice
    clearance (``restricted`` is then ``"voice"``)."""

    field: str
    kind: str
    url: str | None
    sha256: str | None
    mime: str
    width: int | None
    height: int | None
    regions: list[MediaRegion]
    duration_ms: int | None
    sample_rate: int | None
    restricted: str | None


@dataclass(frozen=True, slots=True)
class ServedMedia:
    """What :func:`authorize_media` lets through: the blob and its type (from the row that
    granted access, never sniffed from the bytes), and the item part that granted it."""

    sha256: str
    mime: str
    size: int
    kind: str = "image"
    project_id: int | None = None
    item_id: int | None = None
    field: str | None = None


def media_url(sha256: str) -> str:
    """Where the gated bytes are served.

    >>> media_url("ab" * 32)[:22]
    '/api/v1/media/abababab'
    """
    return MEDIA_PATH + sha256


def _region(region: dict[str, object]) -> MediaRegion:
    def number(key: str) -> int:
        value = region.get(key, 0)
        return round(value) if isinstance(value, int | float) else 0

    return MediaRegion(
        type=str(region.get("type", "")),
        x=number("x"),
        y=number("y"),
        width=number("width"),
        height=number("height"),
    )


def _number(value: Any) -> int | None:
    return None if value is None else int(value)


def _entry(raw: Raw, part: MediaPart, *, heard: bool) -> MediaEntry:
    kind = str(part.kind)
    restricted = kind == "audio" and not heard
    sha256 = None if restricted else str(part.sha256)
    regions = raw.json_out(part.regions) or []
    return MediaEntry(
        field=str(part.field),
        kind=kind,
        url=None if sha256 is None else media_url(sha256),
        sha256=sha256,
        mime=str(part.mime),
        width=_number(part.width),
        height=_number(part.height),
        regions=[_region(region) for region in regions if isinstance(region, dict)],
        duration_ms=_number(part.duration_ms),
        sample_rate=_number(part.sample_rate),
        restricted=VOICE if restricted else None,
    )


def _voice_projects(raw: Raw, listener: int | None, now: datetime) -> set[int]:
    """The projects where ``listener`` holds a live voice clearance."""
    if listener is None:
        return set()
    rows = raw.all(VOICE_CLEARED_PROJECTS, user=listener, voice=VOICE, now=raw.time(now))
    return {int(row.project_id) for row in rows}


def _media(
    raw: Raw, ids: Sequence[int], *, listener: int | None, now: datetime | None = None
) -> dict[int, list[MediaEntry]]:
    parts: list[MediaPart] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        names = {f"i{n}": item_id for n, item_id in enumerate(chunk)}
        parts.extend(raw.all(media_of_items(names), **names))
    # Only a payload with audio asks about voice clearances (images and text: no query).
    cleared = (
        _voice_projects(raw, listener, now or utcnow())
        if any(part.kind == "audio" for part in parts)
        else set()
    )
    found: dict[int, list[MediaEntry]] = {}
    for part in parts:
        entry = _entry(raw, part, heard=int(part.project_id) in cleared)
        found.setdefault(int(part.item_id), []).append(entry)
    return found


def media_for(
    session: Session, item_ids: Iterable[int], *, listener: int | None = None
) -> dict[int, list[MediaEntry]]:
    """The media entries of each item (items without media are absent), in the order
    they were imported. One query per :data:`_CHUNK` ids; no authorisation: the caller
    has decided the actor may read these items. Audio parts carry their URL only when
    ``listener`` (the user the payload is for) holds a live voice clearance for the
    item's project; without a listener, never."""
    return _media(Raw(session), sorted(set(item_ids)), listener=listener)


def media_for_reader(
    session: Session, actor: Actor, project_id: int, items: Sequence[Item]
) -> dict[int, list[MediaEntry]]:
    """:func:`media_for` for items ``actor`` was allowed to read (the item API): the media
    of withheld items only for those who manage the project's privacy gate and are cleared
    for the item's class, the only people :func:`authorize_media` serves those blobs to;
    audio URLs only for the voice-cleared."""
    found = media_for(session, [item.id for item in items], listener=actor.user_id)
    withheld = [item for item in items if item.withheld and item.id in found]
    if not withheld:
        return found
    manager = allowed(
        actor.role, "privacy.manage", member_role=member_role(session, project_id, actor.user_id)
    )
    now = utcnow()
    for item in withheld:
        if not (manager and _cleared(session, actor, item.sensitivity, project_id, now=now)):
            del found[item.id]
    return found


def _cleared(
    session: Session, actor: Actor, sensitivity: str, project_id: int, *, now: datetime
) -> bool:
    """Whether ``actor`` may see a withheld item of class ``sensitivity``: the system, or
    a person cleared for it in the project (a withheld image may show what the gate could
    not check)."""
    if actor.user_id is None:
        return True
    return has_clearance(session, actor.user_id, sensitivity, project_id=project_id, now=now)


def media_of(
    raw: Raw, item_id: int, *, fields: Sequence[str], listener: int | None = None
) -> list[MediaEntry]:
    """One item's entries for a payload for ``listener`` (see :func:`media_for`), without a
    query when the project's schema names no media ``fields`` (every text-only project:
    the next-task hot path stays as it was)."""
    if not fields:
        return []
    return _media(raw, [item_id], listener=listener).get(item_id, [])


def _not_found(sha256: str) -> NotFound:
    # The same answer whether the blob exists or not: a refusal would confirm it does.
    return NotFound(f"no media {sha256[:64]} that you may see", details={"sha256": sha256[:64]})


def authorize_media(
    session: Session, actor: Actor, sha256: str, *, now: datetime | None = None
) -> ServedMedia:
    """The blob ``sha256`` if ``actor`` may read an item that carries it (and, for audio,
    holds a live voice clearance for that item's project; see the module docstring), else
    :class:`NotFound`, whether or not it exists."""
    if not _SHA256.match(sha256):
        raise _not_found(sha256)
    raw = Raw(session)
    now = now or utcnow()
    if actor.user_id is not None:
        served = _as_contributor(raw, actor, sha256, now=now)
        if served is not None:
            return served
    for blob in raw.all(PROJECTS_WITH_BLOB, sha=sha256):
        served = _as_reader(raw, actor, sha256, int(blob.project_id), now=now)
        if served is not None:
            return served
    raise _not_found(sha256)


def _project(raw: Raw, actor: Actor, project_id: int) -> ProjectRef | None:
    try:
        return authorize_project_fast(raw, actor, "projects.read", project_id)
    except (NotFound, PermissionDenied):
        return None


def _member_role(raw: Raw, actor: Actor, project_id: int) -> str | None:
    if actor.user_id is None:
        return None
    member = raw.one(MEMBER_ROLE, project=project_id, user=actor.user_id)
    return None if member is None else str(member.role)


def _voice_cleared(raw: Raw, actor: Actor, project_id: int, *, now: datetime) -> bool:
    if actor.user_id is None:
        return False
    clearance = raw.one(
        VOICE_CLEARANCE_IN_PROJECT,
        user=actor.user_id,
        project=project_id,
        voice=VOICE,
        now=raw.time(now),
    )
    return clearance is not None


def _as_contributor(raw: Raw, actor: Actor, sha256: str, *, now: datetime) -> ServedMedia | None:
    assert actor.user_id is not None
    parts = raw.all(MEDIA_WORKED_ON, sha=sha256, false=False, user=actor.user_id, now=raw.time(now))
    for part in parts:
        project_id = int(part.project_id)
        if part.kind == "audio" and not _voice_cleared(raw, actor, project_id, now=now):
            continue
        role = _member_role(raw, actor, project_id)
        # Removed from the project since: the lease or label no longer lets them look.
        if not (
            allowed(actor.role, "tasks.work", member_role=role)
            or allowed(actor.role, "reviews.work", member_role=role)
        ):
            continue
        project = _project(raw, actor, project_id)
        if project is None:
            continue
        try:  # still routed to them (a clearance may have been revoked since)
            require_eligible(
                raw, project_schema(project).routing, actor.user_id, int(part.item_id), now=now
            )
        except PermissionDenied:
            continue
        return ServedMedia(
            sha256,
            str(part.mime),
            int(part.bytes),
            str(part.kind),
            project_id,
            int(part.item_id),
            str(part.field),
        )
    return None


def _as_reader(
    raw: Raw, actor: Actor, sha256: str, project_id: int, *, now: datetime
) -> ServedMedia | None:
    role = _member_role(raw, actor, project_id)
    filters, params = "", {"sha": sha256, "project": project_id}
    if allowed(actor.role, "privacy.manage", member_role=role):
        if actor.user_id is not None:
            # A withheld image is one the gate could not finish (text or faces unchecked):
            # only its privacy managers cleared for its class see it, as for a reveal.
            filters = withheld_if_cleared(SENSITIVITIES)
            params = params | {"false": False, "user": actor.user_id, "now": raw.time(now)}
    elif not allowed(actor.role, "items.read", member_role=role):
        return None
    elif actor.role in ("admin", "auditor") or actor.user_id is None or role != "reviewer":
        filters, params = NOT_WITHHELD, params | {"false": False}
    else:
        # A project reviewer reads only the items routed to them (as get_item).
        project = _project(raw, actor, project_id)
        if project is None:
            return None
        profile = load_profile(raw, actor.user_id, now=now, project_id=project_id)
        routed = item_filter(project_schema(project).routing, profile)
        filters = NOT_WITHHELD + routed.sql
        params = params | {"false": False} | routed.params
    part = raw.one(blob_in_project(filters), **params)
    if part is None:
        return None
    if part.kind == "audio" and not _voice_cleared(raw, actor, project_id, now=now):
        return None  # managers and admins too: a voice is heard only with a clearance
    return ServedMedia(
        sha256,
        str(part.mime),
        int(part.bytes),
        str(part.kind),
        project_id,
        int(part.item_id),
        str(part.field),
    )


_RANGE_AT_ZERO = re.compile(r"^\s*bytes\s*=\s*0+\s*-")


def playback_starts(range_header: str | None) -> bool:
    """Whether a ``GET`` with this ``Range`` header starts a playback: no range, or a range
    from byte 0 (a player's first request); later ranges are the same playback seeking.

    >>> [playback_starts(h) for h in (None, "bytes=0-", "bytes=0-1023", "bytes=4096-", "bytes=-9")]
    [True, True, True, False, False]
    """
    return range_header is None or bool(_RANGE_AT_ZERO.match(range_header))


def record_play(session: Session, actor: Actor, served: ServedMedia) -> None:
    """Audit a playback of raw audio (``media.play``: who, which item and field; never the
    content), in a transaction of its own: the fetch is a read-only request."""
    if served.kind != "audio":
        return
    audit_log.record_separately(
        session,
        actor,
        "media.play",
        project_id=served.project_id,
        target=f"item:{served.item_id}",
        details={"field": served.field or "", "sha256": served.sha256},
    )
