"""API answers are not kept by browsers or proxies: ``Cache-Control: no-store``.

The web UI's own pages are sent ``no-store`` (:mod:`loupe.web.ui.render`), but its
scripts also read the API with the session cookie (the next task, the wallet), and an
answer without a ``Cache-Control`` may be kept in the browser's cache after sign-out, on
a shared computer too. :class:`NoStore`, a pure ASGI middleware, gives every response
under ``/api/`` that does not say otherwise ``Cache-Control: no-store`` and
``X-Content-Type-Options: nosniff`` (media answers set their own caching).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["NoStore"]

_CACHE_CONTROL = b"cache-control"
_NOSNIFF = (b"x-content-type-options", b"nosniff")


class NoStore:
    """ASGI middleware: ``no-store`` and ``nosniff`` on API responses that set neither.

    Example::

        app.add_middleware(NoStore)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                names = {name.lower() for name, _ in headers}
                if _CACHE_CONTROL not in names:
                    headers.append((_CACHE_CONTROL, b"no-store"))
                if _NOSNIFF[0] not in names:
                    headers.append(_NOSNIFF)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_no_store)
