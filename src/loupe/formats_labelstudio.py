"""Label Studio's JSON task format, both ways: pure conversion, no database.

A Label Studio project export is a JSON list of tasks::

    [{"id": 1, "data": {"text": "..."},
      "annotations": [{"completed_by": 10, "was_cancelled": false,
                       "result": [{"from_name": "label", "to_name": "text",
                                   "type": "choices", "value": {"choices": ["call"]}}]}],
      "predictions": [{"model_version": "m1", "score": 0.9, "result": [...]}]}]

Loupe's task types map onto Label Studio's result types: ``single_choice`` and
``multi_choice`` onto ``choices``; ``spans`` onto ``labels`` (``start``, ``end``,
``text``, ``labels``); ``free_text`` onto ``textarea`` (``value.text`` a list of
lines); ``pairwise`` onto ``choices`` of ``a``, ``b``, ``tie`` (Label Studio's
``pairwise`` result, ``selected: left|right``, is read too).

Import (:func:`task_rows`) turns each task into a Loupe import row: the task's
``data`` are the item's data; the id is ``data.id`` when present, else the task's
``id``; each non-cancelled annotation and each prediction, converted to a Loupe
answer and checked against the project's schema, is kept under
``metadata.labelstudio``, and the last annotation (else the best-scored
prediction) becomes ``metadata.prediction``, the pre-label annotators are shown.
Export (:func:`export_task`) turns one row of Loupe's ``items`` export into a task.

>>> from loupe.label_schema import LabelOption, LabelSchema, SingleChoice
>>> schema = LabelSchema(task=SingleChoice(labels=[LabelOption(key="a"), LabelOption(key="b")]))
>>> result = [{"type": "choices", "from_name": "label", "to_name": "text",
...            "value": {"choices": ["b"]}}]
>>> answer_from_result(schema, result, text="hi", where="task 0")
'b'
>>> result_from_answer(schema, "b", text="hi")[0]["value"]
{'choices': ['b']}
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from loupe.errors import InvalidInput
from loupe.label_schema import (
    FreeText,
    LabelSchema,
    MultiChoice,
    Pairwise,
    Spans,
    validate_answer,
)

__all__ = [
    "CONSENSUS_MODEL",
    "FROM_NAME",
    "answer_from_result",
    "export_task",
    "result_from_answer",
    "task_rows",
]

FROM_NAME = "label"
"""The control's name in exported results (``<Choices name="label" ...>``)."""
CONSENSUS_MODEL = "loupe-consensus"
"""``model_version`` of the prediction that carries Loupe's consensus in an export."""
_PAIRWISE_SIDES = {"left": "a", "right": "b"}


def _utf16_to_index(text: str, offset: int) -> int:
    """A UTF-16 code-unit offset (JavaScript's string index) as a code-point index."""
    units = 0
    for index, char in enumerate(text):
        if units >= offset:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text)


def _span_offsets(value: dict[str, Any], text: str | None, where: str) -> tuple[int, int]:
    start, end = value.get("start"), value.get("end")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        raise InvalidInput(
            f"{where}: a labels result needs integer value.start and value.end",
            details={"where": where},
        )
    assert isinstance(start, int) and isinstance(end, int)
    marked = value.get("text")
    if text is not None and isinstance(marked, str) and text[start:end] != marked:
        # Label Studio counts in JavaScript string units (UTF-16): text with characters
        # outside the BMP (emoji) shifts the offsets. Loupe counts code points.
        start16, end16 = _utf16_to_index(text, start), _utf16_to_index(text, end)
        if text[start16:end16] != marked:
            raise InvalidInput(
                f"{where}: span [{start}, {end}) does not mark {marked!r} in the text",
                details={"where": where, "start": start, "end": end},
            )
        start, end = start16, end16
    return start, end


