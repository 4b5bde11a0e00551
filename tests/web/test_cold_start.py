"""The server starts without the heavy modules, and a plain next-task + submit never
loads them: SciPy, scikit-learn and the name/word lists load on first use elsewhere.
NumPy loads with the first posterior, model or statistic, never to start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from tests.factories import add_items, make_project, make_user

from loupe.db.database import Database
from loupe.settings import Settings
from loupe.web.app import create_app

HEAVY = ("scipy", "sklearn", "faker", "wordfreq", "mimesis")
# Not needed to start and answer the health check: NumPy loads on first use (this test's
# submit runs a posterior, so only the start is checked), media codecs and object storage
# with the first media request, Alembic only when the database is behind the head, Jinja2
# with the first page.
NOT_AT_START = ("numpy", "boto3", "botocore", "cv2", "PIL", "alembic", "mako", "jinja2")
# Loupe's own modules that only a page or endpoint few requests reach needs: they load
# with it, not at start.
LOUPE_NOT_AT_START = ("loupe.services.model_loop.efficiency",)

START = """
import json, sys
from fastapi.testclient import TestClient
from loupe.settings import Settings
from loupe.web.app import create_app

url, key_dir = sys.argv[1:3]
with TestClient(create_app(Settings(database_url=url, key_dir=key_dir, model_dir=key_dir))) as client:
    health = client.get("/api/v1/health")
    assert health.status_code == 200, health.text
print(json.dumps(sorted(sys.modules)))
"""

LOOP = """
import json, sys
from fastapi.testclient import TestClient
from loupe.settings import Settings
from loupe.web.app import create_app

url, token, project, key_dir = sys.argv[1:5]
headers = {"Authorization": f"Bearer {token}"}
settings = Settings(database_url=url, key_dir=key_dir, model_dir=key_dir)
loaded = {}
with TestClient(create_app(settings)) as client:
    loaded["start"] = sorted({m.split(".")[0] for m in sys.modules})
    health = client.get("/api/v1/health")
    assert health.status_code == 200, health.text
    task = client.post(f"/api/v1/projects/{project}/tasks/next", headers=headers)
    assert task.status_code == 200, task.text
    item = task.json()["task"]["item_id"]
    label = client.post(
        f"/api/v1/projects/{project}/items/{item}/labels", json={"answer": "call"}, headers=headers
    )
    assert label.status_code == 201, label.text
    loaded["loop"] = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps(loaded))
"""


def test_next_task_and_submit_load_no_heavy_module(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    annotator = make_user(db, "maya")
    # Overlap 3: submitting runs the live consensus (a posterior) but does not resolve.
    project = make_project(db, members={annotator: "annotator"}, overlap=3)
    add_items(db, project, 3)
    db.dispose()
    result = subprocess.run(
        [sys.executable, "-c", LOOP, database_url, annotator.token, str(project), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert not set(loaded["start"]) & {*HEAVY, "numpy"}
    assert not set(loaded["loop"]) & set(HEAVY)


def test_start_and_health_load_no_media_codec_storage_or_alembic(
    database_url: str, tmp_path: Path
) -> None:
    Database(database_url).dispose()  # the fixture's database is at the head already
    result = subprocess.run(
        [sys.executable, "-c", START, database_url, str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert not {name.split(".")[0] for name in loaded} & set(NOT_AT_START + HEAVY)
    assert not loaded & set(LOUPE_NOT_AT_START)


def test_create_app_builds_no_route_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FastAPI analyses each route once, when its module is imported; create_app adds none.

    A router of the page routers, included without a prefix, made FastAPI build every page
    route a second time only to check that no path is empty (~25 ms of each start)."""
    import fastapi.routing

    built: list[str] = []
    populate = fastapi.routing._populate_api_route_state

    def counting(route: Any, path: str, *args: Any, **kwargs: Any) -> None:
        built.append(path)
        populate(route, path, *args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "_populate_api_route_state", counting)
    url = f"sqlite:///{tmp_path / 'loupe.db'}"  # never opened: create_app does no I/O
    app = create_app(Settings(database_url=url, key_dir=tmp_path, model_dir=tmp_path))
    assert built == []
    # The pages are all there, out of the API contract.
    pages = {route.path for route in iter_route_contexts(app.routes)}
    assert {"/", "/login", "/static"} <= pages
    assert not any(path.startswith("/login") for path in app.openapi()["paths"])
