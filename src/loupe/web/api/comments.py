"""``/projects/{id}/items/{id}/comments``: what people say about an item (gated text)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from loupe.services.labelling import comments
from loupe.web.deps import Reader, Writer
from loupe.web.params import Id

router = APIRouter(tags=["comments"])


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(
        max_length=comments.MAX_COMMENT * 2,
        description="The comment; it passes the project's privacy gate before it is stored",
    )


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    body: str = Field(description="As stored: personal data the gate found is redacted")
    redacted: bool = Field(description="The gate found (and redacted) something personal")
    mine: bool
    author: str | None = Field(description="Shown to managers, auditors and admins only")
    created_at: datetime


@router.get("/projects/{project_id}/items/{item_id}/comments", response_model=list[CommentOut])
def list_comments(project_id: Id, item_id: Id, ctx: Reader) -> list[CommentOut]:
    """The item's comments, oldest first (for those who may see the item)."""
    found = comments.list_comments(ctx.session, ctx.actor, project_id, item_id)
    return [CommentOut.model_validate(c) for c in found]


@router.post(
    "/projects/{project_id}/items/{item_id}/comments",
    response_model=CommentOut,
    status_code=status.HTTP_201_CREATED,
)
def add_comment(project_id: Id, item_id: Id, body: CommentIn, ctx: Writer) -> CommentOut:
    """Comment on an item you can see; the text is gated (redacted) before it is stored."""
    found = comments.add_comment(ctx.session, ctx.actor, project_id, item_id, body=body.body)
    return CommentOut.model_validate(found)
