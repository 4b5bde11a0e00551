"""Pairwise preference projects: rank the systems behind the outputs (Bradley-Terry).

Each item of a ``pairwise`` project shows two outputs; the item names the systems that
produced them as ``a_model`` and ``b_model`` (e.g. two model versions), in its metadata
or among its data fields (:func:`loupe.services.labelling.pairwise.systems`). Every
label is one human comparison: ``a`` (A wins), ``b`` (B wins) or ``tie``. The ranking
fits Bradley-Terry strengths over all comparisons (``loupe.aggregation.BradleyTerry``);
each item's own answer is the vote of its labels, like any categorical task.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.models import Item, Label
from loupe.errors import InvalidInput
from loupe.label_schema import Pairwise
from loupe.services.access import Actor, authorize_project
from loupe.services.labelling import pairwise
from loupe.services.projects.definition import project_schema

__all__ = ["PreferenceRanking", "SystemScore", "preference_ranking"]


@dataclass(frozen=True, slots=True)
class SystemScore:
    name: str
    log_strength: float  # mean 0 across systems
    wins: float  # ties count half
    comparisons: float


@dataclass(frozen=True, slots=True)
class PreferenceRanking:
    systems: list[SystemScore]  # best first
    n_comparisons: int
    n_skipped: int  # labels on items naming no two systems (in metadata or data)


def preference_ranking(session: Session, actor: Actor, project_id: int) -> PreferenceRanking:
    project = authorize_project(session, actor, "labels.read", project_id)
    if not isinstance(project_schema(project).task, Pairwise):
        raise InvalidInput(
            f"project {project_id} is not a pairwise project; rankings need pairwise labels",
            details={"project_id": project_id},
        )
    rows = session.execute(
        select(Label.answer, Item.data, Item.meta)
        .join(Item, Item.id == Label.item_id)
        .where(Label.project_id == project_id, Item.is_gold.is_(False))
        .order_by(Label.id)
    ).all()
    winners: list[str] = []
    losers: list[str] = []
    ties: list[bool] = []
    skipped = 0
    for answer, data, meta in rows:
        named = pairwise.systems(data, meta)
        if named is None:
            skipped += 1
            continue
        a, b = named
        first, second = (b, a) if answer == "b" else (a, b)
        winners.append(first)
        losers.append(second)
        ties.append(answer == "tie")
    if not winners:
        return PreferenceRanking(systems=[], n_comparisons=0, n_skipped=skipped)
    from loupe.aggregation import BradleyTerry  # numpy on first use

    model = BradleyTerry().fit(winners, losers, ties=ties)
    index = {name: i for i, name in enumerate(model.players_.tolist())}
    systems = [
        SystemScore(
            name=str(name),
            log_strength=float(model.scores_[name]),
            wins=float(model.wins_[index[name]]),
            comparisons=float(model.n_comparisons_[index[name]]),
        )
        for name in model.ranking_
    ]
    return PreferenceRanking(systems=systems, n_comparisons=len(winners), n_skipped=skipped)
