"""Paying contributors: rate cards, earnings, bonuses, corrections, balances and payouts.

Every credit or debit is a log entry (see :mod:`loupe.services.payments.ledger_store`) appended in
the transaction of the work it pays for. Amounts are integer minor units of a currency.

Rules (the ``rule`` field of an entry) say why an amount moved:

* ``label.accepted``: an accepted label earns its rate (for now every submitted label is
  accepted; the quality engine will call :func:`decide_label` instead);
* ``gold.failed`` and ``label.rejected``: the label earns 0. A label already paid gets a
  ``correction`` of minus what it netted, naming the earning; entries are never edited;
* the amount of an earning is the rate card's price times the labeller's reputation tier
  multiplier in the item's domain (unless the card sets ``reputation_multipliers: false``);
* ``bonus.<name>``: a bonus from the rate card (``expert``, ``review``, ...);
* ``correction.<reason>``: a manual correction; ``payout``: a payout batch's debit.

A zero amount is never a leaf (the entry format requires positive credits), so a label
that earns 0 and was never paid leaves no entry.

Balances and payouts are sums of the decoded leaves, never of the columns beside them;
each column is checked against its leaf on the way
(:class:`~loupe.services.payments.ledger_store.ColumnCheck`) and a disagreement refuses with the
entry's position. A balance may go below zero (a label rejected after its earning was paid
out): the debt is carried forward, netted against later earnings, and never paid out —
a payout only pays balances of at least ``minimum_minor`` (≥ 1), see docs/payments.md.

Example (in a transaction)::

    create_rate_card(session, manager, project_id, {"currency": "EUR",
        "rates": [{"amount_minor": 5}, {"domain": "medical", "amount_minor": 12}]})
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loupe.db.ledger_models import LedgerEntry, Payout, RateCard
from loupe.db.models import Item, Label, User, utcnow
from loupe.db.queries.item_media import AUDIO_MS_OF_ITEM
from loupe.db.queries.rate_cards import CARD_AND_TIER
from loupe.db.queries.reputations import TIER_IN_DOMAIN
from loupe.db.raw import Raw
from loupe.errors import Conflict, InvalidInput, NotFound
from loupe.ledger.entries import PaymentEntry, contributor_pseudonym, item_digest, utc_seconds
from loupe.reputation import TIER_UNLOCKS, Tier
from loupe.services.access import Actor, authorize, authorize_project
from loupe.services.payments.ledger_keys import LedgerConfig
from loupe.services.payments.ledger_store import (
    ColumnCheck,
    NewEntry,
    append_entries,
    checked_entries,
    iter_stored_chunks,
    iter_stored_matching,
    latest_checkpoint,
    leaf_hash_at,
    lock_ledger,
    publish_checkpoint,
    user_stored_entries,
)
from loupe.services.projects import webhooks

__all__ = [
    "Balance",
    "Rate",
    "RateCardSpec",
    "balances",
    "balances_of",
    "correct_entry",
    "create_payout",
    "create_rate_card",
    "current_rate_card",
    "decide_label",
    "earn_for_label",
    "earning_net",
    "grant_bonus",
    "list_payouts",
    "list_rate_cards",
    "price",
    "project_spending",
]

BASIS_POINTS = 10_000
_RULE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
Decision = Literal["label.accepted", "gold.failed", "label.rejected"]


class Rate(BaseModel):
    """One price: ``*`` matches anything; the most specific matching rate wins."""

    model_config = ConfigDict(extra="forbid")

    task_type: str = Field(default="*", max_length=64, description="e.g. single_choice")
    domain: str = Field(default="*", max_length=32, description="the item's domain")
    tier: str = Field(
        default="*", max_length=16, description="the labeller's project role, e.g. reviewer"
    )
    amount_minor: int = Field(ge=0, le=10**12)
    per_box_minor: int = Field(
        default=0,
        ge=0,
        le=10**9,
        description="added per box drawn (a boxes task): amount_minor is then per image",
    )
    per_audio_second_minor: int = Field(
        default=0,
        ge=0,
        le=10**9,
        description="added per second of the item's audio (its media parts of kind audio, "
        "summed), the total rounded up to a whole minor unit",
    )


class RateCardSpec(BaseModel):
    """A rate card's content. Multipliers are basis points (10,000 = 1x), never floats."""

    model_config = ConfigDict(extra="forbid")

    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR")
    rates: list[Rate] = Field(min_length=1, max_length=1000)
    quality_multipliers_bp: dict[str, int] = Field(
        default_factory=dict, description="rule -> basis points, e.g. label.accepted: 10000"
    )
    bonuses_minor: dict[str, int] = Field(
        default_factory=dict, description="bonus name -> amount, e.g. expert: 20, review: 5"
    )
    reputation_multipliers: bool = Field(
        default=True,
        description="Scale each earning by the labeller's reputation tier in the item's domain "
        "(loupe.reputation.TIER_UNLOCKS: trusted 1.1x, expert 1.25x; new and standard 1x)",
    )

    @field_validator("quality_multipliers_bp")
    @classmethod
    def _multipliers(cls, value: dict[str, int]) -> dict[str, int]:
        for rule, points in value.items():
            if not _RULE.match(rule) or not 0 <= points <= 100 * BASIS_POINTS:
                raise ValueError(f"{rule!r}: a dotted rule name with 0..1000000 basis points")
        return value

    @field_validator("bonuses_minor")
    @classmethod
    def _bonuses(cls, value: dict[str, int]) -> dict[str, int]:
        for name, amount in value.items():
            if not _NAME.match(name) or not 0 < amount <= 10**12:
                raise ValueError(f"{name!r}: a lowercase name with a positive amount")
        return value


