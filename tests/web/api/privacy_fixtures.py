"""Shared set-up for the privacy endpoint tests: an app whose key directory is per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from loupe.settings import Settings
from loupe.web.app import create_app

CANARIES = ("canary.fox@example.org", "+44 20 7946 0958", "4111 1111 1111 1111")
CANARY_TEXT = f"mail {CANARIES[0]} or call {CANARIES[1]}, card {CANARIES[2]}"


@pytest.fixture
def keyed_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, key_dir=tmp_path / "keys", reveal_min_purpose=10)


@pytest.fixture
def client(keyed_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(keyed_settings), raise_server_exceptions=False) as test_client:
        yield test_client