def answer_from_result(
    schema: LabelSchema, result: Any, *, text: str | None, where: str
) -> Any | None:
    """The canonical Loupe answer in a Label Studio ``result`` list, or ``None`` if it has none.

    Results of other types than the project's task maps to are ignored; the answer is
    checked with :func:`loupe.label_schema.validate_answer` (errors name ``where``).
    """
    if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
        raise InvalidInput(f"{where}: result must be a list of objects", details={"where": where})
    task = schema.task
    values = [r.get("value") if isinstance(r.get("value"), dict) else {} for r in result]
    types = [r.get("type") for r in result]
    answer: Any
    if isinstance(task, Spans):
        answer = []
        for value, kind in zip(values, types, strict=True):
            if kind != "labels":
                continue
            start, end = _span_offsets(value, text, where)
            labels = value.get("labels")
            if not isinstance(labels, list):
                raise InvalidInput(f"{where}: a labels result needs value.labels, a list")
            answer += [{"start": start, "end": end, "label": label} for label in labels]
    elif isinstance(task, FreeText):
        lines = [
            line
            for value, kind in zip(values, types, strict=True)
            if kind == "textarea"
            for line in (value.get("text") or [])
        ]
        if not lines:
            return None
        answer = "\n".join(str(line) for line in lines)
    else:
        choices = [
            choice
            for value, kind in zip(values, types, strict=True)
            if kind == "choices"
            for choice in (value.get("choices") or [])
        ]
        if isinstance(task, Pairwise):
            choices += [
                _PAIRWISE_SIDES.get(str(value.get("selected")), value.get("selected"))
                for value, kind in zip(values, types, strict=True)
                if kind == "pairwise"
            ]
        if not choices:
            return None
        if isinstance(task, MultiChoice):
            answer = choices
        elif len(choices) == 1:
            answer = choices[0]
        else:
            raise InvalidInput(
                f"{where}: {len(choices)} choices for a {task.type} project; expected one",
                details={"where": where},
            )
    try:
        return validate_answer(task, answer, text=text)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc}", details=exc.details) from None


def result_from_answer(schema: LabelSchema, answer: Any, *, text: str | None) -> list[Any]:
    """A Loupe answer as a Label Studio ``result`` list (``from_name`` :data:`FROM_NAME`,
    ``to_name`` the project's text field)."""
    names = {"from_name": FROM_NAME, "to_name": schema.text_field}
    task = schema.task
    if isinstance(task, Spans):
        return [
            {
                "id": f"s{index}",
                **names,
                "type": "labels",
                "value": {
                    "start": span["start"],
                    "end": span["end"],
                    "text": text[span["start"] : span["end"]] if text is not None else "",
                    "labels": [span["label"]],
                },
            }
            for index, span in enumerate(answer)
        ]
    if isinstance(task, FreeText):
        return [{**names, "type": "textarea", "value": {"text": [answer]}}]
    choices = answer if isinstance(task, MultiChoice) else [answer]
    return [{**names, "type": "choices", "value": {"choices": choices}}]


def _prior(
    schema: LabelSchema, entries: Any, *, text: str | None, where: str, kind: str
) -> list[dict[str, Any]]:
    if entries is None:
        return []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InvalidInput(f"{where}: {kind} must be a list of objects", details={"where": where})
    kept: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        if entry.get("was_cancelled"):
            continue
        answer = answer_from_result(
            schema, entry.get("result", []), text=text, where=f"{where}: {kind}[{index}]"
        )
        if answer is None:
            continue
        prior: dict[str, Any] = {"answer": answer}
        if kind == "annotations":
            by = entry.get("completed_by")
            if isinstance(by, dict):  # some exports inline the user
                by = by.get("id")  # not the e-mail: an id is all a label needs
            prior |= {"completed_by": by, "created_at": entry.get("created_at")}
        else:
            score = entry.get("score")
            prior |= {
                "model_version": entry.get("model_version"),
                "score": score if isinstance(score, int | float) else None,
            }
        kept.append(prior)
    return kept


