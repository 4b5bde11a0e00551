"""Asking witnesses to cosign the log's checkpoints (the log's side of C2SP ``tlog-witness``).

For each configured witness (``Settings.ledger_witnesses_file``), the log sends the
checkpoint with a consistency proof from the size that witness last cosigned: the largest
stored checkpoint that carries its cosignature, or the size the witness returns in a
``409`` (``text/x.tlog.size``) when it knows better. Valid cosignature lines are appended
to the stored note. A witness that is down or refuses never blocks
publishing: its outcome is reported, and the next round asks it again.

Every checkpoint gets there the same way, however it was signed (every
``ledger_checkpoint_every`` entries inside a label's transaction, by ``loupe ledger
checkpoint``, or ``POST /ledger/checkpoint``): :func:`cosign_latest` finds the latest
stored checkpoint and the witnesses that have not cosigned it, reads each consistency
proof in a short read-only transaction, calls the witnesses outside any transaction, and
writes the cosignature lines in one short write transaction. The server runs it in the
background (``loupe.web.cosigner``), after the label that signed the checkpoint
committed; ``loupe ledger checkpoint`` runs it once. No network call ever happens while
the ledger, or any other row, is locked.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy.orm import Session

from loupe.db.database import Database
from loupe.errors import InvalidInput
from loupe.ledger.merkle import MerkleLog
from loupe.ledger.verify import CosignerVerifier, VerificationError
from loupe.ledger.witness import format_add_checkpoint
from loupe.services.access import Actor, authorize
from loupe.services.payments.ledger_store import (
    CheckpointRecord,
    SqlTreeStore,
    add_cosignatures,
    latest_checkpoint,
    list_checkpoints,
)

__all__ = [
    "CosignRound",
    "Pending",
    "Post",
    "Progress",
    "WitnessEndpoint",
    "WitnessOutcome",
    "WitnessProgress",
    "cosign_latest",
    "cosigned_by",
    "http_post",
    "load_witnesses",
    "pending_cosignatures",
    "witness_progress",
]

#: ``post(url, body) -> (status, content type, body)``; injectable for tests.
Post = Callable[[str, bytes], tuple[int, str, bytes]]
#: ``prove(old size, new size) -> consistency proof``.
Prove = Callable[[int, int], list[bytes]]


@dataclass(frozen=True)
class WitnessEndpoint:
    verifier: CosignerVerifier
    url: str


@dataclass(frozen=True)
class WitnessOutcome:
    """What one witness answered: ``cosigned`` or why not (``error``)."""

    name: str
    cosigned: bool
    old_size: int
    error: str | None = None


def load_witnesses(path: Path) -> list[WitnessEndpoint]:
    """Parse a witnesses file: ``<witness verifier key> <URL>`` a line, ``#`` comments."""
    witnesses = []
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise InvalidInput(
            f"cannot read the witnesses file {path}: {exc.strerror}",
            details={"field": "ledger_witnesses_file"},
        ) from None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        try:
            if len(parts) != 2 or not parts[1].startswith(("http://", "https://")):
                raise VerificationError("expected '<witness verifier key> <http(s) URL>'")
            verifier = CosignerVerifier.from_key(parts[0])
        except VerificationError as exc:
            raise InvalidInput(
                f"{path}:{number}: {exc}", details={"field": "ledger_witnesses_file"}
            ) from None
        witnesses.append(WitnessEndpoint(verifier=verifier, url=parts[1].rstrip("/")))
    return witnesses


#: The most of a witness's answer read: cosignature lines, or a size.
MAX_ANSWER = 64 * 1024
TIMEOUT = 10.0


def http_post(url: str, body: bytes) -> tuple[int, str, bytes]:
    """POST through :func:`loupe.services.outbound.post` (imported here: most commands
    never need it): :data:`TIMEOUT` seconds for the whole exchange, at most
    :data:`MAX_ANSWER` bytes read, redirects not followed. A witness is someone else's
    server: a redirect could otherwise send the log inward (a ``303`` to
    ``http://10.0.0.5/admin``) and the answer's first line is published in
    ``GET /ledger/witnesses``. The operator chose the URL, so any address may be dialled.
    Raises ``OSError`` when no answer came."""
    from loupe.services import outbound
    from loupe.services.egress import EgressPolicy

    answer = outbound.post(
        url,
        body,
        {"Content-Type": "text/plain"},
        timeout=TIMEOUT,
        policy=EgressPolicy(any_address=True),
        max_body=MAX_ANSWER,
    )
    return answer.status, answer.content_type, answer.body


def _last_cosigned(records: Sequence[CheckpointRecord], witness: CosignerVerifier) -> int:
    """The size of the newest stored checkpoint carrying a valid cosignature by ``witness``."""
    for record in reversed(records):
        if cosigned_by(record, witness):
            return record.size
    return 0


def cosigned_by(record: CheckpointRecord, witness: CosignerVerifier) -> bool:
    """Whether ``record``'s note carries a valid cosignature by ``witness``."""
    prefix = f"\u2014 {witness.name} "
    text, _, signatures = record.note.partition("\n\n")
    return any(
        line.startswith(prefix) and witness.verify(text + "\n", _payload(line)) is not None
        for line in signatures.splitlines()
    )


def _payload(line: str) -> bytes:
    """A signature line's payload after the 4-byte key hash (empty when malformed)."""
    try:
        raw = base64.b64decode(line.rsplit(" ", 1)[-1], validate=True)
    except (binascii.Error, ValueError):
        return b""
    return raw[4:]


