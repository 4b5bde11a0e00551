"""Consensus per item: the majority vote, and the stored row every method writes.

Live consensus (``loupe.services.labelling.live_consensus``) and re-fits
(``loupe.services.quality.refits``) decide the answer (majority, or the posterior under fitted
worker skills); :func:`store_consensus` writes it. Runs inside every submit, so plain SQL.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loupe.db.queries.consensus import UPSERT_CONSENSUS
from loupe.db.raw import Raw
from loupe.services.projects import webhooks

__all__ = ["Vote", "majority", "store_consensus"]


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


def store_consensus(
    raw: Raw,
    *,
    project_id: int,
    item_id: int,
    vote: Vote,
    confidence: float,
    method: str,
    now: datetime,
) -> None:
    """Write (or replace) an item's consensus row: the one place that does."""
    webhooks.consensus_changing(
        raw,
        project_id=project_id,
        item_id=item_id,
        answer=vote.answer,
        confidence=confidence,
        method=method,
        now=now,
    )
    raw.run(
        UPSERT_CONSENSUS,
        item=item_id,
        project=project_id,
        answer=raw.json(vote.answer),
        support=vote.support,
        n=vote.n_labels,
        confidence=confidence,
        method=method,
        now=raw.time(now),
    )
