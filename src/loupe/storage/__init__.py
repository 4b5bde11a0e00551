"""Content-addressed blob storage for media: the local filesystem or S3-compatible storage.

Blobs never go in the database. The served (gated) bytes of a media part live under
:func:`served_key` (``media/<sha[:2]>/<sha>``, the SHA-256 of those bytes), a sealed
original under :func:`sealed_key` (``sealed/<h[:2]>/<h>``, the SHA-256 of its
ciphertext). Because a key names its content, writing a blob twice is harmless, the same
bytes are stored once, and a blob written before a transaction that then fails is only an
orphan for ``loupe media gc``.

:func:`blob_store_for` picks the back-end from the settings: :class:`S3BlobStore` when
``media_url`` is ``s3://bucket/prefix``, else :class:`LocalBlobStore` under
``Settings.resolved_media_dir()``.

>>> import tempfile
>>> from pathlib import Path
>>> from loupe.settings import Settings
>>> store = blob_store_for(Settings(media_dir=Path(tempfile.mkdtemp())))
>>> store.put(served_key("ab" * 32), b"pixels")
>>> store.size(served_key("ab" * 32))
6
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from loupe.errors import InvalidInput
from loupe.storage.blobs import CHUNK_SIZE, LocalBlobStore, check_key
from loupe.storage.s3 import S3BlobStore  # light: boto3 is imported when a store is built

if TYPE_CHECKING:
    from loupe.settings import Settings

__all__ = [
    "CHUNK_SIZE",
    "BlobStore",
    "LocalBlobStore",
    "S3BlobStore",
    "blob_store_for",
    "check_key",
    "parse_s3_url",
    "sealed_key",
    "served_key",
]

_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)


class BlobStore(Protocol):
    """What the services need from a blob store; both back-ends behave the same.

    Keys are ``/``-separated plain segments (:func:`check_key`); a bad key is
    :class:`~loupe.errors.InvalidInput`, a missing one :class:`~loupe.errors.NotFound`.
    """

    def put(self, key: str, data: bytes) -> None:
        """Store atomically (readers see all or nothing); an existing key is kept as is."""

    def size(self, key: str) -> int:
        """Length in bytes; NotFound when missing."""

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes ``[start, end)``, clipped to the blob, in chunks of at most 64 KiB."""

    def read_all(self, key: str) -> bytes:
        """The whole blob; NotFound when missing."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> bool:
        """Remove; True if it existed."""

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key that starts with ``prefix``."""


def _digest(value: str, what: str) -> str:
    if not _SHA256.fullmatch(value):
        raise InvalidInput(
            f"{what} must be 64 lowercase hex digits (a SHA-256), got {value[:80]!r}",
            details={what: value[:80]},
        )
    return value


def served_key(sha256: str) -> str:
    """Key of the served (gated) bytes whose SHA-256 is ``sha256``."""
    return f"media/{sha256[:2]}/{_digest(sha256, 'sha256')}"


def sealed_key(cipher_sha256: str) -> str:
    """Key of a sealed original whose ciphertext's SHA-256 is ``cipher_sha256``."""
    return f"sealed/{cipher_sha256[:2]}/{_digest(cipher_sha256, 'cipher_sha256')}"


def parse_s3_url(url: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://bucket/prefix``, or InvalidInput saying what to fix."""
    parts = urlsplit(url)
    prefix = parts.path.strip("/")
    if (
        parts.scheme != "s3"
        or not _BUCKET.fullmatch(parts.netloc)
        or parts.query
        or parts.fragment
        or (prefix and not all(_valid_segment(part) for part in prefix.split("/")))
    ):
        shown = url if "@" not in url else "(a URL with credentials in it)"
        raise InvalidInput(
            f"media_url {shown!r} is not valid: use s3://bucket or s3://bucket/prefix "
            "(a bucket name of 3-63 lowercase letters, digits, '.' or '-'), or unset it "
            "to keep media in media_dir",
            details={"setting": "media_url"},
        )
    return parts.netloc, prefix


def _valid_segment(part: str) -> bool:
    try:
        check_key(part)
    except InvalidInput:
        return False
    return "/" not in part


def blob_store_for(settings: Settings) -> BlobStore:
    """The blob store the settings name (one instance per location, cached)."""
    if settings.media_url:
        return _s3_store(settings.media_url, settings.s3_endpoint_url)
    return _local_store(settings.resolved_media_dir().absolute())


@lru_cache(maxsize=16)
def _local_store(root: Path) -> LocalBlobStore:
    return LocalBlobStore(root)


@lru_cache(maxsize=16)
def _s3_store(url: str, endpoint_url: str | None) -> S3BlobStore:
    bucket, prefix = parse_s3_url(url)
    return S3BlobStore(bucket, prefix, endpoint_url=endpoint_url)
