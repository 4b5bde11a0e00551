"""Where the RFC 6962 / RFC 9162 test vectors live, and how to read them.

The vectors are transparency-dev/merkle's (Apache-2.0), kept outside the repository in
``/work/shared/data/ledger-vectors`` (see its SOURCES.md for the origin and licence).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

VECTORS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ledger-vectors"
TESTDATA = VECTORS / "transparency-dev-merkle" / "testdata"
GENERATION = VECTORS / "transparency-dev-merkle" / "generation_vectors.json"

requires_vectors = pytest.mark.skipif(
    not TESTDATA.is_dir(),
    reason=f"RFC 6962/9162 test vectors not found at {VECTORS.resolve()}; "
    "check out the shared data next to the repository to run these tests",
)


@dataclass(frozen=True)
class InclusionCase:
    name: str
    index: int
    tree_size: int
    root: bytes
    leaf_hash: bytes
    proof: list[bytes]
    want_error: bool


@dataclass(frozen=True)
class ConsistencyCase:
    name: str
    size1: int
    size2: int
    root1: bytes
    root2: bytes
    proof: list[bytes]
    want_error: bool


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _files(kind: str) -> list[Path]:
    return sorted((TESTDATA / kind).rglob("*.json")) if TESTDATA.is_dir() else []


def _name(path: Path, kind: str) -> str:
    return path.relative_to(TESTDATA / kind).as_posix()


def inclusion_cases() -> list[InclusionCase]:
    cases = []
    for path in _files("inclusion"):
        raw: dict[str, Any] = json.loads(path.read_text())
        cases.append(
            InclusionCase(
                name=_name(path, "inclusion"),
                index=raw["leafIdx"],
                tree_size=raw["treeSize"],
                root=_b64(raw["root"]),
                leaf_hash=_b64(raw["leafHash"]),
                proof=[_b64(p) for p in raw["proof"] or []],
                want_error=raw["wantErr"],
            )
        )
    return cases


def consistency_cases() -> list[ConsistencyCase]:
    cases = []
    for path in _files("consistency"):
        raw: dict[str, Any] = json.loads(path.read_text())
        cases.append(
            ConsistencyCase(
                name=_name(path, "consistency"),
                size1=raw["size1"],
                size2=raw["size2"],
                root1=_b64(raw["root1"]),
                root2=_b64(raw["root2"]),
                proof=[_b64(p) for p in raw["proof"] or []],
                want_error=raw["wantErr"],
            )
        )
    return cases


def generation_vectors() -> dict[str, Any]:
    if not GENERATION.is_file():
        return {
            "leaf_inputs_hex": [],
            "root_hashes_by_size_hex": [],
            "inclusion_proofs": [],
            "consistency_proofs": [],
        }
    data: dict[str, Any] = json.loads(GENERATION.read_text())
    return data
