"""The async client against a live server: the same resources, awaited."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.client.live import SCHEMA, LiveServer

from loupe.client import AsyncClient, NotFound, RetryPolicy


def _client(live_server: LiveServer, token: str) -> AsyncClient:
    return AsyncClient(live_server.url, token, retry=RetryPolicy(retries=2, backoff=0.0))


async def _work(live_server: LiveServer, tmp_path: Path) -> None:
    async with (
        _client(live_server, live_server.manager.token) as manager,
        _client(live_server, live_server.annotator.token) as annotator,
    ):
        project = await manager.projects.create("async", SCHEMA)
        assert (await manager.projects.get(project.id)).name == "async"
        await manager.members.add(project.id, live_server.annotator.id)
        rows = [{"id": f"a{i}", "text": f"async {i}"} for i in range(7)]
        assert (await manager.items.add(project.id, rows, batch_size=3)).created == 7
        upload = tmp_path / "more.jsonl"
        upload.write_text('{"id": "f1", "text": "from a file"}\n')
        assert (await manager.items.import_file(project.id, upload)).created == 1

        ids = [item.id async for item in manager.items.iter(project.id, page_size=2)]
        assert len(ids) == 8 and ids == sorted(set(ids))
        assert (await manager.items.get(project.id, ids[0])).external_id == "a0"
        with pytest.raises(NotFound):
            await manager.items.get(project.id, 2**31 - 1)

        labelled = 0
        while (task := await annotator.tasks.next(project.id)) is not None:
            await annotator.labels.submit(project.id, task.item_id, "call")
            labelled += 1
        assert labelled == 8
        assert len([label async for label in manager.labels.iter(project.id)]) == 8
        consensus = [row async for row in manager.exports.consensus(project.id)]
        assert {row["answer"] for row in consensus} == {"call"} and len(consensus) == 8
        target = tmp_path / "labels.jsonl"
        written = await manager.exports.download(project.id, target, kind="labels")
        assert written == target.stat().st_size and len(target.read_text().splitlines()) == 8

        assert (await manager.quality.progress(project.id)).labels == 8
        assert (await manager.quality.report(project.id)).n_labels == 8
        assert [m.user_id for m in await manager.members.list(project.id)] == [
            live_server.manager.id,
            live_server.annotator.id,
        ]
        assert (await annotator.wallet.get()).entries == []  # no rate card: nothing earned
        assert (await annotator.health()).status == "ok"


def test_async_client_round_trip(live_server: LiveServer, tmp_path: Path) -> None:
    asyncio.run(_work(live_server, tmp_path))
