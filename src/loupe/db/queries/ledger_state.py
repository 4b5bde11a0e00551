"""Plain-SQL statements about the ``ledger_state`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from typing import NamedTuple

from loupe.db.raw import Query

# Statements of the payment log bind ``?`` by position: they run through
# loupe.services.payments.ledger_store, which speaks ``?`` on both databases.


class LedgerSize(NamedTuple):
    size: int


LEDGER_SIZE = Query("SELECT size FROM ledger_state WHERE id = 1", LedgerSize)
INIT_LEDGER_STATE = "INSERT INTO ledger_state (id, size) VALUES (1, 0) ON CONFLICT DO NOTHING"
SET_LEDGER_SIZE = "UPDATE ledger_state SET size = ? WHERE id = 1"
