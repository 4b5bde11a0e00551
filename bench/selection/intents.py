"""Locate and load the intent datasets of ``shared/data/intents`` for the selection benchmark."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from loupe.simulation.datasets import LabelledTexts, load_jsonl

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "intents"


@dataclass(frozen=True)
class IntentTask:
    """A pool to label, a test set of the pool's classes, and what else we measure on."""

    name: str
    pool: LabelledTexts
    test: LabelledTexts
    validation: LabelledTexts | None
    test_with_oos: LabelledTexts | None
    oos_train: LabelledTexts | None = None


def available() -> str | None:
    """``None`` when the data is present, else a message saying why the benchmark skips."""
    for name in ("clinc150/train.jsonl", "xsid/validation.jsonl"):
        if not (DATA / name).is_file():
            return f"intent data not found at {DATA / name}; the selection benchmark skips"
    return None


def clinc150() -> IntentTask:
    """CLINC150: the 15,000 in-scope training rows are the pool; test in-scope for accuracy."""
    root = DATA / "clinc150"
    train = load_jsonl(root / "train.jsonl", text_field="text", label_field="intent")
    test = load_jsonl(root / "test.jsonl", text_field="text", label_field="intent")
    val = load_jsonl(root / "validation.jsonl", text_field="text", label_field="intent")
    return IntentTask(
        "clinc150", train.without(["oos"]), test.without(["oos"]), val, test, train.only(["oos"])
    )


def xsid() -> IntentTask:
    """xSID (never used for tuning): validation is the pool, test rows of the pool's intents."""
    root = DATA / "xsid"
    # One Norwegian validation row has an empty text; it is dropped.
    pool = load_jsonl(
        root / "validation.jsonl", text_field="text", label_field="intent", skip_empty_text=True
    )
    test = load_jsonl(
        root / "test.jsonl", text_field="text", label_field="intent", skip_empty_text=True
    )
    return IntentTask("xsid", pool, test.only(sorted(set(pool.labels))), None, None)
