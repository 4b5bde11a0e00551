"""Out-of-scope detection from every layer of MiniLM, not only the last (CLINC150).

    OMP_NUM_THREADS=1 .venv/bin/python bench/learning/bench_oos_layers.py

The vectors come from :mod:`layer_vectors` (each layer's mean-pooled token vectors,
encoded once into ``/tmp/loupe-embeddings``: about 6 minutes on 2 cores). The protocol
is ``bench_oos.py``'s, unchanged: scores fitted on the 15,000 in-scope training rows;
the threshold from the *budget* rule on validation's in-scope rows only (the lowest
that flags at most 1 point of the product classifier's correct answers, reading no
out-of-scope row); test scored once. The classifier whose accuracy is spent is the
product's (``EmbeddingTrainer`` on the last layer's vectors), whatever the score. The
baseline in the same run is the last layer's vectors, the ones the product uses.

Views: ``last`` (layer 6, L2-normalised: the shipped vector); ``avg`` (the mean of
layers 1-6, each L2-normalised first: Chen et al. 2022's "Avg-Avg"); ``avg0`` (the
embedding layer too); ``early`` (layers 1-3); ``concat`` (layers 1-6 side by side, 2,304
dimensions, PCA to 384 before the Gaussian). Scores: Mahalanobis to the nearest class
mean under a shared Ledoit-Wolf covariance, its relative form (Ren et al. 2021), and the
mean cosine of the 10 nearest training rows.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_oos import Geometry, auroc, budget_threshold, fit, knn_cosine, oracle_recall, outcome
from layer_vectors import load_layers
from vectors import missing

F = NDArray[np.float64]


def _unit(x: NDArray[np.floating]) -> F:
    x = np.asarray(x, dtype=np.float64)
    return np.asarray(x / np.linalg.norm(x, axis=-1, keepdims=True), dtype=np.float64)


VIEWS = {
    "last": lambda v: _unit(v[:, 6]),
    "avg": lambda v: _unit(_unit(v[:, 1:7]).mean(axis=1)),
    "avg0": lambda v: _unit(_unit(v[:, 0:7]).mean(axis=1)),
    "early": lambda v: _unit(_unit(v[:, 1:4]).mean(axis=1)),
    "concat": lambda v: _unit(v[:, 1:7]).reshape(len(v), -1) / np.sqrt(6),
}


def main() -> int:
    why = missing()
    if why:
        print(why)
        return 0
    _, ytr, ltr = load_layers("clinc150/train")
    _, yva, lva = load_layers("clinc150/validation")
    _, yte, lte = load_layers("clinc150/test")
    ins = ytr != "oos"
    vo, to = yva == "oos", yte == "oos"
    start = time.process_time()
    product = fit(_unit(ltr[ins, 6]), ytr[ins])
    classes = np.array(product.classes_)
    pv = classes[product.predict_proba_vectors(_unit(lva[:, 6])).argmax(axis=1)]
    pt = classes[product.predict_proba_vectors(_unit(lte[:, 6])).argmax(axis=1)]
    vc, tc = (pv == yva) & ~vo, (pt == yte) & ~to
    print(
        f"product classifier (last layer): in-scope accuracy validation "
        f"{vc.sum() / (~vo).sum():.4f}, test {tc.sum() / (~to).sum():.4f} "
        f"({time.process_time() - start:.0f} CPU-s)",
        flush=True,
    )
    print(
        "| view | score | AUROC val / test | budget 1 pt: recall / precision / lost | budget 0.7 pt | oracle recall at P >= 0.85 |"
    )
    print("|---|---|---|---|---|---|")
    for view, make in VIEWS.items():
        xtr, xva, xte = make(ltr), make(lva), make(lte)
        pca = 384 if xtr.shape[1] > 384 else None
        g = Geometry.fit(xtr[ins], ytr[ins], pca=pca)
        scores = {
            "Mahalanobis": (g.mahalanobis(xva), g.mahalanobis(xte)),
            "relative Mahalanobis": (g.relative(xva), g.relative(xte)),
            "k-NN mean cosine of 10": (
                knn_cosine(_unit(xva), _unit(xtr[ins]), 10, mean=True),
                knn_cosine(_unit(xte), _unit(xtr[ins]), 10, mean=True),
            ),
        }
        for name, (sv, st) in scores.items():
            cells = [f"{auroc(sv, vo):.3f} / {auroc(st, to):.3f}"]
            for budget in (0.01, 0.007):
                o = outcome(st, budget_threshold(sv[~vo], vc[~vo], budget), to, tc)
                cells.append(f"{o.recall:.3f} / {o.precision:.3f} / {o.lost:.2f}")
            cells.append(f"{oracle_recall(st, to, 0.85):.3f}")
            print(f"| {view} | {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
