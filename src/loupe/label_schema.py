"""A project's label schema: what a task asks and which answers are valid.

The schema is stored as JSON on the project (a discriminated union on
``type``), so adding a task type is adding a class here — existing projects
and their labels never need a data migration.

Task types and their canonical answers:

* ``single_choice`` — one label key (``"call"``);
* ``multi_choice`` — a sorted list of distinct keys (``["a", "b"]``);
* ``free_text`` — a string without surrounding whitespace (translation, transcription,
  post-editing a model's output, a written response);
* ``pairwise`` — ``"a"``, ``"b"`` or ``"tie"``: which of two outputs is better;
* ``spans`` — a list of ``{"start", "end", "label"}`` sorted by (start, end, label); offsets
  are Python string indices (Unicode code points) into the item's text, ``end`` exclusive;
* ``boxes`` — a list of ``{"x", "y", "w", "h", "label"}`` in pixels of the item's image,
  clipped to it, rounded to 0.1 px and sorted by (x, y, w, h, label);
* ``segments`` — a list of ``{"start", "end", "label"}`` in seconds of the item's audio,
  clipped to its duration, rounded to 0.01 s and sorted by (start, end, label).

>>> task = SingleChoice(labels=[LabelOption(key="call"), LabelOption(key="music")])
>>> validate_answer(task, "call")
'call'
>>> validate_answer(Pairwise(allow_tie=False), "b")
'b'
>>> spans = Spans(labels=[LabelOption(key="PER"), LabelOption(key="LOC")])
>>> validate_answer(spans, [{"start": 9, "end": 14, "label": "LOC"},
...                         {"start": 0, "end": 3, "label": "PER"}], text="Bo lives in Paris")
[{'start': 0, 'end': 3, 'label': 'PER'}, {'start': 9, 'end': 14, 'label': 'LOC'}]
>>> boxes = Boxes(labels=[LabelOption(key="cup")])
>>> validate_answer(boxes, [{"x": -0.3, "y": 5.04, "w": 40, "h": 20.5, "label": "cup"}],
...                 size=(640, 480))
[{'x': 0.0, 'y': 5.0, 'w': 39.7, 'h': 20.5, 'label': 'cup'}]
>>> segments = Segments(labels=[LabelOption(key="wake")])
>>> validate_answer(segments, [{"start": 0.504, "end": 2.03, "label": "wake"}], duration_ms=2000)
[{'start': 0.5, 'end': 2.0, 'label': 'wake'}]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from loupe.errors import InvalidInput
from loupe.routing import ReviewPolicy, RoutingPolicy

__all__ = [
    "Boxes",
    "FreeText",
    "LabelOption",
    "LabelSchema",
    "MultiChoice",
    "Pairwise",
    "QualityPolicy",
    "Segments",
    "SingleChoice",
    "Spans",
    "Task",
    "TaskSpec",
    "answer_keys",
    "is_categorical",
    "is_transcript",
    "validate_answer",
]

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$"
MAX_SPANS = 10_000
# Boxes are matched by optimal assignment on every submission: a cubic cost in the worst
# case (1,000 heavily overlapping boxes from each of three annotators: about 2 s).
MAX_BOXES = 1_000
# Segments are matched the same way (loupe.aggregation.segments); one per 0.1 s of a
# 100 s clip is far more than anyone marks by ear.
MAX_SEGMENTS = 1_000


class LabelOption(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN, description="Stable identifier stored in labels.")
    description: str = Field(default="", max_length=2000)


def _unique_keys(labels: list[LabelOption]) -> list[LabelOption]:
    keys = [option.key for option in labels]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"label keys must be unique; repeated: {', '.join(duplicates)}")
    return labels


class SingleChoice(BaseModel):
    """Pick exactly one label. The answer is the label's key."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["single_choice"] = "single_choice"
    labels: list[LabelOption] = Field(min_length=2, max_length=1000)

    _check_unique = field_validator("labels")(_unique_keys)


