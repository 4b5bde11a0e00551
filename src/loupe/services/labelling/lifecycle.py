"""An item's labelling lifecycle: the one owner of its labels' consequences.

Four use cases change the labels an item holds: a labeller submits
(:func:`loupe.services.labelling.labels.submit_label`), takes it back within the grace period
(:func:`loupe.services.labelling.undo.undo_label`), reviewers reject it
(:func:`loupe.services.labelling.reviews.submit_review`), or an expert or adjudicator settles the
item (:func:`loupe.services.labelling.escalations.resolve_escalation`). Each calls one
transition here, and only this module inserts or deletes label rows on that path,
writes ``items.label_count`` / ``items.is_complete`` and recomputes the consensus:

* :func:`label_added` — a labeller's new label;
* :func:`label_withdrawn` — a label undone by its labeller or rejected by its
  reviewers (then, perhaps, replaced by the reviewers' correction);
* :func:`escalation_settled` — the ladder's final answer, a label of whoever gave it;
* :func:`item_escalated` — flagged for the experts, the item leaves the crowd's queue;
* :func:`verdict_recorded` — a review verdict, which moves a free-text consensus.

A transition runs its steps in this order, and why:

1. **Reversal** (withdrawal only): the earning's reversal is appended first, while the
   label row still exists — the ledger reads the label it reverses.
2. **Label row**: insert or delete (a withdrawal's replacement goes in after the
   delete).
3. **Consensus**: recomputed from the labels left (deleted when none is left), or
   stored as the ladder's answer; a gold item records the gold check instead. It
   comes before the counters because, with dynamic overlap, the posterior decides
   whether the item is complete.
4. **Counters**: ``label_count`` and ``is_complete`` in one statement.
5. **``item.completed``** webhook (new labels only), once, when the new label has
   just completed the item.
6. **Reputation evidence**: after consensus, because consensus evidence scores each
   labeller against the answer just settled.
7. **Review sampling** (new labels only): the label may join the review queue.
8. **Effort check** (new labels only), on the label now stored.
9. **Earning** last: its rule depends on the gold check (``gold.failed``), and an
   earning is appended only once nothing above can refuse the label.

Every transition runs inside its caller's transaction on the raw-SQL path
(:mod:`loupe.db.raw`), the caller holding the lock that serialises it (the item row;
a review verdict holds the label's review-queue row too, taken after the item's), and
never commits.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from loupe.db.queries.consensus import DELETE_CONSENSUS
from loupe.db.queries.items import CLOSE_ITEM, SET_LABEL_COUNT, SET_LABEL_COUNT_AND_COMPLETE
from loupe.db.queries.labels import DELETE_LABEL, INSERT_LABEL, ITEM_ANSWERS, ITEM_LABEL_COUNT
from loupe.db.queries.ledger_entries import LABEL_HAS_ENTRY
from loupe.db.queries.review_queue import ENQUEUE_REVIEW
from loupe.db.raw import Raw
from loupe.errors import Conflict
from loupe.label_schema import Boxes, FreeText, LabelSchema, Task
from loupe.routing import ReviewPolicy
from loupe.services.access import Actor, ProjectRef
from loupe.services.labelling.answer_matching import answer_agreement, answer_matches
from loupe.services.labelling.consensus import Vote, store_consensus
from loupe.services.labelling.effort_checks import check_effort
from loupe.services.labelling.live_consensus import live_consensus
from loupe.services.payments.earnings import (
    correct_entry,
    decide_label,
    earn_for_label,
    earning_net,
)
from loupe.services.payments.ledger_keys import LedgerConfig
from loupe.services.people.standing import NewEvidence, record_evidence, record_many
from loupe.services.projects import webhooks
from loupe.services.quality.gold import GoldFeedback, record_gold

__all__ = [
    "SETTLED",
    "Added",
    "ItemState",
    "Replacement",
    "Withdrawn",
    "escalation_settled",
    "item_escalated",
    "label_added",
    "label_withdrawn",
    "verdict_recorded",
]

# Consensus this sure counts as evidence about the labellers' skill (reputation).
SETTLED = 0.8
_rng = random.SystemRandom()


@dataclass(frozen=True, slots=True)
class ItemState:
    """The item as its caller read (and locked) it, before the transition."""

    project: ProjectRef
    schema: LabelSchema
    item_id: int
    label_count: int
    domain: str = ""
    is_gold: bool = False
    is_complete: bool = False


@dataclass(frozen=True, slots=True)
class Added:
    label_id: int
    complete: bool
    gold: GoldFeedback | None  # set on a gold item


@dataclass(frozen=True, slots=True)
class Replacement:
    """A label that takes a withdrawn one's place (a reviewer's correction)."""

    user_id: int
    answer: Any


@dataclass(frozen=True, slots=True)
class Withdrawn:
    label_count: int
    correction_index: int | None  # the ledger correction appended by an undo
    replacement_id: int | None  # the label inserted in its place


def label_added(
    raw: Raw,
    session: Session,
    item: ItemState,
    *,
    user_id: int,
    answer: Any,
    lead_time_ms: int | None,
    ledger: LedgerConfig | None,
    now: datetime,
    rng: random.Random | None = None,
) -> Added:
    """Store a labeller's new label and run its consequences (steps 2-9)."""
    label_id = _insert_label(raw, item, user_id, answer, lead_time_ms=lead_time_ms, now=now)
    count = item.label_count + 1
    gold: GoldFeedback | None = None
    if item.is_gold:
        gold = _check_gold(raw, item, user_id, answer, now=now)
        complete, settled = False, None
    else:
        complete, settled = _settle_by_crowd(raw, item, count, now=now)
    _write_counters(raw, item.item_id, count, complete=complete)
    if complete and not item.is_complete:
        completed = {"item_id": item.item_id, "n_labels": count}
        webhooks.emit(raw, item.project.id, "item.completed", completed, now=now)
    if settled is not None:
        _score_agreement(raw, session, item, settled, now=now)
    if gold is not None:
        _gold_evidence(session, item, user_id, gold, now=now)
    _sample_for_review(raw, item, label_id=label_id, user_id=user_id, rng=rng, now=now)
    check_effort(
        raw,
        session,
        project_id=item.project.id,
        user_id=user_id,
        schema=item.schema,
        label_id=label_id,
        now=now,
    )
    failed = gold is not None and not gold.correct
    _earn(
        raw,
        session,
        ledger,
        item,
        user_id=user_id,
        label_id=label_id,
        answer=answer,
        rule="gold.failed" if failed else "label.accepted",
        now=now,
    )
    return Added(label_id=label_id, complete=complete, gold=gold)


