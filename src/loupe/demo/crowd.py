"""A SIMULATED crowd for the demo: contributors with their own accuracy, languages and
domains — not people. Each answers with the true intent with its accuracy for that
item, and otherwise with a plausible confusion (call for message, photo for video,
...) or a random intent.

>>> import random
>>> expert = Contributor("sim-ana", 0.97, ("en", "es"), expertise=("medical",))
>>> expert.accuracy_for("es", "medical") > expert.accuracy_for("de", "general")
True
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CONFUSIONS", "CROWD", "Contributor"]

CONFUSIONS = {
    "call": "message",
    "message": "call",
    "capture_photo": "capture_video",
    "capture_video": "capture_photo",
    "pay": "shop",
    "shop": "pay",
    "navigate": "translate",
    "translate": "navigate",
    "play_music": "capture_video",
    "out_of_scope": "shop",
}


@dataclass(frozen=True)
class Contributor:
    """One simulated contributor."""

    username: str
    accuracy: float
    languages: tuple[str, ...]
    expertise: tuple[str, ...] = ()
    # Credentials the manager records (domain, level 1-3): routing reads them.
    levels: tuple[tuple[str, int], ...] = ()

    @property
    def expert_anywhere(self) -> bool:
        """Holds level 3 somewhere, so the escalation ladder offers them items there."""
        return any(level >= 3 for _, level in self.levels)

    def accuracy_for(self, language: str | None, domain: str) -> float:
        """Worse outside one's languages; near-perfect in one's domain of expertise."""
        if domain in self.expertise:
            return 0.99
        accuracy = self.accuracy
        if language is not None and language not in self.languages:
            accuracy *= 0.75
        if domain in ("medical", "legal"):
            accuracy *= 0.9
        return accuracy

    def answer(
        self,
        truth: str,
        *,
        language: str | None,
        domain: str,
        labels: Sequence[str],
        rng: random.Random,
    ) -> str:
        """The label this contributor gives an item whose true label is ``truth``."""
        if rng.random() < self.accuracy_for(language, domain):
            return truth
        near = CONFUSIONS.get(truth)
        if near is not None and near in labels and rng.random() < 0.6:
            return near
        return rng.choice([label for label in labels if label != truth] or [truth])


CROWD: tuple[Contributor, ...] = (
    Contributor("sim-ana", 0.95, ("en", "es"), expertise=("medical",), levels=(("medical", 3),)),
    Contributor(
        "sim-bruno", 0.94, ("en", "de", "fr"), expertise=("legal",), levels=(("legal", 3),)
    ),
    Contributor(
        "sim-chen", 0.93, ("en", "fr"), levels=(("general", 3), ("medical", 1), ("legal", 1))
    ),
    Contributor("sim-dora", 0.91, ("en", "de"), levels=(("legal", 1),)),
    Contributor("sim-emeka", 0.89, ("en",)),
    Contributor("sim-fatima", 0.87, ("en", "fr", "es"), levels=(("medical", 1),)),
    Contributor("sim-goran", 0.84, ("en", "de")),
    Contributor("sim-hana", 0.82, ("en", "es")),
    Contributor("sim-ivan", 0.78, ("en",)),
    Contributor("sim-jade", 0.74, ("en", "fr")),
    Contributor("sim-kofi", 0.66, ("en",)),
    Contributor("sim-lucky", 0.40, ("en",)),  # careless: clicks almost anything
)