class MultiChoice(BaseModel):
    """Pick any number of labels (at least ``min_choices``). The answer is a list of keys."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["multi_choice"] = "multi_choice"
    labels: list[LabelOption] = Field(min_length=1, max_length=1000)
    min_choices: int = Field(default=0, ge=0)

    _check_unique = field_validator("labels")(_unique_keys)


class FreeText(BaseModel):
    """Write text: a translation, a transcription, a post-edit of a model's output, a response.

    The answer is a string; its canonical form has surrounding whitespace stripped, and its
    stripped length must lie in ``[min_length, max_length]``. Free text cannot be checked by
    counting votes: it is accepted by peer review (see :mod:`loupe.aggregation.free_text`).
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["free_text"] = "free_text"
    mode: Literal["translation", "transcription", "post_edit", "response"] = Field(
        default="response", description="What the text is; shown to contributors and reviewers."
    )
    source_field: str | None = Field(
        default=None,
        min_length=1,
        description="Item data field prefilled in the editor (e.g. a model's output to post-edit).",
    )
    target_language: str | None = Field(
        default=None, min_length=2, max_length=35, description="BCP 47 tag, e.g. 'de' or 'pt-BR'."
    )
    min_length: int = Field(default=1, ge=1, le=100_000)
    max_length: int = Field(default=5000, ge=1, le=100_000)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.min_length > self.max_length:
            raise ValueError(
                f"min_length ({self.min_length}) must not exceed max_length ({self.max_length})"
            )
        if self.mode == "post_edit" and self.source_field is None:
            raise ValueError("a post_edit task needs source_field: the item field to post-edit")
        return self


class Pairwise(BaseModel):
    """Compare two outputs held in the item's data. The answer is ``"a"``, ``"b"`` or ``"tie"``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["pairwise"] = "pairwise"
    a_field: str = Field(default="a", min_length=1, description="Item data field of output A.")
    b_field: str = Field(default="b", min_length=1, description="Item data field of output B.")
    allow_tie: bool = True
    prompt_field: str | None = Field(
        default=None, min_length=1, description="Item data field of the prompt both answer."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.a_field == self.b_field:
            raise ValueError(f"a_field and b_field must differ; both are {self.a_field!r}")
        return self


class Spans(BaseModel):
    """Mark spans of the item's text with entity labels.

    The answer is a list of ``{"start": int, "end": int, "label": str}`` (``end`` exclusive,
    offsets in Unicode code points); no two spans may overlap unless ``allow_overlap``.
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["spans"] = "spans"
    labels: list[LabelOption] = Field(min_length=1, max_length=1000)
    allow_overlap: bool = False

    _check_unique = field_validator("labels")(_unique_keys)


class Boxes(BaseModel):
    """Draw bounding boxes on the item's image, a label per box.

    The answer is a list of ``{"x", "y", "w", "h", "label"}`` in pixels of the served
    image (origin top left; the gate keeps the original's size), at most ``max_boxes``;
    an empty list says there is nothing to mark. Boxes are matched across annotators by
    IoU (see :mod:`loupe.aggregation.boxes`).
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["boxes"] = "boxes"
    labels: list[LabelOption] = Field(min_length=1, max_length=1000)
    media_field: str = Field(
        default="image", min_length=1, max_length=64, description="Item field of the image."
    )
    max_boxes: int = Field(default=500, ge=1, le=MAX_BOXES)
    min_size: float = Field(default=2.0, gt=0, description="Smallest width and height, pixels.")

    _check_unique = field_validator("labels")(_unique_keys)


class Segments(BaseModel):
    """Mark time segments of the item's audio (speaker, noise, wake word), a label each.

    The answer is a list of ``{"start", "end", "label"}`` in seconds from the start of
    the audio (``start < end``), at most ``max_segments``; an empty list says there is
    nothing to mark. Segments of one answer may overlap only with ``allow_overlap``.
    They are matched across annotators by 1-D IoU (see :mod:`loupe.aggregation.segments`).
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["segments"] = "segments"
    labels: list[LabelOption] = Field(min_length=1, max_length=1000)
    media_field: str = Field(
        default="audio", min_length=1, max_length=64, description="Item field of the audio."
    )
    max_segments: int = Field(default=200, ge=1, le=MAX_SEGMENTS)
    min_duration: float = Field(
        default=0.05, ge=0.01, le=60.0, description="Shortest segment, seconds."
    )
    allow_overlap: bool = False

    _check_unique = field_validator("labels")(_unique_keys)