def _ask(
    witness: WitnessEndpoint,
    record: CheckpointRecord,
    old: int,
    prove: Prove,
    post: Post,
) -> tuple[WitnessOutcome, list[str]]:
    """Send ``record`` to one witness with a proof from ``old``; its outcome and valid lines."""
    name = witness.verifier.name
    body_text = record.note.split("\n\n", 1)[0] + "\n"
    for _attempt in range(2):
        proof = prove(old, record.size) if 0 < old < record.size else []
        try:
            status, ctype, answer = post(
                f"{witness.url}/add-checkpoint", format_add_checkpoint(old, proof, record.note)
            )
        except OSError as exc:
            return WitnessOutcome(name, False, old, f"unreachable: {exc}"), []
        text = answer.decode("utf-8", "replace")
        if status == 409 and ctype == "text/x.tlog.size" and text.strip().isdigit():
            told = int(text.strip())
            if told != old and told <= record.size:
                old = told  # the witness knows its own size better: retry once from it
                continue
        if status != 200:
            return WitnessOutcome(name, False, old, f"HTTP {status}: {text.strip()[:300]}"), []
        valid = [
            line + "\n"
            for line in text.splitlines()
            if line.startswith(f"\u2014 {name} ")
            and witness.verifier.verify(body_text, _payload(line)) is not None
        ]
        error = None if valid else "no valid cosignature in the answer"
        return WitnessOutcome(name, bool(valid), old, error), valid
    return WitnessOutcome(name, False, old, "size negotiation failed"), []


@dataclass(frozen=True)
class Pending:
    """The latest checkpoint, and each witness that has not cosigned it with the size it
    last cosigned (0: never)."""

    checkpoint: CheckpointRecord
    witnesses: tuple[tuple[WitnessEndpoint, int], ...]


def pending_cosignatures(session: Session, witnesses: Sequence[WitnessEndpoint]) -> Pending | None:
    """What is left to cosign: ``None`` before the first checkpoint.

    Reads one row when every witness has cosigned the latest checkpoint (the usual case,
    each round of the background loop); all checkpoints only when one has not.
    """
    latest = latest_checkpoint(session)
    if latest is None:
        return None
    missing = [w for w in witnesses if not cosigned_by(latest, w.verifier)]
    if not missing:
        return Pending(checkpoint=latest, witnesses=())
    records = [r for r in list_checkpoints(session) if r.id <= latest.id]
    return Pending(
        checkpoint=latest,
        witnesses=tuple(
            (w, min(_last_cosigned(records, w.verifier), latest.size)) for w in missing
        ),
    )


@dataclass(frozen=True)
class CosignRound:
    """One round of :func:`cosign_latest`: the checkpoint (as stored afterwards) and what
    each witness asked answered; ``checkpoint`` is ``None`` before the first one."""

    checkpoint: CheckpointRecord | None
    outcomes: tuple[WitnessOutcome, ...]


def cosign_latest(
    db: Database,
    witnesses: Sequence[WitnessEndpoint],
    *,
    post: Post = http_post,
    skip: Collection[str] = (),
) -> CosignRound:
    """Ask each witness (but those named in ``skip``) that has not cosigned the latest
    checkpoint to cosign it, and store the valid cosignatures.

    Unlike other services this opens its own transactions, because no transaction may stay
    open while a witness is slow or down: the pending work and each consistency proof are
    read in short read-only transactions, the network calls happen outside any, and the
    cosignature lines are written in one short write transaction at the end.
    """
    with db.transaction(readonly=True) as session:
        pending = pending_cosignatures(
            session, [w for w in witnesses if w.verifier.name not in skip]
        )
    if pending is None or not pending.witnesses:
        return CosignRound(pending.checkpoint if pending else None, ())
    record = pending.checkpoint

    def prove(old: int, new: int) -> list[bytes]:
        with db.transaction(readonly=True) as session:
            return list(MerkleLog(SqlTreeStore(session)).prove_consistency(old, new).path)

    outcomes: list[WitnessOutcome] = []
    lines: list[str] = []
    for witness, old in pending.witnesses:
        outcome, valid = _ask(witness, record, old, prove, post)
        outcomes.append(outcome)
        lines.extend(valid)
    if lines:
        with db.transaction() as session:
            # Another server worker may have stored this witness's cosignature meanwhile:
            # the first one stored is kept (under the checkpoint's lock).
            note = add_cosignatures(session, record.id, lines)
        record = replace(record, note=note)
    return CosignRound(record, tuple(outcomes))


@dataclass(frozen=True)
class WitnessProgress:
    """How far one witness has cosigned, from the stored checkpoints."""

    name: str
    url: str
    cosigned_size: int  # the newest checkpoint it cosigned (0: none)
    cosigned_latest: bool


@dataclass(frozen=True)
class Progress:
    """The latest checkpoint's size (``None`` before the first) and each witness's progress."""

    checkpoint_size: int | None
    witnesses: tuple[WitnessProgress, ...]


def witness_progress(
    session: Session, actor: Actor, witnesses: Sequence[WitnessEndpoint]
) -> Progress:
    """Which checkpoints each witness has cosigned (anyone who may read the log)."""
    authorize(actor, "ledger.read")
    records = list_checkpoints(session)
    latest = records[-1] if records else None
    return Progress(
        checkpoint_size=latest.size if latest else None,
        witnesses=tuple(
            WitnessProgress(
                name=w.verifier.name,
                url=w.url,
                cosigned_size=_last_cosigned(records, w.verifier),
                cosigned_latest=latest is not None and cosigned_by(latest, w.verifier),
            )
            for w in witnesses
        ),
    )
