"""Pairwise preferences: systems ranked by Bradley-Terry strength."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["PreferenceRankingOut", "SystemScoreOut"]


class SystemScoreOut(BaseModel):
    name: str
    log_strength: float = Field(description="Bradley-Terry log-strength, mean 0")
    wins: float = Field(description="Comparisons won (ties count half)")
    comparisons: float


class PreferenceRankingOut(BaseModel):
    systems: list[SystemScoreOut] = Field(description="Best first")
    n_comparisons: int
    n_skipped: int = Field(
        description="Labels on items that name no two systems as a_model/b_model (in their "
        "metadata or data)"
    )
