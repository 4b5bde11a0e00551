"""What the SDK returns: one pydantic model per response body of the HTTP API.

Each model names the OpenAPI component it mirrors (``schema_name``);
``tests/client/test_drift.py`` checks the fields against ``docs/openapi.json``,
so a renamed or added field fails a test rather than a user. Unknown fields a
newer server sends are ignored. Nested free-form parts (a project's label
schema, a rate card, metrics) stay ``dict[str, Any]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from loupe.ledger.verify import Checkpoint

__all__ = [
    "Agreement",
    "Balance",
    "Comment",
    "ConsistencyProof",
    "ContributorCount",
    "CreatedWebhook",
    "DayCount",
    "Delivery",
    "DeliveryPage",
    "GoldFeedback",
    "GoldMarked",
    "GoldStat",
    "Health",
    "ImportResult",
    "InclusionProof",
    "IssuedToken",
    "Item",
    "Label",
    "LedgerIndex",
    "Media",
    "MediaRegion",
    "Member",
    "Model",
    "ModelVersion",
    "Page",
    "PairStat",
    "Payout",
    "Prediction",
    "PredictionAgreement",
    "PredictionsResult",
    "Progress",
    "Project",
    "ProjectDeletion",
    "Quality",
    "RateCard",
    "Refit",
    "Served",
    "SignedCheckpoint",
    "StrategyAgreement",
    "Submission",
    "Task",
    "Token",
    "Undone",
    "User",
    "Wallet",
    "WalletEntry",
    "Webhook",
]

T = TypeVar("T", bound="Model")


class Model(BaseModel):
    """Base of every response model: immutable, tolerant of fields it does not know."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    schema_name: ClassVar[str] = ""


class Page(BaseModel, Generic[T]):
    """One page of a list: ``next_after`` is the cursor of the next page (``None``: last)."""

    model_config = ConfigDict(frozen=True)

    items: list[T]
    next_after: int | None


class Health(Model):
    schema_name = "Health"
    status: str
    version: str


class User(Model):
    schema_name = "UserOut"
    id: int
    username: str
    display_name: str
    role: str
    is_active: bool
    created_at: datetime


class Token(Model):
    """An API token (never its secret, which :class:`IssuedToken` holds once)."""

    schema_name = "TokenOut"
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None


class IssuedToken(Token):
    """A new token with its secret: store ``token`` now, it is not shown again."""

    schema_name = "TokenIssued"
    token: str


class Project(Model):
    schema_name = "ProjectOut"
    id: int
    name: str
    description: str
    config: dict[str, Any]
    config_version: int
    guidelines: str
    overlap: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None


class ProjectDeletion(Model):
    """What deleting a project removed (the payment log keeps its entries)."""

    schema_name = "ProjectDeletionOut"
    project_id: int
    name: str
    items_deleted: int
    labels_deleted: int
    comments_deleted: int
    keys_shredded: int
    ledger_entries_kept: int
    model_files_deleted: list[str]
    storage: dict[str, Any]


class Member(Model):
    schema_name = "MemberOut"
    project_id: int
    user_id: int
    role: str


class MediaRegion(Model):
    """A region the privacy gate pixelated (its type and box, never what it held)."""

    schema_name = "MediaRegionOut"
    type: str
    x: int
    y: int
    width: int
    height: int


class Media(Model):
    """One media part of an item: fetch its gated bytes with
    ``client.items.download_media(media.sha256)``. For a recording you may not hear (no
    voice clearance for the project), ``url`` and ``sha256`` are ``None`` and
    ``restricted`` is ``"voice"``."""

    schema_name = "MediaOut"
    field: str
    kind: str
    url: str | None
    sha256: str | None
    mime: str
    width: int | None
    height: int | None
    regions: list[MediaRegion]
    duration_ms: int | None = None
    sample_rate: int | None = None
    restricted: str | None = None


class Item(Model):
    schema_name = "ItemOut"
    id: int
    external_id: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    domain: str
    language: str | None
    is_complete: bool
    label_count: int
    created_at: datetime
    media: list[Media] = []


class Comment(Model):
    """A comment on an item; ``author`` is shown to managers, auditors and admins only."""

    schema_name = "CommentOut"
    id: int
    item_id: int
    body: str
    redacted: bool
    mine: bool
    author: str | None
    created_at: datetime


class ImportResult(Model):
    schema_name = "ImportOut"
    received: int
    created: int
    existing: int
    withheld: int


