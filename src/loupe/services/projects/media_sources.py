"""Where an import's media bytes come from (:class:`MediaReader`): :class:`LocalMedia` (the
CLI: paths relative to the import file's folder, absolute paths, ``s3://`` URIs) or
:class:`Uploads` (the API: the file parts of the request, by name; never a server path or
a URL); and which files a folder import takes (:func:`folder_images`).

A file that cannot be read, or holds more than ``max_media_bytes``, raises
:class:`~loupe.errors.InvalidInput` naming the row and the file (:func:`source_problem`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from loupe.errors import InvalidInput
from loupe.formats import MediaSource

if TYPE_CHECKING:
    from loupe.settings import Settings

__all__ = [
    "AUDIO_SUFFIXES",
    "IMAGE_SUFFIXES",
    "LocalMedia",
    "MediaReader",
    "Uploads",
    "folder_images",
    "source_problem",
    "too_big",
]

# File names a folder import takes as images (case-insensitive); anything else is skipped.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp"})
# ... and as audio (loupe.privacy.audio.AUDIO_SUFFIXES, kept here so that listing a folder
# needs no extra).
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3"})
# A name in an API row that is not a bare file name: a path, a URL, a drive letter.
_NOT_A_NAME = re.compile(r"[/\\]|^[A-Za-z][A-Za-z0-9+.-]*:|^\.\.?$")


class MediaReader(Protocol):
    """Where an import's media bytes come from."""

    def read(self, source: MediaSource, *, limit: int) -> bytes:
        """The file's bytes; :class:`InvalidInput` naming ``source`` when it cannot be read
        or holds more than ``limit`` bytes."""
        ...


def source_problem(source: MediaSource, problem: str) -> InvalidInput:
    where = f"{source.where}: " if source.where else ""
    return InvalidInput(
        f"{where}{source.field} {source.name!r}: {problem}",
        details={"field": source.field, "where": source.where, "file": source.name},
    )


def too_big(source: MediaSource, limit: int) -> InvalidInput:
    return source_problem(
        source, f"the file is larger than max_media_bytes ({limit} bytes); shrink it"
    )


@dataclass(frozen=True, slots=True)
class LocalMedia:
    """The CLI's reader: a path relative to ``base`` (the import file's folder), an
    absolute path, or an ``s3://bucket/key`` URI when the media store is on S3."""

    base: Path
    settings: Settings

    def read(self, source: MediaSource, *, limit: int) -> bytes:
        name = source.name
        if name.startswith("s3://"):
            return self._s3(source, limit)
        if "://" in name:
            raise source_problem(source, "only local paths and s3:// URIs can be imported")
        path = Path(name).expanduser()
        path = path if path.is_absolute() else self.base / path
        try:
            if not path.is_file():
                raise source_problem(source, f"no such file ({path})")
            if path.stat().st_size > limit:
                raise too_big(source, limit)
            return path.read_bytes()
        except OSError as exc:
            raise source_problem(source, f"cannot read {path} ({exc.strerror})") from None

    def _s3(self, source: MediaSource, limit: int) -> bytes:
        if not (self.settings.media_url or "").startswith("s3://"):
            raise source_problem(
                source,
                "s3:// URIs are read only when media are stored on S3 (set LOUPE_MEDIA_URL "
                "to s3://bucket/prefix)",
            )
        try:
            import boto3
        except ImportError:
            raise source_problem(
                source, "reading s3:// needs the s3 extra: pip install 'loupe[s3]'"
            ) from None
        bucket, _, key = source.name.removeprefix("s3://").partition("/")
        client = boto3.client("s3", endpoint_url=self.settings.s3_endpoint_url)
        try:
            head = client.head_object(Bucket=bucket, Key=key)
            if int(head["ContentLength"]) > limit:
                raise too_big(source, limit)
            body: bytes = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except InvalidInput:
            raise
        except Exception as exc:  # botocore's errors: missing object, no access, no network
            raise source_problem(source, f"cannot read it ({type(exc).__name__})") from None
        return body


class Uploads:
    """The API's reader: the request's file parts by file name. A row naming a path, a
    URL or a name not uploaded is refused: the server never reads its own files or
    fetches URLs for an API client."""

    def __init__(self, files: Mapping[str, IO[bytes]]) -> None:
        self.files = files

    def read(self, source: MediaSource, *, limit: int) -> bytes:
        if _NOT_A_NAME.search(source.name):
            raise source_problem(
                source,
                "name a file uploaded in this request (its file name), not a path or a URL",
            )
        part = self.files.get(source.name)
        if part is None:
            raise source_problem(source, "no file of that name was uploaded with this request")
        part.seek(0)
        data = part.read(limit + 1)
        if len(data) > limit:
            raise too_big(source, limit)
        return data


def folder_images(folder: Path) -> Iterator[Path]:
    """The media files under ``folder`` (recursively, sorted, hidden files and folders
    skipped): files whose name ends in .jpg, .jpeg, .png or .webp (images) or .wav,
    .flac, .ogg, .oga, .opus or .mp3 (audio)."""
    suffixes = IMAGE_SUFFIXES | AUDIO_SUFFIXES
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.suffix.lower() in suffixes and path.is_file():
            yield path
