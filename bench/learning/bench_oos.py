"""Out-of-scope detection on MiniLM sentence vectors: scores and a threshold rule.

    .venv/bin/python bench/learning/bench_oos.py

CLINC150 (``shared/data/intents``; skips when absent): every score is fitted on
the 15,000 in-scope training rows (plus, where said, the 100 ``oos`` training
rows); hyper-parameters and thresholds use the validation split only; the test
split (4,500 in-scope + 1,000 out-of-scope) is scored once. Two threshold rules:

* ``F1``: the old rule, best out-of-scope F1 on validation (3% out-of-scope there,
  18% in test, so it ends up conservative);
* ``budget``: the lowest threshold that costs at most ``--budget`` points of
  in-scope accuracy on validation (flagged correct in-scope utterances / in-scope
  utterances). It reads in-scope validation rows only, so it does not depend on
  how much out-of-scope traffic there is; the accuracy constraint *is* the rule.

plus the oracle column (best test recall at precision >= 0.85, threshold chosen on
test: an upper bound, not an achievable figure). The old best score (mean cosine
of the 10 nearest training rows) is the baseline in the same run.

Then out-of-sample checks the rule was not tuned on, with the scores that need no
``oos`` rows and the same rule and hyper-parameters: CLINC150 with each domain's
15 intents held out as unseen, and xSID's English rows with each domain held out
(``--skip-xsid`` while its vectors are not cached: encoding them needs the model).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vectors import CACHE, DATA, Split, load_split, missing

from loupe.learning.embeddings import EmbeddingModel, EmbeddingTrainer

F = NDArray[np.float64]
B = NDArray[np.bool_]


def fit(x: F, y: NDArray[np.str_], *, calibrate: bool = True) -> EmbeddingModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return EmbeddingTrainer(calibrate=calibrate).fit_vectors(x, y)


# --- scores (higher = more likely out of scope) --------------------------------------


@dataclass
class Geometry:
    """Class means and a shared Ledoit-Wolf precision over (optionally PCA-whitened) rows."""

    means: F
    whiten: F  # rows @ whiten: Mahalanobis becomes Euclidean
    centre: F  # the background (one Gaussian over all rows)
    background: F
    project: Callable[[F], F]

    @classmethod
    def fit(cls, x: F, y: NDArray[np.str_], *, pca: int | None = None) -> Geometry:
        from sklearn.covariance import LedoitWolf

        mean0 = x.mean(axis=0)
        if pca is None:
            basis = np.eye(x.shape[1])
        else:
            _, s, vt = np.linalg.svd(x - mean0, full_matrices=False)
            basis = vt[:pca].T / (s[:pca] / np.sqrt(len(x)))

        def project(rows: F) -> F:
            return np.asarray((rows - mean0) @ basis, dtype=np.float64)

        z = project(x)
        classes = np.unique(y)
        index = np.searchsorted(classes, y)
        means = np.vstack([z[index == i].mean(axis=0) for i in range(classes.size)])
        shared = LedoitWolf().fit(z - means[index]).covariance_
        total = LedoitWolf().fit(z).covariance_
        return cls(
            means=means,
            whiten=_inverse_root(shared),
            centre=z.mean(axis=0),
            background=_inverse_root(total),
            project=project,
        )

    def mahalanobis(self, rows: F) -> F:
        """Squared distance to the nearest class mean, per row."""
        z = self.project(rows) @ self.whiten
        m = self.means @ self.whiten
        d = (z**2).sum(axis=1)[:, None] - 2 * z @ m.T + (m**2).sum(axis=1)[None, :]
        return np.asarray(d.min(axis=1), dtype=np.float64)

    def relative(self, rows: F) -> F:
        """Relative Mahalanobis (Ren et al. 2021): minus the background distance."""
        z = (self.project(rows) - self.centre) @ self.background
        return self.mahalanobis(rows) - (z**2).sum(axis=1)


def _inverse_root(cov: F) -> F:
    w, v = np.linalg.eigh(cov)
    return np.asarray(v / np.sqrt(np.maximum(w, 1e-12)), dtype=np.float64)


def knn_cosine(rows: F, reference: F, k: int, *, mean: bool) -> F:
    """``1 -`` the k-th highest cosine (or the mean of the k highest) to ``reference``."""
    out = np.empty(len(rows))
    for s in range(0, len(rows), 2048):
        sims = rows[s : s + 2048] @ reference.T
        top = -np.partition(-sims, k - 1, axis=1)[:, :k]
        out[s : s + 2048] = top.mean(axis=1) if mean else top.min(axis=1)
    return 1 - out


def logsumexp(a: F) -> F:
    top = a.max(axis=1)
    return np.asarray(top + np.log(np.exp(a - top[:, None]).sum(axis=1)), dtype=np.float64)


# --- threshold rules -------------------------------------------------------------------


def budget_threshold(scores: F, correct: B, budget: float) -> float:
    """Lowest threshold flagging at most ``budget`` (a share) of rows that were correct.

    Flags are ``scores > threshold``; ``correct`` marks in-scope rows the classifier
    got right (each one flagged costs ``1 / len(correct)`` of accuracy).
    """
    allowed = int(np.floor(budget * len(correct) + 1e-9))
    ranked = np.sort(scores[correct])[::-1]
    return float(ranked[allowed]) if allowed < ranked.size else float(ranked.min()) - 1.0


def best_f1_threshold(scores: F, is_oos: B) -> float:
    best, best_f1 = float(scores.max()), -1.0
    for t in np.quantile(scores, np.linspace(0.5, 0.999, 500)):
        flagged = scores > t
        tp = float(np.sum(flagged & is_oos))
        f1 = 2 * tp / max(1.0, float(flagged.sum() + is_oos.sum()))
        if f1 > best_f1:
            best, best_f1 = float(t), f1
    return best


def oracle_recall(scores: F, is_oos: B, precision: float) -> float:
    """Best recall with precision >= ``precision`` over all thresholds (chosen on the data)."""
    order = np.argsort(-scores, kind="stable")
    tp = np.cumsum(is_oos[order])
    prec = tp / np.arange(1, len(order) + 1)
    ok = prec >= precision
    return float(tp[ok].max() / is_oos.sum()) if ok.any() else 0.0


def auroc(scores: F, is_oos: B) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(is_oos, scores))


@dataclass(frozen=True)
class Outcome:
    recall: float
    precision: float
    lost: float  # points of in-scope accuracy


def outcome(scores: F, threshold: float, is_oos: B, correct: B) -> Outcome:
    """``correct`` over all rows (False for out-of-scope ones)."""
    flagged = scores > threshold
    tp = float(np.sum(flagged & is_oos))
    n_in = float(np.sum(~is_oos))
    return Outcome(
        recall=tp / max(1.0, float(is_oos.sum())),
        precision=tp / max(1.0, float(flagged.sum())),
        lost=100 * float(np.sum(flagged & correct)) / n_in,
    )


# --- CLINC150 ---------------------------------------------------------------------------


@dataclass
class Fitted:
    """Everything fitted on training rows, then applied to any split."""

    model: EmbeddingModel  # in-scope classes only
    with_oos: EmbeddingModel  # plus an ``oos`` class
    xin: F
    xoos: F
    geometry: dict[str, Geometry]
    centroids: F


def fit_all(train: Split, pcas: list[int]) -> Fitted:
    x = np.asarray(train.vectors, dtype=np.float64)
    ins = train.labels != "oos"
    start = time.process_time()
    model = fit(x[ins], train.labels[ins])
    with_oos = fit(x, train.labels)
    geometry = {"full": Geometry.fit(x[ins], train.labels[ins])}
    for k in pcas:
        geometry[f"pca{k}"] = Geometry.fit(x[ins], train.labels[ins], pca=k)
    classes = np.array(model.classes_)
    centroids = np.vstack([x[ins][train.labels[ins] == c].mean(axis=0) for c in classes])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    print(f"fitted the heads and geometry in {time.process_time() - start:.0f} CPU-s", flush=True)
    return Fitted(model, with_oos, x[ins], x[~ins], geometry, centroids)


def score_all(f: Fitted, vectors: NDArray[np.float32]) -> tuple[dict[str, F], NDArray[np.str_]]:
    x = np.asarray(vectors, dtype=np.float64)
    logits = f.model.decision_function_vectors(x)
    probs = f.model.predict_proba_vectors(x)
    p = f.with_oos.predict_proba_vectors(x)
    col = f.with_oos.classes_.index("oos")
    out: dict[str, F] = {
        "1 - max probability": 1 - probs.max(axis=1),
        "1 - max centroid cosine": 1 - (x @ f.centroids.T).max(axis=1),
        "k-NN: 1 - mean cosine of 10 nearest (old best)": knn_cosine(x, f.xin, 10, mean=True),
        "k-NN: 1 - cosine of nearest": knn_cosine(x, f.xin, 1, mean=False),
        "k-NN: 1 - cosine of 5th nearest": knn_cosine(x, f.xin, 5, mean=False),
        "energy: -logsumexp(logits)": -logsumexp(logits),
        "-max logit": -logits.max(axis=1),
        "p(oos), oos rows as a class": p[:, col],
        "k-NN to oos rows minus k-NN to in-scope": (
            knn_cosine(x, f.xin, 1, mean=False) - knn_cosine(x, f.xoos, 1, mean=False)
        ),
    }
    for name, g in f.geometry.items():
        out[f"Mahalanobis ({name})"] = g.mahalanobis(x)
        out[f"relative Mahalanobis ({name})"] = g.relative(x)
    return out, np.array(f.model.classes_)[probs.argmax(axis=1)]


def stacked(
    names: list[str], sv: dict[str, F], st: dict[str, F], vo: B, seed: int = 0
) -> tuple[F, F]:
    """Logistic regression over ``names``, fitted on validation only.

    Returns out-of-fold validation scores (5 folds, for the threshold) and test
    scores from the model fitted on all of validation.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    xv = np.column_stack([sv[n] for n in names])
    xt = np.column_stack([st[n] for n in names])

    def model() -> object:
        from sklearn.pipeline import make_pipeline

        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))

    oof = np.empty(len(xv))
    for fit_rows, held in StratifiedKFold(5, shuffle=True, random_state=seed).split(xv, vo):
        m = model().fit(xv[fit_rows], vo[fit_rows])  # type: ignore[attr-defined]
        oof[held] = m.decision_function(xv[held])
    full = model().fit(xv, vo)  # type: ignore[attr-defined]
    return oof, np.asarray(full.decision_function(xt), dtype=np.float64)


