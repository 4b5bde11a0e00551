"""Candidate new intents: what the model's out-of-scope traffic asks for, and adopting one.

:func:`candidates` reads the project's newest :data:`RECENT` predictions and keeps the
*flagged* ones, those the model could not place:

* the predicted label is the project's out-of-scope label (``out_of_scope`` or ``oos``);
* or the selection picked the item as ``out_of_scope`` or ``novelty``;
* or the model's confidence is below the project's out-of-scope threshold (0.5 when the
  project sets none).

Items people already resolved into a known in-scope class, items a previous adoption
sent to people, gold items and items the privacy gate withheld are left out. The rest are clustered
(:func:`loupe.selection.new_intents.find_new_intents`, with the texts of the newest
labelled in-scope items as the known classes); each cluster of at least
:data:`MIN_SIZE` requests is a candidate, shown with its most central requests as stored
(after the privacy gate).

:func:`adopt` makes a candidate a label: the label is added to the schema through
:func:`loupe.services.projects.definition.update_project` (a new config version), and the
cluster's model-resolved items are handed to people the way the selection hands items
to people (:func:`loupe.services.model_loop.predictions.route_to_people`:
``predictions.resolution = "human"``, strategy :data:`STRATEGY`, the item open again), so
the next-task queue serves them in its usual order. Both need ``projects.update``
(managers, admins); adopting is audited (``new_intent.adopt``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.loop_models import Prediction
from loupe.db.models import Consensus, Item, Project
from loupe.errors import InvalidInput
from loupe.label_schema import KEY_PATTERN, LabelOption, LabelSchema, SingleChoice
from loupe.services.access import Actor, authorize_project
from loupe.services.compliance import audit_log
from loupe.services.model_loop.loop_settings import stored_config
from loupe.services.model_loop.model_versions import OOS_LABELS
from loupe.services.model_loop.predictions import route_to_people
from loupe.services.projects.definition import project_schema, update_project

__all__ = [
    "FLAGGING_STRATEGIES",
    "MAX_ADOPT",
    "MIN_SIZE",
    "RECENT",
    "STRATEGY",
    "AdoptedIntent",
    "Candidate",
    "Example",
    "adopt",
    "candidates",
]

RECENT = 2_000  # newest predictions looked at
KNOWN_REFERENCE = 2_000  # newest labelled in-scope texts standing for the known classes
MIN_SIZE = 3
MAX_EXAMPLES = 5
MAX_ADOPT = RECENT
STRATEGY = "new_intent"  # the reason recorded on predictions adopting routes to people
FLAGGING_STRATEGIES = ("out_of_scope", "novelty")
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class Example:
    item_id: int
    text: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A cluster of flagged requests: a suggested label key, its words and requests."""

    name: str
    terms: tuple[str, ...]
    size: int
    examples: tuple[Example, ...]
    item_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AdoptedIntent:
    label: str
    config_version: int
    items: int
    routed: int  # items handed to people (the others were already with people)


def _single_choice(project: Project) -> tuple[LabelSchema, SingleChoice]:
    schema = project_schema(project)
    if not isinstance(schema.task, SingleChoice):
        raise InvalidInput("new intents apply to single_choice projects")
    return schema, schema.task


def _known_texts(session: Session, project_id: int, text_field: str, oos: set[str]) -> list[str]:
    rows = session.execute(
        select(Item.data, Consensus.answer)
        .join(Consensus, Consensus.item_id == Item.id)
        .where(Item.project_id == project_id)
        .order_by(Item.id.desc())
        .limit(KNOWN_REFERENCE)
    )
    return [str(data.get(text_field, "")) for data, answer in rows if answer not in oos]


def _slug(name: str, number: int) -> str:
    key = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")[:64]
    return key if re.fullmatch(KEY_PATTERN, key) else f"new_intent_{number}"


