"""Settings derived from others: where a SQLite database keeps its keys."""

from __future__ import annotations

from pathlib import Path

from loupe.settings import Settings


def key_dir(path: Path) -> Path:
    return Settings(database_url=f"sqlite:///{path}").resolved_key_dir()


def test_each_sqlite_database_gets_its_own_key_dir(tmp_path: Path) -> None:
    """Regression (#19): tour.db silently used the demo's ./loupe-keys."""
    assert key_dir(tmp_path / "tour.db") == tmp_path / "tour-keys"
    assert key_dir(tmp_path / "loupe-demo.db") == tmp_path / "loupe-demo-keys"
    assert key_dir(tmp_path / "loupe.db") == tmp_path / "loupe-keys"  # as before
    assert Settings(database_url="sqlite:///:memory:").resolved_key_dir() == Path("loupe-keys")
    explicit = tmp_path / "elsewhere"
    assert Settings(database_url="sqlite:///x.db", key_dir=explicit).resolved_key_dir() == explicit


def test_a_database_made_before_keeps_its_legacy_loupe_keys(tmp_path: Path) -> None:
    (tmp_path / "loupe-keys").mkdir()
    old = tmp_path / "tour.db"
    old.touch()  # existed, with its keys in ./loupe-keys, before <name>-keys
    assert key_dir(old) == tmp_path / "loupe-keys"
    # A new database never picks up another one's keys.
    assert key_dir(tmp_path / "new.db") == tmp_path / "new-keys"
    # Once a database has keys of its own, those win.
    (tmp_path / "tour-keys").mkdir()
    assert key_dir(old) == tmp_path / "tour-keys"
