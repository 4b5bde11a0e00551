"""Retries, back-off and pagination against scripted answers (httpx.MockTransport),
for both clients, and the real server's 503."""

from __future__ import annotations

import asyncio
import doctest
import random
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import cast

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from loupe.client import (
    AsyncClient,
    Client,
    ConnectionFailed,
    NotFound,
    RetryPolicy,
    TooManyRequests,
    Unavailable,
)
from loupe.client import retry as retry_module
from loupe.settings import Settings
from loupe.web.app import create_app

NO_WAIT = RetryPolicy(retries=3, backoff=0.0, max_retry_after=0.0)
BUSY = {"error": {"code": "unavailable", "message": "the database is busy", "details": {}}}
PROJECT = {
    "id": 1,
    "name": "p",
    "description": "",
    "config": {},
    "config_version": 1,
    "guidelines": "",
    "overlap": 1,
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}

Handler = Callable[[httpx.Request], httpx.Response]


def scripted(*answers: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler giving ``answers`` in turn (raising the exceptions), and the requests seen."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        # A fresh copy: a response is consumed by the client that receives it.
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return handler, seen


def sync_client(handler: Handler, retry: RetryPolicy = NO_WAIT) -> Client:
    return Client("http://x", "t", retry=retry, transport=httpx.MockTransport(handler))


def async_call(handler: Handler, call: Callable[[AsyncClient], object]) -> object:
    async def run() -> object:
        async with AsyncClient(
            "http://x", "t", retry=NO_WAIT, transport=httpx.MockTransport(handler)
        ) as client:
            return await call(client)  # type: ignore[misc]

    return asyncio.run(run())


def refused() -> httpx.ConnectError:
    return httpx.ConnectError("connection refused")


def test_busy_and_throttled_answers_are_retried() -> None:
    answers = (
        httpx.Response(503, json=BUSY, headers={"Retry-After": "1"}),
        httpx.Response(429, json=BUSY),
        httpx.Response(200, json=PROJECT),
    )
    handler, seen = scripted(*answers)
    with sync_client(handler) as client:
        assert client.projects.get(1).id == 1
    assert len(seen) == 3 and seen[0].headers["authorization"] == "Bearer t"

    handler, seen = scripted(*answers)
    project = async_call(handler, lambda client: client.projects.get(1))
    assert getattr(project, "id", None) == 1 and len(seen) == 3


def test_retries_give_up_with_the_servers_error() -> None:
    handler, seen = scripted(httpx.Response(503, json=BUSY, headers={"Retry-After": "1"}))
    with sync_client(handler) as client, pytest.raises(Unavailable) as error:
        client.projects.create("p", {})  # a POST: 503 means nothing changed, so retried
    assert len(seen) == NO_WAIT.retries + 1
    assert (error.value.status, error.value.code, error.value.retry_after) == (
        503,
        "unavailable",
        1.0,
    )

    handler, seen = scripted(httpx.Response(429, json=BUSY))
    with pytest.raises(TooManyRequests):
        async_call(handler, lambda client: client.projects.list())
    assert len(seen) == NO_WAIT.retries + 1


def test_connection_errors_are_retried_for_idempotent_operations_only() -> None:
    handler, seen = scripted(refused(), refused(), httpx.Response(200, json=PROJECT))
    with sync_client(handler) as client:
        assert client.projects.get(1).id == 1
    assert len(seen) == 3

    handler, seen = scripted(refused(), httpx.Response(201, json=PROJECT))
    with sync_client(handler) as client, pytest.raises(ConnectionFailed) as error:
        client.projects.create("p", {})  # may have been applied: not sent twice
    assert len(seen) == 1 and isinstance(error.value.__cause__, httpx.ConnectError)

    handler, seen = scripted(refused())
    with pytest.raises(ConnectionFailed):
        async_call(handler, lambda client: client.projects.get(1))
    assert len(seen) == NO_WAIT.retries + 1


def test_a_retried_upload_sends_the_whole_file_again(tmp_path: Path) -> None:
    imported = {"received": 2, "created": 2, "existing": 0, "withheld": 0}
    source = tmp_path / "rows.jsonl"
    source.write_bytes(b'{"id": "a", "text": "x"}\n' * 20_000)  # several chunks
    answers = (httpx.Response(503, json=BUSY), httpx.Response(200, json=imported))
    handler, seen = scripted(*answers)
    with sync_client(handler) as client:
        assert client.items.import_file(1, source).created == 2
    assert [r.content for r in seen] == [source.read_bytes()] * 2
    assert seen[0].headers["content-type"] == "application/x-ndjson"

    handler, seen = scripted(*answers)
    async_call(handler, lambda client: client.items.import_file(1, source))
    assert [r.content for r in seen] == [source.read_bytes()] * 2


def test_iterators_follow_the_cursor_across_pages() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        after = int(request.url.params["after"])
        limit = int(request.url.params["limit"])
        ids = [i for i in range(after + 1, 8) if i % 2]  # 1, 3, 5, 7
        page = ids[:limit]
        more = len(ids) > limit
        items = [{**PROJECT, "id": i} for i in page]
        return httpx.Response(200, json={"items": items, "next_after": page[-1] if more else None})

    with sync_client(handler) as client:
        assert [p.id for p in client.projects.iter(page_size=3)] == [1, 3, 5, 7]
        assert [p.id for p in client.projects.iter(page_size=1)] == [1, 3, 5, 7]

    async def collect(client: AsyncClient) -> list[int]:
        return [p.id async for p in client.projects.iter(page_size=2)]

    assert async_call(handler, collect) == [1, 3, 5, 7]


def test_backoff_doubles_up_to_its_cap_and_honours_retry_after() -> None:
    policy = RetryPolicy(backoff=0.5, max_backoff=3.0, jitter=0.0, max_retry_after=10.0)
    assert [policy.delay(n, retry_after=None) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.delay(0, retry_after=2.0) == 2.0
    assert policy.delay(3, retry_after=0.1) == 3.0  # never shorter than the back-off
    assert policy.delay(0, retry_after=3600.0) == 10.0
    for bad in ({"retries": -1}, {"jitter": 1.5}, {"backoff": -1.0}):
        with pytest.raises(ValueError, match="must"):
            RetryPolicy(**bad)


@given(attempt=st.integers(0, 20), jitter=st.floats(0.0, 1.0), seed=st.integers(0, 2**32))
def test_jitter_stays_within_the_backoff(attempt: int, jitter: float, seed: int) -> None:
    policy = RetryPolicy(backoff=0.5, max_backoff=30.0, jitter=jitter, rng=random.Random(seed))
    base = min(30.0, 0.5 * 2.0**attempt)
    assert base * (1.0 - jitter) <= policy.delay(attempt, retry_after=None) <= base


def test_the_real_servers_503_is_retried_then_raised(tmp_path: Path) -> None:
    # A server that cannot save work (too little free disk) answers 503 with Retry-After.
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'loupe.db'}",
        key_dir=tmp_path / "keys",
        health_min_free_mb=2**40,
    )
    sent: list[httpx.Request] = []
    with TestClient(create_app(settings), raise_server_exceptions=False) as http:
        http.event_hooks["request"].append(sent.append)
        client = Client("http://testserver", retry=NO_WAIT, http=cast(httpx.Client, http))
        with pytest.raises(Unavailable) as error:
            client.health()
    assert error.value.code == "unavailable" and "LOUPE_HEALTH_MIN_FREE_MB" in error.value.message
    assert len(sent) == NO_WAIT.retries + 1


