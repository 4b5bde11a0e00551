"""A project's label schema: what a task asks and which answers are valid.

The schema is stored as JSON on the project (a discriminated union on
``type``), so adding a task type is adding a class here — existing projects
and their labels never need a data migration.

>>> task = SingleChoice(labels=[LabelOption(key="call"), LabelOption(key="music")])
>>> validate_answer(task, "call")
'call'
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from loupe.errors import InvalidInput

__all__ = [
    "LabelOption",
    "LabelSchema",
    "MultiChoice",
    "QualityPolicy",
    "SingleChoice",
    "TaskSpec",
    "validate_answer",
]

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$"


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


TaskSpec = Annotated[SingleChoice | MultiChoice, Field(discriminator="type")]


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


class LabelSchema(BaseModel):
    """A project's versioned configuration of what annotators see and answer."""

    model_config = ConfigDict(extra="forbid")

    task: TaskSpec
    text_field: str = Field(
        default="text", min_length=1, description="Field of an item's data shown as its text."
    )
    quality: QualityPolicy = Field(default_factory=QualityPolicy)


def _allowed(task: SingleChoice | MultiChoice) -> list[str]:
    return [option.key for option in task.labels]


def validate_answer(task: SingleChoice | MultiChoice, answer: Any) -> Any:
    """Return ``answer`` in canonical form, or raise :class:`InvalidInput` naming what is wrong."""
    allowed = _allowed(task)
    if isinstance(task, SingleChoice):
        if not isinstance(answer, str) or answer not in allowed:
            raise InvalidInput(
                f"answer: {answer!r} is not a label of this project; "
                f"send one of: {', '.join(allowed[:20])}{' ...' if len(allowed) > 20 else ''}",
                details={"field": "answer", "allowed": allowed},
            )
        return answer
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
