"""Webhooks: register, pause, test and inspect deliveries (docs/webhooks.md)."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Sequence
from typing import Literal

from loupe.client._async.resource import AsyncResource
from loupe.client._wire import parse
from loupe.client.models import CreatedWebhook, Delivery, DeliveryPage, Webhook

__all__ = ["AsyncWebhooksResource"]

DeliveryStatus = Literal["pending", "delivering", "delivered", "failed"]


class AsyncWebhooksResource(AsyncResource):
    """A project's webhooks (project managers and admins) and their delivery log."""

    async def list(self, project_id: int) -> builtins.list[Webhook]:
        """The project's webhooks, without their secrets."""
        response = await self._client.request("webhooks.list", path={"project_id": project_id})
        result: builtins.list[Webhook] = parse(list[Webhook], response)
        return result

    async def create(self, project_id: int, url: str, events: Sequence[str]) -> CreatedWebhook:
        """Register ``url`` for ``events`` (e.g. ``["item.completed"]``); keep the returned
        ``secret``: it signs every delivery and is never shown again."""
        response = await self._client.request(
            "webhooks.create",
            path={"project_id": project_id},
            json={"url": url, "events": list(events)},
        )
        result: CreatedWebhook = parse(CreatedWebhook, response)
        return result

    async def set_active(self, project_id: int, webhook_id: int, *, active: bool) -> Webhook:
        """Pause (``active=False``: events stay queued) or resume a webhook."""
        response = await self._client.request(
            "webhooks.update",
            path={"project_id": project_id, "webhook_id": webhook_id},
            json={"active": active},
        )
        result: Webhook = parse(Webhook, response)
        return result

    async def delete(self, project_id: int, webhook_id: int) -> None:
        """Delete a webhook and its delivery log."""
        await self._client.request(
            "webhooks.delete", path={"project_id": project_id, "webhook_id": webhook_id}
        )

    async def ping(self, project_id: int, webhook_id: int) -> Delivery:
        """Queue a ``ping`` event for the webhook (sent by the next delivery round)."""
        response = await self._client.request(
            "webhooks.ping", path={"project_id": project_id, "webhook_id": webhook_id}
        )
        result: Delivery = parse(Delivery, response)
        return result

    async def deliveries(
        self,
        project_id: int,
        *,
        webhook_id: int | None = None,
        status: DeliveryStatus | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> DeliveryPage:
        """One page of the delivery log, newest first (``before``: the cursor)."""
        response = await self._client.request(
            "webhooks.deliveries",
            path={"project_id": project_id},
            params={"webhook_id": webhook_id, "status": status, "before": before, "limit": limit},
        )
        result: DeliveryPage = parse(DeliveryPage, response)
        return result

    async def iter_deliveries(
        self,
        project_id: int,
        *,
        webhook_id: int | None = None,
        status: DeliveryStatus | None = None,
        page_size: int = 50,
    ) -> AsyncIterator[Delivery]:
        """The whole delivery log, newest first, a page at a time."""
        before: int | None = None
        while True:
            page = await self.deliveries(
                project_id, webhook_id=webhook_id, status=status, before=before, limit=page_size
            )
            for delivery in page.items:
                yield delivery
            if page.next_before is None:
                return
            before = page.next_before

    async def redeliver(self, project_id: int, delivery_id: str) -> Delivery:
        """Queue a delivery's event again for its webhook, as a new delivery."""
        response = await self._client.request(
            "webhooks.redeliver", path={"project_id": project_id, "delivery_id": delivery_id}
        )
        result: Delivery = parse(Delivery, response)
        return result