class Task(Model):
    """An item reserved for you until ``lease_expires_at``."""

    schema_name = "TaskOut"
    item_id: int
    external_id: str
    data: dict[str, Any]
    domain: str
    language: str | None
    config_version: int
    lease_expires_at: datetime
    media: list[Media] = []


class Label(Model):
    schema_name = "LabelOut"
    id: int
    item_id: int
    user_id: int | None
    answer: Any
    lead_time_ms: int | None
    config_version: int
    created_at: datetime


class GoldFeedback(Model):
    schema_name = "GoldFeedbackOut"
    correct: bool
    expected: Any
    paused: bool


class Submission(Label):
    """A submitted label; ``gold`` is set when the item was a gold item shown as one."""

    schema_name = "SubmitOut"
    gold: GoldFeedback | None = None


class Undone(Model):
    schema_name = "UndoOut"
    item_id: int
    label_id: int
    answer: Any
    label_count: int
    correction_index: int | None


class GoldStat(Model):
    schema_name = "GoldStatOut"
    user_id: int
    answered: int
    correct: int
    accuracy: float
    ci_low: float
    ci_high: float
    paused_reason: str | None


class PairStat(Model):
    schema_name = "PairStatOut"
    user_a: int
    user_b: int
    shared_items: int
    observed: float
    kappa: float | None


class Quality(Model):
    schema_name = "QualityOut"
    agreement_definition: str
    n_labels: int
    n_items_labelled: int
    n_items_paired: int
    fleiss_kappa: float | None
    fleiss_kappa_per_label: dict[str, Any]
    krippendorff_alpha: float | None
    escalated: int
    gold: list[GoldStat]
    pairwise: list[PairStat]
    skills: dict[str, Any]


class Agreement(Model):
    schema_name = "loupe__schemas__AgreementOut"
    definition: str
    fleiss_kappa: float | None
    krippendorff_alpha: float | None
    items: int
    labels: int


class DayCount(Model):
    schema_name = "DayCountOut"
    day: date
    labels: int


class ContributorCount(Model):
    schema_name = "ContributorCountOut"
    username: str
    labels: int


class Progress(Model):
    """Where a project's items stand; the counts add up to ``items``."""

    schema_name = "ProgressOut"
    project_id: int
    name: str
    overlap: int
    items: int
    labelled: int
    labels: int
    model_resolved: int
    settled: int
    waiting: int
    gold: int
    withheld: int
    per_day: list[DayCount]
    contributors: list[ContributorCount]
    agreement: Agreement
    cost: dict[str, Any] | None


class Refit(Model):
    schema_name = "RefitOut"
    project_id: int
    method: str
    n_items: int
    n_labels: int
    n_workers: int


class GoldMarked(Model):
    schema_name = "GoldOut"
    marked: int


class RateCard(Model):
    schema_name = "RateCardOut"
    id: int
    project_id: int
    version: int
    currency: str
    card: dict[str, Any]
    created_by: int | None
    created_at: datetime


class Payout(Model):
    schema_name = "PayoutOut"
    id: int
    currency: str
    total_minor: int
    n_entries: int
    created_by: int | None
    created_at: datetime


class LedgerIndex(Model):
    """The index of the ledger entry a call appended."""

    schema_name = "EntryCreated"
    index: int


class SignedCheckpoint(Model):
    """A signed tree head of the payment log, with every verifier key that ever signed."""

    schema_name = "CheckpointOut"
    size: int
    root_hash: str
    note: str
    key_name: str
    key_hash: str
    created_at: datetime
    verifier_keys: list[str]
    cosigners: list[str]  # the server's witnesses whose cosignature verifies
    latest_size: int  # the newest checkpoint's size (larger while witnesses catch up)


class Balance(Model):
    schema_name = "BalanceOut"
    currency: str
    earned_minor: int
    paid_out_minor: int
    balance_minor: int
    owed_back_minor: int


