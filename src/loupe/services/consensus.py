"""Consensus per item: majority vote for now, stored with its support.

The quality engine (``loupe.aggregation``) replaces the method; the stored row
and its readers stay the same.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.models import Consensus, Label, utcnow
from loupe.db.upsert import upsert

__all__ = ["Vote", "majority", "update_consensus"]


@dataclass(frozen=True, slots=True)
class Vote:
    answer: Any
    support: int
    n_labels: int

    @property
    def confidence(self) -> float:
        return self.support / self.n_labels


def majority(answers: Sequence[Any]) -> Vote:
    """The most frequent answer; ties go to the answer given first.

    >>> majority(["call", "music", "call"])
    Vote(answer='call', support=2, n_labels=3)
    """
    if not answers:
        raise ValueError("majority of no answers")
    keys = [json.dumps(answer, sort_keys=True) for answer in answers]
    counts = Counter(keys)
    best = max(counts.values())
    winner = next(key for key in keys if counts[key] == best)
    return Vote(answer=json.loads(winner), support=best, n_labels=len(answers))


def update_consensus(session: Session, *, project_id: int, item_id: int) -> Vote:
    answers = session.scalars(
        select(Label.answer).where(Label.item_id == item_id).order_by(Label.id)
    ).all()
    vote = majority(answers)
    upsert(
        session,
        Consensus.__table__,
        {
            "item_id": item_id,
            "project_id": project_id,
            "answer": vote.answer,
            "support": vote.support,
            "n_labels": vote.n_labels,
            "confidence": vote.confidence,
            "method": "mv",
            "updated_at": utcnow(),
        },
        conflict=["item_id"],
    )
    return vote
