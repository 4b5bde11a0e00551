"""The S3 store: settings, ranged GETs, and errors mapped to Loupe's hierarchy."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

import pytest

from loupe.errors import InvalidInput, NotFound, Unavailable
from loupe.settings import Settings
from loupe.storage import CHUNK_SIZE, S3BlobStore, blob_store_for, parse_s3_url, served_key

BUCKET = "loupe-test-media"  # made by the s3_endpoint fixture
KEY = served_key("cd" * 32)
DATA = bytes(range(256)) * 1024  # 256 KiB


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://media-bucket", ("media-bucket", "")),
        ("s3://media-bucket/", ("media-bucket", "")),
        ("s3://media.bucket-1/loupe/prod/", ("media.bucket-1", "loupe/prod")),
    ],
)
def test_parse_s3_url(url: str, expected: tuple[str, str]) -> None:
    assert parse_s3_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://bucket/x",
        "/var/media",
        "s3://",
        "s3://Bad_Bucket/x",
        "s3://ab/x",
        "s3://bucket/../x",
        "s3://bucket/a//b",
        "s3://bucket/x?versionId=1",
        "s3://user:secret@bucket/x",
    ],
)
def test_a_bad_media_url_says_what_to_fix(url: str) -> None:
    with pytest.raises(InvalidInput, match="s3://bucket/prefix") as caught:
        blob_store_for(Settings(media_url=url))
    assert caught.value.details == {"setting": "media_url"}
    assert "secret" not in caught.value.message


def test_without_boto3_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 -> ImportError
    url = f"s3://no-boto-{uuid.uuid4().hex[:8]}/x"
    with pytest.raises(InvalidInput, match=r"install loupe\[s3\]"):
        blob_store_for(Settings(media_url=url))


def test_importing_the_storage_package_does_not_import_boto3() -> None:
    code = "import sys, loupe.storage, loupe.web.media_response; print('boto3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_ranged_read_sends_a_range_header(s3_store: S3BlobStore) -> None:
    sent: list[Any] = []
    s3_store._client.meta.events.register(
        "before-send.s3.GetObject", lambda request, **_: sent.append(request.headers.get("Range"))
    )
    s3_store.put(KEY, DATA)
    chunks = list(s3_store.read(KEY, 1000, 3000))
    assert b"".join(chunks) == DATA[1000:3000]
    assert list(s3_store.read(KEY, 5000)) and list(s3_store.read(KEY))
    assert [r.decode() if isinstance(r, bytes) else r for r in sent] == [
        "bytes=1000-2999",
        "bytes=5000-",
        None,
    ]


def test_the_body_is_streamed_in_chunks(s3_store: S3BlobStore) -> None:
    s3_store.put(KEY, DATA)
    sizes = [len(chunk) for chunk in s3_store.read(KEY)]
    assert sizes == [CHUNK_SIZE] * (len(DATA) // CHUNK_SIZE)


def test_the_prefix_keeps_stores_apart(s3_endpoint: str, aws_env: None) -> None:
    one = S3BlobStore(BUCKET, f"a-{uuid.uuid4().hex}", endpoint_url=s3_endpoint)
    two = S3BlobStore(BUCKET, f"b-{uuid.uuid4().hex}", endpoint_url=s3_endpoint)
    one.put(KEY, b"one")
    assert not two.exists(KEY)
    assert list(two.keys()) == []
    assert list(one.keys()) == [KEY]


def test_a_missing_bucket_is_unavailable(s3_endpoint: str, aws_env: None) -> None:
    store = S3BlobStore("no-such-bucket-here", "x", endpoint_url=s3_endpoint)
    with pytest.raises(Unavailable, match="does not exist"):
        store.put(KEY, b"x")
    with pytest.raises(Unavailable, match="does not exist"):
        list(store.keys())
    with pytest.raises(NotFound):  # a HEAD carries no error code: a 404 is a 404
        store.size(KEY)


def test_an_unreachable_service_is_unavailable(aws_env: None) -> None:
    import boto3
    import botocore.config

    client = boto3.session.Session().client(
        "s3",
        endpoint_url="http://127.0.0.1:9",  # discard: nothing listens
        config=botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=2),
    )
    store = S3BlobStore(BUCKET, "x", client=client)
    with pytest.raises(Unavailable, match="could not be reached"):
        store.size(KEY)
    with pytest.raises(Unavailable, match="could not be reached"):
        list(store.read(KEY, 0, 10))
