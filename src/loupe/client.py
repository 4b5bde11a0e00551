"""A small typed Python client for a Loupe server's model loop, on httpx.

>>> client = LoupeClient("http://127.0.0.1:8000", token="lp_...")  # doctest: +SKIP
>>> client.send_predictions(1, [Prediction("utt-1", "call Maya", "call", {"call": 0.9,
...     "message": 0.1})])  # doctest: +SKIP
>>> for row in client.resolved_labels(1): ...  # doctest: +SKIP

Requests that fail with 429, 503 or a connection error are retried with
exponential back-off (the predictions endpoint is idempotent by id, so a retry
never duplicates an item). Every other error raises :class:`LoupeClientError`
with the server's ``code`` and message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["BatchResult", "LoupeClient", "LoupeClientError", "ModelInfo", "Prediction"]

RETRY_STATUSES = frozenset({429, 503})


class LoupeClientError(Exception):
    """The server refused a request; ``code`` is Loupe's stable error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Prediction:
    """One item as your model saw it, with its answer."""

    id: str
    text: str
    label: str
    probabilities: Mapping[str, float]
    language: str | None = None
    domain: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    model_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "language": self.language,
            "domain": self.domain,
            "metadata": dict(self.metadata),
            "prediction": {"label": self.label, "probabilities": dict(self.probabilities)},
            "model_version": self.model_version,
        }


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
    """Talks to ``base_url`` (e.g. ``http://127.0.0.1:8000``) with an API token.

    Pass ``http`` (any ``httpx.Client``, e.g. Starlette's ``TestClient(app)``) to talk
    to an app in-process, or ``transport`` to customise the connection.
    """

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
        self.retries = retries
        self.backoff = backoff
        self._prefix = base_url.rstrip("/") + "/api/v1"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._owned = http is None
        self._http = http or httpx.Client(timeout=timeout, transport=transport)

    def __enter__(self) -> LoupeClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(
                    method, self._prefix + path, headers=self._headers, **kwargs
                )
            except httpx.TransportError:
                if attempt == self.retries:
                    raise
            else:
                if response.status_code not in RETRY_STATUSES or attempt == self.retries:
                    break
            time.sleep(self.backoff * 2**attempt)
        if response.is_error:
            try:
                error = response.json()["error"]
                code, message = str(error["code"]), str(error["message"])
            except (ValueError, KeyError, TypeError):
                code, message = "http_error", response.text[:200]
            raise LoupeClientError(response.status_code, code, message)
        return response

    def send_predictions(self, project: int, predictions: Sequence[Prediction]) -> BatchResult:
        """Send predictions in batches of ``batch_size``; returns the totals."""
        totals = BatchResult()
        for start in range(0, len(predictions), self.batch_size):
            batch = predictions[start : start + self.batch_size]
            body = {"items": [p.to_json() for p in batch]}
            data = self._request("POST", f"/projects/{project}/predictions", json=body).json()
            totals = BatchResult(
                received=totals.received + data["received"],
                created=totals.created + data["created"],
                existing=totals.existing + data["existing"],
                to_people=totals.to_people + data["to_people"],
                model_resolved=totals.model_resolved + data["model_resolved"],
            )
        return totals

    def resolved_labels(self, project: int) -> Iterator[dict[str, Any]]:
        """The people's resolved answers (the consensus export), one dict per item."""
        response = self._request(
            "GET", f"/projects/{project}/export", params={"kind": "consensus", "format": "jsonl"}
        )
        for line in response.text.splitlines():
            if line.strip():
                row: dict[str, Any] = json.loads(line)
                yield row

    def models(self, project: int) -> list[ModelInfo]:
        """Every model version, newest first."""
        rows = self._request("GET", f"/projects/{project}/models").json()
        return [
            ModelInfo(
                version=row["version"],
                trainer=row["trainer"],
                metrics=row["metrics"],
                promoted=row["promoted"],
                n_training=row["n_training"],
                reason=row["reason"],
            )
            for row in rows
        ]

    def promoted_model(self, project: int) -> ModelInfo | None:
        """The champion (newest promoted version), or ``None`` before the first promotion."""
        return next((model for model in self.models(project) if model.promoted), None)