def test_streamed_downloads_are_retried_and_their_errors_read(tmp_path: Path) -> None:
    export = b'{"id": "u1"}\n{"id": "u2"}\n'
    missing = {"error": {"code": "not_found", "message": "project 9 does not exist"}}
    handler, seen = scripted(httpx.Response(503, json=BUSY), httpx.Response(200, content=export))
    with sync_client(handler) as client:
        assert client.exports.download(1, tmp_path / "out.jsonl") == len(export)
    assert (tmp_path / "out.jsonl").read_bytes() == export and len(seen) == 2

    handler, seen = scripted(httpx.Response(503, json=BUSY), httpx.Response(200, content=export))

    async def rows(client: AsyncClient) -> list[object]:
        return [row async for row in client.exports.rows(1, kind="labels")]

    assert async_call(handler, rows) == [{"id": "u1"}, {"id": "u2"}]
    assert seen[-1].url.params["kind"] == "labels"

    handler, _ = scripted(httpx.Response(404, json=missing))
    with sync_client(handler) as client, pytest.raises(NotFound) as error:
        list(client.exports.consensus(9))
    assert error.value.message == "project 9 does not exist"


def test_the_retry_policy_examples() -> None:
    assert doctest.testmod(retry_module).failed == 0


class BrokenStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that breaks after its first line, as a dropped connection would."""

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"id": "u1"}\n'
        raise httpx.ReadError("connection reset")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"id": "u1"}\n'
        raise httpx.ReadError("connection reset")


def test_a_body_cut_short_is_retried_when_idempotent_else_raised(tmp_path: Path) -> None:
    def handler_for(seen: list[int]) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(1)
            if len(seen) == 1:
                return httpx.Response(200, stream=BrokenStream())
            return httpx.Response(200, json=PROJECT)

        return handler

    seen: list[int] = []
    with sync_client(handler_for(seen)) as client:
        assert client.projects.get(1).id == 1  # read in full, so retried
    assert len(seen) == 2

    seen = []
    with sync_client(handler_for(seen)) as client, pytest.raises(ConnectionFailed):
        client.projects.create("p", {})
    assert len(seen) == 1

    seen = []
    with sync_client(handler_for(seen)) as client, pytest.raises(ConnectionFailed) as error:
        list(client.exports.rows(1))  # streamed: what was read may be partial
    assert "mid-stream" in error.value.message and len(seen) == 1

    seen = []

    async def rows(client: AsyncClient) -> list[object]:
        return [row async for row in client.exports.rows(1)]

    with pytest.raises(ConnectionFailed):
        async_call(handler_for(seen), rows)
