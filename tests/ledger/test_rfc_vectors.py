"""RFC 6962 / RFC 9162 vectors from transparency-dev/merkle: generation and verification."""

from __future__ import annotations

import pytest

from loupe.ledger.merkle import InMemoryTreeStore, MerkleLog, merkle_root
from loupe.ledger.verify import (
    VerificationError,
    hash_leaf,
    is_consistent,
    is_included,
    verify_consistency,
    verify_inclusion,
)

from .vectors import (
    ConsistencyCase,
    InclusionCase,
    consistency_cases,
    generation_vectors,
    inclusion_cases,
    requires_vectors,
)

pytestmark = requires_vectors

INCLUSION = inclusion_cases()
CONSISTENCY = consistency_cases()
GENERATION = generation_vectors()
LEAVES = [bytes.fromhex(h) for h in GENERATION["leaf_inputs_hex"]]
ROOTS = [bytes.fromhex(h) for h in GENERATION["root_hashes_by_size_hex"]]


def _standard_log() -> MerkleLog:
    log = MerkleLog(InMemoryTreeStore())
    log.append_many(LEAVES)
    return log


def test_vector_files_are_all_there() -> None:
    # SOURCES.md promises 98 + 98 files; a partial copy must not pass silently.
    assert len(INCLUSION) == 98
    assert len(CONSISTENCY) == 98
    assert any(case.want_error for case in INCLUSION)
    assert any(case.want_error for case in CONSISTENCY)


@pytest.mark.parametrize("case", INCLUSION, ids=lambda case: case.name)
def test_inclusion_vector_verification(case: InclusionCase) -> None:
    args = (case.leaf_hash, case.index, case.tree_size, case.proof, case.root)
    if case.want_error:
        with pytest.raises(VerificationError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)
    assert is_included(*args) is not case.want_error


@pytest.mark.parametrize("case", CONSISTENCY, ids=lambda case: case.name)
def test_consistency_vector_verification(case: ConsistencyCase) -> None:
    args = (case.size1, case.size2, case.proof, case.root1, case.root2)
    if case.want_error:
        with pytest.raises(VerificationError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)
    assert is_consistent(*args) is not case.want_error


def test_roots_of_every_prefix_of_the_standard_leaves() -> None:
    log = _standard_log()
    assert len(ROOTS) == 9
    for size, root in enumerate(ROOTS):
        assert log.root(size) == root, size
        assert merkle_root(LEAVES[:size]) == root, size


@pytest.mark.parametrize(
    "vector",
    GENERATION["inclusion_proofs"],
    ids=lambda v: f"leaf{v['leaf_index_1based'] - 1}-of-{v['tree_size']}",
)
def test_inclusion_proof_generation(vector: dict[str, object]) -> None:
    log = _standard_log()
    index = int(str(vector["leaf_index_1based"])) - 1
    size = int(str(vector["tree_size"]))
    expected = [bytes.fromhex(h) for h in vector["proof"]]  # type: ignore[attr-defined]
    assert log.inclusion_proof(index, size) == expected
    proof = log.prove_inclusion(index, size)
    assert list(proof.path) == expected
    assert proof.leaf_hash == hash_leaf(LEAVES[index])
    assert proof.root == ROOTS[size]
    verify_inclusion(proof.leaf_hash, index, size, proof.path, ROOTS[size])


@pytest.mark.parametrize(
    "vector",
    GENERATION["consistency_proofs"],
    ids=lambda v: f"{v['old_size']}-to-{v['new_size']}",
)
def test_consistency_proof_generation(vector: dict[str, object]) -> None:
    log = _standard_log()
    size1, size2 = int(str(vector["old_size"])), int(str(vector["new_size"]))
    expected = [bytes.fromhex(h) for h in vector["proof"]]  # type: ignore[attr-defined]
    assert log.consistency_proof(size1, size2) == expected
    proof = log.prove_consistency(size1, size2)
    assert (list(proof.path), proof.root1, proof.root2) == (expected, ROOTS[size1], ROOTS[size2])
    verify_consistency(size1, size2, proof.path, ROOTS[size1], ROOTS[size2])


@pytest.mark.parametrize(
    "case",
    [c for c in INCLUSION if not c.want_error and c.tree_size <= 8 and c.leaf_hash != c.root],
    ids=lambda case: case.name,
)
def test_inclusion_happy_paths_are_what_we_generate(case: InclusionCase) -> None:
    log = _standard_log()
    assert log.root(case.tree_size) == case.root
    assert log.leaf_hash(case.index) == case.leaf_hash
    assert log.inclusion_proof(case.index, case.tree_size) == case.proof


@pytest.mark.parametrize(
    "case",
    [c for c in CONSISTENCY if not c.want_error and c.size1 > 0 and c.root1 in ROOTS],
    ids=lambda case: case.name,
)
def test_consistency_happy_paths_are_what_we_generate(case: ConsistencyCase) -> None:
    log = _standard_log()
    assert (log.root(case.size1), log.root(case.size2)) == (case.root1, case.root2)
    assert log.consistency_proof(case.size1, case.size2) == case.proof
