"""Plain-SQL statements about the ``predictions`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query


class PredictedItemRange(NamedTuple):
    min_item_id: int | None  # None: no such prediction
    max_item_id: int | None


# The range of items carrying a prediction with the given resolution.
PREDICTED_ITEM_RANGE = Query(
    "SELECT min(item_id), max(item_id) FROM predictions "
    "WHERE project_id = :project AND resolution = :human",
    PredictedItemRange,
)


class PredictionSample(NamedTuple):
    label: str
    confidence: float
    consensus_answer: Any  # JSON; None while the item has no consensus
    model_version: str | None


# One prediction people were shown, picked at a random point of the project's range
# (an index range scan, not a sort: a gold serve must not be slower than another).
PREDICTION_FROM_ITEM = Query(
    "SELECT p.label, p.confidence, c.answer, p.model_version FROM predictions p "
    "LEFT JOIN consensus c ON c.item_id = p.item_id "
    "WHERE p.project_id = :project AND p.resolution = :human AND p.item_id >= :at "
    "ORDER BY p.item_id LIMIT 1",
    PredictionSample,
)
