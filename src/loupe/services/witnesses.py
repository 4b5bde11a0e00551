"""Asking witnesses to cosign the log's checkpoints (the log's side of C2SP ``tlog-witness``).

For each configured witness (``Settings.ledger_witnesses_file``), :func:`collect_cosignatures`
sends the checkpoint with a consistency proof from the size that witness last cosigned:
the largest stored checkpoint that carries its cosignature, or the size the witness
returns in a ``409`` (``text/x.tlog.size``) when it knows better. Valid cosignature lines
are appended to the stored note. A witness that is down or refuses never blocks
publishing: its outcome is reported, and the next checkpoint asks it again.

Called after the checkpoint is committed, in its own transaction: no network call happens
while the ledger is locked.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from loupe.errors import InvalidInput
from loupe.ledger.merkle import MerkleLog
from loupe.ledger.verify import CosignerVerifier, VerificationError
from loupe.ledger.witness import format_add_checkpoint
from loupe.services.ledger_store import (
    CheckpointRecord,
    SqlTreeStore,
    add_cosignatures,
    list_checkpoints,
)

__all__ = ["Post", "WitnessEndpoint", "WitnessOutcome", "collect_cosignatures", "load_witnesses"]

#: ``post(url, body) -> (status, content type, body)``; injectable for tests.
Post = Callable[[str, bytes], tuple[int, str, bytes]]


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


def http_post(url: str, body: bytes) -> tuple[int, str, bytes]:
    """POST with the standard library (imported here: most commands never need it)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get_content_type(), exc.read()


def _last_cosigned(records: Sequence[CheckpointRecord], witness: CosignerVerifier) -> int:
    """The size of the newest stored checkpoint carrying a valid cosignature by ``witness``."""
    prefix = f"\u2014 {witness.name} "
    for record in reversed(records):
        text, _, signatures = record.note.partition("\n\n")
        for line in signatures.splitlines():
            if line.startswith(prefix) and witness.verify(text + "\n", _payload(line)) is not None:
                return record.size
    return 0


def _payload(line: str) -> bytes:
    """A signature line's payload after the 4-byte key hash (empty when malformed)."""
    try:
        raw = base64.b64decode(line.rsplit(" ", 1)[-1], validate=True)
    except (binascii.Error, ValueError):
        return b""
    return raw[4:]


def collect_cosignatures(
    session: Session,
    record: CheckpointRecord,
    witnesses: Sequence[WitnessEndpoint],
    *,
    post: Post = http_post,
) -> list[WitnessOutcome]:
    """Ask each witness to cosign ``record``; store the valid cosignatures with it."""
    if not witnesses:
        return []
    records = [r for r in list_checkpoints(session) if r.id != record.id]
    log = MerkleLog(SqlTreeStore(session))
    body_text = record.note.split("\n\n", 1)[0] + "\n"
    outcomes: list[WitnessOutcome] = []
    lines: list[str] = []
    for witness in witnesses:
        old = min(_last_cosigned(records, witness.verifier), record.size)
        outcome: WitnessOutcome | None = None
        for _attempt in range(2):
            proof = (
                list(log.prove_consistency(old, record.size).path) if 0 < old < record.size else []
            )
            try:
                status, ctype, answer = post(
                    f"{witness.url}/add-checkpoint", format_add_checkpoint(old, proof, record.note)
                )
            except OSError as exc:
                outcome = WitnessOutcome(witness.verifier.name, False, old, f"unreachable: {exc}")
                break
            text = answer.decode("utf-8", "replace")
            if status == 409 and ctype == "text/x.tlog.size" and text.strip().isdigit():
                told = int(text.strip())
                if told != old and told <= record.size:
                    old = told  # the witness knows its own size better: retry once from it
                    continue
            if status != 200:
                outcome = WitnessOutcome(
                    witness.verifier.name, False, old, f"HTTP {status}: {text.strip()[:300]}"
                )
                break
            valid = [
                line + "\n"
                for line in text.splitlines()
                if line.startswith(f"\u2014 {witness.verifier.name} ")
                and witness.verifier.verify(body_text, _payload(line)) is not None
            ]
            lines.extend(valid)
            outcome = WitnessOutcome(
                witness.verifier.name,
                bool(valid),
                old,
                None if valid else "no valid cosignature in the answer",
            )
            break
        if outcome is None:
            outcome = WitnessOutcome(witness.verifier.name, False, old, "size negotiation failed")
        outcomes.append(outcome)
    if lines:
        add_cosignatures(session, record.id, lines)
    return outcomes
