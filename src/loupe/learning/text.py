"""The built-in text trainer: TF-IDF word and character n-grams, linear SVM, softmax.

Word uni/bi-grams catch the vocabulary of an intent; character n-grams within
word boundaries (``char_wb``) survive typos, inflection and languages without
spaces. A one-vs-rest linear SVM (liblinear, dual coordinate descent) fits
15,000 short texts x 150 classes in seconds on one core, far faster than a
multinomial logistic regression of the same accuracy, and its decision values
are mapped to probabilities with a temperature softmax
(``p = softmax(temperature * scores)``; Guo et al. 2017, *On Calibration of
Modern Neural Networks*) so that uncertainty and out-of-scope scores can use them.

The vectoriser may be fitted on more text than is labelled (``vocabulary_texts``):
in the loop every unlabelled item is known, and its n-grams are worth having.

>>> from loupe.learning.trainer import predict_labels
>>> trainer = LinearTextTrainer()
>>> model = trainer.fit(["book a flight", "fly to rome", "play jazz", "play a song"],
...                     ["travel", "travel", "music", "music"])
>>> predict_labels(model, ["play some jazz"])
['music']
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer

# scikit-learn is imported on first use, not with this module: it takes about 1.5 s
# to import, and the server (which imports the loop's services) must start in under 2 s.

from loupe.errors import InvalidInput

__all__ = ["LinearTextModel", "LinearTextTrainer", "TfidfFeaturizer", "softmax"]

Floats = NDArray[np.float64]


def softmax(scores: ArrayLike, *, temperature: float = 1.0) -> Floats:
    """Row-wise ``softmax(temperature * scores)``, computed stably."""
    z = np.asarray(scores, dtype=np.float64) * temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


class TfidfFeaturizer:
    """Word ``(1, 2)``-grams and ``char_wb`` ``(2, 5)``-grams, each TF-IDF, side by side.

    Each half is L2-normalised and scaled by ``1/sqrt(2)``, so every row has unit norm.
    """

    def __init__(
        self,
        *,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] = (2, 5),
        min_char_df: int = 2,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_char_df = min_char_df
        self.word_: TfidfVectorizer | None = None
        self.char_: TfidfVectorizer | None = None

    def fit(self, texts: Sequence[str]) -> TfidfFeaturizer:
        """Learn vocabularies and IDF weights from ``texts``; returns ``self``."""
        corpus = list(texts)
        if not any(t.strip() for t in corpus):
            raise InvalidInput("cannot fit TF-IDF features: every text is empty")
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.word_ = TfidfVectorizer(
            ngram_range=self.word_ngrams, sublinear_tf=True, token_pattern=r"(?u)\b\w+\b"
        ).fit(corpus)
        # min_df counts documents; with tiny corpora keep every n-gram.
        min_df = self.min_char_df if len(corpus) >= 50 else 1
        self.char_ = TfidfVectorizer(
            analyzer="char_wb", ngram_range=self.char_ngrams, sublinear_tf=True, min_df=min_df
        ).fit(corpus)
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """One unit-norm sparse row per text."""
        import scipy.sparse as sp

        if self.word_ is None or self.char_ is None:
            raise InvalidInput("TfidfFeaturizer is not fitted: call fit(texts) first")
        corpus = list(texts)
        joined = sp.hstack([self.word_.transform(corpus), self.char_.transform(corpus)])
        matrix = sp.csr_matrix(joined, dtype=np.float64)
        matrix.data *= 1.0 / np.sqrt(2.0)
        return matrix


@dataclass(frozen=True)
class LinearTextModel:
    """A fitted linear model over :class:`TfidfFeaturizer` rows (implements ``Model``)."""

    classes_: tuple[str, ...]
    featurizer: TfidfFeaturizer
    coef: Floats = field(repr=False)
    intercept: Floats = field(repr=False)
    temperature: float

    def decision_function_matrix(self, features: sp.spmatrix | Floats) -> Floats:
        """Raw one-vs-rest scores, ``(n_items, n_classes)``."""
        scores = features @ self.coef.T
        return np.asarray(scores, dtype=np.float64) + self.intercept

    def predict_proba_matrix(self, features: sp.spmatrix | Floats) -> Floats:
        """Probabilities for already-featurised rows."""
        return softmax(self.decision_function_matrix(features), temperature=self.temperature)

    def predict_proba(self, texts: Sequence[str]) -> Floats:
        """Probabilities for raw texts, columns in the order of ``classes_``."""
        return self.predict_proba_matrix(self.featurizer.transform(texts))


class LinearTextTrainer:
    """Fits :class:`LinearTextModel` (implements ``Trainer``).

    ``c`` is the SVM's inverse regularisation; ``temperature`` scales decision
    values before the softmax (7 minimises log-loss on CLINC150's validation
    split, see ``docs/learning.md``). ``vocabulary_texts`` (e.g. the whole
    unlabelled pool) join the training texts when the vectoriser is fitted; a
    ready ``featurizer`` skips that step.
    """

    def __init__(
        self,
        *,
        c: float = 1.0,
        temperature: float = 7.0,
        vocabulary_texts: Sequence[str] = (),
        featurizer: TfidfFeaturizer | None = None,
    ) -> None:
        if c <= 0 or temperature <= 0:
            raise InvalidInput("c and temperature must be positive", details={"field": "c"})
        self.c = c
        self.temperature = temperature
        self.vocabulary_texts = tuple(vocabulary_texts)
        self.featurizer = featurizer

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> LinearTextModel:
        """Fit on ``texts`` and their ``labels``."""
        if len(texts) != len(labels):
            raise InvalidInput(
                f"got {len(texts)} texts but {len(labels)} labels; they must pair up",
                details={"field": "labels"},
            )
        featurizer = self.featurizer
        if featurizer is None:
            featurizer = TfidfFeaturizer().fit([*self.vocabulary_texts, *texts])
        return self.fit_matrix(featurizer.transform(texts), labels, featurizer=featurizer)

    def fit_matrix(
        self,
        features: sp.spmatrix | Floats,
        labels: Sequence[str] | NDArray[np.str_],
        *,
        featurizer: TfidfFeaturizer,
        sample_weight: Floats | None = None,
    ) -> LinearTextModel:
        """Fit on rows already produced by ``featurizer`` (the replay loop's fast path)."""
        y = np.asarray(labels, dtype=str)
        classes = np.unique(y)
        if classes.size < 2:
            raise InvalidInput(
                "training needs at least 2 distinct labels; label examples of another class",
                details={"field": "labels", "classes": classes.tolist()},
            )
        # liblinear shuffles with its own RNG: fix it, or refits differ run to run.
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.svm import LinearSVC

        svm = LinearSVC(C=self.c, dual=True, max_iter=2000, random_state=0)
        with warnings.catch_warnings():
            # Early in the loop there are few examples per class: sklearn then
            # guesses "regression?" and liblinear may stop at max_iter. Both are expected.
            warnings.filterwarnings("ignore", message="The number of unique classes")
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
            svm.fit(features, y, sample_weight=sample_weight)
        coef = np.asarray(svm.coef_, dtype=np.float64)
        intercept = np.asarray(svm.intercept_, dtype=np.float64)
        if classes.size == 2:
            # liblinear returns one hyperplane for two classes; make it two columns.
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        return LinearTextModel(
            classes_=tuple(str(c) for c in svm.classes_),
            featurizer=featurizer,
            coef=coef,
            intercept=intercept,
            temperature=self.temperature,
        )