Task = SingleChoice | MultiChoice | FreeText | Pairwise | Spans | Boxes | Segments
"""Any task type (a plain union, for annotations)."""

TaskSpec = Annotated[Task, Field(discriminator="type")]
"""Any task type, parsed from JSON by its ``type``."""


class QualityPolicy(BaseModel):
    """How a project turns labels into trusted answers (the quality engine's knobs).

    With ``dynamic_overlap`` the project's overlap is the most labels an item may
    collect: it stops as soon as its posterior reaches ``target`` (after at least
    ``min_labels``), and is escalated to experts if it reaches the overlap first.
    """

    model_config = ConfigDict(extra="forbid")

    method: Literal["mv", "ds", "ocds", "glad", "mace"] = Field(
        default="ds", description="Aggregator re-fitted in the background (loupe.aggregation)."
    )
    dynamic_overlap: bool = False
    target: float = Field(default=0.95, gt=0.5, lt=1.0)
    min_labels: int = Field(default=1, ge=1, le=100)
    gold_rate: float = Field(
        default=0.0, ge=0.0, le=0.5, description="Share of tasks that are gold items."
    )
    gold_feedback: bool = Field(default=True, description="Tell annotators after a gold task.")
    min_gold_accuracy: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Pause annotators below this (0: never)."
    )
    min_gold_answered: int = Field(default=5, ge=1, le=1000)
    refit_every: int = Field(
        default=200, ge=1, description="Re-fit the aggregator after this many new labels."
    )
    gold_max_wer: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="A transcript answers a gold item rightly at this word error rate or less "
        "(free_text in mode transcription or post_edit).",
    )


class LabelSchema(BaseModel):
    """A project's versioned configuration of what annotators see and answer."""

    model_config = ConfigDict(extra="forbid")

    task: TaskSpec
    text_field: str = Field(
        default="text", min_length=1, description="Field of an item's data shown as its text."
    )
    quality: QualityPolicy = Field(default_factory=QualityPolicy)
    routing: RoutingPolicy = Field(default_factory=RoutingPolicy)
    review: ReviewPolicy = Field(default_factory=ReviewPolicy)
    media: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="Fields of an import row that name media files (images, audio), shown "
        "with the task: classify an image or a spoken request with a single or multi choice "
        "task, transcribe audio with a free_text task. A boxes or segments task's "
        "``media_field`` is one without being listed.",
    )

    def media_fields(self) -> list[str]:
        """Every field that holds media under this schema, in order, without repeats."""
        fields = list(self.media)
        if isinstance(self.task, Boxes | Segments) and self.task.media_field not in fields:
            fields.append(self.task.media_field)
        return fields

    def text_of(self, data: dict[str, Any]) -> str | None:
        """An item's text under this schema (what span offsets point into), if it has one."""
        value = data.get(self.text_field)
        return value if isinstance(value, str) else None


def _allowed(task: SingleChoice | MultiChoice | Spans | Boxes | Segments) -> list[str]:
    return [option.key for option in task.labels]


def answer_keys(task: Task) -> list[str] | None:
    """The categorical answer space for vote-based consensus, or ``None`` if there is none.

    Single choice: the label keys; pairwise: ``["a", "b"]`` (and ``"tie"`` when allowed).
    Multi-choice, free-text and span answers are not one of a fixed set of classes.

    >>> answer_keys(Pairwise())
    ['a', 'b', 'tie']
    >>> answer_keys(FreeText()) is None
    True
    """
    if isinstance(task, SingleChoice):
        return _allowed(task)
    if isinstance(task, Pairwise):
        return ["a", "b", "tie"] if task.allow_tie else ["a", "b"]
    return None


def is_categorical(task: Task) -> bool:
    """Whether answers are one of :func:`answer_keys` (so the aggregators apply)."""
    return answer_keys(task) is not None


