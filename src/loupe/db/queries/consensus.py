"""Plain-SQL statements about the ``consensus`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query


class ExportConsensus(NamedTuple):
    item_id: int
    answer: str  # JSON text
    support: int
    n_labels: int
    confidence: float
    method: str


EXPORT_CONSENSUS_OF_ITEMS = Query(
    "SELECT item_id, CAST(answer AS TEXT), support, n_labels, confidence, method FROM consensus "
    "WHERE project_id = :project AND item_id BETWEEN :first AND :last",
    ExportConsensus,
)


class StructuredConsensusAnswer(NamedTuple):
    found: int


# A JSON string's text starts with a quote: any other answer makes the column JSON.
STRUCTURED_CONSENSUS_ANSWER = Query(
    "SELECT 1 FROM consensus WHERE project_id = :project "
    "AND CAST(answer AS TEXT) NOT LIKE '\"%' LIMIT 1",
    StructuredConsensusAnswer,
)


class ConsensusAnswer(NamedTuple):
    answer: Any  # JSON: read with Raw.json_out


CONSENSUS_ANSWER = Query("SELECT answer FROM consensus WHERE item_id = :item", ConsensusAnswer)


# Write (or replace) an item's consensus (loupe.services.labelling.consensus.store_consensus).
UPSERT_CONSENSUS = (
    "INSERT INTO consensus (item_id, project_id, answer, support, n_labels, confidence, method, "
    "updated_at) VALUES (:item, :project, :answer, :support, :n, :confidence, :method, :now) "
    "ON CONFLICT (item_id) DO UPDATE SET answer = excluded.answer, support = excluded.support, "
    "n_labels = excluded.n_labels, confidence = excluded.confidence, method = excluded.method, "
    "updated_at = excluded.updated_at"
)
DELETE_CONSENSUS = "DELETE FROM consensus WHERE item_id = :item"


class ConsensusConfidence(NamedTuple):
    confidence: float


CONSENSUS_CONFIDENCE = Query(
    "SELECT confidence FROM consensus WHERE item_id = :item", ConsensusConfidence
)
