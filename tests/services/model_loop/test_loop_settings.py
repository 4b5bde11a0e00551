"""A project's loop settings: the shadow rule's thresholds are its own, validated."""

from __future__ import annotations

import math

import pytest
from tests.factories import make_project

from loupe.db.database import Database
from loupe.db.loop_models import LoopConfig
from loupe.errors import InvalidInput
from loupe.learning.shadow import SHADOW_LIMIT, SHADOW_MAX_DROP, SHADOW_MIN_ITEMS
from loupe.services.access import Actor
from loupe.services.model_loop.loop_settings import (
    LoopSettings,
    loop_settings,
    set_loop_settings,
    stored_config,
)
from loupe.services.projects.project_lifecycle import duplicate_project

MIX = {"margin": 1.0}


def test_the_shadow_rule_defaults_to_the_constants(db: Database) -> None:
    project = make_project(db)
    with db.transaction() as session:
        settings = loop_settings(session, Actor.system(), project)
        row = stored_config(session, project)
        assert (row.shadow_min_items, row.shadow_max_drop) == (20, 0.02)
    assert (settings.shadow_min_items, settings.shadow_max_drop) == (20, 0.02)
    assert (SHADOW_MIN_ITEMS, SHADOW_MAX_DROP) == (20, 0.02)
    assert LoopSettings(mix=MIX).shadow_min_items == SHADOW_MIN_ITEMS


def test_the_shadow_rule_is_stored_per_project_and_copied(db: Database) -> None:
    project = make_project(db)
    other = make_project(db, name="other")
    with db.transaction() as session:
        saved = set_loop_settings(
            session, Actor.system(), project,
            LoopSettings(mix=MIX, shadow_min_items=50, shadow_max_drop=0.05),
        )  # fmt: skip
    assert (saved.shadow_min_items, saved.shadow_max_drop) == (50, 0.05)
    with db.transaction() as session:
        read = loop_settings(session, Actor.system(), project)
        untouched = loop_settings(session, Actor.system(), other)
        copy = duplicate_project(session, Actor.system(), project, name="copy")
        copied = loop_settings(session, Actor.system(), copy.id)
    assert (read.shadow_min_items, read.shadow_max_drop) == (50, 0.05)
    assert (untouched.shadow_min_items, untouched.shadow_max_drop) == (20, 0.02)
    assert (copied.shadow_min_items, copied.shadow_max_drop) == (50, 0.05)


def test_zero_items_turns_shadowing_off_and_the_limit_is_allowed() -> None:
    assert LoopSettings(mix=MIX, shadow_min_items=0).shadow_min_items == 0
    edge = LoopSettings(mix=MIX, shadow_min_items=SHADOW_LIMIT, shadow_max_drop=1.0)
    assert (edge.shadow_min_items, edge.shadow_max_drop) == (SHADOW_LIMIT, 1.0)


@pytest.mark.parametrize(
    ("min_items", "max_drop", "field", "says"),
    [
        (-1, 0.02, "shadow_min_items", "[0, 2000]"),
        (SHADOW_LIMIT + 1, 0.02, "shadow_min_items", "[0, 2000]"),
        (2.5, 0.02, "shadow_min_items", "an integer"),
        (True, 0.02, "shadow_min_items", "an integer"),
        (20, -0.01, "shadow_max_drop", "[0, 1]"),
        (20, 1.5, "shadow_max_drop", "[0, 1]"),
        (20, math.nan, "shadow_max_drop", "[0, 1]"),
    ],
)
def test_a_bad_shadow_rule_is_a_422_that_changes_nothing(
    db: Database, min_items: object, max_drop: float, field: str, says: str
) -> None:
    project = make_project(db)
    with db.transaction() as session:
        set_loop_settings(session, Actor.system(), project, LoopSettings(mix=MIX))
    with pytest.raises(InvalidInput) as raised:
        LoopSettings(mix=MIX, shadow_min_items=min_items, shadow_max_drop=max_drop)  # type: ignore[arg-type]
    assert raised.value.http_status == 422 and raised.value.exit_code == 2
    assert raised.value.details["field"] == field
    assert str(raised.value).startswith(f"{field}: must be") and says in str(raised.value)
    with db.transaction(readonly=True) as session:
        row = session.get(LoopConfig, project)
        assert row is not None and (row.shadow_min_items, row.shadow_max_drop) == (20, 0.02)
