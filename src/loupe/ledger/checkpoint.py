"""Signing the log's tree heads: C2SP ``tlog-checkpoint`` bodies in C2SP ``signed-note``s.

The format is the one of Go's checksum database (``golang.org/x/mod/sumdb/note``) and
transparency-dev logs, so their tools can read Loupe's checkpoints::

    <origin>
    <tree size>
    <base64 root hash>

    — <key name> <base64(4-byte key hash || 64-byte Ed25519 signature)>

The key hash is the first 4 bytes of ``SHA-256(key name || "\\n" || 0x01 || public key)``.
Verification lives in :mod:`loupe.ledger.verify` (stand-alone); only signing is here.

Key rotation: generate a new :class:`NoteSigner`, publish its verifier key next to the
old one, and sign with both for a while (``sign_checkpoint(cp, [new, old])``). Clients keep
every verifier key they ever trusted, so checkpoints signed with a retired key still verify.

Example::

    >>> from loupe.ledger.verify import EMPTY_ROOT, verify_checkpoint
    >>> signer = NoteSigner.generate("ledger.example.org")
    >>> note = sign_checkpoint(Checkpoint("ledger.example.org", 0, EMPTY_ROOT), [signer])
    >>> verify_checkpoint(note, [signer.verifier_key]).size
    0
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from loupe.errors import InvalidInput
from loupe.ledger.verify import (
    ALG_ED25519,
    Checkpoint,
    NoteVerifier,
    VerificationError,
    is_valid_key_name,
)

__all__ = [
    "Checkpoint",
    "NoteSigner",
    "generate_key_pair",
    "make_checkpoint",
    "sign_checkpoint",
    "sign_note",
]

_PRIVATE_PREFIX = "PRIVATE+KEY+"


@dataclass(frozen=True, eq=False)
class NoteSigner:
    """An Ed25519 signing key with its signed-note name.

    Keep :meth:`to_key` (``PRIVATE+KEY+<name>+<hash>+<base64>``) secret; publish
    :attr:`verifier_key`::

        >>> signer = NoteSigner.from_key(
        ...     "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
        >>> signer.verifier_key
        'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'
    """

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)
    verifier: NoteVerifier = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise InvalidInput(
                f"key name {self.name!r} must be non-empty, without spaces, '+' or control "
                "characters; use the log's origin, e.g. 'ledger.example.org'",
                details={"field": "name"},
            )
        public = self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        object.__setattr__(self, "verifier", NoteVerifier.from_public_key(self.name, public))

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        """A fresh random key named ``name``."""
        return cls(name=name, private_key=Ed25519PrivateKey.generate())

    @classmethod
    def from_key(cls, skey: str) -> NoteSigner:
        """Parse a signer key ``PRIVATE+KEY+<name>+<8 hex>+<base64(0x01 || seed)>``."""
        match = re.fullmatch(r"PRIVATE\+KEY\+([^+]+)\+([0-9a-fA-F]{8})\+(\S+)", skey)
        if match is None:
            raise InvalidInput(
                "a signer key reads PRIVATE+KEY+<name>+<8 hex digits>+<base64 key>",
                details={"field": "signer_key"},
            )
        name, hash_hex, key_b64 = match.groups()
        try:
            key = base64.b64decode(key_b64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(
                "the signer key's last part is not valid base64", details={"field": "signer_key"}
            ) from None
        if len(key) != 33 or key[0] != ALG_ED25519:
            raise InvalidInput(
                "the signer key must hold 0x01 followed by a 32-byte Ed25519 seed",
                details={"field": "signer_key"},
            )
        signer = cls(name=name, private_key=Ed25519PrivateKey.from_private_bytes(key[1:]))
        if signer.key_hash != int(hash_hex, 16):
            raise InvalidInput(
                f"the signer key's hash {hash_hex} does not match its key "
                f"({signer.key_hash:08x}); the key string is corrupt",
                details={"field": "signer_key"},
            )
        return signer

    @property
    def key_hash(self) -> int:
        """The 32-bit key hash that prefixes each signature."""
        return self.verifier.key_hash

    @property
    def verifier_key(self) -> str:
        """The public verifier key string ``<name>+<hash>+<base64(0x01 || pub)>``."""
        return self.verifier.to_key()

    def to_key(self) -> str:
        """The secret signer key string, in Go's ``note.NewSigner`` format."""
        seed = self.private_key.private_bytes_raw()
        encoded = base64.b64encode(bytes([ALG_ED25519]) + seed).decode("ascii")
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_hash:08x}+{encoded}"

    def sign(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of ``message``."""
        return self.private_key.sign(message)


def generate_key_pair(name: str) -> tuple[str, str]:
    """A new ``(signer key, verifier key)`` pair of strings, like Go's ``note.GenerateKey``."""
    signer = NoteSigner.generate(name)
    return signer.to_key(), signer.verifier_key


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """Sign ``text`` (ending in a newline) with each signer, in order, as a signed note."""
    if not signers:
        raise InvalidInput("give at least one signer", details={"field": "signers"})
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise InvalidInput(
            "note text must be non-empty lines, each ending in a newline",
            details={"field": "text"},
        )
    message = text.encode("utf-8")
    lines = []
    for signer in signers:
        blob = signer.key_hash.to_bytes(4, "big") + signer.sign(message)
        lines.append(f"\u2014 {signer.name} {base64.b64encode(blob).decode('ascii')}\n")
    return text + "\n" + "".join(lines)


def make_checkpoint(
    origin: str, size: int, root_hash: bytes, *, extensions: Sequence[str] = ()
) -> Checkpoint:
    """A :class:`Checkpoint`, raising :class:`~loupe.errors.InvalidInput` when malformed."""
    try:
        return Checkpoint(
            origin=origin, size=size, root_hash=root_hash, extensions=tuple(extensions)
        )
    except VerificationError as exc:
        raise InvalidInput(str(exc), details={"field": "checkpoint"}) from None


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[NoteSigner]) -> str:
    """The signed note for ``checkpoint`` (verify with ``verify.verify_checkpoint``)."""
    return sign_note(checkpoint.to_text(), signers)
