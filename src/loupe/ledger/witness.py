"""A transparency-log witness: cosigns a log's checkpoints only while the log only grows.

A witness holds its own Ed25519 key and, per log origin, the last checkpoint it cosigned,
in its own directory (never in Loupe's database)::

    witness-key         PRIVATE+KEY+<name>+<hash>+<base64(0x04 || seed)>   (0600)
    witness-logs        the logs it witnesses, one a line: a log verifier key, optionally
                        preceded by the origin (default: the key's name) and a space
    witness-state.json  {origin: {"size", "root_hash", "checkpoint"}}: what it last cosigned

:meth:`Witness.add_checkpoint` follows C2SP ``tlog-witness`` ``add-checkpoint``: the log's
signature must verify with a key the witness trusts for that origin (else
:class:`~loupe.errors.NotFound` / :class:`~loupe.errors.PermissionDenied`), ``old`` must be
the size it last cosigned (else :class:`~loupe.errors.Conflict` with ``details["size"]``),
the RFC 6962 consistency proof from that checkpoint must verify (else
:class:`~loupe.errors.InvalidInput`), and a checkpoint of the same size with another root is
a split view (:class:`~loupe.errors.LedgerIntegrityError`). Only then is the new checkpoint
stored and a ``cosignature/v1`` line (C2SP ``tlog-cosignature``) returned. Checking and
storing happen under one lock, so two concurrent requests cannot roll the state back.

Example::

    >>> import tempfile, pathlib
    >>> from loupe.ledger.checkpoint import NoteSigner, make_checkpoint, sign_checkpoint
    >>> from loupe.ledger.verify import EMPTY_ROOT, verify_cosigned_checkpoint
    >>> log = NoteSigner.generate("log.example")
    >>> witness = Witness.init(pathlib.Path(tempfile.mkdtemp()), name="w.example",
    ...                        log_keys=[log.verifier_key])
    >>> note = sign_checkpoint(make_checkpoint("log.example", 0, EMPTY_ROOT), [log])
    >>> lines = witness.add_checkpoint(old_size=0, proof=[], note=note, now=1700000000)
    >>> verify_cosigned_checkpoint(note + "".join(lines), [log.verifier_key],
    ...                            [witness.verifier_key], quorum=1).cosigners
    ('w.example',)
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from loupe.errors import Conflict, InvalidInput, LedgerIntegrityError, NotFound, PermissionDenied
from loupe.ledger.verify import (
    ALG_COSIGNATURE_V1,
    HASH_SIZE,
    MAX_TREE_SIZE,
    Checkpoint,
    CosignerVerifier,
    NoteVerifier,
    VerificationError,
    cosignature_message,
    is_valid_key_name,
    open_note,
    verify_consistency,
)

__all__ = [
    "AddCheckpoint",
    "CosignerSigner",
    "Witness",
    "format_add_checkpoint",
    "parse_add_checkpoint",
]

KEY_FILE = "witness-key"
LOGS_FILE = "witness-logs"
STATE_FILE = "witness-state.json"
LOCK_FILE = "witness.lock"
#: C2SP tlog-witness: a client MUST NOT send more than 63 consistency proof lines.
MAX_PROOF_LINES = 63

_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)\Z", re.ASCII)


@dataclass(frozen=True, eq=False)
class CosignerSigner:
    """A witness's Ed25519 key; :meth:`cosign` returns one ``cosignature/v1`` note line."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)
    verifier: CosignerVerifier = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise InvalidInput(
                f"witness name {self.name!r} must be non-empty, without spaces or '+', "
                "e.g. 'witness.example.org/w1'",
                details={"field": "name"},
            )
        public = self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        object.__setattr__(self, "verifier", CosignerVerifier.from_public_key(self.name, public))

    @classmethod
    def generate(cls, name: str) -> CosignerSigner:
        return cls(name=name, private_key=Ed25519PrivateKey.generate())

    @classmethod
    def from_key(cls, skey: str) -> CosignerSigner:
        """Parse ``PRIVATE+KEY+<name>+<8 hex>+<base64(0x04 || seed)>``."""
        match = re.fullmatch(r"PRIVATE\+KEY\+([^+]+)\+([0-9a-fA-F]{8})\+(\S+)", skey.strip())
        if match is None:
            raise InvalidInput(
                "a witness key reads PRIVATE+KEY+<name>+<8 hex digits>+<base64 key>",
                details={"field": "witness_key"},
            )
        name, hash_hex, key_b64 = match.groups()
        try:
            key = base64.b64decode(key_b64, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 33 or key[0] != ALG_COSIGNATURE_V1:
            raise InvalidInput(
                "the witness key must hold 0x04 followed by a 32-byte Ed25519 seed",
                details={"field": "witness_key"},
            )
        signer = cls(name=name, private_key=Ed25519PrivateKey.from_private_bytes(key[1:]))
        if signer.verifier.key_hash != int(hash_hex, 16):
            raise InvalidInput(
                "the witness key's hash does not match its key; the key file is corrupt",
                details={"field": "witness_key"},
            )
        return signer

    @property
    def verifier_key(self) -> str:
        return self.verifier.to_key()

    def to_key(self) -> str:
        seed = self.private_key.private_bytes_raw()
        encoded = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + seed).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_hash:08x}+{encoded}"

    def cosign(self, body: str, timestamp: int) -> str:
        """The signature line ``— <name> base64(key hash || timestamp || signature)``."""
        signature = self.private_key.sign(cosignature_message(body, timestamp))
        blob = self.verifier.key_hash.to_bytes(4, "big") + timestamp.to_bytes(8, "big")
        return f"\u2014 {self.name} {base64.b64encode(blob + signature).decode('ascii')}\n"