def label_withdrawn(
    raw: Raw,
    session: Session,
    item: ItemState,
    *,
    label_id: int,
    why: Literal["undone", "rejected"],
    ledger: LedgerConfig | None,
    now: datetime,
    replacement: Replacement | None = None,
) -> Withdrawn:
    """Take a label back (steps 1-4): its earning reversed, the row deleted, perhaps
    replaced, the consensus redone, the item reopened if it drops under its overlap.

    ``undone``: the earning gets a ``correction.undone`` of minus what it netted, on the
    system's authority; ``rejected``: it is decided ``label.rejected``. Either way a
    label that earned and no ``ledger`` to reverse it with is a :class:`Conflict`.
    """
    correction = None
    if why == "undone":
        correction = _reverse_undone(session, ledger, label_id=label_id, now=now)
    else:
        _reverse_rejected(raw, session, ledger, label_id=label_id, now=now)
    raw.run(DELETE_LABEL, label=label_id)
    count = max(item.label_count - 1, 0)
    replacement_id = None
    if replacement is not None:
        replacement_id = _insert_label(
            raw, item, replacement.user_id, replacement.answer, lead_time_ms=None, now=now
        )
        count += 1
    _recompute_consensus(raw, item, now=now)
    _write_counters(raw, item.item_id, count, complete=count >= item.project.overlap)
    return Withdrawn(label_count=count, correction_index=correction, replacement_id=replacement_id)


