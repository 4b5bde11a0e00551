from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loupe.errors import InvalidInput
from loupe.label_schema import LabelOption, LabelSchema, MultiChoice, SingleChoice, validate_answer

KEYS = st.lists(
    st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True), min_size=2, max_size=8, unique=True
)


@given(keys=KEYS, data=st.data())
def test_single_choice_accepts_exactly_its_keys(keys: list[str], data: st.DataObject) -> None:
    task = SingleChoice(labels=[LabelOption(key=k) for k in keys])
    choice = data.draw(st.sampled_from(keys))
    assert validate_answer(task, choice) == choice
    other = data.draw(st.text().filter(lambda s: s not in keys))
    with pytest.raises(InvalidInput) as info:
        validate_answer(task, other)
    assert info.value.details["allowed"] == keys


@given(keys=KEYS, data=st.data())
def test_multi_choice_canonical_form_is_order_free(keys: list[str], data: st.DataObject) -> None:
    task = MultiChoice(labels=[LabelOption(key=k) for k in keys])
    chosen = data.draw(st.lists(st.sampled_from(keys), max_size=5))
    assert validate_answer(task, chosen) == validate_answer(task, list(reversed(chosen)))


def test_schema_is_a_discriminated_union_ready_for_new_types() -> None:
    schema = LabelSchema.model_validate(
        {"task": {"type": "multi_choice", "labels": [{"key": "a"}], "min_choices": 1}}
    )
    assert isinstance(schema.task, MultiChoice)
    with pytest.raises(InvalidInput):
        validate_answer(schema.task, [])
