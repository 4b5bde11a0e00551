"""``/health`` is ok only when work can be saved; a database that turns read-only
while the server runs answers writes with 503, not 500."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from fastapi.testclient import TestClient
from tests.factories import make_read_only, make_user, snapshot

from loupe import __version__
from loupe.db.database import Database

LABELS = {"task": {"type": "single_choice", "labels": [{"key": "a"}, {"key": "b"}]}}


class Usage(NamedTuple):
    total: int
    used: int
    free: int


def test_health_is_ok_without_credentials(app_client: TestClient) -> None:
    response = app_client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_health_is_503_when_a_data_disk_is_nearly_full(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = shutil.disk_usage
    full = tmp_path / "keys"  # the settings fixture's key directory

    def usage(path: Any) -> Usage:
        if Path(path).resolve() in (full.resolve(), tmp_path.resolve()):
            return Usage(10**9, 10**9 - 5 * 1024 * 1024, 5 * 1024 * 1024)
        total, used, free = real(path)
        return Usage(total, used, free)

    monkeypatch.setattr("loupe.services.health.shutil.disk_usage", usage)
    response = app_client.get("/api/v1/health")
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "unavailable"
    assert "only 5 MiB free" in error["message"]
    assert "LOUPE_HEALTH_MIN_FREE_MB" in error["message"]
    monkeypatch.setattr("loupe.services.health.shutil.disk_usage", real)
    assert app_client.get("/api/v1/health").status_code == 200


def test_a_database_turned_read_only_gives_503_on_writes_and_health(
    app_client: TestClient, db: Database
) -> None:
    admin = make_user(db, "admin", "admin")
    assert app_client.get("/api/v1/health").status_code == 200
    make_read_only(app_client.app.state.db)  # type: ignore[attr-defined]
    before = snapshot(db)

    health = app_client.get("/api/v1/health")
    assert health.status_code == 503, health.text
    assert "read-only" in health.json()["error"]["message"]

    write = app_client.post(
        "/api/v1/projects", json={"name": "p", "config": LABELS}, headers=admin.headers
    )
    assert write.status_code == 503, write.text
    assert write.headers["Retry-After"] == "1"
    error = write.json()["error"]
    assert error["code"] == "unavailable"
    assert "read-only" in error["message"]
    # Reads still work, and nothing was written.
    assert app_client.get("/api/v1/projects", headers=admin.headers).status_code == 200
    assert snapshot(db) == before
