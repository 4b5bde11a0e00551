"""Helpers for the model-loop tests: a project in the loop with gold items and labels."""

from __future__ import annotations

from typing import Any

from tests.factories import Person, hold_in

from loupe.db.database import Database
from loupe.formats import parse_item
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.model_loop.loop_settings import LoopSettings, set_loop_settings
from loupe.services.model_loop.predictions import PredictionIn
from loupe.services.projects import items
from loupe.services.quality import gold

WORDS = {
    "call": ["call", "ring", "phone", "dial"],
    "music": ["play", "song", "music", "tune"],
    "navigate": ["route", "directions", "navigate", "walk"],
}


def text_for(label: str, i: int) -> str:
    words = WORDS[label]
    return f"{words[i % 4]} {words[(i + 1) % 4]} number {i}"


def prediction(i: int, label: str = "call", p: float = 0.8, **extra: Any) -> PredictionIn:
    rest = (1.0 - p) / 2
    probs = {k: (p if k == label else rest) for k in WORDS}
    return PredictionIn(id=f"p{i}", text=text_for(label, i), label=label, probabilities=probs,
                        **extra)  # fmt: skip


def configure(db: Database, project_id: int, **changes: Any) -> None:
    values: dict[str, Any] = {"mix": {"margin": 1.0}, "audit_share": 0.2, "label_share": 0.5}
    values.update(changes)
    with db.transaction() as session:
        set_loop_settings(session, Actor.system(), project_id, LoopSettings(**values))


def add_gold(db: Database, project_id: int, n_per_label: int = 4) -> None:
    rows = [(f"g-{label}-{i}", label) for label in WORDS for i in range(n_per_label)]
    records = [
        parse_item({"id": ext, "text": text_for(label, 100 + i)}, where="t", text_field="text")
        for i, (ext, label) in enumerate(rows)
    ]
    with db.transaction() as session:
        items.insert_items(session, Actor.system(), project_id, records)
        gold.set_gold(session, Actor.system(), project_id, rows)


def label_items(db: Database, project_id: int, person: Person, n_per_label: int) -> None:
    """Import and label ``n_per_label`` items per label as ``person``."""
    rows = [(f"l-{label}-{i}", label) for label in WORDS for i in range(n_per_label)]
    records = [
        parse_item({"id": ext, "text": text_for(label, i)}, where="t", text_field="text")
        for i, (ext, label) in enumerate(rows)
    ]
    with db.transaction() as session:
        items.insert_items(session, Actor.system(), project_id, records)
    from sqlalchemy import select

    from loupe.db.models import Item

    with db.transaction() as session:
        ids = dict(
            session.execute(
                select(Item.external_id, Item.id).where(Item.project_id == project_id)
            ).all()
        )
        for ext, label in rows:
            hold_in(session, person.id, project_id, ids[ext])
            submit_label(session, person.actor, project_id, ids[ext], label)
