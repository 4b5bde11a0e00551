"""Per-data-subject encryption keys, so erasing a person is deleting one key.

Crypto-shredding: each data subject gets a random 256-bit data key (DEK).
Content about the subject is sealed with AES-256-GCM under that key, with the
item id as associated data so a ciphertext cannot be replayed onto another
item. The DEK itself is stored only wrapped (AES-256-GCM again) by a master
key-encryption key (KEK) that lives outside the database, with the subject id
as associated data so wrapped keys cannot be swapped between subjects.
Deleting the wrapped DEK (:meth:`SubjectKeyring.shred`) makes every ciphertext
for that subject unrecoverable from the storage it was deleted from. A copy of the
storage taken before (a database backup) still holds the wrapped DEK and opens with
the KEK that wrapped it; such copies become unrecoverable only once that KEK is
destroyed, which is what rotating it (:meth:`SubjectKeyring.rewrap`) and destroying
the old one after the backup retention period achieves.

Sealed formats, versioned by their first byte::

    wrapped DEK : 0x01 | nonce (12) | AES-GCM(KEK, DEK, aad=b"loupe-dek:" + subject)
    ciphertext  : 0x01 | nonce (12) | AES-GCM(DEK, plaintext, aad=b"loupe-item:" + item id)
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from loupe.errors import InvalidInput, NotFound

__all__ = ["SubjectKeyring"]

_VERSION = b"\x01"
_NONCE = 12


class SubjectKeyring:
    """Data keys per subject, wrapped by ``master_key``, kept in any ``MutableMapping``.

    ``storage`` maps subject id to wrapped key bytes; pass a ``dict`` in tests and
    a database-backed mapping in the service.

    >>> ring = SubjectKeyring(master_key=bytes(32), storage={})
    >>> sealed = ring.encrypt("subject-7", b"Maria, +49 30 1234567", item_id="item-1")
    >>> ring.decrypt("subject-7", sealed, item_id="item-1")
    b'Maria, +49 30 1234567'
    >>> ring.shred("subject-7")
    True
    >>> ring.has_key("subject-7")
    False
    """

    def __init__(self, *, master_key: bytes, storage: MutableMapping[str, bytes]) -> None:
        if len(master_key) != 32:
            raise InvalidInput(
                "the master key must be 32 bytes (256 bits)", details={"field": "master_key"}
            )
        self._kek = AESGCM(master_key)
        self._storage = storage

    def has_key(self, subject_id: str) -> bool:
        return subject_id in self._storage

    def encrypt(self, subject_id: str, plaintext: bytes, *, item_id: str) -> bytes:
        """Seal ``plaintext`` for ``subject_id``, creating the subject's key on first use."""
        key = self._data_key(subject_id, create=True)
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, _item_aad(item_id))

    def decrypt(self, subject_id: str, ciphertext: bytes, *, item_id: str) -> bytes:
        """Open a sealed value; :class:`NotFound` once the subject has been shredded."""
        key = self._data_key(subject_id, create=False)
        if len(ciphertext) < 1 + _NONCE + 16 or ciphertext[:1] != _VERSION:
            raise InvalidInput("not a Loupe subject ciphertext", details={"field": "ciphertext"})
        nonce, body = ciphertext[1 : 1 + _NONCE], ciphertext[1 + _NONCE :]
        try:
            return AESGCM(key).decrypt(nonce, body, _item_aad(item_id))
        except InvalidTag:
            raise InvalidInput(
                "ciphertext does not authenticate for this subject and item "
                "(wrong item id, or the data was altered)",
                details={"field": "ciphertext", "item_id": item_id},
            ) from None

    def opens(self, subject_id: str) -> bool:
        """Whether the subject's stored key unwraps under this master key (``False``
        when there is no key, or it was wrapped by another master key)."""
        wrapped = self._storage.get(subject_id)
        if wrapped is None:
            return False
        try:
            self._unwrap(subject_id, wrapped)
        except InvalidInput:
            return False
        return True

    def shred(self, subject_id: str) -> bool:
        """Delete the subject's key; returns whether there was one. Irreversible."""
        return self._storage.pop(subject_id, None) is not None

    def rename(self, subject_id: str, new_id: str) -> None:
        """Move a subject's key to ``new_id``, re-wrapped (the wrap binds the id); what it
        sealed still opens under the new id. Raises :class:`InvalidInput` if ``new_id``
        has a key already: two keys never merge.

        >>> ring = SubjectKeyring(master_key=bytes(32), storage={})
        >>> sealed = ring.encrypt("ana@example.org", b"hello", item_id="item-1")
        >>> ring.rename("ana@example.org", "hmac:1f")
        >>> ring.decrypt("hmac:1f", sealed, item_id="item-1")
        b'hello'
        """
        if new_id in self._storage:
            raise InvalidInput(
                f"subject {new_id!r} has a key already", details={"subject_id": new_id}
            )
        dek = self._data_key(subject_id, create=False)
        self._storage[new_id] = self._wrap(new_id, dek)
        del self._storage[subject_id]

    def rewrap(self, new_master_key: bytes) -> SubjectKeyring:
        """Re-wrap every stored key under ``new_master_key`` (rotation); returns the new ring."""
        rotated = SubjectKeyring(master_key=new_master_key, storage=self._storage)
        for subject_id in list(self._storage):
            dek = self._unwrap(subject_id, self._storage[subject_id])
            self._storage[subject_id] = rotated._wrap(subject_id, dek)
        return rotated

    def _data_key(self, subject_id: str, *, create: bool) -> bytes:
        wrapped = self._storage.get(subject_id)
        if wrapped is not None:
            return self._unwrap(subject_id, wrapped)
        if not create:
            raise NotFound(
                f"no key for subject {subject_id!r}: it was never created or has been shredded",
                details={"subject_id": subject_id},
            )
        dek = AESGCM.generate_key(bit_length=256)
        self._storage[subject_id] = self._wrap(subject_id, dek)
        return dek

    def _wrap(self, subject_id: str, dek: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._kek.encrypt(nonce, dek, _dek_aad(subject_id))

    def _unwrap(self, subject_id: str, wrapped: bytes) -> bytes:
        try:
            return self._kek.decrypt(
                wrapped[1 : 1 + _NONCE], wrapped[1 + _NONCE :], _dek_aad(subject_id)
            )
        except InvalidTag:
            raise InvalidInput(
                f"the stored key for subject {subject_id!r} does not open with this master key",
                details={"subject_id": subject_id},
            ) from None


def _item_aad(item_id: str) -> bytes:
    return b"loupe-item:" + item_id.encode()


def _dek_aad(subject_id: str) -> bytes:
    return b"loupe-dek:" + subject_id.encode()
