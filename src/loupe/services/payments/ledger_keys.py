"""The ledger's key directory: signing key, verifier keys and pseudonym secret.

Kept outside the database, so a database dump alone can neither forge checkpoints nor
link pseudonyms to people. The directory (``Settings.key_dir``) is created mode 0700 and
holds three files::

    ledger-secret      64 hex digits: the HMAC secret for pseudonyms      (0600)
    ledger-signer      PRIVATE+KEY+<name>+<hash>+<base64>: the current key (0600)
    ledger-verifiers   every verifier key ever used, one a line, oldest first

Rotation replaces the signer and appends its verifier key; old verifier keys stay, so
checkpoints signed before the rotation still verify. The secret never rotates: a new
secret would give every contributor a new pseudonym.

Example::

    >>> import tempfile, pathlib
    >>> keys = init_keys(pathlib.Path(tempfile.mkdtemp()) / "k", origin="example.org/pay")
    >>> keys.signer.name, len(keys.verifier_keys)
    ('example.org/pay', 1)
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from loupe.errors import Conflict, InvalidInput
from loupe.ledger.checkpoint import NoteSigner
from loupe.ledger.entries import MIN_SECRET_BYTES
from loupe.ledger.verify import NoteVerifier, VerificationError
from loupe.settings import Settings

__all__ = [
    "LedgerConfig",
    "LedgerKeys",
    "init_keys",
    "ledger_config",
    "load_keys",
    "optional_ledger_config",
    "rotate_signer",
]

SECRET_FILE = "ledger-secret"
SIGNER_FILE = "ledger-signer"
VERIFIERS_FILE = "ledger-verifiers"
FILES = (SECRET_FILE, SIGNER_FILE, VERIFIERS_FILE)


@dataclass(frozen=True, eq=False)
class LedgerKeys:
    """What the ledger service signs and pseudonymises with."""

    secret: bytes
    signer: NoteSigner
    verifier_keys: tuple[str, ...]  # oldest first; includes the current signer's

    @property
    def origin(self) -> str:
        return self.signer.name


@dataclass(frozen=True, eq=False)
class LedgerConfig:
    """What a service that appends to the log needs: the keys and the checkpoint cadence."""

    keys: LedgerKeys
    checkpoint_every: int = 1_000


def ledger_config(settings: Settings) -> LedgerConfig:
    """The ledger configuration for ``settings`` (keys from ``settings.resolved_key_dir()``)."""
    return LedgerConfig(
        keys=load_keys(settings.resolved_key_dir()),
        checkpoint_every=settings.ledger_checkpoint_every,
    )


def optional_ledger_config(settings: Settings) -> LedgerConfig | None:
    """:func:`ledger_config`, or ``None`` when the key directory has not been created.

    For paths that only sometimes append (a label earns only under a rate card).
    """
    key_dir = settings.resolved_key_dir()
    try:
        stamps = _stamps(key_dir)
    except FileNotFoundError:
        return None
    # Every submit asks: the directory is resolved once and the files stat'ed once.
    return LedgerConfig(
        keys=_load(str(key_dir.resolve()), stamps),
        checkpoint_every=settings.ledger_checkpoint_every,
    )


def _write_private(path: Path, text: str) -> None:
    # Created 0600 from the start (no window where another user could read it).
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _make_dir(key_dir: Path) -> None:
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(key_dir, 0o700)


def init_keys(key_dir: Path, *, origin: str) -> LedgerKeys:
    """Create the key directory's files if absent (idempotent) and return the keys."""
    _make_dir(key_dir)
    if not (key_dir / SECRET_FILE).exists():
        _write_private(key_dir / SECRET_FILE, secrets.token_bytes(MIN_SECRET_BYTES).hex() + "\n")
    if not (key_dir / SIGNER_FILE).exists():
        signer = NoteSigner.generate(origin)
        _write_private(key_dir / SIGNER_FILE, signer.to_key() + "\n")
        with (key_dir / VERIFIERS_FILE).open("a", encoding="ascii") as handle:
            handle.write(signer.verifier_key + "\n")
    return load_keys(key_dir)


def rotate_signer(key_dir: Path, *, origin: str | None = None) -> LedgerKeys:
    """Replace the signing key; keep every earlier verifier key. Returns the new keys."""
    current = load_keys(key_dir)
    signer = NoteSigner.generate(origin or current.origin)
    # Publish the new verifier first: a crash between the two writes leaves an unused
    # verifier key, never a signer whose checkpoints nobody can verify.
    with (key_dir / VERIFIERS_FILE).open("a", encoding="ascii") as handle:
        handle.write(signer.verifier_key + "\n")
    _write_private(key_dir / SIGNER_FILE, signer.to_key() + "\n")
    return load_keys(key_dir)


def load_keys(key_dir: Path) -> LedgerKeys:
    """The keys in ``key_dir``; cached until one of its files changes."""
    try:
        stamps = _stamps(key_dir)
    except FileNotFoundError:
        raise Conflict(
            f"the ledger keys are missing from {key_dir}; run `loupe init` (or set "
            "LOUPE_KEY_DIR to the directory that holds them)",
            details={"key_dir": str(key_dir)},
        ) from None
    return _load(str(key_dir.resolve()), stamps)


def _stamps(key_dir: Path) -> tuple[int, ...]:
    """The key files' modification times (``FileNotFoundError`` if one is missing)."""
    return tuple(os.stat(os.path.join(key_dir, name)).st_mtime_ns for name in FILES)


@lru_cache(maxsize=8)
def _load(key_dir: str, _stamps: tuple[int, ...]) -> LedgerKeys:
    root = Path(key_dir)
    try:
        secret = bytes.fromhex((root / SECRET_FILE).read_text("ascii").strip())
        signer = NoteSigner.from_key((root / SIGNER_FILE).read_text("ascii").strip())
        lines = (root / VERIFIERS_FILE).read_text("ascii").split()
        verifiers = tuple(dict.fromkeys(line.strip() for line in lines if line.strip()))
        for key in verifiers:
            NoteVerifier.from_key(key)
    except (ValueError, VerificationError, InvalidInput) as exc:
        raise InvalidInput(
            f"the ledger key directory {key_dir} holds a corrupt file: {exc}",
            details={"key_dir": key_dir},
        ) from None
    if len(secret) < MIN_SECRET_BYTES:
        raise InvalidInput(
            f"{root / SECRET_FILE} must hold at least {MIN_SECRET_BYTES} random bytes as hex",
            details={"key_dir": key_dir},
        )
    if signer.verifier_key not in verifiers:
        raise InvalidInput(
            f"the current signing key's verifier key is not listed in {root / VERIFIERS_FILE}; "
            "append it there so checkpoints can be verified",
            details={"key_dir": key_dir},
        )
    return LedgerKeys(secret=secret, signer=signer, verifier_keys=verifiers)
