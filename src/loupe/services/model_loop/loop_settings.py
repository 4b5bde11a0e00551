"""A project's model-loop settings: how the selection mixes strategies, within what budget.

Projects without settings of their own use :data:`DEFAULT_MIX`, a 10% random audit,
at most 20% of each prediction batch sent to people, and the shadow decision rule's
default thresholds (:mod:`loupe.learning.shadow`: 20 live labelled items, a 0.02 drop).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from loupe.db.loop_models import LoopConfig
from loupe.db.models import utcnow
from loupe.errors import InvalidInput
from loupe.learning import TRAINERS
from loupe.learning.shadow import SHADOW_MAX_DROP, SHADOW_MIN_ITEMS, check_shadow_rule
from loupe.services.access import Actor, authorize_project

__all__ = ["DEFAULT_MIX", "LoopSettings", "loop_settings", "set_loop_settings", "stored_config"]

DEFAULT_MIX: Mapping[str, float] = {"margin": 0.5, "out_of_scope": 0.3, "novelty": 0.2}


@dataclass(frozen=True, slots=True)
class LoopSettings:
    """What the selection and the retrainer use for one project."""

    mix: dict[str, float]
    audit_share: float = 0.1
    label_share: float = 0.2
    label_budget: int | None = None
    oos_threshold: float | None = None
    trainer: str = "tfidf-linear"
    seed: int = 0
    # The shadow decision rule (loupe.learning.shadow.decide_shadow); 0 items: no shadowing.
    shadow_min_items: int = SHADOW_MIN_ITEMS
    shadow_max_drop: float = SHADOW_MAX_DROP

    def __post_init__(self) -> None:
        from loupe.selection import STRATEGIES  # numpy on first use

        unknown = sorted(set(self.mix) - set(STRATEGIES))
        if unknown or not self.mix:
            raise InvalidInput(
                f"mix: unknown or no strategies {unknown}; choose from {sorted(STRATEGIES)}",
                details={"field": "mix", "allowed": sorted(STRATEGIES)},
            )
        if any(weight < 0 for weight in self.mix.values()) or sum(self.mix.values()) <= 0:
            raise InvalidInput("mix: weights must be >= 0 with a positive sum")
        for name in ("audit_share", "label_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InvalidInput(f"{name}: must be in [0, 1]", details={"field": name})
        if self.oos_threshold is not None and not 0.0 < self.oos_threshold <= 1.0:
            raise InvalidInput(
                "oos_threshold: must be in (0, 1]", details={"field": "oos_threshold"}
            )
        if self.label_budget is not None and self.label_budget < 0:
            raise InvalidInput("label_budget: must be >= 0", details={"field": "label_budget"})
        if self.trainer not in TRAINERS:
            raise InvalidInput(
                f"trainer: choose one of {sorted(TRAINERS)}",
                details={"field": "trainer", "allowed": sorted(TRAINERS)},
            )
        check_shadow_rule(self.shadow_min_items, self.shadow_max_drop)


def _from_row(row: LoopConfig) -> LoopSettings:
    return LoopSettings(
        mix={str(k): float(v) for k, v in row.mix.items()},
        audit_share=row.audit_share,
        label_share=row.label_share,
        label_budget=row.label_budget,
        oos_threshold=row.oos_threshold,
        trainer=row.trainer,
        seed=row.seed,
        shadow_min_items=row.shadow_min_items,
        shadow_max_drop=row.shadow_max_drop,
    )


def stored_config(session: Session, project_id: int) -> LoopConfig:
    """The project's settings row, created with the defaults on first use."""
    row = session.get(LoopConfig, project_id)
    if row is None:
        defaults = LoopSettings(mix=dict(DEFAULT_MIX))
        row = LoopConfig(
            project_id=project_id,
            mix=defaults.mix,
            audit_share=defaults.audit_share,
            label_share=defaults.label_share,
            label_budget=None,
            oos_threshold=None,
            trainer=defaults.trainer,
            seed=0,
            shadow_min_items=defaults.shadow_min_items,
            shadow_max_drop=defaults.shadow_max_drop,
            batches=0,
            labels_at_train=0,
        )
        session.add(row)
        session.flush()
    return row


def loop_settings(session: Session, actor: Actor, project_id: int) -> LoopSettings:
    """The project's loop settings (the defaults until someone sets them)."""
    authorize_project(session, actor, "projects.read", project_id)
    row = session.get(LoopConfig, project_id)
    return _from_row(row) if row is not None else LoopSettings(mix=dict(DEFAULT_MIX))


def set_loop_settings(
    session: Session, actor: Actor, project_id: int, settings: LoopSettings
) -> LoopSettings:
    """Replace the project's loop settings (managers and admins)."""
    authorize_project(session, actor, "projects.update", project_id)
    row = stored_config(session, project_id)
    row.mix = dict(settings.mix)
    row.audit_share = settings.audit_share
    row.label_share = settings.label_share
    row.label_budget = settings.label_budget
    row.oos_threshold = settings.oos_threshold
    row.trainer = settings.trainer
    row.seed = settings.seed
    row.shadow_min_items = settings.shadow_min_items
    row.shadow_max_drop = settings.shadow_max_drop
    row.updated_at = utcnow()
    session.flush()
    return _from_row(row)
