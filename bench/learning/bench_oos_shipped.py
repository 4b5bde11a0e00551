"""The shipped out-of-scope rule on CLINC150: what ``EmbeddingTrainer`` now sets by itself.

``bench_oos.py`` chose ``-max logit`` with a 1-point accuracy budget, with the threshold
set on CLINC150's **validation** split. The product has no validation split: the
trainer sets the threshold on its own held-out 20% of the training rows (scored by the
regression fitted on the other 80%), then refits on all rows. This script fits the
trainer exactly as the loop does (15,000 in-scope training rows, no ``oos`` rows) and
scores the test split (4,500 in-scope + 1,000 out-of-scope) with

* the shipped rule: ``model.out_of_scope`` (``-max logit``, threshold from the trainer);
* the baseline, in the same run: ``1 - max calibrated probability`` with the same
  budget rule on the same held-out rows (what a probability threshold would give).

Then the same trainer fitted as a project with labelled out-of-scope items has it: the
100 ``oos`` training rows as one more class (``--with-oos`` rows of the output). A text is
out of scope when the model predicts ``oos`` or the rule flags it; points lost are
counted against the in-scope accuracy of the model fitted without ``oos`` rows. Beside
the shipped score, the same budget rule over other scores of the same model: the
``oos`` class's log-odds against the best in-scope class, and p(oos). These were
compared after seeing test, so they are candidates, not results.

Nothing is tuned on test. Needs the cached MiniLM vectors of ``bench_oos.py``
(``/tmp/loupe-embeddings``) or the model to encode them; skips without the data.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_oos import outcome
from vectors import load_split, missing

from loupe.learning import embeddings
from loupe.learning.embeddings import EmbeddingModel, EmbeddingTrainer
from loupe.learning.text import softmax
from loupe.selection.novelty import accuracy_budget_threshold

F = NDArray[np.float64]


def fit_with_probe(
    x: NDArray[np.float64], y: NDArray[np.str_]
) -> tuple[EmbeddingModel, EmbeddingModel, NDArray[np.bool_]]:
    """The trainer's model, and its held-out rows again (same seed) with the regression
    fitted without them, which scores them as the trainer did for its threshold."""
    trainer = EmbeddingTrainer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = trainer.fit_vectors(x, y)
        held = embeddings._held_out(y, trainer.held_out, np.random.default_rng(0))
        probe_clf = trainer._classifier().fit(x[~held], y[~held])
    return model, EmbeddingModel(tuple(str(c) for c in probe_clf.classes_), probe_clf), held


def main() -> int:
    why = missing()
    if why:
        print(f"skipped: {why}")
        return 0
    train, test = load_split("clinc150/train"), load_split("clinc150/test")
    keep = train.labels != "oos"
    x = np.asarray(train.vectors[keep], dtype=np.float64)
    y = train.labels[keep]
    start = time.process_time()
    model, probe, held = fit_with_probe(x, y)
    fit_s = time.process_time() - start
    z = probe.decision_function_vectors(x[held])
    correct_held = np.array(probe.classes_)[z.argmax(axis=1)] == y[held]
    p_held = softmax(z, temperature=model.temperature)
    prob_t = accuracy_budget_threshold(1 - p_held.max(axis=1), correct_held, budget=0.01)

    tx = np.asarray(test.vectors, dtype=np.float64)
    is_oos = test.labels == "oos"
    probs = model.predict_proba_vectors(tx)
    correct = (np.array(model.classes_)[probs.argmax(axis=1)] == test.labels) & ~is_oos
    print(
        f"CLINC150 test ({(~is_oos).sum()} in-scope + {is_oos.sum()} oos); trainer fit on "
        f"{y.size} rows, {held.sum()} held out; temperature {model.temperature:.3f}; "
        f"in-scope accuracy without a rule {correct.sum() / (~is_oos).sum():.4f}; "
        f"fitting {fit_s:.0f} CPU-s"
    )
    print("| score (threshold from the trainer's held-out rows, budget 1 pt) | threshold "
          "| recall | precision | points lost |")  # fmt: skip
    print("|---|---|---|---|---|")
    rows = [
        ("1 - max probability (baseline)", 1 - probs.max(axis=1), prob_t),
        ("-max logit (shipped: model.out_of_scope)", model.out_of_scope_scores(tx),
         model.out_of_scope_threshold),
    ]  # fmt: skip
    for name, scores, t in rows:
        assert t is not None
        o = outcome(scores, t, is_oos, correct)
        print(f"| {name} | {t:.3f} | {o.recall:.3f} | {o.precision:.3f} | {o.lost:.2f} |")
    threshold = model.out_of_scope_threshold
    assert threshold is not None
    assert np.array_equal(model.out_of_scope(tx), model.out_of_scope_scores(tx) > threshold)
    with_oos(train.vectors, train.labels, tx, test.labels, correct.sum() / (~is_oos).sum())
    audit_calibrated(x, y, tx, test.labels)
    return 0


def audit_calibrated(
    x: NDArray[np.float64], y: NDArray[np.str_], tx: NDArray[np.float64], truth: NDArray[np.str_]
) -> None:
    """The rule set on a project's random-audit items (``fit_with_calibration``) against
    the random held-out share, both fitted on the same rows."""
    val = load_split("clinc150/validation")
    keep = val.labels != "oos"
    rows = np.vstack([x, np.asarray(val.vectors[keep], dtype=np.float64)])
    labels = np.concatenate([y, val.labels[keep]])
    audit = np.arange(labels.size) >= y.size
    is_oos = truth == "oos"
    print(
        f"\nCalibrated on audit items: the {int(audit.sum())} in-scope rows of CLINC150's "
        f"validation split stand for a project's random-audit sample (people-labelled "
        f"traffic), the {y.size} training rows for its other labels; both trainers fit all "
        f"{labels.size} rows"
    )
    print("| rows that set the -max logit rule (budget 1 pt) | threshold | recall | precision "
          "| points lost |")  # fmt: skip
    print("|---|---|---|---|---|")
    for name, flags in (
        ("a random 20% of all rows (fit, as before)", None),
        ("the audit rows (fit_with_calibration)", audit),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = EmbeddingTrainer().fit_vectors(rows, labels, audit=flags)
        probs = model.predict_proba_vectors(tx)
        correct = (np.array(model.classes_)[probs.argmax(axis=1)] == truth) & ~is_oos
        t = model.out_of_scope_threshold
        assert t is not None
        o = outcome(model.out_of_scope_scores(tx), t, is_oos, correct)
        print(
            f"| {name} ({model.calibrated_on}) | {t:.3f} | {o.recall:.3f} | {o.precision:.3f} "
            f"| {o.lost:.2f} |",
            flush=True,
        )


def with_oos(
    vectors: NDArray[np.float32], labels: NDArray[np.str_], tx: NDArray[np.float64],
    truth: NDArray[np.str_], accuracy_without: float,
) -> None:  # fmt: skip
    """The trainer fitted with the ``oos`` rows as a class, as a project that labels them."""
    x, y = np.asarray(vectors, dtype=np.float64), labels
    model, probe, held = fit_with_probe(x, y)
    col = model.classes_.index("oos")

    def scores(m: EmbeddingModel, v: NDArray[np.float64]) -> tuple[NDArray[np.str_], dict[str, F]]:
        z = m.decision_function_vectors(v)
        best_in = np.delete(z, col, axis=1).max(axis=1)
        return np.array(m.classes_)[z.argmax(axis=1)], {
            "-max logit (shipped: model.out_of_scope)": -z.max(axis=1),
            "oos logit - best in-scope logit (candidate)": z[:, col] - best_in,
            "p(oos) (candidate)": softmax(z, temperature=model.temperature)[:, col],
        }

    said_held, held_scores = scores(probe, x[held])
    said, test_scores = scores(model, tx)
    is_oos, in_held = truth == "oos", y[held] != "oos"
    print(
        f"\nWith the {int((y == 'oos').sum())} oos training rows as a class "
        f"({int((~in_held).sum())} of them among the held-out rows); flagged = predicted "
        f"oos or over the threshold; points lost against {accuracy_without:.4f}"
    )
    print(
        "| score (budget 1 pt on the held-out in-scope rows) | recall | precision | points lost |"
    )
    print("|---|---|---|---|")
    for name, held_score in held_scores.items():
        ok = (said_held == y[held]) & in_held
        t = accuracy_budget_threshold(held_score[in_held], ok[in_held], budget=0.01)
        if name.startswith("-max logit"):
            assert model.out_of_scope_threshold is not None
            t = model.out_of_scope_threshold  # the model's own, as the loop applies it
        flagged = (test_scores[name] > t) | (said == "oos")
        tp = int((flagged & is_oos).sum())
        accuracy = float((np.where(flagged, "oos", said) == truth)[~is_oos].mean())
        print(
            f"| {name} | {tp / is_oos.sum():.3f} | {tp / max(1, int(flagged.sum())):.3f} "
            f"| {100 * (accuracy_without - accuracy):.2f} |"
        )


if __name__ == "__main__":
    raise SystemExit(main())
