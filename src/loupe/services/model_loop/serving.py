"""The champion serves: predictions from the project's promoted model, loaded from the model
store (never retrained) and cached per process.

Each request reads the champion's row (one indexed query) and compares it with the cached
one; a promotion or a retirement by another worker or server changes the row, so every
process picks the new champion up on its next request without any message between them.
The first request after a start loads the file (:meth:`ModelStore.load`); later ones reuse
it. A challenger in shadow (:mod:`loupe.learning.shadow`) never answers here: it is scored
on the items people label, at the next retrain.

>>> import tempfile
>>> cache = ChampionCache(ModelStore(tempfile.mkdtemp()))
>>> cache.loads
0
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from loupe.db.loop_models import ModelVersionRecord
from loupe.errors import Conflict, InvalidInput
from loupe.label_schema import SingleChoice
from loupe.learning.persistence import ModelStore
from loupe.learning.scope import predict_in_scope
from loupe.learning.trainer import Model
from loupe.services.access import Actor, authorize_project
from loupe.services.model_loop.loop_settings import stored_config
from loupe.services.model_loop.model_versions import (
    current_champion,
    declared_oos_label,
    model_key,
)
from loupe.services.projects.definition import project_schema

__all__ = ["MAX_TEXTS", "ChampionCache", "Served", "predict"]

MAX_TEXTS = 1_000


@dataclass(frozen=True, slots=True)
class Served:
    """The champion's answers, in the order of the texts, and which version gave them."""

    model_version: int
    trainer: str
    classes: tuple[str, ...]
    labels: list[str]
    probabilities: list[dict[str, float]]


class ChampionCache:
    """Champions loaded in this process, by project; checked against the database per use."""

    def __init__(self, store: ModelStore) -> None:
        self.store = store
        self.loads = 0  # files read: one per champion per process
        self._lock = threading.Lock()
        self._models: dict[int, tuple[tuple[int, int, datetime], Model]] = {}

    def champion(self, session: Session, project_id: int) -> tuple[ModelVersionRecord, Model]:
        """The serving champion's row and model, or :class:`Conflict` when there is none."""
        record = current_champion(session, project_id)
        if record is None:
            self.forget(project_id)
            raise Conflict(
                f"project {project_id} has no promoted model yet; retrain it "
                "(`loupe loop retrain`) once it has gold items and labels",
                details={"project_id": project_id},
            )
        # The row id and creation time too: a recreated database reuses version numbers.
        stamp = (record.id, record.version, record.created_at)
        with self._lock:
            cached = self._models.get(project_id)
        if cached is not None and cached[0] == stamp:
            return record, cached[1]
        model = self.store.load(model_key(project_id, record.version))
        if model is None:
            raise Conflict(
                f"the champion v{record.version} of project {project_id} has no model file in "
                f"{self.store.root}; retrain the project (`loupe loop retrain`)",
                details={"project_id": project_id, "version": record.version},
            )
        with self._lock:
            self._models[project_id] = (stamp, model)
            self.loads += 1
        return record, model

    def forget(self, project_id: int) -> None:
        with self._lock:
            self._models.pop(project_id, None)


def predict(
    session: Session,
    actor: Actor,
    project_id: int,
    texts: Sequence[str],
    *,
    cache: ChampionCache,
) -> Served:
    """The champion's label and class probabilities for each text (nothing is stored).

    Labels are out of scope as on the gold set (:func:`loupe.learning.scope.predict_in_scope`):
    by the project's ``oos_threshold`` if set, else by the model's own rule if it has one
    and the project an out-of-scope label.
    """
    project = authorize_project(session, actor, "labels.read", project_id)
    schema = project_schema(project)
    if not isinstance(schema.task, SingleChoice):
        raise InvalidInput("predictions apply to single_choice projects")
    if not texts or len(texts) > MAX_TEXTS:
        raise InvalidInput(
            f"texts: give 1 to {MAX_TEXTS} texts per request",
            details={"field": "texts", "max": MAX_TEXTS},
        )
    for index, text in enumerate(texts):
        if not text.strip():
            raise InvalidInput(
                f"texts[{index}]: empty text; send the words to classify",
                details={"field": f"texts[{index}]"},
            )
    record, model = cache.champion(session, project_id)
    scoped = predict_in_scope(
        model,
        texts,
        threshold=stored_config(session, project_id).oos_threshold,
        oos_label=declared_oos_label(schema.task),
    )
    probs = scoped.probabilities
    classes = tuple(str(c) for c in model.classes_)
    labels = scoped.labels
    return Served(
        model_version=record.version,
        trainer=record.trainer,
        classes=classes,
        labels=labels,
        probabilities=[
            {c: round(float(p), 6) for c, p in zip(classes, row, strict=True)} for row in probs
        ],
    )
