"""What a retrain scores with no transaction open: the challenger on the gold set, and a
challenger in shadow against the champion on live labelled items.

Predicting is the slow part of a retrain after the fit: the embeddings trainer encodes
about 140 texts per CPU-second, so a shadow comparison of 2,000 live items by two models
takes half a minute, and on SQLite a write transaction open meanwhile would hold every
annotator's submit. :func:`~loupe.services.model_loop.model_versions.retrain_in_steps`
reads the inputs in a read-only transaction (:class:`GoldSet`, :class:`ShadowInput`),
scores them here, and hands the scores to the write transaction, which uses a score only
when its ``key`` matches what it reads: the gold-set score when the gold items, their
answers and the out-of-scope rule are the same; the shadow score when it compared the
same two versions under the same out-of-scope rule (its live items are those of the
read: items labelled meanwhile count at the next retrain). Otherwise (a gold answer
changed, a version was promoted in between) the write transaction scores them itself.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.models import Consensus, Item
from loupe.learning import Evaluation, Model
from loupe.learning.scope import evaluate_model, predict_in_scope
from loupe.learning.shadow import SHADOW_LIMIT, ShadowEvidence, decide_shadow
from loupe.services.model_loop import training
from loupe.services.model_loop.training import Fitted, TrainingSet, item_text

__all__ = [
    "ChallengerInput",
    "GoldScore",
    "GoldSet",
    "ShadowInput",
    "ShadowScore",
    "count_correct",
    "fit_challenger",
    "score_gold",
    "score_shadow",
    "shadow_items",
    "shadow_key",
    "shadow_waits",
]


def _digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class GoldSet:
    """The project's gold items (external ids, texts, answers) and its out-of-scope rule."""

    external_ids: tuple[str, ...]
    texts: tuple[str, ...]
    answers: tuple[str, ...]
    threshold: float | None
    oos_label: str | None

    @property
    def key(self) -> str:
        """SHA-256 of everything a score on this gold set depends on."""
        return _digest(
            [self.external_ids, self.texts, self.answers, self.threshold, self.oos_label]
        )


@dataclass(frozen=True)
class GoldScore:
    """A challenger's (and its control's) metrics on the gold set with this ``key``."""

    key: str
    metrics: Evaluation
    control_metrics: dict[str, Any] | None = field(default=None)


def score_gold(gold: GoldSet, model: Model, control_model: Model | None) -> GoldScore:
    """Evaluate ``model`` (and ``control_model``) on ``gold``."""

    def on_gold(scored: Model) -> Evaluation:
        return evaluate_model(
            list(gold.answers),
            scored,
            list(gold.texts),
            threshold=gold.threshold,
            oos_label=gold.oos_label,
        )

    control = None if control_model is None else on_gold(control_model).as_dict()
    return GoldScore(gold.key, on_gold(model), control)


@dataclass(frozen=True, slots=True)
class ChallengerInput:
    """What a retrain fits (the project's trainer on its training set) and scores it on."""

    trainer: str
    data: TrainingSet
    gold: GoldSet


def fit_challenger(given: ChallengerInput | None) -> Fitted | None:
    """Fit what :func:`~loupe.services.model_loop.model_versions.challenger_input` read and
    score it on the gold set, outside any transaction: the fit is the slow part of a
    retrain (seconds at 10,000 items), and on SQLite a write transaction open meanwhile
    would hold every annotator's submit."""
    if given is None:
        return None
    fitted = training.fit(given.trainer, given.data)
    return replace(fitted, gold=score_gold(given.gold, fitted.model, fitted.control_model))


@dataclass(frozen=True, slots=True)
class ShadowInput:
    """A shadow comparison: the two versions, the live items' texts and people's answers,
    the out-of-scope rule, and the project's shadow rule (``min_items``, ``max_drop``)."""

    challenger_version: int
    champion_version: int
    texts: tuple[str, ...]
    answers: tuple[str, ...]
    threshold: float | None
    oos_label: str | None
    min_items: int
    max_drop: float

    @property
    def key(self) -> str:
        return shadow_key(
            self.challenger_version, self.champion_version, self.threshold, self.oos_label
        )


def shadow_key(challenger: int, champion: int, threshold: float | None, oos: str | None) -> str:
    """What a shadow score is valid for: the two versions and the out-of-scope rule."""
    return _digest([challenger, champion, threshold, oos])


@dataclass(frozen=True, slots=True)
class ShadowScore:
    """How many of ``n`` live items each model answered as people did, for ``key``."""

    key: str
    n: int
    challenger_correct: int
    champion_correct: int


def shadow_waits(given: ShadowInput, scored: ShadowScore) -> bool:
    """True when the project's shadow rule would wait for more live items (so the retrain
    judging it fits nothing new)."""
    evidence = ShadowEvidence(scored.n, scored.challenger_correct, scored.champion_correct)
    verdict = decide_shadow(evidence, min_items=given.min_items, max_drop=given.max_drop)
    return verdict.verdict == "wait"


def count_correct(
    model: Model,
    texts: list[str],
    answers: list[str],
    *,
    threshold: float | None,
    oos_label: str | None,
) -> int:
    """Texts ``model`` labels (out-of-scope rule included) as people answered."""
    said = predict_in_scope(model, texts, threshold=threshold, oos_label=oos_label).labels
    return sum(a == b for a, b in zip(said, answers, strict=True))


def score_shadow(given: ShadowInput, challenger: Model, champion: Model) -> ShadowScore:
    """Score both models on the shadow comparison's live items."""
    texts, answers = list(given.texts), list(given.answers)
    correct = [
        count_correct(model, texts, answers, threshold=given.threshold, oos_label=given.oos_label)
        for model in (challenger, champion)
    ]
    return ShadowScore(given.key, len(texts), correct[0], correct[1])


def shadow_items(
    session: Session, project_id: int, *, exclude: set[int], text_field: str
) -> tuple[list[str], list[str]]:
    """Texts and consensus answers of the live items labelled since the models in the
    comparison were trained: resolved, not gold, not withheld, in no training set
    (``exclude``); the newest ``SHADOW_LIMIT``."""
    rows = session.execute(
        select(Item.id, Item.data, Consensus.answer)
        .join(Consensus, Consensus.item_id == Item.id)
        .where(Item.project_id == project_id, Item.is_gold.is_(False), Item.withheld.is_(False))
        .order_by(Item.id.desc())
    )
    texts: list[str] = []
    answers: list[str] = []
    for item_id, data, answer in rows:
        if int(item_id) in exclude:
            continue
        texts.append(item_text(data, text_field))
        answers.append(str(answer))
        if len(texts) >= SHADOW_LIMIT:
            break
    return texts, answers
