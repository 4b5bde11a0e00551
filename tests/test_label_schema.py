from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from loupe.errors import InvalidInput
from loupe.label_schema import (
    FreeText,
    LabelOption,
    LabelSchema,
    MultiChoice,
    Pairwise,
    SingleChoice,
    Spans,
    Task,
    answer_keys,
    is_categorical,
    validate_answer,
)

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


# --- free text ------------------------------------------------------------------------------


def test_free_text_canonical_form_is_stripped() -> None:
    task = FreeText(mode="translation", target_language="de", max_length=10)
    assert validate_answer(task, "  Hallo Welt \n") == "Hallo Welt"
    assert validate_answer(task, "x" * 10) == "x" * 10


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ("   ", "the text is empty; write at least 1 character"),
        ("", "the text is empty"),
        ("x" * 11, "the text has 11 characters; shorten it to at most 10"),
        (42, "send the text as a string"),
        (["a"], "send the text as a string"),
    ],
)
def test_free_text_rejects_with_the_limit(answer: object, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validate_answer(FreeText(max_length=10), answer)
    assert fragment in info.value.message
    assert info.value.details["field"] == "answer"


def test_free_text_min_length_counts_the_stripped_text() -> None:
    with pytest.raises(InvalidInput) as info:
        validate_answer(FreeText(min_length=5), "  abc  ")
    assert "has 3 characters; write at least 5" in info.value.message
    assert info.value.details == {"field": "answer", "min_length": 5, "length": 3}


def test_free_text_options_are_checked() -> None:
    with pytest.raises(ValidationError, match="needs source_field"):
        FreeText(mode="post_edit")
    with pytest.raises(ValidationError, match="must not exceed max_length"):
        FreeText(min_length=10, max_length=5)
    assert FreeText(mode="post_edit", source_field="model_output").source_field == "model_output"


@given(text=st.text(max_size=50))
def test_free_text_validation_is_idempotent(text: str) -> None:
    task = FreeText(max_length=40)
    try:
        once = validate_answer(task, text)
    except InvalidInput:
        return
    assert validate_answer(task, once) == once == text.strip()


# --- pairwise -------------------------------------------------------------------------------


def test_pairwise_answers() -> None:
    assert [validate_answer(Pairwise(), a) for a in ("a", "b", "tie")] == ["a", "b", "tie"]
    with pytest.raises(InvalidInput) as info:
        validate_answer(Pairwise(allow_tie=False), "tie")
    assert "does not allow ties" in info.value.message
    assert info.value.details == {"field": "answer", "allowed": ["a", "b"]}
    for bad in ("A", "left", None, 1):
        with pytest.raises(InvalidInput, match="send one of: a, b, tie"):
            validate_answer(Pairwise(), bad)


def test_pairwise_fields_must_differ() -> None:
    with pytest.raises(ValidationError, match="must differ"):
        Pairwise(a_field="out", b_field="out")


# --- spans ----------------------------------------------------------------------------------

SPANS = Spans(labels=[LabelOption(key="PER"), LabelOption(key="LOC")])


def span(start: int, end: int, label: str = "PER") -> dict[str, object]:
    return {"start": start, "end": end, "label": label}


def test_spans_canonical_form_is_sorted() -> None:
    answer = [span(9, 14, "LOC"), span(0, 3), span(0, 2, "LOC")]
    with pytest.raises(InvalidInput, match="overlap"):
        validate_answer(SPANS, answer)
    overlapping = Spans(labels=SPANS.labels, allow_overlap=True)
    assert validate_answer(overlapping, answer) == [
        span(0, 2, "LOC"),
        span(0, 3),
        span(9, 14, "LOC"),
    ]
    assert validate_answer(SPANS, []) == []


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ("Bo", "send a list of spans"),
        ([["0", "2", "PER"]], "answer[0]: send a span as"),
        ([{"start": 0, "end": 2}], "(missing label)"),
        ([{**span(0, 2), "text": "Bo"}], "(unexpected text)"),
        ([span(0, 2), span(3, 3)], "answer[1]: need 0 <= start < end, got start=3 end=3"),
        ([span(-1, 2)], "need 0 <= start < end"),
        ([{"start": 0.0, "end": 2, "label": "PER"}], "must be integers"),
        ([{"start": True, "end": 2, "label": "PER"}], "must be integers"),
        ([span(0, 2, "ORG")], "'ORG' is not a span label of this project; use one of: PER, LOC"),
        ([span(0, 2), span(0, 2)], "answer[1]: span PER [0, 2) is marked twice"),
        ([span(0, 5), span(4, 8, "LOC")], "spans PER [0, 5) and LOC [4, 8) overlap"),
        ([span(0, 5), span(6, 9), span(2, 3, "LOC")], "spans PER [0, 5) and LOC [2, 3) overlap"),
    ],
)
def test_spans_rejections_say_what_to_fix(answer: object, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validate_answer(SPANS, answer)
    assert fragment in info.value.message
    assert info.value.details["field"] == "answer"


def test_spans_are_checked_against_the_text_when_given() -> None:
    assert validate_answer(SPANS, [span(0, 5)]) == [span(0, 5)]  # no text: offsets unchecked
    assert validate_answer(SPANS, [span(0, 5)], text="Hello") == [span(0, 5)]
    with pytest.raises(InvalidInput) as info:
        validate_answer(SPANS, [span(0, 6)], text="Hello")
    assert "end=6 is past the end of the text (5 characters)" in info.value.message
    # Offsets are code points, as Python indexes strings.
    assert validate_answer(SPANS, [span(0, 2)], text="😀é") == [span(0, 2)]


SPAN_LISTS = st.lists(
    st.builds(
        span,
        st.integers(0, 30),
        st.integers(1, 10),
        st.sampled_from(["PER", "LOC"]),
    ).map(lambda s: {**s, "end": s["start"] + s["end"]}),
    max_size=8,
)


@given(answer=SPAN_LISTS, allow_overlap=st.booleans(), data=st.data())
def test_span_canonical_form_is_idempotent_and_order_free(
    answer: list[dict[str, object]], allow_overlap: bool, data: st.DataObject
) -> None:
    task = Spans(labels=SPANS.labels, allow_overlap=allow_overlap)
    try:
        once = validate_answer(task, answer, text="x" * 40)
    except InvalidInput:
        return
    assert validate_answer(task, once) == once
    assert validate_answer(task, data.draw(st.permutations(answer))) == once
    keys = [(s["start"], s["end"], s["label"]) for s in once]
    assert keys == sorted(set(keys))


# --- answer space ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "keys"),
    [
        (SingleChoice(labels=[LabelOption(key="x"), LabelOption(key="y")]), ["x", "y"]),
        (Pairwise(), ["a", "b", "tie"]),
        (Pairwise(allow_tie=False), ["a", "b"]),
        (MultiChoice(labels=[LabelOption(key="x")]), None),
        (FreeText(), None),
        (SPANS, None),
    ],
)
def test_answer_keys(task: Task, keys: list[str] | None) -> None:
    assert answer_keys(task) == keys
    assert is_categorical(task) is (keys is not None)


