"""The S3 blob store: one object per key under ``s3://bucket/prefix`` (the ``s3`` extra).

Any S3-compatible service works (AWS, MinIO, Ceph, R2...): ``s3_endpoint_url`` names it,
and credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY``, a profile, an instance role). boto3 is imported when the store
is built, never when Loupe is imported.

A PUT is atomic on S3 (an object appears whole or not at all), so :meth:`S3BlobStore.put`
needs no temporary object; it skips the upload when the key exists already (keys are
content-addressed). Ranged reads send ``Range: bytes=a-b`` and stream the body in chunks
of at most 64 KiB. A service that cannot be reached, or a bucket that does not exist, is
:class:`~loupe.errors.Unavailable` (503), never a bare botocore error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NoReturn

from loupe.errors import InvalidInput, NotFound, Unavailable
from loupe.storage.blobs import CHUNK_SIZE, check_key, check_range

__all__ = ["S3BlobStore"]

_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


def _import_boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise InvalidInput(
            "media_url names S3 object storage but boto3 is not installed: "
            "install loupe[s3] (pip install 'loupe[s3]'), or unset LOUPE_MEDIA_URL",
            details={"setting": "media_url"},
        ) from None
    return boto3


class S3BlobStore:
    """Blobs as objects in ``bucket`` under ``prefix`` (see the module doc).

    ``client`` replaces the boto3 client built from ``endpoint_url`` (tests, custom set-up).
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        client: Any = None,
    ) -> None:
        boto3 = _import_boto3()
        import botocore.config
        import botocore.exceptions

        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self._client_error: type[Exception] = botocore.exceptions.ClientError
        self._boto_error: type[Exception] = botocore.exceptions.BotoCoreError
        if client is None:
            config = botocore.config.Config(
                connect_timeout=10,
                read_timeout=60,
                retries={"max_attempts": 4, "mode": "standard"},
                max_pool_connections=32,
            )
            # A session per store: boto3's default session is not thread-safe; clients are.
            client = boto3.session.Session().client("s3", endpoint_url=endpoint_url, config=config)
        self._client = client

    def __repr__(self) -> str:
        return f"S3BlobStore('s3://{self.bucket}/{self.prefix}')"

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _fail(self, error: Exception, key: str) -> NoReturn:
        """Map a botocore error to Loupe's hierarchy."""
        if isinstance(error, self._client_error):
            response: dict[str, Any] = getattr(error, "response", {}) or {}
            code = str(response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                raise NotFound(f"blob {key!r} does not exist", details={"key": key}) from None
            if code == "NoSuchBucket":
                raise Unavailable(
                    f"the media bucket {self.bucket!r} does not exist: create it or fix "
                    "LOUPE_MEDIA_URL",
                    details={"setting": "media_url"},
                ) from None
            raise Unavailable(
                f"object storage refused {key!r} ({code or 'error'}): check LOUPE_MEDIA_URL, "
                "LOUPE_S3_ENDPOINT_URL and the credentials",
                details={"key": key, "code": code},
            ) from None
        raise Unavailable(
            f"object storage could not be reached ({type(error).__name__}): check "
            "LOUPE_S3_ENDPOINT_URL and the network",
            details={"key": key},
        ) from None

    def _errors(self) -> tuple[type[Exception], ...]:
        return (self._client_error, self._boto_error)

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``; a key that exists already is left as it is."""
        if self.exists(key):  # content-addressed: the same key holds the same bytes
            return
        try:
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except self._errors() as error:
            self._fail(error, key)

    def size(self, key: str) -> int:
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self._errors() as error:
            self._fail(error, key)
        return int(head["ContentLength"])

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes ``[start, end)`` (clipped to the blob) in chunks of at most 64 KiB.

        The GET is sent when iteration starts (so an unread iterator holds no connection);
        :class:`NotFound` is raised then for a missing key. A range past the end yields
        nothing.
        """
        check_range(start, end)
        name = self._key(key)
        return self._chunks(key, name, start, end)

    def _chunks(self, key: str, name: str, start: int, end: int | None) -> Iterator[bytes]:
        if end is not None and end == start:
            return
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": name}
        if start or end is not None:
            request["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            response = self._client.get_object(**request)
        except self._client_error as error:
            if getattr(error, "response", {}).get("Error", {}).get("Code") == "InvalidRange":
                return  # the range starts past the end (the object exists)
            self._fail(error, key)
        except self._boto_error as error:
            self._fail(error, key)
        body = response["Body"]
        try:
            yield from body.iter_chunks(CHUNK_SIZE)
        except self._errors() as error:
            self._fail(error, key)
        finally:
            body.close()

    def read_all(self, key: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
            body = response["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()
        except self._errors() as error:
            self._fail(error, key)

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except NotFound:
            return False
        return True

    def delete(self, key: str) -> bool:
        """Remove the object; True if it existed (S3's DELETE does not say, so HEAD first)."""
        if not self.exists(key):
            return False
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except self._errors() as error:
            self._fail(error, key)
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key starting with ``prefix`` (a plain string prefix), in S3's (sorted) order."""
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", ()):
                    yield str(item["Key"])[len(self.prefix) :]
        except self._errors() as error:
            self._fail(error, prefix)
