"""``loupe aggregate``: infer one label per item from a CSV of raw answers."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated

import typer

from loupe.aggregation.base import Aggregator
from loupe.aggregation.registry import AGGREGATORS, DEFAULT_METHOD
from loupe.aggregation.weighted_majority_vote import WeightedMajorityVote
from loupe.errors import InvalidInput
from loupe.formats import csv_cell

__all__ = ["aggregate_command"]


def _rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, [values of columns])`` for each data row; header required, extras ignored."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file", details={"file": str(path)})
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise InvalidInput(
                f"{path}: file is empty; expected a header row with columns {', '.join(columns)}",
                details={"file": str(path), "line": 1},
            )
        names = [name.strip() for name in header]
        missing = [column for column in columns if column not in names]
        if missing:
            raise InvalidInput(
                f"{path}:1: missing column {missing[0]!r} in the header "
                f"(expected {', '.join(columns)}; found {', '.join(names) or 'nothing'})",
                details={"file": str(path), "line": 1, "column": missing[0]},
            )
        positions = [names.index(column) for column in columns]
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            line = reader.line_num
            values: list[str] = []
            for column, position in zip(columns, positions, strict=True):
                value = row[position].strip() if position < len(row) else ""
                if not value:
                    raise InvalidInput(
                        f"{path}:{line}: empty value in column {column!r}",
                        details={"file": str(path), "line": line, "column": column},
                    )
                values.append(value)
            yield line, values


def _read_answers(path: Path) -> tuple[list[str], list[str], list[str]]:
    items: list[str] = []
    workers: list[str] = []
    labels: list[str] = []
    for _, (item, worker, label) in _rows(path, ("item", "worker", "label")):
        items.append(item)
        workers.append(worker)
        labels.append(label)
    if not items:
        raise InvalidInput(
            f"{path}: no answers after the header; add rows of item,worker,label",
            details={"file": str(path)},
        )
    return items, workers, labels


def _read_gold(path: Path) -> dict[str, str]:
    gold: dict[str, str] = {}
    for line, (item, label) in _rows(path, ("item", "label")):
        if gold.get(item, label) != label:
            raise InvalidInput(
                f"{path}:{line}: item {item!r} has two different gold labels",
                details={"file": str(path), "line": line, "column": "label"},
            )
        gold[item] = label
    return gold


def _read_weights(path: Path) -> dict[str, float]:
    weights: dict[str, float] = {}
    for line, (worker, text) in _rows(path, ("worker", "weight")):
        try:
            weight = float(text)
        except ValueError:
            weight = float("nan")
        if not weight >= 0.0 or weight == float("inf"):
            raise InvalidInput(
                f"{path}:{line}: weight {text!r} is not a finite number >= 0",
                details={"file": str(path), "line": line, "column": "weight"},
            )
        weights[worker] = weight
    return weights


def aggregate_command(
    input: Annotated[Path, typer.Argument(help="CSV with a header and columns item,worker,label")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write item,label,confidence")
    ],
    method: Annotated[str, typer.Option(help="mv, wmv, ds, ocds, glad or mace")] = DEFAULT_METHOD,
    gold: Annotated[
        Path | None, typer.Option(help="CSV item,label of known answers (anchors worker skills)")
    ] = None,
    weights: Annotated[
        Path | None, typer.Option(help="CSV worker,weight for --method wmv (others weigh 1)")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed for tie-breaking")] = 0,
) -> None:
    """Aggregate raw answers into one label per item, with the posterior confidence."""
    if method not in AGGREGATORS:
        raise InvalidInput(
            f"unknown method {method!r}; choose one of {', '.join(AGGREGATORS)}",
            details={"option": "--method", "allowed": list(AGGREGATORS)},
        )
    if weights is not None and method != "wmv":
        raise InvalidInput(
            "--weights applies to --method wmv only", details={"option": "--weights"}
        )
    items, workers, labels = _read_answers(input)
    known = _read_gold(gold) if gold is not None else None
    if method == "wmv":
        model: Aggregator = WeightedMajorityVote(
            _read_weights(weights) if weights is not None else None, random_state=seed
        )
    else:
        model = AGGREGATORS[method](random_state=seed)
    model.fit(items, workers, labels, gold=known)
    confidence = model.probas_.max(axis=1)
    with output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item", "label", "confidence"])
        for item, score in zip(model.items_.tolist(), confidence.tolist(), strict=True):
            # Item ids and labels come from the input file: neutralise formulas.
            writer.writerow([csv_cell(item), csv_cell(model.labels_[item]), f"{score:.6f}"])
    typer.echo(f"{len(model.items_)} items aggregated with {method} -> {output}", err=True)
