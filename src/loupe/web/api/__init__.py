"""``/api/v1``: one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from loupe.web.api import exports, items, labels, projects, system, tasks, users
from loupe.web.errors import ERROR_RESPONSES

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
for module in (system, users, projects, items, tasks, labels, exports):
    router.include_router(module.router)
