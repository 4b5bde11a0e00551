# Generated from loupe/client/_async/webhooks.py by `python -m loupe.client._unasync`.
# Do not edit: edit the async source and regenerate.
"""Webhooks: register, pause, test and inspect deliveries (docs/webhooks.md)."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from typing import Literal

from loupe.client._sync.resource import Resource
from loupe.client._wire import parse
from loupe.client.models import CreatedWebhook, Delivery, DeliveryPage, Webhook

__all__ = ["WebhooksResource"]

DeliveryStatus = Literal["pending", "delivering", "delivered", "failed"]


class WebhooksResource(Resource):
    """A project's webhooks (project managers and admins) and their delivery log."""

    def list(self, project_id: int) -> builtins.list[Webhook]:
        """The project's webhooks, without their secrets."""
        response = self._client.request("webhooks.list", path={"project_id": project_id})
        result: builtins.list[Webhook] = parse(list[Webhook], response)
        return result

    def create(self, project_id: int, url: str, events: Sequence[str]) -> CreatedWebhook:
        """Register ``url`` for ``events`` (e.g. ``["item.completed"]``); keep the returned
        ``secret``: it signs every delivery and is never shown again."""
        response = self._client.request(
            "webhooks.create",
            path={"project_id": project_id},
            json={"url": url, "events": list(events)},
        )
        result: CreatedWebhook = parse(CreatedWebhook, response)
        return result

    def set_active(self, project_id: int, webhook_id: int, *, active: bool) -> Webhook:
        """Pause (``active=False``: events stay queued) or resume a webhook."""
        response = self._client.request(
            "webhooks.update",
            path={"project_id": project_id, "webhook_id": webhook_id},
            json={"active": active},
        )
        result: Webhook = parse(Webhook, response)
        return result

    def delete(self, project_id: int, webhook_id: int) -> None:
        """Delete a webhook and its delivery log."""
        self._client.request(
            "webhooks.delete", path={"project_id": project_id, "webhook_id": webhook_id}
        )

    def ping(self, project_id: int, webhook_id: int) -> Delivery:
        """Queue a ``ping`` event for the webhook (sent by the next delivery round)."""
        response = self._client.request(
            "webhooks.ping", path={"project_id": project_id, "webhook_id": webhook_id}
        )
        result: Delivery = parse(Delivery, response)
        return result

    def deliveries(
        self,
        project_id: int,
        *,
        webhook_id: int | None = None,
        status: DeliveryStatus | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> DeliveryPage:
        """One page of the delivery log, newest first (``before``: the cursor)."""
        response = self._client.request(
            "webhooks.deliveries",
            path={"project_id": project_id},
            params={"webhook_id": webhook_id, "status": status, "before": before, "limit": limit},
        )
        result: DeliveryPage = parse(DeliveryPage, response)
        return result

    def iter_deliveries(
        self,
        project_id: int,
        *,
        webhook_id: int | None = None,
        status: DeliveryStatus | None = None,
        page_size: int = 50,
    ) -> Iterator[Delivery]:
        """The whole delivery log, newest first, a page at a time."""
        before: int | None = None
        while True:
            page = self.deliveries(
                project_id, webhook_id=webhook_id, status=status, before=before, limit=page_size
            )
            yield from page.items
            if page.next_before is None:
                return
            before = page.next_before

    def redeliver(self, project_id: int, delivery_id: str) -> Delivery:
        """Queue a delivery's event again for its webhook, as a new delivery."""
        response = self._client.request(
            "webhooks.redeliver", path={"project_id": project_id, "delivery_id": delivery_id}
        )
        result: Delivery = parse(Delivery, response)
        return result
