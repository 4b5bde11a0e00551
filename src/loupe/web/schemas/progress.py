"""A project's progress: the figures of the manager dashboard."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from loupe.web.schemas.common import Orm

__all__ = ["AgreementOut", "ContributorCountOut", "DayCountOut", "ProgressOut"]


class DayCountOut(Orm):
    day: date
    labels: int


class ContributorCountOut(Orm):
    username: str
    labels: int


class AgreementOut(Orm):
    # Its name clashes with loupe.web.api.predictions.AgreementOut, so OpenAPI names the
    # component after the module; pinned to the published name the SDK and clients use.
    __module__ = "loupe.schemas"

    fleiss_kappa: float | None = Field(description="null: no item has two labels yet")
    krippendorff_alpha: float | None
    items: int = Field(description="Items with at least two labels")
    labels: int = Field(description="The labels counted")
    definition: str


class ProgressOut(Orm):
    """A project's progress: the figures of the manager dashboard."""

    project_id: int
    name: str
    overlap: int
    items: int = Field(description="All items: the five figures below add up to it")
    model_resolved: int = Field(description="Resolved by the model; no person labelled them")
    settled: int = Field(description="Labelled by people, all the labels needed, not escalated")
    waiting: int = Field(description="Waiting for people: short of labels, or escalated")
    gold: int = Field(description="Gold checks (outside the overlap)")
    withheld: int = Field(description="Held back by the privacy gate")
    labelled: int = Field(description="Items with at least one label")
    labels: int = Field(description="Human labels, gold checks included")
    per_day: list[DayCountOut]
    contributors: list[ContributorCountOut]
    agreement: AgreementOut
    cost: dict[str, int] | None = Field(
        description="Currency -> minor units spent (payouts excluded); null unless you "
        "manage payments"
    )
