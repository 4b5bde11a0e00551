"""Plain-SQL statements about the ``api_tokens`` table (see :mod:`loupe.db.raw`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from loupe.db.raw import Query
