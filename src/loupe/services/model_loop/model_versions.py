"""Retraining: fit a challenger on the people's answers, score it on the gold set, and
promote it only if it beats the champion (:func:`loupe.learning.decide_promotion`).

The training set is the current consensus of every labelled item that is not gold;
the gold items (:func:`loupe.services.quality.gold.set_gold`) are the held-out evaluation
set and are never trained on. Each version keeps its metrics, the internal item ids
it was trained on (never external ids, which may be personal; with their SHA-256), the
human labels and the ledger cost behind it, and whether it was promoted; the champion
is the newest promoted version that was not retired.

Erasure retires every version trained on an erased item (:func:`retire_trained_on`):
it stops serving (the champion falls back to the newest clean promoted version, or to
none), its model file is deleted after the erasure commits
(:func:`delete_retired_files`: a TF-IDF vocabulary holds the erased words), and the
project is due for retraining (:func:`projects_due_for_retrain`) until a new version
is trained.

Alongside each challenger the same trainer is fitted on the random-audit items only
(plus the seed items that came without a prediction): that *control* shows what the
same labelling effort would have bought without the selection strategy
(:mod:`loupe.services.model_loop.efficiency`).

A promoted version's fitted model is written to the project's :class:`ModelStore`
(``project-<id>/v<version>``, under ``Settings.resolved_model_dir()``) before the
transaction that records the promotion commits, so that after a restart
:func:`champion_model` loads the champion instead of retraining it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.db.loop_models import LoopConfig, ModelVersionRecord
from loupe.db.models import Item, Label, Project, utcnow
from loupe.db.quality_models import GoldAnswer
from loupe.errors import Conflict, InvalidInput
from loupe.label_schema import SingleChoice
from loupe.learning import (
    Evaluation,
    Model,
    ModelVersion,
    PromotionDecision,
    decide_promotion,
    gold_set_fingerprint,
)
from loupe.learning.persistence import ModelStore
from loupe.learning.scope import evaluate_model
from loupe.learning.shadow import ShadowEvidence, decide_shadow
from loupe.services.access import Actor, authorize_project
from loupe.services.claim_renewal import renewed_claim
from loupe.services.model_loop import training
from loupe.services.model_loop.loop_settings import stored_config
from loupe.services.model_loop.retrain_schedule import (
    claim_retrain,
    resolved_count,
    retrain_after_erasure,
)
from loupe.services.model_loop.retrain_scoring import (
    ChallengerInput,
    GoldSet,
    ShadowInput,
    ShadowScore,
    fit_challenger,
    score_gold,
    score_shadow,
    shadow_items,
    shadow_key,
    shadow_waits,
)
from loupe.services.model_loop.training import Fitted, item_text, training_set
from loupe.services.payments.earnings import project_spending
from loupe.services.projects import webhooks
from loupe.services.projects.definition import project_schema

log = logging.getLogger("loupe.models")

__all__ = [
    "Retirement",
    "RetrainOutcome",
    "challenger_input",
    "champion_model",
    "current_champion",
    "declared_oos_label",
    "delete_retired_files",
    "labels_bought",
    "list_model_versions",
    "model_key",
    "oos_label",
    "promoted_model",
    "retire_trained_on",
    "retrain",
    "retrain_in_steps",
    "shadow_input",
    "shadowed_challenger",
]

OOS_LABELS = ("out_of_scope", "oos")


@dataclass(frozen=True)
class RetrainOutcome:
    """The stored version, the promotion decision and the fitted challenger."""

    record: ModelVersionRecord
    decision: PromotionDecision
    model: Model = field(repr=False)
    metrics: Evaluation


def challenger_input(session: Session, project_id: int) -> ChallengerInput | None:
    """What :func:`fit_challenger` fits for the project's next retrain (its trainer and
    training set) and scores it on (the gold set), read in the caller's (read-only)
    transaction. ``None`` when a retrain cannot fit (not a single-choice project, no loop
    settings yet, fewer than two classes resolved); :func:`retrain` then says why."""
    project = session.get(Project, project_id)
    config = session.get(LoopConfig, project_id)
    if project is None or config is None:
        return None
    schema = project_schema(project)
    if not isinstance(schema.task, SingleChoice):
        return None
    data = training_set(session, project_id, text_field=schema.text_field)
    if len(set(data.labels)) < 2:
        return None
    gold = _gold(session, project_id, schema.text_field, config, schema.task)
    return ChallengerInput(config.trainer, data, gold)


def shadow_input(
    session: Session, project_id: int, *, store: ModelStore | None
) -> ShadowInput | None:
    """The shadow comparison the project's next retrain will judge, read in the caller's
    (read-only) transaction, for :func:`score_shadow` to score outside it; ``None`` when
    there is none to score (no challenger in shadow, no champion, shadowing off)."""
    project = session.get(Project, project_id)
    config = session.get(LoopConfig, project_id)
    pending = _pending(session, project_id)
    champion = _champion(session, project_id)
    if project is None or config is None or pending is None or champion is None:
        return None
    schema = project_schema(project)
    if store is None or config.shadow_min_items <= 0 or not isinstance(schema.task, SingleChoice):
        return None
    if champion.version > pending.version:
        return None
    rule = (config.oos_threshold, declared_oos_label(schema.task))
    shadow_rule = (config.shadow_min_items, config.shadow_max_drop)
    return _shadow_input(session, pending, champion, schema.text_field, rule, shadow_rule)


def _shadow_input(
    session: Session,
    pending: ModelVersionRecord,
    champion: ModelVersionRecord,
    text_field: str,
    rule: tuple[float | None, str | None],
    shadow_rule: tuple[int, float],
) -> ShadowInput:
    """``rule``: the out-of-scope threshold and label; ``shadow_rule``: min items, max drop."""
    exclude = {int(i) for i in pending.training_ids or ()}
    exclude.update(int(i) for i in champion.training_ids or ())
    texts, answers = shadow_items(
        session, pending.project_id, exclude=exclude, text_field=text_field
    )
    return ShadowInput(
        pending.version, champion.version, tuple(texts), tuple(answers), *rule, *shadow_rule
    )


def retrain_in_steps(
    db: Database,
    actor: Actor,
    project_id: int,
    *,
    store: ModelStore | None,
    claimed: bool = False,
) -> RetrainOutcome:
    """:func:`retrain` without holding the database during the fit or the predictions:
    the training set, the gold set and any shadow comparison are read in a read-only
    transaction (:func:`challenger_input`, :func:`shadow_input`), fitted and scored with
    no transaction open (:mod:`~loupe.services.model_loop.retrain_scoring`; on SQLite a
    write transaction would hold every annotator's submit), and the version stored and
    promoted (or the shadow judged) in one short write transaction. ``claimed``: the
    caller committed :func:`claim_retrain`, which is kept fresh during the fit
    (:mod:`loupe.services.claim_renewal`); otherwise :func:`retrain` claims it."""
    with db.transaction(readonly=True) as session:
        given = challenger_input(session, project_id)
        judged = shadow_input(session, project_id, store=store)
    renewal = (
        renewed_claim(db, LoopConfig, "training_since", project_id) if claimed else nullcontext()
    )
    with renewal:
        shadow = _score_shadow(judged, project_id, store)
        # A challenger still waiting in shadow: this retrain trains nothing new.
        waits = judged is not None and shadow is not None and shadow_waits(judged, shadow)
        fitted = None if waits else fit_challenger(given)
    with db.transaction() as session:
        return retrain(
            session,
            actor,
            project_id,
            claimed=claimed,
            store=store,
            fitted=fitted,
            shadow=shadow,
        )


def _score_shadow(
    given: ShadowInput | None, project_id: int, store: ModelStore | None
) -> ShadowScore | None:
    if given is None or store is None:
        return None
    challenger = store.load(model_key(project_id, given.challenger_version))
    champion = store.load(model_key(project_id, given.champion_version))
    if challenger is None or champion is None:
        return None  # the write transaction says why it cannot judge
    return score_shadow(given, challenger, champion)


def _gold(
    session: Session, project_id: int, text_field: str, config: LoopConfig, task: SingleChoice
) -> GoldSet:
    """The gold items' external ids, texts and answers, with the out-of-scope rule."""
    rows = session.execute(
        select(Item.external_id, Item.data, GoldAnswer.answer)
        .join(GoldAnswer, GoldAnswer.item_id == Item.id)
        .where(Item.project_id == project_id, Item.withheld.is_(False))
        .order_by(Item.id)
    ).all()
    return GoldSet(
        tuple(row.external_id for row in rows),
        tuple(item_text(row.data, text_field) for row in rows),
        tuple(str(row.answer) for row in rows),
        config.oos_threshold,
        declared_oos_label(task),
    )


def _champion(session: Session, project_id: int) -> ModelVersionRecord | None:
    return session.scalar(
        select(ModelVersionRecord)
        .where(
            ModelVersionRecord.project_id == project_id,
            ModelVersionRecord.promoted.is_(True),
            ModelVersionRecord.trained_on_erased_at.is_(None),
        )
        .order_by(ModelVersionRecord.version.desc())
        .limit(1)
    )


def current_champion(session: Session, project_id: int) -> ModelVersionRecord | None:
    """The serving champion's row, for a caller that has authorised the actor already."""
    return _champion(session, project_id)


def shadowed_challenger(session: Session, project_id: int) -> ModelVersionRecord | None:
    """The challenger in shadow (``shadow_status="pending"``), if any; caller authorises."""
    return _pending(session, project_id)


def oos_label(task: SingleChoice) -> str:
    """The project's out-of-scope label key (``out_of_scope`` or ``oos``)."""
    return _oos_label(task)


def declared_oos_label(task: SingleChoice) -> str | None:
    """The project's out-of-scope label key, ``None`` when its schema has none.

    A model's own out-of-scope rule applies only where there is a label to give
    (:func:`loupe.learning.scope.predict_in_scope`).
    """
    keys = {option.key for option in task.labels}
    return next((name for name in OOS_LABELS if name in keys), None)


def _as_version(record: ModelVersionRecord) -> ModelVersion:
    return ModelVersion(
        version=record.version,
        trainer=record.trainer,
        training_ids=tuple(str(i) for i in record.training_ids),
        metrics=Evaluation(**record.metrics),
        gold_set=record.gold_set,
    )


def _cost(session: Session, project_id: int) -> tuple[int, str | None]:
    """Spent so far in the project's main currency (the one it spent most in), from the
    logged entry bytes."""
    spent = project_spending(session, project_id)
    if not spent:
        return 0, None
    currency = max(spent, key=lambda name: (spent[name], name))
    return spent[currency], currency


def _oos_label(task: SingleChoice) -> str:
    keys = {option.key for option in task.labels}
    return next((name for name in OOS_LABELS if name in keys), "oos")


def _pending(session: Session, project_id: int) -> ModelVersionRecord | None:
    return session.scalar(
        select(ModelVersionRecord)
        .where(
            ModelVersionRecord.project_id == project_id,
            ModelVersionRecord.shadow_status == "pending",
            ModelVersionRecord.trained_on_erased_at.is_(None),
        )
        .order_by(ModelVersionRecord.version.desc())
        .limit(1)
    )


def _settle_shadow(
    session: Session,
    project_id: int,
    *,
    store: ModelStore | None,
    text_field: str,
    threshold: float | None,
    oos: str | None,
    min_items: int,
    max_drop: float,
    now: datetime,
    scored: ShadowScore | None,
) -> RetrainOutcome | None:
    """Judge the challenger in shadow, if any: promote or reject it (``None``), or, short
    of live labelled items, the outcome that says it still waits. ``scored``: the
    comparison scored before this transaction, used if its inputs are still the same."""
    pending = _pending(session, project_id)
    if pending is None or store is None:  # without the files nothing can be judged
        return None
    champion_row = _champion(session, project_id)
    challenger = store.load(model_key(project_id, pending.version))
    champion = (
        store.load(model_key(project_id, champion_row.version))
        if champion_row is not None
        else None
    )
    base = pending.reason.split("; shadow", 1)[0]
    if champion_row is not None and champion_row.version > pending.version:
        pending.shadow_status = "rejected"
        pending.reason = f"{base}; shadow: superseded by v{champion_row.version}"
        session.flush()
        return None
    if challenger is None:
        pending.shadow_status = "rejected"
        pending.reason = f"{base}; shadow: its model file is missing, so it was never shadowed"
        session.flush()
        return None
    if champion_row is None or champion is None or min_items <= 0:
        why = "no champion left to shadow it against" if min_items > 0 else "shadowing is off"
        _promote(session, pending, f"{base}; shadow: {why}", now=now)
        return None
    if scored is None or scored.key != shadow_key(
        pending.version, champion_row.version, threshold, oos
    ):
        given = _shadow_input(
            session, pending, champion_row, text_field, (threshold, oos), (min_items, max_drop)
        )
        scored = score_shadow(given, challenger, champion)
    evidence = ShadowEvidence(scored.n, scored.challenger_correct, scored.champion_correct)
    verdict = decide_shadow(evidence, min_items=min_items, max_drop=max_drop)
    pending.shadow = {
        "n": evidence.n,
        "challenger_correct": evidence.challenger_correct,
        "champion_correct": evidence.champion_correct,
        "champion_version": champion_row.version,
        "min_items": min_items,
        "max_drop": max_drop,
    }
    reason = f"{base}; {verdict.reason}"
    if verdict.verdict == "promote":
        _promote(session, pending, reason, now=now)
        return None
    pending.reason = reason
    if verdict.verdict == "reject":
        pending.shadow_status = "rejected"
        session.flush()
        return None
    session.flush()
    metrics = Evaluation(**pending.metrics)
    value = metrics.get("macro_f1")
    decision = PromotionDecision(
        False, "macro_f1", None, 0.0 if value is None else value, None, reason
    )
    return RetrainOutcome(record=pending, decision=decision, model=challenger, metrics=metrics)


def _promote(session: Session, record: ModelVersionRecord, reason: str, *, now: datetime) -> None:
    record.promoted = True
    record.shadow_status = "promoted" if record.shadow_status == "pending" else record.shadow_status
    record.reason = reason
    session.flush()
    promoted = {
        "model_version_id": record.id,
        "version": record.version,
        "trainer": record.trainer,
        "metrics": record.metrics,
    }
    webhooks.emit(session, record.project_id, "model.promoted", promoted, now=now)


def retrain(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    now: datetime | None = None,
    claimed: bool = False,
    min_improvement: float = 0.005,
    store: ModelStore | None = None,
    shadow_min_items: int | None = None,
    shadow_max_drop: float | None = None,
    fitted: Fitted | None = None,
    shadow: ShadowScore | None = None,
) -> RetrainOutcome:
    """Fit, evaluate on the gold set, store the version and promote it if it is better.

    ``fitted``: the challenger, fitted before this transaction (:func:`fit_challenger`):
    it is used as it is when its trainer is still the project's, and the version
    records the training set it was fitted on; without one, the fit runs here. Its
    gold-set scores, and ``shadow`` (a shadow comparison scored before this
    transaction: :mod:`~loupe.services.model_loop.retrain_scoring`), are used when the
    inputs read here are the same; otherwise they are scored here.

    ``claimed``: the caller took the claim in an earlier transaction
    (:func:`claim_retrain`); otherwise it is taken here. ``store``: where a promoted
    model's weights are written (:func:`champion_model` reads them back).

    With a ``store`` and a serving champion, a challenger that wins on the gold set is
    not promoted at once but shadowed (``shadow_status="pending"``): the next retrains
    score it and the champion on the items people labelled since it was trained, and
    promote or reject it by :func:`loupe.learning.shadow.decide_shadow`; while it waits
    for ``shadow_min_items`` such items, a retrain trains nothing new and returns it.
    ``shadow_min_items=0`` promotes on the gold set alone. ``shadow_min_items`` and
    ``shadow_max_drop`` default to the project's loop settings (``None``); a value
    given here overrides them for this retrain.
    """
    project = authorize_project(session, actor, "projects.update", project_id)
    now = now or utcnow()
    schema = project_schema(project)
    if not isinstance(schema.task, SingleChoice):
        raise InvalidInput("retraining applies to single_choice projects")
    if not claimed and not claim_retrain(session, project_id, now=now):
        raise Conflict(f"project {project_id} is being retrained already; try again shortly")
    config = stored_config(session, project_id)
    if shadow_min_items is None:
        shadow_min_items = config.shadow_min_items
    if shadow_max_drop is None:
        shadow_max_drop = config.shadow_max_drop
    waiting = _settle_shadow(
        session,
        project_id,
        store=store,
        text_field=schema.text_field,
        threshold=config.oos_threshold,
        oos=declared_oos_label(schema.task),
        min_items=shadow_min_items,
        max_drop=shadow_max_drop,
        now=now,
        scored=shadow,
    )
    if waiting is not None:  # the challenger in shadow needs more live labels: train nothing
        config.labels_at_train = resolved_count(session, project_id)
        config.training_since = None
        session.flush()
        return waiting
    gold = _gold(session, project_id, schema.text_field, config, schema.task)
    gold_ids, gold_texts, gold_answers = gold.external_ids, list(gold.texts), list(gold.answers)
    if not gold_ids:
        raise Conflict(
            f"project {project_id} has no gold set to evaluate on; mark held-out items "
            "with `loupe gold set`",
            details={"project_id": project_id},
        )
    if fitted is None or fitted.trainer != config.trainer:
        data = training_set(session, project_id, text_field=schema.text_field)
        if len(set(data.labels)) < 2:
            raise InvalidInput(
                "retraining needs resolved labels of at least 2 classes; label more items first",
                details={"project_id": project_id, "resolved": data.size},
            )
        fitted = training.fit(config.trainer, data)
    data, model = fitted.data, fitted.model
    oos, threshold = gold.oos_label, gold.threshold
    scored = fitted.gold
    if scored is None or scored.key != gold.key:
        scored = score_gold(gold, model, fitted.control_model)
    metrics, control_metrics = scored.metrics, scored.control_metrics
    control = [i for i, flag in enumerate(data.control) if flag]
    fingerprint = gold_set_fingerprint(gold_ids)
    latest = session.scalar(
        select(func.max(ModelVersionRecord.version)).where(
            ModelVersionRecord.project_id == project_id
        )
    )
    version = int(latest or 0) + 1
    challenger = ModelVersion(
        version, config.trainer, tuple(str(i) for i in data.item_ids), metrics, fingerprint
    )
    champion_row = _champion(session, project_id)
    champion = _as_version(champion_row) if champion_row is not None else None
    if champion is not None and champion.gold_set != fingerprint:
        # The gold set changed: the old score is not comparable. Score the kept
        # champion on the new gold set; without its file there is nothing to compare.
        kept = store.load(model_key(project_id, champion.version)) if store else None
        champion = (
            None
            if kept is None
            else replace(
                champion,
                metrics=evaluate_model(
                    gold_answers, kept, gold_texts, threshold=threshold, oos_label=oos
                ),
                gold_set=fingerprint,
            )
        )
    # Guard out-of-scope F1, not recall: a champion that calls everything out of scope
    # has recall 1, and a recall guard would keep it serving for ever.
    decision = decide_promotion(
        champion, challenger, min_improvement=min_improvement, guards={"oos_f1": 0.05}
    )
    # Better on the gold set than a champion that serves: shadow it on live traffic first
    # (its file is written now, for the next retrain to load it: _settle_shadow).
    shadowing = (
        decision.promote and champion is not None and store is not None and shadow_min_items > 0
    )
    if shadowing:
        decision = replace(
            decision,
            promote=False,
            reason=f"{decision.reason}; shadowing on live labelled items before promotion",
        )
    cost, currency = _cost(session, project_id)
    n_labels = labels_bought(session, project_id)
    record = ModelVersionRecord(
        project_id=project_id,
        version=version,
        trainer=config.trainer,
        metrics=metrics.as_dict(),
        control_metrics=control_metrics,
        n_control=len(control),
        training_ids=list(data.item_ids),
        training_hash=data.digest(),
        gold_set=fingerprint,
        n_labels=int(n_labels or 0),
        cost_minor=cost,
        currency=currency,
        promoted=decision.promote,
        reason=decision.reason,
        created_at=now,
        shadow_status="pending" if shadowing else None,
    )
    if (decision.promote or shadowing) and store is not None:
        # Written before the promotion commits: a promoted row always has its file.
        # A rolled-back retrain leaves a file no promoted row names; the next
        # promotion of that version number replaces it.
        store.save(model_key(project_id, version), model)
    session.add(record)
    config.labels_at_train = resolved_count(session, project_id)
    config.training_since = None
    session.flush()
    if decision.promote:
        promoted = {
            "model_version_id": record.id,
            "version": version,
            "trainer": config.trainer,
            "metrics": record.metrics,
        }
        webhooks.emit(session, project_id, "model.promoted", promoted, now=now)
    return RetrainOutcome(record=record, decision=decision, model=model, metrics=metrics)


def list_model_versions(
    session: Session, actor: Actor, project_id: int
) -> Sequence[ModelVersionRecord]:
    """Every version of the project's model, newest first."""
    authorize_project(session, actor, "projects.read", project_id)
    return session.scalars(
        select(ModelVersionRecord)
        .where(ModelVersionRecord.project_id == project_id)
        .order_by(ModelVersionRecord.version.desc())
    ).all()


def promoted_model(session: Session, actor: Actor, project_id: int) -> ModelVersionRecord | None:
    """The champion: the newest promoted version not retired by an erasure (``None`` before
    the first promotion, or when every promoted version was retired)."""
    authorize_project(session, actor, "projects.read", project_id)
    return _champion(session, project_id)


def model_key(project_id: int, version: int) -> str:
    """The key a project's model version is stored under in a :class:`ModelStore`."""
    return f"project-{project_id}/v{version}"


def champion_model(
    session: Session, actor: Actor, project_id: int, *, store: ModelStore
) -> tuple[ModelVersionRecord, Model] | None:
    """The champion's record and its fitted model, loaded from ``store`` (no retraining).

    ``None`` before the first promotion, or when the champion's file is missing (a
    version promoted before models were kept, or a deleted directory): retrain then.
    """
    authorize_project(session, actor, "projects.read", project_id)
    record = _champion(session, project_id)
    if record is None:
        return None
    model = store.load(model_key(project_id, record.version))
    return None if model is None else (record, model)


@dataclass(frozen=True, slots=True)
class Retirement:
    """Versions retired because they were trained on erased items.

    ``retired``: ``project:<id>/v<version>``; ``retrain``: the projects they belong to,
    now due for retraining (they serve the newest clean promoted version, or none, until
    the background retrain gives them a new one).
    """

    retired: list[str]
    retrain: list[int]


def retire_trained_on(
    session: Session, item_ids: Sequence[int], *, now: datetime | None = None
) -> Retirement:
    """Mark every version whose training set held any of ``item_ids`` (call before the
    items are deleted). Their files go after commit: :func:`delete_retired_files`."""
    now = now or utcnow()
    projects: set[int] = set()
    for start in range(0, len(item_ids), 500):
        part = list(item_ids[start : start + 500])
        projects.update(
            session.scalars(select(Item.project_id).where(Item.id.in_(part)).distinct())
        )
    wanted = {int(i) for i in item_ids}
    retired: list[str] = []
    for project_id in sorted(projects):
        rows = session.scalars(
            select(ModelVersionRecord).where(
                ModelVersionRecord.project_id == project_id,
                ModelVersionRecord.trained_on_erased_at.is_(None),
            )
        ).all()
        for row in rows:
            if wanted.intersection(int(i) for i in row.training_ids or ()):
                row.trained_on_erased_at = now
                if row.shadow_status == "pending":  # never promoted now
                    row.shadow_status = "rejected"
                retired.append(f"project:{project_id}/v{row.version}")
    session.flush()
    retrain = sorted(retrain_after_erasure(session, sorted(projects))) if retired else []
    return Retirement(retired=sorted(retired), retrain=retrain)


def delete_retired_files(session: Session, store: ModelStore) -> list[str]:
    """Delete the model files of every retired version; returns the keys deleted.

    Idempotent: run after each erasure commits, it also catches files a crash between
    commit and deletion left behind.
    """
    rows = session.execute(
        select(ModelVersionRecord.project_id, ModelVersionRecord.version).where(
            ModelVersionRecord.trained_on_erased_at.is_not(None)
        )
    ).all()
    deleted = []
    for project, version in rows:
        key = model_key(int(project), int(version))
        try:
            if store.delete(key):
                deleted.append(key)
        except OSError:  # the erasure has committed: report, and the next run retries
            log.warning("could not delete the retired model file %s", key, exc_info=True)
    return sorted(deleted)


def labels_bought(session: Session, project_id: int) -> int:
    """Human labels on the project's non-gold items (what each model version records)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Label)
            .join(Item, Item.id == Label.item_id)
            .where(Label.project_id == project_id, Item.is_gold.is_(False))
        )
        or 0
    )