def candidates(session: Session, actor: Actor, project_id: int) -> list[Candidate]:
    """Candidate new intents among the project's newest flagged predictions."""
    project = authorize_project(session, actor, "projects.update", project_id)
    schema, task = _single_choice(project)
    keys = {option.key for option in task.labels}
    oos = {name for name in OOS_LABELS if name in keys} or {"oos"}
    threshold = stored_config(session, project_id).oos_threshold or DEFAULT_THRESHOLD
    rows = session.execute(
        select(
            Item.id,
            Item.data,
            Prediction.label,
            Prediction.strategy,
            Prediction.confidence,
            Consensus.answer,
        )
        .join(Prediction, Prediction.item_id == Item.id)
        .outerjoin(Consensus, Consensus.item_id == Item.id)
        .where(
            Prediction.project_id == project_id,
            Item.withheld.is_(False),
            Item.is_gold.is_(False),
        )
        .order_by(Prediction.created_at.desc(), Item.id.desc())
        .limit(RECENT)
    ).all()
    texts: list[str] = []
    scores: list[float] = []
    ids: list[int] = []
    for item_id, data, label, strategy, confidence, answer in rows:
        if (answer is not None and answer not in oos) or strategy == STRATEGY:
            continue  # people placed it in a known class, or it was adopted already
        flagged = label in oos or strategy in FLAGGING_STRATEGIES
        ids.append(int(item_id))
        texts.append(str(data.get(schema.text_field, "")))
        scores.append(1.0 if flagged else 1.0 - float(confidence))
    from loupe.selection.new_intents import find_new_intents  # scikit-learn on first use

    found = find_new_intents(
        texts,
        scores,
        _known_texts(session, project_id, schema.text_field, oos),
        min_score=1.0 - threshold,
        min_size=MIN_SIZE,
        max_examples=MAX_EXAMPLES,
    )
    return [
        Candidate(
            name=_slug(cluster.name, number),
            terms=cluster.terms,
            size=cluster.size,
            examples=tuple(Example(ids[i], texts[i]) for i in cluster.examples),
            item_ids=tuple(sorted(ids[i] for i in cluster.members)),
        )
        for number, cluster in enumerate(found, start=1)
    ]


def _check_label(label: str, keys: set[str]) -> None:
    if not re.fullmatch(KEY_PATTERN, label):
        raise InvalidInput(
            "label: letters, digits and _.:- (at most 64), starting with a letter or digit",
            details={"field": "label"},
        )
    if label in keys:
        raise InvalidInput(
            f"label: {label!r} is already one of the project's labels",
            details={"field": "label"},
        )


def _check_items(session: Session, project_id: int, item_ids: Sequence[int]) -> list[int]:
    wanted = sorted(set(item_ids))
    if not wanted or len(wanted) > MAX_ADOPT:
        raise InvalidInput(f"item_ids: give 1 to {MAX_ADOPT} items", details={"field": "item_ids"})
    found = set(
        session.scalars(
            select(Prediction.item_id).where(
                Prediction.project_id == project_id, Prediction.item_id.in_(wanted)
            )
        )
    )
    missing = [i for i in wanted if i not in found]
    if missing:
        raise InvalidInput(
            f"item_ids: {missing[:10]} are not predicted items of project {project_id}",
            details={"field": "item_ids", "missing": missing[:100]},
        )
    return wanted


def adopt(
    session: Session, actor: Actor, project_id: int, *, label: str, item_ids: Sequence[int]
) -> AdoptedIntent:
    """Add ``label`` to the project's labels and send ``item_ids`` to people."""
    project = authorize_project(session, actor, "projects.update", project_id)
    schema, task = _single_choice(project)
    _check_label(label, {option.key for option in task.labels})
    wanted = _check_items(session, project_id, item_ids)
    labels = [*task.labels, LabelOption(key=label, description="Adopted from a new-intent cluster")]
    config = schema.model_copy(update={"task": task.model_copy(update={"labels": labels})})
    project = update_project(session, actor, project_id, config=config.model_dump(mode="json"))
    routed = route_to_people(session, wanted, strategy=STRATEGY, overlap=project.overlap)
    audit_log.record(
        session,
        actor,
        "new_intent.adopt",
        project_id=project_id,
        target=label,
        details={
            "label": label,
            "config_version": project.config_version,
            "items": len(wanted),
            "routed": len(routed),
        },
    )
    session.flush()
    return AdoptedIntent(label, project.config_version, len(wanted), len(routed))
