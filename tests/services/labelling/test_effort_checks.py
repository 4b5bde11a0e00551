"""The effort check's tally of a project's answers (decoded once per distinct answer)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from loupe.db.raw import Raw
from loupe.services.labelling.effort_checks import _key, _tally

ANSWERS = st.one_of(
    st.sampled_from(["call", "music", "navigate", 1, True, 1.0, None]),
    st.lists(st.sampled_from(["a", "b"]), max_size=2),
    st.dictionaries(st.sampled_from(["x", "y"]), st.integers(0, 2), max_size=2),
)


def _raw(postgres: bool) -> Raw:
    raw = Raw.__new__(Raw)
    raw.postgres = postgres
    return raw


@given(st.lists(ANSWERS, max_size=30))
def test_tally_counts_as_decoding_every_answer(answers: list[Any]) -> None:
    for postgres in (False, True):
        raw = _raw(postgres)
        # SQLite hands back JSON text; PostgreSQL decoded values (lists unhashable).
        stored: list[object] = (
            list(answers) if postgres else [json.dumps(a, ensure_ascii=False) for a in answers]
        )
        expected = Counter(_key(raw.json_out(a)) for a in stored)
        assert _tally(raw, stored) == expected
