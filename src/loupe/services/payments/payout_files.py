"""Payout files for finance: a batch as CSV or as an ISO 20022 ``pain.001.001.09`` transfer.

Both carry what reconciles a bank transfer with the payment log: each line's entry index,
and the signed checkpoint that seals the batch (the first one covering all its entries:
:func:`~loupe.services.payments.earnings.create_payout` publishes it). The CSV has the checkpoint's
``tree_size`` and ``root_hash`` on every row (``loupe ledger payouts export`` writes the
signed note beside it, ``FILE.checkpoint``); the XML has them in each transfer's
unstructured remittance text and the whole signed note in ``SplmtryData``.

Every amount comes from the entries' logged bytes, each checked against the columns
beside it, and their sum against the batch's stored total: a difference refuses the
export (:class:`LedgerIntegrityError` naming the position).

Loupe holds no bank details. The creditor is the user's display name with the private id
``loupe-user-<id>``, and the creditor account is the placeholder ``NOTPROVIDED``, which the
finance system replaces from its own payee register keyed by that id (likewise the
debtor's account and bank unless given). Example::

    batch = payout_batch(session, actor, 3, secret=keys.secret)
    xml_bytes = pain001(batch, debtor=Debtor(name="ACME Labs"))
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from loupe.db.ledger_models import LedgerCheckpoint, Payout
from loupe.db.models import User
from loupe.errors import Conflict, LedgerIntegrityError, NotFound
from loupe.formats import csv_lines
from loupe.services.access import Actor, authorize
from loupe.services.payments.ledger_store import ColumnCheck, checked_entries, payout_stored_entries

__all__ = [
    "CSV_COLUMNS",
    "PAIN001_NAMESPACE",
    "PLACEHOLDER",
    "Debtor",
    "PayoutBatch",
    "PayoutFormat",
    "PayoutLine",
    "minor_to_decimal",
    "pain001",
    "payout_batch",
    "payout_csv",
]

PayoutFormat = Literal["csv", "pain001"]
PAIN001_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
LOUPE_NAMESPACE = "urn:loupe:ledger:checkpoint:1"
PLACEHOLDER = "NOTPROVIDED"
# ISO 4217 minor units where they are not 2.
_ZERO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENTS = {
    **dict.fromkeys(_ZERO_DECIMALS.split(), 0),
    **dict.fromkeys(_THREE_DECIMALS.split(), 3),
}
_USTRD_MAX = 140  # ISO 20022 Max140Text

CSV_COLUMNS = [
    "payout_id",
    "entry_index",
    "user_id",
    "username",
    "display_name",
    "contributor",
    "amount_minor",
    "currency",
    "tree_size",
    "root_hash",
]


@dataclass(frozen=True, slots=True)
class PayoutLine:
    entry_index: int
    user_id: int | None
    username: str | None
    display_name: str | None
    contributor: str  # the pseudonym in the log
    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class PayoutBatch:
    id: int
    currency: str
    total_minor: int
    created_at: datetime
    lines: list[PayoutLine]
    tree_size: int  # the sealing checkpoint's
    root_hash: bytes
    checkpoint_note: str


@dataclass(frozen=True, slots=True)
class Debtor:
    """Who pays: placeholders unless given (Loupe keeps no bank details)."""

    name: str = "Loupe payouts"
    iban: str | None = None
    bic: str | None = None


def payout_batch(
    session: Session, actor: Actor, payout_id: int, *, secret: bytes | None
) -> PayoutBatch:
    """The batch's lines from its entries' logged bytes, with the checkpoint sealing it."""
    authorize(actor, "payouts.manage")
    payout = session.get(Payout, payout_id)
    if payout is None:
        raise NotFound(f"payout {payout_id} does not exist", details={"payout_id": payout_id})
    check = ColumnCheck(session, secret)
    rows = payout_stored_entries(session, payout_id)
    names = {
        user.id: (user.username, user.display_name)
        for user in session.execute(
            select(User.id, User.username, User.display_name).where(
                User.id.in_({row.user_id for row in rows if row.user_id is not None})
            )
        ).all()
    }
    lines = [
        PayoutLine(
            entry_index=row.index,
            user_id=row.user_id,
            username=names.get(row.user_id, (None, None))[0] if row.user_id else None,
            display_name=names.get(row.user_id, (None, None))[1] if row.user_id else None,
            contributor=entry.contributor,
            amount_minor=entry.amount_minor,
            currency=entry.currency,
        )
        for row, entry in checked_entries(check, rows)
    ]
    total = sum(line.amount_minor for line in lines)
    if total != payout.total_minor or any(line.currency != payout.currency for line in lines):
        raise LedgerIntegrityError(
            f"payout {payout_id}: its entries pay {total} {payout.currency} minor units but the "
            f"batch records {payout.total_minor}; run `loupe ledger verify`",
            details={"payout_id": payout_id},
        )
    last = max((line.entry_index for line in lines), default=-1)
    sealed = session.scalars(
        select(LedgerCheckpoint)
        .where(LedgerCheckpoint.size > last)
        .order_by(LedgerCheckpoint.size, LedgerCheckpoint.id)
        .limit(1)
    ).first()
    if sealed is None:
        raise Conflict(
            f"no checkpoint covers payout {payout_id} yet; run `loupe ledger checkpoint`",
            details={"reason": "no_checkpoint"},
        )
    return PayoutBatch(
        id=payout.id,
        currency=payout.currency,
        total_minor=total,
        created_at=payout.created_at,
        lines=lines,
        tree_size=sealed.size,
        root_hash=bytes(sealed.root_hash),
        checkpoint_note=sealed.note,
    )


def payout_csv(batch: PayoutBatch) -> Iterator[str]:
    """CSV, one row per contributor; every cell through ``formats.csv_cell``."""
    rows: list[dict[str, Any]] = [
        {
            "payout_id": batch.id,
            "entry_index": line.entry_index,
            "user_id": line.user_id,
            "username": line.username,
            "display_name": line.display_name,
            "contributor": line.contributor,
            "amount_minor": line.amount_minor,
            "currency": line.currency,
            "tree_size": batch.tree_size,
            "root_hash": batch.root_hash.hex(),
        }
        for line in batch.lines
    ]
    return csv_lines(rows, CSV_COLUMNS)


def minor_to_decimal(amount_minor: int, currency: str) -> str:
    """``1234, "EUR"`` -> ``"12.34"``; ISO 4217 minor units (JPY 0, KWD 3, most 2).

    >>> minor_to_decimal(1234, "EUR"), minor_to_decimal(1234, "JPY"), minor_to_decimal(5, "KWD")
    ('12.34', '1234', '0.005')
    """
    exponent = _EXPONENTS.get(currency, 2)
    if exponent == 0:
        return str(amount_minor)
    whole, part = divmod(amount_minor, 10**exponent)
    return f"{whole}.{part:0{exponent}d}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, tag, attrs)
    if text is not None:
        child.text = text
    return child


def pain001(batch: PayoutBatch, *, debtor: Debtor | None = None) -> bytes:
    """The batch as an ISO 20022 ``pain.001.001.09`` customer credit transfer initiation.

    Written with the standard library's ElementTree: the one maintained Python package for
    it, pyiso20022, brings generated bindings for the whole ISO catalogue (and xsdata) for
    a single message Loupe writes and never reads; tests check the element names and order
    of the standard's schema instead. Loupe-specific data stays where the standard allows
    it: the remittance text (Max140Text) and ``SplmtryData/Envlp`` (any XML).
    """
    debtor = debtor or Debtor()
    ET.register_namespace("", PAIN001_NAMESPACE)
    ns = f"{{{PAIN001_NAMESPACE}}}"
    document = ET.Element(f"{ns}Document")
    initiation = _sub(document, f"{ns}CstmrCdtTrfInitn")
    created = batch.created_at.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    count, total = str(len(batch.lines)), minor_to_decimal(batch.total_minor, batch.currency)
    message_id = f"LOUPE-PAYOUT-{batch.id}"

    header = _sub(initiation, f"{ns}GrpHdr")
    _sub(header, f"{ns}MsgId", message_id)
    _sub(header, f"{ns}CreDtTm", created.isoformat())
    _sub(header, f"{ns}NbOfTxs", count)
    _sub(header, f"{ns}CtrlSum", total)
    _sub(_sub(header, f"{ns}InitgPty"), f"{ns}Nm", debtor.name[:140])

    info = _sub(initiation, f"{ns}PmtInf")
    _sub(info, f"{ns}PmtInfId", message_id)
    _sub(info, f"{ns}PmtMtd", "TRF")
    _sub(info, f"{ns}NbOfTxs", count)
    _sub(info, f"{ns}CtrlSum", total)
    _sub(_sub(info, f"{ns}ReqdExctnDt"), f"{ns}Dt", created.date().isoformat())
    _sub(_sub(info, f"{ns}Dbtr"), f"{ns}Nm", debtor.name[:140])
    _account_ns(info, ns, "DbtrAcct", debtor.iban)
    agent = _sub(_sub(info, f"{ns}DbtrAgt"), f"{ns}FinInstnId")
    if debtor.bic:
        _sub(agent, f"{ns}BICFI", debtor.bic)
    else:
        _sub(_sub(agent, f"{ns}Othr"), f"{ns}Id", PLACEHOLDER)
    root_hex = batch.root_hash.hex()
    for line in batch.lines:
        transfer = _sub(info, f"{ns}CdtTrfTxInf")
        end_to_end = f"LOUPE-{batch.id}-{line.entry_index}"
        _sub(_sub(transfer, f"{ns}PmtId"), f"{ns}EndToEndId", end_to_end)
        amount = minor_to_decimal(line.amount_minor, line.currency)
        _sub(_sub(transfer, f"{ns}Amt"), f"{ns}InstdAmt", amount, Ccy=line.currency)
        creditor = _sub(transfer, f"{ns}Cdtr")
        name = line.display_name or line.username or f"user {line.user_id}"
        _sub(creditor, f"{ns}Nm", name[:140])
        private = _sub(_sub(creditor, f"{ns}Id"), f"{ns}PrvtId")
        _sub(_sub(private, f"{ns}Othr"), f"{ns}Id", f"loupe-user-{line.user_id}")
        _account_ns(transfer, ns, "CdtrAcct", None)
        remittance = (
            f"Loupe payout {batch.id} entry {line.entry_index} log size {batch.tree_size} "
            f"root {root_hex}"
        )
        assert len(remittance) <= _USTRD_MAX, remittance
        _sub(_sub(transfer, f"{ns}RmtInf"), f"{ns}Ustrd", remittance)

    envelope = _sub(_sub(initiation, f"{ns}SplmtryData"), f"{ns}Envlp")
    ET.register_namespace("loupe", LOUPE_NAMESPACE)
    sealed = _sub(envelope, f"{{{LOUPE_NAMESPACE}}}Checkpoint")
    _sub(sealed, f"{{{LOUPE_NAMESPACE}}}TreeSize", str(batch.tree_size))
    _sub(sealed, f"{{{LOUPE_NAMESPACE}}}RootHash", root_hex)
    _sub(sealed, f"{{{LOUPE_NAMESPACE}}}SignedNote", batch.checkpoint_note)
    ET.indent(document)
    written: bytes = ET.tostring(document, encoding="utf-8", xml_declaration=True)
    return written


def _account_ns(parent: ET.Element, ns: str, tag: str, iban: str | None) -> None:
    ident = _sub(_sub(parent, f"{ns}{tag}"), f"{ns}Id")
    if iban:
        _sub(ident, f"{ns}IBAN", iban)
    else:
        _sub(_sub(ident, f"{ns}Othr"), f"{ns}Id", PLACEHOLDER)