def price(
    card: dict[str, Any],
    *,
    task_type: str,
    domain: str,
    tier: str,
    rule: str = "label.accepted",
    boxes: int = 0,
    audio_ms: int = 0,
) -> int:
    """The amount a rate card pays: the most specific matching rate (its ``amount_minor``
    plus ``per_box_minor`` for each of the label's ``boxes`` plus ``per_audio_second_minor``
    for each second of ``audio_ms``, rounded up) times the multiplier.

    >>> card = {"rates": [{"amount_minor": 5}, {"domain": "med", "amount_minor": 12}],
    ...         "quality_multipliers_bp": {"label.accepted": 15000}}
    >>> price(card, task_type="single_choice", domain="med", tier="annotator")
    18
    >>> price({"rates": [{"amount_minor": 4, "per_box_minor": 2}]}, task_type="boxes",
    ...       domain="general", tier="annotator", boxes=3)
    10
    >>> price({"rates": [{"amount_minor": 1, "per_audio_second_minor": 2}]},
    ...       task_type="segments", domain="general", tier="annotator", audio_ms=4_250)
    10
    """
    best, best_score = None, -1
    for rate in card["rates"]:
        score = 0
        for field, value in (("task_type", task_type), ("domain", domain), ("tier", tier)):
            wanted = rate.get(field, "*")
            if wanted == value:
                score += 1
            elif wanted != "*":
                break
        else:
            if score > best_score:
                best, best_score = rate, score
    if best is None:
        return 0
    points = card.get("quality_multipliers_bp", {}).get(rule, BASIS_POINTS)
    amount = int(best["amount_minor"]) + int(best.get("per_box_minor", 0)) * boxes
    # Per audio second, in integers: ceil(rate * ms / 1000).
    amount += -(-int(best.get("per_audio_second_minor", 0)) * max(audio_ms, 0) // 1000)
    return amount * int(points) // BASIS_POINTS


def rate_card_version(project_id: int, version: int) -> str:
    return f"p{project_id}.v{version}"


# --- rate cards ---------------------------------------------------------------------------


def create_rate_card(
    session: Session, actor: Actor, project_id: int, card: dict[str, Any]
) -> RateCard:
    """A new version of the project's rate card (the old ones stay, unchanged)."""
    authorize_project(session, actor, "payments.manage", project_id)
    try:
        spec = RateCardSpec.model_validate(card)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "card"
        raise InvalidInput(f"{field}: {error['msg']}", details={"field": field}) from None
    latest = session.scalar(
        select(func.max(RateCard.version)).where(RateCard.project_id == project_id)
    )
    row = RateCard(
        project_id=project_id,
        version=(latest or 0) + 1,
        currency=spec.currency,
        card=spec.model_dump(),
        created_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    return row


def list_rate_cards(session: Session, actor: Actor, project_id: int) -> Sequence[RateCard]:
    """Every version, newest first; project members see what they are paid."""
    authorize_project(session, actor, "projects.read", project_id)
    return session.scalars(
        select(RateCard).where(RateCard.project_id == project_id).order_by(RateCard.version.desc())
    ).all()


def current_rate_card(session: Session, project_id: int) -> RateCard:
    card = session.scalar(
        select(RateCard)
        .where(RateCard.project_id == project_id)
        .order_by(RateCard.version.desc())
        .limit(1)
    )
    if card is None:
        raise Conflict(
            f"project {project_id} has no rate card; create one first",
            details={"project_id": project_id},
        )
    return card


# --- earnings (the submit hot path) -------------------------------------------------------


def earn_for_label(
    raw: Raw,
    session: Session,
    ledger: LedgerConfig | None,
    *,
    project_id: int,
    task_type: str,
    item_id: int,
    domain: str,
    user_id: int,
    label_id: int,
    now: datetime,
    rule: str = "label.accepted",
    boxes: int = 0,
) -> int | None:
    """Append the earning of a new label; return its index (``None``: nothing earned).
    ``boxes``: how many boxes the label drew (a boxes task; priced per box by the card);
    a card with ``per_audio_second_minor`` prices the item's audio length (item_media).

    One statement when the project has no rate card; otherwise the rate card, then the
    append (lock, frontier, nodes, entry, size).
    """
    row = raw.one(CARD_AND_TIER, project=project_id, user=user_id)
    if row is None:
        return None
    card = raw.json_out(row.card)
    audio_ms = 0
    if any(rate.get("per_audio_second_minor") for rate in card["rates"]):
        audio = raw.one(AUDIO_MS_OF_ITEM, item=item_id)
        audio_ms = int(audio.audio_ms) if audio is not None else 0
    amount = price(
        card,
        task_type=task_type,
        domain=domain,
        tier=row.role or "*",
        rule=rule,
        boxes=boxes,
        audio_ms=audio_ms,
    )
    if amount > 0 and card.get("reputation_multipliers", True):
        standing = raw.one(TIER_IN_DOMAIN, user=user_id, domain=domain)
        if standing is not None and standing.tier in TIER_UNLOCKS:
            tier = cast(Tier, standing.tier)  # checked on the line above
            amount = amount * TIER_UNLOCKS[tier].pay_multiplier_bp // BASIS_POINTS
    if amount <= 0:
        return None
    if ledger is None:
        raise Conflict(
            f"project {project_id} pays per label, but no ledger keys were given to record "
            "the earning; configure LOUPE_KEY_DIR (created by `loupe init`)",
            details={"project_id": project_id},
        )
    secret = ledger.keys.secret
    entry = PaymentEntry(
        kind="earning",
        contributor=contributor_pseudonym(str(user_id), secret=secret),
        item=item_digest(str(item_id), secret=secret),
        amount_minor=amount,
        currency=card["currency"],
        rule=rule,
        rate_card_version=rate_card_version(project_id, int(row.version)),
        timestamp=utc_seconds(now),
    )
    new = NewEntry(entry=entry, user_id=user_id, project_id=project_id, label_id=label_id)
    (index,) = append_entries(
        session, [new], keys=ledger.keys, checkpoint_every=ledger.checkpoint_every, now=now
    )
    return index


def decide_label(
    session: Session,
    actor: Actor,
    ledger: LedgerConfig,
    label_id: int,
    decision: Decision,
    *,
    now: datetime | None = None,
) -> int | None:
    """Apply the quality engine's decision on a label; return the new entry's index.

    ``label.accepted`` earns the label if it has not earned yet; ``gold.failed`` and
    ``label.rejected`` bring what it netted to 0 with a correction naming the earning.
    """
    now = now or utcnow()
    label = session.get(Label, label_id)
    if label is None:
        raise NotFound(f"label {label_id} does not exist", details={"label_id": label_id})
    project = authorize_project(session, actor, "payments.manage", label.project_id)
    earning = session.scalar(select(LedgerEntry).where(LedgerEntry.label_id == label_id))
    if decision == "label.accepted":
        if earning is not None:
            return None
        item = session.get(Item, label.item_id)
        assert item is not None
        task_type = str(project.config.get("task", {}).get("type", "*"))
        return earn_for_label(
            Raw(session),
            session,
            ledger,
            project_id=project.id,
            task_type=task_type,
            item_id=label.item_id,
            domain=item.domain,
            user_id=label.user_id,
            label_id=label_id,
            now=now,
            boxes=len(label.answer) if task_type == "boxes" else 0,
        )
    if earning is None:
        return None
    found = earning_net(session, label_id, secret=ledger.keys.secret)
    net = found[1] if found else 0
    if net == 0:
        return None
    return _correct(session, ledger, earning, -net, decision, now)


def earning_net(session: Session, label_id: int, *, secret: bytes | None) -> tuple[int, int] | None:
    """The index of ``label_id``'s earning and what it nets after its corrections, summed
    from their leaves (each checked against its columns: :class:`LedgerIntegrityError`
    naming the position otherwise); ``None`` when the label never earned."""
    check = ColumnCheck(session, secret)
    found = [
        pair
        for chunk in iter_stored_matching(session, label_id=label_id)
        for pair in checked_entries(check, chunk)
    ]
    if not found:
        return None
    ((row, entry),) = found  # label_id is unique
    net = entry.balance_change
    for chunk in iter_stored_matching(session, corrects=row.index):
        net += sum(correction.balance_change for _, correction in checked_entries(check, chunk))
    return row.index, net


def _correct(
    session: Session,
    ledger: LedgerConfig,
    original: LedgerEntry,
    amount: int,
    rule: str,
    now: datetime,
) -> int:
    source = PaymentEntry.decode(original.leaf)
    entry = PaymentEntry(
        kind="correction",
        contributor=source.contributor,
        item=source.item,
        amount_minor=amount,
        currency=source.currency,
        rule=rule,
        rate_card_version=source.rate_card_version,
        timestamp=utc_seconds(now),
        corrects=original.idx,
    )
    new = NewEntry(entry=entry, user_id=original.user_id, project_id=original.project_id)
    (index,) = append_entries(
        session, [new], keys=ledger.keys, checkpoint_every=ledger.checkpoint_every, now=now
    )
    return index


def correct_entry(
    session: Session,
    actor: Actor,
    ledger: LedgerConfig,
    index: int,
    *,
    amount_minor: int,
    reason: str,
    now: datetime | None = None,
) -> int:
    """Append a manual correction of ``amount_minor`` (signed) to entry ``index``."""
    authorize(actor, "payouts.manage")
    if not _NAME.match(reason):
        raise InvalidInput(
            "reason: one lowercase word such as 'overpaid' (letters, digits, '_')",
            details={"field": "reason"},
        )
    if amount_minor == 0:
        raise InvalidInput(
            "amount_minor: a correction must be non-zero", details={"field": "amount_minor"}
        )
    original = session.get(LedgerEntry, index)
    if original is None:
        raise NotFound(f"ledger entry {index} does not exist", details={"index": index})
    if original.kind == "payout":
        raise Conflict(
            "a payout is corrected by the payment provider's refund, not by the ledger",
            details={"index": index},
        )
    return _correct(
        session, ledger, original, amount_minor, f"correction.{reason}", now or utcnow()
    )


def grant_bonus(
    session: Session,
    actor: Actor,
    ledger: LedgerConfig,
    project_id: int,
    *,
    user_id: int,
    bonus: str,
    item_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Credit the rate card's ``bonus`` (e.g. expert or review work) to a contributor."""
    authorize_project(session, actor, "payments.manage", project_id)
    if session.get(User, user_id) is None:
        raise NotFound(f"user {user_id} does not exist", details={"user_id": user_id})
    card = current_rate_card(session, project_id)
    amount = card.card.get("bonuses_minor", {}).get(bonus)
    if amount is None:
        names = sorted(card.card.get("bonuses_minor", {}))
        raise InvalidInput(
            f"bonus: rate card v{card.version} has no bonus {bonus!r}; it has {names}",
            details={"field": "bonus", "allowed": names},
        )
    now = now or utcnow()
    secret = ledger.keys.secret
    entry = PaymentEntry(
        kind="bonus",
        contributor=contributor_pseudonym(str(user_id), secret=secret),
        item=item_digest(str(item_id), secret=secret) if item_id is not None else None,
        amount_minor=int(amount),
        currency=card.currency,
        rule=f"bonus.{bonus}",
        rate_card_version=rate_card_version(project_id, card.version),
        timestamp=utc_seconds(now),
    )
    new = NewEntry(entry=entry, user_id=user_id, project_id=project_id)
    (index,) = append_entries(
        session, [new], keys=ledger.keys, checkpoint_every=ledger.checkpoint_every, now=now
    )
    return index


# --- balances and payouts -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Balance:
    currency: str
    earned_minor: int  # earnings, bonuses and corrections
    paid_out_minor: int
    balance_minor: int  # below zero: owed back, netted against later earnings

    @property
    def owed_back_minor(self) -> int:
        """What the contributor owes back (a rejection after a payout), else 0."""
        return max(0, -self.balance_minor)


def balances_of(entries: Iterable[PaymentEntry]) -> list[Balance]:
    """Balances per currency summed from decoded entries (no database column involved)."""
    totals: dict[str, list[int]] = {}
    for entry in entries:
        total = totals.setdefault(entry.currency, [0, 0])
        total[0] += entry.balance_change
        if entry.kind == "payout":
            total[1] += entry.amount_minor
    return [
        Balance(
            currency=currency,
            earned_minor=balance + paid,
            paid_out_minor=paid,
            balance_minor=balance,
        )
        for currency, (balance, paid) in sorted(totals.items())
    ]


def balances(session: Session, user_id: int, *, secret: bytes | None) -> list[Balance]:
    """A contributor's balance per currency, summed from the leaves of their entries.

    Refuses (:class:`LedgerIntegrityError` naming the position) when a column beside one
    of them disagrees with its leaf. Without the ledger ``secret`` only an empty wallet
    can be shown.
    """
    check = ColumnCheck(session, secret)
    rows = user_stored_entries(session, user_id)
    return balances_of(entry for _, entry in checked_entries(check, rows))


def project_spending(session: Session, project_id: int) -> dict[str, int]:
    """What a project has spent per currency (earnings, bonuses and corrections; payouts
    only move money already counted), summed from the leaves of its entries.

    Each entry is checked against its columns first (:class:`LedgerIntegrityError` naming
    the position when one disagrees); whose entry it is does not change the sum, so the
    ledger secret is not needed.
    """
    check = ColumnCheck(session, None)
    key = (str(session.get_bind().engine.url), project_id)
    last, last_hash, cached = _SPENT.get(key, (-1, b"", {}))
    if last >= 0 and leaf_hash_at(session, last) != last_hash:
        last, cached = -1, {}  # another database behind the same URL, or a rewritten log
    totals = dict(cached)
    for chunk in iter_stored_matching(session, project_id=project_id, after_index=last):
        for row, entry in checked_entries(check, chunk):
            if entry.kind != "payout":
                totals[entry.currency] = totals.get(entry.currency, 0) + entry.balance_change
            last, last_hash = row.index, row.leaf_hash
    if len(_SPENT) >= MAX_SPENT_CACHE:
        _SPENT.clear()
    _SPENT[key] = (last, last_hash, totals)
    return dict(sorted(totals.items()))


# The log is append-only, so a project's spending is carried forward from the entries
# already summed (and checked) in this process: a dashboard view reads only new entries.
# A changed leaf hash at the last entry read (a truncated, restored or rewritten log)
# starts the sum again; edits further back are `loupe ledger verify`'s to find.
_SPENT: dict[tuple[str, int], tuple[int, bytes, dict[str, int]]] = {}
MAX_SPENT_CACHE = 1_000


def create_payout(
    session: Session,
    actor: Actor,
    ledger: LedgerConfig,
    *,
    currency: str,
    minimum_minor: int = 1,
    now: datetime | None = None,
) -> Payout:
    """Pay every contributor whose balance in ``currency`` is at least ``minimum_minor``.

    Each payment is a ``payout`` entry debiting the whole balance, in one append batch,
    sealed by a signed checkpoint (the one payout files cite). Balances are summed from
    every leaf of the log, each checked against its columns first: one that disagrees
    refuses the whole batch. A negative balance is carried forward, never paid.
    """
    authorize(actor, "payouts.manage")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidInput("currency: an ISO 4217 code such as EUR", details={"field": "currency"})
    if minimum_minor < 1:
        raise InvalidInput("minimum_minor: must be at least 1", details={"field": "minimum_minor"})
    now = now or utcnow()
    lock_ledger(session)  # no earning may slip in between the balances and the debits
    check = ColumnCheck(session, ledger.keys.secret)
    totals: dict[int, int] = {}
    for chunk in iter_stored_chunks(session, 10_000):
        for row, entry in checked_entries(check, chunk):
            if row.user_id is not None and entry.currency == currency:  # None: erased user
                totals[row.user_id] = totals.get(row.user_id, 0) + entry.balance_change
    owed = sorted((user, amount) for user, amount in totals.items() if amount >= minimum_minor)
    if not owed:
        raise Conflict(
            f"no contributor is owed at least {minimum_minor} {currency} minor units",
            details={"currency": currency},
        )
    payout = Payout(
        currency=currency,
        total_minor=sum(int(amount) for _, amount in owed),
        n_entries=len(owed),
        created_by=actor.user_id,
        created_at=now,
    )
    session.add(payout)
    session.flush()
    secret = ledger.keys.secret
    entries = [
        NewEntry(
            entry=PaymentEntry(
                kind="payout",
                contributor=contributor_pseudonym(str(user_id), secret=secret),
                amount_minor=int(amount),
                currency=currency,
                rule="payout",
                rate_card_version=f"payout-{payout.id}",
                timestamp=utc_seconds(now),
            ),
            user_id=user_id,
            payout_id=payout.id,
        )
        for user_id, amount in owed
    ]
    indices = append_entries(
        session, entries, keys=ledger.keys, checkpoint_every=ledger.checkpoint_every, now=now
    )
    sealed = latest_checkpoint(session)
    if sealed is None or sealed.size != indices[-1] + 1:
        publish_checkpoint(session, ledger.keys, now=now)
    paid = [user for user, _ in owed]
    webhooks.payout_made(session, payout_id=payout.id, currency=currency, user_ids=paid, now=now)
    return payout


def list_payouts(session: Session, actor: Actor) -> Sequence[Payout]:
    authorize(actor, "payouts.manage")
    return session.scalars(select(Payout).order_by(Payout.id.desc())).all()
