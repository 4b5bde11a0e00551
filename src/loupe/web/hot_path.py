"""The annotator's two requests, served past FastAPI's routing and dependency solving.

``POST /api/v1/projects/{id}/tasks/next`` and ``POST /api/v1/projects/{id}/items/{id}/labels``
are most of a server's traffic (issue 18). :class:`HotPath`, an ASGI middleware, runs
them through the same handlers (:func:`loupe.web.api.tasks.next_task`,
:func:`loupe.web.api.labels.submit_label`), the same :class:`~loupe.web.deps.Context`,
transaction, body model and response models, and answers errors with the same handlers
(:func:`loupe.web.errors.api_error_response`), but without FastAPI's route walk (every
route of the API is tried in turn), dependency solving and a second thread-pool hop to
validate the response, and it commits in the handler's thread: FastAPI's path commits
in the ``Writer`` dependency's exit on the event loop, which stalled every other
request for the length of the commit's fsync.

Only the plain form of a request takes this path: a bearer token, no query string, no
body for the next task and, for a submit, an ``application/json`` body with nothing
the text guard would look into (a ``\\u0000`` or surrogate escape, a non-finite number,
deep nesting) that :class:`~loupe.web.schemas.labels.LabelIn` accepts. Anything else (a
session cookie, no credentials, a body to refuse) is handed to the FastAPI route
unchanged, with the body replayed, so that each refusal (401, 422, the text guard) has
one implementation.
"""

from __future__ import annotations

import asyncio
import json
import re
import weakref
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loupe.db.database import Database
from loupe.db.engine import is_sqlite
from loupe.web.api import labels, tasks
from loupe.web.deps import Context
from loupe.web.errors import api_error_response
from loupe.web.params import MAX_ID
from loupe.web.schemas.labels import LabelIn, SubmitOut
from loupe.web.schemas.tasks import NextTaskOut
from loupe.web.text_guard import may_hold_unstorable

__all__ = ["HotPath"]

_ID = r"([1-9][0-9]{0,9})"
_NEXT = re.compile(rf"/api/v1/projects/{_ID}/tasks/next")
_SUBMIT = re.compile(rf"/api/v1/projects/{_ID}/items/{_ID}/labels")
_NEXT_OUT = TypeAdapter(NextTaskOut)
_SUBMIT_OUT = TypeAdapter(SubmitOut)

# What runs in the worker thread: the handler on a context; its result and sub-response.
Work = Callable[[Context, Response], BaseModel]


class HotPath:
    """ASGI middleware: the next task and a submit without FastAPI's per-request machinery."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # SQLite: one thread at a time (see _threads), made in (and for) the running loop.
        self._limiters: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, anyio.CapacityLimiter
        ] = weakref.WeakKeyDictionary()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["query_string"]
            or scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        found = _NEXT.fullmatch(path)
        if found is not None:
            secret = _bearer(scope)
            project_id = int(found[1])
            # A body, unused by the route, still passes the text guard there.
            if secret is None or project_id > MAX_ID or _has_body(scope):
                await self.app(scope, receive, send)
                return
            await self._serve(
                scope, receive, send, secret, lambda ctx, _: tasks.next_task(project_id, ctx),
                _NEXT_OUT, 200, durable=False,
            )  # fmt: skip
            return
        found = _SUBMIT.fullmatch(path)
        if found is None:
            await self.app(scope, receive, send)
            return
        secret = _bearer(scope)
        project_id, item_id = int(found[1]), int(found[2])
        if secret is None or project_id > MAX_ID or item_id > MAX_ID:
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        label = _label_in(scope, body) if body is not None else None
        if label is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        await self._serve(
            scope, receive, send, secret,
            lambda ctx, sub: labels.submit_label(project_id, item_id, label, ctx, sub),
            _SUBMIT_OUT, 201,
        )  # fmt: skip

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        secret: str,
        work: Work,
        out: TypeAdapter[Any],
        status: int,
        *,
        durable: bool = True,
    ) -> None:
        app = scope["app"]

        def run() -> Response:
            # FastAPI's sub-response: a handler may set the status code (or headers).
            sub = Response()
            del sub.headers["content-length"]
            sub.status_code = None  # type: ignore[assignment]
            db = app.state.db
            with db.transaction(durable=durable) as session:
                result = work(Context(session, secret, app.state.settings, db), sub)
            response = Response(
                content=out.dump_json(result),
                media_type="application/json",
                status_code=sub.status_code or status,
            )
            response.headers.raw.extend(sub.headers.raw)
            return response

        try:
            response = await anyio.to_thread.run_sync(run, limiter=self._threads(app.state.db))
        except Exception as exc:
            handled = await api_error_response(Request(scope, receive), exc)
            if handled is None:
                raise
            response = handled
        await response(scope, receive, send)

    def _threads(self, db: Database) -> anyio.CapacityLimiter | None:
        """The threads these requests run in: one for SQLite, the default pool otherwise.

        With SQLite every one of them holds the single writer from its first statement to
        its commit, so a second thread could only wait for the first; 8 or 32 threads
        contending for the lock and the GIL cost 30% more CPU per loop (issue 18).
        PostgreSQL runs them side by side.
        """
        if not is_sqlite(db.engine):
            return None
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = anyio.CapacityLimiter(1)
        return limiter


def _bearer(scope: Scope) -> str | None:
    """The bearer token, as FastAPI's ``HTTPBearer`` reads it; ``None`` when there is none."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, credentials = get_authorization_scheme_param(value.decode("latin-1"))
            if scheme.lower() != "bearer" or not credentials:
                return None
            return credentials
    return None


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The request's messages, and its body (``None`` if the client went away)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` for the FastAPI route: the messages read already, then the client's."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def _label_in(scope: Scope, body: bytes) -> LabelIn | None:
    """The submit's body, when it is plain JSON that ``LabelIn`` accepts; else ``None``."""
    content_type = next((v for k, v in scope["headers"] if k == b"content-type"), None)
    if content_type is None or content_type.lower() != b"application/json":
        return None
    if may_hold_unstorable(body):
        return None
    try:
        return LabelIn.model_validate(json.loads(body))
    except (ValueError, RecursionError, ValidationError):
        return None
