"""CLINC150 as MiniLM vectors of *every* layer, encoded once and cached on disk.

The shipped encoder mean-pools the last layer. Out-of-distribution work on BERT-style
encoders finds that earlier layers carry signal the last one loses (Chen et al. 2022,
"Holistic Sentence Embeddings for Better Out-of-Distribution Detection": averaging token
vectors over all layers). This runs the encoder's forward pass
(``MiniLMEncoder.hidden_states``) and keeps each layer's mean-pooled token vectors: ``(n, 7, 384)`` float32 (the embedding layer, then layers
1-6), in ``/tmp/loupe-embeddings/<dataset>__<split>__layers.npy`` (never committed).
Layer 6, L2-normalised, is the shipped vector (checked when the file is built).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from vectors import CACHE, DATA

F32 = NDArray[np.float32]


def encode_layers(texts: list[str]) -> F32:
    from loupe.learning.minilm import MiniLMEncoder, mean_pool

    enc = MiniLMEncoder.load()
    ids, mask = enc.tokenize(texts)
    lengths = mask.sum(axis=1)
    order = np.argsort(lengths, kind="stable")
    out = np.zeros((len(texts), 1 + len(enc.layers), enc.dimension), dtype=np.float32)
    for start in range(0, len(order), enc.batch_size):
        batch = order[start : start + enc.batch_size]
        width = int(lengths[batch].max())
        states = enc.hidden_states(ids[batch, :width], mask[batch, :width])
        out[batch] = np.stack([mean_pool(x, mask[batch, :width]) for x in states], axis=1)
    last = out[:, -1] / np.linalg.norm(out[:, -1], axis=1, keepdims=True)
    check = enc.encode(texts[:64])
    assert np.allclose(last[:64], check, atol=1e-4), "layer 6 is not the shipped vector"
    return out


def load_layers(name: str, *, cache: Path = CACHE) -> tuple[list[str], NDArray[np.str_], F32]:
    """Texts, labels and ``(n, 7, 384)`` layer vectors of ``name`` (e.g. ``clinc150/test``)."""
    rows = [json.loads(line) for line in (DATA / f"{name}.jsonl").open(encoding="utf-8")]
    rows = [r for r in rows if str(r["text"]).strip()]
    texts = [str(r["text"]) for r in rows]
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / (name.replace("/", "__") + "__layers.npy")
    if path.is_file():
        vectors = np.load(path)
    else:
        start = time.perf_counter()
        vectors = encode_layers(texts)
        print(
            f"  encoded {name}: {len(texts)} texts, every layer, in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
        np.save(path, vectors)
    return texts, np.array([str(r["intent"]) for r in rows]), vectors


if __name__ == "__main__":
    for split in ("validation", "test", "train"):
        load_layers(f"clinc150/{split}")
