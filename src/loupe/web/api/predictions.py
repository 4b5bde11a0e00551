"""Model feedback: ``POST /projects/{id}/predictions`` and model-versus-people agreement."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from loupe.services.compliance.gate import gate_for
from loupe.services.model_loop import predictions, serving
from loupe.web.deps import Reader, Writer
from loupe.web.params import Id

router = APIRouter(tags=["loop"])


class PredictionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=255, description="The model's answer")
    probabilities: dict[str, float] = Field(
        min_length=1, description="Label -> probability (sums to 1)"
    )


class PredictedItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=255, description="Your id; idempotent by id")
    text: str = Field(min_length=1, max_length=100_000)
    language: str | None = Field(default=None, max_length=16)
    domain: str | None = Field(default=None, max_length=32)
    metadata: dict[str, Any] = Field(default_factory=dict)
    prediction: PredictionBody
    model_version: str | None = Field(default=None, max_length=64)


class PredictionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[PredictedItem] = Field(max_length=predictions.MAX_PREDICTIONS)


class PredictionsOut(BaseModel):
    received: int
    created: int
    existing: int = Field(description="Ids already known: left unchanged")
    to_people: int = Field(description="New items the selection handed to annotators")
    model_resolved: int = Field(description="New items resolved by the model's prediction")
    redacted: int = Field(description="New items in which the privacy gate found personal data")
    by_strategy: dict[str, int]


class StrategyAgreementOut(BaseModel):
    strategy: str
    n: int
    agreement: float


class AgreementOut(BaseModel):
    n_predictions: int
    n_to_people: int
    n_model_resolved: int
    n_compared: int
    agreement: float | None
    by_strategy: list[StrategyAgreementOut]
    audit_accuracy: float | None = Field(
        description="Unbiased estimate of the model's accuracy on all traffic (random audit)"
    )
    audit_standard_error: float | None
    audit_n: int


@router.post("/projects/{project_id}/predictions", response_model=PredictionsOut)
def post_predictions(project_id: Id, body: PredictionsIn, ctx: Writer) -> PredictionsOut:
    """Send up to 1,000 of a model's predictions; the selection decides which people see.

    Each item passes the privacy gate and is stored with its prediction as a pre-label.
    Idempotent by ``id``: known ids are left as they are.
    """
    rows = [
        predictions.PredictionIn(
            id=item.id,
            text=item.text,
            label=item.prediction.label,
            probabilities=item.prediction.probabilities,
            language=item.language,
            domain=item.domain,
            metadata=item.metadata,
            model_version=item.model_version,
        )
        for item in body.items
    ]
    result = predictions.ingest_predictions(
        ctx.session, ctx.actor, project_id, rows, gate=gate_for(ctx.settings)
    )
    return PredictionsOut(
        received=result.received,
        created=result.created,
        existing=result.existing,
        to_people=result.to_people,
        model_resolved=result.model_resolved,
        redacted=result.redacted,
        by_strategy=result.by_strategy,
    )


@router.get("/projects/{project_id}/predictions/agreement", response_model=AgreementOut)
def get_agreement(project_id: Id, ctx: Reader) -> AgreementOut:
    """How often the model agrees with the people, per strategy, and the audit estimate."""
    result = predictions.model_agreement(ctx.session, ctx.actor, project_id)
    return AgreementOut.model_validate(result, from_attributes=True)


class PredictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[Annotated[str, Field(min_length=1, max_length=100_000)]] = Field(
        min_length=1, max_length=serving.MAX_TEXTS, description="Texts to classify"
    )


class PredictOut(BaseModel):
    model_version: int = Field(description="The champion version that answered")
    trainer: str
    classes: list[str]
    labels: list[str] = Field(description="One per text (the out-of-scope threshold applied)")
    probabilities: list[dict[str, float]] = Field(description="Class -> probability, per text")


_CACHE_LOCK = threading.Lock()


def _champions(request: Request) -> serving.ChampionCache:
    """This app's champion cache (one per app, so per worker process), made on first use."""
    state = request.app.state
    with _CACHE_LOCK:
        cache: serving.ChampionCache | None = getattr(state, "champions", None)
        if cache is None:
            from loupe.learning.persistence import ModelStore

            cache = serving.ChampionCache(ModelStore(state.settings.resolved_model_dir()))
            state.champions = cache
    return cache


@router.post("/projects/{project_id}/predict", response_model=PredictOut)
def post_predict(project_id: Id, body: PredictIn, request: Request, ctx: Reader) -> PredictOut:
    """The champion's answers for up to 1,000 texts, and its version; nothing is stored.

    The champion is loaded from the model directory on first use (never retrained) and
    kept in memory; a promotion made by any server is used from the next request.
    """
    served = serving.predict(
        ctx.session, ctx.actor, project_id, body.texts, cache=_champions(request)
    )
    return PredictOut(
        model_version=served.model_version,
        trainer=served.trainer,
        classes=list(served.classes),
        labels=served.labels,
        probabilities=served.probabilities,
    )