def _suggestion(
    annotations: list[dict[str, Any]], predictions: list[dict[str, Any]]
) -> dict[str, Any]:
    """The pre-label shown to annotators: the last annotation, else the best prediction."""
    if annotations:
        return {"label": annotations[-1]["answer"], "source": "labelstudio"}
    best = max(predictions, key=lambda p: p["score"] or 0.0)
    return {
        "label": best["answer"],
        "confidence": best["score"],
        "model_version": best["model_version"],
    }


def task_rows(tasks: Any, schema: LabelSchema, *, source: str = "") -> Iterator[tuple[str, Any]]:
    """``(where, row)`` for each Label Studio task: rows for :func:`loupe.formats.parse_item`."""
    prefix = f"{source}: " if source else ""
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise InvalidInput(f"{prefix}a Label Studio export is a JSON list of tasks")
    for index, task in enumerate(tasks):
        where = f"{prefix}task {index}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise InvalidInput(f"{where}: a task is an object with a 'data' object")
        row = dict(task["data"])
        if row.get("id") in (None, "") and task.get("id") not in (None, ""):
            row["id"] = task["id"]
        text = schema.text_of(row)
        annotations = _prior(
            schema, task.get("annotations"), text=text, where=where, kind="annotations"
        )
        predictions = _prior(
            schema, task.get("predictions"), text=text, where=where, kind="predictions"
        )
        if annotations or predictions:
            meta = row.get("metadata")
            meta = dict(meta) if isinstance(meta, dict) else ({} if meta in (None, "") else meta)
            if isinstance(meta, dict):  # else parse_item names the bad metadata
                meta["labelstudio"] = {"annotations": annotations, "predictions": predictions}
                meta["prediction"] = _suggestion(annotations, predictions)
            row["metadata"] = meta
        yield where, row


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def export_task(row: dict[str, Any], schema: LabelSchema) -> dict[str, Any]:
    """One row of Loupe's ``items`` export as a Label Studio task.

    Loupe's labels become annotations (``completed_by``: the Loupe user id), annotations
    imported from Label Studio come back as they were, and the consensus becomes a
    prediction with ``model_version`` :data:`CONSENSUS_MODEL` and ``score`` its confidence.
    """
    data = dict(_loads(row["data"]))
    data["id"] = row["id"]
    for field in ("language", "domain"):
        if row.get(field) and not (field == "domain" and row[field] == "general"):
            data[field] = row[field]
    text = schema.text_of(data)
    meta = _loads(row.get("metadata")) or {}
    prior = meta.get("labelstudio") if isinstance(meta, dict) else None
    prior = prior if isinstance(prior, dict) else {}
    annotations: list[dict[str, Any]] = [
        {
            "completed_by": entry.get("completed_by"),
            "created_at": entry.get("created_at"),
            "was_cancelled": False,
            "result": result_from_answer(schema, entry["answer"], text=text),
        }
        for entry in prior.get("annotations", [])
    ]
    annotations += [
        {
            "completed_by": label["annotator"],
            "created_at": label["created_at"],
            "was_cancelled": False,
            "result": result_from_answer(schema, _loads(label["answer"]), text=text),
        }
        for label in row.get("labels", [])
    ]
    predictions: list[dict[str, Any]] = [
        {
            "model_version": entry.get("model_version"),
            "score": entry.get("score"),
            "result": result_from_answer(schema, entry["answer"], text=text),
        }
        for entry in prior.get("predictions", [])
    ]
    answer = _loads(row.get("answer"))
    if answer is not None:
        predictions.append(
            {
                "model_version": CONSENSUS_MODEL,
                "score": row.get("confidence"),
                "result": result_from_answer(schema, answer, text=text),
            }
        )
    for number, entry in enumerate(annotations, start=1):
        entry["id"] = number
    return {
        "id": row["item_id"],
        "data": data,
        "meta": {"loupe": {"withheld": row.get("withheld", False)}},
        "annotations": annotations,
        "predictions": predictions,
    }
