"""The local blob store: layout on disk, permissions, atomic writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from loupe.storage import LocalBlobStore, sealed_key, served_key

SHA = "ab" * 32


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_layout_and_permissions(tmp_path: Path) -> None:
    root = tmp_path / "db-media"
    store = LocalBlobStore(root)
    store.put(served_key(SHA), b"served")
    store.put(sealed_key(SHA), b"sealed")
    assert (root / "media" / "ab" / SHA).read_bytes() == b"served"
    assert (root / "sealed" / "ab" / SHA).read_bytes() == b"sealed"
    for folder in (root, root / "media", root / "media" / "ab", root / "sealed" / "ab"):
        assert mode(folder) == 0o700, folder
    for blob in (root / "media" / "ab" / SHA, root / "sealed" / "ab" / SHA):
        assert mode(blob) == 0o600, blob


def test_permissions_do_not_depend_on_a_lax_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        LocalBlobStore(tmp_path / "m").put(served_key(SHA), b"x")
    finally:
        os.umask(old)
    assert mode(tmp_path / "m") == 0o700
    assert mode(tmp_path / "m" / "media" / "ab" / SHA) == 0o600


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalBlobStore(tmp_path / "m")

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.put(served_key(SHA), b"x" * 1000)
    monkeypatch.undo()
    assert not store.exists(served_key(SHA))
    assert [p.name for p in (tmp_path / "m" / "media" / "ab").iterdir()] == []


def test_put_does_not_rewrite_an_existing_blob(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "m")
    store.put(served_key(SHA), b"first")
    path = tmp_path / "m" / "media" / "ab" / SHA
    before = path.stat()
    store.put(served_key(SHA), b"first")
    after = path.stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_a_leftover_temporary_file_is_not_a_key(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "m")
    store.put(served_key(SHA), b"x")
    (tmp_path / "m" / "media" / "ab" / ".tmp-crashed").write_bytes(b"half")
    assert list(store.keys()) == [served_key(SHA)]


def test_a_missing_root_has_no_keys(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "never-written")
    assert list(store.keys()) == []
    assert not (tmp_path / "never-written").exists()
