from __future__ import annotations

import numpy as np
import pytest

from loupe.errors import InvalidInput
from loupe.selection.disagreement import label_disagrees, model_human_disagreement


def test_known_answers() -> None:
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    assert model_human_disagreement(p, np.array([0, 2])) == pytest.approx([0.3, 0.9])
    assert label_disagrees(p, np.array([0, 2])).tolist() == [False, True]


@pytest.mark.parametrize("labels", [np.array([0]), np.array([0, 3]), np.array([0.0, 1.0])])
def test_rejects_bad_labels(labels: np.ndarray) -> None:
    with pytest.raises(InvalidInput):
        model_human_disagreement(np.array([[0.5, 0.5, 0.0], [0.2, 0.2, 0.6]]), labels)
