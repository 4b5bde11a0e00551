"""Request body limits: a body over its route's cap is a 413 before it is read whole.

:class:`BodyLimit`, a pure ASGI middleware, sits outside every other one (the
:class:`~loupe.web.hot_path.HotPath` included), so no route, dependency or hot path
reads more than the cap. A ``Content-Length`` over the cap is refused before the app
runs; a body without one (chunked) is counted as it streams, and the read that crosses
the cap fails: the app, which has not had the whole body, has nothing to act on, and
its reply to the failed read is replaced by the 413. Nothing is written either way.

Caps, by route (``loupe.settings``):

* ``max_body_bytes`` (1 MiB): every API call and web UI form;
* ``max_batch_body_bytes`` (64 MiB): batches of items, predictions, texts to classify
  and gold answers;
* none here for the file imports (``items/import``, ``items/upload``), which stream to
  a spool file under their own 512 MiB limit (``loupe.web.api.items``).

The refusal is the API's error body (:class:`~loupe.errors.PayloadTooLarge`), or the
error page for a browser outside ``/api``.
"""

from __future__ import annotations

import re
from typing import Literal

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loupe.errors import PayloadTooLarge
from loupe.web.errors import HtmlErrors, api_error_response, wants_page

__all__ = ["BodyLimit"]

_PROJECT = r"/api/v1/projects/[^/]+"
# Streamed to disk by the route under its own limit (MAX_UPLOAD_BYTES).
_UPLOADS = re.compile(rf"{_PROJECT}/items/(?:import|upload)/?")
_BATCHES = {
    "POST": re.compile(rf"{_PROJECT}/(?:items|predictions|predict)/?"),
    "PUT": re.compile(rf"{_PROJECT}/gold/?"),
}


Setting = Literal["max_body_bytes", "max_batch_body_bytes"]


class _TooLarge(Exception):
    """Raised by the counting ``receive`` into the app once the body crosses its cap."""


class BodyLimit:
    """ASGI middleware: refuse a request body over ``max_body_bytes`` (batches:
    ``max_batch_body_bytes``) with 413, counting while it streams.

    Example::

        app.add_middleware(BodyLimit, max_body_bytes=1 << 20, max_batch_body_bytes=64 << 20)
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_batch_body_bytes: int,
        html: HtmlErrors | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_batch_body_bytes = max_batch_body_bytes
        self.html = html

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        if limit is None:
            await self.app(scope, receive, send)
            return
        cap, setting = limit
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await self._refuse(scope, receive, send, cap, setting)
            return

        received = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    over = True
                    raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the app's answer to its failed read: the 413 goes instead
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over:
                raise
        if over and not started:
            await self._refuse(scope, receive, send, cap, setting)

    def _limit(self, scope: Scope) -> tuple[int, Setting] | None:
        """The route's cap and the setting it comes from; ``None`` for the file
        imports (their own limit)."""
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        method: str = scope["method"]
        if method == "POST" and _UPLOADS.fullmatch(path):
            return None
        batch = _BATCHES.get(method)
        if batch is not None and batch.fullmatch(path):
            return self.max_batch_body_bytes, "max_batch_body_bytes"
        return self.max_body_bytes, "max_body_bytes"

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, cap: int, setting: Setting
    ) -> None:
        advice = (
            "send the batch in smaller parts (or a file to POST .../items/import)"
            if setting == "max_batch_body_bytes"
            else "send less in one request"
        )
        error = PayloadTooLarge(
            f"the request body is larger than {_size(cap)} ({cap} bytes), this route's "
            f"limit; {advice}, or ask the administrator to raise LOUPE_{setting.upper()}",
            details={"max_bytes": cap, "setting": setting},
        )
        request = Request(scope, receive)
        if self.html is not None and wants_page(request):
            page = await self.html(request, error.http_status, error.code, error.message)
            await page(scope, receive, send)
            return
        response = await api_error_response(request, error)
        assert response is not None  # a LoupeError always has its JSON answer
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _size(count: int) -> str:
    """``1048576`` -> ``1 MiB``; a count that is no whole KiB or MiB stays in bytes."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"