def is_transcript(task: Task) -> bool:
    """Whether answers are transcripts of speech (``free_text`` in mode ``transcription``
    or ``post_edit``), fused word by word (:mod:`loupe.aggregation.transcripts`).

    >>> is_transcript(FreeText(mode="transcription")), is_transcript(FreeText())
    (True, False)
    """
    return isinstance(task, FreeText) and task.mode in ("transcription", "post_edit")


def validate_answer(
    task: Task,
    answer: Any,
    *,
    text: str | None = None,
    size: tuple[int, int] | None = None,
    duration_ms: int | None = None,
) -> Any:
    """Return ``answer`` in canonical form, or raise :class:`InvalidInput` naming what is wrong.

    ``text`` is the item's text: when given, span offsets are checked against its length.
    ``size`` is ``(width, height)`` of the item's served image: when given, boxes must lie
    inside it (half a pixel of slack, then clipped). ``duration_ms`` is the length of the
    item's audio: when given, segments must lie inside it (50 ms of slack, then clipped).
    """
    if isinstance(task, SingleChoice):
        return _single_choice(task, answer)
    if isinstance(task, MultiChoice):
        return _multi_choice(task, answer)
    if isinstance(task, FreeText):
        return _free_text(task, answer)
    if isinstance(task, Pairwise):
        return _pairwise(task, answer)
    if isinstance(task, Spans):
        return _spans(task, answer, text)
    if isinstance(task, Segments):
        return _segments(task, answer, duration_ms)
    return _boxes(task, answer, size)


def _single_choice(task: SingleChoice, answer: Any) -> str:
    allowed = _allowed(task)
    if not isinstance(answer, str) or answer not in allowed:
        raise InvalidInput(
            f"answer: {answer!r} is not a label of this project; "
            f"send one of: {', '.join(allowed[:20])}{' ...' if len(allowed) > 20 else ''}",
            details={"field": "answer", "allowed": allowed},
        )
    return answer


def _multi_choice(task: MultiChoice, answer: Any) -> list[str]:
    allowed = _allowed(task)
    if not isinstance(answer, list) or not all(isinstance(key, str) for key in answer):
        raise InvalidInput(
            "answer: send a list of label keys for a multi_choice project",
            details={"field": "answer", "allowed": allowed},
        )
    unknown = sorted(set(answer) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"answer: {', '.join(unknown)} not labels of this project",
            details={"field": "answer", "allowed": allowed, "unknown": unknown},
        )
    if len(set(answer)) < task.min_choices:
        raise InvalidInput(
            f"answer: choose at least {task.min_choices} labels",
            details={"field": "answer", "min_choices": task.min_choices},
        )
    # Canonical: sorted, no repeats, so equal answers compare equal.
    return sorted(set(answer))


def _free_text(task: FreeText, answer: Any) -> str:
    if not isinstance(answer, str):
        raise InvalidInput(
            "answer: send the text as a string for a free_text project, "
            f"got {type(answer).__name__}",
            details={"field": "answer"},
        )
    stripped = answer.strip()
    if len(stripped) < task.min_length:
        have = f"the text has {len(stripped)} characters" if stripped else "the text is empty"
        raise InvalidInput(
            f"answer: {have}; write at least {task.min_length} "
            f"character{'s' if task.min_length > 1 else ''} "
            "(surrounding whitespace does not count)",
            details={"field": "answer", "min_length": task.min_length, "length": len(stripped)},
        )
    if len(stripped) > task.max_length:
        raise InvalidInput(
            f"answer: the text has {len(stripped)} characters; "
            f"shorten it to at most {task.max_length}",
            details={"field": "answer", "max_length": task.max_length, "length": len(stripped)},
        )
    return stripped


def _pairwise(task: Pairwise, answer: Any) -> str:
    allowed = answer_keys(task) or []
    if not isinstance(answer, str) or answer not in allowed:
        hint = "" if task.allow_tie or answer != "tie" else " (this project does not allow ties)"
        raise InvalidInput(
            f"answer: {answer!r} is not a pairwise choice{hint}; send one of: {', '.join(allowed)}",
            details={"field": "answer", "allowed": allowed},
        )
    return answer


