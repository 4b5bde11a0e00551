"""``LoupeClient``: the first, model-loop-only client, kept for the code that uses it.

New code should use :class:`loupe.client.Client` (``client.predictions.send``,
``client.exports.consensus``, ``client.models.promoted``); this class is a thin
wrapper over it with the old names and return types.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from loupe.client._sync.client import Client
from loupe.client.models import Prediction
from loupe.client.retry import RetryPolicy

__all__ = ["BatchResult", "LoupeClient", "ModelInfo"]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Totals over every batch sent."""

    received: int = 0
    created: int = 0
    existing: int = 0
    to_people: int = 0
    model_resolved: int = 0


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model version as the server reports it."""

    version: int
    trainer: str
    metrics: dict[str, Any]
    promoted: bool
    n_training: int
    reason: str


class LoupeClient:
    """Talks to ``base_url`` with an API token; see :class:`loupe.client.Client`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        batch_size: int = 500,
        retries: int = 5,
        backoff: float = 0.5,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        if not 1 <= batch_size <= 1000:
            raise ValueError("batch_size must be between 1 and 1000")
        self.batch_size = batch_size
        self.client = Client(
            base_url,
            token,
            retry=RetryPolicy(retries=retries, backoff=backoff),
            timeout=timeout,
            transport=transport,
            http=http,
        )

    def __enter__(self) -> LoupeClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def send_predictions(self, project: int, predictions: Sequence[Prediction]) -> BatchResult:
        """Send predictions in batches of ``batch_size``; returns the totals."""
        sent = self.client.predictions.send(project, predictions, batch_size=self.batch_size)
        return BatchResult(
            received=sent.received,
            created=sent.created,
            existing=sent.existing,
            to_people=sent.to_people,
            model_resolved=sent.model_resolved,
        )

    def resolved_labels(self, project: int) -> Iterator[dict[str, Any]]:
        """The people's resolved answers (the consensus export), one dict per item."""
        yield from self.client.exports.consensus(project)

    def models(self, project: int) -> list[ModelInfo]:
        """Every model version, newest first."""
        return [
            ModelInfo(
                version=m.version,
                trainer=m.trainer,
                metrics=m.metrics,
                promoted=m.promoted,
                n_training=m.n_training,
                reason=m.reason,
            )
            for m in self.client.models.list(project)
        ]

    def promoted_model(self, project: int) -> ModelInfo | None:
        """The champion (newest promoted version), or ``None`` before the first promotion."""
        return next((model for model in self.models(project) if model.promoted), None)
