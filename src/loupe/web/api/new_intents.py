"""``/projects/{id}/new-intents``: candidate new intents and adopting one (managers)."""

from __future__ import annotations

from fastapi import APIRouter

from loupe.services.model_loop import new_intents
from loupe.web.deps import Reader, Writer
from loupe.web.params import Id
from loupe.web.schemas.new_intents import AdoptedOut, AdoptIn, CandidateOut, CandidatesOut

router = APIRouter(tags=["loop"])


@router.get("/projects/{project_id}/new-intents", response_model=CandidatesOut)
def get_new_intents(project_id: Id, ctx: Reader) -> CandidatesOut:
    """Clusters of the newest out-of-scope or novel requests: candidate new intents."""
    found = new_intents.candidates(ctx.session, ctx.actor, project_id)
    return CandidatesOut(candidates=[CandidateOut.model_validate(c) for c in found])


@router.post("/projects/{project_id}/new-intents/adopt", response_model=AdoptedOut)
def adopt_new_intent(project_id: Id, body: AdoptIn, ctx: Writer) -> AdoptedOut:
    """Add a candidate's name as a label (a new schema version) and send its items to people."""
    adopted = new_intents.adopt(
        ctx.session, ctx.actor, project_id, label=body.label, item_ids=body.item_ids
    )
    return AdoptedOut.model_validate(adopted)
