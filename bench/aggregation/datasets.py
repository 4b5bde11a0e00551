"""Load the developer crowd datasets from ``../shared/data/crowd`` beside the repository."""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "crowd"
NAMES = ("bluebirds", "face", "temp", "trec2011", "wsd")


@dataclass(frozen=True)
class Dataset:
    """One dataset: raw answers in file order and the gold answers."""

    name: str
    items: list[str]
    workers: list[str]
    labels: list[str]
    gold: dict[str, str]


def data_dir_or_exit() -> Path:
    """The data folder, or exit 0 with a clear message when it is absent."""
    if not DATA_DIR.is_dir():
        print(f"SKIP: crowd datasets not found at {DATA_DIR.resolve()}", file=sys.stderr)
        raise SystemExit(0)
    return DATA_DIR


def load(name: str) -> Dataset:
    """Read ``labels.csv`` (item, worker, label) and ``gold.csv`` (item, label) of ``name``."""
    folder = data_dir_or_exit() / name
    items: list[str] = []
    workers: list[str] = []
    labels: list[str] = []
    with (folder / "labels.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            items.append(row["item"])
            workers.append(row["worker"])
            labels.append(row["label"])
    with (folder / "gold.csv").open(newline="") as handle:
        gold = {row["item"]: row["label"] for row in csv.DictReader(handle)}
    return Dataset(name=name, items=items, workers=workers, labels=labels, gold=gold)


def accuracy(predicted: dict[str, str], gold: dict[str, str]) -> float:
    """Share of gold items whose predicted label equals the gold label."""
    return sum(predicted.get(item) == label for item, label in gold.items()) / len(gold)
