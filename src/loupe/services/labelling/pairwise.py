"""Pairwise comparisons stay blind: the systems behind the two outputs.

An item of a ``pairwise`` project may name the systems that produced its outputs as
``a_model`` and ``b_model``, in its ``metadata`` or among its data fields (a flat JSONL
row puts them in the data). Labellers judge blind: every task payload (the next task,
review and expert tasks, adjudication, qualification questions) drops both names, and
item listings drop them for readers who do not see who labelled
(:func:`loupe.services.access.sees_contributors`: managers, auditors and admins do).
The ranking (:mod:`loupe.services.labelling.preferences`) reads them from either place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from loupe.db.models import Project
from loupe.label_schema import LabelSchema, Pairwise
from loupe.services.access import Actor, sees_contributors
from loupe.services.projects.definition import project_schema

__all__ = ["SYSTEM_FIELDS", "blind", "for_reader", "systems"]

SYSTEM_FIELDS = ("a_model", "b_model")


def blind(schema: LabelSchema, fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` (an item's data or metadata) without the system names, for a pairwise
    project; a copy either way, so callers never change what is stored.

    >>> from loupe.label_schema import LabelSchema
    >>> pairwise = LabelSchema.model_validate({"task": {"type": "pairwise"}})
    >>> blind(pairwise, {"a": "hi", "b": "hello", "a_model": "x", "b_model": "y"})
    {'a': 'hi', 'b': 'hello'}
    """
    if not isinstance(schema.task, Pairwise):
        return dict(fields)
    return {key: value for key, value in fields.items() if key not in SYSTEM_FIELDS}


def for_reader(
    session: Session, actor: Actor, project_id: int
) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """What ``actor``, already allowed to read the project's items, sees of an item's data
    and metadata: all of it if they see who labelled, else :func:`blind`."""
    project = session.get(Project, project_id)
    if project is None or sees_contributors(session, actor, project_id):
        return dict
    schema = project_schema(project)
    return lambda fields: blind(schema, fields)


def _named(fields: Mapping[str, Any] | None) -> tuple[str, str] | None:
    if not fields:
        return None
    a, b = fields.get("a_model"), fields.get("b_model")
    if isinstance(a, str) and isinstance(b, str) and a and b and a != b:
        return a, b
    return None


def systems(
    data: Mapping[str, Any] | None, meta: Mapping[str, Any] | None
) -> tuple[str, str] | None:
    """The two systems an item compares, ``(a, b)``: from its metadata, else from its data
    (both names from the same place); ``None`` when neither names two different systems.

    >>> systems({"a_model": "x", "b_model": "y"}, {})
    ('x', 'y')
    >>> systems({"a_model": "x", "b_model": "y"}, {"a_model": "p", "b_model": "q"})
    ('p', 'q')
    >>> systems({"a_model": "x"}, {"b_model": "y"}) is None
    True
    """
    return _named(meta) or _named(data)
