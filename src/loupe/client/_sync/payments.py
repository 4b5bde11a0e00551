# Generated from loupe/client/_async/payments.py by `python -m loupe.client._unasync`.
# Do not edit: edit the async source and regenerate.
"""Payments, your wallet and the public payment log."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from loupe.client._sync.resource import Resource
from loupe.client._wire import PayoutFormat, parse
from loupe.client.models import (
    Balance,
    ConsistencyProof,
    InclusionProof,
    LedgerIndex,
    Payout,
    RateCard,
    SignedCheckpoint,
    Wallet,
    WalletEntry,
)

__all__ = ["LedgerResource", "PaymentsResource", "WalletResource"]


class PaymentsResource(Resource):
    """Rate cards and bonuses (project managers); payouts and their files (admins)."""

    def rate_cards(self, project_id: int) -> builtins.list[RateCard]:
        """Every rate card version, newest first."""
        response = self._client.request("payments.list_rate_cards", path={"project_id": project_id})
        result: builtins.list[RateCard] = parse(list[RateCard], response)
        return result

    def create_rate_card(self, project_id: int, card: Mapping[str, Any]) -> RateCard:
        """A new rate card version, e.g. ``{"currency": "EUR", "rates": [{"amount_minor":
        5}]}``; labels from now on earn by it."""
        response = self._client.request(
            "payments.create_rate_card", path={"project_id": project_id}, json=dict(card)
        )
        result: RateCard = parse(RateCard, response)
        return result

    def grant_bonus(
        self, project_id: int, *, user_id: int, bonus: str, item_id: int | None = None
    ) -> LedgerIndex:
        """Credit a rate-card bonus to a contributor; returns its ledger entry's index."""
        response = self._client.request(
            "payments.grant_bonus",
            path={"project_id": project_id},
            json={"user_id": user_id, "bonus": bonus, "item_id": item_id},
        )
        result: LedgerIndex = parse(LedgerIndex, response)
        return result

    def payouts(self) -> builtins.list[Payout]:
        response = self._client.request("payments.list_payouts")
        result: builtins.list[Payout] = parse(list[Payout], response)
        return result

    def create_payout(self, currency: str, *, minimum_minor: int = 1) -> Payout:
        """Pay every balance of at least ``minimum_minor`` in ``currency``."""
        response = self._client.request(
            "payments.create_payout",
            json={"currency": currency, "minimum_minor": minimum_minor},
        )
        result: Payout = parse(Payout, response)
        return result

    def download_payout(
        self, payout_id: int, destination: str | Path, *, format: PayoutFormat = "csv"
    ) -> int:
        """The payout batch for the bank (CSV, or ISO 20022 ``pain001`` XML); returns bytes."""
        written = 0
        with (
            self._client.stream(
                "payments.export_payout", path={"payout_id": payout_id}, params={"format": format}
            ) as response,
            Path(destination).open("wb") as out,
        ):
            for chunk in response.iter_bytes():
                written += out.write(chunk)
        return written


class WalletResource(Resource):
    """Your own ledger entries, each with its inclusion proof, and your balances."""

    def get(self, *, after: int | None = None, limit: int = 100) -> Wallet:
        """One page of your entries (``after``: the last entry index seen)."""
        response = self._client.request("wallet.get", params={"after": after, "limit": limit})
        result: Wallet = parse(Wallet, response)
        return result

    def balances(self) -> builtins.list[Balance]:
        return (self.get(limit=1)).balances

    def iter(self, *, page_size: int = 100) -> Iterator[WalletEntry]:
        """Every entry of yours, a page at a time."""
        after: int | None = None
        while True:
            page = self.get(after=after, limit=page_size)
            yield from page.entries
            if page.next_after is None:
                return
            after = page.next_after


class LedgerResource(Resource):
    """The public payment log: signed checkpoints and proofs (verify them offline with
    :mod:`loupe.ledger.verify`)."""

    def checkpoint(self) -> SignedCheckpoint:
        """The latest signed checkpoint; keep it, later ones must be consistent with it."""
        response = self._client.request("ledger.checkpoint")
        result: SignedCheckpoint = parse(SignedCheckpoint, response)
        return result

    def publish(self) -> SignedCheckpoint:
        """Sign and publish the current tree head now (admins)."""
        response = self._client.request("ledger.publish")
        result: SignedCheckpoint = parse(SignedCheckpoint, response)
        return result

    def inclusion(self, index: int, *, tree_size: int | None = None) -> InclusionProof:
        """An entry with its inclusion proof (auditors and admins)."""
        response = self._client.request(
            "ledger.inclusion", params={"index": index, "tree_size": tree_size}
        )
        result: InclusionProof = parse(InclusionProof, response)
        return result

    def consistency(self, first: int, *, second: int | None = None) -> ConsistencyProof:
        """Proof that the log of ``first`` entries is a prefix of the log of ``second``."""
        response = self._client.request(
            "ledger.consistency", params={"first": first, "second": second}
        )
        result: ConsistencyProof = parse(ConsistencyProof, response)
        return result

    def correct(self, index: int, *, amount_minor: int, reason: str) -> LedgerIndex:
        """Correct entry ``index`` by appending a signed amount that names it (admins)."""
        response = self._client.request(
            "ledger.correct",
            json={"index": index, "amount_minor": amount_minor, "reason": reason},
        )
        result: LedgerIndex = parse(LedgerIndex, response)
        return result
