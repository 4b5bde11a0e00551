"""Both blob-store back-ends: the local directory and S3, the latter against moto's
S3-compatible server (``moto.server.ThreadedMotoServer``, an emulator) started in-process
on a free port. ``start()`` returns once the server's socket listens: no sleep, no poll."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from loupe.storage import BlobStore, LocalBlobStore, S3BlobStore

BUCKET = "loupe-test-media"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials, and no reading of the developer's own AWS files."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """URL of a moto S3 server holding the bucket ``BUCKET``."""
    pytest.importorskip("boto3", reason="the s3 extra (boto3) is not installed")
    server_module = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    import boto3

    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
def s3_store(s3_endpoint: str, aws_env: None) -> S3BlobStore:
    """An S3 store under a prefix of its own, so tests share the bucket but no keys."""
    return S3BlobStore(BUCKET, f"t/{uuid.uuid4().hex}", endpoint_url=s3_endpoint)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "media")
    s3: BlobStore = request.getfixturevalue("s3_store")
    return s3