@pytest.mark.parametrize(
    ("spec", "cls"),
    [
        ({"type": "free_text", "mode": "transcription"}, FreeText),
        ({"type": "pairwise", "a_field": "left", "b_field": "right"}, Pairwise),
        ({"type": "spans", "labels": [{"key": "PER"}]}, Spans),
        ({"type": "single_choice", "labels": [{"key": "a"}, {"key": "b"}]}, SingleChoice),
    ],
)
def test_new_types_round_trip_through_json(spec: dict[str, object], cls: type) -> None:
    schema = LabelSchema.model_validate({"task": spec})
    assert isinstance(schema.task, cls)
    assert LabelSchema.model_validate_json(schema.model_dump_json()) == schema


def test_unknown_task_type_is_rejected() -> None:
    with pytest.raises(ValidationError, match="ranking"):
        LabelSchema.model_validate({"task": {"type": "ranking"}})


# --- boxes (issue 16) ------------------------------------------------------------------------

from loupe.label_schema import Boxes  # noqa: E402

BOXES = Boxes(labels=[LabelOption(key="cup"), LabelOption(key="sign")], max_boxes=3)


def _b(x: object, y: object, w: object, h: object, label: object = "cup") -> dict[str, object]:
    return {"x": x, "y": y, "w": w, "h": h, "label": label}


