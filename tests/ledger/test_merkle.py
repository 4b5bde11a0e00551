"""The Merkle log: RFC 9162 recursions as the oracle, batched appends, tampering, the store."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.errors import InvalidInput, LedgerIntegrityError
from loupe.ledger.merkle import (
    InMemoryTreeStore,
    MerkleLog,
    NodeKey,
    TreeStore,
    consistency_plan,
    inclusion_plan,
    merkle_root,
    root_plan,
    subtree_keys,
)
from loupe.ledger.verify import (
    EMPTY_ROOT,
    hash_leaf,
    hash_node,
    is_consistent,
    is_included,
    verify_consistency,
    verify_inclusion,
)

# --- RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1, written as literally as possible -------------


def _split(n: int) -> int:
    """The largest power of two smaller than n."""
    return 1 << ((n - 1).bit_length() - 1)


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return hash_leaf(leaves[0])
    k = _split(len(leaves))
    return hash_node(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def proof(m: int, leaves: list[bytes]) -> list[bytes]:
    def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
        if m == len(d):
            return [] if b else [mth(d)]
        k = _split(len(d))
        if m <= k:
            return [*subproof(m, d[:k], b), mth(d[k:])]
        return [*subproof(m - k, d[k:], False), mth(d[:k])]

    return subproof(m, leaves, True)


# --- helpers -----------------------------------------------------------------------------


class RecordingStore:
    """A TreeStore wrapper that counts calls and can tamper with one node on read."""

    def __init__(self, inner: TreeStore | None = None) -> None:
        self.inner = inner if inner is not None else InMemoryTreeStore()
        self.gets: list[frozenset[NodeKey]] = []
        self.puts = 0
        self.tampered: NodeKey | None = None

    def size(self) -> int:
        return self.inner.size()

    def get_nodes(self, keys: Collection[NodeKey]) -> Mapping[NodeKey, bytes]:
        self.gets.append(frozenset(keys))
        nodes = dict(self.inner.get_nodes(keys))
        if self.tampered in nodes:
            original = nodes[self.tampered]
            nodes[self.tampered] = bytes([original[0] ^ 1]) + original[1:]
        return nodes

    def put_nodes(self, nodes: Mapping[NodeKey, bytes]) -> None:
        self.puts += 1
        self.inner.put_nodes(nodes)


def build(leaves: list[bytes], batches: list[int] | None = None) -> MerkleLog:
    """A log of ``leaves`` appended in batches of the given sizes (rest in one batch)."""
    log = MerkleLog(InMemoryTreeStore())
    start = 0
    for size in batches or []:
        log.append_many(leaves[start : start + size])
        start += size
    log.append_many(leaves[start:])
    return log


leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=48)


@st.composite
def leaves_and_batches(draw: st.DrawFn) -> tuple[list[bytes], list[int]]:
    leaves = draw(leaf_lists)
    batches = draw(st.lists(st.integers(min_value=0, max_value=len(leaves)), max_size=6))
    return leaves, batches


# --- properties --------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(leaves_and_batches())
def test_batched_appends_match_the_rfc_for_every_size(
    data: tuple[list[bytes], list[int]],
) -> None:
    leaves, batches = data
    log = build(leaves, batches)
    scratch = build(leaves)
    assert log.size() == len(leaves)
    for size in range(len(leaves) + 1):
        assert log.root(size) == mth(leaves[:size]) == merkle_root(leaves[:size])
    for size in range(1, len(leaves) + 1):
        for index in range(size):
            expected = path(index, leaves[:size])
            assert log.inclusion_proof(index, size) == expected
            assert scratch.inclusion_proof(index, size) == expected
        for old in range(1, size + 1):
            assert log.consistency_proof(old, size) == proof(old, leaves[:size])


@settings(max_examples=60, deadline=None)
@given(leaves_and_batches())
def test_consistency_between_any_two_sizes_verifies(data: tuple[list[bytes], list[int]]) -> None:
    leaves, batches = data
    log = build(leaves, batches)
    for size2 in range(1, len(leaves) + 1):
        for size1 in range(1, size2 + 1):
            p = log.prove_consistency(size1, size2)
            verify_consistency(size1, size2, p.path, p.root1, p.root2)
            if size1 < size2:
                # The proof pins both trees: it fails against any other earlier tree.
                other = log.root(size1 - 1) if size1 > 1 else hash_leaf(b"other")
                assert not is_consistent(size1, size2, p.path, other, p.root2)


@settings(max_examples=60, deadline=None)
@given(leaves_and_batches(), st.data())
def test_changing_any_leaf_breaks_its_proof(
    data: tuple[list[bytes], list[int]], pick: st.DataObject
) -> None:
    leaves, batches = data
    log = build(leaves, batches)
    size = pick.draw(st.integers(min_value=1, max_value=len(leaves)), label="size")
    index = pick.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    changed = pick.draw(st.binary(max_size=9).filter(lambda b: b != leaves[index]))
    p = log.prove_inclusion(index, size)
    verify_inclusion(hash_leaf(leaves[index]), index, size, p.path, p.root)
    assert not is_included(hash_leaf(changed), index, size, p.path, p.root)
    # A log rebuilt with the changed leaf has a new root for every tree holding the leaf,
    # and cannot prove itself consistent with any earlier (signed) root of the original.
    rewritten = build([*leaves[:index], changed, *leaves[index + 1 :]])
    n = len(leaves)
    for later in range(index + 1, n + 1):
        assert rewritten.root(later) != log.root(later)
        forged = rewritten.consistency_proof(later, n)
        assert not is_consistent(later, n, forged, log.root(later), rewritten.root())


@settings(max_examples=80, deadline=None)
@given(leaves_and_batches(), st.data())
def test_changing_any_stored_node_breaks_verification(
    data: tuple[list[bytes], list[int]], pick: st.DataObject
) -> None:
    leaves, batches = data
    store = RecordingStore()
    log = MerkleLog(store)
    start = 0
    for batch in batches:
        log.append_many(leaves[start : start + batch])
        start += batch
    log.append_many(leaves[start:])
    size = pick.draw(st.integers(min_value=1, max_value=len(leaves)), label="size")
    trusted = log.root(size)  # as signed in a checkpoint before the tampering
    levels = [lv for lv in range(size.bit_length()) if size >> lv]
    level = pick.draw(st.sampled_from(levels), label="level")
    node = (level, pick.draw(st.integers(0, (size >> level) - 1), label="index"))
    store.tampered = node

    served_root_is_wrong = log.root(size) != trusted
    failures = 0
    for index in range(size):
        p = log.prove_inclusion(index, size)
        uses_node = node in inclusion_plan(index, size).keys or node == (0, index)
        ok = is_included(p.leaf_hash, index, size, p.path, trusted)
        assert ok is not uses_node
        failures += not ok
    assert served_root_is_wrong == (node in root_plan(size).keys)
    # Every stored node of the tree is used by some proof or by the root: nothing is dead.
    assert failures or served_root_is_wrong


def test_any_flipped_bit_in_a_proof_is_rejected() -> None:
    leaves = [bytes([i]) for i in range(11)]
    log = build(leaves)
    for index in range(11):
        p = log.prove_inclusion(index)
        for position in range(len(p.path)):
            for bit in (0, 77, 255):
                path_ = list(p.path)
                flipped = bytearray(path_[position])
                flipped[bit // 8] ^= 1 << (bit % 8)
                path_[position] = bytes(flipped)
                assert not is_included(p.leaf_hash, index, 11, path_, p.root)


# --- store access: O(log n) keys, one batch ----------------------------------------------


def test_each_read_is_one_batched_get_and_each_batch_one_put() -> None:
    store = RecordingStore()
    log = MerkleLog(store)
    log.append_many([b"%d" % i for i in range(1000)])
    log.append_many([b"%d" % i for i in range(1000, 1337)])
    assert store.puts == 2
    assert len(store.gets) == 2  # one frontier read per batch
    assert max(len(keys) for keys in store.gets) <= math.ceil(math.log2(1000))

    for reader in (
        lambda: log.prove_inclusion(1000),
        lambda: log.prove_consistency(777),
        lambda: log.root(1001),
        lambda: log.inclusion_proof(5, 999),
    ):
        store.gets.clear()
        reader()
        assert len(store.gets) == 1
        assert len(store.gets[0]) <= 3 * math.ceil(math.log2(1337)) + 2


def test_plans_stay_logarithmic_at_a_million_entries() -> None:
    n = 1_000_000
    assert len(root_plan(n).keys) == bin(n).count("1")
    for index in (0, 1, 499_999, 524_287, 524_288, 999_999):
        groups = inclusion_plan(index, n).groups
        assert 1 <= len(groups) <= 20
        assert len(inclusion_plan(index, n).keys) <= 2 * 20
    for old in (1, 2, 3, 524_288, 999_998):
        assert len(consistency_plan(old, n).keys) <= 2 * 20 + 2
    assert subtree_keys(0, n) == [
        (19, 0),
        (18, 2),
        (17, 6),
        (16, 14),
        (14, 60),
        (9, 1952),
        (6, 15624),
    ]


def test_empty_log() -> None:
    log = MerkleLog(InMemoryTreeStore())
    assert log.size() == 0
    assert log.root() == EMPTY_ROOT
    assert log.append_many([]) == []
    with pytest.raises(InvalidInput, match="not in a tree of 0"):
        log.inclusion_proof(0)


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda log: log.inclusion_proof(3, 3), "leaf index 3 is not in a tree of 3"),
        (lambda log: log.inclusion_proof(-1), "index must be a non-negative integer"),
        (lambda log: log.root(5), "tree size 5 is beyond the log's 4 leaves"),
        (lambda log: log.consistency_proof(0, 2), "0 < size1 <= size2"),
        (lambda log: log.consistency_proof(3, 2), "0 < size1 <= size2"),
        (lambda log: log.leaf_hash(4), "not in a log of 4 leaves"),
        (lambda log: log.root(True), "size must be a non-negative integer"),
    ],
)
def test_bad_requests_raise_invalid_input(call: object, message: str) -> None:
    log = build([b"a", b"b", b"c", b"d"])
    with pytest.raises(InvalidInput, match=message):
        call(log)  # type: ignore[operator]


def test_missing_node_is_an_integrity_error() -> None:
    class ForgetfulStore(InMemoryTreeStore):
        def get_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
            return {k: v for k, v in super().get_nodes(keys).items() if k != (1, 1)}

    log = MerkleLog(ForgetfulStore())
    log.append_many([b"a", b"b", b"c", b"d", b"e"])
    with pytest.raises(LedgerIntegrityError, match=r"node \(1, 1\) is missing"):
        log.inclusion_proof(0)


def test_in_memory_store_is_append_only_and_all_or_nothing() -> None:
    store = InMemoryTreeStore()
    log = MerkleLog(store)
    log.append_many([b"a", b"b", b"c"])
    before = store.get_nodes([*subtree_keys(0, 3), (0, 0), (0, 1)])
    store.put_nodes({(0, 2): log.leaf_hash(2)})  # same hash again: harmless
    with pytest.raises(LedgerIntegrityError, match="already stored with another hash"):
        store.put_nodes({(0, 3): hash_leaf(b"d"), (0, 1): hash_leaf(b"B")})
    with pytest.raises(LedgerIntegrityError, match="gap"):
        store.put_nodes({(0, 3): hash_leaf(b"d"), (5, 7): hash_leaf(b"x")})
    with pytest.raises(LedgerIntegrityError, match="32-byte"):
        store.put_nodes({(0, 3): b"short"})
    assert store.size() == 3
    assert store.get_nodes([*subtree_keys(0, 3), (0, 0), (0, 1)]) == before
    assert store.get_nodes([(9, 0), (0, 3), (0, -1), (-1, 0)]) == {}


def test_stored_nodes_are_perfect_subtrees() -> None:
    leaves = [bytes([i]) for i in range(13)]
    store = InMemoryTreeStore()
    MerkleLog(store).append_many(leaves)
    for level in range(5):
        for index in range(16):
            covered = leaves[index << level : (index + 1) << level]
            node = store.get_nodes([(level, index)]).get((level, index))
            if len(covered) == 1 << level:
                assert node == mth(covered)
            else:
                assert node is None  # incomplete subtrees are never stored