def escalation_settled(
    raw: Raw,
    session: Session,
    item: ItemState,
    *,
    user_id: int | None,
    answer: Any,
    decided_by: str,
    ledger: LedgerConfig | None,
    now: datetime,
) -> bool:
    """The ladder's answer becomes the item's consensus (confidence 1, method
    ``decided_by``) and, unless they labelled it already, a label of ``user_id`` that
    earns per ``escalation.resolved``; each crowd labeller gets evidence for agreeing
    with it or not. Whether a label was added. The item stays complete as it is."""
    crowd = [
        (int(label.user_id), raw.json_out(label.answer))
        for label in raw.all(ITEM_ANSWERS, item=item.item_id)
    ]
    agrees = _agreement(item.schema, answer)
    agreeing = sum(1 for _, given in crowd if agrees(given))
    label_id = None
    if user_id is not None and all(user != user_id for user, _ in crowd):
        label_id = _insert_label(raw, item, user_id, answer, lead_time_ms=None, now=now)
    store_consensus(
        raw,
        project_id=item.project.id,
        item_id=item.item_id,
        vote=Vote(answer=answer, support=agreeing + 1, n_labels=len(crowd) + 1),
        confidence=1.0,
        method=decided_by,
        now=now,
    )
    if label_id is not None:
        _write_counters(raw, item.item_id, item.label_count + 1, complete=None)
    evidence = [
        NewEvidence(
            user,
            item.domain,
            "consensus",
            1.0 if agrees(given) else 0.0,
            f"escalation:item:{item.item_id}",
        )
        for user, given in crowd
        if user != user_id
    ]
    record_many(session, evidence, project_id=item.project.id, now=now)
    if label_id is not None:
        assert user_id is not None
        _earn(
            raw,
            session,
            ledger,
            item,
            user_id=user_id,
            label_id=label_id,
            answer=answer,
            rule="escalation.resolved",
            now=now,
        )
    return label_id is not None


def item_escalated(raw: Raw, item_id: int) -> None:
    """Flagged for the experts: the item is complete for the crowd (step 4 only)."""
    raw.run(CLOSE_ITEM, true=True, item=item_id)


def verdict_recorded(
    raw: Raw, project: ProjectRef, schema: LabelSchema, item_id: int, *, now: datetime
) -> None:
    """After a review that left the label standing: a free-text item's answer is the one
    its reviewers accept most surely, so its consensus is recomputed (step 3)."""
    if isinstance(schema.task, FreeText):
        live_consensus(
            raw,
            project_id=project.id,
            overlap=project.overlap,
            schema=schema,
            item_id=item_id,
            now=now,
        )


def _insert_label(
    raw: Raw,
    item: ItemState,
    user_id: int,
    answer: Any,
    *,
    lead_time_ms: int | None,
    now: datetime,
) -> int:
    inserted = raw.one(
        INSERT_LABEL,
        project=item.project.id,
        item=item.item_id,
        user=user_id,
        answer=raw.json(answer),
        version=item.project.config_version,
        lead=lead_time_ms,
        now=raw.time(now),
    )
    assert inserted is not None
    return int(inserted.id)


def _write_counters(raw: Raw, item_id: int, count: int, *, complete: bool | None) -> None:
    """The one write of ``label_count`` (and ``is_complete``, unless ``None``)."""
    if complete is None:
        raw.run(SET_LABEL_COUNT, count=count, item=item_id)
    else:
        raw.run(SET_LABEL_COUNT_AND_COMPLETE, count=count, complete=complete, item=item_id)


def _settle_by_crowd(raw: Raw, item: ItemState, count: int, *, now: datetime) -> tuple[bool, Any]:
    """Recompute the consensus after a new label: whether the item is now complete, and
    the settled answer when it is sure enough (:data:`SETTLED`) to score labellers by."""
    project = item.project
    consensus = live_consensus(
        raw,
        project_id=project.id,
        overlap=project.overlap,
        schema=item.schema,
        item_id=item.item_id,
        now=now,
    )
    if consensus.decision == "count":
        complete = count >= project.overlap
    else:  # dynamic overlap: the posterior decides
        complete = consensus.decision != "needs_more" or count >= project.overlap
    sure = complete and count > 1 and consensus.confidence >= SETTLED
    return complete, (consensus.vote.answer if sure else None)


def _recompute_consensus(raw: Raw, item: ItemState, *, now: datetime) -> None:
    left = raw.one(ITEM_LABEL_COUNT, item=item.item_id)
    if left is not None and int(left.labels) > 0:
        live_consensus(
            raw,
            project_id=item.project.id,
            overlap=item.project.overlap,
            schema=item.schema,
            item_id=item.item_id,
            now=now,
        )
    else:
        raw.run(DELETE_CONSENSUS, item=item.item_id)


def _check_gold(
    raw: Raw, item: ItemState, user_id: int, answer: Any, *, now: datetime
) -> GoldFeedback:
    return record_gold(
        raw,
        project_id=item.project.id,
        item_id=item.item_id,
        user_id=user_id,
        answer=answer,
        policy=item.schema.quality,
        now=now,
        task=item.schema.task,
    )


