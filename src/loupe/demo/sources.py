"""Where the demo's utterances come from: the built-in generator or a labelled JSONL file.

A file row needs ``text`` and ``label`` (or ``intent``) fields; ``language`` and
``domain`` are used when present (CLINC150 in JSONL works as is). Rows are
shuffled with the seed and split into a test set, a gold set, a seed set of a few
per label and the traffic, in that order.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loupe.demo.utterances import INTENTS, OUT_OF_SCOPE, generate
from loupe.errors import InvalidInput

__all__ = ["Source", "file_source", "generated_source"]

Row = dict[str, Any]


@dataclass(frozen=True)
class Source:
    """The demo's data: labels, the held-out sets, the seed and traffic per round."""

    labels: tuple[str, ...]
    oos_label: str | None
    test: list[Row]
    gold: list[Row]
    seed: list[Row]
    traffic: list[list[Row]]  # one list per round, plus one for the queue left at the end


def _seed_rows(rows: list[Row], per_label: int) -> tuple[list[Row], list[Row]]:
    taken: dict[str, int] = {}
    seed, rest = [], []
    for row in rows:
        if taken.get(row["intent"], 0) < per_label:
            taken[row["intent"]] = taken.get(row["intent"], 0) + 1
            seed.append(row)
        else:
            rest.append(row)
    return seed, rest


def generated_source(
    *, rounds: int, per_round: int, seed: int, gold: int, test: int, seed_per_label: int
) -> Source:
    """SIMULATED wearable-assistant traffic; novel requests grow round by round."""
    seed_pool = list(generate(len(INTENTS) * 20, seed=seed + 1, prefix="seed"))
    seed_rows, _ = _seed_rows(seed_pool, seed_per_label)
    traffic = [
        list(generate(per_round, seed=seed * 100 + r, drift=min(0.6, 0.1 * r), prefix=f"r{r}"))
        for r in range(1, rounds + 2)
    ]
    return Source(
        labels=tuple(INTENTS),
        oos_label=OUT_OF_SCOPE,
        test=list(generate(test, seed=seed + 2, drift=0.3, prefix="test")),
        # Gold ids look like traffic ids: an id must not tell a contributor "this is a check".
        gold=[
            {**row, "id": f"r0-{seed * 100}-{index:06d}"}
            for index, row in enumerate(generate(gold, seed=seed + 3, drift=0.3, prefix="r0"))
        ],
        seed=seed_rows,
        traffic=traffic,
    )


def _read(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"{path}:{number}: not JSON ({exc.msg})") from None
            label = row.get("label", row.get("intent")) if isinstance(row, dict) else None
            text = row.get("text") if isinstance(row, dict) else None
            if not isinstance(text, str) or not text.strip() or label is None:
                raise InvalidInput(f"{path}:{number}: needs a 'text' and a 'label' (or 'intent')")
            yield {
                "id": f"row-{number:07d}",
                "text": text,
                "intent": str(label),
                "language": row.get("language") or None,
                "domain": row.get("domain") or "general",
            }


def file_source(
    path: Path, *, rounds: int, per_round: int, seed: int, gold: int, test: int, seed_per_label: int
) -> Source:
    """The labelled rows of ``path``, shuffled with ``seed`` and split."""
    rows = list(_read(path))
    random.Random(seed).shuffle(rows)
    labels = tuple(sorted({row["intent"] for row in rows}))
    if len(labels) < 2:
        raise InvalidInput(f"{path}: the demo needs at least 2 distinct labels")
    test_rows, rows = rows[:test], rows[test:]
    gold_rows, rows = rows[:gold], rows[gold:]
    seed_rows, rows = _seed_rows(rows, seed_per_label)
    traffic = [rows[i * per_round : (i + 1) * per_round] for i in range(rounds + 1)]
    oos = next((name for name in ("out_of_scope", "oos") if name in labels), None)
    return Source(labels, oos, test_rows, gold_rows, seed_rows, [t for t in traffic if t])
