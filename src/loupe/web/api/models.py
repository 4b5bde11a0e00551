"""Model versions: ``GET /projects/{id}/models`` and an on-demand retrain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from loupe.learning.persistence import ModelStore
from loupe.services.access import authorize_project
from loupe.services.model_loop import model_versions
from loupe.web.deps import Reader, Writer
from loupe.web.params import Id

router = APIRouter(tags=["loop"])


class ModelVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    trainer: str
    metrics: dict[str, Any] = Field(
        description="On the project's held-out gold set; `oos_rule` names the out-of-scope "
        "rule that labelled it (absent on versions stored before it was recorded)"
    )
    control_metrics: dict[str, Any] | None = Field(
        description="The same trainer on the random-audit items only"
    )
    n_training: int
    training_hash: str = Field(description="SHA-256 of the (id, label) pairs trained on")
    gold_set: str = Field(description="SHA-256 fingerprint of the gold item ids")
    n_labels: int = Field(description="Human labels bought when it was trained")
    cost_minor: int
    currency: str | None
    promoted: bool
    reason: str
    created_at: datetime
    shadow_status: str | None = Field(
        description="pending (the champion serves, this one is shadowed), promoted, "
        "rejected; null when not shadowed"
    )
    shadow: dict[str, Any] | None = Field(
        description="Paired agreement with people on live items labelled since it was "
        "trained: n, challenger_correct, champion_correct, champion_version"
    )


def _out(row: Any) -> ModelVersionOut:
    return ModelVersionOut(
        version=row.version,
        trainer=row.trainer,
        metrics=row.metrics,
        control_metrics=row.control_metrics,
        n_training=len(row.training_ids),
        training_hash=row.training_hash,
        gold_set=row.gold_set,
        n_labels=row.n_labels,
        cost_minor=row.cost_minor,
        currency=row.currency,
        promoted=row.promoted,
        reason=row.reason,
        created_at=row.created_at,
        shadow_status=row.shadow_status,
        shadow=row.shadow,
    )


@router.get("/projects/{project_id}/models", response_model=list[ModelVersionOut])
def list_models(project_id: Id, ctx: Reader) -> list[ModelVersionOut]:
    """Every model version, newest first; the champion is the newest with ``promoted``."""
    return [
        _out(row) for row in model_versions.list_model_versions(ctx.session, ctx.actor, project_id)
    ]


@router.post("/projects/{project_id}/models/retrain", response_model=ModelVersionOut)
def retrain(project_id: Id, ctx: Writer) -> ModelVersionOut:
    """Retrain now on the resolved labels; promoted only if better on the gold set."""
    store = ModelStore(ctx.settings.resolved_model_dir())
    authorize_project(ctx.session, ctx.actor, "projects.update", project_id)
    # End the request's transaction before the fit, which runs with none open: submits
    # never wait on the writer lock for it (as for POST /quality/refit).
    ctx.session.commit()
    return _out(model_versions.retrain_in_steps(ctx.db, ctx.actor, project_id, store=store).record)
