"""A plain single-choice next-task + submit (overlap 1, majority vote) runs without NumPy,
SciPy or scikit-learn: the live consensus imports them only for a posterior or fused answers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.factories import add_items, make_project, make_user

import loupe.aggregation
import loupe.learning
import loupe.selection
from loupe.db.database import Database

HEAVY = ("numpy", "scipy", "sklearn")

LOOP = """
import json, sys
from loupe.db.database import Database
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task

url, user_id, username, project = sys.argv[1:5]
actor = Actor(int(user_id), username, "annotator")
db = Database(url)
with db.transaction() as session:
    task = next_task(session, actor, int(project), lease_seconds=600)
    assert task is not None
with db.transaction() as session:
    submission = submit_label(session, actor, int(project), task.item_id, "call")
    assert submission.created
db.dispose()
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def loaded_after(code: str, *args: str) -> set[str]:
    """Top-level packages in ``sys.modules`` after ``code`` ran in a fresh interpreter."""
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_plain_next_task_and_submit_load_no_numpy(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    annotator = make_user(db, "maya")
    project = make_project(db, members={annotator: "annotator"}, overlap=1)
    add_items(db, project, 2)
    db.dispose()
    args = (database_url, str(annotator.id), annotator.username, str(project))
    assert not loaded_after(LOOP, *args) & set(HEAVY)


def test_the_aggregation_package_loads_numpy_on_first_use() -> None:
    code = (
        "import sys, json\n"
        "from loupe.aggregation import Span, normalize_text, span_consensus\n"
        "assert 'numpy' not in sys.modules\n"
        "from loupe.aggregation import DawidSkene\n"
        "assert 'numpy' in sys.modules\n"
        "print(json.dumps([]))"
    )
    loaded_after(code)
    names = set(loupe.aggregation.__all__)
    assert set(loupe.aggregation._LAZY) <= names
    assert all(getattr(loupe.aggregation, name) is not None for name in names)


def test_the_learning_and_selection_packages_load_numpy_on_first_use() -> None:
    code = (
        "import sys, json\n"
        "from loupe.learning import TRAINERS, Evaluation, ModelVersion, decide_promotion\n"
        "from loupe.learning.persistence import ModelStore\n"
        "import loupe.selection\n"
        "assert sorted(TRAINERS) == ['embeddings', 'tfidf-linear']\n"
        "assert 'numpy' not in sys.modules\n"
        "from loupe.selection import AUDIT\n"
        "assert 'numpy' in sys.modules\n"
        "print(json.dumps([]))"
    )
    loaded_after(code)
    for package in (loupe.learning, loupe.selection):
        names = set(package.__all__)
        assert set(package._LAZY) <= names, package.__name__
        assert all(getattr(package, name) is not None for name in names)
