"""Plain-SQL statements about the ``gold_answers`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from loupe.db.raw import Query


class GoldAnswerOf(NamedTuple):
    answer: Any  # JSON: read with Raw.json_out


GOLD_ANSWER = Query("SELECT answer FROM gold_answers WHERE item_id = :item", GoldAnswerOf)
