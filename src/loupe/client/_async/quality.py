"""Quality, gold and progress."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loupe.client._async.resource import AsyncResource
from loupe.client._wire import parse
from loupe.client.models import GoldMarked, Progress, Quality, Refit

__all__ = ["AsyncQualityResource"]


class AsyncQualityResource(AsyncResource):
    """Agreement, annotator quality, gold and progress."""

    async def report(self, project_id: int) -> Quality:
        """Agreement, per-annotator gold accuracy with 95% intervals, skills."""
        response = await self._client.request("quality.report", path={"project_id": project_id})
        result: Quality = parse(Quality, response)
        return result

    async def progress(self, project_id: int) -> Progress:
        """Where the project's items stand, labels per day, top contributors, cost."""
        response = await self._client.request("quality.progress", path={"project_id": project_id})
        result: Progress = parse(Progress, response)
        return result

    async def refit(self, project_id: int) -> Refit:
        """Re-fit the project's aggregator now."""
        response = await self._client.request("quality.refit", path={"project_id": project_id})
        result: Refit = parse(Refit, response)
        return result

    async def set_gold(self, project_id: int, answers: Mapping[str, Any]) -> GoldMarked:
        """Mark items as gold: ``{external id: known answer}``."""
        body = {"items": [{"id": key, "answer": value} for key, value in answers.items()]}
        response = await self._client.request(
            "quality.set_gold", path={"project_id": project_id}, json=body
        )
        result: GoldMarked = parse(GoldMarked, response)
        return result
