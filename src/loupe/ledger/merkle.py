"""An append-only RFC 6962 / RFC 9162 Merkle log over a pluggable node store.

The log stores the hash of every *perfect* subtree, keyed by ``(level, index)``: node
``(level, i)`` covers leaves ``[i * 2**level, (i + 1) * 2**level)``; leaves are level 0.
Appending leaf ``n`` completes exactly the subtrees that end at ``n`` (one per trailing
one-bit of ``n``, so two new nodes per leaf on average) and nothing stored ever changes.

Any root or proof, for any past tree size, is assembled from O(log n) stored nodes.
Every read therefore has three steps, so that a database-backed store answers it with
ONE batched query:

1. plan (pure): :func:`root_plan`, :func:`inclusion_plan`, :func:`consistency_plan` name
   the node keys needed, grouped so that each group folds into one proof hash;
2. fetch: ``store.get_nodes(plan.keys)``;
3. assemble (pure): :meth:`ProofPlan.assemble`.

A tree size that is not a power of two has a root that is the right fold of its
decomposition into perfect subtrees (``13 = 8 + 4 + 1`` gives
``H(n(3,0), H(n(2,2), n(0,12)))``), which is exactly RFC 9162's ``MTH`` recursion.

Example::

    >>> log = MerkleLog(InMemoryTreeStore())
    >>> log.append_many([b"a", b"b", b"c"])
    [0, 1, 2]
    >>> proof = log.prove_inclusion(1)
    >>> from loupe.ledger.verify import verify_inclusion
    >>> verify_inclusion(proof.leaf_hash, 1, proof.tree_size, proof.path, proof.root)
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from loupe.errors import InvalidInput, LedgerIntegrityError
from loupe.ledger.verify import EMPTY_ROOT, HASH_SIZE, hash_leaf, hash_node

__all__ = [
    "ConsistencyProof",
    "InMemoryTreeStore",
    "InclusionProof",
    "MerkleLog",
    "NodeKey",
    "ProofPlan",
    "TreeStore",
    "consistency_plan",
    "inclusion_plan",
    "merkle_root",
    "root_plan",
    "subtree_keys",
]

#: ``(level, index)``: the perfect subtree over leaves ``[index << level, (index + 1) << level)``.
NodeKey = tuple[int, int]


class TreeStore(Protocol):
    """Where a :class:`MerkleLog` keeps its node hashes.

    Implementations must be append-only: once a key is stored its hash never changes.
    A SQL store is a table ``(level, idx, hash)`` with primary key ``(level, idx)``.
    """

    def size(self) -> int:
        """The number of leaves stored, i.e. of level-0 nodes."""
        ...

    def get_nodes(self, keys: Collection[NodeKey]) -> Mapping[NodeKey, bytes]:
        """The stored hashes of ``keys`` (one batched read); absent keys are left out."""
        ...

    def put_nodes(self, nodes: Mapping[NodeKey, bytes]) -> None:
        """Store new nodes (one batched write per append batch).

        ``nodes`` lists each level's keys in increasing index order. Re-storing a key with
        its existing hash is harmless; with a different hash it must raise
        :class:`~loupe.errors.LedgerIntegrityError`.
        """
        ...


class InMemoryTreeStore:
    """A :class:`TreeStore` in memory: one contiguous ``bytearray`` of hashes per level.

    Compact (32 bytes per node, about 64 bytes per leaf) and fast, for tests, benchmarks
    and rebuilding a tree to audit it::

        >>> store = InMemoryTreeStore()
        >>> MerkleLog(store).append_many([b"x", b"y"])
        [0, 1]
        >>> store.size(), sorted(store.get_nodes([(0, 0), (1, 0), (1, 1)]))
        (2, [(0, 0), (1, 0)])
    """

    def __init__(self) -> None:
        self._levels: list[bytearray] = []

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: bytes | bytearray) -> InMemoryTreeStore:
        """The whole tree over the concatenated 32-byte ``leaf_hashes``, level by level.

        The same nodes as appending the leaves one by one, computed a level at a time
        (each level's hashes are the pairs of the level below), which is what an audit
        rebuilding a large log wants::

            >>> from loupe.ledger.verify import hash_leaf
            >>> store = InMemoryTreeStore.from_leaf_hashes(hash_leaf(b"x") + hash_leaf(b"y"))
            >>> MerkleLog(store).root() == merkle_root([b"x", b"y"])
            True
        """
        if len(leaf_hashes) % HASH_SIZE:
            raise InvalidInput(
                f"leaf hashes must be a multiple of {HASH_SIZE} bytes, got {len(leaf_hashes)}",
                details={"field": "leaf_hashes"},
            )
        store = cls()
        level = bytearray(leaf_hashes)
        while level:
            store._levels.append(level)
            level = _parents(level)
        return store

    def level(self, level: int) -> bytes:
        """Level ``level``'s hashes, concatenated in index order (empty beyond the top)."""
        return bytes(self._levels[level]) if 0 <= level < len(self._levels) else b""

    def size(self) -> int:
        return len(self._levels[0]) // HASH_SIZE if self._levels else 0

    def get_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        found: dict[NodeKey, bytes] = {}
        levels = self._levels
        for key in keys:
            level, index = key
            if 0 <= level < len(levels) and index >= 0:
                start = index * HASH_SIZE
                node = bytes(levels[level][start : start + HASH_SIZE])
                if node:
                    found[key] = node
        return found

    def put_nodes(self, nodes: Mapping[NodeKey, bytes]) -> None:
        levels = self._levels
        lengths = [len(buffer) for buffer in levels]
        try:
            for (level, index), node in nodes.items():
                if len(node) != HASH_SIZE:
                    raise LedgerIntegrityError(
                        f"node ({level}, {index}) must be a {HASH_SIZE}-byte hash",
                        details={"level": level, "index": index},
                    )
                while len(levels) <= level:
                    levels.append(bytearray())
                buffer = levels[level]
                start = index * HASH_SIZE
                if start == len(buffer):
                    buffer += node
                elif 0 <= start < len(buffer):
                    if buffer[start : start + HASH_SIZE] != node:
                        raise LedgerIntegrityError(
                            f"node ({level}, {index}) is already stored with another hash; "
                            "the log is append-only",
                            details={"level": level, "index": index},
                        )
                else:
                    raise LedgerIntegrityError(
                        f"node ({level}, {index}) would leave a gap at level {level}; "
                        "store each level's nodes in increasing index order",
                        details={"level": level, "index": index},
                    )
        except LedgerIntegrityError:
            # All or nothing, like the database transaction a real store runs in.
            del levels[len(lengths) :]
            for buffer, length in zip(levels, lengths, strict=True):
                del buffer[length:]
            raise


def _parents(level: bytearray) -> bytearray:
    """The next level up: ``hash_node`` of each complete pair of ``level``'s hashes."""
    node = hashlib.sha256(b"\x01")  # each parent copies this state and adds its pair
    view = memoryview(level)
    parents = bytearray()
    for start in range(0, len(level) - 2 * HASH_SIZE + 1, 2 * HASH_SIZE):
        pair = node.copy()
        pair.update(view[start : start + 2 * HASH_SIZE])
        parents += pair.digest()
    return parents


def subtree_keys(begin: int, end: int) -> list[NodeKey]:
    """The perfect subtrees that tile leaves ``[begin, end)``, largest first.

    The right fold of their hashes is RFC 9162's ``MTH(D[begin:end])`` whenever ``begin``
    is a multiple of the smallest power of two ``>= end - begin``, which holds for every
    range the RFC's recursions visit (and for every ``[0, size)``).
    """
    keys: list[NodeKey] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        keys.append((level, begin >> level))
        begin += 1 << level
    return keys


def _fold(hashes: Sequence[bytes]) -> bytes:
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for node in reversed(hashes[:-1]):
        acc = hash_node(node, acc)
    return acc


@dataclass(frozen=True)
class ProofPlan:
    """Which stored nodes a root or proof needs, and how they combine.

    Each group of keys folds (right fold of :func:`~loupe.ledger.verify.hash_node`) into one
    output hash; an empty group is the empty tree's root.
    """

    groups: tuple[tuple[NodeKey, ...], ...]

    @property
    def keys(self) -> frozenset[NodeKey]:
        """Every key to fetch, for one ``store.get_nodes`` call."""
        return frozenset(key for group in self.groups for key in group)

    def assemble(self, nodes: Mapping[NodeKey, bytes]) -> list[bytes]:
        """The output hashes, one per group, from the fetched ``nodes``."""
        try:
            return [_fold([nodes[key] for key in group]) for group in self.groups]
        except KeyError as exc:
            level, index = exc.args[0]
            raise LedgerIntegrityError(
                f"node ({level}, {index}) is missing from the tree store",
                details={"level": level, "index": index},
            ) from None


def _check_int(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(
            f"{what} must be a non-negative integer, got {value!r}", details={"field": what}
        )


def root_plan(size: int) -> ProofPlan:
    """Plan for the root of the tree of the first ``size`` leaves."""
    _check_int(size, "size")
    return ProofPlan(groups=(tuple(subtree_keys(0, size)),))


def inclusion_plan(index: int, size: int) -> ProofPlan:
    """Plan for RFC 9162 ``PATH(index, D[0:size])``, leaf-side hash first (§2.1.3.1)."""
    _check_int(index, "index")
    _check_int(size, "size")
    if index >= size:
        raise InvalidInput(
            f"leaf index {index} is not in a tree of {size} leaves; ask for a tree size "
            f"above {index}",
            details={"field": "index", "index": index, "size": size},
        )
    groups: list[tuple[NodeKey, ...]] = []
    begin, end = 0, size
    while end - begin > 1:
        mid = begin + (1 << ((end - begin - 1).bit_length() - 1))  # largest 2^k < n
        if index < mid:
            groups.append(tuple(subtree_keys(mid, end)))
            end = mid
        else:
            groups.append(tuple(subtree_keys(begin, mid)))
            begin = mid
    groups.reverse()
    return ProofPlan(groups=tuple(groups))


def consistency_plan(size1: int, size2: int) -> ProofPlan:
    """Plan for RFC 9162 ``PROOF(size1, D[0:size2])`` (§2.1.4.1).

    Equal sizes give an empty proof; ``size1`` must be positive and at most ``size2``.
    """
    _check_int(size1, "size1")
    _check_int(size2, "size2")
    if not 0 < size1 <= size2:
        raise InvalidInput(
            f"a consistency proof needs 0 < size1 <= size2, got {size1} and {size2}",
            details={"field": "size1", "size1": size1, "size2": size2},
        )
    groups: list[tuple[NodeKey, ...]] = []
    begin, end, whole = 0, size2, True
    while size1 != end:
        mid = begin + (1 << ((end - begin - 1).bit_length() - 1))
        if size1 <= mid:
            groups.append(tuple(subtree_keys(mid, end)))
            end = mid
        else:
            groups.append(tuple(subtree_keys(begin, mid)))
            begin, whole = mid, False
    if not whole:
        # SUBPROOF(m, D[m], false) = {MTH(D[m])}: the old tree's last subtree itself.
        groups.append(tuple(subtree_keys(begin, end)))
    groups.reverse()
    return ProofPlan(groups=tuple(groups))


def merkle_root(leaf_datas: Iterable[bytes]) -> bytes:
    """RFC 6962 ``MTH`` of a list of leaf inputs, in O(log n) memory."""
    frontier: list[bytes] = []
    for position, data in enumerate(leaf_datas):
        node = hash_leaf(data)
        index = position
        while index & 1:
            node = hash_node(frontier.pop(), node)
            index >>= 1
        frontier.append(node)
    return _fold(frontier)


@dataclass(frozen=True)
class InclusionProof:
    """Everything a contributor needs to check one entry against a tree head."""

    index: int
    tree_size: int
    leaf_hash: bytes
    path: tuple[bytes, ...]
    root: bytes


@dataclass(frozen=True)
class ConsistencyProof:
    """Evidence that the tree of ``size1`` leaves is a prefix of that of ``size2``."""

    size1: int
    size2: int
    path: tuple[bytes, ...]
    root1: bytes
    root2: bytes


class MerkleLog:
    """Appends leaves to a :class:`TreeStore` and serves roots and proofs from it.

    The log keeps no state of its own: every call reads the store, so two processes (or a
    request and a background job) sharing one database see one log. Each append batch is
    one ``size()`` + one ``get_nodes`` (the O(log n) frontier) + one ``put_nodes``; each
    proof is one ``size()`` (when no size is given) + one ``get_nodes``.

    Example::

        >>> log = MerkleLog(InMemoryTreeStore())
        >>> log.append(b"first"), log.append_many([b"second", b"third"])
        (0, [1, 2])
        >>> log.size()
        3
        >>> len(log.inclusion_proof(0)), len(log.consistency_proof(1, 3))
        (2, 2)
    """

    def __init__(self, store: TreeStore) -> None:
        self.store = store

    def size(self) -> int:
        """The number of leaves in the log."""
        return self.store.size()

    def append(self, leaf_data: bytes) -> int:
        """Append one leaf; return its index."""
        return self.append_many([leaf_data])[0]

    def append_many(self, leaf_datas: Iterable[bytes]) -> list[int]:
        """Append leaves in order with a single ``put_nodes``; return their indices."""
        start = self.store.size()
        # The frontier: roots of the perfect subtrees of the current tree, largest first.
        # Only these can be left siblings of nodes this batch completes.
        frontier = self._fetch(ProofPlan(groups=tuple((key,) for key in subtree_keys(0, start))))
        new: dict[NodeKey, bytes] = {}
        sha256 = hashlib.sha256
        position = start
        for data in leaf_datas:
            node = sha256(b"\x00" + data).digest()
            new[(0, position)] = node
            index, level = position, 0
            while index & 1:
                node = sha256(b"\x01" + frontier.pop() + node).digest()
                index >>= 1
                level += 1
                new[(level, index)] = node
            frontier.append(node)
            position += 1
        if new:
            self.store.put_nodes(new)
        return list(range(start, position))

    def leaf_hash(self, index: int) -> bytes:
        """The stored hash of leaf ``index``."""
        return self._fetch(_leaf_plan(index, self.size()))[0]

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of the first ``size`` leaves (default: all)."""
        return self._fetch(root_plan(self._size_or_current(size)))[0]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of ``size`` leaves (default: all)."""
        return self._fetch(inclusion_plan(index, self._size_or_current(size)))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """The proof that the tree of ``size1`` is a prefix of that of ``size2``."""
        return self._fetch(consistency_plan(size1, self._size_or_current(size2)))

    def prove_inclusion(self, index: int, size: int | None = None) -> InclusionProof:
        """Leaf hash, audit path and root, fetched in one ``get_nodes`` call."""
        tree_size = self._size_or_current(size)
        path_plan = inclusion_plan(index, tree_size)
        plan = ProofPlan(
            groups=(((0, index),), *path_plan.groups, tuple(subtree_keys(0, tree_size)))
        )
        leaf, *path, root = self._fetch(plan)
        return InclusionProof(
            index=index, tree_size=tree_size, leaf_hash=leaf, path=tuple(path), root=root
        )

    def prove_consistency(self, size1: int, size2: int | None = None) -> ConsistencyProof:
        """Both roots and the consistency path, fetched in one ``get_nodes`` call."""
        new_size = self._size_or_current(size2)
        path_plan = consistency_plan(size1, new_size)
        plan = ProofPlan(
            groups=(
                tuple(subtree_keys(0, size1)),
                tuple(subtree_keys(0, new_size)),
                *path_plan.groups,
            )
        )
        root1, root2, *path = self._fetch(plan)
        return ConsistencyProof(
            size1=size1, size2=new_size, path=tuple(path), root1=root1, root2=root2
        )

    def _size_or_current(self, size: int | None) -> int:
        current = self.store.size()
        if size is None:
            return current
        _check_int(size, "size")
        if size > current:
            raise InvalidInput(
                f"tree size {size} is beyond the log's {current} leaves",
                details={"field": "size", "size": size, "log_size": current},
            )
        return size

    def _fetch(self, plan: ProofPlan) -> list[bytes]:
        return plan.assemble(self.store.get_nodes(plan.keys))


def _leaf_plan(index: int, size: int) -> ProofPlan:
    """Plan for the hash of leaf ``index`` of a tree of ``size`` leaves."""
    _check_int(index, "index")
    if index >= size:
        raise InvalidInput(
            f"leaf index {index} is not in a log of {size} leaves",
            details={"field": "index", "index": index, "size": size},
        )
    return ProofPlan(groups=(((0, index),),))
