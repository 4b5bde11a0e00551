"""The background sending of webhooks: every ``webhook_interval_seconds`` the server sends
the due deliveries of the outbox (:func:`loupe.services.projects.webhook_delivery.deliver_all`).

Events are queued in the transactions that cause them, so what this loop sends has
committed, and what it has not sent yet survives a restart. Several server workers may
each run it: their claims never overlap while a claim's lease holds.
"""

from __future__ import annotations

import asyncio
import logging

from loupe.db.database import Database
from loupe.services.projects.webhook_delivery import deliver_all
from loupe.settings import Settings
from loupe.web.threads import finish_in_thread

__all__ = ["webhook_loop"]

log = logging.getLogger("loupe.webhooks")


async def webhook_loop(db: Database, settings: Settings) -> None:
    while True:
        try:
            await finish_in_thread(deliver_all, db, settings)
        except Exception:  # keep the loop alive (a database hiccup); the next round retries
            log.exception("background webhook delivery failed")
        await asyncio.sleep(settings.webhook_interval_seconds)
