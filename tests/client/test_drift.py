"""The SDK cannot drift from the API: its endpoint table and response models are checked
against the OpenAPI snapshot (``docs/openapi.json``, itself checked against the app by
``tests/test_docs.py``), and the blocking client against the async source it is
generated from."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import loupe.client
from loupe.client import AsyncClient, Client, _unasync, models
from loupe.client.operations import API_PREFIX, NOT_COVERED, OPERATIONS

ROOT = Path(__file__).resolve().parents[2]
OPENAPI: dict[str, Any] = json.loads((ROOT / "docs" / "openapi.json").read_text())
API_OPERATIONS = {
    (method.upper(), path.removeprefix(API_PREFIX))
    for path, methods in OPENAPI["paths"].items()
    for method in methods
}
RESPONSE_MODELS = [
    cls
    for cls in vars(models).values()
    if isinstance(cls, type) and issubclass(cls, models.Model) and cls is not models.Model
]


def test_every_sdk_operation_exists_in_the_api() -> None:
    used = {(op.method, op.path) for op in OPERATIONS.values()}
    assert used - API_OPERATIONS == set()
    assert len(used) == len(OPERATIONS)  # no operation listed twice under two names


def test_every_api_operation_is_covered_or_says_why_not() -> None:
    covered = {(op.method, op.path) for op in OPERATIONS.values()}
    assert API_OPERATIONS - covered - set(NOT_COVERED) == set()
    assert set(NOT_COVERED) - API_OPERATIONS == set()  # no stale excuses
    assert set(NOT_COVERED) & covered == set()


def test_idempotence_follows_the_http_method_unless_marked() -> None:
    for name, op in OPERATIONS.items():
        if op.method in ("GET", "PUT"):
            assert op.idempotent, name


@pytest.mark.parametrize("model", RESPONSE_MODELS, ids=lambda cls: cls.__name__)
def test_response_models_match_the_openapi_components(model: type[models.Model]) -> None:
    component = OPENAPI["components"]["schemas"][model.schema_name]
    fields = model.model_fields
    assert set(fields) == set(component["properties"])
    required = {name for name, field in fields.items() if field.is_required()}
    assert required == set(component.get("required", []))


def test_the_blocking_client_is_generated_from_the_async_one() -> None:
    stale = [
        name
        for name, text in _unasync.generate().items()
        if (_unasync.TARGET / name).read_text(encoding="utf-8") != text
    ]
    assert stale == [], "run: python -m loupe.client._unasync"


def _methods(resource: object) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(resource, inspect.isroutine)
        if not name.startswith("_")
    }


def test_both_clients_have_the_same_resources_and_signatures() -> None:
    sync, not_sync = Client("http://x"), AsyncClient("http://x")
    resources = [name for name, value in vars(sync).items() if not name.startswith("_")]
    assert resources == [name for name in vars(not_sync) if not name.startswith("_")]
    for name in resources:
        if name == "retry":
            continue
        ours, theirs = _methods(getattr(sync, name)), _methods(getattr(not_sync, name))
        assert {k: str(v) for k, v in ours.items()} == {
            k: str(v).replace("AsyncIterator", "Iterator") for k, v in theirs.items()
        }
    sync.close()


def test_public_names_are_sorted_and_importing_is_light() -> None:
    assert loupe.client.__all__ == sorted(loupe.client.__all__)
    assert models.__all__ == sorted(models.__all__)
    code = (
        "import sys, loupe.client; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'fastapi', 'sqlalchemy', 'numpy', 'cryptography', 'starlette', 'sklearn'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
