"""Free-text consensus: pick the accepted answer to one item from its peer reviews.

Free text (a translation, a transcription, a post-edit) cannot be settled by counting equal
answers: two good translations rarely match. Instead each answer is reviewed — accepted or
rejected by peers — and the item takes the best-reviewed answer.

**Score: the Wilson lower bound**, not the Beta(1 + accept, 1 + reject) posterior mean. The
posterior mean of an answer with a single accept (2/3) beats one with 20 accepts and 10 rejects
(21/32, about 0.66); the lower end of the Wilson score interval
(Wilson, *JASA* 22, 1927) grows with the number of reviews as well as their verdict, so a
lightly reviewed answer cannot overtake a well-established one by luck, and the score reads as
a confidence: "with 95% confidence, at least this share of reviewers accept it" (Evan Miller,
"How Not To Sort By Average Rating", 2009, makes the same argument for ratings).

Answers equal after whitespace and case normalisation (:func:`normalize_text`) are one answer:
their reviews pool, and the variant with the most accepts (then the first given) represents them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from loupe.aggregation.checks import check_positive
from loupe.errors import InvalidInput

__all__ = [
    "RankedText",
    "TextCandidate",
    "choose_free_text",
    "normalize_text",
    "rank_free_text",
    "wilson_lower_bound",
]

Z_95 = 1.959963984540054
"""The normal quantile of a two-sided 95% interval."""


@dataclass(frozen=True)
class TextCandidate:
    """One submitted answer and the peer reviews it received."""

    text: str
    n_accept: int
    n_reject: int

    def __post_init__(self) -> None:
        for name in ("n_accept", "n_reject"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput(
                    f"{name} must be a whole number >= 0, got {value!r}", details={name: value}
                )


@dataclass(frozen=True)
class RankedText:
    """An answer (its pooled variants) with its pooled reviews and its Wilson lower bound."""

    text: str
    confidence: float
    n_accept: int
    n_reject: int
    variants: tuple[str, ...]

    @property
    def accepted(self) -> bool:
        """Net acceptance: more accepts than rejects."""
        return self.n_accept > self.n_reject


def normalize_text(text: str) -> str:
    """Whitespace runs collapsed to one space, ends stripped, case folded.

    >>> normalize_text("  Guten   Morgen\\n")
    'guten morgen'
    """
    return " ".join(text.split()).casefold()


def wilson_lower_bound(n_accept: int, n_reject: int, *, z: float = Z_95) -> float:
    """The lower end of the Wilson score interval for the acceptance rate (0 without accepts).

    .. math::

        \\frac{\\hat p + \\frac{z^2}{2n} - z\\sqrt{\\frac{\\hat p(1 - \\hat p)}{n}
        + \\frac{z^2}{4n^2}}}{1 + \\frac{z^2}{n}}

    >>> round(wilson_lower_bound(1, 0), 3), round(wilson_lower_bound(20, 10), 3)
    (0.207, 0.488)
    """
    check_positive(z, "z")
    n = n_accept + n_reject
    if n_accept == 0:  # exactly 0; the formula would leave rounding noise
        return 0.0
    p = n_accept / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float(max(0.0, (centre - spread) / (1 + z * z / n)))


def rank_free_text(
    candidates: Iterable[TextCandidate | tuple[str, int, int]], *, z: float = Z_95
) -> list[RankedText]:
    """Every distinct answer, best first: by confidence, then accepts, then first given.

    >>> ranked = rank_free_text([("Hallo Welt", 3, 0), ("hallo  welt", 1, 0), ("Hi", 1, 3)])
    >>> [(r.text, r.n_accept, r.n_reject, round(r.confidence, 3)) for r in ranked]
    [('Hallo Welt', 4, 0, 0.51), ('Hi', 1, 3, 0.046)]
    """
    groups: dict[str, list[TextCandidate]] = {}
    for candidate in candidates:
        item = candidate if isinstance(candidate, TextCandidate) else TextCandidate(*candidate)
        groups.setdefault(normalize_text(item.text), []).append(item)
    ranked = []
    for members in groups.values():
        accepts = sum(m.n_accept for m in members)
        rejects = sum(m.n_reject for m in members)
        # max() keeps the first of equals, so the earliest variant wins ties.
        representative = max(members, key=lambda m: m.n_accept)
        ranked.append(
            RankedText(
                text=representative.text.strip(),
                confidence=wilson_lower_bound(accepts, rejects, z=z),
                n_accept=accepts,
                n_reject=rejects,
                variants=tuple(m.text for m in members),
            )
        )
    # sorted() is stable, so among full ties the answer given first stays first.
    return sorted(ranked, key=lambda r: (-r.confidence, -r.n_accept))


def choose_free_text(
    candidates: Iterable[TextCandidate | tuple[str, int, int]], *, z: float = Z_95
) -> RankedText | None:
    """The best-ranked answer with more accepts than rejects, or ``None`` if there is none.

    >>> choose_free_text([("Bonjour", 2, 0), ("Salut", 5, 1)]).text
    'Salut'
    >>> choose_free_text([("Bonjour", 1, 1), ("Salut", 0, 2)]) is None
    True
    """
    return next((r for r in rank_free_text(candidates, z=z) if r.accepted), None)
