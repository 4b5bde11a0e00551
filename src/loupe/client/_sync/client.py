# Generated from loupe/client/_async/client.py by `python -m loupe.client._unasync`.
# Do not edit: edit the async source and regenerate.
"""The client: one connection, retries, error mapping."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from loupe.client._sync.exports import ExportsResource
from loupe.client._sync.items import ItemsResource, LabelsResource, TasksResource
from loupe.client._sync.loop import ModelsResource, PredictionsResource
from loupe.client._sync.payments import (
    LedgerResource,
    PaymentsResource,
    WalletResource,
)
from loupe.client._sync.projects import MembersResource, ProjectsResource
from loupe.client._sync.quality import QualityResource
from loupe.client._sync.users import UsersResource
from loupe.client._sync.webhooks import WebhooksResource
from loupe.client._wire import PathParams, parse
from loupe.client.errors import ConnectionFailed, error_for, retry_after_seconds
from loupe.client.models import Health, User
from loupe.client.operations import API_PREFIX, OPERATIONS
from loupe.client.retry import RetryPolicy

__all__ = ["Client"]


Content = bytes | Iterator[bytes]


class Client:
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
        transport: httpx.BaseTransport | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._prefix = base_url.rstrip("/") + API_PREFIX
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._owned = http is None
        self._http = http or httpx.Client(timeout=timeout, transport=transport)
        self.users = UsersResource(self)
        self.projects = ProjectsResource(self)
        self.members = MembersResource(self)
        self.items = ItemsResource(self)
        self.tasks = TasksResource(self)
        self.labels = LabelsResource(self)
        self.exports = ExportsResource(self)
        self.quality = QualityResource(self)
        self.payments = PaymentsResource(self)
        self.wallet = WalletResource(self)
        self.ledger = LedgerResource(self)
        self.models = ModelsResource(self)
        self.predictions = PredictionsResource(self)
        self.webhooks = WebhooksResource(self)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def health(self) -> Health:
        """``GET /health``: 200 only when the server can save work (no token needed)."""
        result: Health = parse(Health, self.request("system.health"))
        return result

    def me(self) -> User:
        """The user the token belongs to."""
        result: User = parse(User, self.request("users.me"))
        return result

    def request(
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
        return self._send(
            operation,
            path=path,
            params=params,
            json=json,
            content=content,
            headers=headers,
            stream=False,
        )

    @contextmanager
    def stream(
        self,
        operation: str,
        *,
        path: PathParams | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Iterator[httpx.Response]:
        """Like :meth:`request`, but the body is left unread for the caller to stream.

        Only the request is retried: a connection that breaks while the body streams
        raises :class:`ConnectionFailed` (what was read may be partial)."""
        response = self._send(operation, path=path, params=params, stream=True)
        try:
            yield response
        except httpx.TransportError as exc:
            raise ConnectionFailed(
                0, "connection_failed", f"{operation}: the connection broke mid-stream: {exc!r}"
            ) from exc
        finally:
            response.close()

    def _send(
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
                response = self._http.send(request, stream=True)
                if response.status_code in self.retry.statuses and attempt < self.retry.retries:
                    response.close()
                    wait = self.retry.delay(attempt, retry_after=retry_after_seconds(response))
                elif response.is_error:
                    try:
                        body = response.read()
                    finally:
                        response.close()
                    raise error_for(response, body)
                else:
                    if not stream:
                        try:
                            response.read()
                        finally:
                            response.close()
                    return response
            except httpx.TransportError as exc:
                # No answer, or one cut short: only an idempotent request may go again.
                if not op.idempotent or attempt >= self.retry.retries:
                    raise ConnectionFailed(
                        0, "connection_failed", f"{op.method} {url}: {exc!r}"
                    ) from exc
                wait = self.retry.delay(attempt, retry_after=None)
            attempt += 1
            time.sleep(wait)
