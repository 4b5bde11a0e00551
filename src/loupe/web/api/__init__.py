"""``/api/v1``: one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from loupe.services.compliance.audit_log import watch_permission_changes
from loupe.web.api import (
    audit,
    clearances,
    comments,
    contributors,
    escalations,
    exports,
    items,
    labels,
    ledger,
    media,
    models,
    new_intents,
    payments,
    predictions,
    preferences,
    privacy,
    progress,
    projects,
    qualifications,
    quality,
    reputation,
    reveals,
    reviews,
    subjects,
    system,
    tasks,
    users,
    webhooks,
    witnesses,
)
from loupe.web.errors import ERROR_RESPONSES

__all__ = ["router"]

# The app includes it under /api/v1: FastAPI builds every route of a router included
# without a prefix once more just to check its paths (~0.2 s of start-up).
router = APIRouter(responses=ERROR_RESPONSES)
for module in (system, users, projects, items, tasks, labels, exports, quality, ledger, payments):
    router.include_router(module.router)
router.include_router(comments.router)
router.include_router(witnesses.router)
router.include_router(webhooks.router)
router.include_router(progress.router)
for module in (privacy, reveals, clearances, audit, subjects, media):
    router.include_router(module.router)
# Contributors: profiles, qualification tests, peer review and the escalation ladder.
for module in (contributors, qualifications, reviews, escalations, reputation, preferences):
    router.include_router(module.router)
# The model loop (the retrainer runs in loupe.web.background).
for module in (predictions, models, new_intents):
    router.include_router(module.router)

# Membership, role and token changes are audited by a flush hook
# (loupe.services.compliance.audit_log).
watch_permission_changes()
