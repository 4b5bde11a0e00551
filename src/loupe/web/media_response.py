"""Serving a blob over HTTP: whole (200), one byte range (206, RFC 7233 / RFC 9110 §14),
unsatisfiable (416), or not modified (304), streamed from the blob store in 64 KiB chunks.

Only a single range is honoured (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``); a request
with several ranges, another unit or a malformed header gets the whole blob (200), which
RFC 9110 allows ("a server MAY ignore the Range header"). ``HEAD`` answers the headers
of the whole blob, as the RFC requires a server to ignore Range on methods other than GET.

Call it from a sync handler (FastAPI runs those in a thread pool): it asks the store for
the blob's size before answering, which is blocking I/O. A missing blob is
:class:`~loupe.errors.NotFound`, mapped to 404 by the app.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from starlette.responses import Response, StreamingResponse

from loupe.storage import BlobStore

__all__ = ["byte_range", "media_response"]

# At most 19 digits (beyond 2**63 no blob is that large): int() of a very long digit
# string is slow, and above 4300 digits it raises.
_RANGE: Final = re.compile(r"bytes[ \t]*=[ \t]*([0-9]{0,19})-([0-9]{0,19})", re.ASCII | re.I)
UNSATISFIABLE: Final = "unsatisfiable"


def byte_range(header: str | None, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """The ``[start, end)`` a single-range ``Range`` header asks of a ``size``-byte blob.

    None when the header is absent, malformed, multi-range or ``size`` is 0 (serve it
    whole); ``"unsatisfiable"`` when it is valid but selects nothing (answer 416).

    >>> byte_range("bytes=0-9", 100), byte_range("bytes=-10", 100), byte_range("bytes=90-", 100)
    ((0, 10), (90, 100), (90, 100))
    >>> byte_range("bytes=100-", 100), byte_range("bytes=0-1,5-6", 100)
    ('unsatisfiable', None)
    """
    if header is None or size <= 0:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None  # "bytes=-"
        suffix = int(last)
        return (max(size - suffix, 0), size) if suffix else UNSATISFIABLE
    start = int(first)
    if last and int(last) < start:
        return None  # an invalid range-spec makes the whole header invalid: ignore it
    if start >= size:
        return UNSATISFIABLE
    return (start, size if not last else min(int(last) + 1, size))


def _quoted(etag: str) -> str:
    return etag if etag.startswith(('"', 'W/"')) else f'"{etag}"'


def _matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2): ``W/`` prefixes are ignored; ``*`` matches."""
    if if_none_match.strip() == "*":
        return True
    wanted = _quoted(etag).removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


def media_response(
    store: BlobStore,
    key: str,
    *,
    mime: str,
    etag: str,
    range_header: str | None,
    head: bool = False,
    if_none_match: str | None = None,
) -> Response:
    """The response for ``GET``/``HEAD`` of blob ``key`` (see the module doc).

    ``etag`` is the blob's content hash (quoted here unless it is already); a matching
    ``If-None-Match`` answers 304. The body is never read whole: a 200 or 206 streams
    ``store.read(key, start, end)``.
    """
    size = store.size(key)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": _quoted(etag),
        # Who may fetch a blob is decided per request: no shared cache may keep it.
        "Cache-Control": "private",
        "X-Content-Type-Options": "nosniff",
        # Opened directly, an image is a document: it may run nothing and load nothing.
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if if_none_match is not None and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    selected = None if head else byte_range(range_header, size)
    if isinstance(selected, str):  # UNSATISFIABLE
        headers["Content-Range"] = f"bytes */{size}"
        return Response(status_code=416, headers=headers)
    start, end = (0, size) if selected is None else selected
    headers["Content-Length"] = str(end - start)
    status = 200
    if selected is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    if head:
        return Response(status_code=status, headers=headers, media_type=mime)
    return StreamingResponse(
        store.read(key, start, end), status_code=status, headers=headers, media_type=mime
    )
