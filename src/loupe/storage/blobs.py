"""The local blob store: one file per key under the media directory.

A key is a ``/``-separated path of plain segments (letters, digits, ``.``, ``_``, ``-``;
a segment never starts with a dot), so it can never leave the store's root, and the files
the store writes while it works (``.tmp-*``) can never be mistaken for a key. The
content-addressed keys (``media/<sha[:2]>/<sha>``, ``sealed/<h[:2]>/<h>``) give the
sharded layout: at most 256 folders per namespace, one file per distinct content.

Writes are atomic (a temporary file in the target folder, ``fsync``, ``rename``, ``fsync``
of the folder), so a reader sees either nothing or the whole blob, and a crash leaves at
most a ``.tmp-*`` file behind. Folders are created ``0700`` and files ``0600``: the
sealed originals live here, and only the server's own user should read any of it.

>>> import tempfile, pathlib
>>> store = LocalBlobStore(pathlib.Path(tempfile.mkdtemp()) / "media")
>>> store.put("media/ab/abc", b"hello")
>>> b"".join(store.read("media/ab/abc", 1, 3))
b'el'
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from loupe.errors import InvalidInput, NotFound

__all__ = ["CHUNK_SIZE", "LocalBlobStore", "check_key", "check_range"]

#: Size of the chunks :meth:`LocalBlobStore.read` (and the S3 store) yield.
CHUNK_SIZE = 64 * 1024

_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*", re.ASCII)
_MAX_KEY = 1024  # S3's limit on a key's length


def check_key(key: str) -> str:
    """``key`` itself, or :class:`InvalidInput` when it is not a plain relative path."""
    if (
        not isinstance(key, str)
        or not 0 < len(key) <= _MAX_KEY
        or not all(_SEGMENT.fullmatch(part) for part in key.split("/"))
    ):
        raise InvalidInput(
            f"blob key {key!r} is not valid: use '/'-separated segments of letters, digits, "
            "'.', '_' or '-' (no segment may start with '.')",
            details={"key": str(key)[:_MAX_KEY]},
        )
    return key


def check_range(start: int, end: int | None) -> None:
    """:class:`InvalidInput` unless ``0 <= start`` and ``start <= end`` (when given)."""
    if start < 0 or (end is not None and end < start):
        raise InvalidInput(
            f"byte range [{start}, {end}) is not valid: need 0 <= start <= end",
            details={"start": start, "end": end},
        )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore:
    """Blobs as files under ``root`` (``Settings.resolved_media_dir()``); see the module doc."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _make_dirs(self, folder: Path) -> None:
        """Create ``folder`` and its missing parents below the root (and the root) as 0700."""
        if not self.root.is_dir():
            self.root.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.mkdir(self.root, 0o700)
                _fsync_dir(self.root.parent)
        current = self.root
        for part in folder.relative_to(self.root).parts:
            parent, current = current, current / part
            if not current.is_dir():
                with contextlib.suppress(FileExistsError):  # another writer made it
                    os.mkdir(current, 0o700)
                    _fsync_dir(parent)

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``; a key that exists already is left as it is."""
        path = self._path(key)
        if path.is_file():  # content-addressed: the same key holds the same bytes
            return
        self._make_dirs(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_dir(path.parent)

    def size(self, key: str) -> int:
        """The blob's length in bytes, or :class:`NotFound`."""
        path = self._path(key)
        try:
            info = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            info = None
        if info is None or not stat.S_ISREG(info.st_mode):
            raise NotFound(f"blob {key!r} does not exist", details={"key": key})
        return info.st_size

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes ``[start, end)`` (clipped to the blob) in chunks of at most 64 KiB.

        :class:`NotFound` is raised at once for a missing key; a range past the end
        yields nothing.
        """
        check_range(start, end)
        path = self._path(key)
        self.size(key)
        return self._chunks(key, path, start, end)

    @staticmethod
    def _chunks(key: str, path: Path, start: int, end: int | None) -> Iterator[bytes]:
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below, generator-scoped
        except FileNotFoundError:  # deleted since read() checked
            raise NotFound(f"blob {key!r} does not exist", details={"key": key}) from None
        with handle:
            handle.seek(start)
            left = None if end is None else end - start
            while left is None or left > 0:
                chunk = handle.read(CHUNK_SIZE if left is None else min(CHUNK_SIZE, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    def read_all(self, key: str) -> bytes:
        """The whole blob (for small blobs and the services; serving uses :meth:`read`)."""
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFound(f"blob {key!r} does not exist", details={"key": key}) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> bool:
        """Remove the blob; True if it existed."""
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return False
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key starting with ``prefix`` (a plain string prefix), in no set order."""
        # Start the walk at the deepest folder the prefix names in full.
        folders = prefix.split("/")[:-1]
        if not all(_SEGMENT.fullmatch(part) for part in folders):
            return
        top = self.root.joinpath(*folders)
        for folder, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
            relative = Path(folder).relative_to(self.root).parts
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                key = "/".join((*relative, name))
                if key.startswith(prefix):
                    yield key
