"""The client: one connection, retries, error mapping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from loupe.client._async.exports import AsyncExportsResource
from loupe.client._async.items import AsyncItemsResource, AsyncLabelsResource, AsyncTasksResource
from loupe.client._async.loop import AsyncModelsResource, AsyncPredictionsResource
from loupe.client._async.payments import (
    AsyncLedgerResource,
    AsyncPaymentsResource,
    AsyncWalletResource,
)
from loupe.client._async.projects import AsyncMembersResource, AsyncProjectsResource
from loupe.client._async.quality import AsyncQualityResource
from loupe.client._async.users import AsyncUsersResource
from loupe.client._async.webhooks import AsyncWebhooksResource
from loupe.client._wire import PathParams, parse
from loupe.client.errors import ConnectionFailed, error_for, retry_after_seconds
from loupe.client.models import Health, User
from loupe.client.operations import API_PREFIX, OPERATIONS
from loupe.client.retry import RetryPolicy

__all__ = ["AsyncClient"]


Content = bytes | AsyncIterator[bytes]


class AsyncClient:
    """A Loupe server at ``base_url`` (e.g. ``http://127.0.0.1:8000``), as ``token``.

    Resources hang off the client: ``users``, ``projects``, ``members``, ``items``,
    ``tasks``, ``labels``, ``exports``, ``quality``, ``payments``, ``wallet``,
    ``ledger``, ``models``, ``predictions`` and ``webhooks``. Lists page with
    ``list(after=, limit=)`` and iterate over every page with ``iter()``. Failures
    raise :class:`loupe.client.errors.LoupeClientError` subclasses.

    Pass ``transport`` to customise the connection, or ``http`` (an httpx client,
    e.g. Starlette's ``TestClient``) to talk to an app in-process; the client then
    leaves closing it to you. ``retry`` sets the back-off (:class:`RetryPolicy`).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._prefix = base_url.rstrip("/") + API_PREFIX
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._owned = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout, transport=transport)
        self.users = AsyncUsersResource(self)
        self.projects = AsyncProjectsResource(self)
        self.members = AsyncMembersResource(self)
        self.items = AsyncItemsResource(self)
        self.tasks = AsyncTasksResource(self)
        self.labels = AsyncLabelsResource(self)
        self.exports = AsyncExportsResource(self)
        self.quality = AsyncQualityResource(self)
        self.payments = AsyncPaymentsResource(self)
        self.wallet = AsyncWalletResource(self)
        self.ledger = AsyncLedgerResource(self)
        self.models = AsyncModelsResource(self)
        self.predictions = AsyncPredictionsResource(self)
        self.webhooks = AsyncWebhooksResource(self)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owned:
            await self._http.aclose()

    async def health(self) -> Health:
        """``GET /health``: 200 only when the server can save work (no token needed)."""
        result: Health = parse(Health, await self.request("system.health"))
        return result

    async def me(self) -> User:
        """The user the token belongs to."""
        result: User = parse(User, await self.request("users.me"))
        return result

    async def request(
        self,
        operation: str,
        *,
        path: PathParams | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: Callable[[], Content] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send ``operation`` (a key of ``loupe.client.operations.OPERATIONS``) with
        retries; returns the successful response, read in full."""
        return await self._send(
            operation,
            path=path,
            params=params,
            json=json,
            content=content,
            headers=headers,
            stream=False,
        )

    @asynccontextmanager
    async def stream(
        self,
        operation: str,
        *,
        path: PathParams | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """Like :meth:`request`, but the body is left unread for the caller to stream.

        Only the request is retried: a connection that breaks while the body streams
        raises :class:`ConnectionFailed` (what was read may be partial)."""
        response = await self._send(operation, path=path, params=params, stream=True)
        try:
            yield response
        except httpx.TransportError as exc:
            raise ConnectionFailed(
                0, "connection_failed", f"{operation}: the connection broke mid-stream: {exc!r}"
            ) from exc
        finally:
            await response.aclose()

    async def _send(
        self,
        operation: str,
        *,
        path: PathParams | None,
        params: Mapping[str, Any] | None,
        stream: bool,
        json: Any = None,
        content: Callable[[], Content] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        op = OPERATIONS[operation]
        url = self._prefix + op.url_path(**(path or {}))
        query = {k: v for k, v in (params or {}).items() if v is not None}
        attempt = 0
        while True:
            request = self._http.build_request(
                op.method,
                url,
                params=query,
                json=json,
                content=content() if content is not None else None,
                headers={**self._headers, **(headers or {})},
            )
            try:
                response = await self._http.send(request, stream=True)
                if response.status_code in self.retry.statuses and attempt < self.retry.retries:
                    await response.aclose()
                    wait = self.retry.delay(attempt, retry_after=retry_after_seconds(response))
                elif response.is_error:
                    try:
                        body = await response.aread()
                    finally:
                        await response.aclose()
                    raise error_for(response, body)
                else:
                    if not stream:
                        try:
                            await response.aread()
                        finally:
                            await response.aclose()
                    return response
            except httpx.TransportError as exc:
                # No answer, or one cut short: only an idempotent request may go again.
                if not op.idempotent or attempt >= self.retry.retries:
                    raise ConnectionFailed(
                        0, "connection_failed", f"{op.method} {url}: {exc!r}"
                    ) from exc
                wait = self.retry.delay(attempt, retry_after=None)
            attempt += 1
            await asyncio.sleep(wait)
