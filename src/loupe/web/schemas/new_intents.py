"""Candidate new intents: clusters of out-of-scope requests, and adopting one as a label."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from loupe.label_schema import KEY_PATTERN
from loupe.services.model_loop.new_intents import MAX_ADOPT
from loupe.web.params import MAX_ID
from loupe.web.schemas.common import Orm

__all__ = ["AdoptIn", "AdoptedOut", "CandidateOut", "CandidatesOut", "ExampleOut"]


class ExampleOut(Orm):
    item_id: int
    text: str = Field(description="As stored, after the privacy gate")


class CandidateOut(Orm):
    name: str = Field(description="A suggested label key, from the cluster's distinctive words")
    terms: list[str]
    size: int
    examples: list[ExampleOut] = Field(description="The most central requests first")
    item_ids: list[int]


class CandidatesOut(BaseModel):
    candidates: list[CandidateOut]


class AdoptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(pattern=KEY_PATTERN, description="The new label's key")
    item_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        min_length=1, max_length=MAX_ADOPT, description="The candidate's items, sent to people"
    )


class AdoptedOut(Orm):
    label: str
    config_version: int = Field(description="The schema version that added the label")
    items: int
    routed: int = Field(description="Items handed to people (the rest already were)")
