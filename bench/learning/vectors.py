"""Intent datasets as MiniLM sentence vectors, encoded once and cached on disk.

Each ``<dataset>/<split>.jsonl`` of ``shared/data/intents`` becomes a float32
``.npy`` aligned with its lines, in ``--cache`` (default ``/tmp/loupe-embeddings``;
never committed). ``limit`` keeps a fixed random subset of the lines (seed 0).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "intents"
CACHE = Path("/tmp/loupe-embeddings")


@dataclass(frozen=True)
class Split:
    texts: list[str]
    labels: NDArray[np.str_]
    vectors: NDArray[np.float32]


def missing() -> str | None:
    """``None`` when the intent data is present, else why the benchmark skips."""
    for name in ("clinc150/train.jsonl", "xsid/validation.jsonl"):
        if not (DATA / name).is_file():
            return f"intent data not found at {DATA / name}; skipping"
    return None


def load_split(name: str, *, cache: Path = CACHE, limit: int | None = None) -> Split:
    """Rows of ``name`` (e.g. ``"clinc150/train"``) with their sentence vectors."""
    rows = [json.loads(line) for line in (DATA / f"{name}.jsonl").open(encoding="utf-8")]
    index = np.arange(len(rows))
    suffix = ""
    if limit is not None and limit < len(rows):
        index = np.sort(np.random.default_rng(0).choice(len(rows), size=limit, replace=False))
        suffix = f"__{limit}"
    rows = [rows[i] for i in index]
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / (name.replace("/", "__") + suffix + ".npy")
    if path.is_file():
        vectors = np.load(path)
    else:
        from loupe.learning.minilm import MiniLMEncoder

        start = time.perf_counter()
        vectors = MiniLMEncoder.load().encode([str(r["text"]) for r in rows])
        print(f"  encoded {name}{suffix}: {len(rows)} texts in {time.perf_counter() - start:.0f} s")
        np.save(path, vectors)
    keep = [i for i, r in enumerate(rows) if str(r["text"]).strip()]
    return Split(
        texts=[str(rows[i]["text"]) for i in keep],
        labels=np.array([str(rows[i]["intent"]) for i in keep]),
        vectors=np.asarray(vectors[keep], dtype=np.float32),
    )
