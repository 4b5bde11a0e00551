"""``/media/{sha256}``: the gated bytes of an item's media; ``.../original``: the original.

``GET``/``HEAD /api/v1/media/{sha256}`` serves the image people are shown (after the
privacy gate) to whoever may read an item that carries it
(:func:`loupe.services.projects.media_views.authorize_media`), and a recording (its tags stripped)
only to those of them who hold a voice clearance for its project; anyone else gets 404,
never 403, so that a blob's existence is not confirmed. Each playback of a recording (a
``GET`` without a range or with one from byte 0) is an audit event ``media.play``,
written in a transaction of its own. It is otherwise a safe, read-only GET: the web UI
puts the URL in ``<img src>`` and the browser's session cookie authenticates it (the
cookie is ``SameSite=Lax``, so another site's ``<img>`` does not send it, and there is
nothing to forge: no state changes). Range requests, ``ETag`` (the SHA-256),
``Cache-Control: private`` and ``nosniff`` come from
:func:`loupe.web.media_response.media_response`; the type is the one recorded at
import, never sniffed from the bytes.

``GET /api/v1/projects/{pid}/items/{iid}/media/{field}/original?purpose=...`` decrypts
the sealed original for a user with a clearance for the item's class, and records the
reveal in the audit log. Since it writes (the audit event), a browser must send the
session's CSRF token (``X-CSRF-Token``), like any write; API tokens need nothing more.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from loupe.services.projects import media_views
from loupe.web.deps import Reader, Writer
from loupe.web.params import Id

__all__ = ["router"]

router = APIRouter(tags=["media"])

Sha256 = Annotated[
    str,
    Path(
        pattern=media_views.SHA256_PATTERN,
        description="The SHA-256 of the served bytes, as item payloads give it (`media[].sha256`)",
    ),
]
Field = Annotated[str, Path(min_length=1, max_length=64, description="The item's media field")]
Purpose = Annotated[
    str,
    Query(max_length=500, description="Why you need the original; recorded in the audit log"),
]

_MEDIA: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The gated bytes (or a 206 range of them)",
        "content": {"image/*": {}, "audio/*": {}},
    },
    206: {"description": "The requested range"},
    416: {"description": "The range lies outside the blob"},
}


def _served(sha256: str, request: Request, ctx: Reader, *, head: bool) -> Response:
    from loupe.storage import blob_store_for, served_key
    from loupe.web.media_response import media_response

    served = media_views.authorize_media(ctx.session, ctx.actor, sha256)
    range_header = request.headers.get("range")
    response = media_response(
        blob_store_for(ctx.settings),
        served_key(served.sha256),
        mime=served.mime,
        etag=served.sha256,
        range_header=range_header,
        head=head,
        if_none_match=request.headers.get("if-none-match"),
    )
    if not head and media_views.playback_starts(range_header):
        media_views.record_play(ctx.session, ctx.actor, served)  # audio only; audited
    return response


@router.get("/media/{sha256}", response_class=Response, responses=_MEDIA)
def get_media(sha256: Sha256, request: Request, ctx: Reader) -> Response:
    """The media blob an item payload points at (`media[].url`), as the privacy gate left
    it; 404 unless you may read an item that carries it. Supports `Range`."""
    return _served(sha256, request, ctx, head=False)


# Left out of the OpenAPI document: a HEAD answer has no body, not even an error's,
# which the contract's one error shape cannot describe. Documented in docs/media.md.
@router.head("/media/{sha256}", include_in_schema=False)
def head_media(sha256: Sha256, request: Request, ctx: Reader) -> Response:
    """The headers of `GET /media/{sha256}` (type, length, ETag), without the bytes."""
    return _served(sha256, request, ctx, head=True)


@router.get(
    "/projects/{project_id}/items/{item_id}/media/{field}/original",
    response_class=Response,
    responses={200: {"description": "The original bytes", "content": {"image/*": {}}}},
    tags=["items"],
)
def get_original(
    project_id: Id, item_id: Id, field: Field, purpose: Purpose, ctx: Writer
) -> Response:
    """The original (ungated) media of an item, for project managers and reviewers with a
    clearance for its class. Every reveal is recorded in the audit log with its purpose."""
    from loupe.services.compliance.gate import vault_for
    from loupe.services.compliance.reveals import reveal_media
    from loupe.storage import blob_store_for

    data, mime = reveal_media(
        ctx.session,
        ctx.actor,
        project_id,
        item_id,
        field,
        vault_for(ctx.settings),
        store=blob_store_for(ctx.settings),
        purpose=purpose,
        min_purpose=ctx.settings.reveal_min_purpose,
    )
    return Response(
        data,
        media_type=mime,
        headers={
            # An original must not linger in a shared or browser cache.
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
        },
    )
