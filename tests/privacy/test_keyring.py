from __future__ import annotations

import os

import pytest

from loupe.errors import InvalidInput, NotFound
from loupe.privacy import SubjectKeyring


def ring(storage: dict[str, bytes] | None = None, key: bytes | None = None) -> SubjectKeyring:
    return SubjectKeyring(
        master_key=key or bytes(range(32)), storage={} if storage is None else storage
    )


def test_round_trip_and_per_subject_keys() -> None:
    store: dict[str, bytes] = {}
    r = ring(store)
    a = r.encrypt("alice", b"secret", item_id="i1")
    r.encrypt("bob", b"other", item_id="i2")
    assert r.decrypt("alice", a, item_id="i1") == b"secret"
    assert set(store) == {"alice", "bob"}
    assert b"secret" not in a
    assert all(len(v) == 1 + 12 + 32 + 16 for v in store.values())


def test_item_id_is_bound() -> None:
    r = ring()
    sealed = r.encrypt("alice", b"secret", item_id="i1")
    with pytest.raises(InvalidInput, match="does not authenticate"):
        r.decrypt("alice", sealed, item_id="i2")


def test_tampering_is_detected() -> None:
    r = ring()
    sealed = bytearray(r.encrypt("alice", b"secret", item_id="i1"))
    sealed[-1] ^= 1
    with pytest.raises(InvalidInput):
        r.decrypt("alice", bytes(sealed), item_id="i1")


def test_shred_makes_ciphertext_unrecoverable() -> None:
    store: dict[str, bytes] = {}
    r = ring(store)
    sealed = r.encrypt("alice", b"secret", item_id="i1")
    assert r.shred("alice")
    assert not r.shred("alice")
    with pytest.raises(NotFound):
        r.decrypt("alice", sealed, item_id="i1")
    # A new key for the same subject does not open the old data either.
    r.encrypt("alice", b"new", item_id="i3")
    with pytest.raises(InvalidInput):
        r.decrypt("alice", sealed, item_id="i1")


def test_wrong_master_key_and_swapped_wrapped_keys_fail() -> None:
    store: dict[str, bytes] = {}
    r = ring(store)
    sealed = r.encrypt("alice", b"secret", item_id="i1")
    with pytest.raises(InvalidInput, match="master key"):
        ring(store, key=os.urandom(32)).decrypt("alice", sealed, item_id="i1")
    r.encrypt("bob", b"x", item_id="i2")
    store["alice"] = store["bob"]
    with pytest.raises(InvalidInput):
        r.decrypt("alice", sealed, item_id="i1")


def test_rewrap_rotates_master_key() -> None:
    store: dict[str, bytes] = {}
    old = ring(store)
    sealed = old.encrypt("alice", b"secret", item_id="i1")
    new_key = os.urandom(32)
    new = old.rewrap(new_key)
    assert new.decrypt("alice", sealed, item_id="i1") == b"secret"
    with pytest.raises(InvalidInput):
        old.decrypt("alice", sealed, item_id="i1")


def test_master_key_length_checked() -> None:
    with pytest.raises(InvalidInput):
        SubjectKeyring(master_key=b"short", storage={})


def test_opens_tells_whether_this_master_key_wrapped_a_key() -> None:
    store: dict[str, bytes] = {}
    r = ring(store)
    r.encrypt("alice", b"secret", item_id="i1")
    assert r.opens("alice")
    assert not r.opens("bob")
    assert not ring(store, key=os.urandom(32)).opens("alice")
    assert r.rewrap(b"\x07" * 32).opens("alice") and not r.opens("alice")


def test_rename_moves_a_key_to_a_new_id_bound_to_it() -> None:
    store: dict[str, bytes] = {}
    r = ring(store)
    sealed = r.encrypt("alice@example.org", b"secret", item_id="i1")
    r.encrypt("bob", b"other", item_id="i2")
    old = store["alice@example.org"]
    r.rename("alice@example.org", "hmac:a1")
    assert set(store) == {"hmac:a1", "bob"}
    assert store["hmac:a1"] != old  # re-wrapped: the wrap binds the id
    assert r.decrypt("hmac:a1", sealed, item_id="i1") == b"secret"
    with pytest.raises(NotFound):
        r.decrypt("alice@example.org", sealed, item_id="i1")
    with pytest.raises(InvalidInput, match="has a key already"):
        r.rename("bob", "hmac:a1")  # two keys never merge
    with pytest.raises(NotFound):
        r.rename("carol", "hmac:c3")
    assert set(store) == {"hmac:a1", "bob"}
