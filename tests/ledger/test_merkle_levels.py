"""Building a whole tree a level at a time (the audit's rebuild) gives exactly the nodes,
roots and proofs of appending its leaves one batch at a time."""

from __future__ import annotations

import pytest

from loupe.errors import InvalidInput
from loupe.ledger.merkle import InMemoryTreeStore, MerkleLog, merkle_root
from loupe.ledger.verify import HASH_SIZE, hash_leaf


@pytest.mark.parametrize("size", [*range(0, 35), 63, 64, 65, 127, 128, 129, 1000])
def test_levels_equal_the_appended_tree(size: int) -> None:
    leaves = [f"leaf {i}".encode() for i in range(size)]
    appended = InMemoryTreeStore()
    log = MerkleLog(appended)
    for start in range(0, size, 7):  # batches, as the database appends them
        log.append_many(leaves[start : start + 7])
    built = InMemoryTreeStore.from_leaf_hashes(b"".join(hash_leaf(leaf) for leaf in leaves))
    top = max(size.bit_length(), 1)
    for level in range(top + 1):
        assert built.level(level) == appended.level(level), level
        assert len(built.level(level)) == (size >> level) * HASH_SIZE
    rebuilt = MerkleLog(built)
    assert rebuilt.size() == size
    if size:
        assert rebuilt.root() == merkle_root(leaves) == log.root()
        for index in {0, size // 3, size - 1}:
            assert rebuilt.inclusion_proof(index) == log.inclusion_proof(index)


def test_leaf_hashes_must_be_whole_hashes() -> None:
    with pytest.raises(InvalidInput, match="multiple of 32 bytes"):
        InMemoryTreeStore.from_leaf_hashes(b"\0" * 33)