_Mark = TypeVar("_Mark", bound=tuple[Any, ...])


@dataclass(frozen=True, slots=True)
class _Marks(Generic[_Mark]):
    """What an answer marks (spans, boxes, segments): how a mark is named, sent and shown
    in the errors that refuse one, and the checks every kind of mark shares."""

    noun: str  # "box"
    plural: str  # "boxes"
    verb: str  # how one is made: "drawn", "marked"
    shape: str  # how to send one, as JSON
    keys: tuple[str, ...]  # in the order a missing one is named
    show: Callable[[_Mark], str]
    as_dict: Callable[[_Mark], dict[str, Any]]

    def distinct(
        self, answer: list[Any], most: int, parse: Callable[[int, Any], _Mark]
    ) -> list[_Mark]:
        """``answer``'s marks parsed by ``parse(index, raw)``, sorted: at most ``most``,
        none twice."""
        if len(answer) > most:
            raise InvalidInput(
                f"answer: {len(answer)} {self.plural}; send at most {most}",
                details={"field": "answer", f"max_{self.plural}": most},
            )
        marks: list[_Mark] = []
        seen: set[_Mark] = set()
        for index, raw in enumerate(answer):
            mark = parse(index, raw)
            if mark in seen:
                raise InvalidInput(
                    f"answer[{index}]: {self.noun} {self.show(mark)} is {self.verb} twice; "
                    f"send each {self.noun} once",
                    details={"field": "answer", "index": index, self.noun: self.as_dict(mark)},
                )
            seen.add(mark)
            marks.append(mark)
        marks.sort()
        return marks

    def refuse_overlap(self, marks: list[_Mark]) -> None:
        """Refuse sorted ``(start, end, ...)`` marks of which two overlap."""
        for before, after in pairwise(marks):
            if after[0] < before[1]:
                raise InvalidInput(
                    f"answer: {self.plural} {self.show(before)} and {self.show(after)} "
                    f"overlap; this project does not allow overlapping {self.plural}",
                    details={
                        "field": "answer",
                        self.plural: [self.as_dict(before), self.as_dict(after)],
                    },
                )

    def fields(self, index: int, raw: Any) -> dict[str, Any]:
        """``answer[index]`` as a dict with exactly :attr:`keys`."""
        where = f"answer[{index}]"
        if not isinstance(raw, dict):
            raise InvalidInput(
                f"{where}: send a {self.noun} as {self.shape}",
                details={"field": "answer", "index": index},
            )
        missing = [key for key in self.keys if key not in raw]
        unexpected = sorted(map(str, set(raw) - set(self.keys)))
        if missing or unexpected:
            problem = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unexpected {', '.join(unexpected)}" if unexpected else "",
                )
                if part
            )
            raise InvalidInput(
                f"{where}: send a {self.noun} as {self.shape} ({problem})",
                details={"field": "answer", "index": index, "missing": missing,
                         "unexpected": unexpected},
            )  # fmt: skip
        return raw

    def label(self, index: int, label: Any, allowed: list[str]) -> str:
        """The label of ``answer[index]``, one of ``allowed``."""
        if not isinstance(label, str) or label not in allowed:
            raise InvalidInput(
                f"answer[{index}]: {label!r} is not a {self.noun} label of this project; "
                f"use one of: {', '.join(allowed[:20])}{' ...' if len(allowed) > 20 else ''}",
                details={"field": "answer", "index": index, "allowed": allowed},
            )
        return label


def _spans(task: Spans, answer: Any, text: str | None) -> list[dict[str, Any]]:
    allowed = _allowed(task)
    if not isinstance(answer, list):
        raise InvalidInput(
            'answer: send a list of spans like [{"start": 0, "end": 5, "label": "PER"}] '
            "(an empty list when there is nothing to mark)",
            details={"field": "answer", "allowed": allowed},
        )
    spans = _SPANS.distinct(answer, MAX_SPANS, lambda i, raw: _span(allowed, i, raw, text))
    if not task.allow_overlap:
        _SPANS.refuse_overlap(spans)
    return [_as_dict(span) for span in spans]