def _gold_evidence(
    session: Session, item: ItemState, user_id: int, gold: GoldFeedback, *, now: datetime
) -> None:
    record_evidence(
        session,
        user_id=user_id,
        domain=item.domain,
        project_id=item.project.id,
        kind="gold",
        success=1.0 if gold.correct else 0.0,
        ref=f"gold:item:{item.item_id}",
        now=now,
    )


def _score_agreement(
    raw: Raw, session: Session, item: ItemState, settled: Any, *, now: datetime
) -> None:
    """Once an item is settled with confidence, each of its labellers gets a piece of
    reputation evidence for agreeing with the settled answer (weighted a quarter of a
    gold answer: consensus can be wrong where gold cannot). Boxes and segments are never
    drawn to the pixel or millisecond alike: their evidence is the F1 of the labeller's
    against the fused ones; a transcript's is one minus its word error rate against the
    fused transcript (:func:`loupe.services.labelling.answer_matching.answer_agreement`)."""
    task: Task = item.schema.task
    evidence = [
        NewEvidence(
            int(label.user_id),
            item.domain,
            "consensus",
            answer_agreement(task, raw.json_out(label.answer), settled),
            f"consensus:item:{item.item_id}",
        )
        for label in raw.all(ITEM_ANSWERS, item=item.item_id)
    ]
    record_many(session, evidence, project_id=item.project.id, now=now)


def _agreement(schema: LabelSchema, settled: Any) -> Callable[[Any], bool]:
    """Whether a crowd answer agrees with the ``settled`` one: equal, or for boxes and
    segments the same objects, for transcripts within the gold WER threshold (a
    gold-level match,
    :func:`loupe.services.labelling.answer_matching.answer_matches`), since two people
    never draw a box to the same pixel nor type a sentence to the same comma."""
    task, max_wer = schema.task, schema.quality.gold_max_wer
    return lambda given: answer_matches(task, given, settled, max_wer=max_wer)


def _sample_for_review(
    raw: Raw,
    item: ItemState,
    *,
    label_id: int,
    user_id: int,
    rng: random.Random | None,
    now: datetime,
) -> bool:
    """Queue a new label for review with probability ``review.rate``."""
    policy: ReviewPolicy = item.schema.review
    if policy.rate <= 0 or (policy.rate < 1 and (rng or _rng).random() >= policy.rate):
        return False
    raw.run(
        ENQUEUE_REVIEW,
        label=label_id,
        project=item.project.id,
        item=item.item_id,
        user=user_id,
        needed=policy.reviews_per_label,
        now=raw.time(now),
    )
    return True


def _earn(
    raw: Raw,
    session: Session,
    ledger: LedgerConfig | None,
    item: ItemState,
    *,
    user_id: int,
    label_id: int,
    answer: Any,
    rule: str,
    now: datetime,
) -> None:
    """Append the label's earning per the project's rate card, if it has one."""
    earn_for_label(
        raw,
        session,
        ledger,
        project_id=item.project.id,
        task_type=str(item.project.config.get("task", {}).get("type", "*")),
        item_id=item.item_id,
        domain=item.domain,
        user_id=user_id,
        label_id=label_id,
        now=now,
        rule=rule,
        boxes=len(answer) if isinstance(item.schema.task, Boxes) else 0,
    )


def _reverse_undone(
    session: Session, ledger: LedgerConfig | None, *, label_id: int, now: datetime
) -> int | None:
    # From the logged bytes, each entry checked against its columns: an edited amount
    # refuses the undo (naming the position) instead of reversing the wrong sum.
    earning = earning_net(session, label_id, secret=ledger.keys.secret if ledger else None)
    if earning is None:
        return None
    index, net = earning
    if net == 0:
        return None
    if ledger is None:
        raise Conflict(
            "this label earned a payment, and reversing it needs the ledger keys; "
            "configure LOUPE_KEY_DIR (created by `loupe init`)",
            details={"label_id": label_id},
        )
    return correct_entry(
        session, Actor.system(), ledger, index, amount_minor=-net, reason="undone", now=now
    )


def _reverse_rejected(
    raw: Raw, session: Session, ledger: LedgerConfig | None, *, label_id: int, now: datetime
) -> None:
    if raw.one(LABEL_HAS_ENTRY, label=label_id) is None:
        return
    if ledger is None:
        raise Conflict(
            "the rejected label earned a payment, and reversing it needs the ledger keys; "
            "configure LOUPE_KEY_DIR (created by `loupe init`)",
            details={"label_id": label_id},
        )
    decide_label(session, Actor.system(), ledger, label_id, "label.rejected", now=now)