# --- the add-checkpoint request (C2SP tlog-witness) ---------------------------------------


@dataclass(frozen=True)
class AddCheckpoint:
    """A parsed ``add-checkpoint`` request body."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """``old <size>``, one base64 hash a line, an empty line, then the signed note."""
    lines = [f"old {old_size}\n", *(base64.b64encode(h).decode("ascii") + "\n" for h in proof)]
    return ("".join(lines) + "\n" + note).encode("utf-8")


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse an ``add-checkpoint`` body; :class:`InvalidInput` (reason ``bad_request``)."""

    def bad(why: str) -> InvalidInput:
        return InvalidInput(f"bad add-checkpoint request: {why}", details={"reason": "bad_request"})

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad("not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise bad("no empty line before the checkpoint")
    first, *hashes = head.split("\n")
    if not first.startswith("old ") or not _DECIMAL.match(first[4:]):
        raise bad("the first line must be 'old <size>'")
    # A tree size is unsigned 64-bit; the length check keeps int() from its ValueError.
    if len(first) > 4 + 20 or int(first[4:]) > MAX_TREE_SIZE:
        raise bad("the old size is above the largest tree size 2^64 - 1")
    if len(hashes) > MAX_PROOF_LINES:
        raise bad(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in hashes:
        try:
            value = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            value = b""
        if len(value) != HASH_SIZE:
            raise bad(f"proof line {line[:50]!r} is not a base64 SHA-256 hash")
        proof.append(value)
    return AddCheckpoint(old_size=int(first[4:]), proof=tuple(proof), note=note)


# --- the witness --------------------------------------------------------------------------


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _read_logs(path: Path) -> dict[str, tuple[NoteVerifier, ...]]:
    logs: dict[str, list[NoteVerifier]] = {}
    if not path.exists():
        return {}
    for number, raw in enumerate(path.read_text("utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        try:
            verifier = NoteVerifier.from_key(parts[-1])
        except VerificationError as exc:
            raise InvalidInput(
                f"{path}:{number}: not a log verifier key ({exc})", details={"field": "logs"}
            ) from None
        origin = parts[0] if len(parts) == 2 else verifier.name
        logs.setdefault(origin, []).append(verifier)
    return {origin: tuple(keys) for origin, keys in logs.items()}


class Witness:
    """A witness over the directory ``path``; see the module docstring for its files."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            skey = (path / KEY_FILE).read_text("ascii")
        except OSError:
            raise NotFound(
                f"no witness key in {path}; run `loupe witness init --dir {path}` first",
                details={"field": "dir"},
            ) from None
        self.signer = CosignerSigner.from_key(skey)
        self.logs = _read_logs(path / LOGS_FILE)
        self._lock = threading.Lock()

    @classmethod
    def init(cls, path: Path, *, name: str, log_keys: Sequence[str] = ()) -> Witness:
        """Create the directory and key if absent (idempotent) and trust ``log_keys``."""
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not (path / KEY_FILE).exists():
            _write_private(path / KEY_FILE, CosignerSigner.generate(name).to_key() + "\n")
        known = {key for keys in _read_logs(path / LOGS_FILE).values() for key in keys}
        with (path / LOGS_FILE).open("a", encoding="utf-8") as handle:
            for key in log_keys:
                try:
                    verifier = NoteVerifier.from_key(key.strip())
                except VerificationError as exc:
                    raise InvalidInput(
                        f"not a log verifier key: {exc}", details={"field": "log_key"}
                    ) from None
                if verifier not in known:
                    handle.write(verifier.to_key() + "\n")
                    known.add(verifier)
        return cls(path)

    @property
    def verifier_key(self) -> str:
        return self.signer.verifier_key

    def state(self) -> dict[str, Checkpoint]:
        """The last checkpoint cosigned per origin."""
        path = self.path / STATE_FILE
        if not path.exists():
            return {}
        raw: Mapping[str, Mapping[str, object]] = json.loads(path.read_text("utf-8"))
        return {
            origin: Checkpoint.from_text(str(item["checkpoint"])) for origin, item in raw.items()
        }

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # A thread lock for this process, a file lock for other processes on the directory.
        with self._lock, (self.path / LOCK_FILE).open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def add_checkpoint(
        self, *, old_size: int, proof: Sequence[bytes], note: str, now: int | None = None
    ) -> list[str]:
        """Check ``note`` against what was cosigned before; store it and return cosignatures."""
        # Split where open_note splits, at the last blank line: a log-signed note whose
        # text holds a blank line must not be cosigned as the checkpoint before it.
        text, sep, _ = note.rpartition("\n\n")
        if not sep:
            raise InvalidInput(
                "the checkpoint is not a signed note", details={"reason": "bad_request"}
            )
        body = text + "\n"
        try:
            checkpoint = Checkpoint.from_text(body)
        except VerificationError as exc:
            raise InvalidInput(
                f"not a checkpoint: {exc}", details={"reason": "bad_request"}
            ) from None
        keys = self.logs.get(checkpoint.origin)
        if keys is None:
            raise NotFound(
                f"this witness does not witness the log {checkpoint.origin!r}",
                details={"origin": checkpoint.origin},
            )
        try:
            open_note(note, keys)
        except VerificationError as exc:
            raise PermissionDenied(
                f"the checkpoint is not signed by a key this witness trusts for "
                f"{checkpoint.origin!r}: {exc}"
            ) from None
        if old_size > checkpoint.size:
            raise InvalidInput(
                f"old size {old_size} is larger than the checkpoint's size {checkpoint.size}",
                details={"reason": "bad_request"},
            )
        with self._locked():
            states = self._load_raw()
            stored = states.get(checkpoint.origin)
            last = Checkpoint.from_text(str(stored["checkpoint"])) if stored else None
            last_size = last.size if last else 0
            if old_size != last_size:
                raise Conflict(
                    f"this witness last cosigned size {last_size} of {checkpoint.origin!r}, "
                    f"not {old_size}; send a consistency proof from size {last_size}",
                    details={"size": last_size},
                )
            if last is not None and last.size == checkpoint.size:
                if last.root_hash != checkpoint.root_hash:
                    raise LedgerIntegrityError(
                        f"split view: {checkpoint.origin!r} at size {checkpoint.size} has root "
                        f"{base64.b64encode(checkpoint.root_hash).decode()} here but this "
                        f"witness cosigned root {base64.b64encode(last.root_hash).decode()}",
                        details={"reason": "split_view", "size": checkpoint.size},
                    )
            elif last is None or old_size == 0:
                if proof:
                    raise InvalidInput(
                        "the consistency proof must be empty when the old size is 0",
                        details={"reason": "bad_proof"},
                    )
            else:
                try:
                    verify_consistency(
                        last.size, checkpoint.size, proof, last.root_hash, checkpoint.root_hash
                    )
                except VerificationError as exc:
                    raise InvalidInput(
                        f"the log's history changed: no valid consistency proof from the "
                        f"cosigned size {last.size} to {checkpoint.size} ({exc})",
                        details={"reason": "bad_proof"},
                    ) from None
            states[checkpoint.origin] = {
                "size": checkpoint.size,
                "root_hash": base64.b64encode(checkpoint.root_hash).decode("ascii"),
                "checkpoint": body,
            }
            _write_private(self.path / STATE_FILE, json.dumps(states, indent=2) + "\n")
        timestamp = int(time.time()) if now is None else now
        return [self.signer.cosign(body, timestamp)]

    def _load_raw(self) -> dict[str, dict[str, object]]:
        path = self.path / STATE_FILE
        if not path.exists():
            return {}
        loaded: dict[str, dict[str, object]] = json.loads(path.read_text("utf-8"))
        return loaded