def test_boxes_canonical_form_is_clipped_rounded_and_sorted() -> None:
    answer = [_b(100.04, 20, 30.333, 40, "sign"), _b(-0.4, 10, 50, 50.05), _b(600, 470, 40.4, 10)]
    assert validate_answer(BOXES, answer, size=(640, 480)) == [
        _b(0.0, 10.0, 49.6, 50.0),
        _b(100.0, 20.0, 30.4, 40.0, "sign"),  # edges rounded: 100.04 -> 100, 130.373 -> 130.4
        _b(600.0, 470.0, 40.0, 10.0),
    ]
    assert validate_answer(BOXES, []) == []
    # Without the image size only the top-left edges are known.
    assert validate_answer(BOXES, [_b(5000, 0, 10, 10)]) == [_b(5000.0, 0.0, 10.0, 10.0)]


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ({"x": 1}, "send a list of boxes"),
        ([_b(0, 0, 5, 5)] * 4, "at most 3"),
        (["box"], "answer[0]: send a box as"),
        ([{"x": 0, "y": 0, "w": 5, "label": "cup"}], "missing h"),
        ([{**_b(0, 0, 5, 5), "score": 1}], "unexpected score"),
        ([_b(True, 0, 5, 5)], "finite numbers"),
        ([_b(0, 0, float("nan"), 5)], "finite numbers"),
        ([_b(0, 0, "5", 5)], "finite numbers"),
        ([_b(0, 0, 5, 5), _b(0, 0, 0, 5)], "answer[1]: w and h must be positive"),
        ([_b(0, 0, 1.5, 5)], "at least 2 px"),
        ([_b(-1, 0, 5, 5)], "outside"),
        ([_b(630, 0, 11, 5)], "outside the 640x480 image"),
        ([_b(0, 0, 5, 5, "dog")], "'dog' is not a box label"),
        (
            [_b(0, 0, 5, 5), _b(0.01, 0, 5, 5)],
            "answer[1]: box cup at x=0 y=0 w=5 h=5 is drawn twice",
        ),
    ],
)
def test_boxes_rejections_say_what_to_fix(answer: object, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        validate_answer(BOXES, answer, size=(640, 480))


def test_box_clipped_below_min_size_is_refused() -> None:
    # 2.4 px wide, 0.45 px of it outside: clipped to 1.9 < 2.
    with pytest.raises(InvalidInput, match=r"1\.9 x 5 px"):
        validate_answer(BOXES, [_b(638.1, 0, 2.4, 5)], size=(640, 480))


coordinates = st.floats(min_value=0, max_value=600, allow_nan=False)
extents = st.floats(min_value=2.5, max_value=300, allow_nan=False)


@given(
    st.lists(
        st.builds(_b, coordinates, coordinates, extents, extents, st.sampled_from(["cup", "sign"])),
        max_size=3,
    ),
    st.randoms(use_true_random=False),
)
def test_box_canonical_form_is_idempotent_and_order_free(
    answer: list[dict[str, object]], rnd: object
) -> None:
    size = (1000, 1000)
    try:
        canonical = validate_answer(BOXES, answer, size=size)
    except InvalidInput as error:
        assert "drawn twice" in error.message or "at least" in error.message
        return
    assert validate_answer(BOXES, canonical, size=size) == canonical
    shuffled = list(answer)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert validate_answer(BOXES, shuffled, size=size) == canonical
    for box in canonical:
        assert box["x"] + box["w"] <= size[0] and box["y"] + box["h"] <= size[1]  # type: ignore[operator]


def test_boxes_per_answer_are_capped_for_the_optimal_matching() -> None:
    with pytest.raises(ValidationError, match="less than or equal to 1000"):
        Boxes(labels=[LabelOption(key="cup")], max_boxes=5000)


# --- segments (issue 20) ---------------------------------------------------------------------

from loupe.label_schema import Segments, is_transcript  # noqa: E402

SEGMENTS = Segments(labels=[LabelOption(key="wake"), LabelOption(key="noise")], max_segments=3)


def _s(start: object, end: object, label: object = "wake") -> dict[str, object]:
    return {"start": start, "end": end, "label": label}


def test_segments_canonical_form_is_clipped_rounded_and_sorted() -> None:
    answer = [_s(2.004, 3.5, "noise"), _s(-0.03, 1.256), _s(4.5, 5.04)]
    assert validate_answer(SEGMENTS, answer, duration_ms=5000) == [
        _s(0.0, 1.26),
        _s(2.0, 3.5, "noise"),
        _s(4.5, 5.0),  # 40 ms past the end: within the slack, clipped
    ]
    assert validate_answer(SEGMENTS, []) == []
    # Without the duration only the start is checked.
    assert validate_answer(SEGMENTS, [_s(500, 501)]) == [_s(500.0, 501.0)]


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ({"start": 1}, "send a list of segments"),
        ([_s(0, 0.5), _s(1, 1.5), _s(2, 2.5), _s(3, 3.5)], "at most 3"),
        (["seg"], "answer[0]: send a segment as"),
        ([{"start": 0, "label": "wake"}], "missing end"),
        ([{**_s(0, 1), "speaker": "x"}], "unexpected speaker"),
        ([_s(True, 1)], "finite numbers"),
        ([_s(0, float("inf"))], "finite numbers"),
        ([_s("0", 1)], "finite numbers"),
        ([_s(1, 1)], "need start < end"),
        ([_s(1, 1.02)], "at least 0.05 s"),
        ([_s(-0.2, 1)], "outside"),
        ([_s(4, 5.1)], "outside the 5 s of audio"),
        ([_s(0, 1, "dog")], "'dog' is not a segment label"),
        ([_s(0, 1), _s(0.001, 1.001)], "answer[1]: segment wake 0-1 s is marked twice"),
        ([_s(0, 2), _s(1, 3, "noise")], "overlap; this project does not allow"),
    ],
)
def test_segments_rejections_say_what_to_fix(answer: object, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        validate_answer(SEGMENTS, answer, duration_ms=5000)


def test_segments_may_overlap_when_the_project_allows() -> None:
    overlapping = SEGMENTS.model_copy(update={"allow_overlap": True})
    answer = [_s(1, 3, "noise"), _s(0, 2)]
    assert validate_answer(overlapping, answer) == [_s(0.0, 2.0), _s(1.0, 3.0, "noise")]


def test_segments_media_field_is_a_media_field_and_transcripts_are_told_apart() -> None:
    schema = LabelSchema.model_validate(
        {"task": {"type": "segments", "labels": [{"key": "wake"}]}, "media": ["photo"]}
    )
    assert isinstance(schema.task, Segments) and schema.media_fields() == ["photo", "audio"]
    assert is_transcript(FreeText(mode="post_edit", source_field="asr"))
    assert not is_transcript(FreeText(mode="translation")) and not is_transcript(SEGMENTS)
    with pytest.raises(ValidationError, match="less than or equal to 1000"):
        Segments(labels=[LabelOption(key="wake")], max_segments=5000)


@given(
    st.lists(
        st.builds(
            lambda start, length, label: _s(start, start + length, label),
            st.floats(min_value=0, max_value=50, allow_nan=False),
            st.floats(min_value=0.06, max_value=20, allow_nan=False),
            st.sampled_from(["wake", "noise"]),
        ),
        max_size=3,
    ),
    st.randoms(use_true_random=False),
)
def test_segment_canonical_form_is_idempotent_and_order_free(
    answer: list[dict[str, object]], rnd: object
) -> None:
    task = SEGMENTS.model_copy(update={"allow_overlap": True})
    try:
        canonical = validate_answer(task, answer, duration_ms=60_000)
    except InvalidInput as error:
        assert any(f in error.message for f in ("marked twice", "at least", "outside"))
        return
    assert validate_answer(task, canonical, duration_ms=60_000) == canonical
    shuffled = list(answer)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert validate_answer(task, shuffled, duration_ms=60_000) == canonical
    for segment in canonical:
        assert 0 <= segment["start"] < segment["end"] <= 60  # type: ignore[operator]
