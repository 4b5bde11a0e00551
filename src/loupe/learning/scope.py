"""Which texts the loop calls out of scope: one rule, decided in one place.

Serving, the gold-set evaluation behind promotion, shadow evaluation and the
label-efficiency control all label texts through :func:`predict_in_scope`, which
picks the rule by this precedence:

1. the project's explicit ``oos_threshold``: a text whose best class probability is
   below it is out of scope (:func:`~loupe.learning.evaluation.predict_with_threshold`);
2. otherwise, when the project has an out-of-scope label and the model carries a rule
   of its own (:class:`~loupe.learning.trainer.ScopedModel`: the embeddings trainer's
   ``-max logit`` over a 1-point accuracy budget), that rule;
3. otherwise nothing is out of scope: every text gets its most probable class.

>>> from loupe.learning.text import LinearTextTrainer
>>> model = LinearTextTrainer().fit(["play jazz", "call mum"], ["music", "call"])
>>> predict_in_scope(model, ["play jazz", "what time is it"], threshold=0.9, oos_label="oos").labels
['music', 'oos']
>>> predict_in_scope(model, ["what time is it"], threshold=None, oos_label="oos").rule
'none'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from loupe.learning.evaluation import Evaluation, evaluate_labels, predict_with_threshold
from loupe.learning.trainer import Model, ScopedModel

if TYPE_CHECKING:  # annotations only: importing this module loads no NumPy
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "DEFAULT_OOS_LABEL",
    "Rule",
    "Scoped",
    "describe_rule",
    "evaluate_model",
    "predict_in_scope",
]

Rule = Literal["threshold", "model", "none"]
DEFAULT_OOS_LABEL = "oos"
"""What an explicit threshold labels a text when the project declares no out-of-scope label."""


@dataclass(frozen=True)
class Scoped:
    """Labels (the out-of-scope label where the rule flags), probabilities, and the rule used."""

    labels: list[str]
    probabilities: NDArray[np.float64] = field(repr=False)
    rule: Rule


def predict_in_scope(
    model: Model,
    texts: Sequence[str],
    *,
    threshold: float | None,
    oos_label: str | None,
) -> Scoped:
    """Label ``texts`` with ``model``, out-of-scope by the precedence in the module docstring.

    ``threshold``: the project's ``oos_threshold`` (``None``: unset). ``oos_label``: the
    project's out-of-scope label, ``None`` when it declares none (then only an explicit
    threshold flags, with ``"oos"``, as before models had rules of their own).
    """
    texts = list(texts)
    classes = tuple(str(c) for c in model.classes_)
    if not texts:  # some models refuse an empty batch
        import numpy as np  # on first use: importing this module loads no NumPy

        empty = np.zeros((0, len(classes)), dtype=np.float64)
        return Scoped([], empty, "threshold" if threshold is not None else "none")
    if threshold is None and oos_label is not None and isinstance(model, ScopedModel):
        probabilities, flags = model.predict_with_scope(texts)
        if flags is not None:
            labels = predict_with_threshold(probabilities, classes)
            scoped = [oos_label if f else label for label, f in zip(labels, flags, strict=True)]
            return Scoped(scoped, probabilities, "model")
    else:
        probabilities = model.predict_proba(texts)
    labels = predict_with_threshold(
        probabilities, classes, threshold=threshold, oos_label=oos_label or DEFAULT_OOS_LABEL
    )
    return Scoped(labels, probabilities, "threshold" if threshold is not None else "none")


def describe_rule(rule: Rule, *, threshold: float | None, model: Model) -> str:
    """The rule :func:`predict_in_scope` applied, in words, for the stored metrics.

    >>> from loupe.learning.text import LinearTextTrainer
    >>> model = LinearTextTrainer().fit(["play jazz", "call mum"], ["music", "call"])
    >>> describe_rule("threshold", threshold=0.3, model=model)
    'project threshold 0.3 (max probability)'
    """
    if rule == "threshold":
        return f"project threshold {threshold:g} (max probability)"
    if rule == "model":
        # The embeddings model's cut; a ScopedModel without the attribute still says whose.
        cut = getattr(model, "out_of_scope_threshold", None)
        if cut is None:
            return "model"
        where = " (set on audit items)" if getattr(model, "calibrated_on", None) == "audit" else ""
        return f"model: -max logit > {float(cut):.2f}{where}"
    return "none"


def evaluate_model(
    gold: Sequence[str],
    model: Model,
    texts: Sequence[str],
    *,
    threshold: float | None,
    oos_label: str | None,
) -> Evaluation:
    """:func:`~loupe.learning.evaluation.evaluate` of ``model`` on ``texts`` against ``gold``,
    labelled by :func:`predict_in_scope`; ``oos_rule`` records the rule applied."""
    scoped = predict_in_scope(model, texts, threshold=threshold, oos_label=oos_label)
    return evaluate_labels(
        gold,
        scoped.labels,
        threshold=threshold,
        oos_label=oos_label or DEFAULT_OOS_LABEL,
        oos_rule=describe_rule(scoped.rule, threshold=threshold, model=model),
    )
