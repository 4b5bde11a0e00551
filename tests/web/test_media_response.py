"""Serving blobs over HTTP: 200 / 206 / 416 / 304 / HEAD, streamed in bounded chunks."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient

from loupe.storage import CHUNK_SIZE, LocalBlobStore, served_key
from loupe.web.errors import install_error_handlers
from loupe.web.media_response import byte_range, media_response

SHA = "5e" * 32
KEY = served_key(SHA)
DATA = os.urandom(5 * CHUNK_SIZE + 17)
SIZE = len(DATA)


@dataclass
class SpyStore(LocalBlobStore):
    """A local store that records every read and every chunk it hands out."""

    root: Path
    reads: list[tuple[int, int | None]] = field(default_factory=list)
    chunks: list[int] = field(default_factory=list)

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        self.reads.append((start, end))
        for chunk in super().read(key, start, end):
            self.chunks.append(len(chunk))
            yield chunk

    def read_all(self, key: str) -> bytes:
        raise AssertionError("media_response must never read a blob whole")


@pytest.fixture
def store(tmp_path: Path) -> SpyStore:
    spy = SpyStore(tmp_path / "media")
    spy.put(KEY, DATA)
    return spy


@pytest.fixture
def client(store: SpyStore) -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)

    @app.api_route("/media/{sha}", methods=["GET", "HEAD"])
    def serve(sha: str, request: Request) -> Response:
        return media_response(
            store,
            served_key(sha),
            mime="image/png",
            etag=sha,
            range_header=request.headers.get("range"),
            head=request.method == "HEAD",
            if_none_match=request.headers.get("if-none-match"),
        )

    with TestClient(app) as test_client:
        yield test_client


def common_headers_are_set(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["accept-ranges"] == "bytes"
    assert headers["etag"] == f'"{SHA}"'
    assert headers["cache-control"] == "private"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == "default-src 'none'; sandbox"


def test_the_whole_blob_streams_in_bounded_chunks(client: TestClient, store: SpyStore) -> None:
    response = client.get(f"/media/{SHA}")
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-length"] == str(SIZE)
    assert response.headers["content-type"] == "image/png"
    assert "content-range" not in response.headers
    common_headers_are_set(response)
    assert store.reads == [(0, SIZE)]
    assert max(store.chunks) == CHUNK_SIZE
    assert len(store.chunks) == math.ceil(SIZE / CHUNK_SIZE)


def test_chunk_size_does_not_grow_with_the_blob(client: TestClient, store: SpyStore) -> None:
    """Memory held per response is one chunk: a 16x larger blob means 16x more chunks,
    each no larger."""
    big_sha = "b1" * 32
    store.put(served_key(big_sha), DATA * 16)
    assert client.get(f"/media/{SHA}").status_code == 200
    small = list(store.chunks)
    store.chunks.clear()
    assert client.get(f"/media/{big_sha}").content == DATA * 16
    assert max(store.chunks) == max(small) == CHUNK_SIZE
    assert len(store.chunks) == math.ceil(16 * SIZE / CHUNK_SIZE)


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 1),
        ("bytes=0-99", 0, 100),
        ("bytes=70000-200000", 70000, 200001),  # the middle, across chunks
        ("bytes=1000-", 1000, SIZE),
        ("bytes=-5", SIZE - 5, SIZE),  # a suffix
        ("bytes=-99999999", 0, SIZE),  # a suffix longer than the blob: all of it
        (f"bytes=10-{SIZE * 2}", 10, SIZE),  # an end past the end is clipped
        (f"bytes={SIZE - 1}-{SIZE - 1}", SIZE - 1, SIZE),  # the last byte
        ("Bytes = 3-4 ", 3, 5),  # case and optional white space
    ],
)
def test_a_single_range_is_206(
    client: TestClient, store: SpyStore, header: str, start: int, end: int
) -> None:
    response = client.get(f"/media/{SHA}", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == DATA[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{SIZE}"
    assert response.headers["content-length"] == str(end - start)
    common_headers_are_set(response)
    assert store.reads == [(start, end)]  # only the range is read, never the whole blob
    assert sum(store.chunks) == end - start


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}", "bytes=-0"])
def test_an_unsatisfiable_range_is_416(client: TestClient, store: SpyStore, header: str) -> None:
    response = client.get(f"/media/{SHA}", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{SIZE}"
    assert response.content == b""
    assert store.reads == []


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-1,5-6",  # several ranges: served whole
        "bytes=0-1, -5",
        "bytes=5-2",  # last < first: invalid, ignored
        "items=0-5",  # another unit
        "bytes=abc",
        "bytes=",
        "bytes=-",
        "bytes=0x1-2",
        "bytes=1-2-3",
        "bytes=" + "9" * 5000 + "-",  # would overflow int() parsing: ignored, not a 500
        "0-5",
        "",
    ],
)
def test_a_multi_range_or_malformed_header_is_ignored(
    client: TestClient, store: SpyStore, header: str
) -> None:
    response = client.get(f"/media/{SHA}", headers={"Range": header})
    assert response.status_code == 200
    assert response.content == DATA
    assert "content-range" not in response.headers
    assert store.reads == [(0, SIZE)]


def test_head_has_the_headers_and_no_body(client: TestClient, store: SpyStore) -> None:
    response = client.head(f"/media/{SHA}")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(SIZE)
    assert response.headers["content-type"] == "image/png"
    common_headers_are_set(response)
    ranged = client.head(f"/media/{SHA}", headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 200  # Range is for GET only
    assert ranged.headers["content-length"] == str(SIZE)
    assert store.reads == []


@pytest.mark.parametrize(
    "if_none_match", [f'"{SHA}"', f'W/"{SHA}"', f'"other", "{SHA}"', "*", f' "x",W/"{SHA}" ']
)
def test_a_matching_etag_is_304(client: TestClient, store: SpyStore, if_none_match: str) -> None:
    for headers in (
        {"If-None-Match": if_none_match},
        {"If-None-Match": if_none_match, "Range": "bytes=0-9"},
    ):
        response = client.get(f"/media/{SHA}", headers=headers)
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == f'"{SHA}"'
    assert store.reads == []


@pytest.mark.parametrize("if_none_match", ['"other"', SHA, f'"{SHA[:-1]}"', ""])
def test_another_etag_gets_the_blob(client: TestClient, if_none_match: str) -> None:
    response = client.get(f"/media/{SHA}", headers={"If-None-Match": if_none_match})
    assert response.status_code == 200
    assert response.content == DATA


def test_a_missing_blob_is_404(client: TestClient, store: SpyStore) -> None:
    response = client.get(f"/media/{'0' * 64}", headers={"Range": "bytes=0-9"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert store.reads == []


def test_an_empty_blob(client: TestClient, store: SpyStore) -> None:
    empty = "e0" * 32
    store.put(served_key(empty), b"")
    response = client.get(f"/media/{empty}", headers={"Range": "bytes=0-"})
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "0"


def test_byte_range_known_answers() -> None:
    assert byte_range(None, 10) is None
    assert byte_range("bytes=0-", 10) == (0, 10)
    assert byte_range("bytes=2-4", 10) == (2, 5)
    assert byte_range("bytes=-3", 10) == (7, 10)
    assert byte_range("bytes=9-100", 10) == (9, 10)
    assert byte_range("bytes=10-", 10) == "unsatisfiable"
    assert byte_range("bytes=-0", 10) == "unsatisfiable"
    assert byte_range("bytes=4-3", 10) is None
    assert byte_range("bytes=0-", 0) is None
