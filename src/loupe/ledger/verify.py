"""Stand-alone verification of Loupe's payment log: Merkle proofs and signed checkpoints.

This module is meant to be copied out of Loupe and run by a contributor, an auditor or a
third-party monitor: it imports only the Python standard library and, for Ed25519
signatures, ``cryptography``. It never imports anything else from ``loupe``.

Convention: every ``verify_*`` function returns normally when the claim holds and raises
:class:`VerificationError` (with the reason) when it does not; ``is_included`` and
``is_consistent`` are ``bool`` wrappers for callers who do not need the reason.

What is checked:

* Inclusion (RFC 9162 §2.1.3.2): a leaf hash sits at ``index`` of the tree of ``tree_size``
  leaves whose root is ``root``.
* Consistency (RFC 9162 §2.1.4.2): the tree of ``size1`` leaves is a prefix of the tree of
  ``size2`` leaves, i.e. nothing earlier was rewritten.
* Signed notes (C2SP ``signed-note``) holding checkpoints (C2SP ``tlog-checkpoint``): the
  log's tree head is signed with an Ed25519 key named in a verifier key
  ``<name>+<8 hex digits of key hash>+<base64(0x01 || public key)>``.
* Witness cosignatures (C2SP ``tlog-cosignature``, ``cosignature/v1``): a quorum of the
  witness keys the caller trusts (``<name>+<hash>+<base64(0x04 || public key)>``) signed
  ``"cosignature/v1\\ntime <t>\\n" || checkpoint body``, so a log that re-signs a rewritten
  history, or shows different histories to different people, is caught.

Hashing is RFC 6962's: ``leaf = SHA-256(0x00 || data)``, ``node = SHA-256(0x01 || l || r)``
and the root of the empty tree is ``SHA-256("")``.

Example, the one-leaf tree::

    >>> leaf = hash_leaf(b"hello")
    >>> verify_inclusion(leaf, 0, 1, [], leaf)
    >>> is_included(leaf, 0, 2, [], leaf)
    False
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Checkpoint",
    "CosignedCheckpoint",
    "CosignerVerifier",
    "Note",
    "NoteSignature",
    "NoteVerifier",
    "VerificationError",
    "cosignature_message",
    "hash_leaf",
    "hash_node",
    "is_consistent",
    "is_included",
    "is_valid_key_name",
    "note_key_hash",
    "open_note",
    "root_from_inclusion_proof",
    "verify_checkpoint",
    "verify_consistency",
    "verify_cosigned_checkpoint",
    "verify_entry_in_checkpoint",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

#: Signed-note algorithm byte for Ed25519 (the only one the format defines for signing).
ALG_ED25519 = 0x01
#: Signed-note algorithm byte of C2SP ``tlog-cosignature`` ``cosignature/v1`` (Ed25519, timed).
ALG_COSIGNATURE_V1 = 0x04
#: Tree sizes are unsigned 64-bit integers in C2SP tlog-checkpoint.
MAX_TREE_SIZE = 2**64 - 1
#: Go's note package rejects notes with more signatures than this; so do we.
MAX_SIGNATURES = 100

_SIG_PREFIX = "\u2014 "  # em dash, space
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)\Z", re.ASCII)


class VerificationError(Exception):
    """A proof, checkpoint or signature does not verify; the message says why."""


# --- hashing -----------------------------------------------------------------------------


def hash_leaf(data: bytes) -> bytes:
    """RFC 6962 leaf hash: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def hash_node(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _check_size(value: int, what: str) -> None:
    # bool is an int; a True "size" is a bug in the caller, not a tree of one leaf.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise VerificationError(f"{what} must be a non-negative integer, got {value!r}")


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        size = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise VerificationError(f"{what} must be {HASH_SIZE} bytes, got {size}")


def _check_proof(proof: Sequence[bytes]) -> list[bytes]:
    # A str or bytes is iterable too, but never a list of hashes; None and numbers are not.
    if isinstance(proof, str | bytes | bytearray) or not isinstance(proof, Iterable):
        raise VerificationError(f"a proof is a list of hashes, got {type(proof).__name__}")
    path = list(proof)
    for position, element in enumerate(path):
        _check_hash(element, f"proof[{position}]")
    return [bytes(element) for element in path]


# --- inclusion ---------------------------------------------------------------------------


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes]
) -> bytes:
    """The root implied by an inclusion proof (RFC 9162 §2.1.3.2 steps 1-4).

    Raises :class:`VerificationError` when the proof cannot belong to any tree of
    ``tree_size`` (index out of range, too many or too few hashes, wrong hash sizes).
    """
    _check_size(index, "index")
    _check_size(tree_size, "tree_size")
    if index >= tree_size:
        raise VerificationError(f"index {index} is not below tree size {tree_size}")
    _check_hash(leaf_hash, "leaf hash")
    path = _check_proof(proof)

    fn, sn = index, tree_size - 1
    r = bytes(leaf_hash)
    for p in path:
        if sn == 0:
            raise VerificationError(
                f"inclusion proof has {len(path)} hashes, too many for index {index} "
                f"in a tree of {tree_size}"
            )
        if fn & 1 or fn == sn:
            r = hash_node(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = hash_node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError(
            f"inclusion proof has {len(path)} hashes, too few for index {index} "
            f"in a tree of {tree_size}"
        )
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with ``root``.

    Returns ``None`` on success and raises :class:`VerificationError` otherwise.
    """
    calculated = root_from_inclusion_proof(leaf_hash, index, tree_size, proof)
    _check_hash(root, "root")
    if not hmac.compare_digest(calculated, bytes(root)):
        raise VerificationError(
            f"inclusion proof for index {index} leads to root {calculated.hex()}, "
            f"not the expected {bytes(root).hex() or '(empty)'}"
        )


def is_included(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """``True`` when :func:`verify_inclusion` accepts, ``False`` when it raises."""
    try:
        verify_inclusion(leaf_hash, index, tree_size, proof, root)
    except VerificationError:
        return False
    return True


# --- consistency -------------------------------------------------------------------------


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size1`` (``root1``) is a prefix of that of ``size2`` (``root2``).

    RFC 9162 §2.1.4.2, with the policy of the transparency-dev/merkle test vectors: equal
    sizes need an empty proof and equal roots; ``size1 == 0`` is always rejected, because
    consistency with the empty tree proves nothing. Returns ``None`` or raises
    :class:`VerificationError`.
    """
    _check_size(size1, "size1")
    _check_size(size2, "size2")
    if size1 > size2:
        raise VerificationError(f"size1 ({size1}) is larger than size2 ({size2})")
    if size1 == 0:
        raise VerificationError(
            "size1 is 0: every tree extends the empty tree, so such a proof proves nothing"
        )
    for root, what in ((root1, "root1"), (root2, "root2")):
        if not isinstance(root, bytes | bytearray):
            raise VerificationError(f"{what} must be bytes, got {type(root).__name__}")
    path = _check_proof(proof)
    if size1 == size2:
        if path:
            raise VerificationError(
                f"sizes are equal ({size1}), so the proof must be empty; got {len(path)} hashes"
            )
        if not hmac.compare_digest(bytes(root1), bytes(root2)):
            raise VerificationError(f"sizes are equal ({size1}) but the roots differ")
        return
    if not path:
        raise VerificationError(f"empty consistency proof from size {size1} to {size2}")
    _check_hash(root1, "root1")
    _check_hash(root2, "root2")

    # RFC 9162 §2.1.4.2, step by step.
    if size1 & (size1 - 1) == 0:  # size1 is an exact power of two
        path.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError(
                f"consistency proof from size {size1} to {size2} has too many hashes"
            )
        if fn & 1 or fn == sn:
            fr = hash_node(c, fr)
            sr = hash_node(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = hash_node(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError(
            f"consistency proof from size {size1} to {size2} has too few hashes"
        )
    if not hmac.compare_digest(fr, bytes(root1)):
        raise VerificationError(f"consistency proof does not lead to root1 of size {size1}")
    if not hmac.compare_digest(sr, bytes(root2)):
        raise VerificationError(f"consistency proof does not lead to root2 of size {size2}")


def is_consistent(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> bool:
    """``True`` when :func:`verify_consistency` accepts, ``False`` when it raises."""
    try:
        verify_consistency(size1, size2, proof, root1, root2)
    except VerificationError:
        return False
    return True


# --- signed notes (C2SP signed-note) -----------------------------------------------------


def is_valid_key_name(name: str) -> bool:
    """A key name is non-empty and holds neither whitespace nor ``+`` (signed-note rule)."""
    if not name or "+" in name or any(ch.isspace() for ch in name):
        return False
    return _is_note_safe(name)


def _is_note_safe(text: str) -> bool:
    # Signed notes are UTF-8 without ASCII control characters other than newline.
    return not any(ord(ch) < 0x20 and ch != "\n" for ch in text) and not any(
        0xD800 <= ord(ch) <= 0xDFFF for ch in text
    )


def note_key_hash(name: str, encoded_key: bytes) -> int:
    """The 32-bit key hash: the first 4 bytes of ``SHA-256(name || "\\n" || encoded_key)``.

    ``encoded_key`` is the algorithm byte followed by the public key (``0x01 || pub``).
    """
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + encoded_key).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True)
class _NamedKey:
    """An Ed25519 public key under a signed-note name, for the algorithm byte of the
    subclass: its key hash is ``SHA-256(name || "\\n" || algorithm || public key)[:4]``."""

    ALGORITHM: ClassVar[int]

    name: str
    key_hash: int
    public_key: bytes

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise VerificationError(
                f"key name {self.name!r} must be non-empty, without spaces or '+'"
            )
        if len(self.public_key) != 32:
            raise VerificationError("an Ed25519 public key is 32 bytes")
        expected = note_key_hash(self.name, bytes([self.ALGORITHM]) + self.public_key)
        if self.key_hash != expected:
            raise VerificationError(
                f"key hash {self.key_hash:08x} does not match name and key ({expected:08x})"
            )

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> Self:
        """The key for a raw 32-byte Ed25519 public key under ``name``."""
        key_hash = note_key_hash(name, bytes([cls.ALGORITHM]) + public_key)
        return cls(name=name, key_hash=key_hash, public_key=bytes(public_key))

    def to_key(self) -> str:
        """The verifier key string ``<name>+<8 hex>+<base64(algorithm || key)>``, as
        published."""
        encoded = base64.b64encode(bytes([self.ALGORITHM]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_hash:08x}+{encoded}"


@dataclass(frozen=True)
class NoteVerifier(_NamedKey):
    """An Ed25519 public key with its signed-note name and key hash.

    Build one from the published verifier key string::

        >>> v = NoteVerifier.from_key(
        ...     "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        >>> v.name, f"{v.key_hash:08x}"
        ('PeterNeumann', 'c74f20a3')
    """

    ALGORITHM: ClassVar[int] = ALG_ED25519

    @classmethod
    def from_key(cls, vkey: str) -> NoteVerifier:
        """Parse ``<name>+<8 hex digits>+<base64(0x01 || public key)>``."""
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise VerificationError(
                "a verifier key reads <name>+<8 hex digits>+<base64 key>; got "
                f"{len(parts)} '+'-separated parts"
            )
        name, hash_hex, key_b64 = parts
        if not re.fullmatch(r"[0-9a-fA-F]{8}", hash_hex):
            raise VerificationError(f"verifier key hash {hash_hex!r} must be 8 hex digits")
        key = _b64decode(key_b64, "verifier key")
        if not key:
            raise VerificationError("verifier key data is empty")
        if key[0] != ALG_ED25519:
            raise VerificationError(
                f"verifier key algorithm {key[0]} is unknown; only Ed25519 (1) is supported"
            )
        if note_key_hash(name, key) != int(hash_hex, 16):
            raise VerificationError(f"verifier key hash {hash_hex} does not match its key")
        return cls(name=name, key_hash=int(hash_hex, 16), public_key=key[1:])

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note: the key's name and hash, and the base64 payload."""

    name: str
    key_hash: int
    signature_b64: str


@dataclass(frozen=True)
class Note:
    """An opened note: its text and which signatures were verified with known keys."""

    text: str
    signatures: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise VerificationError(f"{what} is not valid base64: {exc}") from None


def _key_list(keys: object, what: str) -> list[object]:
    # A single key string is iterable (by character); it is a mistake, not a list of keys.
    if isinstance(keys, str | bytes) or not isinstance(keys, Iterable):
        raise VerificationError(f"give a list of {what} keys, got {type(keys).__name__}")
    return list(keys)


def open_note(message: str | bytes, verifiers: Iterable[NoteVerifier | str]) -> Note:
    """Parse a signed note and verify its signatures against known keys.

    Follows Go's ``golang.org/x/mod/sumdb/note.Open``: signatures by unknown keys are
    kept as unverified; a signature by a known key that does not verify rejects the whole
    note; at least one known key must have signed. ``verifiers`` may mix
    :class:`NoteVerifier` objects and verifier key strings, so a client can keep retired
    keys alongside the current one and still verify old checkpoints.
    """
    if not isinstance(message, str | bytes):
        raise VerificationError(f"a signed note is text, got {type(message).__name__}")
    if isinstance(message, bytes):
        try:
            text_all = message.decode("utf-8")
        except UnicodeDecodeError:
            raise VerificationError("a signed note must be valid UTF-8") from None
    else:
        text_all = message
    if not _is_note_safe(text_all):
        raise VerificationError("a signed note must not hold control characters but newline")
    known: dict[tuple[str, int], NoteVerifier] = {}
    for item in _key_list(verifiers, "verifier"):
        verifier = NoteVerifier.from_key(item) if isinstance(item, str) else item
        if not isinstance(verifier, NoteVerifier):
            raise VerificationError(
                f"a log verifier is a key string or NoteVerifier, got {type(item).__name__}"
            )
        pair = (verifier.name, verifier.key_hash)
        if pair in known and known[pair] != verifier:
            raise VerificationError(f"two different keys share {pair[0]}+{pair[1]:08x}")
        known[pair] = verifier

    split = text_all.rfind("\n\n")
    if split < 0:
        raise VerificationError("a signed note needs a blank line before its signatures")
    text, sig_block = text_all[: split + 1], text_all[split + 2 :]
    if not sig_block.endswith("\n"):
        raise VerificationError("a signed note must end with a newline after its signatures")
    message_bytes = text.encode("utf-8")

    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen: set[tuple[str, int]] = set()
    seen_unverified: set[str] = set()
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise VerificationError(f"a note may carry at most {MAX_SIGNATURES} signatures")
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise VerificationError(f"signature line {line!r} must start with an em dash")
        name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        if not is_valid_key_name(name) or not b64:
            raise VerificationError(f"signature line {line!r} is malformed")
        raw = _b64decode(b64, "signature")
        if len(raw) < 5:
            raise VerificationError(f"signature line {line!r} is too short")
        key_hash, signature = int.from_bytes(raw[:4], "big"), raw[4:]
        known_key = known.get((name, key_hash))
        record = NoteSignature(name=name, key_hash=key_hash, signature_b64=b64)
        if known_key is None:
            if line not in seen_unverified:
                seen_unverified.add(line)
                unverified.append(record)
            continue
        if (name, key_hash) in seen:
            continue
        seen.add((name, key_hash))
        if not known_key.verify(message_bytes, signature):
            raise VerificationError(f"invalid signature for key {name}+{key_hash:08x}")
        verified.append(record)
    if not verified:
        raise VerificationError("the note carries no signature by any of the given keys")
    return Note(text=text, signatures=tuple(verified), unverified=tuple(unverified))


# --- checkpoints (C2SP tlog-checkpoint) --------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size and root hash, plus optional extension lines.

    ``to_text()`` gives the note body that is signed::

        >>> print(Checkpoint("example.org/log", 0, EMPTY_ROOT).to_text(), end="")
        example.org/log
        0
        47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for what, line in [("origin", self.origin), *(("extension", e) for e in self.extensions)]:
            if not line or "\n" in line or not _is_note_safe(line):
                raise VerificationError(
                    f"checkpoint {what} {line!r} must be a non-empty line of printable text"
                )
        _check_size(self.size, "checkpoint size")
        _check_hash(self.root_hash, "checkpoint root hash")

    def to_text(self) -> str:
        """The checkpoint body: ``origin``, size, base64 root, extensions, one per line."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions)
        )

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body (the text of a note, ending in a newline)."""
        if not text.endswith("\n"):
            raise VerificationError("a checkpoint body must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise VerificationError("a checkpoint needs origin, size and root hash lines")
        origin, size, root, *extensions = lines
        if not _DECIMAL.match(size):
            raise VerificationError(f"checkpoint size {size[:40]!r} must be a decimal integer")
        # Tree sizes are unsigned 64-bit (C2SP tlog-checkpoint, Go's parser); checking the
        # length first also keeps int() from its ValueError on more than 4,300 digits.
        if len(size) > 20 or int(size) > MAX_TREE_SIZE:
            raise VerificationError(
                f"checkpoint size {size[:40]!r} is above the largest tree size 2^64 - 1"
            )
        root_hash = _b64decode(root, "checkpoint root hash")
        if base64.b64encode(root_hash).decode("ascii") != root:
            raise VerificationError("checkpoint root hash must be canonical padded base64")
        return cls(origin=origin, size=int(size), root_hash=root_hash, extensions=tuple(extensions))


def verify_checkpoint(
    note: str | bytes,
    verifiers: Iterable[NoteVerifier | str],
    *,
    origin: str | None = None,
) -> Checkpoint:
    """Open a signed checkpoint note and return the verified :class:`Checkpoint`.

    Pass every verifier key you trust, current and retired: a checkpoint signed before a
    key rotation still verifies with the retired key. When ``origin`` is given, the
    checkpoint must name that log, so a checkpoint of another log cannot be substituted.
    """
    opened = open_note(note, verifiers)
    checkpoint = Checkpoint.from_text(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError(f"checkpoint is for log {checkpoint.origin!r}, expected {origin!r}")
    return checkpoint


def verify_entry_in_checkpoint(
    leaf_data: bytes,
    *,
    index: int,
    proof: Sequence[bytes],
    note: str | bytes,
    verifiers: Iterable[NoteVerifier | str],
    origin: str | None = None,
) -> Checkpoint:
    """Check a ledger entry end to end: a signed checkpoint includes ``leaf_data`` at ``index``.

    This is what a contributor runs offline with their entry's canonical bytes, its
    inclusion proof, a checkpoint note and the log's published verifier key(s).
    """
    checkpoint = verify_checkpoint(note, verifiers, origin=origin)
    verify_inclusion(hash_leaf(leaf_data), index, checkpoint.size, proof, checkpoint.root_hash)
    return checkpoint


# --- witness cosignatures (C2SP tlog-cosignature, cosignature/v1) ---------------------------


def cosignature_message(body: str, timestamp: int) -> bytes:
    """What a witness signs: ``cosignature/v1``, ``time <t>``, then the checkpoint body."""
    _check_size(timestamp, "cosignature timestamp")
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


@dataclass(frozen=True)
class CosignerVerifier(_NamedKey):
    """A witness's Ed25519 public key for ``cosignature/v1`` (signed-note algorithm 0x04).

    Its key hash is ``SHA-256(name || "\\n" || 0x04 || public key)[:4]``, so the same name
    and key can never be mistaken for a log key (algorithm 0x01)::

        >>> v = CosignerVerifier.from_public_key("witness.example/w1", bytes(32))
        >>> CosignerVerifier.from_key(v.to_key()) == v
        True
    """

    ALGORITHM: ClassVar[int] = ALG_COSIGNATURE_V1

    @classmethod
    def from_key(cls, vkey: str) -> CosignerVerifier:
        """Parse a witness verifier key ``<name>+<8 hex>+<base64(0x04 || public key)>``."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-fA-F]{8}", parts[1]):
            raise VerificationError(
                f"a witness key reads <name>+<8 hex digits>+<base64 key>; got {vkey.strip()[:40]!r}"
            )
        name, hash_hex, key_b64 = parts
        key = _b64decode(key_b64, "witness key")
        if not key or key[0] != ALG_COSIGNATURE_V1:
            raise VerificationError(
                f"witness key {name!r} is not a cosignature/v1 key (algorithm byte 0x04); "
                "is it the log's key?"
            )
        if note_key_hash(name, key) != int(hash_hex, 16):
            raise VerificationError(f"witness key hash {hash_hex} does not match its key")
        return cls(name=name, key_hash=int(hash_hex, 16), public_key=key[1:])

    def verify(self, body: str, signature: bytes) -> int | None:
        """The timestamp of a valid cosignature of ``body``, else ``None``.

        ``signature`` is the line's payload after the 4-byte key hash: an 8-byte big-endian
        timestamp followed by the 64-byte Ed25519 signature.
        """
        if len(signature) != 8 + 64:
            return None
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp >= 2**63:
            return None
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                signature[8:], cosignature_message(body, timestamp)
            )
        except InvalidSignature:
            return None
        return timestamp


@dataclass(frozen=True)
class CosignedCheckpoint:
    """A checkpoint signed by the log and cosigned by at least a quorum of witnesses."""

    checkpoint: Checkpoint
    cosigners: tuple[str, ...]
    """Names of the trusted witnesses whose cosignature verified, in note order."""
    timestamps: tuple[int, ...]
    """Each cosignature's time (seconds since the epoch), parallel to ``cosigners``."""


def verify_cosigned_checkpoint(
    note: str | bytes,
    log_verifiers: Iterable[NoteVerifier | str],
    witness_verifiers: Iterable[CosignerVerifier | str],
    *,
    quorum: int,
    origin: str | None = None,
) -> CosignedCheckpoint:
    """Verify the log's signature and at least ``quorum`` distinct witness cosignatures.

    Every key comes from the caller (the contributor's own file), never from the note or
    the server. A cosignature by a trusted witness that does not verify is not counted;
    lines by unknown keys are ignored, as C2SP ``tlog-cosignature`` asks of clients.
    """
    witnesses: dict[tuple[str, int], CosignerVerifier] = {}
    for item in _key_list(witness_verifiers, "witness"):
        verifier = CosignerVerifier.from_key(item) if isinstance(item, str) else item
        if not isinstance(verifier, CosignerVerifier):
            raise VerificationError(
                f"a witness key is a key string or CosignerVerifier, got {type(item).__name__}"
            )
        witnesses[(verifier.name, verifier.key_hash)] = verifier
    # The signed message names no witness, so one witness's line can be relabelled under
    # any name its key is listed with: a key counts once, whatever names it has.
    distinct = len({verifier.public_key for verifier in witnesses.values()})
    if isinstance(quorum, bool) or not isinstance(quorum, int) or quorum < 0:
        raise VerificationError(f"quorum must be a non-negative integer, got {quorum!r}")
    if quorum > distinct:
        raise VerificationError(
            f"quorum {quorum} is more than the {distinct} witness key(s) given "
            "(a key listed under two names counts once)"
        )
    opened = open_note(note, log_verifiers)
    checkpoint = Checkpoint.from_text(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError(f"checkpoint is for log {checkpoint.origin!r}, expected {origin!r}")
    cosigners: list[str] = []
    timestamps: list[int] = []
    invalid: list[str] = []
    counted: set[bytes] = set()
    for line in opened.unverified:
        witness = witnesses.get((line.name, line.key_hash))
        if witness is None or witness.public_key in counted:
            continue
        timestamp = witness.verify(opened.text, _b64decode(line.signature_b64, "cosignature")[4:])
        if timestamp is None:
            invalid.append(line.name)
            continue
        counted.add(witness.public_key)
        cosigners.append(line.name)
        timestamps.append(timestamp)
    if len(cosigners) < quorum:
        bad = f"; invalid cosignature(s) by {', '.join(invalid)}" if invalid else ""
        names = ", ".join(cosigners) or "none"
        raise VerificationError(
            f"only {len(cosigners)} of the {distinct} trusted witnesses cosigned "
            f"checkpoint {checkpoint.size} ({names}) but {quorum} are required{bad}"
        )
    return CosignedCheckpoint(
        checkpoint=checkpoint, cosigners=tuple(cosigners), timestamps=tuple(timestamps)
    )
