"""The BlobStore contract, run against both back-ends (local directory, S3 on moto)."""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

import pytest

from loupe.errors import InvalidInput, NotFound
from loupe.settings import Settings
from loupe.storage import (
    CHUNK_SIZE,
    BlobStore,
    LocalBlobStore,
    S3BlobStore,
    blob_store_for,
    sealed_key,
    served_key,
)

DATA = os.urandom(3 * CHUNK_SIZE + 123)  # several chunks and a partial one
KEY = served_key("ab" + "0" * 62)


def read(store: BlobStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    chunks = list(store.read(key, start, end))
    assert all(0 < len(chunk) <= CHUNK_SIZE for chunk in chunks)
    return b"".join(chunks)


def test_put_then_read_whole_in_bounded_chunks(store: BlobStore) -> None:
    store.put(KEY, DATA)
    chunks = list(store.read(KEY))
    assert b"".join(chunks) == DATA
    assert max(len(chunk) for chunk in chunks) <= CHUNK_SIZE
    assert len(chunks) == math.ceil(len(DATA) / CHUNK_SIZE)
    assert store.read_all(KEY) == DATA
    assert store.size(KEY) == len(DATA)
    assert store.exists(KEY)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, 10),  # the start
        (1000, 2 * CHUNK_SIZE + 7),  # the middle, across chunk boundaries
        (len(DATA) - 10, None),  # a suffix
        (len(DATA) - 3, len(DATA) + 100),  # an end past the end is clipped
        (len(DATA), None),  # starting at the end: nothing
        (len(DATA) + 5, None),  # past the end: nothing
        (len(DATA) + 5, len(DATA) + 9),
        (7, 7),  # empty
    ],
)
def test_ranges(store: BlobStore, start: int, end: int | None) -> None:
    store.put(KEY, DATA)
    assert read(store, KEY, start, end) == DATA[start:end]


@pytest.mark.parametrize(("start", "end"), [(-1, None), (10, 9)])
def test_a_bad_range_is_invalid_input(store: BlobStore, start: int, end: int | None) -> None:
    store.put(KEY, DATA)
    with pytest.raises(InvalidInput, match="byte range"):
        list(store.read(KEY, start, end))


def test_an_empty_blob(store: BlobStore) -> None:
    store.put(KEY, b"")
    assert store.size(KEY) == 0
    assert read(store, KEY) == b""
    assert read(store, KEY, 0, 5) == b""
    assert store.read_all(KEY) == b""


def test_a_missing_key_is_not_found(store: BlobStore) -> None:
    with pytest.raises(NotFound):
        store.size(KEY)
    with pytest.raises(NotFound):
        list(store.read(KEY))
    with pytest.raises(NotFound):
        list(store.read(KEY, 5, 10))
    with pytest.raises(NotFound):
        store.read_all(KEY)
    assert not store.exists(KEY)
    assert store.delete(KEY) is False


def test_delete(store: BlobStore) -> None:
    store.put(KEY, DATA)
    assert store.delete(KEY) is True
    assert not store.exists(KEY)
    with pytest.raises(NotFound):
        store.size(KEY)
    assert store.delete(KEY) is False
    assert list(store.keys()) == []


def test_keys_with_a_prefix(store: BlobStore) -> None:
    a, b, c = served_key("ab" * 32), served_key("cd" * 32), sealed_key("ab" * 32)
    for key in (a, b, c):
        store.put(key, key.encode())
    assert set(store.keys()) == {a, b, c}
    assert set(store.keys("media/")) == {a, b}
    assert set(store.keys("media/ab")) == {a}
    assert set(store.keys("media/ab/")) == {a}
    assert set(store.keys("sealed/")) == {c}
    assert set(store.keys(a)) == {a}
    assert list(store.keys("nothing/")) == []
    assert list(store.keys("../")) == []


def test_put_is_idempotent(store: BlobStore) -> None:
    store.put(KEY, DATA)
    store.put(KEY, DATA)
    assert store.read_all(KEY) == DATA
    assert list(store.keys()) == [KEY]


def test_concurrent_puts_of_the_same_key(store: BlobStore) -> None:
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def put() -> None:
        try:
            barrier.wait()
            store.put(KEY, DATA)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=put) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.read_all(KEY) == DATA
    assert list(store.keys()) == [KEY]  # no temporary file shows as a key


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../etc/passwd",
        "media/../../x",
        "/abs",
        "a//b",
        "a/",
        ".hidden",
        "a/.tmp-x",
        "a b",
        "é",
        "x" * 1025,
    ],
)
def test_a_bad_key_is_invalid_input(store: BlobStore, key: str) -> None:
    for call in (
        lambda: store.put(key, b"x"),
        lambda: store.size(key),
        lambda: list(store.read(key)),
        lambda: store.read_all(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
    ):
        with pytest.raises(InvalidInput, match="blob key"):
            call()
    assert list(store.keys()) == []


def test_content_keys() -> None:
    sha = "0f" * 32
    assert served_key(sha) == f"media/0f/{sha}"
    assert sealed_key(sha) == f"sealed/0f/{sha}"
    for bad in ("", "0F" * 32, "0f" * 31, "../" + "0" * 61, "g" * 64):
        with pytest.raises(InvalidInput, match="SHA-256"):
            served_key(bad)
        with pytest.raises(InvalidInput, match="SHA-256"):
            sealed_key(bad)


def test_blob_store_for_picks_the_local_directory(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'loupe.db'}")
    store = blob_store_for(settings)
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "loupe-media"
    assert blob_store_for(settings) is store  # cached
    explicit = blob_store_for(Settings(media_dir=tmp_path / "elsewhere"))
    assert isinstance(explicit, LocalBlobStore)
    assert explicit.root == tmp_path / "elsewhere"


def test_blob_store_for_picks_s3(s3_endpoint: str, aws_env: None) -> None:
    settings = Settings(media_url="s3://loupe-test-media/picked/here", s3_endpoint_url=s3_endpoint)
    store = blob_store_for(settings)
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix) == ("loupe-test-media", "picked/here/")
    assert blob_store_for(settings) is store
    store.put(KEY, b"x")
    assert store.read_all(KEY) == b"x"
    store.delete(KEY)