class WalletEntry(Model):
    """One of your ledger entries, with its inclusion proof (``None`` while newer than
    the wallet's checkpoint: ``pending`` says why)."""

    schema_name = "EntryOut"
    index: int
    kind: str
    amount_minor: int
    currency: str
    rule: str
    rate_card_version: str
    corrects: int | None
    item: str | None
    timestamp: int
    payout_id: int | None
    created_at: datetime
    leaf: str
    leaf_hash: str
    proof: list[str] | None
    pending: str | None

    def verify(
        self,
        checkpoint: SignedCheckpoint,
        *,
        verifiers: Iterable[str],
        origin: str | None = None,
    ) -> Checkpoint:
        """Check offline that ``checkpoint``, signed by one of ``verifiers`` (the log's
        published verifier keys: trust your own copy, not the server's), includes this
        entry. Returns the verified checkpoint; raises
        :class:`loupe.ledger.verify.VerificationError` when it does not hold.
        """
        # Imported here: it needs ``cryptography``, which ``import loupe.client`` avoids.
        from loupe.ledger.verify import VerificationError, verify_entry_in_checkpoint

        if self.proof is None:
            raise VerificationError(
                f"entry {self.index} is pending ({self.pending}); fetch the wallet again "
                "after the next checkpoint"
            )
        return verify_entry_in_checkpoint(
            self.leaf.encode("ascii"),
            index=self.index,
            proof=[bytes.fromhex(node) for node in self.proof],
            note=checkpoint.note,
            verifiers=list(verifiers),
            origin=origin,
        )


class Wallet(Model):
    """A page of your ledger entries with your balances and the checkpoint they prove into."""

    schema_name = "WalletOut"
    contributor: str | None
    checkpoint: SignedCheckpoint | None
    balances: list[Balance]
    entries: list[WalletEntry]
    next_after: int | None
    consistency: ConsistencyProof | None  # from ``since`` to the checkpoint


class InclusionProof(Model):
    schema_name = "InclusionOut"
    index: int
    tree_size: int
    leaf: str
    leaf_hash: str
    path: list[str]
    root_hash: str


class ConsistencyProof(Model):
    schema_name = "ConsistencyOut"
    first: int
    second: int
    path: list[str]
    first_root: str
    second_root: str


class ModelVersion(Model):
    schema_name = "ModelVersionOut"
    version: int
    trainer: str
    metrics: dict[str, Any]
    control_metrics: dict[str, Any] | None
    n_training: int
    training_hash: str
    gold_set: str
    n_labels: int
    cost_minor: int
    currency: str | None
    promoted: bool
    reason: str
    created_at: datetime
    shadow_status: str | None  # "pending" while the champion serves and it is shadowed
    shadow: dict[str, Any] | None


class Served(Model):
    """The champion's answers, and the version that gave them."""

    schema_name = "PredictOut"
    model_version: int
    trainer: str
    classes: list[str]
    labels: list[str]
    probabilities: list[dict[str, float]]


class PredictionsResult(Model):
    schema_name = "PredictionsOut"
    received: int
    created: int
    existing: int
    to_people: int
    model_resolved: int
    redacted: int
    by_strategy: dict[str, int]


class StrategyAgreement(Model):
    schema_name = "StrategyAgreementOut"
    strategy: str
    n: int
    agreement: float


class PredictionAgreement(Model):
    schema_name = "loupe__web__api__predictions__AgreementOut"
    agreement: float | None
    audit_accuracy: float | None
    audit_n: int
    audit_standard_error: float | None
    by_strategy: list[StrategyAgreement]
    n_compared: int
    n_model_resolved: int
    n_predictions: int
    n_to_people: int


class Webhook(Model):
    """A webhook; its secret is shown only when it is created (:class:`CreatedWebhook`)."""

    schema_name = "WebhookOut"
    id: int
    project_id: int
    url: str
    events: list[str]
    active: bool
    created_by: int | None
    created_at: datetime


class CreatedWebhook(Webhook):
    """A new webhook with the secret that signs its deliveries (``X-Loupe-Signature``)."""

    schema_name = "CreatedWebhookOut"
    secret: str


class Delivery(Model):
    """One event sent (or queued) to a webhook; ``payload`` is the JSON body sent."""

    schema_name = "DeliveryOut"
    delivery_id: str
    event_id: str
    webhook_id: int
    event: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


class DeliveryPage(Model):
    """Newest first; ``next_before`` is the cursor of the next (older) page."""

    schema_name = "DeliveryPageOut"
    items: list[Delivery]
    next_before: int | None


@dataclass(frozen=True, slots=True)
class Prediction:
    """One item as your model saw it, with its answer (the body of ``predictions.send``)."""

    id: str
    text: str
    label: str
    probabilities: Mapping[str, float]
    language: str | None = None
    domain: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    model_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "language": self.language,
            "domain": self.domain,
            "metadata": dict(self.metadata),
            "prediction": {"label": self.label, "probabilities": dict(self.probabilities)},
            "model_version": self.model_version,
        }
