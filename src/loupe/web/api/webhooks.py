"""``/projects/{id}/webhooks``: a project's webhooks and their delivery log (managers)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from loupe.db.webhook_models import Webhook, WebhookDelivery
from loupe.services.projects import webhooks
from loupe.services.projects.webhooks import MAX_PAGE, MAX_URL, Event
from loupe.web.deps import Reader, Writer
from loupe.web.params import MAX_ID, Id

router = APIRouter(tags=["webhooks"])

DeliveryStatus = Literal["pending", "delivering", "delivered", "failed"]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=MAX_URL, description="An http:// or https:// URL")
    events: list[Event] = Field(min_length=1, max_length=20, description="Event types to send")


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool = Field(description="false: pause (events stay queued); true: resume")


class WebhookOut(BaseModel):
    """A webhook; its secret is never returned after creation."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    project_id: int
    url: str
    events: list[str]
    active: bool
    created_by: int | None
    created_at: datetime


class CreatedWebhookOut(WebhookOut):
    secret: str = Field(
        description="Signs every delivery (X-Loupe-Signature). Shown only in this response."
    )


class DeliveryOut(BaseModel):
    delivery_id: str
    event_id: str
    webhook_id: int
    event: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any] = Field(description="The JSON body sent (ids only, no item text)")

    @classmethod
    def of(cls, row: WebhookDelivery) -> DeliveryOut:
        waiting = row.status in ("pending", "delivering")
        return cls(
            delivery_id=row.delivery_id,
            event_id=row.event_id,
            webhook_id=row.webhook_id,
            event=row.event,
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at if waiting else None,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
            payload=json.loads(row.body),
        )


class DeliveryPageOut(BaseModel):
    """Newest first; pass ``next_before`` as ``before`` for the next page."""

    items: list[DeliveryOut]
    next_before: int | None


def _out(webhook: Webhook) -> WebhookOut:
    return WebhookOut.model_validate(webhook)


@router.post(
    "/projects/{project_id}/webhooks",
    response_model=CreatedWebhookOut,
    status_code=status.HTTP_201_CREATED,
)
def create(project_id: Id, body: WebhookIn, ctx: Writer) -> CreatedWebhookOut:
    """Register a webhook (project managers, admins); the response holds its secret, once.
    Audited."""
    created = webhooks.create_webhook(
        ctx.session,
        ctx.actor,
        project_id,
        url=body.url,
        events=list(body.events),
        key=webhooks.secret_key(ctx.settings.resolved_key_dir()),
        policy=webhooks.webhook_policy(ctx.settings),
    )
    return CreatedWebhookOut(**_out(created.webhook).model_dump(), secret=created.secret)


@router.get("/projects/{project_id}/webhooks", response_model=list[WebhookOut])
def list_all(project_id: Id, ctx: Reader) -> list[WebhookOut]:
    """The project's webhooks (without their secrets)."""
    return [_out(row) for row in webhooks.list_webhooks(ctx.session, ctx.actor, project_id)]


@router.patch("/projects/{project_id}/webhooks/{webhook_id}", response_model=WebhookOut)
def patch(project_id: Id, webhook_id: Id, body: WebhookPatch, ctx: Writer) -> WebhookOut:
    """Pause or resume a webhook."""
    row = webhooks.set_active(ctx.session, ctx.actor, project_id, webhook_id, active=body.active)
    return _out(row)


@router.delete(
    "/projects/{project_id}/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT
)
def delete(project_id: Id, webhook_id: Id, ctx: Writer) -> Response:
    """Delete a webhook and its delivery log. Audited."""
    webhooks.delete_webhook(ctx.session, ctx.actor, project_id, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/projects/{project_id}/webhooks/{webhook_id}/ping",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def ping(project_id: Id, webhook_id: Id, ctx: Writer) -> DeliveryOut:
    """Queue a ``ping`` event for the webhook (sent by the next delivery round)."""
    return DeliveryOut.of(webhooks.ping(ctx.session, ctx.actor, project_id, webhook_id))


@router.get("/projects/{project_id}/webhooks/deliveries", response_model=DeliveryPageOut)
def deliveries(
    project_id: Id,
    ctx: Reader,
    webhook_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> DeliveryPageOut:
    """The delivery log, newest first."""
    page = webhooks.list_deliveries(
        ctx.session,
        ctx.actor,
        project_id,
        webhook_id=webhook_id,
        status=status,
        before=before,
        limit=limit,
    )
    return DeliveryPageOut(
        items=[DeliveryOut.of(row) for row in page.deliveries], next_before=page.next_before
    )


@router.post(
    "/projects/{project_id}/webhooks/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def redeliver(
    project_id: Id,
    delivery_id: Annotated[str, Path(pattern="^[0-9a-f]{32}$", description="X-Loupe-Delivery")],
    ctx: Writer,
) -> DeliveryOut:
    """Queue the delivery's event again for its webhook, as a new delivery."""
    return DeliveryOut.of(webhooks.redeliver(ctx.session, ctx.actor, project_id, delivery_id))
