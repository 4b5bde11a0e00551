# Generated from loupe/client/_async/loop.py by `python -m loupe.client._unasync`.
# Do not edit: edit the async source and regenerate.
"""The model loop: model versions and predictions."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from loupe.client._sync.resource import Resource
from loupe.client._wire import parse
from loupe.client.models import (
    ModelVersion,
    Prediction,
    PredictionAgreement,
    PredictionsResult,
    Served,
)

__all__ = ["ModelsResource", "PredictionsResource"]


class ModelsResource(Resource):
    """The project's model versions (the model loop)."""

    def list(self, project_id: int) -> builtins.list[ModelVersion]:
        """Every model version, newest first."""
        response = self._client.request("models.list", path={"project_id": project_id})
        result: builtins.list[ModelVersion] = parse(list[ModelVersion], response)
        return result

    def promoted(self, project_id: int) -> ModelVersion | None:
        """The champion (newest promoted version); ``None`` before the first promotion."""
        return next((m for m in self.list(project_id) if m.promoted), None)

    def retrain(self, project_id: int) -> ModelVersion:
        """Train a challenger now; it is promoted if it beats the champion."""
        response = self._client.request("models.retrain", path={"project_id": project_id})
        result: ModelVersion = parse(ModelVersion, response)
        return result


class PredictionsResource(Resource):
    """Your deployed model's predictions: the selection sends some to people."""

    def send(
        self, project_id: int, predictions: Sequence[Prediction], *, batch_size: int = 500
    ) -> PredictionsResult:
        """Send predictions in batches (idempotent by id); returns the totals."""
        if not 1 <= batch_size <= 1000:
            raise ValueError("batch_size must be between 1 and 1000")
        totals = PredictionsResult(
            received=0,
            created=0,
            existing=0,
            to_people=0,
            model_resolved=0,
            redacted=0,
            by_strategy={},
        )
        for start in range(0, len(predictions), batch_size):
            body = {"items": [p.to_json() for p in predictions[start : start + batch_size]]}
            response = self._client.request(
                "predictions.send", path={"project_id": project_id}, json=body
            )
            done: PredictionsResult = parse(PredictionsResult, response)
            strategies = dict(totals.by_strategy)
            for name, n in done.by_strategy.items():
                strategies[name] = strategies.get(name, 0) + n
            totals = PredictionsResult(
                received=totals.received + done.received,
                created=totals.created + done.created,
                existing=totals.existing + done.existing,
                to_people=totals.to_people + done.to_people,
                model_resolved=totals.model_resolved + done.model_resolved,
                redacted=totals.redacted + done.redacted,
                by_strategy=strategies,
            )
        return totals

    def agreement(self, project_id: int) -> PredictionAgreement:
        """How often the model agrees with people, overall and per selection strategy."""
        response = self._client.request("predictions.agreement", path={"project_id": project_id})
        result: PredictionAgreement = parse(PredictionAgreement, response)
        return result

    def predict(self, project_id: int, texts: Sequence[str]) -> Served:
        """The champion's labels and probabilities for up to 1,000 texts, with its version."""
        response = self._client.request(
            "predictions.predict", path={"project_id": project_id}, json={"texts": list(texts)}
        )
        result: Served = parse(Served, response)
        return result
