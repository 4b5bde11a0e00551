"""CLINC150 as MiniLM vectors of *every* layer, encoded once and cached on disk.

The shipped encoder mean-pools the last layer. Out-of-distribution work on BERT-style
encoders finds that earlier layers carry signal the last one loses (Chen et al. 2022,
"Holistic Sentence Embeddings for Better Out-of-Distribution Detection": averaging token
vectors over all layers). This runs the same forward pass and keeps each layer's
mean-pooled token vectors: ``(n, 7, 384)`` float32 (the embedding layer, then layers
1-6), in ``/tmp/loupe-embeddings/<dataset>__<split>__layers.npy`` (never committed).
Layer 6, L2-normalised, is the shipped vector (checked when the file is built).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from vectors import CACHE, DATA

F32 = NDArray[np.float32]


def _forward_layers(enc: object, ids: NDArray[np.int64], mask: NDArray[np.int64]) -> F32:
    """``MiniLMEncoder.forward`` keeping every layer's mean-pooled vector (not normalised)."""
    from loupe.learning.minilm import _gelu, _layer_norm

    e = enc
    n, length = ids.shape
    hidden = e.word.shape[1]  # type: ignore[attr-defined]
    head_dim = hidden // e.heads  # type: ignore[attr-defined]
    x = e.word[ids] + e.position[:length][None, :, :] + e.token_type[0]  # type: ignore[attr-defined]
    x = _layer_norm(np.asarray(x, dtype=np.float32), e.emb_ln_g, e.emb_ln_b, e.eps)  # type: ignore[attr-defined]
    bias = ((1.0 - mask.astype(np.float32)) * np.float32(-1e9))[:, None, None, :]
    scale = np.float32(1.0 / math.sqrt(head_dim))
    weights = mask.astype(np.float32)[:, :, None]
    count = np.maximum(weights.sum(axis=1), np.float32(1e-9))
    pooled = [(x * weights).sum(axis=1) / count]
    for layer in e.layers:  # type: ignore[attr-defined]
        qkv = x @ layer.qkv_w + layer.qkv_b
        qkv = qkv.reshape(n, length, 3, e.heads, head_dim).transpose(2, 0, 3, 1, 4)  # type: ignore[attr-defined]
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(n, length, hidden)
        attended = context @ layer.out_w + layer.out_b
        x = _layer_norm(attended + x, layer.ln1_g, layer.ln1_b, e.eps)  # type: ignore[attr-defined]
        inner = _gelu(np.asarray(x @ layer.ffn_in_w + layer.ffn_in_b, dtype=np.float32))
        x = _layer_norm(
            inner @ layer.ffn_out_w + layer.ffn_out_b + x, layer.ln2_g, layer.ln2_b, e.eps
        )  # type: ignore[attr-defined]
        pooled.append((x * weights).sum(axis=1) / count)
    return np.asarray(np.stack(pooled, axis=1), dtype=np.float32)


def encode_layers(texts: list[str]) -> F32:
    from loupe.learning.minilm import MiniLMEncoder

    enc = MiniLMEncoder.load()
    ids, mask = enc.tokenize(texts)
    lengths = mask.sum(axis=1)
    order = np.argsort(lengths, kind="stable")
    out = np.zeros((len(texts), 1 + len(enc.layers), enc.dimension), dtype=np.float32)
    for start in range(0, len(order), enc.batch_size):
        batch = order[start : start + enc.batch_size]
        width = int(lengths[batch].max())
        out[batch] = _forward_layers(enc, ids[batch, :width], mask[batch, :width])
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