def clinc(cache: Path, budgets: list[float], pcas: list[int], precision: float) -> None:
    train = load_split("clinc150/train", cache=cache)
    val = load_split("clinc150/validation", cache=cache)
    test = load_split("clinc150/test", cache=cache)
    f = fit_all(train, pcas)
    sv, pv = score_all(f, val.vectors)
    st, pt = score_all(f, test.vectors)
    vo, to = val.labels == "oos", test.labels == "oos"
    vc, tc = (pv == val.labels) & ~vo, (pt == test.labels) & ~to
    for combo in STACKS:
        oof, tst = stacked(list(combo), sv, st, vo)
        name = "stacked: " + " + ".join(combo)
        sv[name], st[name] = oof, tst
    base = float(tc.sum() / (~to).sum())
    print(
        f"in-scope test accuracy without a threshold: {base:.4f} (validation {vc.sum() / (~vo).sum():.4f})"
    )
    head = "| score | AUROC val / test | F1 rule: recall, precision, lost |"
    head += "".join(f" budget {b:g} pt: recall, precision, lost |" for b in budgets)
    head += f" oracle recall at P >= {precision} |"
    print(head)
    print("|---" * (4 + len(budgets)) + "|")
    for name in sv:
        cells = [f"{auroc(sv[name], vo):.3f} / {auroc(st[name], to):.3f}"]
        for t in [best_f1_threshold(sv[name], vo)] + [
            budget_threshold(sv[name][~vo], vc[~vo], b / 100) for b in budgets
        ]:
            o = outcome(st[name], t, to, tc)
            cells.append(f"{o.recall:.3f}, {o.precision:.3f}, {o.lost:.2f}")
        cells.append(f"{oracle_recall(st[name], to, precision):.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


STACKS = [
    ("p(oos), oos rows as a class", "k-NN: 1 - mean cosine of 10 nearest (old best)"),
    ("p(oos), oos rows as a class", "relative Mahalanobis (full)", "energy: -logsumexp(logits)"),
    (
        "p(oos), oos rows as a class",
        "Mahalanobis (full)",
        "k-NN: 1 - mean cosine of 10 nearest (old best)",
        "energy: -logsumexp(logits)",
    ),
    (
        "p(oos), oos rows as a class",
        "Mahalanobis (full)",
        "relative Mahalanobis (full)",
        "k-NN: 1 - mean cosine of 10 nearest (old best)",
        "energy: -logsumexp(logits)",
        "-max logit",
        "1 - max centroid cosine",
        "k-NN to oos rows minus k-NN to in-scope",
    ),
]


# --- xSID, English rows, intents held out as unseen (not tuned on) ----------------------

UNSUPERVISED = [
    "1 - max probability",
    "1 - max centroid cosine",
    "k-NN: 1 - mean cosine of 10 nearest (old best)",
    "energy: -logsumexp(logits)",
    "-max logit",
    "relative Mahalanobis (full)",
]


def english(split: str, cache: Path) -> Split:
    """xSID's English rows of ``split`` (300 validation, 500 test), encoded once."""
    rows = [json.loads(line) for line in (DATA / f"xsid/{split}.jsonl").open(encoding="utf-8")]
    rows = [r for r in rows if r["lang"] == "en"]
    path = cache / f"xsid__{split}__en.npy"
    if path.is_file():
        vectors = np.load(path)
    else:
        from loupe.learning.minilm import MiniLMEncoder

        vectors = MiniLMEncoder.load().encode([str(r["text"]) for r in rows])
        np.save(path, vectors)
    return Split(
        [str(r["text"]) for r in rows],
        np.array([f"{r['domain']}|{r['intent']}" for r in rows]),
        np.asarray(vectors, dtype=np.float32),
    )


def unsupervised_scores(
    train: Split, vectors: NDArray[np.float32], *, calibrate: bool = True
) -> tuple[dict[str, F], NDArray[np.str_]]:
    """The scores that need no ``oos`` rows, fitted on ``train``, for ``vectors``."""
    x = np.asarray(train.vectors, dtype=np.float64)
    model = fit(x, train.labels, calibrate=calibrate)
    geometry = Geometry.fit(x, train.labels)
    classes = np.array(model.classes_)
    centroids = np.vstack([x[train.labels == c].mean(axis=0) for c in classes])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    rows = np.asarray(vectors, dtype=np.float64)
    logits = model.decision_function_vectors(rows)
    probs = model.predict_proba_vectors(rows)
    out = {
        "1 - max probability": 1 - probs.max(axis=1),
        "1 - max centroid cosine": 1 - (rows @ centroids.T).max(axis=1),
        "k-NN: 1 - mean cosine of 10 nearest (old best)": knn_cosine(rows, x, 10, mean=True),
        "energy: -logsumexp(logits)": -logsumexp(logits),
        "-max logit": -logits.max(axis=1),
        "relative Mahalanobis (full)": geometry.relative(rows),
    }
    return out, classes[probs.argmax(axis=1)]


def xsid(cache: Path, budget: float) -> None:
    """Each domain in turn held out as unseen; the threshold from 5-fold out-of-fold scores.

    xSID has no separate validation split for English, so the in-scope rows that set
    the threshold are the training rows' out-of-fold scores (fitted on the other 4/5).
    ``alarm/time_left_on_alarm`` (test only) is always unseen.
    """
    from sklearn.model_selection import StratifiedKFold

    pool, test = english("validation", cache), english("test", cache)
    domain = np.array([label.split("|")[0] for label in pool.labels])
    print(f"\nxSID English, budget {budget:g} pt; threshold from out-of-fold training scores")
    print("| held out | test in-scope / unseen | " + " | ".join(UNSUPERVISED) + " |")
    print("|---" * (2 + len(UNSUPERVISED)) + "|")
    recalls: dict[str, list[float]] = {name: [] for name in UNSUPERVISED}
    lost: dict[str, list[float]] = {name: [] for name in UNSUPERVISED}
    tp_flagged = {name: np.zeros(2) for name in UNSUPERVISED}
    for held in sorted(set(domain)):
        keep = domain != held
        # Intents with under 5 rows cannot be stratified; they stay in every fold's fit.
        train = Split([], pool.labels[keep], pool.vectors[keep])
        seen = set(train.labels)
        unseen = ~np.isin(test.labels, list(seen))
        oof = {name: np.zeros(len(train.labels)) for name in UNSUPERVISED}
        correct = np.zeros(len(train.labels), dtype=bool)
        counts = dict(zip(*np.unique(train.labels, return_counts=True), strict=True))
        rare = np.array([counts[label] < 5 for label in train.labels])
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        common = np.flatnonzero(~rare)
        for fit_rows, held_rows in folds.split(common, train.labels[common]):
            fit_idx = np.concatenate([common[fit_rows], np.flatnonzero(rare)])
            part = Split([], train.labels[fit_idx], train.vectors[fit_idx])
            s, pred = unsupervised_scores(part, train.vectors[common[held_rows]])
            for name in UNSUPERVISED:
                oof[name][common[held_rows]] = s[name]
            correct[common[held_rows]] = pred == train.labels[common[held_rows]]
        st, pt = unsupervised_scores(train, test.vectors)
        tc = (pt == test.labels) & ~unseen
        cells = []
        for name in UNSUPERVISED:
            t = budget_threshold(oof[name][~rare], correct[~rare], budget / 100)
            o = outcome(st[name], t, unseen, tc)
            flagged = st[name] > t
            tp_flagged[name] += [np.sum(flagged & unseen), np.sum(flagged)]
            recalls[name].append(o.recall)
            lost[name].append(o.lost)
            cells.append(f"{o.recall:.2f}, {o.precision:.2f}, {o.lost:.1f}")
        print(f"| {held} | {(~unseen).sum()} / {unseen.sum()} | " + " | ".join(cells) + " |")
    print(
        "| mean recall, pooled precision, mean lost | | "
        + " | ".join(
            f"{np.mean(recalls[name]):.2f}, {tp_flagged[name][0] / max(tp_flagged[name][1], 1):.2f}, "
            f"{np.mean(lost[name]):.1f}"
            for name in UNSUPERVISED
        )
        + " |"
    )


def clinc_unseen(cache: Path, budget: float) -> None:
    """CLINC150 with each domain's 15 intents held out as unseen (the real ``oos`` rows dropped).

    Fitted on the other 135 intents' training rows (uncalibrated regression, for
    time: the temperature does not change the max-logit ranking), the threshold
    from their validation rows with the budget rule; test: the other 4,050 in-scope
    test rows against the held-out domain's 450.
    """
    domains = {
        json.loads(line)["intent"]: json.loads(line)["domain"]
        for line in (DATA / "clinc150/train.jsonl").open(encoding="utf-8")
    }
    splits = [
        load_split(f"clinc150/{name}", cache=cache) for name in ("train", "validation", "test")
    ]
    splits = [_keep(s, s.labels != "oos") for s in splits]
    train, val, test = splits
    print(
        f"\nCLINC150, one domain held out as unseen, budget {budget:g} pt (threshold on validation)"
    )
    print("| held out | " + " | ".join(UNSUPERVISED) + " |")
    print("|---" * (1 + len(UNSUPERVISED)) + "|")
    recalls: dict[str, list[float]] = {name: [] for name in UNSUPERVISED}
    precisions: dict[str, list[float]] = {name: [] for name in UNSUPERVISED}
    lost: dict[str, list[float]] = {name: [] for name in UNSUPERVISED}
    for held in sorted(set(domains.values()) - {"oos"}):
        out = {i for i, d in domains.items() if d == held}
        seen = [~np.isin(s.labels, list(out)) for s in splits]
        part = _keep(train, seen[0])
        sv, pv = unsupervised_scores(part, val.vectors[seen[1]], calibrate=False)
        st, pt = unsupervised_scores(part, test.vectors, calibrate=False)
        unseen = ~seen[2]
        tc = (pt == test.labels) & ~unseen
        cells = []
        for name in UNSUPERVISED:
            t = budget_threshold(sv[name], pv == val.labels[seen[1]], budget / 100)
            o = outcome(st[name], t, unseen, tc)
            recalls[name].append(o.recall)
            precisions[name].append(o.precision)
            lost[name].append(o.lost)
            cells.append(f"{o.recall:.2f}, {o.precision:.2f}, {o.lost:.1f}")
        print(f"| {held} | " + " | ".join(cells) + " |", flush=True)
    print(
        "| mean (recall, precision, lost) | "
        + " | ".join(
            f"{np.mean(recalls[n]):.3f}, {np.mean(precisions[n]):.3f}, {np.mean(lost[n]):.2f}"
            for n in UNSUPERVISED
        )
        + " |"
    )


def _keep(split: Split, mask: B) -> Split:
    idx = np.flatnonzero(mask)
    return Split([split.texts[i] for i in idx], split.labels[idx], split.vectors[idx])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--budget", type=float, nargs="+", default=[1.0, 0.7])
    parser.add_argument("--pca", type=int, nargs="*", default=[64, 128, 256])
    parser.add_argument("--precision", type=float, default=0.85)
    parser.add_argument("--xsid-only", action="store_true")
    parser.add_argument("--skip-xsid", action="store_true")
    args = parser.parse_args()
    if (why := missing()) is not None:
        print(why)
        return 0
    if not args.xsid_only:
        clinc(args.cache, args.budget, args.pca, args.precision)
        clinc_unseen(args.cache, args.budget[0])
    if not args.skip_xsid:
        xsid(args.cache, args.budget[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
