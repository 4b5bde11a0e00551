# Generated from loupe/client/_async/quality.py by `python -m loupe.client._unasync`.
# Do not edit: edit the async source and regenerate.
"""Quality, gold and progress."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loupe.client._sync.resource import Resource
from loupe.client._wire import parse
from loupe.client.models import GoldMarked, Progress, Quality, Refit

__all__ = ["QualityResource"]


class QualityResource(Resource):
    """Agreement, annotator quality, gold and progress."""

    def report(self, project_id: int) -> Quality:
        """Agreement, per-annotator gold accuracy with 95% intervals, skills."""
        response = self._client.request("quality.report", path={"project_id": project_id})
        result: Quality = parse(Quality, response)
        return result

    def progress(self, project_id: int) -> Progress:
        """Where the project's items stand, labels per day, top contributors, cost."""
        response = self._client.request("quality.progress", path={"project_id": project_id})
        result: Progress = parse(Progress, response)
        return result

    def refit(self, project_id: int) -> Refit:
        """Re-fit the project's aggregator now."""
        response = self._client.request("quality.refit", path={"project_id": project_id})
        result: Refit = parse(Refit, response)
        return result

    def set_gold(self, project_id: int, answers: Mapping[str, Any]) -> GoldMarked:
        """Mark items as gold: ``{external id: known answer}``."""
        body = {"items": [{"id": key, "answer": value} for key, value in answers.items()]}
        response = self._client.request(
            "quality.set_gold", path={"project_id": project_id}, json=body
        )
        result: GoldMarked = parse(GoldMarked, response)
        return result