def _span(allowed: list[str], index: int, span: Any, text: str | None) -> tuple[int, int, str]:
    where = f"answer[{index}]"
    span = _SPANS.fields(index, span)
    start, end = span["start"], span["end"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        raise InvalidInput(
            f"{where}: start and end must be integers (character offsets)",
            details={"field": "answer", "index": index},
        )
    if not 0 <= start < end:
        raise InvalidInput(
            f"{where}: need 0 <= start < end, got start={start} end={end}",
            details={"field": "answer", "index": index, "start": start, "end": end},
        )
    if text is not None and end > len(text):
        raise InvalidInput(
            f"{where}: end={end} is past the end of the text ({len(text)} characters)",
            details={"field": "answer", "index": index, "end": end, "text_length": len(text)},
        )
    return start, end, _SPANS.label(index, span["label"], allowed)


BOX_KEYS = ("x", "y", "w", "h", "label")
BOX_SLACK = 0.5  # pixels a box may stick out of the image before it is refused


def _boxes(task: Boxes, answer: Any, size: tuple[int, int] | None) -> list[dict[str, Any]]:
    allowed = _allowed(task)
    if not isinstance(answer, list):
        raise InvalidInput(
            'answer: send a list of boxes like [{"x": 10, "y": 20, "w": 100, "h": 50, '
            '"label": "cup"}] in pixels (an empty list when there is nothing to mark)',
            details={"field": "answer", "allowed": allowed},
        )
    boxes = _BOXES.distinct(
        answer, task.max_boxes, lambda i, raw: _box(task, allowed, i, raw, size)
    )
    return [_box_dict(box) for box in boxes]


def _box(
    task: Boxes, allowed: list[str], index: int, box: Any, size: tuple[int, int] | None
) -> tuple[float, float, float, float, str]:
    where = f"answer[{index}]"
    box = _BOXES.fields(index, box)
    numbers = [box[key] for key in ("x", "y", "w", "h")]
    finite = (isinstance(v, int | float) and math.isfinite(v) for v in numbers)
    if any(isinstance(v, bool) for v in numbers) or not all(finite):
        raise InvalidInput(
            f"{where}: x, y, w and h must be finite numbers (pixels)",
            details={"field": "answer", "index": index},
        )
    x, y, w, h = (float(v) for v in numbers)
    if w <= 0 or h <= 0:
        raise InvalidInput(
            f"{where}: w and h must be positive, got w={w:g} h={h:g}",
            details={"field": "answer", "index": index, "w": w, "h": h},
        )
    right, bottom = (size[0], size[1]) if size is not None else (math.inf, math.inf)
    if min(x, y) < -BOX_SLACK or x + w > right + BOX_SLACK or y + h > bottom + BOX_SLACK:
        inside = f"the {size[0]}x{size[1]} image" if size is not None else "the image"
        raise InvalidInput(
            f"{where}: the box x={x:g} y={y:g} w={w:g} h={h:g} lies outside {inside}; "
            "draw it inside",
            details={"field": "answer", "index": index, "size": list(size) if size else None},
        )
    # Clip to the image, then round the edges to 0.1 px so equal boxes compare equal.
    x1, y1 = round(max(x, 0.0), 1), round(max(y, 0.0), 1)
    x2, y2 = round(min(x + w, right), 1), round(min(y + h, bottom), 1)
    w, h = round(x2 - x1, 1), round(y2 - y1, 1)
    if w < task.min_size or h < task.min_size:
        raise InvalidInput(
            f"{where}: the box is {w:g} x {h:g} px; draw it at least {task.min_size:g} px "
            "wide and high",
            details={"field": "answer", "index": index, "min_size": task.min_size},
        )
    return x1, y1, w, h, _BOXES.label(index, box["label"], allowed)


def _box_dict(box: tuple[float, float, float, float, str]) -> dict[str, Any]:
    return dict(zip(BOX_KEYS, box, strict=True))


def _show_box(box: tuple[float, float, float, float, str]) -> str:
    return f"{box[4]} at x={box[0]:g} y={box[1]:g} w={box[2]:g} h={box[3]:g}"


def _as_dict(span: tuple[int, int, str]) -> dict[str, Any]:
    return {"start": span[0], "end": span[1], "label": span[2]}


def _show(span: tuple[int, int, str]) -> str:
    return f"{span[2]} [{span[0]}, {span[1]})"


_SPANS: _Marks[tuple[int, int, str]] = _Marks(
    "span", "spans", "marked", '{"start": int, "end": int, "label": str}',
    ("end", "label", "start"), _show, _as_dict,
)  # fmt: skip
_BOXES: _Marks[tuple[float, float, float, float, str]] = _Marks(
    "box", "boxes", "drawn",
    '{"x": number, "y": number, "w": number, "h": number, "label": str}',
    BOX_KEYS, _show_box, _box_dict,
)  # fmt: skip


SEGMENT_SLACK_S = 0.05  # seconds a segment may run past the audio before it is refused


def _segments(task: Segments, answer: Any, duration_ms: int | None) -> list[dict[str, Any]]:
    allowed = _allowed(task)
    if not isinstance(answer, list):
        raise InvalidInput(
            'answer: send a list of segments like [{"start": 0.5, "end": 1.25, "label": '
            f'"{allowed[0]}"}}] in seconds (an empty list when there is nothing to mark)',
            details={"field": "answer", "allowed": allowed},
        )
    duration = None if duration_ms is None else duration_ms / 1000
    segments = _SEGMENTS.distinct(
        answer, task.max_segments, lambda i, raw: _segment(task, allowed, i, raw, duration)
    )
    if not task.allow_overlap:
        _SEGMENTS.refuse_overlap(segments)
    return [_segment_dict(segment) for segment in segments]


def _segment(
    task: Segments, allowed: list[str], index: int, segment: Any, duration: float | None
) -> tuple[float, float, str]:
    where = f"answer[{index}]"
    segment = _SEGMENTS.fields(index, segment)
    start, end = segment["start"], segment["end"]
    finite = all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        for v in (start, end)
    )
    if not finite:
        raise InvalidInput(
            f"{where}: start and end must be finite numbers (seconds)",
            details={"field": "answer", "index": index},
        )
    start, end = float(start), float(end)
    if not start < end:
        raise InvalidInput(
            f"{where}: need start < end, got start={start:g} end={end:g}",
            details={"field": "answer", "index": index, "start": start, "end": end},
        )
    limit = duration if duration is not None else math.inf
    if start < -SEGMENT_SLACK_S or end > limit + SEGMENT_SLACK_S:
        inside = f"the {duration:g} s of audio" if duration is not None else "the audio"
        raise InvalidInput(
            f"{where}: the segment {start:g}-{end:g} s lies outside {inside}; mark it inside",
            details={"field": "answer", "index": index, "duration_s": duration},
        )
    # Clip to the audio, then round to 10 ms so equal segments compare equal.
    start, end = round(max(start, 0.0), 2), round(min(end, limit), 2)
    if end - start < task.min_duration - 1e-9:
        raise InvalidInput(
            f"{where}: the segment {start:g}-{end:g} s is {end - start:.2f} s long; "
            f"mark at least {task.min_duration:g} s",
            details={"field": "answer", "index": index, "min_duration": task.min_duration},
        )
    return start, end, _SEGMENTS.label(index, segment["label"], allowed)


def _segment_dict(segment: tuple[float, float, str]) -> dict[str, Any]:
    return {"start": segment[0], "end": segment[1], "label": segment[2]}


def _show_segment(segment: tuple[float, float, str]) -> str:
    return f"{segment[2]} {segment[0]:g}-{segment[1]:g} s"


_SEGMENTS: _Marks[tuple[float, float, str]] = _Marks(
    "segment", "segments", "marked", '{"start": seconds, "end": seconds, "label": str}',
    ("end", "label", "start"), _show_segment, _segment_dict,
)  # fmt: skip
