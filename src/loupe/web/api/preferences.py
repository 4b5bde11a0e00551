from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from loupe.services.labelling import preferences
from loupe.web.deps import Reader
from loupe.web.params import Id
from loupe.web.schemas.preferences import PreferenceRankingOut

router = APIRouter(tags=["labels"])


@router.get("/projects/{project_id}/preferences", response_model=PreferenceRankingOut)
def ranking(project_id: Id, ctx: Reader) -> PreferenceRankingOut:
    """Pairwise projects: the systems named by items' ``a_model``/``b_model``, ranked by
    Bradley-Terry over every human comparison."""
    result = preferences.preference_ranking(ctx.session, ctx.actor, project_id)
    return PreferenceRankingOut.model_validate(asdict(result))
